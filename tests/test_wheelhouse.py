"""The offline install TSD uses: the wheelhouse of each supported Python (issue 14, item 2).

For each Python: ``tools/wheelhouse.py`` (``make wheelhouse PYTHON_VERSION=…``)
gathers every locked package as a wheel for it; a clean venv of that Python
installs them with ``--no-index`` and no pip configuration (nothing but the
wheelhouse), then the project as README.md's "Inside TSD" says; its
``arr-stats synth`` and ``arr-stats build --config analysis/demo.toml`` make the
session's demo delivery and derived tables again, and they must be the same
as this venv's.

Slow (minutes: downloads and two clean venvs, the Pythons side by side):
``make test-wheelhouse`` runs it, and ``make test`` where ``CI=true``; see
README.md, "Inside TSD".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from arr_stats.derive.load import PARQUET_TABLES
from tools import PROJECT_ROOT, require_tool

#: The Pythons each wheelhouse is tested on (tests/test_environment.py: the lock serves 3.11–3.13).
TESTED_PYTHONS = ("3.11", "3.12")

pytestmark = [pytest.mark.slow, pytest.mark.wheelhouse]


def _run(cmd: list, env: dict | None = None, cwd: Path | None = None) -> str:
    done = subprocess.run(
        [str(c) for c in cmd], capture_output=True, text=True, env=env, cwd=cwd, check=False
    )
    assert done.returncode == 0, f"{' '.join(map(str, cmd))}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _offline_env() -> dict[str, str]:
    """No index, no find-links, no pip configuration file: only what the command names."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    return env | {"PIP_CONFIG_FILE": os.devnull, "PIP_NO_INDEX": "1"}


def _install_and_build(version: str, python: str, work: Path, demo_params) -> Path:
    """Wheelhouse, clean venv, offline install, synth and build, in ``work``."""
    _run(
        [sys.executable, "tools/wheelhouse.py", "--python-version", version, "--out", work],
        cwd=PROJECT_ROOT,
    )
    (house,) = work.glob(f"py{version}-*")
    venv = work / "venv"
    _run([python, "-m", "venv", venv])
    # README's route (--no-compile only spares the test writing .pyc files)
    pip = [venv / "bin" / "python", "-m", "pip", "install", "-q", "--no-compile"]
    pip += ["--find-links", house]
    _run([*pip, "-r", PROJECT_ROOT / "requirements.lock"], env=_offline_env())
    _run([*pip, "--no-deps", "-e", PROJECT_ROOT], env=_offline_env())
    said = _run([venv / "bin" / "python", "-c", "import sys; print(sys.version)"])
    assert said.startswith(f"{version}."), said

    arr = venv / "bin" / "arr-stats"
    raw, derived = work / "raw", work / "derived"
    _run([arr, "synth", "--out", raw, "--persons", demo_params.persons])
    config = PROJECT_ROOT / "analysis" / "demo.toml"
    _run(
        [arr, "build", "--config", config, "--registry", raw / "registry", "--nav", raw / "nav"]
        + ["--out", derived]
    )
    return work


@pytest.fixture(scope="module")
def installed(tmp_path_factory, demo_params) -> dict[str, Path | BaseException]:
    """Each tested Python this machine has, installed and built; both at once (threads)."""
    from concurrent.futures import ThreadPoolExecutor

    from tools import find_python

    found = {v: find_python(v) for v in TESTED_PYTHONS}
    with ThreadPoolExecutor(max_workers=len(TESTED_PYTHONS)) as pool:
        futures = {
            v: pool.submit(
                _install_and_build, v, python, tmp_path_factory.mktemp(f"py{v}"), demo_params
            )
            for v, python in found.items()
            if python
        }
    return {v: f.exception() or f.result() for v, f in futures.items()}


@pytest.mark.parametrize(
    "version", [pytest.param(v, marks=pytest.mark.needs(f"python{v}")) for v in TESTED_PYTHONS]
)
def test_wheelhouse_installs_offline_and_builds_the_demo(
    version, installed, demo_delivery, demo_derived
):
    require_tool(f"python{version}")
    work = installed[version]
    if isinstance(work, BaseException):
        raise work
    for path in demo_delivery.rglob("*.*"):
        made = work / "raw" / path.relative_to(demo_delivery)
        assert made.read_bytes() == path.read_bytes(), made
    derived = work / "derived"
    for table in PARQUET_TABLES:
        pd.testing.assert_frame_equal(
            pd.read_parquet(derived / f"{table}.parquet"),
            pd.read_parquet(demo_derived / f"{table}.parquet"),
            obj=f"{table} built on Python {version}",
        )
    # the build records the locked versions it ran with
    lock = dict(
        line.partition(";")[0].strip().lower().split("==")
        for line in (PROJECT_ROOT / "requirements.lock").read_text().splitlines()
        if "==" in line
    )
    packages = json.loads((derived / "build.json").read_text())["packages"]
    assert {k: v for k, v in packages.items() if k != "arr-stats"} == {
        k: lock[k] for k in packages if k != "arr-stats"
    }
