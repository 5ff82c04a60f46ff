"""Data-quality gates for one run: GX Core suites over the run's frames.

`validate_batch()` validates the pandas frames of a run with Great Expectations against
the suites in `include/checks.yaml`, then splits the outcome by severity:

- ``quarantine``: failing rows leave the batch and become rows of table `quarantine`;
- ``block``: a readable message in `ValidationReport.blocking` (the run loads nothing);
- ``warn``: a message in `ValidationReport.warnings`.

Every check yields one row of table `dq_results`, passed or not. Run-level numbers
(failed feed share, ...) and per-feed silence are computed in pandas, then judged by GX
expectations too, so they appear in `dq_results` and the Data Docs like any other check.

This module composes the steps and is what the pipeline imports; the steps live beside
it: `config` (checks.yaml), `frames` (what GX sees), `gx_runner` (GX itself),
`metrics` (run-level numbers, feed baseline) and `verdicts` (rows and messages).
Great Expectations is imported inside functions only: importing this module is cheap
and touches nothing (DAG files may import it).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from policy_news.quality import plain_checks
from policy_news.quality.config import (
    ChecksConfig,
    ChecksConfigError,
    load_checks_config,
    parse_checks_config,
)
from policy_news.quality.frames import SuiteInput, prepare_frame
from policy_news.quality.gx_runner import gx_columns, gx_context, run_suite
from policy_news.quality.metrics import feed_baseline, feed_volume, run_metrics
from policy_news.quality.verdicts import (
    QUARANTINE_COLUMNS,
    RESULT_COLUMNS,
    Outcome,
    judge,
    typed_quarantine,
    typed_results,
)

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Collection, Mapping
    from pathlib import Path

    import pyarrow as pa

__all__ = [
    "ARTICLE_CHILD_FRAMES",
    "QUARANTINE_COLUMNS",
    "RESULT_COLUMNS",
    "ChecksConfig",
    "ChecksConfigError",
    "ValidationReport",
    "feed_baseline",
    "load_checks_config",
    "parse_checks_config",
    "validate_batch",
]

log = logging.getLogger(__name__)

#: Frames whose rows hang off an article; they follow the article into quarantine.
ARTICLE_CHILD_FRAMES: tuple[str, ...] = (
    "article_topics",
    "article_facts",
    "article_relevance",
)


@dataclass
class ValidationReport:
    """What `validate_batch` found; the pipeline loads `frames`, `quarantine`, `results`."""

    frames: dict[str, pd.DataFrame]
    quarantine: pd.DataFrame
    results: pd.DataFrame
    blocking: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    run_id: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    # Per stage, the input positions of the rows in `frames` (to rejoin detached columns).
    kept_rows: dict[str, np.ndarray] = field(default_factory=dict)
    # False when no suite had a row and the run's numbers were judged by plain_checks.
    gx_used: bool = True

    @property
    def checks_passed(self) -> int:
        return int(self.results["success"].astype(bool).sum()) if len(self.results) else 0

    @property
    def checks_failed(self) -> int:
        return int(len(self.results) - self.checks_passed)

    @property
    def ok(self) -> bool:
        """True when nothing blocks the load."""
        return not self.blocking


def _as_positional(frame: pd.DataFrame | None) -> pd.DataFrame | None:
    if frame is None:
        return None
    return frame.reset_index(drop=True)


def validate_batch(
    run_id: str,
    frames: Mapping[str, pd.DataFrame],
    *,
    taxonomy_ids: Collection[str],
    feed_baseline: pd.DataFrame | None = None,
    config_path: Path | None = None,
    now: datetime | None = None,
    config: ChecksConfig | None = None,
    detached: Mapping[str, pa.Table] | None = None,
) -> ValidationReport:
    """Validate one run's frames; see the module docstring and docs/data_quality.md.

    `frames` keys are stage names (feed_fetches, feed_items, articles, failures,
    article_topics, article_facts, article_relevance); any may be missing or empty.
    `feed_baseline` is `feed_baseline(conn)` from before this run's load; without it the
    silent-zero check has nothing to compare with and passes (noted in its details).
    `detached` holds columns of a stage kept out of its frame (same rows, same order):
    the article text, which only its length (`dq_text_chars`, in the frame) is checked
    on and which pandas would copy at every filter. Quarantine records include them; the
    returned frames do not, and `kept_rows` says which input rows each frame kept.
    """
    started = time.perf_counter()
    now = (now or datetime.now(UTC)).astimezone(UTC)
    cfg = config or load_checks_config(config_path)
    taxonomy = frozenset(str(t) for t in taxonomy_ids)
    inputs: dict[str, pd.DataFrame | None] = {
        name: _as_positional(frame) for name, frame in frames.items()
    }
    timings: dict[str, float] = {"config_s": time.perf_counter() - started}

    context: Any = None

    def gx() -> Any:
        """GX's context, created (and GX imported) by the first suite that has rows."""
        nonlocal context
        if context is None:
            t0 = time.perf_counter()
            context = gx_context()
            timings["gx_context_s"] = time.perf_counter() - t0
        return context

    out = Outcome()
    computed = {"dq_run_metrics", "dq_feed_volume"}
    row_suites = [(n, s) for n, s in cfg.suites.items() if s.frame not in computed]
    later_suites = [(n, s) for n, s in cfg.suites.items() if s.frame in computed]

    def run_one(suite_in: SuiteInput) -> None:
        t = time.perf_counter()
        results: dict[str, Any] = {}
        checks = [c for c in suite_in.config.checks if c.name not in suite_in.skip_checks]
        if suite_in.frame is not None and suite_in.skipped is None and checks:
            if (
                context is None
                and suite_in.config.frame in computed
                and plain_checks.supports(checks)
            ):
                # no row-level suite had a row: a few numbers, not worth importing GX
                results = dict(
                    plain_checks.run_suite(suite_in.suite, suite_in.frame, checks, now=now)
                )
            else:
                results = run_suite(
                    gx(),
                    suite_in.suite,
                    gx_columns(suite_in.frame, checks),
                    checks,
                    taxonomy_ids=taxonomy,
                    now=now,
                )
        for check in suite_in.config.checks:
            judge(run_id, suite_in, check, results.get(check.name), now, out)
        timings[f"suite_{suite_in.suite}_s"] = time.perf_counter() - t

    for suite_name, suite_cfg in row_suites:
        raw = inputs.get(suite_cfg.frame)
        if raw is None:
            run_one(SuiteInput(suite_name, suite_cfg, None, None, skipped="frame missing"))
            continue
        if raw.empty:
            run_one(SuiteInput(suite_name, suite_cfg, raw, raw, skipped="frame empty"))
            continue
        prepared = prepare_frame(suite_cfg.frame, raw, inputs)
        suite_in = SuiteInput(suite_name, suite_cfg, raw, prepared)
        suite_in.detached = (detached or {}).get(suite_cfg.frame)
        run_one(suite_in)

    kept, kept_rows = _kept_frames(inputs, out.drop)
    articles_in = inputs.get("articles")
    quarantined_articles = (
        0
        if articles_in is None or "articles" not in kept
        else len(articles_in) - len(kept["articles"])
    )

    # run-level metrics and per-feed volume, judged by GX too
    t0 = time.perf_counter()
    run_frame, metrics = run_metrics(run_id, _present(inputs), quarantined_articles, cfg.params)
    volume = feed_volume(_present(inputs), feed_baseline, cfg.params, now)
    timings["run_metrics_s"] = time.perf_counter() - t0
    for suite_name, suite_cfg in later_suites:
        frame = run_frame if suite_cfg.frame == "dq_run_metrics" else volume
        suite_in = SuiteInput(suite_name, suite_cfg, frame, frame)
        if suite_cfg.frame == "dq_run_metrics":
            suite_in.metrics = metrics
            for check in suite_cfg.checks:
                info = metrics.get(check.column or "")
                if info is None:
                    continue
                if info["value"] is None:
                    suite_in.skip_checks[check.name] = (
                        f"too few to judge a share ({info['denominator']} < "
                        f"{info['min_denominator']})"
                    )
        elif frame.empty:
            suite_in.skipped = "no feed fetched fine this run"
        elif feed_baseline is None:
            suite_in.metrics = {"dq_silence_ratio": {"note": "no feed baseline given"}}
        run_one(suite_in)

    quarantine = typed_quarantine(pd.DataFrame(out.quarantine, columns=list(QUARANTINE_COLUMNS)))
    results = typed_results(pd.DataFrame(out.rows, columns=list(RESULT_COLUMNS)))
    timings["total_s"] = time.perf_counter() - started
    report = ValidationReport(
        frames=kept,
        quarantine=quarantine,
        results=results,
        blocking=out.blocking,
        warnings=out.warnings,
        run_id=run_id,
        timings=timings,
        kept_rows=kept_rows,
        gx_used=context is not None,
    )
    log.info(
        "validate_batch %s: %d checks passed, %d failed, %d rows quarantined, %d blocking, "
        "%d warnings in %.2fs",
        run_id,
        report.checks_passed,
        report.checks_failed,
        len(quarantine),
        len(out.blocking),
        len(out.warnings),
        timings["total_s"],
    )
    return report


def _kept_frames(
    inputs: Mapping[str, pd.DataFrame | None], drop: Mapping[str, set[int]]
) -> tuple[dict[str, pd.DataFrame], dict[str, np.ndarray]]:
    """The frames without their quarantined rows, and the input positions each kept.

    Rows of the article child frames leave with their article, so no tag or fact of a
    quarantined article is loaded.
    """
    kept: dict[str, pd.DataFrame] = {}
    kept_rows: dict[str, np.ndarray] = {}
    for name, frame in inputs.items():
        if frame is None:
            continue
        kept_rows[name] = np.arange(len(frame))
        dropped = drop.get(name)
        if dropped:
            mask = ~frame.index.isin(sorted(dropped))
            kept[name] = frame.loc[mask].reset_index(drop=True)
            kept_rows[name] = kept_rows[name][mask]
        else:
            kept[name] = frame
    articles_in = inputs.get("articles")
    removed_ids: set[str] = set()
    if articles_in is not None and "article_id" in articles_in and "articles" in kept:
        removed_ids = set(articles_in["article_id"].dropna()) - set(
            kept["articles"]["article_id"].dropna()
        )
    if removed_ids:
        for child in ARTICLE_CHILD_FRAMES:
            frame = kept.get(child)
            if frame is not None and "article_id" in frame:
                keep = ~frame["article_id"].isin(removed_ids).to_numpy()
                kept[child] = frame.loc[keep].reset_index(drop=True)
                kept_rows[child] = kept_rows[child][keep]
    return kept, kept_rows


def _present(inputs: Mapping[str, pd.DataFrame | None]) -> dict[str, pd.DataFrame]:
    return {k: v for k, v in inputs.items() if v is not None}
