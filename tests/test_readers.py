"""Readers: every format and producer gives the same canonical table.

Producers tested: pandas (CSV, Parquet), pyreadstat (SPSS .sav written the way
R's haven writes them: space-padded strings, user-missing ranges, labels with
æøå; Stata .dta), GNU PSPP (.sav from a syntax file, run here), and ReadStat's
command-line tool (the only free SAS7BDAT writer available: .dta → .sas7bdat;
it drops date formats, so dates arrive as SAS day numbers).
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arr_stats.build import run_build
from arr_stats.canonical import to_canonical
from arr_stats.dictionary import load_dictionary
from arr_stats.errors import DeliveryError
from arr_stats.readers import locate_file, read_delivery_file, read_raw
from tools import require_tool

DD = load_dictionary()
DATA_END = dt.date(2025, 12, 31)
FORMS = ("skjema_t0", "skjema_t1", "skjema_t2", "skjema_t3")


def _csv_frame(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _typed_raw(path: Path) -> pd.DataFrame:
    """A registry CSV as a frame of Python values the statistics formats can store."""
    table = DD.table(path.stem)
    text = _csv_frame(path)
    out = {}
    for var in table.variables:
        cells = text[var.raw]
        if var.type == "date":
            out[var.raw] = [dt.date.fromisoformat(c) if c else None for c in cells]
        elif var.type in ("integer", "number", "code"):
            out[var.raw] = [float(c) if c else float("nan") for c in cells]
        else:
            out[var.raw] = [c + "   " for c in cells]  # padded, as SPSS stores A-format strings
    return pd.DataFrame(out)


def write_sav_like_haven(csv_path: Path, out: Path) -> None:
    """An SPSS file as R's haven writes one: labels, user-missing range 97–99, padded strings."""
    table = DD.table(csv_path.stem)
    frame = _typed_raw(csv_path)
    numeric = [v for v in table.variables if v.type in ("integer", "code")]
    pyreadstat.write_sav(
        frame,
        str(out),
        variable_value_labels={
            v.raw: {**{float(c): lab for c, lab in v.codes.items()}, 98.0: "Ikke besvart"}
            for v in table.variables
            if v.codes
        },
        missing_ranges={v.raw: [{"lo": 97.0, "hi": 99.0}] for v in numeric},
    )


def write_pspp_sav(csv_path: Path, out: Path) -> None:
    """Write and run a PSPP syntax file that builds the table and saves it as .sav.

    Dates are read with the input format SDATE10 (yyyy/mm/dd) and shown as
    DATE11, numbers as F8.2, codes carry value labels in Norwegian, and the
    missing codes are declared as discrete user-missing values.
    """
    table = DD.table(csv_path.stem)
    text = _csv_frame(csv_path)
    specs, date_vars = [], []
    for var in table.variables:
        if var.type == "date":
            specs.append(f"{var.raw} (SDATE10)")
            date_vars.append(var.raw)
        elif var.type in ("integer", "number", "code"):
            specs.append(f"{var.raw} (F8.2)")
        else:
            specs.append(f"{var.raw} (A40)")
    lines = [
        "SET LOCALE='UTF-8'.",
        f'DATA LIST LIST (",") /{" ".join(specs)}.',
        "BEGIN DATA",
    ]
    for row in text.itertuples(index=False):
        cells = [
            str(c).replace("-", "/") if name in date_vars else str(c)
            for name, c in zip(text.columns, row, strict=True)
        ]
        lines.append(",".join(cells))
    lines += ["END DATA."]
    if date_vars:
        lines.append(f"FORMATS {' '.join(date_vars)} (DATE11).")
    for var in table.variables:
        if var.codes:
            labels = " ".join(f"{c} '{lab}'" for c, lab in var.codes.items())
            lines.append(f"VALUE LABELS {var.raw} {labels} 99 'Vet ikke'.")
        if var.type in ("integer", "code"):
            lines.append(f"MISSING VALUES {var.raw} (97, 98, 99).")
    lines.append(f"SAVE OUTFILE='{out}'.")
    syntax = out.with_suffix(".sps")
    syntax.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = subprocess.run(
        [require_tool("pspp"), "-O", "format=txt", str(syntax)],
        capture_output=True,
        text=True,
        cwd=out.parent,
        check=False,
    )
    assert done.returncode == 0 and out.exists(), done.stdout + done.stderr


def _convert_forms(delivery: Path, writer, suffix: str) -> None:
    for stem in FORMS:
        csv_path = delivery / "registry" / f"{stem}.csv"
        writer(csv_path, csv_path.with_suffix(suffix))
        csv_path.unlink()


def _build(delivery: Path, derived: Path, config_for) -> Path:
    run_build(config_for(delivery, derived, DATA_END))
    return derived


def _same_outputs(a: Path, b: Path) -> None:
    for name in ("episodes", "responses", "institutions", "benefits", "persons"):
        left, right = (pd.read_parquet(d / f"{name}.parquet") for d in (a, b))
        pd.testing.assert_frame_equal(left, right, check_exact=True)
        assert (a / f"{name}.parquet").read_bytes() == (b / f"{name}.parquet").read_bytes(), name


def test_sav_by_pyreadstat_and_pspp_and_csv_give_identical_tables(
    small_delivery: Path, tmp_path: Path, config_for
) -> None:
    from_csv = _build(small_delivery, tmp_path / "csv", config_for)

    haven_like = tmp_path / "haven"
    shutil.copytree(small_delivery, haven_like)
    _convert_forms(haven_like, write_sav_like_haven, ".sav")
    from_haven = _build(haven_like, tmp_path / "haven_out", config_for)

    pspp = tmp_path / "pspp"
    shutil.copytree(small_delivery, pspp)
    _convert_forms(pspp, write_pspp_sav, ".sav")
    from_pspp = _build(pspp, tmp_path / "pspp_out", config_for)

    _same_outputs(from_csv, from_haven)
    _same_outputs(from_csv, from_pspp)
    # the tables are not trivially empty: E07's 98/99 became missing in all three
    episodes = pd.read_parquet(from_pspp / "episodes.parquet")
    assert len(episodes) == 5 and episodes["work_ability"].isna().sum() == 1
    issues = pd.read_parquet(from_pspp / "issues.parquet")
    assert len(issues) == 0


def test_pspp_user_missing_codes_arrive_as_codes(tmp_path: Path, small_delivery: Path) -> None:
    """Read with user_missing=True, a declared 99 is the number 99, as in CSV."""
    out = tmp_path / "skjema_t1.sav"
    write_pspp_sav(small_delivery / "registry" / "skjema_t1.csv", out)
    raw, _ = read_raw(out)
    assert raw["arbeidsevne"].tolist()[5] == 99.0  # E07, row 6
    canon, problems = to_canonical(
        raw, DD.table("skjema_t1"), DD, label="t1.sav", file_format=".sav"
    )
    assert pd.isna(canon.loc[6, "work_ability"]) and pd.isna(canon.loc[6, "work_percent"])
    assert canon.loc[6, "work_status"] == "Annet"
    assert len(problems) == 0


def test_stata_file_reads_like_csv(small_delivery: Path, tmp_path: Path, config_for) -> None:
    from_csv = _build(small_delivery, tmp_path / "csv", config_for)

    def write_dta(csv_path: Path, out: Path) -> None:
        pyreadstat.write_dta(_typed_raw(csv_path), str(out))

    stata = tmp_path / "stata"
    shutil.copytree(small_delivery, stata)
    _convert_forms(stata, write_dta, ".dta")
    _same_outputs(from_csv, _build(stata, tmp_path / "stata_out", config_for))


def test_sas7bdat_nav_file_reads_like_csv(small_delivery: Path, tmp_path: Path, config_for) -> None:
    """ytelser as .sas7bdat (ReadStat's converter: dates become SAS day numbers)."""
    from_csv = _build(small_delivery, tmp_path / "csv", config_for)
    sas = tmp_path / "sas"
    shutil.copytree(small_delivery, sas)
    source = sas / "nav" / "ytelser.csv"
    text = pd.read_csv(source, sep=";", dtype=str, keep_default_na=False)
    frame = pd.DataFrame(
        {
            "lopenr": text["lopenr"],
            "ytelse": text["ytelse"],
            "fom": [dt.date.fromisoformat(c) for c in text["fom"]],
            "tom": [dt.date.fromisoformat(c) if c else None for c in text["tom"]],
            "grad": [float(c) if c else float("nan") for c in text["grad"]],
        }
    )
    dta = tmp_path / "ytelser.dta"
    pyreadstat.write_dta(frame, str(dta))
    target = sas / "nav" / "ytelser.sas7bdat"
    done = subprocess.run(
        [require_tool("readstat"), str(dta), str(target)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and target.exists(), done.stdout + done.stderr
    source.unlink()
    raw = read_delivery_file(sas / "nav", "ytelser", "nav").data
    assert raw["fom"].iloc[0] == (dt.date(2023, 11, 1) - dt.date(1960, 1, 1)).days  # a plain number
    from_sas = _build(sas, tmp_path / "sas_out", config_for)
    pd.testing.assert_frame_equal(
        pd.read_parquet(from_csv / "benefits.parquet"),
        pd.read_parquet(from_sas / "benefits.parquet"),
    )


@pytest.mark.parametrize(
    ("encoding_written", "bom", "newline", "config_encoding"),
    [
        ("utf-8", True, "\r\n", "auto"),  # Excel on Windows: BOM and CRLF
        ("utf-8", False, "\n", "utf-8"),
        ("latin-1", False, "\r\n", "auto"),  # detected
        ("latin-1", False, "\n", "latin-1"),  # configured
    ],
)
def test_csv_encodings_and_line_endings(
    tmp_path: Path, encoding_written: str, bom: bool, newline: str, config_encoding: str
) -> None:
    text = newline.join(
        ["lopenr;arbgiver;fom;tom;stillingsprosent", "P01;Bjørnæs Åkre AS;2015-01-01;;100", ""]
    )
    path = tmp_path / "arbeidsforhold.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding_written))
    raw = read_delivery_file(tmp_path, "arbeidsforhold", "nav", config_encoding)
    assert raw.encoding == encoding_written
    assert list(raw.data.columns) == ["lopenr", "arbgiver", "fom", "tom", "stillingsprosent"]
    assert raw.data.loc[0, "arbgiver"] == "Bjørnæs Åkre AS"
    assert raw.data.loc[0, "stillingsprosent"] == "100"  # no stray \r


def test_locate_file_errors(tmp_path: Path) -> None:
    (tmp_path / "personer.csv").write_text("lopenr\n", encoding="utf-8")
    (tmp_path / "personer.sas7bdat").write_bytes(b"x")
    with pytest.raises(DeliveryError, match=r"found personer.csv, personer.sas7bdat"):
        locate_file(tmp_path, "personer", (".csv", ".sas7bdat"), "nav")
    with pytest.raises(DeliveryError, match=r"nav/ytelser: file missing"):
        locate_file(tmp_path, "ytelser", (".csv", ".sas7bdat"), "nav")


# -- property: any supported format reads back to the same canonical table ----------

T1 = DD.table("skjema_t1")

answers = st.fixed_dictionaries(
    {
        "forlop_id": st.from_regex(r"[A-Z][0-9]{1,6}", fullmatch=True),
        "svar_dato": st.one_of(st.none(), st.dates(dt.date(1990, 1, 1), dt.date(2030, 12, 31))),
        "arbeidsevne": st.one_of(st.none(), st.integers(0, 10), st.sampled_from([97, 98, 99])),
        "arbeidsstatus": st.one_of(st.none(), st.integers(1, 8), st.sampled_from([98, 99])),
        "stillingsprosent": st.one_of(st.none(), st.integers(0, 100)),
        "helse": st.one_of(st.none(), st.integers(1, 5), st.just(97)),
    }
)


def _write_any(frame: pd.DataFrame, path: Path) -> None:
    numeric = ["arbeidsevne", "arbeidsstatus", "stillingsprosent", "helse"]
    floats = frame.assign(**{c: frame[c].astype("float64") for c in numeric})
    if path.suffix == ".csv":
        text = frame.astype(object).map(lambda v: "" if v is None or pd.isna(v) else str(v))
        text.to_csv(path, index=False)
    elif path.suffix == ".sav":
        pyreadstat.write_sav(
            floats, str(path), missing_ranges={c: [{"lo": 97.0, "hi": 99.0}] for c in numeric}
        )
    elif path.suffix == ".dta":
        pyreadstat.write_dta(floats, str(path))
    else:
        typed = frame.assign(
            svar_dato=pd.to_datetime(frame["svar_dato"]),
            **{c: frame[c].astype("Int64") for c in numeric},
        )
        typed.to_parquet(path)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(answers, min_size=1, max_size=12))
def test_any_format_reads_back_to_the_same_canonical_table(rows, tmp_path_factory) -> None:
    folder = tmp_path_factory.mktemp("formats")
    frame = pd.DataFrame(rows, columns=T1.raw_names)
    results = {}
    for suffix in (".csv", ".sav", ".dta", ".parquet"):
        path = folder / f"skjema_t1{suffix}"
        _write_any(frame, path)
        raw, _ = read_raw(path)
        results[suffix], problems = to_canonical(raw, T1, DD, label=path.name, file_format=suffix)
        assert len(problems) == 0
    for suffix in (".sav", ".dta", ".parquet"):
        pd.testing.assert_frame_equal(results[".csv"], results[suffix], check_exact=True)
    # and the canonical values are the written ones, missing codes → missing
    canon = results[".csv"]
    expected_ability = [
        pd.NA if r["arbeidsevne"] is None or r["arbeidsevne"] >= 97 else r["arbeidsevne"]
        for r in rows
    ]
    assert canon["work_ability"].tolist() == expected_ability
    assert canon["episode_id"].tolist() == [r["forlop_id"] for r in rows]
