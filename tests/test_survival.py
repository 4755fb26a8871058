"""arr_stats.stats against hand-worked values, naive reference implementations
and published numbers.

The naive references below loop over the distinct times one by one, exactly
as the textbook formulas read; the package's implementations are vectorised
(and the Kaplan–Meier curve comes from lifelines), so agreement on random data
with many tied days checks the tie handling and the bookkeeping of the risk
sets.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines import AalenJohansenFitter
from lifelines.datasets import load_rossi
from scipy import stats as scipy_stats

from arr_stats import domain, stats
from arr_stats.domain import DEFAULT_STATE_ORDER
from tools import PROJECT_ROOT, run_r

Z95 = scipy_stats.norm.ppf(0.975)


# --------------------------------------------------------------------------
# synthetic tables of the shape of docs/architecture.md
# --------------------------------------------------------------------------


def make_outcomes(n: int = 600, seed: int = 1, max_day: int = 40) -> pd.DataFrame:
    """An ``outcomes``-shaped frame with integer days (many ties) and all four codes."""
    rng = np.random.default_rng(seed)
    diag = pd.Categorical(
        rng.choice(["musculoskeletal", "mental", "other"], n, p=[0.5, 0.35, 0.15]),
        categories=["musculoskeletal", "mental", "other", "unknown"],
    )
    return pd.DataFrame(
        {
            "episode_id": [f"E{i:05d}" for i in range(n)],
            "institution_id": rng.choice(["I01", "I02", "I03"], n),
            "age_at_admission": pd.array(rng.integers(20, 67, n), dtype="Int64"),
            "sex": pd.Categorical(rng.choice(["Mann", "Kvinne"], n), categories=["Mann", "Kvinne"]),
            "diagnosis_group": diag,
            "rehab_mode": pd.Categorical(
                rng.choice(["Døgn", "Dag", "Poliklinisk"], n),
                categories=["Døgn", "Dag", "Poliklinisk", "Kombinert"],
            ),
            "hrb_days_pre_12m": pd.array(rng.integers(0, 366, n), dtype="Int64"),
            "rtw_event": rng.choice([0, 1, 2, 3], n, p=[0.35, 0.45, 0.12, 0.08]),
            "rtw_time": rng.integers(0, max_day + 1, n),
        }
    )


# --------------------------------------------------------------------------
# naive references (loops over distinct times)
# --------------------------------------------------------------------------


def naive_km(time, event, k):
    """Kaplan–Meier of event k (others censored) with Greenwood variance, by loops."""
    rows = [(0.0, 1.0, 0.0)]
    s, greenwood = 1.0, 0.0
    for t in sorted(set(time)):
        n = sum(1 for ti in time if ti >= t)
        d = sum(1 for ti, ei in zip(time, event, strict=True) if ti == t and ei == k)
        if d:
            s *= 1 - d / n
            greenwood += d / (n * (n - d)) if n > d else np.inf
        rows.append((float(t), s, s * s * greenwood))
    out = pd.DataFrame(rows, columns=["time", "estimate", "variance"])
    return out.drop_duplicates("time", keep="last").reset_index(drop=True)


def naive_aj(time, event, k):
    """Aalen–Johansen CIF of cause k and its Marubini–Valsecchi variance, by loops."""
    times = sorted(set(time))
    n_, d_, dk_, s_before, cif = [], [], [], [], []
    s, f = 1.0, 0.0
    for t in times:
        n = sum(1 for ti in time if ti >= t)
        d = sum(1 for ti, ei in zip(time, event, strict=True) if ti == t and ei != 0)
        dk = sum(1 for ti, ei in zip(time, event, strict=True) if ti == t and ei == k)
        s_before.append(s)
        f += s * dk / n
        s *= 1 - d / n
        n_.append(n)
        d_.append(d)
        dk_.append(dk)
        cif.append(f)
    variance = []
    for big_j in range(len(times)):
        v = 0.0
        for j in range(big_j + 1):
            n, d, dk, sb = n_[j], d_[j], dk_[j], s_before[j]
            gap = cif[big_j] - cif[j]
            if n > d:
                v += gap**2 * d / (n * (n - d))
            v += sb**2 * dk * (n - dk) / n**3
            v -= 2 * gap * sb * dk / n**2
        variance.append(v)
    out = pd.DataFrame({"time": [float(t) for t in times], "estimate": cif, "variance": variance})
    if 0.0 not in set(out["time"]):
        out = pd.concat(
            [pd.DataFrame({"time": [0.0], "estimate": [0.0], "variance": [0.0]}), out],
            ignore_index=True,
        )
    return out


def delta_method_variance(time, event, k, at):
    """Var F_k(at) by the delta method with a *numerical* Jacobian.

    Independent of the closed form: F_k is written as a function of the
    hazard increments (h_k,j, h_other,j) at each distinct time; their
    estimates are multinomial proportions with covariance (diag(p) − pp')/n_j,
    independent across times. Var = Σ_j g_j' Σ_j g_j with g_j the central
    finite-difference gradient.
    """
    time = np.asarray(time)
    event = np.asarray(event)
    times = np.unique(time)
    times = times[times <= at]
    n = np.array([(time >= t).sum() for t in times], float)
    hk = np.array([((time == t) & (event == k)).sum() for t in times]) / n
    ho = np.array([((time == t) & (event != k) & (event != 0)).sum() for t in times]) / n

    def cif(hk, ho):
        s, f = 1.0, 0.0
        for a, b in zip(hk, ho, strict=True):
            f += s * a
            s *= 1 - a - b
        return f

    total = 0.0
    eps = 1e-6
    for j in range(len(times)):
        grad = np.zeros(2)
        for m, h in enumerate((hk, ho)):
            up, down = h.copy(), h.copy()
            up[j] += eps
            down[j] -= eps
            args_up = (up, ho) if m == 0 else (hk, up)
            args_down = (down, ho) if m == 0 else (hk, down)
            grad[m] = (cif(*args_up) - cif(*args_down)) / (2 * eps)
        p = np.array([hk[j], ho[j]])
        cov = (np.diag(p) - np.outer(p, p)) / n[j]
        total += grad @ cov @ grad
    return total


def weighted_aj(time, event, k, weights, times):
    """Aalen–Johansen F_k at ``times`` with case weights, straight from the definition.

    The risk set and the event counts are sums of weights; at unit weights
    this is the ordinary estimate. Written independently of the package so
    that its derivative in one weight is the influence R's infinitesimal
    jackknife sums.
    """
    out = []
    s, f = 1.0, 0.0
    for t in times:
        n = weights[time >= t].sum()
        if n > 0:
            d_k = weights[(time == t) & (event == k)].sum()
            d = weights[(time == t) & (event != 0)].sum()
            f += s * d_k / n
            s *= 1 - d / n
        out.append(f)
    return np.array(out)


def numerical_ij_variance(time, event, k, times, eps=1e-6):
    """Σ_i (dF_k/dw_i)² with each derivative a central finite difference at w = 1."""
    time, event = np.asarray(time, float), np.asarray(event)
    ones = np.ones(len(time))
    total = np.zeros(len(times))
    for i in range(len(time)):
        up, down = ones.copy(), ones.copy()
        up[i] += eps
        down[i] -= eps
        diff = weighted_aj(time, event, k, up, times) - weighted_aj(time, event, k, down, times)
        total += (diff / (2 * eps)) ** 2
    return total


# --------------------------------------------------------------------------
# hand-worked tiny example
# --------------------------------------------------------------------------

# Six episodes (time, event): (2,1) (2,2) (3,0) (4,1) (4,1) (6,0).
#
# Distinct times, n at risk, events of type 1 / 2, censored:
#   t=2: n=6, d1=1, d2=1        h = 2/6, S(2) = 4/6 = 2/3
#   t=3: n=4, censored 1        S(3) = 2/3
#   t=4: n=3, d1=2              h = 2/3, S(4) = 2/3 · 1/3 = 2/9
#   t=6: n=1, censored 1
#
# Aalen–Johansen, cause 1: F1(2) = S(0)·1/6 = 1/6; F1(4) = 1/6 + S(3)·2/3
#   = 1/6 + 4/9 = 11/18.  Cause 2: F2 = 1/6 from t=2 on.
#
# Kaplan–Meier of cause 1 with cause 2 censored: t=2: n=6, d=1 → 5/6;
#   t=4: n=3, d=2 → 5/6 · 1/3 = 5/18 (so 1 − KM = 13/18 > 11/18: the naive
#   complement overstates the cumulative incidence).
#   Greenwood at t=4: Σ d/(n(n−d)) = 1/(6·5) + 2/(3·1) = 1/30 + 2/3 = 7/10,
#   Var = (5/18)² · 7/10.
#
# Variance of F1(4), Marubini–Valsecchi terms per distinct time j ≤ 4:
#   j=2: gap = F1(4) − F1(2) = 11/18 − 3/18 = 4/9, d=2, n=6, d1=1, S(before)=1:
#        gap²·d/(n(n−d)) = (16/81)·(2/24)   = 32/1944
#        S²·d1(n−d1)/n³  = 1·5/216          = 45/1944
#        −2·gap·S·d1/n²  = −2·(4/9)·(1/36)  = −48/1944      → 29/1944
#   j=3: no events                                           → 0
#   j=4: gap = 0, n=3, d1=2, S(before) = 2/3:
#        S²·d1(n−d1)/n³  = (4/9)·2·1/27 = 8/243 = 64/1944   → 64/1944
#   Var F1(4) = 93/1944 = 31/648.
#
# Infinitesimal jackknife of F1(4) = h1(2) + S(2)·h1(4), S(2) = 1 − h1(2) − h2(2):
#   ∂F1(4)/∂h1(2) = 1 − h1(4) = 1/3, ∂F1(4)/∂h2(2) = −h1(4) = −2/3,
#   ∂F1(4)/∂h1(4) = S(2) = 2/3; the influence of episode i on a hazard
#   h_k(t) = d_k/n is (dN_ik(t) − Y_i(t)·h_k(t))/n (Y_i = 1 while at risk).
#   (2,1): h1(2): (1 − 1/6)/6 = 5/36, h2(2): −1/36   → 5/108 + 2/108  =   7/108
#   (2,2): h1(2): −1/36, h2(2): (1 − 1/6)/6 = 5/36   → −1/108 − 10/108 = −11/108
#   (3,0): h1(2), h2(2): −1/36 each                  → −1/108 + 2/108  =   1/108
#   (4,1) ×2: 1/108 from t=2; h1(4): (1 − 2/3)/3 = 1/9 → + 2/3·1/9 = 8/108 → 9/108
#   (6,0): 1/108 from t=2; h1(4): (0 − 2/3)/3 = −2/9 → − 4/27 = −16/108 → −15/108
#   Σ U² = (49 + 121 + 1 + 81 + 81 + 225)/108² = 558/11664 = 31/648 (the same
#   number as the delta method, as it must be without case weights: see
#   docs/survival.md). At t=2: U = 5/36 for (2,1), −1/36 for the five others:
#   Σ U² = 30/1296 = 5/216 (the delta method's S²·d1(n−d1)/n³ = 5/216).
TINY = pd.DataFrame({"rtw_time": [2, 2, 3, 4, 4, 6], "rtw_event": [1, 2, 0, 1, 1, 0]})


def test_aalen_johansen_tiny_example_by_hand():
    cif = stats.cumulative_incidence(TINY, event=1)
    assert cif["time"].tolist() == [0, 2, 3, 4, 6]
    assert cif["at_risk"].tolist() == [6, 6, 4, 3, 1]
    assert cif["events"].tolist() == [0, 1, 0, 2, 0]
    assert cif["competing"].tolist() == [0, 1, 0, 0, 0]
    # censored = everyone leaving the risk set without the event of interest
    assert cif["censored"].tolist() == [0, 1, 1, 0, 1]
    np.testing.assert_allclose(cif["estimate"], [0, 1 / 6, 1 / 6, 11 / 18, 11 / 18], atol=1e-12)
    assert cif["std_error"].iloc[3] ** 2 == pytest.approx(31 / 648, rel=1e-12)
    cif2 = stats.cumulative_incidence(TINY, event=2)
    np.testing.assert_allclose(cif2["estimate"], [0, 1 / 6, 1 / 6, 1 / 6, 1 / 6], atol=1e-12)


@pytest.mark.parametrize("variance", ["ij", "delta"])
def test_aalen_johansen_variance_by_hand(variance):
    fitted = stats.CumulativeIncidence(event=1, variance=variance).fit(TINY)
    cif = fitted.curve_
    want = [0, 5 / 216, 5 / 216, 31 / 648, 31 / 648]
    np.testing.assert_allclose(cif["std_error"] ** 2, want, rtol=1e-12, atol=1e-15)
    assert fitted.variance == variance


def test_cumulative_incidence_log_interval_by_hand():
    # R's default for pstate: F·exp(∓z·se/F), the upper limit capped at 1.
    # t=2: F = 1/6, se = sqrt(5/216); t=4: F = 11/18, se = sqrt(31/648);
    # at t=4 F·exp(z·se/F) = 0.6111·exp(1.96·0.3579) ≈ 1.23, so capped.
    fitted = stats.CumulativeIncidence(event=1).fit(TINY)
    cif = fitted.curve_
    assert fitted.conf_type == "log"
    for row, f, var in [(1, 1 / 6, 5 / 216), (3, 11 / 18, 31 / 648)]:
        se = np.sqrt(var)
        assert cif["lower"].iloc[row] == pytest.approx(f * np.exp(-Z95 * se / f), rel=1e-10)
        assert cif["upper"].iloc[row] == pytest.approx(min(f * np.exp(Z95 * se / f), 1))
    assert cif["upper"].iloc[3] == 1.0
    # before the first event F = 0 and se = 0: no interval (R's survfit gives NA)
    assert np.isnan(cif["lower"].iloc[0]) and np.isnan(cif["upper"].iloc[0])
    # plain: F ± z·se, cut to [0, 1]
    plain = stats.cumulative_incidence(TINY, event=1, conf_type="plain")
    se = np.sqrt(5 / 216)
    assert plain["lower"].iloc[1] == pytest.approx(max(1 / 6 - Z95 * se, 0))
    assert plain["upper"].iloc[1] == pytest.approx(1 / 6 + Z95 * se)


def test_kaplan_meier_tiny_example_by_hand():
    km = stats.kaplan_meier(TINY, event=1)
    np.testing.assert_allclose(km["estimate"], [1, 5 / 6, 5 / 6, 5 / 18, 5 / 18], atol=1e-12)
    assert km["std_error"].iloc[3] ** 2 == pytest.approx((5 / 18) ** 2 * 0.7, rel=1e-12)
    # the event of type 2 is counted as competing (and so censored for KM)
    assert km["competing"].tolist() == [0, 1, 0, 0, 0]
    # R's default "log" interval by hand: S·exp(∓z·se(log S)), upper capped at 1.
    # t=2: S = 5/6, se(log S) = sqrt(1/(6·5)) = 0.18257:
    #      lower = (5/6)·exp(−1.95996·0.18257) = 0.83333·0.69919 = 0.58265,
    #      upper = (5/6)·exp(+0.35784) = 1.19 → 1.
    # t=4: S = 5/18, se(log S) = sqrt(7/10) = 0.83666:
    #      lower = (5/18)·exp(−1.63982) = 0.27778·0.19401 = 0.05389,
    #      upper = (5/18)·exp(+1.63981) = 1.43 → 1.
    assert stats.KaplanMeier().conf_type == "log"
    assert km["lower"].iloc[1] == pytest.approx(5 / 6 * np.exp(-Z95 * np.sqrt(1 / 30)), rel=1e-10)
    assert km["lower"].iloc[1] == pytest.approx(0.58265, abs=5e-6)
    assert km["lower"].iloc[3] == pytest.approx(5 / 18 * np.exp(-Z95 * np.sqrt(0.7)), rel=1e-10)
    assert km["lower"].iloc[3] == pytest.approx(0.05389, abs=5e-6)
    assert km["upper"].iloc[1:].tolist() == [1.0, 1.0, 1.0, 1.0]
    # before the first event S = 1 with se 0: the interval is the point
    assert (km["lower"].iloc[0], km["upper"].iloc[0]) == (1.0, 1.0)
    # exponential Greenwood ("log-log") interval by hand at t=4:
    # se(log(−log S)) = sqrt(0.7) / |log(5/18)|; bounds S^exp(±z·se)
    loglog = stats.kaplan_meier(TINY, event=1, conf_type="log-log")
    se = np.sqrt(0.7) / abs(np.log(5 / 18))
    assert loglog["lower"].iloc[3] == pytest.approx((5 / 18) ** np.exp(Z95 * se), rel=1e-10)
    assert loglog["upper"].iloc[3] == pytest.approx((5 / 18) ** np.exp(-Z95 * se), rel=1e-10)
    # plain: S ± z·S·se(log S), cut to [0, 1]
    plain = stats.kaplan_meier(TINY, event=1, conf_type="plain")
    half = Z95 * 5 / 18 * np.sqrt(0.7)
    assert plain["lower"].iloc[3] == pytest.approx(max(5 / 18 - half, 0))
    assert plain["upper"].iloc[3] == pytest.approx(5 / 18 + half)


def test_cumulative_incidence_at_reads_the_last_step_at_or_before_the_day():
    # day 3: F1 = 1/6, at risk after day 3 = 3 (the episodes with time 4, 4, 6),
    # events of type 1 up to day 3: 1. Day 5: F1 = 11/18, events 3, at risk 1.
    at3 = stats.cumulative_incidence_at(TINY, day=3)
    at5 = stats.cumulative_incidence_at(TINY, day=5)
    assert at3[["n", "at_risk", "events"]].iloc[0].tolist() == [6, 3, 1]
    assert at5[["n", "at_risk", "events"]].iloc[0].tolist() == [6, 1, 3]
    assert at3["estimate"].iloc[0] == pytest.approx(1 / 6)
    assert at5["estimate"].iloc[0] == pytest.approx(11 / 18)
    assert at5["std_error"].iloc[0] ** 2 == pytest.approx(31 / 648)
    assert at5["lower"].iloc[0] < 11 / 18 < at5["upper"].iloc[0]


# --------------------------------------------------------------------------
# against the naive references on random data with many ties
# --------------------------------------------------------------------------


@pytest.mark.parametrize("variance", ["ij", "delta"])
@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("event", [1, 2, 3])
def test_aalen_johansen_equals_naive_loops_with_ties(seed, event, variance):
    outcomes = make_outcomes(n=300, seed=seed, max_day=25)  # ~12 per day: heavy ties
    got = stats.cumulative_incidence(outcomes, event=event, variance=variance)
    want = naive_aj(outcomes["rtw_time"].tolist(), outcomes["rtw_event"].tolist(), event)
    np.testing.assert_allclose(got["time"], want["time"])
    np.testing.assert_allclose(got["estimate"], want["estimate"], atol=1e-12)
    np.testing.assert_allclose(got["std_error"] ** 2, want["variance"], atol=1e-12)


@pytest.mark.parametrize("seed", [4, 5])
def test_kaplan_meier_equals_naive_loops_with_ties(seed):
    outcomes = make_outcomes(n=300, seed=seed, max_day=25)
    got = stats.kaplan_meier(outcomes, event=1)
    want = naive_km(outcomes["rtw_time"].tolist(), outcomes["rtw_event"].tolist(), 1)
    np.testing.assert_allclose(got["time"], want["time"])
    np.testing.assert_allclose(got["estimate"], want["estimate"], atol=1e-12)
    np.testing.assert_allclose(got["std_error"] ** 2, want["variance"], atol=1e-12)
    # the at-risk bookkeeping: n at time t = number with time >= t
    time = outcomes["rtw_time"].to_numpy()
    assert got["at_risk"].tolist() == [int((time >= t).sum()) for t in got["time"]]
    assert got[["events", "censored"]].to_numpy().sum() == len(outcomes)
    n_next = got["at_risk"] - got["events"] - got["censored"]
    assert (n_next.iloc[:-1].to_numpy() == got["at_risk"].iloc[1:].to_numpy()).all()
    assert got["competing"].sum() == outcomes["rtw_event"].isin([2, 3]).sum()


@pytest.mark.parametrize("variance", ["ij", "delta"])
def test_aalen_johansen_variance_equals_numerical_delta_method(variance):
    outcomes = make_outcomes(n=200, seed=7, max_day=15)
    time, event = outcomes["rtw_time"].to_numpy(), outcomes["rtw_event"].to_numpy()
    got = stats.cumulative_incidence(outcomes, event=1, variance=variance)
    for day in (3, 9, 15):
        row = got[got["time"] <= day].iloc[-1]
        assert row["std_error"] ** 2 == pytest.approx(
            delta_method_variance(time, event, 1, day), rel=1e-6
        )


@pytest.mark.parametrize("seed", [31, 32])
@pytest.mark.parametrize("event", [1, 2, 3])
def test_ij_variance_equals_brute_force_influence_of_case_weights(seed, event):
    # R's standard error of pstate: sqrt(Σ_i (∂F/∂w_i)²) at unit case weights
    # (the check R survival's own tests/testci.R makes with perturbed
    # weights). Here each derivative is a central finite difference of an
    # independent weighted Aalen–Johansen (weighted_aj), at every distinct
    # day, on data with about a dozen episodes per day and all four codes.
    outcomes = make_outcomes(n=150, seed=seed, max_day=12)
    time, codes = outcomes["rtw_time"].to_numpy(), outcomes["rtw_event"].to_numpy()
    fitted = stats.CumulativeIncidence(event=event).fit(outcomes)
    got = fitted.curve_
    assert fitted.variance == "ij"
    want = numerical_ij_variance(time, codes, event, got["time"].to_numpy(float))
    np.testing.assert_allclose(
        weighted_aj(time, codes, event, np.ones(len(time)), got["time"].to_numpy(float)),
        got["estimate"],
        atol=1e-12,
    )
    np.testing.assert_allclose(got["std_error"] ** 2, want, rtol=1e-6, atol=1e-14)


def test_ij_standard_error_reproduces_r_survival_testci_by_hand():
    # R survival's tests/testci.R (therneau/survival; its testci.Rout.save
    # prints `aeq(fit$std^2, bfit$V)` TRUE) works the infinitesimal-jackknife
    # leverage of survfit(Surv(time, factor(status*event)) ~ 1) out by hand
    # for eight subjects. Its byhand() is transcribed here line by line
    # (R's 1-based rows → 0-based), columns = states (start, 1, 2).
    time = np.array([1, 2, 2, 3, 3, 3, 5, 6])
    state = np.array([0, 1, 0, 1, 0, 1, 0, 1]) * np.array([1, 1, 2, 2, 1, 2, 3, 2])
    p2 = np.array([6 / 7, 1 / 7, 0])
    u2 = np.tile([1 / 49, -1 / 49, 0], (8, 1))
    u2[0] = 0
    u2[1, :2] += [-1 / 7, 1 / 7]
    p3 = np.array([(6 / 7) * (3 / 5), 1 / 7, 12 / 35])
    h3 = np.array([[3 / 5, 0, 2 / 5], [0, 1, 0], [0, 1, 0]])
    u3 = u2 @ h3
    u3[3:8, 0] += p2[0] * 2 / 25
    u3[3:8, 2] -= p2[0] * 2 / 25
    u3[3] += [-p2[0] / 5, 0, p2[0] / 5]
    u3[5] = u3[3]
    p6 = np.array([0, 1 / 7, 6 / 7])
    u6 = np.column_stack([np.zeros(8), u3[:, 1], -u3[:, 1]])
    big_p = np.vstack([[1, 0, 0], p2, p3, p3, p6])  # times 1, 2, 3, 5, 6
    big_v = np.vstack([np.zeros(3), *(np.sum(u**2, axis=0) for u in (u2, u3, u3, u6))])
    outcomes = pd.DataFrame({"rtw_time": time, "rtw_event": state})
    for column, event in [(1, 1), (2, 2)]:
        cif = stats.cumulative_incidence(outcomes, event=event).set_index("time")
        assert cif.index.tolist() == [0, 1, 2, 3, 5, 6]
        np.testing.assert_allclose(cif["estimate"].loc[1:], big_p[:, column], atol=1e-12)
        np.testing.assert_allclose(cif["std_error"].loc[1:] ** 2, big_v[:, column], atol=1e-14)
    assert cif["at_risk"].loc[1:].tolist() == [8, 7, 5, 2, 1]  # aeq(fit$n.risk[,1], ...)


def test_ij_and_delta_variances_agree_on_a_large_cohort():
    # Both are closed forms expanded into cumulative sums; on 20 000 episodes
    # with distinct (continuous) times their agreement also checks that the
    # expansions lose no precision.
    rng = np.random.default_rng(40)
    n = 20_000
    outcomes = pd.DataFrame(
        {
            "rtw_time": rng.exponential(100, n),
            "rtw_event": rng.choice([0, 1, 2, 3], n, p=[0.35, 0.45, 0.12, 0.08]),
        }
    )
    ij = stats.cumulative_incidence(outcomes, variance="ij")["std_error"].to_numpy()
    delta = stats.cumulative_incidence(outcomes, variance="delta")["std_error"].to_numpy()
    np.testing.assert_allclose(ij, delta, rtol=1e-8, atol=1e-15)


def test_aalen_johansen_matches_lifelines_without_ties():
    # With distinct times lifelines' AalenJohansenFitter needs no jitter and is exact.
    rng = np.random.default_rng(11)
    time = rng.permutation(np.arange(1, 201)).astype(float)
    event = rng.choice([0, 1, 2, 3], 200, p=[0.3, 0.4, 0.2, 0.1])
    outcomes = pd.DataFrame({"rtw_time": time, "rtw_event": event})
    got = stats.cumulative_incidence(outcomes, event=1).set_index("time")["estimate"]
    ajf = AalenJohansenFitter(calculate_variance=False).fit(time, event, event_of_interest=1)
    want = ajf.cumulative_density_.iloc[:, 0]
    np.testing.assert_allclose(got.reindex(want.index).to_numpy(), want.to_numpy(), atol=1e-12)


@pytest.mark.parametrize("variance", ["ij", "delta"])
def test_single_cause_aalen_johansen_is_one_minus_kaplan_meier_with_greenwood(variance):
    outcomes = make_outcomes(n=400, seed=8, max_day=30)
    outcomes["rtw_event"] = outcomes["rtw_event"].where(outcomes["rtw_event"] <= 1, 0)
    km = stats.kaplan_meier(outcomes, event=1, conf_type="plain")
    cif = stats.cumulative_incidence(outcomes, event=1, conf_type="plain", variance=variance)
    np.testing.assert_allclose(cif["estimate"], 1 - km["estimate"], atol=1e-12)
    # variance: Greenwood (KM's std_error is Greenwood, checked by the naive
    # loops above); with one cause the IJ of 1 − KM is Greenwood's too
    np.testing.assert_allclose(cif["std_error"], km["std_error"], atol=1e-12)
    # the plain interval (symmetric) of KM, reflected
    np.testing.assert_allclose(cif["lower"], 1 - km["upper"], atol=1e-12)
    np.testing.assert_allclose(cif["upper"], 1 - km["lower"], atol=1e-12)


def test_kaplan_meier_interval_is_lifelines_exponential_greenwood():
    from lifelines import KaplanMeierFitter

    outcomes = make_outcomes(n=300, seed=9)
    km = stats.kaplan_meier(outcomes, alpha=0.1, conf_type="log-log")
    kmf = KaplanMeierFitter(alpha=0.1).fit(outcomes["rtw_time"], outcomes["rtw_event"] == 1)
    ci = kmf.confidence_interval_.reindex(km["time"].astype(float))
    np.testing.assert_allclose(km["lower"], ci.iloc[:, 0], atol=1e-10)
    np.testing.assert_allclose(km["upper"], ci.iloc[:, 1], atol=1e-10)


# R survival's own regression output for the AML data (Miller 1981; R's
# `aml`): therneau/survival, tests/doaml.Rout.save, `fit <- survfit(Surv(aml$time,
# aml$status) ~ aml$x)` with the defaults (Greenwood, conf.type = "log"),
# then `fit` and `summary(fit)`. "+" = censored.
AML = {
    "Maintained": "9 13 13+ 18 23 28+ 31 34 45+ 48 161+",
    "Nonmaintained": "5 5 8 8 12 16+ 23 27 30 33 43 45",
}
# time, n.risk, n.event, survival, std.err, lower 95% CI, upper 95% CI as printed
AML_SUMMARY = {
    "Maintained": [
        (9, 11, 1, "0.909", "0.0867", "0.7541", "1.000"),
        (13, 10, 1, "0.818", "0.1163", "0.6192", "1.000"),
        (18, 8, 1, "0.716", "0.1397", "0.4884", "1.000"),
        (23, 7, 1, "0.614", "0.1526", "0.3769", "0.999"),
        (31, 5, 1, "0.491", "0.1642", "0.2549", "0.946"),
        (34, 4, 1, "0.368", "0.1627", "0.1549", "0.875"),
        (48, 2, 1, "0.184", "0.1535", "0.0359", "0.944"),
    ],
    "Nonmaintained": [
        (5, 12, 2, "0.8333", "0.1076", "0.6470", "1.000"),
        (8, 10, 2, "0.6667", "0.1361", "0.4468", "0.995"),
        (12, 8, 1, "0.5833", "0.1423", "0.3616", "0.941"),
        (23, 6, 1, "0.4861", "0.1481", "0.2675", "0.883"),
        (27, 5, 1, "0.3889", "0.1470", "0.1854", "0.816"),
        (30, 4, 1, "0.2917", "0.1387", "0.1148", "0.741"),
        (33, 3, 1, "0.1944", "0.1219", "0.0569", "0.664"),
        (43, 2, 1, "0.0972", "0.0919", "0.0153", "0.620"),
        (45, 1, 1, "0.0000", "NaN", "NA", "NA"),
    ],
}


def aml_outcomes() -> pd.DataFrame:
    rows = [
        (group, int(value.rstrip("+")), 0 if value.endswith("+") else 1)
        for group, values in AML.items()
        for value in values.split()
    ]
    return pd.DataFrame(rows, columns=["x", "time", "status"])


def printed_equal(value: float, printed: str) -> bool:
    """``value`` shows as ``printed`` (within half a unit of its last decimal; NA/NaN = missing)."""
    if printed in ("NA", "NaN"):
        return bool(np.isnan(value))
    decimals = len(printed.split(".")[1])
    return abs(value - float(printed)) <= 0.5 * 10**-decimals + 1e-12


def test_kaplan_meier_reproduces_r_survfit_printout_for_aml():
    km = stats.kaplan_meier(aml_outcomes(), by="x", time_col="time", event_col="status")
    for group, printed in AML_SUMMARY.items():
        curve = km[km["group"] == group].set_index("time")
        for time, n_risk, n_event, surv, std_err, lower, upper in printed:
            row = curve.loc[time]
            assert (row["at_risk"], row["events"]) == (n_risk, n_event), (group, time)
            # summary.survfit prints std.err = S · se(log S): our std_error
            for column, text in [
                ("estimate", surv),
                ("std_error", std_err),
                ("lower", lower),
                ("upper", upper),
            ]:
                assert printed_equal(row[column], text), (group, time, column, row[column], text)
    # print(fit): median and its 0.95 limits, "NA" = not reached
    # Maintained 31 (18, NA), Nonmaintained 23 (8, NA)
    medians = stats.median_time(km).set_index("group")
    assert medians.loc["Maintained", ["median", "lower"]].tolist() == [31, 18]
    assert medians.loc["Nonmaintained", ["median", "lower"]].tolist() == [23, 8]
    assert medians["upper"].isna().all()


def test_confidence_interval_rules_of_r_survfit_confint():
    p = np.array([0.0, 0.0, 0.2, 0.9, 1.0, 1.0, 0.5])
    se = np.array([0.0, 0.1, 0.05, 0.1, 0.0, 0.1, np.nan])
    # log: p·exp(∓z·se/p), capped at 1; se = 0 → p; p = 0 → NA, whatever se is
    lower, upper = stats.confidence_interval(p, se, "log")
    assert np.isnan(lower[0]) and np.isnan(upper[0]) and lower[4] == upper[4] == 1.0
    assert np.isnan(lower[1]) and np.isnan(upper[1])
    assert lower[2] == pytest.approx(0.2 * np.exp(-Z95 * 0.25))
    assert upper[2] == pytest.approx(0.2 * np.exp(Z95 * 0.25))
    assert upper[3] == 1.0 and upper[5] == 1.0  # 0.9·exp(1.96/9) = 1.12 → 1
    assert np.isnan(lower[6]) and np.isnan(upper[6])
    # log-log: p^exp(±z·se/(p·|log p|)); p = 0 or 1 → NA, whatever se is
    lower, upper = stats.confidence_interval(p, se, "log-log")
    shift = Z95 * 0.05 / (0.2 * abs(np.log(0.2)))
    assert lower[2] == pytest.approx(0.2 ** np.exp(shift))
    assert upper[2] == pytest.approx(0.2 ** np.exp(-shift))
    assert np.isnan(lower[[0, 1, 4, 5]]).all() and np.isnan(upper[[0, 1, 4, 5]]).all()
    # plain: p ∓ z·se cut to [0, 1]
    lower, upper = stats.confidence_interval(p, se, "plain", alpha=0.1)
    z90 = scipy_stats.norm.ppf(0.95)
    assert lower[2] == pytest.approx(0.2 - z90 * 0.05) and upper[3] == 1.0
    assert lower[3] == pytest.approx(0.9 - z90 * 0.1)
    assert np.isnan(lower[6]) and np.isnan(upper[6])
    with pytest.raises(ValueError, match="conf_type"):
        stats.confidence_interval(p, se, "logit")


def test_confidence_interval_edges_match_r_survfit_confint_live(tmp_path):
    # R survival's own survfit_confint on every edge: p = 0 and 1 with se = 0 and
    # se > 0, interior p with se = 0, a missing se, and ordinary values.
    p = np.array([0.0, 0.0, 1.0, 1.0, 0.3, 0.2, 0.9, 0.5, 0.999, 1e-4])
    se = np.array([0.0, 0.1, 0.0, 0.1, 0.0, 0.05, 0.1, np.nan, 0.002, 1e-4])
    pd.DataFrame({"p": p, "se": se}).to_csv(tmp_path / "ci_input.csv", index=False)
    pd.DataFrame({"level": [0.9]}).to_csv(tmp_path / "ci_level.csv", index=False)
    run_r((PROJECT_ROOT / "tests" / "r" / "survfit_confint.R").read_text(), tmp_path)
    for conf_type in ("log", "log-log", "plain"):
        r = pd.read_csv(tmp_path / f"ci_{conf_type}.csv")
        lower, upper = stats.confidence_interval(p, se, conf_type, alpha=0.1)
        for ours, theirs in ((lower, r["lower"]), (upper, r["upper"])):
            theirs = theirs.to_numpy(dtype=float)
            assert (np.isnan(ours) == np.isnan(theirs)).all(), conf_type
            np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=0, equal_nan=True)


def test_unknown_conf_type_or_variance_is_an_error():
    with pytest.raises(ValueError, match="conf_type"):
        stats.kaplan_meier(TINY, conf_type="loglog")
    with pytest.raises(ValueError, match="conf_type"):
        stats.cumulative_incidence(TINY, conf_type="arcsin")
    with pytest.raises(ValueError, match="variance"):
        stats.cumulative_incidence_at(TINY, variance="greenwood")


def test_cif_standard_error_matches_monte_carlo_spread():
    # The (IJ) SE should describe the sampling spread of F1(20): over
    # 400 simulated cohorts the mean estimated SE is within 10 % of the
    # empirical SD of the estimates (a wrong variance formula, e.g. Greenwood
    # of 1 − KM, misses by far more).
    estimates, ses = [], []
    for seed in range(400):
        outcomes = make_outcomes(n=250, seed=1000 + seed, max_day=40)
        at = stats.cumulative_incidence_at(outcomes, day=20, event=1)
        estimates.append(at["estimate"].iloc[0])
        ses.append(at["std_error"].iloc[0])
    assert np.mean(ses) == pytest.approx(np.std(estimates, ddof=1), rel=0.10)


def test_interval_levels_and_bounds():
    outcomes = make_outcomes(n=500, seed=12)
    wide = stats.cumulative_incidence(outcomes, alpha=0.01)
    narrow = stats.cumulative_incidence(outcomes, alpha=0.2)
    inside = wide["estimate"].between(0, 1)
    assert inside.all()
    assert (wide["lower"] <= wide["estimate"] + 1e-15).all()
    assert (wide["upper"] >= wide["estimate"] - 1e-15).all()
    assert (wide["lower"] >= 0).all() and (wide["upper"] <= 1).all()
    late = wide["time"] > 5
    assert ((wide["upper"] - wide["lower"])[late] > (narrow["upper"] - narrow["lower"])[late]).all()


def test_grouped_curves_equal_the_curve_of_each_subset():
    outcomes = make_outcomes(n=400, seed=13)
    grouped = stats.cumulative_incidence(outcomes, by="diagnosis_group")
    # categorical order kept, the empty category "unknown" left out
    assert grouped["group"].drop_duplicates().tolist() == ["musculoskeletal", "mental", "other"]
    # kept as a Categorical so sorting group-bys downstream keep this order
    assert list(grouped["group"].cat.categories) == ["musculoskeletal", "mental", "other"]
    for value, rows in outcomes.groupby("diagnosis_group", observed=True):
        alone = stats.cumulative_incidence(rows).drop(columns="group").reset_index(drop=True)
        part = grouped[grouped["group"] == value].drop(columns="group").reset_index(drop=True)
        pd.testing.assert_frame_equal(part, alone)
    km = stats.kaplan_meier(outcomes, by="institution_id")
    assert km["group"].drop_duplicates().tolist() == ["I01", "I02", "I03"]
    at = stats.cumulative_incidence_at(outcomes, day=30, by="sex")
    assert at["n"].tolist() == outcomes["sex"].value_counts().loc[["Mann", "Kvinne"]].tolist()


def test_inputs_are_not_mutated_and_output_is_deterministic():
    outcomes = make_outcomes(n=200, seed=14)
    before = outcomes.copy()
    first = stats.cumulative_incidence(outcomes, by="sex")
    stats.kaplan_meier(outcomes, by="sex")
    stats.cox_rtw(outcomes)
    pd.testing.assert_frame_equal(outcomes, before)
    pd.testing.assert_frame_equal(first, stats.cumulative_incidence(outcomes, by="sex"))


def test_missing_time_is_an_error():
    outcomes = TINY.astype({"rtw_time": "Int64"})
    outcomes.loc[0, "rtw_time"] = pd.NA
    with pytest.raises(ValueError, match="missing"):
        stats.cumulative_incidence(outcomes)


# --------------------------------------------------------------------------
# Cox
# --------------------------------------------------------------------------

# Fox (2002), "Cox proportional-hazards regression for survival data",
# appendix to An R and S-PLUS Companion to Applied Regression: R coxph (Efron
# ties) on the Rossi recidivism data. The same coefficients and standard
# errors are the expected values of the Rossi test in JuliaStats/Survival.jl
# (test/runtests.jl: fin −0.379422 (0.191379), age −0.0574377 (0.0219995),
# race 0.3139 (0.307993), wexp −0.149796 (0.212224), mar −0.433704
# (0.381868), paro −0.0848711 (0.195757), prio 0.0914971 (0.0286485)).
ROSSI_COEF = {
    "fin": -0.379,
    "age": -0.057,
    "race": 0.314,
    "wexp": -0.150,
    "mar": -0.434,
    "paro": -0.085,
    "prio": 0.091,
}
ROSSI_SE = {
    "fin": 0.191,
    "age": 0.022,
    "race": 0.308,
    "wexp": 0.212,
    "mar": 0.382,
    "paro": 0.196,
    "prio": 0.029,
}


def test_cox_reproduces_the_published_rossi_model():
    rossi = load_rossi()
    model = stats.cox_rtw(rossi, covariates=list(ROSSI_COEF), time_col="week", event_col="arrest")
    summary = model.summary_.set_index("term")
    for term, coef in ROSSI_COEF.items():
        assert round(summary.loc[term, "coef"], 3) == pytest.approx(coef, abs=1e-9), term
        assert round(summary.loc[term, "std_error"], 3) == pytest.approx(ROSSI_SE[term]), term
    # hazard ratio interval = exp(coef ± 1.96 se)
    fin = summary.loc["fin"]
    assert fin["hazard_ratio"] == pytest.approx(np.exp(fin["coef"]))
    assert fin["lower"] == pytest.approx(np.exp(fin["coef"] - Z95 * fin["std_error"]))
    assert fin["upper"] == pytest.approx(np.exp(fin["coef"] + Z95 * fin["std_error"]))
    assert model.n_ == 432 and model.n_events_ == 114


def test_cox_is_cause_specific_competing_events_are_censored():
    outcomes = make_outcomes(n=500, seed=21)
    covariates = ["sex", "hrb_days_pre_12m"]
    competing_as_censored = outcomes.assign(
        rtw_event=outcomes["rtw_event"].where(outcomes["rtw_event"] == 1, 0)
    )
    a = stats.cox_rtw(outcomes, covariates=covariates).summary_
    b = stats.cox_rtw(competing_as_censored, covariates=covariates).summary_
    pd.testing.assert_frame_equal(a, b)
    # modelling the disability hazard instead gives other coefficients
    c = stats.cox_rtw(outcomes, covariates=covariates, event=2).summary_
    assert not np.allclose(a["coef"], c["coef"])


def test_cox_dummy_codes_categoricals_against_the_first_level():
    outcomes = make_outcomes(n=600, seed=22)
    model = stats.cox_rtw(outcomes)
    s = model.summary_
    assert s["term"].tolist() == [
        "age_group[30–39]",
        "age_group[40–49]",
        "age_group[50–59]",
        "age_group[60+]",
        "sex[Kvinne]",
        "diagnosis_group[mental]",
        "diagnosis_group[other]",
        "hrb_days_pre_12m",
        "rehab_mode[Dag]",
        "rehab_mode[Poliklinisk]",
        "institution_id[I02]",
        "institution_id[I03]",
    ]
    assert set(s.loc[s["variable"] == "sex", "reference"]) == {"Mann"}
    assert (s["lower"] < s["hazard_ratio"]).all() and (s["hazard_ratio"] < s["upper"]).all()
    # a single binary covariate: the Cox HR of sex equals a fit on a 0/1 column
    alone = stats.cox_rtw(outcomes, covariates=["sex"]).summary_
    as_number = outcomes.assign(female=(outcomes["sex"] == "Kvinne").astype(int))
    numeric = stats.cox_rtw(as_number, covariates=["female"]).summary_
    assert alone["coef"].iloc[0] == pytest.approx(numeric["coef"].iloc[0], rel=1e-8)


def test_cox_hazard_ratio_per_units():
    # a per-30-days coefficient is 30 times the per-day coefficient (same fit)
    outcomes = make_outcomes(n=500, seed=24)
    per_day = stats.cox_rtw(outcomes, covariates=["hrb_days_pre_12m"], per={}).summary_.iloc[0]
    per_30 = stats.cox_rtw(outcomes, covariates=["hrb_days_pre_12m"]).summary_.iloc[0]
    assert per_day["per"] == 1 and per_30["per"] == 30
    assert per_30["coef"] == pytest.approx(30 * per_day["coef"], rel=1e-6)
    assert per_30["p"] == pytest.approx(per_day["p"], rel=1e-6)


def test_cox_strata_and_missing_covariates():
    outcomes = make_outcomes(n=400, seed=23)
    outcomes.loc[:9, "sex"] = np.nan
    model = stats.cox_rtw(outcomes, covariates=["sex", "age_group"], strata=["institution_id"])
    assert model.dropped_missing_ == 10 and model.n_ == 390
    assert "institution_id" not in " ".join(model.summary_["term"])


def test_proportional_hazards_test_flags_a_time_varying_effect():
    # x1 has a constant hazard ratio; x2 doubles the hazard before t = 1 and
    # halves it afterwards (a crossing effect). The cox.zph test should
    # reject PH for x2 only.
    rng = np.random.default_rng(5)
    n = 1500
    x1 = rng.integers(0, 2, n)
    x2 = rng.integers(0, 2, n)
    rate = np.exp(0.5 * x1)
    early = rng.exponential(1 / (rate * np.where(x2 == 1, 3.0, 1.0)))
    late = 1 + rng.exponential(1 / (rate * np.where(x2 == 1, 1 / 3, 1.0)))
    t = np.where(early < 1, early, late)
    censor = rng.uniform(0, 4, n)
    data = pd.DataFrame(
        {
            "rtw_time": np.minimum(t, censor),
            "rtw_event": (t <= censor).astype(int),
            "x1": x1,
            "x2": x2,
        }
    )
    model = stats.cox_rtw(data, covariates=["x1", "x2"])
    ph = pd.concat([model.ph_test_, model.ph_test("rank")])
    assert set(ph["transform"]) == {"rank", "km"}
    assert (ph.loc[ph["term"] == "x2", "p"] < 1e-4).all()
    assert (ph.loc[ph["term"] == "x1", "p"] > 0.01).all()


def test_age_group_bins():
    ages = pd.Series([18, 29, 30, 39, 40, 49, 50, 59, 60, 67, None], dtype="Int64")
    groups = domain.age_group(ages)
    assert groups.tolist()[:10] == [
        "<30", "<30", "30–39", "30–39", "40–49", "40–49", "50–59", "50–59", "60+", "60+",
    ]  # fmt: skip
    assert pd.isna(groups.iloc[10])
    assert list(groups.cat.categories) == ["<30", "30–39", "40–49", "50–59", "60+"]
    assert domain.age_group(pd.Series([24, 25]), edges=(25,)).tolist() == ["<25", "25+"]


# --------------------------------------------------------------------------
# state occupation
# --------------------------------------------------------------------------


def make_daily_states(n: int = 60, days: int = 30, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        last = rng.integers(days // 2, days + 5)  # some are censored before the end
        for day in range(days + 1):
            state = None if day > last else rng.choice(DEFAULT_STATE_ORDER)
            rows.append((f"E{i:05d}", day, state))
    frame = pd.DataFrame(rows, columns=["episode_id", "day", "state"])
    frame["day"] = frame["day"].astype("int16")
    frame["state"] = pd.Categorical(frame["state"], categories=list(DEFAULT_STATE_ORDER))
    return frame


def test_state_occupation_hand_count():
    # day 0: a aap, b working, c censored      → 2 observed: aap 1/2, working 1/2
    # day 1: a working, b working, c working   → 3 observed: working 3/3
    # day 2: a censored, b dead, c censored    → 1 observed: dead 1/1
    states = ["aap", "working", None, "working", "working", "working", None, "dead", None]
    daily = pd.DataFrame(
        {
            "episode_id": ["a", "b", "c"] * 3,
            "day": [0, 0, 0, 1, 1, 1, 2, 2, 2],
            "state": pd.Categorical(states, categories=list(DEFAULT_STATE_ORDER)),
        }
    )
    occ = stats.state_occupation(daily).set_index(["day", "state"])
    assert occ.loc[(0, "aap"), "n"] == 1 and occ.loc[(0, "aap"), "share"] == 0.5
    assert occ.loc[(0, "working"), "share"] == 0.5
    assert occ.loc[(1, "working"), "share"] == 1.0
    assert occ.loc[(2, "dead"), "share"] == 1.0
    assert occ.xs(0, level="day")["n_observed"].unique().tolist() == [2]
    assert occ.xs(1, level="day")["n_observed"].unique().tolist() == [3]
    assert occ.xs(2, level="day")["n_observed"].unique().tolist() == [1]
    # every state appears every day, in priority order
    assert len(occ) == 3 * len(DEFAULT_STATE_ORDER)
    assert occ.xs(0, level="day").index.tolist() == list(DEFAULT_STATE_ORDER)


def test_state_occupation_shares_sum_to_one_and_match_counts_by_group():
    daily = make_daily_states()
    outcomes = pd.DataFrame(
        {
            "episode_id": daily["episode_id"].unique(),
            "sex": ["Mann", "Kvinne"] * 30,
        }
    )
    occ = stats.state_occupation(daily, outcomes=outcomes, by="sex", last_day=25)
    assert occ["day"].max() == 25
    sums = occ.groupby(["group", "day"], observed=True)["share"].sum()
    np.testing.assert_allclose(sums, 1.0)
    # counts against a direct count of the frame
    merged = daily.merge(outcomes, on="episode_id")
    for (sex, day, state), row in occ.set_index(["group", "day", "state"]).iterrows():
        here = merged[(merged["sex"] == sex) & (merged["day"] == day)]
        assert row["n"] == (here["state"] == state).sum()
        assert row["n_observed"] == here["state"].notna().sum()


# --------------------------------------------------------------------------
# work ability
# --------------------------------------------------------------------------


def make_responses(n: int = 80, seed: int = 4, missing: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        base = rng.normal(4, 2)
        for k, point in enumerate(["T0", "T1", "T2", "T3"]):
            if missing and k > 0 and rng.random() < 0.25:
                continue
            value = float(np.clip(np.round(base + 0.6 * k + rng.normal(0, 1.2)), 0, 10))
            rows.append((f"E{i:05d}", point, value))
    frame = pd.DataFrame(rows, columns=["episode_id", "point", "work_ability"])
    frame["point"] = pd.Categorical(
        frame["point"], categories=["T0", "T1", "T2", "T3"], ordered=True
    )
    return frame


def test_work_ability_change_hand_computed():
    # pairs T0 → T3: a 2 → 5 (+3), b 4 → 5 (+1), c 6 → 8 (+2); d has no T3,
    # e has a missing T0. Mean change 2, sd 1, t(0.975, 2) = 4.302653,
    # interval 2 ± 4.302653 · 1/√3 = 2 ± 2.484138.
    responses = pd.DataFrame(
        {
            "episode_id": ["a", "b", "c", "d", "e", "a", "b", "c", "e"],
            "point": ["T0", "T0", "T0", "T0", "T0", "T3", "T3", "T3", "T3"],
            "work_ability": [2, 4, 6, 3, np.nan, 5, 5, 8, 7],
        }
    )
    row = stats.work_ability_change(responses).iloc[0]
    assert row["n"] == 3
    assert row["mean_change"] == pytest.approx(2.0)
    assert row["sd"] == pytest.approx(1.0)
    assert row["mean_from"] == pytest.approx(4.0) and row["mean_to"] == pytest.approx(6.0)
    assert row["lower"] == pytest.approx(2 - 2.484138, abs=1e-6)
    assert row["upper"] == pytest.approx(2 + 2.484138, abs=1e-6)


def test_work_ability_change_matches_scipy_ttest_rel_by_group():
    responses = make_responses()
    episodes = pd.DataFrame(
        {"episode_id": responses["episode_id"].unique(), "institution_id": ["I01", "I02"] * 40}
    )
    change = stats.work_ability_change(
        responses, "T1", "T3", by="institution_id", episodes=episodes, alpha=0.1
    )
    assert change["group"].tolist() == ["I01", "I02"]
    wide = responses.pivot(index="episode_id", columns="point", values="work_ability")
    wide = wide.join(episodes.set_index("episode_id"))
    for _, row in change.iterrows():
        pairs = wide[wide["institution_id"] == row["group"]][["T1", "T3"]].dropna()
        result = scipy_stats.ttest_rel(pairs["T3"], pairs["T1"])
        ci = result.confidence_interval(confidence_level=0.9)
        assert row["n"] == len(pairs)
        assert row["mean_change"] == pytest.approx((pairs["T3"] - pairs["T1"]).mean())
        assert row["lower"] == pytest.approx(ci.low)
        assert row["upper"] == pytest.approx(ci.high)


def test_work_ability_by_point():
    responses = make_responses(n=40, seed=6)
    table = stats.work_ability_by_point(responses)
    assert table["point"].tolist() == ["T0", "T1", "T2", "T3"]
    t3 = responses.loc[responses["point"] == "T3", "work_ability"]
    row = table[table["point"] == "T3"].iloc[0]
    assert row["n"] == len(t3) and row["mean"] == pytest.approx(t3.mean())
    half = scipy_stats.t.ppf(0.975, len(t3) - 1) * t3.std(ddof=1) / np.sqrt(len(t3))
    assert row["upper"] - row["mean"] == pytest.approx(half)


def test_mixed_model_on_balanced_data_equals_the_anova_solution():
    # With every episode answering every point, the REML fit of the random-
    # intercept model has the closed form of the two-way (episode × point)
    # ANOVA: point effects = differences of point means, and
    # SE(point effect) = sqrt(2 · MS_residual / n_episodes).
    responses = make_responses(n=50, seed=9, missing=False)
    table = stats.work_ability_mixed_model(responses).set_index("term")
    wide = responses.pivot(index="episode_id", columns="point", values="work_ability")
    means = wide.mean()
    n, k = wide.shape
    residual = wide.sub(wide.mean(axis=1), axis=0).sub(means, axis=1) + wide.to_numpy().mean()
    ms_residual = (residual.to_numpy() ** 2).sum() / ((n - 1) * (k - 1))
    for point in ["T1", "T2", "T3"]:
        assert table.loc[f"point[{point}]", "estimate"] == pytest.approx(
            means[point] - means["T0"], abs=1e-6
        )
        assert table.loc[f"point[{point}]", "std_error"] == pytest.approx(
            np.sqrt(2 * ms_residual / n), rel=1e-4
        )
    assert table.loc["Intercept", "estimate"] == pytest.approx(means["T0"], abs=1e-6)
    assert table.loc["var(residual)", "estimate"] == pytest.approx(ms_residual, rel=1e-4)


def test_mixed_model_with_covariate_and_unbalanced_data():
    responses = make_responses(n=60, seed=10)
    episodes = pd.DataFrame(
        {"episode_id": responses["episode_id"].unique(), "sex": ["Mann", "Kvinne", "Kvinne"] * 20}
    )
    table = stats.work_ability_mixed_model(responses, episodes, covariates=["sex"])
    assert table["term"].tolist() == [
        "Intercept",
        "point[T1]",
        "point[T2]",
        "point[T3]",
        "sex[Mann]",
        "var(episode)",
        "var(residual)",
    ]
    # the data were simulated with +0.6 per point: T3 ≈ +1.8
    t3 = table.set_index("term").loc["point[T3]"]
    assert t3["lower"] < 1.8 < t3["upper"]


def test_median_midpoint_of_a_flat_at_one_half():
    # Four events on days 1, 2, 3, 4: S = 3/4 (day 1), 1/2 (day 2), 1/4 (day 3), 0.
    # S is exactly 1/2 on [2, 3), so R's quantile.survfit takes the midpoint: 2.5.
    # (The rule "first time S <= 0.5" would give 2.)
    four = pd.DataFrame({"rtw_time": [1, 2, 3, 4], "rtw_event": [1, 1, 1, 1]})
    assert stats.median_time(stats.kaplan_meier(four))["median"].iloc[0] == 2.5


def test_median_flat_at_one_half_to_the_end_of_the_curve():
    # Events on days 1 and 2, censored on days 3 and 4: S = 3/4, then 1/2 from day 2
    # to the end. R: midpoint of the time the flat starts (2) and the last time (4) = 3.
    d = pd.DataFrame({"rtw_time": [1, 2, 3, 4], "rtw_event": [1, 1, 0, 0]})
    assert stats.median_time(stats.kaplan_meier(d))["median"].iloc[0] == 3.0


def test_median_without_a_flat_is_the_first_time_below_one_half():
    # Events on days 1, 2, 3 of five: S = 4/5, 3/5, 2/5: crosses 1/2 in the jump at day 3.
    d = pd.DataFrame({"rtw_time": [1, 2, 3, 9, 9], "rtw_event": [1, 1, 1, 0, 0]})
    assert stats.median_time(stats.kaplan_meier(d))["median"].iloc[0] == 3.0
