"""Case-mix adjustment of ``arr_rtw12`` and ``arr_srtw``: a national logistic model and each unit's observed / expected ratio."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm

from arr_stats.config import RunConfig
from arr_stats.domain import CASEMIX_CATEGORICAL, age_group
from arr_stats.indicators.definitions import _discharged, _srtw_var
from arr_stats.publication.disclosure import small_group_mask
from arr_stats.stats.funnel import FUNNEL_LEVELS
from arr_stats.stats.observed_expected import oe_control_limits, oe_interval

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
        ``orgnr, n, observed, expected, variance, ratio, lower, upper,
        limit95_lower, limit95_upper, limit998_lower, limit998_upper,
        suppressed``: ``variance`` = Σ p̂(1 − p̂), the variance of O;
        ``lower``/``upper`` the exact interval of O/E
        (:func:`arr_stats.stats.oe_interval`); ``limit…`` the unit's funnel
        limits at 95 % and 99.8 % (:func:`arr_stats.stats.oe_control_limits`).
    episodes
        ``orgnr, observed, expected``: each episode's outcome and p̂ (person
        level: for the funnel lines and checks, never published).
    n
        Episodes in the model.
    references
        The reference level of each categorical covariate (the level without
        a term of its own), e.g. ``{"sex": "Kvinne", ...}``.
    """

    coefficients: pd.DataFrame
    institutions: pd.DataFrame
    episodes: pd.DataFrame
    n: int
    references: dict[str, str]


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
    Σ y. With the p̂ treated as known, O is a sum of independent Bernoullis
    (Poisson-binomial: variance Σ p̂(1 − p̂), not the Poisson E); the
    interval of O / E and the funnel limits use that distribution exactly
    (:mod:`arr_stats.stats.observed_expected`).
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
    per_unit = per_unit.join(_observed_expected(frame, level))
    per_unit = per_unit.reset_index()
    per_unit["suppressed"] = False
    if disclose:
        small = small_group_mask(per_unit, "n", config.disclosure)
        per_unit["suppressed"] = small.to_numpy()
        shown = [c for c in per_unit.columns if c not in ("orgnr", "suppressed")]
        per_unit.loc[small.to_numpy(), shown] = np.nan
    return CaseMixResult(
        coefficients=coefficients,
        institutions=per_unit,
        episodes=frame,
        n=int(len(cohort)),
        references=references,
    )


def _observed_expected(frame: pd.DataFrame, level: float) -> pd.DataFrame:
    """Per unit: variance of O, O/E with its exact interval, and the funnel limits."""
    rows = {}
    for orgnr, unit in frame.groupby("orgnr", sort=True):
        p = unit["expected"].to_numpy()
        observed, expected = float(unit["observed"].sum()), float(p.sum())
        lower, upper = oe_interval(observed, p, level)
        row = {
            "variance": float(np.sum(p * (1 - p))),
            "ratio": observed / expected,
            "lower": lower,
            "upper": upper,
        }
        for _, limit in oe_control_limits(p, FUNNEL_LEVELS).iterrows():
            tag = f"{100 * limit['level']:g}".replace(".", "")
            row[f"limit{tag}_lower"] = limit["lower"]
            row[f"limit{tag}_upper"] = limit["upper"]
        rows[orgnr] = row
    return pd.DataFrame.from_dict(rows, orient="index")
