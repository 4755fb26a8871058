"""The Quarto engine: ``quarto render`` of one edition."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml

from arr_stats.errors import ArrStatsError
from arr_stats.labels import localise_document
from arr_stats.report.editions import REPORT_DOCUMENT, Edition, kernel_env


def find_quarto() -> Path | None:
    """The ``quarto`` executable on the ``PATH``, or ``None``."""
    found = shutil.which("quarto")
    return Path(found) if found else None


def quarto_command(
    quarto: Path | str,
    document: Path,
    edition: Edition,
    params_file: Path,
    output_dir: Path,
    to: str = "html",
) -> list[str]:
    """The ``quarto render`` command line of one edition.

    Parameters go through a YAML file (``--execute-params``) rather than ``-P``
    because ``-P`` reads each value as YAML: an institution id of digits would
    become a number and lose leading zeros.

    Examples
    --------
    >>> cmd = quarto_command("quarto", Path("r/a.qmd"), Edition(2025), Path("p.yml"), Path("o"))
    >>> cmd[:5]
    ['quarto', 'render', 'r/a.qmd', '--to', 'html']
    >>> cmd[5:]
    ['--output', 'national.html', '--output-dir', 'o', '--execute-params', 'p.yml', '-M', 'subtitle:2025 · Nasjonal utgave', '-M', 'toc-title:Innhold', '-M', 'running-title:Årsrapport ARR']
    """
    extension = "pdf" if to == "typst" else "html"
    return [
        str(quarto),
        "render",
        str(document),
        "--to",
        to,
        "--output",
        f"{edition.stem}.{extension}",
        "--output-dir",
        str(output_dir),
        "--execute-params",
        str(params_file),
        *(arg for key, value in edition.metadata.items() for arg in ("-M", f"{key}:{value}")),
    ]


_RANDOM_CELL_ID = re.compile(r'<div id="[0-9a-f]{8}" class="cell"')


def stable_cell_ids(page: str) -> str:
    """Number Quarto's random ids of unlabelled cells in order (``cell-u001``, …).

    Quarto gives a cell without a ``label`` a random 8-hex id when it reads
    the ``.qmd``, so two renders of the same inputs differ in those bytes
    only; nothing in the page refers to them.

    Examples
    --------
    >>> stable_cell_ids('<div id="dd1c47d5" class="cell"><div id="0a1b2c3d" class="cell">')
    '<div id="cell-u001" class="cell"><div id="cell-u002" class="cell">'
    """
    counter = iter(range(1, 1_000_000))
    return _RANDOM_CELL_ID.sub(lambda _: f'<div id="cell-u{next(counter):03d}" class="cell"', page)


def localised_document_path(document: Path, lang: str) -> Path:
    """Where Quarto reads the document in ``lang`` from: beside it, the language in its name.

    Inside the Quarto project (a name starting with ``_`` or ``.`` would leave
    it out of the project, and ``--output-dir`` works only for project files).

    Examples
    --------
    >>> localised_document_path(Path("reports/arsrapport.qmd"), "en").as_posix()
    'reports/arsrapport-en.qmd'
    """
    return document.parent / f"{document.stem}-{lang}{document.suffix}"


def render_with_quarto(
    quarto: Path,
    edition: Edition,
    params: dict[str, Any],
    year_dir: Path,
    pdf: bool,
    document: Path = REPORT_DOCUMENT,
) -> list[Path]:
    """Render one edition with Quarto into ``year_dir`` (HTML, and PDF when asked).

    Quarto renders the document in the edition's language
    (:func:`arr_stats.labels.localise_document`): a copy beside the document
    (so that ``_quarto.yml`` and the style sheet apply,
    :func:`localised_document_path`), removed after.
    """
    written = []
    localised = localised_document_path(document, edition.lang)
    localised.write_text(
        localise_document(document.read_text(encoding="utf-8"), edition.lang), encoding="utf-8"
    )
    try:
        written = _render_document(quarto, localised, edition, params, year_dir, pdf)
    finally:
        localised.unlink(missing_ok=True)
    return written


def _render_document(
    quarto: Path,
    document: Path,
    edition: Edition,
    params: dict[str, Any],
    year_dir: Path,
    pdf: bool,
) -> list[Path]:
    written = []
    with tempfile.TemporaryDirectory(prefix="arr-quarto-") as tmp:
        params_file = Path(tmp) / "params.yml"
        params_file.write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
        for to in ("html", "typst") if pdf else ("html",):
            out = Path(tmp) / f"out-{to}"
            cmd = quarto_command(quarto, document, edition, params_file, out, to)
            done = subprocess.run(
                cmd,
                cwd=document.parent,
                env=kernel_env(),
                capture_output=True,
                text=True,
                check=False,
            )
            name = cmd[cmd.index("--output") + 1]
            produced = out / name
            if done.returncode != 0 or not produced.is_file():
                tail = "\n".join((done.stderr or done.stdout or "").strip().splitlines()[-25:])
                raise ArrStatsError(
                    f"quarto failed on the {edition.stem} edition ({to}, exit status "
                    f"{done.returncode}):\n{tail}"
                )
            target = year_dir / name
            if to == "html":
                page = produced.read_text(encoding="utf-8")
                produced.write_text(stable_cell_ids(page), encoding="utf-8")
            shutil.move(str(produced), target)
            written.append(target)
    return written
