"""infoGAN (Chen et al., 2016): latent codes that G must keep recoverable from its samples.

The latent is ``[noise, one-hot categorical codes..., continuous codes]``. D has a second
head, Q, that predicts the codes from a sample; the loss adds the mutual-information lower
bound L_I (cross-entropy of each categorical code, Gaussian log-likelihood of the
continuous ones) to both updates, so that each code ends up controlling one factor of the
samples (on MNIST: the digit, its slant, its width) without any labels.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from pydantic import Field, NonNegativeFloat, NonNegativeInt, PositiveInt
from torch import nn

import ganzoo

CONTINUOUS_WALK = (-2.0, 2.0)
"""The range ``ganzoo sample --vary`` walks a continuous code over: beyond the training
range [-1, 1], as in the paper's figures, to show what the code does."""


@dataclass
class Codes:
    """A latent batch taken apart: the noise, the index of each categorical code, the
    continuous codes."""

    noise: torch.Tensor
    categorical: list[torch.Tensor]
    continuous: torch.Tensor


def _shape(data: ganzoo.DataInfo) -> tuple[int, int, int]:
    if len(data.shape) != 3 or data.shape[1] != data.shape[2] or data.shape[1] % 4:
        raise ganzoo.GanzooError(
            f"infogan needs square images whose side divides by 4, got samples of shape {data.shape}"
        )
    return data.shape


class InfoGANGenerator(nn.Module):
    """The paper's MNIST generator: FC 1024, FC 128 x s x s (both with batch norm and ReLU),
    a 4x4 transposed convolution to 64 channels (batch norm, ReLU) and one to the image (Tanh)."""

    def __init__(self, latent_dim: int, width: int, shape: tuple[int, int, int]) -> None:
        super().__init__()
        channels, side = shape[0], shape[1] // 4
        self.net = nn.Sequential(
            nn.Linear(latent_dim, 1024),
            nn.BatchNorm1d(1024),
            nn.ReLU(),
            nn.Linear(1024, 2 * width * side * side),
            nn.BatchNorm1d(2 * width * side * side),
            nn.ReLU(),
            nn.Unflatten(1, (2 * width, side, side)),
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1),
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.ConvTranspose2d(width, channels, 4, 2, 1),
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor, labels=None) -> torch.Tensor:
        return self.net(z)


class InfoGANDiscriminator(nn.Module):
    """The paper's MNIST D: 4x4 convolutions to 64 and 128 channels, FC 1024 (leaky ReLU 0.1,
    batch norm after the first layer), then two heads: D's real/fake logit, and Q (FC 128,
    batch norm, leaky ReLU, FC to the code outputs). Returns ``(logit, q)``."""

    def __init__(self, width: int, shape: tuple[int, int, int], code_outputs: int) -> None:
        super().__init__()
        channels, side = shape[0], shape[1] // 4
        self.body = nn.Sequential(
            nn.Conv2d(channels, width, 4, 2, 1),
            nn.LeakyReLU(0.1),
            nn.Conv2d(width, 2 * width, 4, 2, 1),
            nn.BatchNorm2d(2 * width),
            nn.LeakyReLU(0.1),
            nn.Flatten(),
            nn.Linear(2 * width * side * side, 1024),
            nn.BatchNorm1d(1024),
            nn.LeakyReLU(0.1),
        )
        self.source = nn.Linear(1024, 1)
        self.q = nn.Sequential(
            nn.Linear(1024, 128), nn.BatchNorm1d(128), nn.LeakyReLU(0.1), nn.Linear(128, code_outputs)
        )

    def forward(self, x: torch.Tensor, labels=None) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.body(x)
        return self.source(features), self.q(features)


class InfoGAN(ganzoo.Architecture):
    """infoGAN (Chen et al., 2016): the paper's MNIST networks; the latent holds noise, categorical and continuous codes, and D has a Q head that predicts the codes; pair with `infogan`."""

    capturable = True  # every update is device work on tensors it keeps (docs/speed.md)
    reports_real_scores = True  # the source head's logit

    name = "infogan"

    class Options(ganzoo.Options):
        noise_dim: PositiveInt = Field(62, le=100_000, description="size of the incompressible noise, N(0, 1)")
        categorical: list[PositiveInt] = Field(
            [10], description="one categorical code per entry, with that many values"
        )
        continuous: NonNegativeInt = Field(2, le=1000, description="continuous codes, each U(-1, 1)")
        width: PositiveInt = Field(
            64, le=4096, description="channels of G's last and D's first hidden layer (the paper's 64)"
        )

    options: Options

    def accepts(self) -> ganzoo.Accepts:
        return ganzoo.Accepts(kinds=("images",), square=True, min_side=4, side_multiple=4)

    def discriminator_output(self) -> str:
        return "logit+codes"

    @property
    def latent_dim(self) -> int:
        return self.options.noise_dim + sum(self.options.categorical) + self.options.continuous

    def build_generator(self, data: ganzoo.DataInfo) -> nn.Module:
        return InfoGANGenerator(self.latent_dim, self.options.width, _shape(data))

    def build_discriminator(self, data: ganzoo.DataInfo) -> nn.Module:
        outputs = sum(self.options.categorical) + self.options.continuous
        return InfoGANDiscriminator(self.options.width, _shape(data), outputs)

    def sample_latent(self, n, *, device, generator=None):
        noise = torch.randn((n, self.options.noise_dim), device=device, generator=generator)
        parts = [noise]
        for values in self.options.categorical:
            index = torch.randint(values, (n,), device=device, generator=generator)
            parts.append(F.one_hot(index, values).to(noise.dtype))
        continuous = torch.rand((n, self.options.continuous), device=device, generator=generator)
        parts.append(continuous * 2 - 1)
        return torch.cat(parts, dim=1)

    def split(self, latent: torch.Tensor) -> Codes:
        """The latent's noise, categorical indices and continuous codes."""
        noise = latent[:, : self.options.noise_dim]
        start, categorical = self.options.noise_dim, []
        for values in self.options.categorical:
            categorical.append(latent[:, start : start + values].argmax(dim=1))
            start += values
        return Codes(noise, categorical, latent[:, start:])

    def _code_slices(self) -> dict[str, tuple[int, int, bool]]:
        """``{name: (start, size, categorical)}``: c1, c2, ... in latent order."""
        slices: dict[str, tuple[int, int, bool]] = {}
        start = self.options.noise_dim
        for values in self.options.categorical:
            slices[f"c{len(slices) + 1}"] = (start, values, True)
            start += values
        for _ in range(self.options.continuous):
            slices[f"c{len(slices) + 1}"] = (start, 1, False)
            start += 1
        return slices

    def latent_codes(self) -> dict[str, str]:
        return {
            name: f"categorical, {size} values"
            if categorical
            else f"continuous, U(-1, 1), walked over {CONTINUOUS_WALK}"
            for name, (_, size, categorical) in self._code_slices().items()
        }

    def vary_code(self, latents: torch.Tensor, code: str, steps: int) -> torch.Tensor:
        start, size, categorical = self._code_slices()[code]
        if categorical:
            values = torch.eye(size, device=latents.device, dtype=latents.dtype)  # one row per category
        else:
            values = torch.linspace(*CONTINUOUS_WALK, steps, device=latents.device, dtype=latents.dtype).unsqueeze(1)
        walked = latents.repeat_interleave(len(values), dim=0)
        walked[:, start : start + size] = values.repeat(len(latents), 1)
        return walked


def information_loss(
    architecture: InfoGAN, q: torch.Tensor, codes: Codes, categorical_weight: float, continuous_weight: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(loss, accuracy)``: λ_cat times the summed cross-entropy of each categorical code
    plus λ_cont times the Gaussian negative log-likelihood (unit variance, without the
    constant: ½(c - μ)² summed over codes) of the continuous ones, averaged over the batch;
    and Q's accuracy on the first categorical code."""
    loss, start, accuracy = q.new_zeros(()), 0, q.new_zeros(())
    for i, (values, index) in enumerate(zip(architecture.options.categorical, codes.categorical)):
        logits = q[:, start : start + values]
        loss = loss + categorical_weight * F.cross_entropy(logits, index)
        if i == 0:
            accuracy = (logits.detach().argmax(dim=1) == index).float().mean()
        start += values
    if codes.continuous.shape[1]:
        mean = q[:, start:]
        loss = loss + continuous_weight * (0.5 * (codes.continuous - mean) ** 2).sum(dim=1).mean()
    return loss, accuracy


class InfoGANLoss(ganzoo.Loss):
    """infoGAN's objective (Chen et al., 2016): the GAN loss on D's logit plus λ·L_I, the code reconstruction loss of the Q head, in both updates (Q learns in D's update, G in its own).

    D minimises BCE(D(x), 1) + BCE(D(G(z, c)), 0) + L_I(Q(G(z, c)), c) with G's output
    detached; G minimises BCE(D(G(z', c')), 1) + L_I(Q(G(z', c')), c'). L_I is
    λ_cat·CE for each categorical code plus λ_cont·½(c - μ)² summed over the continuous
    codes. It logs ``d_real``, ``d_fake`` (probabilities), ``info`` (L_I in D's update) and
    ``code_accuracy`` (Q's accuracy on the first categorical code of the fakes)."""

    capturable = True  # every update is device work on tensors it keeps (docs/speed.md)
    reports_real_scores = True  # the source head's logit

    name = "infogan"
    scalars = {
        "d_real": ganzoo.ScalarInfo("D(x)", "mean probability D's source head gives real samples", probability=True),
        "d_fake": ganzoo.ScalarInfo(
            "D(G(z))", "mean probability D's source head gives generated samples", probability=True
        ),
        "info": ganzoo.ScalarInfo("info loss", "the mutual-information term: how well Q recovers the latent codes"),
        "code_accuracy": ganzoo.ScalarInfo("code accuracy", "accuracy of Q on the categorical code"),
    }

    class Options(ganzoo.Options):
        categorical_weight: NonNegativeFloat = Field(
            1.0, description="λ of the categorical codes' cross-entropy (the paper's 1)"
        )
        continuous_weight: NonNegativeFloat = Field(
            0.1, description="λ of the continuous codes' Gaussian NLL (smaller, as the paper advises)"
        )

    options: Options

    def needs(self) -> ganzoo.Needs:
        return ganzoo.Needs(d_output=("logit+codes",), latent_codes=True)

    @staticmethod
    def _architecture(ctx: ganzoo.StepContext) -> InfoGAN:
        if not isinstance(ctx.architecture, InfoGAN):
            raise ganzoo.GanzooError("the infogan loss needs the infogan architecture (model: {name: infogan})")
        return ctx.architecture

    def _information(self, architecture: InfoGAN, q: torch.Tensor, z: torch.Tensor):
        return information_loss(
            architecture, q, architecture.split(z), self.options.categorical_weight, self.options.continuous_weight
        )

    def discriminator_loss(self, ctx):
        architecture = self._architecture(ctx)
        src_real, _ = ctx.discriminator(ctx.real, ctx.labels)
        z = ctx.latent()
        src_fake, q = ctx.discriminator(ctx.generator(z, None).detach(), None)
        info, accuracy = self._information(architecture, q, z)
        loss = (
            F.binary_cross_entropy_with_logits(src_real, torch.ones_like(src_real))
            + F.binary_cross_entropy_with_logits(src_fake, torch.zeros_like(src_fake))
            + info
        )
        return ganzoo.LossOutput(
            loss,
            {
                "d_real": torch.sigmoid(src_real.detach()).mean(),
                "d_fake": torch.sigmoid(src_fake.detach()).mean(),
                "info": info.detach(),
                "code_accuracy": accuracy,
            },
            real_scores=src_real.detach(),
        )

    def generator_loss(self, ctx):
        architecture = self._architecture(ctx)
        z = ctx.latent()
        src, q = ctx.discriminator(ctx.generator(z, None), None)
        info, _ = self._information(architecture, q, z)
        return ganzoo.LossOutput(F.binary_cross_entropy_with_logits(src, torch.ones_like(src)) + info)
