"""What BEGAN's equilibrium asks of G, per digit: the trained D's reconstruction error
L(v) = mean |D(v) - v| on every class of the MNIST test split, beside L(G(z)).

BEGAN keeps E[L(G(z))] = gamma E[L(x)]. When one digit is reconstructed with an error near
gamma times the mean over all digits, G can hold that equilibrium by drawing that digit
alone, and the loss has nothing that pushes it off. This script prints each class's error
next to gamma E[L(x)] and L(G(z)), so a collapsed run (docs/zoo.md) can be read off.

    python bench/began_energy.py runs/<a began run or one of its checkpoints> --n 2000
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import torch


@dataclass
class Energies:
    """One checkpoint's reconstruction errors (L1, the `began` loss's L)."""

    source: Path
    step: int
    gamma: float
    per_class: list[tuple[int, int, float]]
    """``(digit, test images, mean L(x))``; a digit with no test image is left out."""
    real: float
    """E[L(x)] over the whole test split."""
    fake: float
    """E[L(G(z))] over the generated samples."""


def checkpoint_of(run: Path) -> tuple[Path, dict]:
    """``(path, contents)`` of ``run`` when it is a checkpoint file, else of the run folder's
    newest loadable checkpoint (D's weights are kept only in checkpoints, not in ``weights.pt``)."""
    from ganzoo.runfolder.checkpoints import latest_checkpoint, load_checkpoint

    if run.is_file():
        return run, load_checkpoint(run)
    path, state, _ = latest_checkpoint(run)
    return path, state


def measure(run: Path, n: int = 2000, seed: int = 0) -> Energies:
    """The trained D's errors on the recipe's test split, per class, and on ``n`` samples of G."""
    from ganzoo.api import to_model_range
    from ganzoo.inference import load_split, load_trained
    from ganzoo.plugins import Registry, make_plugin_manager
    from ganzoo_classic.energy import BEGANLoss, energy

    registry = Registry.from_plugin_manager(make_plugin_manager())
    source, state = checkpoint_of(run)
    model = load_trained(source, registry)
    name, options = model.recipe.component("loss")
    if name != "began":
        raise SystemExit(f"{source} was trained with the {name!r} loss, not began")
    gamma = BEGANLoss(**options).options.gamma  # the recipe's, or the loss's default
    discriminator = model.architecture.build_discriminator(model.info)
    discriminator.load_state_dict(state["trainer"]["discriminator"])
    discriminator.to(model.device).eval()
    test = load_split(model.recipe, registry, "test")
    if test is None or test.labels is None:
        raise SystemExit("the recipe's dataset has no labelled test split")

    with torch.no_grad():
        errors = torch.cat(
            [
                energy(discriminator, to_model_range(batch).to(model.device), None, 1).cpu()
                for batch in test.samples.split(500)
            ]
        )
        z = model.architecture.sample_latent(
            n, device=model.device, generator=torch.Generator(device=model.device).manual_seed(seed)
        )
        fake = energy(discriminator, model.generator(z), None, 1).mean().item()
    per_class = []
    for digit in range(test.num_classes or 0):
        chosen = errors[test.labels == digit]
        if len(chosen):
            per_class.append((digit, len(chosen), chosen.mean().item()))
    return Energies(source, model.step, gamma, per_class, errors.mean().item(), fake)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path, help="a began run folder (its newest checkpoint) or a checkpoint file")
    parser.add_argument("--n", type=int, default=2000, help="generated samples for L(G(z))")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="also write the table, the command and the raw values here")
    parser.add_argument("--train-command", default="", help="with --out: the command that trained the run")
    args = parser.parse_args()

    from ganzoo.api.errors import GanzooError

    try:
        result = measure(args.run, args.n, args.seed)
    except GanzooError as error:  # no loadable checkpoint, a damaged file, a missing dataset
        raise SystemExit(f"began_energy: {error}") from None
    title = f"{result.source} (step {result.step}), gamma {result.gamma}"
    table = ["| digit | test images | L(x) |", "| --- | ---: | ---: |"]
    table += [f"| {d} | {count:,} | {mean:.4f} |" for d, count, mean in result.per_class]
    table.append(f"| all | {sum(count for _, count, _ in result.per_class):,} | {result.real:.4f} |")
    balance = f"gamma E[L(x)] = {result.gamma * result.real:.4f}; L(G(z)) over {args.n:,} samples = {result.fake:.4f}"
    print("\n".join([title, *table, balance]))
    lines = [title, "", *table, "", balance]  # the same, as markdown
    if args.out:
        from provenance import header, write_results

        raw = {**vars(result), "source": str(result.source), "n": args.n, "seed": args.seed}
        started = header(f"BEGAN's reconstruction error per digit, {result.source}")
        commands = [args.train_command] if args.train_command else []
        write_results(args.out, "", body="\n".join(lines), commands=commands, raw=raw, started=started)


if __name__ == "__main__":
    main()
