"""Measure the tagger against the analysts' labelled dev sets (`make eval`).

    python -m policy_news.tagging.evaluate [--labels-dir DIR] [--json PATH] [--taxonomy PATH]

Prints relevance precision/recall/F1, per-subtopic F1 and micro-F1, the false
positives and negatives, and the same relevance table for a plain keyword regex,
so a taxonomy change can be judged against both the last version and the naive
approach. Exits non-zero only when a labels file is missing.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from policy_news.settings import project_home
from policy_news.tagging.tagger import Tagger, get_tagger

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

POSITIVE = "enforcement"
DATASETS: dict[str, str] = {"headlines": "headlines-dev.jsonl", "articles": "articles-dev.jsonl"}

# The naive approach the issue compares against: any immigration-ish keyword.
BASELINE = re.compile(
    r"\b(?:ICE|CBP|DHS)\b|\b(?i:immigra\w*|deport\w*|migrant\w*|border patrol|287\(g\)|asylum"
    r"|sanctuary|undocumented|visas?\b)"
)


@dataclass(frozen=True)
class Item:
    id: str
    title: str
    summary: str | None
    text: str | None
    relevant: bool
    subtopics: frozenset[str]


@dataclass
class Prediction:
    relevant: bool
    subtopics: frozenset[str] = frozenset()
    score: float = 0.0


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, predicted: bool, actual: bool) -> None:
        self.tp += predicted and actual
        self.fp += predicted and not actual
        self.fn += actual and not predicted

    def metrics(self) -> dict[str, float | int]:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        return {
            "precision": round(p, 4),
            "recall": round(r, 4),
            "f1": round(f1, 4),
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
        }


@dataclass
class Report:
    name: str
    n: int
    relevance: dict[str, float | int]
    subtopics: dict[str, dict[str, float | int]] = field(default_factory=dict)
    micro: dict[str, float | int] = field(default_factory=dict)
    false_positives: list[dict[str, Any]] = field(default_factory=list)
    false_negatives: list[dict[str, Any]] = field(default_factory=list)


def load_items(path: Path) -> list[Item]:
    """Read a labels file; headlines carry `description`, articles carry `text`."""
    items: list[Item] = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            row = json.loads(line)
            items.append(
                Item(
                    id=str(row["id"]),
                    title=row.get("title") or "",
                    summary=row.get("description") or row.get("summary"),
                    text=row.get("text"),
                    relevant=row.get("label") == POSITIVE,
                    subtopics=frozenset(row.get("subtopics") or ()),
                )
            )
    return items


def tagger_predict(tagger: Tagger) -> Callable[[Item], Prediction]:
    def predict(item: Item) -> Prediction:
        result = tagger.tag(item.title, item.summary, item.text)
        return Prediction(result.relevant, frozenset(t.id for t in result.subtopics), result.score)

    return predict


def baseline_predict(item: Item) -> Prediction:
    text = " ".join(part for part in (item.title, item.summary, item.text) if part)
    return Prediction(BASELINE.search(text) is not None)


def evaluate(
    name: str,
    items: Iterable[Item],
    predict: Callable[[Item], Prediction],
    subtopic_ids: list[str] | None = None,
) -> Report:
    """Score predictions; subtopic gold sets are empty for non-enforcement items."""
    relevance = Counts()
    per_topic = {s: Counts() for s in subtopic_ids or []}
    micro = Counts()
    fps: list[dict[str, Any]] = []
    fns: list[dict[str, Any]] = []
    n = 0
    for item in items:
        n += 1
        pred = predict(item)
        relevance.add(pred.relevant, item.relevant)
        if pred.relevant and not item.relevant:
            fps.append({"id": item.id, "title": item.title, "score": pred.score})
        elif item.relevant and not pred.relevant:
            fns.append({"id": item.id, "title": item.title, "score": pred.score})
        for topic, counts in per_topic.items():
            got, want = topic in pred.subtopics, topic in item.subtopics
            counts.add(got, want)
            micro.add(got, want)
    report = Report(name, n, relevance.metrics(), false_positives=fps, false_negatives=fns)
    if subtopic_ids:
        report.subtopics = {
            t: {**c.metrics(), "support": c.tp + c.fn} for t, c in per_topic.items()
        }
        report.micro = micro.metrics()
    return report


def format_report(report: Report, show_errors: bool = True) -> str:
    r = report.relevance
    lines = [
        f"== {report.name} (n={report.n}) ==",
        f"relevance  P={r['precision']:.3f}  R={r['recall']:.3f}  F1={r['f1']:.3f}"
        f"  (tp={r['tp']} fp={r['fp']} fn={r['fn']})",
    ]
    if report.subtopics:
        lines.append(f"  {'subtopic':<26}{'P':>7}{'R':>7}{'F1':>7}{'support':>9}")
        for topic, m in report.subtopics.items():
            scores = f"{m['precision']:>7.3f}{m['recall']:>7.3f}{m['f1']:>7.3f}"
            lines.append(f"  {topic:<26}{scores}{m['support']:>9}")
        m = report.micro
        lines.append(f"  {'micro':<26}{m['precision']:>7.3f}{m['recall']:>7.3f}{m['f1']:>7.3f}")
    if show_errors:
        for label, rows in (
            ("false positives", report.false_positives),
            ("false negatives", report.false_negatives),
        ):
            lines.append(f"  {label}: {len(rows)}")
            lines.extend(
                f"    {row['id']}  {row['score']:.2f}  {row['title'][:100]}" for row in rows
            )
    return "\n".join(lines)


# The targets: relevance F1 and precision per set, subtopic micro-F1 on both.
TARGETS = {
    "headlines": {"f1": 0.95, "precision": 0.90},
    "articles": {"f1": 0.90, "precision": 0.90},
}
MICRO_F1_TARGET = 0.75


def format_summary(results: dict[str, Any]) -> str:
    """One table: tagger against the keyword baseline, with each target and whether it is met."""
    header = (
        f"{'set':<10}{'tagger P':>9}{'R':>7}{'F1':>7}{'baseline P':>12}{'R':>7}{'F1':>7}"
        f"{'micro-F1':>10}  targets"
    )
    lines = ["== summary ==", header]
    for name, pair in results["datasets"].items():
        t, b = pair["tagger"].relevance, pair["baseline"].relevance
        micro = pair["tagger"].micro.get("f1", 0.0)
        goal = TARGETS.get(name, {})
        met = (
            t["f1"] >= goal.get("f1", 0)
            and t["precision"] >= goal.get("precision", 0)
            and micro >= MICRO_F1_TARGET
        )
        target = f"F1>={goal.get('f1', 0):.2f} P>={goal.get('precision', 0):.2f} micro>={MICRO_F1_TARGET}"
        lines.append(
            f"{name:<10}{t['precision']:>9.3f}{t['recall']:>7.3f}{t['f1']:>7.3f}"
            f"{b['precision']:>12.3f}{b['recall']:>7.3f}{b['f1']:>7.3f}{micro:>10.3f}"
            f"  {target}: {'met' if met else 'NOT MET'}"
        )
    return "\n".join(lines)


def default_labels_dir() -> Path:
    return project_home().parent / "shared" / "corpus" / "labels"


def run(labels_dir: Path, tagger: Tagger) -> dict[str, Any]:
    """Evaluate tagger and baseline on every dev set; return the metrics as plain data."""
    out: dict[str, Any] = {"taxonomy_version": tagger.version, "datasets": {}}
    for name, filename in DATASETS.items():
        items = load_items(labels_dir / filename)
        tagged = evaluate(name, items, tagger_predict(tagger), tagger.subtopic_ids)
        base = evaluate(f"{name} baseline", items, baseline_predict)
        out["datasets"][name] = {"tagger": tagged, "baseline": base}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m policy_news.tagging.evaluate", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--labels-dir", type=Path, default=default_labels_dir())
    parser.add_argument("--json", type=Path, help="also write the metrics to this file")
    parser.add_argument("--taxonomy", type=Path, help="taxonomy file (default: the configured one)")
    args = parser.parse_args(argv)
    missing = [
        args.labels_dir / f for f in DATASETS.values() if not (args.labels_dir / f).is_file()
    ]
    if missing:
        print(f"missing labels file(s): {', '.join(map(str, missing))}", file=sys.stderr)
        return 2
    tagger = get_tagger(args.taxonomy)
    results = run(args.labels_dir, tagger)
    print(f"taxonomy version {tagger.version}\n")
    for pair in results["datasets"].values():
        print(format_report(pair["tagger"]))
        print(format_report(pair["baseline"], show_errors=False))
        print()
    print(format_summary(results))
    if args.json:
        payload = {
            "taxonomy_version": results["taxonomy_version"],
            "datasets": {
                name: {kind: vars(rep) for kind, rep in pair.items()}
                for name, pair in results["datasets"].items()
            },
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
