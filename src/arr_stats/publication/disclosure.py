"""Disclosure control: the small-cell rules of ``docs/spec/disclosure.md`` in one place.

Every table and figure that leaves TSD (the report, notebook outputs, the
aggregated indicator file) passes through this module. Every threshold comes
from :class:`arr_stats.config.DisclosureParams`; nothing here hard-codes 5 or 10.

The rules, as implemented (``docs/indicators.md`` explains each choice):

- :func:`suppress_counts` – a count of 1 … ``min_cell − 1`` is shown as
  ``"<min_cell>"``; 0 is shown.
- :func:`suppress_statistics` – a proportion, mean, median or curve value whose
  group has fewer than ``min_denominator`` persons is shown as
  ``"n < min_denominator"``.
- :func:`suppress_with_margins` – primary and complementary suppression in a
  two-way table with row and column totals; every hidden cell is shown with the
  same mark (:data:`HIDDEN_MARK`) so a reader cannot tell a small cell from a
  complementary one.
- :func:`hidden_running_totals` – n's of a cohort followed over time that
  would give the (small) number who left in between.
- :func:`pool_survival_steps` – survival and cumulative-incidence curves drawn
  in pooled steps.
- :func:`check_no_identifiers` – a rendered output that contains something that
  looks like a person identifier is an error.

None of these functions mutates its input.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from arr_stats.config import DisclosureParams
from arr_stats.domain import MERGED_STATE, STATUS_MONTHS, month_day
from arr_stats.errors import ArrStatsError

#: The mark of a hidden cell in a table with margins (primary and complementary
#: alike; see :func:`suppress_with_margins`).
HIDDEN_MARK = "x"

#: An 11-digit number: a Norwegian national identity number (fødselsnummer),
#: also written as 6 + 5 digits with a space.
#: A Norwegian national identity number: 11 digits (or 6 + space + 5) standing
#: as a token of their own. Letters on either side are excluded too: a hex
#: digest (a git commit, a SHA-256) can hold 11 digits in a row by chance.
NATIONAL_ID_PATTERN = re.compile(r"(?<![0-9A-Za-z])\d{6}\s?\d{5}(?![0-9A-Za-z])")


class DisclosureError(ArrStatsError):
    """An output would disclose a person (an identifier in a rendered output)."""


def small_count_label(params: DisclosureParams) -> str:
    """How a count of 1 … ``min_cell − 1`` is shown.

    Examples
    --------
    >>> small_count_label(DisclosureParams())
    '<5'
    """
    return f"<{params.min_cell}"


def small_group_label(params: DisclosureParams) -> str:
    """How a statistic of a group below ``min_denominator`` persons is shown.

    Examples
    --------
    >>> small_group_label(DisclosureParams())
    'n < 10'
    """
    return f"n < {params.min_denominator}"


def is_small_count(counts: pd.Series | np.ndarray, params: DisclosureParams) -> np.ndarray:
    """Whether each count is a primary-suppressed small count (1 … ``min_cell − 1``).

    Missing counts are not small (they are shown empty).

    Examples
    --------
    >>> is_small_count(np.array([0, 1, 4, 5]), DisclosureParams()).tolist()
    [False, True, True, False]
    """
    values = pd.to_numeric(pd.Series(np.asarray(counts)), errors="coerce").to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        return (values > 0) & (values < params.min_cell)


def _format_count(value: object) -> str:
    if value is None or pd.isna(value):
        return ""
    number = float(value)  # type: ignore[arg-type]
    return str(int(number)) if number.is_integer() else f"{number:g}"


def suppress_counts(
    table: pd.DataFrame, count_columns: Sequence[str], params: DisclosureParams
) -> pd.DataFrame:
    """Show small counts as ``"<5"`` (the ``min_cell`` rule).

    Parameters
    ----------
    table
        Any table; it is not modified.
    count_columns
        Columns that hold counts of persons (or episodes).
    params
        The disclosure parameters.

    Returns
    -------
    DataFrame
        A copy in which each count column is a string column: counts of 1 …
        ``min_cell − 1`` read ``"<min_cell>"``, other counts their integer
        value, missing counts ``""``. Other columns are unchanged.

    Examples
    --------
    >>> t = pd.DataFrame({"unit": ["A", "B", "C"], "n": [0, 3, 12]})
    >>> suppress_counts(t, ["n"], DisclosureParams())["n"].tolist()
    ['0', '<5', '12']
    """
    out = table.copy()
    label = small_count_label(params)
    for column in count_columns:
        small = is_small_count(table[column], params)
        shown = [_format_count(v) for v in table[column]]
        out[column] = pd.Series(np.where(small, label, shown), index=table.index, dtype=object)
    return out


def small_group_mask(table: pd.DataFrame, n_column: str, params: DisclosureParams) -> pd.Series:
    """Rows whose group has fewer than ``min_denominator`` persons (missing n counts as small).

    Examples
    --------
    >>> t = pd.DataFrame({"n": [9, 10, None]})
    >>> small_group_mask(t, "n", DisclosureParams()).tolist()
    [True, False, True]
    """
    n = pd.to_numeric(table[n_column], errors="coerce")
    return (n.isna() | (n < params.min_denominator)).rename(None)


def small_count_mask(table: pd.DataFrame, count_column: str, params: DisclosureParams) -> pd.Series:
    """Rows whose count of persons is 1 … ``min_cell`` − 1 (missing is not small).

    Examples
    --------
    >>> t = pd.DataFrame({"events": [0, 1, 4, 5, None]})
    >>> small_count_mask(t, "events", DisclosureParams()).tolist()
    [False, True, True, False, False]
    """
    count = pd.to_numeric(table[count_column], errors="coerce")
    return ((count >= 1) & (count < params.min_cell)).fillna(False).astype(bool).rename(None)


def hidden_statistic_mask(
    table: pd.DataFrame,
    n_column: str,
    params: DisclosureParams,
    numerator_column: str | None = None,
) -> pd.Series:
    """Rows whose statistic may not be shown.

    A statistic is hidden when its group has fewer than ``min_denominator``
    persons, and – for a proportion or cumulative incidence, whose value
    times its denominator gives back its numerator – also when that
    numerator, or the rest of the denominator (``n − numerator``), is a count
    of 1 … ``min_cell`` − 1 persons. Without these rules, 3 registered
    episodes out of 20 patients would be shown as 15 % of 20 and the count 3
    read back, and 17 of 20 as 85 % of 20, giving back the 3 not registered
    (disclosure.md: a proportion and its base count as the counts they
    imply; no count below ``min_cell`` may be read off).

    Examples
    --------
    >>> t = pd.DataFrame({"n": [9, 20, 20, 20, 20, 20], "numerator": [2, 3, 0, 12, 17, 20]})
    >>> hidden_statistic_mask(t, "n", DisclosureParams(), "numerator").tolist()
    [True, True, False, False, True, False]
    """
    hidden = small_group_mask(table, n_column, params)
    if numerator_column is not None:
        rest = pd.DataFrame(
            {
                "rest": pd.to_numeric(table[n_column], errors="coerce")
                - pd.to_numeric(table[numerator_column], errors="coerce")
            },
            index=table.index,
        )
        hidden = (
            hidden
            | small_count_mask(table, numerator_column, params)
            | small_count_mask(rest, "rest", params)
        )
    return hidden


def suppress_statistics(
    table: pd.DataFrame,
    value_columns: Sequence[str],
    n_column: str,
    params: DisclosureParams,
    numerator_column: str | None = None,
) -> pd.DataFrame:
    """Hide statistics of groups with fewer than ``min_denominator`` persons.

    With ``numerator_column`` (proportions, cumulative incidences), also hide
    those whose numerator or ``n − numerator`` is a count of 1 …
    ``min_cell`` − 1 (see :func:`hidden_statistic_mask`).

    Parameters
    ----------
    table
        One row per group; not modified.
    value_columns
        Columns of statistics (proportion, mean, median, interval limits, a curve value).
    n_column
        The column with the number of persons the statistic is computed on.
    params
        The disclosure parameters.

    Returns
    -------
    DataFrame
        A copy in which each value column is of object dtype: the value where
        the group is large enough, ``"n < min_denominator"`` where it is not.
        The ``n_column`` is left as it is (pass it to :func:`suppress_counts`).

    Examples
    --------
    >>> t = pd.DataFrame({"unit": ["A", "B"], "n": [4, 40], "share": [0.25, 0.5]})
    >>> suppress_statistics(t, ["share"], "n", DisclosureParams())["share"].tolist()
    ['n < 10', 0.5]
    """
    out = table.copy()
    small = hidden_statistic_mask(table, n_column, params, numerator_column).to_numpy()
    label = small_group_label(params)
    for column in value_columns:
        values = table[column].astype(object).to_numpy()
        out[column] = pd.Series(np.where(small, label, values), index=table.index, dtype=object)
    return out


def hidden_running_totals(totals: Sequence[float], params: DisclosureParams) -> np.ndarray:
    """Which n's of a cohort followed over time may not be shown.

    The persons followed at successive times (day 0, 183, 365 after
    discharge) are nested: an n minus the next is the number who left in
    between (data end, emigration). Read in order, an n whose drop from the
    last shown n is 1 … ``min_cell`` − 1 would give that count back; it is
    hidden (and every statistic on it), and the next n is compared with the
    last shown one. The first n is never hidden here (pass it through
    :func:`suppress_counts` as any count).

    Parameters
    ----------
    totals
        The n's in time order.
    params
        The disclosure parameters.

    Returns
    -------
    ndarray of bool
        True where an n is hidden.

    Examples
    --------
    >>> hidden_running_totals([100, 97, 90, 88, 80], DisclosureParams()).tolist()
    [False, True, False, True, False]
    """
    values = np.asarray(totals, dtype=float)
    hidden = np.zeros(len(values), dtype=bool)
    last = None
    for i, value in enumerate(values):
        if last is not None and 0 < last - value < params.min_cell:
            hidden[i] = True
            continue
        last = value
    return hidden


@dataclass(frozen=True)
class SuppressedTable:
    """A two-way table with margins after suppression.

    Attributes
    ----------
    counts
        The counts with the total row and column added (numbers, for checking
        inside TSD; never print this).
    mask
        True where a cell is hidden (same shape and labels as ``counts``).
    primary
        True where a cell is hidden because it is itself a small count.
    display
        The table to show: strings, hidden cells read :data:`HIDDEN_MARK`.
    """

    counts: pd.DataFrame
    mask: pd.DataFrame
    primary: pd.DataFrame
    display: pd.DataFrame


def _lines(n_rows: int, n_cols: int) -> list[list[tuple[int, int]]]:
    """Every row and every column of the table with margins, each as its cells.

    The last cell of each line is its margin (a row total, a column total, or
    the grand total for the total row and the total column).
    """
    rows = [[(i, j) for j in range(n_cols)] for i in range(n_rows)]
    cols = [[(i, j) for i in range(n_rows)] for j in range(n_cols)]
    return rows + cols


def _needs_complement(
    grid: np.ndarray, mask: np.ndarray, line: list[tuple[int, int]], params: DisclosureParams
) -> bool:
    """Whether a line lets a reader work out a hidden cell or a small hidden sum."""
    hidden = [cell for cell in line if mask[cell]]
    if not hidden:
        return False
    if len(hidden) == 1:
        # total = sum of the others: the one hidden cell is recomputed exactly.
        return True
    margin = line[-1]
    if mask[margin]:
        return False
    # The margin is shown, so "margin − shown cells" gives the sum of the hidden
    # cells: that sum is itself a count a reader can compute. It must not be a
    # small count, and must not equal the number of hidden cells (every hidden
    # cell is non-zero, so a sum equal to their number makes each of them 1).
    hidden_sum = float(sum(grid[cell] for cell in hidden))
    return hidden_sum < params.min_cell or hidden_sum == len(hidden)


def _apply_line_rules(
    grid: np.ndarray, mask: np.ndarray, lines: list[list[tuple[int, int]]], params: DisclosureParams
) -> None:
    """Hide cells (in ``mask``, in place) until no line needs a complement."""
    changed = True
    while changed:
        changed = False
        for line in lines:
            if not _needs_complement(grid, mask, line, params):
                continue
            candidates = [cell for cell in line if not mask[cell] and grid[cell] > 0]
            # One always exists: a lone hidden non-zero cell makes its total (or
            # another cell) non-zero, and a shown total above a small hidden
            # sum is itself non-zero.
            mask[min(candidates, key=lambda cell: grid[cell])] = True
            changed = True


def _constraints(n_rows: int, n_cols: int) -> np.ndarray:
    """The equations of a table with margins: one per line, over every cell (flattened).

    For a line with cells c_1 … c_k and margin m: c_1 + … + c_k − m = 0.
    """
    lines = _lines(n_rows, n_cols)
    matrix = np.zeros((len(lines), n_rows * n_cols))
    for row, line in enumerate(lines):
        for i, j in line[:-1]:
            matrix[row, i * n_cols + j] = 1.0
        i, j = line[-1]
        matrix[row, i * n_cols + j] = -1.0
    return matrix


def _hidden_ranges(grid: np.ndarray, hidden: np.ndarray) -> list[tuple[int, int, float, float]]:
    """(row, column, low, high) of each hidden cell, by linear programming."""
    from scipy.optimize import linprog

    n_rows, n_cols = grid.shape
    matrix = _constraints(n_rows, n_cols)
    flat_hidden = hidden.ravel()
    a_eq = matrix[:, flat_hidden]
    b_eq = -matrix[:, ~flat_hidden] @ grid.ravel()[~flat_hidden]
    cells = [(i, j) for i in range(n_rows) for j in range(n_cols) if hidden[i, j]]
    bounds = [(1.0, None)] * len(cells)
    out = []
    for k, (i, j) in enumerate(cells):
        objective = np.zeros(len(cells))
        objective[k] = 1.0
        low = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        high = linprog(-objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        low_value = float(low.fun) if low.status == 0 else np.nan
        high_value = float(-high.fun) if high.status == 0 else np.inf
        out.append((i, j, low_value, high_value))
    return out


def _is_determined(low: float, high: float) -> bool:
    """Whether at most one whole number lies in [low, high]."""
    return bool(np.floor(high + 1e-9) - np.ceil(low - 1e-9) + 1 <= 1)


def hidden_cell_ranges(counts: pd.DataFrame, mask: pd.DataFrame) -> pd.DataFrame:
    """What a reader can work out about each hidden cell from the shown cells.

    A reader knows every shown cell, that every row and column adds up to its
    total, and that a hidden cell is at least 1 (zeros are shown). Linear
    programming over those facts gives the smallest and largest value each
    hidden cell can take.

    Parameters
    ----------
    counts
        The table with margins (as :attr:`SuppressedTable.counts`).
    mask
        True where hidden.

    Returns
    -------
    DataFrame
        One row per hidden cell: ``row, column, value, low, high``, and
        ``determined`` (True when at most one whole number lies in [low, high]).
    """
    grid = counts.to_numpy(dtype=float)
    ranges = _hidden_ranges(grid, mask.to_numpy(dtype=bool))
    rows = [
        {
            "row": counts.index[i],
            "column": counts.columns[j],
            "value": grid[i, j],
            "low": low,
            "high": high,
            "determined": _is_determined(low, high),
        }
        for i, j, low, high in ranges
    ]
    return pd.DataFrame(rows, columns=["row", "column", "value", "low", "high", "determined"])


def suppress_with_margins(
    table: pd.DataFrame,
    params: DisclosureParams,
    total_label: str = "Totalt",
) -> SuppressedTable:
    """Primary and complementary suppression of a two-way table of counts with totals.

    Parameters
    ----------
    table
        The inner cells: counts (non-negative integers), rows × columns, without
        totals; not modified.
    params
        The disclosure parameters. With ``complementary_suppression`` off only
        the primary rule is applied.
    total_label
        The label of the added total row and column.

    Returns
    -------
    SuppressedTable

    Notes
    -----
    The table with margins is read as a set of lines: every row (its cells and
    its total) and every column (its cells and its total), the total row and the
    total column included. Each line is one linear equation a reader knows.

    1. Primary: every cell, margins included, with a count of 1 …
       ``min_cell − 1`` is hidden.
    2. Complementary (repeated until nothing changes): a line is unsafe when it
       has exactly one hidden cell (it equals its total minus the others), or
       when its total is shown and the hidden cells sum to less than
       ``min_cell`` or to exactly their number (then each is 1). In an unsafe
       line the smallest other non-zero shown cell is hidden too (ties: the
       first in row/column order, inner cells before the total).
    3. Audit: a reader who knows the shown cells, the equations of the lines
       and that hidden cells are non-zero can bound each hidden cell by linear
       programming (:func:`hidden_cell_ranges`). This catches what a line on
       its own does not, e.g. a hidden cell that is the only link between two
       groups of hidden cells. While some hidden cell is determined (one whole
       number fits its bounds), the smallest shown non-zero cell of its row or
       column is hidden too, and step 2 runs again.
    4. Every hidden cell is shown as :data:`HIDDEN_MARK` – small and
       complementary cells alike: marking small cells "<5" and the others
       differently would tell a reader that a cell is at most 4 and its partner
       at least 5, which can pin both (a hidden pair summing to 6 would be 1
       and 5). Zeros are shown and never hidden (0 may be shown).

    Afterwards no line has exactly one hidden cell, no hidden sum in a line
    with a shown total is a small count, and no hidden cell is determined.

    Examples
    --------
    >>> t = pd.DataFrame({"Mann": [3, 20], "Kvinne": [30, 40]}, index=["A", "B"])
    >>> s = suppress_with_margins(t, DisclosureParams())
    >>> s.display.loc["A"].tolist()
    ['x', 'x', '33']
    """
    inner = table.apply(pd.to_numeric).to_numpy(dtype=float)
    if np.isnan(inner).any() or (inner < 0).any():
        raise ValueError("suppress_with_margins needs non-negative counts in every cell")
    n_rows, n_cols = inner.shape
    grid = np.zeros((n_rows + 1, n_cols + 1))
    grid[:n_rows, :n_cols] = inner
    grid[:n_rows, n_cols] = inner.sum(axis=1)
    grid[n_rows, :n_cols] = inner.sum(axis=0)
    grid[n_rows, n_cols] = inner.sum()

    primary = (grid > 0) & (grid < params.min_cell)
    mask = primary.copy()
    index = [*table.index, total_label]
    columns = [*table.columns, total_label]
    counts = pd.DataFrame(grid.astype(np.int64), index=index, columns=columns)
    if params.complementary_suppression:
        lines = _lines(n_rows + 1, n_cols + 1)
        while True:
            _apply_line_rules(grid, mask, lines, params)
            determined = [
                (i, j)
                for i, j, low, high in _hidden_ranges(grid, mask)
                if _is_determined(low, high)
            ]
            if not determined:
                break
            # Widen the first determined cell's lines: hide the smallest shown
            # non-zero cell of its row or column (or, when they have none, of
            # the table), then apply the line rules again.
            i, j = determined[0]
            candidates = [c for c in [*lines[i], *lines[n_rows + 1 + j]] if not mask[c]]
            candidates = [c for c in candidates if grid[c] > 0]
            if not candidates:
                candidates = list(zip(*np.nonzero(~mask & (grid > 0)), strict=True))
            if not candidates:
                break  # everything non-zero is hidden already
            mask[min(candidates, key=lambda c: grid[c])] = True

    display = counts.map(_format_count).astype(object)
    display = display.mask(pd.DataFrame(mask, index=index, columns=columns), HIDDEN_MARK)
    return SuppressedTable(
        counts=counts,
        mask=pd.DataFrame(mask, index=index, columns=columns),
        primary=pd.DataFrame(primary, index=index, columns=columns),
        display=display,
    )


#: The columns of a tidy survival or cumulative-incidence curve.
CURVE_COLUMNS = ("group", "time", "at_risk", "events", "censored", "estimate", "lower", "upper")

#: Count columns of a curve that are summed over a pooled block. ``events`` and
#: ``censored`` together are everyone who leaves the risk set; ``competing``
#: (optional, :func:`arr_stats.stats.competing_risks.cumulative_incidence`) is the part of
#: ``censored`` that had a competing event.
BLOCK_COUNT_COLUMNS = ("events", "competing", "censored")


def _pool_group(
    curve: pd.DataFrame, params: DisclosureParams, boundaries: Sequence[float]
) -> pd.DataFrame | None:
    """Pool one group's steps; None when the group cannot be drawn safely."""
    curve = curve.sort_values("time", kind="mergesort")
    count_columns = [c for c in BLOCK_COUNT_COLUMNS if c in curve.columns]
    times = curve["time"].to_numpy(dtype=float)
    leaving = (curve["events"] + curve["censored"]).to_numpy(dtype=float)
    events = curve["events"].to_numpy(dtype=float)

    def safe(first: int, last: int) -> bool:
        block_left = leaving[first : last + 1].sum()
        block_events = events[first : last + 1].sum()
        return block_left >= params.min_cell and (
            block_events == 0 or block_events >= params.min_cell
        )

    # Segments between the fixed times: rows with time in (b_{k-1}, b_k].
    edges = np.searchsorted(times, sorted({float(b) for b in boundaries}), side="right")
    segments = zip([0, *edges], [*edges, len(curve)], strict=True)
    blocks: list[tuple[int, int]] = []
    carried: int | None = None  # first row of rows no block could hold yet
    for first, stop in segments:
        if first == stop:
            continue
        start = first if carried is None else carried
        in_segment: list[tuple[int, int]] = []
        for pos in range(first, stop):
            if safe(start, pos):
                in_segment.append((start, pos))
                start = pos + 1
        # Rows left at the segment's end join the blocks before them in the
        # same segment (never across a fixed time), one block at a time; when
        # no block of the segment can take them they wait for the next segment.
        while start < stop and in_segment:
            block_start, _ = in_segment.pop()
            if safe(block_start, stop - 1):
                in_segment.append((block_start, stop - 1))
                start = stop
            else:
                start = block_start
        carried = start if start < stop else None
        blocks += in_segment
    if not blocks:
        return None
    rows = []
    for start, end in blocks:
        block = curve.iloc[start : end + 1]
        row = {column: block[column].iloc[-1] for column in curve.columns}
        has_events = events[start : end + 1] > 0
        # drawn at its last event (a block without events: its last time)
        drawn = start + np.flatnonzero(has_events)[-1] if has_events.any() else end
        row["time"] = curve["time"].iloc[drawn]
        row["block_end"] = curve["time"].iloc[end]
        row["at_risk"] = block["at_risk"].iloc[0]
        for column in count_columns:
            row[column] = block[column].sum()
        rows.append(row)
    return pd.DataFrame(rows, columns=[*curve.columns, "block_end"])


def pool_survival_steps(
    curve: pd.DataFrame,
    params: DisclosureParams,
    boundaries: Iterable[float] | None = None,
) -> pd.DataFrame:
    """Pool the steps of survival or cumulative-incidence curves for drawing.

    Parameters
    ----------
    curve
        A tidy curve: one row per group and event/censoring time with columns
        ``group, time, at_risk`` (persons at risk just before ``time``),
        ``events`` (events at ``time`` that move the estimate), ``censored``
        (everyone else leaving the risk set at ``time``: censored, or a
        competing event), optionally ``competing`` (the part of ``censored``
        with a competing event), ``estimate, lower, upper`` (the values just after
        ``time``). Other columns are carried along. Not modified.
    params
        The disclosure parameters.
    boundaries
        The fixed times that tables report (the run configuration's
        ``outcomes.month_days`` values); no block spans one. ``None``: the
        default month days (:data:`arr_stats.domain.STATUS_MONTHS`).

    Returns
    -------
    DataFrame
        One row per drawn step: ``time`` is the block's last event (for a
        block without events, its last time), ``block_end`` its last time,
        ``at_risk`` the number at risk at the start of the block, ``events``,
        ``competing`` and ``censored`` the block's sums, ``estimate, lower, upper`` the true
        values at the block's end; plus ``at_risk_label`` (a string, counts
        below ``min_cell`` as ``"<5"``). Groups with fewer than
        ``min_denominator`` persons (``at_risk`` at their first time) are left
        out, and so is a group in which fewer than ``min_cell`` persons leave
        the risk set in all.

    Notes
    -----
    Pooling coarsens a curve but does not move it (disclosure.md, survival
    curves): the fixed times are block boundaries, so the drawn curve at such
    a time is the exact estimate, unless the events between it and the time
    before could not be made safe; then the curve stays flat there and the
    table hides that estimate (:func:`pooled_values_at`).

    A block grows one time at a time and closes as soon as at least
    ``min_cell`` persons have left the risk set in it (events plus censored,
    competing events included in censored)
    *and* its events are either none or at least ``min_cell``. The second
    condition is stricter than disclosure.md's wording: with events and
    censorings in one block, the jump of the estimate over the block still
    tells how many events there were, so a block with 1 … 4 events would show
    a small count. Rows left unsafe at a fixed time are merged into the
    blocks before them since the previous fixed time; when none can take
    them they join the first block after the fixed time, and rows that no
    block can take at the end are not drawn (the curve stays flat rather than
    pulling events to a later day). The drawn curve is therefore a coarser
    step function that passes through the true estimate at each drawn step
    and is flat in between; successive numbers at risk differ by at least
    ``min_cell``, and every estimate jump covers 0 or at least ``min_cell``
    events, all on or before the day it is drawn.

    With ``survival_pooling`` off the curve is returned step by step, with
    only the small-group and at-risk-label rules applied.

    Examples
    --------
    >>> c = pd.DataFrame({
    ...     "group": "A", "time": [1, 2, 3, 4],
    ...     "at_risk": [20, 17, 14, 11], "events": [3, 3, 3, 3], "censored": [0, 0, 0, 0],
    ...     "estimate": [0.85, 0.70, 0.55, 0.40], "lower": 0.0, "upper": 1.0})
    >>> pool_survival_steps(c, DisclosureParams())[["time", "at_risk", "events", "estimate"]]
       time  at_risk  events  estimate
    0     2       20       6       0.7
    1     4       14       6       0.4
    """
    missing = [c for c in CURVE_COLUMNS if c not in curve.columns]
    if missing:
        raise ValueError(f"pool_survival_steps: the curve lacks columns {missing}")
    if boundaries is None:
        boundaries = [month_day(m) for m in STATUS_MONTHS]
    boundaries = list(boundaries)
    pieces = []
    for _, group in curve.groupby("group", sort=True, observed=True):
        persons = group["at_risk"].max()
        if pd.isna(persons) or persons < params.min_denominator:
            continue
        if params.survival_pooling:
            pooled = _pool_group(group, params, boundaries)
            if pooled is None:
                continue
        else:
            pooled = group.sort_values("time", kind="mergesort")
            pooled = pooled.assign(block_end=pooled["time"])
        pieces.append(pooled)
    if not pieces:
        out = curve.iloc[0:0].assign(block_end=curve["time"].iloc[0:0])
    else:
        out = pd.concat(pieces, ignore_index=True)
    out["at_risk_label"] = suppress_counts(out[["at_risk"]], ["at_risk"], params)["at_risk"]
    return out.reset_index(drop=True)


def pooled_values_at(
    curve: pd.DataFrame,
    params: DisclosureParams,
    times: Iterable[float],
    boundaries: Iterable[float] | None = None,
) -> pd.DataFrame:
    """The values a table may show at fixed times: those the pooled curve passes through.

    Parameters
    ----------
    curve
        A tidy curve as for :func:`pool_survival_steps` (with its time-0 row
        where the estimator writes one).
    params
        The disclosure parameters.
    times
        The times the table reports (days 91, 183 and 365 by default).
    boundaries
        The block boundaries; ``None``: ``times``.

    Returns
    -------
    DataFrame
        One row per group of ``curve`` and time: ``group, time, shown`` and
        ``estimate, lower, upper`` (NaN where not shown). A value is shown when
        the group is drawn and every event up to ``time`` lies in a block
        drawn on or before ``time``; it is then the pooled curve's value at
        ``time``, which equals the exact estimate there. Otherwise the events
        between ``time`` and the last drawn step could not be made safe and
        the estimate would give their number away.

    Examples
    --------
    >>> c = pd.DataFrame({
    ...     "group": "A", "time": [10, 100, 120],
    ...     "at_risk": [20, 15, 13], "events": [5, 2, 5], "censored": [0, 0, 0],
    ...     "estimate": [0.75, 0.65, 0.40], "lower": 0.0, "upper": 1.0})
    >>> pooled_values_at(c, DisclosureParams(), [91, 183])[["time", "shown", "estimate"]]
       time  shown  estimate
    0    91   True      0.75
    1   183   True      0.40
    """
    times = list(times)
    boundaries = times if boundaries is None else list(boundaries)
    pooled = pool_survival_steps(curve, params, boundaries)
    rows = []
    for group, group_curve in curve.groupby("group", sort=True, observed=True):
        drawn = pooled[pooled["group"] == group].sort_values("time", kind="mergesort")
        for t in times:
            row = {"group": group, "time": t, "shown": False}
            row.update(dict.fromkeys(("estimate", "lower", "upper"), np.nan))
            if not drawn.empty:
                events_by_t = group_curve.loc[group_curve["time"] <= t, "events"].sum()
                before = drawn[drawn["time"] <= t]
                if before.empty:
                    # no drawn step yet: the curve's level before its first
                    # event, read from a leading row without events (the
                    # time-0 row of a cumulative incidence); without one the
                    # level is not known here and nothing is shown
                    ordered = group_curve.sort_values("time", kind="mergesort")
                    lead = ordered.iloc[0]
                    if events_by_t == 0 and lead["events"] == 0 and lead["time"] <= t:
                        row["shown"] = True
                        row.update({c: lead[c] for c in ("estimate", "lower", "upper")})
                elif before["events"].sum() == events_by_t:
                    last = before.iloc[-1]
                    row["shown"] = True
                    row.update({c: last[c] for c in ("estimate", "lower", "upper")})
            rows.append(row)
    return pd.DataFrame(rows, columns=["group", "time", "shown", "estimate", "lower", "upper"])


def state_grid(params: DisclosureParams, fixed_days: Iterable[int], last_day: int) -> list[int]:
    """The drawn times of the daily-state figure.

    Every ``state_grid_days``-th day from 0, the fixed status days and the
    last day.

    Examples
    --------
    >>> state_grid(DisclosureParams(state_grid_days=100), [91, 183, 365], 365)
    [0, 91, 100, 183, 200, 300, 365]
    """
    days = set(range(0, last_day + 1, params.state_grid_days))
    days |= {int(d) for d in fixed_days if 0 <= d <= last_day} | {int(last_day)}
    return sorted(days)


def protect_state_occupation(
    occupation: pd.DataFrame, params: DisclosureParams, days: Iterable[int]
) -> pd.DataFrame:
    """Daily-state shares that may be drawn: on a grid of days, from protected counts.

    Parameters
    ----------
    occupation
        :func:`arr_stats.stats.state_occupation.state_occupation`'s table
        (``group, day, state, n, n_observed, share``). Not modified.
    params
        The disclosure parameters.
    days
        The drawn times (:func:`state_grid`).

    Returns
    -------
    DataFrame
        ``group, day, state, share`` for the drawn days only, ``state`` a
        Categorical of the input's states followed by
        :data:`arr_stats.domain.MERGED_STATE`.
        At each group and day the states of 1 … ``min_cell`` − 1 persons are
        drawn as one merged state; while that merged count is itself below
        ``min_cell``, the smallest other non-zero state joins it (a share and
        the known number observed would otherwise give back its count). A day
        with fewer than ``min_denominator`` persons observed is not drawn. No
        counts leave this function.

    Notes
    -----
    disclosure.md: a stacked area of daily states is drawn from protected
    counts, a state of 1 … 4 persons at a drawn time merged or hidden. Daily
    steps would show one person as a visible band and the day of a single
    change of state; the grid limits that to the drawn times.

    Examples
    --------
    >>> occ = pd.DataFrame({"group": "all", "day": 0, "state": ["dead", "aap", "working"],
    ...                     "n": [2, 30, 68], "n_observed": 100})
    >>> protect_state_occupation(occ, DisclosureParams(), [0])[["state", "share"]]
         state  share
    0     dead   0.00
    1      aap   0.00
    2  working   0.68
    3   merged   0.32
    """
    states = list(
        occupation["state"].cat.categories
        if isinstance(occupation["state"].dtype, pd.CategoricalDtype)
        else pd.unique(occupation["state"])
    )
    order = [*states, MERGED_STATE]
    table = occupation[occupation["day"].isin(list(days))]
    pieces = []
    for (group, day), rows in table.groupby(["group", "day"], sort=True, observed=True):
        observed = int(rows["n_observed"].iloc[0])
        if observed < params.min_denominator:
            continue
        counts = rows.set_index(rows["state"].astype(object))["n"].reindex(states).fillna(0)
        merged = set(counts.index[(counts >= 1) & (counts < params.min_cell)])
        while merged and 0 < counts[list(merged)].sum() < params.min_cell:
            others = counts[[s for s in states if s not in merged and counts[s] > 0]]
            if others.empty:
                break
            merged.add(others.sort_values(kind="mergesort").index[0])
        shares = {s: (0.0 if s in merged else counts[s] / observed) for s in states}
        shares[MERGED_STATE] = counts[list(merged)].sum() / observed if merged else 0.0
        pieces.append(
            pd.DataFrame({"group": group, "day": day, "state": order, "share": shares.values()})
        )
    columns = ["group", "day", "state", "share"]
    out = pd.concat(pieces, ignore_index=True) if pieces else pd.DataFrame(columns=columns)
    out["state"] = pd.Categorical(out["state"], categories=order, ordered=True)
    return out[columns]


def readable_text(text: str) -> str:
    """An output's text without what no reader reads as text: embedded images and digests.

    Embedded images (``data:`` URIs) and hexadecimal digests (a git commit,
    the SHA-256 of an input) can hold 11 digits in a row by chance; the
    identifier check (:func:`check_no_identifiers`) reads what is left.

    Examples
    --------
    >>> readable_text('<img src="data:image/png;base64,AAAA01019012345=">')
    '<img src="data:">'
    >>> readable_text("commit " + "0" * 40)
    'commit digest'
    """
    text = re.sub(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=\s]+", "data:", text)
    return re.sub(r"\b[0-9a-f]{40}\b|\b[0-9a-f]{64}\b", "digest", text)


def check_no_identifiers(text: str, person_ids: Iterable[str] | None = None) -> None:
    """Raise when a rendered output contains something that looks like a person identifier.

    Parameters
    ----------
    text
        The rendered output (HTML, Markdown, a notebook's text outputs).
    person_ids
        The pseudonyms of the data (the ``person_id`` column). Any of them
        appearing in the text as a whole word is an error.

    Raises
    ------
    DisclosureError
        Naming what was found (the value is masked but for its length).

    Examples
    --------
    >>> check_no_identifiers("Andel 0.52 (n = 123)")
    >>> check_no_identifiers("commit b3923cb201fe80c6b6cc85189167608f94621fb5")  # a digest
    >>> check_no_identifiers("id 01019012345")
    Traceback (most recent call last):
    ...
    arr_stats.publication.disclosure.DisclosureError: the output contains an 11-digit number (a national identity number pattern)
    """
    if NATIONAL_ID_PATTERN.search(text):
        raise DisclosureError(
            "the output contains an 11-digit number (a national identity number pattern)"
        )
    if person_ids is None:
        return
    ids = {str(p).strip() for p in person_ids if p is not None and str(p).strip()}
    found = sorted(ids.intersection(re.findall(r"[\w-]+", text)))
    if found:
        raise DisclosureError(
            f"the output contains {len(found)} person pseudonym(s) of the person_id column "
            f"(the first has {len(found[0])} characters)"
        )
