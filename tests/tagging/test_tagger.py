"""The tagger: relevance, subtopics and evidence on headlines and full articles."""

from __future__ import annotations

import math
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from policy_news.models import Evidence, TagResult
from policy_news.settings import Settings
from policy_news.tagging.rows import result_rows
from policy_news.tagging.tagger import Tagger, _builtin_terms, get_tagger
from tests.tagging.conftest import SEED_SUBTOPICS, subtopic_ids


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
    assert {"use_of_force", "protest_politics"} <= subtopic_ids(result)
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
    assert "border" in subtopic_ids(result)


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
    assert {"arrests_operations", "worksite"} <= subtopic_ids(result)
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
    assert "border" in subtopic_ids(result)
    assert "courts_litigation" not in subtopic_ids(result)


def test_seed_article_gets_the_expectedsubtopic_ids(seed_result: TagResult) -> None:
    assert seed_result.relevant and seed_result.score >= 0.9
    assert subtopic_ids(seed_result) >= SEED_SUBTOPICS


def test_from_path_none_uses_the_configured_taxonomy(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, settings: Settings
) -> None:
    copy = tmp_path / "tax.yaml"
    text = settings.taxonomy_path.read_text(encoding="utf-8")
    copy.write_text(
        re.sub(r"^version: .*$", 'version: "test-1"', text, flags=re.M), encoding="utf-8"
    )
    monkeypatch.setenv("POLICY_NEWS_TAXONOMY", str(copy))
    assert Tagger.from_path(None).version == "test-1"


def test_get_tagger_is_shared_until_the_file_changes(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "tax.yaml"
    shutil.copy(settings.taxonomy_path, path)
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


def test_builtin_countries_leave_out_neighbours_home_and_names_that_are_words() -> None:
    countries = set(_builtin_terms("countries"))
    assert {"Brazil", "El Salvador", "Venezuela"} <= countries
    assert not {"Mexico", "Canada", "Georgia", "Chad", "Jordan", "Turkey"} & countries
    assert not {"United States", "Puerto Rico", "Guam"} & countries


def test_builtin_states_include_dc_and_territories() -> None:
    states = set(_builtin_terms("us_states"))
    assert {"Texas", "Georgia", "District of Columbia", "Puerto Rico"} <= states


def _table_columns(db: Path, table: str) -> list[str]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return [row[0] for row in conn.execute(f"DESCRIBE {table}").fetchall()]


def test_result_rows_have_exactly_the_schema_columns(tagger: Tagger, migrated_db: Path) -> None:
    result = tagger.tag(
        "ICE arrests 1,120 in Florida operation",
        None,
        "Operation Tidal Wave resulted in 1,120 arrests across Florida, ICE said.",
    )
    now = datetime.now(UTC)
    topics, facts, relevance = result_rows("a1", result, now)
    assert topics and facts
    assert all(list(row) == _table_columns(migrated_db, "article_topics") for row in topics)
    assert all(list(row) == _table_columns(migrated_db, "article_facts") for row in facts)
    assert list(relevance) == _table_columns(migrated_db, "article_relevance")
    assert relevance["tagged_at"] == now and relevance["relevant"] is True
    assert relevance["relevance_probability"] == result.probability
    assert relevance["needs_review"] is False
    assert [row["fact_index"] for row in facts] == list(range(len(facts)))
    assert all(isinstance(row["attrs"], str) for row in facts)


def test_result_rows_keep_a_borderline_flag(tagger: Tagger) -> None:
    result = tagger.tag(
        "Sect leader leaves prison again", "Despite parole rules, the inmate met followers online."
    )
    _, _, relevance = result_rows("a1", result, datetime.now(UTC))
    assert relevance["needs_review"] is True and relevance["relevant"] is False
    assert 0.35 <= relevance["relevance_probability"] <= 0.65


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
    assert "detention" in subtopic_ids(result)
    assert "use_of_force" not in subtopic_ids(result)
    shot = tagger.tag("Man dies after ICE officer shoots him during arrest in custody")
    assert "use_of_force" in subtopic_ids(shot)


def test_criminal_records_are_crime_framing_not_court_news(tagger: Tagger) -> None:
    result = tagger.tag(
        "ICE arrests 312 immigrants with criminal convictions in Texas operation",
        "Of those arrested, 187 had criminal convictions or pending charges, ICE said.",
    )
    assert "crime_gangs" in subtopic_ids(result)
    assert "courts_litigation" not in subtopic_ids(result)
    court = tagger.tag("Judge convicted of obstructing an immigration arrest by ICE agents")
    assert "courts_litigation" in subtopic_ids(court)


def test_a_second_subtopic_in_several_sentences_is_not_a_passing_mention(tagger: Tagger) -> None:
    body = " ".join(
        ["The sheriff signed a 287(g) agreement with ICE and deputies joined the task force."] * 12
        + [
            "ICE said people arrested under the program can be deported.",
            "Polls show most voters support deportations of people with criminal records.",
        ]
    )
    result = tagger.tag("Sheriff joins 287(g) program", None, body)
    assert {"local_cooperation_287g", "removal_deportation"} <= subtopic_ids(result)


@pytest.mark.parametrize(
    ("title", "summary", "subtopic"),
    [
        ("Hundreds were deported to Honduras on Friday", None, "removal_deportation"),
        ("Third deportation flight this week lands in Guatemala City", None, "removal_deportation"),
        ("Administration expands third-country removals to Africa", None, "removal_deportation"),
        (
            "Deportees describe conditions on arrival in San Salvador",
            "Most had lived in the United States for a decade.",
            "removal_deportation",
        ),
        (
            "Father of three detained in raid outside his Texas home",
            "Immigration agents took him into custody on Tuesday.",
            "detention",
        ),
        ("Student held by ICE for six weeks is released", None, "detention"),
        ("First migrants sent to Guantanamo as detention center opens", None, "detention"),
        (
            "Administration ends protections for 300,000 Venezuelans",
            "Temporary Protected Status will expire in April.",
            "status_restrictions",
        ),
        ("TPS for Haitians terminated, DHS says", None, "status_restrictions"),
        ("Humanitarian parole program halted for four nationalities", None, "status_restrictions"),
        ("State Department revokes hundreds of student visas", None, "status_restrictions"),
        ("New travel ban bars entry from 12 countries", None, "status_restrictions"),
        (
            "Refugee admissions suspended indefinitely by executive order",
            None,
            "status_restrictions",
        ),
        ("Justice Department steps up denaturalization cases", None, "status_restrictions"),
        ("Court halts the end of parole for Cubans", None, "status_restrictions"),
        ("Pentagon sends more troops to the southern border", None, "border"),
        ("Title 42 expulsions resume at the border", None, "border"),
        ("County signs 287(g) agreement", None, "local_cooperation_287g"),
        ("Appeals court weighs Alien Enemies Act removals", None, "removal_deportation"),
        ("Senate passes the Laken Riley Act", None, "detention"),
        ("Dozens held after agents sweep a meatpacking plant", None, "worksite"),
        ("Proclamation suspends entry of nationals from 12 countries", None, "status_restrictions"),
        ("Administration suspends asylum at the southern border", None, "status_restrictions"),
        (
            "Students legally in the United States face deportation",
            "Immigration officers detained three graduate students this month.",
            "status_restrictions",
        ),
        ("Migrants deported to El Salvador's mega-prison", None, "removal_deportation"),
        ("Deportees held in a prison abroad after removal flights", None, "detention"),
        ("New poll finds most voters oppose mass deportations", None, "protest_politics"),
        ("Students protest ICE raids on campus", None, "protest_politics"),
        ("Venezuelans with TPS lose work permits", None, "status_restrictions"),
        (
            "Green card applications paused for people from 19 countries",
            None,
            "status_restrictions",
        ),
        (
            "Police department to share information with federal immigration officials",
            None,
            "local_cooperation_287g",
        ),
        (
            "City bars police from cooperating with federal immigration enforcement",
            None,
            "sanctuary_noncooperation",
        ),
    ],
)
def test_enforcement_concepts_fire_however_they_are_written(
    tagger: Tagger, title: str, summary: str | None, subtopic: str
) -> None:
    result = tagger.tag(title, summary)
    assert result.relevant, (title, result.score)
    assert subtopic in subtopic_ids(result)


@pytest.mark.parametrize(
    ("title", "summary"),
    [
        ("ICE train to Munich cancelled after snowstorm", None),
        (
            "Rangers beat Bruins on the ice in overtime thriller",
            "Ice hockey fans packed the arena.",
        ),
        ("Poland tightens border with Belarus amid migrant pressure", None),
        ("Greece suspends asylum applications for arrivals from Libya", None),
        ("Border dispute between Ethiopia and Eritrea flares again", None),
        ("Police arrest three after bank robbery downtown", None),
        ("Colombia deploys troops to its border with Venezuela", None),
        ("UK suspends student visas for Nigerian applicants", None),
        ("Parole board denies release for convicted killer", None),
        ("Crackdown in Iran as Trump warns the regime", "Protesters were detained across Tehran."),
    ],
)
def test_traps_stay_out(tagger: Tagger, title: str, summary: str | None) -> None:
    assert not tagger.tag(title, summary).relevant


@pytest.mark.parametrize(
    ("title", "summary"),
    [
        ("Russia bars entry to US officials in tit-for-tat move", None),
        ("Germany suspends entry for asylum seekers at its land borders", None),
        ("El Salvador's mega-prison holds gang members", "The president touts his crackdown."),
        ("Canada ends humanitarian parole for Ukrainians", None),
        ("Britain ends protected status scheme for Hong Kongers", None),
        ("Immigrants register to vote in record numbers", None),
    ],
)
def test_entry_and_prison_traps_stay_out(tagger: Tagger, title: str, summary: str | None) -> None:
    assert not tagger.tag(title, summary).relevant


@pytest.mark.parametrize(
    ("title", "summary", "absent"),
    [
        # Arrests of protesters, judges or attackers are not enforcement operations.
        ("Police arrest protesters outside ICE facility", None, "arrests_operations"),
        ("FBI arrests judge accused of obstructing an ICE arrest", None, "arrests_operations"),
        ("Man arrested for terror attack targeting ICE office", None, "arrests_operations"),
        # "detenidos" are people held, not an arrest operation.
        ("Niegan fianza a activista detenido por ICE", None, "arrests_operations"),
        # A campus protester targeted for deportation is a description, not a protest.
        (
            "Student protester faces deportation",
            "The pro-Palestinian graduate student was detained by ICE.",
            "protest_politics",
        ),
        # A reporter's job title and a criminal accusation are not politics.
        ("White House correspondent explains ICE detention figures", None, "protest_politics"),
        ("Immigrant accused of assault held on ICE detainer", None, "protest_politics"),
        # A facility named "Deportation Depot" is detention, not removal.
        ("Florida opens Deportation Depot detention center", None, "removal_deportation"),
        # Refusing to work with ICE is noncooperation, not cooperation.
        (
            "Sheriff says local police will not cooperate with ICE",
            None,
            "local_cooperation_287g",
        ),
    ],
)
def test_related_words_do_not_make_the_wrong_subtopic(
    tagger: Tagger, title: str, summary: str | None, absent: str
) -> None:
    result = tagger.tag(title, summary)
    assert result.relevant, (title, result.score)
    assert absent not in subtopic_ids(result)


@pytest.mark.parametrize(
    ("title", "summary", "subtopic"),
    [
        (
            "Redada en una planta empacadora deja 70 detenidos",
            "Agentes de ICE llegaron al amanecer.",
            "worksite",
        ),
        (
            "Deportan a 130 guatemaltecos desde Texas",
            "El vuelo salió de El Paso.",
            "removal_deportation",
        ),
        ("La migra detiene a padre de familia en Houston", None, "arrests_operations"),
        ("Patrulla Fronteriza reporta menos cruces en la frontera", None, "border"),
        (
            "Juez niega asilo y emite orden de deportación",
            "El caso sigue en la corte de inmigración.",
            "courts_litigation",
        ),
        ("Gobierno pone fin al TPS para hondureños", None, "status_restrictions"),
        ("Alcalde defiende la política santuario ante ICE", None, "sanctuary_noncooperation"),
    ],
)
def test_spanish_enforcement_vocabulary(
    tagger: Tagger, title: str, summary: str | None, subtopic: str
) -> None:
    result = tagger.tag(title, summary)
    assert result.relevant, (title, result.score)
    assert subtopic in subtopic_ids(result)


def test_spanish_matching_ignores_accents(tagger: Tagger) -> None:
    accented = tagger.tag("Emiten orden de deportación contra activista")
    plain = tagger.tag("Emiten orden de deportacion contra activista")
    assert accented.relevant and plain.relevant
    assert accented.score == plain.score
    ev = accented.relevance_evidence
    assert (
        ev is not None and "deportación" in accented.relevance_evidence.sentence[ev.start : ev.end]
    )


@pytest.mark.parametrize(
    ("title", "summary"),
    [
        ("Alerta por hielo en las carreteras de Colorado", "Placas de hielo negro en la I-70."),
        (
            "Xolos y Juárez se miden en el clásico de la frontera",
            "El duelo fronterizo es el domingo.",
        ),
        (
            "México despliega a la Guardia Nacional en su frontera sur",
            "El gobierno mexicano busca contener migrantes.",
        ),
        (
            "Redada antidrogas en Medellín deja 15 capturados",
            "La Policía de Colombia incautó cocaína.",
        ),
        ("Viajar por Alemania en los trenes ICE", "Los boletos anticipados cuestan menos."),
    ],
)
def test_spanish_traps_stay_out(tagger: Tagger, title: str, summary: str) -> None:
    assert not tagger.tag(title, summary).relevant


def test_probability_is_calibrated_and_rises_with_the_score(tagger: Tagger) -> None:
    cal = tagger.taxonomy.calibration
    assert cal is not None
    clear = tagger.tag("ICE agents arrest 40 in immigration raid", "Deportation flights follow.")
    none = tagger.tag("Council passes budget for parks")
    assert clear.probability is not None and none.probability is not None
    assert clear.probability > 0.9 > 0.1 > none.probability
    assert clear.probability == pytest.approx(cal.probability(clear.score), abs=1e-4)
    assert not clear.needs_review and not none.needs_review


def test_borderline_scores_are_flagged_for_review(tagger: Tagger) -> None:
    cal = tagger.taxonomy.calibration
    assert cal is not None
    low, high = cal.review_band
    # A score whose probability sits mid-band, found by inverting the fit.
    mid = (math.log(1) - cal.intercept) / cal.slope
    assert low <= cal.probability(mid) <= high and cal.needs_review(cal.probability(mid))
    assert not cal.needs_review(cal.probability(0.0))
    assert not cal.needs_review(cal.probability(0.95))
    # A real headline with one summary-only deportation mention lands in the band.
    result = tagger.tag(
        "Takeaways from the week in Washington", "The administration made more deportations."
    )
    assert result.probability is not None
    assert result.needs_review == (low <= result.probability <= high)


def test_no_calibration_leaves_probability_unset(tmp_path: Path, settings: Settings) -> None:
    import yaml

    data = yaml.safe_load(settings.taxonomy_path.read_text(encoding="utf-8"))
    del data["calibration"]
    path = tmp_path / "tax.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = Tagger.from_path(path).tag("ICE agents arrest 40 in immigration raid")
    assert result.relevant and result.probability is None and result.needs_review is False
