"""The researcher's template notebook and the place for researchers' own notebooks.

``notebooks/work/`` holds a researcher's own notebooks: ignored by git (except
the template) and by the notebook policy and nbval. The template
(``notebooks/work/_template.ipynb``) is executed here against the session's
demo build, its ``BUILD`` parameter set the way papermill sets it, and what it
shows is checked against the build's tables read independently.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from bs4 import BeautifulSoup
from test_notebooks_policy import (
    ALLOWED_IMPORTS,
    NOTEBOOKS,
    imported_roots,
    policy_notebooks,
)

from arr_stats.config import load_config
from arr_stats.derive.load import recorded_config
from arr_stats.publication.disclosure import check_no_identifiers

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "notebooks" / "work"
TEMPLATE = WORK / "_template.ipynb"
#: What the template writes next to itself, for export.
TABLE_FILE = "episodes_by_year_and_diagnosis.csv"
FIGURE_FILE = "time_to_rtw_by_diagnosis.png"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _code_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def _python_source(cell: nbformat.NotebookNode) -> str:
    return "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith("%"))


# --- where researchers' notebooks live -----------------------------------------------------


def _git_ignores(path: str) -> bool:
    result = subprocess.run(
        ["git", "-C", str(ROOT), "check-ignore", "-q", path], capture_output=True, text=True
    )
    assert result.returncode in (0, 1), f"git check-ignore failed: {result.stderr}"
    return result.returncode == 0


def test_git_ignores_a_researchers_notebooks_but_not_the_template():
    assert _git_ignores("notebooks/work/mine.ipynb")
    assert _git_ignores("notebooks/work/episodes_by_year_and_diagnosis.csv")  # what it writes
    assert not _git_ignores("notebooks/work/_template.ipynb")
    # a notebook put straight into notebooks/ is not hidden: the policy must see it
    assert not _git_ignores("notebooks/06_my_analysis.ipynb")


def test_the_policy_covers_notebooks_in_notebooks_but_not_in_work(tmp_path):
    assert TEMPLATE.is_file()
    assert all(WORK not in path.parents for path in NOTEBOOKS)
    layout = tmp_path / "notebooks"
    (layout / "work").mkdir(parents=True)
    for name in ["01_a.ipynb", "my_analysis.ipynb", "work/mine.ipynb", "work/_template.ipynb"]:
        (layout / name).write_text("{}")
    assert [p.name for p in policy_notebooks(layout)] == ["01_a.ipynb", "my_analysis.ipynb"]


def test_nbval_collects_the_validated_notebooks_but_not_work():
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "--nbval"]
        + ["-p", "no:cacheprovider", "notebooks/"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    collected = {line.split("::")[0] for line in result.stdout.splitlines() if "::" in line}
    assert collected == {str(p.relative_to(ROOT)) for p in NOTEBOOKS}
    assert len(collected) == 5


# --- the template itself -------------------------------------------------------------------


def test_the_template_only_calls_the_package():
    nb = nbformat.read(TEMPLATE, as_version=4)
    cells = _code_cells(nb)
    assert not any(cell.get("outputs") for cell in cells), "commit the template without outputs"
    assert cells[0].metadata.get("tags") == ["parameters"]
    assert cells[0].source.startswith("BUILD = ")
    assert nb.metadata["kernelspec"]["name"] == "python3"
    for cell in cells:
        for node in ast.walk(ast.parse(_python_source(cell))):
            assert not isinstance(
                node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda
            ), f"a definition in: {cell.source[:80]}"
            roots = imported_roots(node)
            assert roots <= ALLOWED_IMPORTS, f"import of {roots - ALLOWED_IMPORTS}"
    sources = "\n".join(cell.source for cell in cells)
    assert "import arr_stats\n" in sources
    assert "arr_stats.load_build(BUILD)" in sources
    markdown = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")
    assert "How to ask for export from TSD" in markdown


@pytest.fixture(scope="module")
def executed_template(demo_derived: Path, tmp_path_factory: pytest.TempPathFactory):
    """The template run against the session's demo build, in a scratch copy of ``work/``."""
    import papermill

    folder = tmp_path_factory.mktemp("work")
    shutil.copy(TEMPLATE, folder / "mine.ipynb")
    papermill.execute_notebook(
        folder / "mine.ipynb",
        folder / "mine.ipynb",
        parameters={"BUILD": str(demo_derived)},
        kernel_name="python3",
        cwd=str(folder),
        progress_bar=False,
        execution_timeout=600,
    )
    return folder, nbformat.read(folder / "mine.ipynb", as_version=4)


def _output_of(nb: nbformat.NotebookNode, marker: str) -> dict:
    """The displayed data of the one code cell whose source contains ``marker``."""
    (cell,) = [cell for cell in _code_cells(nb) if marker in cell.source]
    (result,) = [o for o in cell.outputs if o.output_type == "execute_result"]
    return result["data"]


def _html_table(html: str) -> pd.DataFrame:
    """A displayed DataFrame's HTML as strings: header labels, row labels, cells."""
    table = BeautifulSoup(html, "html.parser").find("table")
    header = [th.get_text(strip=True) for th in table.find("thead").find("tr").find_all("th")]
    rows = {}
    for tr in table.find("tbody").find_all("tr"):
        rows[tr.find("th").get_text(strip=True)] = [td.get_text(strip=True) for td in tr("td")]
    return pd.DataFrame.from_dict(rows, orient="index", columns=header[1:])


@pytest.mark.slow
def test_the_template_runs_on_a_build_and_its_outputs_are_disclosed(
    executed_template, demo_derived
):
    folder, nb = executed_template
    for cell in _code_cells(nb):
        for output in cell.get("outputs", []):
            assert output.output_type != "error", cell.source[:80]
            assert output.get("name") != "stderr", f"stderr output (a warning?): {output}"

    # The table, read independently from the build's episodes.
    episodes = pd.read_parquet(demo_derived / "episodes.parquet")
    inner = pd.crosstab(episodes["discharge_year"], episodes["diagnosis_group"])
    truth = inner.copy()
    truth["total"] = inner.sum(axis=1)
    truth.loc["total"] = truth.sum(axis=0)
    truth.index = truth.index.astype(str)
    min_cell = recorded_config(demo_derived).disclosure.min_cell
    assert min_cell == load_config(ROOT / "analysis" / "demo.toml").disclosure.min_cell == 5
    small = (truth > 0) & (truth < min_cell)
    assert small.to_numpy().any(), "the demo build has no small cell: the checks below are idle"

    shown = _html_table(_output_of(nb, "suppress_with_margins")["text/html"])
    exported = pd.read_csv(folder / TABLE_FILE, index_col=0, dtype=str)
    exported.index = exported.index.astype(str)
    assert shown.equals(exported)  # what is exported is what was shown
    assert list(shown.index) == list(truth.index)
    assert list(shown.columns) == [str(c) for c in truth.columns]

    hidden = shown == "x"
    values = shown.to_numpy()
    true_values = truth.to_numpy()
    # every shown cell is the true count; every small count is hidden
    for i, j in zip(*np.nonzero(~hidden.to_numpy()), strict=True):
        assert int(values[i, j]) == true_values[i, j]
        assert not 1 <= int(values[i, j]) < min_cell, f"a small count is shown: {values[i, j]}"
    assert (hidden | ~small).to_numpy().all()

    # No hidden cell can be worked out from the totals: in every row and
    # column (totals included) either nothing is hidden, or at least two
    # cells are, and where the line's total is shown, total − shown cells
    # (the sum of the hidden ones) is neither a small count nor equal to the
    # number of hidden cells (each of them non-zero, so each would be 1).
    mask = hidden.to_numpy()
    lines = [(mask[i, :], true_values[i, :]) for i in range(mask.shape[0])]
    lines += [(mask[:, j], true_values[:, j]) for j in range(mask.shape[1])]
    for line_mask, line_values in lines:
        n_hidden = int(line_mask.sum())
        assert n_hidden != 1, "one hidden cell in a line: total − shown gives it back"
        if n_hidden and not line_mask[-1]:
            recovered = line_values[-1] - line_values[:-1][~line_mask[:-1]].sum()
            assert recovered >= min_cell and recovered != n_hidden

    # The figure is shown and written.
    figure = _output_of(nb, "pool_survival_steps")
    assert "image/png" in figure
    assert "Figure" in figure["text/plain"]
    assert (folder / FIGURE_FILE).read_bytes().startswith(PNG_SIGNATURE)

    # No output holds an identifier.
    persons = pd.read_parquet(demo_derived / "persons.parquet")["person_id"].astype(str)
    texts = [
        str(value)
        for cell in _code_cells(nb)
        for output in cell.get("outputs", [])
        for mime, value in output.get("data", {}).items()
        if mime.startswith("text/")
    ]
    text = "\n".join(texts)
    assert "person_id" not in text
    check_no_identifiers(text, persons)  # no 11-digit number, no pseudonym of the build
