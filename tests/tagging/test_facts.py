"""Facts: agencies, programs, operations, places and counts, normalised and with evidence."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from policy_news.models import Fact, TagResult
from policy_news.tagging.facts import extract_facts
from policy_news.tagging.facts.lexicon import (
    DEFAULT_LEXICON_PATH,
    LexiconError,
    load_lexicon,
    parse_lexicon,
)
from policy_news.tagging.sentences import Sentences
from policy_news.tagging.tagger import Tagger
from tests.tagging.conftest import (
    SEED_AGENCIES,
    SEED_ARTICLE,
    SEED_OPERATIONS,
    SEED_PROGRAMS,
    SEED_STATES,
    facts_by_name,
)

# Makes a short test text relevant, so facts are extracted.
LEAD = "ICE agents arrested immigrants in a federal immigration enforcement operation. "


def _facts(tagger: Tagger, text: str) -> list[Fact]:
    result = tagger.tag("", None, LEAD + text)
    assert result.relevant
    return result.facts


def _counts(facts: list[Fact]) -> list[tuple[str, dict[str, Any]]]:
    return [(f.normalized, f.attrs) for f in facts if f.kind == "count"]


@pytest.fixture(scope="module")
def seed_facts(seed_result: TagResult) -> list[Fact]:
    assert seed_result.relevant
    return seed_result.facts


def test_seed_agencies_are_normalised(seed_facts: list[Fact]) -> None:
    agencies = facts_by_name(seed_facts, "agency")
    assert set(agencies) >= SEED_AGENCIES
    assert agencies["ICE"].attrs["name"] == "U.S. Immigration and Customs Enforcement"
    assert agencies["Saline County Sheriff's Office"].attrs["state"] == "Arkansas"


def test_seed_programs_and_operation(seed_facts: list[Fact]) -> None:
    assert set(facts_by_name(seed_facts, "program")) >= SEED_PROGRAMS
    assert set(facts_by_name(seed_facts, "operation")) == SEED_OPERATIONS


def test_seed_places_carry_level_and_state(seed_facts: list[Fact]) -> None:
    places = facts_by_name(seed_facts, "place")
    for state in SEED_STATES:
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
    assert "0.75" not in counts, "three-quarters is a share of arrests, not a count"
    shares = {f.normalized: f.attrs for f in seed_facts if f.kind == "share"}
    assert shares["0.75"]["of"] == "arrests" and shares["0.75"]["unit"] == "share"


def test_seed_counts_keep_their_sentences(seed_facts: list[Fact]) -> None:
    counts = {f.normalized: f for f in seed_facts if f.kind == "count"}
    assert counts["1120"].evidence.sentence.startswith("Operation Tidal Wave resulted in 1,120")
    assert "nearly 600 signed agreements" in counts["600"].evidence.sentence
    assert counts["600"].attrs["claimant"] == "DHS"
    assert "claimant" not in counts["1120"].attrs  # "which ICE said is the leader" is no claim


def test_fact_evidence_points_into_the_text(seed_facts: list[Fact]) -> None:
    text = SEED_ARTICLE.read_text(encoding="utf-8")
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
    agencies = facts_by_name(
        _facts(tagger, "Homeland Security Investigations led the case."), "agency"
    )
    assert "HSI" in agencies and "DHS" not in agencies


def test_city_takes_the_state_written_after_it(tagger: Tagger) -> None:
    places = facts_by_name(
        _facts(tagger, "Two people were shot in Portland, Ore., on Thursday."), "place"
    )
    assert places["Portland"].attrs["state"] == "Oregon"


def test_county_takes_the_state_named_in_its_sentence(tagger: Tagger) -> None:
    places = facts_by_name(
        _facts(tagger, "Deputies in Saline County, Kansas, joined the program."), "place"
    )
    assert places["Saline County"].attrs["state"] == "Kansas"


def test_state_agencies_are_normalised(tagger: Tagger) -> None:
    agencies = facts_by_name(
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
        ("Dozens of migrants were detained.", "24", {"counts": "migrants", "lower_bound": True}),
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
    operations = facts_by_name(
        _facts(tagger, "Operation Metro Surge began in the city."), "operation"
    )
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
    places = facts_by_name(
        _facts(tagger, "Deputies in Montgomery County, Texas, joined the task force."), "place"
    )
    assert places["Montgomery County"].attrs["state"] == "Texas"
    assert "Montgomery" not in places


def test_count_place_and_state_agree(tagger: Tagger) -> None:
    counts = dict(
        _counts(_facts(tagger, "Agents in El Paso recorded 1,500 encounters near New Mexico."))
    )
    assert counts["1500"]["place"] == "El Paso" and counts["1500"]["state"] == "Texas"


# --- numbers read like the text (extract_facts directly, without the tagger) ---------


def _extract(text: str) -> list[Fact]:
    texts = ["", "", text]
    split = [Sentences(t) for t in texts]
    return extract_facts(texts, split.__getitem__)


def _one(text: str, kind: str = "count") -> Fact:
    found = [f for f in _extract(text) if f.kind == kind]
    assert len(found) == 1, [(f.kind, f.value, f.normalized) for f in _extract(text)]
    return found[0]


@pytest.mark.parametrize(
    ("text", "normalized", "value"),
    [
        ("Agents detained thirteen migrants.", "13", "thirteen"),
        ("Ninety detainees were moved.", "90", "Ninety"),
        ("Police made forty-two arrests.", "42", "forty-two"),
        ("Police made forty two arrests.", "42", "forty two"),
        ("Officers made two dozen arrests.", "24", "two dozen"),
        ("Officers made a dozen arrests.", "12", "a dozen"),
        ("Officers made one hundred and twenty arrests.", "120", "one hundred and twenty"),
        (
            "The agency holds two thousand five hundred detainees.",
            "2500",
            "two thousand five hundred",
        ),
        ("Officers made a hundred arrests.", "100", "a hundred"),
        ("It added fifteen hundred beds.", "1500", "fifteen hundred"),
    ],
)
def test_number_words_are_read_whole(text: str, normalized: str, value: str) -> None:
    fact = _one(text)
    assert (fact.normalized, fact.value) == (normalized, value)
    assert fact.attrs["approximate"] is False


def test_number_words_across_punctuation_do_not_join() -> None:
    counts = [
        f.normalized for f in _extract("Of the two, three arrests stood.") if f.kind == "count"
    ]
    assert counts == ["3"]


@pytest.mark.parametrize(
    ("text", "normalized", "counts"),
    [
        ("Hundreds of migrants were detained.", "200", "migrants"),
        ("Dozens of people were detained.", "24", "people"),
        ("Thousands of immigrants were deported.", "2000", "immigrants"),
        ("Several hundred agents joined.", "200", "agents"),
    ],
)
def test_vague_quantities_are_their_lower_bound_and_approximate(
    text: str, normalized: str, counts: str
) -> None:
    fact = _one(text)
    assert fact.normalized == normalized
    assert fact.attrs["counts"] == counts
    assert fact.attrs["approximate"] is True and fact.attrs["lower_bound"] is True


@pytest.mark.parametrize(
    ("text", "value", "low", "high"),
    [
        ("Agents made between 200 and 300 arrests.", "between 200 and 300", 200, 300),
        ("Agents made 200 to 300 arrests.", "200 to 300", 200, 300),
        ("Agents made 200-300 arrests.", "200-300", 200, 300),
        ("Between 2 and 3 million people left.", "Between 2 and 3 million", 2_000_000, 3_000_000),
        ("Agents made between twenty and thirty arrests.", "between twenty and thirty", 20, 30),
    ],
)
def test_a_range_is_one_count_stored_as_its_low_end(
    text: str, value: str, low: int, high: int
) -> None:
    fact = _one(text)
    assert fact.value == value
    assert fact.normalized == str(low)
    assert (fact.attrs["low"], fact.attrs["high"]) == (low, high)
    assert fact.attrs["approximate"] is True


def test_from_one_number_to_another_is_a_change_not_a_range() -> None:
    fact = _one("Arrests rose from 200 to 300 arrests a day.")
    assert fact.normalized == "300" and "low" not in fact.attrs


@pytest.mark.parametrize(
    "text",
    [
        "ICE has made 5,000 arrests since January.",
        "ICE has made 5,000 arrests so far this year.",
        "ICE made 5,000 arrests in fiscal year 2025.",
        "ICE has made 5,000 arrests since the start of the administration.",
        "Since January, ICE has made 5,000 arrests.",
    ],
)
def test_running_totals_are_cumulative(text: str) -> None:
    assert _one(text).attrs.get("cumulative") is True


def test_an_incident_is_not_cumulative() -> None:
    assert "cumulative" not in _one("ICE made 40 arrests on Monday in Houston.").attrs


def test_a_total_marker_speaks_for_its_own_clause() -> None:
    counts = {
        f.normalized: f.attrs
        for f in _extract(
            "ICE made 300 arrests Monday, bringing the total since January to 5,000 arrests."
        )
        if f.kind == "count"
    }
    assert counts["5000"].get("cumulative") is True
    assert "cumulative" not in counts["300"]


@pytest.mark.parametrize(
    ("text", "share", "of"),
    [
        ("DHS said three-quarters of ICE arrests were of convicted criminals.", "0.75", "arrests"),
        ("Some 40% of detainees had no record.", "0.4", "detainees"),
        ("Officials said half of the detainees were released.", "0.5", "detainees"),
        ("Two-thirds of the arrests were in Texas.", "0.6667", "arrests"),
    ],
)
def test_shares_are_shares_never_counts(text: str, share: str, of: str) -> None:
    facts = _extract(text)
    assert [f for f in facts if f.kind == "count"] == []
    fact = _one(text, kind="share")
    assert (fact.normalized, fact.attrs["of"], fact.attrs["unit"]) == (share, of, "share")


@pytest.mark.parametrize(
    ("text", "claimant"),
    [
        ("ICE made 1,000 arrests last month, according to ICE.", "ICE"),
        ("According to the Department of Homeland Security, 1,000 people were deported.", "DHS"),
        ("ICE said it made 1,000 arrests last month.", "ICE"),
        ("Advocates said 300 people were detained.", "advocates"),
        ("About 300 people were detained, officials said.", "officials"),
        ("About 300 people were detained, officials said Monday.", "officials"),
        ("Homan said agents made 1,000 arrests.", "Homan"),
    ],
)
def test_the_claimant_is_who_the_sentence_says_gave_the_number(text: str, claimant: str) -> None:
    assert _one(text).attrs["claimant"] == claimant


def test_a_claim_later_in_the_sentence_about_something_else_is_not_the_claimant() -> None:
    fact = _one("The raid led to 1,120 arrests, which ICE said is a record for the state.")
    assert "claimant" not in fact.attrs


@pytest.mark.parametrize(
    ("text", "normalized", "counts", "approximate"),
    [
        ("La policía informó de cien detenidos en la redada.", "100", "arrests", False),
        ("Hubo doscientos deportados este mes.", "200", "deportees", False),
        ("Hubo doscientos cincuenta arrestados.", "250", "arrests", False),
        ("Hubo treinta y cinco detenidos.", "35", "arrests", False),
        ("Hay decenas de detenidos en Texas.", "20", "arrests", True),
        ("Hubo cientos de arrestados.", "200", "arrests", True),
        ("ICE hizo más de mil detenidos.", "1000", "arrests", True),
    ],
)
def test_spanish_number_words(text: str, normalized: str, counts: str, approximate: bool) -> None:
    fact = _one(text)
    assert (fact.normalized, fact.attrs["counts"]) == (normalized, counts)
    assert fact.attrs["approximate"] is approximate


def test_english_miles_are_not_spanish_thousands() -> None:
    assert _extract("Agents drove miles to reach the migrants.") == []


# --- the lexicon file -----------------------------------------------------------------


def _lexicon_raw() -> dict[str, Any]:
    return yaml.safe_load(DEFAULT_LEXICON_PATH.read_text(encoding="utf-8"))


def test_the_project_lexicon_is_valid() -> None:
    lexicon = load_lexicon(DEFAULT_LEXICON_PATH)
    assert lexicon.agencies["ICE"].attrs()["parent"] == "DHS"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda raw: raw["agencies"]["ICE"].update(exact=[None]),
            "agencies 'ICE', field 'exact[0]'",
        ),
        (lambda raw: raw["agencies"]["ICE"].update(alises=["x"]), "agencies 'ICE', field 'alises'"),
        (lambda raw: raw["agencies"]["CBP"].update(parent="DHSS"), "'DHSS' is not an agency"),
        (
            lambda raw: raw["programs"]["E-Verify"].update(aliases=["secure communities"]),
            "programs 'E-Verify', field 'aliases': 'secure communities' is already an alias",
        ),
        (lambda raw: raw["qualifiers"].update(nearly="almost"), "qualifiers, field 'nearly'"),
        (lambda raw: raw["shares"].update(half=50), "'half': a share must be a fraction"),
        (lambda raw: raw["vague_numbers"].update(eleven=11), "'eleven' is also listed"),
        (lambda raw: raw["numbers"]["en"]["tens"].update(twenty=21), "numbers 'en', field 'tens'"),
        (lambda raw: raw["cumulative_markers"].append("since ("), "cumulative_markers["),
    ],
)
def test_lexicon_errors_name_the_entry_and_field(change: Any, message: str) -> None:
    raw = _lexicon_raw()
    change(raw)
    with pytest.raises(LexiconError) as err:
        parse_lexicon(raw, "lexicon.yaml")
    assert message in str(err.value), str(err.value)
