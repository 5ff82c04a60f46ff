"""The SSRF guard: schemes, private addresses, redirects into them, DNS pinning, TLS names.

Uses 127.0.0.2 where the OS allows it as the "other" private host.
"""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest

from policy_news.http import guard
from policy_news.http.client import FetchRequest, fetch_all
from policy_news.http.guard import AddressPolicy
from tests.http.helpers import cfg, fetch_one
from tests.support.hostile_server import (
    HostileServer,
    self_signed_tls,
)

pytestmark = pytest.mark.timeout(30)


def test_redirect_to_private_address_is_refused(server: HostileServer) -> None:
    before = len([h for h in server.log if h.bound_host == "127.0.0.2"])
    result = fetch_one(server.url("/redirect-private"))  # -> http://127.0.0.2:PORT/...
    assert result.error_kind == "ssrf"
    assert "127.0.0.2" in (result.error or "") and "POLICY_NEWS_ALLOWED_PRIVATE_NETS" in (
        result.error or ""
    )
    assert result.final_url.startswith("http://127.0.0.2:")
    assert len([h for h in server.log if h.bound_host == "127.0.0.2"]) == before


def test_redirect_into_an_allowed_private_net_is_followed(server: HostileServer) -> None:
    if server.second_host is None:
        pytest.skip("cannot bind 127.0.0.2 on this OS")
    result = fetch_one(server.url("/redirect-private"), cfg(allowed_private_nets=("127.0.0.0/8",)))
    assert result.ok and result.final_url.startswith("http://127.0.0.2:")


def test_redirect_to_cloud_metadata_is_refused(server: HostileServer) -> None:
    result = fetch_one(server.url("/redirect-metadata"))
    assert result.error_kind == "ssrf" and "link-local" in (result.error or "")


def test_redirect_to_file_scheme_is_refused(server: HostileServer) -> None:
    result = fetch_one(server.url("/redirect-file"))
    assert result.error_kind == "scheme" and result.final_url.startswith("file:")


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.com/x", "gopher://example.com/", "mailto:a@b.c"]
)
def test_non_http_scheme_refused(url: str) -> None:
    result = fetch_one(url)
    assert result.error_kind == "scheme" and not result.ok and result.status is None


def test_private_addresses_are_refused_without_allowed_nets(server: HostileServer) -> None:
    port = server.port
    urls = [
        f"http://127.0.0.1:{port}/article/1.html",
        f"http://127.1:{port}/article/1.html",  # short form
        f"http://2130706433:{port}/article/1.html",  # 127.0.0.1 as an integer
        f"http://[::ffff:127.0.0.1]:{port}/article/1.html",
        "http://[::1]/",
        "http://10.0.0.5/",
        "http://0.0.0.0/",
        "http://169.254.169.254/latest/meta-data/",
    ]
    before = len(server.log)
    results = fetch_all([FetchRequest(u) for u in urls], cfg(allowed_private_nets=()))
    for result in results:
        assert result.error_kind == "ssrf", (result.request.url, result.error)
        assert result.error and result.error.startswith("refused:")
    assert len(server.log) == before  # nothing reached the server


def test_public_dns_name_resolving_private_is_refused(
    server: HostileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def fake_resolve(host: str, port: int) -> list[str]:
        return ["93.184.215.14", "10.0.0.5"]  # one bad answer is enough

    monkeypatch.setattr(guard, "resolve_host", fake_resolve)
    result = fetch_one("http://news.example.com/story.html")
    assert result.error_kind == "ssrf"
    assert "news.example.com resolves to 10.0.0.5" in (result.error or "")


def test_connection_goes_to_the_checked_address(
    server: HostileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS-rebinding guard: the name is resolved once, by us, and that IP is dialled."""
    calls: list[str] = []

    async def fake_resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        return ["127.0.0.1"]

    real_getaddrinfo = socket.getaddrinfo

    def no_second_lookup(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "pinned.test":
            raise AssertionError("something resolved the name a second time")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(guard, "resolve_host", fake_resolve)
    monkeypatch.setattr(socket, "getaddrinfo", no_second_lookup)
    result = fetch_one(f"http://pinned.test:{server.port}/headers", kind="feed")
    assert result.ok, result.error
    assert result.body is not None
    assert json.loads(result.body)["host"] == f"pinned.test:{server.port}"
    assert calls == ["pinned.test"]


def test_dns_failure_is_a_dns_error_and_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    async def nxdomain(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(guard, "resolve_host", nxdomain)
    result = fetch_one("http://gone.example.com/feed.xml", kind="feed")
    assert result.error_kind == "dns" and result.attempts == 1


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("10.1.2.3", True),
        ("172.16.0.1", True),
        ("192.168.1.1", True),
        ("127.0.0.1", False),  # allowed net below
        ("127.0.0.2", True),
        ("169.254.169.254", True),
        ("100.64.0.1", True),  # carrier-grade NAT: not private, not global
        ("224.0.0.1", True),
        ("240.0.0.1", True),
        ("0.0.0.0", True),
        ("::1", True),
        ("fe80::1", True),
        ("fc00::1", True),
        ("::ffff:10.0.0.1", True),
        ("93.184.215.14", False),
        ("2606:4700:4700::1111", False),
        ("::ffff:8.8.8.8", False),
    ],
)
def test_address_policy(address: str, refused: bool) -> None:
    policy = AddressPolicy(["127.0.0.1/32"])
    assert (policy.problem(address) is not None) is refused


def test_https_verifies_the_hostname_while_dialling_the_checked_ip(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SNI and certificate checks use the URL's name even though we connect to the IP."""
    pytest.importorskip("cryptography")
    server_tls, client_tls = self_signed_tls("secure.test")

    async def fake_resolve(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    monkeypatch.setattr(guard, "resolve_host", fake_resolve)
    monkeypatch.setattr(guard, "tls_context", lambda: client_tls)
    with HostileServer(tls=server_tls, second_host=None) as tls_server:
        good, wrong_name = fetch_all(
            [
                FetchRequest(f"https://secure.test:{tls_server.port}/article/1.html"),
                FetchRequest(f"https://other.test:{tls_server.port}/article/1.html"),
            ],
            cfg(max_retries=0),
        )
    assert good.ok, good.error
    assert wrong_name.error_kind == "connect"
    assert "certificate" in (wrong_name.error or "").lower()
