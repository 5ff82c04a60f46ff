"""A real SMTP server on loopback and a DuckDB built from the real migrations."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import duckdb
import pytest
from aiosmtpd.controller import Controller

from policy_news.store import schema

MIGRATIONS_DIR = Path(schema.__file__).resolve().parent / "migrations"


@dataclass
class Received:
    subject: str
    sender: str
    recipients: list[str]
    body: str


@dataclass
class Inbox:
    port: int = 0
    messages: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd handler hook
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        part = parsed.get_body(preferencelist=("html", "plain"))
        self.messages.append(
            Received(
                subject=str(parsed["Subject"]),
                sender=envelope.mail_from,
                recipients=list(envelope.rcpt_tos),
                body=part.get_content() if part else "",
            )
        )
        return "250 OK"

    def take(self) -> list[Received]:
        taken, self.messages = self.messages, []
        return taken


class _EphemeralController(Controller):
    """Controller on port 0: learn the port the OS picked before the readiness probe."""

    def _trigger_server(self) -> None:
        server = cast("asyncio.Server", self.server)
        self.port = server.sockets[0].getsockname()[1]
        super()._trigger_server()


def smtp_conn_json(port: int) -> str:
    return json.dumps(
        {
            "conn_type": "smtp",
            "host": "127.0.0.1",
            "port": port,
            "extra": {
                "disable_tls": True,
                "disable_ssl": True,
                "from_email": "policy-news@example.org",
                "retry_limit": 0,
                "timeout": 5,
            },
        }
    )


@pytest.fixture
def smtp_inbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    """An SMTP server on 127.0.0.1 that the `policy_news_smtp` connection points at."""
    inbox = Inbox()
    controller = _EphemeralController(inbox, hostname="127.0.0.1", port=0)
    controller.start()
    inbox.port = controller.port
    monkeypatch.setenv("AIRFLOW_CONN_POLICY_NEWS_SMTP", smtp_conn_json(controller.port))
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def alerts_db(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB file with every migration applied in order, as deployments have it."""
    conn = duckdb.connect(str(tmp_path / "policy_news.duckdb"))
    conn.execute("SET TimeZone = 'UTC'")
    for path in sorted(MIGRATIONS_DIR.glob("[0-9][0-9][0-9]_*.sql")):
        conn.execute(path.read_text(encoding="utf-8"))
    try:
        yield conn
    finally:
        conn.close()
