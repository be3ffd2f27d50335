"""`ganzoo sample`, through the CLI: seeded .npz files, PNG grids and interpolation strips,
from a run folder or a checkpoint, with clear errors for what cannot be drawn."""

from __future__ import annotations

from pathlib import Path

import numpy
import pytest
import torch
from PIL import Image

from conftest import REPO, run_folder, write_idx_mnist, write_recipe
from ganzoo.cli import main
from ganzoo.inference import interpolation_latents, load_trained
from ganzoo_vanilla.models import VanillaMLP


@pytest.fixture(scope="module")
def mnist_run(tmp_path_factory) -> Path:
    """A vanilla GAN trained 12 steps on random 28x28 digits, with a checkpoint every 5 steps."""
    root = tmp_path_factory.mktemp("sampling")
    write_idx_mnist(root / "data", n_train=384)
    recipe = write_recipe(
        root / "mnist.yaml",
        {
            "extends": str(REPO / "recipes" / "vanilla_mnist.yaml"),
            "data": {"root": str(root / "data")},
            "train": {"epochs": 1, "log_every": 4, "sample_every": 100},
            "checkpoint": {"every": 5, "keep_last": 5},
            "run": {"dir": str(root / "runs"), "name": "mnist"},
            "wandb": {"mode": "disabled"},
            "video": {"format": "gif"},
        },
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        assert main(["run", str(recipe), "--no-progress"]) == 0
    return root / "runs" / "mnist"


def test_sample_npz_holds_uint8_images_the_generator_draws_from_the_seed(mnist_run, tmp_path, capsys):
    out = tmp_path / "samples.npz"
    assert main(["sample", str(mnist_run), "--n", "50", "--out", str(out), "--seed", "3"]) == 0
    assert "50 samples from" in capsys.readouterr().out
    images = numpy.load(out)["images"]
    assert images.dtype == numpy.uint8 and images.shape == (50, 28, 28)

    # The same images, computed independently from weights.pt with the recipe's architecture.
    architecture = VanillaMLP(latent_dim=64, hidden_dim=256)
    generator = architecture.build_generator(load_trained(mnist_run, _registry()).info)
    generator.load_state_dict(torch.load(mnist_run / "weights.pt", weights_only=True)["generator"])
    z = architecture.sample_latent(50, device=torch.device("cpu"), generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        expected = generator.eval()(z).add(1).mul(127.5).round().clamp(0, 255).to(torch.uint8)[:, 0]
    assert numpy.array_equal(images, expected.numpy())

    again, other = tmp_path / "again.npz", tmp_path / "other.npz"
    assert main(["sample", str(mnist_run), "--n", "50", "--out", str(again), "--seed", "3"]) == 0
    assert main(["sample", str(mnist_run), "--n", "50", "--out", str(other), "--seed", "4"]) == 0
    assert numpy.array_equal(numpy.load(again)["images"], images)
    assert not numpy.array_equal(numpy.load(other)["images"], images)


def test_sample_from_a_checkpoint_uses_that_checkpoints_generator(mnist_run, tmp_path):
    early, final = tmp_path / "early.npz", tmp_path / "final.npz"
    assert main(["sample", str(mnist_run / "checkpoints" / "step_0000005.pt"), "--n", "8", "--out", str(early)]) == 0
    assert main(["sample", str(mnist_run), "--n", "8", "--out", str(final)]) == 0
    assert not numpy.array_equal(numpy.load(early)["images"], numpy.load(final)["images"])
    assert load_trained(mnist_run / "checkpoints" / "step_0000005.pt", _registry()).step == 5


def test_sample_grid_and_interpolation_pngs_have_the_asked_layout(mnist_run, tmp_path):
    grid, strips = tmp_path / "grid.png", tmp_path / "interp.png"
    assert main(["sample", str(mnist_run), "--grid", "3x5", "--out", str(grid)]) == 0
    assert Image.open(grid).size == (5 * 30 + 2, 3 * 30 + 2)  # 28-pixel images, 2-pixel padding
    assert (
        main(
            [
                "sample",
                str(mnist_run),
                "--interpolate",
                "7",
                "--strips",
                "2",
                "--path",
                "spherical",
                "--out",
                str(strips),
            ]
        )
        == 0
    )
    assert Image.open(strips).size == (7 * 30 + 2, 2 * 30 + 2)


@pytest.mark.parametrize("path", ["linear", "spherical"])
def test_interpolation_strips_run_from_one_latent_to_another(mnist_run, path):
    model = load_trained(mnist_run, _registry())
    latents = interpolation_latents(model, strips=3, steps=5, seed=1, path=path).view(3, 5, -1)
    ends = model.architecture.sample_latent(6, device=torch.device("cpu"), generator=torch.Generator().manual_seed(1))
    assert torch.allclose(latents[:, 0], ends[:3], atol=1e-5) and torch.allclose(latents[:, -1], ends[3:], atol=1e-5)
    steps = (latents[:, 1:] - latents[:, :-1]).norm(dim=2)
    if path == "linear":  # evenly spaced on the straight line
        assert torch.allclose(steps, steps[:, :1].expand_as(steps), rtol=1e-4)
    else:  # the norm changes smoothly between the two ends' norms, never collapsing towards 0 as lines do
        norms = latents.norm(dim=2)
        low = torch.minimum(norms[:, :1], norms[:, -1:])
        assert (norms >= low * 0.999).all()


def test_sample_of_points_writes_points(tmp_path, toy_recipe):
    assert main(["run", str(toy_recipe), "--no-progress"]) == 0
    folder = next((tmp_path / "runs").iterdir())
    out = tmp_path / "points.npz"
    assert main(["sample", str(folder), "--n", "30", "--out", str(out)]) == 0
    points = numpy.load(out)["points"]
    assert points.dtype == numpy.float32 and points.shape == (30, 2)


def test_rgb_samples_are_height_width_channels(tmp_path, capsys):
    for i in range(8):
        Image.fromarray(numpy.full((10, 10, 3), i * 30, dtype=numpy.uint8)).save(tmp_path / f"{i}.png")
    recipe = write_recipe(
        tmp_path / "rgb.yaml",
        {
            "extends": str(REPO / "recipes" / "vanilla_mnist.yaml"),
            "data": {"name": "image_folder", "root": str(tmp_path), "image_size": 8, "channels": 3, "cache": False},
            "model": {"hidden_dim": 16, "latent_dim": 4},
            "train": {"epochs": 1, "batch_size": 4},
            "run": {"dir": str(tmp_path / "runs")},
            "wandb": {"mode": "disabled"},
            "video": {"format": "gif"},
        },
    )
    assert main(["run", str(recipe), "--no-progress"]) == 0
    out = tmp_path / "rgb.npz"
    assert main(["sample", str(run_folder(capsys.readouterr().out)), "--n", "5", "--out", str(out)]) == 0
    assert numpy.load(out)["images"].shape == (5, 8, 8, 3)


@pytest.mark.parametrize(
    "args, status, message",
    [
        (["--n", "4", "--class", "3"], 1, "not class-conditional"),
        (["--n", "4", "--out", "x.png"], 2, "must be a .npz file"),
        (["--grid", "8by8"], 2, "expected ROWSxCOLUMNS"),
        (["--n", "0"], 2, "positive integer"),
        (["--vary", "c1"], 1, "model 'vanilla_mlp' has no latent codes to vary"),
        ([], 2, "one of the arguments"),
    ],
)
def test_sample_rejects_what_it_cannot_draw(mnist_run, tmp_path, capsys, monkeypatch, args, status, message):
    monkeypatch.chdir(tmp_path)
    try:
        code = main(["sample", str(mnist_run), *args])
    except SystemExit as exit:  # argparse's own usage errors
        code = exit.code
    assert code == status
    assert message in capsys.readouterr().err
    assert not list(tmp_path.glob("*.npz")) and not list(tmp_path.glob("*.png"))


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--grid", "100000x100000"],
            "--grid: --grid 100000x100000 asks for 10,000,000,000 images in one PNG; the limit is 10,000",
        ),
        (["--grid", "101x100"], "the limit is 10,000"),
        (
            ["--interpolate", "1000000000"],
            "--strips 8 x --interpolate 1000000000 asks for 8,000,000,000 images in one PNG",
        ),
        (["--interpolate", "10", "--strips", "1001"], "asks for 10,010 images in one PNG"),
        (["--vary", "c1", "--steps", "1000000000"], "--strips 8 x --steps 1000000000 asks for 8,000,000,000 images"),
        (
            ["--n", "1000000000000"],
            "--n 1,000,000,000,000 samples of shape (1, 28, 28) take 730,156.9 GiB; the limit is "
            "1 GiB (1,369,568 samples of this model)",
        ),
    ],
)
def test_requests_too_large_to_serve_are_refused_before_drawing(
    mnist_run, tmp_path, capsys, monkeypatch, args, message
):
    monkeypatch.chdir(tmp_path)
    assert main(["sample", str(mnist_run), *args]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("ganzoo sample: ") and message in line
    assert list(tmp_path.iterdir()) == []


def test_the_largest_grid_is_drawn(mnist_run, tmp_path):
    assert main(["sample", str(mnist_run), "--grid", "100x100", "--out", str(tmp_path / "g.png")]) == 0
    assert Image.open(tmp_path / "g.png").size == (2 + 100 * 30, 2 + 100 * 30)


def test_sample_out_writes_through_a_symlink_and_refuses_a_folder(mnist_run, tmp_path, capsys):
    target, link = tmp_path / "kept.npz", tmp_path / "link.npz"
    target.write_bytes(b"old")
    link.symlink_to(target)
    assert main(["sample", str(mnist_run), "--n", "3", "--out", str(link)]) == 0
    assert link.is_symlink() and numpy.load(target)["images"].shape == (3, 28, 28)
    folder = tmp_path / "grid.png"
    folder.mkdir()
    assert main(["sample", str(mnist_run), "--grid", "2x2", "--out", str(folder)]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"ganzoo sample: --out: {folder} is a folder") and list(folder.iterdir()) == []
    (tmp_path / "file").write_text("x")
    assert main(["sample", str(mnist_run), "--grid", "2x2", "--out", str(tmp_path / "file" / "g.png")]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line == f"ganzoo sample: --out: {tmp_path / 'file' / 'g.png'}: Not a directory"


def test_sample_from_something_that_is_not_a_run(tmp_path, capsys):
    assert main(["sample", str(tmp_path / "nowhere"), "--n", "4"]) == 1
    assert "no such run folder or checkpoint" in capsys.readouterr().err
    assert main(["sample", str(tmp_path), "--n", "4"]) == 1
    assert "not a run folder" in capsys.readouterr().err


def _registry():
    from ganzoo.plugins import Registry, make_plugin_manager

    return Registry.from_plugin_manager(make_plugin_manager())


def test_code_traversal_holds_the_rest_of_each_latent_fixed(mnist_run, tmp_path):
    """`--vary` asks the architecture for the walk; the core supplies one seeded latent per row."""
    import ganzoo
    from ganzoo.inference import code_traversal_latents
    from ganzoo.plugins import Registry, make_plugin_manager

    class Coded(ganzoo.Architecture):  # latent = [noise (3), category (1 value of 4)]
        name = "coded"

        def sample_latent(self, n, *, device, generator=None):
            return torch.cat([torch.randn(n, 3, generator=generator), torch.zeros(n, 1)], 1)

        def latent_codes(self):
            return {"c1": "categorical, 4 values"}

        def vary_code(self, latents, code, steps):
            walked = latents.repeat_interleave(4, 0)
            walked[:, 3] = torch.arange(4.0).repeat(len(latents))
            return walked

    model = load_trained(mnist_run, Registry.from_plugin_manager(make_plugin_manager()))
    model.architecture = Coded()
    latents, columns = code_traversal_latents(model, "c1", 3, 10, seed=4)
    assert columns == 4 and latents.shape == (12, 4)
    assert latents[:, 3].tolist() == [0.0, 1.0, 2.0, 3.0] * 3
    rows = latents[:, :3].view(3, 4, 3)
    assert torch.equal(rows, rows[:, :1].expand(-1, 4, -1))  # the noise is fixed along each row
    with pytest.raises(Exception, match=r"no latent code 'c9'; its codes: c1 \(categorical, 4 values\)"):
        code_traversal_latents(model, "c9", 3, 10, seed=4)
