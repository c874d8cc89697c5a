/* spatial_parallel on CPU ranks that are processes (mpirun; spatial.h). What a rank of the
 * threads' path (spatial.c) pulls from the others' memory, the others send here, MPI point to
 * point:
 *   halo sums     each rank sends its halo spans to their owners, which add them in;
 *   halo copies   each owner sends the spans of the others' halos that it owns;
 *   migration     agents that left the tile, as rows (myr_sim_pack_agent), after their counts;
 *   ghosts        each rank's agents in another's halo, as ghost rows, after their counts.
 * A sync point's cells travel packed, one halo span after another in halo order, the point's
 * layers in layer order within a span. Receivers take everything in the threads' order (source
 * rank, then the source's own order), so the integer sums, the slot order of arrivals and the
 * snapshots are the same bits as one process's.
 *
 * A process that fails stops at its step's agreement (myr_team_agree), which meets the
 * agreement that opens every exchange here (agree): every process learns of it at the same
 * collective and stops, none waits for rows that never come. */
#include "partition/spatial.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "partition/mpi.h"              /* myr_mpi_*: agreement, counts, point to point */
#include "partition/spatial_internal.h" /* halo lists, row helpers, layer picks, boxes */
#include "sim/sim_internal.h"           /* myr__sim_compact */

/* s, or the failure of another process: every process calls it at the same point. */
static myr_status agree(myr_spatial *sp, myr_rank *r, myr_status s, myr_error *err) {
  if (!myr_mpi_max_int(s != MYR_OK)) return MYR_OK;
  sp->agreed_failure = 1; /* the step's own agreement has happened: this was it */
  if (s != MYR_OK) return s;
  return myr_fail(err, MYR_ERR_INTERNAL, "rank %d stopped: another rank failed (its message is above)", r->index);
}

/* ---- layers -------------------------------------------------------------------------------- */

/* Bytes of one cell over the picked layers. */
static size_t cell_bytes(const myr_model *m, layer_pick pick, int point) {
  size_t b = 0;
  for (int l = 0; l < m->n_layers; l++)
    if (pick(m, l, point)) b += myr_type_size(m->layers[l].type);
  return b;
}

/* How many cells of rank a's halo rank b owns. */
static int64_t cells_between(const myr_spatial *sp, int a, int b) {
  const rank_halo *h = &halos_of(sp)[a];
  int64_t k = 0;
  for (int i = 0; i < h->n; i++) k += h->spans[i].owner == b ? h->spans[i].n : 0;
  return k;
}

/* Span h of the picked layers packed at `at`, layer after layer; returns the end. */
static char *pack_span(const myr_spatial *sp, const myr_sim *sim, const halo_span *h, layer_pick pick, int point,
                       char *at) {
  const myr_model *m = sim->model;
  for (int l = 0; l < m->n_layers; l++) {
    if (!pick(m, l, point)) continue;
    memcpy(at, span_of(sp, sim, l, h), span_bytes(sim, l, h));
    at += span_bytes(sim, l, h);
  }
  return at;
}

/* The same span from `at` into sim's: added (sums) or copied; returns the end. */
static const char *unpack_span(const myr_spatial *sp, myr_sim *sim, const halo_span *h, layer_pick pick, int point,
                               const char *at, int add) {
  const myr_model *m = sim->model;
  for (int l = 0; l < m->n_layers; l++) {
    if (!pick(m, l, point)) continue;
    if (add) add_cells(span_of(sp, sim, l, h), at, h->n, myr_type_size(m->layers[l].type));
    else memcpy(span_of(sp, sim, l, h), at, span_bytes(sim, l, h));
    at += span_bytes(sim, l, h);
  }
  return at;
}

/* The spans of a's halo that b owns, picked layers, packed at `at`; returns the end. */
static char *pack_spans(const myr_spatial *sp, const myr_sim *sim, int a, int b, layer_pick pick, int point, char *at) {
  const rank_halo *h = &halos_of(sp)[a];
  for (int i = 0; i < h->n; i++)
    if (h->spans[i].owner == b) at = pack_span(sp, sim, &h->spans[i], pick, point, at);
  return at;
}

/* The same spans from `at` into sim's: added (sums) or copied. */
static void unpack_spans(const myr_spatial *sp, myr_sim *sim, int a, int b, layer_pick pick, int point, const char *at,
                         int add) {
  const rank_halo *h = &halos_of(sp)[a];
  for (int i = 0; i < h->n; i++)
    if (h->spans[i].owner == b) at = unpack_span(sp, sim, &h->spans[i], pick, point, at, add);
}

/* sp->mpi_out made to hold the bytes going out, sp->mpi_in those coming in, with in[q] at q's
 * part of it; agreed with every process, so that all stop together when one cannot. */
static myr_status open_buffers(myr_spatial *sp, myr_rank *r, const int64_t *out_bytes, const int64_t *in_bytes,
                               void **in, myr_error *err) {
  int64_t out_total = 0, in_total = 0;
  for (int q = 0; q < sp->size; q++) {
    out_total += out_bytes[q];
    in_total += in_bytes[q];
  }
  myr_status s = MYR_OK;
  sp->mpi_out.used = sp->mpi_in.used = 0;
  if ((out_total > 0 && !box_room(&sp->mpi_out, (size_t)out_total)) ||
      (in_total > 0 && !box_room(&sp->mpi_in, (size_t)in_total)))
    s = myr_fail(err, MYR_ERR_NOMEM, "rank %d: cannot hold %lld bytes of rows", r->index,
                 (long long)(out_total + in_total));
  if ((s = agree(sp, r, s, err)) != MYR_OK) return s;
  char *into = sp->mpi_in.data;
  for (int q = 0; q < sp->size; q++) {
    in[q] = into;
    into += in_bytes[q];
  }
  return MYR_OK;
}

/* sums: this rank's halo spans go to their owners and are added there; copies: the spans of
 * the others' halos that this rank owns go to them and replace theirs. Picked layers only. */
static myr_status exchange_rows(myr_spatial *sp, myr_rank *r, myr_sim *sim, layer_pick pick, int point, int sums,
                                myr_error *err) {
  size_t cb = cell_bytes(sim->model, pick, point);
  if (cb == 0) return MYR_OK; /* the same on every process: nothing moves, nobody waits */
  int me = r->index, n = sp->size;
  int64_t out_bytes[n], in_bytes[n];
  const void *out[n];
  void *in[n];
  for (int q = 0; q < n; q++) {
    out_bytes[q] = q == me ? 0 : (int64_t)cb * (sums ? cells_between(sp, me, q) : cells_between(sp, q, me));
    in_bytes[q] = q == me ? 0 : (int64_t)cb * (sums ? cells_between(sp, q, me) : cells_between(sp, me, q));
  }
  myr_status s = open_buffers(sp, r, out_bytes, in_bytes, in, err);
  if (s != MYR_OK) return s;
  char *at = sp->mpi_out.data;
  for (int q = 0; q < n; q++) {
    out[q] = at;
    if (q != me) at = pack_spans(sp, sim, sums ? me : q, sums ? q : me, pick, point, at);
  }
  if ((s = myr_mpi_exchange(out, out_bytes, in, in_bytes, err)) != MYR_OK) return s;
  for (int q = 0; q < n; q++) /* source rank order, as the threads' path adds */
    if (q != me) unpack_spans(sp, sim, sums ? q : me, sums ? me : q, pick, point, (const char *)in[q], sums);
  for (int q = 0; q < n; q++) r->bytes_moved += (double)out_bytes[q];
  return MYR_OK;
}

myr_status myr_spatial_mpi_sync(myr_rank *r, myr_sim *sim, const myr_view *v, int point, void *stream,
                                myr_error *err) {
  (void)v, (void)stream;
  myr_spatial *sp = (myr_spatial *)r->team;
  if (sim->model->n_layers == 0) return MYR_OK; /* no grid to keep current */
  double t0 = omp_get_wtime();
  myr_status s = MYR_OK;
  switch (point) {
  case MYR_SYNC_AFTER_ACT:
  case MYR_SYNC_AFTER_AGENTS:
    s = exchange_rows(sp, r, sim, transient_of, point, 1, err);
    if (s == MYR_OK) clear_halo(sp, r->index, sim, transient_of, point); /* sent: the owners hold them */
    break;
  case MYR_SYNC_AFTER_CELLS_BEGIN:
    s = exchange_rows(sp, r, sim, any_layer, point, 0, err);
    break;
  case MYR_SYNC_AFTER_CELLS_END:
    clear_halo(sp, r->index, sim, any_transient, point);
    s = exchange_rows(sp, r, sim, persistent, point, 0, err);
    break;
  }
  r->seconds_comm += omp_get_wtime() - t0;
  return s;
}

/* ---- agents -------------------------------------------------------------------------------- */

/* This rank's agents in each other rank's halo go to it as ghost rows; the ghosts that come in,
 * in source rank order, are handed to this rank's next snapshot. */
static myr_status send_ghosts(myr_spatial *sp, myr_rank *r, myr_sim *sim, myr_error *err) {
  int me = r->index, n = sp->size, failed = 0;
  size_t gb = (size_t)myr_nbr_ghost_row_bytes(sp->n_cols);
  for (int q = 0; q < n; q++) sp->boxes[me * n + q].used = 0;
  for (int64_t i = 0; i < sim->agents.n && !failed; i++) {
    if (!sim->agents.alive[i]) continue;
    int32_t x = myr_spatial_col_of(sp, sim, i), y = myr_spatial_row_of(sp, sim, i);
    for (int q = 0; q < n; q++) {
      myr_spatial_box *b = &sp->boxes[me * n + q];
      if (q == me || !in_halo(sp, q, x, y)) continue;
      char *at = box_room(b, gb);
      if (!at) {
        failed = 1;
        break;
      }
      ghost_row(sp, sim, i, at);
      b->used += gb;
    }
  }
  int64_t out_bytes[n], in_bytes[n], in_total = 0;
  const void *out[n];
  void *in[n];
  for (int q = 0; q < n; q++) {
    out_bytes[q] = (int64_t)sp->boxes[me * n + q].used;
    out[q] = sp->boxes[me * n + q].data;
  }
  myr_mpi_alltoall_i64(out_bytes, in_bytes); /* every process is here: the migration agreed */
  for (int q = 0; q < n; q++) in_total += in_bytes[q];
  myr_spatial_box *g = &sp->ghosts[me];
  g->used = 0;
  myr_status s = MYR_OK;
  if (failed || (in_total > 0 && !box_room(g, (size_t)in_total)))
    s = myr_fail(err, MYR_ERR_NOMEM, "rank %d: cannot hold its ghosts", me);
  else g->used = (size_t)in_total;
  /* the snapshot keeps the pointer; the rows land below, before its next publish */
  if (s == MYR_OK) s = myr_neighbours_ghosts(sim, g->data, in_total / (int64_t)gb, err);
  if ((s = agree(sp, r, s, err)) != MYR_OK) return s;
  char *into = g->data;
  for (int q = 0; q < n; q++) {
    in[q] = into;
    into += in_bytes[q];
  }
  if ((s = myr_mpi_exchange(out, out_bytes, in, in_bytes, err)) != MYR_OK) return s;
  for (int q = 0; q < n; q++) r->bytes_moved += (double)out_bytes[q];
  return MYR_OK;
}

myr_status myr_spatial_mpi_migrate(myr_rank *r, myr_sim *sim, myr_error *err) {
  myr_spatial *sp = (myr_spatial *)r->team;
  double t0 = omp_get_wtime();
  myr_agents *a = &sim->agents;
  size_t row = myr_sim_agent_row_bytes(sim);
  int me = r->index, n = sp->size, failed = 0;
  int64_t leaving = 0;
  for (int q = 0; q < n; q++) sp->boxes[me * n + q].used = 0;
  for (int64_t i = 0; i < a->n; i++) { /* in slot order, as the threads' path packs */
    if (!a->alive[i]) continue;
    int q = myr_spatial_rank_of(sp, sim, i);
    if (q == me) continue;
    if (!box_append(&sp->boxes[me * n + q], sim, i, row)) failed = 1;
    a->alive[i] = 0;
    leaving++;
  }
  if (leaving > 0) myr__sim_compact(sim);
  myr_status s = failed ? myr_fail(err, MYR_ERR_NOMEM, "rank %d: cannot hold the agents leaving it", me) : MYR_OK;
  s = agree(sp, r, s, err); /* also meets a process that failed earlier in its step */
  int64_t out_bytes[n], in_bytes[n], arriving = 0;
  const void *out[n];
  void *in[n];
  if (s == MYR_OK) {
    for (int q = 0; q < n; q++) {
      out_bytes[q] = (int64_t)sp->boxes[me * n + q].used;
      out[q] = sp->boxes[me * n + q].data;
    }
    myr_mpi_alltoall_i64(out_bytes, in_bytes);
    for (int q = 0; q < n; q++) arriving += in_bytes[q] / (int64_t)row;
    if (a->n + arriving > a->capacity)
      s = myr_fail(err, MYR_ERR_CAPACITY,
                   "step %llu: rank %d would hold %lld agents but has %lld slots; raise agents.capacity",
                   (unsigned long long)sim->step, me, (long long)(a->n + arriving), (long long)a->capacity);
    for (int q = 0; q < n && s == MYR_OK; q++) { /* what q sends lands in q's box for this rank */
      myr_spatial_box *b = &sp->boxes[q * n + me];
      b->used = 0;
      if (q != me && in_bytes[q] > 0 && !box_room(b, (size_t)in_bytes[q]))
        s = myr_fail(err, MYR_ERR_NOMEM, "rank %d: cannot hold the agents arriving from rank %d", me, q);
      in[q] = b->data;
      b->used = q == me ? 0 : (size_t)in_bytes[q];
    }
    s = agree(sp, r, s, err);
  }
  if (s == MYR_OK) s = myr_mpi_exchange(out, out_bytes, in, in_bytes, err);
  for (int q = 0; q < n && s == MYR_OK; q++) { /* by source rank, then the source's slot order */
    const myr_spatial_box *b = &sp->boxes[q * n + me];
    for (size_t at = 0; q != me && at < b->used; at += row) myr_sim_append_agent_row(sim, b->data + at);
    r->bytes_moved += (double)out_bytes[q];
  }
  if (s == MYR_OK && sp->by_bins) s = send_ghosts(sp, r, sim, err);
  r->seconds_comm += omp_get_wtime() - t0;
  return s;
}

/* ---- balance dynamic: moving the cuts ------------------------------------------------------- */

/* The cells this rank owned under `old` that another owns now go to it, every layer, row after
 * row; the cells it owns now that another owned come from that one. */
static myr_status hand_over(myr_spatial *sp, myr_rank *r, myr_sim *sim, myr_spatial_cuts old, myr_error *err) {
  size_t cb = cell_bytes(sim->model, any_layer, 0); /* a cell's */
  if (cb == 0) return MYR_OK; /* no grid: the same on every process */
  int me = r->index, n = sp->size;
  int64_t out_bytes[n], in_bytes[n];
  const void *out[n];
  void *in[n];
  halo_span span;
  for (int q = 0; q < n; q++) {
    int32_t rows = q == me ? 0 : myr_spatial_shared_cells(sp, old, me, cuts_of(sp), q, &span);
    out_bytes[q] = (int64_t)cb * rows * span.n;
    rows = q == me ? 0 : myr_spatial_shared_cells(sp, old, q, cuts_of(sp), me, &span);
    in_bytes[q] = (int64_t)cb * rows * span.n;
  }
  myr_status s = open_buffers(sp, r, out_bytes, in_bytes, in, err);
  if (s != MYR_OK) return s;
  char *at = sp->mpi_out.data;
  for (int q = 0; q < n; q++) {
    out[q] = at;
    int32_t rows = q == me ? 0 : myr_spatial_shared_cells(sp, old, me, cuts_of(sp), q, &span);
    for (int32_t k = 0; k < rows; k++, span.y++) at = pack_span(sp, sim, &span, any_layer, 0, at);
  }
  if ((s = myr_mpi_exchange(out, out_bytes, in, in_bytes, err)) != MYR_OK) return s;
  for (int q = 0; q < n; q++) {
    const char *from = (const char *)in[q];
    int32_t rows = q == me ? 0 : myr_spatial_shared_cells(sp, old, q, cuts_of(sp), me, &span);
    for (int32_t k = 0; k < rows; k++, span.y++) from = unpack_span(sp, sim, &span, any_layer, 0, from, 0);
    r->bytes_moved += (double)out_bytes[q];
  }
  return MYR_OK;
}

myr_status myr_spatial_mpi_shift(myr_rank *r, myr_sim *sim, myr_spatial_cuts old, myr_error *err) {
  double t0 = omp_get_wtime();
  myr_status s = hand_over((myr_spatial *)r->team, r, sim, old, err);
  r->seconds_comm += omp_get_wtime() - t0;
  /* the halos as after a sync's last point, then agents to the tiles they stand in */
  if (s == MYR_OK) s = myr_spatial_mpi_sync(r, sim, NULL, MYR_SYNC_AFTER_CELLS_END, NULL, err);
  return s == MYR_OK ? myr_spatial_mpi_migrate(r, sim, err) : s;
}
