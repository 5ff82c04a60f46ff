"""The taxonomy file: the shipped one is valid, broken ones fail with a message naming the spot."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from policy_news.settings import get_settings
from policy_news.tagging.taxonomy import (
    GUIDE_SUBTOPICS,
    TaxonomyError,
    load_taxonomy,
    parse_taxonomy,
)

SHIPPED = get_settings().taxonomy_path


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    return yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))


def _rule(data: dict[str, Any], subtopic: str, rule_id: str) -> dict[str, Any]:
    topic = next(t for t in data["subtopics"] if t["id"] == subtopic)
    return next(r for r in topic["rules"] if r["id"] == rule_id)


def _error(data: dict[str, Any]) -> str:
    with pytest.raises(TaxonomyError) as exc:
        parse_taxonomy(data, "test.yaml")
    return str(exc.value)


def test_shipped_taxonomy_loads_with_the_guide_subtopics() -> None:
    tax = load_taxonomy(SHIPPED)
    assert tax.version
    assert tax.relevance.id == "immigration_enforcement"
    assert tax.subtopic_ids == list(GUIDE_SUBTOPICS)


def test_broken_pattern_error_names_subtopic_and_rule(raw: dict[str, Any]) -> None:
    data = copy.deepcopy(raw)
    _rule(data, "detention", "det-facility")["patterns"] = ["detention (center"]
    message = _error(data)
    assert (
        "subtopic 'detention', rule 'det-facility': pattern 'detention (center' does not compile"
        in message
    )


def test_misspelt_key_is_reported_with_its_rule(raw: dict[str, Any]) -> None:
    data = copy.deepcopy(raw)
    _rule(data, "border", "bor-border-bare")["exlcude"] = ["foreign"]
    message = _error(data)
    assert "subtopic 'border', rule 'bor-border-bare'" in message
    assert "exlcude" in message


def test_unknown_concept_is_reported(raw: dict[str, Any]) -> None:
    data = copy.deepcopy(raw)
    data["relevance"]["rules"][0]["require"] = ["no_such_concept"]
    assert "relevance, rule 'rel-ice': unknown concept 'no_such_concept'" in _error(data)


def test_missing_guide_subtopic_is_reported(raw: dict[str, Any]) -> None:
    data = copy.deepcopy(raw)
    data["subtopics"] = [t for t in data["subtopics"] if t["id"] != "worksite"]
    assert "['worksite'] from the topic guide are missing" in _error(data)


def test_star_inside_a_term_is_rejected(raw: dict[str, Any]) -> None:
    data = copy.deepcopy(raw)
    _rule(data, "worksite", "work-terms")["terms"] = ["work*site"]
    message = _error(data)
    assert "subtopic 'worksite', rule 'work-terms'" in message
    assert "only allowed at the end" in message


def test_duplicate_rule_id_is_rejected(raw: dict[str, Any]) -> None:
    data = copy.deepcopy(raw)
    _rule(data, "worksite", "work-terms")["id"] = "rel-ice"
    assert "rule 'rel-ice': rule id already used in relevance" in _error(data)


def test_zero_weight_is_rejected(raw: dict[str, Any]) -> None:
    data = copy.deepcopy(raw)
    _rule(data, "worksite", "work-terms")["weight"] = 0
    assert "weight 0 does nothing" in _error(data)


def test_missing_file_and_bad_yaml_raise_taxonomy_error(tmp_path: Path) -> None:
    with pytest.raises(TaxonomyError, match="cannot read taxonomy"):
        load_taxonomy(tmp_path / "absent.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: [unclosed\n", encoding="utf-8")
    with pytest.raises(TaxonomyError, match="not valid YAML"):
        load_taxonomy(bad)


def test_definition_round_trips_through_validation(raw: dict[str, Any]) -> None:
    tax = parse_taxonomy(raw)
    assert parse_taxonomy(tax.definition()) == tax


def test_unknown_concept_in_article_require_is_reported(raw: dict[str, Any]) -> None:
    data = copy.deepcopy(raw)
    data["relevance"]["rules"][0]["article_require"] = ["no_such_concept"]
    assert "relevance, rule 'rel-ice': unknown concept 'no_such_concept'" in _error(data)


def test_keep_total_must_be_positive(raw: dict[str, Any]) -> None:
    data = copy.deepcopy(raw)
    data["scoring"]["subtopic_keep_total"] = 0
    assert "subtopic_keep_total" in _error(data)


def test_shipped_taxonomy_has_a_calibration_with_a_band() -> None:
    cal = load_taxonomy(SHIPPED).calibration
    assert cal is not None and cal.slope > 0
    low, high = cal.review_band
    assert 0 < low < high < 1
    assert cal.probability(0.0) < 0.5 < cal.probability(1.0)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"review_band": [0.7, 0.3]}, "review_band [0.7, 0.3] must be [low, high]"),
        ({"review_band": [0.2, 1.5]}, "review_band"),
        ({"slope": -1.0}, "calibration, slope"),
        ({"method": "isotonic"}, "calibration, method"),
        ({"slpoe": 2.0}, "slpoe"),
    ],
)
def test_broken_calibration_is_reported(
    raw: dict[str, Any], change: dict[str, Any], message: str
) -> None:
    data = copy.deepcopy(raw)
    data["calibration"].update(change)
    assert message in _error(data)


def test_calibration_is_optional(raw: dict[str, Any]) -> None:
    data = copy.deepcopy(raw)
    del data["calibration"]
    assert parse_taxonomy(data).calibration is None
