"""Publication: what may leave TSD, and how it is protected.

- :mod:`~arr_stats.publication.disclosure` – the small-cell rules of disclosure.md, in one place
- :mod:`~arr_stats.publication.audit` – what a reader can prove from all published numbers at once
- :mod:`~arr_stats.publication.linked` – a report year's linked count tables, protected together
- :mod:`~arr_stats.publication.output_check` – the output check of a year's files for export from TSD
"""
