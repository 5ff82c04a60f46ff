"""One home for settings: environment variables with defaults, read at call time.

Nothing here touches the network or a database, so DAG files may import it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
INCLUDE_DIR = PACKAGE_DIR.parent


def project_home() -> Path:
    """The project root: `POLICY_NEWS_HOME`, else the checkout this package lives in, else cwd."""
    if env := os.environ.get("POLICY_NEWS_HOME"):
        return Path(env).resolve()
    checkout = INCLUDE_DIR.parent
    if (checkout / "pyproject.toml").is_file():
        return checkout
    return Path.cwd()


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"{name}={raw!r} is not a number") from exc


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name}={raw!r} is not a whole number") from exc


def _env_list(name: str) -> tuple[str, ...]:
    raw = os.environ.get(name, "")
    return tuple(part.strip() for part in raw.split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    """Everything a run needs to know about its environment."""

    home: Path
    db_path: Path
    staging_dir: Path
    feeds_path: Path
    taxonomy_path: Path
    checks_path: Path
    docs_dir: Path
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
    allowed_private_nets: tuple[str, ...] = field(default_factory=tuple)
    respect_robots: bool = True
    feed_tasks: int = 2
    article_tasks: int = 4
    # A mapped task costs seconds of start-up; smaller runs use fewer, fuller groups.
    feed_task_min_feeds: int = 50
    article_task_min_items: int = 250
    article_batch_size: int = 100  # pages finished per chunk are held until the chunk ends
    max_article_attempts: int = 3
    extract_workers: int = 2
    # `policy-news run` validates in a child process, as the Airflow task does: GX's
    # import (~180 MB) and its frames then never sit under the load's peak.
    isolate_validation: bool = True


def get_settings(**overrides: object) -> Settings:
    """Build settings from the environment; keyword overrides win (CLI flags, tests)."""
    home = project_home()
    data_dir = Path(os.environ.get("POLICY_NEWS_DATA_DIR", home / "data"))
    values: dict[str, object] = {
        "home": home,
        "db_path": Path(os.environ.get("POLICY_NEWS_DB", data_dir / "policy_news.duckdb")),
        "staging_dir": Path(os.environ.get("POLICY_NEWS_STAGING_DIR", data_dir / "staging")),
        "feeds_path": Path(os.environ.get("POLICY_NEWS_FEEDS", INCLUDE_DIR / "feeds.yaml")),
        "taxonomy_path": Path(
            os.environ.get(
                "POLICY_NEWS_TAXONOMY", INCLUDE_DIR / "taxonomy" / "immigration_enforcement.yaml"
            )
        ),
        "checks_path": Path(os.environ.get("POLICY_NEWS_CHECKS", INCLUDE_DIR / "checks.yaml")),
        "docs_dir": Path(os.environ.get("POLICY_NEWS_DOCS_DIR", data_dir / "data_docs")),
        "connect_timeout_s": _env_float("POLICY_NEWS_CONNECT_TIMEOUT_S", 10.0),
        "read_timeout_s": _env_float("POLICY_NEWS_READ_TIMEOUT_S", 20.0),
        "request_deadline_s": _env_float("POLICY_NEWS_REQUEST_DEADLINE_S", 60.0),
        "max_body_bytes": _env_int("POLICY_NEWS_MAX_BODY_BYTES", 8 * 1024 * 1024),
        "global_concurrency": _env_int("POLICY_NEWS_GLOBAL_CONCURRENCY", 32),
        "host_concurrency": _env_int("POLICY_NEWS_HOST_CONCURRENCY", 2),
        "host_delay_s": _env_float("POLICY_NEWS_HOST_DELAY_S", 2.0),
        "allowed_private_nets": _env_list("POLICY_NEWS_ALLOWED_PRIVATE_NETS"),
        "respect_robots": os.environ.get("POLICY_NEWS_RESPECT_ROBOTS", "1") != "0",
        "feed_tasks": _env_int("POLICY_NEWS_FEED_TASKS", 2),
        "article_tasks": _env_int("POLICY_NEWS_ARTICLE_TASKS", 4),
        "feed_task_min_feeds": _env_int("POLICY_NEWS_FEED_TASK_MIN_FEEDS", 50),
        "article_task_min_items": _env_int("POLICY_NEWS_ARTICLE_TASK_MIN_ITEMS", 250),
        "article_batch_size": _env_int("POLICY_NEWS_ARTICLE_BATCH_SIZE", 100),
        "extract_workers": _env_int("POLICY_NEWS_EXTRACT_WORKERS", os.cpu_count() or 1),
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]
