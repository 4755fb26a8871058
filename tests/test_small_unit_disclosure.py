"""A unit with 3 episodes: nothing about it can be recovered from any edition.

The test makes such a unit in a built demo, then changes everything about its
persons (sex, age, diagnosis, answers, outcomes, daily states) and renders the
editions again. If no published byte depends on the unit's data, nothing about
it can be recovered from them – not from its own edition, the national
edition, another unit's "resten av landet", nor by difference between them.
Its values are also empty in indicators.csv.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from arr_stats.io import read_parquet, write_parquet
from arr_stats.report.render import render_reports

TINY = "912345678"
YEAR = 2025


def _make_tiny_unit(derived: Path, target: Path) -> list[str]:
    """Copy a build and move 3 linked episodes (2 discharged Y−1, 1 in Y) to a new unit."""
    shutil.copytree(derived, target)
    episodes = read_parquet(target / "episodes.parquet")
    single = episodes["person_id"].map(episodes["person_id"].value_counts()) == 1
    pick = []
    for year, k in ((YEAR - 1, 2), (YEAR, 1)):
        rows = episodes[single & episodes["linked"] & (episodes["discharge_year"] == year)]
        pick += rows["episode_id"].head(k).tolist()
    assert len(pick) == 3
    for name in ("episodes", "outcomes"):
        table = read_parquet(target / f"{name}.parquet")
        table["institution_id"] = table["institution_id"].astype(object)
        table.loc[table["episode_id"].isin(pick), "institution_id"] = TINY
        write_parquet(table, target / f"{name}.parquet")
    forms = read_parquet(target / "institutions.parquet")
    first = forms[forms["institution_id"] == forms["institution_id"].iloc[0]].copy()
    first["institution_id"] = TINY
    first["name"] = "Lillevik rehabilitering"
    first["n_patients"] = pd.array([20] * len(first), dtype=forms["n_patients"].dtype)
    write_parquet(pd.concat([forms, first], ignore_index=True), target / "institutions.parquet")
    return pick


def _perturb(target: Path, episodes_of_unit: list[str]) -> None:
    """Change, in place, every fact about the unit's persons in a build."""
    mine = lambda t: t["episode_id"].isin(episodes_of_unit)  # noqa: E731

    episodes = read_parquet(target / "episodes.parquet")
    m = mine(episodes)
    episodes.loc[m, "sex"] = np.where(episodes.loc[m, "sex"] == "Mann", "Kvinne", "Mann")
    episodes.loc[m, "birth_year"] = episodes.loc[m, "birth_year"] - 17
    episodes.loc[m, "age_at_admission"] = episodes.loc[m, "age_at_admission"] + 17
    episodes.loc[m, "diagnosis_group"] = "other"
    episodes.loc[m, "work_ability"] = 0
    write_parquet(episodes, target / "episodes.parquet")

    outcomes = read_parquet(target / "outcomes.parquet")
    m = mine(outcomes)
    outcomes.loc[m, "rtw_event"] = 2
    outcomes.loc[m, "rtw_time"] = 40
    outcomes.loc[m, "rtw_12m"] = False
    outcomes.loc[m, "hrb_days_12m"] = 365
    outcomes.loc[m, "employed_12m"] = False
    outcomes.loc[m, "diagnosis_group"] = "other"
    for column in ("state_3m", "state_6m", "state_12m"):
        outcomes.loc[m, column] = "disability_full"
    write_parquet(outcomes, target / "outcomes.parquet")

    states = read_parquet(target / "daily_states.parquet")
    states.loc[mine(states) & (states["day"] > 0), "state"] = "disability_full"
    write_parquet(states, target / "daily_states.parquet")

    responses = read_parquet(target / "responses.parquet")
    responses.loc[mine(responses), "work_ability"] = 10
    write_parquet(responses, target / "responses.parquet")


@pytest.mark.slow
def test_unit_with_three_episodes_cannot_be_recovered(
    tmp_path, demo_derived, demo_delivery, demo_params, config_for, monkeypatch
):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # fixed render time
    derived = tmp_path / "derived"  # one path: the provenance appendix prints it
    pick = _make_tiny_unit(demo_derived, derived)
    other = read_parquet(derived / "outcomes.parquet")
    other_unit = other["institution_id"].astype(str).value_counts().index[0]
    config = config_for(demo_delivery, derived, demo_params.data_end)
    rendered = {}
    for label in ("a", "b"):
        if label == "b":
            _perturb(derived, pick)
        out = tmp_path / f"out_{label}"
        render_reports(config, derived, YEAR, institution=TINY, out_dir=out, engine="fallback")
        render_reports(
            config,
            derived,
            YEAR,
            institution=other_unit,
            national=False,
            out_dir=out,
            engine="fallback",
        )
        rendered[label] = out / str(YEAR)

    for name in ("national.html", f"{TINY}.html", f"{other_unit}.html", "indicators.csv"):
        a = (rendered["a"] / name).read_bytes()
        b = (rendered["b"] / name).read_bytes()
        assert a == b, f"{name} depends on the data of the unit with 3 episodes"

    # Its values are empty in indicators.csv, for every indicator.
    table = pd.read_csv(rendered["a"] / "indicators.csv", dtype={"orgnr": str})
    own = table[(table["orgnr"] == TINY) & (table["unit"] == "institution")]
    assert len(own) == table["ind_id"].nunique()
    assert own[["numerator", "denominator", "value", "lower", "upper"]].isna().all().all()

    # Its own edition says so, and shows no distribution of its own.
    text = (rendered["a"] / f"{TINY}.html").read_text(encoding="utf-8")
    assert "Egen enhet, n" not in text
    assert "tabellen vises ikke av personvernhensyn" in text
