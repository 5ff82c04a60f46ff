"""Benchmarks: `python -m tools.bench` (`make bench`); docs/benchmarks.md reads the figures.

- harness.py: the command line; builds the site and runs the sections in order
- scenarios.py: which sites each section uses (scaling sizes, small runs, Airflow)
- site_content.py, site.py: the synthetic news site's pages and feeds, and its server
  on many loopback addresses (child process)
- runner.py: one measured `run_pipeline` in a fresh process
- measure.py: process-tree RSS and CPU sampling, per-core CPU
- pipeline_runs.py: the scaling runs and the no-change poll
- small_runs.py: runs of the sizes a scheduled poll brings, against the naive script
- core_seconds.py: where a run's core-seconds went
- naive.py: the sequential baseline; sections.py: quality, naive, tagging, queries
- quality.py: extraction quality and cost per trafilatura setting
- queries.py: analyst queries over a synthetic 1M-article database
- airflow_overhead.py: `airflow dags test` against `policy-news run`
- targets.py, summary.py, report.py: verdicts, closing tables, JSON, chart, printing
"""
