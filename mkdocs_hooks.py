"""MkDocs hooks for the documentation site (``mkdocs.yml``).

The pages in ``docs/`` are written to be read on GitHub as well, so they link to files
outside ``docs/`` (``../ganzoo/recipe.py``, ``../recipes/toy_ring.yaml``), and the README,
the project's front page, links into ``docs/``. On the site:

- the README becomes the home page, ``index.md``, its links into ``docs/`` rewritten to
  the pages they name;
- a picture from outside ``docs/`` (a benchmark's plot) is copied into the site, under
  ``assets/repository/``, so that the page shows it;
- a link to an existing file outside ``docs/`` points into ``extra.source_url`` when that
  is set (a repository browser), and is otherwise left as its text, since the site does
  not serve source files;
- a link to a file that does not exist is a warning, which ``mkdocs build --strict`` turns
  into a failure.
"""

from __future__ import annotations

import logging
import posixpath
import re
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

log = logging.getLogger("mkdocs.plugins.ganzoo")
ROOT = Path(__file__).resolve().parent
LINK = re.compile(r"(!?)\[([^\]]*)\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)


ASSETS = "assets/repository"
"""Where pictures from outside docs/ go in the site."""


def on_files(files: Files, config: Any) -> Files:
    """The README as the home page, and the pictures the pages show from outside docs/."""
    files.append(File.generated(config, "index.md", content=(ROOT / "README.md").read_text(encoding="utf-8")))
    docs = Path(config["docs_dir"]).resolve()
    pages = [(ROOT / "README.md", ROOT), *((page, page.parent) for page in sorted(docs.glob("*.md")))]
    copied = set()
    for page, folder in pages:
        for bang, _, target in LINK.findall(FENCE.sub("", page.read_text(encoding="utf-8"))):
            real = (folder / target).resolve()
            if bang and real.is_file() and not real.is_relative_to(docs) and real not in copied:
                copied.add(real)
                uri = f"{ASSETS}/{real.relative_to(ROOT).as_posix()}"
                files.append(File.generated(config, uri, content=real.read_bytes()))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    docs = Path(config["docs_dir"]).resolve()
    source = ROOT / "README.md" if page.file.src_uri == "index.md" else docs / page.file.src_uri
    base = str(config["extra"].get("source_url") or "")

    def rewrite(match: re.Match[str]) -> str:
        bang, text, target = match.groups()
        if re.match(r"[a-z]+:|#", target):
            return match.group(0)  # http:, mailto:, or an anchor on the same page
        path, _, anchor = target.partition("#")
        real = (source.parent / path).resolve()
        if not real.exists():
            log.warning("%s: broken link %s", page.file.src_uri, target)
            return match.group(0)
        if real.is_relative_to(docs) or (bang and real.is_file()):
            where = (
                real.relative_to(docs).as_posix()
                if real.is_relative_to(docs)
                else f"{ASSETS}/{real.relative_to(ROOT).as_posix()}"
            )
            inside = posixpath.relpath(where, posixpath.dirname(page.file.src_uri) or ".")
            return f"{bang}[{text}]({inside}{'#' + anchor if anchor else ''})"
        if base:
            return f"{bang}[{text}]({base}{real.relative_to(ROOT).as_posix()})"
        return text

    parts, last = [], 0
    for fence in FENCE.finditer(markdown):  # code blocks keep their text as it is
        parts += [LINK.sub(rewrite, markdown[last : fence.start()]), fence.group(0)]
        last = fence.end()
    return "".join(parts) + LINK.sub(rewrite, markdown[last:])
