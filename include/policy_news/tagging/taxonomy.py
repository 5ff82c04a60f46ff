"""The topic taxonomy: a versioned YAML file analysts edit, validated on load.

Analysts change rules without touching code, so every mistake must be reported
with the topic and rule it sits in ("subtopic 'detention', rule 'det-facility':
pattern ... does not compile") rather than as a bare pydantic trace.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from policy_news.yaml_files import read_yaml

if TYPE_CHECKING:
    from pathlib import Path

Scope = Literal["sentence", "neighbourhood", "field", "document"]
FieldName = Literal["title", "summary", "text"]

_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")

# Subtopic ids are the topic guide's; a typo would silently create an unlabelled topic.
GUIDE_SUBTOPICS: tuple[str, ...] = (
    "arrests_operations",
    "local_cooperation_287g",
    "sanctuary_noncooperation",
    "detention",
    "removal_deportation",
    "border",
    "worksite",
    "status_restrictions",
    "use_of_force",
    "protest_politics",
    "courts_litigation",
    "crime_gangs",
)


class TaxonomyError(ValueError):
    """The taxonomy file cannot be used; the message says where and why."""


class _Model(BaseModel):
    # Unknown keys are almost always typos ("exlcude"), so refuse them.
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_terms(terms: list[str]) -> list[str]:
    cleaned: list[str] = []
    for term in terms:
        if not isinstance(term, str) or not term.strip():
            raise ValueError("terms must be non-empty strings")
        body = term.strip()
        if body.rstrip("*") == "" or "*" in body.rstrip("*"):
            raise ValueError(f"term {term!r}: '*' is only allowed at the end of a term")
        cleaned.append(body)
    return cleaned


class Concept(_Model):
    """A named list of words used as context by rules (e.g. `immigration`, `us_anchor`)."""

    description: str = ""
    terms: list[str] = Field(default_factory=list)
    exact_terms: list[str] = Field(default_factory=list)
    builtin: list[Literal["us_states", "countries"]] = Field(default_factory=list)
    include: list[str] = Field(default_factory=list)

    _terms = field_validator("terms", "exact_terms")(_check_terms)


def _all_fields() -> list[FieldName]:
    return ["title", "summary", "text"]


class Rule(_Model):
    """One way evidence is found: terms or patterns, plus context that must (not) be near."""

    id: str
    description: str = ""
    terms: list[str] = Field(default_factory=list)
    exact_terms: list[str] = Field(default_factory=list)
    patterns: list[str] = Field(default_factory=list)
    weight: float = Field(default=1.0, ge=-10, le=10)
    require: list[str] = Field(default_factory=list)
    require_scope: Scope = "sentence"
    exclude: list[str] = Field(default_factory=list)
    exclude_scope: Scope = "sentence"
    exclude_unless: list[str] = Field(default_factory=list)
    # Whole-item exclusion, e.g. a story only about another country: skipped when the item
    # mentions one of `item_exclude` and none of `item_exclude_unless`.
    item_exclude: list[str] = Field(default_factory=list)
    item_exclude_unless: list[str] = Field(default_factory=list)
    # Whole-article context: for an item with article text, ALL of these concepts must
    # occur somewhere in it (title, summary or text). A headline is too short to ask this
    # of, so headline-only items are not checked ("ICE" in a travel story with no
    # immigration word anywhere is the train, not the agency).
    article_require: list[str] = Field(default_factory=list)
    fields: list[FieldName] = Field(default_factory=lambda: _all_fields())

    _terms = field_validator("terms", "exact_terms")(_check_terms)

    @field_validator("id")
    @classmethod
    def _id_format(cls, value: str) -> str:
        if not _ID_RE.match(value):
            raise ValueError(f"rule id {value!r} must be lowercase letters, digits, '-' or '_'")
        return value

    @model_validator(mode="after")
    def _has_something_to_match(self) -> Rule:
        if self.weight == 0:
            raise ValueError("weight 0 does nothing; remove the rule or give it a weight")
        if not (self.terms or self.exact_terms or self.patterns):
            raise ValueError("needs at least one of terms, exact_terms or patterns")
        return self


class Topic(_Model):
    """The relevance topic or one subtopic: a score built from its rules' hits."""

    id: str
    label: str = ""
    covers: str = ""
    threshold: float = Field(default=0.5, gt=0, lt=1)
    scale: float = Field(default=1.0, gt=0)
    rules: list[Rule]


class ScoringSettings(_Model):
    """How hits become scores; kept in the file so a version pins its behaviour."""

    title_boost: float = Field(default=1.5, gt=0)
    summary_boost: float = Field(default=1.2, gt=0)
    repeat_decay: float = Field(default=0.5, ge=0, le=1)
    max_hits_per_rule: int = Field(default=6, ge=1)
    length_norm_sentences: int = Field(default=12, ge=1)
    length_norm_power: float = Field(default=0.5, ge=0, le=1)
    subtopic_min_share: float = Field(default=0.0, ge=0, le=1)
    # A subtopic below `subtopic_min_share` is still kept when it is more than a passing
    # mention: evidence in at least `subtopic_keep_sentences` different sentences adding
    # up to at least `subtopic_keep_total` (None: the share alone decides).
    subtopic_keep_total: float | None = Field(default=None, gt=0)
    subtopic_keep_sentences: int = Field(default=2, ge=1)


class Calibration(_Model):
    """How a relevance score becomes an estimated probability of relevance.

    A logistic fit of the analysts' labels on the score (`python -m policy_news.tagging.evaluate
    --fit-calibration` prints the figures); it belongs to a version, because any rule
    change moves the scores.
    """

    method: Literal["logistic"] = "logistic"
    slope: float = Field(gt=0)
    intercept: float
    # Items whose probability falls inside [low, high] are flagged `needs_review`.
    review_band: tuple[float, float] = (0.35, 0.65)
    fitted_on: str = ""

    @field_validator("review_band")
    @classmethod
    def _band_is_ordered(cls, band: tuple[float, float]) -> tuple[float, float]:
        low, high = band
        if not 0.0 <= low < high <= 1.0:
            raise ValueError(
                f"review_band {list(band)} must be [low, high] with 0 <= low < high <= 1"
            )
        return band

    def probability(self, score: float) -> float:
        z = self.slope * score + self.intercept
        # Split by sign so exp never overflows for extreme parameters.
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        ez = math.exp(z)
        return ez / (1.0 + ez)

    def needs_review(self, probability: float) -> bool:
        low, high = self.review_band
        return low <= probability <= high


class Taxonomy(_Model):
    """The whole file."""

    _masks = field_validator("masks")(_check_terms)

    version: str
    name: str
    description: str = ""
    scoring: ScoringSettings = ScoringSettings()
    masks: list[str] = Field(default_factory=list)
    concepts: dict[str, Concept] = Field(default_factory=dict)
    relevance: Topic
    subtopics: list[Topic]
    calibration: Calibration | None = None

    @property
    def subtopic_ids(self) -> list[str]:
        return [t.id for t in self.subtopics]

    def definition(self) -> dict[str, Any]:
        """The file as plain data, stored with the version so old tags stay explainable."""
        return self.model_dump(mode="json")


def _where(loc: tuple[int | str, ...], raw: dict[str, Any]) -> str:
    """Turn a pydantic location into "subtopic 'x', rule 'y'" using ids from the raw data."""
    parts: list[str] = []
    node: Any = raw
    i = 0
    while i < len(loc):
        key = loc[i]
        try:
            child = node[key] if node is not None else None
        except (KeyError, IndexError, TypeError):
            child = None
        if key in ("subtopics", "rules") and i + 1 < len(loc):
            index = loc[i + 1]
            try:
                item = child[index] if child is not None else None
            except (KeyError, IndexError, TypeError):
                item = None
            ident = item.get("id") if isinstance(item, dict) else None
            label = "subtopic" if key == "subtopics" else "rule"
            parts.append(f"{label} {ident!r}" if ident else f"{label} #{index}")
            node = item
            i += 2
            continue
        if key == "relevance":
            parts.append("relevance")
        elif key == "concepts" and i + 1 < len(loc):
            parts.append(f"concept {loc[i + 1]!r}")
            node = child[loc[i + 1]] if isinstance(child, dict) else None
            i += 2
            continue
        else:
            parts.append(str(key))
        node = child
        i += 1
    return ", ".join(parts) if parts else "taxonomy"


def _semantic_errors(tax: Taxonomy) -> list[str]:
    """Checks that need the whole file: ids, concept references, regexes, guide subtopics."""
    errors: list[str] = []
    seen_rules: dict[str, str] = {}
    topics = [("relevance", tax.relevance)] + [(f"subtopic {t.id!r}", t) for t in tax.subtopics]
    subtopic_ids = [t.id for t in tax.subtopics]
    for dup in sorted({i for i in subtopic_ids if subtopic_ids.count(i) > 1}):
        errors.append(f"subtopic {dup!r}: defined more than once")
    unknown = sorted(set(subtopic_ids) - set(GUIDE_SUBTOPICS))
    missing = [s for s in GUIDE_SUBTOPICS if s not in subtopic_ids]
    if unknown:
        errors.append(f"subtopics {unknown} are not in the topic guide {list(GUIDE_SUBTOPICS)}")
    if missing:
        errors.append(f"subtopics {missing} from the topic guide are missing")
    for name, concept in tax.concepts.items():
        for other in concept.include:
            if other not in tax.concepts:
                errors.append(f"concept {name!r}: includes unknown concept {other!r}")
            elif tax.concepts[other].include:
                errors.append(f"concept {name!r}: included concept {other!r} has includes itself")
        if not (concept.terms or concept.exact_terms or concept.builtin or concept.include):
            errors.append(f"concept {name!r}: has no terms")
    for where, topic in topics:
        for rule in topic.rules:
            at = f"{where}, rule {rule.id!r}"
            if rule.id in seen_rules:
                errors.append(f"{at}: rule id already used in {seen_rules[rule.id]}")
            seen_rules[rule.id] = where
            for name in (
                *rule.require,
                *rule.exclude,
                *rule.exclude_unless,
                *rule.item_exclude,
                *rule.item_exclude_unless,
                *rule.article_require,
            ):
                if name not in tax.concepts:
                    errors.append(f"{at}: unknown concept {name!r} (known: {sorted(tax.concepts)})")
            for pattern in rule.patterns:
                try:
                    compiled = re.compile(pattern)
                except re.error as exc:
                    errors.append(f"{at}: pattern {pattern!r} does not compile ({exc})")
                    continue
                if compiled.groups:
                    errors.append(
                        f"{at}: pattern {pattern!r} has capturing groups; use (?:...) instead"
                    )
                elif compiled.match(""):
                    errors.append(f"{at}: pattern {pattern!r} matches the empty string")
    return errors


def parse_taxonomy(raw: Any, source: str = "<taxonomy>") -> Taxonomy:
    """Validate already-parsed YAML data; raise TaxonomyError listing every problem."""
    if not isinstance(raw, dict):
        raise TaxonomyError(f"{source}: expected a mapping at the top level")
    try:
        tax = Taxonomy.model_validate(raw)
    except ValidationError as exc:
        lines = [f"{_where(err['loc'], raw)}: {err['msg']}" for err in exc.errors()]
        raise TaxonomyError(f"{source}: invalid taxonomy\n  " + "\n  ".join(lines)) from None
    errors = _semantic_errors(tax)
    if errors:
        raise TaxonomyError(f"{source}: invalid taxonomy\n  " + "\n  ".join(errors))
    return tax


def load_taxonomy(path: Path) -> Taxonomy:
    """Read and validate a taxonomy file."""
    return parse_taxonomy(read_yaml(path, "taxonomy", TaxonomyError), str(path))
