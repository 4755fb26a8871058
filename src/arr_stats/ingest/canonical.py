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
integer    ``Int64``; ``3`` and ``3.0`` are 3; ``3.5`` is a type problem
number     ``float64``; a decimal comma (``62,5``) is read as a point
date       ``datetime64[ns]``; ISO ``YYYY-MM-DD`` or ``DD.MM.YYYY`` text,
           date/datetime values, or a plain number counted from the
           format's epoch (SPSS: seconds since 1582-10-14; Stata and SAS:
           days since 1960-01-01) when the file stored the date without
           a date format
code       ``Categorical`` of the Norwegian labels, categories in code
           order; the code (``1``, ``"1"``, ``1.0``) or the exact label
code_str   ``Categorical`` of the codelist's codes, stripped, upper case
code_set   ``str`` of comma-separated codes, sorted, e.g. ``"1,3"``
=========  ==========================================================

In tables whose dictionary says ``missing_codes: true`` (the registry files),
the dictionary's missing codes (97, 98, 99) in integer, number and code
variables become missing, whether the file declared them user-missing or not.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

import numpy as np
import pandas as pd

from arr_stats.dictionary import DataDictionary, Table, Variable
from arr_stats.errors import DeliveryError

#: Columns of the cell-problem table that :func:`to_canonical` returns.
PROBLEM_COLUMNS = ("row", "column", "name", "value", "rule", "detail")

#: Epoch of a date stored as a plain number, by file format: (origin, unit).
NUMERIC_DATE_EPOCHS: dict[str, tuple[dt.date, str]] = {
    ".sav": (dt.date(1582, 10, 14), "s"),
    ".dta": (dt.date(1960, 1, 1), "D"),
    ".sas7bdat": (dt.date(1960, 1, 1), "D"),
}

_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ]00:00(?::00(?:\.0+)?)?)?$")
_NORWEGIAN_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")


class _Unreadable(ValueError):
    """A value that cannot be read as its variable's type."""


def is_empty(value: Any) -> bool:
    """Whether a raw cell is empty: None, NaN, NaT, NA or blank text.

    Examples
    --------
    >>> [is_empty(v) for v in (None, float("nan"), "  ", "0", 0)]
    [True, True, True, False, False]
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    if isinstance(value, float | np.floating):
        return math.isnan(value)
    return False


def _as_number(value: Any) -> float:
    if isinstance(value, bool | np.bool_):
        raise _Unreadable("a true/false value, not a number")
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if text.count(",") == 1 and "." not in text:
            text = text.replace(",", ".")
        try:
            number = float(text)
        except ValueError:
            raise _Unreadable("not a number") from None
        if not math.isfinite(number):
            raise _Unreadable("not a finite number")
        return number
    raise _Unreadable(f"a {type(value).__name__}, not a number")


def _as_integer(value: Any) -> int:
    number = _as_number(value)
    if number != int(number):
        raise _Unreadable("not a whole number")
    return int(number)


def _as_string(value: Any) -> str:
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    return str(value).strip()


def _as_date(value: Any, numeric_epoch: tuple[dt.date, str] | None) -> pd.Timestamp:
    if isinstance(value, pd.Timestamp | dt.datetime):
        return pd.Timestamp(value).normalize().tz_localize(None)
    if isinstance(value, dt.date):
        return pd.Timestamp(value)
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value).normalize()
    if isinstance(value, str):
        text = value.strip()
        match = _ISO_DATE.match(text)
        if match:
            year, month, day = (int(g) for g in match.groups())
        else:
            match = _NORWEGIAN_DATE.match(text)
            if not match:
                raise _Unreadable("not a date (expected YYYY-MM-DD)")
            day, month, year = (int(g) for g in match.groups())
        try:
            return pd.Timestamp(dt.date(year, month, day))
        except ValueError:
            raise _Unreadable("not a calendar date") from None
    if isinstance(value, int | float | np.integer | np.floating) and numeric_epoch:
        origin, unit = numeric_epoch
        days = float(value) / 86400 if unit == "s" else float(value)
        try:  # Python dates: the SPSS epoch 1582 is outside pandas' nanosecond range
            return pd.Timestamp(origin + dt.timedelta(days=math.floor(days)))
        except (OverflowError, ValueError):
            raise _Unreadable("a number that is no date") from None
    raise _Unreadable("not a date")


def _code_lookup(var: Variable) -> dict[str, str]:
    """Every accepted spelling of a code → its label (the code as text, the label)."""
    lookup = {str(code): label for code, label in var.codes.items()}
    lookup.update({label: label for label in var.codes.values()})
    return lookup


def code_categories(var: Variable) -> list[str]:
    """The labels of a ``code`` variable in code order (the Categorical's categories)."""
    return [var.codes[c] for c in sorted(var.codes)]


def _convert_cell(
    value: Any,
    var: Variable,
    dd: DataDictionary,
    missing_codes: frozenset[int],
    numeric_epoch: tuple[dt.date, str] | None,
    code_lookup: dict[str, str],
    set_codes: frozenset[int],
) -> tuple[Any, str | None, str | None]:
    """One raw cell → (canonical value or None, problem rule or None, detail)."""
    if is_empty(value):
        return None, None, None
    try:
        if var.type == "string":
            text = _as_string(value)
            return (text or None), None, None
        if var.type == "date":
            return _as_date(value, numeric_epoch), None, None
        if var.type == "code_str":
            code = _as_string(value).upper()
            if code not in dd.benefits:
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
                    f"has {bad[0]}, which is not a code of {var.codes_from}",
                )
            return ",".join(str(c) for c in codes) or None, None, None
        if var.type == "code":
            text = _as_string(value)
            if text in code_lookup:
                label = code_lookup[text]
            else:
                code = _as_integer(value)
                if code in missing_codes:
                    return None, None, None
                if code not in var.codes:
                    return (
                        None,
                        "unknown_code",
                        "is not one of the codes "
                        + ", ".join(f"{c} = {lab}" for c, lab in var.codes.items()),
                    )
                label = var.codes[code]
            return label, None, None
        number = _as_integer(value) if var.type == "integer" else _as_number(value)
        if number in missing_codes:
            return None, None, None
        return number, None, None
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

    Returns
    -------
    (canonical, problems)
        ``canonical``: one column per dictionary variable, canonical names and
        types, index = 1-based source row number (named ``row``).
        ``problems``: one row per cell that could not be read (``rule`` =
        ``type``) or is not an allowed code (``rule`` = ``unknown_code``), with columns
        :data:`PROBLEM_COLUMNS`; those cells are missing in ``canonical``.

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
    missing_codes = frozenset(dd.missing_codes) if table.missing_codes else frozenset()
    numeric_epoch = NUMERIC_DATE_EPOCHS.get(file_format)
    rows = pd.RangeIndex(1, len(raw) + 1, name="row")
    columns: dict[str, pd.Series] = {}
    problems: list[dict[str, Any]] = []
    for var in table.variables:
        set_codes: frozenset[int] = frozenset()
        if var.codes_from:
            stem, _, raw_name = var.codes_from.partition(".")
            set_codes = frozenset(dd.table(stem).variable(raw_name).codes)
        lookup = _code_lookup(var) if var.type == "code" else {}
        if var.raw not in raw.columns:
            values: list[Any] = [None] * len(raw)
        else:
            values = []
            for position, cell in enumerate(raw[var.raw].tolist()):
                value, rule, detail = _convert_cell(
                    cell, var, dd, missing_codes, numeric_epoch, lookup, set_codes
                )
                if rule:
                    problems.append(
                        {
                            "row": position + 1,
                            "column": var.raw,
                            "name": var.name,
                            "value": _as_string(cell),
                            "rule": rule,
                            "detail": detail,
                        }
                    )
                elif value is None and var.empty_means is not None and is_empty(cell):
                    value = float(var.empty_means)
                values.append(value)
        series = _typed(values, var, dd)
        series.index = rows
        columns[var.name] = series
    canonical = pd.DataFrame(columns, index=rows)
    problem_frame = pd.DataFrame(problems, columns=list(PROBLEM_COLUMNS))
    problem_frame["row"] = problem_frame["row"].astype("int64")
    return canonical, problem_frame
