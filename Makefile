# One entry point for Helptal: `make help` lists the targets.

# The Lambda runtime is python3.13 (Amazon Linux 2023, glibc 2.34): local development uses the
# same minor version (docs/decisions/0007). `make` finds it on the PATH, in pyenv, or installs
# Debian's python3.13 with apt-get where the release has it.
PYTHON_MINOR := 3.13
PYTHON ?= $(shell for p in python$(PYTHON_MINOR) $$HOME/.pyenv/versions/$(PYTHON_MINOR).*/bin/python$(PYTHON_MINOR) /usr/local/bin/python$(PYTHON_MINOR) /usr/bin/python$(PYTHON_MINOR); do "$$p" -c 'import venv' >/dev/null 2>&1 && { echo "$$p"; break; }; done)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed
STAGE ?= prod
# Tests run in one process per core (pytest-xdist), each file in one of them (a file's
# fixtures are shared by its tests); each process has its own emulator and local stack.
PYTEST_ARGS ?= -n auto --dist loadfile

.DEFAULT_GOAL := help
.PHONY: help venv python python-path browser run test lint catalogs web-vendor bench package clean
comma := ,

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  make %-10s %s\n", $$1, $$2}'

# Reinstalls only when a requirements file changed since the last install.
$(STAMP): requirements.txt requirements-dev.txt
	@$(PY) -c 'import sys; sys.exit(sys.version_info[:2] != ($(subst .,$(comma),$(PYTHON_MINOR))))' 2>/dev/null \
		|| { rm -rf $(VENV); $(MAKE) --no-print-directory python; \
		     $$($(MAKE) --no-print-directory -s python-path) -m venv $(VENV); }
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

venv: $(STAMP) ## create .venv and install the app and dev requirements

python: ## make sure Python $(PYTHON_MINOR) (the Lambda runtime's version) is installed
	@if [ -z "$(PYTHON)" ]; then \
		command -v apt-get >/dev/null || { echo "install Python $(PYTHON_MINOR) (the Lambda runtime's version) and retry"; exit 1; }; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq python$(PYTHON_MINOR) python$(PYTHON_MINOR)-venv \
		|| { echo "no python$(PYTHON_MINOR) package here: install Python $(PYTHON_MINOR) (e.g. pyenv install $(PYTHON_MINOR)) and retry"; exit 1; }; \
	fi

python-path:
	@echo $(or $(PYTHON),python$(PYTHON_MINOR))

# `make run AI=local` adds a local stand-in model (rules, no key; every result labelled).
AI ?= off
run: venv ## run Helptal locally: moto, resources, API on :8000, event pump, demo workspace (AI=local: stand-in model)
	$(PY) -m devstack run --ai $(AI)

# Browser tests use Debian's Chromium; the test tooling installs it when it is missing.
CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "install Chromium and set CHROMIUM=<path>"; exit 1; }
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium

browser: $(CHROMIUM) ## install headless Chromium for the browser tests (apt)

test: venv $(CHROMIUM) ## run every test: unit, integration (moto server), e2e (stack + browser)
	@CHROMIUM_PATH=$(CHROMIUM) $(PY) -m pytest $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: that is a failure here"; fi; \
	exit $$status

lint: venv ## ruff check, ruff format --check, mypy (the app, devstack, infra and the fakes)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy chalicelib app.py devstack infra fakes

catalogs: venv ## compile the translation catalogs (chalicelib/locales/*/LC_MESSAGES/helptal.po) to .mo
	$(VENV)/bin/python -m infra.catalogs

# The web client's pinned ES modules, from the npm registry (infra/web_vendor.py); committed.
web-vendor: venv ## download the web client's pinned modules (npm tarballs, integrity checked) into webapp/vendor
	$(PY) -m infra.web_vendor

bench: venv $(CHROMIUM) ## run every benchmark in bench/ (the web client's first load in Chromium, chat round trips on the local stack, booking slots page views)
	@set -e; for script in bench/[!_]*.py; do echo "== $$script"; CHROMIUM_PATH=$(CHROMIUM) $(PY) $$script; done

# Fails when a dependency is missing or not built for the runtime, or when workspace content
# would be outside its region (infra/residency.py); prints the sizes and the deploy commands,
# pinned to that region (infra/package.py).
package: venv ## build and check the SAM template + Lambda zip for STAGE (default prod) in build/package
	$(PY) -m infra.package --stage $(STAGE) --out build/package

clean: ## remove build output and local state
	rm -rf build .devstack test-artifacts .chalice/deployments
