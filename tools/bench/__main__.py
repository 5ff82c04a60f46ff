"""`python -m tools.bench` (what `make bench` runs); see harness.py."""

from tools.bench.harness import main

if __name__ == "__main__":
    raise SystemExit(main())
