"""The tagger: relevance, subtopics and evidence on headlines and full articles."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from policy_news.models import Evidence, TagResult
from policy_news.settings import get_settings
from policy_news.tagging.tagger import Tagger, get_tagger, result_rows

REPO_ROOT = Path(__file__).resolve().parents[2]
SEED = REPO_ROOT.parent / "shared" / "seed" / "article.txt"
MIGRATION = REPO_ROOT / "include" / "policy_news" / "store" / "migrations" / "001_initial.sql"


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return get_tagger()


def _subtopics(result: TagResult) -> set[str]:
    return {t.id for t in result.subtopics}


def _assert_evidence_points_into_field(ev: Evidence, fields: dict[str, str]) -> None:
    text = fields[ev.field]
    assert 0 <= ev.start < ev.end <= len(text)
    assert text[ev.start : ev.end] in ev.sentence
    assert ev.sentence in text


def test_headline_about_an_ice_shooting_is_relevant_with_use_of_force(tagger: Tagger) -> None:
    result = tagger.tag(
        "ICE officer fatally shoots woman during immigration operation",
        "Protesters gathered as the mayor demanded answers from federal agents.",
    )
    assert result.relevant and result.score >= 0.5
    assert {"use_of_force", "protest_politics"} <= _subtopics(result)
    assert result.taxonomy_version == tagger.version
    assert result.relevance_evidence is not None
    assert result.relevance_evidence.rule_id == "rel-ice"


@pytest.mark.parametrize(
    "title",
    [
        "ICE train from Frankfurt delayed by storm damage on the line",
        "Shares of ICE rise as Intercontinental Exchange reports record futures volume",
        "Dancing On Ice star reveals engagement after skating final",
        "Best ice cream shops to visit this summer",
        "DANCING ON ICE: THE FINAL RESULTS ARE IN AND FANS ARE FURIOUS",
    ],
)
def test_ice_that_is_not_the_agency_is_not_relevant(tagger: Tagger, title: str) -> None:
    assert not tagger.tag(title).relevant


@pytest.mark.parametrize(
    ("title", "summary"),
    [
        (
            "Thousands flee clashes on the Colombia-Venezuela border",
            "Families crossed the border crossing as troops deployed.",
        ),
        (
            "Small boat migrants reached UK in record numbers",
            "Home Office data showed more asylum seekers crossed the Channel.",
        ),
        ("Australia to deport British man over extremist links", "His visa was cancelled."),
        ("Border collie steals the show at ski resort", "The dog raced the skiers downhill."),
    ],
)
def test_other_countries_and_other_borders_are_not_relevant(
    tagger: Tagger, title: str, summary: str
) -> None:
    assert not tagger.tag(title, summary).relevant


def test_names_inside_outlet_titles_are_not_evidence(tagger: Tagger) -> None:
    result = tagger.tag(
        "Venezuela Detained and Deported Members of the Foreign Press - The New York Times",
        "Military officers detained 14 members of the news media. One was deported.",
    )
    assert not result.relevant


def test_us_border_enforcement_headline_is_relevant(tagger: Tagger) -> None:
    result = tagger.tag(
        "Border crossings fall as new asylum restrictions take effect",
        "Border Patrol agents reported fewer apprehensions at the southern border.",
    )
    assert result.relevant
    assert "border" in _subtopics(result)


def test_spanish_enforcement_terms_are_recognised(tagger: Tagger) -> None:
    result = tagger.tag("Redadas de ICE en Chicago", "Agentes de inmigración detuvieron a decenas.")
    assert result.relevant


def test_unrelated_article_has_no_tags_or_facts(tagger: Tagger) -> None:
    text = " ".join(["The city council approved a new budget for parks and libraries."] * 60)
    result = tagger.tag("Council passes budget", None, text)
    assert not result.relevant
    assert result.subtopics == [] and result.facts == []


def test_every_evidence_points_into_its_field(tagger: Tagger) -> None:
    fields = {
        "title": "ICE agents arrest dozens in workplace raid at meatpacking plant",
        "summary": "Immigration officers detained 80 workers; a lawsuit followed.",
        "text": (
            "Federal immigration agents raided the plant on Tuesday. U.S. Immigration and Customs "
            "Enforcement said 80 people were detained and would face deportation. The company "
            "said it used E-Verify. Advocates filed a lawsuit in federal court."
        ),
    }
    result = tagger.tag(fields["title"], fields["summary"], fields["text"])
    assert result.relevant
    assert {"arrests_operations", "worksite"} <= _subtopics(result)
    evidences = [t.evidence for t in result.subtopics] + [f.evidence for f in result.facts]
    assert result.relevance_evidence is not None
    for ev in [result.relevance_evidence, *evidences]:
        _assert_evidence_points_into_field(ev, fields)
        assert ev.rule_id


def test_evidence_offsets_survive_curly_quotes_and_unusual_case(tagger: Tagger) -> None:
    title = "“İstanbul” visitor held: ICE’s agents detain man at courthouse"
    result = tagger.tag(title)
    assert result.relevant
    ev = result.relevance_evidence
    assert ev is not None and title[ev.start : ev.end] == "ICE"


def test_subtopics_are_only_given_to_relevant_items(tagger: Tagger) -> None:
    result = tagger.tag("Protesters rally against the mayor over budget cuts and police raids")
    assert not result.relevant
    assert result.subtopics == []


def test_long_article_only_gets_the_subtopics_it_is_about(tagger: Tagger) -> None:
    body = " ".join(
        [
            "Congress debated funding for the border wall and border security "
            "along the southern border."
        ]
        * 12
        + ["One senator mentioned a lawsuit in passing."]
    )
    result = tagger.tag("Shutdown looms over border wall funding", None, body)
    assert result.relevant
    assert "border" in _subtopics(result)
    assert "courts_litigation" not in _subtopics(result)


def test_seed_article_gets_the_expected_subtopics(tagger: Tagger) -> None:
    if not SEED.is_file():
        pytest.skip(f"seed article not found at {SEED}")
    result = tagger.tag("", None, SEED.read_text(encoding="utf-8"))
    assert result.relevant and result.score >= 0.9
    assert _subtopics(result) >= {
        "local_cooperation_287g",
        "arrests_operations",
        "crime_gangs",
        "removal_deportation",
        "protest_politics",
    }


def test_from_path_none_uses_the_configured_taxonomy(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    copy = tmp_path / "tax.yaml"
    text = get_settings().taxonomy_path.read_text(encoding="utf-8")
    copy.write_text(
        re.sub(r"^version: .*$", 'version: "test-1"', text, flags=re.M), encoding="utf-8"
    )
    monkeypatch.setenv("POLICY_NEWS_TAXONOMY", str(copy))
    assert Tagger.from_path(None).version == "test-1"


def test_get_tagger_is_shared_until_the_file_changes(tmp_path: Path) -> None:
    path = tmp_path / "tax.yaml"
    shutil.copy(get_settings().taxonomy_path, path)
    first = get_tagger(path)
    assert get_tagger(path) is first
    text = path.read_text(encoding="utf-8")
    path.write_text(
        re.sub(r"^version: .*$", 'version: "test-2"', text, flags=re.M), encoding="utf-8"
    )
    import os

    os.utime(path, ns=(first_ns := path.stat().st_mtime_ns + 10**9, first_ns))
    second = get_tagger(path)
    assert second is not first and second.version == "test-2"


def _schema_columns(table: str) -> list[str]:
    sql = MIGRATION.read_text(encoding="utf-8")
    body = re.search(rf"CREATE TABLE {table} \((.*?)\n\);", sql, re.S)
    assert body, table
    names = [line.strip().split()[0] for line in body.group(1).splitlines() if line.strip()]
    return [n for n in names if n.upper() != "PRIMARY"]


def test_result_rows_have_exactly_the_schema_columns(tagger: Tagger) -> None:
    result = tagger.tag(
        "ICE arrests 1,120 in Florida operation",
        None,
        "Operation Tidal Wave resulted in 1,120 arrests across Florida, ICE said.",
    )
    now = datetime.now(UTC)
    topics, facts, relevance = result_rows("a1", result, now)
    assert topics and facts
    assert all(list(row) == _schema_columns("article_topics") for row in topics)
    assert all(list(row) == _schema_columns("article_facts") for row in facts)
    assert list(relevance) == _schema_columns("article_relevance")
    assert relevance["tagged_at"] == now and relevance["relevant"] is True
    assert [row["fact_index"] for row in facts] == list(range(len(facts)))
    assert all(isinstance(row["attrs"], str) for row in facts)


def test_ice_in_an_article_with_no_immigration_context_is_not_the_agency(tagger: Tagger) -> None:
    text = (
        "The ICE leaves Frankfurt every hour and reaches Amsterdam in four hours. "
        "Federal police officers sometimes check passports near the border. "
        "First class on the ICE has wider seats. Book the ICE a few weeks ahead."
    )
    result = tagger.tag("Frankfurt to Amsterdam in four hours", None, text)
    assert not result.relevant
    # The same agency words with immigration context anywhere in the article do count.
    agency = tagger.tag(
        "ICE agents make arrests in Houston",
        None,
        "ICE said the people it arrested were in the country illegally. ICE will continue.",
    )
    assert agency.relevant


def test_a_death_in_custody_is_detention_not_use_of_force(tagger: Tagger) -> None:
    result = tagger.tag(
        "Detainee dies in ICE custody",
        "A man collapsed at an ICE processing center and died in custody, ICE said.",
    )
    assert result.relevant
    assert "detention" in _subtopics(result)
    assert "use_of_force" not in _subtopics(result)
    shot = tagger.tag("Man dies after ICE officer shoots him during arrest in custody")
    assert "use_of_force" in _subtopics(shot)


def test_criminal_records_are_crime_framing_not_court_news(tagger: Tagger) -> None:
    result = tagger.tag(
        "ICE arrests 312 immigrants with criminal convictions in Texas operation",
        "Of those arrested, 187 had criminal convictions or pending charges, ICE said.",
    )
    assert "crime_gangs" in _subtopics(result)
    assert "courts_litigation" not in _subtopics(result)
    court = tagger.tag("Judge convicted of obstructing an immigration arrest by ICE agents")
    assert "courts_litigation" in _subtopics(court)


def test_a_second_subtopic_in_several_sentences_is_not_a_passing_mention(tagger: Tagger) -> None:
    body = " ".join(
        ["The sheriff signed a 287(g) agreement with ICE and deputies joined the task force."] * 12
        + [
            "ICE said people arrested under the program can be deported.",
            "Polls show most voters support deportations of people with criminal records.",
        ]
    )
    result = tagger.tag("Sheriff joins 287(g) program", None, body)
    assert {"local_cooperation_287g", "removal_deportation"} <= _subtopics(result)
