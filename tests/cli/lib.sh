# Shared helpers for the shell tests: counting checks and the closing "N passed, N failed".
set -u
passed=0
failed=0
ok() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }
check() { # check "description" command...
  local what=$1; shift
  if "$@"; then ok; else fail "$what"; fi
}
finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
# Runs myriad quietly and prints the state hash (last line of stdout).
run_hash() { "$MYRIAD_BIN" run "$@" --quiet 2>err.log | tail -n 1; }
# check_rebalanced LABEL HASH COMMAND...: COMMAND (a run whose split device_weights cuts
# unevenly) once with balance proportional and once dynamic, rebalancing every 5 steps: the
# dynamic run prints HASH, and its rank 0 ends with fewer agents (the end-of-run table) than
# on the split as cut, so work really moved toward the faster ranks. With more ranks than
# cores (CI_CORES, default: nproc) the ranks' measured compute times are the scheduler's noise,
# and work may move away and back: there it checks only that some rebalance moved work (the
# table's "work moved at K of N rebalances"), either way.
check_rebalanced() {
  local label=$1 hash=$2 fixed moved ranks times; shift 2
  "$@" -s distributed.balance=proportional >fixed.txt 2>err.log
  "$@" -s distributed.balance=dynamic -s distributed.rebalance_interval=5 >dyn.txt 2>err.log
  check "$label gives the one-rank hash" grep -q "state hash (sha256) *$hash" dyn.txt
  fixed=$(awk '$1 == "0" {print $2}' fixed.txt)
  moved=$(awk '$1 == "0" {print $2}' dyn.txt)
  ranks=$(awk '$1 ~ /^[0-9]+$/ {n++} END {print n + 0}' dyn.txt)
  if [ "$ranks" -le "${CI_CORES:-$(nproc)}" ]; then
    check "$label moved work (rank 0 ends with $moved agents, $fixed on the split as cut)" \
      test "${moved:-0}" -lt "${fixed:-0}"
  else
    times=$(sed -n 's/^balance dynamic: work moved at \([0-9]*\) of.*/\1/p' dyn.txt)
    check "$label moved work ($ranks ranks on fewer cores: at ${times:-no} rebalances)" test "${times:-0}" -gt 0
  fi
}
