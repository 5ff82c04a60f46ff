"""What the load stage hands the store."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from policy_news.pipeline.load import load_input

if TYPE_CHECKING:
    from policy_news.settings import Settings


def test_the_taxonomy_definition_is_stored_with_its_version(settings: Settings) -> None:
    manifest = {"run_id": "r1", "started_at": datetime.now(UTC).isoformat(), "feeds": []}
    load = load_input(manifest, {}, {}, settings)
    assert load.taxonomy_definition is not None
    assert load.taxonomy_definition["version"] == load.taxonomy_version
