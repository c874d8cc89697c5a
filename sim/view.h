/* The data a model's per-agent code sees: plain pointers to agent columns and grid layers
 * (host memory on the CPU backend, device memory on the CUDA backend), the step being
 * computed and the model's parameters. Passed by value to kernels, so it stays POD.
 *
 * Column c of a model is `v->col[c]`, component-major: component k of agent slot i is at
 * `[k * v->capacity + i]` (coalesced on the GPU). Layer l is `v->layer[l]`, cell (x, y) at
 * `[y * v->width + x]`. */
#ifndef MYR_VIEW_H
#define MYR_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "sim/hd.h"
#include "sim/neighbours.h" /* myr_nbr_view: the published neighbour snapshot */

#ifdef __cplusplus
extern "C" {
#endif

#define MYR_MAX_COLUMNS 16
#define MYR_MAX_LAYERS 8
#define MYR_MAX_STATS 32

typedef enum { MYR_U8, MYR_I32, MYR_U32, MYR_I64, MYR_U64, MYR_F32, MYR_F64, MYR_TYPE_COUNT } myr_type;

/* Persistent data is snapshotted, checkpointed and hashed. Transient data is scratch that a
 * model must leave at zero after every sync (claims, pending harvests): the engine zeroes it
 * once at start and never saves it, so a resumed run sees zeros there too. */
typedef enum { MYR_PERSISTENT = 0, MYR_TRANSIENT = 1 } myr_lifetime;

/* Which phase writes a transient layer, which says when a team of ranks (partition/) sums it
 * over its ranks: act's claims before sync_cells_begin, sync_agents' settlements (e.g. what
 * was granted from a cell) before sync_cells_end. The sum is exact for integer layers only. */
typedef enum { MYR_WRITTEN_IN_ACT = 0, MYR_WRITTEN_IN_SYNC_AGENTS = 1 } myr_written_in;

/* components == MYR_PER_WINDOW_STEP: one component per step of a sync window
 * (distributed.sync_frequency components), for per-step claims. */
#define MYR_PER_WINDOW_STEP (-1)

typedef struct myr_column_desc {
  const char *name;
  myr_type type;
  int components; /* >= 1, or MYR_PER_WINDOW_STEP */
  myr_lifetime lifetime;
  const char *doc;
} myr_column_desc;

typedef struct myr_layer_desc {
  const char *name;
  myr_type type;
  myr_lifetime lifetime;
  const char *doc;
  myr_written_in written_in; /* transient layers only; zero (act) unless said */
} myr_layer_desc;

/* A statistic a model reports each recorded step (besides the engine's population, births,
 * deaths). Values are computed from exact integer accumulators (see model.h). */
typedef struct myr_stat_desc {
  const char *name;
  const char *doc;
} myr_stat_desc;

typedef struct myr_view {
  int64_t n;        /* agent slots in use: [0, n); a slot may be dead (alive[i] == 0) */
  int64_t capacity; /* allocated slots; the stride between components of a column */
  uint64_t *id;     /* global agent id, unique for the whole run */
  uint8_t *alive;   /* 1 alive, 0 dead (compacted away at sync) */
  uint8_t *action;  /* the action decided this step */
  uint8_t *children;/* set by sync_agents: number of children (0 or 1) to create */
  void *col[MYR_MAX_COLUMNS];
  void *layer[MYR_MAX_LAYERS];
  int32_t width, height;
  int32_t wrap;            /* 1: torus; 0: closed edges */
  int32_t sync_frequency;  /* steps per sync window */
  int32_t window_step;     /* position of `step` inside its window: 0 .. sync_frequency-1 */
  uint32_t seed;
  uint64_t step;           /* the step being computed, from 0 */
  int64_t first_cell;      /* device cell kernels: cell c of a launch over n is first_cell + c, */
  int64_t cells_nx;        /* or with cells_nx > 0 (a tile: part of each row) first_cell +
                              (c / cells_nx) * width + c % cells_nx */
  const void *params;      /* the model's parameter struct (model.h) */
  /* Global aggregates (DESIGN §4.3): the model's flows (the counters its range functions add
   * to, model.h) summed exactly over every rank of the team and published at the end of each
   * sync window, the same on every rank: of the window just ended, and of every window since
   * step 0 (MYR_MAX_FLOWS entries each, the model's n_flows first; all zero before the first
   * sync). Host memory on the CPU backend, device memory on a device backend. */
  const int64_t *flows_window, *flows_total;
  /* Neighbour queries (sim/neighbours.h): the snapshot published at the start of this window
   * for models that declare nbr_dims; zeroed (n == 0) otherwise. */
  myr_nbr_view nbr;
} myr_view;

#define MYR_COL(v, c, T) ((T *)(v)->col[c])
#define MYR_LAYER(v, l, T) ((T *)(v)->layer[l])

MYR_HD static inline int64_t myr_cells(const myr_view *v) { return (int64_t)v->width * v->height; }
MYR_HD static inline int64_t myr_cell(const myr_view *v, int32_t x, int32_t y) {
  return (int64_t)y * v->width + x;
}
/* Wraps (torus) or clamps (closed world) a coordinate into [0, extent). */
MYR_HD static inline int32_t myr_fold(int32_t c, int32_t extent, int32_t wrap) {
  if (wrap) {
    /* Moves change a coordinate by a cell or two: one comparison instead of an integer
     * division (slow on GPUs) in the common case; the same result either way. */
    if (c >= 0 && c < extent) return c;
    if (c < 0 && c >= -extent) return c + extent;
    if (c >= extent && c - extent < extent) return c - extent;
    c %= extent;
    return c < 0 ? c + extent : c;
  }
  return c < 0 ? 0 : (c >= extent ? extent - 1 : c);
}
/* 1 if (x, y) lies inside the world without wrapping. */
MYR_HD static inline int myr_inside(const myr_view *v, int32_t x, int32_t y) {
  return x >= 0 && y >= 0 && x < v->width && y < v->height;
}

/* The 9 grid moves used by the walking models: 0 stay, then E, NE, N, NW, W, SW, S, SE. */
#define MYR_MOVES 9
/* The tables as 2-bit fields (value + 1, move a at bits 2a..2a+1): arithmetic, not an indexed
 * array, so GPU code keeps them in registers instead of a per-call local-memory table. */
#define MYR__MOVE_DX 0x24069u /* dx + 1: 1 2 2 1 0 0 0 1 2 */
#define MYR__MOVE_DY 0x006A5u /* dy + 1: 1 1 2 2 2 1 0 0 0 */
MYR_HD static inline int32_t myr_move_dx(int a) { return (int32_t)((MYR__MOVE_DX >> (2 * a)) & 3u) - 1; }
MYR_HD static inline int32_t myr_move_dy(int a) { return (int32_t)((MYR__MOVE_DY >> (2 * a)) & 3u) - 1; }

/* Legal grid moves from cell (x, y): all 9 on a torus; in a closed world the moves that would
 * leave it are illegal. Fills mask[0..8] with 0/1 and returns the count (>= 1: staying is
 * always legal). */
MYR_HD static inline int myr_legal_moves(const myr_view *v, int32_t x, int32_t y, uint8_t *mask) {
  int n = 0;
  for (int a = 0; a < MYR_MOVES; a++) {
    int ok = v->wrap ? 1 : myr_inside(v, x + myr_move_dx(a), y + myr_move_dy(a));
    mask[a] = (uint8_t)ok;
    n += ok;
  }
  return n;
}

/* The k-th legal action of mask[0..n_actions) in action order (k < number legal); 0 if none. */
MYR_HD static inline int myr_nth_legal(const uint8_t *mask, int n_actions, uint32_t k) {
  for (int a = 0; a < n_actions; a++)
    if (mask[a] && k-- == 0) return a;
  return 0;
}

size_t myr_type_size(myr_type t);
const char *myr_type_name(myr_type t);

#ifdef __cplusplus
}
#endif

#endif
