"""The ``paired`` metric: how close each translated image is to its target.

On the held-out pairs that ``ganzoo eval`` translates, it gives the mean absolute error
(L1, pixels in [0, 1]), PSNR and SSIM from torchmetrics, and, for data whose targets are
labelled (``mnist_pairs``), the share of outputs that the dataset classifier reads as the
target's class. FID of the outputs is the `fid` metric's, which applies to the same
outputs wherever an extractor does.
"""

from __future__ import annotations

from typing import Optional

import torch
from pydantic import Field, PositiveInt

import ganzoo


class Paired(ganzoo.Metric):
    """Translation against its target, on held-out pairs: L1, PSNR, SSIM (torchmetrics), and the target's class as the classifier reads it."""

    name = "paired"

    class Options(ganzoo.Options):
        ssim_kernel: PositiveInt = Field(7, description="side of SSIM's Gaussian window, odd (11 in Wang et al. at "
                                                         "256 px; 7 suits 28-px digits)")
        classify: bool = Field(True, description="also report target_class/classifier on labelled data")

    def unsupported(self, data: ganzoo.Data) -> Optional[str]:
        return None if data.condition_kind == "images" else "needs paired data (a dataset whose condition is images)"

    def compute(self, ctx: ganzoo.MetricContext) -> dict[str, float]:
        from torchmetrics.functional.image import peak_signal_noise_ratio, structural_similarity_index_measure

        if ctx.conditions is None:
            raise ganzoo.EvaluationError("the paired metric needs the held-out pairs the outputs were translated from")
        if self.options.ssim_kernel % 2 == 0:
            raise ganzoo.EvaluationError(f"eval.metrics: paired.ssim_kernel must be odd, got {self.options.ssim_kernel}")
        fake, real = ctx.fake.double() / 255, ctx.real.double() / 255
        values = {
            "l1": (fake - real).abs().mean().item(),
            "psnr": peak_signal_noise_ratio(fake, real, data_range=1.0, dim=(1, 2, 3)).item(),
            "ssim": structural_similarity_index_measure(fake, real, data_range=1.0,
                                                        kernel_size=self.options.ssim_kernel).item(),
        }
        data = ctx.data.data
        if self.options.classify and ctx.real_labels is not None and data.num_classes:
            logits = ctx.features("classifier", "fake").logits
            if logits is not None:
                values["target_class/classifier"] = (logits.argmax(1) == ctx.real_labels.to(torch.int64)).double().mean().item()
        return values
