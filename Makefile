# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PYDIRS := $(wildcard src tests benchmarks)
STAMP  := $(VENV)/.installed

.PHONY: demo test lint format clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/hashpivot network
	$(BIN)/hashpivot cost examples/industry_average_2025.yaml

test: $(STAMP)
	$(BIN)/ruff check $(PYDIRS)
	$(BIN)/ruff format --check $(PYDIRS)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check $(PYDIRS)

format: $(STAMP)
	$(BIN)/ruff format $(PYDIRS)
	$(BIN)/ruff check --fix $(PYDIRS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis src/*.egg-info
