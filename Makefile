# The two entry points of the README. Both create the virtual environment on first use
# (Python 3.11, exact versions from requirements.lock) and reuse it afterwards.
PYTHON ?= python3.11
# GPU=1: also install TensorFlow's CUDA libraries (the gpu extra), for NVIDIA GPUs.
GPU ?=
comma := ,
EXTRAS := dev$(if $(GPU),$(comma)gpu)
VENV := .venv
STAMP := $(VENV)/.installed$(if $(GPU),-gpu)
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export MLFLOW_DISABLE_TELEMETRY := true
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: pipeline test install browser lock clean-venv

pipeline: $(STAMP)  ## run the whole pipeline (download/prepare, train, evaluate, register)
	dvc repro

test: $(STAMP) browser  ## run the test suite (unit tests + a tiny end-to-end pipeline and served model)
	ruff check src tests benchmarks docs
	ruff format --check src tests benchmarks docs
	pytest

install: $(STAMP)  ## only create the virtual environment (both targets above do it first)

# The demo page's browser test drives Debian's Chromium (no browser download); installed once.
browser:  ## install Debian's chromium and chromium-driver if missing (needs root or sudo)
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q chromium chromium-driver; \
	fi

$(STAMP): pyproject.toml requirements.lock plots/package.json plots/package-lock.json
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -c requirements.lock -e ".[$(EXTRAS)]"
	# Vega for `dvc plots show` without a network (the page DVC writes loads it from a CDN)
	npm ci --prefix plots --no-audit --no-fund --loglevel=error
	$(VENV)/bin/python -m condgen.plots_page plots/node_modules plots/template.html
	touch $(STAMP)

lock: $(STAMP)  ## re-pin every installed package after changing dependencies
	$(VENV)/bin/python -m pip freeze --exclude-editable | grep -v '^condgen' > requirements.lock

clean-venv:
	rm -rf $(VENV)
