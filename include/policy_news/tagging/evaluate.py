"""Measure the tagger against the analysts' labelled sets (`make eval`).

    python -m policy_news.tagging.evaluate [--labels-dir DIR] [--spanish PATH] [--json PATH]
                                   [--taxonomy PATH] [--db PATH] [--fit-calibration]

For every labelled set (January 2026 headlines, headlines from ten days of 2025, full
articles and the repo's own Spanish headlines) prints relevance precision/recall/F1,
per-subtopic P/R/F1 with support, micro-F1, the false positives and negatives and the
same relevance table for a plain keyword regex. Each headline set is also scored on two
halves split by a hash of the item id (`dev` and `holdout`). The cross-period figure is
the tagger as of the last taxonomy version written without reading a set, scored on that
set: taxonomy 2026.04.0 (kept frozen under tests/fixtures/taxonomy) on the 2025 holdout
half, which later versions were tuned on (docs/taxonomy.md).
`--fit-calibration` fits the score -> probability map stored in the taxonomy file.
`--db` also scores the stored tags against the reviewers' decisions (`tag_reviews`) and
reports the reviewers' agreement (review_eval.py); with `--db` and no labels files, only
that. Exits non-zero only when a labels file (or the database) is missing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from policy_news.settings import project_home
from policy_news.tagging.calibration import calibration_quality, fit_logistic, reliability_table
from policy_news.tagging.metrics import Counts
from policy_news.tagging.tagger import Tagger, get_tagger

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

POSITIVE = "enforcement"
# Set name -> file under --labels-dir (the shared corpus, not in the repo).
DATASETS: dict[str, str] = {
    "headlines": "headlines-dev.jsonl",
    "headlines-2025": "headlines-2025-dev.jsonl",
    "articles": "articles-dev.jsonl",
}
# Written for the repo (invented Spanish-language headlines), so always available.
SPANISH_NAME = "spanish"
SPANISH_FILE = project_home() / "tests" / "fixtures" / "labels" / "headlines-es.jsonl"
# Sets split into a development half and a held-out half.
SPLIT_SETS = ("headlines", "headlines-2025")
# The set the rules were least tuned on, and the last taxonomy written without reading it:
# up to 2026.04.0 the rules came from January 2026, the articles and the 2025 dev half; from
# 2026.05.0 the 2025 holdout half was read too, so the frozen 2026.04.0 file scores it.
CROSS_PERIOD = ("headlines-2025", "holdout")
CROSS_PERIOD_TAXONOMY = (
    project_home() / "tests" / "fixtures" / "taxonomy" / "immigration_enforcement-2026.04.0.yaml"
)

# The naive approach the issue compares against: any immigration-ish keyword.
BASELINE = re.compile(
    r"\b(?:ICE|CBP|DHS)\b|\b(?i:immigra\w*|deport\w*|migrant\w*|border patrol|287\(g\)|asylum"
    r"|sanctuary|undocumented|visas?\b)"
)


def split_half(item_id: str) -> str:
    """`dev` or `holdout`, fixed by the id alone (so adding items never reshuffles)."""
    return "dev" if hashlib.sha256(item_id.encode("utf-8")).digest()[0] % 2 == 0 else "holdout"


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
    probability: float | None = None
    needs_review: bool = False


@dataclass
class Report:
    name: str
    n: int
    relevance: dict[str, float | int]
    subtopics: dict[str, dict[str, float | int]] = field(default_factory=dict)
    micro: dict[str, float | int] = field(default_factory=dict)
    false_positives: list[dict[str, Any]] = field(default_factory=list)
    false_negatives: list[dict[str, Any]] = field(default_factory=list)
    # Brier score of the calibrated probability and items flagged needs_review.
    calibration: dict[str, float | int] = field(default_factory=dict)


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
        return Prediction(
            result.relevant,
            frozenset(t.id for t in result.subtopics),
            result.score,
            result.probability,
            result.needs_review,
        )

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
    brier = 0.0
    probabilities = review = 0
    for item in items:
        n += 1
        pred = predict(item)
        relevance.add(pred.relevant, item.relevant)
        if pred.probability is not None:
            probabilities += 1
            brier += (pred.probability - item.relevant) ** 2
            review += pred.needs_review
        if pred.relevant and not item.relevant:
            fps.append({"id": item.id, "title": item.title, "score": pred.score})
        elif item.relevant and not pred.relevant:
            fns.append({"id": item.id, "title": item.title, "score": pred.score})
        for topic, counts in per_topic.items():
            got, want = topic in pred.subtopics, topic in item.subtopics
            counts.add(got, want)
            micro.add(got, want)
    report = Report(name, n, relevance.metrics(), false_positives=fps, false_negatives=fns)
    if probabilities:
        report.calibration = {"brier": round(brier / probabilities, 4), "needs_review": review}
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


# The targets, the same for every set (headline periods, articles, Spanish).
TARGET_F1 = 0.95
TARGET_PRECISION = 0.92
MICRO_F1_TARGET = 0.85
SUBTOPIC_F1_TARGET = 0.75
SUBTOPIC_MIN_SUPPORT = 10  # a per-subtopic F1 on fewer examples is noise


def unmet_targets(report: Report) -> list[str]:
    """What a tagger report misses of the targets ([] when all are met)."""
    r = report.relevance
    misses: list[str] = []
    if r["f1"] < TARGET_F1:
        misses.append(f"F1 {r['f1']:.3f}<{TARGET_F1}")
    if r["precision"] < TARGET_PRECISION:
        misses.append(f"P {r['precision']:.3f}<{TARGET_PRECISION}")
    if report.micro and report.micro["f1"] < MICRO_F1_TARGET:
        misses.append(f"micro {report.micro['f1']:.3f}<{MICRO_F1_TARGET}")
    for topic, m in report.subtopics.items():
        if m["support"] >= SUBTOPIC_MIN_SUPPORT and m["f1"] < SUBTOPIC_F1_TARGET:
            misses.append(f"{topic} {m['f1']:.3f}<{SUBTOPIC_F1_TARGET}")
    return misses


def _summary_line(name: str, pair: dict[str, Report], check: bool = True) -> str:
    t, b = pair["tagger"].relevance, pair["baseline"].relevance
    micro = pair["tagger"].micro.get("f1", 0.0)
    line = (
        f"{name:<24}{pair['tagger'].n:>5}{t['precision']:>8.3f}{t['recall']:>7.3f}{t['f1']:>7.3f}"
        f"{micro:>10.3f}{b['precision']:>12.3f}{b['recall']:>7.3f}{b['f1']:>7.3f}"
    )
    if not check:
        return line
    misses = unmet_targets(pair["tagger"])
    return f"{line}  {'met' if not misses else 'NOT MET: ' + ', '.join(misses)}"


def format_summary(results: dict[str, Any]) -> str:
    """One table: tagger against the keyword baseline per set, half and the cross-period set."""
    header = (
        f"{'set':<24}{'n':>5}{'P':>8}{'R':>7}{'F1':>7}{'micro-F1':>10}"
        f"{'baseline P':>12}{'R':>7}{'F1':>7}  targets"
    )
    lines = [
        "== summary ==",
        f"targets on every set: F1>={TARGET_F1} P>={TARGET_PRECISION} micro>={MICRO_F1_TARGET},"
        f" each subtopic with >={SUBTOPIC_MIN_SUPPORT} examples F1>={SUBTOPIC_F1_TARGET}",
        header,
    ]
    for name, pair in results["datasets"].items():
        lines.append(_summary_line(name, pair))
    for name, pair in results.get("halves", {}).items():
        lines.append(_summary_line(name, pair, check=False))
    cross = results.get("cross_period")
    if cross:
        label = f"cross-period: {cross['set']}"
        if cross.get("taxonomy_version"):
            label += f" @ {cross['taxonomy_version']}"
        lines.append(_summary_line(label, cross, check=False))
    return "\n".join(lines)


def format_subtopic_table(results: dict[str, Any]) -> str:
    """Per-subtopic F1 (support) side by side for every set."""
    names = list(results["datasets"])
    reports = [results["datasets"][n]["tagger"] for n in names]
    topics = list(reports[0].subtopics) if reports else []
    lines = [
        "== subtopic F1 (support) ==",
        f"{'subtopic':<26}" + "".join(f"{n:>17}" for n in names),
    ]
    for topic in topics:
        cells = []
        for rep in reports:
            m = rep.subtopics.get(topic)
            cells.append(
                "–" if not m or not (m["support"] or m["fp"]) else f"{m['f1']:.3f} ({m['support']})"
            )
        lines.append(f"{topic:<26}" + "".join(f"{c:>17}" for c in cells))
    return "\n".join(lines)


def default_labels_dir() -> Path:
    return project_home().parent / "shared" / "corpus" / "labels"


def load_sets(labels_dir: Path, spanish: Path | None = SPANISH_FILE) -> dict[str, list[Item]]:
    sets = {name: load_items(labels_dir / filename) for name, filename in DATASETS.items()}
    if spanish is not None and spanish.is_file():
        sets[SPANISH_NAME] = load_items(spanish)
    return sets


def _memo(predict: Callable[[Item], Prediction]) -> Callable[[Item], Prediction]:
    cache: dict[tuple[str, str], Prediction] = {}

    def cached(item: Item) -> Prediction:
        key = (item.id, item.title)
        if key not in cache:
            cache[key] = predict(item)
        return cache[key]

    return cached


def run(
    labels_dir: Path,
    tagger: Tagger,
    spanish: Path | None = SPANISH_FILE,
    cross_taxonomy: Path | None = CROSS_PERIOD_TAXONOMY,
) -> dict[str, Any]:
    """Evaluate tagger and baseline on every set and half; return the metrics as plain data.

    The cross-period figure uses `cross_taxonomy` (the last version that never read the
    cross-period set) when the file exists, else the tagger itself."""
    out: dict[str, Any] = {
        "taxonomy_version": tagger.version,
        "datasets": {},
        "halves": {},
        "cross_period": None,
    }
    predict = _memo(tagger_predict(tagger))
    sets = load_sets(labels_dir, spanish)
    for name, items in sets.items():
        out["datasets"][name] = {
            "tagger": evaluate(name, items, predict, tagger.subtopic_ids),
            "baseline": evaluate(f"{name} baseline", items, baseline_predict),
        }
        if name not in SPLIT_SETS:
            continue
        for half in ("dev", "holdout"):
            subset = [i for i in items if split_half(i.id) == half]
            out["halves"][f"{name}/{half}"] = {
                "tagger": evaluate(f"{name} {half} half", subset, predict, tagger.subtopic_ids),
                "baseline": evaluate(f"{name} {half} half baseline", subset, baseline_predict),
            }
    set_name, half = CROSS_PERIOD
    if set_name in sets:
        frozen = (
            Tagger.from_path(cross_taxonomy)
            if cross_taxonomy is not None and cross_taxonomy.is_file()
            else tagger
        )
        subset = [i for i in sets[set_name] if split_half(i.id) == half]
        out["cross_period"] = {
            "set": f"{set_name}/{half}",
            "taxonomy_version": frozen.version,
            "tagger": evaluate(
                f"cross-period {set_name} {half} half, taxonomy {frozen.version}",
                subset,
                tagger_predict(frozen),
                frozen.subtopic_ids,
            ),
            "baseline": out["halves"][f"{set_name}/{half}"]["baseline"],
        }
    return out


# -- calibration ----------------------------------------------------------


def calibration_pairs(
    items: Iterable[Item], predict: Callable[[Item], Prediction]
) -> list[tuple[float, int]]:
    return [(predict(item).score, int(item.relevant)) for item in items]


def fit_calibration(
    labels_dir: Path, tagger: Tagger, spanish: Path | None = SPANISH_FILE
) -> dict[str, Any]:
    """Fit on the dev halves and the articles; judge on the held-out halves and Spanish."""
    predict = _memo(tagger_predict(tagger))
    sets = load_sets(labels_dir, spanish)
    fit_on: list[tuple[float, int]] = []
    judged: dict[str, list[tuple[float, int]]] = {}
    for name, items in sets.items():
        if name in SPLIT_SETS:
            fit_on += calibration_pairs([i for i in items if split_half(i.id) == "dev"], predict)
            judged[f"{name}/holdout"] = calibration_pairs(
                [i for i in items if split_half(i.id) == "holdout"], predict
            )
        elif name == SPANISH_NAME:
            judged[name] = calibration_pairs(items, predict)
        else:
            fit_on += calibration_pairs(items, predict)
    slope, intercept = fit_logistic(fit_on)
    cal = tagger.taxonomy.calibration
    band = cal.review_band if cal else (0.35, 0.65)
    return {
        "slope": round(slope, 4),
        "intercept": round(intercept, 4),
        "fitted_on_n": len(fit_on),
        "fit": calibration_quality(fit_on, slope, intercept, band),
        "judged": {k: calibration_quality(v, slope, intercept, band) for k, v in judged.items()},
        "reliability_holdout": reliability_table(
            [pair for k, v in judged.items() if k != SPANISH_NAME for pair in v], slope, intercept
        ),
    }


def _jsonable(results: dict[str, Any]) -> dict[str, Any]:
    def pairs(group: dict[str, Any]) -> dict[str, Any]:
        return {k: vars(v) if isinstance(v, Report) else v for k, v in group.items()}

    cross = results.get("cross_period")
    return {
        "taxonomy_version": results["taxonomy_version"],
        "datasets": {name: pairs(pair) for name, pair in results["datasets"].items()},
        "halves": {name: pairs(pair) for name, pair in results.get("halves", {}).items()},
        "cross_period": pairs(cross) if cross else None,
        "targets": {
            "f1": TARGET_F1,
            "precision": TARGET_PRECISION,
            "micro_f1": MICRO_F1_TARGET,
            "subtopic_f1": SUBTOPIC_F1_TARGET,
            "subtopic_min_support": SUBTOPIC_MIN_SUPPORT,
        },
        "unmet": {
            name: unmet_targets(pair["tagger"]) for name, pair in results["datasets"].items()
        },
    }


def reviews_section(db: Path) -> dict[str, Any]:
    """The tagger against the reviewers' decisions stored in `db` (read-only)."""
    from policy_news.store.connection import open_db
    from policy_news.tagging.review_eval import review_report

    with open_db(db, read_only=True) as conn:
        return review_report(conn)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m policy_news.tagging.evaluate", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--labels-dir", type=Path, default=default_labels_dir())
    parser.add_argument(
        "--spanish", type=Path, default=SPANISH_FILE, help="Spanish headlines labels file"
    )
    parser.add_argument("--json", type=Path, help="also write the metrics to this file")
    parser.add_argument("--taxonomy", type=Path, help="taxonomy file (default: the configured one)")
    parser.add_argument(
        "--db",
        type=Path,
        help="also score the stored tags against the reviewers' decisions in this DuckDB file",
    )
    parser.add_argument(
        "--fit-calibration",
        action="store_true",
        help="fit the score -> probability map on the dev halves and print it",
    )
    args = parser.parse_args(argv)
    missing = [
        args.labels_dir / f for f in DATASETS.values() if not (args.labels_dir / f).is_file()
    ]
    if missing and (args.fit_calibration or args.db is None):
        print(f"missing labels file(s): {', '.join(map(str, missing))}", file=sys.stderr)
        return 2
    if args.db is not None and not args.db.is_file():
        print(f"no database at {args.db}", file=sys.stderr)
        return 2
    tagger = get_tagger(args.taxonomy)
    if args.fit_calibration:
        fitted = fit_calibration(args.labels_dir, tagger, args.spanish)
        print(json.dumps(fitted, indent=2))
        return 0
    out: dict[str, Any] = {}
    if missing:
        print(f"labels missing ({', '.join(map(str, missing))}): reviewed articles only\n")
    else:
        out = _jsonable(_print_labelled(args.labels_dir, tagger, args.spanish))
    if args.db is not None:
        reviews = reviews_section(args.db)
        from policy_news.tagging.review_eval import format_review_report

        print()
        print(format_review_report(reviews))
        out["reviews"] = reviews
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    return 0


def _print_labelled(labels_dir: Path, tagger: Tagger, spanish: Path | None) -> dict[str, Any]:
    results = run(labels_dir, tagger, spanish)
    print(f"taxonomy version {tagger.version}\n")
    for pair in results["datasets"].values():
        print(format_report(pair["tagger"]))
        print(format_report(pair["baseline"], show_errors=False))
        print()
    for pair in results["halves"].values():
        print(format_report(pair["tagger"], show_errors=False))
        print()
    if results["cross_period"]:
        print(format_report(results["cross_period"]["tagger"], show_errors=False))
        print()
    print(format_subtopic_table(results))
    print()
    print(format_summary(results))
    return results


if __name__ == "__main__":
    raise SystemExit(main())
