# Lifecycle Warehouse — the two commands a new user runs:
#   make build   set up, generate the default sample if absent, build, summarise
#   make test    set up, run every test (pytest incl. dbt build on test data, lint)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1

.PHONY: setup build test lint lint-sql lint-python coverage clean help

help:
	@echo "make build  - install, generate the default sample if absent, build, summarise"
	@echo "make test   - install, run pytest (unit + dbt on test data), sqlfluff, ruff"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

setup: $(STAMP)

build: $(STAMP)
	$(BIN)/lw build

test: $(STAMP) lint-python
	$(BIN)/pytest
	$(MAKE) lint-sql

lint: lint-sql lint-python

lint-sql: $(STAMP)
	$(BIN)/sqlfluff lint models tests analyses --processes 2

lint-python: $(STAMP)
	$(BIN)/ruff check scripts pytests

clean:
	rm -rf target logs data/build data/tmp
