"""The indicator files of a report year: the aggregated file and the results-portal uploads.

The national results portal (SKDE's imongr, ``mong/imongr``) takes a CSV of
``context, year, orgnr, ind_id, var, denominator`` and checks it before it
accepts it (``check_upload`` in ``R/upload.R``, configured by
``inst/imongr.yml``). What shapes the files here:

- One upload may not mix fraction indicators with other types
  (``check_mixing_ind``): fraction types are ``andel``, ``dg_andel`` and
  ``dg`` (``var.fraction.type`` in ``imongr.yml``). So there are two files:
  :func:`fractions_file_name` (``andel`` and the coverage ``dg_andel``) and
  :func:`values_file_name` (``beregnet_andel``, ``median``,
  ``gjennomsnitt``). Coverage is ``dg_andel``, the type the portal looks up
  coverage indicators by (``get_dg_indicators`` in ``R/db_get.R``). :data:`PORTAL_TYPE` is the type of each indicator, as
  the registry declares it to SKDE.
- Fraction rows are summed by the portal per unit and year (``agg``), so
  they are one row per episode with ``var`` 0/1 and ``denominator`` 1
  (``check_natural_var``, ``check_overflow_var``). Coverage (``arr_dg``) has
  no episodes in its denominator (the institution form's patient count): one
  row per institution, ``var`` = registered episodes, ``denominator`` = the
  form's patients. The portal attaches a unit's coverage to its other
  indicators through the indicator's ``dg_id`` (``agg_dg``), which SKDE sets
  to ``arr_dg``.
- Other types are shown as uploaded, never aggregated, and only for the unit
  named (``agg``'s ``ind_noagg``; a median or a mean cannot be summed), and a
  unit may have one value per indicator, year and context
  (``check_duplicated_inds``): one row per institution with ``var`` the
  value (three decimals, the portal's precision) and ``denominator`` the
  number of episodes it was computed from. ``arr_srtw`` is an Aalen–Johansen
  estimate, not a count over a count, so it is a ``beregnet_andel`` here.
- ``year`` is the year of the event (``imongr.yml``: "året for hendelsen"):
  the discharge year, ``Y − 1`` for the 12-month outcomes of report year ``Y``
  (:func:`event_year`).

Disclosure (disclosure.md: the upload file is part of the year's
publication). Both files are views of the protected ``indicators.csv``: an
institution's rows of an indicator are written only when its ``institution``
row there is shown (not ``suppressed``), so the portal's sums and values equal
the published numerators, denominators and values, and a unit with too few
episodes (or a count of 1 … ``min_cell`` − 1) reaches the portal no more than
the report. Fraction rows are per episode, as the portal expects; they carry no
identifier, only unit, year and 0/1, but they are row-level data: they are
written to the derived folder (inside TSD), from where the registry uploads
them, not beside the editions.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from arr_stats.config import RunConfig
from arr_stats.errors import ArrStatsError
from arr_stats.indicators import (
    OUTCOME_INDICATORS,
    UNIT_INSTITUTION,
    UPLOAD_COLUMNS,
    UPLOAD_CONTEXT,
)

#: The aggregated indicators of the report year, next to the editions.
INDICATORS_FILE = "indicators.csv"

#: The portal's indicator type of every indicator (imongr.yml ``indicator.types``).
PORTAL_TYPE: dict[str, str] = {
    "arr_rtw12": "andel",
    "arr_srtw": "beregnet_andel",
    "arr_hrbdays": "median",
    "arr_wa_change": "gjennomsnitt",
    "arr_resp_t1": "andel",
    "arr_resp_t2": "andel",
    "arr_resp_t3": "andel",
    "arr_dg": "dg_andel",
    "arr_compl": "beregnet_andel",
}

#: The types the portal sums as fractions (imongr.yml ``var.fraction.type``).
FRACTION_TYPES = ("andel", "dg_andel", "dg")

#: Decimals of a non-fraction value (imongr.yml: "inntil 3 desimalers nøyaktighet").
VALUE_DECIMALS = 3


def fractions_file_name(year: int) -> str:
    """Name of the upload of the fraction indicators of report ``year``.

    Examples
    --------
    >>> fractions_file_name(2025)
    'indicator_upload_2025_fractions.csv'
    """
    return f"indicator_upload_{year}_fractions.csv"


def values_file_name(year: int) -> str:
    """Name of the upload of the other (computed) indicators of report ``year``.

    Examples
    --------
    >>> values_file_name(2025)
    'indicator_upload_2025_values.csv'
    """
    return f"indicator_upload_{year}_values.csv"


def is_fraction(ind_id: str) -> bool:
    """Whether the portal sums ``ind_id`` as a fraction.

    Examples
    --------
    >>> is_fraction("arr_rtw12"), is_fraction("arr_dg"), is_fraction("arr_hrbdays")
    (True, True, False)
    """
    return PORTAL_TYPE[ind_id] in FRACTION_TYPES


def event_year(ind_id: str, report_year: int) -> int:
    """The year of the event an indicator of ``report_year`` is about: the discharge year.

    Examples
    --------
    >>> event_year("arr_rtw12", 2025), event_year("arr_resp_t1", 2025)
    (2024, 2025)
    """
    return report_year - 1 if ind_id in OUTCOME_INDICATORS else report_year


def _shown_units(aggregated: pd.DataFrame, report_year: int) -> pd.DataFrame:
    rows = aggregated[
        (aggregated["unit"] == UNIT_INSTITUTION)
        & (aggregated["year"] == report_year)
        & ~aggregated["suppressed"].astype(bool)
        & aggregated["value"].notna()
    ]
    return rows.assign(orgnr=rows["orgnr"].astype(str))


def _upload_frame(rows: pd.DataFrame) -> pd.DataFrame:
    out = rows.assign(context=UPLOAD_CONTEXT)[list(UPLOAD_COLUMNS)]
    out = out.astype({"year": "int64", "denominator": "int64"})
    return out.sort_values(["ind_id", "orgnr", "year"], kind="mergesort", ignore_index=True)


def coverage_over_forms(aggregated: pd.DataFrame, report_year: int) -> list[str]:
    """Institutions shown with more registered episodes than their form's patients (``arr_dg`` > 1).

    Examples
    --------
    >>> agg = pd.DataFrame({"ind_id": "arr_dg", "year": 2025, "orgnr": ["1", "2"],
    ...     "unit": "institution", "numerator": [12.0, 30.0], "denominator": [10.0, 40.0],
    ...     "value": [1.2, 0.75], "suppressed": False})
    >>> coverage_over_forms(agg, 2025)
    ['1']
    """
    shown = _shown_units(aggregated, report_year)
    coverage = shown[shown["ind_id"] == "arr_dg"]
    return sorted(coverage.loc[coverage["numerator"] > coverage["denominator"], "orgnr"])


def portal_fractions(
    episode_rows: pd.DataFrame, aggregated: pd.DataFrame, report_year: int
) -> pd.DataFrame:
    """The fraction upload of ``report_year``: 0/1 per episode, and coverage per institution.

    Parameters
    ----------
    episode_rows
        :func:`arr_stats.indicators.episode_indicators` of ``report_year``.
    aggregated
        The disclosed :func:`arr_stats.indicators.aggregate_indicators` of
        ``report_year`` (``indicators.csv``).
    report_year
        The report year ``Y``.

    Returns
    -------
    DataFrame
        ``ind_id, orgnr, year, var, denominator, context`` of the fraction
        types, ``year`` the event year, only for the institutions whose row is
        shown in ``aggregated``.

        An institution whose coverage numerator exceeds its denominator
        (more registered episodes than the form's patients) has no coverage
        row: the portal refuses ``var > denominator``
        (:func:`coverage_over_forms` names them).

    Raises
    ------
    ArrStatsError
        When a shown institution's episode rows do not sum to its published
        numerator and denominator (the upload would tell other numbers than
        the report).
    """
    shown = _shown_units(aggregated, report_year)
    per_episode = [i for i in PORTAL_TYPE if is_fraction(i) and i != "arr_dg"]
    rows = episode_rows[episode_rows["ind_id"].isin(per_episode)]
    rows = rows.assign(orgnr=rows["orgnr"].astype(str))
    keys = shown.loc[shown["ind_id"].isin(per_episode), ["ind_id", "orgnr"]]
    rows = rows.merge(keys, on=["ind_id", "orgnr"], how="inner")
    sums = rows.groupby(["ind_id", "orgnr"])["var"].agg(["sum", "size"])
    published = shown.set_index(["ind_id", "orgnr"]).loc[sums.index]
    if not (
        np.allclose(sums["sum"], published["numerator"])
        and np.array_equal(sums["size"], published["denominator"])
    ):
        raise ArrStatsError(
            f"the per-episode upload rows of {report_year} do not sum to the numerators and "
            "denominators of indicators.csv"
        )
    rows = rows.assign(
        year=[event_year(i, report_year) for i in rows["ind_id"]],
        var=rows["var"].round().astype("int64"),
        denominator=1,
    )
    coverage = shown[shown["ind_id"] == "arr_dg"]
    coverage = coverage[~coverage["orgnr"].isin(coverage_over_forms(aggregated, report_year))]
    coverage = coverage.assign(
        year=event_year("arr_dg", report_year),
        var=coverage["numerator"].round().astype("int64"),
        denominator=coverage["denominator"].round().astype("int64"),
    )
    return _upload_frame(pd.concat([rows, coverage], ignore_index=True))


def portal_values(aggregated: pd.DataFrame, report_year: int) -> pd.DataFrame:
    """The upload of the other types of ``report_year``: one value per shown institution.

    ``var`` is the published value rounded to :data:`VALUE_DECIMALS`
    decimals, ``denominator`` the number of episodes behind it, ``year`` the
    event year.
    """
    shown = _shown_units(aggregated, report_year)
    rows = shown[[not is_fraction(i) for i in shown["ind_id"]]]
    rows = rows.assign(
        year=[event_year(i, report_year) for i in rows["ind_id"]],
        var=rows["value"].astype(float).round(VALUE_DECIMALS),
        denominator=rows["denominator"].round().astype("int64"),
    )
    return _upload_frame(rows)


def write_indicator_files(
    config: RunConfig,
    derived_dir: Path,
    year: int,
    year_dir: Path,
    say: Callable[[str], None] = print,
) -> list[Path]:
    """Write the indicators of ``year``.

    The aggregated values, disclosed as the year's protected publication
    decides (:func:`arr_stats.report.tables.year_publication`), go to ``year_dir/indicators.csv``
    beside the editions. The two results-portal uploads (:func:`portal_fractions`,
    :func:`portal_values`) go to the derived folder, which stays inside TSD.
    ``say`` is told of coverage rows left out of the upload
    (:func:`coverage_over_forms`).

    Returns
    -------
    list of Path
        The aggregated file, then the fraction upload, then the values upload.
    """
    from arr_stats import indicators
    from arr_stats.derive.load import load_derived
    from arr_stats.report.context import ReportContext
    from arr_stats.report.tables import year_publication

    derived = load_derived(config, derived_dir, lazy=True)  # daily states unread
    tables = (derived.episodes, derived.responses, derived.outcomes)
    # the rows the year's protected publication hides (read back when
    # ``arr-stats report`` wrote it, else computed)
    hidden = year_publication(ReportContext(derived, int(year), None, None, "")).hidden_indicators()
    aggregated = indicators.aggregate_indicators(
        *tables, derived.institutions, derived.config, [year], disclose=True, hidden=hidden
    )
    episode_rows = indicators.episode_indicators(*tables, derived.config, [year])
    files = {
        year_dir / INDICATORS_FILE: aggregated,
        Path(derived_dir) / fractions_file_name(year): portal_fractions(
            episode_rows, aggregated, year
        ),
        Path(derived_dir) / values_file_name(year): portal_values(aggregated, year),
    }
    over = coverage_over_forms(aggregated, year)
    if over:
        say(
            f"note: arr_dg {year} left out of the portal upload for {', '.join(over)}: more "
            "registered episodes than the institution form's patients (the portal refuses "
            "var > denominator); correct n_patients in the form"
        )
    for path, table in files.items():
        table.to_csv(path, index=False, lineterminator="\n")
    return list(files)
