"""The pix2pix plugin (`plugins/ganzoo_pix2pix`) through the user's path: a recipe trains
on generated pairs through the CLI and resumes bitwise; `ganzoo translate` writes one
output per input at its size; `ganzoo sample` and `ganzoo eval` work on held-out pairs;
`paired_folder` reads both layouts and both directions and refuses bad pairs."""

from __future__ import annotations

import json

import numpy
import pytest
import torch
from PIL import Image

import ganzoo
from conftest import REPO, run_folder, write_idx_mnist
from ganzoo.cli import main
from ganzoo_pix2pix.architecture import UNet
from ganzoo_pix2pix.losses import Pix2PixLoss
from ganzoo_pix2pix.mnist_pairs import MNISTPairs, edge_map, hide_blocks
from ganzoo_pix2pix.paired_folder import PairedFolder

SMALL = [
    "model.width=4",
    "model.d_width=4",
    "model.depth=2",
    "train.batch_size=8",
    "train.log_every=1",
    "wandb.mode=disabled",
    "video.format=gif",
    "--no-progress",
]


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    return write_idx_mnist(tmp_path_factory.mktemp("digits"), n_train=64, n_test=16)


@pytest.fixture(scope="module")
def edges_run(digits, tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    assert (
        main(
            [
                "run",
                str(REPO / "recipes" / "pix2pix_mnist_edges.yaml"),
                f"data.root={digits}",
                "train.max_steps=3",
                f"run.dir={runs}",
                *SMALL,
            ]
        )
        == 0
    )
    return next(runs.iterdir())


def weights(folder):
    return torch.load(folder / "weights.pt", weights_only=True)


def test_the_edges_recipe_trains_through_the_cli(edges_run):
    logged = [json.loads(line) for line in (edges_run / "metrics.jsonl").read_text().splitlines()]
    rows = [row for row in logged if "d_loss" in row]  # the loop's rows; D's verdict on train and held-out pairs aside
    assert [row["step"] for row in rows] == [1, 2, 3]
    assert [row["step"] for row in logged if "d_train" in row] == [1, 2, 3]
    assert all({"d_loss", "g_loss", "l1", "g_gan", "d_real", "d_fake"} <= set(row) for row in rows)
    saved = weights(edges_run)
    assert saved["data_info"] == {"shape": [1, 28, 28], "num_classes": 10, "condition_shape": [1, 28, 28]}
    # The grid shows 8 held-out (condition, output, target) rows: 3 columns of 28 px plus padding.
    grid = Image.open(edges_run / "samples" / "step_0000003.png")
    assert grid.size == (3 * 30 + 2, 8 * 30 + 2)


@pytest.mark.parametrize("recipe", ["pix2pix_mnist_edges", "pix2pix_mnist_inpaint", "pix2pix_facades"])
def test_the_recipes_check(recipe):
    assert main(["check", str(REPO / "recipes" / f"{recipe}.yaml")]) == 0


def test_resume_of_a_pix2pix_run_is_bitwise(digits, tmp_path, capsys):
    recipe = str(REPO / "recipes" / "pix2pix_mnist_inpaint.yaml")
    common = [f"data.root={digits}", f"run.dir={tmp_path}", *SMALL]
    assert main(["run", recipe, "run.name=whole", "train.max_steps=6", *common]) == 0
    assert main(["run", recipe, "run.name=half", "train.max_steps=3", *common]) == 0
    half = run_folder(capsys.readouterr().out)
    assert main(["run", "--resume", str(half), "train.max_steps=6", "--no-progress"]) == 0
    ours, theirs = weights(half), weights(tmp_path / "whole")
    for net in ("generator", "discriminator"):
        assert all(torch.equal(ours[net][k], theirs[net][k]) for k in theirs[net]), net
    assert (half / "metrics.jsonl").read_text() == (tmp_path / "whole" / "metrics.jsonl").read_text()


def write_png(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(numpy.asarray(array, dtype=numpy.uint8)).save(path)


def test_translate_writes_one_output_per_input_at_its_size(edges_run, tmp_path, capsys):
    inputs = tmp_path / "in"
    write_png(inputs / "a.png", numpy.zeros((28, 28)))
    write_png(inputs / "b.png", numpy.full((40, 36, 3), 200))  # colour and another size: made grey, kept 36x40
    (inputs / "notes.txt").write_text("not an image")
    assert main(["translate", str(edges_run), "--input", str(inputs), "--out", str(tmp_path / "out")]) == 0
    assert "2 image(s) translated" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png", "b.png"]
    assert Image.open(tmp_path / "out" / "a.png").size == (28, 28)
    assert Image.open(tmp_path / "out" / "b.png").size == (36, 40)
    assert main(["translate", str(edges_run), "--input", str(inputs / "a.png"), "--out", str(tmp_path / "one")]) == 0
    assert [p.name for p in (tmp_path / "one").iterdir()] == ["a.png"]


def test_translate_refuses_sizes_and_models_it_cannot_translate(edges_run, tmp_path, capsys, toy_recipe):
    write_png(tmp_path / "tiny.png", numpy.zeros((1, 1)))  # a 2-level U-Net takes at least 2 px a side
    assert main(["translate", str(edges_run), "--input", str(tmp_path / "tiny.png"), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "cannot translate a 1x1 image" in err and "Traceback" not in err
    assert main(["translate", str(edges_run), "--input", str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) == 1
    assert "no such file or folder" in capsys.readouterr().err
    assert main(["run", str(toy_recipe), "train.epochs=1", "--no-progress"]) == 0
    toy = run_folder(capsys.readouterr().out)
    assert main(["translate", str(toy), "--input", str(tmp_path / "tiny.png"), "--out", str(tmp_path / "o")]) == 1
    assert "was not trained on paired data" in capsys.readouterr().err


def test_sample_shows_held_out_triples(edges_run, digits, tmp_path, capsys):
    assert main(["sample", str(edges_run), "--grid", "4x3", "--out", str(tmp_path / "grid.png")]) == 0
    assert Image.open(tmp_path / "grid.png").size == (3 * 30 + 2, 4 * 30 + 2)
    assert main(["sample", str(edges_run), "--n", "5", "--out", str(tmp_path / "pairs.npz")]) == 0
    arrays = numpy.load(tmp_path / "pairs.npz")
    assert {k: arrays[k].shape for k in arrays} == dict.fromkeys(("images", "conditions", "targets"), (5, 28, 28))
    test = MNISTPairs(root=str(digits), split="test", download=False).load()  # the held-out pairs, in order
    assert numpy.array_equal(arrays["targets"], test.samples[:5, 0].numpy())
    assert numpy.array_equal(arrays["conditions"], test.condition[:5, 0].numpy())


def test_eval_measures_outputs_against_held_out_targets(edges_run, capsys):
    assert (
        main(["eval", str(edges_run), "--metrics", "paired", "--n", "16", "--json", "--no-progress"]) == 0
    )  # no classifier
    printed = json.loads(capsys.readouterr().out)
    values = {r["key"]: r for r in printed["results"]}
    assert {"l1", "psnr", "ssim"} <= set(values)
    assert 0 <= values["l1"]["value"] <= 1 and -1 <= values["ssim"]["value"] <= 1
    assert values["l1"]["n_real"] == values["l1"]["n_fake"] == 16  # the 16 test pairs of the generated MNIST
    assert values["ssim"]["extractor"] is None


def test_paired_metric_by_hand():
    from ganzoo_pix2pix.metrics import Paired

    real = torch.randint(0, 256, (6, 1, 16, 16), dtype=torch.uint8)
    data = ganzoo.EvalData(ganzoo.Data(real, condition=real), "pairs", {}, torch.device("cpu"))
    ctx = ganzoo.MetricContext(real, real.clone(), None, None, data, lambda name: None, conditions=real)
    values = Paired().compute(ctx)
    assert values["l1"] == 0 and values["ssim"] == pytest.approx(1.0)
    fake = (real.int() + 10).clamp(0, 255).to(torch.uint8)
    ctx = ganzoo.MetricContext(real, fake, None, None, data, lambda name: None, conditions=real)
    mse = ((fake.double() - real.double()) / 255).pow(2).flatten(1).mean(1)
    assert Paired().compute(ctx)["psnr"] == pytest.approx((10 * torch.log10(1 / mse)).mean().item())
    assert Paired().unsupported(ganzoo.Data(real)) and not Paired().unsupported(data.data)


def test_mnist_pairs_are_deterministic_and_split_like_mnist(digits):
    edges = MNISTPairs(root=str(digits), download=False).load()
    assert edges.samples.shape == edges.condition.shape == (64, 1, 28, 28) and edges.labels.shape == (64,)
    assert torch.equal(edges.condition, edge_map(edges.samples))
    test = MNISTPairs(root=str(digits), download=False, split="test").load()
    assert len(test) == 16
    one = MNISTPairs(root=str(digits), download=False, task="inpaint", seed=3).load()
    again = MNISTPairs(root=str(digits), download=False, task="inpaint", seed=3).load()
    other = MNISTPairs(root=str(digits), download=False, task="inpaint", seed=4).load()
    assert torch.equal(one.condition, again.condition) and not torch.equal(one.condition, other.condition)
    hidden = (one.condition == 128) & (one.samples != 128)
    assert hidden.flatten(1).sum(1).le(12 * 12).all() and hidden.any()


def test_edge_map_and_blocks_by_hand():
    digit = torch.zeros(1, 1, 7, 7, dtype=torch.uint8)
    digit[..., 1:6, 1:6] = 255
    outline = edge_map(digit)[0, 0]
    assert outline[1, 1:6].eq(255).all()
    assert outline[3, 3] == 0 and outline[0].eq(0).all()
    blocked = hide_blocks(torch.zeros(4, 1, 28, 28, dtype=torch.uint8), 12, seed=0)
    assert blocked.eq(128).flatten(1).sum(1).eq(144).all()


def test_mnist_pairs_says_where_mnist_goes(tmp_path):
    with pytest.raises(ganzoo.DatasetError, match="MNIST/raw"):
        MNISTPairs(root=str(tmp_path), download=False).load()


# --------------------------------------------------------------------------- paired_folder


def pair_images(seed):
    generator = numpy.random.default_rng(seed)
    return generator.integers(0, 256, (8, 8, 3)), generator.integers(0, 256, (8, 8, 3))


@pytest.fixture
def side_by_side(tmp_path):
    for i in range(3):
        a, b = pair_images(i)
        write_png(tmp_path / "sbs" / "train" / f"{i}.png", numpy.concatenate([a, b], axis=1))
    return tmp_path / "sbs"


@pytest.fixture
def folders(tmp_path):
    for i in range(3):
        a, b = pair_images(i)
        write_png(tmp_path / "ab" / "train" / "A" / f"{i}.png", a)
        write_png(tmp_path / "ab" / "train" / "B" / f"{i}.png", b)
    return tmp_path / "ab"


@pytest.mark.parametrize("layout", ["side_by_side", "folders"])
@pytest.mark.parametrize("direction", ["AtoB", "BtoA"])
def test_paired_folder_reads_both_layouts_and_directions(layout, direction, request):
    root = request.getfixturevalue(layout)
    data = PairedFolder(root=str(root), direction=direction).load()
    assert data.samples.shape == data.condition.shape == (3, 3, 8, 8)
    for i in range(3):
        a, b = (torch.from_numpy(x).permute(2, 0, 1).to(torch.uint8) for x in pair_images(i))
        condition, target = (a, b) if direction == "AtoB" else (b, a)
        assert torch.equal(data.condition[i], condition) and torch.equal(data.samples[i], target)
    grey = PairedFolder(root=str(root), channels=1, size=4, first=2).load()
    assert grey.samples.shape == grey.condition.shape == (2, 1, 4, 4)


def test_paired_folder_refuses_unpaired_and_mismatched_files(folders, side_by_side, tmp_path):
    write_png(folders / "train" / "A" / "lonely.png", numpy.zeros((8, 8, 3)))
    with pytest.raises(ganzoo.DatasetError, match="no partner of the same name: A/lonely.png"):
        PairedFolder(root=str(folders)).load()
    (folders / "train" / "A" / "lonely.png").unlink()
    write_png(folders / "train" / "B" / "0.png", numpy.zeros((9, 8, 3)))
    with pytest.raises(ganzoo.DatasetError, match="A/0.png is 8x8 but B/0.png is 8x9"):
        PairedFolder(root=str(folders)).load()
    write_png(side_by_side / "train" / "odd.png", numpy.zeros((8, 10, 3)))
    with pytest.raises(ganzoo.DatasetError, match="odd.png is 10x8: a side-by-side pair must be twice as wide"):
        PairedFolder(root=str(side_by_side)).load()
    with pytest.raises(ganzoo.DatasetError, match="Put the pairs there.*efrosgans.*A and .*B"):
        PairedFolder(root=str(tmp_path / "nothing")).load()


def test_paired_folder_recipe_gives_a_clear_error_without_files(tmp_path, capsys):
    assert (
        main(
            [
                "run",
                str(REPO / "recipes" / "pix2pix_facades.yaml"),
                f"data.root={tmp_path / 'facades'}",
                "wandb.mode=disabled",
                "--no-progress",
            ]
        )
        == 1
    )
    err = capsys.readouterr().err
    assert "no image pairs under" in err and "Traceback" not in err


# --------------------------------------------------------------------------- components by hand


def test_unet_fits_28_to_256_px_and_patchgan_sees_pairs():
    for side, field, patches in ((28, 16, 12), (64, 34, 14), (256, 70, 30)):
        info = ganzoo.DataInfo((3, side, side), condition_shape=(1, side, side))
        arch = UNet(width=4, d_width=4, receptive_field=field)
        generator, discriminator = arch.build_generator(info), arch.build_discriminator(info)
        condition = torch.randn(1, 1, side, side)
        fake = generator(arch.sample_latent(1, device=torch.device("cpu")), condition)
        assert fake.shape == (1, 3, side, side) and fake.abs().le(1).all()
        assert discriminator(fake, condition).shape == (
            1,
            1,
            patches,
            patches,
        )  # 30x30 patches of 70 px at 256, as in the paper
    assert sum(isinstance(m, torch.nn.Dropout) for m in UNet().build_generator(info).modules()) == 3


def test_unet_refuses_data_it_cannot_model():
    with pytest.raises(ganzoo.GanzooError, match="pairs"):
        UNet().build_generator(ganzoo.DataInfo((1, 28, 28), num_classes=10))
    with pytest.raises(
        ganzoo.GanzooError, match=r"receptive_field 142 does not fit 28x28 images; choose one of \[1, 16, 34, 70\]"
    ):
        UNet(receptive_field=142).build_discriminator(ganzoo.DataInfo((1, 28, 28), condition_shape=(1, 28, 28)))


class Fixed(torch.nn.Module):
    def __init__(self, value):
        super().__init__()
        self.value = value

    def forward(self, x, condition=None):
        return torch.full((len(x), 1, 2, 2), self.value)


def test_pix2pix_loss_by_hand():
    real = torch.zeros(2, 1, 4, 4)
    condition = torch.ones(2, 1, 4, 4)

    class Half(torch.nn.Module):
        def forward(self, z, condition):
            return torch.full_like(condition, 0.5)

    ctx = ganzoo.StepContext(real, condition, Half(), Fixed(0.0), UNet(), 0)
    d = Pix2PixLoss().discriminator_loss(ctx)
    assert d.loss.item() == pytest.approx(torch.log(torch.tensor(2.0)).item())  # 0.5 * (log 2 + log 2)
    g = Pix2PixLoss(l1_weight=10).generator_loss(ctx)
    assert g.logs["l1"].item() == pytest.approx(0.5)
    assert g.loss.item() == pytest.approx(10 * 0.5 + torch.log(torch.tensor(2.0)).item())
    lsgan = Pix2PixLoss(gan="lsgan", l1_weight=0).generator_loss(ctx)
    assert lsgan.loss.item() == pytest.approx(1.0)  # (0 - 1)^2
    only_l1 = Pix2PixLoss(gan_weight=0).generator_loss(ctx)
    assert only_l1.loss.item() == pytest.approx(50.0) and "g_gan" not in only_l1.logs


class PixelClass(ganzoo.FeatureExtractor):
    """Reads an image's class from its first pixel (class * 20)."""

    name = "pixel_class"

    def extract(self, samples):
        classes = samples[:, 0, 0, 0].long() // 20
        return ganzoo.Features(samples.flatten(1).float(), torch.nn.functional.one_hot(classes, 3).float())


def test_target_class_by_hand():
    from ganzoo_pix2pix.metrics import TargetClass

    labels = torch.tensor([0, 1, 2, 2])
    real = (labels * 20).to(torch.uint8).view(4, 1, 1, 1).expand(4, 1, 4, 4).contiguous()
    fake = real.clone()
    fake[3] = 20  # the last output reads as a 1, its target is a 2
    data = ganzoo.EvalData(ganzoo.Data(real, labels, 3, condition=real), "pairs", {}, torch.device("cpu"))
    ctx = ganzoo.MetricContext(real, fake, labels, None, data, lambda name: PixelClass(), conditions=real)
    assert TargetClass().compute(ctx) == {"target_class/classifier": 0.75}
    assert TargetClass().unsupported(ganzoo.Data(real, condition=real))  # unlabelled targets
    assert not TargetClass().unsupported(data.data)
