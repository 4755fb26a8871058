"""The quality indicators of ``docs/spec/indicators-and-report.md``.

From the derived tables (``episodes``, ``responses``, ``outcomes``,
``institutions``) this module makes

- per-episode rows in the upload shape of the national results portal
  (:func:`episode_indicators`: ``ind_id, orgnr, year, var, denominator,
  context``);
- aggregated values per institution and report year with interval, target
  level, coverage flag, the pooled value of all other institutions ("resten av
  landet") and the national value (:func:`aggregate_indicators`), already
  passed through :mod:`arr_stats.disclosure` unless asked otherwise;
- the case-mix adjusted observed/expected ratios (:func:`casemix`) and funnel
  limits (:func:`funnel_limits`).

Every definition is written up in ``docs/indicators.md``. ``year`` is always
the report year Y: process measures use episodes discharged in Y, 12-month
outcomes episodes discharged in Y − 1.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from arr_stats.config import DisclosureParams, IndicatorTarget, RunConfig
from arr_stats.dictionary import load_dictionary
from arr_stats.disclosure import hidden_statistic_mask, small_group_mask
from arr_stats.survival import EVENT_RTW, age_group, cumulative_incidence_at

#: Indicator ids (stable) and the statistic each is summarised with.
INDICATOR_STATISTIC: dict[str, str] = {
    "arr_rtw12": "proportion",
    "arr_srtw": "cumulative_incidence",
    "arr_hrbdays": "median",
    "arr_wa_change": "mean",
    "arr_resp_t1": "proportion",
    "arr_resp_t2": "proportion",
    "arr_resp_t3": "proportion",
    "arr_dg": "coverage",
    "arr_compl": "mean",
}

#: Indicator names (nb), as in the specification.
INDICATOR_NAMES: dict[str, str] = {
    "arr_rtw12": "I arbeid 12 måneder etter",
    "arr_srtw": "Bærekraftig tilbakeføring innen 12 mnd",
    "arr_hrbdays": "Dager med helserelaterte ytelser",
    "arr_wa_change": "Endring i arbeidsevne",
    "arr_resp_t1": "Svarprosent T1",
    "arr_resp_t2": "Svarprosent T2",
    "arr_resp_t3": "Svarprosent T3",
    "arr_dg": "Dekningsgrad",
    "arr_compl": "Variabelkompletthet",
}

#: Indicators on 12-month outcomes: cohort = episodes discharged in Y − 1.
OUTCOME_INDICATORS = ("arr_rtw12", "arr_srtw", "arr_hrbdays", "arr_wa_change")

#: Follow-up points and their due time in months after discharge (data-model.md:
#: T1 right after, T2 6 months after, T3 12 months after rehabilitation).
RESPONSE_POINT_MONTHS: dict[str, int] = {"T1": 0, "T2": 6, "T3": 12}

#: Target levels (høy / moderat / lav måloppnåelse).
LEVEL_HIGH, LEVEL_MODERATE, LEVEL_LOW = "høy", "moderat", "lav"

#: The flag of a unit whose coverage is below ``RunConfig.low_coverage_threshold``.
LOW_COVERAGE_LABEL = "Lav dekningsgrad"

#: ``context`` of every upload row.
UPLOAD_CONTEXT = "caregiver"

#: Columns of the upload shape.
UPLOAD_COLUMNS = ("ind_id", "orgnr", "year", "var", "denominator", "context")

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
    "level",
    "coverage_flag",
    "suppressed",
)

#: ``unit`` values of the aggregated table.
UNIT_INSTITUTION, UNIT_REST, UNIT_NATIONAL = "institution", "rest", "national"

#: How each statistic's interval is made.
INTERVAL_KIND = {
    "proportion": "wilson95",
    "coverage": "wilson95",
    "mean": "t95",
    "median": "iqr",
    "cumulative_incidence": "aalen_johansen95",
}


# --- small statistics ----------------------------------------------------------------------


def wilson_interval(successes: float, n: float, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion.

    ``(p̂ + z²/2n ± z·sqrt(p̂(1 − p̂)/n + z²/4n²)) / (1 + z²/n)``.

    Examples
    --------
    >>> lo, hi = wilson_interval(8, 10)
    >>> round(lo, 4), round(hi, 4)
    (0.4902, 0.9433)
    """
    if n <= 0 or successes < 0 or successes > n:
        return (math.nan, math.nan)
    z = float(stats.norm.ppf(0.5 + level / 2))
    p = successes / n
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    scale = 1 + z * z / n
    return ((centre - half) / scale, (centre + half) / scale)


def t_interval(values: Sequence[float] | np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Mean ± t(n − 1)·sd/√n; missing values are ignored; NaN when n < 2.

    Examples
    --------
    >>> [round(v, 4) for v in t_interval([1, 2, 3])]
    [-0.4841, 4.4841]
    """
    x = np.asarray(pd.to_numeric(pd.Series(values), errors="coerce").dropna(), dtype=float)
    if len(x) < 2:
        return (math.nan, math.nan)
    half = float(stats.t.ppf(0.5 + level / 2, len(x) - 1)) * x.std(ddof=1) / math.sqrt(len(x))
    return (float(x.mean() - half), float(x.mean() + half))


def classify_target(value: float, target: IndicatorTarget) -> str | None:
    """Target level of an (unrounded) value: høy, moderat or lav; None when missing.

    Higher is better: ≥ green is high, < yellow is low, else moderate. Lower is
    better: ≤ green is high, > yellow is low, else moderate.

    Examples
    --------
    >>> t = IndicatorTarget(0.6, 0.4, "higher")
    >>> classify_target(0.6, t), classify_target(0.4, t), classify_target(0.3999, t)
    ('høy', 'moderat', 'lav')
    """
    if value is None or pd.isna(value):
        return None
    if target.direction == "higher":
        if value >= target.level_green:
            return LEVEL_HIGH
        return LEVEL_LOW if value < target.level_yellow else LEVEL_MODERATE
    if target.direction == "lower":
        if value <= target.level_green:
            return LEVEL_HIGH
        return LEVEL_LOW if value > target.level_yellow else LEVEL_MODERATE
    raise ValueError(f"direction must be 'higher' or 'lower', not {target.direction!r}")


def funnel_limits(
    national_value: float,
    denominators: Iterable[float],
    levels: Sequence[float] = (0.95, 0.998),
) -> pd.DataFrame:
    """Funnel-plot control limits of a proportion around the national value.

    Normal approximation to the binomial: ``p ± z·sqrt(p(1 − p)/n)``, clipped
    to [0, 1], with z the two-sided quantile of each level.

    Returns
    -------
    DataFrame
        ``denominator, level, lower, upper``, one row per denominator and level.

    Examples
    --------
    >>> f = funnel_limits(0.5, [100], levels=(0.95,))
    >>> round(float(f["lower"][0]), 4), round(float(f["upper"][0]), 4)
    (0.402, 0.598)
    """
    rows = []
    p = float(national_value)
    for n in denominators:
        for level in levels:
            z = float(stats.norm.ppf(0.5 + level / 2))
            half = z * math.sqrt(p * (1 - p) / n) if n > 0 else math.nan
            rows.append(
                {
                    "denominator": n,
                    "level": level,
                    "lower": max(0.0, p - half),
                    "upper": min(1.0, p + half),
                }
            )
    return pd.DataFrame(rows, columns=["denominator", "level", "lower", "upper"])


def oe_funnel_limits(
    expected: Iterable[float], levels: Sequence[float] = (0.95, 0.998)
) -> pd.DataFrame:
    """Funnel-plot control limits of an observed / expected ratio around 1.

    With E treated as fixed and O as Poisson with mean E under "no
    difference", the ratio O / E has variance 1 / E; the limits are the
    normal approximation ``1 ± z / sqrt(E)`` (Spiegelhalter 2005, funnel
    plots for indirectly standardised ratios), the lower clipped at 0.

    Returns
    -------
    DataFrame
        ``expected, level, lower, upper``, one row per expected count and level.

    Examples
    --------
    >>> f = oe_funnel_limits([100], levels=(0.95,))
    >>> round(float(f["lower"][0]), 4), round(float(f["upper"][0]), 4)
    (0.804, 1.196)
    """
    rows = []
    for e in expected:
        for level in levels:
            z = float(stats.norm.ppf(0.5 + level / 2))
            half = z / math.sqrt(e) if e > 0 else math.nan
            rows.append(
                {"expected": e, "level": level, "lower": max(0.0, 1 - half), "upper": 1 + half}
            )
    return pd.DataFrame(rows, columns=["expected", "level", "lower", "upper"])


# --- cohorts and per-episode values ------------------------------------------------------------


def _discharged(table: pd.DataFrame, year: int) -> pd.DataFrame:
    return table[table["discharge_date"].dt.year == year]


def t0_items(episodes: pd.DataFrame) -> list[str]:
    """The T0 items counted by ``arr_compl``: the optional, non-date variables of skjema_t0.

    Read from the data dictionary (``required: false``, type not ``date``) and
    kept when present in ``episodes``.
    """
    table = load_dictionary().table("skjema_t0")
    return [
        v.name
        for v in table.variables
        if not v.required and v.type != "date" and v.name in episodes.columns
    ]


def _srtw_var(cohort: pd.DataFrame, followup_days: int) -> pd.Series:
    """1 = sustainable RTW by day F; 0 = a competing event first, or no event with
    follow-up to day F; NaN = censored before day F (outcome unknown)."""
    reached = (cohort["rtw_event"] == EVENT_RTW) & (cohort["rtw_time"] <= followup_days)
    other_event = (cohort["rtw_event"] != 0) & ~reached
    complete = (cohort["rtw_event"] == 0) & (cohort["rtw_time"] >= followup_days)
    var = pd.Series(np.nan, index=cohort.index)
    var[reached] = 1.0
    var[other_event | complete] = 0.0
    return var


def _rows(ind_id: str, year: int, frame: pd.DataFrame, var: pd.Series) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ind_id": ind_id,
            "orgnr": frame["institution_id"].astype(str).to_numpy(),
            "year": year,
            "episode_id": frame["episode_id"].astype(str).to_numpy(),
            "var": pd.to_numeric(var, errors="coerce").astype(float).to_numpy(),
        }
    )


def _episode_values(
    episodes: pd.DataFrame,
    responses: pd.DataFrame,
    outcomes: pd.DataFrame,
    config: RunConfig,
    year: int,
) -> pd.DataFrame:
    """Every cohort member of every per-episode indicator of report year ``year``.

    ``var`` is NaN for a cohort member without a value (only ``arr_srtw``:
    censored before day F); ``rtw_time``/``rtw_event`` ride along for ``arr_srtw``.
    """
    params = config.outcomes
    pieces = []

    cohort = _discharged(outcomes, year - 1)
    observed = cohort[cohort["rtw_12m"].notna()]
    pieces.append(_rows("arr_rtw12", year, observed, observed["rtw_12m"].astype(float)))

    srtw = _rows("arr_srtw", year, cohort, _srtw_var(cohort, params.followup_days))
    srtw["rtw_time"] = cohort["rtw_time"].to_numpy()
    srtw["rtw_event"] = cohort["rtw_event"].to_numpy()
    pieces.append(srtw)

    hrb = cohort[cohort["hrb_days_12m"].notna()]
    pieces.append(_rows("arr_hrbdays", year, hrb, hrb["hrb_days_12m"]))

    earlier = _discharged(episodes, year - 1)
    t3 = responses[responses["point"].astype(str) == "T3"][["episode_id", "work_ability"]]
    paired = earlier.merge(t3, on="episode_id", how="inner", suffixes=("_t0", "_t3"))
    paired = paired[paired["work_ability_t0"].notna() & paired["work_ability_t3"].notna()]
    change = paired["work_ability_t3"].astype(float) - paired["work_ability_t0"].astype(float)
    pieces.append(_rows("arr_wa_change", year, paired, change))

    current = _discharged(episodes, year)
    data_end = pd.Timestamp(params.data_end)
    for point, months in RESPONSE_POINT_MONTHS.items():
        offset = 0 if months == 0 else params.month_days[months]
        due = current[current["discharge_date"] + pd.Timedelta(days=offset) <= data_end]
        answered_ids = set(responses.loc[responses["point"].astype(str) == point, "episode_id"])
        answered = due["episode_id"].isin(answered_ids).astype(float)
        pieces.append(_rows(f"arr_resp_{point.lower()}", year, due, answered))

    items = t0_items(current)
    share = current[items].notna().mean(axis=1) if items else pd.Series(dtype=float)
    pieces.append(_rows("arr_compl", year, current, share))

    out = pd.concat(pieces, ignore_index=True)
    return out.sort_values(["ind_id", "orgnr", "episode_id"], kind="mergesort", ignore_index=True)


def episode_indicators(
    episodes: pd.DataFrame,
    responses: pd.DataFrame,
    outcomes: pd.DataFrame,
    config: RunConfig,
    years: Iterable[int],
) -> pd.DataFrame:
    """Per-episode indicator rows in the results-portal upload shape.

    Parameters
    ----------
    episodes, responses, outcomes
        Derived tables (docs/architecture.md); not modified.
    config
        The run configuration (``data_end``, follow-up, month days).
    years
        Report years.

    Returns
    -------
    DataFrame
        ``ind_id, orgnr, year, var, denominator, context``: one row per
        episode of the indicator's cohort with a value (``var`` 0/1 for
        proportions, the value for ``arr_hrbdays``, ``arr_wa_change`` and
        ``arr_compl``), ``denominator`` 1, ``context`` "caregiver". ``year``
        is the report year. ``arr_dg`` has no per-episode rows (its
        denominator is the institution form's patient count). These rows are
        row-level data: for the results-portal upload only, never for a report.
    """
    pieces = [_episode_values(episodes, responses, outcomes, config, y) for y in sorted(years)]
    rows = pd.concat(pieces, ignore_index=True)
    rows = rows[rows["var"].notna()]
    out = rows.assign(denominator=1, context=UPLOAD_CONTEXT)[list(UPLOAD_COLUMNS)]
    return out.reset_index(drop=True)


# --- aggregation ---------------------------------------------------------------------------------


def _summary(
    ind_id: str, values: pd.DataFrame, config: RunConfig, coverage: pd.DataFrame | None
) -> dict[str, float]:
    """numerator, denominator, value, lower, upper of one pooled group."""
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
        at = cumulative_incidence_at(
            values[["rtw_time", "rtw_event"]], day=config.outcomes.followup_days, event=EVENT_RTW
        ).iloc[0]
        return {
            "numerator": float(at["events"]),
            "denominator": float(at["n"]),
            "value": float(at["estimate"]),
            "lower": float(at["lower"]),
            "upper": float(at["upper"]),
        }
    var = values["var"].dropna().astype(float)
    if var.empty:
        return empty
    n = float(len(var))
    if kind == "proportion":
        lower, upper = wilson_interval(var.sum(), n)
        return {
            "numerator": float(var.sum()),
            "denominator": n,
            "value": float(var.mean()),
            "lower": lower,
            "upper": upper,
        }
    if kind == "mean":
        lower, upper = t_interval(var)
        return {"numerator": math.nan, "denominator": n, "value": float(var.mean())} | {
            "lower": lower,
            "upper": upper,
        }
    return {
        "numerator": math.nan,
        "denominator": n,
        "value": float(var.median()),
        "lower": float(var.quantile(0.25)),
        "upper": float(var.quantile(0.75)),
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


def _indicator_rows(
    ind_id: str,
    year: int,
    values: pd.DataFrame,
    coverage: pd.DataFrame,
    units: list[str],
    config: RunConfig,
    disclosure: DisclosureParams | None,
) -> list[dict[str, object]]:
    def pooled(selected: Iterable[str]) -> dict[str, float]:
        selected = set(selected)
        return _summary(
            ind_id,
            values[values["orgnr"].isin(selected)],
            config,
            coverage[coverage.index.isin(selected)],
        )

    own = {unit: pooled([unit]) for unit in units}
    if disclosure is not None:
        sizes = pd.DataFrame(
            {
                "n": [own[u]["denominator"] for u in units],
                "numerator": [own[u]["numerator"] for u in units],
            }
        )
        # numerator is NaN for means and medians: only proportions and
        # cumulative incidences are hidden for a small numerator.
        small = hidden_statistic_mask(sizes, "n", disclosure, "numerator").tolist()
        suppressed = {u for u, s in zip(units, small, strict=True) if s}
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

    Returns
    -------
    DataFrame
        :data:`AGGREGATE_COLUMNS`. Per indicator and year: one ``institution``
        row and one ``rest`` row (all other institutions pooled) per
        institution (``orgnr``), and one ``national`` row (``orgnr`` empty).
    """
    disclosure = config.disclosure if disclose else None
    rows: list[dict[str, object]] = []
    for year in sorted(years):
        values = _episode_values(episodes, responses, outcomes, config, year)
        coverage = _coverage_table(episodes, institutions, year)
        # Every institution with episodes discharged in Y or Y − 1, or a form
        # for Y, is listed for every indicator (empty where it has no cohort).
        known = episodes.loc[
            episodes["discharge_date"].dt.year.isin([year, year - 1]), "institution_id"
        ]
        known = set(known.astype(str))
        known |= set(institutions.loc[institutions["year"] == year, "institution_id"].astype(str))
        units = sorted(known)
        for ind_id in INDICATOR_STATISTIC:
            cohort_year = year - 1 if ind_id in OUTCOME_INDICATORS else year
            ind_values = values[values["ind_id"] == ind_id]
            ind_rows = _indicator_rows(
                ind_id, year, ind_values, coverage, units, config, disclosure
            )
            flagged = _low_coverage_units(episodes, institutions, cohort_year, config, disclosure)
            for row in ind_rows:
                row["interval"] = INTERVAL_KIND[INDICATOR_STATISTIC[ind_id]]
                row["level"] = classify_target(row.get("value"), config.targets[ind_id])
                low = row["unit"] == UNIT_INSTITUTION and row["orgnr"] in flagged
                row["coverage_flag"] = LOW_COVERAGE_LABEL if low else None
            rows.extend(ind_rows)
    out = pd.DataFrame(rows).reindex(columns=list(AGGREGATE_COLUMNS))
    for column in ("numerator", "denominator", "value", "lower", "upper"):
        out[column] = out[column].astype(float)
    out["suppressed"] = out["suppressed"].astype(bool)
    return out


# --- case mix --------------------------------------------------------------------------------------


#: Covariates of the national case-mix model (indicators-and-report.md).
CASEMIX_COVARIATES = ("age_group", "sex", "diagnosis_group", "hrb_days_pre_12m", "rehab_mode")

#: Label of a missing category in the case-mix design.
MISSING_CATEGORY = "ukjent"


@dataclass(frozen=True)
class CaseMixResult:
    """A fitted national case-mix model and each institution's observed / expected ratio.

    Attributes
    ----------
    coefficients
        ``term, estimate, std_error, odds_ratio, lower, upper, p_value`` (the
        report's appendix).
    institutions
        ``orgnr, n, observed, expected, ratio, lower, upper, suppressed``.
    n
        Episodes in the model.
    references
        The reference level of each categorical covariate (the level without
        a term of its own), e.g. ``{"sex": "Kvinne", ...}``.
    """

    coefficients: pd.DataFrame
    institutions: pd.DataFrame
    n: int
    references: dict[str, str]


#: Categorical covariates of the case-mix model (indicators-and-report.md), in order.
CASEMIX_CATEGORICAL: tuple[str, ...] = ("age_group", "sex", "diagnosis_group", "rehab_mode")


def _casemix_design(cohort: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """The model matrix, and the reference level of each categorical covariate."""
    design = pd.DataFrame(index=cohort.index)
    design["age_group"] = age_group(cohort["age_at_admission"]).astype(object)
    for column in CASEMIX_CATEGORICAL[1:]:
        design[column] = cohort[column].astype(object)
    categorical = list(CASEMIX_CATEGORICAL)
    design[categorical] = design[categorical].where(design[categorical].notna(), MISSING_CATEGORY)
    levels = design[categorical].astype(str)
    dummies = pd.get_dummies(levels, drop_first=True, dtype=float)
    dummies = dummies.loc[:, dummies.std(ddof=0) > 0]  # drop levels absent from the cohort
    references = {
        column: sorted(set(levels[column]) - {c[len(column) + 1 :] for c in dummies.columns})[0]
        for column in categorical
        if len(levels[column])
    }
    dummies["hrb_days_pre_12m"] = pd.to_numeric(cohort["hrb_days_pre_12m"]).astype(float)
    return sm.add_constant(dummies, has_constant="add"), references


def casemix(
    outcomes: pd.DataFrame,
    config: RunConfig,
    year: int,
    ind_id: str = "arr_rtw12",
    disclose: bool = True,
    level: float = 0.95,
) -> CaseMixResult:
    """National logistic case-mix model and observed / expected ratio per institution.

    Parameters
    ----------
    outcomes
        The ``outcomes`` table; not modified.
    config
        Run configuration.
    year
        Report year (cohort: discharged in ``year − 1``).
    ind_id
        ``arr_rtw12`` (outcome ``rtw_12m``) or ``arr_srtw`` (the per-episode
        0/1 of :func:`episode_indicators`: RTW by day F, episodes censored
        before day F left out).
    disclose
        Empty ratios for institutions below ``min_denominator``.
    level
        Confidence level of the ratio's interval.

    Returns
    -------
    CaseMixResult

    Notes
    -----
    Binomial GLM (logit link) on age group, sex, diagnosis group,
    ``hrb_days_pre_12m`` and rehab mode, fitted on every institution's cohort
    together. Expected E = Σ p̂ over an institution's episodes; observed O =
    Σ y. With E treated as fixed, O is taken as Poisson and the interval of
    O / E is the exact (Garwood) Poisson interval of O divided by E.
    """
    if ind_id not in ("arr_rtw12", "arr_srtw"):
        raise ValueError(f"case-mix adjustment is defined for arr_rtw12 and arr_srtw, not {ind_id}")
    cohort = _discharged(outcomes, year - 1)
    if ind_id == "arr_rtw12":
        y = cohort["rtw_12m"].astype(float)
    else:
        y = _srtw_var(cohort, config.outcomes.followup_days)
    keep = y.notna()
    cohort, y = cohort[keep], y[keep]
    design, references = _casemix_design(cohort)
    fit = sm.GLM(y.to_numpy(), design, family=sm.families.Binomial()).fit()
    conf = fit.conf_int(alpha=1 - level)
    coefficients = pd.DataFrame(
        {
            "term": design.columns,
            "estimate": fit.params.to_numpy(),
            "std_error": fit.bse.to_numpy(),
            "odds_ratio": np.exp(fit.params.to_numpy()),
            "lower": np.exp(conf[0].to_numpy()),
            "upper": np.exp(conf[1].to_numpy()),
            "p_value": fit.pvalues.to_numpy(),
        }
    )
    frame = pd.DataFrame(
        {
            "orgnr": cohort["institution_id"].astype(str).to_numpy(),
            "observed": y.to_numpy(),
            "expected": fit.predict(design).to_numpy(),
        }
    )
    per_unit = frame.groupby("orgnr", sort=True).agg(
        n=("observed", "size"), observed=("observed", "sum"), expected=("expected", "sum")
    )
    alpha = 1 - level
    observed = per_unit["observed"]
    lower_o = np.where(observed > 0, stats.chi2.ppf(alpha / 2, 2 * observed) / 2, 0.0)
    upper_o = stats.chi2.ppf(1 - alpha / 2, 2 * observed + 2) / 2
    per_unit["ratio"] = observed / per_unit["expected"]
    per_unit["lower"] = lower_o / per_unit["expected"]
    per_unit["upper"] = upper_o / per_unit["expected"]
    per_unit = per_unit.reset_index()
    per_unit["suppressed"] = False
    if disclose:
        small = small_group_mask(per_unit, "n", config.disclosure)
        per_unit["suppressed"] = small.to_numpy()
        per_unit.loc[small.to_numpy(), ["n", "observed", "expected", "ratio", "lower", "upper"]] = (
            np.nan
        )
    return CaseMixResult(
        coefficients=coefficients,
        institutions=per_unit,
        n=int(len(cohort)),
        references=references,
    )
