"""The report in a real headless Chromium: it loads offline, draws every chart, fills its tables.

Chromium comes from Debian (`apt-get install chromium`, done here when missing and
running as root); the page is opened from a file:// URL and inspected over the
DevTools protocol. The screenshot stays in the test's tmp_path for a human to look at.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from policy_news.reporting.report import write_report
from tests.reporting.cdp import Browser, find_or_install_chromium

pytestmark = pytest.mark.slow

# Every chart's element, its rendered size and how many of its marks have a visible box.
INSPECT = """
(() => {
  const charts = [...document.querySelectorAll('figure.chart')].map(figure => {
    const el = figure.querySelector('svg, img');
    const box = el ? el.getBoundingClientRect() : {width: 0, height: 0};
    const marks = el && el.tagName.toLowerCase() === 'svg'
      ? [...el.querySelectorAll('path, rect')].filter(m => {
          const b = m.getBBox(); return b.width > 0 || b.height > 0; }).length
      : (el && el.naturalWidth > 0 ? 1 : 0);
    return {id: figure.id, width: box.width, height: box.height, marks};
  });
  const tables = Object.fromEntries([...document.querySelectorAll('table[id]')].map(t =>
    [t.id, [...t.tBodies[0].rows].map(r => [...r.cells].map(c => c.innerText.trim()))]));
  return {title: document.title, charts, tables};
})()
"""


def _problems(events: list[dict[str, Any]]) -> list[str]:
    """Console errors, uncaught exceptions and failed or blocked loads."""
    found = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            found.append(f"console: {params.get('args')}")
        elif method == "Runtime.exceptionThrown":
            found.append(f"exception: {params.get('exceptionDetails')}")
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            found.append(f"log: {params['entry'].get('text')}")
        elif method == "Network.loadingFailed":
            found.append(f"load failed: {params.get('errorText')}")
    return found


def test_report_renders_in_headless_chromium(snapshot: Path, tmp_path: Path) -> None:
    chromium = find_or_install_chromium()
    report = write_report(snapshot, tmp_path / "reports")
    browser = Browser(chromium, tmp_path / "profile", tmp_path / "chromium.log")
    try:
        target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Runtime", "Log", "Network", "Page"):
            browser.call(f"{domain}.enable", session=session)
        browser.events.clear()
        browser.call("Page.navigate", {"url": report.as_uri()}, session=session)
        browser.wait_for("Page.loadEventFired")
        page = browser.call(
            "Runtime.evaluate", {"expression": INSPECT, "returnByValue": True}, session=session
        )["result"]["value"]
        size = browser.call("Page.getLayoutMetrics", session=session)["cssContentSize"]
        shot = browser.call(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {
                    "x": 0,
                    "y": 0,
                    "width": size["width"],
                    "height": size["height"],
                    "scale": 1,
                },
            },
            session=session,
        )
        screenshot = tmp_path / "report.png"
        screenshot.write_bytes(base64.b64decode(shot["data"]))
        events = list(browser.events)
    finally:
        browser.close()

    assert not _problems(events), f"{_problems(events)} (screenshot: {screenshot})"
    requested = [
        e["params"]["request"]["url"] for e in events if e["method"] == "Network.requestWillBeSent"
    ]
    assert requested and all(url.startswith(("file:", "data:")) for url in requested), requested

    assert page["title"] == "Immigration enforcement news, 2026-W06"
    charts = {c["id"]: c for c in page["charts"]}
    assert set(charts) == {
        "chart-trend-articles",
        "chart-trend-stories",
        "chart-states",
        "chart-agencies",
    }
    for chart in charts.values():
        assert chart["width"] > 200 and chart["height"] > 60, chart
        assert chart["marks"] >= 5, chart  # axes, ticks and the data's lines or bars

    tables = page["tables"]
    assert tables["state-table"] == [["Texas", "2"], ["Florida", "1"]]
    assert [row[0] for row in tables["count-table"]] == ["120", "15"]
    assert tables["count-table"][0][5].startswith("Agents arrested 120 people")
    assert [row[:2] for row in tables["feed-table"]] == [["beta", "failing"], ["alpha", "ok"]]
    assert len(tables["mention-287g-table"]) == 1
    assert {row[0] for row in tables["subtopic-table"]} >= {"arrests_operations", "detention"}

    assert screenshot.stat().st_size > 20_000 and size["height"] > 1000
