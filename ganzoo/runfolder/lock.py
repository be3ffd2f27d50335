"""One process at a time in a run folder.

Two processes training one run folder (two ``--resume`` at once, or a resume while the run
still trains) would interleave checkpoints and metrics rows and delete each other's
temporary files. The process that trains holds an exclusive ``flock`` on
``<run>/.ganzoo-lock`` and writes who it is into the file; another one is refused with that
line. The kernel drops the lock when its holder exits, however it exits (SIGKILL
included), so a lock never outlives its process and nothing needs cleaning up.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import sys
import time
from pathlib import Path
from typing import Iterator

from ganzoo.api.errors import GanzooError
from ganzoo.files.safe import UnsafeFile, open_regular
from ganzoo.runfolder.layout import RunFolder


def _holder() -> str:
    command = " ".join(["ganzoo", *sys.argv[1:]])
    command = command if len(command) <= 200 else command[:197] + "..."
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    return f"pid {os.getpid()} on {socket.gethostname()}, since {started}: {command}"


@contextlib.contextmanager
def run_lock(folder: Path) -> Iterator[None]:
    """Hold the run folder ``folder`` for this process; a ``GanzooError`` naming the holder
    when another process holds it. A lock file that is a symlink, a pipe or a folder is
    refused, never followed: a planted link cannot make the lock truncate another file."""
    path = RunFolder(Path(folder)).lock
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
    with contextlib.ExitStack() as stack:
        try:
            handle = stack.enter_context(open_regular(path, flags))
        except UnsafeFile as error:
            raise GanzooError(f"cannot lock {folder}: {error}") from None
        except OSError as error:
            raise GanzooError(f"cannot lock {folder}: {error.strerror or error}") from None
        _hold(folder, handle)
        try:
            yield
        finally:
            os.ftruncate(handle, 0)  # still held: nobody reads a stale name


def _hold(folder: Path, handle: int) -> None:
    """Take the lock on ``handle`` and write who holds it, or say who does."""
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(handle, 1000, 0).decode("utf-8", "replace").strip() or "unknown process"
        raise GanzooError(
            f"{folder} is in use by another ganzoo process ({holder}); two processes must not "
            f"train one run: wait for it to end or stop it, then resume"
        ) from None
    os.ftruncate(handle, 0)
    os.pwrite(handle, (_holder() + "\n").encode("utf-8"), 0)
