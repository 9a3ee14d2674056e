# The README's two commands are `make run` and `make test`; both set up .venv first if needed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# CPU torch pinned for this project's machines; GPU users: `make ... TORCH_CONSTRAINT=` after
# installing their own torch into $(VENV).
TORCH_CONSTRAINT ?= -c constraints.txt
PYTEST_ARGS ?=

.PHONY: setup run test lint device-wheels
setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH_CONSTRAINT) -e ".[dev]"
	touch $@

PROFILE ?= full
PROTOCOL ?= rigorous
WORKERS ?= 2
# Finished units shipped with the repository (README): imported first, each answering only under
# its own key (same weights, dtype, device, versions, config); `make run BUNDLE=` computes all.
BUNDLE ?= reports/bundles/cpu-float32.tar.gz
run: setup
	$(BIN)/icl-claims models fetch
	$(if $(BUNDLE),$(BIN)/icl-claims store import $(BUNDLE))
	$(BIN)/icl-claims run --profile $(PROFILE) --protocol $(PROTOCOL) --workers $(WORKERS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

# The wheels of the pure-Python dependencies a lent device machine lacks, at this venv's versions,
# for `scripts/device_check.sh` there (carry .device-wheels with the working tree).
DEVICE_WHEELS := gguf platformdirs syrupy
device-wheels: setup
	rm -rf .device-wheels
	$(BIN)/python -m pip download --quiet --no-deps --only-binary :all: --dest .device-wheels \
		$$($(BIN)/python -m pip freeze | grep -iE '^($(subst $(eval) ,|,$(DEVICE_WHEELS)))==')
	test "$$(ls .device-wheels/*.whl | wc -l)" -eq $(words $(DEVICE_WHEELS)) || \
		{ echo "not every one of $(DEVICE_WHEELS) is in $(VENV)"; exit 1; }
