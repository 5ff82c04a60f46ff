# The commands people type. Every target bootstraps .venv itself from uv.lock.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV_VERSION := 0.13.8
UV_HOME := $(CURDIR)/.cache/uv-bootstrap
UV := $(UV_HOME)/bin/uv
VENV := $(CURDIR)/.venv
PY := $(VENV)/bin/python

# Project-local Airflow: SQLite metadata, these DAGs and plugins, no examples.
export AIRFLOW_HOME ?= $(CURDIR)/airflow_home
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export AIRFLOW__CORE__PLUGINS_FOLDER := $(CURDIR)/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN ?= sqlite:///$(AIRFLOW_HOME)/airflow.db
export AIRFLOW__CORE__PARALLELISM ?= 4
export GX_ANALYTICS_ENABLED := false
export POLICY_NEWS_HOME := $(CURDIR)
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: help install demo test test-fast test-distributed run airflow eval bench lint docs clean

help:
	@echo "make demo     run the ingest DAG once through Airflow on the bundled sample site"
	@echo "make test     the whole test suite (what CI runs)"
	@echo "make test-distributed  Airflow + Celery, two workers sharing no disk (root, ~10 min)"
	@echo "make run      one run over the real feeds in include/feeds.yaml (CLI, no scheduler)"
	@echo "make airflow  Airflow standalone on http://localhost:8080 with these DAGs"
	@echo "make eval     tagger and near-duplicate precision/recall on the labelled sets"
	@echo "make bench    throughput, memory and query benchmarks"
	@echo "make lint     ruff and mypy"
	@echo "make docs     build and open the GX Data Docs"

$(UV):
	python3 -m venv $(UV_HOME)
	$(UV_HOME)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --compile-bytecode --quiet
	@touch $@

install: $(VENV)/.installed

demo: install
	$(PY) -m tools.demo

test: install
	$(PY) -m pytest

test-fast: install
	$(PY) -m pytest -m "not slow"

# Not part of `make test`: starts Postgres, Redis, an S3 endpoint, Airflow and two Celery
# workers in private mount namespaces (needs root). See docs/deployment.md.
test-distributed: install
	POLICY_NEWS_DISTRIBUTED=1 $(PY) -m pytest -p no:cacheprovider -s -q tests/distributed

run: install
	$(VENV)/bin/policy-news run

airflow: install
	@echo "Airflow standalone: http://localhost:8080 ; login printed below and stored in"
	@echo "  $(AIRFLOW_HOME)/simple_auth_manager_passwords.json.generated ; stop with Ctrl-C"
	PATH="$(VENV)/bin:$$PATH" airflow standalone

eval: install
	$(PY) -m policy_news.tagging.evaluate
	$(PY) -m policy_news.stories.evaluate

bench: install
	$(PY) -m tools.bench

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m mypy

docs: install
	$(VENV)/bin/policy-news docs --open

clean:
	rm -rf data airflow_home .pytest_cache .mypy_cache .ruff_cache
