# Two commands on a fresh machine (only Python 3.10+ and pip): `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test test-fast lint bench pin clean

setup: $(STAMP)

$(STAMP): requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

## The main job on the bundled examples: one project NOT READY with its gaps, one READY.
demo: $(STAMP)
	@echo "== examples/churn-notebook: how a notebook that 'works' is handed over"
	-$(BIN)/paved check examples/churn-notebook
	@echo
	@echo "== examples/churn-service: the same model after the paved road"
	$(BIN)/paved check examples/churn-service

## The whole suite, slow tests included (this is what CI runs).
test: $(STAMP)
	$(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

## Every benchmark runs, and make fails if any target is missed.
bench: $(STAMP)
	status=0; \
	$(BIN)/python benchmarks/check_speed.py || status=1; \
	$(BIN)/python benchmarks/deps_speed.py || status=1; \
	$(BIN)/python benchmarks/evaluate_speed.py || status=1; \
	$(BIN)/python benchmarks/notebook_audit_speed.py || status=1; \
	$(BIN)/python benchmarks/repro_speed.py || status=1; \
	$(BIN)/python benchmarks/report_speed.py || status=1; \
	$(BIN)/python benchmarks/serve_throughput.py || status=1; \
	exit $$status

## Refresh the pins from a Python 3.10 venv: the oldest supported Python decides the versions.
pin:
	python3.10 -m venv .venv-pin
	.venv-pin/bin/python -m pip install --quiet --upgrade pip
	.venv-pin/bin/python -m pip install --quiet pytest hypothesis jsonschema ruff mypy \
		joblib pandas httpx hatchling markdown-it-py types-PyYAML schemathesis playwright uvloop httptools pre-commit -e ".[evaluate,lock,mlflow,new,notebooks,report,repro,serve]"
	(head -3 requirements-dev.txt; .venv-pin/bin/python -m pip freeze --exclude-editable \
		| grep -v "^-e" | sed -E 's/^(tomli|exceptiongroup)(==.*)/\1\2; python_version < "3.11"/') \
		> requirements-dev.txt.new
	mv requirements-dev.txt.new requirements-dev.txt
	rm -rf .venv-pin

clean:
	rm -rf $(VENV) .venv-pin .pytest_cache .mypy_cache .ruff_cache
