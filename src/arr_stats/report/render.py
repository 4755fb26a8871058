"""Rendering the annual report: Quarto where it is installed, else a Jupyter fallback.

One parameterised document, ``reports/arsrapport.qmd``, is rendered once
nationally and once per institution. Two engines render it:

``quarto``
    ``quarto render reports/arsrapport.qmd --to html --execute-params …``, one
    edition at a time (Quarto writes intermediate files next to the document).
    HTML is self-contained (``embed-resources`` in ``reports/_quarto.yml``, and
    tables reach Quarto as Markdown raw HTML, never as ``text/html`` outputs,
    for which Quarto would add require.js and jQuery from a CDN: see
    :mod:`arr_stats.report.formats`); PDF goes through Typst (``--to typst``).
``fallback``
    Without Quarto (``pip`` cannot install its binary offline) the same ``.qmd``
    is read as R Markdown-style text by jupytext (its own ``qmd`` format calls
    the Quarto binary), the parameters are injected after the cell tagged
    ``parameters`` (as Quarto and papermill do), nbclient executes it in a fresh
    Jupyter kernel per edition (two at a time), the Quarto cell options this
    project uses are applied (``echo``, ``eval``, ``output``, ``include``,
    ``warning``, ``fig-cap``, ``tbl-cap``), and nbconvert writes the cells into
    one self-contained HTML page with the style sheet, a table of contents and
    every figure embedded as a base64 PNG; PDF goes through Pandoc and Typst
    with Quarto's template (:mod:`arr_stats.report.pdf`).

The output is deterministic apart from the render time shown in the provenance
appendix, and that too is fixed when ``SOURCE_DATE_EPOCH`` is set: fresh
kernels with ``PYTHONHASHSEED=0``, PNG figures (no random SVG ids), cell ids
numbered in order, no execution counts.

All I/O of rendering lives here; the document itself only calls the package.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from arr_stats.config import RunConfig
from arr_stats.errors import ArrStatsError
from arr_stats.labels import DEFAULT_LANGUAGE
from arr_stats.publication.output_check import OutputLayout, write_output_check
from arr_stats.report.authors import check_texts
from arr_stats.report.editions import (
    ENGINES,
    PARALLEL_EDITIONS,
    Edition,
    RenderedEdition,
    document_parameters,
    plan_editions,
    render_time_now,
)
from arr_stats.report.fallback import render_fallback_editions
from arr_stats.report.quarto import find_quarto, render_with_quarto
from arr_stats.report.upload import write_indicator_files

#: The folder of the web figures in a year folder.
FIGURES_DIR = "figures"


def web_figures_dir(year_dir: Path, edition: Edition) -> Path:
    """Where an edition's web figures go: ``<year_dir>/figures/<edition>/`` (:mod:`.web_figures`)."""
    return year_dir / FIGURES_DIR / edition.stem


def output_layout(derived_dir: Path, year: int) -> OutputLayout:
    """What this stage writes for ``year`` and where, for the output check.

    Every edition the year may have, in every language (a year folder can
    hold editions of earlier runs), the figures' rules, the indicator file
    and the results-portal uploads.
    """
    from arr_stats.labels import LANGUAGES
    from arr_stats.report.upload import INDICATORS_FILE, fractions_file_name, values_file_name
    from arr_stats.report.web_figures import FIGURE_RULES, FIGURES_CSV

    editions: dict[str, tuple[str | None, str]] = {}
    names: dict[str, str] = {}
    for lang in LANGUAGES:
        for edition in plan_editions(derived_dir, year, all_institutions=True, lang=lang):
            editions[edition.stem] = (edition.institution, edition.lang)
            if edition.institution is not None and edition.institution_name:
                names[edition.institution] = edition.institution_name
    return OutputLayout(
        editions=editions,
        unit_names=names,
        indicators_file=INDICATORS_FILE,
        figures_dir=FIGURES_DIR,
        figures_index=FIGURES_CSV,
        figure_rules=FIGURE_RULES,
        upload_files={fractions_file_name(year): "fractions", values_file_name(year): "values"},
    )


def choose_engine(engine: str) -> tuple[str, Path | None]:
    """Resolve ``--engine`` to ``"quarto"`` or ``"fallback"``.

    Parameters
    ----------
    engine
        ``auto`` (Quarto when on the ``PATH``, else the fallback), ``quarto`` or
        ``fallback``. Both write HTML and, when asked, PDF.

    Returns
    -------
    tuple
        The engine and the Quarto executable (``None`` on the fallback path).

    Raises
    ------
    ArrStatsError
        ``quarto`` asked for but not installed; an unknown engine name.
    """
    if engine not in ENGINES:
        raise ArrStatsError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    quarto = find_quarto() if engine in ("auto", "quarto") else None
    if engine == "quarto" and quarto is None:
        raise ArrStatsError(
            "--engine quarto: the quarto command was not found on the PATH. Install Quarto "
            "(it is in environment.yml, the conda environment used in TSD) or use "
            "--engine fallback to render through Jupyter, Pandoc and Typst."
        )
    chosen = "quarto" if quarto is not None else "fallback"
    return chosen, quarto


def check_rendered(
    path: Path, person_ids: Sequence[str] | None = None, companions: Sequence[Path] = ()
) -> None:
    """Refuse a rendered file that shows a person identifier (disclosure.md).

    The HTML page is checked; ``companions`` (the edition's PDF, printed from
    the same document and data) are removed with it when it fails.

    Embedded images (``data:`` URIs) and hexadecimal digests (the git commit,
    SHA-256 of the inputs in the provenance appendix) are left out of the
    check: neither is readable text, and either can hold 11 digits in a row by
    chance.
    """
    from arr_stats.publication.disclosure import check_no_identifiers, readable_text

    text = readable_text(path.read_text(encoding="utf-8"))
    try:
        check_no_identifiers(text, person_ids)
    except ArrStatsError as exc:
        for removed in (path, *companions):
            removed.unlink(missing_ok=True)
        names = ", ".join(p.name for p in (path, *companions))
        raise ArrStatsError(f"{path.name}: {exc}; removed {names}") from exc


def _say(text: str) -> None:
    print(text, flush=True)


def render_reports(
    config: RunConfig,
    derived_dir: Path,
    year: int,
    institution: str | None = None,
    all_institutions: bool = False,
    national: bool = True,
    out_dir: Path | None = None,
    pdf: bool = False,
    engine: str = "auto",
    lang: str = DEFAULT_LANGUAGE,
) -> list[Path]:
    """Render the annual report of ``year``: the national edition and institution editions.

    Parameters
    ----------
    config
        The run configuration (its TOML file is handed to the document).
    derived_dir
        The derived tables of a build.
    year
        The report year ``Y``.
    institution, all_institutions, national
        Which editions: one institution, every institution of the year, and
        whether the national edition too.
    out_dir
        Editions go to ``out_dir/<year>/national.html`` and
        ``out_dir/<year>/<institution_id>.html``, with ``indicators.csv``.
    pdf
        Also PDF, through Typst with the template of ``reports/typst/`` on either
        engine.
    engine
        ``auto``, ``quarto`` or ``fallback``.
    lang
        The language of the editions (:data:`arr_stats.labels.LANGUAGES`).
        Bokmål editions are ``national.html``, ``<institution_id>.html``;
        another language adds itself to the name (``national.en.html``,
        web figures in ``figures/national.en/``).

    Returns
    -------
    list of Path
        Every file written, in edition order, then the indicator files, the
        year's publication, and the output check (``output-check.html`` and
        its CSV files, beside the publication in the build, which stays in
        TSD: :mod:`arr_stats.publication.output_check`).

    Raises
    ------
    ArrStatsError
        Quarto asked for and missing, Pandoc or Typst missing for PDF, missing derived
        tables, an unknown institution, a failing cell, or an identifier in a
        rendered output.
    """
    chosen, quarto = choose_engine(engine)
    derived_dir = Path(derived_dir)
    editions = plan_editions(derived_dir, year, institution, all_institutions, national, lang)
    out_dir = Path(out_dir) if out_dir is not None else config.report_dir
    year_dir = out_dir / str(year)
    year_dir.mkdir(parents=True, exist_ok=True)
    render_time = render_time_now()

    person_ids = _person_ids(derived_dir)
    check_texts(config.text_dir, year, [e.institution for e in editions], person_ids)

    def params_of(edition: Edition) -> dict[str, Any]:
        params = document_parameters(edition, config, derived_dir, render_time)
        return {**params, "figures_dir": str(web_figures_dir(year_dir, edition))}

    def report(done: RenderedEdition) -> None:
        names = ", ".join(p.name for p in done.paths)
        _say(f"  {names:<28} {done.seconds:6.1f} s")

    how = (
        f"Quarto ({quarto})"
        if chosen == "quarto"
        else f"the Jupyter fallback ({PARALLEL_EDITIONS} kernels at a time; Quarto not "
        "found on the PATH)"
        if engine == "auto"
        else f"the Jupyter fallback ({PARALLEL_EDITIONS} kernels at a time)"
    )
    _say(f"rendering {len(editions)} edition(s) of {year} ({lang}) with {how} into {year_dir}")
    start = time.perf_counter()
    # What every edition reads, computed once: the year's linked tables,
    # protected together, and the results every edition shares (aggregated
    # indicators, case-mix models, daily states per unit). The shared results
    # come after the publication (the indicator rows read the rows it hides);
    # on the fallback the kernels start and import while it is protected.
    from arr_stats.report import year_results
    from arr_stats.report.tables import write_year_publication

    publication: list[Path] = []
    shared_dir = year_results.results_folder(derived_dir.resolve(), year)

    def prepare() -> None:
        publication.extend(write_year_publication(config, derived_dir, year))
        _say(f"  protected publication of {year} in {publication[0].parent}")

    if chosen == "quarto":
        assert quarto is not None
        prepare()
        year_results.write_year_results(config, derived_dir, year)
        _say(f"  results every edition shares in {shared_dir}")
        rendered = []
        for edition in editions:
            t0 = time.perf_counter()
            paths = render_with_quarto(quarto, edition, params_of(edition), year_dir, pdf)
            done = RenderedEdition(edition, tuple(paths), time.perf_counter() - t0)
            report(done)
            rendered.append(done)
    else:
        first = params_of(editions[0])
        shared = year_results.kernel_code(year, first["derived_dir"], first["config_json"])

        def prepared() -> None:
            prepare()
            _say(f"  results every edition shares in {shared_dir}")

        rendered = render_fallback_editions(
            editions,
            params_of,
            year_dir,
            report=report,
            pdf=pdf,
            prepare=prepared,
            shared=shared,
        )

    written: list[Path] = []
    for done in rendered:
        for path in done.paths:
            if path.suffix == ".html":
                check_rendered(path, person_ids, [p for p in done.paths if p != path])
            written.append(path)
    written += write_indicator_files(config, derived_dir, year, year_dir, say=_say)
    written += publication
    # last: the output check lists every file of the year written above; it goes
    # into the build beside the publication, never into the exported year folder
    from arr_stats.report.tables import publication_folder

    checked = write_output_check(
        year_dir,
        derived_dir,
        publication_folder(derived_dir, year),
        config,
        output_layout(derived_dir, year),
        person_ids,
        lang,
    )
    written += checked
    _say(f"  output check for the export (stays in TSD): {checked[0]}")
    _say(
        f"rendered {len(editions)} edition(s) in {time.perf_counter() - start:.1f} s "
        f"({chosen}); files in {year_dir}, web figures in {year_dir / 'figures'}"
    )
    return written


def _person_ids(derived_dir: Path) -> list[str]:
    import pyarrow.parquet as pq

    path = derived_dir / "persons.parquet"
    if not path.is_file():
        return []
    return [str(p) for p in pq.read_table(path, columns=["person_id"]).column(0).to_pylist()]
