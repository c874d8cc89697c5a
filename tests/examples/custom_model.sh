# examples/custom_model built the way a user builds it: install this build of Myriad into a
# scratch prefix, configure and build the example against that prefix alone (find_package),
# then check that its program lists the `opinion` model beside the built-in ones, shows its
# parameters, validates them, runs, and keeps the determinism contract (DESIGN §4): the same
# state hash from run to run, for 1 and 2 threads and after resuming from a checkpoint, and
# another seed gives another hash.
. "$MYRIAD_SOURCE_DIR/tests/cli/lib.sh"
build=$(dirname "$MYRIAD_BIN")
src=$MYRIAD_SOURCE_DIR/examples/custom_model
prefix=$PWD/prefix
rm -rf prefix ex-build out ./*.h5 ./*.log

# Shows a log when a step fails, so the ctest output says why.
step() { # step "description" logfile command...
  local what=$1 log=$2; shift 2
  if "$@" >"$log" 2>&1; then ok; else fail "$what (log follows)"; tail -n 40 "$log" >&2; return 1; fi
}

# 1. The installed layout.
step "cmake --install $build --prefix $prefix" install.log cmake --install "$build" --prefix "$prefix" || { finish; exit 1; }
libdir=$(cd "$prefix" && ls -d lib*/cmake/Myriad 2>/dev/null | head -n 1)
libdir=${libdir%/cmake/Myriad}
check "installed lib*/cmake/Myriad" test -n "$libdir"
for f in bin/myriad "$libdir/libmyriad.a" include/myriad/myriad_version.h include/myriad/sim/rng.h \
         include/myriad/sim/view.h include/myriad/sim/cli.h include/myriad/models/model.h \
         include/myriad/models/registry.def "$libdir/cmake/Myriad/MyriadConfig.cmake" \
         "$libdir/cmake/Myriad/MyriadConfigVersion.cmake" "$libdir/cmake/Myriad/MyriadTargets.cmake"; do
  check "installed $f" test -f "$prefix/$f"
done
for d in sim models search partition; do check "installed include/myriad/$d/" test -d "$prefix/include/myriad/$d"; done
check "installed myriad runs" bash -c "\"$prefix/bin/myriad\" --version >/dev/null"
check "private headers stay private" test ! -e "$prefix/include/myriad/sim/sim_internal.h"

# 2. Configure and build the example against the prefix only (warnings are errors here).
step "configure examples/custom_model against the prefix" configure.log \
  cmake -S "$src" -B ex-build -DCMAKE_PREFIX_PATH="$prefix" -DOPINION_WERROR=ON || { finish; exit 1; }
check "Myriad found in the prefix" grep -q "^Myriad_DIR:PATH=$prefix/" ex-build/CMakeCache.txt
step "build examples/custom_model" build.log cmake --build ex-build -j 2 || { finish; exit 1; }
flags=ex-build/CMakeFiles/opinion-myriad.dir/flags.make
check "compiled with the installed headers" grep -q -- "$prefix/include/myriad" "$flags"
check "not with the source tree's headers" bash -c "! grep -Eq -- '-(I|isystem) ?$MYRIAD_SOURCE_DIR( |\$)' '$flags'"
bin=$PWD/ex-build/opinion-myriad

# 3. The command line knows the model.
"$bin" models >models.txt 2>models.err
check "models exits 0" test $? -eq 0
for m in opinion movement foraging; do check "models lists $m" grep -q "^$m " models.txt; done
"$bin" models opinion >opinion.txt 2>opinion.err
check "models opinion exits 0" test $? -eq 0
for p in initial_share conformity majority noise homophily share_one switch_rate mixed_cells; do
  check "models opinion shows $p" grep -q "$p" opinion.txt
done
"$bin" validate "$src/opinion.yaml" >validate.txt 2>validate.err
check "validate opinion.yaml exits 0" test $? -eq 0
"$bin" validate "$src/opinion.yaml" --set model.params.conformity=2 >/dev/null 2>bad.err
check "conformity=2 is refused with exit code 2" test $? -eq 2
check "the refusal names the parameter" grep -q conformity bad.err

# 4. Runs and determinism.
MYRIAD_BIN=$bin # run_hash (lib.sh) runs $MYRIAD_BIN
# Idle OpenMP threads sleep instead of spinning: on a loaded 2-core CI machine spinning makes
# these short 2-thread runs several times slower. Results do not depend on it.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
# 36000 agents: the CPU backend hands out work in ranges of 16384 agents (sim/step.c), so this
# gives each of 2 threads a share of every phase.
common=("$src/opinion.yaml" -n 24 -s agents.count=36000 -s world.width=128 -s world.height=128
        -s run.snapshot_every=0 -o x.h5)
h1=$(run_hash "${common[@]}" -t 2)
check "run printed a 64-hex-digit hash ($h1)" bash -c "[[ '$h1' =~ ^[0-9a-f]{64}\$ ]]"
[ -n "$h1" ] || cat err.log >&2
check "run wrote x.h5" test -s x.h5
again=$(run_hash "${common[@]}" -t 2)
check "run to run: $again == $h1" test "$again" = "$h1"
one=$(run_hash "${common[@]}" -t 1)
check "1 thread ($one) == 2 threads ($h1)" test "$one" = "$h1"
other=$(run_hash "${common[@]}" -t 2 -s run.seed=7)
check "another seed gives another hash" test -n "$other" -a "$other" != "$h1"
maj1=$(run_hash "${common[@]}" -t 1 -s model.params.majority=true -s distributed.sync_frequency=1)
maj2=$(run_hash "${common[@]}" -t 2 -s model.params.majority=true -s distributed.sync_frequency=1)
check "majority rule, sync every step: 1 thread == 2 threads" test -n "$maj1" -a "$maj1" = "$maj2"
check "majority rule changes the run" test "$maj1" != "$h1"
rnd1=$(run_hash "${common[@]}" -t 1 -s policy.kind=random)
rnd2=$(run_hash "${common[@]}" -t 2 -s policy.kind=random)
check "random policy: 1 thread == 2 threads" test -n "$rnd1" -a "$rnd1" = "$rnd2"
closed1=$(run_hash "${common[@]}" -t 1 -s world.wrap=false -s distributed.sync_frequency=3)
closed2=$(run_hash "${common[@]}" -t 2 -s world.wrap=false -s distributed.sync_frequency=3)
check "closed world, sync every 3: 1 thread == 2 threads" test -n "$closed1" -a "$closed1" = "$closed2"
# The persistent `share` layer is checkpointed, the transient tallies are zero at a sync: a run
# resumed from its step-12 checkpoint ends where the uninterrupted one does.
full=$(run_hash "${common[@]}" -t 2 -s run.checkpoint_every=12 -o full.h5)
check "checkpoint at step 12 written" test -f full.ckpt-12.h5
resumed=$(run_hash "${common[@]}" -t 1 -s run.checkpoint_every=12 -o resumed.h5 --resume full.ckpt-12.h5)
check "resumed run ($resumed) == uninterrupted ($full)" test -n "$full" -a "$resumed" = "$full"
"$bin" info x.h5 >info.txt 2>info.err
check "info x.h5 exits 0" test $? -eq 0
finish
