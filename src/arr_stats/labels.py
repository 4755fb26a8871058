"""The label catalogue: every word the annual report prints, in bokmål and English.

One source for the report's headings, captions, table headers, notes and
generated sentences (:mod:`arr_stats.report`), the indicator names
(:data:`arr_stats.indicators.INDICATOR_NAMES`) and the figures' axis labels
(:data:`arr_stats.plotting.LABELS`). The labels of codes (daily states,
``rtw_event``, diagnosis groups, benefits and the coded form items) are in the
data dictionary (``label``/``label_en``, ``codes``/``codes_en``), and the
footnote on interval variances in :mod:`arr_stats.stats.clustering`.

Each language is a flat dictionary ``key → text``; a text may hold
:meth:`str.format` fields (``{year}``) that :func:`t` fills. Bokmål (``nb``)
is the default language everywhere; every key exists in every language
(checked by a test).

The document ``reports/arsrapport.qmd`` names its static text (headings,
figure captions, paragraphs) as ``{{< meta label.KEY >}}``, Quarto's metadata
shortcode; :func:`localise_document` replaces each with the text of the
edition's language before either engine reads the document.

Examples
--------
>>> t("unit.rest"), t("unit.rest", "en")
('Resten av landet', 'Rest of the country')
>>> t("caption.summary", "en", year=2025, unit="National")
'Quality indicators 2025, National'
"""

from __future__ import annotations

import re
from typing import Any

#: The languages of the report; the first is the default.
LANGUAGES: tuple[str, ...] = ("nb", "en")

#: The default language.
DEFAULT_LANGUAGE = LANGUAGES[0]

_NB: dict[str, str] = {
    # ---- the document (reports/arsrapport.qmd)
    "doc.lang": "nb",
    "doc.title": "Årsrapport – Nasjonalt kvalitetsregister for arbeidsrettet rehabilitering (ARR)",
    "doc.toc_title": "Innhold",
    "doc.running_title": "Årsrapport ARR",
    "doc.figure": "Figur",
    "doc.table": "Tabell",
    "doc.intro": (
        "Rapporten beskriver pasientene som har samtykket til registrering i ARR og\n"
        "resultatene for dem. Prosessmål (dekningsgrad, svarprosent, kompletthet)\n"
        "gjelder opphold avsluttet i rapportåret; utfall 12 måneder etter gjelder\n"
        "opphold avsluttet året før. Alle tall er kontrollert for små celler: antall\n"
        "under minstegrensen vises som «<5», og andeler og kurver for grupper med for\n"
        "få personer vises ikke. En institusjon med for få opphold i en kohort er heller\n"
        "ikke med i tallene for landet eller «resten av landet» for den kohorten (bare i\n"
        "tabellen over registrerte opphold), slik at dens tall ikke kan regnes ut som\n"
        "en differanse."
    ),
    "doc.srtw_definition": (
        "Bærekraftig tilbakeføring er første dag med minst fire uker sammenhengende\n"
        "uten helserelaterte ytelser; full uføretrygd og død er konkurrerende utfall."
    ),
    "doc.definitions": (
        "- **Helserelatert ytelse (HRB)**: sykepenger, arbeidsavklaringspenger,\n"
        "  uføretrygd, rehabiliteringspenger, attføring og tidsbegrenset uførestønad med\n"
        "  grad over null. Dagpenger og andre ytelser teller ikke.\n"
        "- **I arbeid 12 måneder etter**: ingen HRB-dag i måneden fram til 12 måneder\n"
        "  etter utskrivning.\n"
        "- **Bærekraftig tilbakeføring**: første dag i en sammenhengende periode uten\n"
        "  HRB og innenfor observasjonstiden; full uføretrygd og død konkurrerer.\n"
        "- **Daglig tilstand**: den første som gjelder av død, full uføretrygd,\n"
        "  AAP/rehabilitering, full og gradert sykmelding, gradert uføretrygd,\n"
        "  arbeidsledig, annen ytelse og «i arbeid» (ingen registrert ytelse)."
    ),
    "sec.summary": "Sammendrag",
    "sec.trend": "Utvikling over tid",
    "sec.data": "Registerets datagrunnlag",
    "sec.episodes": "Registrerte opphold",
    "sec.coverage": "Dekningsgrad, svarprosent og kompletthet",
    "sec.linkage": "Kobling til NAV-data",
    "sec.participants": "Deltakerne",
    "sec.institutions": "Institusjonene",
    "sec.work": "Arbeidsdeltakelse",
    "sec.states": "Tilstand dag for dag det første året",
    "sec.rtw12": "I arbeid 12 måneder etter",
    "sec.time": "Tid til tilbakeføring",
    "sec.cumulative": "Kumulativ andel tilbake i arbeid",
    "sec.km": "Kaplan–Meier",
    "sec.selfreported": "Selvrapportert arbeid og arbeidsevne",
    "sec.method": "Metode og datakvalitet",
    "sec.definitions": "Definisjoner",
    "sec.quality": "Datakvalitet",
    "sec.casemix": "Case-mix-justering",
    "sec.provenance": "Vedlegg: proveniens",
    "sec.configuration": "Konfigurasjon",
    "fig.states": "Andel i hver tilstand det første året etter utskrivning.",
    "fig.funnel": "Traktplott: hver institusjons andel i arbeid 12 måneder etter mot antall opphold, med 95 % og 99,8 % kontrollgrenser rundt landsgjennomsnittet: eksakte binomiske, eller justert for overspredning når institusjonene varierer mer enn tilfeldighet tilsier (notatet under figuren sier hvilke). Institusjoner med for få personer er ikke med.",
    "fig.cumulative": "Kumulativ andel bærekraftig tilbake i arbeid (Aalen–Johansen, 95 % KI).",
    "fig.cumulative_diagnosis": (
        "Kumulativ andel bærekraftig tilbake i arbeid etter diagnosegruppe."
    ),
    "fig.cumulative_institution": (
        "Kumulativ andel bærekraftig tilbake i arbeid etter institusjon."
    ),
    "fig.km": "Andel ikke bærekraftig tilbake i arbeid (Kaplan–Meier), med antall i risiko.",
    "fig.work_ability": "Gjennomsnittlig arbeidsevne (0–10) ved T0–T3 med 95 % KI.",
    "fig.casemix_rtw12": (
        "Traktplott for observert / forventet andel i arbeid 12 måneder etter, med eksakte "
        "95 % og 99,8 % kontrollgrenser rundt 1 (Poisson-binomisk fordeling av observert "
        "antall)."
    ),
    "fig.casemix_srtw": (
        "Traktplott for observert / forventet bærekraftig tilbakeføring innen 12 måneder, med "
        "eksakte 95 % og 99,8 % kontrollgrenser rundt 1 (Poisson-binomisk fordeling av "
        "observert antall)."
    ),
    "fig.alt_fallback": "Figur",
    "fig.trend": "Indikatorene de siste rapportårene med 95 % KI (kvartilbredde for dager med helserelaterte ytelser); bakgrunnen viser målnivåene. Verdier som ikke kan vises av personvernhensyn, mangler i figuren.",
    "fig.hrbdays_units": "Median antall dager med helserelaterte ytelser det første året etter utskrivning per institusjon, med kvartilbredde; bakgrunnen viser målnivåene.",
    "fig.funnel_srtw": "Traktplott: hver institusjons kumulative andel bærekraftig tilbake i arbeid innen 12 måneder mot antall opphold, med 95 % og 99,8 % kontrollgrenser rundt landsgjennomsnittet (grensene behandler andelen som en enkel andel av kohorten).",
    "fig.wa_units": "Gjennomsnittlig parret endring i arbeidsevne fra T0 til T3 per institusjon med 95 % KI; bakgrunnen viser målnivåene.",
    "sec.hrbdays": "Dager med helserelaterte ytelser",
    "sec.by_unit": "Per institusjon",
    # ---- editions
    "edition.national_short": "Nasjonal utgave",
    "edition.national": "{year} · Nasjonal utgave",
    "edition.institution": "{year} · {label} · egen enhet mot resten av landet",
    # ---- units and groups
    "unit.national": "Nasjonalt",
    "unit.own": "Egen enhet",
    "unit.rest": "Resten av landet",
    "unit.unknown": "Ukjent",
    "unit.total": "Totalt",
    "unit.institutions": "Institusjoner",
    # ---- indicators (arr_stats.indicators.INDICATOR_NAMES)
    "indicator.arr_rtw12": "I arbeid 12 måneder etter",
    "indicator.arr_srtw": "Bærekraftig tilbakeføring innen 12 mnd",
    "indicator.arr_hrbdays": "Dager med helserelaterte ytelser",
    "indicator.arr_wa_change": "Endring i arbeidsevne",
    "indicator.arr_resp_t1": "Svarprosent T1",
    "indicator.arr_resp_t2": "Svarprosent T2",
    "indicator.arr_resp_t3": "Svarprosent T3",
    "indicator.arr_dg": "Dekningsgrad",
    "indicator.arr_compl": "Variabelkompletthet",
    "flag.low_coverage": "Lav dekningsgrad",
    # ---- numbers and units (report.formats)
    "format.days": "{value} dager",
    "format.points": "{value} poeng",
    "format.points_interval": "{lower} til {upper}",
    "format.iqr": "kvartilbredde",
    "format.ci95": "95\u00a0% KI",
    "format.level_high": "Høy",
    "format.level_moderate": "Moderat",
    "format.level_low": "Lav",
    "format.level_unknown": "ukjent",
    "format.target": "høy {high} {green}, lav {low} {yellow}",
    # ---- context notes
    "note.small_unit": (
        "{unit}: for få opphold i kohorten ({label}); tabellen vises ikke av personvernhensyn."
    ),
    "note.no_outcomes": (
        "Ingen 12-månedersutfall å vise: for få opphold avsluttet i {year} ({label})."
    ),
    # ---- sentences
    "sentence.hidden": "**{name}**: ikke vist – færre enn {n} personer ({label}).",
    "sentence.indicator": (
        "**{name}**: {value} ({interval} {interval_text}, n = {n}), {level} måloppnåelse "
        "({target})."
    ),
    "sentence.rest": " Resten av landet: {value}.",
    "sentence.flag": " {flag}: tolk resultatet med forsiktighet.",
    # ---- tables: column headers
    "col.indicator": "Indikator",
    "col.interval": "Intervall",
    "col.level": "Måloppnåelse",
    "col.target": "Målnivå",
    "col.unit": "Enhet",
    "col.institution": "Institusjon",
    "col.measure": "Mål",
    "col.share": "Andel",
    "col.base": "Grunnlag",
    "col.state": "Tilstand",
    "col.months": "{months} mnd",
    "col.n_suffix": "{column}, n",
    "col.pct_suffix": "{column}, %",
    "col.region": "Helseregion",
    "col.arr_patients": "ARR-pasienter",
    "col.mean_age": "Snittalder",
    "col.waiting_days": "Ventetid (dager)",
    "col.programme_weeks": "Varighet (uker)",
    "col.diagnosis_group": "Diagnosegruppe",
    "col.change_ci": "Endring (95 % KI)",
    "col.point": "Tidspunkt",
    "col.point_value": "{point} ({months} mnd)",
    "col.answers_n": "Svar, n",
    "col.self_working": "Selvrapportert i arbeid",
    "col.followed_n": "Fulgt i registeret, n",
    "col.register_state": "Registerstatus «{state}»",
    "col.parameter": "Parameter",
    "col.value": "Verdi",
    "col.finding": "Funn",
    "col.rows": "Rader",
    "col.table": "Tabell",
    "col.rule": "Regel",
    "col.severity": "Alvorlighet",
    "col.term": "Ledd",
    "col.odds_ratio": "Oddsratio",
    "col.ci95": "95 % KI",
    "col.vs_limits": "Mot 95 %-grensene",
    "col.what": "Hva",
    "col.file": "Fil",
    # ---- tables: captions
    "caption.summary": "Kvalitetsindikatorer {year}, {unit}",
    "caption.trend": "Utvikling {first}–{last}, {unit}",
    "caption.episodes": "Registrerte opphold med samtykke, etter institusjon og utskrivningsår",
    "caption.coverage": "Dekningsgrad og variabelkompletthet per institusjon",
    "caption.response": "Svarprosent ved oppfølging per institusjon",
    "caption.linkage": "Kobling til NAV-data (alle år i leveransen)",
    "caption.participants": "{variable}, opphold avsluttet i {year}",
    "caption.institutions": "Institusjonsskjema {year}",
    "caption.status": ("Tilstand 3, 6 og 12 måneder etter utskrivning, {unit}, utskrevet {year}"),
    "caption.cumulative": (
        "Kumulativ andel bærekraftig tilbake i arbeid (95 % KI), {unit}, utskrevet {year}"
    ),
    "caption.wa_change": "Parret endring i arbeidsevne (0–10) fra T0 til T3, utskrevet {year}",
    "caption.work_status": "Arbeid selvrapportert og i registeret, {unit}, utskrevet {year}",
    "caption.parameters": "Parametre i kjøringen",
    "caption.issues": "Funn i valideringen av leveransen",
    "caption.casemix": "Case-mix-modell for {indicator} (logistisk, nasjonal{n})",
    "caption.casemix_ratios": "Observert / forventet, {indicator}",
    "caption.provenance": "Versjoner og tid",
    "caption.inputs": "Inndata (SHA-256)",
    "caption.author_texts": "Forfatternes tekst (SHA-256)",
    # ---- tables: notes and cells
    "table.summary_note": (
        "Intervall: 95 % konfidensintervall (Wilson for andeler; for variabelkompletthet "
        "Wilson med effektivt utvalg, siden svarene på ett skjema henger sammen; t for "
        "gjennomsnitt; Aalen–Johansen for kumulativ andel); for medianen kvartilbredden "
        "(25.–75. persentil). {interval_note} «{label}»: for få personer til å vise verdien."
    ),
    "table.summary_flag_note": " Enheten er merket «{flag}».",
    "table.trend_note": (
        "Rapportår: prosessmål gjelder opphold avsluttet i året, "
        "12-månedersutfall opphold avsluttet året før."
    ),
    "table.episodes_note": (
        "«{small}» og «{hidden}»: skjult av personvernhensyn (små tall og "
        "tall som ellers kunne regnes ut fra summene)."
    ),
    "table.linked_episodes": "Opphold koblet til NAV-data",
    "table.linked_persons": "Personer koblet til NAV-data",
    "table.participants_small_note": (
        "{unit} har for få opphold til å vise egen fordeling; tabellen viser landet samlet."
    ),
    "table.institutions_note": (
        "Antall ARR-pasienter er institusjonens eget tall (registrert eller ikke) og er "
        "nevneren i dekningsgraden. «{label}»: for få pasienter til å vise skjemaets tall."
    ),
    "table.linkage_note": (
        "«{label}»: andelen vises ikke når færre enn {min_cell} er koblet eller ikke koblet "
        "(andel og grunnlag ville gi antallet)."
    ),
    "table.wa_no_pairs": "Parret endring i arbeidsevne: ingen enhet har nok par T0–T3 ({label}).",
    "table.casemix_no_model": (
        "Case-mix-modell: ingen enhet har tall som kan vises ({label} eller for få med eller "
        "uten utfallet); modellen vises ikke."
    ),
    "table.status_note": "Sensurerte opphold (ikke fulgt så lenge) er ikke med i kolonnen.",
    "table.cumulative_note": (
        "Verdiene er de kurven i figuren går gjennom. {hidden} i en kolonne for måneder: "
        "skjult fordi hendelsene siden forrige viste verdi er færre enn {min_cell}; i "
        "n-kolonnen: små grupper, og det som ellers kunne regnes ut fra totalen. "
        "{interval_note}"
    ),
    "table.work_status_note": (
        "Selvrapportert i arbeid: full eller redusert stilling. Registerstatus: ingen "
        "registrert ytelse den dagen (outcomes.md). {hidden}: skjult fordi færre enn "
        "{min_cell} har falt ut av oppfølgingen siden forrige viste tall."
    ),
    "table.param_followup": "Oppfølgingstid F",
    "table.param_followup_value": "{days} dager",
    "table.param_srtw": "Bærekraftig tilbakeføring L",
    "table.param_srtw_value": "{days} sammenhengende dager uten helserelatert ytelse",
    "table.param_rtw12": "I arbeid 12 måneder etter",
    "table.param_rtw12_value": "ingen helserelatert ytelse dag {first}–{last}",
    "table.param_status": "Status ved 3, 6, 12 mnd",
    "table.param_day": "dag {day}",
    "table.param_data_end": "NAV-data hentet ut",
    "table.param_min_cell": "Minste viste antall",
    "table.param_min_cell_value": "{n} (mindre vises som «{label}»)",
    "table.param_min_denominator": "Minste gruppe for andeler og kurver",
    "table.param_min_denominator_value": "{n} personer",
    "table.param_complementary": "Komplementær undertrykking",
    "table.on": "på",
    "table.off": "av",
    "table.param_low_coverage": "Lav dekningsgrad",
    "table.param_low_coverage_value": "under {share}",
    "table.no_issues": "Ingen funn i valideringen",
    "table.severity_error": "avvist",
    "table.severity_warning": "advarsel",
    "table.term_const": "Konstantledd",
    "table.term_hrb_days": (
        "Dager med helserelaterte ytelser året før innskrivning (per {per} dager)"
    ),
    "table.limits_over": "over",
    "table.limits_under": "under",
    "table.limits_within": "innenfor",
    "table.check_separation": "separasjon: estimatet er uendelig",
    "table.check_unbounded": "standardfeil over {max_se:g} (log-odds): intervallet sier ingenting",
    "table.check_not_converged": "modellen konvergerte ikke",
    "table.check_few_events": (
        "færre enn {min_cell} opphold med eller uten utfallet (i nivået eller i referansen)"
    ),
    "table.casemix_not_converged": "Modellen konvergerte ikke; koeffisientene vises ikke.",
    "table.casemix_hidden": "Ikke vist: {listed}.",
    "table.casemix_references": "Referansekategorier: {references}. ",
    "table.casemix_censored": (
        "{count} opphold sensurert før dag {days} (uten kjent utfall) er utelatt "
        "fra modellen; indikatoren selv (Aalen–Johansen) tar dem med."
    ),
    "table.casemix_unknown": "{count} opphold uten observert status ved 12 måneder er utelatt.",
    "table.casemix_ratios_note": (
        "Forventet antall (E) er summen av hvert oppholds sannsynlighet i den nasjonale "
        "modellen. Observert antall (O) er da en sum av 0/1-utfall med varians "
        "Σ p(1 − p); KI og kontrollgrensene er eksakte for den fordelingen "
        "(Poisson-binomisk), med modellens sannsynligheter som kjente."
    ),
    "table.rendered": "Rendret",
    "table.report_code": "Rapportkode (git)",
    "table.build_code": "Avledede tabeller bygget fra (git)",
    "table.dictionary": "Datadictionary",
    "table.dictionary_value": "versjon {version}",
    "table.configuration": "Konfigurasjon",
    "table.configuration_in_code": "(laget i kode)",
    "table.package": "Pakke {name}",
    "table.not_installed": "ikke installert",
    "table.unknown": "ukjent",
    "table.git_dirty": "med ulagrede endringer",
    "table.git_clean": "ren",
    # ---- participants' variables
    "variable.age_group": "Aldersgruppe",
    "variable.sex": "Kjønn",
    "variable.diagnosis_group": "Diagnosegruppe",
    "variable.sick_leave_status": "Sykmeldingsstatus ved T0",
    "variable.rehab_mode": "Rehabiliteringstype",
    "variable.education": "Utdanning",
    # ---- results by institution (report.units)
    "units.caption": "{name} per institusjon, rapportår {year} (utskrevet {discharged})",
    "units.note": (
        "Målnivå: {target}. «{label}»: for få personer til å vise verdien; "
        "enheten er da heller ikke med i den nasjonale verdien."
    ),
    "units.level_legend": "Måloppnåelse {level}",
    # ---- figures (report.figures)
    "figure.state_title": (
        "Vist hver {grid}. dag og ved {months} måneder; tilstander med færre enn {min_cell} "
        "personer på et tidspunkt er slått sammen (grått)."
    ),
    "figure.too_few": "For få personer til å vise",
    "figure.limit": "{level} % grense ({limits})",
    "figure.outside": "Utenfor egne 95 %-grenser",
    "figure.p_small": "p < 0,001",
    "figure.estimate": "φ = {phi} (χ²-test, k = {k}: {test})",
    "figure.overdispersed": (
        "Grensene er justert for overspredning (additiv tilfeldig effekt, τ² = {tau2}; "
        "Spiegelhalter 2005, FunnelPlotR): institusjonene varierer mer enn tilfeldighet "
        "tilsier, {estimate}."
    ),
    "figure.not_overdispersed": (
        "Grensene er eksakte binomiske (Spiegelhalter 2005); ingen påvist "
        "overspredning, {estimate}."
    ),
    "figure.exact_binomial": "eksakt binomisk",
    "figure.adjusted": "justert for overspredning",
    "figure.exact": "eksakt",
    "figure.national_value": "Nasjonalt ({value})",
    "figure.denominator": "Antall opphold i nevneren",
    "figure.as_expected": "Som forventet (O/E = 1)",
    "figure.expected": "Forventet antall (E)",
    "figure.oe": "O/E, {indicator}",
    "figure.oe_note": (
        "Grensene er eksakte for en sum av 0/1-utfall (Poisson-binomisk fordeling av O "
        "med den nasjonale modellens sannsynligheter), tegnet for en institusjon med "
        "nasjonal pasientsammensetning. En institusjons egne grenser følger dens egen "
        "pasientsammensetning; ringen markerer dem som er utenfor sine egne 95 %-grenser."
    ),
    # ---- authors' text (report.authors)
    "author.bakgrunn": "Bakgrunn",
    "author.vurdering": "Registerets vurdering",
    "author.interpretation": "Tolkning",
    "author.forbedring": "Forbedringsarbeid",
    "author.metode": "Kommentar",
    # ---- axis labels of the figures (arr_stats.plotting.LABELS)
    "plot.days": "Dager etter utskrivning",
    "plot.survival": "Andel ikke tilbake i arbeid",
    "plot.cumulative_incidence": "Kumulativ andel tilbake i arbeid",
    "plot.share": "Andel",
    "plot.merged_states": "Små tilstander, slått sammen",
    "plot.at_risk": "Antall i risiko",
    "plot.work_ability": "Arbeidsevne (0–10)",
    "plot.point": "Registreringstidspunkt",
    "plot.hazard_ratio": "Hasardratio (95 % KI)",
    "plot.state": "Tilstand",
    "plot.all": "Alle",
    "plot.reference": "ref.",
    "plot.points.T0": "T0 før",
    "plot.points.T1": "T1 etter",
    "plot.points.T2": "T2 6 mnd",
    "plot.points.T3": "T3 12 mnd",
    "plot.variables.age_group": "Aldersgruppe",
    "plot.variables.sex": "Kjønn",
    "plot.variables.diagnosis_group": "Diagnosegruppe",
    "plot.variables.hrb_days_pre_12m": "Dager med helserelaterte ytelser siste år før",
    "plot.variables.rehab_mode": "Rehabiliteringstype",
    "plot.variables.institution_id": "Institusjon",
    # ---- the output check (arr_stats.publication.output_check)
    "check.title": "Eksportkontroll {year}: hver fil i rapportåret",
    "check.intro": (
        "For den som godkjenner eksport fra TSD. Siden lister hver fil i rapportmappen "
        "og årets beskyttede publikasjon og opplastingsfiler i byggemappen: hva filen er, "
        "hva den viser, hvilke regler fra kjøringens konfigurasjon som gjaldt, hvor mange "
        "celler den viser og skjuler, og identifikatorsjekken. Deretter hver skjult celle "
        "med regelen som skjulte den og det revisjonen beviste om den. Ingen skjult verdi "
        "står på denne siden eller i CSV-filene ved siden av."
    ),
    "check.stays": (
        "Denne kontrollen blir i TSD og eksporteres ikke: den viser hvilke skjulte celler "
        "som er små antall (primær undertrykking), noe utgavene aldri viser. Eksporter "
        "rapportmappen; kontrollen ligger i byggemappen ved årets publikasjon."
    ),
    "check.sec.verdict": "Resultat",
    "check.sec.rules": "Regler fra kjøringens konfigurasjon",
    "check.sec.files": "Filer",
    "check.sec.hidden": "Skjulte celler i årets publikasjon",
    "check.sec.limits": "Hva kontrollen ikke dekker",
    "check.limits": (
        "Indikatorene (indicators.csv, sammendraget, utviklingen og figurene per enhet), "
        "O/E, case-mix-modellen, kumulativ andel, arbeidsevne, koblingen og "
        "institusjonsskjemaene er beskyttet tabell for tabell med de samme reglene; de er "
        "ennå ikke celler i årets publikasjon, og revisjonen dekker dem ikke. Kontrollen "
        "beskriver filene slik de ligger i mappene nå: en utgave fra en tidligere kjøring "
        "med en annen konfigurasjon skilles ikke ut, så gjengi alle utgavene av året i én "
        "kjøring før eksport. En fil merket «vurderes manuelt» er ikke skrevet av "
        "arr-stats report eller kunne ikke leses som tekst."
    ),
    "check.hidden_note": (
        "Minst og høyst: det en leser kan bevise om cellen fra alle publiserte tall samlet "
        "(heltallsprogrammering over alle likningene). En skjult celle er trygg når den "
        "ikke er bestemt og ikke ligger innenfor 1–{last}."
    ),
    "check.measure.year": "Rapportår",
    "check.measure.audit_passed": "Revisjonen bestått",
    "check.measure.cells": "Celler i publikasjonen",
    "check.measure.cells_shown": "Celler vist",
    "check.measure.cells_primary": "Celler skjult, primær undertrykking",
    "check.measure.cells_secondary": "Celler skjult, sekundær undertrykking",
    "check.measure.cells_latent": "Latente tall (aldri vist; revisjonen beviser at de ikke kan leses som 1–4)",
    "check.measure.equations": "Likninger mellom cellene",
    "check.measure.hidden_bounded": "Skjulte celler med beviste grenser",
    "check.measure.bounds_exact": "Grensene er eksakte",
    "check.measure.audit_seconds": "Revisjonens tid (sekunder)",
    "check.measure.fingerprint": "Publikasjonens fingeravtrykk",
    "check.measure.files": "Filer",
    "check.measure.files_pass": "Filer bestått",
    "check.measure.files_fail": "Filer ikke bestått",
    "check.measure.files_review": "Filer som vurderes manuelt",
    "check.not_recorded": "ikke registrert (SOURCE_DATE_EPOCH satt, eller eldre journal)",
    "check.yes": "ja",
    "check.no": "nei",
    "check.on": "på",
    "check.off": "av",
    "check.rule.min_cell": (
        "antall på 1–{last} personer vises ikke («<{min_cell}» eller skjult); 0 kan vises"
    ),
    "check.rule.min_denominator": (
        "andeler, gjennomsnitt, medianer og kurver for grupper med færre enn {value} "
        "personer vises ikke, og en enhet med færre opphold i en kohort er ikke med i tallene"
    ),
    "check.rule.complementary_suppression.on": (
        "sekundær undertrykking: flere celler skjules i sammenhengende tabeller til ingen "
        "skjult celle kan regnes ut og revisjonen består"
    ),
    "check.rule.complementary_suppression.off": (
        "av: bare primær undertrykking (revisjonen vil vanligvis ikke bestå)"
    ),
    "check.rule.survival_pooling.on": (
        "hvert tegnet trinn i en kurve samler minst {min_cell} personer som forlater "
        "risikomengden; antall i risiko under {min_cell} vises som «<{min_cell}»"
    ),
    "check.rule.survival_pooling.off": "av: kurvene tegnes uten sammenslåtte trinn",
    "check.rule.state_grid_days": (
        "tilstandsfiguren tegnes hver {value}. dag (og på statusdagene og siste dag); en "
        "tilstand med 1–{last} personer på en tegnet dag slås sammen med andre eller skjules"
    ),
    "check.col.folder": "Mappe",
    "check.col.kind": "Type",
    "check.col.edition": "Utgave",
    "check.col.size": "Byte",
    "check.col.contents": "Innhold",
    "check.col.rules": "Regler",
    "check.col.shown": "Vist",
    "check.col.primary": "Primær",
    "check.col.secondary": "Sekundær",
    "check.col.identifiers": "Identifikatorer",
    "check.col.verdict": "Vurdering",
    "check.col.row": "Rad",
    "check.col.column": "Kolonne",
    "check.col.suppression": "Undertrykking",
    "check.col.low": "Minst",
    "check.col.high": "Høyst",
    "check.col.meaning": "Betydning",
    "check.folder.report": "rapport (eksport)",
    "check.folder.build": "bygg (blir i TSD)",
    "check.kind.edition_html": "utgave (HTML)",
    "check.kind.edition_pdf": "utgave (PDF)",
    "check.kind.figure_png": "webfigur (PNG)",
    "check.kind.figure_svg": "webfigur (SVG)",
    "check.kind.figure_alt": "figurenes alternative tekst",
    "check.kind.indicators": "indikatorfil",
    "check.kind.upload": "opplasting til resultatportalen",
    "check.kind.publication_table": "publikasjonstabell",
    "check.kind.publication_record": "publikasjonens journal",
    "check.kind.output_check": "denne kontrollen",
    "check.kind.other": "ukjent fil",
    "check.contents.edition": (
        "koblede tabeller: {tables}; øvrige tabeller og figurer er beskyttet én for én"
    ),
    "check.contents.figure": "figur {number} ({label}): {alt}",
    "check.contents.figure_alt": "alternativ tekst til {n} figurer",
    "check.contents.indicators": (
        "indikatorer per enhet, resten av landet og nasjonalt: {n} rader (indikator × enhet)"
    ),
    "check.contents.upload_fractions": (
        "én rad per opphold (0/1) for enhetene indicators.csv viser: radnivådata uten "
        "identifikator, til resultatportalen"
    ),
    "check.contents.upload_values": "verdiene til enhetene indicators.csv viser",
    "check.contents.cells": "alle {n} celler med status og regel; verdier bare for viste celler",
    "check.contents.relations": "{n} likninger mellom cellene",
    "check.contents.audit": "beviste grenser for {n} skjulte celler",
    "check.contents.record": "år, fingeravtrykk og revisjonens tid",
    "check.contents.output_check": "denne siden og CSV-filene ved siden av",
    "check.contents.output_check_exported": (
        "en eksportkontroll i rapportmappen: den viser hvilke celler som er små, ta den ut"
    ),
    "check.contents.other": "ikke skrevet av arr-stats report: kontroller for hånd",
    "check.id.pass": "ingen funnet",
    "check.id.fail": "funnet",
    "check.id.binary": "ikke tekst",
    "check.id.unchecked": "ikke sjekket",
    "check.id.self": "skrives nå",
    "check.verdict.pass": "bestått",
    "check.verdict.fail": "ikke bestått",
    "check.verdict.review": "vurderes manuelt",
    "check.suppression.primary": "primær",
    "check.suppression.secondary": "sekundær",
    "check.suppression.latent": "latent tall",
    "check.unbounded": "ubegrenset",
}

_EN: dict[str, str] = {
    "doc.lang": "en",
    "doc.title": "Annual report – Norwegian Quality Registry for Work-Oriented Rehabilitation (ARR)",
    "doc.toc_title": "Contents",
    "doc.running_title": "Annual report ARR",
    "doc.figure": "Figure",
    "doc.table": "Table",
    "doc.intro": (
        "The report describes the patients who consented to registration in ARR and\n"
        "their results. Process measures (coverage, response rate, completeness)\n"
        "concern episodes ending in the report year; outcomes 12 months after concern\n"
        "episodes ending the year before. Every number is checked for small cells:\n"
        "counts below the minimum are shown as “<5”, and shares and curves of groups\n"
        "with too few persons are not shown. An institution with too few episodes in a\n"
        "cohort is also left out of the national and “rest of the country” numbers of\n"
        "that cohort (only the table of registered episodes counts it), so that its\n"
        "numbers cannot be computed as a difference."
    ),
    "doc.srtw_definition": (
        "Sustainable return to work is the first day of at least four consecutive weeks\n"
        "without health-related benefits; full disability pension and death are competing\n"
        "outcomes."
    ),
    "doc.definitions": (
        "- **Health-related benefit (HRB)**: sickness benefit, work assessment allowance,\n"
        "  disability pension, rehabilitation benefit, vocational rehabilitation benefit\n"
        "  and time-limited disability benefit with a grade above zero. Unemployment\n"
        "  benefit and other benefits do not count.\n"
        "- **At work 12 months after**: no HRB day in the month up to 12 months after\n"
        "  discharge.\n"
        "- **Sustainable return to work**: the first day of a continuous period without\n"
        "  HRB within the observation time; full disability pension and death compete.\n"
        "- **Daily state**: the first that applies of death, full disability pension,\n"
        "  work assessment allowance/rehabilitation, full and graded sick leave, graded\n"
        "  disability pension, unemployed, other benefit and “at work” (no registered\n"
        "  benefit)."
    ),
    "sec.summary": "Summary",
    "sec.trend": "Development over time",
    "sec.data": "The registry’s data",
    "sec.episodes": "Registered episodes",
    "sec.coverage": "Coverage, response rate and completeness",
    "sec.linkage": "Linkage to NAV data",
    "sec.participants": "The participants",
    "sec.institutions": "The institutions",
    "sec.work": "Work participation",
    "sec.states": "State day by day in the first year",
    "sec.rtw12": "At work 12 months after",
    "sec.time": "Time to return to work",
    "sec.cumulative": "Cumulative proportion returned to work",
    "sec.km": "Kaplan–Meier",
    "sec.selfreported": "Self-reported work and work ability",
    "sec.method": "Methods and data quality",
    "sec.definitions": "Definitions",
    "sec.quality": "Data quality",
    "sec.casemix": "Case-mix adjustment",
    "sec.provenance": "Appendix: provenance",
    "sec.configuration": "Configuration",
    "fig.states": "Share in each state during the first year after discharge.",
    "fig.funnel": "Funnel plot: each institution’s share at work 12 months after against its number of episodes, with 95% and 99.8% control limits around the national average: exact binomial, or adjusted for overdispersion when the institutions vary more than chance would explain (the note under the figure says which). Institutions with too few persons are left out.",
    "fig.cumulative": (
        "Cumulative proportion in sustainable return to work (Aalen–Johansen, 95% CI)."
    ),
    "fig.cumulative_diagnosis": (
        "Cumulative proportion in sustainable return to work by diagnosis group."
    ),
    "fig.cumulative_institution": (
        "Cumulative proportion in sustainable return to work by institution."
    ),
    "fig.km": (
        "Proportion not in sustainable return to work (Kaplan–Meier), with numbers at risk."
    ),
    "fig.work_ability": "Mean work ability (0–10) at T0–T3 with 95% CI.",
    "fig.casemix_rtw12": (
        "Funnel plot of the observed / expected share at work 12 months after, with exact "
        "95% and 99.8% control limits around 1 (Poisson-binomial distribution of the observed "
        "count)."
    ),
    "fig.casemix_srtw": (
        "Funnel plot of observed / expected sustainable return to work within 12 months, with "
        "exact 95% and 99.8% control limits around 1 (Poisson-binomial distribution of the "
        "observed count)."
    ),
    "fig.alt_fallback": "Figure",
    "fig.trend": "The indicators over the last report years with 95% CI (interquartile range for days on health-related benefits); the background shows the target levels. Values that cannot be shown for privacy reasons are missing from the figure.",
    "fig.hrbdays_units": "Median number of days on health-related benefits in the first year after discharge by institution, with interquartile range; the background shows the target levels.",
    "fig.funnel_srtw": "Funnel plot: each institution’s cumulative proportion in sustainable return to work within 12 months against its number of episodes, with 95% and 99.8% control limits around the national average (the limits treat the proportion as a simple share of the cohort).",
    "fig.wa_units": "Mean paired change in work ability from T0 to T3 by institution with 95% CI; the background shows the target levels.",
    "sec.hrbdays": "Days on health-related benefits",
    "sec.by_unit": "By institution",
    "edition.national_short": "National edition",
    "edition.national": "{year} · National edition",
    "edition.institution": "{year} · {label} · own unit against the rest of the country",
    "unit.national": "National",
    "unit.own": "Own unit",
    "unit.rest": "Rest of the country",
    "unit.unknown": "Unknown",
    "unit.total": "Total",
    "unit.institutions": "Institutions",
    "indicator.arr_rtw12": "At work 12 months after",
    "indicator.arr_srtw": "Sustainable return to work within 12 months",
    "indicator.arr_hrbdays": "Days on health-related benefits",
    "indicator.arr_wa_change": "Change in work ability",
    "indicator.arr_resp_t1": "Response rate T1",
    "indicator.arr_resp_t2": "Response rate T2",
    "indicator.arr_resp_t3": "Response rate T3",
    "indicator.arr_dg": "Coverage",
    "indicator.arr_compl": "Variable completeness",
    "flag.low_coverage": "Low coverage",
    "format.days": "{value} days",
    "format.points": "{value} points",
    "format.points_interval": "{lower} to {upper}",
    "format.iqr": "interquartile range",
    "format.ci95": "95% CI",
    "format.level_high": "High",
    "format.level_moderate": "Moderate",
    "format.level_low": "Low",
    "format.level_unknown": "unknown",
    "format.target": "high {high} {green}, low {low} {yellow}",
    "note.small_unit": (
        "{unit}: too few episodes in the cohort ({label}); the table is not shown to protect "
        "privacy."
    ),
    "note.no_outcomes": (
        "No 12-month outcomes to show: too few episodes ended in {year} ({label})."
    ),
    "sentence.hidden": "**{name}**: not shown – fewer than {n} persons ({label}).",
    "sentence.indicator": (
        "**{name}**: {value} ({interval} {interval_text}, n = {n}), {level} target "
        "attainment ({target})."
    ),
    "sentence.rest": " Rest of the country: {value}.",
    "sentence.flag": " {flag}: interpret the result with caution.",
    "col.indicator": "Indicator",
    "col.interval": "Interval",
    "col.level": "Target attainment",
    "col.target": "Target levels",
    "col.unit": "Unit",
    "col.institution": "Institution",
    "col.measure": "Measure",
    "col.share": "Share",
    "col.base": "Base",
    "col.state": "State",
    "col.months": "{months} months",
    "col.n_suffix": "{column}, n",
    "col.pct_suffix": "{column}, %",
    "col.region": "Health region",
    "col.arr_patients": "ARR patients",
    "col.mean_age": "Mean age",
    "col.waiting_days": "Waiting time (days)",
    "col.programme_weeks": "Duration (weeks)",
    "col.diagnosis_group": "Diagnosis group",
    "col.change_ci": "Change (95% CI)",
    "col.point": "Point",
    "col.point_value": "{point} ({months} months)",
    "col.answers_n": "Answers, n",
    "col.self_working": "Self-reported at work",
    "col.followed_n": "Followed in the register, n",
    "col.register_state": "Register state “{state}”",
    "col.parameter": "Parameter",
    "col.value": "Value",
    "col.finding": "Finding",
    "col.rows": "Rows",
    "col.table": "Table",
    "col.rule": "Rule",
    "col.severity": "Severity",
    "col.term": "Term",
    "col.odds_ratio": "Odds ratio",
    "col.ci95": "95% CI",
    "col.vs_limits": "Against the 95% limits",
    "col.what": "What",
    "col.file": "File",
    "caption.summary": "Quality indicators {year}, {unit}",
    "caption.trend": "Development {first}–{last}, {unit}",
    "caption.episodes": "Registered episodes with consent, by institution and discharge year",
    "caption.coverage": "Coverage and variable completeness by institution",
    "caption.response": "Follow-up response rate by institution",
    "caption.linkage": "Linkage to NAV data (all years of the delivery)",
    "caption.participants": "{variable}, episodes ended in {year}",
    "caption.institutions": "Institution form {year}",
    "caption.status": "State 3, 6 and 12 months after discharge, {unit}, discharged {year}",
    "caption.cumulative": (
        "Cumulative proportion in sustainable return to work (95% CI), {unit}, discharged {year}"
    ),
    "caption.wa_change": "Paired change in work ability (0–10) from T0 to T3, discharged {year}",
    "caption.work_status": "Work self-reported and in the register, {unit}, discharged {year}",
    "caption.parameters": "Parameters of the run",
    "caption.issues": "Findings of the validation of the delivery",
    "caption.casemix": "Case-mix model for {indicator} (logistic, national{n})",
    "caption.casemix_ratios": "Observed / expected, {indicator}",
    "caption.provenance": "Versions and time",
    "caption.inputs": "Inputs (SHA-256)",
    "caption.author_texts": "The authors’ text (SHA-256)",
    "table.summary_note": (
        "Interval: 95% confidence interval (Wilson for shares; for variable completeness "
        "Wilson with the effective sample size, since the answers on one form are related; t "
        "for means; Aalen–Johansen for the cumulative proportion); for the median the "
        "interquartile range (25th–75th percentile). {interval_note} “{label}”: too few "
        "persons to show the value."
    ),
    "table.summary_flag_note": " The unit is marked “{flag}”.",
    "table.trend_note": (
        "Report year: process measures concern episodes ended in the year, "
        "12-month outcomes episodes ended the year before."
    ),
    "table.episodes_note": (
        "“{small}” and “{hidden}”: hidden to protect privacy (small numbers and numbers "
        "that could otherwise be computed from the totals)."
    ),
    "table.linked_episodes": "Episodes linked to NAV data",
    "table.linked_persons": "Persons linked to NAV data",
    "table.participants_small_note": (
        "{unit} has too few episodes to show its own distribution; the table shows the whole "
        "country."
    ),
    "table.institutions_note": (
        "The number of ARR patients is the institution’s own count (registered or not) and is "
        "the denominator of the coverage. “{label}”: too few patients to show the form’s "
        "numbers."
    ),
    "table.linkage_note": (
        "“{label}”: the share is not shown when fewer than {min_cell} are linked or not linked "
        "(share and base would give the count)."
    ),
    "table.wa_no_pairs": (
        "Paired change in work ability: no unit has enough T0–T3 pairs ({label})."
    ),
    "table.casemix_no_model": (
        "Case-mix model: no unit has numbers that can be shown ({label} or too few with or "
        "without the outcome); the model is not shown."
    ),
    "table.status_note": "Censored episodes (not followed that long) are left out of the column.",
    "table.cumulative_note": (
        "The values are those the curve of the figure passes through. {hidden} in a column of "
        "months: hidden because the events since the previous value shown are fewer than "
        "{min_cell}; in the n column: small groups, and what could otherwise be computed from "
        "the total. {interval_note}"
    ),
    "table.work_status_note": (
        "Self-reported at work: full or reduced position. Register state: no registered "
        "benefit on that day (outcomes.md). {hidden}: hidden because fewer than {min_cell} "
        "have left the follow-up since the previous number shown."
    ),
    "table.param_followup": "Follow-up time F",
    "table.param_followup_value": "{days} days",
    "table.param_srtw": "Sustainable return to work L",
    "table.param_srtw_value": "{days} consecutive days without health-related benefit",
    "table.param_rtw12": "At work 12 months after",
    "table.param_rtw12_value": "no health-related benefit on days {first}–{last}",
    "table.param_status": "State at 3, 6, 12 months",
    "table.param_day": "day {day}",
    "table.param_data_end": "NAV data extracted",
    "table.param_min_cell": "Smallest count shown",
    "table.param_min_cell_value": "{n} (smaller shown as “{label}”)",
    "table.param_min_denominator": "Smallest group for shares and curves",
    "table.param_min_denominator_value": "{n} persons",
    "table.param_complementary": "Complementary suppression",
    "table.on": "on",
    "table.off": "off",
    "table.param_low_coverage": "Low coverage",
    "table.param_low_coverage_value": "below {share}",
    "table.no_issues": "No findings in the validation",
    "table.severity_error": "rejected",
    "table.severity_warning": "warning",
    "table.term_const": "Intercept",
    "table.term_hrb_days": (
        "Days on health-related benefits in the year before admission (per {per} days)"
    ),
    "table.limits_over": "above",
    "table.limits_under": "below",
    "table.limits_within": "within",
    "table.check_separation": "separation: the estimate is infinite",
    "table.check_unbounded": "standard error above {max_se:g} (log-odds): the interval says nothing",
    "table.check_not_converged": "the model did not converge",
    "table.check_few_events": (
        "fewer than {min_cell} episodes with or without the outcome (in the level or in the "
        "reference)"
    ),
    "table.casemix_not_converged": "The model did not converge; the coefficients are not shown.",
    "table.casemix_hidden": "Not shown: {listed}.",
    "table.casemix_references": "Reference categories: {references}. ",
    "table.casemix_censored": (
        "{count} episodes censored before day {days} (without a known outcome) are left out "
        "of the model; the indicator itself (Aalen–Johansen) includes them."
    ),
    "table.casemix_unknown": (
        "{count} episodes without an observed state at 12 months are left out."
    ),
    "table.casemix_ratios_note": (
        "The expected count (E) is the sum of each episode’s probability in the national "
        "model. The observed count (O) is then a sum of 0/1 outcomes with variance "
        "Σ p(1 − p); the CI and the control limits are exact for that distribution "
        "(Poisson-binomial), taking the model’s probabilities as known."
    ),
    "table.rendered": "Rendered",
    "table.report_code": "Report code (git)",
    "table.build_code": "Derived tables built from (git)",
    "table.dictionary": "Data dictionary",
    "table.dictionary_value": "version {version}",
    "table.configuration": "Configuration",
    "table.configuration_in_code": "(made in code)",
    "table.package": "Package {name}",
    "table.not_installed": "not installed",
    "table.unknown": "unknown",
    "table.git_dirty": "with uncommitted changes",
    "table.git_clean": "clean",
    "variable.age_group": "Age group",
    "variable.sex": "Sex",
    "variable.diagnosis_group": "Diagnosis group",
    "variable.sick_leave_status": "Sick-leave status at T0",
    "variable.rehab_mode": "Rehabilitation mode",
    "variable.education": "Education",
    "units.caption": "{name} by institution, report year {year} (discharged {discharged})",
    "units.note": (
        "Target levels: {target}. “{label}”: too few persons to show the value; the unit is "
        "then also left out of the national value."
    ),
    "units.level_legend": "Target attainment {level}",
    "figure.state_title": (
        "Shown every {grid} days and at {months} months; states with fewer than {min_cell} "
        "persons at a time are merged (grey)."
    ),
    "figure.too_few": "Too few persons to show",
    "figure.limit": "{level}% limit ({limits})",
    "figure.outside": "Outside own 95% limits",
    "figure.p_small": "p < 0.001",
    "figure.estimate": "φ = {phi} (χ² test, k = {k}: {test})",
    "figure.overdispersed": (
        "The limits are adjusted for overdispersion (additive random effect, τ² = {tau2}; "
        "Spiegelhalter 2005, FunnelPlotR): the institutions vary more than chance would "
        "explain, {estimate}."
    ),
    "figure.not_overdispersed": (
        "The limits are exact binomial (Spiegelhalter 2005); no overdispersion found, {estimate}."
    ),
    "figure.exact_binomial": "exact binomial",
    "figure.adjusted": "adjusted for overdispersion",
    "figure.exact": "exact",
    "figure.national_value": "National ({value})",
    "figure.denominator": "Number of episodes in the denominator",
    "figure.as_expected": "As expected (O/E = 1)",
    "figure.expected": "Expected count (E)",
    "figure.oe": "O/E, {indicator}",
    "figure.oe_note": (
        "The limits are exact for a sum of 0/1 outcomes (Poisson-binomial distribution of O "
        "with the national model’s probabilities), drawn for an institution with the national "
        "case mix. An institution’s own limits follow its own case mix; the ring marks those "
        "outside their own 95% limits."
    ),
    "author.bakgrunn": "Background",
    "author.vurdering": "The registry’s assessment",
    "author.interpretation": "Interpretation",
    "author.forbedring": "Improvement work",
    "author.metode": "Comment",
    "plot.days": "Days after discharge",
    "plot.survival": "Proportion not returned to work",
    "plot.cumulative_incidence": "Cumulative proportion returned to work",
    "plot.share": "Share",
    "plot.merged_states": "Small states, merged",
    "plot.at_risk": "Number at risk",
    "plot.work_ability": "Work ability (0–10)",
    "plot.point": "Registration point",
    "plot.hazard_ratio": "Hazard ratio (95% CI)",
    "plot.state": "State",
    "plot.all": "All",
    "plot.reference": "ref.",
    "plot.points.T0": "T0 before",
    "plot.points.T1": "T1 after",
    "plot.points.T2": "T2 6 months",
    "plot.points.T3": "T3 12 months",
    "plot.variables.age_group": "Age group",
    "plot.variables.sex": "Sex",
    "plot.variables.diagnosis_group": "Diagnosis group",
    "plot.variables.hrb_days_pre_12m": "Days on health-related benefits in the year before",
    "plot.variables.rehab_mode": "Rehabilitation mode",
    "plot.variables.institution_id": "Institution",
    # ---- the output check (arr_stats.publication.output_check)
    "check.title": "Output check {year}: every file of the report year",
    "check.intro": (
        "For the person who approves export from TSD. The page lists every file in the "
        "report folder and the year's protected publication and upload files in the build "
        "folder: what the file is, what it shows, which rules of the run configuration "
        "applied, how many cells it shows and hides, and the identifier check. Then every "
        "hidden cell with the rule that hid it and what the audit proved about it. No hidden "
        "value is on this page or in the CSV files beside it."
    ),
    "check.stays": (
        "This check stays in TSD and is not exported: it shows which hidden cells are small "
        "counts (primary suppression), which the editions never show. Export the report "
        "folder; the check lies in the build folder beside the year's publication."
    ),
    "check.sec.verdict": "Verdict",
    "check.sec.rules": "Rules from the run configuration",
    "check.sec.files": "Files",
    "check.sec.hidden": "Hidden cells of the year's publication",
    "check.sec.limits": "What the check does not cover",
    "check.limits": (
        "The indicators (indicators.csv, the summary, the trends and the figures per unit), "
        "O/E, the case-mix model, the cumulative incidence, work ability, the linkage and the "
        "institution forms are protected table by table with the same rules; they are not yet "
        "cells of the year's publication, and the audit does not cover them. The check "
        "describes the files as they lie in the folders now: an edition from an earlier run "
        "with another configuration is not told apart, so render every edition of the year "
        "in one run before export. A file marked “review” was not written by arr-stats "
        "report or could not be read as text."
    ),
    "check.hidden_note": (
        "At least and at most: what a reader can prove about the cell from all published "
        "numbers together (integer programming over every equation). A hidden cell is safe "
        "when it is not determined and does not lie within 1–{last}."
    ),
    "check.measure.year": "Report year",
    "check.measure.audit_passed": "Audit passed",
    "check.measure.cells": "Cells in the publication",
    "check.measure.cells_shown": "Cells shown",
    "check.measure.cells_primary": "Cells hidden, primary suppression",
    "check.measure.cells_secondary": "Cells hidden, secondary suppression",
    "check.measure.cells_latent": "Latent counts (never printed; the audit proves none reads as 1–4)",
    "check.measure.equations": "Equations between the cells",
    "check.measure.hidden_bounded": "Hidden cells with proven bounds",
    "check.measure.bounds_exact": "The bounds are exact",
    "check.measure.audit_seconds": "Audit time (seconds)",
    "check.measure.fingerprint": "Fingerprint of the publication",
    "check.measure.files": "Files",
    "check.measure.files_pass": "Files passed",
    "check.measure.files_fail": "Files failed",
    "check.measure.files_review": "Files to review",
    "check.not_recorded": "not recorded (SOURCE_DATE_EPOCH set, or an older record)",
    "check.yes": "yes",
    "check.no": "no",
    "check.on": "on",
    "check.off": "off",
    "check.rule.min_cell": (
        "counts of 1–{last} persons are not shown (“<{min_cell}” or hidden); 0 may be shown"
    ),
    "check.rule.min_denominator": (
        "shares, means, medians and curves of groups with fewer than {value} persons are not "
        "shown, and a unit with fewer episodes in a cohort is left out of its numbers"
    ),
    "check.rule.complementary_suppression.on": (
        "secondary suppression: more cells are hidden in linked tables until no hidden cell "
        "can be worked out and the audit passes"
    ),
    "check.rule.complementary_suppression.off": (
        "off: primary suppression only (the audit will usually fail)"
    ),
    "check.rule.survival_pooling.on": (
        "each drawn step of a curve pools at least {min_cell} persons leaving the risk set; "
        "numbers at risk below {min_cell} are shown as “<{min_cell}”"
    ),
    "check.rule.survival_pooling.off": "off: curves are drawn without pooled steps",
    "check.rule.state_grid_days": (
        "the state figure is drawn every {value} days (and on the status days and the last "
        "day); a state of 1–{last} persons on a drawn day is merged with others or hidden"
    ),
    "check.col.folder": "Folder",
    "check.col.kind": "Kind",
    "check.col.edition": "Edition",
    "check.col.size": "Bytes",
    "check.col.contents": "Contents",
    "check.col.rules": "Rules",
    "check.col.shown": "Shown",
    "check.col.primary": "Primary",
    "check.col.secondary": "Secondary",
    "check.col.identifiers": "Identifiers",
    "check.col.verdict": "Verdict",
    "check.col.row": "Row",
    "check.col.column": "Column",
    "check.col.suppression": "Suppression",
    "check.col.low": "At least",
    "check.col.high": "At most",
    "check.col.meaning": "Meaning",
    "check.folder.report": "report (export)",
    "check.folder.build": "build (stays in TSD)",
    "check.kind.edition_html": "edition (HTML)",
    "check.kind.edition_pdf": "edition (PDF)",
    "check.kind.figure_png": "web figure (PNG)",
    "check.kind.figure_svg": "web figure (SVG)",
    "check.kind.figure_alt": "alt text of the figures",
    "check.kind.indicators": "indicator file",
    "check.kind.upload": "results-portal upload",
    "check.kind.publication_table": "publication table",
    "check.kind.publication_record": "publication record",
    "check.kind.output_check": "this check",
    "check.kind.other": "unknown file",
    "check.contents.edition": (
        "linked tables: {tables}; other tables and figures are protected one by one"
    ),
    "check.contents.figure": "figure {number} ({label}): {alt}",
    "check.contents.figure_alt": "alt text of {n} figures",
    "check.contents.indicators": (
        "indicators per unit, rest of the country and nation: {n} rows (indicator × unit)"
    ),
    "check.contents.upload_fractions": (
        "one row per episode (0/1) of the units indicators.csv shows: row-level data without "
        "an identifier, for the results portal"
    ),
    "check.contents.upload_values": "the values of the units indicators.csv shows",
    "check.contents.cells": "all {n} cells with status and rule; values of shown cells only",
    "check.contents.relations": "{n} equations between the cells",
    "check.contents.audit": "proven bounds of {n} hidden cells",
    "check.contents.record": "year, fingerprint and the audit's time",
    "check.contents.output_check": "this page and the CSV files beside it",
    "check.contents.output_check_exported": (
        "an output check in the report folder: it shows which cells are small, remove it"
    ),
    "check.contents.other": "not written by arr-stats report: check by hand",
    "check.id.pass": "none found",
    "check.id.fail": "found",
    "check.id.binary": "not text",
    "check.id.unchecked": "not checked",
    "check.id.self": "being written",
    "check.verdict.pass": "pass",
    "check.verdict.fail": "fail",
    "check.verdict.review": "review",
    "check.suppression.primary": "primary",
    "check.suppression.secondary": "secondary",
    "check.suppression.latent": "latent count",
    "check.unbounded": "unbounded",
}

#: Every label, by language: ``CATALOGUE[lang][key]``.
CATALOGUE: dict[str, dict[str, str]] = {"nb": _NB, "en": _EN}


def check_language(lang: str) -> str:
    """``lang`` if the report has that language, else an error naming those it has.

    Examples
    --------
    >>> check_language("en")
    'en'
    """
    if lang not in CATALOGUE:
        from arr_stats.errors import ArrStatsError

        raise ArrStatsError(f"unknown language {lang!r}; choose one of {', '.join(LANGUAGES)}")
    return lang


def t(key: str, lang: str = DEFAULT_LANGUAGE, /, **fields: Any) -> str:
    """The text of ``key`` in ``lang``, its ``{fields}`` filled.

    Raises
    ------
    KeyError
        ``key`` is not in the catalogue.

    Examples
    --------
    >>> t("table.param_day", "nb", day=91), t("table.param_day", "en", day=91)
    ('dag 91', 'day 91')
    """
    text = CATALOGUE[check_language(lang)][key]
    return text.format(**fields) if fields else text


def group(prefix: str, lang: str = DEFAULT_LANGUAGE) -> dict[str, str]:
    """The labels under ``prefix.`` as ``rest of key → text``.

    Examples
    --------
    >>> group("plot.points", "en")["T3"]
    'T3 12 months'
    """
    head = prefix + "."
    return {
        k[len(head) :]: v for k, v in CATALOGUE[check_language(lang)].items() if k.startswith(head)
    }


_PLACEHOLDER = re.compile(r"\{\{<\s*meta\s+label\.([\w.]+)\s*>\}\}")


def localise_document(text: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """The document with each ``{{< meta label.KEY >}}`` replaced by the label in ``lang``.

    Raises
    ------
    KeyError
        A placeholder names a key the catalogue does not have.

    Examples
    --------
    >>> localise_document("## {{< meta label.sec.summary >}} {#sec-s}", "en")
    '## Summary {#sec-s}'
    """
    return _PLACEHOLDER.sub(lambda m: t(m.group(1), lang), text)


def main(argv: list[str] | None = None) -> int:
    """``python -m arr_stats.labels LANG [DOCUMENT]``: print the document in ``LANG``.

    For rendering the document by hand with Quarto (``arr-stats report``
    does this itself); the default document is ``reports/arsrapport.qmd``.
    """
    import sys

    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in LANGUAGES or len(args) > 2:
        print(f"usage: python -m arr_stats.labels {{{','.join(LANGUAGES)}}} [DOCUMENT]")
        return 2
    if len(args) == 2:
        from pathlib import Path

        document = Path(args[1])
    else:
        from arr_stats.report.editions import REPORT_DOCUMENT as document
    sys.stdout.write(localise_document(document.read_text(encoding="utf-8"), args[0]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
