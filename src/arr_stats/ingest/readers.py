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
codes themselves and are treated exactly like the same codes in a CSV file.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyreadstat

from arr_stats.errors import DeliveryError

#: Formats a registry file may come in, by extension (data-model.md).
REGISTRY_FORMATS: tuple[str, ...] = (".sav", ".dta", ".sas7bdat", ".csv", ".parquet")
#: Formats a NAV file may come in, by extension (data-model.md).
NAV_FORMATS: tuple[str, ...] = (".csv", ".sas7bdat")
#: Encodings a CSV file may be read with; ``auto`` tries UTF-8, then Latin-1.
ENCODINGS: tuple[str, ...] = ("auto", "utf-8", "latin-1")

_UTF8_BOM_AS_LATIN1 = "\u00ef\u00bb\u00bf"  # the UTF-8 byte-order mark decoded as Latin-1


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
    """

    stem: str
    path: Path
    label: str
    data: pd.DataFrame
    format: str
    encoding: str | None = None

    @property
    def rows_read(self) -> int:
        """Number of data rows in the file (header not counted)."""
        return len(self.data)


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


def read_delivery_file(folder: Path, stem: str, source: str, encoding: str = "auto") -> RawFile:
    """Locate and read one delivery file.

    Parameters
    ----------
    folder, stem, source
        See :func:`locate_file`.
    encoding
        For CSV files: ``auto`` (UTF-8, else Latin-1), ``utf-8`` or ``latin-1``.

    Returns
    -------
    RawFile
    """
    formats = NAV_FORMATS if source == "nav" else REGISTRY_FORMATS
    path = locate_file(folder, stem, formats, source)
    label = f"{source}/{path.name}"
    data, used = read_raw(path, encoding=encoding, label=label)
    return RawFile(
        stem=stem, path=path, label=label, data=data, format=path.suffix.lower(), encoding=used
    )


def read_raw(
    path: Path, encoding: str = "auto", label: str | None = None
) -> tuple[pd.DataFrame, str | None]:
    """Read one file by its extension.

    Parameters
    ----------
    path
        The file.
    encoding
        For CSV: ``auto``, ``utf-8`` or ``latin-1``; ignored for other formats.
    label
        How messages name the file (default: its name).

    Returns
    -------
    (DataFrame, encoding)
        The data (column names stripped and lower-cased, ``RangeIndex``) and
        the text encoding used (CSV) or ``None``.

    Raises
    ------
    DeliveryError
        The file cannot be read, has the wrong encoding, or has two columns
        whose names differ only in case.
    """
    path = Path(path)
    label = label or path.name
    suffix = path.suffix.lower()
    used: str | None = None
    try:
        if suffix == ".csv":
            data, used = _read_csv(path, encoding, label)
        elif suffix == ".sav":
            data, _ = pyreadstat.read_sav(str(path), user_missing=True, apply_value_formats=False)
        elif suffix == ".dta":
            data, _ = pyreadstat.read_dta(str(path), apply_value_formats=False)
        elif suffix == ".sas7bdat":
            data, _ = pyreadstat.read_sas7bdat(str(path))
        elif suffix == ".parquet":
            data = pd.read_parquet(path)
        else:
            raise DeliveryError(f"{label}: unsupported file format {suffix!r}")
    except DeliveryError:
        raise
    except Exception as exc:  # every reader has its own exception types
        raise DeliveryError(
            f"{label}: cannot be read as a {suffix} file "
            f"({type(exc).__name__}: {' '.join(str(exc).split())}); "
            f"check that the file is complete and really is {suffix}"
        ) from exc
    return _normalise_columns(data, label), used


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


def decode_text(raw: bytes, encoding: str, label: str) -> tuple[str, str]:
    """Decode a text file's bytes; returns (text, encoding used).

    ``auto`` reads UTF-8 (with or without a byte-order mark) and falls back to
    Latin-1 when the bytes are not valid UTF-8.

    Examples
    --------
    >>> decode_text("lopenr;kjønn".encode("latin-1"), "auto", "x.csv")
    ('lopenr;kjønn', 'latin-1')
    >>> decode_text(b"\\xef\\xbb\\xbfa;b", "auto", "x.csv")
    ('a;b', 'utf-8')
    """
    if encoding not in ENCODINGS:
        raise DeliveryError(f"{label}: unknown encoding {encoding!r}; use one of {ENCODINGS}")
    if encoding in ("auto", "utf-8"):
        try:
            return raw.decode("utf-8-sig"), "utf-8"
        except UnicodeDecodeError as exc:
            if encoding == "utf-8":
                raise DeliveryError(
                    f"{label}: not valid UTF-8 (byte {exc.start + 1} is {raw[exc.start]:#04x}); "
                    f'the file is probably Latin-1: set [nav] encoding = "latin-1" or "auto"'
                ) from exc
    text = raw.decode("latin-1")
    if text.startswith(_UTF8_BOM_AS_LATIN1):
        raise DeliveryError(
            f"{label}: starts with a UTF-8 byte-order mark but was read as Latin-1; "
            f'set [nav] encoding = "utf-8" or "auto"'
        )
    return text, "latin-1"


def _sniff_separator(header: str) -> str:
    """The separator of a CSV file from its header line: the most frequent of ; , tab."""
    counts = {sep: header.count(sep) for sep in (";", ",", "\t")}
    best = max(counts, key=lambda s: (counts[s], s == ";"))
    return best if counts[best] else ","


def _read_csv(path: Path, encoding: str, label: str) -> tuple[pd.DataFrame, str]:
    raw = path.read_bytes()
    if not raw.strip():
        raise DeliveryError(
            f"{label}: the file is empty (not even a header line); deliver it again"
        )
    text, used = decode_text(raw, encoding, label)
    header = re.split(r"\r?\n", text, maxsplit=1)[0]
    try:
        data = pd.read_csv(
            io.StringIO(text),
            sep=_sniff_separator(header),
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=True,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DeliveryError(
            f"{label}: not a well-formed CSV file ({' '.join(str(exc).split())}); "
            f"check quoting and separators"
        ) from exc
    return data, used
