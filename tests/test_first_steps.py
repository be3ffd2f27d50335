"""What a newcomer meets first: recipes found by name from any folder, `ganzoo plugins` that
reads like the docs, a console that says where the run goes, and a report that shows every
number the run has (a callback's own, what `ganzoo eval` measured)."""

from __future__ import annotations

import importlib
import json
import sys
import types
import typing
from pathlib import Path

import pytest
from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt

import ganzoo
import ganzoo_datasets
import ganzoo_vanilla
from conftest import REPO, one_line, plugin_module, write_recipe
from ganzoo import testing
from ganzoo.cli import main
from ganzoo.commands.plugins import summary, type_name
from ganzoo.plugins.builtin.schedules import Plateau

# --------------------------------------------------------------------------- recipes by name


def _with_recipes(tmp_path: Path, name: str, recipes: dict[str, str]) -> types.ModuleType:
    """A plugin package, imported from disk, that ships ``recipes`` in its recipes/ folder."""
    package = tmp_path / name
    (package / "recipes").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    for stem, text in recipes.items():
        (package / "recipes" / f"{stem}.yaml").write_text(text)
    sys.path.insert(0, str(tmp_path))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(tmp_path))


def test_recipes_lists_the_bundled_recipes_with_their_first_sentence(capsys):
    assert main(["recipes"]) == 0
    lines = capsys.readouterr().out.splitlines()
    bundled = sorted(path.stem for path in (REPO / "recipes").glob("*.yaml"))
    assert [line.split()[0] for line in lines[: len(bundled)]] == bundled
    (dcgan,) = [line for line in lines if line.startswith("dcgan_mnist ")]
    assert dcgan.split(None, 2)[1:] == [
        "ganzoo",
        "DCGAN (Radford et al., 2016) on MNIST: the convolutional G and D with batch norm, the original GAN "
        "loss, Adam with beta1 0.5.",
    ]
    assert f"(ganzoo's recipes are in {REPO / 'recipes'})" in lines


def test_a_recipe_name_works_from_any_folder_and_a_path_wins(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["check", "toy_ring", "train.epochs=1"]) == 0
    assert capsys.readouterr().out == "toy_ring: ok\n"
    # A file of that name in the folder is what the user means.
    write_recipe(tmp_path / "toy_ring", {"extends": "toy_grid", "train": {"epochs": 4}})
    assert main(["check", "toy_ring", "--print"]) == 0
    assert "name: grid" in capsys.readouterr().out


def test_extends_takes_a_name_and_a_copied_recipe_keeps_working(tmp_path, capsys):
    # lsgan_mnist.yaml extends dcgan_mnist.yaml, relative to its folder: copied elsewhere, the
    # file name falls back to the bundled recipe of that name.
    copy = tmp_path / "mine.yaml"
    copy.write_text((REPO / "recipes" / "lsgan_mnist.yaml").read_text())
    assert main(["check", str(copy), "--print"]) == 0
    assert "name: lsgan" in capsys.readouterr().out
    by_name = write_recipe(tmp_path / "by_name.yaml", {"extends": "dcgan_mnist", "train": {"epochs": 2}})
    assert main(["check", str(by_name)]) == 0


def test_a_broken_relative_extends_says_where_it_looked_and_what_ships(tmp_path, capsys):
    recipe = write_recipe(tmp_path / "spiral.yaml", {"extends": "../../../recipes/toy_ring.yaml"})
    assert main(["check", str(recipe)]) == 2
    line = capsys.readouterr().err.splitlines()[0]
    assert (
        "extends: '../../../recipes/toy_ring.yaml': a path in extends: is relative to the folder of the recipe" in line
    )
    assert "file not found; the recipe 'toy_ring' ships with ganzoo: write just toy_ring" in line


def test_an_unknown_name_suggests_the_closest(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["check", "dcgn_mnist"]) == 2
    assert capsys.readouterr().err.splitlines()[0] == (
        "dcgn_mnist: file not found, and no recipe is named 'dcgn_mnist'; did you mean 'dcgan_mnist'? "
        "(`ganzoo recipes` lists them)"
    )


def test_a_plugin_ships_recipes_found_by_name(tmp_path, monkeypatch):
    shipper = _with_recipes(tmp_path, "recipe_shipper", {"tiny_ring": "# A tiny ring.\nextends: toy_ring\n"})
    registry = testing.registry({"vanilla": ganzoo_vanilla, "datasets": ganzoo_datasets, "shipper": shipper})
    assert registry.recipe_folders["shipper"] == tmp_path / "recipe_shipper" / "recipes"
    monkeypatch.chdir(tmp_path)
    recipe = testing.load_recipe("tiny_ring", registry, ["train.epochs=1"])
    assert recipe.path == tmp_path / "recipe_shipper" / "recipes" / "tiny_ring.yaml"
    assert recipe.config.data.name == "ring"
    # Two plugins shipping one name: a path is needed, and the problem says whose they are.
    other = _with_recipes(tmp_path, "other_shipper", {"tiny_ring": "extends: toy_grid\n"})
    both = testing.registry({"vanilla": ganzoo_vanilla, "datasets": ganzoo_datasets, "a": shipper, "b": other})
    with pytest.raises(ganzoo.RecipeError) as error:
        testing.load_recipe("tiny_ring", both)
    assert "the recipe name 'tiny_ring' is shipped by a (" in str(error.value)


def test_every_sub_package_and_the_recipes_ship_in_the_wheel():
    """pyproject.toml lists the packages (the recipes folder is mapped to ganzoo.recipes):
    a new sub-package left out of the list would be missing from an installed ganzoo."""
    import tomllib

    settings = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    found = {str(p.parent.relative_to(REPO)).replace("/", ".") for p in (REPO / "ganzoo").rglob("__init__.py")}
    assert set(settings["packages"]) == found | {"ganzoo.recipes"}
    assert settings["package-dir"] == {"ganzoo.recipes": "recipes"}
    assert settings["package-data"] == {"ganzoo.recipes": ["*.yaml"]}


# --------------------------------------------------------------------------- ganzoo plugins


Beta = typing.Annotated[float, Field(ge=0, lt=1)]


@pytest.mark.parametrize(
    "annotation, metadata, expected",
    [
        (PositiveInt, [], "int > 0"),
        (int, Field(ge=1, le=10).metadata, "int in [1, 10]"),
        (tuple[Beta, Beta], [], "[float, float] in [0, 1)"),
        (typing.Optional[PositiveInt], [], "int > 0 or null"),
        (typing.Literal["normal", "uniform"], [], "one of 'normal', 'uniform'"),
        (list[str], [], "list of str"),
        (PositiveFloat, [], "float > 0"),
        (NonNegativeInt, [], "int >= 0"),
    ],
)
def test_types_read_as_a_person_writes_them(annotation, metadata, expected):
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is typing.Annotated and not metadata:
        annotation, metadata = args[0], list(args[1:])
    assert type_name(annotation, metadata) == expected


def test_summaries_are_whole_and_without_markup():
    assert summary(Plateau) == (
        "Reduce-on-plateau: the learning rate times factor when the logged metric has not improved for "
        "patience logged rows (torch's ReduceLROnPlateau). BEGAN's halving of the learning rate when its "
        "convergence measure stalls is {name: plateau, metric: convergence, factor: 0.5}."
    )


def test_plugins_shows_one_plugin_or_one_component(capsys):
    assert main(["plugins", "plateau"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("ganzoo (the core, ganzoo ") and out[1].startswith("  schedule plateau: Reduce-on-plateau")
    assert (
        "      factor (float in (0, 1), default 0.5)  the learning rate is multiplied by this when the metric stalls"
        in out
    )
    assert main(["plugins", "vanilla", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert [p["name"] for p in listing["plugins"]] == ["vanilla"]
    assert {(c["kind"], c["name"]) for c in listing["components"]} == {("architecture", "vanilla_mlp"), ("loss", "bce")}
    assert main(["plugins", "loss:bce"]) == 0
    assert "  loss bce: " in capsys.readouterr().out
    status = main(["plugins", "bec"])
    assert one_line(capsys, status).startswith("ganzoo: error: unknown plugin or component 'bec'; did you mean 'bce'?")


# --------------------------------------------------------------------------- the console


class Shouter(ganzoo.Callback):
    """Prints a line when training starts, as wandb does."""

    name = "shouter"

    def on_train_start(self, run):
        print("SHOUT", file=sys.stderr)


def test_the_run_folder_is_said_before_training_and_the_bar_comes_after_the_start_lines(tmp_path, capsys):
    registry = testing.registry(
        {
            "vanilla": ganzoo_vanilla,
            "datasets": ganzoo_datasets,
            "shouter": plugin_module("shouter_plugin", callbacks=[Shouter]),
        }
    )
    said = []
    recipe = testing.load_recipe(
        REPO / "recipes" / "toy_ring.yaml",
        registry,
        [
            f"run.dir={tmp_path}",
            "wandb.mode=disabled",
            "data.size=512",
            "train.epochs=1",
            "callbacks=[{name: shouter}]",
        ],
    )
    from ganzoo.run import run_recipe

    run = run_recipe(recipe, registry, progress=True, announce=lambda folder: said.append(sorted(folder.iterdir())))
    assert said == [[run.folder / ".ganzoo-lock", run.folder / "recipe.yaml"]]  # before any step
    err = capsys.readouterr().err
    assert err.index("SHOUT") < err.index("step")  # the bar is drawn after every on_train_start


def test_ganzoo_run_says_the_folder_first_and_where_the_samples_are_last(tmp_path, toy_recipe, capsys):
    assert main(["run", str(toy_recipe), "--no-progress", "video.format=gif"]) == 0
    lines = capsys.readouterr().out.splitlines()
    folder = Path(lines[0].removeprefix("run folder: "))
    assert lines[0].startswith("run folder: ") and folder.is_dir()
    assert lines[1:] == [
        f"last samples: {folder / 'samples' / 'step_0000032.png'}",
        f"progress video: {folder / 'progress.gif'}",
    ]


# --------------------------------------------------------------------------- the report


def test_the_report_shows_every_scalar_and_every_evaluation(tmp_path, toy_recipe, capsys):
    assert main(["run", str(toy_recipe), "--no-progress", "video.format=gif", "run.name=one"]) == 0
    folder = tmp_path / "runs" / "one"
    with (folder / "metrics.jsonl").open("a") as log:  # a callback's scalar, in a row of its own
        log.write(json.dumps({"step": 32, "epoch": 2, "spread": 1.25}) + "\n")
    result = {"key": "fid/classifier", "value": 12.5, "metric": "fid", "n_fake": 500, "n_real": 400}
    evaluation = {"time": "t", "step": 32, "source": "weights.pt", "seed": 0, "results": [{**result, "extractor": "x"}]}
    (folder / "eval.jsonl").write_text(json.dumps(evaluation) + "\n")
    out = tmp_path / "page.html"
    assert main(["report", str(folder), "--out", str(out), "--no-progress"]) == 0
    page = out.read_text()
    assert "<th>spread</th>" in page and "<td>1.2500</td>" in page  # the callback's value, beside the loop's
    assert ">lr of G</th>" in page
    assert '<td title="x">12.5000</td>' in page and "<td>500 vs 400</td>" in page and "<td>weights.pt</td>" in page
    assert "img.grid { width: auto; }" in page  # a grid is shown at its own pixels
    assert 'id="shared-curves"' not in page  # one run: nothing to share axes with
