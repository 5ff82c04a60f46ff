"""The warm validation child: used by validation, dropped before a large article stage."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import pytest

from policy_news.pipeline import runner, validate
from policy_news.pipeline.validation_child import WARM_MAX_ITEMS, keep_warm_child
from policy_news.staging_store import locate

if TYPE_CHECKING:
    from collections.abc import Iterator

    from policy_news.settings import Settings


class FakeChild:
    """Stands in for ValidationChild: records what it was asked, starts no process."""

    instances: ClassVar[list[FakeChild]] = []

    def __init__(self, _settings: Settings) -> None:
        self.alive = True
        self.stops = 0
        self.calls: list[Any] = []
        FakeChild.instances.append(self)

    def run(self, fn: Any, *args: Any) -> Any:
        self.calls.append(fn)
        return {"seconds": 0.0}

    def stop(self) -> None:
        self.alive = False
        self.stops += 1


def test_small_selections_keep_the_warm_child() -> None:
    assert keep_warm_child(0)
    assert keep_warm_child(WARM_MAX_ITEMS)
    assert not keep_warm_child(WARM_MAX_ITEMS + 1)


def test_validate_stage_runs_the_checks_in_the_warm_child(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, tmp_path: Path
) -> None:
    monkeypatch.setattr(validate, "collect_stats", lambda *_a: {"timings": {}})
    run_dir = locate(tmp_path)
    (run_dir / "selection.json").write_text("{}")
    child = FakeChild(settings)
    feeds: Any = [{"feed_fetches": "f.parquet", "feed_items": "i.parquet", "items": 3}]
    validated = validate.validate_stage(run_dir, feeds, [], [], settings, child=child)
    assert child.calls == [validate.validate_run]
    assert validated["stats"]["timings"]["validate"] == 0.0


def _run_with_selection(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, items_new: int
) -> FakeChild:
    """run_pipeline with every stage stubbed: only the warm child's fate is real."""
    seen: dict[str, Any] = {}

    @contextmanager
    def no_pool(*_a: Any, **_k: Any) -> Iterator[None]:
        yield None

    def fake_validate_stage(*_a: Any, child: Any = None, **_k: Any) -> Any:
        seen["alive_at_validation"] = child is not None and child.alive
        return {"validation": {"checks_passed": 0, "checks_failed": 0}, "stats": {}}

    FakeChild.instances.clear()
    monkeypatch.setattr(runner, "ValidationChild", FakeChild)
    monkeypatch.setattr(
        runner,
        "plan_run",
        lambda *_a, **_k: {"run_dir": "unused", "feed_batches": [], "feeds_due": 1},
    )
    monkeypatch.setattr(runner, "_fetch_feeds", lambda *_a: [])
    monkeypatch.setattr(
        runner,
        "select_new_items",
        lambda *_a: {
            "items_new": items_new,
            "items_seen": items_new,
            "retries": 0,
            "pending": 0,
            "item_batches": [],
        },
    )
    monkeypatch.setattr(runner, "validate_stage", fake_validate_stage)
    monkeypatch.setattr(runner, "load_run", lambda *_a: {})
    monkeypatch.setattr("policy_news.extract.articles.extraction_pool", no_pool)
    runner.run_pipeline(settings.model_copy(update={"isolate_validation": True}), keep_staging=True)
    (child,) = FakeChild.instances
    assert not child.alive and child.stops, "the child must be stopped when the run ends"
    return child if seen["alive_at_validation"] else None  # type: ignore[return-value]


def test_warm_child_validates_a_small_poll(
    monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    assert _run_with_selection(monkeypatch, settings, items_new=20) is not None


def test_warm_child_is_dropped_for_a_large_selection(
    monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    assert _run_with_selection(monkeypatch, settings, items_new=WARM_MAX_ITEMS + 1) is None


def test_warm_child_is_stopped_when_nothing_is_to_validate(
    monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    assert _run_with_selection(monkeypatch, settings, items_new=0) is None


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1][0]
    except (FileNotFoundError, ProcessLookupError):
        return False  # gone and reaped
    return state != "Z"


def test_stop_ends_the_child_mid_import(settings: Settings) -> None:
    """A real child, stopped while it imports GX: the process is gone within seconds."""
    import time

    from policy_news.pipeline.validation_child import ValidationChild

    child = ValidationChild(settings)
    assert child.executor is not None
    deadline = time.monotonic() + 30
    while not child.executor._processes and time.monotonic() < deadline:
        time.sleep(0.05)
    (process,) = child.executor._processes.values()
    child.stop()
    # The executor's own thread may reap the process first, which hides the exit from
    # `process.join`; the kernel's view does not race.
    deadline = time.monotonic() + 3  # GX's import alone takes longer
    assert process.pid is not None
    while _running(process.pid):
        assert time.monotonic() < deadline, "the stopped child is still running"
        time.sleep(0.05)
    assert not child.alive


def test_story_code_imports_while_the_child_validates(
    monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    """With articles to load, the validation wait is spent importing the loader's story
    code in this process; without articles nothing is imported."""
    import threading

    seen: dict[str, Any] = {"imported": []}

    def fake_validate_stage(*_a: Any, **_k: Any) -> Any:
        seen["thread"] = threading.current_thread().name
        return {"validation": {}, "stats": {}}

    monkeypatch.setattr(runner, "validate_stage", fake_validate_stage)
    monkeypatch.setattr(runner.importlib, "import_module", seen["imported"].append)
    child: Any = FakeChild(settings)
    tagged: Any = [{"tagged": 3}]
    runner._validate(locate(settings.staging_dir), [], [], tagged, settings, child)
    assert seen["imported"] == ["policy_news.stories.persistence"]
    assert seen["thread"].startswith("validate")
    seen["imported"].clear()
    untagged: Any = [{"tagged": 0}]
    runner._validate(locate(settings.staging_dir), [], [], untagged, settings, child)
    assert seen["imported"] == []
