"""Facts: agencies, programs, operations, places and counts, normalised and with evidence."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from policy_news.models import Fact
from policy_news.tagging.tagger import Tagger, get_tagger

REPO_ROOT = Path(__file__).resolve().parents[2]
SEED = REPO_ROOT.parent / "shared" / "seed" / "article.txt"
# Makes a short test text relevant, so facts are extracted.
LEAD = "ICE agents arrested immigrants in a federal immigration enforcement operation. "


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return get_tagger()


def _facts(tagger: Tagger, text: str) -> list[Fact]:
    result = tagger.tag("", None, LEAD + text)
    assert result.relevant
    return result.facts


def _by(facts: list[Fact], kind: str) -> dict[str, Fact]:
    return {f.normalized: f for f in facts if f.kind == kind}


def _counts(facts: list[Fact]) -> list[tuple[str, dict[str, Any]]]:
    return [(f.normalized, f.attrs) for f in facts if f.kind == "count"]


@pytest.fixture(scope="module")
def seed_facts(tagger: Tagger) -> list[Fact]:
    if not SEED.is_file():
        pytest.skip(f"seed article not found at {SEED}")
    result = tagger.tag("", None, SEED.read_text(encoding="utf-8"))
    assert result.relevant
    return result.facts


def test_seed_agencies_are_normalised(seed_facts: list[Fact]) -> None:
    agencies = _by(seed_facts, "agency")
    assert {
        "ICE",
        "DHS",
        "FBI",
        "National Sheriffs' Association",
        "Saline County Sheriff's Office",
        "ICE Boston",
    } <= set(agencies)
    assert agencies["ICE"].attrs["name"] == "U.S. Immigration and Customs Enforcement"
    assert agencies["Saline County Sheriff's Office"].attrs["state"] == "Arkansas"


def test_seed_programs_and_operation(seed_facts: list[Fact]) -> None:
    assert {"287(g) program", "287(g) Warrant Service Officer Program"} <= set(
        _by(seed_facts, "program")
    )
    assert set(_by(seed_facts, "operation")) == {"Operation Tidal Wave"}


def test_seed_places_carry_level_and_state(seed_facts: list[Fact]) -> None:
    places = _by(seed_facts, "place")
    for state in ("Florida", "Virginia", "Arkansas", "Massachusetts"):
        assert places[state].attrs["level"] == "state"
    assert places["Saline County"].attrs == {"level": "county", "state": "Arkansas", "mentions": 1}
    assert places["Boston"].attrs["level"] == "city"
    assert places["Boston"].attrs["state"] == "Massachusetts"
    assert (
        places["Brazil"].attrs["level"] == "country" and places["Brazil"].attrs["foreign"] is True
    )


def test_seed_counts_keep_what_they_count_and_qualifier(seed_facts: list[Fact]) -> None:
    counts = dict(_counts(seed_facts))
    arrests = counts["1120"]
    assert arrests["counts"] == "arrests" and arrests["unit"] == "count"
    assert arrests["state"] == "Florida"
    assert arrests["operation"] == "Operation Tidal Wave"
    assert arrests["agency"] == "ICE"
    agreements = counts["600"]
    assert agreements["counts"] == "agreements"
    assert agreements["qualifier"] == "nearly" and agreements["approximate"] is True
    assert agreements["program"] == "287(g) program"
    share = counts["0.75"]
    assert share["unit"] == "share" and share["counts"] == "arrests"


def test_fact_evidence_points_into_the_text(seed_facts: list[Fact]) -> None:
    text = SEED.read_text(encoding="utf-8")
    for fact in seed_facts:
        ev = fact.evidence
        assert ev.field == "text"
        assert text[ev.start : ev.end] == fact.value
        assert fact.value in ev.sentence
        assert ev.rule_id.startswith("fact-")


def test_each_named_thing_is_one_fact_with_a_mention_count(tagger: Tagger) -> None:
    facts = _facts(tagger, "ICE said ICE would expand. Immigration and Customs Enforcement agreed.")
    ice = [f for f in facts if f.kind == "agency" and f.normalized == "ICE"]
    assert len(ice) == 1 and ice[0].attrs["mentions"] == 4


def test_longest_agency_name_wins(tagger: Tagger) -> None:
    agencies = _by(_facts(tagger, "Homeland Security Investigations led the case."), "agency")
    assert "HSI" in agencies and "DHS" not in agencies


def test_city_takes_the_state_written_after_it(tagger: Tagger) -> None:
    places = _by(_facts(tagger, "Two people were shot in Portland, Ore., on Thursday."), "place")
    assert places["Portland"].attrs["state"] == "Oregon"


def test_county_takes_the_state_named_in_its_sentence(tagger: Tagger) -> None:
    places = _by(_facts(tagger, "Deputies in Saline County, Kansas, joined the program."), "place")
    assert places["Saline County"].attrs["state"] == "Kansas"


def test_state_agencies_are_normalised(tagger: Tagger) -> None:
    agencies = _by(
        _facts(tagger, "The Florida Highway Patrol and Texas National Guard helped."), "agency"
    )
    assert agencies["Florida Highway Patrol"].attrs["state"] == "Florida"
    assert "Texas National Guard" in agencies


@pytest.mark.parametrize(
    ("text", "normalized", "attrs"),
    [
        (
            "More than 2,000 deportations were recorded.",
            "2000",
            {"counts": "deportations", "qualifier": "more than", "approximate": True},
        ),
        (
            "Agents made about 1.5 million arrests.",
            "1500000",
            {"counts": "arrests", "qualifier": "about"},
        ),
        ("Some 40% of detainees had no record.", "0.4", {"unit": "share", "counts": "detainees"}),
        ("Dozens of migrants were detained.", "24", {"counts": "migrants", "lower_bound": True}),
        ("Two-thirds of the arrests were in Texas.", "0.6667", {"unit": "share", "state": "Texas"}),
    ],
)
def test_counts_are_normalised(
    tagger: Tagger, text: str, normalized: str, attrs: dict[str, Any]
) -> None:
    counts = dict(_counts(_facts(tagger, text)))
    assert normalized in counts, counts
    assert attrs.items() <= counts[normalized].items()


@pytest.mark.parametrize(
    "text",
    [
        "In 2019 arrests rose sharply.",
        "The agency paid $15,000 in fees for detainees.",
        "The 287(g) agreements expanded.",
        "A 37-year-old man was detained.",
        "It took 30 days for the removals to start.",
    ],
)
def test_years_money_program_names_and_ages_are_not_counts(tagger: Tagger, text: str) -> None:
    assert _counts(_facts(tagger, text)) == []


def test_operation_names_stop_at_lowercase_words(tagger: Tagger) -> None:
    operations = _by(_facts(tagger, "Operation Metro Surge began in the city."), "operation")
    assert set(operations) == {"Operation Metro Surge"}


def test_facts_are_not_extracted_for_irrelevant_items(tagger: Tagger) -> None:
    result = tagger.tag("Florida council approves 300 new parking spaces in Miami")
    assert not result.relevant and result.facts == []


def test_count_is_the_noun_its_phrase_ends_on_not_a_later_one(tagger: Tagger) -> None:
    counts = dict(_counts(_facts(tagger, "Two managers face charges after the raid.")))
    assert "2" not in counts, counts
    counts = dict(_counts(_facts(tagger, "Nearly 600 state and local agencies signed agreements.")))
    assert counts["600"]["counts"] == "agencies"
    counts = dict(_counts(_facts(tagger, "Officials reported 40 arrests in raids.")))
    assert counts["40"]["counts"] == "arrests"


def test_every_one_of_is_not_a_count(tagger: Tagger) -> None:
    counts = _counts(_facts(tagger, "Every one of these arrests made the streets safer."))
    assert counts == []


def test_a_headline_repeated_in_the_text_is_one_count_mention(tagger: Tagger) -> None:
    title = "ICE makes more than 300 arrests in Texas operation"
    result = tagger.tag(title, None, f"{title}\n{LEAD}Officers made 12 arrests on Monday.")
    counts = [(f.normalized, f.evidence.field) for f in result.facts if f.kind == "count"]
    assert counts.count(("300", "title")) == 1
    assert [c for c in counts if c[0] == "300"] == [("300", "title")]
    assert ("12", "text") in counts


def test_a_city_inside_a_county_name_is_not_a_city(tagger: Tagger) -> None:
    places = _by(
        _facts(tagger, "Deputies in Montgomery County, Texas, joined the task force."), "place"
    )
    assert places["Montgomery County"].attrs["state"] == "Texas"
    assert "Montgomery" not in places


def test_count_place_and_state_agree(tagger: Tagger) -> None:
    counts = dict(
        _counts(_facts(tagger, "Agents in El Paso recorded 1,500 encounters near New Mexico."))
    )
    assert counts["1500"]["place"] == "El Paso" and counts["1500"]["state"] == "Texas"
