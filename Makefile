# Two commands on a fresh machine with Python 3.11: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
REQS_HASH := $(shell cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)
STAMP := $(VENV)/.installed-$(REQS_HASH)
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: venv run test test-fast lint format package bench bench-quick clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check 'pip<26.3'
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $@

venv: $(STAMP)

## Start the whole stack locally: embedded AWS (moto), the API and the event pump.
run: venv
	$(BIN)/python -m infra.local

## Every test: unit, integration (moto), e2e (the local stack over HTTP) and packaging.
test: venv
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

## The SAM template for AWS, with infra/template.yaml merged in (out/sam.yaml).
package: venv
	rm -rf out
	$(BIN)/chalice package --stage prod --merge-template infra/template.yaml out/

## Cost and speed figures (README "Performance"); the 100,000-service dispatch takes minutes.
bench: venv
	$(BIN)/python -m bench

bench-quick: venv
	$(BIN)/python -m bench quick

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
