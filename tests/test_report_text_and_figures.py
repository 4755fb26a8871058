"""The authors' text in the report, and the figures written for the web (issue 13, items 5 and 6).

Fast tests check the pieces (the slots, the template, what a text may hold,
how figures are named and saved). The slow tests render the national and one
institution edition of the synthetic demo with the fallback, with a text
folder that fills some slots and leaves the others out, and read the result
as a reader and a web editor would. One test renders with real Quarto.
"""

from __future__ import annotations

import csv
import hashlib
import html.parser
import io
import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from matplotlib.figure import Figure
from PIL import Image
from test_report import SECTION_HEADINGS

from arr_stats.config import config_from_dict, config_to_dict
from arr_stats.errors import ArrStatsError
from arr_stats.labels import localise_document
from arr_stats.report import authors, editions, render, web_figures

REPORTS = Path(__file__).resolve().parents[1] / "reports"

#: Where each slot's text belongs: the number of the top-level section of the
#: document (0 = the introduction before section 1), as reports/text/README.md
#: tells the authors.
SLOT_SECTIONS = {
    "bakgrunn": 0,
    "vurdering": 1,
    "datagrunnlag": 2,
    "deltakerne": 3,
    "forbedring": 4,
    "arbeid": 5,
    "tid": 6,
    "selvrapportert": 7,
    "metode": 8,
}


# ---------------------------------------------------------------- slots and template


def test_every_slot_is_shown_once_in_its_section():
    cells = web_figures.document_cells((REPORTS / "arsrapport.qmd").read_text(encoding="utf-8"))
    calls = {}
    for cell in cells:
        for name in re.findall(r'authors\.text\(ctx, "(\w+)"\)', cell.code):
            assert name not in calls, f"slot {name} shown twice"
            calls[name] = cell.section
    assert calls == SLOT_SECTIONS
    assert [s.name for s in authors.SLOTS] == list(SLOT_SECTIONS)


def test_template_folder_has_one_file_per_slot_written_from_the_slots(tmp_path):
    template = REPORTS / "text" / authors.TEMPLATE_FOLDER
    assert sorted(p.name for p in template.iterdir()) == sorted(f"{s}.md" for s in SLOT_SECTIONS)
    authors.write_template(tmp_path)
    for path in template.iterdir():
        assert path.read_text(encoding="utf-8") == (tmp_path / path.name).read_text(
            encoding="utf-8"
        ), f"{path.name} differs from what write_template writes; run it again"
        # each names the heading it is shown under and where
        s = authors.slot(path.stem)
        assert f"{s.heading} – vises i {s.section}" in path.read_text(encoding="utf-8")
        # an untouched template file shows nothing
        assert authors.read_text(path) is None


def test_readme_lists_every_slot():
    readme = (REPORTS / "text" / "README.md").read_text(encoding="utf-8")
    for s in authors.SLOTS:
        assert f"| `{s.name}.md` | {s.heading} |" in readme


# ---------------------------------------------------------------- what a text may hold


def _write(tmp_path: Path, text: str, name: str = "vurdering.md") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_read_text_keeps_markdown_and_drops_comments(tmp_path):
    path = _write(
        tmp_path,
        "<!-- veiledning -->\nAndelen var **høy**; <5 personer i `# kode`.\n\n- én\n- to\n",
    )
    assert authors.read_text(path) == "Andelen var **høy**; <5 personer i `# kode`.\n\n- én\n- to"
    assert authors.read_text(_write(tmp_path, "<!--\nbare kommentar\n-->\n\n")) is None


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("Pasient 01019012345 svarte.", "11-digit number"),
        ("Pasient 010190 12345 svarte.", "11-digit number"),
        ("Tekst\n\n## Egen overskrift\n", "line 3: a Markdown heading"),
        ("<!--\nveiledning\n-->\nTekst\n# Overskrift\n", "line 5: a Markdown heading"),
        ("Overskrift\n---\n", "line 2: an underlined heading"),
        ("Se ![figur](fig.png)", "an image"),
        ("Se [SKDE](https://www.skde.no)", "a link"),
        ("Se <https://www.skde.no>", "a link"),
        ('Se <img src="x.png">', "HTML"),
        ("<script>alert(1)</script>", "HTML"),
    ],
)
def test_read_text_refuses_identifiers_headings_images_links_and_html(tmp_path, text, said):
    path = _write(tmp_path, text)
    with pytest.raises(ArrStatsError) as info:
        authors.read_text(path)
    message = str(info.value)
    assert said in message and str(path) in message and "\n" not in message


def test_read_text_refuses_a_person_pseudonym(tmp_path):
    path = _write(tmp_path, "Personen P000123 ble fulgt opp.")
    assert authors.read_text(path, ["P000999"]) is not None
    with pytest.raises(ArrStatsError, match="person pseudonym"):
        authors.read_text(path, ["P000123"])


def test_institution_edition_shows_its_own_file_else_the_years(tmp_path):
    year = tmp_path / "2025"
    (year / "974589095").mkdir(parents=True)
    _write(year, "Felles.", "vurdering.md")
    _write(year, "Felles tid.", "tid.md")
    _write(year / "974589095", "Egen.", "vurdering.md")
    assert authors.text_file(tmp_path, 2025, None, "vurdering") == year / "vurdering.md"
    own = authors.text_file(tmp_path, 2025, "974589095", "vurdering")
    assert own == year / "974589095" / "vurdering.md"
    assert authors.text_file(tmp_path, 2025, "974589095", "tid") == year / "tid.md"
    assert authors.text_file(tmp_path, 2025, "974589095", "arbeid") is None
    assert authors.text_file(tmp_path, 2024, None, "vurdering") is None
    with pytest.raises(ArrStatsError, match="no text slot 'konklusjon'"):
        authors.text_file(tmp_path, 2025, None, "konklusjon")


def test_text_hashes_table_lists_the_files_shown_relative_to_the_text_folder(tmp_path):
    from types import SimpleNamespace

    import pandas as pd

    year = tmp_path / "2025"
    (year / "974589095").mkdir(parents=True)
    _write(year, "Felles.", "vurdering.md")
    _write(year, "<!-- bare veiledning -->", "tid.md")  # shows nothing: not listed
    _write(year / "974589095", "Egen.", "arbeid.md")

    def ctx(institution):
        return SimpleNamespace(
            config=SimpleNamespace(text_dir=tmp_path),
            year=2025,
            institution=institution,
            lang="nb",
            derived=SimpleNamespace(persons=pd.DataFrame({"person_id": ["P1"]})),
        )

    own = authors.text_hashes_table(ctx("974589095")).data
    digest = hashlib.sha256(b"Egen.").hexdigest()
    assert "<td>2025/974589095/arbeid.md</td><td>" + digest in own
    assert "2025/vurdering.md" in own and "tid.md" not in own and str(tmp_path) not in own
    assert "974589095" not in authors.text_hashes_table(ctx(None)).data
    assert authors.text_hashes_table(SimpleNamespace(**{**vars(ctx(None)), "year": 2024})) is None


def test_check_texts_refuses_a_misspelt_file_name(tmp_path):
    year = tmp_path / "2025"
    year.mkdir()
    _write(year, "Tekst.", "Vurdering.md")
    with pytest.raises(ArrStatsError, match="Vurdering.md: not a text of the report"):
        authors.check_texts(tmp_path, 2025, [None])
    # folders of years and institutions not rendered are not read
    assert authors.check_texts(tmp_path, 2024, [None]) == []


# ---------------------------------------------------------------- figure names and bytes


def test_document_cells_number_figures_within_their_section():
    qmd = "\n".join(
        [
            "```{python}",
            "x = 1",
            "```",
            "## Første {#sec-a}",
            "```{python}",
            "#| label: fig-a",
            '#| fig-cap: "Figur A"',
            "f(ctx)",
            "```",
            "```{python}",
            "t(ctx)",
            "```",
            "### Under",
            "```{python}",
            "#| label: fig-b",
            '#| fig-cap: "Figur B"',
            '#| fig-alt: "Alternativ B"',
            "g(ctx)  ",
            "```",
            "## Uten nummer {.unnumbered}",
            "## Andre",
            "```{python}",
            "#| label: fig-c",
            "h(ctx)",
            "```",
        ]
    )
    cells = web_figures.document_cells(qmd)
    assert [(c.code, c.section, c.number) for c in cells] == [
        ("x = 1", 0, 0),
        ("f(ctx)", 1, 1),
        ("t(ctx)", 1, 0),
        ("g(ctx)", 1, 2),
        ("h(ctx)", 2, 1),
    ]
    assert [c.stem for c in cells if c.number] == ["01-1_a", "01-2_b", "02-1_c"]
    assert (cells[3].caption, cells[3].alt) == ("Figur B", "Alternativ B")


def test_every_figure_of_the_document_has_a_label_and_a_caption():
    # the caption is the alt text of the web figure (one source)
    cells = web_figures.document_cells((REPORTS / "arsrapport.qmd").read_text(encoding="utf-8"))
    drawn = [c for c in cells if re.search(r"\b\w+\.\w+_figure\(", c.code)]
    assert len(drawn) >= 9
    for cell in drawn:
        assert cell.label and cell.label.startswith("fig-"), cell.code
        assert cell.caption and cell.caption.strip(), cell.code
        assert cell.number >= 1
    stems = [c.stem for c in drawn]
    assert len(set(stems)) == len(stems)


def _figure() -> Figure:
    fig = Figure(figsize=(4, 2.5))
    ax = fig.subplots()
    ax.plot([0, 1, 2], [0.2, 0.5, 0.4], label="Nasjonalt")
    ax.set_xlabel("Dager etter utskrivning")
    ax.set_ylabel("Andel")
    ax.legend()
    return fig


def test_figure_bytes_are_300_dpi_png_and_svg_without_dates_or_versions():
    fig = _figure()
    png = web_figures.figure_bytes(fig, "png")
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG"
        assert min(image.info["dpi"]) >= 300
        # drawn at 300 dpi: a 4 × 2.5 inch figure is over 1000 pixels wide
        assert image.size[0] > 1000
        assert not {"Software", "Creation Time"} & set(image.info)
    svg = web_figures.figure_bytes(fig, "svg")
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert b"<dc:date>" not in svg and b"Matplotlib v" not in svg
    # a fresh, equal figure gives the same bytes (ids are salted, not random)
    assert web_figures.figure_bytes(_figure(), "png") == png
    assert web_figures.figure_bytes(_figure(), "svg") == svg
    with pytest.raises(ArrStatsError):
        web_figures.figure_bytes(fig, "gif")


def test_collector_saves_the_figure_a_matching_cell_returns(tmp_path):
    from types import SimpleNamespace

    qmd = "## A\n```{python}\n#| label: fig-a\n#| fig-cap: Figur A\nf(ctx)\n```\n"
    qmd += "```{python}\ng(ctx)\n```\n"
    old = tmp_path / "99-1_old.png"
    tmp_path.mkdir(exist_ok=True)
    old.write_bytes(b"stale")
    collector = web_figures.FigureCollector(tmp_path, qmd)
    assert not old.exists()  # an earlier render's figure does not linger
    fig = _figure()
    collector.pre_run_cell(SimpleNamespace(raw_cell="f(ctx)\n"))  # Quarto strips #| lines
    collector.post_run_cell(SimpleNamespace(result=fig))
    collector.pre_run_cell(SimpleNamespace(raw_cell="other(ctx)"))
    collector.post_run_cell(SimpleNamespace(result=_figure()))  # not a document cell
    collector.pre_run_cell(SimpleNamespace(raw_cell="#| label: fig-a\nf(ctx)"))
    collector.post_run_cell(SimpleNamespace(result=None))  # no figure: nothing
    for _ in range(2):  # figures of a cell without label or caption do not overwrite each other
        collector.pre_run_cell(SimpleNamespace(raw_cell="g(ctx)"))
        collector.post_run_cell(SimpleNamespace(result=_figure()))
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "01-0_figur1.png",
        "01-0_figur1.svg",
        "01-0_figur2.png",
        "01-0_figur2.svg",
        "01-1_a.png",
        "01-1_a.svg",
        "figures.csv",
    ]
    assert (tmp_path / "01-1_a.png").read_bytes() == web_figures.figure_bytes(fig, "png")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "figures.csv").read_text("utf-8"))))
    assert rows[-1] == {
        "png": "01-1_a.png",
        "svg": "01-1_a.svg",
        "section": "1",
        "label": "fig-a",
        "alt": "Figur A",
    }
    # without a caption the alt text is built from the figure's axis labels
    assert rows[0]["alt"] == "Figur: Andel – Dager etter utskrivning"


# ---------------------------------------------------------------- rendered editions


class _Sections(html.parser.HTMLParser):
    """Visible text of a rendered edition by top-level section (``<h2>``)."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: dict[str, list[str]] = {"": []}
        self.images: list[str] = []
        self._current = ""
        self._heading: list[str] | None = None
        self._skip = 0
        self._in_toc = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "nav":
            self._in_toc = True
        if tag == "h2" and not self._in_toc:
            self._heading = []
        if tag in ("style", "script"):
            self._skip += 1
        if tag == "img":
            self.images.append(a.get("src", ""))

    def handle_endtag(self, tag):
        if tag == "nav":
            self._in_toc = False
        if tag == "h2" and self._heading is not None:
            self._current = re.sub(r"^[\d.]+\s*", "", "".join(self._heading).strip())
            self.sections[self._current] = []
            self._heading = None
        if tag in ("style", "script"):
            self._skip -= 1

    def handle_data(self, data):
        if self._heading is not None:
            self._heading.append(data)
        elif not self._skip and not self._in_toc:
            self.sections[self._current].append(data)

    def text_of(self, section: str) -> str:
        return " ".join(" ".join(self.sections[section]).split())


def _read(path: Path) -> _Sections:
    page = _Sections()
    page.feed(path.read_text(encoding="utf-8"))
    return page


#: The texts of the rendered editions: national files for two slots, one
#: institution file for a third; the rest absent.
NATIONAL_TEXTS = {
    "vurdering": "Registeret vurderer årets resultater som **gode** (merke-VURDERING).",
    "arbeid": "Andelen i arbeid økte fra året før (merke-ARBEID).\n\n- første punkt\n- andre punkt",
}
OWN_TEXTS = {"tid": "Ved vår enhet kom flere raskt tilbake (merke-TID)."}


@pytest.fixture(scope="module")
def text_config(tmp_path_factory, config_for, demo_delivery, demo_derived, demo_params):
    """The demo's configuration with a text folder of its own, and the edition's ids."""
    year = demo_params.years[1]
    planned = editions.plan_editions(demo_derived, year, all_institutions=True)
    inst = planned[1].institution
    text_dir = tmp_path_factory.mktemp("text")
    (text_dir / str(year) / inst).mkdir(parents=True)
    for name, body in NATIONAL_TEXTS.items():
        (text_dir / str(year) / f"{name}.md").write_text(body, encoding="utf-8")
    for name, body in OWN_TEXTS.items():
        (text_dir / str(year) / inst / f"{name}.md").write_text(body, encoding="utf-8")
    config = config_for(demo_delivery, demo_derived, demo_params.data_end)
    raw = config_to_dict(config)
    raw["report"]["text"] = str(text_dir)
    return {"config": config_from_dict(raw), "year": year, "institution": inst}


@pytest.fixture(scope="module")
def rendered_with_text(tmp_path_factory, text_config, demo_derived):
    out = tmp_path_factory.mktemp("reports")
    render.render_reports(
        text_config["config"],
        demo_derived,
        text_config["year"],
        institution=text_config["institution"],
        out_dir=out,
        engine="fallback",
    )
    return {**text_config, "out": out / str(text_config["year"])}


@pytest.mark.slow
def test_authors_text_appears_in_its_section_and_absent_slots_leave_nothing(rendered_with_text):
    out, inst = rendered_with_text["out"], rendered_with_text["institution"]
    national = _read(out / "national.html")
    assert list(national.sections)[1:] == list(SECTION_HEADINGS)
    sammendrag = national.text_of("Sammendrag")
    assert "Registerets vurdering Registeret vurderer årets resultater som gode" in sammendrag
    assert "merke-VURDERING" not in national.text_of("")
    assert "Tolkning Andelen i arbeid økte" in national.text_of("Arbeidsdeltakelse")
    assert "første punkt" in national.text_of("Arbeidsdeltakelse")
    html_text = (out / "national.html").read_text(encoding="utf-8")
    assert "<strong>gode</strong>" in html_text and "<li>første punkt</li>" in html_text
    # the institution's own text is in its edition only
    assert "merke-TID" not in html_text
    everything = " ".join(national.text_of(s) for s in national.sections)
    # absent slots leave no lead: the slots filled are the only ones shown
    for lead in ("Bakgrunn", "Forbedringsarbeid", "Kommentar"):
        assert lead not in everything
    assert everything.count("Tolkning") == 1
    # the provenance appendix lists the files shown, with their SHA-256
    proveniens = national.text_of("Vedlegg: proveniens")
    year = rendered_with_text["year"]
    for name, body in NATIONAL_TEXTS.items():
        digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
        assert f"{year}/{name}.md {digest}" in proveniens
    assert everything.count("Registerets vurdering") == 1

    own = _read(out / f"{inst}.html")
    assert "Tolkning Ved vår enhet kom flere raskt tilbake" in own.text_of("Tid til tilbakeføring")
    # where the unit has no file of its own, the year's text is shown
    assert "merke-VURDERING" in own.text_of("Sammendrag")
    assert "merke-ARBEID" in own.text_of("Arbeidsdeltakelse")


@pytest.mark.slow
@pytest.mark.parametrize("which", ["national", "institution"])
def test_every_figure_of_an_edition_is_written_for_the_web(rendered_with_text, which):
    out = rendered_with_text["out"]
    stem = "national" if which == "national" else rendered_with_text["institution"]
    folder = out / "figures" / stem
    page = _read(out / f"{stem}.html")
    rows = list(csv.DictReader(io.StringIO((folder / "figures.csv").read_text("utf-8"))))
    # one pair of files per figure the edition shows, in the same order
    assert len(rows) == len(page.images) >= 6
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [r["png"] for r in rows] + [r["svg"] for r in rows] + ["figures.csv"]
    )
    # the captions as the (bokmål) edition prints them: the document's label
    # placeholders filled from the catalogue
    qmd = localise_document((REPORTS / "arsrapport.qmd").read_text(encoding="utf-8"), "nb")
    captions = {c.label: c.caption for c in web_figures.document_cells(qmd)}
    for row, src in zip(rows, page.images, strict=True):
        # named by section and figure number
        assert re.fullmatch(r"0\d-\d_[\w-]+\.png", row["png"])
        assert row["png"].startswith(f"{int(row['section']):02d}-")
        assert row["label"] == "fig-" + row["png"][5:-4]
        # alt text: the caption the report prints under it
        assert row["alt"].strip() and row["alt"] == captions[row["label"]]
        with Image.open(folder / row["png"]) as image:
            assert min(image.info["dpi"]) >= 300
            big = image.size
        ET.parse(folder / row["svg"])  # parses as XML
        # the same figure as the report's (110 dpi there): same shape, more pixels
        import base64

        data = base64.b64decode(src.split(",", 1)[1])
        with Image.open(io.BytesIO(data)) as shown:
            small = shown.size
        assert big[0] > 2.5 * small[0]
        assert big[0] / big[1] == pytest.approx(small[0] / small[1], rel=0.03)
    if which == "national":
        assert "fig-kumulativ-institusjon" in [r["label"] for r in rows]
    else:
        assert "fig-kumulativ-institusjon" not in [r["label"] for r in rows]


@pytest.mark.slow
def test_report_with_an_identifier_in_a_text_exits_2_in_one_line(
    tmp_path, demo_derived, demo_params, capsys
):
    from arr_stats import cli

    year = demo_params.years[1]
    derived = tmp_path / "derived"
    derived.mkdir()
    for path in demo_derived.iterdir():
        if path.name != "build.json":
            (derived / path.name).symlink_to(path)
    build = json.loads((demo_derived / "build.json").read_text(encoding="utf-8"))
    text_dir = tmp_path / "text"
    build["config"]["report"]["text"] = str(text_dir)
    (derived / "build.json").write_text(json.dumps(build), encoding="utf-8")
    (text_dir / str(year)).mkdir(parents=True)
    bad = text_dir / str(year) / "vurdering.md"
    bad.write_text("Pasienten med fødselsnummer 12345678901 var fornøyd.\n", encoding="utf-8")
    out = tmp_path / "out"
    argv = ["report", "--derived", str(derived), "--year", str(year), "--out", str(out)]
    assert cli.main([*argv, "--engine", "fallback"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "vurdering.md" in err and "11-digit number" in err and "Traceback" not in err
    assert not list(out.rglob("*.html"))  # stopped before rendering anything


@pytest.mark.slow
@pytest.mark.quarto
def test_quarto_shows_the_authors_text_and_writes_the_web_figures(
    tmp_path, text_config, demo_derived
):
    render.render_reports(
        text_config["config"],
        demo_derived,
        text_config["year"],
        out_dir=tmp_path,
        engine="quarto",
    )
    year_dir = tmp_path / str(text_config["year"])
    text = (year_dir / "national.html").read_text(encoding="utf-8")
    assert "merke-VURDERING" in text and "merke-ARBEID" in text
    assert "<strong>gode</strong>" in text and "merke-TID" not in text
    assert text.index("merke-VURDERING") < text.index('id="sec-datagrunnlag"')
    start = text.index('id="sec-arbeid"')
    assert start < text.index("merke-ARBEID") < text.index('id="sec-tid"')
    folder = year_dir / "figures" / "national"
    rows = list(csv.DictReader(io.StringIO((folder / "figures.csv").read_text("utf-8"))))
    assert len(rows) >= 9 and all(r["alt"].strip() for r in rows)
    for row in rows:
        with Image.open(folder / row["png"]) as image:
            assert min(image.info["dpi"]) >= 300
        ET.parse(folder / row["svg"])
    shutil.rmtree(year_dir / "figures")
