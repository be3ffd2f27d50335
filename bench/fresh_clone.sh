#!/usr/bin/env bash
# From `git clone` to digits on screen, following only the README: clone, set up, run the
# quick start. Each step is timed on its own, and everything goes to a results file with
# the commit, the machine, the load and the exact commands.
#
#   bash bench/fresh_clone.sh REPOSITORY [MNIST_FOLDER] [OUT]
#
# REPOSITORY is what `git clone` takes (this checkout's path works: the commit is its HEAD).
# MNIST_FOLDER holds MNIST/raw/ (the README's `data.root=PATH`); without it, the quick start
# downloads MNIST into data/ as a newcomer's would. OUT defaults to
# bench/results/fresh-clone-cpu.md in this checkout. CPU_TORCH=1 installs PyTorch's CPU-only
# wheels first, as the README says to without a GPU (TORCH_INDEX overrides their index).
# The clone goes to a temporary folder, removed at the end unless KEEP=1.
set -euo pipefail

repo=${1:?usage: bash bench/fresh_clone.sh REPOSITORY [MNIST_FOLDER] [OUT]}
data=${2:-}
here=$(cd "$(dirname "$0")/.." && pwd)
out=${3:-$here/bench/results/fresh-clone-cpu.md}
index=${TORCH_INDEX:-https://download.pytorch.org/whl/cpu}
work=$(mktemp -d)
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT
log=$work/log.txt

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

load_before=$(load)
start=$(now)

t=$(now)
git clone -q "$repo" "$work/ganzoo" >>"$log" 2>&1
clone_s=$(since "$t")
cd "$work/ganzoo"
commit=$(git rev-parse HEAD)

t=$(now)
setup=("python3 -m venv .venv && . .venv/bin/activate && pip install -r requirements.txt")
{
    python3 -m venv .venv
    # shellcheck disable=SC1091
    . .venv/bin/activate
    if [ "${CPU_TORCH:-0}" = 1 ]; then
        setup=("python3 -m venv .venv && . .venv/bin/activate"
            "pip install torch==2.14.1 torchvision==0.29.1 --index-url $index"
            "pip install -r requirements.txt")
        pip install torch==2.14.1 torchvision==0.29.1 --index-url "$index"
    fi
    pip install -r requirements.txt
} >>"$log" 2>&1
setup_s=$(since "$t")

run=(ganzoo run quickstart_mnist)
[ -n "$data" ] && run+=("data.root=$data")
t=$(now)
"${run[@]}" >>"$log" 2>&1
run_s=$(since "$t")
total_s=$(since "$start")

grid=$(sed -n 's/^last samples: //p' "$log" | tail -1)
venv_size=$(du -sh .venv | cut -f1)
torch_version=$(python -c 'import torch; print(torch.__version__)')

{
    echo "# From git clone to digits, $(date +%Y-%m-%d)"
    echo
    echo "Command (from a checkout of ganzoo):"
    echo
    echo "    CPU_TORCH=${CPU_TORCH:-0} bash bench/fresh_clone.sh $repo ${data:-(none: MNIST downloaded)}"
    echo
    echo "- commit: $commit (a fresh clone: its tree is clean)"
    echo "- torch: $torch_version; Python: $(python --version 2>&1 | cut -d' ' -f2)"
    echo "- cores: $(nproc) usable; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
    echo "- load average (1, 5, 15 min) before: $load_before; after: $(load)"
    echo "- the virtual environment: $venv_size on disk"
    echo
    echo "| step | command | seconds |"
    echo "| --- | --- | ---: |"
    echo "| clone | \`git clone $repo\` | $clone_s |"
    for line in "${setup[@]}"; do
        echo "| set up | \`$line\` | |"
    done
    echo "| set up, all of it | | $setup_s |"
    echo "| quick start | \`${run[*]}\` | $run_s |"
    echo "| **total** | from the clone to the prompt, with the last grid on disk | **$total_s** |"
    echo
    echo "The last grid: ${grid:-none (the run failed: see its log)}"
} >"$out"
echo "results: $out"
