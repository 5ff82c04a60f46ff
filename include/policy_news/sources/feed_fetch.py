"""Fetch feeds and parse them into items.

feedparser only ever sees bytes we fetched ourselves (never a URL), so every
request goes through the guarded HTTP client. A body hash backs up conditional
GET because many servers ignore ETag/If-Modified-Since and resend the same bytes.
"""

from __future__ import annotations

import calendar
import hashlib
import html
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from policy_news.http.client import FetchRequest, FetchResult, fetch_all
from policy_news.models import FeedFetch, FeedItem, FeedState
from policy_news.sources.urls import article_id_for, normalise_url

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from policy_news.settings import Settings
    from policy_news.sources.registry import FeedConfig

_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


@dataclass
class ParsedFeed:
    items: list[FeedItem] = field(default_factory=list)
    error_kind: str | None = None
    error: str | None = None


def _plain(text: str | None, limit: int = 2000) -> str:
    if not text:
        return ""
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", text))).strip()[:limit]


def _entry_date(entry: Mapping[str, object]) -> datetime | None:
    """The entry's own date as given; implausible ones (2099, 1970) are left for the
    data-quality checks to quarantine with a reason rather than silently dropped here."""
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)  # type: ignore[arg-type]
            except (TypeError, ValueError, OverflowError):
                continue
    return None


def parse_feed(
    body: bytes, headers: Mapping[str, str], feed_name: str, base_url: str, now: datetime
) -> ParsedFeed:
    """Parse feed bytes; a malformed feed still yields what could be read, plus the reason."""
    import feedparser  # here: a poll answered 304 Not Modified parses nothing

    try:
        parsed = feedparser.parse(
            body,
            response_headers={k.lower(): v for k, v in headers.items()},
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    except Exception as exc:  # feedparser should not raise, but one bad feed must not stop a run
        return ParsedFeed(error_kind="parse", error=f"feedparser crashed: {exc!r}"[:500])
    items: list[FeedItem] = []
    for entry in parsed.entries:
        link = entry.get("link") or ""
        if not link:
            guid = entry.get("id") or ""
            link = guid if guid.startswith(("http://", "https://")) else ""
        if not link:
            continue
        if not link.startswith(("http://", "https://")):
            link = urljoin(base_url, link)
            if not link.startswith(("http://", "https://")):
                continue  # tag: URIs and the like identify an entry but cannot be fetched
        url = normalise_url(link)
        # Duplicates within a feed are kept: the checks quarantine them with a reason.
        article_id = article_id_for(url)
        items.append(
            FeedItem(
                article_id=article_id,
                url=url,
                original_url=link,
                feed_name=feed_name,
                title=_plain(entry.get("title"), 1000),
                summary=_plain(entry.get("summary") or entry.get("description")),
                published_at=_entry_date(entry),
                guid=entry.get("id"),
            )
        )
    result = ParsedFeed(items=items)
    if parsed.get("bozo") and not items:
        problem = parsed.get("bozo_exception")
        result.error_kind = "parse"
        result.error = f"not a readable feed: {type(problem).__name__}: {problem}"[:500]
    elif not parsed.entries and not parsed.get("version"):
        result.error_kind = "parse"
        result.error = "not a feed: no entries and no RSS/Atom root element"
    return result


def _outcome(
    run_id: str, feed: FeedConfig, result: FetchResult, state: FeedState, now: datetime
) -> tuple[FeedFetch, list[FeedItem]]:
    fetch = FeedFetch(
        run_id=run_id,
        feed_name=feed.name,
        feed_url=feed.url,
        fetched_at=now,
        outcome="error",
        http_status=result.status,
        duration_ms=int(result.elapsed_s * 1000),
        etag=state.etag,
        last_modified=state.last_modified,
        body_hash=state.body_hash,
    )
    if result.not_modified:
        fetch.outcome = "not_modified"
        return fetch, []
    if not result.ok or result.body is None:
        fetch.error_kind = result.error_kind or "other"
        fetch.error = result.error or "no body"
        return fetch, []
    body = result.body
    fetch.bytes = len(body)
    fetch.etag = result.headers.get("etag") or None
    fetch.last_modified = result.headers.get("last-modified") or None
    fetch.body_hash = hashlib.sha256(body).hexdigest()
    if fetch.body_hash == state.body_hash:
        fetch.outcome = "unchanged"
        return fetch, []
    parsed = parse_feed(body, result.headers, feed.name, result.final_url, now)
    fetch.items_seen = len(parsed.items)
    if parsed.error_kind:
        fetch.error_kind = parsed.error_kind
        fetch.error = parsed.error
        return fetch, parsed.items
    fetch.outcome = "ok"
    return fetch, parsed.items


def fetch_feeds(
    run_id: str,
    feeds: Sequence[FeedConfig],
    states: Mapping[str, FeedState],
    settings: Settings,
) -> tuple[list[FeedFetch], list[FeedItem]]:
    """Fetch every feed concurrently; each ends as one `FeedFetch` row, never an exception."""
    requests = [
        FetchRequest(
            url=f.url,
            kind="feed",
            etag=states.get(f.name, FeedState()).etag,
            last_modified=states.get(f.name, FeedState()).last_modified,
            key=f.name,
        )
        for f in feeds
    ]
    results = fetch_all(requests, settings)
    now = datetime.now(UTC)
    fetches: list[FeedFetch] = []
    items: list[FeedItem] = []
    for feed, result in zip(feeds, results, strict=True):
        fetch, feed_items = _outcome(run_id, feed, result, states.get(feed.name, FeedState()), now)
        fetches.append(fetch)
        items.extend(feed_items)
    return fetches, items
