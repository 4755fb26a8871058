"""Validation driven by the data dictionary: which rows are kept, which rejected, and why.

Every problem is one row of the ``issues`` table (docs/architecture.md):
``table, source_file, row, column, value, rule, severity, message``.
``severity`` is ``error`` (the row is rejected) or ``warning`` (the row is
kept and the offending value set to missing).

The rules, and the decision for each, are listed in :data:`RULES` and
explained in ``analysis/README.md`` ("Validation rules"). In short:

- a problem with a **required** value (empty, unreadable, not a code, out of
  range) rejects the row – without it the row cannot be used;
- a problem with an **optional** questionnaire or background value is a
  warning: the row is kept and that one value becomes missing;
- in the NAV **spell tables** (``benefits``, ``employment``) any invalid value
  rejects the row: a spell with a doubtful grade, code or date cannot be read
  day by day (outcomes.md, "Cleaning rules for NAV spells");
- keys: the first row of a unique key is kept; every later row with the same
  key is rejected (``duplicate_key``), and the message names the kept row;
- dates out of order and spells starting after data end reject the row;
- a reference to an unknown episode or person rejects the row;
- plausibility (the run configuration's ``[registry]`` limits): a registry
  date after the data end, an admission or discharge before the registry's
  first year, an age at admission outside ``min_age``–``max_age``;
- institutions: an episode's ``inst_id`` that is in no year of
  ``institusjoner`` rejects the row (``unknown_institution``: an id Excel
  turned into ``9,87054E+08`` is caught here); one that is there, but not
  for the discharge year, is a warning and the episode is kept
  (``institution_year_missing``);
- a code written as its label, and a CSV row with fewer fields than the
  header, are warnings that change no value (``code_as_label``, ``short_row``).

Structural problems (a file or required column missing, an unreadable file)
are not issues: they raise :class:`arr_stats.errors.DeliveryError`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from arr_stats.dictionary import DataDictionary, Table, Variable
from arr_stats.ingest.canonical import PROBLEM_COLUMNS, VALUE_KEPT_RULES
from arr_stats.ingest.readers import shorten

#: Columns of the issues table, in order.
ISSUE_COLUMNS: tuple[str, ...] = (
    "table",
    "source_file",
    "row",
    "column",
    "value",
    "rule",
    "severity",
    "message",
)

#: Every row-level rule: name → what it means. Severity follows the policy above.
RULES: dict[str, str] = {
    "required": "a required value is empty (or a missing-value code)",
    "type": "a value cannot be read as its type (date, integer, number)",
    "unknown_code": "a value is not one of the variable's codes or not in its codelist",
    "out_of_range": "a number outside the variable's range in the data dictionary",
    "negative_position_percent": "an employment position percentage below 0",
    "diagnosis_code": "a diagnosis code that is neither ICD-10 nor ICPC-2 in form",
    "duplicate_key": "a row whose unique key an earlier row already has (the first is kept)",
    "discharge_before_admission": "a discharge date before the admission date",
    "end_before_start": "a spell whose end date is before its start date",
    "start_after_data_end": "a NAV spell that starts after the data end (NAV extraction date)",
    "unknown_episode": "a follow-up answer for an episode that is not in skjema_t0",
    "unknown_person": "a NAV spell of a person who is not in personer",
    "code_as_label": "a coded column that writes the labels (ja, Kvinne) instead of the codes",
    "short_row": "a CSV row with fewer fields than the header (the missing ones read as empty)",
    "date_out_of_range": "a date before 1900-01-01 or after 2200-12-31 (the row is rejected)",
    "date_after_data_end": "a registry date after the data end (NAV extraction date)",
    "outside_registry_period": "an admission or discharge before the registry's first year",
    "implausible_age": "an age at admission outside the configured plausible ages",
    "unknown_institution": "an episode whose inst_id is in no year of institusjoner",
    "institution_year_missing": "an episode whose inst_id is in institusjoner, not for its year",
    "consent_unknown": "a consent that is neither 1 (Ja) nor 0 (Nei): the episode is excluded",
}

#: Rules whose warning leaves the value as it is (the row is kept unchanged).
ROW_KEPT_AS_IS_RULES: frozenset[str] = VALUE_KEPT_RULES | {
    "short_row",
    "institution_year_missing",
    "consent_unknown",
}

#: Rules that reject the row whatever the variable (data-model.md: "a date before
#: 1900-01-01, or a registry date after the data end, is an error on that row").
ROW_ERROR_RULES: frozenset[str] = frozenset({"date_out_of_range", "date_after_data_end"})

#: Registry date columns the registry period applies to (``outside_registry_period``).
PERIOD_DATES: tuple[str, ...] = ("admission_date", "discharge_date")


@dataclass(frozen=True)
class Plausibility:
    """Limits of plausible registry values (the run configuration's ``[registry]``).

    Attributes
    ----------
    first_year
        The registry's first year: an admission or discharge before 1 January
        of it is an error.
    min_age, max_age
        Plausible ages at admission (admission year − birth year).
    """

    first_year: int = 2000
    min_age: int = 16
    max_age: int = 80


#: Range violations that the NAV cleaning rules (outcomes.md) name on their own:
#: (canonical table, variable, side of the range) → rule.
NAMED_RANGE_RULES: dict[tuple[str, str, str], str] = {
    ("employment", "position_percent", "below"): "negative_position_percent",
}

#: Canonical tables of NAV spells, where any invalid value rejects the row.
SPELL_TABLES: tuple[str, ...] = ("benefits", "employment")

#: Pairs of date columns that must be in order (start ≤ end) when a table has
#: both, and the rule a row breaking the order is reported under.
DATE_ORDER: tuple[tuple[str, str, str], ...] = (
    ("admission_date", "discharge_date", "discharge_before_admission"),
    ("start_date", "end_date", "end_before_start"),
)


def severity_for(table: Table, var: Variable) -> str:
    """``error`` when a bad value of this variable rejects the row, else ``warning``.

    Examples
    --------
    >>> from arr_stats.dictionary import load_dictionary
    >>> dd = load_dictionary()
    >>> t1 = dd.table("skjema_t1")
    >>> severity_for(t1, t1.variable("helse")), severity_for(t1, t1.variable("forlop_id"))
    ('warning', 'error')
    >>> ytelser = dd.table("ytelser")
    >>> severity_for(ytelser, ytelser.variable("grad"))
    'error'
    """
    if var.required or table.canonical_table in SPELL_TABLES:
        return "error"
    return "warning"


def format_value(value: Any) -> str:
    """A cell value as text for the issues table (whole numbers without ``.0``).

    Examples
    --------
    >>> format_value(150.0), format_value(62.5), format_value(pd.Timestamp("2024-03-01"))
    ('150', '62.5', '2024-03-01')
    """
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return str(value)


def make_issue(
    table: Table,
    label: str,
    row: int,
    column: str,
    value: Any,
    rule: str,
    severity: str,
    what: str,
) -> dict[str, Any]:
    """One issue row with a plain-words message naming file, row, column and rule.

    Examples
    --------
    >>> from arr_stats.dictionary import load_dictionary
    >>> t1 = load_dictionary().table("skjema_t1")
    >>> make_issue(t1, "registry/skjema_t1.csv", 4, "helse", "7", "unknown_code", "warning",
    ...            "7 is not a code")["message"]
    'registry/skjema_t1.csv, row 4, column helse: 7 is not a code (rule unknown_code; value set to missing, row kept)'
    """
    if severity == "error":
        consequence = "row rejected"
    elif rule == "consent_unknown":
        consequence = "episode excluded as consent unknown"
    elif rule in ROW_KEPT_AS_IS_RULES:
        consequence = "row kept"
    else:
        consequence = "value set to missing, row kept"
    return {
        "table": table.canonical_table,
        "source_file": label,
        "row": int(row),
        "column": column,
        "value": shorten(format_value(value)),
        "rule": rule,
        "severity": severity,
        "message": f"{label}, row {row}, column {column}: {what} (rule {rule}; {consequence})",
    }


def issues_frame(issues: list[dict[str, Any]]) -> pd.DataFrame:
    """A list of issue dicts as the typed issues table (empty list → empty table)."""
    frame = pd.DataFrame(issues, columns=list(ISSUE_COLUMNS))
    return frame.astype({"row": "int64"}) if len(frame) else frame.astype({"row": "int64"})


def _cell_issues(
    canonical: pd.DataFrame,
    problems: pd.DataFrame,
    table: Table,
    dd: DataDictionary,
    label: str,
) -> list[tuple[dict[str, Any], str]]:
    """Issues about single values; each paired with the canonical column it concerns."""
    found: list[tuple[dict[str, Any], str]] = []
    reported: set[tuple[int, str]] = set()
    as_labels = problems[problems["rule"] == "code_as_label"]
    for name, group in as_labels.groupby("name", sort=False):
        first = group.iloc[0]
        var = table.variable(str(name))
        more = len(group) - 1
        what = (
            f"value {shorten(first.value)!r} {first.detail}: the column writes labels instead "
            f"of codes ({len(group)} row{'s' if more else ''}"
            f"{', this is the first' if more else ''}), read through the dictionary's labels "
            f"without case ({', '.join(f'{c} = {lab}' for c, lab in var.codes.items())})"
        )
        issue = make_issue(
            table, label, first.row, first.column, first.value, "code_as_label", "warning", what
        )
        found.append((issue, str(name)))
    for p in problems[problems["rule"] != "code_as_label"].itertuples(index=False):
        var = table.variable(p.name)
        what = (
            f"value {shorten(p.value)!r}: {p.detail}"
            if p.rule in ROW_ERROR_RULES
            else (f"value {shorten(p.value)!r} {p.detail}")
        )
        severity = "error" if p.rule in ROW_ERROR_RULES else severity_for(table, var)
        issue = make_issue(table, label, p.row, p.column, p.value, p.rule, severity, what)
        found.append((issue, p.name))
        reported.add((p.row, p.name))
    for var in table.variables:
        column = canonical[var.name]
        if var.required:
            for row in column.index[column.isna()]:
                if (row, var.name) not in reported:
                    what = "a required value is empty or a missing-value code"
                    found.append(
                        (
                            make_issue(table, label, row, var.raw, "", "required", "error", what),
                            var.name,
                        )
                    )
        if var.range and var.type in ("integer", "number"):
            low, high = var.range
            values = column.astype("float64")
            outside = values.notna() & ((values < low) | (values > high))
            for row, value in column[outside].items():
                side = "below" if float(value) < low else "above"
                rule = NAMED_RANGE_RULES.get(
                    (table.canonical_table, var.name, side), "out_of_range"
                )
                what = f"{format_value(float(value))} is outside the range {low:g}–{high:g}"
                issue = make_issue(
                    table, label, row, var.raw, float(value), rule, severity_for(table, var), what
                )
                found.append((issue, var.name))
        if var.codelist == "diagnosis_groups":
            for row, code in column.dropna().items():
                if not dd.is_valid_diagnosis(code):
                    what = f"diagnosis code {code!r} is neither ICD-10 (e.g. M54.5) nor ICPC-2 (e.g. L03)"
                    issue = make_issue(
                        table,
                        label,
                        row,
                        var.raw,
                        code,
                        "diagnosis_code",
                        severity_for(table, var),
                        what,
                    )
                    found.append((issue, var.name))
    return found


def _apply(canonical: pd.DataFrame, found: list[tuple[dict[str, Any], str]]) -> pd.DataFrame:
    """Drop the rows of errors and blank the cells of warnings (a copy)."""
    out = canonical.copy()
    rejected = {issue["row"] for issue, _ in found if issue["severity"] == "error"}
    for issue, name in found:
        if (
            issue["severity"] == "warning"
            and issue["rule"] not in ROW_KEPT_AS_IS_RULES
            and issue["row"] in out.index
        ):
            out.loc[issue["row"], name] = None
    return out.drop(index=sorted(rejected & set(out.index)))


def _key_issues(kept: pd.DataFrame, table: Table, label: str) -> list[tuple[dict[str, Any], str]]:
    if not table.keys:
        return []
    names = [table.variable(k).name for k in table.keys]
    first_raw = table.keys[0]
    found: list[tuple[dict[str, Any], str]] = []
    keys = kept[names].astype(object).where(kept[names].notna(), None)
    first_row: dict[tuple[Any, ...], int] = {}
    for row, key_values in zip(keys.index, keys.itertuples(index=False, name=None), strict=True):
        if key_values not in first_row:
            first_row[key_values] = row
            continue
        key = ", ".join(format_value(v) for v in key_values)
        what = (
            f"{'/'.join(table.keys)} {key} is already on row {first_row[key_values]}, which is kept"
        )
        issue = make_issue(table, label, row, first_raw, key, "duplicate_key", "error", what)
        found.append((issue, names[0]))
    return found


def _date_order_issues(
    kept: pd.DataFrame, table: Table, label: str
) -> list[tuple[dict[str, Any], str]]:
    found: list[tuple[dict[str, Any], str]] = []
    for start, end, rule in DATE_ORDER:
        if start in kept.columns and end in kept.columns:
            wrong = kept[end] < kept[start]
            end_raw, start_raw = table.variable(end).raw, table.variable(start).raw
            for row in kept.index[wrong.fillna(False)]:
                e, s = format_value(kept.at[row, end]), format_value(kept.at[row, start])
                what = f"{end_raw} {e} is before {start_raw} {s}"
                found.append((make_issue(table, label, row, end_raw, e, rule, "error", what), end))
    return found


def _data_end_issues(
    kept: pd.DataFrame, table: Table, label: str, data_end: dt.date | None
) -> list[tuple[dict[str, Any], str]]:
    if data_end is None:
        return []
    found = []
    if table.canonical_table in SPELL_TABLES:
        start_raw = table.variable("start_date").raw
        late = kept["start_date"] > pd.Timestamp(data_end)
        for row in kept.index[late.fillna(False)]:
            s = format_value(kept.at[row, "start_date"])
            what = f"the spell starts {s}, after the data end {data_end.isoformat()}"
            found.append(
                (
                    make_issue(
                        table, label, row, start_raw, s, "start_after_data_end", "error", what
                    ),
                    "start_date",
                )
            )
        return found
    if table.source != "registry":
        return []
    for var in table.variables:
        if var.type != "date" or var.name not in kept.columns:
            continue
        late = kept[var.name] > pd.Timestamp(data_end)
        for row in kept.index[late.fillna(False)]:
            s = format_value(kept.at[row, var.name])
            what = (
                f"the date {s} is after the data end {data_end.isoformat()}: "
                f"a registry date cannot lie after the data were extracted"
            )
            issue = make_issue(table, label, row, var.raw, s, "date_after_data_end", "error", what)
            found.append((issue, var.name))
    return found


def _plausibility_issues(
    kept: pd.DataFrame, table: Table, label: str, limits: Plausibility | None
) -> list[tuple[dict[str, Any], str]]:
    """Admission/discharge before the registry's first year; implausible age at admission."""
    if limits is None or table.source != "registry":
        return []
    found: list[tuple[dict[str, Any], str]] = []
    first_day = pd.Timestamp(dt.date(limits.first_year, 1, 1))
    for name in PERIOD_DATES:
        if name not in kept.columns:
            continue
        var = table.variable(name)
        early = kept[name] < first_day
        for row in kept.index[early.fillna(False)]:
            s = format_value(kept.at[row, name])
            what = (
                f"the date {s} is before the registry's first year {limits.first_year} "
                f"([registry] first_year in the run configuration)"
            )
            issue = make_issue(
                table, label, row, var.raw, s, "outside_registry_period", "error", what
            )
            found.append((issue, name))
    if {"admission_date", "birth_year"} <= set(kept.columns):
        var = table.variable("birth_year")
        age = kept["admission_date"].dt.year.astype("Int64") - kept["birth_year"].astype("Int64")
        odd = age.notna() & ((age < limits.min_age) | (age > limits.max_age))
        flagged = {issue["row"] for issue, _ in found}  # a wrong date makes the age wrong too
        for row in kept.index[odd.fillna(False).astype(bool)]:
            if row in flagged:
                continue
            born = format_value(kept.at[row, "birth_year"])
            what = (
                f"birth year {born} gives age {int(age[row])} at admission, outside the "
                f"plausible ages {limits.min_age}–{limits.max_age} ([registry] min_age, max_age)"
            )
            issue = make_issue(table, label, row, var.raw, born, "implausible_age", "error", what)
            found.append((issue, "birth_year"))
    return found


_SCIENTIFIC = re.compile(r"^\s*\d+(?:[.,]\d+)?E[+-]?\d+\s*$", re.IGNORECASE)


def id_hint(value: str) -> str:
    """Why an identifier may not match: Excel's scientific notation, lost leading zeros.

    Examples
    --------
    >>> id_hint("9,87054E+08")
    ' – it looks like a number Excel showed in scientific notation, which loses digits'
    >>> id_hint("P100501")
    ''
    """
    if _SCIENTIFIC.match(str(value)):
        return " – it looks like a number Excel showed in scientific notation, which loses digits"
    return ""


def _institution_issues(
    kept: pd.DataFrame,
    table: Table,
    label: str,
    institutions: Mapping[str, frozenset[int]] | None,
) -> list[tuple[dict[str, Any], str]]:
    """Every episode's ``inst_id`` must be in ``institusjoner``, for its discharge year."""
    if institutions is None or "institution_id" not in kept.columns:
        return []
    var = table.variable("institution_id")
    found: list[tuple[dict[str, Any], str]] = []
    years = kept["discharge_date"].dt.year if "discharge_date" in kept.columns else None
    for row, inst in kept["institution_id"].dropna().items():
        if inst not in institutions:
            what = f"institution {inst!r} is in no year of institusjoner{id_hint(inst)}"
            issue = make_issue(
                table, label, row, var.raw, inst, "unknown_institution", "error", what
            )
            found.append((issue, "institution_id"))
            continue
        year = None if years is None or pd.isna(years[row]) else int(years[row])
        if year is not None and year not in institutions[inst]:
            have = ", ".join(map(str, sorted(institutions[inst])))
            what = (
                f"institution {inst} has no institusjoner row for {year}, the discharge year "
                f"(it has {have}); the episode is kept"
            )
            issue = make_issue(
                table, label, row, var.raw, inst, "institution_year_missing", "warning", what
            )
            found.append((issue, "institution_id"))
    return found


def short_row_issues(
    short_rows: Mapping[int, tuple[int, int]], table: Table, label: str, columns: list[str]
) -> list[tuple[dict[str, Any], str]]:
    """A warning for each CSV row with fewer fields than the header (read as empty)."""
    found = []
    for row, (fields, width) in sorted(short_rows.items()):
        first_missing = columns[fields] if fields < len(columns) else ""
        what = (
            f"the row has {fields} fields where the header has {width}; the last "
            f"{width - fields} (from {first_missing}) are read as empty"
        )
        issue = make_issue(table, label, row, first_missing, "", "short_row", "warning", what)
        found.append((issue, ""))
    return found


def reference_rule(var: Variable) -> str:
    """The rule name of a broken reference: ``unknown_`` + the referenced entity.

    Examples
    --------
    >>> from arr_stats.dictionary import load_dictionary
    >>> reference_rule(load_dictionary().table("ytelser").variable("lopenr"))
    'unknown_person'
    """
    return "unknown_" + var.name.removesuffix("_id")


def _reference_issues(
    kept: pd.DataFrame,
    table: Table,
    label: str,
    references: Mapping[str, Mapping[str, str | None]],
) -> list[tuple[dict[str, Any], str]]:
    found: list[tuple[dict[str, Any], str]] = []
    for var in table.variables:
        if not var.references or var.references not in references:
            continue
        known = references[var.references]
        target_stem = var.references.split(".")[0]
        near = _near_keys(known)
        for row, value in kept[var.name].dropna().items():
            if value in known and known[value] is None:
                continue
            if value in known:
                what = f"{value} is in {target_stem}, but {known[value]}"
            else:
                what = f"{value} is not in {target_stem}"
            issue = make_issue(
                table,
                label,
                row,
                var.raw,
                value,
                reference_rule(var),
                "error",
                what + (id_hint(value) or _near_hint(value, near, target_stem)),
            )
            found.append((issue, var.name))
    return found


def _near_form(value: str) -> str:
    """An identifier without what producers add or lose: case, a ``.0``, leading zeros."""
    text = str(value).strip().upper().removesuffix(".0")
    return text.lstrip("0") or text


def _near_keys(known: Mapping[str, str | None]) -> dict[str, str]:
    return {_near_form(k): k for k in known}


def _near_hint(value: str, near: Mapping[str, str], target_stem: str) -> str:
    """Why an unknown id may be a known one written differently (``1001.0``, ``001001``).

    Examples
    --------
    >>> _near_hint("1001.0", {"1001": "01001"}, "skjema_t0")
    " – skjema_t0 has '01001': the same id written differently (leading zeros, a decimal '.0' or case); deliver the ids as text, written alike"
    """
    match = near.get(_near_form(value))
    if match is None or match == value:
        return ""
    return (
        f" – {target_stem} has {match!r}: the same id written differently (leading zeros, "
        f"a decimal '.0' or case); deliver the ids as text, written alike"
    )


def validate_table(
    canonical: pd.DataFrame,
    problems: pd.DataFrame,
    table: Table,
    dd: DataDictionary,
    *,
    label: str,
    data_end: dt.date | None = None,
    references: Mapping[str, Mapping[str, str | None]] | None = None,
    plausibility: Plausibility | None = None,
    institutions: Mapping[str, frozenset[int]] | None = None,
    row_warnings: list[tuple[dict[str, Any], str]] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Validate one canonical table; return the kept rows and the issues.

    Does not mutate its inputs. Checks run in this order, each on the rows
    the earlier ones kept: single values (type, code, required, range,
    diagnosis code); unique keys; date order; spell start after data end;
    references to other tables.

    Parameters
    ----------
    canonical, problems
        The output of :func:`arr_stats.ingest.canonical.to_canonical`.
    table
        The dictionary table.
    dd
        The data dictionary.
    label
        The file as messages name it, e.g. ``nav/ytelser.csv``.
    data_end
        NAV extraction date; spells starting after it are rejected, and a
        registry date after it is a ``date_after_data_end`` issue.
    references
        For each referenced key (the dictionary's ``references``, e.g.
        ``personer.lopenr``): a mapping of the known values to ``None`` (valid)
        or to a reason why the value cannot be used (e.g. "its row was
        rejected"); a value absent from the mapping is unknown.
    plausibility
        Registry limits (first year, ages); ``None``: not checked.
    institutions
        ``inst_id`` → the years ``institusjoner`` has for it (T0 only).
    row_warnings
        Issues found before (e.g. :func:`short_row_issues`), reported as they are.

    Returns
    -------
    (kept, issues)
        ``kept``: the canonical rows kept (index = source row), warned values
        set to missing; ``issues``: the issues table (:data:`ISSUE_COLUMNS`).
    """
    assert tuple(problems.columns) == PROBLEM_COLUMNS
    found = list(row_warnings or []) + _cell_issues(canonical, problems, table, dd, label)
    kept = _apply(canonical, found)
    for check in (
        lambda k: _key_issues(k, table, label),
        lambda k: _date_order_issues(k, table, label),
        lambda k: _data_end_issues(k, table, label, data_end),
        lambda k: _plausibility_issues(k, table, label, plausibility),
        lambda k: _institution_issues(k, table, label, institutions),
        lambda k: _reference_issues(k, table, label, references or {}),
    ):
        more = check(kept)
        kept = _apply(kept, more)
        found += more
    issues = [issue for issue, _ in found]
    issues.sort(key=lambda i: i["row"])
    return kept, issues_frame(issues)
