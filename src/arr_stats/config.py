"""Run configuration: the one place every path, parameter and threshold comes from.

A run is described by a TOML file (see ``analysis/README.md``).  Every value
has a default equal to the specification (``outcomes.md``, ``disclosure.md``,
``indicators-and-report.md``); a configuration file overrides only what it
names.  Relative paths in a configuration file are resolved against the folder
that holds the file, so a run behaves the same whatever the working directory
(notebooks run from ``notebooks/``, the CLI from the project root).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The project root when running from a source checkout (``src/arr_stats/..``).
PROJECT_ROOT = Path(__file__).resolve().parents[2]

#: The daily states of outcomes.md in priority order (first that applies wins).
DEFAULT_STATE_ORDER: tuple[str, ...] = (
    "dead",
    "disability_full",
    "aap",
    "sick_leave_full",
    "sick_leave_partial",
    "disability_partial",
    "unemployed",
    "other_benefit",
    "working",
)


class ConfigError(ValueError):
    """A configuration file is missing, unreadable or has an invalid value."""


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
        Day used for the status at m months, ``round(m * 365.25 / 12)``.
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
    month_days: dict[int, int] = field(default_factory=lambda: {3: 91, 6: 183, 12: 365})
    rtw12_first_day: int = 335
    rtw12_last_day: int = 365
    pre_admission_days: int = 365
    state_order: tuple[str, ...] = DEFAULT_STATE_ORDER


#: Text encodings a CSV file may be read with (see :mod:`arr_stats.readers`).
CSV_ENCODINGS: tuple[str, ...] = ("auto", "utf-8", "cp1252", "latin-1")


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


@dataclass(frozen=True)
class IndicatorTarget:
    """Target levels of one indicator (indicators-and-report.md)."""

    level_green: float
    level_yellow: float
    direction: str  # "higher" or "lower" is better


#: Default target levels. The spec leaves the numbers to configuration; these
#: are the project's demo defaults, chosen near the range seen in ARR reports.
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


@dataclass(frozen=True)
class RunConfig:
    """Everything a run needs: where the data are and every parameter.

    Build one with :func:`load_config` (from TOML) or directly in tests.
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
    report_dir: Path = PROJECT_ROOT / "reports" / "_output"
    source: Path | None = None  # the TOML file this came from, if any

    def with_overrides(self, **changes: Any) -> RunConfig:
        """Return a copy with some fields replaced (CLI flags override the file)."""
        outcome_changes = {k: changes.pop(k) for k in list(changes) if k == "data_end"}
        new = dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})
        if outcome_changes.get("data_end") is not None:
            new = dataclasses.replace(
                new, outcomes=dataclasses.replace(new.outcomes, **outcome_changes)
            )
        return new

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description of the configuration, for provenance."""

        def convert(value: Any) -> Any:
            if isinstance(value, Path):
                return str(value)
            if isinstance(value, dt.date):
                return value.isoformat()
            if isinstance(value, dict):
                return {str(k): convert(v) for k, v in value.items()}
            if isinstance(value, list | tuple):
                return [convert(v) for v in value]
            if dataclasses.is_dataclass(value):
                return {f.name: convert(getattr(value, f.name)) for f in dataclasses.fields(value)}
            return value

        return convert(self)


def parse_date(value: Any, what: str) -> dt.date:
    """Parse an ISO date (``YYYY-MM-DD``) from a configuration value or flag."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise ConfigError(f"{what}: {value!r} is not a date in the form YYYY-MM-DD") from exc


def load_config(path: str | Path) -> RunConfig:
    """Read a run configuration from a TOML file.

    Parameters
    ----------
    path
        The TOML file. Relative paths inside it are resolved against its folder.

    Returns
    -------
    RunConfig
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: configuration file not found")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from exc
    return config_from_dict(raw, base=path.resolve().parent, source=path.resolve())


def config_from_dict(raw: dict[str, Any], base: Path, source: Path | None = None) -> RunConfig:
    """Build a :class:`RunConfig` from the parsed TOML structure."""
    where = str(source) if source else "configuration"

    def section(name: str) -> dict[str, Any]:
        value = raw.get(name, {})
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: [{name}] must be a table")
        return value

    paths = section("paths")
    for key in ("registry", "nav", "derived"):
        if key not in paths:
            raise ConfigError(f"{where}: [paths] needs '{key}'")

    def resolve(p: str) -> Path:
        candidate = Path(p)
        return candidate if candidate.is_absolute() else (base / candidate).resolve()

    nav = section("nav")
    if "data_end" not in nav:
        raise ConfigError(f"{where}: [nav] needs 'data_end' (the date NAV extracted the data)")
    out = section("outcomes")
    month_days = {int(k): int(v) for k, v in out.get("month_days", {}).items()} or None
    outcome_kwargs: dict[str, Any] = {
        k: out[k]
        for k in (
            "followup_days",
            "rtw_min_days",
            "rtw12_first_day",
            "rtw12_last_day",
            "pre_admission_days",
        )
        if k in out
    }
    if month_days:
        outcome_kwargs["month_days"] = month_days
    if "state_order" in out:
        order = tuple(out["state_order"])
        if sorted(order) != sorted(DEFAULT_STATE_ORDER):
            raise ConfigError(
                f"{where}: [outcomes] state_order must name each of {list(DEFAULT_STATE_ORDER)} once"
            )
        outcome_kwargs["state_order"] = order
    outcomes = OutcomeParams(
        data_end=parse_date(nav["data_end"], "[nav] data_end"), **outcome_kwargs
    )

    disclosure = DisclosureParams(**section("disclosure"))
    targets = dict(DEFAULT_TARGETS)
    for ind_id, values in section("targets").items():
        if values.get("direction") not in ("higher", "lower"):
            raise ConfigError(f"{where}: [targets.{ind_id}] direction must be 'higher' or 'lower'")
        targets[ind_id] = IndicatorTarget(
            float(values["level_green"]), float(values["level_yellow"]), values["direction"]
        )
    encoding = nav.get("encoding", "auto")
    if encoding not in CSV_ENCODINGS:
        raise ConfigError(f"{where}: [nav] encoding must be one of {', '.join(CSV_ENCODINGS)}")
    registry = _registry_params(section("registry"), where)
    linkage = _linkage_params(section("linkage"), where)
    report = section("report")
    return RunConfig(
        registry_dir=resolve(paths["registry"]),
        nav_dir=resolve(paths["nav"]),
        derived_dir=resolve(paths["derived"]),
        outcomes=outcomes,
        disclosure=disclosure,
        targets=targets,
        nav_encoding=encoding,
        registry=registry,
        linkage=linkage,
        low_coverage_threshold=float(report.get("low_coverage_threshold", 0.60)),
        report_dir=resolve(report.get("out", str(PROJECT_ROOT / "reports" / "_output"))),
        source=source,
    )


def _registry_params(raw: dict[str, Any], where: str) -> RegistryParams:
    default = RegistryParams()
    encoding = raw.get("encoding", default.encoding)
    if encoding not in CSV_ENCODINGS:
        raise ConfigError(f"{where}: [registry] encoding must be one of {', '.join(CSV_ENCODINGS)}")
    try:
        params = RegistryParams(
            encoding=encoding,
            first_year=int(raw.get("first_year", default.first_year)),
            min_age=int(raw.get("min_age", default.min_age)),
            max_age=int(raw.get("max_age", default.max_age)),
            allow_empty=tuple(str(s) for s in raw.get("allow_empty", default.allow_empty)),
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: [registry]: {exc}") from exc
    if params.min_age > params.max_age:
        raise ConfigError(f"{where}: [registry] min_age is above max_age")
    return params


def _linkage_params(raw: dict[str, Any], where: str) -> LinkageParams:
    default = LinkageParams()
    share = float(raw.get("min_linked_share", default.min_linked_share))
    if not 0.0 <= share <= 1.0:
        raise ConfigError(f"{where}: [linkage] min_linked_share must be between 0 and 1")
    pad = raw.get("pad_ids", {})
    if not isinstance(pad, dict) or not all(
        isinstance(w, int) and not isinstance(w, bool) and 1 <= w <= 64 for w in pad.values()
    ):
        raise ConfigError(
            f"{where}: [linkage] pad_ids must be a table of identifier = width, "
            f"e.g. {{ lopenr = 8 }}"
        )
    accept = raw.get("accept_low_linkage", default.accept_low_linkage)
    if not isinstance(accept, bool):
        raise ConfigError(f"{where}: [linkage] accept_low_linkage must be true or false")
    return LinkageParams(
        min_linked_share=share,
        accept_low_linkage=accept,
        pad_ids={str(k): int(v) for k, v in pad.items()},
    )


def config_from_record(record: dict[str, Any]) -> RunConfig:
    """Rebuild a :class:`RunConfig` from its :meth:`RunConfig.to_dict` record.

    Every build writes that record into ``build.json``, so the derived
    tables carry the configuration that made them; ``arr-stats report
    --derived DIR`` uses it when no configuration file is named.

    Examples
    --------
    >>> c = load_config(DEMO_CONFIG)
    >>> config_from_record(c.to_dict()) == c
    True
    """
    out = record["outcomes"]
    raw = {
        "paths": {
            "registry": record["registry_dir"],
            "nav": record["nav_dir"],
            "derived": record["derived_dir"],
        },
        "nav": {"data_end": out["data_end"], "encoding": record.get("nav_encoding", "auto")},
        "outcomes": {k: v for k, v in out.items() if k != "data_end"},
        "disclosure": record.get("disclosure", {}),
        "registry": record.get("registry", {}),
        "linkage": record.get("linkage", {}),
        "targets": record.get("targets", {}),
        "report": {
            "out": record.get("report_dir", str(PROJECT_ROOT / "reports" / "_output")),
            "low_coverage_threshold": record.get("low_coverage_threshold", 0.60),
        },
    }
    source = record.get("source")
    return config_from_dict(raw, base=Path("/"), source=Path(source) if source else None)


#: The configuration of the synthetic demo, used by notebooks and tests by default.
DEMO_CONFIG = PROJECT_ROOT / "analysis" / "demo.toml"
