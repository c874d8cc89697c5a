# Checkpoints through the command line: a run resumed from its step-20 checkpoint ends with
# the same state hash as the uninterrupted 40-step run, on another thread count; and a
# checkpoint does not resume a run with another seed (exit code 3, message names the key).
. "$MYRIAD_SOURCE_DIR/tests/cli/lib.sh"
cfg=$MYRIAD_SOURCE_DIR/configs/foraging-small.yaml
base=(-n 40 -s agents.count=2000 -s distributed.sync_frequency=2 -s run.checkpoint_every=20)

full=$(run_hash "$cfg" "${base[@]}" -o full.h5 -t 2)
check "uninterrupted run printed a hash" test ${#full} -eq 64
check "checkpoint at step 20 written" test -f full.ckpt-20.h5
check "checkpoint at step 40 written" test -f full.ckpt-40.h5
resumed=$(run_hash "$cfg" "${base[@]}" -o resumed.h5 -t 1 --resume full.ckpt-20.h5)
check "resumed run ($resumed) == uninterrupted ($full)" test "$resumed" = "$full"

"$MYRIAD_BIN" run "$cfg" "${base[@]}" -o wrong.h5 -s run.seed=5 --resume full.ckpt-20.h5 --quiet >/dev/null 2>err.log
rc=$?
check "resume with another seed exits 3 (got $rc)" test $rc -eq 3
check "the error names run.seed" grep -q seed err.log
check "no result file for the refused resume" test ! -e wrong.h5
finish
