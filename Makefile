# salesim: the commands a user runs. The virtual environment is created on first use.
#   make simulate SCENARIO=pods     one scenario -> results/pods/
#   make compare SCENARIO=baseline  structures side by side -> results/baseline/report.html
#   make report SCENARIO=baseline   rebuild that report from the saved results (no simulation)
#   make sweep SWEEP=handoff_loss   a parameter sweep -> results/sweeps/handoff_loss/
#   make plan SCENARIO=baseline TARGET=30  reps per role for 30 wins a quarter -> results/baseline/plan/
#   make sensitivity SCENARIO=baseline  which assumptions decide the verdict -> results/baseline/sensitivity/
#   make calibrate-demo             calibrate a scenario from scenarios/examples/crm_export.csv, back-test it
#   make calibrate-compare EXPORT=deals.csv MAPPING=map.toml STRUCTURE=allin  your export -> which structure
#   make test                       the test suite (unit, property, theory checks; under 4 minutes)
#   make test-integration           the end-to-end tests of many seconds (CI runs both)
#   make validate                   every shipped scenario checked + the long theory checks
#   make bench                      speed vs SimPy and Ciw, scaling, memory -> results/bench/bench.json
#   make report-check SCENARIO=...  open results/<scenario>/report.html in headless Chromium
#   make docs                       the documentation site (MkDocs), built strictly -> site/
#   make clean                      remove results and caches (keeps .venv)

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
SCENARIO ?= pods
SWEEP ?= handoff_loss
TARGET ?= 30
ARGS ?=
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
# SCENARIO=pods, pods.toml, scenarios/pods.toml, presets/massive_generalist or any path to a file
SCENARIO_FILE = $(if $(wildcard $(SCENARIO)),$(SCENARIO),scenarios/$(basename $(patsubst scenarios/%,%,$(SCENARIO))).toml)
SCENARIO_NAME = $(notdir $(basename $(SCENARIO)))
SWEEP_FILE = $(if $(wildcard $(SWEEP)),$(SWEEP),scenarios/sweeps/$(basename $(patsubst scenarios/sweeps/%,%,$(SWEEP))).toml)

.PHONY: simulate compare report report-check sweep plan sensitivity calibrate-demo calibrate-compare test test-integration validate bench docs lint clean distclean help

help:
	@sed -n '1,16p' Makefile

# The venv and its packages. uv takes seconds; without uv on the machine, uv is first
# brought into the venv through pip (a few seconds) and does the rest, and plain pip is
# the last resort. The commands a user runs need only the package (.installed); tests,
# lint and bench add the dev tools (.installed-dev).
define install
	@test -x $(PY) || { if command -v uv >/dev/null 2>&1; then uv venv -q --python $(PYTHON) $(VENV); \
		else $(PYTHON) -m venv $(VENV); fi; }
	@if command -v uv >/dev/null 2>&1; then uv pip install -q --python $(PY) -e "$(1)"; \
	elif { test -x $(VENV)/bin/uv || $(PY) -m pip install -q uv >/dev/null 2>&1; }; then \
		$(VENV)/bin/uv pip install -q --python $(PY) -e "$(1)"; \
	else $(PY) -m pip install -q -e "$(1)"; fi
	@touch $@
endef

$(STAMP): pyproject.toml
	$(call install,.)

$(DEV_STAMP): pyproject.toml
	$(call install,.[dev])
	@touch $(STAMP)

simulate: $(STAMP)
	$(PY) -m sim simulate $(SCENARIO_FILE) $(ARGS)

compare: $(STAMP)
	$(PY) -m sim compare $(SCENARIO_FILE) $(ARGS)

report: $(STAMP)
	$(PY) -m sim report results/$(SCENARIO_NAME) $(ARGS)

# Renders the report in headless Chromium (apt-get install chromium): every image loads, no console error.
report-check: $(DEV_STAMP)
	$(PY) -m tests.browser results/$(SCENARIO_NAME)/report.html

# A sweep resumes where it stopped; ARGS="--fresh" starts over, ARGS="--workers 1" runs serially.
sweep: $(STAMP)
	$(PY) -m sim sweep $(SWEEP_FILE) $(ARGS)

# Capacity plan: a search by simulation, minutes for the baseline (one line per team tried).
plan: $(STAMP)
	$(PY) -m sim plan $(SCENARIO_FILE) --wins-per-quarter $(TARGET) $(ARGS)

# Each uncalibrated assumption over its range, one at a time: minutes for the baseline;
# ARGS="--quick" for a first look, ARGS="--only pods.handoff.drop_prob" for one assumption.
sensitivity: $(STAMP)
	$(PY) -m sim sensitivity $(SCENARIO_FILE) $(ARGS)

# The calibration loop on the shipped (generated) example export -> results/calibrate-demo/
calibrate-demo: $(STAMP)
	$(PY) -m sim calibrate scenarios/examples/crm_export.csv --structure conveyor --out results/calibrate-demo/ours.toml
	$(PY) -m sim backtest results/calibrate-demo/ours.toml scenarios/examples/crm_export.csv --out results/calibrate-demo/backtest

# Your CRM export to the decision: calibrate the team as it is (and the other structures
# with the same people), back-test it, compare -> results/<name>/
EXPORT ?= scenarios/examples/crm_export.csv
STRUCTURE ?= conveyor
MAPPING ?=
CAL_NAME = $(notdir $(basename $(EXPORT)))
calibrate-compare: $(STAMP)
	$(PY) -m sim calibrate $(EXPORT) --structure $(STRUCTURE) $(if $(MAPPING),--mapping $(MAPPING)) --all-structures --out results/$(CAL_NAME)-calibrated/$(CAL_NAME).toml $(ARGS)
	$(PY) -m sim backtest results/$(CAL_NAME)-calibrated/$(CAL_NAME).toml --out results/$(CAL_NAME)-calibrated/backtest
	$(PY) -m sim compare results/$(CAL_NAME)-calibrated/$(CAL_NAME).toml --out results/$(CAL_NAME)

# Tests run on every core (pytest-xdist); see the README for how long each part takes.
test: $(DEV_STAMP)
	$(PY) -m pytest -q -n auto -m "not slow and not integration"

test-integration: $(DEV_STAMP)
	$(PY) -m pytest -q -n auto -m "integration and not slow"

validate: $(DEV_STAMP)
	@for f in scenarios/*.toml scenarios/presets/*.toml scenarios/growth/*.toml; do $(PY) -m sim validate $$f >/dev/null || exit 2; done
	$(PY) -m pytest -q tests/validation

# Several minutes; ARGS="--quick" for tiny sizes. Ciw (the `bench` extra) is installed on first use.
bench: $(DEV_STAMP)
	@$(PY) -c "import ciw" 2>/dev/null || { \
		if command -v uv >/dev/null 2>&1; then uv pip install -q --python $(PY) -e ".[dev,bench]"; \
		else $(PY) -m pip install -q -e ".[dev,bench]"; fi; }
	$(PY) -m benchmarks.bench $(ARGS)

# Fails on any warning: a broken link, a missing API object, a stale generated reference.
docs: $(DEV_STAMP)
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict --site-dir site

# Style and the rules of the house: the layers import downward only, SimPy only in the model
# (import-linter contracts in pyproject.toml).
lint: $(DEV_STAMP)
	$(PY) -m ruff check sim tests benchmarks docs
	$(PY) -m ruff format --check sim tests benchmarks
	$(VENV)/bin/lint-imports

clean:
	rm -rf results/* site .pytest_cache .ruff_cache .hypothesis build *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
