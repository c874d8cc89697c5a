/* latent: the MCTS benchmark workload. Agents have no position: each holds a latent state of
 * LATENT_DIM floats and steers it with one of LATENT_ACTIONS actions,
 *     s' = tanh(0.9 s + W[action])    reward = 0.01 * mean(s'),
 * with W a fixed matrix drawn by setup() from model.params.w_seed. The step is cheap and
 * branch-free, every action is always legal and planning needs no context, so a search over
 * it measures the search and the network, not the model.
 *
 * Per-agent logic and the planning interface (models/plan.h) as MYR_HD static inline functions
 * (C11 and CUDA C++ alike): latent.c runs them on the CPU, latent.cu in CUDA kernels. Float
 * arithmetic is +, -, *, / and myr_tanhf (sim/mathf.h), without contraction on either side,
 * so the CPU and the GPU give the same bits, and an imagined step (latent_plan_step) is the
 * real step (latent_act) bit for bit: both call latent_transition. Rules: README.md. */
#ifndef MYR_MODEL_LATENT_H
#define MYR_MODEL_LATENT_H

#include <stddef.h>
#include <stdint.h>

#include "models/plan_hd.h" /* MYR_PLAN_DEFINE: batch expansion and roots */
#include "sim/mathf.h"      /* myr_tanhf: the same bits on CPU and GPU */
#include "sim/rng.h"        /* myr_rng_*: Philox streams keyed by agent id */
#include "sim/view.h"       /* myr_view, MYR_COL */

#define LATENT_DIM 16
#define LATENT_ACTIONS 9
#define LATENT_DECAY 0.9f
#define LATENT_REWARD_SCALE 0.01f
/* Flows and accumulators hold rewards and |s| as integers in units of 2^-24 (truncated toward
 * zero), so their sums are exact and independent of order and backend. */
#define LATENT_FX 16777216.0f

typedef struct latent_params {
  double w_scale;  /* W entries are uniform in [-w_scale, w_scale) */
  int64_t w_seed;  /* the seed W is drawn from */
  /* Derived by setup(): W[a][k], drawn from myr_rng(w_seed, id = a, step 0, MYR_RNG_MODEL). */
  float w[LATENT_ACTIONS][LATENT_DIM];
} latent_params;

/* Column, accumulator, flow and statistic indices (the order of the tables in latent.c). */
enum { LATENT_S, LATENT_COLUMNS };
enum { LATENT_ACC_COUNT, LATENT_ACC_ABS, LATENT_ACCS };
enum { LATENT_FLOW_REWARD, LATENT_FLOW_AGENT_STEPS, LATENT_FLOWS };
enum { LATENT_STAT_MEAN_REWARD, LATENT_STAT_MEAN_ABS, LATENT_STATS };
#define LATENT_FEATURES LATENT_DIM

/* The dynamics: next = tanh(0.9 s + W[a]) componentwise (not stored when next is NULL: the
 * heuristic needs only the reward); returns the reward 0.01 * mean(next) (the sum in
 * component order, then / 16). The one definition for act, heuristic and plan. */
MYR_HD static inline float latent_transition(const latent_params *p, const float *s, int a, float *next) {
  float sum = 0.0f;
  for (int k = 0; k < LATENT_DIM; k++) {
    float t = myr_tanhf(LATENT_DECAY * s[k] + p->w[a][k]);
    if (next) next[k] = t;
    sum = sum + t;
  }
  return LATENT_REWARD_SCALE * (sum * (1.0f / LATENT_DIM));
}

MYR_HD static inline void latent_load(const myr_view *v, int64_t i, float *s) {
  const float *col = MYR_COL(v, LATENT_S, float);
  for (int k = 0; k < LATENT_DIM; k++) s[k] = col[(int64_t)k * v->capacity + i];
}

MYR_HD static inline void latent_store(const myr_view *v, int64_t i, const float *s) {
  float *col = MYR_COL(v, LATENT_S, float);
  for (int k = 0; k < LATENT_DIM; k++) col[(int64_t)k * v->capacity + i] = s[k];
}

/* init_agents: every component uniform in [-1, 1) from the agent's INIT_AGENT stream. */
MYR_HD static inline void latent_init_agent(const myr_view *v, int64_t i) {
  myr_rng r = myr_rng_make(v->seed, v->id[i], 0, MYR_RNG_INIT_AGENT);
  float *col = MYR_COL(v, LATENT_S, float);
  for (int k = 0; k < LATENT_DIM; k++) col[(int64_t)k * v->capacity + i] = 2.0f * myr_rng_uniform(&r) - 1.0f;
}

/* Every action is legal. */
MYR_HD static inline int latent_legal(const myr_view *v, int64_t i, uint8_t *mask) {
  (void)v;
  (void)i;
  for (int a = 0; a < LATENT_ACTIONS; a++) mask[a] = 1;
  return LATENT_ACTIONS;
}

/* Heuristic policy: the action with the highest one-step reward (the lowest index on ties). */
MYR_HD static inline int latent_best_action(const latent_params *p, const float *s) {
  int best = 0;
  float top = latent_transition(p, s, 0, NULL);
  for (int a = 1; a < LATENT_ACTIONS; a++) {
    float r = latent_transition(p, s, a, NULL);
    if (r > top) {
      top = r;
      best = a;
    }
  }
  return best;
}

MYR_HD static inline int latent_decide(const myr_view *v, int64_t i) {
  float s[LATENT_DIM];
  latent_load(v, i, s);
  return latent_best_action((const latent_params *)v->params, s);
}

/* The fixed-point value of x (LATENT_FX units, toward zero). */
MYR_HD static inline int64_t latent_fx(float x) { return (int64_t)(x * LATENT_FX); }

/* act: s = tanh(0.9 s + W[action]). Flows: the reward, one agent-step. */
MYR_HD static inline void latent_act(const myr_view *v, int64_t i, int64_t *flow) {
  float s[LATENT_DIM], next[LATENT_DIM];
  latent_load(v, i, s);
  float r = latent_transition((const latent_params *)v->params, s, v->action[i], next);
  latent_store(v, i, next);
  flow[LATENT_FLOW_REWARD] += latent_fx(r);
  flow[LATENT_FLOW_AGENT_STEPS] += 1;
}

/* Observation row: the state itself (already in [-1, 1]). */
MYR_HD static inline void latent_features(const myr_view *v, int64_t i, float *out) { latent_load(v, i, out); }

/* Level accumulators: alive count and the sum of |s| over components (fixed point). */
MYR_HD static inline void latent_agent_stats(const myr_view *v, int64_t i, int64_t *acc) {
  float s[LATENT_DIM];
  latent_load(v, i, s);
  int64_t sum = 0;
  for (int k = 0; k < LATENT_DIM; k++) sum += latent_fx(s[k] < 0.0f ? -s[k] : s[k]);
  acc[LATENT_ACC_COUNT] += 1;
  acc[LATENT_ACC_ABS] += sum;
}

/* ---- planning (models/plan.h): no context, the state is the latent vector (64 bytes) ---- */

/* 16-byte aligned (the search's node storage is: models/plan_hd.h): a node's state moves as four
 * 16-byte loads and stores on the GPU instead of sixteen 4-byte ones, each of which, over a
 * warp of expansions in as many trees, costs its own L2 transaction. Size unchanged (64). */
typedef struct latent_plan_state {
  float s[LATENT_DIM] __attribute__((aligned(16)));
} latent_plan_state;

MYR_HD static inline void latent_plan_root(const myr_view *v, int64_t i, void *ctx, latent_plan_state *st) {
  (void)ctx;
  latent_load(v, i, st->s);
}

/* The real step (latent_transition); never terminal. */
MYR_HD static inline int latent_plan_step(const latent_params *p, const void *ctx, const latent_plan_state *s, int a,
                                          latent_plan_state *next, float *reward) {
  (void)ctx;
  *reward = latent_transition(p, s->s, a, next->s);
  return 0;
}

MYR_HD static inline int latent_plan_legal(const latent_params *p, const void *ctx, const latent_plan_state *s,
                                           uint8_t *mask) {
  (void)p;
  (void)ctx;
  (void)s;
  for (int a = 0; a < LATENT_ACTIONS; a++) mask[a] = 1;
  return LATENT_ACTIONS;
}

MYR_HD static inline void latent_plan_features(const latent_params *p, const void *ctx, const latent_plan_state *s,
                                               float *row) {
  (void)p;
  (void)ctx;
  for (int k = 0; k < LATENT_DIM; k++) row[k] = s->s[k];
}

MYR_PLAN_DEFINE(latent, latent_params, void, 0, latent_plan_state, LATENT_ACTIONS, LATENT_FEATURES)

#endif
