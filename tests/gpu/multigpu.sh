# GPU ranks (label multigpu, on a machine with 2 or more GPUs): the state hash of 1 GPU equals
# the CPU backend's and that of 2 and 4 GPUs driven by threads (--gpus) and by one process per
# GPU (mpirun), for foraging (births, deaths, contested cells), epidemic and movement, with
# sync windows of 1 and 5, and for MCTS decisions; spatial_parallel bands for foraging,
# movement, epidemic and circles, by threads and by processes (counts over MPI, rows over NCCL);
# spatial_parallel tiles (distributed.grid) for foraging and circles; communication: async on
# bands; balance dynamic (agents, band boundaries or the cuts of tiles moving between GPUs).
# MULTIGPU_PARTS (default all) runs some parts only, e.g. "spatial async tiles": data, spatial,
# async, mcts, epidemic, circles, tiles, dynamic, training (the whole script takes longer than a
# GPU machine may give one command). Exits 77 (skipped) with fewer than 2 GPUs.
. "$MYRIAD_SOURCE_DIR/tests/cli/lib.sh"
cfgdir=$MYRIAD_SOURCE_DIR/configs
gpus=$(nvidia-smi -L 2>/dev/null | wc -l)
[ "$gpus" -ge 2 ] || { echo "skipped: $gpus GPU(s)"; exit 77; }
export NCCL_NVLS_ENABLE=0
counts="2"; [ "$gpus" -ge 4 ] && counts="2 4"
mpi() { mpirun --allow-run-as-root -np "$1" -x NCCL_NVLS_ENABLE "${@:2}"; }
part() { case " ${MULTIGPU_PARTS:-all} " in *" all "* | *" $1 "*) return 0 ;; esac; return 1; } # part NAME: run it?

same_everywhere() { # LABEL CONFIG ARGS...
  local label=$1 config=$2; shift 2
  local cpu g1 h
  cpu=$(run_hash "$config" "$@" -b cpu)
  g1=$(run_hash "$config" "$@" -b cuda -g 1)
  echo "$label: cpu $cpu, 1 GPU $g1"
  check "$label: 1 GPU ($g1) == CPU ($cpu)" test "$g1" = "$cpu" -a ${#cpu} -eq 64
  for n in $counts; do
    h=$(run_hash "$config" "$@" -b cuda -g $n)
    echo "$label: $n GPUs (threads) $h"
    check "$label: $n GPUs, threads ($h) == 1 GPU" test "$h" = "$g1"
    h=$(mpi $n "$MYRIAD_BIN" run "$config" "$@" -b cuda --quiet 2>err.log | tail -n 1)
    echo "$label: $n GPUs (mpirun) $h"
    check "$label: $n GPUs, mpirun ($h) == 1 GPU" test "$h" = "$g1"
  done
}

part data && for sync in 1 5; do
  common=(-n 50 -s distributed.sync_frequency=$sync -s run.snapshot_every=0 -o out.h5)
  same_everywhere "foraging sync $sync" "$cfgdir/foraging-small.yaml" "${common[@]}" -s agents.count=200000 \
    -s agents.capacity=600000 -s world.width=1024 -s world.height=1024
  same_everywhere "epidemic sync $sync" "$cfgdir/epidemic-city.yaml" "${common[@]}" -s agents.count=200000 \
    -s world.width=512 -s world.height=512
  same_everywhere "movement sync $sync" "$cfgdir/movement-small.yaml" "${common[@]}" -s agents.count=200000 -s agents.capacity=0
done
part spatial && for sync in 1 5; do # spatial_parallel: bands, NCCL halos, agents moving between GPUs
  sp=(-n 50 -s distributed.sync_frequency=$sync -s distributed.strategy=spatial_parallel -s run.snapshot_every=0 -o out.h5)
  same_everywhere "spatial foraging sync $sync" "$cfgdir/foraging-small.yaml" "${sp[@]}" -s agents.count=200000 \
    -s agents.capacity=600000 -s world.width=1024 -s world.height=1024
  same_everywhere "spatial movement sync $sync" "$cfgdir/movement-small.yaml" "${sp[@]}" -s agents.count=200000 -s agents.capacity=0
done
part async && for sync in 1 5; do # communication: async: cell functions and births while the halo sums fly
  sp=(-n 50 -s distributed.sync_frequency=$sync -s distributed.strategy=spatial_parallel -s distributed.communication=async
      -s run.snapshot_every=0 -o out.h5)
  same_everywhere "spatial async foraging sync $sync" "$cfgdir/foraging-small.yaml" "${sp[@]}" -s agents.count=200000 \
    -s agents.capacity=600000 -s world.width=1024 -s world.height=1024
  same_everywhere "spatial async epidemic sync $sync" "$cfgdir/epidemic-city.yaml" "${sp[@]}" -s agents.count=200000 \
    -s world.width=512 -s world.height=512
done
part mcts && same_everywhere "foraging mcts" "$cfgdir/foraging-small.yaml" -n 6 -s agents.count=20000 -s agents.capacity=80000 -s policy.kind=mcts \
  -s policy.mcts.simulations=16 -s run.snapshot_every=0 -o out.h5

# epidemic on bands of GPUs: 3x3 contacts through NCCL halos; prevalence, the lockdown and
# well-mixed infection from the window's flows summed over the GPUs (myr_nccl_sum_flows).
epidemic_spatial() {
  local sync mix epi
  for mix in spatial well_mixed; do
    for sync in 1 5; do
      [ $mix = well_mixed ] && [ $sync = 1 ] && continue
      epi=(-n 50 -s distributed.sync_frequency=$sync -s distributed.strategy=spatial_parallel -s run.snapshot_every=0
           -o out.h5 -s agents.count=200000 -s world.width=512 -s world.height=512 -s model.params.mixing=$mix
           -s model.params.initial_infected=500 -s model.params.contact_radius_cells=1 -s model.params.fatality=0.2
           -s model.params.vaccination_rate=0.02 -s model.params.lockdown_threshold=0.005)
      same_everywhere "spatial epidemic $mix sync $sync" "$cfgdir/epidemic-city.yaml" "${epi[@]}"
    done
  done
}
part epidemic && epidemic_spatial

# circles on bands of GPUs: bands of neighbour bins along y, ghost agents through NCCL (packed on
# the device) in every GPU's snapshot, agents moving between GPUs; open and wrapped cube, sync 1
# and 3, 1 GPU against the CPU and 2 and 4 GPUs against 1.
circles_spatial() {
  local wrap sync cs
  for wrap in false true; do
    for sync in 1 3; do
      cs=(-n 30 -s distributed.sync_frequency=$sync -s distributed.strategy=spatial_parallel -s run.snapshot_every=0
          -o out.h5 -s agents.count=200000 -s agents.capacity=200000 -s model.params.repulse=0.5
          -s model.params.wrap=$wrap)
      same_everywhere "spatial circles wrap $wrap sync $sync" "$cfgdir/circles-small.yaml" "${cs[@]}"
    done
  done
}
part circles && circles_spatial

# Tiles on GPU ranks (distributed.grid: [px, py]): halos on every side, corners included (part
# rows packed on the device), agents and ghosts crossing both axes. 2 x 1 and 1 x 2 on 2 GPUs
# and 2 x 2 on 4, by threads and by mpirun, give 1 GPU's hash and statistics (cells run row by
# row over a tile: flows and cell statistics counted once), and 1 GPU gives the CPU's hash.
# The shapes of tests/partition/ranks.sh: foraging on a 40 x 40 world, where much happens near
# the corners where four tiles meet, at sync 1 and 5; circles open and wrapped at sync 1 and 3.
series() { "$MYRIAD_BIN" info "$1" | sed -n '/^time series/,/^snapshots/p'; }
same_for_tiles() { # same_for_tiles LABEL CONFIG ARGS...
  local label=$1 config=$2 cpu g1 h g n; shift 2
  cpu=$(run_hash "$config" "$@" -o tile1.h5 -b cpu)
  g1=$(run_hash "$config" "$@" -o tile1.h5 -b cuda -g 1)
  series tile1.h5 >tile1.series
  echo "$label: cpu $cpu, 1 GPU $g1"
  check "$label: 1 GPU ($g1) == CPU ($cpu)" test "$g1" = "$cpu" -a ${#cpu} -eq 64
  for g in 2,1 1,2 2,2; do
    n=$((${g%,*} * ${g#*,}))
    [ "$n" -le "$gpus" ] || continue
    local tiles=(-s distributed.strategy=spatial_parallel -s "distributed.grid=[$g]")
    h=$(run_hash "$config" "$@" "${tiles[@]}" -o tiles.h5 -b cuda -g $n)
    echo "$label: tiles [$g] on $n GPUs (threads) $h"
    check "$label: tiles [$g], $n GPUs, threads ($h) == 1 GPU" test "$h" = "$g1"
    series tiles.h5 >tiles.series
    check "$label: tiles [$g], $n GPUs, threads give 1 GPU's statistics" cmp -s tiles.series tile1.series
    h=$(mpi $n "$MYRIAD_BIN" run "$config" "$@" "${tiles[@]}" -o tiles.h5 -b cuda --quiet 2>err.log | tail -n 1)
    echo "$label: tiles [$g] on $n GPUs (mpirun) $h"
    check "$label: tiles [$g], $n GPUs, mpirun ($h) == 1 GPU" test "$h" = "$g1"
    series tiles.h5 >tiles.series
    check "$label: tiles [$g], $n GPUs, mpirun give 1 GPU's statistics" cmp -s tiles.series tile1.series
  done
}
tiles_gpus() {
  local sync wrap
  for sync in 1 5; do
    same_for_tiles "tiles foraging sync $sync" "$cfgdir/foraging-small.yaml" -n 40 -s agents.count=3000 \
      -s world.width=40 -s world.height=40 -s distributed.sync_frequency=$sync -s run.snapshot_every=0
    check "tiles foraging sync $sync: births and deaths happen" \
      awk '$1 == "births" && $6 > 0 {b = 1} $1 == "deaths" && $6 > 0 {d = 1} END {exit !(b && d)}' tile1.series
  done
  for wrap in false true; do
    for sync in 1 3; do
      same_for_tiles "tiles circles wrap $wrap sync $sync" "$cfgdir/circles-small.yaml" -n 20 -s agents.count=8000 \
        -s agents.capacity=8000 -s model.params.radius=1.0 -s model.params.repulse=0.5 -s model.params.wrap=$wrap \
        -s distributed.sync_frequency=$sync -s run.snapshot_every=0
    done
  done
}
part tiles && tiles_gpus

# balance dynamic on GPU ranks: from a 5 : 1 split (5 : 1 : 1 : 1 on 4 GPUs; 3 : 1 and 2 : 1 : 1 : 1
# for circles, whose bins' halo is wider) every 5 steps agents cross between neighbouring GPUs
# (data_parallel) or the band boundaries move with their rows, halos, agents and ghosts
# (spatial_parallel), over NCCL, threads and processes alike. The hash is 1 GPU's, and rank 0 ends
# with fewer agents than on the split as cut (populations large enough that a GPU's step time
# follows its agents).
dynamic_gpus() { # dynamic_gpus LABEL CONFIG W2 W4 ARGS...
  local label=$1 config=$2 w2=$3 w4=$4 g1 n w; shift 4
  g1=$(run_hash "$config" "$@" -b cuda -g 1)
  for n in $counts; do
    w=$w2; [ $n = 4 ] && w=$w4
    check_rebalanced "$label: $n GPUs (threads)" "$g1" "$MYRIAD_BIN" run "$config" "$@" -b cuda -g $n \
      -s distributed.device_weights=$w
    check_rebalanced "$label: $n GPUs (mpirun)" "$g1" mpi $n "$MYRIAD_BIN" run "$config" "$@" -b cuda \
      -s distributed.device_weights=$w
  done
}
# Flat resources and a low metabolism keep the 4M agents alive (4M -> about 4.7M in 40 steps;
# with the config's hills 97% starve, and at 130K agents a GPU's step time is launch overhead
# that no longer follows its agents, so "moved work" was a coin toss: it failed once, on 2 GPUs of the 4-H200 machine).
big=(-n 40 -s agents.count=4000000 -s agents.capacity=8000000 -s world.width=2048 -s world.height=2048
     -s model.params.hill_radius=2 -s model.params.metabolism=0.2 -s run.snapshot_every=0 -o out.h5)
if part dynamic; then
dynamic_gpus "dynamic foraging" "$cfgdir/foraging-small.yaml" [5,1] [5,1,1,1] "${big[@]}"
dynamic_gpus "dynamic bands foraging sync 5" "$cfgdir/foraging-small.yaml" [5,1] [5,1,1,1] "${big[@]}" \
  -s distributed.strategy=spatial_parallel -s distributed.sync_frequency=5
dynamic_gpus "dynamic bands circles" "$cfgdir/circles-small.yaml" [3,1] [2,1,1,1] -n 30 -s agents.count=2000000 \
  -s agents.capacity=2000000 -s model.params.repulse=0.5 -s distributed.strategy=spatial_parallel \
  -s run.snapshot_every=0 -o out.h5
# ... and the cuts of tiles (2 x 1 on 2 GPUs from [3, 1], 2 x 2 on 4 from [3, 1, 1, 1]): cells
# handed over with every layer over NCCL (part rows packed), agents counted per row and per
# column; 1 GPU's hash, and rank 0 ends with fewer agents than on the cut by weights.
dynamic_tiles_gpus() { # LABEL CONFIG ARGS...
  local label=$1 config=$2 g1 n g w; shift 2
  g1=$(run_hash "$config" "$@" -b cuda -g 1)
  for n in $counts; do
    g=2,1 w=[3,1]; [ $n = 4 ] && g=2,2 w=[3,1,1,1]
    local dyn=(-s distributed.strategy=spatial_parallel -s "distributed.grid=[$g]" -s distributed.device_weights=$w)
    check_rebalanced "$label: tiles [$g], $n GPUs (threads)" "$g1" "$MYRIAD_BIN" run "$config" "$@" "${dyn[@]}" -b cuda -g $n
    check_rebalanced "$label: tiles [$g], $n GPUs (mpirun)" "$g1" mpi $n "$MYRIAD_BIN" run "$config" "$@" "${dyn[@]}" -b cuda
  done
}
dynamic_tiles_gpus "dynamic tiles foraging" "$cfgdir/foraging-small.yaml" "${big[@]}"
dynamic_tiles_gpus "dynamic tiles circles" "$cfgdir/circles-small.yaml" -n 30 -s agents.count=2000000 \
  -s agents.capacity=2000000 -s model.params.repulse=0.5 -s run.snapshot_every=0 -o out.h5
fi

# Training on GPU ranks (train.enabled): every GPU's finished samples merged into rank 0's replay
# in the global order, rank 0's update, its weights uploaded to every GPU. 1, 2 and 4 GPUs by
# threads and by mpirun, and 2 and 4 spatial bands by threads, give the CPU single rank's hash,
# network and training series; a checkpoint of 2 GPUs (threads, and mpirun) resumes on 1 GPU, 4
# GPUs and 2 processes as it does on the CPU, where the straight run ends.
train_digest() { # NAME COMMAND...: the hash, the network and the training series as one digest
  local name=$1; shift
  "$@" -o $name.h5 --quiet 2>err.log | tail -n 1 >$name.hash
  if command -v h5dump >/dev/null; then
    h5dump -d /network/weights -y -w 1 -o $name.w $name.h5 >/dev/null 2>&1 || echo "no /network" >$name.w
  else
    : >$name.w # no h5dump: the network shows in the series and the hash
  fi
  "$MYRIAD_BIN" info $name.h5 | grep "train_" >$name.series
  cat $name.hash $name.w $name.series | sha256sum | cut -c1-16
}
gpu_training() {
  local learn=$cfgdir/foraging-learn-small.yaml n d cpu cpu_resumed straight
  local tr=(-n 30 -s run.snapshot_every=0 -s run.checkpoint_every=10)
  cpu=$(train_digest tcpu "$MYRIAD_BIN" run "$learn" "${tr[@]}" -b cpu -R 1)
  straight=$(cat tcpu.hash)
  echo "training: cpu $cpu ($straight)"
  check "training: the CPU run printed a hash" test ${#straight} -eq 64
  check "training: updates happened" grep -Eq "train_updates_applied +[0-9]+ +0 +[1-9]" tcpu.series
  for n in 1 $counts; do
    d=$(train_digest tg$n "$MYRIAD_BIN" run "$learn" "${tr[@]}" -b cuda -g $n)
    echo "training: $n GPUs (threads) $d"
    check "training: $n GPUs, threads ($d) == CPU ($cpu)" test "$d" = "$cpu"
    [ $n = 1 ] && continue
    d=$(train_digest tm$n mpi $n "$MYRIAD_BIN" run "$learn" "${tr[@]}" -b cuda)
    echo "training: $n GPUs (mpirun) $d"
    check "training: $n GPUs, mpirun ($d) == CPU ($cpu)" test "$d" = "$cpu"
    d=$(train_digest ts$n "$MYRIAD_BIN" run "$learn" "${tr[@]}" -b cuda -g $n -s distributed.strategy=spatial_parallel)
    echo "training: $n GPUs (spatial bands) $d"
    check "training: $n GPUs, spatial bands ($d) == CPU ($cpu)" test "$d" = "$cpu"
  done
  cpu_resumed=$(train_digest rcpu "$MYRIAD_BIN" run "$learn" "${tr[@]}" -b cpu -R 1 --resume tg2.ckpt-10.h5)
  check "training: a checkpoint of 2 GPUs resumed on the CPU ends where the straight run ends" \
    test "$(cat rcpu.hash)" = "$straight"
  for n in 1 $counts; do
    d=$(train_digest rg$n "$MYRIAD_BIN" run "$learn" "${tr[@]}" -b cuda -g $n --resume tg2.ckpt-10.h5)
    check "training: a checkpoint of 2 GPUs resumed on $n GPUs ($d) == on the CPU ($cpu_resumed)" test "$d" = "$cpu_resumed"
  done
  d=$(train_digest rm2 mpi 2 "$MYRIAD_BIN" run "$learn" "${tr[@]}" -b cuda --resume tm2.ckpt-10.h5)
  check "training: a checkpoint of 2 processes resumed on 2 processes ($d) == on the CPU ($cpu_resumed)" \
    test "$d" = "$cpu_resumed"
}
part training && gpu_training
finish
