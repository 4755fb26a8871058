"""The results every edition of a year shares (issue 10, item 7): computed once, the same numbers.

``arr-stats report`` computes them once (report/year_results.py) and every
edition reads them; an edition without them computes the same functions
itself. These tests hold the two ways against each other and against the
computation they replaced (the daily states of the edition's own rows), show
that an edition really reads the saved results and only when they were made
from the same build and settings, and render editions both ways, in one
kernel after another and each in a fresh kernel, byte for byte.
"""

from __future__ import annotations

import dataclasses
import json
import pickle
import shutil
from pathlib import Path

import pandas as pd
import pytest

from arr_stats import indicators, stats
from arr_stats.config import config_to_dict
from arr_stats.report import context, editions, figures, render, tables, year_results
from arr_stats.report.context import ReportContext, _unit_groups
from arr_stats.report.web_figures import figure_bytes


@pytest.fixture(scope="module")
def demo_config(config_for, demo_delivery, demo_derived, demo_params):
    return config_for(demo_delivery, demo_derived, demo_params.data_end)


@pytest.fixture
def build(tmp_path: Path, demo_derived: Path) -> Path:
    """A copy of the session's demo build (its tables only: no publication, no shared results)."""
    copy = tmp_path / "derived"
    copy.mkdir()
    for path in demo_derived.iterdir():
        if path.is_file():
            shutil.copy2(path, copy / path.name)
    return copy


def _contexts(build: Path, config, year: int) -> dict[str, tuple[ReportContext, ReportContext]]:
    """Per edition (national, one institution): a context reading the saved results, one not."""
    planned = editions.plan_editions(build, year, all_institutions=True)
    out = {}
    for edition in (planned[0], planned[1]):
        saved = context.open_report(year, edition.institution, build, config_json(config), "x")
        # the same tables, but not as read from the folder: nothing saved is taken for them
        fresh = ReportContext(
            dataclasses.replace(saved.derived),
            year,
            edition.institution,
            saved.institution_name,
            "x",
        )
        assert saved.derived.digest and not fresh.derived.digest
        out[edition.stem] = (saved, fresh)
    return out


def config_json(config) -> str:
    """The configuration as an edition is given it (``arr-stats report``'s parameter)."""
    return json.dumps(config_to_dict(config), sort_keys=True, ensure_ascii=False)


@pytest.mark.slow
def test_editions_read_the_saved_results_and_they_are_what_an_edition_computes(
    build, demo_config, demo_params
):
    year = demo_params.years[1]
    year_results.write_year_results(demo_config, build, year)
    for stem, (saved, fresh) in _contexts(build, demo_config, year).items():
        names = set(year_results.shared_results(saved))
        assert {"indicators", "state_counts", "casemix:arr_rtw12"} <= names
        # the saved results are read (every one of them) ...
        assert set(year_results._saved(saved)) == names
        assert year_results._saved(fresh) == {}
        # ... and every section that reads them shows what the edition computes itself
        pd.testing.assert_frame_equal(tables.indicator_table(saved), tables.indicator_table(fresh))
        agg = tables.indicator_table(fresh)
        sections = [
            lambda c, agg=agg: tables.summary_table(agg, c),
            tables.work_status_table,
            lambda c: tables.casemix_table(c, "arr_rtw12"),
            lambda c: tables.casemix_ratios_table(c, "arr_srtw"),
        ]
        for section in sections:
            assert section(saved).data == section(fresh).data, stem
        for draw in (
            figures.state_occupation_figure,
            lambda c: figures.casemix_funnel_figure(c, "arr_rtw12"),
        ):
            assert figure_bytes(draw(saved), "png") == figure_bytes(draw(fresh), "png"), stem
        assert saved.shared.keys() >= {"indicators", "state_counts", "register_counts"}


@pytest.mark.slow
def test_pooled_unit_counts_are_the_daily_states_of_the_editions_own_rows(
    build, demo_config, demo_params
):
    # The computation the shared counts replaced: each edition's daily states
    # grouped by its own report units, then the states at T1-T3 of its cohort.
    year = demo_params.years[1]
    for saved, _ in _contexts(build, demo_config, year).values():
        cohort = saved.outcome_cohort()
        groups = _unit_groups(saved, cohort)
        states = saved.derived.daily_states
        direct = stats.state_occupation(
            states[states["episode_id"].isin(cohort["episode_id"])],
            groups,
            by="report_unit",
            last_day=saved.config.outcomes.followup_days,
        )
        units = year_results.unit_state_counts(saved)
        pooled = dict(zip(groups["institution_id"].astype(str), groups["report_unit"], strict=True))
        via_units = stats.occupation_shares(stats.pool_state_counts(units, pooled))
        pd.testing.assert_frame_equal(via_units, direct, check_exact=True)
        assert len(direct["group"].unique()) == (1 if saved.is_national else 2)

        register = year_results.register_counts(saved)
        own = saved.own(
            saved.reportable(saved.derived.episodes.query(f"discharge_year == {year - 1}"))
        )
        mine = register[register["unit"].isin(set(own["institution_id"].astype(str)))]
        for day in sorted(set(register["day"])):
            rows = states[states["episode_id"].isin(own["episode_id"]) & (states["day"] == day)]
            on_day = mine[mine["day"] == day]
            assert on_day["observed"].sum() == rows["state"].notna().sum() > 0
            assert on_day["in_state"].sum() == (rows["state"].astype(object) == "working").sum()


@pytest.mark.slow
def test_saved_results_are_read_only_for_the_build_and_settings_that_made_them(
    build, demo_config, demo_params
):
    year = demo_params.years[1]
    year_results.write_year_results(demo_config, build, year)
    folder = year_results.results_folder(build, year)
    # Tamper with a saved number: an edition that reads the folder shows it ...
    with (folder / year_results.RESULTS_FILE).open("rb") as fh:
        results = pickle.load(fh)
    agg = results["indicators"]
    shown = (agg["year"] == year) & (agg["unit"] == indicators.UNIT_NATIONAL) & ~agg["suppressed"]
    ind_id = agg.loc[shown, "ind_id"].iloc[0]
    agg.loc[shown & (agg["ind_id"] == ind_id), "value"] = 123.0
    with (folder / year_results.RESULTS_FILE).open("wb") as fh:
        pickle.dump(results, fh)
    year_results._READ.clear()

    def national_value(config) -> float:
        agg = tables.indicator_table(
            context.open_report(year, None, build, config_json(config), "x")
        )
        national = agg[(agg["year"] == year) & (agg["unit"] == indicators.UNIT_NATIONAL)]
        return float(national.set_index("ind_id").loc[ind_id, "value"])

    assert national_value(demo_config) == 123.0
    # ... but not with other disclosure settings ...
    other = dataclasses.replace(
        demo_config, disclosure=dataclasses.replace(demo_config.disclosure, min_cell=6)
    )
    assert 0 <= national_value(other) != 123.0
    # ... nor once the build's files changed (here build.json: the same record, other bytes)
    record = build / "build.json"
    record.write_text(json.dumps(json.loads(record.read_text()), indent=1), encoding="utf-8")
    assert 0 <= national_value(demo_config) != 123.0


@pytest.mark.slow
def test_an_edition_rendered_from_the_shared_results_in_a_used_kernel_is_the_fresh_kernels_edition(
    build, demo_config, demo_params, tmp_path
):
    """Byte for byte: HTML, web figures (PNG, SVG) and their alt texts."""
    from arr_stats.report import fallback

    year = demo_params.years[1]
    planned = editions.plan_editions(build, year, all_institutions=True)
    chosen = [planned[0], planned[1]]  # national, then an institution

    def params_of(out: Path):
        def of(edition: editions.Edition) -> dict:
            params = editions.document_parameters(
                edition, demo_config, build, "2026-01-01 00:00 UTC"
            )
            return {**params, "figures_dir": str(render.web_figures_dir(out, edition))}

        return of

    tables.write_year_publication(demo_config, build, year)  # both read the same publication
    # each edition in a fresh kernel, computing the shared results itself
    alone, shared = tmp_path / "alone", tmp_path / "shared"
    alone.mkdir()
    shared.mkdir()
    for edition in chosen:
        fallback.render_fallback_editions([edition], params_of(alone), alone, workers=1)
    assert not year_results.results_folder(build, year).exists()
    # one kernel: it computes the shared results, then renders the national
    # edition and, after a reset, the institution's, both reading them
    first = params_of(shared)(chosen[0])
    fallback.render_fallback_editions(
        chosen,
        params_of(shared),
        shared,
        workers=1,
        shared=year_results.kernel_code(year, first["derived_dir"], first["config_json"]),
    )
    assert (year_results.results_folder(build, year) / year_results.RECORD_FILE).is_file()
    files = sorted(p.relative_to(alone) for p in alone.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(shared) for p in shared.rglob("*") if p.is_file())
    assert len([f for f in files if f.suffix == ".png"]) >= 2 * 10
    for name in files:
        assert (alone / name).read_bytes() == (shared / name).read_bytes(), name
