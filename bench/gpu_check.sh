#!/usr/bin/env bash
# The GPU check in one go, on an H200-class GPU, in about 8 minutes:
#   tests     the CUDA tests of train.cuda_graph (captured against eager for every bundled
#             recipe, resume, signals, divergence) and the CPU-visible ones;
#   bench     bench/train_speed.py: vanilla at batch 32 and 128 against the eager and the
#             whole-step-graph floors; DCGAN and WGAN-GP at batch 64, eager against captured;
#   population  bench/population.py: train.population=8 at batch 32 (one batched, eager step)
#             against one captured run: the members' weights against their runs alone, and
#             a step of all eight against a step of one;
#   outputs   `ganzoo run recipes/vanilla_mnist.yaml` for $EPOCHS epochs with every output on
#             (grids, curves, GIF video, checkpoints, the progress bar), timed from the command
#             to the prompt, and once more without the per-epoch grid: what a grid costs.
#   stylegan  (not in the default; about 14 minutes) StyleGAN2's steps/s at 32 and 64 px with
#             64 feature maps, `auto` against `off` (its lazy passes keep it eager: `check`
#             with cuda_graph=on records why), then a 10-minute MNIST run and its FID
#             (bench/zoo_results.py). Its tests are in tests/test_stylegan.py.
#   augment   (not in the default) the little-data grid of docs/augment.md at full width:
#             DCGAN on 100, 500, 2,000 and 60,000 images, without augmentation, with DiffAugment
#             and with ADA, seeds 0 to 2, $AUG_STEPS steps each, $AUG_PARALLEL runs at a time
#             (bench/augment_results.py train, then report); a rerun skips the runs measured.
# PHASES picks some ("tests bench population outputs" by default); EPOCHS=300 RUNS=outputs times the
# article's whole run alone. Results go to $OUT (default: bench/results/gpu-check), the run
# folders to $RUNDIR (default: $OUT/runs).
#
# A GPU machine may have PyTorch but not the rest of the dependencies, and no network. Prepare
# a wheelhouse where pip works (from the repository root, in the project's venv):
#
#   pip wheel --no-deps --no-build-isolation -w .whl . plugins/*
#   pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#       --platform manylinux2014_x86_64 -d .whl pydantic pydantic-core annotated-types \
#       typing-extensions typing-inspection
#   tar czf .gpu/mnist.tgz -C ../shared/data MNIST/raw
#
# (git ignores .whl and .gpu), then run there: `MNIST=.gpu/mnist.tgz bash bench/gpu_check.sh`.
# Runs use wandb.mode=disabled and video.format=gif, so neither wandb nor ffmpeg is needed.
# DEVICE=cpu PHASES=bench rehearses the script itself on a machine without a GPU.
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:-bench/results/gpu-check}
WHEELS=${WHEELS:-.whl}
PHASES=${PHASES:-tests bench population outputs}
EPOCHS=${EPOCHS:-10}
RUNS=${RUNS:-outputs no-grids}
DEVICE=${DEVICE:-cuda}
PY=${PYTHON:-python3}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
RUNDIR=${RUNDIR:-$OUT/runs}

if [ -d "$WHEELS" ] && ! $PY -c "import ganzoo_classic, pydantic" 2>/dev/null; then
  DEPS=$(mktemp -d)
  $PY -m pip install --quiet --no-index --no-deps --no-compile --target "$DEPS" "$WHEELS"/*.whl 2>&1 | tail -3
  export PYTHONPATH="$DEPS${PYTHONPATH:+:$PYTHONPATH}"
fi
DATA=""
if [ -n "${MNIST:-}" ]; then
  DATA=$(mktemp -d) && tar xzf "$MNIST" -C "$DATA"
elif [ -f ../shared/data/MNIST/raw/train-images-idx3-ubyte ]; then
  DATA=$(cd ../shared/data && pwd)
fi
export WANDB_MODE=disabled PYTHONUNBUFFERED=1
{
  date -u
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  $PY -c "import torch, ganzoo, pydantic; print('python', __import__('sys').version.split()[0], '| torch', torch.__version__, '| cuda', torch.version.cuda, '| pydantic', pydantic.__version__)"
  echo "data: ${DATA:-none (the benchmark makes synthetic digits; no outputs phase)}"
} > "$OUT/machine.txt" 2>&1
cat "$OUT/machine.txt"
has() { case " $PHASES " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

if has tests; then  # ~1.5 minutes
  # cuBLAS deterministic across streams: the tests compare captured runs with eager ones bitwise
  CUBLAS_WORKSPACE_CONFIG=:4096:8 timeout 240 $PY -m pytest tests/test_cuda_graph.py -q -n 0 -p no:cacheprovider -rfEs \
    -o junit_family=legacy --junitxml="$OUT/tests.xml" > "$OUT/tests.txt" 2>&1
  echo "tests: exit $? | $(tail -n 1 "$OUT/tests.txt")"
fi

if has bench; then  # ~3 minutes: each variant in a fresh process
  BENCH="$PY bench/train_speed.py --device $DEVICE --steps 300 --repeats 3 --warmup 50 ${DATA:+--data-root $DATA}"
  VANILLA="ganzoo ganzoo-eager floor floor-graph"
  [ "$DEVICE" = cpu ] && VANILLA="ganzoo floor"
  timeout 240 $BENCH --batch-sizes 32 128 --variants $VANILLA --out "$OUT/vanilla.md" > "$OUT/bench.log" 2>&1
  for recipe in dcgan_mnist wgan_gp_mnist; do
    timeout 90 $BENCH --recipe "recipes/$recipe.yaml" --batch-sizes 64 --variants ganzoo-eager ganzoo \
      --out "$OUT/$recipe.md" >> "$OUT/bench.log" 2>&1
  done
  for f in "$OUT"/vanilla.md "$OUT"/*_mnist.md; do [ -f "$f" ] && grep '^|' "$f"; done
fi

if has stylegan; then  # ~14 minutes
  CUBLAS_WORKSPACE_CONFIG=:4096:8 timeout 120 $PY -m pytest tests/test_stylegan.py -q -n 0 -p no:cacheprovider -rfEs \
    > "$OUT/stylegan-tests.txt" 2>&1
  echo "stylegan tests: exit $? | $(tail -n 1 "$OUT/stylegan-tests.txt")"
  $PY -m ganzoo check recipes/stylegan2_mnist.yaml device=$DEVICE train.cuda_graph=on > "$OUT/stylegan-capture.txt" 2>&1
  cat "$OUT/stylegan-capture.txt"
  BENCH="$PY bench/train_speed.py --device $DEVICE --steps 96 --repeats 3 --warmup 16 ${DATA:+--data-root $DATA}"
  SMALL="model.channel_base=4096 model.channel_max=64 model.latent_dim=128 model.w_dim=128"
  timeout 150 $BENCH --recipe recipes/stylegan2_mnist.yaml --batch-sizes 32 --variants ganzoo ganzoo-eager \
    --set $SMALL --out "$OUT/stylegan2-32px.md" >> "$OUT/bench.log" 2>&1
  timeout 150 $BENCH --recipe recipes/stylegan2_folder.yaml --images 64 --batch-sizes 32 --variants ganzoo ganzoo-eager \
    --set $SMALL --out "$OUT/stylegan2-64px.md" >> "$OUT/bench.log" 2>&1
  for f in "$OUT"/stylegan2-*px.md; do [ -f "$f" ] && grep '^|' "$f"; done
  if [ -n "$DATA" ]; then
    timeout 840 $PY bench/zoo_results.py --seconds 600 --variants stylegan2 --no-real --data-root "$DATA" \
      --runs "$RUNDIR" --grids "$OUT" --out "$OUT/zoo-stylegan2-10min.md" > "$OUT/zoo-stylegan2.log" 2>&1
    echo "stylegan2 10 minutes: exit $? | $(grep '^| stylegan2' "$OUT/zoo-stylegan2-10min.md" 2>/dev/null)"
  fi
fi

if has augment && [ -n "$DATA" ]; then
  AUG="$PY bench/augment_results.py --data-root $DATA --runs $RUNDIR/augment --figures $OUT/augment"
  AUG_SIZES=${AUG_SIZES:-100 500 2000 60000}
  timeout ${AUG_TIMEOUT:-480} $AUG train --sizes $AUG_SIZES --seeds 0 1 2 --steps ${AUG_STEPS:-10000} --width 64 \
    --eval-every ${AUG_EVERY:-1000} --parallel ${AUG_PARALLEL:-8} --device $DEVICE > "$OUT/augment.log" 2>&1
  echo "augment train: exit $?"
  $AUG report --sizes $AUG_SIZES --out "$OUT/augment.md" >> "$OUT/augment.log" 2>&1
  echo "augment report: exit $?"; grep '^|' "$OUT/augment.md" 2>/dev/null
fi

if has population && [ -n "$DATA" ]; then  # ~2 minutes
  timeout 300 $PY bench/population.py --device "$DEVICE" --members 8 --batch-size 32 --steps 50 \
    --speed-steps 1050 --rounds 3 --data-root "$DATA" --runs "$RUNDIR/population" \
    --out "$OUT/population.md" > "$OUT/population.log" 2>&1
  echo "population: exit $?"; grep '^|' "$OUT/population.md" 2>/dev/null
fi
if has outputs && [ -n "$DATA" ]; then  # ~1 minute at 10 epochs
  RUN="$PY -m ganzoo run recipes/vanilla_mnist.yaml device=$DEVICE data.root=$DATA data.download=false
    train.epochs=$EPOCHS wandb.mode=disabled video.format=gif run.dir=$RUNDIR"
  for name in $RUNS; do
    extra=""
    [ "$name" = no-grids ] && extra="train.sample_every=100000000"
    start=$(date +%s.%N)
    timeout ${RUN_TIMEOUT:-540} $RUN run.name=$name $extra > "$OUT/run-$name.log" 2>&1
    status=$?
    echo "run $name: exit $status, $(awk "BEGIN {printf \"%.1f\", $(date +%s.%N) - $start}") s from the command to the prompt" |
      tee -a "$OUT/machine.txt"
  done
  grep -h "cuda_graph" "$OUT"/run-*.log | sort | uniq -c
fi
