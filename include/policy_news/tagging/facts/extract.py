"""All facts of one item: find, place, attach context, then one fact per mention."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from policy_news.models import Evidence, Fact
from policy_news.tagging.facts.claims import mark_claims
from policy_news.tagging.facts.context import (
    NUMBER_KINDS,
    SentenceKey,
    attach_context,
    by_sentence,
    resolve_places,
)
from policy_news.tagging.facts.counts import count_hits
from policy_news.tagging.facts.entities import OUTER_RULES, pattern_hits
from policy_news.tagging.facts.found import FIELDS, Found
from policy_news.tagging.facts.names import dictionary_hits
from policy_news.tagging.places import place_index

if TYPE_CHECKING:
    from collections.abc import Callable

    from policy_news.tagging.sentences import Sentences

_KIND_ORDER = {"agency": 0, "program": 1, "operation": 2, "place": 3}


def extract_facts(
    texts: list[str], sentences: Callable[[int], Sentences], lowered: list[str] | None = None
) -> list[Fact]:
    """All facts of an item, deduplicated: one per named thing, one per number mention.

    `texts` are title, summary and text; `sentences(i)` splits `texts[i]`; `lowered`, when
    the caller has it, is `sentences.fold` of each text.
    """
    index = place_index()
    found: list[Found] = []
    for f, text in enumerate(texts):
        if text:
            names, number_words = dictionary_hits(f, text, lowered[f] if lowered else None)
            found += names
            found += pattern_hits(f, text, index)
            found += count_hits(f, text, number_words)
    if not found:
        return []
    found = _drop_overlaps(found)
    sent_cache: dict[tuple[int, int], int] = {}

    def sentence_of(x: Found) -> SentenceKey:
        key = (x.field, x.start)
        if key not in sent_cache:
            sent_cache[key] = sentences(x.field).index(x.start)
        return x.field, sent_cache[key]

    resolve_places(found, texts, index, sentence_of)
    grouped = by_sentence(found, sentence_of)
    attach_context(found, grouped, sentence_of)
    for (f, si), same in grouped.items():
        numbers = [x for x in same if x.kind in NUMBER_KINDS]
        if numbers:
            mark_claims(numbers, same, texts[f], sentences(f).span(si))
    return _dedupe(found, sentences, sentence_of)


def _drop_overlaps(found: list[Found]) -> list[Found]:
    """A name inside a longer pattern name is part of it: "ICE" in "ICE Boston" is not a
    separate mention. Places are kept (Saline County is both an office and a place), but a
    city inside a county's name ("Montgomery" in "Montgomery County") is the county."""
    counties = [x for x in found if x.kind == "place" and x.attrs.get("level") == "county"]
    if counties:
        found = [
            x
            for x in found
            if not (
                x.kind == "place"
                and x.attrs.get("level") == "city"
                and any(
                    c.field == x.field and c.start <= x.start and x.end <= c.end for c in counties
                )
            )
        ]
    outer = [x for x in found if x.rule_id in OUTER_RULES]
    if not outer:
        return found
    kept = [
        x
        for x in found
        if x.kind == "place"
        or x.rule_id in OUTER_RULES
        or not any(o.field == x.field and o.start <= x.start and x.end <= o.end for o in outer)
    ]
    kept.sort(key=lambda x: (x.field, x.start))
    return kept


def _dedupe(
    found: list[Found],
    sentences: Callable[[int], Sentences],
    sentence_of: Callable[[Found], SentenceKey],
) -> list[Fact]:
    first: dict[tuple[str, str], Found] = {}
    mentions: dict[tuple[str, str], int] = {}
    numbers: list[Found] = []
    seen_numbers: set[tuple[Any, ...]] = set()
    for x in found:
        if x.kind in NUMBER_KINDS:
            # One fact per mention: a headline or standfirst repeated as the first lines of
            # the article text is the same mention, not a second one.
            fi, si = sentence_of(x)
            said = " ".join(sentences(fi).sentence(si).split()).lower()
            what = x.attrs.get("counts") or x.attrs.get("of")
            mention = (x.kind, x.normalized, what, said)
            if mention not in seen_numbers:
                seen_numbers.add(mention)
                numbers.append(x)
            continue
        key = (x.kind, x.normalized)
        mentions[key] = mentions.get(key, 0) + 1
        first.setdefault(key, x)
    named = sorted(first.values(), key=lambda x: (_KIND_ORDER[x.kind], x.field, x.start))
    facts: list[Fact] = []
    for x in named + numbers:
        attrs = dict(x.attrs)
        if x.kind not in NUMBER_KINDS:
            attrs["mentions"] = mentions[(x.kind, x.normalized)]
        fi, si = sentence_of(x)
        evidence = Evidence(sentences(fi).sentence(si), x.start, x.end, x.rule_id, FIELDS[fi])
        facts.append(Fact(x.kind, x.value, x.normalized, evidence, attrs))
    return facts
