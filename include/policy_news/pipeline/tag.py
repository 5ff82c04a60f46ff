"""Stage 5: tag one batch of extracted articles (relevance, topics with evidence, facts)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from policy_news import staging
from policy_news.pipeline.run_folder import batch_file

if TYPE_CHECKING:
    from policy_news.pipeline.contracts import ArticleBatchResult, TagBatchResult
    from policy_news.settings import Settings
    from policy_news.staging_store import StagedPath


def tag_batch(
    run_dir: StagedPath, fetched: ArticleBatchResult, settings: Settings
) -> TagBatchResult:
    """Write the tagged articles plus their topic, fact and relevance rows."""
    from policy_news.tagging.rows import result_rows
    from policy_news.tagging.tagger import get_tagger

    started = time.perf_counter()
    tagger = get_tagger(settings.taxonomy_path)
    index = fetched["index"]
    tagged_path = batch_file(run_dir, "tagged", index)
    topics_path = batch_file(run_dir, "topics", index)
    facts_path = batch_file(run_dir, "facts", index)
    relevance_path = batch_file(run_dir, "relevance", index)
    now = datetime.now(UTC)
    tagged = relevant = 0
    with (
        staging.StreamWriter("articles", tagged_path) as articles_out,
        staging.StreamWriter("article_topics", topics_path) as topics_out,
        staging.StreamWriter("article_facts", facts_path) as facts_out,
        staging.StreamWriter("article_relevance", relevance_path) as relevance_out,
    ):
        for rows in staging.iter_rows("articles", fetched["articles"], settings.article_batch_size):
            topics: list[dict[str, Any]] = []
            facts: list[dict[str, Any]] = []
            relevance: list[dict[str, Any]] = []
            for row in rows:
                result = tagger.tag(row["title"], row["summary"], row["text"])
                row["relevant"] = result.relevant
                row["relevance_score"] = result.score
                row["taxonomy_version"] = result.taxonomy_version
                row["relevance_probability"] = result.probability
                row["needs_review"] = result.needs_review
                t_rows, f_rows, r_row = result_rows(row["article_id"], result, now)
                topics.extend(t_rows)
                facts.extend(f_rows)
                relevance.append(r_row)
                relevant += bool(result.relevant)
            tagged += len(rows)
            articles_out.write(rows)
            topics_out.write(topics)
            facts_out.write(facts)
            relevance_out.write(relevance)
    return {
        "index": index,
        "articles": str(tagged_path),
        "article_topics": str(topics_path),
        "article_facts": str(facts_path),
        "article_relevance": str(relevance_path),
        "tagged": tagged,
        "relevant": relevant,
        "taxonomy_version": tagger.version,
        "seconds": round(time.perf_counter() - started, 3),
    }
