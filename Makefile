# nli-check: set up, run the demo, run the tests. Needs only Python 3.11 and pip.
#   make demo    create .venv (torch's CPU wheel first), install nli-check, check the demo documents
#   make test    create .venv with the test tools, run the test suite offline
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# torch goes in first, pinned, so nothing pulls a multi-GB CUDA build. Where the CPU wheel is not
# on a local index, add: TORCH_ARGS="--index-url https://download.pytorch.org/whl/cpu"
TORCH ?= torch==2.13.0
TORCH_ARGS ?=
PYTEST_ARGS ?=
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: setup setup-dev demo test test-fast lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.torch: | $(BIN)/python
	$(BIN)/python -m pip install --quiet $(TORCH_ARGS) "$(TORCH)"
	touch $@

$(VENV)/.installed: pyproject.toml $(VENV)/.torch
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.torch
	$(BIN)/python -m pip install --quiet -e ".[dev,ray]"
	touch $@ $(VENV)/.installed

setup: $(VENV)/.installed

setup-dev: $(VENV)/.installed-dev

demo: setup
	$(BIN)/nli-check check seeds/draft.txt --evidence seeds/sources --show all

test: setup-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The fast part, on both cores: no shipped model, whole pipelines, Ray, browser or GPU.
test-fast: setup-dev
	$(BIN)/python -m pytest -m "not slow and not ray and not browser and not gpu" -n 2 $(PYTEST_ARGS)

lint: setup-dev
	$(BIN)/ruff check nli_check tests scripts

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
