"""The hostile server every HTTP test module talks to (one per module)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.http.helpers import MAX_BODY
from tests.support.hostile_server import HostileServer


@pytest.fixture(scope="module")
def server() -> Iterator[HostileServer]:
    with HostileServer(huge_bytes=2 * MAX_BODY) as srv:
        yield srv
    assert srv.errors == []  # no route handler blew up
