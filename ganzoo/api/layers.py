"""Layers that the bundled architectures share and a plugin may use too.

Only one today: the sigmoid that ends a discriminator which outputs probabilities, computed
in float32 whatever the autocast precision.
"""

from __future__ import annotations

import torch


class Float32Sigmoid(torch.nn.Module):
    """``sigmoid(x)`` computed in float32: a drop-in for ``nn.Sigmoid`` at the end of a
    discriminator whose probabilities feed a binary cross-entropy.

    Why: under ``train.precision: bf16`` the last linear layer returns a bfloat16 logit, and
    a bfloat16 sigmoid rounds to exactly 1 for any logit above about 6.5 (bfloat16 has 8
    bits of mantissa), so BCE(D(x), 1) and the R1 penalty lose D's gradient for every sample
    D is fairly sure about. The sigmoid of the float32 logit keeps them up to a logit of
    about 16, as plain float32 training does. Outside autocast the input is float32 already
    and this is exactly ``torch.sigmoid``, so float32 runs are unchanged bit for bit."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.autocast(device_type=x.device.type, enabled=False):
            return torch.sigmoid(x.float())
