/* The simulation on one rank: agent columns (structure of arrays, DESIGN §3), grid layers,
 * the step loop's state. sim/state.c owns memory and compaction, sim/step.c runs the phases
 * of a step (models/model.h), sim/stats.c computes statistics.
 *
 * Agent order in memory is not part of the result: every per-agent computation depends only
 * on the agent's own data, the published world and randomness keyed by id, so hashes,
 * snapshots and checkpoints are written in id order (myr_sim_id_order). */
#ifndef MYR_SIM_H
#define MYR_SIM_H

#include <stdint.h>

#include "models/model.h"
#include "sim/config.h"
#include "sim/status.h"
#include "sim/view.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct myr_agents {
  int64_t n;        /* slots in use */
  int64_t capacity; /* slots allocated */
  uint64_t *id;
  uint8_t *alive, *action, *children; /* action, children: scratch of one step, not moved by compaction */
  int n_columns;
  int components[MYR_MAX_COLUMNS]; /* resolved (MYR_PER_WINDOW_STEP -> sync_frequency) */
  void *col[MYR_MAX_COLUMNS];
} myr_agents;

typedef struct myr_grid {
  int32_t width, height, wrap;
  int n_layers;
  void *layer[MYR_MAX_LAYERS];
} myr_grid;

/* Engine statistics come first in every record, then the model's. */
enum { MYR_STAT_POPULATION, MYR_STAT_BIRTHS, MYR_STAT_DEATHS, MYR_ENGINE_STATS };

struct myr_backend_ops;
struct myr_search;
typedef struct myr_sim myr_sim;

/* One rank of a team (partition/). The engine calls it where a step needs the other ranks;
 * sim->rank is NULL when the sim is the only rank. */
typedef struct myr_rank myr_rank;

/* Where a sync calls its team (myr_rank.sync_layers): after act (claims written), after
 * sync_cells_begin, after sync_agents (settlements written), after sync_cells_end. The first
 * and third equal myr_written_in's values: the phases whose layers are summed there. */
typedef enum {
  MYR_SYNC_AFTER_ACT = MYR_WRITTEN_IN_ACT,
  MYR_SYNC_AFTER_AGENTS = MYR_WRITTEN_IN_SYNC_AGENTS,
  MYR_SYNC_AFTER_CELLS_BEGIN,
  MYR_SYNC_AFTER_CELLS_END
} myr_sync_point;
struct myr_rank {
  int index, count;
  /* Called by every rank at each point of a sync (myr_sync_point), in step: brings the
   * layers to what one rank would hold there (data_parallel: sums the transient layers
   * written in the phase just ended over every rank; spatial_parallel: halo sums, copies and
   * clearing). v's layer pointers are host memory on the CPU backend and device memory on a
   * device backend, whose cudaStream_t is `stream`. */
  myr_status (*sync_layers)(myr_rank *r, myr_sim *sim, const myr_view *v, int point, void *stream,
                            myr_error *err);
  /* Agents that left this rank's part of the world go to the rank that owns it
   * (spatial_parallel; NULL otherwise). The CPU backend calls it after the sync's compaction
   * (host memory); a device backend before it, and the departed are left dead for that one
   * compaction, the arrivals appended after the slots in use. */
  myr_status (*migrate)(myr_rank *r, myr_sim *sim, myr_error *err);
  int64_t departed; /* agents migrate marked dead here (they left), for the device's compaction */
  /* Called by every rank at the end of each sync window, after the last sync_layers:
   * window[MYR_MAX_FLOWS] holds this rank's flows of the window; on return it holds their
   * exact integer sum over the team, the same on every rank (myr_view.flows_window). Host
   * memory on the CPU backend; device memory on a device backend, ordered on `stream`. */
  myr_status (*sum_flows)(myr_rank *r, myr_sim *sim, int64_t *window, void *stream, myr_error *err);
  /* distributed.communication: async (spatial_parallel). Cells of this rank's tile within
   * border_x columns or border_y rows of its edges take part in exchanges and the others never
   * do (negative: any cell may, data_parallel). With `defer` set by the caller, a device
   * backend's sync_layers may return with the exchange still in flight, and sync_wait (NULL for
   * transports whose exchanges are done on return) makes `stream` wait for it. */
  int32_t border_x, border_y;
  int defer;
  myr_status (*sync_wait)(myr_rank *r, void *stream, myr_error *err);
  void *team;          /* the partition layer's */
  int device;          /* the GPU of a device backend */
  double seconds_comm; /* seconds in sync_layers, sum_flows and migrate */
  double bytes_moved;  /* bytes this rank sent in sync_layers and sum_flows */
};

struct myr_sim {
  const myr_config *cfg; /* not owned; must outlive the sim */
  /* Where agents are stepped: NULL = the CPU backend (this file's engine); otherwise a device
   * backend (sim/backend.h) whose state is `device`, and the host arrays are a cache. */
  const struct myr_backend_ops *backend;
  void *device;
  char backend_why[256]; /* the backend's name and why it was chosen, for the user */
  struct myr_search *search; /* policy.kind network | mcts: the network and search state */
  myr_error error;       /* a device failure seen where no status could be returned (stats) */
  /* Set by the caller before myr_sim_step when it will call myr_sim_stats right after: a
   * device backend may then compute statistics inside the step's own pass. */
  int record_hint;
  const myr_model *model;
  const void *params;    /* cfg->model_params */
  myr_agents agents;
  myr_grid grid;
  uint64_t step;         /* steps completed; the next step computed is `step` */
  int threads;           /* OpenMP threads used */
  /* Flows since the previous record: engine births/deaths and the model's counters. */
  int64_t births, deaths;
  int64_t flow[MYR_MAX_FLOWS];
  /* The published flows (myr_view.flows_window, flows_total: summed over the team at the end
   * of each sync window; saved in checkpoints) and this rank's flows of the window in progress
   * (CPU backend; a device backend keeps those on the device). */
  int64_t flows_window[MYR_MAX_FLOWS], flows_total[MYR_MAX_FLOWS];
  int64_t flow_open[MYR_MAX_FLOWS];
  /* Wall seconds spent in each phase since creation. */
  double seconds_decide, seconds_act, seconds_sync, seconds_stats;
  /* Partition (partition/): the team, if any; whether this rank runs the cells' flows and
   * statistics (a replicated grid counts them on one rank only); the id of the first agent
   * of the initial population (ids first_id, first_id + 1, ...). */
  myr_rank *rank;
  int owns_cells;
  uint64_t first_id;
  /* The cells this rank runs the cell functions (sync, statistics) on: of the whole rows
   * [cells_first, cells_first + cells_n), the columns [cells_x0, cells_x0 + cells_nx) of each;
   * all of them unless a partition owns only a band of rows (whole rows: cells_nx = width) or a
   * tile of spatial_parallel's grid: [px, py] (part of each row; a device backend launches its
   * cell kernels row by row there). */
  int64_t cells_first, cells_n;
  int32_t cells_x0, cells_nx;
  /* The neighbour snapshot, for models with nbr_dims: the CPU backend's (sim/neighbours.c)
   * and a device backend's (sim/cuda/neighbours.cu). */
  struct myr_nbr_state *nbr;
  void *nbr_device;
};

/* Creates a simulation at step 0 from a loaded config on the backend that run.backend chooses
 * (sim/backend.h): allocates capacity, gives agents ids 0 .. count-1, runs the model's init
 * functions. *out is owned by the caller (myr_sim_destroy). Fails with MYR_ERR_NOMEM (naming
 * the bytes asked and what would fit), MYR_ERR_BACKEND, or the model's setup error. */
myr_status myr_sim_create(const myr_config *cfg, myr_sim **out, myr_error *err);
/* Host memory only, zeroed, no agents and no backend: for loading a checkpoint, which fills
 * the host arrays and then calls myr_sim_start_backend(). */
myr_status myr_sim_create_empty(const myr_config *cfg, myr_sim **out, myr_error *err);
/* The same for one rank of a team: `count` agents with ids first_id, first_id + 1, ... in
 * `capacity` slots (create_part), or empty (create_empty_part); sim->rank = rank. */
myr_status myr_sim_create_part(const myr_config *cfg, myr_rank *rank, uint64_t first_id, int64_t count,
                               int64_t capacity, myr_sim **out, myr_error *err);
myr_status myr_sim_create_empty_part(const myr_config *cfg, int64_t capacity, myr_sim **out, myr_error *err);
/* Chooses the backend for sim->cfg and, for a device backend, uploads the host state. */
myr_status myr_sim_start_backend(myr_sim *sim, myr_error *err);
/* Makes the host arrays hold the current state (a download from a device backend; nothing on
 * the CPU backend). Call before reading columns or layers: hash, snapshots, checkpoints. */
myr_status myr_sim_to_host(myr_sim *sim, myr_error *err);
void myr_sim_destroy(myr_sim *sim);
/* Agents as packed rows, for moving them between ranks (partition/): a row is the id, then every
 * component of every column, in column order (agent_row_bytes bytes). pack writes slot's row;
 * append_agent_row adds a row as a new alive agent after the slots in use (the caller checks
 * the capacity); copy_agent appends slot `slot` of `from` to `to` (same model and config). */
size_t myr_sim_agent_row_bytes(const myr_sim *sim);
void myr_sim_pack_agent(const myr_sim *sim, int64_t slot, void *row);
void myr_sim_append_agent_row(myr_sim *sim, const void *row);
void myr_sim_copy_agent(myr_sim *to, const myr_sim *from, int64_t slot);
/* Appends every alive agent of `from` to `to` in slot order, as copy_agent one by one would,
 * column by column on sim->threads threads (gathers of many millions of agents). Returns
 * MYR_ERR_NOMEM (nothing appended) when its index cannot be allocated. */
myr_status myr_sim_append_alive(myr_sim *to, const myr_sim *from, myr_error *err);

/* Copies the network's host weights of `from` into `to` (same shape), e.g. into a gathered
 * state that goes into a checkpoint. */
void myr_sim_copy_network(myr_sim *to, const myr_sim *from);
/* Copies the published flows (flows_window, flows_total) of `from` into `to`: every rank holds
 * the same, so one rank's go into a gathered state, and a split state's into every rank. */
void myr_sim_copy_published(myr_sim *to, const myr_sim *from);

/* Advances one step (decide, act, and sync when the step closes a window).
 * MYR_ERR_CAPACITY if births would exceed agents.capacity: the run must stop there (claims are
 * settled and deaths marked, but no child is created); what was recorded before stays in the
 * result's .part file. */
myr_status myr_sim_step(myr_sim *sim, myr_error *err);

/* 1 if the step just completed (sim->step) closed a sync window. */
int myr_sim_at_sync(const myr_sim *sim);

/* The view of the current state, with view.step = sim->step. */
myr_view myr_sim_view(const myr_sim *sim);

/* Number of statistics (engine's then model's), their names and docs. */
int myr_sim_stat_count(const myr_sim *sim);
const char *myr_sim_stat_name(const myr_sim *sim, int k);
const char *myr_sim_stat_doc(const myr_sim *sim, int k);
/* Computes all statistics into out[myr_sim_stat_count()] and resets the flows. A device
 * failure here leaves NaNs and is returned by the next myr_sim_step (sim->error). */
void myr_sim_stats(myr_sim *sim, double *out);

/* The same in two halves, for teams of ranks: each rank's exact integer parts (accumulators,
 * flows since the previous record, which are then reset; cell statistics only where
 * sim->owns_cells), summed over ranks, then turned into statistics. stat_parts returns 0
 * after a device failure (finish then writes NaNs). */
typedef struct myr_stat_parts {
  int64_t acc[MYR_MAX_ACC], flow[MYR_MAX_FLOWS];
  int64_t births, deaths, population;
} myr_stat_parts;
int myr_sim_stat_parts(myr_sim *sim, myr_stat_parts *p);
void myr_stat_parts_add(myr_stat_parts *total, const myr_stat_parts *p);
void myr_sim_stats_finish(const myr_sim *sim, const myr_stat_parts *p, int ok, double *out);

int64_t myr_sim_population(const myr_sim *sim);

/* The slots of alive agents sorted by id: *order (malloc'd, caller frees) holds *n slots.
 * Returns MYR_ERR_INTERNAL if two alive agents share an id (a child-id collision). */
myr_status myr_sim_id_order(const myr_sim *sim, int64_t **order, int64_t *n, myr_error *err);

/* Bytes of host memory per agent slot and per cell for this model (for capacity checks). */
size_t myr_sim_bytes_per_agent(const myr_model *m, int sync_frequency);
size_t myr_sim_bytes_per_cell(const myr_model *m);

/* Runs fn over [0, n) in chunks on the OpenMP team; flows (n_flows counters) are summed into
 * `flow_total` in a fixed chunk order. Exposed for the backends and tests. */
void myr_parallel_ranges(const myr_sim *sim, const myr_view *v, myr_range_fn fn, int64_t n,
                         int n_flows, int64_t *flow_total);
/* The same over this rank's cells: [sim->cells_first, + sim->cells_n), of each row its columns
 * [sim->cells_x0, + sim->cells_nx) (a tile: fn gets ranges within one row). */
void myr_parallel_cells(const myr_sim *sim, const myr_view *v, myr_range_fn fn, int n_flows, int64_t *flow_total);

/* communication: async. A rectangle of cells: columns [x0, x0 + nx) of rows [y0, y0 + ny). The
 * rank's cells cut into the part no exchange touches (border 0: further than rank->border_x
 * columns and border_y rows from its tile's edges) or the strips around it (border 1): up to 4
 * rectangles into out; returns how many. myr_sim_with_cells narrows the sim's cells to one of
 * them (the backends' cell functions then run over it); myr_sim_restore_cells undoes it. */
typedef struct myr_cell_rect {
  int64_t x0, nx, y0, ny;
} myr_cell_rect;
int myr_sim_tile_part(const myr_sim *sim, int border, myr_cell_rect out[4]);
myr_cell_rect myr_sim_with_cells(myr_sim *sim, myr_cell_rect r);
void myr_sim_restore_cells(myr_sim *sim, myr_cell_rect was);

#ifdef __cplusplus
}
#endif

#endif
