"""End to end: ``arr-stats build`` on a small hand-made delivery and on broken copies of it.

The small delivery (tests/bad_inputs/base, data end 2025-12-31) and what must
become of each of its rows, worked out by hand:

skjema_t0 (7 rows)
  E01 P01, E02 P02, E03 P03, E04 P01 – consent, kept, linked (P01 has two episodes);
  E05 P04 – samtykke 0 → excluded_no_consent;
  E06 P05 – samtykke_trukket_dato set → excluded_consent_withdrawn;
  E07 P06 – kept, unlinked (P06 is not in personer); 98/99 → missing.
skjema_t1 (6): E01, E02, E03, E07 kept; E05 excluded (no consent); E06 excluded (withdrawn).
skjema_t2 (2): E01, E03.  skjema_t3 (1): E01.  institusjoner (2): I1, I2.
personer (6): P01, P02, P03 kept; P04 (only a non-consenting episode), P05
  (withdrawn), P07 (no episode) → excluded_no_consenting_episode.
ytelser (6): four rows of P01–P03 kept; P04 and P07 excluded.
arbeidsforhold (4): P01–P03 kept; P05 excluded.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

from arr_stats.cli import main
from arr_stats.ingest.validate import RULES
from arr_stats.io import read_parquet

# -- the small delivery: expected results, by hand ---------------------------------

BASE_ACCOUNTING = {
    # file: (read, kept, rejected, excluded,
    #        no_consent, withdrawn, consent_unknown, unlinked, no_consenting_episode)
    "registry/skjema_t0.csv": (7, 5, 0, 2, 1, 1, 0, 0, 0),
    "registry/skjema_t1.csv": (6, 4, 0, 2, 1, 1, 0, 0, 0),
    "registry/skjema_t2.csv": (2, 2, 0, 0, 0, 0, 0, 0, 0),
    "registry/skjema_t3.csv": (1, 1, 0, 0, 0, 0, 0, 0, 0),
    "registry/institusjoner.csv": (2, 2, 0, 0, 0, 0, 0, 0, 0),
    "nav/ytelser.csv": (6, 4, 0, 2, 0, 0, 0, 0, 2),
    "nav/arbeidsforhold.csv": (4, 3, 0, 1, 0, 0, 0, 0, 1),
    "nav/personer.csv": (6, 3, 0, 3, 0, 0, 0, 0, 3),
}

BASE_LINKAGE = {
    "episodes": 5,  # E01 E02 E03 E04 E07
    "episodes_linked": 4,  # all but E07
    "episodes_unlinked": 1,
    "persons": 4,  # P01 P02 P03 P06
    "persons_matched": 3,
    "persons_unmatched": 1,  # P06
    "persons_with_several_episodes": 1,  # P01: E01, E04
    "nav_persons": 3,
    "nav_persons_without_consenting_episode": 3,  # P04 P05 P07
}


# -- editing a CSV delivery --------------------------------------------------------


def _load(path: Path) -> tuple[list[str], list[list[str]], str]:
    text = path.read_text(encoding="utf-8")
    sep = ";" if text.splitlines()[0].count(";") else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=sep))
    return rows[0], rows[1:], sep


def _save(path: Path, header: list[str], rows: list[list[str]], sep: str) -> None:
    out = io.StringIO()
    csv.writer(out, delimiter=sep, lineterminator="\n").writerows([header, *rows])
    path.write_text(out.getvalue(), encoding="utf-8")


def set_value(file: str, row: int, column: str, value: str) -> Callable[[Path], None]:
    """Set one cell (row is the 1-based data row)."""

    def mutate(delivery: Path) -> None:
        header, rows, sep = _load(delivery / file)
        rows[row - 1][header.index(column)] = value
        _save(delivery / file, header, rows, sep)

    return mutate


def append_row(file: str, values: list[str]) -> Callable[[Path], None]:
    def mutate(delivery: Path) -> None:
        header, rows, sep = _load(delivery / file)
        _save(delivery / file, header, [*rows, values], sep)

    return mutate


def copy_row(file: str, row: int) -> Callable[[Path], None]:
    def mutate(delivery: Path) -> None:
        header, rows, sep = _load(delivery / file)
        _save(delivery / file, header, [*rows, list(rows[row - 1])], sep)

    return mutate


def drop_column(file: str, column: str) -> Callable[[Path], None]:
    def mutate(delivery: Path) -> None:
        header, rows, sep = _load(delivery / file)
        i = header.index(column)
        _save(
            delivery / file, header[:i] + header[i + 1 :], [r[:i] + r[i + 1 :] for r in rows], sep
        )

    return mutate


def delete(file: str) -> Callable[[Path], None]:
    return lambda delivery: (delivery / file).unlink()


def rename(file: str, new_name: str) -> Callable[[Path], None]:
    return lambda delivery: (delivery / file).rename((delivery / file).with_name(new_name))


def write_bytes(file: str, data: bytes) -> Callable[[Path], None]:
    return lambda delivery: (delivery / file).write_bytes(data)


def as_parquet(file: str, keep_csv: bool) -> Callable[[Path], None]:
    def mutate(delivery: Path) -> None:
        path = delivery / file
        header, rows, _ = _load(path)
        pd.DataFrame(rows, columns=header).to_parquet(path.with_suffix(".parquet"))
        if not keep_csv:
            path.unlink()

    return mutate


def reencode(file: str, encoding: str, bom: bool = False) -> Callable[[Path], None]:
    """Rewrite a file in another encoding, with a name containing æøå to make it matter."""

    def mutate(delivery: Path) -> None:
        path = delivery / file
        text = path.read_text(encoding="utf-8").replace("A1", "Bjørnæs AS")
        path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding))

    return mutate


def both(*mutations: Callable[[Path], None]) -> Callable[[Path], None]:
    def mutate(delivery: Path) -> None:
        for m in mutations:
            m(delivery)

    return mutate


# -- running the CLI ---------------------------------------------------------------


def write_config(folder: Path, delivery: Path, derived: Path, encoding: str = "auto") -> Path:
    config = folder / "run.toml"
    config.write_text(
        f"""[paths]
registry = "{delivery / "registry"}"
nav = "{delivery / "nav"}"
derived = "{derived}"

[nav]
data_end = "2025-12-31"
encoding = "{encoding}"
""",
        encoding="utf-8",
    )
    return config


def run_cli(
    tmp_path: Path, delivery: Path, capsys, encoding: str = "auto"
) -> tuple[int, str, Path]:
    derived = tmp_path / "derived"
    config = write_config(tmp_path, delivery, derived, encoding)
    status = main(["build", "--config", str(config), "--quiet"])
    return status, capsys.readouterr().err, derived


# -- the table of bad inputs -------------------------------------------------------

T0, T1, T2 = "registry/skjema_t0.csv", "registry/skjema_t1.csv", "registry/skjema_t2.csv"
T3_PATH = "registry/skjema_t3.csv"
INST = "registry/institusjoner.csv"
YT, AF, PE = "nav/ytelser.csv", "nav/arbeidsforhold.csv", "nav/personer.csv"


@dataclass(frozen=True)
class Case:
    """One broken delivery and exactly what must come of it."""

    name: str
    mutate: Callable[[Path], None]
    status: int = 0
    stderr: tuple[str, ...] = ()
    # (file, row, column, rule, severity) – every issue, nothing more
    issues: tuple[tuple[str, int, str, str, str], ...] = ()
    encoding: str = "auto"
    excluded: dict[str, dict[str, int]] = field(default_factory=dict)  # changed exclusion counts


STRUCTURAL = [
    Case(
        "file missing", delete(T2), 2, ("registry/skjema_t2: file missing", "deliver it as one of")
    ),
    Case(
        "two formats of one file",
        as_parquet(T1, keep_csv=True),
        2,
        ("skjema_t1.csv, skjema_t1.parquet", "exactly one file per name"),
    ),
    Case(
        "only an unsupported format",
        rename(PE, "personer.xlsx"),
        2,
        ("nav/personer: file missing", "personer.xlsx, which is not a supported format"),
    ),
    Case(
        "NAV file as parquet (NAV delivers csv or sas7bdat)",
        as_parquet(YT, keep_csv=False),
        2,
        ("nav/ytelser: file missing", "not a supported format", ".csv, .sas7bdat"),
    ),
    Case(
        "required column absent (registry)",
        drop_column(T0, "utskrevet_dato"),
        2,
        ("registry/skjema_t0.csv: required column utskrevet_dato missing",),
    ),
    Case(
        "required column absent (NAV)",
        drop_column(YT, "fom"),
        2,
        ("nav/ytelser.csv: required column fom missing",),
    ),
    Case(
        "unreadable SPSS file",
        both(delete("registry/skjema_t3.csv"), write_bytes("registry/skjema_t3.sav", b"not spss")),
        2,
        ("registry/skjema_t3.sav: cannot be read as a .sav file",),
    ),
    Case("empty file", write_bytes(PE, b""), 2, ("nav/personer.csv: the file is empty",)),
    Case(
        "Latin-1 file read as UTF-8",
        reencode(AF, "latin-1"),
        2,
        ("nav/arbeidsforhold.csv: not valid UTF-8", 'encoding = "latin-1"'),
        encoding="utf-8",
    ),
    Case(
        "UTF-8 file with BOM read as Latin-1",
        reencode(AF, "utf-8", bom=True),
        2,
        ("nav/arbeidsforhold.csv: starts with a UTF-8 byte-order mark",),
        encoding="latin-1",
    ),
    Case(
        "registry folder missing",
        lambda d: shutil.rmtree(d / "registry"),
        2,
        ("registry folder", "does not exist"),
    ),
    Case(
        "malformed CSV (a row with too many fields)",
        append_row(T2, ["E01", "2024-08-02", "6", "2", "60", "2", "extra", "fields"]),
        2,
        ("registry/skjema_t2.csv: not a well-formed CSV file",),
    ),
    Case(
        "two columns differing only in case",
        lambda d: (d / T3_PATH).write_text(
            "forlop_id,FORLOP_ID,svar_dato\nE01,E01,2025-02-02\n", encoding="utf-8"
        ),
        2,
        ("registry/skjema_t3.csv: column 'forlop_id' appears twice",),
    ),
]
ROW_RULES = [
    # E01 twice: the second row (row 2, E02 renamed) is rejected, the first kept; E02's
    # T1 answer now has no episode.
    Case(
        "duplicate episode_id in T0",
        set_value(T0, 2, "forlop_id", "E01"),
        issues=(
            (T0, 2, "forlop_id", "duplicate_key", "error"),
            (T1, 2, "forlop_id", "unknown_episode", "error"),
        ),
    ),
    # E03 discharged 2024-03-01 < admitted 2024-03-04: rejected with its T1 and T2 answers.
    Case(
        "discharge before admission",
        set_value(T0, 3, "utskrevet_dato", "2024-03-01"),
        issues=(
            (T0, 3, "utskrevet_dato", "discharge_before_admission", "error"),
            (T1, 3, "forlop_id", "unknown_episode", "error"),
            (T2, 2, "forlop_id", "unknown_episode", "error"),
        ),
    ),
    Case(
        "required value empty (E04 has no follow-ups)",
        set_value(T0, 4, "kjonn", ""),
        issues=((T0, 4, "kjonn", "required", "error"),),
    ),
    Case(
        "required value is a missing code",
        set_value(T0, 4, "kjonn", "99"),
        issues=((T0, 4, "kjonn", "required", "error"),),
    ),
    Case(
        "required date unreadable",
        set_value(T0, 4, "innskrevet_dato", "2024-13-01"),
        issues=((T0, 4, "innskrevet_dato", "type", "error"),),
    ),
    Case(
        "required integer unreadable",
        set_value(T0, 4, "fodselsaar", "19x0"),
        issues=((T0, 4, "fodselsaar", "type", "error"),),
    ),
    Case(
        "required code unknown",
        set_value(T0, 4, "kjonn", "3"),
        issues=((T0, 4, "kjonn", "unknown_code", "error"),),
    ),
    Case(
        "required integer out of range",
        set_value(T0, 4, "fodselsaar", "1850"),
        issues=((T0, 4, "fodselsaar", "out_of_range", "error"),),
    ),
    Case(
        "optional code unknown: kept, value missing",
        set_value(T0, 2, "rehab_type", "7"),
        issues=((T0, 2, "rehab_type", "unknown_code", "warning"),),
    ),
    Case(
        "optional number out of range: kept, value missing",
        set_value(T0, 1, "sykmeldt_prosent", "150"),
        issues=((T0, 1, "sykmeldt_prosent", "out_of_range", "warning"),),
    ),
    Case(
        "diagnosis code of neither form",
        set_value(T0, 2, "diagnose", "XYZ"),
        issues=((T0, 2, "diagnose", "diagnosis_code", "warning"),),
    ),
    Case(
        "follow-up answer out of range",
        set_value(T1, 1, "arbeidsevne", "14"),
        issues=((T1, 1, "arbeidsevne", "out_of_range", "warning"),),
    ),
    Case(
        "follow-up date unreadable",
        set_value(T1, 2, "svar_dato", "31.02.2024"),
        issues=((T1, 2, "svar_dato", "type", "warning"),),
    ),
    Case(
        "follow-up for an unknown episode",
        append_row(T1, ["E99", "2024-06-01", "5", "1", "100", "2"]),
        issues=((T1, 7, "forlop_id", "unknown_episode", "error"),),
    ),
    Case(
        "follow-up answered twice",
        copy_row(T1, 1),
        issues=((T1, 7, "forlop_id", "duplicate_key", "error"),),
    ),
    Case(
        "institution year twice",
        append_row(INST, ["I1", "2024", "Fjordklinikken", "2", "41", "45", "30", "1", "4"]),
        issues=((INST, 3, "inst_id", "duplicate_key", "error"),),
    ),
    Case(
        "institution offers an unknown rehab type",
        set_value(INST, 2, "rehab_typer", "2,9"),
        issues=((INST, 2, "rehab_typer", "unknown_code", "warning"),),
    ),
    Case(
        "spell ends before it starts",
        set_value(YT, 4, "tom", "2024-03-01"),
        issues=((YT, 4, "tom", "end_before_start", "error"),),
    ),
    Case(
        "spell starts after data end",
        set_value(YT, 3, "fom", "2026-02-01"),
        issues=((YT, 3, "fom", "start_after_data_end", "error"),),
    ),
    Case(
        "grade above 100",
        set_value(YT, 1, "grad", "150"),
        issues=((YT, 1, "grad", "out_of_range", "error"),),
    ),
    Case(
        "grade below 0",
        set_value(YT, 2, "grad", "-5"),
        issues=((YT, 2, "grad", "out_of_range", "error"),),
    ),
    Case("grade 0 is kept", set_value(YT, 2, "grad", "0")),
    Case(
        "benefit code not in the codelist",
        set_value(YT, 3, "ytelse", "XYZ"),
        issues=((YT, 3, "ytelse", "unknown_code", "error"),),
    ),
    Case(
        "spell of a person in neither registry nor personer",
        append_row(YT, ["P99", "SP", "2024-01-01", "2024-02-01", "100"]),
        issues=((YT, 7, "lopenr", "unknown_person", "error"),),
    ),
    Case(
        "spell of a consenting person missing from personer",
        append_row(YT, ["P06", "SP", "2024-01-01", "2024-02-01", "100"]),
        issues=((YT, 7, "lopenr", "unknown_person", "error"),),
    ),
    Case(
        "negative position percent",
        set_value(AF, 1, "stillingsprosent", "-50"),
        issues=((AF, 1, "stillingsprosent", "negative_position_percent", "error"),),
    ),
    Case(
        "position percent above 200",
        set_value(AF, 2, "stillingsprosent", "250"),
        issues=((AF, 2, "stillingsprosent", "out_of_range", "error"),),
    ),
    Case(
        "employment start unreadable",
        set_value(AF, 3, "fom", "ukjent"),
        issues=((AF, 3, "fom", "type", "error"),),
    ),
    Case(
        "person delivered twice",
        copy_row(PE, 1),
        issues=((PE, 7, "lopenr", "duplicate_key", "error"),),
    ),
    Case(
        "person's birth year out of range: kept, value missing",
        set_value(PE, 2, "fodselsaar", "1850"),
        issues=((PE, 2, "fodselsaar", "out_of_range", "warning"),),
    ),
    # issue 12: real deliveries (more in tests/test_real_deliveries.py)
    Case(
        "a code written as its label is read, with a warning",
        set_value(T0, 2, "kjonn", "Kvinne"),
        issues=((T0, 2, "kjonn", "code_as_label", "warning"),),
    ),
    Case(
        "a CSV row with fewer fields than the header",
        lambda d: (d / YT).write_text(
            (d / YT)
            .read_text(encoding="utf-8")
            .replace("P02;AAP;2024-01-01;;\n", "P02;AAP;2024-01-01\n"),
            encoding="utf-8",
        ),
        issues=((YT, 3, "tom", "short_row", "warning"),),
    ),
    Case(
        "a date before 1900",
        set_value(T0, 4, "innskrevet_dato", "0001-01-01"),
        issues=((T0, 4, "innskrevet_dato", "date_out_of_range", "error"),),
    ),
    Case(
        "a registry date after the data end",
        set_value(T1, 2, "svar_dato", "2026-03-01"),
        issues=((T1, 2, "svar_dato", "date_after_data_end", "error"),),
    ),
    Case(
        "an admission before the registry's first year",
        set_value(T0, 4, "innskrevet_dato", "1999-09-02"),
        issues=((T0, 4, "innskrevet_dato", "outside_registry_period", "error"),),
    ),
    Case(
        "an implausible age at admission",
        set_value(T0, 4, "fodselsaar", "2010"),
        issues=((T0, 4, "fodselsaar", "implausible_age", "error"),),
    ),
    Case(
        "an institution in no year of institusjoner",
        set_value(T0, 4, "inst_id", "9,87054E+08"),
        issues=((T0, 4, "inst_id", "unknown_institution", "error"),),
    ),
    Case(
        "an institution without a row for the discharge year",
        set_value(INST, 2, "aar", "2023"),
        issues=(
            (T0, 3, "inst_id", "institution_year_missing", "warning"),
            (T0, 4, "inst_id", "institution_year_missing", "warning"),
        ),
    ),
    # consent comes first: bad values of excluded rows are never looked at
    Case(
        "bad spell of a non-consenting person is excluded, not reported",
        set_value(YT, 5, "grad", "150"),
    ),
    Case(
        "bad answer of a non-consenting episode is excluded, not reported",
        set_value(T1, 4, "helse", "9"),
    ),
    Case(
        "unreadable consent excludes the episode as consent unknown, and is reported",
        set_value(T0, 4, "samtykke", "x"),
        issues=((T0, 4, "samtykke", "consent_unknown", "warning"),),
        excluded={T0: {"excluded_consent_unknown": 1}},
    ),
    Case(
        "unreadable withdrawal date counts as withdrawn",
        set_value(T0, 4, "samtykke_trukket_dato", "ukjent"),
        excluded={T0: {"excluded_consent_withdrawn": 2}},
    ),
]


def test_rule_table_covers_every_rule() -> None:
    covered = {issue[3] for case in ROW_RULES for issue in case.issues}
    assert covered == set(RULES)
    assert len(STRUCTURAL) + len(ROW_RULES) >= 25


@pytest.mark.parametrize("case", STRUCTURAL, ids=lambda c: c.name)
def test_structural_error(case: Case, small_delivery: Path, tmp_path: Path, capsys) -> None:
    case.mutate(small_delivery)
    status, err, derived = run_cli(tmp_path, small_delivery, capsys, case.encoding)
    assert status == 2
    assert err.startswith("arr-stats: error: ")
    assert err.count("\n") == 1, "one line, no traceback"
    for text in case.stderr:
        assert text in err
    assert not (derived / "build.json").exists()


@pytest.mark.parametrize("case", ROW_RULES, ids=lambda c: c.name)
def test_row_rule(case: Case, small_delivery: Path, tmp_path: Path, capsys) -> None:
    case.mutate(small_delivery)
    status, err, derived = run_cli(tmp_path, small_delivery, capsys, case.encoding)
    assert status == 0, err
    assert err == ""  # --quiet
    issues = read_parquet(derived / "issues.parquet")
    found = sorted(
        zip(
            issues["source_file"],
            issues["row"],
            issues["column"],
            issues["rule"],
            issues["severity"],
            strict=True,
        )
    )
    assert found == sorted(case.issues)
    for issue in issues.itertuples():
        assert issue.message.startswith(
            f"{issue.source_file}, row {issue.row}, column {issue.column}: "
        )
        assert f"rule {issue.rule};" in issue.message

    accounting = pd.read_csv(derived / "row_accounting.csv").set_index("file")
    for file, (_, _, _, _, *reasons) in BASE_ACCOUNTING.items():
        got = accounting.loc[file]
        rejected_rows = {row for f, row, _, _, sev in case.issues if f == file and sev == "error"}
        assert got["rows_read"] == len(_load(small_delivery / file)[1])  # read, after the edit
        assert got["rows_rejected"] == len(rejected_rows)
        assert got["rows_read"] == got["rows_kept"] + got["rows_rejected"] + got["rows_excluded"]
        expected_reasons = dict(
            zip(
                [
                    "excluded_no_consent",
                    "excluded_consent_withdrawn",
                    "excluded_consent_unknown",
                    "excluded_unlinked",
                    "excluded_no_consenting_episode",
                ],
                reasons,
                strict=True,
            )
        )
        expected_reasons.update(case.excluded.get(file, {}))
        for reason, n in expected_reasons.items():
            assert got[reason] == n, (file, reason)


def test_warning_keeps_row_and_sets_value_missing(
    small_delivery: Path, tmp_path: Path, capsys
) -> None:
    set_value(T1, 1, "arbeidsevne", "14")(small_delivery)
    set_value(T0, 2, "rehab_type", "7")(small_delivery)
    status, _, derived = run_cli(tmp_path, small_delivery, capsys)
    assert status == 0
    responses = read_parquet(derived / "responses.parquet")
    e01_t1 = responses[(responses["episode_id"] == "E01") & (responses["point"] == "T1")]
    assert len(e01_t1) == 1 and pd.isna(e01_t1["work_ability"].iloc[0])
    assert e01_t1["self_rated_health"].iloc[0] == "Verken god eller dårlig"  # helse 3 kept
    episodes = read_parquet(derived / "episodes.parquet").set_index("episode_id")
    assert pd.isna(episodes.loc["E02", "rehab_mode"])
    assert episodes.loc["E02", "sick_leave_status"] == "Gradert sykmeldt"


def test_small_delivery_builds_as_worked_out(small_delivery: Path, tmp_path: Path, capsys) -> None:
    status, _, derived = run_cli(tmp_path, small_delivery, capsys)
    assert status == 0
    accounting = pd.read_csv(derived / "row_accounting.csv")
    got = {row.file: tuple(int(v) for v in row[1:]) for row in accounting.itertuples(index=False)}
    assert got == BASE_ACCOUNTING
    linkage = pd.read_csv(derived / "linkage.csv")
    assert dict(zip(linkage["measure"], linkage["value"], strict=True)) == BASE_LINKAGE
    assert len(read_parquet(derived / "issues.parquet")) == 0

    episodes = read_parquet(derived / "episodes.parquet")
    assert list(episodes["episode_id"]) == ["E01", "E02", "E03", "E04", "E07"]
    assert list(episodes["linked"]) == [True, True, True, True, False]
    # M54.5 and L03 musculoskeletal, F32.1 and P76 mental, R52 other
    assert list(episodes["diagnosis_group"].astype(str)) == [
        "musculoskeletal",
        "mental",
        "musculoskeletal",
        "mental",
        "other",
    ]
    assert list(episodes["age_at_admission"]) == [
        2024 - 1980,
        2024 - 1975,
        2024 - 1990,
        2024 - 1980,
        2024 - 1988,
    ]
    assert "consent" not in episodes and "consent_withdrawn_date" not in episodes
    e07 = episodes.iloc[4]
    # data-model.md: 98 in the 0–10 scale is a missing code; 99 weeks of sick leave is real
    assert pd.isna(e07["work_ability"]) and e07["sick_leave_weeks"] == 99

    responses = read_parquet(derived / "responses.parquet")
    # T0: 5 episodes; T1: E01 E02 E03 E07; T2: E01 E03; T3: E01
    assert responses["point"].value_counts().sort_index().tolist() == [5, 4, 2, 1]
    assert list(responses["point"].cat.categories) == ["T0", "T1", "T2", "T3"]
    assert set(responses["episode_id"]) <= set(episodes["episode_id"])

    benefits = read_parquet(derived / "benefits.parquet")
    assert list(benefits["person_id"]) == ["P01", "P01", "P02", "P03"]
    assert list(benefits["grade"]) == [100.0, 50.0, 100.0, 100.0]  # P02's empty grade = 100
    assert pd.isna(benefits["end_date"].iloc[2])
    persons = read_parquet(derived / "persons.parquet")
    assert list(persons["person_id"]) == ["P01", "P02", "P03"]

    manifest = json.loads((derived / "build.json").read_text(encoding="utf-8"))
    assert set(manifest["inputs"]) == set(BASE_ACCOUNTING)
    assert manifest["config"]["nav"]["data_end"] == "2025-12-31"
    assert manifest["dictionary_version"] == "2026.1"
    t0_bytes = (small_delivery / T0).read_bytes()
    assert manifest["inputs"][T0] == hashlib.sha256(t0_bytes).hexdigest()


def test_build_is_deterministic(small_delivery: Path, tmp_path: Path, capsys) -> None:
    first = tmp_path / "one"
    second = tmp_path / "two"
    for out in (first, second):
        config = write_config(out.parent, small_delivery, out)
        assert main(["build", "--config", str(config), "--quiet"]) == 0
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir())
    for name in names:
        a, b = (first / name).read_bytes(), (second / name).read_bytes()
        if name == "build.json":  # the configuration names each output folder
            a, b = (json.loads(x) for x in (a, b))
            for manifest in (a, b):
                manifest["config"]["paths"].pop("derived")
                manifest["config"].pop("source")
                manifest.pop("git")  # another engineer may commit between the two builds
        assert a == b, name


def test_progress_display_on_stderr(
    small_delivery: Path, tmp_path: Path, capsys, config_for
) -> None:
    from arr_stats.derive.build import run_build

    data_end = dt.date(2025, 12, 31)
    run_build(config_for(small_delivery, tmp_path / "d", data_end), progress=True)
    err = capsys.readouterr().err
    assert "[1/8] reading the delivery" in err
    assert "registry/skjema_t0.csv: 7 rows" in err
    run_build(config_for(small_delivery, tmp_path / "e", data_end), progress=False)
    assert capsys.readouterr().err == ""


# -- the synthetic demo delivery -------------------------------------------------------


def _canonical_text(delivery: Path, file: str) -> pd.DataFrame:
    """A delivery file's rows as text in raw column names (index = 1-based source row)."""
    from arr_stats.dictionary import load_dictionary
    from arr_stats.ingest.canonical import to_canonical
    from arr_stats.ingest.readers import read_raw
    from arr_stats.ingest.validate import format_value

    dd = load_dictionary()
    table = dd.table(Path(file).stem)
    raw, _ = read_raw(delivery / file)
    canon, _ = to_canonical(raw, table, dd, label=file, file_format=Path(file).suffix)
    return pd.DataFrame({v.raw: canon[v.name].map(format_value) for v in table.variables})


def _raw_text(delivery: Path, file: str) -> pd.DataFrame:
    """A delivery file's cells as written, as stripped text (index = 1-based source row)."""
    from arr_stats.ingest.canonical import is_empty
    from arr_stats.ingest.readers import read_raw

    raw, _ = read_raw(delivery / file)
    text = raw.map(lambda v: "" if is_empty(v) else str(v).strip())
    text.index = text.index + 1
    return text


def test_demo_issues_are_exactly_the_deliberate_flaws(
    demo_delivery: Path, demo_derived: Path
) -> None:
    """Every deliberate flaw is reported with its rule, and nothing else is – except the
    follow-up answers of a T0 row that a flaw rejects, which lose their episode
    (rule unknown_episode); those are derived here from the raw files, not from the build."""
    from arr_stats.synth.flaws import DELIBERATE_FLAWS

    issues = read_parquet(demo_derived / "issues.parquet")
    matched: set[tuple[str, int]] = set()
    rejected_episodes: set[str] = set()
    for flaw in DELIBERATE_FLAWS:
        rows = _raw_text(demo_delivery, flaw.file)
        hit = (rows[list(flaw.key)] == pd.Series(dict(flaw.key))).all(axis=1)
        candidates = set(rows.index[hit])
        assert candidates, f"the flawed row {flaw.key} is not in {flaw.file}"
        mine = issues[
            (issues["source_file"] == flaw.file)
            & issues["row"].isin(candidates)
            & (issues["rule"] == flaw.rule)
            & (issues["column"] == flaw.column)
        ]
        assert len(mine) == 1, (flaw, issues[issues["source_file"] == flaw.file])
        matched.add((flaw.file, int(mine["row"].iloc[0])))
        if flaw.file.endswith("skjema_t0.sav") and mine["severity"].iloc[0] == "error":
            # a duplicate key keeps the first row: only an episode with no kept row is lost
            if flaw.rule != "duplicate_key":
                rejected_episodes.add(flaw.key["forlop_id"])
    for point in ("skjema_t1", "skjema_t2", "skjema_t3"):
        file = f"registry/{point}.sav"
        rows = _raw_text(demo_delivery, file)
        for row in rows.index[rows["forlop_id"].isin(rejected_episodes)]:
            matched.add((file, int(row)))
    found = set(zip(issues["source_file"], issues["row"].astype(int), strict=True))
    assert found == matched
    assert len(issues) == len(found)  # one issue per row


def test_demo_row_accounting_balances(demo_delivery: Path, demo_derived: Path) -> None:
    accounting = pd.read_csv(demo_derived / "row_accounting.csv")
    counts = json.loads((demo_derived / "build.json").read_text(encoding="utf-8"))["tables"]
    for row in accounting.itertuples(index=False):
        assert row.rows_read == row.rows_kept + row.rows_rejected + row.rows_excluded
        assert row.rows_excluded == (
            row.excluded_no_consent
            + row.excluded_consent_withdrawn
            + row.excluded_consent_unknown
            + row.excluded_unlinked
            + row.excluded_no_consenting_episode
        )
        # rows read counted independently of the build: the file itself
        assert row.rows_read == len(_canonical_text(demo_delivery, row.file))
    kept = dict(zip(accounting["file"], accounting["rows_kept"], strict=True))
    assert counts["episodes"] == kept["registry/skjema_t0.sav"]
    assert counts["benefits"] == kept["nav/ytelser.csv"]
    assert counts["persons"] == kept["nav/personer.csv"]
    assert counts["responses"] == sum(kept[f"registry/skjema_t{i}.sav"] for i in range(4))


def test_demo_excluded_episodes_appear_nowhere(demo_delivery: Path, demo_derived: Path) -> None:
    """No row of a non-consenting episode reaches any output table."""
    t0 = _canonical_text(demo_delivery, "registry/skjema_t0.sav")
    excluded = t0[(t0["samtykke"] != "Ja") | (t0["samtykke_trukket_dato"] != "")]
    assert len(excluded) > 0
    excluded_ids = set(excluded["forlop_id"])
    for name in ("episodes", "responses"):
        table = read_parquet(demo_derived / f"{name}.parquet")
        assert not set(table["episode_id"]) & excluded_ids, name
    issues = read_parquet(demo_derived / "issues.parquet")
    assert not set(issues["value"]) & excluded_ids
    for rows in (issues[issues["source_file"] == "registry/skjema_t0.sav"]["row"],):
        assert not set(rows) & set(excluded.index)


def test_tsd_template_is_a_valid_configuration() -> None:
    from arr_stats.config import PROJECT_ROOT, load_config

    config = load_config(PROJECT_ROOT / "analysis" / "tsd-template.toml")
    assert config.outcomes.data_end == dt.date(2026, 6, 30)
    assert config.nav_encoding == "auto"
    assert str(config.registry_dir).endswith("levering-2026/registry")
