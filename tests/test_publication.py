"""The year's linked count tables protected together, and the audit that proves it.

Hand-worked linear-programming cases for the audit; the attacks of issue 10
(national − the other units' cells = a unit's hidden small count) on the
status and participants tables, each shown to work on per-table protection
and to fail on the joint protection; the audit passing on a demo year and
failing on primary suppression alone.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from arr_stats.config import DEMO_CONFIG, DisclosureParams, load_config
from arr_stats.publication import disclosure, linked
from arr_stats.publication.audit import (
    DETERMINED,
    OK,
    SMALL_RANGE,
    SMALL_SHOWN,
    audit,
    concat_relations,
    proportion_relation,
    sum_relation,
)

PARAMS = DisclosureParams()
YEAR = 2025


# ------------------------------------------------------------------ hand-worked audits


def _two_by_two(hidden: set[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """a b | r1 ; c d | r2 ; c1 c2 | T with a=3, b=7, c=6, d=8."""
    values = {"a": 3, "b": 7, "c": 6, "d": 8, "r1": 10, "r2": 14, "c1": 9, "c2": 15, "T": 24}
    cells = pd.DataFrame(
        {
            "cell": list(values),
            "table": "t",
            "value": list(values.values()),
            "shown": [c not in hidden for c in values],
        }
    )
    relations = concat_relations(
        [
            sum_relation("row1", "r1", ["a", "b"]),
            sum_relation("row2", "r2", ["c", "d"]),
            sum_relation("col1", "c1", ["a", "c"]),
            sum_relation("col2", "c2", ["b", "d"]),
            sum_relation("rowT", "T", ["r1", "r2"]),
            sum_relation("colT", "T", ["c1", "c2"]),
        ]
    )
    return cells, relations


def _ranges(result) -> dict[str, tuple[float, float, str]]:
    return {r.cell: (r.low, r.high, r.reason) for r in result.table.itertuples()}


@pytest.mark.parametrize("exact", [True, False])
def test_one_hidden_cell_of_a_table_with_margins_is_determined(exact):
    cells, relations = _two_by_two({"a"})
    result = audit(cells, relations, PARAMS, exact=exact)
    assert not result.passed
    assert _ranges(result)["a"] == (3.0, 3.0, DETERMINED)  # a = r1 − b = 10 − 7


def test_two_hidden_cells_of_a_row_are_given_back_by_their_columns():
    cells, relations = _two_by_two({"a", "b"})
    result = audit(cells, relations, PARAMS)
    assert _ranges(result)["a"][2] == DETERMINED  # a = c1 − c = 9 − 6
    assert _ranges(result)["b"][2] == DETERMINED  # b = c2 − d = 15 − 8


def test_four_hidden_inner_cells_have_the_hand_worked_ranges():
    # a free; b = 10 − a ≥ 1, c = 9 − a ≥ 1, d = 14 − c = 5 + a:
    # a ∈ [1, 8], b ∈ [2, 9], c ∈ [1, 8], d ∈ [6, 13]
    cells, relations = _two_by_two({"a", "b", "c", "d"})
    result = audit(cells, relations, PARAMS)
    assert result.passed
    got = {k: v[:2] for k, v in _ranges(result).items()}
    assert got == {"a": (1, 8), "b": (2, 9), "c": (1, 8), "d": (6, 13)}


def test_two_hidden_cells_in_one_line_are_not_determined_unless_their_sum_is_small():
    # one line: total = x + y + z, z shown; x and y hidden
    def line(x: int, y: int):
        cells = pd.DataFrame(
            {
                "cell": ["x", "y", "z", "T"],
                "table": "t",
                "value": [x, y, 20, x + y + 20],
                "shown": [False, False, True, True],
            }
        )
        return audit(cells, sum_relation("line", "T", ["x", "y", "z"]), PARAMS)

    wide = _ranges(line(3, 7))  # x + y = 10: x ∈ [1, 9]
    assert wide["x"] == (1.0, 9.0, OK)
    narrow = _ranges(line(2, 3))  # x + y = 5: x ∈ [1, 4], a small count
    assert narrow["x"] == (1.0, 4.0, SMALL_RANGE)
    ones = _ranges(line(1, 1))  # x + y = 2 and each ≥ 1: both are 1
    assert ones["x"] == (1.0, 1.0, DETERMINED)


def test_a_shown_small_count_fails():
    cells, relations = _two_by_two(set())
    cells.loc[cells["cell"] == "a", "value"] = 3
    result = audit(cells, relations, PARAMS)
    assert result.failures["reason"].tolist() == [SMALL_SHOWN]


def test_a_proportion_with_its_base_gives_the_count_back():
    # count k hidden, base n = 12 shown, share 0.25 printed: k = 3
    cells = pd.DataFrame(
        {"cell": ["k", "n"], "table": "t", "value": [3, 12], "shown": [False, True]}
    )
    result = audit(cells, proportion_relation("share", "k", "n", 3 / 12), PARAMS)
    assert _ranges(result)["k"] == (3.0, 3.0, DETERMINED)


def test_whole_numbers_narrow_what_the_linear_programme_allows():
    # 2x + 2y = 6 with x, y ≥ 1 hidden and a shown y' = y: the LP alone allows
    # x ∈ [1, 2]; y' = y is not known here, so x ∈ {1, 2}: not determined;
    # with 2x + 4y = 8, x = 2 and y = 1 is the only whole solution
    cells = pd.DataFrame(
        {"cell": ["x", "y", "c"], "table": "t", "value": [2, 1, 8], "shown": [False, False, True]}
    )
    relations = pd.DataFrame(
        {
            "relation": "r",
            "cell": ["x", "y", "c"],
            "coefficient": [2.0, 4.0, -1.0],
            "kind": "line",
        }
    )
    result = audit(cells, relations, PARAMS)
    # LP: x = 4 − 2y, y ≥ 1, x ≥ 1 → y ∈ [1, 1.5], x ∈ [1, 2]; whole numbers: y = 1, x = 2
    assert _ranges(result)["x"] == (2.0, 2.0, DETERMINED)


# ------------------------------------------------------------------ the attacks


def _config():
    return load_config(DEMO_CONFIG)


def _outcome_cohort() -> pd.DataFrame:
    """Three units of 20 episodes: unit A has 1 death, B 5, C none (at every month)."""
    rows = []
    for unit, states in (
        ("A", ["dead"] * 1 + ["working"] * 12 + ["aap"] * 7),
        ("B", ["dead"] * 5 + ["working"] * 8 + ["aap"] * 7),
        ("C", ["working"] * 11 + ["aap"] * 9),
    ):
        for i, state in enumerate(states):
            rows.append(
                {
                    "episode_id": f"{unit}{i}",
                    "institution_id": unit,
                    "discharge_year": YEAR - 1,
                    "state_3m": state,
                    "state_6m": state,
                    "state_12m": state,
                }
            )
    return pd.DataFrame(rows)


def _process_cohort() -> pd.DataFrame:
    """Three units of 20 episodes: unit A has 1 woman, B 6, C none."""
    rows = []
    for unit, women in (("A", 1), ("B", 6), ("C", 0)):
        for i in range(20):
            rows.append(
                {
                    "episode_id": f"p{unit}{i}",
                    "institution_id": unit,
                    "discharge_year": YEAR,
                    "sex": "Kvinne" if i < women else "Mann",
                }
            )
    return pd.DataFrame(rows)


def _episodes(process: pd.DataFrame, outcome: pd.DataFrame) -> pd.DataFrame:
    return pd.concat(
        [
            process[["episode_id", "institution_id", "discharge_year"]],
            outcome[["episode_id", "institution_id", "discharge_year"]],
        ],
        ignore_index=True,
    )


def _publication() -> linked.YearPublication:
    process, outcome = _process_cohort(), _outcome_cohort()
    return linked.year_publication(
        _episodes(process, outcome), process, outcome, _config(), YEAR, ["sex"], 5, "Ukjent"
    )


def _old_status_tables(outcome: pd.DataFrame) -> dict[str, disclosure.SuppressedTable]:
    """Per-table protection (the code before issue 10): every edition's table on its own."""
    order = list(_config().outcomes.state_order)

    def table(rows):
        counts = pd.DataFrame(
            {
                f"{m} mnd": rows[f"state_{m}m"].value_counts().reindex(order, fill_value=0)
                for m in (3, 6, 12)
            }
        )
        return disclosure.suppress_with_margins(counts, PARAMS)

    out = {"national": table(outcome)}
    for unit, rows in outcome.groupby("institution_id"):
        out[unit] = table(rows)
    return out


def _difference_attack(shown: dict[str, tuple[bool, int]], target: str) -> int | None:
    """national − the other units' cells, when all of them are shown (else None)."""
    others = [u for u in shown if u not in ("national", target)]
    if not shown["national"][0] or not all(shown[u][0] for u in others):
        return None
    return shown["national"][1] - sum(shown[u][1] for u in others)


def test_status_attack_recovers_a_units_single_death_from_per_table_protection():
    old = _old_status_tables(_outcome_cohort())
    cells = {
        unit: (not bool(t.mask.loc["dead", "3 mnd"]), int(t.counts.loc["dead", "3 mnd"]))
        for unit, t in old.items()
    }
    assert not cells["A"][0]  # A's death is hidden in its own edition …
    assert _difference_attack(cells, "A") == 1  # … and the national edition gives it back


def test_status_attack_recovers_nothing_from_the_joint_publication():
    pub = _publication()
    assert pub.audit.passed
    cells = {}
    for unit in ("national", "A", "B", "C"):
        key = linked.NATIONAL if unit == "national" else linked.unit_key(unit)
        t = pub.grid(linked.STATUS_TABLE, [(key, "")])
        cells[unit] = (not bool(t.mask.loc["dead", "3 mnd"]), int(t.counts.loc["dead", "3 mnd"]))
    assert not cells["A"][0]
    assert _difference_attack(cells, "A") is None
    # and nothing else either: the audit bounds every hidden cell away from 1–4
    hidden = pub.audit.table
    a_death = hidden[hidden["cell"] == linked.cell_id("status", "unit:A", "dead", "3 mnd")]
    assert a_death["high"].iloc[0] >= PARAMS.min_cell


def test_participants_attack_recovers_a_units_single_woman_from_per_table_protection():
    process = _process_cohort()

    def table(rows):
        counts = rows["sex"].value_counts().reindex(["Kvinne", "Mann"]).fillna(0).to_frame("n")
        return disclosure.suppress_with_margins(counts.astype(int), PARAMS)

    old = {"national": table(process)}
    for unit, rows in process.groupby("institution_id"):
        old[unit] = table(rows)
    cells = {
        u: (not bool(t.mask.loc["Kvinne", "n"]), int(t.counts.loc["Kvinne", "n"]))
        for u, t in old.items()
    }
    assert not cells["A"][0]
    assert _difference_attack(cells, "A") == 1


def test_participants_attack_recovers_nothing_from_the_joint_publication():
    pub = _publication()
    table = linked.participants_table_name("sex")
    cells = {}
    for unit in ("national", "A", "B", "C"):
        key = linked.NATIONAL if unit == "national" else linked.unit_key(unit)
        t = pub.grid(table, [(key, "n")])
        cells[unit] = (not bool(t.mask.loc["Kvinne", "n"]), int(t.counts.loc["Kvinne", "n"]))
    assert not cells["A"][0]
    assert _difference_attack(cells, "A") is None
    # A's rest of the country (national − A) would give it back too: it is hidden
    rest = pub.grid(table, [(linked.rest_key("A"), "n")])
    assert bool(rest.mask.loc["Kvinne", "n"])


def test_every_cell_of_the_joint_publication_has_a_status_and_a_rule():
    pub = _publication()
    assert set(pub.cells["status"]) <= {linked.SHOWN, linked.PRIMARY, linked.SECONDARY}
    assert (pub.cells.loc[pub.cells["status"] != linked.SHOWN, "rule"] != "").all()
    primary = pub.cells[pub.cells["status"] == linked.PRIMARY]
    assert ((primary["value"] >= 1) & (primary["value"] < PARAMS.min_cell)).all()
    assert not pub.cells.loc[pub.cells["shown"], "value"].between(1, PARAMS.min_cell - 1).any()


def test_written_publication_holds_no_hidden_value(tmp_path):
    pub = _publication()
    written = linked.write_publication(pub, tmp_path / "publication" / str(YEAR))
    assert sorted(p.name for p in written) == sorted(
        [f"{t}.{x}" for t in ("cells", "relations", "audit") for x in ("csv", "parquet")]
        + [linked.RECORD_FILE]
    )
    cells = pd.read_csv(tmp_path / "publication" / str(YEAR) / "cells.csv")
    hidden = cells["status"] != linked.SHOWN
    assert hidden.any() and cells.loc[hidden, "value"].isna().all()
    assert cells.loc[~hidden, "value"].notna().all()


# ------------------------------------------------------------------ the demo year


@pytest.fixture(scope="module")
def demo_context(demo_derived):
    from arr_stats.report.context import open_report

    return open_report(YEAR, None, demo_derived)


def test_audit_passes_on_the_demo_years_linked_tables(demo_context):
    from arr_stats.report import tables

    pub = tables._compute_publication(demo_context)  # from the data, not a written copy
    assert pub.audit.passed
    assert (pub.cells["status"] == linked.PRIMARY).any()
    # computed (or read) once per loaded build: every table reads the same object
    assert tables.year_publication(demo_context) is tables.year_publication(demo_context)


def test_audit_fails_on_the_demo_year_with_primary_suppression_only(demo_context):
    from arr_stats.report import tables

    # computed from the data: a publication an earlier test's render wrote into
    # the build holds no hidden values (they never leave the computation)
    pub = tables._compute_publication(demo_context)
    primary_only = dataclasses.replace(PARAMS, complementary_suppression=False)
    cells = pub.cells.drop(columns=["shown", "status", "rule"])
    protected, result = linked.protect(cells, pub.relations, primary_only)
    assert (protected["status"] == linked.PRIMARY).sum() == (
        pub.cells["status"] == linked.PRIMARY
    ).sum()
    assert not result.passed
    assert set(result.failures["reason"]) <= {DETERMINED, SMALL_RANGE}
    assert np.isfinite(result.failures["high"]).all()


def test_editions_read_the_written_publication_and_show_the_same_cells(demo_context, tmp_path):
    from arr_stats.report import tables
    from arr_stats.report.context import ReportContext

    computed = tables.year_publication(demo_context)
    folder = tmp_path / "publication"
    linked.write_publication(computed, folder, "same inputs")
    assert linked.read_publication(folder, "other inputs") is None
    saved = linked.read_publication(folder, "same inputs")
    assert saved is not None
    hidden_values = saved.cells.loc[~saved.cells["shown"], "value"]
    assert (hidden_values == 0).all()  # the hidden values never left the computation
    units = [(linked.NATIONAL, "")]
    for table in (linked.STATUS_TABLE, linked.EPISODES_TABLE):
        a, b = computed.grid(table, units), saved.grid(table, units)
        pd.testing.assert_frame_equal(a.display, b.display)
        pd.testing.assert_frame_equal(a.mask, b.mask)
    # the report's tables print the same from either
    fresh = ReportContext(dataclasses.replace(demo_context.derived), YEAR, None, None, "")
    assert linked.cached(fresh.derived, (YEAR, fresh.config.disclosure), lambda: saved) is saved
    assert (
        tables.participants_table(fresh, "education").data
        == tables.participants_table(demo_context, "education").data
    )


def test_registered_episodes_minus_participants_n_gives_back_a_small_units_episode():
    # unit D registered 1 episode in Y: too small to report, so it is in the
    # table of registered episodes but not in the participants tables
    process, outcome = _process_cohort(), _outcome_cohort()
    tiny = pd.DataFrame({"episode_id": ["D0"], "institution_id": ["D"], "discharge_year": [YEAR]})
    episodes = pd.concat([_episodes(process, outcome), tiny], ignore_index=True)
    n_national = len(process)

    # per-table protection: the registered-episodes table on its own
    counts = pd.crosstab(episodes["institution_id"], episodes["discharge_year"])
    old = disclosure.suppress_with_margins(counts, PARAMS)
    assert bool(old.mask.loc["D", YEAR])
    assert not bool(old.mask.loc["Totalt", YEAR])
    assert int(old.counts.loc["Totalt", YEAR]) - n_national == 1  # D's episode, read off

    pub = linked.year_publication(episodes, process, outcome, _config(), YEAR, ["sex"], 5, "Ukjent")
    assert pub.audit.passed
    registered = pub.grid(linked.EPISODES_TABLE, [(linked.NATIONAL, "")])
    national_n = pub.grid(linked.participants_table_name("sex"), [(linked.NATIONAL, "n")])
    assert bool(registered.mask.loc["D", str(YEAR)])
    # the difference cannot be taken: one of the two numbers is hidden
    assert bool(registered.mask.loc[linked.TOTAL, str(YEAR)]) or bool(
        national_n.mask.loc[linked.TOTAL, "n"]
    )


def test_the_written_publication_is_the_same_bytes_every_time(tmp_path):
    for run in ("a", "b"):
        linked.write_publication(_publication(), tmp_path / run, "inputs")
    for name in ("cells", "relations", "audit"):
        for ext in ("csv", "parquet"):
            a = (tmp_path / "a" / f"{name}.{ext}").read_bytes()
            assert a == (tmp_path / "b" / f"{name}.{ext}").read_bytes(), f"{name}.{ext}"


def test_report_writes_the_audit_and_editions_read_it_back(
    tmp_path, demo_derived, demo_delivery, demo_params, config_for
):
    import shutil

    from arr_stats.report import tables
    from arr_stats.report.context import open_report

    derived = tmp_path / "derived"
    shutil.copytree(demo_derived, derived)
    config = config_for(demo_delivery, derived, demo_params.data_end)
    written = tables.write_year_publication(config, derived, YEAR)
    folder = derived / "publication" / str(YEAR)
    assert all(p.parent == folder for p in written)
    written_audit = pd.read_csv(folder / "audit.csv")
    assert (written_audit["reason"] == OK).all()
    cells = pd.read_csv(folder / "cells.csv").set_index("cell")
    status = cells.loc[written_audit["cell"], "status"]
    rule = cells.loc[written_audit["cell"], "rule"].fillna("")
    # latent, or withheld with a hidden row though derivable: checked for being small only
    latent = (status.eq(linked.LATENT) | rule.str.contains("derivable")).to_numpy()
    # a protected cell: two values proven possible, one of them min_cell or more
    hidden = written_audit[~latent]
    assert (hidden["high"] >= PARAMS.min_cell).all() and (hidden["high"] > hidden["low"]).all()
    # a latent count: it may be 0, or min_cell or more
    rest = written_audit[latent]
    assert len(rest) and ((rest["low"] <= 0) | (rest["high"] >= PARAMS.min_cell)).all()
    # an edition opened on the same build reads it (hidden values are not in it)
    pub = tables.year_publication(open_report(YEAR, None, derived))
    assert (pub.cells.loc[~pub.cells["shown"], "value"] == 0).all()
