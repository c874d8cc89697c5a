/* Batched Monte Carlo tree search (DESIGN §7): one tree per deciding agent (times K for root
 * parallelism), all trees of a rank advanced together in waves; every wave expands up to
 * leaves_per_wave leaves per tree through the model's plan_step (models/plan.h) and evaluates
 * all new leaves in one batched network call (search/net.h), or by rollouts.
 *
 * Storage: structure of arrays over (tree, node) and (tree, node, action), N = simulations + 1
 * node slots per tree (with K root trees: the most one tree can get, + 1); each simulation
 * creates at most one node (node 0 is the root; a simulation that ends at a terminal or
 * max-depth node creates none). Per node: visits (u16), value sum (f32), raw value: the value
 * it was evaluated at (f32; Gumbel's mixed value and revisits of leaves need it), reward into
 * it (f32), parent (u8, or u16 with more than 256 slots), action into it (u8), terminal (u8),
 * legal mask (u32), pending visits of the current wave (u16: virtual loss), prior per action
 * (binary16 [A], rounded once when set), child per action (u8 or u16 [A], 0 = not expanded),
 * and the model's state (state_bytes): 23 + 3 A bytes + state with at most 256 slots (S <= 255). Per tree: the model's context
 * (context_bytes), the root's Gumbel noise and the halving state (budget, schedule). Trees are
 * processed in chunks of `chunk` agents to bound memory (myr_mcts_bytes_* say how much).
 *
 * Randomness (DESIGN §4.2): myr_rng keyed by (v->seed, agent id, v->step) with purposes
 * MYR_RNG_SEARCH + 0 (the action drawn with muzero's temperature), + 1 (rollouts, plan.h) and
 * + 2 (root noise: root tree k of the agent draws from block k << 16 on).
 *
 * Leaf values: the network (net != NULL, rollout_depth 0); rollouts of rollout_depth random
 * legal steps (the root then counts as value 0); with neither, a uniform prior over the legal
 * actions and value 0 everywhere (pure search on the rewards). The rules (selection, virtual
 * loss, results, root parallelism) are stated at the top of search/mcts_tree.h.
 *
 * The tree logic (selection, backup, root noise, results) is MYR_HD in search/mcts_tree.h and
 * runs unchanged in the CPU loop (mcts.c) and the CUDA kernels (mcts.cu); with the network's
 * fixed-order forward pass and sim/mathf.h, CPU and GPU give the same actions and targets. A
 * tree's result depends only on its agent, the step, the seed and the network: never on the
 * other trees in the batch or on the chunk size. */
#ifndef MYR_MCTS_H
#define MYR_MCTS_H

#include <stddef.h>
#include <stdint.h>

#include "models/plan.h"
#include "search/net.h"
#include "sim/status.h"
#include "sim/view.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MYR_MCTS_MAX_SIMULATIONS 4096
#define MYR_MCTS_MAX_ACTIONS 32
#define MYR_MCTS_MAX_ROOT_TREES 64
#define MYR_MCTS_MAX_LEAVES 64 /* leaves_per_wave */

typedef enum { MYR_MCTS_MUZERO, MYR_MCTS_GUMBEL } myr_mcts_algorithm;
typedef enum { MYR_MERGE_VALUE_SUM, MYR_MERGE_VISIT_WEIGHTED, MYR_MERGE_MAX_VALUE } myr_mcts_merge;
typedef enum { MYR_ALLOC_EQUAL, MYR_ALLOC_PROPORTIONAL, MYR_ALLOC_ADAPTIVE } myr_mcts_allocation;

/* policy.mcts.* in YAML (sim/config_schema.c documents each key and its default). */
typedef struct myr_mcts_config {
  int algorithm;              /* myr_mcts_algorithm */
  int simulations;            /* per agent (split over root_trees) */
  int max_depth;              /* deepest node below the root; 0 = no limit */
  int leaves_per_wave;        /* leaves expanded per tree per wave (virtual loss when > 1) */
  float discount;
  /* muzero */
  float pb_c_init, pb_c_base; /* PUCT: c = pb_c_init + log((N + pb_c_base + 1) / pb_c_base) */
  float dirichlet_alpha, dirichlet_fraction;
  float temperature;          /* action ~ N(a)^(1/T); 0 = most visited */
  /* gumbel */
  int max_considered_actions;
  float gumbel_scale;
  float c_visit, c_scale;     /* sigma(q) = (c_visit + max_b N(b)) * c_scale * q */
  /* root parallelism */
  int root_trees;             /* K trees per agent (at most one per simulation) */
  int result_merge;           /* myr_mcts_merge */
  int simulation_allocation;  /* myr_mcts_allocation */
  /* leaf values */
  int rollout_depth;          /* 0 = the network's value; d > 0 = rollouts of depth d */
  int64_t chunk;              /* agents per chunk; 0 = all */
} myr_mcts_config;

/* The defaults above, documented in the config schema. */
myr_mcts_config myr_mcts_defaults(void);

/* One search's results for `agents` agents (host arrays, owned by the caller):
 * action[i], target[i][A] (gumbel: the improved policy; muzero: visit distribution), value[i]
 * (the root value). */
typedef struct myr_mcts_result {
  uint8_t *action;
  float *target;
  float *value;
} myr_mcts_result;

typedef struct myr_mcts myr_mcts; /* workspace: trees for one chunk, feature and output rows */

/* A workspace for `n_actions` actions and this model's plan sizes, for chunks of at most
 * `max_agents` agents. */
myr_status myr_mcts_create(myr_mcts **out, const myr_mcts_config *cfg, const myr_model_plan *plan,
                           int n_actions, const myr_net_shape *net, int64_t max_agents, myr_error *err);
void myr_mcts_destroy(myr_mcts *m);
/* Bytes of tree storage per agent (all its root trees) and per node, for the memory estimate. */
size_t myr_mcts_bytes_per_agent(const myr_mcts_config *cfg, const myr_model_plan *plan, int n_actions);
size_t myr_mcts_bytes_per_node(const myr_mcts_config *cfg, const myr_model_plan *plan, int n_actions);

/* Searches from the agents in slots agents[0..n) of view v (CPU backend), with `net` (NULL
 * when cfg->rollout_depth > 0), and writes results for each (in the order given). threads:
 * OpenMP threads for the tree loops and the network. */
myr_status myr_mcts_search_cpu(myr_mcts *m, const myr_view *v, const myr_net_view *net,
                               const int64_t *agents, int64_t n, int threads, myr_mcts_result *out,
                               myr_error *err);

#ifdef __cplusplus
}
#endif

#endif
