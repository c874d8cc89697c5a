#!/usr/bin/env bash
# Compares policies on the same evaluation episodes: random, the heuristic, the network untrained
# and trained, MCTS with the untrained and with the trained network (issue 5's demonstration).
#
#   scripts/eval_learning.sh CONFIG TRAINED.h5 [-s "1001 1002 1003"] [-n STEPS] [-o DIR] [--runs-only | --table-only]
#                            [-- --set k=v ...]
# --runs-only makes the result files DIR/<policy>-<seed>.h5 and stops (a GPU machine without
# h5dump); --table-only reads them back and prints the table (where h5dump is).
#
# CONFIG is the training config (configs/foraging-learn*.yaml); every evaluation run uses its
# world, model and search settings with train.enabled false, run.steps STEPS (default 100) and
# run.seed from the list (default 1001..1005: not the training seed). TRAINED.h5 is the
# training run's result (its /network) or a network file (network.save). "Untrained" is the
# network network.init: random makes from each evaluation seed. Arguments after -- go to every
# run (e.g. --set run.backend=cuda).
#
# Metrics, per run, then averaged over the seeds:
#   survival  alive agents at the end / agents at the start (no births in these configs)
#   energy    total energy held by the population per initial agent, averaged over the
#             recorded steps (dead agents hold 0): what the agents gathered and kept
# Prints a table with each policy's ratio to random and to the untrained network, and writes
# DIR/eval.csv (one row per policy and seed) and DIR/eval.md (the table). Needs myriad (MYRIAD,
# or build/myriad) and h5dump (hdf5-tools, scripts/setup.sh).
set -euo pipefail

usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
[ $# -ge 2 ] || usage
config=$1 trained=$2
shift 2
seeds="1001 1002 1003 1004 1005" steps=100 out=out/eval runs=1 table=1
while [ $# -gt 0 ]; do
  case $1 in
    -s | --seeds) seeds=$2; shift 2 ;;
    -n | --steps) steps=$2; shift 2 ;;
    -o | --out) out=$2; shift 2 ;;
    --runs-only) table=0; shift ;;
    --table-only) runs=0; shift ;;
    --) shift; break ;;
    -h | --help) usage ;;
    *) echo "eval_learning.sh: unknown argument $1" >&2; usage ;;
  esac
done
extra=("$@")
root=$(cd "$(dirname "$0")/.." && pwd)
myriad=${MYRIAD:-$root/build/myriad}
[ "$runs" = 0 ] || [ -x "$myriad" ] || { echo "eval_learning.sh: no myriad at $myriad (set MYRIAD)" >&2; exit 1; }
[ "$table" = 0 ] || command -v h5dump >/dev/null || { echo "eval_learning.sh: h5dump not found (scripts/setup.sh)" >&2; exit 1; }
[ -f "$trained" ] || { echo "eval_learning.sh: no trained network $trained" >&2; exit 1; }
mkdir -p "$out"

# series FILE NAME: the values of /timeseries/NAME, one a line
series() {
  local t
  t=$(mktemp)
  h5dump -d "/timeseries/$2" -y -w 1 -o "$t" "$1" >/dev/null
  tr -d ' ,' <"$t" | grep -v '^$'
  rm -f "$t"
}

policies=(random heuristic network_untrained network_trained mcts_untrained mcts_trained)
settings() {
  case $1 in
    random) echo "--set policy.kind=random" ;;
    heuristic) echo "--set policy.kind=heuristic" ;;
    network_untrained) echo "--set policy.kind=network --set network.init=random" ;;
    network_trained) echo "--set policy.kind=network --set network.init=$trained" ;;
    mcts_untrained) echo "--set policy.kind=mcts --set network.init=random" ;;
    mcts_trained) echo "--set policy.kind=mcts --set network.init=$trained" ;;
  esac
}

csv=$out/eval.csv
echo "policy,seed,survival,energy_per_initial_agent,final_mean_energy" >"$csv"
for p in "${policies[@]}"; do
  for seed in $seeds; do
    f=$out/$p-$seed.h5
    # shellcheck disable=SC2046
    [ "$runs" = 0 ] || "$myriad" run "$config" --set train.enabled=false --set run.steps="$steps" --set run.seed="$seed" \
      --set run.output="$f" --set run.record_every=1 --set run.snapshot_every=0 --set run.progress=false \
      --set network.save= $(settings "$p") "${extra[@]}" >/dev/null
    [ "$table" = 1 ] || continue
    paste <(series "$f" population) <(series "$f" mean_energy) |
      awk -v p="$p" -v s="$seed" '{n[NR] = $1; e[NR] = $2; sum += $1 * $2}
        END {printf "%s,%s,%.6f,%.6f,%.6f\n", p, s, n[NR] / n[1], sum / NR / n[1], e[NR]}' >>"$csv"
  done
done

[ "$table" = 1 ] || { echo "result files in $out (--table-only reads them)"; exit 0; }
awk -F, 'NR > 1 {k = $1; if (!(k in n)) order[++m] = k; n[k]++; sv[k] += $3; en[k] += $4; fe[k] += $5}
  END {
    for (i = 1; i <= m; i++) { k = order[i]; sv[k] /= n[k]; en[k] /= n[k]; fe[k] /= n[k] }
    printf "| policy | survival | energy per initial agent | final mean energy | survival / random | survival / untrained net | energy / random | energy / untrained net |\n"
    printf "| --- | --- | --- | --- | --- | --- | --- | --- |\n"
    for (i = 1; i <= m; i++) {
      k = order[i]
      printf "| %s | %.3f | %.3f | %.3f | %.2f | %.2f | %.2f | %.2f |\n", k, sv[k], en[k], fe[k],
        sv[k] / sv["random"], sv[k] / sv["network_untrained"], en[k] / en["random"], en[k] / en["network_untrained"]
    }
  }' "$csv" | tee "$out/eval.md"
echo "seeds: $seeds; $steps steps; per-run rows in $csv"
# The training run's share of wall time spent training (result files of runs with training).
attr() { h5dump -a "/meta/$2" "$1" 2>/dev/null | sed -n 's/^ *(0): //p'; }
tsec=$(attr "$trained" train_seconds) wsec=$(attr "$trained" wall_seconds)
if [ -n "$tsec" ] && [ -n "$wsec" ]; then
  awk -v t="$tsec" -v w="$wsec" 'BEGIN {printf "training run: %.1f s, of which training %.1f s (%.0f%%), simulating and searching %.1f s\n", w, t, 100 * t / w, w - t}'
fi
