"""Tag an article for US immigration enforcement and its subtopics, with evidence.

One Aho-Corasick automaton holds every term of the taxonomy (rule terms and
context concepts), so a field is scanned once whatever the number of rules; the
rare regex patterns are joined into one alternation. Rules are then checked
against the context words found in the same pass (a sentence, its neighbours,
the field or the whole item), which is how "ICE the train" or a border between
two other countries is told apart from immigration enforcement.
"""

from __future__ import annotations

import functools
import math
import re
from bisect import bisect_right
from collections import defaultdict
from itertools import accumulate
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ahocorasick

from policy_news.models import Evidence, SubtopicTag, TagResult
from policy_news.settings import get_settings
from policy_news.tagging import places
from policy_news.tagging.accents import fold_accents, strip_accents
from policy_news.tagging.scan import (
    CONCEPT,
    FIELD_START,
    MASK,
    RULE,
    CompiledRule,
    Entry,
    Hit,
    KeyPlan,
    Scan,
)
from policy_news.tagging.sentences import fold
from policy_news.tagging.taxonomy import Taxonomy, load_taxonomy

if TYPE_CHECKING:
    from policy_news.models import Fact

FIELDS: tuple[str, ...] = ("title", "summary", "text")

# The rest of a word (`str.isalnum` characters: \w without "_"), for "deport*" terms.
_WORD_TAIL = re.compile(r"[^\W_]*")


# Neighbours are not "elsewhere"; Georgia is also a state, and Chad, Jordan and
# Turkey are more often a first name or a bird.
_NOT_ELSEWHERE = frozenset({"MX", "CA", "GE", "TD", "JO", "TR"})


def _builtin_terms(name: str) -> list[str]:
    """Word lists that come from packages rather than the YAML (states, countries)."""
    if name == "us_states":
        return places.us_state_names()
    if name == "countries":
        foreign = places.foreign_countries()
        return sorted(n for code, n in foreign.items() if code not in _NOT_ELSEWHERE)
    raise ValueError(f"unknown builtin word list {name!r}")


class Tagger:
    """A compiled taxonomy. Build once (`from_path` / `get_tagger`), then call `tag` often."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy
        self.version = taxonomy.version
        self.subtopic_ids: list[str] = taxonomy.subtopic_ids
        self._topics = [taxonomy.relevance, *taxonomy.subtopics]
        self._concept_index = {name: i for i, name in enumerate(taxonomy.concepts)}
        self._rules: list[CompiledRule] = []
        for t, topic in enumerate(self._topics):
            for rule in topic.rules:
                self._rules.append(
                    CompiledRule(
                        rule=rule,
                        topic=t,
                        require=tuple(self._concept_index[c] for c in rule.require),
                        exclude=tuple(self._concept_index[c] for c in rule.exclude),
                        exclude_unless=tuple(self._concept_index[c] for c in rule.exclude_unless),
                        item_exclude=tuple(self._concept_index[c] for c in rule.item_exclude),
                        item_exclude_unless=tuple(
                            self._concept_index[c] for c in rule.item_exclude_unless
                        ),
                        article_require=tuple(self._concept_index[c] for c in rule.article_require),
                        fields=frozenset(FIELDS.index(f) for f in rule.fields),
                        unconditional=not (
                            rule.require
                            or rule.exclude
                            or rule.article_require
                            or rule.item_exclude
                        ),
                    )
                )
        self._rule_fields = [r.fields for r in self._rules]
        self._automaton = self._build_automaton()
        self._pattern, self._pattern_rules = self._build_patterns()
        s = taxonomy.scoring
        self._boost = (s.title_boost, s.summary_boost, 1.0)

    @classmethod
    def from_path(cls, path: Path | None = None) -> Tagger:
        """Load the taxonomy at `path` (default: the configured taxonomy file)."""
        return cls(load_taxonomy(path or get_settings().taxonomy_path))

    # -- building ---------------------------------------------------------

    def _build_automaton(self) -> Any:
        table: dict[str, list[Entry]] = defaultdict(list)

        def add(term: str, kind: int, owner: int, exact: bool) -> None:
            prefix = term.endswith("*")
            body = term.rstrip("*")
            table[fold_accents(body)].append(Entry(kind, owner, body if exact else None, prefix))

        for term in self.taxonomy.masks:
            add(term, MASK, -1, False)
        concepts = self.taxonomy.concepts
        for name, concept in concepts.items():
            ci = self._concept_index[name]
            # Included concepts contribute their words (one level deep, checked on load).
            parts = [concept, *(concepts[other] for other in concept.include)]
            for part in parts:
                terms = list(part.terms)
                for builtin in part.builtin:
                    terms += _builtin_terms(builtin)
                for term in terms:
                    add(term, CONCEPT, ci, False)
                for term in part.exact_terms:
                    add(term, CONCEPT, ci, True)
        for ri, compiled in enumerate(self._rules):
            for term in compiled.rule.terms:
                add(term, RULE, ri, False)
            for term in compiled.rule.exact_terms:
                add(term, RULE, ri, True)
        automaton = ahocorasick.Automaton()
        for key, entries in table.items():
            automaton.add_word(key, self._key_plan(len(key), entries))
        automaton.make_automaton()
        return automaton

    def _key_plan(self, keylen: int, entries: list[Entry]) -> KeyPlan:
        """What a match of one automaton key yields, sorted out once here rather than
        per match: concepts grouped by how their end is found, and per field the rules
        that may match there (in entry order, which decides ties between equal hits)."""
        plain = tuple(
            e.owner for e in entries if e.kind == CONCEPT and not e.exact and not e.prefix
        )
        prefixed = tuple(e.owner for e in entries if e.kind == CONCEPT and not e.exact and e.prefix)
        rules = tuple(
            tuple(
                (e.owner, e.prefix, e.exact)
                for e in entries
                if e.kind == RULE and f in self._rule_fields[e.owner]
            )
            for f in range(len(FIELDS))
        )
        special = tuple(e for e in entries if e.kind == MASK or (e.kind == CONCEPT and e.exact))
        has_prefix = any(e.prefix for e in entries)
        return KeyPlan(keylen, plain, prefixed, rules, special, has_prefix)

    def _build_patterns(self) -> tuple[re.Pattern[str] | None, dict[str, int]]:
        parts: list[str] = []
        owners: dict[str, int] = {}
        literals: list[str | None] = []
        for ri, compiled in enumerate(self._rules):
            for pattern in compiled.rule.patterns:
                name = f"p{len(parts)}"
                owners[name] = ri
                parts.append(f"(?P<{name}>{pattern})")
                literals.append(_literal_prefix(pattern))
        # A pattern such as "\bOperation [A-Z]..." can only match where its fixed start
        # occurs; `in` finds out far faster than the regex engine trying every position.
        self._pattern_starts: tuple[str, ...] | None = (
            None if None in literals else tuple(x for x in literals if x is not None)
        )
        if not parts:
            return None, owners
        return re.compile("|".join(parts)), owners

    # -- scanning ---------------------------------------------------------

    def _scan(self, texts: list[str]) -> Scan:
        scan = Scan(texts=texts, sentences=[None] * len(texts))
        rule_hits = scan.rule_hits
        # (concept owners, field, start, end, exact): one group per automaton match.
        raw_concepts: list[tuple[tuple[int, ...], int, int, int, bool]] = []
        word_tail = _WORD_TAIL.match
        for f, text in enumerate(texts):
            if not text:
                continue
            scan.lowered[f] = fold(text)
            lowered = strip_accents(scan.lowered[f])
            n = len(lowered)
            masks: list[tuple[int, int]] = []
            first_rule, first_concept = len(rule_hits), len(raw_concepts)
            for last, (keylen, plain, prefixed, rules, special, has_prefix) in self._automaton.iter(
                lowered
            ):
                start = last - keylen + 1
                if start and lowered[start - 1].isalnum():
                    continue
                end = last + 1
                if end < n and lowered[end].isalnum():
                    # Inside a word: only "deport*"-like terms can match here.
                    if not has_prefix:
                        continue
                    bounded = False
                    word_end = word_tail(lowered, end).end()  # type: ignore[union-attr]
                else:
                    bounded = True
                    word_end = end
                if plain and bounded:
                    raw_concepts.append((plain, f, start, end, False))
                if prefixed:
                    raw_concepts.append((prefixed, f, start, word_end, False))
                field_rules = rules[f]
                if field_rules:
                    for owner, prefix, exact_text in field_rules:
                        if prefix:
                            hit_end = word_end
                        elif bounded:
                            hit_end = end
                        else:
                            continue
                        if exact_text is None:
                            rule_hits.append((owner, f, start, hit_end, False))
                        elif text[start:end] == exact_text:
                            rule_hits.append((owner, f, start, hit_end, True))
                if special:
                    for entry in special:
                        if entry.prefix:
                            hit_end = word_end
                        elif bounded:
                            hit_end = end
                        else:
                            continue
                        if entry.exact is not None and text[start:end] != entry.exact:
                            continue
                        if entry.kind == CONCEPT:
                            raw_concepts.append(((entry.owner,), f, start, hit_end, True))
                        else:
                            masks.append((start, hit_end))
            if self._pattern is not None and (
                self._pattern_starts is None or any(x in text for x in self._pattern_starts)
            ):
                for m in self._pattern.finditer(text):
                    ri = self._pattern_rules[m.lastgroup or ""]
                    if f in self._rules[ri].fields:
                        rule_hits.append((ri, f, m.start(), m.end(), False))
            if masks:
                # Words inside a masked name ("The Wall Street Journal", "New York Times")
                # are neither evidence nor context. A span is masked when a mask starting
                # at or before it reaches its end: sort the masks by start and keep, for
                # each, the furthest end reached so far.
                masks.sort()
                mask_starts = [ms for ms, _ in masks]
                reach = list(accumulate((me for _, me in masks), max))
                rule_hits[first_rule:] = [
                    h
                    for h in rule_hits[first_rule:]
                    if (i := bisect_right(mask_starts, h[2]) - 1) < 0 or reach[i] < h[3]
                ]
                raw_concepts[first_concept:] = [
                    c
                    for c in raw_concepts[first_concept:]
                    if (i := bisect_right(mask_starts, c[2]) - 1) < 0 or reach[i] < c[3]
                ]
        if rule_hits:
            starts = [scan.sents(f).starts if t else [] for f, t in enumerate(texts)]
            by_sentence = scan.sentence_concepts
            for owners, f, start, _, exact in raw_concepts:
                si = bisect_right(starts[f], start) - 1
                if exact and scan.is_shouting(f, si):
                    continue
                found = by_sentence.get((f, si))
                if found is None:
                    by_sentence[(f, si)] = set(owners)
                else:
                    found.update(owners)
            for (f, _), found in by_sentence.items():
                scan.field_concepts[f].update(found)
            scan.item_concepts.update(*scan.field_concepts)
        return scan

    def _context_ok(self, scan: Scan, rule: CompiledRule, f: int, si: int) -> bool:
        r = rule.rule
        if rule.require and not scan.context(f, si, r.require_scope).issuperset(rule.require):
            return False
        if rule.exclude:
            around = scan.context(f, si, r.exclude_scope)
            if not around.isdisjoint(rule.exclude) and around.isdisjoint(rule.exclude_unless):
                return False
        item = scan.item_concepts
        # An article must show the context somewhere; headlines are not asked.
        if rule.article_require and scan.texts[2] and not item.issuperset(rule.article_require):
            return False
        if rule.item_exclude and not item.isdisjoint(rule.item_exclude):
            return not item.isdisjoint(rule.item_exclude_unless)
        return True

    def _accepted_hits(self, scan: Scan) -> list[Hit]:
        hits: list[Hit] = []
        starts = [scan.sents(f).starts if t else [] for f, t in enumerate(scan.texts)]
        rules = self._rules
        # A rule's context is the same for every hit of it in one sentence.
        context_ok: dict[tuple[int, int, int], bool] = {}
        # Two terms of one rule can match the same words ("criticism" and "critic*"):
        # that is one piece of evidence, not two.
        seen: set[tuple[int, int, int, int]] = set()
        for ri, f, start, end, exact in scan.rule_hits:
            key4 = (ri, f, start, end)
            if key4 in seen:
                continue
            seen.add(key4)
            si = bisect_right(starts[f], start) - 1
            if exact and scan.is_shouting(f, si):
                continue
            rule = rules[ri]
            if rule.unconditional:
                ok = True
            else:
                key = (ri, f, si)
                found = context_ok.get(key)
                if found is None:
                    found = context_ok[key] = self._context_ok(scan, rule, f, si)
                ok = found
            if ok:
                hits.append(Hit(ri, f, start, end, si))
        return hits

    # -- scoring ----------------------------------------------------------

    def _topic_scores(self, hits: list[Hit], scan: Scan) -> dict[int, tuple[float, float, Hit]]:
        """Per topic: score (0-1), raw evidence total and the hit that best explains it."""
        s = self.taxonomy.scoring
        text_sents = len(scan.sentences[2]) if scan.sentences[2] is not None else 0
        text_norm = max(1.0, text_sents / s.length_norm_sentences) ** s.length_norm_power
        by_rule: dict[int, list[Hit]] = defaultdict(list)
        for hit in hits:
            by_rule[hit.rule].append(hit)
        totals: dict[int, float] = defaultdict(float)
        best: dict[int, tuple[float, Hit]] = {}
        for ri, rule_hits in by_rule.items():
            compiled = self._rules[ri]
            weight = compiled.rule.weight
            # What one hit is worth depends only on its field.
            worth = [
                abs(weight) * self._boost[f] / (text_norm if f == 2 else 1.0) for f in (0, 1, 2)
            ]
            # Count a rule once per sentence: a sentence repeating a word is not more evidence.
            seen: set[tuple[int, int]] = set()
            unique: list[Hit] = []
            rule_hits.sort(key=FIELD_START)
            for hit in rule_hits:
                where = (hit.field, hit.sent)
                if where not in seen:
                    seen.add(where)
                    unique.append(hit)
            values = sorted((worth[h.field] for h in unique), reverse=True)
            sign = 1.0 if weight > 0 else -1.0
            for k, value in enumerate(values[: s.max_hits_per_rule]):
                totals[compiled.topic] += sign * value * (s.repeat_decay**k)
            if weight < 0:
                continue  # counter-evidence lowers a score but never explains it
            # The best hit: the highest worth, then the earliest (field, start).
            top_value = values[0]
            top_hit = next(h for h in unique if worth[h.field] == top_value)
            current = best.get(compiled.topic)
            if current is None or (top_value, -top_hit.field, -top_hit.start) > (
                current[0],
                -current[1].field,
                -current[1].start,
            ):
                best[compiled.topic] = (top_value, top_hit)
        out: dict[int, tuple[float, float, Hit]] = {}
        for t, total in totals.items():
            if t not in best:
                continue
            score = 1.0 - math.exp(-max(total, 0.0) / self._topics[t].scale)
            out[t] = (round(score, 4), total, best[t][1])
        return out

    def _more_than_passing(self, scan: Scan, hits: list[Hit], topic: int, total: float) -> bool:
        """A subtopic overshadowed by the article's main one is kept when its own evidence
        is strong: enough of it, from several different sentences (a headline repeated as
        the article's first line is one sentence, not two)."""
        s = self.taxonomy.scoring
        if s.subtopic_keep_total is None or total < s.subtopic_keep_total:
            return False
        sentences: set[str] = set()
        for hit in hits:
            rule = self._rules[hit.rule]
            if rule.topic == topic and rule.rule.weight > 0:
                sentences.add(" ".join(scan.sents(hit.field).sentence(hit.sent).split()).lower())
                if len(sentences) >= s.subtopic_keep_sentences:
                    return True
        return False

    def _evidence(self, scan: Scan, hit: Hit) -> Evidence:
        sents = scan.sents(hit.field)
        return Evidence(
            sentence=sents.sentence(hit.sent),
            start=hit.start,
            end=hit.end,
            rule_id=self._rules[hit.rule].rule.id,
            field=FIELDS[hit.field],
        )

    # -- public -----------------------------------------------------------

    def tag(self, title: str, summary: str | None = None, text: str | None = None) -> TagResult:
        """Tag one item: a headline (+ summary) or a full article."""
        from policy_news.tagging.facts import extract_facts  # facts import places data lazily

        texts = [title or "", summary or "", text or ""]
        scan = self._scan(texts)
        if not scan.rule_hits:
            return self._result(False, 0.0, [], [], None)
        hits = self._accepted_hits(scan)
        scores = self._topic_scores(hits, scan)
        rel_score, _, rel_hit = scores.get(0, (0.0, 0.0, None))
        relevant = rel_score >= self._topics[0].threshold
        subtopics: list[SubtopicTag] = []
        if relevant:
            passed = [
                t
                for t in range(1, len(self._topics))
                if t in scores and scores[t][0] >= self._topics[t].threshold
            ]
            # A long article touches many subtopics in passing; keep the ones it is about.
            top = max((scores[t][1] for t in passed), default=0.0)
            floor = top * self.taxonomy.scoring.subtopic_min_share if texts[2] else 0.0
            for t in passed:
                score, total, hit = scores[t]
                if total >= floor or self._more_than_passing(scan, hits, t, total):
                    subtopics.append(
                        SubtopicTag(self._topics[t].id, score, self._evidence(scan, hit))
                    )
        facts = extract_facts(texts, scan.sents, scan.lowered) if relevant else []
        evidence = self._evidence(scan, rel_hit) if rel_hit is not None else None
        return self._result(relevant, rel_score, subtopics, facts, evidence)

    def _result(
        self,
        relevant: bool,
        score: float,
        subtopics: list[SubtopicTag],
        facts: list[Fact],
        evidence: Evidence | None,
    ) -> TagResult:
        calibration = self.taxonomy.calibration
        if calibration is None:
            return TagResult(relevant, score, subtopics, facts, self.version, evidence)
        probability = round(calibration.probability(score), 4)
        return TagResult(
            relevant,
            score,
            subtopics,
            facts,
            self.version,
            evidence,
            probability=probability,
            needs_review=calibration.needs_review(probability),
        )


def _literal_prefix(pattern: str) -> str | None:
    """The text every match of `pattern` starts with (after zero-width anchors such as
    \\b), read from the parse `re` itself makes; None when there is none."""
    try:  # re's own parser is private: without it the pattern simply always runs
        from re import _constants as _re_constants  # type: ignore[attr-defined]
        from re import _parser as _re_parser  # type: ignore[attr-defined]

        parsed = _re_parser.parse(pattern)
    except (ImportError, re.error):
        return None
    if parsed.state.flags & re.IGNORECASE:
        return None
    chars: list[str] = []
    for op, arg in parsed.data:
        if op is _re_constants.AT and not chars:
            continue
        if op is not _re_constants.LITERAL:
            break
        chars.append(chr(arg))
    return "".join(chars) or None


@functools.lru_cache(maxsize=8)
def _cached_tagger(path: str, mtime_ns: int) -> Tagger:
    return Tagger.from_path(Path(path))


def get_tagger(path: Path | None = None) -> Tagger:
    """A shared Tagger per taxonomy file; editing the file yields a fresh one."""
    resolved = Path(path or get_settings().taxonomy_path).resolve()
    try:
        mtime = resolved.stat().st_mtime_ns
    except OSError:
        mtime = 0  # let load_taxonomy report the missing file with its own message
    return _cached_tagger(str(resolved), mtime)
