"""Derive: outcomes from the cleaned tables, the build that writes them, and its loader.

- :mod:`~arr_stats.derive.spells` – interval arithmetic on benefit and employment spells
- :mod:`~arr_stats.derive.outcomes` – the outcome definitions of outcomes.md
- :mod:`~arr_stats.derive.build` – ``arr-stats build``: raw delivery → derived tables
- :mod:`~arr_stats.derive.load` – reading a build's derived tables and its configuration
"""
