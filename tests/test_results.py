"""Every number in the docs traces to a results file: every file under bench/results/ that the
README or a docs page names exists, and every results file carries the provenance header
(commit, date, machine, torch, recipes), the commands that made it and its raw values."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import REPO, bench_module

provenance = bench_module("provenance")
RESULTS = sorted((REPO / "bench" / "results").glob("*.md"))
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def cited() -> set[str]:
    """Every ``bench/results/...`` file a page names (in a link or in inline code)."""
    found = set()
    for page in PAGES:
        found |= set(re.findall(r"bench/results/[\w.-]+\.(?:md|png|json)", page.read_text(encoding="utf-8")))
    return found


def test_the_docs_cite_results_files():
    assert len(cited()) >= 5  # the walk works: the zoo, speed and Stacked-MNIST pages cite theirs


@pytest.mark.parametrize("name", sorted(cited()))
def test_every_cited_results_file_exists(name):
    assert (REPO / name).is_file(), f"{name} is cited by the docs but does not exist"


@pytest.mark.parametrize("path", RESULTS, ids=lambda p: p.name)
def test_every_results_file_has_its_provenance(path: Path):
    text = path.read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| (\w+) \| (.+) \|$", text, re.M))
    missing = [field for field in provenance.FIELDS if field not in rows]
    assert not missing, f"{path.name} has no {', '.join(missing)} in its provenance table"
    assert re.search(r"^(## Commands|Command|Commands)", text, re.M), f"{path.name} names no command"
    assert "```json" in text, f"{path.name} holds no raw values"


def test_the_header_helper_writes_what_the_check_reads(tmp_path, monkeypatch):
    monkeypatch.setattr(provenance.sys, "argv", ["bench/example.py", "--seconds", "1"])
    path = provenance.write_results(
        tmp_path / "r.md", "An example", body="| a | b |", commands=["ganzoo run x"], raw={"a": 1}
    )
    text = path.read_text()
    assert text.startswith("# An example\n\n| provenance | |")
    assert "python bench/example.py --seconds 1" in text and "    ganzoo run x" in text
    assert re.search(r"^\| commit \| [0-9a-f]{7} \((clean tree|uncommitted changes)\) \|$", text, re.M)
    assert '```json\n{\n "a": 1\n}\n```' in text
