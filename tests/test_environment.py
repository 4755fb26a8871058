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
            name, version = line.split("==")
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
