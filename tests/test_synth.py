"""Tests of the synthetic delivery generator (arr_stats.synth).

The checks read the written files back with pyreadstat and pandas and hold
them against the data dictionary directly, independently of the ingest and
validation code: every value must obey the dictionary except exactly the rows
listed in DELIBERATE_FLAWS.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest

from arr_stats.dictionary import load_dictionary
from arr_stats.synth.flaws import DELIBERATE_FLAWS, deliberate_flaws
from arr_stats.synth.params import SynthParams
from arr_stats.synth.write import write_delivery

DD = load_dictionary()
MISSING = set(DD.missing_codes)  # 97, 98, 99
FILES = (
    "nav/arbeidsforhold.csv",
    "nav/personer.csv",
    "nav/ytelser.csv",
    "registry/institusjoner.csv",
    "registry/skjema_t0.sav",
    "registry/skjema_t1.sav",
    "registry/skjema_t2.sav",
    "registry/skjema_t3.sav",
)
# how a row is named in a finding: the columns that identify it
ROW_KEY = {
    "ytelser": ("lopenr", "ytelse", "fom"),
    "arbeidsforhold": ("lopenr", "arbgiver", "fom"),
    "personer": ("lopenr",),
    "institusjoner": ("inst_id", "aar"),
    "skjema_t0": ("forlop_id",),
    "skjema_oppfolging": ("forlop_id",),
}


# --------------------------------------------------------------------------
# fixtures


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SynthParams, dict[str, int]]:
    params = SynthParams(persons=300)
    out = tmp_path_factory.mktemp("small")
    return out, params, write_delivery(out, params)


@pytest.fixture(scope="module")
def default(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SynthParams]:
    # Its speed is measured in benchmarks/synth.py, not asserted here: a
    # wall-clock limit fails on a busy machine without any change to the code.
    params = SynthParams()
    out = tmp_path_factory.mktemp("default")
    write_delivery(out, params)
    return out, params


def read(folder: Path, rel: str) -> pd.DataFrame:
    """A delivery file as written: .sav with user-missing codes kept, CSV as text."""
    if rel.endswith(".sav"):
        df, _ = pyreadstat.read_sav(str(folder / rel), user_missing=True)
        return df
    return pd.read_csv(folder / rel, sep=";", dtype=str, keep_default_na=False, encoding="utf-8")


def text(value: object) -> str:
    """A value as it reads in a finding: ISO dates, whole numbers without .0."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def as_number(value: object) -> float | None:
    t = text(value)
    return None if t == "" else float(t)


def as_date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    t = text(value)
    return None if t == "" else dt.date.fromisoformat(t)


# --------------------------------------------------------------------------
# the independent checker


def violations(folder: Path, data_end: dt.date) -> set[tuple]:
    """Every (file, row key, column, rule) where the delivery breaks the data model."""
    found: set[tuple] = set()
    frames = {rel: read(folder, rel) for rel in FILES}

    def add(rel: str, table: str, row: pd.Series, column: str, rule: str) -> None:
        key = tuple(sorted((c, text(row[c])) for c in ROW_KEY[table]))
        found.add((rel, key, column, rule))

    for rel, df in frames.items():
        table = DD.table(Path(rel).stem)
        registry = table.source == "registry"
        assert list(df.columns) == table.raw_names, rel
        for _, row in df.iterrows():
            for var in table.variables:
                value = row[var.raw]
                if text(value) == "":
                    if var.required:
                        add(rel, table.name, row, var.raw, "required_missing")
                    continue
                if var.type == "date":
                    if as_date(value) is None:
                        add(rel, table.name, row, var.raw, "invalid_date")
                    continue
                if var.type in ("integer", "code", "number"):
                    number = float(text(value))
                    if registry and number in MISSING:
                        continue  # a missing code, wherever it appears in a registry file
                    if var.type != "number" and not number.is_integer():
                        add(rel, table.name, row, var.raw, "not_integer")
                    if var.codes and number not in var.codes:
                        add(rel, table.name, row, var.raw, "unknown_code")
                    if var.range and var.raw == "stillingsprosent" and number < 0:
                        add(rel, table.name, row, var.raw, "negative_position_percent")
                    elif var.range and not var.range[0] <= number <= var.range[1]:
                        add(rel, table.name, row, var.raw, "out_of_range")
                if var.type == "code_str" and text(value) not in DD.benefits:
                    add(rel, table.name, row, var.raw, "unknown_code")
                if var.type == "code_set":
                    allowed = DD.table("skjema_t0").variable(var.codes_from.split(".")[1]).codes
                    if any(int(part) not in allowed for part in text(value).split(",")):
                        add(rel, table.name, row, var.raw, "unknown_code")
                if var.codelist == "diagnosis_groups" and not DD.is_valid_diagnosis(text(value)):
                    add(rel, table.name, row, var.raw, "invalid_diagnosis")
        keys = list(table.keys)
        if keys:
            for _, row in df[df.duplicated(keys, keep=False)].iterrows():
                add(rel, table.name, row, keys[0], "duplicate_key")
        if "svar_dato" in df.columns:
            for _, row in df[
                df["svar_dato"].map(lambda d: (as_date(d) or data_end) > data_end)
            ].iterrows():
                add(rel, table.name, row, "svar_dato", "response_after_data_end")

    t0 = frames["registry/skjema_t0.sav"]
    for _, row in t0.iterrows():
        if as_date(row["utskrevet_dato"]) < as_date(row["innskrevet_dato"]):
            add(
                "registry/skjema_t0.sav",
                "skjema_t0",
                row,
                "utskrevet_dato",
                "discharge_before_admission",
            )
    episodes = set(t0["forlop_id"])
    for point in (1, 2, 3):
        rel = f"registry/skjema_t{point}.sav"
        for _, row in frames[rel].iterrows():
            if row["forlop_id"] not in episodes:
                add(rel, "skjema_oppfolging", row, "forlop_id", "unknown_episode")

    persons = frames["nav/personer.csv"].set_index("lopenr")
    for rel, table in (
        ("nav/ytelser.csv", "ytelser"),
        ("nav/arbeidsforhold.csv", "arbeidsforhold"),
    ):
        for _, row in frames[rel].iterrows():
            fom, tom = as_date(row["fom"]), as_date(row["tom"])
            if tom is not None and tom < fom:
                add(rel, table, row, "tom", "end_before_start")
            if fom > data_end:
                add(rel, table, row, "fom", "start_after_data_end")
            if row["lopenr"] not in persons.index:
                add(rel, table, row, "lopenr", "unknown_person")
                continue
            # nothing is observed after death or emigration
            person = persons.loc[row["lopenr"]]
            gone = [as_date(d) for d in (person["dodsdato"], person["utvandret_dato"]) if d]
            if gone and (tom is None or tom > min(gone)):
                add(rel, table, row, "tom", "after_death_or_emigration")
    for _, row in persons.reset_index().iterrows():
        for column in ("dodsdato", "utvandret_dato"):
            if row[column] and as_date(row[column]) > data_end:
                add("nav/personer.csv", "personer", row, column, "after_data_end")
    return found


def expected(params: SynthParams) -> set[tuple]:
    """The findings the deliberate flaws should give, in the checker's shape."""
    return {
        (f.file, tuple(sorted(f.key.items())), f.column, f.rule) for f in deliberate_flaws(params)
    }


# --------------------------------------------------------------------------
# determinism


def test_same_seed_gives_identical_bytes(small, tmp_path: Path) -> None:
    folder, params, counts = small
    again = write_delivery(tmp_path, SynthParams(persons=300))
    assert sorted(counts) == list(FILES)
    assert again == counts
    for rel in FILES:
        assert (tmp_path / rel).read_bytes() == (folder / rel).read_bytes(), rel


def test_another_seed_gives_other_files(small, tmp_path: Path) -> None:
    folder, params, _ = small
    write_delivery(tmp_path, SynthParams(seed=params.seed + 1, persons=300))
    for rel in FILES:
        assert (tmp_path / rel).read_bytes() != (folder / rel).read_bytes(), rel


def test_sav_header_time_is_the_data_end_not_the_clock(small) -> None:
    folder, params, _ = small
    for point in range(4):
        _, meta = pyreadstat.read_sav(
            str(folder / f"registry/skjema_t{point}.sav"), metadataonly=True
        )
        assert meta.creation_time == dt.datetime(2026, 6, 30, 0, 0, 0)


def test_counts_are_the_rows_written(small) -> None:
    folder, _, counts = small
    for rel in FILES:
        assert len(read(folder, rel)) == counts[rel], rel


# --------------------------------------------------------------------------
# format


def test_sav_files_carry_labels_missing_codes_and_dates(small) -> None:
    folder, _, _ = small
    for point in range(4):
        stem = f"skjema_t{point}"
        table = DD.table(stem)
        _, meta = pyreadstat.read_sav(str(folder / f"registry/{stem}.sav"), user_missing=True)
        assert meta.column_names == table.raw_names
        assert meta.column_names_to_labels == {v.raw: v.description for v in table.variables}
        answer_items = [
            v.raw for v in table.variables if v.type in ("integer", "code") and not v.required
        ]
        assert answer_items  # the forms have answer items
        missing_decl = [{"lo": float(c), "hi": float(c)} for c in (97, 98, 99)]
        assert meta.missing_ranges == {raw: missing_decl for raw in answer_items}
        for var in table.variables:
            labels = meta.variable_value_labels.get(var.raw, {})
            want = {float(k): lab for k, lab in var.codes.items()}
            if var.raw in answer_items:
                want |= {97.0: "Ikke aktuelt", 98.0: "Ikke besvart", 99.0: "Vet ikke"}
            assert labels == want, var.raw
            fmt = meta.original_variable_types[var.raw]
            if var.type == "date":
                assert fmt.startswith("DATE"), var.raw
            elif var.type == "string":
                assert fmt.startswith("A"), var.raw
            else:
                assert fmt.startswith("F"), var.raw


def test_csv_files_are_semicolon_utf8_iso(small) -> None:
    folder, _, _ = small
    for rel in FILES:
        if not rel.endswith(".csv"):
            continue
        raw = (folder / rel).read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf")  # no byte-order mark
        lines = raw.decode("utf-8").split("\n")
        assert lines[-1] == ""  # ends with a newline
        header = lines[0].split(";")
        assert header == DD.table(Path(rel).stem).raw_names
        assert all(line.count(";") == len(header) - 1 for line in lines[1:-1])
    inst = (folder / "registry/institusjoner.csv").read_text(encoding="utf-8")
    assert "Lindeheim attføringssenter" in inst  # Norwegian letters survive as UTF-8
    ytelser = read(folder, "nav/ytelser.csv")
    assert ytelser["fom"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()


# --------------------------------------------------------------------------
# the data model, and the deliberate flaws


def test_small_delivery_breaks_the_model_only_in_the_deliberate_flaws(small) -> None:
    folder, params, _ = small
    assert violations(folder, params.data_end) == expected(params)


def test_other_parameters_break_the_model_only_in_the_deliberate_flaws(tmp_path: Path) -> None:
    # one year, many institutions, another seed and extraction date
    params = SynthParams(
        seed=7, institutions=12, years=(2023, 2023), persons=120, data_end=dt.date(2024, 9, 30)
    )
    counts = write_delivery(tmp_path, params)
    assert counts["registry/institusjoner.csv"] == 12  # 12 institutions x 1 year
    assert violations(tmp_path, params.data_end) == expected(params)
    t0 = read(tmp_path, "registry/skjema_t0.sav")
    # every discharge in the one year, the swapped row's written utskrevet_dato included
    assert {d.year for d in t0["utskrevet_dato"].map(as_date)} == {2023}


def test_default_delivery_breaks_the_model_only_in_the_deliberate_flaws(default) -> None:
    folder, params = default
    assert deliberate_flaws(params) == DELIBERATE_FLAWS
    assert violations(folder, params.data_end) == expected(params)


def test_flaw_list_is_the_documented_one() -> None:
    rules = sorted(f.rule for f in DELIBERATE_FLAWS)
    assert rules == sorted(
        [
            "end_before_start",
            "unknown_code",
            "out_of_range",
            "start_after_data_end",
            "unknown_person",
            "negative_position_percent",
            "out_of_range",
            "duplicate_key",
            "discharge_before_admission",
            "unknown_episode",
        ]
    )
    doc = (Path(__file__).parents[1] / "docs" / "synthetic-data.md").read_text(encoding="utf-8")
    for flaw in DELIBERATE_FLAWS:
        assert f"`{flaw.rule}`" in doc
        for value in flaw.key.values():
            assert value in doc, value


def test_flawed_values_are_written_as_listed(small) -> None:
    folder, params, _ = small
    for flaw in deliberate_flaws(params):
        df = read(folder, flaw.file)
        match = pd.Series(True, index=df.index)
        for column, value in flaw.key.items():
            match &= df[column].map(text) == value
        assert match.sum() == (2 if flaw.rule == "duplicate_key" else 1), flaw
        assert text(df.loc[match, flaw.column].iloc[-1]) == flaw.value, flaw
    t0 = read(folder, "registry/skjema_t0.sav")
    dup = t0.index[t0["forlop_id"] == "F900007"]
    assert list(dup) == [dup[0], dup[0] + 1]  # the resubmission follows the first row


def test_flaws_stand_alone(small) -> None:
    folder, _, _ = small
    t0 = read(folder, "registry/skjema_t0.sav")
    assert "P999999" not in set(t0["lopenr"])
    assert "F999999" not in set(t0["forlop_id"])
    # rejecting the swapped-dates episode must not orphan any follow-up
    for point in (1, 2, 3):
        assert "F900008" not in set(read(folder, f"registry/skjema_t{point}.sav")["forlop_id"])


def test_parameters_are_checked() -> None:
    with pytest.raises(ValueError):
        SynthParams(persons=5)
    with pytest.raises(ValueError):
        SynthParams(data_end=dt.date(2025, 6, 30))  # before the end of the last year 2025
    with pytest.raises(ValueError):
        SynthParams(years=(2025, 2021))


# --------------------------------------------------------------------------
# the default delivery: size, institutions, groups, realism


def test_default_size(default) -> None:
    folder, _ = default
    t0 = read(folder, "registry/skjema_t0.sav")
    assert 3_600 <= t0["forlop_id"].nunique() <= 4_400
    persons = t0["lopenr"].nunique()
    assert 3_300 <= persons <= 3_700
    assert (t0.groupby("lopenr")["forlop_id"].nunique() == 2).sum() > 200


def test_institutions_sizes_and_coverage(default) -> None:
    folder, params = default
    t0 = read(folder, "registry/skjema_t0.sav").drop_duplicates("forlop_id")
    t0["aar"] = t0["utskrevet_dato"].map(lambda d: as_date(d).year)
    inst = read(folder, "registry/institusjoner.csv")
    inst["aar"] = inst["aar"].astype(int)
    inst["antall_pasienter"] = inst["antall_pasienter"].astype(int)
    assert inst["inst_id"].nunique() == 8
    assert len(inst) == 8 * 5
    assert set(inst["aar"]) == set(range(2021, 2026))
    assert set(t0["inst_id"]) == set(inst["inst_id"])

    per_year = t0.groupby(["inst_id", "aar"]).size().unstack(fill_value=0)
    small_ones = per_year.index[(per_year < 15).all(axis=1)]
    assert len(small_ones) == 1
    assert per_year.drop(small_ones).min().min() >= 15

    registered = t0.groupby(["inst_id", "aar"]).size()
    consenting = t0[t0["samtykke"] == 1].groupby(["inst_id", "aar"]).size()
    merged = inst.set_index(["inst_id", "aar"])
    cover = consenting.reindex(merged.index, fill_value=0) / merged["antall_pasienter"]
    assert (merged["antall_pasienter"] > registered.reindex(merged.index, fill_value=0)).all()
    below = cover.groupby(level="inst_id").max() < 0.60
    assert below.sum() == 1
    # the low-coverage institution is not the small one
    assert below.index[below][0] not in set(small_ones)
    # every institution's offered modes include the modes its episodes had
    for inst_id, modes in inst.groupby("inst_id")["rehab_typer"].first().items():
        used = set(t0.loc[t0["inst_id"] == inst_id, "rehab_type"].astype(int))
        assert used <= {int(m) for m in modes.split(",")}


def test_consent_linkage_and_life_event_groups_exist(default) -> None:
    folder, params = default
    t0 = read(folder, "registry/skjema_t0.sav")
    persons = read(folder, "nav/personer.csv")
    nav_ids, registry_ids = set(persons["lopenr"]), set(t0["lopenr"])
    assert 50 <= (t0["samtykke"] == 0).sum() <= 400  # about 5 % without consent
    assert 20 <= t0["samtykke_trukket_dato"].notna().sum() <= 150  # about 1.5 % withdrawn
    withdrawn = t0[t0["samtykke_trukket_dato"].notna()]
    assert (withdrawn["samtykke_trukket_dato"] > withdrawn["svar_dato"]).all()
    assert 30 <= len(registry_ids - nav_ids) <= 200  # unlinked registry persons
    assert len(nav_ids - registry_ids) >= 300  # NAV persons without an episode
    assert (persons["dodsdato"] != "").sum() >= 10
    assert (persons["utvandret_dato"] != "").sum() >= 10
    assert ((persons["dodsdato"] != "") & (persons["utvandret_dato"] != "")).sum() == 0


def test_benefit_spells_have_the_shapes_of_real_ones(default) -> None:
    folder, params = default
    y = read(folder, "nav/ytelser.csv")
    y = y[y["ytelse"].isin(list(DD.benefits))].copy()
    y["fom"] = y["fom"].map(as_date)
    y["tom_d"] = y["tom"].map(as_date)
    y["g"] = y["grad"].replace("", "100").astype(float)
    counts = y["ytelse"].value_counts()
    for code in ("SP", "AAP", "UFT", "DP", "TP", "OVG"):
        assert counts.get(code, 0) >= 20, code
    assert (y["tom"] == "").sum() >= 300  # open spells at extraction
    assert ((y["ytelse"] == "SP") & (y["g"] < 100)).sum() >= 300  # graded sick leave
    uft = y[y["ytelse"] == "UFT"]
    assert (uft["g"] == 100).sum() >= 20 and (uft["g"] < 100).sum() >= 20
    assert (y["grad"] == "").any() and (y["grad"] == "100").any()  # both ways of writing 100
    # grade changes: an SP row directly followed by an SP row of another grade
    # overlaps: a spell starting on or before the end of the previous one
    adjacent_change = overlaps = 0
    for _, rows in y.sort_values(["lopenr", "fom"]).groupby("lopenr"):
        rows = rows.to_dict("records")
        for a, b in zip(rows, rows[1:], strict=False):
            if a["tom_d"] is None:
                overlaps += 1
                continue
            if a["ytelse"] == b["ytelse"] == "SP" and b["fom"] == a["tom_d"] + dt.timedelta(1):
                adjacent_change += a["g"] != b["g"]
            overlaps += b["fom"] <= a["tom_d"]
    assert adjacent_change >= 200
    assert overlaps >= 50


def test_sick_leave_history_agrees_with_t0(default) -> None:
    folder, _ = default
    t0 = read(folder, "registry/skjema_t0.sav").drop_duplicates("forlop_id", keep=False)
    y = read(folder, "nav/ytelser.csv")
    sp = y[y["ytelse"] == "SP"]
    sp_starts = set(zip(sp["lopenr"], sp["fom"], strict=True))
    linked = set(read(folder, "nav/personer.csv")["lopenr"])
    full = t0[
        (t0["sykmeldt_status"] == 1)
        & t0["sykmeldt_uker"].between(1, 96)
        & t0["lopenr"].isin(linked)
        & (t0["utskrevet_dato"] >= t0["innskrevet_dato"])
    ]
    assert len(full) > 1000
    # weeks on sick leave before admission = weeks since the SP spell began
    starts = [
        (row.lopenr, (row.innskrevet_dato - dt.timedelta(weeks=int(row.sykmeldt_uker))).isoformat())
        for row in full.itertuples()
    ]
    assert sum(s in sp_starts for s in starts) == len(starts)


def test_response_rates_near_85_60_50_percent(default) -> None:
    folder, params = default
    t0 = read(folder, "registry/skjema_t0.sav").drop_duplicates("forlop_id")
    persons = read(folder, "nav/personer.csv").set_index("lopenr")
    t0 = t0[t0["samtykke"] == 1]
    for point, offset, low, high in (
        (1, 0, 0.78, 0.92),
        (2, 182, 0.52, 0.68),
        (3, 365, 0.42, 0.58),
    ):
        answered = set(read(folder, f"registry/skjema_t{point}.sav")["forlop_id"])
        due = answered_n = 0
        for row in t0.itertuples():
            day = row.utskrevet_dato + dt.timedelta(days=offset)
            if day > params.data_end:
                continue
            withdrawn = as_date(row.samtykke_trukket_dato)
            if withdrawn is not None and withdrawn <= day:
                continue
            if row.lopenr in persons.index:
                gone = [
                    as_date(d) for d in persons.loc[row.lopenr, ["dodsdato", "utvandret_dato"]] if d
                ]
                if gone and min(gone) <= day:
                    continue
            due += 1
            answered_n += row.forlop_id in answered
        assert low <= answered_n / due <= high, (point, answered_n / due)


def test_missing_codes_are_sprinkled_in_answers(default) -> None:
    folder, _ = default
    for point in range(4):
        df = read(folder, f"registry/skjema_t{point}.sav")
        for code in (98, 99):
            assert (df["arbeidsevne"] == code).sum() >= 5, (point, code)
        assert df["arbeidsevne"].isna().sum() >= 1  # some empty (system-missing) too
    t0 = read(folder, "registry/skjema_t0.sav")
    assert (t0["sykmeldt_prosent"] == 97).sum() >= 50  # Ikke aktuelt when not on sick leave


def test_diagnoses_mix_systems_and_groups(default) -> None:
    folder, _ = default
    codes = read(folder, "registry/skjema_t0.sav")["diagnose"]
    groups = codes.map(lambda c: DD.diagnosis_group(c or None)).value_counts(normalize=True)
    assert groups["musculoskeletal"] + groups["mental"] >= 0.7
    assert groups["musculoskeletal"] > groups["other"] and groups["mental"] > groups["other"]
    assert 0.01 <= groups["unknown"] <= 0.06  # a few empty codes
    assert codes.str.fullmatch(r"[A-Z]\d{2}\.\d").sum() > 500  # ICD-10 with subcode
    assert codes.str.fullmatch(r"[LP]\d{2}").sum() > 500  # ICPC-2


def test_employment_has_several_employers_and_positions(default) -> None:
    folder, _ = default
    a = read(folder, "nav/arbeidsforhold.csv")
    a = a[a["arbgiver"] != "A99999"]
    pct = a["stillingsprosent"].astype(float)
    assert pct.between(0, 200).all()
    assert {100.0, 80.0, 50.0, 20.0} <= set(pct)
    assert (a.groupby("lopenr")["arbgiver"].nunique() >= 2).sum() >= 100
    assert (a["tom"] == "").mean() > 0.3


def hrb_on(y: pd.DataFrame, person: str, day: dt.date) -> bool:
    """Whether a health-related benefit with grade > 0 covers ``day`` (naive scan)."""
    for row in y.get(person, []):
        if row["ytelse"] in ("SP", "AAP", "UFT") and row["g"] > 0 and row["fom"] <= day:
            if row["tom"] is None or day <= row["tom"]:
                return True
    return False


def test_work_ability_predicts_return_to_work_and_institutions_differ(default) -> None:
    folder, params = default
    t0 = read(folder, "registry/skjema_t0.sav").drop_duplicates("forlop_id", keep=False)
    y = read(folder, "nav/ytelser.csv")
    y = y[y["ytelse"].isin(list(DD.benefits)) & (y["lopenr"] != "P999999")]
    spells: dict[str, list[dict]] = {}
    for row in y.itertuples():
        spells.setdefault(row.lopenr, []).append(
            {
                "ytelse": row.ytelse,
                "fom": as_date(row.fom),
                "tom": as_date(row.tom),
                "g": float(row.grad or 100),
            }
        )
    persons = read(folder, "nav/personer.csv")
    alive = set(
        persons.loc[(persons["dodsdato"] == "") & (persons["utvandret_dato"] == ""), "lopenr"]
    )
    cohort = t0[
        t0["lopenr"].isin(alive)
        & (t0["utskrevet_dato"] <= params.data_end - dt.timedelta(days=400))
        & t0["arbeidsevne"].between(0, 10)
        & (t0["utskrevet_dato"] >= t0["innskrevet_dato"])
    ].copy()
    cohort["free_12m"] = [
        not hrb_on(spells, r.lopenr, r.utskrevet_dato + dt.timedelta(days=365))
        for r in cohort.itertuples()
    ]
    share = cohort["free_12m"].mean()
    assert 0.35 <= share <= 0.75  # ARR reports about half back at 12 months
    by_wa = cohort.groupby("free_12m")["arbeidsevne"].mean()
    assert by_wa[True] - by_wa[False] >= 0.8
    by_inst = cohort.groupby("inst_id")["free_12m"].agg(["mean", "size"])
    big = by_inst[by_inst["size"] >= 150]["mean"]
    assert big.max() - big.min() >= 0.08
