"""``arr-stats build``: a raw delivery in, every derived table out, nothing lost.

The steps (each a pure function of DataFrames; I/O only in :func:`run_build`):

1. read every delivery file (:mod:`arr_stats.ingest.readers`);
2. raw → canonical through the dictionary (:mod:`arr_stats.ingest.canonical`);
3. consent: exclude episodes without consent, their follow-ups, and the NAV
   rows of persons with no consenting episode (:mod:`arr_stats.ingest.linkage`);
4. validate every table (:mod:`arr_stats.ingest.validate`): issues, kept rows;
5. link episodes to NAV persons; derive the episode columns;
6. outcomes and daily states (:mod:`arr_stats.derive.outcomes`);
7. write the Parquet tables, ``issues.csv``, ``row_accounting.csv``,
   ``linkage.csv`` and ``build.json``.

Every row of every input file ends in exactly one of: an output table (kept),
``issues`` (rejected), or an exclusion count; :func:`build_tables` checks
rows read = kept + rejected + excluded for every file, where rows read is
counted from the file itself, not from what the parser returned.

Before linkage, identifiers are checked across files: a file that stores an
identifier as a number while another file's values have leading zeros stops
the build (the zeros are lost; data-model.md), unless ``[linkage] pad_ids``
asks for zero-padding. After linkage, fewer linked episodes than
``[linkage] min_linked_share`` stops the build with the likely cause, unless
``accept_low_linkage``. File-level remarks (a missing optional column read
as its default, blank lines skipped, padding applied …) are ``notices``,
printed in the summary that ends every build and written to ``notices.csv``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

import arr_stats
from arr_stats.config import RunConfig
from arr_stats.derive.load import PARQUET_TABLES
from arr_stats.derive.outcomes import daily_states, derive_outcomes
from arr_stats.dictionary import DataDictionary, Table, load_dictionary
from arr_stats.errors import DeliveryError
from arr_stats.ingest.canonical import swapped_code_labels, to_canonical
from arr_stats.ingest.linkage import (
    FileAccount,
    consent_exclusions,
    consent_label,
    consent_refused_label,
    excluded_followups,
    excluded_nav_rows,
    id_type_conflicts,
    link_episodes,
    linkage_problem,
    linkage_summary,
    pad_ids,
    row_accounting,
)
from arr_stats.ingest.readers import RawFile, read_delivery_file, shorten
from arr_stats.ingest.validate import (
    ISSUE_COLUMNS,
    Plausibility,
    make_issue,
    short_row_issues,
    validate_table,
)
from arr_stats.io import write_json, write_parquet
from arr_stats.provenance import dictionary_hashes, git_state, input_hashes, package_versions

#: Columns of the ``notices`` table (``notices.csv``): file-level remarks.
NOTICE_COLUMNS: tuple[str, ...] = ("file", "notice")

#: Canonical T0 columns not carried into ``episodes`` (every row consented).
CONSENT_COLUMNS: tuple[str, ...] = ("consent", "consent_withdrawn_date")
#: Name of the point column of ``responses`` and how a file stem names its point.
POINT_COLUMN = "point"


@dataclass(frozen=True)
class BuildResult:
    """What a build produced.

    Attributes
    ----------
    derived_dir
        Where the outputs were written.
    tables
        Every derived table by name (Parquet tables, and ``row_accounting``,
        ``linkage`` written as CSV).
    """

    derived_dir: Path
    tables: dict[str, pd.DataFrame] = field(repr=False)

    @property
    def issues(self) -> pd.DataFrame:
        return self.tables["issues"]

    @property
    def row_accounting(self) -> pd.DataFrame:
        return self.tables["row_accounting"]

    @property
    def notices(self) -> pd.DataFrame:
        return self.tables["notices"]


class _Progress:
    """One short line per step on standard error, or nothing."""

    def __init__(self, enabled: bool, total: int) -> None:
        self.enabled = enabled
        self.total = total
        self.step = 0

    def __call__(self, text: str) -> None:
        self.step += 1
        if self.enabled:
            print(f"arr-stats build [{self.step}/{self.total}] {text}", file=sys.stderr, flush=True)

    def note(self, text: str) -> None:
        if self.enabled:
            print(f"    {text}", file=sys.stderr, flush=True)


def _table_by_role(dd: DataDictionary, canonical_table: str) -> Table:
    return next(t for t in dd.tables if t.canonical_table == canonical_table)


def point_of(stem: str) -> str:
    """The registration point a registry form's file stem stands for.

    Examples
    --------
    >>> point_of("skjema_t0"), point_of("skjema_t3")
    ('T0', 'T3')
    """
    return stem.rsplit("_", 1)[-1].upper()


def read_delivery(config: RunConfig, dd: DataDictionary) -> dict[str, RawFile]:
    """Read every file of the delivery, in dictionary order (stem → file).

    A file with a header and no rows stops the build, unless it is a
    registry file named in ``[registry] allow_empty``.
    """
    files: dict[str, RawFile] = {}
    for table in dd.tables:
        folder = config.registry_dir if table.source == "registry" else config.nav_dir
        encoding = config.nav_encoding if table.source == "nav" else config.registry.encoding
        allowed = config.registry.allow_empty if table.source == "registry" else ()
        for stem in table.files:
            files[stem] = read_delivery_file(
                folder, stem, table.source, encoding, allow_empty=stem in allowed
            )
    return files


def _split(frame: pd.DataFrame, reasons: pd.Series) -> tuple[pd.DataFrame, dict[str, int]]:
    """The rows without an exclusion reason, and the count of each reason."""
    counts = {str(k): int(v) for k, v in reasons.dropna().value_counts().items()}
    return frame[reasons.isna().to_numpy()], counts


def _rejected_rows(issues: pd.DataFrame) -> int:
    return int(issues.loc[issues["severity"] == "error", "row"].nunique())


def _episode_columns(episodes: pd.DataFrame, t0: Table, dd: DataDictionary) -> pd.DataFrame:
    """The ``episodes`` table: T0 items without consent, plus the derived columns."""
    out = episodes[[v.name for v in t0.variables if v.name not in CONSENT_COLUMNS]].copy()
    groups = [dd.diagnosis_group(code) for code in episodes["diagnosis_code"]]
    out["diagnosis_group"] = pd.Categorical(groups, categories=list(dd.diagnosis_groups))
    out["age_at_admission"] = (
        episodes["admission_date"].dt.year.astype("Int64") - episodes["birth_year"]
    ).astype("Int64")
    out["discharge_year"] = episodes["discharge_date"].dt.year.astype("int64")
    out["linked"] = episodes["linked"].astype(bool)
    return out.reset_index(drop=True)


def _responses(
    episodes: pd.DataFrame, followups: dict[str, pd.DataFrame], t0_stem: str, follow: Table
) -> pd.DataFrame:
    """The long ``responses`` table: T0 answers from the episodes, then T1–T3."""
    columns = [v.name for v in follow.variables]
    points = [point_of(t0_stem), *(point_of(stem) for stem in followups)]
    parts = []
    t0_part = pd.DataFrame({c: episodes[c] if c in episodes else None for c in columns})
    parts.append((point_of(t0_stem), t0_part))
    parts += [(point_of(stem), frame[columns]) for stem, frame in followups.items()]
    typed = []
    for point, frame in parts:
        frame = frame.reset_index(drop=True).copy()
        for var in follow.variables:
            template = next(iter(followups.values()))[var.name]
            frame[var.name] = frame[var.name].astype(template.dtype)
        frame.insert(1, POINT_COLUMN, point)
        typed.append(frame)
    out = pd.concat(typed, ignore_index=True)
    out[POINT_COLUMN] = pd.Categorical(out[POINT_COLUMN], categories=points, ordered=True)
    return out


def file_notices(files: dict[str, RawFile], dd: DataDictionary) -> list[tuple[str, str]]:
    """File-level remarks: what the reader noted, and each optional column absent.

    An absent optional column is read as its documented default (``grad`` →
    100, the dictionary's ``empty_means``) or as missing, and said once here.
    """
    notices: list[tuple[str, str]] = []
    for stem, f in files.items():
        notices += [(f.label, note) for note in f.notes]
        for var in dd.table(stem).variables:
            if var.required or var.raw in f.data.columns:
                continue
            if var.empty_means is not None:
                meaning = f"every {var.raw} is read as {var.empty_means:g} (its documented default)"
            else:
                meaning = f"every {var.raw} is missing"
            notices.append((f.label, f"optional column {var.raw} is absent: {meaning}"))
    return notices


def _id_columns(
    canon: dict[str, tuple[pd.DataFrame, pd.DataFrame]],
    files: dict[str, RawFile],
    dd: DataDictionary,
    raw_name: str,
) -> dict[str, tuple[str, pd.Series]]:
    out = {}
    for stem, (frame, _) in canon.items():
        table = dd.table(stem)
        if raw_name in table.raw_names and raw_name in files[stem].data.columns:
            kind = files[stem].column_types.get(raw_name, "text")
            out[files[stem].label] = (kind, frame[table.variable(raw_name).name])
    return out


def normalise_identifiers(
    canon: dict[str, tuple[pd.DataFrame, pd.DataFrame]],
    files: dict[str, RawFile],
    dd: DataDictionary,
    config: RunConfig,
    notices: list[tuple[str, str]],
) -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    """Identifiers as text across files: zero-pad where configured, else stop on lost zeros.

    Appends a notice for every column padded. Does not mutate ``canon``.

    Raises
    ------
    DeliveryError
        A file stores an identifier as a number while another file's values
        of it have leading zeros, and ``[linkage] pad_ids`` does not name it.
    """
    names = sorted({v.raw for t in dd.tables for v in t.variables if v.identifier})
    out = dict(canon)
    for raw_name in names:
        width = config.linkage.pad_ids.get(raw_name)
        if width:
            for stem, (frame, problems) in list(out.items()):
                table = dd.table(stem)
                if raw_name not in table.raw_names:
                    continue
                name = table.variable(raw_name).name
                padded, changed = pad_ids(frame[name], width)
                if changed:
                    out[stem] = (frame.assign(**{name: padded}), problems)
                    notices.append(
                        (
                            files[stem].label,
                            f"{changed} values of {raw_name} zero-padded to {width} digits "
                            f"([linkage] pad_ids)",
                        )
                    )
            continue
        conflicts = id_type_conflicts(_id_columns(out, files, dd, raw_name))
        if conflicts:
            numeric, text, example = conflicts[0]
            raise DeliveryError(
                f"{numeric}: {raw_name} is stored as a number, but {text} has {raw_name} "
                f"values with leading zeros (e.g. {example}) that a number cannot hold, so "
                f"the identifiers cannot be matched as text; deliver {raw_name} as text, or "
                f"set [linkage] pad_ids = {{ {raw_name} = {len(example)} }} to zero-pad it"
            )
    return out


def check_linkage_rate(
    episodes: pd.DataFrame,
    persons: pd.DataFrame,
    config: RunConfig,
    registry_file: str,
    nav_file: str,
) -> str | None:
    """Stop when far fewer episodes link than a delivery promises; a notice if accepted.

    Returns
    -------
    str or None
        The notice to report when the rate is low and the configuration
        accepts it; ``None`` when the rate is as expected.

    Raises
    ------
    DeliveryError
        Fewer than ``[linkage] min_linked_share`` of the consenting, valid
        episodes are linked, and ``accept_low_linkage`` is false.
    """
    total = len(episodes)
    linked = int(episodes["linked"].sum()) if total else 0
    share = config.linkage.min_linked_share
    if total == 0 or linked >= share * total:
        return None
    cause = linkage_problem(
        episodes.loc[~episodes["linked"], "person_id"],
        persons["person_id"],
        registry_file,
        nav_file,
    )
    text = (
        f"only {linked} of {total} consenting episodes ({linked / total:.1%}) found their "
        f"person in {nav_file}, fewer than the expected {share:.0%}; likely cause: {cause}"
    )
    if config.linkage.accept_low_linkage:
        return text + " (accepted: [linkage] accept_low_linkage = true)"
    raise DeliveryError(
        f"{registry_file}: {text}. If the delivery really is partial, set [linkage] "
        f"accept_low_linkage = true"
    )


def _consent_unknown_issues(
    raw: RawFile, t0: Table, t0_frame: pd.DataFrame, reasons: pd.Series
) -> pd.DataFrame:
    """One issue per T0 row excluded as consent unknown, naming the value and the codes."""
    var = t0.variable("consent")
    cells = raw.data[var.raw].tolist() if var.raw in raw.data.columns else [None] * len(t0_frame)
    values = pd.Series(cells, index=t0_frame.index, dtype=object)
    codes = ", ".join(f"{c} = {lab}" for c, lab in var.codes.items())
    found = []
    for row in t0_frame.index[(reasons == "excluded_consent_unknown").to_numpy()]:
        value = values[row]
        shown = "" if value is None or (isinstance(value, float) and pd.isna(value)) else value
        if isinstance(shown, float) and shown.is_integer():
            shown = int(shown)
        what = (
            f"consent {shorten(str(shown))!r} is neither of the codes {codes}: only 1 with no "
            f"withdrawal date is consent, so the episode is excluded as consent unknown"
        )
        found.append(
            make_issue(t0, raw.label, row, var.raw, shown, "consent_unknown", "warning", what)
        )
    return pd.DataFrame(found, columns=list(ISSUE_COLUMNS)).astype({"row": "int64"})


def derive_outcome_tables(
    episodes: pd.DataFrame,
    benefits: pd.DataFrame,
    employment: pd.DataFrame,
    persons: pd.DataFrame,
    config: RunConfig,
) -> dict[str, pd.DataFrame]:
    """``outcomes`` and ``daily_states`` of the linked episodes (outcomes.md)."""
    linked = episodes[episodes["linked"]].reset_index(drop=True)
    params = config.outcomes
    return {
        "outcomes": derive_outcomes(linked, benefits, employment, persons, params),
        "daily_states": daily_states(linked, benefits, employment, persons, params),
    }


def build_tables(
    files: dict[str, RawFile],
    config: RunConfig,
    dd: DataDictionary,
    say: Callable[[str], None] = lambda text: None,
) -> dict[str, pd.DataFrame]:
    """Every derived table from the files of a delivery (no I/O).

    Parameters
    ----------
    files
        Stem → raw file, as :func:`read_delivery` returns.
    config
        The run configuration (``data_end``; outcome parameters).
    dd
        The data dictionary.
    say
        Called with a short text before each step (progress display).

    Returns
    -------
    dict
        ``episodes, responses, benefits, employment, persons, institutions,
        issues, row_accounting, linkage``, ``outcomes,
        daily_states``.

    Raises
    ------
    DeliveryError
        A required column is missing.
    RuntimeError
        The row accounting does not balance (a bug: a row was lost).
    """
    say("canonical tables (rename, types, missing codes)")
    for stem, f in files.items():
        swapped = swapped_code_labels(f.value_labels, dd.table(stem))
        if swapped:
            column, code, label, meant = swapped[0]
            raise DeliveryError(
                f"{f.label}: the file's value labels say {column} {code} = {label}, but in the "
                f"data dictionary {label} is code {meant}: the file codes {column} differently, "
                f"and reading its codes would swap the values; recode it to the dictionary's "
                f"codes (arr-stats dictionary)"
            )
    canon = {
        stem: to_canonical(
            f.data,
            dd.table(stem),
            dd,
            label=f.label,
            file_format=f.format,
            row_numbers=f.source_rows,
            declared_missing=f.declared_missing,
        )
        for stem, f in files.items()
    }
    notices = file_notices(files, dd)
    canon = normalise_identifiers(canon, files, dd, config, notices)
    accounts = {stem: FileAccount(f.label, f.rows_read) for stem, f in files.items()}
    issues: dict[str, pd.DataFrame] = {}
    data_end = config.outcomes.data_end
    limits = Plausibility(
        first_year=config.registry.first_year,
        min_age=config.registry.min_age,
        max_age=config.registry.max_age,
    )

    def validate(stem: str, keep: pd.DataFrame, **kwargs) -> pd.DataFrame:
        problems = canon[stem][1]
        problems = problems[problems["row"].isin(keep.index)]
        table = dd.table(stem)
        short = {r: v for r, v in files[stem].short_rows.items() if r in keep.index}
        columns = [str(c) for c in files[stem].data.columns]
        kept, found = validate_table(
            keep,
            problems,
            table,
            dd,
            label=files[stem].label,
            row_warnings=short_row_issues(short, table, files[stem].label, columns),
            **kwargs,
        )
        issues[stem] = found
        accounts[stem].rows_rejected = _rejected_rows(found)
        return kept

    # -- consent: before anything else, so excluded rows reach no output but the counts
    say("consent: excluding episodes without consent or with consent withdrawn")
    t0 = _table_by_role(dd, "episodes")
    t0_stem = t0.files[0]
    t0_frame = canon[t0_stem][0]
    withdrawn_raw = t0.variable("consent_withdrawn_date").raw
    raw_withdrawn = files[t0_stem].data.get(withdrawn_raw, pd.Series([None] * len(t0_frame)))
    raw_withdrawn = pd.Series(list(raw_withdrawn), index=t0_frame.index, dtype=object)
    reasons = consent_exclusions(
        t0_frame, raw_withdrawn, consent_label(t0), consent_refused_label(t0), dd.na_tokens
    )
    consent_issues = _consent_unknown_issues(files[t0_stem], t0, t0_frame, reasons)
    consenting, accounts[t0_stem].excluded = _split(t0_frame, reasons)
    excluded_episodes = {
        e: r for e, r in zip(t0_frame["episode_id"], reasons, strict=True) if r and e is not None
    }
    consenting_persons = set(consenting["person_id"].dropna())

    say("validating the registry forms")
    inst = _table_by_role(dd, "institutions")
    institutions = validate(inst.files[0], canon[inst.files[0]][0])
    inst_years: dict[str, frozenset[int]] = {
        str(i): frozenset(int(y) for y in g.dropna())
        for i, g in institutions.groupby("institution_id", sort=False)["year"]
    }
    episodes = validate(
        t0_stem, consenting, data_end=data_end, plausibility=limits, institutions=inst_years
    )
    issues[t0_stem] = pd.concat([consent_issues, issues[t0_stem]], ignore_index=True).sort_values(
        "row", kind="stable", ignore_index=True
    )
    t0_rejected = set(consenting["episode_id"].dropna()) - set(episodes["episode_id"])
    episode_refs = {e: "its skjema_t0 row was rejected" for e in t0_rejected}
    episode_refs.update(dict.fromkeys(episodes["episode_id"]))
    follow = _table_by_role(dd, "responses")
    followups: dict[str, pd.DataFrame] = {}
    for stem in follow.files:
        frame = canon[stem][0]
        keep, accounts[stem].excluded = _split(frame, excluded_followups(frame, excluded_episodes))
        followups[stem] = validate(
            stem,
            keep,
            data_end=data_end,
            plausibility=limits,
            references={follow.variable("episode_id").references: episode_refs},
        )

    say("validating the NAV files")
    persons_table = _table_by_role(dd, "persons")
    persons_stem = persons_table.files[0]
    persons_frame = canon[persons_stem][0]
    known_persons = set(t0_frame["person_id"].dropna()) | set(persons_frame["person_id"].dropna())

    def nav_keep(stem: str) -> pd.DataFrame:
        frame = canon[stem][0]
        reasons = excluded_nav_rows(frame, consenting_persons, known_persons)
        keep, accounts[stem].excluded = _split(frame, reasons)
        return keep

    persons = validate(persons_stem, nav_keep(persons_stem))
    person_refs = {
        p: "its personer row was rejected"
        for p in set(nav_keep(persons_stem)["person_id"].dropna()) - set(persons["person_id"])
    }
    person_refs.update(dict.fromkeys(persons["person_id"]))
    reference = f"{persons_stem}.{persons_table.keys[0]}"
    nav_tables = {}
    for role in ("benefits", "employment"):
        stem = _table_by_role(dd, role).files[0]
        nav_tables[role] = validate(
            stem, nav_keep(stem), data_end=data_end, references={reference: person_refs}
        )

    say("linkage: episodes ↔ NAV persons")
    episodes = link_episodes(episodes, persons)
    nav_without = accounts[persons_stem].excluded.get("excluded_no_consenting_episode", 0)
    linkage = linkage_summary(episodes, persons, nav_without)
    low = check_linkage_rate(
        episodes, persons, config, files[t0_stem].label, files[persons_stem].label
    )
    if low:
        notices.append((files[persons_stem].label, low))

    tables: dict[str, pd.DataFrame] = {
        "episodes": _episode_columns(episodes, t0, dd),
        "responses": _responses(episodes, followups, t0_stem, follow),
        "benefits": nav_tables["benefits"].reset_index(drop=True),
        "employment": nav_tables["employment"].reset_index(drop=True),
        "persons": persons.reset_index(drop=True),
        "institutions": institutions.reset_index(drop=True),
    }
    kept = {t0_stem: episodes, **followups, inst.files[0]: institutions, persons_stem: persons}
    kept.update({_table_by_role(dd, r).files[0]: nav_tables[r] for r in nav_tables})
    for stem, frame in kept.items():
        accounts[stem].rows_kept = len(frame)
    unbalanced = [a.file for a in accounts.values() if not a.balanced]
    if unbalanced:
        raise RuntimeError(f"row accounting does not balance for {', '.join(unbalanced)}")

    all_issues = pd.concat([issues[stem] for stem in files if stem in issues], ignore_index=True)
    tables["issues"] = all_issues[list(ISSUE_COLUMNS)].astype({"row": "int64"})
    tables["row_accounting"] = row_accounting(list(accounts.values()))
    tables["linkage"] = linkage
    tables["notices"] = pd.DataFrame(notices, columns=list(NOTICE_COLUMNS))

    say("outcomes and daily states")
    tables.update(
        derive_outcome_tables(
            tables["episodes"], tables["benefits"], tables["employment"], tables["persons"], config
        )
    )
    return tables


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")


def build_manifest(
    config: RunConfig,
    dd: DataDictionary,
    files: dict[str, RawFile],
    tables: dict[str, pd.DataFrame],
) -> dict:
    """The content of ``build.json``: what was built from what, with which code.

    No timestamp: the same inputs, configuration and code give the same bytes.
    ``git`` (commit and whether the tree had uncommitted changes) is the one
    field that depends on the checkout rather than on the inputs.
    """
    dictionary_base = dd.files[0].parent
    return {
        "arr_stats_version": arr_stats.__version__,
        "dictionary_version": dd.version,
        "dictionary_files": dictionary_hashes(dd.files, dictionary_base),
        "config": config.to_dict(),
        "inputs": input_hashes({f.label: f.path for f in files.values()}),
        "input_encodings": {f.label: f.encoding for f in files.values() if f.encoding},
        "packages": package_versions(),
        "git": git_state(),
        "tables": {name: len(frame) for name, frame in tables.items()},
    }


def run_build(config: RunConfig, progress: bool = False) -> BuildResult:
    """Build every derived table of a delivery and write it to ``config.derived_dir``.

    Parameters
    ----------
    config
        The run configuration (paths, ``data_end``, NAV encoding, parameters).
    progress
        Print one short line per step on standard error.

    Returns
    -------
    BuildResult

    Raises
    ------
    DeliveryError
        A structural problem with the delivery (file missing or unreadable,
        two formats of one file, wrong encoding, required column absent).
    """
    say = _Progress(progress, total=8)
    dd = load_dictionary()
    say(f"reading the delivery ({config.registry_dir}, {config.nav_dir})")
    files = read_delivery(config, dd)
    for f in files.values():
        say.note(f"{f.label}: {f.rows_read} rows")
    tables = build_tables(files, config, dd, say)

    say(f"writing the derived tables to {config.derived_dir}")
    out = Path(config.derived_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name in PARQUET_TABLES:
        write_parquet(tables[name], out / f"{name}.parquet")
    _write_csv(tables["issues"], out / "issues.csv")
    _write_csv(tables["row_accounting"], out / "row_accounting.csv")
    _write_csv(tables["linkage"], out / "linkage.csv")
    _write_csv(tables["notices"], out / "notices.csv")
    write_json(build_manifest(config, dd, files, tables), out / "build.json")
    rejected = int(tables["row_accounting"]["rows_rejected"].sum())
    say.note(
        f"{len(tables['episodes'])} episodes, {len(tables['issues'])} issues "
        f"({rejected} rows rejected); details in issues.csv"
    )
    return BuildResult(out, tables)


def build_summary(result: BuildResult) -> str:
    """The short summary that ends every build: rows per file, linkage, issues, where.

    Examples
    --------
    >>> tables = {
    ...     "row_accounting": pd.DataFrame({"file": ["nav/personer.csv"], "rows_read": [3],
    ...         "rows_kept": [2], "rows_rejected": [1], "rows_excluded": [0]}),
    ...     "linkage": pd.DataFrame({"measure": ["episodes", "episodes_linked"],
    ...                              "value": [4, 3]}),
    ...     "issues": pd.DataFrame({"severity": ["error", "warning", "warning"]}),
    ...     "notices": pd.DataFrame({"file": ["nav/ytelser.csv"],
    ...                              "notice": ["optional column grad is absent"]}),
    ... }
    >>> print(build_summary(BuildResult(Path("out"), tables)))
    ... # doctest: +NORMALIZE_WHITESPACE
    arr-stats build: summary
      file                 read    kept  rejected  excluded
      nav/personer.csv        3       2         1         0
      linkage: 3 of 4 consenting episodes linked (75.0%)
      issues: 1 error (row rejected), 2 warnings (row kept) – see issues.csv
      notice: nav/ytelser.csv: optional column grad is absent
      tables written to out
    """
    acc = result.tables["row_accounting"]
    width = max([len("file"), *(len(str(f)) for f in acc["file"])])
    lines = [
        "arr-stats build: summary",
        f"  {'file':<{width}}  {'read':>6}  {'kept':>6}  {'rejected':>8}  {'excluded':>8}",
    ]
    for row in acc.itertuples(index=False):
        lines.append(
            f"  {row.file:<{width}}  {row.rows_read:>6}  {row.rows_kept:>6}  "
            f"{row.rows_rejected:>8}  {row.rows_excluded:>8}"
        )
    link = dict(
        zip(result.tables["linkage"]["measure"], result.tables["linkage"]["value"], strict=True)
    )
    total, linked = int(link.get("episodes", 0)), int(link.get("episodes_linked", 0))
    rate = f" ({linked / total:.1%})" if total else ""
    lines.append(f"  linkage: {linked} of {total} consenting episodes linked{rate}")
    severity = result.tables["issues"]["severity"].value_counts()
    errors, warnings = int(severity.get("error", 0)), int(severity.get("warning", 0))
    lines.append(
        f"  issues: {errors} error{'s' if errors != 1 else ''} (row rejected), "
        f"{warnings} warning{'s' if warnings != 1 else ''} (row kept) – see issues.csv"
    )
    for note in result.tables["notices"].itertuples(index=False):
        lines.append(f"  notice: {note.file}: {note.notice}")
    lines.append(f"  tables written to {result.derived_dir}")
    return "\n".join(lines)
