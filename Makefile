# The two commands of the README. Both create the virtual environment on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DATA   ?= data/sample
OUT    ?= report

.PHONY: report test setup clean

$(BIN)/backpain: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

setup: $(BIN)/backpain

## report: set up, then run the main job on $(DATA) and write it to $(OUT)/ (replacing an earlier one)
report: setup
	$(BIN)/backpain validate $(DATA)
	$(BIN)/backpain report $(DATA) --out $(OUT) --force

## test: set up, then run the whole test suite on 2 cores
test: setup
	$(BIN)/python -m pytest -n 2 -q

clean:
	rm -rf $(VENV) $(OUT) build *.egg-info
