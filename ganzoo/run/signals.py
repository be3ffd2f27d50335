"""Stopping a run cleanly on Ctrl-C or SIGTERM: after the current step, with a checkpoint."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from pathlib import Path
from typing import Iterator, Optional

from ganzoo.api import GanzooError
from ganzoo.train import Trainer


class RunInterrupted(GanzooError):
    """Training stopped cleanly on a signal, after the current step, with a checkpoint."""

    def __init__(self, folder: Optional[Path], step: int, checkpoint: Optional[Path], signal_number: int) -> None:
        super().__init__(f"interrupted at step {step}")
        self.folder = folder
        self.step = step
        self.checkpoint = checkpoint
        self.exit_status = 128 + signal_number  # 130 for Ctrl-C, 143 for SIGTERM


@contextlib.contextmanager
def stop_on_signals(*trainers: Trainer) -> Iterator[list[int]]:
    """The first Ctrl-C or SIGTERM asks the trainers (one, or a population's members) to
    stop after the current step (each then writes a checkpoint); a second one stops at once,
    as a plain KeyboardInterrupt, which cannot corrupt anything because every file is
    written atomically. Yields the signals received."""
    received: list[int] = []

    def request_stop(number: int, frame: object) -> None:
        if received:
            raise KeyboardInterrupt
        received.append(number)
        for trainer in trainers:
            trainer.interrupt_requested = True
        print(
            "\nganzoo: stopping after this step and saving a checkpoint (press Ctrl-C again to quit at once)",
            file=sys.stderr,
        )

    if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
        yield received
        return
    previous = {number: signal.signal(number, request_stop) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield received
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
