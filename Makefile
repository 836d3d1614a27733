# `make run` and `make test` work on a fresh machine: each creates the virtualenv and installs
# what it needs from setup.cfg before doing anything else. Running needs the package and its
# embedded Postgres and Redis only (`.[embedded]`); testing, linting, benchmarks and training
# add the dev extras. pip prints a line per package as it goes.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
RUN_STAMP := $(VENV)/.run-stamp
DEV_STAMP := $(VENV)/.install-stamp

.PHONY: run test lint bench eval train install clean constraints browser

$(BIN)/python:
	@echo "==> creating the virtualenv $(VENV)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# The sentence encoder's ONNX graph is built here, once (workers/extraction/encoder.py), so no
# worker pays for the build: the int8 one the service runs with.
$(RUN_STAMP): setup.cfg pyproject.toml | $(BIN)/python
	@echo "==> installing the service and what running it needs (.[embedded])"
	$(BIN)/pip install --disable-pip-version-check -e '.[embedded]'
	@echo "==> building the sentence encoder's int8 graph (once; cached)"
	$(BIN)/python -m workers.extraction.encoder build --precision int8
	touch $@

# The tests compare both precisions, so both graphs are built for them.
$(DEV_STAMP): $(RUN_STAMP)
	@echo "==> adding the test, lint and training tools (.[dev])"
	$(BIN)/pip install --disable-pip-version-check -e '.[embedded,dev]'
	@echo "==> building the sentence encoder's fp32 graph too (the tests compare them)"
	$(BIN)/python -m workers.extraction.encoder build --precision all
	@$(MAKE) --no-print-directory browser
	touch $@

# The desk's browser tests drive Debian's Chromium (tests/desk): installed here when missing,
# where this runs as root with apt-get; elsewhere the tests skip with one line saying why.
browser:
	@if [ -n "$$FACTCHECK_CHROMIUM" ] || command -v chromium >/dev/null 2>&1; then \
	  echo "==> Chromium for the browser tests: $${FACTCHECK_CHROMIUM:-$$(command -v chromium)}"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "==> installing Debian's Chromium for the desk's browser tests"; \
	  apt-get install -y --no-install-recommends chromium \
	    || { apt-get update && apt-get install -y --no-install-recommends chromium; } \
	    || echo "==> Chromium could not be installed: the browser tests will skip"; \
	else \
	  echo "==> no Chromium (as root: apt-get install chromium): the browser tests will skip"; \
	fi

install: $(DEV_STAMP)

run: $(RUN_STAMP)
	$(BIN)/factcheck up --demo --port $(PORT)

# Two pytest-xdist workers, each with a database and a Redis database of its own: much of the
# suite waits on worker processes and brokers, and two at once halve its time on two cores.
# TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= 2
test: $(DEV_STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy service workers schemas

bench: $(DEV_STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m bench.ingest
	$(BIN)/python -m bench.extract

# The last step matches through PostgreSQL as the service does, beside the offline matcher
# (bench/matching_quality.py, some 9 minutes here): in a scratch database on the server of
# TEST_DATABASE_URL or DATABASE_URL, else in embedded Postgres; one line says when it is skipped.
eval: $(DEV_STAMP)
	$(BIN)/python -m workers.extraction.evaluate
	$(BIN)/python -m workers.matching.evaluate
	$(BIN)/python -m bench.matching_quality

train: $(DEV_STAMP)
	$(BIN)/python -m workers.extraction.train

# The image's dependency pins: what `pip install .` resolves to now, in an empty virtualenv of
# the image's Python (3.11). Run it to move to newer versions, then run the tests.
CONSTRAINTS_PYTHON ?= python3.11
constraints:
	@set -e; venv=$$(mktemp -d); trap 'rm -rf "$$venv"' EXIT; \
	$(CONSTRAINTS_PYTHON) -m venv "$$venv"; \
	"$$venv/bin/pip" install --quiet --disable-pip-version-check .; \
	{ echo "# The image's dependencies, pinned: made by \`make constraints\` (pip freeze of"; \
	  echo "# \`pip install .\` in an empty Python 3.11 virtualenv); the Dockerfile installs these."; \
	  "$$venv/bin/pip" freeze --exclude factcheck; } > constraints.txt
	@echo "wrote constraints.txt"

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache *.egg-info
