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
} myr_search;

/* Prepares sim->search for cfg's policy (nothing for random/heuristic). Checks that the model
 * can do it (features for network, a planning interface for mcts) and prints nothing. */
myr_status myr_search_start(myr_sim *sim, myr_error *err);
void myr_search_stop(myr_sim *sim);
/* Fills v->action for every alive agent of the CPU backend. */
myr_status myr_search_decide(myr_sim *sim, const myr_view *v, myr_error *err);
/* The search settings of a config, as myr_mcts_config. */
myr_mcts_config myr_search_mcts_config(const myr_config *cfg);
/* Tree memory per agent and the agents searched at a time (for the memory estimate). */
size_t myr_search_bytes_per_agent(const myr_config *cfg);

#ifdef __cplusplus
}
#endif

#endif
