"""Execute the analysis notebooks on the demo data and store them with outputs.

`make notebooks` runs this after `make demo-data`. Each notebook in
notebooks/ (or each path given) is executed top to bottom in a fresh
`python3` kernel from its own folder, and written back with its outputs and
without volatile metadata, so re-running on the same data leaves git clean:

- cell metadata (nbclient's `execution` timestamps; nothing else is kept
  there: the notebooks use no cell tags, `# NBVAL_IGNORE_OUTPUT` is a comment
  in the source);
- notebook metadata except the kernel spec and the language name (the
  Python version in `language_info` differs between machines).

Usage: .venv/bin/python tools/run_notebooks.py [notebooks/NN_name.ipynb ...]
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
KERNEL = "python3"
TIMEOUT_SECONDS = 600


def strip_volatile_metadata(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Remove execution times and machine-specific metadata (in place; returns ``nb``)."""
    for cell in nb.cells:
        cell.metadata = nbformat.NotebookNode()
    language = nb.metadata.get("language_info", {}).get("name", "python")
    nb.metadata = nbformat.NotebookNode(
        kernelspec=nbformat.NotebookNode(
            name=KERNEL, display_name="Python 3 (ipykernel)", language="python"
        ),
        language_info=nbformat.NotebookNode(name=language),
    )
    return nb


def run_notebook(path: Path) -> None:
    """Execute one notebook in its folder and write it back with outputs."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        kernel_name=KERNEL,
        timeout=TIMEOUT_SECONDS,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    nbformat.write(strip_volatile_metadata(nb), path)


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    for path in paths:
        print(f"executing {path.relative_to(ROOT) if path.is_absolute() else path}")
        run_notebook(path.resolve())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
