"""What one pass of the tagger over an item's fields found, and the shapes it is kept in.

`Tagger._scan` fills a `Scan`: rule hits and, per sentence, field and item, the context
concepts present; the rules' context checks then read it (`Scan.context`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from operator import itemgetter
from typing import TYPE_CHECKING, NamedTuple

from policy_news.tagging.sentences import Sentences

if TYPE_CHECKING:
    from policy_news.tagging.taxonomy import Rule

SHOUT_MIN_LETTERS = 12
RULE, CONCEPT, MASK = 0, 1, 2  # what an automaton entry stands for
NO_CONCEPTS: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class Entry:
    kind: int  # RULE, CONCEPT or MASK
    owner: int
    exact: str | None
    prefix: bool


@dataclass(frozen=True, slots=True)
class CompiledRule:
    rule: Rule
    topic: int  # 0 is relevance, i + 1 is subtopic i
    require: tuple[int, ...]
    exclude: tuple[int, ...]
    exclude_unless: tuple[int, ...]
    item_exclude: tuple[int, ...]
    item_exclude_unless: tuple[int, ...]
    article_require: tuple[int, ...]
    fields: frozenset[int]
    # No context to check: every hit counts.
    unconditional: bool = False


class KeyPlan(NamedTuple):
    """The value stored for one automaton key (see `Tagger._key_plan`)."""

    keylen: int
    plain: tuple[int, ...]  # concepts matched as whole words only
    prefixed: tuple[int, ...]  # concepts matched as the start of a word ("deport*")
    rules: tuple[tuple[tuple[int, bool, str | None], ...], ...]  # per field: rule, prefix, exact
    special: tuple[Entry, ...]  # masks and case-sensitive concepts
    has_prefix: bool


class Hit(NamedTuple):
    rule: int
    field: int
    start: int
    end: int
    sent: int


FIELD_START = itemgetter(1, 2)  # a Hit's (field, start)


@dataclass
class Scan:
    """What one pass over the fields of an item found, before context checks."""

    texts: list[str]
    sentences: list[Sentences | None]
    # `sentences.fold` of each field (accents kept), for the facts pass.
    lowered: list[str] = field(default_factory=lambda: ["", "", ""])
    rule_hits: list[tuple[int, int, int, int, bool]] = field(default_factory=list)
    # The concepts found in each sentence ((field, sentence index)), in each field, anywhere.
    sentence_concepts: dict[tuple[int, int], set[int]] = field(default_factory=dict)
    field_concepts: list[set[int]] = field(default_factory=lambda: [set(), set(), set()])
    item_concepts: set[int] = field(default_factory=set)
    shouting: dict[tuple[int, int], bool] = field(default_factory=dict)
    contexts: dict[tuple[int, int, str], frozenset[int] | set[int]] = field(default_factory=dict)

    def sents(self, f: int) -> Sentences:
        found = self.sentences[f]
        if found is None:
            found = self.sentences[f] = Sentences(self.texts[f])
        return found

    def is_shouting(self, f: int, si: int) -> bool:
        key = (f, si)
        cached = self.shouting.get(key)
        if cached is None:
            cached = self.shouting[key] = shouting(self.sents(f), si)
        return cached

    def context(self, f: int, si: int, scope: str) -> frozenset[int] | set[int]:
        """The concepts present around sentence `si` of field `f`, as far as `scope` reaches."""
        key = (f, si, scope)
        found = self.contexts.get(key)
        if found is not None:
            return found
        by_sentence = self.sentence_concepts
        if scope == "sentence":
            found = by_sentence.get((f, si), NO_CONCEPTS)
        elif scope == "neighbourhood":
            if f < 2:
                # A headline and its one-line summary are read as one context.
                found = self.field_concepts[0] | self.field_concepts[1]
            else:
                found = set().union(
                    by_sentence.get((f, si - 1), NO_CONCEPTS),
                    by_sentence.get((f, si), NO_CONCEPTS),
                    by_sentence.get((f, si + 1), NO_CONCEPTS),
                )
        elif scope == "field":
            found = self.field_concepts[f]
        else:
            found = self.item_concepts
        self.contexts[key] = found
        return found


def shouting(sents: Sentences, si: int) -> bool:
    """An all-caps sentence ("DANCING ON ICE") says nothing about case-sensitive acronyms."""
    start, end = sents.span(si)
    segment = sents.text[start:end]
    upper = sum(map(str.isupper, segment))
    if upper < SHOUT_MIN_LETTERS:
        return False
    return upper / (upper + sum(map(str.islower, segment))) > 0.8
