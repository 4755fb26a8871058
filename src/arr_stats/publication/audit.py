"""The audit of a publication: what a reader can work out from every published number at once.

A year's outputs are one publication (disclosure.md, "A year's outputs are
one publication"): a reader holds every edition, file and table of the year
together and may combine them. This module writes what is published as a
system of linear equations and asks, by linear and integer programming, what
the reader can learn about each hidden cell.

The representation is generic:

``cells``
    One row per published count: ``cell`` (a unique id), ``table``,
    ``value`` (the true count, a whole number ≥ 0) and ``shown`` (whether the
    number is printed). Only the shown values are known to a reader.
``relations``
    Long form, one row per term: ``relation`` (an id), ``cell``,
    ``coefficient``, and optionally ``kind`` (``"line"`` for a row or column
    of one table and its total, ``"link"`` for an equation between tables or
    editions). Each relation says Σ coefficient · cell = 0. A total is the sum
    of its parts (:func:`sum_relation`); a national cell is the sum of the
    units' cells; the n of one table is the n of another
    (:func:`equal_relation`); a printed proportion ``p`` of a base implies
    the count ``p · base`` (:func:`proportion_relation`).

A reader also knows that every count is a whole number and that a hidden
cell is at least ``hidden_at_least`` (1 when, as in this package, zeros are
always shown: a hidden cell is then known to be non-zero).

Two optional columns of ``cells`` refine that:

``at_least``
    What a reader knows of this hidden cell (overrides ``hidden_at_least``):
    0 for a count whose row is hidden as a whole, zeros included (an
    indicator's n and numerator of a unit whose indicator is not shown).
``latent``
    A count that no output prints but that a reader can bound from those
    that are: the persons of a cohort in one indicator and not in another
    (n of ``arr_srtw`` − n of ``arr_rtw12`` = the deaths and emigrations), or
    the consenting episodes never linked. Each is a group of persons a reader
    could describe, so it may not be read off as 1 … ``min_cell − 1``
    either; but it may be determined (37 deaths, or none, tell nobody's
    count of 1 … 4). A latent cell is at least 0.

:func:`audit` bounds every hidden cell: the smallest and largest value it can
take given all of that (integer programming with HiGHS, through
:func:`scipy.optimize.linprog` and :func:`scipy.optimize.milp`). The audit
fails when

- a hidden cell is determined (only one whole number fits its bounds);
- a hidden cell's range lies within 1 … ``min_cell − 1`` (the reader knows it
  is a small count, even without knowing which);
- a shown cell is a count of 1 … ``min_cell − 1``;
- a latent cell's range lies within 1 … ``min_cell − 1`` (determined at such
  a value included).

The threshold is the run configuration's
:attr:`~arr_stats.config.DisclosureParams.min_cell`; nothing here hard-codes it.

Notes
-----
The hidden cells fall into independent groups (connected through the
relations that hold two or more of them); each group is solved on its own.
For each hidden cell the linear programme is solved first; when its optimum
is a whole-number point it is also the integer optimum (the integer
programme cannot do better than its relaxation and that point is feasible
for it). Only otherwise is the integer programme solved. The bounds are
therefore those of the integer programme – what a reader who knows the
counts are whole numbers can prove.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse.csgraph import connected_components

from arr_stats.config import DisclosureParams
from arr_stats.errors import ArrStatsError

#: Columns of the ``cells`` table the audit reads (``at_least`` and ``latent`` are optional).
CELL_COLUMNS = ("cell", "table", "value", "shown")

#: Columns of the ``relations`` table.
RELATION_COLUMNS = ("relation", "cell", "coefficient", "kind")

#: Reasons in the audit's result (``"ok"``: nothing can be read off).
OK = "ok"
DETERMINED = "determined"
SMALL_RANGE = "small range"
SMALL_SHOWN = "small shown count"

#: Tolerance for reading a solver's optimum as a whole number.
_TOL = 1e-6


class AuditError(ArrStatsError):
    """A publication fails the audit: a small count can be read off it."""


@dataclass(frozen=True)
class AuditResult:
    """What a reader can work out about a publication.

    Attributes
    ----------
    table
        One row per hidden cell and per failing shown cell: ``cell, table,
        shown, low, high, exact, reason``. ``low``/``high`` are the whole-number
        bounds a reader can prove (``high`` is ``inf`` when unbounded; for a
        shown cell both are its value) where ``exact``, else values the cell
        is proven able to take (:func:`witness_ranges`); ``reason`` is ``"ok"``,
        ``"determined"``, ``"small range"`` or ``"small shown count"``. No true
        value of a hidden cell is in it.
    seconds
        How long the audit took.
    """

    table: pd.DataFrame
    seconds: float

    @property
    def passed(self) -> bool:
        """Whether no cell fails."""
        return bool((self.table["reason"] == OK).all())

    @property
    def failures(self) -> pd.DataFrame:
        """The failing rows of :attr:`table`."""
        return self.table[self.table["reason"] != OK].reset_index(drop=True)


def sum_relation(
    relation: str, total: str, parts: Sequence[str], kind: str = "line"
) -> pd.DataFrame:
    """The relation ``total = Σ parts`` as relation rows.

    Examples
    --------
    >>> sum_relation("r1", "T", ["a", "b"])[["cell", "coefficient"]].values.tolist()
    [['a', 1.0], ['b', 1.0], ['T', -1.0]]
    """
    cells = [*parts, total]
    coefficients = [1.0] * len(parts) + [-1.0]
    return _relation_rows(relation, cells, coefficients, kind)


def equal_relation(relation: str, a: str, b: str, kind: str = "link") -> pd.DataFrame:
    """The relation ``a = b`` (the same number printed in two places, or two cohorts' n).

    Examples
    --------
    >>> equal_relation("n", "x", "y")["coefficient"].tolist()
    [1.0, -1.0]
    """
    return _relation_rows(relation, [a, b], [1.0, -1.0], kind)


def proportion_relation(
    relation: str, count: str, base: str, proportion: float, kind: str = "link"
) -> pd.DataFrame:
    """A printed proportion: ``count = proportion · base``.

    Pass the proportion as computed (not as rounded for print): a reader who
    knew it exactly could do no more than this.

    Examples
    --------
    >>> proportion_relation("p", "k", "n", 0.25)["coefficient"].tolist()
    [1.0, -0.25]
    """
    return _relation_rows(relation, [count, base], [1.0, -float(proportion)], kind)


def _relation_rows(
    relation: str, cells: Sequence[str], coefficients: Sequence[float], kind: str
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "relation": relation,
            "cell": list(cells),
            "coefficient": [float(c) for c in coefficients],
            "kind": kind,
        },
        columns=list(RELATION_COLUMNS),
    )


def concat_relations(pieces: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Relation rows of several relations as one table (an empty one when none)."""
    pieces = [p for p in pieces if not p.empty]
    if not pieces:
        return pd.DataFrame(columns=list(RELATION_COLUMNS))
    return pd.concat(pieces, ignore_index=True)


def _check_inputs(cells: pd.DataFrame, relations: pd.DataFrame) -> None:
    missing = [c for c in CELL_COLUMNS if c not in cells.columns]
    if missing:
        raise ValueError(f"audit: the cells lack columns {missing}")
    if cells["cell"].duplicated().any():
        dup = cells.loc[cells["cell"].duplicated(), "cell"].iloc[0]
        raise ValueError(f"audit: cell {dup!r} is listed twice")
    unknown = set(relations["cell"]) - set(cells["cell"])
    if unknown:
        raise ValueError(f"audit: relations name cells that are not listed: {sorted(unknown)[:3]}")
    values = pd.to_numeric(cells["value"], errors="coerce").to_numpy(dtype=float)
    if (
        np.isnan(values).any()
        or (values < 0).any()
        or (np.abs(values - np.round(values)) > 0).any()
    ):
        raise ValueError("audit: every cell's value must be a whole number ≥ 0")


def _bound(c: np.ndarray, a_eq: sparse.csr_matrix, b_eq: np.ndarray, lower: np.ndarray) -> float:
    """The minimum of c·x over whole numbers x ≥ lower with a_eq x = b_eq."""
    n = len(c)
    lower = np.broadcast_to(np.asarray(lower, dtype=float), (n,))
    result = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=[(lo, None) for lo in lower], method="highs")
    if result.status == 3:  # unbounded
        return -np.inf
    if result.status != 0:
        raise AuditError(
            f"audit: the published numbers are inconsistent (linear programme: {result.message})"
        )
    x = result.x
    if np.all(np.abs(x - np.round(x)) <= _TOL):
        return float(np.round(result.fun, 6))
    whole = milp(
        c,
        constraints=LinearConstraint(a_eq, b_eq, b_eq),
        integrality=np.ones(n),
        bounds=Bounds(lower, np.full(n, np.inf)),
    )
    if whole.status != 0:
        raise AuditError(f"audit: integer programme failed ({whole.message})")
    return float(np.round(whole.fun, 6))


def _reason(low: float, high: float, shown: bool, min_cell: int, latent: bool = False) -> str:
    if shown:
        return SMALL_SHOWN if 1 <= low < min_cell else OK
    lo, hi = np.ceil(low - _TOL), np.floor(high + _TOL)
    if not latent and hi - lo + 1 <= 1:
        return DETERMINED
    if lo >= 1 and hi <= min_cell - 1:
        return SMALL_RANGE
    return OK


@dataclass(frozen=True)
class _Group:
    """One group of hidden cells linked through relations: A x = b over its cells."""

    members: np.ndarray  # positions among the hidden cells
    a_eq: sparse.csr_matrix
    b_eq: np.ndarray
    lower: np.ndarray  # what a reader knows of each member: at least this


def _lower_bounds(cells: pd.DataFrame, hidden_at_least: int) -> np.ndarray:
    """What a reader knows of each cell: at least this (``at_least``; 0 for latent cells)."""
    lower = np.full(len(cells), float(hidden_at_least))
    if "at_least" in cells.columns:
        given = pd.to_numeric(cells["at_least"], errors="coerce").to_numpy(dtype=float)
        lower = np.where(np.isnan(given), lower, given)
    return np.where(_latent(cells), 0.0, lower)


def _latent(cells: pd.DataFrame) -> np.ndarray:
    if "latent" not in cells.columns:
        return np.zeros(len(cells), dtype=bool)
    return np.array([False if pd.isna(v) else bool(v) for v in cells["latent"]], dtype=bool)


def _groups(
    cells: pd.DataFrame, relations: pd.DataFrame, hidden_at_least: int = 1
) -> tuple[np.ndarray, list[_Group], np.ndarray]:
    """Hidden cell positions, their linked groups, and which hidden cells are in no relation."""
    shown = cells["shown"].astype(bool).to_numpy()
    lower_all = _lower_bounds(cells, hidden_at_least)
    values = cells["value"].to_numpy(dtype=float)
    position = pd.Series(np.arange(len(cells)), index=cells["cell"].to_numpy())
    hidden_pos = np.flatnonzero(~shown)
    if len(hidden_pos) == 0 or relations.empty:
        return hidden_pos, [], np.ones(len(hidden_pos), dtype=bool)
    rel_ids, rel_index = np.unique(
        relations["relation"].to_numpy(dtype=object).astype(str), return_inverse=True
    )
    col = position[relations["cell"].to_numpy()].to_numpy()
    coef = relations["coefficient"].to_numpy(dtype=float)
    full = sparse.csr_matrix((coef, (rel_index, col)), shape=(len(rel_ids), len(cells)))
    # what the shown cells contribute to each relation moves to the right-hand side
    rhs = -(full[:, shown] @ values[shown])
    a_hidden = full[:, hidden_pos].tocsc()
    a_hidden.eliminate_zeros()
    # hidden cells linked through a relation that holds both are one group
    incidence = (a_hidden != 0).astype(np.int8).tocsc()
    adjacency = (incidence.T @ incidence).tocsr()
    n_groups, group = connected_components(adjacency, directed=False)
    touched = np.asarray(incidence.sum(axis=0)).ravel() > 0
    groups = []
    for g in range(n_groups):
        members = np.flatnonzero((group == g) & touched)
        if len(members) == 0:
            continue
        rows = np.flatnonzero(np.asarray(incidence[:, members].sum(axis=1)).ravel() > 0)
        groups.append(
            _Group(
                members,
                a_hidden[rows][:, members].tocsr(),
                rhs[rows],
                lower_all[hidden_pos[members]],
            )
        )
    return hidden_pos, groups, ~touched


def hidden_ranges(
    cells: pd.DataFrame, relations: pd.DataFrame, hidden_at_least: int = 1
) -> pd.DataFrame:
    """The whole-number bounds a reader can prove for each hidden cell.

    Parameters
    ----------
    cells, relations
        As described in the module docstring; not modified.
    hidden_at_least
        The least value a reader knows a hidden cell to have (1 when zeros are
        always shown).

    Returns
    -------
    DataFrame
        ``cell, low, high`` for every hidden cell, in the order of ``cells``.
    """
    cells = cells.reset_index(drop=True)
    hidden_pos, groups, _ = _groups(cells, relations, hidden_at_least)
    lows = _lower_bounds(cells, hidden_at_least)[hidden_pos]
    highs = np.full(len(hidden_pos), np.inf)
    for group in groups:
        for k, member in enumerate(group.members):
            c = np.zeros(len(group.members))
            c[k] = 1.0
            lows[member] = _bound(c, group.a_eq, group.b_eq, group.lower)
            highs[member] = -_bound(-c, group.a_eq, group.b_eq, group.lower)
    return pd.DataFrame({"cell": cells["cell"].to_numpy()[hidden_pos], "low": lows, "high": highs})


def _solve_whole(c: np.ndarray, group: _Group, upper: float) -> np.ndarray:
    """An integer optimum of c·x on the group's equations, its lower bounds ≤ x ≤ upper."""
    n = len(c)
    result = milp(
        c,
        constraints=LinearConstraint(group.a_eq, group.b_eq, group.b_eq),
        integrality=np.ones(n),
        bounds=Bounds(group.lower, np.full(n, upper)),
    )
    if result.status != 0 or result.x is None:
        raise AuditError(
            f"audit: the published numbers are inconsistent (integer programme: {result.message})"
        )
    return np.round(result.x)


def witness_ranges(
    cells: pd.DataFrame,
    relations: pd.DataFrame,
    params: DisclosureParams,
    hidden_at_least: int = 1,
    memo: dict | None = None,
    only: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Whole-number values each hidden cell is proven able to take: enough to pass or fail.

    A faster alternative to :func:`hidden_ranges` for the audit's verdict.
    The true counts are one solution of the published equations. Integer
    programmes that push the unproven hidden cells up (and down) together find
    other solutions; a cell is safe once two solutions give it different
    values and one gives it at least ``min_cell``. Cells not proven safe that
    way get their own exact maximum and minimum, so the verdict is the same as
    :func:`hidden_ranges` would give.

    With ``only`` (cell ids), only those hidden cells are proven; the others
    keep whatever values the witnesses gave them.

    ``memo`` (a dict kept by the caller between calls on the same cells and
    relations with different cells hidden) keeps each group's answer: a group
    with the same hidden cells is the same system of equations.

    Returns
    -------
    DataFrame
        ``cell, low, high, exact``: ``[low, high]`` lies inside the cell's
        range (they are its exact bounds where ``exact``).
    """
    cells = cells.reset_index(drop=True)
    hidden_pos, groups, free = _groups(cells, relations, hidden_at_least)
    values = cells["value"].to_numpy(dtype=float)[hidden_pos]
    latent = _latent(cells)[hidden_pos]
    lows, highs = values.copy(), values.copy()
    exact = np.zeros(len(hidden_pos), dtype=bool)
    # a cell in no equation: any value from what a reader knows of it up
    lows[free] = _lower_bounds(cells, hidden_at_least)[hidden_pos][free]
    highs[free] = np.inf
    exact[free] = True
    ceiling = 10.0 * (values.sum() + params.min_cell) + 10.0  # finite bound for witnesses only

    def proven(m: np.ndarray) -> np.ndarray:
        # safe: two values, one of them ≥ min_cell; a latent cell also when it may be 0
        hidden = (highs[m] > lows[m]) & (highs[m] >= params.min_cell)
        return np.where(latent[m], (lows[m] <= 0) | (highs[m] >= params.min_cell), hidden)

    ids = cells["cell"].to_numpy()[hidden_pos]
    check = np.ones(len(hidden_pos), dtype=bool) if only is None else np.isin(ids, list(only))
    for group in groups:
        m = group.members
        key = (hidden_at_least, params.min_cell, tuple(ids[m]), tuple(ids[m][check[m]]))
        if memo is not None and key in memo:
            lows[m], highs[m], exact[m] = memo[key]
            continue
        for _ in range(3):
            todo = ~proven(m) & check[m]
            if not todo.any():
                break
            before = (lows[m].copy(), highs[m].copy())
            for sign in (-1.0, 1.0):
                c = np.where(todo, sign, 0.0)
                x = _solve_whole(c, group, ceiling)
                lows[m] = np.minimum(lows[m], x)
                highs[m] = np.maximum(highs[m], x)
            if np.array_equal(before[0], lows[m]) and np.array_equal(before[1], highs[m]):
                break
        for k in np.flatnonzero(~proven(m) & check[m]):
            c = np.zeros(len(m))
            c[k] = 1.0
            high = -_bound(-c, group.a_eq, group.b_eq, group.lower)
            highs[m[k]] = high
            if proven(m[k : k + 1])[0]:
                continue  # its true value and a larger one ≥ min_cell: safe
            lows[m[k]] = _bound(c, group.a_eq, group.b_eq, group.lower)
            exact[m[k]] = True
        if memo is not None:
            memo[key] = (lows[m].copy(), highs[m].copy(), exact[m].copy())
    return pd.DataFrame(
        {
            "cell": cells["cell"].to_numpy()[hidden_pos],
            "low": lows,
            "high": highs,
            "exact": exact,
        }
    )


def audit(
    cells: pd.DataFrame,
    relations: pd.DataFrame,
    params: DisclosureParams,
    hidden_at_least: int = 1,
    exact: bool = True,
    memo: dict | None = None,
    only: Iterable[str] | None = None,
) -> AuditResult:
    """Prove that no small count can be read off a publication – or show where it can.

    Parameters
    ----------
    cells
        ``cell, table, value, shown`` (other columns are ignored); not modified.
    relations
        ``relation, cell, coefficient`` (and ``kind``); not modified.
    params
        The disclosure parameters (``min_cell``).
    hidden_at_least
        What a reader knows of every hidden cell: at least this (1: zeros are
        always shown, so a hidden cell is non-zero).
    exact
        True: every hidden cell's exact bounds (:func:`hidden_ranges`, two
        programmes per cell). False: the faster :func:`witness_ranges`, which
        reaches the same verdict; its ``low``/``high`` may then be inner bounds.
    memo
        With ``exact=False``: a dict kept between audits of the same cells and
        relations (:func:`witness_ranges`).
    only
        With ``exact=False``: check only these cells (ids); the result has
        rows for them alone.

    Returns
    -------
    AuditResult
        Its :attr:`~AuditResult.passed` is False when a hidden cell is
        determined, or bounded within 1 … ``min_cell − 1``, or a shown count
        is 1 … ``min_cell − 1``.

    Raises
    ------
    ValueError
        A cell listed twice, a relation naming an unknown cell, a value that
        is not a whole number ≥ 0.
    AuditError
        The published numbers contradict each other (no solution).

    Examples
    --------
    A 2 × 2 table with its margins, one inner cell hidden: its row gives it back.

    >>> cells = pd.DataFrame({
    ...     "cell": ["a", "b", "c", "d", "r1", "r2", "c1", "c2", "T"],
    ...     "table": "t", "value": [3, 7, 6, 8, 10, 14, 9, 15, 24],
    ...     "shown": [False, True, True, True, True, True, True, True, True]})
    >>> relations = concat_relations([
    ...     sum_relation("row1", "r1", ["a", "b"]), sum_relation("row2", "r2", ["c", "d"]),
    ...     sum_relation("col1", "c1", ["a", "c"]), sum_relation("col2", "c2", ["b", "d"]),
    ...     sum_relation("rowT", "T", ["r1", "r2"]), sum_relation("colT", "T", ["c1", "c2"])])
    >>> result = audit(cells, relations, DisclosureParams())
    >>> result.passed, result.table[["cell", "low", "high", "reason"]].values.tolist()
    (False, [['a', 3.0, 3.0, 'determined']])
    """
    start = time.perf_counter()
    cells = cells.reset_index(drop=True)
    if "kind" not in relations.columns:
        relations = relations.assign(kind="line")
    _check_inputs(cells, relations)
    if exact:
        ranges = hidden_ranges(cells, relations, hidden_at_least).assign(exact=True)
    else:
        ranges = witness_ranges(cells, relations, params, hidden_at_least, memo, only)
    ranges = ranges.set_index("cell")
    rows = []
    min_cell = params.min_cell
    checked = None if only is None or exact else set(only)
    latent = _latent(cells)
    low_of = ranges["low"].to_dict()
    high_of = ranges["high"].to_dict()
    exact_of = ranges["exact"].to_dict()
    for (cell, table, value, shown), is_latent in zip(
        cells[["cell", "table", "value", "shown"]].itertuples(index=False), latent, strict=True
    ):
        if checked is not None and cell not in checked:
            continue
        if bool(shown):
            reason = _reason(float(value), float(value), True, min_cell)
            if reason != OK:
                rows.append((cell, table, True, float(value), float(value), True, reason))
            continue
        low, high = low_of[cell], high_of[cell]
        reason = _reason(low, high, False, min_cell, bool(is_latent))
        rows.append((cell, table, False, low, high, bool(exact_of[cell]), reason))
    columns = ["cell", "table", "shown", "low", "high", "exact", "reason"]
    table = pd.DataFrame(rows, columns=columns)
    return AuditResult(table=table, seconds=time.perf_counter() - start)
