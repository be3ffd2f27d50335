"""ganzoo-example: a complete third-party plugin in one file.

It imports nothing from ganzoo but the public API, and registers three components through
hook implementations: a dataset that declares what it provides, a loss that declares what
it needs from the architecture, and a callback that uses the run context (its run folder,
the recipe, extra scalars, a file of its own that survives resume). ``pyproject.toml``
names this module in the ``ganzoo`` entry-point group, which is how ganzoo finds it once it
is installed.
"""

from __future__ import annotations

import math
from typing import Optional

import torch
import torch.nn.functional as F
from pydantic import Field, PositiveFloat, PositiveInt

import ganzoo


class Spiral(ganzoo.Dataset):
    """Points along an Archimedean spiral: one long, thin, curved mode.

    A mixture of Gaussians tests whether a GAN covers separate modes; a spiral tests whether
    it can follow a connected manifold without cutting corners between its turns.
    """

    name = "spiral"

    class Options(ganzoo.Options):
        turns: PositiveFloat = Field(1.5, description="full turns the spiral makes around the origin")
        noise: PositiveFloat = Field(0.05, description="standard deviation of the Gaussian noise around the curve")
        size: PositiveInt = Field(20_000, description="number of points")
        seed: int = Field(0, description="seed of the points (independent of the recipe's seed)")

    options: Options

    RADIUS = 2.5
    """Outer radius: with the default noise the points stay within [-3, 3]."""

    def provides(self) -> ganzoo.DataSpec:
        # Declared, so that `ganzoo check` refuses an architecture that takes only images.
        return ganzoo.DataSpec("points", (2,), labels=False)

    def load(self) -> ganzoo.Data:
        # A generator of its own: the same options always give the same points, and loading
        # the data does not shift the training random stream that the recipe's seed fixes.
        generator = torch.Generator().manual_seed(self.options.seed)
        t = torch.rand(self.options.size, generator=generator)  # position along the curve
        angle = 2 * math.pi * self.options.turns * t
        radius = self.RADIUS * t
        points = torch.stack([radius * angle.cos(), radius * angle.sin()], dim=1)
        points += torch.randn(points.shape, generator=generator) * self.options.noise
        return ganzoo.Data(samples=points.float(), labels=None)


class PointMLP(ganzoo.Architecture):
    """Small fully connected G and D for 2-D points; D returns a raw score (a logit).

    G: Linear(latent_dim, width), ReLU, Linear(width, width), ReLU, Linear(width, 2).
    D: Linear(2, width), LeakyReLU(0.2), Linear(width, width), LeakyReLU(0.2), Linear(width, 1)."""

    name = "point_mlp"

    class Options(ganzoo.Options):
        latent_dim: PositiveInt = Field(8, description="size of the noise vector z")
        width: PositiveInt = Field(128, description="width of the hidden layers of G and D")

    options: Options

    def accepts(self) -> ganzoo.Accepts:
        return ganzoo.Accepts(kinds=("points",), point_dims=(2,))

    def discriminator_output(self) -> str:
        return "logit"

    def build_generator(self, data: ganzoo.DataInfo) -> torch.nn.Module:
        w = self.options.width
        return _Ignoring(
            torch.nn.Sequential(
                torch.nn.Linear(self.options.latent_dim, w),
                torch.nn.ReLU(),
                torch.nn.Linear(w, w),
                torch.nn.ReLU(),
                torch.nn.Linear(w, 2),
            )
        )

    def build_discriminator(self, data: ganzoo.DataInfo) -> torch.nn.Module:
        w = self.options.width
        return _Ignoring(
            torch.nn.Sequential(
                torch.nn.Linear(2, w),
                torch.nn.LeakyReLU(0.2),
                torch.nn.Linear(w, w),
                torch.nn.LeakyReLU(0.2),
                torch.nn.Linear(w, 1),
            )
        )

    def sample_latent(self, n, *, device, generator=None):
        return torch.randn((n, self.options.latent_dim), device=device, generator=generator)


class _Ignoring(torch.nn.Module):
    """A network that takes the (unused) condition as its second argument, as ganzoo calls it."""

    def __init__(self, net: torch.nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor, labels: Optional[torch.Tensor] = None) -> torch.Tensor:
        return self.net(x)


class Relativistic(ganzoo.Loss):
    """Relativistic standard GAN (Jolicoeur-Martineau, 2019): D judges whether real data is more realistic than fake.

    D: softplus(-(D(x) - D(G(z)))); G: softplus(-(D(G(z)) - D(x))), on D's raw scores. It
    logs ``d_real`` and ``d_fake``, the mean raw scores."""

    name = "relativistic"

    def needs(self) -> ganzoo.Needs:
        # On raw scores: `ganzoo check` refuses an architecture whose D ends in a sigmoid.
        return ganzoo.Needs(d_output=("logit",))

    def discriminator_loss(self, ctx: ganzoo.StepContext) -> ganzoo.LossOutput:
        d_real = ctx.discriminator(ctx.real, ctx.labels)
        d_fake = ctx.discriminator(ctx.generator(ctx.latent(), ctx.labels).detach(), ctx.labels)
        loss = F.softplus(-(d_real - d_fake)).mean()
        return ganzoo.LossOutput(loss, {"d_real": d_real.detach().mean(), "d_fake": d_fake.detach().mean()})

    def generator_loss(self, ctx: ganzoo.StepContext) -> ganzoo.LossOutput:
        d_real = ctx.discriminator(ctx.real, ctx.labels).detach()
        d_fake = ctx.discriminator(ctx.generator(ctx.latent(), ctx.labels), ctx.labels)
        return ganzoo.LossOutput(F.softplus(-(d_fake - d_real)).mean())


class Spread(ganzoo.Callback):
    """Logs `spread`, the standard deviation of generated samples, and keeps every value in `spread.jsonl`.

    Every ``every`` steps it draws ``n`` samples from the generator that samples come from:
    the value goes to ``metrics.jsonl``, the progress bar and wandb through ``run.log``, and
    to ``spread.jsonl`` in the run folder through a ``ganzoo.StepLog``, which a resumed run
    trims to its checkpoint like ``metrics.jsonl``."""

    name = "spread"

    class Options(ganzoo.Options):
        every: PositiveInt = Field(10, description="steps between two measures")
        n: PositiveInt = Field(256, description="samples drawn for one measure")

    options: Options

    def __init__(self, **options) -> None:
        super().__init__(**options)
        self.file = ganzoo.StepLog("spread.jsonl")

    def on_train_start(self, run: ganzoo.TrainingRun) -> None:
        self.file.open(run)  # None on the ranks that do not write; trimmed on resume
        self.batch_size = run.recipe["train"]["batch_size"]  # the resolved recipe, as plain values

    def on_step_end(self, run: ganzoo.TrainingRun) -> None:
        if run.step % self.options.every:
            return
        with torch.no_grad():
            # A random stream of its own: measuring must not shift the training stream.
            stream = torch.Generator(device=run.device).manual_seed(run.step)
            latents = run.architecture.sample_latent(self.options.n, device=run.device, generator=stream)
            spread = run.sampling_generator(latents).float().std().item()
        run.log({"spread": spread})
        self.file.write(run, {"spread": spread, "batch_size": self.batch_size})


@ganzoo.hookimpl
def register_datasets(register):
    register(Spiral)


@ganzoo.hookimpl
def register_architectures(register):
    register(PointMLP)


@ganzoo.hookimpl
def register_losses(register):
    register(Relativistic)


@ganzoo.hookimpl
def register_callbacks(register):
    register(Spread)
