# Two entry points for a fresh clone: `make run` (set up, migrate, serve) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run migrate test lint typecheck unit schema check-contract bench mutation clean

# Re-install only when the dependency list changes.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

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

check-contract: install
	$(BIN)/python ../shared/tools/check_contract.py schema.graphql

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .mutation

# Mutation testing of the guarded modules (tests/mutation/modules.toml), one module at a time;
# minutes per module, so not part of `make test`. MODULES="crypto outbound" runs a subset.
mutation: install
	$(BIN)/python -m tests.mutation.run $(MODULES)
