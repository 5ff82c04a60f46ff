"""Which synthetic sites a bench builds, and how many DAG tasks each one would map to."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from policy_news.settings import get_settings
from tools.bench.site_content import SiteSpec

if TYPE_CHECKING:
    import argparse

    from tools.bench.site_content import Content

MAIN_SIZE = 2000
# A scheduled poll of a few outlets: new articles per run over SMALL_FEEDS feeds, each
# feed an outlet of its own host.
SMALL_SIZES = (20, 100, 300)
SMALL_FEEDS = 15


def default_feeds(articles: int) -> int:
    """20 articles a feed up to 2,000 articles; 10 a feed beyond (10,000 -> 1,000 feeds)."""
    return max(1, articles // 20 if articles <= 2000 else articles // 10)


def main_size(sizes: list[int]) -> int:
    """The size the naive baseline, the cost budget and the targets refer to."""
    return MAIN_SIZE if MAIN_SIZE in sizes else sizes[len(sizes) // 2]


def scaling_sites(args: argparse.Namespace) -> list[SiteSpec]:
    """One site per size: `--feeds` (or default_feeds) feeds, `--articles-per-host` per host."""
    return [
        SiteSpec(
            f"n{n}",
            n,
            args.feeds or default_feeds(n),
            max(1, math.ceil(n / args.articles_per_host)),
        )
        for n in args.sizes
    ]


def airflow_sites(args: argparse.Namespace) -> tuple[SiteSpec, SiteSpec]:
    """The DAG-vs-CLI site and a tenth of it on the same feeds (task count must not change)."""
    air = SiteSpec(
        "air",
        args.airflow_articles,
        max(1, args.airflow_articles // 20),
        max(1, math.ceil(args.airflow_articles / args.articles_per_host)),
    )
    return air, SiteSpec("airsmall", max(1, args.airflow_articles // 10), air.feeds, air.hosts)


def small_sites(sizes: list[int], feeds: int) -> list[SiteSpec]:
    """One site per small-run size, `feeds` feeds on as many hosts (one outlet per feed)."""
    return [SiteSpec(f"s{n}", n, feeds, feeds) for n in sizes]


def max_dag_tasks() -> int:
    """plan + feed groups + select + (fetch + tag) per item group + validate, load, alerts."""
    settings = get_settings()
    return 1 + settings.feed_tasks + 1 + 2 * settings.article_tasks + 3


def predicted_tasks(content: Content, site: SiteSpec) -> int:
    """Task instances of one DAG run for this site: the mapped groups are bounded by settings."""
    from policy_news.pipeline.partition import partition_by_host
    from policy_news.sources.urls import normalise_url

    settings = get_settings()
    feeds = [content.feed_url(site, j) for j in range(site.feeds)]
    urls = [normalise_url(content.article_url(site, i)) for i in range(site.articles)]
    feed_groups = len(partition_by_host(feeds, settings.feed_tasks, settings.feed_task_min_feeds))
    item_groups = len(
        partition_by_host(urls, settings.article_tasks, settings.article_task_min_items)
    )
    return 1 + feed_groups + 1 + 2 * item_groups + 3
