# Lifecycle Warehouse — the two commands a new user runs:
#   make build   install what building needs, generate the default sample if absent, build, summarise
#   make test    install the dev, orchestration and Spark extras too, run every test (pytest on
#                2 workers incl. dbt builds on test data, sqlfluff beside it, ruff)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1

# One stamp per installed extra set, named by that set and pyproject.toml's checksum:
# .venv/.installed-<set>-<cksum>. A set is reinstalled when pyproject.toml changes (new
# checksum) and never assumed from another set's stamp, except that installing a set
# also stamps the sets it contains (the test set contains core, dev, spark, orchestration).
PYPROJECT_SUM := $(shell cksum < pyproject.toml | cut -d' ' -f1)
stamp = $(VENV)/.installed-$(1)-$(PYPROJECT_SUM)
STAMP_CORE := $(call stamp,core)
STAMP_DAGSTER := $(call stamp,orchestration)
STAMP_SPARK := $(call stamp,dev+spark)
STAMP_TEST := $(call stamp,dev+orchestration+spark)
SPARK_EXTRAS := dev,spark
TEST_EXTRAS := dev,orchestration,spark

# $(1): the extras ("" = core only), $(2): the set names this install satisfies
define install
	@test -x $(BIN)/python || { $(PYTHON) -m venv $(VENV) && $(BIN)/pip install --quiet --upgrade pip; }
	$(BIN)/pip install --quiet -e '.$(if $(1),[$(1)])'
	@find $(VENV) -maxdepth 1 -name '.installed-*' ! -name '*-$(PYPROJECT_SUM)' -delete
	@touch $(foreach set,$(2),$(call stamp,$(set)))
endef

.PHONY: setup build test test-spark dagster bench lint lint-sql lint-python clean help docs

help:
	@echo "make build  - install the core dependencies, generate the default sample if absent, build, summarise"
	@echo "make test   - install the dev, orchestration and spark extras, ruff, pytest on 2 workers (unit + dbt on test data), sqlfluff beside it"
	@echo "make dagster - install the orchestration extra, start the Dagster UI (dagster dev) on http://127.0.0.1:3000"
	@echo "make bench  - benchmark at 1M / 10M / 100M events -> bench/results.md"
	@echo "make test-spark - the project on Apache Spark, every mart compared with DuckDB (Java 17+)"
	@echo "make docs   - dbt docs (models, columns, lineage, exposures, metrics) of the last build"

$(STAMP_CORE): pyproject.toml
	$(call install,,core)

$(STAMP_DAGSTER): pyproject.toml
	$(call install,orchestration,core orchestration)

$(STAMP_SPARK): pyproject.toml
	$(call install,$(SPARK_EXTRAS),core dev+spark)

$(STAMP_TEST): pyproject.toml
	$(call install,$(TEST_EXTRAS),core orchestration dev+spark dev+orchestration+spark)

setup: $(STAMP_CORE)

build: $(STAMP_CORE)
	$(BIN)/lw build

# pytest runs on 2 workers (pyproject addopts: -n 2, one module per worker, the default
# sample built once; DECISIONLOG "Test parallelism"). The SQL lint (~2 min of CPU, mostly
# one core) runs beside it and prints its report after pytest's; either failing fails.
SQL_LINT_LOG := logs/lint-sql.log
test: $(STAMP_TEST) lint-python
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
docs: $(STAMP_CORE)
	@db="$${LW_DUCKDB_PATH:-data/build/lifecycle.duckdb}"; test -f "$$db" || { \
	  echo "No build database at $$db: run 'make build' first (or set LW_DUCKDB_PATH)." >&2; exit 1; }
	$(BIN)/dbt docs generate --profiles-dir profiles --target-path $(DOCS_DIR) --static
	@echo ""
	@echo "dbt docs written to $(DOCS_DIR)/. Open $(DOCS_DIR)/static_index.html in a browser,"
	@echo "or serve them:  $(BIN)/dbt docs serve --profiles-dir profiles --target-path $(DOCS_DIR) --port 8080"

# The performance benchmark (not part of make test; ~1 hour and ~40 GB of disk at 100M):
# bench/results.md, bench/results.json and bench/results.png. BENCH_SCALES=1M,10M to shorten.
BENCH_SCALES ?= 1M,10M,100M
bench: $(STAMP_CORE)
	$(BIN)/lw bench --events $(BENCH_SCALES)

# The same project on Apache Spark (dbt-spark, local session; needs Java 17+): builds
# the default sample on Spark and on DuckDB and compares every mart (pytests/test_spark.py).
# Also part of `make test`, where it is skipped (with the reason) when Java is missing.
# Installs the dev (pytest) and spark extras.
test-spark: $(STAMP_SPARK)
	@command -v java >/dev/null || { echo "make test-spark needs Java 17+ (Debian: apt-get install openjdk-17-jre-headless)" >&2; exit 1; }
	LW_REQUIRE_SPARK=1 $(BIN)/pytest -n 0 -m spark pytests/test_spark.py

# Scheduled runs with Dagster (docs/orchestration.md): the UI with the daily schedule on.
# Reads the landing data at LW_LANDING_DIR (default data/landing; run `make build` first).
dagster: $(STAMP_DAGSTER)
	$(BIN)/dagster dev

lint: lint-sql lint-python

lint-sql: $(STAMP_TEST)
	$(BIN)/sqlfluff lint models tests analyses --processes 2

lint-python: $(STAMP_TEST)
	$(BIN)/ruff check src pytests

clean:
	rm -rf target logs data/build data/tmp
