"""The seed article and what `/work/shared/seed/expected.md` asks of it, plus small readers.

The tagger, facts and sample-site tests check the same expectations: on the seed
text itself and on the sample page that retells it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.conftest import SHARED_DIR

if TYPE_CHECKING:
    from policy_news.models import Fact, TagResult
    from policy_news.tagging.tagger import Tagger

SEED_ARTICLE = SHARED_DIR / "seed" / "article.txt"
SEED_SUBTOPICS = frozenset(
    {
        "local_cooperation_287g",
        "arrests_operations",
        "crime_gangs",
        "removal_deportation",
        "protest_politics",
    }
)
SEED_AGENCIES = frozenset(
    {
        "ICE",
        "DHS",
        "FBI",
        "National Sheriffs' Association",
        "Saline County Sheriff's Office",
        "ICE Boston",
    }
)
SEED_PROGRAMS = frozenset({"287(g) program", "287(g) Warrant Service Officer Program"})
SEED_OPERATIONS = frozenset({"Operation Tidal Wave"})
SEED_STATES = ("Florida", "Virginia", "Arkansas", "Massachusetts")


def subtopic_ids(result: TagResult) -> set[str]:
    return {t.id for t in result.subtopics}


def facts_by_name(facts: list[Fact], kind: str) -> dict[str, Fact]:
    """The facts of one kind by normalised name (the last one wins)."""
    return {f.normalized: f for f in facts if f.kind == kind}


@pytest.fixture(scope="session")
def seed_result(tagger: Tagger) -> TagResult:
    """The seed article's text tagged once (skips where the shared seed is absent)."""
    if not SEED_ARTICLE.is_file():
        pytest.skip(f"seed article not found at {SEED_ARTICLE}")
    return tagger.tag("", None, SEED_ARTICLE.read_text(encoding="utf-8"))
