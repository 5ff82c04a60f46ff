"""The small-runs scenario, the tree CPU count it relies on, and subprocesses started from anywhere."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from policy_news.settings import project_home
from tools.bench import harness
from tools.bench.measure import tree_cpu_total_s
from tools.bench.site import running
from tools.bench.site_content import ServerSpec, SiteSpec
from tools.bench.small_runs import NO_CHANGE, small_run_row, small_runs_table


def _run(wall: float, tree: float, process_wall: float = 9.0) -> dict:
    return {
        "wall_s": wall,
        "cpu_s": {"main_user": 1.5, "main_system": 0.5},
        "extraction": {"pages": 20, "cpu_s": 0.4, "page_cpu_s": 0.5},
        "derived": {
            "articles_new": 20,
            "articles_loaded": 19,
            "process_wall_s": process_wall,
            "stage_timings": {"plan": 0.01, "fetch_articles": 2.0, "validate": 2.5, "load": 0.3},
            "run_tree_cpu_s": tree,
            "idle_core_s": round(2 * wall - tree, 2),
            "peak_rss_mib": 300.0,
            "other_processes_cpu_s": 0.4,
        },
    }


def test_small_run_row_sets_the_naive_wall_against_the_pipeline_wall() -> None:
    row = small_run_row("20 new", _run(wall=4.0, tree=5.0), {"wall_s": 10.0}, cores=2)
    assert row["naive_over_pipeline"] == 2.5
    assert row["idle_core_s"] == 3.0  # 2 cores x 4 s - 5 CPU-s
    assert row["main_cpu_s"] == 2.0
    assert row["stage_s"]["select_new_items"] is None  # a stage the run did not report
    assert list(row["stage_s"])[-1] == "load"


def test_no_change_row_has_no_naive_ratio_and_the_table_shows_every_run() -> None:
    rows = [
        small_run_row("20 new", _run(4.0, 5.0), {"wall_s": 10.0}, cores=2),
        small_run_row(NO_CHANGE, _run(2.0, 1.0), None, cores=2),
    ]
    assert rows[1]["naive_wall_s"] is None and rows[1]["naive_over_pipeline"] is None
    text = small_runs_table({"feeds": 15, "hosts": 15, "rows": rows})
    assert "== small runs (15 feeds, 15 hosts) ==" in text
    lines = text.splitlines()
    assert sum(line.startswith("20 new") for line in lines) == 3  # runs, stages, CPU per article
    assert sum(line.startswith(NO_CHANGE) for line in lines) == 3


def test_tree_cpu_counts_children_that_already_exited() -> None:
    me = psutil.Process()
    before = tree_cpu_total_s(me)
    busy = "import time\nend = time.process_time() + 0.4\nwhile time.process_time() < end: pass"
    subprocess.run([sys.executable, "-c", busy], check=True)
    assert tree_cpu_total_s(me) - before >= 0.35


def test_site_server_starts_whatever_the_callers_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only the package on the path: `-m tools.bench.site` must resolve from the project root.
    monkeypatch.setenv("PYTHONPATH", str(project_home() / "include"))
    monkeypatch.chdir(tmp_path)
    spec = ServerSpec(sites=[SiteSpec("t", 2, 1, 1)], latency_ms=0, lifetime_s=30)
    with running(spec) as (server, content):
        assert server.pid > 0 and content.spec.port > 0


def test_small_runs_are_part_of_the_full_bench_and_can_run_alone() -> None:
    full = harness.parse_args([])
    assert full.small_sizes == [20, 100, 300] and full.small_feeds == 15
    assert full.sizes == [500, 2000, 10000]
    only = harness.parse_args(["--only", "small"])
    assert only.sizes == [] and only.skip_airflow and only.skip_quality
    assert only.small_sizes == [20, 100, 300] and only.json.name == "small_runs.json"
    assert harness.parse_args(["--quick"]).small_sizes == []
    assert harness.parse_args(["--skip-small"]).small_sizes == []


@pytest.mark.slow  # runs the bench end to end on a tiny site (a minute or more)
def test_only_small_runs_the_small_scenario_and_its_no_change_poll(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "small.json"
    code = harness.main(
        [
            "--only",
            "small",
            "--small-sizes",
            "5",
            "--small-feeds",
            "2",
            "--latency-ms",
            "5",
            "--json",
            str(out),
        ]
    )
    assert code == 0
    results = json.loads(out.read_text())
    assert not results.get("errors"), results.get("errors")
    assert "runs" not in results and "naive" not in results  # no scaling sections
    small = results["small_runs"]
    assert small["env"] == {"POLICY_NEWS_HOST_CONCURRENCY": "2", "POLICY_NEWS_HOST_DELAY_S": "0.1"}
    rows = {r["run"]: r for r in small["rows"]}
    assert list(rows) == ["5 new", NO_CHANGE]
    assert rows["5 new"]["articles_new"] == 5
    assert rows["5 new"]["naive_wall_s"] > 0 and rows["5 new"]["naive_over_pipeline"] > 0
    assert rows["5 new"]["tree_cpu_s"] > rows["5 new"]["main_cpu_s"]  # workers' CPU counted
    assert rows["5 new"]["stage_s"]["fetch_articles"] is not None
    assert rows[NO_CHANGE]["articles_new"] == 0
    assert rows[NO_CHANGE]["feed_outcomes"] == {"not_modified": 2}
    runs = small["runs"]
    assert runs["5 new"]["settings"]["host_delay_s"] == 0.1  # from the environment
    assert "== small runs (2 feeds, 2 hosts) ==" in capsys.readouterr().out
