"""Parameters of a synthetic delivery and the constants of the generator's model."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from arr_stats.config import DEMO_CONFIG, load_config

# The benefit codes the trajectory model moves between (checked against the
# benefits codelist when a delivery is generated).
SP, AAP, UFT, DP, TP, OVG = "SP", "AAP", "UFT", "DP", "TP", "OVG"

DEFAULT_SEED = 20261123

DEFAULT_PERSONS = 3500

#: Fewer registry persons than this cannot hold the flawed rows and the groups.
MIN_PERSONS = 20

WORK = None  # no benefit: the register proxy for working

MODEL_BENEFITS = (SP, AAP, UFT, DP, TP, OVG)

SP_MAX_DAYS = 364  # sickness benefit is paid for at most 52 weeks

SP_GRADES = (20, 40, 50, 60, 80)

UFT_PARTIAL_GRADES = (40, 50, 60, 70)

POSITION_PERCENTS = (100, 100, 100, 100, 80, 80, 60, 50, 40, 20)

INSTITUTION_NAMES = (
    "Fjellro rehabiliteringssenter",
    "Kysthagen helse",
    "Nordlys arbeidsrehabilitering",
    "Solbakken rehabilitering",
    "Viddeheim helsesenter",
    "Fjordglimt rehabilitering",
    "Lindeheim attføringssenter",
    "Skogly rehabilitering",
)

# Diagnosis codes by group and system (ICD-10 with subcode, ICPC-2 letter + 2 digits).
DIAGNOSES = {
    "musculoskeletal": {
        "ICD-10": ("M54.5", "M54.4", "M54.2", "M79.7", "M51.1", "M75.1", "M53.1", "M79.1"),
        "ICPC-2": ("L03", "L02", "L84", "L86", "L18", "L92"),
    },
    "mental": {
        "ICD-10": ("F32.1", "F32.0", "F33.1", "F41.1", "F43.2", "F48.0", "F43.1"),
        "ICPC-2": ("P76", "P74", "P02", "P78", "P29"),
    },
    "other": {
        "ICD-10": ("G93.3", "R53", "I25.1", "G35", "C50.9", "E66.9"),
        "ICPC-2": ("A04", "K86", "N89", "R96"),
    },
}


def _demo_data_end() -> dt.date:
    """The demo's NAV extraction date, from ``analysis/demo.toml``."""
    return load_config(DEMO_CONFIG).outcomes.data_end


@dataclass(frozen=True)
class SynthParams:
    """What a synthetic delivery looks like.

    Attributes
    ----------
    seed
        Seed of ``numpy.random.default_rng``; the only source of randomness.
    institutions
        Number of institutions; the last is small (under 15 episodes a year).
    years
        First and last discharge year of the episodes.
    persons
        Registry persons (people with at least one episode); ``None`` = 3,500.
        NAV also delivers about 12 % more persons who have no episode.
    data_end
        The NAV (and registry) extraction date; default ``data_end`` of
        ``analysis/demo.toml``. Nothing after it is in the delivery except one
        deliberately flawed row.
    """

    seed: int = DEFAULT_SEED
    institutions: int = 8
    years: tuple[int, int] = (2021, 2025)
    persons: int | None = None
    data_end: dt.date = field(default_factory=_demo_data_end)

    def __post_init__(self) -> None:
        first, last = self.years
        if first > last:
            raise ValueError(f"years {self.years}: the first year is after the last")
        if self.institutions < 1:
            raise ValueError("institutions must be at least 1")
        if self.persons is not None and self.persons < MIN_PERSONS:
            raise ValueError(f"persons must be at least {MIN_PERSONS}")
        if self.data_end < dt.date(last, 12, 31):
            raise ValueError(f"data_end {self.data_end} is before the end of the last year {last}")

    @property
    def n_persons(self) -> int:
        """Registry persons to generate."""
        return DEFAULT_PERSONS if self.persons is None else self.persons
