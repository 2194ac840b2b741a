# One entry point for humans. Every target uses the project's own venv (.venv).
PY ?= python3
VENV ?= .venv
# Installed before the project so sentence-transformers finds torch and pip does not pull
# the multi-GB CUDA build; e.g. TORCH="torch --index-url https://download.pytorch.org/whl/cpu".
TORCH ?= torch==2.13.0
BIN := $(VENV)/bin

.PHONY: setup demo serve test test-unit test-integration lint bench bench-smoke clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

setup: $(BIN)/python  ## create .venv and install torch (CPU), then the project with its dev dependencies
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e ".[dev]"

demo: setup  ## start langgraph dev, run the demo client against it, stop the server
	$(BIN)/python -m graphs.devserver -- $(BIN)/python -m sdk_client.demo

serve: setup  ## langgraph dev on http://127.0.0.1:2024 with 10 concurrent runs
	$(BIN)/langgraph dev --no-browser --n-jobs-per-worker 10

lint: setup  ## ruff + mypy (both gate CI)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint  ## lint, then unit and integration tests (starts its own langgraph dev servers)
	$(BIN)/pytest

test-unit: setup
	$(BIN)/pytest tests/unit

test-integration: setup
	$(BIN)/pytest tests/integration

bench: setup  ## every contender on one server and scripted model; tables + bench/results/*.json
	$(BIN)/python -m bench
	$(BIN)/python -m bench.submit_latency
	$(BIN)/python -m bench.quality

bench-smoke: setup  ## the tiny version CI runs (as tests/integration/test_bench_smoke.py)
	$(BIN)/python -m bench --smoke --out /tmp/memory-reflect-bench-smoke.json

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
