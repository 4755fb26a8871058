"""Consent, linkage and row accounting.

Consent comes first (outcomes.md, "Episodes"): an episode is used only when
``consent`` is Ja and no ``consent_withdrawn_date`` is set. Everything else
about it – its T0 row, its follow-up answers, the NAV rows of a person with no
consenting episode – is excluded *before validation*, so it never appears in
any output table, not even in ``issues``: only as counts in
``row_accounting``. The decisions (analysis/README.md, "Consent"):

- consent is ``samtykke`` = 1 (Ja) and no withdrawal date; 0 (Nei) is
  ``excluded_no_consent``; any other value (empty, 9, a word) is
  ``excluded_consent_unknown``, and the value is reported as an issue
  (``consent_unknown``) so that a delivery coding consent differently is
  noticed; a withdrawal date that is an NA token (``NA``, ``NULL``, ``.``) is
  empty, any other text (even an unreadable date) is a withdrawal;
- withdrawal wins: an ``episode_id`` any of whose T0 rows lacks consent or has
  a withdrawal date is excluded with all its rows;
- follow-up answers of an excluded episode are excluded with the episode's
  reason (``excluded_no_consent`` or ``excluded_consent_withdrawn``);
- NAV rows (``personer``, ``ytelser``, ``arbeidsforhold``) of a person without
  any consenting T0 row are excluded as ``excluded_no_consenting_episode``
  – unless the person is in neither the registry nor ``personer``: such a
  spell is a fault of the NAV delivery and is rejected as ``unknown_person``.

Linkage: an episode is ``linked`` when its person is in the (validated)
``personer`` table; an unlinked episode stays in ``episodes`` with
``linked = False`` and its register outcomes missing. Identifiers are matched
as text; :func:`id_type_conflicts` and :func:`linkage_problem` say why a
delivery's identifiers do not match (a producer that stored them as numbers
and lost the leading zeros), so that the build can stop instead of silently
leaving every episode unlinked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from arr_stats.dictionary import Table
from arr_stats.ingest.canonical import is_empty

#: Exclusion reasons, in the column order of ``row_accounting``.
EXCLUSION_REASONS: tuple[str, ...] = (
    "excluded_no_consent",
    "excluded_consent_withdrawn",
    "excluded_consent_unknown",
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


def consent_refused_label(table: Table) -> str:
    """The label of consent refused ("Nei"): the label of code 0 of ``consent``."""
    return table.variable("consent").codes[0]


def consent_exclusions(
    episodes: pd.DataFrame,
    raw_withdrawn: pd.Series,
    consent_given: str,
    consent_refused: str | None = None,
    na_tokens: tuple[str, ...] = (),
) -> pd.Series:
    """The exclusion reason of each T0 row (``None`` for a consenting episode).

    Does not mutate its inputs.

    Parameters
    ----------
    episodes
        Canonical T0 rows (index = source row) with ``episode_id``, ``consent``.
    raw_withdrawn
        The raw ``samtykke_trukket_dato`` cells, same index: any non-empty
        cell that is not an NA token counts as withdrawn, even one that is
        not a readable date.
    consent_given, consent_refused
        The labels of consent given (``Ja``) and refused (``Nei``). Without
        ``consent_refused`` every value but ``consent_given`` is no consent.
    na_tokens
        Cell text that means empty (the dictionary's ``na_tokens``).

    Returns
    -------
    Series
        ``excluded_no_consent``, ``excluded_consent_withdrawn``,
        ``excluded_consent_unknown`` or ``None`` per row. Rows sharing an
        ``episode_id`` with an excluded row get that row's reason (withdrawal wins).

    Examples
    --------
    >>> t0 = pd.DataFrame({"episode_id": ["E1", "E2", "E3", "E3", "E4"],
    ...                    "consent": ["Ja", "Nei", "Ja", "Ja", None]}, index=[1, 2, 3, 4, 5])
    >>> withdrawn = pd.Series([None, None, "NA", "2024-01-05", None], index=[1, 2, 3, 4, 5])
    >>> consent_exclusions(t0, withdrawn, "Ja", "Nei", ("NA",)).tolist()
    ... # doctest: +NORMALIZE_WHITESPACE
    [None, 'excluded_no_consent', 'excluded_consent_withdrawn', 'excluded_consent_withdrawn',
     'excluded_consent_unknown']
    """
    reason = pd.Series([None] * len(episodes), index=episodes.index, dtype=object)
    withdrawn = raw_withdrawn.map(lambda v: not is_empty(v, na_tokens)).astype(bool)
    consent = episodes["consent"].astype(object)
    if consent_refused is None:
        no_consent = consent.ne(consent_given)
        unknown = pd.Series(False, index=episodes.index)
    else:
        no_consent = consent.eq(consent_refused)
        unknown = ~consent.isin([consent_given, consent_refused])
    reason[unknown.to_numpy()] = "excluded_consent_unknown"
    reason[withdrawn.to_numpy()] = "excluded_consent_withdrawn"
    reason[no_consent.to_numpy()] = "excluded_no_consent"
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


_LEADING_ZERO = re.compile(r"^0\d+$")
_DIGITS = re.compile(r"^\d+$")


def leading_zero_examples(values: pd.Series, n: int = 1) -> list[str]:
    """Up to ``n`` values that are digits with a leading zero (``00171071``).

    Examples
    --------
    >>> leading_zero_examples(pd.Series(["P1", "0012", "12"]))
    ['0012']
    """
    text = values.dropna().astype(str)
    return text[text.str.match(_LEADING_ZERO)].head(n).tolist()


def id_type_conflicts(
    columns: Mapping[str, tuple[str, pd.Series]],
) -> list[tuple[str, str, str]]:
    """Files that store an identifier as a number while another file's values need zeros.

    Parameters
    ----------
    columns
        File label → (how the producer stored the column: ``text``,
        ``number`` …, the column's values as canonical text).

    Returns
    -------
    list
        (numeric file, text file, example value with leading zeros) for
        every such pair: the numbers cannot hold those zeros, so the
        identifiers will not match as text.

    Examples
    --------
    >>> id_type_conflicts({"t0.sav": ("number", pd.Series(["171071"])),
    ...                    "personer.csv": ("text", pd.Series(["00171071"]))})
    [('t0.sav', 'personer.csv', '00171071')]
    """
    found = []
    numeric = [f for f, (kind, _) in columns.items() if kind == "number"]
    for text_file, (kind, values) in columns.items():
        if kind == "number":
            continue
        examples = leading_zero_examples(values)
        if examples:
            found += [(f, text_file, examples[0]) for f in numeric]
    return found


def pad_ids(values: pd.Series, width: int) -> tuple[pd.Series, int]:
    """Zero-pad identifiers that are digits only and shorter than ``width``; (values, changed).

    Examples
    --------
    >>> padded, n = pad_ids(pd.Series(["171071", "P12", None, "00171072"]), 8)
    >>> padded.tolist(), n
    (['00171071', 'P12', None, '00171072'], 1)
    """
    text = values.astype(object)
    short = text.map(lambda v: isinstance(v, str) and bool(_DIGITS.match(v)) and len(v) < width)
    out = text.where(~short, text[short].map(lambda v: v.zfill(width)))
    return out.astype(object), int(short.sum())


def linkage_problem(
    registry_ids: pd.Series, nav_ids: pd.Series, registry_file: str, nav_file: str
) -> str:
    """The likely reason registry person ids do not match NAV's, in words.

    Examples
    --------
    >>> linkage_problem(pd.Series(["171071"]), pd.Series(["00171071"]), "t0.sav", "personer.csv")
    ... # doctest: +ELLIPSIS
    'the ids differ by leading zeros (t0.sav has 171071 where personer.csv has 00171071): ...'
    """
    registry = set(registry_ids.dropna().astype(str))
    nav = set(nav_ids.dropna().astype(str))
    unmatched = sorted(registry - nav)
    stripped = {v.lstrip("0"): v for v in nav if _DIGITS.match(v)}
    for value in unmatched:
        if _DIGITS.match(value) and value.lstrip("0") in stripped:
            width = len(stripped[value.lstrip("0")])
            return (
                f"the ids differ by leading zeros ({registry_file} has {value} where "
                f"{nav_file} has {stripped[value.lstrip('0')]}): the registry file stored "
                f"lopenr as a number; deliver it as text, or set [linkage] pad_ids = "
                f"{{ lopenr = {width} }} in the run configuration to zero-pad it"
            )
    folded = {v.strip().upper() for v in nav}
    for value in unmatched:
        if value.strip().upper() in folded:
            return (
                f"the ids differ in case ({registry_file} has {value!r}); pseudonyms are "
                f"compared exactly: deliver them as NAV writes them"
            )
    example_r = unmatched[0] if unmatched else "–"
    example_n = sorted(nav)[0] if nav else "–"
    return (
        f"the ids do not look alike ({registry_file} has e.g. {example_r!r}, {nav_file} "
        f"e.g. {example_n!r}): check that both files come from the same delivery and "
        f"pseudonymisation key"
    )


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
