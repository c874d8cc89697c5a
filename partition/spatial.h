/* spatial_parallel on CPU ranks, threads of one process (shared memory, spatial.c) or one
 * process per rank (MPI, spatial_mpi.c); GPU ranks (partition/nccl.cu) take the tiles and halo
 * spans from here and exchange them over NCCL. The world is cut into px x py tiles
 * (distributed.grid: [px, py]; [1, R], the default, gives bands of rows): rank r = (rx, ry) =
 * (r % px, r / px) owns the columns [col0[rx], col0[rx + 1]) of the rows [row0[ry],
 * row0[ry + 1]) and the agents standing there. Bands are cut even or by device_weights, tiles
 * even or by the summed weights of each column and row of tiles; with balance: dynamic the cuts
 * move at a sync every rebalance_interval steps
 * (myr_spatial_shift: the cells that change owner are handed over, halos refreshed, agents and
 * ghosts follow).
 * Every rank keeps full-size layers, but only its own cells and a halo of `halo` cells on every
 * side, corners included (wrapped worlds wrap in x and y), are kept current. The halo is a list
 * of spans, runs of cells of one row with one owner (a band's halo: whole rows), exchanged at
 * the sync's four points:
 *   after act           claims placed in the halo are added into their owner's cells, and the
 *                       halo is cleared (transient layers written in act);
 *   after cells_begin   every layer's halo is copied from its owners (agents standing in the
 *                       halo settle against the owner's totals);
 *   after sync_agents   the same sum for the layers written in sync_agents;
 *   after cells_end     transient halos cleared, persistent halos copied from the owners;
 *   after compaction    agents that left the tile move to the rank that owns their cell.
 * halo = model reach + sync_frequency x max_speed, along x and y alike: everything an agent
 * reads or writes within a window lies in its tile or the halo, so every rank computes what one
 * rank would.
 *
 * Models with neighbour queries in continuous space (sim/neighbours.h; no grid) use the bins of
 * the neighbour layout as cells (myr_spatial_use_bins): an agent's cell is its (x, y) bin, and
 * after each migration every rank gets *ghosts*, copies (id and published columns) of the
 * other ranks' agents whose bin lies in its halo, which its next snapshot bins with its own
 * agents. halo = the walk's reach + (sync_frequency - 1) x max_step, in bins, plus one: the
 * bins any walk of the window visits hold the entries one rank's snapshot would. */
#ifndef MYR_PARTITION_SPATIAL_H
#define MYR_PARTITION_SPATIAL_H

#include <stddef.h>

#include "partition/host.h"
#include "sim/neighbours.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct myr_spatial_box {
  char *data;
  size_t used, cap;
} myr_spatial_box;

typedef struct myr_spatial {
  myr_host_team host;      /* first: the host transport's barrier and views */
  int size, px, py;        /* size = px x py ranks */
  int32_t width, height, wrap, halo;
  int32_t *row0;           /* [py + 1]: the first row of each band of rows */
  int32_t *col0;           /* [px + 1]: the first column of each band of columns */
  /* which band of rows (columns) holds each row (column), and which rows (columns) lie within
   * `halo` of each band, its own included: near_rows[ry * height + y], near_cols[rx * width + x] */
  int32_t *row_band, *col_band;
  uint8_t *near_rows, *near_cols;
  myr_sim **sims;          /* [size]: every rank's sim, for the exchanges */
  myr_spatial_box *boxes;  /* [size][size]: agents leaving rank a for rank b at [a * size + b] */
  int64_t *moves;          /* [size][size]: GPU ranks' counts of agents leaving a for b */
  /* cells are neighbour bins (myr_spatial_use_bins): the layout, the f32 columns holding x and
   * y, the published columns, each rank's ghost rows (CPU ranks), GPU ranks' counts of ghosts
   * sent from a to b at [a * size + b] */
  int by_bins;
  myr_nbr_view bins;
  int xcol, ycol, n_cols, cols[MYR_NBR_MAX_COLUMNS];
  myr_spatial_box *ghosts; /* [size] */
  int64_t *ghost_counts;   /* [size][size] */
  /* one process per rank (spatial_mpi.c): this process's packed halo rows out and in, and
   * whether its exchanges saw a failure that every process agreed on (the step's own
   * agreement then has happened already) */
  myr_spatial_box mpi_out, mpi_in;
  int agreed_failure;
} myr_spatial;

/* px x py tiles (size = px x py ranks) cut at col0[px + 1] and row0[py + 1] of a width x
 * height world. */
myr_status myr_spatial_init(myr_spatial *sp, int px, int py, const int32_t *col0, const int32_t *row0, int32_t width,
                            int32_t height, int32_t wrap, int32_t halo, myr_error *err);
void myr_spatial_free(myr_spatial *sp);
/* Cells are the (x, y) bins of `layout` (width and height must be layout->bins[0] and [1]) for
 * model m's agents, whose neighbour snapshot gets ghosts at every migration. */
myr_status myr_spatial_use_bins(myr_spatial *sp, const myr_nbr_view *layout, const myr_model *m, myr_error *err);
/* The row (column) of agent slot i of sim (host columns): its grid row (column), or its bin. */
int32_t myr_spatial_row_of(const myr_spatial *sp, const myr_sim *sim, int64_t i);
int32_t myr_spatial_col_of(const myr_spatial *sp, const myr_sim *sim, int64_t i);
/* The rank owning cell (x, y), and the one owning agent slot i of sim. */
int myr_spatial_owner_at(const myr_spatial *sp, int32_t x, int32_t y);
int myr_spatial_rank_of(const myr_spatial *sp, const myr_sim *sim, int64_t i);
/* Rank r's tile: columns [*x0, *x0 + *nx) of rows [*y0, *y0 + *ny). */
void myr_spatial_tile(const myr_spatial *sp, int r, int32_t *x0, int32_t *nx, int32_t *y0, int32_t *ny);
/* Rank r's tile of a full-size layer of es-byte cells, row after row, copied from `from` to
 * `to`; either may instead be the tile packed (from_packed, to_packed: its rows one after
 * another). Returns the packed tile's bytes. */
size_t myr_spatial_copy_tile(const myr_spatial *sp, int r, size_t es, const void *from, int from_packed, void *to,
                             int to_packed);
/* A span of a halo: the columns [x0, x0 + n) of row y, all owned by rank `owner`. */
typedef struct myr_spatial_span {
  int32_t y, x0, n;
  int owner;
} myr_spatial_span;
/* Rank r's halo as spans (sp keeps them; they change when the bands move): runs of cells of one
 * row with one owner, in (row, column) order; a band's halo is whole rows. The transports
 * derive every exchange from them (the GPU ranks' too, nccl.cu). */
int myr_spatial_halo_spans(const myr_spatial *sp, int r, const myr_spatial_span **spans);

/* myr_rank.sync_layers and .migrate for spatial CPU ranks (r->team is the myr_spatial). */
myr_status myr_spatial_sync(myr_rank *r, myr_sim *sim, const myr_view *v, int point, void *stream, myr_error *err);
myr_status myr_spatial_migrate(myr_rank *r, myr_sim *sim, myr_error *err);
/* The same for CPU ranks that are processes (mpirun, spatial_mpi.c): each process sends what
 * the others would have pulled, MPI point to point; the same bits as the threads' path. Every
 * exchange first agrees with every process on whether one has failed, so that all stop at
 * the same collective (sp->agreed_failure). */
myr_status myr_spatial_mpi_sync(myr_rank *r, myr_sim *sim, const myr_view *v, int point, void *stream,
                                myr_error *err);
myr_status myr_spatial_mpi_migrate(myr_rank *r, myr_sim *sim, myr_error *err);

/* balance dynamic (partition/balance.h chooses the cuts). count[y] (count[x]) += this rank's
 * agents in row y (column x); after a sync's migration every agent stands in its rank's tile,
 * so the ranks of one process may count into one array at once. */
void myr_spatial_count_rows(const myr_spatial *sp, const myr_sim *sim, int64_t *count);
void myr_spatial_count_cols(const myr_spatial *sp, const myr_sim *sim, int64_t *count);
/* The agents of sim, rank me's, that stand on another rank's cells under the present cuts. */
int64_t myr_spatial_count_leaving(const myr_spatial *sp, const myr_sim *sim, int me);
/* A team's cuts: first columns col0[px + 1] and first rows row0[py + 1]. */
typedef struct myr_spatial_cuts {
  const int32_t *col0, *row0;
} myr_spatial_cuts;
/* The cells rank a holds under the cuts `a_cuts` and rank b under `b_cuts` share: rows
 * [first->y, first->y + return) of columns [first->x0, first->x0 + first->n); 0 rows when none.
 * Tiles are plain products of a range of columns and a range of rows. The CPU and GPU ranks'
 * hand-over of cells when the cuts move both take their blocks from here. */
int32_t myr_spatial_shared_cells(const myr_spatial *sp, myr_spatial_cuts a_cuts, int a, myr_spatial_cuts b_cuts, int b,
                                 myr_spatial_span *first);
/* The tiles become col0[px + 1] x row0[py + 1] (bands: col0 stays [0, width]); the halo lists
 * (and the rows and columns near each tile) follow. Call it while no rank exchanges anything.
 * MYR_ERR_NOMEM when a halo list cannot grow. */
myr_status myr_spatial_set_cuts(myr_spatial *sp, const int32_t *col0, const int32_t *row0, myr_error *err);
/* After myr_spatial_set_cuts, on every rank (threads together; under mpirun every process, the
 * _mpi one): the cells that changed owner go to their new owner, every layer, from the owner
 * under `old`; halos are refreshed as after a sync (transient layers cleared, persistent ones
 * copied from the owners); agents move to the rank that owns their cell, and every rank gets
 * its ghosts for the new tiles. */
myr_status myr_spatial_shift(myr_rank *r, myr_sim *sim, myr_spatial_cuts old, myr_error *err);
myr_status myr_spatial_mpi_shift(myr_rank *r, myr_sim *sim, myr_spatial_cuts old, myr_error *err);

#ifdef __cplusplus
}
#endif

#endif
