"""A network's optimiser as its architecture and loss declare it: one torch parameter group
per :class:`~ganzoo.api.ParameterGroup` (a mapping network's lower learning rate), and the
correction for the extra passes that step it on some updates (:class:`~ganzoo.api.ExtraPass`
with ``adjust_optimizer``).

Every torch optimiser keeps a learning rate per parameter group, so both are plain changes
of ``param_groups`` made once, before the schedule starts and before a resumed state loads
over them (a checkpoint keeps the groups and their rates).
"""

from __future__ import annotations

from typing import Any, Sequence

import torch

from ganzoo.api import ExtraPass, GanzooError, Optimizer, ParameterGroup


def split_parameters(
    module: torch.nn.Module, groups: Sequence[ParameterGroup], label: str = "network"
) -> list[dict[str, Any]]:
    """torch parameter groups of ``module``: the parameters no declared group takes, then one
    group per declaration (its ``lr_scale`` kept under that key), each parameter in the first
    group whose prefix matches its name. A declared group that takes nothing is an error: a
    prefix that matches no parameter is a typo, not a wish."""
    taken: list[list[torch.nn.Parameter]] = [[] for _ in groups]
    rest: list[torch.nn.Parameter] = []
    for name, parameter in module.named_parameters():
        index = next((i for i, group in enumerate(groups) if name.startswith(group.prefix)), None)
        (rest if index is None else taken[index]).append(parameter)
    for group, parameters in zip(groups, taken):
        if not parameters:
            raise GanzooError(
                f"the architecture declares the parameter group {group.prefix!r} for the {label}, "
                f"whose parameters include none whose name starts with it"
            )
    split = [{"params": rest, "lr_scale": 1.0}] if rest else []
    return split + [{"params": params, "lr_scale": group.lr_scale} for group, params in zip(groups, taken)]


def build_optimizer(
    optimizer: Optimizer,
    module: torch.nn.Module,
    groups: Sequence[ParameterGroup] = (),
    passes: Sequence[ExtraPass] = (),
    label: str = "network",
) -> torch.optim.Optimizer:
    """``optimizer``'s torch optimiser over ``module``: over its parameters alone when no
    group is declared (what every optimiser has always received), else over the declared
    groups, each at its share of the learning rate; then corrected for the ``passes`` that
    ask for it (:attr:`ganzoo.api.ExtraPass.adjust_optimizer`)."""
    if not groups:
        built = optimizer.build(module.parameters())
    else:
        split = split_parameters(module, groups, label)
        scales = [group.pop("lr_scale") for group in split]
        built = optimizer.build(split)  # torch optimisers take a list of parameter groups
        for group, scale in zip(built.param_groups, scales):
            group["lr"] = group["lr"] * scale
    for extra in passes:
        if extra.adjust_optimizer:
            adjust_for_pass(built, extra.every)
    return built


def adjust_for_pass(optimizer: torch.optim.Optimizer, every: int) -> None:
    """StyleGAN2's correction (Karras et al., 2020, appendix B) for one extra optimiser step
    every ``every`` updates: c = every / (every + 1), the learning rate times c and Adam's
    betas to the power c, so that the moments decay per minibatch as without the passes."""
    c = every / (every + 1)
    for group in optimizer.param_groups:
        group["lr"] = group["lr"] * c
        if "betas" in group:
            group["betas"] = tuple(beta**c for beta in group["betas"])
