"""The linked count tables of a report year, computed once and protected together.

Every edition of report year ``Y`` shows some of the same counts: the status
3, 6 and 12 months after discharge (the own unit's table, or the nation's),
the participants by background variable (own unit, rest of the country and
the nation), and the registered episodes per institution. A reader holds all
editions at once, so these tables are linked: the national cell is the sum of
the units' cells, a unit's rest-of-country cell is the national cell minus
its own, every participants table of a unit has the same total, and that
total is the unit's registered episodes in ``Y``. Protected one table at a
time, a hidden cell can be worked back from the others (national − the other
units' shown cells = a unit's single death).

This module therefore computes every cell of these tables for the national
edition and every institution edition once (:func:`year_publication`),
writes the equations that link them (:mod:`arr_stats.publication.audit`'s
representation), and protects them together (:func:`protect`):

1. Primary suppression: every count of 1 … ``min_cell − 1`` is hidden.
2. Secondary suppression, repeated until the audit passes:

   a. Line rules, cheap and local: an equation with exactly one hidden cell
      gives it back, and an equation whose hidden cells all enter with the
      same sign (a shown total over hidden parts) tells their sum; when that
      sum leaves each of them within 1 … ``min_cell − 1`` (or exactly 1) the
      line is unsafe. In an unsafe equation the smallest shown non-zero cell
      is hidden too.
   b. The audit (:func:`arr_stats.publication.audit.audit`): integer
      programming over every equation of the year at once bounds each hidden
      cell. For each hidden cell that is determined, or bounded within 1 …
      ``min_cell − 1``, the smallest shown non-zero cell of an equation that
      holds it is hidden – of the equation with the fewest hidden cells (the
      one that pins it most tightly), preferring the cell's own line (a row
      or column of its own table) over links between tables – and a. runs
      again.

3. The year's publication is refused (:class:`~arr_stats.publication.audit.AuditError`)
   if the audit still fails.

Zeros are never hidden (0 may be shown), so a reader knows a hidden cell is
at least 1; the audit assumes that. Every hidden cell is shown with the same
mark, primary and secondary alike.

Why this method: it is the linked-table secondary suppression of Statistics
Norway's GaussSuppression (R package ``GaussSuppression``: one model matrix
of all published cells of linked tables, primary cells chosen by rule,
secondary cells chosen so that no primary cell can be computed from the rest)
with an explicit linear/integer-programming audit as the stopping rule
instead of GaussSuppression's Gaussian elimination. The audit is stronger
than linear independence: it also uses that counts are whole numbers ≥ 1 when
hidden, which is how the attacks of issue 10 pinned "1 death" at a unit. The
choice of secondary cells (smallest shown non-zero cell) keeps the published
information large, as GaussSuppression's default ordering by cell size does.
See ``docs/disclosure.md``.
"""

from __future__ import annotations

import os
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from arr_stats import domain
from arr_stats.config import DisclosureParams, RunConfig
from arr_stats.publication import audit as audit_module
from arr_stats.publication.audit import (
    OK,
    AuditError,
    AuditResult,
    concat_relations,
    equal_relation,
    proportion_relation,
    sum_relation,
)
from arr_stats.publication.disclosure import HIDDEN_MARK, SuppressedTable, _format_count

#: The label of a total row or column.
TOTAL = "Totalt"

#: Unit keys of the cells: the nation, one institution, the rest of the country beside it.
NATIONAL = "national"
UNIT_PREFIX = "unit:"
REST_PREFIX = "rest:"

#: Table names of the linked tables.
STATUS_TABLE = "status"
EPISODES_TABLE = "episodes"
PARTICIPANTS_PREFIX = "participants:"

#: Status of a cell (``latent``: a count no output prints but a reader can bound).
SHOWN, PRIMARY, SECONDARY, LATENT = "shown", "primary", "secondary", "latent"

#: The column of a one-column (participants) table.
N_COLUMN = "n"


def unit_key(institution: str) -> str:
    """The unit key of an institution's own cells (``unit:<id>``)."""
    return f"{UNIT_PREFIX}{institution}"


def rest_key(institution: str) -> str:
    """The unit key of the rest of the country beside an institution (``rest:<id>``)."""
    return f"{REST_PREFIX}{institution}"


def cell_id(table: str, unit: str, row: object, column: object) -> str:
    """The id of one cell: ``table|unit|row|column``.

    Examples
    --------
    >>> cell_id("status", "national", "dead", "3 mnd")
    'status|national|dead|3 mnd'
    """
    return f"{table}|{unit}|{row}|{column}"


# --------------------------------------------------------------------------------------
# building blocks: a table with margins as cells and line equations


def _grid(
    table: str, unit: str, counts: pd.DataFrame, total_column: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cells and line equations of one table of counts with a total row (and column).

    ``counts`` holds the inner cells (rows × columns, no totals); not modified.
    """
    inner = counts.to_numpy(dtype=np.int64)
    rows = [str(r) for r in counts.index]
    cols = [str(c) for c in counts.columns]
    all_rows = [*rows, TOTAL]
    all_cols = [*cols, TOTAL] if total_column else cols
    grid = np.zeros((len(all_rows), len(all_cols)), dtype=np.int64)
    grid[: len(rows), : len(cols)] = inner
    grid[len(rows), : len(cols)] = inner.sum(axis=0)
    if total_column:
        grid[: len(rows), len(cols)] = inner.sum(axis=1)
        grid[len(rows), len(cols)] = inner.sum()
    cells = pd.DataFrame(
        [
            {
                "cell": cell_id(table, unit, r, c),
                "table": table,
                "unit": unit,
                "row": r,
                "column": c,
                "value": int(grid[i, j]),
            }
            for i, r in enumerate(all_rows)
            for j, c in enumerate(all_cols)
        ]
    )
    pieces = []
    for c in all_cols:  # every column adds up to its total row
        parts = [cell_id(table, unit, r, c) for r in rows]
        pieces.append(
            sum_relation(f"{table}|{unit}|col {c}", cell_id(table, unit, TOTAL, c), parts)
        )
    if total_column:
        for r in all_rows:  # every row adds up to its total column
            parts = [cell_id(table, unit, r, c) for c in cols]
            pieces.append(
                sum_relation(f"{table}|{unit}|row {r}", cell_id(table, unit, r, TOTAL), parts)
            )
    return cells, concat_relations(pieces)


def _national_links(table: str, units: Sequence[str], cells: pd.DataFrame) -> list[pd.DataFrame]:
    """National cell = Σ units' cells, for every row and column of ``table``."""
    national = cells[(cells["table"] == table) & (cells["unit"] == NATIONAL)]
    pieces = []
    for r, c in national[["row", "column"]].itertuples(index=False):
        parts = [cell_id(table, unit_key(u), r, c) for u in units]
        pieces.append(
            sum_relation(
                f"{table}|national = Σ units|{r}|{c}",
                cell_id(table, NATIONAL, r, c),
                parts,
                kind="link",
            )
        )
    return pieces


def _share_relations(cells: pd.DataFrame, table: str, unit: str) -> list[pd.DataFrame]:
    """The shares printed beside one table's counts: count = share · its column total.

    A share is printed where its count and its column total are both shown
    (:func:`share_shown`).
    """
    mine = cells[(cells["table"] == table) & (cells["unit"] == unit) & cells["shown"]]
    pieces = []
    for c, column in mine.groupby("column", sort=False):
        total = column[column["row"] == TOTAL]
        if total.empty or int(total["value"].iloc[0]) == 0:  # no total shown: no share
            continue
        base = int(total["value"].iloc[0])
        for r, v in column.loc[column["row"] != TOTAL, ["row", "value"]].itertuples(index=False):
            pieces.append(
                proportion_relation(
                    f"{table}|{unit}|share {r}|{c}",
                    cell_id(table, unit, r, c),
                    cell_id(table, unit, TOTAL, c),
                    int(v) / base,
                    kind="proportion",
                )
            )
    return pieces


def share_shown(mask: pd.DataFrame) -> pd.DataFrame:
    """Where a share of the column total may be printed: its count and the total are shown.

    Parameters
    ----------
    mask
        True where a count is hidden (a :class:`SuppressedTable`'s ``mask``,
        with the :data:`TOTAL` row).

    Examples
    --------
    >>> m = pd.DataFrame({"a": [False, True, False], "b": [False, False, True]},
    ...                  index=["x", "y", TOTAL])
    >>> share_shown(m).values.tolist()
    [[True, False], [False, False], [True, False]]
    """
    return ~mask & ~mask.loc[TOTAL]


# --------------------------------------------------------------------------------------
# protection


def primary_rule(params: DisclosureParams) -> str:
    """The rule a cell hidden by primary suppression carries (its ``rule``).

    Examples
    --------
    >>> primary_rule(DisclosureParams())
    'count 1–4 (min_cell)'
    """
    return f"count 1–{params.min_cell - 1} (min_cell)"


def _optional(cells: pd.DataFrame, column: str, default: object) -> list:
    if column not in cells.columns:
        return [default] * len(cells)
    return [default if pd.isna(v) else v for v in cells[column]]


def _primary(cells: pd.DataFrame, params: DisclosureParams) -> tuple[np.ndarray, list[str]]:
    """Which cells the primary rule hides, and why.

    A count of 1 … ``min_cell − 1``; or a cell whose ``primary_rule`` column
    names another rule that hides it (a statistic of fewer than
    ``min_denominator`` persons hides its n). Latent cells are never shown,
    so never primary.
    """
    values = cells["value"].to_numpy(dtype=float)
    small = (values >= 1) & (values < params.min_cell)
    given = _optional(cells, "primary_rule", "")
    rule_count = primary_rule(params)
    rules = [g if g else (rule_count if s else "") for s, g in zip(small, given, strict=True)]
    primary = np.array([bool(r) for r in rules]) & ~_is_latent(cells)
    return primary, [r if p else "" for r, p in zip(rules, primary, strict=True)]


def _is_latent(cells: pd.DataFrame) -> np.ndarray:
    return np.array(_optional(cells, "latent", False), dtype=bool)


@dataclass
class _State:
    """Working state of the suppression loop (arrays over the cells)."""

    values: np.ndarray
    hidden: np.ndarray
    status: list[str]
    rule: list[str]
    terms: dict[str, list[tuple[int, float]]]  # relation → (cell position, coefficient)
    kinds: dict[str, str]
    of_cell: list[list[str]]  # cell position → relations holding it
    companions: dict[int, list[int]]  # cell position → the cells hidden with it
    names: list[str]  # cell position → cell id
    priority: np.ndarray  # cell position → how much it matters (0 most; hidden last)
    latent: np.ndarray  # cell position → never printed

    def hide(self, position: int, rule: str) -> None:
        for at in [position, *self.companions.get(position, [])]:
            if self.hidden[at]:
                continue
            self.hidden[at] = True
            self.status[at] = SECONDARY
            self.rule[at] = rule if at == position else f"hidden with {rule}"

    def pinned(self, position: int) -> bool:
        """Whether a cell equals a shown cell (hiding it alone would protect nothing)."""
        for relation in self.of_cell[position]:
            terms = self.terms[relation]
            if len(terms) == 2 and all(p == position or not self.hidden[p] for p, _ in terms):
                return True
        return False

    def smallest_candidate(self, relations: Sequence[str]) -> int | None:
        """The smallest shown non-zero cell of these relations (ties: first listed).

        A cell equal to a shown cell only when nothing else is left; among
        the others, the cells of the least important rows first
        (``priority``, larger = less important), then the smallest.
        """
        best, best_key = None, None
        for relation in relations:
            for position, _ in self.terms[relation]:
                if self.hidden[position] or self.values[position] <= 0:
                    continue
                key = (self.pinned(position), -self.priority[position], self.values[position])
                if best_key is None or key < best_key:
                    best, best_key = position, key
        return best


def _line_unsafe(state: _State, relation: str, params: DisclosureParams, least: int) -> bool:
    hidden = [(p, c) for p, c in state.terms[relation] if state.hidden[p]]
    if not hidden:
        return False
    if len(hidden) == 1:
        return True
    signs = {np.sign(c) for _, c in hidden}
    if len(signs) != 1 or any(abs(c) != 1.0 for _, c in hidden):
        return False  # a difference is known, not a sum: left to the audit
    known_sum = float(sum(state.values[p] for p, _ in hidden))
    largest = known_sum - least * (len(hidden) - 1)
    return largest < params.min_cell or largest <= least


def _apply_line_rules(state: _State, params: DisclosureParams, least: int) -> None:
    changed = True
    while changed:
        changed = False
        for relation in state.terms:
            if state.kinds[relation] != "line":
                continue  # links between tables are left to the audit
            if not _line_unsafe(state, relation, params, least):
                continue
            candidate = state.smallest_candidate([relation])
            if candidate is None:
                continue  # nothing left to hide here: the audit decides
            state.hide(candidate, f"line rule: {relation}")
            changed = True


def _apply_difference_rules(state: _State, params: DisclosureParams) -> None:
    """Nested cohorts: two shown counts whose difference is a small group of persons.

    A ``difference`` relation says a count is a smaller count plus a latent
    group (:mod:`arr_stats.publication.cohorts`: n of ``arr_srtw`` = n of
    ``arr_rtw12`` + the deaths and emigrations). When both counts are shown
    and the group is 1 … ``min_cell − 1``, one of the two is hidden (with its
    row): the one with the larger ``priority``, else the smaller. Cheap and
    local, like the line rules; the audit catches the rest.
    """
    from arr_stats.publication.cohorts import DIFFERENCE

    changed = True
    while changed:
        changed = False
        for relation, terms in state.terms.items():
            if state.kinds[relation] != DIFFERENCE:
                continue
            latent = [p for p, c in terms if c > 0 and state.latent[p]]
            counts = [p for p, c in terms if not state.latent[p]]
            if len(latent) != 1 or len(counts) != 2:
                continue
            if any(state.hidden[p] for p in counts):
                continue
            if not 1 <= state.values[latent[0]] < params.min_cell:
                continue
            keys = {p: (-state.priority[p], state.values[p] <= 0, state.values[p]) for p in counts}
            state.hide(min(keys, key=keys.__getitem__), f"nested cohorts: {relation}")
            changed = True


def _relations_to_widen(state: _State, position: int) -> list[str]:
    """The relations of a failing cell, the one that pins it most tightly first."""
    order = {r: i for i, r in enumerate(state.terms)}

    def key(relation: str) -> tuple[int, int, int]:
        n_hidden = sum(1 for p, _ in state.terms[relation] if state.hidden[p])
        return (n_hidden, state.kinds[relation] != "line", order[relation])

    return sorted(state.of_cell[position], key=key)


def _widen(state: _State, start: int) -> tuple[str, int] | None:
    """The relation and the shown cell to hide next for a failing hidden cell.

    The relations holding the cell are tried in :func:`_relations_to_widen`'s
    order; one with a shown non-zero cell gives the smallest of them. When
    none has one, the search goes on, breadth first, through the relations of
    the hidden cells in those relations: the shown cells that bound those
    bound the failing cell too.
    """
    seen_cells, seen_relations = {start}, set()
    frontier = [start]
    while frontier:
        following = []
        for at in frontier:
            for relation in _relations_to_widen(state, at):
                if relation in seen_relations:
                    continue
                seen_relations.add(relation)
                candidate = state.smallest_candidate([relation])
                if candidate is not None:
                    return relation, candidate
                for p, _ in state.terms[relation]:
                    if state.hidden[p] and p not in seen_cells:
                        seen_cells.add(p)
                        following.append(p)
        frontier = following
    return None


def protect(
    cells: pd.DataFrame,
    relations: pd.DataFrame,
    params: DisclosureParams,
    hidden_at_least: int = 1,
    exact: bool = False,
) -> tuple[pd.DataFrame, AuditResult]:
    """Primary and secondary suppression of linked tables, driven by the audit.

    Parameters
    ----------
    cells
        ``cell, table, value`` (whole numbers ≥ 0) and any other columns; not
        modified.
    relations
        ``relation, cell, coefficient, kind`` (:mod:`arr_stats.publication.audit`).
    params
        The disclosure parameters (``min_cell``, ``complementary_suppression``).
    hidden_at_least
        What a reader knows of a hidden cell (1: zeros are never hidden).
    exact
        Whether the returned audit holds every hidden cell's exact bounds
        (slower) or the witnesses that reach the same verdict.

    Notes on optional columns of ``cells``: ``at_least`` and ``latent`` as
    the audit reads them (:mod:`arr_stats.publication.audit`); ``hide_with``
    (cells with the same key are hidden together: an indicator's n and
    numerator of one unit, since its printed value and interval give either
    back from the other); ``primary_rule`` (a rule other than the small
    count that hides the cell to begin with and that the audit protects);
    ``row_rule`` (a rule that hides the cell and its companions to begin
    with, as secondary cells: nothing in them is protected for itself); ``priority`` (0, the default,
    for the cells that matter most; where a choice is left, cells with a
    larger priority are hidden first: the secondary indicators before the
    headline indicator and the count tables).

    Returns
    -------
    tuple
        The cells with ``shown`` (bool), ``status`` (``shown``, ``primary``,
        ``secondary``) and ``rule`` (why: the primary rule, or the equation a
        secondary cell was hidden for), and the final audit.

    Raises
    ------
    AuditError
        The audit still fails when no shown non-zero cell is left to hide
        near a failing cell.

    Notes
    -----
    The module docstring describes the method. With
    ``complementary_suppression`` off only the primary rule is applied, and
    the audit is returned as it stands (it will usually fail).

    Examples
    --------
    Two units and the nation, one cell each: unit A's 2 is hidden, and B's 8
    with it, else 10 − 8 gives A's 2 back.

    >>> cells = pd.DataFrame({"cell": ["A", "B", "N"], "table": "t", "value": [2, 8, 10]})
    >>> relations = sum_relation("N = A + B", "N", ["A", "B"])
    >>> out, result = protect(cells, relations, DisclosureParams())
    >>> out["status"].tolist(), result.passed
    (['primary', 'secondary', 'shown'], True)
    """
    start = time.perf_counter()
    cells = cells.reset_index(drop=True)
    if "kind" not in relations.columns:
        relations = relations.assign(kind="line")
    primary, primary_rules = _primary(cells, params)
    latent = _is_latent(cells)
    position = {c: i for i, c in enumerate(cells["cell"])}
    terms: dict[str, list[tuple[int, float]]] = {}
    kinds: dict[str, str] = {}
    of_cell: list[list[str]] = [[] for _ in range(len(cells))]
    for relation, cell, coefficient, kind in relations[
        ["relation", "cell", "coefficient", "kind"]
    ].itertuples(index=False):
        terms.setdefault(relation, []).append((position[cell], float(coefficient)))
        kinds.setdefault(relation, kind)
        if relation not in of_cell[position[cell]]:
            of_cell[position[cell]].append(relation)
    together: dict[object, list[int]] = {}
    for at, key in enumerate(_optional(cells, "hide_with", None)):
        if key is not None and key != "":
            together.setdefault(key, []).append(at)
    companions = {at: [o for o in group if o != at] for group in together.values() for at in group}
    state = _State(
        values=cells["value"].to_numpy(dtype=float),
        hidden=primary | latent,
        status=[
            PRIMARY if p else LATENT if lt else SHOWN for p, lt in zip(primary, latent, strict=True)
        ],
        rule=[r if p else "" for r, p in zip(primary_rules, primary, strict=True)],
        terms=terms,
        kinds=kinds,
        of_cell=of_cell,
        companions=companions,
        names=cells["cell"].astype(str).tolist(),
        priority=np.array(_optional(cells, "priority", 0), dtype=float),
        latent=latent,
    )
    # rows a rule hides as a whole, without a small count in them (a mean of
    # too few persons; a share whose n − numerator is small: that latent count
    # is what the audit protects)
    for at, rule in enumerate(_optional(cells, "row_rule", "")):
        if rule and not state.hidden[at]:
            state.hidden[at] = True
            state.status[at], state.rule[at] = SECONDARY, rule
            state.hide(at, f"{cells['cell'].iloc[at]} ({rule})")
    for at in np.flatnonzero(primary):  # a primary cell's companions go with it
        state.hide(int(at), f"{cells['cell'].iloc[at]} ({primary_rules[at]})")
        state.status[at], state.rule[at] = PRIMARY, primary_rules[at]

    derivable = np.zeros(len(cells), dtype=bool)

    def result_cells() -> pd.DataFrame:
        out = cells.assign(shown=~state.hidden, status=state.status, rule=state.rule)
        return out.assign(latent=latent | derivable) if (latent | derivable).any() else out

    if not params.complementary_suppression:
        out = result_cells()
        return out, audit_module.audit(out, relations, params, hidden_at_least)
    _apply_line_rules(state, params, hidden_at_least)
    _apply_difference_rules(state, params)
    _apply_line_rules(state, params, hidden_at_least)
    memo: dict = {}  # each group of hidden cells is solved once
    # Hiding more never tells a reader more: every solution of the equations
    # stays a solution when a shown cell is hidden (with its true value), so a
    # cell proven safe stays safe and is not checked again.
    safe: set[str] = set()
    proven: list[pd.DataFrame] = []  # what each audit proved (its witnesses stay valid)
    while True:
        out = result_cells()
        # only these drive the loop: the small counts, and the counts never printed
        small = out.loc[out["status"].isin([PRIMARY, LATENT]), "cell"]
        small = small[~small.isin(safe)]
        result = audit_module.audit(
            out, relations, params, hidden_at_least, exact=False, memo=memo, only=small
        )
        safe |= set(result.table.loc[result.table["reason"] == OK, "cell"])
        proven.append(result.table)
        # A secondary cell a reader can work out exactly protects nothing, but
        # harms nothing either; only the small counts' failures drive the loop.
        failures = result.failures
        failures = failures[
            failures["cell"].map(position).map(lambda at: state.status[at]) != SECONDARY
        ]
        if failures.empty:
            break
        widened: set[str] = set()
        hid_any = False
        for cell, reason in failures[["cell", "reason"]].itertuples(index=False):
            at = position[cell]
            if not state.hidden[at]:
                raise AuditError(f"{cell}: a shown count fails the audit ({reason})")
            choice = _widen(state, at)
            if choice is None:
                raise AuditError(
                    f"{cell} is {reason} and no shown non-zero cell is left near it to hide"
                )
            relation, candidate = choice
            if relation in widened:
                continue  # this relation changed this round: audit again first
            state.hide(candidate, f"audit ({reason} {cell}): {relation}")
            widened.add(relation)
            hid_any = True
        if not hid_any:  # every failure waits on a changed relation: cannot happen
            raise AuditError("secondary suppression made no progress")
    # Show the secondary cells a reader can work out exactly: they protect
    # nothing, and showing them tells nothing new (the reader's knowledge, and
    # so every other hidden cell's range, stays the same).
    secondary = out.loc[out["status"] == SECONDARY, "cell"]
    result = audit_module.audit(
        out, relations, params, hidden_at_least, exact=False, memo=memo, only=secondary
    )
    for cell, reason in result.failures[["cell", "reason"]].itertuples(index=False):
        at = position[cell]
        if reason != audit_module.DETERMINED or state.status[at] != SECONDARY:
            continue
        if at in companions:
            # a row is hidden as a whole: the cell stays unprinted, but it is
            # no protected count (the audit checks only that it is not small)
            derivable[at] = True
            state.rule[at] += "; withheld with its row, derivable from the shown cells"
        else:
            state.hidden[at] = False
            state.status[at], state.rule[at] = SHOWN, "derivable from the shown cells"
    out = result_cells()
    if exact:
        return out, audit_module.audit(out, relations, params, hidden_at_least, exact=True)
    proven.append(result.table)
    return out, _final_audit(out, proven, params, time.perf_counter() - start)


def _final_audit(
    out: pd.DataFrame, proven: list[pd.DataFrame], params: DisclosureParams, seconds: float
) -> AuditResult:
    """The verdict on the protected cells, from what the loop's audits proved.

    Every hidden cell was checked by an audit of the loop (the small counts
    and latent cells) or by the last one (the secondary cells); hiding more
    never narrows a range, so each cell's latest witnesses still hold. Its
    reason is read again with its final status (a cell withheld with its row
    is checked only for being small).
    """
    latest = pd.concat(proven, ignore_index=True).drop_duplicates("cell", keep="last")
    hidden = out.loc[~out["shown"].astype(bool), ["cell"]]
    table = hidden.merge(latest.drop(columns=["table", "reason"]), on="cell", how="left")
    missing = table["low"].isna()
    if missing.any():  # cannot happen: every hidden cell was checked
        raise AuditError(f"{table.loc[missing, 'cell'].iloc[0]} was never audited")
    info = out.set_index("cell").loc[table["cell"]]
    latent = audit_module._latent(info.reset_index())
    table["table"] = info["table"].to_numpy()
    table["shown"] = False
    table["reason"] = [
        audit_module._reason(lo, hi, False, params.min_cell, bool(lt))
        for lo, hi, lt in zip(table["low"], table["high"], latent, strict=True)
    ]
    columns = ["cell", "table", "shown", "low", "high", "exact", "reason"]
    return AuditResult(table=table[columns], seconds=seconds)


# --------------------------------------------------------------------------------------
# the linked tables of a report year


def _participant_values(
    cohort: pd.DataFrame, variable: str, unknown_label: str
) -> tuple[pd.Series, list[str]]:
    """Each row's printed category of ``variable`` and the categories' order."""
    from arr_stats.plotting import group_label

    raw = (
        domain.age_group(cohort["age_at_admission"])
        if variable == "age_group"
        else cohort[variable]
    )
    categories = list(raw.cat.categories) if isinstance(raw.dtype, pd.CategoricalDtype) else []
    # dict.fromkeys: a category labelled like the missing values is listed once
    order = list(dict.fromkeys([str(group_label(c)) for c in categories] + [unknown_label]))
    values = raw.astype(object)
    values = values.where(values.notna(), unknown_label).map(lambda v: str(group_label(v)))
    return values, order


def _participants_counts(cohort: pd.DataFrame, variable: str, unknown_label: str) -> pd.DataFrame:
    """Counts per category (rows, in print order) and institution (columns)."""
    values, order = _participant_values(cohort, variable, unknown_label)
    units = cohort["institution_id"].astype(str)
    counts = pd.crosstab(values, units) if len(cohort) else pd.DataFrame()
    known = [o for o in order if o in counts.index]
    return counts.reindex(known + sorted(set(counts.index) - set(known)))


def _status_counts(cohort: pd.DataFrame, config: RunConfig) -> dict[str, pd.DataFrame]:
    """Per unit (and the nation): counts of each state at 3, 6 and 12 months."""
    columns = {f"state_{m}m": month_label(m) for m in sorted(config.outcomes.month_days)}
    order = list(config.outcomes.state_order)

    def table(rows: pd.DataFrame) -> pd.DataFrame:
        return (
            pd.DataFrame(
                {
                    label: rows[col].astype(object).value_counts().reindex(order, fill_value=0)
                    for col, label in columns.items()
                    if col in rows
                },
                index=order,
            )
            .fillna(0)
            .astype(np.int64)
        )

    out = {NATIONAL: table(cohort)}
    for unit, rows in cohort.groupby(cohort["institution_id"].astype(str), sort=True):
        out[unit_key(unit)] = table(rows)
    return out


def month_label(months: int) -> str:
    """The column label of the status at ``months`` months.

    Examples
    --------
    >>> month_label(3)
    '3 mnd'
    """
    return f"{months} mnd"


def participants_table_name(variable: str) -> str:
    """The table name of the participants by ``variable``.

    Examples
    --------
    >>> participants_table_name("sex")
    'participants:sex'
    """
    return f"{PARTICIPANTS_PREFIX}{variable}"


@dataclass(frozen=True)
class YearPublication:
    """The protected linked count tables of one report year.

    Attributes
    ----------
    year
        The report year.
    cells
        One row per published cell: ``cell, table, unit, row, column, value,
        shown, status, rule`` (``value`` is the true count: inside TSD only;
        :func:`write_publication` writes shown values only).
    relations
        The equations between the cells (``relation, cell, coefficient, kind``).
    audit
        The audit of the protected cells (it passed).
    """

    year: int
    cells: pd.DataFrame
    relations: pd.DataFrame
    audit: AuditResult

    def hidden_indicators(self) -> pd.DataFrame:
        """The indicator rows the publication hides: ``ind_id, year, unit`` (institution ids).

        What :func:`arr_stats.indicators.aggregate_indicators` takes as ``hidden``.
        """
        from arr_stats.publication.cohorts import INDICATOR_PREFIX, N_ROW

        c = self.cells
        rows = c[c["table"].str.startswith(INDICATOR_PREFIX) & (c["row"] == N_ROW)]
        rows = rows[~rows["shown"].astype(bool)]
        return pd.DataFrame(
            {
                "ind_id": rows["table"].str.slice(len(INDICATOR_PREFIX)).to_numpy(),
                "year": rows["column"].astype(int).to_numpy(),
                "unit": rows["unit"].str.slice(len(UNIT_PREFIX)).to_numpy(),
            }
        )

    def has(self, table: str, unit: str) -> bool:
        """Whether the publication holds ``table`` for ``unit``."""
        c = self.cells
        return bool(((c["table"] == table) & (c["unit"] == unit)).any())

    def grid(self, table: str, units: Sequence[tuple[str, str]]) -> SuppressedTable:
        """A view: some units' columns of a table, as a :class:`SuppressedTable`.

        Parameters
        ----------
        table
            A table name.
        units
            ``(unit key, printed column name)`` pairs: one column per unit
            (one-column tables such as the participants), or a single pair for
            a table with several columns of its own (then the printed name is
            unused).

        Returns
        -------
        SuppressedTable
            ``counts`` (true counts, for use inside TSD), ``mask`` (hidden),
            ``primary``, and ``display`` (shown values, hidden cells read
            :data:`~arr_stats.publication.disclosure.HIDDEN_MARK`).
        """
        c = self.cells[self.cells["table"] == table]
        if len(units) == 1 and c.loc[c["unit"] == units[0][0], "column"].nunique() > 1:
            mine = c[c["unit"] == units[0][0]]
            rows = list(dict.fromkeys(mine["row"]))
            cols = list(dict.fromkeys(mine["column"]))
            pick = mine.set_index(["row", "column"])
            frames = {
                name: pick[name].unstack("column").reindex(index=rows, columns=cols)
                for name in ("value", "shown", "status")
            }
        else:
            frames = {}
            rows = None
            for name in ("value", "shown", "status"):
                columns = {}
                for unit, label in units:
                    mine = c[c["unit"] == unit]
                    rows = rows or list(dict.fromkeys(mine["row"]))
                    columns[label] = mine.set_index("row")[name].reindex(rows)
                frames[name] = pd.DataFrame(columns)
        counts = frames["value"].astype(np.int64)
        mask = ~frames["shown"].astype(bool)
        primary = frames["status"] == PRIMARY
        display = counts.map(_format_count).astype(object).mask(mask, HIDDEN_MARK)
        for frame in (counts, mask, primary, display):
            frame.index.name = None
            frame.columns.name = None
        return SuppressedTable(counts=counts, mask=mask, primary=primary, display=display)


@dataclass(frozen=True)
class IndicatorData:
    """What the indicators of a year's publication are computed from.

    Attributes
    ----------
    responses, outcomes, institutions
        Derived tables (``episodes`` is :func:`year_publication`'s own).
    years
        The report years whose indicator rows the outputs show (the trend
        years of the report, the report year last).
    """

    responses: pd.DataFrame
    outcomes: pd.DataFrame
    institutions: pd.DataFrame
    years: tuple[int, ...]


def _indicator_part(
    data: IndicatorData,
    episodes: pd.DataFrame,
    outcome_cohort: pd.DataFrame,
    registered: pd.DataFrame,
    status_units: Sequence[str],
    config: RunConfig,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The indicator cells and the latent groups of episodes between all published cohorts."""
    from arr_stats.indicators.aggregate import listed_units
    from arr_stats.publication import cohorts

    members = cohorts.indicator_members(episodes, data.responses, data.outcomes, config, data.years)
    listed = {y: listed_units(episodes, data.institutions, y) for y in data.years}
    ind_cells, ind_relations = cohorts.indicator_cells(
        members, episodes, data.institutions, config, listed
    )
    published = set(ind_cells.loc[~ind_cells["latent"], "cell"])
    held = members.assign(
        cell=[
            cell_id(cohorts.indicator_table_name(i), unit_key(u), r, y)
            for i, u, r, y in members[["ind_id", "unit", "role", "year"]].itertuples(index=False)
        ]
    )
    held = [held.loc[held["cell"].isin(published), ["episode_id", "cell"]]]
    # the registered episodes per institution and discharge year
    recent = episodes[episodes["discharge_year"].isin(registered.columns)]
    held.append(
        pd.DataFrame(
            {
                "episode_id": recent["episode_id"].astype(str).to_numpy(),
                "cell": [
                    cell_id(EPISODES_TABLE, NATIONAL, u, y)
                    for u, y in zip(
                        recent["institution_id"].astype(str), recent["discharge_year"], strict=True
                    )
                ],
            }
        )
    )
    # the status table's column totals: the persons followed at each month (its
    # states are linked to the indicators through these totals only)
    status = outcome_cohort[outcome_cohort["institution_id"].astype(str).isin(status_units)]
    for m in sorted(config.outcomes.month_days):
        column = f"state_{m}m"
        if column not in status:
            continue
        rows = status[status[column].notna()]
        label = month_label(m)
        held.append(
            pd.DataFrame(
                {
                    "episode_id": rows["episode_id"].astype(str).to_numpy(),
                    "cell": [
                        cell_id(STATUS_TABLE, unit_key(u), TOTAL, label)
                        for u in rows["institution_id"].astype(str)
                    ],
                }
            )
        )
    universe = pd.DataFrame(
        {
            "episode_id": episodes["episode_id"].astype(str).to_numpy(),
            "unit": episodes["institution_id"].astype(str).to_numpy(),
            "discharge_year": episodes["discharge_year"].astype(int).to_numpy(),
        }
    )
    latent_cells, latent_relations = cohorts.latent_groups(
        pd.concat(held), universe, config.disclosure.min_cell
    )
    return (
        pd.concat([ind_cells, latent_cells], ignore_index=True),
        concat_relations([ind_relations, latent_relations]),
    )


def year_publication(
    episodes: pd.DataFrame,
    process_cohort: pd.DataFrame,
    outcome_cohort: pd.DataFrame,
    config: RunConfig,
    year: int,
    variables: Sequence[str],
    trend_years: int,
    unknown_label: str,
    indicator_data: IndicatorData | None = None,
) -> YearPublication:
    """Compute and protect the linked count tables of report year ``year``.

    Parameters
    ----------
    episodes
        Every consenting episode (the registered episodes table counts them all).
    process_cohort
        Episodes discharged in ``year`` of the units large enough to report.
    outcome_cohort
        Outcomes of episodes discharged in ``year − 1`` of the units large
        enough to report.
    config
        The run configuration (disclosure parameters, state order, month days).
    year
        The report year.
    variables
        The background variables of the participants tables (columns of the
        process cohort, or ``age_group``).
    trend_years
        How many years the registered-episodes table shows (``year`` and
        those before).
    unknown_label
        The printed category of a missing value.
    indicator_data
        The tables the indicators are computed from and the report years
        whose indicator rows the year's outputs show; ``None`` leaves the
        indicators out (the count tables alone).

    Returns
    -------
    YearPublication

    Raises
    ------
    AuditError
        The protected tables fail the audit (never published).

    Notes
    -----
    The tables and their equations:

    - ``episodes`` (every edition): institution × discharge year with
      totals; rows and columns add up.
    - ``status`` per unit of the outcome cohort and the nation (state × month
      with a total row; the nation's only when the cohort has at least
      ``min_denominator`` episodes); the national cell is the sum of the
      units' cells.
    - ``participants:<variable>`` per unit of the process cohort, the nation,
      and the rest of the country beside each unit (category × n with a
      total); the national cell is the sum of the units', a unit's cell plus
      its rest of the country is the national cell; a unit's total is the
      same in every participants table and equals its registered episodes in
      ``year``; the national total plus the registered episodes of the units
      too small to report equals the registered episodes of ``year``.
    - The shares printed beside the counts (count = share · column total).
    - With ``indicator_data``: every indicator row's n and numerator per
      unit and report year, and the groups of episodes between all these
      cohorts (:mod:`arr_stats.publication.cohorts`).
    """
    params = config.disclosure
    cell_pieces, relation_pieces = [], []

    def add(pair: tuple[pd.DataFrame, pd.DataFrame]) -> None:
        cell_pieces.append(pair[0])
        relation_pieces.append(pair[1])

    # registered episodes per institution and discharge year
    years = list(range(year - trend_years + 1, year + 1))
    recent = episodes[episodes["discharge_year"].isin(years)]
    registered = pd.crosstab(recent["institution_id"].astype(str), recent["discharge_year"])
    registered = registered.reindex(
        columns=[y for y in years if y in registered.columns], fill_value=0
    ).sort_index()
    add(_grid(EPISODES_TABLE, NATIONAL, registered))

    # status at 3, 6 and 12 months
    status_units: list[str] = []
    if len(outcome_cohort) >= params.min_denominator:
        status = _status_counts(outcome_cohort, config)
        for unit, counts in status.items():
            add(_grid(STATUS_TABLE, unit, counts, total_column=False))
        status_units = [k[len(UNIT_PREFIX) :] for k in status if k != NATIONAL]

    # participants by background variable
    units = sorted(process_cohort["institution_id"].astype(str).unique())
    for variable in variables:
        table = participants_table_name(variable)
        counts = _participants_counts(process_cohort, variable, unknown_label)
        national = counts.sum(axis=1).to_frame(N_COLUMN)
        add(_grid(table, NATIONAL, national, total_column=False))
        for u in units:
            own = counts[u].to_frame(N_COLUMN)
            add(_grid(table, unit_key(u), own, total_column=False))
            add(_grid(table, rest_key(u), national - own, total_column=False))

    cells = pd.concat(cell_pieces, ignore_index=True)
    relations = [*relation_pieces]
    if status_units:
        relations += _national_links(STATUS_TABLE, status_units, cells)
    for variable in variables:
        table = participants_table_name(variable)
        relations += _national_links(table, units, cells)
        for u in units:  # own + rest of the country = nation
            for r in cells.loc[(cells["table"] == table) & (cells["unit"] == NATIONAL), "row"]:
                relations.append(
                    sum_relation(
                        f"{table}|own + rest = national|{u}|{r}",
                        cell_id(table, NATIONAL, r, N_COLUMN),
                        [
                            cell_id(table, unit_key(u), r, N_COLUMN),
                            cell_id(table, rest_key(u), r, N_COLUMN),
                        ],
                        kind="link",
                    )
                )
    # a unit's n is the same in every participants table, and its registered episodes of Y
    if variables and year in registered.columns:
        first = participants_table_name(variables[0])
        keys = [NATIONAL, *(unit_key(u) for u in units), *(rest_key(u) for u in units)]
        for variable in variables[1:]:
            table = participants_table_name(variable)
            for key in keys:
                relations.append(
                    equal_relation(
                        f"n of {first} = n of {table}|{key}",
                        cell_id(first, key, TOTAL, N_COLUMN),
                        cell_id(table, key, TOTAL, N_COLUMN),
                    )
                )
        for u in units:
            relations.append(
                equal_relation(
                    f"{first} n = registered episodes|{u}",
                    cell_id(first, unit_key(u), TOTAL, N_COLUMN),
                    cell_id(EPISODES_TABLE, NATIONAL, u, year),
                )
            )
        too_small = [i for i in registered.index if i not in set(units)]
        relations.append(
            sum_relation(
                f"{first} national n + units too small = registered episodes {year}",
                cell_id(EPISODES_TABLE, NATIONAL, TOTAL, year),
                [
                    cell_id(first, NATIONAL, TOTAL, N_COLUMN),
                    *(cell_id(EPISODES_TABLE, NATIONAL, i, year) for i in too_small),
                ],
                kind="link",
            )
        )
    if indicator_data is not None and indicator_data.years:
        from arr_stats.publication.cohorts import priority

        # the registered episodes of earlier years give way to the report year's rows
        years_back = [
            int(c) if c != TOTAL else year
            for c in cells["column"].where(cells["table"] == EPISODES_TABLE, str(year))
        ]
        cells["priority"] = [priority(None, y, year) for y in years_back]
        more_cells, more_relations = _indicator_part(
            indicator_data, episodes, outcome_cohort, registered, status_units, config
        )
        cells = pd.concat([cells, more_cells], ignore_index=True)
        relations.append(more_relations)
    relations_table = concat_relations(relations)
    protected, result = protect(cells, relations_table, params)
    # the shares printed beside the counts: a share is shown where its count and
    # its column total are (a view rule), so it adds an equation but no new number
    shares = []
    for table, unit in protected[["table", "unit"]].drop_duplicates().itertuples(index=False):
        if table != EPISODES_TABLE:
            shares += _share_relations(protected, table, unit)
    shares_table = concat_relations(shares)
    shown = set(protected.loc[protected["shown"].astype(bool), "cell"])
    if not set(shares_table.get("cell", pd.Series(dtype=str))) <= shown:
        raise AuditError("a share is printed beside a hidden count")  # cannot happen
    # equations between shown cells only: every hidden cell's range stays as
    # protect() proved it, so its final audit stands
    relations_table = concat_relations([relations_table, shares_table])
    if not result.passed:
        raise AuditError(
            f"the linked tables of {year} fail the audit: "
            f"{len(result.failures)} cell(s) can be read off"
            + (
                ""
                if params.complementary_suppression
                else " (complementary_suppression is off in the run configuration; "
                "only small counts were hidden)"
            )
        )
    return YearPublication(year=year, cells=protected, relations=relations_table, audit=result)


# --------------------------------------------------------------------------------------
# one computation per year and build


_CACHE: dict[int, tuple[Any, dict[Any, YearPublication]]] = {}


def cached(owner: object, key: Any, compute: Callable[[], YearPublication]) -> YearPublication:
    """The publication ``compute()`` makes, computed once per ``owner`` and ``key``.

    ``owner`` is the object the publication is derived from (the loaded
    build); the cache entry goes with it.
    """
    owner_id = id(owner)
    entry = _CACHE.get(owner_id)
    if entry is None or entry[0]() is not owner:
        ref = weakref.ref(owner, lambda _r: _CACHE.pop(owner_id, None))
        entry = (ref, {})
        _CACHE[owner_id] = entry
    store = entry[1]
    if key not in store:
        store[key] = compute()
    return store[key]


# --------------------------------------------------------------------------------------
# writing


def publication_tables(publication: YearPublication) -> dict[str, pd.DataFrame]:
    """The tidy tables of a publication, without a hidden value.

    They stay in the build, inside TSD: a cell's ``status`` tells a primary
    cell (a count of 1 … ``min_cell`` − 1) from a secondary one, which the
    editions never do. The output check
    (:mod:`arr_stats.publication.output_check`) reads them.

    Returns
    -------
    dict
        ``cells``: ``cell, table, unit, row, column, value, status, rule`` –
        ``value`` empty for hidden cells; ``relations``: the equations
        between them (a share's coefficient is printed anyway); ``audit``:
        what a reader can prove about each hidden cell (``cell, table, low,
        high, exact, reason``).
    """
    cells = publication.cells
    value = cells["value"].astype("Int64").where(cells["shown"].astype(bool))
    out_cells = cells.assign(value=value)[
        ["cell", "table", "unit", "row", "column", "value", "status", "rule"]
    ].astype({"row": str, "column": str})
    result = publication.audit.table
    hidden = ~result["shown"].astype(bool)
    out_audit = result[hidden][["cell", "table", "low", "high", "exact", "reason"]]
    return {
        "cells": out_cells.reset_index(drop=True),
        "relations": publication.relations.reset_index(drop=True),
        "audit": out_audit.reset_index(drop=True),
    }


#: The record of a written publication: its year, the fingerprint of what made it, the audit's seconds.
RECORD_FILE = "publication.json"


def write_publication(
    publication: YearPublication, folder: Path, fingerprint: str = ""
) -> list[Path]:
    """Write the publication's tidy tables as Parquet and CSV into ``folder``.

    Parameters
    ----------
    publication
        The protected publication.
    folder
        Where (``publication/<year>/`` in the build folder).
    fingerprint
        What the publication was made from (:func:`read_publication` reads it
        back only when the fingerprint matches).

    Returns
    -------
    list of Path
        The files written: ``cells``, ``relations``, ``audit`` (each
        ``.parquet`` and ``.csv``) and :data:`RECORD_FILE` (the year, the
        fingerprint and the audit's seconds, left out when
        ``SOURCE_DATE_EPOCH`` is set so that two builds write the same bytes).
    """
    import json

    from arr_stats.io import write_parquet

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, table in publication_tables(publication).items():
        parquet, csv = folder / f"{name}.parquet", folder / f"{name}.csv"
        write_parquet(table, parquet)
        table.to_csv(csv, index=False, lineterminator="\n")
        written += [parquet, csv]
    record = folder / RECORD_FILE
    saved = {
        "year": publication.year,
        "fingerprint": fingerprint,
        # how long the audit took: a measurement, not a fact of the tables;
        # left out under SOURCE_DATE_EPOCH (reproducible builds: same bytes)
        "audit_seconds": None
        if os.environ.get("SOURCE_DATE_EPOCH")
        else round(float(publication.audit.seconds), 1),
    }
    record.write_text(json.dumps(saved, indent=2) + "\n", encoding="utf-8")
    return [*written, record]


def read_publication(folder: Path, fingerprint: str) -> YearPublication | None:
    """A written publication, when ``folder`` holds one made from ``fingerprint``.

    Hidden cells come back without their values (``value`` 0, ``shown``
    False): what a view needs, and all that left the computation.

    Returns
    -------
    YearPublication or None
        ``None`` when there is none, or it was made from other inputs.
    """
    import json

    from arr_stats.io import read_parquet

    folder = Path(folder)
    record = folder / RECORD_FILE
    if not record.is_file():
        return None
    saved = json.loads(record.read_text(encoding="utf-8"))
    if not fingerprint or saved.get("fingerprint") != fingerprint:
        return None
    cells = read_parquet(folder / "cells.parquet")
    cells = cells.assign(
        shown=cells["status"] == SHOWN,
        value=cells["value"].fillna(0).astype(np.int64),
    )
    audit = read_parquet(folder / "audit.parquet")
    audit = audit.assign(shown=False)
    return YearPublication(
        year=int(saved["year"]),
        cells=cells,
        relations=read_parquet(folder / "relations.parquet"),
        audit=AuditResult(table=audit, seconds=float(saved.get("audit_seconds") or 0.0)),
    )


__all__ = [
    "OK",
    "YearPublication",
    "cached",
    "cell_id",
    "primary_rule",
    "protect",
    "publication_tables",
    "read_publication",
    "write_publication",
    "year_publication",
]
