# arr-stats: `make` lists the targets. The two commands of the README:
#   make demo   – synthetic delivery → derived tables → the annual reports
#   make test   – the system tools the tests need (make system-deps), then the
#                 whole test suite (unit, property, end-to-end, notebooks)
# Both create .venv from requirements.lock first if it is missing or stale.

PYTHON   ?= python3
VENV     := .venv
PY       := $(VENV)/bin/python
ARR      := $(VENV)/bin/arr-stats
CONFIG   ?= analysis/demo.toml
DEMO_RAW := data/demo/raw
DEMO_DER := data/demo/derived
YEAR     ?= 2025
# make wheelhouse: the target Python (major.minor) and pip platform tag
PYTHON_VERSION ?= $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])')
PLATFORM ?= manylinux_2_28_x86_64

.DEFAULT_GOAL := help
.PHONY: help install system-deps demo demo-data test test-fast test-wheelhouse lint format lock wheelhouse lab notebooks render codebook clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-11s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.lock pyproject.toml
	@test -x $(PY) || { PYTHON=$(PYTHON) bash tools/system_deps.sh venv && $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $@

install: $(VENV)/.installed ## create or update .venv from requirements.lock

system-deps: ## the system tools the tests need: installed on Debian/Ubuntu as root, else named
	@PYTHON=$(PYTHON) bash tools/system_deps.sh

demo-data: $(VENV)/.installed ## synthetic delivery and derived tables in data/demo/
	$(ARR) synth --out $(DEMO_RAW)
	$(ARR) build --config $(CONFIG)

demo: demo-data ## make a synthetic delivery, build it, render the reports
	$(ARR) report --config $(CONFIG) --year $(YEAR) --all-institutions
	@echo "Done. Derived tables: $(DEMO_DER)/   Reports: reports/_output/$(YEAR)/"

# The wheelhouse test takes minutes a Python (downloads, two clean venvs), so
# a developer's make test leaves it to make test-wheelhouse; CI (CI=true) runs both.
test: system-deps demo-data ## system tools, ruff, the whole test suite (notebooks with nbval)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
ifeq ($(CI),true)
	$(PY) -m pytest --nbval --nbval-sanitize-with notebooks/sanitize.cfg
else
	$(PY) -m pytest --nbval --nbval-sanitize-with notebooks/sanitize.cfg -m "not wheelhouse"
	@echo "Not run here: the wheelhouse tests (make test-wheelhouse; CI runs them)."
endif

test-fast: system-deps $(VENV)/.installed ## unit and property tests only (no demo build, no rendering)
	$(PY) -m pytest -m "not slow"

test-wheelhouse: $(VENV)/.installed ## the offline install of each supported Python (minutes)
	$(PY) -m pytest -m wheelhouse tests/test_wheelhouse.py

lint: $(VENV)/.installed ## ruff check and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed ## ruff format and fix
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Resolved on one Python: pins for another Python only (a line with a marker,
# e.g. aiohttp for papermill on 3.12) are carried over; tests/test_environment.py
# names any the new lock lacks.
lock: ## re-resolve requirements.lock from pyproject.toml and sync environment.yml pins
	rm -rf .lockenv && $(PYTHON) -m venv .lockenv
	.lockenv/bin/python -m pip install --quiet --upgrade pip
	.lockenv/bin/python -m pip install --quiet ".[dev]"
	grep ';' requirements.lock > .lockenv/markers || true
	.lockenv/bin/python -m pip freeze --exclude-editable | grep -v '^arr-stats' \
	  | cat - .lockenv/markers | sort -f -t= -k1,1 > requirements.lock
	rm -rf .lockenv
	$(PYTHON) tools/sync_environment.py

wheelhouse: $(VENV)/.installed ## wheels for PYTHON_VERSION and PLATFORM in wheelhouse/, for TSD
	$(PY) tools/wheelhouse.py --python-version $(PYTHON_VERSION) --platform $(PLATFORM)
	@echo "Carry wheelhouse/py$(PYTHON_VERSION)-$(PLATFORM)/ and the project into TSD; see README.md, 'Inside TSD'."

lab: $(VENV)/.installed ## open the notebooks in JupyterLab
	$(VENV)/bin/jupyter lab notebooks/

notebooks: demo-data ## re-execute the notebooks on the demo data and store their outputs (then commit them)
	$(PY) tools/run_notebooks.py

render: $(VENV)/.installed ## render the reports of YEAR from the derived tables
	$(ARR) report --config $(CONFIG) --year $(YEAR) --all-institutions

codebook: $(VENV)/.installed ## write docs/codebook.md from the data dictionary
	$(ARR) dictionary --out docs/codebook.md

clean: ## remove generated data and outputs (keeps .venv)
	rm -rf data/demo reports/_output .pytest_cache
