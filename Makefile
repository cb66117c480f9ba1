# ProdLens: `make demo` sets up and runs the demo; `make test` sets up and runs the whole test suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PACKAGES := prodlens loaders
PYTHON_CODE := $(PACKAGES) tests bench sample_data

.PHONY: demo test lint lint-python lint-types lint-sql bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,spark]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/prodlens demo

# Every gate alone: `make lint-python`, `make lint-types`, `make lint-sql` (docs/contributing.md).
lint: lint-python lint-types lint-sql

lint-python: $(STAMP)
	$(BIN)/ruff check $(PYTHON_CODE)
	$(BIN)/ruff format --check $(PYTHON_CODE)

lint-types: $(STAMP)
	$(BIN)/mypy

# sqlfluff's dbt templater compiles the project against a throwaway home (no real warehouse is opened).
SQL_CODE := models analyses tests/dbt

lint-sql: $(STAMP)
	home=$$(mktemp -d) && PRODLENS_HOME=$$home $(BIN)/sqlfluff lint $(SQL_CODE); rc=$$?; rm -rf $$home; exit $$rc

# Two pytest-xdist workers: most tests wait on a dbt or prodlens subprocess that keeps one core busy.
TEST_WORKERS ?= 2

# After the suite, the build benchmark once at 100,000 requests as a smoke test: it prints its timings and
# fails only when a step fails or the published row count differs from what it generated (no timing asserts).
test: $(STAMP) lint
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup
	$(BIN)/python -m bench.build --rows 100000 --repeat 3

bench: $(STAMP)
	$(BIN)/python bench/ingest.py
	$(BIN)/python -m bench.build

clean:
	rm -rf .prod-lens target logs .pytest_cache demo-report.html
