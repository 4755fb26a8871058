"""The ``arr-stats`` command: dictionary, synth, build, report.

Each subcommand is a thin shell over one stage module; all logic lives there.
It answers like a tool: a bad argument or an expected error
(:class:`arr_stats.errors.ArrStatsError`) prints one line on standard error
and exits with status 2, without a traceback; ``--version``; ``--quiet``
(errors only) and ``--verbose`` (every file, and the traceback of an error);
a progress display on long steps when standard error is a terminal.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from arr_stats import __version__
from arr_stats.config import ConfigError, config_for_delivery, load_config, parse_date
from arr_stats.errors import ArrStatsError
from arr_stats.labels import DEFAULT_LANGUAGE, LANGUAGES


class ToolParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line: no usage block above them."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _count(least: int, what: str):
    """An argparse type: a whole number of at least ``least``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < least:
            raise argparse.ArgumentTypeError(f"{value}: {what} must be at least {least}")
        return value

    return parse


def _persons(text: str) -> int:
    from arr_stats.synth.params import MIN_PERSONS

    return _count(MIN_PERSONS, "the number of persons")(text)


def _years(text: str) -> tuple[int, int]:
    try:
        first, _, last = text.partition("-")
        years = (int(first), int(last or first))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a year range like 2021-2025") from None
    if years[0] > years[1]:
        raise argparse.ArgumentTypeError(f"{text!r}: the first year is after the last")
    return years


def cmd_dictionary(args: argparse.Namespace) -> int:
    from arr_stats.dictionary import codebook_markdown

    text = codebook_markdown()
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"codebook written to {args.out}")
    else:
        sys.stdout.write(text)
    return 0


def cmd_synth(args: argparse.Namespace) -> int:
    from arr_stats.synth.params import SynthParams
    from arr_stats.synth.write import write_delivery

    try:
        params = SynthParams(
            seed=args.seed,
            institutions=args.institutions,
            years=args.years,
            persons=args.persons,
        )
    except ValueError as exc:  # a combination of arguments the generator cannot make
        raise ArrStatsError(f"synth: {exc}") from None
    with _working(f"generating {params.n_persons} persons", args.verbosity):
        counts = write_delivery(Path(args.out), params)
    if args.verbosity > 1:
        for name, n in counts.items():
            print(f"  {name}: {n} rows")
    if args.verbosity > 0:
        print(
            f"synthetic delivery written to {args.out}: {len(counts)} files, "
            f"{sum(counts.values())} rows, {params.n_persons} persons (seed {args.seed})"
        )
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    from arr_stats.derive.build import build_summary, run_build

    data_end = parse_date(args.data_end, "--data-end") if args.data_end else None
    if args.config:
        config = load_config(args.config).with_overrides(
            registry_dir=Path(args.registry).resolve() if args.registry else None,
            nav_dir=Path(args.nav).resolve() if args.nav else None,
            derived_dir=Path(args.out).resolve() if args.out else None,
            data_end=data_end,
        )
    else:
        missing = [f for f, v in (("--registry", args.registry), ("--nav", args.nav)) if not v]
        missing += ["--out"] if not args.out else []
        if missing:
            raise ConfigError(
                f"without --config, {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} "
                "required (or name a run configuration with --config FILE)"
            )
        config = config_for_delivery(Path(args.registry), Path(args.nav), Path(args.out), data_end)
    # progress lines on a terminal, or anywhere with --verbose; never with --quiet
    progress = args.verbosity > 1 or (args.verbosity > 0 and sys.stderr.isatty())
    result = run_build(config, progress=progress)
    # always, also when standard output is not a terminal: what came of every row
    print(build_summary(result), flush=True)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from arr_stats.derive.load import recorded_config
    from arr_stats.report.render import render_reports

    if args.config is None and args.derived is None:
        raise ConfigError("name the build to report on: --derived DIR or --config FILE")
    derived = Path(args.derived).resolve() if args.derived else None
    # A build folder is read with the configuration recorded in its build.json;
    # a configuration file may add its disclosure, target and report settings.
    config = load_config(args.config) if args.config else recorded_config(derived)
    derived = derived or config.derived_dir
    _check_year_has_data(Path(derived), args.year)
    out = Path(args.out).resolve() if args.out else config.report_dir
    # render_reports says on standard output what it renders; --quiet keeps that back
    quiet = (
        contextlib.redirect_stdout(io.StringIO())
        if args.verbosity == 0
        else contextlib.nullcontext()
    )
    with quiet, _working(f"rendering the report of {args.year}", args.verbosity):
        written = render_reports(
            config=config,
            derived_dir=derived,
            year=args.year,
            institution=args.institution,
            all_institutions=args.all_institutions,
            national=not args.no_national,
            out_dir=out,
            pdf=args.pdf,
            engine=args.engine,
            lang=args.lang,
        )
    if args.verbosity > 0:
        print(report_summary(written, args.year, verbose=args.verbosity > 1))
    return 0


def _years_with_data(derived: Path) -> set[int] | None:
    """Report years the derived tables can fill, or ``None`` if they are not there.

    A year has data when an episode was discharged in it or the year before
    (the 12-month follow-up of last year's cohort), or an institution filled
    in its background form for it: the years :func:`plan_editions` finds
    editions for.
    """
    import pyarrow.parquet as pq

    episodes, forms = derived / "episodes.parquet", derived / "institutions.parquet"
    if not (episodes.is_file() and forms.is_file()):
        return None  # render_reports names the missing tables
    discharged = {
        int(y) for y in pq.read_table(episodes, columns=["discharge_year"]).column(0).to_pylist()
    }
    form_years = {int(y) for y in pq.read_table(forms, columns=["year"]).column(0).to_pylist()}
    return discharged | {y + 1 for y in discharged} | form_years


def _check_year_has_data(derived: Path, year: int) -> None:
    years = _years_with_data(derived)
    if years is not None and year not in years:
        span = f"{min(years)}–{max(years)}" if years else "none"
        raise ArrStatsError(
            f"report --year {year}: the derived tables in {derived} hold no data for {year} "
            f"(years with data: {span})"
        )


def report_summary(written: list[Path], year: int, verbose: bool = False) -> str:
    """What ``arr-stats report`` wrote where, in one line (a line per file if ``verbose``).

    >>> report_summary([Path("out/2025/national.html"), Path("out/2025/indicators.csv"),
    ...                 Path("derived/indicator_upload_2025_fractions.csv")], 2025)
    'report 2025: 1 edition (HTML) and indicators.csv in out/2025; indicator_upload_2025_fractions.csv in derived'
    >>> report_summary([Path("out/2025/national.html"), Path("out/2025/output-check.html"),
    ...                 Path("out/2025/output-check.csv")], 2025)
    'report 2025: 1 edition (HTML) and output-check.html in out/2025'
    """
    from arr_stats.publication.output_check import HTML_FILE, SUMMARY_FILES

    by_folder: dict[Path, list[Path]] = {}
    for path in written:
        by_folder.setdefault(path.parent, []).append(path)
    parts = []
    for folder, paths in by_folder.items():
        editions = [p for p in paths if p.suffix in (".html", ".pdf") and p.name != HTML_FILE]
        # the output check is named by its page; its CSV files lie beside it
        others = [
            p.name
            for p in paths
            if p not in editions and (p.name == HTML_FILE or p.name not in SUMMARY_FILES)
        ]
        what = []
        if editions:
            n = len({p.stem for p in editions})
            kinds = "/".join(sorted({p.suffix[1:].upper() for p in editions}))
            what.append(f"{n} edition{'s' if n != 1 else ''} ({kinds})")
        what += others
        parts.append(f"{' and '.join(what)} in {folder}")
    line = f"report {year}: " + "; ".join(parts)
    if verbose:
        line += "".join(f"\n  {p}" for p in written)
    return line


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``arr-stats``."""
    parser = ToolParser(
        prog="arr-stats",
        description="ARR registry: synthetic deliveries, build, and the annual report.",
    )
    parser.add_argument("--version", action="version", version=f"arr-stats {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    # -q/-v on every subcommand: `arr-stats build --quiet`
    common = argparse.ArgumentParser(add_help=False)
    loudness = common.add_mutually_exclusive_group()
    loudness.add_argument(
        "-q", "--quiet", action="store_const", dest="verbosity", const=0, help="errors only"
    )
    loudness.add_argument(
        "-v",
        "--verbose",
        action="store_const",
        dest="verbosity",
        const=2,
        help="more detail, and the traceback of an error",
    )
    common.set_defaults(verbosity=1)

    def add(name: str, help: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help, description=help, parents=[common])

    p = add("dictionary", "write the human-readable codebook")
    p.add_argument("--out", help="Markdown file to write (default: standard output)")
    p.set_defaults(func=cmd_dictionary)

    p = add("synth", "write a synthetic raw delivery")
    p.add_argument("--out", required=True, help="folder to write registry/ and nav/ into")
    p.add_argument("--seed", type=_count(0, "the seed"), default=20261123)
    p.add_argument("--institutions", type=_count(1, "the number of institutions"), default=8)
    p.add_argument("--years", type=_years, default=(2021, 2025), help="e.g. 2021-2025")
    p.add_argument(
        "--persons", type=_persons, default=None, help="number of persons (default: 3,500)"
    )
    p.set_defaults(func=cmd_synth)

    p = add("build", "raw delivery → derived tables")
    p.add_argument("--config", help="run configuration (TOML); analysis/demo.toml for the demo")
    p.add_argument("--registry", help="registry folder (overrides the configuration)")
    p.add_argument("--nav", help="NAV folder (overrides the configuration)")
    p.add_argument(
        "--data-end",
        help="NAV extraction date YYYY-MM-DD (overrides; required without --config)",
    )
    p.add_argument("--out", help="folder for the derived tables (overrides)")
    p.set_defaults(func=cmd_build)

    p = add("report", "render the annual report")
    p.add_argument(
        "--config",
        default=None,
        help="run configuration (TOML) whose disclosure, target and report settings apply; "
        "default: the one recorded in --derived/build.json",
    )
    p.add_argument("--derived", help="folder of derived tables (default: from the configuration)")
    p.add_argument("--year", type=_count(1, "the year"), required=True, help="report year")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--institution", help="render this institution's edition")
    group.add_argument("--all-institutions", action="store_true", help="every institution")
    p.add_argument("--no-national", action="store_true", help="skip the national edition")
    p.add_argument("--out", help="output folder (default: reports/_output)")
    p.add_argument("--pdf", action="store_true", help="also PDF (Typst, either engine)")
    p.add_argument(
        "--engine",
        choices=("auto", "quarto", "fallback"),
        default="auto",
        help="auto: Quarto when on the PATH, else the Jupyter fallback",
    )
    p.add_argument(
        "--lang",
        choices=LANGUAGES,
        default=DEFAULT_LANGUAGE,
        help="language of the editions (default nb: bokmål); other languages are written "
        "beside the bokmål ones as national.<lang>.html",
    )
    p.set_defaults(func=cmd_report)
    return parser


class _LinesAboveTheBar(io.TextIOBase):
    """Standard output during a progress display: whole lines, printed above the bar."""

    def __init__(self, write_line) -> None:
        self._write_line = write_line
        self._pending = ""

    def write(self, text: str) -> int:
        *lines, self._pending = (self._pending + text).split("\n")
        for line in lines:
            self._write_line(line)
        return len(text)


@contextlib.contextmanager
def _working(what: str, verbosity: int) -> Iterator[None]:
    """A progress display (tqdm) for a long step, on a terminal unless ``--quiet``.

    The stages work in one go, so the display shows what is being done and the
    seconds it has taken so far, refreshed twice a second; lines the step
    prints meanwhile appear above it.
    """
    if verbosity == 0 or not sys.stderr.isatty():
        yield
        return
    from tqdm import tqdm

    stop = threading.Event()
    stdout = sys.stdout
    with tqdm(desc=what, bar_format="{desc}: {elapsed}", file=sys.stderr, leave=False) as bar:

        def tick() -> None:
            while not stop.wait(0.5):
                bar.refresh()

        ticker = threading.Thread(target=tick, daemon=True)
        ticker.start()
        try:
            with contextlib.redirect_stdout(
                _LinesAboveTheBar(lambda line: tqdm.write(line, file=stdout))
            ):
                yield
        finally:
            stop.set()
            ticker.join()


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``arr-stats`` command."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ArrStatsError, ConfigError) as exc:
        if args.verbosity > 1:
            import traceback

            traceback.print_exc()
        print(f"arr-stats: error: {exc}", file=sys.stderr)
        return getattr(exc, "exit_code", 2)
    except KeyboardInterrupt:
        print("arr-stats: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
