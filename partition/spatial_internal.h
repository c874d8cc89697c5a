/* spatial_parallel internals shared by its two CPU transports: shared memory between threads
 * (spatial.c) and one process per rank (spatial_mpi.c). Not part of the public API. */
#ifndef MYR_PARTITION_SPATIAL_INTERNAL_H
#define MYR_PARTITION_SPATIAL_INTERNAL_H

#include <stdlib.h>
#include <string.h>

#include "partition/host.h"    /* myr_layer_summed_in */
#include "partition/spatial.h"

/* Rank r's halo: spans (myr_spatial_span), runs of cells of one row with one owner, in (row,
 * column) order (a band's halo: one whole row each). Kept beside the public struct (one
 * allocation per team). */
typedef myr_spatial_span halo_span;
typedef struct rank_halo {
  halo_span *spans;
  int n, cap; /* spans held, room */
} rank_halo;
static inline rank_halo *halos_of(const myr_spatial *sp) { /* after row0's size + 1, 8-byte aligned */
  return (rank_halo *)(sp->row0 + ((sp->size + 2) & ~1));
}

/* Whether cell (x, y) lies in rank q's halo: within `halo` of its tile along both axes, and
 * another rank's. */
static inline int in_halo(const myr_spatial *sp, int q, int32_t x, int32_t y) {
  return sp->near_rows[(size_t)(q / sp->px) * (size_t)sp->height + (size_t)y] &&
         sp->near_cols[(size_t)(q % sp->px) * (size_t)sp->width + (size_t)x] && myr_spatial_owner_at(sp, x, y) != q;
}

/* Span `h` of layer l in sim's host grid, and its bytes. */
static inline char *span_of(const myr_spatial *sp, const myr_sim *sim, int l, const halo_span *h) {
  size_t es = myr_type_size(sim->model->layers[l].type);
  return (char *)sim->grid.layer[l] + ((size_t)h->y * (size_t)sp->width + (size_t)h->x0) * es;
}
static inline size_t span_bytes(const myr_sim *sim, int l, const halo_span *h) {
  return (size_t)h->n * myr_type_size(sim->model->layers[l].type);
}
/* The present cuts of sp. */
static inline myr_spatial_cuts cuts_of(const myr_spatial *sp) { return (myr_spatial_cuts){sp->col0, sp->row0}; }

/* mine[x] += theirs[x] over n cells, wrapping like the single rank's integer adds. */
static inline void add_cells(char *mine, const char *theirs, int32_t n, size_t es) {
  if (es == 1)
    for (int32_t x = 0; x < n; x++) ((uint8_t *)mine)[x] = (uint8_t)(((uint8_t *)mine)[x] + ((const uint8_t *)theirs)[x]);
  else if (es == 4)
    for (int32_t x = 0; x < n; x++) ((uint32_t *)mine)[x] += ((const uint32_t *)theirs)[x];
  else
    for (int32_t x = 0; x < n; x++) ((uint64_t *)mine)[x] += ((const uint64_t *)theirs)[x];
}

/* Which layers a sync point moves: summed into owners (transient_of), copied from owners
 * (any_layer after cells_begin, persistent after cells_end), cleared (any_transient). */
typedef int (*layer_pick)(const myr_model *m, int l, int point);
static inline int transient_of(const myr_model *m, int l, int point) { return myr_layer_summed_in(m, l, point); }
static inline int any_layer(const myr_model *m, int l, int point) { (void)m, (void)l, (void)point; return 1; }
static inline int any_transient(const myr_model *m, int l, int point) {
  (void)point;
  return m->layers[l].lifetime == MYR_TRANSIENT;
}
static inline int persistent(const myr_model *m, int l, int point) {
  (void)point;
  return m->layers[l].lifetime == MYR_PERSISTENT;
}

/* Rank `me`'s halo zeroed in the picked layers. */
static inline void clear_halo(const myr_spatial *sp, int me, myr_sim *sim, layer_pick pick, int point) {
  const myr_model *m = sim->model;
  const rank_halo *h = &halos_of(sp)[me];
  for (int l = 0; l < m->n_layers; l++) {
    if (!pick(m, l, point)) continue;
    for (int k = 0; k < h->n; k++) memset(span_of(sp, sim, l, &h->spans[k]), 0, span_bytes(sim, l, &h->spans[k]));
  }
}

/* Room for `row` more bytes at b->data + b->used; NULL when it cannot be had. */
static inline char *box_room(myr_spatial_box *b, size_t row) {
  if (b->used + row > b->cap) {
    size_t cap = b->cap ? 2 * b->cap : 64 * row;
    while (cap < b->used + row) cap *= 2;
    char *grown = realloc(b->data, cap);
    if (!grown) return NULL;
    b->data = grown;
    b->cap = cap;
  }
  return b->data + b->used;
}

/* Slot i of sim appended to b as an agent row (row = myr_sim_agent_row_bytes); 0 without room. */
static inline int box_append(myr_spatial_box *b, const myr_sim *sim, int64_t i, size_t row) {
  char *at = box_room(b, row);
  if (!at) return 0;
  myr_sim_pack_agent(sim, i, at);
  b->used += row;
  return 1;
}

/* Slot i of sim as a ghost row (myr_nbr_ghost_row_bytes(sp->n_cols) bytes at `at`): its id
 * and published columns. */
static inline void ghost_row(const myr_spatial *sp, const myr_sim *sim, int64_t i, char *at) {
  memset(at, 0, (size_t)myr_nbr_ghost_row_bytes(sp->n_cols));
  memcpy(at, &sim->agents.id[i], sizeof(uint64_t));
  for (int k = 0; k < sp->n_cols; k++) memcpy(at + 8 + 4 * k, (const float *)sim->agents.col[sp->cols[k]] + i, 4);
}

#endif
