/* movement: agents walk on the grid, one of the 9 moves of sim/view.h per step. The
 * scaling and throughput baseline (DESIGN §6), so act() is kept to a few integer operations.
 *
 * Per-agent logic as MYR_HD static inline functions over a myr_view: the CPU range functions
 * in movement.c call them, and a CUDA kernel can include this header unchanged (C11 and CUDA
 * C++ alike: no designated initializers, explicit casts, no VLAs). Columns, in table order:
 *   x, y     i32  cell position, 0 <= x < width, 0 <= y < height
 *   heading  u8   the last move that changed the position (1..8; 0 before the first move)
 * Randomness: myr_rng keyed by agent id, counter (step, purpose). The rules are in README.md. */
#ifndef MYR_MODEL_MOVEMENT_H
#define MYR_MODEL_MOVEMENT_H

#include <stdint.h>

#include "sim/rng.h"  /* myr_rng_*: Philox streams keyed by agent id */
#include "sim/view.h" /* myr_view, myr_fold, myr_move_dx/dy, myr_legal_moves */

typedef struct movement_params {
  double persistence; /* heuristic: probability of repeating the current heading */
} movement_params;

/* Column, statistic accumulator and flow indices (the order of the tables in movement.c). */
enum { MOVEMENT_X, MOVEMENT_Y, MOVEMENT_HEADING, MOVEMENT_COLUMNS };
enum { MOVEMENT_ACC_COUNT, MOVEMENT_ACC_X, MOVEMENT_ACC_Y, MOVEMENT_ACCS };
enum { MOVEMENT_FLOW_MOVED, MOVEMENT_FLOW_AGENT_STEPS, MOVEMENT_FLOWS };
enum { MOVEMENT_STAT_MEAN_X, MOVEMENT_STAT_MEAN_Y, MOVEMENT_STAT_MOVED_FRACTION, MOVEMENT_STATS };
#define MOVEMENT_FEATURES 8

MYR_HD static inline int movement_legal(const myr_view *v, int64_t i, uint8_t *mask) {
  return myr_legal_moves(v, MYR_COL(v, MOVEMENT_X, int32_t)[i], MYR_COL(v, MOVEMENT_Y, int32_t)[i], mask);
}

/* Initial state: a uniformly random cell and a uniformly random heading 1..8. */
MYR_HD static inline void movement_init_agent(const myr_view *v, int64_t i) {
  myr_rng r = myr_rng_make(v->seed, v->id[i], 0, MYR_RNG_INIT_AGENT);
  MYR_COL(v, MOVEMENT_X, int32_t)[i] = (int32_t)myr_rng_below(&r, (uint32_t)v->width);
  MYR_COL(v, MOVEMENT_Y, int32_t)[i] = (int32_t)myr_rng_below(&r, (uint32_t)v->height);
  MYR_COL(v, MOVEMENT_HEADING, uint8_t)[i] = (uint8_t)(1 + myr_rng_below(&r, 8));
}

/* Heuristic policy, a correlated random walk: with probability `persistence` repeat the
 * heading if it is legal here; otherwise a uniformly random legal move (staying included).
 * Always two draws from the DECIDE stream, so streams stay aligned. */
MYR_HD static inline int movement_decide(const myr_view *v, int64_t i) {
  const movement_params *p = (const movement_params *)v->params;
  uint8_t mask[MYR_MOVES];
  int n = movement_legal(v, i, mask);
  myr_rng r = myr_rng_make(v->seed, v->id[i], v->step, MYR_RNG_DECIDE);
  double u = myr_rng_uniform_double(&r);
  uint32_t k = myr_rng_below(&r, (uint32_t)n);
  int h = MYR_COL(v, MOVEMENT_HEADING, uint8_t)[i];
  if (h > 0 && h < MYR_MOVES && mask[h] && u < p->persistence) return h;
  return myr_nth_legal(mask, MYR_MOVES, k);
}

/* act: apply the decided move (myr_fold wraps or clamps; legal moves never clamp) and turn
 * the heading to it when the position changed. Flows: moved agents, agent-steps. */
MYR_HD static inline void movement_act(const myr_view *v, int64_t i, int64_t *flow) {
  int32_t *x = MYR_COL(v, MOVEMENT_X, int32_t), *y = MYR_COL(v, MOVEMENT_Y, int32_t);
  int a = v->action[i];
  int32_t nx = myr_fold(x[i] + myr_move_dx(a), v->width, v->wrap);
  int32_t ny = myr_fold(y[i] + myr_move_dy(a), v->height, v->wrap);
  int moved = (nx != x[i]) | (ny != y[i]);
  if (moved) {
    /* heading first: then nothing stored after x and y, so a fused pass that reads the new
     * position next (statistics) can use these values instead of reloading them */
    MYR_COL(v, MOVEMENT_HEADING, uint8_t)[i] = (uint8_t)a;
    x[i] = nx;
    y[i] = ny;
  }
  flow[MOVEMENT_FLOW_MOVED] += moved;
  flow[MOVEMENT_FLOW_AGENT_STEPS] += 1;
}

/* Observation row (8 floats in [-1, 1]): position (x, y) scaled to [-1, 1]; the heading as
 * a unit vector (0, 0 before the first move); and 4 wall flags, 1 when a closed world's
 * edge is next to the agent on the east, north, west, south side. */
MYR_HD static inline void movement_features(const myr_view *v, int64_t i, float *out) {
  int32_t x = MYR_COL(v, MOVEMENT_X, int32_t)[i], y = MYR_COL(v, MOVEMENT_Y, int32_t)[i];
  int h = MYR_COL(v, MOVEMENT_HEADING, uint8_t)[i];
  if (h >= MYR_MOVES) h = 0;
  float hx = (float)myr_move_dx(h), hy = (float)myr_move_dy(h);
  float norm = (hx != 0.0f && hy != 0.0f) ? 0.70710678f : 1.0f;
  out[0] = 2.0f * ((float)x + 0.5f) / (float)v->width - 1.0f;
  out[1] = 2.0f * ((float)y + 0.5f) / (float)v->height - 1.0f;
  out[2] = hx * norm;
  out[3] = hy * norm;
  out[4] = (!v->wrap && x == v->width - 1) ? 1.0f : 0.0f;
  out[5] = (!v->wrap && y == v->height - 1) ? 1.0f : 0.0f;
  out[6] = (!v->wrap && x == 0) ? 1.0f : 0.0f;
  out[7] = (!v->wrap && y == 0) ? 1.0f : 0.0f;
}

/* Level accumulators of one alive agent: count, sum of x, sum of y (exact integers). */
MYR_HD static inline void movement_agent_stats(const myr_view *v, int64_t i, int64_t *acc) {
  acc[MOVEMENT_ACC_COUNT] += 1;
  acc[MOVEMENT_ACC_X] += MYR_COL(v, MOVEMENT_X, int32_t)[i];
  acc[MOVEMENT_ACC_Y] += MYR_COL(v, MOVEMENT_Y, int32_t)[i];
}

#endif
