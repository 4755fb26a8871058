"""PDF of the fallback engine: the executed notebook through Pandoc and Typst, as Quarto does.

Quarto writes the PDF of an edition by converting the document to Typst with
Pandoc and compiling that with Typst, using the template in
``reports/typst/`` (``template-partials`` and ``filters`` in
``reports/_quarto.yml``). Without Quarto, the fallback does the same with the
same pieces, all from the lock (no Quarto, no LaTeX, no browser, no network):

1. the executed, option-applied notebook becomes Pandoc Markdown
   (:func:`notebook_markdown`): the document's own Markdown, the cells'
   Markdown outputs, their raw HTML blocks (tables and notes,
   :class:`~arr_stats.report.formats.HtmlBlock`) and their figures as PNG files
   with their captions;
2. Pandoc (the ``pypandoc-binary`` wheel, the same Pandoc 3.9 that Quarto's
   bundle uses) converts it to Typst with ``reports/typst/fallback.typ``, a
   template made of the two partials Quarto includes, and the Lua filter
   ``html-blocks.lua`` that turns the raw HTML tables into Typst tables;
3. Typst (the ``typst`` wheel, the compiler Quarto's bundle uses) compiles it
   with the fonts built into Typst only, so the bytes do not depend on the
   machine's fonts; the template sets no creation date.

So both engines print through one template and one Typst, and their PDFs look
alike (docs/rendering.md).
"""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml

from arr_stats.errors import ArrStatsError
from arr_stats.report.editions import REPORTS_DIR

#: The report's Typst template, shared with Quarto (template-partials in _quarto.yml).
TYPST_DIR = REPORTS_DIR / "typst"
PANDOC_TEMPLATE = TYPST_DIR / "fallback.typ"
HTML_BLOCKS_FILTER = TYPST_DIR / "html-blocks.lua"

#: Cell metadata key holding a Markdown cell's own source (the HTML page numbers headings itself).
MARKDOWN_SOURCE = "arr_markdown"
#: Output metadata key marking a caption output (kind, number, text).
CAPTION = "arr_caption"


def pandoc_executable() -> str:
    """The Pandoc of the ``pypandoc-binary`` wheel, else ``pandoc`` on the ``PATH``.

    Raises
    ------
    ArrStatsError
        Neither is there.
    """
    try:
        import pypandoc

        return str(pypandoc.get_pandoc_path())
    except (ImportError, OSError):
        found = shutil.which("pandoc")
        if found:
            return found
    raise ArrStatsError(
        "PDF without Quarto needs Pandoc: install the project's lock (pypandoc-binary is in "
        "requirements.lock and environment.yml) or put pandoc on the PATH"
    )


def _fence(kind: str, text: str) -> str:
    ticks = "```"
    while ticks in text:
        ticks += "`"
    return f"{ticks}{kind}\n{text.rstrip()}\n{ticks}"


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def notebook_markdown(nb: Any, media_dir: Path) -> str:
    """Pandoc Markdown of an executed notebook whose Quarto cell options are applied.

    Parameters
    ----------
    nb
        The notebook after :func:`~arr_stats.report.fallback.apply_cell_options`.
    media_dir
        Where the figures are written as PNG files (named by cell and output).

    Returns
    -------
    str
        The body: Markdown cells as written in the ``.qmd`` (headings with their
        ``{#sec-…}`` ids, which Typst numbers), raw HTML blocks, Markdown
        outputs, and figures as ``![caption](file){#fig-…}``.
    """
    media_dir.mkdir(parents=True, exist_ok=True)
    parts: list[str] = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            parts.append(_text(cell.metadata.get(MARKDOWN_SOURCE, cell.source)))
            continue
        if cell.cell_type != "code":
            continue
        blocks: list[list[str]] = []  # [kind, text, (figure caption)]
        for k, out in enumerate(cell.get("outputs", [])):
            data = out.get("data", {})
            caption = out.get("metadata", {}).get(CAPTION)
            if caption:
                if caption["kind"] == "fig":
                    for block in reversed(blocks):
                        if block[0] == "image":
                            block[2] = caption["text"]
                            block[3] = caption.get("label") or ""
                            break
                else:
                    blocks.insert(0, ["para", f"Tabell {caption['number']}: {caption['text']}"])
                continue
            if out.get("output_type") == "stream":
                if out.get("name") == "stdout":
                    blocks.append(["text", _fence("", _text(out["text"]))])
                continue
            if "image/png" in data:
                name = f"{cell.get('id', 'cell')}-{k}.png"
                (media_dir / name).write_bytes(base64.b64decode(_text(data["image/png"])))
                blocks.append(["image", name, "", ""])
            elif "text/html" in data:
                blocks.append(["text", _fence("{=html}", _text(data["text/html"]))])
            elif "text/markdown" in data:
                blocks.append(["text", _text(data["text/markdown"])])
            elif "text/plain" in data:
                blocks.append(["text", _fence("", _text(data["text/plain"]))])
        for block in blocks:
            if block[0] == "image":
                _, name, caption_text, label = block
                attrs = f"#{label} " if label else ""
                caption_text = re.sub(r"([\[\]])", r"\\\1", caption_text)  # inside ![…]
                parts.append(f"![{caption_text}]({name}){{{attrs}width=100%}}")
            else:
                parts.append(block[1])
    return "\n\n".join(p.strip("\n") for p in parts if p.strip()) + "\n"


def typst_metadata(meta: dict[str, Any]) -> dict[str, Any]:
    """The Pandoc metadata of the Typst template: the document's and ``format.typst``'s.

    Examples
    --------
    >>> m = typst_metadata({"title": "T", "subtitle": "2025", "lang": "nb",
    ...     "format": {"typst": {"toc": True, "toc-depth": 2, "number-sections": True}}})
    >>> m["section-numbering"], m["toc-depth"], m["title"]
    ('1.1.a', 2, 'T')
    """
    fmt = (meta.get("format") or {}).get("typst") or {}
    out: dict[str, Any] = {
        key: meta[key]
        for key in ("title", "subtitle", "lang", "running-title")
        if meta.get(key) is not None
    }
    for key in ("toc", "toc-depth", "toc-title"):
        if fmt.get(key) is not None:
            out[key] = fmt[key]
    if fmt.get("number-sections"):
        out["section-numbering"] = "1.1.a"  # what Quarto passes for number-sections
    return out


def write_pdf(markdown: str, meta: dict[str, Any], media_dir: Path, target: Path) -> Path:
    """Compile Pandoc Markdown to ``target`` (PDF) through Pandoc and Typst.

    Parameters
    ----------
    markdown
        The body (:func:`notebook_markdown`); its figures lie in ``media_dir``.
    meta
        The merged front matter and ``_quarto.yml`` settings.
    media_dir
        The folder of the figures; also where the Typst source is written.
    target
        The PDF file.

    Raises
    ------
    ArrStatsError
        Pandoc or Typst missing or failing.
    """
    try:
        import typst
    except ImportError as exc:
        raise ArrStatsError(
            "PDF without Quarto needs the typst package (in requirements.lock and "
            "environment.yml): install the project's lock"
        ) from exc
    work = media_dir
    source = work / "report.md"
    source.write_text(markdown, encoding="utf-8")
    metadata = work / "metadata.yml"
    metadata.write_text(yaml.safe_dump(typst_metadata(meta), allow_unicode=True), "utf-8")
    typ = work / "report.typ"
    done = subprocess.run(
        [
            pandoc_executable(),
            str(source),
            "--from",
            "markdown",
            "--to",
            "typst",
            "--shift-heading-level-by=-1",  # the document's sections are ## (as in Quarto)
            "--template",
            str(PANDOC_TEMPLATE),
            "--lua-filter",
            str(HTML_BLOCKS_FILTER),
            "--metadata-file",
            str(metadata),
            "--output",
            str(typ),
        ],
        cwd=work,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise ArrStatsError(f"pandoc failed on {target.name}:\n{done.stderr.strip()[-2000:]}")
    try:
        typst.compile(str(typ), output=str(target), root=str(work), ignore_system_fonts=True)
    except Exception as exc:  # typst.TypstError carries the diagnostic
        message = getattr(exc, "message", None) or str(exc)
        raise ArrStatsError(f"typst failed on {target.name}: {message}") from exc
    return target


def notebook_to_pdf(nb: Any, meta: dict[str, Any], target: Path) -> Path:
    """Write an executed, option-applied notebook as the PDF ``target``."""
    with tempfile.TemporaryDirectory(prefix="arr-pdf-") as tmp:
        media = Path(tmp)
        return write_pdf(notebook_markdown(nb, media), meta, media, target)
