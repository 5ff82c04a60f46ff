"""A fact while it is being found: where it is, before it gets its sentence."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

FIELDS = ("title", "summary", "text")


@dataclass
class Found:
    kind: str
    value: str
    normalized: str
    field: int  # index into FIELDS
    start: int
    end: int
    rule_id: str
    # `dataclasses.field` spelled out: the `field` attribute above shadows the bare name.
    attrs: dict[str, Any] = dataclasses.field(default_factory=dict)
