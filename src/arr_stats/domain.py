"""The registry's fixed rules that are neither data-dictionary codes nor run parameters.

Each rule here is written once and read everywhere: the ``rtw_event`` codes
of outcomes.md, the daily states in their priority order, the age groups,
the month-day rule, the registration points' due times and the covariate
lists of the models. Labels of codes and states live in the data dictionary
(``data_dictionary/``); parameters that a run may change live in the run
configuration (:mod:`arr_stats.config`).

Examples
--------
>>> month_day(3), month_day(6), month_day(12)
(91, 183, 365)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

#: The ``rtw_event`` codes of outcomes.md.
EVENT_CENSORED = 0
EVENT_RTW = 1
EVENT_DISABILITY = 2
EVENT_DEATH = 3

#: The daily states of outcomes.md in priority order (first that applies wins).
#: Their labels and colours are in ``data_dictionary/codelists/states.yaml``.
DEFAULT_STATE_ORDER: tuple[str, ...] = (
    "dead",
    "disability_full",
    "aap",
    "sick_leave_full",
    "sick_leave_partial",
    "disability_partial",
    "unemployed",
    "other_benefit",
    "working",
)

#: The state of a day on or after the death date (outcomes.md, order 1).
DEAD_STATE = "dead"

#: The state of an observed day with no registered benefit (the register proxy for work).
WORKING_STATE = "working"

#: The drawn state of a protected daily-state figure that holds the states of
#: 1 … ``min_cell`` − 1 persons at a drawn time (disclosure.md); labelled
#: ``merged_states`` in :data:`arr_stats.plotting.LABELS`.
MERGED_STATE = "merged"

#: The months after discharge at which status and cumulative incidence are
#: reported (outcomes.md: 3, 6 and 12 months; days from :func:`month_day`).
STATUS_MONTHS: tuple[int, ...] = (3, 6, 12)

#: Follow-up points and their due time in months after discharge (data-model.md:
#: T1 right after, T2 6 months after, T3 12 months after rehabilitation).
RESPONSE_POINT_MONTHS: dict[str, int] = {"T1": 0, "T2": 6, "T3": 12}


def month_day(months: int) -> int:
    """The day after discharge that "m months after" means: ``round(m × 365.25 / 12)``.

    outcomes.md's rule for the status at 3, 6 and 12 months (days 91, 183,
    365); the run configuration's ``month_days`` defaults come from it.
    """
    return round(months * 365.25 / 12)


#: The project's age groups: lower edges of the groups above the first
#: (``age < 30`` is the first group, ``age >= 60`` the last). The one place
#: these bins live; :func:`age_group` reads them.
AGE_GROUP_EDGES: tuple[int, ...] = (30, 40, 50, 60)


def age_group(age: pd.Series, edges: Sequence[int] = AGE_GROUP_EDGES) -> pd.Series:
    """The project's age groups (:data:`AGE_GROUP_EDGES`) as an ordered Categorical.

    Parameters
    ----------
    age
        Age in whole years (``age_at_admission``); missing stays missing.
    edges
        Lower edges of every group but the first.

    Returns
    -------
    Series
        Categorical with labels ``"<30", "30–39", "40–49", "50–59", "60+"``
        for the default edges; the input is not modified.

    Examples
    --------
    >>> age_group(pd.Series([18, 29, 30, 59, 60, None], dtype="Int64")).tolist()
    ['<30', '<30', '30–39', '50–59', '60+', nan]
    """
    edges = list(edges)
    labels = [f"<{edges[0]}"]
    labels += [f"{lo}–{hi - 1}" for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    labels += [f"{edges[-1]}+"]
    bins = [-np.inf, *edges, np.inf]
    values = pd.to_numeric(age, errors="coerce").astype(float)
    return pd.cut(values, bins=bins, right=False, labels=labels, ordered=True).rename("age_group")


#: Covariates of the national case-mix model (indicators-and-report.md).
CASEMIX_COVARIATES: tuple[str, ...] = (
    "age_group",
    "sex",
    "diagnosis_group",
    "hrb_days_pre_12m",
    "rehab_mode",
)

#: The categorical ones among them, in order.
CASEMIX_CATEGORICAL: tuple[str, ...] = tuple(
    c for c in CASEMIX_COVARIATES if c != "hrb_days_pre_12m"
)

#: Covariates of the cause-specific Cox model of time to RTW: the case-mix
#: covariates plus the institution.
DEFAULT_COX_COVARIATES: tuple[str, ...] = (*CASEMIX_COVARIATES, "institution_id")

#: Units of numeric model covariates: the hazard or odds ratio is per this
#: many units (per 30 days on health-related benefits rather than per day).
COVARIATE_UNITS: dict[str, float] = {"hrb_days_pre_12m": 30}

#: The column that groups episodes of one person: the variances of the
#: Kaplan–Meier and Aalen–Johansen curves and of the Cox model are
#: clustered by it by default (robust / grouped infinitesimal jackknife, as
#: R's ``coxph(cluster = )`` and ``survfit(cluster = )``; docs/survival.md).
DEFAULT_CLUSTER = "person_id"
