# ProdLens: `make demo` sets up and runs the demo; `make test` sets up and runs the whole test suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/prodlens demo

lint: $(STAMP)
	$(BIN)/ruff check loaders tests bench sample_data
	$(BIN)/sqlfluff lint models analyses

# Two pytest-xdist workers: most tests wait on a dbt or prodlens subprocess that keeps one core busy.
TEST_WORKERS ?= 2

test: $(STAMP) lint
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup

bench: $(STAMP)
	$(BIN)/python bench/ingest.py

clean:
	rm -rf .prod-lens target logs .pytest_cache demo-report.html
