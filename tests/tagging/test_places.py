"""Place data: the one home for US states, counties, cities and foreign countries."""

from __future__ import annotations

from policy_news.tagging.places import (
    fifty_state_names,
    foreign_countries,
    place_index,
    us_state_codes,
    us_state_names,
)


def test_states_include_dc_and_territories_by_name_and_code() -> None:
    names = us_state_names()
    assert len(names) == 56
    assert {"Texas", "District of Columbia", "Puerto Rico"} <= set(names)
    assert us_state_codes()["FL"] == "Florida"


def test_fifty_states_leave_out_dc_and_territories() -> None:
    names = fifty_state_names()
    assert len(names) == 50 and names == sorted(names)
    assert "Texas" in names and not {"District of Columbia", "Puerto Rico"} & set(names)


def test_foreign_countries_leave_out_the_us_and_its_territories() -> None:
    countries = foreign_countries()
    assert countries["MX"] == "Mexico" and countries["BR"] == "Brazil"
    assert not {"US", "PR", "GU", "VI", "AS", "MP", "UM"} & set(countries)


def test_ap_abbreviations_name_their_state() -> None:
    states = place_index().states
    assert states["Fla."].name == "Florida"
    assert states["Ore."].name == "Oregon"


def test_a_county_lists_every_state_that_has_one_by_that_name() -> None:
    counties = place_index().counties
    assert {"Arkansas", "Kansas", "Illinois"} <= set(counties["Saline County"])


def test_cities_biggest_first_and_ambiguous_names_left_out() -> None:
    cities = place_index().cities
    assert cities["Portland"][0].state == "Oregon"
    assert {p.state for p in cities["Portland"]} >= {"Oregon", "Maine"}
    assert "Mobile" not in cities and "Washington" not in cities


def test_georgia_is_a_state_not_a_foreign_country() -> None:
    index = place_index()
    assert "Georgia" in index.states and "Georgia" not in index.countries


def test_the_matcher_sees_every_level() -> None:
    levels = dict(place_index().names())
    assert levels["Florida"] == "state"
    assert levels["Boston"] == "city"
    assert levels["Brazil"] == "country"
