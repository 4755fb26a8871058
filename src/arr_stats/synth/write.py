"""Writing a synthetic delivery in the raw formats: SPSS with labels and user-missing codes, CSV."""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyreadstat

from arr_stats.dictionary import Table, load_dictionary
from arr_stats.synth.generate import _answer_items, generate_delivery
from arr_stats.synth.params import SynthParams

# Position of the creation date ("dd Mon yy") and time ("hh:mm:ss") in a SAV file header.
_SAV_DATE_SLICE = slice(92, 101)

_SAV_TIME_SLICE = slice(101, 109)

_SAV_STAMP = re.compile(rb"\d\d [A-Z][a-z]{2} \d\d\d\d:\d\d:\d\d")


def _fix_sav_timestamp(path: Path, when: dt.date) -> None:
    """Overwrite the creation time ReadStat writes into the header with ``when`` 00:00:00.

    pyreadstat has no argument for it, and the wall-clock time would make two
    writes of the same data differ.
    """
    data = bytearray(path.read_bytes())
    stamp = bytes(data[_SAV_DATE_SLICE.start : _SAV_TIME_SLICE.stop])
    if not data.startswith(b"$FL2") or not _SAV_STAMP.fullmatch(stamp):
        raise RuntimeError(f"{path}: unexpected SAV header layout; cannot fix its timestamp")
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    date_text = f"{when.day:02d} {months[when.month - 1]} {when.year % 100:02d}"
    data[_SAV_DATE_SLICE] = date_text.encode("ascii")
    data[_SAV_TIME_SLICE] = b"00:00:00"
    path.write_bytes(bytes(data))


def write_sav(
    df: pd.DataFrame, path: Path, table: Table, missing_codes: Mapping[int, str], stamp: dt.date
) -> None:
    """Write a registry form as SPSS ``.sav`` like a Nettskjema export.

    Variable labels from the dictionary descriptions; value labels from its
    codes; on the answer items also the missing codes as value labels and as
    user-missing values; dates as SPSS dates; the header time set to ``stamp``.
    """
    answer = {v.raw for v in _answer_items(table)}
    # dates as datetime64 with an SPSS date format: pyreadstat would guess the
    # type of an object column of dates from its values, and guesses wrong
    # when the first one is empty
    dates = [v.raw for v in table.variables if v.type == "date"]
    df = df.assign(**{raw: pd.to_datetime(df[raw]).astype("datetime64[ns]") for raw in dates})
    value_labels: dict[str, dict[float, str]] = {}
    formats: dict[str, str] = {}
    measures: dict[str, str] = {}
    for v in table.variables:
        labels = {float(k): lab for k, lab in v.codes.items()}
        if v.raw in answer:
            labels.update({float(k): lab for k, lab in missing_codes.items()})
        if labels and (v.codes or v.raw in answer):
            value_labels[v.raw] = labels
        if v.type in ("integer", "code"):
            formats[v.raw] = "F8.0"
            measures[v.raw] = "nominal" if v.type == "code" else "scale"
        elif v.type == "number":
            formats[v.raw] = "F8.1"
            measures[v.raw] = "scale"
        elif v.type == "date":
            formats[v.raw] = "DATE11"
    path.parent.mkdir(parents=True, exist_ok=True)
    pyreadstat.write_sav(
        df,
        str(path),
        file_label=f"ARR {table.description}"[:64],
        column_labels={v.raw: v.description for v in table.variables},
        variable_value_labels=value_labels,
        missing_ranges={name: [float(k) for k in missing_codes] for name in sorted(answer)},
        variable_format=formats,
        variable_measure=measures,
    )
    _fix_sav_timestamp(path, stamp)


def _csv_text(value: Any, vtype: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if vtype == "date":
        return value.isoformat()
    if vtype in ("integer", "code", "number") and float(value).is_integer():
        return str(int(value))
    if vtype == "number":
        return f"{float(value):.1f}"
    return str(value)


def write_csv(df: pd.DataFrame, path: Path, table: Table) -> None:
    """Write a table as NAV does: semicolon-separated UTF-8, ISO dates, empty = missing."""
    types = [table.variable(c).type for c in df.columns]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter=";", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        writer.writerow(list(df.columns))
        for record in df.itertuples(index=False, name=None):
            writer.writerow([_csv_text(v, t) for v, t in zip(record, types, strict=True)])


def write_delivery(out_dir: Path, params: SynthParams) -> dict[str, int]:
    """Write a synthetic raw delivery: ``out_dir/registry/`` and ``out_dir/nav/``.

    Parameters
    ----------
    out_dir
        Folder to write into (created if needed; existing files are replaced).
    params
        Seed, size, years and data end.

    Returns
    -------
    dict
        File path inside the delivery → data rows written.
    """
    dd = load_dictionary()
    out_dir = Path(out_dir)
    counts: dict[str, int] = {}
    for rel, df in generate_delivery(params).items():
        table = dd.table(Path(rel).stem)
        path = out_dir / rel
        if rel.endswith(".sav"):
            write_sav(df, path, table, dd.missing_codes, params.data_end)
        else:
            write_csv(df, path, table)
        counts[rel] = len(df)
    return counts
