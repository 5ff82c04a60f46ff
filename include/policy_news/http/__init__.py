"""The one guarded HTTP client: SSRF guard, bounded bodies, per-host politeness, robots.txt."""
