# Two commands on a fresh machine with Python 3.11+: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test install install-test lint format assets bench clean lock

run: $(VENV)/.installed assets
	$(BIN)/phb up

# Branch coverage of the code the test process runs, checked against the floor in pyproject.toml
# ([tool.coverage.report] fail_under; docs/architecture.md, "Coverage"). A subset of the tests
# falls below it: `make test PYTEST_ARGS=tests/unit COVERAGE=` runs without it.
COVERAGE ?= --cov --cov-report=term:skip-covered
# One worker process a core (at most 4), each test file whole on one worker and the browser
# journeys together (tests/conftest.py); `make test PYTEST_WORKERS=0` runs them in this process.
PYTEST_WORKERS ?= auto

test: $(VENV)/.installed-test assets
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest -n $(PYTEST_WORKERS) --maxprocesses=4 --dist loadfile $(COVERAGE) $(PYTEST_ARGS)

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Dependencies come only from the lock files, every file checked against its hash; the project
# itself is installed on top without resolving anything again.
$(VENV)/.installed: pyproject.toml requirements/runtime.txt requirements/build.txt | $(VENV)/bin/python
	$(BIN)/pip install --quiet --require-hashes -r requirements/build.txt -r requirements/runtime.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml requirements/test.txt requirements/build.txt | $(VENV)/bin/python
	$(BIN)/pip install --quiet --require-hashes -r requirements/build.txt -r requirements/test.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@ $(VENV)/.installed

# After changing dependencies in pyproject.toml: re-resolve the lock files (needs pip-tools).
PIP_COMPILE = $(BIN)/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe \
	--no-emit-index-url --no-emit-find-links
lock: | $(VENV)/bin/python
	$(BIN)/pip install --quiet "pip-tools>=7.4"
	$(PIP_COMPILE) --extra otel -o requirements/runtime.txt pyproject.toml
	$(PIP_COMPILE) --extra otel --extra test -o requirements/test.txt pyproject.toml
	$(PIP_COMPILE) -o requirements/build.txt requirements/build.in

# GOV.UK Frontend assets, from the npm registry, unpacked under the gateway's static folder.
assets:
	@$(BIN)/python -m services.gateway.assets

lint:
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy

format:
	$(BIN)/ruff check --fix . && $(BIN)/ruff format .

bench: $(VENV)/.installed-test
	$(BIN)/python bench/search.py
	$(BIN)/python bench/budget.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
