"""Raw → canonical: names, types, labels, missing codes; hand-worked values."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from arr_stats.dictionary import load_dictionary
from arr_stats.errors import DeliveryError
from arr_stats.ingest.canonical import to_canonical

DD = load_dictionary()


def canon(stem: str, raw: dict, file_format: str = ".csv"):
    return to_canonical(
        pd.DataFrame(raw), DD.table(stem), DD, label=f"x/{stem}", file_format=file_format
    )


def test_types_follow_the_architecture() -> None:
    frame, problems = canon(
        "skjema_t0",
        {
            "forlop_id": ["E1"],
            "lopenr": ["P1"],
            "inst_id": ["I1"],
            "samtykke": ["1"],
            "fodselsaar": ["1980"],
            "kjonn": ["2"],
            "innskrevet_dato": ["2024-01-08"],
            "utskrevet_dato": ["02.02.2024"],  # Norwegian day.month.year
            "sykmeldt_prosent": ["50"],
        },
    )
    assert len(problems) == 0
    assert frame["birth_year"].dtype == "Int64"
    assert frame["admission_date"].dtype == "datetime64[ns]"
    assert frame["discharge_date"].iloc[0] == pd.Timestamp("2024-02-02")
    assert frame["sex"].iloc[0] == "Kvinne"
    # categories in code order: 0 = Nei before 1 = Ja
    assert list(frame["consent"].cat.categories) == ["Nei", "Ja"]
    assert list(frame["rehab_mode"].cat.categories) == ["Døgn", "Dag", "Poliklinisk", "Kombinert"]
    # every dictionary variable is there, absent optional columns as missing
    assert list(frame.columns) == [v.name for v in DD.table("skjema_t0").variables]
    assert frame["rehab_mode"].isna().all() and frame["consent_withdrawn_date"].isna().all()


def test_missing_codes_only_in_registry_tables() -> None:
    t1, _ = canon(
        "skjema_t1", {"forlop_id": ["E1", "E2", "E3"], "arbeidsevne": ["97", "98.0", "5"]}
    )
    assert t1["work_ability"].tolist() == [pd.NA, pd.NA, 5]
    # NAV: 99 is a grade of 99 %, not a missing code
    yt, _ = canon(
        "ytelser", {"lopenr": ["P1"], "ytelse": ["SP"], "fom": ["2024-01-01"], "grad": ["99"]}
    )
    assert yt["grade"].tolist() == [99.0]


def test_empty_grade_means_100_but_unreadable_grade_is_a_problem() -> None:
    yt, problems = canon(
        "ytelser",
        {
            "lopenr": ["P1", "P1", "P1"],
            "ytelse": ["sp ", "AAP", "DP"],
            "fom": ["2024-01-01"] * 3,
            "grad": ["", "62,5", "abc"],
        },
    )
    assert yt["grade"].iloc[0] == 100.0
    assert yt["grade"].iloc[1] == 62.5  # decimal comma
    assert np.isnan(yt["grade"].iloc[2])
    assert problems[["row", "column", "value", "rule"]].values.tolist() == [
        [3, "grad", "abc", "type"]
    ]
    assert yt["benefit"].tolist() == ["SP", "AAP", "DP"]  # stripped, upper-cased
    assert list(yt["benefit"].cat.categories) == list(DD.benefits)


def test_code_problems_and_type_problems() -> None:
    t1, problems = canon(
        "skjema_t1",
        {
            "forlop_id": [1001.0, "E2", "E3"],  # a number in a string column
            "helse": ["God", "6", "2.5"],  # a label is read as its code, with a warning
            "svar_dato": ["2024-02-30", "", "2024-03-01"],
        },
    )
    assert t1["episode_id"].tolist() == ["1001", "E2", "E3"]
    assert t1["self_rated_health"].tolist()[0] == "God"
    got = sorted(problems[["row", "column", "rule"]].values.tolist())
    assert got == [
        [1, "helse", "code_as_label"],
        [1, "svar_dato", "type"],
        [2, "helse", "unknown_code"],
        [3, "helse", "type"],
    ]
    assert t1["response_date"].isna().tolist() == [True, True, False]


def test_numeric_dates_use_the_format_epoch() -> None:
    # SPSS: seconds since 1582-10-14; Stata and SAS: days since 1960-01-01.
    seconds = (dt.date(2024, 1, 1) - dt.date(1582, 10, 14)).days * 86400
    days = (dt.date(2024, 1, 1) - dt.date(1960, 1, 1)).days
    for fmt, number in ((".sav", seconds), (".dta", days), (".sas7bdat", days)):
        frame, problems = canon(
            "skjema_t1", {"forlop_id": ["E1"], "svar_dato": [float(number)]}, fmt
        )
        assert frame["response_date"].iloc[0] == pd.Timestamp("2024-01-01"), fmt
        assert len(problems) == 0
    # in a CSV file a number is not a date
    frame, problems = canon("skjema_t1", {"forlop_id": ["E1"], "svar_dato": [str(days)]}, ".csv")
    assert problems["rule"].tolist() == ["type"]


def test_code_set_is_normalised() -> None:
    inst, problems = canon(
        "institusjoner",
        {
            "inst_id": ["I1", "I2"],
            "aar": ["2024", "2024"],
            "navn": ["A", "B"],
            "rehab_typer": ["3, 1,1", "1,5"],
        },
    )
    assert inst["rehab_modes_offered"].tolist()[0] == "1,3"
    assert problems[["row", "rule"]].values.tolist() == [[2, "unknown_code"]]


def test_required_column_absent_is_a_delivery_error() -> None:
    with pytest.raises(DeliveryError, match=r"x/ytelser: required columns ytelse, fom missing"):
        canon("ytelser", {"lopenr": ["P1"]})


def test_input_is_not_mutated() -> None:
    raw = pd.DataFrame({"forlop_id": [" E1 "], "arbeidsevne": ["99"]})
    before = raw.copy()
    to_canonical(raw, DD.table("skjema_t1"), DD, label="t1")
    pd.testing.assert_frame_equal(raw, before)
