"""The closing summary (scaling, small runs, targets), the JSON results and the chart."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from tools.bench.report import say, table
from tools.bench.small_runs import small_runs_table

if TYPE_CHECKING:
    from pathlib import Path


def print_summary(results: dict[str, Any]) -> None:
    if results.get("runs"):
        print_scaling(results["runs"])
    if results.get("small_runs"):
        say(small_runs_table(results["small_runs"]))
    if results["targets"]:
        say("\n== targets ==")
        say(
            table(
                ["target", "measured", "goal", "met"],
                [
                    (
                        t["target"],
                        t["measured"],
                        t["goal"],
                        {True: "yes", False: "NO", None: "n/a"}[t["met"]],
                    )
                    for t in results["targets"]
                ],
            )
        )
    if results.get("budget_cuts"):
        say(f"time budget (--budget-s) cut: {', '.join(results['budget_cuts'])}")
    for name, error in (results.get("errors") or {}).items():
        say(f"!! section {name} failed: {error[-300:]}")
    say(f"\ntotal bench wall time {results['total_wall_s']} s")


def print_scaling(runs: list[dict[str, Any]]) -> None:
    say("\n== scaling ==")
    say(
        table(
            [
                "articles",
                "feeds",
                "hosts",
                "wall s",
                "articles/s",
                "loaded",
                "extract CPU s",
                "bound s",
                "wall/bound",
                "peak RSS MiB",
                "tree CPU s",
                "others' CPU s",
                "core busy %",
            ],
            [
                (
                    r["site"]["articles"],
                    r["site"]["feeds"],
                    r["site"]["hosts"],
                    r["wall_s"],
                    r["derived"]["articles_per_s"],
                    r["derived"]["articles_loaded"],
                    r["derived"]["extraction_cpu_s"],
                    r["derived"]["extraction_bound_s"],
                    r["derived"]["wall_vs_extraction_bound"],
                    r["derived"]["peak_rss_mib"],
                    r["derived"]["tree_cpu_s"],
                    r["derived"]["other_processes_cpu_s"],
                    "/".join(f"{p:.0f}" for p in r["derived"]["machine_busy_pct"]),
                )
                for r in runs
            ],
        )
    )
    say("\nstage seconds (fetch_articles and tag are summed over the concurrent item groups):")
    keys = ["plan", "fetch_feeds", "select_new_items", "fetch_articles", "tag", "validate", "load"]
    say(
        table(
            ["articles", *keys, "article stage wall"],
            [
                (
                    r["site"]["articles"],
                    *[r["derived"]["stage_timings"].get(k) for k in keys],
                    r["derived"]["fetch_extract_tag_wall_s"],
                )
                for r in runs
            ],
        )
    )


def chart(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = results.get("runs", [])
    if not runs:
        return
    sizes = [r["site"]["articles"] for r in runs]
    rate = [r["derived"]["articles_per_s"] for r in runs]
    bound = [
        r["derived"]["articles_new"] / r["derived"]["extraction_bound_s"]
        if r["derived"]["extraction_bound_s"]
        else 0
        for r in runs
    ]
    peak = [r["derived"]["peak_rss_mib"] for r in runs]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    ax1.plot(sizes, rate, "o-", label="pipeline (end to end)")
    ax1.plot(sizes, bound, "s--", label="extraction-bound limit")
    naive = (results.get("naive") or {}).get("articles_per_s")
    if naive:
        ax1.axhline(naive, color="grey", linestyle=":", label=f"naive baseline ({naive:.1f}/s)")
    ax1.set_xscale("log")
    ax1.set_xlabel("new articles per run")
    ax1.set_ylabel("articles / s")
    ax1.set_title("Throughput")
    ax1.legend(fontsize=8)
    ax1.set_ylim(bottom=0)
    ax2.plot(sizes, peak, "o-", color="tab:red", label="peak RSS, process tree")
    ax2.axhline(1024, color="grey", linestyle=":", label="1 GiB target")
    ax2.set_xscale("log")
    ax2.set_xlabel("new articles per run")
    ax2.set_ylabel("MiB")
    ax2.set_title("Peak memory")
    ax2.legend(fontsize=8)
    ax2.set_ylim(bottom=0)
    cfg = results["config"]
    fig.suptitle(
        f"policy-news bench: {cfg['cores']} cores, {cfg['latency_ms']:g} ms latency, "
        f"{cfg['host_delay_s']:g} s per-host delay",
        fontsize=10,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_results(results: dict[str, Any], json_path: Path, chart_path: Path) -> None:
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(results, indent=1, default=str))
    if results.get("runs"):
        chart(results, chart_path)
        say(f"results: {json_path}\nchart: {chart_path}")
    else:
        say(f"results: {json_path}")
