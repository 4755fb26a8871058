"""System tools the tests need: find one, or fail naming it and how to get it.

``make test`` installs them first (``tools/system_deps.sh``, also
``make system-deps``). A test that needs a tool calls :func:`require_tool`; if
the tool is missing the test fails with a message naming it, never skips.

:func:`run_r` and :func:`run_pspp` run a script with a real producer of
delivery files (R's haven, GNU PSPP) and fail when it does.

Two kinds of tool a machine may be unable to have at all: Quarto (offline,
without the ``../shared/quarto`` bundle) and a second Python for the
wheelhouse test. Tests needing them carry ``@pytest.mark.quarto`` or
``@pytest.mark.needs("python3.12")``; ``conftest.py`` reports them as not run
where the tool cannot be had, and runs them (so they fail) where ``CI=true``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
#: Where ``make system-deps`` installs Quarto from ../shared/quarto (ignored by git);
#: both overridable as in tools/system_deps.sh.
QUARTO_DIR = PROJECT_ROOT / os.environ.get("QUARTO_DIR", ".tools/quarto")
QUARTO_BUNDLE = PROJECT_ROOT / os.environ.get("QUARTO_BUNDLE", "../shared/quarto")

#: Other names a tool goes by.
ALIASES = {"chromium": ("chromium", "chromium-browser")}
HOW = (
    "`make system-deps` installs it (Debian/Ubuntu as root; elsewhere it names "
    "how to get it), and `make test` runs that first"
)


def use_project_quarto(environ: dict[str, str] | os._Environ = os.environ) -> bool:
    """Put the Quarto of ``.tools/quarto`` first on the PATH, if it is installed.

    Quarto's Jupyter engine then runs the project's ``.venv`` Python
    (``QUARTO_PYTHON``), where arr_stats and papermill are.
    """
    bin_dir = QUARTO_DIR / "dist" / "bin"
    if not (bin_dir / "quarto").is_file():
        return False
    environ["PATH"] = f"{bin_dir}{os.pathsep}{environ.get('PATH', '')}"
    venv_python = PROJECT_ROOT / ".venv" / "bin" / "python"
    if venv_python.is_file():
        environ.setdefault("QUARTO_PYTHON", str(venv_python))
    return True


def find_python(version: str) -> str | None:
    """An interpreter of Python ``version`` (``"3.12"``): on the PATH or in pyenv."""
    candidates = [shutil.which(f"python{version}")]
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += sorted(map(str, pyenv_root.glob(f"versions/{version}.*/bin/python{version}")))
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys, venv; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return candidate
    return None


def find_tool(name: str) -> str | None:
    """The path of program ``name`` (``python3.X``: that Python), or ``None``."""
    if re.fullmatch(r"python3\.\d+", name):
        return find_python(name.removeprefix("python"))
    return next(filter(None, map(shutil.which, ALIASES.get(name, (name,)))), None)


def can_have(name: str) -> bool:
    """Whether this machine has ``name`` or ``make system-deps`` can install it here."""
    if find_tool(name):
        return True
    if name == "quarto":
        return (QUARTO_BUNDLE / "install.sh").is_file()
    return not re.fullmatch(r"python3\.\d+", name)  # no Python is installed for the tests


def require_tool(name: str) -> str:
    """The path of program ``name``; fails the calling test, naming the tool, if missing."""
    found = find_tool(name)
    if found is None:
        how = HOW
        if re.fullmatch(r"python3\.\d+", name):
            how = "install that Python (pyenv install, uv python install, or the OS's package)"
        elif name == "quarto" and not (QUARTO_BUNDLE / "install.sh").is_file():
            how = f"install Quarto (its installer or conda-forge); there is no {QUARTO_BUNDLE}"
        pytest.fail(f"{name} is needed by this test and is not installed: {how}", pytrace=False)
    return found


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
