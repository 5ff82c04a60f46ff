"""Extraction quality and cost per trafilatura setting, on the corpus pages with reference text.

Score: bag-of-words token F1 of the extracted text against the reference article body
(lower-cased `\\w+` tokens), as in the article-extraction benchmarks the references
come from. A faster setting is acceptable only if this score does not drop.
"""

from __future__ import annotations

import json
import math
import re
import statistics
import time
from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

_TOKEN = re.compile(r"\w+")

# newspaper4k reference files are named after the test, not the page.
_NEWSPAPER_PAGES = {
    "article_with_br": "newspaper4k__article_with_br.html",
    "cnn_article": "newspaper4k__cnn_article.html",
    "fox13now_001": "newspaper4k__fox13now_001.html",
    "pewresearch.org1": "newspaper4k__pewresearch_mexico_obama_executive_action.html",
    "time_001": "newspaper4k__time_001.html",
}


def _html_text(markup: str) -> str:
    import lxml.html

    return str(lxml.html.fromstring(markup).text_content())


def ground_truth(corpus: Path) -> list[tuple[Path, str]]:
    """(page, reference text) pairs. goose3's reference is a one-sentence prefix: left out."""
    html_dir, truth = corpus / "html", corpus / "html" / "ground_truth"
    pairs: list[tuple[Path, str]] = []
    if not truth.is_dir():
        return pairs
    subset = truth / "scrapinghub_ground_truth_subset.json"
    if subset.is_file():
        for entry in json.loads(subset.read_text(encoding="utf-8")).values():
            page = corpus / entry["local_html"]
            if page.is_file() and entry.get("articleBody"):
                pairs.append((page, entry["articleBody"]))
    for ref in sorted(truth.glob("fundus__*.json")):
        data = json.loads(ref.read_text(encoding="utf-8"))
        body = next(iter(data.values()))["body"]
        parts = list(body.get("summary") or [])
        for section in body.get("sections") or []:
            parts += list(section.get("headline") or []) + list(section.get("paragraphs") or [])
        pages = sorted(html_dir.glob(ref.stem + "_*.html"))
        if pages and parts:
            pairs.append((pages[0], "\n".join(parts)))
    for ref in sorted(truth.glob("newspaper4k__*.txt")):
        page = html_dir / _NEWSPAPER_PAGES.get(ref.stem.split("__", 1)[1], "")
        if page.is_file():
            pairs.append((page, ref.read_text(encoding="utf-8")))
    for ref in sorted(truth.glob("readability__*__expected.html")):
        page = html_dir / ref.name.replace("__expected.html", "__source.html")
        if page.is_file():
            pairs.append((page, _html_text(ref.read_text(encoding="utf-8"))))
    return pairs


def token_f1(extracted: str, reference: str) -> tuple[float, float, float]:
    """(precision, recall, F1) of the bag of tokens."""
    got = Counter(_TOKEN.findall(extracted.lower()))
    want = Counter(_TOKEN.findall(reference.lower()))
    if not got or not want:
        return 0.0, 0.0, 0.0
    common = sum((got & want).values())
    precision, recall = common / sum(got.values()), common / sum(want.values())
    f1 = 2 * precision * recall / (precision + recall) if common else 0.0
    return precision, recall, f1


def _bare(**options: Any) -> Callable[[bytes, str], str | None]:
    from policy_news.extract.page import bare_extraction as _bare_extraction

    def run(html: bytes, url: str) -> str | None:
        import trafilatura

        if options:
            now = datetime.now(UTC)
            doc = trafilatura.bare_extraction(
                html,
                url=url,
                with_metadata=True,
                include_comments=False,
                date_extraction_params={
                    "extensive_search": False,
                    "original_date": True,
                    "outputformat": "%Y-%m-%dT%H:%M:%S",
                    "max_date": now.strftime("%Y-%m-%d"),
                },
                **options,
            )
        else:
            doc = _bare_extraction(html, url, datetime.now(UTC), fast=False)
        return None if doc is None else getattr(doc, "text", None)

    return run


def _chosen(html: bytes, url: str) -> str | None:
    from policy_news.extract.page import extract_document as _extract_doc

    doc = _extract_doc(html, url, datetime.now(UTC))
    return None if doc is None else doc.text


def _plain_default(html: bytes, url: str) -> str | None:
    import trafilatura

    return trafilatura.extract(html, url=url)


FULL = "trafilatura with fallbacks (previous setting)"
CHOSEN = "fast, redo with fallbacks if short (chosen)"


def variants() -> dict[str, Callable[[bytes, str], str | None]]:
    """Name -> page-to-text function (trafilatura only: no gzip, no language id)."""
    return {
        "trafilatura.extract() defaults (naive)": _plain_default,
        FULL: _bare(),
        "fast=True": _bare(fast=True),
        "favor_precision=True": _bare(favor_precision=True),
        "fast + favor_precision": _bare(fast=True, favor_precision=True),
        CHOSEN: _chosen,
    }


def evaluate(corpus: Path, names: list[str] | None = None, rounds: int = 2) -> dict[str, Any]:
    """Token F1 on the pages with references; CPU ms per page and changed pages on all pages."""
    references = dict(ground_truth(corpus))
    pages = sorted((corpus / "html").glob("*.html"))
    blobs = {p: p.read_bytes() for p in pages}
    chosen = {k: v for k, v in variants().items() if names is None or k in names}
    out: dict[str, Any] = {
        "pages_with_reference": len(references),
        "pages_timed": len(pages),
        "variants": {},
    }
    if not pages:
        return out
    for fn in chosen.values():  # imports and lazily built tables
        fn(blobs[pages[0]], "https://corpus.example/warm")
    texts: dict[str, dict[Path, str]] = {}
    cpu_s: dict[str, float] = {}
    for _ in range(rounds):  # rounds interleave the settings; the fastest round counts
        for name, fn in chosen.items():
            started = time.process_time()
            texts[name] = {p: fn(blobs[p], f"https://corpus.example/{p.name}") or "" for p in pages}
            cpu_s[name] = min(cpu_s.get(name, math.inf), time.process_time() - started)
    for name in chosen:
        cpu = cpu_s[name]
        scores = [token_f1(texts[name][p], ref) for p, ref in references.items()]
        out["variants"][name] = {
            "f1": round(statistics.fmean(s[2] for s in scores), 4) if scores else None,
            "precision": round(statistics.fmean(s[0] for s in scores), 4) if scores else None,
            "recall": round(statistics.fmean(s[1] for s in scores), 4) if scores else None,
            "cpu_ms_per_page": round(1000 * cpu / len(pages), 1),
            "pages_with_text": sum(1 for t in texts[name].values() if t),
        }
    if FULL in texts:
        for name in texts:
            out["variants"][name]["pages_differing_from_full"] = sum(
                1 for p in pages if texts[name][p] != texts[FULL][p]
            )
    return out


if __name__ == "__main__":
    from tools.bench.site_content import corpus_dir

    print(json.dumps(evaluate(corpus_dir()), indent=1))
