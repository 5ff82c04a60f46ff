"""How a number is reported: who claims it, and whether it is a running total.

"ICE said it made 1,000 arrests" and "advocates said 1,000 people were detained"
are different facts to an analyst, and so are "300 arrests on Monday" and "5,000
arrests since January": adding totals to incidents double-counts. Both are read
from the number's own sentence.
"""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from policy_news.tagging.facts.lexicon import get_lexicon

if TYPE_CHECKING:
    from policy_news.tagging.facts.found import Found

# A claim verb after the number attributes it only as the sentence's closing tag:
# "..., officials said." or "..., ICE said Monday." - not "which ICE said is ...".
_CLOSING_TAG = re.compile(r"\s*(?:\w+\s*){0,2}[.!?\"”'’)]*\s*$")
_CLAUSE_BREAK = re.compile(r"[;,:—–]")
_CAPITALISED = re.compile(r"[A-Z]")
_NAME_BEFORE_VERB = re.compile(r"((?:[A-Z][\w.'’-]*\s+){0,2}[A-Z][\w.'’-]*)\s+$")
_SUBJECT_WINDOW = 60
_SOURCE_WORDS = 6


@dataclass(frozen=True)
class _ClaimWords:
    according_to: re.Pattern[str]
    verb: re.Pattern[str]
    nouns: dict[str, str]
    noun_re: re.Pattern[str]
    cumulative: re.Pattern[str] | None


def _alt(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


@functools.lru_cache(maxsize=1)
def _claim_words() -> _ClaimWords:
    lexicon = get_lexicon()
    claims = lexicon.claims
    nouns = {k.lower(): v for k, v in claims.nouns.items()}
    return _ClaimWords(
        according_to=re.compile(rf"(?i)\b(?:{_alt(claims.according_to)})\s+"),
        verb=re.compile(rf"(?i)\b(?:{_alt(claims.verbs)})\b"),
        nouns=nouns,
        noun_re=re.compile(rf"(?i)\b({_alt(list(nouns))})\b"),
        # One pass for all markers: they are alternatives of one question.
        cumulative=re.compile(
            "|".join(f"(?:{p})" for p in lexicon.cumulative_markers), re.IGNORECASE
        )
        if lexicon.cumulative_markers
        else None,
    )


def mark_claims(numbers: list[Found], same: list[Found], text: str, span: tuple[int, int]) -> None:
    """Set `claimant` and `cumulative` on the counts and shares of one sentence.

    `same` is everything found in the sentence, `text` its field and `span` its offsets.
    """
    words = _claim_words()
    start, end = span
    sentence = text[start:end]
    agencies = [y for y in same if y.kind == "agency"]
    claims = _claims(sentence, start, agencies, words)
    for x in numbers:
        claimant = _claimant_for(x, claims, end, text)
        if claimant:
            x.attrs["claimant"] = claimant
    counts = [x for x in numbers if x.kind == "count"]
    if counts:
        for x in _cumulative(counts, sentence, start, words):
            x.attrs["cumulative"] = True


@dataclass(frozen=True)
class _Claim:
    who: str
    start: int  # of the claim verb or "according to", in the field
    end: int
    according: bool


def _claims(sentence: str, offset: int, agencies: list[Found], words: _ClaimWords) -> list[_Claim]:
    out: list[_Claim] = []
    for m in words.according_to.finditer(sentence):
        who = _who_after(sentence, m.end(), offset, agencies, words)
        if who:
            out.append(_Claim(who, offset + m.start(), offset + m.end(), True))
    for m in words.verb.finditer(sentence):
        who = _who_before(sentence, m.start(), offset, agencies, words) or _agency_after(
            m.end(), offset, agencies
        )
        if who:
            out.append(_Claim(who, offset + m.start(), offset + m.end(), False))
    return out


def _who_after(
    sentence: str, pos: int, offset: int, agencies: list[Found], words: _ClaimWords
) -> str | None:
    """The source named after "according to": an agency, a kind of speaker, or a name."""
    phrase = _CLAUSE_BREAK.split(sentence[pos : pos + 80], maxsplit=1)[0]
    inside = [a for a in agencies if offset + pos <= a.start < offset + pos + len(phrase)]
    if inside:
        return min(inside, key=lambda a: a.start).normalized
    bare = phrase[4:] if phrase[:4].lower() == "the " else phrase
    noun = words.noun_re.match(phrase) or words.noun_re.match(bare)
    if noun:
        return words.nouns[noun.group(1).lower()]
    # Else the source as written, when it is named ("Tucson human rights groups").
    if not _CAPITALISED.match(bare):
        return None
    return " ".join(bare.split()[:_SOURCE_WORDS]).rstrip(".!?\"”'’)") or None


def _who_before(
    sentence: str, pos: int, offset: int, agencies: list[Found], words: _ClaimWords
) -> str | None:
    """The subject right before a claim verb: "ICE said", "advocates said", "Homan said"."""
    window_start = max(0, pos - _SUBJECT_WINDOW)
    window = _CLAUSE_BREAK.split(sentence[window_start:pos])[-1]
    window_start = pos - len(window)
    close = [a for a in agencies if offset + window_start <= a.start and a.end <= offset + pos]
    if close:
        return max(close, key=lambda a: a.end).normalized
    nouns = list(words.noun_re.finditer(window))
    if nouns:
        return words.nouns[nouns[-1].group(1).lower()]
    name = _NAME_BEFORE_VERB.search(window)
    if name and not window[: name.start()].strip():
        # Only a name that is the whole subject ("Homan said"), not "In March he said".
        return name.group(1)
    return None


def _agency_after(pos: int, offset: int, agencies: list[Found]) -> str | None:
    """'"...", said ICE spokeswoman Jane Doe': the agency right after the verb."""
    after = [a for a in agencies if 0 <= a.start - (offset + pos) <= 2]
    return after[0].normalized if after else None


def _claimant_for(x: Found, claims: list[_Claim], sentence_end: int, text: str) -> str | None:
    """A claim before the number, anywhere in the sentence; after it, only a closing tag."""
    usable = [
        c
        for c in claims
        if c.according
        or c.end <= x.start
        or (c.start >= x.end and _CLOSING_TAG.match(text[c.end : sentence_end]))
    ]
    according = [c for c in usable if c.according]
    best = min(according or usable, key=lambda c: abs(c.start - x.start), default=None)
    return best.who if best else None


def _cumulative(counts: list[Found], sentence: str, offset: int, words: _ClaimWords) -> list[Found]:
    """Counts a marker ("since January", "so far this year") makes running totals.

    A marker speaks for the counts of its clause; a clause of its own ("Since January,
    ICE has made 5,000 arrests") speaks for the whole sentence.
    """
    if words.cumulative is None:
        return []
    marked: list[Found] = []
    bounds: list[int] = []
    for m in words.cumulative.finditer(sentence):
        if not bounds:
            breaks = (b.end() for b in _CLAUSE_BREAK.finditer(sentence))
            bounds = [0, *breaks, len(sentence) + 1]
        clause = next((a, b) for a, b in itertools.pairwise(bounds) if a <= m.start() < b)
        inside = [x for x in counts if clause[0] <= x.start - offset < clause[1]]
        marked += inside or counts
    return marked
