# ShopBot: `make demo` sets everything up and runs the assistant; `make test` runs every test.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
VENV := .venv
BIN := $(VENV)/bin
SHOPBOT := $(BIN)/shopbot
export HF_HUB_OFFLINE := 1
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONUNBUFFERED := 1
export RASA_TELEMETRY_ENABLED := false

.PHONY: demo test bench venv load-venv system-deps node-deps lint prepare-tiny unit rasa-validate rasa-stories integration clean

$(VENV)/.installed: pyproject.toml scripts/bootstrap.sh
	scripts/bootstrap.sh

venv: $(VENV)/.installed

# The Throughput benchmark's load generator (Locust), in an environment of its own.
.venv-load/.installed: scripts/load-venv.sh training/bench/load-requirements.txt $(VENV)/.installed
	scripts/load-venv.sh

load-venv: .venv-load/.installed

# Debian packages the tests need: postgresql (the order service and e2e tests on PostgreSQL),
# haproxy and redis-server (`shopbot run --replicas`: the load balancer and the lock store),
# chromium (the widget's browser tests; Playwright drives Debian's build, never its own download)
# and, where no npm is on PATH yet (a nodejs build may bring its own), npm for axe-core.
NPM_APT := $(if $(shell command -v npm 2>/dev/null),,npm)
system-deps:
	SHOPBOT_APT_PACKAGES="postgresql haproxy redis-server chromium $(NPM_APT)" scripts/system-deps.sh

# Node packages of the browser tests (axe-core), exactly as package-lock.json pins them.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch node_modules/.installed

node-deps: node_modules/.installed

## demo: build everything for the demo preset (reused when up to date) and run the assistant
demo: venv
	$(SHOPBOT) prepare --preset demo
	$(SHOPBOT) train --preset demo
	$(SHOPBOT) agents ensure-demo
	$(SHOPBOT) run --preset demo

## test: lint, unit tests, Rasa data validation and test stories, end-to-end tests (tiny preset)
test: venv system-deps node-deps lint prepare-tiny unit rasa-validate rasa-stories integration

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy core bot actions knowledge training
	$(BIN)/lint-imports --no-cache

prepare-tiny:
	$(SHOPBOT) prepare --preset tiny

unit:
	$(BIN)/pytest -q

rasa-validate:
	$(BIN)/rasa data validate --domain bot/domain --data bot/data --config config.yml --fail-on-warnings

rasa-stories:
	$(SHOPBOT) train --preset tiny
	$(SHOPBOT) eval --preset tiny --stories-only

integration: node-deps load-venv
	SHOPBOT_REQUIRE_POSTGRES=1 $(BIN)/pytest -q -m "(e2e or postgres or browser) and not rasa" --timeout 900
	# Rasa's in-process training and parsing tests get an interpreter of their own: after the
	# servers' tests the shared event-loop state broke them (seen 2026-12-03).
	$(BIN)/pytest -q -m rasa --timeout 900

## bench: run the benchmarks and write bench/out/report.md
bench: venv system-deps load-venv
	$(SHOPBOT) prepare --preset demo
	$(SHOPBOT) train --preset demo
	$(SHOPBOT) bench

clean:
	rm -rf .venv-load var models bench/out results .pytest_cache .mypy_cache .ruff_cache
