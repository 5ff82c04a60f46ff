"""Feed registry: a YAML file whose `feeds:` key lists `{name, url, enabled, ...}`.

Validated on load so a typo fails the run at once with the entry and field named,
instead of surfacing as a fetch error hours later.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from policy_news.yaml_files import read_yaml

if TYPE_CHECKING:
    from pathlib import Path


class FeedConfigError(ValueError):
    """The feed registry is unusable; the message names the entry and the field."""


class FeedConfig(BaseModel):
    """One registry entry. The pipeline reads `name`, `url` and `enabled`; `kind`,
    `language`, `verified` and `notes` describe the feed for people and are stored
    with it (the `feeds.config` column), so they are validated like the rest.
    Unknown keys are refused: a misspelt `enabeld: false` must not leave a feed on."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    url: str
    enabled: bool = True
    kind: Literal["government", "news"] = "news"
    language: str | None = None
    verified: bool = True
    notes: str | None = None

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip()
        if not value.lower().startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        if " " in value:
            raise ValueError("must not contain spaces")
        return value


def _describe(entry: object, index: int) -> str:
    if isinstance(entry, dict) and isinstance(entry.get("name"), str):
        return f"feed #{index + 1} ({entry['name']!r})"
    return f"feed #{index + 1}"


def parse_feeds(data: object, source: str = "<feeds>") -> list[FeedConfig]:
    """Validate the parsed YAML document; every problem is reported, not just the first."""
    if not isinstance(data, dict) or "feeds" not in data:
        raise FeedConfigError(f"{source}: expected a mapping with a 'feeds:' list")
    entries = data["feeds"]
    if not isinstance(entries, list):
        raise FeedConfigError(f"{source}: 'feeds' must be a list of entries")
    problems: list[str] = []
    feeds: list[FeedConfig] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        where = _describe(entry, index)
        if not isinstance(entry, dict):
            problems.append(f"{where}: must be a mapping with name and url")
            continue
        try:
            feed = FeedConfig.model_validate(entry)
        except ValidationError as exc:
            for err in exc.errors():
                field = ".".join(str(part) for part in err["loc"]) or "entry"
                problems.append(f"{where}, field '{field}': {err['msg']}")
            continue
        if feed.name in seen:
            problems.append(f"{where}, field 'name': duplicate of feed #{seen[feed.name] + 1}")
            continue
        seen[feed.name] = index
        feeds.append(feed)
    if problems:
        raise FeedConfigError(f"{source}: " + "; ".join(problems))
    return feeds


def load_feeds(path: Path, *, enabled_only: bool = True) -> list[FeedConfig]:
    """Load and validate a feed registry file."""
    feeds = parse_feeds(read_yaml(path, "feed registry", FeedConfigError), str(path))
    return [f for f in feeds if f.enabled] if enabled_only else feeds
