"""Shared fixtures: a small hand-made delivery, and the synthetic demo delivery built once."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from arr_stats.config import DEMO_CONFIG, RunConfig, load_config

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
