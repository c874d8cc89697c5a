/* spatial_parallel on the host transport (spatial.h), and the tiles' geometry both CPU
 * transports share: the bands of rows and columns, each rank's halo as spans. Every exchange
 * pulls: a rank reads the other ranks' cells (or agents, for ghosts) between two barriers and
 * writes only its own memory. */
#include "partition/spatial.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "partition/spatial_internal.h" /* halo lists, row helpers, layer picks, boxes */
#include "sim/sim_internal.h"

/* ---- the tiles --------------------------------------------------------------------------- */

int myr_spatial_halo_spans(const myr_spatial *sp, int r, const myr_spatial_span **spans) {
  const rank_halo *h = &halos_of(sp)[r];
  *spans = h->spans;
  return h->n;
}

int myr_spatial_owner_at(const myr_spatial *sp, int32_t x, int32_t y) {
  return sp->row_band[y] * sp->px + sp->col_band[x];
}

void myr_spatial_tile(const myr_spatial *sp, int r, int32_t *x0, int32_t *nx, int32_t *y0, int32_t *ny) {
  int rx = r % sp->px, ry = r / sp->px;
  *x0 = sp->col0[rx], *nx = sp->col0[rx + 1] - sp->col0[rx];
  *y0 = sp->row0[ry], *ny = sp->row0[ry + 1] - sp->row0[ry];
}

size_t myr_spatial_copy_tile(const myr_spatial *sp, int r, size_t es, const void *from, int from_packed, void *to,
                             int to_packed) {
  int32_t x0, nx, y0, ny;
  myr_spatial_tile(sp, r, &x0, &nx, &y0, &ny);
  size_t row = (size_t)nx * es;
  for (int32_t k = 0; k < ny; k++) {
    size_t in_grid = ((size_t)(y0 + k) * (size_t)sp->width + (size_t)x0) * es, in_tile = (size_t)k * row;
    memcpy((char *)to + (to_packed ? in_tile : in_grid), (const char *)from + (from_packed ? in_tile : in_grid), row);
  }
  return row * (size_t)ny;
}

/* band[v] = the band of cuts[0 .. bands] that holds v. */
static void mark_bands(int32_t *band, const int32_t *cuts, int bands) {
  for (int b = 0; b < bands; b++)
    for (int32_t v = cuts[b]; v < cuts[b + 1]; v++) band[v] = b;
}

/* near[v] = 1 for the v of [0, n) within `halo` of [lo, hi), its own included; wrapped on a
 * torus, else cut at the edges. */
static void mark_near(uint8_t *near, int32_t n, int32_t lo, int32_t hi, int32_t halo, int wrap) {
  int64_t from = (int64_t)lo - halo, to = (int64_t)hi + halo;
  memset(near, 0, (size_t)n);
  if (wrap && to - from >= n) from = 0, to = n;
  if (!wrap) from = from < 0 ? 0 : from, to = to > n ? n : to;
  for (int64_t v = from; v < to; v++) near[((v % n) + n) % n] = 1;
}

/* The columns near band rx of columns as pieces: runs of columns of one band (owner = that
 * band of columns), in column order; at most px + 1 (two runs where the near columns wrap, cut
 * at the px - 1 boundaries). */
static int column_pieces(const myr_spatial *sp, int rx, halo_span *out) {
  const uint8_t *near = sp->near_cols + (size_t)rx * (size_t)sp->width;
  int n = 0;
  for (int32_t x = 0; x < sp->width; x++) {
    if (!near[x]) continue;
    if (n > 0 && out[n - 1].x0 + out[n - 1].n == x && out[n - 1].owner == sp->col_band[x]) out[n - 1].n++;
    else out[n++] = (halo_span){0, x, 1, sp->col_band[x]};
  }
  return n;
}

/* Rank r's halo spans, in row order and column order within a row, into h (up to its room);
 * returns how many there are. A band's halo: the near rows others own, whole. */
static int find_halo(const myr_spatial *sp, int r, rank_halo *h) {
  halo_span piece[sp->px + 2];
  int pieces = column_pieces(sp, r % sp->px, piece), n = 0;
  const uint8_t *near = sp->near_rows + (size_t)(r / sp->px) * (size_t)sp->height;
  for (int32_t y = 0; y < sp->height; y++) {
    if (!near[y]) continue;
    for (int k = 0; k < pieces; k++) {
      int owner = sp->row_band[y] * sp->px + piece[k].owner;
      if (owner == r) continue;
      if (h && n < h->cap) h->spans[n] = (halo_span){y, piece[k].x0, piece[k].n, owner};
      n++;
    }
  }
  return n;
}

/* Every rank's halo spans for the present cuts; a list with too little room grows. */
static myr_status refresh_halos(myr_spatial *sp, myr_error *err) {
  mark_bands(sp->col_band, sp->col0, sp->px);
  for (int rx = 0; rx < sp->px; rx++)
    mark_near(sp->near_cols + (size_t)rx * (size_t)sp->width, sp->width, sp->col0[rx], sp->col0[rx + 1], sp->halo,
              sp->wrap);
  mark_bands(sp->row_band, sp->row0, sp->py);
  for (int ry = 0; ry < sp->py; ry++)
    mark_near(sp->near_rows + (size_t)ry * (size_t)sp->height, sp->height, sp->row0[ry], sp->row0[ry + 1], sp->halo,
              sp->wrap);
  for (int r = 0; r < sp->size; r++) {
    rank_halo *h = &halos_of(sp)[r];
    int n = find_halo(sp, r, NULL);
    if (n > h->cap) {
      halo_span *grown = realloc(h->spans, sizeof *grown * (size_t)n);
      if (!grown) return myr_fail(err, MYR_ERR_NOMEM, "cannot allocate the halo of rank %d (%d spans)", r, n);
      h->spans = grown;
      h->cap = n;
    }
    h->n = find_halo(sp, r, h);
  }
  return MYR_OK;
}

myr_status myr_spatial_set_cuts(myr_spatial *sp, const int32_t *col0, const int32_t *row0, myr_error *err) {
  memmove(sp->col0, col0, sizeof(int32_t) * (size_t)(sp->px + 1));
  memmove(sp->row0, row0, sizeof(int32_t) * (size_t)(sp->py + 1));
  return refresh_halos(sp, err);
}

myr_status myr_spatial_init(myr_spatial *sp, int px, int py, const int32_t *col0, const int32_t *row0, int32_t width,
                            int32_t height, int32_t wrap, int32_t halo, myr_error *err) {
  memset(sp, 0, sizeof *sp);
  int size = px * py;
  myr_status s = myr_host_team_init(&sp->host, size, err);
  if (s != MYR_OK) return s;
  sp->size = size, sp->px = px, sp->py = py;
  sp->width = width, sp->height = height, sp->wrap = wrap, sp->halo = halo;
  /* row0 [py + 1] in room for size + 1, then the halo lists [size] (halos_of; each grows to
   * what the cuts ask, refresh_halos) */
  sp->row0 = calloc(1, sizeof(int32_t) * (size_t)(size + 2) + sizeof(rank_halo) * (size_t)size + 16);
  sp->col0 = calloc((size_t)px + 1, sizeof *sp->col0);
  sp->row_band = calloc((size_t)height, sizeof *sp->row_band);
  sp->col_band = calloc((size_t)width, sizeof *sp->col_band);
  sp->near_rows = calloc((size_t)py * (size_t)height, 1);
  sp->near_cols = calloc((size_t)px * (size_t)width, 1);
  sp->sims = calloc((size_t)size, sizeof *sp->sims);
  sp->boxes = calloc((size_t)size * (size_t)size, sizeof *sp->boxes);
  sp->moves = calloc((size_t)size * (size_t)size, sizeof *sp->moves);
  if (!sp->row0 || !sp->col0 || !sp->row_band || !sp->col_band || !sp->near_rows || !sp->near_cols || !sp->sims ||
      !sp->boxes || !sp->moves)
    return myr_fail(err, MYR_ERR_NOMEM, "cannot allocate the spatial team");
  return myr_spatial_set_cuts(sp, col0, row0, err);
}

myr_status myr_spatial_use_bins(myr_spatial *sp, const myr_nbr_view *layout, const myr_model *m, myr_error *err) {
  sp->by_bins = 1;
  sp->bins = *layout;
  sp->xcol = m->nbr_columns[0];
  sp->ycol = m->nbr_columns[1];
  sp->n_cols = m->nbr_n_columns;
  for (int k = 0; k < m->nbr_n_columns; k++) sp->cols[k] = m->nbr_columns[k];
  sp->ghosts = calloc((size_t)sp->size, sizeof *sp->ghosts);
  sp->ghost_counts = calloc((size_t)sp->size * (size_t)sp->size, sizeof *sp->ghost_counts);
  if (!sp->ghosts || !sp->ghost_counts) return myr_fail(err, MYR_ERR_NOMEM, "cannot allocate the ghosts");
  return MYR_OK;
}

/* Agent slot i's grid coordinate along axis (0 x, 1 y), or its bin. */
static int32_t coordinate(const myr_spatial *sp, const myr_sim *sim, int64_t i, int axis) {
  if (sp->by_bins)
    return myr_nbr_bin(&sp->bins, axis, ((const float *)sim->agents.col[axis ? sp->ycol : sp->xcol])[i]);
  const myr_model *m = sim->model;
  const int *pos = m->position_columns ? m->position_columns : m->cell_columns;
  return ((const int32_t *)sim->agents.col[pos[axis]])[i];
}

int32_t myr_spatial_row_of(const myr_spatial *sp, const myr_sim *sim, int64_t i) { return coordinate(sp, sim, i, 1); }
int32_t myr_spatial_col_of(const myr_spatial *sp, const myr_sim *sim, int64_t i) { return coordinate(sp, sim, i, 0); }

int myr_spatial_rank_of(const myr_spatial *sp, const myr_sim *sim, int64_t i) {
  return myr_spatial_owner_at(sp, coordinate(sp, sim, i, 0), coordinate(sp, sim, i, 1));
}

void myr_spatial_free(myr_spatial *sp) {
  for (int r = 0; sp->ghosts && r < sp->size; r++) free(sp->ghosts[r].data);
  free(sp->ghosts);
  free(sp->ghost_counts);
  free(sp->mpi_out.data);
  free(sp->mpi_in.data);
  if (sp->row0) {
    rank_halo *h = halos_of(sp);
    for (int r = 0; r < sp->size; r++) free(h[r].spans);
  }
  for (int b = 0; sp->boxes && b < sp->size * sp->size; b++) free(sp->boxes[b].data);
  free(sp->boxes);
  free(sp->moves);
  free(sp->sims);
  free(sp->row0);
  free(sp->col0);
  free(sp->row_band);
  free(sp->col_band);
  free(sp->near_rows);
  free(sp->near_cols);
  myr_host_team_free(&sp->host);
  memset(sp, 0, sizeof *sp);
}

/* ---- layers -------------------------------------------------------------------------------- */

/* What other ranks wrote into their halo spans that rank r owns, added into r's cells. */
static void pull_sums(myr_spatial *sp, myr_rank *r, myr_sim *sim, int point) {
  const myr_model *m = sim->model;
  rank_halo *h = halos_of(sp);
  for (int q = 0; q < sp->size; q++) {
    if (q == r->index) continue;
    for (int k = 0; k < h[q].n; k++) {
      const halo_span *span = &h[q].spans[k];
      if (span->owner != r->index) continue;
      for (int l = 0; l < m->n_layers; l++) {
        if (!transient_of(m, l, point)) continue;
        add_cells(span_of(sp, sim, l, span), span_of(sp, sp->sims[q], l, span), span->n,
                  myr_type_size(m->layers[l].type));
        r->bytes_moved += (double)span_bytes(sim, l, span);
      }
    }
  }
}

/* Rank r's halo spans copied from their owners. */
static void pull_copies(myr_spatial *sp, myr_rank *r, myr_sim *sim, layer_pick pick, int point) {
  const myr_model *m = sim->model;
  const rank_halo *h = &halos_of(sp)[r->index];
  for (int k = 0; k < h->n; k++) {
    const halo_span *span = &h->spans[k];
    for (int l = 0; l < m->n_layers; l++) {
      if (!pick(m, l, point)) continue;
      memcpy(span_of(sp, sim, l, span), span_of(sp, sp->sims[span->owner], l, span), span_bytes(sim, l, span));
      r->bytes_moved += (double)span_bytes(sim, l, span);
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
  size_t gb = (size_t)myr_nbr_ghost_row_bytes(sp->n_cols);
  b->used = 0;
  for (int q = 0; q < sp->size; q++) {
    const myr_sim *o = sp->sims[q];
    if (q == me) continue;
    for (int64_t i = 0; i < o->agents.n; i++) {
      if (!o->agents.alive[i] || !in_halo(sp, me, myr_spatial_col_of(sp, o, i), myr_spatial_row_of(sp, o, i))) continue;
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
    int q = myr_spatial_rank_of(sp, sim, i);
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

/* ---- balance dynamic: moving the cuts ------------------------------------------------------- */

void myr_spatial_count_rows(const myr_spatial *sp, const myr_sim *sim, int64_t *count) {
  const myr_agents *a = &sim->agents;
  for (int64_t i = 0; i < a->n; i++)
    if (a->alive[i]) count[myr_spatial_row_of(sp, sim, i)]++;
}

void myr_spatial_count_cols(const myr_spatial *sp, const myr_sim *sim, int64_t *count) {
  const myr_agents *a = &sim->agents;
  for (int64_t i = 0; i < a->n; i++)
    if (a->alive[i]) count[myr_spatial_col_of(sp, sim, i)]++;
}

int64_t myr_spatial_count_leaving(const myr_spatial *sp, const myr_sim *sim, int me) {
  const myr_agents *a = &sim->agents;
  int64_t leaving = 0;
  for (int64_t i = 0; i < a->n; i++) leaving += a->alive[i] && myr_spatial_rank_of(sp, sim, i) != me;
  return leaving;
}

int32_t myr_spatial_shared_cells(const myr_spatial *sp, myr_spatial_cuts a_cuts, int a, myr_spatial_cuts b_cuts, int b,
                                 myr_spatial_span *first) {
  const int ax = a % sp->px, ay = a / sp->px, bx = b % sp->px, by = b / sp->px;
  const int32_t x0 = a_cuts.col0[ax] > b_cuts.col0[bx] ? a_cuts.col0[ax] : b_cuts.col0[bx];
  const int32_t x1 = a_cuts.col0[ax + 1] < b_cuts.col0[bx + 1] ? a_cuts.col0[ax + 1] : b_cuts.col0[bx + 1];
  const int32_t y0 = a_cuts.row0[ay] > b_cuts.row0[by] ? a_cuts.row0[ay] : b_cuts.row0[by];
  const int32_t y1 = a_cuts.row0[ay + 1] < b_cuts.row0[by + 1] ? a_cuts.row0[ay + 1] : b_cuts.row0[by + 1];
  *first = (myr_spatial_span){y0, x0, x1 > x0 ? x1 - x0 : 0, -1};
  return x1 > x0 && y1 > y0 ? y1 - y0 : 0;
}

/* The cells of rank r's tile that another rank owned under `old`, every layer, copied from it.
 * Nobody writes a cell another rank takes: each writes only cells it did not own. */
static void take_cells(myr_spatial *sp, myr_rank *r, myr_sim *sim, myr_spatial_cuts old) {
  const myr_model *m = sim->model;
  for (int q = 0; q < sp->size; q++) {
    if (q == r->index) continue;
    halo_span span;
    int32_t rows = myr_spatial_shared_cells(sp, old, q, cuts_of(sp), r->index, &span);
    for (int32_t k = 0; k < rows; k++, span.y++)
      for (int l = 0; l < m->n_layers; l++) {
        memcpy(span_of(sp, sim, l, &span), span_of(sp, sp->sims[q], l, &span), span_bytes(sim, l, &span));
        r->bytes_moved += (double)span_bytes(sim, l, &span);
      }
  }
}

myr_status myr_spatial_shift(myr_rank *r, myr_sim *sim, myr_spatial_cuts old, myr_error *err) {
  double t0 = omp_get_wtime();
  take_cells((myr_spatial *)r->team, r, sim, old);
  r->seconds_comm += omp_get_wtime() - t0;
  /* the halos as after a sync's last point (its first barrier: every cell is taken) */
  myr_status s = myr_spatial_sync(r, sim, NULL, MYR_SYNC_AFTER_CELLS_END, NULL, err);
  return s == MYR_OK ? myr_spatial_migrate(r, sim, err) : s;
}
