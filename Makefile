# The two commands a newcomer needs: `make build` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: build test test-fast lint bench clean release

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

build: $(STAMP)
	$(BIN)/ice287g build

# The ice287g-data wheel (pandas only) of the committed release, into dist/wheels/: no build needed.
.PHONY: wheel
wheel: $(STAMP)
	$(BIN)/python -m ice287g.publish.wheel

# Everything, the real archive in ../shared included (what CI runs), with the slowest tests listed;
# in one worker process per core (WORKERS=1 for one process), each test module in one worker
# (the scheduler is in tests/conftest.py).
WORKERS ?= auto
PYTEST := $(BIN)/python -m pytest -n $(WORKERS)
test: $(STAMP)
	$(PYTEST) --durations=25

# The inner loop: everything but the tests marked integration (the real archive's builds).
test-fast: $(STAMP)
	$(PYTEST) -m "not integration" --durations=10

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(BIN)/check-jsonschema --builtin-schema vendor.citation-file-format CITATION.cff
	$(BIN)/zizmor --offline .github/workflows
	$(BIN)/lint-imports --no-cache
	$(MAKE) --no-print-directory lint-sql BIN=$(BIN) STAMP=
	$(BIN)/dbt parse --quiet --project-dir . --profiles-dir . --target-path build/lint-target --log-path build/lint-target/logs && $(BIN)/dbt-score lint --manifest build/lint-target/manifest.json

# The dbt SQL (or the folders in SQL=...), with a guard: sqlfluff exits 0 when it cannot parse a file.
SQL ?= models macros tests/dbt
SQLFLUFF_LOG ?= build/sqlfluff.log
.PHONY: lint-sql
lint-sql: $(STAMP)
	@mkdir -p $(dir $(SQLFLUFF_LOG))
	$(BIN)/sqlfluff lint --processes 0 $(SQL) > $(SQLFLUFF_LOG) 2>&1; status=$$?; cat $(SQLFLUFF_LOG); \
		test $$status -eq 0 && ! grep -q "Unable to lint" $(SQLFLUFF_LOG)

# Acquire new lists, build, and commit and tag a release when the data changed (never pushes).
release: $(STAMP)
	$(BIN)/ice287g release

# Timings and peak memory of a cold build, a no-op and a one-list update, beside three ways of
# reading the archive, into build/bench.json; SCALE=10 also builds the archive replicated 10 times.
SCALE ?= 1
bench: $(STAMP)
	$(BIN)/python -m ice287g.pipeline.bench --scale $(SCALE)

clean:
	rm -rf build
