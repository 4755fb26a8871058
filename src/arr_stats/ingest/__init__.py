"""Ingest: a raw delivery read, made canonical, validated, consented and linked.

- :mod:`~arr_stats.ingest.readers` – one raw file in any supported format → raw table
- :mod:`~arr_stats.ingest.canonical` – raw table + dictionary → typed canonical table
- :mod:`~arr_stats.ingest.validate` – row rules and the ``issues`` table
- :mod:`~arr_stats.ingest.linkage` – consent, linkage to the NAV persons, row accounting
"""
