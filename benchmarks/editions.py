"""Benchmark rendering every edition of a report year (``arr-stats report --all-institutions``).

Makes a synthetic delivery in a temporary folder, builds it, and renders the
national and every institution edition of its last year with the Jupyter
fallback, as ``arr-stats synth``, ``arr-stats build`` and ``arr-stats report
--all-institutions --engine fallback`` do. Prints the seconds of each stage
and, as its last line, one JSON object::

    {"case": ..., "persons": N, "institutions": N, "years": "2016-2025", "editions": N,
     "seconds": {"synth": s, "build": s, "publication": s, "indicator_files": s,
                 "editions": s, "report": s},
     "report_cpu": s}

``report`` is the whole report step (what the targets of issue 10 are about);
``publication`` (the protected linked tables and their exact audit) and
``indicator_files`` are parts of it, ``editions`` the rest. While the
publication is computed, the kernels start and import the package and the
first computes the results every edition shares
(:mod:`arr_stats.report.year_results`) on the other core. ``report_cpu`` is the
CPU time of the report step in this process and its kernels: compare it
between runs on a machine that others use too.

Usage::

    .venv/bin/python benchmarks/editions.py            # 50,000 persons, 25 institutions, 2016-2025
    .venv/bin/python benchmarks/editions.py --demo     # the demo (make demo): 3,500 persons, 8 institutions
    .venv/bin/python benchmarks/editions.py --persons 20000 --institutions 12 --years 2021-2025

Measured on the 2-core machine of the project (2026-12-02; seconds of the
report step; "clean": the machine did no other work during the run):

==============================  =====================  ===============================
case                            before (main 4945f7c)  after (computed once a year)
==============================  =====================  ===============================
demo, 9 editions                118-125 (CPU 191)      55-64 clean (CPU 95-108)
50,000 persons, 26 editions     1,062 (others' tests   327 (others' work ~300 CPU-s;
                                on one core)           CPU 399; publication 116)
==============================  =====================  ===============================

The floor on two cores is the publication (protection and its audits,
computed once, one core) plus the figures of every edition (about 6 CPU
seconds an edition: each figure drawn as the page's PNG, a 300-dpi PNG and an
SVG); see docs/rendering.md, "Timing".
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from arr_stats.config import DEMO_CONFIG, load_config
from arr_stats.synth.params import SynthParams

#: The large case of issue 10: a registry of 25 institutions over 10 years.
LARGE = {"persons": 50_000, "institutions": 25, "years": "2016-2025"}


def _years(text: str) -> tuple[int, int]:
    first, _, last = text.partition("-")
    return int(first), int(last or first)


def _cpu_seconds() -> float:
    """CPU time of this process and of its children that have ended (the kernels)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _timed(module: Any, name: str, seconds: dict[str, float], stage: str) -> None:
    """Replace ``module.name`` by a wrapper adding its run time to ``seconds[stage]``."""
    function: Callable[..., Any] = getattr(module, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            seconds[stage] = seconds.get(stage, 0.0) + time.perf_counter() - began

    setattr(module, name, wrapper)


def run(params: SynthParams, folder: Path, case: str) -> dict[str, Any]:
    """Synthesise, build and render all editions of the last year in ``folder``; the timings."""
    from arr_stats.derive.build import run_build
    from arr_stats.report import render, tables
    from arr_stats.report.editions import plan_editions
    from arr_stats.synth.write import write_delivery

    seconds: dict[str, float] = {}
    began = time.perf_counter()
    write_delivery(folder / "raw", params)
    seconds["synth"] = time.perf_counter() - began

    config = load_config(DEMO_CONFIG).with_overrides(
        registry_dir=folder / "raw" / "registry",
        nav_dir=folder / "raw" / "nav",
        derived_dir=folder / "derived",
    )
    began = time.perf_counter()
    run_build(config)
    seconds["build"] = time.perf_counter() - began

    year = params.years[1]
    _timed(tables, "write_year_publication", seconds, "publication")
    _timed(render, "write_indicator_files", seconds, "indicator_files")
    cpu = _cpu_seconds()
    began = time.perf_counter()
    render.render_reports(
        config,
        folder / "derived",
        year,
        all_institutions=True,
        out_dir=folder / "reports",
        engine="fallback",
    )
    seconds["report"] = time.perf_counter() - began
    report_cpu = _cpu_seconds() - cpu
    parts = ("publication", "indicator_files")
    seconds["editions"] = seconds["report"] - sum(seconds.get(p, 0.0) for p in parts)
    editions = len(plan_editions(folder / "derived", year, all_institutions=True))
    return {
        "case": case,
        "persons": params.n_persons,
        "institutions": params.institutions,
        "years": f"{params.years[0]}-{params.years[1]}",
        "editions": editions,
        "seconds": {k: round(v, 1) for k, v in seconds.items()},
        "report_cpu": round(report_cpu, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", action="store_true", help="the demo's delivery (make demo)")
    parser.add_argument("--persons", type=int, default=None)
    parser.add_argument("--institutions", type=int, default=None)
    parser.add_argument("--years", default=None, help="e.g. 2016-2025")
    parser.add_argument("--seed", type=int, default=SynthParams.seed)
    parser.add_argument("--keep", type=Path, default=None, help="work in this folder, kept")
    args = parser.parse_args(argv)

    if args.demo:
        defaults = SynthParams()
        size = {"persons": None, "institutions": defaults.institutions, "years": defaults.years}
    else:
        size = {**LARGE, "years": _years(LARGE["years"])}
    for key in ("persons", "institutions"):
        if getattr(args, key) is not None:
            size[key] = getattr(args, key)
    if args.years:
        size["years"] = _years(args.years)
    params = SynthParams(seed=args.seed, **size)
    case = "demo" if args.demo else "registry"

    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        result = run(params, args.keep, case)
    else:
        with tempfile.TemporaryDirectory(prefix="arr-editions-bench-") as tmp:
            result = run(params, Path(tmp), case)
    for stage, value in result["seconds"].items():
        print(f"{stage:>16} {value:8.1f} s")
    print(f"{'report CPU':>16} {result['report_cpu']:8.1f} s")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
