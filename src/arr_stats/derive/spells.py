"""Interval arithmetic on benefit and employment spells, without a day grid.

Every spell is a half-open interval ``[start, stop)`` of *day numbers* (days
since 1970-01-01; ``stop`` = last covered day + 1) that belongs to a *group*
(in :mod:`arr_stats.derive.outcomes` a group is one episode, so a person with two
episodes has each spell once per episode). Each group has a window
``[lo, hi)``: only the days in it matter.

The central object is the :class:`Tiling`: per group, the window is cut at
every spell boundary into *elementary segments*, maximal runs of days on which
the set of covering spells does not change. Every day-level fact of
outcomes.md (HRB day and grade, benefit-free, employed, daily state) is
constant on a segment, so it is computed once per segment – never once per
day. A spell covers a contiguous range of segments, found with one sort and
two ``searchsorted`` calls. "Covered by some spell with property X" is a
difference array over segment indices and one cumulative sum; the largest
grade and the first state in the priority order are reduced over the
(spell, segment) pairs. The work is proportional to the number of spells and
boundaries, not to the number of days. See docs/outcomes-implementation.md.

Overlapping and adjacent spells never double-count: a segment's facts are
maxima, minima or "any" over its covering spells, and per-day sums add
segment lengths, each day belonging to exactly one segment.

Examples
--------
Two overlapping spells (days 0–9 and days 5–14) in a window of days 0–19:

>>> import numpy as np
>>> t = tile(np.array([0]), np.array([20]), np.array([0, 0]), np.array([0, 5]), np.array([10, 15]))
>>> t.start.tolist(), t.stop.tolist()
([0, 5, 10, 15], [5, 10, 15, 20])
>>> t.covered().tolist()
[True, True, True, False]
>>> spell, segment = t.cover_pairs()
>>> list(zip(spell.tolist(), segment.tolist()))
[(0, 0), (0, 1), (1, 1), (1, 2)]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from arr_stats.dictionary import Benefit
from arr_stats.domain import WORKING_STATE

#: Grade (percent) of a full benefit: grade 100 gives a benefit's ``state_full``,
#: a grade between 0 and 100 its ``state_partial`` (data_dictionary/codelists/benefits.yaml).
FULL_GRADE = 100.0

#: Benefit category (codelist ``categories``) whose full-grade days are the
#: competing event "full disability" (outcomes.md, ``d_dis``).
DISABILITY_CATEGORY = "disability"

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
    group: np.ndarray, start: np.ndarray, stop: np.ndarray, presorted: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Union of half-open spells per group: overlapping and adjacent spells become one.

    Parameters
    ----------
    group, start, stop
        Spells ``[start, stop)`` with their group index.
    presorted
        Whether the spells are already sorted by group, then start (skips the sort).

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
    if not presorted:
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
    spell
        The indices (into the spells given to :func:`tile`) of the spells that
        keep at least one day in their group's window.
    first_segment, end_segment
        Per kept spell, the segments it covers: ``first_segment … end_segment - 1``.
    shift
        Segment sort key = ``group << shift | (start - lo[group])``.
    """

    lo: np.ndarray
    hi: np.ndarray
    group: np.ndarray
    start: np.ndarray
    stop: np.ndarray
    spell: np.ndarray
    first_segment: np.ndarray
    end_segment: np.ndarray
    shift: int

    @property
    def n_groups(self) -> int:
        return len(self.lo)

    @property
    def n_segments(self) -> int:
        return len(self.start)

    # --- per-segment reductions over the covering spells ---------------------

    def covered(self, where: np.ndarray | None = None) -> np.ndarray:
        """Per segment, whether a spell (with ``where[spell]``, if given) covers it.

        A difference array over segment indices: +1 where a spell's segments
        begin, -1 after they end; the running sum counts the covering spells.
        """
        first, end = self._ranges(where)
        change = np.bincount(first, minlength=self.n_segments + 1) - np.bincount(
            end, minlength=self.n_segments + 1
        )
        return np.cumsum(change[:-1]) > 0

    def cover_pairs(self, where: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Every (spell, segment) pair where the spell (with ``where[spell]``) covers the segment."""
        keep = slice(None) if where is None else where[self.spell]
        spell = self.spell[keep]
        first, end = self.first_segment[keep], self.end_segment[keep]
        n_covered = end - first
        offsets = np.cumsum(n_covered) - n_covered
        segment = np.arange(int(n_covered.sum()), dtype=np.int64) + np.repeat(
            first - offsets, n_covered
        )
        return np.repeat(spell, n_covered), segment

    def _ranges(self, where: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        if where is None:
            return self.first_segment, self.end_segment
        keep = where[self.spell]
        return self.first_segment[keep], self.end_segment[keep]

    # --- per-group questions about a per-segment quantity -------------------

    def days_where(self, flag: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Per group, the number of days in ``[lo, hi)`` whose segment has ``flag``."""
        days = self._overlap(lo, hi)
        return np.bincount(self.group[flag], weights=days[flag], minlength=self.n_groups).astype(
            np.int64
        )

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
        # Runs = flagged segments merged with their flagged neighbours.
        run_group, run_start, run_stop = merge_spells(
            self.group[flag], self.start[flag], self.stop[flag], presorted=True
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
        return (group << self.shift) + (day - self.lo[group])


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
    spell_group = np.asarray(spell_group, dtype=np.int64)
    kept, start, stop = clip_spells(
        spell_group,
        np.asarray(spell_start, dtype=np.int64),
        np.asarray(spell_stop, dtype=np.int64),
        lo,
        hi,
    )
    group = spell_group[kept]
    # Sort key: the group in the high bits, the day within the window in the low bits.
    shift = int((hi - lo).max()).bit_length() if n_groups else 1
    origin = np.arange(n_groups, dtype=np.int64) << shift
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
    boundary_group = boundaries >> shift
    boundary_offset = boundaries - (boundary_group << shift)
    # The last boundary of each group is its window end, not a segment start;
    # dropping one boundary per group shifts a segment's index by its group.
    opens = np.flatnonzero(boundary_offset != (hi - lo)[boundary_group])
    seg_group = boundary_group[opens]
    seg_lo = lo[seg_group]
    seg_start = seg_lo + boundary_offset[opens]
    seg_stop = seg_lo + boundary_offset[opens + 1]

    first_segment = np.searchsorted(boundaries, start_key) - group
    end_segment = np.searchsorted(boundaries, stop_key) - group
    return Tiling(lo, hi, seg_group, seg_start, seg_stop, kept, first_segment, end_segment, shift)


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
    benefit_code: Sequence[str] | np.ndarray | pd.Categorical,
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
    given = pd.Categorical(benefit_code)  # free when already Categorical
    position = pd.Index(codes).get_indexer(given.categories)
    used = np.flatnonzero(np.bincount(given.codes.astype(np.int64) + 1)) - 1  # -1 = missing
    unknown = [str(given.categories[u]) for u in used if u < 0 or position[u] < 0]
    if unknown:
        raise ValueError(f"benefit codes not in the codelist: {unknown}")
    code_index = position[given.codes].astype(np.int64)
    rank = {state: i for i, state in enumerate(state_order)}
    is_health = np.array([codelist[c].is_health for c in codes], dtype=bool)
    is_disability = np.array([DISABILITY_CATEGORY in codelist[c].categories for c in codes])
    full_rank = np.array([rank[codelist[c].state_full] for c in codes], dtype=np.int16)
    partial_rank = np.array([rank[codelist[c].state_partial] for c in codes], dtype=np.int16)

    grade = np.asarray(benefit_grade, dtype=np.float64)
    percent = np.asarray(employment_percent, dtype=np.float64)
    if np.any(percent < 0):
        raise ValueError(
            "employment position_percent below 0 (the cleaning step rejects such rows)"
        )
    n_benefits, n_jobs = len(grade), len(percent)
    tiling = tile(
        lo,
        hi,
        np.concatenate([benefit_group, employment_group]).astype(np.int64),
        np.concatenate([benefit_start, employment_start]).astype(np.int64),
        np.concatenate([benefit_stop, employment_stop]).astype(np.int64),
    )
    no_jobs = np.zeros(n_jobs, dtype=bool)
    covers = np.concatenate([grade > 0, no_jobs])  # grade 0 covers no day
    full = np.concatenate([grade >= FULL_GRADE, no_jobs])
    code_index = np.concatenate([code_index, np.zeros(n_jobs, dtype=np.int64)])
    health = covers & is_health[code_index]
    full_disability = covers & full & is_disability[code_index]
    # With no negative percentages, "the percentages sum to more than 0" is
    # "some covering relationship has a percentage above 0".
    employing = np.concatenate([np.zeros(n_benefits, dtype=bool), percent > 0])

    # Largest HRB grade and first state in the order, over the benefit spells
    # covering each segment (the only facts that need spell-by-segment pairs).
    spell, segment = tiling.cover_pairs(covers)
    all_grades = np.concatenate([grade, np.zeros(n_jobs)])
    hrb_grade = np.zeros(tiling.n_segments)
    in_health = health[spell]
    np.maximum.at(hrb_grade, segment[in_health], all_grades[spell[in_health]])
    spell_rank = np.where(full, full_rank[code_index], partial_rank[code_index])
    state = np.full(tiling.n_segments, len(rank), dtype=np.int16)
    np.minimum.at(state, segment, spell_rank[spell])
    # working is "none of the above": the state of a day no benefit covers,
    # wherever a configured order lists it.
    state[state == len(rank)] = rank[WORKING_STATE]
    return DayFacts(
        tiling=tiling,
        hrb_grade=hrb_grade,
        full_disability=tiling.covered(full_disability),
        state=state,
        employed=tiling.covered(employing),
    )
