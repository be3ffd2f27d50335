"""Metrics for translations: how close each output is to its target.

On the held-out pairs that ``ganzoo eval`` translates, ``paired`` gives the mean absolute
error (L1, pixels in [0, 1]), PSNR and SSIM from torchmetrics; ``target_class``, for data
whose targets are labelled (``mnist_pairs``), the share of outputs that the dataset
classifier reads as the target's class. They are two metrics so that only the second is
recorded with the classifier it depends on. FID of the outputs is the ``fid`` metric's,
which applies to the same outputs wherever an extractor does.
"""

from __future__ import annotations

from typing import Optional

import torch
from pydantic import Field, PositiveInt

import ganzoo

BATCH = 500
"""Images per torchmetrics call."""


class Paired(ganzoo.Metric):
    """Each translation against its target, on held-out pairs: L1, PSNR and SSIM (torchmetrics)."""

    name = "paired"

    class Options(ganzoo.Options):
        ssim_kernel: PositiveInt = Field(
            7, description="side of SSIM's Gaussian window, odd (11 in Wang et al. at 256 px; 7 suits 28-px digits)"
        )

    options: Options

    def unsupported(self, data: ganzoo.Data) -> Optional[str]:
        return _unpaired(data)

    def compute(self, ctx: ganzoo.MetricContext) -> dict[str, float]:
        from torchmetrics.functional.image import peak_signal_noise_ratio, structural_similarity_index_measure

        if ctx.conditions is None:
            raise ganzoo.EvaluationError("the paired metric needs the held-out pairs the outputs were translated from")
        if self.options.ssim_kernel % 2 == 0:
            raise ganzoo.EvaluationError(
                f"eval.metrics: paired.ssim_kernel must be odd, got {self.options.ssim_kernel}"
            )
        fake, real = ctx.fake.float() / 255, ctx.real.float() / 255
        # Per image, in batches: torchmetrics' SSIM on 10,000 images at once asks for tens of GB.
        sums = torch.zeros(3, dtype=torch.float64)
        for start in range(0, len(real), BATCH):
            f, r = fake[start : start + BATCH], real[start : start + BATCH]
            ssim = structural_similarity_index_measure(f, r, data_range=1.0, kernel_size=self.options.ssim_kernel)
            assert isinstance(ssim, torch.Tensor)  # a tuple only with return_full_image or return_contrast_sensitivity
            sums += (
                len(f)
                * torch.stack(
                    [
                        (f - r).abs().mean(),
                        peak_signal_noise_ratio(f, r, data_range=1.0, dim=(1, 2, 3)),
                        ssim,
                    ]
                ).double()
            )
        means = (sums / len(real)).tolist()
        values = dict(zip(("l1", "psnr", "ssim"), means, strict=True))
        return values


def _unpaired(data: ganzoo.Data) -> Optional[str]:
    return None if data.condition_kind == "images" else "needs paired data (a dataset whose condition is images)"


class TargetClass(ganzoo.Metric):
    """The share of translations that the dataset classifier reads as their target's class (labelled paired data)."""

    name = "target_class"

    def unsupported(self, data: ganzoo.Data) -> Optional[str]:
        if data.labels is None or not data.num_classes:
            return "needs paired data whose targets are labelled (mnist_pairs)"
        return _unpaired(data)

    def compute(self, ctx: ganzoo.MetricContext) -> dict[str, float]:
        if ctx.conditions is None or ctx.real_labels is None:
            raise ganzoo.EvaluationError("target_class needs held-out pairs with labelled targets")
        logits = ctx.features("classifier", "fake").logits
        if logits is None:
            raise ganzoo.EvaluationError("the classifier extractor gave no class logits")
        return {"target_class/classifier": (logits.argmax(1) == ctx.real_labels.to(torch.int64)).double().mean().item()}
