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
  struct myr_trainer *trainer; /* train.enabled: search/trainer.h */
  int64_t searched;       /* CPU mcts: agents searched at the last decide (agents[0..searched)) */
  int64_t *result_of;     /* mcts on the CPU: slot -> its row of `result` at the last decide */
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
/* Training (search/trainer.h), when train.enabled. After the CPU decide of step v->step: picks
 * and advances samples. */
myr_status myr_search_train_observe(myr_sim *sim, const myr_view *v, myr_error *err);
/* The trainer's rows (search/trainer.h) of rows->slot[] from the last CPU mcts decide of v:
 * root features and mask, the reward of the action taken, the search's target and value. */
struct myr_trainer_rows;
myr_status myr_search_train_rows(myr_sim *sim, const myr_view *v, struct myr_trainer_rows *rows, myr_error *err);
/* The same after a GPU decide (search/policy_cuda.cu; v: the device view). */
myr_status myr_search_train_observe_cuda(myr_sim *sim, const myr_view *v, void *stream, myr_error *err);
/* After a step completes (either backend): the updates due, and the GPU's copy of the weights
 * refreshed when they changed. */
myr_status myr_search_train_after_step(myr_sim *sim, myr_error *err);
/* GPU: copies the host network to the device after an update (search/policy_cuda.cu). */
myr_status myr_search_upload_weights_cuda(myr_search *s, myr_error *err);

/* The search settings of a config, as myr_mcts_config. */
myr_mcts_config myr_search_mcts_config(const myr_config *cfg);
/* Tree memory per agent and the agents searched at a time (for the memory estimate). */
size_t myr_search_bytes_per_agent(const myr_config *cfg);

#ifdef __cplusplus
}
#endif

#endif
