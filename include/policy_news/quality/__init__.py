"""Data-quality checks: configuration, run metrics, the Great Expectations runner, verdicts, Data Docs."""
