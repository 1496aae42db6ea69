# Linkage: `make run` starts the platform, `make test` runs the tests. See README.md.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PYTEST_WORKERS ?= 2

.PHONY: run test test-fast lint format static messages chromium bench lock clean

$(BIN)/.installed: pyproject.toml requirements.lock
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[test]"
	touch $@

# Third-party front-end files come from npm at build time and are never committed.
static/vendor/.installed: package.json package-lock.json
	@if command -v npm >/dev/null; then \
	  npm ci --no-audit --no-fund --loglevel=error && \
	  mkdir -p static/vendor && \
	  cp node_modules/htmx.org/dist/htmx.min.js static/vendor/ && \
	  cp node_modules/@picocss/pico/css/pico.min.css static/vendor/ && \
	  cp node_modules/axe-core/axe.min.js static/vendor/ && \
	  cp node_modules/chart.js/dist/chart.umd.min.js static/vendor/chart.min.js && \
	  touch $@; \
	else \
	  echo "npm not found: pages work without htmx and Pico styles; install Node.js for them."; \
	  mkdir -p static/vendor; \
	fi

static: static/vendor/.installed

# The translations (locale/*/LC_MESSAGES/django.po) compiled with GNU gettext's msgfmt;
# the .mo files are build output, never committed.
messages: $(BIN)/.installed
	@command -v msgfmt >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext; \
	  else echo "Install gettext for the translations: sudo apt-get install gettext"; exit 1; fi; }
	$(BIN)/python manage.py compilemessages --ignore=.venv --ignore=node_modules -v 0

run: $(BIN)/.installed static messages
	DEBUG=true $(BIN)/python manage.py migrate --no-input
	DEBUG=true $(BIN)/python manage.py seed_demo
	@echo
	@echo "Linkage is starting on http://127.0.0.1:8000  (Ctrl-C stops web, worker and beat)"
	@echo
	DEBUG=true $(BIN)/honcho start -f Procfile.dev

# Browser tests drive Debian's Chromium; install it when missing and we may.
chromium:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "Install Chromium for the browser tests: sudo apt-get install chromium"; exit 1; fi; }

test: $(BIN)/.installed static messages chromium
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)
	@# The calendar-sensitive tests again, each started at fixed awkward moments (a Friday
	@# evening, a weekend, a holiday, both DST changes, New Year's Eve, a leap day): they
	@# pass whatever the date. tests/dated.py; it ends with "dated runs: N passed".
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile -m calendar --dated-runs -p no:cacheprovider

lint: $(BIN)/.installed
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/lint-imports

format: $(BIN)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# On PostgreSQL (as in production and CI) unless DATABASE_URL says otherwise; BENCH=inbox
# runs one benchmark.
bench: $(BIN)/.installed
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/linkage} $(BIN)/python -m bench $(BENCH)

lock: $(BIN)/.installed
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^-e' > requirements.lock

clean:
	rm -rf $(VENV) node_modules static/vendor var db.sqlite3
