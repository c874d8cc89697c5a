/* Teams of ranks (team.h): the split of agents over ranks, the rank threads, statistics summed
 * over ranks, and the gather of every rank's agents for the hash, snapshots and checkpoints. */
#include "partition/team.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "partition/balance.h"
#include "partition/host.h"
#include "partition/mpi.h"
#include "partition/spatial.h"
#include "partition/train.h"
#include "partition/nccl.h"
#include "sim/backend.h"
#include "sim/checkpoint.h"
#include "sim/output.h"
#include "sim/sim_internal.h"

struct myr_team {
  const myr_config *cfg;
  int size;             /* ranks in the team */
  int local, base;      /* ranks in this process: base, base + 1, ..., base + local - 1 */
  int mpi;              /* one process per rank (mpirun) */
  int gpu;              /* ranks are GPUs */
  myr_sim **sim;        /* [local] */
  myr_rank *rank;       /* [local] */
  int64_t *capacity;    /* [local] agent slots */
  int device0;          /* GPU of the first local rank */
  double *seconds_step; /* [local] wall seconds in myr_sim_step */
  /* balance dynamic: step seconds and agent-steps at the last rebalance, and its step */
  double *rebalanced_seconds, *agent_steps, *rebalanced_agent_steps, *rebalanced_comm;
  uint64_t rebalanced_at;
  int rebalances, rebalances_moved; /* rebalances done, and those that moved work */
  double *handed;       /* [size] agents each rank handed to its neighbours (the same on every process) */
  int64_t *row_agents;  /* balance dynamic under spatial_parallel: [rows + 1] agents before each row */
  int64_t *col_agents;  /* ... and with tiles [columns + 1] before each column */
  myr_host_team own_host;
  myr_spatial spatial;  /* strategy spatial_parallel */
  myr_host_team *host;  /* own_host, or spatial's */
  int spatial_on;
  int32_t halo;
  int32_t rows;         /* spatial_parallel: rows the bands cut (grid rows, or neighbour bins) */
  int px, py;           /* spatial_parallel: px x py tiles (distributed.grid; px = 1: bands of rows) */
  int by_bins;          /* rows are the neighbour layout's bins along y (myr_spatial_use_bins) */
  myr_nbr_view bins;
  char describe[320];
};

/* ---- the split ------------------------------------------------------------------------------ */

/* Whether the split follows device_weights: balance proportional, or dynamic's start when the
 * weights are given. */
static int weighted(const myr_team *t) {
  const myr_config *cfg = t->cfg;
  return cfg->balance == MYR_BALANCE_PROPORTIONAL ||
         (cfg->balance == MYR_BALANCE_DYNAMIC && cfg->device_weights.n == t->size);
}

/* Rank r's share of `total` by the weights: [cut(r), cut(r + 1)), cut(size) = total. */
static int64_t cut(const myr_team *t, int64_t total, int r) {
  const myr_config *cfg = t->cfg;
  if (!weighted(t)) return (int64_t)((__int128)total * r / t->size);
  int64_t before = 0, all = 0;
  for (int q = 0; q < t->size; q++) {
    all += cfg->device_weights.v[q];
    if (q < r) before += cfg->device_weights.v[q];
  }
  return (int64_t)((__int128)total * before / all);
}

/* Agent slots of rank r: its share of agents.capacity, and never fewer than its agents; all of
 * it under spatial_parallel, where agents gather wherever the world draws them. */
static int64_t rank_capacity(const myr_team *t, int r, int64_t agents) {
  int64_t total = myr_config_capacity(t->cfg);
  if (t->cfg->strategy == MYR_STRATEGY_SPATIAL_PARALLEL || t->cfg->balance == MYR_BALANCE_DYNAMIC) return total;
  int64_t share = cut(t, total, r + 1) - cut(t, total, r);
  return share > agents ? share : (agents > 0 ? agents : 1);
}

/* The first column (axis 0) or row (axis 1) of band b of those that cut `total` cells along the
 * axis: bands of rows (px = 1) as the split says, over the whole width; tiles' bands of columns
 * (rows) even, or by the weights, each band the summed weights of the ranks in its column (row)
 * of tiles. */
static int64_t band_start(const myr_team *t, int64_t total, int axis, int b) {
  if (t->px == 1) return axis ? cut(t, total, b) : (b ? total : 0);
  if (!weighted(t)) return (int64_t)((__int128)total * b / (axis ? t->py : t->px));
  int64_t before = 0, all = 0;
  for (int q = 0; q < t->size; q++) {
    int band = axis ? q / t->px : q % t->px;
    all += t->cfg->device_weights.v[q];
    if (band < b) before += t->cfg->device_weights.v[q];
  }
  return (int64_t)((__int128)total * before / all);
}

/* ---- checks before anything runs ------------------------------------------------------------ */

/* distributed.grid: px x py tiles, px x py = the rank count (py 0: ranks / px); px = 1 gives
 * bands of rows. Tiles are cut even or by the weights (band_start); under balance: dynamic their
 * cuts move. */
static myr_status choose_tiles(myr_team *t, myr_error *err) {
  const myr_config *cfg = t->cfg;
  long long px = cfg->grid.v[0], py = cfg->grid.v[1], ranks = t->size;
  t->px = 1, t->py = t->size;
  if (cfg->strategy != MYR_STRATEGY_SPATIAL_PARALLEL) {
    if (px == 1 && py == 0) return MYR_OK;
    return myr_fail(err, MYR_ERR_CONFIG, "distributed.grid: [%lld, %lld] cuts spatial_parallel's world into tiles, "
                    "but distributed.strategy is data_parallel: leave distributed.grid out or use spatial_parallel",
                    px, py);
  }
  if (py == 0 && ranks % px != 0)
    return myr_fail(err, MYR_ERR_CONFIG, "distributed.grid: [%lld, 0] (py 0 = ranks / px) needs a rank count that "
                    "%lld divides, but the team has %lld rank%s", px, px, ranks, ranks == 1 ? "" : "s");
  if (py == 0) py = ranks / px;
  if (px * py != ranks)
    return myr_fail(err, MYR_ERR_CONFIG, "distributed.grid: [%lld, %lld] makes %lld x %lld = %lld tiles but the team "
                    "has %lld rank%s; px x py must equal the rank count (distributed.ranks, or mpirun's processes)",
                    px, py, px, py, px * py, ranks, ranks == 1 ? "" : "s");
  t->px = (int)px, t->py = (int)py;
  return MYR_OK;
}

/* Tiles (px > 1): along each axis cut into more than one band, every band at least a halo
 * thick. `unit` names the cells (cells, bins), `why` the halo's parts. */
static myr_status tiles_hold_halo(const myr_team *t, int64_t width, int64_t height, const char *unit, const char *why,
                                  myr_error *err) {
  static const char *side[2] = {"columns", "rows"}, *thick[2] = {"wide", "tall"}, *along[2] = {"x", "y"};
  for (int axis = 0; axis < 2; axis++) {
    int bands = axis ? t->py : t->px;
    int64_t total = axis ? height : width;
    for (int b = 0; b < bands && bands > 1; b++) {
      int64_t n = band_start(t, total, axis, b + 1) - band_start(t, total, axis, b);
      if (n < t->halo)
        return myr_fail(err, MYR_ERR_CONFIG,
                        "distributed.grid: [%d, %d] cuts the %lld %s of %s into %d, %lld %s %s, fewer than the halo "
                        "of %d %s (%s); use fewer tiles along %s, a larger world or a shorter sync window",
                        t->px, t->py, (long long)total, side[axis], unit, bands, (long long)n, side[axis],
                        thick[axis], (int)t->halo, unit, why, along[axis]);
    }
  }
  return MYR_OK;
}

/* spatial_parallel for a model with neighbour queries and no grid positions: the rows are the
 * neighbour layout's bins along y, and the halo (in bins) holds every bin a walk of the window
 * can visit from the band. An agent moves at most (sync_frequency - 1) x max_step before its
 * last walk of the window reads the snapshot, and a walk visits the bins within `reach`; from
 * a point in bin b, the bins of points within L are within ceil(L x bins / extent) of b, and
 * ceil(a) + ceil(b) <= ceil(a + b) + 1 splits the two parts; one more bin covers float
 * rounding in the bin arithmetic. */
static myr_status nbr_bands(myr_team *t, myr_error *err) {
  const myr_config *cfg = t->cfg;
  const myr_model *m = cfg->model_desc;
  myr_nbr_space sp;
  memset(&sp, 0, sizeof sp);
  char why[256] = "the descriptor gives no nbr_space";
  if (m->nbr_space) {
    m->nbr_space(cfg->model_params, &sp);
    sp.dims = m->nbr_dims;
  }
  if (!m->nbr_space || m->nbr_n_columns < 2 || !myr_nbr_layout(&sp, &t->bins, why, (int)sizeof why))
    return myr_fail(err, MYR_ERR_MODEL, "model %s: its space cannot be binned for neighbour queries: %s", m->name, why);
  if (!(sp.max_step > 0.0f) || !isfinite(sp.max_step))
    return myr_fail(err, MYR_ERR_CONFIG,
                    "distributed.strategy: model %s runs spatial_parallel only with a bound on how far an agent "
                    "moves in a step (myr_nbr_space.max_step, which it leaves at %g); use data_parallel on one rank",
                    m->name, (double)sp.max_step);
  double inv = t->bins.inv_width[1], inv_x = t->bins.inv_width[0];
  double halo = ceil((double)t->bins.reach * inv) + ceil((double)(cfg->sync_frequency - 1) * sp.max_step * inv) + 1;
  double halo_x = ceil((double)t->bins.reach * inv_x) + ceil((double)(cfg->sync_frequency - 1) * sp.max_step * inv_x) + 1;
  if (t->px > 1 && halo_x > halo) halo = halo_x; /* tiles: one halo along x and y */
  t->by_bins = 1;
  t->rows = t->bins.bins[1];
  t->halo = halo < (double)INT32_MAX ? (int32_t)halo : INT32_MAX;
  if (t->px > 1) {
    char parts[200];
    snprintf(parts, sizeof parts, "reach %g + (sync_frequency %lld - 1) x max_step %g, bins of %g x %g, plus one",
             (double)t->bins.reach, (long long)cfg->sync_frequency, (double)sp.max_step, 1.0 / inv_x, 1.0 / inv);
    return tiles_hold_halo(t, t->bins.bins[0], t->bins.bins[1], "neighbour bins", parts, err);
  }
  for (int r = 0; r < t->size; r++) {
    int64_t rows = cut(t, t->rows, r + 1) - cut(t, t->rows, r);
    if (rows < t->halo)
      return myr_fail(err, MYR_ERR_CONFIG,
                      "distributed.strategy: spatial_parallel gives rank %d %lld of the %d neighbour bins along y, "
                      "fewer than the halo of %d bins (reach %g + (sync_frequency %lld - 1) x max_step %g, bins of "
                      "%g, plus one); use fewer ranks, a larger space or a shorter sync window",
                      r, (long long)rows, (int)t->rows, (int)t->halo, (double)t->bins.reach,
                      (long long)cfg->sync_frequency, (double)sp.max_step, 1.0 / inv);
  }
  return MYR_OK;
}

static myr_status check_settings(myr_team *t, myr_error *err) {
  const myr_config *cfg = t->cfg;
  const myr_model *m = cfg->model_desc;
  if (cfg->balance == MYR_BALANCE_PROPORTIONAL && cfg->device_weights.n != t->size)
    return myr_fail(err, MYR_ERR_CONFIG,
                    "distributed.device_weights has %d weight%s but the team has %d rank%s (balance: "
                    "proportional needs one weight per rank)",
                    cfg->device_weights.n, cfg->device_weights.n == 1 ? "" : "s", t->size, t->size == 1 ? "" : "s");
  if (cfg->communication == MYR_COMM_ASYNC && t->size > 1 && cfg->strategy != MYR_STRATEGY_SPATIAL_PARALLEL)
    return myr_fail(err, MYR_ERR_CONFIG,
                    "distributed.communication: async overlaps spatial_parallel's halo exchanges with the work on "
                    "cells away from them; data_parallel's sums cover every cell of the replicated grid, so nothing "
                    "could go on meanwhile: use communication: sync, or strategy: spatial_parallel");
  if (cfg->regions.n > 0 && cfg->strategy != MYR_STRATEGY_SPATIAL_PARALLEL)
    return myr_fail(err, MYR_ERR_CONFIG,
                    "distributed.regions names the bands or tiles of spatial_parallel, and distributed.strategy "
                    "is data_parallel (set strategy: spatial_parallel, or remove regions)");
  if (cfg->regions.n > 0 && cfg->regions.n != t->size)
    return myr_fail(err, MYR_ERR_CONFIG, "distributed.regions has %d name%s but the team has %d rank%s (one name per "
                    "band or tile, in rank order)", cfg->regions.n, cfg->regions.n == 1 ? "" : "s", t->size,
                    t->size == 1 ? "" : "s");
  myr_status tiled = choose_tiles(t, err);
  if (tiled != MYR_OK) return tiled;
  int grid_positions = m->position_columns || m->cell_columns;
  if (m->nbr_dims > 0 && t->size > 1 && cfg->strategy != MYR_STRATEGY_SPATIAL_PARALLEL)
    return myr_fail(err, MYR_ERR_CONFIG,
                    "distributed.strategy: model %s reads other agents through the neighbour snapshot, which "
                    "several ranks share only under spatial_parallel (bands with ghost agents); data_parallel "
                    "would need every agent on every rank", m->name);
  if (m->nbr_dims > 0 && t->size > 1 && (grid_positions || m->n_layers > 0))
    return myr_fail(err, MYR_ERR_CONFIG,
                    "distributed.strategy: model %s has neighbour queries and a grid; spatial_parallel bands "
                    "either grid rows or neighbour bins, not both: run it on one rank", m->name);
  if (cfg->strategy == MYR_STRATEGY_SPATIAL_PARALLEL && m->nbr_dims > 0 && !grid_positions) {
    myr_status s = t->size > 1 ? nbr_bands(t, err) : MYR_OK; /* one rank: no bands */
    if (s != MYR_OK) return s;
  } else if (cfg->strategy == MYR_STRATEGY_SPATIAL_PARALLEL) {
    if (m->max_speed <= 0 || !grid_positions)
      return myr_fail(err, MYR_ERR_CONFIG,
                      "distributed.strategy: model %s runs data_parallel only (its descriptor gives no "
                      "position columns and max_speed, which bands of the world need)", m->name);
    /* halo = reach + sync_frequency x max speed, from the model's own numbers */
    int64_t halo = (int64_t)m->reach + cfg->sync_frequency * (int64_t)m->max_speed;
    t->halo = (int32_t)halo;
    t->rows = (int32_t)cfg->height;
    if (t->px > 1) {
      char parts[160];
      snprintf(parts, sizeof parts, "reach %d + sync_frequency %lld x speed %d", m->reach,
               (long long)cfg->sync_frequency, m->max_speed);
      return tiles_hold_halo(t, cfg->width, cfg->height, "cells", parts, err);
    }
    for (int r = 0; r < t->size && t->size > 1; r++) {
      int64_t rows = cut(t, cfg->height, r + 1) - cut(t, cfg->height, r);
      if (rows < halo)
        return myr_fail(err, MYR_ERR_CONFIG,
                        "distributed.strategy: spatial_parallel gives rank %d %lld rows of the %lld-row world, "
                        "fewer than the halo of %lld rows (reach %d + sync_frequency %lld x speed %d); use "
                        "fewer ranks, a taller world or a shorter sync window",
                        r, (long long)rows, (long long)cfg->height, (long long)halo, m->reach,
                        (long long)cfg->sync_frequency, m->max_speed);
    }
  }
  if (t->size == 1) return MYR_OK;
  for (int l = 0; l < m->n_layers; l++) {
    myr_type ty = m->layers[l].type;
    if (m->layers[l].lifetime == MYR_TRANSIENT && (ty == MYR_F32 || ty == MYR_F64))
      return myr_fail(err, MYR_ERR_MODEL,
                      "model %s: transient layer '%s' is %s; ranks sum transient layers exactly, which "
                      "needs integers (fixed point); run it with one rank",
                      m->name, m->layers[l].name, myr_type_name(ty));
  }
  return MYR_OK;
}

/* How many ranks, and whether they are GPUs: the backend run.backend chooses decides. */
static myr_status choose_ranks(myr_team *t, myr_error *err) {
  const myr_config *cfg = t->cfg;
  const struct myr_backend_ops *ops;
  char why[256];
  myr_status s = myr_backend_choose(cfg, &ops, why, sizeof why, err);
  if (s != MYR_OK) return s;
  int world_rank, world_size, node_rank;
  t->mpi = myr_mpi_world(&world_rank, &world_size, &node_rank);
  if (t->mpi) { /* one rank per process */
    t->size = world_size;
    t->local = 1;
    t->base = world_rank;
    t->gpu = ops != NULL;
    int have = t->gpu ? myr_gpu_count() : 0;
    if (t->gpu && have == 0)
      return myr_fail(err, MYR_ERR_BACKEND, "rank %d: no GPU visible to this process", world_rank);
    t->device0 = t->gpu ? node_rank % have : -1;
    snprintf(t->describe, sizeof t->describe, "%s, %d MPI processes x 1 rank (%s)", t->gpu ? "cuda" : "cpu",
             world_size, why);
    return MYR_OK;
  }
  if (!ops) {
    t->size = t->local = (int)cfg->ranks;
    int threads = cfg->threads > 0 ? (int)cfg->threads : omp_get_max_threads();
    int per = threads / t->size > 0 ? threads / t->size : 1;
    snprintf(t->describe, sizeof t->describe, "cpu, %d rank%s x %d thread%s (%s)", t->size, t->size == 1 ? "" : "s",
             per, per == 1 ? "" : "s", why);
    return MYR_OK;
  }
  int have = myr_gpu_count();
  t->gpu = 1;
  t->size = t->local = cfg->gpus == 0 ? have : (int)cfg->gpus;
  if (t->size > have)
    return myr_fail(err, MYR_ERR_CONFIG, "run.gpus: %d GPUs asked but this machine has %d", t->size, have);
  if (t->size > 1 && !myr_nccl_available())
    return myr_fail(err, MYR_ERR_BACKEND, "run.gpus: %d GPUs need NCCL, which this build lacks (install "
                    "libnccl-dev and reconfigure)", t->size);
  snprintf(t->describe, sizeof t->describe, "cuda, %d GPU%s (%s)", t->size, t->size == 1 ? "" : "s", why);
  return MYR_OK;
}

/* ---- running every rank at once ------------------------------------------------------------- */

typedef myr_status (*rank_fn)(myr_team *t, int r, void *arg, myr_error *err);

/* fn on every rank, each on its own thread with its GPU current; the first failure (by rank)
 * is returned. A failing rank breaks the team's barrier so that the others return too. */
static myr_status for_each_rank(myr_team *t, rank_fn fn, void *arg, myr_error *err) {
  if (t->local == 1) {
    if (t->gpu) myr_gpu_use(t->rank[0].device);
    return fn(t, 0, arg, err);
  }
  myr_status *st = calloc((size_t)t->local, sizeof *st);
  myr_error *errs = calloc((size_t)t->local, sizeof *errs);
  if (!st || !errs) {
    free(st);
    free(errs);
    return myr_fail(err, MYR_ERR_NOMEM, "cannot allocate the ranks' results");
  }
#pragma omp parallel num_threads(t->local)
  {
    int r = omp_get_thread_num();
    if (t->gpu) myr_gpu_use(t->rank[r].device);
    st[r] = fn(t, r, arg, &errs[r]);
    if (st[r] != MYR_OK) myr_host_abort(t->host, r);
  }
  myr_status s = MYR_OK;
  int first = t->host->abort_rank;
  if (first >= 0) {
    s = st[first];
    if (err) *err = errs[first];
  }
  free(st);
  free(errs);
  return s;
}

/* ---- creation ------------------------------------------------------------------------------- */

#ifdef MYRIAD_HAVE_CUDA
myr_status myr_cuda_compact(myr_sim *sim, myr_error *err); /* sim/cuda/backend.cu */
#endif

/* The first placement of agents in their bands. A GPU rank's migration leaves the departed
 * dead for the sync's compaction: here there is none, so compact at once. */
static myr_status migrate_rank(myr_team *t, int r, void *arg, myr_error *err) {
  (void)arg;
  myr_status s = t->rank[r].migrate(&t->rank[r], t->sim[r], err);
#ifdef MYRIAD_HAVE_CUDA
  if (s == MYR_OK && t->gpu) s = myr_cuda_compact(t->sim[r], err);
#endif
  return s;
}

static myr_status create_rank(myr_team *t, int r, void *arg, myr_error *err) {
  (void)arg;
  int g = t->base + r;
  int64_t count = t->cfg->count, first = cut(t, count, g), n = cut(t, count, g + 1) - first;
  t->capacity[r] = rank_capacity(t, g, n);
  myr_status s = myr_sim_create_part(t->cfg, t->size > 1 ? &t->rank[r] : NULL, (uint64_t)first, n, t->capacity[r],
                                     &t->sim[r], err);
  return s;
}

/* Resume: rank r takes the r-th contiguous range of the checkpoint's agents in id order. */
typedef struct split_arg {
  const myr_sim *whole;
  const int64_t *order;
  int64_t n;
} split_arg;

static myr_status split_rank(myr_team *t, int r, void *varg, myr_error *err) {
  const split_arg *a = (const split_arg *)varg;
  const myr_sim *w = a->whole;
  int g = t->base + r;
  int64_t b = cut(t, a->n, g), e = cut(t, a->n, g + 1);
  t->capacity[r] = rank_capacity(t, g, e - b);
  myr_sim *sim;
  myr_status s = myr_sim_create_empty_part(t->cfg, t->capacity[r], &sim, err);
  if (s != MYR_OK) return s;
  t->sim[r] = sim;
  sim->rank = t->size > 1 ? &t->rank[r] : NULL;
  sim->step = w->step;
  myr_sim_copy_published(sim, w);
  for (int64_t j = b; j < e; j++) myr_sim_copy_agent(sim, w, a->order[j]);
  size_t cells = (size_t)w->grid.width * (size_t)w->grid.height;
  for (int l = 0; l < w->grid.n_layers; l++)
    memcpy(sim->grid.layer[l], w->grid.layer[l], cells * myr_type_size(sim->model->layers[l].type));
  return myr_sim_start_backend(sim, err);
}

static myr_status resume_ranks(myr_team *t, const char *path, myr_error *err) {
  if (t->size == 1) { /* the plain path: load and upload */
    if (t->gpu) myr_gpu_use(t->rank[0].device);
    myr_status s = myr_checkpoint_load(t->cfg, path, &t->sim[0], err);
    if (s == MYR_OK) t->capacity[0] = t->sim[0]->agents.capacity;
    return s;
  }
  myr_sim *whole = NULL;
  myr_status s = myr_checkpoint_load_host(t->cfg, path, &whole, err);
  int64_t *order = NULL, n = 0;
  if (s == MYR_OK) s = myr_sim_id_order(whole, &order, &n, err);
  if (s == MYR_OK) {
    split_arg a = {whole, order, n};
    s = for_each_rank(t, split_rank, &a, err);
  }
  if (s == MYR_OK) s = myr_team_train_resume(t->sim, t->local, whole, err); /* network, replay, samples */
  free(order);
  myr_sim_destroy(whole);
  return s;
}

/* The tiles of spatial_parallel (bands of rows where px = 1): cut as band_start says, in grid
 * cells or in neighbour bins. */
static myr_status open_spatial(myr_team *t, myr_error *err) {
  const myr_config *cfg = t->cfg;
  int32_t width = t->by_bins ? t->bins.bins[0] : (int32_t)cfg->width, row0[t->py + 1], col0[t->px + 1];
  for (int b = 0; b <= t->py; b++) row0[b] = (int32_t)band_start(t, t->rows, 1, b);
  for (int b = 0; b <= t->px; b++) col0[b] = (int32_t)band_start(t, width, 0, b);
  t->spatial_on = 1;
  t->host = &t->spatial.host;
  myr_status s = myr_spatial_init(&t->spatial, t->px, t->py, col0, row0, width, t->rows,
                                  t->by_bins ? t->bins.wrap : cfg->wrap, t->halo, err);
  if (s == MYR_OK && t->by_bins) s = myr_spatial_use_bins(&t->spatial, &t->bins, cfg->model_desc, err);
  return s;
}

/* Rank r's cells under spatial_parallel (grid rows): its tile, the columns [x0, x0 + nx) of
 * its band's rows (sim.h; a band: whole rows). A tile is not one range of cells in row-major
 * order, so the cell functions and statistics (myr_parallel_cells), the gather of the grid
 * (gather_layers) and through it checkpoints take it row by row. */
static void own_band(myr_team *t, int r) {
  int32_t x0, nx, y0, ny;
  myr_spatial_tile(&t->spatial, t->base + r, &x0, &nx, &y0, &ny);
  t->sim[r]->cells_first = (int64_t)y0 * t->spatial.width;
  t->sim[r]->cells_n = (int64_t)ny * t->spatial.width;
  t->sim[r]->cells_x0 = x0;
  t->sim[r]->cells_nx = nx;
}

static myr_status open_transport(myr_team *t, myr_error *err) {
  int spatial = t->cfg->strategy == MYR_STRATEGY_SPATIAL_PARALLEL && t->size > 1;
  for (int r = 0; r < t->local; r++) {
    t->rank[r].index = t->base + r;
    t->rank[r].count = t->size;
    t->rank[r].device = t->gpu ? t->device0 + r : -1;
    t->rank[r].team = spatial ? (void *)&t->spatial : (void *)&t->own_host;
    if (spatial) /* CPU processes exchange over MPI (GPU ranks, threads or processes: NCCL's, below) */
      t->rank[r].sync_layers = t->mpi ? myr_spatial_mpi_sync : myr_spatial_sync;
    else t->rank[r].sync_layers = t->mpi ? myr_mpi_sum_layers : myr_host_sum_layers;
    t->rank[r].sum_flows = t->mpi ? myr_mpi_sum_flows : myr_host_sum_flows; /* GPU ranks: NCCL's, below */
    t->rank[r].migrate = !spatial ? NULL : t->mpi ? myr_spatial_mpi_migrate : myr_spatial_migrate;
    /* communication: async: exchanges touch a tile's cells within a halo of an edge it shares */
    t->rank[r].border_x = !spatial ? -1 : t->px > 1 ? t->halo : 0;
    t->rank[r].border_y = !spatial ? -1 : t->py > 1 ? t->halo : 0;
  }
  t->host = &t->own_host;
  myr_status s = spatial ? open_spatial(t, err) : myr_host_team_init(&t->own_host, t->local, err);
  if (s != MYR_OK || !t->gpu || t->size == 1) return s;
  t->host->spin_seconds = 50e-6; /* GPU ranks: a thread and a core each (host.h) */
  if (!t->mpi) {
    int devices[1024];
    for (int r = 0; r < t->local; r++) devices[r] = t->rank[r].device;
    s = myr_nccl_open_local(t->local, devices, t->rank, err);
    for (int r = 0; r < t->local && s == MYR_OK && spatial; r++) { /* halos and migration over NCCL */
      myr_gpu_use(t->rank[r].device);
      s = myr_nccl_spatial_attach(&t->rank[r], &t->spatial, err);
    }
    return s;
  }
  char id[128] = {0}; /* ncclUniqueId: made by rank 0, shared by MPI */
  int failed = t->base == 0 ? myr_nccl_unique_id(id, err) != MYR_OK : 0;
  if (myr_mpi_max_int(failed)) return failed ? MYR_ERR_BACKEND : myr_fail(err, MYR_ERR_BACKEND, "rank 0 has no NCCL id");
  myr_mpi_bcast(id, sizeof id, 0);
  s = myr_nccl_open_rank(id, t->size, &t->rank[0], err);
  if (s == MYR_OK && spatial) s = myr_nccl_spatial_attach(&t->rank[0], &t->spatial, err); /* counts over MPI */
  return s;
}

myr_status myr_team_create(const myr_config *cfg, const char *resume, myr_team **out, myr_error *err) {
  *out = NULL;
  myr_team *t = calloc(1, sizeof *t);
  if (!t) return myr_fail(err, MYR_ERR_NOMEM, "cannot allocate the team");
  t->cfg = cfg;
  myr_status s = choose_ranks(t, err);
  if (s == MYR_OK) s = check_settings(t, err);
  if (s == MYR_OK) {
    t->sim = calloc((size_t)t->local, sizeof *t->sim);
    t->rank = calloc((size_t)t->local, sizeof *t->rank);
    t->capacity = calloc((size_t)t->local, sizeof *t->capacity);
    t->seconds_step = calloc((size_t)t->local, sizeof *t->seconds_step);
    t->rebalanced_seconds = calloc((size_t)t->local, sizeof *t->rebalanced_seconds);
    t->agent_steps = calloc((size_t)t->local, sizeof *t->agent_steps);
    t->rebalanced_agent_steps = calloc((size_t)t->local, sizeof *t->rebalanced_agent_steps);
    t->rebalanced_comm = calloc((size_t)t->local, sizeof *t->rebalanced_comm);
    if (!t->sim || !t->rank || !t->capacity || !t->seconds_step || !t->rebalanced_seconds || !t->agent_steps ||
        !t->rebalanced_agent_steps || !t->rebalanced_comm)
      s = myr_fail(err, MYR_ERR_NOMEM, "cannot allocate %d ranks", t->size);
  }
  if (s == MYR_OK && !(t->handed = calloc((size_t)t->size, sizeof *t->handed)))
    s = myr_fail(err, MYR_ERR_NOMEM, "cannot allocate %d ranks", t->size);
  if (s == MYR_OK && cfg->balance == MYR_BALANCE_DYNAMIC && cfg->strategy == MYR_STRATEGY_SPATIAL_PARALLEL &&
      t->size > 1 && !(t->row_agents = calloc((size_t)t->rows + 1, sizeof *t->row_agents)))
    s = myr_fail(err, MYR_ERR_NOMEM, "cannot allocate the agent counts of %d rows", (int)t->rows);
  if (s == MYR_OK) s = open_transport(t, err);
  if (s == MYR_OK && t->local > 1) omp_set_max_active_levels(2); /* each rank's own OpenMP team */
  if (s == MYR_OK) s = resume ? resume_ranks(t, resume, err) : for_each_rank(t, create_rank, NULL, err);
  if (t->mpi && myr_mpi_max_int(s != MYR_OK) && s == MYR_OK) /* every process stops if one cannot start */
    s = myr_fail(err, MYR_ERR_INTERNAL, "another rank failed to start");
  if (s == MYR_OK) {
    int threads = cfg->threads > 0 ? (int)cfg->threads : omp_get_max_threads();
    for (int r = 0; r < t->local; r++) {
      myr_sim *sim = t->sim[r];
      int g = t->base + r;
      if (!t->gpu && t->local > 1) sim->threads = threads / t->local > 0 ? threads / t->local : 1;
      if (t->spatial_on && !t->by_bins) { /* its own band: cells, flows and statistics */
        own_band(t, r);
        sim->owns_cells = 1;
        t->spatial.sims[g] = sim;
      } else {
        sim->owns_cells = g == 0; /* the grid is replicated: count its flows once */
        if (t->spatial_on) t->spatial.sims[g] = sim; /* bands of neighbour bins: no grid of their own */
      }
    }
  }
  if (s == MYR_OK && t->spatial_on) s = for_each_rank(t, migrate_rank, NULL, err); /* agents to their bands */
  for (int r = 0; r < t->local && t->rank; r++) { /* the table counts the run, not the setup */
    t->rank[r].seconds_comm = 0;
    t->rank[r].bytes_moved = 0;
  }
  if (s == MYR_OK && t->size > 1)
    s = myr_team_train_start(t->sim, t->local, t->mpi, t->spatial_on, cfg->balance == MYR_BALANCE_DYNAMIC, err);
  if (s != MYR_OK) {
    myr_team_destroy(t);
    return s;
  }
  *out = t;
  return MYR_OK;
}

void myr_team_destroy(myr_team *t) {
  if (!t) return;
  for (int r = 0; t->sim && r < t->local; r++) {
    if (!t->sim[r]) continue;
    if (t->gpu) myr_gpu_use(t->rank[r].device);
    myr_sim_destroy(t->sim[r]);
  }
  if (t->gpu && t->size > 1 && t->rank)
    for (int r = 0; r < t->local; r++) myr_nccl_close(&t->rank[r]);
  if (t->spatial_on) myr_spatial_free(&t->spatial);
  else myr_host_team_free(&t->own_host);
  if (t->mpi) myr_mpi_finalize();
  free(t->sim);
  free(t->rank);
  free(t->capacity);
  free(t->seconds_step);
  free(t->rebalanced_seconds);
  free(t->agent_steps);
  free(t->rebalanced_agent_steps);
  free(t->rebalanced_comm);
  free(t->row_agents);
  free(t->col_agents);
  free(t->handed);
  free(t);
}

/* ---- queries -------------------------------------------------------------------------------- */

int myr_team_size(const myr_team *t) { return t->size; }
myr_sim *myr_team_sim(const myr_team *t, int rank) { return t->sim[rank]; }
int myr_team_is_root(const myr_team *t) { return t->base == 0; }
const char *myr_team_describe(const myr_team *t) { return t->describe; }
uint64_t myr_team_steps_done(const myr_team *t) { return t->sim[0]->step; }

int64_t myr_team_slots(const myr_team *t) {
  int64_t n = 0;
  for (int r = 0; r < t->local; r++) n += t->sim[r]->agents.n;
  if (t->mpi) myr_mpi_sum_i64(&n, 1);
  return n;
}

int64_t myr_team_population(const myr_team *t) {
  int64_t n = 0;
  for (int r = 0; r < t->local; r++) n += myr_sim_population(t->sim[r]);
  if (t->mpi) myr_mpi_sum_i64(&n, 1);
  return n;
}

/* ---- stepping and statistics ---------------------------------------------------------------- */

#ifdef MYRIAD_HAVE_CUDA
int myr_cuda_synchronize(const myr_sim *sim); /* sim/cuda/backend.cu */
#endif

static myr_status step_rank(myr_team *t, int r, void *arg, myr_error *err) {
  double t0 = omp_get_wtime();
  t->agent_steps[r] += (double)t->sim[r]->agents.n;
  t->sim[r]->record_hint = *(const int *)arg;
  myr_status s = myr_sim_step(t->sim[r], err);
#ifdef MYRIAD_HAVE_CUDA
  /* time the rank's own work at the end of each window (and before statistics): a wait after
   * every step would leave the GPU idle while the host launches the next (about 2% at 1.2 ms
   * per step, measured on 4 H200s) */
  if (s == MYR_OK && t->gpu && t->size > 1 && (myr_sim_at_sync(t->sim[r]) || t->sim[r]->record_hint)) {
    myr_cuda_synchronize(t->sim[r]);
    s = myr_nccl_count_comm(&t->rank[r], err); /* the window's exchanges, all done by now */
  }
#endif
  t->seconds_step[r] += omp_get_wtime() - t0;
  return s;
}

myr_status myr_team_agree(const myr_team *t, myr_status s, myr_error *err) {
  if (t->mpi && myr_mpi_max_int(s != MYR_OK) && s == MYR_OK)
    s = myr_fail(err, MYR_ERR_INTERNAL, "rank %d stopped: another rank failed (its message is above)", t->base);
  return s;
}

/* ---- balance dynamic (partition/balance.h) -------------------------------------------------- */

/* Every rank's rate since the last rebalance, the same on every process: agent-steps per second
 * of its own compute (step time less the time in exchanges, which includes waiting for slower
 * ranks), 0 where it has none. Under mpirun each process adds its own into zeros: exact. */
static void measure_rates(myr_team *t, double *rate) {
  memset(rate, 0, sizeof *rate * (size_t)t->size);
  for (int r = 0; r < t->local; r++) {
    double secs = (t->seconds_step[r] - t->rebalanced_seconds[r]) - (t->rank[r].seconds_comm - t->rebalanced_comm[r]);
    double work = t->agent_steps[r] - t->rebalanced_agent_steps[r];
    rate[t->base + r] = secs > 0 && work > 0 ? work / secs : 0;
    t->rebalanced_seconds[r] = t->seconds_step[r];
    t->rebalanced_comm[r] = t->rank[r].seconds_comm;
    t->rebalanced_agent_steps[r] = t->agent_steps[r];
  }
  if (t->mpi) myr_mpi_sum_f64(rate, t->size);
}

static myr_status move_gpu_rank(myr_team *t, int r, void *flow, myr_error *err) {
  return myr_nccl_move_agents(&t->rank[r], t->sim[r], (const int64_t *)flow, err);
}

/* GPU ranks: every local taker has the slots for the flows (myr_balance_room); under mpirun
 * every process learns of one that has not. */
static myr_status gpu_room(myr_team *t, const int64_t *flow, myr_error *err) {
  myr_status s = MYR_OK;
  for (int r = 0; r < t->local && s == MYR_OK; r++)
    s = myr_balance_room(t->sim[r], t->base + r, t->size, flow, NULL, err);
  return t->mpi ? myr_team_agree(t, s, err) : s;
}

/* data_parallel: agents cross the boundaries between neighbouring ranks toward the shares. */
static myr_status move_agents(myr_team *t, const double *share, myr_error *err) {
  int64_t n[t->size], flow[t->size];
  memset(n, 0, sizeof n);
  for (int r = 0; r < t->local; r++) n[t->base + r] = myr_sim_population(t->sim[r]);
  if (t->mpi) myr_mpi_sum_i64(n, t->size);
  myr_balance_flows(n, share, t->size, flow);
  int any = 0;
  for (int b = 0; b + 1 < t->size; b++) any |= flow[b] != 0;
  if (!any) return MYR_OK;
  t->rebalances_moved++;
  myr_balance_handed_flows(flow, t->size, t->handed);
  if (t->gpu) { /* every taker has the slots, or no rank starts a transfer that would wait forever */
    myr_status s = gpu_room(t, flow, err);
    return s != MYR_OK ? s : for_each_rank(t, move_gpu_rank, flow, err);
  }
  return t->mpi ? myr_balance_move_processes(t->sim[0], &t->rank[0], flow, err)
                : myr_balance_move_threads(t->sim, t->rank, t->size, flow, err);
}

static myr_status count_rows_rank(myr_team *t, int r, void *count, myr_error *err) {
  if (t->gpu) return myr_nccl_spatial_count_rows(&t->rank[r], t->sim[r], (int64_t *)count, err);
  myr_spatial_count_rows(&t->spatial, t->sim[r], (int64_t *)count);
  return MYR_OK;
}

static myr_status count_cols_rank(myr_team *t, int r, void *count, myr_error *err) {
  if (t->gpu) return myr_nccl_spatial_count_cols(&t->rank[r], t->sim[r], (int64_t *)count, err);
  myr_spatial_count_cols(&t->spatial, t->sim[r], (int64_t *)count);
  return MYR_OK;
}

static myr_status shift_rank(myr_team *t, int r, void *old, myr_error *err) {
  const myr_spatial_cuts *cuts = (const myr_spatial_cuts *)old;
  if (t->gpu) return myr_nccl_spatial_shift(&t->rank[r], t->sim[r], cuts->col0, cuts->row0, err);
  if (t->mpi) return myr_spatial_mpi_shift(&t->rank[r], t->sim[r], *cuts, err);
  return myr_spatial_shift(&t->rank[r], t->sim[r], *cuts, err);
}

/* before[v] = the team's agents in the rows (count: count_rows_rank) or columns
 * (count_cols_rank) below v, v = 0 .. n: exact counts summed over the ranks. The ranks of bands
 * count at once (each its own rows); tiles share rows and columns, so their ranks count in turn. */
static myr_status agents_before(myr_team *t, rank_fn count, int32_t n, int64_t *before, myr_error *err) {
  memset(before, 0, sizeof *before * ((size_t)n + 1));
  myr_status s = MYR_OK; /* agents in row y at before[y + 1] */
  if (t->px == 1) s = for_each_rank(t, count, before + 1, err);
  else
    for (int r = 0; r < t->local && s == MYR_OK; r++) {
      if (t->gpu) myr_gpu_use(t->rank[r].device);
      s = count(t, r, before + 1, err);
    }
  if (s != MYR_OK) return s; /* threads of one process only: a process counts its own rank */
  if (t->mpi) myr_mpi_sum_i64(before + 1, n);
  for (int32_t v = 0; v < n; v++) before[v + 1] += before[v];
  return MYR_OK;
}

/* Tiles: the agents each rank hands over, those standing on cells another rank owns under the
 * new cuts, summed into t->handed: CPU ranks count them before they move; GPU ranks after, from
 * the migration's counts (sp->moves, row r: rank r's agents leaving for each rank). */
static void count_handed(myr_team *t, int moved) {
  double mine[t->size];
  memset(mine, 0, sizeof mine);
  for (int r = 0; r < t->local; r++) {
    int me = t->base + r;
    if (!moved) mine[me] = (double)myr_spatial_count_leaving(&t->spatial, t->sim[r], me);
    else
      for (int q = 0; q < t->size; q++) mine[me] += q == me ? 0 : (double)t->spatial.moves[(size_t)me * t->size + q];
  }
  if (t->mpi) myr_mpi_sum_f64(mine, t->size);
  for (int q = 0; q < t->size; q++) t->handed[q] += mine[q];
}

/* spatial_parallel: the cuts move so that each band of rows, and with tiles each band of
 * columns, holds its share of the agents (the summed shares of its ranks; agents per row and
 * column: exact counts summed over the ranks), every band at least a halo thick. Tiles stay a
 * product of bands of columns and bands of rows. */
static myr_status shift_cuts(myr_team *t, const double *share, myr_error *err) {
  myr_spatial *sp = &t->spatial;
  const int px = t->px, py = t->py;
  double row_share[py], col_share[px];
  memset(row_share, 0, sizeof row_share);
  memset(col_share, 0, sizeof col_share);
  for (int q = 0; q < t->size; q++) row_share[q / px] += share[q], col_share[q % px] += share[q];
  int32_t old_row0[py + 1], old_col0[px + 1], row0[py + 1], col0[px + 1];
  memcpy(old_row0, sp->row0, sizeof old_row0);
  memcpy(old_col0, sp->col0, sizeof old_col0);
  memcpy(col0, old_col0, sizeof col0);
  myr_status s = agents_before(t, count_rows_rank, t->rows, t->row_agents, err);
  if (s != MYR_OK) return s;
  int moved = myr_balance_bands(t->row_agents, t->rows, py, row_share, t->halo, old_row0, row0);
  if (px > 1) {
    if (!t->col_agents && !(t->col_agents = calloc((size_t)sp->width + 1, sizeof *t->col_agents)))
      return myr_fail(err, MYR_ERR_NOMEM, "cannot allocate the agent counts of %d columns", (int)sp->width);
    if ((s = agents_before(t, count_cols_rank, sp->width, t->col_agents, err)) != MYR_OK) return s;
    moved |= myr_balance_bands(t->col_agents, sp->width, px, col_share, t->halo, old_col0, col0);
  }
  if (!moved) return MYR_OK;
  t->rebalances_moved++;
  if (px == 1) myr_balance_handed_bands(t->row_agents, t->size, old_row0, row0, t->handed);
  if ((s = myr_spatial_set_cuts(sp, col0, row0, err)) != MYR_OK) return s;
  if (px > 1 && !t->gpu) count_handed(t, 0);
  for (int r = 0; r < t->local && !t->by_bins; r++) own_band(t, r);
  myr_spatial_cuts old = {old_col0, old_row0};
  s = for_each_rank(t, shift_rank, &old, err);
  if (s == MYR_OK && px > 1 && t->gpu) count_handed(t, 1);
  return s;
}

/* Every rebalance_interval steps, at a sync: each rank's rate sets its share of the work, and
 * agents (data_parallel) or band boundaries (spatial_parallel) move toward the shares; slight
 * differences are left alone. Where agents sit never changes a result. The time it takes is
 * every rank's time in exchanges: it counts in its step and communication seconds alike. */
/* A GPU rank's exchanges counted (their times are read once done: nccl.h). */
static myr_status count_comm_rank(myr_team *t, int r, void *arg, myr_error *err) {
  (void)arg;
  return t->gpu ? myr_nccl_count_comm(&t->rank[r], err) : MYR_OK;
}

static myr_status rebalance(myr_team *t, myr_error *err) {
  double t0 = omp_get_wtime(), comm[t->local], rate[t->size], share[t->size];
  for (int r = 0; r < t->local; r++) comm[r] = t->rank[r].seconds_comm;
  measure_rates(t, rate);
  t->rebalances++;
  myr_status s = MYR_OK;
  if (myr_balance_shares(rate, t->size, share))
    s = t->spatial_on ? shift_cuts(t, share, err) : move_agents(t, share, err);
  /* the hand-over's exchanges are part of the wall time counted below: drained, then replaced */
  if (s == MYR_OK && t->gpu) s = for_each_rank(t, count_comm_rank, NULL, err);
  double spent = omp_get_wtime() - t0;
  for (int r = 0; r < t->local; r++) {
    t->seconds_step[r] += spent;
    t->rank[r].seconds_comm = comm[r] + spent;
  }
  return s;
}

myr_status myr_team_step(myr_team *t, int record_hint, myr_error *err) {
  int training = t->size > 1 && myr_team_train_on(t->sim, t->local);
  if (training) myr_team_train_before_step(t->sim, t->local, myr_team_population(t));
  myr_status s = for_each_rank(t, step_rank, &record_hint, err);
  /* no process goes on alone; a spatial exchange under mpirun may have agreed on a failure already */
  if (!t->spatial.agreed_failure) s = myr_team_agree(t, s, err);
  int moved = 0;
  const myr_config *cfg = t->cfg;
  if (s == MYR_OK && cfg->balance == MYR_BALANCE_DYNAMIC && t->size > 1 && myr_sim_at_sync(t->sim[0]) &&
      t->sim[0]->step >= t->rebalanced_at + (uint64_t)cfg->rebalance_interval) {
    s = rebalance(t, err);
    t->rebalanced_at = t->sim[0]->step;
    moved = 1;
  }
  if (s == MYR_OK && training) {
    int threads = cfg->threads > 0 ? (int)cfg->threads : omp_get_max_threads();
    s = myr_team_train_after_step(t->sim, t->local, t->mpi, t->spatial_on || moved, threads, err);
  }
  return s;
}

typedef struct parts_arg {
  myr_stat_parts *parts;
  int *ok;
} parts_arg;

static myr_status parts_rank(myr_team *t, int r, void *varg, myr_error *err) {
  (void)err;
  parts_arg *a = (parts_arg *)varg;
  a->ok[r] = myr_sim_stat_parts(t->sim[r], &a->parts[r]);
  return MYR_OK;
}

void myr_team_stats(myr_team *t, double *out) {
  if (t->size == 1) {
    if (t->gpu) myr_gpu_use(t->rank[0].device);
    myr_sim_stats(t->sim[0], out);
    return;
  }
  myr_stat_parts parts[t->local], total;
  int ok[t->local], all = 1;
  parts_arg a = {parts, ok};
  myr_error unused;
  for_each_rank(t, parts_rank, &a, &unused);
  memset(&total, 0, sizeof total);
  for (int r = 0; r < t->local; r++) { /* integers: the same total in any order */
    myr_stat_parts_add(&total, &parts[r]);
    all &= ok[r];
  }
  if (t->mpi) {
    myr_mpi_sum_i64((int64_t *)&total, (int64_t)(sizeof total / sizeof(int64_t)));
    all = !myr_mpi_max_int(!all);
  }
  myr_sim_stats_finish(t->sim[0], &total, all, out);
}

/* ---- the whole state in one place ----------------------------------------------------------- */

static myr_status download_rank(myr_team *t, int r, void *arg, myr_error *err) {
  (void)arg;
  return myr_sim_to_host(t->sim[r], err);
}

/* Packs the alive agents of `from` as rows (myr_sim_pack_agent); returns how many. */
static int64_t pack_agents(const myr_sim *from, char *out) {
  size_t row = myr_sim_agent_row_bytes(from);
  int64_t k = 0;
  for (int64_t i = 0; i < from->agents.n; i++)
    if (from->agents.alive[i]) myr_sim_pack_agent(from, i, out + (size_t)k++ * row);
  return k;
}

/* The processes of an MPI team send their agents to rank 0 (rows). */
static myr_status gather_processes(myr_team *t, myr_sim **global, myr_error *err) {
  const myr_sim *mine = t->sim[0];
  size_t row = myr_sim_agent_row_bytes(mine);
  char *rows = malloc(row * (size_t)(mine->agents.n > 0 ? mine->agents.n : 1));
  if (!rows) return myr_fail(err, MYR_ERR_NOMEM, "cannot pack %lld agents", (long long)mine->agents.n);
  int64_t n = pack_agents(mine, rows), total = 0;
  void *all = NULL;
  myr_status s = myr_mpi_gather(rows, n * (int64_t)row, &all, &total, err);
  free(rows);
  if (s != MYR_OK || !myr_team_is_root(t)) {
    free(all);
    return s;
  }
  int64_t agents = total / (int64_t)row;
  myr_sim *g;
  if ((s = myr_sim_create_empty_part(t->cfg, agents > 0 ? agents : 1, &g, err)) == MYR_OK) {
    for (int64_t j = 0; j < agents; j++) myr_sim_append_agent_row(g, (const char *)all + (size_t)j * row);
    *global = g;
  }
  free(all);
  return s;
}

/* Under mpirun, layer l's tiles gathered to the root, where they arrive in rank order, and
 * each put in its place in g (the root's gathered state; NULL elsewhere). */
static myr_status gather_tiles(myr_team *t, myr_sim *g, int l, size_t es, myr_error *err) {
  const myr_spatial *sp = &t->spatial;
  int32_t x0, nx, y0, ny;
  myr_spatial_tile(sp, t->base, &x0, &nx, &y0, &ny);
  size_t bytes = (size_t)nx * (size_t)ny * es;
  char *mine = malloc(bytes > 0 ? bytes : 1);
  if (mine) myr_spatial_copy_tile(sp, t->base, es, t->sim[0]->grid.layer[l], 0, mine, 1);
  void *all = NULL;
  int64_t total = 0; /* every process gathers, one that could not pack sends nothing and fails after */
  myr_status s = myr_mpi_gather(mine, mine ? (int64_t)bytes : 0, &all, &total, err);
  free(mine);
  if (s == MYR_OK && !mine) s = myr_fail(err, MYR_ERR_NOMEM, "rank %d: cannot pack its tile of layer %d", t->base, l);
  const char *at = (const char *)all;
  for (int r = 0; s == MYR_OK && g && r < t->size; r++) at += myr_spatial_copy_tile(sp, r, es, at, 1, g->grid.layer[l], 0);
  free(all);
  return s;
}

/* The grid into g (the root's gathered state; NULL elsewhere): rank 0's where every rank holds
 * all of it, else each tile (or band) from its owner. Every process calls it. */
static myr_status gather_layers(myr_team *t, myr_sim *g, myr_error *err) {
  const myr_sim *s0 = t->sim[0];
  size_t cells = (size_t)s0->grid.width * (size_t)s0->grid.height;
  for (int l = 0; l < s0->grid.n_layers; l++) {
    size_t es = myr_type_size(s0->model->layers[l].type);
    if (!t->spatial_on) { /* the same on every rank */
      if (g) memcpy(g->grid.layer[l], s0->grid.layer[l], cells * es);
    } else if (t->mpi) {
      myr_status s = gather_tiles(t, g, l, es, err);
      if (s != MYR_OK) return s;
    } else {
      for (int r = 0; r < t->size; r++)
        myr_spatial_copy_tile(&t->spatial, r, es, t->sim[r]->grid.layer[l], 0, g->grid.layer[l], 0);
    }
  }
  return MYR_OK;
}

myr_status myr_team_gather(myr_team *t, myr_sim **global, myr_error *err) {
  *global = NULL;
  myr_status s = for_each_rank(t, download_rank, NULL, err);
  if (s != MYR_OK) return s;
  if (t->size == 1) {
    *global = t->sim[0];
    return MYR_OK;
  }
  myr_sim *g = NULL;
  /* checkpoints hold the team's trainer state (the leader's, and every rank's unfinished samples) */
  int trainer = t->cfg->checkpoint_every > 0 && myr_team_train_on(t->sim, t->local);
  if (t->mpi) {
    s = gather_processes(t, &g, err);
    if (s == MYR_OK && trainer) s = myr_team_train_gather(t->sim, t->local, 1, g, err); /* every process: a gather */
    if (t->spatial_on) s = myr_team_agree(t, s, err); /* the bands' gathers need every process */
    if (s == MYR_OK) s = gather_layers(t, g, err);
    if (s != MYR_OK || !g) {
      myr_sim_destroy(g);
      return s;
    }
  } else {
    int64_t slots = myr_team_slots(t);
    if ((s = myr_sim_create_empty_part(t->cfg, slots > 0 ? slots : 1, &g, err)) != MYR_OK) return s;
    for (int r = 0; r < t->local && s == MYR_OK; r++) s = myr_sim_append_alive(g, t->sim[r], err);
    if (s != MYR_OK) {
      myr_sim_destroy(g);
      return s;
    }
    gather_layers(t, g, err); /* one process: plain copies */
  }
  const myr_sim *s0 = t->sim[0];
  g->step = s0->step;
  myr_sim_copy_published(g, s0); /* the same on every rank */
  /* the network (the one every rank holds) goes with the state into checkpoints */
  myr_sim_copy_network(g, s0);
  if (!t->mpi && trainer) s = myr_team_train_gather(t->sim, t->local, 0, g, err);
  if (s != MYR_OK) {
    myr_sim_destroy(g);
    return s;
  }
  *global = g;
  return MYR_OK;
}

void myr_team_release(myr_team *t, myr_sim *global) {
  if (global && (t->size > 1 || global != t->sim[0])) myr_sim_destroy(global);
}

/* ---- the end-of-run table ------------------------------------------------------------------- */

myr_status myr_team_perf(const myr_team *t, myr_perf_row **rows, myr_error *err) {
  *rows = NULL;
  myr_perf_row *mine = calloc((size_t)t->local, sizeof *mine);
  if (!mine) return myr_fail(err, MYR_ERR_NOMEM, "cannot allocate the per-rank table");
  for (int r = 0; r < t->local; r++) {
    mine[r].agents = (double)myr_sim_population(t->sim[r]);
    mine[r].agent_steps = t->agent_steps[r];
    mine[r].step_seconds = t->seconds_step[r];
    mine[r].comm_seconds = t->rank[r].seconds_comm;
    mine[r].bytes_moved = t->rank[r].bytes_moved;
    mine[r].handed_agents = t->handed[t->base + r];
    if (t->cfg->regions.n == t->size)
      snprintf(mine[r].region, sizeof mine[r].region, "%s", t->cfg->regions.name[t->base + r]);
  }
  if (!t->mpi) {
    *rows = mine;
    return MYR_OK;
  }
  void *all = NULL;
  int64_t total = 0;
  myr_status s = myr_mpi_gather(mine, (int64_t)(sizeof *mine * (size_t)t->local), &all, &total, err);
  free(mine);
  if (s == MYR_OK && myr_team_is_root(t)) *rows = (myr_perf_row *)all;
  else free(all);
  return s;
}

const char *myr_team_strategy(const myr_team *t) {
  return t->spatial_on ? "spatial_parallel" : "data_parallel";
}

void myr_team_print_table(const myr_team *t, const myr_perf_row *rows, double wall, double baseline, FILE *out) {
  if (t->size == 1 || !rows) return;
  double steps = 0, comm = 0, bytes = 0, most = 0, agents = 0, work = 0;
  int named = t->cfg->regions.n == t->size; /* the region's name closes each row */
  fprintf(out, "\n%-6s %14s %14s %11s %11s %8s %14s%s\n", "rank", "agents", "agent-steps/s", "compute s", "comm s",
          "comm %", "bytes moved", named ? "  region" : "");
  for (int r = 0; r < t->size; r++) {
    const myr_perf_row *k = &rows[r];
    double share = k->step_seconds > 0 ? 100 * k->comm_seconds / k->step_seconds : 0;
    double rate = k->step_seconds > 0 ? k->agent_steps / k->step_seconds : 0;
    fprintf(out, "%-6d %14.0f %14.4g %11.3f %11.3f %7.1f%% %14.4g%s%s\n", r, k->agents, rate,
            k->step_seconds - k->comm_seconds, k->comm_seconds, share, k->bytes_moved, named ? "  " : "",
            named ? k->region : "");
    steps += k->step_seconds;
    comm += k->comm_seconds;
    bytes += k->bytes_moved;
    agents += k->agents;
    work += k->agent_steps;
    if (k->agents > most) most = k->agents;
  }
  double mean = agents / t->size, rate = wall > 0 ? work / wall : 0;
  fprintf(out, "%-6s %14.0f %14.4g %11.3f %11.3f %7.1f%% %14.4g\n", "total", agents, rate, steps - comm, comm,
          steps > 0 ? 100 * comm / steps : 0, bytes);
  fprintf(out, "%s, load imbalance (max/mean agents) %.3f, wall %.3f s", myr_team_strategy(t),
          mean > 0 ? most / mean : 1.0, wall);
  if (baseline > 0)
    fprintf(out, ", scaling efficiency %.1f%% of %d x %.4g agent-steps/s", 100 * rate / (t->size * baseline), t->size,
            baseline);
  fprintf(out, "\n");
  if (t->cfg->balance == MYR_BALANCE_DYNAMIC) {
    double handed = 0;
    for (int r = 0; r < t->size; r++) handed += t->handed[r];
    fprintf(out, "balance dynamic: work moved at %d of %d rebalances, %.0f agents handed over\n", t->rebalances_moved,
            t->rebalances, handed);
  }
}
