"""Names no list can hold: Operation X, X County Sheriff's Office, X Police Department.

Each shape is found by its fixed words ("County", "Sheriff", "Police Department"),
then the capitalised name before it is read backwards: far cheaper than a regex
that tries every capitalised word in an 800-word article.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from policy_news.tagging.facts.found import Found
from policy_news.tagging.facts.lexicon import get_lexicon

if TYPE_CHECKING:
    from policy_news.tagging.places import PlaceIndex

# A name found by pattern holds the listed names inside it ("ICE" in "ICE Boston").
OUTER_RULES = frozenset(
    {
        "fact-agency-sheriff",
        "fact-agency-state",
        "fact-agency-field-office",
        "fact-agency-local",
        "fact-operation",
    }
)

_COUNTY_ANCHOR = re.compile(r" (?:County|Parish)\b")
_SHERIFF_TAIL = re.compile(r" Sheriff(?:['’]?s)?(?: (?:Office|Department))?")
_POLICE_DEPT_ANCHOR = re.compile(r" Police Department\b")
_NAME_BEFORE = re.compile(r"(?:(?<=[^\w.'’-])|^)((?:[A-Z][a-z]+[ .'-]){0,2}[A-Z][a-z]+)$")
# The word boundary is checked behind the fixed words rather than before them ("\bICE"):
# a pattern that starts with its fixed words lets the engine jump from one occurrence to
# the next instead of trying every position of the article.
_ICE_OFFICE_RE = re.compile(r"ICE(?<=\bICE)(?: ERO)? (?P<office>[A-Z][a-z]+(?: [A-Z][a-z]+)?)\b")


@dataclass(frozen=True)
class _Shapes:
    operation: re.Pattern[str]
    operation_stop: frozenset[str]
    connectors: frozenset[str]
    state_unit: re.Pattern[str]
    leading_words: tuple[str, ...]


@functools.lru_cache(maxsize=1)
def _shapes() -> _Shapes:
    words = get_lexicon().entities
    connectors = "|".join(re.escape(w) for w in words.operation_connectors)
    units = "|".join(re.escape(u) for u in sorted(words.state_units, key=len, reverse=True))
    return _Shapes(
        operation=re.compile(
            rf"Operation (?<=\bOperation )(?P<name>[A-Z][\w'’-]*(?: (?:[A-Z][\w'’-]*|{connectors})){{0,3}})"
        ),
        operation_stop=frozenset(words.operation_stop_words),
        connectors=frozenset(words.operation_connectors),
        state_unit=re.compile(rf" (?P<unit>{units})\b"),
        leading_words=tuple(f"{w} " for w in words.leading_words),
    )


def _name_before(text: str, pos: int, leading: tuple[str, ...]) -> tuple[int, str] | None:
    """The capitalised name (1-3 words) ending just before `pos`, without a leading "The"."""
    m = _NAME_BEFORE.search(text, max(0, pos - 60), pos)
    if not m:
        return None
    name = m.group(1)
    stripped = next((name[len(w) :] for w in leading if name.startswith(w)), name)
    return m.start(1) + (len(name) - len(stripped)), stripped


def pattern_hits(f: int, text: str, index: PlaceIndex) -> list[Found]:
    shapes = _shapes()
    return (
        _operations(f, text, shapes)
        + _counties(f, text, index, shapes)
        + _state_units(f, text, index, shapes)
        + _police_departments(f, text, shapes)
        + _ice_field_offices(f, text, index)
    )


def _operations(f: int, text: str, shapes: _Shapes) -> list[Found]:
    found: list[Found] = []
    for m in shapes.operation.finditer(text):
        words = m.group("name").split()
        while words and words[-1] in shapes.connectors:
            words.pop()
        if not words or words[0] in shapes.operation_stop:
            continue
        name = "Operation " + " ".join(words)
        end = m.start() + len(name)
        found.append(
            Found("operation", text[m.start() : end], name, f, m.start(), end, "fact-operation")
        )
    return found


def _counties(f: int, text: str, index: PlaceIndex, shapes: _Shapes) -> list[Found]:
    """X County (a place, when it is a US county) and X County Sheriff's Office (an agency)."""
    found: list[Found] = []
    for m in _COUNTY_ANCHOR.finditer(text):
        before = _name_before(text, m.start(), shapes.leading_words)
        if before is None:
            continue
        start, first = before
        county = f"{first}{m.group(0)}"
        tail = _SHERIFF_TAIL.match(text, m.end())
        if tail:
            found.append(
                Found(
                    "agency",
                    text[start : tail.end()],
                    f"{county} Sheriff's Office",
                    f,
                    start,
                    tail.end(),
                    "fact-agency-sheriff",
                    {"level": "county", "county": county},
                )
            )
        if county.replace(".", "") in index.counties:
            found.append(
                Found(
                    "place",
                    text[start : m.end()],
                    county.replace(".", ""),
                    f,
                    start,
                    m.end(),
                    "fact-place-county",
                    {"level": "county"},
                )
            )
    return found


def _state_units(f: int, text: str, index: PlaceIndex, shapes: _Shapes) -> list[Found]:
    """ "Florida Highway Patrol", "Texas National Guard": state agencies."""
    found: list[Found] = []
    for m in shapes.state_unit.finditer(text):
        before = _name_before(text, m.start(), shapes.leading_words)
        state = index.states.get(before[1]) if before else None
        if before is None or state is None:
            continue
        found.append(
            Found(
                "agency",
                text[before[0] : m.end()],
                f"{state.name} {m.group('unit')}",
                f,
                before[0],
                m.end(),
                "fact-agency-state",
                {"level": "state", "state": state.name},
            )
        )
    return found


def _police_departments(f: int, text: str, shapes: _Shapes) -> list[Found]:
    found: list[Found] = []
    for m in _POLICE_DEPT_ANCHOR.finditer(text):
        before = _name_before(text, m.start(), shapes.leading_words)
        if before is None:
            continue
        found.append(
            Found(
                "agency",
                text[before[0] : m.end()],
                f"{before[1]} Police Department",
                f,
                before[0],
                m.end(),
                "fact-agency-local",
                {"level": "local", "city": before[1]},
            )
        )
    return found


def _ice_field_offices(f: int, text: str, index: PlaceIndex) -> list[Found]:
    found: list[Found] = []
    for m in _ICE_OFFICE_RE.finditer(text):
        office = m.group("office").split()
        # "ICE Boston" is a field office; "ICE Director" is not a place.
        for size in (len(office), 1):
            name = " ".join(office[:size])
            if name in index.cities or name in index.states:
                end = m.start("office") + len(name)
                found.append(
                    Found(
                        "agency",
                        text[m.start() : end],
                        f"ICE {name}",
                        f,
                        m.start(),
                        end,
                        "fact-agency-field-office",
                        {"parent": "ICE", "field_office": name},
                    )
                )
                break
    return found
