# Determinism (DESIGN §4) through the command line: identical state hashes for 1, 2 and 4
# OpenMP threads and from run to run, for both built-in models and sync windows of 1 and 3;
# and a different seed gives a different hash (so the comparison can fail).
. "$MYRIAD_SOURCE_DIR/tests/cli/lib.sh"
cfgdir=$MYRIAD_SOURCE_DIR/configs

for model in movement foraging; do
  for sync in 1 3; do
    common=(-n 60 -s distributed.sync_frequency=$sync -s agents.count=20000 -s agents.capacity=80000 -s world.width=160 -s world.height=160
            -s run.snapshot_every=0 -o out-$model.h5)
    [ $model = movement ] && common+=(-s policy.kind=random)
    h1=$(run_hash "$cfgdir/$model-small.yaml" "${common[@]}" -t 1)
    check "$model sync $sync: 1-thread run printed a hash" test ${#h1} -eq 64
    for t in 2 4; do
      ht=$(run_hash "$cfgdir/$model-small.yaml" "${common[@]}" -t $t)
      check "$model sync $sync: $t threads ($ht) == 1 thread ($h1)" test "$ht" = "$h1"
    done
    again=$(run_hash "$cfgdir/$model-small.yaml" "${common[@]}" -t 2)
    check "$model sync $sync: run to run" test "$again" = "$h1"
    other=$(run_hash "$cfgdir/$model-small.yaml" "${common[@]}" -t 2 -s run.seed=7)
    check "$model sync $sync: another seed gives another hash" test "$other" != "$h1"
  done
done
finish
