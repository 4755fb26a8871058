"""Rendering the annual report: Quarto where it is installed, else a Jupyter fallback.

One parameterised document, ``reports/arsrapport.qmd``, is rendered once
nationally and once per institution. Two engines render it:

``quarto``
    ``quarto render reports/arsrapport.qmd --to html --execute-params …``, one
    edition at a time (Quarto writes intermediate files next to the document).
    HTML is self-contained (``embed-resources`` in ``reports/_quarto.yml``); PDF
    goes through Typst (``--to typst``).
``fallback``
    Without Quarto (``pip`` cannot install its binary offline) the same ``.qmd``
    is read as R Markdown-style text by jupytext (its own ``qmd`` format calls
    the Quarto binary), the parameters are injected after the cell tagged
    ``parameters`` (as Quarto and papermill do), nbclient executes it in a fresh
    Jupyter kernel per edition (two at a time), the Quarto cell options this
    project uses are applied (``echo``, ``eval``, ``output``, ``include``,
    ``warning``, ``fig-cap``, ``tbl-cap``), and nbconvert writes the cells into
    one self-contained HTML page with the style sheet, a table of contents and
    every figure embedded as a base64 PNG.

The output is deterministic apart from the render time shown in the provenance
appendix, and that too is fixed when ``SOURCE_DATE_EPOCH`` is set: fresh
kernels with ``PYTHONHASHSEED=0``, PNG figures (no random SVG ids), cell ids
numbered in order, no execution counts.

All I/O of rendering lives here; the document itself only calls the package.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from arr_stats.config import DEMO_CONFIG, PROJECT_ROOT, RunConfig
from arr_stats.errors import ArrStatsError

#: The folder of the Quarto project (``_quarto.yml``, the document, the style sheet).
REPORTS_DIR = PROJECT_ROOT / "reports"
#: The annual report document.
REPORT_DOCUMENT = REPORTS_DIR / "arsrapport.qmd"
#: The style sheet used by both engines.
STYLE_SHEET = REPORTS_DIR / "style.css"
#: The engines ``--engine`` accepts.
ENGINES: tuple[str, ...] = ("auto", "quarto", "fallback")
#: Editions executed at the same time on the fallback path (the machine has 2 cores).
PARALLEL_EDITIONS = 2
#: Seconds one cell may run before the fallback gives up.
CELL_TIMEOUT = 900
#: File stem of the national edition.
NATIONAL_STEM = "national"

_OPTION_LINE = re.compile(r"^#\|\s?(.*)$")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*(?:\{([^}]*)\})?\s*$")


@dataclass(frozen=True)
class Edition:
    """One edition of the annual report.

    Attributes
    ----------
    year
        The report year ``Y``.
    institution
        The institution id (``inst_id``), or ``None`` for the national edition.
    institution_name
        The institution's name from its background form, when known.

    Examples
    --------
    >>> Edition(2025).stem, Edition(2025).subtitle
    ('national', '2025 · Nasjonal utgave')
    >>> Edition(2025, "974589095", "Rehab Nord").subtitle
    '2025 · Rehab Nord (974589095) · egen enhet mot resten av landet'
    """

    year: int
    institution: str | None = None
    institution_name: str | None = None

    @property
    def stem(self) -> str:
        """The output file name without extension (``national`` or the institution id)."""
        if self.institution is None:
            return NATIONAL_STEM
        return re.sub(r"[^\w.-]", "_", self.institution)

    @property
    def subtitle(self) -> str:
        """The subtitle under the document's title, naming the year and the edition."""
        if self.institution is None:
            return f"{self.year} · Nasjonal utgave"
        name = self.institution_name or self.institution
        label = f"{name} ({self.institution})" if name != self.institution else name
        return f"{self.year} · {label} · egen enhet mot resten av landet"


@dataclass(frozen=True)
class RenderedEdition:
    """What rendering one edition produced and how long it took."""

    edition: Edition
    paths: tuple[Path, ...]
    seconds: float


@dataclass
class CellOptions:
    """The Quarto cell options (``#| key: value``) the fallback honours."""

    echo: bool = False
    eval: bool = True
    output: bool | str = True
    include: bool = True
    warning: bool = False
    tags: list[str] = field(default_factory=list)
    label: str | None = None
    fig_cap: str | None = None
    tbl_cap: str | None = None


# ---------------------------------------------------------------- engine choice


def find_quarto() -> Path | None:
    """The ``quarto`` executable on the ``PATH``, or ``None``."""
    found = shutil.which("quarto")
    return Path(found) if found else None


def choose_engine(engine: str, pdf: bool = False) -> tuple[str, Path | None]:
    """Resolve ``--engine`` to ``"quarto"`` or ``"fallback"``.

    Parameters
    ----------
    engine
        ``auto`` (Quarto when on the ``PATH``, else the fallback), ``quarto`` or
        ``fallback``.
    pdf
        Whether PDF is asked for; only Quarto (through Typst) writes PDF.

    Returns
    -------
    tuple
        The engine and the Quarto executable (``None`` on the fallback path).

    Raises
    ------
    ArrStatsError
        ``quarto`` asked for but not installed; PDF asked for without Quarto;
        an unknown engine name.
    """
    if engine not in ENGINES:
        raise ArrStatsError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    quarto = find_quarto() if engine in ("auto", "quarto") else None
    if engine == "quarto" and quarto is None:
        raise ArrStatsError(
            "--engine quarto: the quarto command was not found on the PATH. Install Quarto "
            "(it is in environment.yml, the conda environment used in TSD) or use "
            "--engine fallback to render HTML through Jupyter."
        )
    chosen = "quarto" if quarto is not None else "fallback"
    if pdf and chosen == "fallback":
        raise ArrStatsError(
            "--pdf needs Quarto (PDF is written through Typst), and the quarto command was "
            "not found on the PATH. Render inside the conda environment (environment.yml) "
            "or leave out --pdf."
        )
    return chosen, quarto


# ---------------------------------------------------------------- editions


def plan_editions(
    derived_dir: Path,
    year: int,
    institution: str | None = None,
    all_institutions: bool = False,
    national: bool = True,
) -> list[Edition]:
    """The editions to render, national first, then institutions in id order.

    An institution belongs to year ``Y`` when it has a background form for
    ``Y`` or consenting episodes discharged in ``Y`` or ``Y − 1``.

    Raises
    ------
    ArrStatsError
        The derived tables are missing, the named institution is unknown, or
        nothing is asked for.
    """
    from arr_stats.io import read_parquet

    paths = {t: Path(derived_dir) / f"{t}.parquet" for t in ("institutions", "episodes")}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise ArrStatsError(
            f"derived tables missing ({', '.join(missing)}); run `arr-stats build` first"
        )
    forms = read_parquet(paths["institutions"])
    episodes = read_parquet(paths["episodes"])
    in_year = set(forms.loc[forms["year"] == year, "institution_id"].astype(str))
    recent = episodes["discharge_year"].isin([year, year - 1])
    in_year |= set(episodes.loc[recent, "institution_id"].astype(str))
    names = (
        forms.sort_values("year")
        .drop_duplicates("institution_id", keep="last")
        .set_index("institution_id")["name"]
        .astype(str)
        .to_dict()
    )
    this_year = forms.loc[forms["year"] == year].set_index("institution_id")["name"].astype(str)
    names.update(this_year.to_dict())

    editions = [Edition(year)] if national else []
    if institution is not None:
        known = set(forms["institution_id"].astype(str)) | set(
            episodes["institution_id"].astype(str)
        )
        if str(institution) not in known:
            raise ArrStatsError(
                f"institution {institution!r} is not in the derived tables; known ids: "
                f"{', '.join(sorted(known))}"
            )
        editions.append(Edition(year, str(institution), names.get(str(institution))))
    elif all_institutions:
        editions += [Edition(year, i, names.get(i)) for i in sorted(in_year)]
    if not editions:
        raise ArrStatsError(
            "nothing to render: --no-national without --institution or --all-institutions"
        )
    return editions


def render_time_now() -> str:
    """The render time shown in the provenance appendix.

    ``SOURCE_DATE_EPOCH`` (the reproducible-builds convention) fixes it, which
    makes two renders byte-identical.
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        moment = dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC)
    else:
        moment = dt.datetime.now(tz=dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def document_parameters(
    edition: Edition, config: RunConfig, derived_dir: Path, render_time: str
) -> dict[str, Any]:
    """The parameters handed to the document (names as in its ``parameters`` cell)."""
    from arr_stats.report_text import config_to_json

    return {
        "year": int(edition.year),
        "institution": edition.institution,
        "config": str(config.source or DEMO_CONFIG),
        "derived_dir": str(Path(derived_dir).resolve()),
        "config_json": config_to_json(config),
        "render_time": render_time,
    }


# ---------------------------------------------------------------- Quarto path


def quarto_command(
    quarto: Path | str,
    document: Path,
    edition: Edition,
    params_file: Path,
    output_dir: Path,
    to: str = "html",
) -> list[str]:
    """The ``quarto render`` command line of one edition.

    Parameters go through a YAML file (``--execute-params``) rather than ``-P``
    because ``-P`` reads each value as YAML: an institution id of digits would
    become a number and lose leading zeros.

    Examples
    --------
    >>> cmd = quarto_command("quarto", Path("r/a.qmd"), Edition(2025), Path("p.yml"), Path("o"))
    >>> cmd[:5]
    ['quarto', 'render', 'r/a.qmd', '--to', 'html']
    >>> cmd[5:]
    ['--output', 'national.html', '--output-dir', 'o', '--execute-params', 'p.yml', '-M', 'subtitle:2025 · Nasjonal utgave']
    """
    extension = "pdf" if to == "typst" else "html"
    return [
        str(quarto),
        "render",
        str(document),
        "--to",
        to,
        "--output",
        f"{edition.stem}.{extension}",
        "--output-dir",
        str(output_dir),
        "--execute-params",
        str(params_file),
        "-M",
        f"subtitle:{edition.subtitle}",
    ]


def _kernel_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONHASHSEED"] = "0"  # set and dict-of-str orders the same in every kernel
    env.pop("MPLBACKEND", None)
    return env


def render_with_quarto(
    quarto: Path,
    edition: Edition,
    params: dict[str, Any],
    year_dir: Path,
    pdf: bool,
    document: Path = REPORT_DOCUMENT,
) -> list[Path]:
    """Render one edition with Quarto into ``year_dir`` (HTML, and PDF when asked)."""
    written = []
    with tempfile.TemporaryDirectory(prefix="arr-quarto-") as tmp:
        params_file = Path(tmp) / "params.yml"
        params_file.write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
        for to in ("html", "typst") if pdf else ("html",):
            out = Path(tmp) / f"out-{to}"
            cmd = quarto_command(quarto, document, edition, params_file, out, to)
            done = subprocess.run(
                cmd,
                cwd=document.parent,
                env=_kernel_env(),
                capture_output=True,
                text=True,
                check=False,
            )
            name = cmd[cmd.index("--output") + 1]
            produced = out / name
            if done.returncode != 0 or not produced.is_file():
                tail = "\n".join((done.stderr or done.stdout or "").strip().splitlines()[-25:])
                raise ArrStatsError(
                    f"quarto failed on the {edition.stem} edition ({to}, exit status "
                    f"{done.returncode}):\n{tail}"
                )
            target = year_dir / name
            shutil.move(str(produced), target)
            written.append(target)
    return written


# ---------------------------------------------------------------- fallback path


def parse_cell_options(source: str, defaults: dict[str, Any] | None = None) -> CellOptions:
    """Read the leading ``#| key: value`` lines of a code cell (Quarto's cell options).

    Examples
    --------
    >>> o = parse_cell_options("#| echo: true\\n#| fig-cap: Figur\\nx = 1", {"echo": False})
    >>> o.echo, o.fig_cap, o.eval
    (True, 'Figur', True)
    """
    lines = []
    for line in source.splitlines():
        match = _OPTION_LINE.match(line)
        if not match:
            break
        lines.append(match.group(1))
    options: dict[str, Any] = dict(defaults or {})
    if lines:
        try:
            parsed = yaml.safe_load("\n".join(lines)) or {}
        except yaml.YAMLError as exc:
            raise ArrStatsError(f"cell options are not valid YAML: {lines!r} ({exc})") from exc
        if not isinstance(parsed, dict):
            raise ArrStatsError(f"cell options must be key: value lines, got {lines!r}")
        options.update(parsed)
    known = {
        "echo": bool(options.get("echo", False)),
        "eval": bool(options.get("eval", True)),
        "output": options.get("output", True),
        "include": bool(options.get("include", True)),
        "warning": bool(options.get("warning", False)),
        "tags": list(options.get("tags", []) or []),
        "label": options.get("label"),
        "fig_cap": options.get("fig-cap"),
        "tbl_cap": options.get("tbl-cap"),
    }
    return CellOptions(**known)


def _front_matter(text: str) -> tuple[dict[str, Any], str]:
    if not text.startswith("---"):
        return {}, text
    end = text.find("\n---", 3)
    if end < 0:
        raise ArrStatsError("the document's YAML front matter is not closed with ---")
    front = yaml.safe_load(text[3:end]) or {}
    rest = text[end + 4 :].lstrip("\n")
    return front, rest


def _project_settings(document: Path) -> dict[str, Any]:
    project = document.parent / "_quarto.yml"
    if project.is_file():
        return yaml.safe_load(project.read_text(encoding="utf-8")) or {}
    return {}


def _merged(*dicts: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for d in dicts:
        for key, value in (d or {}).items():
            if isinstance(value, dict) and isinstance(out.get(key), dict):
                out[key] = _merged(out[key], value)
            else:
                out[key] = value
    return out


def _html_format(settings: dict[str, Any]) -> dict[str, Any]:
    fmt = settings.get("format", {})
    if isinstance(fmt, dict):
        return fmt.get("html", {}) or {}
    return {}


def _setup_source(html_format: dict[str, Any]) -> str:
    # What Quarto's Jupyter engine does before the first cell: inline PNG
    # figures of the size and resolution the format names.
    width = float(html_format.get("fig-width", 7))
    height = float(html_format.get("fig-height", 5))
    dpi = int(html_format.get("fig-dpi", 96))
    return "\n".join(
        [
            "%matplotlib inline",
            "import matplotlib as _mpl",
            "from matplotlib_inline.backend_inline import set_matplotlib_formats as _smf",
            "_smf('png')",
            f"_mpl.rcParams.update({{'figure.figsize': ({width}, {height}), "
            f"'figure.dpi': {dpi}, 'svg.hashsalt': 'arr-stats'}})",
            "del _mpl, _smf",
        ]
    )


def _parameter_source(params: dict[str, Any]) -> str:
    lines = ["# Injected parameters"]
    lines += [f"{name} = {value!r}" for name, value in params.items()]
    return "\n".join(lines)


def _slug(text: str) -> str:
    slug = re.sub(r"[^\w\s-]", "", text.lower()).strip()
    return re.sub(r"[\s_]+", "-", slug) or "seksjon"


@dataclass(frozen=True)
class Heading:
    """A section heading of the document, for the table of contents."""

    level: int
    anchor: str
    number: str
    text: str


def number_headings(
    cells_markdown: Sequence[str], number_sections: bool, top_level: int = 2
) -> tuple[list[str], list[Heading]]:
    """Turn Markdown headings into HTML headings with ids and section numbers.

    Quarto reads ``## Tekst {#sec-id}``; the fallback's Markdown renderer does
    not, so headings become ``<h2 id="sec-id">`` here, numbered as Quarto's
    ``number-sections`` numbers them (``1``, ``1.1``, …; ``.unnumbered`` opts
    out).

    Examples
    --------
    >>> cells, toc = number_headings(["## Første {#sec-a}\\n\\ntekst", "### Under"], True)
    >>> cells[0].splitlines()[0]
    '<h2 id="sec-a"><span class="header-section-number">1</span> Første</h2>'
    >>> [(h.number, h.anchor) for h in toc]
    [('1', 'sec-a'), ('1.1', 'under')]
    """
    counters = [0] * 7
    toc: list[Heading] = []
    seen: set[str] = set()
    out_cells = []
    for source in cells_markdown:
        out_lines = []
        fenced = False
        for line in source.splitlines():
            if line.lstrip().startswith("```"):
                fenced = not fenced
            match = None if fenced else _HEADING.match(line)
            if not match:
                out_lines.append(line)
                continue
            level = len(match.group(1))
            text = match.group(2)
            attrs = (match.group(3) or "").split()
            anchor = next((a[1:] for a in attrs if a.startswith("#")), None) or _slug(text)
            base, k = anchor, 1
            while anchor in seen:
                k += 1
                anchor = f"{base}-{k}"
            seen.add(anchor)
            numbered = number_sections and level >= top_level and ".unnumbered" not in attrs
            number = ""
            if numbered:
                counters[level] += 1
                for deeper in range(level + 1, 7):
                    counters[deeper] = 0
                number = ".".join(str(counters[d]) for d in range(top_level, level + 1))
            prefix = f'<span class="header-section-number">{number}</span> ' if number else ""
            out_lines.append(
                f'<h{level} id="{anchor}">{prefix}{html.escape(text, quote=False)}</h{level}>'
            )
            toc.append(Heading(level, anchor, number, text))
        out_cells.append("\n".join(out_lines))
    return out_cells, toc


def prepare_notebook(
    text: str, params: dict[str, Any], settings: dict[str, Any]
) -> tuple[Any, dict[str, Any], list[Heading]]:
    """The document as a notebook ready to execute on the fallback path.

    Parameters
    ----------
    text
        The ``.qmd`` source.
    params
        The parameter values, injected in a cell after the ``parameters`` cell.
    settings
        The project settings (``_quarto.yml``), merged under the front matter.

    Returns
    -------
    tuple
        The notebook (cells carry their parsed options in
        ``metadata["arr_options"]``), the merged front matter, the headings.
    """
    import jupytext
    import nbformat

    front, body = _front_matter(text)
    meta = _merged(settings, front)
    defaults = meta.get("execute", {}) or {}
    nb = jupytext.reads(body, fmt="Rmd")
    cells = []
    markdown_sources = [c.source for c in nb.cells if c.cell_type == "markdown"]
    numbered, toc = number_headings(
        markdown_sources, bool(_html_format(meta).get("number-sections", False))
    )
    numbered_iter = iter(numbered)
    setup = nbformat.v4.new_code_cell(_setup_source(_html_format(meta)))
    setup.metadata["arr_options"] = CellOptions(include=False).__dict__
    cells.append(setup)
    found_parameters = False
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = next(numbered_iter)
            cells.append(cell)
            continue
        if cell.cell_type != "code":
            continue
        options = parse_cell_options(cell.source, defaults)
        cell.metadata["arr_options"] = options.__dict__
        cells.append(cell)
        if "parameters" in options.tags:
            found_parameters = True
            injected = nbformat.v4.new_code_cell(_parameter_source(params))
            injected.metadata["arr_options"] = CellOptions(include=False).__dict__
            cells.append(injected)
    if not found_parameters:
        raise ArrStatsError("the document has no cell tagged parameters (#| tags: [parameters])")
    for i, cell in enumerate(cells):
        cell.id = f"cell-{i:03d}"
        if cell.cell_type == "code" and not cell.metadata["arr_options"]["eval"]:
            cell.metadata["arr_skip"] = True
    nb.cells = cells
    nb.metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
    }
    return nb, meta, toc


def _caption(kind: str, number: int, text: str) -> dict[str, Any]:
    import nbformat

    label = "Figur" if kind == "fig" else "Tabell"
    return nbformat.v4.new_output(
        "display_data",
        data={
            "text/html": f'<p class="caption">{label} {number}: {html.escape(text, quote=False)}</p>'
        },
    )


def apply_cell_options(nb: Any) -> Any:
    """Apply the Quarto cell options to an executed notebook (in place; returns it).

    ``include: false`` drops the cell; ``echo: false`` hides its code;
    ``output: false`` drops its outputs; ``output: asis`` turns printed text
    into Markdown; ``warning: false`` drops stderr; ``fig-cap``/``tbl-cap``
    add a numbered caption under the output (labels ``fig-…``/``tbl-…``).
    """
    import nbformat

    kept = []
    counters = {"fig": 0, "tbl": 0}
    for cell in nb.cells:
        options = cell.metadata.pop("arr_options", None)
        cell.metadata.pop("arr_skip", None)
        if cell.cell_type != "code" or options is None:
            kept.append(cell)
            continue
        if not options["include"]:
            continue
        cell.execution_count = None
        outputs = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                if not options["warning"]:
                    continue
            if "execution_count" in out:
                out["execution_count"] = None
            if options["output"] == "asis" and out.get("output_type") == "stream":
                out = nbformat.v4.new_output("display_data", data={"text/markdown": out["text"]})
            outputs.append(out)
        if options["output"] is False:
            outputs = []
        for kind in ("fig", "tbl"):
            caption = options[f"{kind}_cap"]
            if caption and outputs:
                counters[kind] += 1
                outputs.append(_caption(kind, counters[kind], caption))
        cell.outputs = outputs
        if not options["echo"]:
            cell.metadata["transient"] = {"remove_source": True}
        kept.append(cell)
    nb.cells = kept
    return nb


def _toc_html(toc: Sequence[Heading], title: str, depth: int) -> str:
    items = []
    for h in toc:
        if h.level > depth or h.level < 2:
            continue
        number = f'<span class="toc-section-number">{h.number}</span> ' if h.number else ""
        items.append(
            f'<li class="toc-level-{h.level}"><a href="#{h.anchor}">{number}'
            f"{html.escape(h.text, quote=False)}</a></li>"
        )
    return (
        f'<nav id="TOC" role="doc-toc"><h2 id="toc-title">{html.escape(title)}</h2>'
        f"<ul>{''.join(items)}</ul></nav>"
    )


def page_html(body: str, meta: dict[str, Any], toc: Sequence[Heading], style: str) -> str:
    """Wrap nbconvert's cell HTML into one self-contained page."""
    fmt = _html_format(meta)
    lang = meta.get("lang", "nb")
    title = str(meta.get("title", ""))
    subtitle = str(meta.get("subtitle", ""))
    author = meta.get("author")
    toc_block = ""
    if fmt.get("toc", False):
        toc_block = _toc_html(
            toc, str(fmt.get("toc-title", "Innhold")), int(fmt.get("toc-depth", 3))
        )
    byline = f'<p class="author">{html.escape(str(author))}</p>' if author else ""
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{html.escape(str(lang))}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="generator" content="arr-stats (Jupyter fallback of Quarto)">\n'
        f"<title>{html.escape(title)} – {html.escape(subtitle)}</title>\n"
        f"<style>\n{style}\n</style>\n</head>\n<body>\n"
        '<header id="title-block-header">\n'
        f'<h1 class="title">{html.escape(title)}</h1>\n'
        f'<p class="subtitle">{html.escape(subtitle)}</p>\n{byline}</header>\n'
        f'{toc_block}\n<main id="content">\n{body}\n</main>\n</body>\n</html>\n'
    )


def _error_summary(exc: BaseException) -> str:
    """What failed, in a few lines: the cell's code and the error (not the traceback).

    nbclient's ``CellExecutionError`` carries ``ename`` and ``evalue``; its
    text starts with the failing cell between lines of dashes.
    """
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))  # ANSI colours of IPython tracebacks
    ename, evalue = getattr(exc, "ename", None), getattr(exc, "evalue", None)
    if not ename:
        lines = [line for line in text.strip().splitlines() if line.strip()]
        return "\n".join(lines[-20:])
    cell = re.search(r"-{5,}\n(.*?)\n-{5,}", text, flags=re.S)
    code = [
        line
        for line in (cell.group(1) if cell else "").splitlines()
        if line.strip() and not line.startswith("#|")
    ]
    shown = "\n".join(f"    {line}" for line in code[-5:])
    return f"in the cell\n{shown}\n{ename}: {evalue}"


async def _execute(nb: Any, cwd: Path, edition: Edition) -> tuple[Any, float]:
    from nbclient import NotebookClient

    skipped = [c for c in nb.cells if c.metadata.get("arr_skip")]
    for cell in skipped:
        cell.cell_type = "raw"  # eval: false – never sent to the kernel
        cell.pop("outputs", None)
        cell.pop("execution_count", None)
    start = time.perf_counter()
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=CELL_TIMEOUT,
        allow_errors=False,
        record_timing=False,
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
        resources={"metadata": {"path": str(cwd)}},
    )
    try:
        await client.async_execute(env=_kernel_env())
    except Exception as exc:
        raise ArrStatsError(
            f"the {edition.stem} edition failed while executing {REPORT_DOCUMENT.name}:\n"
            f"{_error_summary(exc)}"
        ) from exc
    for cell in skipped:
        cell.cell_type = "code"
        cell.outputs = []
        cell.execution_count = None
    return nb, time.perf_counter() - start


def notebook_to_html(nb: Any, meta: dict[str, Any], toc: Sequence[Heading], style: str) -> str:
    """Export an executed, option-applied notebook as one self-contained HTML page."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="basic",
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        anchor_link_text="",
    )
    body, _ = exporter.from_notebook_node(nb)
    return page_html(body, meta, toc, style)


def render_fallback_editions(
    editions: Sequence[Edition],
    params_of: Callable[[Edition], dict[str, Any]],
    year_dir: Path,
    document: Path = REPORT_DOCUMENT,
    workers: int = PARALLEL_EDITIONS,
    report: Callable[[RenderedEdition], None] | None = None,
) -> list[RenderedEdition]:
    """Render editions through Jupyter, ``workers`` at a time, each in a fresh kernel."""
    text = document.read_text(encoding="utf-8")
    settings = _project_settings(document)
    style_file = document.parent / "style.css"
    style = style_file.read_text(encoding="utf-8") if style_file.is_file() else ""

    async def one(edition: Edition, gate: asyncio.Semaphore) -> RenderedEdition:
        async with gate:
            start = time.perf_counter()
            nb, meta, toc = prepare_notebook(text, params_of(edition), settings)
            meta["subtitle"] = edition.subtitle
            nb, _ = await _execute(nb, document.parent, edition)
            page = notebook_to_html(apply_cell_options(nb), meta, toc, style)
            target = year_dir / f"{edition.stem}.html"
            target.write_text(page, encoding="utf-8")
            done = RenderedEdition(edition, (target,), time.perf_counter() - start)
            if report:
                report(done)
            return done

    async def run_all() -> list[RenderedEdition]:
        gate = asyncio.Semaphore(max(1, workers))
        # Every edition runs to its end (a failure does not kill the other
        # kernel mid-cell); then the first failure is raised.
        results = await asyncio.gather(*(one(e, gate) for e in editions), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return list(results)

    return asyncio.run(run_all())


# ---------------------------------------------------------------- identifiers


def check_rendered(path: Path, person_ids: Sequence[str] | None = None) -> None:
    """Refuse a rendered file that shows a person identifier (disclosure.md).

    Embedded images (``data:`` URIs) and hexadecimal digests (the git commit,
    SHA-256 of the inputs in the provenance appendix) are left out of the
    check: neither is readable text, and either can hold 11 digits in a row by
    chance.
    """
    from arr_stats.disclosure import check_no_identifiers

    text = path.read_text(encoding="utf-8")
    text = re.sub(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=\s]+", "data:", text)
    text = re.sub(r"\b[0-9a-f]{40}\b|\b[0-9a-f]{64}\b", "digest", text)
    try:
        check_no_identifiers(text, person_ids)
    except ArrStatsError as exc:
        path.unlink()
        raise ArrStatsError(f"{path.name}: {exc}; the file was removed") from exc


# ---------------------------------------------------------------- indicators


#: The aggregated indicators of the report year, next to the editions.
INDICATORS_FILE = "indicators.csv"


def upload_file_name(year: int) -> str:
    """Name of the per-episode upload rows of ``year`` in the derived folder.

    Examples
    --------
    >>> upload_file_name(2025)
    'indicator_upload_2025.csv'
    """
    return f"indicator_upload_{year}.csv"


def write_indicator_files(
    config: RunConfig, derived_dir: Path, year: int, year_dir: Path
) -> list[Path]:
    """Write the indicators of ``year``.

    The aggregated values, already disclosed, go to ``year_dir/indicators.csv``
    beside the editions. The per-episode upload rows (results-portal shape) are
    row-level data: they go to the derived folder, which stays inside TSD, and
    never to the report folder.

    Returns
    -------
    list of Path
        The aggregated file, then the upload file.
    """
    from arr_stats import indicators
    from arr_stats.derived import load_derived

    derived = load_derived(config, derived_dir)
    tables = (derived.episodes, derived.responses, derived.outcomes)
    aggregated = indicators.aggregate_indicators(
        *tables, derived.institutions, derived.config, [year], disclose=True
    )
    upload = indicators.episode_indicators(*tables, derived.config, [year])
    aggregated_path = year_dir / INDICATORS_FILE
    upload_path = Path(derived_dir) / upload_file_name(year)
    aggregated.to_csv(aggregated_path, index=False, lineterminator="\n")
    upload.to_csv(upload_path, index=False, lineterminator="\n")
    return [aggregated_path, upload_path]


# ---------------------------------------------------------------- entry point


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
        Also PDF through Typst (Quarto only).
    engine
        ``auto``, ``quarto`` or ``fallback``.

    Returns
    -------
    list of Path
        Every file written, in edition order, then the indicator files.

    Raises
    ------
    ArrStatsError
        Quarto asked for and missing, PDF without Quarto, missing derived
        tables, an unknown institution, a failing cell, or an identifier in a
        rendered output.
    """
    chosen, quarto = choose_engine(engine, pdf)
    derived_dir = Path(derived_dir)
    editions = plan_editions(derived_dir, year, institution, all_institutions, national)
    out_dir = Path(out_dir) if out_dir is not None else config.report_dir
    year_dir = out_dir / str(year)
    year_dir.mkdir(parents=True, exist_ok=True)
    render_time = render_time_now()

    def params_of(edition: Edition) -> dict[str, Any]:
        return document_parameters(edition, config, derived_dir, render_time)

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
    _say(f"rendering {len(editions)} edition(s) of {year} with {how} into {year_dir}")
    start = time.perf_counter()
    if chosen == "quarto":
        assert quarto is not None
        rendered = []
        for edition in editions:
            t0 = time.perf_counter()
            paths = render_with_quarto(quarto, edition, params_of(edition), year_dir, pdf)
            done = RenderedEdition(edition, tuple(paths), time.perf_counter() - t0)
            report(done)
            rendered.append(done)
    else:
        rendered = render_fallback_editions(editions, params_of, year_dir, report=report)

    person_ids = _person_ids(derived_dir)
    written: list[Path] = []
    for done in rendered:
        for path in done.paths:
            if path.suffix == ".html":
                check_rendered(path, person_ids)
            written.append(path)
    written += write_indicator_files(config, derived_dir, year, year_dir)
    _say(
        f"rendered {len(editions)} edition(s) in {time.perf_counter() - start:.1f} s "
        f"({chosen}); files in {year_dir}"
    )
    return written


def _person_ids(derived_dir: Path) -> list[str]:
    import pyarrow.parquet as pq

    path = derived_dir / "persons.parquet"
    if not path.is_file():
        return []
    return [str(p) for p in pq.read_table(path, columns=["person_id"]).column(0).to_pylist()]
