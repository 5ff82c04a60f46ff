"""Data Docs pages that work offline: pinned local copies of the assets GX links.

GX's pages load Bootstrap, jQuery, bootstrap-table, Font Awesome and friends from
CDNs, so without internet (an air-gapped Airflow, a browser offline) they render as
unstyled text and the index table stays empty. `data_docs_assets/` holds unmodified
copies of those files from the npm registry at the versions GX links (its
`manifest.json` maps each CDN URL to them, its README says why each file is there);
`make_offline` copies them to ``static/vendor/`` in the docs folder and rewrites every
page to link them by relative path. Nothing is fetched from the network.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

ASSETS_DIR = Path(__file__).with_name("data_docs_assets")
VENDOR_DIR = "static/vendor"
#: Written into each rewritten page; a page without it predates these assets.
MARKER = "<!-- policy-news: CDN assets replaced by static/vendor (see its README.md) -->"

_CDN_TAG_RE = re.compile(
    r"<link\b[^>]*\bhref=\"(https?://[^\"]*)\"[^>]*>\s*"
    r"|<script\b[^>]*\bsrc=\"(https?://[^\"]*)\"[^>]*>\s*</script>\s*",
    re.IGNORECASE,
)
_S3_ASSET_RE = re.compile(
    r"https://great-expectations-web-assets\.s3[^\"']*?/([A-Za-z0-9_.-]+\.(?:png|svg|ico|gif))"
    r"(?:\?[^\"']*)?"
)
# GX's own static files, linked by relative path; on validation pages GX gets the depth
# wrong by one level (the favicon 404s), so the prefix is recomputed for every page.
_GX_STATIC_RE = re.compile(r"\b(href|src)=\"(?:\./|(?:\.\./)*)static/(images|styles|fonts)/")
# GX ships its light logo in static/images but not the dark-mode one it links from S3;
# the light logo in dark mode beats an empty navbar.
_FALLBACK_IMAGE = "logo-long.png"
# Written by the hand-made stand-ins these copies replace; removed on the next build.
_OBSOLETE_DIR = "static/offline"


@dataclass(frozen=True)
class AssetManifest:
    """CDN URL -> local files (relative to the assets folder), and URLs left out."""

    replaces: dict[str, tuple[str, ...]]
    dropped: frozenset[str]

    @property
    def files(self) -> frozenset[str]:
        return frozenset(path for paths in self.replaces.values() for path in paths)


@functools.cache
def load_manifest() -> AssetManifest:
    raw = json.loads((ASSETS_DIR / "manifest.json").read_text(encoding="utf-8"))
    replaces: dict[str, tuple[str, ...]] = {}
    for package in raw["packages"]:
        for url, paths in package["replaces"].items():
            replaces[url] = tuple(paths)
    return AssetManifest(replaces=replaces, dropped=frozenset(raw.get("dropped", {})))


def install_assets(docs_dir: Path) -> Path:
    """Copy the pinned assets (with licences) into ``docs_dir/static/vendor``."""
    target = docs_dir / VENDOR_DIR
    shutil.copytree(ASSETS_DIR, target, dirs_exist_ok=True)
    shutil.rmtree(docs_dir / _OBSOLETE_DIR, ignore_errors=True)
    return target


def _local_tag(path: str, prefix: str) -> str:
    href = f"{prefix}{VENDOR_DIR}/{path}"
    if path.endswith(".css"):
        return f'<link rel="stylesheet" href="{href}">\n'
    return f'<script src="{href}"></script>\n'


def localize(text: str, prefix: str, images: Path, unknown: set[str]) -> str:
    """`text` (a page or stylesheet) linking local files only.

    CDN tags, S3 images and GX's static links become paths from the file, which
    `prefix` leads from to the docs root; `images` is the docs' image folder. CDN URLs
    the manifest does not know are removed (rather than fetched) and added to `unknown`.
    """
    manifest = load_manifest()

    def swap_tag(match: re.Match[str]) -> str:
        url = match.group(1) or match.group(2)
        if url in manifest.replaces:
            return "".join(_local_tag(path, prefix) for path in manifest.replaces[url])
        if url not in manifest.dropped:
            unknown.add(url)
        return ""

    def swap_image(match: re.Match[str]) -> str:
        name = match.group(1) if (images / match.group(1)).is_file() else _FALLBACK_IMAGE
        return f"{prefix}static/images/{name}"

    text = _CDN_TAG_RE.sub(swap_tag, text)
    text = _GX_STATIC_RE.sub(lambda m: f'{m[1]}="{prefix}static/{m[2]}/', text)
    return _S3_ASSET_RE.sub(swap_image, text)


def _relative_prefix(page: Path, docs_dir: Path) -> str:
    depth = len(page.relative_to(docs_dir).parts) - 1
    return "../" * depth


def make_offline(docs_dir: Path) -> int:
    """Install the assets and rewrite every page under `docs_dir` to them; return pages changed."""
    install_assets(docs_dir)
    images = docs_dir / "static" / "images"
    unknown: set[str] = set()
    charts: list[str] = []
    for stylesheet in (docs_dir / "static" / "styles").glob("*.css"):
        text = stylesheet.read_text(encoding="utf-8")
        new = localize(text, "../../", images, unknown)
        if new != text:
            stylesheet.write_text(new, encoding="utf-8")
    changed = 0
    for page in docs_dir.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        if MARKER in text:
            continue
        new = localize(text, _relative_prefix(page, docs_dir), images, unknown)
        if "vegaEmbed(" in new:
            charts.append(page.relative_to(docs_dir).as_posix())
        new = new.replace("</head>", f"{MARKER}\n</head>", 1) if "</head>" in new else new + MARKER
        page.write_text(new, encoding="utf-8")
        changed += 1
    if unknown:
        log.warning(
            "Data Docs link CDN assets with no local copy (removed, pages may look plain): %s",
            ", ".join(sorted(unknown)),
        )
    if charts:  # the Vega scripts are left out, see data_docs_assets/README.md
        log.warning("Data Docs pages with charts that will not draw: %s", ", ".join(charts))
    return changed


def is_offline_page(page: Path) -> bool:
    """True when `page` was rewritten to the local assets by this version."""
    try:
        return MARKER in page.read_text(encoding="utf-8")
    except OSError:
        return False
