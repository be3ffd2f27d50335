#!/bin/sh
# The measured table of docs/pix2pix.md: Pix2Pix (cGAN + 100 L1) against the paper's
# L1-only ablation (loss.gan_weight=0) on mnist_pairs, both trained side by side for the
# same wall-clock budget (the time_budget callback), then measured on MNIST's 10,000 test
# pairs with the paired metric (L1, PSNR, SSIM, the share of outputs the dataset
# classifier reads as the target's digit) and FID in the classifier's feature space.
# Each run gets one core (OMP_NUM_THREADS=1): two processes that each use every core wait
# on each other's threads, and on 2 cores made about a tenth of the steps.
#   sh bench/pix2pix_mnist.sh [TASK=edges] [SECONDS=600] [MNIST_ROOT=../shared/data] [OUT=bench/runs]
set -e
TASK=${1:-edges}
BUDGET=${2:-600}
ROOT=${3:-../shared/data}
OUT=${4:-bench/runs}
for variant in pix2pix l1only; do
    extra=""
    if [ "$variant" = l1only ]; then extra="loss.gan_weight=0"; fi
    OMP_NUM_THREADS=1 ganzoo run "recipes/pix2pix_mnist_$TASK.yaml" "data.root=$ROOT" train.epochs=100 \
        "callbacks=[{name: time_budget, seconds: $BUDGET}]" wandb.mode=disabled video.format=gif \
        "run.dir=$OUT" "run.name=$TASK-$variant" --no-progress $extra &
done
wait
for variant in pix2pix l1only; do
    ganzoo eval "$OUT/$TASK-$variant" --metrics paired,target_class,fid --n 10000 --json --no-progress > "$OUT/$TASK-$variant.json"
    tail -n 1 "$OUT/$TASK-$variant/metrics.jsonl"
    cat "$OUT/$TASK-$variant.json"
done
