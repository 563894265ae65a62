# One entry point for Helptal: `make help` lists the targets.

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed
STAGE ?= prod
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help venv browser run test lint bench package clean

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  make %-9s %s\n", $$1, $$2}'

# Reinstalls only when a requirements file changed since the last install.
$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

venv: $(STAMP) ## create .venv and install the app and dev requirements

run: venv ## run Helptal locally: moto, resources, API on :8000, event pump, demo workspace
	$(PY) -m devstack run

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

lint: venv ## ruff check, ruff format --check, mypy chalicelib
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy chalicelib

bench: venv ## run every benchmark in bench/
	@set -e; for script in bench/[!_]*.py; do echo "== $$script"; $(PY) $$script; done

package: venv ## build the CloudFormation (SAM) package for STAGE (default prod) in build/package
	$(PY) -m infra build --stage $(STAGE)
	rm -rf build/package
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-ap-southeast-1} $(VENV)/bin/chalice package \
		--stage $(STAGE) --merge-template build/merge-$(STAGE).json build/package
	@echo "build/package/sam.json is ready (deploy with sam/cloudformation deploy in ap-southeast-1)"

clean: ## remove build output and local state
	rm -rf build .devstack test-artifacts
