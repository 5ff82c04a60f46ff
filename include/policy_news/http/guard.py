"""The SSRF guard: every TCP connection resolves, checks and dials the checked address.

It runs inside the connection layer (`GuardedBackend`), so it covers every
redirect hop, retry and robots.txt request. The name is resolved once, here, and
the socket is opened to the checked IP: nothing else resolves the name, so DNS
rebinding between check and connect is impossible.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
import time
from typing import TYPE_CHECKING, Any

import httpcore
import httpx

from policy_news.http.errors import FetchError

if TYPE_CHECKING:
    import ssl
    from collections.abc import Iterable, Sequence


async def resolve_host(host: str, port: int) -> list[str]:
    """All addresses `host` resolves to, in resolver order (tests monkeypatch this)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[str] = []
    for info in infos:
        address = str(info[4][0])
        if address not in addresses:
            addresses.append(address)
    return addresses


class AddressPolicy:
    """Decides whether an IP may be connected to: public only, plus the allowed private nets."""

    def __init__(self, allowed_nets: Iterable[str]) -> None:
        self.allowed = [ipaddress.ip_network(net.strip(), strict=False) for net in allowed_nets]

    def problem(self, address: str) -> str | None:
        """Why `address` is refused (e.g. 'a private address'), or None if it is fine."""
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        # ::ffff:10.0.0.1 is 10.0.0.1 on the wire; judge the IPv4 address.
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if any(ip in net for net in self.allowed):
            return None
        for attribute, label in (
            # Most specific first: 169.254.0.0/16 is also is_private, say "link-local".
            ("is_loopback", "a loopback address"),
            ("is_link_local", "a link-local address"),
            ("is_unspecified", "an unspecified address"),
            ("is_multicast", "a multicast address"),
            ("is_reserved", "a reserved address"),
            ("is_private", "a private address"),
        ):
            if getattr(ip, attribute):
                return label
        if not ip.is_global:  # e.g. 100.64.0.0/10 carrier-grade NAT
            return "a non-public address"
        return None

    def check(self, host: str, addresses: Sequence[str]) -> None:
        """Raise FetchError('ssrf') if ANY address is refused: one bad answer poisons the name."""
        if not addresses:
            raise FetchError("dns", f"{host} resolved to no address")
        for address in addresses:
            problem = self.problem(address)
            if problem is None:
                continue
            subject = address if address == host else f"{host} resolves to {address}, which"
            raise FetchError(
                "ssrf",
                f"refused: {subject} is {problem} (not in POLICY_NEWS_ALLOWED_PRIVATE_NETS)",
            )


def _ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore network backend that resolves, checks and then dials the checked IP.

    httpcore hands us the URL's hostname; we resolve it ourselves, refuse if any
    answer is not allowed, and pass the *IP* to the real backend. TLS still
    uses the hostname for SNI and certificate checks (httpcore passes it to
    start_tls separately), and the Host header is untouched. Because this is
    the only place a name is resolved, a second, rebinding DNS answer is never
    consulted, and pooled connections stay pinned to the address checked when
    they were opened.
    """

    def __init__(self, policy: AddressPolicy) -> None:
        self.policy = policy
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        started = time.monotonic()
        if _ip_literal(host):
            addresses = [host]
        else:
            try:
                addresses = await asyncio.wait_for(resolve_host(host, port), timeout)
            except TimeoutError:
                raise FetchError("timeout", f"DNS lookup for {host} timed out") from None
            except (socket.gaierror, UnicodeError) as exc:
                raise FetchError("dns", f"cannot resolve {host}: {exc}") from None
        self.policy.check(host, addresses)
        last_exc: Exception | None = None
        for address in addresses:
            remaining = (
                None if timeout is None else max(0.01, timeout - (time.monotonic() - started))
            )
            try:
                return await self.inner.connect_tcp(
                    address, port, remaining, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_exc = exc
        assert last_exc is not None
        raise last_exc

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise FetchError("ssrf", "refused: unix sockets are never fetched")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


@functools.cache
def _default_tls_context() -> ssl.SSLContext:
    # Loading the CA bundle costs ~20 ms of CPU; one context serves every client.
    return httpx.create_ssl_context(trust_env=False)


def tls_context() -> ssl.SSLContext:
    """Certificate-verifying TLS context (certifi CAs); tests monkeypatch it to trust theirs."""
    return _default_tls_context()


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with its connection pool rebuilt on `GuardedBackend`.

    httpx 0.28 has no public hook for the network backend, so we replace the
    pool it built (`_pool`, which its `handle_async_request` uses). The pinning
    test in tests/http/test_guard.py fails if a future httpx stops honouring this.
    """

    def __init__(self, policy: AddressPolicy, max_connections: int) -> None:
        context = tls_context()
        super().__init__(verify=context, trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=context,
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=5.0,
            network_backend=GuardedBackend(policy),
        )
