"""``none``: the augmentation a recipe gets when it names none. The core registers it
(see :mod:`ganzoo.plugins.builtin`), so that ``augment:`` has a default whatever plugins
are installed; the step then calls D directly, exactly as without the extension point."""

from __future__ import annotations

from typing import Optional

import torch

from ganzoo.api import Augment


class NoAugmentation(Augment):
    """No augmentation: D sees the images as they are (the default)."""

    name = "none"
    identity = True
    capturable = True  # it does nothing
    stackable = True  # it does nothing: the population's step calls D directly

    def forward(
        self, images: torch.Tensor, condition: Optional[torch.Tensor] = None
    ) -> tuple[torch.Tensor, Optional[torch.Tensor]]:
        return images, condition

    def accepts(self) -> None:
        return None  # any data: it leaves everything as it is
