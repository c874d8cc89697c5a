/* Root parallelism: K = 2 and 4 trees per agent.
 *   - Through the driver, for each merge rule (value_sum, visit_weighted, max_value), each
 *     allocation (equal, proportional, adaptive) and both algorithms: every agent gets a legal
 *     action and a target that sums to 1 within 1e-5 with no mass on illegal actions.
 *   - On the tree functions (harness.h): equal allocation gives tree k exactly S / K simulations
 *     (+1 for k < S % K); proportional and adaptive use exactly S in all, at least the warm-up
 *     and at most the cap per tree, and do move simulations between trees (some agents' trees
 *     end with unequal counts); the K trees of an agent draw different root noise. */
#include <math.h>
#include <stdio.h>

#include "check.h"
#include "harness.h"
#include "search/mcts.h"

#define N 120

static void driver(int algorithm, int K, int merge, int alloc) {
  toy_params p;
  memset(&p, 0, sizeof p);
  p.seed = 31u + (uint64_t)(K * 100 + merge * 10 + alloc);
  p.a_lo = 3;
  p.a_hi = 9;
  p.max_leaves = 100000;
  p.d_max = 6;
  p.states = 10;
  p.p_term = 0.1f;
  toy_world w;
  toy_world_make(&w, N, 500, &p, 3u, 8u);
  toy_net net;
  toy_net_random(&net, 77);
  myr_mcts_config cfg = myr_mcts_defaults();
  cfg.algorithm = algorithm;
  cfg.simulations = 61;
  cfg.leaves_per_wave = 2;
  cfg.root_trees = K;
  cfg.result_merge = merge;
  cfg.simulation_allocation = alloc;
  myr_mcts *m;
  myr_error err;
  REQUIRE(myr_mcts_create(&m, &cfg, toy_plan(), TOY_ACTIONS, &net.view.shape, N, &err) == MYR_OK, "%s", err.msg);
  int64_t agents[N];
  for (int i = 0; i < N; i++) agents[i] = i;
  toy_results r;
  toy_results_make(&r, N);
  REQUIRE(myr_mcts_search_cpu(m, &w.v, &net.view, agents, N, 2, &r.r, &err) == MYR_OK, "%s", err.msg);
  int64_t bad = 0;
  double worst = 0.0;
  for (int i = 0; i < N; i++) {
    toy_context c;
    toy_instance(&p, 500u + (uint64_t)i, &c);
    uint32_t legal = toy_legal_bits(&c, 0, toy_root_state(&c));
    double sum = 0.0;
    int ok = (legal >> r.action[i]) & 1u;
    for (int a = 0; a < TOY_ACTIONS; a++) {
      sum += r.target[i * TOY_ACTIONS + a];
      if (!((legal >> a) & 1u) && r.target[i * TOY_ACTIONS + a] != 0.0f) ok = 0;
    }
    if (fabs(sum - 1.0) > 1e-5) ok = 0;
    worst = fabs(sum - 1.0) > worst ? fabs(sum - 1.0) : worst;
    bad += !ok;
  }
  static const char *merges[] = {"value_sum", "visit_weighted", "max_value"};
  static const char *allocs[] = {"equal", "proportional", "adaptive"};
  printf("%-6s K=%d %-14s %-12s: %lld of %d agents with an illegal action or a bad target (worst |sum - 1| %.1e)\n",
         algorithm == MYR_MCTS_MUZERO ? "muzero" : "gumbel", K, merges[merge], allocs[alloc], (long long)bad, N,
         worst);
  CHECK(bad == 0, "K=%d merge %s allocation %s: %lld bad agents", K, merges[merge], allocs[alloc], (long long)bad);
  toy_results_free(&r);
  myr_mcts_destroy(m);
  toy_net_free(&net);
  toy_world_free(&w);
}

static void allocation(int algorithm, int K, int alloc, int S) {
  toy_params p;
  memset(&p, 0, sizeof p);
  p.seed = 5u + (uint64_t)(K * 10 + alloc);
  p.a_lo = 3;
  p.a_hi = 9;
  p.max_leaves = 100000;
  p.d_max = 6;
  p.states = 10;
  p.p_term = 0.1f;
  myr_mcts_config cfg = myr_mcts_defaults();
  cfg.algorithm = algorithm;
  cfg.simulations = S;
  cfg.leaves_per_wave = 3;
  cfg.root_trees = K;
  cfg.simulation_allocation = alloc;
  th_forest f;
  th_make(&f, &cfg, 50);
  th_roots(&f, &p, 0, 9u, 2u);
  while (th_select(&f) > 0) th_finish(&f);
  const myr_mcts_tree *t = &f.t;
  int32_t cap = myr_tree_cap(S, K, alloc), warm = myr_tree_warmup(S, K);
  int64_t wrong = 0, unequal = 0, same_noise = 0;
  for (int32_t i = 0; i < f.agents; i++) {
    int32_t total = 0, lo = S, hi = 0;
    for (int32_t k = 0; k < K; k++) {
      int32_t s = t->sims[i * K + k];
      total += s;
      lo = s < lo ? s : lo;
      hi = s > hi ? s : hi;
      if (alloc == MYR_ALLOC_EQUAL) wrong += s != S / K + (k < S % K ? 1 : 0);
      else wrong += s < warm || s > cap;
      if (k > 0 && myr_tree_popcount(t->legal[myr_tree_at(t, i * K, 0)]) > 1) { /* one action: no noise */
        const float *n0 = t->noise + (size_t)(i * K) * TOY_ACTIONS, *nk = t->noise + (size_t)(i * K + k) * TOY_ACTIONS;
        const uint16_t *p0 = t->prior + (size_t)(i * K) * t->nodes * TOY_ACTIONS; /* binary16 */
        const uint16_t *pk = t->prior + (size_t)(i * K + k) * t->nodes * TOY_ACTIONS;
        same_noise += algorithm == MYR_MCTS_GUMBEL ? !memcmp(n0, nk, TOY_ACTIONS * sizeof(float))
                                                   : !memcmp(p0, pk, TOY_ACTIONS * sizeof(uint16_t));
      }
    }
    wrong += total != S;
    unequal += hi - lo > 1;
  }
  static const char *allocs[] = {"equal", "proportional", "adaptive"};
  printf("%-6s K=%d %-12s S=%d: %lld agents with a wrong split, %lld of %d with unequal trees (cap %d, warm-up %d)\n",
         algorithm == MYR_MCTS_MUZERO ? "muzero" : "gumbel", K, allocs[alloc], S, (long long)wrong,
         (long long)unequal, f.agents, cap, warm);
  CHECK(wrong == 0, "%lld wrong splits", (long long)wrong);
  CHECK(same_noise == 0, "%lld trees share their first tree's root noise", (long long)same_noise);
  if (alloc == MYR_ALLOC_EQUAL) CHECK(unequal == 0, "equal allocation left %lld agents unequal", (long long)unequal);
  else CHECK(unequal > 0, "%s allocation never moved simulations between trees", allocs[alloc]);
  th_free(&f);
}

int main(void) {
  for (int algo = 0; algo < 2; algo++)
    for (int K = 2; K <= 4; K += 2)
      for (int merge = 0; merge < 3; merge++)
        for (int alloc = 0; alloc < 3; alloc++)
          driver(algo == 0 ? MYR_MCTS_MUZERO : MYR_MCTS_GUMBEL, K, merge, alloc);
  for (int algo = 0; algo < 2; algo++)
    for (int K = 2; K <= 4; K += 2)
      for (int alloc = 0; alloc < 3; alloc++) {
        allocation(algo == 0 ? MYR_MCTS_MUZERO : MYR_MCTS_GUMBEL, K, alloc, 64);
        allocation(algo == 0 ? MYR_MCTS_MUZERO : MYR_MCTS_GUMBEL, K, alloc, 103);
      }
  return check_summary();
}
