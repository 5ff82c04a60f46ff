"""The one exception of the HTTP layer; every module raises it, `client` turns it into a result."""

from __future__ import annotations


class FetchError(Exception):
    """A per-URL failure with its `error_kind`; raised internally, always turned into a result."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
