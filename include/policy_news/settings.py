"""One home for settings: every `POLICY_NEWS_*` variable, declared once with its type and default.

Read at call time (`get_settings()`), validated by pydantic-settings, so a bad value fails
with the variable's name. Nothing here touches the network or a database, so DAG files
may import it at parse time. An empty variable means the default (docker-compose passes
unset ones through as empty strings).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent
INCLUDE_DIR = PACKAGE_DIR.parent
ENV_PREFIX = "POLICY_NEWS_"


def project_home() -> Path:
    """The checkout this package lives in, else the working directory (`POLICY_NEWS_HOME` wins)."""
    checkout = INCLUDE_DIR.parent
    if (checkout / "pyproject.toml").is_file():
        return checkout
    return Path.cwd()


class Settings(BaseSettings):
    """Everything a run needs to know about its environment."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        # Aliases name the variables whose name differs from the field (POLICY_NEWS_DB).
        env_prefix_target="all",
        env_ignore_empty=True,
        validate_by_name=True,
        frozen=True,
        extra="ignore",
    )

    # Locations. `data_dir` only seeds the defaults of the paths under it.
    home: Path = Field(default_factory=project_home)
    data_dir: Path | None = None
    db_path: Path = Field(default=Path(), validation_alias="DB")
    # The local run folders' parent; `staging_url` (file://, s3://…) is where they live.
    staging_dir: Path = Path()
    staging_url: str = ""
    staging_conn_id: str = "policy_news_staging"
    docs_dir: Path = Path()
    feeds_path: Path = Field(default=INCLUDE_DIR / "feeds.yaml", validation_alias="FEEDS")
    taxonomy_path: Path = Field(
        default=INCLUDE_DIR / "taxonomy" / "immigration_enforcement.yaml",
        validation_alias="TAXONOMY",
    )
    checks_path: Path = Field(default=INCLUDE_DIR / "checks.yaml", validation_alias="CHECKS")

    # Orchestration.
    schedule: str = "*/30 * * * *"
    # Tasks that open DuckDB go to this Celery queue and pool (one slot: one writer);
    # an empty pool means none, so a default install needs no pool created.
    duckdb_queue: str = "duckdb"
    duckdb_pool: str = ""
    data_docs_url_prefix: str = "/data-docs"

    # HTTP: politeness, limits and the SSRF allow-list.
    user_agent: str = (
        "policy-news-monitor/0.1 (+https://github.com/policy-news/policy-news-monitor)"
    )
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 20.0
    request_deadline_s: float = 60.0
    max_body_bytes: int = 8 * 1024 * 1024
    max_redirects: int = 5
    global_concurrency: int = 32
    host_concurrency: int = 2
    host_delay_s: float = 2.0
    retry_after_cap_s: float = 30.0
    max_retries: int = 2
    allowed_private_nets: Annotated[tuple[str, ...], NoDecode] = ()
    respect_robots: bool = True

    # Fan-out and batching.
    feed_tasks: int = 2
    article_tasks: int = 4
    # A mapped task costs seconds of start-up; smaller runs use fewer, fuller groups.
    feed_task_min_feeds: int = 50
    article_task_min_items: int = 250
    article_batch_size: int = 100  # pages finished per chunk are held until the chunk ends
    max_article_attempts: int = 3
    # Articles stored without full body text (metadata-only, too short) are fetched
    # again, this many fetches in all, at least this many hours apart, in case the page
    # gains text (see docs/data_quality.md).
    metadata_refetch_attempts: int = Field(default=4, ge=1)
    metadata_refetch_gap_hours: float = Field(default=12.0, ge=0)

    # Bounded runs: at most this many new items per feed and run (newest first), a
    # host's remaining items deferred after this many consecutive failures or timeouts,
    # and the article stage stops taking work this many seconds after the run started.
    # What they leave waits in `pending_items` for the next runs.
    max_items_per_feed: int = Field(default=200, ge=1)
    host_breaker_failures: int = Field(default=5, ge=1)
    article_budget_s: float = Field(default=600.0, gt=0)
    extract_workers: int = Field(default_factory=lambda: os.cpu_count() or 1)
    # `policy-news run` validates in a child process, as the Airflow task does: GX's
    # import (~180 MB) and its frames then never sit under the load's peak.
    isolate_validation: bool = True

    # Storage: how long a load waits for the write lock; how often feeds are polled
    # (about twice per gap between new items, within these bounds).
    lock_timeout_s: float = 120.0
    min_poll_minutes: int = 15
    max_poll_minutes: int = 360

    # Operator alerts (see docs/operations-alerts.md): recipients, and the Airflow
    # Connection of the mail server (AIRFLOW_CONN_POLICY_NEWS_SMTP). No recipients: no mail.
    alert_emails: Annotated[tuple[str, ...], NoDecode] = ()
    alert_smtp_conn_id: str = "policy_news_smtp"
    alert_from_email: str | None = None
    spike_k: float = 3.0
    spike_min_count: int = 5

    # Housekeeping (pipeline/housekeeping.py). A successful run's staged files go once
    # it is loaded; a failed or blocked run's stay this many days for a look.
    staging_retention_days: float = Field(default=7.0, ge=0)
    # Raw-HTML archive files (one per loaded run) older than this are deleted, text and
    # tags stay; 0 keeps the archive for ever.
    raw_html_retention_days: float = Field(default=180.0, ge=0)

    # Near-duplicates and stories (docs/stories.md). Story ids stay stable only while
    # these stay put: after changing them, rebuild with `policy-news retag`.
    near_duplicate_window_days: int = 14
    near_duplicate_threshold: float = 0.5  # estimated Jaccard of word 5-shingles
    near_duplicate_containment: float = 0.8  # share of a trimmed copy's shingles
    story_window_days: int = 3
    story_threshold: float = 0.3

    @field_validator("allowed_private_nets", "alert_emails", mode="before")
    @classmethod
    def _split_commas(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("home")
    @classmethod
    def _absolute_home(cls, value: Path) -> Path:
        return value.resolve()

    @model_validator(mode="before")
    @classmethod
    def _paths_under_data_dir(cls, data: Any) -> Any:
        """Default the data paths under `data_dir` (itself `home/data`) unless set."""
        if not isinstance(data, dict):
            return data
        home = Path(data.get("home") or project_home()).resolve()
        data_dir = Path(data.get("data_dir") or home / "data")
        defaults = {
            "db_path": data_dir / "policy_news.duckdb",
            "staging_dir": data_dir / "staging",
            "docs_dir": data_dir / "data_docs",
        }
        filled = dict(data)
        for name, value in defaults.items():
            alias = cls.model_fields[name].validation_alias
            if filled.get(name) is None and (alias is None or filled.get(alias) is None):
                filled[name] = value
        if not filled.get("staging_url"):
            filled["staging_url"] = Path(filled["staging_dir"]).resolve().as_uri()
        return filled

    @property
    def snapshot_path(self) -> Path:
        """The analysts' read-only copy of the database."""
        from policy_news.store.snapshot import snapshot_path_for

        return snapshot_path_for(self.db_path)

    @property
    def reports_dir(self) -> Path:
        """Where the digest and the weekly HTML report are written."""
        return self.db_path.parent / "reports"

    @property
    def exports_dir(self) -> Path:
        """Default folder of `policy-news export`."""
        return self.db_path.parent / "exports"


class SettingsError(ValueError):
    """A setting has a value of the wrong type; the message names the variable."""


def env_name(field_name: str) -> str:
    """The environment variable that sets `field_name` (POLICY_NEWS_DB for db_path)."""
    field = Settings.model_fields.get(field_name)
    alias = field.validation_alias if field is not None else None
    return ENV_PREFIX + (alias if isinstance(alias, str) else field_name).upper()


def get_settings(**overrides: Any) -> Settings:
    """Build settings from the environment; keyword overrides win (CLI flags, tests)."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        by_alias = {
            f.validation_alias: name
            for name, f in Settings.model_fields.items()
            if isinstance(f.validation_alias, str)
        }
        problems = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "?"
            name = env_name(by_alias.get(field, field))
            problems.append(f"{name}={error.get('input')!r}: {error['msg']}")
        raise SettingsError("bad setting: " + "; ".join(problems)) from None
