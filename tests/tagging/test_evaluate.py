"""The evaluation: the tagger meets the issue's targets on the dev sets and beats the baseline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policy_news.tagging.calibration import calibration_quality, fit_logistic
from policy_news.tagging.evaluate import (
    SPANISH_FILE,
    Counts,
    Report,
    default_labels_dir,
    evaluate,
    format_summary,
    load_items,
    main,
    run,
    split_half,
    tagger_predict,
    unmet_targets,
)
from policy_news.tagging.tagger import Tagger

LABELS = default_labels_dir()
needs_labels = pytest.mark.skipif(
    not (LABELS / "headlines-dev.jsonl").is_file(), reason=f"labels not found under {LABELS}"
)


@pytest.fixture(scope="module")
def results(tagger: Tagger) -> dict:
    return run(LABELS, tagger)["datasets"]


@needs_labels
def test_january_headlines_meet_targets(results: dict) -> None:
    rep = results["headlines"]["tagger"]
    assert rep.relevance["f1"] >= 0.95, rep.false_negatives + rep.false_positives
    assert rep.relevance["precision"] >= 0.92
    assert rep.micro["f1"] >= 0.85


@needs_labels
@pytest.mark.parametrize("name", ["headlines", "headlines-2025", "articles"])
def test_every_labelled_set_meets_every_target(results: dict, name: str) -> None:
    rep = results[name]["tagger"]
    assert unmet_targets(rep) == [], rep.false_negatives + rep.false_positives


@needs_labels
def test_2025_headlines_beat_the_baseline(results: dict) -> None:
    pair = results["headlines-2025"]
    assert pair["tagger"].relevance["f1"] > pair["baseline"].relevance["f1"]


@needs_labels
def test_cross_period_figure_comes_from_the_frozen_taxonomy(tagger: Tagger) -> None:
    """The 2025 holdout half is scored by 2026.04.0, the last version that never read it."""
    out = run(LABELS, tagger)
    cross = out["cross_period"]
    assert (cross["set"], cross["taxonomy_version"]) == ("headlines-2025/holdout", "2026.04.0")
    assert cross["tagger"].n == out["halves"]["headlines-2025/holdout"]["tagger"].n
    # The figure docs/taxonomy.md quotes for it (F1 0.882, micro-F1 0.697).
    assert cross["tagger"].relevance["f1"] == pytest.approx(0.882, abs=0.001)
    assert cross["tagger"].micro["f1"] == pytest.approx(0.697, abs=0.001)
    same = run(LABELS, tagger, cross_taxonomy=None)["cross_period"]
    assert same["taxonomy_version"] == tagger.version
    missing = Path("/nonexistent/taxonomy.yaml")  # an image shipped without tests/
    assert run(LABELS, tagger, cross_taxonomy=missing)["cross_period"]["taxonomy_version"] == (
        tagger.version
    )


@needs_labels
def test_tagger_beats_the_keyword_baseline(results: dict) -> None:
    for name in ("headlines", "articles", "spanish"):
        pair = results[name]
        assert pair["tagger"].relevance["f1"] > pair["baseline"].relevance["f1"] + 0.05


def test_spanish_set_meets_every_target(tagger: Tagger) -> None:
    # The Spanish set lives in the repo, so this runs without the shared corpus.
    items = load_items(SPANISH_FILE)
    assert len(items) >= 40
    assert {i.relevant for i in items} == {True, False}
    rep = evaluate("spanish", items, tagger_predict(tagger), tagger.subtopic_ids)
    assert unmet_targets(rep) == [], rep.false_negatives + rep.false_positives


def test_split_half_is_deterministic_and_roughly_even() -> None:
    ids = [f"item-{i}" for i in range(400)]
    halves = [split_half(i) for i in ids]
    assert halves == [split_half(i) for i in ids]
    assert set(halves) == {"dev", "holdout"}
    assert 150 < halves.count("dev") < 250


def test_fit_logistic_recovers_a_rising_probability() -> None:
    pairs = [(x / 10, int(x >= 5)) for x in range(10) for _ in range(5)]
    pairs += [(0.45, 1), (0.55, 0)]  # not separable, so the fit is finite
    slope, intercept = fit_logistic(pairs)
    assert slope > 0
    assert -slope * 0.6 < intercept < -slope * 0.4  # p = 0.5 between 0.4 and 0.6
    quality = calibration_quality(pairs, slope, intercept, (0.35, 0.65))
    assert quality["brier"] < 0.1 and quality["n"] == len(pairs)


def test_unmet_targets_names_each_miss() -> None:
    rel = {"precision": 0.9, "recall": 1.0, "f1": 0.947, "tp": 9, "fp": 1, "fn": 0}
    weak = {"precision": 0.5, "recall": 0.5, "f1": 0.5, "tp": 5, "fp": 5, "fn": 5, "support": 10}
    rare = {**weak, "support": 9}
    rep = Report("x", 10, rel, {"detention": weak, "worksite": rare}, {"f1": 0.9})
    misses = unmet_targets(rep)
    assert any(m.startswith("F1 0.947") for m in misses)
    assert any(m.startswith("P 0.900") for m in misses)
    assert any(m.startswith("detention") for m in misses)
    assert not any(m.startswith("worksite") for m in misses)  # fewer than 10 examples
    assert not any(m.startswith("micro") for m in misses)


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
    (labels / "headlines-2025-dev.jsonl").write_text(
        json.dumps(
            {
                "id": "y1",
                "title": "Judge blocks deportation flights to a third country",
                "description": "",
                "label": "enforcement",
                "subtopics": ["courts_litigation", "removal_deportation"],
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
    assert set(data["datasets"]) == {"headlines", "headlines-2025", "articles", "spanish"}
    assert {"headlines/dev", "headlines/holdout", "headlines-2025/holdout"} <= set(data["halves"])
    assert data["cross_period"]["set"] == "headlines-2025/holdout"
    assert data["cross_period"]["taxonomy_version"] == "2026.04.0"
    assert data["datasets"]["headlines"]["tagger"]["calibration"]["brier"] >= 0
    assert data["unmet"]["headlines-2025"] == []
    out_text = capsys.readouterr().out
    assert "headlines (n=2)" in out_text and "cross-period" in out_text


def test_summary_table_shows_tagger_baseline_and_targets() -> None:
    def rep(p: float, r: float, f1: float, micro: float = 0.0) -> Report:
        rel = {"precision": p, "recall": r, "f1": f1, "tp": 1, "fp": 0, "fn": 0}
        return Report("x", 1, rel, micro={"f1": micro} if micro else {})

    good = {"tagger": rep(1.0, 0.96, 0.98, 0.88), "baseline": rep(0.77, 0.96, 0.85)}
    text = format_summary(
        {
            "datasets": {
                "headlines": good,
                "articles": {"tagger": rep(0.8, 1.0, 0.89, 0.80), "baseline": rep(0.56, 1.0, 0.72)},
            },
            "halves": {"headlines/holdout": good},
            "cross_period": {"set": "headlines/holdout", **good},
        }
    )
    lines = text.splitlines()
    assert lines[3].startswith("headlines") and lines[3].endswith("met")
    assert "NOT MET" not in lines[3] and "0.850" in lines[3]
    assert lines[4].startswith("articles") and "NOT MET: F1 0.890<0.95, P 0.800<0.92" in lines[4]
    assert lines[5].startswith("headlines/holdout")
    assert lines[6].startswith("cross-period: headlines/holdout")
