#!/usr/bin/env bash
# The CPU backend's baseline: agent-steps/s for movement and foraging at 1M and 10M agents,
# all cores, appended to benchmarks/results/cpu_baseline.csv (host, commit, date in each row).
#   benchmarks/cpu_baseline.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
csv=$root/benchmarks/results/cpu_baseline.csv
export MYRIAD_SOURCE_DIR=$root
for model in movement foraging; do
  for agents in 1000000 10000000; do
    steps=20
    [ "$agents" -ge 10000000 ] && steps=10
    echo "+ step_throughput -m $model -a $agents -n $steps -w 2 --csv $csv" >&2
    "$build/benchmarks/step_throughput/step_throughput" -m "$model" -a "$agents" -n "$steps" -w 2 --csv "$csv"
  done
done
