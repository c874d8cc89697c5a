/* epidemic: SEIR plus deaths with daily mobility (DESIGN §6). Each agent has a home cell and
 * an activity cell near it; the heuristic policy walks it between the two on a daily schedule,
 * with some random moves. Transmission needs no neighbour lists: infectious agents count
 * themselves into a per-cell transient layer (exact integer atomics), the count is published
 * at sync, and in the next window a susceptible agent on cell c is exposed with probability
 * 1 - (1 - p)^(I_c) (spatial mixing), or 1 - exp(-beta dt I / N) from the global count
 * (well-mixed). Incubation and infectious periods are gamma distributed, in whole steps.
 *
 * Per-agent logic as MYR_HD static inline functions over a myr_view: the CPU range functions
 * in epidemic.c call them and epidemic.cu compiles them into kernels. Columns, in table order:
 *   x, y              i32  current cell
 *   home_x, home_y    i32  home cell
 *   act_x, act_y      i32  activity cell (within commute_radius of home)
 *   state             u8   EPIDEMIC_S, _E, _I, _R, _D
 *   timer             i32  steps left in E or I (0 otherwise)
 * Layers: infectious (transient i32: infectious agent-steps on the cell in this window),
 * contacts (persistent i32: the same of the last window, published). World-wide counts come
 * from the engine's published flows (sim/view.h, summed over every rank at each sync): the
 * last window's infectious agent-steps (flows_window[EPIDEMIC_FLOW_INFECTIOUS_STEPS]) and the
 * deaths so far (flows_total[EPIDEMIC_FLOW_DIED]). Dead agents keep their slot (state D) and
 * never move again. Agents read the grid within EPIDEMIC_PLAN_RADIUS cells (planning patch;
 * 1 for contacts) and move one cell per step: the descriptor's reach and max_speed.
 * Randomness: myr_rng keyed by agent id, counter (step, purpose). Rules: README.md. */
#ifndef MYR_MODEL_EPIDEMIC_H
#define MYR_MODEL_EPIDEMIC_H

#include <math.h> /* log, pow, sqrt in myr_rng_gamma (sim/rng.h) */
#include <stdint.h>

#include "sim/mathf.h" /* myr_expf: the same bits on CPU and GPU */
#include "sim/rng.h"   /* myr_rng_*: Philox streams keyed by agent id; myr_rng_gamma */
#include "sim/view.h"  /* myr_view, myr_fold, myr_cell, myr_move_dx/dy, myr_legal_moves */

typedef struct epidemic_params {
  /* From YAML (model.params.*). Periods are in days; one day is steps_per_day steps. */
  int64_t steps_per_day;
  int mixing;                   /* EPIDEMIC_MIXING_* */
  double p_contact;             /* spatial: infection probability per infectious contact per step */
  int64_t contact_radius_cells; /* spatial: 0 = own cell, 1 = own cell and its 8 neighbours */
  double r0;                    /* well-mixed: basic reproduction number */
  double incubation_mean, incubation_shape;
  double infectious_mean, infectious_shape;
  double fatality;              /* probability that an infection ends in death */
  int64_t initial_infected;     /* agents with id < this start infectious */
  double vaccination_rate;      /* fraction of susceptibles vaccinated (-> R) per day */
  double mobility_reduction;    /* fraction of moves suppressed during a lockdown */
  double lockdown_threshold;    /* lockdown while published prevalence > this; 0 = never */
  int64_t commute_radius;       /* activity cell within this many cells of home (each axis) */
  double activity_fraction;     /* fraction of each day's steps spent going to / at activity */
  double random_move;           /* heuristic: probability of a uniformly random legal move */
  double econ_reward;           /* network/mcts: reward of a step spent at the activity cell in activity hours */
  double infection_cost;        /* network/mcts: cost of an infection, times its probability each step */
  /* Derived by setup(). */
  double neg_log1mp;            /* -ln(1 - p_contact) (inf when p_contact = 1) */
  double beta_dt;               /* well-mixed: R0 / infectious_mean / steps_per_day */
  double vaccinate_step;        /* per-step vaccination probability */
  double inv_sync;              /* 1 / sync_frequency */
  int64_t population;           /* initial agent count N */
  int64_t activity_steps;       /* steps of each day aimed at the activity cell */
} epidemic_params;

enum { EPIDEMIC_MIXING_SPATIAL, EPIDEMIC_MIXING_WELL_MIXED };
enum { EPIDEMIC_S, EPIDEMIC_E, EPIDEMIC_I, EPIDEMIC_R, EPIDEMIC_D, EPIDEMIC_STATES };

/* Column, layer, accumulator, flow and statistic indices (the order of the tables in epidemic.c). */
enum { EPIDEMIC_X, EPIDEMIC_Y, EPIDEMIC_HOME_X, EPIDEMIC_HOME_Y, EPIDEMIC_ACT_X, EPIDEMIC_ACT_Y, EPIDEMIC_STATE,
       EPIDEMIC_TIMER, EPIDEMIC_COLUMNS };
enum { EPIDEMIC_INFECTIOUS, EPIDEMIC_CONTACTS, EPIDEMIC_LAYERS };
/* Accumulators: one count per state (S, E, I, R, D in order). */
enum { EPIDEMIC_ACCS = EPIDEMIC_STATES };
enum { EPIDEMIC_FLOW_INFECTED, EPIDEMIC_FLOW_ONSET, EPIDEMIC_FLOW_RECOVERED, EPIDEMIC_FLOW_DIED,
       EPIDEMIC_FLOW_VACCINATED, EPIDEMIC_FLOW_INFECTIOUS_STEPS, EPIDEMIC_FLOW_LOCKED_MOVES, EPIDEMIC_FLOWS };
enum { EPIDEMIC_STAT_S, EPIDEMIC_STAT_E, EPIDEMIC_STAT_I, EPIDEMIC_STAT_R, EPIDEMIC_STAT_D,
       EPIDEMIC_STAT_NEW_INFECTIONS, EPIDEMIC_STAT_NEW_DEATHS, EPIDEMIC_STAT_VACCINATED, EPIDEMIC_STAT_PREVALENCE,
       EPIDEMIC_STAT_RT, EPIDEMIC_STAT_LOCKED_MOVES, EPIDEMIC_STATS };
#define EPIDEMIC_FEATURES 9

/* RNG purposes of this model (sim/rng.h: models use MYR_RNG_MODEL upwards). */
enum { EPIDEMIC_RNG_DURATION = MYR_RNG_MODEL + 0 };

/* An exact, order-free integer add to a shared cell: atomicAdd on the device, a relaxed atomic
 * on the host. */
MYR_HD static inline void epidemic_add_i32(int32_t *p, int32_t x) {
#ifdef __CUDA_ARCH__
  atomicAdd((int *)p, (int)x);
#else
  __atomic_fetch_add(p, x, __ATOMIC_RELAXED);
#endif
}

/* 1 - e^-h for h >= 0, accurate where it matters: tiny per-step hazards (well-mixed early
 * phase, h ~ 1e-6) would lose every digit in 1 - expf(-h), so below 1/64 a Taylor series in
 * double (+ and * only, relative error < 1e-11); above it 1 - myr_expf(-h) (relative error
 * about 1e-5 at worst). */
MYR_HD static inline double epidemic_one_minus_exp_neg(double h) {
  if (!(h > 0.0)) return 0.0;
  if (h < 0.015625) {
    double h2 = h * h;
    return h - h2 * 0.5 + h2 * h * (1.0 / 6.0) - h2 * h2 * (1.0 / 24.0) + h2 * h2 * h * (1.0 / 120.0);
  }
  if (h > 80.0) return 1.0;
  return 1.0 - (double)myr_expf(-(float)h);
}

/* A gamma(shape, mean/shape) duration in days turned into whole steps: the nearest integer
 * number of steps, at least 1. */
MYR_HD static inline int32_t epidemic_duration(myr_rng *r, double mean, double shape, int64_t steps_per_day) {
  double days = myr_rng_gamma(r, shape, mean / shape);
  double steps = days * (double)steps_per_day + 0.5;
  if (steps > 2.0e9) steps = 2.0e9;
  int32_t s = (int32_t)steps;
  return s < 1 ? 1 : s;
}

MYR_HD static inline int epidemic_legal(const myr_view *v, int64_t i, uint8_t *mask) {
  return myr_legal_moves(v, MYR_COL(v, EPIDEMIC_X, int32_t)[i], MYR_COL(v, EPIDEMIC_Y, int32_t)[i], mask);
}

/* init_agents: a uniformly random home cell, the agent starting there; an activity cell home +
 * (dx, dy), each uniform in [-commute_radius, commute_radius] (wrapped or clamped into the
 * world). Agents with id < initial_infected start infectious with a fresh infectious period;
 * everyone else is susceptible. */
MYR_HD static inline void epidemic_init_agent(const myr_view *v, int64_t i) {
  const epidemic_params *p = (const epidemic_params *)v->params;
  myr_rng r = myr_rng_make(v->seed, v->id[i], 0, MYR_RNG_INIT_AGENT);
  int32_t hx = (int32_t)myr_rng_below(&r, (uint32_t)v->width);
  int32_t hy = (int32_t)myr_rng_below(&r, (uint32_t)v->height);
  uint32_t span = (uint32_t)(2 * p->commute_radius + 1);
  int32_t dx = (int32_t)myr_rng_below(&r, span) - (int32_t)p->commute_radius;
  int32_t dy = (int32_t)myr_rng_below(&r, span) - (int32_t)p->commute_radius;
  MYR_COL(v, EPIDEMIC_X, int32_t)[i] = hx;
  MYR_COL(v, EPIDEMIC_Y, int32_t)[i] = hy;
  MYR_COL(v, EPIDEMIC_HOME_X, int32_t)[i] = hx;
  MYR_COL(v, EPIDEMIC_HOME_Y, int32_t)[i] = hy;
  MYR_COL(v, EPIDEMIC_ACT_X, int32_t)[i] = myr_fold(hx + dx, v->width, v->wrap);
  MYR_COL(v, EPIDEMIC_ACT_Y, int32_t)[i] = myr_fold(hy + dy, v->height, v->wrap);
  if ((int64_t)v->id[i] < p->initial_infected) {
    myr_rng d = myr_rng_make(v->seed, v->id[i], 0, EPIDEMIC_RNG_DURATION);
    MYR_COL(v, EPIDEMIC_STATE, uint8_t)[i] = EPIDEMIC_I;
    MYR_COL(v, EPIDEMIC_TIMER, int32_t)[i] =
        epidemic_duration(&d, p->infectious_mean, p->infectious_shape, p->steps_per_day);
  } else {
    MYR_COL(v, EPIDEMIC_STATE, uint8_t)[i] = EPIDEMIC_S;
    MYR_COL(v, EPIDEMIC_TIMER, int32_t)[i] = 0;
  }
}

/* One coordinate step toward `to` from `from` on an axis of `extent` cells: -1, 0 or 1, the
 * shorter way round on a torus. */
MYR_HD static inline int32_t epidemic_toward(int32_t from, int32_t to, int32_t extent, int32_t wrap) {
  int32_t d = to - from;
  if (wrap) {
    if (d > extent / 2) d -= extent;
    if (d < -(extent / 2)) d += extent;
  }
  return d > 0 ? 1 : (d < 0 ? -1 : 0);
}

/* 1 if step `step` falls in the activity part of the day: the last activity_steps steps of
 * each day of steps_per_day steps (the day starts at home). */
MYR_HD static inline int epidemic_activity_time(const epidemic_params *p, uint64_t step) {
  return (int64_t)(step % (uint64_t)p->steps_per_day) >= p->steps_per_day - p->activity_steps;
}

/* Heuristic policy, the daily schedule: with probability random_move a uniformly random legal
 * move; otherwise the move one cell toward the target (activity cell in the activity part of
 * the day, home otherwise; staying once there). Dead agents stay. Always two draws from the
 * DECIDE stream. */
MYR_HD static inline int epidemic_decide(const myr_view *v, int64_t i) {
  const epidemic_params *p = (const epidemic_params *)v->params;
  if (MYR_COL(v, EPIDEMIC_STATE, uint8_t)[i] == EPIDEMIC_D) return 0;
  uint8_t mask[MYR_MOVES];
  int n = epidemic_legal(v, i, mask);
  myr_rng r = myr_rng_make(v->seed, v->id[i], v->step, MYR_RNG_DECIDE);
  double u = myr_rng_uniform_double(&r);
  uint32_t k = myr_rng_below(&r, (uint32_t)n);
  if (u < p->random_move) return myr_nth_legal(mask, MYR_MOVES, k);
  int at_act = epidemic_activity_time(p, v->step);
  int32_t x = MYR_COL(v, EPIDEMIC_X, int32_t)[i], y = MYR_COL(v, EPIDEMIC_Y, int32_t)[i];
  int32_t tx = MYR_COL(v, at_act ? EPIDEMIC_ACT_X : EPIDEMIC_HOME_X, int32_t)[i];
  int32_t ty = MYR_COL(v, at_act ? EPIDEMIC_ACT_Y : EPIDEMIC_HOME_Y, int32_t)[i];
  int32_t dx = epidemic_toward(x, tx, v->width, v->wrap), dy = epidemic_toward(y, ty, v->height, v->wrap);
  for (int a = 0; a < MYR_MOVES; a++)
    if (myr_move_dx(a) == dx && myr_move_dy(a) == dy) return mask[a] ? a : 0;
  return 0;
}

/* Infectious agents seen by an agent on (x, y): the published count of its cell, or of the 3x3
 * block around it when contact_radius_cells is 1 (cells outside a closed world count 0). */
MYR_HD static inline int64_t epidemic_local_infectious(const myr_view *v, int32_t x, int32_t y) {
  const epidemic_params *p = (const epidemic_params *)v->params;
  const int32_t *contacts = MYR_LAYER(v, EPIDEMIC_CONTACTS, int32_t);
  if (p->contact_radius_cells == 0) return contacts[myr_cell(v, x, y)];
  int64_t sum = 0;
  for (int a = 0; a < MYR_MOVES; a++) {
    int32_t cx = x + myr_move_dx(a), cy = y + myr_move_dy(a);
    if (!v->wrap && !myr_inside(v, cx, cy)) continue;
    sum += contacts[myr_cell(v, myr_fold(cx, v->width, v->wrap), myr_fold(cy, v->height, v->wrap))];
  }
  return sum;
}

/* Published prevalence: infectious agents per step of the last window over living agents, from
 * the engine's published flows (the whole team's: infectious agent-steps of the last window,
 * deaths since step 0). */
MYR_HD static inline double epidemic_prevalence(const myr_view *v) {
  const epidemic_params *p = (const epidemic_params *)v->params;
  int64_t living = p->population - v->flows_total[EPIDEMIC_FLOW_DIED];
  return living > 0 ? (double)v->flows_window[EPIDEMIC_FLOW_INFECTIOUS_STEPS] * p->inv_sync / (double)living : 0.0;
}

/* Probability that susceptible agent i on (x, y) is infected this step (published world). */
MYR_HD static inline double epidemic_infection_probability(const myr_view *v, int32_t x, int32_t y) {
  const epidemic_params *p = (const epidemic_params *)v->params;
  double h;
  if (p->mixing == EPIDEMIC_MIXING_WELL_MIXED) {
    h = p->beta_dt * epidemic_prevalence(v);
  } else {
    int64_t n = epidemic_local_infectious(v, x, y);
    if (n == 0) return 0.0;
    if (p->neg_log1mp > 1e300) return 1.0; /* p_contact = 1 */
    h = (double)n * p->inv_sync * p->neg_log1mp;
  }
  return epidemic_one_minus_exp_neg(h);
}

/* act, in order:
 *   1. move: the decided move, unless the agent is dead, or a lockdown is on (published
 *      prevalence > lockdown_threshold > 0) and a draw < mobility_reduction suppresses it;
 *   2. disease: S is vaccinated (-> R) with the per-step vaccination probability, else
 *      infected (-> E, with a gamma incubation period) with the probability from the
 *      published world at the new cell; E counts down and becomes I (gamma infectious
 *      period); I counts down and becomes D with probability fatality, else R;
 *   3. an agent infectious after 2 adds 1 to `infectious` on its cell.
 * Draws: three uniforms from the ACT stream always (lockdown, vaccination, infection), one
 * from it for the fatality draw when an I period ends; gamma periods from the DURATION
 * stream. Flows: infected, onset, recovered, died, vaccinated, infectious agent-steps, moves
 * suppressed by a lockdown. */
MYR_HD static inline void epidemic_act(const myr_view *v, int64_t i, int64_t *flow) {
  const epidemic_params *p = (const epidemic_params *)v->params;
  uint8_t *state = MYR_COL(v, EPIDEMIC_STATE, uint8_t);
  int32_t *timer = MYR_COL(v, EPIDEMIC_TIMER, int32_t);
  int s = state[i];
  if (s == EPIDEMIC_D) return;
  int32_t *xs = MYR_COL(v, EPIDEMIC_X, int32_t), *ys = MYR_COL(v, EPIDEMIC_Y, int32_t);
  myr_rng r = myr_rng_make(v->seed, v->id[i], v->step, MYR_RNG_ACT);
  double u_lock = myr_rng_uniform_double(&r), u_vacc = myr_rng_uniform_double(&r);
  double u_inf = myr_rng_uniform_double(&r);
  int32_t x = xs[i], y = ys[i];
  int a = v->action[i];
  if (a != 0) {
    if (p->lockdown_threshold > 0.0 && u_lock < p->mobility_reduction &&
        epidemic_prevalence(v) > p->lockdown_threshold) {
      flow[EPIDEMIC_FLOW_LOCKED_MOVES] += 1;
    } else {
      x = myr_fold(x + myr_move_dx(a), v->width, v->wrap);
      y = myr_fold(y + myr_move_dy(a), v->height, v->wrap);
      xs[i] = x;
      ys[i] = y;
    }
  }
  if (s == EPIDEMIC_S) {
    if (u_vacc < p->vaccinate_step) {
      state[i] = EPIDEMIC_R;
      flow[EPIDEMIC_FLOW_VACCINATED] += 1;
    } else if (u_inf < epidemic_infection_probability(v, x, y)) {
      myr_rng d = myr_rng_make(v->seed, v->id[i], v->step, EPIDEMIC_RNG_DURATION);
      state[i] = EPIDEMIC_E;
      timer[i] = epidemic_duration(&d, p->incubation_mean, p->incubation_shape, p->steps_per_day);
      flow[EPIDEMIC_FLOW_INFECTED] += 1;
    }
    return;
  }
  if (s == EPIDEMIC_E) {
    if (--timer[i] > 0) return;
    myr_rng d = myr_rng_make(v->seed, v->id[i], v->step, EPIDEMIC_RNG_DURATION);
    state[i] = EPIDEMIC_I;
    timer[i] = epidemic_duration(&d, p->infectious_mean, p->infectious_shape, p->steps_per_day);
    flow[EPIDEMIC_FLOW_ONSET] += 1;
  } else if (s == EPIDEMIC_I) {
    if (--timer[i] <= 0) {
      timer[i] = 0;
      if (myr_rng_uniform_double(&r) < p->fatality) {
        state[i] = EPIDEMIC_D;
        flow[EPIDEMIC_FLOW_DIED] += 1;
      } else {
        state[i] = EPIDEMIC_R;
        flow[EPIDEMIC_FLOW_RECOVERED] += 1;
      }
      return;
    }
  } else {
    return; /* R */
  }
  /* infectious now */
  epidemic_add_i32(&MYR_LAYER(v, EPIDEMIC_INFECTIOUS, int32_t)[myr_cell(v, x, y)], 1);
  flow[EPIDEMIC_FLOW_INFECTIOUS_STEPS] += 1;
}

/* sync_cells_end: publish the window's per-cell counts (contacts = infectious) and clear the
 * transient layer. (The world-wide counts are the engine's published flows.) */
MYR_HD static inline void epidemic_sync_cell_end(const myr_view *v, int64_t c, int64_t *flow) {
  (void)flow;
  int32_t *inf = MYR_LAYER(v, EPIDEMIC_INFECTIOUS, int32_t), *contacts = MYR_LAYER(v, EPIDEMIC_CONTACTS, int32_t);
  int32_t n = inf[c];
  if (contacts[c] != n) contacts[c] = n;
  if (n) inf[c] = 0;
}

/* Observation row (9 floats in [0, 1]): the state one-hot (5), 1 in the activity part of the
 * day, 1 when on the current target cell, the local published infectious count n as
 * n / (1 + n), and the published prevalence. */
MYR_HD static inline void epidemic_features(const myr_view *v, int64_t i, float *out) {
  const epidemic_params *p = (const epidemic_params *)v->params;
  int s = MYR_COL(v, EPIDEMIC_STATE, uint8_t)[i];
  for (int k = 0; k < EPIDEMIC_STATES; k++) out[k] = s == k ? 1.0f : 0.0f;
  int at_act = epidemic_activity_time(p, v->step);
  int32_t x = MYR_COL(v, EPIDEMIC_X, int32_t)[i], y = MYR_COL(v, EPIDEMIC_Y, int32_t)[i];
  int32_t tx = MYR_COL(v, at_act ? EPIDEMIC_ACT_X : EPIDEMIC_HOME_X, int32_t)[i];
  int32_t ty = MYR_COL(v, at_act ? EPIDEMIC_ACT_Y : EPIDEMIC_HOME_Y, int32_t)[i];
  float n = (float)epidemic_local_infectious(v, x, y);
  out[5] = at_act ? 1.0f : 0.0f;
  out[6] = (x == tx && y == ty) ? 1.0f : 0.0f;
  out[7] = n / (1.0f + n);
  out[8] = (float)epidemic_prevalence(v);
}

/* Level accumulators: one count per state. */
MYR_HD static inline void epidemic_agent_stats(const myr_view *v, int64_t i, int64_t *acc) {
  acc[MYR_COL(v, EPIDEMIC_STATE, uint8_t)[i]] += 1;
}

#endif
