"""The statistics against R, run here: tests/r/*.R compute the reference numbers.

Each test writes the demo build's data (fixture ``demo_derived``, persons with
one or two episodes) as CSV to a temporary folder, runs an R script from
``tests/r/`` there (R 4.2 with survival, nlme; ``make test`` installs them
through tools/system_deps.sh) and compares R's numbers with the package's:
estimates and standard errors to 1e-6 unless a comment says why not.

- km.R – Kaplan–Meier (``survfit``): Greenwood and log interval; the IJ
  grouped by person (``survfit(id =, cluster =)``).
- aj.R – Aalen–Johansen (multi-state ``survfit``): the IJ per episode and
  grouped by person.
- cox.R – the cause-specific Cox model (``coxph``, Efron): model-based and
  robust ``cluster(person_id)`` standard errors.
- glm.R – the case-mix logistic model (``glm``, binomial).
- lme.R – the work-ability mixed model (``nlme::lme``, REML).
- lme_nested.R – the same with episodes nested in persons
  (``random = ~ 1 | person_id/episode_id``).
- grouped_intervals.R – Wilson at the effective sample size and the t interval
  of a mean, with the variance grouped by person (a hand-written sandwich of
  ``lm(y ~ 1)``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from arr_stats import domain, stats
from arr_stats.config import DEMO_CONFIG, load_config
from arr_stats.derive.load import load_build
from arr_stats.indicators.casemix import casemix
from arr_stats.indicators.definitions import INDICATOR_STATISTIC, _episode_values
from arr_stats.stats.cox import CauseSpecificCox
from arr_stats.stats.intervals import (
    clustered_wilson_interval,
    grouped_wilson_interval,
    t_summary,
    wilson_interval,
)
from tools import PROJECT_ROOT, run_r

TOL = 1e-6


def _r(name: str, folder: Path) -> None:
    run_r((PROJECT_ROOT / "tests" / "r" / name).read_text(encoding="utf-8"), folder)


@pytest.fixture(scope="module")
def outcomes(demo_derived: Path) -> pd.DataFrame:
    table = pd.read_parquet(demo_derived / "outcomes.parquet")
    # the point of the clustered variances: some persons have two episodes
    assert table["person_id"].duplicated().sum() > 20
    return table


def _surv_csv(outcomes: pd.DataFrame, folder: Path, status: pd.Series, column: str) -> None:
    pd.DataFrame(
        {
            "episode_id": outcomes["episode_id"],
            "person_id": outcomes["person_id"],
            "group": outcomes["diagnosis_group"].astype(str),
            "time": outcomes["rtw_time"],
            column: status,
        }
    ).to_csv(folder / "surv.csv", index=False)


def _close(got: pd.Series, want: pd.Series, what: str, tol: float = TOL) -> None:
    got_, want_ = got.to_numpy(dtype=float), want.to_numpy(dtype=float)
    np.testing.assert_array_equal(np.isnan(got_), np.isnan(want_), err_msg=f"{what}: NaN pattern")
    keep = ~np.isnan(want_)
    worst = float(np.max(np.abs(got_[keep] - want_[keep]), initial=0.0))
    assert worst <= tol, f"{what}: largest difference from R {worst:.3g} > {tol}"


def _prefixed(want: pd.DataFrame) -> pd.DataFrame:
    """R's columns as ``r_<name>`` (the merge keys stay), so no name meets the package's."""
    keys = ("group", "time", "event")
    return want.rename(columns={c: f"r_{c}" for c in want.columns if c not in keys})


def _compare_intervals(merged: pd.DataFrame) -> None:
    """Standard errors and limits: the package's ungrouped (plain names) and grouped
    (``_cluster``) curves against R's ``r_se`` … and ``r_se_cluster`` …"""
    for ours, theirs in (("std_error", "se"), ("lower", "lower"), ("upper", "upper")):
        _close(merged[ours], merged[f"r_{theirs}"], f"{theirs} (episodes independent)")
        _close(merged[f"{ours}_cluster"], merged[f"r_{theirs}_cluster"], f"{theirs} (by person)")
    # the grouping changes the numbers: the comparison is not of one thing twice
    positive = merged["std_error"] > 0
    ratio = merged.loc[positive, "std_error_cluster"] / merged.loc[positive, "std_error"]
    assert (ratio - 1).abs().max() > 1e-3


def _curves(fit, outcomes: pd.DataFrame, **options) -> pd.DataFrame:
    """The curve overall ("all") and by diagnosis group, group as a string."""
    whole = fit(outcomes, **options)
    by = fit(outcomes, by="diagnosis_group", **options)
    both = pd.concat([whole, by], ignore_index=True)
    return both.assign(group=both["group"].astype(str))


@pytest.mark.parametrize("event", [domain.EVENT_RTW, domain.EVENT_DISABILITY])
def test_kaplan_meier_equals_r_survfit_with_and_without_clustering(outcomes, tmp_path, event):
    _surv_csv(outcomes, tmp_path, (outcomes["rtw_event"] == event).astype(int), "status")
    _r("km.R", tmp_path)
    want = _prefixed(pd.read_csv(tmp_path / "km.csv", dtype={"group": str}))
    naive = _curves(stats.kaplan_meier, outcomes, event=event, cluster=None)
    grouped = _curves(stats.kaplan_meier, outcomes, event=event)  # default: by person
    on = ["group", "time"]
    merged = want.merge(naive, on=on).merge(grouped, on=on, suffixes=("", "_cluster"))
    assert len(merged) == len(want)  # every time R reports is in the curve
    assert (merged["at_risk"] == merged["r_n_risk"]).all()
    assert (merged["events"] == merged["r_n_event"]).all()
    _close(merged["estimate"], merged["r_surv"], "S")
    _close(merged["estimate_cluster"], merged["r_surv"], "S (by person)")
    _compare_intervals(merged)


@pytest.mark.parametrize("event", [domain.EVENT_RTW, domain.EVENT_DISABILITY])
def test_aalen_johansen_equals_r_survfit_with_and_without_clustering(outcomes, tmp_path, event):
    _surv_csv(outcomes, tmp_path, outcomes["rtw_event"], "event")
    _r("aj.R", tmp_path)
    want = _prefixed(pd.read_csv(tmp_path / "aj.csv", dtype={"group": str}))
    want = want[want["event"] == event]
    assert len(want)
    naive = _curves(stats.cumulative_incidence, outcomes, event=event, cluster=None)
    grouped = _curves(stats.cumulative_incidence, outcomes, event=event)
    on = ["group", "time"]
    merged = want.merge(naive, on=on).merge(grouped, on=on, suffixes=("", "_cluster"))
    assert len(merged) == len(want)
    _close(merged["estimate"], merged["r_pstate"], "F")
    _close(merged["estimate_cluster"], merged["r_pstate"], "F (by person)")
    _compare_intervals(merged)


def test_cumulative_incidence_at_a_day_is_clustered_by_person_by_default(outcomes):
    # arr_srtw reads the curve at day 365: the default interval is the grouped one
    default = stats.cumulative_incidence_at(outcomes, day=365)
    grouped = stats.cumulative_incidence_at(outcomes, day=365, cluster="person_id")
    naive = stats.cumulative_incidence_at(outcomes, day=365, cluster=None)
    assert default["std_error"].iloc[0] == grouped["std_error"].iloc[0]
    assert default["std_error"].iloc[0] != naive["std_error"].iloc[0]


def _cox_csv(model: CauseSpecificCox, outcomes: pd.DataFrame, folder: Path) -> list[str]:
    design, terms = model._design(outcomes)
    names = [str(t["term"]) for t in terms]
    frame = design[["duration", "observed", *names]].copy()
    frame.insert(2, "person_id", outcomes.loc[design.index, "person_id"].to_numpy())
    stratum = ""
    if model.strata:
        stratum = design[list(model.strata)].astype(str).agg("|".join, axis=1)
    frame.insert(3, "stratum", stratum)
    frame.to_csv(folder / "cox.csv", index=False)
    return names


@pytest.mark.parametrize(
    "options",
    [
        {},  # the default model: case-mix covariates and institution
        {"covariates": domain.CASEMIX_COVARIATES, "strata": ("institution_id",)},  # notebook 02
    ],
    ids=["default", "stratified"],
)
def test_cox_equals_r_coxph_naive_and_robust(outcomes, tmp_path, options):
    clustered = CauseSpecificCox(**options).fit(outcomes)
    naive = CauseSpecificCox(**options, cluster=None).fit(outcomes)
    names = _cox_csv(clustered, outcomes, tmp_path)
    _r("cox.R", tmp_path)
    want = pd.read_csv(tmp_path / "coef.csv").set_index("term").loc[names]
    got = clustered.summary_.set_index("term").loc[names]
    plain = naive.summary_.set_index("term").loc[names]
    assert clustered.cluster_ == "person_id" and naive.cluster_ is None
    _close(got["coef"], want["coef"], "coef")
    _close(plain["std_error"], want["se"], "se (model-based)")
    _close(got["naive_std_error"], want["se"], "naive_std_error")
    _close(got["std_error"], want["se_robust"], "se (robust, by person)")
    _close(got["p"], want["p_robust"], "p (robust)")
    z = 1.959963984540054
    _close(got["lower"], np.exp(want["coef"] - z * want["se_robust"]), "lower (robust)")
    ratio = (want["se_robust"] / want["se"]).to_numpy()
    assert np.ptp(ratio) > 0.05  # the data make the two variances differ visibly


@pytest.mark.parametrize("ind_id", ["arr_rtw12", "arr_srtw"])
def test_casemix_glm_equals_r_glm(outcomes, tmp_path, ind_id):
    config = load_config(DEMO_CONFIG)
    year = 2025
    # every episode of the demo build in the cohort, for enough episodes per term
    cohort = outcomes.assign(discharge_date=pd.Timestamp(year - 1, 6, 30))
    result = casemix(cohort, config, year, ind_id=ind_id, disclose=False)
    if ind_id == "arr_rtw12":
        y = cohort["rtw_12m"].astype("Float64")
    else:  # returned by day F; censored before day F without returning: unknown
        f = config.outcomes.followup_days
        returned = (cohort["rtw_event"] == domain.EVENT_RTW) & (cohort["rtw_time"] <= f)
        unknown = (cohort["rtw_event"] == domain.EVENT_CENSORED) & (cohort["rtw_time"] < f)
        y = pd.Series(np.where(returned, 1.0, np.where(unknown, np.nan, 0.0)), index=cohort.index)
    frame = pd.DataFrame(
        {
            "y": y,
            "age_group": domain.age_group(cohort["age_at_admission"]).astype(str),
            **{c: cohort[c].astype(str) for c in domain.CASEMIX_CATEGORICAL[1:]},
            "hrb_days_pre_12m": cohort["hrb_days_pre_12m"].astype(float),
        }
    )
    frame = frame[frame["y"].notna()]
    assert len(frame) == result.n
    frame.to_csv(tmp_path / "glm.csv", index=False, na_rep="NA")
    references = pd.DataFrame(
        {"variable": list(result.references), "reference": list(result.references.values())}
    )
    references.to_csv(tmp_path / "references.csv", index=False)
    _r("glm.R", tmp_path)
    want = pd.read_csv(tmp_path / "glm_coef.csv").set_index("term")
    got = result.coefficients.set_index("term")
    assert sorted(got.index) == sorted(want.index)
    want = want.loc[got.index]
    _close(got["estimate"], want["estimate"], "coefficient")
    _close(got["std_error"], want["std_error"], "standard error")


def test_work_ability_mixed_model_equals_r_lme(demo_derived, tmp_path):
    responses = pd.read_parquet(demo_derived / "responses.parquet")
    model = stats.WorkAbilityMixedModel().fit(responses)
    data = responses[["episode_id", "point", "work_ability"]].dropna()
    data.to_csv(tmp_path / "wa.csv", index=False)
    _r("lme.R", tmp_path)
    want = pd.read_csv(tmp_path / "lme.csv").set_index("term")
    got = model.table_.set_index("term")
    assert model.n_answers_ == len(data)
    fixed = [t for t in want.index if not t.startswith("var(")]
    assert sorted(fixed) == sorted(t for t in got.index if not t.startswith("var("))
    _close(got.loc[fixed, "estimate"], want.loc[fixed, "estimate"], "fixed effect")
    _close(got.loc[fixed, "std_error"], want.loc[fixed, "std_error"], "standard error")
    variances = ["var(episode)", "var(residual)"]
    _close(got.loc[variances, "estimate"], want.loc[variances, "estimate"], "variance component")


def test_work_ability_mixed_model_nested_in_persons_equals_r(demo_derived, tmp_path):
    responses = pd.read_parquet(demo_derived / "responses.parquet")
    episodes = pd.read_parquet(demo_derived / "episodes.parquet")
    model = stats.WorkAbilityMixedModel().fit(responses, episodes)  # default: nested
    assert model.cluster_ == "person_id"
    data = responses[["episode_id", "point", "work_ability"]].merge(
        episodes[["episode_id", "person_id"]], on="episode_id"
    )
    data = data.dropna()
    assert data.groupby("person_id")["episode_id"].nunique().max() == 2
    data[["person_id", "episode_id", "point", "work_ability"]].to_csv(
        tmp_path / "wa.csv", index=False
    )
    _r("lme_nested.R", tmp_path)
    want = pd.read_csv(tmp_path / "lme_nested.csv").set_index("term")
    # the hand-written REML likelihood is lme's: equal at lme's own estimates
    _close(want.loc[["ll_at_lme"], "estimate"], want.loc[["loglik"], "lme"], "REML loglik")
    # and its optimum is at least as high as where lme stopped
    assert want.loc["loglik", "estimate"] >= want.loc["loglik", "lme"] - 1e-9
    got = model.table_.set_index("term")
    assert model.n_answers_ == len(data)
    fixed = [t for t in want.index if t.startswith(("Intercept", "point"))]
    assert sorted(fixed) == sorted(t for t in got.index if not t.startswith("var("))
    _close(got.loc[fixed, "estimate"], want.loc[fixed, "estimate"], "fixed effect")
    _close(got.loc[fixed, "std_error"], want.loc[fixed, "std_error"], "standard error")
    variances = ["var(person)", "var(episode)", "var(residual)"]
    # 1e-5 for the variance components: the REML surface is so flat along them
    # that moving var(person) by 2e-6 changes the log-likelihood by 1e-13, below
    # the rounding of its sum over the answers; neither optimiser can place them
    # closer (the fixed effects and their standard errors agree to 1e-6)
    _close(
        got.loc[variances, "estimate"],
        want.loc[variances, "estimate"],
        "variance component",
        tol=1e-5,
    )
    # lme itself (stopped short by its optimiser) within 1e-3
    _close(got.loc[variances, "estimate"], want.loc[variances, "lme"], "lme", tol=1e-3)
    flat = stats.WorkAbilityMixedModel(cluster=None).fit(responses, episodes)
    assert flat.cluster_ is None and "var(person)" not in set(flat.table_["term"])


def _grouped_sets(demo_derived: Path) -> pd.DataFrame:
    """The demo's indicator values pooled over the report years (persons with two
    episodes in different years then share a set), with each row's person."""
    derived = load_build(demo_derived)
    years = sorted(set(derived.episodes["discharge_year"]))
    values = pd.concat(
        [
            _episode_values(
                derived.episodes, derived.responses, derived.outcomes, derived.config, y
            )
            for y in years
        ],
        ignore_index=True,
    )
    kinds = {"proportion": "proportion", "item_share": "share", "mean": "mean"}
    values = values[values["var"].notna()]
    values = values.assign(kind=values["ind_id"].map(INDICATOR_STATISTIC).map(kinds))
    values = values[values["kind"].notna()]
    return pd.DataFrame(
        {
            "set": values["ind_id"],
            "kind": values["kind"],
            "y": values["var"],
            "person": values["person_id"],
            "trials": values["items"].fillna(1).astype(int),
        }
    )


def test_grouped_intervals_equal_r_sandwich(demo_derived, tmp_path):
    sets = _grouped_sets(demo_derived)
    assert set(sets["set"]) == {
        "arr_rtw12", "arr_resp_t1", "arr_resp_t2", "arr_resp_t3", "arr_compl", "arr_wa_change"
    }  # fmt: skip
    sets.to_csv(tmp_path / "grouped.csv", index=False)
    _r("grouped_intervals.R", tmp_path)
    want = pd.read_csv(tmp_path / "grouped_out.csv").set_index("set")
    rows = {}
    for name, x in sets.groupby("set"):
        y, persons, kind = x["y"].to_numpy(), x["person"].to_numpy(), x["kind"].iloc[0]
        assert x["person"].duplicated().any()  # some persons have two episodes here
        if kind == "proportion":
            grouped = grouped_wilson_interval(y, persons)
            plain = grouped_wilson_interval(y)
            assert plain == wilson_interval(float(y.sum()), len(y))
        elif kind == "share":
            grouped = clustered_wilson_interval(y, int(x["trials"].iloc[0]), cluster=persons)
            plain = clustered_wilson_interval(y, int(x["trials"].iloc[0]))
        else:
            g, p = t_summary(y, cluster=persons), t_summary(y)
            grouped, plain = (g["lower"], g["upper"]), (p["lower"], p["upper"])
        rows[name] = {"lower": grouped[0], "upper": grouped[1]}
        rows[name] |= {"lower_iid": plain[0], "upper_iid": plain[1]}
    got = pd.DataFrame.from_dict(rows, orient="index").loc[want.index]
    for column in ("lower", "upper", "lower_iid", "upper_iid"):
        _close(got[column], want[column], f"{column}")
    ratio = (got["upper"] - got["lower"]) / (got["upper_iid"] - got["lower_iid"])
    assert (ratio - 1).abs().max() > 1e-3  # the grouping changes the intervals
