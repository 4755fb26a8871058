"""Run configuration: the one place every path, parameter and threshold comes from.

A run is described by a TOML file (every key is documented in
``analysis/README.md``). Every parameter has a default equal to the
specification (``outcomes.md``, ``disclosure.md``,
``indicators-and-report.md``) except the ones that describe a delivery: its
folders and the date NAV extracted the data (``[nav] data_end``). Nothing is
guessed: a run without those stops and says which is missing.

The file is read strictly (:func:`config_from_dict`): an unknown section or
key, a value of the wrong type or an impossible value (``min_cell = 0``,
``followup_days`` shorter than ``rtw_min_days``) stops with one line naming
the file, the key and what is allowed. Relative paths are resolved against
the folder that holds the file, so a run behaves the same whatever the
working directory.

One serialised form is used everywhere: :func:`config_to_dict` gives the
TOML file's shape as JSON-ready data (``build.json`` records it, the report
receives it), and :func:`config_from_dict` reads it back.

Examples
--------
>>> c = load_config(DEMO_CONFIG)
>>> config_from_dict(config_to_dict(c), source=c.source) == c
True
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arr_stats.domain import DEFAULT_STATE_ORDER, STATUS_MONTHS, month_day

#: The project root when running from a source checkout (``src/arr_stats/..``).
PROJECT_ROOT = Path(__file__).resolve().parents[2]

#: The configuration of the synthetic demo (``make demo``); used only when asked for.
DEMO_CONFIG = PROJECT_ROOT / "analysis" / "demo.toml"

#: Text encodings a CSV delivery may be declared in (``[nav]``/``[registry] encoding``;
#: see :mod:`arr_stats.ingest.readers`).
CSV_ENCODINGS: tuple[str, ...] = ("auto", "utf-8", "cp1252", "latin-1")


class ConfigError(ValueError):
    """A configuration file is missing, unreadable or has an invalid value."""

    exit_code = 2


@dataclass(frozen=True)
class OutcomeParams:
    """Parameters of the outcome definitions (outcomes.md).

    Attributes
    ----------
    data_end
        The date NAV extracted the data; nothing after it is observed.
    followup_days
        ``F``: follow-up runs over days 1 … F after discharge.
    rtw_min_days
        ``L``: length of the benefit-free run that makes a sustainable RTW.
    month_days
        Day used for the status at m months (:func:`arr_stats.domain.month_day`).
    rtw12_first_day, rtw12_last_day
        The window "the month up to 12 months" for ``rtw_12m``.
    pre_admission_days
        Length of the window before admission for ``hrb_days_pre_12m``.
    state_order
        The daily states in priority order.
    """

    data_end: dt.date
    followup_days: int = 365
    rtw_min_days: int = 28
    month_days: dict[int, int] = field(
        default_factory=lambda: {m: month_day(m) for m in STATUS_MONTHS}
    )
    rtw12_first_day: int = 335
    rtw12_last_day: int = 365
    pre_admission_days: int = 365
    state_order: tuple[str, ...] = DEFAULT_STATE_ORDER


@dataclass(frozen=True)
class RegistryParams:
    """How registry files are read and which of their values are plausible.

    Attributes
    ----------
    encoding
        Text encoding of the registry's CSV files (one of :data:`CSV_ENCODINGS`).
    first_year
        The registry's first year: an admission or discharge before 1 January
        of it is an error (``outside_registry_period``).
    min_age, max_age
        Plausible ages at admission; outside them the episode is rejected
        (``implausible_age``).
    allow_empty
        Registry file stems that may hold a header and no rows (e.g.
        ``skjema_t3`` in the registry's first year); any other empty file
        stops the build.
    """

    encoding: str = "auto"
    first_year: int = 2000
    min_age: int = 16
    max_age: int = 80
    allow_empty: tuple[str, ...] = ()


@dataclass(frozen=True)
class LinkageParams:
    """What the build expects of the linkage of episodes to NAV persons.

    Attributes
    ----------
    min_linked_share
        The build stops when fewer than this share of the consenting, valid
        episodes find their person in ``personer`` (a sign that the
        identifiers do not match as text), naming the likely cause.
    accept_low_linkage
        Build all the same, with a notice (e.g. a delivery known to be partial).
    pad_ids
        Opt-in normalisation: identifier (raw name, e.g. ``lopenr``) → width.
        Every value of it that is digits only and shorter is zero-padded to
        that width in every file (a registry that stored ``lopenr`` as a
        number lost NAV's leading zeros); reported in the summary.
    """

    min_linked_share: float = 0.5
    accept_low_linkage: bool = False
    pad_ids: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class DisclosureParams:
    """Small-cell rules (disclosure.md)."""

    min_cell: int = 5
    min_denominator: int = 10
    complementary_suppression: bool = True
    survival_pooling: bool = True
    #: Days between the drawn times of the daily-state figure (plus the status
    #: days of ``outcomes.month_days`` and the last day).
    state_grid_days: int = 7


@dataclass(frozen=True)
class IndicatorTarget:
    """Target levels of one indicator (indicators-and-report.md)."""

    level_green: float
    level_yellow: float
    direction: str  # "higher" or "lower" is better


#: Default target levels. The spec leaves the numbers to configuration; these
#: are the project's demo defaults, chosen near the range seen in ARR reports.
#: Their keys are the indicator ids a ``[targets.ID]`` table may name.
DEFAULT_TARGETS: dict[str, IndicatorTarget] = {
    "arr_rtw12": IndicatorTarget(0.60, 0.40, "higher"),
    "arr_srtw": IndicatorTarget(0.60, 0.40, "higher"),
    "arr_hrbdays": IndicatorTarget(120, 200, "lower"),
    "arr_wa_change": IndicatorTarget(1.0, 0.0, "higher"),
    "arr_resp_t1": IndicatorTarget(0.80, 0.60, "higher"),
    "arr_resp_t2": IndicatorTarget(0.60, 0.40, "higher"),
    "arr_resp_t3": IndicatorTarget(0.60, 0.40, "higher"),
    "arr_dg": IndicatorTarget(0.80, 0.60, "higher"),
    "arr_compl": IndicatorTarget(0.90, 0.75, "higher"),
}

#: Where the reports go when the configuration does not say.
DEFAULT_REPORT_DIR = PROJECT_ROOT / "reports" / "_output"

#: Where the authors' text of each report year is (``reports/text/README.md``)
#: when the configuration does not say.
DEFAULT_TEXT_DIR = PROJECT_ROOT / "reports" / "text"


@dataclass(frozen=True)
class RunConfig:
    """Everything a run needs: where the data are and every parameter.

    Build one with :func:`load_config` (from TOML), :func:`config_from_dict`
    (from its serialised form) or directly in tests.
    """

    registry_dir: Path
    nav_dir: Path
    derived_dir: Path
    outcomes: OutcomeParams
    disclosure: DisclosureParams = field(default_factory=DisclosureParams)
    targets: dict[str, IndicatorTarget] = field(default_factory=lambda: dict(DEFAULT_TARGETS))
    nav_encoding: str = "auto"  # one of CSV_ENCODINGS
    registry: RegistryParams = field(default_factory=RegistryParams)
    linkage: LinkageParams = field(default_factory=LinkageParams)
    low_coverage_threshold: float = 0.60
    report_dir: Path = DEFAULT_REPORT_DIR
    text_dir: Path = DEFAULT_TEXT_DIR  # the authors' text, reports/text/<year>/…
    source: Path | None = None  # the TOML file this came from, if any

    def with_overrides(self, **changes: Any) -> RunConfig:
        """Return a copy with some fields replaced (CLI flags override the file).

        ``None`` values are ignored; ``data_end`` replaces the outcome
        parameters' data end. The result is checked like a file.
        """
        outcome_changes = {k: changes.pop(k) for k in list(changes) if k == "data_end"}
        new = dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})
        if outcome_changes.get("data_end") is not None:
            new = dataclasses.replace(
                new, outcomes=dataclasses.replace(new.outcomes, **outcome_changes)
            )
        return config_from_dict(config_to_dict(new), source=new.source)

    def to_dict(self) -> dict[str, Any]:
        """The serialised form (:func:`config_to_dict`)."""
        return config_to_dict(self)


# ----------------------------------------------------------------- checking values


class _Invalid(ValueError):
    """A value that breaks its key's rule; the message says what is allowed."""


def _whole(minimum: int | None = None) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Invalid(f"must be a whole number, not {value!r}")
        if minimum is not None and value < minimum:
            raise _Invalid(f"must be at least {minimum}, not {value}")
        return value

    return check


def _number(low: float | None = None, high: float | None = None) -> Callable[[Any], float]:
    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _Invalid(f"must be a number, not {value!r}")
        if (low is not None and value < low) or (high is not None and value > high):
            raise _Invalid(f"must be between {low} and {high}, not {value}")
        return float(value)

    return check


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(f"must be true or false, not {value!r}")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Invalid(f"must be a non-empty string, not {value!r}")
    return value


def _choice(*allowed: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in allowed:
            raise _Invalid(f"must be one of {', '.join(repr(a) for a in allowed)}, not {value!r}")
        return value

    return check


def parse_date(value: Any, what: str) -> dt.date:
    """Parse an ISO date (``YYYY-MM-DD``) from a configuration value or flag.

    Examples
    --------
    >>> parse_date("2025-12-31", "--data-end")
    datetime.date(2025, 12, 31)
    >>> parse_date("31.12.2025", "--data-end")
    Traceback (most recent call last):
    ...
    arr_stats.config.ConfigError: --data-end: '31.12.2025' is not a date in the form YYYY-MM-DD
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise ConfigError(f"{what}: {value!r} is not a date in the form YYYY-MM-DD") from exc


def _date(value: Any) -> dt.date:
    try:
        return parse_date(value, "")
    except ConfigError as exc:
        raise _Invalid(f"must be a date YYYY-MM-DD, not {value!r}") from exc


def _month_days(value: Any) -> dict[int, int]:
    if not isinstance(value, dict):
        raise _Invalid("must be a table of months to days, e.g. { 3 = 91, 6 = 183, 12 = 365 }")
    out: dict[int, int] = {}
    for months, day in value.items():
        try:
            month_number = int(months)
        except ValueError as exc:
            raise _Invalid(f"has a key {months!r} that is not a number of months") from exc
        out[month_number] = _whole(0)(day)
    missing = sorted({3, 6, 12} - set(out))
    if missing:
        raise _Invalid(f"must give the day of 3, 6 and 12 months (missing {missing})")
    return out


def _state_order(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or sorted(map(str, value)) != sorted(DEFAULT_STATE_ORDER):
        raise _Invalid(f"must name each of {list(DEFAULT_STATE_ORDER)} once")
    return tuple(value)


def _stems(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _Invalid(f'must be a list of file names, e.g. ["skjema_t3"], not {value!r}')
    return tuple(value)


def _id_widths(value: Any) -> dict[str, int]:
    if not isinstance(value, dict) or not all(
        isinstance(w, int) and not isinstance(w, bool) and 1 <= w <= 64 for w in value.values()
    ):
        raise _Invalid(
            f"must be a table of identifier = width, e.g. {{ lopenr = 8 }}, not {value!r}"
        )
    return {str(k): int(v) for k, v in value.items()}


@dataclass(frozen=True)
class _Key:
    check: Callable[[Any], Any]
    required: bool = False


#: Every section and key a configuration file may hold, with the rule of its value.
SCHEMA: dict[str, dict[str, _Key]] = {
    "paths": {
        "registry": _Key(_text, True),
        "nav": _Key(_text, True),
        "derived": _Key(_text, True),
    },
    "nav": {"data_end": _Key(_date, True), "encoding": _Key(_choice(*CSV_ENCODINGS))},
    "outcomes": {
        "followup_days": _Key(_whole(1)),
        "rtw_min_days": _Key(_whole(1)),
        "rtw12_first_day": _Key(_whole(1)),
        "rtw12_last_day": _Key(_whole(1)),
        "pre_admission_days": _Key(_whole(1)),
        "month_days": _Key(_month_days),
        "state_order": _Key(_state_order),
    },
    "disclosure": {
        "min_cell": _Key(_whole(1)),
        "min_denominator": _Key(_whole(1)),
        "complementary_suppression": _Key(_flag),
        "survival_pooling": _Key(_flag),
        "state_grid_days": _Key(_whole(1)),
    },
    "registry": {
        "encoding": _Key(_choice(*CSV_ENCODINGS)),
        "first_year": _Key(_whole(1900)),
        "min_age": _Key(_whole(0)),
        "max_age": _Key(_whole(0)),
        "allow_empty": _Key(_stems),
    },
    "linkage": {
        "min_linked_share": _Key(_number(0.0, 1.0)),
        "accept_low_linkage": _Key(_flag),
        "pad_ids": _Key(_id_widths),
    },
    "targets": {},  # one table per indicator id, checked by _targets
    "report": {
        "out": _Key(_text),
        "text": _Key(_text),
        "low_coverage_threshold": _Key(_number(0.0, 1.0)),
    },
}

_TARGET_KEYS = {
    "level_green": _Key(_number(), True),
    "level_yellow": _Key(_number(), True),
    "direction": _Key(_choice("higher", "lower"), True),
}


def _read_table(
    raw: Any, keys: dict[str, _Key], where: str, name: str, required: bool = True
) -> dict[str, Any]:
    """Check one TOML table against its keys: unknown, missing and invalid keys stop."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: [{name}] must be a table of keys")
    unknown = sorted(set(raw) - set(keys))
    if unknown:
        raise ConfigError(
            f"{where}: unknown key {unknown[0]!r} in [{name}]; allowed: {', '.join(keys)}"
        )
    out: dict[str, Any] = {}
    for key, rule in keys.items():
        if key not in raw:
            if rule.required and required:
                raise ConfigError(f"{where}: [{name}] needs {key!r}")
            continue
        try:
            out[key] = rule.check(raw[key])
        except _Invalid as exc:
            raise ConfigError(f"{where}: [{name}] {key} {exc}") from None
    return out


def _targets(raw: Any, where: str) -> dict[str, IndicatorTarget]:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: [targets] must hold one table per indicator")
    targets = dict(DEFAULT_TARGETS)
    for ind_id, values in raw.items():
        if ind_id not in DEFAULT_TARGETS:
            raise ConfigError(
                f"{where}: unknown indicator [targets.{ind_id}]; allowed: {', '.join(DEFAULT_TARGETS)}"
            )
        t = _read_table(values, _TARGET_KEYS, where, f"targets.{ind_id}")
        better = t["level_green"] >= t["level_yellow"]
        if t["level_green"] != t["level_yellow"] and better != (t["direction"] == "higher"):
            raise ConfigError(
                f"{where}: [targets.{ind_id}] level_green must be "
                f"{'≥' if t['direction'] == 'higher' else '≤'} level_yellow when "
                f"{t['direction']} is better"
            )
        targets[ind_id] = IndicatorTarget(t["level_green"], t["level_yellow"], t["direction"])
    return targets


def _outcome_params(data_end: dt.date, values: dict[str, Any], where: str) -> OutcomeParams:
    params = OutcomeParams(data_end=data_end, **values)
    if params.followup_days < params.rtw_min_days:
        raise ConfigError(
            f"{where}: [outcomes] followup_days ({params.followup_days}) must be at least "
            f"rtw_min_days ({params.rtw_min_days})"
        )
    if params.rtw12_first_day > params.rtw12_last_day:
        raise ConfigError(
            f"{where}: [outcomes] rtw12_first_day ({params.rtw12_first_day}) must not be after "
            f"rtw12_last_day ({params.rtw12_last_day})"
        )
    return params


def _disclosure_params(values: dict[str, Any], where: str) -> DisclosureParams:
    params = DisclosureParams(**values)
    if params.min_denominator < params.min_cell:
        raise ConfigError(
            f"{where}: [disclosure] min_denominator ({params.min_denominator}) must be at least "
            f"min_cell ({params.min_cell})"
        )
    return params


# ----------------------------------------------------------------- reading and writing


def load_config(path: str | Path) -> RunConfig:
    """Read a run configuration from a TOML file, strictly.

    Parameters
    ----------
    path
        The TOML file. Relative paths inside it are resolved against its folder.

    Returns
    -------
    RunConfig

    Raises
    ------
    ConfigError
        The file is missing or not TOML, or a section, key or value breaks
        the rules of :data:`SCHEMA`; the message names the file and the key.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: configuration file not found")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from exc
    return config_from_dict(raw, base=path.resolve().parent, source=path.resolve())


def config_from_dict(
    raw: dict[str, Any], base: Path | None = None, source: Path | None = None
) -> RunConfig:
    """Build a :class:`RunConfig` from the TOML file's structure (or :func:`config_to_dict`'s).

    Parameters
    ----------
    raw
        Sections and keys as in the TOML file; a key ``source`` (the serialised
        form's) is ignored.
    base
        Folder relative paths are resolved against (default: the current folder).
    source
        The file the values came from, named in error messages.
    """
    where = str(source) if source else "configuration"
    raw = {k: v for k, v in raw.items() if k != "source"}
    unknown = sorted(set(raw) - set(SCHEMA))
    if unknown:
        raise ConfigError(
            f"{where}: unknown section [{unknown[0]}]; allowed: "
            + ", ".join(f"[{s}]" for s in SCHEMA)
        )
    base = base or Path.cwd()

    def resolve(p: str) -> Path:
        candidate = Path(p)
        return candidate if candidate.is_absolute() else (base / candidate).resolve()

    paths = _read_table(raw.get("paths"), SCHEMA["paths"], where, "paths")
    nav = _read_table(raw.get("nav"), SCHEMA["nav"], where, "nav")
    if "data_end" not in nav:
        raise ConfigError(f"{where}: [nav] needs 'data_end' (the date NAV extracted the data)")
    outcomes = _read_table(raw.get("outcomes"), SCHEMA["outcomes"], where, "outcomes")
    disclosure = _read_table(raw.get("disclosure"), SCHEMA["disclosure"], where, "disclosure")
    report = _read_table(raw.get("report"), SCHEMA["report"], where, "report")
    registry = _read_table(raw.get("registry"), SCHEMA["registry"], where, "registry")
    linkage = _read_table(raw.get("linkage"), SCHEMA["linkage"], where, "linkage")
    return RunConfig(
        registry_dir=resolve(paths["registry"]),
        nav_dir=resolve(paths["nav"]),
        derived_dir=resolve(paths["derived"]),
        outcomes=_outcome_params(nav["data_end"], outcomes, where),
        disclosure=_disclosure_params(disclosure, where),
        targets=_targets(raw.get("targets"), where),
        nav_encoding=nav.get("encoding", "auto"),
        registry=_registry_params(registry, where),
        linkage=_linkage_params(linkage, where),
        low_coverage_threshold=report.get("low_coverage_threshold", 0.60),
        report_dir=resolve(report["out"]) if "out" in report else DEFAULT_REPORT_DIR,
        text_dir=resolve(report["text"]) if "text" in report else DEFAULT_TEXT_DIR,
        source=source,
    )


def _registry_params(values: dict[str, Any], where: str) -> RegistryParams:
    params = RegistryParams(**values)
    if params.min_age > params.max_age:
        raise ConfigError(f"{where}: [registry] min_age is above max_age")
    return params


def _linkage_params(values: dict[str, Any], where: str) -> LinkageParams:
    return LinkageParams(**values)


def config_to_dict(config: RunConfig) -> dict[str, Any]:
    """The configuration in the shape of its TOML file, JSON-ready (paths absolute).

    The one serialised form: ``build.json`` records it, ``arr-stats report``
    hands it to the document, and :func:`config_from_dict` reads it back.
    ``source`` names the TOML file it came from (or is ``None``).
    """
    out = config.outcomes
    return {
        "paths": {
            "registry": str(config.registry_dir),
            "nav": str(config.nav_dir),
            "derived": str(config.derived_dir),
        },
        "nav": {"data_end": out.data_end.isoformat(), "encoding": config.nav_encoding},
        "outcomes": {
            "followup_days": out.followup_days,
            "rtw_min_days": out.rtw_min_days,
            "rtw12_first_day": out.rtw12_first_day,
            "rtw12_last_day": out.rtw12_last_day,
            "pre_admission_days": out.pre_admission_days,
            "month_days": {str(k): v for k, v in sorted(out.month_days.items())},
            "state_order": list(out.state_order),
        },
        "disclosure": dataclasses.asdict(config.disclosure),
        "targets": {k: dataclasses.asdict(t) for k, t in config.targets.items()},
        "registry": {
            "encoding": config.registry.encoding,
            "first_year": config.registry.first_year,
            "min_age": config.registry.min_age,
            "max_age": config.registry.max_age,
            "allow_empty": list(config.registry.allow_empty),
        },
        "linkage": {
            "min_linked_share": config.linkage.min_linked_share,
            "accept_low_linkage": config.linkage.accept_low_linkage,
            "pad_ids": dict(sorted(config.linkage.pad_ids.items())),
        },
        "report": {
            "out": str(config.report_dir),
            "text": str(config.text_dir),
            "low_coverage_threshold": config.low_coverage_threshold,
        },
        "source": str(config.source) if config.source else None,
    }


def config_for_delivery(
    registry: Path, nav: Path, derived: Path, data_end: dt.date | None
) -> RunConfig:
    """A configuration from command-line folders, every parameter at the spec's default.

    Raises
    ------
    ConfigError
        Without ``data_end``: the extraction date decides the censoring of
        every outcome and has no default.
    """
    if data_end is None:
        raise ConfigError(
            "without --config, --data-end YYYY-MM-DD is required (the date NAV extracted the "
            "data; it decides every outcome's censoring)"
        )
    return RunConfig(
        registry_dir=Path(registry).resolve(),
        nav_dir=Path(nav).resolve(),
        derived_dir=Path(derived).resolve(),
        outcomes=OutcomeParams(data_end=data_end),
    )
