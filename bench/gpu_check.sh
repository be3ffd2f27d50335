#!/usr/bin/env bash
# The GPU check of issue 13 in one go: the CUDA tests of train.cuda_graph, then the benchmark
# (vanilla at batch 32 and 128 with the whole-step-graph floor; DCGAN and WGAN-GP at batch 64),
# in under 6 minutes on an H200-class GPU. Results go to $OUT (default: bench/results/gpu-check).
#
# A GPU machine has PyTorch but not the rest of the dependencies and cannot download. Prepare
# a wheelhouse on a machine that can (from the repository root, in the project's venv):
#
#   pip wheel --no-deps --no-build-isolation -w bench/wheels . plugins/*
#   pip download --no-deps -d bench/wheels pydantic pydantic-core annotated-types typing-extensions \
#       typing-inspection pluggy pyyaml tqdm pytest iniconfig packaging
#
# (pydantic-core and pyyaml are compiled: download them for the GPU machine's Python and
# platform, e.g. --python-version 3.12 --platform manylinux2014_x86_64 --only-binary=:all:).
# Then run this script from the repository root there: `bash bench/gpu_check.sh`. It uses
# wandb.mode=disabled and video.format=gif, so neither wandb nor ffmpeg is needed.
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:-bench/results/gpu-check}
WHEELS=${WHEELS:-bench/wheels}
mkdir -p "$OUT"
PY=${PYTHON:-python}
if [ -d "$WHEELS" ] && ! $PY -c "import ganzoo_classic, pydantic, pytest" 2>/dev/null; then
  DEPS=$(mktemp -d)
  $PY -m pip install --quiet --no-index --no-deps --target "$DEPS" "$WHEELS"/*.whl 2>&1 | tail -3
  export PYTHONPATH="$DEPS${PYTHONPATH:+:$PYTHONPATH}"
fi
export WANDB_MODE=disabled
{
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  $PY -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)"
} > "$OUT/machine.txt" 2>&1

# 1. The CUDA tests (captured vs eager, resume, signals) and the CPU-visible ones: ~1 minute.
timeout 150 $PY -m pytest tests/test_cuda_graph.py -q -p no:cacheprovider > "$OUT/tests.txt" 2>&1
echo "tests: exit $?" | tee -a "$OUT/machine.txt"

# 2. The benchmark, each variant in a fresh process: ~4 minutes.
BENCH="$PY bench/train_speed.py --device cuda --steps 300 --repeats 3 --warmup 50"
timeout 120 $BENCH --batch-sizes 32 128 --variants ganzoo ganzoo-eager ganzoo-graph floor floor-graph \
  --out "$OUT/vanilla.md" > "$OUT/vanilla.log" 2>&1
timeout 60 $BENCH --recipe recipes/dcgan_mnist.yaml --batch-sizes 64 --variants ganzoo-eager ganzoo-graph \
  --out "$OUT/dcgan.md" > "$OUT/dcgan.log" 2>&1
timeout 60 $BENCH --recipe recipes/wgan_gp_mnist.yaml --batch-sizes 64 --variants ganzoo-eager ganzoo-graph \
  --out "$OUT/wgan_gp.md" > "$OUT/wgan_gp.log" 2>&1
tail -n 4 "$OUT"/tests.txt; for f in "$OUT"/*.md; do echo "== $f"; grep '^|' "$f"; done
