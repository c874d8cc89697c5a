/* The CUDA backend (sim/backend.h): a rank's agent columns and grid layers in device memory,
 * every phase of a step as kernels, births and compaction with CUB, statistics as exact
 * integer reductions read back through pinned memory.
 *
 * Owns: one device block for the agents (ids, flags, model columns), one for the grid, a
 * scratch area of 16 bytes per agent slot (birth offsets, compaction output, sort), CUB's
 * temporary storage, the device copy of the model parameters and the int64 counters; pinned
 * host memory for read-backs and a staging buffer for downloads and uploads.
 *
 * Determinism: kernels run the model's MYR_HD functions, counters are integer atomics,
 * births take slots by an exclusive scan in slot order, and compaction moves the last alive
 * agents into the dead's slots (work in proportion to the agents that die or leave, not to the
 * population).
 * Every run.sort_every steps the agents of models that gather from the grid are sorted by cell (stable radix sort), so that a
 * warp's neighbourhood reads and claims hit the same cache lines; slot order never changes a
 * result, so the state equals the CPU backend's in id order (the hash's order). */
#include <cuda_runtime.h>
#include <stdio.h>
#include <string.h>

#include <cub/block/block_radix_sort.cuh>
#include <cub/device/device_radix_sort.cuh>
#include <cub/device/device_scan.cuh>
#include <cub/device/device_select.cuh>
#include <thrust/iterator/counting_iterator.h>

#include "models/model_cuda.cuh"
#include "sim/cuda/neighbours.cuh" /* myr_cuda_neighbours_*: snapshots for neighbour queries */
#include "sim/cuda/phase_clock.h"  /* MYRIAD_PHASE_TIMES: where the step's time goes */
#include "search/policy.h"
#include "sim/backend.h"
#include "sim/cuda/check.cuh" /* CU(call): CUDA failures as myr_error */

#define STAGING_BYTES ((size_t)64 << 20)
#define SCRATCH_PER_SLOT 16 /* two 8-byte areas: birth offsets / compaction / gather, sort keys */
#define ALIGN 256
#define TALLY 1025 /* migration's counts: up to 1024 ranks, and the total */

static int g_sm_count = 132;

int myr_cuda_blocks(int64_t n) {
  int64_t blocks = (n + MYR_CUDA_THREADS - 1) / MYR_CUDA_THREADS, most = (int64_t)g_sm_count * 2 * MYR_CUDA_MIN_BLOCKS;
  return (int)(blocks < most ? blocks : most);
}

typedef struct cuda_state {
  cudaStream_t stream;
  char *agent_block, *grid_block, *scratch;
  void *cub_temp;
  size_t cub_bytes;
  void *params;
  int64_t *counters; /* see COUNTER_*: flows, agent and cell accumulators, alive count, published flows */
  int64_t *selected; /* DeviceSelect's count */
  unsigned long long *tally; /* migration: leavers per destination rank, and in all */
  int64_t *pinned;   /* host: counters read back, scan ends, selected */
  char *staging;     /* host, pinned: downloads and uploads */
  myr_view view;     /* device pointers; step fields set per step */
  size_t device_bytes;
  int stats_ready;    /* the step's fused pass left this step's agent statistics in acc */
  int cells_cached;   /* cell_acc holds cell_stats of the published grid (cleared at each sync) */
  int64_t cell_acc[MYR_MAX_ACC];
  uint64_t sorted_at; /* step of the last sort by cell */
  myr_phase_clock *clock; /* NULL unless MYRIAD_PHASE_TIMES is set */
} cuda_state;

enum {
  COUNTER_FLOW = 0,                          /* flows since the last read-back */
  COUNTER_ACC = MYR_MAX_FLOWS,               /* agent statistics */
  COUNTER_CELL = COUNTER_ACC + MYR_MAX_ACC,  /* cell statistics */
  COUNTER_ALIVE = COUNTER_CELL + MYR_MAX_ACC,
  COUNTER_DISCARD, /* MYR_MAX_FLOWS flows of cells counted on another rank */
  /* The part of COUNTER_FLOW counted before the open sync window (lowered when statistics
   * take the flows), so flow - mark is this rank's flows of the window so far. */
  COUNTER_MARK = COUNTER_DISCARD + MYR_MAX_FLOWS,
  COUNTER_WINDOW = COUNTER_MARK + MYR_MAX_FLOWS, /* published: the team's flows of the last window */
  COUNTER_TOTAL = COUNTER_WINDOW + MYR_MAX_FLOWS, /* published: the team's flows since step 0 */
  N_COUNTERS = COUNTER_TOTAL + MYR_MAX_FLOWS
};

static size_t round_up(size_t n) { return (n + ALIGN - 1) / ALIGN * ALIGN; }

extern "C" int myr_cuda_probe(char *name, size_t n) {
  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess || count == 0) {
    if (e == cudaErrorInsufficientDriver) /* what the runtime says when there is no driver at all */
      snprintf(name, n, "no CUDA device found (no NVIDIA driver, or one older than this build's CUDA)");
    else
      snprintf(name, n, "no CUDA device found (%s)", e != cudaSuccess ? cudaGetErrorString(e) : "0 devices");
    cudaGetLastError(); /* clear the sticky error of a failed probe */
    return 0;
  }
  cudaDeviceProp prop;
  if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) {
    snprintf(name, n, "cannot read CUDA device 0's properties");
    return 0;
  }
  snprintf(name, n, "%s (%.1f GiB)", prop.name, prop.totalGlobalMem / 1073741824.0);
  return 1;
}

extern "C" int myr_gpu_count(void) {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return count;
}

extern "C" void myr_gpu_use(int device) {
  if (device >= 0) cudaSetDevice(device);
}

/* ---- memory layout ---------------------------------------------------------------------- */

/* Bytes of each agent array for `capacity` slots, in the order they are carved. */
static int agent_array_sizes(const myr_sim *sim, int64_t capacity, size_t *sizes) {
  const myr_model *m = sim->model;
  size_t cap = (size_t)capacity;
  int k = 0;
  sizes[k++] = round_up(cap * sizeof(uint64_t));
  for (int f = 0; f < 3; f++) sizes[k++] = round_up(cap);
  for (int c = 0; c < m->n_columns; c++)
    sizes[k++] = round_up(cap * myr_type_size(m->columns[c].type) * (size_t)sim->agents.components[c]);
  return k;
}

/* Slots whose alive flag is `want` (compaction's holes and the agents that fill them). */
struct slot_alive_is {
  const uint8_t *alive;
  uint8_t want;
  __device__ bool operator()(int32_t i) const { return (alive[i] != 0) == (want != 0); }
};

static size_t cub_bytes_needed(int64_t capacity, cudaStream_t s) {
  size_t scan = 0, select = 0;
  int32_t *i32 = NULL;
  uint64_t *u64 = NULL;
  uint8_t *flags = NULL;
  int64_t *count = NULL;
  size_t sort = 0;
  uint32_t *u32 = NULL;
  cub::DoubleBuffer<uint32_t> keys(u32, u32);
  cub::DoubleBuffer<int32_t> values(i32, i32);
  cub::DeviceScan::ExclusiveSum(NULL, scan, i32, i32, capacity, s);
  cub::DeviceSelect::Flagged(NULL, select, u64, flags, u64, count, capacity, s);
  size_t select_slots = 0; /* slots chosen by a predicate: compaction */
  cub::DeviceSelect::If(NULL, select_slots, thrust::counting_iterator<int32_t>(0), i32, count, capacity,
                        slot_alive_is{flags, 0}, s);
  if (select_slots > select) select = select_slots;
  cub::DeviceRadixSort::SortPairs(NULL, sort, keys, values, capacity, 0, 32, s);
  size_t leavers = 0; /* migration: rank << 32 | slot, up to 1024 ranks */
  cub::DoubleBuffer<uint64_t> wide(u64, u64);
  cub::DeviceRadixSort::SortKeys(NULL, leavers, wide, capacity, 0, 42, s);
  if (leavers > sort) sort = leavers;
  size_t most = scan > select ? scan : select;
  return most > sort ? most : sort;
}

/* The device bytes a sim needs (agents, scratch, grid, CUB, counters, params). */
static size_t device_bytes_needed(const myr_sim *sim, size_t *per_slot, size_t *per_cell, size_t *cub) {
  *per_slot = myr_sim_bytes_per_agent(sim->model, (int)sim->cfg->sync_frequency) + SCRATCH_PER_SLOT;
  *per_cell = myr_sim_bytes_per_cell(sim->model);
  *cub = cub_bytes_needed(sim->agents.capacity, 0);
  int64_t cells = (int64_t)sim->grid.width * sim->grid.height;
  return *per_slot * (size_t)sim->agents.capacity + *per_cell * (size_t)cells + *cub + sim->model->params_size +
         N_COUNTERS * sizeof(int64_t) + (4 + MYR_MAX_COLUMNS + MYR_MAX_LAYERS) * ALIGN;
}

static myr_status check_fits(const myr_sim *sim, myr_error *err) {
  size_t per_slot, per_cell, cub, free_b = 0, total_b = 0;
  size_t need = device_bytes_needed(sim, &per_slot, &per_cell, &cub);
  CU(cudaMemGetInfo(&free_b, &total_b));
  const double gib = 1073741824.0, margin = 0.98;
  if ((double)need <= margin * (double)free_b) return MYR_OK;
  int64_t cells = (int64_t)sim->grid.width * sim->grid.height;
  double ratio = (double)sim->agents.capacity / (double)(sim->cfg->count > 0 ? sim->cfg->count : 1);
  double room = margin * (double)free_b - (double)per_cell * (double)cells - (double)cub;
  long long fit = room > 0 ? (long long)(room / ((double)per_slot * ratio)) : 0;
  return myr_fail(err, MYR_ERR_NOMEM,
                  "the run needs %.2f GiB of GPU memory but %.2f GiB of %.2f are free: %zu B per agent slot x %lld "
                  "slots + %zu B per cell x %lld cells; with agents.capacity = %.2f x agents.count, about %lld "
                  "agents fit (lower agents.count, agents.capacity or the world size)",
                  need / gib, free_b / gib, total_b / gib, per_slot, (long long)sim->agents.capacity, per_cell,
                  (long long)cells, ratio, fit);
}

static myr_status allocate(myr_sim *sim, cuda_state *d, myr_error *err) {
  const myr_model *m = sim->model;
  size_t sizes[4 + MYR_MAX_COLUMNS], total = 0;
  int k = agent_array_sizes(sim, sim->agents.capacity, sizes);
  for (int i = 0; i < k; i++) total += sizes[i];
  CU(cudaMalloc((void **)&d->agent_block, total));
  CU(cudaMemsetAsync(d->agent_block, 0, total, d->stream));
  d->device_bytes += total;

  myr_view *v = &d->view;
  memset(v, 0, sizeof *v);
  char *p = d->agent_block;
  k = 0;
  v->id = (uint64_t *)p, p += sizes[k++];
  v->alive = (uint8_t *)p, p += sizes[k++];
  v->action = (uint8_t *)p, p += sizes[k++];
  v->children = (uint8_t *)p, p += sizes[k++];
  for (int c = 0; c < m->n_columns; c++) v->col[c] = p, p += sizes[k++];

  size_t cells = (size_t)sim->grid.width * (size_t)sim->grid.height, grid = 0;
  for (int l = 0; l < m->n_layers; l++) grid += round_up(cells * myr_type_size(m->layers[l].type));
  if (grid) {
    CU(cudaMalloc((void **)&d->grid_block, grid));
    CU(cudaMemsetAsync(d->grid_block, 0, grid, d->stream));
    d->device_bytes += grid;
  }
  p = d->grid_block;
  for (int l = 0; l < m->n_layers; l++) v->layer[l] = p, p += round_up(cells * myr_type_size(m->layers[l].type));

  size_t scratch = (size_t)sim->agents.capacity * SCRATCH_PER_SLOT;
  CU(cudaMalloc((void **)&d->scratch, scratch));
  d->cub_bytes = cub_bytes_needed(sim->agents.capacity, d->stream);
  CU(cudaMalloc(&d->cub_temp, d->cub_bytes ? d->cub_bytes : 1));
  CU(cudaMalloc((void **)&d->counters, N_COUNTERS * sizeof(int64_t)));
  CU(cudaMemsetAsync(d->counters, 0, N_COUNTERS * sizeof(int64_t), d->stream));
  CU(cudaMalloc((void **)&d->selected, sizeof(int64_t)));
  CU(cudaMalloc((void **)&d->tally, TALLY * sizeof(unsigned long long)));
  d->device_bytes += scratch + d->cub_bytes + (N_COUNTERS + 1) * sizeof(int64_t) + TALLY * sizeof(unsigned long long);
  if (m->params_size) {
    CU(cudaMalloc(&d->params, m->params_size));
    CU(cudaMemcpyAsync(d->params, sim->params, m->params_size, cudaMemcpyHostToDevice, d->stream));
    d->device_bytes += m->params_size;
  }
  CU(cudaHostAlloc((void **)&d->pinned, (N_COUNTERS + 8) * sizeof(int64_t), cudaHostAllocDefault));
  CU(cudaHostAlloc((void **)&d->staging, STAGING_BYTES, cudaHostAllocDefault));

  v->capacity = sim->agents.capacity;
  v->width = sim->grid.width;
  v->height = sim->grid.height;
  v->wrap = sim->grid.wrap;
  v->sync_frequency = (int32_t)sim->cfg->sync_frequency;
  v->seed = (uint32_t)sim->cfg->seed;
  v->params = d->params;
  return MYR_OK;
}

/* The device view for the step about to be computed. */
static myr_view device_view(const myr_sim *sim) {
  const cuda_state *d = (const cuda_state *)sim->device;
  myr_view v = d->view;
  v.n = sim->agents.n;
  v.step = sim->step;
  v.window_step = (int32_t)(sim->step % (uint64_t)sim->cfg->sync_frequency);
  v.flows_window = d->counters + COUNTER_WINDOW;
  v.flows_total = d->counters + COUNTER_TOTAL;
  return v;
}

/* ---- host <-> device copies through the pinned staging buffer ---------------------------- */

typedef enum { TO_HOST, TO_DEVICE } direction;

static myr_status copy_staged(cuda_state *d, void *host, void *dev, size_t bytes, direction dir, myr_error *err) {
  for (size_t off = 0; off < bytes; off += STAGING_BYTES) {
    size_t n = bytes - off < STAGING_BYTES ? bytes - off : STAGING_BYTES;
    if (dir == TO_HOST) {
      CU(cudaMemcpyAsync(d->staging, (char *)dev + off, n, cudaMemcpyDeviceToHost, d->stream));
      CU(cudaStreamSynchronize(d->stream));
      memcpy((char *)host + off, d->staging, n);
    } else {
      CU(cudaStreamSynchronize(d->stream)); /* the staging buffer is free again */
      memcpy(d->staging, (char *)host + off, n);
      CU(cudaMemcpyAsync((char *)dev + off, d->staging, n, cudaMemcpyHostToDevice, d->stream));
    }
  }
  if (dir == TO_DEVICE) CU(cudaStreamSynchronize(d->stream));
  return MYR_OK;
}

/* Copies ids, alive flags, persistent columns [0, n) and persistent layers one way. */
static myr_status transfer_state(myr_sim *sim, direction dir, myr_error *err) {
  cuda_state *d = (cuda_state *)sim->device;
  const myr_model *m = sim->model;
  myr_agents *a = &sim->agents;
  size_t n = (size_t)a->n, cap = (size_t)a->capacity;
  myr_status s;
  if ((s = copy_staged(d, a->id, d->view.id, n * sizeof(uint64_t), dir, err)) != MYR_OK) return s;
  if ((s = copy_staged(d, a->alive, d->view.alive, n, dir, err)) != MYR_OK) return s;
  for (int c = 0; c < m->n_columns; c++) {
    if (m->columns[c].lifetime == MYR_TRANSIENT) continue;
    size_t es = myr_type_size(m->columns[c].type);
    for (int k = 0; k < a->components[c]; k++) {
      size_t off = (size_t)k * cap * es;
      if ((s = copy_staged(d, (char *)a->col[c] + off, (char *)d->view.col[c] + off, n * es, dir, err)) != MYR_OK)
        return s;
    }
  }
  size_t cells = (size_t)sim->grid.width * (size_t)sim->grid.height;
  for (int l = 0; l < m->n_layers; l++) {
    if (m->layers[l].lifetime == MYR_TRANSIENT) continue;
    size_t bytes = cells * myr_type_size(m->layers[l].type);
    if ((s = copy_staged(d, sim->grid.layer[l], d->view.layer[l], bytes, dir, err)) != MYR_OK) return s;
  }
  /* the published flows (checkpoints); the open window's part is zero at a sync */
  s = copy_staged(d, sim->flows_window, d->counters + COUNTER_WINDOW, sizeof sim->flows_window, dir, err);
  if (s != MYR_OK) return s;
  return copy_staged(d, sim->flows_total, d->counters + COUNTER_TOTAL, sizeof sim->flows_total, dir, err);
}

/* ---- creation ----------------------------------------------------------------------------- */

__global__ void initial_ids(uint64_t *id, uint8_t *alive, int64_t n, uint64_t first) {
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    id[i] = first + (uint64_t)i;
    alive[i] = 1;
  }
}

static void detach(myr_sim *sim);

static myr_status attach(myr_sim *sim, int initialise, myr_error *err) {
  cudaDeviceProp prop;
  int device = sim->rank ? sim->rank->device : 0;
  CU(cudaSetDevice(device));
  CU(cudaGetDeviceProperties(&prop, device));
  g_sm_count = prop.multiProcessorCount;
  myr_status s = check_fits(sim, err);
  if (s != MYR_OK) return s;
  cuda_state *d = (cuda_state *)calloc(1, sizeof *d);
  if (!d) return myr_fail(err, MYR_ERR_NOMEM, "cannot allocate the CUDA backend's state");
  sim->device = d;
  CU(cudaStreamCreateWithFlags(&d->stream, cudaStreamNonBlocking));
  if ((s = allocate(sim, d, err)) != MYR_OK) return s; /* the caller detaches on failure */
  d->clock = myr_phase_clock_open();

  if (!initialise) return transfer_state(sim, TO_DEVICE, err);
  const myr_model_cuda *k = sim->model->cuda;
  myr_view v = device_view(sim);
  int64_t cells = (int64_t)v.width * v.height;
  initial_ids<<<myr_cuda_blocks(v.n), MYR_CUDA_THREADS, 0, d->stream>>>(v.id, v.alive, v.n, sim->first_id);
  CU(cudaGetLastError());
  if (k->init_cells) CU(k->init_cells(&v, cells, NULL, d->stream));
  if (k->init_agents) CU(k->init_agents(&v, v.n, NULL, d->stream));
  CU(cudaStreamSynchronize(d->stream));
  return MYR_OK;
}

static void detach(myr_sim *sim) {
  cuda_state *d = (cuda_state *)sim->device;
  if (!d) return;
  if (d->stream) cudaStreamSynchronize(d->stream);
  if (d->clock) {
    char who[64];
    if (sim->rank) snprintf(who, sizeof who, "rank %d (GPU %d)", sim->rank->index, sim->rank->device);
    else snprintf(who, sizeof who, "one rank");
    myr_phase_clock_close(d->clock, who);
  }
  cudaFree(d->agent_block);
  cudaFree(d->grid_block);
  cudaFree(d->scratch);
  cudaFree(d->cub_temp);
  cudaFree(d->params);
  cudaFree(d->counters);
  cudaFree(d->selected);
  cudaFree(d->tally);
  myr_cuda_neighbours_free(sim);
  cudaFreeHost(d->pinned);
  cudaFreeHost(d->staging);
  if (d->stream) cudaStreamDestroy(d->stream);
  free(d);
  sim->device = NULL;
}

/* ---- the step ----------------------------------------------------------------------------- */

/* flag[i] = 1 for an alive agent asking for a child; counts the alive. */
__global__ void birth_flags(const uint8_t *alive, const uint8_t *children, int32_t *flag, int64_t n, int64_t *alive_count) {
  int64_t local[1] = {0};
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    flag[i] = alive[i] && children[i];
    local[0] += alive[i];
  }
  myr_cuda_add_counters<1>(local, alive_count);
}

/* Appends the children after slot n; returns births and the alive count before them. */
static myr_status give_birth(myr_sim *sim, myr_view *v, int64_t *births, int64_t *alive, myr_error *err) {
  cuda_state *d = (cuda_state *)sim->device;
  int64_t n = v->n;
  int32_t *flag = (int32_t *)d->scratch, *offset = flag + sim->agents.capacity;
  int64_t *alive_count = d->counters + COUNTER_ALIVE;
  *births = 0;
  *alive = 0;
  if (n == 0) return MYR_OK;
  CU(cudaMemsetAsync(alive_count, 0, sizeof(int64_t), d->stream));
  birth_flags<<<myr_cuda_blocks(n), MYR_CUDA_THREADS, 0, d->stream>>>(v->alive, v->children, flag, n, alive_count);
  CU(cudaGetLastError());
  size_t bytes = d->cub_bytes;
  CU(cub::DeviceScan::ExclusiveSum(d->cub_temp, bytes, flag, offset, n, d->stream));
  int32_t *ends = (int32_t *)(d->pinned + N_COUNTERS);
  CU(cudaMemcpyAsync(ends, offset + n - 1, sizeof(int32_t), cudaMemcpyDeviceToHost, d->stream));
  CU(cudaMemcpyAsync(ends + 1, flag + n - 1, sizeof(int32_t), cudaMemcpyDeviceToHost, d->stream));
  CU(cudaMemcpyAsync(d->pinned + N_COUNTERS + 1, alive_count, sizeof(int64_t), cudaMemcpyDeviceToHost, d->stream));
  CU(cudaStreamSynchronize(d->stream));
  *births = (int64_t)ends[0] + ends[1];
  *alive = d->pinned[N_COUNTERS + 1];
  if (*births == 0) return MYR_OK;
  if (n + *births > sim->agents.capacity)
    return myr_fail(err, MYR_ERR_CAPACITY,
                    "step %llu: %lld births would need %lld agent slots but agents.capacity is %lld; raise agents.capacity",
                    (unsigned long long)v->step, (long long)*births, (long long)(n + *births),
                    (long long)sim->agents.capacity);
  /* Zero the children's slots in every column (components are contiguous runs of slots). */
  const myr_model *m = sim->model;
  for (int c = 0; c < m->n_columns; c++) {
    size_t es = myr_type_size(m->columns[c].type);
    for (int k = 0; k < sim->agents.components[c]; k++)
      CU(cudaMemsetAsync((char *)v->col[c] + ((size_t)k * (size_t)v->capacity + (size_t)n) * es, 0,
                         (size_t)*births * es, d->stream));
  }
  CU(m->cuda->birth(v, n, offset, n, d->stream));
  v->n = n + *births;
  return MYR_OK;
}

/* The persistent columns as a packed row: id, then every component of every column. */
typedef struct agent_cols {
  int n;
  char *col[MYR_MAX_COLUMNS];
  int es[MYR_MAX_COLUMNS], comps[MYR_MAX_COLUMNS];
  int64_t capacity;
  int row; /* bytes */
} agent_cols;

static agent_cols persistent_cols(const myr_sim *sim, const myr_view *v) {
  agent_cols a;
  memset(&a, 0, sizeof a);
  a.capacity = v->capacity;
  a.row = (int)sizeof(uint64_t);
  for (int c = 0; c < sim->model->n_columns; c++) {
    if (sim->model->columns[c].lifetime == MYR_TRANSIENT) continue; /* zero after a sync */
    a.col[a.n] = (char *)v->col[c];
    a.es[a.n] = (int)myr_type_size(sim->model->columns[c].type);
    a.comps[a.n] = sim->agents.components[c];
    a.row += a.es[a.n] * a.comps[a.n];
    a.n++;
  }
  return a;
}

/* Dead slots below `keep` (the alive count) are holes; the alive agents at `keep` and above fill
 * them, the j-th hole taking the j-th such agent, so slots [0, keep) end up alive. Moves the id
 * and every persistent column (transient ones are zero after a sync). Slot order never changes
 * a result (sorts by cell and snapshots order by cell and id), and this touches only the rows
 * that move: a stable compaction read and wrote every column of every slot, which at sync 1
 * under spatial_parallel (agents leave every step) cost more than the migration itself. */
__global__ void fill_holes(uint64_t *id, agent_cols a, const int32_t *hole, const int32_t *mover, const int64_t *count,
                           int64_t most) {
  const int64_t m = *count < most ? *count : most;
  for (int64_t j = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; j < m; j += (int64_t)gridDim.x * blockDim.x) {
    const size_t to = (size_t)hole[j], from = (size_t)mover[j];
    id[to] = id[from];
    for (int c = 0; c < a.n; c++)
      for (int k = 0; k < a.comps[c]; k++) {
        const size_t base = (size_t)k * (size_t)a.capacity;
        memcpy(a.col[c] + (base + to) * a.es[c], a.col[c] + (base + from) * a.es[c], (size_t)a.es[c]);
      }
  }
}

static myr_status compact(myr_sim *sim, myr_view *v, int64_t keep, myr_error *err) {
  cuda_state *d = (cuda_state *)sim->device;
  int64_t n = v->n, above = n - keep; /* as many agents alive at keep and above as holes below */
  if (above > 0) {
    int32_t *hole = (int32_t *)d->scratch, *mover = hole + v->capacity;
    size_t bytes = 0;
    thrust::counting_iterator<int32_t> low(0), high((int32_t)keep);
    CU(cub::DeviceSelect::If(NULL, bytes, low, hole, d->selected, keep, slot_alive_is{v->alive, 0}, d->stream));
    if (bytes > d->cub_bytes) return myr_fail(err, MYR_ERR_BACKEND, "compaction: CUB needs %zu bytes of scratch", bytes);
    bytes = d->cub_bytes;
    CU(cub::DeviceSelect::If(d->cub_temp, bytes, low, hole, d->selected, keep, slot_alive_is{v->alive, 0}, d->stream));
    bytes = d->cub_bytes;
    CU(cub::DeviceSelect::If(d->cub_temp, bytes, high, mover, d->selected, above, slot_alive_is{v->alive, 1},
                             d->stream));
    agent_cols a = persistent_cols(sim, v);
    fill_holes<<<myr_cuda_blocks(above), MYR_CUDA_THREADS, 0, d->stream>>>(v->id, a, hole, mover, d->selected, above);
    CU(cudaGetLastError());
  }
  CU(cudaMemsetAsync(v->alive, 1, (size_t)keep, d->stream));
  CU(cudaMemsetAsync(v->alive + keep, 0, (size_t)(n - keep), d->stream));
  v->n = keep;
  return MYR_OK;
}

extern "C" myr_status myr_cuda_compact(myr_sim *sim, myr_error *err);

extern "C" void myr_cuda_phase_mark(myr_sim *sim, const char *name) {
  cuda_state *d = (cuda_state *)sim->device;
  if (d && d->clock) myr_phase_clock_mark(d->clock, d->stream, name);
}

/* Published flows (myr_view.flows_window, flows_total), one thread per flow. close_window: the
 * open window's flows (flow - mark) into `window`, and the mark moves up to now; add_window:
 * the team's window into the total; take_flows: statistics read the flows back, which are
 * zeroed, the mark lowered by as much (flow - mark stays the window's part). */
__global__ void close_window(const int64_t *flow, int64_t *mark, int64_t *window) {
  int f = threadIdx.x;
  if (f < MYR_MAX_FLOWS) {
    window[f] = flow[f] - mark[f];
    mark[f] = flow[f];
  }
}

__global__ void add_window(const int64_t *window, int64_t *total) {
  int f = threadIdx.x;
  if (f < MYR_MAX_FLOWS) total[f] += window[f];
}

__global__ void take_flows(int64_t *flow, int64_t *mark) {
  int f = threadIdx.x;
  if (f < MYR_MAX_FLOWS) {
    mark[f] -= flow[f];
    flow[f] = 0;
  }
}

/* The end of a window: this rank's flows of it, summed over the team on the device (no host
 * wait), published for the next windows. */
static myr_status publish_flows(myr_sim *sim, myr_error *err) {
  cuda_state *d = (cuda_state *)sim->device;
  int64_t *window = d->counters + COUNTER_WINDOW;
  close_window<<<1, MYR_MAX_FLOWS, 0, d->stream>>>(d->counters + COUNTER_FLOW, d->counters + COUNTER_MARK, window);
  CU(cudaGetLastError());
  if (sim->rank && sim->rank->sum_flows) {
    myr_status s = sim->rank->sum_flows(sim->rank, sim, window, d->stream, err);
    if (s != MYR_OK) return s;
  }
  add_window<<<1, MYR_MAX_FLOWS, 0, d->stream>>>(window, d->counters + COUNTER_TOTAL);
  CU(cudaGetLastError());
  return MYR_OK;
}

/* The team's part of a sync at `point` (no-op for a lone rank). */
static myr_status team_sync(myr_sim *sim, const myr_view *v, int point, myr_error *err) {
  cuda_state *d = (cuda_state *)sim->device;
  return sim->rank ? sim->rank->sync_layers(sim->rank, sim, v, point, d->stream, err) : MYR_OK;
}

/* A cell launcher (sync_cells_begin/end, cell_stats) over this rank's cells: one launch over the
 * whole rows [cells_first, + cells_n), or for a spatial_parallel tile (part of each row) over
 * its columns [cells_x0, + cells_nx) of those rows (myr_view.cells_nx). Returns the launch's
 * cudaError_t. */
static int launch_cells(const myr_sim *sim, myr_cuda_launcher fn, const myr_view *v, int64_t *counters,
                        cudaStream_t stream) {
  myr_view cv = *v;
  int64_t width = sim->grid.width;
  if (sim->cells_nx <= 0 || sim->cells_nx >= width) {
    cv.first_cell = sim->cells_first;
    cv.cells_nx = 0;
    return fn(&cv, sim->cells_n, counters, stream);
  }
  cv.first_cell = sim->cells_first + sim->cells_x0;
  cv.cells_nx = sim->cells_nx;
  return fn(&cv, sim->cells_n / width * sim->cells_nx, counters, stream);
}

/* ---- communication: async (spatial_parallel) ------------------------------------------------ */

/* Whether this sync goes on while its halo exchanges are in flight. */
static int sync_async(const myr_sim *sim) {
  return sim->cfg->communication == MYR_COMM_ASYNC && sim->rank && sim->rank->border_x >= 0 && sim->rank->sync_wait;
}

/* The team's exchange at `point` left in flight (the step's stream does not wait for it). */
static myr_status team_sync_deferred(myr_sim *sim, const myr_view *v, int point, myr_error *err) {
  sim->rank->defer = 1;
  myr_status s = team_sync(sim, v, point, err);
  sim->rank->defer = 0;
  return s;
}

/* The step's stream waits for the exchange left in flight. */
static myr_status team_wait(myr_sim *sim, myr_error *err) {
  return sim->rank->sync_wait(sim->rank, ((cuda_state *)sim->device)->stream, err);
}

/* A cell launcher over one part of the rank's tile (myr_sim_tile_part). */
static int launch_cells_part(myr_sim *sim, myr_cuda_launcher fn, const myr_view *v, int64_t *counters,
                             cudaStream_t stream, int border) {
  myr_cell_rect r[4];
  int n = myr_sim_tile_part(sim, border, r), e = 0;
  for (int k = 0; k < n && !e; k++) {
    myr_cell_rect was = myr_sim_with_cells(sim, r[k]);
    e = launch_cells(sim, fn, v, counters, stream);
    myr_sim_restore_cells(sim, was);
  }
  return e;
}

/* The exchange at `point`, then the cell launcher `fn` (may be NULL): with async, fn runs on
 * the cells the exchange cannot touch while it is in flight, then the step's stream waits for
 * it, then fn runs on the rest. */
static myr_status sync_then_cells(myr_sim *sim, myr_view *v, int point, myr_cuda_launcher fn, int64_t *counters,
                                  int async, myr_error *err) {
  cuda_state *d = (cuda_state *)sim->device;
  if (!async) {
    myr_status s = team_sync(sim, v, point, err);
    if (s == MYR_OK && fn) CU(launch_cells(sim, fn, v, counters, d->stream));
    return s;
  }
  myr_status s = team_sync_deferred(sim, v, point, err);
  if (s == MYR_OK && fn) CU(launch_cells_part(sim, fn, v, counters, d->stream, 0));
  if (s == MYR_OK) s = team_wait(sim, err);
  if (s == MYR_OK && fn) CU(launch_cells_part(sim, fn, v, counters, d->stream, 1));
  return s;
}

static myr_status sync_window(myr_sim *sim, myr_view *v, myr_error *err) {
  cuda_state *d = (cuda_state *)sim->device;
  const myr_model_cuda *k = sim->model->cuda;
  int64_t *flow = d->counters + COUNTER_FLOW;
  /* A replicated grid's cells run on every rank; only the owner keeps their flows. */
  int64_t *cell_flow = sim->owns_cells ? flow : d->counters + COUNTER_DISCARD;
  int64_t n_before = v->n, births, alive;
  const int async = sync_async(sim);
  myr_status s = sync_then_cells(sim, v, MYR_SYNC_AFTER_ACT, k->sync_cells_begin, cell_flow, async, err);
  if (s != MYR_OK) return s;
  myr_cuda_phase_mark(sim, "sums after act");
  if ((s = team_sync(sim, v, MYR_SYNC_AFTER_CELLS_BEGIN, err)) != MYR_OK) return s;
  myr_cuda_phase_mark(sim, "copies after cells");
  if (k->sync_agents) CU(k->sync_agents(v, v->n, flow, d->stream));
  myr_cuda_phase_mark(sim, "sync agents");
  /* async: births read no layer (model.h), so they go on while the sums are in flight */
  if (async) s = team_sync_deferred(sim, v, MYR_SYNC_AFTER_AGENTS, err);
  else s = team_sync(sim, v, MYR_SYNC_AFTER_AGENTS, err);
  if (s != MYR_OK) return s;
  myr_cuda_phase_mark(sim, "sums after agents");
  if (k->sync_agents) {
    s = give_birth(sim, v, &births, &alive, err);
  } else {
    births = 0;
    alive = n_before;
  }
  if (s != MYR_OK) return s;
  myr_cuda_phase_mark(sim, "births");
  if (async) {
    if (k->sync_cells_end) CU(launch_cells_part(sim, k->sync_cells_end, v, cell_flow, d->stream, 0));
    if ((s = team_wait(sim, err)) != MYR_OK) return s;
    if (k->sync_cells_end) CU(launch_cells_part(sim, k->sync_cells_end, v, cell_flow, d->stream, 1));
    /* the halo copies go on while agents leave and the dead are compacted away */
    s = team_sync_deferred(sim, v, MYR_SYNC_AFTER_CELLS_END, err);
  } else {
    if (k->sync_cells_end) CU(launch_cells(sim, k->sync_cells_end, v, cell_flow, d->stream));
    myr_cuda_phase_mark(sim, "cells end");
    s = team_sync(sim, v, MYR_SYNC_AFTER_CELLS_END, err);
  }
  if (s != MYR_OK) return s;
  myr_cuda_phase_mark(sim, async ? "cells end and copies" : "copies after cells end");
  int64_t deaths = n_before - alive;
  d->cells_cached = 0; /* persistent layers change only here (model.h) */
  if (sim->rank && sim->rank->migrate) {
    /* agents leaving this rank are marked dead and arrivals appended, so that one compaction
     * removes the dead and the departed together; the host knows how many stay (no count) */
    const int64_t before = v->n;
    sim->agents.n = v->n;
    if ((s = sim->rank->migrate(sim->rank, sim, err)) != MYR_OK) return s;
    myr_cuda_phase_mark(sim, "migration");
    const int64_t arrived = sim->agents.n - before;
    v->n = sim->agents.n;
    s = compact(sim, v, alive + births - sim->rank->departed + arrived, err);
    sim->agents.n = v->n;
  } else if (deaths > 0) {
    s = compact(sim, v, alive + births, err);
  }
  myr_cuda_phase_mark(sim, "compaction");
  if (s == MYR_OK && async) s = team_wait(sim, err); /* the halos, before the next step reads them */
  if (s != MYR_OK) return s;
  sim->agents.n = v->n;
  sim->births += births;
  sim->deaths += deaths;
  s = publish_flows(sim, err);
  myr_cuda_phase_mark(sim, "flows");
  return s;
}

/* ---- agents moving between ranks (partition/, spatial_parallel) -------------------------- */

#define MIGRATE_SHARED_RANKS 64 /* counts per destination kept in shared memory up to this many ranks */

/* The band of `cuts` (first cells of `bands` bands, ascending, cuts[0] = 0) that holds v. */
__device__ inline int band_of(const int32_t *cuts, int bands, int32_t v) {
  int lo = 0, hi = bands - 1;
  while (lo < hi) {
    int mid = (lo + hi + 1) / 2;
    if (cuts[mid] <= v) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/* The cells agent i stands in: its grid coordinates (int32 columns x, y) or with by_bins its bins
 * (f32 columns xf, yf in `bins`). Only x or xf is read, and only for tiles (px > 1). */
typedef struct cell_cols {
  const int32_t *x, *y;
  const float *xf, *yf;
  myr_nbr_view bins;
  int by_bins;
} cell_cols;

/* The columns that place an agent: i32 cell columns ycol (and xcol when with_x), or with
 * `bins` (neighbour layouts) the f32 position columns binned by it. */
static cell_cols cell_cols_of(const myr_view *v, int xcol, int ycol, const myr_nbr_view *bins, int with_x) {
  cell_cols c;
  memset(&c, 0, sizeof c);
  c.by_bins = bins != NULL;
  if (bins) {
    c.bins = *bins;
    c.yf = (const float *)v->col[ycol];
    if (with_x) c.xf = (const float *)v->col[xcol];
  } else {
    c.y = (const int32_t *)v->col[ycol];
    if (with_x) c.x = (const int32_t *)v->col[xcol];
  }
  return c;
}

/* Agent i's row (cell, or bin along y), and its column (needs with_x). */
__device__ inline int32_t row_of(const cell_cols &c, int64_t i) {
  return c.by_bins ? myr_nbr_bin(&c.bins, 1, c.yf[i]) : c.y[i];
}
__device__ inline int32_t col_of(const cell_cols &c, int64_t i) {
  return c.by_bins ? myr_nbr_bin(&c.bins, 0, c.xf[i]) : c.x[i];
}

/* Each alive agent outside rank me's tile, as the key (its rank << 32 | its slot), appended to
 * keys in no particular order (the caller sorts them: rank order, then slot order); count[q]
 * += agents going to q, count[ranks] = the keys. Tiles of px x py ranks cut at col0[px + 1] and
 * row0[py + 1]: rank (column band) + px x (row band); bands (px = 1) look at the row alone.
 * One read of the agents' cells: at a sync every step, a pass per destination and another to
 * mark the departed (the earlier way) cost more than the few agents that leave. Each thread
 * loads LEAVER_UNROLL agents' flags and cells at once, every load independent of the others:
 * one agent at a time, with the cell loaded only for the alive, left each thread two DRAM
 * round trips in a row per agent (0.13 ms for 25M agents on an H200, four times the reads). */
#define LEAVER_UNROLL 4
__global__ void find_leavers(cell_cols c, const uint8_t *alive, int64_t n, const int32_t *row0, int py,
                             const int32_t *col0, int px, int me, uint64_t *keys, unsigned long long *count) {
  const int ranks = px * py, lane = (int)(threadIdx.x & 31u);
  const int64_t stride = (int64_t)gridDim.x * blockDim.x;
  for (int64_t i0 = (int64_t)blockIdx.x * blockDim.x; i0 < n; i0 += stride * LEAVER_UNROLL) { /* warp-uniform */
    uint8_t live[LEAVER_UNROLL];
    int32_t row[LEAVER_UNROLL], col[LEAVER_UNROLL];
#pragma unroll
    for (int u = 0; u < LEAVER_UNROLL; u++) { /* loads only: all in flight together */
      const int64_t i = i0 + u * stride + threadIdx.x;
      live[u] = i < n ? alive[i] : 0;
      row[u] = i < n ? row_of(c, i) : 0; /* a dead slot's cell is read, never used */
      col[u] = i < n && px > 1 ? col_of(c, i) : 0;
    }
#pragma unroll
    for (int u = 0; u < LEAVER_UNROLL; u++) {
      const int64_t i = i0 + u * stride + threadIdx.x;
      int q = me;
      if (live[u]) {
        q = band_of(row0, py, row[u]);
        if (px > 1) q = q * px + band_of(col0, px, col[u]);
      }
      const bool leaves = q != me;
      const unsigned who = __ballot_sync(0xffffffffu, leaves);
      if (!who) continue;
      unsigned long long first = 0;
      if (lane == __ffs(who) - 1) first = atomicAdd(&count[ranks], (unsigned long long)__popc(who));
      first = __shfl_sync(0xffffffffu, first, __ffs(who) - 1);
      if (leaves) {
        keys[first + (unsigned long long)__popc(who & ((1u << lane) - 1u))] = (uint64_t)q << 32 | (uint64_t)i;
        atomicAdd(&count[q], 1ull);
      }
    }
  }
}

/* The leavers' keys sorted in one block when they are few (one launch where the device-wide
 * radix sort takes six or so); keys are distinct, so the order is the device sort's. */
#define LEAVER_SORT_THREADS 256
#define LEAVER_SORT_ITEMS 16
#define LEAVER_SORT_MOST (LEAVER_SORT_THREADS * LEAVER_SORT_ITEMS)
__global__ void __launch_bounds__(LEAVER_SORT_THREADS) sort_few_leavers(const uint64_t *keys, int64_t m, int end_bit,
                                                                        uint64_t *sorted) {
  typedef cub::BlockRadixSort<uint64_t, LEAVER_SORT_THREADS, LEAVER_SORT_ITEMS> sort_t;
  __shared__ typename sort_t::TempStorage temp;
  /* padding sorts after every key: a key's slot is below 2^31 */
  const uint64_t pad = end_bit >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << end_bit) - 1;
  uint64_t k[LEAVER_SORT_ITEMS];
  const int64_t first = (int64_t)threadIdx.x * LEAVER_SORT_ITEMS;
#pragma unroll
  for (int j = 0; j < LEAVER_SORT_ITEMS; j++) k[j] = first + j < m ? keys[first + j] : pad;
  sort_t(temp).Sort(k, 0, end_bit);
#pragma unroll
  for (int j = 0; j < LEAVER_SORT_ITEMS; j++)
    if (first + j < m) sorted[first + j] = k[j];
}

/* Agent i as a packed row at p: id, then every component of every persistent column. */
__device__ inline void pack_row(const uint64_t *id, const agent_cols &a, int64_t i, char *p) {
  memcpy(p, &id[i], sizeof(uint64_t));
  p += sizeof(uint64_t);
  for (int c = 0; c < a.n; c++)
    for (int k = 0; k < a.comps[c]; k++, p += a.es[c])
      memcpy(p, a.col[c] + ((size_t)k * (size_t)a.capacity + (size_t)i) * a.es[c], (size_t)a.es[c]);
}

__global__ void pack_rows(const uint64_t *id, agent_cols a, const int32_t *slot, int64_t m, char *out) {
  for (int64_t j = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; j < m; j += (int64_t)gridDim.x * blockDim.x)
    pack_row(id, a, slot[j], out + j * a.row);
}

/* The leavers' rows, in key order (find_leavers), packed at out; each is dead here after. */
__global__ void pack_leavers(const uint64_t *id, uint8_t *alive, agent_cols a, const uint64_t *keys, int64_t m,
                             char *out) {
  for (int64_t j = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; j < m; j += (int64_t)gridDim.x * blockDim.x) {
    const int64_t i = (int64_t)(keys[j] & 0xffffffffu);
    pack_row(id, a, i, out + j * a.row);
    alive[i] = 0;
  }
}

__global__ void unpack_rows(uint64_t *id, uint8_t *alive, agent_cols a, const char *in, int64_t m, int64_t first) {
  for (int64_t j = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; j < m; j += (int64_t)gridDim.x * blockDim.x) {
    int64_t i = first + j;
    const char *p = in + j * a.row;
    memcpy(&id[i], p, sizeof(uint64_t));
    p += sizeof(uint64_t);
    alive[i] = 1;
    for (int c = 0; c < a.n; c++)
      for (int k = 0; k < a.comps[c]; k++, p += a.es[c])
        memcpy(a.col[c] + ((size_t)k * (size_t)a.capacity + (size_t)i) * a.es[c], p, (size_t)a.es[c]);
  }
}

__global__ void count_alive(const uint8_t *alive, int64_t n, int64_t *count) {
  int64_t local[1] = {0};
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
    local[0] += alive[i];
  myr_cuda_add_counters<1>(local, count);
}

/* Removes the dead slots (stable), whatever made them dead. Synchronous. */
extern "C" myr_status myr_cuda_compact(myr_sim *sim, myr_error *err) {
  cuda_state *d = (cuda_state *)sim->device;
  myr_view v = device_view(sim);
  if (v.n == 0) return MYR_OK;
  int64_t *alive_count = d->counters + COUNTER_ALIVE;
  CU(cudaMemsetAsync(alive_count, 0, sizeof(int64_t), d->stream));
  count_alive<<<myr_cuda_blocks(v.n), MYR_CUDA_THREADS, 0, d->stream>>>(v.alive, v.n, alive_count);
  CU(cudaGetLastError());
  CU(cudaMemcpyAsync(d->pinned + N_COUNTERS + 1, alive_count, sizeof(int64_t), cudaMemcpyDeviceToHost, d->stream));
  CU(cudaStreamSynchronize(d->stream));
  int64_t keep = d->pinned[N_COUNTERS + 1];
  if (keep < v.n) {
    myr_status s = compact(sim, &v, keep, err);
    if (s != MYR_OK) return s;
    CU(cudaStreamSynchronize(d->stream));
  }
  sim->agents.n = keep;
  return MYR_OK;
}

extern "C" int myr_cuda_agent_row_bytes(const myr_sim *sim) {
  myr_view v = device_view(sim);
  return persistent_cols(sim, &v).row;
}

/* Packs the alive agents standing outside rank `me`'s tile into *buf (device, grown as needed),
 * grouped by destination rank in rank order, counts[q] rows each, and marks them dead
 * (myr_cuda_compact removes them). The tiles: px x py ranks cut at row0 (device [py + 1]) and
 * col0 (device [px + 1]; not read for bands, px = 1). An agent's cell is the columns xcol and
 * ycol (int32), or with `bins` (neighbour layouts) the bins of the f32 columns xcol and ycol.
 * The counts are on the host on return; the rows and marks are queued on the sim's stream. */
extern "C" myr_status myr_cuda_emigrate(myr_sim *sim, const int32_t *row0, int py, const int32_t *col0, int px,
                                        int me, int xcol, int ycol, const myr_nbr_view *bins, void **buf, size_t *cap,
                                        int64_t *counts, myr_error *err) {
  cuda_state *d = (cuda_state *)sim->device;
  myr_view v = device_view(sim);
  int64_t n = v.n;
  int ranks = px * py;
  agent_cols a = persistent_cols(sim, &v);
  uint64_t *keys = (uint64_t *)d->scratch, *sorted = (uint64_t *)(d->scratch + (size_t)v.capacity * 8);
  for (int q = 0; q < ranks; q++) counts[q] = 0;
  if (n == 0) return MYR_OK;
  if (ranks + 1 > TALLY) return myr_fail(err, MYR_ERR_INTERNAL, "migration: at most %d ranks", TALLY - 1);
  /* one pass listing the leavers and counting them per destination, one read-back, into a
   * tally allocated once: a cudaMallocAsync here, each step, cost 0.45 ms (2 GPUs) to 0.75 ms
   * (4 GPUs) of idle device per step on H200s, and 4-GPU spatial scaling went from 3.37x to
   * 3.93x without it (the default pool gives its memory back at every synchronisation) */
  unsigned long long *dcount = d->tally, host[TALLY];
  CU(cudaMemsetAsync(dcount, 0, sizeof(unsigned long long) * (size_t)(ranks + 1), d->stream));
  cell_cols c = cell_cols_of(&v, xcol, ycol, bins, px > 1);
  find_leavers<<<myr_cuda_blocks(n), MYR_CUDA_THREADS, 0, d->stream>>>(c, v.alive, n, row0, py, col0, px, me, keys,
                                                                        dcount);
  CU(cudaGetLastError());
  CU(cudaMemcpyAsync(host, dcount, sizeof(unsigned long long) * (size_t)(ranks + 1), cudaMemcpyDeviceToHost,
                     d->stream));
  CU(cudaStreamSynchronize(d->stream));
  myr_cuda_phase_mark(sim, "leavers counted");
  for (int q = 0; q < ranks; q++) counts[q] = (int64_t)host[q];
  const int64_t leaving = (int64_t)host[ranks];
  if (leaving == 0) return MYR_OK;
  size_t need = (size_t)leaving * (size_t)a.row;
  if (need > *cap) {
    cudaFree(*buf);
    *buf = NULL;
    *cap = 0;
    CU(cudaMalloc(buf, need + need / 2 + 4096));
    *cap = need + need / 2 + 4096;
  }
  /* rank order, then slot order: the rows each destination gets, in the order it appends them */
  int end_bit = 32;
  while ((1 << (end_bit - 32)) < ranks) end_bit++;
  const uint64_t *in_order = sorted;
  if (leaving <= LEAVER_SORT_MOST) {
    sort_few_leavers<<<1, LEAVER_SORT_THREADS, 0, d->stream>>>(keys, leaving, end_bit, sorted);
    CU(cudaGetLastError());
  } else {
    cub::DoubleBuffer<uint64_t> order(keys, sorted); /* both halves of the scratch: CUB keeps no copy */
    size_t bytes = 0;
    CU(cub::DeviceRadixSort::SortKeys(NULL, bytes, order, leaving, 0, end_bit, d->stream));
    if (bytes > d->cub_bytes) return myr_fail(err, MYR_ERR_BACKEND, "migration: CUB needs %zu bytes of scratch", bytes);
    bytes = d->cub_bytes;
    CU(cub::DeviceRadixSort::SortKeys(d->cub_temp, bytes, order, leaving, 0, end_bit, d->stream));
    in_order = order.Current();
  }
  /* the departed are dead here: the caller's compaction removes them */
  pack_leavers<<<myr_cuda_blocks(leaving), MYR_CUDA_THREADS, 0, d->stream>>>(v.id, v.alive, a, in_order, leaving,
                                                                            (char *)*buf);
  CU(cudaGetLastError());
  return MYR_OK;
}

/* Appends m packed agents (device rows, ready in the order of the sim's stream) after the rank's
 * agents, queued on that stream. */
extern "C" myr_status myr_cuda_immigrate(myr_sim *sim, const void *rows, int64_t m, myr_error *err) {
  cuda_state *d = (cuda_state *)sim->device;
  myr_view v = device_view(sim);
  if (m == 0) return MYR_OK;
  if (v.n + m > v.capacity)
    return myr_fail(err, MYR_ERR_CAPACITY, "step %llu: this rank would hold %lld agents but has %lld slots; raise "
                    "agents.capacity", (unsigned long long)sim->step, (long long)(v.n + m), (long long)v.capacity);
  const myr_model *mo = sim->model;
  for (int c = 0; c < mo->n_columns; c++) { /* transient columns of the new slots start at zero */
    size_t es = myr_type_size(mo->columns[c].type);
    for (int k = 0; k < sim->agents.components[c]; k++)
      CU(cudaMemsetAsync((char *)v.col[c] + ((size_t)k * (size_t)v.capacity + (size_t)v.n) * es, 0, (size_t)m * es,
                         d->stream));
  }
  agent_cols a = persistent_cols(sim, &v);
  unpack_rows<<<myr_cuda_blocks(m), MYR_CUDA_THREADS, 0, d->stream>>>(v.id, v.alive, a, (const char *)rows, m, v.n);
  CU(cudaGetLastError());
  sim->agents.n = v.n + m;
  return MYR_OK;
}

__global__ void slots_from(int32_t *slot, int64_t first, int64_t m) {
  for (int64_t j = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; j < m; j += (int64_t)gridDim.x * blockDim.x)
    slot[j] = (int32_t)(first + j);
}

/* balance dynamic (partition/): packs the rank's last k agents (after removing any dead) into
 * *buf (device, grown as needed) as myr_cuda_immigrate takes them, and removes them here.
 * Synchronous. */
extern "C" myr_status myr_cuda_take_last(myr_sim *sim, int64_t k, void **buf, size_t *cap, myr_error *err) {
  cuda_state *d = (cuda_state *)sim->device;
  myr_status s = myr_cuda_compact(sim, err);
  if (s != MYR_OK || k <= 0) return s;
  myr_view v = device_view(sim);
  if (k > v.n)
    return myr_fail(err, MYR_ERR_INTERNAL, "balance dynamic: %lld agents to give, %lld held", (long long)k,
                    (long long)v.n);
  agent_cols a = persistent_cols(sim, &v);
  size_t need = (size_t)k * (size_t)a.row;
  if (need > *cap) {
    cudaFree(*buf);
    *buf = NULL;
    *cap = 0;
    CU(cudaMalloc(buf, need));
    *cap = need;
  }
  int32_t *slot = (int32_t *)(d->scratch + (size_t)v.capacity * 8);
  slots_from<<<myr_cuda_blocks(k), MYR_CUDA_THREADS, 0, d->stream>>>(slot, v.n - k, k);
  CU(cudaGetLastError());
  pack_rows<<<myr_cuda_blocks(k), MYR_CUDA_THREADS, 0, d->stream>>>(v.id, a, slot, k, (char *)*buf);
  CU(cudaGetLastError());
  CU(cudaMemsetAsync(v.alive + (v.n - k), 0, (size_t)k, d->stream)); /* the slots a later birth reuses */
  CU(cudaStreamSynchronize(d->stream));
  sim->agents.n = v.n - k;
  return MYR_OK;
}

/* The row (grid row, or bin along y of the f32 column ycol with by_bins) of every alive agent
 * counted into count[height] (device). */
__global__ void row_counts(cell_cols c, const uint8_t *alive, int64_t n, unsigned long long *count) {
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
    if (alive[i]) atomicAdd(&count[row_of(c, i)], 1ull);
}

/* balance dynamic under spatial_parallel: count[y] += the rank's alive agents in row y (see
 * myr_cuda_emigrate for ycol and bins), touching only rows that hold some (after a migration a
 * rank's agents stand in its own band). Synchronous. */
extern "C" myr_status myr_cuda_count_rows(myr_sim *sim, int ycol, const myr_nbr_view *bins, int32_t height,
                                          int64_t *count, myr_error *err) {
  cuda_state *d = (cuda_state *)sim->device;
  myr_view v = device_view(sim);
  if (v.n == 0 || height <= 0) return MYR_OK;
  unsigned long long *dcount = NULL;
  int64_t *host = (int64_t *)malloc(sizeof(int64_t) * (size_t)height);
  if (!host) return myr_fail(err, MYR_ERR_NOMEM, "cannot count agents in %d rows", height);
  cudaError_t e = cudaMallocAsync((void **)&dcount, sizeof(unsigned long long) * (size_t)height, d->stream);
  if (e == cudaSuccess) e = cudaMemsetAsync(dcount, 0, sizeof(unsigned long long) * (size_t)height, d->stream);
  if (e == cudaSuccess) {
    row_counts<<<myr_cuda_blocks(v.n), MYR_CUDA_THREADS, 0, d->stream>>>(cell_cols_of(&v, ycol, ycol, bins, 0),
                                                                       v.alive, v.n, dcount);
    e = cudaGetLastError();
  }
  if (e == cudaSuccess)
    e = cudaMemcpyAsync(host, dcount, sizeof(int64_t) * (size_t)height, cudaMemcpyDeviceToHost, d->stream);
  if (dcount) cudaFreeAsync(dcount, d->stream);
  if (e == cudaSuccess) e = cudaStreamSynchronize(d->stream);
  if (e == cudaSuccess) /* only rows holding agents: other ranks' threads add their own rows at once */
    for (int32_t y = 0; y < height; y++)
      if (host[y]) count[y] += host[y];
  free(host);
  CU(e);
  return MYR_OK;
}

extern "C" void *myr_cuda_stream_of(const myr_sim *sim) { return ((const cuda_state *)sim->device)->stream; }

/* ---- sorting agents by cell ---------------------------------------------------------------- */

__global__ void cell_keys(const int32_t *x, const int32_t *y, int32_t width, uint32_t *key, int32_t *slot, int64_t n) {
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    key[i] = (uint32_t)y[i] * (uint32_t)width + (uint32_t)x[i];
    slot[i] = (int32_t)i;
  }
}

template <class T>
__global__ void gather(const T *in, const int32_t *from, T *out, int64_t n) {
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
    out[i] = in[from[i]];
}

template <class T>
static myr_status permute(cuda_state *d, T *data, const int32_t *from, int64_t n, myr_error *err) {
  T *out = (T *)d->scratch; /* the first 8-byte area: the sort's keys are no longer needed */
  gather<T><<<myr_cuda_blocks(n), MYR_CUDA_THREADS, 0, d->stream>>>(data, from, out, n);
  CU(cudaGetLastError());
  CU(cudaMemcpyAsync(data, out, (size_t)n * sizeof(T), cudaMemcpyDeviceToDevice, d->stream));
  return MYR_OK;
}

/* Stable sort of the agents by cell (row-major), moving ids and persistent columns; transient
 * columns are zero at a sync and every slot is alive. */
static myr_status sort_by_cell(myr_sim *sim, myr_view *v, myr_error *err) {
  cuda_state *d = (cuda_state *)sim->device;
  const myr_model *m = sim->model;
  int64_t n = v->n, cap = v->capacity;
  if (n < 2) return MYR_OK;
  uint32_t *keys = (uint32_t *)d->scratch;
  int32_t *slots = (int32_t *)(d->scratch + (size_t)cap * 8);
  cell_keys<<<myr_cuda_blocks(n), MYR_CUDA_THREADS, 0, d->stream>>>(
      (const int32_t *)v->col[m->cell_columns[0]], (const int32_t *)v->col[m->cell_columns[1]], v->width, keys, slots, n);
  CU(cudaGetLastError());
  cub::DoubleBuffer<uint32_t> k(keys, keys + cap);
  cub::DoubleBuffer<int32_t> s(slots, slots + cap);
  int bits = 1;
  while (bits < 32 && ((uint64_t)1 << bits) < (uint64_t)v->width * (uint64_t)v->height) bits++;
  size_t bytes = d->cub_bytes;
  CU(cub::DeviceRadixSort::SortPairs(d->cub_temp, bytes, k, s, n, 0, bits, d->stream));
  const int32_t *from = s.Current();
  myr_status st = permute(d, v->id, from, n, err);
  for (int c = 0; c < m->n_columns && st == MYR_OK; c++) {
    if (m->columns[c].lifetime == MYR_TRANSIENT) continue;
    size_t es = myr_type_size(m->columns[c].type);
    for (int j = 0; j < sim->agents.components[c] && st == MYR_OK; j++) {
      char *base = (char *)v->col[c] + (size_t)j * (size_t)cap * es;
      if (es == 1) st = permute(d, (uint8_t *)base, from, n, err);
      else if (es == 4) st = permute(d, (uint32_t *)base, from, n, err);
      else st = permute(d, (uint64_t *)base, from, n, err);
    }
  }
  return st;
}

static myr_status step(myr_sim *sim, myr_error *err) {
  cuda_state *d = (cuda_state *)sim->device;
  const myr_model_cuda *k = sim->model->cuda;
  myr_view v = device_view(sim);
  myr_cuda_phase_mark(sim, "start");
  myr_status ns = myr_cuda_neighbours_view(sim, &v, d->stream, err); /* models with neighbour queries */
  if (ns != MYR_OK) return ns;
  if (sim->model->nbr_dims) myr_cuda_phase_mark(sim, "neighbour snapshot");
  int64_t *flow = d->counters + COUNTER_FLOW, *acc = d->counters + COUNTER_ACC;
  int random = sim->cfg->policy == MYR_POLICY_RANDOM;
  d->stats_ready = 0;
  int searched = sim->cfg->policy == MYR_POLICY_NETWORK || sim->cfg->policy == MYR_POLICY_MCTS;
  int (*fused)(const myr_view *, int64_t, int64_t *, int64_t *, void *) = random ? k->step_random : k->step_heuristic;
  if (searched) { /* the network or the search decides, then the model acts */
    myr_status ds = myr_search_decide_cuda(sim, &v, d->stream, err);
    if (ds != MYR_OK) return ds;
    CU(k->act(&v, v.n, flow, d->stream));
  } else if (fused) {
    int with_stats = sim->record_hint && k->stats_after_act;
    if (with_stats) CU(cudaMemsetAsync(acc, 0, MYR_MAX_ACC * sizeof(int64_t), d->stream));
    CU(fused(&v, v.n, flow, with_stats ? acc : NULL, d->stream));
    d->stats_ready = with_stats;
  } else {
    myr_cuda_launcher decide = random ? k->decide_random : k->heuristic;
    if (!decide)
      return myr_fail(err, MYR_ERR_BACKEND, "model %s has no CUDA kernel for policy %s", sim->model->name,
                      myr_policy_name(sim->cfg->policy));
    CU(decide(&v, v.n, NULL, d->stream));
    CU(k->act(&v, v.n, flow, d->stream));
  }
  myr_cuda_phase_mark(sim, "decide and act");
  if (v.window_step == v.sync_frequency - 1) {
    myr_status s = sync_window(sim, &v, err);
    uint64_t every = (uint64_t)sim->cfg->sort_every;
    if (s == MYR_OK && sim->model->cell_columns && every > 0 && sim->step + 1 >= d->sorted_at + every) {
      s = sort_by_cell(sim, &v, err);
      d->sorted_at = sim->step + 1;
      myr_cuda_phase_mark(sim, "sort by cell");
    }
    if (s != MYR_OK) return s;
  }
  myr_phase_clock_step_done(d->clock);
  sim->step++;
  return MYR_OK;
}

/* ---- statistics and downloads ------------------------------------------------------------- */

static myr_status stats(myr_sim *sim, int64_t *acc, myr_error *err) {
  cuda_state *d = (cuda_state *)sim->device;
  const myr_model_cuda *k = sim->model->cuda;
  myr_view v = device_view(sim);
  int64_t *dacc = d->counters + COUNTER_ACC;
  if (!d->stats_ready) { /* else the step's fused pass has filled acc with the agents' part */
    CU(cudaMemsetAsync(dacc, 0, MYR_MAX_ACC * sizeof(int64_t), d->stream));
    if (k->agent_stats) CU(k->agent_stats(&v, v.n, dacc, d->stream));
  }
  d->stats_ready = 0;
  /* Cell statistics read persistent layers, which change only at a sync: between syncs the last
   * result stands. They go to a separate area so the agents' part can be told apart. */
  int64_t *dcell = d->counters + COUNTER_CELL;
  int cells = k->cell_stats && sim->owns_cells && !d->cells_cached;
  if (cells) {
    CU(cudaMemsetAsync(dcell, 0, MYR_MAX_ACC * sizeof(int64_t), d->stream));
    CU(launch_cells(sim, k->cell_stats, &v, dcell, d->stream));
  }
  CU(cudaMemcpyAsync(d->pinned, d->counters, (MYR_MAX_FLOWS + 2 * MYR_MAX_ACC) * sizeof(int64_t),
                     cudaMemcpyDeviceToHost, d->stream));
  take_flows<<<1, MYR_MAX_FLOWS, 0, d->stream>>>(d->counters + COUNTER_FLOW, d->counters + COUNTER_MARK);
  CU(cudaGetLastError());
  CU(cudaStreamSynchronize(d->stream));
  for (int f = 0; f < MYR_MAX_FLOWS; f++) sim->flow[f] += d->pinned[COUNTER_FLOW + f];
  if (cells) {
    memcpy(d->cell_acc, d->pinned + COUNTER_CELL, sizeof d->cell_acc);
    d->cells_cached = 1;
  }
  for (int a = 0; a < MYR_MAX_ACC; a++)
    acc[a] = d->pinned[COUNTER_ACC + a] + (k->cell_stats && sim->owns_cells ? d->cell_acc[a] : 0);
  return MYR_OK;
}

static myr_status to_host(myr_sim *sim, myr_error *err) {
  cuda_state *d = (cuda_state *)sim->device;
  CU(cudaStreamSynchronize(d->stream));
  return transfer_state(sim, TO_HOST, err);
}

extern "C" const myr_backend_ops myr_cuda_backend = {"cuda", attach, detach, step, stats, to_host};

/* ---- measurement helpers for benchmarks ----------------------------------------------------- */

/* Device memory held by the backend (bytes). */
extern "C" size_t myr_cuda_device_bytes(const myr_sim *sim) {
  return sim->device ? ((const cuda_state *)sim->device)->device_bytes : 0;
}

/* The device view of the current state and the backend's stream (search, tests, benchmarks):
 * 1 on success, 0 when sim has no CUDA backend. */
extern "C" int myr_cuda_device_view(const myr_sim *sim, myr_view *v, void **stream) {
  if (!sim->device) return 0;
  *v = device_view(sim);
  if (stream) *stream = ((const cuda_state *)sim->device)->stream;
  return 1;
}

/* Waits for the backend's stream (for timing). */
extern "C" int myr_cuda_synchronize(const myr_sim *sim) {
  return sim->device ? (int)cudaStreamSynchronize(((const cuda_state *)sim->device)->stream) : 0;
}

/* Device-to-device copy bandwidth in GB/s (bytes read + bytes written), median of `reps`
 * timed copies of `bytes` after two warm-ups: the ceiling memory-bound kernels are held to. */
extern "C" double myr_cuda_copy_bandwidth(size_t bytes, int reps) {
  void *a = NULL, *b = NULL;
  if (cudaMalloc(&a, bytes) != cudaSuccess || cudaMalloc(&b, bytes) != cudaSuccess) {
    cudaFree(a);
    cudaGetLastError();
    return 0;
  }
  cudaMemset(a, 1, bytes);
  cudaEvent_t t0, t1;
  cudaEventCreate(&t0);
  cudaEventCreate(&t1);
  float ms[64];
  if (reps > 64) reps = 64;
  for (int r = -2; r < reps; r++) {
    cudaEventRecord(t0);
    cudaMemcpy(b, a, bytes, cudaMemcpyDeviceToDevice);
    cudaEventRecord(t1);
    cudaEventSynchronize(t1);
    if (r >= 0) cudaEventElapsedTime(&ms[r], t0, t1);
  }
  for (int i = 1; i < reps; i++) /* insertion sort: reps is small */
    for (int j = i; j > 0 && ms[j] < ms[j - 1]; j--) {
      float t = ms[j];
      ms[j] = ms[j - 1];
      ms[j - 1] = t;
    }
  double median = ms[reps / 2];
  cudaEventDestroy(t0);
  cudaEventDestroy(t1);
  cudaFree(a);
  cudaFree(b);
  return 2.0 * (double)bytes / (median * 1e-3) / 1e9;
}
