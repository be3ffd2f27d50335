"""The documentation site builds, the way CI builds it (``mkdocs build --strict``): every
page in the navigation, no broken link or anchor, and API pages generated from the code."""

from __future__ import annotations

import os
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
    pages = {path.parent.name for path in site.glob("*/index.html")}
    assert {path.stem for path in (REPO / "docs").glob("*.md")} <= pages  # every page, none left out of the build
    assert (site / "search" / "search_index.json").is_file()
    home = (site / "index.html").read_text(encoding="utf-8")
    opening = (REPO / "README.md").read_text(encoding="utf-8").split("\n\n")[1].split(".")[0]
    assert opening in home  # the README is the home page
    api = (site / "api" / "index.html").read_text(encoding="utf-8")
    for name in ganzoo.__all__:  # every public name; each class with the first line of its docstring
        assert f'id="ganzoo.{name}"' in api, name
        item = getattr(ganzoo, name)
        summary = (item.__doc__ or "").strip().split("\n")[0] if isinstance(item, type) else ""
        if summary and not set("`'<>&\"") & set(summary):  # text that HTML shows as it is
            assert summary in api, (name, summary)
    assert "fonts.googleapis.com" not in home  # nothing loaded from elsewhere
