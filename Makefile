# Two entry points for a fresh clone: `make run` (set up, migrate, serve) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# uv installs exactly what uv.lock pins (with hashes); it is itself pinned and kept in .tools/,
# so a fresh clone needs nothing but Python.
UV_VERSION := 0.13.8
TOOLS  := .tools
UV     := $(TOOLS)/bin/uv
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: install lock upgrade run migrate test lint typecheck unit schema check-contract bench clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet uv==$(UV_VERSION)

# Re-install only when the dependencies or their lock change. --locked refuses a uv.lock that no
# longer matches pyproject.toml instead of quietly resolving anew.
$(STAMP): pyproject.toml uv.lock | $(UV)
	$(UV) sync --quiet --locked --extra dev --python $(PYTHON)
	@touch $(STAMP)

# After editing the dependencies in pyproject.toml: write uv.lock anew, keeping other pins.
lock: | $(UV)
	$(UV) lock

# Move every pin to the newest release that pyproject.toml allows.
upgrade: | $(UV)
	$(UV) lock --upgrade

install: $(STAMP)

migrate: install
	$(BIN)/python -m app migrate

run: migrate
	$(BIN)/python -m app serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy --strict app

unit: install
	$(BIN)/pytest

test: lint typecheck unit

schema: install
	$(BIN)/strawberry export-schema app.graphql.schema:schema --output schema.graphql

# The shared design contract is not part of this repository: `make test` never needs it.
CONTRACT ?= ../shared/design/contract.graphql
check-contract: install
	$(BIN)/python -m tests.contract.check $(CONTRACT)

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(TOOLS) .mypy_cache .ruff_cache .pytest_cache
