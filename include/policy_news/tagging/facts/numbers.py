"""Numbers as written in news copy: digits, number words, vague amounts, shares, ranges.

"1,120", "1.5 million", "forty-two", "one hundred and twenty", "two dozen",
"doscientos cincuenta", "hundreds", "three-quarters", "between 200 and 300": each
becomes one `Number` with its value and how exact it is. What the number counts is
decided elsewhere (counts.py); this module only reads the number itself.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass

from policy_news.tagging.facts.lexicon import get_lexicon
from policy_news.tagging.sentences import fold

# r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?" with the first digit taken out of the
# alternation, so the engine skips to the next digit instead of trying each position.
_DIGITS_RE = re.compile(r"\d(?:\d{0,2}(?:,\d{3})+(?:\.\d+)?|\d*(?:\.\d+)?)")
# " and ", " to ", " y ", "-": anything longer between two numbers is no range.
_LONGEST_RANGE_GAP = 9


@dataclass(frozen=True)
class _Word:
    value: float
    part: str  # unit | tens | hundreds | multiplier | scale | vague | share
    # "a dozen", "un millón": the article stands for one. Spanish "mil" needs none.
    counted: bool = False
    approximate: bool = False


@dataclass(frozen=True)
class NumberTable:
    """Every number word (folded) and how words join into one number."""

    words: dict[str, _Word]
    joiners: frozenset[str]
    after_number: re.Pattern[str]
    digit_scales: dict[str, int]


@dataclass
class Number:
    start: int
    end: int
    value: float
    kind: str  # "count" | "vague" | "share"
    approximate: bool = False
    digits: str = ""  # the digits as written, when written in digits
    word: str = ""  # the folded word, when one word ("one", "hundreds")
    percent: bool = False
    scaled: bool = False  # "2 million": a range's low end takes its high end's scale
    low: float | None = None
    high: float | None = None


@functools.lru_cache(maxsize=1)
def number_table() -> NumberTable:
    lexicon = get_lexicon()
    words: dict[str, _Word] = {}
    joiners: set[str] = set()
    for lang in lexicon.numbers.values():
        for part in ("units", "tens", "hundreds", "multipliers", "scales"):
            for word, value in getattr(lang, part).items():
                words[fold(word)] = _Word(float(value), part.rstrip("s"))
        for word in lang.scale_alone:
            words[fold(word)] = _Word(float(lang.scales[word]), "scale", counted=True)
        for article in lang.indefinite:
            for part in ("multipliers", "scales"):
                for word, value in getattr(lang, part).items():
                    words[fold(f"{article} {word}")] = _Word(
                        float(value), part.rstrip("s"), counted=True
                    )
        joiners.update(fold(j) for j in lang.joiners)
    for word, value in lexicon.vague_numbers.items():
        words[fold(word)] = _Word(float(value), "vague", approximate=True)
    for word, share in lexicon.shares.items():
        words[fold(word)] = _Word(share, "share")
    for word, share in lexicon.approximate_shares.items():
        words[fold(word)] = _Word(share, "share", approximate=True)
    scales = "|".join(re.escape(s) for s in sorted(lexicon.digit_scales, key=len, reverse=True))
    percent = "|".join(re.escape(p) for p in lexicon.percent_words)
    after = re.compile(rf"(?:\s+(?P<scale>{scales})\b)?(?P<pct>\s*%|\s+(?:{percent})\b)?")
    return NumberTable(words, frozenset(joiners), after, dict(lexicon.digit_scales))


class _Phrase:
    """Number words joined into one number, accepted word by word.

    A word is refused when it cannot continue what came before ("two three",
    "hundred" with no number before it); the refused word may start the next number.
    """

    def __init__(self) -> None:
        self.total = 0.0
        self.current = 0.0
        self.last = ""
        self.last_scale = math.inf
        self.start = self.end = -1
        self.words = 0

    def accept(self, word: _Word, joined: bool) -> bool:
        part, value, last = word.part, word.value, self.last
        after_hundreds = last in ("hundred", "scale") or (
            last == "multiplier" and self.current >= 100
        )
        if joined and not (after_hundreds or (last == "ten" and part == "unit")):
            return False
        if part == "unit":
            ok = (
                not last
                or (last == "ten" and value < 10)
                or (after_hundreds and self.current % 100 == 0)
            )
            self.current += value
        elif part == "ten":
            ok = not last or (after_hundreds and self.current % 100 == 0)
            self.current += value
        elif part == "hundred":
            ok = not last or (last == "scale" and self.current == 0)
            self.current += value
        elif part == "multiplier":
            if word.counted:
                ok = not last
                self.current = value
            else:
                ok = last in ("unit", "ten") and self.current < 100
                self.current *= value
        elif part == "scale":
            if word.counted and not last:
                ok, amount = True, value
            else:
                ok, amount = last in ("unit", "ten", "hundred", "multiplier"), self.current * value
            ok = ok and value < self.last_scale
            self.total += amount
            self.current = 0.0
            self.last_scale = value
        else:
            ok = False
        if ok:
            self.last = part
        return ok

    @property
    def value(self) -> float:
        return self.total + self.current

    @property
    def closes(self) -> bool:
        """A dozen ends a number: "two dozen" is 24, "two dozen three" is not a number."""
        return self.last == "multiplier" and self.current < 100


def _word_numbers(text: str, spans: list[tuple[int, int]], table: NumberTable) -> list[Number]:
    out: list[Number] = []
    phrase: _Phrase | None = None

    def close() -> None:
        if phrase is not None and phrase.value > 0:
            single = phrase.words == 1
            key = fold(text[phrase.start : phrase.end]) if single else ""
            out.append(Number(phrase.start, phrase.end, phrase.value, "count", word=key))

    for start, end in spans:
        key = fold(text[start:end])
        word = table.words[key]
        if word.part in ("vague", "share"):
            close()
            phrase = None
            out.append(Number(start, end, word.value, word.part, word.approximate, word=key))
            continue
        if phrase is not None and not phrase.closes:
            gap = fold(text[phrase.end : start])
            joined = gap.strip() in table.joiners and gap.startswith(" ") and gap.endswith(" ")
            if (gap in (" ", "-") or joined) and _try(phrase, word, joined):
                phrase.end = end
                phrase.words += 1
                continue
        close()
        phrase = _Phrase()
        if _try(phrase, word, False):
            phrase.start, phrase.end, phrase.words = start, end, 1
        else:
            phrase = None
    close()
    return out


def _try(phrase: _Phrase, word: _Word, joined: bool) -> bool:
    """Accept `word` into `phrase`, leaving the phrase as it was when refused."""
    saved = (phrase.total, phrase.current, phrase.last, phrase.last_scale)
    if phrase.accept(word, joined):
        return True
    phrase.total, phrase.current, phrase.last, phrase.last_scale = saved
    return False


def read_numbers(text: str, word_spans: list[tuple[int, int]]) -> list[Number]:
    """The numbers of `text`, in order: digits found here, number words given by the caller."""
    table = number_table()
    found: list[Number] = []
    scale_words: set[int] = set()  # "million" in "1.5 million" belongs to the digits
    for m in _DIGITS_RE.finditer(text):
        start, end = m.span()
        if start > 0 and (text[start - 1].isalnum() or text[start - 1] in "$.,"):
            continue  # part of a word, an amount of money or a longer number
        after = table.after_number.match(text, end)
        stop = after.end() if after else end
        if after and after.group("scale"):
            scale_words.add(after.start("scale"))
        if stop < len(text) and (text[stop].isalnum() or text[stop] in "(_"):
            continue  # "287(g)", "3rd", "9/11"-like tokens are not counts
        value = float(m.group().replace(",", ""))
        scale = after.group("scale") if after else None
        if scale:
            value *= table.digit_scales[scale]
        pct = bool(after and after.group("pct"))
        found.append(
            Number(start, stop, value, "count", digits=m.group(), percent=pct, scaled=bool(scale))
        )
    free = [s for s in word_spans if s[0] not in scale_words]
    for n in _word_numbers(text, free, table):
        after = table.after_number.match(text, n.end)
        if after and after.group("pct") and not after.group("scale"):
            n.end, n.percent = after.end(), True
        if n.end < len(text) and text[n.end] in "(_":
            continue
        found.append(n)
    found.sort(key=lambda n: n.start)
    for n in found:
        if n.percent and n.kind == "count":
            n.kind, n.value = "share", n.value / 100.0
    return _merge_ranges(text, found)


def _word_before(text: str, pos: int) -> tuple[int, str]:
    m = re.search(r"(\w+)\s+$", text[max(0, pos - 20) : pos])
    if not m:
        return pos, ""
    return max(0, pos - 20) + m.start(1), m.group(1).lower()


def _range_start(text: str, low: Number, high: Number) -> int | None:
    """Where the range `low`..`high` starts in `text`, or None when they are no range."""
    gap = text[low.end : high.start]
    if len(gap) > _LONGEST_RANGE_GAP:
        return None
    ranges = get_lexicon().ranges
    joined = gap.strip().lower()
    word_start, before = _word_before(text, low.start)
    if ranges.between.get(before) == joined:
        return word_start
    if joined in ranges.to and len(gap) <= 5 and before not in ranges.not_after:
        return low.start
    return None


def _merge_ranges(text: str, numbers: list[Number]) -> list[Number]:
    """ "between 200 and 300", "200 to 300", "200-300": one number, the low end, with both ends.

    The low end takes the high end's scale and percent sign ("2 to 3 million", "20-30%").
    """
    out: list[Number] = []
    i = 0
    while i < len(numbers):
        low = numbers[i]
        high = numbers[i + 1] if i + 1 < len(numbers) else None
        merged = _as_range(text, low, high) if high is not None else None
        if merged is not None:
            out.append(merged)
            i += 2
            continue
        out.append(low)
        i += 1
    return out


def _as_range(text: str, low: Number, high: Number) -> Number | None:
    exact = ("count",)
    if not (low.kind in exact or low.percent) or not (high.kind in exact or high.percent):
        return None
    if low.percent and not high.percent:
        return None
    start = _range_start(text, low, high)
    if start is None:
        return None
    value = low.value
    if high.scaled and not low.scaled:
        value *= _scale_of(high)
    if high.percent and not low.percent:
        value /= 100.0
    if value >= high.value:
        return None  # "24-7", "300-200": not a range
    return Number(
        start,
        high.end,
        value,
        high.kind,
        approximate=True,
        digits=low.digits,
        percent=high.percent,
        low=value,
        high=high.value,
    )


def _scale_of(number: Number) -> float:
    """The factor a scale word gave `number` ("3 million" -> 1,000,000)."""
    digits = float(number.digits.replace(",", "")) if number.digits else 0.0
    return number.value / digits if digits else 1.0
