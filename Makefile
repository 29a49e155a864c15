# The two commands of the README: `make run` and `make test`. Each sets everything up first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CHROMIUM ?= /usr/bin/chromium

.PHONY: run test setup browser postgres lint i18n

run: setup  ## set up, then start the app on http://127.0.0.1:8000
	$(BIN)/stepgrad serve

test: setup browser postgres lint  ## set up, then run the whole test suite (browser tests included)
	$(BIN)/pytest

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

browser:  ## Debian's chromium for the browser tests (never a downloaded browser build)
	@test -x $(CHROMIUM) || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else echo "browser tests need Debian's chromium: sudo apt-get install chromium"; exit 1; fi; }

postgres:  ## Debian's PostgreSQL binaries: the classroom's tests start a throwaway server
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq postgresql >/dev/null; \
	  else echo "the classroom's tests need PostgreSQL: sudo apt-get install postgresql"; exit 1; fi; }

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

i18n: setup  ## re-extract messages and merge them into the catalogs
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k NP_:1,2 -o locales/messages.pot --no-location --omit-header .
	$(BIN)/pybabel update -i locales/messages.pot -d locales -l ru --no-fuzzy-matching --omit-header
