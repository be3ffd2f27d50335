"""Opens a page in a real, headless Chromium, for the tests: Debian's ``chromium`` package
(``apt-get install chromium``, which ``.ci/run`` does), driven by Playwright.

Playwright's own browser download cannot run here, so the system binary is launched
instead. Without Chromium the calling test is skipped, except in CI (``CI=true``), where
.ci/run installs it: there a missing browser is a failure, never a silent skip.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Every <img> and <video> with what the browser made of it, once each video has its
# metadata (or has failed): natural sizes are 0 for anything that did not load.
MEDIA = """() => ({
    images: [...document.images].map(i => ({alt: i.alt, complete: i.complete, width: i.naturalWidth, height: i.naturalHeight})),
    videos: [...document.querySelectorAll('video')].map(v => ({title: v.title, width: v.videoWidth,
        height: v.videoHeight, duration: v.duration, error: v.error ? v.error.code : null})),
})"""
VIDEOS_SETTLED = "[...document.querySelectorAll('video')].every(v => v.readyState >= 1 || v.error)"


def chromium() -> str:
    """The Chromium binary, or skip (fail in CI) when there is none."""
    for candidate in (
        os.environ.get("GANZOO_CHROMIUM"),
        "/usr/bin/chromium",
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
    ):
        if candidate and Path(candidate).is_file():
            return candidate
    message = "Chromium is not installed (apt-get install chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}, but .ci/run installs it in CI")
    pytest.skip(message)


def open_page(page_path: Path, screenshot: Path, *, width: int = 1400) -> dict:
    """Load ``page_path`` from disk, wait for its media, save a full-page screenshot, and
    return the media found (see ``MEDIA``) plus every request that left the disk."""
    from playwright.sync_api import sync_playwright

    executable = chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            requests: list[str] = []
            page.on("request", lambda request: requests.append(request.url))
            page.goto(page_path.resolve().as_uri(), wait_until="load")
            page.wait_for_function(VIDEOS_SETTLED, timeout=30_000)
            media = page.evaluate(MEDIA)
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    media["network"] = [url for url in requests if not url.startswith(("file:", "data:"))]
    return media
