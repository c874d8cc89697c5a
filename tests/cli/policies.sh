# The network and MCTS policies through the command line (foraging, small): identical state
# hashes for 1 and 2 threads, for any search chunk size, and run to run (DESIGN §4: a tree's
# result depends only on its agent, the step, the seed and the network); another seed gives
# another hash; a model without a planning interface is refused for mcts with exit code 2.
. "$MYRIAD_SOURCE_DIR/tests/cli/lib.sh"
cfg=$MYRIAD_SOURCE_DIR/configs/foraging-small.yaml
small=(-n 6 -s agents.count=300 -s world.width=48 -s world.height=48 -s run.snapshot_every=0 -o p.h5
       -s network.hidden=[16,16])

policy_case() { # name, extra args...
  local name=$1; shift
  local h1 h2 hc again other
  h1=$(run_hash "$cfg" "${small[@]}" "$@" -t 1)
  check "$name: printed a hash" test ${#h1} -eq 64
  h2=$(run_hash "$cfg" "${small[@]}" "$@" -t 2)
  check "$name: 2 threads ($h2) == 1 thread ($h1)" test "$h2" = "$h1"
  hc=$(run_hash "$cfg" "${small[@]}" "$@" -t 2 -s policy.mcts.chunk=7)
  check "$name: search chunk 7 == all" test "$hc" = "$h1"
  again=$(run_hash "$cfg" "${small[@]}" "$@" -t 2)
  check "$name: run to run" test "$again" = "$h1"
  other=$(run_hash "$cfg" "${small[@]}" "$@" -t 2 -s run.seed=9)
  check "$name: another seed, another hash" test "$other" != "$h1"
}

policy_case network -s policy.kind=network
policy_case "network argmax" -s policy.kind=network -s policy.sample=false
policy_case "mcts gumbel" -s policy.kind=mcts -s policy.mcts.simulations=8
policy_case "mcts muzero" -s policy.kind=mcts -s policy.mcts.algorithm=muzero -s policy.mcts.simulations=8
policy_case "mcts rollouts" -s policy.kind=mcts -s policy.mcts.rollout_depth=3 -s policy.mcts.simulations=8
policy_case "mcts 2 root trees, 2 leaves per wave" -s policy.kind=mcts -s policy.mcts.simulations=8 \
  -s policy.mcts.root_trees=2 -s policy.mcts.leaves_per_wave=2

"$MYRIAD_BIN" run "$MYRIAD_SOURCE_DIR/configs/movement-small.yaml" -n 2 -s policy.kind=mcts -o m.h5 --quiet >/dev/null 2>err.log
rc=$?
check "mcts on a model without planning exits 2 (got $rc)" test $rc -eq 2
check "and says the model has no planning interface" grep -q "planning interface" err.log
finish
