"""Shared fixtures: a small hand-made delivery, and the synthetic demo delivery built once.

Also the hooks for tools a machine may be unable to have (tests/tools.py):
a test marked ``quarto`` or ``needs("python3.12")`` runs where the tool is
there or ``make system-deps`` can install it, and fails if it is still
missing; where it cannot be had at all it is not run, and the run's last
lines say so loudly. With ``CI=true`` nothing is left out: a missing tool
fails its tests.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest

import tools
from arr_stats.config import DEMO_CONFIG, RunConfig, load_config

NOT_RUN = pytest.StashKey[dict[str, list[str]]]()


def pytest_configure(config: pytest.Config) -> None:
    tools.use_project_quarto()


def _optional_tools(item: pytest.Item) -> list[str]:
    names = [m.args[0] for m in item.iter_markers("needs")]
    return names + (["quarto"] if item.get_closest_marker("quarto") else [])


@pytest.hookimpl(trylast=True)  # after -m/-k: name only tests that would have run
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("CI") == "true":
        return  # CI has every tool: a missing one fails its tests
    not_run: dict[str, list[str]] = {}
    keep = []
    for item in items:
        lacking = [name for name in _optional_tools(item) if not tools.can_have(name)]
        for name in lacking:
            not_run.setdefault(name, []).append(item.nodeid)
        if not lacking:
            keep.append(item)
    if not_run:
        config.hook.pytest_deselected(items=[i for i in items if i not in keep])
        items[:] = keep
        config.stash[NOT_RUN] = not_run


def pytest_runtest_setup(item: pytest.Item) -> None:
    for name in _optional_tools(item):
        tools.require_tool(name)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    for name, nodeids in config.stash.get(NOT_RUN, {}).items():
        terminalreporter.write_sep(
            "!",
            f"NOT RUN: {len(nodeids)} test(s) need {name}, which this machine cannot have "
            f"(see tests/tools.py); with CI=true they fail",
            red=True,
            bold=True,
        )
        for nodeid in nodeids:
            terminalreporter.write_line(f"  not run: {nodeid}", red=True)


#: A small, hand-made, valid delivery (CSV) whose every row is worked out in
#: tests/test_build.py; data end 2025-12-31.
SMALL_DELIVERY = Path(__file__).parent / "bad_inputs" / "base"
SMALL_DATA_END = dt.date(2025, 12, 31)


def delivery_config(delivery: Path, derived: Path, data_end: dt.date) -> RunConfig:
    """The demo configuration pointed at another delivery and output folder."""
    return load_config(DEMO_CONFIG).with_overrides(
        registry_dir=delivery / "registry",
        nav_dir=delivery / "nav",
        derived_dir=derived,
        data_end=data_end,
    )


@pytest.fixture(scope="session")
def config_for():
    """``config_for(delivery, derived, data_end)``: a :class:`RunConfig` for a test delivery."""
    return delivery_config


@pytest.fixture
def small_delivery(tmp_path: Path) -> Path:
    """A fresh copy of the small hand-made delivery (``registry/``, ``nav/``) to edit."""
    target = tmp_path / "delivery"
    shutil.copytree(SMALL_DELIVERY, target)
    return target


@pytest.fixture(scope="session")
def demo_params():
    """Parameters of the synthetic delivery the session's tests share (small, fast)."""
    from arr_stats.synth.params import SynthParams

    return SynthParams(persons=400)


@pytest.fixture(scope="session")
def demo_delivery(tmp_path_factory: pytest.TempPathFactory, demo_params) -> Path:
    """A synthetic raw delivery (``registry/``, ``nav/``), written once per session."""
    from arr_stats.synth.write import write_delivery

    out = tmp_path_factory.mktemp("demo_delivery")
    write_delivery(out, demo_params)
    return out


@pytest.fixture(scope="session")
def demo_derived(
    tmp_path_factory: pytest.TempPathFactory, demo_delivery: Path, demo_params
) -> Path:
    """The derived tables of :func:`demo_delivery`, built once per session."""
    from arr_stats.derive.build import run_build

    out = tmp_path_factory.mktemp("demo_derived")
    run_build(delivery_config(demo_delivery, out, demo_params.data_end))
    return out
