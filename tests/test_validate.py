"""Validation rules on small canonical tables; expected issues worked out by hand."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from arr_stats.dictionary import load_dictionary
from arr_stats.ingest.canonical import to_canonical
from arr_stats.ingest.validate import ISSUE_COLUMNS, severity_for, validate_table

DD = load_dictionary()


def run(stem: str, raw: dict, **kwargs):
    table = DD.table(stem)
    canonical, problems = to_canonical(pd.DataFrame(raw), table, DD, label=f"f/{stem}.csv")
    return validate_table(canonical, problems, table, DD, label=f"f/{stem}.csv", **kwargs)


def test_severity_policy() -> None:
    # required → error; optional registry value → warning; any NAV spell value → error
    t0, inst, pers, yt = (
        DD.table(s) for s in ("skjema_t0", "institusjoner", "personer", "ytelser")
    )
    assert severity_for(t0, t0.variable("kjonn")) == "error"
    assert severity_for(t0, t0.variable("rehab_type")) == "warning"
    assert severity_for(inst, inst.variable("snittalder")) == "warning"
    assert severity_for(pers, pers.variable("fodselsaar")) == "warning"
    assert severity_for(yt, yt.variable("tom")) == "error"


def test_duplicate_key_keeps_the_first_row() -> None:
    kept, issues = run(
        "skjema_t1",
        {"forlop_id": ["E1", "E2", "E1", "E1"], "helse": ["1", "2", "3", "1"]},
    )
    assert list(kept.index) == [1, 2]
    assert issues[["row", "rule", "severity"]].values.tolist() == [
        [3, "duplicate_key", "error"],
        [4, "duplicate_key", "error"],
    ]
    assert "forlop_id E1 is already on row 1, which is kept" in issues["message"].iloc[0]
    assert list(issues.columns) == list(ISSUE_COLUMNS)


def test_warning_blanks_the_value_error_drops_the_row() -> None:
    kept, issues = run(
        "skjema_t1",
        {"forlop_id": ["E1", ""], "arbeidsevne": ["11", "5"], "stillingsprosent": ["50", "-1"]},
    )
    # row 1: arbeidsevne 11 > 10 → warning, kept with work_ability missing
    # row 2: forlop_id empty → required, rejected (its range warning is still listed)
    assert list(kept.index) == [1]
    assert pd.isna(kept.loc[1, "work_ability"]) and kept.loc[1, "work_percent"] == 50
    assert sorted(issues[["row", "column", "rule", "severity"]].values.tolist()) == [
        [1, "arbeidsevne", "out_of_range", "warning"],
        [2, "forlop_id", "required", "error"],
        [2, "stillingsprosent", "out_of_range", "warning"],
    ]
    assert issues["message"].iloc[0] == (
        "f/skjema_t1.csv, row 1, column arbeidsevne: 11 is outside the range 0–10 "
        "(rule out_of_range; value set to missing, row kept)"
    )


def test_spells_running_open_and_data_end() -> None:
    kept, issues = run(
        "ytelser",
        {
            "lopenr": ["P1", "P1", "P1", "P1"],
            "ytelse": ["SP", "SP", "AAP", "SP"],
            "fom": ["2024-01-10", "2024-01-10", "2025-12-31", "2026-01-01"],
            "tom": ["", "2024-01-09", "", ""],
            "grad": ["", "100", "0", "100"],
        },
        data_end=dt.date(2025, 12, 31),
        references={"personer.lopenr": {"P1": None}},
    )
    # 1: running spell (no end) kept; 2: ends the day before it starts; 3: starts on
    # data end and grade 0 – kept; 4: starts the day after data end
    assert list(kept.index) == [1, 3]
    assert issues[["row", "rule"]].values.tolist() == [
        [2, "end_before_start"],
        [4, "start_after_data_end"],
    ]


def test_references_unknown_and_rejected() -> None:
    kept, issues = run(
        "arbeidsforhold",
        {
            "lopenr": ["P1", "P2", "P3"],
            "arbgiver": ["A"] * 3,
            "fom": ["2020-01-01"] * 3,
            "stillingsprosent": ["100"] * 3,
        },
        references={"personer.lopenr": {"P1": None, "P2": "its personer row was rejected"}},
    )
    assert list(kept.index) == [1]
    assert issues["rule"].tolist() == ["unknown_person", "unknown_person"]
    assert "P2 is in personer, but its personer row was rejected" in issues["message"].iloc[0]
    assert "P3 is not in personer" in issues["message"].iloc[1]


def test_inputs_are_not_mutated() -> None:
    table = DD.table("skjema_t1")
    canonical, problems = to_canonical(
        pd.DataFrame({"forlop_id": ["E1", "E1"], "arbeidsevne": ["14", "3"]}), table, DD, label="t1"
    )
    before = canonical.copy()
    validate_table(canonical, problems, table, DD, label="t1")
    pd.testing.assert_frame_equal(canonical, before)
