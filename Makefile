# The two commands of the README, plus bench. Each sets everything up on a fresh machine.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test bench setup system-deps schema-dump clean

run: setup
	$(VENV)/bin/noetl-pg run

test: setup
	$(VENV)/bin/pytest

bench: setup
	$(PY) -m bench.run_all

setup: system-deps $(STAMP)

system-deps:
	@scripts/ensure-system-deps.sh

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

# Rewrites tests/schema/*.sql from a fresh migrate; commit the result with the migration.
schema-dump: setup
	$(PY) -m tests.schema_dump --write

clean:
	rm -rf $(VENV) .noetl
