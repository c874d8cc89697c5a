# epidemic's planning (go out or stay home, models/epidemic/epidemic_plan.h) through MCTS: the
# same run twice gives one hash, and with a high cost of infection the searching agents stay
# home enough to catch clearly fewer infections than when infection costs nothing (same seed,
# same start): the search reads the published infectious counts and the cost.
. "$MYRIAD_SOURCE_DIR/tests/cli/lib.sh"
cfg=$MYRIAD_SOURCE_DIR/configs/epidemic-city.yaml
small=(-n 24 -t 2 -s agents.count=3000 -s world.width=40 -s world.height=40 -s model.params.initial_infected=300
       -s model.params.commute_radius=4 -s policy.kind=mcts -s policy.mcts.simulations=4 -s run.record_every=24)
infections() { "$MYRIAD_BIN" info "$1" | awk '$1 == "new_infections" {print $4}'; }
h0=$(run_hash "$cfg" "${small[@]}" -s model.params.infection_cost=0 -o free.h5)
again=$(run_hash "$cfg" "${small[@]}" -s model.params.infection_cost=0 -o again.h5)
check "mcts epidemic: run to run ($h0)" test ${#h0} -eq 64 -a "$h0" = "$again"
run_hash "$cfg" "${small[@]}" -s model.params.infection_cost=1000 -o costly.h5 >/dev/null
free=$(infections free.h5) costly=$(infections costly.h5)
echo "new infections over 24 steps: infection_cost 0: $free, infection_cost 1000: $costly"
check "a high infection cost means fewer infections ($costly < 0.75 x $free)" \
  awk -v a="${costly:-1e9}" -v b="${free:-0}" 'BEGIN {exit !(a < 0.75 * b)}'
finish
