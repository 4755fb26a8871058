"""The analysis notebooks follow the project's rules (notebooks/README.md).

nbval (`pytest --nbval notebooks/`) re-executes the notebooks and compares
outputs; these tests check what nbval does not: that there are outputs to
compare, that the notebooks hold no logic of their own, and that no output
could identify a person.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

from arr_stats.config import DEMO_CONFIG, load_config
from arr_stats.io import read_parquet
from arr_stats.publication import disclosure
from arr_stats.publication.disclosure import check_no_identifiers

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"


def policy_notebooks(directory: Path) -> list[Path]:
    """The notebooks under this policy: every notebook directly in ``directory``.

    A researcher's own notebooks in ``notebooks/work/`` are left out (they
    have no committed outputs; see notebooks/README.md); any other notebook
    placed in ``notebooks/`` is held to the policy, and makes
    :func:`test_the_five_notebooks_are_there` fail.
    """
    return sorted(directory.glob("*.ipynb"))


NOTEBOOKS = policy_notebooks(NOTEBOOK_DIR)
#: The top-level packages a notebook may import from.
ALLOWED_IMPORTS = {"arr_stats", "pandas", "matplotlib", "IPython"}
#: The first code cell: the run configuration, the one thing a researcher edits.
FIRST_CELL = re.compile(
    r'^CONFIG = "\.\./analysis/demo\.toml"\s+# the synthetic demo; in TSD the path'
)


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _code_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def _python_source(cell: nbformat.NotebookNode) -> str:
    """The cell's source with IPython magics (``%matplotlib inline``) left out."""
    return "\n".join(
        line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!"))
    )


def _output_texts(nb: nbformat.NotebookNode) -> list[str]:
    """Every text a reader sees in the outputs (images excluded)."""
    texts = []
    for cell in _code_cells(nb):
        for output in cell.get("outputs", []):
            if "text" in output:
                texts.append(output["text"])
            for mime, value in output.get("data", {}).items():
                if mime.startswith("text/") or mime == "application/json":
                    texts.append(value if isinstance(value, str) else str(value))
            if "traceback" in output:
                texts.append("\n".join(output["traceback"]))
    return texts


def test_the_five_notebooks_are_there():
    assert [p.name for p in NOTEBOOKS] == [
        "01_data_quality_and_linkage.ipynb",
        "02_time_to_rtw.ipynb",
        "03_competing_risks.ipynb",
        "04_state_occupation.ipynb",
        "05_work_ability.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_code_cell_is_executed_and_the_outputs_are_committed(path):
    # nbval compares committed outputs: a stripped notebook would check nothing.
    cells = _code_cells(_read(path))
    assert cells
    assert all(cell.execution_count is not None for cell in cells), "unexecuted cells"
    counts = [cell.execution_count for cell in cells]
    assert counts == list(range(1, len(cells) + 1)), "not executed top to bottom in one run"
    with_output = [cell for cell in cells if cell.get("outputs")]
    # every cell but the CONFIG cell and the cells that only define names shows something
    assert len(with_output) >= len(cells) // 2


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_errors_in_outputs(path):
    for cell in _code_cells(_read(path)):
        for output in cell.get("outputs", []):
            assert output.output_type != "error", cell.source[:80]
            assert output.get("name") != "stderr", f"stderr output (a warning?): {output}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_first_code_cell_sets_the_run_configuration(path):
    first = _code_cells(_read(path))[0]
    assert FIRST_CELL.match(first.source), first.source
    assert "load_derived(CONFIG)" in "\n".join(c.source for c in _code_cells(_read(path)))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_functions_or_classes_in_notebooks(path):
    for cell in _code_cells(_read(path)):
        tree = ast.parse(_python_source(cell))
        defined = [
            node
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda)
        ]
        assert not defined, f"a function or class is defined in: {cell.source[:80]}"
        assert not re.search(r"^\s*(def|class) ", cell.source, re.MULTILINE)


def imported_roots(node: ast.AST) -> set[str]:
    """The top-level packages an import statement names (empty for any other node)."""
    if isinstance(node, ast.Import):
        return {alias.name.split(".")[0] for alias in node.names}
    if isinstance(node, ast.ImportFrom):
        return {(node.module or "").split(".")[0]}
    return set()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_imports_only_from_the_package_pandas_matplotlib_ipython(path):
    for cell in _code_cells(_read(path)):
        for node in ast.walk(ast.parse(_python_source(cell))):
            roots = imported_roots(node)
            assert roots <= ALLOWED_IMPORTS, f"import of {roots - ALLOWED_IMPORTS}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_kernel_spec_is_python3_and_no_volatile_metadata(path):
    nb = _read(path)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    # tools/run_notebooks.py strips execution times and the machine's Python version
    assert "version" not in nb.metadata.get("language_info", {})
    for cell in nb.cells:
        assert "execution" not in cell.metadata, "execution timestamps committed"


@pytest.fixture(scope="module")
def demo_person_ids() -> list[str]:
    # The committed outputs come from the demo build (make demo-data).
    persons = load_config(DEMO_CONFIG).derived_dir / "persons.parquet"
    return read_parquet(persons)["person_id"].astype(str).tolist()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_identifiers_in_outputs(path, demo_person_ids):
    assert len(demo_person_ids) > 100  # the check below has something to find
    nb = _read(path)
    text = "\n".join(_output_texts(nb))
    assert text  # outputs exist
    # no 11-digit number (fødselsnummer pattern) and no pseudonym of the persons table
    check_no_identifiers(text, demo_person_ids)
    assert "person_id" not in text
    assert not disclosure.NATIONAL_ID_PATTERN.search(text)


def test_identifier_check_would_catch_a_pseudonym(demo_person_ids):
    # the check above is not vacuous: an output holding one demo pseudonym fails
    from arr_stats.publication.disclosure import DisclosureError

    with pytest.raises(DisclosureError):
        check_no_identifiers(f"<td>{demo_person_ids[0]}</td>", demo_person_ids)
