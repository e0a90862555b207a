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

# The web console (web/): built into web/dist, which the server serves at /.
NPM        ?= npm
WEB        := web
WEB_DEPS   := $(WEB)/node_modules/.installed-stamp
WEB_BUILD  := $(WEB)/dist/index.html
# Everything the build reads (not src/gql, which the build itself generates).
WEB_SOURCES := $(shell find $(WEB)/src $(WEB)/public -path $(WEB)/src/gql -prune -o -type f -print 2>/dev/null) \
	$(WEB)/index.html $(WEB)/vite.config.ts $(WEB)/codegen.ts $(wildcard $(WEB)/tsconfig*.json) \
	$(WEB)/scripts/bundle-size.mjs $(wildcard frontend-contract/*.graphql) schema.graphql

.PHONY: install lock upgrade run migrate test lint typecheck unit schema check-contract bench mutation \
	clean web web-check web-e2e

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

# The shared design contract is not part of this repository: `make test` never needs it.
CONTRACT ?= ../shared/design/contract.graphql
check-contract: install
	$(BIN)/python -m tests.contract.check $(CONTRACT)

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(TOOLS) .mypy_cache .ruff_cache .pytest_cache .mutation
	rm -rf $(WEB)/node_modules $(WEB)/dist $(WEB)/src/gql $(WEB)/test-results

# Mutation testing of the guarded modules (tests/mutation/modules.toml), one module at a time;
# minutes per module, so not part of `make test`. MODULES="crypto outbound" runs a subset.
mutation: install
	$(BIN)/python -m tests.mutation.run $(MODULES)
