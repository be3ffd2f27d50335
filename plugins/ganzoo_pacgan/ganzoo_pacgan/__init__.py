"""ganzoo-pacgan: PacGAN's packing (Lin et al., 2018) around any architecture.

Shaped like a third-party plugin: it imports only ganzoo's public API, and finds the
architecture it wraps among the installed plugins of the ``ganzoo`` entry-point group.
"""

import ganzoo
from ganzoo_pacgan.packing import Pac, PackedDiscriminator, pack

__all__ = ["Pac", "PackedDiscriminator", "pack"]


@ganzoo.hookimpl
def register_architectures(register):
    register(Pac)
