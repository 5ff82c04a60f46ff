"""The fact lexicon: agencies, programs and number words, a YAML file validated on load.

People add aliases and counted nouns without touching code, so a mistake must be
reported with the section and entry it sits in ("agencies 'ICE', field 'exact[0]':
...") rather than as a bare pydantic trace. Read once per process, at first use:
importing this module reads nothing.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from policy_news.settings import INCLUDE_DIR
from policy_news.yaml_files import read_yaml

if TYPE_CHECKING:
    from pathlib import Path

DEFAULT_LEXICON_PATH = INCLUDE_DIR / "taxonomy" / "lexicon.yaml"

Qualifier = Literal["nearly", "about", "more than", "at least", "fewer than", "up to"]


class LexiconError(ValueError):
    """The lexicon file cannot be used; the message says where and why."""


class _Model(BaseModel):
    # Unknown keys are almost always typos ("alises"), so refuse them.
    model_config = ConfigDict(extra="forbid", frozen=True)


def _non_empty(words: list[str]) -> list[str]:
    for word in words:
        if not word.strip():
            raise ValueError("words must be non-empty strings")
    return words


class Agency(_Model):
    exact: list[str] = Field(default_factory=list)  # case-sensitive: "ICE", not "ice"
    aliases: list[str] = Field(default_factory=list)
    name: str | None = None
    parent: str | None = None

    _words = field_validator("exact", "aliases")(_non_empty)

    def attrs(self) -> dict[str, str]:
        """What every mention of the agency carries."""
        out = {"name": self.name, "parent": self.parent}
        return {k: v for k, v in out.items() if v}


class Program(_Model):
    exact: list[str] = Field(default_factory=list)
    aliases: list[str] = Field(default_factory=list)

    _words = field_validator("exact", "aliases")(_non_empty)


class Entities(_Model):
    operation_stop_words: list[str]
    operation_connectors: list[str]
    state_units: list[str]
    leading_words: list[str]


def _in_range(words: dict[str, int], low: int, high: int, step: int) -> dict[str, int]:
    for word, value in words.items():
        if not (low <= value <= high and value % step == 0):
            raise ValueError(f"{word!r}: {value} is not a whole {step} from {low} to {high}")
    return words


class NumberWords(_Model):
    """One language's number words; see the file's comments for the parts."""

    units: dict[str, int]
    tens: dict[str, int]
    hundreds: dict[str, int] = Field(default_factory=dict)
    multipliers: dict[str, int] = Field(default_factory=dict)
    scales: dict[str, int] = Field(default_factory=dict)
    scale_alone: list[str] = Field(default_factory=list)
    joiners: list[str] = Field(default_factory=list)
    indefinite: list[str] = Field(default_factory=list)

    @field_validator("units")
    @classmethod
    def _units(cls, v: dict[str, int]) -> dict[str, int]:
        return _in_range(v, 1, 29, 1)

    @field_validator("tens")
    @classmethod
    def _tens(cls, v: dict[str, int]) -> dict[str, int]:
        return _in_range(v, 20, 90, 10)

    @field_validator("hundreds")
    @classmethod
    def _hundreds(cls, v: dict[str, int]) -> dict[str, int]:
        return _in_range(v, 100, 900, 100)

    @field_validator("multipliers")
    @classmethod
    def _multipliers(cls, v: dict[str, int]) -> dict[str, int]:
        return _in_range(v, 2, 999, 1)

    @field_validator("scales")
    @classmethod
    def _scales(cls, v: dict[str, int]) -> dict[str, int]:
        return _in_range(v, 1000, 10**12, 1000)


class Ranges(_Model):
    between: dict[str, str]  # opening word -> the word between the two numbers
    to: list[str]
    not_after: list[str]


class Claims(_Model):
    according_to: list[str]
    verbs: list[str]
    nouns: dict[str, str]


class Lexicon(_Model):
    version: int
    agencies: dict[str, Agency]
    programs: dict[str, Program]
    entities: Entities
    numbers: dict[str, NumberWords]
    digit_scales: dict[str, int]
    percent_words: list[str]
    vague_numbers: dict[str, int] = Field(default_factory=dict)
    shares: dict[str, float] = Field(default_factory=dict)
    approximate_shares: dict[str, float] = Field(default_factory=dict)
    qualifiers: dict[str, Qualifier]
    ranges: Ranges
    counted_nouns: dict[str, str]
    phrase_breaks: list[str]
    not_one_before: list[str]
    cumulative_markers: list[str] = Field(default_factory=list)
    claims: Claims

    @field_validator("vague_numbers")
    @classmethod
    def _positive(cls, v: dict[str, int]) -> dict[str, int]:
        for word, value in v.items():
            if value <= 0:
                raise ValueError(f"{word!r}: a vague number's lower bound must be > 0")
        return v

    @field_validator("shares", "approximate_shares")
    @classmethod
    def _fraction(cls, v: dict[str, float]) -> dict[str, float]:
        for word, value in v.items():
            if not 0 < value <= 1:
                raise ValueError(f"{word!r}: a share must be a fraction in (0, 1], not {value}")
        return v


def _where(loc: tuple[int | str, ...]) -> str:
    """A pydantic location as a person reads it: "agencies 'ICE', field 'exact[0]'"."""
    if not loc:
        return "lexicon"
    section, rest = str(loc[0]), list(loc[1:])
    if section in {"agencies", "programs", "numbers"} and rest:
        section = f"{section} {rest.pop(0)!r}"
    path = ""
    for part in rest:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    if not path:
        return section
    return f"{section}{path}" if path.startswith("[") else f"{section}, field {path!r}"


def _semantic_errors(lex: Lexicon) -> list[str]:
    """Checks across entries: one meaning per alias and number word, known references."""
    errors: list[str] = []
    owner: dict[str, str] = {}
    for section, entries in (("agencies", lex.agencies), ("programs", lex.programs)):
        for canonical, entry in entries.items():
            for alias in entry.aliases:
                key = alias.lower()
                other = owner.setdefault(key, f"{section} {canonical!r}")
                if other != f"{section} {canonical!r}":
                    errors.append(
                        f"{section} {canonical!r}, field 'aliases': {alias!r} is already "
                        f"an alias of {other}"
                    )
    for canonical, agency in lex.agencies.items():
        if agency.parent and agency.parent not in lex.agencies:
            errors.append(
                f"agencies {canonical!r}, field 'parent': {agency.parent!r} is not an agency"
            )
    seen: dict[str, str] = {}
    for lang, words in lex.numbers.items():
        for part in ("units", "tens", "hundreds", "multipliers", "scales"):
            for word in getattr(words, part):
                place = f"numbers {lang!r}, field '{part}'"
                if word.lower() in seen:
                    errors.append(f"{place}: {word!r} is also listed in {seen[word.lower()]}")
                seen[word.lower()] = place
        for word in words.scale_alone:
            if word not in words.scales:
                errors.append(f"numbers {lang!r}, field 'scale_alone': {word!r} is not a scale")
    for section in ("vague_numbers", "shares", "approximate_shares"):
        for word in getattr(lex, section):
            if word.lower() in seen:
                errors.append(f"{section}: {word!r} is also listed in {seen[word.lower()]}")
            seen[word.lower()] = section
    for i, pattern in enumerate(lex.cumulative_markers):
        try:
            compiled = re.compile(pattern, re.IGNORECASE)
        except re.error as exc:
            errors.append(f"cumulative_markers[{i}]: {pattern!r} does not compile ({exc})")
            continue
        if compiled.match(""):
            errors.append(f"cumulative_markers[{i}]: {pattern!r} matches the empty string")
    return errors


def parse_lexicon(raw: Any, source: str = "<lexicon>") -> Lexicon:
    """Validate already-parsed YAML data; raise LexiconError listing every problem."""
    if not isinstance(raw, dict):
        raise LexiconError(f"{source}: expected a mapping at the top level")
    try:
        lex = Lexicon.model_validate(raw)
    except ValidationError as exc:
        lines = [f"{_where(err['loc'])}: {err['msg']}" for err in exc.errors()]
        raise LexiconError(f"{source}: invalid lexicon\n  " + "\n  ".join(lines)) from None
    errors = _semantic_errors(lex)
    if errors:
        raise LexiconError(f"{source}: invalid lexicon\n  " + "\n  ".join(errors))
    return lex


def load_lexicon(path: Path) -> Lexicon:
    """Read and validate a lexicon file."""
    return parse_lexicon(read_yaml(path, "lexicon", LexiconError), str(path))


@functools.lru_cache(maxsize=1)
def get_lexicon() -> Lexicon:
    """The project's lexicon, read on first use and kept for the process."""
    return load_lexicon(DEFAULT_LEXICON_PATH)
