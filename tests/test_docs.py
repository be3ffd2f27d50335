"""The docs cover the code, checked the way datasette checks its own: every hook, recipe key,
component option and CLI option must be documented, every hook must have a test of its own,
and the README must keep its three commands and working links.

When one of these fails, update the docs (or write the missing test); do not loosen the check.
"""

from __future__ import annotations

import argparse
import inspect
import re
from pathlib import Path
from typing import Any, Iterator, Optional, get_args

import pytest
import yaml
from pydantic import BaseModel

import ganzoo.cli
import ganzoo_augment
import ganzoo_classic
import ganzoo_conditional
import ganzoo_datasets
import ganzoo_metrics
import ganzoo_pacgan
import ganzoo_pix2pix
import ganzoo_stabilizers
import ganzoo_stylegan
import ganzoo_vanilla
from ganzoo.api import hookspecs
from ganzoo.cli import build_parser
from ganzoo.plugins import Registry, hook_names, make_plugin_manager
from ganzoo.plugins.builtin.optimizers import OPTIMIZERS
from ganzoo.plugins.builtin.schedules import BUNDLED as SCHEDULES
from ganzoo.recipe import COMPONENT_SECTIONS, ComponentSpec, RecipeModel

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
TESTS = REPO / "tests"
README = REPO / "README.md"

# Registry kind -> the recipe section that names a component of that kind.
SECTION_OF_KIND = {kind: section for section, kind in COMPONENT_SECTIONS.items()}

README_COMMANDS = [
    "python3 -m venv .venv && . .venv/bin/activate && pip install -r requirements.txt",
    "ganzoo run recipes/vanilla_mnist.yaml",
    "pytest",
]


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def backticked(text: str) -> set[str]:
    """Everything written in inline code (`...`) in a markdown text."""
    return set(re.findall(r"`([^`\n]+)`", text))


def sections(text: str) -> list[tuple[str, str]]:
    """``(heading, body)`` for every markdown heading, the body running to the next heading
    of any level. Fenced code blocks are skipped, so ``# comments`` in them are not headings."""
    result: list[tuple[str, list[str]]] = []
    fenced = False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        if not fenced and re.match(r"#{1,6} ", line):
            result.append((line, []))
        elif result:
            result[-1][1].append(line)
    return [(heading, "\n".join(body)) for heading, body in result]


def table_rows(text: str) -> dict[str, list[str]]:
    """Markdown table rows whose first cell is one inline-code key: key -> the other cells."""
    rows = {}
    for line in text.splitlines():
        match = re.match(r"\|\s*`([^`]+)`\s*\|(.*)\|\s*$", line)
        if match:
            rows[match.group(1)] = [cell.strip() for cell in match.group(2).split("|")]
    return rows


def section_naming(text: str, name: str) -> str:
    """The body of every section whose heading names ``name`` in inline code."""
    bodies = [body for heading, body in sections(text) if f"`{name}`" in heading]
    assert bodies, f"no heading names `{name}`"
    return "\n".join(bodies)


def plain(value: Any) -> Any:
    """A default as YAML would read it back (tuples become lists)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, (tuple, list)):
        return [plain(v) for v in value]
    return value


def assert_default_documented(key: str, field, cells: list[str]) -> None:
    """The table row of ``key`` is ``| key | type | default | meaning |``; the default cell is
    ``required`` or the default in inline code, written as YAML."""
    assert len(cells) >= 3, f"the row of `{key}` needs type, default and meaning cells: {cells}"
    documented = cells[1]
    if field.is_required():
        assert documented == "required", f"`{key}` is required, but the docs give the default {documented!r}"
        return
    match = re.fullmatch(r"`([^`]*)`", documented)
    assert match, f"the default of `{key}` should be `required` or inline code, not {documented!r}"
    expected = plain(field.get_default(call_default_factory=True))
    assert yaml.safe_load(match.group(1)) == expected, f"`{key}`: docs say {documented}, code says {expected!r}"


# --------------------------------------------------------------------------- hooks


HOOK_HEADING = re.compile(r"^## (register_\w+)\((.*)\)\s*$", re.M)


def hook_headings() -> dict[str, list[str]]:
    headings = {}
    for name, params in HOOK_HEADING.findall(read(DOCS / "hooks.md")):
        assert name not in headings, f"## {name}(...) appears twice in docs/hooks.md"
        headings[name] = [p.strip() for p in params.split(",") if p.strip()]
    return headings


def test_every_hook_is_documented():
    assert set(hook_headings()) == set(hook_names())


@pytest.mark.parametrize("hook", hook_names())
def test_hook_heading_shows_the_spec_signature(hook):
    documented = hook_headings().get(hook)
    assert documented is not None, f"docs/hooks.md has no heading `## {hook}(...)`"
    assert documented == list(inspect.signature(getattr(hookspecs, hook)).parameters)


@pytest.mark.parametrize("hook", hook_names())
def test_every_hook_has_a_test_of_its_own(hook):
    wanted = f"def test_hook_{hook}"
    files = [p for p in sorted(TESTS.rglob("*.py")) if p.name != Path(__file__).name]
    assert any(wanted in read(p) for p in files), f"no `{wanted}` in any file under tests/"


# --------------------------------------------------------------------------- recipes


def recipe_fields(model: type[BaseModel] = RecipeModel, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """``(dotted key, pydantic field)`` for every leaf key of the recipe schema.

    A component section (``data``, ``optim.generator``, ...) contributes its ``name``: its
    other keys are the options of whichever component it names, documented per component.
    A list of component sections (``callbacks``) is one key.
    """
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        annotation = field.annotation
        candidates = [annotation, *get_args(annotation)]
        nested = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
        if nested is ComponentSpec and annotation is ComponentSpec:
            yield f"{key}.name", ComponentNameField(field)
        elif annotation is nested and nested is not None and nested is not ComponentSpec:
            yield from recipe_fields(nested, f"{key}.")
        else:
            yield key, field


class ComponentNameField:
    """The ``name`` of a component section, with the section's default (if any) as default."""

    def __init__(self, section_field) -> None:
        self.section_field = section_field

    def is_required(self) -> bool:
        return self.section_field.is_required()

    def get_default(self, call_default_factory: bool = True) -> Optional[str]:
        return self.section_field.get_default(call_default_factory=call_default_factory).name


RECIPE_KEYS = dict(recipe_fields())


def test_the_recipe_schema_walk_finds_every_section():
    # Guards the walk above: if the schema changes shape, this test says so first.
    sections_found = {key.split(".")[0] for key in RECIPE_KEYS}
    assert sections_found == set(RecipeModel.model_fields)
    assert {"train.batch_size", "optim.generator.name", "wandb.tags", "callbacks"} <= set(RECIPE_KEYS)


@pytest.mark.parametrize("key", list(RECIPE_KEYS))
def test_every_recipe_key_is_documented(key):
    text = read(DOCS / "recipes.md")
    assert key in backticked(text), f"`{key}` is not in docs/recipes.md"
    rows = table_rows(text)
    assert key in rows, f"`{key}` has no table row (| `{key}` | type | default | meaning |) in docs/recipes.md"
    assert_default_documented(key, RECIPE_KEYS[key], rows[key])


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_every_optimizer_option_is_documented(optimizer):
    """Optimiser options are documented per optimiser: a section whose heading names the
    optimiser in inline code, with one `| option | type | default | meaning |` row each."""
    body = section_naming(read(DOCS / "recipes.md"), optimizer)
    rows = table_rows(body)
    options_cls = OPTIMIZERS[optimizer][1]
    for option, field in options_cls.model_fields.items():
        assert option in rows, f"optimizer {optimizer!r}: option `{option}` is not in its table in docs/recipes.md"
        assert_default_documented(f"{optimizer}.{option}", field, rows[option])
    assert set(rows) <= set(options_cls.model_fields), (
        f"{optimizer!r} has no option(s) {set(rows) - set(options_cls.model_fields)}"
    )


@pytest.mark.parametrize("schedule", [cls.name for cls in SCHEDULES])
def test_every_schedule_option_is_documented(schedule):
    """Learning-rate schedules are documented like optimisers: a section whose heading names
    the schedule in inline code, with one `| option | type | default | meaning |` row each."""
    body = section_naming(read(DOCS / "recipes.md"), schedule)
    rows = table_rows(body)
    options_cls = next(cls for cls in SCHEDULES if cls.name == schedule).Options
    for option, field in options_cls.model_fields.items():
        assert option in rows, f"schedule {schedule!r}: option `{option}` is not in its table in docs/recipes.md"
        assert_default_documented(f"{schedule}.{option}", field, rows[option])
    assert set(rows) <= set(options_cls.model_fields), (
        f"{schedule!r} has no option(s) {set(rows) - set(options_cls.model_fields)}"
    )


def bundled_registry() -> Registry:
    return Registry.from_plugin_manager(
        make_plugin_manager(
            [
                ganzoo_vanilla,
                ganzoo_datasets,
                ganzoo_classic,
                ganzoo_conditional,
                ganzoo_stabilizers,
                ganzoo_pacgan,
                ganzoo_pix2pix,
                ganzoo_stylegan,
                ganzoo_augment,
            ],
            entry_points=False,
        )
    )


BUNDLED = [(kind, entry.name) for kind in SECTION_OF_KIND for entry in bundled_registry().entries(kind)]


def test_bundled_plugins_provide_components():
    assert {kind for kind, _ in BUNDLED} == set(SECTION_OF_KIND)


def test_every_bundled_callback_is_documented():
    """Recipes switch callbacks on under `callbacks:`; a bundled one needs a heading naming
    it in docs/recipes.md, with each option in inline code."""
    text = read(DOCS / "recipes.md")
    for entry in bundled_registry().entries("callback"):
        body = section_naming(text, entry.name)
        for option in entry.cls.Options.model_fields:
            assert option in backticked(body), f"callback {entry.name!r}: option `{option}` is not documented"


@pytest.mark.parametrize("kind, name", BUNDLED)
def test_every_bundled_component_option_is_documented(kind, name):
    text = read(DOCS / "recipes.md")
    section = SECTION_OF_KIND[kind]
    options = bundled_registry().get(kind, name).Options.model_fields
    body = section_naming(text, name)
    rows = table_rows(body)
    for option, field in options.items():
        key = f"{section}.{option}"
        assert key in backticked(text), f"{kind} {name!r}: `{key}` is not in docs/recipes.md"
        assert key in rows, f"{kind} {name!r}: `{key}` has no row in the table under its heading"
        assert_default_documented(key, field, rows[key])
    extra = {key for key in rows if key.startswith(f"{section}.")} - {f"{section}.{o}" for o in options}
    assert not extra, f"{kind} {name!r} has no option(s) {sorted(extra)}, but docs/recipes.md lists them"


EVALUATION_KINDS = ("metric", "feature_extractor")
METRICS_PLUGIN = Registry.from_plugin_manager(make_plugin_manager([ganzoo_metrics, ganzoo_pix2pix], entry_points=False))
EVALUATION = [(kind, entry.name) for kind in EVALUATION_KINDS for entry in METRICS_PLUGIN.entries(kind)]


def test_the_metrics_plugin_provides_metrics_and_extractors():
    assert {kind for kind, _ in EVALUATION} == set(EVALUATION_KINDS)


@pytest.mark.parametrize("kind, name", EVALUATION)
def test_every_metric_and_extractor_option_is_documented(kind, name):
    """docs/evaluation.md has a heading naming each bundled metric and extractor, with a
    `| option | type | default | meaning |` row per option, and no row for a missing one."""
    body = section_naming(read(DOCS / "evaluation.md"), name)
    rows = table_rows(body)
    options = METRICS_PLUGIN.get(kind, name).Options.model_fields
    for option, field in options.items():
        assert option in rows, f"{kind} {name!r}: option `{option}` has no row under its heading in docs/evaluation.md"
        assert_default_documented(f"{name}.{option}", field, rows[option])
    assert set(rows) <= set(options), f"{kind} {name!r} has no option(s) {set(rows) - set(options)}"


# --------------------------------------------------------------------------- CLI


def subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def cli_words() -> list[str]:
    """Every subcommand, and every option string and positional argument of the parser."""
    parser = build_parser()
    words = [s for a in parser._actions if not isinstance(a, argparse._SubParsersAction) for s in a.option_strings]
    for command, sub in subparsers(parser).items():
        words.append(command)
        for action in sub._actions:
            words.extend(action.option_strings or [str(action.metavar or action.dest)])  # metavars here are strings
    return sorted(set(words))


def test_cli_walk_finds_the_subcommands():
    assert set(subparsers(build_parser())) >= {"run", "check", "plugins"}
    assert "--no-progress" in cli_words() and "KEY=VALUE" in cli_words()


@pytest.mark.parametrize("word", cli_words())
def test_every_cli_command_and_option_is_documented(word):
    assert word in backticked(read(DOCS / "cli.md")), f"`{word}` is not in docs/cli.md"


@pytest.mark.parametrize("command", list(subparsers(build_parser())))
def test_every_cli_command_has_a_section(command):
    headings = [heading for heading, _ in sections(read(DOCS / "cli.md"))]
    assert any(f"`ganzoo {command}`" in heading for heading in headings), (
        f"no heading for `ganzoo {command}` in docs/cli.md"
    )


def test_every_exit_status_is_documented():
    """The statuses the CLI module declares in its docstring, each in the exit-status table."""
    declared = re.search(r"Exit status:(.*?)(?:\n\n|$)", ganzoo.cli.__doc__, re.S).group(1)
    statuses = re.findall(r"(?:^|[:,])\s*(\d+) ", declared)
    assert statuses, declared
    rows = re.findall(r"^\|\s*(\d+)\s*\|", read(DOCS / "cli.md"), re.M)
    assert sorted(statuses, key=int) == sorted(rows, key=int)


# --------------------------------------------------------------------------- README


def code_block_lines(text: str) -> list[str]:
    return [line.strip() for block in re.findall(r"```[a-z]*\n(.*?)```", text, re.S) for line in block.splitlines()]


@pytest.mark.parametrize("command", README_COMMANDS)
def test_readme_has_the_command_in_a_code_block(command):
    assert command in code_block_lines(read(README)), f"README.md has no code block line {command!r}"


def test_readme_commands_each_have_a_heading_and_block_of_their_own():
    for command in README_COMMANDS:
        owners = [heading for heading, body in sections(read(README)) if command in code_block_lines(body)]
        assert len(owners) == 1, f"{command!r} should sit under one heading, found {owners}"
    owners = {
        heading for heading, body in sections(read(README)) for c in README_COMMANDS if c in code_block_lines(body)
    }
    assert len(owners) == len(README_COMMANDS), "each command needs a heading of its own"


MARKDOWN = [README, *sorted(DOCS.glob("*.md"))]


def anchors(page: Path) -> set[str]:
    """The anchors GitHub makes for a page's headings (lower case, punctuation dropped,
    spaces to hyphens)."""
    return {
        re.sub(r"[^\w\- ]", "", heading.lstrip("#").strip().lower()).replace(" ", "-")
        for heading, _ in sections(read(page))
    }


def links(page: Path) -> list[str]:
    """The targets of the page's markdown links, outside code blocks."""
    text = re.sub(r"```.*?```", "", read(page), flags=re.S)
    return re.findall(r"\]\(([^)\s]+)\)", text)


@pytest.mark.parametrize("page", MARKDOWN, ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_exists(page):
    broken = []
    for link in links(page):
        if re.match(r"[a-z]+:", link):
            continue  # http:, https:, mailto:
        path, _, anchor = link.partition("#")
        target = (page.parent / path) if path else page
        if not target.exists():
            broken.append(link)
        elif anchor and target.suffix == ".md" and anchor not in anchors(target):
            broken.append(link)
    assert not broken, f"{page.relative_to(REPO)} has broken links: {broken}"


def test_readme_links_every_doc():
    linked = {(README.parent / link.split("#")[0]).resolve() for link in links(README)}
    docs = {p.resolve() for p in DOCS.glob("*.md")}
    assert docs, "docs/ has no pages"
    assert docs <= linked, f"README.md does not link {sorted(p.name for p in docs - linked)}"


def test_the_layout_lists_every_core_package_and_module():
    """The layout (docs/contributing.md) names what the tree shows at ganzoo's top level
    (each sub-package's own modules are named by its docstring, not here)."""
    layout = read(DOCS / "contributing.md").split("## Layout", 1)[1]
    entries = sorted(
        p.name + ("/" if p.is_dir() else "") for p in (REPO / "ganzoo").iterdir() if p.name != "__pycache__"
    )
    missing = [m for m in entries if not re.search(rf"^\s+{re.escape(m)}\s", layout, re.M)]
    assert not missing, f"the layout in docs/contributing.md does not list ganzoo/{', ganzoo/'.join(missing)}"


def test_the_hook_reference_names_everything_the_public_api_exports():
    """docs/hooks.md lists what a plugin may import: every name of ganzoo.__all__."""
    import ganzoo

    listed = backticked(read(DOCS / "hooks.md").split("## Components", 1)[0])
    missing = sorted(set(ganzoo.__all__) - listed)
    assert not missing, f"docs/hooks.md does not name {missing} among the exports"


def test_writing_plugins_names_every_hook_and_base_class():
    text = read(DOCS / "writing-plugins.md")
    from ganzoo.plugins.registry import KINDS

    for kind, (hook, base) in KINDS.items():
        assert f"| `{hook}` | `ganzoo.{base.__name__}` | `{kind}` |" in text, (hook, base, kind)
    assert "nine hooks" in text
