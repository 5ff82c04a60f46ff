"""Listed names in one Aho-Corasick pass: agencies, programs, places and number words.

One automaton over every name is far cheaper than a regex per name, and its
leftmost-longest choice settles overlaps the way a reader does ("Homeland Security
Investigations" is HSI, not DHS; "three-quarters" is a share, not a three).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import ahocorasick

from policy_news.tagging.facts.found import Found
from policy_news.tagging.facts.lexicon import Agency, Program, get_lexicon
from policy_news.tagging.facts.numbers import number_table
from policy_news.tagging.places import place_index
from policy_news.tagging.sentences import fold


@dataclass(frozen=True)
class _Alias:
    kind: str  # agency | program | place | number
    canonical: str
    exact: str | None  # case-sensitive surface form
    level: str = ""


@functools.lru_cache(maxsize=1)
def _automaton() -> Any:
    """One automaton for every listed name: agencies, programs, numbers, places."""
    lexicon = get_lexicon()
    table: dict[str, list[_Alias]] = {}

    def add(surface: str, alias: _Alias) -> None:
        table.setdefault(fold(surface), []).append(alias)

    named: list[tuple[str, str, Agency | Program]] = [
        *(("agency", name, entry) for name, entry in lexicon.agencies.items()),
        *(("program", name, entry) for name, entry in lexicon.programs.items()),
    ]
    for kind, canonical, entry in named:
        for a in entry.exact:
            add(a, _Alias(kind, canonical, a))
        for a in entry.aliases:
            add(a, _Alias(kind, canonical, None))
    for word in number_table().words:
        add(word, _Alias("number", word, None))
    for name, level in place_index().names():
        # Place names are proper nouns: require the capitalised form.
        add(name, _Alias("place", name, name, level))
    automaton = ahocorasick.Automaton()
    for key, entries in table.items():
        automaton.add_word(key, (len(key), tuple(entries)))
    automaton.make_automaton()
    return automaton


def dictionary_hits(
    f: int, text: str, lowered: str | None = None
) -> tuple[list[Found], list[tuple[int, int]]]:
    """Leftmost-longest names, and the spans of number words for the count pass.

    `lowered` is `fold(text)` when the caller already has it."""
    if lowered is None:
        lowered = fold(text)
    n = len(lowered)
    candidates: list[tuple[int, int, _Alias]] = []
    for last, (keylen, aliases) in _automaton().iter(lowered):
        start, end = last - keylen + 1, last + 1
        if (start > 0 and lowered[start - 1].isalnum()) or (end < n and lowered[end].isalnum()):
            continue
        for alias in aliases:
            if alias.exact is None or text[start:end] == alias.exact:
                candidates.append((start, end, alias))
                break
    candidates.sort(key=lambda c: (c[0], -(c[1] - c[0])))
    agencies = get_lexicon().agencies
    found: list[Found] = []
    numbers: list[tuple[int, int]] = []
    taken_until = -1
    for start, end, alias in candidates:
        if start < taken_until:
            continue
        taken_until = end
        value = text[start:end]
        if alias.kind == "number":
            numbers.append((start, end))
        elif alias.kind == "place":
            rule = f"fact-place-{alias.level}"
            attrs = {"level": alias.level}
            found.append(Found("place", value, alias.canonical, f, start, end, rule, attrs))
        elif alias.kind == "agency":
            attrs = agencies[alias.canonical].attrs()
            found.append(
                Found("agency", value, alias.canonical, f, start, end, "fact-agency", attrs)
            )
        else:
            found.append(Found("program", value, alias.canonical, f, start, end, "fact-program"))
    return found, numbers
