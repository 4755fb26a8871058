"""The quality indicators of ``docs/spec/indicators-and-report.md``.

- :mod:`~arr_stats.indicators.definitions` – ids, cohorts and per-episode values (upload rows)
- :mod:`~arr_stats.indicators.aggregate` – values per unit and year, rest of the country, nation
- :mod:`~arr_stats.indicators.casemix` – the national case-mix model and observed / expected

Every definition is written up in ``docs/indicators.md``.
"""

from arr_stats.indicators.aggregate import (
    AGGREGATE_COLUMNS,
    aggregate_indicators,
    coverage_by_institution,
    listed_units,
    shown_units,
)
from arr_stats.indicators.casemix import CaseMixResult, casemix
from arr_stats.indicators.definitions import (
    INDICATOR_NAMES,
    INDICATOR_STATISTIC,
    INTERVAL_KIND,
    LEVEL_HIGH,
    LEVEL_LOW,
    LEVEL_MODERATE,
    LOW_COVERAGE_LABEL,
    OUTCOME_INDICATORS,
    UNIT_INSTITUTION,
    UNIT_NATIONAL,
    UNIT_REST,
    UPLOAD_COLUMNS,
    UPLOAD_CONTEXT,
    classify_target,
    episode_indicators,
    t0_items,
    work_ability_pairs,
)

__all__ = [
    "AGGREGATE_COLUMNS",
    "INDICATOR_NAMES",
    "INDICATOR_STATISTIC",
    "INTERVAL_KIND",
    "LEVEL_HIGH",
    "LEVEL_LOW",
    "LEVEL_MODERATE",
    "LOW_COVERAGE_LABEL",
    "OUTCOME_INDICATORS",
    "UNIT_INSTITUTION",
    "UNIT_NATIONAL",
    "UNIT_REST",
    "UPLOAD_COLUMNS",
    "UPLOAD_CONTEXT",
    "CaseMixResult",
    "aggregate_indicators",
    "casemix",
    "classify_target",
    "coverage_by_institution",
    "episode_indicators",
    "listed_units",
    "shown_units",
    "t0_items",
    "work_ability_pairs",
]
