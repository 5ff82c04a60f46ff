"""Sentence spans for evidence: cheap, offset-preserving, good enough for news prose.

Evidence must point back into the stored field, so this never rewrites text; it
only finds where sentences start. News copy is full of "U.S.", "Gov." and
initials, which a naive split on ". " would cut in half.
"""

from __future__ import annotations

import re
from bisect import bisect_right

# Newline runs are matched without leading spaces: an optional leading \s* would make
# the engine try (and fail) a match at every character. The same as
# r"[.!?\u2026]+[\"'\u201d\u2019)\]]*\s+|\n\s*", written to start with one character
# class so the engine skips ahead to the next candidate instead of trying each position.
_BOUNDARY = re.compile(
    r"[.!?\u2026\n](?:(?<=[.!?\u2026])[.!?\u2026]*[\"'\u201d\u2019)\]]*\s+|(?<=\n)\s*)"
)
_ABBREVIATIONS = frozenset(
    [
        "u.s",
        "u.k",
        "u.n",
        "e.u",
        "d.c",
        "mr",
        "mrs",
        "ms",
        "dr",
        "gov",
        "sen",
        "rep",
        "st",
        "lt",
        "sgt",
        "gen",
        "col",
        "capt",
        "cmdr",
        "jr",
        "sr",
        "no",
        "vs",
        "inc",
        "co",
        "corp",
        "ltd",
        "jan",
        "feb",
        "mar",
        "apr",
        "aug",
        "sept",
        "sep",
        "oct",
        "nov",
        "dec",
        "a.m",
        "p.m",
        "i.c.e",
        "e.g",
        "i.e",
        "ft",
        "mt",
        "rev",
        "pres",
        "dept",
        "est",
        "approx",
    ]
)


def fold(text: str) -> str:
    """Lowercase without changing length, so offsets found in the fold are offsets in text.

    Also folds curly apostrophes to ASCII so "Sheriffs’" matches "sheriffs'".
    """
    lowered = text.lower()
    if len(lowered) != len(text):
        # A few characters (e.g. U+0130) lowercase to two code points; keep those as-is.
        lowered = "".join(ch.lower() if len(ch.lower()) == 1 else ch for ch in text)
    return lowered.replace("\u2019", "'").replace("\u2018", "'")


def sentence_starts(text: str) -> list[int]:
    """Start offsets of the sentences of `text` (always begins with 0)."""
    starts = [0]
    for m in _BOUNDARY.finditer(text):
        end = m.end()
        if end >= len(text):
            break
        if "\n" not in m.group():
            dot = m.start()
            if text[dot] == ".":
                word_start = dot
                while word_start > 0 and (
                    text[word_start - 1].isalpha() or text[word_start - 1] == "."
                ):
                    word_start -= 1
                word = text[word_start:dot].lower()
                if word in _ABBREVIATIONS or (len(word) == 1 and text[dot - 1].isupper()):
                    continue
            nxt = text[end]
            if nxt.islower():
                continue
        starts.append(end)
    return starts


class Sentences:
    """Sentence lookup for one field: index of an offset, and the sentence's text."""

    __slots__ = ("starts", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = sentence_starts(text)

    def __len__(self) -> int:
        return len(self.starts)

    def index(self, offset: int) -> int:
        return bisect_right(self.starts, offset) - 1

    def span(self, index: int) -> tuple[int, int]:
        start = self.starts[index]
        end = self.starts[index + 1] if index + 1 < len(self.starts) else len(self.text)
        return start, end

    def sentence(self, index: int) -> str:
        start, end = self.span(index)
        return self.text[start:end].strip()

    def sentence_at(self, offset: int) -> str:
        return self.sentence(self.index(offset))
