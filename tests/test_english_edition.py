"""The English edition (``arr-stats report --lang en``): one label catalogue, two languages.

Fast tests check the catalogue (every key in every language, the same fields),
the document's placeholders and the number formats against hand-written
expectations. The slow test renders the national edition in English with the
fallback and reads it as an English reader would: English headings, English
captions of the web figures, and no bokmål word left outside the data's own
names (institutions, health regions, file names, the configuration).
"""

from __future__ import annotations

import csv
import html
import re
import string

import pytest
from test_report_offline import pdf_pages

from arr_stats.config import DEMO_CONFIG, load_config
from arr_stats.dictionary import load_dictionary
from arr_stats.errors import ArrStatsError
from arr_stats.labels import CATALOGUE, LANGUAGES, localise_document, t
from arr_stats.report import editions, render
from arr_stats.report.editions import REPORT_DOCUMENT, Edition
from arr_stats.report.formats import (
    code_label,
    format_interval,
    format_value,
    nb_number,
    nb_percent,
    target_text,
)

#: Letters that only bokmål text has.
NORWEGIAN_LETTERS = re.compile(r"[æøåÆØÅ]")

#: Frequent bokmål words of the report's own text (not English words as well).
NORWEGIAN_WORDS = (
    "og",
    "av",
    "ikke",
    "med",
    "etter",
    "til",
    "opphold",
    "utskrevet",
    "andel",
    "dager",
    "måneder",
    "mnd",
    "nasjonalt",
    "enhet",
    "resten",
    "landet",
    "tilstand",
    "arbeid",
    "ytelse",
    "ytelser",
    "personer",
    "skjult",
    "vist",
    "vises",
    "grense",
    "grensene",
    "kohort",
    "institusjon",
    "institusjoner",
    "svarprosent",
    "dekningsgrad",
    "totalt",
    "ukjent",
    "alle",
    "høy",
    "lav",
    "moderat",
    "figur",
    "tabell",
    "innhold",
    "forventet",
    "observert",
    "rendret",
    "versjon",
    "pakke",
)

#: The nine sections of indicators-and-report.md, as the English edition names them.
ENGLISH_SECTIONS = (
    "Summary",
    "The registry’s data",
    "The participants",
    "The institutions",
    "Work participation",
    "Time to return to work",
    "Self-reported work and work ability",
    "Methods and data quality",
    "Appendix: provenance",
)


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_catalogue_key_exists_in_every_language_with_the_same_fields():
    keys = set(CATALOGUE["nb"])
    for lang in LANGUAGES:
        assert set(CATALOGUE[lang]) == keys, f"{lang}: {set(CATALOGUE[lang]) ^ keys}"
        for key, text in CATALOGUE[lang].items():
            assert text.strip(), f"{lang} {key} is empty"
            assert _fields(text) == _fields(CATALOGUE["nb"][key]), f"{lang} {key}"


def test_english_labels_are_not_the_bokmal_ones():
    # every English text differs from bokmål unless it is a name or a symbol
    same = {k for k in CATALOGUE["nb"] if CATALOGUE["nb"][k] == CATALOGUE["en"][k]}
    assert same <= {
        "sec.km",  # Kaplan–Meier
        "col.n_suffix",
        "col.pct_suffix",
        "col.parameter",
        "plot.reference",  # ref.
        "figure.oe",  # O/E, {indicator}
    }, same
    for key, text in CATALOGUE["en"].items():
        assert not NORWEGIAN_LETTERS.search(text), f"en {key}: {text}"


def test_an_unknown_language_is_refused():
    with pytest.raises(ArrStatsError, match="unknown language 'de'"):
        t("unit.rest", "de")


def test_the_document_takes_every_static_text_from_the_catalogue():
    source = REPORT_DOCUMENT.read_text(encoding="utf-8")
    for lang in LANGUAGES:
        text = localise_document(source, lang)
        assert "{{<" not in text
    # outside the code cells, the document itself holds no bokmål
    prose = re.sub(r"```\{python\}.*?```", "", source, flags=re.S)
    assert not NORWEGIAN_LETTERS.search(prose)
    english = localise_document(source, "en")
    assert "## Summary {#sec-sammendrag}" in english
    assert 'lang: "en"' in english
    assert '#| fig-cap: "Mean work ability (0–10) at T0–T3 with 95% CI."' in english


def test_numbers_follow_the_language():
    assert nb_number(1234.5, 1) == "1\u202f234,5"
    assert nb_number(1234.5, 1, "en") == "1,234.5"
    assert nb_number(-0.3, 2, "en") == "−0.30"
    assert nb_percent(0.456) == "46\u00a0%"
    assert nb_percent(0.456, 1, "en") == "45.6%"
    assert format_value("arr_hrbdays", 118.0, lang="en") == "118 days"
    assert format_value("arr_wa_change", 1.37, signed=True, lang="en") == "+1.4 points"
    assert format_interval("arr_wa_change", -0.3, 1.5, "en") == "−0.3 to 1.5"
    assert format_interval("arr_rtw12", 0.4811, 0.6041, "en") == "48–60%"
    assert format_interval("arr_rtw12", 0.4811, 0.6041) == "48–60\u00a0%"


def test_target_levels_are_written_in_the_language():
    config = load_config(DEMO_CONFIG)
    target = config.targets["arr_rtw12"]  # a share where higher is better
    high, low = nb_percent(target.level_green, 0, "en"), nb_percent(target.level_yellow, 0, "en")
    assert target_text("arr_rtw12", config, "en") == f"high ≥ {high}, low < {low}"


def test_code_labels_come_from_the_data_dictionary_in_english():
    assert code_label("education", "Videregående", "en") == "Upper secondary"
    assert code_label("sex", "Kvinne", "en") == "Female"
    assert code_label("sex", "Kvinne") == "Kvinne"
    assert code_label("age_group", "60+", "en") == "60+"
    # a variable that labels its codes in English labels every code
    for table in load_dictionary().tables:
        for variable in table.variables:
            if variable.codes_en:
                assert set(variable.codes_en) == set(variable.codes), variable.name


def test_english_editions_lie_beside_the_bokmal_ones():
    assert Edition(2025).stem == "national"
    assert Edition(2025, lang="en").stem == "national.en"
    assert Edition(2025, "0123", lang="en").stem == "0123.en"
    assert Edition(2025, "0123", "Rehab", lang="en").subtitle == (
        "2025 · Rehab (0123) · own unit against the rest of the country"
    )


@pytest.fixture(scope="module")
def english(tmp_path_factory, config_for, demo_delivery, demo_derived, demo_params):
    """``english(engine)``: the national edition in English (HTML, PDF), rendered once per engine."""
    year = demo_params.years[1]
    config = config_for(demo_delivery, demo_derived, demo_params.data_end)
    done: dict[str, dict] = {}

    def render_with(engine: str) -> dict:
        if engine not in done:
            out = tmp_path_factory.mktemp(f"english-{engine}")
            written = render.render_reports(
                config, demo_derived, year, out_dir=out, engine=engine, lang="en", pdf=True
            )
            done[engine] = {"year": year, "dir": out / str(year), "written": written}
        return done[engine]

    return render_with


def _visible_text(page: str) -> str:
    page = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"<pre\b.*?</pre>", " ", page, flags=re.S)  # the configuration (JSON)
    page = re.sub(r"<[^>]+>", " ", page)
    return re.sub(r"\s+", " ", html.unescape(page))


def _assert_no_bokmal(text: str, names: set[str]) -> None:
    """No bokmål letter or word in ``text`` once the data's own ``names`` are taken out."""
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, " ")
    left = [text[max(0, m.start() - 40) : m.end() + 40] for m in NORWEGIAN_LETTERS.finditer(text)]
    assert not left, left[:5]
    words = {w.lower() for w in re.findall(r"[^\W\d_]+", text)}
    assert not words & set(NORWEGIAN_WORDS), sorted(words & set(NORWEGIAN_WORDS))


ENGINES = [pytest.param("fallback"), pytest.param("quarto", marks=pytest.mark.quarto)]


@pytest.mark.slow
@pytest.mark.parametrize("engine", ENGINES)
def test_the_english_national_edition_has_no_bokmal_left(english, engine, demo_derived):
    from arr_stats.derive.load import load_build

    rendered = english(engine)
    year_dir = rendered["dir"]
    page = (year_dir / "national.en.html").read_text(encoding="utf-8")
    assert re.search(r'<html[^>]* lang="en"', page)
    assert "Contents" in page and "National edition" in page
    headings = [
        re.sub(r"^[\d.]+\s*", "", re.sub(r"<[^>]+>", "", html.unescape(h))).strip()
        for h in re.findall(r"<h2[^>]*>(.*?)</h2>", page, flags=re.S)
    ]
    for section in ENGLISH_SECTIONS:
        assert section in headings, headings
    # what may stay bokmål: the data's own names (institutions, health regions,
    # validation rules and tables, input file names)
    derived = load_build(demo_derived)
    names = set(derived.institutions["name"].astype(str))
    names |= set(derived.institutions["health_region"].dropna().astype(str))
    names |= set(derived.issues["rule"].astype(str)) | set(derived.issues["table"].astype(str))
    names |= set((derived.build.get("inputs") or {}).keys())
    _assert_no_bokmal(_visible_text(page), names)
    # the printed edition too (its configuration block left out, as in the HTML)
    printed = " ".join(pdf_pages(year_dir / "national.en.pdf"))
    printed = printed[: printed.rfind("Configuration")]
    assert "Annual report ARR" in printed and "Figure 1" in printed and "Table 1" in printed
    _assert_no_bokmal(re.sub(r"\s+", " ", printed), names)
    # English number style: per cent without a space, no decimal comma in a table cell
    assert re.search(r"\d%", _visible_text(page)) and not re.search(r"\d\u00a0%", page)
    assert not re.search(r"<td[^>]*>[−+]?\d+,\d+\s*(%|days|points)?</td>", page)
    # the web figures: beside the bokmål ones, their alt text the English captions
    with (year_dir / "figures" / "national.en" / "figures.csv").open(encoding="utf-8") as f:
        alts = [row["alt"] for row in csv.DictReader(f)]
    assert "Mean work ability (0–10) at T0–T3 with 95% CI." in alts
    assert all(not NORWEGIAN_LETTERS.search(alt) for alt in alts)
    assert not (year_dir / "national.html").exists()  # only the English edition was asked for


@pytest.mark.slow
@pytest.mark.quarto
def test_both_engines_render_the_same_english_edition(english):
    from test_report_offline import outline

    pages = [
        (english(e)["dir"] / "national.en.html").read_text(encoding="utf-8")
        for e in ("quarto", "fallback")
    ]
    quarto_outline, fallback_outline = (outline(p) for p in pages)
    headings, captions, images = fallback_outline
    assert len(headings) >= 20 and len(captions) >= 20 and images >= 6
    assert quarto_outline == fallback_outline


def test_plan_editions_in_english(demo_derived, demo_params):
    planned = editions.plan_editions(demo_derived, demo_params.years[1], lang="en")
    assert [e.stem for e in planned] == ["national.en"]


def test_an_english_edition_shows_only_the_authors_english_text(tmp_path):
    from arr_stats.report import authors

    year = tmp_path / "2025"
    year.mkdir()
    (year / "vurdering.md").write_text("Godt år.\n", encoding="utf-8")
    (year / "vurdering.en.md").write_text("A good year.\n", encoding="utf-8")
    (year / "tid.md").write_text("Bare bokmål.\n", encoding="utf-8")
    assert authors.text_file(tmp_path, 2025, None, "vurdering") == year / "vurdering.md"
    assert authors.text_file(tmp_path, 2025, None, "vurdering", "en") == year / "vurdering.en.md"
    assert authors.text_file(tmp_path, 2025, None, "tid", "en") is None
    assert authors.slot_markdown("vurdering", "A good year.", "en").startswith(
        "**The registry’s assessment**"
    )
    assert len(authors.check_texts(tmp_path, 2025, [None])) == 3
    (year / "vurdering.de.md").write_text("Ein gutes Jahr.\n", encoding="utf-8")
    with pytest.raises(ArrStatsError, match="not a text of the report"):
        authors.check_texts(tmp_path, 2025, [None])


def test_the_document_can_be_written_in_a_language_for_a_hand_render(capsys):
    from arr_stats import labels

    assert labels.main(["en"]) == 0
    written = capsys.readouterr().out
    assert written == localise_document(REPORT_DOCUMENT.read_text(encoding="utf-8"), "en")
    assert labels.main(["de"]) == 2


def test_the_command_takes_the_language(capsys):
    from arr_stats.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["report", "--year", "2025"]).lang == "nb"
    assert parser.parse_args(["report", "--year", "2025", "--lang", "en"]).lang == "en"
    with pytest.raises(SystemExit):
        parser.parse_args(["report", "--year", "2025", "--lang", "de"])
    assert "invalid choice: 'de'" in capsys.readouterr().err
