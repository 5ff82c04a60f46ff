"""The evaluation: the tagger meets the issue's targets on the dev sets and beats the baseline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policy_news.tagging.evaluate import Counts, default_labels_dir, main, run
from policy_news.tagging.tagger import get_tagger

LABELS = default_labels_dir()
needs_labels = pytest.mark.skipif(
    not (LABELS / "headlines-dev.jsonl").is_file(), reason=f"labels not found under {LABELS}"
)


@pytest.fixture(scope="module")
def results() -> dict:
    return run(LABELS, get_tagger())["datasets"]


@needs_labels
def test_headlines_meet_targets(results: dict) -> None:
    rep = results["headlines"]["tagger"]
    assert rep.relevance["f1"] >= 0.95, rep.false_negatives + rep.false_positives
    assert rep.relevance["precision"] >= 0.90
    assert rep.micro["f1"] >= 0.75


@needs_labels
def test_articles_meet_targets(results: dict) -> None:
    rep = results["articles"]["tagger"]
    assert rep.relevance["f1"] >= 0.90, rep.false_negatives + rep.false_positives
    assert rep.relevance["precision"] >= 0.90
    assert rep.micro["f1"] >= 0.75


@needs_labels
def test_tagger_beats_the_keyword_baseline(results: dict) -> None:
    for name in ("headlines", "articles"):
        pair = results[name]
        assert pair["tagger"].relevance["f1"] > pair["baseline"].relevance["f1"] + 0.05


def test_counts_compute_precision_recall_f1() -> None:
    c = Counts()
    for predicted, actual in [(True, True), (True, False), (False, True), (True, True)]:
        c.add(predicted, actual)
    m = c.metrics()
    assert (m["tp"], m["fp"], m["fn"]) == (2, 1, 1)
    assert m["precision"] == pytest.approx(2 / 3, abs=1e-4) and m["f1"] == pytest.approx(
        2 / 3, abs=1e-4
    )


def test_missing_labels_exit_non_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--labels-dir", str(tmp_path)]) == 2
    assert "missing labels file" in capsys.readouterr().err


def test_json_report_is_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    labels = tmp_path / "labels"
    labels.mkdir()
    (labels / "headlines-dev.jsonl").write_text(
        json.dumps(
            {
                "id": "h1",
                "title": "ICE agents arrest 12 in raid",
                "description": "",
                "label": "enforcement",
                "subtopics": ["arrests_operations"],
            }
        )
        + "\n"
        + json.dumps(
            {
                "id": "h2",
                "title": "Ice cream sales soar",
                "description": "",
                "label": "unrelated",
                "subtopics": [],
            }
        )
        + "\n"
    )
    (labels / "articles-dev.jsonl").write_text(
        json.dumps(
            {
                "id": "a1",
                "title": "Budget passes",
                "text": "The council passed a budget.",
                "label": "unrelated",
                "subtopics": [],
            }
        )
        + "\n"
    )
    out = tmp_path / "metrics.json"
    assert main(["--labels-dir", str(labels), "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["datasets"]["headlines"]["tagger"]["relevance"]["f1"] == 1.0
    assert "baseline" in data["datasets"]["articles"]
    assert "headlines (n=2)" in capsys.readouterr().out


def test_summary_table_shows_tagger_baseline_and_targets() -> None:
    from policy_news.tagging.evaluate import Report, format_summary

    def rep(p: float, r: float, f1: float, micro: float = 0.0) -> Report:
        rel = {"precision": p, "recall": r, "f1": f1, "tp": 1, "fp": 0, "fn": 0}
        return Report("x", 1, rel, micro={"f1": micro} if micro else {})

    text = format_summary(
        {
            "datasets": {
                "headlines": {
                    "tagger": rep(1.0, 0.96, 0.98, 0.88),
                    "baseline": rep(0.77, 0.96, 0.85),
                },
                "articles": {"tagger": rep(0.8, 1.0, 0.89, 0.80), "baseline": rep(0.56, 1.0, 0.72)},
            }
        }
    )
    lines = text.splitlines()
    assert lines[2].startswith("headlines") and lines[2].endswith(": met")
    assert lines[3].startswith("articles") and lines[3].endswith("NOT MET")
    assert "0.850" in lines[2]
