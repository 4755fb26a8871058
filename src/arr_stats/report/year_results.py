"""The results every edition of a report year shares: computed once, read by each edition.

Every edition of a year draws on some results that do not depend on the
edition: the disclosed aggregated indicators of the trend years, the national
case-mix models, the daily states counted per unit. Each edition's kernel used
to compute them again from the derived tables. Now ``arr-stats report``
computes them once (:func:`write_year_results`) into ``report_cache/<year>/``
in the build folder, beside ``publication/<year>/``, and each edition reads
them back (:func:`shared`).

Every number is still computed in one place: the folder holds the results of
the functions below, pickled, and is read only when its fingerprint
(:func:`fingerprint`) names the same derived files, year, configuration and
package code as the edition's. Otherwise – a notebook, a hand render, a build
changed since, a ``Derived`` changed in memory – the edition computes the same
functions itself. Either way a result is computed at most once per edition
(memoised on the :class:`~arr_stats.report.context.ReportContext`).

The folder stays inside TSD with the derived tables: it holds unprotected
counts (daily states per unit) and is never an output.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from arr_stats import domain, indicators, stats
from arr_stats.config import RunConfig, config_to_dict
from arr_stats.derive.load import Derived
from arr_stats.report.context import TREND_YEARS, ReportContext

#: The folder of the shared results in a build: ``report_cache/<year>/``.
RESULTS_FOLDER = "report_cache"

#: The pickled results and the record naming what they were made from.
RESULTS_FILE = "results.pickle"
RECORD_FILE = "record.json"

#: Indicators whose national case-mix model the document shows.
CASEMIX_INDICATORS: tuple[str, ...] = ("arr_rtw12", "arr_srtw")

INDICATORS = "indicators"
STATE_COUNTS = "state_counts"
REGISTER_COUNTS = "register_counts"


def casemix_name(ind_id: str) -> str:
    """The name of the case-mix model of ``ind_id`` among the shared results."""
    return f"casemix:{ind_id}"


def casemix_limits_name(ind_id: str) -> str:
    """The name of the lines of ``ind_id``'s case-mix funnel among the shared results."""
    return f"casemix_limits:{ind_id}"


# ------------------------------------------------------------------ the results


def aggregated_indicators(ctx: ReportContext) -> pd.DataFrame:
    """The disclosed aggregated indicators of the trend years (:func:`arr_stats.indicators.aggregate_indicators`).

    The rows hidden are those the year's protected publication hides
    (:func:`arr_stats.report.tables.year_publication`).
    """
    from arr_stats.report.tables import year_publication

    d = ctx.derived
    return indicators.aggregate_indicators(
        d.episodes,
        d.responses,
        d.outcomes,
        d.institutions,
        d.config,
        ctx.trend_years,
        hidden=year_publication(ctx).hidden_indicators(),
    )


def casemix_model(ctx: ReportContext, ind_id: str) -> indicators.CaseMixResult:
    """The national case-mix model of ``ind_id``, fitted on the reportable outcome cohort.

    Without the units whose ``ind_id`` row of the report year the
    publication hides (:func:`arr_stats.report.tables.hidden_indicator_units`).
    """
    from arr_stats.report.tables import hidden_indicator_units

    return indicators.casemix(
        ctx.outcome_cohort(),
        ctx.config,
        ctx.year,
        ind_id=ind_id,
        hidden=hidden_indicator_units(ctx, ind_id),
    )


def casemix_limits(ctx: ReportContext, ind_id: str) -> pd.DataFrame:
    """The exact O/E limits of ``ind_id``'s case-mix funnel (:func:`arr_stats.report.figures.casemix_funnel_limits`)."""
    from arr_stats.report.figures import casemix_funnel_limits

    return casemix_funnel_limits(shared_casemix(ctx, ind_id))


def unit_state_counts(ctx: ReportContext) -> pd.DataFrame:
    """The outcome cohort's daily states counted per unit (:func:`arr_stats.stats.state_counts`).

    Groups are the institution ids as text, over the follow-up days; an
    edition adds up the units of each of its groups
    (:func:`arr_stats.stats.pool_state_counts`), which gives the counts of
    those units' episodes together.
    """
    cohort = ctx.outcome_cohort()
    cohort = cohort.assign(unit=cohort["institution_id"].astype(str))
    states = ctx.derived.daily_states
    states = states[states["episode_id"].isin(cohort["episode_id"])]
    return stats.state_counts(states, cohort, by="unit", last_day=ctx.config.outcomes.followup_days)


def register_state_counts(
    daily_states: pd.DataFrame, episodes: pd.DataFrame, days: list[int], state: str
) -> pd.DataFrame:
    """Per unit and day: the episodes with a register state that day, and those in ``state``.

    Parameters
    ----------
    daily_states
        ``episode_id, day, state`` (state missing on a censored day).
    episodes
        ``episode_id, institution_id``: whose states are counted. Not modified.
    days
        The days counted.
    state
        The state counted in ``in_state``.

    Returns
    -------
    DataFrame
        ``unit, day, observed, in_state`` (``unit`` the institution id as
        text), one row per unit of ``episodes`` and day, zeros included.

    Examples
    --------
    >>> ds = pd.DataFrame({"episode_id": ["a", "b", "c", "a"], "day": [0, 0, 0, 5],
    ...                    "state": ["working", None, "aap", "working"]})
    >>> eps = pd.DataFrame({"episode_id": ["a", "b", "c"], "institution_id": [1, 1, 2]})
    >>> register_state_counts(ds, eps, [0, 5], "working").to_numpy().tolist()
    [['1', 0, 1, 1], ['1', 5, 1, 1], ['2', 0, 1, 0], ['2', 5, 0, 0]]
    """
    unit = episodes.set_index("episode_id")["institution_id"].astype(str)
    rows = daily_states[
        daily_states["episode_id"].isin(episodes["episode_id"]) & daily_states["day"].isin(days)
    ]
    frame = pd.DataFrame(
        {
            "unit": rows["episode_id"].map(unit).to_numpy(),
            "day": rows["day"].astype(int).to_numpy(),
            "observed": rows["state"].notna().to_numpy(),
            "in_state": (rows["state"].astype(object) == state).to_numpy(),
        }
    )
    grid = pd.MultiIndex.from_product([sorted(set(unit)), sorted(days)], names=["unit", "day"])
    counts = frame.groupby(["unit", "day"])[["observed", "in_state"]].sum()
    return counts.reindex(grid, fill_value=0).astype(int).reset_index()


def register_counts(ctx: ReportContext) -> pd.DataFrame:
    """:func:`register_state_counts` of the episodes discharged in ``Y − 1``: working at T1–T3.

    Every unit's episodes (the table of self-reported and register work status
    adds up the units of its cohort); the days are those of the follow-up
    points (:data:`arr_stats.domain.RESPONSE_POINT_MONTHS`).
    """
    episodes = ctx.derived.episodes
    earlier = episodes[episodes["discharge_year"] == ctx.year - 1]
    month_days = ctx.config.outcomes.month_days
    days = sorted({month_days.get(m, 0) for m in domain.RESPONSE_POINT_MONTHS.values()})
    return register_state_counts(ctx.derived.daily_states, earlier, days, "working")


def shared_casemix(ctx: ReportContext, ind_id: str) -> indicators.CaseMixResult:
    """The national case-mix model of ``ind_id`` (:func:`casemix_model`), computed once a year."""
    return shared(ctx, casemix_name(ind_id), functools.partial(casemix_model, ind_id=ind_id))


def shared_results(ctx: ReportContext) -> dict[str, Callable[[ReportContext], Any]]:
    """Every result the editions of ``ctx``'s year share, by name, with the function computing it.

    The outcome results only where the outcome cohort can be reported
    (:meth:`~arr_stats.report.context.ReportContext.has_outcome_cohort`):
    the sections that read them show a note otherwise.
    """
    results: dict[str, Callable[[ReportContext], Any]] = {INDICATORS: aggregated_indicators}
    if ctx.has_outcome_cohort():
        for ind_id in CASEMIX_INDICATORS:
            results[casemix_name(ind_id)] = functools.partial(casemix_model, ind_id=ind_id)
            results[casemix_limits_name(ind_id)] = functools.partial(casemix_limits, ind_id=ind_id)
        results[STATE_COUNTS] = unit_state_counts
        results[REGISTER_COUNTS] = register_counts
    return results


# ------------------------------------------------------------------ where they are kept


#: Marks a result that is not in the year's folder.
MISSING: Any = object()


def results_folder(derived_dir: Path, year: int) -> Path:
    """Where the shared results of ``year`` are kept: ``report_cache/<year>/`` in the build."""
    return Path(derived_dir) / RESULTS_FOLDER / str(year)


@functools.cache
def code_digest() -> str:
    """SHA-256 of the package's code and data dictionary: what computes the results."""
    from arr_stats.dictionary import dictionary_dir

    digest = hashlib.sha256()
    package = Path(__file__).resolve().parents[1]
    for root in (package, dictionary_dir()):
        for path in sorted(p for p in Path(root).rglob("*") if p.suffix in (".py", ".yaml")):
            digest.update(f"{path.relative_to(root)}\n".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def fingerprint(ctx: ReportContext) -> str:
    """What the year's shared results are made from.

    The derived files (:attr:`arr_stats.derive.load.Derived.digest`), the
    year, every setting of the configuration but its paths, and the code.
    Empty for a ``Derived`` not read from its folder as it is.
    """
    if not ctx.derived.digest:
        return ""
    settings = config_to_dict(ctx.config)
    for key in ("paths", "source"):
        settings.pop(key, None)
    settings["report"] = {
        k: v for k, v in settings.get("report", {}).items() if k not in ("out", "text")
    }
    record = [ctx.derived.digest, ctx.year, TREND_YEARS, _numbers_as_floats(settings)]
    text = json.dumps([*record, code_digest()], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _numbers_as_floats(value: Any) -> Any:
    """Every number a float: a setting read back from JSON may be 120.0 where the TOML said 120."""
    if isinstance(value, dict):
        return {k: _numbers_as_floats(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_numbers_as_floats(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


#: The last results read in this process (a kernel renders edition after edition of one year).
_READ: dict[tuple[Path, str], dict[str, Any]] = {}


def _saved(ctx: ReportContext) -> dict[str, Any]:
    """The results in the year's folder when they were made from what ``ctx`` reads, else none."""
    key = fingerprint(ctx)
    if not key:
        return {}
    folder = results_folder(ctx.derived.directory, ctx.year)
    if (folder, key) in _READ:
        return _READ[(folder, key)]
    record = folder / RECORD_FILE
    if not record.is_file():
        return {}
    if json.loads(record.read_text(encoding="utf-8")).get("fingerprint") != key:
        return {}
    with (folder / RESULTS_FILE).open("rb") as fh:
        results = pickle.load(fh)  # written by write_year_results into the build, inside TSD
    _READ.clear()
    _READ[(folder, key)] = results
    return results


def shared(ctx: ReportContext, name: str, compute: Callable[[ReportContext], Any]) -> Any:
    """The shared result ``name``: read from the year's folder, else ``compute(ctx)``; once per edition.

    ``compute`` is the function that made the saved result (:func:`shared_results`);
    it must not depend on the edition (its unit or language).
    """
    if name not in ctx.shared:
        found = _saved(ctx).get(name, MISSING)
        ctx.shared[name] = compute(ctx) if found is MISSING else found
    return ctx.shared[name]


def write_year_results(
    config: RunConfig, derived_dir: Path, year: int, build: Derived | None = None
) -> list[Path]:
    """Compute the shared results of ``year`` once and keep them in the build.

    ``arr-stats report`` calls this before the editions, which then read them
    (:func:`shared`) instead of computing them each.

    Parameters
    ----------
    config
        The run configuration of the report.
    derived_dir
        The build folder.
    year
        The report year.
    build
        The build already loaded with ``config`` (else it is loaded here).

    Returns
    -------
    list of Path
        The results file and its record. Kept as they are when they were
        made from the same derived files, year, settings and code.
    """
    from arr_stats.derive.load import load_build

    derived = build if build is not None else load_build(derived_dir, config, lazy=True)
    ctx = ReportContext(derived, int(year), None, None, "")
    folder = results_folder(derived.directory, year)
    target, record = folder / RESULTS_FILE, folder / RECORD_FILE
    wanted = shared_results(ctx)
    if set(wanted) <= set(_saved(ctx)):
        return [target, record]
    # through shared(): a result that reads another (the funnel limits read the model) reuses it
    results = {name: shared(ctx, name, compute) for name, compute in wanted.items()}
    folder.mkdir(parents=True, exist_ok=True)
    record.unlink(missing_ok=True)  # no record names results half written
    partial = folder / f"{RESULTS_FILE}.partial"
    with partial.open("wb") as fh:
        pickle.dump(results, fh, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(partial, target)
    record.write_text(
        json.dumps(
            {"year": int(year), "fingerprint": fingerprint(ctx), "results": sorted(results)},
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    return [target, record]


def write_for_editions(year: int, derived_dir: str, config_json: str) -> None:
    """:func:`write_year_results` with the configuration the editions are given as JSON.

    What a report kernel of the Jupyter fallback runs while the parent
    computes the publication (:func:`kernel_code`).
    """
    from arr_stats.report.context import config_of_json

    config = config_of_json(config_json)
    if config is None:
        from arr_stats.derive.load import recorded_config

        config = recorded_config(derived_dir)
    write_year_results(config, Path(derived_dir), year)


def kernel_code(year: int, derived_dir: str, config_json: str) -> str:
    """The code that computes the shared results in a kernel (:func:`write_for_editions`)."""
    return (
        "from arr_stats.report.year_results import write_for_editions as _write\n"
        f"_write({int(year)!r}, {str(derived_dir)!r}, {config_json!r})\n"
        "del _write"
    )
