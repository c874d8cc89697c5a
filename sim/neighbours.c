/* Neighbour snapshots on the CPU backend (sim/neighbours.h): the bin layout shared with the
 * CUDA publisher, the checks made before publishing, and a parallel counting sort.
 *
 * Publishing: each agent's cell (OpenMP over agents); a histogram with relaxed atomic adds; an
 * exclusive scan; a scatter that takes places in each bin with atomic adds (so the order inside
 * a bin depends on the threads); then each bin sorted by agent id, which makes the result a
 * function of the agents alone; finally the published columns gathered in that order. Ghost
 * entries (spatial_parallel: other ranks' agents near the band, rows given by the partition)
 * go through the same steps as sources n, n + 1, ... after the n agent slots.
 * Owns: one myr_nbr_state per sim (sim->nbr), sized for agents.capacity + ghosts and the cells. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/neighbours.h"
#include "sim/sim.h"

struct myr_nbr_state {
  int64_t capacity, cells, room; /* agents.capacity it was sized for, bins, entries it holds */
  uint32_t *count, *start; /* cells, cells + 1 */
  uint32_t *cell, *slot;   /* per source (agent slot, then ghost) / per entry */
  uint64_t *id;
  uint64_t *source_id;     /* per source, when there are ghosts: the ids the bins are sorted by */
  const char *ghost_rows;  /* the partition's, until the next publish (myr_neighbours_ghosts) */
  int64_t ghost_n;
  int ghosts_given;        /* ghosts were given since the last publish */
  myr_nbr_pos *pos;
  float *col[MYR_NBR_MAX_COLUMNS];
  uint64_t published_step; /* the step whose window the snapshot belongs to */
  int published;
  myr_nbr_view view;
};

int myr_nbr_layout(const myr_nbr_space *sp, myr_nbr_view *out, char *why, int why_size) {
  memset(out, 0, sizeof *out);
  if (sp->dims != 2 && sp->dims != 3) {
    snprintf(why, (size_t)why_size, "dims is %d; expected 2 or 3", sp->dims);
    return 0;
  }
  if (!(sp->radius > 0.0f) || !isfinite(sp->radius)) {
    snprintf(why, (size_t)why_size, "interaction radius %g; expected a finite value > 0", (double)sp->radius);
    return 0;
  }
  int32_t k = sp->bins_per_radius > 0 ? sp->bins_per_radius : 1;
  if (k > 8) {
    snprintf(why, (size_t)why_size, "bins_per_radius %d; at most 8", (int)k);
    return 0;
  }
  out->dims = sp->dims;
  out->wrap = sp->wrap;
  float longest = 0.0f;
  int64_t cells = 1;
  for (int a = 0; a < 3; a++) {
    if (a >= sp->dims) {
      out->bins[a] = 1;
      out->extent[a] = 1.0f;
      out->inv_width[a] = 0.0f; /* every z in bin 0 */
      continue;
    }
    double e = sp->extent[a];
    if (!(e > 0.0) || !isfinite(e)) {
      snprintf(why, (size_t)why_size, "extent %g along axis %d; expected a finite value > 0", e, a);
      return 0;
    }
    /* Bins of radius / k; a wrapped axis takes the most that tile it and are at least that
     * wide, and needs extent >= 3 radius (with a margin for float rounding) for the nearest
     * image to be the only one within the radius. */
    double width = (double)sp->radius / k;
    double nb = sp->wrap ? floor(e / width) : ceil(e / width);
    if (nb < 1) nb = 1;
    if (sp->wrap && e < 3.0 * sp->radius * (1.0 + 4.8e-7 * (e / sp->radius + 1.0))) {
      snprintf(why, (size_t)why_size,
               "a wrapped axis needs an extent of at least 3 x radius: extent %g along axis %d, radius %g", e, a,
               (double)sp->radius);
      return 0;
    }
    if (nb > 1 << 30) {
      snprintf(why, (size_t)why_size, "extent %g / radius %g gives too many bins", e, (double)sp->radius);
      return 0;
    }
    out->bins[a] = (int32_t)nb;
    out->extent[a] = (float)e;
    /* Closed: bins of `width` from 0 (the last may reach past the extent); wrapped: nb bins
     * tile the extent exactly. */
    out->inv_width[a] = sp->wrap ? (float)(nb / e) : (float)(1.0 / width);
    cells *= (int64_t)nb;
    if (out->extent[a] > longest) longest = out->extent[a];
  }
  /* A coordinate c and c +- radius carry float rounding of about 2^-24 of the coordinate and
   * of the radius: a margin far above it keeps every point within the radius inside the span. */
  out->reach = (float)((double)sp->radius * (1.0 + 0x1p-16) + (double)longest * 0x1p-20);
  if (cells >= (int64_t)1 << 31) {
    snprintf(why, (size_t)why_size, "%lld bins; at most 2^31 - 1", (long long)cells);
    return 0;
  }
  return 1;
}

myr_status myr_nbr_room(int64_t capacity, int64_t ghosts, int64_t *room, myr_error *err) {
  *room = capacity + (ghosts > 0 ? ghosts + ghosts / 2 : 0);
  if (*room >= (int64_t)UINT32_MAX)
    return myr_fail(err, MYR_ERR_CONFIG,
                    "neighbour queries index entries with 32 bits: %lld agent slots and %lld ghosts are too many",
                    (long long)capacity, (long long)ghosts);
  return MYR_OK;
}

myr_status myr_neighbours_check(const myr_sim *sim, myr_nbr_space *sp, myr_error *err) {
  const myr_model *m = sim->model;
  if (sim->rank && sim->rank->count > 1 && sim->cfg->strategy != MYR_STRATEGY_SPATIAL_PARALLEL)
    return myr_fail(err, MYR_ERR_CONFIG,
                    "model %s needs neighbour queries, which run on several ranks only under "
                    "distributed.strategy: spatial_parallel (this team of %d ranks is data_parallel)",
                    m->name, sim->rank->count);
  if ((m->nbr_dims != 2 && m->nbr_dims != 3) || !m->nbr_columns || m->nbr_n_columns < m->nbr_dims ||
      m->nbr_n_columns > MYR_NBR_MAX_COLUMNS || !m->nbr_space)
    return myr_fail(err, MYR_ERR_MODEL,
                    "model %s: neighbour queries need nbr_dims 2 or 3, nbr_space, and nbr_dims to %d nbr_columns",
                    m->name, MYR_NBR_MAX_COLUMNS);
  for (int k = 0; k < m->nbr_n_columns; k++) {
    int c = m->nbr_columns[k];
    if (c < 0 || c >= m->n_columns || m->columns[c].type != MYR_F32 || m->columns[c].components != 1)
      return myr_fail(err, MYR_ERR_MODEL, "model %s: nbr_columns[%d] must name an f32 column of one component",
                      m->name, k);
  }
  if (sim->agents.capacity >= (int64_t)UINT32_MAX)
    return myr_fail(err, MYR_ERR_CONFIG, "neighbour queries index agents with 32 bits: agents.capacity %lld is too large",
                    (long long)sim->agents.capacity);
  memset(sp, 0, sizeof *sp);
  m->nbr_space(sim->params, sp);
  sp->dims = m->nbr_dims;
  myr_nbr_view probe;
  char why[256];
  if (!myr_nbr_layout(sp, &probe, why, (int)sizeof why))
    return myr_fail(err, MYR_ERR_MODEL, "model %s: its space cannot be binned for neighbour queries: %s", m->name, why);
  return MYR_OK;
}

static void free_arrays(struct myr_nbr_state *s) {
  free(s->count);
  free(s->start);
  free(s->cell);
  free(s->slot);
  free(s->id);
  free(s->source_id);
  free(s->pos);
  for (int k = 0; k < MYR_NBR_MAX_COLUMNS; k++) free(s->col[k]);
  s->count = s->start = s->cell = s->slot = NULL;
  s->id = s->source_id = NULL;
  s->pos = NULL;
  for (int k = 0; k < MYR_NBR_MAX_COLUMNS; k++) s->col[k] = NULL;
  s->capacity = s->cells = s->room = 0;
  s->published = 0;
}

void myr_neighbours_free(myr_sim *sim) {
  struct myr_nbr_state *s = sim->nbr;
  if (!s) return;
  free_arrays(s);
  free(s);
  sim->nbr = NULL;
}

/* sim's state, made (empty) on first use. */
static struct myr_nbr_state *state_of(myr_sim *sim) {
  if (!sim->nbr) sim->nbr = calloc(1, sizeof(struct myr_nbr_state));
  return sim->nbr;
}

myr_status myr_neighbours_ghosts(myr_sim *sim, const void *rows, int64_t n, myr_error *err) {
  struct myr_nbr_state *s = state_of(sim);
  if (!s) return myr_fail(err, MYR_ERR_NOMEM, "cannot allocate the neighbour snapshot");
  s->ghost_rows = (const char *)rows;
  s->ghost_n = n;
  s->ghosts_given = 1;
  return MYR_OK;
}

/* Arrays for the bins and for agents.capacity + `ghosts` entries; kept while they suffice (a
 * team's ghost count changes every window: grown with room to spare). */
static myr_status state_for(myr_sim *sim, const myr_nbr_view *layout, int64_t ghosts, struct myr_nbr_state **out,
                            myr_error *err) {
  int64_t cells = (int64_t)layout->bins[0] * layout->bins[1] * layout->bins[2], cap = sim->agents.capacity;
  struct myr_nbr_state *s = state_of(sim);
  if (!s) return myr_fail(err, MYR_ERR_NOMEM, "cannot allocate the neighbour snapshot");
  *out = s;
  if (s->capacity == cap && s->cells == cells && s->room >= cap + ghosts && (ghosts == 0 || s->source_id))
    return MYR_OK;
  free_arrays(s);
  int64_t room;
  myr_status st = myr_nbr_room(cap, ghosts, &room, err);
  if (st != MYR_OK) return st;
  s->capacity = cap;
  s->cells = cells;
  s->room = room;
  size_t c = (size_t)(room ? room : 1);
  s->count = calloc((size_t)cells, sizeof *s->count);
  s->start = calloc((size_t)cells + 1, sizeof *s->start);
  s->cell = malloc(c * sizeof *s->cell);
  s->slot = malloc(c * sizeof *s->slot);
  s->id = malloc(c * sizeof *s->id);
  s->source_id = ghosts > 0 ? malloc(c * sizeof *s->source_id) : NULL;
  s->pos = aligned_alloc(16, c * sizeof *s->pos);
  int ok = s->count && s->start && s->cell && s->slot && s->id && s->pos && (ghosts == 0 || s->source_id);
  for (int k = 0; k < sim->model->nbr_n_columns && ok; k++) ok = (s->col[k] = malloc(c * sizeof(float))) != NULL;
  if (!ok) {
    free_arrays(s);
    return myr_fail(err, MYR_ERR_NOMEM, "cannot allocate the neighbour snapshot for %lld entries and %lld bins",
                    (long long)room, (long long)cells);
  }
  return MYR_OK;
}

/* Ghost j's id and columns (a row of myr_nbr_ghost_row_bytes). */
static uint64_t ghost_id(const char *row) {
  uint64_t id;
  memcpy(&id, row, sizeof id);
  return id;
}
static float ghost_col(const char *row, int k) {
  float f;
  memcpy(&f, row + 8 + 4 * k, sizeof f);
  return f;
}

static myr_status publish(myr_sim *sim, const myr_view *v, myr_error *err) {
  myr_nbr_space sp;
  myr_status st = myr_neighbours_check(sim, &sp, err);
  if (st != MYR_OK) return st;
  myr_nbr_view lay;
  char why[256];
  myr_nbr_layout(&sp, &lay, why, (int)sizeof why); /* checked above */
  const myr_model *m = sim->model;
  int nc = m->nbr_n_columns;
  struct myr_nbr_state *s = sim->nbr;
  int64_t g = 0; /* ghosts: sources n .. n + g - 1 */
  const char *ghosts = NULL;
  size_t gb = (size_t)myr_nbr_ghost_row_bytes(nc);
  if (sim->rank && sim->rank->count > 1) { /* spatial_parallel (checked): the partition's ghosts */
    if (!s || !s->ghosts_given)
      return myr_fail(err, MYR_ERR_INTERNAL, "rank %d, step %llu: no ghost entries were given for this snapshot",
                      sim->rank->index, (unsigned long long)v->step);
    g = s->ghost_n;
    ghosts = s->ghost_rows;
  }
  if ((st = state_for(sim, &lay, g, &s, err)) != MYR_OK) return st;
  const float *px = v->col[m->nbr_columns[0]], *py = v->col[m->nbr_columns[1]];
  const float *pz = m->nbr_dims == 3 ? (const float *)v->col[m->nbr_columns[2]] : NULL;
  int64_t n = v->n, cells = s->cells;
  memset(s->count, 0, (size_t)cells * sizeof *s->count);
#pragma omp parallel for schedule(static) num_threads(sim->threads)
  for (int64_t i = 0; i < n + g; i++) {
    uint32_t c;
    if (i < n) {
      if (!v->alive[i]) continue;
      c = (uint32_t)myr_nbr_cell(&lay, px[i], py[i], pz ? pz[i] : 0.0f);
    } else {
      const char *row = ghosts + (size_t)(i - n) * gb;
      c = (uint32_t)myr_nbr_cell(&lay, ghost_col(row, 0), ghost_col(row, 1), pz ? ghost_col(row, 2) : 0.0f);
    }
    s->cell[i] = c;
    __atomic_fetch_add(&s->count[c], 1u, __ATOMIC_RELAXED);
  }
  uint32_t total = 0;
  for (int64_t c = 0; c < cells; c++) {
    s->start[c] = total;
    total += s->count[c];
    s->count[c] = 0; /* now the fill cursor of the scatter */
  }
  s->start[cells] = total;
#pragma omp parallel for schedule(static) num_threads(sim->threads)
  for (int64_t i = 0; i < n + g; i++) {
    if (i < n && !v->alive[i]) continue;
    uint32_t c = s->cell[i];
    s->slot[s->start[c] + __atomic_fetch_add(&s->count[c], 1u, __ATOMIC_RELAXED)] = (uint32_t)i;
  }
  const uint64_t *source_id = v->id; /* the ids the bins are sorted by, per source */
  if (g > 0) {
#pragma omp parallel for schedule(static) num_threads(sim->threads)
    for (int64_t i = 0; i < n + g; i++)
      s->source_id[i] = i < n ? v->id[i] : ghost_id(ghosts + (size_t)(i - n) * gb);
    source_id = s->source_id;
  }
#pragma omp parallel for schedule(dynamic, 1024) num_threads(sim->threads)
  for (int64_t c = 0; c < cells; c++) myr_nbr_sort_bin(s->slot, source_id, s->start[c], s->start[c + 1]);
#pragma omp parallel for schedule(static) num_threads(sim->threads)
  for (int64_t e = 0; e < (int64_t)total; e++) {
    uint32_t i = s->slot[e];
    float c[MYR_NBR_MAX_COLUMNS] = {0};
    if (i < n) {
      s->id[e] = v->id[i];
      for (int k = 0; k < nc; k++) c[k] = ((const float *)v->col[m->nbr_columns[k]])[i];
    } else { /* a ghost: no slot here */
      const char *row = ghosts + (size_t)(i - n) * gb;
      s->id[e] = ghost_id(row);
      for (int k = 0; k < nc; k++) c[k] = ghost_col(row, k);
      s->slot[e] = UINT32_MAX;
    }
    for (int k = 0; k < nc; k++) s->col[k][e] = c[k];
    s->pos[e] = (myr_nbr_pos){c[0], c[1], pz ? c[2] : 0.0f, 0.0f};
  }
  s->view = lay;
  s->view.n = total;
  s->view.ghosts = g;
  s->view.start = s->start;
  s->view.id = s->id;
  s->view.slot = s->slot;
  s->view.pos = s->pos;
  for (int k = 0; k < nc; k++) s->view.col[k] = s->col[k];
  s->published = 1;
  s->published_step = v->step;
  s->ghosts_given = 0;
  return MYR_OK;
}

myr_status myr_neighbours_view(myr_sim *sim, myr_view *v, myr_error *err) {
  if (sim->model->nbr_dims == 0) return MYR_OK;
  struct myr_nbr_state *s = sim->nbr;
  /* Due at a window's first step; also when nothing is published yet (first step, a resumed
   * run) or the snapshot is from another window (steps replayed after a load). */
  uint64_t window_first = v->step - (uint64_t)v->window_step;
  if (!s || !s->published || v->window_step == 0 || s->published_step < window_first ||
      s->published_step > v->step) {
    myr_status st = publish(sim, v, err);
    if (st != MYR_OK) return st;
    s = sim->nbr;
  }
  v->nbr = s->view;
  return MYR_OK;
}
