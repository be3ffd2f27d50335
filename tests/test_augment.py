"""Differentiable augmentation: each op against a hand-computed case, gradients through every
op, ADA's p moving the right way, resume with ADA bit for bit, and composition with what D
is called with (gradient penalties, class labels, Pix2Pix pairs, PacGAN packs, data
parallelism, a captured step), checked through the recipe and the CLI where a user goes."""

from __future__ import annotations

import json
import math

import pytest
import torch
import yaml
from torch import nn

import ganzoo
from conftest import REPO, metrics, problem_line, run_folder, small_run, weights, write_idx_mnist, write_recipe
from ganzoo import testing
from ganzoo.cli import main
from ganzoo.plugins import Registry, make_plugin_manager
from ganzoo.train.augmentation import AugmentedDiscriminator
from ganzoo.train.step import TrainingStep
from ganzoo_augment import ADA, DiffAugment
from ganzoo_augment.diffaugment import brightness, contrast, cut_out, saturation, translate
from ganzoo_augment.matrices import apply_colour, resample, rotate2d, rotate3d_about_luma, scale2d, translate2d

DCGAN = REPO / "recipes" / "dcgan_mnist.yaml"


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    return write_idx_mnist(tmp_path_factory.mktemp("digits"), n_train=96, n_test=64)


def tiny_run(digits, run_dir, *overrides, recipe="dcgan_mnist.yaml", width="model.width"):
    """``ganzoo run`` of a bundled recipe small enough for a test: width 8, batch 16."""
    return [
        "run",
        str(REPO / "recipes" / recipe),
        f"data.root={digits}",
        f"{width}=8",
        "train.batch_size=16",
        "train.log_every=2",
        "device=cpu",
        *small_run(run_dir),
        *overrides,
    ]


def image(rows: list[list[float]]) -> torch.Tensor:
    return torch.tensor(rows).view(1, 1, len(rows), len(rows[0]))


# --------------------------------------------------------------------------- DiffAugment's ops


def test_colour_ops_against_hand_computed_values():
    x = torch.tensor([[[[0.2, -0.4]], [[0.6, 0.0]], [[-0.2, 0.4]]]])  # one RGB image of 1x2 pixels
    assert torch.allclose(brightness(x, torch.tensor([0.75])), x + 0.25)
    # saturation: the mean over the channels is (0.2, 0); u = 0.25 halves each distance to it
    assert torch.allclose(
        saturation(x, torch.tensor([0.25])), torch.tensor([[[[0.2, -0.2]], [[0.4, 0.0]], [[0.0, 0.2]]]])
    )
    # contrast: the mean over the image is 0.1; u = 1.0 scales each distance to it by 1.5
    assert torch.allclose(contrast(x, torch.tensor([1.0])), (x - 0.1) * 1.5 + 0.1)
    grey = torch.rand(2, 1, 3, 3)
    assert torch.equal(saturation(grey, torch.rand(2)), grey)  # nothing to desaturate


def test_translation_shifts_whole_pixels_and_pads_with_zeros():
    x = image([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    shifted = translate(x, torch.tensor([1]), torch.tensor([-1]))  # out(i, j) = in(i + 1, j - 1)
    assert torch.equal(shifted, image([[0, 4, 5], [0, 7, 8], [0, 0, 0]]))
    assert torch.equal(translate(x, torch.tensor([0]), torch.tensor([0])), x)


def test_cutout_zeroes_the_square_where_it_lies_in_the_image():
    x = torch.ones(1, 2, 4, 4)
    cut = cut_out(x, torch.tensor([-1]), torch.tensor([2]), (2, 2))  # rows -1..0, columns 2..3
    expected = torch.ones(4, 4)
    expected[0, 2:] = 0
    assert torch.equal(cut, expected.expand(1, 2, 4, 4))


def test_diffaugment_draws_translation_and_cutout_within_the_papers_ranges():
    torch.manual_seed(0)
    x = torch.ones(256, 1, 16, 16)
    out, _ = DiffAugment(policy="cutout")(x)
    zeros = (out == 0).flatten(1).sum(1)
    assert zeros.max() == 64 and zeros.min() >= 16  # an 8x8 square, cut by the border at worst to 4x4
    out, _ = DiffAugment(policy="translation")(x)
    # a shift of at most int(16 * 0.125 + 0.5) = 2 pixels each way: at least 14x14 ones remain
    assert (out.flatten(1).sum(1) >= 14 * 14).all() and (out.flatten(1).sum(1) < 256).any()


@pytest.mark.parametrize("policy", ["color", "translation", "cutout", "color,translation,cutout"])
def test_gradients_flow_through_every_diffaugment_transform(policy):
    torch.manual_seed(1)
    x = torch.randn(4, 3, 8, 8, requires_grad=True)
    out, _ = DiffAugment(policy=policy)(x)
    (grad,) = torch.autograd.grad(out.pow(2).sum(), x)
    assert torch.isfinite(grad).all() and grad.abs().sum() > 0


def test_diffaugment_policy_is_validated():
    with pytest.raises(ValueError, match="comma-separated list of color, translation, cutout"):
        DiffAugment(policy="colour")
    with pytest.raises(ValueError, match="each transform at most once"):
        DiffAugment(policy="cutout,cutout")


# --------------------------------------------------------------------------- ADA's ops


def test_ada_geometry_matrices_resample_exactly():
    x = torch.arange(16.0).view(1, 1, 4, 4)
    one, zero = torch.ones(1), torch.zeros(1)
    assert torch.allclose(resample(x, scale2d(-one, one)), x.flip(3), atol=1e-5)  # x-flip
    # the inverse of a quarter turn maps output pixels to where they are read from
    assert torch.allclose(resample(x, rotate2d(torch.tensor([math.pi / 2]))), torch.rot90(x, 1, (2, 3)), atol=1e-5)
    moved = resample(x, translate2d(one, zero))  # read one pixel to the right; the border reflects
    assert torch.allclose(moved[..., :3], x[..., 1:], atol=1e-5) and torch.allclose(moved[..., 3], x[..., 3])
    assert torch.allclose(resample(x, scale2d(one, one)), x, atol=1e-5)


def test_ada_colour_matrices_against_hand_computed_values():
    red = torch.tensor([1.0, -1.0, -1.0]).view(1, 3, 1, 1)
    turned = apply_colour(red, rotate3d_about_luma(torch.tensor([2 * math.pi / 3])))
    assert torch.allclose(turned.flatten(), torch.tensor([-1.0, 1.0, -1.0]), atol=1e-5)  # a third of a turn: green
    ada = ADA(transforms=["lumaflip"], p=1.0, adapt=False)
    grey = torch.rand(8, 1, 3, 3) * 2 - 1
    torch.manual_seed(0)
    flipped, _ = ada(grey)  # each image is negated (a luma flip) or left alone, half and half
    negated = torch.isclose(flipped, -grey, atol=1e-6).flatten(1).all(1)
    kept = torch.isclose(flipped, grey, atol=1e-6).flatten(1).all(1)
    assert (negated | kept).all() and negated.any() and kept.any()


def fixed_draws(ada: ADA, u: float = 0.75, z: float = 1.0) -> ADA:
    """ADA with every uniform draw ``u`` and every normal draw ``z``: at p = 1 each transform
    applies (u < p) with one known parameter, so its output can be worked out by hand."""
    ada.uniform = lambda n, *shape, device: torch.full((n, *shape), u, device=device)
    ada.normal = lambda n, *shape, device: torch.full((n, *shape), z, device=device)
    return ada


def ramps(side: int = 16) -> tuple[torch.Tensor, torch.Tensor]:
    """Images whose value is the column's (or the row's) centred coordinate: bilinear
    resampling reproduces a linear function exactly, so a zoom by s divides it by s."""
    centred = torch.arange(side, dtype=torch.float32) + 0.5 - side / 2
    return centred.expand(side, side).reshape(1, 1, side, side), centred.view(side, 1).expand(side, side).reshape(
        1, 1, side, side
    )


def test_each_ada_geometric_transform_against_a_hand_computed_case():
    x = torch.arange(256.0).view(1, 1, 16, 16)
    one = lambda transform: fixed_draws(ADA(transforms=[transform], p=1.0, adapt=False))(x)[0]  # noqa: E731
    assert torch.allclose(one("xflip"), x.flip(3), atol=1e-4)  # u = 0.75: floor(2u) = 1, a flip
    assert torch.allclose(one("rotate90"), torch.rot90(x, 3, (2, 3)), atol=1e-3)  # floor(4u) = 3 quarter turns
    # integer translation (2u - 1) / 8 of the side = 1 pixel right and down; the border reflects
    assert torch.allclose(one("xint")[..., 1:, 1:], x[..., :-1, :-1], atol=1e-3)
    # fractional translation N(0, 0.125^2) at z = 1: 0.125 of the side, 2 pixels
    assert torch.allclose(one("xfrac")[..., 2:, 2:], x[..., :-2, :-2], atol=1e-3)
    # arbitrary rotation (2u - 1) pi = a quarter turn, before and after the anisotropic scaling: a half turn
    assert torch.allclose(one("rotate"), x.flip(2).flip(3), atol=1e-3)
    columns, rows = ramps()
    s = 2**0.2  # 2^N(0, 0.2^2) at z = 1
    scaled = fixed_draws(ADA(transforms=["scale"], p=1.0, adapt=False))
    assert torch.allclose(scaled(columns)[0], columns / s, atol=1e-4)  # a zoom about the centre by s
    assert torch.allclose(scaled(rows)[0], rows / s, atol=1e-4)
    aniso = fixed_draws(ADA(transforms=["aniso"], p=1.0, adapt=False))
    assert torch.allclose(aniso(columns)[0], columns / s, atol=1e-4)  # wider by s, shorter by s
    inner = slice(4, 12)  # rows whose source, s times further from the centre, is inside the image
    assert torch.allclose(aniso(rows)[0][..., inner, :], rows[..., inner, :] * s, atol=1e-4)


def test_each_ada_colour_transform_against_a_hand_computed_case():
    rgb = torch.tensor([0.5, -0.1, 0.2]).view(1, 3, 1, 1)  # mean 0.2
    grey = torch.tensor([[0.5, -0.25]]).view(1, 1, 1, 2)
    one = lambda transform, x: fixed_draws(ADA(transforms=[transform], p=1.0, adapt=False))(x)[0]  # noqa: E731
    assert torch.allclose(one("brightness", grey), grey + 0.2)  # + N(0, 0.2^2) at z = 1
    assert torch.allclose(one("contrast", rgb), rgb * 2**0.5)  # x 2^N(0, 0.5^2) at z = 1
    assert torch.allclose(one("lumaflip", rgb).flatten(), torch.tensor([0.1, -0.5, -0.2]))  # x - 2 mean
    assert torch.allclose(one("saturation", rgb).flatten(), torch.tensor([0.8, -0.4, 0.2]))  # mean + 2 (x - mean)
    # hue: (2u - 1) pi = a quarter turn about the grey axis; (1, -1, 0) goes to (1, 1, -2) / sqrt(3)
    turned = one("hue", torch.tensor([1.0, -1.0, 0.0]).view(1, 3, 1, 1)).flatten()
    assert torch.allclose(turned, torch.tensor([1.0, 1.0, -2.0]) / math.sqrt(3), atol=1e-6)
    assert torch.equal(one("hue", grey), grey) and torch.equal(one("saturation", grey), grey)  # RGB only


def test_ada_at_p_zero_leaves_the_images_and_at_p_one_changes_every_one():
    torch.manual_seed(2)
    x = torch.rand(32, 3, 12, 12) * 2 - 1
    same, _ = ADA(p=0.0, adapt=False)(x)
    assert torch.allclose(same, x, atol=1e-5)
    changed, _ = ADA(p=1.0, adapt=False, transforms=["xflip", "rotate90", "brightness", "contrast"])(x)
    assert not torch.isclose(changed, x, atol=1e-3).flatten(1).all(1).any()


@pytest.mark.parametrize("transform", ["xflip", "rotate90", "xint", "scale", "rotate", "aniso", "xfrac",
                                       "brightness", "contrast", "lumaflip", "hue", "saturation"])  # fmt: skip
def test_gradients_flow_through_every_ada_transform_twice(transform):
    """Twice: a gradient penalty differentiates D's gradient, which passes through the transform."""
    torch.manual_seed(3)
    ada = ADA(transforms=[transform], p=1.0, adapt=False)
    conv = nn.Conv2d(3, 1, 3)
    x = torch.randn(4, 3, 8, 8, requires_grad=True)
    out, _ = ada(x)
    (grad,) = torch.autograd.grad(conv(out).pow(2).sum(), x, create_graph=True)
    assert torch.isfinite(grad).all() and grad.abs().sum() > 0
    grad.pow(2).sum().backward()
    assert conv.weight.grad is not None and torch.isfinite(conv.weight.grad).all()


# --------------------------------------------------------------------------- ADA's p


def test_ada_p_moves_by_the_images_seen_in_the_direction_of_r_t():
    ada = ADA(p=0.5, interval=4, speed=1000, target=0.6)
    for _ in range(3):
        ada.observe(torch.tensor(1.0), 50)
    assert float(ada.p) == 0.5  # not yet: every 4 updates
    ada.observe(torch.tensor(1.0), 50)
    assert float(ada.p) == pytest.approx(0.7) and float(ada.rt) == 1.0  # + 200 images / 1000
    for _ in range(4):
        ada.observe(torch.tensor(0.2), 50)
    assert float(ada.p) == pytest.approx(0.5) and float(ada.rt) == pytest.approx(0.2)
    for _ in range(40):
        ada.observe(torch.tensor(-1.0), 50)
    assert float(ada.p) == 0.0  # never below 0 (nor above 1)


class ToyArchitecture(ganzoo.Architecture):
    """G: a linear map to 1x8x8 images; D: a constant logit (sure or unsure of everything)."""

    name = "toy_constant"

    class Options(ganzoo.Options):
        verdict: float = 0.0

    def build_generator(self, data):
        class Linear(nn.Module):
            def __init__(self):
                super().__init__()
                self.map = nn.Linear(4, 64)

            def forward(self, z, labels=None):
                return self.map(z).view(-1, 1, 8, 8)

        return Linear()

    def build_discriminator(self, data):
        verdict = self.options.verdict

        class Constant(nn.Module):
            def __init__(self):
                super().__init__()
                self.bias = nn.Parameter(torch.zeros(()))

            def forward(self, x, labels=None):
                return torch.sigmoid(x.mean(dim=(1, 2, 3)) * 0 + verdict + self.bias * 0)

        return Constant()

    def sample_latent(self, n, *, device, generator=None):
        return torch.randn(n, 4, device=device, generator=generator)


@pytest.mark.parametrize("verdict, direction", [(5.0, 1), (-5.0, -1)])
def test_ada_p_rises_when_d_is_sure_of_the_reals_and_falls_when_it_is_not(verdict, direction):
    from ganzoo_vanilla.losses import BCELoss

    architecture = ToyArchitecture(verdict=verdict)
    generator, discriminator = architecture.build_generator(None), architecture.build_discriminator(None)
    ada = ADA(p=0.5, interval=2, speed=640)
    step = TrainingStep(
        generator=generator,
        discriminator=discriminator,
        architecture=architecture,
        loss=BCELoss(),
        g_optimizer=torch.optim.SGD(generator.parameters(), lr=0.0),
        d_optimizer=torch.optim.SGD(discriminator.parameters(), lr=0.0),
        device=torch.device("cpu"),
        augment=ada,
    )
    batch = (torch.rand(16, 1, 8, 8) * 2 - 1, None)
    for i in range(8):
        step([batch], i)
    # 4 adjustments of 2 updates x 16 images each, over 640 images: 0.05 each
    assert float(ada.p) == pytest.approx(0.5 + direction * 0.2)
    assert float(ada.rt) == (1.0 if direction > 0 else -1.0)
    means = step.window.close()
    assert means is not None and {"ada_p", "ada_rt"} <= set(means)


# --------------------------------------------------------------------------- composition


class Recorder(nn.Module):
    """A D that remembers what it was called with."""

    def __init__(self):
        super().__init__()
        self.calls: list = []

    def forward(self, x, labels=None):
        self.calls.append((x, labels))
        return x.mean(dim=(1, 2, 3))


@pytest.mark.parametrize("augment", [DiffAugment(), ADA(p=1.0, adapt=False)], ids=["diffaugment", "ada"])
def test_an_image_condition_takes_the_same_transform_and_labels_pass_unchanged(augment):
    torch.manual_seed(4)
    recorder = Recorder()
    wrapped = AugmentedDiscriminator(recorder, augment)
    x = torch.rand(8, 1, 12, 12) * 2 - 1
    wrapped(x, x.clone())  # paired data whose condition is its image: they must stay equal
    seen, condition = recorder.calls[-1]
    assert not torch.allclose(seen, x) and torch.allclose(seen, condition)
    labels = torch.arange(8)
    wrapped(x, labels)
    assert recorder.calls[-1][1] is labels


def test_data_parallel_ranks_draw_their_share_of_the_global_batch():
    augment = DiffAugment()
    torch.manual_seed(5)
    whole = augment.uniform(6, 2, device=torch.device("cpu"))
    shares = []
    for rank in range(2):
        torch.manual_seed(5)  # every rank holds the same random stream
        augment.shard = (rank, 2)
        shares.append(augment.uniform(3, 2, device=torch.device("cpu")))
    assert torch.equal(torch.cat(shares), whole)


@pytest.mark.parametrize(
    "recipe, overrides",
    [
        ("wgan_gp_mnist.yaml", ["augment.name=diffaugment"]),  # the penalty's points go through the transform
        ("dcgan_mnist.yaml", ["augment.name=ada", "augment.p=0.5", "loss.r1_gamma=1.0"]),  # R1 through ADA
        ("dragan_mnist.yaml", ["augment.name=ada", "augment.p=0.5"]),
        ("acgan_mnist.yaml", ["augment.name=diffaugment"]),  # class labels, D with two heads
    ],
)
def test_augmentation_trains_with_gradient_penalties_and_class_conditions(digits, tmp_path, capsys, recipe, overrides):
    assert main(tiny_run(digits, tmp_path, "train.max_steps=4", *overrides, recipe=recipe)) == 0, (
        capsys.readouterr().err
    )
    rows = [row for row in metrics(run_folder(capsys.readouterr().out)) if "d_loss" in row]
    assert rows and all(math.isfinite(value) for row in rows for value in row.values())
    if "loss.r1_gamma=1.0" in overrides:
        assert all(row["r1"] > 0 for row in rows) and all(row["ada_p"] > 0 for row in rows)


def test_augmentation_trains_pix2pix_pairs_and_pacgan_packs(digits, tmp_path, capsys):
    pix2pix = [
        "run",
        str(REPO / "recipes" / "pix2pix_mnist_edges.yaml"),
        f"data.root={digits}",
        "train.batch_size=8",
        "train.max_steps=3",
        "model.width=8",
        "model.d_width=8",
        "augment.name=ada",
        "augment.p=0.3",
        "augment.interval=1",  # adjusted after every update: r_t is D's verdict on the patches of real pairs
        "device=cpu",
        *small_run(tmp_path),
    ]
    assert main(pix2pix) == 0, capsys.readouterr().err
    rows = metrics(run_folder(capsys.readouterr().out))
    assert -1 <= rows[-1]["ada_rt"] <= 1 and rows[-1]["ada_rt"] != 0 and rows[-1]["ada_p"] != pytest.approx(0.3)
    assert math.isfinite(rows[-1]["l1"])
    pac = tiny_run(
        digits,
        tmp_path,
        "train.max_steps=3",
        "augment.name=diffaugment",
        "train.drop_last=true",
        "data.size=64",
        recipe="pacdcgan2_stacked.yaml",
        width="model.base.width",
    )
    assert main(pac) == 0, capsys.readouterr().err
    assert all(math.isfinite(row["d_loss"]) for row in metrics(run_folder(capsys.readouterr().out)) if "d_loss" in row)


# --------------------------------------------------------------------------- resume, refusals, plugins


def test_resume_with_ada_is_bitwise(digits, tmp_path, capsys):
    common = ["augment.name=ada", "augment.p=0.5", "augment.speed=2000", "augment.interval=2", "checkpoint.every=5"]
    assert main(tiny_run(digits, tmp_path, "run.name=whole", "train.max_steps=10", *common)) == 0
    assert main(tiny_run(digits, tmp_path, "run.name=half", "train.max_steps=5", *common)) == 0
    half = tmp_path / "half"
    saved = torch.load(half / "checkpoints" / "step_0000005.pt", weights_only=True)["trainer"]["augment"]
    assert float(saved["p"]) != 0.5  # p has moved: the checkpoint holds where it stands
    assert main(["run", "--resume", str(half), "train.max_steps=10", "--no-progress"]) == 0
    capsys.readouterr()
    whole, resumed = weights(tmp_path / "whole"), weights(half)
    for network in ("generator", "discriminator"):
        for key, value in whole[network].items():
            assert torch.equal(resumed[network][key], value), (network, key)
    assert metrics(half) == metrics(tmp_path / "whole")


@pytest.mark.parametrize(
    "overrides, key, reason",
    [
        (
            ["augment.name=ada"],
            "augment.name",
            "ada adapts to D's verdict on the real images, and the loss wgan_gp does not report it",
        ),
        (["augment.name=diffaugment", "augment.policy=color,zoom"], "augment.policy", "expected a comma-separated"),
    ],
)
def test_check_refuses_what_cannot_compose_in_one_line(digits, capsys, overrides, key, reason):
    recipe = str(REPO / "recipes" / "wgan_gp_mnist.yaml")
    line = problem_line(capsys, main(["check", recipe, f"data.root={digits}", *overrides]))
    assert f"{key}: " in line and reason in line


@pytest.mark.parametrize("name", ["diffaugment", "ada"])
def test_check_refuses_a_population_with_augmentation_in_one_line(digits, capsys, name):
    vanilla = str(REPO / "recipes" / "vanilla_mnist.yaml")  # its networks and loss can be stacked
    line = problem_line(
        capsys, main(["check", vanilla, f"data.root={digits}", "train.population=2", f"augment.name={name}"])
    )
    assert f"train.population: augment {name!r} cannot join a population: " in line
    assert main(["check", vanilla, f"data.root={digits}", "train.population=2"]) == 0  # none joins one


def test_check_refuses_augmenting_an_autoencoder_ds_input(digits, capsys):
    """Its loss compares D's reconstruction with the image before the augmentation."""
    began = str(REPO / "recipes" / "began_mnist.yaml")
    line = problem_line(capsys, main(["check", began, f"data.root={digits}", "augment.name=diffaugment"]))
    assert "augment.name: diffaugment cannot augment the input of an autoencoder D: the loss compares" in line


def test_check_refuses_augmenting_points(capsys):
    line = problem_line(capsys, main(["check", str(REPO / "recipes" / "toy_ring.yaml"), "augment.name=diffaugment"]))
    assert "augment.name: diffaugment takes images, not 2-D points" in line


def test_ada_with_a_fixed_p_trains_with_a_critic(digits, tmp_path, capsys):
    fixed = ["augment.name=ada", "augment.adapt=false", "augment.p=0.4", "train.max_steps=2", "train.d_steps=1"]
    assert main(tiny_run(digits, tmp_path, *fixed, recipe="wgan_gp_mnist.yaml")) == 0, capsys.readouterr().err
    rows = metrics(run_folder(capsys.readouterr().out))
    logged = [row["ada_p"] for row in rows if "ada_p" in row]
    assert logged and all(p == pytest.approx(0.4) for p in logged) and "ada_rt" not in rows[-1]


class Invert(ganzoo.Augment):
    """Negates every image D sees (a third party's augmentation)."""

    name = "invert"
    capturable = True
    calls = 0

    def forward(self, images, condition=None):
        type(self).calls += 1
        return -images, None if condition is None else -condition


def test_hook_register_augmentations(digits, tmp_path, capsys):
    import ganzoo_classic
    import ganzoo_datasets
    import ganzoo_vanilla

    plugin = type(ganzoo)("invert_plugin")
    plugin.register_augmentations = ganzoo.hookimpl(lambda register: register(Invert))
    registry = Registry.from_plugin_manager(
        make_plugin_manager(
            {"invert": plugin, "classic": ganzoo_classic, "vanilla": ganzoo_vanilla, "datasets": ganzoo_datasets},
            entry_points=False,
        )  # fmt: skip
    )
    assert registry.entry("augmentation", "invert").plugin == "invert"
    assert registry.names("augmentation") == ["invert", "none"]
    recipe = write_recipe(
        tmp_path / "inverted.yaml",
        {"extends": str(DCGAN), "augment": {"name": "invert"}, "data": {"root": str(digits)}, "model": {"width": 8}},
    )
    run = testing.short_run(recipe, registry, tmp_path, ["device=cpu", "train.batch_size=16"], steps=2)
    assert Invert.calls == 2 * 3  # D on reals and fakes in its update, on fakes in G's: two steps
    assert yaml.safe_load((run.folder / "recipe.yaml").read_text())["augment"] == {"name": "invert"}


def test_ganzoo_plugins_lists_the_augmentations(capsys):
    assert main(["plugins", "--json"]) == 0
    components = json.loads(capsys.readouterr().out)["components"]
    augmentations = {row["name"]: row["plugin"] for row in components if row["kind"] == "augmentation"}
    assert augmentations == {"none": "ganzoo", "diffaugment": "augment", "ada": "augment"}
