"""Data Docs: rendered from dq_results, pruned to recent runs, served by the plugin."""

from __future__ import annotations

import re
import warnings
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pytest

from policy_news.quality.data_docs import build_data_docs, runs_in_docs
from policy_news.quality.docs_assets import MARKER
from tests.quality.batches import NOW, RUN

if TYPE_CHECKING:
    from policy_news.quality.checks import ValidationReport

_LOCAL_REF_RE = re.compile(r"""<(?:link|script|img)\b[^>]*\b(?:href|src)=["']([^"'#?]+)""")
_STYLE_URL_RE = re.compile(r"""url\(\s*['"]?([^'")]+)""")


def test_data_docs_render_with_the_run(bad_report: ValidationReport, tmp_path: Path) -> None:
    index = build_data_docs(bad_report, tmp_path / "docs")
    assert index == tmp_path / "docs" / "index.html"
    assert len(list((tmp_path / "docs").rglob("*.html"))) > 5
    assert RUN in index.read_text(encoding="utf-8")


def test_data_docs_pages_link_only_local_assets_that_exist(
    bad_report: ValidationReport, tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    build_data_docs(bad_report, docs)
    pages = sorted(docs.rglob("*.html"))
    assert pages
    for page in pages:
        text = page.read_text(encoding="utf-8")
        refs = _LOCAL_REF_RE.findall(text) + _STYLE_URL_RE.findall(text)
        refs = [r for r in refs if not r.startswith("data:")]
        remote = [r for r in refs if r.startswith(("http:", "https:", "//"))]
        assert not remote, f"{page.relative_to(docs)} fetches {remote}"
        missing = [r for r in refs if not (page.parent / r).resolve().is_file()]
        assert not missing, f"{page.relative_to(docs)} links missing files {missing}"
        # the index table needs jQuery and bootstrap-table; every page is styled
        assert "static/vendor/jquery/jquery.min.js" in text, page
        assert "static/vendor/bootstrap-table/bootstrap-table.min.js" in text, page
        assert "static/vendor/bootstrap/bootstrap.min.css" in text, page
    for stylesheet in (docs / "static").rglob("*.css"):
        for ref in _STYLE_URL_RE.findall(stylesheet.read_text(encoding="utf-8")):
            if ref.startswith("data:") or ref.endswith(".ttf"):
                continue  # the .ttf fallback of Font Awesome is not kept, see its README
            assert (stylesheet.parent / ref).resolve().is_file(), f"{stylesheet}: {ref}"


def test_pages_written_before_the_local_assets_are_rendered_again(
    bad_report: ValidationReport, tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    build_data_docs(bad_report, docs)
    page = next((docs / "validations" / "run" / RUN).rglob("*.html"))
    # as the earlier hand-written stand-ins left it: CDN tags gone, their own two files
    text = re.sub(r"<(link|script)[^>]*static/vendor/[^>]*>(</script>)?\n", "", page.read_text())
    text = text.replace(MARKER, '<link rel="stylesheet" href="../static/offline/offline.css">')
    page.write_text(text, encoding="utf-8")
    (docs / "static" / "offline").mkdir()
    later = bad_report.results.copy()
    later["run_id"] = "later-run"
    build_data_docs(later, docs)
    text = page.read_text(encoding="utf-8")
    assert "static/vendor/jquery/jquery.min.js" in text and "offline.css" not in text
    assert not (docs / "static" / "offline").exists()


def test_data_docs_keep_only_recent_runs(bad_report: ValidationReport, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    for i in range(3):
        results = bad_report.results.copy()
        results["run_id"] = f"run-{i}"
        results["validated_at"] = pd.Timestamp(NOW + timedelta(hours=i))
        build_data_docs(results, docs, keep_runs=2)
    assert runs_in_docs(docs) == ["run-1", "run-2"]
    assert not (docs / "validations" / "run" / "run-0").exists()
    assert (docs / "validations" / "run" / "run-2").is_dir()


@pytest.fixture
def plugin_client(bad_report: ValidationReport, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    with warnings.catch_warnings():  # starlette's note about httpx vs httpx2
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    docs = tmp_path / "docs"
    build_data_docs(bad_report, docs)
    monkeypatch.setenv("POLICY_NEWS_DOCS_DIR", str(docs))
    plugins_dir = Path(__file__).resolve().parents[2] / "plugins"
    monkeypatch.syspath_prepend(str(plugins_dir))
    import data_docs_plugin

    return TestClient(data_docs_plugin.docs_app), data_docs_plugin


def test_plugin_links_the_docs_from_the_airflow_ui(plugin_client) -> None:
    _, module = plugin_client
    plugin = module.DataDocsPlugin
    assert {v["destination"] for v in plugin.external_views} == {"nav", "dag_run"}
    assert plugin.fastapi_apps[0]["url_prefix"] == "/data-docs"
    assert plugin.external_views[0]["href"] == "/data-docs/index.html"


def test_plugin_serves_pages_and_refuses_traversal(plugin_client) -> None:
    client, _ = plugin_client
    assert "Data Docs" in client.get("/index.html").text
    assert client.get("/static/vendor/bootstrap/bootstrap.min.css").status_code == 200
    assert client.get("/../../etc/passwd").status_code == 404
    assert client.get("/%2e%2e/%2e%2e/etc/passwd").status_code == 404
    assert client.get("/_runs/x.json").status_code == 404


def test_plugin_run_link_opens_the_run_page(plugin_client) -> None:
    client, _ = plugin_client
    response = client.get(f"/run/{RUN}", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"].startswith(f"/data-docs/validations/run/{RUN}/")
    missing = client.get("/run/no-such-run", follow_redirects=False)
    assert missing.headers["location"] == "/data-docs/index.html"


def test_plugin_serves_the_latest_weekly_report(
    plugin_client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, module = plugin_client
    monkeypatch.setenv("POLICY_NEWS_DB", str(tmp_path / "data" / "policy_news.duckdb"))
    assert client.get("/weekly-report").status_code == 404
    reports = tmp_path / "data" / "reports"
    reports.mkdir(parents=True)
    for week in ("2025-W52", "2026-W06", "2026-W05"):
        (reports / f"report-{week}.html").write_text(f"<p>{week}</p>")
    (reports / "digest-2026-02-08.md").write_text("not a report")
    response = client.get("/weekly-report")
    assert response.status_code == 200
    assert response.text == "<p>2026-W06</p>"
    assert response.headers["content-type"].startswith("text/html")
    nav = [v for v in module.DataDocsPlugin.external_views if v["name"] == "Weekly report"]
    assert nav[0]["href"] == "/data-docs/weekly-report"
