# The two Quick start commands. Both set up .venv themselves (PyPI and Debian only, no model hub).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup browser sample test lint clean

# torch==2.13.0 first: it is the CPU build on this disk; any other spec pulls a multi-GB CUDA build.
$(BIN)/digest: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[dev,model,serving]"
	touch $(BIN)/digest

setup: $(BIN)/digest

# Browser tests drive Debian's Chromium (never a downloaded browser) and need Hangul fonts.
# Installed when running as root; elsewhere those tests skip and say how to install them.
browser:
	@if [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi 'noto.*cjk'; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	else echo "note: browser tests will skip (sudo apt-get install chromium fonts-noto-cjk)"; fi

# A complete sample issue from the bundled captured feeds: examples/issues/0001.md and site/.
sample: setup
	cd examples && DIGEST_NOW=2026-04-30T07:00:00+09:00 ../$(BIN)/digest daily --date 2026-04-30 --no-send
	@echo "open site/index.html"

# The whole suite (the real-model test included), then lint and types: what CI runs.
test: setup browser
	$(BIN)/pytest -q
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) site outbox examples/issues examples/.digest
