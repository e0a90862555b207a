# Two entry points for a fresh clone: `make run` (set up, migrate, serve) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

# The web console (web/): built into web/dist, which the server serves at /.
NPM        ?= npm
WEB        := web
WEB_DEPS   := $(WEB)/node_modules/.installed-stamp
WEB_BUILD  := $(WEB)/dist/index.html
# Everything the build reads (not src/gql, which the build itself generates).
WEB_SOURCES := $(shell find $(WEB)/src $(WEB)/public -path $(WEB)/src/gql -prune -o -type f -print 2>/dev/null) \
	$(WEB)/index.html $(WEB)/vite.config.ts $(WEB)/codegen.ts $(wildcard $(WEB)/tsconfig*.json) \
	$(WEB)/scripts/bundle-size.mjs $(wildcard frontend-contract/*.graphql) schema.graphql

.PHONY: install run migrate test lint typecheck unit schema check-contract bench clean \
	web web-check web-e2e

# Re-install only when the dependency list changes.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/python -m app migrate

# Builds the console first when Node.js >= 20 is there; otherwise the API alone, with a note.
run: migrate
	@if node -e 'process.exit(Number(process.versions.node.split(".")[0]) < 20 ? 1 : 0)' 2>/dev/null; then \
		$(MAKE) --no-print-directory web; \
	else \
		echo "Node.js >= 20 not found: serving the API without the web console (install Node.js, then make web)."; \
	fi
	$(BIN)/python -m app serve

# npm ci only when the lock file changes; PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: the browser tests
# use the system Chromium.
$(WEB_DEPS): $(WEB)/package-lock.json
	cd $(WEB) && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 $(NPM) ci --no-audit --no-fund
	@touch $@

# Rebuilt only when a source, the lock file or a GraphQL document changed.
$(WEB_BUILD): $(WEB_DEPS) $(WEB_SOURCES)
	cd $(WEB) && $(NPM) run build

web: $(WEB_BUILD)

# Type check (strict, after codegen), lint and component tests of the console.
web-check: $(WEB_DEPS)
	cd $(WEB) && $(NPM) run typecheck && $(NPM) run lint && $(NPM) test

# Browser tests: Playwright on the system `chromium` against a real server process.
web-e2e: install $(WEB_BUILD)
	cd $(WEB) && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 $(NPM) run e2e

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy --strict app

unit: install
	$(BIN)/pytest

test: lint typecheck unit web-check web-e2e

schema: install
	$(BIN)/strawberry export-schema app.graphql.schema:schema --output schema.graphql

check-contract: install
	$(BIN)/python ../shared/tools/check_contract.py schema.graphql

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
	rm -rf $(WEB)/node_modules $(WEB)/dist $(WEB)/src/gql $(WEB)/test-results
