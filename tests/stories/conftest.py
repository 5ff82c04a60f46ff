from __future__ import annotations

import json
from pathlib import Path

import pytest

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "stories" / "articles.jsonl"


@pytest.fixture(scope="session")
def fixture_articles() -> dict[str, dict]:
    rows = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines() if line]
    return {row["article_id"]: row for row in rows}
