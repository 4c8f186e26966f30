# The two Quick start commands. Both set up .venv themselves, offline-safe (PyPI only).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup sample test lint clean

$(BIN)/digest: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(BIN)/digest

setup: $(BIN)/digest

# A complete sample issue from the bundled captured feeds: examples/issues/0001.md and site/.
sample: setup
	cd examples && DIGEST_NOW=2026-04-30T07:00:00+09:00 ../$(BIN)/digest daily --date 2026-04-30 --no-send
	@echo "open site/index.html"

# The whole suite, then lint and types: what CI runs.
test: setup
	$(BIN)/pytest -q
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) site outbox examples/issues examples/.digest
