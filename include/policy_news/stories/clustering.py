"""Stories: the articles about one event, across outlets and days.

A new article joins the story whose articles it most resembles, or starts a new
one. Resemblance mixes the text (MinHash of content words), the title words and
the facts already extracted (a shared operation, city or county, reported number,
state), and only counts for articles published within `window_days` of each other.
A copy (exact or near duplicate) joins the story of its original outright.

Ids never churn: a story's id is the id of its first article, articles are taken
in the order `(seen_at, article_id)`, and a stored article keeps its story. So
`rebuild_stories(all)` gives the same stories as feeding the same articles batch
by batch to `assign_stories`, provided each call gets every story with an article
within `window_days` of the batch's days.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from policy_news.stories.signatures import STOP_WORDS, jaccard

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from datetime import date, datetime

    from datasketch import LeanMinHash

_TITLE_WORDS = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


@dataclass(frozen=True)
class StoryParams:
    """How alike two articles must be to tell one event."""

    window_days: int = 3
    threshold: float = 0.3
    # Shared facts alone do not make a story (one operation runs for weeks, one state
    # has many raids): the texts or titles must also resemble each other this much.
    min_text_score: float = 0.1
    title_weight: float = 0.3
    operation_weight: float = 0.2
    place_weight: float = 0.15
    count_weight: float = 0.15
    state_weight: float = 0.05


@dataclass(frozen=True)
class StoryArticle:
    """What clustering needs of a relevant article (from `articles`, facts, signatures)."""

    article_id: str
    seen_at: datetime
    day: date
    outlet: str
    title: str
    words: LeanMinHash | None = None
    copy_of: str | None = None
    operations: frozenset[str] = frozenset()
    places: frozenset[str] = frozenset()
    states: frozenset[str] = frozenset()
    counts: frozenset[tuple[str, str]] = frozenset()
    story_id: str | None = None  # set for articles already assigned

    @property
    def order(self) -> tuple[datetime, str]:
        return (self.seen_at, self.article_id)

    @functools.cached_property
    def title_words(self) -> frozenset[str]:
        return title_words(self.title)


@dataclass
class Story:
    story_id: str
    members: list[StoryArticle] = field(default_factory=list)


@dataclass(frozen=True)
class Assignment:
    """`article_id` belongs to `story_id`; `score` is its resemblance to the story."""

    article_id: str
    story_id: str
    score: float
    new_story: bool


def title_words(title: str) -> frozenset[str]:
    return frozenset(w for w in _TITLE_WORDS.findall(title.lower()) if w not in STOP_WORDS)


def _overlap(left: frozenset[str], right: frozenset[str]) -> float:
    if not left or not right:
        return 0.0
    return len(left & right) / len(left | right)


def resemblance(left: StoryArticle, right: StoryArticle, params: StoryParams) -> float:
    """How strongly two articles look like one event (0 outside the date window)."""
    if abs((left.day - right.day).days) > params.window_days:
        return 0.0
    text = 0.0
    if left.words is not None and right.words is not None:
        text = jaccard(left.words, right.words)
    text += params.title_weight * _overlap(left.title_words, right.title_words)
    if text < params.min_text_score:
        return 0.0
    return (
        text
        + params.operation_weight * bool(left.operations & right.operations)
        + params.place_weight * bool(left.places & right.places)
        + params.count_weight * bool(left.counts & right.counts)
        + params.state_weight * bool(left.states & right.states)
    )


def assign_stories(
    new: Sequence[StoryArticle],
    existing: Iterable[Story] = (),
    params: StoryParams | None = None,
) -> list[Assignment]:
    """Place each new article in an existing story or a new one; stored stories never move."""
    params = params or StoryParams()
    stories: dict[str, Story] = {}
    story_of: dict[str, str] = {}
    for story in existing:
        stories[story.story_id] = Story(story.story_id, list(story.members))
        for member in story.members:
            story_of[member.article_id] = story.story_id
    first_order = {sid: min(m.order for m in s.members) for sid, s in stories.items() if s.members}
    assignments = []
    for article in sorted(new, key=lambda a: a.order):
        if article.article_id in story_of:  # a reloaded batch keeps its stories
            assignments.append(
                Assignment(article.article_id, story_of[article.article_id], 1.0, False)
            )
            continue
        story_id, score = _best_story(article, stories, story_of, first_order, params)
        is_new = story_id is None
        if story_id is None:
            story_id, score = article.article_id, 1.0
            stories[story_id] = Story(story_id)
            first_order[story_id] = article.order
        stories[story_id].members.append(article)
        story_of[article.article_id] = story_id
        assignments.append(Assignment(article.article_id, story_id, round(score, 4), is_new))
    return assignments


def _best_story(
    article: StoryArticle,
    stories: dict[str, Story],
    story_of: dict[str, str],
    first_order: dict[str, tuple[datetime, str]],
    params: StoryParams,
) -> tuple[str | None, float]:
    if article.copy_of and article.copy_of in story_of:
        return story_of[article.copy_of], 1.0
    best: tuple[float, tuple[datetime, str], str] | None = None
    for story_id, story in stories.items():
        score = max((resemblance(article, m, params) for m in story.members), default=0.0)
        if score < params.threshold:
            continue
        # highest score first; among equals the oldest story
        if best is None or (-score, first_order[story_id]) < (-best[0], best[1]):
            best = (score, first_order[story_id], story_id)
    return (None, 0.0) if best is None else (best[2], best[0])


def rebuild_stories(
    articles: Sequence[StoryArticle], params: StoryParams | None = None
) -> list[Assignment]:
    """All stories from scratch (retag): the same ids as the incremental path."""
    return assign_stories([replace(a, story_id=None) for a in articles], (), params)


def group_existing(articles: Iterable[StoryArticle]) -> list[Story]:
    """Stories of already-assigned articles, as `assign_stories` takes them."""
    stories: dict[str, Story] = {}
    for article in sorted(articles, key=lambda a: a.order):
        if article.story_id is not None:
            stories.setdefault(article.story_id, Story(article.story_id)).members.append(article)
    return list(stories.values())
