"""The tagger scored against stored review decisions; agreement between reviewers."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from policy_news.tagging import evaluate
from policy_news.tagging.review_eval import review_report

NOW = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def db(migrated_db: Path) -> Path:
    """Four articles tagged by version v1; two reviewers."""
    con = duckdb.connect(str(migrated_db))
    con.execute("INSERT INTO taxonomy_versions VALUES ('v1', ?, TRUE, NULL)", [NOW])
    machine = {
        "a": (True, ["border"]),
        "b": (True, ["detention"]),
        "c": (False, []),
        "d": (False, []),
    }
    for article_id, (relevant, topics) in machine.items():
        con.execute(
            "INSERT INTO articles (article_id, url, feed_name, date_source, fetched_at, "
            "first_run_id, last_run_id, loaded_at, relevant, taxonomy_version) "
            "VALUES (?, 'u', 'f', 'feed', ?, 'r', 'r', ?, ?, 'v1')",
            [article_id, NOW, NOW, relevant],
        )
        con.execute(
            "INSERT INTO article_relevance (article_id, taxonomy_version, relevant, "
            "relevance_score, tagged_at) VALUES (?, 'v1', ?, 0.5, ?)",
            [article_id, relevant, NOW],
        )
        for topic in topics:
            con.execute(
                "INSERT INTO article_topics VALUES (?, ?, 'v1', 0.9, 's', 'text', 0, 1, 'r')",
                [article_id, topic],
            )
    reviews = [
        # article, reviewer, at, relevant, subtopics
        ("a", "alice", 1, True, ["border", "protest_politics"]),  # topics: tp border, fn protest
        ("b", "alice", 1, False, None),  # relevance fp; topics: fp detention
        ("c", "alice", 1, True, None),  # relevance fn; subtopics not scored
        ("d", "alice", 1, False, None),  # tn
        ("a", "bob", 0, True, None),
        ("b", "bob", 0, True, None),
        ("c", "bob", 0, False, None),
        ("d", "bob", 0, False, None),
    ]
    for article_id, reviewer, day, relevant, subtopics in reviews:
        con.execute(
            "INSERT INTO tag_reviews VALUES (?, ?, ?, 'v1', ?, ?, NULL)",
            [article_id, reviewer, datetime(2026, 3, 2 + day, tzinfo=UTC), relevant, subtopics],
        )
    con.close()
    return migrated_db


def test_tagger_is_scored_against_the_latest_decisions(db: Path) -> None:
    with duckdb.connect(str(db), read_only=True) as conn:
        report = review_report(conn)["tagger"]
    assert report["reviewed_articles"] == 4
    r = report["relevance"]
    assert (r["tp"], r["fp"], r["fn"]) == (1, 1, 1)
    assert r["precision"] == 0.5 and r["recall"] == 0.5
    assert report["subtopics_scored_on"] == 3
    m = report["subtopic_micro"]
    assert (m["tp"], m["fp"], m["fn"]) == (1, 1, 1)
    assert report["subtopics"]["protest_politics"]["support"] == 1


def test_agreement_of_two_reviewers_is_cohens_kappa(db: Path) -> None:
    # alice yes/no/yes/no, bob yes/yes/no/no: observed 0.5, chance 0.5 -> kappa 0
    with duckdb.connect(str(db), read_only=True) as conn:
        [pair] = review_report(conn)["agreement"]
    assert pair["reviewers"] == ["alice", "bob"] and pair["articles"] == 4
    assert pair["observed_agreement"] == 0.5 and pair["kappa"] == pytest.approx(0.0)


def test_evaluate_with_db_prints_and_writes_the_review_figures(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "eval.json"
    code = evaluate.main(
        ["--labels-dir", str(tmp_path / "none"), "--db", str(db), "--json", str(out)]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "reviewed articles (n=4" in printed
    assert "reviewer agreement alice vs bob: kappa=0.000" in printed
    data = json.loads(out.read_text())
    assert data["reviews"]["tagger"]["relevance"]["f1"] == 0.5
    assert data["reviews"]["agreement"][0]["kappa"] == 0.0


def test_evaluate_without_labels_or_db_still_fails(tmp_path: Path) -> None:
    assert evaluate.main(["--labels-dir", str(tmp_path / "none")]) == 2
