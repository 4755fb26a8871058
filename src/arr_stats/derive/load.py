"""Loading the derived tables of a build: the one entry point for notebooks and reports.

Notebooks and the report read derived tables only through :func:`load_build`
(a build folder) or :func:`load_derived` (the folder a run configuration
names). Either way the tables come with the configuration recorded in the
folder's ``build.json``, so a folder is never paired with parameters that did
not make it: a folder without ``build.json`` is refused, and a configuration
whose outcome parameters differ from the recorded ones is refused too.
Parameters that do not shape the derived tables (disclosure, targets, report
folder) may come from the configuration given.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from arr_stats.config import ConfigError, RunConfig, config_from_dict, load_config
from arr_stats.errors import ArrStatsError
from arr_stats.io import read_parquet

#: The Parquet tables every build writes (docs/architecture.md); build.py writes these.
PARQUET_TABLES = (
    "episodes",
    "responses",
    "benefits",
    "employment",
    "persons",
    "institutions",
    "outcomes",
    "daily_states",
    "issues",
)
#: The small CSV tables every build writes.
CSV_TABLES = ("row_accounting", "linkage")


class _Unread:
    """A derived table not read yet: its file's bytes, decoded on first use (``lazy``)."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self) -> pd.DataFrame:
        return read_parquet(io.BytesIO(self.data))


@dataclass(frozen=True)
class Derived:
    """The derived tables of one build, and the configuration that made them.

    ``digest`` is the SHA-256 of the files the tables were read from, set by
    :func:`load_build`; a ``Derived`` made otherwise (or changed with
    :func:`dataclasses.replace`) has none, so nothing computed from the files
    is taken for it (:mod:`arr_stats.report.year_results`).
    """

    config: RunConfig
    directory: Path
    episodes: pd.DataFrame
    responses: pd.DataFrame
    benefits: pd.DataFrame
    employment: pd.DataFrame
    persons: pd.DataFrame
    institutions: pd.DataFrame
    outcomes: pd.DataFrame
    daily_states: pd.DataFrame
    issues: pd.DataFrame
    row_accounting: pd.DataFrame
    linkage: pd.DataFrame
    build: dict[str, Any]
    digest: str = field(default="", init=False, compare=False, repr=False)

    def __getattribute__(self, name: str) -> Any:
        value = object.__getattribute__(self, name)
        if type(value) is _Unread:  # a lazily loaded table: read it now, once
            value = value.read()
            object.__setattr__(self, name, value)
        return value

    def institution_names(self, year: int | None = None) -> dict[str, str]:
        """Institution id → name (:func:`institution_names` of the background forms)."""
        return institution_names(self.institutions, year)


def institution_names(institutions: pd.DataFrame, year: int | None = None) -> dict[str, str]:
    """Institution id → name: the name on its latest background form.

    With ``year``, the name on that year's form wins where there is one (an
    edition of a report year names the unit as it was that year).

    Examples
    --------
    >>> forms = pd.DataFrame({"institution_id": ["1", "1", "2"], "year": [2024, 2025, 2025],
    ...                       "name": ["Old name", "New name", "Other"]})
    >>> institution_names(forms), institution_names(forms, 2024)["1"]
    ({'1': 'New name', '2': 'Other'}, 'Old name')
    """
    forms = institutions.sort_values("year", kind="mergesort")
    if year is not None:  # that year's form last, so it is the one kept
        forms = pd.concat([forms[forms["year"] != year], forms[forms["year"] == year]])
    latest = forms.drop_duplicates("institution_id", keep="last")
    return dict(zip(latest["institution_id"].astype(str), latest["name"].astype(str), strict=True))


def recorded_config(directory: str | Path) -> RunConfig:
    """The configuration recorded in a build folder's ``build.json``.

    Raises
    ------
    ArrStatsError
        The folder has no ``build.json`` (no build wrote it), or its record
        cannot be read by this version of the package.
    """
    path = Path(directory) / "build.json"
    if not path.is_file():
        raise ArrStatsError(
            f"{path}: not found; {Path(directory)} is not a folder written by `arr-stats build` "
            "(its tables would have no configuration to read them with)"
        )
    try:
        record = json.loads(path.read_text(encoding="utf-8"))["config"]
        source = record.get("source")
        return config_from_dict(record, source=Path(source) if source else None)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        detail = str(exc) if isinstance(exc, ConfigError) else repr(exc)
        raise ArrStatsError(
            f"{path}: the recorded configuration cannot be read ({detail}); "
            "rebuild the folder with this version of arr-stats"
        ) from exc


def load_build(
    directory: str | Path, config: RunConfig | str | Path | None = None, lazy: bool = False
) -> Derived:
    """Read every derived table of a build folder, with the configuration that made it.

    Parameters
    ----------
    directory
        A folder written by ``arr-stats build`` (it holds ``build.json``).
    config
        Optionally a run configuration (or the path of its TOML file) whose
        disclosure, target and report parameters should apply. Its outcome
        parameters must equal the recorded ones.
    lazy
        Read each Parquet file's bytes now but decode a table only when it is
        first used (what a report edition does: most never touch
        ``daily_states``, the largest table). The tables are the same either
        way: the bytes read here are the ones decoded, whatever happens to the
        folder in between.

    Returns
    -------
    Derived

    Raises
    ------
    ArrStatsError
        No ``build.json``, a table missing, or a configuration whose outcome
        parameters differ from those the tables were built with.
    """
    directory = Path(directory).resolve()
    recorded = recorded_config(directory)
    if config is None:
        run = recorded
    else:
        run = load_config(config) if isinstance(config, str | Path) else config
        if run.outcomes != recorded.outcomes:
            differ = [
                f.name
                for f in dataclasses.fields(run.outcomes)
                if getattr(run.outcomes, f.name) != getattr(recorded.outcomes, f.name)
            ]
            raise ArrStatsError(
                f"{directory} was built with other outcome parameters than "
                f"{run.source or 'the configuration given'} ({', '.join(differ)} differ); "
                "rebuild, or read the folder without a configuration"
            )
    run = dataclasses.replace(run, derived_dir=directory)
    missing = [t for t in PARQUET_TABLES if not (directory / f"{t}.parquet").is_file()]
    missing += [t for t in CSV_TABLES if not (directory / f"{t}.csv").is_file()]
    if missing:
        raise ArrStatsError(
            f"{directory}: derived tables missing ({', '.join(missing)}); "
            f"run `arr-stats build` again"
        )
    digest = hashlib.sha256()
    files = {}
    for name in (*(f"{t}.parquet" for t in PARQUET_TABLES), *(f"{t}.csv" for t in CSV_TABLES)):
        files[name] = (directory / name).read_bytes()
        digest.update(f"{name}:{hashlib.sha256(files[name]).hexdigest()}\n".encode())
    build_bytes = (directory / "build.json").read_bytes()
    digest.update(f"build.json:{hashlib.sha256(build_bytes).hexdigest()}\n".encode())
    tables: dict[str, Any] = {t: _Unread(files[f"{t}.parquet"]) for t in PARQUET_TABLES}
    if not lazy:
        tables = {t: unread.read() for t, unread in tables.items()}
    csvs = {t: pd.read_csv(io.BytesIO(files[f"{t}.csv"])) for t in CSV_TABLES}
    build = json.loads(build_bytes.decode("utf-8"))
    derived = Derived(config=run, directory=directory, build=build, **tables, **csvs)
    object.__setattr__(derived, "digest", digest.hexdigest())
    return derived


def load_derived(
    config: RunConfig | str | Path, derived_dir: str | Path | None = None, lazy: bool = False
) -> Derived:
    """Read the build a run configuration names (its ``[paths] derived`` folder).

    Parameters
    ----------
    config
        A :class:`RunConfig`, or the path of a TOML run configuration.
    derived_dir
        Another build folder to read instead of the configuration's.
    lazy
        Decode each table on first use (:func:`load_build`).

    Returns
    -------
    Derived
        As :func:`load_build` (the configuration's disclosure, target and
        report parameters apply; its outcome parameters must be the build's).
    """
    run = load_config(config) if isinstance(config, str | Path) else config
    return load_build(derived_dir or run.derived_dir, run, lazy=lazy)
