/* opinion: a voter model on the grid, the out-of-tree example of how to write a Myriad model.
 * Agents hold an opinion (0 or 1) and walk on the grid (the 9 moves of sim/view.h). While
 * they walk they tally themselves into the cell they stand on; at every sync each agent looks
 * at the tally of its cell and may adopt an opinion from it. Rules: README.md.
 *
 * This header is the per-agent logic: MYR_HD static inline functions over a myr_view, so the
 * same source compiles into the CPU loops (opinion.c) and, unchanged, into CUDA kernels. It
 * therefore keeps to the C/C++ common subset: no designated initializers, no VLAs, casts
 * written out.
 *
 * Columns (v->col[c], in the order of the table in opinion.c):
 *   x, y     i32  cell position, 0 <= x < width, 0 <= y < height
 *   opinion  u8   0 or 1
 * Layers (v->layer[l], cell (x, y) at [y * width + x]):
 *   share    i32  persistent: the published share of opinion 1 among the cell's visits in the
 *                 last window, in per mille (0..1000); -1 if nobody stood there
 *   visits   u32  transient: agent-steps spent on the cell in this window
 *   votes    u32  transient: those of them by agents holding opinion 1
 * Randomness: myr_rng keyed by agent id, counter (step, purpose): never a shared generator. */
#ifndef OPINION_H
#define OPINION_H

#include <stdint.h>

#include "models/model.h" /* myr_model: the descriptor type */
#include "sim/rng.h"       /* myr_rng_*: Philox streams keyed by agent id */
#include "sim/view.h"      /* myr_view, MYR_COL/MYR_LAYER, myr_fold, myr_inside, myr_move_dx/dy */

/* The descriptor (opinion.c); main.c registers it with myr_register_model(). */
extern const myr_model opinion_model;

/* The parameter struct. The fields listed in the parameter table (opinion.c) are read from
 * model.params.<name> in YAML: FLOAT fields are double, BOOL fields int. The *_q fields are
 * derived by opinion_setup() and not settable: probabilities as 32-bit fixed-point thresholds,
 * so that the per-agent code compares integers only. */
typedef struct opinion_params {
  double initial_share; /* fraction of agents holding opinion 1 at the start */
  double conformity;    /* probability, at each sync, of taking an opinion from the cell */
  int majority;         /* 1: take the cell's majority; 0: copy a random visit (voter rule) */
  double noise;         /* probability, at each sync, of flipping one's opinion afterwards */
  double homophily;     /* heuristic: probability of walking to the most like-minded cell */
  /* derived */
  uint64_t initial_q, conformity_q, noise_q, homophily_q; /* p * 2^32, compared with a u32 */
} opinion_params;

/* Indices into the descriptor's tables (opinion.c uses the same enums). */
enum { OPINION_X, OPINION_Y, OPINION_OPINION, OPINION_COLUMNS };
enum { OPINION_SHARE, OPINION_VISITS, OPINION_VOTES, OPINION_LAYERS };
/* Statistic accumulators: levels summed over agents and cells at each record. */
enum { OPINION_ACC_AGENTS, OPINION_ACC_ONES, OPINION_ACC_VISITED, OPINION_ACC_MIXED, OPINION_ACCS };
/* Flows: counters summed over the steps between two records. */
enum { OPINION_FLOW_SWITCHES, OPINION_FLOW_SETTLED, OPINION_FLOW_MOVED, OPINION_FLOW_AGENT_STEPS, OPINION_FLOWS };
enum { OPINION_STAT_SHARE, OPINION_STAT_SWITCH_RATE, OPINION_STAT_MIXED_CELLS, OPINION_STAT_MOVED, OPINION_STATS };
#define OPINION_FEATURES (3 + MYR_MOVES) /* x, y, opinion, then the share seen by each move */
#define OPINION_PER_MILLE 1000
/* Stream purposes of this model (sim/rng.h reserves those below MYR_RNG_MODEL). */
enum { OPINION_RNG_SETTLE = MYR_RNG_MODEL };

/* Integer claim: an exact add that any number of threads may do to one cell at once, so the
 * sum never depends on their order. atomicAdd on the device, a relaxed atomic on the host. */
MYR_HD static inline void opinion_tally(uint32_t *p, uint32_t x) {
#ifdef __CUDA_ARCH__
  atomicAdd((unsigned int *)p, (unsigned int)x);
#else
  __atomic_fetch_add(p, x, __ATOMIC_RELAXED);
#endif
}

/* 1 with probability q / 2^32 (q from opinion_setup). One draw, whatever the outcome. */
MYR_HD static inline int opinion_chance(myr_rng *r, uint64_t q) { return (uint64_t)myr_rng_u32(r) < q; }

/* Legal moves from (x, y): all 9 on a torus; in a closed world those that would leave it are
 * illegal. Staying is always legal, so the count is >= 1. */
MYR_HD static inline int opinion_legal_at(const myr_view *v, int32_t x, int32_t y, uint8_t *mask) {
  int n = 0;
  for (int a = 0; a < MYR_MOVES; a++) {
    int ok = v->wrap || myr_inside(v, x + myr_move_dx(a), y + myr_move_dy(a));
    mask[a] = (uint8_t)ok;
    n += ok;
  }
  return n;
}

MYR_HD static inline int opinion_legal(const myr_view *v, int64_t i, uint8_t *mask) {
  return opinion_legal_at(v, MYR_COL(v, OPINION_X, int32_t)[i], MYR_COL(v, OPINION_Y, int32_t)[i], mask);
}

/* The cell that move a takes agent i to (wrapped or clamped). */
MYR_HD static inline int64_t opinion_target(const myr_view *v, int64_t i, int a) {
  int32_t x = myr_fold(MYR_COL(v, OPINION_X, int32_t)[i] + myr_move_dx(a), v->width, v->wrap);
  int32_t y = myr_fold(MYR_COL(v, OPINION_Y, int32_t)[i] + myr_move_dy(a), v->height, v->wrap);
  return myr_cell(v, x, y);
}

/* Initial state: a uniformly random cell; opinion 1 with probability initial_share. */
MYR_HD static inline void opinion_init_agent(const myr_view *v, int64_t i) {
  const opinion_params *p = (const opinion_params *)v->params;
  myr_rng r = myr_rng_make(v->seed, v->id[i], 0, MYR_RNG_INIT_AGENT);
  MYR_COL(v, OPINION_X, int32_t)[i] = (int32_t)myr_rng_below(&r, (uint32_t)v->width);
  MYR_COL(v, OPINION_Y, int32_t)[i] = (int32_t)myr_rng_below(&r, (uint32_t)v->height);
  MYR_COL(v, OPINION_OPINION, uint8_t)[i] = (uint8_t)opinion_chance(&r, p->initial_q);
}

/* No one has been anywhere yet: every cell's share is unknown. */
MYR_HD static inline void opinion_init_cell(const myr_view *v, int64_t c) {
  MYR_LAYER(v, OPINION_SHARE, int32_t)[c] = -1;
}

/* Heuristic policy (homophily): with probability `homophily`, the legal move into the cell
 * whose published share agrees most with the agent's opinion (unknown cells count as 500 per
 * mille; ties drawn uniformly); otherwise a uniformly random legal move. Always three draws,
 * whichever branch is taken. */
MYR_HD static inline int opinion_decide(const myr_view *v, int64_t i) {
  const opinion_params *p = (const opinion_params *)v->params;
  uint8_t mask[MYR_MOVES];
  int n = opinion_legal(v, i, mask);
  myr_rng r = myr_rng_make(v->seed, v->id[i], v->step, MYR_RNG_DECIDE);
  int follow = opinion_chance(&r, p->homophily_q);
  uint32_t k = myr_rng_below(&r, (uint32_t)n);
  uint32_t tie = myr_rng_u32(&r);
  if (!follow) {
    for (int a = 0; a < MYR_MOVES; a++)
      if (mask[a] && k-- == 0) return a;
    return 0;
  }
  const int32_t *share = MYR_LAYER(v, OPINION_SHARE, int32_t);
  int mine = MYR_COL(v, OPINION_OPINION, uint8_t)[i];
  int score[MYR_MOVES], best = -1, ties = 0;
  for (int a = 0; a < MYR_MOVES; a++) {
    score[a] = -1;
    if (!mask[a]) continue;
    int32_t s = share[opinion_target(v, i, a)];
    if (s < 0) s = OPINION_PER_MILLE / 2;
    score[a] = mine ? s : OPINION_PER_MILLE - s;
    if (score[a] > best) {
      best = score[a];
      ties = 0;
    }
    ties += score[a] == best;
  }
  uint32_t pick = (uint32_t)(((uint64_t)tie * (uint32_t)ties) >> 32); /* uniform in [0, ties) */
  for (int a = 0; a < MYR_MOVES; a++)
    if (score[a] == best && pick-- == 0) return a;
  return 0;
}

/* act: take the decided move, then tally this step's presence into the new cell (transient
 * integer claims). Reads only the agent's own columns; writes them and the claims. */
MYR_HD static inline void opinion_act(const myr_view *v, int64_t i, int64_t *flow) {
  int32_t *x = MYR_COL(v, OPINION_X, int32_t), *y = MYR_COL(v, OPINION_Y, int32_t);
  int a = v->action[i];
  int32_t nx = myr_fold(x[i] + myr_move_dx(a), v->width, v->wrap);
  int32_t ny = myr_fold(y[i] + myr_move_dy(a), v->height, v->wrap);
  flow[OPINION_FLOW_MOVED] += (nx != x[i]) | (ny != y[i]);
  flow[OPINION_FLOW_AGENT_STEPS] += 1;
  x[i] = nx;
  y[i] = ny;
  int64_t c = myr_cell(v, nx, ny);
  opinion_tally(&MYR_LAYER(v, OPINION_VISITS, uint32_t)[c], 1u);
  if (MYR_COL(v, OPINION_OPINION, uint8_t)[i]) opinion_tally(&MYR_LAYER(v, OPINION_VOTES, uint32_t)[c], 1u);
}

/* sync_agents: settle the agent's opinion from the complete tally of its cell. Every agent
 * reads the same finished sums and writes only its own column, so the order in which agents
 * are settled cannot matter. The agent tallied itself here in the window's last act, so
 * visits >= 1. Always three draws from the agent's own stream. */
MYR_HD static inline void opinion_settle(const myr_view *v, int64_t i, int64_t *flow) {
  const opinion_params *p = (const opinion_params *)v->params;
  int64_t c = myr_cell(v, MYR_COL(v, OPINION_X, int32_t)[i], MYR_COL(v, OPINION_Y, int32_t)[i]);
  uint32_t visits = MYR_LAYER(v, OPINION_VISITS, uint32_t)[c];
  uint32_t votes = MYR_LAYER(v, OPINION_VOTES, uint32_t)[c];
  uint8_t *op = MYR_COL(v, OPINION_OPINION, uint8_t);
  myr_rng r = myr_rng_make(v->seed, v->id[i], v->step, OPINION_RNG_SETTLE);
  int conform = opinion_chance(&r, p->conformity_q);
  uint32_t pick = myr_rng_below(&r, visits > 0 ? visits : 1u);
  int flip = opinion_chance(&r, p->noise_q);
  int old = op[i], now = old;
  if (conform && visits > 0) {
    if (p->majority) now = 2u * (uint64_t)votes > visits ? 1 : (2u * (uint64_t)votes < visits ? 0 : old);
    else now = pick < votes; /* copy the opinion of one visit drawn uniformly */
  }
  if (flip) now = 1 - now;
  op[i] = (uint8_t)now;
  flow[OPINION_FLOW_SWITCHES] += now != old;
  flow[OPINION_FLOW_SETTLED] += 1;
}

/* sync_cells_end: publish the window's share (exact integer rounding) and clear the claims. */
MYR_HD static inline void opinion_publish(const myr_view *v, int64_t c, int64_t *flow) {
  (void)flow;
  uint32_t *visits = MYR_LAYER(v, OPINION_VISITS, uint32_t), *votes = MYR_LAYER(v, OPINION_VOTES, uint32_t);
  uint64_t n = visits[c];
  MYR_LAYER(v, OPINION_SHARE, int32_t)[c] =
      n > 0 ? (int32_t)(((uint64_t)votes[c] * OPINION_PER_MILLE + n / 2) / n) : -1;
  visits[c] = 0;
  votes[c] = 0;
}

/* Observation row (12 floats in [-1, 1]): position scaled to [-1, 1], the opinion as -1/+1,
 * then for each of the 9 moves the published share of its target cell as seen by this agent
 * (+1 all agree, -1 all disagree, 0 unknown). Illegal moves read their clamped cell. */
MYR_HD static inline void opinion_features(const myr_view *v, int64_t i, float *out) {
  int32_t x = MYR_COL(v, OPINION_X, int32_t)[i], y = MYR_COL(v, OPINION_Y, int32_t)[i];
  float sign = MYR_COL(v, OPINION_OPINION, uint8_t)[i] ? 1.0f : -1.0f;
  out[0] = 2.0f * ((float)x + 0.5f) / (float)v->width - 1.0f;
  out[1] = 2.0f * ((float)y + 0.5f) / (float)v->height - 1.0f;
  out[2] = sign;
  const int32_t *share = MYR_LAYER(v, OPINION_SHARE, int32_t);
  for (int a = 0; a < MYR_MOVES; a++) {
    int32_t s = share[opinion_target(v, i, a)];
    out[3 + a] = s < 0 ? 0.0f : sign * (2.0f * (float)s / (float)OPINION_PER_MILLE - 1.0f);
  }
}

/* Level accumulators: agents and opinion-1 holders; cells visited in the last window and
 * those of them where both opinions were present (0 < share < 1000). */
MYR_HD static inline void opinion_agent_stats(const myr_view *v, int64_t i, int64_t *acc) {
  acc[OPINION_ACC_AGENTS] += 1;
  acc[OPINION_ACC_ONES] += MYR_COL(v, OPINION_OPINION, uint8_t)[i];
}

MYR_HD static inline void opinion_cell_stats(const myr_view *v, int64_t c, int64_t *acc) {
  int32_t s = MYR_LAYER(v, OPINION_SHARE, int32_t)[c];
  acc[OPINION_ACC_VISITED] += s >= 0;
  acc[OPINION_ACC_MIXED] += s > 0 && s < OPINION_PER_MILLE;
}

#endif
