"""Shared fixtures: isolated settings, the sample site on 127.0.0.1, a fresh DuckDB."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from policy_news.settings import Settings, get_settings
from tools.sample_site import DEMO_PORT, SAMPLE_SITE_DIR, serve

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = REPO_ROOT.parent / "shared"
CORPUS_DIR = SHARED_DIR / "corpus"


def isolated_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings writing under `data_dir`, fast politeness, loopback allowed."""
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "db_path": data_dir / "policy_news.duckdb",
        "staging_dir": data_dir / "staging",
        "docs_dir": data_dir / "data_docs",
        "allowed_private_nets": ("127.0.0.1/32",),
        "host_delay_s": 0.0,
        "connect_timeout_s": 2.0,
        "read_timeout_s": 3.0,
        "request_deadline_s": 10.0,
        "max_retries": 1,
        "extract_workers": 1,
        "isolate_validation": False,  # in-process: GX is imported once per test session
    }
    return get_settings(**{**values, **overrides})


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings under tmp_path/data; keyword overrides win."""
    return lambda **overrides: isolated_settings(tmp_path / "data", **overrides)


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture(scope="session")
def tagger() -> Any:
    """The bundled taxonomy's tagger, compiled once per session."""
    from policy_news.tagging.tagger import get_tagger

    return get_tagger()


@pytest.fixture
def migrated_db(tmp_path: Path) -> Path:
    """A DuckDB file with every migration applied by the real migration code."""
    from policy_news.store import connection

    path = tmp_path / "migrated.duckdb"
    with connection.open_db(path):
        pass
    return path


@pytest.fixture(scope="session")
def sample_site() -> Iterator[str]:
    """The bundled sample site on an ephemeral loopback port; stops with the session."""
    with serve(SAMPLE_SITE_DIR, 0, lifetime_s=1800) as base_url:
        yield base_url


def write_sample_feeds(base_url: str, folder: Path) -> Path:
    """The demo feed registry, rewritten to point at `base_url`, saved in `folder`."""
    text = (SAMPLE_SITE_DIR / "feeds.yaml").read_text()
    path = folder / "feeds.yaml"
    path.write_text(text.replace(f"http://127.0.0.1:{DEMO_PORT}", base_url))
    return path


@pytest.fixture
def sample_feeds(sample_site: str, tmp_path: Path) -> Path:
    """The demo feed registry rewritten to point at this session's sample site."""
    return write_sample_feeds(sample_site, tmp_path)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[Any]:
    """moto's S3 server on loopback, one per session (Airflow caches a connection's filesystem)."""
    from tests.support.s3 import moto_s3

    with moto_s3() as endpoint:
        yield endpoint


@pytest.fixture
def s3_staging_url(s3_endpoint: Any, monkeypatch: pytest.MonkeyPatch, request: Any) -> str:
    """A fresh prefix in the moto bucket, reached through the staging Airflow Connection."""
    from tests.support.s3 import CONN_ENV

    monkeypatch.setenv(CONN_ENV, s3_endpoint.connection)
    prefix = "".join(c if c.isalnum() else "-" for c in request.node.name)
    return f"s3://{s3_endpoint.bucket}/{prefix}"


@pytest.fixture(autouse=True)
def _fresh_http_state() -> Iterator[None]:
    """The HTTP client keeps per-host pacing and robots.txt for the process; tests start clean."""
    from policy_news.http import reset_state

    reset_state()
    yield
