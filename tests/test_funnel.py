"""Funnel limits and observed / expected of binary outcomes: by hand, against R, by simulation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as st
from test_indicators import CONFIG, _casemix_outcomes

from arr_stats.indicators.casemix import casemix
from arr_stats.stats.funnel import (
    INTERPOLATION_SPIEGELHALTER,
    METHOD_ADJUSTED,
    METHOD_EXACT,
    adjusted_funnel_limits,
    count_limits,
    funnel_limits,
    overdispersion,
    proportion_funnel_limits,
)
from arr_stats.stats.observed_expected import (
    oe_control_limits,
    oe_funnel_limits,
    oe_interval,
    poisson_binomial_pmf,
)
from tools import PROJECT_ROOT, run_r

# --- by hand --------------------------------------------------------------------------------


def test_exact_binomial_limits_by_hand():
    # Binomial(20, 1/2): 2^20 = 1048576; C(20,14) = 38760; F(6) = P(Y ≤ 6) =
    # (1 + 20 + 190 + 1140 + 4845 + 15504 + 38760) / 2^20 = 60460 / 1048576 = 0.05765915.
    # 95 % lower: r = 6 (F(5) = 21700/2^20 = 0.0206947 < 0.025 ≤ F(6)),
    # α = (0.05765915 − 0.025) / (38760/2^20) = 0.8835294 → (6 − 0.8835294)/20 = 0.2558235.
    # Upper from its own tail: by symmetry 1 − 0.2558235 = 0.7441765. The paper's upper:
    # r = 14 (F(14) = 1 − 21700/2^20 = 0.9793053), α = (0.9793053 − 0.975)/0.0369644
    # = 0.1164706 → (14 − 0.1164706)/20 = 0.6941765.
    f = funnel_limits(0.5, [20], levels=(0.95,)).iloc[0]
    assert [f["lower"], f["upper"]] == pytest.approx([0.2558235, 0.7441765], abs=1e-7)
    paper = funnel_limits(0.5, [20], (0.95,), INTERPOLATION_SPIEGELHALTER).iloc[0]
    assert [paper["lower"], paper["upper"]] == pytest.approx([0.2558235, 0.6941765], abs=1e-7)
    # θ = 0.2, n = 10: F(0) = 0.8^10 = 0.1073742 ≥ 0.025, so r = 0 and the lower limit
    # (0 − α)/10 is below 0: it is 0
    assert funnel_limits(0.2, [10], levels=(0.95,))["lower"].iloc[0] == 0.0


def _alarm_rate(theta: float, n: int, level: float, interpolation: str = "tail") -> float:
    """P(a unit with true value θ is outside the limits), from the binomial pmf."""
    f = funnel_limits(theta, [n], (level,), interpolation).iloc[0]
    k = np.arange(n + 1)
    pmf = st.binom.pmf(k, n, theta)
    return float(pmf[(k / n < f["lower"]) | (k / n > f["upper"])].sum())


@pytest.mark.parametrize("theta", [0.3, 0.5, 0.75, 0.9, 0.92, 0.95])
@pytest.mark.parametrize("n", [10, 14, 20, 35, 60, 150])
def test_exact_limits_never_alarm_more_than_their_level(theta, n):
    # The point of exact limits (issue 11: the normal approximation alarms far too often
    # at p 0.9–0.95, n 10): an in-control unit is outside with at most the nominal rate.
    for level in (0.95, 0.998):
        assert _alarm_rate(theta, n, level) <= (1 - level) + 1e-12


def test_the_papers_upper_limit_alarms_too_often_at_high_proportions():
    # Why the upper limit is interpolated from its own tail: the paper's (r − α)/n puts
    # the 99.8 % limit at 0.99977 for θ 0.92, n 10, so 10 of 10 (probability 0.92^10 =
    # 0.434) is "above"; so is the normal approximation's alarm rate at least twice 0.2 %.
    assert _alarm_rate(0.92, 10, 0.998, INTERPOLATION_SPIEGELHALTER) == pytest.approx(
        0.92**10 + st.binom.cdf(5, 10, 0.92), abs=1e-12
    )
    assert _alarm_rate(0.92, 10, 0.998) < 0.002
    sd = math.sqrt(0.92 * 0.08 / 10)
    normal_lower = 0.92 - st.norm.ppf(0.999) * sd  # 0.655: 6 of 10 is below it
    assert st.binom.cdf(math.ceil(normal_lower * 10) - 1, 10, 0.92) > 2 * 0.002


def test_count_limits_bracket_the_tails():
    pmf = st.binom.pmf(np.arange(41), 40, 0.3)
    lower, upper = count_limits(pmf, 0.95)
    cdf = np.cumsum(pmf)
    # below the lower limit: P(Y ≤ y) < 2.5 %; above the upper: P(Y ≥ y) < 2.5 %
    assert cdf[math.ceil(lower) - 1] < 0.025 <= cdf[math.ceil(lower)]
    assert 1 - cdf[math.floor(upper)] < 0.025 <= 1 - cdf[math.floor(upper) - 1]


def test_overdispersion_without_spread_and_with_it():
    # Every unit exactly at the target: z = 0, φ = 0, no overdispersion, exact limits.
    none = overdispersion([30, 60, 90], [60, 120, 180], 0.5)
    assert (none.phi, none.tau2, none.present) == (0.0, 0.0, False)
    limits = proportion_funnel_limits(0.5, [20], none)
    assert set(limits["method"]) == {METHOD_EXACT}
    assert limits["upper"].tolist() == funnel_limits(0.5, [20])["upper"].tolist()
    # Ten units of 100 at 0.2, 0.8, 0.2, 0.8 …: z = ±(asin √0.8 − π/4)·20 = ±12.87 each,
    # winsorising changes nothing, φ = 12.87² = 165.6; χ²₁₀ at 1656 rejects.
    z = (math.asin(math.sqrt(0.8)) - math.pi / 4) * 20
    spread = overdispersion([20, 80] * 5, [100] * 10, 0.5)
    assert spread.phi == pytest.approx(z**2, rel=1e-12)
    assert spread.statistic == pytest.approx(10 * z**2, rel=1e-12)
    # τ² = (kφ − (k − 1)) / (Σw − Σw²/Σw), w = 4n = 400: Σw = 4000, Σw²/Σw = 400
    assert spread.tau2 == pytest.approx((10 * z**2 - 9) / 3600, rel=1e-12)
    assert spread.present
    limits = proportion_funnel_limits(0.5, [100], spread, levels=(0.95,))
    assert limits["method"].tolist() == [METHOD_ADJUSTED]
    half = st.norm.ppf(0.975) * math.sqrt(1 / 400 + spread.tau2)
    assert limits["upper"].iloc[0] == pytest.approx(math.sin(math.pi / 4 + half) ** 2)


def test_poisson_binomial_by_hand_and_against_the_binomial():
    # p = (0.2, 0.5): P(0) = 0.8·0.5, P(1) = 0.2·0.5 + 0.8·0.5, P(2) = 0.2·0.5
    assert poisson_binomial_pmf([0.2, 0.5]) == pytest.approx([0.4, 0.5, 0.1], abs=1e-15)
    # equal probabilities: the binomial
    assert poisson_binomial_pmf([0.3] * 25) == pytest.approx(
        st.binom.pmf(np.arange(26), 25, 0.3), abs=1e-14
    )
    # mean Σp and variance Σp(1 − p)
    p = np.random.default_rng(3).uniform(0.05, 0.95, size=80)
    pmf = poisson_binomial_pmf(p)
    k = np.arange(81)
    assert pmf.sum() == pytest.approx(1.0, abs=1e-12)
    assert (k * pmf).sum() == pytest.approx(p.sum(), rel=1e-12)
    assert ((k - p.sum()) ** 2 * pmf).sum() == pytest.approx((p * (1 - p)).sum(), rel=1e-10)


def test_oe_interval_with_equal_probabilities_is_clopper_pearson():
    # All p = 0.5: the interval of O/E is the Clopper–Pearson interval of O/n over 0.5.
    # R: binom.test(7, 20)$conf.int = 0.1539092048 0.5921885345
    lower, upper = oe_interval(7, [0.5] * 20)
    assert [lower, upper] == pytest.approx([0.1539092048 / 0.5, 0.5921885345 / 0.5], abs=1e-8)
    # O = 0: lower 0, upper 1 − 0.025^(1/n) over p; O = n: upper n/E
    lower0, upper0 = oe_interval(0, [0.4] * 10)
    assert lower0 == 0.0
    assert upper0 == pytest.approx((1 - 0.025 ** (1 / 10)) / 0.4, abs=1e-9)
    assert oe_interval(10, [0.4] * 10)[1] == pytest.approx(10 / 4)


# --- against R ------------------------------------------------------------------------------


def test_funnel_limits_and_oe_match_r(tmp_path):
    target = 0.62
    units = pd.DataFrame(
        {
            "numerator": [10, 9, 31, 30, 70, 70, 141, 214],
            "denominator": [12, 25, 40, 60, 90, 130, 200, 310],
        }
    )
    grid = pd.DataFrame({"denominator": [1, 2, 3, 5, 10, 17, 50, 133, 400]})
    rng = np.random.default_rng(11)
    p = rng.uniform(0.05, 0.95, size=60)
    observed = 25
    pd.DataFrame({"target": [target], "observed": [observed]}).to_csv(
        tmp_path / "params.csv", index=False
    )
    units.to_csv(tmp_path / "units.csv", index=False)
    grid.to_csv(tmp_path / "grid.csv", index=False)
    pd.DataFrame({"p": p}).to_csv(tmp_path / "oe.csv", index=False, float_format="%.17g")
    run_r((PROJECT_ROOT / "tests" / "r" / "funnel.R").read_text(encoding="utf-8"), tmp_path)

    def by_row(limits: pd.DataFrame) -> pd.DataFrame:
        return limits.sort_values(["denominator", "level"], ignore_index=True)

    r_exact = pd.read_csv(tmp_path / "r_exact.csv")
    for interpolation, r_limits in r_exact.groupby("interpolation", sort=False):
        r_limits = by_row(r_limits)
        ours = by_row(funnel_limits(target, grid["denominator"], interpolation=interpolation))
        assert ours["lower"].to_numpy() == pytest.approx(r_limits["lower"].to_numpy(), abs=1e-6)
        assert ours["upper"].to_numpy() == pytest.approx(r_limits["upper"].to_numpy(), abs=1e-6)

    od = overdispersion(units["numerator"], units["denominator"], target)
    r_od = pd.read_csv(tmp_path / "r_dispersion.csv").iloc[0]
    assert od.k == r_od["k"]
    for name in ("phi", "statistic", "p_value", "tau2"):
        assert getattr(od, name) == pytest.approx(r_od[name], rel=1e-6, abs=1e-12), name
    assert od.tau2 > 0  # the adjusted limits below are really adjusted
    r_adjusted = by_row(pd.read_csv(tmp_path / "r_adjusted.csv"))
    ours = by_row(adjusted_funnel_limits(target, grid["denominator"], od.tau2))
    assert ours["lower"].to_numpy() == pytest.approx(r_adjusted["lower"].to_numpy(), abs=1e-6)
    assert ours["upper"].to_numpy() == pytest.approx(r_adjusted["upper"].to_numpy(), abs=1e-6)

    r_pmf = pd.read_csv(tmp_path / "r_pmf.csv")
    assert poisson_binomial_pmf(p) == pytest.approx(r_pmf["pmf"].to_numpy(), abs=1e-12)
    r_oe = pd.read_csv(tmp_path / "r_oe_limits.csv")
    ours = oe_control_limits(p)
    assert ours["lower"].to_numpy() == pytest.approx(r_oe["lower"].to_numpy(), abs=1e-6)
    assert ours["upper"].to_numpy() == pytest.approx(r_oe["upper"].to_numpy(), abs=1e-6)
    r_interval = pd.read_csv(tmp_path / "r_oe_interval.csv").iloc[0]
    assert oe_interval(observed, p) == pytest.approx(
        (r_interval["lower"], r_interval["upper"]), abs=1e-6
    )


# --- O/E funnel: the false-alarm rate of an in-control unit ----------------------------------


def _poisson_limits(expected: float) -> tuple[float, float]:
    """The O/E limits the package drew before issue 11: O Poisson, 1 ± z/√E."""
    z = st.norm.ppf(0.975)
    return (1 - z / math.sqrt(expected), 1 + z / math.sqrt(expected))


def test_in_control_unit_is_outside_the_95_percent_oe_limits_about_5_percent_of_the_time():
    # Fit the national model, then simulate each unit's outcomes from the fitted p̂
    # (in control by construction) and count how often its O/E is outside its 95 %
    # limits: the unit's own limits, and the drawn funnel line at its E.
    result = casemix(_casemix_outcomes(), CONFIG, 2025, disclose=False)
    units = result.institutions.set_index("orgnr")
    episodes = result.episodes
    rng = np.random.default_rng(20261202)
    replicates = 4000
    sizes = {int(units.loc[o, "n"]) + d for o in ["A", "B", "C"] for d in (-6, -3, 0, 3, 6)}
    line = oe_funnel_limits(episodes["expected"], sizes, levels=(0.95,))
    for orgnr in ["A", "B", "C"]:  # D has 3 episodes: too few to report
        p = episodes.loc[episodes["orgnr"] == orgnr, "expected"].to_numpy()
        e = p.sum()
        ratio = (rng.random((replicates, len(p))) < p).sum(axis=1) / e
        own = units.loc[orgnr]
        outside = np.mean((ratio < own["limit95_lower"]) | (ratio > own["limit95_upper"]))
        assert 0.03 <= outside <= 0.07, (orgnr, outside)
        drawn_lower = np.interp(e, line["expected"], line["lower"])
        drawn_upper = np.interp(e, line["expected"], line["upper"])
        outside_drawn = np.mean((ratio < drawn_lower) | (ratio > drawn_upper))
        assert 0.03 <= outside_drawn <= 0.07, (orgnr, outside_drawn)
        # the same test fails the Poisson limits: far too wide for a binary outcome
        low, high = _poisson_limits(e)
        assert np.mean((ratio < low) | (ratio > high)) < 0.03
        # and the variance of O is Σ p(1 − p), not E
        assert own["variance"] == pytest.approx((p * (1 - p)).sum())
        assert np.var(ratio * e) == pytest.approx(own["variance"], rel=0.1)


# --- the report's funnel figure says which limits it draws ----------------------------------


def _agg(numerators: list[int], denominators: list[int]) -> pd.DataFrame:
    from arr_stats import indicators

    rows = [
        {
            "year": 2025,
            "ind_id": "arr_rtw12",
            "unit": indicators.UNIT_INSTITUTION,
            "orgnr": f"9{i:08d}",
            "suppressed": False,
            "numerator": r,
            "denominator": n,
            "value": r / n,
        }
        for i, (r, n) in enumerate(zip(numerators, denominators, strict=True))
    ]
    total_r, total_n = sum(numerators), sum(denominators)
    rows.append(
        {
            "year": 2025,
            "ind_id": "arr_rtw12",
            "unit": indicators.UNIT_NATIONAL,
            "orgnr": None,
            "suppressed": False,
            "numerator": total_r,
            "denominator": total_n,
            "value": total_r / total_n,
        }
    )
    return pd.DataFrame(rows)


@pytest.mark.parametrize(
    ("numerators", "adjusted"),
    [([20, 80, 20, 80, 20, 80], True), ([48, 52, 50, 49, 51, 50], False)],
)
def test_funnel_figure_draws_and_names_the_limits_it_uses(numerators, adjusted):
    from functools import partial
    from types import SimpleNamespace

    from arr_stats.report import figures
    from arr_stats.report.context import ReportContext

    agg = _agg(numerators, [100] * 6)
    # the parts of an edition's context the figure reads (the bokmål edition)
    ctx = SimpleNamespace(year=2025, institution=None, is_national=True, lang="nb")
    for method in ("t", "number", "percent"):
        setattr(ctx, method, partial(getattr(ReportContext, method), ctx))
    fig = figures.funnel_figure(agg, ctx)
    texts = " ".join(t.get_text() for t in fig.texts)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    dispersion = overdispersion(numerators, [100] * 6, 0.5)
    assert dispersion.present is adjusted
    expected = proportion_funnel_limits(0.5, [100], dispersion, levels=(0.95,))
    drawn = fig.axes[0].lines[0]  # the 95 % lower limit
    x, y = drawn.get_data()
    assert np.interp(100, x, y) == pytest.approx(expected["lower"].iloc[0], abs=1e-9)
    if adjusted:
        assert "justert for overspredning" in texts and "p < 0,001" in texts
        assert "95 % grense (justert for overspredning)" in legend
    else:
        assert "eksakte binomiske" in texts and "ingen påvist overspredning" in texts
        assert "95 % grense (eksakt binomisk)" in legend
    assert "φ = " in texts and "k = 6" in texts
