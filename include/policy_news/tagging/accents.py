"""Accents folded away, one character for one, so offsets in the folded text stay offsets.

"deportación", "detención" and "Patrulla Fronteriza" match however a newsroom (or its
CMS) writes the accents.
"""

from __future__ import annotations

import re
import unicodedata

from policy_news.tagging.sentences import fold


def _accent_table() -> dict[int, str]:
    """Latin letters with diacritics -> their base letter, one character for one."""
    table: dict[int, str] = {}
    for code in range(0xC0, 0x250):
        decomposed = unicodedata.normalize("NFD", chr(code))
        base = decomposed[0]
        if len(decomposed) > 1 and base.isascii() and base.isalpha():
            table[code] = base
    return table


_ACCENTS = _accent_table()
# English copy rarely has an accent, so look for one before replacing any.
_ACCENTED = re.compile("[" + "".join(map(chr, sorted(_ACCENTS))) + "]")


# In UTF-8 every character of U+00C0-U+024F starts with one of the bytes C3-C9 (which no
# other byte of a character can be), and `in` finds a byte much faster than a regex
# finds a character of a class.
_ACCENT_LEAD_BYTES = tuple(bytes([b]) for b in range(0xC3, 0xCA))


def fold_accents(text: str) -> str:
    """`sentences.fold` (lowercase, straight apostrophes) without diacritics."""
    return strip_accents(fold(text))


def strip_accents(lowered: str) -> str:
    if lowered.isascii():
        return lowered
    encoded = lowered.encode("utf-8", "surrogatepass")
    if not any(b in encoded for b in _ACCENT_LEAD_BYTES) or not _ACCENTED.search(lowered):
        return lowered
    # Only the accented letters are replaced: `str.translate` with a dict table looks up
    # every character (milliseconds for an article), the regex jumps between accents.
    return _ACCENTED.sub(_base_letter, lowered)


def _base_letter(m: re.Match[str]) -> str:
    return _ACCENTS[ord(m.group())]
