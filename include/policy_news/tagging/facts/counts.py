"""Counts and shares: a number, what it counts, and how exact the text says it is.

"nearly 600 signed agreements" is a count of agreements, qualified "nearly";
"three-quarters of ICE arrests" is a share of arrests, never a count of 0.75 arrests.
A number whose phrase names nothing we count (a year, an age, "$15,000") is dropped:
a wrong count in an analyst's table is worse than a missing one.

Normalised values: a count is the number as a plain decimal; a vague amount
("hundreds") is its lower bound from the lexicon with `approximate` and
`lower_bound`; a range ("between 200 and 300") is its low end with `low` and
`high`; a share is a fraction of one (0.75).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from policy_news.tagging.facts.found import Found
from policy_news.tagging.facts.lexicon import get_lexicon
from policy_news.tagging.facts.numbers import Number, read_numbers

_WORD_RE = re.compile(r"[\w'’()-]+|[.,;:!?]")
_NOUN_WINDOW = 5
# "a 37-year-old", "30 days": durations and ages, not counts.
_DURATIONS = ("-year", " year", "-day", " day", "-month", " month")


@dataclass(frozen=True)
class _CountWords:
    qualifier_before: re.Pattern[str]
    qualifiers: dict[str, str]
    not_one_before: re.Pattern[str]
    nouns: dict[str, str]
    breaks: frozenset[str]


def _alt(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


@functools.lru_cache(maxsize=1)
def _count_words() -> _CountWords:
    lexicon = get_lexicon()
    qualifiers: dict[str, str] = {k.lower(): v for k, v in lexicon.qualifiers.items()}
    return _CountWords(
        qualifier_before=re.compile(rf"(?i)(?:^|\W)({_alt(list(qualifiers))})\s+$"),
        qualifiers=qualifiers,
        not_one_before=re.compile(rf"(?i)(?:^|\W)(?:{_alt(lexicon.not_one_before)})\s+$"),
        nouns={k.lower(): v for k, v in lexicon.counted_nouns.items()},
        breaks=frozenset(w.lower() for w in lexicon.phrase_breaks),
    )


def count_hits(f: int, text: str, number_words: list[tuple[int, int]]) -> list[Found]:
    """Count and share facts of one field; `number_words` are the spans names.py found."""
    words = _count_words()
    found: list[Found] = []
    for n in read_numbers(text, number_words):
        start, end = n.start, n.end
        if n.word == "one" and (
            text.startswith(" of ", end)
            or words.not_one_before.search(text, max(0, start - 12), start)
        ):
            continue
        qual_m = words.qualifier_before.search(text, max(0, start - 25), start)
        qual = words.qualifiers[qual_m.group(1).lower()] if qual_m else None
        if qual_m:
            start = qual_m.start(1)
        if _is_year(n) and not qual:
            continue
        tail = text[end : end + 80]
        if tail.startswith(_DURATIONS):
            continue
        noun = _counted_noun(tail, words, share=n.kind == "share")
        if noun is None:
            continue
        found.append(_fact(n, f, text[start:end], start, noun, qual))
    return found


def _is_year(n: Number) -> bool:
    raw = n.digits
    return (
        bool(raw)
        and "," not in raw
        and "." not in raw
        and 1900 <= int(raw) <= 2100
        and not n.scaled
        and not n.percent
    )


def _fact(n: Number, f: int, value: str, start: int, noun: str, qual: str | None) -> Found:
    attrs: dict[str, Any] = {
        "of" if n.kind == "share" else "counts": noun,
        "unit": "share" if n.kind == "share" else "count",
        "approximate": n.approximate or qual is not None,
    }
    if qual:
        attrs["qualifier"] = qual
    if n.kind == "vague":
        attrs["lower_bound"] = True
    if n.low is not None and n.high is not None:
        attrs["low"], attrs["high"] = _plain(n.low, n.kind), _plain(n.high, n.kind)
    if n.kind == "share":
        return Found("share", value, _share_text(n.value), f, start, n.end, "fact-share", attrs)
    return Found("count", value, _number_text(n.value), f, start, n.end, "fact-count", attrs)


def _plain(value: float, kind: str) -> float | int:
    if kind == "share":
        return round(value, 4)
    return int(value) if value == int(value) else value


def _number_text(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


def _share_text(value: float) -> str:
    return f"{value:.4f}".rstrip("0").rstrip(".")


def _counted_noun(tail: str, words: _CountWords, share: bool) -> str | None:
    """The noun a number counts: the first counted noun of the phrase the number starts.

    "600 signed agreements" -> agreements; shares may say "of X" ("40% of detainees").
    The phrase ends at punctuation, a verb or a preposition, so a noun later in the
    sentence ("600 signed up with ICE to help with arrests") is never taken.
    """
    for word in _WORD_RE.findall(tail)[: _NOUN_WINDOW + (3 if share else 0)]:
        if word in ".,;:!?":
            return None
        lowered = word.lower()
        noun = words.nouns.get(lowered)
        if noun:
            return noun
        if lowered in words.breaks or _unlisted_plural(word):
            return None
    return None


def _unlisted_plural(word: str) -> bool:
    """A lowercase plural we do not list ("two managers face charges") is the head noun
    itself: what follows it is not what the number counts."""
    return (
        len(word) > 3
        and word.islower()
        and word.isalpha()
        and word.endswith("s")
        and not word.endswith(("ss", "us", "is", "ous"))
    )
