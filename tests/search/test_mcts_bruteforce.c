/* Batched MCTS against brute force (DESIGN §11): random finite-horizon MDPs (tests/search/toy.h:
 * 3-9 actions, about a quarter of them illegal at each state, random terminal states, horizon
 * 2-4 levels so that a tree has at most LEAVES paths; and a deep family of 2 actions with a
 * horizon of 6 levels, the depth), solved exactly by exhaustive recursion
 * with the search's discount. Both algorithms, with their default constants, search every
 * instance with SIMS simulations (and with SIMS / 4, to show convergence), with two kinds of
 * leaf value (a zero-weight network: uniform prior, value 0; random rollouts), on two reward
 * variants:
 *   exact: deterministic rewards uniform in [0, 1);
 *   noisy: the same means plus noise uniform in [-ETA, ETA] from a counter RNG keyed by the path.
 *     A tree stores one draw per edge, so the search sees (and can only converge to) the
 *     realised rewards: it is judged against the exact optimum of the realised rewards, and the
 *     rate at which its action is also optimal for the mean rewards is printed.
 * Criteria at SIMS (per configuration, over INSTANCES instances):
 *   - optimal action: Q(chosen) >= V - EPS (EPS in reward units: near-ties closer than that
 *     count as optimal; the strict rate is printed too) on >= 99% of the instances;
 *   - root value: |value - V| <= VTOL_MUZERO (muzero reports the root's mean value, which keeps
 *     the cost of its early exploration) or VTOL_GUMBEL (the improved policy's value) times |V|
 *     on >= 95% of the instances;
 *   - convergence: from SIMS / 4 to SIMS the median value error falls.
 * Play is deterministic, as the papers evaluate it: temperature 0 (muzero takes the most visited
 * action) and gumbel_scale 0 (no Gumbel noise at the root); muzero's Dirichlet noise stays on.
 * Gumbel with a zero-weight network is printed but not required: its interior rule is greedy in
 * the network's values (no bonus grows with visits), and a value of 0 under rewards in [0, 1)
 * makes an action whose first evaluation looked poor wait for ever. */
#include <math.h>
#include <stdio.h>

#include "check.h"
#include "search/mcts.h"
#include "toy.h"

#define INSTANCES 300
#define SIMS 4096
#define LEAVES 128
#define ETA 0.05f
#define EPS 0.03
#define VTOL_MUZERO 0.06
#define VTOL_GUMBEL 0.03

typedef struct run_stats {
  double strict, optimal, mean_optimal, value_ok; /* fractions */
  double median_err, p95_err, max_err;            /* relative |value - V| / |V| */
} run_stats;

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static run_stats run(int algorithm, int noisy, int rollouts, int sims, int deep) {
  toy_params p;
  memset(&p, 0, sizeof p);
  p.seed = 1000u + (uint64_t)noisy + 10u * (uint64_t)deep;
  p.a_lo = deep ? 2 : 3; /* 2 actions: 2^6 = 64 paths reach depth 6 */
  p.a_hi = deep ? 2 : 9;
  p.max_leaves = LEAVES;
  p.d_max = 6;
  p.states = 6;
  p.p_term = 0.1f;
  p.eta = noisy ? ETA : 0.0f;
  toy_world w;
  toy_world_make(&w, INSTANCES, 0, &p, 7u, 3u);
  toy_net net;
  toy_net_zero(&net);

  myr_mcts_config cfg = myr_mcts_defaults();
  cfg.algorithm = algorithm;
  cfg.simulations = sims;
  cfg.max_depth = 0; /* the MDP ends by itself */
  cfg.discount = 0.95f;
  cfg.temperature = 0.0f;  /* deterministic play, as the papers evaluate: muzero takes the most */
  cfg.gumbel_scale = 0.0f; /* visited action, gumbel no root noise (Dirichlet noise stays on) */
  cfg.rollout_depth = rollouts ? 8 : 0;
  cfg.chunk = 64;
  myr_mcts *m;
  myr_error err;
  REQUIRE(myr_mcts_create(&m, &cfg, toy_plan(), TOY_ACTIONS, &net.view.shape, INSTANCES, &err) == MYR_OK, "%s",
          err.msg);
  int64_t agents[INSTANCES];
  for (int i = 0; i < INSTANCES; i++) agents[i] = i;
  toy_results res;
  toy_results_make(&res, INSTANCES);
  REQUIRE(myr_mcts_search_cpu(m, &w.v, rollouts ? NULL : &net.view, agents, INSTANCES, 2, &res.r, &err) == MYR_OK,
          "%s", err.msg);
  CHECK(p.illegal_expansions == 0, "%lld expansions of illegal actions", (long long)p.illegal_expansions);

  run_stats st;
  memset(&st, 0, sizeof st);
  double errs[INSTANCES];
  double vtol = algorithm == MYR_MCTS_MUZERO ? VTOL_MUZERO : VTOL_GUMBEL;
  for (int i = 0; i < INSTANCES; i++) {
    toy_context c;
    toy_instance(&p, (uint64_t)i, &c);
    double q[TOY_ACTIONS], qm[TOY_ACTIONS];
    double v = toy_root_q_realized(&c, cfg.discount, q); /* = the means' optimum when exact */
    double vm = toy_root_q(&c, cfg.discount, qm);
    int a = res.action[i];
    CHECK(q[a] > -1e299, "instance %d: illegal action %d chosen", i, a);
    st.strict += q[a] >= v - 1e-6;
    st.optimal += q[a] >= v - EPS;
    st.mean_optimal += qm[a] >= vm - EPS;
    errs[i] = fabs((double)res.value[i] - v) / fabs(v);
    st.value_ok += errs[i] <= vtol;
    if (getenv("MCTS_VERBOSE") && q[a] < v - EPS)
      printf("  instance %d: A %d D %d V %.4f value %.4f chose %d (Q %.4f)\n", i, c.A, c.D, v,
             (double)res.value[i], a, q[a]);
  }
  qsort(errs, INSTANCES, sizeof errs[0], cmp_double);
  st.strict /= INSTANCES;
  st.optimal /= INSTANCES;
  st.mean_optimal /= INSTANCES;
  st.value_ok /= INSTANCES;
  st.median_err = errs[INSTANCES / 2];
  st.p95_err = errs[INSTANCES * 95 / 100];
  st.max_err = errs[INSTANCES - 1];
  toy_results_free(&res);
  myr_mcts_destroy(m);
  toy_net_free(&net);
  toy_world_free(&w);
  return st;
}

int main(void) {
  printf("%d instances, at most %d leaves each; optimal = within %.2f of the exact value; value errors "
         "relative to it\n",
         INSTANCES, LEAVES, EPS);
  printf("%-5s %-7s %-6s %-8s %5s %8s %8s %8s %8s %9s %8s %8s\n", "depth", "algo", "reward", "leaf", "sims",
         "strict", "optimal", "mean-opt", "value-ok", "med|dv|", "p95|dv|", "max|dv|");
  for (int deep = 0; deep < 2; deep++)
  for (int algo = 0; algo < 2; algo++)
    for (int noisy = 0; noisy < 2; noisy++)
      for (int rollouts = 0; rollouts < 2; rollouts++) {
        int required = !(algo == 1 && !rollouts);
        run_stats s[2];
        for (int k = 0; k < 2; k++) {
          int sims = k == 0 ? SIMS / 4 : SIMS;
          s[k] = run(algo == 0 ? MYR_MCTS_MUZERO : MYR_MCTS_GUMBEL, noisy, rollouts, sims, deep);
          printf("%-5s %-7s %-6s %-8s %5d %7.1f%% %7.1f%% %7.1f%% %7.1f%% %9.4f %8.4f %8.4f%s\n",
                 deep ? "6" : "2-4", algo == 0 ? "muzero" : "gumbel", noisy ? "noisy" : "exact", rollouts ? "rollout" : "zero-net", sims,
                 100 * s[k].strict, 100 * s[k].optimal, 100 * s[k].mean_optimal, 100 * s[k].value_ok,
                 s[k].median_err, s[k].p95_err, s[k].max_err, required ? "" : "   (not required)");
        }
        if (!required) continue;
        CHECK(s[1].optimal >= 0.99, "optimal action on %.1f%% of the instances; expected >= 99%%", 100 * s[1].optimal);
        CHECK(s[1].value_ok >= 0.95, "root value within tolerance on %.1f%%; expected >= 95%%", 100 * s[1].value_ok);
        CHECK(s[1].median_err < s[0].median_err, "median value error %.4f at %d simulations, %.4f at %d",
              s[1].median_err, SIMS, s[0].median_err, SIMS / 4);
      }
  return check_summary();
}
