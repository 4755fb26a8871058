"""Raw → canonical: rename, type, and turn missing codes into missing, via the dictionary.

One function, :func:`to_canonical`, takes a raw table (every column as read,
whatever the format) and returns the canonical table plus the cell problems
it met (a value that cannot be read as its type, or a code that is not in the
variable's code list). It decides nothing about rows: :mod:`arr_stats.ingest.validate`
turns problems into issues and decides which rows are rejected.

Types (docs/architecture.md):

=========  ==========================================================
string     ``object`` of ``str``, stripped; empty → missing; a whole
           number stored as a float (``1001.0``) becomes ``"1001"``
integer    ``Int64``; ``3`` and ``3.0`` are 3; ``3.5`` is a type problem;
           beyond ±2**53 (``1e300``) a type problem, never a crash
number     ``float64``; a decimal comma (``62,5``) is read as a point, a
           trailing ``%`` (``50 %``) is dropped
date       ``datetime64[ns]``; ISO ``YYYY-MM-DD`` (or ``YYYY/MM/DD``) or date-time text
           (``2016-02-24T13:45:00``, ``2016-02-24 00:00``; with a UTC
           offset the date in Norwegian time), ``DD.MM.YYYY`` with an
           optional time (``24.02.2016 00:00``), date/datetime values
           (time-zone aware ones taken in Norwegian time), or a plain
           number counted from the format's epoch (SPSS: seconds since
           1582-10-14; Stata and SAS: days since 1960-01-01). A date
           before 1900 or after 2200 is a ``date_out_of_range``
           problem (an error on its row, whatever the variable); a US date
           (``10/22/2020``) is one whose message names the form it has.
           The variable's ``open_end`` (NAV: ``9999-12-31``) means open.
code       ``Categorical`` of the Norwegian labels, categories in code
           order; the code (``1``, ``"01"``, ``1.0``), or a label in any
           case (``ja``, ``JA``) with a ``code_as_label`` warning (once per
           column); anything else is ``unknown_code`` with the valid codes
code_str   ``Categorical`` of the codelist's codes, stripped, upper case
code_set   ``str`` of comma-separated codes, sorted, e.g. ``"1,3"``
=========  ==========================================================

Missing in every column: an empty cell and the dictionary's ``na_tokens``
(``NA``, ``NULL``, ``.``). The missing codes (97, 98, 99) become missing only
in the variables whose dictionary entry lists them (coded items and 0–10
scales), or where the file itself declares them user-missing (SPSS).
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from arr_stats.dictionary import DataDictionary, Table, Variable
from arr_stats.errors import DeliveryError

#: Columns of the cell-problem table that :func:`to_canonical` returns.
PROBLEM_COLUMNS = ("row", "column", "name", "value", "rule", "detail")

#: Problems whose value is read (not set to missing): a code written as its label.
VALUE_KEPT_RULES: frozenset[str] = frozenset({"code_as_label"})

#: Epoch of a date stored as a plain number, by file format: (origin, unit).
NUMERIC_DATE_EPOCHS: dict[str, tuple[dt.date, str]] = {
    ".sav": (dt.date(1582, 10, 14), "s"),
    ".dta": (dt.date(1960, 1, 1), "D"),
    ".sas7bdat": (dt.date(1960, 1, 1), "D"),
}

#: The range of dates the pipeline reads (data-model.md: before 1900 is an error).
FIRST_DATE = dt.date(1900, 1, 1)
LAST_DATE = dt.date(2200, 12, 31)
#: Norwegian time: the calendar date of a time-zone-aware timestamp is taken here.
NORWEGIAN_TIME = ZoneInfo("Europe/Oslo")
#: Whole numbers beyond this are not read as integers (float precision ends here).
LARGEST_INTEGER = 2**53

_TIME = r"(?:[T ](\d{1,2})[:.](\d{2})(?:[:.](\d{2})(?:[.,]\d+)?)?)?"
_ISO_DATE = re.compile(r"^(\d{4})([-/])(\d{1,2})\2(\d{1,2})" + _TIME + r"\s*(Z|[+-]\d{2}:?\d{2})?$")
_NORWEGIAN_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})" + _TIME + "$")
_SLASH_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})(?:[ T].*)?$")
_MONTHS = (
    "January February March April May June July August September October November December"
).split()
_INTEGER_TEXT = re.compile(r"^[+-]?\d+$")


class _Unreadable(ValueError):
    """A value that cannot be read as its variable's type."""


class _DateOutOfRange(_Unreadable):
    """A readable date outside 1900-01-01 … 2200-12-31 (data-model.md: an error on its row)."""


def is_empty(value: Any, na_tokens: Sequence[str] = ()) -> bool:
    """Whether a raw cell is empty: None, NaN, NaT, NA, blank text, or an NA token.

    Examples
    --------
    >>> [is_empty(v) for v in (None, float("nan"), "  ", "0", 0)]
    [True, True, True, False, False]
    >>> [is_empty(v, ("NA", "NULL", ".")) for v in ("NA", " null ", ".", "N")]
    [True, True, True, False]
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, str):
        text = value.strip()
        if text == "" or not na_tokens:
            return text == ""
        tokens = na_tokens if isinstance(na_tokens, frozenset) else _upper(tuple(na_tokens))
        return text.upper() in tokens
    if isinstance(value, float | np.floating):
        return math.isnan(value)
    return False


@functools.lru_cache(maxsize=8)
def _upper(tokens: tuple[str, ...]) -> frozenset[str]:
    return frozenset(t.upper() for t in tokens)


def _as_number(value: Any) -> float:
    if isinstance(value, bool | np.bool_):
        raise _Unreadable("a true/false value, not a number")
    if isinstance(value, int | float | np.integer | np.floating | decimal.Decimal):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip().removesuffix("%").strip()  # "50 %" as Excel shows a percentage
        if text.count(",") == 1 and "." not in text:
            text = text.replace(",", ".")
        try:
            number = float(text)
        except ValueError:
            raise _Unreadable("not a number") from None
    else:
        raise _Unreadable(f"a {type(value).__name__}, not a number")
    if not math.isfinite(number):
        raise _Unreadable("not a finite number")
    return number


def _as_integer(value: Any) -> int:
    if isinstance(value, str) and _INTEGER_TEXT.match(value.strip()):
        number: float = int(value.strip())
    else:
        number = _as_number(value)
    if abs(number) > LARGEST_INTEGER:
        raise _Unreadable("a number far too large to be a whole number here")
    if number != int(number):
        raise _Unreadable("not a whole number")
    return int(number)


def _parses_as_number(value: Any) -> bool:
    try:
        _as_number(value)
    except _Unreadable:
        return False
    return True


def _as_string(value: Any) -> str:
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace").strip()
    return str(value).strip()


@functools.lru_cache(maxsize=1 << 16)  # a Timestamp is costly to make; dates repeat
def _checked_date(day: dt.date) -> pd.Timestamp:
    if day < FIRST_DATE:
        raise _DateOutOfRange(
            f"{day.isoformat()} is before {FIRST_DATE.isoformat()}, the first date read"
        )
    if day > LAST_DATE:
        raise _DateOutOfRange(
            f"{day.isoformat()} is after {LAST_DATE.isoformat()}, the last date read"
        )
    return pd.Timestamp(day)


def _slash_date_message(text: str) -> str:
    match = _SLASH_DATE.match(text)
    accepted = "dates are read as YYYY-MM-DD or DD.MM.YYYY"
    if not match:
        return f"not a date ({accepted})"
    first, second, year = (int(g) for g in match.groups())
    year = year + 2000 if year < 100 else year
    if first <= 12 < second <= 31:
        return (
            f"a US month/day/year date ({_MONTHS[first - 1]} {second}, {year}), "
            f"a form that is not accepted because 01/02 could mean 1 February or "
            f"January 2; {accepted}"
        )
    if second <= 12 < first <= 31:
        return (
            f"a day/month/year date with slashes ({first} {_MONTHS[second - 1]} {year}), "
            f"not accepted because a US date looks the same; {accepted}"
        )
    return (
        f"a date with slashes that is ambiguous (month/day as in the US, or day/month); {accepted}"
    )


@functools.lru_cache(maxsize=1 << 16)
def _date_from_text(text: str) -> pd.Timestamp:
    """A date written as text (see the module notes); cached, as deliveries repeat dates."""
    match = _ISO_DATE.match(text)
    if match:  # year first: 2024-03-01, or 2024/03/01 as PSPP's SDATE writes it
        year, month, day = (int(match.group(i)) for i in (1, 3, 4))
        hour, minute, second = (int(g or 0) for g in match.groups()[4:7])
        offset = match.group(8)
    else:
        match = _NORWEGIAN_DATE.match(text)
        if not match:
            raise _Unreadable(_slash_date_message(text))
        day, month, year = (int(g) for g in match.groups()[:3])
        hour, minute, second = (int(g or 0) for g in match.groups()[3:6])
        offset = None
    try:
        moment = dt.datetime(year, month, day, hour, minute, second)
    except ValueError:
        raise _Unreadable("not a calendar date (or time)") from None
    if offset:
        zone = dt.UTC
        if offset != "Z":
            sign = -1 if offset[0] == "-" else 1
            digits = offset[1:].replace(":", "")
            zone = dt.timezone(sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
        moment = moment.replace(tzinfo=zone).astimezone(NORWEGIAN_TIME)
    return _checked_date(moment.date())


def _as_date(value: Any, numeric_epoch: tuple[dt.date, str] | None) -> pd.Timestamp:
    if isinstance(value, pd.Timestamp):
        if value.tzinfo is not None:
            value = value.tz_convert(NORWEGIAN_TIME)
        return _checked_date(dt.date(value.year, value.month, value.day))
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(NORWEGIAN_TIME)
        return _checked_date(value.date())
    if isinstance(value, dt.date):
        return _checked_date(value)
    if isinstance(value, np.datetime64):
        if np.isnat(value):
            raise _Unreadable("not a date")
        day = value.astype("datetime64[D]").astype(object)
        if not isinstance(day, dt.date):
            raise _Unreadable("a date outside the calendar")
        return _checked_date(day)
    if isinstance(value, str):
        return _date_from_text(value.strip())
    if isinstance(value, int | float | np.integer | np.floating) and numeric_epoch:
        origin, unit = numeric_epoch
        days = float(value) / 86400 if unit == "s" else float(value)
        try:  # Python dates: the SPSS epoch 1582 is outside pandas' nanosecond range
            return _checked_date(origin + dt.timedelta(days=math.floor(days)))
        except (OverflowError, ValueError):
            raise _Unreadable("a number that is no date") from None
    if isinstance(value, int | float | np.integer | np.floating):
        raise _Unreadable("a number, not a date (dates are read as YYYY-MM-DD or DD.MM.YYYY)")
    raise _Unreadable("not a date")


def _code_lookup(var: Variable) -> dict[str, str]:
    """Every accepted spelling of a code → its label (the code as text)."""
    return {str(code): label for code, label in var.codes.items()}


def _label_lookup(var: Variable) -> dict[str, tuple[int, str]]:
    """A label without case (``JA``, ``ja``) → (its code, the label)."""
    return {label.casefold(): (code, label) for code, label in var.codes.items()}


def code_categories(var: Variable) -> list[str]:
    """The labels of a ``code`` variable in code order (the Categorical's categories)."""
    return [var.codes[c] for c in sorted(var.codes)]


def valid_codes_text(var: Variable) -> str:
    """The codes of a ``code`` variable as a message lists them.

    Examples
    --------
    >>> from arr_stats.dictionary import load_dictionary
    >>> valid_codes_text(load_dictionary().table("skjema_t0").variable("kjonn"))
    '1 = Mann, 2 = Kvinne'
    """
    return ", ".join(f"{c} = {lab}" for c, lab in var.codes.items())


def _is_declared_missing(number: float, ranges: Sequence[tuple[float, float]]) -> bool:
    return any(low <= number <= high for low, high in ranges)


def _open_end(value: Any, var: Variable) -> bool:
    """Whether a date cell is the variable's "open" date (NAV: 9999-12-31)."""
    if not var.open_end:
        return False
    if isinstance(value, str):
        text = value.strip()
        return text.startswith(var.open_end) or text.startswith(
            ".".join(reversed(var.open_end.split("-")))
        )
    if isinstance(value, dt.date | pd.Timestamp):
        return value.strftime("%Y-%m-%d") == var.open_end
    return False


def _convert_cell(
    value: Any,
    var: Variable,
    dd: DataDictionary,
    declared: Sequence[tuple[float, float]],
    numeric_epoch: tuple[dt.date, str] | None,
    code_lookup: dict[str, str],
    set_codes: frozenset[int],
) -> tuple[Any, str | None, str | None]:
    """One raw cell → (canonical value or None, problem rule or None, detail)."""
    if is_empty(value, _upper(dd.na_tokens)):
        return None, None, None
    try:
        if var.type == "string":
            text = _as_string(value)
            return (text or None), None, None
        if var.type == "date":
            if _open_end(value, var):
                return None, None, None
            return _as_date(value, numeric_epoch), None, None
        if var.type == "code_str":
            code = _as_string(value).upper()
            if code not in dd.benefits:
                # the codelist is named, not listed: its codes and labels are in
                # the codebook (and the demo's issues stay byte-identical)
                return None, "unknown_code", f"is not in the codelist {var.codelist}"
            return code, None, None
        if var.type == "code_set":
            parts = [p.strip() for p in _as_string(value).split(",") if p.strip()]
            codes = sorted({_as_integer(p) for p in parts})
            bad = [c for c in codes if c not in set_codes]
            if bad:
                return (
                    None,
                    "unknown_code",
                    f"has {bad[0]}, which is not a code of {var.codes_from} "
                    f"(codes: {', '.join(map(str, sorted(set_codes)))})",
                )
            return ",".join(str(c) for c in codes) or None, None, None
        if var.type == "code":
            text = _as_string(value)
            if text in code_lookup:
                return code_lookup[text], None, None
            try:
                code = _as_integer(value)
            except _Unreadable:
                if _parses_as_number(value):
                    raise  # a number, but not a whole one: a type problem
                found = _label_lookup(var).get(text.casefold())
                if found:
                    return found[1], "code_as_label", f"is the label of code {found[0]}"
                return (
                    None,
                    "unknown_code",
                    f"is not one of the codes {valid_codes_text(var)} (nor one of their labels)",
                )
            if code in var.missing_codes or _is_declared_missing(code, declared):
                return None, None, None
            if code not in var.codes:
                return (
                    None,
                    "unknown_code",
                    f"is not one of the codes {valid_codes_text(var)}",
                )
            return var.codes[code], None, None
        number = _as_integer(value) if var.type == "integer" else _as_number(value)
        if number in var.missing_codes or _is_declared_missing(number, declared):
            return None, None, None
        return number, None, None
    except _DateOutOfRange as exc:
        return None, "date_out_of_range", str(exc)
    except _Unreadable as exc:
        return None, "type", f"cannot be read as a {var.type}: {exc}"


def _typed(values: list[Any], var: Variable, dd: DataDictionary) -> pd.Series:
    if var.type == "date":
        return pd.Series(pd.to_datetime(pd.Series(values, dtype=object)), dtype="datetime64[ns]")
    if var.type == "integer":
        return pd.Series(values, dtype="Int64")
    if var.type == "number":
        return pd.Series([np.nan if v is None else v for v in values], dtype="float64")
    if var.type == "code":
        return pd.Series(pd.Categorical(values, categories=code_categories(var)))
    if var.type == "code_str":
        return pd.Series(pd.Categorical(values, categories=list(dd.benefits)))
    return pd.Series(values, dtype=object)


def to_canonical(
    raw: pd.DataFrame,
    table: Table,
    dd: DataDictionary,
    *,
    label: str,
    file_format: str = ".csv",
    row_numbers: Sequence[int] | None = None,
    declared_missing: Mapping[str, Sequence[tuple[float, float]]] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rename, type and clean one raw table with the data dictionary.

    Does not mutate ``raw``.

    Parameters
    ----------
    raw
        A raw table as read (see :mod:`arr_stats.ingest.readers`): column names
        lower-cased, ``RangeIndex`` of positions.
    table
        The dictionary table the file belongs to.
    dd
        The data dictionary.
    label
        How messages name the file, e.g. ``registry/skjema_t0.sav``.
    file_format
        The file's extension; decides the epoch of dates stored as plain numbers.
    row_numbers
        The source row number of each raw row (:attr:`RawFile.source_rows
        <arr_stats.ingest.readers.RawFile.source_rows>`); default 1, 2, ….
    declared_missing
        Raw column → value ranges the file declares user-missing (SPSS): such
        values are missing whatever the dictionary says.

    Returns
    -------
    (canonical, problems)
        ``canonical``: one column per dictionary variable, canonical names and
        types, index = 1-based source row number (named ``row``).
        ``problems``: one row per cell that could not be read (``rule`` =
        ``type``) or is not an allowed code (``rule`` = ``unknown_code``), with columns
        :data:`PROBLEM_COLUMNS`; those cells are missing in ``canonical``,
        except a code written as its label (``code_as_label``), which is read.

    Raises
    ------
    DeliveryError
        A required column is absent.

    Examples
    --------
    >>> from arr_stats.dictionary import load_dictionary
    >>> dd = load_dictionary()
    >>> raw = pd.DataFrame({"forlop_id": ["E1 ", "E2"], "helse": ["2", "98"],
    ...                     "svar_dato": ["2024-03-01", "01.04.2024"]})
    >>> canon, problems = to_canonical(raw, dd.table("skjema_t1"), dd, label="t1.csv")
    >>> canon[["episode_id", "self_rated_health", "response_date"]].to_dict("list")
    ... # doctest: +NORMALIZE_WHITESPACE
    {'episode_id': ['E1', 'E2'], 'self_rated_health': ['God', nan],
     'response_date': [Timestamp('2024-03-01 00:00:00'), Timestamp('2024-04-01 00:00:00')]}
    >>> list(canon.index)
    [1, 2]
    >>> len(problems)
    0
    """
    absent = [v.raw for v in table.variables if v.required and v.raw not in raw.columns]
    if absent:
        names = ", ".join(absent)
        raise DeliveryError(
            f"{label}: required column{'s' if len(absent) > 1 else ''} {names} "
            f"missing (the columns are: {', '.join(map(str, raw.columns))}); "
            f"see the codebook (arr-stats dictionary) for the expected names"
        )
    numeric_epoch = NUMERIC_DATE_EPOCHS.get(file_format)
    numbers = list(row_numbers) if row_numbers is not None else list(range(1, len(raw) + 1))
    if len(numbers) != len(raw):
        raise ValueError(f"{label}: {len(numbers)} row numbers for {len(raw)} rows")
    rows = pd.Index(numbers, name="row", dtype="int64")
    declared_missing = declared_missing or {}
    columns: dict[str, pd.Series] = {}
    problems: list[dict[str, Any]] = []
    for var in table.variables:
        set_codes: frozenset[int] = frozenset()
        if var.codes_from:
            stem, _, raw_name = var.codes_from.partition(".")
            set_codes = frozenset(dd.table(stem).variable(raw_name).codes)
        lookup = _code_lookup(var) if var.type == "code" else {}
        declared = tuple(declared_missing.get(var.raw, ()))
        if var.raw not in raw.columns:
            default = None if var.empty_means is None else float(var.empty_means)
            values: list[Any] = [default] * len(raw)
        else:
            values = []
            for row, cell in zip(numbers, raw[var.raw].tolist(), strict=True):
                value, rule, detail = _convert_cell(
                    cell, var, dd, declared, numeric_epoch, lookup, set_codes
                )
                if rule:
                    problems.append(
                        {
                            "row": row,
                            "column": var.raw,
                            "name": var.name,
                            "value": _as_string(cell),
                            "rule": rule,
                            "detail": detail,
                        }
                    )
                elif value is None and var.empty_means is not None and is_empty(cell, dd.na_tokens):
                    value = float(var.empty_means)
                values.append(value)
        series = _typed(values, var, dd)
        series.index = rows
        columns[var.name] = series
    canonical = pd.DataFrame(columns, index=rows)
    problem_frame = pd.DataFrame(problems, columns=list(PROBLEM_COLUMNS))
    problem_frame["row"] = problem_frame["row"].astype("int64")
    return canonical, problem_frame


def swapped_code_labels(
    value_labels: Mapping[str, Mapping[float, str]], table: Table
) -> list[tuple[str, int, str, int]]:
    """Codes a file labels with another code's dictionary label (e.g. 1 = Kvinne).

    A file whose own value labels say that code 1 is "Kvinne", where the
    dictionary has 1 = Mann and 2 = Kvinne, means its codes differently:
    reading the codes would silently swap the values. Labels that are no
    dictionary label (English, abbreviations, the missing codes) are not
    compared.

    Returns
    -------
    list
        (column, the file's code, its label, the dictionary's code of that label).

    Examples
    --------
    >>> from arr_stats.dictionary import load_dictionary
    >>> t0 = load_dictionary().table("skjema_t0")
    >>> swapped_code_labels({"kjonn": {1.0: "Kvinne", 2.0: "Mann"}}, t0)
    [('kjonn', 1, 'Kvinne', 2), ('kjonn', 2, 'Mann', 1)]
    >>> swapped_code_labels({"kjonn": {1.0: "male", 2.0: "MANN"}}, t0)
    [('kjonn', 2, 'MANN', 1)]
    """
    found = []
    for var in table.variables:
        if var.type != "code" or var.raw not in value_labels:
            continue
        by_label = {label.casefold(): code for code, label in var.codes.items()}
        for code, label in value_labels[var.raw].items():
            if not float(code).is_integer():
                continue
            meant = by_label.get(str(label).strip().casefold())
            if meant is not None and meant != int(code):
                found.append((var.raw, int(code), str(label), meant))
    return found
