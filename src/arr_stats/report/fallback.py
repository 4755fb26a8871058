"""The fallback engine: the ``.qmd`` executed by Jupyter and written as one self-contained HTML page."""

from __future__ import annotations

import asyncio
import html
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from arr_stats.errors import ArrStatsError
from arr_stats.labels import DEFAULT_LANGUAGE, localise_document, t
from arr_stats.report.editions import (
    CELL_TIMEOUT,
    PARALLEL_EDITIONS,
    REPORT_DOCUMENT,
    Edition,
    RenderedEdition,
    kernel_env,
)
from arr_stats.report.formats import raw_html_of
from arr_stats.report.pdf import CAPTION, MARKDOWN_SOURCE, notebook_to_pdf

_OPTION_LINE = re.compile(r"^#\|\s?(.*)$")

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*(?:\{([^}]*)\})?\s*$")


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
            cell.metadata[MARKDOWN_SOURCE] = cell.source  # for the PDF, which numbers itself
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


def _caption(
    kind: str, number: int, text: str, label: str | None, lang: str = DEFAULT_LANGUAGE
) -> dict[str, Any]:
    import nbformat

    name = t("doc.figure" if kind == "fig" else "doc.table", lang)
    return nbformat.v4.new_output(
        "display_data",
        data={
            "text/html": f'<p class="caption">{name} {number}: {html.escape(text, quote=False)}</p>'
        },
        metadata={CAPTION: {"kind": kind, "number": number, "text": text, "label": label}},
    )


def apply_cell_options(nb: Any, lang: str = DEFAULT_LANGUAGE) -> Any:
    """Apply the Quarto cell options to an executed notebook (in place; returns it).

    ``include: false`` drops the cell; ``echo: false`` hides its code;
    ``output: false`` drops its outputs; ``output: asis`` turns printed text
    into Markdown; ``warning: false`` drops stderr; ``fig-cap``/``tbl-cap``
    add a numbered caption under the output (labels ``fig-…``/``tbl-…``). A
    Markdown output that is one raw HTML block
    (:class:`~arr_stats.report.formats.HtmlBlock`) becomes that HTML, as Pandoc
    passes it through.
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
            raw = raw_html_of(str(out.get("data", {}).get("text/markdown", "")))
            if raw is not None:
                out["data"] = {"text/html": raw}
            outputs.append(out)
        if options["output"] is False:
            outputs = []
        for kind in ("fig", "tbl"):
            caption = options[f"{kind}_cap"]
            if caption and outputs:
                counters[kind] += 1
                outputs.append(_caption(kind, counters[kind], caption, options["label"], lang))
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
        number = f'<span class="header-section-number">{h.number}</span> ' if h.number else ""
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


#: The modules an edition imports, imported while the year's shared results are computed.
WARM_UP = """\
import matplotlib_inline.backend_inline
import arr_stats.plotting, arr_stats.provenance
import arr_stats.report.authors, arr_stats.report.figures, arr_stats.report.sentences
import arr_stats.report.tables, arr_stats.report.units, arr_stats.report.web_figures
"""

#: Between two editions in one kernel: a new, empty namespace (imported modules stay).
RESET = "get_ipython().reset(new_session=False)"


class ReportKernel:
    """A Jupyter kernel that renders editions one after another.

    Started with the report kernels' environment (:func:`~arr_stats.report.
    editions.kernel_env`) and the package imported (:data:`WARM_UP`) while
    the parent computes the year's shared results; between two editions its
    namespace is emptied (:data:`RESET`), so each edition runs the whole
    document from its first cell as in a fresh kernel, without starting
    Python and importing the package again.
    """

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self.km: Any = None
        self.kc: Any = None

    async def start(self, then: str | None = None) -> None:
        """Start the kernel, import the package, and run ``then`` (see :meth:`run`)."""
        from jupyter_client.manager import AsyncKernelManager

        self.km = AsyncKernelManager(kernel_name="python3")
        await self.km.start_kernel(
            extra_arguments=[
                "--IPKernelApp.log_level=ERROR",
                "--HistoryManager.hist_file=:memory:",
            ],
            cwd=str(self.cwd),
            env=kernel_env(),
        )
        self.kc = self.km.client()
        self.kc.start_channels()
        await self.kc.wait_for_ready(timeout=60)
        self.kc.allow_stdin = False
        await self.run(WARM_UP)
        if then:
            await self.run(then)
            await self.run(RESET)

    async def run(self, code: str) -> None:
        """Run code outside any edition (nothing it prints is kept)."""
        reply = await self.kc.execute_interactive(
            code,
            silent=True,
            store_history=False,
            allow_stdin=False,
            timeout=CELL_TIMEOUT,
            output_hook=lambda _msg: None,
        )
        content = reply["content"]
        if content["status"] != "ok":
            raise ArrStatsError(
                f"a report kernel failed: {content.get('ename')}: {content.get('evalue')}"
            )

    async def shutdown(self) -> None:
        """Stop the kernel (if it was started)."""
        kc, km, self.kc, self.km = self.kc, self.km, None, None
        if kc is not None:
            kc.stop_channels()
        if km is not None and km.has_kernel and await km.is_alive():
            await km.shutdown_kernel(now=True)


async def _execute(nb: Any, kernel: ReportKernel, edition: Edition) -> tuple[Any, float]:
    from nbclient import NotebookClient

    skipped = [c for c in nb.cells if c.metadata.get("arr_skip")]
    for cell in skipped:
        cell.cell_type = "raw"  # eval: false – never sent to the kernel
        cell.pop("outputs", None)
        cell.pop("execution_count", None)
    start = time.perf_counter()
    client = NotebookClient(
        nb,
        km=kernel.km,
        kernel_name="python3",
        timeout=CELL_TIMEOUT,
        allow_errors=False,
        record_timing=False,
        resources={"metadata": {"path": str(kernel.cwd)}},
    )
    client.kc = kernel.kc  # the kernel goes on to the next edition
    try:
        await client.async_execute()
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


def _edition_settings(edition: Edition) -> dict[str, Any]:
    """What an edition sets over the document's settings: its subtitle, titles in its language.

    Examples
    --------
    >>> _edition_settings(Edition(2025, lang="en"))["format"]["typst"]
    {'toc-title': 'Contents'}
    """
    extra = edition.metadata
    toc = {"toc-title": extra["toc-title"]}
    return {
        "subtitle": extra["subtitle"],
        "running-title": extra["running-title"],
        "format": {"html": dict(toc), "typst": dict(toc)},
    }


def _load_page_tools() -> None:
    """Import what reads the document and writes the pages (seconds, once) before the editions."""
    import jupytext  # noqa: F401
    import nbconvert.exporters.html  # noqa: F401
    import nbformat  # noqa: F401


def render_fallback_editions(
    editions: Sequence[Edition],
    params_of: Callable[[Edition], dict[str, Any]],
    year_dir: Path,
    document: Path = REPORT_DOCUMENT,
    workers: int = PARALLEL_EDITIONS,
    report: Callable[[RenderedEdition], None] | None = None,
    pdf: bool = False,
    prepare: Callable[[], None] | None = None,
    shared: str | None = None,
) -> list[RenderedEdition]:
    """Render editions through Jupyter, ``workers`` kernels at a time.

    Each kernel renders edition after edition, every one from an empty
    namespace (:class:`ReportKernel`). Each edition is written as HTML and,
    with ``pdf``, also as PDF from the same execution (:mod:`arr_stats.report.pdf`:
    Pandoc and Typst with Quarto's template).

    ``prepare`` (what every edition reads: the year's publication) runs in
    this process while the kernels start and import the package; then the
    first kernel runs ``shared`` (code computing the year's shared results,
    :func:`arr_stats.report.year_results.kernel_code`, which read the rows
    the publication hides); then the editions start.
    """
    text = document.read_text(encoding="utf-8")
    settings = _project_settings(document)
    style_file = document.parent / "style.css"
    style = style_file.read_text(encoding="utf-8") if style_file.is_file() else ""

    # Reading the document and writing the page happen beside the event loop,
    # one edition at a time: the loop goes on feeding the other kernel its cells.
    lock = threading.Lock()

    def notebook_of(edition: Edition) -> tuple[Any, dict[str, Any], list[Heading]]:
        with lock:
            localised = localise_document(text, edition.lang)
            nb, meta, toc = prepare_notebook(localised, params_of(edition), settings)
            meta["subtitle"] = edition.subtitle
            return nb, _merged(meta, _edition_settings(edition)), toc

    def write_page(edition: Edition, nb: Any, meta: dict[str, Any], toc: list[Heading]) -> Path:
        with lock:
            nb = apply_cell_options(nb, edition.lang)
            page = notebook_to_html(nb, meta, toc, style)
            target = year_dir / f"{edition.stem}.html"
            target.write_text(page, encoding="utf-8")
            return target

    async def one(edition: Edition, kernel: ReportKernel) -> RenderedEdition:
        start = time.perf_counter()
        nb, meta, toc = await asyncio.to_thread(notebook_of, edition)
        nb, _ = await _execute(nb, kernel, edition)
        target = await asyncio.to_thread(write_page, edition, nb, meta, toc)
        paths = [target]
        if pdf:
            printed = year_dir / f"{edition.stem}.pdf"
            # Pandoc and Typst run outside the event loop: the other kernel goes on.
            paths.append(await asyncio.to_thread(notebook_to_pdf, nb, meta, printed))
        done = RenderedEdition(edition, tuple(paths), time.perf_counter() - start)
        if report:
            report(done)
        return done

    async def work(kernel: ReportKernel, queue: list[int], results: list[Any]) -> None:
        fresh = True
        while queue:
            index = queue.pop(0)
            try:
                if not fresh:
                    await kernel.run(RESET)
                fresh = False
                results[index] = await one(editions[index], kernel)
            except Exception as exc:  # the other editions go on; raised in order below
                results[index] = exc
                await kernel.shutdown()  # a kernel that failed is not trusted with another
                if queue:
                    await kernel.start()
                    fresh = True

    async def run_all() -> list[RenderedEdition]:
        count = max(1, min(workers, len(editions)))
        kernels = [ReportKernel(document.parent) for _ in range(count)]
        results: list[Any] = [None] * len(editions)
        workers_done: list[Any] = []
        try:
            starting = asyncio.gather(*(k.start() for k in kernels), return_exceptions=True)
            try:
                await asyncio.gather(
                    asyncio.to_thread(prepare or (lambda: None)),
                    asyncio.to_thread(_load_page_tools),
                )
            finally:
                started = await starting
            failed = [r for r in started if isinstance(r, BaseException)]
            if failed:
                raise failed[0]
            if shared:
                # after the publication: the shared indicator rows read the
                # rows it hides (a kernel computing them beside it would
                # compute the publication a second time, or read it half written)
                await kernels[0].run(shared)
                await kernels[0].run(RESET)
            queue = list(range(len(editions)))
            # Every edition runs to its end (a failure does not stop the other
            # kernel mid-cell); then the first failure is raised.
            workers_done = await asyncio.gather(
                *(work(k, queue, results) for k in kernels), return_exceptions=True
            )
        finally:
            await asyncio.gather(*(k.shutdown() for k in kernels), return_exceptions=True)
        for result in [*results, *workers_done]:
            if isinstance(result, BaseException):
                raise result
        return list(results)

    return asyncio.run(run_all())
