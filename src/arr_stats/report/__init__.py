"""The annual report: its editions' tables, figures and sentences, and rendering them.

- :mod:`~arr_stats.report.context` – one edition: year, unit, cohorts
- :mod:`~arr_stats.report.formats` – Norwegian number formats, intervals, HTML tables
- :mod:`~arr_stats.report.tables` – the tables, section by section
- :mod:`~arr_stats.report.figures` – the figures
- :mod:`~arr_stats.report.sentences` – sentences generated from the numbers
- :mod:`~arr_stats.report.authors` – the authors' own text, placed in its section
- :mod:`~arr_stats.report.web_figures` – every figure also as PNG and SVG for the web
- :mod:`~arr_stats.report.render` – ``arr-stats report``: which editions, which engine
- :mod:`~arr_stats.report.quarto` – the Quarto engine
- :mod:`~arr_stats.report.fallback` – the Jupyter fallback engine
- :mod:`~arr_stats.report.upload` – the indicator files of a report year
"""
