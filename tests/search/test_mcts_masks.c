/* Legal-action masks, over many random toy instances (about a quarter of the actions illegal at
 * every state, and actions >= A never legal) and over both algorithms, one or several leaves
 * per wave, root parallelism with each merge, network / rollout / no leaf values, with and
 * without a depth limit:
 *   - no illegal edge is ever expanded (the toy's plan_step counts them) and no illegal action
 *     is chosen;
 *   - illegal actions get exactly zero target mass; targets sum to 1 within 1e-5;
 *   - a root with one legal action always takes it with target 1; a root with none gives
 *     action 0 and an all-zero target. */
#include <math.h>
#include <stdio.h>

#include "check.h"
#include "search/mcts.h"
#include "toy.h"

#define N 200

static int64_t bad_action, bad_mass, bad_sum, runs;
static double worst_sum;

static void run(int algorithm, int L, int K, int merge, int leaf, int max_depth, int root_mode, uint64_t seed) {
  toy_params p;
  memset(&p, 0, sizeof p);
  p.seed = seed;
  p.a_lo = 3;
  p.a_hi = 9;
  p.max_leaves = 100000;
  p.d_max = 7;
  p.states = 12;
  p.p_term = 0.1f;
  p.root_mode = root_mode;
  toy_world w;
  toy_world_make(&w, N, 0, &p, (uint32_t)seed, 1u);
  toy_net net;
  toy_net_random(&net, seed);
  myr_mcts_config cfg = myr_mcts_defaults();
  cfg.algorithm = algorithm;
  cfg.simulations = 40;
  cfg.leaves_per_wave = L;
  cfg.root_trees = K;
  cfg.result_merge = merge;
  cfg.simulation_allocation = (int)(seed % 3);
  cfg.rollout_depth = leaf == 1 ? 3 : 0;
  cfg.max_depth = max_depth;
  cfg.max_considered_actions = 4; /* fewer than the legal actions at many roots */
  myr_mcts *m;
  myr_error err;
  REQUIRE(myr_mcts_create(&m, &cfg, toy_plan(), TOY_ACTIONS, &net.view.shape, N, &err) == MYR_OK, "%s", err.msg);
  int64_t agents[N];
  for (int i = 0; i < N; i++) agents[i] = i;
  toy_results r;
  toy_results_make(&r, N);
  REQUIRE(myr_mcts_search_cpu(m, &w.v, leaf == 0 ? &net.view : NULL, agents, N, 2, &r.r, &err) == MYR_OK, "%s",
          err.msg);
  CHECK(p.illegal_expansions == 0, "%lld expansions of illegal edges", (long long)p.illegal_expansions);
  for (int i = 0; i < N; i++) {
    toy_context c;
    toy_instance(&p, (uint64_t)i, &c);
    uint32_t legal = toy_legal_bits(&c, 0, toy_root_state(&c));
    const float *tg = r.target + i * TOY_ACTIONS;
    double sum = 0.0;
    for (int a = 0; a < TOY_ACTIONS; a++) {
      sum += tg[a];
      if (!((legal >> a) & 1u) && tg[a] != 0.0f) bad_mass++;
    }
    if (legal) {
      if (!((legal >> r.action[i]) & 1u)) bad_action++;
      if (fabs(sum - 1.0) > 1e-5) bad_sum++;
      if (fabs(sum - 1.0) > worst_sum) worst_sum = fabs(sum - 1.0);
      if (root_mode == 1) CHECK(tg[r.action[i]] == 1.0f, "single legal action: target %g", (double)tg[r.action[i]]);
    } else {
      CHECK(r.action[i] == 0 && sum == 0.0, "no legal action: action %d, target sum %g", r.action[i], sum);
    }
  }
  runs++;
  toy_results_free(&r);
  myr_mcts_destroy(m);
  toy_net_free(&net);
  toy_world_free(&w);
}

int main(void) {
  uint64_t seed = 1;
  for (int algo = 0; algo < 2; algo++)
    for (int L = 1; L <= 4; L += 3)
      for (int K = 1; K <= 3; K += 2)
        for (int merge = 0; merge < 3; merge++)
          for (int leaf = 0; leaf < 3; leaf++)
            for (int depth = 0; depth <= 3; depth += 3) {
              if (K == 1 && merge > 0) continue;
              run(algo == 0 ? MYR_MCTS_MUZERO : MYR_MCTS_GUMBEL, L, K, merge, leaf, depth, 0, seed++);
            }
  for (int algo = 0; algo < 2; algo++)
    for (int mode = 1; mode <= 2; mode++) run(algo == 0 ? MYR_MCTS_MUZERO : MYR_MCTS_GUMBEL, 2, 2, 0, 0, 0, mode, seed++);
  printf("%lld searches of %d agents: %lld illegal actions chosen, %lld targets with mass on illegal actions, %lld "
         "targets off 1 by more than 1e-5 (worst %.2e)\n",
         (long long)runs, N, (long long)bad_action, (long long)bad_mass, (long long)bad_sum, worst_sum);
  CHECK(bad_action == 0, "%lld illegal actions chosen", (long long)bad_action);
  CHECK(bad_mass == 0, "%lld targets give mass to illegal actions", (long long)bad_mass);
  CHECK(bad_sum == 0, "%lld targets do not sum to 1 within 1e-5 (worst %g)", (long long)bad_sum, worst_sum);
  return check_summary();
}
