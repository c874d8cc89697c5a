/* spatial_parallel on the host transport (spatial.h). Every exchange pulls: a rank reads the
 * other ranks' rows (or agents, for ghosts) between two barriers and writes only its own
 * memory. */
#include "partition/spatial.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "partition/spatial_internal.h" /* halo lists, row helpers, layer picks, boxes */
#include "sim/sim_internal.h"

int myr_spatial_halo_rows(const myr_spatial *sp, int r, const int32_t **rows) {
  const halo_rows *h = &halos_of(sp)[r];
  *rows = h->rows;
  return h->n;
}

int myr_spatial_owner(const myr_spatial *sp, int32_t y) {
  int lo = 0, hi = sp->size - 1;
  while (lo < hi) { /* the last rank whose first row is <= y */
    int mid = (lo + hi + 1) / 2;
    if (sp->row0[mid] <= y) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

static int cmp_row(const void *a, const void *b) {
  int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
  return (x > y) - (x < y);
}

/* The rows within `halo` of rank r's band that another rank owns (wrapped on a torus), into
 * h->rows (room for 2 x halo rows). */
static void find_halo(const myr_spatial *sp, int r, halo_rows *h) {
  int n = 0;
  for (int32_t d = 1; d <= sp->halo; d++) {
    int32_t near[2] = {sp->row0[r] - d, sp->row0[r + 1] - 1 + d}; /* below and above the band */
    for (int k = 0; k < 2; k++) {
      int32_t y = sp->wrap ? (near[k] % sp->height + sp->height) % sp->height : near[k];
      if (y >= 0 && y < sp->height && myr_spatial_owner(sp, y) != r) h->rows[n++] = y;
    }
  }
  qsort(h->rows, (size_t)n, sizeof *h->rows, cmp_row);
  h->n = 0;
  for (int k = 0; k < n; k++)
    if (h->n == 0 || h->rows[h->n - 1] != h->rows[k]) h->rows[h->n++] = h->rows[k];
}

/* Which rows lie in each rank's halo (rows are neighbour bins: ghosts are picked by it). */
static void mark_halos(myr_spatial *sp) {
  memset(sp->in_halo, 0, (size_t)sp->size * (size_t)sp->height);
  for (int r = 0; r < sp->size; r++) {
    const int32_t *rows;
    int n = myr_spatial_halo_rows(sp, r, &rows);
    for (int k = 0; k < n; k++) sp->in_halo[(size_t)r * (size_t)sp->height + (size_t)rows[k]] = 1;
  }
}

void myr_spatial_set_bands(myr_spatial *sp, const int32_t *row0) {
  memcpy(sp->row0, row0, sizeof(int32_t) * (size_t)(sp->size + 1));
  halo_rows *h = halos_of(sp);
  for (int r = 0; r < sp->size; r++) find_halo(sp, r, &h[r]);
  if (sp->in_halo) mark_halos(sp);
}

myr_status myr_spatial_init(myr_spatial *sp, int size, const int32_t *row0, int32_t width, int32_t height,
                            int32_t wrap, int32_t halo, myr_error *err) {
  memset(sp, 0, sizeof *sp);
  myr_status s = myr_host_team_init(&sp->host, size, err);
  if (s != MYR_OK) return s;
  sp->size = size;
  sp->width = width, sp->height = height, sp->wrap = wrap, sp->halo = halo;
  /* row0 [size + 1], then the halo lists [size] */
  sp->row0 = calloc(1, sizeof(int32_t) * (size_t)(size + 1) + sizeof(halo_rows) * (size_t)size + 16);
  sp->sims = calloc((size_t)size, sizeof *sp->sims);
  sp->boxes = calloc((size_t)size * (size_t)size, sizeof *sp->boxes);
  sp->moves = calloc((size_t)size * (size_t)size, sizeof *sp->moves);
  if (!sp->row0 || !sp->sims || !sp->boxes || !sp->moves) return myr_fail(err, MYR_ERR_NOMEM, "cannot allocate the spatial team");
  halo_rows *h = halos_of(sp);
  for (int r = 0; r < size; r++)
    if (!(h[r].rows = malloc(sizeof(int32_t) * (size_t)(2 * halo + 1))))
      return myr_fail(err, MYR_ERR_NOMEM, "cannot allocate the halo of rank %d", r);
  myr_spatial_set_bands(sp, row0);
  return MYR_OK;
}

myr_status myr_spatial_use_bins(myr_spatial *sp, const myr_nbr_view *layout, const myr_model *m, myr_error *err) {
  sp->by_bins = 1;
  sp->bins = *layout;
  sp->ycol = m->nbr_columns[1];
  sp->n_cols = m->nbr_n_columns;
  for (int k = 0; k < m->nbr_n_columns; k++) sp->cols[k] = m->nbr_columns[k];
  sp->in_halo = calloc((size_t)sp->size * (size_t)sp->height, 1);
  sp->ghosts = calloc((size_t)sp->size, sizeof *sp->ghosts);
  sp->ghost_counts = calloc((size_t)sp->size * (size_t)sp->size, sizeof *sp->ghost_counts);
  if (!sp->in_halo || !sp->ghosts || !sp->ghost_counts) return myr_fail(err, MYR_ERR_NOMEM, "cannot allocate the ghosts");
  mark_halos(sp);
  return MYR_OK;
}

int32_t myr_spatial_row_of(const myr_spatial *sp, const myr_sim *sim, int64_t i) {
  if (sp->by_bins) return myr_nbr_bin(&sp->bins, 1, ((const float *)sim->agents.col[sp->ycol])[i]);
  const myr_model *m = sim->model;
  const int *pos = m->position_columns ? m->position_columns : m->cell_columns;
  return ((const int32_t *)sim->agents.col[pos[1]])[i];
}

void myr_spatial_free(myr_spatial *sp) {
  for (int r = 0; sp->ghosts && r < sp->size; r++) free(sp->ghosts[r].data);
  free(sp->ghosts);
  free(sp->in_halo);
  free(sp->ghost_counts);
  free(sp->mpi_out.data);
  free(sp->mpi_in.data);
  if (sp->row0) {
    halo_rows *h = halos_of(sp);
    for (int r = 0; r < sp->size; r++) free(h[r].rows);
  }
  for (int b = 0; sp->boxes && b < sp->size * sp->size; b++) free(sp->boxes[b].data);
  free(sp->boxes);
  free(sp->moves);
  free(sp->sims);
  free(sp->row0);
  myr_host_team_free(&sp->host);
  memset(sp, 0, sizeof *sp);
}

/* ---- layers -------------------------------------------------------------------------------- */

/* What other ranks wrote into their halo rows that rank r owns, added into r's rows. */
static void pull_sums(myr_spatial *sp, myr_rank *r, myr_sim *sim, int point) {
  const myr_model *m = sim->model;
  halo_rows *h = halos_of(sp);
  for (int q = 0; q < sp->size; q++) {
    if (q == r->index) continue;
    for (int k = 0; k < h[q].n; k++) {
      int32_t y = h[q].rows[k];
      if (myr_spatial_owner(sp, y) != r->index) continue;
      for (int l = 0; l < m->n_layers; l++) {
        if (!transient_of(m, l, point)) continue;
        size_t es = myr_type_size(m->layers[l].type);
        add_row(row_of(sp, sim, l, y), row_of(sp, sp->sims[q], l, y), sp->width, es);
        r->bytes_moved += (double)sp->width * (double)es;
      }
    }
  }
}

/* Rank r's halo rows copied from their owners. */
static void pull_copies(myr_spatial *sp, myr_rank *r, myr_sim *sim, layer_pick pick, int point) {
  const myr_model *m = sim->model;
  const halo_rows *h = &halos_of(sp)[r->index];
  for (int k = 0; k < h->n; k++) {
    int32_t y = h->rows[k];
    const myr_sim *owner = sp->sims[myr_spatial_owner(sp, y)];
    for (int l = 0; l < m->n_layers; l++) {
      if (!pick(m, l, point)) continue;
      size_t es = myr_type_size(m->layers[l].type);
      memcpy(row_of(sp, sim, l, y), row_of(sp, owner, l, y), (size_t)sp->width * es);
      r->bytes_moved += (double)sp->width * (double)es;
    }
  }
}

static myr_status barrier(myr_spatial *sp, myr_rank *r, myr_error *err) {
  if (myr_host_barrier(&sp->host) == 0) return MYR_OK;
  return myr_fail(err, MYR_ERR_INTERNAL, "rank %d stopped: rank %d failed", r->index, sp->host.abort_rank);
}

myr_status myr_spatial_sync(myr_rank *r, myr_sim *sim, const myr_view *v, int point, void *stream, myr_error *err) {
  (void)v, (void)stream;
  myr_spatial *sp = (myr_spatial *)r->team;
  if (sim->model->n_layers == 0) return MYR_OK; /* no grid to keep current */
  double t0 = omp_get_wtime();
  myr_status s = barrier(sp, r, err); /* every rank has finished the phase before */
  if (s != MYR_OK) return s;
  switch (point) {
  case MYR_SYNC_AFTER_ACT:
  case MYR_SYNC_AFTER_AGENTS:
    pull_sums(sp, r, sim, point);
    if ((s = barrier(sp, r, err)) != MYR_OK) return s; /* nobody reads a halo any more */
    clear_halo(sp, r->index, sim, transient_of, point);
    break;
  case MYR_SYNC_AFTER_CELLS_BEGIN:
    pull_copies(sp, r, sim, any_layer, point);
    break;
  case MYR_SYNC_AFTER_CELLS_END:
    clear_halo(sp, r->index, sim, any_transient, point);
    pull_copies(sp, r, sim, persistent, point);
    break;
  }
  s = barrier(sp, r, err); /* nobody changes a row another rank is still reading */
  r->seconds_comm += omp_get_wtime() - t0;
  return s;
}

/* ---- agents -------------------------------------------------------------------------------- */

/* Rank me's ghosts: every other rank's agents standing in its halo, as rows (id, published
 * columns) in its own box, handed to its next snapshot. Reads the others' agents: call
 * between two barriers, after every migration has landed. */
static myr_status collect_ghosts(myr_spatial *sp, myr_rank *r, myr_sim *sim, myr_error *err) {
  int me = r->index;
  myr_spatial_box *b = &sp->ghosts[me];
  const uint8_t *mine = sp->in_halo + (size_t)me * (size_t)sp->height;
  size_t gb = (size_t)myr_nbr_ghost_row_bytes(sp->n_cols);
  b->used = 0;
  for (int q = 0; q < sp->size; q++) {
    const myr_sim *o = sp->sims[q];
    if (q == me) continue;
    for (int64_t i = 0; i < o->agents.n; i++) {
      if (!o->agents.alive[i] || !mine[myr_spatial_row_of(sp, o, i)]) continue;
      char *at = box_room(b, gb);
      if (!at) return myr_fail(err, MYR_ERR_NOMEM, "rank %d: cannot hold its ghosts", me);
      ghost_row(sp, o, i, at);
      b->used += gb;
    }
  }
  r->bytes_moved += (double)b->used;
  return myr_neighbours_ghosts(sim, b->data, (int64_t)(b->used / gb), err);
}

myr_status myr_spatial_migrate(myr_rank *r, myr_sim *sim, myr_error *err) {
  myr_spatial *sp = (myr_spatial *)r->team;
  double t0 = omp_get_wtime();
  myr_agents *a = &sim->agents;
  size_t row = myr_sim_agent_row_bytes(sim);
  int me = r->index, failed = 0;
  int64_t leaving = 0;
  for (int q = 0; q < sp->size; q++) sp->boxes[me * sp->size + q].used = 0;
  for (int64_t i = 0; i < a->n; i++) {
    if (!a->alive[i]) continue;
    int q = myr_spatial_owner(sp, myr_spatial_row_of(sp, sim, i));
    if (q == me) continue;
    if (!box_append(&sp->boxes[me * sp->size + q], sim, i, row)) failed = 1;
    a->alive[i] = 0;
    leaving++;
  }
  if (leaving > 0) myr__sim_compact(sim);
  myr_status s = failed ? myr_fail(err, MYR_ERR_NOMEM, "rank %d: cannot hold the agents leaving it", me) : MYR_OK;
  if (s != MYR_OK) myr_host_abort(&sp->host, me);
  if (s == MYR_OK) s = barrier(sp, r, err); /* every box is filled */
  int64_t arriving = 0;
  for (int q = 0; q < sp->size && s == MYR_OK; q++) arriving += (int64_t)(sp->boxes[q * sp->size + me].used / row);
  if (s == MYR_OK && a->n + arriving > a->capacity) {
    s = myr_fail(err, MYR_ERR_CAPACITY,
                 "step %llu: rank %d would hold %lld agents but has %lld slots; raise agents.capacity",
                 (unsigned long long)sim->step, me, (long long)(a->n + arriving), (long long)a->capacity);
    myr_host_abort(&sp->host, me);
  }
  for (int q = 0; q < sp->size && s == MYR_OK; q++) {
    const myr_spatial_box *b = &sp->boxes[q * sp->size + me];
    for (size_t at = 0; at < b->used; at += row) myr_sim_append_agent_row(sim, b->data + at);
    r->bytes_moved += (double)b->used;
  }
  if (s == MYR_OK) s = barrier(sp, r, err); /* every box is read before the next fill */
  if (s == MYR_OK && sp->by_bins) {
    s = collect_ghosts(sp, r, sim, err);
    if (s != MYR_OK) myr_host_abort(&sp->host, me);
    else s = barrier(sp, r, err); /* nobody moves an agent another rank is still copying */
  }
  r->seconds_comm += omp_get_wtime() - t0;
  return s;
}

/* ---- balance dynamic: moving the bands ------------------------------------------------------ */

void myr_spatial_count_rows(const myr_spatial *sp, const myr_sim *sim, int64_t *count) {
  const myr_agents *a = &sim->agents;
  for (int64_t i = 0; i < a->n; i++)
    if (a->alive[i]) count[myr_spatial_row_of(sp, sim, i)]++;
}

/* The rows of rank r's band that another rank owned under `old`, every layer, copied from it.
 * Nobody writes a row another rank takes: each writes only rows it did not own. */
static void take_rows(myr_spatial *sp, myr_rank *r, myr_sim *sim, const int32_t *old) {
  const myr_model *m = sim->model;
  for (int q = 0; q < sp->size; q++) {
    if (q == r->index) continue;
    int32_t y0, n = shared_rows(old, q, sp->row0, r->index, &y0);
    for (int32_t y = y0; y < y0 + n; y++)
      for (int l = 0; l < m->n_layers; l++) {
        size_t bytes = (size_t)sp->width * myr_type_size(m->layers[l].type);
        memcpy(row_of(sp, sim, l, y), row_of(sp, sp->sims[q], l, y), bytes);
        r->bytes_moved += (double)bytes;
      }
  }
}

myr_status myr_spatial_shift(myr_rank *r, myr_sim *sim, const int32_t *old_row0, myr_error *err) {
  double t0 = omp_get_wtime();
  take_rows((myr_spatial *)r->team, r, sim, old_row0);
  r->seconds_comm += omp_get_wtime() - t0;
  /* the halos as after a sync's last point (its first barrier: every row is taken) */
  myr_status s = myr_spatial_sync(r, sim, NULL, MYR_SYNC_AFTER_CELLS_END, NULL, err);
  return s == MYR_OK ? myr_spatial_migrate(r, sim, err) : s;
}
