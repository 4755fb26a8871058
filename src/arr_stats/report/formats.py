"""How the report prints numbers, intervals, target levels and HTML tables, per language.

Tables and notes reach the page as :class:`HtmlBlock`: HTML carried in a
Markdown raw block (``{=html}``), not as a Jupyter ``text/html`` output.
Quarto adds require.js and jQuery from a CDN to every page with a
``text/html`` (or ``application/javascript``) cell output, taking it for a
JavaScript widget (``extractJupyterWidgetDependencies`` in Quarto's
``src/core/jupyter/widgets.ts``), and ``embed-resources`` does not inline
them; a Markdown output is not taken for a widget. Pandoc passes the raw
block through to HTML and Quarto's HTML-table processing turns its tables into
Typst tables for the PDF, as it did with ``text/html``. The fallback engine
turns the same raw block back into HTML (:func:`raw_html_of`).
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePath

import pandas as pd
from IPython.display import Markdown

from arr_stats import indicators
from arr_stats.config import RunConfig
from arr_stats.labels import DEFAULT_LANGUAGE, t

#: How each indicator's value is printed; indicators not named are shares.
VALUE_FORMAT: dict[str, str] = {"arr_hrbdays": "days", "arr_wa_change": "points"}

#: Catalogue keys of the target levels' printed names, and their CSS classes.
LEVEL_KEYS = {
    indicators.LEVEL_HIGH: ("format.level_high", "level-high"),
    indicators.LEVEL_MODERATE: ("format.level_moderate", "level-moderate"),
    indicators.LEVEL_LOW: ("format.level_low", "level-low"),
}

#: Printed names of the target levels (bokmål) and their CSS classes.
LEVEL_TEXT = {level: (t(key), css) for level, (key, css) in LEVEL_KEYS.items()}


def level_text(level: object, lang: str = DEFAULT_LANGUAGE) -> tuple[str, str] | None:
    """The printed name and CSS class of a target level, or ``None`` for no level.

    Examples
    --------
    >>> level_text("høy", "en"), level_text(None)
    (('High', 'level-high'), None)
    """
    if level not in LEVEL_KEYS:
        return None
    key, css = LEVEL_KEYS[level]
    return t(key, lang), css


#: Inline colours of the level cells, so that they survive Quarto's Typst (PDF) tables.
LEVEL_COLOURS = {"level-high": "#cfe8d5", "level-moderate": "#fbe8b5", "level-low": "#f6cfcb"}


def nb_number(value: float, decimals: int = 0, lang: str = DEFAULT_LANGUAGE) -> str:
    """A number in the style of ``lang``.

    Bokmål: decimal comma, thin space between thousands; English: decimal
    point, comma between thousands. Both print a true minus sign.

    Examples
    --------
    >>> nb_number(1234.5, 1), nb_number(-0.25, 2), nb_number(float("nan"))
    ('1\\u202f234,5', '−0,25', '–')
    >>> nb_number(1234.5, 1, "en"), nb_number(-0.25, 2, "en")
    ('1,234.5', '−0.25')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value):
        return "–"
    text = f"{abs(float(value)):,.{decimals}f}"
    if lang == "nb":
        text = text.replace(",", "\u202f").replace(".", ",")
    return ("−" if float(value) < 0 and text.strip("0,.\u202f") else "") + text


def nb_percent(share: float, decimals: int = 0, lang: str = DEFAULT_LANGUAGE) -> str:
    """A share as a percentage: ``54 %`` (non-breaking space) in bokmål, ``54%`` in English.

    Examples
    --------
    >>> nb_percent(0.5432), nb_percent(0.5432, 1, "en")
    ('54\\xa0%', '54.3%')
    """
    if share is None or pd.isna(share):
        return "–"
    space = "\u00a0" if lang == "nb" else ""
    return f"{nb_number(100 * float(share), decimals, lang)}{space}%"


def format_value(
    ind_id: str, value: float, signed: bool = False, lang: str = DEFAULT_LANGUAGE
) -> str:
    """An indicator value with its unit.

    Examples
    --------
    >>> format_value("arr_rtw12", 0.54), format_value("arr_hrbdays", 118.0)
    ('54\\xa0%', '118 dager')
    >>> format_value("arr_wa_change", 1.37, signed=True)
    '+1,4 poeng'
    >>> format_value("arr_wa_change", 1.37, signed=True, lang="en")
    '+1.4 points'
    """
    if value is None or pd.isna(value):
        return "–"
    kind = VALUE_FORMAT.get(ind_id, "share")
    if kind == "days":
        return t("format.days", lang, value=nb_number(value, 0, lang))
    if kind == "points":
        sign = "+" if signed and value > 0 else ""
        return sign + t("format.points", lang, value=nb_number(value, 1, lang))
    return nb_percent(value, 0, lang)


def format_interval(ind_id: str, lower: float, upper: float, lang: str = DEFAULT_LANGUAGE) -> str:
    """``lower–upper`` in the indicator's unit (without repeating it in the middle)."""
    if lower is None or upper is None or pd.isna(lower) or pd.isna(upper):
        return "–"
    kind = VALUE_FORMAT.get(ind_id, "share")
    if kind == "days":
        both = f"{nb_number(lower, 0, lang)}–{nb_number(upper, 0, lang)}"
        return t("format.days", lang, value=both)
    if kind == "points":
        return t(
            "format.points_interval",
            lang,
            lower=nb_number(lower, 1, lang),
            upper=nb_number(upper, 1, lang),
        )
    return f"{nb_number(100 * lower, 0, lang)}–{nb_percent(upper, 0, lang)}"


def format_spread(ind_id: str, row: pd.Series, lang: str = DEFAULT_LANGUAGE) -> tuple[str, str]:
    """The name and text of an aggregated row's interval, or of a median's quartiles.

    A median (``arr_hrbdays``) is shown with its interquartile range
    (``q1``–``q3``), every other indicator with its 95 % confidence interval
    (``lower``–``upper``).

    Examples
    --------
    >>> format_spread("arr_hrbdays", pd.Series({"q1": 25.0, "q3": 75.0}))
    ('kvartilbredde', '25–75 dager')
    >>> format_spread("arr_rtw12", pd.Series({"lower": 0.4811, "upper": 0.6041}))
    ('95\xa0% KI', '48–60\xa0%')
    """
    if indicators.INDICATOR_STATISTIC[ind_id] == "median":
        return t("format.iqr", lang), format_interval(ind_id, row.get("q1"), row.get("q3"), lang)
    return t("format.ci95", lang), format_interval(ind_id, row.get("lower"), row.get("upper"), lang)


def shown_path(path: str | PurePath, base: str | PurePath | None) -> str:
    """A path as the report prints it: relative to ``base``, never absolute.

    A path under ``base`` is shown relative to it (``/`` separators); any
    other path by its last part alone, so that no rendered edition names the
    folders of a project or a user (in TSD: ``/tsd/pNN/home/…``).

    Examples
    --------
    >>> shown_path("/p/arr/analysis/demo.toml", "/p/arr")
    'analysis/demo.toml'
    >>> shown_path("/tmp/x/derived", "/p/arr"), shown_path("/p/arr/a.toml", None)
    ('derived', 'a.toml')
    >>> shown_path("/p/arr", "/p/arr")
    '.'
    """
    path = PurePath(path)
    if base is not None:
        try:
            return path.relative_to(base).as_posix()
        except ValueError:
            pass
    return path.name


def code_label(variable: str, value: object, lang: str = DEFAULT_LANGUAGE) -> object:
    """A code's label of ``variable`` in ``lang`` from the data dictionary (``codes_en``).

    The episodes carry the bokmål labels of the codes; any other value
    (diagnosis groups, age groups, missing) is returned as it is.

    Examples
    --------
    >>> code_label("sex", "Kvinne", "en"), code_label("sex", "Kvinne"), code_label("age_group", "<30", "en")
    ('Female', 'Kvinne', '<30')
    """
    if lang == DEFAULT_LANGUAGE or not isinstance(value, str):
        return value
    from arr_stats.dictionary import load_dictionary

    return load_dictionary().code_label_en(variable, value)


def target_text(ind_id: str, config: RunConfig, lang: str = DEFAULT_LANGUAGE) -> str:
    """The target levels of an indicator, e.g. ``høy ≥ 60 %, lav < 40 %``."""
    target = config.targets[ind_id]
    high, low = ("≥", "<") if target.direction == "higher" else ("≤", ">")
    return t(
        "format.target",
        lang,
        high=high,
        green=format_value(ind_id, target.level_green, lang=lang),
        low=low,
        yellow=format_value(ind_id, target.level_yellow, lang=lang),
    )


_RAW_HTML_BLOCK = re.compile(r"\A(`{3,})\{=html\}\n(.*)\n\1\n?\Z", re.S)


@dataclass(frozen=True)
class HtmlBlock:
    """A block of HTML shown by a cell, as a Markdown raw HTML block.

    Examples
    --------
    >>> HtmlBlock("<p>a</p>")._repr_markdown_()
    '```{=html}\\n<p>a</p>\\n```\\n'
    >>> HtmlBlock("<pre>```</pre>")._repr_markdown_().splitlines()[0]
    '````{=html}'
    """

    #: The HTML.
    data: str

    def _repr_markdown_(self) -> str:
        longest = max((len(run) for run in re.findall(r"`+", self.data)), default=0)
        fence = "`" * max(3, longest + 1)
        return f"{fence}{{=html}}\n{self.data}\n{fence}\n"


def raw_html_of(markdown: str) -> str | None:
    """The HTML of a Markdown text that is one raw HTML block, else ``None``.

    Examples
    --------
    >>> raw_html_of(HtmlBlock("<p>a</p>")._repr_markdown_())
    '<p>a</p>'
    >>> raw_html_of("- a list") is None
    True
    """
    match = _RAW_HTML_BLOCK.match(markdown)
    return match.group(2) if match else None


def html_table(
    table: pd.DataFrame,
    caption: str | None = None,
    numeric: Iterable[str] = (),
    row_classes: Sequence[str] | None = None,
    cell_classes: dict[str, Sequence[str | None]] | None = None,
    note: str | None = None,
) -> HtmlBlock:
    """A DataFrame as a clean HTML table (no index, escaped text, right-aligned numbers).

    Cells with a level class (``level-high`` …) get an inline background too,
    so the colour survives Quarto's HTML → Typst table translation.

    Examples
    --------
    >>> t = html_table(pd.DataFrame({"Enhet": ["A&B"], "n": ["12"]}), numeric=["n"])
    >>> "<td>A&amp;B</td>" in t.data and '<td class="num">12</td>' in t.data
    True
    """
    numeric = set(numeric)
    cell_classes = cell_classes or {}
    head = "".join(
        f'<th class="num">{html.escape(str(c))}</th>'
        if c in numeric
        else f"<th>{html.escape(str(c))}</th>"
        for c in table.columns
    )
    rows = []
    for i, (_, row) in enumerate(table.iterrows()):
        cells = []
        for column in table.columns:
            classes = []
            if column in numeric:
                classes.append("num")
            extra = cell_classes.get(column)
            style = ""
            if extra is not None and extra[i]:
                classes.append(extra[i])
                if extra[i] in LEVEL_COLOURS:
                    style = f' style="background-color: {LEVEL_COLOURS[extra[i]]}"'
            attr = f' class="{" ".join(classes)}"' if classes else ""
            value = row[column]
            text = "" if value is None or (not isinstance(value, str) and pd.isna(value)) else value
            cells.append(f"<td{attr}{style}>{html.escape(str(text))}</td>")
        row_class = row_classes[i] if row_classes is not None and row_classes[i] else None
        tr = f'<tr class="{row_class}">' if row_class else "<tr>"
        rows.append(tr + "".join(cells) + "</tr>")
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    foot = f'<p class="table-note">{html.escape(note)}</p>' if note else ""
    return HtmlBlock(
        f'<div class="table-wrap"><table class="arr-table">{cap}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>{foot}</div>"
    )


def bullet_list(lines: Iterable[str]) -> Markdown:
    """Markdown bullet list."""
    return Markdown("\n".join(f"- {line}" for line in lines) + "\n")
