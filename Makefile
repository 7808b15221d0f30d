# Two commands do all the set-up on a fresh machine (Python >= 3.11 needed):
#   make run    train InfoGAN on MNIST (ganzoo run recipes/infogan_dcgan.toml)
#   make test   run the test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.ganzoo-installed
RECIPE ?= recipes/infogan_dcgan.toml
PYTEST_ARGS ?=
# Real MNIST for the tests that need it: $GANZOO_DATA_ROOT, else the shared copy beside the
# checkout (../shared/data), as .ci/run does; without either those tests skip with a reason.
GANZOO_DATA_ROOT ?= $(if $(wildcard ../shared/data/MNIST),$(abspath ../shared/data),)
export GANZOO_DATA_ROOT

.PHONY: install run test test-all bench clean

$(STAMP): pyproject.toml tests/plugin_package/pyproject.toml tests/family_package/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e ".[test]"
	# the example third-party plugin, whose entry point the tests exercise
	$(BIN)/python -m pip install --quiet ./tests/plugin_package
	# the example third-party GAN family (a step and a term), trained from a recipe by name
	$(BIN)/python -m pip install --quiet ./tests/family_package
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/ganzoo run $(RECIPE)

test: $(STAMP)
	@test -n "$(GANZOO_DATA_ROOT)" || echo "note: no MNIST (set GANZOO_DATA_ROOT=/path/to/data, the folder holding MNIST/raw): the tests that need it will skip"
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Everything, including the slow multi-seed and long-run tests.
test-all: $(STAMP)
	$(BIN)/python -m pytest -m "slow or not slow" $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python benchmarks/throughput.py $(RECIPE)

clean:
	rm -rf $(VENV) .pytest_cache
