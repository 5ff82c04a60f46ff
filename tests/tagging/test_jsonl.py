"""JSON Lines tagging for the CLI: one output line per input line, errors inline, streaming."""

from __future__ import annotations

import io
import json
import sys
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from policy_news.tagging.jsonl import tag_files, tag_jsonl
from policy_news.tagging.tagger import Tagger

KEYS = {"id", "relevant", "score", "subtopics", "facts", "taxonomy_version"}


def _run(tagger: Tagger, lines: list[str]) -> list[dict]:
    out = io.StringIO()
    written = tag_jsonl(io.StringIO("\n".join(lines) + "\n"), out, tagger)
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert written == len(records)
    return records


def test_each_item_gets_a_record_with_evidence(tagger: Tagger) -> None:
    item = {
        "id": "a1",
        "title": "ICE agents arrest 40 in Texas raid",
        "summary": "Protesters rallied outside the detention center.",
        "text": None,
    }
    [record] = _run(tagger, [json.dumps(item)])
    assert set(record) == KEYS
    assert record["id"] == "a1" and record["relevant"] is True
    assert record["taxonomy_version"] == tagger.version
    sub = record["subtopics"][0]
    assert set(sub) == {"id", "score", "evidence"}
    assert set(sub["evidence"]) == {"sentence", "start", "end", "rule_id", "field"}
    fact = record["facts"][0]
    assert set(fact) == {"kind", "value", "normalized", "evidence", "attrs"}


def test_bad_lines_become_error_records_and_the_run_continues(tagger: Tagger) -> None:
    lines = [
        "{not json",
        "[1, 2]",
        json.dumps({"id": 7, "summary": "no title"}),
        json.dumps({"id": "x", "title": "ok", "text": 5}),
        json.dumps({"id": "good", "title": "Weather is mild today"}),
    ]
    records = _run(tagger, lines)
    assert [r.get("id") for r in records] == [None, None, 7, "x", "good"]
    assert all("error" in r for r in records[:4])
    assert "title" in records[2]["error"] and "'text'" in records[3]["error"]
    assert records[4]["relevant"] is False and "error" not in records[4]


def test_blank_lines_are_skipped(tagger: Tagger) -> None:
    records = _run(tagger, ["", json.dumps({"id": 1, "title": "Hello"}), "   "])
    assert [r["id"] for r in records] == [1]


class _Watch(io.StringIO):
    """Output that counts writes, to check input is consumed one line at a time."""

    writes = 0

    def write(self, s: str) -> int:
        self.writes += 1
        return super().write(s)


def test_output_is_written_before_the_next_line_is_read(tagger: Tagger) -> None:
    out = _Watch()

    def lines() -> Iterator[str]:
        for i in range(3):
            assert out.writes == i  # every earlier line already written
            yield json.dumps({"id": i, "title": "ICE raid"}) + "\n"

    assert tag_jsonl(lines(), out, tagger) == 3  # type: ignore[arg-type]


def test_memory_stays_flat_over_many_lines(tagger: Tagger) -> None:
    line = (
        json.dumps(
            {
                "id": "n",
                "title": "ICE agents detain workers in raid",
                "summary": "Officials said 30 people were taken into custody.",
            }
        )
        + "\n"
    )

    class Sink(io.TextIOBase):
        def write(self, s: str) -> int:
            return len(s)

    def lines(n: int) -> Iterator[str]:
        for _ in range(n):
            yield line

    tag_jsonl(lines(50), Sink(), tagger)  # warm caches before measuring
    tracemalloc.start()
    tag_jsonl(lines(200), Sink(), tagger)  # type: ignore[arg-type]
    small = tracemalloc.get_traced_memory()[1]
    tracemalloc.reset_peak()
    tag_jsonl(lines(1000), Sink(), tagger)  # type: ignore[arg-type]
    large = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert large < small * 2 + 200_000


def test_tag_files_reads_and_writes_paths(tagger: Tagger, tmp_path: Path) -> None:
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text(json.dumps({"id": "p", "title": "Deportation flights resume, DHS says"}) + "\n")
    assert tag_files(str(src), str(dst), tagger) == 1
    assert json.loads(dst.read_text())["relevant"] is True


def test_dash_means_stdin_and_stdout(
    tagger: Tagger, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps({"id": "s", "title": "Hi"}) + "\n"))
    assert tag_files("-", "-", tagger) == 1
    assert json.loads(capsys.readouterr().out)["id"] == "s"
