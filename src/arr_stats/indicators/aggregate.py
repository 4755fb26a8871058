"""Indicators per institution and report year, beside the rest of the country and the nation."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from arr_stats.config import DisclosureParams, RunConfig
from arr_stats.domain import DEFAULT_CLUSTER, EVENT_RTW
from arr_stats.indicators.definitions import (
    INDICATOR_STATISTIC,
    INTERVAL_KIND,
    LOW_COVERAGE_LABEL,
    OUTCOME_INDICATORS,
    UNIT_INSTITUTION,
    UNIT_NATIONAL,
    UNIT_REST,
    _discharged,
    _episode_values,
    classify_target,
)
from arr_stats.publication.disclosure import hidden_statistic_mask
from arr_stats.stats.competing_risks import cumulative_incidence_at
from arr_stats.stats.intervals import (
    clustered_wilson_interval,
    grouped_wilson_interval,
    t_interval,
    wilson_interval,
)

#: Columns of the aggregated table.
AGGREGATE_COLUMNS = (
    "ind_id",
    "year",
    "orgnr",
    "unit",
    "numerator",
    "denominator",
    "value",
    "lower",
    "upper",
    "interval",
    "q1",
    "q3",
    "level",
    "coverage_flag",
    "suppressed",
)


def _persons(values: pd.DataFrame, cluster: str | None) -> np.ndarray | None:
    """The ``cluster`` of every row, or ``None`` (episodes independent) where the rows lack it."""
    if cluster is None or cluster not in values.columns or values[cluster].isna().all():
        return None
    return values[cluster].to_numpy(dtype=object)


def _summary(
    ind_id: str,
    values: pd.DataFrame,
    config: RunConfig,
    coverage: pd.DataFrame | None,
    cluster: str | None = DEFAULT_CLUSTER,
) -> dict[str, float]:
    """numerator, denominator, value, lower, upper (q1, q3 for a median) of one pooled group."""
    kind = INDICATOR_STATISTIC[ind_id]
    empty = {"numerator": math.nan, "denominator": 0.0, "value": math.nan}
    empty |= {"lower": math.nan, "upper": math.nan}
    if kind == "coverage":
        if coverage is None or coverage.empty:
            return empty
        registered = float(coverage["registered"].sum())
        patients = float(coverage["n_patients"].sum())
        if patients <= 0:
            return empty | {"numerator": registered}
        lower, upper = wilson_interval(registered, patients)
        return {
            "numerator": registered,
            "denominator": patients,
            "value": registered / patients,
            "lower": lower,
            "upper": upper,
        }
    if kind == "cumulative_incidence":
        if values.empty:
            return empty
        # grouped by person where the rows say who they are (docs/survival.md)
        columns = ["rtw_time", "rtw_event"]
        if _persons(values, cluster) is not None:
            columns.append(cluster)
        at = cumulative_incidence_at(
            values[columns],
            day=config.outcomes.followup_days,
            event=EVENT_RTW,
            cluster=cluster if cluster in columns else None,
        ).iloc[0]
        return {
            "numerator": float(at["events"]),
            "denominator": float(at["n"]),
            "value": float(at["estimate"]),
            "lower": float(at["lower"]),
            "upper": float(at["upper"]),
        }
    present = values[values["var"].notna()]
    var = present["var"].astype(float)
    if var.empty:
        return empty
    n = float(len(var))
    persons = _persons(present, cluster)  # None: episodes independent
    if kind == "proportion":
        lower, upper = grouped_wilson_interval(var.to_numpy(), persons)
        return {
            "numerator": float(var.sum()),
            "denominator": n,
            "value": float(var.mean()),
            "lower": lower,
            "upper": upper,
        }
    if kind == "item_share":
        lower, upper = clustered_wilson_interval(
            var.to_numpy(), int(present["items"].iloc[0]), cluster=persons
        )
        return {"numerator": math.nan, "denominator": n, "value": float(var.mean())} | {
            "lower": lower,
            "upper": upper,
        }
    if kind == "mean":
        lower, upper = t_interval(var.to_numpy(), cluster=persons)
        return {"numerator": math.nan, "denominator": n, "value": float(var.mean())} | {
            "lower": lower,
            "upper": upper,
        }
    return {
        "numerator": math.nan,
        "denominator": n,
        "value": float(var.median()),
        "q1": float(var.quantile(0.25)),
        "q3": float(var.quantile(0.75)),
    }


def _coverage_table(
    episodes: pd.DataFrame, institutions: pd.DataFrame, discharge_year: int
) -> pd.DataFrame:
    """Registered (consenting) episodes and the form's patient count per institution."""
    cohort = _discharged(episodes, discharge_year)
    registered = cohort.groupby(cohort["institution_id"].astype(str)).size().rename("registered")
    forms = institutions[institutions["year"] == discharge_year]
    forms = forms.assign(orgnr=forms["institution_id"].astype(str)).set_index("orgnr")
    table = pd.DataFrame({"n_patients": pd.to_numeric(forms["n_patients"], errors="coerce")})
    table = table.join(registered, how="outer")
    table["registered"] = table["registered"].fillna(0.0)
    # Coverage needs the form: an institution without one (or without a
    # patient count) is left out of numerator and denominator alike.
    table = table[table["n_patients"].notna()]
    table.index.name = "orgnr"
    return table.sort_index()


def coverage_by_institution(
    episodes: pd.DataFrame, institutions: pd.DataFrame, discharge_year: int
) -> pd.Series:
    """``arr_dg`` per institution for episodes discharged in ``discharge_year`` (unrounded)."""
    table = _coverage_table(episodes, institutions, discharge_year)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = table["registered"] / table["n_patients"].where(table["n_patients"] > 0)
    return value.rename("arr_dg")


def _low_coverage_units(
    episodes: pd.DataFrame,
    institutions: pd.DataFrame,
    discharge_year: int,
    config: RunConfig,
    disclosure: DisclosureParams | None,
) -> set[str]:
    """Institutions whose coverage of ``discharge_year`` is below the threshold.

    With disclosure on, only institutions whose coverage may itself be shown
    (form patient count ≥ ``min_denominator`` and registered episodes not
    1 … ``min_cell`` − 1) are flagged: a flag on a unit whose ``arr_dg`` is
    hidden would tell something about it.
    """
    table = _coverage_table(episodes, institutions, discharge_year)
    value = coverage_by_institution(episodes, institutions, discharge_year)
    low = value < config.low_coverage_threshold
    if disclosure is not None:
        low &= ~hidden_statistic_mask(
            table.rename(columns={"n_patients": "n"}), "n", disclosure, "registered"
        ).to_numpy()
    return set(value.index[low.to_numpy()])


def shown_units(sizes: pd.DataFrame, params: DisclosureParams) -> list[str]:
    """The units whose indicator value is shown, and pooled into rest and nation.

    One rule for every output that shows a unit's indicator, or pools the
    units into "resten av landet" and the nation (the indicator table, and
    report tables on the same cohort such as the paired change in work
    ability): a unit is hidden when
    :func:`~arr_stats.publication.disclosure.hidden_statistic_mask` hides its
    statistic.

    Parameters
    ----------
    sizes
        One row per unit (index: the unit) with ``n`` and, for proportions
        and cumulative incidences, ``numerator`` (NaN or absent for means
        and medians: only their n counts).
    params
        The disclosure parameters.

    Returns
    -------
    list of str
        The shown units, in the order of ``sizes``.

    Examples
    --------
    >>> sizes = pd.DataFrame({"n": [40, 9, 30], "numerator": [20, 5, 27]}, index=["A", "B", "C"])
    >>> shown_units(sizes, DisclosureParams())
    ['A']
    """
    numerator = "numerator" if "numerator" in sizes.columns else None
    hidden = hidden_statistic_mask(sizes, "n", params, numerator).to_numpy()
    return [str(u) for u, h in zip(sizes.index, hidden, strict=True) if not h]


def listed_units(episodes: pd.DataFrame, institutions: pd.DataFrame, year: int) -> list[str]:
    """The units listed for every indicator of report year ``year``.

    Every institution with episodes discharged in ``year`` or ``year − 1``,
    or a form for ``year`` (an indicator's row is empty where the unit has
    no cohort).
    """
    known = episodes.loc[
        episodes["discharge_date"].dt.year.isin([year, year - 1]), "institution_id"
    ]
    known = set(known.astype(str))
    known |= set(institutions.loc[institutions["year"] == year, "institution_id"].astype(str))
    return sorted(known)


def _hidden_of(hidden: pd.DataFrame, ind_id: str, year: int) -> set[str]:
    rows = hidden[(hidden["ind_id"] == ind_id) & (hidden["year"] == year)]
    return set(rows["unit"].astype(str))


def _indicator_rows(
    ind_id: str,
    year: int,
    values: pd.DataFrame,
    coverage: pd.DataFrame,
    units: list[str],
    config: RunConfig,
    disclosure: DisclosureParams | None,
    cluster: str | None = DEFAULT_CLUSTER,
    hidden: set[str] | None = None,
) -> list[dict[str, object]]:
    def pooled(selected: Iterable[str]) -> dict[str, float]:
        selected = set(selected)
        return _summary(
            ind_id,
            values[values["orgnr"].isin(selected)],
            config,
            coverage[coverage.index.isin(selected)],
            cluster,
        )

    own = {unit: pooled([unit]) for unit in units}
    if disclosure is not None and hidden is not None:
        suppressed = set(units) & hidden
    elif disclosure is not None:
        sizes = pd.DataFrame(
            {
                "n": [own[u]["denominator"] for u in units],
                "numerator": [own[u]["numerator"] for u in units],
            },
            index=units,
        )
        suppressed = set(units) - set(shown_units(sizes, disclosure))
    else:
        suppressed = set()
    # National and rest-of-country values pool only units that are shown: a
    # suppressed unit never enters a published number (docs/indicators.md).
    shown = [u for u in units if u not in suppressed]
    rows: list[dict[str, object]] = []
    for unit in units:
        base = {"ind_id": ind_id, "year": year, "orgnr": unit}
        if unit in suppressed:
            rows.append(base | {"unit": UNIT_INSTITUTION, "suppressed": True})
        else:
            rows.append(base | {"unit": UNIT_INSTITUTION, "suppressed": False} | own[unit])
        rest_units = [u for u in shown if u != unit]
        rest = pooled(rest_units) if rest_units else {}
        rows.append(base | {"unit": UNIT_REST, "suppressed": not rest_units} | rest)
    national = pooled(shown) if shown else {}
    rows.append(
        {"ind_id": ind_id, "year": year, "orgnr": None, "unit": UNIT_NATIONAL}
        | {"suppressed": not shown}
        | national
    )
    return rows


def aggregate_indicators(
    episodes: pd.DataFrame,
    responses: pd.DataFrame,
    outcomes: pd.DataFrame,
    institutions: pd.DataFrame,
    config: RunConfig,
    years: Iterable[int],
    disclose: bool = True,
    cluster: str | None = DEFAULT_CLUSTER,
    hidden: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Indicators per institution and report year, beside the rest of the country and the nation.

    Parameters
    ----------
    episodes, responses, outcomes, institutions
        Derived tables (docs/architecture.md); not modified.
    config
        Run configuration: outcome parameters, targets, disclosure,
        ``low_coverage_threshold``.
    years
        Report years.
    disclose
        When True (the default; what ``indicators.csv`` is written from) the
        disclosure rules are applied: a unit whose denominator is below
        ``min_denominator``, or whose numerator (proportions, cumulative
        incidence) is a count of 1 … ``min_cell`` − 1, is listed with empty
        values, and national and
        rest-of-country values pool only the units that are shown. False gives
        the exact values for use inside TSD only.
    cluster
        The column the intervals are grouped by (default ``"person_id"``:
        a person's episodes are one cluster), taken from the derived tables;
        ``None``, or tables without the column, treat episodes as
        independent. It applies to every interval of an episode indicator:
        the Wilson intervals of proportions at the effective sample size
        (``grouped_wilson_interval``), ``arr_compl``'s
        (``clustered_wilson_interval``), the t interval of ``arr_wa_change``
        (cluster-robust standard error, t on persons − 1 degrees of freedom)
        and the cumulative incidence's. ``arr_dg`` counts patients on the
        institution's form and has no persons to group.
    hidden
        The rows to hide, as the year's protected publication decided them
        (``ind_id, year, unit``:
        :meth:`arr_stats.publication.linked.YearPublication.hidden_indicators`):
        the rows the indicator rule hides and those hidden so that no count
        can be read off by combining indicators and tables. ``None`` applies
        the indicator rule alone (:func:`shown_units`), row by row. Only
        with ``disclose``.

    Returns
    -------
    DataFrame
        :data:`AGGREGATE_COLUMNS`. Per indicator and year: one ``institution``
        row and one ``rest`` row (all other institutions pooled) per
        institution (``orgnr``), and one ``national`` row (``orgnr`` empty).
        ``lower``, ``upper`` hold a 95 % confidence interval of the kind named
        in ``interval`` (:data:`INTERVAL_KIND`); a median (``arr_hrbdays``)
        has no interval there and its quartiles in ``q1``, ``q3`` instead.
    """
    disclosure = config.disclosure if disclose else None
    rows: list[dict[str, object]] = []
    for year in sorted(years):
        values = _episode_values(episodes, responses, outcomes, config, year)
        coverage = _coverage_table(episodes, institutions, year)
        units = listed_units(episodes, institutions, year)
        for ind_id in INDICATOR_STATISTIC:
            cohort_year = year - 1 if ind_id in OUTCOME_INDICATORS else year
            ind_values = values[values["ind_id"] == ind_id]
            ind_rows = _indicator_rows(
                ind_id,
                year,
                ind_values,
                coverage,
                units,
                config,
                disclosure,
                cluster,
                None if hidden is None else _hidden_of(hidden, ind_id, year),
            )
            flagged = _low_coverage_units(episodes, institutions, cohort_year, config, disclosure)
            for row in ind_rows:
                row["interval"] = INTERVAL_KIND[INDICATOR_STATISTIC[ind_id]]
                row["level"] = classify_target(row.get("value"), config.targets[ind_id])
                low = row["unit"] == UNIT_INSTITUTION and row["orgnr"] in flagged
                row["coverage_flag"] = LOW_COVERAGE_LABEL if low else None
            rows.extend(ind_rows)
    out = pd.DataFrame(rows).reindex(columns=list(AGGREGATE_COLUMNS))
    for column in ("numerator", "denominator", "value", "lower", "upper", "q1", "q3"):
        out[column] = out[column].astype(float)
    out["suppressed"] = out["suppressed"].astype(bool)
    return out
