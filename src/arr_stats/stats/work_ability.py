"""Work ability (0–10) at the registration points: means, paired change, a mixed model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import pandas as pd
from scipy import stats

from arr_stats.domain import DEFAULT_CLUSTER
from arr_stats.stats.curves import _check_columns, _groups, _ordered_groups
from arr_stats.stats.fitted import Fitted
from arr_stats.stats.intervals import t_summary


def resolve_cluster(
    cluster: str | None, responses: pd.DataFrame, episodes: pd.DataFrame | None = None
) -> str | None:
    """The column the work-ability intervals are grouped by, or ``None`` (episodes independent).

    ``cluster`` (default ``"person_id"``) is taken from ``responses`` or else
    from ``episodes``; where neither has it (a hand-made table without
    persons) every episode is its own cluster, recorded as ``None`` in the
    fitted objects' ``cluster_``.
    """
    if cluster is None:
        return None
    if cluster in responses.columns:
        return cluster
    if episodes is not None and cluster in episodes.columns:
        return cluster
    return None


def _responses_with_group(
    responses: pd.DataFrame,
    by: str | None,
    episodes: pd.DataFrame | None,
    cluster: str | None = None,
) -> pd.DataFrame:
    """``episode_id, point, work_ability`` (+ ``by``, + ``cluster``), the extra columns
    from ``responses`` or else from ``episodes`` (joined on ``episode_id``)."""
    _check_columns(responses, ["episode_id", "point", "work_ability"], "responses")
    columns = ["episode_id", "point", "work_ability"]
    extra = list(dict.fromkeys(c for c in (by, cluster) if c))
    own = [c for c in extra if c in responses.columns]
    data = responses[columns + own]
    wanted = [c for c in extra if c not in own]
    if not wanted:
        return data
    if episodes is None:
        raise KeyError(f"responses has no column {wanted[0]!r}; pass episodes to take it from")
    _check_columns(episodes, ["episode_id", *wanted], "episodes")
    return data.merge(episodes[["episode_id", *wanted]], on="episode_id", how="left")


def work_ability_by_point(
    responses: pd.DataFrame,
    by: str | None = None,
    episodes: pd.DataFrame | None = None,
    alpha: float = 0.05,
    cluster: str | None = DEFAULT_CLUSTER,
) -> pd.DataFrame:
    """Mean work ability (0–10) at each registration point with a t interval.

    The interval's standard error is grouped by ``cluster`` (default
    ``"person_id"``, from ``responses`` or ``episodes``): a person's
    answers from two episodes at one point are one cluster, and the t
    quantile has persons − 1 degrees of freedom
    (:func:`arr_stats.stats.intervals.t_summary`). With ``cluster=None``, or
    without the column, the answers are independent (mean ± t(n − 1)·sd/√n).

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
    cluster
        The column the standard error is grouped by, or ``None``.

    Returns
    -------
    DataFrame
        ``group, point, n, mean, sd, lower, upper`` (answers with a missing
        work ability are not counted).
    """
    cluster = resolve_cluster(cluster, responses, episodes)
    data = _responses_with_group(responses, by, episodes, cluster)
    points = (
        list(data["point"].cat.categories)
        if isinstance(data["point"].dtype, pd.CategoricalDtype)
        else sorted(data["point"].dropna().unique())
    )
    rows = []
    for value, group in _groups(data, by):
        for point in points:
            answers = group[(group["point"] == point) & group["work_ability"].notna()]
            persons = None if cluster is None else answers[cluster].to_numpy(dtype=object)
            summary = t_summary(answers["work_ability"].to_numpy(float), 1 - alpha, persons)
            rows.append({"group": value, "point": point, **summary})
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
    cluster: str | None = DEFAULT_CLUSTER,
) -> pd.DataFrame:
    """Paired change in work ability from one point to another, with a t interval.

    Only episodes with a work ability at both points count (the cohort of
    ``arr_wa_change``). The interval's standard error is grouped by
    ``cluster`` (default ``"person_id"``, from ``responses`` or
    ``episodes``): a person's changes in two episodes are one cluster,
    se² = G/(G − 1) · Σ_persons (Σ (dᵢ − d̄))² / n² and the t quantile has
    G − 1 degrees of freedom, G persons
    (:func:`arr_stats.stats.intervals.t_summary`). With one episode per
    person, ``cluster=None`` or without the column it is the paired t
    interval mean ± t(n − 1)·sd/√n.

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
    cluster
        The column the standard error is grouped by, or ``None``.

    Returns
    -------
    DataFrame
        ``group, from_point, to_point, n, mean_from, mean_to, mean_change, sd,
        lower, upper``: ``sd`` of the paired differences, ``lower``/``upper``
        the t interval of the mean change.

    Examples
    --------
    >>> responses = pd.DataFrame({"episode_id": ["a", "b", "c", "a", "b", "c"],
    ...                           "point": ["T0"] * 3 + ["T3"] * 3,
    ...                           "work_ability": [2, 4, 6, 5, 5, 8]})
    >>> change = work_ability_change(responses)
    >>> change[["n", "mean_change", "sd"]].to_numpy().tolist()  # changes 3, 1, 2
    [[3.0, 2.0, 1.0]]
    """
    cluster = resolve_cluster(cluster, responses, episodes)
    data = _responses_with_group(responses, by, episodes, cluster)
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
        persons = None
        if cluster is not None:
            person_of = group.drop_duplicates("episode_id").set_index("episode_id")[cluster]
            persons = person_of.reindex(pairs.index).to_numpy(dtype=object)
        summary = t_summary(diff, 1 - alpha, persons)
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
    cluster: str | None = DEFAULT_CLUSTER,
) -> pd.DataFrame:
    """Linear mixed model of work ability over the points (statsmodels MixedLM, REML).

    ``work_ability ~ point (+ covariates)`` with a random intercept per
    episode, so every answered point counts, also of episodes missing some
    points (valid under missing at random). With ``cluster`` (default
    ``"person_id"``, from ``responses`` or ``episodes``) the episodes are
    nested in persons: random intercepts per person and per episode within
    the person, R's ``nlme::lme(random = ~ 1 | person_id/episode_id)``.
    ``cluster=None``, or no such column: a random intercept per episode only.

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
    cluster
        The column the episodes are nested in, or ``None``.

    Returns
    -------
    DataFrame
        ``term, estimate, std_error, lower, upper, p``: fixed effects
        (``Intercept``, ``point[T1]`` …), then the variance components
        (estimates only): ``var(person)`` (when nested), ``var(episode)``
        and ``var(residual)``.
    """
    fitted = WorkAbilityMixedModel(
        covariates=tuple(covariates),
        alpha=alpha,
        reference_point=reference_point,
        cluster=cluster,
    )
    return fitted.fit(responses, episodes).summary


def _mixed_model(
    responses: pd.DataFrame,
    episodes: pd.DataFrame | None,
    covariates: Sequence[str],
    alpha: float,
    reference_point: str,
    cluster: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The mixed model's table and the answers it used (``cluster`` already resolved)."""
    import statsmodels.formula.api as smf

    _check_columns(responses, ["episode_id", "point", "work_ability"], "responses")
    covariates = list(covariates)
    if covariates and episodes is None:
        raise KeyError("covariates need the episodes table")
    data = _responses_with_group(responses, None, episodes, cluster)
    if covariates:
        _check_columns(episodes, ["episode_id", *covariates], "episodes")
        data = data.merge(episodes[["episode_id", *covariates]], on="episode_id", how="left")
    data = data.dropna().copy()
    data["point"] = data["point"].astype(str)
    order = ([cluster] if cluster else []) + ["episode_id", "point"]
    data = data.sort_values(order, kind="stable").reset_index(drop=True)
    terms = [f"C(point, Treatment(reference={reference_point!r}))"]
    terms += [f"C({c})" if not pd.api.types.is_numeric_dtype(data[c]) else c for c in covariates]
    formula = "work_ability ~ " + " + ".join(terms)
    if cluster is None:
        model = smf.mixedlm(formula, data, groups=data["episode_id"])
    else:  # episodes nested in persons: a variance component per episode within the person
        data[cluster] = data[cluster].astype(str)
        model = smf.mixedlm(
            formula,
            data,
            groups=data[cluster],
            re_formula="1",
            vc_formula={"episode": "0 + C(episode_id)"},
        )
    # BFGS to a gradient of 1e-10: the variance components then agree with
    # nlme::lme to 1e-6 (statsmodels' default stops about 2e-6 short). The
    # nested model's line search stalls near |gradient| 1e-6 (of a REML
    # log-likelihood of order 1e4), already within 1e-6 of the optimum
    # (tests/r/lme_nested.R), so it is asked for that.
    result = model.fit(reml=True, method=["bfgs"], gtol=1e-10 if cluster is None else 1e-6)
    fixed = result.fe_params.index
    estimate = result.fe_params.to_numpy()
    tau2 = float(result.cov_re.iloc[0, 0])
    if cluster is None:
        std_error = _gls_std_error(model.exog_li, tau2, result.scale)
        components = {"var(episode)": tau2}
        scale = float(result.scale)
    else:
        # statsmodels' BFGS stalls near |gradient| 1e-6 on this flat REML
        # surface, 1e-4 short in the variance components: refine its estimate
        # on the same likelihood in closed form (:class:`_NestedREML`)
        reml = _NestedREML(model.exog, model.endog, data[cluster], data["episode_id"])
        start = np.log([tau2, float(np.asarray(result.vcomp)[0])] / result.scale)
        ratios = reml.maximise(start)
        estimate, scale, std_error = reml.gls(ratios)
        tau2, episode_var = (float(r) * scale for r in ratios)
        components = {"var(person)": tau2, "var(episode)": episode_var}
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
    components["var(residual)"] = scale
    variances = pd.DataFrame({"term": list(components), "estimate": list(components.values())})
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


class _NestedREML:
    """The REML log-likelihood of random intercepts per person and per episode within it.

    V of one person = σ² (I + γ_e B + γ_p J), B the blocks of ones of its
    episodes, J all ones. Within an episode of n_e answers A_e = I + γ_e J has
    A_e⁻¹ = I − γ_e w_e J, w_e = 1/(1 + γ_e n_e), so 1ᵀA⁻¹u = Σ_e w_e S_e(u)
    (S_e the episode's sum); adding γ_p J by Sherman–Morrison,

        uᵀ (V/σ²)⁻¹ v = uᵀv − Σ_e γ_e w_e S_e(u) S_e(v) − Σ_p f_p a_p(u) a_p(v),

    a_p(u) = Σ_{e ∈ p} w_e S_e(u), f_p = γ_p / (1 + γ_p c_p), c_p = Σ_{e ∈ p} w_e n_e,
    and log|V/σ²| = Σ_e log(1 + γ_e n_e) + Σ_p log(1 + γ_p c_p). Profiled over
    σ² (σ̂² = rᵀ(V/σ²)⁻¹r / (N − k)), the REML log-likelihood is
    −½ [(N − k)(log 2πσ̂² + 1) + log|V/σ²| + log|Xᵀ(V/σ²)⁻¹X|], the value
    ``nlme::lme`` and statsmodels report (``tests/r/lme_nested.R``).
    """

    def __init__(
        self, exog: np.ndarray, endog: np.ndarray, person: pd.Series, episode: pd.Series
    ) -> None:
        z = np.column_stack([np.asarray(exog, dtype=float), np.asarray(endog, dtype=float)])
        episode_code = pd.factorize(episode.astype(str), sort=True)[0]
        person_code = pd.factorize(person.astype(str), sort=True)[0]
        episodes = int(episode_code.max()) + 1
        self.width = z.shape[1] - 1
        self.n = len(z)
        self.zz = z.T @ z
        self.n_e = np.bincount(episode_code, minlength=episodes).astype(float)
        self.s_e = np.zeros((episodes, z.shape[1]))
        np.add.at(self.s_e, episode_code, z)
        self.person_of_episode = np.zeros(episodes, dtype=np.int64)
        self.person_of_episode[episode_code] = person_code
        self.persons = int(person_code.max()) + 1

    def _parts(self, ratios: np.ndarray) -> tuple[np.ndarray, float]:
        """[X y]ᵀ (V/σ²)⁻¹ [X y] and log|V/σ²| at γ = ``ratios`` (person, episode)."""
        gamma_p, gamma_e = ratios
        w = 1 / (1 + gamma_e * self.n_e)
        inner = self.zz - (self.s_e * (gamma_e * w)[:, None]).T @ self.s_e
        a = np.zeros((self.persons, self.s_e.shape[1]))
        np.add.at(a, self.person_of_episode, self.s_e * w[:, None])
        c = np.bincount(self.person_of_episode, weights=w * self.n_e, minlength=self.persons)
        f = gamma_p / (1 + gamma_p * c)
        inner -= (a * f[:, None]).T @ a
        logdet = float(np.sum(np.log1p(gamma_e * self.n_e)) + np.sum(np.log1p(gamma_p * c)))
        return inner, logdet

    def gls(self, ratios: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
        """Fixed effects, σ̂² and the fixed effects' standard errors (as ``lme``) at ``ratios``."""
        inner, _ = self._parts(ratios)
        k = self.width
        xvx, xvy, yvy = inner[:k, :k], inner[:k, k], inner[k, k]
        beta = np.linalg.solve(xvx, xvy)
        sigma2 = float(yvy - beta @ xvy) / (self.n - k)
        return beta, sigma2, np.sqrt(np.diag(sigma2 * np.linalg.inv(xvx)))

    def loglik(self, ratios: np.ndarray) -> float:
        """The profiled REML log-likelihood at γ = ``ratios``."""
        inner, logdet = self._parts(ratios)
        k = self.width
        _, sigma2, _ = self.gls(ratios)
        log_xvx = float(np.linalg.slogdet(inner[:k, :k])[1])
        return -0.5 * ((self.n - k) * (np.log(2 * np.pi * sigma2) + 1) + logdet + log_xvx)

    def maximise(self, start: np.ndarray) -> np.ndarray:
        """γ at the REML optimum, from log γ = ``start`` (Nelder–Mead to 1e-10 in log γ)."""
        from scipy import optimize

        found = optimize.minimize(
            lambda log_ratios: -self.loglik(np.exp(log_ratios)),
            np.asarray(start, dtype=float),
            method="Nelder-Mead",
            options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 2000},
        )
        return np.exp(found.x)


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
    cluster
        The column the standard error is grouped by (default ``"person_id"``,
        from ``responses`` or ``episodes``), or ``None``.

    Attributes
    ----------
    table_ : DataFrame
        One row per group (see :func:`work_ability_change`).
    by_ : str or None
        The grouping column of the fit.
    cluster_ : str or None
        The column the standard error was grouped by; ``None`` when episodes
        were treated as independent
        (:func:`~arr_stats.stats.clustering.interval_note` says which).

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
    cluster: str | None = DEFAULT_CLUSTER
    table_: pd.DataFrame | None = field(default=None, init=False, repr=False)
    by_: str | None = field(default=None, init=False)
    cluster_: str | None = field(default=None, init=False)

    def fit(
        self,
        responses: pd.DataFrame,
        episodes: pd.DataFrame | None = None,
        by: str | None = None,
    ) -> WorkAbilityChange:
        """Fit to the long ``responses`` (``by`` from them or from ``episodes``); not modified."""
        self.cluster_ = resolve_cluster(self.cluster, responses, episodes)
        self.table_ = work_ability_change(
            responses, self.from_point, self.to_point, by, episodes, self.alpha, self.cluster_
        )
        self.by_ = by
        return self


@dataclass
class WorkAbilityMixedModel(Fitted):
    """Linear mixed model of work ability over the points (statsmodels MixedLM, REML).

    ``work_ability ~ point (+ covariates)`` with random intercepts per
    person and per episode within the person, or per episode only with
    ``cluster=None`` (see :func:`work_ability_mixed_model`).

    Parameters
    ----------
    covariates
        Episode-level fixed effects besides ``point`` (e.g. ``diagnosis_group``).
    alpha
        1 − confidence level.
    reference_point
        The point the point effects are measured from.
    cluster
        The column the episodes are nested in (default ``"person_id"``, from
        ``responses`` or ``episodes``), or ``None``.

    Attributes
    ----------
    table_ : DataFrame
        ``term, estimate, std_error, lower, upper, p``.
    n_episodes_, n_answers_ : int
        Episodes and answers the model used.
    cluster_ : str or None
        The column the episodes were nested in; ``None`` when the model had a
        random intercept per episode only.
    """

    _result: ClassVar[str] = "table_"
    covariates: Sequence[str] = ()
    alpha: float = 0.05
    reference_point: str = "T0"
    cluster: str | None = DEFAULT_CLUSTER
    table_: pd.DataFrame | None = field(default=None, init=False, repr=False)
    n_episodes_: int | None = field(default=None, init=False)
    n_answers_: int | None = field(default=None, init=False)
    cluster_: str | None = field(default=None, init=False)

    def fit(
        self, responses: pd.DataFrame, episodes: pd.DataFrame | None = None
    ) -> WorkAbilityMixedModel:
        """Fit to the long ``responses`` (covariates from ``episodes``); not modified."""
        self.cluster_ = resolve_cluster(self.cluster, responses, episodes)
        self.table_, data = _mixed_model(
            responses, episodes, self.covariates, self.alpha, self.reference_point, self.cluster_
        )
        self.n_episodes_ = int(data["episode_id"].nunique())
        self.n_answers_ = len(data)
        return self
