"""Rewrite the version pins of environment.yml from requirements.lock.

`make lock` runs this after resolving the lock, so the conda environment for
TSD and the venv pin the same versions of every package they share. A test
(tests/test_environment.py) fails if they ever disagree.

Only lines of the form `  - name=version` (conda) or `      - name==version`
(pip section) are touched; everything else in environment.yml is kept.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(
    r"^(?P<indent>\s*-\s*)(?P<name>[A-Za-z0-9_.\-]+)(?P<op>==?)(?P<version>[^\s#]+)(?P<rest>.*)$"
)


#: conda-forge names whose PyPI distribution has another name.
CONDA_TO_PYPI = {"matplotlib-base": "matplotlib"}


def normalise(name: str) -> str:
    """PEP 503 name, with conda-forge names mapped to their PyPI distribution."""
    name = re.sub(r"[-_.]+", "-", name).lower()
    return CONDA_TO_PYPI.get(name, name)


def read_lock(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "==" in line:
            name, version = line.partition(";")[0].split("==", 1)  # drop a marker
            pins[normalise(name)] = version.strip()
    return pins


def main() -> int:
    lock = read_lock(ROOT / "requirements.lock")
    env_path = ROOT / "environment.yml"
    lines = env_path.read_text(encoding="utf-8").splitlines()
    changed = 0
    for i, line in enumerate(lines):
        m = PIN.match(line)
        if m and normalise(m["name"]) in lock and m["version"] != lock[normalise(m["name"])]:
            lines[i] = f"{m['indent']}{m['name']}{m['op']}{lock[normalise(m['name'])]}{m['rest']}"
            changed += 1
    env_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"environment.yml: {changed} pin(s) updated from requirements.lock")
    return 0


if __name__ == "__main__":
    sys.exit(main())
