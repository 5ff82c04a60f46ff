"""One page to fields: text, metadata, language, date, fingerprint (no network)."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import pytest

from policy_news.extract.page import content_fingerprint, extract_page
from tests.conftest import CORPUS_DIR

PAGE = """<!doctype html><html lang="en"><head><title>Sheriff joins 287(g) | Ledger</title>
<meta property="og:site_name" content="The Ledger">
<meta name="author" content="Dana Ruiz">
<meta property="article:published_time" content="2026-11-20T09:15:00Z">
</head><body><nav><a href="/">Home</a> <a href="/news">News</a></nav>
<article><h1>Sheriff joins 287(g)</h1>
<p>The county sheriff's office signed an agreement with U.S. Immigration and Customs
Enforcement on Monday, joining the 287(g) task force model that lets deputies question
people about their immigration status during routine patrols.</p>
<p>County commissioners approved the agreement by a 3-2 vote after a long public hearing
in which dozens of residents spoke against it and several spoke in favour of it.</p>
<p>The sheriff said the deputies would complete four weeks of federal training before
any enforcement activity begins, and that the office would publish monthly figures.</p>
</article><footer>Copyright 2026 The Ledger</footer></body></html>"""


def test_extract_page_reads_text_and_metadata() -> None:
    fields = extract_page(PAGE.encode(), "https://ledger.example/sheriff-287g")
    assert "287(g) task force model" in fields["text"]
    assert "Copyright" not in fields["text"] and "Home" not in fields["text"]
    assert fields["author"] == "Dana Ruiz"
    assert fields["site_name"] == "The Ledger"
    assert fields["language"] == "en"
    assert fields["html_date"] == datetime(2026, 11, 20, 9, 15, tzinfo=UTC)
    assert gzip.decompress(fields["raw_html_gz"]) == PAGE.encode()


@pytest.mark.parametrize("page", ["article", "shell"])
def test_the_worker_stages_the_sketches_of_the_text_it_extracted(page: str) -> None:
    """The loader compares these instead of hashing the text again: they must be its."""
    from policy_news.stories.sketches import sketch_text, values_from_bytes

    html = PAGE.encode() if page == "article" else SHELL
    fields = extract_page(html, "https://ledger.example/sheriff-287g")
    expected = sketch_text(fields["text"])
    assert fields["shingle_count"] == expected.shingle_count > 0
    assert (values_from_bytes(fields["shingle_sketch"]) == expected.shingles).all()
    assert (values_from_bytes(fields["word_sketch"]) == expected.words).all()


def test_page_without_text_is_a_recorded_failure() -> None:
    fields = extract_page(b"<html><body></body></html>", "https://x.example/")
    assert fields["error_kind"] == "no_text"


def test_fingerprint_ignores_markup_and_case() -> None:
    assert content_fingerprint("ICE arrests, 12 people.") == content_fingerprint(
        "ice ARRESTS 12 people"
    )


def _corpus_pages() -> list[Path]:
    folder = CORPUS_DIR / "html"
    return sorted(folder.glob("*.html")) if folder.is_dir() else []


@pytest.mark.skipif(not _corpus_pages(), reason="shared corpus not present")
@pytest.mark.parametrize("path", _corpus_pages(), ids=lambda p: p.name)
def test_every_corpus_page_extracts_or_records_why(path: Path) -> None:
    fields = extract_page(path.read_bytes(), f"https://corpus.example/{path.name}")
    if "error_kind" in fields:
        assert fields["error_kind"] in ("no_text", "extract") and fields["error"]
    else:
        assert len(fields["text"]) > 100
        assert fields["language"] is None or len(fields["language"]) == 2


SHELL = b"""<html lang="en"><head><title>ICE raid in Houston - Video</title>
<meta property="og:description" content="Federal agents arrested 40 people at a Houston worksite.">
<meta name="description" content="Site-wide description"></head>
<body><div id="root"></div><script>render()</script></body></html>"""


def test_page_without_body_keeps_title_and_meta_description() -> None:
    fields = extract_page(SHELL, "https://video.example/raid")
    assert "error_kind" not in fields
    assert fields["extraction_status"] == "metadata_only"
    assert fields["text"] == "Federal agents arrested 40 people at a Houston worksite."
    assert fields["title"].startswith("ICE raid in Houston")
    assert fields["content_hash"] is None  # a boilerplate description is no fingerprint


def test_full_page_is_ok_and_a_short_body_is_too_short() -> None:
    assert extract_page(PAGE.encode(), "https://ledger.example/a")["extraction_status"] == "ok"
    short = PAGE.split("<p>")[0] + "<p>ICE arrested two men on Monday.</p></article></body></html>"
    fields = extract_page(short.encode(), "https://ledger.example/b")
    assert fields["extraction_status"] in ("too_short", "metadata_only")
    assert "error_kind" not in fields


def test_fallback_extractors_run_only_on_a_short_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """A short fast-pass text is redone with the fallbacks; an empty one is not (a shell
    page has nothing for them either, at ~50x the CPU); a long one needs none."""
    from policy_news.extract import page

    passes: list[bool] = []
    real = page._text_only

    def counted(tree: object, url: str, *, fast: bool) -> object:
        passes.append(fast)
        return real(tree, url, fast=fast)

    monkeypatch.setattr(page, "_text_only", counted)
    now = datetime.now(UTC)
    head = PAGE.split("<p>")[0]
    short = head + "<p>" + "ICE arrested two men on Monday. " * 8 + "</p></body></html>"
    long = head + "<p>ICE arrested two men on Monday, the sheriff said.</p>" * 40 + "</body></html>"
    cases = ((SHELL, [True]), (long.encode(), [True]), (short.encode(), [True, False]))
    for html, expected in cases:
        passes.clear()
        page.extract_document(html, "https://ledger.example/a", now)
        assert passes == expected
