"""The indicators of a report year as published counts, and what lies between their cohorts.

Every indicator row a year's outputs show (``indicators.csv``, the summary,
trend and per-unit tables, the funnels) prints, per unit and year, the
indicator's n and – for a proportion, a cumulative incidence or the coverage
– its numerator, directly or through a value and interval that give it back
(disclosure.md: "proportions with their bases and intervals count as the
counts they imply"). The cohorts of these indicators are sets of the same
episodes, and of the episodes counted in the registered-episodes and status
tables, so a reader can subtract them: n of ``arr_srtw`` − n of
``arr_rtw12`` is the persons who died or emigrated within 12 months,
registered episodes − n of ``arr_srtw`` the episodes never linked to NAV.

This module writes those facts as cells and equations of the year's linked
publication (:mod:`arr_stats.publication.linked`):

- one cell per indicator, year and unit for its n (``row`` ``n``) and, where
  it is a count, its numerator (``row`` ``numerator``); ``arr_dg``'s n is the
  institution form's patient count. The two cells of one row are hidden
  together (``hide_with``), and a row the indicator rule hides
  (:func:`~arr_stats.publication.disclosure.hidden_statistic_mask`: fewer than
  ``min_denominator`` persons, or a numerator or ``n − numerator`` of
  1 … ``min_cell − 1``) starts hidden (``primary_rule``); a hidden row may
  hold zeros (``at_least`` 0);
- per unit and discharge year, the episodes split by which published counts
  hold them: each such group is a *latent* cell (a count no output prints,
  that a reader can bound), and every published count of that unit and year
  is the sum of the groups it holds. The audit proves that no latent cell can
  be read off as 1 … ``min_cell − 1`` (:mod:`arr_stats.publication.audit`);
- per indicator row, ``n − numerator`` (the persons not counted by the
  numerator; for ``arr_dg`` the form's patients never registered) is a
  latent cell;
- per pair of published counts of a unit and year whose cohorts are nested
  (n of ``arr_rtw12`` within n of ``arr_srtw``), their difference is a
  latent cell (it is a sum of the groups above, which the audit would not
  check as a whole otherwise).

Nothing is added for the rest-of-country and national rows: they pool only
the units whose row is shown (:func:`arr_stats.indicators.aggregate_indicators`
with the publication's hidden rows), so each is the sum of shown cells and
tells a reader nothing new. The participants tables are linked to these
cells through their totals (the registered episodes); their categories are
not split further here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from arr_stats.config import DisclosureParams, RunConfig
from arr_stats.indicators.aggregate import _coverage_table
from arr_stats.indicators.definitions import (
    INDICATOR_STATISTIC,
    _episode_values,
)
from arr_stats.publication.audit import concat_relations, sum_relation
from arr_stats.publication.disclosure import small_count_mask, small_group_mask

#: Table names of the indicator cells: ``indicator:<ind_id>``.
INDICATOR_PREFIX = "indicator:"
#: The table of the latent groups of episodes between published cohorts.
COHORTS_TABLE = "cohorts"
#: Rows of an indicator's cells (``known``: ``arr_srtw``'s episodes with a known
#: 0/1 outcome at day F, the n of its case-mix ratio).
N_ROW, NUMERATOR_ROW, KNOWN_ROW = "n", "numerator", "known"
#: The latent rows: ``n − numerator`` (``arr_dg``: the form's patients never registered).
REST_ROW, UNREGISTERED_ROW = "n − numerator", "not registered"
#: The kind of the relations ``count = smaller count + latent difference``.
DIFFERENCE = "difference"

#: The statistics whose numerator is a count of persons.
COUNT_NUMERATOR = ("proportion", "cumulative_incidence", "coverage")


def indicator_table_name(ind_id: str) -> str:
    """The table name of an indicator's cells.

    Examples
    --------
    >>> indicator_table_name("arr_rtw12")
    'indicator:arr_rtw12'
    """
    return f"{INDICATOR_PREFIX}{ind_id}"


#: Where two published numbers cannot both be shown, which one goes: a
#: larger priority goes first. Rows of the report year come before earlier
#: years' (trend) rows; within a year the headline indicator ``arr_rtw12``
#: comes first, then the count tables (registered episodes, status,
#: participants), then the other indicators in the specification's order.
YEAR_STEP = 100
TABLES_PRIORITY = 1


def priority(ind_id: str | None, year: int, report_year: int) -> int:
    """How readily a cell is hidden where a choice is left (0: last).

    Parameters
    ----------
    ind_id
        The indicator, or ``None`` for a cell of the count tables.
    year
        The report year of the indicator row, or the discharge year of a
        registered-episodes cell.
    report_year
        The year of the publication.

    Examples
    --------
    >>> priority("arr_rtw12", 2025, 2025), priority(None, 2025, 2025), priority("arr_srtw", 2025, 2025)
    (0, 1, 3)
    >>> priority("arr_rtw12", 2024, 2025)
    100
    """
    order = list(INDICATOR_STATISTIC)
    if ind_id is None:
        within = TABLES_PRIORITY
    elif ind_id == order[0]:
        within = 0
    else:
        within = TABLES_PRIORITY + order.index(ind_id) + 1
    return (report_year - year) * YEAR_STEP + within


def indicator_members(
    episodes: pd.DataFrame,
    responses: pd.DataFrame,
    outcomes: pd.DataFrame,
    config: RunConfig,
    years: Iterable[int],
) -> pd.DataFrame:
    """Which episodes each indicator's n and numerator count, per report year and unit.

    Parameters
    ----------
    episodes, responses, outcomes
        Derived tables; not modified.
    config
        The run configuration.
    years
        Report years.

    Returns
    -------
    DataFrame
        ``ind_id, year, unit, role, episode_id``: ``role`` ``n`` for every
        episode the indicator's n counts, ``numerator`` for those its
        numerator counts (proportions: value 1; ``arr_srtw``: return to work
        by day F; ``arr_dg``: every registered episode of the year, the n
        being the form's patients), ``known`` for ``arr_srtw``'s episodes
        whose outcome at day F is known. The counts equal the
        ``denominator`` and ``numerator`` of
        :func:`~arr_stats.indicators.aggregate_indicators`.
    """
    pieces = []
    for year in sorted(years):
        values = _episode_values(episodes, responses, outcomes, config, year)
        kind = values["ind_id"].map(INDICATOR_STATISTIC)
        # arr_srtw's n is its whole cohort (censored members too); the others count values
        in_n = values["var"].notna() | (kind == "cumulative_incidence")
        n = values[in_n].assign(role=N_ROW)
        counted = kind.isin(COUNT_NUMERATOR) & (values["var"] == 1)
        numerator = values[counted].assign(role=NUMERATOR_ROW)
        known = values[(kind == "cumulative_incidence") & values["var"].notna()]
        pieces += [n, numerator, known.assign(role=KNOWN_ROW)]
        current = episodes[episodes["discharge_date"].dt.year == year]
        pieces.append(
            pd.DataFrame(
                {
                    "ind_id": "arr_dg",
                    "year": year,
                    "orgnr": current["institution_id"].astype(str).to_numpy(),
                    "episode_id": current["episode_id"].astype(str).to_numpy(),
                    "role": NUMERATOR_ROW,
                }
            )
        )
    out = pd.concat(pieces, ignore_index=True)[["ind_id", "year", "orgnr", "role", "episode_id"]]
    out = out.rename(columns={"orgnr": "unit"})
    out["episode_id"] = out["episode_id"].astype(str)
    return out.sort_values(["ind_id", "year", "unit", "role", "episode_id"], ignore_index=True)


def row_rules(params: DisclosureParams) -> tuple[str, str, str]:
    """The texts of the rules that hide an indicator row: few persons, small numerator, small rest.

    Examples
    --------
    >>> row_rules(DisclosureParams())[0]
    'n < 10 (min_denominator)'
    """
    small = f"1–{params.min_cell - 1} (min_cell)"
    return (
        f"n < {params.min_denominator} (min_denominator)",
        f"numerator {small}",
        f"n − numerator {small}",
    )


def _row_rules(n: float, numerator: float, counted: bool, params: DisclosureParams) -> str:
    """The rule that hides an indicator row to begin with (empty: none)."""
    few, small_numerator, small_rest = row_rules(params)
    frame = pd.DataFrame({"n": [n], "numerator": [numerator if counted else np.nan]})
    if small_group_mask(frame, "n", params).iloc[0]:
        return few
    if counted:
        if small_count_mask(frame, "numerator", params).iloc[0]:
            return small_numerator
        rest = pd.DataFrame({"rest": [n - numerator]})
        if small_count_mask(rest, "rest", params).iloc[0]:
            return small_rest
    return ""


def indicator_cells(
    members: pd.DataFrame,
    episodes: pd.DataFrame,
    institutions: pd.DataFrame,
    config: RunConfig,
    listed_units: dict[int, Sequence[str]],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The cells of every indicator row, with ``arr_dg``'s link to the form.

    Parameters
    ----------
    members
        :func:`indicator_members`.
    episodes, institutions
        Derived tables (``arr_dg``'s form counts).
    config
        The run configuration (disclosure parameters).
    listed_units
        Report year → the units listed for every indicator of that year.

    Returns
    -------
    tuple
        Cells (``cell, table, unit, row, column, value, at_least,
        hide_with, primary_rule, latent``) and relations.
    """
    from arr_stats.publication.linked import cell_id, unit_key

    params = config.disclosure
    sizes = members.groupby(["ind_id", "year", "unit", "role"]).size()
    report_year = max(listed_units)
    rows, relations = [], []
    for ind_id, kind in INDICATOR_STATISTIC.items():
        table = indicator_table_name(ind_id)
        counted = kind in COUNT_NUMERATOR
        for year, units in sorted(listed_units.items()):
            forms = None
            if kind == "coverage":
                forms = _coverage_table(episodes, institutions, year)["n_patients"]
            for unit in units:
                key = unit_key(unit)
                numerator = float(sizes.get((ind_id, year, unit, NUMERATOR_ROW), 0))
                if kind == "coverage":
                    if forms is None or unit not in forms.index:
                        continue  # no form: the row prints nothing
                    n = float(forms.loc[unit])
                else:
                    n = float(sizes.get((ind_id, year, unit, N_ROW), 0))
                rule = _row_rules(n, numerator, counted, params)
                tiny = bool(small_group_mask(pd.DataFrame({"n": [n]}), "n", params).iloc[0])
                group = f"{table}|{key}|{year}"
                base = {"table": table, "unit": key, "column": str(year), "at_least": 0}
                base |= {"hide_with": group, "latent": False, "primary_rule": "", "row_rule": ""}
                base |= {"priority": priority(ind_id, year, report_year)}
                n_cell = cell_id(table, key, N_ROW, year)
                rows.append(
                    base | {"cell": n_cell, "row": N_ROW, "value": int(n), "row_rule": rule}
                )
                if kind == "cumulative_incidence":  # its case-mix ratio's n
                    known = int(sizes.get((ind_id, year, unit, KNOWN_ROW), 0))
                    rows.append(
                        base
                        | {"cell": cell_id(table, key, KNOWN_ROW, year), "row": KNOWN_ROW}
                        | {"value": known}
                    )
                if not counted:
                    continue
                # the numerator of a statistic of too few persons may not be worked out
                numerator_cell = cell_id(table, key, NUMERATOR_ROW, year)
                rows.append(
                    base
                    | {"cell": numerator_cell, "row": NUMERATOR_ROW, "value": int(numerator)}
                    | {"primary_rule": rule if tiny else ""}
                )
                if not 1 <= n - numerator < params.min_cell:
                    # a latent count of 0 or ≥ min_cell can never be read off as
                    # small (its true value is in every range a reader can
                    # prove), so it adds nothing to check (arr_dg: more
                    # registered than the form's patients is no count at all)
                    continue
                rest_row = UNREGISTERED_ROW if kind == "coverage" else REST_ROW
                rest = cell_id(table, key, rest_row, year)
                rows.append(
                    base
                    | {"cell": rest, "row": rest_row, "value": int(n - numerator)}
                    | {"hide_with": None, "latent": True, "priority": 0}
                )
                relations.append(
                    sum_relation(
                        f"{table}|{key}|{year}|n = numerator + {rest_row}",
                        n_cell,
                        [numerator_cell, rest],
                        kind=DIFFERENCE,
                    )
                )
    return pd.DataFrame(rows), concat_relations(relations)


def latent_groups(
    held: pd.DataFrame, universe: pd.DataFrame, min_cell: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split each unit's episodes of a discharge year by the published counts that hold them.

    Parameters
    ----------
    held
        ``episode_id, cell``: one row per episode and published count (cell
        id) that counts it; not modified.
    universe
        ``episode_id, unit, discharge_year`` of every episode in ``held``.
    min_cell
        The disclosure threshold (which nested differences need a cell).

    Returns
    -------
    tuple
        Latent cells (one per unit, discharge year and group of episodes held
        by the same counts; ``value`` the group's size) and the relations
        ``published count = Σ its groups``.

    Examples
    --------
    Two counts of one unit's year, n 3 ⊃ n 2: one group of 2 in both, one of 1 in the first only.

    >>> held = pd.DataFrame({"episode_id": ["a", "b", "c", "a", "b"],
    ...                      "cell": ["N3", "N3", "N3", "N2", "N2"]})
    >>> universe = pd.DataFrame({"episode_id": ["a", "b", "c"], "unit": "u", "discharge_year": 2024})
    >>> cells, relations = latent_groups(held, universe, 5)
    >>> cells[["row", "value"]].values.tolist()
    [['group 1', 2], ['group 2', 1], ['N3 − N2', 1]]
    >>> relations.groupby("relation")["cell"].count().tolist()
    [2, 3, 3]
    """
    from arr_stats.publication.linked import cell_id, unit_key

    if held.empty:
        return pd.DataFrame(), concat_relations([])
    held = held.drop_duplicates().sort_values(["episode_id", "cell"])
    signature = held.groupby("episode_id", sort=True)["cell"].agg("\n".join).rename("signature")
    frame = (
        universe.drop_duplicates("episode_id").set_index("episode_id").join(signature, how="inner")
    )
    counts = (
        frame.groupby(["unit", "discharge_year", "signature"], sort=True)
        .size()
        .rename("value")
        .reset_index()
    )
    counts["k"] = counts.groupby(["unit", "discharge_year"]).cumcount() + 1
    counts["cell"] = [
        cell_id(COHORTS_TABLE, unit_key(u), f"group {k}", y)
        for u, y, k in counts[["unit", "discharge_year", "k"]].itertuples(index=False)
    ]
    cells = pd.DataFrame(
        {
            "cell": counts["cell"],
            "table": COHORTS_TABLE,
            "unit": [unit_key(u) for u in counts["unit"]],
            "row": [f"group {k}" for k in counts["k"]],
            "column": counts["discharge_year"].astype(int).astype(str),
            "value": counts["value"].astype(np.int64),
            "latent": True,
            "at_least": 0,
        }
    )
    # each published count = Σ the groups whose signature holds it
    parts = counts[["cell", "signature"]].assign(published=counts["signature"].str.split("\n"))
    parts = parts.explode("published")
    relations = pd.DataFrame(
        {
            "relation": "cohorts|" + parts["published"],
            "cell": parts["cell"],
            "coefficient": 1.0,
            "kind": "cohort",
        }
    )
    totals = pd.DataFrame(
        {
            "relation": "cohorts|" + pd.Series(sorted(parts["published"].unique())),
            "cell": sorted(parts["published"].unique()),
            "coefficient": -1.0,
            "kind": "cohort",
        }
    )
    relations = pd.concat([relations, totals], ignore_index=True)
    relations = relations.sort_values(["relation", "coefficient", "cell"], ignore_index=True)
    diff_cells, diff_relations = _nested_differences(counts, min_cell)
    return (
        pd.concat([cells, diff_cells], ignore_index=True),
        concat_relations([relations, diff_relations]),
    )


def _nested_differences(counts: pd.DataFrame, min_cell: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A latent cell per pair of nested published counts of a unit and year: their difference.

    Only differences of 1 … ``min_cell − 1`` are written: any other latent
    count's true value lies in every range a reader can prove, so it can
    never be read off as small and adds nothing to the audit.
    """
    from arr_stats.publication.linked import cell_id, unit_key

    cells, relations = [], []
    for (unit, year), groups in counts.groupby(["unit", "discharge_year"], sort=True):
        holds: dict[str, set[int]] = {}
        size: dict[int, int] = {}
        for k, signature, value in groups[["k", "signature", "value"]].itertuples(index=False):
            size[k] = int(value)
            for published in signature.split("\n"):
                holds.setdefault(published, set()).add(k)
        names = sorted(holds)
        for big in names:
            for small in names:
                if small == big or not holds[small] < holds[big]:
                    continue
                value = sum(size[k] for k in holds[big] - holds[small])
                if not 1 <= value < min_cell:
                    continue
                latent = cell_id(COHORTS_TABLE, unit_key(unit), f"{big} − {small}", year)
                cells.append(
                    {
                        "cell": latent,
                        "table": COHORTS_TABLE,
                        "unit": unit_key(unit),
                        "row": f"{big} − {small}",
                        "column": str(int(year)),
                        "value": value,
                        "latent": True,
                        "at_least": 0,
                    }
                )
                relations.append(
                    sum_relation(
                        f"difference|{big} − {small}", big, [small, latent], kind=DIFFERENCE
                    )
                )
    return pd.DataFrame(cells), concat_relations(relations)


__all__ = [
    "COHORTS_TABLE",
    "INDICATOR_PREFIX",
    "indicator_cells",
    "indicator_members",
    "indicator_table_name",
    "latent_groups",
    "priority",
    "row_rules",
]
