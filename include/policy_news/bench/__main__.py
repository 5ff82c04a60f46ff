"""`python -m policy_news.bench` (what `make bench` runs); see harness.py."""

from policy_news.bench.harness import main

if __name__ == "__main__":
    raise SystemExit(main())
