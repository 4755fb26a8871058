"""The authors' own text: Markdown files of a report year, placed in their sections.

The registry's authors write background, interpretation, improvement work and
the registry's assessment each year without touching code (indicators-and-
report.md, "The annual report"). Each text has a fixed place in the report, a
*slot*: one Markdown file per slot, in the folder the run configuration names
(``[report] text``, default ``reports/text``)::

    reports/text/<year>/<slot>.md                    all editions of the year
    reports/text/<year>/<institution_id>/<slot>.md   that institution's edition

An institution's edition shows its own file of a slot when there is one, else
the year's file. A slot without a file (or whose file holds nothing but
comments) is left out: no heading, no empty space. The heading a text is
shown under is the report's (:data:`SLOTS`), not the file's, so the document's
numbering and table of contents stay as they are; the file holds paragraphs
and lists. ``reports/text/TEMPLATE/`` holds one file per slot that says what
belongs there (:func:`write_template` writes it).

A text is refused, in one line naming the file, when it holds something that
looks like a person identifier (an 11-digit number, a pseudonym of the
``person_id`` column: :func:`arr_stats.publication.disclosure.
check_no_identifiers`), a Markdown heading, an image, a link or raw HTML (the
report is read offline and loads nothing from outside).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from IPython.display import HTML, Markdown

from arr_stats.errors import ArrStatsError
from arr_stats.labels import CATALOGUE, DEFAULT_LANGUAGE, LANGUAGES, t
from arr_stats.publication.disclosure import check_no_identifiers

if TYPE_CHECKING:
    from arr_stats.report.context import ReportContext


@dataclass(frozen=True)
class TextSlot:
    """A place in the report for the authors' text.

    Attributes
    ----------
    name
        The file stem (``<name>.md``) and what the document passes to :func:`text`.
    heading
        The lead the text is shown under.
    section
        Where it is shown: the section of ``arsrapport.qmd`` (its heading).
    guidance
        What belongs there (the template file says it).
    """

    name: str
    heading: str
    section: str
    guidance: str


#: The slots, in document order. The document calls :func:`text` once per slot.
SLOTS: tuple[TextSlot, ...] = (
    TextSlot(
        "bakgrunn",
        t("author.bakgrunn"),
        "innledningen, før 1 Sammendrag",
        "Registerets formål, hvem som rapporterer, og hva som er nytt i år.",
    ),
    TextSlot(
        "vurdering",
        t("author.vurdering"),
        "1 Sammendrag, etter indikatorene",
        "Registerets samlede vurdering av årets resultater og måloppnåelse.",
    ),
    TextSlot(
        "datagrunnlag",
        t("author.interpretation"),
        "2 Registerets datagrunnlag, til slutt",
        "Dekningsgrad, svarprosent og kobling: hva de betyr for resultatene.",
    ),
    TextSlot(
        "deltakerne",
        t("author.interpretation"),
        "3 Deltakerne, til slutt",
        "Hvem pasientene er, og endringer fra tidligere år.",
    ),
    TextSlot(
        "forbedring",
        t("author.forbedring"),
        "4 Institusjonene, til slutt",
        "Forbedringsarbeid ved institusjonene og i registeret, og hva det har gitt.",
    ),
    TextSlot(
        "arbeid",
        t("author.interpretation"),
        "5 Arbeidsdeltakelse, til slutt",
        "Tolkning av arbeidsdeltakelsen det første året og andelen i arbeid 12 måneder etter.",
    ),
    TextSlot(
        "tid",
        t("author.interpretation"),
        "6 Tid til tilbakeføring, til slutt",
        "Tolkning av tiden til bærekraftig tilbakeføring til arbeid.",
    ),
    TextSlot(
        "selvrapportert",
        t("author.interpretation"),
        "7 Selvrapportert arbeid og arbeidsevne, til slutt",
        "Tolkning av selvrapportert arbeidsevne og arbeid.",
    ),
    TextSlot(
        "metode",
        t("author.metode"),
        "8 Metode og datakvalitet, til slutt",
        "Kjente svakheter i data og metode, og hva registeret gjør med dem.",
    ),
)

_BY_NAME = {slot.name: slot for slot in SLOTS}

#: The catalogue key of each slot's heading (:mod:`arr_stats.labels`).
_HEADING_KEYS = {
    name: f"author.{name}"
    if f"author.{name}" in CATALOGUE[DEFAULT_LANGUAGE]
    else "author.interpretation"
    for name in _BY_NAME
}


def text_name(name: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """The file name of slot ``name`` in ``lang``: ``vurdering.md``, ``vurdering.en.md``.

    Examples
    --------
    >>> text_name("vurdering"), text_name("vurdering", "en")
    ('vurdering.md', 'vurdering.en.md')
    """
    return f"{name}.md" if lang == DEFAULT_LANGUAGE else f"{name}.{lang}.md"


#: The folder of template files beside the year folders.
TEMPLATE_FOLDER = "TEMPLATE"

_COMMENT = re.compile(r"<!--.*?-->", re.S)

#: What a text may not hold, and why (checked line by line, outside code spans).
_REFUSED: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"^ {0,3}#{1,6}(\s|$)"),
        "a Markdown heading (the report sets the heading of this text; write paragraphs and lists)",
    ),
    (re.compile(r"^ {0,3}(=+|-+)\s*$"), "an underlined heading (write paragraphs and lists)"),
    (re.compile(r"!\["), "an image (the report holds only its own figures)"),
    (
        re.compile(r"\]\(|\]\s*\[|<[a-z][a-z0-9+.-]*:", re.I),
        "a link (the report is read offline and links to nothing; write an address as text)",
    ),
    (re.compile(r"</?[a-z][^>]*>", re.I), "HTML (write Markdown only)"),
)


def slot(name: str) -> TextSlot:
    """The slot named ``name``.

    Raises
    ------
    ArrStatsError
        ``name`` is not a slot.
    """
    try:
        return _BY_NAME[name]
    except KeyError:
        known = ", ".join(s.name for s in SLOTS)
        raise ArrStatsError(f"no text slot {name!r}; the slots are {known}") from None


def text_file(
    text_dir: Path, year: int, institution: str | None, name: str, lang: str = DEFAULT_LANGUAGE
) -> Path | None:
    """The file of slot ``name`` an edition shows, or ``None``.

    The institution's own file when there is one, else the year's. An edition
    in another language than bokmål shows only the files written in it
    (``<name>.<lang>.md``, :func:`text_name`).

    Examples
    --------
    >>> text_file(Path("/nonexistent"), 2025, None, "vurdering") is None
    True
    """
    slot(name)
    year_dir = Path(text_dir) / str(year)
    candidates = [year_dir / text_name(name, lang)]
    if institution is not None:
        candidates.insert(0, year_dir / str(institution) / text_name(name, lang))
    return next((p for p in candidates if p.is_file()), None)


def read_text(path: Path, person_ids: Iterable[str] | None = None) -> str | None:
    """The Markdown of one text file, checked; ``None`` when it holds only comments.

    HTML comments (``<!-- … -->``, the template's guidance) are removed.

    Raises
    ------
    ArrStatsError
        One line naming the file: not UTF-8, an identifier, a heading, an
        image, a link or HTML.
    """
    try:
        raw = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ArrStatsError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    # comments become as many empty lines, so that line numbers are the file's
    kept = _COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), raw.replace("\r\n", "\n"))
    body = kept.strip()
    if not body:
        return None
    try:
        check_no_identifiers(body, person_ids)
    except ArrStatsError as exc:
        raise ArrStatsError(f"{path}: {exc}; remove it and render again") from None
    fenced = False
    for number, line in enumerate(kept.splitlines(), start=1):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        if fenced:
            continue
        outside_code = re.sub(r"`[^`]*`", "", line)
        for pattern, what in _REFUSED:
            if pattern.search(outside_code):
                raise ArrStatsError(f"{path}, line {number}: {what}")
    return body


def slot_markdown(name: str, body: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """The Markdown a slot's text is shown as: its lead in bold, then the text.

    A bold lead rather than a heading: both engines render it the same way,
    and it neither renumbers the sections nor enters the table of contents.

    Examples
    --------
    >>> print(slot_markdown("vurdering", "Godt år."))
    **Registerets vurdering**
    <BLANKLINE>
    Godt år.
    """
    heading = slot(name).heading if lang == DEFAULT_LANGUAGE else t(_HEADING_KEYS[name], lang)
    return f"**{heading}**\n\n{body}"


def text(ctx: ReportContext, name: str) -> Markdown | None:
    """The authors' text of slot ``name`` for this edition, or ``None`` when there is none.

    What the document calls where the slot's text belongs; the folder is the
    run configuration's ``[report] text``.

    Raises
    ------
    ArrStatsError
        An unknown slot, or a text that :func:`read_text` refuses.
    """
    path = text_file(ctx.config.text_dir, ctx.year, ctx.institution, name, ctx.lang)
    if path is None:
        return None
    body = read_text(path, ctx.derived.persons["person_id"].astype(str))
    return None if body is None else Markdown(slot_markdown(name, body, ctx.lang))


def edition_texts(ctx: ReportContext) -> list[Path]:
    """The text files this edition shows, in slot order (comment-only files left out)."""
    ids = ctx.derived.persons["person_id"].astype(str)
    shown = []
    for s in SLOTS:
        path = text_file(ctx.config.text_dir, ctx.year, ctx.institution, s.name, ctx.lang)
        if path is not None and read_text(path, ids) is not None:
            shown.append(path)
    return shown


def text_hashes_table(ctx: ReportContext) -> HTML | None:
    """The authors' text files of the edition with their SHA-256 (provenance), or ``None``.

    Paths are shown relative to the text folder (``2025/vurdering.md``),
    never as absolute paths.
    """
    from arr_stats.io import sha256_file
    from arr_stats.report.formats import html_table

    shown = edition_texts(ctx)
    if not shown:
        return None
    root = Path(ctx.config.text_dir)
    table = pd.DataFrame(
        [(p.relative_to(root).as_posix(), sha256_file(p)) for p in shown],
        columns=[t("col.file", ctx.lang), "SHA-256"],
    )
    return html_table(table, caption=t("caption.author_texts", ctx.lang))


def check_texts(
    text_dir: Path,
    year: int,
    institutions: Sequence[str | None],
    person_ids: Iterable[str] | None = None,
) -> list[Path]:
    """Check, before rendering, every text file the editions of ``year`` will show.

    Parameters
    ----------
    text_dir
        The configuration's text folder.
    year
        The report year.
    institutions
        The editions' institution ids (``None`` for the national edition).
    person_ids
        The pseudonyms of the data.

    Returns
    -------
    list of Path
        The files read, in order.

    Raises
    ------
    ArrStatsError
        One line: a ``.md`` file in a folder read whose name is no slot (a
        misspelt name would otherwise be left out unseen), or a text
        :func:`read_text` refuses.
    """
    ids = None if person_ids is None else list(person_ids)
    year_dir = Path(text_dir) / str(year)
    folders = [year_dir] + [year_dir / str(i) for i in institutions if i is not None]
    read: list[Path] = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.md")):
            stem, _, lang = path.stem.partition(".")
            if stem not in _BY_NAME or (lang and lang not in LANGUAGES[1:]):
                known = ", ".join(f"{s.name}.md" for s in SLOTS)
                raise ArrStatsError(f"{path}: not a text of the report; the files read are {known}")
            read_text(path, ids)
            read.append(path)
    return read


def template_text(name: str) -> str:
    """The template file of one slot: what it is for, as a comment to write under.

    Examples
    --------
    >>> print(template_text("tid").splitlines()[1])
    Tolkning – vises i 6 Tid til tilbakeføring, til slutt.
    """
    s = slot(name)
    return (
        "<!--\n"
        f"{s.heading} – vises i {s.section}.\n"
        f"{s.guidance}\n"
        "\n"
        "Skriv avsnitt og punktlister under denne kommentaren (Markdown: **fet**, *kursiv*,\n"
        "- punkt). Overskriften settes av rapporten; ikke bruk overskrifter, bilder,\n"
        "lenker eller HTML. Ingen personnummer eller andre identifikatorer.\n"
        "Står det ikke noe annet enn denne kommentaren i filen, vises ingenting.\n"
        "-->\n"
    )


def write_template(folder: Path) -> list[Path]:
    """Write one template file per slot into ``folder`` (``reports/text/TEMPLATE``)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for s in SLOTS:
        path = folder / f"{s.name}.md"
        path.write_text(template_text(s.name), encoding="utf-8")
        written.append(path)
    return written
