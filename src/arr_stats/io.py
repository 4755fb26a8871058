"""Writing and reading derived tables (Parquet) and small text outputs.

Derived tables keep dates as Parquet ``date32`` (dates, not timestamps) and
codes as dictionary-encoded (categorical) columns. In memory, dates are
``datetime64[ns]`` so that date arithmetic is vectorised.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    """Write a derived table; datetime columns whose values are whole days become dates.

    The output is deterministic: same frame, same bytes.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(df, preserve_index=False)
    fields = []
    for f in table.schema:
        if pa.types.is_timestamp(f.type):
            col = df[f.name]
            whole_days = bool((col.dropna() == col.dropna().dt.normalize()).all())
            if whole_days:
                fields.append(pa.field(f.name, pa.date32()))
                continue
        fields.append(f)
    schema = pa.schema(fields, metadata=table.schema.metadata)
    table = table.cast(schema)
    pq.write_table(table, path, compression="zstd", write_statistics=False)


def read_parquet(path: Path | BinaryIO) -> pd.DataFrame:
    """Read a derived table (a file, or its bytes); dates come back as ``datetime64[ns]``.

    The frame owns writable copies of its data (pyarrow's zero-copy
    conversion can hand back read-only arrays, which a notebook user
    assigning into a column would trip over).
    """
    table = pq.read_table(path)
    df = table.to_pandas(date_as_object=False).copy(deep=True)
    for f in table.schema:
        if pa.types.is_date(f.type):
            df[f.name] = pd.to_datetime(df[f.name]).astype("datetime64[ns]")
    return df


def sha256_file(path: Path) -> str:
    """SHA-256 of a file's bytes, hex."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_json(obj: Any, path: Path) -> None:
    """Write JSON with sorted keys and a trailing newline (stable bytes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
    )
