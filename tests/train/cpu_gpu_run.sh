#!/usr/bin/env bash
# GPU (label gpu; exit 77 = skipped without a GPU): a run with training on the CUDA backend ends
# with the same state hash and the same network, bit for bit, as on the CPU backend: the same
# search results, rewards, samples, batches and updates (search/train.cu equals search/train.c).
set -euo pipefail
command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1 || { echo "no GPU: skipped"; exit 77; }
cfg="$MYRIAD_SOURCE_DIR/configs/foraging-learn-small.yaml"
common=(--set run.steps=${STEPS:-40} --set run.progress=false --set run.record_every=5)
# Bit for bit with h5dump; where it is missing (GPU machines), the state hash and every series
# as `myriad info` prints them (first, last, min, max), and the network through the hash.
for b in cpu cuda; do
  "$MYRIAD_BIN" run "$cfg" "${common[@]}" --set run.backend=$b --set run.output=$b.h5 >$b.log
  if command -v h5dump >/dev/null; then
    h5dump -a /meta/state_hash $b.h5 | grep '(0)' >$b.hash
    h5dump -d /network/weights -y -w 1 -o $b.weights $b.h5 >/dev/null
    h5dump -d /timeseries/train_policy_loss -y -w 1 -o $b.loss $b.h5 >/dev/null
  else
    "$MYRIAD_BIN" info $b.h5 | grep "^state hash" >$b.hash
    "$MYRIAD_BIN" info $b.h5 | grep "^  train_" >$b.loss
    : >$b.weights
  fi
done
fail=0
cmp -s cpu.hash cuda.hash || { echo "state hash: cpu $(cat cpu.hash), cuda $(cat cuda.hash)"; fail=1; }
cmp -s cpu.weights cuda.weights || { echo "final networks differ"; fail=1; }
cmp -s cpu.loss cuda.loss || { echo "train_policy_loss series differ"; paste cpu.loss cuda.loss | head; fail=1; }
grep -h "wall time\|train" cpu.log cuda.log || true
[ $fail -eq 0 ] && echo "training run: CPU and GPU give the same state and network"
exit $fail
