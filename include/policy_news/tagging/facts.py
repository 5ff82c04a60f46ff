"""Facts from relevant articles: agencies, programs, operations, places and counts.

Analysts query these rather than re-reading articles ("how many arrests did
Operation X report, by state"), so every fact is normalised (canonical agency
names, numbers as plain decimals, state names spelled out) and keeps its
evidence. Names come from one Aho-Corasick pass; the shapes a dictionary cannot
list (Operation X, X County Sheriff's Office, numbers) come from a few regexes.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ahocorasick

from policy_news.models import Evidence, Fact
from policy_news.tagging.places import PlaceIndex, place_index
from policy_news.tagging.sentences import Sentences, fold

if TYPE_CHECKING:
    from collections.abc import Callable

FIELDS = ("title", "summary", "text")
_OUTER_RULES = frozenset(
    {
        "fact-agency-sheriff",
        "fact-agency-state",
        "fact-agency-field-office",
        "fact-agency-local",
        "fact-operation",
    }
)

# canonical -> (case-sensitive aliases, case-insensitive aliases, attrs)
AGENCIES: dict[str, tuple[tuple[str, ...], tuple[str, ...], dict[str, str]]] = {
    "ICE": (
        ("ICE", "I.C.E."),
        ("immigration and customs enforcement", "u.s. immigration and customs enforcement"),
        {"name": "U.S. Immigration and Customs Enforcement", "parent": "DHS"},
    ),
    "ERO": (
        ("ERO",),
        ("enforcement and removal operations",),
        {"name": "Enforcement and Removal Operations", "parent": "ICE"},
    ),
    "HSI": (
        ("HSI",),
        ("homeland security investigations",),
        {"name": "Homeland Security Investigations", "parent": "ICE"},
    ),
    "CBP": (
        ("CBP",),
        ("customs and border protection", "u.s. customs and border protection"),
        {"name": "U.S. Customs and Border Protection", "parent": "DHS"},
    ),
    "Border Patrol": (
        ("USBP",),
        ("border patrol", "u.s. border patrol"),
        {"name": "U.S. Border Patrol", "parent": "CBP"},
    ),
    "DHS": (
        ("DHS",),
        (
            "department of homeland security",
            "homeland security department",
            "u.s. department of homeland security",
            "homeland security",
        ),
        {"name": "U.S. Department of Homeland Security"},
    ),
    "USCIS": (
        ("USCIS",),
        ("citizenship and immigration services", "u.s. citizenship and immigration services"),
        {"name": "U.S. Citizenship and Immigration Services", "parent": "DHS"},
    ),
    "DOJ": (
        ("DOJ",),
        ("justice department", "department of justice", "u.s. department of justice"),
        {"name": "U.S. Department of Justice"},
    ),
    "FBI": (
        ("FBI",),
        ("federal bureau of investigation",),
        {"name": "Federal Bureau of Investigation", "parent": "DOJ"},
    ),
    "EOIR": (
        ("EOIR",),
        ("executive office for immigration review",),
        {"name": "Executive Office for Immigration Review", "parent": "DOJ"},
    ),
    "U.S. Marshals Service": ((), ("u.s. marshals", "us marshals", "marshals service"), {}),
    "DEA": (("DEA",), ("drug enforcement administration",), {}),
    "ATF": (("ATF",), ("bureau of alcohol, tobacco, firearms and explosives",), {}),
    "State Department": ((), ("state department", "department of state"), {}),
    "National Guard": ((), ("national guard",), {}),
    "National Sheriffs' Association": (
        (),
        ("national sheriffs' association", "national sheriffs association"),
        {},
    ),
}

PROGRAMS: dict[str, tuple[str, ...]] = {
    "287(g) program": ("287(g)", "287(g) program", "287g", "287(g) agreements"),
    "287(g) Warrant Service Officer Program": (
        "287(g) warrant service officer program",
        "warrant service officer program",
        "warrant service officer model",
        "287(g) warrant service officer",
        "warrant service officer",
    ),
    "287(g) Task Force Model": ("287(g) task force model", "task force model"),
    "287(g) Jail Enforcement Model": ("287(g) jail enforcement model", "jail enforcement model"),
    "Secure Communities": ("secure communities",),
    "E-Verify": ("e-verify",),
    "DACA": ("deferred action for childhood arrivals",),
    "Temporary Protected Status": ("temporary protected status",),
    "CBP One": ("cbp one",),
    "Migrant Protection Protocols": ("migrant protection protocols", "remain in mexico"),
    "Title 42": ("title 42",),
    "Alien Enemies Act": ("alien enemies act",),
    "Alternatives to Detention": ("alternatives to detention",),
}
_EXACT_PROGRAMS = {"DACA": ("DACA",), "Temporary Protected Status": ("TPS",)}

_OPERATION_RE = re.compile(
    r"\bOperation (?P<name>[A-Z][\w'’-]*(?: (?:[A-Z][\w'’-]*|of|the|and|de|del|la)){0,3})"
)
_OPERATION_STOP = frozenset(
    [
        "Is",
        "Was",
        "Were",
        "Are",
        "Will",
        "Has",
        "Had",
        "In",
        "At",
        "On",
        "For",
        "To",
        "By",
        "As",
        "The",
        "A",
        "An",
        "And",
        "Of",
        "This",
        "That",
        "It",
    ]
)
# Each shape is found by its fixed word ("County", "Sheriff", "Police Department"), then
# the capitalised name before it is read backwards: far cheaper than a regex that
# tries every capitalised word in an 800-word article.
_COUNTY_ANCHOR = re.compile(r" (?:County|Parish)\b")
_SHERIFF_TAIL = re.compile(r" Sheriff(?:['’]?s)?(?: (?:Office|Department))?")
_STATE_UNIT_ANCHOR = re.compile(
    r" (?P<unit>State Police|State Patrol|Highway Patrol|National Guard"
    r"|Department of Public Safety)\b"
)
_POLICE_DEPT_ANCHOR = re.compile(r" Police Department\b")
_NAME_BEFORE = re.compile(r"(?:(?<=[^\w.'’-])|^)((?:[A-Z][a-z]+[ .'-]){0,2}[A-Z][a-z]+)$")
_ICE_OFFICE_RE = re.compile(r"\bICE(?: ERO)? (?P<office>[A-Z][a-z]+(?: [A-Z][a-z]+)?)\b")

_QUALIFIERS = {
    "nearly": "nearly",
    "almost": "nearly",
    "about": "about",
    "around": "about",
    "approximately": "about",
    "roughly": "about",
    "some": "about",
    "an estimated": "about",
    "estimated": "about",
    "close to": "nearly",
    "more than": "more than",
    "over": "more than",
    "at least": "at least",
    "fewer than": "fewer than",
    "less than": "fewer than",
    "under": "fewer than",
    "up to": "up to",
    "as many as": "up to",
    "just over": "more than",
    "just under": "fewer than",
}
_WORD_NUMBERS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "a dozen": 12,
    "a hundred": 100,
    "a thousand": 1000,
}
# Vague quantities: stored as their lower bound and marked approximate.
_VAGUE_NUMBERS = {
    "dozens": 24,
    "hundreds": 200,
    "thousands": 2000,
    "tens of thousands": 20000,
    "hundreds of thousands": 200000,
    "millions": 2000000,
}
_SHARES = {
    "half": 0.5,
    "a half": 0.5,
    "one-half": 0.5,
    "a third": 1 / 3,
    "one-third": 1 / 3,
    "two-thirds": 2 / 3,
    "a quarter": 0.25,
    "one-quarter": 0.25,
    "three-quarters": 0.75,
    "three quarters": 0.75,
    "two thirds": 2 / 3,
    "one in five": 0.2,
    "one in four": 0.25,
    "one in three": 1 / 3,
    "a majority": 0.5,
    "majority": 0.5,
}
_SCALES = {"thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}


def _alt(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_DIGITS_RE = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")
_QUALIFIER_BEFORE = re.compile(rf"(?i)(?:^|\W)({_alt(list(_QUALIFIERS))})\s+$")
_AFTER_NUMBER = re.compile(
    r"(?:\s+(?P<scale>thousand|million|billion))?(?P<pct>\s*%|\s+percent\b|\s+per cent\b)?"
)
# Word quantities are found by the name automaton, not by a regex alternation.
_NUMBER_WORDS = tuple(_SHARES) + tuple(_VAGUE_NUMBERS) + tuple(_WORD_NUMBERS)
# What a number counts: the noun within a few words after it.
_NOUNS = {
    "arrest": "arrests",
    "arrests": "arrests",
    "arrestees": "arrests",
    "removal": "removals",
    "removals": "removals",
    "deportation": "deportations",
    "deportations": "deportations",
    "deportees": "deportees",
    "agreement": "agreements",
    "agreements": "agreements",
    "detainee": "detainees",
    "detainees": "detainees",
    "encounter": "encounters",
    "encounters": "encounters",
    "apprehension": "apprehensions",
    "apprehensions": "apprehensions",
    "crossing": "crossings",
    "crossings": "crossings",
    "beds": "beds",
    "agent": "agents",
    "agents": "agents",
    "officer": "officers",
    "officers": "officers",
    "troops": "troops",
    "personnel": "personnel",
    "flight": "flights",
    "flights": "flights",
    "immigrant": "immigrants",
    "immigrants": "immigrants",
    "migrant": "migrants",
    "migrants": "migrants",
    "noncitizens": "noncitizens",
    "aliens": "aliens",
    "people": "people",
    "persons": "people",
    "individuals": "people",
    "children": "children",
    "minors": "children",
    "families": "families",
    "students": "students",
    "refugees": "refugees",
    "seekers": "asylum seekers",
    "members": "members",
    "protesters": "protesters",
    "demonstrators": "protesters",
    "protests": "protests",
    "events": "events",
    "cases": "cases",
    "visas": "visas",
    "charges": "charges",
    "convictions": "convictions",
    "raids": "raids",
    "facilities": "facilities",
    "centers": "facilities",
    "jurisdictions": "jurisdictions",
    "counties": "counties",
    "agencies": "agencies",
    "partners": "partners",
    "partnerships": "partnerships",
    "workers": "workers",
    "residents": "residents",
    "recipients": "recipients",
    "applications": "applications",
    "countries": "countries",
    "dreamers": "dreamers",
    "detainers": "detainers",
    "warrants": "warrants",
    "employers": "employers",
    "deaths": "deaths",
}
# Words that end the noun phrase a number starts: verbs, prepositions (except "of":
# "40% of detainees", "14 of the arrests") and relative words. "600 state and local
# agencies have signed agreements" counts agencies; the search never reads past "have"
# into the rest of the sentence.
_PHRASE_BREAKS = frozenset(
    {
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "have",
        "has",
        "had",
        "having",
        "will",
        "would",
        "could",
        "can",
        "may",
        "might",
        "should",
        "must",
        "shall",
        "do",
        "does",
        "did",
        "said",
        "say",
        "says",
        "told",
        "who",
        "whom",
        "whose",
        "which",
        "that",
        "than",
        "where",
        "when",
        "while",
        "because",
        "as",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "from",
        "with",
        "without",
        "since",
        "during",
        "after",
        "before",
        "across",
        "into",
        "onto",
        "per",
        "under",
        "over",
        "through",
        "throughout",
        "against",
        "between",
        "among",
        "amid",
        "toward",
        "towards",
        "within",
        "along",
        "around",
        "near",
    }
)
# "Every one of these arrests", "one of the leaders": "one" is not a count there.
_NOT_ONE_BEFORE = re.compile(r"(?i)(?:^|\W)(?:every|each|any|no|which|that|this|the)\s+$")
_WORD_RE = re.compile(r"[\w'’()-]+|[.,;:!?]")
_NOUN_WINDOW = 5


@dataclass
class _Found:
    kind: str
    value: str
    normalized: str
    field: int
    start: int
    end: int
    rule_id: str
    # `dataclasses.field` spelled out: the `field` attribute above shadows the bare name.
    attrs: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class _Alias:
    kind: str  # agency | program | place
    canonical: str
    exact: str | None  # case-sensitive surface form
    level: str = ""


@functools.lru_cache(maxsize=1)
def _automaton() -> Any:
    """One automaton for every listed name: agencies, programs, states, cities, countries."""
    table: dict[str, list[_Alias]] = {}

    def add(surface: str, alias: _Alias) -> None:
        table.setdefault(fold(surface), []).append(alias)

    for canonical, (exact, loose, _) in AGENCIES.items():
        for a in exact:
            add(a, _Alias("agency", canonical, a))
        for a in loose:
            add(a, _Alias("agency", canonical, None))
    for canonical, names in PROGRAMS.items():
        for a in names:
            add(a, _Alias("program", canonical, None))
    for canonical, exact_aliases in _EXACT_PROGRAMS.items():
        for a in exact_aliases:
            add(a, _Alias("program", canonical, a))
    for word in _NUMBER_WORDS:
        add(word, _Alias("number", word, None))
    index = place_index()
    for name, level in index.names():
        # Place names are proper nouns: require the capitalised form.
        add(name, _Alias("place", name, name, level))
    automaton = ahocorasick.Automaton()
    for key, entries in table.items():
        automaton.add_word(key, (len(key), tuple(entries)))
    automaton.make_automaton()
    return automaton


def _dictionary_hits(f: int, text: str) -> tuple[list[_Found], list[tuple[int, int]]]:
    """Leftmost-longest names ("Homeland Security Investigations" beats "Homeland Security"),
    and the spans of number words ("three-quarters", "dozens") for the count pass."""
    lowered = fold(text)
    n = len(lowered)
    candidates: list[tuple[int, int, _Alias]] = []
    for last, (keylen, aliases) in _automaton().iter(lowered):
        start, end = last - keylen + 1, last + 1
        if (start > 0 and lowered[start - 1].isalnum()) or (end < n and lowered[end].isalnum()):
            continue
        for alias in aliases:
            if alias.exact is None or text[start:end] == alias.exact:
                candidates.append((start, end, alias))
                break
    candidates.sort(key=lambda c: (c[0], -(c[1] - c[0])))
    found: list[_Found] = []
    numbers: list[tuple[int, int]] = []
    taken_until = -1
    for start, end, alias in candidates:
        if start < taken_until:
            continue
        taken_until = end
        value = text[start:end]
        if alias.kind == "number":
            numbers.append((start, end))
        elif alias.kind == "place":
            found.append(
                _Found(
                    "place",
                    value,
                    alias.canonical,
                    f,
                    start,
                    end,
                    f"fact-place-{alias.level}",
                    {"level": alias.level},
                )
            )
        elif alias.kind == "agency":
            attrs = dict(AGENCIES[alias.canonical][2])
            found.append(
                _Found("agency", value, alias.canonical, f, start, end, "fact-agency", attrs)
            )
        else:
            found.append(_Found("program", value, alias.canonical, f, start, end, "fact-program"))
    return found, numbers


def _name_before(text: str, pos: int) -> tuple[int, str] | None:
    """The capitalised name (1-3 words) ending just before `pos`, without a leading article."""
    m = _NAME_BEFORE.search(text, max(0, pos - 60), pos)
    if not m:
        return None
    name = m.group(1)
    stripped = _strip_leading_article(name)
    return m.start(1) + (len(name) - len(stripped)), stripped


def _pattern_hits(f: int, text: str, index: PlaceIndex) -> list[_Found]:
    found: list[_Found] = []
    for m in _OPERATION_RE.finditer(text):
        words = m.group("name").split()
        while words and words[-1] in {"of", "the", "and", "de", "del", "la"}:
            words.pop()
        if not words or words[0] in _OPERATION_STOP:
            continue
        name = "Operation " + " ".join(words)
        end = m.start() + len(name)
        found.append(
            _Found("operation", text[m.start() : end], name, f, m.start(), end, "fact-operation")
        )
    for m in _COUNTY_ANCHOR.finditer(text):
        before = _name_before(text, m.start())
        if before is None:
            continue
        start, first = before
        county = f"{first}{m.group(0)}"
        tail = _SHERIFF_TAIL.match(text, m.end())
        if tail:
            found.append(
                _Found(
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
                _Found(
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
    for m in _STATE_UNIT_ANCHOR.finditer(text):
        before = _name_before(text, m.start())
        state = index.states.get(before[1]) if before else None
        if before is None or state is None:
            continue
        found.append(
            _Found(
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
    for m in _POLICE_DEPT_ANCHOR.finditer(text):
        before = _name_before(text, m.start())
        if before is None:
            continue
        found.append(
            _Found(
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
    for m in _ICE_OFFICE_RE.finditer(text):
        office = m.group("office").split()
        # "ICE Boston" is a field office; "ICE Director" is not a place.
        for size in (len(office), 1):
            name = " ".join(office[:size])
            if name in index.cities or name in index.states:
                end = m.start("office") + len(name)
                found.append(
                    _Found(
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


def _strip_leading_article(name: str) -> str:
    for article in ("The ", "In ", "At ", "From ", "And ", "Of "):
        if name.startswith(article):
            return name[len(article) :]
    return name


def _count_hits(f: int, text: str, number_words: list[tuple[int, int]]) -> list[_Found]:
    spans = [(m.start(), m.end()) for m in _DIGITS_RE.finditer(text)] + number_words
    found: list[_Found] = []
    for start, end in spans:
        if start > 0 and (text[start - 1].isalnum() or text[start - 1] in "$.,"):
            continue  # part of a word, an amount of money or a longer number
        raw = text[start:end]
        key = raw.lower()
        if key == "one" and (
            text.startswith(" of ", end) or _NOT_ONE_BEFORE.search(text, max(0, start - 12), start)
        ):
            continue
        after = _AFTER_NUMBER.match(text, end)
        if after and after.end() > end:
            end = after.end()
        if end < len(text) and (text[end].isalnum() or text[end] in "(_"):
            continue  # "287(g)", "3rd", "9/11"-like tokens are not counts
        qual_m = _QUALIFIER_BEFORE.search(text, max(0, start - 25), start)
        qual = qual_m.group(1) if qual_m else None
        if qual_m:
            start = qual_m.start(1)
        pct = bool(after and after.group("pct"))
        if key in _SHARES:
            value, unit, approximate = _SHARES[key], "share", key in {"a majority", "majority"}
        elif key in _VAGUE_NUMBERS:
            value, unit, approximate = float(_VAGUE_NUMBERS[key]), "count", True
        elif key in _WORD_NUMBERS:
            value, unit, approximate = float(_WORD_NUMBERS[key]), "count", False
        else:
            value, unit, approximate = float(raw.replace(",", "")), "count", False
            if "," not in raw and 1900 <= value <= 2100 and not qual and not pct:
                continue  # a year, not a count
        if after and after.group("scale"):
            value *= _SCALES[after.group("scale")]
        if pct:
            value, unit = value / 100.0, "share"
        tail = text[end : end + 80]
        if tail.startswith(("-year", " year", "-day", " day", "-month", " month")):
            continue
        counts = _counted_noun(tail, share=unit == "share")
        if counts is None:
            continue
        attrs: dict[str, Any] = {
            "counts": counts,
            "unit": unit,
            "approximate": approximate or qual is not None,
        }
        if qual:
            attrs["qualifier"] = _QUALIFIERS[qual.lower()]
        if key in _VAGUE_NUMBERS:
            attrs["lower_bound"] = True
        normalized = (
            f"{value:.4f}".rstrip("0").rstrip(".") if unit == "share" else _plain_number(value)
        )
        found.append(
            _Found("count", text[start:end], normalized, f, start, end, "fact-count", attrs)
        )
    return found


def _plain_number(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


def _counted_noun(tail: str, share: bool) -> str | None:
    """The noun a number counts: the first counted noun of the phrase the number starts.

    "600 signed agreements" -> agreements; shares may say "of X" ("40% of detainees").
    The phrase ends at punctuation, a verb or a preposition, so a noun later in the
    sentence ("600 signed up with ICE to help with arrests") is never taken.
    """
    words = _WORD_RE.findall(tail[:80])
    for word in words[: _NOUN_WINDOW + (3 if share else 0)]:
        if word in ".,;:!?":
            return None
        lowered = word.lower()
        noun = _NOUNS.get(lowered)
        if noun:
            return noun
        if lowered in _PHRASE_BREAKS or _unlisted_plural(word):
            return None
    return None


def _unlisted_plural(word: str) -> bool:
    """A lowercase plural we do not list ("two managers face charges") is the head noun
    itself: what follows it is not what the number counts."""
    return (
        len(word) > 3
        and word.islower()
        and word.isalpha()
        and word.endswith("s")
        and not word.endswith(("ss", "us", "is", "ous"))
    )


def _nearest(items: list[_Found], pos: int) -> _Found | None:
    return min(items, key=lambda x: abs(x.start - pos), default=None)


def _resolve_places(
    found: list[_Found],
    texts: list[str],
    index: PlaceIndex,
    sentence_of: Callable[[_Found], tuple[int, int]],
) -> None:
    """Give counties and cities their state: the one named nearby, else in the item,
    else the likeliest."""
    states_by_sentence: dict[tuple[int, int], list[str]] = {}
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
    m = re.match(r",\s*([A-Z][a-z]+\.?(?: [A-Z][a-z]+\.?)?)", after)
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


def extract_facts(texts: list[str], sentences: Callable[[int], Sentences]) -> list[Fact]:
    """All facts of an item, deduplicated: one per named thing, one per count mention."""
    index = place_index()
    found: list[_Found] = []
    for f, text in enumerate(texts):
        if text:
            names, number_words = _dictionary_hits(f, text)
            found += names
            found += _pattern_hits(f, text, index)
            found += _count_hits(f, text, number_words)
    if not found:
        return []
    found = _drop_overlaps(found)
    sent_cache: dict[tuple[int, int], int] = {}

    def sentence_of(x: _Found) -> tuple[int, int]:
        key = (x.field, x.start)
        if key not in sent_cache:
            sent_cache[key] = sentences(x.field).index(x.start)
        return x.field, sent_cache[key]

    _resolve_places(found, texts, index, sentence_of)
    _attach_context(found, sentence_of)
    return _dedupe(found, sentences, sentence_of)


def _drop_overlaps(found: list[_Found]) -> list[_Found]:
    """A name inside a longer pattern name is part of it: "ICE" in "ICE Boston" is not a
    separate mention. Places are kept (Saline County is both an office and a place), but a
    city inside a county's name ("Montgomery" in "Montgomery County") is the county."""
    counties = [x for x in found if x.kind == "place" and x.attrs.get("level") == "county"]
    if counties:
        found = [
            x
            for x in found
            if not (
                x.kind == "place"
                and x.attrs.get("level") == "city"
                and any(
                    c.field == x.field and c.start <= x.start and x.end <= c.end for c in counties
                )
            )
        ]
    outer = [x for x in found if x.rule_id in _OUTER_RULES]
    if not outer:
        return found
    kept = [
        x
        for x in found
        if x.kind == "place"
        or x.rule_id in _OUTER_RULES
        or not any(o.field == x.field and o.start <= x.start and x.end <= o.end for o in outer)
    ]
    kept.sort(key=lambda x: (x.field, x.start))
    return kept


def _attach_context(found: list[_Found], sentence_of: Callable[[_Found], tuple[int, int]]) -> None:
    """A count gets the agency, place, operation and program named in its sentence."""
    by_sentence: dict[tuple[int, int], list[_Found]] = {}
    for x in found:
        by_sentence.setdefault(sentence_of(x), []).append(x)
    for x in found:
        if x.kind != "count":
            continue
        same = by_sentence[sentence_of(x)]
        agency = _nearest([y for y in same if y.kind == "agency"], x.start)
        if agency:
            x.attrs["agency"] = agency.normalized
        operation = _nearest([y for y in same if y.kind == "operation"], x.start)
        if operation:
            x.attrs["operation"] = operation.normalized
        program = _nearest([y for y in same if y.kind == "program"], x.start)
        if program:
            x.attrs["program"] = program.normalized
        places = [y for y in same if y.kind == "place" and not y.attrs.get("foreign")]
        state = _nearest([y for y in places if y.attrs.get("level") == "state"], x.start)
        local = _nearest([y for y in places if y.attrs.get("level") in ("city", "county")], x.start)
        if state:
            x.attrs["state"] = state.normalized
        if local:
            x.attrs["place"] = local.normalized
            if local.attrs.get("state"):
                # Keep place and state consistent: El Paso's state, not New Mexico's
                # named later in the sentence.
                x.attrs["state"] = local.attrs["state"]


def _dedupe(
    found: list[_Found],
    sentences: Callable[[int], Sentences],
    sentence_of: Callable[[_Found], tuple[int, int]],
) -> list[Fact]:
    order = {"agency": 0, "program": 1, "operation": 2, "place": 3, "count": 4}
    first: dict[tuple[str, str], _Found] = {}
    mentions: dict[tuple[str, str], int] = {}
    counts: list[_Found] = []
    seen_counts: set[tuple[Any, ...]] = set()
    for x in found:
        if x.kind == "count":
            # One fact per mention: a headline or standfirst repeated as the first lines of
            # the article text is the same mention, not a second one.
            fi, si = sentence_of(x)
            said = " ".join(sentences(fi).sentence(si).split()).lower()
            mention = (x.normalized, x.attrs.get("counts"), x.attrs.get("unit"), said)
            if mention not in seen_counts:
                seen_counts.add(mention)
                counts.append(x)
            continue
        key = (x.kind, x.normalized)
        mentions[key] = mentions.get(key, 0) + 1
        first.setdefault(key, x)
    chosen = sorted(first.values(), key=lambda x: (order[x.kind], x.field, x.start)) + counts
    facts: list[Fact] = []
    for x in chosen:
        attrs = dict(x.attrs)
        if x.kind != "count":
            attrs["mentions"] = mentions[(x.kind, x.normalized)]
        fi, si = sentence_of(x)
        evidence = Evidence(sentences(fi).sentence(si), x.start, x.end, x.rule_id, FIELDS[fi])
        facts.append(Fact(x.kind, x.value, x.normalized, evidence, attrs))
    return facts
