"""Benchmarks for issue #6: `python -m tools.bench` (`make bench`).

- site.py: the synthetic news site on many loopback addresses (child process)
- runner.py: one measured `run_pipeline` in a fresh process
- measure.py: process-tree RSS and per-core CPU sampling
- naive.py: the sequential baseline
- quality.py: extraction quality and cost per trafilatura setting
- queries.py: analyst queries over a synthetic 1M-article database
- airflow_overhead.py: `airflow dags test` against `policy-news run`
- harness.py: runs all of it, prints the tables, writes JSON and the chart
"""
