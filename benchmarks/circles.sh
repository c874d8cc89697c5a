#!/usr/bin/env bash
# circles ms per step on one GPU, as FLAME GPU 2's circles benchmark measures it (their
# fixed-density experiment: density 1, radius 2, 200 steps, 3 repetitions, mean step time;
# FLAMEGPU/FLAMEGPU2-circles-benchmark). For each population, REPS runs of step_throughput
# (WARMUP untimed steps, then STEPS steps timed one by one to the end of their device work:
# mean and median ms per step), rows appended to CSV. Every step publishes the neighbour
# snapshot and moves every agent; statistics are read back every step and timed apart.
#   benchmarks/circles.sh BUILD_DIR [CSV] ["1000000 10000000"] [REPS] [STEPS] [WARMUP]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
csv=${2:-$root/benchmarks/results/circles.csv}
sizes=${3:-"1000000 10000000"}
reps=${4:-3}
steps=${5:-200}
warmup=${6:-20}
bench=$build/benchmarks/step_throughput/step_throughput
export MYRIAD_SOURCE_DIR=$root
for agents in $sizes; do
  for r in $(seq 1 "$reps"); do
    "$bench" -b cuda -m circles -c "$root/configs/circles-1m.yaml" -a "$agents" -n "$steps" -w "$warmup" \
      -s run.seed=$((41 + r)) --csv "$csv"
  done
done
echo "rows appended to $csv"
