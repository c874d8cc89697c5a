/* Neighbour queries between agents in continuous 2-D or 3-D space (DESIGN §3: "continuous
 * positions map to cells for neighbour search (counting sort by cell)").
 *
 * At the start of every sync window the engine publishes a snapshot of the agents: the f32
 * columns a model declares (myr_model.nbr_columns: the position first, then anything else its
 * neighbours read), binned by cell with a counting sort, each bin in ascending agent id. Per
 * agent code (MYR_HD, CPU loop and CUDA kernel alike) walks the bins around a point with
 * MYR_NBR_FOREACH, in ascending cell order and, within a cell, ascending id: a fixed order
 * that depends on neither the thread count nor where agents sit in memory, so sums taken in
 * it are the same bits on every backend (where the arithmetic allows: sim/mathf.h).
 *
 * Space: [0, extent[a]) along each axis a, split into bins[a] bins of equal width, about
 * radius / bins_per_radius. A walk around a point visits, along each axis, the bins from the
 * coordinate minus `reach` to the coordinate plus `reach` (the radius and a margin for float
 * rounding): every entry closer than the radius, and with finer bins fewer that are farther.
 * Closed space: coordinates outside the box fall into the edge bins (agents may leave it; they
 * are still found). Wrapped space (a torus): coordinates must lie in [0, extent); distances use
 * the nearest image; each axis needs extent >= 3 radius (checked at publish).
 *
 * Teams of ranks (distributed.strategy: spatial_parallel, partition/): rank r owns the agents
 * whose bin along y lies in its band of y-bins, and its snapshot holds them plus *ghost*
 * entries: copies of the published columns and ids of other ranks' agents whose y-bin lies
 * within the team's halo of its band, handed over by the partition at every sync
 * (myr_neighbours_ghosts). Ghosts are binned and ordered like the rank's own entries, so a walk
 * from any agent of the rank visits the entries, in the order, that one rank's snapshot holds
 * there: the same bits. A ghost has no slot on this rank (slot UINT32_MAX): per-agent code
 * reads neighbours only through the published columns (col[k], pos) and ids, never through
 * slot, which only the engine uses (agents in cell order on the GPU).
 *
 * Owns nothing itself: the snapshot's memory belongs to the backend that publishes it (CPU:
 * sim/neighbours.c, freed by myr_neighbours_free; CUDA: sim/cuda/neighbours.cu, freed with the
 * backend). The view below holds plain pointers into it and stays valid for one window. */
#ifndef MYR_NEIGHBOURS_H
#define MYR_NEIGHBOURS_H

#include <math.h> /* floorf */
#include <stdint.h>

#include "sim/hd.h"
#include "sim/status.h" /* myr_status, myr_error */

#ifdef __cplusplus
extern "C" {
#endif

#define MYR_NBR_MAX_COLUMNS 6

/* The space a model's agents live in, from its parameters (myr_model.nbr_space). */
typedef struct myr_nbr_space {
  int32_t dims;     /* 2 or 3 */
  int32_t wrap;     /* 1: torus; 0: closed box (points outside fall into the edge bins) */
  float extent[3];  /* side along x, y, z (z ignored in 2-D) */
  float radius;     /* interaction radius: a walk visits every entry closer than this */
  int32_t bins_per_radius; /* bins per radius along each axis (0 = 1): finer bins put fewer
                              entries outside the radius in a walk, for more bins to visit */
  /* The most an agent moves in one step along any axis (continuous units; an upper bound,
   * rounding included): spatial_parallel's halo covers the walk's reach + (sync_frequency - 1)
   * x max_step. 0: unknown, and the model runs on one rank only. */
  float max_step;
} myr_nbr_space;

/* An entry's position, x, y, z (0 in 2-D) and w = 0, 16-byte aligned: one vector load on a GPU
 * where three columns would take three. */
#ifdef __CUDACC__
typedef struct __align__(16) myr_nbr_pos {
  float x, y, z, w;
} myr_nbr_pos;
#else
typedef struct myr_nbr_pos {
  _Alignas(16) float x;
  float y, z, w;
} myr_nbr_pos;
#endif

/* The published snapshot as per-agent code sees it (inside myr_view: v->nbr). n == 0: none. */
typedef struct myr_nbr_view {
  int64_t n;                /* entries (agents published, ghosts included) */
  int64_t ghosts;           /* entries of other ranks' agents (slot UINT32_MAX) */
  const uint32_t *start;    /* cells + 1: bin c holds entries [start[c], start[c + 1]) */
  const uint64_t *id;       /* entry -> agent id (ascending within a bin) */
  const uint32_t *slot;     /* entry -> the agent's slot during this window; UINT32_MAX: a ghost */
  const myr_nbr_pos *pos;   /* entry -> position (the first nbr_dims published columns) */
  const float *col[MYR_NBR_MAX_COLUMNS]; /* entry -> published column k (position first) */
  int32_t dims, wrap;
  int32_t bins[3];          /* bins along x, y, z (1 along z in 2-D); cell = (z * by + y) * bx + x */
  float extent[3];
  float inv_width[3];       /* bins / extent */
  float reach;              /* the radius plus a margin for float rounding: a walk around a point
                               visits the bins of every coordinate within reach of it */
} myr_nbr_view;

/* The bin along `axis` of coordinate c: clamped into [0, bins) (NaN goes to 0). */
/* Sorts a bin's slots [b, e) by agent id (insertion sort: bins hold a few agents); the CPU
 * publish and the device's large bins share it. */
MYR_HD static inline void myr_nbr_sort_bin(uint32_t *slot, const uint64_t *id, uint32_t b, uint32_t e) {
  for (uint32_t i = b + 1; i < e; i++) {
    uint32_t s = slot[i];
    uint64_t key = id[s];
    uint32_t j = i;
    while (j > b && id[slot[j - 1]] > key) {
      slot[j] = slot[j - 1];
      j--;
    }
    slot[j] = s;
  }
}

MYR_HD static inline int32_t myr_nbr_bin(const myr_nbr_view *s, int axis, float c) {
  float t = c * s->inv_width[axis];
  int32_t nb = s->bins[axis];
  if (!(t >= 0.0f)) return 0;
  if (t >= (float)nb) return nb - 1;
  return (int32_t)t;
}

/* The cell of a point (p[0..dims)). */
MYR_HD static inline int64_t myr_nbr_cell(const myr_nbr_view *s, float x, float y, float z) {
  int64_t bz = s->dims == 3 ? myr_nbr_bin(s, 2, z) : 0;
  return (bz * s->bins[1] + myr_nbr_bin(s, 1, y)) * s->bins[0] + myr_nbr_bin(s, 0, x);
}

/* The bins along `axis` that hold every coordinate within reach of c, as at most two runs of
 * consecutive bins in ascending order, [lo0, hi0] then [lo1, hi1] (empty when lo1 > hi1).
 * Closed: bin(c - reach) .. bin(c + reach), the bins clamped at the edges like every point's
 * (bins are monotone in the coordinate, so a point within reach lies in that range). Wrapped
 * (c in [0, extent)): the same range taken modulo the bins, split in two where it crosses an
 * edge, or every bin once when it spans them all. */
MYR_HD static inline void myr_nbr_span(const myr_nbr_view *s, int axis, float c, int32_t *lo0, int32_t *hi0,
                                       int32_t *lo1, int32_t *hi1) {
  *lo1 = 1;
  *hi1 = 0;
  if (!s->wrap) {
    *lo0 = myr_nbr_bin(s, axis, c - s->reach);
    *hi0 = myr_nbr_bin(s, axis, c + s->reach);
    return;
  }
  int32_t nb = s->bins[axis];
  if (!(c >= 0.0f && c < s->extent[axis])) c = 0.0f; /* outside the torus (NaN): any bin will do */
  int32_t bl = (int32_t)floorf((c - s->reach) * s->inv_width[axis]);
  int32_t bh = (int32_t)floorf((c + s->reach) * s->inv_width[axis]);
  if (bh - bl + 1 >= nb) {
    *lo0 = 0;
    *hi0 = nb - 1;
  } else if (bl < 0) { /* 0 .. bh, then the wrapped bl + nb .. nb - 1 */
    *lo0 = 0;
    *hi0 = bh;
    *lo1 = bl + nb;
    *hi1 = nb - 1;
  } else if (bh >= nb) { /* the wrapped 0 .. bh - nb, then bl .. nb - 1 */
    *lo0 = 0;
    *hi0 = bh - nb;
    *lo1 = bl;
    *hi1 = nb - 1;
  } else {
    *lo0 = bl;
    *hi0 = bh;
  }
}

/* The displacement to - from along an axis: the nearest image when `wrap` (the space's wrap
 * flag). A caller that tests the flag once, outside its loop over candidates, and passes the
 * constant gets a loop without the test once inlined (models/circles/circles.h). */
MYR_HD static inline float myr_nbr_delta_wrap(const myr_nbr_view *s, int axis, float from, float to, int wrap) {
  float d = to - from;
  if (wrap) {
    float e = s->extent[axis], half = 0.5f * e;
    if (d > half) d -= e;
    else if (d < -half) d += e;
  }
  return d;
}

/* The displacement to - from along an axis: the nearest image in a wrapped space. */
MYR_HD static inline float myr_nbr_delta(const myr_nbr_view *s, int axis, float from, float to) {
  return myr_nbr_delta_wrap(s, axis, from, to, s->wrap);
}

/* Runs the statement(s) after `end` once for every run of consecutive published entries
 * [b, end) (uint32_t) in the bins within reach of the point (x, y, z) (z ignored in 2-D): the
 * bins of a row along x are contiguous in the snapshot, so a run is one row's bins from
 * x - reach to x + reach (two runs where a wrapped row splits). Runs come in ascending cell
 * order, so walking each from b up visits the entries in MYR_NBR_FOREACH's order; a caller
 * that owns the inner loop can count a run at once (end - b) or unroll it. Loops over runs,
 * not arrays, so that GPU code keeps everything in registers. */
#define MYR_NBR_FOREACH_RUN(s, x, y, z, b, end, ...)                                                  \
  do {                                                                                                 \
    const myr_nbr_view *ns_ = (s);                                                                     \
    int32_t zl0_ = 0, zh0_ = 0, zl1_ = 1, zh1_ = 0, yl0_, yh0_, yl1_, yh1_, xl0_, xh0_, xl1_, xh1_;     \
    if (ns_->dims == 3) myr_nbr_span(ns_, 2, (z), &zl0_, &zh0_, &zl1_, &zh1_);                        \
    myr_nbr_span(ns_, 1, (y), &yl0_, &yh0_, &yl1_, &yh1_);                                             \
    myr_nbr_span(ns_, 0, (x), &xl0_, &xh0_, &xl1_, &xh1_);                                             \
    for (int zr_ = 0; zr_ < 2; zr_++)                                                                  \
      for (int32_t zc_ = zr_ ? zl1_ : zl0_; zc_ <= (zr_ ? zh1_ : zh0_); zc_++)                         \
        for (int yr_ = 0; yr_ < 2; yr_++)                                                              \
          for (int32_t yc_ = yr_ ? yl1_ : yl0_; yc_ <= (yr_ ? yh1_ : yh0_); yc_++)                     \
            for (int xr_ = 0; xr_ < 2; xr_++) {                                                        \
              int32_t xa_ = xr_ ? xl1_ : xl0_, xb_ = xr_ ? xh1_ : xh0_;                                \
              if (xa_ > xb_) continue;                                                                 \
              int64_t row_ = ((int64_t)zc_ * ns_->bins[1] + yc_) * ns_->bins[0];                       \
              const uint32_t b = ns_->start[row_ + xa_], end = ns_->start[row_ + xb_ + 1];             \
              { __VA_ARGS__ }                                                                          \
            }                                                                                          \
  } while (0)

/* Runs the statement(s) after `e` for every published entry e (a uint32_t) in the bins within
 * reach of the point (x, y, z) (z ignored in 2-D), in ascending cell order and ascending id within a
 * cell. Entries are candidates: the caller tests the distance (myr_nbr_delta) and excludes the
 * agent's own entry by id. `break` leaves only the innermost run; use a flag to stop early. */
#define MYR_NBR_FOREACH(s, x, y, z, e, ...)                                                            \
  MYR_NBR_FOREACH_RUN(s, x, y, z, nb_b_, nb_end_, {                                                    \
    for (uint32_t e = nb_b_; e < nb_end_; e++) { __VA_ARGS__ }                                         \
  })

/* ---- the engine's side ---------------------------------------------------------------------
 * Binning a space: bins along each axis and their inverse width; returns 0 and fills `why`
 * when the space cannot be binned (bad extent or radius; a wrapped axis with fewer than 3
 * bins). Shared by the CPU and CUDA publishers. */
int myr_nbr_layout(const myr_nbr_space *sp, myr_nbr_view *out, char *why, int why_size);
/* Entries a snapshot's memory is sized for: the agent slots, plus the ghosts with room to spare
 * (a team's ghost count changes every window). MYR_ERR_CONFIG when entries would not fit the
 * snapshot's 32-bit indices. Shared by the CPU and CUDA publishers. */
myr_status myr_nbr_room(int64_t capacity, int64_t ghosts, int64_t *room, myr_error *err);

struct myr_sim;
struct myr_view;

/* For a model with neighbour queries (myr_model.nbr_dims > 0), called by the CPU step before
 * decide: at the first step of each window (and whenever nothing is published yet) publishes
 * the snapshot of the current agents and the ghosts last given (myr_neighbours_ghosts); then
 * sets v->nbr. Returns MYR_OK, MYR_ERR_MODEL for a descriptor or space that cannot be binned,
 * MYR_ERR_CONFIG for a team of several ranks that is not spatial_parallel, MYR_ERR_INTERNAL
 * for such a team whose partition gave no ghosts since the last publish, MYR_ERR_NOMEM. Does
 * nothing for models without neighbour queries. */
myr_status myr_neighbours_view(struct myr_sim *sim, struct myr_view *v, myr_error *err);
/* Ghost entries travel between ranks as rows: the agent id (8 bytes), then its nbr_columns
 * (f32, in the descriptor's order, position first), padded to a multiple of 8 bytes. */
static inline int myr_nbr_ghost_row_bytes(int n_columns) { return (8 + 4 * n_columns + 7) / 8 * 8; }
/* The ghosts for the next CPU publish of sim (spatial_parallel; called by the partition after
 * each migration): n rows (myr_nbr_ghost_row_bytes) that the caller owns and keeps unchanged
 * until that publish, which copies them into the snapshot. Any order: the publish sorts.
 * MYR_ERR_NOMEM when the snapshot's state cannot be allocated. */
myr_status myr_neighbours_ghosts(struct myr_sim *sim, const void *rows, int64_t n, myr_error *err);
/* Frees the CPU snapshot of a sim (myr_sim_destroy). */
void myr_neighbours_free(struct myr_sim *sim);
/* The checks shared by both backends before publishing (descriptor, ranks, space). */
myr_status myr_neighbours_check(const struct myr_sim *sim, myr_nbr_space *sp, myr_error *err);

#ifdef __cplusplus
}
#endif

#endif
