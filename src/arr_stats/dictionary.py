"""The data dictionary: every variable, code, label and codelist, read from YAML.

The YAML files in ``data_dictionary/`` are the single source of truth for the
raw → canonical mapping, types, allowed values, Norwegian labels, missing codes
and codelists. Nothing else in the package writes a code or a label down.

Examples
--------
>>> dd = load_dictionary()
>>> dd.table("ytelser").variable("fom").name
'start_date'
>>> dd.benefits["UFT"].categories
('health', 'disability')
>>> dd.diagnosis_group("M54.5"), dd.diagnosis_group("P76"), dd.diagnosis_group(None)
('musculoskeletal', 'mental', 'unknown')
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from arr_stats.config import PROJECT_ROOT

#: Variable types the dictionary knows.
#: ``code`` = integer codes with labels; ``code_str`` = string codes from a
#: codelist; ``code_set`` = comma-separated integer codes.
VARIABLE_TYPES = ("string", "integer", "number", "date", "code", "code_str", "code_set")


def dictionary_dir() -> Path:
    """Where the dictionary lives: inside an installed wheel, or the source tree."""
    packaged = resources.files("arr_stats") / "data_dictionary"
    if packaged.is_dir():
        return Path(str(packaged))
    return PROJECT_ROOT / "data_dictionary"


@dataclass(frozen=True)
class Variable:
    """One variable of a delivery table."""

    raw: str
    name: str
    type: str
    required: bool
    description: str
    codes: dict[int, str] = field(default_factory=dict)
    range: tuple[float, float] | None = None
    codelist: str | None = None
    references: str | None = None
    codes_from: str | None = None
    empty_means: float | None = None
    #: English labels of the codes (the report's English edition), where given.
    codes_en: dict[int, str] = field(default_factory=dict)
    #: Codes that mean missing in this variable (data-model.md: coded items and
    #: 0–10 scales of the registry files); empty for every other variable.
    missing_codes: tuple[int, ...] = ()
    #: Date text that means "open", like an empty date (NAV end dates: 9999-12-31).
    open_end: str | None = None
    #: An identifier: text always, leading zeros significant (data-model.md).
    identifier: bool = False


@dataclass(frozen=True)
class Table:
    """One delivery table (one YAML file), possibly shared by several files."""

    name: str
    source: str  # "registry" or "nav"
    files: tuple[str, ...]
    canonical_table: str
    description: str
    keys: tuple[str, ...]
    variables: tuple[Variable, ...]

    def variable(self, raw_or_name: str) -> Variable:
        """The variable with this raw or canonical name."""
        for var in self.variables:
            if raw_or_name in (var.raw, var.name):
                return var
        raise KeyError(f"{self.name} has no variable {raw_or_name!r}")

    @property
    def raw_names(self) -> list[str]:
        return [v.raw for v in self.variables]

    @property
    def rename_map(self) -> dict[str, str]:
        """raw name → canonical name."""
        return {v.raw: v.name for v in self.variables}


@dataclass(frozen=True)
class Benefit:
    """One NAV benefit code of the benefits codelist."""

    code: str
    label: str
    label_en: str
    categories: tuple[str, ...]
    state_full: str
    state_partial: str

    @property
    def is_health(self) -> bool:
        """Whether a day covered by this benefit (grade > 0) is an HRB day."""
        return "health" in self.categories


@dataclass(frozen=True)
class DiagnosisRule:
    system: str
    pattern: re.Pattern[str]
    group: str


@dataclass(frozen=True)
class DataDictionary:
    """The whole dictionary; load with :func:`load_dictionary`."""

    version: str
    title: str
    missing_codes: dict[int, str]
    tables: tuple[Table, ...]
    benefits: dict[str, Benefit]
    diagnosis_groups: dict[str, dict[str, str]]
    diagnosis_rules: tuple[DiagnosisRule, ...]
    files: tuple[Path, ...]
    #: Cell text that means missing in every column (``NA``, ``NULL``, ``.``),
    #: compared stripped and without case.
    na_tokens: tuple[str, ...] = ()
    #: daily state → ``label``, ``label_en``, ``colour`` (codelists/states.yaml)
    states: dict[str, dict[str, str]] = field(default_factory=dict)
    #: ``rtw_event`` code → ``label``, ``label_en`` (codelists/rtw_events.yaml)
    rtw_events: dict[int, dict[str, str]] = field(default_factory=dict)

    def table(self, name: str) -> Table:
        """The table by its dictionary name, file stem or canonical table name."""
        for table in self.tables:
            if name == table.name or name in table.files:
                return table
        for table in self.tables:
            if name == table.canonical_table:
                return table
        raise KeyError(f"the data dictionary has no table {name!r}")

    @property
    def file_stems(self) -> dict[str, Table]:
        """Every delivery file stem (``skjema_t1``, ``ytelser`` …) and its table."""
        return {stem: t for t in self.tables for stem in t.files}

    def diagnosis_group(self, code: str | None) -> str:
        """The diagnosis group of a diagnosis code (see codelists/diagnosis_groups.yaml)."""
        if code is None or not isinstance(code, str):
            return "unknown"
        code = code.strip().upper()
        for rule in self.diagnosis_rules:
            if rule.pattern.match(code):
                return rule.group
        return "unknown"

    def is_valid_diagnosis(self, code: str) -> bool:
        """Whether a non-empty diagnosis code has the form of ICD-10 or ICPC-2."""
        return self.diagnosis_group(code) != "unknown"

    def code_label_en(self, name: str, label: str) -> str:
        """The English label of a code of variable ``name`` given its (bokmål) label.

        The first table with a variable ``name`` whose codes are labelled in
        English gives it (``codes_en``); a label without one is returned as it is.
        """
        for table in self.tables:
            for variable in table.variables:
                if variable.name == name and variable.codes_en:
                    english = {v: variable.codes_en.get(k, v) for k, v in variable.codes.items()}
                    return english.get(label, label)
        return label

    def state_labels(self) -> list[str]:
        """Every daily state named by the benefits codelist."""
        states = {b.state_full for b in self.benefits.values()}
        states |= {b.state_partial for b in self.benefits.values()}
        return sorted(states)


def _variable(entry: dict[str, Any], where: str) -> Variable:
    vtype = entry.get("type")
    if vtype not in VARIABLE_TYPES:
        raise ValueError(f"{where}: variable {entry.get('raw')!r} has unknown type {vtype!r}")
    rng = entry.get("range")
    return Variable(
        raw=entry["raw"],
        name=entry["name"],
        type=vtype,
        required=bool(entry.get("required", False)),
        description=entry.get("description", ""),
        codes={int(k): str(v) for k, v in (entry.get("codes") or {}).items()},
        codes_en={int(k): str(v) for k, v in (entry.get("codes_en") or {}).items()},
        range=(float(rng[0]), float(rng[1])) if rng else None,
        codelist=entry.get("codelist"),
        references=entry.get("references"),
        codes_from=entry.get("codes_from"),
        empty_means=entry.get("empty_means"),
        missing_codes=tuple(int(c) for c in entry.get("missing_codes") or ()),
        open_end=str(entry["open_end"]) if entry.get("open_end") else None,
        identifier=bool(entry.get("identifier", False)),
    )


def _read_yaml(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@functools.cache
def load_dictionary(directory: Path | None = None) -> DataDictionary:
    """Read the data dictionary.

    Parameters
    ----------
    directory
        The dictionary folder; default: the project's ``data_dictionary/``.

    Returns
    -------
    DataDictionary
    """
    directory = Path(directory) if directory else dictionary_dir()
    index_path = directory / "dictionary.yaml"
    index = _read_yaml(index_path)
    files = [index_path]

    missing_path = directory / index["missing_codes"]
    files.append(missing_path)
    missing = {int(k): str(v) for k, v in _read_yaml(missing_path)["codes"].items()}

    tables = []
    for rel in index["tables"]:
        path = directory / rel
        files.append(path)
        raw = _read_yaml(path)
        tables.append(
            Table(
                name=raw["name"],
                source=raw["source"],
                files=tuple(raw["files"]),
                canonical_table=raw["canonical_table"],
                description=raw.get("description", ""),
                keys=tuple(raw.get("keys") or ()),
                variables=tuple(_variable(v, str(path)) for v in raw["variables"]),
            )
        )

    benefits: dict[str, Benefit] = {}
    groups: dict[str, dict[str, str]] = {}
    rules: list[DiagnosisRule] = []
    states: dict[str, dict[str, str]] = {}
    rtw_events: dict[int, dict[str, str]] = {}
    for rel in index["codelists"]:
        path = directory / rel
        files.append(path)
        raw = _read_yaml(path)
        if raw["name"] == "benefits":
            for code, b in raw["codes"].items():
                benefits[str(code)] = Benefit(
                    code=str(code),
                    label=b["label"],
                    label_en=b["label_en"],
                    categories=tuple(b["categories"]),
                    state_full=b["state_full"],
                    state_partial=b["state_partial"],
                )
        elif raw["name"] == "diagnosis_groups":
            groups = {str(k): dict(v) for k, v in raw["groups"].items()}
            rules = [
                DiagnosisRule(r["system"], re.compile(r["pattern"]), r["group"])
                for r in raw["rules"]
            ]
        elif raw["name"] == "states":
            states = {str(k): {a: str(b) for a, b in v.items()} for k, v in raw["codes"].items()}
        elif raw["name"] == "rtw_events":
            rtw_events = {
                int(k): {a: str(b) for a, b in v.items()} for k, v in raw["codes"].items()
            }
    return DataDictionary(
        version=str(index["version"]),
        title=index.get("title", ""),
        missing_codes=missing,
        tables=tuple(tables),
        benefits=benefits,
        diagnosis_groups=groups,
        diagnosis_rules=tuple(rules),
        files=tuple(files),
        na_tokens=tuple(str(t) for t in index.get("na_tokens") or ()),
        states=states,
        rtw_events=rtw_events,
    )


def codebook_markdown(dd: DataDictionary | None = None) -> str:
    """A human-readable codebook: one table per delivery file, then the codelists."""
    dd = dd or load_dictionary()
    out = [f"# {dd.title}", "", f"Dictionary version {dd.version}.", ""]
    codes = ", ".join(f"{k} = {v}" for k, v in dd.missing_codes.items())
    out += [
        f"Missing-value codes: {codes}, in the variables whose values say so "
        "(coded items and 0–10 scales of the registry files).",
        "",
    ]
    if dd.na_tokens:
        tokens = ", ".join(f"`{t}`" for t in dd.na_tokens)
        out += [f"Missing in every column: an empty cell, {tokens}.", ""]
    for table in dd.tables:
        files = ", ".join(f"`{f}`" for f in table.files)
        out += [
            f"## {table.name} → `{table.canonical_table}`",
            "",
            f"{table.description}. Files: {files} ({table.source}/).",
            "",
        ]
        if table.keys:
            out += [f"Unique key: {', '.join(table.keys)}.", ""]
        out += [
            "| raw | canonical | type | required | values | description |",
            "|---|---|---|---|---|---|",
        ]
        for v in table.variables:
            if v.codes:
                values = "; ".join(f"{k} = {lab}" for k, lab in v.codes.items())
            elif v.range:
                values = f"{v.range[0]:g}–{v.range[1]:g}"
            elif v.codelist:
                values = f"codelist `{v.codelist}`"
            elif v.codes_from:
                values = f"codes of `{v.codes_from}`"
            else:
                values = ""
            if v.empty_means is not None:
                values += f" (empty or column absent = {v.empty_means:g})"
            if v.missing_codes:
                values += f" (missing: {', '.join(map(str, v.missing_codes))})"
            if v.open_end:
                values += f" ({v.open_end} = open)"
            req = "yes" if v.required else "no"
            out.append(f"| {v.raw} | {v.name} | {v.type} | {req} | {values} | {v.description} |")
        out.append("")
    out += [
        "## Codelist: benefits",
        "",
        "| code | benefit | categories | state (grade 100) | state (grade 1–99) |",
        "|---|---|---|---|---|",
    ]
    for b in dd.benefits.values():
        out.append(
            f"| {b.code} | {b.label} ({b.label_en}) | {', '.join(b.categories)} "
            f"| {b.state_full} | {b.state_partial} |"
        )
    out += [
        "",
        "## Codelist: diagnosis groups",
        "",
        "| order | system | pattern | group |",
        "|---|---|---|---|",
    ]
    for i, r in enumerate(dd.diagnosis_rules, start=1):
        label = dd.diagnosis_groups[r.group]["label"]
        out.append(f"| {i} | {r.system} | `{r.pattern.pattern}` | {r.group} ({label}) |")
    out += ["", "A code that matches no rule, or an empty code, is `unknown`.", ""]
    return "\n".join(out)
