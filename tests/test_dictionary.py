"""The data dictionary against the data model (docs/spec/data-model.md).

The spec's Markdown tables are parsed independently of the YAML files, so a
variable, code or label that is missing, renamed or mistyped in the dictionary
makes these tests fail.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from arr_stats.config import PROJECT_ROOT
from arr_stats.dictionary import codebook_markdown, load_dictionary
from arr_stats.domain import DEFAULT_STATE_ORDER

SPEC = PROJECT_ROOT / "docs" / "spec"
UPSTREAM_SPEC = PROJECT_ROOT.parent / "shared" / "spec"

#: Labels the dictionary deliberately spells out in full where the spec's
#: table abbreviates (so a report reader sees a self-contained label).
EXPANDED_LABELS = {("education", 4): ("> 4 år", "Høyskole/universitet > 4 år")}


def spec_tables() -> dict[str, list[tuple[str, str, str]]]:
    """file stem → [(raw, canonical, type-and-codes)] from data-model.md."""
    tables: dict[str, list[tuple[str, str, str]]] = {}
    stems: list[str] = []
    in_table = False
    for line in (SPEC / "data-model.md").read_text(encoding="utf-8").splitlines():
        if in_table and not line.startswith("|"):
            stems, in_table = [], False  # a file's variable table ends at its first non-row
        if line.startswith("`") and ".*`" in line:
            stems = re.findall(r"`(\w+)\.\*`", line.split("—")[0])
            for stem in stems:
                tables[stem] = []
        elif line.startswith("| ") and stems and not line.startswith("| raw") and "---" not in line:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            in_table = True
            if len(cells) == 3:
                for stem in stems:
                    tables[stem].append((cells[0], cells[1], cells[2]))
        elif line.startswith("#"):
            stems = []
    return tables


def spec_codes(text: str) -> dict[int, str]:
    """'1 = Ja, 0 = Nei' → {1: 'Ja', 0: 'Nei'}; English glosses in brackets dropped."""
    parts = re.split(r"[,;]\s*(?=\d+ = )", text)
    codes = {}
    for part in parts:
        m = re.match(r"\s*(\d+) = (.+)$", part)
        if m:
            label = re.sub(r"\s*\([^)]*\)\s*$", "", m.group(2)).strip()
            codes[int(m.group(1))] = label
    return codes


def test_spec_parser_finds_every_delivery_file():
    # data-model.md names nine delivery files; the parser must see all of them.
    assert set(spec_tables()) == {
        "skjema_t0",
        "skjema_t1",
        "skjema_t2",
        "skjema_t3",
        "institusjoner",
        "ytelser",
        "arbeidsforhold",
        "personer",
    }


@pytest.mark.parametrize("stem", sorted(spec_tables()))
def test_every_spec_variable_is_in_the_dictionary_in_order(stem):
    table = load_dictionary().table(stem)
    spec = spec_tables()[stem]
    assert [(v.raw, v.name) for v in table.variables] == [(raw, canon) for raw, canon, _ in spec]


@pytest.mark.parametrize("stem", sorted(spec_tables()))
def test_codes_and_labels_match_the_spec(stem):
    table = load_dictionary().table(stem)
    for raw, _, text in spec_tables()[stem]:
        codes = spec_codes(text)
        var = table.variable(raw)
        if "…" in text:  # "1 = Svært god … 5 = Svært dårlig": only the ends are given
            assert var.codes[1] == "Svært god" and var.codes[5] == "Svært dårlig"
            assert sorted(var.codes) == [1, 2, 3, 4, 5]
        elif codes and raw != "rehab_typer":
            expected = {
                k: EXPANDED_LABELS.get((var.name, k), (lab, lab))[1]
                if EXPANDED_LABELS.get((var.name, k), (None,))[0] == lab
                else lab
                for k, lab in codes.items()
            }
            assert var.type == "code", raw
            assert var.codes == expected, raw


@pytest.mark.parametrize("stem", sorted(spec_tables()))
def test_types_and_ranges_match_the_spec(stem):
    table = load_dictionary().table(stem)
    for raw, _, text in spec_tables()[stem]:
        var = table.variable(raw)
        if text.startswith("date"):
            assert var.type == "date", raw
        if text.startswith("integer"):
            assert var.type == "integer", raw
        if text.startswith("string"):
            assert var.type == "string", raw
        m = re.search(r"(\d+)–(\d+)", text)
        if m and "=" not in text:
            assert var.range == (float(m.group(1)), float(m.group(2))), raw
        if "unique" in text:
            assert raw in table.keys, raw


def test_benefit_codelist_matches_the_spec():
    text = (SPEC / "data-model.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| ([A-Z]+) \| [^|]+ \| ([a-z, ]+) \|$", text, flags=re.M)
    spec = {code: tuple(c.strip() for c in cats.split(",")) for code, cats in rows}
    assert len(spec) == 9
    dd = load_dictionary()
    assert {c: b.categories for c, b in dd.benefits.items()} == spec


def test_benefit_states_follow_outcomes_md():
    # outcomes.md, "Daily state": UFT 100 → disability_full, UFT partial →
    # disability_partial; AAP/RP/ATTF/TU → aap; SP 100 / partial → sick leave
    # full / partial; DP → unemployed; TP, OVG → other_benefit.
    dd = load_dictionary()
    states = {c: (b.state_full, b.state_partial) for c, b in dd.benefits.items()}
    assert states == {
        "SP": ("sick_leave_full", "sick_leave_partial"),
        "AAP": ("aap", "aap"),
        "UFT": ("disability_full", "disability_partial"),
        "RP": ("aap", "aap"),
        "ATTF": ("aap", "aap"),
        "TU": ("aap", "aap"),
        "DP": ("unemployed", "unemployed"),
        "TP": ("other_benefit", "other_benefit"),
        "OVG": ("other_benefit", "other_benefit"),
    }
    assert set(dd.state_labels()) <= set(DEFAULT_STATE_ORDER)


def test_missing_codes():
    assert load_dictionary().missing_codes == {
        97: "Ikke aktuelt",
        98: "Ikke besvart",
        99: "Vet ikke",
    }


@pytest.mark.parametrize(
    ("code", "group"),
    [
        ("M54.5", "musculoskeletal"),  # ICD-10 chapter M
        ("M545", "musculoskeletal"),  # ICD-10 without the dot
        ("m79.7 ", "musculoskeletal"),  # case and blanks do not matter
        ("L03", "musculoskeletal"),  # ICPC-2 chapter L
        ("F32.1", "mental"),  # ICD-10 chapter F
        ("F43", "mental"),  # bare three characters: ICD-10 F (see codelist)
        ("P76", "mental"),  # ICPC-2 chapter P
        ("L40.5", "other"),  # ICD-10 chapter L (skin) has a subcode
        ("P07.3", "other"),  # ICD-10 chapter P (perinatal)
        ("G35", "other"),
        ("K21.9", "other"),
        ("", "unknown"),
        (None, "unknown"),
        ("rygg", "unknown"),  # not a code of either system
        ("M5", "unknown"),
    ],
)
def test_diagnosis_groups(code, group):
    assert load_dictionary().diagnosis_group(code) == group


def test_codebook_has_every_variable_and_code():
    dd = load_dictionary()
    text = codebook_markdown(dd)
    for table in dd.tables:
        assert f"## {table.name}" in text
        for var in table.variables:
            assert f"| {var.raw} | {var.name} |" in text
            for code, label in var.codes.items():
                assert f"{code} = {label}" in text
    for code in dd.benefits:
        assert f"| {code} |" in text


def test_codebook_command_writes_file(tmp_path):
    from arr_stats.cli import main

    out = tmp_path / "codebook.md"
    assert main(["dictionary", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == codebook_markdown()


def test_project_copy_of_the_spec_is_current():
    if not UPSTREAM_SPEC.is_dir():
        pytest.skip("the registry's shared/spec is not beside this checkout")
    for upstream in UPSTREAM_SPEC.glob("*.md"):
        ours = SPEC / upstream.name
        assert ours.read_bytes() == upstream.read_bytes(), f"docs/spec/{upstream.name} is stale"


def test_dictionary_files_are_all_listed():
    directory = PROJECT_ROOT / "data_dictionary"
    on_disk = {p.resolve() for p in Path(directory).rglob("*.yaml")}
    assert on_disk == {p.resolve() for p in load_dictionary().files}
