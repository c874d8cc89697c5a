/* foraging: a Sugarscape-like model (DESIGN §6). A resource grows back on every cell up to
 * the cell's capacity (two hills); agents move (9 moves), pay metabolism, claim resource on
 * the cell they stand on, reproduce above an energy threshold and die at zero energy or old
 * age. Claims on one cell are split proportionally at sync, in exact integers.
 *
 * Per-agent logic as MYR_HD static inline functions over a myr_view: the CPU range functions
 * in foraging.c call them, and a CUDA kernel can include this header unchanged (C11 and CUDA
 * C++ alike). Fixed point: energy and resource are integers in units of 1/FORAGING_ONE.
 * Rules, parameters, statistics and features: README.md. */
#ifndef MYR_MODEL_FORAGING_H
#define MYR_MODEL_FORAGING_H

#include <stdint.h>

#include "sim/rng.h"                  /* myr_rng_*: Philox streams keyed by agent id */
#include "sim/view.h"                 /* myr_view, myr_fold, myr_cell, myr_move_dx/dy, myr_legal_moves */

/* One unit of energy or resource in fixed point. */
#define FORAGING_ONE 65536

typedef struct foraging_params {
  /* From YAML (model.params.*), in units (FLOAT) or steps (INT). */
  double regrowth;            /* fraction of capacity regrown per step */
  double metabolism;          /* energy paid per step */
  double harvest_max;         /* most resource one agent claims per step */
  double peak;                /* capacity at the top of a hill */
  double hill_radius;         /* hill radius as a fraction of min(width, height) */
  double initial_energy;      /* energy of the initial agents */
  double reproduce_threshold; /* energy at which an agent splits in two at a sync */
  double max_energy;          /* energy cap */
  int64_t max_age;            /* steps an agent lives at most; 0 = no limit */
  int choice;                 /* heuristic policy: FORAGING_CHOICE_* */
  /* Derived by setup(), fixed point (FORAGING_ONE = 1 unit). */
  int64_t regrowth_fx;        /* regrowth * 65536, rounded: capacity * regrowth_fx / 65536 per step */
  int64_t metabolism_fx, harvest_fx, peak_fx, initial_energy_fx, reproduce_fx, max_energy_fx;
  int64_t hill_r2;            /* squared hill radius in cells^2 (>= 1) */
} foraging_params;

enum { FORAGING_CHOICE_PROPORTIONAL, FORAGING_CHOICE_GREEDY };

/* Column, layer, accumulator, flow and statistic indices (the order of the tables in foraging.c). */
enum { FORAGING_X, FORAGING_Y, FORAGING_ENERGY, FORAGING_AGE, FORAGING_CLAIM_CELL, FORAGING_CLAIM_AMOUNT,
       FORAGING_COLUMNS };
enum { FORAGING_RESOURCE, FORAGING_CAPACITY, FORAGING_CLAIMS, FORAGING_TAKEN, FORAGING_LAYERS };
enum { FORAGING_ACC_COUNT, FORAGING_ACC_ENERGY, FORAGING_ACC_AGE, FORAGING_ACC_RESOURCE, FORAGING_ACCS };
enum { FORAGING_FLOW_HARVESTED, FORAGING_FLOW_REGROWN, FORAGING_FLOW_METABOLISM, FORAGING_FLOW_DEAD,
       FORAGING_FLOWS };
enum { FORAGING_STAT_MEAN_ENERGY, FORAGING_STAT_TOTAL_RESOURCE, FORAGING_STAT_HARVESTED, FORAGING_STAT_REGROWN,
       FORAGING_STAT_METABOLISM, FORAGING_STAT_ENERGY_OF_DEAD, FORAGING_STAT_MEAN_AGE, FORAGING_STATS };
#define FORAGING_FEATURES 11

/* Exact, order-free integer add to shared memory (claims and grants of many agents on one
 * cell): atomicAdd on the device, a relaxed atomic on the host. */
MYR_HD static inline void foraging_atomic_add(int64_t *p, int64_t x) {
#ifdef __CUDA_ARCH__
  atomicAdd((unsigned long long *)p, (unsigned long long)x);
#else
  __atomic_fetch_add(p, x, __ATOMIC_RELAXED);
#endif
}

MYR_HD static inline int64_t foraging_min(int64_t a, int64_t b) { return a < b ? a : b; }

/* Capacity of cell c: the higher of two hills centred at (w/4, h/4) and (3w/4, 3h/4), each
 * peak * (1 - d^2/r^2)^2 inside radius r (d: distance to the centre in cells, across the
 * edges on a torus), 0 outside. Pure IEEE +,-,*,/ on doubles: the same bits everywhere. */
MYR_HD static inline uint32_t foraging_capacity_at(const myr_view *v, int64_t c) {
  const foraging_params *p = (const foraging_params *)v->params;
  int64_t x = c % v->width, y = c / v->width;
  int64_t best = 0;
  for (int hill = 0; hill < 2; hill++) {
    int64_t cx = hill == 0 ? v->width / 4 : (3 * (int64_t)v->width) / 4;
    int64_t cy = hill == 0 ? v->height / 4 : (3 * (int64_t)v->height) / 4;
    int64_t dx = x > cx ? x - cx : cx - x, dy = y > cy ? y - cy : cy - y;
    if (v->wrap) {
      if (dx > v->width - dx) dx = v->width - dx;
      if (dy > v->height - dy) dy = v->height - dy;
    }
    int64_t t = p->hill_r2 - (dx * dx + dy * dy);
    if (t <= 0) continue;
    double q = (double)t / (double)p->hill_r2;
    int64_t cap = (int64_t)((double)p->peak_fx * (q * q));
    if (cap > best) best = cap;
  }
  return (uint32_t)best;
}

/* init_cells: capacity from the hills, resource full. */
MYR_HD static inline void foraging_init_cell(const myr_view *v, int64_t c) {
  uint32_t cap = foraging_capacity_at(v, c);
  MYR_LAYER(v, FORAGING_CAPACITY, uint32_t)[c] = cap;
  MYR_LAYER(v, FORAGING_RESOURCE, uint32_t)[c] = cap;
}

/* init_agents: a uniformly random cell, energy initial_energy, age 0. */
MYR_HD static inline void foraging_init_agent(const myr_view *v, int64_t i) {
  const foraging_params *p = (const foraging_params *)v->params;
  myr_rng r = myr_rng_make(v->seed, v->id[i], 0, MYR_RNG_INIT_AGENT);
  MYR_COL(v, FORAGING_X, int32_t)[i] = (int32_t)myr_rng_below(&r, (uint32_t)v->width);
  MYR_COL(v, FORAGING_Y, int32_t)[i] = (int32_t)myr_rng_below(&r, (uint32_t)v->height);
  MYR_COL(v, FORAGING_ENERGY, int32_t)[i] = (int32_t)p->initial_energy_fx;
  MYR_COL(v, FORAGING_AGE, uint32_t)[i] = 0;
}

/* What agent i has claimed earlier in this window: on cell `cell` (*on_cell) and in all
 * (return value). Slots window_step.. are still zero. */
MYR_HD static inline int64_t foraging_pending(const myr_view *v, int64_t i, int64_t cell, int64_t *on_cell) {
  const int32_t *cc = MYR_COL(v, FORAGING_CLAIM_CELL, int32_t);
  const uint32_t *ca = MYR_COL(v, FORAGING_CLAIM_AMOUNT, uint32_t);
  int64_t all = 0, here = 0;
  for (int32_t k = 0; k < v->window_step; k++) {
    int64_t s = (int64_t)k * v->capacity + i;
    all += ca[s];
    if (cc[s] == cell) here += ca[s];
  }
  *on_cell = here;
  return all;
}

MYR_HD static inline int foraging_legal(const myr_view *v, int64_t i, uint8_t *mask) {
  return myr_legal_moves(v, MYR_COL(v, FORAGING_X, int32_t)[i], MYR_COL(v, FORAGING_Y, int32_t)[i], mask);
}

/* The cell that move a takes agent i to. */
MYR_HD static inline int64_t foraging_target(const myr_view *v, int64_t i, int a) {
  int32_t x = myr_fold(MYR_COL(v, FORAGING_X, int32_t)[i] + myr_move_dx(a), v->width, v->wrap);
  int32_t y = myr_fold(MYR_COL(v, FORAGING_Y, int32_t)[i] + myr_move_dy(a), v->height, v->wrap);
  return myr_cell(v, x, y);
}

/* The visible resource of the cells the 9 moves lead to (-1 for an illegal move), reading
 * the agent's own claim slots once: vis[a] = published resource - own claims there. */
MYR_HD static inline void foraging_neighbourhood(const myr_view *v, int64_t i, int64_t *vis) {
  uint8_t mask[MYR_MOVES];
  int64_t cell[MYR_MOVES];
  const uint32_t *resource = MYR_LAYER(v, FORAGING_RESOURCE, uint32_t);
  foraging_legal(v, i, mask);
  for (int a = 0; a < MYR_MOVES; a++) {
    cell[a] = mask[a] ? foraging_target(v, i, a) : -1;
    vis[a] = mask[a] ? (int64_t)resource[cell[a]] : -1;
  }
  const int32_t *cc = MYR_COL(v, FORAGING_CLAIM_CELL, int32_t);
  const uint32_t *ca = MYR_COL(v, FORAGING_CLAIM_AMOUNT, uint32_t);
  for (int32_t k = 0; k < v->window_step; k++) {
    int64_t s = (int64_t)k * v->capacity + i;
    uint32_t amount = ca[s];
    if (amount == 0) continue;
    for (int a = 0; a < MYR_MOVES; a++)
      if (cell[a] == cc[s]) vis[a] = vis[a] > (int64_t)amount ? vis[a] - (int64_t)amount : 0;
  }
}

/* Heuristic policy. Each legal move (staying included) scores what the agent could take on
 * the cell it leads to: min(visible resource, harvest_max). Then, by the `choice` parameter:
 *   proportional (default): move a with probability score[a] / sum of scores (uniform over
 *     the legal moves when every score is 0), one u64 draw from the agent's DECIDE stream;
 *   greedy: the best-scoring move, ties broken uniformly at random by one draw.
 * Why not plain argmax of the resource: agents standing together see the same published
 * world, all pick the same richest cell and move as a herd that starves on one cell's
 * regrowth. Capping at harvest_max makes every cell that can fill a claim tie, and the
 * proportional draw also splits herds on depleted ground (README: measured populations). */
MYR_HD static inline int foraging_decide(const myr_view *v, int64_t i) {
  const foraging_params *p = (const foraging_params *)v->params;
  int64_t score[MYR_MOVES];
  foraging_neighbourhood(v, i, score);
  int64_t sum = 0, top = -1;
  int n_top = 0;
  for (int a = 0; a < MYR_MOVES; a++) {
    if (score[a] < 0) continue; /* illegal */
    if (score[a] > p->harvest_fx) score[a] = p->harvest_fx;
    sum += score[a];
    if (score[a] > top) {
      top = score[a];
      n_top = 0;
    }
    if (score[a] == top) n_top++;
  }
  myr_rng rng = myr_rng_make(v->seed, v->id[i], v->step, MYR_RNG_DECIDE);
  uint64_t r = myr_rng_u64(&rng);
  if (p->choice == FORAGING_CHOICE_GREEDY || sum == 0) {
    /* The k-th best move (greedy; when every score is 0, all legal moves tie). */
    uint64_t k = r % (uint64_t)n_top;
    for (int a = 0; a < MYR_MOVES; a++)
      if (score[a] == top && k-- == 0) return a;
    return 0;
  }
  int64_t t = (int64_t)(r % (uint64_t)sum); /* sum < 2^36: bias below 2^-28 */
  for (int a = 0; a < MYR_MOVES; a++) {
    if (score[a] < 0) continue;
    if (t < score[a]) return a;
    t -= score[a];
  }
  return 0;
}

/* act: move (the decided move is legal, so myr_fold never clamps), age one step, pay
 * metabolism, then claim min(visible resource, harvest_max, room under max_energy) on the
 * new cell into this window step's slot and the cell's claim total. Flow: metabolism paid. */
MYR_HD static inline void foraging_act(const myr_view *v, int64_t i, int64_t *flow) {
  const foraging_params *p = (const foraging_params *)v->params;
  int32_t *x = MYR_COL(v, FORAGING_X, int32_t), *y = MYR_COL(v, FORAGING_Y, int32_t);
  int32_t *energy = MYR_COL(v, FORAGING_ENERGY, int32_t);
  int a = v->action[i];
  x[i] = myr_fold(x[i] + myr_move_dx(a), v->width, v->wrap);
  y[i] = myr_fold(y[i] + myr_move_dy(a), v->height, v->wrap);
  MYR_COL(v, FORAGING_AGE, uint32_t)[i] += 1;
  energy[i] = (int32_t)(energy[i] - p->metabolism_fx);
  flow[FORAGING_FLOW_METABOLISM] += p->metabolism_fx;

  int64_t cell = myr_cell(v, x[i], y[i]), here;
  int64_t pending = foraging_pending(v, i, cell, &here);
  int64_t visible = (int64_t)MYR_LAYER(v, FORAGING_RESOURCE, uint32_t)[cell] - here;
  int64_t amount = foraging_min(foraging_min(visible, p->harvest_fx), p->max_energy_fx - energy[i] - pending);
  if (amount < 0) amount = 0;
  if (amount > 0) { /* an empty slot stays zero: nothing to write now or to clear at sync */
    int64_t s = (int64_t)v->window_step * v->capacity + i;
    MYR_COL(v, FORAGING_CLAIM_CELL, int32_t)[s] = (int32_t)cell;
    MYR_COL(v, FORAGING_CLAIM_AMOUNT, uint32_t)[s] = (uint32_t)amount;
    foraging_atomic_add(&MYR_LAYER(v, FORAGING_CLAIMS, int64_t)[cell], amount);
  }
}

/* The share of claim a on a cell with claim total C and published resource R: all of it if
 * the cell can serve every claim, else floor(R * a / C). R, a < 2^32, so R * a fits 64 bits;
 * the shares of one cell sum to at most R. */
MYR_HD static inline int64_t foraging_share(int64_t a, int64_t C, int64_t R) {
  if (C <= R) return a;
  return (int64_t)(((uint64_t)R * (uint64_t)a) / (uint64_t)C);
}

/* sync_agents: settle each claim of the window (energy += share, taken[cell] += share), clear
 * the slots, then die (energy <= 0, or age > max_age when max_age > 0) or ask for a child
 * (energy >= reproduce_threshold). Flows: harvested, energy of the dead. */
MYR_HD static inline void foraging_sync_agent(const myr_view *v, int64_t i, int64_t *flow) {
  const foraging_params *p = (const foraging_params *)v->params;
  int32_t *cc = MYR_COL(v, FORAGING_CLAIM_CELL, int32_t);
  uint32_t *ca = MYR_COL(v, FORAGING_CLAIM_AMOUNT, uint32_t);
  const uint32_t *resource = MYR_LAYER(v, FORAGING_RESOURCE, uint32_t);
  const int64_t *claims = MYR_LAYER(v, FORAGING_CLAIMS, int64_t);
  int64_t *taken = MYR_LAYER(v, FORAGING_TAKEN, int64_t);
  int64_t e = MYR_COL(v, FORAGING_ENERGY, int32_t)[i];
  for (int32_t k = 0; k < v->sync_frequency; k++) {
    int64_t s = (int64_t)k * v->capacity + i;
    int64_t a = ca[s];
    if (a > 0) { /* only claimed slots were written (act) */
      int64_t cell = cc[s];
      int64_t share = foraging_share(a, claims[cell], (int64_t)resource[cell]);
      e += share;
      flow[FORAGING_FLOW_HARVESTED] += share;
      if (share > 0) foraging_atomic_add(&taken[cell], share);
      ca[s] = 0;
      cc[s] = 0;
    }
  }
  MYR_COL(v, FORAGING_ENERGY, int32_t)[i] = (int32_t)e;
  uint32_t age = MYR_COL(v, FORAGING_AGE, uint32_t)[i];
  if (e <= 0 || (p->max_age > 0 && (int64_t)age > p->max_age)) {
    v->alive[i] = 0;
    v->children[i] = 0;
    flow[FORAGING_FLOW_DEAD] += e;
  } else {
    v->children[i] = (uint8_t)(e >= p->reproduce_fx);
  }
}

/* birth: the child starts on the parent's cell at age 0 with half the parent's energy
 * (rounded down) and empty claim slots; the parent keeps the rest, so energy is conserved
 * exactly. */
MYR_HD static inline void foraging_birth(const myr_view *v, int64_t parent, int64_t child) {
  int32_t *energy = MYR_COL(v, FORAGING_ENERGY, int32_t);
  int32_t e = energy[parent];
  energy[child] = e / 2;
  energy[parent] = e - e / 2;
  MYR_COL(v, FORAGING_X, int32_t)[child] = MYR_COL(v, FORAGING_X, int32_t)[parent];
  MYR_COL(v, FORAGING_Y, int32_t)[child] = MYR_COL(v, FORAGING_Y, int32_t)[parent];
  MYR_COL(v, FORAGING_AGE, uint32_t)[child] = 0;
  for (int32_t k = 0; k < v->sync_frequency; k++) {
    MYR_COL(v, FORAGING_CLAIM_CELL, int32_t)[(int64_t)k * v->capacity + child] = 0;
    MYR_COL(v, FORAGING_CLAIM_AMOUNT, uint32_t)[(int64_t)k * v->capacity + child] = 0;
  }
}

/* sync_cells_end: remove what was granted, then regrow a window's worth,
 * min(capacity, resource + floor(capacity * regrowth_fx / 65536) * sync_frequency), and clear
 * the transient layers. Flow: regrown (what was actually added under the cap). */
MYR_HD static inline void foraging_sync_cell(const myr_view *v, int64_t c, int64_t *flow) {
  const foraging_params *p = (const foraging_params *)v->params;
  uint32_t *resource = MYR_LAYER(v, FORAGING_RESOURCE, uint32_t);
  int64_t *claims = MYR_LAYER(v, FORAGING_CLAIMS, int64_t), *taken = MYR_LAYER(v, FORAGING_TAKEN, int64_t);
  /* Most cells have no claim and are full: they are read, not written (a grid pass per sync
   * is most of the model's memory traffic in sparse worlds). */
  int64_t granted = 0;
  if (claims[c]) {
    granted = taken[c];
    claims[c] = 0;
    if (granted) taken[c] = 0;
  }
  int64_t before = resource[c];
  int64_t cap = MYR_LAYER(v, FORAGING_CAPACITY, uint32_t)[c];
  if (granted == 0 && before >= cap) return;
  int64_t r = before - granted;
  int64_t grown = foraging_min(cap, r + ((cap * p->regrowth_fx) >> 16) * v->sync_frequency);
  if (grown < r) grown = r; /* a cell above its capacity (edited by hand) is not cut back */
  flow[FORAGING_FLOW_REGROWN] += grown - r;
  if (grown != before) resource[c] = (uint32_t)grown;
}

/* Observation row (11 floats): the visible resource of the 9 cells the moves lead to, in
 * action order, divided by peak (-1 for an illegal move); energy / max_energy; age / max_age
 * (0 when max_age is 0). */
MYR_HD static inline void foraging_features(const myr_view *v, int64_t i, float *out) {
  const foraging_params *p = (const foraging_params *)v->params;
  int64_t vis[MYR_MOVES];
  foraging_neighbourhood(v, i, vis);
  float inv_peak = p->peak_fx > 0 ? 1.0f / (float)p->peak_fx : 0.0f;
  for (int a = 0; a < MYR_MOVES; a++) out[a] = vis[a] >= 0 ? (float)vis[a] * inv_peak : -1.0f;
  out[9] = (float)MYR_COL(v, FORAGING_ENERGY, int32_t)[i] / (float)p->max_energy_fx;
  out[10] = p->max_age > 0 ? (float)MYR_COL(v, FORAGING_AGE, uint32_t)[i] / (float)p->max_age : 0.0f;
}

/* Level accumulators: alive count, energy, age (agents); resource (cells). */
MYR_HD static inline void foraging_agent_stats(const myr_view *v, int64_t i, int64_t *acc) {
  acc[FORAGING_ACC_COUNT] += 1;
  acc[FORAGING_ACC_ENERGY] += MYR_COL(v, FORAGING_ENERGY, int32_t)[i];
  acc[FORAGING_ACC_AGE] += MYR_COL(v, FORAGING_AGE, uint32_t)[i];
}

MYR_HD static inline void foraging_cell_stats(const myr_view *v, int64_t c, int64_t *acc) {
  acc[FORAGING_ACC_RESOURCE] += MYR_LAYER(v, FORAGING_RESOURCE, uint32_t)[c];
}

#endif
