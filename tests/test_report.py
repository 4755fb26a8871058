"""The annual report as a reader sees it, and the two rendering paths.

Fast tests check the engine's pieces (engine choice, the Quarto command line
through a fake ``quarto`` that records its arguments, the fallback's reading of
the ``.qmd``, generated sentences). The slow tests render the national and one
institution edition of the synthetic demo with the Jupyter fallback and open
them in headless Chromium.
"""

from __future__ import annotations

import base64
import html
import html.parser
import io
import re
import shutil
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from arr_stats import indicators, stats
from arr_stats.config import DEMO_CONFIG, config_from_dict, config_to_dict, load_config
from arr_stats.derive.load import load_derived
from arr_stats.errors import ArrStatsError
from arr_stats.publication import disclosure
from arr_stats.report import (
    context,
    editions,
    fallback,
    figures,
    quarto,
    render,
    sentences,
    tables,
    upload,
)
from arr_stats.report.formats import HtmlBlock
from tools import require_tool

#: The nine section headings of indicators-and-report.md ("The annual report").
SECTION_HEADINGS = (
    "Sammendrag",
    "Registerets datagrunnlag",
    "Deltakerne",
    "Institusjonene",
    "Arbeidsdeltakelse",
    "Tid til tilbakeføring",
    "Selvrapportert arbeid og arbeidsevne",
    "Metode og datakvalitet",
    "Vedlegg: proveniens",
)

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


# ---------------------------------------------------------------- engine choice


def _path_with(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, quarto: bool) -> Path:
    """A PATH of one folder (plus git and python) that holds a fake quarto or not."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for tool in ("git",):
        found = shutil.which(tool)
        if found:
            (bin_dir / tool).symlink_to(found)
    if quarto:
        fake = bin_dir / "quarto"
        fake.write_text(FAKE_QUARTO.format(python=sys.executable, log=tmp_path / "calls.log"))
        fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", str(bin_dir))
    return bin_dir


#: A stand-in for quarto: records its arguments and the parameters file, and
#: writes the output file where `--output-dir`/`--output` say.
FAKE_QUARTO = """#!{python}
import json, sys
from pathlib import Path
args = sys.argv[1:]
params = Path(args[args.index("--execute-params") + 1]).read_text(encoding="utf-8")
with open("{log}", "a", encoding="utf-8") as log:
    log.write(json.dumps({{"args": args, "params": params, "cwd": str(Path.cwd())}}) + "\\n")
out = Path(args[args.index("--output-dir") + 1])
out.mkdir(parents=True, exist_ok=True)
(out / args[args.index("--output") + 1]).write_text("<html><body>fake</body></html>")
"""


def test_engine_quarto_without_quarto_is_a_clear_error(tmp_path, monkeypatch):
    _path_with(tmp_path, monkeypatch, quarto=False)
    with pytest.raises(ArrStatsError, match="quarto command was not found"):
        render.choose_engine("quarto")
    assert render.choose_engine("auto") == ("fallback", None)
    assert render.choose_engine("fallback") == ("fallback", None)


def test_engine_auto_prefers_quarto_on_the_path(tmp_path, monkeypatch):
    bin_dir = _path_with(tmp_path, monkeypatch, quarto=True)
    assert render.choose_engine("auto") == ("quarto", bin_dir / "quarto")
    # --engine fallback is honoured even where Quarto is installed
    assert render.choose_engine("fallback") == ("fallback", None)


def test_cli_engine_quarto_without_quarto_exits_2(tmp_path, monkeypatch, capsys):
    from arr_stats.cli import main

    _path_with(tmp_path, monkeypatch, quarto=False)
    code = main(
        ["report", "--config", str(DEMO_CONFIG), "--year", "2025", "--engine", "quarto"]
        + ["--out", str(tmp_path)]
    )
    assert code == 2
    assert "quarto command was not found" in capsys.readouterr().err


# ---------------------------------------------------------------- the Quarto command line


@pytest.fixture(scope="session")
def demo_config(config_for, demo_delivery, demo_derived, demo_params):
    """The run configuration of the session's synthetic demo."""
    return config_for(demo_delivery, demo_derived, demo_params.data_end)


@pytest.mark.slow
def test_quarto_path_builds_the_documented_command(
    tmp_path, monkeypatch, demo_config, demo_derived, demo_params, capsys
):
    _path_with(tmp_path, monkeypatch, quarto=True)
    year = demo_params.years[1]
    planned = editions.plan_editions(demo_derived, year, all_institutions=True)
    inst = planned[1].institution
    out = tmp_path / "out"
    written = render.render_reports(
        demo_config, demo_derived, year, institution=inst, out_dir=out, pdf=True, engine="quarto"
    )
    calls = [yaml.safe_load(line) for line in (tmp_path / "calls.log").read_text().splitlines()]
    # national and institution, each HTML then Typst (PDF): four calls in that order
    assert [c["args"][c["args"].index("--output") + 1] for c in calls] == [
        "national.html",
        "national.pdf",
        f"{inst}.html",
        f"{inst}.pdf",
    ]
    first = calls[0]["args"]
    # Quarto reads the document with its labels in the edition's language, beside it
    localised = quarto.localised_document_path(editions.REPORT_DOCUMENT, "nb")
    assert first[:5] == ["render", str(localised), "--to", "html", "--output"]
    assert not localised.exists()  # removed after the render
    assert calls[1]["args"][2:4] == ["--to", "typst"]
    assert calls[0]["cwd"] == str(editions.REPORTS_DIR)  # Quarto runs next to _quarto.yml
    assert first[first.index("-M") + 1] == f"subtitle:{year} · Nasjonal utgave"
    # parameters through a YAML file: the institution id stays a string
    national = yaml.safe_load(calls[0]["params"])
    own = yaml.safe_load(calls[2]["params"])
    assert national["year"] == year and national["institution"] is None
    assert own["institution"] == inst and isinstance(own["institution"], str)
    assert own["derived_dir"] == str(demo_derived.resolve())
    # the files land in <out>/<year>/ under the edition's name
    year_dir = out / str(year)
    for name in ("national.html", "national.pdf", f"{inst}.html", f"{inst}.pdf"):
        assert (year_dir / name).read_text() == "<html><body>fake</body></html>"
        assert year_dir / name in written
    assert (year_dir / "indicators.csv").is_file()
    said = capsys.readouterr().out
    assert "with Quarto (" in said and said.count(" s\n") >= 2


def test_quarto_command_with_leading_zero_id_stays_a_string(tmp_path):
    params = tmp_path / "p.yml"
    edition = editions.Edition(2025, "0123", "Navn")
    cmd = quarto.quarto_command("quarto", Path("a.qmd"), edition, params, tmp_path, "typst")
    assert cmd[cmd.index("--output") + 1] == "0123.pdf"
    text = yaml.safe_dump({"institution": edition.institution})
    assert yaml.safe_load(text)["institution"] == "0123"  # what -P institution:0123 would lose


# ---------------------------------------------------------------- the fallback's reading


QMD = textwrap.dedent(
    """\
    ---
    title: "T"
    execute:
      echo: true
    ---

    ```{python}
    #| tags: [parameters]
    year = 2000
    institution = None
    ```

    ## Første {#sec-en}

    ```{python}
    #| echo: false
    #| fig-cap: "Et bilde"
    print("hei")
    ```

    ```{python}
    #| eval: false
    raise RuntimeError("never run")
    ```

    ### Under
    """
)


def test_prepare_notebook_injects_parameters_after_the_parameters_cell():
    nb, meta, toc = fallback.prepare_notebook(QMD, {"year": 2025, "institution": "0123"}, {})
    sources = [c.source for c in nb.cells]
    at = next(i for i, s in enumerate(sources) if s.startswith("#| tags: [parameters]"))
    assert sources[at + 1] == "# Injected parameters\nyear = 2025\ninstitution = '0123'"
    assert meta["title"] == "T"
    # cell ids numbered in order (no random ids), setup cell first
    assert [c.id for c in nb.cells] == [f"cell-{i:03d}" for i in range(len(nb.cells))]
    assert "%matplotlib inline" in sources[0]
    # document-level echo: true is the default, the cell's echo: false wins
    options = [c.metadata.get("arr_options") for c in nb.cells if c.cell_type == "code"]
    assert options[1]["echo"] is True  # the parameters cell
    assert options[3]["echo"] is False and options[3]["fig_cap"] == "Et bilde"
    assert nb.cells[-2].metadata.get("arr_skip") is True  # eval: false
    assert [(h.level, h.anchor, h.number, h.text) for h in toc] == [
        (2, "sec-en", "", "Første"),
        (3, "under", "", "Under"),
    ]


def test_document_without_parameters_cell_is_refused():
    with pytest.raises(ArrStatsError, match="tagged parameters"):
        fallback.prepare_notebook("```{python}\nx = 1\n```\n", {"year": 1}, {})


def test_apply_cell_options_hides_code_warnings_and_numbers_captions():
    import nbformat

    nb, _, _ = fallback.prepare_notebook(QMD, {"year": 2025, "institution": None}, {})
    figure_cell = nb.cells[4]
    figure_cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="hei\n"),
        nbformat.v4.new_output("stream", name="stderr", text="UserWarning: x\n"),
    ]
    figure_cell.execution_count = 7
    out = fallback.apply_cell_options(nb)
    # setup and injected-parameter cells are include: false → gone
    assert not any(c.source.startswith("# Injected parameters") for c in out.cells)
    kept = next(c for c in out.cells if c.source.endswith('print("hei")'))
    assert kept.metadata["transient"] == {"remove_source": True}
    assert kept.execution_count is None
    texts = [o.get("text") or o["data"].get("text/html") for o in kept.outputs]
    assert texts == ["hei\n", '<p class="caption">Figur 1: Et bilde</p>']


@pytest.mark.slow
def test_plan_editions_rejects_unknown_institution(demo_derived, demo_params):
    with pytest.raises(ArrStatsError, match="not in the derived tables"):
        editions.plan_editions(demo_derived, demo_params.years[1], institution="no-such-unit")
    with pytest.raises(ArrStatsError, match="nothing to render"):
        editions.plan_editions(demo_derived, demo_params.years[1], national=False)


def test_check_rendered_refuses_identifiers_but_not_digests(tmp_path):
    page = tmp_path / "p.html"
    digest = "0123456789" * 6 + "abcd"  # SHA-256 shape, 60 digits in a row
    png = base64.b64encode(b"12345678901" * 3).decode()
    page.write_text(f"<td>{digest}</td><img src='data:image/png;base64,{png}'>")
    render.check_rendered(page, ["P000001"])  # no error: digests and images are not text
    page.write_text("<td>født 01019012345</td>")
    with pytest.raises(ArrStatsError, match="11-digit"):
        render.check_rendered(page)
    assert not page.exists()  # a disclosing file is not left behind
    page.write_text("<td>P000001</td>")
    with pytest.raises(ArrStatsError, match="pseudonym"):
        render.check_rendered(page, ["P000001"])


# ---------------------------------------------------------------- generated text


def test_indicator_sentence_is_generated_from_the_row():
    ctx = context.ReportContext(
        derived=type("D", (), {"config": load_config(DEMO_CONFIG)})(),
        year=2025,
        institution="974589095",
        institution_name="Rehab Nord",
        render_time="",
    )
    own = pd.Series(
        {
            "value": 0.5432,
            "lower": 0.4811,
            "upper": 0.6041,
            "denominator": 212.0,
            "interval": "wilson95",
            "level": "moderat",
            "coverage_flag": None,
        }
    )
    rest = pd.Series({"value": 0.61})
    # 54.32 % → "54 %"; 48.11–60.41 → "48–60 %"; demo targets for arr_rtw12: 0.60 / 0.40
    assert sentences.indicator_sentence("arr_rtw12", own, rest, ctx) == (
        "**I arbeid 12 måneder etter**: 54\u00a0% (95\u00a0% KI 48–60\u00a0%, n = 212), "
        "moderat måloppnåelse (høy ≥ 60\u00a0%, lav < 40\u00a0%). Resten av landet: 61\u00a0%."
    )
    # a median is shown with its quartiles (q1, q3), never with lower/upper
    hrb = pd.Series(
        {
            "value": 118.0,
            "lower": float("nan"),
            "upper": float("nan"),
            "q1": 40.0,
            "q3": 210.0,
            "denominator": 212.0,
            "interval": None,
            "level": "moderat",
            "coverage_flag": None,
        }
    )
    assert sentences.indicator_sentence("arr_hrbdays", hrb, None, ctx).startswith(
        "**Dager med helserelaterte ytelser**: 118 dager (kvartilbredde 40–210 dager, n = 212)"
    )
    assert sentences.indicator_sentence("arr_rtw12", None, rest, ctx) == (
        "**I arbeid 12 måneder etter**: ikke vist – færre enn 10 personer (n < 10)."
    )


@pytest.mark.slow
def test_config_round_trips_through_json(demo_config):
    import dataclasses
    import json

    raw = json.loads(json.dumps(config_to_dict(demo_config)))
    back = config_from_dict(raw, source=Path(raw["source"]))
    assert back == demo_config
    assert dataclasses.replace(back, source=None) != demo_config  # the source is kept


# ---------------------------------------------------------------- end to end (fallback)


class _Page(html.parser.HTMLParser):
    """Collects what a reader sees: headings, images, TOC links, ids, visible text."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.ids: set[str] = set()
        self.toc_links: list[str] = []
        self.headings: list[str] = []
        self._heading: list[str] | None = None
        self._in_toc = False
        self._skip = 0
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "img":
            self.images.append(a.get("src", ""))
        if tag == "nav" and a.get("id") == "TOC":
            self._in_toc = True
        if tag == "a" and self._in_toc and a.get("href", "").startswith("#"):
            self.toc_links.append(a["href"][1:])
        if tag in ("h2", "h3") and not self._in_toc:
            self._heading = []
        if tag in ("style", "script"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag == "nav":
            self._in_toc = False
        if tag in ("h2", "h3") and self._heading is not None:
            self.headings.append(re.sub(r"^[\d.]+\s*", "", "".join(self._heading).strip()))
            self._heading = None
        if tag in ("style", "script"):
            self._skip -= 1

    def handle_data(self, data):
        if self._heading is not None:
            self._heading.append(data)
        if not self._skip:
            self.text.append(data)


def _decode_image(src: str) -> tuple[int, int]:
    """Width and height of an embedded PNG (fails unless it is a real PNG)."""
    from PIL import Image

    match = re.fullmatch(r"data:image/png;base64,([A-Za-z0-9+/=\s]+)", src)
    assert match, f"image is not an embedded PNG: {src[:60]}"
    data = base64.b64decode(match.group(1))
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(io.BytesIO(data)) as image:
        image.verify()
    with Image.open(io.BytesIO(data)) as image:
        return image.size


@pytest.fixture(scope="session")
def rendered(tmp_path_factory, demo_config, demo_derived, demo_params):
    """The national and one institution edition, rendered once with the fallback."""
    year = demo_params.years[1]
    planned = editions.plan_editions(demo_derived, year, all_institutions=True)
    inst = planned[1].institution
    out = tmp_path_factory.mktemp("reports")
    written = render.render_reports(
        demo_config, demo_derived, year, institution=inst, out_dir=out, engine="fallback"
    )
    return {"year": year, "institution": inst, "out": out / str(year), "written": written}


@pytest.mark.slow
def test_editions_and_indicator_files_are_written_where_they_belong(rendered, demo_derived):
    year_dir = rendered["out"]
    inst = rendered["institution"]
    # the output check is not here: it stays in the build (it tells which hidden cells are small)
    assert sorted(p.name for p in year_dir.iterdir()) == sorted(
        ["national.html", f"{inst}.html", "indicators.csv", "figures"]
    )
    assert sorted(p.name for p in (year_dir / "figures").iterdir()) == sorted(["national", inst])
    aggregated = pd.read_csv(year_dir / "indicators.csv", dtype={"orgnr": str})
    assert set(aggregated["year"]) == {rendered["year"]}
    assert {"ind_id", "orgnr", "unit", "value", "suppressed"} <= set(aggregated.columns)
    # per-episode upload rows only in the derived folder (they are row-level data)
    for name in (upload.fractions_file_name, upload.values_file_name):
        upload_path = demo_derived / name(rendered["year"])
        assert upload_path in rendered["written"]
        rows = pd.read_csv(upload_path, dtype={"orgnr": str})
        assert list(rows.columns) == ["ind_id", "orgnr", "year", "var", "denominator", "context"]


@pytest.mark.slow
@pytest.mark.parametrize("which", ["national", "institution"])
def test_edition_reads_as_a_report(rendered, demo_derived, which):
    from arr_stats.io import read_parquet

    name = "national" if which == "national" else rendered["institution"]
    text = (rendered["out"] / f"{name}.html").read_text(encoding="utf-8")
    page = _Page()
    page.feed(text)
    visible = " ".join(page.text)

    for heading in SECTION_HEADINGS:
        assert heading in page.headings, f"section {heading!r} missing"
    assert page.headings.index("Sammendrag") < page.headings.index("Vedlegg: proveniens")
    # a table of contents whose every link lands on a heading
    assert len(page.toc_links) >= 9
    assert set(page.toc_links) <= page.ids
    # every figure is an embedded PNG of a sensible size (no external files)
    assert len(page.images) >= 6
    for src in page.images:
        width, height = _decode_image(src)
        assert 300 <= width <= 2400 and 150 <= height <= 2400
    assert not re.search(r"""(src|href)=["'](?!data:|#)""", text)
    # no error output, no code, no pandas index junk
    for bad in ("Traceback", "Error", "Exception", "<pre", "Unnamed: 0", "dtype:"):
        assert bad not in visible, bad
    assert (
        'class="jp-OutputArea-output jp-RenderedText" data-mime-type="application/vnd.jupyter.stderr'
        not in text
    )
    # no identifiers: 11 digits in visible text, or any person pseudonym
    assert not disclosure.NATIONAL_ID_PATTERN.search(visible)
    persons = read_parquet(demo_derived / "persons.parquet")["person_id"].astype(str)
    words = set(re.findall(r"[\w-]+", visible))
    assert not words & set(persons)
    # the edition says which it is
    if which == "national":
        assert "Nasjonal utgave" in visible and "Resten av landet" not in visible
    else:
        assert "egen enhet mot resten av landet" in visible and "Resten av landet" in visible


IMAGE_PROBE = """<script>
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var broken = imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); });
  document.body.setAttribute('data-images', imgs.length);
  document.body.setAttribute('data-broken', broken.length);
});
</script></body>"""


@pytest.mark.slow
@pytest.mark.parametrize("which", ["national", "institution"])
def test_edition_in_headless_chromium(rendered, tmp_path, which):
    chromium = require_tool("chromium")
    name = "national" if which == "national" else rendered["institution"]
    page = rendered["out"] / f"{name}.html"
    probe = tmp_path / "probe.html"
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", IMAGE_PROBE))
    flags = [*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run(
        [chromium, *flags, "--dump-dom", probe.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    images = int(re.search(r'data-images="(\d+)"', dom).group(1))
    broken = int(re.search(r'data-broken="(\d+)"', dom).group(1))
    assert images >= 6 and broken == 0
    shot = tmp_path / f"{name}.png"
    subprocess.run(
        [chromium, *flags, f"--screenshot={shot}", "--window-size=1280,6000", page.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    from PIL import Image

    with Image.open(shot) as image:
        assert image.size == (1280, 6000)
        # not a blank page: the title block's accent colour and dark text are there
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
        assert colours is not None and len(colours) > 50


@pytest.mark.slow
def test_rendering_is_deterministic(tmp_path, demo_config, demo_derived, demo_params, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1790000000")
    year = demo_params.years[1]
    from arr_stats.publication.output_check import SUMMARY_FILES

    pages, printed, figures, checks = [], [], [], []
    for run in ("a", "b"):
        render.render_reports(
            demo_config, demo_derived, year, out_dir=tmp_path / run, engine="fallback", pdf=True
        )
        pages.append((tmp_path / run / str(year) / "national.html").read_bytes())
        printed.append((tmp_path / run / str(year) / "national.pdf").read_bytes())
        folder = tmp_path / run / str(year) / "figures" / "national"
        figures.append({p.name: p.read_bytes() for p in sorted(folder.iterdir())})
        check_dir = tables.publication_folder(demo_derived, year)
        checks.append({n: (check_dir / n).read_bytes() for n in SUMMARY_FILES})
    assert pages[0] == pages[1]
    assert printed[0].startswith(b"%PDF") and printed[0] == printed[1]
    # the output check too: every file's hash, the publication's record, the cells
    assert checks[0] == checks[1]
    assert b"national.pdf" in checks[0]["output-check.csv"]
    # the web figures too (PNG, SVG, figures.csv)
    assert len(figures[0]) >= 19 and figures[0] == figures[1]
    # 1790000000 s after the epoch = 2026-09-21 14:13:20 UTC
    assert b"2026-09-21 14:13 UTC" in pages[0]


@pytest.fixture
def national_context(demo_derived, demo_delivery, demo_params, config_for):
    """``national_context(year)``: the national edition's context on the session's demo build."""

    def make(year: int) -> context.ReportContext:
        config = config_for(demo_delivery, demo_derived, demo_params.data_end)
        return context.ReportContext(
            derived=load_derived(config, demo_derived),
            year=year,
            institution=None,
            institution_name=None,
            render_time="fixed",
        )

    return make


@pytest.mark.slow
def test_cumulative_incidence_table_shows_exact_values_the_pooled_curve_passes_through(
    national_context,
):
    # disclosure.md (survival curves): days 91, 183 and 365 are block boundaries
    # of the drawn curve, so each value the table shows is the exact
    # Aalen–Johansen estimate at that day (the issue found 41.7 % shown where
    # the estimate was 75.0 %), and the drawn curve takes that value.
    from arr_stats import plotting
    from arr_stats.publication import disclosure
    from arr_stats.report import tables

    ctx = national_context(2025)
    config = ctx.config
    html = tables.cumulative_incidence_table(ctx).data
    cohort = ctx.outcome_cohort()
    exact = stats.cumulative_incidence(cohort, by="diagnosis_group")
    days = sorted(config.outcomes.month_days.values())
    drawn = disclosure.pool_survival_steps(exact, config.disclosure, days)["estimate"]
    rows = re.findall(r"<tr>(.*?)</tr>", html, flags=re.S)
    checked = 0
    for row in rows:
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)
        if len(cells) != 2 + len(days) or cells[0] == "Totalt":
            continue
        group = next(
            g
            for g in exact["group"].astype(object).unique()
            if str(plotting.group_label(g)) == cells[0]
        )
        curve = exact[exact["group"].astype(object) == group]
        for day, cell in zip(days, cells[2:], strict=True):
            shown = re.match(r"(\d+)\xa0% \(", cell)
            if not shown:
                continue
            percent = int(shown.group(1))
            truth = curve.loc[curve["time"] <= day, "estimate"].iloc[-1]
            assert abs(percent - 100 * truth) <= 0.5 + 1e-9, (group, day, percent, truth)
            assert (abs(percent - 100 * drawn) <= 0.5 + 1e-9).any()
            checked += 1
    # 4: on the session's demo "Annet" (11) is hidden beside "Ukjent" (2), whose
    # n the cohort's 82 minus the other groups' n would otherwise give back
    assert checked >= 4, "the table shows too few values to test"


@pytest.mark.slow
def test_casemix_table_shows_prior_benefit_days_per_30_days(national_context):
    # The model's coefficient is per day; the table shows exp(30·β) and
    # exp(30·(β ± 1.959964·se)), the unit the Cox model uses too.
    import math

    from arr_stats.report import (
        tables,
    )

    ctx = national_context(2025)
    config = ctx.config
    coef = indicators.casemix(ctx.outcome_cohort(), config, 2025).coefficients.set_index("term")
    beta, se = coef.loc["hrb_days_pre_12m", ["estimate", "std_error"]]
    html = tables.casemix_table(ctx).data
    row = re.search(
        r"\(per 30 dager\)</td><td class=\"num\">([\d,]+)</td><td class=\"num\">([\d,]+)–([\d,]+)<",
        html,
    )
    assert row, "no per-30-days row"
    shown = [float(v.replace(",", ".")) for v in row.groups()]
    expected = [
        math.exp(30 * beta),
        math.exp(30 * (beta - 1.959964 * se)),
        math.exp(30 * (beta + 1.959964 * se)),
    ]
    assert shown == pytest.approx(expected, abs=0.005)
    assert "Referansekategorier:" in html


@pytest.mark.slow
def test_casemix_table_leaves_out_the_terms_the_model_checks_flag(national_context):
    # The session's small demo has case-mix terms resting on fewer than min_cell
    # episodes with or without the outcome; the table shows none of them, and
    # its note names each with the reason.
    from arr_stats.report import tables

    ctx = national_context(2025)
    params = ctx.config.disclosure
    fitted = []
    for ind_id in ("arr_rtw12", "arr_srtw"):
        # the model as the table fits it: without the units the publication hides
        result = tables.casemix_result(ctx, ind_id)
        if result.n == 0:  # no unit may be shown: the table says so, and there is no term
            label = disclosure.small_group_label(params)
            assert ctx.t("table.casemix_no_model", label=label) in html.unescape(
                tables.casemix_table(ctx, ind_id).data
            )
            continue
        fitted.append(ind_id)
        coef = result.coefficients
        hidden = coef[coef["check"].notna()]
        assert len(hidden), f"{ind_id}: the small demo should have a flagged term"
        assert hidden["estimate"].isna().all()
        body, note = tables.casemix_table(ctx, ind_id).data.split("Referansekategorier:")
        for term in hidden["term"]:
            label = html.escape(tables._casemix_term_label(term), quote=False)
            assert f"<td>{label}</td>" not in body, label
            assert label in note, label
        for term in coef.loc[coef["check"].isna(), "term"]:
            assert f"<td>{html.escape(tables._casemix_term_label(term), quote=False)}</td>" in body
        assert f"færre enn {params.min_cell} opphold med eller uten utfallet" in note
        # every shown term has a bounded interval: no "inf" or 0 limit printed
        shown = coef[coef["check"].isna()]
        assert np.isfinite(shown["upper"]).all() and (shown["lower"] > 0).all()
        assert "inf" not in body
    assert "arr_rtw12" in fitted
    if "arr_srtw" not in fitted:
        return
    # arr_srtw's note counts the episodes censored before day F, left out of the model
    srtw = tables.casemix_result(ctx, "arr_srtw")
    left_out = srtw.unknown_outcome
    count = "<5" if 0 < left_out < params.min_cell else str(left_out)
    shown = tables.casemix_table(ctx, "arr_srtw").data
    assert f"{html.escape(count)} opphold sensurert før dag 365" in shown


def test_outcome_sections_say_there_is_nothing_to_show_in_a_first_report_year(
    national_context, demo_params
):
    # The demo's first discharge year is 2021, so report year 2021 has no
    # outcome cohort (discharged 2020): every outcome section shows a note
    # instead of failing or drawing empty axes.
    ctx = national_context(demo_params.years[0])
    assert ctx.outcome_cohort().empty
    for section in (
        figures.state_occupation_figure,
        figures.kaplan_meier_figure,
        tables.cumulative_incidence_table,
        tables.work_ability_change_table,
        figures.casemix_funnel_figure,
    ):
        shown = section(ctx)
        assert "Ingen 12-månedersutfall å vise" in shown.data, section.__name__
    # The next year has an outcome cohort, and the same sections show it.
    later = context.ReportContext(
        derived=ctx.derived,
        year=ctx.year + 1,
        institution=None,
        institution_name=None,
        render_time="fixed",
    )
    assert not isinstance(figures.kaplan_meier_figure(later), HtmlBlock)


def test_a_failing_cell_is_reported_by_its_code_and_error():
    from nbclient.exceptions import CellExecutionError

    exc = CellExecutionError(
        "An error occurred while executing the following cell:\n------------------\n"
        "#| echo: false\nrt.kaplan_meier_figure(ctx)\n------------------\n\n"
        "\x1b[0;31mTraceback ...\x1b[0m\nValueError: no objects",
        "ValueError",
        "no objects",
    )
    assert fallback._error_summary(exc) == (
        "in the cell\n    rt.kaplan_meier_figure(ctx)\nValueError: no objects"
    )


def test_report_of_a_derived_folder_uses_the_configuration_that_built_it(
    tmp_path, monkeypatch, capsys
):
    # A build records its configuration in build.json. `arr-stats report
    # --derived DIR` without --config must use it, not the demo's: here the
    # build's data_end (2025-03-31) and min_cell (7) differ from the demo's.
    import datetime as dt
    import json

    from arr_stats import cli
    from arr_stats.config import DisclosureParams
    from arr_stats.report import (
        render,
    )

    demo = load_config(DEMO_CONFIG)
    record = config_to_dict(demo)
    record["nav"]["data_end"] = "2025-03-31"
    record["disclosure"]["min_cell"] = 7
    record["paths"]["derived"] = str(tmp_path)
    (tmp_path / "build.json").write_text(json.dumps({"config": record}), encoding="utf-8")
    seen = {}
    monkeypatch.setattr(render, "render_reports", lambda **kw: seen.update(kw) or [])
    assert cli.main(["report", "--derived", str(tmp_path), "--year", "2025"]) == 0
    assert seen["config"].outcomes.data_end == dt.date(2025, 3, 31)
    assert seen["config"].disclosure == DisclosureParams(min_cell=7)
    assert seen["derived_dir"] == tmp_path.resolve()
    # A folder that no build wrote: one clear line, exit 2, no traceback.
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli.main(["report", "--derived", str(empty), "--year", "2025"]) == 2
    err = capsys.readouterr().err
    assert "build.json: not found" in err and "Traceback" not in err
