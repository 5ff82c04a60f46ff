"""Bench sections beside the pipeline runs: extraction quality, naive baseline, tagging, queries."""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from policy_news.settings import get_settings
from tools.bench.measure import CpuWindow
from tools.bench.report import say, table

if TYPE_CHECKING:
    import argparse

    from tools.bench.site_content import Content, ServerSpec


def section_quality(results: dict[str, Any], spec: ServerSpec) -> None:
    say("\n== extraction quality and cost per trafilatura setting (corpus pages) ==")
    from tools.bench.quality import evaluate

    if not spec.corpus:
        say("shared corpus not found: skipped")
        return
    quality = evaluate(Path(spec.corpus))
    results["extraction_quality"] = quality
    say(
        table(
            [
                "setting",
                "token F1",
                "precision",
                "recall",
                "CPU ms/page",
                "pages with text",
                "pages != fallbacks",
            ],
            [
                (
                    k,
                    v["f1"],
                    v["precision"],
                    v["recall"],
                    v["cpu_ms_per_page"],
                    v["pages_with_text"],
                    v.get("pages_differing_from_full"),
                )
                for k, v in quality["variants"].items()
            ],
        )
    )
    say(
        f"(F1 over the {quality['pages_with_reference']} pages with reference text; CPU "
        f"and changed pages over all {quality['pages_timed']} corpus pages)"
    )


def section_naive(
    results: dict[str, Any],
    work: Path,
    content: Content,
    main_size: int,
    args: argparse.Namespace,
    articles: int,
) -> None:
    from tools.bench.naive import run_naive

    main_site = content.sites[f"n{main_size}"]
    subset = min(articles, main_site.articles)
    say(
        f"\n== naive baseline: sequential fetch / extract (trafilatura defaults) / row inserts, "
        f"on a random subset of {subset} articles of the {main_site.articles}-article site =="
    )
    say("(the naive script costs ~0.2 s an article, so it runs on a subset; rates are per article)")
    with CpuWindow() as naive_cpu:
        naive = run_naive(content, main_site.name, subset, work / "naive.duckdb", seed=args.seed)
    naive["cpu"] = naive_cpu.result()
    results["naive"] = naive
    say(
        f"naive: {naive['articles']} articles from {naive['feeds']} feeds in {naive['wall_s']:.1f} s "
        f"= {naive['articles_per_s']:.2f} articles/s ({naive['s_per_article']} s each: fetch "
        f"{naive['fetch_s']} s, extract {naive['extract_s']} s, insert {naive['insert_s']} s)"
    )
    main_run = next(
        (r for r in results.get("runs", []) if r["site"]["articles"] == main_size), None
    )
    if main_run and naive["articles_per_s"]:
        speedup = main_run["derived"]["articles_per_s"] / naive["articles_per_s"]
        results["comparison"] = {
            "pipeline_articles_per_s": main_run["derived"]["articles_per_s"],
            "naive_articles_per_s": naive["articles_per_s"],
            "speedup": round(speedup, 2),
        }
        say(
            f"pipeline at {main_size}: {main_run['derived']['articles_per_s']:.1f} articles/s -> "
            f"{speedup:.2f}x the naive rate"
        )


def measure_tagging(db: Path, seconds: float) -> dict[str, Any]:
    """tagger.tag on the texts the pipeline extracted, one core, rate by CPU time."""
    import duckdb

    from policy_news.tagging.tagger import get_tagger

    with duckdb.connect(str(db), read_only=True) as conn:
        rows = conn.execute(
            "SELECT title, summary, text FROM articles WHERE text IS NOT NULL ORDER BY article_id"
        ).fetchall()
    if not rows:
        return {"articles": 0}
    tagger = get_tagger(get_settings().taxonomy_path)
    for title, summary, text in rows[:20]:
        tagger.tag(title, summary, text)
    rates: list[float] = []
    tagged = 0
    words = statistics.fmean(len((r[2] or "").split()) for r in rows)
    wall0 = time.perf_counter()
    deadline = time.process_time() + seconds
    i = 0
    while time.process_time() < deadline or len(rates) < 3:
        start = time.process_time()
        for _ in range(100):
            title, summary, text = rows[i % len(rows)]
            tagger.tag(title, summary, text)
            i += 1
        rates.append(100 / max(time.process_time() - start, 1e-9))
        tagged += 100
    return {
        "distinct_articles": len(rows),
        "words_per_article": round(words, 1),
        "articles_tagged": tagged,
        "per_core_articles_per_s": round(statistics.median(rates), 1),
        "wall_articles_per_s": round(tagged / (time.perf_counter() - wall0), 1),
    }


def section_tagging(results: dict[str, Any], db: Path, args: argparse.Namespace) -> None:
    say("\n== tagging: Tagger.tag on the main run's extracted articles, one core ==")
    tagging = measure_tagging(db, args.tag_seconds)
    results["tagging"] = tagging
    say(
        f"{tagging.get('per_core_articles_per_s')} articles/s per core (CPU time; "
        f"{tagging.get('wall_articles_per_s')}/s wall) over {tagging.get('distinct_articles')} "
        f"articles of ~{tagging.get('words_per_article')} words"
    )


def section_stories(results: dict[str, Any]) -> None:
    """Near-duplicates and stories in the loader: CPU per article against the pipeline's."""
    from tools.bench import stories_overhead

    say(
        "\n== near-duplicates and stories: their CPU per article (the texts' sketches "
        "included, which the extraction workers make in a pipeline run) =="
    )
    if not stories_overhead.CORPUS.is_file():
        say("shared corpus not found: skipped")
        return
    # The pipeline's own CPU per article: the main run's process tree over what it loaded.
    pipeline_ms = stories_overhead.PIPELINE_MS_PER_ARTICLE
    main_size = (results.get("config") or {}).get("main_size")
    for run in results.get("runs", []):
        loaded = run["derived"]["articles_loaded"]
        if run["site"]["articles"] == main_size and loaded and run["derived"].get("tree_cpu_s"):
            pipeline_ms = 1000 * run["derived"]["tree_cpu_s"] / loaded
    results["stories"] = stories_overhead.measure(say=say, pipeline_ms=pipeline_ms)


def section_queries(results: dict[str, Any], work: Path, args: argparse.Namespace) -> None:
    from tools.bench import queries

    say(f"\n== analyst queries over {args.query_rows:,} synthetic articles (real schema) ==")
    qdb = work / "analyst.duckdb"
    built = queries.build(qdb, args.query_rows, seed=0.42)
    timed = queries.time_queries(qdb)
    results["queries"] = {"build": built, "timings": timed}
    say(f"built in {built['build_s']} s: {built['counts']}, {built['size_mib']} MiB")
    say(
        table(
            ["query", "rows", "first run s", "median s"],
            [(k, v["rows"], v["first_s"], v["median_s"]) for k, v in timed.items()],
        )
    )
