"""Settings: one declaration per setting, read from POLICY_NEWS_* variables, overrides win."""

from __future__ import annotations

from pathlib import Path

import pytest

from policy_news.settings import SettingsError, get_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("POLICY_NEWS_") and name != "POLICY_NEWS_HOME":
            monkeypatch.delenv(name)


def test_defaults_without_environment() -> None:
    settings = get_settings()
    assert settings.host_concurrency == 2
    assert settings.schedule == "*/30 * * * *"
    assert settings.lock_timeout_s == 120.0
    assert settings.allowed_private_nets == ()
    assert settings.db_path == settings.home / "data" / "policy_news.duckdb"


def test_environment_values_are_parsed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("POLICY_NEWS_HOST_DELAY_S", "0.5")
    monkeypatch.setenv("POLICY_NEWS_ARTICLE_TASKS", "7")
    monkeypatch.setenv("POLICY_NEWS_ALLOWED_PRIVATE_NETS", "127.0.0.1/32, 10.0.0.0/8")
    monkeypatch.setenv("POLICY_NEWS_RESPECT_ROBOTS", "0")
    monkeypatch.setenv("POLICY_NEWS_DB", str(tmp_path / "x.duckdb"))
    monkeypatch.setenv("POLICY_NEWS_MIN_POLL_MINUTES", "3")
    settings = get_settings()
    assert settings.host_delay_s == 0.5
    assert settings.article_tasks == 7
    assert settings.allowed_private_nets == ("127.0.0.1/32", "10.0.0.0/8")
    assert settings.respect_robots is False
    assert settings.db_path == tmp_path / "x.duckdb"
    assert settings.min_poll_minutes == 3


def test_empty_variable_means_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLICY_NEWS_FEED_TASKS", "")
    assert get_settings().feed_tasks == 2


def test_data_dir_places_the_files_under_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("POLICY_NEWS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("POLICY_NEWS_STAGING_DIR", str(tmp_path / "elsewhere"))
    settings = get_settings()
    assert settings.db_path == tmp_path / "policy_news.duckdb"
    assert settings.docs_dir == tmp_path / "data_docs"
    assert settings.staging_dir == tmp_path / "elsewhere"
    assert settings.snapshot_path == tmp_path / "policy_news.snapshot.duckdb"


def test_staging_url_defaults_to_the_local_staging_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("POLICY_NEWS_DATA_DIR", str(tmp_path))
    assert get_settings().staging_url == (tmp_path / "staging").as_uri()
    monkeypatch.setenv("POLICY_NEWS_STAGING_URL", "s3://bucket/runs")
    monkeypatch.setenv("POLICY_NEWS_DUCKDB_POOL", "duckdb")
    settings = get_settings()
    assert settings.staging_url == "s3://bucket/runs"
    assert (settings.staging_conn_id, settings.duckdb_queue) == ("policy_news_staging", "duckdb")
    assert settings.duckdb_pool == "duckdb"


def test_bad_value_error_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLICY_NEWS_HOST_CONCURRENCY", "two")
    with pytest.raises(SettingsError, match=r"POLICY_NEWS_HOST_CONCURRENCY='two'"):
        get_settings()


def test_bad_value_of_a_renamed_setting_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLICY_NEWS_LOCK_TIMEOUT_S", "soon")
    with pytest.raises(SettingsError, match=r"POLICY_NEWS_LOCK_TIMEOUT_S"):
        get_settings()


def test_overrides_win_over_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("POLICY_NEWS_HOST_DELAY_S", "9")
    monkeypatch.setenv("POLICY_NEWS_DB", "/nowhere/db.duckdb")
    settings = get_settings(host_delay_s=0.0, db_path=tmp_path / "db.duckdb")
    assert settings.host_delay_s == 0.0
    assert settings.db_path == tmp_path / "db.duckdb"


def test_settings_are_frozen() -> None:
    with pytest.raises(ValueError):
        get_settings().host_delay_s = 1.0  # type: ignore[misc]
