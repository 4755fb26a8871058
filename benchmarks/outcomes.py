"""Benchmark :func:`arr_stats.derive.outcomes.derive_outcomes` at national scale.

Generates N persons of synthetic NAV data (one linked episode each, about ten
benefit spells and two employment relationships per person, in the canonical
column names and dtypes of docs/architecture.md), runs ``derive_outcomes``
once and prints, as its last line, one JSON object::

    {"persons": N, "spells": <benefit + employment rows>, "seconds": <derive_outcomes>, "peak_mb": <peak RSS>}

Usage::

    .venv/bin/python benchmarks/outcomes.py --persons 1000000

The data are vectorised NumPy draws with a fixed seed (not the project's demo
generator, which writes files): the point is the size and shape of the
tables, not their realism. ``seconds`` times ``derive_outcomes`` alone;
``peak_mb`` is the peak resident memory of the whole process (generation
included), from ``resource.getrusage``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import sys
import time

import numpy as np
import pandas as pd

from arr_stats.config import OutcomeParams
from arr_stats.derive.outcomes import derive_outcomes
from arr_stats.dictionary import load_dictionary

DATA_END = dt.date(2025, 12, 31)
BENEFITS_PER_PERSON = 10
JOBS_PER_PERSON = 2
#: Relative frequency of each benefit code in the synthetic spells.
CODE_WEIGHTS = {
    "SP": 40,
    "AAP": 25,
    "UFT": 5,
    "RP": 2,
    "ATTF": 1,
    "TU": 1,
    "DP": 14,
    "TP": 8,
    "OVG": 4,
}


def _dates(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype("datetime64[ns]")


def synthetic_nav(n_persons: int, seed: int = 2026) -> dict[str, pd.DataFrame]:
    """Episodes, benefits, employment and persons for ``n_persons`` people."""
    rng = np.random.default_rng(seed)
    data_end = np.datetime64(DATA_END, "D").astype(np.int64)
    person_id = np.array([f"P{i:08d}" for i in range(n_persons)], dtype=object)

    discharge = np.datetime64("2022-01-01", "D").astype(np.int64) + rng.integers(0, 730, n_persons)
    admission = discharge - rng.integers(14, 60, n_persons)
    episodes = pd.DataFrame(
        {
            "episode_id": np.array([f"E{i:08d}" for i in range(n_persons)], dtype=object),
            "person_id": person_id,
            "institution_id": pd.Categorical.from_codes(
                rng.integers(0, 30, n_persons), [f"I{i:02d}" for i in range(30)]
            ).astype(object),
            "admission_date": _dates(admission),
            "discharge_date": _dates(discharge),
            "discharge_year": pd.DatetimeIndex(_dates(discharge)).year.to_numpy(),
            "age_at_admission": pd.array(rng.integers(20, 67, n_persons), dtype="Int64"),
            "linked": np.ones(n_persons, dtype=bool),
        }
    )

    death = np.where(rng.random(n_persons) < 0.01, discharge + rng.integers(1, 700, n_persons), -1)
    emigration = np.where(
        rng.random(n_persons) < 0.005, discharge + rng.integers(1, 700, n_persons), -1
    )
    persons = pd.DataFrame(
        {
            "person_id": person_id,
            "birth_year": pd.array(rng.integers(1955, 2005, n_persons), dtype="Int64"),
            "death_date": np.where(death > 0, _dates(death), np.datetime64("NaT")),
            "emigration_date": np.where(emigration > 0, _dates(emigration), np.datetime64("NaT")),
        }
    ).astype({"death_date": "datetime64[ns]", "emigration_date": "datetime64[ns]"})

    # Benefit spells: per person a sequence from about two years before discharge,
    # random gaps (negative = overlap with the previous spell) and durations.
    n = n_persons * BENEFITS_PER_PERSON
    owner = np.repeat(np.arange(n_persons), BENEFITS_PER_PERSON)
    step = rng.integers(-10, 150, n) + rng.integers(1, 120, n)
    step[::BENEFITS_PER_PERSON] = 0
    first = discharge - rng.integers(500, 900, n_persons)
    start = (
        first[owner]
        + np.cumsum(step)
        - np.repeat(np.cumsum(step)[::BENEFITS_PER_PERSON], BENEFITS_PER_PERSON)
    )
    end = start + rng.integers(0, 200, n)
    codes = list(load_dictionary().benefits)
    weights = np.array([CODE_WEIGHTS.get(c, 1) for c in codes], dtype=float)
    code = rng.choice(len(codes), n, p=weights / weights.sum())
    grade = rng.choice([100.0, 100.0, 100.0, 50.0, 40.0, 0.0, 80.0], n)
    open_end = (np.arange(n) % BENEFITS_PER_PERSON == BENEFITS_PER_PERSON - 1) & (
        rng.random(n) < 0.3
    )
    keep = start <= data_end  # the cleaning step rejects spells starting after data end
    benefits = pd.DataFrame(
        {
            "person_id": person_id[owner[keep]],
            "benefit": pd.Categorical.from_codes(code[keep], codes),
            "start_date": _dates(start[keep]),
            "end_date": np.where(open_end[keep], np.datetime64("NaT"), _dates(end[keep])),
            "grade": grade[keep],
        }
    ).astype({"end_date": "datetime64[ns]"})

    m = n_persons * JOBS_PER_PERSON
    job_owner = np.repeat(np.arange(n_persons), JOBS_PER_PERSON)
    job_start = discharge[job_owner] - rng.integers(-300, 2000, m)
    job_end = job_start + rng.integers(30, 3000, m)
    keep = job_start <= data_end
    employment = pd.DataFrame(
        {
            "person_id": person_id[job_owner[keep]],
            "employer_id": np.array([f"A{i}" for i in range(1000)], dtype=object)[
                rng.integers(0, 1000, m)[keep]
            ],
            "start_date": _dates(job_start[keep]),
            "end_date": np.where(
                rng.random(m)[keep] < 0.4, np.datetime64("NaT"), _dates(job_end[keep])
            ),
            "position_percent": rng.choice([20.0, 50.0, 80.0, 100.0], m)[keep],
        }
    ).astype({"end_date": "datetime64[ns]"})
    return {
        "episodes": episodes,
        "benefits": benefits,
        "employment": employment,
        "persons": persons,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)

    tables = synthetic_nav(args.persons, args.seed)
    params = OutcomeParams(data_end=DATA_END)
    began = time.perf_counter()
    outcomes = derive_outcomes(
        tables["episodes"], tables["benefits"], tables["employment"], tables["persons"], params
    )
    seconds = time.perf_counter() - began
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    events = outcomes["rtw_event"].value_counts().sort_index().to_dict()
    print(f"rtw_event counts: {events}", file=sys.stderr)
    print(
        json.dumps(
            {
                "persons": args.persons,
                "spells": len(tables["benefits"]) + len(tables["employment"]),
                "seconds": round(seconds, 2),
                "peak_mb": round(peak_mb),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
