"""Variances grouped by person, without R: brute-force influences and a hand-worked case.

tests/test_r_reference.py compares the same numbers with R on the demo build;
these checks need no R and pin the definitions: the grouped variance is the
sum over persons of the squared derivative of the estimate with respect to
the person's weight (all of the person's episodes moved together).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_survival import TINY, make_outcomes, weighted_aj

from arr_stats import stats
from arr_stats.stats.clustering import (
    INTERVAL_NOTES,
    cluster_codes,
    efron_score_residuals,
    interval_note,
)


def _persons(n: int, seed: int) -> np.ndarray:
    """Person ids: 40 % of the episodes belong to a person with several."""
    rng = np.random.default_rng(seed)
    ids = np.arange(n)
    shared = rng.random(n) < 0.4
    ids[shared] = rng.integers(0, n // 3, size=shared.sum())
    return np.array([f"P{i:04d}" for i in ids])


def _person_influence_variance(time, codes, event, persons, times, eps=1e-6):
    """Σ_persons (dF/dw_person)², each a central difference moving the person's episodes."""
    total = np.zeros(len(times))
    for person in np.unique(persons):
        up = np.where(persons == person, 1 + eps, 1.0)
        down = np.where(persons == person, 1 - eps, 1.0)
        diff = weighted_aj(time, codes, event, up, times) - weighted_aj(
            time, codes, event, down, times
        )
        total += (diff / (2 * eps)) ** 2
    return total


@pytest.mark.parametrize("seed", [41, 42])
@pytest.mark.parametrize("event", [1, 2])
def test_grouped_ij_equals_brute_force_influence_of_person_weights(seed, event):
    outcomes = make_outcomes(n=150, seed=seed, max_day=12)
    outcomes["person_id"] = _persons(len(outcomes), seed)
    assert outcomes["person_id"].duplicated().any()
    time, codes = outcomes["rtw_time"].to_numpy(), outcomes["rtw_event"].to_numpy()
    fitted = stats.CumulativeIncidence(event=event).fit(outcomes)
    assert fitted.cluster_ == "person_id"
    times = fitted.curve_["time"].to_numpy(float)
    want = _person_influence_variance(time, codes, event, outcomes["person_id"].to_numpy(), times)
    np.testing.assert_allclose(fitted.curve_["std_error"] ** 2, want, rtol=1e-6, atol=1e-14)


def test_grouped_kaplan_meier_equals_brute_force_influence_of_person_weights():
    outcomes = make_outcomes(n=150, seed=43, max_day=12)
    outcomes["person_id"] = _persons(len(outcomes), 43)
    time = outcomes["rtw_time"].to_numpy()
    only_rtw = np.where(outcomes["rtw_event"] == 1, 1, 0)  # KM: other codes censored
    fitted = stats.KaplanMeier().fit(outcomes)
    assert (fitted.cluster_, fitted.variance) == ("person_id", "ij")
    times = fitted.curve_["time"].to_numpy(float)
    want = _person_influence_variance(time, only_rtw, 1, outcomes["person_id"].to_numpy(), times)
    np.testing.assert_allclose(fitted.curve_["std_error"] ** 2, want, rtol=1e-6, atol=1e-14)


def test_one_episode_per_person_gives_the_ungrouped_variances():
    outcomes = make_outcomes(n=300, seed=44, max_day=30)
    outcomes["person_id"] = outcomes["episode_id"]
    for fit in (stats.kaplan_meier, stats.cumulative_incidence):
        grouped = fit(outcomes)
        independent = fit(outcomes, cluster=None)
        keep = independent["estimate"] > 0  # KM: Greenwood is NaN where S = 0
        np.testing.assert_allclose(
            grouped["std_error"][keep], independent["std_error"][keep], rtol=1e-9, atol=1e-15
        )


def test_grouped_variance_of_two_identical_episodes_by_hand():
    # TINY with the two episodes (4, 1) as one person: their influences on
    # F1(4), 9/108 each (tests/test_survival.py works them out), add to 18/108,
    # so Σ U² = (49 + 121 + 1 + 324 + 225)/108² = 720/11664 = 5/81 instead of 31/648.
    outcomes = TINY.assign(person_id=["a", "b", "c", "d", "d", "e"])
    curve = stats.cumulative_incidence(outcomes, event=1)
    at4 = curve[curve["time"] == 4]["std_error"].iloc[0]
    assert at4**2 == pytest.approx(5 / 81, rel=1e-12)
    naive = stats.cumulative_incidence(outcomes, event=1, cluster=None)
    assert naive[naive["time"] == 4]["std_error"].iloc[0] ** 2 == pytest.approx(31 / 648)


def test_cluster_column_absent_none_or_missing():
    assert cluster_codes(TINY, "person_id") is None  # a table without persons
    assert cluster_codes(TINY.assign(person_id="x"), None) is None
    assert stats.KaplanMeier().fit(TINY).cluster_ is None
    with pytest.raises(ValueError, match="missing"):
        stats.kaplan_meier(TINY.assign(person_id=["a", None, "b", "c", "d", "e"]))
    with pytest.raises(ValueError, match="clustered"):
        stats.cumulative_incidence(TINY.assign(person_id=list("abcdef")), variance="delta")


def test_efron_score_residuals_sum_to_the_score_and_are_zero_in_total_at_the_estimate():
    outcomes = make_outcomes(n=400, seed=45, max_day=20)
    model = stats.CauseSpecificCox(covariates=("sex", "diagnosis_group"), cluster=None).fit(
        outcomes
    )
    design, terms = model._design(outcomes)
    names = [t["term"] for t in terms]
    x = design[names].to_numpy()
    beta = model.model_.params_.loc[names].to_numpy()
    residuals = efron_score_residuals(design["duration"], design["observed"], x, beta)
    np.testing.assert_allclose(residuals.sum(axis=0), 0.0, atol=1e-8)
    # away from the estimate they sum to the score: the derivative of Efron's
    # log partial likelihood, by central differences
    other = beta + 0.1
    got = efron_score_residuals(design["duration"], design["observed"], x, other).sum(axis=0)
    want = [
        (_efron_loglik(design, x, other + e) - _efron_loglik(design, x, other - e)) / 2e-6
        for e in np.eye(len(beta)) * 1e-6
    ]
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def _efron_loglik(design: pd.DataFrame, x: np.ndarray, beta: np.ndarray) -> float:
    """Efron's log partial likelihood, by a loop over the event times."""
    time = design["duration"].to_numpy()
    event = design["observed"].to_numpy() == 1
    eta = x @ beta
    r = np.exp(eta)
    total = 0.0
    for t in np.unique(time[event]):
        tied = event & (time == t)
        d = tied.sum()
        risk = r[time >= t].sum()
        tied_r = r[tied].sum()
        total += eta[tied].sum() - sum(np.log(risk - k / d * tied_r) for k in range(d))
    return total


def test_interval_notes_name_the_variance_in_both_languages():
    assert set(INTERVAL_NOTES) == {"nb", "en"}
    assert "gruppert på person" in interval_note("person_id")
    assert "uavhengige" in interval_note(None)
    assert "independent" in interval_note(None, "en")
    with pytest.raises(ValueError):
        interval_note(None, "de")
