/* A tree's result depends on its agent, the step, the seed and the network only (DESIGN §4):
 * for a set of configurations (both algorithms; one or several leaves per wave; root
 * parallelism with each allocation and merge; a random network, rollouts, no network), the
 * results (action, target and value bits) of every agent are identical when it is searched
 *   - in a batch of 150 agents in slot order, with 1 and 4 threads (thread independence),
 *   - alone,
 *   - in a batch of 100 agents, shuffled, at another position,
 *   - with chunks of 1, 7 and all agents.
 * The first mismatch of each kind is printed. */
#include <stdio.h>

#include "check.h"
#include "search/mcts.h"
#include "toy.h"

#define N 150
#define BATCH 100

typedef struct config_case {
  const char *name;
  int algorithm, L, K, alloc, merge, leaf; /* leaf: 0 network, 1 rollouts, 2 none */
} config_case;

static const config_case cases[] = {
    {"muzero net", MYR_MCTS_MUZERO, 1, 1, MYR_ALLOC_EQUAL, MYR_MERGE_VALUE_SUM, 0},
    {"gumbel net", MYR_MCTS_GUMBEL, 1, 1, MYR_ALLOC_EQUAL, MYR_MERGE_VALUE_SUM, 0},
    {"muzero L4 rollout", MYR_MCTS_MUZERO, 4, 1, MYR_ALLOC_EQUAL, MYR_MERGE_VALUE_SUM, 1},
    {"gumbel L3 none", MYR_MCTS_GUMBEL, 3, 1, MYR_ALLOC_EQUAL, MYR_MERGE_VALUE_SUM, 2},
    {"muzero K3 proportional visit_weighted", MYR_MCTS_MUZERO, 2, 3, MYR_ALLOC_PROPORTIONAL,
     MYR_MERGE_VISIT_WEIGHTED, 0},
    {"gumbel K2 adaptive max_value", MYR_MCTS_GUMBEL, 4, 2, MYR_ALLOC_ADAPTIVE, MYR_MERGE_MAX_VALUE, 0},
    {"gumbel K4 equal value_sum rollout", MYR_MCTS_GUMBEL, 2, 4, MYR_ALLOC_EQUAL, MYR_MERGE_VALUE_SUM, 1},
    {"muzero K2 adaptive value_sum", MYR_MCTS_MUZERO, 1, 2, MYR_ALLOC_ADAPTIVE, MYR_MERGE_VALUE_SUM, 2},
};

typedef struct env {
  toy_params p;
  toy_world w;
  toy_net net;
} env;

/* Searches agents[0..n) with chunk `chunk` and `threads`; results in r (n rows). */
static void search(env *e, const config_case *c, const int64_t *agents, int64_t n, int64_t chunk, int threads,
                   toy_results *r) {
  myr_mcts_config cfg = myr_mcts_defaults();
  cfg.algorithm = c->algorithm;
  cfg.simulations = 48;
  cfg.leaves_per_wave = c->L;
  cfg.root_trees = c->K;
  cfg.simulation_allocation = c->alloc;
  cfg.result_merge = c->merge;
  cfg.rollout_depth = c->leaf == 1 ? 4 : 0;
  cfg.max_depth = 5;
  cfg.chunk = chunk;
  myr_mcts *m;
  myr_error err;
  REQUIRE(myr_mcts_create(&m, &cfg, toy_plan(), TOY_ACTIONS, &e->net.view.shape, chunk > 0 ? chunk : n, &err) ==
              MYR_OK,
          "%s", err.msg);
  toy_results_make(r, n);
  const myr_net_view *net = c->leaf == 0 ? &e->net.view : NULL;
  REQUIRE(myr_mcts_search_cpu(m, &e->w.v, net, agents, n, threads, &r->r, &err) == MYR_OK, "%s", err.msg);
  myr_mcts_destroy(m);
}

/* 1 if row i of a equals row j of b bit for bit. */
static int same(const toy_results *a, int64_t i, const toy_results *b, int64_t j) {
  return a->action[i] == b->action[j] && memcmp(&a->value[i], &b->value[j], sizeof(float)) == 0 &&
         memcmp(a->target + i * TOY_ACTIONS, b->target + j * TOY_ACTIONS, TOY_ACTIONS * sizeof(float)) == 0;
}

static void report(const char *what, const config_case *c, int64_t mismatches, int64_t first, const toy_results *ref,
                   int64_t ri, const toy_results *got, int64_t gi) {
  CHECK(mismatches == 0, "%s, %s: %lld agents differ; first: agent %lld action %d/%d value %.9g/%.9g", c->name, what,
        (long long)mismatches, (long long)first, ref->action[ri], got->action[gi], (double)ref->value[ri],
        (double)got->value[gi]);
}

int main(void) {
  env e;
  memset(&e, 0, sizeof e);
  e.p.seed = 4242;
  e.p.a_lo = 3;
  e.p.a_hi = 9;
  e.p.max_leaves = 100000;
  e.p.d_max = 8;
  e.p.states = 16;
  e.p.p_term = 0.1f;
  e.p.eta = 0.05f;
  toy_world_make(&e.w, N, 1000, &e.p, 99u, 12u);
  toy_net_random(&e.net, 5);

  int64_t all[N], batch[BATCH];
  for (int64_t i = 0; i < N; i++) all[i] = i;
  /* a shuffled batch of 100 distinct agents (a fixed permutation) */
  for (int64_t i = 0; i < BATCH; i++) batch[i] = (i * 37 + 11) % N;

  for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
    const config_case *c = &cases[ci];
    toy_results ref, thr;
    search(&e, c, all, N, 0, 1, &ref);

    /* threads */
    search(&e, c, all, N, 0, 4, &thr);
    int64_t bad = 0, first = -1;
    for (int64_t i = 0; i < N; i++)
      if (!same(&ref, i, &thr, i) && bad++ == 0) first = i;
    report("4 threads vs 1", c, bad, first, &ref, first < 0 ? 0 : first, &thr, first < 0 ? 0 : first);
    toy_results_free(&thr);

    /* alone (a few agents, each in its own search) */
    for (int64_t i = 0; i < N; i += 13) {
      toy_results one;
      search(&e, c, &all[i], 1, 0, 1, &one);
      report("alone", c, !same(&ref, i, &one, 0), i, &ref, i, &one, 0);
      toy_results_free(&one);
    }

    /* shuffled batch of 100 */
    toy_results sh;
    search(&e, c, batch, BATCH, 0, 2, &sh);
    bad = 0;
    first = -1;
    for (int64_t i = 0; i < BATCH; i++)
      if (!same(&ref, batch[i], &sh, i) && bad++ == 0) first = i;
    report("shuffled batch of 100", c, bad, first < 0 ? 0 : batch[first], &ref, first < 0 ? 0 : batch[first], &sh,
           first < 0 ? 0 : first);
    toy_results_free(&sh);

    /* chunks */
    const int64_t chunks[] = {1, 7, N};
    for (int k = 0; k < 3; k++) {
      toy_results ck;
      search(&e, c, all, N, chunks[k], 3, &ck);
      bad = 0;
      first = -1;
      for (int64_t i = 0; i < N; i++)
        if (!same(&ref, i, &ck, i) && bad++ == 0) first = i;
      char what[64];
      snprintf(what, sizeof what, "chunk %lld", (long long)chunks[k]);
      report(what, c, bad, first, &ref, first < 0 ? 0 : first, &ck, first < 0 ? 0 : first);
      toy_results_free(&ck);
    }
    int64_t distinct = 0;
    for (int64_t i = 1; i < N; i++) distinct += ref.action[i] != ref.action[0];
    printf("%-40s checked: threads, alone, shuffled batch, chunks; %lld of %d agents act unlike agent 0\n",
           c->name, (long long)distinct, N);
    toy_results_free(&ref);
  }
  toy_net_free(&e.net);
  toy_world_free(&e.w);
  return check_summary();
}
