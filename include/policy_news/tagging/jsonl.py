"""Tag JSON Lines: the engine behind `policy-news tag --input IN.jsonl --output OUT.jsonl`.

Reads and writes one line at a time so a 100,000-line file runs in constant
memory, and a bad line becomes an output line with an "error" instead of
stopping the run: analysts feed this exported or hand-made data.
"""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, cast

if TYPE_CHECKING:
    from collections.abc import Iterator

    from policy_news.models import Evidence, TagResult
    from policy_news.tagging.tagger import Tagger


def _evidence(ev: Evidence) -> dict[str, Any]:
    return {
        "sentence": ev.sentence,
        "start": ev.start,
        "end": ev.end,
        "rule_id": ev.rule_id,
        "field": ev.field,
    }


def result_record(item_id: Any, result: TagResult) -> dict[str, Any]:
    """The output line for one tagged item."""
    return {
        "id": item_id,
        "relevant": result.relevant,
        "score": result.score,
        "subtopics": [
            {"id": t.id, "score": t.score, "evidence": _evidence(t.evidence)}
            for t in result.subtopics
        ],
        "facts": [
            {
                "kind": f.kind,
                "value": f.value,
                "normalized": f.normalized,
                "evidence": _evidence(f.evidence),
                "attrs": f.attrs,
            }
            for f in result.facts
        ],
        "taxonomy_version": result.taxonomy_version,
    }


def _optional_text(row: dict[str, Any], key: str) -> str | None:
    value = row.get(key)
    if value is None or isinstance(value, str):
        return value
    raise ValueError(f"'{key}' must be a string or null, not {type(value).__name__}")


def tag_line(line: str, tagger: Tagger) -> dict[str, Any]:
    """Tag one JSON line; problems are reported in the record, never raised."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        return {"id": None, "error": f"invalid JSON: {exc.msg} at column {exc.colno}"}
    if not isinstance(row, dict):
        return {"id": None, "error": f"expected a JSON object, got {type(row).__name__}"}
    item_id = row.get("id")
    try:
        title = row.get("title")
        if not isinstance(title, str):
            raise ValueError("'title' is required and must be a string")
        summary = _optional_text(row, "summary")
        text = _optional_text(row, "text")
        return result_record(item_id, tagger.tag(title, summary, text))
    except Exception as exc:  # one bad record must not stop a 100,000-line run
        return {"id": item_id, "error": str(exc) or type(exc).__name__}


def tag_jsonl(inp: TextIO, out: TextIO, tagger: Tagger) -> int:
    """Tag every non-blank line of `inp` into `out`; returns the number of lines written."""
    written = 0
    for line in inp:
        if not line.strip():
            continue
        out.write(json.dumps(tag_line(line, tagger), ensure_ascii=False) + "\n")
        written += 1
    out.flush()
    return written


@contextmanager
def _open(path: str, mode: str) -> Iterator[TextIO]:
    if path == "-":
        yield sys.stdin if "r" in mode else sys.stdout
        return
    with Path(path).open(mode, encoding="utf-8", newline="\n" if "w" in mode else None) as fh:
        yield cast(TextIO, fh)


def tag_files(input_path: str, output_path: str, tagger: Tagger) -> int:
    """File-level entry for the CLI: '-' means stdin / stdout."""
    with _open(input_path, "r") as inp, _open(output_path, "w") as out:
        return tag_jsonl(inp, out, tagger)
