# The commands a user types; CI calls `make test` through .ci/run.
# Every target creates .venv when missing, installs the pins and the package, and makes sure
# Fashion-MNIST is present.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
QUIET_PIP := { grep -v "is ignored: it is neither" || true; }  # this machine's pip config noise
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup data book html test lint bench clean

setup: $(STAMP) data

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -r requirements.txt 2>&1 | $(QUIET_PIP)
	$(BIN)/python -m pip install -q --no-deps -e . 2>&1 | $(QUIET_PIP)
	@$(BIN)/python -c "import vaelab"
	@touch $@

data: $(STAMP)
	$(BIN)/vaelab data fetch fashion-mnist

book: setup
	$(BIN)/jupyter-book build -W --keep-going .

html: book

test: setup
	$(BIN)/python -m pytest
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: setup
	$(BIN)/python bench/train_throughput.py

clean:
	rm -rf _build
