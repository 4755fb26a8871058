"""Fuzz: random bytes and random cell values through every reader and validator.

Whatever a delivery holds, ``arr-stats build`` ends with status 0 (built, and
every file's rows read = kept + rejected + excluded) or 2 (one line naming the
file), never with a traceback. A traceback would escape :func:`main` here and
fail the test with it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_build import _load

from arr_stats.cli import main
from arr_stats.dictionary import load_dictionary
from arr_stats.errors import DeliveryError
from arr_stats.ingest.canonical import to_canonical
from arr_stats.ingest.readers import read_file
from arr_stats.ingest.validate import Plausibility, validate_table

DD = load_dictionary()
BASE = Path(__file__).parent / "bad_inputs" / "base"
CSV_FILES = sorted(str(p.relative_to(BASE)) for p in BASE.rglob("*.csv"))
FUZZ = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

#: Cell text a real delivery may hold: dates of every form, extreme numbers,
#: NA tokens, labels, quotes, separators, line breaks, and anything at all.
cell_text = st.one_of(
    st.sampled_from(
        [
            "",
            "NA",
            "NULL",
            ".",
            "0001-01-01",
            "9999-12-31",
            "31.12.9999",
            "1899-12-31",
            "24.02.2016 00:00",
            "2024-02-30",
            "10/22/2020",
            "2024-03-01T23:30:00+01:00",
            "99999999999999999999",
            "1e300",
            "-1e300",
            "inf",
            "nan",
            "9" * 309,
            "ja",
            "JA",
            "Kvinne",
            "97",
            "98",
            "99",
            "9,87054E+08",
            '"',
            '""',
            ";",
            ",",
            "\n",
            "\r\n",
            "æøå – ’ €",
        ]
    ),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30),
    st.integers(min_value=-(10**25), max_value=10**25).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)


def _save_as_excel(path: Path, header: list[str], rows: list[list[str]], sep: str) -> None:
    """Write CSV as Excel does: CRLF line ends, so a value holding CR or LF is quoted."""
    out = io.StringIO()
    csv.writer(out, delimiter=sep, lineterminator="\r\n").writerows([header, *rows])
    path.write_text(out.getvalue(), encoding="utf-8", newline="")


def _config(folder: Path, delivery: Path) -> Path:
    config = folder / "run.toml"
    config.write_text(
        f"""[paths]
registry = "{delivery / "registry"}"
nav = "{delivery / "nav"}"
derived = "{folder / "derived"}"

[nav]
data_end = "2025-12-31"

[linkage]
accept_low_linkage = true
""",
        encoding="utf-8",
    )
    return config


def _build(folder: Path, delivery: Path, capsys) -> tuple[int, str, pd.DataFrame | None]:
    status = main(["build", "--config", str(_config(folder, delivery)), "--quiet"])
    err = capsys.readouterr().err
    assert status in (0, 2), err
    if status == 2:
        assert err.startswith("arr-stats: error: ") and err.count("\n") == 1, err
        return status, err, None
    acc = pd.read_csv(folder / "derived" / "row_accounting.csv").set_index("file")
    assert (
        acc["rows_read"] == acc["rows_kept"] + acc["rows_rejected"] + acc["rows_excluded"]
    ).all()
    return status, err, acc


def _fresh(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("fuzz")
    delivery = folder / "delivery"
    shutil.copytree(BASE, delivery)
    return folder, delivery


@settings(FUZZ, max_examples=25)
@given(file=st.sampled_from(CSV_FILES), data=st.binary(max_size=400))
def test_random_bytes_in_any_file(file: str, data: bytes, tmp_path_factory, capsys) -> None:
    folder, delivery = _fresh(tmp_path_factory)
    (delivery / file).write_bytes(data)
    _build(folder, delivery, capsys)


@settings(FUZZ, max_examples=25)
@given(file=st.sampled_from(CSV_FILES), data=st.binary(max_size=200), position=st.integers(0, 400))
def test_random_bytes_inside_a_valid_file(
    file: str, data: bytes, position: int, tmp_path_factory, capsys
) -> None:
    folder, delivery = _fresh(tmp_path_factory)
    original = (delivery / file).read_bytes()
    cut = min(position, len(original))
    (delivery / file).write_bytes(original[:cut] + data + original[cut:])
    _build(folder, delivery, capsys)


@settings(FUZZ, max_examples=40)
@given(
    edits=st.lists(
        st.tuples(st.sampled_from(CSV_FILES), st.integers(0, 20), st.integers(0, 20), cell_text),
        min_size=1,
        max_size=6,
    )
)
def test_random_cell_values_lose_no_row(edits, tmp_path_factory, capsys) -> None:
    """Cells written by a CSV writer (quoted as needed): every row is still read."""
    folder, delivery = _fresh(tmp_path_factory)
    for file, row, column, value in edits:
        header, rows, sep = _load(delivery / file)
        rows[row % len(rows)][column % len(header)] = value
        _save_as_excel(delivery / file, header, rows, sep)
    status, _, acc = _build(folder, delivery, capsys)
    if status == 0:
        for file in CSV_FILES:
            rows = _load(BASE / file)[1]
            assert acc.loc[file, "rows_read"] == len(rows), file


typed_value = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=False, width=64),
    st.integers(-(2**53), 2**53),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12),
    st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)),
)


@settings(FUZZ, max_examples=30)
@given(
    fmt=st.sampled_from([".sav", ".dta", ".parquet"]),
    columns=st.dictionaries(
        st.sampled_from(["forlop_id", "svar_dato", "arbeidsevne", "arbeidsstatus", "helse"]),
        st.lists(typed_value, min_size=1, max_size=6),
        min_size=1,
    ),
    timezone=st.booleans(),
)
def test_random_typed_values_in_statistics_formats(
    fmt: str, columns: dict, timezone: bool, tmp_path_factory, capsys
) -> None:
    """skjema_t1 replaced by a file of random typed columns, as SPSS/Stata/Parquet store them."""
    folder, delivery = _fresh(tmp_path_factory)
    n = max(len(v) for v in columns.values())
    frame = pd.DataFrame({k: (v * n)[:n] for k, v in columns.items()})
    frame = frame.assign(forlop_id=frame.get("forlop_id", pd.Series(["E01"] * n)))
    for name in frame.columns:  # one type per column, as these formats require
        kinds = {type(v) for v in frame[name] if v is not None and not pd.isna(v)}
        if len(kinds) > 1:
            frame[name] = frame[name].map(lambda v: None if v is None else str(v))
        elif kinds == {dt.date} and fmt == ".parquet" and timezone:
            frame[name] = pd.to_datetime(frame[name], errors="coerce").dt.tz_localize("UTC")
    path = delivery / "registry" / f"skjema_t1{fmt}"
    try:
        if fmt == ".sav":
            pyreadstat.write_sav(frame, str(path))
        elif fmt == ".dta":
            pyreadstat.write_dta(frame, str(path))
        else:
            frame.to_parquet(path)
    except Exception:  # the producer itself refuses such a file: nothing to read
        assume(False)
    (delivery / "registry" / "skjema_t1.csv").unlink()
    _build(folder, delivery, capsys)


# -- every validator on random raw tables, without files (many more examples) ------------

raw_value = st.one_of(
    typed_value,
    cell_text,
    st.just(float("inf")),
    st.just(np.int64(2**62)),
    st.datetimes(dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31), timezones=st.just(dt.UTC)),
)


@settings(max_examples=150, deadline=None)
@given(
    stem=st.sampled_from(sorted(DD.file_stems)),
    fmt=st.sampled_from([".csv", ".sav", ".dta", ".sas7bdat", ".parquet"]),
    values=st.lists(raw_value, min_size=1, max_size=40),
)
def test_every_table_validates_any_values(stem: str, fmt: str, values: list) -> None:
    table = DD.table(stem)
    n = max(1, len(values) // len(table.variables))
    raw = pd.DataFrame(
        {
            v.raw: [values[(i * n + j) % len(values)] for j in range(n)]
            for i, v in enumerate(table.variables)
        }
    )
    try:
        canonical, problems = to_canonical(raw, table, DD, label=stem, file_format=fmt)
    except DeliveryError:
        return
    kept, issues = validate_table(
        canonical,
        problems,
        table,
        DD,
        label=stem,
        data_end=dt.date(2025, 12, 31),
        plausibility=Plausibility(),
        institutions={},
    )
    rejected = set(issues.loc[issues["severity"] == "error", "row"])
    assert len(kept) + len(rejected) == len(raw)
    assert set(kept.index).isdisjoint(rejected)
    assert issues["value"].str.len().max() <= 60 if len(issues) else True


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.text(alphabet='a;"\n \t', max_size=40))
def test_csv_rows_counted_from_the_lines_agree_with_the_parser(body: str, tmp_path_factory) -> None:
    """On any well-formed text the independent line count and the parser agree, so a
    legitimate file (quoted line breaks, blank lines, separator-only lines) is never
    stopped; the only stops are the ones a person must fix. (Lone CR line ends are left
    out: there pandas itself miscounts, and the reader stops on the difference.)"""
    import io as _io

    text = "x;y;z\n" + body
    try:
        parsed = pd.read_csv(
            _io.StringIO(text), sep=";", header=None, dtype=str, keep_default_na=False
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError):
        return
    body_rows = parsed.iloc[1:]
    with_values = body_rows[~body_rows.apply(lambda c: c.str.strip() == "").all(axis=1)]
    path = tmp_path_factory.mktemp("csv") / "t.csv"
    path.write_text(text, encoding="utf-8", newline="")
    try:
        raw = read_file(path, allow_empty=True)
    except DeliveryError as exc:
        assert "shaped like rows of their own" in str(exc), (text, str(exc))
        return
    assert len(raw.data) == len(with_values) == raw.rows_read, text
