#!/usr/bin/env bash
# GPU step throughput (run on a GPU machine): for each model and population, first measure the
# DRAM bytes per agent-step of the step kernels with Nsight Compute over 16 steps (two sorts by
# cell included), then time the steps with
# step_throughput, which also measures the device copy bandwidth and reports the fraction of it
# reached. Rows are appended to CSV (default benchmarks/results/gpu_throughput.csv).
#   benchmarks/gpu_throughput.sh BUILD_DIR CSV "movement:1000000 foraging:10000000 ..."
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
csv=${2:-$root/benchmarks/results/gpu_throughput.csv}
runs=${3:-"movement:1000000 movement:10000000 movement:100000000 foraging:1000000 foraging:10000000 foraging:100000000"}
bench=$build/benchmarks/step_throughput/step_throughput
export MYRIAD_SOURCE_DIR=$root
work=$(mktemp -d)
declare -A measured # bytes per agent-step by model: measured at <= 10M agents, reused above
for run in $runs; do
  model=${run%%:*}
  agents=${run##*:}
  bytes=${measured[$model]:-0}
  if command -v ncu >/dev/null && [ "$agents" -le 10000000 ]; then
    ncu --clock-control none --csv --print-units base --metrics dram__bytes_read.sum,dram__bytes_write.sum \
        --log-file "$work/ncu.csv" "$bench" -b cuda -m "$model" -a "$agents" -n 16 -w 0 > "$work/ncu.out" 2>&1
    mean=$(awk '$1 == "'"$model"'" {print $3}' "$work/ncu.out")
    if [ -n "$mean" ]; then
      bytes=$(python3 "$root/benchmarks/ncu_bytes.py" "$work/ncu.csv" "$((mean * 16))") || bytes=0
      measured[$model]=$bytes
    else
      echo "ncu run failed:" >&2; tail -5 "$work/ncu.out" >&2
    fi
  fi
  echo "+ step_throughput -b cuda -m $model -a $agents -n 16 -w 8 --bytes $bytes" >&2
  "$bench" -b cuda -m "$model" -a "$agents" -n 16 -w 8 --bytes "$bytes" --csv "$csv"
done
rm -rf "$work"
