"""Interval arithmetic on benefit and employment spells, without a day grid.

Every spell is a half-open interval ``[start, stop)`` of *day numbers* (days
since 1970-01-01; ``stop`` = last covered day + 1) that belongs to a *group*
(in :mod:`arr_stats.outcomes` a group is one episode, so a person with two
episodes has each spell once per episode). Each group has a window
``[lo, stop)``: only the days in it matter.

The central object is the :class:`Tiling`: per group, the window is cut at
every spell boundary into *elementary segments*, maximal runs of days on which
the set of covering spells does not change. Every day-level fact of
outcomes.md (HRB day and grade, benefit-free, employed, daily state) is
constant on a segment, so it is computed once per segment by reducing over
the spells that cover it – never once per day. A spell covers a contiguous
range of segments; the (spell, segment) cover pairs are found with one sort
and two ``searchsorted`` calls, so the work is proportional to the number of
spells and boundaries, not to the number of days.

Overlapping and adjacent spells never double-count: a segment's facts are
maxima, minima or "any" over its covering spells, and per-day sums add
segment lengths, each day belonging to exactly one segment.

Examples
--------
Two overlapping sick-leave spells (days 0–9 at 100 %, days 5–14 at 50 %) in a
window of days 0–19:

>>> import numpy as np
>>> t = tile(np.array([0]), np.array([20]), np.array([0, 0]), np.array([0, 5]), np.array([10, 15]))
>>> t.start.tolist(), t.stop.tolist()
([0, 5, 10, 15], [5, 10, 15, 20])
>>> t.max_over(np.array([100.0, 50.0]), empty=0.0).tolist()
[100.0, 100.0, 50.0, 0.0]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from arr_stats.dictionary import Benefit

#: Grade (percent) of a full benefit: grade 100 gives a benefit's ``state_full``,
#: a grade between 0 and 100 its ``state_partial`` (data_dictionary/codelists/benefits.yaml).
FULL_GRADE = 100.0

#: Benefit category (codelist ``categories``) whose full-grade days are the
#: competing event "full disability" (outcomes.md, ``d_dis``).
DISABILITY_CATEGORY = "disability"

#: The state of an observed day with no benefit state (outcomes.md: "none of the above").
WORKING_STATE = "working"

#: "No such day": larger than any day number, small enough not to overflow when shifted.
NO_DAY = np.int64(2**40)


def day_numbers(dates: pd.Series | pd.Index | np.ndarray, missing: int | None = None) -> np.ndarray:
    """Calendar dates as day numbers (days since 1970-01-01, ``int64``).

    Parameters
    ----------
    dates
        Dates of any datetime64 resolution (or anything :func:`pandas.to_datetime` reads).
    missing
        The day number given to a missing date; ``None`` raises on a missing date.

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> day_numbers(pd.Series(pd.to_datetime(["1970-01-02", None])), missing=-1).tolist()
    [1, -1]
    """
    values = pd.to_datetime(pd.Series(np.asarray(dates))).to_numpy(dtype="datetime64[ns]")
    is_missing = np.isnat(values)
    days = values.astype("datetime64[D]").astype(np.int64)
    if is_missing.any():
        if missing is None:
            raise ValueError("a required date is missing")
        days[is_missing] = missing
    return days


def clip_spells(
    group: np.ndarray, start: np.ndarray, stop: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Clip spells to their group's window ``[lo, hi)`` and drop what falls outside.

    Parameters
    ----------
    group
        Group index of each spell (an index into ``lo`` and ``hi``).
    start, stop
        Half-open spells ``[start, stop)`` in day numbers.
    lo, hi
        Per-group window ``[lo, hi)``.

    Returns
    -------
    kept, start, stop
        Indices of the spells that keep at least one day, and their clipped bounds.

    Examples
    --------
    >>> clip_spells(np.array([0, 0]), np.array([-5, 30]), np.array([3, 40]), np.array([0]), np.array([10]))
    (array([0]), array([0]), array([3]))
    """
    clipped_start = np.maximum(start, lo[group])
    clipped_stop = np.minimum(stop, hi[group])
    kept = np.flatnonzero(clipped_start < clipped_stop)
    return kept, clipped_start[kept], clipped_stop[kept]


def merge_spells(
    group: np.ndarray, start: np.ndarray, stop: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Union of half-open spells per group: overlapping and adjacent spells become one.

    Parameters
    ----------
    group, start, stop
        Spells ``[start, stop)`` with their group index (any order).

    Returns
    -------
    group, start, stop
        The disjoint, non-adjacent merged spells, sorted by group and start.

    Examples
    --------
    >>> merge_spells(np.array([0, 0, 0, 1]), np.array([5, 0, 12, 0]), np.array([10, 5, 14, 3]))
    (array([0, 0, 1]), array([ 0, 12,  0]), array([10, 14,  3]))
    """
    if len(start) == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty.copy(), empty.copy()
    order = np.lexsort((start, group))
    group, start, stop = group[order], start[order], stop[order]
    # Shift every group into its own disjoint stretch of the number line so one
    # running maximum over all groups never carries a stop into the next group.
    base = np.minimum(start.min(), 0)
    width = np.int64(stop.max() - base + 2)
    key_start = group * width + (start - base)
    key_stop = group * width + (stop - base)
    reach = np.maximum.accumulate(key_stop)
    opens = np.ones(len(start), dtype=bool)
    opens[1:] = key_start[1:] > reach[:-1]  # a gap: not overlapping, not adjacent
    first = np.flatnonzero(opens)
    last = np.append(first[1:], len(start)) - 1
    return group[first], start[first], reach[last] - group[first] * width + base


@dataclass(frozen=True)
class Tiling:
    """Each group's window cut into elementary segments, and which spells cover which.

    Attributes
    ----------
    lo, hi
        The per-group windows ``[lo, hi)`` that were tiled.
    group, start, stop
        One entry per segment, sorted by group then start; the segments of a
        group tile its window exactly.
    cover_spell, cover_segment
        One entry per (spell, segment) pair where the spell covers the segment;
        ``cover_spell`` indexes the spells given to :func:`tile`.
    """

    lo: np.ndarray
    hi: np.ndarray
    group: np.ndarray
    start: np.ndarray
    stop: np.ndarray
    cover_spell: np.ndarray
    cover_segment: np.ndarray

    @property
    def n_groups(self) -> int:
        return len(self.lo)

    def max_over(
        self, values: np.ndarray, empty: float, where: np.ndarray | None = None
    ) -> np.ndarray:
        """Per segment, the largest ``values[spell]`` over covering spells (``empty`` if none)."""
        out = np.full(len(self.start), empty, dtype=np.result_type(values, type(empty)))
        spells, segments = self._pairs(where)
        np.maximum.at(out, segments, values[spells])
        return out

    def min_over(
        self, values: np.ndarray, empty: int, where: np.ndarray | None = None
    ) -> np.ndarray:
        """Per segment, the smallest ``values[spell]`` over covering spells (``empty`` if none)."""
        out = np.full(len(self.start), empty, dtype=values.dtype)
        spells, segments = self._pairs(where)
        np.minimum.at(out, segments, values[spells])
        return out

    def sum_over(self, values: np.ndarray, where: np.ndarray | None = None) -> np.ndarray:
        """Per segment, the sum of ``values[spell]`` over covering spells."""
        spells, segments = self._pairs(where)
        return np.bincount(segments, weights=values[spells], minlength=len(self.start))

    def any_over(self, where: np.ndarray) -> np.ndarray:
        """Per segment, whether any covering spell has ``where[spell]``."""
        spells, segments = self._pairs(where)
        return np.bincount(segments, minlength=len(self.start)) > 0

    def _pairs(self, where: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        if where is None:
            return self.cover_spell, self.cover_segment
        keep = where[self.cover_spell]
        return self.cover_spell[keep], self.cover_segment[keep]

    # --- per-group questions about a per-segment quantity -------------------

    def days_where(self, flag: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Per group, the number of days in ``[lo, hi)`` whose segment has ``flag``."""
        return np.rint(self.sum_days(flag.astype(np.float64), lo, hi)).astype(np.int64)

    def sum_days(self, value: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Per group, the sum over the days in ``[lo, hi)`` of their segment's ``value``."""
        days = self._overlap(lo, hi)
        return np.bincount(self.group, weights=days * value, minlength=self.n_groups)

    def first_day_where(self, flag: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Per group, the first day in ``[lo, hi)`` whose segment has ``flag`` (else :data:`NO_DAY`)."""
        first_day = np.maximum(self.start, lo[self.group])
        hit = flag & (first_day < np.minimum(self.stop, hi[self.group]))
        return _first_per_group(self.group[hit], first_day[hit], self.n_groups)

    def first_run_start(
        self, flag: np.ndarray, first: np.ndarray, last: np.ndarray, limit: np.ndarray, length: int
    ) -> np.ndarray:
        """Per group, the earliest day ``d`` with ``first <= d <= last`` such that the
        ``length`` days ``d … d+length-1`` all have ``flag`` and all lie before ``limit``.

        Returns :data:`NO_DAY` where there is none. The run may reach past ``last``
        (but not past ``limit - 1`` nor the window).
        """
        run_group, run_start, run_stop = merge_spells(
            self.group[flag], self.start[flag], self.stop[flag]
        )
        start = np.maximum(run_start, first[run_group])
        stop = np.minimum(run_stop, limit[run_group])
        ok = (stop - start >= length) & (start <= last[run_group])
        return _first_per_group(run_group[ok], start[ok], self.n_groups)

    def segment_on_day(self, day: np.ndarray) -> np.ndarray:
        """Per group, the index of the segment holding ``day`` (``-1`` outside the window)."""
        inside = (day >= self.lo) & (day < self.hi)
        key = self._key(np.arange(self.n_groups), np.where(inside, day, self.lo))
        index = np.searchsorted(self._key(self.group, self.start), key, side="right") - 1
        return np.where(inside, index, -1)

    def per_day(self, value: np.ndarray) -> np.ndarray:
        """``value`` of each day of each window, as a (groups × days) matrix.

        Every window must have the same length.
        """
        width = self.hi - self.lo
        if self.n_groups and np.any(width != width[0]):
            raise ValueError("per_day needs windows of equal length")
        n_days = int(width[0]) if self.n_groups else 0
        return np.repeat(value, self.stop - self.start).reshape(self.n_groups, n_days)

    def _overlap(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        days = np.minimum(self.stop, hi[self.group]) - np.maximum(self.start, lo[self.group])
        return np.maximum(days, 0)

    def _key(self, group: np.ndarray, day: np.ndarray) -> np.ndarray:
        # Group-major sort key: a group's days never collide with another's.
        width = np.int64((self.hi - self.lo).max() + 1) if self.n_groups else np.int64(1)
        return group * width + (day - self.lo[group])


def _first_per_group(group: np.ndarray, day: np.ndarray, n_groups: int) -> np.ndarray:
    """Per group, the first ``day`` listed for it (entries sorted by group), else NO_DAY."""
    out = np.full(n_groups, NO_DAY, dtype=np.int64)
    if len(group):
        first = np.ones(len(group), dtype=bool)
        first[1:] = group[1:] != group[:-1]
        out[group[first]] = day[first]
    return out


def tile(
    lo: np.ndarray,
    hi: np.ndarray,
    spell_group: np.ndarray,
    spell_start: np.ndarray,
    spell_stop: np.ndarray,
) -> Tiling:
    """Cut each group's window ``[lo, hi)`` into elementary segments at every spell boundary.

    Parameters
    ----------
    lo, hi
        Per-group window (day numbers; ``lo < hi``).
    spell_group, spell_start, spell_stop
        Spells ``[start, stop)`` and the group each belongs to. Spells are
        clipped to their group's window; they need not be sorted.

    Returns
    -------
    Tiling
    """
    lo = np.asarray(lo, dtype=np.int64)
    hi = np.asarray(hi, dtype=np.int64)
    n_groups = len(lo)
    if np.any(hi <= lo):
        raise ValueError("every window needs at least one day")
    kept, start, stop = clip_spells(
        np.asarray(spell_group, dtype=np.int64),
        np.asarray(spell_start, dtype=np.int64),
        np.asarray(spell_stop, dtype=np.int64),
        lo,
        hi,
    )
    group = np.asarray(spell_group, dtype=np.int64)[kept]
    width = np.int64((hi - lo).max() + 1) if n_groups else np.int64(1)
    origin = np.arange(n_groups, dtype=np.int64) * width
    start_key = origin[group] + (start - lo[group])
    stop_key = origin[group] + (stop - lo[group])
    # Sorting the spells by their start key makes both searchsorted queries
    # (nearly) sorted, which keeps them cache-friendly at national scale.
    order = np.argsort(start_key, kind="stable")
    kept, group, start_key, stop_key = kept[order], group[order], start_key[order], stop_key[order]

    boundaries = np.concatenate([origin, origin + (hi - lo), start_key, stop_key])
    boundaries.sort()
    distinct = np.ones(len(boundaries), dtype=bool)
    distinct[1:] = boundaries[1:] != boundaries[:-1]
    boundaries = boundaries[distinct]
    boundary_group = boundaries // width
    boundary_day = boundaries - boundary_group * width + lo[boundary_group]
    # The last boundary of each group is its window end, not a segment start;
    # dropping one boundary per group shifts a segment's index by its group.
    is_window_end = boundary_day == hi[boundary_group]
    opens = np.flatnonzero(~is_window_end)
    seg_group = boundary_group[opens]
    seg_start = boundary_day[opens]
    seg_stop = boundary_day[opens + 1]

    first_segment = np.searchsorted(boundaries, start_key) - group
    end_segment = np.searchsorted(boundaries, stop_key) - group
    n_covered = end_segment - first_segment
    cover_spell = np.repeat(kept, n_covered)
    offsets = np.cumsum(n_covered) - n_covered
    cover_segment = np.arange(int(n_covered.sum()), dtype=np.int64) + np.repeat(
        first_segment - offsets, n_covered
    )
    return Tiling(lo, hi, seg_group, seg_start, seg_stop, cover_spell, cover_segment)


@dataclass(frozen=True)
class DayFacts:
    """The day-level facts of outcomes.md, per elementary segment of a :class:`Tiling`.

    Attributes
    ----------
    tiling
        The segments (each group's window cut where any fact may change).
    hrb_grade
        The day's HRB grade: the largest grade among covering health spells
        with grade > 0; 0 on a day that is not an HRB day.
    full_disability
        A spell of a disability-category benefit at full grade covers the day.
    state
        Index into ``state_order`` of the day's benefit state (the first in the
        order among the states of the covering spells with grade > 0), or of
        ``working`` when no spell with grade > 0 covers it. Death and
        censoring are not applied here (they depend on the person, not the spells).
    employed
        The position percentages of the covering employment relationships sum to more than 0.
    """

    tiling: Tiling
    hrb_grade: np.ndarray
    full_disability: np.ndarray
    state: np.ndarray
    employed: np.ndarray

    @property
    def hrb(self) -> np.ndarray:
        """Whether the segment's days are HRB days."""
        return self.hrb_grade > 0


def day_facts(
    lo: np.ndarray,
    hi: np.ndarray,
    benefit_group: np.ndarray,
    benefit_code: Sequence[str] | np.ndarray,
    benefit_grade: np.ndarray,
    benefit_start: np.ndarray,
    benefit_stop: np.ndarray,
    employment_group: np.ndarray,
    employment_percent: np.ndarray,
    employment_start: np.ndarray,
    employment_stop: np.ndarray,
    codelist: dict[str, Benefit],
    state_order: Sequence[str],
) -> DayFacts:
    """HRB grade, full disability, benefit state and employment on each day of each window.

    Parameters
    ----------
    lo, hi
        Per-group window ``[lo, hi)`` in day numbers.
    benefit_group, benefit_code, benefit_grade, benefit_start, benefit_stop
        Benefit spells ``[start, stop)``: group, benefit code, grade (percent, no missing).
    employment_group, employment_percent, employment_start, employment_stop
        Employment relationships ``[start, stop)``: group, position percent.
    codelist
        The benefits codelist (``load_dictionary().benefits``): category and states of each code.
    state_order
        The daily states in priority order.

    Returns
    -------
    DayFacts
    """
    codes = list(codelist)
    code_index = pd.Index(codes).get_indexer(np.asarray(benefit_code, dtype=object))
    if np.any(code_index < 0):
        unknown = sorted({str(c) for c, i in zip(benefit_code, code_index, strict=True) if i < 0})
        raise ValueError(f"benefit codes not in the codelist: {unknown}")
    rank = {state: i for i, state in enumerate(state_order)}
    is_health = np.array([codelist[c].is_health for c in codes], dtype=bool)
    is_disability = np.array([DISABILITY_CATEGORY in codelist[c].categories for c in codes])
    full_rank = np.array([rank[codelist[c].state_full] for c in codes], dtype=np.int16)
    partial_rank = np.array([rank[codelist[c].state_partial] for c in codes], dtype=np.int16)

    grade = np.asarray(benefit_grade, dtype=np.float64)
    covers = grade > 0  # grade 0 covers no day
    full = grade >= FULL_GRADE
    spell_rank = np.where(full, full_rank[code_index], partial_rank[code_index])

    n_benefits = len(grade)
    tiling = tile(
        lo,
        hi,
        np.concatenate([benefit_group, employment_group]).astype(np.int64),
        np.concatenate([benefit_start, employment_start]).astype(np.int64),
        np.concatenate([benefit_stop, employment_stop]).astype(np.int64),
    )
    is_benefit = np.zeros(n_benefits + len(employment_percent), dtype=bool)
    is_benefit[:n_benefits] = covers
    health = is_benefit.copy()
    health[:n_benefits] &= is_health[code_index]
    disability = health.copy()
    disability[:n_benefits] &= is_disability[code_index] & full
    percent = np.concatenate([np.zeros(n_benefits), np.asarray(employment_percent, np.float64)])
    in_employment = np.zeros(len(percent), dtype=bool)
    in_employment[n_benefits:] = True

    all_grades = np.concatenate([grade, np.zeros(len(employment_percent))])
    all_ranks = np.concatenate(
        [spell_rank, np.zeros(len(employment_percent), dtype=np.int16)]
    ).astype(np.int16)
    return DayFacts(
        tiling=tiling,
        hrb_grade=tiling.max_over(all_grades, empty=0.0, where=health),
        full_disability=tiling.any_over(disability),
        state=_benefit_state(tiling, all_ranks, is_benefit, rank[WORKING_STATE], len(rank)),
        employed=tiling.sum_over(percent, where=in_employment) > 0,
    )


def _benefit_state(
    tiling: Tiling, spell_rank: np.ndarray, covers: np.ndarray, working: int, n_states: int
) -> np.ndarray:
    """First state in the order among the covering spells; ``working`` when none covers.

    ``working`` is "none of the above", so it applies only to uncovered days,
    wherever a configured order lists it.
    """
    state = tiling.min_over(spell_rank, empty=np.int16(n_states), where=covers)
    state[state == n_states] = working
    return state
