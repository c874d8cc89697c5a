/* epidemic's planning interface (models/plan.h, DESIGN §7): go out or stay home. In the
 * activity part of the day an agent may head for its activity cell (earning econ_reward for
 * each step it spends there) or stay where it is; a susceptible agent pays infection_cost
 * times its probability of being infected on the cell it stands on, from the published world
 * (the same probability act uses). Otherwise it heads home or stays. As MYR_HD static inline
 * functions that the CPU wrappers of epidemic.c and the launchers of epidemic.cu both run.
 *
 * Context (one per tree): the published infectious counts of the 19 x 19 cells around the agent
 * (enough for 8 steps and a contact radius of 1; 0 outside a closed world), the agent's cell,
 * home and activity cells, the root step, its disease state and the published prevalence.
 * State (one per node, 4 bytes): the offset from the root cell and the depth.
 *
 * One imagined step (epidemic_plan_step): the move (0 stay, or the move toward the target of
 * that step's part of the day: the only two legal actions), then the reward
 *   econ_reward [activity part of the day and on the activity cell]
 *   - infection_cost * P(infection here) [susceptible agents]
 * with P from epidemic_infection_probability's rule over the context's counts. Not imagined:
 * the disease's progress, lockdowns, vaccination, other agents' moves (the counts are the last
 * published ones, as for act). Terminal at depth EPIDEMIC_PLAN_DEPTH. The reward of a real
 * step is this reward for the action taken (models/plan.h, Rewards): the expected cost, not the
 * draw. */
#ifndef MYR_MODEL_EPIDEMIC_PLAN_H
#define MYR_MODEL_EPIDEMIC_PLAN_H

#include <stdint.h>

#include "models/epidemic/epidemic.h"
#include "models/plan_hd.h"

#define EPIDEMIC_PLAN_DEPTH 8
#define EPIDEMIC_PLAN_RADIUS (EPIDEMIC_PLAN_DEPTH + 1) /* a contact radius of 1 around any reachable cell */
#define EPIDEMIC_PLAN_SIDE (2 * EPIDEMIC_PLAN_RADIUS + 1)

typedef struct epidemic_plan_context {
  int32_t contacts[EPIDEMIC_PLAN_SIDE * EPIDEMIC_PLAN_SIDE]; /* row-major, offset (dx, dy) at (dy+R)*SIDE+dx+R */
  int32_t x, y, home_x, home_y, act_x, act_y;
  int32_t width, height, wrap;
  uint64_t step;      /* the root step */
  double prevalence;  /* published: infectious per step of the last window / living */
  int32_t state;      /* EPIDEMIC_S .. EPIDEMIC_D */
  int32_t unused;
} epidemic_plan_context;

typedef struct epidemic_plan_state {
  int8_t dx, dy;
  uint8_t depth;
  uint8_t unused;
} epidemic_plan_state;

MYR_HD static inline void epidemic_plan_root(const myr_view *v, int64_t i, epidemic_plan_context *c,
                                             epidemic_plan_state *s) {
  const int R = EPIDEMIC_PLAN_RADIUS;
  const int32_t *contacts = MYR_LAYER(v, EPIDEMIC_CONTACTS, int32_t);
  c->x = MYR_COL(v, EPIDEMIC_X, int32_t)[i];
  c->y = MYR_COL(v, EPIDEMIC_Y, int32_t)[i];
  c->home_x = MYR_COL(v, EPIDEMIC_HOME_X, int32_t)[i];
  c->home_y = MYR_COL(v, EPIDEMIC_HOME_Y, int32_t)[i];
  c->act_x = MYR_COL(v, EPIDEMIC_ACT_X, int32_t)[i];
  c->act_y = MYR_COL(v, EPIDEMIC_ACT_Y, int32_t)[i];
  c->width = v->width;
  c->height = v->height;
  c->wrap = v->wrap;
  c->step = v->step;
  c->prevalence = epidemic_prevalence(v);
  c->state = MYR_COL(v, EPIDEMIC_STATE, uint8_t)[i];
  c->unused = 0;
  /* A row of the patch at a time: its loads first, all independent (a GPU thread has them in
   * flight together instead of one round trip per cell), then its stores. */
  for (int dy = -R; dy <= R; dy++) {
    int32_t row[EPIDEMIC_PLAN_SIDE];
    for (int dx = -R; dx <= R; dx++) {
      int32_t cx = c->x + dx, cy = c->y + dy;
      int inside = v->wrap || myr_inside(v, cx, cy);
      row[dx + R] =
          inside ? contacts[myr_cell(v, myr_fold(cx, v->width, v->wrap), myr_fold(cy, v->height, v->wrap))] : 0;
    }
    for (int k = 0; k < EPIDEMIC_PLAN_SIDE; k++) c->contacts[(dy + R) * EPIDEMIC_PLAN_SIDE + k] = row[k];
  }
  s->dx = s->dy = 0;
  s->depth = 0;
  s->unused = 0;
}

/* The cell an imagined state stands on (wrapped or clamped like act). */
MYR_HD static inline int32_t epidemic_plan_x(const epidemic_plan_context *c, const epidemic_plan_state *s) {
  return myr_fold(c->x + s->dx, c->width, c->wrap);
}
MYR_HD static inline int32_t epidemic_plan_y(const epidemic_plan_context *c, const epidemic_plan_state *s) {
  return myr_fold(c->y + s->dy, c->height, c->wrap);
}

/* The move toward the target of step `step`'s part of the day (0 when there). */
MYR_HD static inline int epidemic_plan_toward(const epidemic_params *p, const epidemic_plan_context *c,
                                              const epidemic_plan_state *s, uint64_t step) {
  int at_act = epidemic_activity_time(p, step);
  int32_t x = epidemic_plan_x(c, s), y = epidemic_plan_y(c, s);
  int32_t dx = epidemic_toward(x, at_act ? c->act_x : c->home_x, c->width, c->wrap);
  int32_t dy = epidemic_toward(y, at_act ? c->act_y : c->home_y, c->height, c->wrap);
  for (int a = 0; a < MYR_MOVES; a++)
    if (myr_move_dx(a) == dx && myr_move_dy(a) == dy) return a;
  return 0;
}

/* Legal: stay, and the move toward the target (the same action when already there). */
MYR_HD static inline int epidemic_plan_legal(const epidemic_params *p, const epidemic_plan_context *c,
                                             const epidemic_plan_state *s, uint8_t *mask) {
  for (int a = 0; a < MYR_MOVES; a++) mask[a] = 0;
  mask[0] = 1;
  if (c->state == EPIDEMIC_D) return 1;
  int a = epidemic_plan_toward(p, c, s, c->step + s->depth);
  mask[a] = 1;
  return a == 0 ? 1 : 2;
}

/* Infectious agents around an imagined cell, from the context (epidemic_local_infectious). */
MYR_HD static inline int64_t epidemic_plan_local(const epidemic_params *p, const epidemic_plan_context *c,
                                                 const epidemic_plan_state *s) {
  const int R = EPIDEMIC_PLAN_RADIUS;
  int32_t x = c->x + s->dx, y = c->y + s->dy;
  if (p->contact_radius_cells == 0) return c->contacts[(s->dy + R) * EPIDEMIC_PLAN_SIDE + s->dx + R];
  int64_t sum = 0;
  for (int a = 0; a < MYR_MOVES; a++) {
    int32_t cx = x + myr_move_dx(a), cy = y + myr_move_dy(a);
    if (!c->wrap && (cx < 0 || cy < 0 || cx >= c->width || cy >= c->height)) continue;
    sum += c->contacts[(s->dy + myr_move_dy(a) + R) * EPIDEMIC_PLAN_SIDE + s->dx + myr_move_dx(a) + R];
  }
  return sum;
}

/* epidemic_infection_probability's rule at an imagined cell. */
MYR_HD static inline double epidemic_plan_infection(const epidemic_params *p, const epidemic_plan_context *c,
                                                    const epidemic_plan_state *s) {
  double h;
  if (p->mixing == EPIDEMIC_MIXING_WELL_MIXED) {
    h = p->beta_dt * c->prevalence;
  } else {
    int64_t n = epidemic_plan_local(p, c, s);
    if (n == 0) return 0.0;
    if (p->neg_log1mp > 1e300) return 1.0;
    h = (double)n * p->inv_sync * p->neg_log1mp;
  }
  return epidemic_one_minus_exp_neg(h);
}

/* One imagined step (above). A move the state does not allow is taken as stay. */
MYR_HD static inline int epidemic_plan_step(const epidemic_params *p, const epidemic_plan_context *c,
                                            const epidemic_plan_state *s, int a, epidemic_plan_state *next,
                                            float *reward) {
  *next = *s;
  if (s->depth >= EPIDEMIC_PLAN_DEPTH) {
    *reward = 0.0f;
    return 1;
  }
  uint64_t step = c->step + s->depth;
  uint8_t mask[MYR_MOVES];
  epidemic_plan_legal(p, c, s, mask);
  if (a < 0 || a >= MYR_MOVES || !mask[a]) a = 0;
  if (!c->wrap) { /* clamped at a closed edge, as myr_fold clamps in act */
    int32_t nx = c->x + s->dx + myr_move_dx(a), ny = c->y + s->dy + myr_move_dy(a);
    if (nx < 0 || ny < 0 || nx >= c->width || ny >= c->height) a = 0;
  }
  next->dx = (int8_t)(s->dx + myr_move_dx(a));
  next->dy = (int8_t)(s->dy + myr_move_dy(a));
  next->depth = (uint8_t)(s->depth + 1);
  double r = 0.0;
  if (c->state != EPIDEMIC_D) {
    int32_t x = epidemic_plan_x(c, next), y = epidemic_plan_y(c, next);
    if (epidemic_activity_time(p, step) && x == c->act_x && y == c->act_y) r += p->econ_reward;
    if (c->state == EPIDEMIC_S) r -= p->infection_cost * epidemic_plan_infection(p, c, next);
  }
  *reward = (float)r;
  return next->depth >= EPIDEMIC_PLAN_DEPTH;
}

/* The 9 features of epidemic_features, of the imagined state (equal at the root). */
MYR_HD static inline void epidemic_plan_features(const epidemic_params *p, const epidemic_plan_context *c,
                                                 const epidemic_plan_state *s, float *out) {
  for (int k = 0; k < EPIDEMIC_STATES; k++) out[k] = c->state == k ? 1.0f : 0.0f;
  uint64_t step = c->step + s->depth;
  int at_act = epidemic_activity_time(p, step);
  int32_t x = epidemic_plan_x(c, s), y = epidemic_plan_y(c, s);
  int32_t tx = at_act ? c->act_x : c->home_x, ty = at_act ? c->act_y : c->home_y;
  float n = (float)epidemic_plan_local(p, c, s);
  out[5] = at_act ? 1.0f : 0.0f;
  out[6] = (x == tx && y == ty) ? 1.0f : 0.0f;
  out[7] = n / (1.0f + n);
  out[8] = (float)c->prevalence;
}

MYR_PLAN_DEFINE(epidemic, epidemic_params, epidemic_plan_context, sizeof(epidemic_plan_context), epidemic_plan_state,
                MYR_MOVES, EPIDEMIC_FEATURES)

#endif
