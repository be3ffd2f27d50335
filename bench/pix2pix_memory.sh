#!/bin/sh
# Peak memory of the 256-px Pix2Pix recipe (recipes/pix2pix_facades.yaml: U-Net-256, the
# 70x70 PatchGAN, batch 1) for a few steps on a handful of generated 256-px pairs in the
# published side-by-side layout (512x256 files), as /usr/bin/time -v reports it.
#   sh bench/pix2pix_memory.sh [STEPS=5] [PAIRS=8] [DIR=bench/runs/pairs256]
set -e
STEPS=${1:-5}
PAIRS=${2:-8}
DIR=${3:-bench/runs/pairs256}
python - "$DIR" "$PAIRS" <<'PY'
import sys
from pathlib import Path

import numpy
from PIL import Image

folder, pairs = Path(sys.argv[1]), int(sys.argv[2])
rng = numpy.random.default_rng(0)
for split in ("train", "test"):
    (folder / split).mkdir(parents=True, exist_ok=True)
    for i in range(pairs):
        Image.fromarray(rng.integers(0, 256, (256, 512, 3), dtype=numpy.uint8)).save(folder / split / f"{i:03d}.png")
PY
/usr/bin/time -v ganzoo run recipes/pix2pix_facades.yaml "data.root=$DIR" "train.max_steps=$STEPS" train.log_every=1 \
    wandb.mode=disabled video.format=gif "run.dir=$DIR/runs" --no-progress 2>&1 \
    | grep -E "run folder|Maximum resident|Elapsed|error"
