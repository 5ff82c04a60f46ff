"""Near-duplicate precision and recall: `python -m policy_news.stories.evaluate`.

Scores are pairwise over clusters: every article belongs to the cluster of its
canonical article (itself when it is no copy); a pair of articles is predicted
"same" when they land in one cluster, and is truly "same" when the fixture says so
(Media Cloud: same `duplicate_of` root; synthetic: rewrites of one source text).
Precision = correct same-pairs / predicted same-pairs, recall = correct same-pairs
/ true same-pairs. A cluster of n copies counts n(n-1)/2 pairs, so a twenty-outlet
reprint weighs more than a single copy, as it does for analysts' counts.

Sets:
* Media Cloud story-processor fixtures (shared corpus; skipped when absent), once
  with the exact fingerprint path and once MinHash alone (all its copies are
  byte-identical, so the second run is the one that exercises MinHash).
* Synthetic rewrites of the repo's own fictional fixture texts (always), whose
  same-topic and same-event texts are the negatives.
* Synthetic rewrites of the shared labelled articles (same topic, immigration), when
  the corpus is there; it also gives the per-article CPU cost.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from policy_news.settings import project_home
from policy_news.stories.near_duplicates import ArticleText, find_near_duplicates
from policy_news.stories.synthetic import rewrites

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

MEDIACLOUD = "corpus/text/mediacloud_story_processor_stories.jsonl"
ARTICLES_DEV = "corpus/labels/articles-dev.jsonl"
FIXTURE = Path("tests/fixtures/stories/articles.jsonl")
_EPOCH = datetime(2026, 3, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Score:
    name: str
    articles: int
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int
    seconds: float
    minhash_articles: int

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0

    @property
    def ms_per_article(self) -> float:
        return 1000 * self.seconds / max(1, self.articles)

    def line(self) -> str:
        return (
            f"{self.name:<44} articles {self.articles:>4}  pairs {self.true_pairs:>4}  "
            f"precision {self.precision:.3f}  recall {self.recall:.3f}  "
            f"CPU {self.ms_per_article:.2f} ms/article"
        )


def _same_pairs(cluster_of: Mapping[str, str]) -> set[tuple[str, str]]:
    members: dict[str, list[str]] = {}
    for article_id, cluster in cluster_of.items():
        members.setdefault(cluster, []).append(article_id)
    return {
        tuple(sorted(pair))  # type: ignore[misc]
        for group in members.values()
        for pair in itertools.combinations(group, 2)
    }


def score(name: str, articles: Sequence[ArticleText], truth: Mapping[str, str]) -> Score:
    """Run the detector on one batch and compare its clusters with `truth` (id -> cluster)."""
    started = time.process_time()
    result = find_near_duplicates(articles)
    seconds = time.process_time() - started
    predicted = {a.article_id: a.article_id for a in articles}
    predicted.update({m.article_id: m.duplicate_of for m in result.matches})
    true_pairs = _same_pairs(truth)
    predicted_pairs = _same_pairs(predicted)
    return Score(
        name,
        len(articles),
        len(true_pairs),
        len(predicted_pairs),
        len(true_pairs & predicted_pairs),
        seconds,
        len(result.signatures),
    )


def _fingerprint(text: str) -> str:
    from policy_news.extract.articles import content_fingerprint

    return content_fingerprint(text)


def mediacloud_sets(path: Path) -> list[tuple[str, list[ArticleText], dict[str, str]]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    truth = {str(r["stories_id"]): str(r["duplicate_of"] or r["stories_id"]) for r in rows}
    sets = []
    for exact in (True, False):
        articles = [
            ArticleText(
                str(r["stories_id"]),
                r["story_text"] or "",
                datetime.fromisoformat(r["publish_date"]).replace(tzinfo=UTC),
                _fingerprint(r["story_text"] or "") if exact else None,
            )
            for r in rows
        ]
        label = "exact + MinHash" if exact else "MinHash only"
        sets.append((f"Media Cloud fixtures ({label})", articles, truth))
    return sets


def synthetic_set(
    name: str, sources: Sequence[tuple[str, str, str]]
) -> tuple[str, list[ArticleText], dict[str, str]]:
    """Sources (id, title, text) first, then five rewrites of each, an hour apart."""
    articles: list[ArticleText] = []
    truth: dict[str, str] = {}
    for i, (source_id, _title, text) in enumerate(sources):
        articles.append(ArticleText(source_id, text, _EPOCH + timedelta(minutes=i)))
        truth[source_id] = source_id
    for i, (source_id, title, text) in enumerate(sources):
        for j, copy in enumerate(rewrites(source_id, title, text)):
            seen = _EPOCH + timedelta(hours=1 + j, minutes=i)
            articles.append(ArticleText(copy.article_id, copy.text, seen))
            truth[copy.article_id] = source_id
    return name, articles, truth


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--shared", type=Path, default=project_home().parent / "shared", help="shared corpus folder"
    )
    args = parser.parse_args(argv)
    fixture = project_home() / FIXTURE
    own = [json.loads(line) for line in fixture.read_text(encoding="utf-8").splitlines() if line]
    sets = [
        synthetic_set(
            "synthetic rewrites of fixture texts",
            [(r["article_id"], r["title"], r["text"]) for r in own],
        )
    ]
    if (args.shared / MEDIACLOUD).is_file():
        sets[:0] = mediacloud_sets(args.shared / MEDIACLOUD)
        labelled = (args.shared / ARTICLES_DEV).read_text(encoding="utf-8").splitlines()
        dev = [json.loads(line) for line in labelled if line]
        sources = [(f"dev{i}", r.get("title") or "", r["text"]) for i, r in enumerate(dev)]
        sets.append(synthetic_set("synthetic rewrites of shared labelled articles", sources))
    else:
        print(f"skipped Media Cloud and shared articles: {args.shared} not found")
    find_near_duplicates([ArticleText("warm-up", "builds the permutations once", _EPOCH)])
    for name, articles, truth in sets:
        print(score(name, articles, truth).line())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
