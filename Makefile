# edu_guard: the two commands of the README.
#   make run   set up everything, load the sample county, serve on 127.0.0.1:5000
#   make test  set up everything, check the layers (import-linter), run the suite on SQLite and on PostgreSQL
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000
# The production database the suite also runs on; `make test PG_URL=` skips it.
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: run test setup system-packages bench catalogue clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The exact, hashed versions of requirements.lock first, then the project and the
# plugins without dependencies; `pip check` fails when pyproject.toml asks for something
# the lock lacks (re-lock: docs/architecture.md, "Dependencies").
$(VENV)/.installed: $(BIN)/python pyproject.toml requirements.lock $(wildcard plugins/*/pyproject.toml)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@for p in plugins/*/pyproject.toml; do [ -f "$$p" ] && $(BIN)/python -m pip install --quiet --no-deps -e "$$(dirname $$p)" || true; done
	$(BIN)/python -m pip check
	touch $@

system-packages:
	@bash tools/system-packages.sh

setup: $(VENV)/.installed system-packages

run: setup
	$(BIN)/edu-guard init
	$(BIN)/edu-guard demo
	@echo "=================================================================="
	@echo " edu_guard: http://$(HOST):$(PORT)/"
	@$(BIN)/edu-guard show-admin
	@echo "=================================================================="
	$(BIN)/edu-guard serve --with-worker --host $(HOST) --port $(PORT)

test: setup
	$(BIN)/lint-imports
	$(BIN)/pytest -q
ifneq ($(strip $(PG_URL)),)
	$(BIN)/python tools/check-db.py "$(PG_URL)"
	EDU_GUARD_TEST_DATABASE_URL=$(PG_URL) $(BIN)/pytest -q
endif

bench: setup
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python bench/import_roster.py
	$(BIN)/python bench/print_letters.py
	$(BIN)/python bench/letter_fonts.py
	$(BIN)/python bench/homebound_compliance.py
	$(BIN)/python bench/compare_household.py
	$(BIN)/python bench/aid_propose.py
	$(BIN)/python bench/aid_stats.py

# Refresh the translation catalogue after changing messages (then fill the new English
# entries in edu_guard/translations/en/LC_MESSAGES/messages.po and run it again to compile).
catalogue: setup
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext -k N_ -k Message -o edu_guard/translations/messages.pot .
	$(BIN)/pybabel -q update -i edu_guard/translations/messages.pot -d edu_guard/translations
	$(BIN)/pybabel -q compile -d edu_guard/translations

clean:
	rm -rf $(VENV) build *.egg-info
