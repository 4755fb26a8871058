"""State occupation: the share of episodes in each daily state, day by day."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from arr_stats.domain import DEFAULT_STATE_ORDER
from arr_stats.stats.curves import _check_columns, _groups, _ordered_groups
from arr_stats.stats.fitted import Fitted


def state_counts(
    daily_states: pd.DataFrame,
    outcomes: pd.DataFrame | None = None,
    by: str | None = None,
    first_day: int = 0,
    last_day: int = 365,
) -> pd.DataFrame:
    """Episodes in each daily state per day, and the number observed that day.

    The counts :func:`state_occupation` divides; parameters as there.

    Returns
    -------
    DataFrame
        ``group, day, state, n, n_observed``: one row per group, day and
        state, every day from the group's first to its last day in
        ``daily_states`` (censored days included) and every state in
        priority order; ``state`` holds the states' names. Groups in the
        order of :func:`state_occupation`.

    Examples
    --------
    >>> states = pd.Categorical(["aap", "working", None, "working"],
    ...                         categories=["aap", "working"])
    >>> ds = pd.DataFrame({"episode_id": ["a", "b", "c", "a"], "day": [1, 1, 1, 2],
    ...                    "state": states})
    >>> state_counts(ds)[["day", "state", "n", "n_observed"]].to_numpy().tolist()
    [[1, 'aap', 1, 2], [1, 'working', 1, 2], [2, 'aap', 0, 1], [2, 'working', 1, 1]]
    """
    _check_columns(daily_states, ["episode_id", "day", "state"], "daily_states")
    data = daily_states[["episode_id", "day", "state"]]
    data = data[(data["day"] >= first_day) & (data["day"] <= last_day)]
    state = data["state"]
    categories = (
        list(state.cat.categories)
        if isinstance(state.dtype, pd.CategoricalDtype)
        else list(DEFAULT_STATE_ORDER)
    )
    unknown = set(state.dropna().unique()) - set(categories)
    if unknown:
        raise ValueError(f"daily_states has states outside the state order: {sorted(unknown)}")
    data = data.assign(
        state=pd.Categorical(state, categories=categories), day=data["day"].astype(int)
    )
    if by is not None:
        if by in daily_states.columns:
            data = data.assign(**{by: daily_states.loc[data.index, by]})
        else:
            if outcomes is None:
                raise KeyError(f"daily_states has no column {by!r}; pass outcomes to take it from")
            _check_columns(outcomes, ["episode_id", by], "outcomes")
            data = data.merge(outcomes[["episode_id", by]], on="episode_id", how="left")
    pieces = []
    for value, rows in _groups(data, by):
        observed = rows[rows["state"].notna()]
        days = np.arange(int(rows["day"].min()), int(rows["day"].max()) + 1)
        counts = (
            observed.groupby(["day", "state"], observed=False)
            .size()
            .reindex(pd.MultiIndex.from_product([days, categories], names=["day", "state"]))
            .fillna(0)
            .astype(int)
            .rename("n")
            .reset_index()
        )
        n_observed = observed.groupby("day").size().reindex(days, fill_value=0)
        counts["n_observed"] = n_observed.loc[counts["day"]].to_numpy().astype(int)
        counts.insert(0, "group", [value] * len(counts))
        pieces.append(counts)
    return pd.concat(pieces, ignore_index=True)


def pool_state_counts(counts: pd.DataFrame, pooled: Mapping[Any, Any]) -> pd.DataFrame:
    """Add up the counts of several groups into one: the counts of their episodes together.

    Parameters
    ----------
    counts
        :func:`state_counts`' table (e.g. by unit). Not modified.
    pooled
        Group of ``counts`` → the group it joins; groups not named are left out.

    Returns
    -------
    DataFrame
        :func:`state_counts`' table of the pooled groups, sorted by name (as
        :func:`state_counts` orders a ``by`` that is not categorical), each
        over every day from its groups' first to their last: what
        :func:`state_counts` gives for the episodes of those groups with the
        pooled group as ``by``.

    Examples
    --------
    >>> states = pd.Categorical(["aap", "working", None, "working"],
    ...                         categories=["aap", "working"])
    >>> ds = pd.DataFrame({"episode_id": ["a", "b", "c", "a"], "day": [1, 1, 1, 2],
    ...                    "state": states, "unit": ["x", "y", "y", "x"]})
    >>> by_unit = state_counts(ds, by="unit")
    >>> pool_state_counts(by_unit, {"x": "all", "y": "all"}).equals(
    ...     state_counts(ds.assign(unit="all"), by="unit"))
    True
    """
    if counts.empty:
        return counts.copy()
    categories = list(dict.fromkeys(counts["state"]))
    target = counts["group"].map(dict(pooled))
    kept = counts[target.notna()].assign(group=target[target.notna()])
    pieces = []
    for value in sorted(kept["group"].unique()):
        rows = kept[kept["group"] == value]
        days = np.arange(int(rows["day"].min()), int(rows["day"].max()) + 1)
        grid = pd.MultiIndex.from_product([days, categories], names=["day", "state"])
        summed = rows.groupby(["day", "state"], sort=False)[["n", "n_observed"]].sum()
        frame = summed.reindex(grid, fill_value=0).astype(int).reset_index()
        frame.insert(0, "group", [value] * len(frame))
        pieces.append(frame)
    if not pieces:
        return counts.iloc[0:0].copy()
    return pd.concat(pieces, ignore_index=True)


def occupation_shares(counts: pd.DataFrame) -> pd.DataFrame:
    """:func:`state_counts`' table with each state's share of those observed (``share``)."""
    out = counts.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["share"] = np.where(out["n_observed"] > 0, out["n"] / out["n_observed"], np.nan)
    out = _ordered_groups(out)
    categories = list(dict.fromkeys(out["state"].astype(object)))
    out["state"] = pd.Categorical(out["state"], categories=categories, ordered=True)
    return out


def state_occupation(
    daily_states: pd.DataFrame,
    outcomes: pd.DataFrame | None = None,
    by: str | None = None,
    first_day: int = 0,
    last_day: int = 365,
) -> pd.DataFrame:
    """Share of episodes in each daily state per day, among those observed that day.

    Censored days (``state`` missing) are left out of the denominator. The
    shares of :func:`state_counts`' counts (:func:`occupation_shares`).

    Parameters
    ----------
    daily_states
        ``episode_id, day, state`` (state Categorical in priority order;
        otherwise the configuration's default order is used).
    outcomes
        Source of the ``by`` column when ``daily_states`` lacks it (joined
        on ``episode_id``).
    by
        Column to group by; episodes with a missing ``by`` are left out.
    first_day, last_day
        Days kept (inclusive).

    Returns
    -------
    DataFrame
        ``group, day, state, n, n_observed, share``: one row per group, day
        and state (every state, zero counts included, in priority order);
        ``share = n / n_observed`` (missing when nobody is observed).

    Examples
    --------
    >>> states = pd.Categorical(["aap", "working", None, "working"],
    ...                         categories=["aap", "working"])
    >>> ds = pd.DataFrame({"episode_id": ["a", "b", "c", "a"], "day": [1, 1, 1, 2],
    ...                    "state": states})
    >>> occ = state_occupation(ds)
    >>> occ[["day", "state", "n", "n_observed", "share"]].to_numpy().tolist()
    [[1, 'aap', 1, 2, 0.5], [1, 'working', 1, 2, 0.5], [2, 'aap', 0, 1, 0.0], [2, 'working', 1, 1, 1.0]]
    """
    return occupation_shares(state_counts(daily_states, outcomes, by, first_day, last_day))


@dataclass
class StateOccupation(Fitted):
    """Share of episodes in each daily state, day by day (lifelines-like).

    Parameters
    ----------
    first_day, last_day
        Days kept (inclusive).

    Attributes
    ----------
    table_ : DataFrame
        ``group, day, state, n, n_observed, share`` (see :func:`state_occupation`).
    by_ : str or None
        The grouping column of the fit.

    Examples
    --------
    >>> states = pd.Categorical(["aap", "working", "working"], categories=["aap", "working"])
    >>> ds = pd.DataFrame({"episode_id": ["a", "b", "a"], "day": [1, 1, 2], "state": states})
    >>> StateOccupation(last_day=2).fit(ds).summary["share"].tolist()
    [0.5, 0.5, 0.0, 1.0]
    """

    _result: ClassVar[str] = "table_"
    first_day: int = 0
    last_day: int = 365
    table_: pd.DataFrame | None = field(default=None, init=False, repr=False)
    by_: str | None = field(default=None, init=False)

    def fit(
        self,
        daily_states: pd.DataFrame,
        outcomes: pd.DataFrame | None = None,
        by: str | None = None,
    ) -> StateOccupation:
        """Fit to ``daily_states`` (and ``outcomes`` for ``by``); inputs are not modified."""
        self.table_ = state_occupation(daily_states, outcomes, by, self.first_day, self.last_day)
        self.by_ = by
        return self
