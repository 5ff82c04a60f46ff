"""Concepts added in taxonomy 2026.04.0, written from the topic guide (not from labelled items).

Each case is a general newsroom phrasing of one of the guide's concepts; the traps are the
nearest things that are not US immigration enforcement.
"""

from __future__ import annotations

import pytest

from policy_news.tagging.tagger import Tagger
from tests.tagging.conftest import subtopic_ids


@pytest.mark.parametrize(
    ("title", "subtopic"),
    [
        # Agents sweeping, rounding up or detaining people, with no immigration word.
        ("Federal agents fan out across Chicago in new enforcement blitz", "arrests_operations"),
        ("Agents round up street vendors in early-morning raids", "arrests_operations"),
        ("Masked agents detain day laborers outside hardware store", "arrests_operations"),
        ("Agents detain farmworkers in California fields", "arrests_operations"),
        # Stops and patrols; agents surged into a city.
        ("Roving patrols stop Latino workers at car washes", "arrests_operations"),
        (
            "Supreme Court allows immigration stops based on race, language and job",
            "arrests_operations",
        ),
        ("Federal immigration agents deployed to Portland", "arrests_operations"),
        ("Undocumented immigrants picked up at traffic stops", "arrests_operations"),
        # Worksite audits.
        ("Employers scramble after immigration audits of meatpacking workers", "worksite"),
        # Restrictions on status: issuing stopped, students barred, permits, SEVIS, registration.
        ("US stops issuing visas to truck drivers", "status_restrictions"),
        (
            "Administration bars university from enrolling international students",
            "status_restrictions",
        ),
        ("Work permits revoked for hundreds of thousands of parolees", "status_restrictions"),
        ("Foreign students' records terminated in SEVIS database", "status_restrictions"),
        ("Judge blocks order ending birthright citizenship", "status_restrictions"),
        ("Judge blocks order ending birthright citizenship", "courts_litigation"),
        (
            "Trump administration requires immigrants to register with the government",
            "status_restrictions",
        ),
        # Removals to another country are US removals.
        ("Deportation flights to South Sudan halted by judge", "removal_deportation"),
        ("Removal flights to Venezuela resume", "removal_deportation"),
        ("Immigrants with final orders face swift removal", "removal_deportation"),
        ("Migrants flown to Guantanamo Bay", "removal_deportation"),
        # Detention without the word "immigration" next to it.
        ("Children held for weeks at family detention center in Texas", "detention"),
        ("Overcrowded holding rooms at immigration building draw scrutiny", "detention"),
        # The border: encounters, closing it.
        ("Migrant encounters at the border drop in May", "border"),
        ("Administration closes the border to asylum seekers", "border"),
        # Local cooperation in an enforcement role; sanctuary without the word.
        (
            "Texas requires sheriffs to join immigration enforcement program",
            "local_cooperation_287g",
        ),
        ("State troopers to act as immigration officers", "local_cooperation_287g"),
        (
            "Trump threatens to cut funding to cities that shield immigrants",
            "sanctuary_noncooperation",
        ),
        (
            "County jail stops holding inmates for immigration authorities",
            "sanctuary_noncooperation",
        ),
        # Protest phrasing and force inflections.
        ("Thousands march against deportations in Los Angeles", "protest_politics"),
        ("Protesters clash with federal agents outside immigration facility", "protest_politics"),
        ("Gunman opens fire on ICE office", "use_of_force"),
        ("Federal agent shoots man during immigration stop", "use_of_force"),
        # "Tren de Aragua" is not a Spanish train next to ICE.
        ("ICE targets Tren de Aragua members in nationwide operation", "crime_gangs"),
    ],
)
def test_2025_concepts_are_recognised(tagger: Tagger, title: str, subtopic: str) -> None:
    result = tagger.tag(title)
    assert result.relevant, (title, result.score)
    assert subtopic in subtopic_ids(result), (title, subtopic_ids(result))


@pytest.mark.parametrize(
    "title",
    [
        "FBI agents raid home of former national security adviser",
        "Federal agents raid offices of city contractor in bribery probe",
        "Federal agents detain suspect in campus shooting",
        "Secret Service agents detain man who scaled White House fence",
        "Federal officers raid election office in Colorado",
        "Agents sweep through NBA free agency",
        "Jews deported to Auschwitz remembered on anniversary",
        "Pakistan begins deportation flights to Afghanistan",
        "Germany resumes deportation flights to Afghanistan",
        "UK deportation flights to Rwanda grounded",
        "Libya detains hundreds of illegal migrants in desert raid",
        "Pakistan says undocumented Afghans will be removed by March",
        "Immigrant groups celebrate removal of statue",
        "Town close to the border braces for wildfire",
        "Poland closes the border with Belarus",
        "State defies court order on redistricting",
        "Ireland debates birthright citizenship",
        "Canada cuts work permits for foreign students",
        "Canada caps international students for second year",
        "Japan's immigration agency to tighten rules for foreign workers",
        "Thousands march against war in London",
        "Senate bars members from trading stocks",
    ],
)
def test_2025_concept_traps_stay_out(tagger: Tagger, title: str) -> None:
    result = tagger.tag(title)
    assert not result.relevant, (title, result.score)


def test_ice_agents_reporting_a_surge_in_attacks_is_not_a_surge_of_agents(tagger: Tagger) -> None:
    result = tagger.tag("ICE officers report a surge in assaults this year")
    assert result.relevant
    assert "arrests_operations" not in subtopic_ids(result)
