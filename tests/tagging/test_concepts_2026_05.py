"""Concepts changed in taxonomy 2026.05.0 (the 2025 headline set read in full).

The headlines here are invented phrasings of each concept of the topic guide, not items
of the labelled sets; the traps are the nearest things that must stay out.
"""

from __future__ import annotations

import pytest

from policy_news.tagging.tagger import Tagger
from tests.tagging.conftest import subtopic_ids


@pytest.mark.parametrize(
    ("title", "summary", "subtopic"),
    [
        # Lawsuits over an immigration policy, rule or order, and enforcing immigration law.
        ("Justice Department sues county over immigration policy", "", "courts_litigation"),
        ("State files lawsuit over new immigration rule", "", "courts_litigation"),
        (
            "Administration takes city to court",
            "Officials say the ordinance blocks efforts to enforce federal immigration laws.",
            "courts_litigation",
        ),
        # Benefits withheld from or challenged for people without status.
        (
            "Governor signs bill ending in-state tuition for undocumented students",
            "",
            "status_restrictions",
        ),
        ("DOJ challenges Medicaid coverage for illegal immigrants", "", "status_restrictions"),
        # Entry barred; protections from deportation ended; visas re-vetted.
        (
            "New bill would bar certain migrants from entering the United States",
            "",
            "status_restrictions",
        ),
        (
            "Agency ends policy that protected them from deportation",
            "immigrant youths",
            "status_restrictions",
        ),
        ("State Department to re-vet millions of visa holders", "", "status_restrictions"),
        # Removals to El Salvador's prison are removals.
        ("Migrants sent to CECOT plead for return", "", "removal_deportation"),
        # Agents turning up somewhere, or sent after a group, is an operation.
        (
            "Immigration agents showed up outside a church during Sunday service",
            "",
            "arrests_operations",
        ),
        ("ICE to go after immigrants with old deportation orders", "", "arrests_operations"),
        # Crime framing: violent and sexual crimes of the people targeted.
        ("ICE lodges detainer for illegal immigrant accused of rape", "", "crime_gangs"),
        # Pleas are court news; a member of Congress is politics.
        (
            "Rep. pleads not guilty to assaulting officers at immigration facility",
            "",
            "courts_litigation",
        ),
        (
            "Lawmaker pleads not guilty after immigration facility scuffle",
            "Representative Jane Doe says the charges are political.",
            "protest_politics",
        ),
        # Border Patrol at the border is border enforcement.
        ("Border Patrol agents arrest migrants crossing the Rio Grande", "", "border"),
        # Concepts no labelled item needed, from probe headlines of the guide's wording:
        # turn-backs at a port of entry, masked agents, farm raids, family separation, a
        # military base holding migrants, courthouse arrests, admissions cut, agents seizing.
        ("Asylum seekers turned away at port of entry", "", "border"),
        ("State lawmakers pass bill banning masked agents", "", "protest_politics"),
        ("Farmworkers stay home as raids spread through the valley", "", "worksite"),
        ("Families separated at the border sue the government", "", "courts_litigation"),
        ("Navy base to house migrants", "", "detention"),
        ("Advocates warn of courthouse arrests", "", "arrests_operations"),
        ("Refugee admissions cut to record low", "", "status_restrictions"),
        ("Masked agents seize man outside hardware store", "", "arrests_operations"),
        # Second probe round: US-only laws whatever nationality is named, the southwest
        # border, immigration custody and task forces, contracts ended and cooperation
        # limited, force by "agents" in an immigration headline, harbouring and evading,
        # removals to a named country, and headlines that do not say "US".
        ("Venezuelans expelled under wartime law", "", "removal_deportation"),
        ("Apprehensions at southwest border drop again", "", "border"),
        ("Man dies in immigration custody", "", "detention"),
        ("Florida troopers join immigration task force", "", "local_cooperation_287g"),
        ("City council votes to end contract with ICE", "", "sanctuary_noncooperation"),
        (
            "Governor signs law limiting police cooperation with immigration agents",
            "",
            "sanctuary_noncooperation",
        ),
        ("Agents use tear gas on crowd outside immigration building", "", "use_of_force"),
        ("Driver drags officer during immigration stop", "", "use_of_force"),
        ("Woman charged with helping an immigrant evade arrest", "", "courts_litigation"),
        ("Administration to send migrants to Eswatini", "", "removal_deportation"),
        ("Hundreds of immigrants picked up in weekend operation", "", "arrests_operations"),
        ("Student's visa revoked after op-ed", "", "status_restrictions"),
        (
            "Appeals court lets administration end protections for Venezuelans",
            "",
            "status_restrictions",
        ),
        # Third probe round.
        (
            "Sheriff ends jail deal with federal immigration authorities",
            "",
            "sanctuary_noncooperation",
        ),
        (
            "Police chief says officers will not ask about immigration status",
            "",
            "sanctuary_noncooperation",
        ),
        ("Factory owner charged with hiring undocumented workers", "", "worksite"),
        ("Appeals court upholds block on deportations to South Sudan", "", "courts_litigation"),
        # A tirade about immigrants is political conflict.
        (
            "Somalis fear deportation after president's tirade",
            "",
            "protest_politics",
        ),
    ],
)
def test_2026_05_concepts_are_recognised(
    tagger: Tagger, title: str, summary: str, subtopic: str
) -> None:
    result = tagger.tag(title, summary or None)
    assert result.relevant, (title, result.score)
    assert subtopic in subtopic_ids(result), (title, subtopic_ids(result))


@pytest.mark.parametrize(
    ("title", "summary", "subtopic"),
    [
        # Border Patrol sent into a city is an interior operation, not the border.
        ("Border Patrol agents arrive in Chicago for immigration crackdown", "", "border"),
        ("U.S. Border Patrol chief leads raids in Charlotte", "", "border"),
        # A facility that is attacked is force news, not detention.
        ("Sniper opens fire on ICE detention center, killing one", "", "detention"),
        # Agents detaining people in a sweep is the arrest, not detention.
        ("Agents descended on a flea market, detaining several vendors", "", "detention"),
        # Police arrests for a crime are not enforcement operations.
        (
            "Sanctuary county freed man before his arrest on suspicion of murder",
            "ICE had asked the county to hold him.",
            "arrests_operations",
        ),
        # The White House as the executive suing is not politics; "war on terror" is no clash.
        ("White House sues state over immigration law", "", "protest_politics"),
        ("How the war on terror shaped student deportations", "", "protest_politics"),
        # A court case that "pleads with" is not a plea.
        ("Sheriff pleads with ICE to share shooting evidence", "", "courts_litigation"),
        # ICE holding people is not an "ICE hold" (a detainer).
        ("Inside the warehouse where ICE holds hundreds", "", "local_cooperation_287g"),
    ],
)
def test_2026_05_subtopic_traps_stay_out(
    tagger: Tagger, title: str, summary: str, subtopic: str
) -> None:
    result = tagger.tag(title, summary or None)
    assert result.relevant, (title, result.score)
    assert subtopic not in subtopic_ids(result), (title, subtopic_ids(result))


@pytest.mark.parametrize(
    "title",
    [
        "Union lawsuit over pension rule heads to court",
        "Students sue university over tuition increase",
        "UK court rules on Home Office immigration policy",
        "Serco representatives meet county officials about a prison contract",
        "National Border Patrol Council endorses Senate candidate",
        "Lawmakers debate Medicaid benefits for seniors",
        "Travel bar reopens after renovation",
        "Police raid cannabis farm in the hills",
        "Drug raid at dairy farm nets fentanyl",
        "Army base to host veterans parade",
        "Ukrainian refugees housed at military base in Poland",
        "Budget cuts hit visa processing office",
        "Cuts to refugee aid in Europe",
        "Farmworkers protest heat rules in California",
        "Hong Kong police arrest masked protesters",
        "Mexico detains hundreds of migrants heading north",
        "Canada revokes visas of foreign students",
        "Rio Grande do Sul floods displace thousands",
        "Immigrants held a rally for better wages",
        "Ukraine extends wartime law for another 90 days",
        "Deportivo Cali beats rivals 2-0",
        "Korea tightens visa rules for Chinese tourists",
        "Israel deports activists from flotilla",
        "Storm prevents tourists from entering the park",
    ],
)
def test_2026_05_traps_stay_out(tagger: Tagger, title: str) -> None:
    result = tagger.tag(title)
    assert not result.relevant, (title, result.score)


def test_two_terms_on_the_same_words_are_one_piece_of_evidence(tagger: Tagger) -> None:
    """ "criticism" matches both `criticism`-like and `critic*` terms of one rule."""
    scan = tagger._scan(["ICE raids draw criticism from mayors", "", ""])
    hits = tagger._accepted_hits(scan)
    spans = [(h.rule, h.field, h.start, h.end) for h in hits]
    assert len(spans) == len(set(spans))
