"""Send a message through Airflow's SMTP notifier and the Connection that configures it.

The Connection (host, port, login, TLS, from_email) comes from Airflow: a secrets
backend or an `AIRFLOW_CONN_<ID>` env var, so no mail secret lives in this project.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from policy_news.alerts.messages import Message

DEFAULT_SMTP_CONN_ID = "policy_news_smtp"


def as_html(body: str) -> str:
    # Preformatted text keeps the alignment of SQL and lists in every mail client.
    return f"<html><body><pre>{html.escape(body)}</pre></body></html>"


def send_message(
    message: Message,
    *,
    recipients: Sequence[str],
    smtp_conn_id: str = DEFAULT_SMTP_CONN_ID,
    from_email: str | None = None,
) -> None:
    """Send one message; raises when the server refuses it or cannot be reached."""
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    notifier = SmtpNotifier(
        to=list(recipients),
        from_email=from_email,
        subject=message.subject,
        html_content=as_html(message.body),
        smtp_conn_id=smtp_conn_id,
    )
    # notify(), not __call__: calling would render the texts as Jinja templates, and an
    # article title or error message containing "{{" must arrive as written.
    notifier.notify({})
