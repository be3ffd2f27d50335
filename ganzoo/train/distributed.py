"""Data-parallel training on torch.distributed: one process per device, launched by torchrun.

Every process (rank) builds the same models from the same seed and keeps the same random
streams, so every rank draws the same epoch order and the same latent vectors. Each rank
then takes its own contiguous share of every global batch (and of its latents), and
DistributedDataParallel averages the gradients. The update is therefore the one a single
process makes on the whole batch, up to the order of floating-point sums, and a
checkpoint written by rank 0 holds the state of every rank.

``ganzoo run --nproc N`` starts ``torchrun --standalone --nproc-per-node N -m ganzoo run``;
torchrun itself handles several nodes (its own rendezvous options).
"""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Optional, Sequence

import torch

from ganzoo.api.errors import GanzooError


class DistributedError(GanzooError):
    """Another rank died, hung or disagreed: the job stops instead of waiting forever."""


@dataclass(frozen=True)
class World:
    """Where this process stands among the job's processes (one process: rank 0 of 1)."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0
    backend: Optional[str] = None
    timeout: float = 0.0
    control: Any = None
    """A gloo process group for small host-side agreements (stop flags), so that they never
    synchronise a GPU stream."""

    @property
    def distributed(self) -> bool:
        return self.size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0: the one process that logs, draws, talks to wandb and writes files."""
        return self.rank == 0

    def shard(self, n: int) -> slice:
        """This rank's contiguous share of ``n`` items (``n`` divisible by the size)."""
        share = n // self.size
        return slice(self.rank * share, (self.rank + 1) * share)

    # ------------------------------------------------------------------ collectives

    def any_of(self, flags: Sequence[bool], what: str) -> list[bool]:
        """Each flag, True when it is True on any rank: every rank gets the same answers."""
        if not self.distributed:
            return list(flags)
        values = torch.tensor([int(flag) for flag in flags])
        self._collective(
            lambda: torch.distributed.all_reduce(values, op=torch.distributed.ReduceOp.MAX, group=self.control), what
        )
        return [bool(v) for v in values.tolist()]

    def mean(self, values: torch.Tensor, what: str) -> torch.Tensor:
        """The mean of ``values`` over the ranks."""
        if not self.distributed:
            return values
        values = values.clone()
        self._collective(lambda: torch.distributed.all_reduce(values), what)
        return values / self.size

    def _collective(self, call, what: str) -> None:
        try:
            call()
        except Exception as error:  # gloo and NCCL raise RuntimeError subclasses, with long messages
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise DistributedError(
                f"rank {self.rank} of {self.size}: {what} failed: another rank died, hung past "
                f"distributed.timeout ({self.timeout:g} s) or disagreed ({reason})"
            ) from None


def from_environment(timeout: float) -> World:
    """The world torchrun describes in the environment (``RANK``, ``WORLD_SIZE``,
    ``LOCAL_RANK``, ``MASTER_ADDR``...), with its process group started: NCCL when
    CUDA is there, gloo otherwise. Without torchrun: a world of one."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1:
        return World()
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    if backend == "nccl":
        torch.cuda.set_device(local_rank)
    if not torch.distributed.is_initialized():
        torch.distributed.init_process_group(backend, timeout=timedelta(seconds=timeout))
    control = (
        torch.distributed.new_group(backend="gloo", timeout=timedelta(seconds=timeout)) if backend == "nccl" else None
    )
    return World(rank, size, local_rank, backend, timeout, control)


def device_for(world: World, device: torch.device) -> torch.device:
    """Each rank trains on its own GPU (``cuda:LOCAL_RANK``); on the CPU all share it."""
    if world.distributed and device.type == "cuda":
        return torch.device("cuda", world.local_rank)
    return device


def shutdown(world: World) -> None:
    """Destroy the process groups now, while Python runs, rather than at interpreter exit.
    The DDP wrappers that held them were released (``TrainingStep.release_world``); collecting
    their reference cycles first lets the groups be freed here."""
    if world.distributed and torch.distributed.is_initialized():
        gc.collect()
        torch.distributed.destroy_process_group()


def launch(nproc: int, argv: Sequence[str]) -> int:
    """``ganzoo run ... --nproc N``: the same command under torchrun on this machine.
    Returns torchrun's exit status (non-zero when any rank failed)."""
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc-per-node={nproc}",
        "-m",
        "ganzoo",
        *argv,
    ]
    print(f"ganzoo: launching {nproc} processes: {' '.join(command[1:])}", file=sys.stderr)
    child = subprocess.Popen(command)
    forwarded: list[int] = []

    def forward(number: int, frame: object) -> None:  # torchrun stops its workers cleanly
        forwarded.append(number)
        child.send_signal(number)

    previous = {number: signal.signal(number, forward) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        status = child.wait()
        # torchrun exits 1 when it was stopped by a signal; report the signal, as one process does.
        return 128 + forwarded[0] if forwarded and status != 0 else status
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def update_wrappers(
    generator: torch.nn.Module, discriminator: torch.nn.Module, world: World, device: torch.device
) -> tuple[torch.nn.Module, torch.nn.Module]:
    """The modules the trainer updates ``generator`` and ``discriminator`` through.

    In a data-parallel run, the network being updated runs under DDP (which averages its
    gradients over the ranks); the other one runs plain: its gradients are not needed, and
    DDP would wait for them forever. One process updates the networks themselves."""
    if not world.distributed:
        return generator, discriminator
    from torch.nn.parallel import DistributedDataParallel

    ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(generator, device_ids=ids), DistributedDataParallel(discriminator, device_ids=ids)
