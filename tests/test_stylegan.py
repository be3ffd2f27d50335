"""StyleGAN2 (plugins/ganzoo_stylegan): each component against a hand-computed or
autograd-computed value, and the recipes through the command a user runs. Networks are tiny
(8-16 feature maps) and runs a few steps, so that every test takes seconds."""

from __future__ import annotations

import math
from pathlib import Path

import numpy
import pytest
import torch
import torch.nn.functional as F

import ganzoo
import ganzoo_augment
import ganzoo_datasets
import ganzoo_stabilizers
import ganzoo_stylegan
from conftest import REPO, metrics, one_line, run_folder, small_run, weights, write_idx_mnist
from ganzoo import testing
from ganzoo.cli import main
from ganzoo_stylegan.layers import EqualConv2d, EqualLinear, MinibatchStd, ModulatedConv2d, Resample
from ganzoo_stylegan.loss import StyleGAN2Loss, path_lengths, r1_penalties

TINY = {
    "latent_dim": 8,
    "w_dim": 8,
    "mapping_layers": 2,
    "channel_base": 256,
    "channel_max": 8,
}
TINY_OVERRIDES = [f"model.{key}={value}" for key, value in TINY.items()]


def tiny(**options) -> ganzoo_stylegan.StyleGAN2:
    return ganzoo_stylegan.StyleGAN2(**{**TINY, **options})


def info(shape=(1, 32, 32)) -> ganzoo.DataInfo:
    return ganzoo.DataInfo(shape)


@pytest.fixture(scope="module")
def digits(tmp_path_factory) -> Path:
    return write_idx_mnist(tmp_path_factory.mktemp("digits"), n_train=128, n_test=32)


@pytest.fixture
def stylegan_registry():
    return testing.registry(
        {
            "stylegan": ganzoo_stylegan,
            "stabilizers": ganzoo_stabilizers,
            "datasets": ganzoo_datasets,
            "augment": ganzoo_augment,
        }
    )


# --------------------------------------------------------------------------- layers


def test_modulation_and_demodulation_match_a_hand_computed_case():
    """Two input channels, one output, a 1x1 kernel: effective weights (3, 4), styles (2, 0.5).
    Modulated weights are (6, 2); demodulation divides by sqrt(6² + 2²) = sqrt(40)."""
    conv = ModulatedConv2d(2, 1, 1, w_dim=3)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([3.0, 4.0]).view(1, 2, 1, 1) / conv.gain)
        conv.affine.weight.zero_()  # the styles are the affine layer's bias, whatever w is
        conv.affine.bias.copy_(torch.tensor([2.0, 0.5]))
    x = torch.tensor([1.0, 1.0]).view(1, 2, 1, 1)
    w = torch.randn(1, 3)
    assert conv(x, w).item() == pytest.approx(8 / math.sqrt(40 + 1e-8), rel=1e-6)
    conv.demodulate = False
    assert conv(x, w).item() == pytest.approx(8.0, rel=1e-6)


def test_demodulation_gives_each_sample_its_own_weights():
    """The batched form (scale the input, convolve, scale the output) equals a convolution
    with each sample's modulated and demodulated weights."""
    conv = ModulatedConv2d(3, 4, 3, w_dim=5)
    x, w = torch.randn(2, 3, 6, 6), torch.randn(2, 5)
    styles = conv.affine(w)
    expected = []
    for i in range(2):
        weight = conv.weight * conv.gain * styles[i].view(1, 3, 1, 1)
        weight = weight / weight.square().sum(dim=(1, 2, 3), keepdim=True).add(1e-8).sqrt()
        expected.append(F.conv2d(x[i : i + 1], weight, padding=1))
    torch.testing.assert_close(conv(x, w), torch.cat(expected))


def test_equalised_learning_rate_scales_the_stored_weights_at_run_time():
    """Weights are stored as N(0, 1) and multiplied by He's 1/sqrt(fan_in) in every call."""
    conv = EqualConv2d(32, 64, 3)
    assert conv.weight.std().item() == pytest.approx(1.0, abs=0.05)
    assert conv.gain == 1 / math.sqrt(32 * 9)
    x = torch.randn(2, 32, 5, 5)
    torch.testing.assert_close(conv(x), F.conv2d(x, conv.weight / math.sqrt(32 * 9), conv.bias, padding=1))
    linear = EqualLinear(50, 7, bias_init=1.0)
    z = torch.randn(3, 50)
    torch.testing.assert_close(linear(z), z @ (linear.weight / math.sqrt(50)).t() + 1.0)


def test_binomial_resampling_is_bilinear_inside_the_image():
    image = torch.randn(1, 2, 8, 8)
    up = Resample(up=True)(image)
    bilinear = F.interpolate(image, scale_factor=2, mode="bilinear", align_corners=False)
    assert up.shape == (1, 2, 16, 16)
    torch.testing.assert_close(up[..., 1:-1, 1:-1], bilinear[..., 1:-1, 1:-1])
    flat = torch.ones(1, 1, 8, 8)
    down = Resample(up=False)(flat)
    assert down.shape == (1, 1, 4, 4)
    torch.testing.assert_close(down[..., 1:-1, 1:-1], torch.ones(1, 1, 2, 2))  # a flat image stays flat


def test_minibatch_standard_deviation_appends_the_mean_deviation_per_group():
    x = torch.randn(6, 4, 2, 2)
    out = MinibatchStd(group_size=4)(x)  # 6 samples: groups of 3 (the largest divisor up to 4)
    assert out.shape == (6, 5, 2, 2)
    groups = x.reshape(3, 2, 4, 2, 2)  # samples i and i + 2 and i + 4 form group i % 2
    expected = groups.std(dim=0, unbiased=False).mean(dim=(1, 2, 3))
    torch.testing.assert_close(out[:2, 4, 0, 0], expected, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(out[4:, 4, 0, 0], expected, rtol=1e-4, atol=1e-5)


# --------------------------------------------------------------------------- networks


@pytest.mark.parametrize("shape", [(1, 28, 28), (1, 32, 32), (3, 64, 64)])
def test_grey_and_colour_images_at_the_data_side(shape):
    architecture = tiny()
    generator, discriminator = architecture.build_generator(info(shape)), architecture.build_discriminator(info(shape))
    images = generator(torch.randn(4, 8))
    assert images.shape == (4, *shape)
    assert discriminator(images).shape == (4, 1)
    resolution = max(32, shape[1] if shape[1] & (shape[1] - 1) == 0 else 32)
    assert generator.synthesis(generator.styles(torch.randn(2, 8))).shape[-1] == resolution
    assert generator.num_ws == 2 * int(math.log2(resolution)) - 2


def test_data_the_networks_cannot_take_is_refused_in_one_line(stylegan_registry, tmp_path):
    with pytest.raises(ganzoo.GanzooError, match=r"stylegan2 needs square images from 16x16 to 256x256"):
        tiny().build_generator(info((3, 512, 512)))
    with pytest.raises(ganzoo.RecipeError) as error:
        testing.load_recipe(
            REPO / "recipes" / "stylegan2_folder.yaml",
            stylegan_registry,
            [f"data.root={tmp_path}", "data.image_size=512"],
        )
    assert [p.message for p in error.value.problems] == [
        "stylegan2 needs images of at most 256x256, not 3x512x512 images"
    ]


def test_the_mapping_network_learns_at_a_hundredth_of_the_rate():
    architecture = tiny()
    generator = architecture.build_generator(info())
    optimizer = testing.optimizer("generator", generator, architecture, lr=2.5e-3)
    assert [group["lr"] for group in optimizer.param_groups] == pytest.approx([2.5e-3, 2.5e-5])
    assert {id(p) for p in optimizer.param_groups[1]["params"]} == {id(p) for p in generator.mapping.parameters()}
    discriminator = architecture.build_discriminator(info())
    assert len(testing.optimizer("discriminator", discriminator, architecture).param_groups) == 1


def test_style_mixing_regularisation():
    """With probability 1, the ws of the layers before a crossover come from z, the rest from
    a second latent; with 0, never; with 0.9, in about 9 batches of 10."""
    torch.manual_seed(0)
    z = torch.randn(3, 8)
    generator = tiny(mixing_probability=1.0).build_generator(info()).train()
    own = generator.mapping(z)
    ws = generator.styles(z)
    same = torch.isclose(ws, own.unsqueeze(1).expand_as(ws)).all(dim=2).all(dim=0)
    crossover = int(same.logical_not().nonzero()[0])
    assert 1 <= crossover < generator.num_ws
    assert same[:crossover].all() and not same[crossover:].any()
    assert torch.equal(ws[:, crossover:], ws[:, -1:].expand_as(ws[:, crossover:]))  # one other latent

    never = tiny(mixing_probability=0.0).build_generator(info()).train()
    ws = never.styles(z)
    assert torch.equal(ws, never.mapping(z).unsqueeze(1).expand_as(ws))

    often = tiny(mixing_probability=0.9).build_generator(info()).train()
    mixed = [not torch.equal(ws[:, 0], ws[:, -1]) for ws in (often.styles(z) for _ in range(400))]
    assert 0.85 < sum(mixed) / len(mixed) < 0.95


def test_w_avg_follows_the_mean_w_in_training_only():
    generator = tiny().build_generator(info())
    z = torch.randn(5, 8)
    generator.train()
    w = generator.mapping(z).detach()
    generator.styles(z)
    torch.testing.assert_close(generator.mapping.w_avg, w.mean(dim=0) * (1 - 0.995))
    before = generator.mapping.w_avg.clone()
    generator.eval()(z)
    assert torch.equal(generator.mapping.w_avg, before)


def test_truncation_at_zero_gives_the_average_w():
    generator = tiny().build_generator(info()).eval()
    generator.mapping.w_avg.copy_(torch.randn(8))
    images, ws = generator(torch.randn(4, 8), truncation=0.0, return_styles=True)
    torch.testing.assert_close(ws, generator.mapping.w_avg.expand_as(ws))
    assert torch.equal(images[0], images[3])  # eval mode: fixed noise, so one image for one w
    _, half = generator(torch.randn(4, 8), truncation=0.5, return_styles=True)
    _, full = generator(torch.randn(4, 8), return_styles=True)
    assert not torch.allclose(half, full)


# --------------------------------------------------------------------------- the loss


def test_r1_penalty_matches_the_autograd_jacobian():
    torch.manual_seed(0)
    discriminator = tiny().build_discriminator(info())
    real = torch.randn(4, 1, 32, 32)
    jacobian = torch.autograd.functional.jacobian(lambda x: discriminator(x).sum(dim=1), real)  # (4, 4, 1, 32, 32)
    expected = jacobian.sum(dim=0).flatten(1).square().sum(dim=1)  # gradient of the summed logits
    torch.testing.assert_close(r1_penalties(discriminator, real, None), expected, rtol=1e-4, atol=1e-7)


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:FutureWarning")  # torch's forward mode, inside
def test_path_length_matches_the_autograd_jacobian():
    torch.manual_seed(0)
    generator = tiny().build_generator(info((1, 28, 28))).eval()
    ws = generator.styles(torch.randn(2, 8)).detach().clone().requires_grad_(True)
    noise = torch.randn(2, 1, 28, 28) / math.sqrt(28 * 28)

    def render(styles):
        return generator.crop(generator.synthesis(styles))

    # Forward mode: one pass per input (2 x L x 8) rather than per pixel.
    jacobian = torch.autograd.functional.jacobian(render, ws, vectorize=True, strategy="forward-mode")
    grads = torch.einsum("bchw,bchwnlk->nlk", noise, jacobian)  # J^T y, per sample n
    expected = grads.square().sum(dim=2).mean(dim=1).sqrt()
    torch.testing.assert_close(path_lengths(render(ws), ws, noise), expected, rtol=1e-4, atol=1e-7)


def test_lazy_penalties_are_scaled_by_their_interval():
    torch.manual_seed(0)
    loss = StyleGAN2Loss(r1_gamma=3.0, r1_every=16, pl_weight=2.0, pl_every=4, pl_decay=0.25, pl_batch_shrink=4)
    assert loss.extra_passes() == (
        ganzoo.ExtraPass("r1", "discriminator", 16, adjust_optimizer=True),
        ganzoo.ExtraPass("path_length", "generator", 4, adjust_optimizer=True),
    )
    ctx = testing.step_context(tiny(), testing.small_data("images", 8, shape=(1, 32, 32)), batch_size=4)
    r1 = loss.extra_loss("r1", ctx)
    penalty = r1_penalties(ctx.discriminator, ctx.real, None).mean()
    torch.testing.assert_close(r1.logs["r1"], penalty.detach())
    torch.testing.assert_close(r1.loss, penalty * 3.0 / 2 * 16)

    pl = loss.extra_loss("path_length", ctx)  # one latent (4 / 4): its length is the logged mean
    length = pl.logs["path_length"]
    torch.testing.assert_close(loss.pl_mean, 0.25 * length)  # from 0, decay 0.25
    torch.testing.assert_close(pl.loss, (0.75 * length) ** 2 * 2.0 * 4)
    assert StyleGAN2Loss(r1_gamma=0.0, pl_weight=0.0).extra_passes() == ()


def test_the_path_length_penalty_refuses_a_generator_without_styles():
    import ganzoo_classic

    ctx = testing.step_context(ganzoo_classic.DCGAN(width=8), testing.small_data("images", 8, shape=(1, 32, 32)))
    with pytest.raises(ganzoo.GanzooError, match="needs a style-based generator .*set loss.pl_weight: 0"):
        StyleGAN2Loss().extra_loss("path_length", ctx)


def test_check_refuses_a_population_saying_why_for_the_model_and_the_loss(capsys, digits):
    """StyleGAN2 is not stackable: its G draws noise and mixing numbers inside the networks,
    and the batched step runs no lazy passes. ``ganzoo check`` says so, a line each."""
    recipe = str(REPO / "recipes" / "stylegan2_mnist.yaml")
    assert main(["check", recipe, f"data.root={digits}", "train.population=2"]) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("command line:")]
    assert lines == [
        "command line: train.population: model 'stylegan2' cannot join a population: its generator draws noise "
        "and style-mixing numbers inside the networks and moves w_avg in place, which a population's batched "
        "step (torch.func.vmap) cannot do",
        "command line: train.population: loss 'stylegan2' cannot join a population: a population's batched step "
        "runs no lazy R1 or path-length passes (extra passes on some updates)",
    ]


# --------------------------------------------------------------------------- through the command


def stylegan_run(tmp_path: Path, capsys, digits: Path, *overrides: str, recipe: str = "stylegan2_mnist") -> Path:
    args = [
        "run",
        str(REPO / "recipes" / f"{recipe}.yaml"),
        *small_run(tmp_path / "runs"),
        f"data.root={digits}",
        *TINY_OVERRIDES,
        "train.log_every=1",
        "train.batch_size=8",
        "train.num_samples=4",
        *overrides,
    ]
    assert main(args) == 0, capsys.readouterr().err
    captured = capsys.readouterr()
    assert "runs extra passes on some steps only (r1 every" in captured.err  # auto's one line
    return run_folder(captured.out)


def test_the_mnist_recipe_applies_the_lazy_passes_on_their_steps(tmp_path, capsys, digits):
    folder = stylegan_run(
        tmp_path, capsys, digits, "train.max_steps=7", "loss.r1_every=3", "loss.pl_every=2", "checkpoint.every=100"
    )
    rows = metrics(folder)
    assert [row["step"] for row in rows if "r1" in row] == [1, 4, 7]
    assert [row["step"] for row in rows if "path_length" in row] == [1, 3, 5, 7]
    saved = weights(folder)
    assert saved["generator_source"] == "ema"  # the recipe's EMA of G is what is sampled
    assert float(saved["loss"]["pl_mean"]) > 0


def test_a_resumed_run_ends_bitwise_where_an_uninterrupted_one_ends(tmp_path, capsys, digits):
    common = ["loss.r1_every=2", "loss.pl_every=3", "checkpoint.every=3"]
    whole = stylegan_run(tmp_path, capsys, digits, "train.max_steps=6", "run.name=whole", *common)
    part = stylegan_run(tmp_path, capsys, digits, "train.max_steps=3", "run.name=part", *common)
    assert main(["run", "--resume", str(part), "train.max_steps=6", "--no-progress"]) == 0
    assert metrics(part) == metrics(whole)
    ours, theirs = weights(part), weights(whole)
    for section in ("generator", "trained_generator", "discriminator", "loss"):  # generator: the EMA
        assert all(torch.equal(ours[section][k], theirs[section][k]) for k in theirs[section]), section


def test_sample_with_truncation_zero_draws_the_average_image(tmp_path, capsys, digits):
    folder = stylegan_run(tmp_path, capsys, digits, "train.max_steps=2")
    out = tmp_path / "average.npz"
    assert main(["sample", str(folder), "--n", "4", "--truncation", "0", "--out", str(out)]) == 0
    assert "truncation 0.0" in capsys.readouterr().out
    images = numpy.load(out)["images"]
    assert images.shape == (4, 28, 28) and all(numpy.array_equal(images[0], image) for image in images)
    plain = tmp_path / "plain.npz"
    assert main(["sample", str(folder), "--n", "4", "--out", str(plain)]) == 0
    assert not numpy.array_equal(numpy.load(plain)["images"][0], numpy.load(plain)["images"][1])
    status = main(["sample", str(folder), "--n", "4", "--truncation", "1.5"])
    assert one_line(capsys, status) == "ganzoo: error: truncation: Input should be less than or equal to 1 (got 1.5)"


def test_the_stacked_recipe_trains_on_three_digit_channels(tmp_path, capsys, digits):
    folder = stylegan_run(tmp_path, capsys, digits, "train.max_steps=2", "data.size=64", recipe="stylegan2_stacked")
    assert weights(folder)["data_info"]["shape"] == [3, 28, 28]


def test_the_folder_recipe_trains_with_ada_on_a_folder_of_colour_images(tmp_path, capsys, digits):
    """The user's recipe: ``ganzoo check`` accepts it as it is (ADA on), and it trains on a
    folder of a few images, ADA hearing D's verdict on the real ones (``ada_p`` logged)."""
    from PIL import Image

    images = tmp_path / "images"
    images.mkdir()
    generator = numpy.random.default_rng(0)
    for i in range(16):
        Image.fromarray(generator.integers(0, 256, (40, 48, 3), dtype=numpy.uint8)).save(images / f"{i}.png")
    recipe = str(REPO / "recipes" / "stylegan2_folder.yaml")
    assert main(["check", recipe, f"data.root={images}"]) == 0, capsys.readouterr().err
    assert "stylegan2_folder.yaml: ok" in capsys.readouterr().out
    folder = stylegan_run(
        tmp_path,
        capsys,
        digits,
        "train.max_steps=2",
        f"data.root={images}",
        "data.image_size=32",
        "augment.p=0.5",  # every transform drawn with probability 0.5 from the first step
        recipe="stylegan2_folder",
    )
    assert weights(folder)["data_info"]["shape"] == [3, 32, 32]
    rows = metrics(folder)
    assert [row["step"] for row in rows if "ada_p" in row] == [1, 2]
    assert [row["ada_p"] for row in rows if "ada_p" in row] == [0.5, 0.5]  # first adjusted after 4 D updates


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_on_cuda_auto_trains_eagerly_saying_why_and_on_is_refused(tmp_path, capsys, digits):
    args = [
        "run",
        str(REPO / "recipes" / "stylegan2_mnist.yaml"),
        *small_run(tmp_path / "runs"),
        f"data.root={digits}",
        *TINY_OVERRIDES,
        "device=cuda",
        "train.max_steps=3",
        "train.batch_size=8",
    ]
    assert main(args) == 0
    err = capsys.readouterr().err
    (line,) = [line for line in err.splitlines() if "train.cuda_graph=auto" in line]
    assert "runs extra passes on some steps only" in line and "the device is" not in line
    assert main([*args, "train.cuda_graph=on"]) == 2
    assert "train.cuda_graph: on, but loss 'stylegan2' cannot be captured" in capsys.readouterr().err
