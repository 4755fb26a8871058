"""Benchmark :func:`arr_stats.synth.write_delivery`, the demo's synthetic delivery.

Writes the delivery ``--repeat`` times into a temporary folder (generation
and the .sav/.csv writers together, as ``arr-stats synth`` does) and prints, as
its last line, one JSON object::

    {"persons": N, "rows": <data rows written>, "seconds": [<each run>], "best": <fastest>, "peak_mb": <peak RSS>}

Usage::

    .venv/bin/python benchmarks/synth.py                 # the demo's size (about 3,500 persons)
    .venv/bin/python benchmarks/synth.py --persons 20000 --repeat 3

The test suite checks what the generator writes, not how fast: a wall-clock
limit in a test fails on a busy machine without any change to the code. Run
this before and after a change to the generator to compare; take the best of
several runs (``best``), which the machine's other work disturbs least.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

from arr_stats.synth import SynthParams, write_delivery


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=None, help="default: the demo's size")
    parser.add_argument("--seed", type=int, default=SynthParams.seed)
    parser.add_argument("--repeat", type=int, default=3, help="runs; the best is reported")
    args = parser.parse_args(argv)

    params = SynthParams(seed=args.seed, persons=args.persons)
    seconds = []
    with tempfile.TemporaryDirectory(prefix="arr-synth-bench-") as tmp:
        for run in range(args.repeat):
            began = time.perf_counter()
            counts = write_delivery(Path(tmp) / str(run), params)
            seconds.append(round(time.perf_counter() - began, 2))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(
        json.dumps(
            {
                "persons": params.n_persons,
                "rows": sum(counts.values()),
                "seconds": seconds,
                "best": min(seconds),
                "peak_mb": round(peak_mb),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
