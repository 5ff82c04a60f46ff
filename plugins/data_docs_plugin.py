"""Airflow 3 plugin: the data-quality Data Docs inside the Airflow UI.

Airflow 3 dropped the Flask AppBuilder views and menu items of Airflow 2
(`appbuilder_views`, `appbuilder_menu_items`); a plugin now adds

- a FastAPI sub-app (`fastapi_apps`), mounted by the API server under `url_prefix`:
  here a tiny read-only file server for the Data Docs folder (`settings.docs_dir`),
  with `/run/{run_id}` jumping to that run's run-level validation page, and
  `/weekly-report` serving the newest `report-YYYY-Www.html` of the reports folder
  (`settings.reports_dir`, written by the digest DAG);
- external views (`external_views`): "Data quality" and "Weekly report" entries in the
  UI's navigation (shown in an iframe at ``/plugin/data-docs`` and
  ``/plugin/weekly-report``) and a link on each dag run.

Import-light on purpose: importing this module reads only the URL prefix from the
settings (no network, no database; the docs folder is resolved per request), and Great
Expectations is never imported.
Everything is static HTML written by `policy_news.quality.data_docs.build_data_docs`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.plugins_manager import AirflowPlugin
from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse, RedirectResponse

from policy_news.settings import get_settings

if TYPE_CHECKING:
    from pathlib import Path

URL_PREFIX = get_settings().data_docs_url_prefix.rstrip("/")

docs_app = FastAPI(
    title="Policy News Data Docs",
    description="Great Expectations Data Docs of the policy-news data-quality checks.",
    docs_url=None,
    redoc_url=None,
    openapi_url=None,
)


def _docs_dir() -> Path:
    return get_settings().docs_dir.resolve()


def _safe_file(root: Path, relative: str) -> Path:
    """`relative` inside `root`, or 404 (no traversal, no directories, no dotfiles)."""
    candidate = (root / relative).resolve()
    if not candidate.is_relative_to(root):
        raise HTTPException(status_code=404)
    parts = candidate.relative_to(root).parts
    if any(part.startswith((".", "_")) for part in parts):
        raise HTTPException(status_code=404)
    if candidate.is_dir():
        candidate = candidate / "index.html"
    if not candidate.is_file():
        raise HTTPException(status_code=404)
    return candidate


@docs_app.get("/run/{run_id:path}", include_in_schema=False)
def run_page(run_id: str) -> RedirectResponse:
    """Redirect to a run's run-level validation page (the index when there is none)."""
    root = _docs_dir()
    run_dir = (root / "validations" / "run" / run_id).resolve()
    target = "index.html"
    if run_dir.is_relative_to(root) and run_dir.is_dir():
        pages = sorted(run_dir.glob("*/*.html"))
        if pages:
            target = pages[-1].relative_to(root).as_posix()
    return RedirectResponse(url=f"{URL_PREFIX}/{target}", status_code=307)


def latest_report(reports_dir: Path) -> Path | None:
    """The newest weekly report: ISO week labels sort in time order."""
    reports = sorted(reports_dir.glob("report-[0-9][0-9][0-9][0-9]-W[0-9][0-9].html"))
    return reports[-1] if reports else None


@docs_app.get("/weekly-report", include_in_schema=False)
def weekly_report() -> FileResponse:
    """The latest weekly HTML report (404 until the digest DAG wrote one)."""
    report = latest_report(get_settings().reports_dir.resolve())
    if report is None:
        raise HTTPException(status_code=404, detail="no weekly report yet")
    return FileResponse(report, media_type="text/html")


@docs_app.get("/", include_in_schema=False)
def index() -> FileResponse:
    return FileResponse(_safe_file(_docs_dir(), "index.html"))


@docs_app.get("/{path:path}", include_in_schema=False)
def static_file(path: str) -> FileResponse:
    return FileResponse(_safe_file(_docs_dir(), path))


class DataDocsPlugin(AirflowPlugin):
    """Links the policy-news Data Docs from the Airflow UI."""

    name = "policy_news_data_docs"
    fastapi_apps: list[Any] = [  # noqa: RUF012 (AirflowPlugin declares these as lists)
        {"app": docs_app, "url_prefix": URL_PREFIX, "name": "Policy News Data Docs"},
    ]
    external_views: list[Any] = [  # noqa: RUF012
        {
            "name": "Data quality (Data Docs)",
            "href": f"{URL_PREFIX}/index.html",
            "destination": "nav",
            "category": "browse",
            "url_route": "data-docs",
        },
        {
            "name": "Weekly report",
            "href": f"{URL_PREFIX}/weekly-report",
            "destination": "nav",
            "category": "browse",
            "url_route": "weekly-report",
        },
        {
            "name": "Data quality",
            "href": f"{URL_PREFIX}/run/{{RUN_ID}}",
            "destination": "dag_run",
            "url_route": "data-docs-run",
        },
    ]
