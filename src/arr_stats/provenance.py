"""Provenance of a run: code version, package versions, input hashes.

Used by ``build.json`` and reusable by the report. Nothing here records a
time: the same code, environment and inputs give the same provenance, so
derived outputs stay byte-for-byte reproducible.
"""

from __future__ import annotations

import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from arr_stats.config import PROJECT_ROOT
from arr_stats.io import sha256_file

#: Distributions whose versions are recorded (those that shape the outputs).
RECORDED_PACKAGES: tuple[str, ...] = (
    "arr-stats",
    "numpy",
    "pandas",
    "pyarrow",
    "pyreadstat",
    "pyyaml",
    "lifelines",
    "statsmodels",
    "scipy",
    "matplotlib",
)


def package_versions(names: tuple[str, ...] = RECORDED_PACKAGES) -> dict[str, str | None]:
    """Installed version of each distribution (``None`` when not installed).

    Examples
    --------
    >>> package_versions(("pandas", "no-such-distribution"))["no-such-distribution"] is None
    True
    """
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def git_state(root: Path = PROJECT_ROOT) -> dict[str, Any]:
    """The git commit of the source tree and whether it has uncommitted changes.

    Returns ``{"commit": None, "dirty": None}`` outside a git checkout (e.g. an
    installed wheel in TSD) or when git is not available.
    """

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(root), *args],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return {"commit": None, "dirty": None}
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit.strip(), "dirty": None if status is None else bool(status.strip())}


def input_hashes(paths: dict[str, Path]) -> dict[str, str]:
    """SHA-256 of each input file, keyed by its label (e.g. ``nav/ytelser.csv``)."""
    return {label: sha256_file(path) for label, path in sorted(paths.items())}


def dictionary_hashes(files: tuple[Path, ...], base: Path) -> dict[str, str]:
    """SHA-256 of each data-dictionary file, keyed by its path relative to ``base``."""
    return {str(Path(f).relative_to(base)): sha256_file(f) for f in files}
