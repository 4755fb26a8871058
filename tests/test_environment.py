"""The lock file and environment.yml pin the same versions (issue: reproducible environment)."""

from __future__ import annotations

import re

from arr_stats.config import PROJECT_ROOT

CONDA_TO_PYPI = {"matplotlib-base": "matplotlib"}


def _norm(name: str) -> str:
    name = re.sub(r"[-_.]+", "-", name).lower()
    return CONDA_TO_PYPI.get(name, name)


def lock_pins() -> dict[str, str]:
    pins = {}
    for line in (PROJECT_ROOT / "requirements.lock").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.partition(";")[0].split("==")  # drop a marker
            pins[_norm(name)] = version.strip()
    return pins


def env_pins() -> dict[str, str]:
    pins = {}
    for line in (PROJECT_ROOT / "environment.yml").read_text().splitlines():
        m = re.match(r"^\s*-\s*([A-Za-z0-9_.\-]+)==?([0-9][^\s#]*)", line)
        if m:
            pins[_norm(m.group(1))] = m.group(2)
    return pins


def test_environment_pins_equal_the_lock():
    lock, env = lock_pins(), env_pins()
    shared = set(lock) & set(env)
    disagree = {n: (lock[n], env[n]) for n in shared if lock[n] != env[n]}
    assert not disagree, f"requirements.lock and environment.yml disagree: {disagree}"


def test_environment_pins_every_direct_dependency():
    # Every package pyproject.toml depends on (runtime and dev) is pinned in both.
    text = (PROJECT_ROOT / "pyproject.toml").read_text()
    direct = {_norm(m) for m in re.findall(r'^\s*"([A-Za-z0-9_.\-]+)[><=]', text, flags=re.M)}
    lock, env = lock_pins(), env_pins()
    assert direct - set(lock) == set()
    assert direct - set(env) - {"python"} == set()


#: The Pythons the lock serves; `make wheelhouse` and tests/test_wheelhouse.py install it on each.
SUPPORTED_PYTHONS = ("3.11", "3.12", "3.13")


def _lock_markers() -> dict[str, str]:
    markers = {}
    for line in (PROJECT_ROOT / "requirements.lock").read_text().splitlines():
        pin, _, marker = line.partition(";")
        if marker.strip():
            markers[_norm(pin.split("==")[0])] = marker.strip()
    return markers


def test_lock_holds_what_each_locked_package_needs_on_every_supported_python():
    # `make lock` resolves on one Python; a package may need more on another
    # (papermill needs aiohttp on 3.12 only). Those are pinned with a marker.
    from importlib.metadata import PackageNotFoundError, distribution

    from packaging.requirements import Requirement

    lock, markers = lock_pins(), _lock_markers()
    missing = set()
    for name in lock:
        try:
            requires = distribution(name).requires or []
        except PackageNotFoundError:
            assert name in markers, f"{name} is locked for every Python but not installed"
            continue  # pinned for another Python only
        for req in map(Requirement, requires):
            for python in SUPPORTED_PYTHONS:
                env = {"python_version": python, "python_full_version": f"{python}.0"}
                env |= {"sys_platform": "linux", "platform_system": "Linux", "extra": ""}
                if (req.marker is None or req.marker.evaluate(env)) and _norm(req.name) not in lock:
                    missing.add(f"{name} needs {req} on Python {python}")
    assert not missing, "requirements.lock lacks:\n" + "\n".join(sorted(missing))
