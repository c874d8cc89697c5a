# One process per rank (mpirun, CPU backend, oversubscribed): the state hash equals the
# single-process run's for 2 and 3 processes (births and deaths on), a checkpoint written by 2
# processes resumes in one, and a failing rank stops every process with its message.
. "$MYRIAD_SOURCE_DIR/tests/cli/lib.sh"
cfg=$MYRIAD_SOURCE_DIR/configs/foraging-small.yaml
mpirun_n() { local n=$1; shift; mpirun --allow-run-as-root --oversubscribe -np "$n" "$@"; }
common=(-n 40 -t 1 -s agents.count=3000 -s distributed.sync_frequency=2 -s run.checkpoint_every=20 -o out.h5)

h1=$("$MYRIAD_BIN" run "$cfg" "${common[@]}" --quiet 2>err.log | tail -n 1)
check "one process printed a hash" test ${#h1} -eq 64
for np in 2 3; do
  hn=$(mpirun_n $np "$MYRIAD_BIN" run "$cfg" "${common[@]}" --quiet 2>err.log | tail -n 1)
  check "mpirun -np $np ($hn) == one process ($h1)" test "$hn" = "$h1"
done
resumed=$("$MYRIAD_BIN" run "$cfg" "${common[@]}" --resume out.ckpt-20.h5 --quiet 2>err.log | tail -n 1)
check "checkpoint of 2 processes resumed in one ($resumed)" test "$resumed" = "$h1"

# Too little capacity: births fail on some rank; every process exits, none hangs.
timeout 120 mpirun --allow-run-as-root --oversubscribe -np 2 "$MYRIAD_BIN" run "$cfg" -n 40 -t 1 -s agents.count=3000 -s agents.capacity=3001 \
  -o small.h5 --quiet >/dev/null 2>fail.log
rc=$?
check "a failing rank ends the job (exit $rc, not a timeout)" test $rc -ne 0 -a $rc -ne 124
check "its message is shown" grep -q "agents.capacity" fail.log
finish
