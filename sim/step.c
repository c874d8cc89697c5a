/* One step of the CPU backend (DESIGN §1, models/model.h): decide, act, and at the end of a
 * sync window settle claims, deaths and births, compact, publish the team's flows. OpenMP
 * over fixed ranges; every per-agent result is independent of the thread count (integer
 * claims, randomness keyed by agent id), so hashes are identical for any number of threads. */
#include <omp.h>
#include <string.h>

#include "search/policy.h"
#include "sim/backend.h"
#include "sim/neighbours.h"
#include "sim/policy.h"
#include "sim/rng.h"
#include "sim/sim_internal.h"

#define RANGE 16384    /* agents or cells per work item, at most */
#define MIN_RANGE 256  /* and at least, so small runs still spread over every thread */

/* Results never depend on how ranges are cut (model.h); small runs are cut finer so that
 * tests with a few thousand agents really run on several threads. */
static int64_t range_size(const myr_sim *sim, int64_t n) {
  int64_t r = n / (4 * (int64_t)sim->threads);
  return r > RANGE ? RANGE : (r < MIN_RANGE ? MIN_RANGE : r);
}

void myr_parallel_ranges(const myr_sim *sim, const myr_view *v, myr_range_fn fn, int64_t n,
                         int n_flows, int64_t *flow_total) {
  if (n <= 0 || !fn) return;
  int64_t size = range_size(sim, n), items = (n + size - 1) / size;
#pragma omp parallel num_threads(sim->threads)
  {
    int64_t local[MYR_MAX_FLOWS] = {0};
#pragma omp for schedule(static)
    for (int64_t it = 0; it < items; it++) {
      int64_t flow[MYR_MAX_FLOWS] = {0};
      int64_t b = it * size, e = b + size < n ? b + size : n;
      fn(v, b, e, flow);
      for (int f = 0; f < n_flows; f++) local[f] += flow[f];
    }
    if (n_flows > 0) {
#pragma omp critical(myr_flows)
      for (int f = 0; f < n_flows; f++) flow_total[f] += local[f]; /* integers: order-free */
    }
  }
}

/* policy random: uniform over the legal actions, from the agent's DECIDE stream. */
static void decide_random(const myr_sim *sim, const myr_view *v) {
  const myr_model *m = sim->model;
#pragma omp parallel for schedule(static) num_threads(sim->threads)
  for (int64_t i = 0; i < v->n; i++) {
    if (!v->alive[i]) continue;
    uint8_t mask[MYR_MAX_ACTIONS];
    int legal = m->legal(v, i, mask);
    v->action[i] = (uint8_t)myr_random_action(v, i, mask, legal, m->n_actions);
  }
}

static myr_status decide(myr_sim *sim, const myr_view *v, myr_error *err) {
  int64_t unused[MYR_MAX_FLOWS];
  switch (sim->cfg->policy) {
  case MYR_POLICY_RANDOM: decide_random(sim, v); break;
  case MYR_POLICY_HEURISTIC: myr_parallel_ranges(sim, v, sim->model->heuristic, v->n, 0, unused); break;
  case MYR_POLICY_NETWORK:
  case MYR_POLICY_MCTS: {
    myr_status s = myr_search_decide(sim, v, err);
    return s == MYR_OK ? myr_search_train_observe(sim, v, err) : s; /* train.enabled: samples */
  }
  }
  return MYR_OK;
}

/* Deaths are the slots sync_agents turned dead (every slot is alive before a sync). */
static int64_t count_dead(const myr_sim *sim, const myr_view *v) {
  int64_t dead = 0;
#pragma omp parallel for schedule(static) reduction(+ : dead) num_threads(sim->threads)
  for (int64_t i = 0; i < v->n; i++) dead += !v->alive[i];
  return dead;
}

/* Appends the children asked for by sync_agents after the current slots, in slot order of
 * their parents (memory order only: ids are myr_child_id(parent, step)). */
static myr_status give_birth(myr_sim *sim, myr_view *v, int64_t *births, myr_error *err) {
  myr_agents *a = &sim->agents;
  int64_t n = a->n, wanted = 0;
#pragma omp parallel for schedule(static) reduction(+ : wanted) num_threads(sim->threads)
  for (int64_t i = 0; i < n; i++) wanted += a->alive[i] && a->children[i];
  *births = wanted;
  if (wanted == 0) return MYR_OK;
  if (n + wanted > a->capacity)
    return myr_fail(err, MYR_ERR_CAPACITY,
                    "step %llu: %lld births would need %lld agent slots but agents.capacity is %lld; "
                    "raise agents.capacity",
                    (unsigned long long)v->step, (long long)wanted, (long long)(n + wanted),
                    (long long)a->capacity);
  int64_t next = n;
  for (int64_t i = 0; i < n; i++) {
    if (!(a->alive[i] && a->children[i])) {
      a->children[i] = 0;
      continue;
    }
    a->children[i] = 0;
    int64_t child = next++;
    myr__sim_clear_slot(sim, child);
    a->id[child] = myr_child_id(a->id[i], v->step);
    a->alive[child] = 1;
    if (sim->model->birth) sim->model->birth(v, i, child);
  }
  a->n = next;
  v->n = next;
  return MYR_OK;
}

/* The team's part of a sync at `point` (no-op for a lone rank). */
static myr_status team_sync(myr_sim *sim, const myr_view *v, int point, myr_error *err) {
  return sim->rank ? sim->rank->sync_layers(sim->rank, sim, v, point, NULL, err) : MYR_OK;
}

/* A phase's flows go to the counts since the previous record (statistics) and to those of the
 * window in progress (published at its end). */
static void add_flows(myr_sim *sim, const int64_t *got) {
  for (int f = 0; f < sim->model->n_flows; f++) {
    sim->flow[f] += got[f];
    sim->flow_open[f] += got[f];
  }
}

/* fn over every agent slot, its flows counted. */
static void agent_ranges(myr_sim *sim, const myr_view *v, myr_range_fn fn) {
  int64_t got[MYR_MAX_FLOWS] = {0};
  myr_parallel_ranges(sim, v, fn, v->n, sim->model->n_flows, got);
  add_flows(sim, got);
}

/* Cell functions run over this rank's cells; when the grid is replicated every rank runs
 * them all and only the owner counts their flows. */
static void cell_ranges(myr_sim *sim, myr_view *v, myr_range_fn fn) {
  int64_t got[MYR_MAX_FLOWS] = {0};
  myr_parallel_cells(sim, v, fn, sim->model->n_flows, got);
  if (sim->owns_cells) add_flows(sim, got);
}

/* The end of a window: the team's flows of it, exact and the same on every rank, become
 * flows_window and are added to flows_total (what the next windows' agents read). */
static myr_status publish_flows(myr_sim *sim, myr_error *err) {
  int64_t window[MYR_MAX_FLOWS];
  memcpy(window, sim->flow_open, sizeof window);
  memset(sim->flow_open, 0, sizeof sim->flow_open);
  if (sim->rank && sim->rank->sum_flows) {
    myr_status s = sim->rank->sum_flows(sim->rank, sim, window, NULL, err);
    if (s != MYR_OK) return s;
  }
  memcpy(sim->flows_window, window, sizeof window);
  for (int f = 0; f < MYR_MAX_FLOWS; f++) sim->flows_total[f] += window[f];
  return MYR_OK;
}

/* fn over the cells [b, e) of this rank's own, counted row by row along its columns: one
 * call for whole rows (a contiguous range), else one per row the range touches. */
static void cells_in(const myr_sim *sim, const myr_view *v, myr_range_fn fn, int64_t b, int64_t e, int64_t *flow) {
  int64_t width = sim->grid.width, nx = sim->cells_nx, first = sim->cells_first;
  if (nx == width) {
    fn(v, first + b, first + e, flow);
    return;
  }
  for (int64_t k = b; k < e;) {
    int64_t row = k / nx, end = (row + 1) * nx < e ? (row + 1) * nx : e;
    int64_t at = first + row * width + sim->cells_x0 + (k - row * nx);
    fn(v, at, at + (end - k), flow);
    k = end;
  }
}

void myr_parallel_cells(const myr_sim *sim, const myr_view *v, myr_range_fn fn, int n_flows, int64_t *flow_total) {
  int64_t width = sim->grid.width, cells = sim->cells_nx == width ? sim->cells_n : sim->cells_n / width * sim->cells_nx;
  if (!fn || cells <= 0) return;
  int64_t size = range_size(sim, cells), items = (cells + size - 1) / size;
#pragma omp parallel num_threads(sim->threads)
  {
    int64_t local[MYR_MAX_FLOWS] = {0};
#pragma omp for schedule(static)
    for (int64_t it = 0; it < items; it++) {
      int64_t flow[MYR_MAX_FLOWS] = {0};
      int64_t b = it * size, e = b + size < cells ? b + size : cells;
      cells_in(sim, v, fn, b, e, flow);
      for (int f = 0; f < n_flows; f++) local[f] += flow[f];
    }
    if (n_flows > 0) {
#pragma omp critical(myr_flows)
      for (int f = 0; f < n_flows; f++) flow_total[f] += local[f]; /* integers: order-free */
    }
  }
}

/* ---- communication: async ------------------------------------------------------------------ */

int myr_sim_tile_part(const myr_sim *sim, int border, myr_cell_rect out[4]) {
  int64_t width = sim->grid.width, bx = sim->rank->border_x, by = sim->rank->border_y;
  myr_cell_rect t = {sim->cells_x0, sim->cells_nx, sim->cells_first / width, sim->cells_n / width};
  if (t.nx <= 2 * bx || t.ny <= 2 * by) { /* all border */
    if (!border) return 0;
    out[0] = t;
    return 1;
  }
  myr_cell_rect in = {t.x0 + bx, t.nx - 2 * bx, t.y0 + by, t.ny - 2 * by};
  if (!border) {
    out[0] = in;
    return 1;
  }
  myr_cell_rect strip[4] = {{t.x0, t.nx, t.y0, by}, {t.x0, t.nx, in.y0 + in.ny, by}, {t.x0, bx, in.y0, in.ny},
                            {in.x0 + in.nx, bx, in.y0, in.ny}};
  int n = 0;
  for (int k = 0; k < 4; k++)
    if (strip[k].nx > 0 && strip[k].ny > 0) out[n++] = strip[k];
  return n;
}

myr_cell_rect myr_sim_with_cells(myr_sim *sim, myr_cell_rect r) {
  int64_t width = sim->grid.width;
  myr_cell_rect was = {sim->cells_x0, sim->cells_nx, sim->cells_first / width, sim->cells_n / width};
  sim->cells_first = r.y0 * width;
  sim->cells_n = r.ny * width;
  sim->cells_x0 = (int32_t)r.x0;
  sim->cells_nx = (int32_t)r.nx;
  return was;
}

void myr_sim_restore_cells(myr_sim *sim, myr_cell_rect was) { (void)myr_sim_with_cells(sim, was); }

/* cell_ranges over one part of the rank's tile (myr_sim_tile_part). */
static void cell_part(myr_sim *sim, myr_view *v, myr_range_fn fn, int border) {
  if (!fn) return;
  myr_cell_rect r[4];
  int n = myr_sim_tile_part(sim, border, r);
  for (int k = 0; k < n; k++) {
    myr_cell_rect was = myr_sim_with_cells(sim, r[k]);
    cell_ranges(sim, v, fn);
    myr_sim_restore_cells(sim, was);
  }
}

/* A sync's exchange at `point` with the cell function `fn` that follows it: with
 * communication: async (spatial_parallel), fn runs first on the cells the exchange cannot
 * touch, before this rank waits for the others, then on the rest; the same cells get the same
 * values either way. */
static myr_status sync_then_cells(myr_sim *sim, myr_view *v, int point, myr_range_fn fn, int async, myr_error *err) {
  if (!async) {
    myr_status s = team_sync(sim, v, point, err);
    if (s == MYR_OK) cell_ranges(sim, v, fn);
    return s;
  }
  cell_part(sim, v, fn, 0);
  myr_status s = team_sync(sim, v, point, err);
  if (s == MYR_OK) cell_part(sim, v, fn, 1);
  return s;
}

/* Whether this sync goes on while its exchanges are in flight (communication: async, a rank of
 * a spatial_parallel team). */
static int sync_async(const myr_sim *sim) {
  return sim->cfg->communication == MYR_COMM_ASYNC && sim->rank && sim->rank->border_x >= 0;
}

static myr_status sync_window(myr_sim *sim, myr_view *v, myr_error *err) {
  const myr_model *m = sim->model;
  int async = sync_async(sim);
  myr_status s = sync_then_cells(sim, v, MYR_SYNC_AFTER_ACT, m->sync_cells_begin, async, err);
  if (s != MYR_OK) return s;
  if ((s = team_sync(sim, v, MYR_SYNC_AFTER_CELLS_BEGIN, err)) != MYR_OK) return s;
  agent_ranges(sim, v, m->sync_agents);
  /* births read no layer and compaction moves agents only (model.h), so both come before the
   * exchange that follows them: with async they go on while it is in flight */
  int64_t deaths = count_dead(sim, v), births = 0;
  if ((s = give_birth(sim, v, &births, err)) != MYR_OK) return s;
  if ((s = sync_then_cells(sim, v, MYR_SYNC_AFTER_AGENTS, m->sync_cells_end, async, err)) != MYR_OK) return s;
  if (deaths > 0) myr__sim_compact(sim);
  if ((s = team_sync(sim, v, MYR_SYNC_AFTER_CELLS_END, err)) != MYR_OK) return s;
  if (sim->rank && sim->rank->migrate && (s = sim->rank->migrate(sim->rank, sim, err)) != MYR_OK) return s;
  sim->births += births;
  sim->deaths += deaths;
  return publish_flows(sim, err);
}

int myr_sim_at_sync(const myr_sim *sim) {
  return sim->step > 0 && sim->step % (uint64_t)sim->cfg->sync_frequency == 0;
}

myr_status myr_sim_step(myr_sim *sim, myr_error *err) {
  if (sim->error.status != MYR_OK) {
    if (err) *err = sim->error;
    return sim->error.status;
  }
  if (sim->backend) {
    double t0 = omp_get_wtime();
    myr_status s = sim->backend->step(sim, err);
    sim->seconds_act += omp_get_wtime() - t0; /* device phases are not split on the host */
    return s == MYR_OK ? myr_search_train_after_step(sim, err) : s;
  }
  myr_view v = myr_sim_view(sim);
  double t0 = omp_get_wtime();
  myr_status ns = myr_neighbours_view(sim, &v, err); /* models with neighbour queries: v.nbr */
  if (ns != MYR_OK) return ns;
  myr_status ds = decide(sim, &v, err);
  if (ds != MYR_OK) return ds;
  double t1 = omp_get_wtime();
  agent_ranges(sim, &v, sim->model->act);
  double t2 = omp_get_wtime();
  sim->seconds_decide += t1 - t0;
  sim->seconds_act += t2 - t1;
  if (v.window_step == v.sync_frequency - 1) {
    myr_status s = sync_window(sim, &v, err);
    sim->seconds_sync += omp_get_wtime() - t2;
    if (s != MYR_OK) return s;
  }
  sim->step++;
  return myr_search_train_after_step(sim, err); /* train.enabled: updates when due */
}
