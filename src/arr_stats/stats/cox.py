"""The cause-specific Cox model of time to sustainable RTW (lifelines, Efron ties)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter
from scipy import stats as scipy_stats

from arr_stats.domain import (
    COVARIATE_UNITS,
    DEFAULT_CLUSTER,
    DEFAULT_COX_COVARIATES,
    EVENT_RTW,
    age_group,
)
from arr_stats.stats.clustering import cluster_codes, efron_score_residuals, robust_variance
from arr_stats.stats.cox_zph import cox_zph
from arr_stats.stats.curves import _check_columns, _z
from arr_stats.stats.fitted import Fitted

#: lifelines' Newton–Raphson run to convergence: its default stops up to about
#: 1e-7 from the maximum (a stratified fit sooner), where R's ``coxph`` gets
#: closer; the proportional-hazards test is compared with R's at 1e-6.
FIT_OPTIONS: dict[str, float] = {"precision": 1e-14, "r_precision": 1e-15}


@dataclass
class CauseSpecificCox(Fitted):
    """Cause-specific Cox model of time to one event (lifelines CoxPHFitter, Efron ties).

    Other event codes are censored at their time: the hazard ratios are for
    the cause-specific hazard of ``event``. Categorical covariates (and
    strings, booleans) are dummy-coded against their first level; numeric
    covariates enter linearly, per ``per[var]`` units (default per 1).
    ``age_group`` is made from
    ``age_at_admission`` with :func:`age_group` when the data lack it.

    Parameters
    ----------
    covariates
        Columns of the outcomes table.
    strata
        Columns to stratify the baseline hazard by (no coefficient).
    event
        The event code modelled (1 = sustainable RTW).
    alpha
        1 − confidence level of the hazard ratio intervals.
    penalizer
        lifelines' ridge penalty (0 = the ordinary partial likelihood).
    time_col, event_col
        Time and event columns.
    per
        Units per numeric covariate: its hazard ratio is per this many units
        (default :data:`COVARIATE_UNITS`, per 30 days for
        ``hrb_days_pre_12m``).
    ph_transform
        Time transform of the proportional-hazards test ``ph_test_``:
        ``"km"`` (R's default), ``"rank"``, ``"identity"`` or ``"log"``.
    cluster
        Column grouping the episodes of one person (default ``"person_id"``,
        :data:`~arr_stats.domain.DEFAULT_CLUSTER`): ``std_error``, the
        intervals and ``p`` then use the robust (sandwich) variance with the
        Efron score residuals summed per person, R's ``coxph(...,
        cluster = person_id)``. ``None``, or a table without the column,
        gives the model-based variance (episodes independent).

    Attributes
    ----------
    model_ : lifelines.CoxPHFitter
    summary_ : DataFrame
        ``term, variable, level, reference, per, n, events, coef, std_error,
        hazard_ratio, lower, upper, p`` (one row per model term; ``per`` the
        units of a numeric covariate's hazard ratio, missing for a level;
        ``n`` and ``events`` the rows in the level and their events, every
        row used for a numeric covariate, so the disclosure rules can hide
        a term of a small group). With a cluster, ``std_error`` is the
        robust one and ``naive_std_error`` (last column) the model-based
        one; without, the two are equal.
    ph_test_ : DataFrame
        The proportional-hazards test of R's ``cox.zph`` (survival ≥ 3.0,
        :func:`~arr_stats.stats.cox_zph.cox_zph`) with ``ph_transform``:
        ``term, transform, chisq, df, p``, one row per covariate (all levels
        of a categorical one together, as R's default) and ``GLOBAL``.
        :meth:`ph_test` gives other transforms, or a test per level.
    design_ : DataFrame
        The rows used: ``duration``, ``observed``, a column per term, the
        strata columns.
    n_, n_events_ : int
        Rows used and events of the modelled type.
    dropped_missing_ : int
        Rows left out for a missing covariate.
    cluster_ : str or None
        The column the variance was grouped by; ``None`` when episodes were
        treated as independent.
    """

    _result: ClassVar[str] = "summary_"
    covariates: Sequence[str] = DEFAULT_COX_COVARIATES
    strata: Sequence[str] | None = None
    event: int = EVENT_RTW
    alpha: float = 0.05
    penalizer: float = 0.0
    time_col: str = "rtw_time"
    event_col: str = "rtw_event"
    per: Mapping[str, float] = field(default_factory=lambda: dict(COVARIATE_UNITS))
    ph_transform: str = "km"
    cluster: str | None = DEFAULT_CLUSTER
    model_: CoxPHFitter | None = field(default=None, init=False, repr=False)
    summary_: pd.DataFrame | None = field(default=None, init=False, repr=False)
    ph_test_: pd.DataFrame | None = field(default=None, init=False, repr=False)
    design_: pd.DataFrame | None = field(default=None, init=False, repr=False)
    n_: int | None = field(default=None, init=False)
    n_events_: int | None = field(default=None, init=False)
    dropped_missing_: int | None = field(default=None, init=False)
    cluster_: str | None = field(default=None, init=False)
    _clusters: np.ndarray | None = field(default=None, init=False, repr=False)

    def _design(self, outcomes: pd.DataFrame) -> tuple[pd.DataFrame, list[dict[str, object]]]:
        data = outcomes.copy()
        if (
            "age_group" in self.covariates
            and "age_group" not in data.columns
            and "age_at_admission" in data.columns
        ):
            data["age_group"] = age_group(data["age_at_admission"])
        strata = list(self.strata or [])
        columns = [self.time_col, self.event_col, *self.covariates, *strata]
        _check_columns(data, columns, "outcomes")
        clustered = cluster_codes(data, self.cluster) is not None
        if clustered and self.cluster not in columns:
            columns.append(str(self.cluster))
        data = data[columns]
        complete = data.dropna()
        self.cluster_ = self.cluster if clustered else None
        self._clusters = cluster_codes(complete, self.cluster_)  # per row of the design
        self.dropped_missing_ = len(data) - len(complete)
        design = pd.DataFrame(index=complete.index)
        design["duration"] = complete[self.time_col].astype(float)
        design["observed"] = (complete[self.event_col].astype(int) == self.event).astype(int)
        terms: list[dict[str, object]] = []
        for var in self.covariates:
            col = complete[var]
            if (
                isinstance(col.dtype, pd.CategoricalDtype)
                or not pd.api.types.is_numeric_dtype(col)
                or pd.api.types.is_bool_dtype(col)
            ):
                if isinstance(col.dtype, pd.CategoricalDtype):
                    levels = [c for c in col.cat.categories if (col == c).any()]
                else:
                    levels = sorted(col.unique(), key=str)
                for level in levels[1:]:
                    name = f"{var}[{level}]"
                    design[name] = (col == level).astype(float)
                    terms.append(
                        {
                            "term": name,
                            "variable": var,
                            "level": level,
                            "reference": levels[0],
                            "per": np.nan,
                            # persons behind the term, for the disclosure rules
                            "n": int((col == level).sum()),
                            "events": int(design.loc[col == level, "observed"].sum()),
                        }
                    )
            else:
                per = float(self.per.get(var, 1.0))
                design[var] = col.astype(float) / per
                terms.append(
                    {
                        "term": var,
                        "variable": var,
                        "level": None,
                        "reference": None,
                        "per": per,
                        "n": len(design),
                        "events": int(design["observed"].sum()),
                    }
                )
        for s in strata:
            design[s] = complete[s].astype(str)
        return design, terms

    def fit(self, outcomes: pd.DataFrame) -> CauseSpecificCox:
        """Fit to the outcomes table (not modified); returns ``self``."""
        design, terms = self._design(outcomes)
        model = CoxPHFitter(alpha=self.alpha, penalizer=self.penalizer)
        model.fit(
            design,
            duration_col="duration",
            event_col="observed",
            strata=list(self.strata) if self.strata else None,
            fit_options=FIT_OPTIONS,
        )
        s = model.summary
        z = _z(self.alpha)
        summary = pd.DataFrame(terms)
        coef = s.loc[summary["term"], "coef"].to_numpy()
        naive = s.loc[summary["term"], "se(coef)"].to_numpy()
        se = naive
        if self.cluster_ is not None:
            se = self._robust_std_error(design, model, summary)
        summary["coef"] = coef
        summary["std_error"] = se
        summary["hazard_ratio"] = np.exp(coef)
        summary["lower"] = np.exp(coef - z * se)
        summary["upper"] = np.exp(coef + z * se)
        summary["p"] = 2 * scipy_stats.norm.sf(np.abs(coef / se))
        summary["naive_std_error"] = naive
        self.model_ = model
        self.summary_ = summary
        self.design_ = design
        self.ph_test_ = self.ph_test(self.ph_transform)
        self.n_ = len(design)
        self.n_events_ = int(design["observed"].sum())
        return self

    def _robust_std_error(
        self,
        design: pd.DataFrame,
        model: CoxPHFitter,
        summary: pd.DataFrame,
    ) -> np.ndarray:
        """Robust standard errors: V (RᵀR) V, R the Efron score residuals summed per cluster."""
        if self.penalizer:
            raise ValueError("the clustered (robust) variance needs penalizer=0; or cluster=None")
        names = list(summary["term"])
        strata = None
        if self.strata:
            strata = pd.factorize(design[list(self.strata)].astype(str).agg("|".join, axis=1))[0]
        residuals = efron_score_residuals(
            design["duration"].to_numpy(),
            design["observed"].to_numpy(),
            design[names].to_numpy(),
            model.params_.loc[names].to_numpy(),
            strata,
        )
        variance = model.variance_matrix_.loc[names, names].to_numpy()
        assert self._clusters is not None  # _design found the column
        return np.sqrt(np.diag(robust_variance(residuals, variance, self._clusters)))

    def ph_test(self, transform: str | None = None, by_variable: bool = True) -> pd.DataFrame:
        """R's ``cox.zph`` test of proportional hazards for the fitted model.

        Parameters
        ----------
        transform
            ``"km"``, ``"rank"``, ``"identity"`` or ``"log"`` (default
            ``ph_transform``).
        by_variable
            One test per covariate, all levels of a categorical one together
            (R's ``terms = TRUE``, the default); ``False``: one per model term.

        Returns
        -------
        DataFrame
            ``term, transform, chisq, df, p``, with ``GLOBAL`` last.
        """
        if self.design_ is None or self.summary_ is None or self.model_ is None:
            raise ValueError("CauseSpecificCox is not fitted yet: call fit() first")
        summary = self.summary_
        groups = summary.groupby("variable", sort=False)["term"] if by_variable else None
        design = self.design_
        return cox_zph(
            design["duration"],
            design["observed"],
            design[list(summary["term"])],
            self.model_.params_,
            strata=design[list(self.strata)].astype(str).agg("\x1f".join, axis=1)
            if self.strata
            else None,
            transform=self.ph_transform if transform is None else transform,
            terms={var: list(cols) for var, cols in groups} if groups is not None else None,
        )


def cox_rtw(
    outcomes: pd.DataFrame,
    covariates: Sequence[str] = DEFAULT_COX_COVARIATES,
    strata: Sequence[str] | None = None,
    event: int = EVENT_RTW,
    alpha: float = 0.05,
    penalizer: float = 0.0,
    time_col: str = "rtw_time",
    event_col: str = "rtw_event",
    per: Mapping[str, float] | None = None,
    cluster: str | None = DEFAULT_CLUSTER,
) -> CauseSpecificCox:
    """Fit the cause-specific Cox model of time to sustainable RTW.

    Competing events (disability, death) are censored at their time. See
    :class:`CauseSpecificCox` for the parameters and the fitted attributes
    (``summary_`` hazard ratios with intervals, ``ph_test_``).
    """
    return CauseSpecificCox(
        covariates=tuple(covariates),
        strata=tuple(strata) if strata else None,
        event=event,
        alpha=alpha,
        penalizer=penalizer,
        time_col=time_col,
        event_col=event_col,
        per=dict(COVARIATE_UNITS if per is None else per),
        cluster=cluster,
    ).fit(outcomes)
