"""docs/architecture.md is the map of the package: every module has its line there."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "arr_stats"


def _modules() -> set[str]:
    found = set()
    for path in PACKAGE.rglob("*.py"):
        if path.name == "__init__.py":
            continue
        found.add(".".join(path.relative_to(PACKAGE).with_suffix("").parts))
    return found


def test_every_module_has_a_line_in_the_architecture_map():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    mapped = set(re.findall(r"^\| `([a-z_.]+)` \|", text, flags=re.M))
    modules = _modules()
    assert modules, "no module found: the test would be empty"
    assert modules - mapped == set(), "modules missing from docs/architecture.md"
    # and the map names no module that is gone
    assert mapped - modules == set(), "docs/architecture.md names modules that do not exist"
