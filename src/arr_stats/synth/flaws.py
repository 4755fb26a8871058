"""The deliberately bad rows every synthetic delivery carries (``docs/synthetic-data.md``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from arr_stats.synth.params import AAP, SP, SynthParams

# Reserved identifiers: ordinary ids are P100000–P899999 and F100001 upwards.
FLAW_PERSONS = tuple(f"P9000{i:02d}" for i in range(1, 9))

FLAW_EPISODES = tuple(f"F9000{i:02d}" for i in range(1, 9))

UNKNOWN_PERSON = "P999999"

UNKNOWN_EPISODE = "F999999"

FLAW_EMPLOYER = "A99999"


@dataclass(frozen=True)
class DeliberateFlaw:
    """One deliberately invalid row of a synthetic delivery.

    Attributes
    ----------
    file
        Path of the file inside the delivery, e.g. ``nav/ytelser.csv``.
    key
        Raw column → value (as written) that identifies the row.
    column
        The raw column whose value breaks the rule.
    value
        The offending value as written in the file.
    rule
        The validation rule broken (snake_case).
    description
        What is wrong, in words.
    """

    file: str
    key: Mapping[str, str]
    column: str
    value: str
    rule: str
    description: str


def flaw_year(params: SynthParams) -> int:
    """The year the flawed rows are dated in: the second discharge year, or the only one."""
    return min(params.years[0] + 1, params.years[1])


def deliberate_flaws(params: SynthParams) -> tuple[DeliberateFlaw, ...]:
    """The deliberately invalid rows of the delivery made with ``params``.

    The rows do not depend on the seed; their dates depend only on the years
    (the second year of the range, or the only one) and the data end.

    Examples
    --------
    >>> flaws = deliberate_flaws(SynthParams())
    >>> [f.rule for f in flaws if f.file == "nav/ytelser.csv"][:2]
    ['end_before_start', 'unknown_code']
    """
    y = flaw_year(params)
    after_end = params.data_end + dt.timedelta(days=63)

    def iso(year: int, month: int, day: int) -> str:
        return dt.date(year, month, day).isoformat()

    ytelser, arbeid = "nav/ytelser.csv", "nav/arbeidsforhold.csv"
    t0, t1, t2 = "registry/skjema_t0.sav", "registry/skjema_t1.sav", "registry/skjema_t2.sav"
    return (
        DeliberateFlaw(
            ytelser,
            {"lopenr": FLAW_PERSONS[0], "ytelse": SP, "fom": iso(y, 5, 10)},
            "tom",
            iso(y, 4, 30),
            "end_before_start",
            "benefit spell whose last day (tom) is before its first day (fom)",
        ),
        DeliberateFlaw(
            ytelser,
            {"lopenr": FLAW_PERSONS[1], "ytelse": "XYZ", "fom": iso(y, 9, 1)},
            "ytelse",
            "XYZ",
            "unknown_code",
            "benefit code not in the benefits codelist",
        ),
        DeliberateFlaw(
            ytelser,
            {"lopenr": FLAW_PERSONS[2], "ytelse": SP, "fom": iso(y, 2, 1)},
            "grad",
            "150",
            "out_of_range",
            "benefit grade above 100",
        ),
        DeliberateFlaw(
            ytelser,
            {"lopenr": FLAW_PERSONS[3], "ytelse": AAP, "fom": after_end.isoformat()},
            "fom",
            after_end.isoformat(),
            "start_after_data_end",
            "benefit spell starting after the extraction date",
        ),
        DeliberateFlaw(
            ytelser,
            {"lopenr": UNKNOWN_PERSON, "ytelse": SP, "fom": iso(y, 3, 15)},
            "lopenr",
            UNKNOWN_PERSON,
            "unknown_person",
            "benefit spell of a person who is neither in personer nor in the registry",
        ),
        DeliberateFlaw(
            arbeid,
            {"lopenr": FLAW_PERSONS[4], "arbgiver": FLAW_EMPLOYER, "fom": iso(y, 6, 1)},
            "stillingsprosent",
            "-50",
            "negative_position_percent",
            "employment relationship with a negative position percentage",
        ),
        DeliberateFlaw(
            t1,
            {"forlop_id": FLAW_EPISODES[5]},
            "arbeidsevne",
            "14",
            "out_of_range",
            "work ability 14 on a 0–10 scale (not a missing code)",
        ),
        DeliberateFlaw(
            t0,
            {"forlop_id": FLAW_EPISODES[6]},
            "forlop_id",
            FLAW_EPISODES[6],
            "duplicate_key",
            "two T0 rows share this forlop_id (the second, a resubmission, "
            "directly follows the first)",
        ),
        DeliberateFlaw(
            t0,
            {"forlop_id": FLAW_EPISODES[7]},
            "utskrevet_dato",
            iso(y, 3, 1),
            "discharge_before_admission",
            "discharge date before admission date (the two dates are swapped)",
        ),
        DeliberateFlaw(
            t2,
            {"forlop_id": UNKNOWN_EPISODE},
            "forlop_id",
            UNKNOWN_EPISODE,
            "unknown_episode",
            "follow-up answer for a forlop_id that is not in skjema_t0",
        ),
    )


#: The deliberately invalid rows of the default delivery (``SynthParams()``);
#: see ``docs/synthetic-data.md``. Validation must report exactly these.
DELIBERATE_FLAWS: tuple[DeliberateFlaw, ...] = deliberate_flaws(SynthParams())
