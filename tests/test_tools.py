"""The tests' system tools: tools/system_deps.sh, require_tool and the not-run report.

tools/system_deps.sh runs here on a PATH of fakes with ``--dry-run``, so each
situation (all missing on Debian as root, not root, not Debian, all present,
Quarto not to be had) is tried without installing anything. The pytest hooks
of conftest.py run in a pytest of their own on a machine without Quarto.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tools import PROJECT_ROOT, require_tool

SCRIPT = PROJECT_ROOT / "tools" / "system_deps.sh"
TEST_PACKAGES = (
    "chromium pspp readstat poppler-utils r-base-core "
    "r-cran-survival r-cran-cmprsk r-cran-nlme r-cran-haven"
)
#: What the script itself runs, taken from this machine into the fake PATH.
UTILITIES = ("bash", "cat", "dirname", "mkdir", "rm", "sha256sum", "tail", "tar")


def _fake(bin_dir: Path, name: str, body: str = "exit 0") -> None:
    path = bin_dir / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


def _machine(tmp_path: Path, *, os_id: str = "debian", uid: int = 0, tools: bool = False) -> dict:
    """Environment for system_deps.sh: a PATH of fakes, an os-release, no Quarto bundle."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in UTILITIES:
        real = subprocess.run(["which", name], capture_output=True, text=True).stdout.strip()
        (bin_dir / name).symlink_to(real)
    _fake(bin_dir, "id", f"echo {uid}")
    _fake(bin_dir, "apt-get", "echo 'apt-get ran' >&2; exit 1")  # --dry-run must not run it
    if tools:
        for name in ("chromium", "pspp", "readstat", "pdftoppm", "Rscript", "npm"):
            _fake(bin_dir, name)  # Rscript prints no missing package
    os_release = tmp_path / "os-release"
    os_release.write_text(f'ID={os_id}\nPRETTY_NAME="{os_id}"\n')
    return {
        "PATH": str(bin_dir),
        "PYTHON": sys.executable,
        "OS_RELEASE": str(os_release),
        "QUARTO_BUNDLE": str(tmp_path / "no-bundle"),
        "QUARTO_DIR": str(tmp_path / "quarto"),
    }


def _bundle(tmp_path: Path) -> Path:
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "install.sh").write_text("echo installing\n")
    (bundle / "quarto-src.tgz").write_bytes(b"not really a tarball")
    return bundle


def _run(env: dict, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), *args], env=env, capture_output=True, text=True, check=False
    )


def test_debian_as_root_installs_what_is_missing_with_one_apt_get(tmp_path):
    env = _machine(tmp_path)
    env["QUARTO_BUNDLE"] = str(_bundle(tmp_path))
    done = _run(env, "--dry-run")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"system tools: installing {TEST_PACKAGES} npm",
        "would run: apt-get update -qq",
        f"would run: apt-get install -y -qq --no-install-recommends {TEST_PACKAGES} npm",
        "system tools: apt-get took 0 s",
        f"would run: bash {env['QUARTO_BUNDLE']}/install.sh {env['QUARTO_DIR']}",
    ]


def test_nothing_missing_runs_no_apt_get(tmp_path):
    env = _machine(tmp_path, tools=True)
    bundle = _bundle(tmp_path)
    env["QUARTO_BUNDLE"] = str(bundle)
    quarto = Path(env["QUARTO_DIR"])
    (quarto / "dist" / "bin").mkdir(parents=True)
    _fake(quarto / "dist" / "bin", "quarto")
    stamp = subprocess.run(
        f"cat {bundle}/install.sh {bundle}/quarto-src.tgz | sha256sum",
        shell=True,
        capture_output=True,
        text=True,
    ).stdout
    (quarto / ".bundle").write_text(stamp)
    done = _run(env)  # not a dry run: the fake apt-get would fail if it were called
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "system tools: chromium, pspp, readstat, pdftoppm, R (survival cmprsk nlme haven) "
        f"present; quarto: {quarto}"
    ]
    # a changed bundle is installed again
    (bundle / "install.sh").write_text("echo a newer bundle\n")
    assert "would run: bash" in _run(env, "--dry-run").stdout


@pytest.mark.parametrize(
    ("os_id", "uid", "why"),
    [
        ("debian", 1000, "not root: run 'sudo make system-deps' to install them with apt-get"),
        ("fedora", 0, "this machine is not Debian/Ubuntu"),
    ],
)
def test_elsewhere_one_message_names_each_missing_tool(tmp_path, os_id, uid, why):
    env = _machine(tmp_path, os_id=os_id, uid=uid)
    done = _run(env)
    assert done.returncode == 1
    assert done.stdout == ""  # stopped before running anything
    lines = done.stderr.splitlines()
    assert lines[0] == f"arr-stats's tests need these system tools, missing here ({why}):"
    named = [line.split(":")[0].strip("- ") for line in lines[1:]]
    assert named == [
        "chromium",
        "pspp",
        "readstat",
        "pdftoppm",
        "Rscript",
        *(f"the R package {p}" for p in ("survival", "cmprsk", "nlme", "haven")),
    ]
    assert all("install" in line for line in lines[1:])  # each says how to get it


def test_venv_only_checks_the_venv_module(tmp_path):
    env = _machine(tmp_path, uid=1000)
    assert _run(env, "venv").returncode == 0  # nothing else is asked for
    _fake(tmp_path / "bin", "python-without-venv", "exit 1")
    env["PYTHON"] = str(tmp_path / "bin" / "python-without-venv")
    done = _run(env, "venv")
    assert done.returncode == 1
    assert "the venv module of" in done.stderr and "python3-venv" in done.stderr


def test_quarto_that_cannot_be_had_is_said_and_not_an_error(tmp_path):
    env = _machine(tmp_path, tools=True)
    done = _run(env)
    assert done.returncode == 0, done.stderr
    assert "quarto: NOT AVAILABLE here" in done.stdout
    assert "will be reported as not run" in done.stdout


def test_require_tool_names_the_missing_tool(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(pytest.fail.Exception, match="readstat is needed by this test") as exc:
        require_tool("readstat")
    assert "make system-deps" in str(exc.value)
    _fake(tmp_path, "readstat")
    assert require_tool("readstat") == str(tmp_path / "readstat")


PROBE = PROJECT_ROOT / "tests" / "test_tools.py::test_quarto_renders_with_parameters"


def _pytest_without_quarto(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "QUARTO_PYTHON")}
    env |= {"PATH": os.path.dirname(sys.executable) + ":/usr/bin:/bin"}
    env |= {"QUARTO_DIR": str(tmp_path / "none"), "QUARTO_BUNDLE": str(tmp_path / "none")}
    if ci:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", str(PROBE)],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_quarto_tests_not_run_where_quarto_cannot_be_had_and_said_last(tmp_path):
    done = _pytest_without_quarto(tmp_path, ci=None)
    assert done.returncode == 5, done.stdout  # pytest: no test ran
    last = done.stdout.splitlines()[-3:]
    assert "NOT RUN: 1 test(s) need quarto, which this machine cannot have" in last[0]
    assert last[1].strip() == "not run: tests/test_tools.py::test_quarto_renders_with_parameters"
    assert "1 deselected" in last[-1]


def test_quarto_tests_fail_in_ci_where_quarto_is_missing(tmp_path):
    done = _pytest_without_quarto(tmp_path, ci="true")
    assert done.returncode == 1
    assert "quarto is needed by this test and is not installed" in done.stdout
    assert "1 error" in done.stdout.splitlines()[-1]  # at its setup, before the test runs


QMD = """---
title: probe
format:
  html:
    embed-resources: true
jupyter: python3
---

```{python}
#| tags: [parameters]
year = 2000
```

```{python}
import sys, arr_stats
print(f"year={year} prefix={sys.prefix}")
```
"""


@pytest.mark.quarto
def test_quarto_renders_with_parameters(tmp_path):
    # The Quarto the tests use (.tools/quarto from make system-deps, or one on
    # the PATH) runs the project's Python, where arr_stats is, and passes -P
    # parameters (through papermill, which the lock holds for this).
    doc = tmp_path / "probe.qmd"
    doc.write_text(QMD, encoding="utf-8")
    done = subprocess.run(
        [require_tool("quarto"), "render", str(doc), "-P", "year:2031"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    page = (tmp_path / "probe.html").read_text(encoding="utf-8")
    assert f"year=2031 prefix={sys.prefix}" in page
