/* A toy planning model for the search tests: one random finite-horizon MDP per agent, through
 * the real planning interface (models/plan.h), and its exact solution by exhaustive recursion.
 *
 * Instance of agent id (from toy_params.seed and the id): A in [a_lo, a_hi] actions (actions
 * >= A are never legal; the workspace has TOY_ACTIONS), horizon D (a state at depth D is
 * terminal), `states` states per depth. At (depth d, state s): action a is illegal with
 * probability 1/4 (at least one stays legal), leads to state next(d, s, a), earns a mean reward
 * r(d, s, a) uniform in [0, 1), and the state it reaches is terminal with probability p_term
 * (besides depth D). The stochastic variant adds noise uniform in [-eta, eta] to each reward,
 * keyed by the hash of the path of actions from the root (so E[reward] = r and every path has
 * its own draw); the exact values use the means. */
#ifndef MYR_TEST_SEARCH_TOY_H
#define MYR_TEST_SEARCH_TOY_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "models/plan.h"
#include "search/mcts.h"
#include "sim/rng.h"
#include "sim/view.h"

#define TOY_ACTIONS 9
#define TOY_FEATURES 4

typedef struct toy_params {
  uint64_t seed;
  int a_lo, a_hi;      /* actions per instance */
  int max_leaves;      /* the horizon D is the largest with A^D <= max_leaves, in [2, d_max] */
  int d_max;
  int states;
  float p_term;
  float eta;           /* reward noise half-width (0: deterministic) */
  float shift;         /* mean rewards are uniform in [-shift, 1 - shift) */
  int root_mode;       /* 0: as any state; 1: one legal action at the root; 2: none */
  /* instrumentation: expansions of illegal edges seen by toy_expand (must stay 0) */
  int64_t illegal_expansions;
} toy_params;

typedef struct toy_context {
  uint64_t key;
  int32_t A, D, states, pad;
  float p_term, eta, shift;
  int32_t root_mode;
} toy_context;

typedef struct toy_state {
  int32_t d, s;
  uint64_t path;
} toy_state;

static inline uint64_t toy_mix(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
static inline uint64_t toy_h4(uint64_t key, uint64_t a, uint64_t b, uint64_t c) {
  return toy_mix(toy_mix(toy_mix(key ^ a) ^ b) ^ c);
}
static inline double toy_unit(uint64_t h) { return (double)(h >> 11) * (1.0 / 9007199254740992.0); }

static inline void toy_instance(const toy_params *p, uint64_t id, toy_context *c) {
  memset(c, 0, sizeof *c);
  c->key = toy_mix(p->seed * 1000003ull + id);
  c->A = p->a_lo + (int)(toy_mix(c->key + 1) % (uint64_t)(p->a_hi - p->a_lo + 1));
  int D = 1;
  long leaves = c->A;
  while (D < p->d_max && leaves * c->A <= p->max_leaves) {
    leaves *= c->A;
    D++;
  }
  c->D = D < 2 ? 2 : D;
  c->states = p->states;
  c->p_term = p->p_term;
  c->eta = p->eta;
  c->shift = p->shift;
  c->root_mode = p->root_mode;
}

static inline uint32_t toy_legal_bits(const toy_context *c, int d, int s) {
  uint32_t m = 0;
  for (int a = 0; a < c->A; a++)
    if (toy_unit(toy_h4(c->key, 11, (uint64_t)(d * 1000 + s), (uint64_t)a)) >= 0.25) m |= 1u << a;
  if (!m) m = 1u << (toy_h4(c->key, 12, (uint64_t)(d * 1000 + s), 0) % (uint64_t)c->A);
  if (d == 0 && c->root_mode == 1) m &= ~(m - 1u); /* the lowest legal action only */
  if (d == 0 && c->root_mode == 2) m = 0;
  return m;
}
static inline int toy_next(const toy_context *c, int d, int s, int a) {
  return (int)(toy_h4(c->key, 13, (uint64_t)(d * 1000 + s), (uint64_t)a) % (uint64_t)c->states);
}
static inline float toy_mean_reward(const toy_context *c, int d, int s, int a) {
  return (float)toy_unit(toy_h4(c->key, 14, (uint64_t)(d * 1000 + s), (uint64_t)a)) - c->shift;
}
static inline int toy_terminal(const toy_context *c, int d, int s) {
  if (d >= c->D) return 1;
  if (d == 0) return 0;
  return toy_unit(toy_h4(c->key, 15, (uint64_t)(d * 1000 + s), 0)) < (double)c->p_term;
}
static inline int toy_root_state(const toy_context *c) { return (int)(toy_mix(c->key + 2) % (uint64_t)c->states); }

/* One step (the model's plan_step). */
static inline void toy_step(const toy_context *c, const toy_state *st, int a, toy_state *nx, float *reward,
                            uint8_t *terminal) {
  float r = toy_mean_reward(c, st->d, st->s, a);
  uint64_t path = toy_mix(st->path * 31ull + (uint64_t)a + 1ull);
  if (c->eta > 0.0f) { /* zero-mean noise from a counter RNG keyed by the instance and the path */
    myr_rng g = myr_rng_make((uint32_t)c->key, path, (uint64_t)st->d, MYR_RNG_MODEL);
    r = r + c->eta * (2.0f * myr_rng_uniform(&g) - 1.0f);
  }
  nx->d = st->d + 1;
  nx->s = toy_next(c, st->d, st->s, a);
  nx->path = path;
  *reward = r;
  *terminal = (uint8_t)toy_terminal(c, nx->d, nx->s);
}

/* ---- the planning interface --------------------------------------------------------------- */

static inline void toy_root(const myr_view *v, int64_t agent, uint8_t *context, uint8_t *state) {
  toy_context c;
  toy_instance((const toy_params *)v->params, v->id[agent], &c);
  memcpy(context, &c, sizeof c);
  toy_state st = {0, toy_root_state(&c), 0};
  memcpy(state, &st, sizeof st);
}

static inline int toy_legal(const void *params, const uint8_t *context, const uint8_t *state, uint8_t *mask) {
  toy_context c;
  toy_state st;
  memcpy(&c, context, sizeof c);
  memcpy(&st, state, sizeof st);
  uint32_t m = toy_legal_bits(&c, st.d, st.s);
  int n = 0;
  for (int a = 0; a < TOY_ACTIONS; a++) {
    mask[a] = (uint8_t)((m >> a) & 1u);
    n += mask[a];
  }
  return n;
}

static inline void toy_features(const void *params, const uint8_t *context, const uint8_t *state, float *row) {
  toy_context c;
  toy_state st;
  memcpy(&c, context, sizeof c);
  memcpy(&st, state, sizeof st);
  row[0] = (float)st.d / (float)c.D;
  row[1] = (float)st.s / (float)c.states;
  row[2] = 1.0f;
  row[3] = (float)c.A / (float)TOY_ACTIONS;
}

static inline void toy_expand(const myr_plan_batch *b, int64_t begin, int64_t end) {
  size_t cb = sizeof(toy_context), sb = sizeof(toy_state);
  for (int64_t k = begin; k < end; k++) {
    int64_t tree = b->tree[k];
    toy_context c;
    memcpy(&c, b->context + (size_t)tree * cb, cb);
    int64_t gp = tree * b->nodes + b->parent[k], gc = tree * b->nodes + b->child[k];
    int a = b->action[k];
    toy_state st, nx;
    memcpy(&st, b->state + (size_t)gp * sb, sb);
    if (!((toy_legal_bits(&c, st.d, st.s) >> a) & 1u)) { /* the parent's mask, as the search has it */
      toy_params *p = (toy_params *)(uintptr_t)b->params;
#pragma omp atomic
      p->illegal_expansions++;
    }
    toy_step(&c, &st, a, &nx, &b->reward[k], &b->terminal[k]);
    memcpy(b->state + (size_t)gc * sb, &nx, sb);
    b->legal[k] = toy_legal_bits(&c, nx.d, nx.s);
    toy_features(b->params, (const uint8_t *)&c, (const uint8_t *)&nx, b->features + k * TOY_FEATURES);
    if (b->rollout_depth > 0) {
      myr_rng r = myr_rng_make(b->seed, b->agent[tree], b->step, MYR_RNG_SEARCH + 1);
      r.block = (uint32_t)b->child[k];
      float ret = 0.0f, disc = 1.0f;
      int term = b->terminal[k];
      toy_state cur = nx;
      for (int i = 0; i < b->rollout_depth && !term; i++) {
        uint32_t m = toy_legal_bits(&c, cur.d, cur.s);
        uint8_t mk[TOY_ACTIONS];
        int nl = 0;
        for (int q = 0; q < TOY_ACTIONS; q++) nl += mk[q] = (uint8_t)((m >> q) & 1u);
        int ra = myr_nth_legal(mk, TOY_ACTIONS, myr_rng_below(&r, (uint32_t)nl));
        toy_state nn;
        float rw;
        uint8_t tm;
        toy_step(&c, &cur, ra, &nn, &rw, &tm);
        ret = ret + disc * rw;
        disc = disc * b->discount;
        cur = nn;
        term = tm;
      }
      b->value[k] = ret;
    }
  }
}

/* The toy's planning interface. */
static inline const myr_model_plan *toy_plan(void) {
  static const myr_model_plan plan = {
      .context_bytes = (int)sizeof(toy_context),
      .state_bytes = (int)sizeof(toy_state),
      .n_features = TOY_FEATURES,
      .root = toy_root,
      .expand = toy_expand,
      .legal = toy_legal,
      .features = toy_features,
  };
  return &plan;
}

/* ---- exact solution ----------------------------------------------------------------------- */

static inline double toy_value(const toy_context *c, int d, int s, double discount) {
  if (toy_terminal(c, d, s)) return 0.0;
  uint32_t m = toy_legal_bits(c, d, s);
  double best = -1e300;
  for (int a = 0; a < c->A; a++) {
    if (!((m >> a) & 1u)) continue;
    int s2 = toy_next(c, d, s, a);
    double q = (double)toy_mean_reward(c, d, s, a) + discount * toy_value(c, d + 1, s2, discount);
    if (q > best) best = q;
  }
  return best;
}

/* The optimal value of the rewards the search actually sees (each path's own noise draw):
 * exhaustive recursion over the tree of paths through toy_step. */
static inline double toy_value_realized(const toy_context *c, const toy_state *st, double discount) {
  if (toy_terminal(c, st->d, st->s)) return 0.0;
  uint32_t m = toy_legal_bits(c, st->d, st->s);
  double best = -1e300;
  for (int a = 0; a < c->A; a++) {
    if (!((m >> a) & 1u)) continue;
    toy_state nx;
    float r;
    uint8_t term;
    toy_step(c, st, a, &nx, &r, &term);
    double q = (double)r + discount * toy_value_realized(c, &nx, discount);
    if (q > best) best = q;
  }
  return best;
}

/* Q of each root action under the realized rewards (-inf when illegal); returns its max. */
static inline double toy_root_q_realized(const toy_context *c, double discount, double *q) {
  toy_state root = {0, toy_root_state(c), 0};
  uint32_t m = toy_legal_bits(c, 0, root.s);
  double best = -1e300;
  for (int a = 0; a < TOY_ACTIONS; a++) {
    q[a] = -1e300;
    if (!((m >> a) & 1u)) continue;
    toy_state nx;
    float r;
    uint8_t term;
    toy_step(c, &root, a, &nx, &r, &term);
    q[a] = (double)r + discount * toy_value_realized(c, &nx, discount);
    if (q[a] > best) best = q[a];
  }
  return best;
}

/* Q*(root, a) for every action (-inf when illegal); returns V*. */
static inline double toy_root_q(const toy_context *c, double discount, double *q) {
  int s = toy_root_state(c);
  uint32_t m = toy_legal_bits(c, 0, s);
  double best = -1e300;
  for (int a = 0; a < TOY_ACTIONS; a++) {
    q[a] = -1e300;
    if (!((m >> a) & 1u)) continue;
    q[a] = (double)toy_mean_reward(c, 0, s, a) + discount * toy_value(c, 1, toy_next(c, 0, s, a), discount);
    if (q[a] > best) best = q[a];
  }
  return best;
}

/* ---- a view of n fake agents (ids first_id ..) and a zero-weight network ------------------- */

typedef struct toy_world {
  myr_view v;
  uint64_t *ids;
} toy_world;

static inline void toy_world_make(toy_world *w, int64_t n, uint64_t first_id, toy_params *p, uint32_t seed,
                                  uint64_t step) {
  memset(w, 0, sizeof *w);
  w->ids = (uint64_t *)calloc((size_t)n, sizeof *w->ids);
  for (int64_t i = 0; i < n; i++) w->ids[i] = first_id + (uint64_t)i;
  w->v.n = n;
  w->v.capacity = n;
  w->v.id = w->ids;
  w->v.seed = seed;
  w->v.step = step;
  w->v.params = p;
}
static inline void toy_world_free(toy_world *w) { free(w->ids); }

/* A one-layer network with all weights 0: uniform prior, value 0, through the real forward. */
typedef struct toy_net {
  myr_net_view view;
  float *w;
} toy_net;

static inline void toy_net_zero(toy_net *n) {
  memset(n, 0, sizeof *n);
  n->view.shape.layers = 1;
  n->view.shape.size[0] = TOY_FEATURES;
  n->view.shape.size[1] = TOY_ACTIONS + 1;
  n->w = (float *)calloc((size_t)(TOY_FEATURES + 1) * (TOY_ACTIONS + 1), sizeof(float));
  n->view.w = n->w;
}

/* A random network (small weights): priors and values that differ per state. */
static inline void toy_net_random(toy_net *n, uint64_t seed) {
  toy_net_zero(n);
  size_t count = (size_t)(TOY_FEATURES + 1) * (TOY_ACTIONS + 1);
  for (size_t i = 0; i < count; i++) n->w[i] = (float)(2.0 * toy_unit(toy_mix(seed + i)) - 1.0);
}
static inline void toy_net_free(toy_net *n) { free(n->w); }

typedef struct toy_results {
  uint8_t *action;
  float *target;
  float *value;
  myr_mcts_result r;
} toy_results;

static inline void toy_results_make(toy_results *t, int64_t n) {
  t->action = (uint8_t *)calloc((size_t)n, 1);
  t->target = (float *)calloc((size_t)n * TOY_ACTIONS, sizeof(float));
  t->value = (float *)calloc((size_t)n, sizeof(float));
  t->r.action = t->action;
  t->r.target = t->target;
  t->r.value = t->value;
}
static inline void toy_results_free(toy_results *t) {
  free(t->action);
  free(t->target);
  free(t->value);
}

#endif
