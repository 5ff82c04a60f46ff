"""Stable article identity from URLs.

The same story arrives as `...?utm_source=rss#comments`, `HTTP://Example.com/a` and
`https://example.com/a`; all must map to one `article_id` or runs stop being
incremental and analysts count duplicates.
"""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from courlan import normalize_url

# courlan strips the common trackers; these are the ones it keeps that feeds add.
_EXTRA_TRACKING = {
    "ns_mchannel",
    "ns_campaign",
    "ns_source",
    "ns_linkname",
    "cmpid",
    "ocid",
    "taid",
    "smid",
    "partner",
    "rss",
    "feedtype",
    "mbid",
    "cid",
    "ito",
    "dicbo",
    "guce_referrer",
    "guce_referrer_sig",
}


def normalise_url(url: str) -> str:
    """Canonical form: lower-case scheme and host, no fragment, no tracking parameters."""
    url = url.strip()
    try:
        cleaned = normalize_url(url, strict=True, trailing_slash=True)
    except (ValueError, AttributeError):
        cleaned = url
    parts = urlsplit(cleaned)
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in _EXTRA_TRACKING and not k.lower().startswith("utm_")
    ]
    netloc = parts.netloc.lower()
    for default_port in (":80", ":443"):
        if (
            netloc.endswith(default_port)
            and parts.scheme.lower()
            == {
                ":80": "http",
                ":443": "https",
            }[default_port]
        ):
            netloc = netloc[: -len(default_port)]
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", urlencode(query), ""))


def article_id_for(url: str) -> str:
    """A short stable key; http and https of the same page are one article."""
    canonical = normalise_url(url)
    _, _, rest = canonical.partition("://")
    return hashlib.sha256(rest.encode("utf-8")).hexdigest()[:20]
