"""GX Data Docs for the data-quality results of recent runs, readable offline.

`build_data_docs(report_or_results, docs_dir)` turns `dq_results` rows (a
`ValidationReport` or a `dq_results` DataFrame) back into GX validation results,
keeps the last few runs' rows as JSON under ``docs_dir/_runs/`` so the index lists
the recent history, and lets GX's SiteBuilder render the site into `docs_dir`.

GX's pages link Bootstrap, jQuery, bootstrap-table and Font Awesome from CDNs; after
the build `docs_assets.make_offline` rewrites them to pinned local copies, so the pages
work without network access.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from policy_news.quality.docs_assets import is_offline_page, make_offline
from policy_news.quality.gx_runner import gx_context

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterable

    from policy_news.quality.checks import ValidationReport

log = logging.getLogger(__name__)

SITE_NAME = "policy_news"
RUNS_DIR = "_runs"
DEFAULT_KEEP_RUNS = 30


# --------------------------------------------------------------------------- rows -> GX


@dataclass
class _RunRows:
    run_id: str
    validated_at: datetime
    rows: list[dict[str, Any]]


def _results_frame(report_or_results: Any) -> pd.DataFrame:
    results = getattr(report_or_results, "results", report_or_results)
    if not isinstance(results, pd.DataFrame):
        raise TypeError(
            "build_data_docs needs a ValidationReport or a dq_results DataFrame, "
            f"not {type(report_or_results).__name__}"
        )
    missing = {"run_id", "suite", "check_name", "success", "details", "validated_at"} - set(
        results.columns
    )
    if missing:
        raise ValueError(f"dq_results frame lacks columns {sorted(missing)}")
    return results


def _safe_name(run_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", run_id).strip("_") or "run"


def _rows_to_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for row in frame.to_dict(orient="records"):
        clean: dict[str, Any] = {}
        for key, value in row.items():
            if isinstance(value, pd.Timestamp | datetime):
                clean[key] = pd.Timestamp(value).isoformat()
            elif value is None or (not isinstance(value, str) and pd.isna(value)):
                clean[key] = None
            elif hasattr(value, "item"):
                clean[key] = value.item()
            else:
                clean[key] = value
        records.append(clean)
    return records


def _store_runs(results: pd.DataFrame, docs_dir: Path) -> list[str]:
    """Write this call's runs as JSON; return the run ids written."""
    runs_dir = docs_dir / RUNS_DIR
    runs_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for run_id, group in results.groupby("run_id", sort=False):
        path = runs_dir / f"{_safe_name(str(run_id))}.json"
        payload = {"run_id": str(run_id), "rows": _rows_to_records(group)}
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
        tmp.replace(path)
        written.append(str(run_id))
    return written


def _load_runs(docs_dir: Path) -> list[_RunRows]:
    runs: list[_RunRows] = []
    for path in sorted((docs_dir / RUNS_DIR).glob("*.json")):
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
            rows = payload["rows"]
            stamps = [pd.Timestamp(r["validated_at"]) for r in rows if r.get("validated_at")]
            when = max(stamps).to_pydatetime() if stamps else datetime.fromtimestamp(0, UTC)
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            runs.append(_RunRows(str(payload["run_id"]), when, rows))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("skipping unreadable Data Docs run file %s: %s", path, exc)
    runs.sort(key=lambda r: r.validated_at)
    return runs


def _prune(docs_dir: Path, runs: list[_RunRows], keep: int) -> list[_RunRows]:
    """Drop all but the newest `keep` runs: their JSON and their rendered pages."""
    if keep <= 0 or len(runs) <= keep:
        return runs
    dropped, kept = runs[:-keep], runs[-keep:]
    kept_names = {r.run_id for r in kept}
    for run in dropped:
        (docs_dir / RUNS_DIR / f"{_safe_name(run.run_id)}.json").unlink(missing_ok=True)
        if run.run_id in kept_names:
            continue
        for suite_dir in (docs_dir / "validations").glob("*"):
            target = suite_dir / run.run_id
            if target.is_dir() and target.resolve().is_relative_to(docs_dir.resolve()):
                shutil.rmtree(target, ignore_errors=True)
    return kept


def _suite_results(run: _RunRows) -> dict[str, tuple[list[Any], list[str]]]:
    """Per suite: GX ExpectationValidationResults rebuilt from details, and skipped checks."""
    from great_expectations.core.expectation_validation_result import (
        ExpectationValidationResult,
    )
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    suites: dict[str, tuple[list[Any], list[str]]] = {}
    for row in run.rows:
        suite = str(row.get("suite"))
        results, skipped = suites.setdefault(suite, ([], []))
        try:
            details = json.loads(row.get("details") or "{}")
        except ValueError:
            details = {}
        expectation = details.get("expectation")
        if not expectation:
            skipped.append(f"{row.get('check_name')}: {row.get('observed_value')}")
            continue
        meta = dict(expectation.get("meta") or {})
        meta.setdefault("check", row.get("check_name"))
        meta["severity"] = row.get("severity")
        config = ExpectationConfiguration(
            type=expectation["type"],
            kwargs=expectation.get("kwargs") or {},
            meta=meta,
            description=expectation.get("description"),
        )
        exception = details.get("exception")
        results.append(
            ExpectationValidationResult(
                success=bool(row.get("success")),
                expectation_config=config,
                result=details.get("result") or {},
                exception_info={
                    "raised_exception": bool(exception),
                    "exception_message": exception,
                    "exception_traceback": None,
                },
            )
        )
    return suites


def _register(context: Any, run: _RunRows, suites_seen: dict[str, list[Any]]) -> list[Any]:
    """Put one run's suite results into the context's validation results store."""
    import great_expectations as gx
    from great_expectations.core.expectation_validation_result import (
        ExpectationSuiteValidationResult,
    )
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    keys = []
    run_identifier = RunIdentifier(run_name=run.run_id, run_time=run.validated_at)
    for suite, (results, skipped) in _suite_results(run).items():
        if not results:
            continue
        passed = sum(1 for r in results if r.success)
        statistics = {
            "evaluated_expectations": len(results),
            "successful_expectations": passed,
            "unsuccessful_expectations": len(results) - passed,
            "success_percent": 100.0 * passed / len(results),
        }
        meta = {
            "run_id": run_identifier,
            "validation_time": run.validated_at.isoformat(),
            "great_expectations_version": gx.__version__,
            "expectation_suite_name": suite,
            "active_batch_definition": {
                "datasource_name": "policy_news",
                "data_connector_name": "fluent",
                "data_asset_name": suite,
                "batch_identifiers": {"run_id": run.run_id},
            },
            "batch_markers": {},
            "batch_spec": {"data_asset_name": suite, "run_id": run.run_id},
            "skipped_checks": skipped,
        }
        suite_result = ExpectationSuiteValidationResult(
            success=passed == len(results),
            results=results,
            suite_name=suite,
            statistics=statistics,
            meta=meta,
        )
        key = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=suite),
            run_id=run_identifier,
            batch_identifier=suite,
        )
        context.validation_results_store.set(key, suite_result)
        keys.append(key)
        suites_seen[suite] = [r.expectation_config for r in results]
    return keys


def _add_suites(context: Any, suites: dict[str, list[Any]]) -> list[Any]:
    """Expectation Suite pages, from the newest run's expectation configurations."""
    import great_expectations as gx
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
    )

    ids = []
    for name, configs in suites.items():
        suite = gx.ExpectationSuite(name=name)
        for config in configs:
            try:
                suite.add_expectation(config.to_domain_obj())
            except Exception as exc:  # an old run's kwargs may not fit today's GX
                log.debug("suite page %s: skipping %s: %s", name, config.type, exc)
        context.suites.add(suite)
        ids.append(ExpectationSuiteIdentifier(name=name))
    return ids


# --------------------------------------------------------------------------- entry point


def _pages_outdated(docs_dir: Path, run_id: str, keys: list[Any]) -> bool:
    """A run's validation pages are missing, or were written before the local assets."""
    for key in keys:
        run_dir = docs_dir / "validations" / key.expectation_suite_identifier.name / run_id
        if not run_dir.is_dir():
            return True
        if not all(is_offline_page(page) for page in run_dir.rglob("*.html")):
            return True
    return False


def build_data_docs(
    report_or_results: ValidationReport | pd.DataFrame,
    docs_dir: Path | None = None,
    *,
    keep_runs: int = DEFAULT_KEEP_RUNS,
) -> Path:
    """Render GX Data Docs for the run(s) in `report_or_results` plus the recent history.

    Returns the path of ``index.html``. Pages work without network access.
    """
    if docs_dir is None:
        from policy_news.settings import get_settings

        docs_dir = get_settings().docs_dir
    docs_dir = Path(docs_dir)
    docs_dir.mkdir(parents=True, exist_ok=True)
    results = _results_frame(report_or_results)
    current = set(_store_runs(results, docs_dir))
    runs = _prune(docs_dir, _load_runs(docs_dir), keep_runs)

    context = gx_context()
    context.add_data_docs_site(
        SITE_NAME,
        {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(docs_dir.resolve()),
            },
            "site_index_builder": {
                "class_name": "DefaultSiteIndexBuilder",
                "show_cta_footer": False,
            },
        },
    )
    suites: dict[str, list[Any]] = {}
    render: list[Any] = []
    for run in runs:
        keys = _register(context, run, suites)
        if run.run_id in current or _pages_outdated(docs_dir, run.run_id, keys):
            render.extend(keys)
    render.extend(_add_suites(context, suites))
    context.build_data_docs(site_names=[SITE_NAME], resource_identifiers=render or None)
    make_offline(docs_dir)
    index = docs_dir / "index.html"
    log.info("Data Docs for %d run(s) at %s", len(runs), index)
    return index


def runs_in_docs(docs_dir: Path) -> Iterable[str]:
    """Run ids whose results are kept for the Data Docs index (oldest first)."""
    return [r.run_id for r in _load_runs(Path(docs_dir))]
