"""The attacks of issue 10 ("What an attacker recovered") on single report tables.

Each test builds the case on the session's demo build (changing a few facts
of the derived tables), reads the published numbers as an output checker
would, and tries the attack the issue describes: a share with its base, a
statistic of one patient, a total minus the shown groups, two n's of the
same cohort. Each recovered a count of 1–4 persons before the fix.
"""

from __future__ import annotations

import dataclasses
import html
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from arr_stats.config import DisclosureParams
from arr_stats.derive.load import load_derived
from arr_stats.report import context, tables


@pytest.fixture
def demo_context(demo_derived, demo_delivery, demo_params, config_for):
    """``demo_context(year, institution=None, **tables)``: an edition of the demo build,
    with some derived tables replaced."""
    config = config_for(demo_delivery, demo_derived, demo_params.data_end)
    derived = load_derived(config, demo_derived)

    def make(year: int, institution: str | None = None, **replaced) -> context.ReportContext:
        changed = dataclasses.replace(derived, **replaced)
        name = changed.institution_names().get(institution) if institution else None
        return context.ReportContext(changed, year, institution, name, "fixed")

    return make


def _cells(table_html: str) -> list[list[str]]:
    """The rows of an HTML table as lists of cell texts (header row included)."""
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table_html, flags=re.S)
    return [
        [html.unescape(c).strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)]
        for row in rows
    ]


def _frame(table_html: str) -> pd.DataFrame:
    rows = _cells(table_html)
    return pd.DataFrame(rows[1:], columns=rows[0])


def _number(text: str) -> float | None:
    """A printed Norwegian number ("1 234", "98,0 %"), or None when it is a label or hidden."""
    text = text.replace("\u202f", "").replace("\xa0", "").replace("%", "").strip()
    text = text.replace(",", ".").replace("−", "-")
    try:
        return float(text)
    except ValueError:
        return None


def test_linkage_share_with_its_base_does_not_give_back_a_small_unlinked_count(demo_context):
    # 196 of 200 episodes linked: "98,0 %" beside "200" gave back 4 unlinked.
    # Every person linked: 100 % of 150 tells no small count and is shown.
    linkage = pd.DataFrame(
        {
            "measure": ["episodes", "episodes_linked", "persons", "persons_matched"],
            "value": [200, 196, 150, 150],
        }
    )
    ctx = demo_context(2025, linkage=linkage)
    shown = _frame(tables.linkage_table(ctx).data)
    min_cell = ctx.config.disclosure.min_cell
    recovered = {}
    for _, row in shown.iterrows():
        share, base = _number(row["Andel"]), _number(row["Grunnlag"])
        if share is not None and base is not None:
            recovered[row["Mål"]] = base - round(share / 100 * base)
    assert recovered == {"Personer koblet til NAV-data": 0}
    assert all(not 1 <= v < min_cell for v in recovered.values())


def test_institution_form_of_a_unit_with_one_patient_shows_no_statistics(demo_context):
    # The form of a unit with 1 patient gave that patient's age as its mean
    # age; with 7 patients the count may be shown, the means not.
    ctx = demo_context(2025)
    forms = ctx.derived.institutions.copy()
    this = forms.index[forms["year"] == 2025]
    one, seven = this[0], this[1]
    forms.loc[one, ["n_patients", "mean_age", "waiting_days", "programme_weeks"]] = [
        1,
        47.3,
        12,
        3.5,
    ]
    forms.loc[seven, ["n_patients", "mean_age", "waiting_days", "programme_weeks"]] = [
        7,
        52.1,
        30,
        4.5,
    ]
    ctx = demo_context(2025, institutions=forms)
    shown = _frame(tables.institutions_table(ctx).data).set_index("Institusjon")
    params = ctx.config.disclosure
    for index, count in ((one, "<5"), (seven, "7")):
        row = shown.loc[str(forms.loc[index, "name"])]
        assert row["ARR-pasienter"] == count
        for column in ("Snittalder", "Ventetid (dager)", "Varighet (uker)"):
            assert _number(row[column]) is None, (count, column, row[column])
            assert row[column] == f"n < {params.min_denominator}"
    # a unit with enough patients still shows its form
    big = forms[(forms["year"] == 2025) & (forms["n_patients"] >= 10)].iloc[0]
    assert _number(shown.loc[str(big["name"]), "Snittalder"]) == pytest.approx(
        round(big["mean_age"], 1)
    )


def test_cumulative_incidence_table_n_column_and_total_do_not_give_back_a_small_group(
    demo_context,
):
    # All but 3 of the national cohort's "other" diagnosis group moved to
    # "mental": "other" has 3 persons, the only small group. Its n was shown "<5" beside the shown
    # groups' n, and the cohort's size (the table's total, arr_srtw's n in
    # indicators.csv) minus the shown n's gave back the 3.
    base = demo_context(2025)
    outcomes = base.derived.outcomes.copy()
    cohort = base.outcome_cohort()
    other = cohort.index[cohort["diagnosis_group"].astype(object) == "other"]
    assert len(other) > 3
    outcomes.loc[other[3:], "diagnosis_group"] = "mental"
    # and the unknown diagnoses (a second small group here) are set, so that
    # "other" is the only small group
    unknown = cohort.index[
        cohort["diagnosis_group"].isna() | (cohort["diagnosis_group"].astype(object) == "unknown")
    ]
    outcomes.loc[unknown, "diagnosis_group"] = "musculoskeletal"
    ctx = demo_context(2025, outcomes=outcomes)
    total = len(ctx.outcome_cohort())
    params = ctx.config.disclosure
    shown = _frame(tables.cumulative_incidence_table(ctx).data)
    groups = shown[shown["Diagnosegruppe"] != "Totalt"]
    sizes = [_number(v) for v in groups["n"]]
    hidden = [s is None for s in sizes]
    assert sum(hidden) != 1, "a single hidden n is the total minus the others"
    left = total - sum(s for s in sizes if s is not None)
    assert not 1 <= left < params.min_cell, f"total − shown n = {left}"
    assert left == 0 or left > sum(hidden), "each hidden group would be 1"
    # a group whose n is hidden shows no interval either (its width tells n)
    for _, row in groups[[s is None for s in sizes]].iterrows():
        assert all(_number(row[c].split(" (")[0]) is None for c in shown.columns[2:]), row
    totals = shown.loc[shown["Diagnosegruppe"] == "Totalt", "n"]
    assert totals.tolist() in ([str(total)], ["x"])


def _with_few_pairs(base: context.ReportContext, keep: int) -> tuple[pd.DataFrame, str]:
    """Responses with a T3 answer for every episode discharged Y − 1 with a T0 work
    ability (the session's small demo has few), but for one unit with ≥ 10 such
    episodes, which keeps ``keep``."""
    d = base.derived
    earlier = d.episodes[
        (d.episodes["discharge_year"] == 2024) & d.episodes["work_ability"].notna()
    ]
    unit = earlier["institution_id"].astype(str).value_counts().index[0]
    assert (earlier["institution_id"].astype(str) == unit).sum() >= 10
    mine = earlier[earlier["institution_id"].astype(str) == unit]
    answered = earlier.drop(index=mine.index[keep:])
    points = d.responses["point"]
    t3 = pd.DataFrame(
        {
            "episode_id": answered["episode_id"].to_numpy(),
            "point": pd.Categorical(["T3"] * len(answered), categories=points.cat.categories),
            "work_ability": pd.array(
                (answered["work_ability"].astype(float) + 1).clip(upper=10), dtype="Int64"
            ),
        }
    )
    others = d.responses[points.astype(str) != "T3"]
    return pd.concat([others, t3], ignore_index=True), unit


def test_work_ability_table_and_indicator_have_the_same_cohort(demo_context):
    # A unit with ≥ 10 episodes discharged Y − 1 but 3 paired answers: its
    # arr_wa_change is hidden and left out of the national value, but the
    # table pooled it: national n 359 in the table against 356 for the
    # indicator gave back the unit's 3.
    base = demo_context(2025)
    responses, unit = _with_few_pairs(base, keep=3)
    ctx = demo_context(2025, responses=responses)
    # the indicator rows as published (the year's protected publication)
    agg = tables.indicator_table(ctx)
    wa = agg[(agg["ind_id"] == "arr_wa_change") & (agg["year"] == 2025)]
    assert wa.loc[(wa["orgnr"] == unit) & (wa["unit"] == "institution"), "suppressed"].all()
    national_n = float(wa.loc[wa["unit"] == "national", "denominator"].iloc[0])

    shown = _frame(tables.work_ability_change_table(ctx).data).set_index("Enhet")
    assert _number(shown.loc[context.NATIONAL_LABEL, "n"]) == national_n

    # In the unit's own edition the own row is hidden, compared with the nation
    own = demo_context(2025, unit, responses=responses)
    mine = _frame(tables.work_ability_change_table(own).data).set_index("Enhet")
    assert mine.loc[context.OWN_LABEL, "n"] == "<5"
    assert _number(mine.loc[context.NATIONAL_LABEL, "n"]) == national_n
    # ... and in another unit's edition, the rest of the country is the
    # indicator's rest (the shown units but that one)
    other = next(u for u in wa.loc[wa["unit"] == "institution"].query("not suppressed")["orgnr"])
    theirs = _frame(
        tables.work_ability_change_table(demo_context(2025, other, responses=responses)).data
    ).set_index("Enhet")
    rest = wa[(wa["orgnr"] == other) & (wa["unit"] == "rest")]
    if bool(rest["suppressed"].iloc[0]):  # no other unit's row is published
        assert context.REST_LABEL not in theirs.index
    else:
        assert _number(theirs.loc[context.REST_LABEL, "n"]) == rest["denominator"].iloc[0]


NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("0[1-5]_*.ipynb"))


def _output_texts(path: Path) -> list[str]:
    """The committed text outputs of a notebook (plain text and Markdown)."""
    texts = []
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            for kind in ("text/plain", "text/markdown"):
                if kind in data:
                    texts.append("".join(data[kind]))
            if "text" in output:
                texts.append("".join(output["text"]))
    return texts


def test_notebook_counts_of_how_follow_up_ended_do_not_give_back_the_deaths(config_for):
    # Notebook 02 printed the episodes by how follow-up ended (888, 2819, 38,
    # "<5") beside the number of episodes (3748): 3748 − 888 − 2819 − 38 = 3
    # deaths. And notebook 03 printed the 38 disability events again.
    min_cell = DisclosureParams().min_cell
    texts = _output_texts(NOTEBOOKS[1])
    total = int(re.search(r"(\d+) linked, consenting episodes", "\n".join(texts)).group(1))
    table = next(t for t in texts if "Death first" in t and "Censored" in t)
    counts = {}
    for line in table.splitlines()[1:]:
        if line.startswith("follow-up ended by"):  # the index name's line
            continue
        label, value = line.rsplit(None, 1)
        if label.strip() != "total":
            counts[label.strip()] = value
    shown = {k: int(v) for k, v in counts.items() if v.isdigit()}
    hidden = [k for k in counts if k not in shown]
    assert len(counts) == 4
    assert len(hidden) != 1, "a single hidden category is the total minus the others"
    left = total - sum(shown.values())
    assert not 1 <= left < min_cell and (left == 0 or left > len(hidden)), left
    # No notebook prints a count of a hidden category on a line of its own:
    # every whole number on such a line, taken as that category's count,
    # leaves a count of the others that is not 1–4.
    for path in NOTEBOOKS:
        for text in _output_texts(path):
            for line in text.splitlines():
                for category in hidden:
                    if not line.strip().startswith(category):
                        continue
                    others = [c for c in hidden if c != category]
                    for token in re.findall(r"(?<![\d.])\d+(?![\d.])", line[len(category) + 1 :]):
                        rest = left - int(token)
                        assert not (others and 1 <= rest < min_cell), (path.name, line)


def test_work_status_table_does_not_give_back_the_few_who_left_follow_up(demo_context):
    # Those followed in the register at T1, T2 and T3 (days 0, 183, 365) are
    # nested: the drop from one n to the next is the number who left follow-up
    # in between (the issue: a total falling from 3 to 6 months = emigrations).
    # Here 3 persons leave between day 0 and day 183, and 20 more before day 365.
    base = demo_context(2025)
    linked = base.outcome_cohort()["episode_id"].tolist()
    assert len(linked) > 40
    days = {0: linked, 183: linked[3:], 365: linked[23:]}
    states = pd.concat(
        [
            pd.DataFrame({"episode_id": ids, "day": day, "state": "working"})
            for day, ids in days.items()
        ],
        ignore_index=True,
    )
    states["day"] = states["day"].astype("int16")
    states["state"] = pd.Categorical(
        states["state"], categories=base.derived.daily_states["state"].cat.categories
    )
    ctx = demo_context(2025, daily_states=states)
    shown = _frame(tables.work_status_table(ctx).data)
    followed = [_number(v) for v in shown["Fulgt i registeret, n"]]
    min_cell = ctx.config.disclosure.min_cell
    visible = [v for v in followed if v is not None]
    assert visible[0] == len(linked)
    for earlier, later in zip(visible, visible[1:], strict=False):
        assert not 0 < earlier - later < min_cell, (earlier, later)
    # the share on a hidden n is hidden too (share × n would give it back)
    share = shown.columns[-1]
    for value, text in zip(followed, shown[share], strict=True):
        if value is None:
            assert _number(text) is None
