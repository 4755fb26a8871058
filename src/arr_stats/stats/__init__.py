"""Statistics on the derived tables: tidy estimates with R ``survival``'s conventions.

- :mod:`~arr_stats.stats.curves` – the tidy curve shape, risk sets, intervals, reading a curve
- :mod:`~arr_stats.stats.kaplan_meier` – Kaplan–Meier
- :mod:`~arr_stats.stats.competing_risks` – Aalen–Johansen cumulative incidence
- :mod:`~arr_stats.stats.cox` – the cause-specific Cox model
- :mod:`~arr_stats.stats.cox_zph` – the proportional-hazards test of R's ``cox.zph``
- :mod:`~arr_stats.stats.clustering` – variances grouped by person, and the footnote saying so
- :mod:`~arr_stats.stats.state_occupation` – daily state shares
- :mod:`~arr_stats.stats.work_ability` – work ability at T0–T3, paired change, mixed model
- :mod:`~arr_stats.stats.intervals` – Wilson and t intervals
- :mod:`~arr_stats.stats.funnel` – funnel-plot limits of a proportion: exact binomial, overdispersion
- :mod:`~arr_stats.stats.observed_expected` – observed / expected of a binary outcome (Poisson-binomial)

The estimators, variances and intervals are written up in ``docs/survival.md``.
"""

from arr_stats.stats.clustering import indicator_interval_note, interval_note
from arr_stats.stats.competing_risks import (
    CumulativeIncidence,
    aalen_johansen,
    cumulative_incidence,
    cumulative_incidence_at,
    naive_cumulative_incidence,
)
from arr_stats.stats.cox import CauseSpecificCox, cox_rtw
from arr_stats.stats.cox_zph import cox_zph
from arr_stats.stats.curves import CURVE_COLUMNS, confidence_interval, median_time, value_at
from arr_stats.stats.funnel import (
    Overdispersion,
    adjusted_funnel_limits,
    funnel_limits,
    overdispersion,
    proportion_funnel_limits,
)
from arr_stats.stats.intervals import (
    grouped_wilson_interval,
    t_interval,
    t_summary,
    wilson_interval,
)
from arr_stats.stats.kaplan_meier import KaplanMeier, kaplan_meier
from arr_stats.stats.observed_expected import (
    oe_control_limits,
    oe_funnel_limits,
    oe_interval,
    poisson_binomial_pmf,
)
from arr_stats.stats.state_occupation import (
    StateOccupation,
    occupation_shares,
    pool_state_counts,
    state_counts,
    state_occupation,
)
from arr_stats.stats.work_ability import (
    WorkAbilityChange,
    WorkAbilityMixedModel,
    work_ability_by_point,
    work_ability_change,
    work_ability_mixed_model,
)

__all__ = [
    "CumulativeIncidence",
    "KaplanMeier",
    "Overdispersion",
    "StateOccupation",
    "WorkAbilityChange",
    "WorkAbilityMixedModel",
    "t_summary",
    "CURVE_COLUMNS",
    "CauseSpecificCox",
    "aalen_johansen",
    "adjusted_funnel_limits",
    "confidence_interval",
    "cox_rtw",
    "cox_zph",
    "cumulative_incidence",
    "cumulative_incidence_at",
    "funnel_limits",
    "grouped_wilson_interval",
    "indicator_interval_note",
    "interval_note",
    "kaplan_meier",
    "median_time",
    "naive_cumulative_incidence",
    "oe_control_limits",
    "oe_funnel_limits",
    "oe_interval",
    "overdispersion",
    "poisson_binomial_pmf",
    "proportion_funnel_limits",
    "state_occupation",
    "state_counts",
    "pool_state_counts",
    "occupation_shares",
    "t_interval",
    "value_at",
    "wilson_interval",
    "work_ability_by_point",
    "work_ability_change",
    "work_ability_mixed_model",
]
