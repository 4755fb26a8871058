"""Consent, linkage and row accounting.

Consent comes first (outcomes.md, "Episodes"): an episode is used only when
``consent`` is Ja and no ``consent_withdrawn_date`` is set. Everything else
about it – its T0 row, its follow-up answers, the NAV rows of a person with no
consenting episode – is excluded *before validation*, so it never appears in
any output table, not even in ``issues``: only as counts in
``row_accounting``. The decisions (analysis/README.md, "Consent"):

- withdrawal wins: an ``episode_id`` any of whose T0 rows lacks consent or has
  a withdrawal date (even an unreadable one) is excluded with all its rows;
- follow-up answers of an excluded episode are excluded with the episode's
  reason (``excluded_no_consent`` or ``excluded_consent_withdrawn``);
- NAV rows (``personer``, ``ytelser``, ``arbeidsforhold``) of a person without
  any consenting T0 row are excluded as ``excluded_no_consenting_episode``
  – unless the person is in neither the registry nor ``personer``: such a
  spell is a fault of the NAV delivery and is rejected as ``unknown_person``.

Linkage: an episode is ``linked`` when its person is in the (validated)
``personer`` table; an unlinked episode stays in ``episodes`` with
``linked = False`` and its register outcomes missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from arr_stats.dictionary import Table
from arr_stats.ingest.canonical import is_empty

#: Exclusion reasons, in the column order of ``row_accounting``.
EXCLUSION_REASONS: tuple[str, ...] = (
    "excluded_no_consent",
    "excluded_consent_withdrawn",
    "excluded_unlinked",
    "excluded_no_consenting_episode",
)

#: Columns of ``row_accounting``, in order.
ACCOUNTING_COLUMNS: tuple[str, ...] = (
    "file",
    "rows_read",
    "rows_kept",
    "rows_rejected",
    "rows_excluded",
    *EXCLUSION_REASONS,
)


def consent_label(table: Table) -> str:
    """The label of consent given ("Ja"): the label of code 1 of ``consent``."""
    return table.variable("consent").codes[1]


def consent_exclusions(
    episodes: pd.DataFrame, raw_withdrawn: pd.Series, consent_given: str
) -> pd.Series:
    """The exclusion reason of each T0 row (``None`` for a consenting episode).

    Does not mutate its inputs.

    Parameters
    ----------
    episodes
        Canonical T0 rows (index = source row) with ``episode_id``, ``consent``.
    raw_withdrawn
        The raw ``samtykke_trukket_dato`` cells, same index: any non-empty
        cell counts as withdrawn, even one that is not a readable date.
    consent_given
        The label of consent given (``Ja``).

    Returns
    -------
    Series
        ``excluded_no_consent``, ``excluded_consent_withdrawn`` or ``None``
        per row. Rows sharing an ``episode_id`` with an excluded row get that
        row's reason (withdrawal wins).

    Examples
    --------
    >>> t0 = pd.DataFrame({"episode_id": ["E1", "E2", "E3", "E3"],
    ...                    "consent": ["Ja", "Nei", "Ja", "Ja"]}, index=[1, 2, 3, 4])
    >>> withdrawn = pd.Series([None, None, None, "2024-01-05"], index=[1, 2, 3, 4])
    >>> consent_exclusions(t0, withdrawn, "Ja").tolist()
    [None, 'excluded_no_consent', 'excluded_consent_withdrawn', 'excluded_consent_withdrawn']
    """
    reason = pd.Series([None] * len(episodes), index=episodes.index, dtype=object)
    withdrawn = raw_withdrawn.map(lambda v: not is_empty(v)).astype(bool)
    no_consent = episodes["consent"].astype(object).ne(consent_given)
    reason[withdrawn] = "excluded_consent_withdrawn"
    reason[no_consent] = "excluded_no_consent"
    by_episode = (
        pd.DataFrame({"episode_id": episodes["episode_id"], "reason": reason})
        .dropna()
        .drop_duplicates("episode_id")
        .set_index("episode_id")["reason"]
    )
    combined = reason.combine_first(episodes["episode_id"].map(by_episode)).astype(object)
    return combined.where(combined.notna(), None)


def excluded_followups(followup: pd.DataFrame, episode_reasons: Mapping[str, str]) -> pd.Series:
    """The exclusion reason of each follow-up row: that of its excluded episode, else ``None``."""
    return followup["episode_id"].map(lambda e: episode_reasons.get(e)).astype(object)


def excluded_nav_rows(
    nav: pd.DataFrame, consenting_persons: set[str], known_persons: set[str]
) -> pd.Series:
    """``excluded_no_consenting_episode`` for NAV rows of a known person with no consenting episode.

    ``known_persons`` are the persons the delivery knows: those in the
    registry's T0 file and those in ``personer``. A NAV row of a person known
    to neither is not excluded here: validation rejects it as
    ``unknown_person`` (a spell NAV should not have delivered). A row whose
    ``person_id`` is empty is not excluded either; validation rejects it
    (``required``).

    Examples
    --------
    >>> nav = pd.DataFrame({"person_id": ["P1", "P2", None, "P9"]})
    >>> excluded_nav_rows(nav, {"P1"}, {"P1", "P2"}).tolist()
    [None, 'excluded_no_consenting_episode', None, None]
    """
    person = nav["person_id"]
    outside = person.notna() & ~person.isin(consenting_persons) & person.isin(known_persons)
    return pd.Series(
        ["excluded_no_consenting_episode" if o else None for o in outside],
        index=nav.index,
        dtype=object,
    )


def link_episodes(episodes: pd.DataFrame, persons: pd.DataFrame) -> pd.DataFrame:
    """Episodes with a ``linked`` column: whether the person is in ``persons``.

    Examples
    --------
    >>> ep = pd.DataFrame({"episode_id": ["E1", "E2"], "person_id": ["P1", "P9"]})
    >>> link_episodes(ep, pd.DataFrame({"person_id": ["P1"]}))["linked"].tolist()
    [True, False]
    """
    out = episodes.copy()
    out["linked"] = out["person_id"].isin(set(persons["person_id"])).astype(bool)
    return out


def linkage_summary(
    episodes: pd.DataFrame, persons: pd.DataFrame, nav_persons_without_episode: int
) -> pd.DataFrame:
    """The linkage summary (``linkage.csv``): one row per measure.

    Parameters
    ----------
    episodes
        Consenting, validated episodes with ``linked``.
    persons
        Validated NAV persons with a consenting episode.
    nav_persons_without_episode
        Rows of ``personer`` whose person has no consenting episode (excluded).

    Examples
    --------
    >>> ep = pd.DataFrame({"person_id": ["P1", "P1", "P2", "P3"],
    ...                    "linked": [True, True, True, False]})
    >>> s = linkage_summary(ep, pd.DataFrame({"person_id": ["P1", "P2", "P4"]}), 2)
    >>> dict(zip(s["measure"], s["value"]))  # doctest: +NORMALIZE_WHITESPACE
    {'episodes': 4, 'episodes_linked': 3, 'episodes_unlinked': 1, 'persons': 3,
     'persons_matched': 2, 'persons_unmatched': 1, 'persons_with_several_episodes': 1,
     'nav_persons': 3, 'nav_persons_without_consenting_episode': 2}
    """
    per_person = episodes.groupby("person_id", sort=True)["linked"].agg(["size", "first"])
    measures = {
        "episodes": len(episodes),
        "episodes_linked": int(episodes["linked"].sum()),
        "episodes_unlinked": int((~episodes["linked"]).sum()),
        "persons": len(per_person),
        "persons_matched": int(per_person["first"].sum()),
        "persons_unmatched": int((~per_person["first"].astype(bool)).sum()),
        "persons_with_several_episodes": int((per_person["size"] > 1).sum()),
        "nav_persons": len(persons),
        "nav_persons_without_consenting_episode": int(nav_persons_without_episode),
    }
    return pd.DataFrame({"measure": list(measures), "value": list(measures.values())})


@dataclass
class FileAccount:
    """The fate of the rows of one input file."""

    file: str
    rows_read: int
    rows_kept: int = 0
    rows_rejected: int = 0
    excluded: dict[str, int] = field(default_factory=dict)

    @property
    def rows_excluded(self) -> int:
        return sum(self.excluded.values())

    @property
    def balanced(self) -> bool:
        """Whether rows read = kept + rejected + excluded."""
        return self.rows_read == self.rows_kept + self.rows_rejected + self.rows_excluded


def row_accounting(accounts: list[FileAccount]) -> pd.DataFrame:
    """The ``row_accounting`` table, one row per input file (:data:`ACCOUNTING_COLUMNS`)."""
    rows = []
    for a in accounts:
        row = {
            "file": a.file,
            "rows_read": a.rows_read,
            "rows_kept": a.rows_kept,
            "rows_rejected": a.rows_rejected,
            "rows_excluded": a.rows_excluded,
        }
        row.update({reason: int(a.excluded.get(reason, 0)) for reason in EXCLUSION_REASONS})
        rows.append(row)
    return pd.DataFrame(rows, columns=list(ACCOUNTING_COLUMNS))
