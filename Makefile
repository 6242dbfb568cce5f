# The two entry points of the README. Both create the virtual environment on first use
# (Python 3.11, exact versions from requirements.lock) and reuse it afterwards.
PYTHON ?= python3.11
VENV := .venv
STAMP := $(VENV)/.installed
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export MLFLOW_DISABLE_TELEMETRY := true
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: pipeline test install lock clean-venv

pipeline: $(STAMP)  ## run the whole pipeline (download/prepare, train, evaluate, register)
	dvc repro

test: $(STAMP)  ## run the test suite (unit tests + a tiny end-to-end pipeline and served model)
	ruff check src tests benchmarks
	ruff format --check src tests benchmarks
	pytest

install: $(STAMP)  ## only create the virtual environment (both targets above do it first)

$(STAMP): pyproject.toml requirements.lock
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -c requirements.lock -e ".[dev]"
	touch $(STAMP)

lock: $(STAMP)  ## re-pin every installed package after changing dependencies
	$(VENV)/bin/python -m pip freeze --exclude-editable | grep -v '^condgen' > requirements.lock

clean-venv:
	rm -rf $(VENV)
