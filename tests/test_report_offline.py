"""The rendered editions stand alone, carry the same report on both engines, and print well.

The national edition and one institution's edition of the session's synthetic
demo are rendered once with each engine, real Quarto (``@pytest.mark.quarto``)
and the Jupyter fallback, as HTML and PDF. Each HTML file is scanned for every
way a page can load something from elsewhere (``src``, ``href``, ``srcset``,
``<link>``, CSS ``url()`` and ``@import``); only ``#`` anchors and ``data:``
URIs may remain. The two engines' pages carry the same headings, table
captions, figures and table cells, and no edition prints the absolute path of
the project, the configuration or the data folders (indicators-and-report.md;
issue 13, items 1, 2 and 9).

The PDFs (issue 13, item 3) are read with Poppler's tools as a reader would
meet them: A4 pages in a sane number, the running title with the year and the
edition and ``n / N`` on every page, no page beginning inside a table without
its header row, no heading at the foot of a page, every figure with its
caption on its page, every word inside the margins, every table numbered and
every number of every table cell printed, and the two engines' PDFs with the
same table of contents and captions.
"""

from __future__ import annotations

import html.parser
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from arr_stats.config import PROJECT_ROOT, load_config
from arr_stats.errors import ArrStatsError
from arr_stats.report import editions, render, tables
from arr_stats.report.formats import HtmlBlock, raw_html_of
from tools import require_tool

#: Attributes through which an element loads or links to a resource.
URL_ATTRIBUTES = frozenset(
    {"src", "href", "srcset", "poster", "data", "action", "formaction", "background", "xlink:href"}
)
_CSS_URL = re.compile(r"""url\(\s*["']?([^"')\s]*)|@import\s+["']([^"']+)""")


def _is_inside_document(reference: str) -> bool:
    reference = reference.strip()
    return reference.startswith("#") or reference.lower().startswith("data:")


class _References(html.parser.HTMLParser):
    """Every resource reference of a page: attributes, and CSS in ``<style>`` and ``style=``."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_style = False

    def _css(self, text: str) -> None:
        for match in _CSS_URL.finditer(text):
            self.found.append(match.group(1) or match.group(2) or "")

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value is None:
                continue
            if name == "srcset":
                self.found += [part.split()[0] for part in value.split(",") if part.strip()]
            elif name in URL_ATTRIBUTES:
                self.found.append(value)
            elif name == "style":
                self._css(value)
        if tag == "style":
            self._in_style = True

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self._css(data)


def external_references(page: str) -> list[str]:
    """The references of an HTML page that point outside it (not ``#…``, not ``data:``)."""
    parser = _References()
    parser.feed(page)
    parser.close()
    return [ref for ref in parser.found if not _is_inside_document(ref)]


class _Outline(html.parser.HTMLParser):
    """Headings (without their numbers), table captions and images of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[str] = []
        self.captions: list[str] = []
        self.images = 0
        self._into: list[str] | None = None
        self._in_toc = False

    def handle_starttag(self, tag, attrs):
        if tag == "nav" and dict(attrs).get("id") == "TOC":
            self._in_toc = True
        if tag == "img":
            self.images += 1
        if tag in ("h2", "h3") and not self._in_toc:
            self._into = self.headings
            self.headings.append("")
        if tag == "caption":
            self._into = self.captions
            self.captions.append("")

    def handle_endtag(self, tag):
        if tag == "nav":
            self._in_toc = False
        if tag in ("h2", "h3", "caption"):
            self._into = None

    def handle_data(self, data):
        if self._into is not None:
            self._into[-1] += data


def outline(page: str) -> tuple[list[str], list[str], int]:
    """Headings, table captions and the number of images, as a reader meets them."""
    parser = _Outline()
    parser.feed(page)
    headings = [re.sub(r"^[\d.]+\s*", "", " ".join(h.split())) for h in parser.headings]
    captions = [" ".join(c.split()) for c in parser.captions]
    return [h for h in headings if h and h != "Innhold"], captions, parser.images


# ---------------------------------------------------------------- the scanner itself


@pytest.mark.parametrize(
    "snippet",
    [
        '<script src="https://cdn.jsdelivr.net/npm/jquery@3.5.1/dist/jquery.min.js"></script>',
        '<link rel="stylesheet" href="//fonts.example.org/a.css">',
        '<img src="figures/fig-1.png">',
        '<img srcset="file:///home/u/b.png 2x">',
        "<style>body { background: url('/usr/share/bg.png'); }</style>",
        '<style>@import "https://example.org/x.css";</style>',
        '<div style="background-image: url(http://example.org/y.png)"></div>',
        '<object data="report_files/x.svg"></object>',
    ],
)
def test_scanner_finds_each_kind_of_external_reference(snippet):
    page = f'<html><body><a href="#sec-a">a</a>{snippet}</body></html>'
    assert len(external_references(page)) == 1


def test_scanner_allows_anchors_and_data_uris():
    page = (
        '<html><head><style>i { background: url("data:image/png;base64,AA=="); }</style></head>'
        '<body><a href="#sec-a">a</a><img src="data:image/png;base64,iVBOR"></body></html>'
    )
    assert external_references(page) == []


# ---------------------------------------------------------------- what a cell hands the engines


def test_tables_are_markdown_raw_html_not_a_jupyter_html_output():
    """Quarto adds require.js and jQuery from a CDN for any ``text/html`` cell output."""
    from IPython.core.formatters import DisplayFormatter

    block = tables.html_table(pd.DataFrame({"Enhet": ["A"], "n": ["12"]}))
    assert isinstance(block, HtmlBlock)
    bundle, _ = DisplayFormatter().format(block)
    assert "text/html" not in bundle and "application/javascript" not in bundle
    assert raw_html_of(bundle["text/markdown"]) == block.data


# ---------------------------------------------------------------- provenance paths


def test_shown_configuration_names_no_absolute_path(tmp_path):
    from arr_stats.config import DEMO_CONFIG

    config = load_config(DEMO_CONFIG).with_overrides(
        registry_dir=tmp_path / "lev" / "registry",
        nav_dir=tmp_path / "lev" / "nav",
        derived_dir=tmp_path / "derived",
    )
    shown = tables.shown_configuration(config)
    # the configuration file, relative to the project it lies in
    assert shown["source"] == "analysis/demo.toml"
    # folders outside the project: by their name alone
    assert shown["paths"] == {"registry": "registry", "nav": "nav", "derived": "derived"}
    # the demo's report folder lies in the project: relative to it
    assert shown["report"]["out"] == "reports/_output"
    assert shown["report"]["text"] == "reports/text"  # the authors' text folder too
    text = repr(shown)
    assert str(tmp_path) not in text and str(PROJECT_ROOT) not in text


def test_configuration_outside_the_project_is_shown_relative_to_its_folder(tmp_path):
    from arr_stats.config import DEMO_CONFIG

    project = tmp_path / "tsd" / "p11" / "arr"
    (project / "analysis").mkdir(parents=True)
    toml = project / "analysis" / "run.toml"
    toml.write_text(
        DEMO_CONFIG.read_text(encoding="utf-8").replace("../data/demo", "data"), encoding="utf-8"
    )
    shown = tables.shown_configuration(load_config(toml))
    assert shown["source"] == "run.toml"
    assert shown["paths"]["derived"] == "data/derived"
    assert "/tsd/" not in repr(shown)


# ---------------------------------------------------------------- rendered with both engines


@dataclass(frozen=True)
class Rendered:
    """One edition as one engine rendered it."""

    edition: editions.Edition
    html: str
    pdf: Path | None
    folders: tuple[Path, ...]


@pytest.fixture(scope="module")
def rendered_by_engine(tmp_path_factory, config_for, demo_delivery, demo_derived, demo_params):
    """``rendered(engine, edition="national", again=False)``: :class:`Rendered`, once each.

    Each engine renders the national edition and the first institution's, HTML
    and PDF, in one ``render_reports`` call; the render time is fixed
    (``SOURCE_DATE_EPOCH``). ``again`` renders the national HTML a second time.
    """
    config = config_for(demo_delivery, demo_derived, demo_params.data_end)
    year = demo_params.years[1]
    institution = editions.plan_editions(demo_derived, year, None, True, False)[0]
    done: dict[str, dict[str, Rendered]] = {}

    def rendered(engine: str, edition: str = "national", again: bool = False) -> Rendered:
        key = f"{engine}-again" if again else engine
        if key not in done:
            out = tmp_path_factory.mktemp(f"editions-{key}")
            with pytest.MonkeyPatch.context() as patch:
                patch.setenv("SOURCE_DATE_EPOCH", "1790000000")
                t0 = time.perf_counter()
                render.render_reports(
                    config,
                    demo_derived,
                    year,
                    institution=None if again else institution.institution,
                    out_dir=out,
                    engine=engine,
                    pdf=not again,
                )
                print(f"{key}: {time.perf_counter() - t0:.1f} s")  # shown with -s
            folders = (PROJECT_ROOT, editions.REPORTS_DIR, demo_derived, demo_delivery, out)
            shown = [editions.Edition(year)] + ([] if again else [institution])
            done[key] = {}
            for ed in shown:
                name = "national" if ed.institution is None else "institution"
                pdf = out / str(year) / f"{ed.stem}.pdf"
                done[key][name] = Rendered(
                    ed,
                    (out / str(year) / f"{ed.stem}.html").read_text(encoding="utf-8"),
                    pdf if pdf.is_file() else None,
                    folders,
                )
        return done[key][edition]

    return rendered


ENGINES = [pytest.param("fallback"), pytest.param("quarto", marks=pytest.mark.quarto)]
EDITIONS = ["national", "institution"]


@pytest.mark.slow
@pytest.mark.parametrize("edition", EDITIONS)
@pytest.mark.parametrize("engine", ENGINES)
def test_edition_loads_nothing_from_outside(rendered_by_engine, engine, edition):
    page = rendered_by_engine(engine, edition).html
    assert external_references(page) == []
    assert "cdn.jsdelivr.net" not in page and "require.min.js" not in page


@pytest.mark.slow
@pytest.mark.parametrize("engine", ENGINES)
def test_national_edition_names_no_absolute_path(rendered_by_engine, engine):
    done = rendered_by_engine(engine)
    for folder in done.folders:
        assert str(Path(folder).resolve()) not in done.html, folder
    assert str(Path.home()) + "/" not in done.html
    # the appendix still says which configuration it was
    assert "analysis/demo.toml" in done.html


class _Tables(html.parser.HTMLParser):
    """The text of every cell of every table of a page, row by row."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th") and self.tables and self.tables[-1]:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def table_cells(page: str) -> list[list[list[str]]]:
    """Every table of a page as rows of cell texts (whitespace collapsed); the header first."""
    parser = _Tables()
    parser.feed(page)
    return parser.tables


@pytest.mark.slow
@pytest.mark.quarto
@pytest.mark.parametrize("edition", EDITIONS)
def test_both_engines_show_the_same_sections_tables_numbers_and_figures(
    rendered_by_engine, edition
):
    quarto = rendered_by_engine("quarto", edition)
    fallback = rendered_by_engine("fallback", edition)
    headings, captions, images = outline(fallback.html)
    assert len(headings) >= 20 and len(captions) >= 20 and images >= 6
    assert outline(quarto.html) == (headings, captions, images)
    # every table, row and cell: the same numbers in the same places
    cells = table_cells(fallback.html)
    assert len(cells) == len(captions)
    assert sum(len(rows) for rows in cells) >= 150
    assert table_cells(quarto.html) == cells


@pytest.mark.slow
@pytest.mark.quarto
def test_quarto_renders_the_same_bytes_twice(rendered_by_engine):
    """Same inputs, same bytes: Quarto's random ids of unlabelled cells are numbered."""
    first = rendered_by_engine("quarto").html
    second = rendered_by_engine("quarto", again=True).html
    assert 'class="cell"' in first
    assert first == second


# ---------------------------------------------------------------- the printed report (PDF)


def pdf_pages(pdf: Path) -> list[str]:
    """The text of each page, laid out as on the page (``pdftotext -layout``)."""
    done = subprocess.run(
        [require_tool("pdftotext"), "-layout", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    )
    pages = done.stdout.split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages


def pdf_images(pdf: Path) -> int:
    """How many images the PDF shows (``pdfimages -list``; soft masks not counted)."""
    done = subprocess.run(
        [require_tool("pdfimages"), "-list", str(pdf)],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = [line.split() for line in done.stdout.splitlines()[2:]]
    return sum(1 for row in rows if len(row) > 2 and row[2] == "image")


def _flat(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split())


def _header_start(row: list[str]) -> str:
    return _flat(" ".join([row[0], *row[1].split()[:1]]) if len(row) > 1 else row[0])


def pages_split_without_header(pages: list[str], tables: list[list[list[str]]]) -> list[int]:
    """Pages (from 1) that begin inside a table without repeating the table's header row.

    A page begins inside a table when its first line below the running title
    starts with the first cell of a body row of one of ``tables`` (rows of
    cell texts, the header first), or with the first line of a wrapped one;
    that line must then be a header row.
    """
    # a header row: its first cell and the first word of the second
    headers = {_header_start(rows[0]) for rows in tables if rows and rows[0]}
    body_starts = {_flat(row[0]) for rows in tables for row in rows[1:] if row and row[0]}
    body_starts -= headers | {""}

    def starts_with(line: str, cells: set[str]) -> bool:
        return any(line == cell or line.startswith(cell + " ") for cell in cells)

    bad = []
    for number, page in enumerate(pages[1:], start=2):
        lines = [line for line in page.splitlines() if line.strip()][1:]  # below the title
        if not lines:
            continue
        line = _flat(lines[0])
        field = _flat(re.split(r"\s{2,}", lines[0].strip())[0])
        wrapped = len(field) >= 8 and any(cell.startswith(field) for cell in body_starts)
        if (starts_with(line, body_starts) or wrapped) and not starts_with(line, headers):
            bad.append(number)
    return bad


RUNNING_TITLE = "Årsrapport ARR"


def test_split_table_check_sees_a_missing_header(tmp_path):
    """The check above fails a long table that does not repeat its header, and only that."""
    import typst  # in requirements.lock (the fallback engine prints with it)

    rows = "".join(f"[Enhet {i:03d}], [{i}], [{i * 7 % 100} %],\n" for i in range(120))
    table = [["Enhet", "n", "Andel"]] + [[f"Enhet {i:03d}", str(i), "x"] for i in range(120)]
    for repeat in (True, False):
        source = tmp_path / f"t-{repeat}.typ"
        source.write_text(
            f"#set page(header: [{RUNNING_TITLE}])\n= Tittel\nTekst.\n"
            f"#table(columns: 3, table.header(repeat: {str(repeat).lower()}, "
            f"[Enhet], [n], [Andel]),\n{rows})\nSlutt.\n",
            encoding="utf-8",
        )
        pdf = tmp_path / f"t-{repeat}.pdf"
        typst.compile(str(source), output=str(pdf), ignore_system_fonts=True)
        pages = pdf_pages(pdf)
        assert len(pages) >= 3
        split = pages_split_without_header(pages, [table])
        assert split == ([] if repeat else list(range(2, len(pages) + 1)))


#: Each engine's PDF of each edition.
PRINTED = [
    pytest.param(engine, edition, marks=[pytest.mark.quarto] if engine == "quarto" else [])
    for engine in ("fallback", "quarto")
    for edition in EDITIONS
]


def _printed(rendered_by_engine, engine: str, edition: str) -> tuple[Rendered, list[str]]:
    done = rendered_by_engine(engine, edition)
    assert done.pdf is not None, f"{engine} wrote no PDF of the {edition} edition"
    return done, pdf_pages(done.pdf)


@pytest.mark.slow
@pytest.mark.parametrize(("engine", "edition"), PRINTED)
def test_pdf_has_a_sane_number_of_a4_pages(rendered_by_engine, engine, edition):
    done, pages = _printed(rendered_by_engine, engine, edition)
    assert 6 <= len(pages) <= 30, len(pages)
    info = subprocess.run(
        [require_tool("pdfinfo"), str(done.pdf)], capture_output=True, text=True, check=True
    ).stdout
    assert re.search(r"Page size:\s+595\.\d* x 841\.\d* pts \(A4\)", info), info


@pytest.mark.slow
@pytest.mark.parametrize(("engine", "edition"), PRINTED)
def test_pdf_pages_carry_running_title_and_page_numbers(rendered_by_engine, engine, edition):
    done, pages = _printed(rendered_by_engine, engine, edition)
    subtitle = _flat(done.edition.subtitle)
    assert subtitle.startswith(str(done.edition.year))
    first = _flat(pages[0])
    assert first.startswith("Årsrapport – Nasjonalt kvalitetsregister") and subtitle in first
    for number, page in enumerate(pages, start=1):
        lines = [_flat(line) for line in page.splitlines() if line.strip()]
        assert lines[-1] == f"{number} / {len(pages)}", (number, lines[-1])
        if number > 1:
            # the running title names the report, the year and the edition
            assert lines[0].startswith(RUNNING_TITLE) and lines[0].endswith(subtitle), lines[0]


@pytest.mark.slow
@pytest.mark.parametrize(("engine", "edition"), PRINTED)
def test_pdf_splits_no_table_without_repeating_its_header(rendered_by_engine, engine, edition):
    done, pages = _printed(rendered_by_engine, engine, edition)
    tables = table_cells(done.html)
    assert len(tables) >= 15
    assert pages_split_without_header(pages, tables) == []


@pytest.mark.slow
@pytest.mark.parametrize(("engine", "edition"), PRINTED)
def test_pdf_shows_every_figure_and_table(rendered_by_engine, engine, edition):
    done, pages = _printed(rendered_by_engine, engine, edition)
    _, captions, images = outline(done.html)
    assert images >= 6
    assert pdf_images(done.pdf) == images
    text = _flat("\n".join(pages))
    # every table is there with its caption, numbered in order
    numbered = re.findall(r"Tabell (\d+): ", text)
    assert [int(n) for n in numbered] == list(range(1, len(captions) + 1))
    # and every number of every table cell (HTML) is printed
    missing = [
        cell
        for rows in table_cells(done.html)
        for row in rows
        for cell in row
        if re.search(r"\d", cell) and len(cell) <= 24 and _flat(cell) not in text
    ]
    assert missing == []


_TOC_LINE = re.compile(r"^\s*(\d+(?:\.\d+)*)\s+(.+?)\s*\.[ .]+\s*(\d+)\s*$")


def _contents(first_page: str) -> list[tuple[str, ...]]:
    """(number, heading, page) of each line of the table of contents."""
    lines = first_page.replace("\u2060", "").splitlines()  # Typst's word joiner before the page
    return [m.groups() for m in map(_TOC_LINE.match, lines) if m]


#: The text area of the template's A4 page (reports/typst/typst-template.typ: 2.2 cm each side).
_A4_WIDTH, _SIDE_MARGIN = 595.28, 2.2 / 2.54 * 72
_WORD_BOX = re.compile(r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)"[^>]*>([^<]*)</word>')


@pytest.mark.slow
@pytest.mark.parametrize(("engine", "edition"), PRINTED)
def test_pdf_keeps_every_word_inside_the_margins(rendered_by_engine, engine, edition, tmp_path):
    """No table or line runs off the page: every word lies between the side margins.

    Typst hangs a line's final hyphen or punctuation slightly into the right
    margin; 3 pt allow for that, not for a column.
    """
    done, _ = _printed(rendered_by_engine, engine, edition)
    boxes = tmp_path / "words.html"
    subprocess.run([require_tool("pdftotext"), "-bbox", str(done.pdf), str(boxes)], check=True)
    words = [
        (float(x0), float(x1), word)
        for x0, x1, word in _WORD_BOX.findall(boxes.read_text(encoding="utf-8"))
    ]
    assert len(words) > 2000
    outside = [w for w in words if w[0] < _SIDE_MARGIN - 1 or w[1] > _A4_WIDTH - _SIDE_MARGIN + 3]
    assert outside == []


def _caption_lines(pages: list[str]) -> list[str]:
    return [
        _flat(line)
        for page in pages
        for line in page.splitlines()
        if re.match(r"\s*(Figur|Tabell) \d+: ", line)
    ]


@pytest.mark.slow
@pytest.mark.quarto
@pytest.mark.parametrize("edition", EDITIONS)
def test_both_engines_print_the_same_report(rendered_by_engine, edition):
    quarto, quarto_pages = _printed(rendered_by_engine, "quarto", edition)
    fallback, fallback_pages = _printed(rendered_by_engine, "fallback", edition)
    captions = _caption_lines(fallback_pages)
    assert len(captions) >= 25
    assert _caption_lines(quarto_pages) == captions
    # the same table of contents: headings and the pages they start on
    contents = _contents(fallback_pages[0])
    assert len(contents) >= 15
    assert _contents(quarto_pages[0]) == contents
    assert abs(len(quarto_pages) - len(fallback_pages)) <= 1


def test_fallback_pdf_markdown_keeps_headings_tables_figures_and_captions(tmp_path):
    """What the fallback hands Pandoc: the author's Markdown, raw HTML, figures with captions."""
    import base64

    import nbformat

    from arr_stats.report import pdf

    png = base64.b64encode(b"\x89PNG\r\n\x1a\nnot really").decode()
    md = nbformat.v4.new_markdown_cell('<h2 id="sec-a">1 A</h2>')
    md.metadata[pdf.MARKDOWN_SOURCE] = "## A {#sec-a}\n\nTekst."
    code = nbformat.v4.new_code_cell("x", id="cell-007")
    code.outputs = [
        nbformat.v4.new_output(
            "display_data", data={"text/html": "<table><tr><td>1</td></tr></table>"}
        ),
        nbformat.v4.new_output("stream", name="stdout", text="printed\n"),
        nbformat.v4.new_output("display_data", data={"image/png": png}),
        nbformat.v4.new_output(
            "display_data",
            data={"text/html": '<p class="caption">Figur 1: Kurven.</p>'},
            metadata={
                pdf.CAPTION: {"kind": "fig", "number": 1, "text": "Kurven [KI].", "label": "fig-k"}
            },
        ),
        nbformat.v4.new_output("display_data", data={"text/markdown": "- **n** = 12"}),
    ]
    nb = nbformat.v4.new_notebook(cells=[md, code])
    text = pdf.notebook_markdown(nb, tmp_path)
    assert text.split("\n\n") == [
        "## A {#sec-a}",
        "Tekst.",
        "```{=html}\n<table><tr><td>1</td></tr></table>\n```",
        "```\nprinted\n```",
        "![Kurven \\[KI\\].](cell-007-2.png){#fig-k width=100%}",
        "- **n** = 12\n",
    ]
    assert (tmp_path / "cell-007-2.png").read_bytes() == base64.b64decode(png)


def test_an_edition_failing_the_identifier_check_leaves_no_pdf(tmp_path):
    page, printed = tmp_path / "national.html", tmp_path / "national.pdf"
    page.write_text("<td>født 01019012345</td>", encoding="utf-8")
    printed.write_bytes(b"%PDF-1.7")
    with pytest.raises(ArrStatsError, match="removed national.html, national.pdf"):
        render.check_rendered(page, [], [printed])
    assert not page.exists() and not printed.exists()


def pdf_image_pages(pdf: Path) -> list[int]:
    """The page (from 1) of each image the PDF shows (``pdfimages -list``)."""
    done = subprocess.run(
        [require_tool("pdfimages"), "-list", str(pdf)],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = [line.split() for line in done.stdout.splitlines()[2:]]
    return [int(row[0]) for row in rows if len(row) > 2 and row[2] == "image"]


@pytest.mark.slow
@pytest.mark.parametrize(("engine", "edition"), PRINTED)
def test_pdf_keeps_headings_with_what_follows_and_captions_with_figures(
    rendered_by_engine, engine, edition
):
    done, pages = _printed(rendered_by_engine, engine, edition)
    headings = {_flat(f"{number} {text}") for number, text, _ in _contents(pages[0])}
    assert len(headings) >= 15
    image_pages = set(pdf_image_pages(done.pdf))
    for number, page in enumerate(pages, start=1):
        lines = [_flat(line) for line in page.splitlines() if line.strip()]
        # the last line above the page number is never a heading
        assert lines[-2] not in headings, (number, lines[-2])
        # a figure's caption is on the page of its figure
        if any(re.match(r"Figur \d+: ", line) for line in lines):
            assert number in image_pages, number
