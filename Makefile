# salesim: the commands a user runs. The virtual environment is created on first use.
#   make simulate SCENARIO=pods     one scenario -> results/pods/
#   make compare SCENARIO=baseline  structures side by side -> results/baseline/report.html
#   make report SCENARIO=baseline   rebuild that report from the saved results (no simulation)
#   make sweep SWEEP=handoff_loss   a parameter sweep -> results/sweeps/handoff_loss/
#   make plan SCENARIO=baseline TARGET=30  reps per role for 30 wins a quarter -> results/baseline/plan/
#   make calibrate-demo             calibrate a scenario from scenarios/examples/crm_export.csv, back-test it
#   make test                       the test suite (unit, property, theory checks)
#   make validate                   every shipped scenario checked + the long theory checks
#   make bench                      speed vs SimPy and Ciw, scaling, memory -> results/bench/bench.json
#   make report-check SCENARIO=...  open results/<scenario>/report.html in headless Chromium
#   make clean                      remove results and caches (keeps .venv)

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
SCENARIO ?= pods
SWEEP ?= handoff_loss
TARGET ?= 30
ARGS ?=
STAMP := $(VENV)/.installed

.PHONY: simulate compare report report-check sweep plan calibrate-demo test validate bench lint clean distclean help

help:
	@sed -n '1,12p' Makefile

# Prefer uv (seconds) and fall back to venv + pip (tens of seconds).
$(STAMP): pyproject.toml
	@if command -v uv >/dev/null 2>&1; then \
		uv venv -q --allow-existing --python $(PYTHON) $(VENV) && \
		uv pip install -q --python $(PY) -e ".[dev]"; \
	else \
		$(PYTHON) -m venv $(VENV) && \
		$(PY) -m pip install -q --upgrade pip && \
		$(PY) -m pip install -q -e ".[dev]"; \
	fi
	@touch $(STAMP)

simulate: $(STAMP)
	$(PY) -m sim simulate scenarios/$(SCENARIO).toml $(ARGS)

compare: $(STAMP)
	$(PY) -m sim compare scenarios/$(SCENARIO).toml $(ARGS)

report: $(STAMP)
	$(PY) -m sim report results/$(SCENARIO) $(ARGS)

# Renders the report in headless Chromium (apt-get install chromium): every image loads, no console error.
report-check: $(STAMP)
	$(PY) -m tests.browser results/$(SCENARIO)/report.html

# A sweep resumes where it stopped; ARGS="--fresh" starts over, ARGS="--workers 1" runs serially.
sweep: $(STAMP)
	$(PY) -m sim sweep scenarios/sweeps/$(SWEEP).toml $(ARGS)

# Capacity plan: a search by simulation, minutes for the baseline (one line per team tried).
plan: $(STAMP)
	$(PY) -m sim plan scenarios/$(SCENARIO).toml --wins-per-quarter $(TARGET) $(ARGS)

# The calibration loop on the shipped (generated) example export -> results/calibrate-demo/
calibrate-demo: $(STAMP)
	$(PY) -m sim calibrate scenarios/examples/crm_export.csv --structure conveyor --out results/calibrate-demo/ours.toml
	$(PY) -m sim backtest results/calibrate-demo/ours.toml scenarios/examples/crm_export.csv --out results/calibrate-demo/backtest

test: $(STAMP)
	$(PY) -m pytest -q -m "not slow"

validate: $(STAMP)
	@for f in scenarios/*.toml scenarios/presets/*.toml; do $(PY) -m sim validate $$f >/dev/null || exit 2; done
	$(PY) -m pytest -q tests/validation

# Several minutes; ARGS="--quick" for tiny sizes. Ciw (the `bench` extra) is installed on first use.
bench: $(STAMP)
	@$(PY) -c "import ciw" 2>/dev/null || { \
		if command -v uv >/dev/null 2>&1; then uv pip install -q --python $(PY) -e ".[dev,bench]"; \
		else $(PY) -m pip install -q -e ".[dev,bench]"; fi; }
	$(PY) -m benchmarks.bench $(ARGS)

lint: $(STAMP)
	$(PY) -m ruff check sim tests benchmarks

clean:
	rm -rf results/* .pytest_cache .ruff_cache .hypothesis build *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
