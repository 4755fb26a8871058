"""The indicator files of a report year: the aggregated file and the results-portal upload rows."""

from __future__ import annotations

from pathlib import Path

from arr_stats.config import RunConfig

#: The aggregated indicators of the report year, next to the editions.
INDICATORS_FILE = "indicators.csv"


def upload_file_name(year: int) -> str:
    """Name of the per-episode upload rows of ``year`` in the derived folder.

    Examples
    --------
    >>> upload_file_name(2025)
    'indicator_upload_2025.csv'
    """
    return f"indicator_upload_{year}.csv"


def write_indicator_files(
    config: RunConfig, derived_dir: Path, year: int, year_dir: Path
) -> list[Path]:
    """Write the indicators of ``year``.

    The aggregated values, already disclosed, go to ``year_dir/indicators.csv``
    beside the editions. The per-episode upload rows (results-portal shape) are
    row-level data: they go to the derived folder, which stays inside TSD, and
    never to the report folder.

    Returns
    -------
    list of Path
        The aggregated file, then the upload file.
    """
    from arr_stats import indicators
    from arr_stats.derive.load import load_derived

    derived = load_derived(config, derived_dir)
    tables = (derived.episodes, derived.responses, derived.outcomes)
    aggregated = indicators.aggregate_indicators(
        *tables, derived.institutions, derived.config, [year], disclose=True
    )
    upload = indicators.episode_indicators(*tables, derived.config, [year])
    aggregated_path = year_dir / INDICATORS_FILE
    upload_path = Path(derived_dir) / upload_file_name(year)
    aggregated.to_csv(aggregated_path, index=False, lineterminator="\n")
    upload.to_csv(upload_path, index=False, lineterminator="\n")
    return [aggregated_path, upload_path]
