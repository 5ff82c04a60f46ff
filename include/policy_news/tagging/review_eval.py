"""The tagger scored on articles people reviewed, and how far the reviewers agree.

Reviewed articles come from the stream the tagger actually sees (any month, any
outlet), so these figures say whether it holds up beyond the labelled sets. Gold is
the latest decision per article (what the analyst views use); the machine is the
current taxonomy version. Subtopics are scored on the articles reviewed as not
relevant (gold: none) and on those reviewed as relevant with subtopics listed; a
relevant decision with the subtopics left blank accepted the machine's and would
only flatter it.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import combinations
from typing import TYPE_CHECKING, Any

from policy_news.tagging.metrics import Counts, cohen_kappa

if TYPE_CHECKING:
    import duckdb

_REVIEWED = """
SELECT r.article_id, r.relevant, r.subtopics, coalesce(m.relevant, FALSE),
       (SELECT list(t.subtopic) FROM article_topics t
        WHERE t.article_id = r.article_id AND t.taxonomy_version = v.taxonomy_version)
FROM latest_tag_reviews r
CROSS JOIN (SELECT taxonomy_version FROM taxonomy_versions WHERE is_current) v
LEFT JOIN article_relevance m
       ON m.article_id = r.article_id AND m.taxonomy_version = v.taxonomy_version
ORDER BY r.article_id
"""


def score_against_reviews(conn: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Relevance P/R/F1 and subtopic micro-F1 of the current version against the reviews."""
    version = conn.execute(
        "SELECT taxonomy_version FROM taxonomy_versions WHERE is_current"
    ).fetchone()
    relevance, micro = Counts(), Counts()
    per_topic: dict[str, Counts] = defaultdict(Counts)
    n = scored_for_subtopics = 0
    for _, gold_relevant, gold_topics, machine_relevant, machine_topics in conn.execute(
        _REVIEWED
    ).fetchall():
        n += 1
        relevance.add(bool(machine_relevant), bool(gold_relevant))
        if gold_relevant and gold_topics is None:
            continue
        scored_for_subtopics += 1
        gold, got = set(gold_topics or ()), set(machine_topics or ())
        for topic in gold | got:
            per_topic[topic].add(topic in got, topic in gold)
            micro.add(topic in got, topic in gold)
    return {
        "taxonomy_version": version[0] if version else None,
        "reviewed_articles": n,
        "relevance": relevance.metrics(),
        "subtopics_scored_on": scored_for_subtopics,
        "subtopic_micro": micro.metrics(),
        "subtopics": {
            t: {**c.metrics(), "support": c.tp + c.fn} for t, c in sorted(per_topic.items())
        },
    }


def reviewer_agreement(conn: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Per pair of reviewers with articles in common: Cohen's kappa on relevance."""
    answers: dict[str, dict[str, bool]] = defaultdict(dict)
    for article_id, reviewer, relevant in conn.execute(
        "SELECT article_id, reviewer, relevant FROM tag_reviews"
    ).fetchall():
        answers[reviewer][article_id] = bool(relevant)
    pairs = []
    for first, second in combinations(sorted(answers), 2):
        shared = sorted(answers[first].keys() & answers[second].keys())
        if not shared:
            continue
        a = [answers[first][i] for i in shared]
        b = [answers[second][i] for i in shared]
        kappa = cohen_kappa(a, b)
        agreed = sum(x == y for x, y in zip(a, b, strict=True))
        pairs.append(
            {
                "reviewers": [first, second],
                "articles": len(shared),
                "observed_agreement": round(agreed / len(shared), 4),
                "kappa": None if kappa is None else round(kappa, 4),
            }
        )
    return pairs


def review_report(conn: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    return {"tagger": score_against_reviews(conn), "agreement": reviewer_agreement(conn)}


def format_review_report(report: dict[str, Any]) -> str:
    tagger = report["tagger"]
    r, m = tagger["relevance"], tagger["subtopic_micro"]
    lines = [
        f"== reviewed articles (n={tagger['reviewed_articles']}, "
        f"taxonomy {tagger['taxonomy_version']}) ==",
        f"relevance  P={r['precision']:.3f}  R={r['recall']:.3f}  F1={r['f1']:.3f}"
        f"  (tp={r['tp']} fp={r['fp']} fn={r['fn']})",
        f"subtopics  micro P={m['precision']:.3f}  R={m['recall']:.3f}  F1={m['f1']:.3f}"
        f"  (on {tagger['subtopics_scored_on']} articles)",
    ]
    if not report["agreement"]:
        lines.append("reviewer agreement: no two reviewers reviewed the same article")
    for pair in report["agreement"]:
        kappa = "n/a" if pair["kappa"] is None else f"{pair['kappa']:.3f}"
        lines.append(
            f"reviewer agreement {' vs '.join(pair['reviewers'])}: kappa={kappa}  "
            f"observed={pair['observed_agreement']:.3f}  (n={pair['articles']})"
        )
    return "\n".join(lines)
