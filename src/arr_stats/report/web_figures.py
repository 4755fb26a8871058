"""Every figure of an edition also as PNG (300 dpi) and SVG for web publication, with alt text.

Registries publishing on the web are asked for separate high-resolution
images (indicators-and-report.md). While an edition is rendered, each figure
the document draws is also written to
``<out>/<year>/figures/<edition>/``::

    05-1_tilstand.png   05-1_tilstand.svg   …   figures.csv

named by the document's section number, the figure's number within the
section and its label (``#| label: fig-tilstand`` → ``tilstand``). The files
are the very ``Figure`` objects the report shows – the same protected numbers
– saved again at :data:`PNG_DPI`. ``figures.csv`` gives each figure's alt
text: the cell's ``fig-alt`` option where it has one, else its ``fig-cap``
(the caption the report prints; one source).

How the figures are caught: the document's first cell calls
:func:`collect`, which registers IPython's ``pre_run_cell`` and
``post_run_cell`` hooks in the kernel. Before a cell runs, its code is matched
with the code cells of the document (Quarto strips the ``#|`` option lines
before executing, so the options are read from the document); after it ran,
a ``Figure`` it returned is saved. This works the same under Quarto and the
fallback, and the document's figure cells stay as they are.

The bytes are deterministic: the PNG carries no ``Software`` text, the SVG no
date or creator, and SVG ids are salted (:data:`arr_stats.plotting.HOUSE_RC`).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib as mpl
from matplotlib.figure import Figure

from arr_stats.errors import ArrStatsError
from arr_stats.labels import DEFAULT_LANGUAGE, localise_document, t

#: Resolution of the PNG files.
PNG_DPI = 300

#: The alt-text sidecar of an edition's figure folder.
FIGURES_CSV = "figures.csv"

#: The columns of :data:`FIGURES_CSV`.
FIGURES_COLUMNS: tuple[str, ...] = ("png", "svg", "section", "label", "alt")

#: The disclosure rules each figure of the document is drawn through, by its
#: ``label``: names of :class:`arr_stats.config.DisclosureParams` fields, whose
#: values the run configuration sets. The output check
#: (:mod:`arr_stats.publication.output_check`) prints them beside each figure
#: file; a test holds every figure label of the document to an entry here.
FIGURE_RULES: dict[str, tuple[str, ...]] = {
    # indicator values per unit: hidden below min_denominator or with a
    # numerator of 1 … min_cell − 1 (indicators.aggregate_indicators)
    "fig-utvikling": ("min_cell", "min_denominator"),
    "fig-trakt": ("min_cell", "min_denominator"),
    "fig-trakt-srtw": ("min_cell", "min_denominator"),
    "fig-hrbdager-institusjon": ("min_cell", "min_denominator"),
    "fig-arbeidsevne-institusjon": ("min_cell", "min_denominator"),
    # O/E of units whose indicator is shown (casemix_funnel_figure)
    "fig-casemix-rtw12": ("min_cell", "min_denominator"),
    "fig-casemix-srtw": ("min_cell", "min_denominator"),
    # protected counts of daily states on the drawn grid (protect_state_occupation)
    "fig-tilstand": ("min_cell", "min_denominator", "state_grid_days"),
    # pooled curve steps, numbers at risk (pool_survival_steps)
    "fig-kumulativ": ("min_cell", "min_denominator", "survival_pooling"),
    "fig-kumulativ-diagnose": ("min_cell", "min_denominator", "survival_pooling"),
    "fig-kumulativ-institusjon": ("min_cell", "min_denominator", "survival_pooling"),
    "fig-km": ("min_cell", "min_denominator", "survival_pooling"),
    # means by point of groups of at least min_denominator (suppress_statistics)
    "fig-arbeidsevne": ("min_denominator",),
}

_FENCE = re.compile(r"^```\{python[^}]*\}\s*$")
_OPTION = re.compile(r"^#\|\s?(.*)$")
_SECTION = re.compile(r"^##\s+(.*?)\s*(?:\{([^}]*)\})?\s*$")


@dataclass(frozen=True)
class DocumentCell:
    """A code cell of the document and where it stands.

    Attributes
    ----------
    code
        Its code without the ``#|`` option lines, stripped.
    section
        The number of the top-level section it is in (0 before the first).
    label, caption, alt
        Its ``label``, ``fig-cap`` and ``fig-alt`` options.
    number
        The figure's number within its section (cells with a ``fig-`` label
        or a ``fig-cap`` are numbered in document order), or 0.
    """

    code: str
    section: int
    label: str | None
    caption: str | None
    alt: str | None
    number: int

    @property
    def stem(self) -> str:
        """The file name without extension: ``05-1_tilstand``.

        Examples
        --------
        >>> DocumentCell("f(ctx)", 5, "fig-tilstand", "Andel", None, 1).stem
        '05-1_tilstand'
        """
        name = re.sub(r"[^\w-]", "_", re.sub(r"^fig-", "", self.label or "figur"))
        return f"{self.section:02d}-{self.number}_{name}"


def _code_of(source: str) -> str:
    lines = source.strip("\n").splitlines()
    while lines and _OPTION.match(lines[0]):
        lines.pop(0)
    return "\n".join(line.rstrip() for line in lines).strip()


def document_cells(text: str) -> list[DocumentCell]:
    """The code cells of a ``.qmd`` text with their section, options and figure number.

    Sections are the level-2 headings (``##``) that ``number-sections``
    numbers, as both engines do (``.unnumbered`` ones are not counted).

    Examples
    --------
    >>> qmd = '''## A {#sec-a}
    ... ```{python}
    ... #| label: fig-x
    ... #| fig-cap: "Eks"
    ... f(ctx)
    ... ```
    ... '''
    >>> [(c.stem, c.caption) for c in document_cells(qmd)]
    [('01-1_x', 'Eks')]
    """
    import yaml

    cells: list[DocumentCell] = []
    section, number = 0, 0
    lines = iter(text.splitlines())
    for line in lines:
        if _FENCE.match(line):
            body = []
            for inner in lines:
                if inner.strip() == "```":
                    break
                body.append(inner)
            options_text = []
            for inner in body:
                match = _OPTION.match(inner)
                if not match:
                    break
                options_text.append(match.group(1))
            options = (yaml.safe_load("\n".join(options_text)) or {}) if options_text else {}
            label = options.get("label")
            is_figure = bool(options.get("fig-cap")) or str(label or "").startswith("fig-")
            if is_figure:
                number += 1
            cells.append(
                DocumentCell(
                    code=_code_of("\n".join(body)),
                    section=section,
                    label=None if label is None else str(label),
                    caption=options.get("fig-cap"),
                    alt=options.get("fig-alt"),
                    number=number if is_figure else 0,
                )
            )
            continue
        match = _SECTION.match(line)
        if match and ".unnumbered" not in (match.group(2) or ""):
            section += 1
            number = 0
    return cells


def describe(fig: Figure, lang: str = DEFAULT_LANGUAGE) -> str:
    """A plain description of a figure from its titles and axis labels (alt text of last resort).

    Used only for a figure whose cell has neither ``fig-alt`` nor ``fig-cap``.
    """
    parts = [fig.get_suptitle()] if fig.get_suptitle() else []
    for ax in fig.axes:
        bits = [ax.get_title(), ax.get_ylabel(), ax.get_xlabel()]
        bits = [b for b in bits if b]
        if bits:
            parts.append(" – ".join(bits))
    name = t("fig.alt_fallback", lang)
    return f"{name}: " + "; ".join(parts) if parts else name


def figure_bytes(fig: Figure, fmt: str) -> bytes:
    """A figure as PNG (:data:`PNG_DPI`) or SVG, the same bytes for the same figure.

    Examples
    --------
    >>> fig = Figure(figsize=(2, 1))
    >>> _ = fig.subplots().plot([0, 1], [0, 1])
    >>> figure_bytes(fig, "png") == figure_bytes(fig, "png")
    True
    >>> b"<svg" in figure_bytes(fig, "svg")
    True
    """
    from arr_stats.plotting import HOUSE_RC

    metadata: dict[str, Any]
    extra: dict[str, Any] = {}
    if fmt == "png":
        metadata = {"Software": None}
        # PNG states resolution in whole pixels per metre: 11 811 of them are
        # 299.9994 dpi, so the file declares the next whole number (300.02 dpi)
        declared = math.ceil(PNG_DPI / 0.0254) * 0.0254
        extra = {"pil_kwargs": {"dpi": (declared, declared)}}
    elif fmt == "svg":
        metadata = {"Date": None, "Creator": None}
    else:
        raise ArrStatsError(f"web figures are png or svg, not {fmt!r}")
    buffer = io.BytesIO()
    with mpl.rc_context({"svg.hashsalt": HOUSE_RC["svg.hashsalt"], "svg.fonttype": "path"}):
        fig.savefig(
            buffer,
            format=fmt,
            dpi=PNG_DPI,
            bbox_inches="tight",
            facecolor="white",
            metadata=metadata,
            **extra,
        )
    return buffer.getvalue()


class FigureCollector:
    """Saves the figures an edition's cells return (see the module's docstring).

    Parameters
    ----------
    folder
        The edition's figure folder; emptied of earlier figures first.
    document
        The ``.qmd`` text being rendered (its cells give labels and captions).
    """

    def __init__(self, folder: Path, document: str, lang: str = DEFAULT_LANGUAGE) -> None:
        self.folder = Path(folder)
        self.lang = lang
        self.cells = document_cells(localise_document(document, lang))
        self.rows: dict[str, dict[str, str]] = {}
        self._next = 0
        self._current: DocumentCell | None = None
        self._unlabelled: dict[int, int] = {}
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.iterdir():
            if old.suffix in (".png", ".svg") or old.name == FIGURES_CSV:
                old.unlink()

    def _match(self, code: str) -> DocumentCell | None:
        # cells run in document order: search on from the last match, then from the start
        order = list(range(self._next, len(self.cells))) + list(range(self._next))
        for i in order:
            if self.cells[i].code == code:
                self._next = i + 1
                return self.cells[i]
        return None

    def pre_run_cell(self, info: Any) -> None:
        """IPython hook: remember which document cell is about to run."""
        self._current = self._match(_code_of(getattr(info, "raw_cell", "") or ""))

    def post_run_cell(self, result: Any) -> None:
        """IPython hook: save the figure the cell returned, if any."""
        fig = getattr(result, "result", None)
        cell = self._current
        if not isinstance(fig, Figure) or cell is None:
            return
        if cell.number == 0:  # a figure without label or caption: numbered 0-1, 0-2, …
            self._unlabelled[cell.section] = self._unlabelled.get(cell.section, 0) + 1
            label = f"fig-figur{self._unlabelled[cell.section]}"
            cell = dataclasses.replace(cell, label=label)
        self.save(fig, cell)

    def save(self, fig: Figure, cell: DocumentCell) -> list[Path]:
        """Write ``fig`` as PNG and SVG under the cell's name and add its alt text."""
        written = []
        for fmt in ("png", "svg"):
            path = self.folder / f"{cell.stem}.{fmt}"
            path.write_bytes(figure_bytes(fig, fmt))
            written.append(path)
        alt = (cell.alt or cell.caption or describe(fig, self.lang)).strip()
        self.rows[cell.stem] = {
            "png": f"{cell.stem}.png",
            "svg": f"{cell.stem}.svg",
            "section": str(cell.section),
            "label": cell.label or "",
            "alt": alt,
        }
        self._write_index()
        return written

    def _write_index(self) -> None:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=FIGURES_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for stem in sorted(self.rows):
            writer.writerow(self.rows[stem])
        (self.folder / FIGURES_CSV).write_text(buffer.getvalue(), encoding="utf-8")


def collect(
    figures_dir: str | Path | None,
    document: str | Path | None = None,
    lang: str = DEFAULT_LANGUAGE,
) -> None:
    """Save every figure the rest of the document draws into ``figures_dir``.

    What the document's first cell calls; ``arr-stats report`` passes the
    folder as the ``figures_dir`` parameter. Nothing happens without a folder
    (a hand render) or outside IPython.

    Parameters
    ----------
    figures_dir
        ``<out>/<year>/figures/<edition>/``.
    document
        The ``.qmd`` file rendered (default ``reports/arsrapport.qmd``).
    lang
        The edition's language: the captions (alt text) are read in it.
    """
    if figures_dir is None:
        return
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:
        return
    from arr_stats.report.editions import REPORT_DOCUMENT

    source = Path(document) if document is not None else REPORT_DOCUMENT
    collector = FigureCollector(Path(figures_dir), source.read_text(encoding="utf-8"), lang)
    _stop_collecting(shell)  # an earlier edition's, in a kernel that renders one after another
    shell.events.register("pre_run_cell", collector.pre_run_cell)
    shell.events.register("post_run_cell", collector.post_run_cell)
    _COLLECTING[id(shell)] = collector


#: The collector registered in each shell (by ``id``): one edition's at a time.
_COLLECTING: dict[int, FigureCollector] = {}


def _stop_collecting(shell: Any) -> None:
    """Unregister the hooks of the collector an earlier :func:`collect` registered in ``shell``."""
    earlier = _COLLECTING.pop(id(shell), None)
    if earlier is None:
        return
    for event, hook in (
        ("pre_run_cell", earlier.pre_run_cell),
        ("post_run_cell", earlier.post_run_cell),
    ):
        if hook in shell.events.callbacks[event]:
            shell.events.unregister(event, hook)
