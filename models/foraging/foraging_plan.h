/* foraging's planning interface (models/plan.h, DESIGN §7): the model's own rules replayed in
 * imagination for one agent, as MYR_HD static inline functions (C11 and CUDA C++ alike) that
 * the CPU wrappers in foraging.c and the CUDA launchers in foraging.cu both run.
 *
 * Context (one per tree, read-only, 1176 bytes): the resource patch the agent sees at the root,
 * a square of FORAGING_PLAN_SIDE x FORAGING_PLAN_SIDE cells centred on it (published resource
 * minus the agent's own claims earlier in this window, as foraging_neighbourhood sees it; 0
 * outside a closed world), the rectangle of offsets that lie inside both the world and the
 * patch (closed edges: the moves myr_legal_moves forbids), the period of the offsets on a
 * torus narrower than the patch (two offsets that name one cell share what was taken there),
 * and the root's age, window step and sync frequency.
 *
 * State (one per node, 64 bytes with padding): the offset (dx, dy) from the root cell, the
 * energy column as the real rules would leave it, the claims made since the last sync (pending,
 * granted at the next), the depth, and what the path harvested per patch cell (at most
 * FORAGING_PLAN_DEPTH cells, one entry per cell). Integers in fixed point (FORAGING_ONE), like the real model, so
 * imagined and real energies are equal, not merely close.
 *
 * One imagined step (foraging_plan_step) is foraging_act and, at the steps that close a sync
 * window, foraging_sync_agent for an agent alone on its cells: move; pay metabolism; claim
 * min(visible, harvest_max, max_energy - energy - pending) on the new cell, where visible =
 * the patch value minus what this path already took there; at a sync the pending claims are
 * granted in full (no one else claims) and the agent dies when energy <= 0 or it is older than
 * max_age. Reward = (claimed - metabolism) / FORAGING_ONE: rewards add up to the change of
 * energy + pending. Terminal: death, the depth FORAGING_PLAN_DEPTH, or the patch edge.
 * Not imagined: other agents' claims, regrowth, reproduction (the imagined agent keeps the
 * whole lineage's energy). README.md (Planning) has the rules in full. */
#ifndef MYR_MODEL_FORAGING_PLAN_H
#define MYR_MODEL_FORAGING_PLAN_H

#include <stdint.h>

#include "models/foraging/foraging.h" /* foraging_params, column and layer indices, FORAGING_ONE */
#include "models/plan_hd.h"           /* MYR_PLAN_DEFINE: batch expansion and roots */
#include "sim/view.h"                 /* myr_view, myr_fold, myr_move_dx/dy */

/* The patch radius, and the deepest node (a path of FORAGING_PLAN_DEPTH moves from the centre
 * reaches at most the patch edge, so every imagined cell was seen at the root). */
#define FORAGING_PLAN_RADIUS 8
#define FORAGING_PLAN_SIDE (2 * FORAGING_PLAN_RADIUS + 1)
#define FORAGING_PLAN_CELLS (FORAGING_PLAN_SIDE * FORAGING_PLAN_SIDE)
#define FORAGING_PLAN_DEPTH FORAGING_PLAN_RADIUS

typedef struct foraging_plan_context {
  /* Visible resource per patch cell at the root, row-major: offset (dx, dy) at
   * (dy + RADIUS) * SIDE + dx + RADIUS. Fixed point; 0 outside the world. */
  uint32_t resource[FORAGING_PLAN_CELLS];
  uint32_t age;             /* the agent's age at the root */
  int32_t window_step;      /* the root step's position in its sync window */
  int32_t sync_frequency;
  int8_t lo_x, hi_x, lo_y, hi_y; /* offsets inside the world and the patch: lo <= d <= hi */
  int8_t period_x, period_y;     /* offsets congruent modulo these name one cell (SIDE: none) */
  uint8_t unused[2];
} foraging_plan_context;

/* 16-byte aligned, so 64 bytes (4 of padding): a node's state moves as four 16-byte loads and
 * stores on the GPU, whole 32-byte sectors, instead of fifteen 4-byte ones over sectors it
 * shares with the next node's (each partial sector costs the L2 a read of it from memory). */
typedef struct foraging_plan_state {
  int32_t energy __attribute__((aligned(16))); /* the energy column (fixed point) */
  uint32_t pending; /* claimed since the last sync, granted at the next (fixed point) */
  int8_t dx, dy;    /* offset from the root cell */
  uint8_t depth;    /* steps from the root */
  uint8_t n_taken;  /* entries used below */
  uint16_t cell[FORAGING_PLAN_DEPTH];  /* canonical patch index of each cell harvested on the path */
  uint32_t taken[FORAGING_PLAN_DEPTH]; /* total the path claimed there (fixed point) */
  uint8_t unused[4];                   /* zero: the padding to 64 bytes, named so that it is set */
} foraging_plan_state;

/* The canonical patch index of offset (dx, dy): the smallest index naming the same world cell
 * (the index itself unless the world is a torus narrower than the patch). */
MYR_HD static inline int foraging_plan_key(const foraging_plan_context *c, int dx, int dy) {
  int kx = dx + FORAGING_PLAN_RADIUS, ky = dy + FORAGING_PLAN_RADIUS; /* >= 0: offsets lie in the patch */
  if (kx >= c->period_x) kx %= c->period_x; /* a division (slow on GPUs) only on a narrow torus */
  if (ky >= c->period_y) ky %= c->period_y;
  return ky * FORAGING_PLAN_SIDE + kx;
}

/* The loops over a state's harvested cells below run over all FORAGING_PLAN_DEPTH entries with
 * `j < n_taken` inside: with constant indices a GPU thread keeps the state in registers (an
 * index known only at run time puts it in local memory, several times slower). */

/* The entry of patch cell `key` in the state's harvested cells: the first j < n_taken with
 * cell[j] == key, or n_taken when the path has not harvested there; *taken: what the path took
 * there (0 when nothing). */
MYR_HD static inline int foraging_plan_entry(const foraging_plan_state *s, int key, uint32_t *taken) {
  int found = s->n_taken;
  uint32_t t = 0;
  for (int j = FORAGING_PLAN_DEPTH - 1; j >= 0; j--) {
    int hit = j < s->n_taken && s->cell[j] == key;
    found = hit ? j : found;
    t = hit ? s->taken[j] : t;
  }
  *taken = t;
  return found;
}

/* Resource the imagined agent sees on patch cell `key`: the root's view minus what this path
 * has claimed there. */
MYR_HD static inline int64_t foraging_plan_visible(const foraging_plan_context *c, const foraging_plan_state *s,
                                                   int key) {
  int64_t r = c->resource[key];
  for (int j = 0; j < FORAGING_PLAN_DEPTH; j++)
    if (j < s->n_taken && s->cell[j] == key) r -= s->taken[j];
  return r > 0 ? r : 0;
}

/* Context and root state of agent i, from the published world and its own columns. */
MYR_HD static inline void foraging_plan_root(const myr_view *v, int64_t i, foraging_plan_context *c,
                                             foraging_plan_state *s) {
  const int R = FORAGING_PLAN_RADIUS;
  int32_t x0 = MYR_COL(v, FORAGING_X, int32_t)[i], y0 = MYR_COL(v, FORAGING_Y, int32_t)[i];
  const uint32_t *resource = MYR_LAYER(v, FORAGING_RESOURCE, uint32_t);
  const int32_t *cc = MYR_COL(v, FORAGING_CLAIM_CELL, int32_t);
  const uint32_t *ca = MYR_COL(v, FORAGING_CLAIM_AMOUNT, uint32_t);
  c->age = MYR_COL(v, FORAGING_AGE, uint32_t)[i];
  c->window_step = v->window_step;
  c->sync_frequency = v->sync_frequency;
  if (v->wrap) {
    c->lo_x = c->lo_y = (int8_t)-R;
    c->hi_x = c->hi_y = (int8_t)R;
  } else {
    c->lo_x = (int8_t)(x0 < R ? -x0 : -R);
    c->lo_y = (int8_t)(y0 < R ? -y0 : -R);
    c->hi_x = (int8_t)(v->width - 1 - x0 < R ? v->width - 1 - x0 : R);
    c->hi_y = (int8_t)(v->height - 1 - y0 < R ? v->height - 1 - y0 : R);
  }
  c->period_x = (int8_t)(v->wrap && v->width < FORAGING_PLAN_SIDE ? v->width : FORAGING_PLAN_SIDE);
  c->period_y = (int8_t)(v->wrap && v->height < FORAGING_PLAN_SIDE ? v->height : FORAGING_PLAN_SIDE);
  c->unused[0] = c->unused[1] = 0;
  /* A row of the patch at a time: its loads first, all independent (a GPU thread has them in
   * flight together instead of one round trip per cell), then its stores. */
  for (int dy = -R; dy <= R; dy++) {
    int32_t col[FORAGING_PLAN_SIDE]; /* the world column of offset dx, -1 outside */
    uint32_t res[FORAGING_PLAN_SIDE];
    int row_in = dy >= c->lo_y && dy <= c->hi_y;
    int32_t y = myr_fold(y0 + dy, v->height, v->wrap);
    for (int dx = -R; dx <= R; dx++) {
      int in = row_in && dx >= c->lo_x && dx <= c->hi_x;
      col[dx + R] = in ? myr_fold(x0 + dx, v->width, v->wrap) : -1;
      res[dx + R] = in ? resource[myr_cell(v, col[dx + R], y)] : 0;
    }
    for (int k = 0; k < FORAGING_PLAN_SIDE; k++) {
      int64_t r = res[k];
      if (col[k] >= 0) {
        int64_t cell = myr_cell(v, col[k], y);
        for (int32_t w = 0; w < v->window_step; w++) { /* own claims earlier in this window */
          int64_t slot = (int64_t)w * v->capacity + i;
          if (ca[slot] && cc[slot] == cell) r -= ca[slot];
        }
      }
      c->resource[(dy + R) * FORAGING_PLAN_SIDE + k] = (uint32_t)(r > 0 ? r : 0);
    }
  }
  int64_t here;
  s->energy = MYR_COL(v, FORAGING_ENERGY, int32_t)[i];
  s->pending = (uint32_t)foraging_pending(v, i, -1, &here);
  s->dx = s->dy = 0;
  s->depth = 0;
  s->n_taken = 0;
  s->unused[0] = s->unused[1] = s->unused[2] = s->unused[3] = 0;
  for (int j = 0; j < FORAGING_PLAN_DEPTH; j++) {
    s->cell[j] = 0;
    s->taken[j] = 0;
  }
}

/* Legal moves at a state: those of myr_legal_moves that stay inside the patch. */
MYR_HD static inline int foraging_plan_legal(const foraging_params *p, const foraging_plan_context *c,
                                             const foraging_plan_state *s, uint8_t *mask) {
  (void)p;
  int n = 0;
  for (int a = 0; a < MYR_MOVES; a++) {
    int x = s->dx + myr_move_dx(a), y = s->dy + myr_move_dy(a);
    int ok = x >= c->lo_x && x <= c->hi_x && y >= c->lo_y && y <= c->hi_y;
    mask[a] = (uint8_t)ok;
    n += ok;
  }
  return n;
}

/* One imagined step by move a (legal; an illegal move is clamped to the allowed rectangle, as
 * myr_fold clamps at a closed edge). Returns 1 when `next` is terminal. */
MYR_HD static inline int foraging_plan_step(const foraging_params *p, const foraging_plan_context *c,
                                            const foraging_plan_state *s, int a, foraging_plan_state *next,
                                            float *reward) {
  *next = *s;
  if (s->depth >= FORAGING_PLAN_DEPTH) { /* a terminal node is never expanded; stay put if asked */
    *reward = 0.0f;
    return 1;
  }
  int dx = s->dx + myr_move_dx(a), dy = s->dy + myr_move_dy(a);
  dx = dx < c->lo_x ? c->lo_x : (dx > c->hi_x ? c->hi_x : dx);
  dy = dy < c->lo_y ? c->lo_y : (dy > c->hi_y ? c->hi_y : dy);
  next->dx = (int8_t)dx;
  next->dy = (int8_t)dy;
  next->depth = (uint8_t)(s->depth + 1);

  /* act: metabolism, then the claim on the new cell */
  int64_t energy = (int64_t)s->energy - p->metabolism_fx, pending = s->pending;
  int key = foraging_plan_key(c, dx, dy);
  uint32_t taken;
  int j = foraging_plan_entry(s, key, &taken);
  int64_t visible = (int64_t)c->resource[key] - (int64_t)taken;
  int64_t amount = foraging_min(foraging_min(visible, p->harvest_fx), p->max_energy_fx - energy - pending);
  if (amount < 0) amount = 0;
  if (amount > 0) { /* j < FORAGING_PLAN_DEPTH: one entry per step at most, and depth < DEPTH */
    int fresh = j == s->n_taken;
    for (int e = 0; e < FORAGING_PLAN_DEPTH; e++) { /* every entry written: constant indices */
      next->cell[e] = e == j && fresh ? (uint16_t)key : next->cell[e];
      next->taken[e] = e == j ? (uint32_t)(taken + (uint32_t)amount) : next->taken[e]; /* taken: 0 when fresh */
    }
    if (fresh) next->n_taken = (uint8_t)(j + 1);
    pending += amount;
  }
  *reward = (float)(amount - p->metabolism_fx) * (1.0f / FORAGING_ONE);

  /* sync at the window's last step: the claims are granted in full; death */
  int terminal = 0;
  if ((c->window_step + s->depth) % c->sync_frequency == c->sync_frequency - 1) {
    energy += pending;
    pending = 0;
    uint32_t age = c->age + next->depth;
    terminal = energy <= 0 || (p->max_age > 0 && (int64_t)age > p->max_age);
  }
  next->energy = (int32_t)energy;
  next->pending = (uint32_t)pending;
  int edge = dx == -FORAGING_PLAN_RADIUS || dx == FORAGING_PLAN_RADIUS || dy == -FORAGING_PLAN_RADIUS ||
             dy == FORAGING_PLAN_RADIUS;
  return terminal || edge || next->depth >= FORAGING_PLAN_DEPTH;
}

/* The 11 features of foraging_features, from the imagined state: the visible resource of the
 * cells the 9 moves lead to / peak (-1 for a move the state does not allow), energy /
 * max_energy, age / max_age. At the root they equal foraging_features of the agent. */
MYR_HD static inline void foraging_plan_features(const foraging_params *p, const foraging_plan_context *c,
                                                 const foraging_plan_state *s, float *out) {
  uint8_t mask[MYR_MOVES];
  foraging_plan_legal(p, c, s, mask);
  float inv_peak = p->peak_fx > 0 ? 1.0f / (float)p->peak_fx : 0.0f;
  for (int a = 0; a < MYR_MOVES; a++) {
    if (!mask[a]) {
      out[a] = -1.0f;
      continue;
    }
    int64_t vis = foraging_plan_visible(c, s, foraging_plan_key(c, s->dx + myr_move_dx(a), s->dy + myr_move_dy(a)));
    out[a] = (float)vis * inv_peak;
  }
  out[9] = (float)s->energy / (float)p->max_energy_fx;
  uint32_t age = c->age + s->depth;
  out[10] = p->max_age > 0 ? (float)age / (float)p->max_age : 0.0f;
}

MYR_PLAN_DEFINE(foraging, foraging_params, foraging_plan_context, sizeof(foraging_plan_context),
                foraging_plan_state, MYR_MOVES, FORAGING_FEATURES)

#endif
