# Two commands on a fresh machine with Python 3.11: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
REQS_HASH := $(shell cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)
STAMP := $(VENV)/.installed-$(REQS_HASH)
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: venv run test test-fast lint format package bench bench-quick clean web web-client web-test deploy-web \
	classifier-tables

# The dashboard (web/): node packages from the committed lockfile only (npm ci), reinstalled when it
# changes; web/dist rebuilt when a source changes, as the venv is for requirements.
WEB_LOCK_HASH := $(shell sha1sum web/package-lock.json | cut -c1-12)
WEB_DEPS := web/node_modules/.installed-$(WEB_LOCK_HASH)
WEB_SOURCES := $(shell find web/src web/docs web/scripts -type f) $(wildcard web/*.html web/*.json web/*.ts)

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check 'pip<26.3'
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $@

venv: $(STAMP)

$(WEB_DEPS): web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	rm -f web/node_modules/.installed-*
	touch $@

web/dist/index.html: $(WEB_DEPS) $(WEB_SOURCES)
	cd web && npm run --silent build

## Build the dashboard into web/dist (when its sources changed) and print its gzipped JavaScript size.
web: web/dist/index.html
	@node web/scripts/bundle-size.mjs

## Regenerate the typed API client (web/src/api/schema.d.ts) from the app's OpenAPI document.
web-client: venv $(WEB_DEPS)
	$(BIN)/python web/scripts/openapi_document.py > web/openapi.json
	cd web && npm run --silent client

## The dashboard's component and unit tests (Vitest).
web-test: $(WEB_DEPS)
	cd web && npm test --silent

## Upload web/dist to the stack's bucket and refresh CloudFront (VIGIL_STACK_NAME, default vigil-prod).
deploy-web: venv web
	$(BIN)/python -m infra.deploy_web

## Start the whole stack locally: embedded AWS (moto), the API, the event pump and the dashboard.
run: venv web
	$(BIN)/python -m infra.local

## Every test: the dashboard's Vitest tests, then unit, integration (moto), e2e (the local stack over
## HTTP), browser (the dashboard in Chromium) and packaging.
test: venv web web-test
	$(BIN)/python -m pytest

## Unit and integration tests only (no subprocess stack, no packaging).
test-fast: venv
	$(BIN)/python -m pytest tests/unit tests/integration -m "not slow"

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Train the incident classifier on its dataset and write the counts the Lambda package loads
## (chalicelib/domain/classifier/tables.tsv; commit it: a test fails when it is stale).
classifier-tables: venv
	$(BIN)/python -m chalicelib.domain.classifier

## The SAM template for AWS, with infra/template.yaml merged in (out/sam.yaml), and the Lambda zip
## (out/deployment.zip) with unchecked-hash bytecode beside every source (infra/bytecode.py).
package: venv
	rm -rf out
	$(BIN)/chalice package --stage prod --merge-template infra/template.yaml out/
	$(BIN)/python -m infra.bytecode out/deployment.zip out/sam.yaml

## Cost and speed figures (README "Performance"); the 100,000-service dispatch takes minutes.
bench: venv
	$(BIN)/python -m bench

bench-quick: venv
	$(BIN)/python -m bench quick

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache web/node_modules web/dist
