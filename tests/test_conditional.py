"""The conditional plugin (`plugins/ganzoo_conditional`): CGAN and ACGAN recipes train,
`ganzoo sample --class K` conditions every sample on K, and the ACGAN loss matches a
computation by hand."""

from __future__ import annotations

import json
import math

import numpy
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import ganzoo
from conftest import REPO, small_run
from ganzoo.cli import main
from ganzoo_conditional.losses import ACGANLoss
from ganzoo_conditional.models import ACGAN, CGAN


@pytest.fixture(scope="module", params=["cgan", "acgan"])
def conditional_run(request, digits, tmp_path_factory):
    runs = tmp_path_factory.mktemp(f"{request.param}-runs")
    assert (
        main(
            [
                "run",
                str(REPO / "recipes" / f"{request.param}_mnist.yaml"),
                f"data.root={digits}",
                "train.max_steps=3",
                "train.batch_size=16",
                *small_run(runs),
                *(["model.width=8"] if request.param == "acgan" else []),
            ]
        )
        == 0
    )
    return request.param, next(runs.iterdir())


def test_conditional_recipes_train_and_check(conditional_run):
    variant, folder = conditional_run
    assert main(["check", f"recipes/{variant}_fashion.yaml"]) == 0
    rows = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    assert rows and all(math.isfinite(v) for row in rows for v in row.values())
    if variant == "acgan":
        assert "class_accuracy" in rows[-1]


def test_sample_class_conditions_every_sample_on_that_class(conditional_run, tmp_path):
    variant, folder = conditional_run
    seven, three = tmp_path / "seven.npz", tmp_path / "three.npz"
    assert main(["sample", str(folder), "--n", "12", "--class", "7", "--out", str(seven)]) == 0
    assert main(["sample", str(folder), "--n", "12", "--class", "3", "--out", str(three)]) == 0
    drawn = numpy.load(seven)
    assert drawn["labels"].tolist() == [7] * 12

    # The same images, computed independently: G(z, 7) from weights.pt with the seed-0 latents.
    architecture = CGAN() if variant == "cgan" else ACGAN(width=8)
    generator = architecture.build_generator(ganzoo.DataInfo(shape=(1, 28, 28), num_classes=10))
    generator.load_state_dict(torch.load(folder / "weights.pt", weights_only=True)["generator"])
    z = architecture.sample_latent(12, device=torch.device("cpu"), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected = generator.eval()(z, torch.full((12,), 7)).add(1).mul(127.5).round().clamp(0, 255).to(torch.uint8)
    assert numpy.array_equal(drawn["images"], expected[:, 0].numpy())
    assert not numpy.array_equal(drawn["images"], numpy.load(three)["images"])  # the class changes the samples


def test_sample_class_out_of_range_is_an_error(conditional_run, capsys):
    _, folder = conditional_run
    assert main(["sample", str(folder), "--n", "4", "--class", "10"]) == 1
    assert "class 10 does not exist: the data has 10 classes" in capsys.readouterr().err


class TwoHeads(nn.Module):
    """D(x) = (x . w, x V): a source logit and 3 class logits, linear in x."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.tensor([0.5, -1.0]))
        self.v = nn.Parameter(torch.tensor([[1.0, 0.0, -1.0], [0.5, 2.0, 0.0]]))

    def forward(self, x, labels=None):
        return (x * self.w).sum(1, keepdim=True), x @ self.v


class Table(nn.Module):
    """G(z, c): a fixed point per class."""

    points = torch.tensor([[0.0, 1.0], [-2.0, 0.0], [1.0, 1.0]])

    def forward(self, z, labels=None):
        return self.points[labels]


class ThreeClasses(ganzoo.Architecture):
    name = "three"
    classes = 3

    def sample_latent(self, n, *, device, generator=None):
        return torch.zeros(n, 1)


def test_acgan_loss_by_hand():
    real, labels = torch.tensor([[1.0, 2.0], [3.0, -1.0]]), torch.tensor([2, 0])
    ctx = ganzoo.StepContext(real, labels, Table(), TwoHeads(), ThreeClasses(), 0)
    torch.manual_seed(5)
    out = ACGANLoss().discriminator_loss(ctx)
    torch.manual_seed(5)
    fake_labels = torch.randint(3, (2,))  # the loss's only draw
    fake = Table.points[fake_labels]
    d = TwoHeads()
    (src_real, cls_real), (src_fake, cls_fake) = d(real), d(fake)
    expected = (
        F.binary_cross_entropy_with_logits(src_real, torch.ones(2, 1))
        + F.binary_cross_entropy_with_logits(src_fake, torch.zeros(2, 1))
        + F.cross_entropy(cls_real, labels)
        + F.cross_entropy(cls_fake, fake_labels)
    )
    assert out.loss.item() == pytest.approx(expected.item(), rel=1e-6)
    # class logits of the real batch: [1, 5, -1] (argmax 1, label 2) and [3.5, -2, -3] (argmax 0, label 0)
    assert out.logs["class_accuracy"].item() == 0.5

    torch.manual_seed(5)
    g = ACGANLoss().generator_loss(ctx)
    src, cls = d(fake)
    expected_g = F.binary_cross_entropy_with_logits(src, torch.ones(2, 1)) + F.cross_entropy(cls, fake_labels)
    assert g.loss.item() == pytest.approx(expected_g.item(), rel=1e-6)


def test_conditional_architectures_need_labelled_data():
    with pytest.raises(ganzoo.GanzooError, match="needs labelled data"):
        CGAN().build_generator(ganzoo.DataInfo(shape=(1, 28, 28)))
