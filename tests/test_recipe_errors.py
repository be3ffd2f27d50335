"""Bad recipes, checked through `ganzoo check` exactly as a user runs it.

Every kind must exit 2, print no traceback, and print one line per problem naming the file
(or the command line), the dotted key and the reason.
"""

from __future__ import annotations

import pytest

from conftest import REPO, write_recipe
from ganzoo.cli import main

BASE = str(REPO / "recipes" / "vanilla_mnist.yaml")


def check(capsys, recipe_path, *overrides):
    status = main(["check", str(recipe_path), *overrides])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return status, err.strip().splitlines()


def problem_lines(lines):
    """The per-problem lines (the last line is the summary)."""
    assert lines[-1].startswith("ganzoo: ") and "problem(s)" in lines[-1], lines
    return lines[:-1]


CASES = {
    # kind: (recipe text, overrides, [(dotted key, words that must appear)])
    "unknown plugin": (
        f"extends: {BASE}\nrequires: [ganzoo_dcgan]\n",
        [],
        [("requires", "unknown plugin 'ganzoo_dcgan'")],
    ),
    "unknown component": (
        f"extends: {BASE}\nloss: {{name: bec}}\n",
        [],
        [("loss.name", "unknown loss 'bec'; did you mean 'bce'? known: ")],
    ),
    "unknown section key": (
        f"extends: {BASE}\ntrian: {{epochs: 3}}\n",
        [],
        [("trian", "unknown key 'trian'; did you mean 'train'?")],
    ),
    "unknown nested key": (f"extends: {BASE}\ntrain: {{epoch: 3}}\n", [], [("train.epoch", "did you mean 'epochs'?")]),
    "unknown component option": (
        f"extends: {BASE}\nmodel: {{latent_dims: 10}}\n",
        [],
        [("model.latent_dims", "did you mean 'latent_dim'?")],
    ),
    "wrong type": (f"extends: {BASE}\ntrain: {{batch_size: many}}\n", [], [("train.batch_size", "valid integer")]),
    "out of range": (f"extends: {BASE}\ntrain: {{epochs: 0}}\n", [], [("train.epochs", "greater than 0")]),
    "bad choice": (f"extends: {BASE}\nmodel: {{noise: gaussian}}\n", [], [("model.noise", "'normal' or 'uniform'")]),
    "bad device": (f"extends: {BASE}\ndevice: tpu\n", [], [("device", "expected auto, cpu, cuda, cuda:N or mps")]),
    "unknown optimizer": (
        f"extends: {BASE}\noptim: {{generator: {{name: adan}}}}\n",
        [],
        [("optim.generator.name", "did you mean 'adam'?")],
    ),
    "inconsistent options": (
        f"extends: {BASE}\noptim: {{generator: {{name: sgd, nesterov: true}}}}\n",
        [],
        [("optim.generator", "nesterov: true needs momentum > 0")],
    ),
    "missing section": ("data: {name: ring}\nmodel: {name: vanilla_mlp}\n", [], [("loss", "required but missing")]),
    "bad override syntax": (f"extends: {BASE}\n", ["train.epochs"], [("train.epochs", "section.key=value")]),
    "bad override value": (f"extends: {BASE}\n", ["train.epochs=[3"], [("train.epochs", "cannot parse value")]),
    "override into a value": (
        f"extends: {BASE}\n",
        ["seed.value=3"],
        [("seed.value", "seed is a value (int), not a section")],
    ),
    "override of unknown key": (f"extends: {BASE}\n", ["train.epohcs=3"], [("train.epohcs", "did you mean 'epochs'?")]),
}


@pytest.mark.parametrize("kind", list(CASES))
def test_bad_recipe_is_reported_with_file_key_and_reason(kind, tmp_path, capsys):
    text, overrides, expected = CASES[kind]
    recipe = write_recipe(tmp_path / "bad.yaml", text)
    status, lines = check(capsys, recipe, *overrides)
    assert status == 2
    problems = problem_lines(lines)
    for key, words in expected:
        matching = [line for line in problems if f": {key}: " in line]
        assert matching, f"no line for {key} in {problems}"
        assert words in matching[0], matching[0]
        source = (
            "command line" if key.split(".")[0] in {o.split("=")[0].split(".")[0] for o in overrides} else "bad.yaml"
        )
        assert source in matching[0].split(f": {key}: ")[0]


def test_bad_yaml_names_line_and_column(tmp_path, capsys):
    recipe = write_recipe(tmp_path / "broken.yaml", "data:\n  name: ring\n  size: [1, 2\nmodel: {}\n")
    status, lines = check(capsys, recipe)
    assert status == 2
    assert "broken.yaml: invalid YAML at line" in problem_lines(lines)[0]


def test_missing_file(tmp_path, capsys):
    status, lines = check(capsys, tmp_path / "nope.yaml")
    assert status == 2
    assert problem_lines(lines) == [f"{tmp_path / 'nope.yaml'}: file not found"]


def test_missing_extends_file_is_reported_against_the_file_that_names_it(tmp_path, capsys):
    recipe = write_recipe(tmp_path / "child.yaml", "extends: base_that_is_not_there.yaml\n")
    status, lines = check(capsys, recipe)
    assert status == 2
    (line,) = problem_lines(lines)
    # Against the recipe that names it, saying where a relative path was looked for.
    assert line.startswith(f"{recipe}: extends: 'base_that_is_not_there.yaml': a path in extends: is relative to ")
    assert f"so this one names {tmp_path / 'base_that_is_not_there.yaml'}: file not found" in line


def test_circular_extends(tmp_path, capsys):
    write_recipe(tmp_path / "a.yaml", "extends: b.yaml\n")
    write_recipe(tmp_path / "b.yaml", "extends: a.yaml\n")
    status, lines = check(capsys, tmp_path / "a.yaml")
    assert status == 2
    (line,) = problem_lines(lines)
    assert ": extends: circular extends:" in line and "a.yaml -> " in line and "b.yaml -> " in line


def test_not_a_mapping(tmp_path, capsys):
    status, lines = check(capsys, write_recipe(tmp_path / "list.yaml", "- data\n- model\n"))
    assert status == 2
    assert "a recipe must be a mapping of sections, got list" in problem_lines(lines)[0]


def test_unsafe_yaml_tags_are_refused(tmp_path, capsys):
    marker = tmp_path / "pwned"
    text = f"data: !!python/object/apply:os.system ['touch {marker}']\n"
    status, lines = check(capsys, write_recipe(tmp_path / "evil.yaml", text))
    assert status == 2 and not marker.exists()
    assert "invalid YAML" in problem_lines(lines)[0]


def test_every_problem_is_reported_at_once(tmp_path, capsys):
    recipe = write_recipe(
        tmp_path / "many.yaml",
        (
            f"extends: {BASE}\nseed: abc\ndevice: tpu\nloss: {{name: bec}}\nmodel: {{latent_dims: 3}}\ntrain: {{epoch: 1}}\n"
        ),
    )
    status, lines = check(capsys, recipe, "train.batch_size=0")
    assert status == 2
    keys = {line.split(": ")[1] for line in problem_lines(lines)}
    assert {"seed", "device", "loss.name", "model.latent_dims", "train.epoch", "train.batch_size"} <= keys
    # component problems are found even when the sections around them are invalid
    status, lines = check(
        capsys, recipe, "requires=[nope]", "callbacks=[{name: no_such_callback}]", "optim.generator.name=adan"
    )
    keys = {line.split(": ")[1] for line in problem_lines(lines)}
    assert {"seed", "requires", "callbacks.0.name", "optim.generator.name"} <= keys


def test_problem_in_a_base_recipe_names_the_base_file(tmp_path, capsys):
    write_recipe(tmp_path / "base.yaml", f"extends: {BASE}\ntrain: {{log_every: -1}}\n")
    recipe = write_recipe(tmp_path / "child.yaml", "extends: base.yaml\nseed: 3\n")
    status, lines = check(capsys, recipe)
    assert status == 2
    (line,) = problem_lines(lines)
    assert line.startswith(f"{tmp_path / 'base.yaml'}: train.log_every: ")
