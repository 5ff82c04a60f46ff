"""CPU per page of each extraction step on the corpus pages, in one process.

    python -m tools.bench.extraction_cpu [--corpus DIR] [--repeat N]

Prints, per page and on average (best of N passes): trafilatura's fast pass, its
fallback pass (readability and jusText compared) on the same parsed tree, the worker's
whole page (`extract_page`: parse, stored metadata, fast pass and the fallback when the
fast text is short, language, fingerprint, gzip) and the naive script's
`trafilatura.extract()`; on how many pages the fallback changes the text; and the
worker page's steps one by one (mean CPU per page, one pass each).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from tools.bench.site_content import corpus_dir


def _cpu_ms(fn: object, *args: object, repeat: int, **kwargs: object) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.process_time()
        result = fn(*args, **kwargs)  # type: ignore[operator]
        best = min(best, time.process_time() - started)
    return 1000 * best, result


def _worker_steps(html: bytes, url: str, max_size: int) -> dict[str, float]:
    """CPU ms of each step `page.extract_page` takes, in its order, for one page."""
    import gzip
    from datetime import UTC, datetime

    from trafilatura.utils import load_html

    from policy_news.extract.metadata import author_from_markup, stored_metadata
    from policy_news.extract.page import (
        _date_params,
        _detect_language,
        _fingerprint,
        _story_sketches,
        _text_only,
    )
    from policy_news.stories.sketches import words_of

    now = datetime.now(UTC)
    marks = [time.process_time()]
    tree = load_html(html, max_size)
    marks.append(time.process_time())
    metadata = stored_metadata(tree, url, _date_params(now), search_author=False)
    marks.append(time.process_time())
    doc = _text_only(tree, url, fast=True)
    marks.append(time.process_time())
    if not metadata["author"]:
        author_from_markup(tree)
    marks.append(time.process_time())
    text = str(getattr(doc, "text", None) or "")
    _detect_language(text, html)
    marks.append(time.process_time())
    gzip.compress(html, 1)
    words = words_of(text)
    _fingerprint(words)
    marks.append(time.process_time())
    _story_sketches(words)
    marks.append(time.process_time())
    steps = (
        "parse",
        "stored metadata",
        "fast pass",
        "author in markup",
        "language",
        "archive and fingerprint",
        "story sketches",
    )
    return {step: 1000 * (b - a) for step, a, b in zip(steps, marks[:-1], marks[1:], strict=True)}


def main(argv: list[str] | None = None) -> int:
    import trafilatura
    from trafilatura.settings import DEFAULT_CONFIG
    from trafilatura.utils import load_html

    from policy_news.extract.page import _text_only, extract_page

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=corpus_dir())
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    pages = sorted((args.corpus / "html").glob("*.html"))
    if not pages:
        raise SystemExit(f"no pages under {args.corpus / 'html'}")
    max_size = DEFAULT_CONFIG.getint("DEFAULT", "MAX_FILE_SIZE")
    totals = dict.fromkeys(("fast", "fallback", "worker", "naive"), 0.0)
    changed = 0
    steps: dict[str, float] = {}
    print(f"{'page':44s} {'fast':>6s} {'fallbk':>6s} {'worker':>6s} {'naive':>6s}  chars")
    for path in pages:
        html = path.read_bytes()
        url = f"https://corpus.example/{path.name}"
        tree = load_html(html, max_size)
        fast_ms, fast = _cpu_ms(_text_only, tree, url, fast=True, repeat=args.repeat)
        slow_ms, slow = _cpu_ms(_text_only, tree, url, fast=False, repeat=args.repeat)
        worker_ms, _ = _cpu_ms(extract_page, html, url, repeat=args.repeat)
        naive_ms, _ = _cpu_ms(trafilatura.extract, html, url=url, repeat=args.repeat)
        fast_text = getattr(fast, "text", None) or ""
        slow_text = getattr(slow, "text", None) or ""
        changed += fast_text != slow_text
        for step, ms in _worker_steps(html, url, max_size).items():
            steps[step] = steps.get(step, 0.0) + ms
        for key, value in zip(totals, (fast_ms, slow_ms, worker_ms, naive_ms), strict=True):
            totals[key] += value
        print(
            f"{path.name[:44]:44s} {fast_ms:6.1f} {slow_ms:6.1f} {worker_ms:6.1f} {naive_ms:6.1f}"
            f"  {len(fast_text)}{'' if fast_text == slow_text else f' -> {len(slow_text)}'}"
        )
    n = len(pages)
    print(
        f"\nmean CPU ms per page over {n} pages (best of {args.repeat}): "
        + ", ".join(f"{k} {v / n:.1f}" for k, v in totals.items())
    )
    print(f"the fallback pass changes the text of {changed} of {n} pages")
    print(
        "worker page by step, mean CPU ms (one pass): "
        + ", ".join(f"{k} {v / n:.1f}" for k, v in steps.items())
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
