# Two commands on a fresh machine: `make demo` and `make test`.
# Every install comes from the lock (uv.lock: the full dependency set, with hashes); `make lock`
# refreshes it, `make test-latest` runs the tests on the newest versions pyproject.toml allows.
PYTHON     ?= python3
UV_VERSION := 0.13.9
TOOLS      := .tools
UV         := $(TOOLS)/bin/uv
VENV       := .venv
BIN        := $(VENV)/bin
PYDIRS     := $(wildcard src tests benchmarks docs/scripts)
STAMP      := $(VENV)/.installed
# Tests run in parallel processes (pytest-xdist), one per core: on CI's 2 cores ~10 min, not ~20.
PYTEST_WORKERS ?= auto
LATEST     := .venv-latest
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: demo test test-latest lock lint format clean chromium bench docs readme backtest-scores

# uv itself, pinned, in a folder of its own (the only thing not installed from the lock).
$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet "uv==$(UV_VERSION)"

$(STAMP): $(UV) uv.lock pyproject.toml
	$(UV) sync --frozen --extra dev --python $(PYTHON) --quiet
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/hashpivot plan examples/bitriver.yaml

# The report and dashboard tests drive Debian's chromium (never a downloaded browser).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

test: $(STAMP) chromium
	$(BIN)/ruff check $(PYDIRS)
	$(BIN)/ruff format --check $(PYDIRS)
	$(BIN)/mypy
	$(BIN)/mkdocs build --strict --quiet --site-dir build/site-check
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup

# The newest versions pyproject.toml allows, in a separate environment (not the lock).
test-latest: $(UV) chromium
	$(UV) venv --quiet --python $(PYTHON) $(LATEST)
	VIRTUAL_ENV=$(LATEST) $(UV) pip install --quiet --upgrade --resolution highest -e '.[dev]'
	$(LATEST)/bin/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup

lock: $(UV)
	$(UV) lock --upgrade

bench: $(UV)
	$(UV) sync --frozen --extra dev --extra bench --python $(PYTHON) --quiet
	touch $(STAMP)
	$(BIN)/python benchmarks/bench_plan.py
	$(BIN)/python benchmarks/bench_conversion.py
	$(BIN)/python benchmarks/bench_dispatch.py
	$(BIN)/python benchmarks/bench_ledger.py
	$(BIN)/python benchmarks/bench_api.py
	$(BIN)/python benchmarks/bench_backtest.py
	$(BIN)/python benchmarks/bench_decide.py
	$(BIN)/python benchmarks/bench_sweep.py

# The schema reference (a test fails when it is stale) and the site with the API reference
# generated from the docstrings (mkdocs + mkdocstrings; --strict: any warning fails the build).
docs: $(STAMP)
	$(BIN)/hashpivot schema --out docs/plan-schema.md
	$(BIN)/mkdocs build --strict --quiet

# Every output block in README.md regenerated from real runs (tests fail when one is stale).
readme: $(STAMP)
	$(BIN)/python docs/scripts/readme.py --write

# The shipped backtest records and the table in docs/scenarios.md, from full backtests (~1 min).
backtest-scores: $(STAMP)
	$(BIN)/python docs/scripts/backtest_scores.py --write

lint: $(STAMP)
	$(BIN)/ruff check $(PYDIRS)

format: $(STAMP)
	$(BIN)/ruff format $(PYDIRS)
	$(BIN)/ruff check --fix $(PYDIRS)

clean:
	rm -rf $(VENV) $(LATEST) $(TOOLS) .pytest_cache .ruff_cache .hypothesis src/*.egg-info out test-artifacts
