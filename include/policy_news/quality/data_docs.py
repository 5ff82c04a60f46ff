"""GX Data Docs for the data-quality results of recent runs, readable offline.

`build_data_docs(report_or_results, docs_dir)` turns `dq_results` rows (a
`ValidationReport` or a `dq_results` DataFrame) back into GX validation results,
keeps the last few runs' rows as JSON under ``docs_dir/_runs/`` so the index lists
the recent history, and lets GX's SiteBuilder render the site into `docs_dir`.

GX's pages load Bootstrap, jQuery, bootstrap-table, Font Awesome and Vega from CDNs,
so offline (air-gapped Airflow, a browser without internet) they render as unstyled
text and the index table stays empty. After the build every page is rewritten to use
``static/offline/offline.css`` and ``static/offline/offline.js`` written next to them:
a small stylesheet covering the Bootstrap classes the pages use, and a small script
that fills the index table, toggles collapsed sections and tabs and implements the
"show failed only" buttons. Nothing is fetched from the network.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterable

    from policy_news.quality.checks import ValidationReport

os.environ["GX_ANALYTICS_ENABLED"] = "false"
logging.getLogger("great_expectations").setLevel(logging.WARNING)

log = logging.getLogger(__name__)

SITE_NAME = "policy_news"
RUNS_DIR = "_runs"
OFFLINE_DIR = "static/offline"
DEFAULT_KEEP_RUNS = 30

_CDN_LINK_RE = re.compile(r"<link\b[^>]*href=\"https?://[^\"]*\"[^>]*>\s*", re.IGNORECASE)
_CDN_SCRIPT_RE = re.compile(
    r"<script\b[^>]*src=\"https?://[^\"]*\"[^>]*>\s*</script>\s*", re.IGNORECASE
)
_S3_ASSET_RE = re.compile(
    r"https://great-expectations-web-assets\.s3[^\"']*?/([A-Za-z0-9_.-]+\.(?:png|svg|ico|gif))"
    r"(?:\?[^\"']*)?"
)
_MARKER = "<!-- policy-news offline assets -->"


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


# --------------------------------------------------------------------------- offline


def _relative_prefix(page: Path, docs_dir: Path) -> str:
    depth = len(page.relative_to(docs_dir).parts) - 1
    return "../" * depth


def make_offline(docs_dir: Path) -> int:
    """Rewrite every page under `docs_dir` to use local assets; return pages changed."""
    assets = docs_dir / OFFLINE_DIR
    assets.mkdir(parents=True, exist_ok=True)
    (assets / "offline.css").write_text(OFFLINE_CSS, encoding="utf-8")
    (assets / "offline.js").write_text(OFFLINE_JS, encoding="utf-8")
    changed = 0
    for page in docs_dir.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        prefix = _relative_prefix(page, docs_dir)
        new = _CDN_SCRIPT_RE.sub("", text)
        new = _CDN_LINK_RE.sub("", new)
        new = _S3_ASSET_RE.sub(rf"{prefix}static/images/\1", new)
        if _MARKER not in new:
            tags = (
                f"{_MARKER}\n"
                f'<link rel="stylesheet" href="{prefix}{OFFLINE_DIR}/offline.css">\n'
                f'<script src="{prefix}{OFFLINE_DIR}/offline.js"></script>\n'
            )
            new = new.replace("</head>", tags + "</head>", 1) if "</head>" in new else tags + new
        if new != text:
            page.write_text(new, encoding="utf-8")
            changed += 1
    return changed


# --------------------------------------------------------------------------- entry point


def build_data_docs(
    report_or_results: ValidationReport | pd.DataFrame,
    docs_dir: Path | None = None,
    *,
    keep_runs: int = DEFAULT_KEEP_RUNS,
) -> Path:
    """Render GX Data Docs for the run(s) in `report_or_results` plus the recent history.

    Returns the path of ``index.html``. Pages work without network access.
    """
    from policy_news.quality.checks import _gx_context

    if docs_dir is None:
        from policy_news.settings import get_settings

        docs_dir = get_settings().docs_dir
    docs_dir = Path(docs_dir)
    docs_dir.mkdir(parents=True, exist_ok=True)
    results = _results_frame(report_or_results)
    current = set(_store_runs(results, docs_dir))
    runs = _prune(docs_dir, _load_runs(docs_dir), keep_runs)

    context = _gx_context()
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
        index_html_missing = not all(
            (docs_dir / "validations" / k.expectation_suite_identifier.name / run.run_id).is_dir()
            for k in keys
        )
        if run.run_id in current or index_html_missing:
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


# --------------------------------------------------------------------------- assets


def _spacing_css() -> str:
    sizes = {"0": "0", "1": ".25rem", "2": ".5rem", "3": "1rem", "4": "1.5rem", "5": "3rem"}
    sides = {
        "": ("",),
        "t": ("-top",),
        "b": ("-bottom",),
        "l": ("-left",),
        "r": ("-right",),
        "x": ("-left", "-right"),
        "y": ("-top", "-bottom"),
    }

    def rules(infix: str) -> str:
        out = []
        for prop, letter in (("margin", "m"), ("padding", "p")):
            for side, suffixes in sides.items():
                for key, size in sizes.items():
                    decl = ";".join(f"{prop}{s}:{size}!important" for s in suffixes)
                    out.append(f".{letter}{side}-{infix}{key}{{{decl}}}")
        return "".join(out)

    return "\n".join(
        [
            rules(""),
            "@media(min-width:576px){" + rules("sm-") + "}",
            "@media(min-width:768px){" + rules("md-") + "}",
            ".mr-auto{margin-right:auto!important}.ml-auto{margin-left:auto!important}",
        ]
    )


def _grid_css() -> str:
    out = [".col-12,.col-xs-12{flex:0 0 100%;max-width:100%}"]
    for bp, width in (("sm", 576), ("md", 768), ("lg", 992), ("xl", 1200)):
        cols = "".join(
            f".col-{bp}-{n}{{flex:0 0 {n / 12 * 100:.4f}%;max-width:{n / 12 * 100:.4f}%}}"
            for n in range(1, 13)
        )
        out.append(f"@media(min-width:{width}px){{{cols}}}")
    for n in range(1, 13):
        out.append(f".col-{n}{{flex:0 0 {n / 12 * 100:.4f}%;max-width:{n / 12 * 100:.4f}%}}")
    return "\n".join(out)


OFFLINE_CSS = (
    """/* policy-news: offline stand-in for the Bootstrap 4 / bootstrap-table / Font Awesome
   classes used by GX Data Docs pages (no network needed). */
*,*::before,*::after{box-sizing:border-box}
html{font-size:15px}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",
  Arial,sans-serif;line-height:1.45;color:#212529;background:#fff}
a{color:#0b5cad;text-decoration:none}a:hover{text-decoration:underline}
h1,h2,h3,h4,h5,h6,.h6{margin:0 0 .5rem;font-weight:600;line-height:1.2}
h1{font-size:1.9rem}h2{font-size:1.6rem}h3{font-size:1.35rem}h4{font-size:1.15rem}
h5{font-size:1rem}h6,.h6{font-size:.9rem}
p{margin:0 0 .8rem}.lead{font-size:1.05rem;color:#495057}
code,pre{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:.85em}
pre{white-space:pre-wrap;background:#f6f8fa;padding:.5rem;border-radius:4px}
hr{border:0;border-top:1px solid #dee2e6;margin:1rem 0}
img{vertical-align:middle;max-width:100%}
.container,.container-fluid{width:100%;padding-right:15px;padding-left:15px;
  margin-right:auto;margin-left:auto}
.row{display:flex;flex-wrap:wrap;margin-right:-15px;margin-left:-15px}
[class*="col-"]{position:relative;width:100%;padding-right:15px;padding-left:15px}
.d-none{display:none!important}.d-block{display:block!important}
.d-flex{display:flex!important}.d-inline-flex{display:inline-flex!important}
@media(min-width:576px){.d-sm-block{display:block!important}}
@media(min-width:768px){.d-md-inline-flex{display:inline-flex!important}
  .d-md-block{display:block!important}}
.align-items-center{align-items:center!important}
.justify-content-center{justify-content:center!important}
.float-left{float:left!important}.float-right{float:right!important}
.h-100{height:100%!important}.w-100{width:100%!important}
.sticky-top{position:sticky;top:0;z-index:1020}.sticky{position:sticky;top:80px}
.border{border:1px solid #dee2e6!important}
.border-bottom{border-bottom:1px solid #dee2e6!important}
.rounded{border-radius:.25rem!important}
.bg-light{background-color:#f1f3f5!important}.bg-white{background:#fff!important}
.text-danger{color:#c62828!important}.text-success{color:#2e7d32!important}
.text-muted{color:#6c757d!important}.text-warning{color:#b26a00!important}
.text-center{text-align:center!important}.text-right{text-align:right!important}
.font-weight-bold{font-weight:700!important}
.navbar{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;
  padding:.5rem 1rem;background:#fff}
.navbar-brand{display:inline-block;margin-right:1rem}
.nav{display:flex;flex-wrap:wrap;padding-left:0;margin-bottom:0;list-style:none}
.nav-link{display:block;padding:.4rem .8rem}
.nav-tabs{border-bottom:1px solid #dee2e6}
.nav-tabs .nav-link{border:1px solid transparent;border-top-left-radius:.25rem;
  border-top-right-radius:.25rem;margin-bottom:-1px}
.nav-tabs .nav-link.active{color:#495057;background:#fff;border-color:#dee2e6 #dee2e6 #fff}
.nav-pills .nav-link{border-radius:.25rem}
.nav-pills .nav-link.active{color:#fff;background:#0b5cad}
.flex-column{flex-direction:column!important}
.tab-content>.tab-pane{display:none}.tab-content>.active{display:block}
.fade:not(.show){opacity:1}
.collapse:not(.show){display:none}
.breadcrumb{display:flex;flex-wrap:wrap;padding:.5rem 1rem;list-style:none;
  border-radius:.25rem}
.breadcrumb-item+.breadcrumb-item{padding-left:.5rem}
.breadcrumb-item+.breadcrumb-item::before{content:"/";padding-right:.5rem;color:#6c757d}
.breadcrumb-item.active{color:#6c757d}
.card{position:relative;display:flex;flex-direction:column;min-width:0;background:#fff;
  border:1px solid rgba(0,0,0,.125);border-radius:.25rem;margin-bottom:1rem}
.card-header{padding:.6rem 1rem;background:rgba(0,0,0,.03);
  border-bottom:1px solid rgba(0,0,0,.125)}
.card-header h3,.card-header h4,.card-header h5{margin:0}
.card-body{flex:1 1 auto;padding:1rem}
.alert{position:relative;padding:.6rem 1rem;margin-bottom:1rem;border:1px solid transparent;
  border-radius:.25rem}
.alert-secondary{color:#383d41;background:#e2e3e5;border-color:#d6d8db}
.alert-danger{color:#721c24;background:#f8d7da;border-color:#f5c6cb}
.alert-success{color:#155724;background:#d4edda;border-color:#c3e6cb}
.btn{display:inline-block;font-weight:400;text-align:center;vertical-align:middle;
  cursor:pointer;user-select:none;border:1px solid transparent;padding:.3rem .7rem;
  font-size:.9rem;line-height:1.5;border-radius:.25rem;background:#e9ecef;color:#212529}
.btn-sm{padding:.2rem .5rem;font-size:.8rem}
.btn-primary{color:#fff;background:#0b5cad;border-color:#0b5cad}
.btn-primary.active{background:#083f77;border-color:#083f77}
.btn-secondary{color:#fff;background:#6c757d;border-color:#6c757d}
.btn-group{display:inline-flex}.btn-group>.btn{border-radius:0}
.btn-group>.btn:first-child{border-radius:.25rem 0 0 .25rem}
.btn-group>.btn:last-child{border-radius:0 .25rem .25rem 0}
.btn-group-toggle input{position:absolute;clip:rect(0,0,0,0);pointer-events:none}
.badge{display:inline-block;padding:.25em .4em;font-size:75%;font-weight:700;
  border-radius:.25rem;background:#6c757d;color:#fff}
.list-group{display:flex;flex-direction:column;padding-left:0;margin-bottom:0}
.list-group-item{display:block;padding:.5rem .8rem;border:1px solid rgba(0,0,0,.125)}
.table{width:100%;margin-bottom:1rem;color:#212529;border-collapse:collapse}
.table th,.table td{padding:.5rem .6rem;vertical-align:top;border-top:1px solid #dee2e6;
  text-align:left}
.table thead th{vertical-align:bottom;border-bottom:2px solid #dee2e6;background:#f8f9fa}
.table-sm th,.table-sm td{padding:.3rem .45rem}
.table-bordered,.table-bordered th,.table-bordered td{border:1px solid #dee2e6}
.table-responsive{display:block;width:100%;overflow-x:auto}
.table tbody tr.clickable-row:hover{background:#eef4fb}
.show-scrollbars{overflow-x:auto;max-width:100%}
ul{padding-left:1.3rem}
/* Font Awesome stand-ins */
.fas,.far,.fa{display:inline-block;font-style:normal;font-weight:700}
.fa-check-circle::before{content:"\\2714"}
.fa-check::before{content:"\\2713"}
.fa-times::before,.fa-times-circle::before{content:"\\2718"}
.fa-exclamation-triangle::before{content:"\\26A0"}
.fa-info-circle::before{content:"\\24D8"}
.fa-question-circle::before{content:"?"}
.fa-external-link-alt::before{content:"\\2197"}
.fa-bars::before{content:"\\2630"}
.fa-search::before{content:"\\26B2"}
/* GX pieces */
.ge-index-page-site-name-title{margin:.5rem 0 1rem}
.offline-note{font-size:.8rem;color:#6c757d;margin:.5rem 0}
.pn-table-filter{margin:.3rem 0 .6rem;padding:.3rem .5rem;width:18rem;max-width:100%;
  border:1px solid #ced4da;border-radius:.25rem}
"""
    + _grid_css()
    + "\n"
    + _spacing_css()
    + "\n"
)


OFFLINE_JS = r"""/* policy-news: offline stand-in for the jQuery, Bootstrap and
   bootstrap-table calls made by GX Data Docs pages. Only what these pages use;
   no network access. */
(function () {
  "use strict";
  function toList(x) {
    if (!x) return [];
    if (x.nodeType || x === window || x === document) return [x];
    if (x.length !== undefined && typeof x !== "string") return Array.prototype.slice.call(x);
    return [];
  }
  function Q(elements) {
    this.elements = elements;
    this.length = elements.length;
    for (var i = 0; i < elements.length; i++) this[i] = elements[i];
  }
  function $(sel) {
    if (typeof sel === "function") { ready(sel); return new Q([document]); }
    if (typeof sel === "string") {
      try { return new Q(toList(document.querySelectorAll(sel))); }
      catch (e) { return new Q([]); }
    }
    return new Q(toList(sel));
  }
  var handlers = {};
  function ready(fn) {
    if (document.readyState !== "loading") setTimeout(fn, 0);
    else document.addEventListener("DOMContentLoaded", fn);
  }
  Q.prototype.ready = function (fn) { ready(fn); return this; };
  Q.prototype.each = function (fn) {
    this.elements.forEach(function (el, i) { fn.call(el, i, el); });
    return this;
  };
  Q.prototype.parent = function () {
    return new Q(this.elements.map(function (el) { return el.parentElement; })
      .filter(function (el) { return !!el; }));
  };
  Q.prototype.fadeIn = function () {
    this.elements.forEach(function (el) { el.style.display = ""; });
    return this;
  };
  Q.prototype.fadeOut = function () {
    this.elements.forEach(function (el) { el.style.display = "none"; });
    return this;
  };
  Q.prototype.show = Q.prototype.fadeIn;
  Q.prototype.hide = Q.prototype.fadeOut;
  Q.prototype.data = function (key) {
    var el = this.elements[0];
    return el ? el.getAttribute("data-" + key) : undefined;
  };
  Q.prototype.on = function (event, fn) {
    this.elements.forEach(function (el) {
      var id = el.id || "";
      (handlers[id + "|" + event] = handlers[id + "|" + event] || []).push(fn);
    });
    return this;
  };
  Q.prototype.tooltip = Q.prototype.popover = function () { return this; };
  Q.prototype.bootstrapTable = function (opts) {
    if (typeof opts === "string") return this;  // clearFilterControl, resetSearch
    this.elements.forEach(function (table) { renderTable(table, opts || {}); });
    return this;
  };
  function cellValue(row, field) {
    var v = row[field];
    return v === undefined || v === null ? "" : String(v);
  }
  function renderTable(table, opts) {
    var columns = opts.columns || [];
    var data = (opts.data || []).slice();
    var sortName = opts.sortName;
    if (sortName) {
      var col = columns.filter(function (c) { return c.field === sortName; })[0];
      var key = (col && col.sortName) || sortName;
      var desc = opts.sortOrder === "desc";
      data.sort(function (a, b) {
        var x = a[key], y = b[key];
        if (x === y) return 0;
        return (x > y ? 1 : -1) * (desc ? -1 : 1);
      });
    }
    var thead = "<thead><tr>" + columns.map(function (c) {
      return "<th>" + (c.title || c.field) + "</th>";
    }).join("") + "</tr></thead>";
    var rows = data.map(function (row, i) {
      var href = row._table_row_link_path ? ' data-href="' + row._table_row_link_path + '"' : "";
      var cls = href ? ' class="clickable-row"' : "";
      return "<tr" + cls + href + ' data-index="' + i + '">' + columns.map(function (c) {
        return '<td style="text-align:' + (c.align || "left") + '">' +
          cellValue(row, c.field) + "</td>";
      }).join("") + "</tr>";
    }).join("");
    table.classList.add("table", "table-sm", "table-bordered");
    table.innerHTML = thead + "<tbody>" + rows + "</tbody>";
    if (data.length > 8) {
      var input = document.createElement("input");
      input.className = "pn-table-filter";
      input.placeholder = "Filter rows…";
      input.addEventListener("input", function () {
        var q = input.value.toLowerCase();
        toList(table.tBodies[0].rows).forEach(function (tr) {
          tr.style.display = tr.textContent.toLowerCase().indexOf(q) >= 0 ? "" : "none";
        });
      });
      table.parentNode.insertBefore(input, table);
    }
    table.addEventListener("click", function (e) {
      var tr = e.target.closest && e.target.closest("tr[data-index]");
      if (!tr) return;
      var row = data[+tr.getAttribute("data-index")];
      var list = handlers[(table.id || "") + "|click-row.bs.table"] || [];
      if (list.length) list.forEach(function (fn) { fn(e, row, new Q([tr])); });
      else if (tr.getAttribute("data-href")) window.location = tr.getAttribute("data-href");
    });
  }
  document.addEventListener("click", function (e) {
    var t = e.target.closest && e.target.closest("[data-toggle]");
    if (!t) return;
    var kind = t.getAttribute("data-toggle");
    var target = t.getAttribute("data-target") || t.getAttribute("href");
    if (kind === "collapse" && target && target.charAt(0) === "#") {
      e.preventDefault();
      var el = document.getElementById(target.slice(1));
      if (el) el.classList.toggle("show");
    } else if (kind === "tab" && target && target.charAt(0) === "#") {
      e.preventDefault();
      var pane = document.getElementById(target.slice(1));
      if (!pane) return;
      toList(pane.parentNode.children).forEach(function (p) {
        p.classList.remove("active", "show");
      });
      pane.classList.add("active", "show");
      var nav = t.closest(".nav");
      if (nav) toList(nav.querySelectorAll("[data-toggle=tab]")).forEach(function (a) {
        a.classList.remove("active");
      });
      t.classList.add("active");
    } else if (kind === "buttons") {
      var label = e.target.closest("label.btn");
      if (label) {
        toList(t.querySelectorAll("label.btn")).forEach(function (b) {
          b.classList.remove("active");
        });
        label.classList.add("active");
      }
    }
  });
  window.vegaEmbed = function (sel) {
    var el = typeof sel === "string" ? document.querySelector(sel) : sel;
    if (el) el.innerHTML = '<p class="offline-note">(chart not shown: needs the online ' +
      "Vega libraries)</p>";
    return Promise.resolve();
  };
  window.jQuery = window.$ = $;
})();
"""
