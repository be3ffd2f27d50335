"""Packing: the discriminator judges m samples at once, all real or all generated.

PacGAN (Lin et al., 2018) leaves G, the loss and the training loop as they are and changes
only D's input: m samples concatenated along the channels, so that a generator short of
diversity is caught by packs whose members look alike. Here that is an architecture,
``pac``, that wraps any other (``base``): G is the base's own, D is the base's D built for
``m`` times the channels, behind a reshape that turns every m consecutive samples of a batch
into one pack. The losses call D on a batch of real samples and on a batch of generated
ones separately, so a pack is never mixed; a batch of B samples gives B / m scores.

PacGAN's reference code keeps the number of packs per step at the batch size (64), each
pack drawing m samples: set ``train.batch_size`` to m times the packs wanted.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

import torch
from pydantic import Field, PositiveInt, ValidationError, model_validator

import ganzoo

ENTRY_POINT_GROUP = "ganzoo"


def pack(samples: torch.Tensor, m: int) -> torch.Tensor:
    """``(B, C, ...)`` to ``(B / m, m * C, ...)``: pack i holds samples i*m to i*m + m - 1,
    their channels side by side."""
    if samples.shape[0] % m:
        raise ganzoo.GanzooError(
            f"pac: a batch of {samples.shape[0]} samples cannot be cut into packs of {m}; make "
            f"train.batch_size a multiple of {m} and set train.drop_last: true"
        )
    return samples.reshape(samples.shape[0] // m, m * samples.shape[1], *samples.shape[2:])


class PackedDiscriminator(torch.nn.Module):
    """A discriminator built for ``m`` times the channels, fed packs of ``m`` samples."""

    def __init__(self, inner: torch.nn.Module, m: int) -> None:
        super().__init__()
        self.inner = inner
        self.m = m

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None, **more: Any) -> Any:
        """The inner D on the packs of ``x``; further keywords (``code`` of an autoencoder D)
        pass through. An output shaped like the packs (an autoencoder D's reconstruction) is
        unpacked back into samples, so that losses compare it with ``x`` sample by sample."""
        packed = pack(x, self.m)
        out = self.inner(packed, **more)
        if isinstance(out, tuple):
            return tuple(self._unpack(part, packed, x) for part in out)
        return self._unpack(out, packed, x)

    @staticmethod
    def _unpack(out: Any, packed: torch.Tensor, x: torch.Tensor) -> Any:
        return out.reshape(x.shape) if isinstance(out, torch.Tensor) and out.shape == packed.shape else out


def installed_architectures() -> dict[str, type]:
    """Every architecture the installed plugins register, by name, found the way ganzoo
    finds plugins (the ``ganzoo`` entry-point group), without ganzoo's private registry."""
    found: dict[str, type] = {}
    for point in entry_points(group=ENTRY_POINT_GROUP):
        register = getattr(point.load(), "register_architectures", None)
        if callable(register):
            register(register=lambda cls: found.setdefault(cls.name, cls))
    return found


def base_architecture(spec: dict) -> ganzoo.Architecture:
    """The architecture named by ``spec["name"]``, built with the rest of ``spec``."""
    spec = dict(spec)
    name = spec.pop("name", None)
    if not isinstance(name, str):
        raise ValueError("needs `name`: the architecture to pack, e.g. {name: dcgan, ...}")  # noqa: TRY004 - pydantic reports ValueError
    known = {key: cls for key, cls in installed_architectures().items() if key != Pac.name}
    if name not in known:
        raise ValueError(f"unknown architecture {name!r}; installed: {', '.join(sorted(known))}")
    try:
        architecture = known[name](**spec)
    except ValidationError as error:  # said as base.<key>, not as an option of pac itself
        problems = [f"base.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()]
        raise ValueError("; ".join(problems)) from None
    if architecture.conditional:
        raise ValueError(
            f"{name!r} is conditional; pac packs unconditional architectures only (a pack has no one label)"
        )
    return architecture


class Pac(ganzoo.Architecture):
    """PacGAN (Lin et al., 2018): any architecture (`base`) whose D judges packs of `m` samples concatenated along the channels, all real or all generated.

    G and the latent are the base architecture's. A batch of B samples makes B / m packs,
    so ``train.batch_size`` must be a multiple of ``m``. Unconditional bases only."""

    capturable: bool | str = True
    """A pack is a reshape on the device: whether the step can be captured is the base's call."""

    name = "pac"

    class Options(ganzoo.Options):
        m: PositiveInt = Field(2, le=64, description="samples per pack (PacGAN2: 2); 1 is the base architecture itself")
        base: dict[str, Any] = Field(
            description="the architecture packed, as a component section: {name: dcgan, ...options}"
        )

        @model_validator(mode="after")
        def _base_builds(self) -> Pac.Options:
            base_architecture(self.base)  # a bad base is a recipe error, reported with the others
            return self

    options: Options

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.base = base_architecture(self.options.base)
        if getattr(self.base, "capturable", None) is not True:  # the packing is a reshape; the base decides
            self.capturable = f"its base architecture {self.base.name!r} does not declare capturable = True"

    def build_generator(self, data: ganzoo.DataInfo) -> torch.nn.Module:
        return self.base.build_generator(data)

    def build_discriminator(self, data: ganzoo.DataInfo) -> torch.nn.Module:
        channels, *rest = data.shape
        packed = ganzoo.DataInfo(shape=(self.options.m * channels, *rest), num_classes=data.num_classes)
        return PackedDiscriminator(self.base.build_discriminator(packed), self.options.m)

    def sample_latent(self, n: int, *, device: torch.device, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.base.sample_latent(n, device=device, generator=generator)

    def latent_codes(self) -> dict[str, str]:
        return self.base.latent_codes()

    def vary_code(self, latents: torch.Tensor, code: str, steps: int) -> torch.Tensor:
        return self.base.vary_code(latents, code, steps)
