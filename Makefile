# One entry point for humans. Every target uses the project's own venv (.venv).
PY ?= python3
VENV ?= .venv
# Installed before the project so sentence-transformers finds torch and pip does not pull
# the multi-GB CUDA build; e.g. TORCH="torch --index-url https://download.pytorch.org/whl/cpu".
TORCH ?= torch==2.13.0
BIN := $(VENV)/bin

.PHONY: setup js-setup demo serve test test-slow test-unit test-integration browser-test reliability security lint bench bench-smoke bench-backfill graph report scaleout scaleout-test mutation fuzz clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

setup: $(VENV)/.installed  ## create .venv and install torch (CPU), then the project with its dev dependencies

# Installed once per venv, and again when pyproject.toml changes (the install is
# editable: code changes need none); every target below starts from here.
$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

JS_AGENT := docs/examples/js

js-setup: $(JS_AGENT)/node_modules/.installed  ## the JavaScript agent example's SDK (npm ci), for its test

# Without npm nothing is installed and the JavaScript agent's test skips itself (no node).
$(JS_AGENT)/node_modules/.installed: $(JS_AGENT)/package-lock.json
	@if command -v npm >/dev/null; then \
		cd $(JS_AGENT) && npm ci --silent --no-audit --no-fund && touch node_modules/.installed; \
	else echo "npm not found: the JavaScript agent's test will be skipped"; fi

demo: setup  ## start langgraph dev, run the demo client against it, stop the server
	$(BIN)/python -m deploy.devserver -- $(BIN)/python -m sdk_client.demo

serve: setup  ## langgraph dev on http://127.0.0.1:2024 with 10 concurrent runs
	$(BIN)/langgraph dev --no-browser --n-jobs-per-worker 10

lint: setup  ## ruff + mypy (both gate CI)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint js-setup  ## lint, then unit and integration tests (starts its own langgraph dev servers)
	$(BIN)/pytest --durations=25

test-slow: setup  ## what waits on real clocks (crons, quiet periods) or takes minutes (bench smoke, interrupted backfill): ~9 min
	$(BIN)/pytest -m slow

test-unit: setup
	$(BIN)/pytest tests/unit

test-integration: setup js-setup
	$(BIN)/pytest tests/integration

browser-test: setup  ## the inspector page in headless chromium against langgraph dev (needs `apt-get install chromium`)
	$(BIN)/python -m pip install --quiet -e ".[browser]"
	@command -v $${CHROMIUM:-chromium} >/dev/null || { echo "needs Debian's chromium: apt-get install -y chromium"; exit 1; }
	$(BIN)/pytest -m browser tests/browser

reliability: setup  ## every fault at full size (~10 min); table + bench/results/reliability.json
	RELIABILITY_FULL=1 $(BIN)/pytest tests/reliability -m reliability

security: setup  ## the attack table: every route × 4 attackers on a keyed server (also in `make test`)
	$(BIN)/pytest -s tests/integration/test_security.py -k "attackers or covered"

bench: setup  ## every contender on one server and scripted model, server CPU per run; tables + bench/results/*.json
	$(BIN)/python -m bench
	$(BIN)/python -m bench.run_cost
	$(BIN)/python -m bench.run_parts
	$(BIN)/python -m bench.submit_latency
	$(BIN)/python -m bench.quality
	$(BIN)/python -m bench.consolidation

bench-smoke: setup  ## the tiny version CI runs (as tests/integration/test_bench_smoke.py)
	$(BIN)/python -m bench --smoke --out /tmp/memory-reflect-bench-smoke.json
	$(BIN)/python -m bench.backfill --smoke --out /tmp/memory-reflect-backfill-smoke.json

BACKFILL_ARGS ?=
bench-backfill: setup  ## a backfill on langgraph dev and the 2-process cluster, with live traffic (10,000 conversations: long)
	$(BIN)/python -m bench.backfill $(BACKFILL_ARGS)

graph: setup  ## redraw the README's Mermaid block from the compiled graph
	$(BIN)/python -m graphs.memory_manager.draw --readme README.md

report: setup  ## rewrite the docs' tables of measured figures from bench/results/*.json
	$(BIN)/python -m bench.report

scaleout-test: setup  ## the scale-out tests (CI runs them): Postgres + Redis + 2 server processes (deploy/local_cluster.py)
	SCALEOUT=1 TORCH="$(TORCH)" $(BIN)/pytest tests/scaleout

scaleout: scaleout-test  ## the scale-out tests, then the 1 vs 2 processes benchmark
	$(BIN)/python -m bench.scaleout

FUZZ_SECONDS ?= 600
FUZZ_ARGS ?=
fuzz: setup  ## Schemathesis against a keyed langgraph dev for FUZZ_SECONDS: no 5xx (its own venv, tests/fuzz.py)
	$(BIN)/python -m tests.fuzz --seconds $(FUZZ_SECONDS) $(FUZZ_ARGS)

mutation: setup  ## mutmut over the promise-carrying modules, unit tests only (docs/mutation.md); MODULES="contract ledger" for some
	$(BIN)/python -m tests.mutation $(MODULES)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
