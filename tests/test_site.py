"""The documentation site builds, the way CI builds it (``mkdocs build --strict``): every
page in the navigation, no broken link or anchor, API pages generated from the code, and a
site that works opened from disk."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import ganzoo

REPO = Path(__file__).resolve().parents[1]


def test_the_site_builds_strictly_with_api_pages_from_the_docstrings(tmp_path):
    site = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    pages = {path.stem for path in site.glob("*.html")}
    assert {path.stem for path in (REPO / "docs").glob("*.md")} <= pages  # every page, none left out of the build
    assert (site / "search" / "search_index.json").is_file()
    home = (site / "index.html").read_text(encoding="utf-8")
    opening = (REPO / "README.md").read_text(encoding="utf-8").split("\n\n")[1].split(".")[0]
    assert opening in home  # the README is the home page
    api = (site / "api.html").read_text(encoding="utf-8")
    for name in ganzoo.__all__:  # every public name; each class with the first line of its docstring
        assert f'id="ganzoo.{name}"' in api, name
        item = getattr(ganzoo, name)
        summary = (item.__doc__ or "").strip().split("\n")[0] if isinstance(item, type) else ""
        if summary and not set("`'<>&\"") & set(summary):  # text that HTML shows as it is
            assert summary in api, (name, summary)
    assert "fonts.googleapis.com" not in home  # nothing loaded from elsewhere
    assert 'id="ganzoo.testing.read_metrics"' in api  # the helpers of a plugin's tests too
    # Opened from disk (file://), a link must name a file: no folder/ that a server would
    # turn into folder/index.html. Every page's links and pictures point at files that exist.
    for page in site.glob("*.html"):
        if page.name == "404.html":  # a web server's page, with links from the site's root by design
            continue
        html = page.read_text(encoding="utf-8")
        assert "unpkg.com" not in html and '<script src="http' not in html, page.name
        for target in re.findall(r'(?:href|src)="([^"#?]+)', html):
            if re.match(r"[a-z]+:", target):
                continue
            assert (page.parent / target).is_file(), f"{page.name}: {target} is not a file of the site"
