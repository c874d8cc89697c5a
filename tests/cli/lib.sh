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
