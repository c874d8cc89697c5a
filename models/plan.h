/* The planning interface of a model (DESIGN §7), used by batched MCTS (search/):
 *
 *   plan_root(view, agent, context, state)      the per-tree read-only context (e.g. the
 *                                               published resource patch around the agent) and
 *                                               the root state, from the published world
 *   plan_step(context, state, action, next, &reward, &terminal)
 *                                               one imagined step: next state, reward, terminal
 *   plan_legal(context, state, mask)            legal actions at a state (returns how many)
 *   plan_features(context, state, row)          the network input row (plan_features floats)
 *
 * Contexts and states are plain bytes (context_bytes per tree, state_bytes per node): a state
 * is small (an offset, an energy, what was taken along the path), never a copy of the world.
 * The functions are MYR_HD static inline in the model's header; <name>.c fills a
 * myr_model_plan with CPU wrappers, <name>.cu the CUDA launchers (models/model_cuda.cuh). They
 * must be pure: the same inputs give the same bits on the CPU and the GPU (float arithmetic
 * without libm: sim/mathf.h).
 *
 * Rewards. plan_step's reward is also the reward of the agent's real step for training: the
 * trainer (search/trainer.h) takes agent i's reward at step s as the reward plan_step gives for
 * the action the agent took, from the root plan_root builds at step s. So a model's plan_step
 * reward must mean "what one real step is worth to this agent" under the published world, and
 * the search maximises exactly what the value targets measure. (foraging: claimed - metabolism
 * in energy units, which is what act claims; latent: 0.01 mean(s').) A model whose imagined
 * steps differ from its real ones (other agents, regrowth) gives rewards that ignore those
 * differences, as its search does. */
#ifndef MYR_PLAN_H
#define MYR_PLAN_H

#include <stdint.h>

#include "sim/view.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MYR_PLAN_MAX_STATE 256
#define MYR_PLAN_MAX_CONTEXT 4096

/* One wave's expansions, as the search hands them to a model (host or device pointers). For
 * k < n: tree tree[k] expands node parent[k] by action action[k] into node child[k]; a row
 * whose tree is negative is a hole, which the model skips (the GPU search gives row b to tree
 * b when each tree expands at most one leaf a wave, and leaves holes where a tree expands
 * none). Node storage is tree-major: node j of tree b at index b * nodes + j. */
typedef struct myr_plan_batch {
  int64_t n;
  const int32_t *tree, *parent, *child;
  const uint8_t *action;
  int32_t nodes;             /* node slots per tree */
  const uint8_t *context;    /* [trees][context_bytes] */
  uint8_t *state;            /* [trees * nodes][state_bytes] */
  /* Row k's child: the reward of the edge into it, its terminal flag, its legal mask (bit a set
   * when action a is legal), in k order like the features: the search copies them into its tree
   * when it sets the leaf (written into the tree here, each was a write of a few bytes into a
   * line no longer cached, which the GPU's L2 must first read from memory). */
  float *reward;             /* [n] */
  uint8_t *terminal;         /* [n] */
  uint32_t *legal;           /* [n] */
  float *features;           /* [n][plan_features]: the rows to evaluate, in k order */
  /* Leaf values by rollout instead of a network (rollout_depth > 0): value[k] = discounted sum
   * of rewards of rollout_depth random legal steps from the child (myr_rng keyed by agent[tree],
   * step and purpose MYR_RNG_SEARCH + 1; draw block = child node << 16 | (tree % K) << 8). */
  int32_t rollout_depth;
  float discount;
  float *value;              /* [n], written when rollout_depth > 0 */
  const uint64_t *agent;     /* [trees]: the agent id each tree belongs to (randomness) */
  int32_t trees_per_agent;   /* K: tree b is its agent's tree b % K (rollouts of the K differ) */
  uint64_t step;
  uint32_t seed;
  const void *params;        /* the model's parameters */
  /* CUDA only: when not NULL, a device pointer to the batch's expansion count, read by the
   * expand kernel when it runs; n is then only an upper bound (the launch covers n). The GPU
   * search leaves each wave's count on the device this way instead of waiting for it. */
  const int64_t *count;
} myr_plan_batch;

typedef struct myr_model_plan {
  int context_bytes, state_bytes, n_features;
  /* CPU: context and root state of the tree for `agent`; its legal mask and feature row. */
  void (*root)(const myr_view *v, int64_t agent, uint8_t *context, uint8_t *state);
  /* CPU: the expansions k in [begin, end) of a batch (and their rollouts). */
  void (*expand)(const myr_plan_batch *b, int64_t begin, int64_t end);
  /* CPU: the legal mask and feature row of a state (roots and tests). */
  int (*legal)(const void *params, const uint8_t *context, const uint8_t *state, uint8_t *mask);
  void (*features)(const void *params, const uint8_t *context, const uint8_t *state, float *row);
  /* CUDA: the same over all k of a batch whose pointers are device pointers; roots of
   * `trees` agents (agent slot agents[t]) into context/state rows t. NULL without CUDA. */
  int (*expand_cuda)(const myr_plan_batch *b, void *stream);
  int (*root_cuda)(const myr_view *v, const int64_t *agents, int64_t trees, uint8_t *context,
                   uint8_t *state, int32_t nodes, uint32_t *legal, float *features, void *stream);
} myr_model_plan;

#ifdef __cplusplus
}
#endif

#endif
