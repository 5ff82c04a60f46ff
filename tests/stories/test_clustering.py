from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from policy_news.stories.clustering import (
    StoryArticle,
    assign_stories,
    group_existing,
    rebuild_stories,
)
from policy_news.stories.signatures import build_signature

FACTS = {
    "a1": {
        "operations": {"Operation Low Tide"},
        "places": {"Millbrook"},
        "counts": {("arrests", "14")},
    },
    "a2": {
        "operations": {"Operation Low Tide"},
        "places": {"Millbrook"},
        "counts": {("arrests", "14")},
    },
    "b1": {"places": {"Kessler County", "Dunmore"}},
    "b2": {"places": {"Kessler County", "Dunmore"}},
    "c1": {},
    "d1": {"counts": {("arrests", "37")}},
    "e1": {"places": {"Grantsville"}},
    "e2": {"places": {"Grantsville"}},
}


def _articles(fixture_articles) -> list[StoryArticle]:
    out = []
    for n, (article_id, row) in enumerate(sorted(fixture_articles.items())):
        day = date.fromisoformat(row["day"])
        facts = {k: frozenset(v) for k, v in FACTS[article_id].items()}
        out.append(
            StoryArticle(
                article_id=article_id,
                seen_at=datetime(day.year, day.month, day.day, 8, tzinfo=UTC)
                + timedelta(minutes=n),
                day=day,
                outlet=row["outlet"],
                title=row["title"],
                words=build_signature(row["text"]).words,
                **facts,
            )
        )
    return out


def _stories(assignments) -> dict[str, str]:
    return {a.article_id: a.story_id for a in assignments}


def test_write_ups_of_one_event_form_one_story_and_other_events_do_not(fixture_articles):
    stories = _stories(rebuild_stories(_articles(fixture_articles)))
    assert stories == {
        "a1": "a1",
        "a2": "a1",
        "b1": "b1",
        "b2": "b1",
        "c1": "c1",
        "d1": "d1",
        "e1": "e1",
        "e2": "e1",
    }


def test_articles_outside_the_date_window_start_their_own_story(fixture_articles):
    articles = _articles(fixture_articles)
    far = [
        replace(a, day=a.day + timedelta(days=10)) if a.article_id == "e2" else a for a in articles
    ]
    assert _stories(rebuild_stories(far))["e2"] == "e2"


def test_a_copy_joins_the_story_of_its_original(fixture_articles):
    articles = _articles(fixture_articles)
    copy = replace(
        articles[5],
        article_id="z-copy",
        title="Unrelated words",
        words=None,
        copy_of="a2",
        seen_at=articles[-1].seen_at + timedelta(hours=1),
    )
    assert _stories(rebuild_stories([*articles, copy]))["z-copy"] == "a1"


def test_incremental_assignment_equals_rebuild_and_keeps_ids(fixture_articles):
    articles = sorted(_articles(fixture_articles), key=lambda a: a.order)
    first_batch, second_batch = articles[:4], articles[4:]
    first = assign_stories(first_batch)
    stored = [replace(a, story_id=_stories(first)[a.article_id]) for a in first_batch]
    second = assign_stories(second_batch, group_existing(stored))
    incremental = _stories(first) | _stories(second)
    assert incremental == _stories(rebuild_stories(articles))
    # assigning the stored batch again changes nothing
    again = assign_stories(stored, group_existing(stored))
    assert _stories(again) == _stories(first)
    assert not any(a.new_story for a in again)


def test_rebuild_gives_the_same_ids_whatever_the_input_order(fixture_articles):
    articles = _articles(fixture_articles)
    assert _stories(rebuild_stories(articles)) == _stories(rebuild_stories(articles[::-1]))
