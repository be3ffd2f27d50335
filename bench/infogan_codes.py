"""How much of the digit infoGAN's categorical code c1 controls, measured with the dataset
classifier (the extractor of docs/evaluation.md).

For ``--rows`` random latents, c1 is set to each of its values (``vary_code``, as
``ganzoo sample --vary c1`` does) and every image is classified. For each value of c1 it
reports the classifier's most frequent digit and that digit's share of the value's images
(its purity); the overall purity is the mean, and ``digits`` counts the distinct digits the
values map to (10 when c1 separates every digit, as in the paper's figure 2).

    python bench/infogan_codes.py runs/<an infogan run> --rows 500
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch


def main() -> None:
    from ganzoo.inference import generate, load_dataset, load_trained, to_data_format
    from ganzoo.inference.evaluation import Evaluation
    from ganzoo.plugins import Registry, make_plugin_manager

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path, help="an infogan run folder")
    parser.add_argument("--rows", type=int, default=500, help="random latents, each walked through every value of c1")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="also write the table, the command and the raw values here")
    parser.add_argument("--train-command", default="", help="with --out: the command that trained the run")
    args = parser.parse_args()

    registry = Registry.from_plugin_manager(make_plugin_manager())
    model = load_trained(args.run, registry)
    data = load_dataset(model.recipe, registry)
    evaluation = Evaluation(registry, model.recipe, data, [], device=model.device, progress=False)  # for its extractor
    classifier = evaluation.extractor("classifier")
    base = model.architecture.sample_latent(
        args.rows, device=model.device, generator=torch.Generator(device=model.device).manual_seed(args.seed)
    )
    latents = model.architecture.vary_code(base, "c1", 0)
    values = len(latents) // args.rows
    images = to_data_format(
        generate(
            model.generator, model.architecture, len(latents), device=model.device, seed=args.seed, latents=latents
        ),
        model.info,
    )

    def digits_of(batch: torch.Tensor) -> torch.Tensor:
        logits = classifier.extract(batch.to(model.device)).logits
        assert logits is not None, "the classifier extractor gives logits"
        return logits.argmax(1).cpu()

    with torch.no_grad():
        digits = torch.cat([digits_of(images[i : i + 1000]) for i in range(0, len(images), 1000)]).view(
            args.rows, values
        )
    lines = [f"{args.run} (step {model.step}): c1 over {args.rows} latents; {classifier.describe()}", ""]
    lines += ["| c1 | most frequent digit | purity |", "| ---: | ---: | ---: |"]
    purities, modes = [], []
    for value in range(values):
        counts = torch.bincount(digits[:, value], minlength=10)
        modes.append(int(counts.argmax()))
        purities.append(counts.max().item() / args.rows)
        lines.append(f"| {value} | {modes[-1]} | {purities[-1]:.1%} |")
    lines += [
        "",
        f"mean purity {sum(purities) / values:.1%}; the {values} values map to {len(set(modes))} distinct digits",
    ]
    print("\n".join(lines))
    if args.out:
        from provenance import header, write_results

        raw = {"run": str(args.run), "step": model.step, "rows": args.rows, "digits": modes, "purity": purities}
        started = header(f"infoGAN's categorical code c1, {args.run}")
        commands = [args.train_command] if args.train_command else []
        write_results(args.out, "", body="\n".join(lines), commands=commands, raw=raw, started=started)


if __name__ == "__main__":
    main()
