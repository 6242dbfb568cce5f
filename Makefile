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

.PHONY: pipeline test install services server server-stop check-gpu-extra lock clean-venv

pipeline: $(STAMP)  ## run the whole pipeline (download/prepare, train, evaluate, register)
	dvc repro

test: $(STAMP) services  ## run the test suite (unit tests + a tiny end-to-end pipeline and served model)
	ruff check src tests benchmarks docs
	ruff format --check src tests benchmarks docs
	pytest

install: $(STAMP)  ## only create the virtual environment (both targets above do it first)

$(STAMP): pyproject.toml requirements.lock plots/package.json plots/package-lock.json
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -c requirements.lock -e ".[$(EXTRAS)]"
	# Vega for `dvc plots show` without a network (the page DVC writes loads it from a CDN)
	npm ci --prefix plots --no-audit --no-fund --loglevel=error
	$(VENV)/bin/python -m condgen.plots_page plots/node_modules plots/template.html
	touch $(STAMP)

# What the tests talk to (Chromium, PostgreSQL), from Debian's packages, installed once.
services:  ## install the test services if missing (needs root or sudo)
	scripts/services.sh

# A shared MLflow tracking server (PostgreSQL + proxied artifacts) under SERVER_DIR.
SERVER_DIR ?= $(CURDIR)/.server
SERVER_PORT ?= 5001
server: $(STAMP)  ## start the tracking server; then export the MLFLOW_TRACKING_URI it prints
	scripts/server.sh start $(SERVER_DIR) $(SERVER_PORT)

server-stop:  ## stop the tracking server (its data stays in SERVER_DIR)
	scripts/server.sh stop $(SERVER_DIR)

check-gpu-extra: $(STAMP)  ## resolve the gpu extra against the lock without installing it (no GPU needed)
	$(VENV)/bin/python -m pip install --dry-run --ignore-installed --quiet \
	  --report $(VENV)/gpu-extra.json -c requirements.lock ".[gpu]"
	@$(VENV)/bin/python -c 'import json; r = json.load(open("$(VENV)/gpu-extra.json")); n = sorted(i["metadata"]["name"] + "==" + i["metadata"]["version"] for i in r["install"] if i["metadata"]["name"].startswith("nvidia") or i["metadata"]["name"] == "tensorflow"); print("the gpu extra resolves:", *n, sep="\n  ")'

lock: $(STAMP)  ## re-pin every installed package after changing dependencies
	$(VENV)/bin/python -m pip freeze --exclude-editable | grep -v '^condgen' > requirements.lock

clean-venv:
	rm -rf $(VENV)
