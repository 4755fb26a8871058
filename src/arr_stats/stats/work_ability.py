"""Work ability (0–10) at the registration points: means, paired change, a mixed model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import pandas as pd
from scipy import stats

from arr_stats.stats.curves import _check_columns, _groups, _ordered_groups
from arr_stats.stats.fitted import Fitted
from arr_stats.stats.intervals import t_summary


def _responses_with_group(
    responses: pd.DataFrame, by: str | None, episodes: pd.DataFrame | None
) -> pd.DataFrame:
    _check_columns(responses, ["episode_id", "point", "work_ability"], "responses")
    columns = ["episode_id", "point", "work_ability"]
    if by is None or by in responses.columns:
        return responses[columns + ([by] if by else [])]
    if episodes is None:
        raise KeyError(f"responses has no column {by!r}; pass episodes to take it from")
    _check_columns(episodes, ["episode_id", by], "episodes")
    return responses[columns].merge(episodes[["episode_id", by]], on="episode_id", how="left")


def work_ability_by_point(
    responses: pd.DataFrame,
    by: str | None = None,
    episodes: pd.DataFrame | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Mean work ability (0–10) at each registration point with a t interval.

    Parameters
    ----------
    responses
        Long ``responses``: ``episode_id, point, work_ability``.
    by
        Column to group by, from ``responses`` or else from ``episodes``.
    episodes
        Source of ``by`` (joined on ``episode_id``).
    alpha
        1 − confidence level.

    Returns
    -------
    DataFrame
        ``group, point, n, mean, sd, lower, upper`` (answers with a missing
        work ability are not counted).
    """
    data = _responses_with_group(responses, by, episodes)
    points = (
        list(data["point"].cat.categories)
        if isinstance(data["point"].dtype, pd.CategoricalDtype)
        else sorted(data["point"].dropna().unique())
    )
    rows = []
    for value, group in _groups(data, by):
        for point in points:
            answers = group.loc[group["point"] == point, "work_ability"].dropna()
            rows.append(
                {"group": value, "point": point, **t_summary(answers.to_numpy(float), 1 - alpha)}
            )
    out = _ordered_groups(pd.DataFrame(rows))
    out["point"] = pd.Categorical(out["point"], categories=points, ordered=True)
    return out


def work_ability_change(
    responses: pd.DataFrame,
    from_point: str = "T0",
    to_point: str = "T3",
    by: str | None = None,
    episodes: pd.DataFrame | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Paired change in work ability from one point to another, with a t interval.

    Only episodes with a work ability at both points count (the cohort of
    ``arr_wa_change``).

    Parameters
    ----------
    responses
        Long ``responses``: ``episode_id, point, work_ability``.
    from_point, to_point
        Registration points (``T0`` … ``T3``).
    by
        Column to group by, from ``responses`` or else from ``episodes``.
    episodes
        Source of ``by`` (joined on ``episode_id``).
    alpha
        1 − confidence level.

    Returns
    -------
    DataFrame
        ``group, from_point, to_point, n, mean_from, mean_to, mean_change, sd,
        lower, upper``: ``sd`` of the paired differences, ``lower``/``upper``
        the t interval of the mean change (n − 1 degrees of freedom).

    Examples
    --------
    >>> responses = pd.DataFrame({"episode_id": ["a", "b", "c", "a", "b", "c"],
    ...                           "point": ["T0"] * 3 + ["T3"] * 3,
    ...                           "work_ability": [2, 4, 6, 5, 5, 8]})
    >>> change = work_ability_change(responses)
    >>> change[["n", "mean_change", "sd"]].to_numpy().tolist()  # changes 3, 1, 2
    [[3.0, 2.0, 1.0]]
    """
    data = _responses_with_group(responses, by, episodes)
    rows = []
    for value, group in _groups(data, by):
        wide = group.pivot_table(
            index="episode_id",
            columns="point",
            values="work_ability",
            aggfunc="first",
            observed=True,
        )
        if from_point in wide.columns and to_point in wide.columns:
            pairs = wide[[from_point, to_point]].dropna()
        else:
            pairs = pd.DataFrame(columns=[from_point, to_point], dtype=float)
        diff = (pairs[to_point] - pairs[from_point]).to_numpy(float)
        summary = t_summary(diff, 1 - alpha)
        rows.append(
            {
                "group": value,
                "from_point": from_point,
                "to_point": to_point,
                "n": summary["n"],
                "mean_from": float(pairs[from_point].mean()) if len(pairs) else np.nan,
                "mean_to": float(pairs[to_point].mean()) if len(pairs) else np.nan,
                "mean_change": summary["mean"],
                "sd": summary["sd"],
                "lower": summary["lower"],
                "upper": summary["upper"],
            }
        )
    return _ordered_groups(pd.DataFrame(rows))


def work_ability_mixed_model(
    responses: pd.DataFrame,
    episodes: pd.DataFrame | None = None,
    covariates: Sequence[str] = (),
    alpha: float = 0.05,
    reference_point: str = "T0",
) -> pd.DataFrame:
    """Linear mixed model of work ability over the points (statsmodels MixedLM, REML).

    ``work_ability ~ point (+ covariates)`` with a random intercept per
    episode, so every answered point counts, also of episodes missing some
    points (valid under missing at random).

    Parameters
    ----------
    responses
        Long ``responses``: ``episode_id, point, work_ability``.
    episodes
        Source of the covariates (joined on ``episode_id``).
    covariates
        Episode-level fixed effects besides ``point`` (e.g. ``diagnosis_group``).
    alpha
        1 − confidence level.
    reference_point
        The point the point effects are measured from.

    Returns
    -------
    DataFrame
        ``term, estimate, std_error, lower, upper, p``: fixed effects
        (``Intercept``, ``point[T1]`` …), then the variance components
        ``var(episode)`` and ``var(residual)`` (estimates only).
    """
    fitted = WorkAbilityMixedModel(
        covariates=tuple(covariates), alpha=alpha, reference_point=reference_point
    )
    return fitted.fit(responses, episodes).summary


def _mixed_model(
    responses: pd.DataFrame,
    episodes: pd.DataFrame | None,
    covariates: Sequence[str],
    alpha: float,
    reference_point: str,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The mixed model's table and the answers it used."""
    import statsmodels.formula.api as smf

    _check_columns(responses, ["episode_id", "point", "work_ability"], "responses")
    data = responses[["episode_id", "point", "work_ability"]]
    covariates = list(covariates)
    if covariates:
        if episodes is None:
            raise KeyError("covariates need the episodes table")
        _check_columns(episodes, ["episode_id", *covariates], "episodes")
        data = data.merge(episodes[["episode_id", *covariates]], on="episode_id", how="left")
    data = data.dropna().copy()
    data["point"] = data["point"].astype(str)
    data = data.sort_values(["episode_id", "point"], kind="stable").reset_index(drop=True)
    terms = [f"C(point, Treatment(reference={reference_point!r}))"]
    terms += [f"C({c})" if not pd.api.types.is_numeric_dtype(data[c]) else c for c in covariates]
    formula = "work_ability ~ " + " + ".join(terms)
    model = smf.mixedlm(formula, data, groups=data["episode_id"])
    # BFGS to a gradient of 1e-10: the variance components then agree with
    # nlme::lme to 1e-6 (statsmodels' default stops about 2e-6 short)
    result = model.fit(reml=True, method=["bfgs"], gtol=1e-10)
    fixed = result.fe_params.index
    estimate = result.fe_params.to_numpy()
    std_error = _gls_std_error(model.exog_li, float(result.cov_re.iloc[0, 0]), result.scale)
    z = float(stats.norm.ppf(1 - alpha / 2))
    out = pd.DataFrame(
        {
            "term": [_tidy_term(t) for t in fixed],
            "estimate": estimate,
            "std_error": std_error,
            "lower": estimate - z * std_error,
            "upper": estimate + z * std_error,
            "p": 2 * stats.norm.sf(np.abs(estimate / std_error)),
        }
    )
    variances = pd.DataFrame(
        {
            "term": ["var(episode)", "var(residual)"],
            "estimate": [float(result.cov_re.iloc[0, 0]), float(result.scale)],
        }
    )
    return pd.concat([out, variances], ignore_index=True), data


def _gls_std_error(exog_by_episode: list[np.ndarray], tau2: float, sigma2: float) -> np.ndarray:
    """Standard errors of the fixed effects as ``nlme::lme`` reports them.

    The diagonal of (Xᵀ V⁻¹ X)⁻¹ at the REML estimates, with V_i = σ² I +
    τ² J for an episode's n_i answers, so V_i⁻¹ = (I − τ²/(σ² + n_i τ²) J)/σ².
    statsmodels' ``bse_fe`` comes from the observed Hessian of the REML
    likelihood in all parameters instead and differs in the fifth decimal.
    """
    width = exog_by_episode[0].shape[1]
    information = np.zeros((width, width))
    for x in exog_by_episode:
        total = x.sum(axis=0)
        shrink = tau2 / (sigma2 + len(x) * tau2)
        information += (x.T @ x - shrink * np.outer(total, total)) / sigma2
    return np.sqrt(np.diag(np.linalg.inv(information)))


def _tidy_term(term: str) -> str:
    """``C(point, Treatment(reference='T0'))[T.T3]`` → ``point[T3]``."""
    if term.startswith("C(") and "[T." in term:
        variable = term[2:].split(",")[0].split(")")[0]
        level = term.split("[T.", 1)[1].rstrip("]")
        return f"{variable}[{level}]"
    return term


@dataclass
class WorkAbilityChange(Fitted):
    """Paired change in work ability from one point to another, with a t interval.

    Only episodes with a work ability at both points count (the cohort of
    ``arr_wa_change``).

    Parameters
    ----------
    from_point, to_point
        Registration points (``T0`` … ``T3``).
    alpha
        1 − confidence level.

    Attributes
    ----------
    table_ : DataFrame
        One row per group (see :func:`work_ability_change`).
    by_ : str or None
        The grouping column of the fit.

    Examples
    --------
    >>> responses = pd.DataFrame({"episode_id": ["a", "b", "c", "a", "b", "c"],
    ...                           "point": ["T0"] * 3 + ["T3"] * 3,
    ...                           "work_ability": [2, 4, 6, 5, 5, 8]})
    >>> WorkAbilityChange().fit(responses).summary[["n", "mean_change"]].to_numpy().tolist()
    [[3.0, 2.0]]
    """

    _result: ClassVar[str] = "table_"
    from_point: str = "T0"
    to_point: str = "T3"
    alpha: float = 0.05
    table_: pd.DataFrame | None = field(default=None, init=False, repr=False)
    by_: str | None = field(default=None, init=False)

    def fit(
        self,
        responses: pd.DataFrame,
        episodes: pd.DataFrame | None = None,
        by: str | None = None,
    ) -> WorkAbilityChange:
        """Fit to the long ``responses`` (``by`` from them or from ``episodes``); not modified."""
        self.table_ = work_ability_change(
            responses, self.from_point, self.to_point, by, episodes, self.alpha
        )
        self.by_ = by
        return self


@dataclass
class WorkAbilityMixedModel(Fitted):
    """Linear mixed model of work ability over the points (statsmodels MixedLM, REML).

    ``work_ability ~ point (+ covariates)`` with a random intercept per
    episode (see :func:`work_ability_mixed_model`).

    Parameters
    ----------
    covariates
        Episode-level fixed effects besides ``point`` (e.g. ``diagnosis_group``).
    alpha
        1 − confidence level.
    reference_point
        The point the point effects are measured from.

    Attributes
    ----------
    table_ : DataFrame
        ``term, estimate, std_error, lower, upper, p``.
    n_episodes_, n_answers_ : int
        Episodes and answers the model used.
    """

    _result: ClassVar[str] = "table_"
    covariates: Sequence[str] = ()
    alpha: float = 0.05
    reference_point: str = "T0"
    table_: pd.DataFrame | None = field(default=None, init=False, repr=False)
    n_episodes_: int | None = field(default=None, init=False)
    n_answers_: int | None = field(default=None, init=False)

    def fit(
        self, responses: pd.DataFrame, episodes: pd.DataFrame | None = None
    ) -> WorkAbilityMixedModel:
        """Fit to the long ``responses`` (covariates from ``episodes``); not modified."""
        self.table_, data = _mixed_model(
            responses, episodes, self.covariates, self.alpha, self.reference_point
        )
        self.n_episodes_ = int(data["episode_id"].nunique())
        self.n_answers_ = len(data)
        return self
