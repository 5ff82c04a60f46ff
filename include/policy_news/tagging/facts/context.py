"""What surrounds a fact: the state of a city or county, and a count's agency, place,
operation and program, taken from its own sentence."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from policy_news.tagging.facts.found import Found
    from policy_news.tagging.places import PlaceIndex

SentenceKey = tuple[int, int]  # (field, sentence index)
NUMBER_KINDS = ("count", "share")

_STATE_AFTER_COMMA = re.compile(r",\s*([A-Z][a-z]+\.?(?: [A-Z][a-z]+\.?)?)")


def nearest(items: list[Found], pos: int) -> Found | None:
    return min(items, key=lambda x: abs(x.start - pos), default=None)


def resolve_places(
    found: list[Found],
    texts: list[str],
    index: PlaceIndex,
    sentence_of: Callable[[Found], SentenceKey],
) -> None:
    """Give counties and cities their state: the one named nearby, else in the item,
    else the likeliest."""
    states_by_sentence: dict[SentenceKey, list[str]] = {}
    doc_states: list[str] = []
    for x in found:
        if x.kind == "place" and x.attrs.get("level") == "state":
            name = index.states[x.normalized].name
            x.normalized = name
            x.attrs["state"] = name
            states_by_sentence.setdefault(sentence_of(x), []).append(name)
            doc_states.append(name)
    for x in found:
        if x.kind == "place" and x.attrs.get("level") == "city":
            candidates = index.cities.get(x.normalized, ())
            after = texts[x.field][x.end : x.end + 20]
            state = _state_after_comma(after, index)
            choice = _pick_state(
                [c.state for c in candidates if c.state],
                state,
                states_by_sentence.get(sentence_of(x), []),
                doc_states,
            )
            x.attrs["state"] = choice
        elif x.kind in ("place", "agency") and x.attrs.get("level") == "county":
            county = x.attrs.get("county", x.normalized)
            options = list(index.counties.get(county, ()))
            x.attrs["state"] = _pick_state(
                options, None, states_by_sentence.get(sentence_of(x), []), doc_states
            )
        elif x.kind == "place" and x.attrs.get("level") == "country":
            x.attrs["foreign"] = True
    for x in found:
        if x.attrs.get("state") is None:
            x.attrs.pop("state", None)


def _state_after_comma(after: str, index: PlaceIndex) -> str | None:
    m = _STATE_AFTER_COMMA.match(after)
    if not m:
        return None
    for size in (2, 1):
        name = " ".join(m.group(1).split()[:size])
        if name in index.states:
            return index.states[name].name
    return None


def _pick_state(
    options: list[str], explicit: str | None, sentence_states: list[str], doc_states: list[str]
) -> str | None:
    if explicit and (not options or explicit in options):
        return explicit
    for pool in (sentence_states, doc_states):
        for state in pool:
            if state in options:
                return state
    return options[0] if options else None


def by_sentence(
    found: list[Found], sentence_of: Callable[[Found], SentenceKey]
) -> dict[SentenceKey, list[Found]]:
    grouped: dict[SentenceKey, list[Found]] = {}
    for x in found:
        grouped.setdefault(sentence_of(x), []).append(x)
    return grouped


def attach_context(
    found: list[Found],
    grouped: dict[SentenceKey, list[Found]],
    sentence_of: Callable[[Found], SentenceKey],
) -> None:
    """A count or share gets the agency, place, operation and program named in its sentence."""
    for x in found:
        if x.kind not in NUMBER_KINDS:
            continue
        same = grouped[sentence_of(x)]
        agency = nearest([y for y in same if y.kind == "agency"], x.start)
        if agency:
            x.attrs["agency"] = agency.normalized
        operation = nearest([y for y in same if y.kind == "operation"], x.start)
        if operation:
            x.attrs["operation"] = operation.normalized
        program = nearest([y for y in same if y.kind == "program"], x.start)
        if program:
            x.attrs["program"] = program.normalized
        places = [y for y in same if y.kind == "place" and not y.attrs.get("foreign")]
        state = nearest([y for y in places if y.attrs.get("level") == "state"], x.start)
        local = nearest([y for y in places if y.attrs.get("level") in ("city", "county")], x.start)
        if state:
            x.attrs["state"] = state.normalized
        if local:
            x.attrs["place"] = local.normalized
            if local.attrs.get("state"):
                # Keep place and state consistent: El Paso's state, not New Mexico's
                # named later in the sentence.
                x.attrs["state"] = local.attrs["state"]
