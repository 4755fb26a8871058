"""The ``arr-stats`` command answers like a tool (issue 14, item 4).

Every bad argument: one line on standard error naming the problem, exit
status 2, no traceback and no usage block. ``--version``; ``--quiet`` and
``--verbose``; ``report`` refuses a year without data and ends with a summary
of what it wrote where; a progress display on a terminal.
"""

from __future__ import annotations

import io
import subprocess
import sys
import time
from pathlib import Path

import pytest

from arr_stats import __version__, cli


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """``arr-stats ARGV`` in this process: exit status, standard output, standard error."""
    try:
        code = cli.main(argv)
    except SystemExit as exc:  # argparse's way out
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, err: str, *phrases: str) -> None:
    assert code == 2
    assert err.startswith("arr-stats") and err.endswith("\n"), err
    assert err.count("\n") == 1, f"more than one line:\n{err}"
    assert "Traceback" not in err and "usage:" not in err
    for phrase in phrases:
        assert phrase in err


def test_version(capsys):
    code, out, _ = run(["--version"], capsys)
    assert (code, out) == (0, f"arr-stats {__version__}\n")


@pytest.mark.parametrize(
    ("argv", "phrases"),
    [
        ([], ["required: COMMAND"]),
        (["bogus"], ["invalid choice: 'bogus'"]),
        (["synth"], ["required: --out"]),
        (["synth", "--out", "X", "--institutions", "0"], ["--institutions: 0", "at least 1"]),
        (["synth", "--out", "X", "--institutions", "-3"], ["--institutions: -3"]),
        (["synth", "--out", "X", "--persons", "-5"], ["--persons: -5", "at least 20"]),
        (["synth", "--out", "X", "--persons", "0"], ["--persons: 0"]),
        (["synth", "--out", "X", "--persons", "many"], ["'many' is not a whole number"]),
        (["synth", "--out", "X", "--seed", "-1"], ["--seed: -1"]),
        (["synth", "--out", "X", "--years", "2025-2021"], ["first year is after the last"]),
        (["synth", "--out", "X", "--years", "20x1"], ["not a year range"]),
        (["synth", "--out", "X", "--quiet", "--verbose"], ["not allowed with"]),
        (["synth", "--out", "X", "--colour"], ["unrecognized arguments: --colour"]),
        (["report"], ["required: --year"]),
        (["report", "--year", "last"], ["--year: 'last' is not a whole number"]),
        (["report", "--year", "0"], ["--year: 0"]),
        (["report", "--year", "2025", "--engine", "word"], ["invalid choice: 'word'"]),
        (
            ["report", "--year", "2025", "--institution", "1", "--all-institutions"],
            ["not allowed with"],
        ),
        (["build", "--data-end", "2025-13-01"], ["--data-end: '2025-13-01' is not a date"]),
    ],
)
def test_bad_argument_is_one_line_and_exit_2(argv, phrases, capsys, tmp_path):
    argv = [str(tmp_path / "out") if a == "X" else a for a in argv]
    code, out, err = run(argv, capsys)
    assert_one_line_error(code, err, *phrases)
    assert out == ""
    assert not (tmp_path / "out").exists()  # stopped before doing anything


def test_synth_years_past_the_data_end_is_one_line(capsys, tmp_path):
    # Arguments each fine alone, impossible together: SynthParams says why.
    code, _, err = run(["synth", "--out", str(tmp_path), "--years", "2021-2031"], capsys)
    assert_one_line_error(code, err, "before the end of the last year 2031")


def test_bad_arguments_as_a_real_process():
    # The installed entry point, not main(): what a user sees in a shell.
    done = subprocess.run(
        [sys.executable, "-m", "arr_stats.cli", "synth", "--out", "x", "--institutions", "0"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert_one_line_error(done.returncode, done.stderr, "--institutions: 0")


def test_report_for_a_year_without_data_says_so_and_exits_2(demo_derived, capsys, tmp_path):
    out = tmp_path / "reports"
    argv = ["report", "--derived", str(demo_derived), "--out", str(out), "--year", "2031"]
    code, stdout, err = run(argv, capsys)
    assert_one_line_error(code, err, "no data for 2031", "years with data: 2021–2026")
    assert stdout == "" and not out.exists()


def test_years_with_data_are_the_years_with_editions(demo_derived):
    from arr_stats.report.editions import plan_editions

    years = cli._years_with_data(demo_derived)
    assert years == set(range(2021, 2027))
    # each has an institution edition; the years either side have none
    for year in (min(years), max(years)):
        assert len(plan_editions(demo_derived, year, all_institutions=True)) > 1
    for year in (min(years) - 1, max(years) + 1):
        assert len(plan_editions(demo_derived, year, all_institutions=True)) == 1  # national


def test_report_summary_names_what_was_written_where():
    written = [
        Path("out/2025/national.html"),
        Path("out/2025/123.html"),
        Path("out/2025/123.pdf"),
        Path("out/2025/indicators.csv"),
        Path("derived/indicator_upload_2025_fractions.csv"),
        Path("derived/indicator_upload_2025_values.csv"),
    ]
    assert cli.report_summary(written, 2025) == (
        "report 2025: 2 editions (HTML/PDF) and indicators.csv in out/2025; "
        "indicator_upload_2025_fractions.csv and indicator_upload_2025_values.csv in derived"
    )
    verbose = cli.report_summary(written, 2025, verbose=True).splitlines()
    assert verbose[1:] == [f"  {p}" for p in written]


@pytest.mark.parametrize(("flag", "lines"), [("--quiet", 0), (None, 1), ("--verbose", 9)])
def test_synth_quiet_default_verbose(flag, lines, capsys, tmp_path):
    argv = ["synth", "--out", str(tmp_path), "--persons", "40", *([flag] if flag else [])]
    code, out, err = run(argv, capsys)
    assert (code, err) == (0, "")
    assert len(out.splitlines()) == lines
    if lines:
        assert out.splitlines()[-1].startswith(f"synthetic delivery written to {tmp_path}")
    assert (tmp_path / "registry" / "skjema_t0.sav").is_file()


def test_report_quiet_prints_nothing_and_default_prints_the_summary(
    demo_derived, capsys, monkeypatch, tmp_path
):
    from arr_stats.report import render

    def fake_render(**kw):
        print("rendering 1 edition(s) ...")  # what render_reports says as it works
        path = kw["out_dir"] / str(kw["year"]) / "national.html"
        return [path, path.with_name("indicators.csv")]

    monkeypatch.setattr(render, "render_reports", fake_render)
    base = ["report", "--derived", str(demo_derived), "--year", "2025", "--out", str(tmp_path)]
    assert run([*base, "--quiet"], capsys) == (0, "", "")
    code, out, err = run(base, capsys)
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "rendering 1 edition(s) ...",
        f"report 2025: 1 edition (HTML) and indicators.csv in {tmp_path / '2025'}",
    ]


@pytest.mark.slow
def test_report_ends_with_its_summary_when_not_on_a_terminal(demo_derived, tmp_path):
    import pandas as pd

    inst = str(pd.read_parquet(demo_derived / "episodes.parquet")["institution_id"].iloc[0])
    done = subprocess.run(
        [
            *(sys.executable, "-m", "arr_stats.cli", "report", "--engine", "fallback"),
            *("--derived", str(demo_derived), "--year", "2025", "--out", str(tmp_path)),
            *("--institution", inst, "--no-national"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    last = done.stdout.splitlines()[-1]
    assert last.startswith(f"report 2025: 1 edition (HTML) and indicators.csv in {tmp_path}")
    assert f"output-check.html in {demo_derived / 'publication' / '2025'}" in last
    uploads = "indicator_upload_2025_fractions.csv and indicator_upload_2025_values.csv"
    assert f"{uploads} in {demo_derived}" in last
    assert (tmp_path / "2025" / f"{inst}.html").is_file()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_display_on_a_terminal(monkeypatch, capsys):
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    ticked = "generating 40 persons: 00:01"
    with cli._working("generating 40 persons", verbosity=1):
        # Wait for the display to tick past one second while the step still
        # works; a busy machine may take longer than a second to get there.
        deadline = time.monotonic() + 30
        while ticked not in terminal.getvalue() and time.monotonic() < deadline:
            time.sleep(0.05)
        during_the_step = terminal.getvalue()
        print("a line the step prints")
    shown = terminal.getvalue()
    assert "generating 40 persons: 00:00" in shown
    assert ticked in during_the_step  # it ticks while the step works
    assert capsys.readouterr().out == "a line the step prints\n"


@pytest.mark.parametrize(("stderr", "verbosity"), [(io.StringIO(), 1), (_Terminal(), 0)])
def test_no_progress_display_off_a_terminal_or_when_quiet(monkeypatch, stderr, verbosity):
    monkeypatch.setattr(sys, "stderr", stderr)
    with cli._working("generating", verbosity=verbosity):
        time.sleep(0.6)
    assert stderr.getvalue() == ""
