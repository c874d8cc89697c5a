# The commands and their exit codes: help, version, models, config --defaults (whose output
# is itself a valid config), validate, run (summary, result file), info, bad usage.
. "$MYRIAD_SOURCE_DIR/tests/cli/lib.sh"
M=$MYRIAD_BIN
cfg=$MYRIAD_SOURCE_DIR/configs/foraging-small.yaml

"$M" --help >help.txt; check "--help exits 0" test $? -eq 0
check "--help lists run" grep -q "run CONFIG" help.txt
"$M" >/dev/null 2>&1; check "no command exits 2" test $? -eq 2
"$M" frobnicate >/dev/null 2>&1; check "unknown command exits 2" test $? -eq 2
"$M" run >/dev/null 2>&1; check "run without CONFIG exits 2" test $? -eq 2
"$M" run "$cfg" --bogus >/dev/null 2>&1; check "unknown option exits 2" test $? -eq 2
"$M" --version | grep -q "^myriad "; check "--version" test $? -eq 0

"$M" models >models.txt; check "models exits 0" test $? -eq 0
check "models lists movement" grep -q "^movement" models.txt
check "models lists foraging" grep -q "^foraging" models.txt
"$M" models foraging >foraging.txt; check "models foraging exits 0" test $? -eq 0
check "models foraging shows regrowth" grep -q regrowth foraging.txt
"$M" models nosuchmodel >/dev/null 2>&1; check "unknown model exits 2" test $? -eq 2

"$M" config --defaults >defaults.yaml; check "config --defaults exits 0" test $? -eq 0
"$M" validate defaults.yaml >/dev/null 2>&1; check "the defaults are a valid config" test $? -eq 0
"$M" validate "$cfg" >resolved.yaml 2>/dev/null; check "validate exits 0" test $? -eq 0
"$M" validate resolved.yaml >/dev/null 2>&1; check "validate's output is a valid config" test $? -eq 0

"$M" run "$cfg" -n 30 -o result.h5 -t 2 >summary.txt 2>progress.txt
check "run exits 0" test $? -eq 0
check "result file written" test -f result.h5
check "no .part left" test ! -e result.h5.part
check "summary shows the hash" grep -q "state hash" summary.txt
check "summary shows agent-steps/s" grep -q "agent-steps/s" summary.txt
hash=$(awk '/state hash/ {print $NF}' summary.txt)
"$M" info result.h5 >info.txt; check "info exits 0" test $? -eq 0
check "info shows the run's hash" grep -q "$hash" info.txt
"$M" info nothing.h5 >/dev/null 2>&1; check "info on a missing file exits 3" test $? -eq 3

"$M" run "$cfg" -n 5 -o cuda.h5 -b cuda >/dev/null 2>err.txt
check "backend cuda without a CUDA backend exits 5" test $? -eq 5
check "and says why" grep -q "cuda" err.txt
finish
