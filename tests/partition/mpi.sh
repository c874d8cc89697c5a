# One process per rank (mpirun, CPU backend, oversubscribed): the state hash equals the
# single-process run's for 2 and 3 processes (births and deaths on), under data_parallel and
# spatial_parallel (halos, migration and ghost agents over MPI; bands and tiles), with balance:
# dynamic (agents and band boundaries moving between processes), a checkpoint written by 2
# processes resumes in one (and a spatial one on 3 ranks of one process and 3 processes),
# training gives the single rank's network and hash (and its checkpoints resume on any rank
# count), and a failing rank stops every process with its message.
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

# spatial_parallel across processes: each process sends the halo rows, leaving agents and
# ghost agents the others need. 2 and 3 processes give the one-process hash and statistics for
# foraging (births and deaths), epidemic (published flows, deaths, the lockdown) and circles
# (ghost agents, open and wrapped; also on 2 x 2, 2 x 1 and 1 x 2 tiles), at sync 1 and a
# longer window.
series() { "$MYRIAD_BIN" info "$1" | sed -n '/^time series/,/^snapshots/p'; }
layouts=(2 3) # spatial_same's splits: N, bands on N processes; PX,PY, distributed.grid tiles
spatial_same() { # spatial_same LABEL CONFIG ARGS...
  local label=$1 config=$2 h1 hn np lay grid; shift 2
  h1=$("$MYRIAD_BIN" run "$config" "$@" -o sp1.h5 --quiet 2>err.log | tail -n 1)
  check "$label: one process printed a hash" test ${#h1} -eq 64
  series sp1.h5 >sp1.series
  for lay in "${layouts[@]}"; do
    case $lay in
      *,*) np=$((${lay%,*} * ${lay#*,})) grid=(-s "distributed.grid=[$lay]") ;;
      *) np=$lay grid=() ;;
    esac
    hn=$(mpirun_n $np "$MYRIAD_BIN" run "$config" "$@" -s distributed.strategy=spatial_parallel "${grid[@]}" -o spn.h5 \
           --quiet 2>err.log | tail -n 1)
    check "$label: mpirun -np $np spatial_parallel${grid:+ tiles [$lay]} ($hn) == one process ($h1)" test "$hn" = "$h1"
    series spn.h5 >spn.series
    check "$label: ... with the one-process statistics" cmp -s spn.series sp1.series
  done
}
for sync in 1 5; do
  spatial_same "spatial foraging sync $sync" "$cfg" -n 40 -t 1 -s agents.count=3000 -s distributed.sync_frequency=$sync
  check "spatial foraging sync $sync: births and deaths happen" \
    awk '$1 == "births" && $6 > 0 {b = 1} $1 == "deaths" && $6 > 0 {d = 1} END {exit !(b && d)}' sp1.series
  spatial_same "spatial epidemic sync $sync" "$MYRIAD_SOURCE_DIR/configs/epidemic-city.yaml" -n 40 -t 1 \
    -s agents.count=20000 -s agents.capacity=20000 -s world.width=120 -s world.height=120 \
    -s model.params.initial_infected=200 -s model.params.contact_radius_cells=1 -s model.params.fatality=0.2 \
    -s model.params.vaccination_rate=0.02 -s model.params.lockdown_threshold=0.005 -s distributed.sync_frequency=$sync
  check "spatial epidemic sync $sync: deaths, vaccination and the lockdown happen" \
    awk '$1 == "dead" && $4 > 0 {d = 1} $1 == "vaccinated" && $6 > 0 {v = 1} $1 == "locked_moves" && $6 > 0 {l = 1}
         END {exit !(d && v && l)}' sp1.series
done
# communication: async across processes: each process settles the cells no exchange touches
# before it sends and receives; bands and tiles give the one process's hash and statistics.
layouts=(3 2,2)
for sync in 1 5; do
  spatial_same "spatial async foraging sync $sync" "$cfg" -n 40 -t 1 -s agents.count=3000 \
    -s distributed.sync_frequency=$sync -s distributed.communication=async
done
layouts=(2 3 2,2 2,1 1,2) # circles on bands and on tiles (ghosts in x and y bins)
for sync in 1 3; do
  for wrap in false true; do
    spatial_same "spatial circles wrap $wrap sync $sync" "$MYRIAD_SOURCE_DIR/configs/circles-small.yaml" -n 20 -t 1 \
      -s agents.count=8000 -s agents.capacity=8000 -s model.params.radius=1.0 -s model.params.repulse=0.5 \
      -s model.params.wrap=$wrap -s distributed.sync_frequency=$sync
  done
done
mpirun_n 3 "$MYRIAD_BIN" run "$cfg" -n 20 -t 1 -s agents.count=3000 -s distributed.strategy=spatial_parallel -o spn.h5 \
  >spatial.txt 2>err.log
check "spatial: agents spread over the 3 processes' bands" test "$(awk '$1 ~ /^[0-2]$/ && $2 > 300' spatial.txt | wc -l)" -eq 3
check "spatial: every process moved bytes" test "$(awk '$1 ~ /^[0-2]$/ && $7 > 0' spatial.txt | wc -l)" -eq 3

# Tiles across processes (distributed.grid): 2 x 2 on 4 processes, 2 x 1 and 1 x 2 on 2 give the
# one-process hash and statistics for foraging (births and deaths; a 40 x 40 world, busy where
# four tiles meet) at sync 1 and 5, as for circles above; a checkpoint of 2 x 2 tile processes
# resumes in one process where the straight run ends, and [2, 2] on 2 processes is refused.
layouts=(2,2 2,1 1,2)
for sync in 1 5; do
  spatial_same "tiles foraging sync $sync" "$cfg" -n 40 -t 1 -s agents.count=3000 -s world.width=40 -s world.height=40 \
    -s distributed.sync_frequency=$sync
done
tck=(-n 40 -t 1 -s agents.count=3000 -s distributed.sync_frequency=5 -s run.checkpoint_every=20 -o tck.h5)
straight=$("$MYRIAD_BIN" run "$cfg" "${tck[@]}" --quiet 2>err.log | tail -n 1)
hn=$(mpirun_n 4 "$MYRIAD_BIN" run "$cfg" "${tck[@]}" -s distributed.strategy=spatial_parallel -s distributed.grid=[2,2] \
       --quiet 2>err.log | tail -n 1)
check "tiles: checkpointing run on 2 x 2 tile processes ($hn) == one process ($straight)" test "$hn" = "$straight"
resumed=$("$MYRIAD_BIN" run "$cfg" "${tck[@]}" --resume tck.ckpt-20.h5 --quiet 2>err.log | tail -n 1)
check "tiles: checkpoint of 2 x 2 tile processes resumed in one process ($resumed)" test "$resumed" = "$straight"
mpirun_n 2 "$MYRIAD_BIN" run "$cfg" -n 5 -s distributed.strategy=spatial_parallel -s distributed.grid=[2,2] -o bad.h5 \
  --quiet >/dev/null 2>bad.log
check "tiles: [2, 2] on 2 processes is refused" grep -q "makes 2 x 2 = 4 tiles but the team has 2 ranks" bad.log

# balance dynamic across processes, from an uneven start (5 : 1 and 4 : 1 : 1; 3 : 1 and
# 2 : 1 : 1 for circles, whose halo of neighbour bins is wider), rebalancing every 5 steps:
# data_parallel agents travel between neighbouring processes as packed rows, spatial_parallel
# band boundaries move (rows handed over with their layers, halos, agents and ghosts follow), and
# the cuts of tiles.
# The hash is the one process's, and rank 0 ends with fewer agents than on the split as cut
# (circles: 30000 agents for 40 steps, so that compute, not timing noise on an oversubscribed
# machine, decides; at 8000 for 20 steps a loaded CI machine once moved work the other way).
dynamic_same() { # dynamic_same LABEL CONFIG STRATEGY WEIGHTS2 WEIGHTS3 ARGS...
  local label=$1 config=$2 strategy=$3 w2=$4 w3=$5 h1 np w; shift 5
  h1=$("$MYRIAD_BIN" run "$config" "$@" -o dy1.h5 --quiet 2>err.log | tail -n 1)
  for np in 2 3; do
    w=$w2; [ $np = 3 ] && w=$w3
    check_rebalanced "$label: mpirun -np $np dynamic" "$h1" mpirun_n $np "$MYRIAD_BIN" run "$config" "$@" \
      -s distributed.strategy=$strategy -s distributed.device_weights=$w -o dyn.h5
  done
}
for sync in 1 5; do
  for strategy in data_parallel spatial_parallel; do
    dynamic_same "dynamic $strategy foraging sync $sync" "$cfg" $strategy [5,1] [4,1,1] -n 60 -t 1 \
      -s agents.count=6000 -s agents.capacity=30000 -s distributed.sync_frequency=$sync
  done
done
for sync in 1 3; do
  dynamic_same "dynamic spatial_parallel circles sync $sync" "$MYRIAD_SOURCE_DIR/configs/circles-small.yaml" \
    spatial_parallel [3,1] [2,1,1] -n 40 -t 1 -s agents.count=30000 -s agents.capacity=30000 -s model.params.radius=1.0 \
    -s model.params.repulse=0.5 -s distributed.sync_frequency=$sync
done
# ... and the cuts of tiles, from a cut by weights (each band of columns and of rows the summed
# weights of its ranks): 2 x 2 tiles on 4 processes from [3, 1, 1, 1] and 3 x 1 on 3 from
# [3, 1, 1] give the one process's hash, and work moved.
tl=(-n 40 -t 1 -s agents.count=3000 -s agents.capacity=30000 -s distributed.sync_frequency=5 -s run.snapshot_every=0)
h1=$("$MYRIAD_BIN" run "$cfg" "${tl[@]}" -o dy1.h5 --quiet 2>err.log | tail -n 1)
for tw in 2,2:[3,1,1,1] 3,1:[3,1,1]; do
  grid=${tw%%:*} w=${tw#*:}
  np=$((${grid%,*} * ${grid#*,}))
  check_rebalanced "tiles [$grid] from $w: mpirun -np $np dynamic" "$h1" mpirun_n $np "$MYRIAD_BIN" run "$cfg" "${tl[@]}" \
    -s distributed.strategy=spatial_parallel -s "distributed.grid=[$grid]" -s distributed.device_weights=$w -o dyn.h5
done

# A checkpoint written by 2 spatial processes ends where the straight run ends, resumed on 1
# process, on 3 spatial ranks of one process and on 3 spatial processes.
sck=(-n 40 -t 1 -s agents.count=3000 -s distributed.sync_frequency=5 -s run.checkpoint_every=20 -o sck.h5)
straight=$("$MYRIAD_BIN" run "$cfg" "${sck[@]}" --quiet 2>err.log | tail -n 1)
hn=$(mpirun_n 2 "$MYRIAD_BIN" run "$cfg" "${sck[@]}" -s distributed.strategy=spatial_parallel --quiet 2>err.log | tail -n 1)
check "spatial checkpointing run on 2 processes ($hn) == one process ($straight)" test "$hn" = "$straight"
resumed=$("$MYRIAD_BIN" run "$cfg" "${sck[@]}" --resume sck.ckpt-20.h5 --quiet 2>err.log | tail -n 1)
check "checkpoint of 2 spatial processes resumed on 1 process ($resumed)" test "$resumed" = "$straight"
resumed=$("$MYRIAD_BIN" run "$cfg" "${sck[@]}" -R 3 -s distributed.strategy=spatial_parallel --resume sck.ckpt-20.h5 \
            --quiet 2>err.log | tail -n 1)
check "... resumed on 3 spatial ranks of one process ($resumed)" test "$resumed" = "$straight"
resumed=$(mpirun_n 3 "$MYRIAD_BIN" run "$cfg" "${sck[@]}" -s distributed.strategy=spatial_parallel --resume sck.ckpt-20.h5 \
            --quiet 2>err.log | tail -n 1)
check "... resumed on 3 spatial processes ($resumed)" test "$resumed" = "$straight"

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
mpirun_n 2 "$MYRIAD_BIN" run "$learn" -n 5 -s distributed.balance=dynamic -o bad.h5 --quiet >/dev/null 2>bad.log
rc=$?
check "training with dynamic balance under mpirun is refused (exit $rc)" test $rc -ne 0
check "the message names balance: dynamic" grep -q "distributed.balance: dynamic" bad.log

# Too little capacity: births fail on some rank; every process exits, none hangs.
timeout 120 mpirun --allow-run-as-root --oversubscribe -np 2 "$MYRIAD_BIN" run "$cfg" -n 40 -t 1 -s agents.count=3000 -s agents.capacity=3001 \
  -o small.h5 --quiet >/dev/null 2>fail.log
rc=$?
check "a failing rank ends the job (exit $rc, not a timeout)" test $rc -ne 0 -a $rc -ne 124
check "its message is shown" grep -q "agents.capacity" fail.log
finish
