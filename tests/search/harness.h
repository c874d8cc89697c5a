/* A test harness that runs the MYR_HD tree functions of search/mcts_tree.h directly on toy
 * instances (toy.h), wave by wave, so that tests can look inside a wave: which leaves were
 * selected, what was claimed, the budgets of root-parallel trees. It follows the order of the
 * CPU driver (allocation, selection, expansion, evaluation, backup) with the same random
 * streams; leaves are evaluated with a uniform prior and value 0 (no network). */
#ifndef MYR_TEST_SEARCH_HARNESS_H
#define MYR_TEST_SEARCH_HARNESS_H

#include <stdlib.h>
#include <string.h>

#include "search/mcts_tree.h"
#include "toy.h"

typedef struct th_forest {
  myr_mcts_tree t;
  int32_t K, S, L, alloc, agents;
  toy_context *ctx; /* [trees] */
  toy_state *state; /* [trees * nodes] */
  int32_t *quota;   /* [trees]: this wave's quota of each tree */
  int64_t waves;
  char *arrays;     /* the tree arrays (myr_tree_layout) */
} th_forest;

static inline void th_make(th_forest *f, const myr_mcts_config *cfg, int32_t agents) {
  memset(f, 0, sizeof *f);
  myr_mcts_tree *t = &f->t;
  f->K = myr_tree_per_agent(cfg);
  f->S = cfg->simulations;
  f->L = cfg->leaves_per_wave;
  f->alloc = cfg->simulation_allocation;
  f->agents = agents;
  int32_t T = agents * f->K, N = myr_tree_cap(f->S, f->K, f->alloc) + 1, A = TOY_ACTIONS;
  size_t TN = (size_t)T * (size_t)N;
  myr_tree_configure(t, cfg, T, N, A, f->L);
  f->arrays = (char *)calloc(1, myr_tree_layout(t, NULL, 64));
  myr_tree_layout(t, f->arrays, 64);
  f->ctx = (toy_context *)calloc((size_t)T, sizeof *f->ctx);
  f->state = (toy_state *)calloc(TN, sizeof *f->state);
  f->quota = (int32_t *)calloc((size_t)T, 4);
}

static inline void th_free(th_forest *f) {
  void *p[] = {f->arrays, f->ctx, f->state, f->quota};
  for (size_t i = 0; i < sizeof p / sizeof p[0]; i++) free(p[i]);
}

/* Roots of every agent i (instance id first_id + i), as the driver sets them up. */
static inline void th_roots(th_forest *f, const toy_params *p, uint64_t first_id, uint32_t seed, uint64_t step) {
  myr_mcts_tree *t = &f->t;
  for (int32_t i = 0; i < f->agents; i++) {
    uint64_t id = first_id + (uint64_t)i;
    toy_context c;
    toy_instance(p, id, &c);
    toy_state root = {0, toy_root_state(&c), 0};
    uint32_t legal = toy_legal_bits(&c, 0, root.s);
    float prior[MYR_MCTS_MAX_ACTIONS];
    myr_tree_uniform_prior(TOY_ACTIONS, legal, prior);
    for (int32_t k = 0; k < f->K; k++) {
      int32_t b = i * f->K + k;
      f->ctx[b] = c;
      f->state[(size_t)b * (size_t)t->nodes] = root;
      myr_rng noise = myr_rng_make(seed, id, step, MYR_RNG_SEARCH + 2);
      noise.block = (uint32_t)k << 16;
      myr_tree_root_init(t, b, legal, prior, 0.0f, &noise);
    }
    myr_tree_alloc_init(t, i * f->K, f->K, f->S, f->alloc);
  }
}

/* Allocation and selection of one wave (quotas in f->quota); returns the leaves selected. */
static inline int64_t th_select(th_forest *f) {
  myr_mcts_tree *t = &f->t;
  int64_t selected = 0;
  for (int32_t i = 0; i < f->agents; i++) {
    int32_t b0 = i * f->K;
    int32_t left = myr_tree_alloc_wave(t, b0, f->K, f->S, f->alloc, f->L);
    for (int32_t k = 0; k < f->K; k++) {
      int32_t b = b0 + k, q = left > 0 ? t->budget[b] - t->sims[b] : 0;
      f->quota[b] = q < f->L ? q : f->L;
      if (f->quota[b] > 0) selected += myr_tree_select_wave(t, b, f->quota[b]);
    }
  }
  return selected;
}

/* Expansion of the wave's new leaves (the toy's plan_step), evaluation (uniform prior, value 0)
 * and backup. */
static inline void th_finish(th_forest *f) {
  myr_mcts_tree *t = &f->t;
  for (int32_t b = 0; b < t->trees; b++) {
    for (int32_t j = 0; j < t->wave_count[b]; j++) {
      int32_t x = t->wave_leaf[(size_t)b * (size_t)f->L + (size_t)j];
      int64_t g = myr_tree_at(t, b, x);
      if (t->stat[g].visits != 0) continue;
      int64_t gp = myr_tree_at(t, b, myr_tree_parent(t, g));
      float reward;
      uint8_t terminal;
      toy_step(&f->ctx[b], &f->state[gp], t->action[g], &f->state[g], &reward, &terminal);
      myr_tree_set_leaf(t, b, x, NULL, 0.0f, reward, terminal, toy_legal_bits(&f->ctx[b], f->state[g].d, f->state[g].s));
    }
    myr_tree_backup_wave(t, b);
  }
  f->waves++;
}

/* Depth of node x of tree b (root 0). */
static inline int32_t th_depth(const myr_mcts_tree *t, int32_t b, int32_t x) {
  int32_t d = 0;
  while (x != 0) {
    x = myr_tree_parent(t, myr_tree_at(t, b, x));
    d++;
  }
  return d;
}

/* 1 when node x of tree b is a leaf that selection may visit again (no expansion). */
static inline int th_revisitable(const myr_mcts_tree *t, int32_t b, int32_t x) {
  int64_t g = myr_tree_at(t, b, x);
  return t->stat[g].visits > 0 &&
         (t->terminal[g] || t->legal[g] == 0 || (t->max_depth > 0 && th_depth(t, b, x) >= t->max_depth));
}

/* 1 when tree b could still select a leaf in this wave from node x (depth d): x is a leaf that
 * may be visited again, or has a legal edge that is not expanded, or leads to a node from which
 * one can be selected. Claimed edges (children not evaluated yet) count as taken. */
static inline int th_open(const myr_mcts_tree *t, int32_t b, int32_t x, int32_t d) {
  int64_t g = myr_tree_at(t, b, x);
  if (t->terminal[g] || t->legal[g] == 0 || (t->max_depth > 0 && d >= t->max_depth)) return 1;
  for (int a = 0; a < t->actions; a++) {
    if (!((t->legal[g] >> a) & 1u)) continue;
    int32_t c = myr_tree_child(t, g * t->actions + a);
    if (c == 0) return 1;
    if (t->stat[myr_tree_at(t, b, c)].visits > 0 && th_open(t, b, c, d + 1)) return 1;
  }
  return 0;
}

#endif
