# The determinism contract across ranks (DESIGN §4.1) on CPU ranks of the host transport:
# identical state hashes for 1, 2 and 4 ranks, sync windows of 1 and 5, births and deaths on,
# for the built-in models, for MCTS decisions, for proportional balance, for dynamic balance
# (agents moving between ranks, band boundaries moving), for epidemic on bands, for tiles
# (distributed.grid), and for a run resumed on another rank count. A different seed must give a
# different hash (the check can fail).
. "$MYRIAD_SOURCE_DIR/tests/cli/lib.sh"
cfgdir=$MYRIAD_SOURCE_DIR/configs
series() { "$MYRIAD_BIN" info "$1" | sed -n '/^time series/,/^snapshots/p'; } # a result's statistics

same_for_ranks() { # same_for_ranks LABEL CONFIG ARGS...: 1, 2 and 4 ranks give one hash
  local label=$1 config=$2; shift 2
  local h1 hr
  h1=$(run_hash "$config" "$@" -R 1)
  check "$label: 1 rank printed a hash" test ${#h1} -eq 64
  for r in 2 4; do
    hr=$(run_hash "$config" "$@" -R $r)
    check "$label: $r ranks ($hr) == 1 rank ($h1)" test "$hr" = "$h1"
  done
}

for sync in 1 5; do
  common=(-n 40 -t 2 -s distributed.sync_frequency=$sync -s run.snapshot_every=0 -o out.h5)
  same_for_ranks "foraging sync $sync" "$cfgdir/foraging-small.yaml" "${common[@]}" -s agents.count=3000
  same_for_ranks "movement sync $sync" "$cfgdir/movement-small.yaml" "${common[@]}" -s agents.count=5000
  same_for_ranks "epidemic sync $sync" "$cfgdir/epidemic-city.yaml" "${common[@]}" -s agents.count=20000 \
    -s world.width=200 -s world.height=200 -s model.params.initial_infected=50
done

# spatial_parallel: bands of rows with halos and migrating agents give the same hashes
for sync in 1 5; do
  sp=(-n 40 -t 2 -s distributed.strategy=spatial_parallel -s distributed.sync_frequency=$sync -s run.snapshot_every=0 -o out.h5)
  same_for_ranks "spatial foraging sync $sync" "$cfgdir/foraging-small.yaml" "${sp[@]}" -s agents.count=3000
  same_for_ranks "spatial movement sync $sync" "$cfgdir/movement-small.yaml" "${sp[@]}" -s agents.count=5000
done
same_for_ranks "spatial foraging mcts" "$cfgdir/foraging-small.yaml" -n 6 -t 2 -s agents.count=300 -s policy.kind=mcts \
  -s policy.mcts.simulations=8 -s distributed.strategy=spatial_parallel -s run.snapshot_every=0 -o out.h5
hd=$(run_hash "$cfgdir/foraging-small.yaml" -n 40 -s agents.count=3000 -o out.h5 -R 1)
hs=$(run_hash "$cfgdir/foraging-small.yaml" -n 40 -s agents.count=3000 -o out.h5 -R 3 -s distributed.strategy=spatial_parallel \
       -s distributed.balance=proportional -s distributed.device_weights=[1,2,1])
check "spatial, 3 uneven bands ($hs) == one rank ($hd)" test "$hs" = "$hd"
"$MYRIAD_BIN" run "$cfgdir/foraging-small.yaml" -n 40 -R 4 -s distributed.strategy=spatial_parallel \
  -s distributed.sync_frequency=5 -s agents.count=3000 -o out.h5 >spatial.txt 2>err.log
check "spatial: agents spread over the 4 bands" test "$(awk '$1 ~ /^[0-3]$/ && $2 > 100' spatial.txt | wc -l)" -eq 4

# communication: async (the cell functions on cells no exchange touches, births and the
# compaction go on before a rank waits for the others): the one-rank hash and statistics on
# bands and tiles, at sync 1 and 5, for foraging (births, deaths, contested cells) and epidemic
# (cell contacts), also with the cuts moving; refused under data_parallel.
async_same() { # async_same LABEL CONFIG ARGS...
  local label=$1 config=$2 h1 h lay r grid; shift 2
  h1=$(run_hash "$config" "$@" -R 1 -o as1.h5)
  series as1.h5 >as1.series
  check "$label: the one-rank run has statistics" test "$(wc -l <as1.series)" -gt 3
  for lay in 3 2,2; do
    case $lay in
      *,*) r=$((${lay%,*} * ${lay#*,})) grid=(-s "distributed.grid=[$lay]") ;;
      *) r=$lay grid=() ;;
    esac
    h=$(run_hash "$config" "$@" -R $r -s distributed.strategy=spatial_parallel "${grid[@]}" \
          -s distributed.communication=async -o asn.h5)
    check "$label: async on $r ranks${grid:+ (tiles [$lay])} ($h) == 1 rank ($h1)" test "$h" = "$h1"
    series asn.h5 >asn.series
    check "$label: async on $r ranks: the one-rank statistics" cmp -s asn.series as1.series
  done
}
for sync in 1 5; do
  async_same "foraging sync $sync" "$cfgdir/foraging-small.yaml" -n 40 -t 2 -s agents.count=3000 \
    -s distributed.sync_frequency=$sync -s run.snapshot_every=0
  async_same "epidemic sync $sync" "$cfgdir/epidemic-city.yaml" -n 40 -t 2 -s agents.count=20000 -s world.width=200 \
    -s world.height=200 -s model.params.initial_infected=50 -s distributed.sync_frequency=$sync -s run.snapshot_every=0
done
h1=$(run_hash "$cfgdir/foraging-small.yaml" -n 40 -t 2 -s agents.count=3000 -s agents.capacity=30000 -R 1)
h=$(run_hash "$cfgdir/foraging-small.yaml" -n 40 -t 2 -s agents.count=3000 -s agents.capacity=30000 -R 4 \
      -s distributed.strategy=spatial_parallel -s distributed.grid=[2,2] -s distributed.communication=async \
      -s distributed.balance=dynamic -s distributed.rebalance_interval=5)
check "async with the cuts of 2 x 2 tiles moving ($h) == 1 rank ($h1)" test "$h" = "$h1"
rm -f bad.h5 bad.h5.part
"$MYRIAD_BIN" run "$cfgdir/foraging-small.yaml" -n 5 -R 2 -s distributed.communication=async -o bad.h5 >bad.txt 2>err.log
check "async under data_parallel is refused" grep -q "data_parallel's sums cover every cell" err.log
check "... and nothing was written" test ! -e bad.h5 -a ! -e bad.h5.part

# distributed.regions names the bands (or tiles) in rank order: the table's last column and
# /perf/<rank>/region; refused under data_parallel and with a name per rank missing.
"$MYRIAD_BIN" run "$cfgdir/foraging-small.yaml" -n 10 -R 3 -s distributed.strategy=spatial_parallel -s agents.count=3000 \
  -s "distributed.regions=[west, central, east]" -o named.h5 >named.txt 2>err.log
check "regions: the table names the bands" test "$(awk '$1 ~ /^[0-2]$/ {printf "%s ", $NF}' named.txt)" = "west central east "
check "regions: /perf/2/region is east" test "$(h5dump -a /perf/2/region named.h5 | sed -n 's/^ *(0): //p')" = '"east"'
check "myriad info shows the per-rank table with the regions" \
  test "$("$MYRIAD_BIN" info named.h5 | awk '/^perf/ {p = 1; next} p && $1 ~ /^[0-2]$/ {printf "%s ", $NF}')" = "west central east "
rm -f bad.h5 bad.h5.part
"$MYRIAD_BIN" run "$cfgdir/foraging-small.yaml" -n 10 -R 2 -s "distributed.regions=[west, east]" -o bad.h5 >bad.txt 2>err.log
check "regions under data_parallel are refused" grep -q "distributed.regions names the bands or tiles of spatial_parallel" err.log
"$MYRIAD_BIN" run "$cfgdir/foraging-small.yaml" -n 10 -R 3 -s distributed.strategy=spatial_parallel \
  -s "distributed.regions=[west, east]" -o bad.h5 >bad.txt 2>err.log
check "regions: 2 names for 3 ranks are refused" grep -q "distributed.regions has 2 names but the team has 3 ranks" err.log
check "a refused run leaves no result file" test ! -e bad.h5 -a ! -e bad.h5.part

# circles (neighbour queries in continuous space): bands of neighbour bins along y, ghost agents
# near each band in every rank's snapshot, agents moving between bands: the one-rank hash, open
# and wrapped cube, sync 1 and 3, and from a checkpoint of 2 bands resumed on 4 and 1. Too many
# ranks for the halo, and data_parallel, are refused before anything runs.
circles_ranks() {
  local c=$cfgdir/circles-small.yaml wrap sync h r
  local cs=(-n 20 -t 2 -s agents.count=8000 -s agents.capacity=8000 -s model.params.radius=1.0
            -s model.params.repulse=0.5 -s distributed.strategy=spatial_parallel -s run.snapshot_every=0 -o out.h5)
  for wrap in false true; do
    for sync in 1 3; do
      same_for_ranks "circles spatial wrap $wrap sync $sync" "$c" "${cs[@]}" -s model.params.wrap=$wrap \
        -s distributed.sync_frequency=$sync
    done
  done
  "$MYRIAD_BIN" run "$c" "${cs[@]}" -R 4 >circles.txt 2>err.log
  check "circles spatial: agents spread over the 4 bands" \
    test "$(awk '$1 ~ /^[0-3]$/ && $2 > 1000' circles.txt | wc -l)" -eq 4
  h=$(run_hash "$c" "${cs[@]}" -n 18 -s distributed.sync_frequency=3 -s run.checkpoint_every=9 -o ck.h5 -R 2)
  for r in 4 1; do
    resumed=$(run_hash "$c" "${cs[@]}" -n 18 -s distributed.sync_frequency=3 -s run.checkpoint_every=9 -o ck.h5 -R $r \
      --resume ck.ckpt-9.h5)
    check "circles: checkpoint of 2 bands resumed on $r ranks ($resumed) == straight ($h)" test "$resumed" = "$h"
  done
  "$MYRIAD_BIN" run "$c" -R 8 -s agents.count=8000 -s distributed.strategy=spatial_parallel \
    -s distributed.sync_frequency=3 -o bad.h5 --quiet 2>bad.log
  check "circles: bands thinner than the halo exit 2" test $? -eq 2
  check "the message gives the halo in bins" grep -q "neighbour bins along y, fewer than the halo of" bad.log
  "$MYRIAD_BIN" run "$c" -R 2 -s agents.count=8000 -o bad.h5 --quiet 2>bad.log
  check "circles: data_parallel on 2 ranks exits 2" test $? -eq 2
  check "the message names spatial_parallel" grep -q "several ranks share only under spatial_parallel" bad.log
  check "nothing was written" test ! -e bad.h5 -a ! -e bad.h5.part
}
circles_ranks

# Tiles (distributed.grid: [px, py]): halos on every side, corners included, agents and ghosts
# crossing both axes. 2 x 2 on 4 ranks, 2 x 1 and 1 x 2 on 2 give the one-rank hash and
# statistics for foraging (births and deaths, contested cells) at sync 1 and 5, epidemic (a
# contact block through the halo, published flows) at sync 5, and circles (ghosts in x and y
# bins), open and wrapped, at sync 1 and 3; a checkpoint written by 2 x 2 tiles resumes on 1
# rank and on 2 x 1 tiles where the straight run ends.
same_for_tiles() { # same_for_tiles LABEL CONFIG ARGS...
  local label=$1 config=$2 h1 h g; shift 2
  h1=$(run_hash "$config" "$@" -o tile1.h5 -R 1)
  check "$label: 1 rank printed a hash" test ${#h1} -eq 64
  series tile1.h5 >tile1.series
  for g in 2,2 2,1 1,2; do
    h=$(run_hash "$config" "$@" -o tiles.h5 -R $((${g%,*} * ${g#*,})) -s distributed.strategy=spatial_parallel \
          -s "distributed.grid=[$g]")
    check "$label: tiles [$g] ($h) == 1 rank ($h1)" test "$h" = "$h1"
    series tiles.h5 >tiles.series
    check "$label: tiles [$g] give the one-rank statistics" cmp -s tiles.series tile1.series
  done
}
for sync in 1 5; do # a 40 x 40 world: much happens near the corners where four tiles meet
  same_for_tiles "tiles foraging sync $sync" "$cfgdir/foraging-small.yaml" -n 40 -t 2 -s agents.count=3000 \
    -s world.width=40 -s world.height=40 -s distributed.sync_frequency=$sync
  check "tiles foraging sync $sync: births and deaths happen" \
    awk '$1 == "births" && $6 > 0 {b = 1} $1 == "deaths" && $6 > 0 {d = 1} END {exit !(b && d)}' tile1.series
done
same_for_tiles "tiles epidemic sync 5" "$cfgdir/epidemic-city.yaml" -n 40 -t 2 -s agents.count=5000 \
  -s agents.capacity=5000 -s world.width=40 -s world.height=40 -s model.params.initial_infected=200 \
  -s model.params.contact_radius_cells=1 -s model.params.fatality=0.2 -s model.params.lockdown_threshold=0.005 \
  -s distributed.sync_frequency=5
for wrap in false true; do
  for sync in 1 3; do
    same_for_tiles "tiles circles wrap $wrap sync $sync" "$cfgdir/circles-small.yaml" -n 20 -t 2 -s agents.count=8000 \
      -s agents.capacity=8000 -s model.params.radius=1.0 -s model.params.repulse=0.5 -s model.params.wrap=$wrap \
      -s distributed.sync_frequency=$sync
  done
done
"$MYRIAD_BIN" run "$cfgdir/circles-small.yaml" -n 20 -R 4 -s agents.count=8000 -s distributed.strategy=spatial_parallel \
  -s distributed.grid=[2,2] -o tiles.h5 >tiles.txt 2>err.log
check "tiles circles: agents spread over the 4 tiles" test "$(awk '$1 ~ /^[0-3]$/ && $2 > 1000' tiles.txt | wc -l)" -eq 4
tck=(-n 40 -t 2 -s agents.count=3000 -s distributed.sync_frequency=5 -s run.checkpoint_every=20 -o tck.h5)
straight=$(run_hash "$cfgdir/foraging-small.yaml" "${tck[@]}" -R 1)
h=$(run_hash "$cfgdir/foraging-small.yaml" "${tck[@]}" -R 4 -s distributed.strategy=spatial_parallel -s distributed.grid=[2,2])
check "tiles: the checkpointing run on 2 x 2 tiles ($h) == 1 rank ($straight)" test "$h" = "$straight"
resumed=$(run_hash "$cfgdir/foraging-small.yaml" "${tck[@]}" -R 1 --resume tck.ckpt-20.h5)
check "tiles: checkpoint of 2 x 2 tiles resumed on 1 rank ($resumed) == straight" test "$resumed" = "$straight"
resumed=$(run_hash "$cfgdir/foraging-small.yaml" "${tck[@]}" -R 2 -s distributed.strategy=spatial_parallel \
            -s distributed.grid=[2,1] --resume tck.ckpt-20.h5)
check "tiles: ... resumed on 2 x 1 tiles ($resumed) == straight" test "$resumed" = "$straight"

# Tiles cut by weights (balance proportional: each band of columns, and of rows, takes the
# summed weights of its ranks), and under balance dynamic from such a cut: the bands of columns
# and of rows move toward equal compute times (the cuts stay straight lines), cells changing
# owner with their layers, agents and ghosts following. The one-rank hash, and work moved
# (check_rebalanced; the agents handed over are under /perf).
hw=$(run_hash "$cfgdir/foraging-small.yaml" -n 40 -t 2 -s agents.count=3000 -s agents.capacity=30000 -R 1)
h=$(run_hash "$cfgdir/foraging-small.yaml" -n 40 -t 2 -s agents.count=3000 -s agents.capacity=30000 -R 4 \
      -s distributed.strategy=spatial_parallel -s distributed.grid=[2,2] -s distributed.balance=proportional \
      -s distributed.device_weights=[3,1,1,1])
check "proportional tiles [2, 2] by [3, 1, 1, 1] ($h) == 1 rank ($hw)" test "$h" = "$hw"
dynamic_tiles() { # dynamic_tiles LABEL CONFIG GRID WEIGHTS ARGS...
  local label=$1 config=$2 grid=$3 w=$4 h1 ranks; shift 4
  h1=$(run_hash "$config" "$@" -R 1)
  ranks=$((${grid%,*} * ${grid#*,}))
  check_rebalanced "$label: dynamic tiles [$grid] from $w" "$h1" "$MYRIAD_BIN" run "$config" "$@" -R $ranks \
    -s distributed.strategy=spatial_parallel -s "distributed.grid=[$grid]" -s distributed.device_weights=$w -o dyntiles.h5
}
for sync in 1 5; do
  dynamic_tiles "foraging sync $sync" "$cfgdir/foraging-small.yaml" 2,2 [3,1,1,1] -n 40 -t 2 -s agents.count=3000 \
    -s agents.capacity=30000 -s distributed.sync_frequency=$sync -s run.snapshot_every=0
done
dynamic_tiles "foraging" "$cfgdir/foraging-small.yaml" 3,1 [3,1,1] -n 40 -t 2 -s agents.count=3000 \
  -s agents.capacity=30000 -s run.snapshot_every=0
dynamic_tiles "circles sync 3" "$cfgdir/circles-small.yaml" 2,2 [3,1,1,1] -n 30 -t 2 -s agents.count=20000 \
  -s agents.capacity=20000 -s model.params.radius=1.0 -s distributed.sync_frequency=3 -s run.snapshot_every=0

# Training across ranks: the same samples, batches and updates, so the same network, series
# and hash for 1, 2 and 4 ranks (data_parallel) and 2 and 3 bands (spatial_parallel), sync 1 and 5.
learn=$MYRIAD_SOURCE_DIR/configs/foraging-learn-small.yaml
trained() { # trained NAME ARGS...: runs, then prints hash, weights and training series as one digest
  local name=$1; shift
  "$MYRIAD_BIN" run "$learn" -n 30 -t 2 -o "$name.h5" --quiet "$@" >"$name.hash" 2>err.log || echo "run failed" >>"$name.hash"
  h5dump -d /network/weights -y -w 1 -o "$name.w" "$name.h5" >/dev/null 2>&1
  "$MYRIAD_BIN" info "$name.h5" | grep "train_" >"$name.series"
  cat "$name.hash" "$name.w" "$name.series" | sha256sum | cut -c1-16
}
for sync in 1 5; do
  base=$(trained t1 -R 1 -s distributed.sync_frequency=$sync)
  check "training sync $sync: a trained network was written" test -s t1.w
  check "training sync $sync: updates happened" grep -Eq "train_updates_applied +[0-9]+ +0 +[1-9]" t1.series
  for r in 2 4; do
    d=$(trained t$r -R $r -s distributed.sync_frequency=$sync)
    check "training sync $sync: $r ranks give the one-rank network, series and hash" test "$d" = "$base"
  done
  for r in 2 3; do
    d=$(trained s$r -R $r -s distributed.sync_frequency=$sync -s distributed.strategy=spatial_parallel)
    check "training sync $sync: $r spatial bands give the one-rank network, series and hash" test "$d" = "$base"
  done
done
other=$(trained o2 -R 2 -s run.seed=9)
check "training: another seed gives another digest" test "$other" != "$base"

# balance dynamic: agents move between ranks toward equal compute times; results stay the same.
# 50K agents kept alive (flat resources, low metabolism: 50K -> 72K in 60 steps, ~30 ms a step):
# with the config's hills 6000 agents fell to ~870, a step took 0.5 ms, and on a loaded 2-core
# CI machine the measured times were noise (once: imbalance 1.59 at the end).
pop=(-s agents.count=50000 -s agents.capacity=150000 -s world.width=256 -s world.height=256
     -s model.params.hill_radius=2 -s model.params.metabolism=0.2)
dyn=(-n 60 -t 2 "${pop[@]}" -s distributed.balance=dynamic -s distributed.device_weights=[5,1]
     -s distributed.rebalance_interval=5)
h1=$(run_hash "$cfgdir/foraging-small.yaml" -n 60 "${pop[@]}" -o out.h5 -R 1)
"$MYRIAD_BIN" run "$cfgdir/foraging-small.yaml" "${dyn[@]}" -R 2 -o dyn.h5 >dyn.txt 2>err.log
check "dynamic balance: the one-rank hash" grep -q "$h1" dyn.txt
imb=$(sed -n 's/.*load imbalance (max\/mean agents) \([0-9.]*\).*/\1/p' dyn.txt)
check "dynamic balance evens a 5:1 start (imbalance 1.67 -> $imb)" awk -v x="${imb:-9}" 'BEGIN {exit !(x < 1.45)}'
handed=$(h5dump -a /perf/0/handed_agents dyn.h5 | sed -n 's/^ *(0): //p')
check "rank 0 handed agents over (/perf/0/handed_agents $handed)" awk -v x="${handed:-0}" 'BEGIN {exit !(x > 0)}'
check "the table says how often work moved" grep -Eq "^balance dynamic: work moved at [1-9][0-9]* of [1-9]" dyn.txt
d=$(trained dl -R 3 -s distributed.balance=dynamic -s distributed.device_weights=[4,1,1] -s distributed.rebalance_interval=3)
base1=$(trained dl1 -R 1)
check "dynamic balance with training: the one-rank network, series and hash" test "$d" = "$base1"

# balance dynamic on bands: from bands cut 5 : 1 (5 : 1 : 1 : 1 on 4 ranks; 3 : 1 and 2 : 1 : 1 : 1
# for circles, whose halo of neighbour bins is wider) the boundaries move every 5 steps toward
# equal compute times: rows change owner with their layers, halos, agents and ghosts follow. The
# hash is the one rank's, and rank 0 ends with fewer agents than where the bands were cut.
dynamic_bands() { # dynamic_bands LABEL CONFIG WEIGHTS2 WEIGHTS4 ARGS...
  local label=$1 config=$2 w2=$3 w4=$4 h1 r w; shift 4
  h1=$(run_hash "$config" "$@" -R 1)
  for r in 2 4; do
    w=$w2; [ $r = 4 ] && w=$w4
    check_rebalanced "$label: $r dynamic bands" "$h1" "$MYRIAD_BIN" run "$config" "$@" -R $r \
      -s distributed.strategy=spatial_parallel -s distributed.device_weights=$w
  done
}
for sync in 1 5; do
  dynamic_bands "dynamic bands foraging sync $sync" "$cfgdir/foraging-small.yaml" [5,1] [5,1,1,1] -n 60 -t 2 \
    -s agents.count=6000 -s agents.capacity=30000 -s distributed.sync_frequency=$sync -s run.snapshot_every=0 -o out.h5
done
for sync in 1 3; do
  dynamic_bands "dynamic bands circles sync $sync" "$cfgdir/circles-small.yaml" [3,1] [2,1,1,1] -n 40 -t 2 \
    -s agents.count=30000 -s agents.capacity=30000 -s model.params.radius=1.0 -s model.params.repulse=0.5 \
    -s distributed.sync_frequency=$sync -s run.snapshot_every=0 -o out.h5
done

# births and deaths really happen in the foraging runs above
"$MYRIAD_BIN" run "$cfgdir/foraging-small.yaml" -n 40 -R 2 -s agents.count=3000 -o out.h5 >summary.txt 2>err.log
check "foraging on 2 ranks has births and deaths" grep -Eq "births / deaths +[1-9][0-9]* / [1-9]" summary.txt
check "the per-rank table is printed" grep -q "load imbalance" summary.txt
check "the result holds /perf for 2 ranks" test "$(h5dump -a /perf/ranks out.h5 | sed -n 's/^ *(0): //p')" = 2
check "/perf/1 has the rank's communication time" h5dump -a /perf/1/comm_seconds out.h5
check "/meta ranks is 2" test "$(h5dump -a /meta/ranks out.h5 | sed -n 's/^ *(0): //p')" = 2
"$MYRIAD_BIN" run "$cfgdir/foraging-small.yaml" -n 20 -R 2 -s agents.count=3000 -s distributed.baseline_rate=1000 \
  -o eff.h5 >eff.txt 2>err.log
check "a baseline rate gives the scaling efficiency in the table" grep -q "scaling efficiency" eff.txt
check "and under /perf" h5dump -a /perf/scaling_efficiency eff.h5

mcts=(-n 6 -t 2 -s agents.count=300 -s policy.kind=mcts -s policy.mcts.simulations=8 -s run.snapshot_every=0 -o out.h5)
same_for_ranks "foraging mcts" "$cfgdir/foraging-small.yaml" "${mcts[@]}"

h1=$(run_hash "$cfgdir/foraging-small.yaml" -n 30 -s agents.count=3000 -o out.h5 -R 1)
hp=$(run_hash "$cfgdir/foraging-small.yaml" -n 30 -s agents.count=3000 -o out.h5 -R 2 \
       -s distributed.balance=proportional -s distributed.device_weights=[3,1])
check "proportional balance [3, 1] gives the same hash" test "$hp" = "$h1"
other=$(run_hash "$cfgdir/foraging-small.yaml" -n 30 -s agents.count=3000 -o out.h5 -R 2 -s run.seed=7)
check "another seed gives another hash" test "$other" != "$h1"

# A checkpoint written by 2 ranks, resumed on 4 (and on 1), ends where the straight run ends.
ck=(-s agents.count=3000 -s distributed.sync_frequency=5 -s run.checkpoint_every=20 -o ck.h5)
straight=$(run_hash "$cfgdir/foraging-small.yaml" -n 40 "${ck[@]}" -R 2)
for r in 4 1; do
  resumed=$(run_hash "$cfgdir/foraging-small.yaml" -n 40 "${ck[@]}" -R $r --resume ck.ckpt-20.h5)
  check "checkpoint of 2 ranks resumed on $r ranks ($resumed) == straight ($straight)" test "$resumed" = "$straight"
done

# A checkpoint of 2 data_parallel ranks resumed as 4 spatial bands ends where the straight run ends.
resumed=$(run_hash "$cfgdir/foraging-small.yaml" -n 40 "${ck[@]}" -R 4 -s distributed.strategy=spatial_parallel \
  --resume ck.ckpt-20.h5)
check "checkpoint of 2 ranks resumed as 4 spatial bands ($resumed) == straight" test "$resumed" = "$straight"

# epidemic on bands: prevalence, the lockdown and well-mixed infection read the team's published
# flows, contacts the 3x3 block through the halo. 1, 2 and 4 ranks x data_parallel and
# spatial_parallel x sync 1 and 5 give one hash, with deaths, vaccination and a lockdown on;
# so does a checkpoint of 2 bands resumed on 4 bands, 3 data_parallel ranks and 1.
epidemic_bands() {
  local epi=(-n 40 -t 2 -s agents.count=20000 -s agents.capacity=20000 -s world.width=120 -s world.height=120
             -s model.params.initial_infected=200 -s model.params.contact_radius_cells=1 -s model.params.fatality=0.2
             -s model.params.vaccination_rate=0.02 -s model.params.lockdown_threshold=0.005 -s run.snapshot_every=0)
  local cfg=$cfgdir/epidemic-city.yaml sync mix h1 h strategy r
  for mix in spatial well_mixed; do
    for sync in 1 5; do
      [ $mix = well_mixed ] && [ $sync = 1 ] && continue
      h1=$(run_hash "$cfg" "${epi[@]}" -s model.params.mixing=$mix -s distributed.sync_frequency=$sync -o epi.h5 -R 1)
      check "epidemic $mix sync $sync: 1 rank printed a hash" test ${#h1} -eq 64
      "$MYRIAD_BIN" info epi.h5 >epi.txt
      check "epidemic $mix sync $sync: deaths, vaccination and the lockdown happen" \
        awk '$1 == "dead" && $4 > 0 {d = 1} $1 == "vaccinated" && $6 > 0 {v = 1} $1 == "locked_moves" && $6 > 0 {l = 1}
             END {exit !(d && v && l)}' epi.txt
      for strategy in data_parallel spatial_parallel; do
        for r in 2 4; do
          h=$(run_hash "$cfg" "${epi[@]}" -s model.params.mixing=$mix -s distributed.sync_frequency=$sync -o epi.h5 -R $r \
                -s distributed.strategy=$strategy)
          check "epidemic $mix sync $sync: $r ranks $strategy ($h) == 1 rank ($h1)" test "$h" = "$h1"
        done
      done
    done
  done
  local ck=("${epi[@]}" -s distributed.sync_frequency=5 -s run.checkpoint_every=20 -o eck.h5)
  local straight resumed
  straight=$(run_hash "$cfg" "${ck[@]}" -R 2 -s distributed.strategy=spatial_parallel)
  check "epidemic: the checkpoint at step 20 was written" test -f eck.ckpt-20.h5
  for r in "4 spatial_parallel" "3 data_parallel" "1 data_parallel"; do
    set -- $r
    resumed=$(run_hash "$cfg" "${ck[@]}" -R $1 -s distributed.strategy=$2 --resume eck.ckpt-20.h5)
    check "epidemic: checkpoint of 2 bands resumed on $1 ranks $2 ($resumed) == straight ($straight)" \
      test "$resumed" = "$straight"
  done
}
epidemic_bands

# Bad input: nothing runs, exit 2, and the message names the key.
"$MYRIAD_BIN" run "$cfgdir/foraging-small.yaml" -R 8 -s distributed.strategy=spatial_parallel \
  -s distributed.sync_frequency=10 -o bad.h5 --quiet 2>bad.log
check "a world too small for the halo exits 2" test $? -eq 2
check "the message gives the halo" grep -q "fewer than the halo of 18 rows (reach 8 + sync_frequency 10 x speed 1)" bad.log
refused() { # refused LABEL MESSAGE ARGS...: a foraging run with ARGS exits 2 before anything runs, saying MESSAGE
  local label=$1 message=$2; shift 2
  rm -f bad.h5 bad.h5.part
  "$MYRIAD_BIN" run "$cfgdir/foraging-small.yaml" -o bad.h5 --quiet "$@" 2>bad.log
  check "$label exits 2" test $? -eq 2
  check "$label: the message says '$message'" grep -qF "$message" bad.log
  check "$label: nothing was written" test ! -e bad.h5 -a ! -e bad.h5.part
}
tiles=(-s distributed.strategy=spatial_parallel)
refused "tiles [2, 3] on 4 ranks" "[2, 3] makes 2 x 3 = 6 tiles but the team has 4 ranks" -R 4 "${tiles[@]}" \
  -s distributed.grid=[2,3]
refused "tiles [3, 0] on 4 ranks" "needs a rank count that 3 divides, but the team has 4 ranks" -R 4 "${tiles[@]}" \
  -s distributed.grid=[3,0]
refused "tiles thinner than the halo" \
  "[8, 1] cuts the 128 columns of cells into 8, 16 columns wide, fewer than the halo of 18 cells (reach 8 + sync_frequency 10 x speed 1)" \
  -R 8 "${tiles[@]}" -s distributed.grid=[8,1] -s distributed.sync_frequency=10
refused "tiles shorter than the halo" "[2, 4] cuts the 60 rows of cells into 4, 15 rows tall, fewer than the halo of 18" \
  -R 8 "${tiles[@]}" -s distributed.grid=[2,4] -s distributed.sync_frequency=10 -s world.height=60
refused "tiles under data_parallel" "but distributed.strategy is data_parallel" -R 4 -s distributed.grid=[2,2]
"$MYRIAD_BIN" run "$cfgdir/circles-small.yaml" -R 8 -s agents.count=8000 "${tiles[@]}" -s distributed.grid=[8,1] \
  -s distributed.sync_frequency=3 -o bad.h5 --quiet 2>bad.log
check "circles: tiles narrower than the halo exit 2" test $? -eq 2
check "the message gives the halo in bins" grep -q "20 columns of neighbour bins into 8, 2 columns wide, fewer than the halo of 5" bad.log
"$MYRIAD_BIN" run "$cfgdir/latent-small.yaml" -n 1 -R 2 -s distributed.strategy=spatial_parallel -o bad.h5 --quiet 2>bad.log
check "a model without bands (latent) exits 2" test $? -eq 2
"$MYRIAD_BIN" run "$cfgdir/foraging-small.yaml" -R 2 -s distributed.balance=proportional \
  -s distributed.device_weights=[1,2,3] -o bad.h5 --quiet 2>bad.log
check "weights of the wrong length exit 2" test $? -eq 2
check "the message names distributed.device_weights" grep -q "device_weights has 3 weights but the team has 2" bad.log
check "nothing was written" test ! -e bad.h5 -a ! -e bad.h5.part
finish
