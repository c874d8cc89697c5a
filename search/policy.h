/* Decisions by the policy-value network or by batched search, for the engine's decide phase
 * (policy.kind: network | mcts). Owns the simulation's network (network.init: random from
 * run.seed, or loaded from a file) and the search workspace. */
#ifndef MYR_SEARCH_POLICY_H
#define MYR_SEARCH_POLICY_H

#include "search/mcts.h"
#include "search/net.h"
#include "sim/sim.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct myr_search {
  myr_net net;            /* empty when MCTS values come from rollouts */
  myr_mcts_config mcts;
  myr_mcts *workspace;    /* policy.kind: mcts */
  int64_t chunk;          /* agents per search chunk */
  float *rows, *out;      /* network policy: features and outputs of one chunk */
  int64_t *agents;        /* slots searched, [capacity] */
  myr_mcts_result result; /* [capacity] */
  void *device;           /* the GPU side (search/policy_cuda.cu), made at the first GPU decision */
} myr_search;

/* The legal action of `prior` drawn with u in [0, 1), or its most likely one (lowest index on
 * ties) when u < 0: the network policy's choice, on the CPU and the GPU. */
MYR_HD static inline int myr_pick_action(const float *prior, int actions, float u) {
  int best = 0;
  if (u < 0) {
    for (int a = 1; a < actions; a++)
      if (prior[a] > prior[best]) best = a;
    return best;
  }
  float c = 0;
  for (int a = 0; a < actions; a++) {
    if (prior[a] <= 0) continue;
    best = a;
    c += prior[a];
    if (u < c) return a;
  }
  return best; /* rounding left u above the sum: the last legal action */
}

/* Prepares sim->search for cfg's policy (nothing for random/heuristic). Checks that the model
 * can do it (features for network, a planning interface for mcts) and prints nothing. */
myr_status myr_search_start(myr_sim *sim, myr_error *err);
void myr_search_stop(myr_sim *sim);
/* Fills v->action for every alive agent of the CPU backend. */
myr_status myr_search_decide(myr_sim *sim, const myr_view *v, myr_error *err);
/* The same on the CUDA backend: v is its device view, stream its stream (search/policy_cuda.cu;
 * network policy for models with a planning interface, whose root gives features and mask). */
myr_status myr_search_decide_cuda(myr_sim *sim, const myr_view *v, void *stream, myr_error *err);
void myr_search_free_cuda(myr_search *s);
/* The search settings of a config, as myr_mcts_config. */
myr_mcts_config myr_search_mcts_config(const myr_config *cfg);
/* Tree memory per agent and the agents searched at a time (for the memory estimate). */
size_t myr_search_bytes_per_agent(const myr_config *cfg);

#ifdef __cplusplus
}
#endif

#endif
