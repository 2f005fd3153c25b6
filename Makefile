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
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: setup data book html publish test test-unit test-notebooks test-build test-browser browser-deps npm-dep lint bench clean

setup: $(STAMP) data

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -r requirements.txt 2>&1 | $(QUIET_PIP)
	$(BIN)/python -m pip install -q --no-deps -e . 2>&1 | $(QUIET_PIP)
	@$(BIN)/python -c "import vaelab"
	@touch $@

data: $(STAMP)
	$(BIN)/vaelab data fetch fashion-mnist

# Execute every chapter at the quick profile into _build/executed/, build the HTML from there.
book: setup
	$(BIN)/vaelab book --profile quick

# Render the committed notebooks only (what was published), in seconds.
html: $(STAMP) npm-dep
	$(BIN)/jupyter-book build -W --keep-going .

# Re-execute the committed chapters in place at the paper profile (slow: hours).
publish: setup
	$(BIN)/vaelab publish

test: test-unit test-notebooks test-build test-browser lint

# The unit suite runs with HOME pointed at an empty folder, which must still be empty afterwards:
# no test writes user state (tests/conftest.py points every cache and config folder elsewhere).
test-unit: setup
	@data=$${VAELAB_DATA_DIR:-$${XDG_CACHE_HOME:-$$HOME/.cache}/vaelab/data} && \
	home=$$(mktemp -d) && HOME=$$home VAELAB_DATA_DIR=$$data \
	  $(BIN)/python -m pytest -m "not browser" && \
	if [ -n "$$(find $$home -mindepth 1 -print -quit)" ]; then \
	  echo "test-unit: the tests wrote under HOME:"; find $$home -mindepth 1 | head; exit 1; \
	else echo "test-unit: nothing was written under HOME ($$home)"; rmdir $$home; fi

# Every chapter at the smoke profile; nbval compares the cells tagged nbval-check-output.
test-notebooks: setup
	VAELAB_PROFILE=smoke $(BIN)/python -m pytest --nbval-lax --nbval-current-env -p no:cacheprovider book

test-build: html

test-browser: test-build browser-deps
	VAELAB_HTML_DIR=_build/html $(BIN)/python -m pytest -m browser -rs

# Debian packages a target needs, installed when root and apt are available (as `data` does for
# Fashion-MNIST): $(call apt_need,COMMAND:PACKAGE ...,what happens without them).
apt_need = need=(); for pair in $(1); do command -v $${pair%%:*} >/dev/null || need+=($${pair/*:/}); done; \
	if [ -n "$${need[*]}" ]; then \
	  if [[ $$(id -u) == 0 ]] && command -v apt-get >/dev/null; then \
	    echo "make: apt-get install $${need[*]}"; \
	    apt-get update -qq && apt-get install -y -qq "$${need[@]}" >/dev/null; \
	  else echo "make: cannot install $${need[*]} (not root, or no apt): $(2)"; fi; \
	fi

# The browser test needs chromium and its driver; the book build needs npm (MathJax).
browser-deps:
	@$(call apt_need,chromium:chromium chromedriver:chromium-driver,the browser test will skip)

npm-dep:
	@$(call apt_need,npm:npm,the book build cannot fetch MathJax)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml

bench: setup
	$(BIN)/python bench/train_throughput.py

clean:
	rm -rf _build
