"""The results-portal uploads pass the portal's own upload checks; yesterday's single file did not.

SKDE's results portal (imongr, https://github.com/mong/imongr) checks an
uploaded CSV with ``check_upload`` (``R/upload.R``), which runs every check
named under ``upload: check:`` in ``inst/imongr.yml``. Each ``check_*``
function below re-implements one of them from that source (commit 5233909,
"Oppdater til imongr-base-r:4.4.0"): same inputs, same rule, returning
``(fail, report)`` as the R functions do. The portal's database (registered
organisations, the registry's indicators and their types) is replaced by what
the registry would register there: its institutions, and the indicator types
of :data:`arr_stats.report.upload.PORTAL_TYPE`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from arr_stats import indicators
from arr_stats.derive.load import load_derived
from arr_stats.errors import ArrStatsError
from arr_stats.report import upload

# ---------------------------------------------------------------- imongr.yml, as needed here

#: ``upload: file: vars`` – the columns of an upload, no more, no fewer.
UPLOAD_VARS = ("context", "year", "orgnr", "ind_id", "var", "denominator")
#: ``upload: file: vals: context``.
CONTEXTS = ("caregiver", "resident")
#: ``var: fraction: type`` – the indicator types summed as fractions.
FRACTION_TYPES = ("andel", "dg_andel", "dg")
#: ``indicator: types`` – every type an indicator may have.
INDICATOR_TYPES = ("andel", "beregnet_andel", "antall", "gjennomsnitt", "median", "dg_andel")


# ---------------------------------------------------------------- R/upload.R and R/misc.R


def csv_to_df(path: Path) -> pd.DataFrame:
    """``csv_to_df``: ``read.csv`` with a header; ``denominator`` = 1 when the file has none."""
    df = pd.read_csv(path, sep=",", decimal=".", encoding="utf-8", keep_default_na=True)
    if "denominator" not in df.columns:
        df["denominator"] = 1
    return df


def natural(values: pd.Series, tolerance: float = np.finfo(float).eps ** 0.5) -> np.ndarray:
    """``natural`` (R/misc.R): numeric, no NA, ≥ 0, whole within ``tolerance``."""
    if values.isna().any() or not pd.api.types.is_numeric_dtype(values):
        return np.array([False])
    if (values < 0).any():
        return np.array([False])
    return (values - values.round()).abs().to_numpy() < tolerance


def _is_fraction(ind: pd.DataFrame, ids) -> pd.DataFrame:
    """``indicator_is_fraction(return_ind = TRUE)``: the indicators of ``ids`` and whether each is a fraction."""
    rows = ind[ind["id"].isin(set(ids))]
    return pd.DataFrame({"ind": rows["id"], "is_fraction": rows["type"].isin(FRACTION_TYPES)})


def _fraction_rows(df: pd.DataFrame, ind: pd.DataFrame) -> pd.DataFrame:
    """``filter_fraction_indicator``: the rows of fraction indicators."""
    frac = _is_fraction(ind, df["ind_id"].unique())
    keep = set(frac.loc[frac["is_fraction"], "ind"])
    return df[df["ind_id"].isin(keep)]


def check_mixing_ind(df, ind, orgs):
    """``check_mixing_ind``: all fractions or none ("upload cannot contain a mix")."""
    frac = _is_fraction(ind, df["ind_id"].unique())
    if frac["is_fraction"].all() or not frac["is_fraction"].any():
        return False, ""
    return True, ", ".join(frac.loc[~frac["is_fraction"], "ind"])


def check_missing_var(df, ind, orgs):
    """``check_missing_var``: every column of ``upload.file.vars`` is there."""
    report = [v for v in UPLOAD_VARS if v not in df.columns]
    return bool(report), report


def check_invalid_var(df, ind, orgs):
    """``check_invalid_var``: no column outside ``upload.file.vars``."""
    report = [c for c in df.columns if c not in UPLOAD_VARS]
    return bool(report), report


def check_invalid_context(df, ind, orgs):
    """``check_invalid_context``: ``context`` only caregiver or resident."""
    if "context" not in df.columns:
        return True, "check_empty"
    report = sorted(set(df["context"].astype(str)) - set(CONTEXTS))
    return bool(report), report


def check_invalid_org(df, ind, orgs):
    """``check_invalid_org``: every ``orgnr`` a registered organisation."""
    if "orgnr" not in df.columns:
        return True, "check_empty"
    report = sorted(set(df["orgnr"].astype(str)) - set(orgs["orgnr"].astype(str)))
    return bool(report), report


def check_invalid_ind(df, ind, orgs):
    """``check_invalid_ind``: every ``ind_id`` one of the registry's indicators."""
    if "ind_id" not in df.columns:
        return True, "check_empty"
    report = sorted(set(df["ind_id"]) - set(ind["id"]))
    return bool(report), report


def check_numeric_var(df, ind, orgs):
    """``check_numeric_var``: ``var`` is numeric."""
    if "var" not in df.columns:
        return True, "check_empty"
    return not pd.api.types.is_numeric_dtype(df["var"]), ""


def check_natural_var(df, ind, orgs):
    """``check_natural_var``: ``var`` of fraction indicators is a natural number (0 included)."""
    if not (
        "var" in df.columns and pd.api.types.is_numeric_dtype(df["var"]) and "ind_id" in df.columns
    ):
        return True, "check_impossible"
    rows = _fraction_rows(df, ind)
    if len(rows) < 1:
        return False, ""
    return not natural(rows["var"]).all(), ""


def check_overflow_var(df, ind, orgs):
    """``check_overflow_var``: ``var`` ≤ ``denominator`` for fraction indicators."""
    possible = (
        "var" in df.columns
        and pd.api.types.is_numeric_dtype(df["var"])
        and "denominator" in df.columns
        and pd.api.types.is_numeric_dtype(df["denominator"])
        and "ind_id" in df.columns
    )
    if not possible:
        return True, "check_impossible"
    rows = _fraction_rows(df, ind)
    if len(rows) < 1:
        return False, ""
    return not (rows["var"] <= rows["denominator"]).all(), ""


def check_numeric_denominator(df, ind, orgs):
    """``check_numeric_denominator``: ``denominator`` is numeric."""
    if "denominator" not in df.columns:
        return True, "check_empty"
    return not pd.api.types.is_numeric_dtype(df["denominator"]), ""


def check_natural_denominator(df, ind, orgs):
    """``check_natural_denominator``: ``denominator`` is a natural number."""
    if "denominator" in df.columns and pd.api.types.is_numeric_dtype(df["denominator"]):
        return not natural(df["denominator"]).all(), ""
    return True, "check_impossible"


def check_zero_denominator(df, ind, orgs):
    """``check_zero_denominator``: no ``denominator`` is 0 (nor NA)."""
    if (
        "denominator" in df.columns
        and pd.api.types.is_numeric_dtype(df["denominator"])
        and not df["denominator"].isna().any()
    ):
        return not (df["denominator"] > 0).all(), ""
    return True, "check_impossible"


def check_duplicated_inds(df, ind, orgs):
    """``check_duplicated_inds``: non-fraction indicators once per ind_id, orgnr, context, unit_level, year."""
    try:
        joined = df.merge(
            ind.rename(columns={"id": "ind_id"})[["ind_id", "type"]], on="ind_id", how="left"
        ).merge(orgs, on="orgnr", how="left")
        rest = joined[~joined["type"].isin(FRACTION_TYPES)]
        counts = rest.groupby(
            ["ind_id", "orgnr", "context", "unit_level", "year"], dropna=False
        ).size()
    except Exception:  # the R function also gives up gracefully and fails the check
        return True, "check_impossible"
    duplicated = counts[counts > 1]
    if len(duplicated):
        return True, sorted(set(duplicated.index.get_level_values("ind_id")))
    return False, ""


def check_values_exists(df, ind, orgs):
    """``check_values_exists``: no column has NA or an empty string."""
    for column in df.columns:
        values = df[column]
        if values.isna().any() or (values.astype(str) == "").any():
            return True, f"Kolonne {column} mangler en eller flere verdier."
    return False, ""


def check_numeric_year(df, ind, orgs):
    """``check_numeric_year``: ``year`` numeric, no NA."""
    if "year" not in df.columns:
        return True, "check_impossible"
    ok = pd.api.types.is_numeric_dtype(df["year"]) and not df["year"].isna().any()
    return not ok, ""


def check_natural_year(df, ind, orgs):
    """``check_natural_year``: ``year`` natural numbers."""
    if (
        "year" in df.columns
        and pd.api.types.is_numeric_dtype(df["year"])
        and not df["year"].isna().any()
    ):
        return not natural(df["year"]).all(), ""
    return True, ""


#: ``upload: check:`` of imongr.yml, in its order (``check_upload`` runs each; the
#: first, ``missing_registry``, is about the registry chosen in the app, not the file).
CHECKS = {
    "mixing_ind": check_mixing_ind,
    "missing_var": check_missing_var,
    "invalid_var": check_invalid_var,
    "invalid_context": check_invalid_context,
    "invalid_org": check_invalid_org,
    "invalid_ind": check_invalid_ind,
    "numeric_var": check_numeric_var,
    "natural_var": check_natural_var,
    "numeric_denominator": check_numeric_denominator,
    "natural_denominator": check_natural_denominator,
    "zero_denominator": check_zero_denominator,
    "numeric_year": check_numeric_year,
    "natural_year": check_natural_year,
    "values_exists": check_values_exists,
    "duplicated_inds": check_duplicated_inds,
    "overflow_var": check_overflow_var,
}


def failed_checks(df: pd.DataFrame, ind: pd.DataFrame, orgs: pd.DataFrame) -> dict[str, object]:
    """``check_upload``: the checks that fail, with their reports (empty: the portal accepts)."""
    out = {}
    for name, check in CHECKS.items():
        fail, report = check(df, ind, orgs)
        if fail:
            out[name] = report
    return out


# ---------------------------------------------------------------- the portal's tables for ARR

#: The registry's indicators as registered in the portal (``ind`` table: id, type).
IND = pd.DataFrame({"id": list(upload.PORTAL_TYPE), "type": list(upload.PORTAL_TYPE.values())})


def _orgs(orgnrs) -> pd.DataFrame:
    """The portal's organisations (``get_all_orgnr``): ARR's institutions, at hospital level."""
    return pd.DataFrame({"orgnr": sorted(set(map(int, orgnrs))), "unit_level": "hospital"})


ORGS = _orgs(["974589095", "974795787"])


def _frame(**columns) -> pd.DataFrame:
    base = {
        "context": "caregiver",
        "year": 2024,
        "orgnr": 974589095,
        "ind_id": "arr_rtw12",
        "var": 1,
        "denominator": 1,
    }
    base.update(columns)
    n = max((len(v) for v in base.values() if isinstance(v, list)), default=1)
    return pd.DataFrame({k: v if isinstance(v, list) else [v] * n for k, v in base.items()})


# ---------------------------------------------------------------- each check can fail


def test_a_well_formed_upload_passes_every_check():
    assert failed_checks(_frame(var=[0, 1, 1]), IND, ORGS) == {}
    values = _frame(ind_id="arr_hrbdays", var=[130.5, 70.0], orgnr=[974589095, 974795787])
    assert failed_checks(values.assign(denominator=[140, 94]), IND, ORGS) == {}


@pytest.mark.parametrize(
    ("frame", "check"),
    [
        (_frame(ind_id=["arr_rtw12", "arr_hrbdays"], var=[1, 120.0]), "mixing_ind"),
        (_frame().drop(columns="context"), "missing_var"),
        (_frame().assign(episode_id="e1"), "invalid_var"),
        (_frame(context="hospital"), "invalid_context"),
        (_frame(orgnr=999999999), "invalid_org"),
        (_frame(ind_id="arr_unknown"), "invalid_ind"),
        (_frame(var="ja"), "numeric_var"),
        (_frame(var=0.5), "natural_var"),
        (_frame(denominator=1.5), "natural_denominator"),
        (_frame(denominator=0), "zero_denominator"),
        (_frame(year="2024"), "numeric_year"),
        (_frame(year=2024.5), "natural_year"),
        (_frame(var=[1.0, np.nan]), "values_exists"),
        (_frame(ind_id="arr_hrbdays", var=[120.0, 80.0], denominator=[50, 60]), "duplicated_inds"),
        (_frame(var=2), "overflow_var"),
        (_frame(denominator="en"), "numeric_denominator"),
    ],
)
def test_each_portal_check_refuses_what_it_is_for(frame, check):
    assert check in failed_checks(frame, IND, ORGS)


def test_portal_types_are_types_the_portal_knows():
    assert set(upload.PORTAL_TYPE.values()) <= set(INDICATOR_TYPES)
    # coverage is found by its type (get_dg_indicators in R/db_get.R)
    assert upload.PORTAL_TYPE["arr_dg"] == "dg_andel"
    # every indicator of the specification has a type
    assert set(upload.PORTAL_TYPE) == set(indicators.INDICATOR_STATISTIC)


# ---------------------------------------------------------------- the demo's uploads


@pytest.fixture(scope="module")
def uploads(tmp_path_factory, demo_config, demo_derived, demo_params):
    """The demo's indicator files of its last full report year, and yesterday's single file."""
    year = demo_params.years[1]
    derived = load_derived(demo_config, demo_derived)
    year_dir = tmp_path_factory.mktemp("upload")
    written = upload.write_indicator_files(demo_config, demo_derived, year, year_dir)
    tables = (derived.episodes, derived.responses, derived.outcomes)
    # Yesterday's upload, from the code path that wrote it: every indicator,
    # one row per episode, year = the report year, in one file.
    old = indicators.episode_indicators(*tables, derived.config, [year])
    old_path = year_dir / f"indicator_upload_{year}.csv"
    old.to_csv(old_path, index=False, lineterminator="\n")
    orgs = _orgs(
        set(derived.institutions["institution_id"].astype(str))
        | set(derived.episodes["institution_id"].astype(str))
    )
    return {
        "year": year,
        "aggregated": pd.read_csv(written[0], dtype={"orgnr": str}),
        "fractions": written[1],
        "values": written[2],
        "old": old_path,
        "orgs": orgs,
        "derived": derived,
    }


@pytest.fixture(scope="module")
def demo_config(config_for, demo_delivery, demo_derived, demo_params):
    return config_for(demo_delivery, demo_derived, demo_params.data_end)


@pytest.mark.slow
def test_the_demo_uploads_pass_the_portal_checks(uploads, demo_derived):
    assert uploads["fractions"].parent == demo_derived  # row-level: stays in the derived folder
    for key in ("fractions", "values"):
        df = csv_to_df(uploads[key])
        assert len(df) > 0
        assert failed_checks(df, IND, uploads["orgs"]) == {}, key


@pytest.mark.slow
def test_yesterdays_single_upload_is_refused(uploads):
    failed = failed_checks(csv_to_df(uploads["old"]), IND, uploads["orgs"])
    # the refusal the issue quotes, and the per-episode medians and means
    assert "arr_hrbdays" in failed["mixing_ind"] and "arr_wa_change" in failed["mixing_ind"]
    assert set(failed["duplicated_inds"]) >= {"arr_hrbdays", "arr_wa_change", "arr_compl"}


@pytest.mark.slow
def test_year_is_the_discharge_year(uploads):
    """indicators-and-report.md: ``year`` is the year of the event, also for 12-month outcomes."""
    year = uploads["year"]
    both = pd.concat([csv_to_df(uploads[k]) for k in ("fractions", "values")])
    years = both.groupby("ind_id")["year"].agg(set).to_dict()
    outcome = {"arr_rtw12", "arr_srtw", "arr_hrbdays", "arr_wa_change"}
    for ind_id, found in years.items():
        assert found == ({year - 1} if ind_id in outcome else {year}), ind_id
    # the 0/1 rows of arr_rtw12 are the episodes discharged the year before
    # with an observed 12-month status, at the units the publication shows
    outcomes = uploads["derived"].outcomes
    shown = _shown(uploads["aggregated"], "arr_rtw12")
    cohort = outcomes[
        (outcomes["discharge_date"].dt.year == year - 1)
        & outcomes["rtw_12m"].notna()
        & outcomes["institution_id"].astype(str).isin(shown)
    ]
    rtw = both[both["ind_id"] == "arr_rtw12"]
    assert len(rtw) == len(cohort)
    assert rtw["var"].sum() == cohort["rtw_12m"].astype(bool).sum()


def _shown(aggregated: pd.DataFrame, ind_id: str) -> set[str]:
    rows = aggregated[
        (aggregated["ind_id"] == ind_id)
        & (aggregated["unit"] == "institution")
        & ~aggregated["suppressed"].astype(bool)
    ]
    return set(rows["orgnr"])


@pytest.mark.slow
def test_the_portal_shows_what_the_report_publishes_and_nothing_else(uploads):
    """disclosure.md: the upload is a view of the year's protected publication."""
    agg = uploads["aggregated"]
    fractions = csv_to_df(uploads["fractions"])
    values = csv_to_df(uploads["values"])
    for ind_id in upload.PORTAL_TYPE:
        rows = fractions if upload.is_fraction(ind_id) else values
        rows = rows[rows["ind_id"] == ind_id]
        # only units shown in indicators.csv, each of them
        assert set(rows["orgnr"].astype(str)) == _shown(agg, ind_id), ind_id
    hidden = agg[(agg["unit"] == "institution") & agg["suppressed"].astype(bool)]
    assert len(hidden) > 0  # the demo has a small unit: the rule is exercised
    # the portal's sums per unit (agg: sum var / sum denominator) give the published share
    published = agg[agg["unit"] == "institution"].set_index(["ind_id", "orgnr"])
    portal = fractions.assign(orgnr=fractions["orgnr"].astype(str)).groupby(["ind_id", "orgnr"])
    summed = portal[["var", "denominator"]].sum()
    for (ind_id, orgnr), row in summed.iterrows():
        assert row["var"] == published.loc[(ind_id, orgnr), "numerator"]
        assert row["denominator"] == published.loc[(ind_id, orgnr), "denominator"]
    # … and the portal's national sum the published national share
    national = agg[agg["unit"] == "national"].set_index("ind_id")
    for ind_id, rows in fractions.groupby("ind_id"):
        share = rows["var"].sum() / rows["denominator"].sum()
        assert share == pytest.approx(national.loc[ind_id, "value"], abs=1e-12), ind_id
    # values as published, to the portal's three decimals
    for _, row in values.iterrows():
        value = published.loc[(row["ind_id"], str(row["orgnr"])), "value"]
        assert row["var"] == pytest.approx(value, abs=5e-4)


@pytest.fixture(scope="module")
def coverage_uploads(tmp_path_factory, demo_config, demo_derived, demo_params):
    """The demo's uploads with 20 more patients on every form.

    In the small test demo every unit's form counts 1 … 4 patients more than
    it registered, so every coverage is hidden by the complement rule (and the
    upload rightly has no coverage row). With 20 more the coverages of the
    larger units are shown, and the rows of the upload can be checked.
    """
    import shutil

    year = demo_params.years[1]
    build = tmp_path_factory.mktemp("coverage") / "derived"
    shutil.copytree(demo_derived, build)
    forms = pd.read_parquet(build / "institutions.parquet")
    forms["n_patients"] = forms["n_patients"] + 20
    forms.to_parquet(build / "institutions.parquet")
    config = dataclasses.replace(demo_config, derived_dir=build)
    written = upload.write_indicator_files(config, build, year, build)
    return {
        "year": year,
        "aggregated": pd.read_csv(written[0], dtype={"orgnr": str}),
        "fractions": written[1],
        "derived": load_derived(config, build),
    }


@pytest.mark.slow
def test_coverage_rows_for_every_unit_with_a_form(uploads, coverage_uploads):
    # the small demo: every coverage hidden, so no coverage row at all
    fractions = csv_to_df(uploads["fractions"])
    assert not _shown(uploads["aggregated"], "arr_dg")
    assert (fractions["ind_id"] != "arr_dg").all()
    uploads = coverage_uploads
    year = uploads["year"]
    fractions = csv_to_df(uploads["fractions"])
    dg = fractions[fractions["ind_id"] == "arr_dg"]
    dg = dg.set_index(dg["orgnr"].astype(str))
    derived = uploads["derived"]
    forms = derived.institutions[derived.institutions["year"] == year]
    # a row for every unit whose coverage the publication shows, and only those
    assert len(dg) > 0 and set(dg.index) == _shown(uploads["aggregated"], "arr_dg")
    assert set(dg.index) <= set(forms["institution_id"].astype(str))
    # var = consenting episodes discharged in the year, denominator = the form's patients
    episodes = derived.episodes[derived.episodes["discharge_date"].dt.year == year]
    registered = episodes.groupby(episodes["institution_id"].astype(str)).size()
    patients = forms.set_index(forms["institution_id"].astype(str))["n_patients"]
    for orgnr, row in dg.iterrows():
        assert row["var"] == registered[orgnr]
        assert row["denominator"] == patients[orgnr]


# ---------------------------------------------------------------- a hand-worked year


def _aggregated_2025() -> pd.DataFrame:
    """indicators.csv of a made-up 2025: unit 1 shown, unit 2 suppressed or over its form."""
    rows = [
        ("arr_rtw12", "1", "institution", 2.0, 3.0, 2 / 3, False),
        ("arr_rtw12", "2", "institution", np.nan, np.nan, np.nan, True),
        ("arr_rtw12", "", "national", 2.0, 3.0, 2 / 3, False),
        ("arr_dg", "1", "institution", 12.0, 10.0, 1.2, False),
        ("arr_dg", "2", "institution", 8.0, 10.0, 0.8, False),
        ("arr_hrbdays", "1", "institution", np.nan, 3.0, 130.25, False),
        ("arr_hrbdays", "2", "institution", np.nan, np.nan, np.nan, True),
    ]
    columns = ["ind_id", "orgnr", "unit", "numerator", "denominator", "value", "suppressed"]
    return pd.DataFrame(rows, columns=columns).assign(year=2025)


def _episode_rows_2025(rtw_unit_1=(1.0, 1.0, 0.0)) -> pd.DataFrame:
    rows = [("arr_rtw12", "1", v) for v in rtw_unit_1] + [("arr_rtw12", "2", 1.0)]
    rows += [("arr_hrbdays", "1", d) for d in (10.0, 130.25, 300.0)]
    frame = pd.DataFrame(rows, columns=["ind_id", "orgnr", "var"])
    return frame.assign(year=2025, denominator=1, context="caregiver")


def test_hand_worked_year_gives_the_rows_the_portal_needs():
    fractions = upload.portal_fractions(_episode_rows_2025(), _aggregated_2025(), 2025)
    expected = pd.DataFrame(
        {
            "ind_id": ["arr_dg", "arr_rtw12", "arr_rtw12", "arr_rtw12"],
            # unit 1's coverage is over its form: no row; unit 2's arr_rtw12 is suppressed
            "orgnr": ["2", "1", "1", "1"],
            "year": [2025, 2024, 2024, 2024],
            "var": [8, 1, 1, 0],
            "denominator": [10, 1, 1, 1],
            "context": "caregiver",
        }
    )
    pd.testing.assert_frame_equal(fractions, expected, check_dtype=False)
    values = upload.portal_values(_aggregated_2025(), 2025)
    assert values.to_dict("records") == [
        {
            "ind_id": "arr_hrbdays",
            "orgnr": "1",
            "year": 2024,
            "var": 130.25,
            "denominator": 3,
            "context": "caregiver",
        }
    ]
    assert upload.coverage_over_forms(_aggregated_2025(), 2025) == ["1"]
    orgs = _orgs([1, 2])
    for frame in (fractions, values):
        df = frame.assign(orgnr=frame["orgnr"].astype(int))
        assert failed_checks(df, IND, orgs) == {}


def test_upload_rows_that_disagree_with_the_publication_are_refused():
    with pytest.raises(ArrStatsError, match="do not sum"):
        upload.portal_fractions(_episode_rows_2025((1.0, 0.0, 0.0)), _aggregated_2025(), 2025)
