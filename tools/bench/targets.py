"""The bench's targets, and each one's measured value and verdict."""

from __future__ import annotations

from typing import Any

from tools.bench.scenarios import max_dag_tasks

TARGETS = {
    "speedup_vs_naive": 8.0,
    "wall_vs_extraction_bound": 1.25,
    "no_change_poll_s": 10.0,
    "peak_rss_mib_10k": 1024.0,
    "tagging_per_core": 500.0,
    "query_s": 0.5,
    "airflow_ratio": 2.0,
    "stories_share_pct": 20.0,
}


def judge(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target with the measured value and whether it is met (None: not applicable)."""
    out: list[dict[str, Any]] = []

    def add(name: str, measured: Any, target: str, ok: bool | None) -> None:
        out.append({"target": name, "measured": measured, "goal": target, "met": ok})

    quality = (results.get("extraction_quality") or {}).get("variants") or {}
    from tools.bench.quality import CHOSEN, FULL

    if CHOSEN in quality and FULL in quality:
        chosen, full = quality[CHOSEN], quality[FULL]
        add(
            "extraction F1, chosen setting vs previous (reference pages)",
            f"{chosen['f1']} vs {full['f1']} ({chosen['cpu_ms_per_page']} vs "
            f"{full['cpu_ms_per_page']} ms/page)",
            "no drop",
            chosen["f1"] >= full["f1"],
        )
    stories = results.get("stories")
    if stories:
        add(
            "near-duplicates + stories, CPU per article vs the pipeline's",
            f"{stories['cpu_ms_per_article']} ms ({stories['share_of_pipeline_pct']} %)",
            "<= 20 %",
            stories["share_of_pipeline_pct"] <= TARGETS["stories_share_pct"],
        )
    runs = results.get("runs", [])
    main_size = results["config"]["main_size"]
    main = next((r for r in runs if r["site"]["articles"] == main_size), None)
    comp = results.get("comparison") or {}
    if comp.get("speedup") is not None:
        add(
            f"speed-up vs naive ({main_size} articles)",
            f"{comp['speedup']}x",
            ">= 8x",
            comp["speedup"] >= TARGETS["speedup_vs_naive"],
        )
    if main:
        ratio = main["derived"]["wall_vs_extraction_bound"]
        floor = (results.get("cost_budget") or {}).get("floor_ratio")
        add(
            f"wall / extraction-bound ({main_size} articles)",
            ratio if floor is None else f"{ratio} (floor {floor})",
            "<= 1.25",
            ratio is not None and ratio <= TARGETS["wall_vs_extraction_bound"],
        )
    poll = results.get("no_change_poll")
    if poll:
        add(
            f"no-change poll of {poll['feeds']} feeds",
            f"{poll['wall_s']} s",
            "< 10 s",
            poll["wall_s"] < TARGETS["no_change_poll_s"] if poll["feeds"] >= 1000 else None,
        )
    big = next((r for r in runs if r["site"]["articles"] >= 10000), None)
    if big:
        peak = big["derived"]["peak_rss_mib"]
        add(
            f"peak RSS, {big['site']['articles']}-article run",
            f"{peak} MiB",
            "< 1024 MiB",
            peak < TARGETS["peak_rss_mib_10k"],
        )
    tagging = results.get("tagging") or {}
    if tagging.get("per_core_articles_per_s") is not None:
        rate = tagging["per_core_articles_per_s"]
        add(
            "tagging per core",
            f"{rate} articles/s",
            ">= 500/s",
            rate >= TARGETS["tagging_per_core"],
        )
    queries = (results.get("queries") or {}).get("timings") or {}
    rows = (results.get("queries") or {}).get("build", {}).get("counts", {}).get("articles", 0)
    for name, t in queries.items():
        if "whole view" in name:
            add(
                f"query {name}, {rows:,} articles",
                f"{t['median_s']} s",
                "< 0.5 s",
                t["median_s"] < TARGETS["query_s"] if rows >= 1_000_000 else None,
            )
    af = results.get("airflow")
    if af:
        add(
            "Airflow DAG run / CLI run (`dags test`)",
            af["ratio"],
            "< 2",
            af["ratio"] is not None and af["ratio"] < 2,
        )
        if af.get("ratio_with_parallel_mapped_tasks") is not None:
            add(
                "  (derived: mapped tasks side by side)",
                af["ratio_with_parallel_mapped_tasks"],
                "< 2",
                None,
            )
        counts = {c["tasks"] for c in af["task_counts"]}
        add(
            "DAG task count independent of articles",
            sorted(counts),
            "bounded by settings",
            max(counts) <= max_dag_tasks() if counts else None,
        )
    return out
