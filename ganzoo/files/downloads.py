"""Network time-outs for downloads and servers, so that a stalled download or an unreachable server fails in
seconds and names the host, instead of hanging.

Python's sockets wait forever by default, and neither torchvision's MNIST download nor
``torch.hub`` sets a time-out; wandb waits 90 seconds for its server. Downloads run inside
:func:`network_timeout`; an online wandb run first checks that its server answers
(:func:`unreachable`).
"""

from __future__ import annotations

import socket
import urllib.parse
from contextlib import contextmanager
from typing import Iterator, Optional

NETWORK_TIMEOUT = 30.0
"""Seconds a connection or a download may go without an answer before it fails."""


@contextmanager
def network_timeout(seconds: Optional[float] = None) -> Iterator[float]:
    """Give every socket opened inside (urllib, torch.hub, torchvision) a time-out of
    ``seconds`` (default :data:`NETWORK_TIMEOUT`); yields the time-out in force."""
    limit = NETWORK_TIMEOUT if seconds is None else seconds
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(limit)
    try:
        yield limit
    finally:
        socket.setdefaulttimeout(previous)


def unreachable(url: str, seconds: Optional[float] = None, *, what: str = "") -> Optional[str]:
    """Why ``url``'s host cannot be reached (a TCP connection within the time-out), or None
    when it answers: ``cannot reach api.wandb.ai:443 (no answer within 30 s)``; ``what``
    names the server instead of its address (``cannot reach W&B at https://... (...)``)."""
    parts = urllib.parse.urlsplit(url if "//" in url else f"//{url}")
    port = parts.port or (80 if parts.scheme == "http" else 443)
    limit = NETWORK_TIMEOUT if seconds is None else seconds
    try:
        with socket.create_connection((parts.hostname or "", port), timeout=limit):
            return None
    except socket.gaierror as error:
        reason = f"the name does not resolve: {error.strerror or error}"
    except (TimeoutError, socket.timeout):
        reason = f"no answer within {limit:g} s"
    except OSError as error:
        reason = error.strerror or str(error) or type(error).__name__
    return f"cannot reach {f'{what} at {url}' if what else f'{parts.hostname}:{port}'} ({reason})"
