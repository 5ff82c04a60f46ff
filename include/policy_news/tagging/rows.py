"""A tag result as the rows of the staged tables (column names = the DuckDB schema).

Shared by the tag stage and retag, so both write the same rows for the same result.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datetime import datetime

    from policy_news.models import TagResult


def result_rows(
    article_id: str, result: TagResult, tagged_at: datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """Rows for article_topics, article_facts and article_relevance (column names = schema)."""
    version = result.taxonomy_version
    topics = [
        {
            "article_id": article_id,
            "subtopic": tag.id,
            "taxonomy_version": version,
            "score": float(tag.score),
            "evidence": tag.evidence.sentence,
            "field": tag.evidence.field,
            "start_offset": tag.evidence.start,
            "end_offset": tag.evidence.end,
            "rule_id": tag.evidence.rule_id,
        }
        for tag in result.subtopics
    ]
    facts = [
        {
            "article_id": article_id,
            "taxonomy_version": version,
            "fact_index": i,
            "kind": fact.kind,
            "value": fact.value,
            "normalized": fact.normalized,
            "sentence": fact.evidence.sentence,
            "field": fact.evidence.field,
            "start_offset": fact.evidence.start,
            "end_offset": fact.evidence.end,
            "rule_id": fact.evidence.rule_id,
            "attrs": json.dumps(fact.attrs, sort_keys=True, ensure_ascii=False),
        }
        for i, fact in enumerate(result.facts)
    ]
    ev = result.relevance_evidence
    relevance = {
        "article_id": article_id,
        "taxonomy_version": version,
        "relevant": bool(result.relevant),
        "relevance_score": float(result.score),
        "evidence": ev.sentence if ev else None,
        "rule_id": ev.rule_id if ev else None,
        "tagged_at": tagged_at,
        "relevance_probability": result.probability,
        "needs_review": bool(result.needs_review),
    }
    return topics, facts, relevance
