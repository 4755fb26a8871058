"""Loading the derived tables of a build: the one entry point for notebooks and reports.

Notebooks and the report read derived tables only through :func:`load_derived`,
never by path, so a researcher in TSD switches from the demo to real data by
naming another run configuration.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from arr_stats.config import DEMO_CONFIG, RunConfig, load_config
from arr_stats.errors import ArrStatsError
from arr_stats.io import read_parquet

#: The Parquet tables every build writes (docs/architecture.md); build.py writes these.
PARQUET_TABLES = (
    "episodes",
    "responses",
    "benefits",
    "employment",
    "persons",
    "institutions",
    "outcomes",
    "daily_states",
    "issues",
)
#: The small CSV tables every build writes.
CSV_TABLES = ("row_accounting", "linkage")


@dataclass(frozen=True)
class Derived:
    """The derived tables of one build, and the configuration that made them."""

    config: RunConfig
    directory: Path
    episodes: pd.DataFrame
    responses: pd.DataFrame
    benefits: pd.DataFrame
    employment: pd.DataFrame
    persons: pd.DataFrame
    institutions: pd.DataFrame
    outcomes: pd.DataFrame
    daily_states: pd.DataFrame
    issues: pd.DataFrame
    row_accounting: pd.DataFrame
    linkage: pd.DataFrame
    build: dict[str, Any]


def load_derived(
    config: RunConfig | str | Path | None = None, derived_dir: str | Path | None = None
) -> Derived:
    """Read every derived table of a build.

    Parameters
    ----------
    config
        A :class:`RunConfig`, or the path of a TOML run configuration; default:
        the synthetic demo (``analysis/demo.toml``).
    derived_dir
        Overrides the configuration's ``derived`` folder.

    Returns
    -------
    Derived
    """
    if config is None or isinstance(config, str | Path):
        config = load_config(config or DEMO_CONFIG)
    directory = Path(derived_dir) if derived_dir else config.derived_dir
    missing = [t for t in PARQUET_TABLES if not (directory / f"{t}.parquet").is_file()]
    missing += [t for t in CSV_TABLES if not (directory / f"{t}.csv").is_file()]
    if missing:
        raise ArrStatsError(
            f"{directory}: derived tables missing ({', '.join(missing)}); "
            f"run `arr-stats build --config {config.source or 'CONFIG'}` first"
        )
    tables = {t: read_parquet(directory / f"{t}.parquet") for t in PARQUET_TABLES}
    csvs = {t: pd.read_csv(directory / f"{t}.csv") for t in CSV_TABLES}
    build = json.loads((directory / "build.json").read_text(encoding="utf-8"))
    return Derived(config=config, directory=directory, build=build, **tables, **csvs)
