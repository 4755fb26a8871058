"""Real deliveries (issue 12): nothing crashes, nothing is silently emptied or changed.

Each test takes the small hand-made delivery (tests/bad_inputs/base, worked
out in tests/test_build.py) and changes it the way a real producer does: R's
haven (``write_sav``) and base ``write.csv2``, GNU PSPP, pyarrow (Parquet as a
database export writes it), or byte-exact by hand as Excel and Nettskjema
write CSV. The expected results are worked out by hand from the base delivery.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
from test_build import (
    AF,
    INST,
    PE,
    T0,
    T1,
    T3_PATH,
    YT,
    _load,
    _save,
    set_value,
)

from arr_stats.cli import main
from arr_stats.io import read_parquet
from tools import run_pspp, run_r

# -- running a build with extra configuration --------------------------------------


def build(
    tmp_path: Path, delivery: Path, capsys, extra: str = "", name: str = "derived"
) -> tuple[int, str, str, Path]:
    """Run ``arr-stats build --quiet``; (status, stdout, stderr, derived folder)."""
    derived = tmp_path / name
    config = tmp_path / f"{name}.toml"
    config.write_text(
        f"""[paths]
registry = "{delivery / "registry"}"
nav = "{delivery / "nav"}"
derived = "{derived}"

[nav]
data_end = "2025-12-31"
{extra}
""",
        encoding="utf-8",
    )
    status = main(["build", "--config", str(config), "--quiet"])
    out = capsys.readouterr()
    return status, out.out, out.err, derived


def issues_of(derived: Path) -> list[tuple[str, int, str, str, str]]:
    issues = read_parquet(derived / "issues.parquet")
    return sorted(
        zip(
            issues["source_file"],
            issues["row"],
            issues["column"],
            issues["rule"],
            issues["severity"],
            strict=True,
        )
    )


def message_of(derived: Path, rule: str) -> str:
    issues = read_parquet(derived / "issues.parquet")
    return str(issues.loc[issues["rule"] == rule, "message"].iloc[0])


def accounting(derived: Path) -> pd.DataFrame:
    return pd.read_csv(derived / "row_accounting.csv").set_index("file")


def assert_balanced(derived: Path) -> None:
    acc = accounting(derived)
    assert (
        acc["rows_read"] == acc["rows_kept"] + acc["rows_rejected"] + acc["rows_excluded"]
    ).all()


def one_line_error(status: int, err: str) -> str:
    assert status == 2, err
    assert err.startswith("arr-stats: error: ") and err.count("\n") == 1, err
    return err


@pytest.fixture
def clean(small_delivery: Path, tmp_path_factory: pytest.TempPathFactory, capsys) -> Path:
    """The derived tables of the unchanged small delivery (built from a copy of it)."""
    import shutil

    copy = tmp_path_factory.mktemp("clean") / "delivery"
    shutil.copytree(small_delivery, copy)
    status, _, err, derived = build(copy.parent, copy, capsys)
    assert status == 0, err
    return derived


def same_table(a: Path, b: Path, name: str) -> None:
    pd.testing.assert_frame_equal(
        read_parquet(a / f"{name}.parquet"), read_parquet(b / f"{name}.parquet")
    )


# -- crashes: one bad cell must be an issue, never a traceback ------------------------


@pytest.mark.parametrize(
    ("file", "row", "column", "value", "rule", "severity"),
    [
        (T0, 4, "innskrevet_dato", "0001-01-01", "date_out_of_range", "error"),
        (T0, 4, "fodselsaar", "99999999999999999999", "type", "error"),
        (T0, 2, "sykmeldt_uker", "1e300", "type", "warning"),
        (AF, 1, "fom", "1899-12-31", "date_out_of_range", "error"),
        (PE, 2, "dodsdato", "1899-12-31", "date_out_of_range", "error"),  # optional: still an error
    ],
)
def test_extreme_cell_is_an_issue_not_a_crash(
    small_delivery: Path, tmp_path: Path, capsys, file, row, column, value, rule, severity
) -> None:
    set_value(file, row, column, value)(small_delivery)
    status, _, err, derived = build(tmp_path, small_delivery, capsys)
    assert status == 0, err
    assert (file, row, column, rule, severity) in issues_of(derived)
    assert_balanced(derived)


def test_nav_open_end_9999_12_31_is_open(
    small_delivery: Path, tmp_path: Path, capsys, clean
) -> None:
    # P01's second SP spell ends 2024-05-20 in the base; P02's AAP has an empty end
    set_value(YT, 3, "tom", "9999-12-31")(small_delivery)  # P02: same as the empty end
    status, _, err, derived = build(tmp_path, small_delivery, capsys)
    assert status == 0, err
    assert issues_of(derived) == []
    same_table(derived, clean, "benefits")
    same_table(derived, clean, "outcomes")


def test_huge_number_is_shortened_in_issue_and_message(
    small_delivery: Path, tmp_path: Path, capsys
) -> None:
    set_value(T1, 1, "arbeidsevne", "9" * 309)(small_delivery)
    status, _, err, derived = build(tmp_path, small_delivery, capsys)
    assert status == 0, err
    issues = read_parquet(derived / "issues.parquet")
    assert len(issues) == 1
    assert len(issues["value"].iloc[0]) < 60 and "309 characters" in issues["value"].iloc[0]
    assert len(issues["message"].iloc[0]) < 300


# -- identifiers: text end to end --------------------------------------------------


def _pad_person_ids(delivery: Path) -> None:
    """NAV's pseudonyms as zero-padded digits: P01 → 00171071 … in every file."""
    mapping = {f"P{i:02d}": f"00{171070 + i}" for i in range(1, 8)}
    for file in (T0, YT, AF, PE):
        header, rows, sep = _load(delivery / file)
        i = header.index("lopenr")
        for r in rows:
            r[i] = mapping[r[i]]
        _save(delivery / file, header, rows, sep)


def _t0_as_haven_sav(delivery: Path, tmp_path: Path) -> None:
    """skjema_t0 as R's haven writes it from a data frame whose lopenr is numeric."""
    csv = delivery / "registry" / "skjema_t0.csv"
    sav = csv.with_suffix(".sav")
    run_r(
        f"""library(haven)
t0 <- read.csv("{csv}", colClasses = "character")
t0$lopenr <- as.numeric(t0$lopenr)
for (v in c("samtykke", "fodselsaar", "kjonn", "rehab_type", "sykmeldt_status",
            "sykmeldt_prosent", "sykmeldt_uker", "utdanning", "arbeidsevne", "forventning_rtw"))
  t0[[v]] <- as.numeric(t0[[v]])
for (v in c("samtykke_trukket_dato", "innskrevet_dato", "utskrevet_dato", "svar_dato"))
  t0[[v]] <- as.Date(ifelse(t0[[v]] == "", NA, t0[[v]]))
write_sav(t0, "{sav}")
""",
        tmp_path,
    )
    csv.unlink()


def test_numeric_lopenr_against_zero_padded_nav_stops_naming_the_cause(
    small_delivery: Path, tmp_path: Path, capsys
) -> None:
    _pad_person_ids(small_delivery)
    _t0_as_haven_sav(small_delivery, tmp_path)
    status, _, err, derived = build(tmp_path, small_delivery, capsys)
    err = one_line_error(status, err)
    assert "registry/skjema_t0.sav: lopenr is stored as a number" in err
    assert "00171071" in err and "pad_ids = { lopenr = 8 }" in err
    assert not (derived / "build.json").exists()


def test_configured_zero_padding_links_and_is_reported(
    small_delivery: Path, tmp_path: Path, capsys, clean
) -> None:
    _pad_person_ids(small_delivery)
    _t0_as_haven_sav(small_delivery, tmp_path)
    status, out, err, derived = build(
        tmp_path, small_delivery, capsys, extra="[linkage]\npad_ids = { lopenr = 8 }\n"
    )
    assert status == 0, err
    linkage = pd.read_csv(derived / "linkage.csv").set_index("measure")["value"]
    assert linkage["episodes_linked"] == 4  # as in the clean delivery
    notices = pd.read_csv(derived / "notices.csv")
    # the 7 T0 rows lost their zeros; every one was padded back
    assert "7 values of lopenr zero-padded to 8 digits" in " ".join(notices["notice"])
    assert "zero-padded" in out
    episodes = read_parquet(derived / "episodes.parquet")
    assert episodes["person_id"].tolist() == [
        "00171071",
        "00171072",
        "00171073",
        "00171071",
        "00171076",
    ]


def test_parquet_integer_forlop_id_against_text_ids_stops(
    small_delivery: Path, tmp_path: Path, capsys
) -> None:
    for file in (T0, T1, "registry/skjema_t2.csv", T3_PATH):
        header, rows, sep = _load(small_delivery / file)
        for r in rows:
            r[0] = "000" + r[0][1:]  # E01 → 00001
        _save(small_delivery / file, header, rows, sep)
    header, rows, _ = _load(small_delivery / T1)
    frame = pd.DataFrame(rows, columns=header).assign(
        forlop_id=lambda f: f["forlop_id"].astype("int64")
    )
    frame.to_parquet(small_delivery / "registry" / "skjema_t1.parquet")
    (small_delivery / T1).unlink()
    status, _, err, _ = build(tmp_path, small_delivery, capsys)
    err = one_line_error(status, err)
    assert "registry/skjema_t1.parquet: forlop_id is stored as a number" in err
    assert "registry/skjema_t0.csv" in err


def test_low_linkage_stops_unless_accepted(small_delivery: Path, tmp_path: Path, capsys) -> None:
    header, rows, sep = _load(small_delivery / PE)
    for r in rows:
        r[0] = r[0].replace("P", "X")  # another pseudonymisation key
    _save(small_delivery / PE, header, rows, sep)
    for file in (YT, AF):
        header, rows, sep = _load(small_delivery / file)
        _save(small_delivery / file, header, [[r[0].replace("P", "X"), *r[1:]] for r in rows], sep)
    status, _, err, _ = build(tmp_path, small_delivery, capsys)
    err = one_line_error(status, err)
    assert "only 0 of 5 consenting episodes (0.0%)" in err
    assert "same delivery and pseudonymisation key" in err
    assert "accept_low_linkage = true" in err
    status, out, err, derived = build(
        tmp_path, small_delivery, capsys, extra="[linkage]\naccept_low_linkage = true\n", name="b"
    )
    assert status == 0, err
    assert "only 0 of 5 consenting episodes" in out


# -- consent exactly per the spec --------------------------------------------------


def test_r_write_csv2_na_tokens_do_not_withdraw_consent(
    small_delivery: Path, tmp_path: Path, capsys, clean
) -> None:
    """R's write.csv2: ';' separated, decimal comma, NA for every missing value."""
    csv = small_delivery / "registry" / "skjema_t0.csv"
    run_r(
        f"""t0 <- read.csv("{csv}", colClasses = "character", na.strings = "")
write.csv2(t0, "{csv}", row.names = FALSE)
""",
        tmp_path,
    )
    text = csv.read_text(encoding="utf-8")
    assert ";NA;" in text and '"E01";"P01"' in text  # as R wrote it
    status, _, err, derived = build(tmp_path, small_delivery, capsys)
    assert status == 0, err
    assert issues_of(derived) == []
    same_table(derived, clean, "episodes")
    assert accounting(derived).loc[T0, "excluded_consent_withdrawn"] == 1  # E06 only


def test_consent_written_as_labels_is_read_with_one_warning(
    small_delivery: Path, tmp_path: Path, capsys, clean
) -> None:
    header, rows, sep = _load(small_delivery / T0)
    i = header.index("samtykke")
    for n, r in enumerate(rows):
        r[i] = {"1": "ja" if n % 2 else "JA", "0": "nei"}[r[i]]
    _save(small_delivery / T0, header, rows, sep)
    status, _, err, derived = build(tmp_path, small_delivery, capsys)
    assert status == 0, err
    assert issues_of(derived) == [(T0, 1, "samtykke", "code_as_label", "warning")]
    assert "1 = Ja, 0 = Nei" in message_of(derived, "code_as_label")
    same_table(derived, clean, "episodes")


@pytest.mark.parametrize("value", ["9", "", "NA", "yes"])
def test_consent_neither_yes_nor_no_is_reported_and_excluded(
    small_delivery: Path, tmp_path: Path, capsys, value: str
) -> None:
    set_value(T0, 2, "samtykke", value)(small_delivery)  # E02 (P02)
    status, _, err, derived = build(tmp_path, small_delivery, capsys)
    assert status == 0, err
    assert (T0, 2, "samtykke", "consent_unknown", "warning") in issues_of(derived)
    acc = accounting(derived)
    assert acc.loc[T0, "excluded_consent_unknown"] == 1
    assert acc.loc[T1, "excluded_consent_unknown"] == 1  # E02's T1 answer goes with it
    assert "E02" not in set(read_parquet(derived / "episodes.parquet")["episode_id"])
    assert_balanced(derived)


# -- dates --------------------------------------------------------------------------


def test_timezone_aware_parquet_timestamps_keep_the_norwegian_date(
    small_delivery: Path, tmp_path: Path, capsys, clean
) -> None:
    """A database export: every date as midnight Oslo time, stored as UTC timestamps."""
    header, rows, _ = _load(small_delivery / T0)
    frame = pd.DataFrame(rows, columns=header)
    for column in ("innskrevet_dato", "utskrevet_dato", "svar_dato"):
        local = pd.to_datetime(frame[column]).dt.tz_localize("Europe/Oslo")
        frame[column] = local.dt.tz_convert("UTC")  # 2024-01-08 → 2024-01-07 23:00 UTC
    frame.to_parquet(small_delivery / "registry" / "skjema_t0.parquet")
    (small_delivery / T0).unlink()
    status, _, err, derived = build(tmp_path, small_delivery, capsys)
    assert status == 0, err
    same_table(derived, clean, "episodes")
    same_table(derived, clean, "outcomes")


def test_norwegian_date_with_time_is_read(
    small_delivery: Path, tmp_path: Path, capsys, clean
) -> None:
    header, rows, sep = _load(small_delivery / AF)
    for r in rows:
        y, m, d = r[2].split("-")
        r[2] = f"{d}.{m}.{y} 00:00"  # as Excel writes a date-time cell
    _save(small_delivery / AF, header, rows, sep)
    status, _, err, derived = build(tmp_path, small_delivery, capsys)
    assert status == 0, err
    assert issues_of(derived) == []
    same_table(derived, clean, "employment")


def test_pspp_csv_export_with_us_dates_says_why(
    small_delivery: Path, tmp_path: Path, capsys
) -> None:
    """PSPP's SAVE TRANSLATE /TYPE=CSV writes an ADATE variable as mm/dd/yyyy."""
    t1 = small_delivery / "registry" / "skjema_t1.csv"
    out = tmp_path / "pspp_t1.csv"
    run_pspp(
        f"""DATA LIST LIST (",") /forlop_id (A8) svar_dato (SDATE10) arbeidsevne (F2.0)
  arbeidsstatus (F2.0) stillingsprosent (F3.0) helse (F2.0).
BEGIN DATA
E01,2024/02/02,5,3,0,3
E02,2024/03/01,6,2,50,2
E03,2024/03/29,8,1,100,1
END DATA.
FORMATS svar_dato (ADATE10).
SAVE TRANSLATE /OUTFILE='{out}' /TYPE=CSV /FIELDNAMES /REPLACE.
""",
        tmp_path,
    )
    assert "03/29/2024" in out.read_text(encoding="utf-8")  # as PSPP wrote it
    t1.write_bytes(out.read_bytes())
    status, _, err, derived = build(tmp_path, small_delivery, capsys)
    assert status == 0, err
    issues = read_parquet(derived / "issues.parquet")
    e03 = issues[(issues["source_file"] == T1) & (issues["value"] == "03/29/2024")]
    assert e03["rule"].tolist() == ["type"]
    assert "US month/day/year date (March 29, 2024)" in e03["message"].iloc[0]
    assert "YYYY-MM-DD or DD.MM.YYYY" in e03["message"].iloc[0]


@pytest.mark.parametrize(
    ("row", "column", "value", "rule"),
    [
        (4, "innskrevet_dato", "1900-01-02", "outside_registry_period"),  # age −88 at admission
        (4, "utskrevet_dato", "2099-09-27", "date_after_data_end"),
        (4, "fodselsaar", "2009", "implausible_age"),  # 15 at admission in 2024
        (4, "fodselsaar", "1940", "implausible_age"),  # 84
    ],
)
def test_implausible_registry_values_are_errors(
    small_delivery: Path, tmp_path: Path, capsys, row, column, value, rule
) -> None:
    set_value(T0, row, column, value)(small_delivery)  # E04: no follow-up answers
    status, _, err, derived = build(tmp_path, small_delivery, capsys)
    assert status == 0, err
    assert issues_of(derived) == [(T0, row, column, rule, "error")]
    assert "E04" not in set(read_parquet(derived / "episodes.parquet")["episode_id"])


def test_follow_up_date_after_data_end_is_a_row_error(
    small_delivery: Path, tmp_path: Path, capsys
) -> None:
    set_value(T1, 2, "svar_dato", "2026-03-01")(small_delivery)  # an optional date
    status, _, err, derived = build(tmp_path, small_delivery, capsys)
    assert status == 0, err
    assert issues_of(derived) == [(T1, 2, "svar_dato", "date_after_data_end", "error")]


# -- encodings ------------------------------------------------------------------------


def test_utf16_file_is_named(small_delivery: Path, tmp_path: Path, capsys) -> None:
    """Excel's 'Unicode text': UTF-16 with a byte-order mark, tab-separated."""
    header, rows, _ = _load(small_delivery / PE)
    text = "\r\n".join("\t".join(r) for r in [header, *rows]) + "\r\n"
    (small_delivery / PE).write_bytes(text.encode("utf-16"))
    status, _, err, _ = build(tmp_path, small_delivery, capsys)
    err = one_line_error(status, err)
    assert "nav/personer.csv: this file is UTF-16" in err


def test_cp1252_punctuation_is_not_read_as_latin1(
    small_delivery: Path, tmp_path: Path, capsys
) -> None:
    text = (small_delivery / INST).read_text(encoding="utf-8")
    text = text.replace("Fjordklinikken", "Fjordklinikken – Øst’s «beste» €")
    (small_delivery / INST).write_bytes(text.encode("cp1252"))
    status, _, err, derived = build(tmp_path, small_delivery, capsys)
    assert status == 0, err
    names = read_parquet(derived / "institutions.parquet")["name"].tolist()
    assert names[0] == "Fjordklinikken – Øst’s «beste» €"
    manifest = json.loads((derived / "build.json").read_text(encoding="utf-8"))
    assert manifest["input_encodings"][INST] == "cp1252"


def test_configured_registry_encoding_is_used(small_delivery: Path, tmp_path: Path, capsys) -> None:
    text = (
        (small_delivery / INST).read_text(encoding="utf-8").replace("Fjordklinikken", "Fjord–Øst")
    )
    (small_delivery / INST).write_bytes(text.encode("cp1252"))
    status, _, err, _ = build(
        tmp_path, small_delivery, capsys, extra='[registry]\nencoding = "utf-8"\n'
    )
    err = one_line_error(status, err)
    assert "registry/institusjoner.csv: not valid UTF-8" in err


# -- columns ------------------------------------------------------------------------


def test_absent_grade_column_means_100_and_is_reported_once(
    small_delivery: Path, tmp_path: Path, capsys
) -> None:
    header, rows, sep = _load(small_delivery / YT)
    _save(small_delivery / YT, header[:-1], [r[:-1] for r in rows], sep)
    status, out, err, derived = build(tmp_path, small_delivery, capsys)
    assert status == 0, err
    benefits = read_parquet(derived / "benefits.parquet")
    assert benefits["grade"].tolist() == [100.0, 100.0, 100.0, 100.0]  # P01's 50 % is not there
    notices = pd.read_csv(derived / "notices.csv")
    assert notices.values.tolist() == [
        [YT, "optional column grad is absent: every grad is read as 100 (its documented default)"]
    ]
    assert out.count("optional column grad is absent") == 1


def test_duplicated_column_name_is_a_file_error(
    small_delivery: Path, tmp_path: Path, capsys
) -> None:
    header, rows, sep = _load(small_delivery / YT)
    _save(small_delivery / YT, [*header, "grad"], [[*r, "50"] for r in rows], sep)
    status, _, err, _ = build(tmp_path, small_delivery, capsys)
    err = one_line_error(status, err)
    assert "nav/ytelser.csv: column 'grad' appears twice" in err


# -- rows lost unseen, row numbers, empty files -----------------------------------------


def test_stray_quote_that_swallows_rows_stops_the_build(
    small_delivery: Path, tmp_path: Path, capsys
) -> None:
    path = small_delivery / YT
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].replace("SP;", 'SP;"', 1)  # line 3 opens a quote …
    lines[5] = lines[5] + '"'  # … that line 6 closes: lines 4 and 5 inside one cell
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    status, _, err, _ = build(tmp_path, small_delivery, capsys)
    err = one_line_error(status, err)
    assert "nav/ytelser.csv: a quoted value that opens on line 3 runs to line 6" in err


def test_unclosed_quote_names_its_line(small_delivery: Path, tmp_path: Path, capsys) -> None:
    path = small_delivery / YT
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[4] = lines[4].replace("DP;", 'DP;"', 1)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    status, _, err, _ = build(tmp_path, small_delivery, capsys)
    err = one_line_error(status, err)
    assert "a quote opened on line 5 is never closed" in err


def test_quoted_multiline_value_and_blank_lines_keep_row_numbers_as_lines(
    small_delivery: Path, tmp_path: Path, capsys
) -> None:
    inst = small_delivery / INST
    text = inst.read_text(encoding="utf-8").replace("Fjordklinikken", '"Fjordklinikken\navd. Øst"')
    inst.write_text(text, encoding="utf-8")
    t1 = small_delivery / T1
    lines = t1.read_text(encoding="utf-8").splitlines()
    lines.insert(2, "")  # a blank line 3: E02 moves to line 4
    lines[3] = lines[3].replace("E02,2024-03-01,6", "E02,2024-03-01,14")
    t1.write_text("\n".join(lines) + "\n", encoding="utf-8")
    set_value(INST, 2, "helseregion", "7")(small_delivery)
    status, _, err, derived = build(tmp_path, small_delivery, capsys)
    assert status == 0, err
    # institusjoner: I2 is on line 4 (line 2–3 hold I1); T1: E02 on line 4
    assert issues_of(derived) == [
        (INST, 3, "helseregion", "unknown_code", "warning"),
        (T1, 3, "arbeidsevne", "out_of_range", "warning"),
    ]
    names = read_parquet(derived / "institutions.parquet")["name"].tolist()
    assert names[0] == "Fjordklinikken\navd. Øst"
    acc = accounting(derived)
    assert acc.loc[INST, "rows_read"] == 2 and acc.loc[T1, "rows_read"] == 6


def test_header_only_file_stops_unless_allowed(
    small_delivery: Path, tmp_path: Path, capsys
) -> None:
    (small_delivery / PE).write_text("lopenr;fodselsaar;kjonn;dodsdato;utvandret_dato\n")
    status, _, err, _ = build(tmp_path, small_delivery, capsys)
    err = one_line_error(status, err)
    assert "nav/personer.csv: the file has a header but no data rows" in err

    (small_delivery / PE).unlink()
    import shutil

    shutil.copy(Path(__file__).parent / "bad_inputs" / "base" / PE, small_delivery / PE)
    (small_delivery / T3_PATH).write_text(
        "forlop_id,svar_dato,arbeidsevne,arbeidsstatus,stillingsprosent,helse\n"
    )
    status, _, err, _ = build(tmp_path, small_delivery, capsys, name="t3")
    assert "registry/skjema_t3.csv: the file has a header but no data rows" in one_line_error(
        status, err
    )
    status, _, err, derived = build(
        tmp_path,
        small_delivery,
        capsys,
        extra='[registry]\nallow_empty = ["skjema_t3"]\n',
        name="ok",
    )
    assert status == 0, err
    assert accounting(derived).loc[T3_PATH, "rows_read"] == 0


def test_short_row_is_reported(small_delivery: Path, tmp_path: Path, capsys) -> None:
    path = small_delivery / YT
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].rsplit(";", 1)[0]  # P01;SP;2023-11-01;2024-04-15 – no grade field
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    status, _, err, derived = build(tmp_path, small_delivery, capsys)
    assert status == 0, err
    assert issues_of(derived) == [(YT, 1, "grad", "short_row", "warning")]
    assert read_parquet(derived / "benefits.parquet")["grade"].iloc[0] == 100.0


def test_sav_header_row_count_must_match_the_rows(
    small_delivery: Path, tmp_path: Path, capsys
) -> None:
    """A SAV file whose header says 5 cases but holds 6 (haven's file, header edited by hand).

    ReadStat stops after the header's count: the sixth row would be lost unseen."""
    csv = small_delivery / T1
    sav = csv.with_suffix(".sav")
    run_r(
        f"""library(haven)
t1 <- read.csv("{csv}", colClasses = "character")
for (v in c("arbeidsevne", "arbeidsstatus", "stillingsprosent", "helse"))
  t1[[v]] <- as.numeric(t1[[v]])
t1$svar_dato <- as.Date(t1$svar_dato)
write_sav(t1, "{sav}", compress = "none")
""",
        tmp_path,
    )
    csv.unlink()
    data = bytearray(sav.read_bytes())
    assert int.from_bytes(data[80:84], "little") == 6  # the header's case count
    data[80:84] = (5).to_bytes(4, "little")
    sav.write_bytes(bytes(data))
    status, _, err, _ = build(tmp_path, small_delivery, capsys)
    err = one_line_error(status, err)
    assert "registry/skjema_t1.sav: the file holds 6 data rows (to the end of the file)" in err
    assert "but 5 were read" in err


# -- institutions ---------------------------------------------------------------------


def test_excel_mangled_inst_id_is_rejected_with_a_hint(
    small_delivery: Path, tmp_path: Path, capsys
) -> None:
    set_value(T0, 3, "inst_id", "9,87054E+08")(small_delivery)  # E03
    status, _, err, derived = build(tmp_path, small_delivery, capsys)
    assert status == 0, err
    assert (T0, 3, "inst_id", "unknown_institution", "error") in issues_of(derived)
    assert "scientific notation" in message_of(derived, "unknown_institution")


def test_institution_without_a_row_for_the_discharge_year_is_kept_with_a_warning(
    small_delivery: Path, tmp_path: Path, capsys
) -> None:
    set_value(INST, 2, "aar", "2023")(small_delivery)  # I2 only for 2023; E03, E04 leave in 2024
    status, _, err, derived = build(tmp_path, small_delivery, capsys)
    assert status == 0, err
    assert issues_of(derived) == [
        (T0, 3, "inst_id", "institution_year_missing", "warning"),
        (T0, 4, "inst_id", "institution_year_missing", "warning"),
    ]
    episodes = read_parquet(derived / "episodes.parquet").set_index("episode_id")
    assert episodes.loc["E03", "institution_id"] == "I2"


# -- codes and missing codes ----------------------------------------------------------------


def test_unknown_code_lists_the_valid_codes(small_delivery: Path, tmp_path: Path, capsys) -> None:
    set_value(T0, 4, "kjonn", "K")(small_delivery)  # E04: no follow-up answers
    status, _, err, derived = build(tmp_path, small_delivery, capsys)
    assert status == 0, err
    assert issues_of(derived) == [(T0, 4, "kjonn", "unknown_code", "error")]
    assert "1 = Mann, 2 = Kvinne" in message_of(derived, "unknown_code")


def test_sex_written_as_lower_case_label_is_read(
    small_delivery: Path, tmp_path: Path, capsys, clean
) -> None:
    set_value(T0, 2, "kjonn", "kvinne")(small_delivery)
    status, _, err, derived = build(tmp_path, small_delivery, capsys)
    assert status == 0, err
    assert issues_of(derived) == [(T0, 2, "kjonn", "code_as_label", "warning")]
    same_table(derived, clean, "episodes")


def test_missing_codes_apply_to_coded_items_only(
    small_delivery: Path, tmp_path: Path, capsys
) -> None:
    set_value(T0, 1, "sykmeldt_uker", "98")(small_delivery)
    set_value(T0, 1, "fodselsaar", "1980")(small_delivery)
    set_value(T0, 2, "sykmeldt_prosent", "99")(small_delivery)
    set_value(INST, 1, "antall_pasienter", "98")(small_delivery)
    set_value(T0, 3, "utdanning", "98")(small_delivery)
    status, _, err, derived = build(tmp_path, small_delivery, capsys)
    assert status == 0, err
    assert issues_of(derived) == []
    episodes = read_parquet(derived / "episodes.parquet").set_index("episode_id")
    assert episodes.loc["E01", "sick_leave_weeks"] == 98  # 98 weeks: a real value
    assert episodes.loc["E02", "sick_leave_percent"] == 99
    assert pd.isna(episodes.loc["E03", "education"])  # a coded item: 98 = Ikke besvart
    institutions = read_parquet(derived / "institutions.parquet")
    assert institutions["n_patients"].tolist() == [98, 25]


def test_spss_declared_user_missing_is_missing(
    small_delivery: Path, tmp_path: Path, capsys
) -> None:
    """A producer that declares 99 user-missing on sykmeldt_uker means it as missing."""
    csv = small_delivery / T0
    header, rows, _ = _load(csv)
    frame = pd.DataFrame(rows, columns=header)
    frame.loc[0, "sykmeldt_uker"] = "98"  # E01: 98 weeks, not declared missing
    numeric = ["samtykke", "fodselsaar", "kjonn", "rehab_type", "sykmeldt_status"]
    numeric += ["sykmeldt_prosent", "sykmeldt_uker", "utdanning", "arbeidsevne", "forventning_rtw"]
    for c in numeric:
        frame[c] = pd.to_numeric(frame[c])
    for c in ("samtykke_trukket_dato", "innskrevet_dato", "utskrevet_dato", "svar_dato"):
        frame[c] = [dt.date.fromisoformat(v) if v else None for v in frame[c]]
    pyreadstat.write_sav(
        frame, str(csv.with_suffix(".sav")), missing_ranges={"sykmeldt_uker": [99.0]}
    )
    csv.unlink()
    status, _, err, derived = build(tmp_path, small_delivery, capsys)
    assert status == 0, err
    episodes = read_parquet(derived / "episodes.parquet").set_index("episode_id")
    assert pd.isna(episodes.loc["E07", "sick_leave_weeks"])  # 99: declared missing in the file
    assert episodes.loc["E01", "sick_leave_weeks"] == 98  # 98: not declared, a real value


# -- the summary ----------------------------------------------------------------------------


def test_build_ends_with_a_summary_when_not_on_a_terminal(
    small_delivery: Path, tmp_path: Path, capsys
) -> None:
    set_value(T1, 1, "arbeidsevne", "14")(small_delivery)
    set_value(YT, 1, "grad", "150")(small_delivery)
    status, out, err, derived = build(tmp_path, small_delivery, capsys)
    assert status == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == "arr-stats build: summary"
    row = next(line for line in lines if line.strip().startswith(YT)).split()
    assert row == [YT, "6", "3", "1", "2"]  # read, kept, rejected, excluded
    assert "  linkage: 4 of 5 consenting episodes linked (80.0%)" in lines
    assert "  issues: 1 error (row rejected), 1 warning (row kept) – see issues.csv" in lines
    assert lines[-1] == f"  tables written to {derived}"


# -- forms a producer meant the same way as the clean delivery --------------------------------


def _excel_sep_line(delivery: Path) -> None:
    path = delivery / YT
    path.write_text("sep=;\n" + path.read_text(encoding="utf-8"), encoding="utf-8")


def _percent_signs(delivery: Path) -> None:
    header, rows, sep = _load(delivery / YT)
    _save(delivery / YT, header, [[*r[:-1], f"{r[-1]} %" if r[-1] else ""] for r in rows], sep)


def _year_first_slashes(delivery: Path) -> None:
    header, rows, sep = _load(delivery / AF)
    _save(delivery / AF, header, [[*r[:2], r[2].replace("-", "/"), *r[3:]] for r in rows], sep)


def _parquet_with_index(delivery: Path) -> None:
    header, rows, _ = _load(delivery / T1)
    frame = pd.DataFrame(rows, columns=header).set_index("forlop_id")  # as a pandas user saves it
    frame.to_parquet(delivery / "registry" / "skjema_t1.parquet")
    (delivery / T1).unlink()


@pytest.mark.parametrize(
    "change",
    [_excel_sep_line, _percent_signs, _year_first_slashes, _parquet_with_index],
    ids=lambda f: f.__name__.strip("_"),
)
def test_same_meaning_gives_the_same_tables(
    small_delivery: Path, tmp_path: Path, capsys, clean, change
) -> None:
    change(small_delivery)
    status, _, err, derived = build(tmp_path, small_delivery, capsys)
    assert status == 0, err
    assert issues_of(derived) == []
    for name in ("episodes", "responses", "benefits", "employment", "outcomes"):
        same_table(derived, clean, name)


def test_sav_coding_a_variable_differently_stops(
    small_delivery: Path, tmp_path: Path, capsys
) -> None:
    """haven's write_sav of a T0 whose own labels say 1 = Kvinne, 2 = Mann (swapped codes)."""
    csv = small_delivery / "registry" / "skjema_t0.csv"
    sav = csv.with_suffix(".sav")
    run_r(
        f"""library(haven)
t0 <- read.csv("{csv}", colClasses = "character")
for (v in c("samtykke", "fodselsaar", "rehab_type", "sykmeldt_status", "sykmeldt_prosent",
            "sykmeldt_uker", "utdanning", "arbeidsevne", "forventning_rtw"))
  t0[[v]] <- as.numeric(t0[[v]])
t0$kjonn <- labelled(3 - as.numeric(t0$kjonn), c(Kvinne = 1, Mann = 2))
write_sav(t0, "{sav}")
""",
        tmp_path,
    )
    csv.unlink()
    status, _, err, _ = build(tmp_path, small_delivery, capsys)
    err = one_line_error(status, err)
    assert "registry/skjema_t0.sav: the file's value labels say kjonn 1 = Kvinne" in err
    assert "in the data dictionary Kvinne is code 2" in err


def test_unknown_episode_written_as_a_decimal_gets_a_hint(
    small_delivery: Path, tmp_path: Path, capsys
) -> None:
    """T0 ids as digits; T1 exported from a float column: 1001.0 (as pandas and Excel write)."""
    for file, suffix in ((T0, ""), (T1, ".0")):
        header, rows, sep = _load(small_delivery / file)
        _save(small_delivery / file, header, [[f"10{r[0][1:]}{suffix}", *r[1:]] for r in rows], sep)
    status, _, err, derived = build(tmp_path, small_delivery, capsys)
    assert status == 0, err
    issues = read_parquet(derived / "issues.parquet")
    first = issues[issues["value"] == "1001.0"]
    assert first["rule"].tolist() == ["unknown_episode"]
    assert "skjema_t0 has '1001': the same id written differently" in first["message"].iloc[0]
