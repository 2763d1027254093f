# Lifecycle Warehouse — the two commands a new user runs:
#   make build   set up, generate the default sample if absent, build, summarise
#   make test    set up, run every test (pytest on 2 workers incl. dbt build on test
#                data, lint beside it)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1

.PHONY: setup build test test-spark bench lint lint-sql lint-python coverage clean help docs

help:
	@echo "make build  - install, generate the default sample if absent, build, summarise"
	@echo "make test   - install, ruff, pytest on 2 workers (unit + dbt on test data), sqlfluff beside it"
	@echo "make bench  - benchmark at 1M / 10M / 100M events -> bench/results.md"
	@echo "make test-spark - the project on Apache Spark, every mart compared with DuckDB (Java 17+)"
	@echo "make docs   - dbt docs (models, columns, lineage, exposures, metrics) of the last build"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,orchestration,spark]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

setup: $(STAMP)

build: $(STAMP)
	$(BIN)/lw build

# pytest runs on 2 workers (pyproject addopts: -n 2, one module per worker, the default
# sample built once; DECISIONLOG "Test parallelism"). The SQL lint (~2 min of CPU, mostly
# one core) runs beside it and prints its report after pytest's; either failing fails.
SQL_LINT_LOG := logs/lint-sql.log
test: $(STAMP) lint-python
	@mkdir -p $(dir $(SQL_LINT_LOG))
	@echo "$(BIN)/pytest, and beside it $(BIN)/sqlfluff lint models tests analyses --processes 1 > $(SQL_LINT_LOG)"
	@$(BIN)/sqlfluff lint models tests analyses --processes 1 > $(SQL_LINT_LOG) 2>&1 & lint=$$!; \
	$(BIN)/pytest; tests=$$?; \
	wait $$lint; sql=$$?; \
	echo "--- make lint-sql (sqlfluff lint models tests analyses): exit $$sql"; \
	cat $(SQL_LINT_LOG); \
	exit $$(( tests || sql ))

# dbt docs of the last build (the catalog reads the build database, so run it after
# `make build`, not while a build runs). Own target dir: never mixes with run artifacts.
DOCS_DIR := target/docs
docs: $(STAMP)
	@db="$${LW_DUCKDB_PATH:-data/build/lifecycle.duckdb}"; test -f "$$db" || { \
	  echo "No build database at $$db: run 'make build' first (or set LW_DUCKDB_PATH)." >&2; exit 1; }
	$(BIN)/dbt docs generate --profiles-dir profiles --target-path $(DOCS_DIR) --static
	@echo ""
	@echo "dbt docs written to $(DOCS_DIR)/. Open $(DOCS_DIR)/static_index.html in a browser,"
	@echo "or serve them:  $(BIN)/dbt docs serve --profiles-dir profiles --target-path $(DOCS_DIR) --port 8080"

# The performance benchmark (not part of make test; ~1 hour and ~40 GB of disk at 100M):
# bench/results.md, bench/results.json and bench/results.png. BENCH_SCALES=1M,10M to shorten.
BENCH_SCALES ?= 1M,10M,100M
bench: $(STAMP)
	$(BIN)/lw bench --events $(BENCH_SCALES)

# The same project on Apache Spark (dbt-spark, local session; needs Java 17+): builds
# the default sample on Spark and on DuckDB and compares every mart (pytests/test_spark.py).
# Also part of `make test`, where it is skipped (with the reason) when Java is missing.
test-spark: $(STAMP)
	@command -v java >/dev/null || { echo "make test-spark needs Java 17+ (Debian: apt-get install openjdk-17-jre-headless)" >&2; exit 1; }
	LW_REQUIRE_SPARK=1 $(BIN)/pytest -n 0 -m spark pytests/test_spark.py

lint: lint-sql lint-python

lint-sql: $(STAMP)
	$(BIN)/sqlfluff lint models tests analyses --processes 2

lint-python: $(STAMP)
	$(BIN)/ruff check scripts pytests

clean:
	rm -rf target logs data/build data/tmp
