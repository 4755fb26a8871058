"""Reading raw delivery files: one file in any supported format → a raw DataFrame.

The file format is chosen by the extension. A delivery folder must hold exactly
one file per stem (``skjema_t0.sav`` *or* ``skjema_t0.csv``, never both).
Everything here is I/O; every decision about values (types, missing codes,
labels) is made later, in :mod:`arr_stats.ingest.canonical`, so that a table reads the
same whatever format it came in.

What a reader returns
---------------------
A :class:`RawFile`: the data with every column as read (strings from CSV,
numbers/strings/dates from the statistics formats), column names stripped and
lower-cased (SPSS and Stata names are case-insensitive), and a ``RangeIndex``
of 0-based positions: the 1-based source row of position ``i`` is ``i + 1``.

SPSS files are read with ``user_missing=True`` so that declared user-missing
values (97/98/99, declared as discrete values or as a range) arrive as the
codes themselves; the declarations travel with the file
(:attr:`RawFile.declared_missing`), so a value the producer declared missing
is missing even in a variable whose dictionary entry has no missing codes.

Rows are counted independently of the parser (:attr:`RawFile.rows_read`): for
CSV by scanning the physical lines (a quoted cell may span lines), for SPSS,
Stata and SAS by the row count in the file's header, for Parquet by its
metadata. A difference between that count and the rows parsed, or a quoted
cell that swallows lines shaped like rows (a stray quote), stops the build:
rows must never be lost unseen.

Source row numbers (:attr:`RawFile.row_numbers`) are what a person sees: for
CSV the physical line of the row minus one (the header is line 1, so line =
row + 1 even after blank lines or multi-line cells); for the other formats
the case number (1, 2, …).
"""

from __future__ import annotations

import io
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pyreadstat

from arr_stats.errors import DeliveryError

#: Formats a registry file may come in, by extension (data-model.md).
REGISTRY_FORMATS: tuple[str, ...] = (".sav", ".dta", ".sas7bdat", ".csv", ".parquet")
#: Formats a NAV file may come in, by extension (data-model.md).
NAV_FORMATS: tuple[str, ...] = (".csv", ".sas7bdat")
#: Encodings a CSV file may be read with. ``auto`` reads UTF-8 (with or without
#: a byte-order mark); bytes that are not UTF-8 are read as Windows-1252 when
#: any byte 0x80–0x9F occurs (Excel's "CSV" on Windows: – ’ € …), else as Latin-1.
ENCODINGS: tuple[str, ...] = ("auto", "utf-8", "cp1252", "latin-1")

_UTF8_BOM_AS_SINGLE_BYTE = "\u00ef\u00bb\u00bf"  # the UTF-8 byte-order mark read as Latin-1
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_C1_BYTES = re.compile(rb"[\x80-\x9f]")
_LINE_BREAK = re.compile(r"\r\n|\n|\r")
_EXCEL_SEP_LINE = re.compile(r"^\s*sep=(.)\s*$")


@dataclass(frozen=True)
class RawFile:
    """One delivery file as read, before any interpretation.

    Attributes
    ----------
    stem
        The file's stem, e.g. ``skjema_t0``.
    path
        Where the file is.
    label
        ``source/name`` (e.g. ``registry/skjema_t0.sav``): how issues and the
        row accounting name the file, independent of where the delivery lives.
    data
        Every column as read; names stripped and lower-cased; ``RangeIndex``.
    format
        The extension, e.g. ``.sav``.
    encoding
        The text encoding used (CSV only), else ``None``.
    rows_in_file
        The number of data rows the file holds, counted without the parser
        (CSV: physical lines; SPSS/Stata/SAS: the header's row count;
        Parquet: its metadata). ``None``: the format does not say.
    row_numbers
        The source row number of each row of ``data`` (see the module notes);
        empty means 1, 2, ….
    declared_missing
        Column → the (low, high) ranges the file itself declares user-missing
        (SPSS); a discrete value is a range with low = high.
    column_types
        Column → how the producer stored it: ``text``, ``number``, ``date``
        (or another type name). CSV columns are all ``text``.
    notes
        File-level remarks made while reading (e.g. empty lines skipped),
        for the build summary.
    short_rows
        Source row → (fields found, fields in the header) for CSV rows that
        have fewer fields than the header.
    value_labels
        Column → {code: label} as the file labels its values (SPSS, Stata).
    """

    stem: str
    path: Path
    label: str
    data: pd.DataFrame
    format: str
    encoding: str | None = None
    rows_in_file: int | None = None
    row_numbers: tuple[int, ...] = ()
    declared_missing: Mapping[str, tuple[tuple[float, float], ...]] = field(default_factory=dict)
    column_types: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    short_rows: Mapping[int, tuple[int, int]] = field(default_factory=dict)
    value_labels: Mapping[str, Mapping[float, str]] = field(default_factory=dict)

    @property
    def rows_read(self) -> int:
        """Number of data rows in the file (header not counted), counted without the parser."""
        return len(self.data) if self.rows_in_file is None else self.rows_in_file

    @property
    def source_rows(self) -> list[int]:
        """The source row number of each row of ``data``."""
        return list(self.row_numbers) if self.row_numbers else list(range(1, len(self.data) + 1))


def locate_file(folder: Path, stem: str, formats: tuple[str, ...], source: str) -> Path:
    """The one file of a stem in a delivery folder.

    Parameters
    ----------
    folder
        The ``registry/`` or ``nav/`` folder.
    stem
        File name without extension, e.g. ``ytelser``.
    formats
        Allowed extensions, e.g. :data:`NAV_FORMATS`.
    source
        ``registry`` or ``nav`` (only for messages).

    Raises
    ------
    DeliveryError
        The folder or the file is missing, or the stem exists in more than one
        supported format.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DeliveryError(
            f"{source} folder {folder} does not exist: check [paths] {source} in the "
            f"configuration or the --{source} flag"
        )
    candidates = sorted(p for p in folder.iterdir() if p.is_file() and p.stem.lower() == stem)
    supported = [p for p in candidates if p.suffix.lower() in formats]
    if len(supported) > 1:
        names = ", ".join(p.name for p in supported)
        raise DeliveryError(
            f"{source}/{stem}: found {names}; a delivery must hold exactly one file per "
            f"name, so remove all but one of them"
        )
    if not supported:
        allowed = ", ".join(formats)
        other = ""
        if candidates:
            other = (
                f" (found {', '.join(p.name for p in candidates)}, which is not a supported format)"
            )
        raise DeliveryError(
            f"{source}/{stem}: file missing in {folder}{other}; deliver it as one of {allowed}"
        )
    return supported[0]


def read_delivery_file(
    folder: Path, stem: str, source: str, encoding: str = "auto", *, allow_empty: bool = False
) -> RawFile:
    """Locate and read one delivery file.

    Parameters
    ----------
    folder, stem, source
        See :func:`locate_file`.
    encoding
        For CSV files: one of :data:`ENCODINGS`.
    allow_empty
        Accept a file with a header and no rows (else a :class:`DeliveryError`).

    Returns
    -------
    RawFile
    """
    formats = NAV_FORMATS if source == "nav" else REGISTRY_FORMATS
    path = locate_file(folder, stem, formats, source)
    return read_file(
        path, stem=stem, label=f"{source}/{path.name}", encoding=encoding, allow_empty=allow_empty
    )


def read_raw(
    path: Path, encoding: str = "auto", label: str | None = None
) -> tuple[pd.DataFrame, str | None]:
    """Read one file by its extension: (data, encoding used); see :func:`read_file`."""
    raw = read_file(Path(path), encoding=encoding, label=label, allow_empty=True)
    return raw.data, raw.encoding


def read_file(
    path: Path,
    *,
    stem: str | None = None,
    label: str | None = None,
    encoding: str = "auto",
    allow_empty: bool = False,
) -> RawFile:
    """Read one file by its extension, with its independent row count and row numbers.

    Parameters
    ----------
    path
        The file.
    stem
        The delivery stem (default: the file's stem, lower case).
    label
        How messages name the file (default: its name).
    encoding
        For CSV: one of :data:`ENCODINGS`; ignored for other formats.
    allow_empty
        Accept a file with a header and no data rows.

    Returns
    -------
    RawFile

    Raises
    ------
    DeliveryError
        The file cannot be read, has the wrong encoding, holds no data rows,
        has two columns of the same name (compared without case), or holds a
        different number of rows than its parser returned.
    """
    path = Path(path)
    label = label or path.name
    suffix = path.suffix.lower()
    used: str | None = None
    extra: dict = {}
    try:
        if suffix == ".csv":
            data, used, extra = _read_csv(path, encoding, label)
        elif suffix in (".sav", ".dta", ".sas7bdat"):
            data, extra = _read_readstat(path, suffix)
        elif suffix == ".parquet":
            data, extra = _read_parquet(path, label)
        else:
            raise DeliveryError(f"{label}: unsupported file format {suffix!r}")
    except DeliveryError:
        raise
    except Exception as exc:  # every reader has its own exception types
        raise DeliveryError(
            f"{label}: cannot be read as a {suffix} file "
            f"({type(exc).__name__}: {shorten(' '.join(str(exc).split()), 160)}); "
            f"check that the file is complete and really is {suffix}"
        ) from exc
    data = _normalise_columns(data, label)
    counted = extra.get("rows_in_file")
    if counted is not None and counted != len(data):
        raise DeliveryError(
            f"{label}: the file holds {counted} data rows ({extra.get('how', 'by its header')}), "
            f"but {len(data)} were read; "
            f"rows would be lost, so the build stops: check that the file is complete"
        )
    if len(data) == 0 and not (allow_empty and len(data.columns)):
        raise DeliveryError(
            f"{label}: the file has {'a header but ' if len(data.columns) else ''}no data rows; "
            f"deliver it again with its rows (a registry file that may rightly be empty can "
            f"be named in [registry] allow_empty)"
        )
    return RawFile(
        stem=stem or path.stem.lower(),
        path=path,
        label=label,
        data=data,
        format=suffix,
        encoding=used,
        rows_in_file=counted,
        row_numbers=tuple(extra.get("row_numbers", ())),
        declared_missing={k.strip().lower(): v for k, v in extra.get("missing", {}).items()},
        column_types={str(k).strip().lower(): v for k, v in extra.get("types", {}).items()},
        notes=tuple(extra.get("notes", ())),
        short_rows=extra.get("short_rows", {}),
        value_labels={str(k).strip().lower(): v for k, v in extra.get("value_labels", {}).items()},
    )


def shorten(text: str, width: int = 40) -> str:
    """A value or message shortened for a message or the issues table.

    Examples
    --------
    >>> shorten("9" * 309)
    '99999999999999999999999999999999999999… (309 characters)'
    >>> shorten("M54.5")
    'M54.5'
    """
    text = str(text)
    if len(text) <= width:
        return text
    return f"{text[: width - 2]}… ({len(text)} characters)"


def _read_readstat(path: Path, suffix: str) -> tuple[pd.DataFrame, dict]:
    if suffix == ".sav":
        data, meta = pyreadstat.read_sav(str(path), user_missing=True, apply_value_formats=False)
    elif suffix == ".dta":
        data, meta = pyreadstat.read_dta(str(path), apply_value_formats=False)
    else:
        data, meta = pyreadstat.read_sas7bdat(str(path))
    declared = {
        column: tuple((float(r["lo"]), float(r["hi"])) for r in ranges)
        for column, ranges in (getattr(meta, "missing_ranges", None) or {}).items()
        if all(isinstance(r.get("lo"), int | float) for r in ranges)
    }
    types = {}
    for column, kind in (meta.readstat_variable_types or {}).items():
        fmt = str((meta.original_variable_types or {}).get(column, "")).upper()
        is_date = any(t in fmt for t in ("DATE", "DATETIME", "%TD", "%TC", "DDMMYY", "YYMMDD"))
        types[column] = "text" if kind == "string" else ("date" if is_date else "number")
    rows = meta.number_rows if isinstance(meta.number_rows, int) and meta.number_rows >= 0 else None
    how = "by its header"
    if suffix == ".sav":
        rows, how = _sav_rows_to_end(path), "to the end of the file"
    labels = {
        column: {float(code): str(text) for code, text in mapping.items()}
        for column, mapping in (getattr(meta, "variable_value_labels", None) or {}).items()
        if all(isinstance(code, int | float) for code in mapping)
    }
    return data, {
        "rows_in_file": rows,
        "missing": declared,
        "types": types,
        "how": how,
        "value_labels": labels,
    }


def _sav_rows_to_end(path: Path) -> int | None:
    """The cases an SPSS file holds, counted to its end rather than taken from its header.

    ReadStat stops after the header's case count, so a header that says
    fewer cases than the file holds would lose rows unseen. A copy with the
    count set to -1 ("unknown", as the format allows) is read to the end.
    """
    data = bytearray(path.read_bytes())
    if data[:4] not in (b"$FL2", b"$FL3") or len(data) < 84:
        return None
    data[80:84] = (0xFFFFFFFF).to_bytes(4, "little")
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "count.sav"
        copy.write_bytes(bytes(data))
        counted, _ = pyreadstat.read_sav(str(copy), metadataonly=False, usecols=None)
    return len(counted)


def _read_parquet(path: Path, label: str) -> tuple[pd.DataFrame, dict]:
    parquet = pq.ParquetFile(path)
    rows = int(parquet.metadata.num_rows)
    table = parquet.read()
    names = [str(n) for n in table.column_names]
    lowered = [n.strip().lower() for n in names]
    if len(set(lowered)) != len(lowered):
        twice = next(n for n in lowered if lowered.count(n) > 1)
        raise DeliveryError(
            f"{label}: column {twice!r} appears twice (names are compared without case); "
            f"rename or remove one of them"
        )
    types = {}
    for name, kind in zip(names, table.schema.types, strict=True):
        text = str(kind)
        if text.startswith(("string", "large_string", "dictionary")):
            types[name] = "text"
        elif text.startswith(("date", "timestamp")):
            types[name] = "date"
        elif text.startswith(("int", "uint", "double", "float", "decimal", "halffloat")):
            types[name] = "number"
        else:
            types[name] = text
    # dates and timestamps as Python objects: no nanosecond range to overflow,
    # and a time zone stays attached (canonical takes the date in Norwegian time)
    # ignore_metadata: a column pandas stored as the index (df.set_index("forlop_id"))
    # comes back as a column, not as an index that would be dropped
    data = table.to_pandas(date_as_object=True, timestamp_as_object=True, ignore_metadata=True)
    return data, {"rows_in_file": rows, "types": types, "how": "by its metadata"}


def _normalise_columns(data: pd.DataFrame, label: str) -> pd.DataFrame:
    names = [str(c).strip().lower() for c in data.columns]
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise DeliveryError(
                f"{label}: column {name!r} appears twice (names are compared without case); "
                f"rename or remove one of them"
            )
        seen.add(name)
    out = data.copy()
    out.columns = names
    return out.reset_index(drop=True)


def _looks_utf16(raw: bytes) -> bool:
    if raw.startswith(_UTF16_BOMS):
        return True
    head = raw[:400]
    # ASCII text in UTF-16 has a NUL byte beside every character
    return len(head) >= 4 and head.count(b"\x00") >= len(head) // 3


def decode_text(raw: bytes, encoding: str, label: str) -> tuple[str, str]:
    """Decode a text file's bytes; returns (text, encoding used).

    ``auto`` reads UTF-8 (with or without a byte-order mark); bytes that are
    not valid UTF-8 are read as Windows-1252 when a byte 0x80–0x9F occurs
    (there Latin-1 has only control characters, Windows-1252 has – ’ € …),
    else as Latin-1. UTF-16 (Excel's "Unicode text") is named and refused.

    Examples
    --------
    >>> decode_text("lopenr;kjønn".encode("latin-1"), "auto", "x.csv")
    ('lopenr;kjønn', 'latin-1')
    >>> decode_text(b"\\xef\\xbb\\xbfa;b", "auto", "x.csv")
    ('a;b', 'utf-8')
    >>> decode_text("Bjørnæs – Åkre".encode("cp1252"), "auto", "x.csv")
    ('Bjørnæs – Åkre', 'cp1252')
    """
    if encoding not in ENCODINGS:
        raise DeliveryError(f"{label}: unknown encoding {encoding!r}; use one of {ENCODINGS}")
    if _looks_utf16(raw):
        raise DeliveryError(
            f"{label}: this file is UTF-16 (as Excel saves 'Unicode text'), which is not "
            f"accepted; save it again as 'CSV UTF-8 (comma delimited)' or as CSV"
        )
    if b"\x00" in raw:
        where = raw.index(b"\x00") + 1
        raise DeliveryError(
            f"{label}: contains NUL bytes (byte {where}); this is not a "
            f"text file: deliver it again as CSV"
        )
    if encoding in ("auto", "utf-8"):
        try:
            return raw.decode("utf-8-sig"), "utf-8"
        except UnicodeDecodeError as exc:
            if encoding == "utf-8":
                raise DeliveryError(
                    f"{label}: not valid UTF-8 (byte {exc.start + 1} is {raw[exc.start]:#04x}); "
                    f'the file is probably Latin-1 or Windows-1252: set encoding = "latin-1" '
                    f'(or "cp1252", or "auto")'
                ) from exc
        encoding = "cp1252" if _C1_BYTES.search(raw) else "latin-1"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise DeliveryError(
            f"{label}: byte {exc.start + 1} ({raw[exc.start]:#04x}) is neither UTF-8 nor "
            f"{encoding}; save the file again as CSV UTF-8"
        ) from exc
    if text.startswith(_UTF8_BOM_AS_SINGLE_BYTE):
        raise DeliveryError(
            f"{label}: starts with a UTF-8 byte-order mark but was read as {encoding}; "
            f'set encoding = "utf-8" or "auto"'
        )
    return text, encoding


def _sniff_separator(header: str) -> str:
    """The separator of a CSV file from its header line: the most frequent of ; , tab."""
    counts = {sep: header.count(sep) for sep in (";", ",", "\t")}
    best = max(counts, key=lambda s: (counts[s], s == ";"))
    return best if counts[best] else ","


@dataclass(frozen=True)
class _Record:
    """One record of a CSV file as its lines show it, found without the parser."""

    first_line: int  # 1-based physical line
    last_line: int
    fields: int
    empty: bool = False  # one line of separators (and empty quotes) only: no value


def scan_records(text: str, sep: str) -> list[_Record]:
    """The records of a CSV text by its physical lines (header included), without pandas.

    A quote opens a quoted field only at the start of a field; inside it,
    ``""`` is a quote and line breaks belong to the value. Blank lines
    (only white space, no separator) outside a quoted field are not records.

    Examples
    --------
    >>> [(r.first_line, r.last_line, r.fields) for r in scan_records('a;b\\n1;"x\\ny"\\n\\n2;3\\n', ";")]
    [(1, 1, 2), (2, 3, 2), (5, 5, 2)]
    """
    records: list[_Record] = []
    lines = _LINE_BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    in_quotes = False
    start = fields = 0
    content = False
    for number, line in enumerate(lines, start=1):
        if not in_quotes:
            if not line.strip() and sep not in line:  # as pandas: a tab line is a tab record
                continue
            start, fields, content = number, 1, False
            if '"' not in line:
                empty = not line.replace(sep, "").strip()
                records.append(_Record(number, number, 1 + line.count(sep), empty))
                continue
            at_field_start = True
        else:
            at_field_start = False
        i, n = 0, len(line)
        while i < n:
            c = line[i]
            if in_quotes:
                if c == '"':
                    if i + 1 < n and line[i + 1] == '"':
                        content = True
                        i += 2
                        continue
                    in_quotes = False
                elif not c.isspace():
                    content = True
            elif c == '"' and at_field_start:
                in_quotes = True
                at_field_start = False
            elif c == sep:
                fields += 1
                at_field_start = True
            else:
                at_field_start = False
                content = content or not c.isspace()
            i += 1
        if not in_quotes:
            records.append(_Record(start, number, fields, not content))
    if in_quotes:
        records.append(_Record(start, len(lines), fields))
    return records


def _read_csv(path: Path, encoding: str, label: str) -> tuple[pd.DataFrame, str, dict]:
    raw = path.read_bytes()
    if not raw.strip():
        raise DeliveryError(
            f"{label}: the file is empty (not even a header line); deliver it again"
        )
    text, used = decode_text(raw, encoding, label)
    if not text.strip():
        raise DeliveryError(f"{label}: the file holds only blank characters; deliver it again")
    header = next(line for line in _LINE_BREAK.split(text) if line.strip())
    excel_sep = _EXCEL_SEP_LINE.match(header)
    if excel_sep:  # Excel's "sep=;" first line names the separator and is no header
        sep = excel_sep.group(1)
        start = text.index(header) + len(header)
        text = text[:start].replace(header, "") + text[start:]
    else:
        sep = _sniff_separator(header)
    records = scan_records(text, sep)
    try:
        parsed = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            header=None,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=True,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        detail = " ".join(str(exc).split()).replace("Error tokenizing data. C error: ", "")
        if "EOF inside string" in detail and records:
            opened = records[-1].first_line
            detail = f"a quote opened on line {opened} is never closed"
        raise DeliveryError(
            f"{label}: not a well-formed CSV file ({shorten(detail, 120)}); "
            f"check quoting and separators"
        ) from exc
    names = [str(c) for c in parsed.iloc[0].tolist()]
    data = parsed.iloc[1:].reset_index(drop=True)
    # rows of separators only hold no value: skipped on both sides, with a notice
    data = data[~data.apply(lambda col: col.str.strip() == "").all(axis=1)].reset_index(drop=True)
    skipped = [r for r in records[1:] if r.empty]
    records = [records[0], *(r for r in records[1:] if not r.empty)]
    if len(data) != len(records) - 1:
        raise DeliveryError(
            f"{label}: the file holds {len(records) - 1} data rows by its lines, but the CSV "
            f"parser read {len(data)}; check quoting, separators and line ends"
        )
    data.columns = range(len(names))
    notes = []
    if skipped:
        shown = ", ".join(str(r.first_line) for r in skipped[:5]) + (
            " …" if len(skipped) > 5 else ""
        )
        notes.append(
            f"{label}: {len(skipped)} line(s) with separators only skipped (line {shown}); "
            f"they hold no value"
        )
    unnamed = [i for i, n in enumerate(names) if not n.strip()]
    for i in unnamed:
        if (data[i].str.strip() != "").any():
            raise DeliveryError(
                f"{label}: column {i + 1} has no name in the header line but holds values; "
                f"name it or remove it"
            )
    if unnamed:  # Excel's trailing separators: columns with neither name nor value
        notes.append(f"{label}: {len(unnamed)} column(s) with no name and no value ignored")
        data = data.drop(columns=unnamed)
        names = [n for i, n in enumerate(names) if i not in unnamed]
    data.columns = names
    lowered = [n.strip().lower() for n in names]
    for name in lowered:
        if lowered.count(name) > 1:
            raise DeliveryError(
                f"{label}: column {name!r} appears twice (names are compared without case); "
                f"rename or remove one of them"
            )
    width = records[0].fields  # the header line's fields, unnamed ones included
    for record, values in zip(records[1:], data.itertuples(index=False, name=None), strict=True):
        if record.first_line == record.last_line:
            continue
        for value in values:
            for inner in _LINE_BREAK.split(value)[1:]:
                if width > 2 and inner.count(sep) >= width - 1:
                    raise DeliveryError(
                        f"{label}: a quoted value that opens on line {record.first_line} runs "
                        f"to line {record.last_line} and holds lines shaped like rows of their "
                        f"own (a stray quote character?); fix the quotes – rows would be lost"
                    )
    rows = [r.first_line - 1 for r in records[1:]]
    short = {r.first_line - 1: (r.fields, width) for r in records[1:] if r.fields < width}
    return (
        data,
        used,
        {
            "rows_in_file": len(records) - 1,
            "row_numbers": rows,
            "types": dict.fromkeys(names, "text"),
            "notes": notes,
            "short_rows": short,
        },
    )
