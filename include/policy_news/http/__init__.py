"""The one guarded HTTP client: SSRF guard, bounded bodies, per-host politeness, robots.txt.

`client` is the surface (`fetch_all`, `FetchRequest`, `FetchResult`); `guard`,
`bodies`, `politeness` and `robots` are the concerns it composes.
"""

from __future__ import annotations


def reset_state() -> None:
    """Forget per-host spacing and cached robots.txt, which live for the process."""
    from policy_news.http.politeness import reset_spacing
    from policy_news.http.robots import reset_robots_cache

    reset_spacing()
    reset_robots_cache()
