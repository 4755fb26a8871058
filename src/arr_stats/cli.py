"""The ``arr-stats`` command: dictionary, synth, build, report.

Each subcommand is a thin shell over one stage module; all logic lives there.
Expected errors (:class:`arr_stats.errors.ArrStatsError`) print one clear
message and exit with status 2, without a traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from arr_stats.config import ConfigError, config_for_delivery, load_config, parse_date
from arr_stats.errors import ArrStatsError


def _years(text: str) -> tuple[int, int]:
    try:
        first, _, last = text.partition("-")
        years = (int(first), int(last or first))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a year range like 2021-2025") from exc
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

    params = SynthParams(
        seed=args.seed,
        institutions=args.institutions,
        years=args.years,
        persons=args.persons,
    )
    counts = write_delivery(Path(args.out), params)
    for name, n in counts.items():
        print(f"{name}: {n} rows")
    print(f"synthetic delivery written to {args.out} (seed {args.seed})")
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
    progress = sys.stderr.isatty() and not args.quiet
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
    out = Path(args.out).resolve() if args.out else config.report_dir
    render_reports(
        config=config,
        derived_dir=derived,
        year=args.year,
        institution=args.institution,
        all_institutions=args.all_institutions,
        national=not args.no_national,
        out_dir=out,
        pdf=args.pdf,
        engine=args.engine,
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``arr-stats``."""
    parser = argparse.ArgumentParser(
        prog="arr-stats",
        description="ARR registry: synthetic deliveries, build, and the annual report.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("dictionary", help="write the human-readable codebook")
    p.add_argument("--out", help="Markdown file to write (default: standard output)")
    p.set_defaults(func=cmd_dictionary)

    p = sub.add_parser("synth", help="write a synthetic raw delivery")
    p.add_argument("--out", required=True, help="folder to write registry/ and nav/ into")
    p.add_argument("--seed", type=int, default=20261123)
    p.add_argument("--institutions", type=int, default=8)
    p.add_argument("--years", type=_years, default=(2021, 2025), help="e.g. 2021-2025")
    p.add_argument(
        "--persons", type=int, default=None, help="number of persons (default: about 3,500)"
    )
    p.set_defaults(func=cmd_synth)

    p = sub.add_parser("build", help="raw delivery → derived tables")
    p.add_argument("--config", help="run configuration (TOML); analysis/demo.toml for the demo")
    p.add_argument("--registry", help="registry folder (overrides the configuration)")
    p.add_argument("--nav", help="NAV folder (overrides the configuration)")
    p.add_argument(
        "--data-end",
        help="NAV extraction date YYYY-MM-DD (overrides; required without --config)",
    )
    p.add_argument("--out", help="folder for the derived tables (overrides)")
    p.add_argument("--quiet", action="store_true", help="no progress display")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("report", help="render the annual report")
    p.add_argument(
        "--config",
        default=None,
        help="run configuration (TOML) whose disclosure, target and report settings apply; "
        "default: the one recorded in --derived/build.json",
    )
    p.add_argument("--derived", help="folder of derived tables (default: from the configuration)")
    p.add_argument("--year", type=int, required=True, help="report year")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--institution", help="render this institution's edition")
    group.add_argument("--all-institutions", action="store_true", help="every institution")
    p.add_argument("--no-national", action="store_true", help="skip the national edition")
    p.add_argument("--out", help="output folder (default: reports/_output)")
    p.add_argument("--pdf", action="store_true", help="also PDF through Typst (Quarto only)")
    p.add_argument(
        "--engine",
        choices=("auto", "quarto", "fallback"),
        default="auto",
        help="auto: Quarto when on the PATH, else the Jupyter fallback",
    )
    p.set_defaults(func=cmd_report)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``arr-stats`` command."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ArrStatsError, ConfigError) as exc:
        print(f"arr-stats: error: {exc}", file=sys.stderr)
        return getattr(exc, "exit_code", 2)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
