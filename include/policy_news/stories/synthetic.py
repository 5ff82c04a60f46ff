"""Deterministic rewrites of a text, as syndication produces them, for evaluation and tests.

Each variant is seeded by the source id and the variant number, so the same input
always gives the same rewrites. The edits mimic what outlets do to a wire story:
a new headline, their own header and footer boilerplate, a story cut after a few
paragraphs or extended with a related-links block, and a few changed words.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

_SENTENCE_END = re.compile(r"(?<=[.!?\"”])\s+(?=[A-Z“\"])")

HEADERS = (
    "By Staff and wire reports | Updated {n} minutes ago",
    "Listen to this article. Share on social media. Print this page.",
    "ADVERTISEMENT. Story continues below. Subscribe for unlimited access.",
    "From our partners: this story was first published by a regional news service.",
    "Local News | {n} min read | Sign up for our morning newsletter",
)
FOOTERS = (
    "Copyright {year} by the publisher. All rights reserved. This material may not be "
    "published, broadcast, rewritten or redistributed without permission.",
    "Have a news tip? Email our newsroom or call the tip line any time of day.",
    "Related coverage: more stories from this section, most read today, and our "
    "weekend picks chosen by editors.",
    "This article was updated with additional reporting. Comments are closed on this story.",
    "Follow us on social media for breaking news alerts and download our free app.",
)
APPENDED = (
    "Editor's note: an earlier version of this story misstated the day of the week. It "
    "has been corrected.",
    "Reporters from our partner stations contributed to this report, which will be "
    "updated as more information becomes available.",
)
SUBSTITUTES = {
    "said": "stated",
    "says": "states",
    "people": "individuals",
    "officials": "authorities",
    "about": "roughly",
    "after": "following",
    "before": "prior to",
    "during": "amid",
    "also": "additionally",
    "but": "however",
    "many": "numerous",
    "help": "assist",
}
HEADLINE_PREFIXES = ("WATCH:", "UPDATE:", "Report:", "Local angle:", "Explainer:")


@dataclass(frozen=True)
class Rewrite:
    """A rewritten copy of `source_id`; `changes` says what was done to it."""

    article_id: str
    source_id: str
    title: str
    text: str
    changes: tuple[str, ...]


def sentences(text: str) -> list[str]:
    """Sentences split at end punctuation followed by a capital (good enough for news)."""
    return [part for part in _SENTENCE_END.split(text.strip()) if part]


def _edit_words(text: str, rng: random.Random, share: float) -> str:
    words = text.split(" ")
    for i, word in enumerate(words):
        if rng.random() >= share:
            continue
        bare = word.strip(".,;:!?\"'").lower()
        if bare in SUBSTITUTES:
            words[i] = word.lower().replace(bare, SUBSTITUTES[bare])
        elif len(words[i]) > 3 and rng.random() < 0.5:
            words[i] = ""  # a dropped word, as copy editors trim
    return " ".join(w for w in words if w)


def _headline(title: str, rng: random.Random) -> str:
    words = title.split()
    cut = max(3, len(words) - rng.randint(1, 3))
    return f"{rng.choice(HEADLINE_PREFIXES)} {' '.join(words[:cut])}"


def rewrite(source_id: str, title: str, text: str, variant: int) -> Rewrite:
    """One of five kinds of rewrite (variant modulo 5), each with a new headline."""
    rng = random.Random(f"{source_id}/{variant}")
    parts = sentences(text)
    kind = variant % 5
    changes = ["headline"]
    if kind in (0, 4):
        header = rng.choice(HEADERS).format(n=rng.randint(2, 59))
        footer = rng.choice(FOOTERS).format(year=rng.randint(2024, 2026))
        parts = [header, *parts, footer]
        changes.append("boilerplate")
    if kind in (1, 4) and len(parts) > 4:
        keep = max(3, round(len(parts) * rng.uniform(0.7, 0.85)))
        parts = parts[:keep]
        changes.append("trimmed")
    if kind == 2:
        parts = [*parts, *rng.sample(APPENDED, 2)]
        changes.append("appended")
    body = " ".join(parts)
    if kind in (3, 4):
        body = _edit_words(body, rng, 0.04)
        changes.append("word edits")
    return Rewrite(
        f"{source_id}~v{variant}", source_id, _headline(title, rng), body, tuple(changes)
    )


def rewrites(source_id: str, title: str, text: str, count: int = 5) -> list[Rewrite]:
    """`count` rewrites of one text, cycling through the kinds."""
    return [rewrite(source_id, title, text, variant) for variant in range(count)]
