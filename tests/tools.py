"""System tools some tests need (R with haven, GNU PSPP, ReadStat), found or named.

A test that writes a delivery with a real producer calls :func:`require_tool`
first: when the tool is missing the test fails – it is never skipped – with a
message that says how to install it.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def require_tool(name: str) -> str:
    """The path of a command-line tool, or a test failure naming it.

    Parameters
    ----------
    name
        The command, e.g. ``Rscript``, ``pspp``, ``readstat``.

    Returns
    -------
    str
        The tool's path.
    """
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"needs {name}: install with make system-deps", pytrace=False)
    return path


def run_r(script: str, folder: Path) -> None:
    """Run an R script (written to ``folder/script.R``) with ``Rscript``; fail on an error."""
    rscript = require_tool("Rscript")
    path = folder / "script.R"
    path.write_text(script, encoding="utf-8")
    done = subprocess.run(
        [rscript, "--vanilla", str(path)], capture_output=True, text=True, cwd=folder, check=False
    )
    assert done.returncode == 0, f"R failed:\n{done.stdout}\n{done.stderr}"


def run_pspp(syntax: str, folder: Path) -> None:
    """Run a PSPP syntax file (written to ``folder/syntax.sps``); fail on an error."""
    pspp = require_tool("pspp")
    path = folder / "syntax.sps"
    path.write_text(syntax, encoding="utf-8")
    done = subprocess.run(
        [pspp, "-O", "format=txt", str(path)],
        capture_output=True,
        text=True,
        cwd=folder,
        check=False,
    )
    assert done.returncode == 0 and "error" not in done.stdout.lower(), done.stdout + done.stderr
