"""The page metadata the tables store: title, author, site name and date, nothing else.

trafilatura's `extract_metadata` also looks for categories, tags and a licence, which
no table keeps: on the shared corpus those lookups were ~12% of trafilatura's CPU per
page. This is its cascade for the stored fields, step for step (same functions, same
order, so the same values), run once per page even when the text is extracted twice.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lxml.html import HtmlElement


def stored_metadata(
    tree: HtmlElement, url: str, date_params: dict[str, Any], *, search_author: bool = True
) -> dict[str, Any]:
    """title, author, site_name and date (as htmldate's `outputformat`) of a parsed page.

    Call it before the text extraction on the same tree, as trafilatura does: date
    search may tidy the tree, and the text extraction must see the same tree.
    `search_author=False` leaves an author the meta tags do not give as None, for the
    caller to look up with `author_from_markup` once the tree is no longer needed.
    """
    from htmldate import find_date
    from trafilatura.metadata import (
        META_URL,
        Document,
        examine_meta,
        extract_author,
        extract_meta_json,
        extract_sitename,
        extract_title,
        extract_url,
    )

    metadata = examine_meta(tree)
    if metadata.author and " " not in metadata.author:
        metadata.author = None
    with contextlib.suppress(Exception):  # trafilatura guards its JSON-LD parser the same way
        metadata = extract_meta_json(tree, metadata)
    if not metadata.title:
        metadata.title = extract_title(tree)
    if not metadata.author and search_author:
        metadata.author = extract_author(tree)
    if not metadata.url:
        metadata.url = extract_url(tree, url)
    date = find_date(tree, **{**date_params, "url": metadata.url})
    sitename = metadata.sitename or extract_sitename(tree)
    if sitename:
        sitename = sitename.lstrip("@")
        if sitename and "." not in sitename and not sitename[0].isupper():
            sitename = sitename.title()
    elif metadata.url and (match := META_URL.match(metadata.url)):
        sitename = match[1]
    # trafilatura's final trim (length cap, entities, spaces and control characters)
    stored = Document()
    stored.title, stored.author, stored.sitename = metadata.title, metadata.author, sitename
    stored.date = date
    stored.clean_and_trim()
    return {
        "title": stored.title,
        "author": stored.author,
        "site_name": stored.sitename,
        "date": stored.date,
    }


def author_from_markup(tree: HtmlElement) -> str | None:
    """trafilatura's `extract_author` without its copy of the whole tree (~10% of a page's
    extraction CPU): it prunes `tree` itself, so call it when nothing else reads the tree."""
    from trafilatura.metadata import (
        AUTHOR_DISCARD_XPATHS,
        AUTHOR_XPATHS,
        extract_metainfo,
        normalize_authors,
        prune_unwanted_nodes,
    )

    subtree = prune_unwanted_nodes(tree, AUTHOR_DISCARD_XPATHS)
    author = extract_metainfo(subtree, AUTHOR_XPATHS, len_limit=120)
    return normalize_authors(None, author) if author else None
