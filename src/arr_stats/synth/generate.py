"""Deterministic synthetic raw deliveries with exactly the shape of the real ones.

``write_delivery(out_dir, SynthParams())`` writes ``registry/`` (four SPSS
``.sav`` forms like a Nettskjema export, and ``institusjoner.csv``) and
``nav/`` (``ytelser.csv``, ``arbeidsforhold.csv``, ``personer.csv``) in the raw
format of ``docs/spec/data-model.md``. Column names, labels, codes and missing
codes come from the data dictionary. The same :class:`SynthParams` give the
same bytes: every random draw comes from one ``numpy.random.default_rng(seed)``
in a fixed order, and the SPSS header timestamp is set to the data end.

What the generator models is described in ``docs/synthetic-data.md``; the
small fixed set of deliberately invalid rows is :data:`DELIBERATE_FLAWS`.

Examples
--------
>>> tables = generate_delivery(SynthParams(persons=40))
>>> sorted(tables)[:2]
['nav/arbeidsforhold.csv', 'nav/personer.csv']
>>> list(tables["registry/skjema_t1.sav"].columns)
['forlop_id', 'svar_dato', 'arbeidsevne', 'arbeidsstatus', 'stillingsprosent', 'helse']
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from arr_stats.dictionary import DataDictionary, Table, Variable, load_dictionary
from arr_stats.synth.flaws import (
    FLAW_EPISODES,
    FLAW_PERSONS,
    UNKNOWN_EPISODE,
    deliberate_flaws,
    flaw_year,
)
from arr_stats.synth.params import (
    AAP,
    DIAGNOSES,
    DP,
    INSTITUTION_NAMES,
    MODEL_BENEFITS,
    OVG,
    POSITION_PERCENTS,
    SP,
    SP_GRADES,
    SP_MAX_DAYS,
    TP,
    UFT,
    UFT_PARTIAL_GRADES,
    WORK,
    SynthParams,
)


def _institutions(
    rng: np.random.Generator, params: SynthParams, dd: DataDictionary
) -> pd.DataFrame:
    """One row per institution: its fixed traits (size, case-mix, effect, modes)."""
    n = params.institutions
    regions = sorted(dd.table("institusjoner").variable("helseregion").codes)
    modes = sorted(dd.table("skjema_t0").variable("rehab_type").codes)
    region_pattern = (0, 1, 0, 2, 0, 3, 1, 0)  # Sør-Øst is the largest region
    orgnr = list(
        dict.fromkeys(int(x) for x in rng.integers(970_000_000, 1_000_000_000, size=2 * n))
    )
    # Sizes fall off with rank; the last institution is small (set in _assign_institutions).
    weight = 1.0 / np.arange(1, n + 1) ** 0.55
    rows = []
    for i in range(n):
        n_modes = int(rng.integers(1, 4))
        offered = sorted(int(m) for m in rng.choice(modes, size=n_modes, replace=False))
        rows.append(
            {
                "inst_id": str(orgnr[i]),
                "navn": INSTITUTION_NAMES[i]
                if i < len(INSTITUTION_NAMES)
                else f"Rehabiliteringssenter {i + 1}",
                "helseregion": regions[region_pattern[i % len(region_pattern)] % len(regions)],
                "weight": weight[i],
                "modes": tuple(offered),
                "programme_weeks": int(rng.choice([3, 4, 4, 5, 6])),
                # case-mix: share of mental diagnoses and prognosis shift
                "p_mental": float(rng.uniform(0.15, 0.55)),
                "casemix": float(rng.normal(0.0, 0.35)),
                # institution result: multiplies the speed of recovery
                "effect": float(np.exp(rng.normal(0.0, 0.25))),
                "response_shift": float(rng.normal(0.0, 0.04)),
                "coverage": float(rng.uniform(0.72, 0.95)),
                "waiting_days": float(rng.uniform(25, 110)),
            }
        )
    inst = pd.DataFrame(rows)
    if n >= 3:  # one mid-sized institution registers fewer than 60 % of its patients
        inst.loc[2, "coverage"] = float(rng.uniform(0.48, 0.56))
    return inst


def _assign_institutions(
    rng: np.random.Generator, inst: pd.DataFrame, n_episodes_per_year: float, size: int
) -> np.ndarray:
    """Draw an institution index for ``size`` persons; the last one gets ~9 a year."""
    w = inst["weight"].to_numpy().copy()
    if len(w) >= 2:
        small = min(9.0 / max(n_episodes_per_year, 1.0), 0.5 / len(w))
        w[-1] = 0.0
        w = w / w.sum() * (1.0 - small)
        w[-1] = small
    return rng.choice(len(w), size=size, p=w / w.sum())


def _pick(rng: np.random.Generator, values: tuple) -> Any:
    return values[int(rng.integers(len(values)))]


def _simulate(
    rng: np.random.Generator,
    state: str | None,
    grade: int | None,
    t: int,
    sp_used: int,
    hold_until: int,
    z: float,
    effect: float,
    horizon: int,
) -> tuple[list[tuple], list[tuple]]:
    """Segments ``(benefit, start, end, grade)`` from day ``t`` up to ``horizon``.

    Days are ordinals; ``end`` may lie beyond the horizon (truncated by the
    caller). The first sojourn lasts at least until ``hold_until`` (the
    discharge day). Returns the chain and extra overlapping spells.
    """
    chain: list[tuple] = []
    extra: list[tuple] = []
    first = True
    prev: str | None = WORK
    while t <= horizon:
        hold = max(0, hold_until - t) if first else 0
        nxt_grade: int | None = None
        if state is WORK:
            dur = 14 + int(rng.exponential(800.0 * math.exp(0.5 * z) * effect)) + hold
            nxt = SP
            nxt_grade = 100 if rng.random() < 0.7 else _pick(rng, SP_GRADES)
        elif state == SP:
            grade = grade or 100
            remaining = max(1, SP_MAX_DAYS - sp_used)
            rec = hold + 1 + int(rng.exponential(160.0 * math.exp(-0.7 * z) / effect))
            if rec < remaining:
                dur = rec
                nxt = WORK if rng.random() < 0.88 else DP
            else:
                dur = remaining
                u = rng.random()
                nxt = AAP if u < 0.75 else (WORK if u < 0.9 else DP)
            # grade changes inside the sick-leave spell: separate rows
            start, grades = t, [grade]
            if grade == 100 and dur > 42 and rng.random() < 0.4:
                grades.append(_pick(rng, SP_GRADES))
            lower = tuple(g for g in SP_GRADES if g < grades[-1])
            if len(grades) == 2 and lower and dur > 84 and rng.random() < 0.3:
                grades.append(_pick(rng, lower))
            cuts = sorted(int(c) for c in rng.uniform(0.3, 0.9, size=len(grades) - 1) * dur)
            bounds = [0, *cuts, dur]
            for g, a, b in zip(grades, bounds[:-1], bounds[1:], strict=True):
                if b > a:
                    chain.append((SP, start + a, start + b - 1, g))
            sp_used += dur
            t, prev, state, grade, first = t + dur, SP, nxt, nxt_grade, False
            if state == SP:
                sp_used = 0
            continue
        elif state == AAP:
            dur = hold + 30 + int(rng.gamma(2.0, 230.0 * math.exp(-0.25 * z) / effect))
            p_work = min(0.8, max(0.1, 0.45 + 0.12 * z))
            p_uft = min(0.6, max(0.05, 0.28 - 0.1 * z))
            u = rng.random()
            if u < p_work:
                nxt = WORK
            elif u < p_work + p_uft:
                nxt = UFT
                nxt_grade = 100 if rng.random() < 0.55 else _pick(rng, UFT_PARTIAL_GRADES)
            else:
                nxt = DP if rng.random() < 0.7 else TP
        elif state == UFT:
            dur = 10**6  # absorbing, except a partial grade that may become full
            nxt = UFT
            if grade is not None and grade < 100:
                if rng.random() < 0.25:  # graded sick leave on top of partial disability
                    s = t + int(rng.integers(60, 400))
                    extra.append((SP, s, s + int(rng.integers(20, 150)), 50))
                if rng.random() < 0.15:
                    dur = int(rng.integers(400, 1200))
                    nxt_grade = 100
        elif state == DP:
            dur = hold + 14 + int(rng.gamma(2.0, 80.0))
            u = rng.random()
            nxt = WORK if u < 0.6 else TP if u < 0.75 else SP if u < 0.9 else AAP
            nxt_grade = 100 if nxt == SP else None
        elif state == TP:
            dur = hold + int(rng.integers(60, 250))
            nxt = WORK if rng.random() < 0.6 else DP
        else:  # OVG
            dur = hold + int(rng.integers(180, 800))
            nxt = WORK
        start = t
        if state == AAP and prev == SP:
            u = rng.random()
            if u < 0.12:  # AAP granted from a day before sick leave formally ended
                start = t - int(rng.integers(1, 15))
            elif u < 0.2:  # a few days with nothing between SP and AAP
                gap = int(rng.integers(1, 6))
                start, t = t + gap, t + gap
        if state is not WORK:
            chain.append((state, start, t + dur - 1, grade))
        t, prev, state, grade, first = t + dur, state, nxt, nxt_grade, False
        if state == SP:
            sp_used = 0
    return chain, extra


def _clip_spells(spells: list[tuple], horizon: int, open_end: bool) -> list[tuple]:
    """Cut spells at ``horizon``; a spell running past it is open when ``open_end``."""
    out = []
    for benefit, start, end, grade in spells:
        if start > horizon or end < start:
            continue
        if end > horizon:
            end = None if open_end else horizon
        out.append((benefit, start, end, grade))
    return out


def _state_on(spells: list[tuple], day: int) -> tuple[str | None, int]:
    """The model state on ``day``: the benefit with most weight, or WORK."""
    rank = {UFT: 0, AAP: 1, SP: 2, DP: 3, TP: 4, OVG: 5}
    best: tuple[str | None, int] = (WORK, 0)
    for benefit, start, end, grade in spells:
        if start <= day and (end is None or day <= end):
            g = 100 if grade is None else grade
            if best[0] is WORK or (rank[benefit], -g) < (rank[best[0]], -best[1]):
                best = (benefit, g)
    return best


def _missing(
    rng: np.random.Generator, value: float, p98: float = 0.025, p99: float = 0.01
) -> float:
    """Sprinkle the missing codes 98 (Ikke besvart), 99 (Vet ikke) and system-missing."""
    u = rng.random()
    if u < p98:
        return 98.0
    if u < p98 + p99:
        return 99.0
    if u < p98 + p99 + 0.008:
        return math.nan
    return float(value)


def _avoid_missing_codes(value: float, missing: Mapping[int, str]) -> float:
    """Move a genuine value off the missing codes (97–99 would read as missing)."""
    while int(value) in missing and float(value).is_integer():
        value += 3
    return value


def _followup_answer(
    rng: np.random.Generator, spells: list[tuple], day: int, wa0: float, z: float
) -> dict[str, float]:
    """Self-reported work status, work percent, work ability and health on ``day``."""
    benefit, grade = _state_on(spells, day)
    if benefit is WORK:
        reduced = rng.random() < 0.2
        status = 2 if reduced else 1
        percent = _pick(rng, (50, 60, 80)) if reduced else 100
        delta = 2.0
    elif benefit == SP:
        status = 3 if grade == 100 or rng.random() < 0.5 else 2
        percent = 100 - grade if grade < 100 else 0
        delta = 1.0 if grade < 100 else 0.3
    elif benefit == AAP:
        status, percent, delta = 4, 0, 0.0
    elif benefit == UFT:
        status = 5 if grade == 100 else 2
        percent = 0 if grade == 100 else 100 - grade
        delta = -0.8
    elif benefit == DP:
        status, percent, delta = 6, 0, 0.5
    else:
        status = 7 if rng.random() < 0.3 else 8
        percent, delta = 0, 0.5
    wa = float(np.clip(round(wa0 + delta + 0.3 * z + rng.normal(0.0, 1.2)), 0, 10))
    health = float(np.clip(round(5.4 - wa / 2.4 + rng.normal(0.0, 0.6)), 1, 5))
    percent_value = 97.0 if percent == 0 and rng.random() < 0.4 else float(percent)
    return {
        "arbeidsevne": _missing(rng, wa),
        "arbeidsstatus": _missing(rng, status, 0.015, 0.0),
        "stillingsprosent": _missing(rng, percent_value, 0.03, 0.0),
        "helse": _missing(rng, health, 0.02, 0.0),
    }


def _employment(
    rng: np.random.Generator,
    spells: list[tuple],
    employed_at: int,
    employed: bool,
    earliest_start: int,
    horizon: int,
    end_date: int | None,
    employers: np.ndarray,
) -> list[tuple]:
    """Employment relationships ``(employer, start, end, percent)`` along a trajectory.

    A job ends when full disability or unemployment begins, sometimes a year
    into a long AAP spell; partial disability reduces the position (a new row
    at the same employer); returning to work from no job starts a new one.
    """
    rows: list[tuple] = []
    job: list | None = None  # [employer, start, percent]

    def close(day: int) -> None:
        # a job that would end after the last observed day is still running then
        nonlocal job
        if job is not None and day >= job[1]:
            rows.append((job[0], job[1], day if day <= horizon else end_date, job[2]))
        job = None

    if employed:
        start = max(earliest_start, employed_at - int(rng.integers(180, 15 * 365)))
        job = [str(rng.choice(employers)), start, _pick(rng, POSITION_PERCENTS)]
        if rng.random() < 0.1:  # a second, small job alongside
            s2 = max(earliest_start, employed_at - int(rng.integers(30, 5 * 365)))
            e2 = s2 + int(rng.integers(90, 3 * 365))
            rows.append((str(rng.choice(employers)), s2, e2 if e2 <= horizon else end_date, 20))
    chain = sorted((s for s in spells if s[1] >= employed_at - 30), key=lambda s: (s[1], s[0]))
    for benefit, start, end, grade in chain:
        if start > horizon:
            break
        if job is not None:
            if benefit == UFT and (grade is None or grade == 100):
                close(start + int(rng.integers(0, 90)))
            elif benefit == UFT:
                employer = job[0]
                close(start - 1)
                job = [employer, start, 100 - grade]
            elif benefit == DP:
                close(start - 1)
            elif benefit == AAP and (end is None or end - start > 365) and rng.random() < 0.5:
                close(start + 365)
        after = (end + 1) if end is not None else None
        if job is None and after is not None and after <= horizon and benefit in (DP, AAP, TP, SP):
            if rng.random() < 0.8 and not any(s[1] <= after <= (s[2] or horizon) for s in chain):
                s = after + int(rng.integers(0, 15))
                if s <= horizon:
                    job = [str(rng.choice(employers)), s, _pick(rng, POSITION_PERCENTS)]
    if job is not None:
        rows.append((job[0], job[1], end_date, job[2]))
    return [r for r in rows if r[1] <= horizon]


def _check_dictionary(dd: DataDictionary) -> None:
    unknown = [code for code in MODEL_BENEFITS if code not in dd.benefits]
    if unknown:
        raise ValueError(f"benefit codes {unknown} of the synthetic model are not in the codelist")


def _date(ordinal: int | None) -> dt.date | None:
    return None if ordinal is None else dt.date.fromordinal(int(ordinal))


@dataclass
class _Episode:
    """One planned rehabilitation episode (internal)."""

    admission: int
    discharge: int
    institution: int
    mode: int
    diagnosis: str
    status: int
    weeks_sick: int
    z: float  # latent prognosis: higher = faster, more lasting return to work

    @property
    def history_start(self) -> int:
        """First day of the sick-leave history this episode reports."""
        if self.status in (1, 2, 3):
            return self.admission - 7 * self.weeks_sick
        return self.admission - 300


@dataclass
class _Rows:
    """Rows of every file, appended in generation order (internal)."""

    t0: list[dict] = field(default_factory=list)
    followup: dict[int, list[dict]] = field(default_factory=lambda: {1: [], 2: [], 3: []})
    benefits: list[tuple] = field(default_factory=list)
    employment: list[tuple] = field(default_factory=list)
    persons: list[dict] = field(default_factory=list)


# T0 sick-leave status (1 Helt, 2 Gradert, 3 AAP, 4 I arbeid, 5 Arbeidsledig, 6 Annet):
SICK_STATUS_P = (0.40, 0.24, 0.16, 0.10, 0.05, 0.05)

STATUS_PROGNOSIS = {1: 0.0, 2: 0.4, 3: -0.7, 4: 0.9, 5: -0.2, 6: 0.0}

GROUP_PROGNOSIS = {"musculoskeletal": 0.0, "mental": -0.25, "other": -0.35}

EMPLOYED_AT_ADMISSION_P = {1: 0.95, 2: 0.97, 3: 0.5, 4: 0.97, 5: 0.0, 6: 0.3}

# response probability among those due, and the answer delay in days
SMALL_INSTITUTION_MAX = 14  # episodes a year at the small institution, at most

# programme length by rehab_type (1 Døgn, 2 Dag, 3 Poliklinisk, 4 Kombinert), x the programme weeks
PROGRAMME_LENGTH_FACTOR = {1: 1.0, 2: 1.5, 3: 2.0, 4: 1.5}

FOLLOWUPS = ((1, 0, 0.87, 21), (2, 182, 0.63, 45), (3, 365, 0.53, 45))


def _plan_episode(
    rng: np.random.Generator,
    inst: pd.DataFrame,
    i_inst: int,
    discharge: int,
    age: float,
    frailty: float,
    readmission_after: int | None,
    missing: Mapping[int, str],
) -> _Episode:
    """Draw an episode's programme, diagnosis, T0 status and prognosis."""
    traits = inst.iloc[i_inst]
    mode = int(_pick(rng, traits["modes"]))
    weeks = traits["programme_weeks"] * PROGRAMME_LENGTH_FACTOR[mode]
    length = max(5, int(round(7 * weeks + rng.normal(0, 4))))
    admission = discharge - length
    u = rng.random()
    p_mental = traits["p_mental"]
    group = "mental" if u < p_mental else "other" if u < p_mental + 0.12 else "musculoskeletal"
    system = "ICD-10" if rng.random() < 0.62 else "ICPC-2"
    diagnosis = "" if rng.random() < 0.03 else _pick(rng, DIAGNOSES[group][system])
    if readmission_after is None:
        status = int(rng.choice(6, p=SICK_STATUS_P)) + 1
    else:  # a re-admission follows a relapse onto sick leave
        status = 1 if rng.random() < 0.65 else 2
    if status in (1, 2):
        weeks_sick = int(np.clip(round(rng.lognormal(math.log(14), 0.7)), 1, 52))
        if readmission_after is not None:
            weeks_sick = max(1, min(weeks_sick, (admission - readmission_after - 60) // 7))
    elif status == 3:
        weeks_sick = int(_avoid_missing_codes(int(rng.integers(53, 200)), missing))
    elif status == 4 and rng.random() < 0.3:
        weeks_sick = int(rng.integers(2, 13))
    else:
        weeks_sick = 0
    z = (
        0.8 * frailty
        + rng.normal(0, 0.6)
        + traits["casemix"]
        + GROUP_PROGNOSIS[group]
        + STATUS_PROGNOSIS[status]
        - 0.015 * (age - 44)
    )
    return _Episode(admission, discharge, i_inst, mode, diagnosis, status, weeks_sick, float(z))


def _history_and_trajectory(
    rng: np.random.Generator,
    ep: _Episode,
    effect: float,
    chain_end: int,
    earlier_spell: bool,
) -> tuple[list[tuple], int | None]:
    """Benefit spells from the episode's sick-leave history to ``chain_end``.

    The history before admission is built to agree with the T0 answers
    (status, grade, weeks on sick leave); from admission on the semi-Markov
    process runs. Returns the spells (not yet clipped) and the grade at admission.
    """
    prefix: list[tuple] = []
    a = ep.admission
    sick_start = a - 7 * ep.weeks_sick
    grade: int | None = None
    used = 0
    if earlier_spell:  # an earlier, ended sick-leave spell
        s = sick_start - int(rng.integers(365, 3 * 365))
        prefix.append((SP, s, s + int(rng.integers(14, 70)), 100 if rng.random() < 0.7 else 50))
    if ep.status == 1:
        state, grade, used = SP, 100, 7 * ep.weeks_sick
        prefix.append((SP, sick_start, a - 1, 100))
    elif ep.status == 2:
        state, grade, used = SP, _pick(rng, SP_GRADES), 7 * ep.weeks_sick
        if ep.weeks_sick >= 3 and rng.random() < 0.5:  # full first, graded later
            switch = sick_start + int(rng.integers(7, 7 * ep.weeks_sick - 6))
            prefix += [(SP, sick_start, switch - 1, 100), (SP, switch, a - 1, grade)]
        else:
            prefix.append((SP, sick_start, a - 1, grade))
    elif ep.status == 3:
        state = AAP
        aap_start = sick_start + SP_MAX_DAYS
        prefix += [(SP, sick_start, aap_start - 1, 100), (AAP, aap_start, a - 1, None)]
    elif ep.status == 4:
        state = WORK
        if ep.weeks_sick:
            gap = int(rng.integers(7, 60))
            prefix.append((SP, sick_start - gap, a - gap - 1, 100))
    elif ep.status == 5:
        state = DP
        prefix.append((DP, a - int(rng.integers(30, 300)), a - 1, None))
    else:
        u = rng.random()
        state = TP if u < 0.3 else OVG if u < 0.45 else WORK
        if state is not WORK:
            prefix.append((state, a - int(rng.integers(30, 300)), a - 1, None))
    chain, extra = _simulate(rng, state, grade, a, used, ep.discharge, ep.z, effect, chain_end)
    merged: list[tuple] = []
    for spell in prefix + chain:  # a spell running on through admission is one row
        last = merged[-1] if merged else None
        if last and last[0] == spell[0] and last[3] == spell[3] and last[2] + 1 == spell[1]:
            merged[-1] = (spell[0], last[1], spell[2], spell[3])
        else:
            merged.append(spell)
    return merged + extra, grade


def _t0_row(
    rng: np.random.Generator,
    ep: _Episode,
    ep_index: int,
    person_id: str,
    episode_id: str,
    inst_id: str,
    birth_year: int,
    sex: int,
    consent: int,
    withdrawn: int | None,
    t0_day: int,
    grade_at_admission: int | None,
    wa0: float,
) -> dict:
    """The T0 form of an episode, missing codes sprinkled on the answers."""
    p_yes = 1 / (1 + math.exp(-(0.2 + 0.9 * ep.z)))
    u = rng.random()
    expectation = 1 if u < p_yes else 2 if u < p_yes + (1 - p_yes) * 0.4 else 3
    if ep.status in (1, 2):
        percent = float(grade_at_admission or 100)
    elif ep.status == 4:
        percent = 0.0
    else:
        percent = 97.0 if rng.random() < 0.6 else 0.0  # 97 = Ikke aktuelt
    education = float(rng.choice(4, p=[0.18, 0.44, 0.26, 0.12]) + 1)
    return {
        "forlop_id": episode_id,
        "lopenr": person_id,
        "inst_id": inst_id,
        "samtykke": float(consent),
        "samtykke_trukket_dato": _date(withdrawn),
        "fodselsaar": float(birth_year),
        "kjonn": float(sex),
        "innskrevet_dato": _date(ep.admission),
        "utskrevet_dato": _date(ep.discharge),
        "rehab_type": float(ep.mode),
        "diagnose": ep.diagnosis,
        "sykmeldt_status": _missing(rng, ep.status, 0.01, 0.0),
        "sykmeldt_prosent": _missing(rng, percent, 0.02, 0.0),
        "sykmeldt_uker": _missing(rng, ep.weeks_sick),
        "utdanning": _missing(rng, education, 0.02, 0.0),
        "arbeidsevne": _missing(rng, wa0),
        "forventning_rtw": _missing(rng, expectation, 0.02, 0.03),
        "svar_dato": _date(t0_day),
        "_ep": ep_index,
    }


def generate_delivery(params: SynthParams) -> dict[str, pd.DataFrame]:
    """Generate every file of a synthetic delivery as raw DataFrames.

    Parameters
    ----------
    params
        The delivery's size, years, seed and data end.

    Returns
    -------
    dict
        Path inside the delivery (``registry/skjema_t0.sav`` …) → raw table
        with the raw column names in dictionary order. Dates are
        ``datetime.date`` or ``None``; numbers are floats (NaN = empty);
        strings are ``str`` (``""`` = empty). The flawed rows of
        :func:`deliberate_flaws` are included.
    """
    dd = load_dictionary()
    _check_dictionary(dd)
    rng = np.random.default_rng(params.seed)
    first_year, last_year = params.years
    data_end = params.data_end.toordinal()
    year_start = dt.date(first_year, 1, 1).toordinal()
    year_end = dt.date(last_year, 12, 31).toordinal()
    n_years = last_year - first_year + 1

    inst = _institutions(rng, params, dd)
    n_reg = params.n_persons
    n_ctrl = round(0.12 * n_reg)
    numbers = rng.choice(np.arange(100_000, 900_000), size=n_reg + n_ctrl, replace=False)
    person_ids = [f"P{n:06d}" for n in numbers]
    person_ids[: len(FLAW_PERSONS)] = FLAW_PERSONS  # reserved ids of the flawed rows
    employer_numbers = rng.choice(
        np.arange(10_000, 99_000), size=max(60, n_reg // 3), replace=False
    )
    employers = np.array([f"A{n:05d}" for n in employer_numbers])

    # person-level draws, vectorised in a fixed order
    flaw = np.arange(n_reg) < len(FLAW_PERSONS)
    sex = np.where(rng.random(n_reg) < 0.62, 2, 1)
    age = np.clip(np.round(rng.normal(44.0, 10.5, n_reg)), 19, 66).astype(int)
    per_year = 1.12 * n_reg / n_years
    inst_idx = _assign_institutions(rng, inst, per_year, n_reg)
    discharge1 = rng.integers(year_start, year_end + 1, size=n_reg)
    # the episode with swapped dates has fixed dates (its flaw is listed with them)
    discharge1[7] = dt.date(flaw_year(params), 3, 29).toordinal()
    wants_second = (rng.random(n_reg) < 0.27) & ~flaw
    linked = (rng.random(n_reg) >= 0.025) | flaw
    u_fate = rng.random(n_reg)
    dies = (u_fate < 0.008) & ~flaw
    emigrates = (u_fate >= 0.008) & (u_fate < 0.02) & ~flaw
    frailty = rng.normal(0.0, 1.0, n_reg)

    rows = _Rows()
    small_inst = params.institutions - 1 if params.institutions >= 2 else None
    small_per_year: dict[int, int] = {}
    for p in range(n_reg):
        pid = person_ids[p]
        birth_year = int(_date(int(discharge1[p])).year - age[p])
        fate_day: int | None = None
        if dies[p] or emigrates[p]:
            fate_day = int(rng.integers(min(int(discharge1[p]) + 30, data_end), data_end + 1))
        # last observed day: the death day itself, the day before emigrating
        horizon = data_end if fate_day is None else fate_day - (0 if dies[p] else 1)

        discharges = [int(discharge1[p])]
        if wants_second[p]:
            d2 = discharges[0] + int(rng.integers(300, 1000))
            if d2 <= min(year_end, horizon):
                discharges.append(d2)
        episodes: list[_Episode] = []
        i_inst = int(inst_idx[p])
        for k, discharge in enumerate(discharges):
            if k == 1 and rng.random() < 0.2:  # the second stay elsewhere
                i_inst = int(_assign_institutions(rng, inst, per_year, 1)[0])
            year = _date(discharge).year
            if i_inst == small_inst:  # the small institution stays under 15 a year
                if small_per_year.get(year, 0) >= SMALL_INSTITUTION_MAX:
                    i_inst = 0
                else:
                    small_per_year[year] = small_per_year.get(year, 0) + 1
            years_on = (discharge - discharges[0]) / 365.25
            episodes.append(
                _plan_episode(
                    rng,
                    inst,
                    i_inst,
                    discharge,
                    age[p] + years_on,
                    frailty[p],
                    discharges[0] if k else None,
                    dd.missing_codes,
                )
            )
        if p == 7:  # fixed four-week stay of the swapped-dates episode
            episodes[0].admission = episodes[0].discharge - 28

        spells: list[tuple] = []
        grades = []
        for k, ep in enumerate(episodes):
            last = k + 1 == len(episodes)
            chain_end = horizon if last else episodes[k + 1].history_start - 1
            effect = inst.iloc[ep.institution]["effect"]
            ep_spells, grade = _history_and_trajectory(
                rng, ep, effect, chain_end, k == 0 and rng.random() < 0.2
            )
            spells += _clip_spells(ep_spells, chain_end, last and fate_day is None)
            grades.append(grade)

        for k, ep in enumerate(episodes):
            ep_index = len(rows.t0)
            consent = 1 if flaw[p] or rng.random() >= 0.05 else 0
            t0_day = ep.admission - int(rng.integers(0, 11))
            withdrawn = None
            if consent and not flaw[p] and rng.random() < 0.015:
                withdrawn = int(rng.integers(t0_day + 30, max(t0_day + 31, data_end)))
            wa0 = float(np.clip(round(4.2 + 1.5 * ep.z + rng.normal(0.0, 1.2)), 0, 10))
            traits = inst.iloc[ep.institution]
            rows.t0.append(
                _t0_row(
                    rng,
                    ep,
                    ep_index,
                    pid,
                    FLAW_EPISODES[p] if flaw[p] else "",
                    traits["inst_id"],
                    birth_year,
                    int(sex[p]),
                    consent,
                    withdrawn,
                    t0_day,
                    grades[k],
                    wa0,
                )
            )
            for point, offset, p_answer, delay in FOLLOWUPS:
                due = ep.discharge + offset
                answer_day = due + int(rng.integers(0, delay + 1))
                answers = rng.random() < p_answer + traits["response_shift"] + 0.03 * ep.z
                if p == 5 and point == 1:  # the out-of-range answer needs a T1 row
                    answers, answer_day = True, due
                if p == 7:  # the swapped-dates episode has no follow-ups to orphan
                    answers = False
                if (
                    not answers
                    or not consent
                    or answer_day > data_end
                    or (fate_day is not None and answer_day >= fate_day)
                    or (withdrawn is not None and answer_day >= withdrawn)
                ):
                    continue
                row = {"forlop_id": "", "svar_dato": _date(answer_day)}
                row.update(_followup_answer(rng, spells, answer_day, wa0, ep.z))
                row["_ep"] = ep_index
                rows.followup[point].append(row)

        if linked[p]:
            rows.persons.append(
                {
                    "lopenr": pid,
                    "fodselsaar": float(birth_year),
                    "kjonn": float(sex[p]),
                    "dodsdato": _date(fate_day) if dies[p] else None,
                    "utvandret_dato": _date(fate_day) if emigrates[p] else None,
                }
            )
            rows.benefits += [(pid, *s) for s in spells]
            employed = rng.random() < EMPLOYED_AT_ADMISSION_P[episodes[0].status]
            jobs = _employment(
                rng,
                spells,
                episodes[0].admission,
                employed,
                dt.date(birth_year + 18, 1, 1).toordinal(),
                horizon,
                None if fate_day is None else horizon,
                employers,
            )
            rows.employment += [(pid, *j) for j in jobs]

    for c in range(n_ctrl):
        _control_person(rng, person_ids[n_reg + c], year_start, data_end, employers, rows)

    return _assemble(params, dd, inst, rows, rng)


def _control_person(
    rng: np.random.Generator,
    pid: str,
    year_start: int,
    data_end: int,
    employers: np.ndarray,
    rows: _Rows,
) -> None:
    """A NAV person without a registry episode (NAV delivers the wider cohort)."""
    ref = int(rng.integers(year_start - 365, data_end - 30))
    birth_year = _date(ref).year - int(rng.integers(20, 67))
    fate_day = int(rng.integers(ref, data_end + 1)) if rng.random() < 0.01 else None
    horizon = data_end if fate_day is None else fate_day
    z = float(rng.normal(0.3, 1.0))
    state = _pick(rng, (WORK, WORK, WORK, WORK, WORK, WORK, SP, SP, SP, AAP, DP, OVG))
    start = ref - int(rng.integers(0, 200))
    chain, extra = _simulate(
        rng, state, 100 if state == SP else None, start, 0, start, z, 1.0, horizon
    )
    spells = _clip_spells(chain + extra, horizon, fate_day is None)
    rows.persons.append(
        {
            "lopenr": pid,
            "fodselsaar": float(birth_year),
            "kjonn": 2.0 if rng.random() < 0.55 else 1.0,
            "dodsdato": _date(fate_day),
            "utvandret_dato": None,
        }
    )
    rows.benefits += [(pid, *s) for s in spells]
    earliest = dt.date(birth_year + 18, 1, 1).toordinal()
    jobs = _employment(
        rng, spells, start, rng.random() < 0.8, earliest, horizon, fate_day, employers
    )
    rows.employment += [(pid, *j) for j in jobs]


def _episode_ids(rng: np.random.Generator, t0: pd.DataFrame) -> list[str]:
    """Episode ids in admission order, like a form system's running numbers.

    Rows that already have an id (the flawed ones, reserved ids) keep it.
    """
    order = t0.sort_values(["innskrevet_dato", "lopenr", "_ep"], kind="stable").index
    numbers = 100_000 + np.cumsum(rng.integers(1, 4, size=len(order)))
    by_row = dict(zip(order, (f"F{n:06d}" for n in numbers), strict=True))
    return [old or by_row[i] for i, old in zip(t0.index, t0["forlop_id"], strict=True)]


def _grade_text(rng: np.random.Generator, grade: int | None) -> float:
    """The delivered grade: 100 is sometimes written, sometimes left empty."""
    if grade is None or (grade == 100 and rng.random() < 0.2):
        return math.nan
    return float(grade)


def _institution_rows(
    rng: np.random.Generator,
    params: SynthParams,
    inst: pd.DataFrame,
    t0: pd.DataFrame,
    missing: Mapping[int, str],
) -> pd.DataFrame:
    """The yearly background form: patients, mean age, waiting time, modes, weeks."""
    valid = t0.drop_duplicates("forlop_id")
    year = valid["utskrevet_dato"].map(lambda d: d.year)
    age = valid["innskrevet_dato"].map(lambda d: d.year) - valid["fodselsaar"]
    consenting = valid["samtykke"] == 1
    out = []
    for _, traits in inst.iterrows():
        for y in range(params.years[0], params.years[1] + 1):
            here = (valid["inst_id"] == traits["inst_id"]) & (year == y)
            registered = int(here.sum())
            n_consenting = int((here & consenting).sum())
            n_patients = max(
                registered + 1 + int(rng.integers(0, 3)),
                math.ceil(n_consenting / traits["coverage"]),
            )
            mean_age = float(age[here].mean()) if registered else 44.0
            waiting = round(traits["waiting_days"] * (1 + 0.1 * rng.normal()))
            out.append(
                {
                    "inst_id": traits["inst_id"],
                    "aar": float(y),
                    "navn": traits["navn"],
                    "helseregion": float(traits["helseregion"]),
                    "antall_pasienter": _avoid_missing_codes(float(n_patients), missing),
                    "snittalder": round(mean_age + rng.normal(0, 0.7), 1),
                    "ventetid_dager": _avoid_missing_codes(float(max(1, waiting)), missing),
                    "rehab_typer": ",".join(str(m) for m in traits["modes"]),
                    "varighet_uker": float(traits["programme_weeks"]),
                }
            )
    return pd.DataFrame(out)


def _assemble(
    params: SynthParams,
    dd: DataDictionary,
    inst: pd.DataFrame,
    rows: _Rows,
    rng: np.random.Generator,
) -> dict[str, pd.DataFrame]:
    """Turn generated rows into the delivery's tables, add the flaws, sort, order columns."""
    flaws = {(f.file, f.rule): f for f in deliberate_flaws(params)}
    y1 = flaw_year(params)

    t0 = pd.DataFrame(rows.t0)
    t0["forlop_id"] = _episode_ids(rng, t0)
    id_of = dict(zip(t0["_ep"], t0["forlop_id"], strict=True))
    t0["_dup"] = 0

    # flaw: the swapped admission and discharge dates
    swap = t0["forlop_id"] == FLAW_EPISODES[7]
    t0.loc[swap, ["innskrevet_dato", "utskrevet_dato"]] = t0.loc[
        swap, ["utskrevet_dato", "innskrevet_dato"]
    ].to_numpy()
    # flaw: a resubmitted T0 form with the same forlop_id
    dup = t0[t0["forlop_id"] == FLAW_EPISODES[6]].copy()
    dup["_dup"] = 1
    dup["svar_dato"] = dup["svar_dato"].map(lambda d: d + dt.timedelta(days=3))
    dup["arbeidsevne"] = dup["arbeidsevne"].map(lambda v: 5.0 if v != 5.0 else 6.0)
    t0 = pd.concat([t0, dup], ignore_index=True)
    t0 = t0.sort_values(["innskrevet_dato", "forlop_id", "_dup"], kind="stable")

    tables: dict[str, pd.DataFrame] = {"registry/skjema_t0.sav": t0}
    for point, point_rows in rows.followup.items():
        df = pd.DataFrame(point_rows)
        df["forlop_id"] = df["_ep"].map(id_of)
        if point == 1:  # flaw: work ability 14
            df.loc[df["forlop_id"] == FLAW_EPISODES[5], "arbeidsevne"] = 14.0
        if point == 2:  # flaw: an answer for an episode that is not in T0
            stray = {
                "forlop_id": UNKNOWN_EPISODE,
                "svar_dato": dt.date(y1, 6, 1),
                "arbeidsevne": 6.0,
                "arbeidsstatus": 1.0,
                "stillingsprosent": 100.0,
                "helse": 2.0,
            }
            df = pd.concat([df, pd.DataFrame([stray])], ignore_index=True)
        tables[f"registry/skjema_t{point}.sav"] = df.sort_values(
            ["svar_dato", "forlop_id"], kind="stable"
        )

    tables["registry/institusjoner.csv"] = _institution_rows(
        rng, params, inst, t0, dd.missing_codes
    )

    benefits = [
        (pid, b, _date(s), _date(e), _grade_text(rng, g)) for pid, b, s, e, g in rows.benefits
    ]
    bad = [
        flaws[("nav/ytelser.csv", r)]
        for r in (
            "end_before_start",
            "unknown_code",
            "out_of_range",
            "start_after_data_end",
            "unknown_person",
        )
    ]
    for f in bad:
        fom = dt.date.fromisoformat(f.key["fom"])
        tom = fom + dt.timedelta(days=45)
        grade = 100.0
        if f.column == "tom":
            tom = dt.date.fromisoformat(f.value)
        if f.column == "grad":
            grade = float(f.value)
        if f.rule == "start_after_data_end":
            tom = None
        benefits.append((f.key["lopenr"], f.key["ytelse"], fom, tom, grade))
    ytelser = pd.DataFrame(benefits, columns=["lopenr", "ytelse", "fom", "tom", "grad"])
    ytelser["_tom"] = ytelser["tom"].map(lambda d: d or dt.date.max)
    tables["nav/ytelser.csv"] = ytelser.sort_values(
        ["lopenr", "fom", "_tom", "ytelse", "grad"], kind="stable"
    )

    jobs = [(pid, emp, _date(s), _date(e), float(pct)) for pid, emp, s, e, pct in rows.employment]
    f = flaws[("nav/arbeidsforhold.csv", "negative_position_percent")]
    start = dt.date.fromisoformat(f.key["fom"])
    jobs.append(
        (f.key["lopenr"], f.key["arbgiver"], start, start + dt.timedelta(days=200), float(f.value))
    )
    arbeid = pd.DataFrame(jobs, columns=["lopenr", "arbgiver", "fom", "tom", "stillingsprosent"])
    arbeid["_tom"] = arbeid["tom"].map(lambda d: d or dt.date.max)
    tables["nav/arbeidsforhold.csv"] = arbeid.sort_values(
        ["lopenr", "fom", "_tom", "arbgiver"], kind="stable"
    )
    tables["nav/personer.csv"] = pd.DataFrame(rows.persons).sort_values("lopenr", kind="stable")

    out = {}
    for path in sorted(tables):
        table = dd.table(Path(path).stem)
        out[path] = tables[path][table.raw_names].reset_index(drop=True)
    return out


def _answer_items(table: Table) -> list[Variable]:
    """Numeric items a respondent answers: the optional integer and code variables.

    These get the missing codes as value labels and as declared user-missing values.
    """
    return [v for v in table.variables if v.type in ("integer", "code") and not v.required]
