"""The synthetic news site's content: which sites exist, their feeds and article pages.

Every outlet is its own IP address (127.0.1.1, 127.0.1.2, ...): Linux routes all of
127.0.0.0/8 to `lo`, so binding one listening socket per address gives the
pipeline's per-host politeness the same shape it has across real outlets.
Feed `j` of a site lives on host `j % hosts`, article `i` on host `i % hosts`.

Article pages are the real pages of the shared corpus (`../shared/corpus/html`)
used as templates: every `<p>` and the `<title>` get a short unique marker, so each
article is a distinct, real-sized page (same markup, same extraction cost) with its
own content hash. Without the corpus, generated ~6 KB-of-text pages are used.
Everything is derived from the ServerSpec, so the server and the harness agree.
"""

from __future__ import annotations

import dataclasses
import email.utils
import hashlib
import html
import json
import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from policy_news.settings import project_home

_P_OPEN = re.compile(rb"<p(?:\s[^>]*)?>", re.IGNORECASE)
_TITLE_OPEN = re.compile(rb"<title[^>]*>", re.IGNORECASE)
_BODY_OPEN = re.compile(rb"<body[^>]*>", re.IGNORECASE)
_TITLE_TEXT = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
# Fixed "now" of the synthetic news: feed dates fall in the 30 days before it.
EPOCH = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


def corpus_dir() -> Path:
    return project_home().parent / "shared" / "corpus"


def host_address(index: int) -> str:
    """The loopback address of host `index` (0-based): 127.0.1.1 .. 127.0.1.250, 127.0.2.1 ..."""
    return f"127.0.{1 + index // 250}.{1 + index % 250}"


@dataclass(frozen=True)
class SiteSpec:
    """One synthetic site: `articles` spread evenly over `feeds` and over `hosts`.

    Article i is in feed i % feeds and on host i % hosts; feed j is on host j % hosts.
    With hosts == feeds every feed is an outlet carrying its own articles; with more
    hosts than feeds the feeds also link to other outlets (as topic and aggregator
    feeds do), which is how a monitor of one topic sees the news.
    """

    name: str
    articles: int
    feeds: int
    hosts: int

    def feed_host(self, feed: int) -> int:
        return feed % self.hosts

    def article_host(self, article: int) -> int:
        return article % self.hosts

    def article_feed(self, article: int) -> int:
        return article % self.feeds

    def max_articles_per_host(self) -> int:
        return -(-self.articles // self.hosts)

    def feed_articles(self, feed: int) -> range:
        return range(feed, self.articles, self.feeds)


@dataclass
class ServerSpec:
    sites: list[SiteSpec]
    latency_ms: float = 150.0
    seed: int = 20260110
    lifetime_s: float = 900.0
    corpus: str | None = None
    port: int = 0

    @property
    def hosts(self) -> int:
        return max(s.hosts for s in self.sites)

    def to_json(self) -> str:
        return json.dumps(
            {**dataclasses.asdict(self), "sites": [dataclasses.asdict(s) for s in self.sites]}
        )

    @classmethod
    def from_json(cls, text: str) -> ServerSpec:
        data = json.loads(text)
        data["sites"] = [SiteSpec(**s) for s in data["sites"]]
        return cls(**data)


@dataclass
class Template:
    name: str
    parts: list[bytes]  # the page split at the insertion points
    title: str


def _split_template(name: str, page: bytes) -> Template:
    points: list[int] = []
    title = _TITLE_OPEN.search(page)
    if title:
        points.append(title.end())
    paragraphs = [m.end() for m in _P_OPEN.finditer(page)]
    if not paragraphs and (body := _BODY_OPEN.search(page)):
        paragraphs = [body.end()]
    points.extend(paragraphs)
    points = sorted(set(points))
    parts, last = [], 0
    for point in points:
        parts.append(page[last:point])
        last = point
    parts.append(page[last:])
    found = _TITLE_TEXT.search(page)
    text = html.unescape(found.group(1).decode("utf-8", "replace")).strip() if found else name
    return Template(name=name, parts=parts, title=" ".join(text.split())[:200])


_GENERATED_SENTENCES = [
    "Officials said the county would publish the figures every month.",
    "The council met for three hours on Tuesday evening before voting.",
    "Residents lined up outside the hall long before the doors opened.",
    "Immigration and Customs Enforcement said the agency detained several people.",
    "The governor's office did not respond to a request for comment.",
    "Local businesses reported a slower season than they had expected.",
    "A federal judge scheduled a hearing on the motion for next week.",
    "The school district announced new bus routes for the spring term.",
]


def _generated_template(index: int) -> Template:
    rng = random.Random(index)
    paragraphs = [
        "<p>" + " ".join(rng.choice(_GENERATED_SENTENCES) for _ in range(5)) + "</p>"
        for _ in range(14)
    ]
    nav = "".join(f'<li><a href="/section/{k}">Section {k}</a></li>' for k in range(40))
    page = (
        f'<!doctype html><html lang="en"><head><title>Generated story {index}</title>'
        f'<meta name="author" content="Staff Writer"></head><body><nav><ul>{nav}</ul></nav>'
        f"<article><h1>Generated story {index}</h1>{''.join(paragraphs)}</article>"
        f"<footer>Copyright The Generated Times</footer></body></html>"
    ).encode()
    return _split_template(f"generated-{index}", page)


def load_templates(corpus: Path | None) -> list[Template]:
    """The corpus pages (sorted by name), else 12 generated pages."""
    folder = corpus / "html" if corpus else None
    if folder and folder.is_dir():
        pages = sorted(p for p in folder.glob("*.html") if p.is_file())
        if pages:
            return [_split_template(p.name, p.read_bytes()) for p in pages]
    return [_generated_template(i) for i in range(12)]


def load_headlines(corpus: Path | None, limit: int) -> list[tuple[str, str]]:
    """(title, description) pairs from the unlabelled headline pool, if present."""
    path = corpus / "text" / "headlines-pool-2026-01.jsonl" if corpus else None
    out: list[tuple[str, str]] = []
    if path and path.is_file():
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                if len(out) >= limit:
                    break
                try:
                    row = json.loads(line)
                except ValueError:
                    continue
                if row.get("title"):
                    out.append((str(row["title"]), str(row.get("description") or "")))
    return out


class Content:
    """Deterministic pages and feeds for a ServerSpec (the server and the harness agree)."""

    def __init__(self, spec: ServerSpec) -> None:
        self.spec = spec
        corpus = Path(spec.corpus) if spec.corpus else None
        self.templates = load_templates(corpus)
        need = max(s.articles for s in spec.sites)
        self.headlines = load_headlines(corpus, need)
        self.sites = {s.name: s for s in spec.sites}

    def base(self, host: int) -> str:
        return f"http://{host_address(host)}:{self.spec.port}"

    def feed_url(self, site: SiteSpec, feed: int) -> str:
        return f"{self.base(site.feed_host(feed))}/{site.name}/feeds/{feed}.rss"

    def article_url(self, site: SiteSpec, article: int) -> str:
        feed = site.article_feed(article)
        return f"{self.base(site.article_host(article))}/{site.name}/news/{feed}/{article}.html"

    def template_for(self, site: SiteSpec, article: int) -> Template:
        digest = hashlib.blake2b(f"{self.spec.seed}:{site.name}:{article}".encode(), digest_size=4)
        return self.templates[int.from_bytes(digest.digest(), "big") % len(self.templates)]

    def headline(self, site: SiteSpec, article: int) -> tuple[str, str]:
        template = self.template_for(site, article)
        if self.headlines:
            title, summary = self.headlines[article % len(self.headlines)]
        else:
            title, summary = template.title, ""
        return f"{title} ({site.name} #{article})", summary

    def page(self, site: SiteSpec, article: int) -> bytes:
        template = self.template_for(site, article)
        marker = f"Dispatch {site.name}-{article}. ".encode()
        out = [template.parts[0]]
        for part in template.parts[1:]:
            out.append(marker)
            out.append(part)
        return b"".join(out)

    def published(self, site: SiteSpec, article: int) -> datetime:
        return EPOCH - timedelta(minutes=(article * 37) % (30 * 24 * 60))

    def feed(self, site: SiteSpec, feed: int) -> bytes:
        items = []
        for article in site.feed_articles(feed):
            title, summary = self.headline(site, article)
            url = self.article_url(site, article)
            items.append(
                "<item>"
                f"<title>{html.escape(title)}</title>"
                f"<link>{html.escape(url)}</link>"
                f'<guid isPermaLink="true">{html.escape(url)}</guid>'
                f"<description>{html.escape(summary)}</description>"
                f"<pubDate>{email.utils.format_datetime(self.published(site, article))}</pubDate>"
                "</item>"
            )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
            f"<title>Bench outlet {site.name} feed {feed}</title>"
            f"<link>{self.base(site.feed_host(feed))}/</link>"
            "<description>synthetic benchmark feed</description>"
            f"{''.join(items)}</channel></rss>"
        ).encode()

    def etag(self, site: SiteSpec, feed: int) -> str:
        return f'"{site.name}-{feed}-{self.spec.seed}"'


def feeds_yaml(content: Content, site: SiteSpec) -> str:
    lines = ["feeds:"]
    for feed in range(site.feeds):
        lines.append(f"  - name: bench-{site.name}-{feed:05d}")
        lines.append(f"    url: {content.feed_url(site, feed)}")
    return "\n".join(lines) + "\n"
