# One process per rank (mpirun, CPU backend, oversubscribed): the state hash equals the
# single-process run's for 2 and 3 processes (births and deaths on), a checkpoint written by 2
# processes resumes in one, training gives the single rank's network and hash (and its
# checkpoints resume on any rank count), and a failing rank stops every process with its message.
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

# Training (train.enabled): rank 0 gathers every process's finished samples in the global order,
# updates and broadcasts its weights, so 2 and 3 processes give the single rank's hash, network
# (/network and network.save) and training series. A checkpoint of a training team holds the
# leader's network, Adam state and replay and every rank's unfinished samples: written by 2
# processes it resumes on 1 rank, 3 processes, 3 ranks of one process and 2 spatial bands, and
# written by 2 ranks of one process it resumes on 2 processes, each where the straight run ends.
learn=$MYRIAD_SOURCE_DIR/configs/foraging-learn-small.yaml
tr=(-n 30 -t 1 -s run.checkpoint_every=10)
trained() { # trained NAME COMMAND...: the hash, /network and network.save as one digest
  local name=$1; shift
  "$@" -s network.save=$name.net.h5 -o $name.h5 --quiet 2>err.log | tail -n 1 >$name.hash
  h5dump -d /network/weights -y -w 1 -o $name.w $name.h5 >/dev/null 2>&1 || echo "no /network" >$name.w
  h5dump -d /network/weights -y -w 1 -o $name.saved $name.net.h5 >/dev/null 2>&1 || echo "no network.save" >$name.saved
  "$MYRIAD_BIN" info $name.h5 | grep "train_" >$name.series
  cat $name.hash $name.w $name.saved | sha256sum | cut -c1-16
}
base=$(trained t1 "$MYRIAD_BIN" run "$learn" "${tr[@]}")
check "training: one process printed a hash" test "$(wc -L <t1.hash)" -eq 64
check "training: updates happened" grep -Eq "train_updates_applied +[0-9]+ +0 +[1-9]" t1.series
check "training: network.save holds the result's /network" cmp -s t1.w t1.saved
for np in 2 3; do
  d=$(trained tm$np mpirun_n $np "$MYRIAD_BIN" run "$learn" "${tr[@]}")
  check "training: mpirun -np $np gives the single rank's hash and network ($d, $base)" test "$d" = "$base"
  check "training: mpirun -np $np gives its training series" cmp -s tm$np.series t1.series
done
d=$(trained c1 "$MYRIAD_BIN" run "$learn" "${tr[@]}" --resume tm2.ckpt-10.h5)
check "training: a checkpoint of 2 processes resumed on 1 rank ends where the straight run ends" test "$d" = "$base"
d=$(trained c3 mpirun_n 3 "$MYRIAD_BIN" run "$learn" "${tr[@]}" --resume tm2.ckpt-10.h5)
check "training: ... resumed on 3 processes" test "$d" = "$base"
check "training: ... with the same training series" cmp -s c3.series c1.series
d=$(trained cr3 "$MYRIAD_BIN" run "$learn" "${tr[@]}" -R 3 --resume tm2.ckpt-20.h5)
check "training: ... resumed on 3 ranks of one process" test "$d" = "$base"
d=$(trained cs2 "$MYRIAD_BIN" run "$learn" "${tr[@]}" -R 2 -s distributed.strategy=spatial_parallel --resume tm2.ckpt-10.h5)
check "training: ... resumed on 2 spatial bands" test "$d" = "$base"
"$MYRIAD_BIN" run "$learn" "${tr[@]}" -R 2 -o tr2.h5 --quiet >/dev/null 2>err.log
d=$(trained cm2 mpirun_n 2 "$MYRIAD_BIN" run "$learn" "${tr[@]}" --resume tr2.ckpt-20.h5)
check "training: a checkpoint of 2 ranks of one process resumed on 2 processes" test "$d" = "$base"
mpirun_n 2 "$MYRIAD_BIN" run "$learn" -n 5 -s distributed.strategy=spatial_parallel -o bad.h5 --quiet >/dev/null 2>bad.log
rc=$?
check "training on spatial bands under mpirun is refused (exit $rc)" test $rc -ne 0
check "the message names spatial_parallel" grep -q "spatial_parallel" bad.log

# Too little capacity: births fail on some rank; every process exits, none hangs.
timeout 120 mpirun --allow-run-as-root --oversubscribe -np 2 "$MYRIAD_BIN" run "$cfg" -n 40 -t 1 -s agents.count=3000 -s agents.capacity=3001 \
  -o small.h5 --quiet >/dev/null 2>fail.log
rc=$?
check "a failing rank ends the job (exit $rc, not a timeout)" test $rc -ne 0 -a $rc -ne 124
check "its message is shown" grep -q "agents.capacity" fail.log
finish
