/* The model side of a myr_plan_batch (models/plan.h), written once for every model: one
 * expansion (step, reward, terminal, legal mask, feature row, rollout) and one root (context,
 * root state, its mask and row), as MYR_HD code over a model's typed planning functions. The
 * CPU wrappers (<name>.c) loop over it; the CUDA launchers (<name>.cu, MYR_CUDA_PLAN in
 * models/model_cuda.cuh) run it one thread per expansion or tree: the same source, the same
 * bits.
 *
 * A model's plan header defines, MYR_HD static inline (C11 and CUDA C++ alike),
 *   void prefix##_plan_root(const myr_view *v, int64_t i, CTX_T *ctx, STATE_T *s)
 *   int  prefix##_plan_step(const PARAMS_T *p, const CTX_T *ctx, const STATE_T *s, int a,
 *                           STATE_T *next, float *reward)            returns terminal (0/1)
 *   int  prefix##_plan_legal(const PARAMS_T *p, const CTX_T *ctx, const STATE_T *s,
 *                            uint8_t *mask)                          returns the legal count
 *   void prefix##_plan_features(const PARAMS_T *p, const CTX_T *ctx, const STATE_T *s, float *row)
 * then MYR_PLAN_DEFINE(prefix, PARAMS_T, CTX_T, CTX_BYTES, STATE_T, NA, NF), which defines
 *   prefix##_plan_expand_one(const myr_plan_batch *b, int64_t k)
 *   prefix##_plan_root_tree(const myr_view *v, const int64_t *agents, int64_t t,
 *                           uint8_t *context, uint8_t *state, int32_t nodes, uint32_t *legal,
 *                           float *features)
 *   prefix##_plan_root_at(...)  the same with tree t's context at ctx_at (void *) instead of in
 *                           `context` (the GPU builds contexts in shared memory: model_cuda.cuh)
 *   prefix##_plan_ctx_bytes     CTX_BYTES as an enum constant
 * CTX_T may be `void` with CTX_BYTES 0 (a model whose trees share nothing); ctx is NULL then.
 * State slots are STATE_T (state_bytes = sizeof(STATE_T)); the search's node storage must be
 * aligned for it (malloc and cudaMalloc are).
 *
 * Rollouts (batch->rollout_depth > 0): from a child that is not terminal, rollout_depth
 * steps (fewer if one is terminal), each a uniformly random legal action (myr_rng_below over
 * the legal count, then the k-th legal action), value = sum over steps d of discount^d *
 * reward_d, accumulated in that order; a terminal child's value is 0. The random numbers come
 * from myr_rng keyed by (seed, agent[tree], step, MYR_RNG_SEARCH + 1) with the draw block set
 * to the child node and the tree's place among its agent's K root trees: the stream of child j
 * of tree k starts at Philox block j << 16 | k << 8 (one u32 a step, four a block: room for
 * rollouts of 1024 steps), so rollouts from different nodes or trees never share numbers. */
#ifndef MYR_PLAN_HD_H
#define MYR_PLAN_HD_H

#include <stddef.h>
#include <stdint.h>

#include "models/plan.h" /* myr_plan_batch */
#include "sim/rng.h"     /* myr_rng_*: the rollout streams */
#include "sim/view.h"    /* myr_view, myr_nth_legal */

/* The rollout stream of child node `child` of tree `tree` (above). */
MYR_HD static inline myr_rng myr_plan_rollout_rng(const myr_plan_batch *b, int32_t tree, int32_t child) {
  myr_rng r = myr_rng_make(b->seed, b->agent[tree], b->step, MYR_RNG_SEARCH + 1);
  int32_t k = b->trees_per_agent > 1 ? tree % b->trees_per_agent : 0;
  r.block = (uint32_t)child << 16 | (uint32_t)k << 8;
  return r;
}

/* A 0/1 mask of n actions as bits (bit a set when action a is legal). */
MYR_HD static inline uint32_t myr_plan_mask_bits(const uint8_t *mask, int n) {
  uint32_t bits = 0;
  for (int a = 0; a < n; a++) bits |= (uint32_t)(mask[a] != 0) << a;
  return bits;
}

/* Stores a feature row of nf floats at dst. On the GPU, 16-byte stores where the row's place
 * and length allow: one wave's rows are consecutive, one thread each, so a warp's 4-byte store
 * of column j would touch 32 rows' sectors at once, for every column. The same floats either way. */
MYR_HD static inline void myr_plan_store_row(float *dst, const float *row, int nf) {
#ifdef __CUDA_ARCH__
  if ((nf & 3) == 0 && ((uintptr_t)dst & 15u) == 0) {
    for (int i = 0; i < nf; i += 4) *(float4 *)(dst + i) = make_float4(row[i], row[i + 1], row[i + 2], row[i + 3]);
    return;
  }
#endif
  for (int i = 0; i < nf; i++) dst[i] = row[i];
}

#define MYR_PLAN_DEFINE(prefix, PARAMS_T, CTX_T, CTX_BYTES, STATE_T, NA, NF)                          \
  MYR_HD static inline void prefix##_plan_expand_one(const myr_plan_batch *b, int64_t k) {             \
    const PARAMS_T *p = (const PARAMS_T *)b->params;                                                 \
    int32_t tree = b->tree[k], child = b->child[k];                                                  \
    if (tree < 0) return; /* a hole (models/plan.h) */                                               \
    int64_t parent_node = (int64_t)tree * b->nodes + b->parent[k];                                   \
    int64_t node = (int64_t)tree * b->nodes + child;                                                 \
    const CTX_T *ctx = (CTX_BYTES) > 0 ? (const CTX_T *)(b->context + (size_t)tree * (CTX_BYTES)) : NULL; \
    STATE_T *states = (STATE_T *)b->state;                                                           \
    STATE_T s = states[parent_node], next;                                                           \
    float reward;                                                                                    \
    int terminal = prefix##_plan_step(p, ctx, &s, (int)b->action[k], &next, &reward);                \
    states[node] = next;                                                                             \
    b->reward[k] = reward;                                                                           \
    b->terminal[k] = (uint8_t)terminal;                                                              \
    uint8_t mask[NA];                                                                                \
    prefix##_plan_legal(p, ctx, &next, mask);                                                        \
    b->legal[k] = myr_plan_mask_bits(mask, NA);                                                      \
    float row_[(NF) > 0 ? (NF) : 1];                                                                 \
    prefix##_plan_features(p, ctx, &next, row_);                                                     \
    myr_plan_store_row(b->features + (size_t)k * (NF), row_, (NF));                                  \
    if (b->rollout_depth <= 0) return;                                                               \
    float value = 0.0f, disc = 1.0f;                                                                 \
    if (!terminal) {                                                                                 \
      myr_rng r = myr_plan_rollout_rng(b, tree, child);                                              \
      for (int32_t d = 0; d < b->rollout_depth; d++) {                                               \
        int n = prefix##_plan_legal(p, ctx, &next, mask);                                            \
        int a = myr_nth_legal(mask, NA, myr_rng_below(&r, (uint32_t)(n > 0 ? n : 1)));              \
        float rw;                                                                                    \
        int end = prefix##_plan_step(p, ctx, &next, a, &s, &rw);                                     \
        value = value + disc * rw;                                                                   \
        disc = disc * b->discount;                                                                   \
        if (end) break;                                                                              \
        next = s;                                                                                    \
      }                                                                                              \
    }                                                                                                \
    b->value[k] = value;                                                                             \
  }                                                                                                  \
                                                                                                     \
  enum { prefix##_plan_ctx_bytes = (int)(CTX_BYTES) };                                               \
                                                                                                     \
  MYR_HD static inline void prefix##_plan_root_at(const myr_view *v, const int64_t *agents, int64_t t, \
                                                  void *ctx_at, uint8_t *state, int32_t nodes,        \
                                                  uint32_t *legal, float *features) {                \
    const PARAMS_T *p = (const PARAMS_T *)v->params;                                                 \
    CTX_T *ctx = (CTX_T *)ctx_at;                                                                    \
    STATE_T *s = (STATE_T *)state + (size_t)t * (size_t)nodes;                                       \
    prefix##_plan_root(v, agents[t], ctx, s);                                                        \
    uint8_t mask[NA];                                                                                \
    prefix##_plan_legal(p, ctx, s, mask);                                                            \
    legal[(size_t)t * (size_t)nodes] = myr_plan_mask_bits(mask, NA);                                 \
    prefix##_plan_features(p, ctx, s, features + (size_t)t * (NF));                                  \
  }                                                                                                  \
                                                                                                     \
  MYR_HD static inline void prefix##_plan_root_tree(const myr_view *v, const int64_t *agents, int64_t t, \
                                                    uint8_t *context, uint8_t *state, int32_t nodes,  \
                                                    uint32_t *legal, float *features) {              \
    void *ctx = (CTX_BYTES) > 0 ? (void *)(context + (size_t)t * (CTX_BYTES)) : NULL;                \
    prefix##_plan_root_at(v, agents, t, ctx, state, nodes, legal, features);                         \
  }

/* In a model's .c: `MYR_DECLARE_PLAN_CUDA(name);` then `.expand_cuda = MYR_PLAN_EXPAND_CUDA(name),
 * .root_cuda = MYR_PLAN_ROOT_CUDA(name)` in its myr_model_plan: the launchers that
 * MYR_CUDA_PLAN(name, ...) defines in <name>.cu in a CUDA build, NULL otherwise. */
#ifdef MYRIAD_HAVE_CUDA
#define MYR_DECLARE_PLAN_CUDA(name)                                                                   \
  int myr_plan_expand_cuda_##name(const myr_plan_batch *b, void *stream);                            \
  int myr_plan_root_cuda_##name(const myr_view *v, const int64_t *agents, int64_t trees, uint8_t *context, \
                                uint8_t *state, int32_t nodes, uint32_t *legal, float *features, void *stream)
#define MYR_PLAN_EXPAND_CUDA(name) myr_plan_expand_cuda_##name
#define MYR_PLAN_ROOT_CUDA(name) myr_plan_root_cuda_##name
#else
#define MYR_DECLARE_PLAN_CUDA(name) struct myr__no_plan_cuda_##name
#define MYR_PLAN_EXPAND_CUDA(name) NULL
#define MYR_PLAN_ROOT_CUDA(name) NULL
#endif

#endif
