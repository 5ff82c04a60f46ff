"""The pinned Data Docs assets: complete, licensed, and swapped in for the CDN links."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from policy_news.quality.docs_assets import ASSETS_DIR, load_manifest, localize

if TYPE_CHECKING:
    from pathlib import Path

_PAGE = """<html><head>
<link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css"/>
<script src="https://code.jquery.com/jquery-3.7.1.min.js"></script>
<script src="https://cdn.jsdelivr.net/npm/vega@5"></script>
<script src="https://cdn.example.org/new-widget.js" crossorigin="anonymous"></script>
<link rel="shortcut icon" href="../static/images/favicon.ico" type="image/x-icon"/>
</head><body>
<img src="https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/logo-long.png?d=1"/>
<style>a { background: url('https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/full_logo_dark.png') }</style>
</body></html>"""


def test_every_manifest_file_and_licence_is_committed() -> None:
    raw = json.loads((ASSETS_DIR / "manifest.json").read_text(encoding="utf-8"))
    for package in raw["packages"]:
        assert (ASSETS_DIR / package["license_file"]).is_file(), package["name"]
        assert package["version"] and package["license"], package["name"]
    for path in load_manifest().files:
        assert (ASSETS_DIR / path).is_file(), path


def test_no_asset_file_is_left_unused() -> None:
    raw = json.loads((ASSETS_DIR / "manifest.json").read_text(encoding="utf-8"))
    expected = set(load_manifest().files) | {p["license_file"] for p in raw["packages"]}
    expected |= {"README.md", "manifest.json", "fontawesome-free/webfonts/fa-solid-900.woff2"}
    present = {p.relative_to(ASSETS_DIR).as_posix() for p in ASSETS_DIR.rglob("*") if p.is_file()}
    assert present == expected


def test_cdn_links_become_local_and_unknown_ones_are_removed(tmp_path: Path) -> None:
    images = tmp_path / "static" / "images"
    images.mkdir(parents=True)
    (images / "logo-long.png").write_bytes(b"png")
    unknown: set[str] = set()
    page = localize(_PAGE, "../", images, unknown)
    assert '<link rel="stylesheet" href="../static/vendor/bootstrap/bootstrap.min.css">' in page
    assert '<script src="../static/vendor/jquery/jquery.min.js"></script>' in page
    assert "http" not in page.replace("</html>", "")
    assert unknown == {"https://cdn.example.org/new-widget.js"}  # vega is left out on purpose
    assert 'src="../static/images/logo-long.png"' in page
    assert "url('../static/images/logo-long.png')" in page  # no local dark-mode logo


def test_gx_static_links_are_made_relative_to_the_page(tmp_path: Path) -> None:
    page = localize(_PAGE, "../../../../", tmp_path, set())
    assert 'href="../../../../static/images/favicon.ico"' in page
