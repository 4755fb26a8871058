"""The editions of a report year and the parameters each is rendered with."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from arr_stats.config import PROJECT_ROOT, RunConfig, config_to_dict
from arr_stats.errors import ArrStatsError
from arr_stats.labels import DEFAULT_LANGUAGE, check_language, t

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
    lang
        The language (:data:`arr_stats.labels.LANGUAGES`); bokmål by default.

    Examples
    --------
    >>> Edition(2025).stem, Edition(2025).subtitle
    ('national', '2025 · Nasjonal utgave')
    >>> Edition(2025, "974589095", "Rehab Nord").subtitle
    '2025 · Rehab Nord (974589095) · egen enhet mot resten av landet'
    >>> Edition(2025, lang="en").stem, Edition(2025, lang="en").subtitle
    ('national.en', '2025 · National edition')
    """

    year: int
    institution: str | None = None
    institution_name: str | None = None
    lang: str = DEFAULT_LANGUAGE

    @property
    def stem(self) -> str:
        """The output file name without extension.

        ``national`` or the institution id; an edition in another language
        than bokmål adds the language (``national.en``, ``974589095.en``), so
        that its files lie beside the bokmål ones.
        """
        stem = (
            NATIONAL_STEM if self.institution is None else re.sub(r"[^\w.-]", "_", self.institution)
        )
        return stem if self.lang == DEFAULT_LANGUAGE else f"{stem}.{self.lang}"

    @property
    def subtitle(self) -> str:
        """The subtitle under the document's title, naming the year and the edition."""
        if self.institution is None:
            return t("edition.national", self.lang, year=self.year)
        name = self.institution_name or self.institution
        label = f"{name} ({self.institution})" if name != self.institution else name
        return t("edition.institution", self.lang, year=self.year, label=label)

    @property
    def metadata(self) -> dict[str, str]:
        """Document metadata set per edition (``-M`` for Quarto, the front matter on the fallback)."""
        return {
            "subtitle": self.subtitle,
            "toc-title": t("doc.toc_title", self.lang),
            "running-title": t("doc.running_title", self.lang),
        }


@dataclass(frozen=True)
class RenderedEdition:
    """What rendering one edition produced and how long it took."""

    edition: Edition
    paths: tuple[Path, ...]
    seconds: float


def plan_editions(
    derived_dir: Path,
    year: int,
    institution: str | None = None,
    all_institutions: bool = False,
    national: bool = True,
    lang: str = DEFAULT_LANGUAGE,
) -> list[Edition]:
    """The editions to render, national first, then institutions in id order, in ``lang``.

    An institution belongs to year ``Y`` when it has a background form for
    ``Y`` or consenting episodes discharged in ``Y`` or ``Y − 1``.

    Raises
    ------
    ArrStatsError
        The derived tables are missing, the named institution is unknown, or
        nothing is asked for.
    """
    from arr_stats.derive.load import institution_names
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
    names = institution_names(forms, year)

    lang = check_language(lang)
    editions = [Edition(year, lang=lang)] if national else []
    if institution is not None:
        known = set(forms["institution_id"].astype(str)) | set(
            episodes["institution_id"].astype(str)
        )
        if str(institution) not in known:
            raise ArrStatsError(
                f"institution {institution!r} is not in the derived tables; known ids: "
                f"{', '.join(sorted(known))}"
            )
        editions.append(Edition(year, str(institution), names.get(str(institution)), lang))
    elif all_institutions:
        editions += [Edition(year, i, names.get(i), lang) for i in sorted(in_year)]
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
    return {
        "year": int(edition.year),
        "institution": edition.institution,
        "derived_dir": str(Path(derived_dir).resolve()),
        "config_json": json.dumps(config_to_dict(config), sort_keys=True, ensure_ascii=False),
        "render_time": render_time,
        "lang": edition.lang,
    }


def kernel_env() -> dict[str, str]:
    """The environment of a report kernel: the same hash seed in every one."""
    env = dict(os.environ)
    env["PYTHONHASHSEED"] = "0"  # set and dict-of-str orders the same in every kernel
    env.pop("MPLBACKEND", None)
    return env
