"""arr_stats: cleaning, linkage, outcome definitions, survival analyses and the
annual quality report of the Norwegian quality registry for work-oriented
rehabilitation (ARR).

Modules by pipeline stage:

- :mod:`arr_stats.config` – the run configuration (TOML) and its defaults
- :mod:`arr_stats.dictionary` – the data dictionary (codes, labels, codelists)
- :mod:`arr_stats.synth` – the deterministic synthetic delivery generator
- :mod:`arr_stats.readers` – raw delivery files in any supported format
- :mod:`arr_stats.canonical` – raw → canonical tables through the dictionary
- :mod:`arr_stats.validate` – row rules and the ``issues`` table
- :mod:`arr_stats.linkage` – consent, linkage, row accounting
- :mod:`arr_stats.spells` – interval arithmetic on benefit and employment spells
- :mod:`arr_stats.outcomes` – the outcome definitions of outcomes.md
- :mod:`arr_stats.build` – ``arr-stats build``: raw delivery → derived tables
- :mod:`arr_stats.survival` – Kaplan–Meier, Aalen–Johansen, Cox, state occupation
- :mod:`arr_stats.indicators` – the quality indicators
- :mod:`arr_stats.disclosure` – small-cell rules for every table and figure
- :mod:`arr_stats.plotting` – the house style for figures
- :mod:`arr_stats.report` – rendering the annual report (Quarto or fallback)
"""

__version__ = "0.1.0"
