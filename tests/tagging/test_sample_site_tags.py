"""The bundled sample site, tagged the way the pipeline tags it.

Each page's text comes from `extract_page` (as in the pipeline); its title and summary
are the feed entry's title and description. Labels and intended subtopics come from
`include/sample_site/README.md`, so the page table there is what is tested: every
page's relevance, every subtopic the README lists without "(minor)", and for the page
modelled on the seed article (`federal-local-partnerships-287g.html`) the agencies,
programs, places and counts `/work/shared/seed/expected.md` asks for.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime
from functools import cache
from typing import Any

import pytest

from policy_news.extract.articles import extract_page
from policy_news.models import Fact, TagResult
from policy_news.sources.feed_fetch import parse_feed
from policy_news.tagging.tagger import Tagger
from policy_news.tagging.taxonomy import GUIDE_SUBTOPICS
from tests.tagging.conftest import (
    SEED_AGENCIES,
    SEED_OPERATIONS,
    SEED_PROGRAMS,
    SEED_STATES,
    SEED_SUBTOPICS,
    facts_by_name,
    subtopic_ids,
)
from tools.sample_site import DEMO_PORT, SAMPLE_SITE_DIR

BASE = f"http://127.0.0.1:{DEMO_PORT}"
ARTICLES = SAMPLE_SITE_DIR / "articles"
SEED_PAGE = "federal-local-partnerships-287g.html"
PAGES = sorted(p.name for p in ARTICLES.glob("*.html"))

_ROW = re.compile(
    r"^\|\s*`articles/(?P<page>[^`]+)`\s*\|[^|]*\|[^|]*\|\s*(?P<label>\w+)\s*\|(?P<rest>.*)\|\s*$"
)
_SUBTOPIC = re.compile(rf"\b(?P<id>{'|'.join(GUIDE_SUBTOPICS)})\b(?P<minor>\s*\(minor\))?")


def _served(data: bytes) -> bytes:
    # What `tools.sample_site` serves: {{BASE}} replaced by its own base URL.
    return data.replace(b"{{BASE}}", BASE.encode())


@cache
def _readme() -> dict[str, tuple[str, frozenset[str]]]:
    """page -> (label, subtopics the README lists as intended, minor ones left out)."""
    rows: dict[str, tuple[str, frozenset[str]]] = {}
    for line in (SAMPLE_SITE_DIR / "README.md").read_text(encoding="utf-8").splitlines():
        m = _ROW.match(line)
        if m:
            required = frozenset(s["id"] for s in _SUBTOPIC.finditer(m["rest"]) if not s["minor"])
            rows[m["page"]] = (m["label"], required)
    return rows


@cache
def _feed_entries() -> dict[str, tuple[str, str | None, str]]:
    """page -> (feed title, feed description, url), first feed entry linking the page."""
    entries: dict[str, tuple[str, str | None, str]] = {}
    now = datetime.now(UTC)
    for feed in sorted((SAMPLE_SITE_DIR / "feeds").iterdir()):
        parsed = parse_feed(_served(feed.read_bytes()), {}, feed.stem, BASE, now)
        for item in parsed.items:
            page = item.url.split("?")[0].split("#")[0].rsplit("/", 1)[-1]
            entries.setdefault(page, (item.title, item.summary, item.url))
    return entries


@cache
def _tagged(tagger: Tagger, page: str) -> tuple[TagResult, dict[str, str]]:
    title, summary, url = _feed_entries()[page]
    fields = extract_page(_served((ARTICLES / page).read_bytes()), url)
    assert fields.get("text"), fields.get("error")
    result = tagger.tag(title, summary, fields["text"])
    return result, {"title": title, "summary": summary or "", "text": fields["text"]}


def _counts(facts: list[Fact]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for f in facts:
        if f.kind == "count":
            out.setdefault((f.normalized, f.attrs["counts"]), []).append(f.attrs)
    return out


def test_every_page_has_a_readme_row_and_a_feed_entry() -> None:
    assert PAGES, f"no pages under {ARTICLES}"
    assert set(PAGES) == set(_readme()), "README page table and articles/ differ"
    assert set(PAGES) <= set(_feed_entries())


@pytest.mark.parametrize("page", PAGES)
def test_relevance_matches_the_readme_label(page: str, tagger: Tagger) -> None:
    label, _ = _readme()[page]
    result, _ = _tagged(tagger, page)
    assert result.relevant == (label == "enforcement"), (
        page,
        result.score,
        result.relevance_evidence,
    )
    if not result.relevant:
        assert result.subtopics == [] and result.facts == []


@pytest.mark.parametrize("page", [p for p in PAGES if _readme().get(p, ("",))[0] == "enforcement"])
def test_intended_subtopics_are_found(page: str, tagger: Tagger) -> None:
    _, required = _readme()[page]
    result, _ = _tagged(tagger, page)
    assert required <= subtopic_ids(result), sorted(required - subtopic_ids(result))


@pytest.mark.parametrize("page", PAGES)
def test_evidence_points_into_its_field(page: str, tagger: Tagger) -> None:
    result, fields = _tagged(tagger, page)
    evidences = [t.evidence for t in result.subtopics] + [f.evidence for f in result.facts]
    for ev in evidences:
        text = fields[ev.field]
        assert 0 <= ev.start < ev.end <= len(text)
        assert text[ev.start : ev.end] in ev.sentence and ev.sentence in text


@pytest.mark.parametrize("page", PAGES)
def test_a_count_is_one_fact_per_mention(page: str, tagger: Tagger) -> None:
    result, _ = _tagged(tagger, page)
    counts = [f for f in result.facts if f.kind == "count"]
    by_offsets = Counter(
        (
            f.kind,
            f.normalized,
            f.attrs["counts"],
            f.evidence.field,
            f.evidence.start,
            f.evidence.end,
        )
        for f in counts
    )
    assert [k for k, n in by_offsets.items() if n > 1] == []
    # A headline or standfirst repeated as the article's first lines is the same mention.
    by_sentence = Counter(
        (f.kind, f.normalized, f.attrs["counts"], " ".join(f.evidence.sentence.split()))
        for f in counts
    )
    assert [k for k, n in by_sentence.items() if n > 1] == []


def test_ice_train_travel_story_is_not_the_agency_or_the_us_border(tagger: Tagger) -> None:
    result, _ = _tagged(tagger, "ice-train-frankfurt-amsterdam.html")
    assert not result.relevant and result.score < 0.5
    assert result.subtopics == []


def test_death_in_custody_is_detention_not_use_of_force(tagger: Tagger) -> None:
    result, _ = _tagged(tagger, "louisiana-detention-center-death.html")
    assert "detention" in subtopic_ids(result)
    assert "use_of_force" not in subtopic_ids(result)


def test_sanctuary_lawsuit_gets_sanctuary_and_not_detention_from_detainers(tagger: Tagger) -> None:
    result, _ = _tagged(tagger, "new-orleans-sanctuary-lawsuit.html")
    assert "sanctuary_noncooperation" in subtopic_ids(result)
    assert "detention" not in subtopic_ids(result)


# -- the page retelling the seed article --------------------------------------------


@pytest.fixture(scope="module")
def seed_page(tagger: Tagger) -> TagResult:
    result, _ = _tagged(tagger, SEED_PAGE)
    assert result.relevant and result.score >= 0.9
    return result


def test_seed_pagesubtopic_ids(seed_page: TagResult) -> None:
    assert subtopic_ids(seed_page) >= SEED_SUBTOPICS


def test_seed_page_agencies(seed_page: TagResult) -> None:
    agencies = facts_by_name(seed_page.facts, "agency")
    assert set(agencies) >= SEED_AGENCIES
    assert agencies["Saline County Sheriff's Office"].attrs["state"] == "Arkansas"
    assert agencies["ICE Boston"].attrs["parent"] == "ICE"


def test_seed_page_programs_and_operation(seed_page: TagResult) -> None:
    assert set(facts_by_name(seed_page.facts, "program")) >= SEED_PROGRAMS
    assert set(facts_by_name(seed_page.facts, "operation")) == SEED_OPERATIONS


def test_seed_page_places(seed_page: TagResult) -> None:
    places = facts_by_name(seed_page.facts, "place")
    for state in SEED_STATES:
        assert places[state].attrs["level"] == "state"
    assert places["Saline County"].attrs["level"] == "county"
    assert places["Saline County"].attrs["state"] == "Arkansas"
    assert places["Boston"].attrs["level"] == "city"
    assert places["Boston"].attrs["state"] == "Massachusetts"
    assert places["Brazil"].attrs["level"] == "country" and places["Brazil"].attrs["foreign"]
    assert not any(p.attrs.get("foreign") for name, p in places.items() if name != "Brazil")


def test_seed_page_counts(seed_page: TagResult) -> None:
    counts = _counts(seed_page.facts)
    [arrests] = counts[("1120", "arrests")]
    assert arrests["unit"] == "count" and arrests["approximate"] is False
    assert arrests["state"] == "Florida"
    assert arrests["operation"] == "Operation Tidal Wave"
    assert arrests["agency"] == "ICE"
    [agreements] = counts[("600", "agreements")]
    assert agreements["qualifier"] == "nearly" and agreements["approximate"] is True
    assert agreements["program"] == "287(g) program"
    assert ("0.75", "arrests") not in counts  # three-quarters is a share, not a count
    [share] = [f.attrs for f in seed_page.facts if f.kind == "share"]
    assert share["of"] == "arrests" and share["unit"] == "share"
