"""Case-mix adjustment of ``arr_rtw12`` and ``arr_srtw``: a national logistic model and each unit's observed / expected ratio."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy.optimize import linprog

from arr_stats.config import DisclosureParams, RunConfig
from arr_stats.domain import CASEMIX_CATEGORICAL, age_group
from arr_stats.indicators.definitions import _discharged, _srtw_var
from arr_stats.publication.disclosure import hidden_statistic_mask
from arr_stats.stats.funnel import FUNNEL_LEVELS
from arr_stats.stats.observed_expected import oe_control_limits, oe_interval

#: Label of a missing category in the case-mix design.
MISSING_CATEGORY = "ukjent"

#: Why a term of the case-mix model is not reported (``coefficients["check"]``):
#: its estimate is infinite (separation), the fit did not converge, or the term
#: rests on fewer than ``min_cell`` episodes with (or without) the outcome.
CHECK_SEPARATION = "separation"
CHECK_NOT_CONVERGED = "not_converged"
CHECK_FEW_EVENTS = "few_events"
#: A term whose standard error on the log-odds scale exceeds
#: :data:`MAX_STD_ERROR`, or whose Wald interval on the odds-ratio scale is not
#: finite: quasi-separation or a near-singular design that Konis' program does
#: not flag; its interval (e.g. 0.00 to 10^100) says nothing.
CHECK_UNBOUNDED = "unbounded"
#: The largest standard error of a reported term (log-odds): beyond it the 95 %
#: interval spans more than a factor e^39 in odds. A common sign of
#: (quasi-)separation in a logistic fit (Heinze & Schemper 2002).
MAX_STD_ERROR = 10.0

#: Columns of :attr:`CaseMixResult.coefficients`.
COEFFICIENT_COLUMNS = (
    "term",
    "estimate",
    "std_error",
    "odds_ratio",
    "lower",
    "upper",
    "p_value",
    "check",
)

#: Below this the linear program's objective and coefficients count as zero.
_LP_TOLERANCE = 1e-7


@dataclass(frozen=True)
class CaseMixResult:
    """A fitted national case-mix model and each institution's observed / expected ratio.

    Attributes
    ----------
    coefficients
        ``term, estimate, std_error, odds_ratio, lower, upper, p_value,
        check`` (the report's appendix). ``check`` is empty for a reported
        term, else :data:`CHECK_SEPARATION`, :data:`CHECK_NOT_CONVERGED` or
        :data:`CHECK_FEW_EVENTS`; a term not reported has empty values.
    institutions
        ``orgnr, n, observed, expected, variance, ratio, lower, upper,
        limit95_lower, limit95_upper, limit998_lower, limit998_upper,
        suppressed``: ``variance`` = Σ p̂(1 − p̂), the variance of O;
        ``lower``/``upper`` the exact interval of O/E
        (:func:`arr_stats.stats.oe_interval`); ``limit…`` the unit's funnel
        limits at 95 % and 99.8 % (:func:`arr_stats.stats.oe_control_limits`);
        ``suppressed`` True for a unit :func:`hidden_units` names (with
        disclosure; its other columns are empty).
    episodes
        ``orgnr, observed, expected``: each episode's outcome and p̂ (person
        level: for the funnel lines and checks, never published).
    n
        Episodes in the model.
    references
        The reference level of each categorical covariate (the level without
        a term of its own), e.g. ``{"sex": "Kvinne", ...}``.
    notes
        What the model checks found (non-convergence, separation, any other
        warning of the fit), one sentence each; empty when the fit is clean.
    converged
        Whether the fit converged (statsmodels' IRLS: relative change in
        deviance below 1e-8 within 100 iterations).
    unknown_outcome
        Episodes of the cohort left out of the model because their 0/1
        outcome is unknown: for ``arr_srtw`` those censored before day F
        (no RTW, no competing event, follow-up shorter than F), for
        ``arr_rtw12`` those with ``rtw_12m`` missing.
    """

    coefficients: pd.DataFrame
    institutions: pd.DataFrame
    episodes: pd.DataFrame
    n: int
    references: dict[str, str]
    notes: tuple[str, ...] = ()
    unknown_outcome: int = 0
    converged: bool = True


def separated_terms(design: pd.DataFrame, y: np.ndarray) -> list[str]:
    """Terms of a logistic model whose maximum-likelihood estimate is infinite.

    The linear-programming check of Konis (2007), as R's ``detectseparation``
    package does it: the data are (completely or quasi-completely) separated
    exactly when some direction β ≠ 0 has x_iβ ≥ 0 for every episode with
    y = 1 and x_iβ ≤ 0 for every episode with y = 0, not all of them 0; the
    likelihood then keeps growing along β and the estimates of the terms
    with β_j ≠ 0 run off to ±∞. The program maximises Σ_i s_i x_iβ subject
    to s_i x_iβ ≥ 0 (s_i = ±1 for y = 1/0) and −1 ≤ β_j ≤ 1, on the design
    with every column scaled to a largest absolute value of 1; a positive
    maximum means separation and its β names the terms.

    Parameters
    ----------
    design
        The model matrix (columns = terms, the constant included).
    y
        The 0/1 outcome.

    Returns
    -------
    list of str
        The separated terms, in column order; empty when the estimates are finite.

    References
    ----------
    Konis K (2007). Linear programming algorithms for detecting separated
    data in binary logistic regression models. DPhil thesis, University of
    Oxford. Kosmidis I, Schumacher D (2021). detectseparation: Detect and
    check for separation and infinite maximum likelihood estimates. R package.

    Examples
    --------
    >>> design = pd.DataFrame({"const": 1.0, "group_b": [0, 0, 0, 0, 1, 1]})
    >>> separated_terms(design, np.array([1, 0, 1, 0, 1, 1]))  # group b: all 1
    ['group_b']
    >>> separated_terms(design, np.array([1, 0, 1, 0, 1, 0]))
    []
    """
    x = design.to_numpy(dtype=float)
    scale = np.abs(x).max(axis=0)
    x = x / np.where(scale > 0, scale, 1.0)
    signed = x * np.where(np.asarray(y, dtype=float) > 0.5, 1.0, -1.0)[:, None]
    found = linprog(
        c=-signed.sum(axis=0),
        A_ub=-signed,
        b_ub=np.zeros(len(signed)),
        bounds=[(-1.0, 1.0)] * signed.shape[1],
        method="highs",
    )
    if not found.success or -found.fun <= _LP_TOLERANCE * len(signed):
        return []
    return [term for term, b in zip(design.columns, found.x, strict=True) if abs(b) > _LP_TOLERANCE]


def _sparse_terms(design: pd.DataFrame, y: np.ndarray, min_cell: int) -> list[str]:
    """Terms resting on fewer than ``min_cell`` episodes with, or without, the outcome.

    A level's term compares the level with the reference level: it is sparse
    when either group has fewer than ``min_cell`` events or non-events (the
    2 × 2 table behind the odds ratio has a small cell). The constant and
    ``hrb_days_pre_12m`` are sparse when the whole cohort is.
    """
    y = np.asarray(y, dtype=float)

    def small(rows: np.ndarray) -> bool:
        events = float(y[rows].sum())
        return min(events, float(rows.sum()) - events) < min_cell

    everyone = np.ones(len(y), dtype=bool)
    sparse = [term for term in design.columns if small(everyone)]
    for variable in CASEMIX_CATEGORICAL:
        terms = [t for t in design.columns if t.startswith(f"{variable}_")]
        if not terms:
            continue
        reference = (design[terms].to_numpy() == 0).all(axis=1)
        for term in terms:
            if small(design[term].to_numpy() == 1) or small(reference):
                sparse.append(term)
    return [t for t in design.columns if t in set(sparse)]


def _fit_glm(
    y: pd.Series, design: pd.DataFrame, min_cell: int, disclose: bool, level: float
) -> tuple[object, pd.DataFrame, tuple[str, ...]]:
    """The binomial GLM, checked: the fit, the coefficient table, and the notes.

    A term that is separated or from a fit that did not converge gets empty
    values (its estimate is meaningless); a sparse term (:func:`_sparse_terms`)
    too when ``disclose``. ``check`` says which rule applied.
    """
    with warnings.catch_warnings(record=True) as caught, np.errstate(over="ignore"):
        # statsmodels warns (PerfectSeparationWarning, overflow in exp) where the
        # checks below find the cause; they are reported as notes instead.
        warnings.simplefilter("always")
        fit = sm.GLM(y.to_numpy(), design, family=sm.families.Binomial()).fit()
    outcome = y.to_numpy(dtype=float)
    separated = separated_terms(design, outcome)
    sparse = _sparse_terms(design, outcome, min_cell)
    notes = []
    if not fit.converged:
        notes.append(
            f"The fit did not converge ({fit.fit_history['iteration']} iterations): "
            "no coefficient is reported."
        )
    if separated:
        notes.append(
            "Separation (Konis' linear program): infinite estimates for "
            + ", ".join(separated)
            + "; those terms are not reported."
        )
    if not notes and caught:
        notes += sorted({f"statsmodels: {w.message}" for w in caught})
    check = pd.Series(None, index=design.columns, dtype=object)
    check[[t for t in design.columns if t in sparse]] = CHECK_FEW_EVENTS
    check[separated] = CHECK_SEPARATION
    conf = fit.conf_int(alpha=1 - level)
    with np.errstate(over="ignore"):
        unbounded = (
            ~np.isfinite(np.exp(conf[1].to_numpy()))
            | (np.exp(conf[0].to_numpy()) == 0)
            | (fit.bse.to_numpy() > MAX_STD_ERROR)
        )
    check[unbounded & check.isna().to_numpy()] = CHECK_UNBOUNDED
    if not fit.converged:
        check[:] = CHECK_NOT_CONVERGED
    hidden = check.isin([CHECK_SEPARATION, CHECK_NOT_CONVERGED, CHECK_UNBOUNDED])
    if disclose:
        hidden |= check.eq(CHECK_FEW_EVENTS)
    hidden = hidden.to_numpy()
    estimate = np.where(hidden, np.nan, fit.params.to_numpy())
    std_error = np.where(hidden, np.nan, fit.bse.to_numpy())
    lower = np.where(hidden, np.nan, conf[0].to_numpy())
    upper = np.where(hidden, np.nan, conf[1].to_numpy())
    coefficients = pd.DataFrame(
        {
            "term": design.columns,
            "estimate": estimate,
            "std_error": std_error,
            "odds_ratio": np.exp(estimate),
            "lower": np.exp(lower),
            "upper": np.exp(upper),
            "p_value": np.where(hidden, np.nan, fit.pvalues.to_numpy()),
            "check": check.to_numpy(),
        }
    )
    return fit, coefficients, tuple(notes)


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


def hidden_units(orgnr: pd.Series, y: pd.Series, ind_id: str, params: DisclosureParams) -> set[str]:
    """Units whose observed / expected ratio may not be published, nor enter the model.

    O/E with its exact interval gives O back (the limits are functions of O
    and the unit's p̂), and n − O with it; so the ratio follows the counts
    behind it (:func:`arr_stats.publication.disclosure.hidden_statistic_mask`).
    A unit is hidden when, among its episodes with a known outcome, n is
    below ``min_denominator`` or O or n − O is 1 … ``min_cell`` − 1; or when
    its indicator is hidden by the same rule on the indicator's counts (for
    ``arr_rtw12`` the same counts; for ``arr_srtw`` n is every episode of the
    cohort, censored before day F included, and O the returns by day F, the
    Aalen–Johansen numerator).

    Parameters
    ----------
    orgnr
        The institution of each episode of the cohort.
    y
        Each episode's 0/1 outcome (NaN: unknown), aligned with ``orgnr``.
    ind_id
        ``arr_rtw12`` or ``arr_srtw``.
    params
        The disclosure parameters.

    Returns
    -------
    set of str
        The hidden units.

    Examples
    --------
    >>> orgnr = pd.Series(["A"] * 20 + ["B"] * 20)
    >>> y = pd.Series([1.0] * 10 + [0.0] * 10 + [1.0] * 3 + [0.0] * 17)
    >>> sorted(hidden_units(orgnr, y, "arr_rtw12", DisclosureParams()))  # B: O = 3
    ['B']
    """
    known = y.notna()
    frame = pd.DataFrame({"orgnr": orgnr.astype(str).to_numpy(), "y": y.to_numpy(dtype=float)})
    frame["known"] = known.to_numpy()
    counts = frame.groupby("orgnr", sort=True).agg(
        n_all=("y", "size"), n=("known", "sum"), observed=("y", "sum")
    )
    hidden = hidden_statistic_mask(counts, "n", params, "observed")
    if ind_id == "arr_srtw":
        hidden |= hidden_statistic_mask(counts, "n_all", params, "observed")
    return set(counts.index[hidden.to_numpy()])


def casemix(
    outcomes: pd.DataFrame,
    config: RunConfig,
    year: int,
    ind_id: str = "arr_rtw12",
    disclose: bool = True,
    level: float = 0.95,
    hidden: Iterable[str] | None = None,
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
        Leave out the units :func:`hidden_units` names (their ratio is empty,
        and they are not in the model, its ``n`` or ``unknown_outcome``), and
        give empty coefficients for terms with fewer than ``min_cell`` events
        or non-events (see Notes).
    level
        Confidence level of the ratio's interval.
    hidden
        With ``disclose``: more units to leave out, as the year's protected
        publication hides their indicator row (the ratio follows its counts).

    Returns
    -------
    CaseMixResult

    Notes
    -----
    Binomial GLM (logit link) on age group, sex, diagnosis group,
    ``hrb_days_pre_12m`` and rehab mode, fitted on every institution's cohort
    together – with disclosure, on the units whose ratio may be shown only
    (:func:`hidden_units`): a hidden unit's episodes would otherwise enter
    the model's n, the note's count of episodes left out, and (through the
    intercept's score equation, Σ O = Σ E) the shown units' ratios. Expected E = Σ p̂ over an institution's episodes; observed O =
    Σ y. With the p̂ treated as known, O is a sum of independent Bernoullis
    (Poisson-binomial: variance Σ p̂(1 − p̂), not the Poisson E); the
    interval of O / E and the funnel limits use that distribution exactly
    (:mod:`arr_stats.stats.observed_expected`).

    Model checks (``coefficients["check"]``, ``notes``): convergence
    (statsmodels' IRLS); separation by the linear program of
    :func:`separated_terms` (a separated term's estimate is infinite: its
    row is empty); and, with ``min_cell`` from the run configuration's
    disclosure settings, a term resting on fewer than ``min_cell`` episodes
    with or without the outcome, in its level or in the reference level
    (empty when ``disclose``). Warnings of the fit (statsmodels' perfect
    separation, overflow in exp) are caught and kept as notes when the
    checks do not already explain them.
    """
    if ind_id not in ("arr_rtw12", "arr_srtw"):
        raise ValueError(f"case-mix adjustment is defined for arr_rtw12 and arr_srtw, not {ind_id}")
    cohort = _discharged(outcomes, year - 1)
    if ind_id == "arr_rtw12":
        y = cohort["rtw_12m"].astype(float)
    else:
        y = _srtw_var(cohort, config.outcomes.followup_days)
    orgnr = cohort["institution_id"].astype(str)
    units = sorted(set(orgnr))
    extra = hidden
    hidden = hidden_units(orgnr, y, ind_id, config.disclosure) if disclose else set()
    if disclose and extra is not None:
        hidden |= set(map(str, extra))
    in_model = ~orgnr.isin(hidden)
    keep = y.notna() & in_model
    unknown_outcome = int((y.isna() & in_model).sum())
    cohort, y = cohort[keep], y[keep]
    if cohort.empty:  # no unit may be shown: there is no model to fit
        return CaseMixResult(
            coefficients=pd.DataFrame(columns=list(COEFFICIENT_COLUMNS)),
            institutions=pd.DataFrame(
                np.nan, index=range(len(units)), columns=list(_unit_columns())
            ).assign(orgnr=units, suppressed=True)[["orgnr", *_unit_columns(), "suppressed"]],
            episodes=pd.DataFrame(columns=["orgnr", "observed", "expected"]),
            n=0,
            references={},
            notes=("No unit's ratio may be shown: no model is fitted.",),
            unknown_outcome=unknown_outcome,
            converged=False,
        )
    design, references = _casemix_design(cohort)
    fit, coefficients, notes = _fit_glm(
        y, design, config.disclosure.min_cell, disclose=disclose, level=level
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
    # every unit of the cohort is listed; a hidden one with empty values
    per_unit = per_unit.reindex(units if disclose else per_unit.index).rename_axis("orgnr")
    per_unit = per_unit.reset_index()
    per_unit["suppressed"] = per_unit["orgnr"].isin(hidden)
    return CaseMixResult(
        coefficients=coefficients,
        institutions=per_unit,
        episodes=frame,
        n=int(len(cohort)),
        references=references,
        notes=notes,
        unknown_outcome=unknown_outcome,
        converged=bool(fit.converged),
    )


def _limit_tag(level: float) -> str:
    """0.95 → "95", 0.998 → "998": the level in a column name."""
    return f"{100 * level:g}".replace(".", "")


def _unit_columns() -> tuple[str, ...]:
    """The number columns of :attr:`CaseMixResult.institutions`, in order."""
    limits = [
        f"limit{_limit_tag(level)}_{side}" for level in FUNNEL_LEVELS for side in ("lower", "upper")
    ]
    return ("n", "observed", "expected", "variance", "ratio", "lower", "upper", *limits)


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
            tag = _limit_tag(limit["level"])
            row[f"limit{tag}_lower"] = limit["lower"]
            row[f"limit{tag}_upper"] = limit["upper"]
        rows[orgnr] = row
    return pd.DataFrame.from_dict(rows, orient="index")
