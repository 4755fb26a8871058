"""Publication: what may leave TSD, and how it is protected.

- :mod:`~arr_stats.publication.disclosure` – the small-cell rules of disclosure.md, in one place
"""
