"""The output check of a report year (publication.output_check): every file, every hidden cell.

Fast tests write the year's publication from the session's small demo build
into a copy of it, lay out a year folder the way ``arr-stats report`` does
(the real ``indicators.csv``, an edition file per institution, web figures
with their alt texts) and check what the output check writes about it,
beside the publication in the build: every file once, the hidden cells those
of the publication, the counts per edition those the report's tables read,
no hidden value, the thresholds of the configuration, the same bytes every
time. The slow test renders a year and checks the folder as rendered, and
that nothing in it tells a primary cell from a secondary one.
"""

from __future__ import annotations

import collections
import csv
import dataclasses
import html
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from arr_stats.config import DisclosureParams, RunConfig, config_to_dict
from arr_stats.errors import ArrStatsError
from arr_stats.labels import LANGUAGES
from arr_stats.publication import cohorts, linked
from arr_stats.publication import output_check as oc
from arr_stats.publication.audit import audit
from arr_stats.report import render, tables, upload
from arr_stats.report.editions import REPORT_DOCUMENT, plan_editions
from arr_stats.report.web_figures import FIGURE_RULES, FIGURES_COLUMNS, document_cells

#: Columns of output-check-cells.csv that name the cell, its rule and its bounds.
NAMING = {"cell", "table", "unit", "row", "column", "rule", "low", "high"}

#: Two web figures per edition with figures: (file stem, section, label).
FAKE_FIGURES = (("01-1_utvikling", "1", "fig-utvikling"), ("05-1_tilstand", "5", "fig-tilstand"))


@dataclass
class Checked:
    """A year folder and its build, with the check written, and the publication in memory."""

    year: int
    config: RunConfig
    derived: Path
    year_dir: Path
    layout: oc.OutputLayout
    publication: linked.YearPublication  # true values of hidden cells: inside TSD only
    written: list[Path]

    @property
    def publication_dir(self) -> Path:
        return tables.publication_folder(self.derived, self.year)

    def check(self, config: RunConfig | None = None) -> list[Path]:
        return oc.write_output_check(
            self.year_dir,
            self.derived,
            self.publication_dir,
            config or self.config,
            self.layout,
            render._person_ids(self.derived),
        )


def _protect_and_write(config: RunConfig, derived: Path, year: int) -> linked.YearPublication:
    """The year's publication computed in memory (true values kept) and written as the report does."""
    from arr_stats.derive.load import load_build
    from arr_stats.report.context import ReportContext

    ctx = ReportContext(load_build(derived, config), year, None, None, "")
    publication = tables._compute_publication(ctx)
    exact = audit(publication.cells, publication.relations, config.disclosure, exact=True)
    publication = dataclasses.replace(publication, audit=exact)
    linked.write_publication(
        publication, tables.publication_folder(derived, year), tables._publication_fingerprint(ctx)
    )
    return publication


def _lay_out_year(config: RunConfig, derived: Path, year: int, year_dir: Path) -> oc.OutputLayout:
    """A year folder as arr-stats report leaves it, without rendering the editions."""
    year_dir.mkdir(parents=True)
    upload.write_indicator_files(config, derived, year, year_dir, say=lambda _: None)
    layout = render.output_layout(derived, year)
    stems = [s for s, (_, lang) in layout.editions.items() if lang == LANGUAGES[0]]
    for stem in stems:
        (year_dir / f"{stem}.html").write_text(f"<html><body>{stem}</body></html>\n")
    for stem in stems[:2]:  # the national edition and one institution's have figures
        folder = year_dir / layout.figures_dir / stem
        folder.mkdir(parents=True)
        rows = []
        for name, section, label in FAKE_FIGURES:
            (folder / f"{name}.png").write_bytes(b"\x89PNG\r\n\x1a\n" + name.encode())
            (folder / f"{name}.svg").write_text(f"<svg><title>{label}</title></svg>\n")
            rows.append([f"{name}.png", f"{name}.svg", section, label, f"Alt text of {label}."])
        frame = pd.DataFrame(rows, columns=list(FIGURES_COLUMNS))
        frame.to_csv(folder / layout.figures_index, index=False, lineterminator="\n")
    return layout


@pytest.fixture(scope="module")
def checked(tmp_path_factory, config_for, demo_delivery, demo_derived, demo_params) -> Checked:
    root = tmp_path_factory.mktemp("output_check")
    derived = root / "derived"
    shutil.copytree(demo_derived, derived)
    config = config_for(demo_delivery, derived, demo_params.data_end)
    year = demo_params.years[1]
    publication = _protect_and_write(config, derived, year)
    year_dir = root / "out" / str(year)
    layout = _lay_out_year(config, derived, year, year_dir)
    done = Checked(year, config, derived, year_dir, layout, publication, [])
    done.written = done.check()
    return done


def _checked_for_small_only(row: Mapping[str, object]) -> bool:
    """A latent count, or a cell withheld with its hidden row though derivable (docs/disclosure.md)."""
    return row["status"] == linked.LATENT or "derivable" in str(row["rule"])


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _walk(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def _copy(checked: Checked, root: Path) -> tuple[Path, Path, Path]:
    """A copy of the year folder and of the build files the check reads, under ``root``."""
    year_dir = root / "out" / str(checked.year)
    shutil.copytree(checked.year_dir, year_dir)
    derived = root / "derived"
    folder = tables.publication_folder(derived, checked.year)
    shutil.copytree(checked.publication_dir, folder)
    for name in oc.SUMMARY_FILES:  # the check's own files: written anew
        (folder / name).unlink()
    for name in [*checked.layout.upload_files, "persons.parquet"]:
        shutil.copy(checked.derived / name, derived / name)
    return year_dir, derived, folder


# ------------------------------------------------------------------ every file, once


def test_every_file_of_the_year_folder_and_of_the_build_is_listed_exactly_once(checked):
    rows = _read(checked.publication_dir / oc.FILES_CSV)
    listed = collections.Counter((r["folder"], r["path"]) for r in rows)
    assert max(listed.values()) == 1
    report = {path for folder, path in listed if folder == oc.REPORT_FOLDER}
    # the walk after writing: the editions, figures and indicators.csv, and no check:
    # the check tells primary from secondary cells, so it is not in the exported folder
    assert report == _walk(checked.year_dir)
    assert "indicators.csv" in report and not set(oc.SUMMARY_FILES) & report
    build = {path for folder, path in listed if folder == oc.BUILD_FOLDER}
    publication = {
        (checked.publication_dir / p).relative_to(checked.derived).as_posix()
        for p in _walk(checked.publication_dir)
    }
    uploads = {upload.fractions_file_name(checked.year), upload.values_file_name(checked.year)}
    assert build == publication | uploads
    own = {f"publication/{checked.year}/{name}" for name in oc.SUMMARY_FILES}
    assert own <= build
    # nothing else of the build (row-level derived tables) is listed
    assert not any(p.endswith(".parquet") and "/" not in p for p in build)


def test_each_file_has_its_kind_edition_hash_and_verdict(checked):
    rows = {r["path"]: r for r in _read(checked.publication_dir / oc.FILES_CSV)}
    national = rows["national.html"]
    assert (national["kind"], national["edition"], national["institution"]) == (
        oc.EDITION_HTML,
        "national",
        "",
    )
    data = (checked.year_dir / "national.html").read_bytes()
    import hashlib

    assert national["sha256"] == hashlib.sha256(data).hexdigest()
    assert int(national["size_bytes"]) == len(data)
    figure = rows["figures/national/05-1_tilstand.png"]
    assert figure["kind"] == oc.FIGURE_PNG and figure["identifier_check"] == oc.ID_BINARY
    assert (
        "fig-tilstand" in figure["contents"] and "Alt text of fig-tilstand." in figure["contents"]
    )
    assert figure["rules"] == "min_cell=5; min_denominator=10; state_grid_days=7"
    assert rows["figures/national/05-1_tilstand.svg"]["identifier_check"] == oc.ID_PASS
    assert rows["figures/national/figures.csv"]["kind"] == oc.FIGURE_ALT
    assert rows["indicators.csv"]["kind"] == oc.INDICATORS
    page = rows[f"publication/{checked.year}/{oc.HTML_FILE}"]
    assert (page["kind"], page["folder"], page["sha256"]) == (oc.OUTPUT_CHECK, oc.BUILD_FOLDER, "")
    assert {r["verdict"] for r in rows.values()} == {oc.PASS}


def test_indicator_rows_shown_and_hidden_are_counted_from_the_file(checked):
    rows = {r["path"]: r for r in _read(checked.publication_dir / oc.FILES_CSV)}
    indicators = _read(checked.year_dir / "indicators.csv")
    hidden = [r for r in indicators if r["suppressed"] == "True"]
    row = rows["indicators.csv"]
    assert int(row["cells_shown"]) == len(indicators) - len(hidden)
    assert int(row["cells_primary"]) == sum(r["unit"] == "institution" for r in hidden)
    assert int(row["cells_primary"]) + int(row["cells_secondary"]) == len(hidden) > 0


def test_an_unknown_file_is_for_review_and_an_identifier_or_a_check_fails(checked, tmp_path):
    year_dir, derived, folder = _copy(checked, tmp_path)
    (year_dir / "notes.txt").write_text("a researcher's note, nothing personal\n")
    (year_dir / "figures" / "national" / "extra.csv").write_text("id\n01019012345\n")
    shutil.copy(checked.publication_dir / oc.CELLS_CSV, year_dir / oc.CELLS_CSV)  # copied out
    oc.write_output_check(year_dir, derived, folder, checked.config, checked.layout)
    rows = {r["path"]: r for r in _read(folder / oc.FILES_CSV)}
    assert (rows["notes.txt"]["kind"], rows["notes.txt"]["verdict"]) == (oc.OTHER, oc.REVIEW)
    extra = rows["figures/national/extra.csv"]
    assert (extra["identifier_check"], extra["verdict"]) == (oc.ID_FAIL, oc.FAIL)
    assert "11-digit" in extra["identifier_note"] and "01019012345" not in extra["identifier_note"]
    exported = rows[oc.CELLS_CSV]  # a check in the exported folder says which cells are small
    assert (exported["folder"], exported["kind"]) == (oc.REPORT_FOLDER, oc.OUTPUT_CHECK)
    assert exported["verdict"] == oc.FAIL
    verdict = dict((r["measure"], r["value"]) for r in _read(folder / oc.AUDIT_CSV))
    assert (verdict["files_fail"], verdict["files_review"]) == ("2", "1")


# ------------------------------------------------------------------ the cells


def test_hidden_cells_listed_are_the_publications_hidden_cells(checked):
    # an independent count from the written cells table, read as plain CSV
    cells = _read(checked.publication_dir / "cells.csv")
    hidden = {c["cell"]: c for c in cells if c["status"] != linked.SHOWN}
    listed = _read(checked.publication_dir / oc.CELLS_CSV)
    assert len(listed) == len(hidden) == len({r["cell"] for r in listed}) > 0
    min_cell = checked.config.disclosure.min_cell
    for row in listed:
        assert row["status"] == hidden[row["cell"]]["status"]
        low, high = float(row["low"]), float(row["high"])
        if _checked_for_small_only(row):
            # a latent count, or a cell withheld with its row: never pinned small
            assert low <= 0 or high >= min_cell
            continue
        assert row["rule"] == hidden[row["cell"]]["rule"] != ""
        assert low < high  # not determined
    by_status = collections.Counter(c["status"] for c in cells)
    verdict = dict(
        (r["measure"], r["value"]) for r in _read(checked.publication_dir / oc.AUDIT_CSV)
    )
    assert int(verdict["cells"]) == len(cells)
    assert int(verdict["cells_primary"]) == by_status[linked.PRIMARY] > 0
    assert int(verdict["cells_secondary"]) == by_status[linked.SECONDARY] > 0
    assert int(verdict["cells_shown"]) == by_status[linked.SHOWN]
    relations = pd.read_csv(checked.publication_dir / "relations.csv")
    assert int(verdict["equations"]) == relations["relation"].nunique()
    assert verdict["audit_passed"] == "true"


def test_each_editions_counts_are_the_cells_the_reports_tables_read(checked, monkeypatch):
    from arr_stats.report.context import open_report

    read: list[tuple[str, str]] = []
    grid = linked.YearPublication.grid

    def spy(self, table, units):
        read.extend((table, unit) for unit, _ in units)
        return grid(self, table, units)

    monkeypatch.setattr(linked.YearPublication, "grid", spy)
    cells = pd.read_csv(checked.publication_dir / "cells.csv", dtype=str, keep_default_na=False)
    rows = {r["path"]: r for r in _read(checked.publication_dir / oc.FILES_CSV)}
    kinds = set()
    for stem, (institution, lang) in checked.layout.editions.items():
        if lang != LANGUAGES[0]:
            continue
        read.clear()
        ctx = open_report(checked.year, institution, checked.derived)
        tables.episodes_by_institution(ctx)
        for variable in tables.PARTICIPANT_VARIABLES:
            tables.participants_table(ctx, variable)
        tables.status_table(ctx)
        seen = set(read)
        # the indicator rows: every unit's in the national edition, the own unit's else
        indicator = cells["table"].str.startswith(cohorts.INDICATOR_PREFIX)
        own = indicator & (
            (institution is None) | (cells["unit"] == linked.unit_key(str(institution)))
        )
        mine = cells[
            own
            | np.array([pair in seen for pair in zip(cells["table"], cells["unit"], strict=True)])
        ]
        expected = mine["status"].value_counts()
        row = rows[f"{stem}.html"]
        for status in (linked.SHOWN, linked.PRIMARY, linked.SECONDARY):
            assert int(row[f"cells_{status}"]) == int(expected.get(status, 0)), (stem, status)
        kinds.add(
            "national"
            if institution is None
            else "own"
            if any(u.startswith(linked.REST_PREFIX) for _, u in seen)
            else "small"
        )
    # the demo has every kind of edition: national, a unit with its own tables, a small one
    assert kinds == {"national", "own", "small"}


def test_no_hidden_value_is_in_the_check(checked):
    cells = checked.publication.cells  # the unprotected computation's values
    true = cells.loc[~cells["shown"], ["cell", "value"]].set_index("cell")["value"]
    with (checked.publication_dir / oc.CELLS_CSV).open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        assert "value" not in (reader.fieldnames or [])
        listed = {r["cell"]: r for r in reader}
    assert set(listed) == set(true.index)
    page = (checked.publication_dir / oc.HTML_FILE).read_text(encoding="utf-8")
    page_rows = {
        html.unescape(cell): tds
        for cell, tds in re.findall(r'<tr data-cell="([^"]*)">(.*?)</tr>', page)
    }
    assert len(page_rows) == len(true)
    min_cell = checked.config.disclosure.min_cell
    for cell, value in true.items():
        row = listed[cell]
        # besides the cell's name, its rule and the bounds a reader can prove, the row holds
        # nothing that is the value; and the bounds do not pin it (a latent count or a
        # cell withheld with its row may be derivable, but never as a small count)
        assert str(int(value)) not in [v for k, v in row.items() if k not in NAMING], cell
        if _checked_for_small_only(row):
            assert float(row["low"]) <= 0 or float(row["high"]) >= min_cell
        else:
            assert not float(row["low"]) == float(row["high"])
        tds = [html.unescape(td) for td in re.findall(r"<td[^>]*>(.*?)</td>", page_rows[cell])]
        table, unit, row_label, column, suppression, rule, low, high = tds
        assert (table, unit, row_label, column, rule) == (
            row["table"],
            row["unit"],
            row["row"],
            row["column"],
            row["rule"],
        )
        assert suppression != str(int(value))
    # the files table and the verdict hold counts of cells, not cells: no column for a value
    assert "value" not in _read(checked.publication_dir / oc.FILES_CSV)[0]


def test_the_check_is_the_same_when_every_hidden_value_changes(checked, tmp_path):
    # the same publication written twice, the second with every hidden cell's true value
    # changed: the check of each (same folders elsewhere) is the same bytes
    pub = checked.publication
    cells = pub.cells
    changed = dataclasses.replace(
        pub, cells=cells.assign(value=cells["value"].where(cells["shown"], cells["value"] + 1000))
    )
    record = json.loads((checked.publication_dir / linked.RECORD_FILE).read_text())
    pages = []
    for name, publication in (("a", pub), ("b", changed)):
        year_dir, derived, folder = _copy(checked, tmp_path / name)
        linked.write_publication(publication, folder, record["fingerprint"])
        oc.write_output_check(
            year_dir, derived, folder, checked.config, checked.layout, render._person_ids(derived)
        )
        pages.append({n: (folder / n).read_bytes() for n in oc.SUMMARY_FILES})
    assert pages[0] == pages[1]


# ------------------------------------------------------------------ the rules


def test_thresholds_shown_follow_the_configuration(
    checked, tmp_path, config_for, demo_delivery, demo_derived, demo_params
):
    derived = tmp_path / "derived"
    shutil.copytree(demo_derived, derived)
    base = config_for(demo_delivery, derived, demo_params.data_end)
    # min_cell 6 (on this small build, 7 leaves the protection no cell to hide: it refuses)
    config = dataclasses.replace(base, disclosure=dataclasses.replace(base.disclosure, min_cell=6))
    publication = _protect_and_write(config, derived, checked.year)
    year_dir = tmp_path / "out" / str(checked.year)
    layout = _lay_out_year(config, derived, checked.year, year_dir)
    folder = tables.publication_folder(derived, checked.year)
    oc.write_output_check(year_dir, derived, folder, config, layout)
    rules = {r["parameter"]: r for r in _read(folder / oc.RULES_CSV)}
    assert rules["min_cell"]["value"] == "6" and "1–5" in rules["min_cell"]["meaning"]
    assert "<6" in rules["survival_pooling"]["meaning"]
    files = _read(folder / oc.FILES_CSV)
    assert any("min_cell=6" in r["rules"] for r in files)
    assert not any("min_cell=5" in r["rules"] for r in files)
    page = (folder / oc.HTML_FILE).read_text(encoding="utf-8")
    assert "min_cell=6" in page and "min_cell=5" not in page and "1–5" in page
    # the primary cells are the counts of 1 … min_cell − 1, counted from the true values
    primary = []
    for where, pub, params in (
        (folder, publication, config.disclosure),
        (checked.publication_dir, checked.publication, checked.config.disclosure),
    ):
        verdict = dict((r["measure"], r["value"]) for r in _read(where / oc.AUDIT_CSV))
        c = pub.cells
        printed = c["status"] != linked.LATENT
        small = printed & c["value"].between(1, params.min_cell - 1)
        is_primary = c["status"] == linked.PRIMARY
        # every small printed count is primary; the other primary cells are the
        # numerators of indicator rows of fewer than min_denominator persons
        assert (is_primary | ~small).all()
        others = c[is_primary & ~small]
        n_of = c.set_index("cell")["value"]
        for cell in others["cell"]:
            table, unit, row, column = cell.split("|")
            assert table.startswith(cohorts.INDICATOR_PREFIX) and row == cohorts.NUMERATOR_ROW
            assert n_of[linked.cell_id(table, unit, cohorts.N_ROW, column)] < params.min_denominator
        assert int(verdict["cells_primary"]) == int(is_primary.sum()) and small.sum() > 0
        primary.append(int(small.sum()))
    assert primary[0] > primary[1]
    # a publication protected with min_cell 5 is not described under min_cell 6
    with pytest.raises(ArrStatsError, match="other disclosure parameters"):
        checked.check(config=dataclasses.replace(checked.config, disclosure=config.disclosure))


def test_every_disclosure_parameter_has_a_meaning_in_every_language():
    fields = [f.name for f in dataclasses.fields(DisclosureParams)]
    for lang in LANGUAGES:
        for params in (DisclosureParams(), DisclosureParams(complementary_suppression=False)):
            table = oc.rules_table(params, lang)
            assert table["parameter"].tolist() == fields
            assert table["meaning"].str.len().min() > 20


def test_every_figure_of_the_document_has_its_rules():
    labels = {
        c.label
        for c in document_cells(REPORT_DOCUMENT.read_text(encoding="utf-8"))
        if c.label and c.label.startswith("fig-")
    }
    assert labels and labels == set(FIGURE_RULES)
    fields = {f.name for f in dataclasses.fields(DisclosureParams)}
    for label, rules in FIGURE_RULES.items():
        assert rules and set(rules) <= fields, label


# ------------------------------------------------------------------ the same bytes


def test_the_check_is_the_same_bytes_every_time(checked):
    first = {n: (checked.publication_dir / n).read_bytes() for n in oc.SUMMARY_FILES}
    # again, in another process with another string hash seed (set and dict orders)
    script = f"""
import json
from pathlib import Path
from arr_stats.config import config_from_dict
from arr_stats.publication.output_check import write_output_check
from arr_stats.report import render, tables
config = config_from_dict(json.loads({json.dumps(json.dumps(config_to_dict(checked.config)))}))
derived, year = Path({str(checked.derived)!r}), {checked.year}
write_output_check(Path({str(checked.year_dir)!r}), derived, tables.publication_folder(derived, year),
                   config, render.output_layout(derived, year), render._person_ids(derived))
"""
    env = {**os.environ, "PYTHONHASHSEED": "4242"}
    subprocess.run([sys.executable, "-c", script], check=True, env=env)
    second = {n: (checked.publication_dir / n).read_bytes() for n in oc.SUMMARY_FILES}
    assert first == second
    assert b"<script" not in first[oc.HTML_FILE]
    assert not re.search(rb"""(src|href)=["']?(https?:)?//""", first[oc.HTML_FILE])


# ------------------------------------------------------------------ a rendered year


@pytest.mark.slow
def test_every_file_of_a_rendered_year_folder_is_listed_once(
    tmp_path, config_for, demo_delivery, demo_derived, demo_params, monkeypatch
):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1790000000")
    derived = tmp_path / "derived"
    shutil.copytree(demo_derived, derived)
    config = config_for(demo_delivery, derived, demo_params.data_end)
    year = demo_params.years[1]
    institution = plan_editions(derived, year, all_institutions=True)[1].institution
    written = render.render_reports(
        config, derived, year, institution=institution, out_dir=tmp_path, engine="fallback"
    )
    year_dir = tmp_path / str(year)
    folder = tables.publication_folder(derived, year)
    assert written[-5:] == [folder / name for name in oc.SUMMARY_FILES]
    rows = _read(folder / oc.FILES_CSV)
    listed = collections.Counter(r["path"] for r in rows if r["folder"] == oc.REPORT_FOLDER)
    assert set(listed) == _walk(year_dir) and max(listed.values()) == 1
    assert {p.relative_to(year_dir).as_posix() for p in written if year_dir in p.parents} <= set(
        listed
    )
    by_path = {r["path"]: r for r in rows}
    assert {r["verdict"] for r in rows} == {oc.PASS}
    for name in ("national.html", f"{institution}.html"):
        assert by_path[name]["identifier_check"] == oc.ID_PASS
        assert int(by_path[name]["cells_shown"]) > 0
    figures = [r for r in rows if r["kind"] in (oc.FIGURE_PNG, oc.FIGURE_SVG)]
    assert len(figures) >= 2 * 19
    for row in figures:  # every figure found its alt text and its rules
        label = re.search(r"\((fig-[\w-]+)\)", row["contents"]).group(1)
        assert row["rules"] == oc.rule_text(config.disclosure, FIGURE_RULES[label])
    verdict = dict((r["measure"], r["value"]) for r in _read(folder / oc.AUDIT_CSV))
    assert verdict["audit_passed"] == "true"
    assert verdict["audit_seconds"] == ""  # SOURCE_DATE_EPOCH: no time in the files
    # nothing in the exported folder tells a primary cell from a secondary one
    primary_rule = linked.primary_rule(config.disclosure)
    for path in year_dir.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".csv", ".svg"):
            text = path.read_text(encoding="utf-8")
            assert primary_rule not in text and linked.SECONDARY not in text, path
