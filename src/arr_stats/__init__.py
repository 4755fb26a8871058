"""arr_stats: cleaning, linkage, outcome definitions, survival analyses and the
annual quality report of the Norwegian quality registry for work-oriented
rehabilitation (ARR).

The public API – what a researcher's notebook needs – is importable from here
(``from arr_stats import load_build, KaplanMeier``); :data:`__all__` lists it.
The names are loaded on first use, so ``import arr_stats`` stays light (the
``arr-stats`` command starts without loading the statistics libraries).

- reading a build: :func:`load_build` (a build folder, with the configuration
  recorded in it), :func:`load_derived` (the folder a run configuration names),
  :func:`load_config`;
- estimators, each ``Estimator(settings).fit(data)`` with results in attributes
  ending in ``_`` and a ``summary`` table: :class:`KaplanMeier`,
  :class:`CumulativeIncidence`, :class:`CauseSpecificCox`,
  :class:`StateOccupation`, :class:`WorkAbilityChange`,
  :class:`WorkAbilityMixedModel`; and the same as functions returning the
  tidy table (:func:`kaplan_meier`, :func:`cumulative_incidence`, …);
- the quality indicators: :func:`aggregate_indicators`,
  :func:`episode_indicators`, :func:`casemix`, and
  :func:`published_indicators` (a report year's rows as its protected
  publication shows them: what a notebook output shows);
- disclosure control, for anything that leaves TSD: :func:`suppress_counts`,
  :func:`suppress_statistics`, :func:`suppress_with_margins`,
  :func:`pool_survival_steps`, :func:`check_no_identifiers`.

The package's rooms, one per pipeline stage, are mapped in
``docs/architecture.md``.

Examples
--------
>>> import pandas as pd
>>> import arr_stats
>>> outcomes = pd.DataFrame({"rtw_time": [2, 2, 3, 4, 4, 6],
...                          "rtw_event": [1, 2, 0, 1, 1, 0]})
>>> km = arr_stats.KaplanMeier().fit(outcomes)
>>> km.summary["estimate"].round(4).tolist()
[1.0, 0.8333, 0.8333, 0.2778, 0.2778]
>>> "load_build" in arr_stats.__all__
True
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Each public name and the module that defines it.
_EXPORTS: dict[str, str] = {
    "RunConfig": "arr_stats.config",
    "load_config": "arr_stats.config",
    "Derived": "arr_stats.derive.load",
    "load_build": "arr_stats.derive.load",
    "load_derived": "arr_stats.derive.load",
    "KaplanMeier": "arr_stats.stats.kaplan_meier",
    "kaplan_meier": "arr_stats.stats.kaplan_meier",
    "CumulativeIncidence": "arr_stats.stats.competing_risks",
    "cumulative_incidence": "arr_stats.stats.competing_risks",
    "cumulative_incidence_at": "arr_stats.stats.competing_risks",
    "median_time": "arr_stats.stats.curves",
    "value_at": "arr_stats.stats.curves",
    "CauseSpecificCox": "arr_stats.stats.cox",
    "cox_rtw": "arr_stats.stats.cox",
    "StateOccupation": "arr_stats.stats.state_occupation",
    "state_occupation": "arr_stats.stats.state_occupation",
    "WorkAbilityChange": "arr_stats.stats.work_ability",
    "WorkAbilityMixedModel": "arr_stats.stats.work_ability",
    "work_ability_change": "arr_stats.stats.work_ability",
    "work_ability_by_point": "arr_stats.stats.work_ability",
    "aggregate_indicators": "arr_stats.indicators.aggregate",
    "published_indicators": "arr_stats.report.tables",
    "episode_indicators": "arr_stats.indicators.definitions",
    "casemix": "arr_stats.indicators.casemix",
    "suppress_counts": "arr_stats.publication.disclosure",
    "suppress_statistics": "arr_stats.publication.disclosure",
    "suppress_with_margins": "arr_stats.publication.disclosure",
    "pool_survival_steps": "arr_stats.publication.disclosure",
    "check_no_identifiers": "arr_stats.publication.disclosure",
}

__all__ = [
    "__version__",
    "RunConfig",
    "load_config",
    "Derived",
    "load_build",
    "load_derived",
    "KaplanMeier",
    "kaplan_meier",
    "CumulativeIncidence",
    "cumulative_incidence",
    "cumulative_incidence_at",
    "median_time",
    "value_at",
    "CauseSpecificCox",
    "cox_rtw",
    "StateOccupation",
    "state_occupation",
    "WorkAbilityChange",
    "WorkAbilityMixedModel",
    "work_ability_change",
    "work_ability_by_point",
    "aggregate_indicators",
    "episode_indicators",
    "casemix",
    "published_indicators",
    "suppress_counts",
    "suppress_statistics",
    "suppress_with_margins",
    "pool_survival_steps",
    "check_no_identifiers",
]


def __getattr__(name: str) -> Any:
    """Load a public name from its module on first use (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'arr_stats' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # the same names, for type checkers and editors
    from arr_stats.config import RunConfig, load_config
    from arr_stats.derive.load import Derived, load_build, load_derived
    from arr_stats.indicators.aggregate import aggregate_indicators
    from arr_stats.indicators.casemix import casemix
    from arr_stats.indicators.definitions import episode_indicators
    from arr_stats.publication.disclosure import (
        check_no_identifiers,
        pool_survival_steps,
        suppress_counts,
        suppress_statistics,
        suppress_with_margins,
    )
    from arr_stats.report.tables import published_indicators
    from arr_stats.stats.competing_risks import (
        CumulativeIncidence,
        cumulative_incidence,
        cumulative_incidence_at,
    )
    from arr_stats.stats.cox import CauseSpecificCox, cox_rtw
    from arr_stats.stats.curves import median_time, value_at
    from arr_stats.stats.kaplan_meier import KaplanMeier, kaplan_meier
    from arr_stats.stats.state_occupation import StateOccupation, state_occupation
    from arr_stats.stats.work_ability import (
        WorkAbilityChange,
        WorkAbilityMixedModel,
        work_ability_by_point,
        work_ability_change,
    )
