"""The rendered editions stand alone: no external resource, no absolute path.

The national edition of the session's synthetic demo is rendered with both
engines, real Quarto (``@pytest.mark.quarto``) and the Jupyter fallback. Each
HTML file is scanned for every way a page can load something from elsewhere
(``src``, ``href``, ``srcset``, ``<link>``, CSS ``url()`` and ``@import``);
only ``#`` anchors and ``data:`` URIs may remain. The two engines' pages carry
the same headings, table captions and figures, and no edition prints the
absolute path of the project, the configuration or the data folders
(indicators-and-report.md; issue 13, items 2 and 9).
"""

from __future__ import annotations

import html.parser
import re
from pathlib import Path

import pandas as pd
import pytest

from arr_stats.config import PROJECT_ROOT, load_config
from arr_stats.report import editions, render, tables
from arr_stats.report.formats import HtmlBlock, raw_html_of

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


@pytest.fixture(scope="module")
def national_by_engine(tmp_path_factory, config_for, demo_delivery, demo_derived, demo_params):
    """``national(engine, again=False)``: (HTML, folders it must not name); renders once each.

    The render time is fixed (``SOURCE_DATE_EPOCH``); ``again`` renders a second time.
    """
    config = config_for(demo_delivery, demo_derived, demo_params.data_end)
    year = demo_params.years[1]
    done: dict[str, tuple[str, list[Path]]] = {}

    def national(engine: str, again: bool = False) -> tuple[str, list[Path]]:
        key = f"{engine}-again" if again else engine
        if key not in done:
            out = tmp_path_factory.mktemp(f"national-{key}")
            with pytest.MonkeyPatch.context() as patch:
                patch.setenv("SOURCE_DATE_EPOCH", "1790000000")
                render.render_reports(config, demo_derived, year, out_dir=out, engine=engine)
            page = (out / str(year) / "national.html").read_text(encoding="utf-8")
            folders = [PROJECT_ROOT, editions.REPORTS_DIR, demo_derived, demo_delivery, out]
            done[key] = (page, folders)
        return done[key]

    return national


ENGINES = [pytest.param("fallback"), pytest.param("quarto", marks=pytest.mark.quarto)]


@pytest.mark.slow
@pytest.mark.parametrize("engine", ENGINES)
def test_national_edition_loads_nothing_from_outside(national_by_engine, engine):
    page, _ = national_by_engine(engine)
    assert external_references(page) == []
    assert "cdn.jsdelivr.net" not in page and "require.min.js" not in page


@pytest.mark.slow
@pytest.mark.parametrize("engine", ENGINES)
def test_national_edition_names_no_absolute_path(national_by_engine, engine):
    page, folders = national_by_engine(engine)
    for folder in folders:
        assert str(Path(folder).resolve()) not in page, folder
    assert str(Path.home()) + "/" not in page
    # the appendix still says which configuration it was
    assert "analysis/demo.toml" in page


@pytest.mark.slow
@pytest.mark.quarto
def test_both_engines_show_the_same_sections_tables_and_figures(national_by_engine):
    quarto_outline = outline(national_by_engine("quarto")[0])
    fallback_outline = outline(national_by_engine("fallback")[0])
    headings, captions, images = fallback_outline
    assert len(headings) >= 20 and len(captions) >= 20 and images >= 6
    assert quarto_outline == fallback_outline


@pytest.mark.slow
@pytest.mark.quarto
def test_quarto_renders_the_same_bytes_twice(national_by_engine):
    """Same inputs, same bytes: Quarto's random ids of unlabelled cells are numbered."""
    first, _ = national_by_engine("quarto")
    second, _ = national_by_engine("quarto", again=True)
    assert 'class="cell"' in first
    assert first == second
