#!/usr/bin/env bash
# Strong and weak scaling over GPU counts (run on a multi-GPU machine). Each case is one
# `myriad run` per GPU count (threads driving the GPUs, data_parallel); the rate is the run's
# agent-steps/s over its timed steps (records only at the end), the communication share and
# load imbalance come from the per-rank table. Appends rows to CSV.
#   benchmarks/scaling/scaling.sh MYRIAD CSV "GPU_COUNTS" CASE...
# CASE = name:mode:model:policy:agents:world:steps:sync[:extra --set key=value,...]
#   mode strong: `agents` in total; weak: `agents` per GPU, the same world; weakgrid: `agents`
#   per GPU and the world's height times the GPU count (each GPU's band of a spatial_parallel
#   run the same size). world: cells per side (of the one-GPU world).
set -u
bin=$1 csv=$2 counts=$3
shift 3
root=$(cd "$(dirname "$0")/../.." && pwd)
export NCCL_NVLS_ENABLE=0
hw=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
commit=${MYRIAD_COMMIT:-$(git -C "$root" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)} # set it where the tree has no .git
[ -s "$csv" ] || echo "case,mode,model,policy,sync,gpus,agents,world,steps,wall_s,agent_steps_per_s,comm_share,imbalance,speedup,efficiency,hardware,commit,date" > "$csv"
work=$(mktemp -d)
for c in "$@"; do
  IFS=: read -r name mode model policy agents world steps sync extra <<< "$c"
  base=""
  for g in $counts; do
    total=$agents height=$world
    [ "$mode" != strong ] && total=$((agents * g))
    [ "$mode" = weakgrid ] && height=$((world * g))
    sets=(-s run.steps=$steps -s run.record_every=$steps -s run.final_state=false -s run.snapshot_every=0
          -s agents.count=$total -s agents.capacity=$((total * 2)) -s world.width=$world -s world.height=$height
          -s distributed.sync_frequency=$sync -s policy.kind=$policy -s run.progress=false -o "$work/out.h5")
    if [ -n "${extra:-}" ]; then IFS=, read -ra kv <<< "$extra"; for x in "${kv[@]}"; do sets+=(-s "$x"); done; fi
    "$bin" run "$root/configs/$model-small.yaml" -b cuda -g "$g" "${sets[@]}" > "$work/run.txt" 2> "$work/err.txt"
    if [ $? -ne 0 ]; then echo "$name $g GPUs failed:"; tail -3 "$work/err.txt"; continue; fi
    rate=$(awk '/^agent-steps\/s/ {print $2}' "$work/run.txt")
    wall=$(awk '/^wall time/ {print $3}' "$work/run.txt")
    # the total row's share is its one field ending in % (the table's columns have changed before)
    comm=$(awk '$1 == "total" {for (i = 2; i <= NF; i++) if ($i ~ /%$/) {sub("%", "", $i); print $i / 100}}' "$work/run.txt")
    comm=${comm:-0}
    imb=$(awk '/^load imbalance/ {print $5}' "$work/run.txt" | tr -d ,); imb=${imb:-1}
    [ -z "$base" ] && base=$rate
    speedup=$(python3 -c "print(f'{$rate / $base:.3f}')")
    eff=$(python3 -c "print(f'{$rate / $base / $g:.3f}')")
    [ "$mode" != strong ] && speedup=$(python3 -c "print(f'{$rate / $base:.3f}')")
    echo "$name,$mode,$model,$policy,$sync,$g,$total,$world,$steps,$wall,$rate,$comm,$imb,$speedup,$eff,$hw,$commit,$(date -u +%F)" | tee -a "$csv"
  done
done
rm -rf "$work"
