"""nbval collects the five validated notebooks only, not a researcher's own.

``notebooks/work/`` holds researchers' own notebooks (ignored by git but for
its template, see notebooks/README.md): they have no committed outputs for
nbval to compare, so ``pytest --nbval`` leaves the folder out. The template is
executed by tests/test_notebook_template.py instead.
"""

collect_ignore = ["work"]
