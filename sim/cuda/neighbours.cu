/* Neighbour snapshots on the CUDA backend (sim/neighbours.h): the same layout and order as the
 * CPU's (sim/neighbours.c), built by a histogram of cells with integer atomics, CUB's exclusive
 * scan, an atomic scatter (which leaves the histogram zero for the next one), each bin sorted
 * by id (one thread per bin: bins hold a few agents), and a gather of the published columns in
 * that order: six kernels (CUB's scan is two), no memset and no host synchronisation per
 * publish. The order inside a bin before its sort depends on the atomics; after it, on the
 * agents alone, so the snapshot equals the CPU's. Ghost entries (spatial_parallel: other
 * ranks' agents near the band, rows on the device given by the partition) are sources n, n + 1,
 * ... after the n agent slots in every kernel; with them, the bins are sorted by a per-source
 * copy of the ids.
 * Owns: one device block per sim (sim->nbr_device), sized for agents.capacity + ghosts and the
 * bins, with CUB's scratch; freed by myr_cuda_neighbours_free (the backend's detach). */
#include <cuda_runtime.h>
#include <string.h>

#include <cub/device/device_scan.cuh>

#include "sim/cuda/neighbours.cuh"
#include "sim/sim.h"
#include "sim/cuda/check.cuh" /* CU(call): CUDA failures as myr_error */

typedef struct nbr_device {
  int64_t capacity, cells, room; /* agents.capacity it was sized for, bins, entries it holds */
  char *block;           /* everything below, carved */
  uint32_t *count, *start, *cell, *slot;
  uint64_t *id;
  uint64_t *source_id;   /* per source (slot, then ghost), when there are ghosts */
  const char *ghost_rows; /* device, the partition's until the next publish */
  int64_t ghost_n, local_n; /* ghosts given; agent slots the snapshot covers */
  int ghosts_given;
  myr_nbr_pos *pos;
  float *col[MYR_NBR_MAX_COLUMNS];
  void *cub_temp;
  size_t cub_bytes;
  uint64_t published_step;
  int published;
  myr_nbr_view view;
} nbr_device;

/* ---- kernels -------------------------------------------------------------------------------- */

__global__ void nbr_cells(myr_nbr_view lay, const float *x, const float *y, const float *z, uint32_t *cell,
                          uint32_t *count, int64_t n) {
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    uint32_t c = (uint32_t)myr_nbr_cell(&lay, x[i], y[i], z ? z[i] : 0.0f);
    cell[i] = c;
    atomicAdd(&count[c], 1u);
  }
}

/* The cells of the ghost rows (myr_nbr_ghost_row_bytes: id, then the columns, position first). */
__global__ void nbr_ghost_cells(myr_nbr_view lay, const char *rows, int row_bytes, uint32_t *cell, uint32_t *count,
                                int64_t g) {
  for (int64_t j = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; j < g; j += (int64_t)gridDim.x * blockDim.x) {
    const float *c = (const float *)(rows + (size_t)j * (size_t)row_bytes + 8);
    uint32_t k = (uint32_t)myr_nbr_cell(&lay, c[0], c[1], lay.dims == 3 ? c[2] : 0.0f);
    cell[j] = k;
    atomicAdd(&count[k], 1u);
  }
}

/* The ids the bins are sorted by, per source: the slots' (copied before), then the ghosts'. */
__global__ void nbr_ghost_ids(const char *rows, int row_bytes, uint64_t *source_id, int64_t g) {
  for (int64_t j = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; j < g; j += (int64_t)gridDim.x * blockDim.x)
    source_id[j] = *(const uint64_t *)(rows + (size_t)j * (size_t)row_bytes);
}

/* Places each agent in its bin, counting the bin's histogram count down to 0: the places are
 * [0, count) in whatever order the atomics give (the sort fixes the order), and count is left
 * all zero for the next publish's histogram, so no step zeroes it. */
__global__ void nbr_scatter(const uint32_t *cell, const uint32_t *start, uint32_t *left, uint32_t *slot, int64_t n) {
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    uint32_t c = cell[i];
    slot[start[c] + atomicSub(&left[c], 1u) - 1u] = (uint32_t)i;
  }
}

/* Each bin's slots in ascending id, one thread per bin (bins hold a few agents: about 8 in
 * circles). A bin of up to NBR_SORT_LOCAL entries is loaded into thread-local arrays first, so
 * that its loads go out together and the insertion sort compares keys in L1 rather than a chain
 * of dependent loads from L2; a larger bin is sorted in place. Ids are unique: the order is the
 * same either way. */
#define NBR_SORT_LOCAL 16
__global__ void nbr_sort_bins(const uint32_t *start, uint32_t *slot, const uint64_t *id, int64_t cells) {
  for (int64_t c = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; c < cells; c += (int64_t)gridDim.x * blockDim.x) {
    uint32_t b = start[c], e = start[c + 1];
    if (e - b < 2) continue;
    if (e - b <= NBR_SORT_LOCAL) {
      uint32_t s[NBR_SORT_LOCAL];
      uint64_t key[NBR_SORT_LOCAL];
      int n = (int)(e - b);
      for (int i = 0; i < n; i++) s[i] = slot[b + i];
      for (int i = 0; i < n; i++) key[i] = id[s[i]];
      for (int i = 1; i < n; i++) {
        uint32_t si = s[i];
        uint64_t ki = key[i];
        int j = i;
        while (j > 0 && key[j - 1] > ki) {
          s[j] = s[j - 1];
          key[j] = key[j - 1];
          j--;
        }
        s[j] = si;
        key[j] = ki;
      }
      for (int i = 0; i < n; i++) slot[b + i] = s[i];
      continue;
    }
    myr_nbr_sort_bin(slot, id, b, e);
  }
}

struct nbr_columns {
  const float *in[MYR_NBR_MAX_COLUMNS];
  float *out[MYR_NBR_MAX_COLUMNS];
  int n, dims;
  myr_nbr_pos *pos;
  const char *ghost_rows; /* sources local_n, local_n + 1, ...: rows of ghost_bytes */
  int ghost_bytes;
  int64_t local_n;
};

/* Entry e's id and columns from its source: an agent slot, or a ghost row (whose slot becomes
 * UINT32_MAX: it has none on this rank). */
__global__ void nbr_gather(uint32_t *slot, const uint64_t *id_in, uint64_t *id_out, nbr_columns cols, int64_t n) {
  for (int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; e < n; e += (int64_t)gridDim.x * blockDim.x) {
    uint32_t s = slot[e];
    float c[MYR_NBR_MAX_COLUMNS] = {0};
    if (s < cols.local_n) {
      id_out[e] = id_in[s];
      for (int k = 0; k < cols.n; k++) cols.out[k][e] = c[k] = cols.in[k][s];
    } else {
      const char *row = cols.ghost_rows + (size_t)(s - cols.local_n) * (size_t)cols.ghost_bytes;
      id_out[e] = *(const uint64_t *)row;
      for (int k = 0; k < cols.n; k++) cols.out[k][e] = c[k] = ((const float *)(row + 8))[k];
      slot[e] = UINT32_MAX;
    }
    cols.pos[e] = myr_nbr_pos{c[0], c[1], cols.dims == 3 ? c[2] : 0.0f, 0.0f};
  }
}

/* ---- memory ---------------------------------------------------------------------------------- */

static size_t up(size_t n) { return (n + 255) / 256 * 256; }

/* Frees the arrays (the struct, and the ghosts given, stay). */
static void free_block(nbr_device *d) {
  cudaFree(d->block);
  cudaFree(d->cub_temp);
  d->block = NULL;
  d->cub_temp = NULL;
  d->cub_bytes = 0;
  d->capacity = d->cells = d->room = 0;
  d->published = 0;
}

extern "C" void myr_cuda_neighbours_free(myr_sim *sim) {
  nbr_device *d = (nbr_device *)sim->nbr_device;
  if (!d) return;
  free_block(d);
  free(d);
  sim->nbr_device = NULL;
}

static nbr_device *state_of(myr_sim *sim) {
  if (!sim->nbr_device) sim->nbr_device = calloc(1, sizeof(nbr_device));
  return (nbr_device *)sim->nbr_device;
}

extern "C" myr_status myr_cuda_neighbours_ghosts(myr_sim *sim, const void *rows, int64_t n, myr_error *err) {
  nbr_device *d = state_of(sim);
  if (!d) return myr_fail(err, MYR_ERR_NOMEM, "cannot allocate the neighbour snapshot's state");
  d->ghost_rows = (const char *)rows;
  d->ghost_n = n;
  d->ghosts_given = 1;
  return MYR_OK;
}

/* The block for the bins and agents.capacity + `ghosts` entries, kept while it suffices (a
 * team's ghost count changes every window: grown with room to spare). */
static myr_status device_for(myr_sim *sim, const myr_nbr_view *lay, int64_t ghosts, cudaStream_t stream,
                             nbr_device **out, myr_error *err) {
  int64_t cells = (int64_t)lay->bins[0] * lay->bins[1] * lay->bins[2], cap = sim->agents.capacity;
  nbr_device *d = state_of(sim);
  if (!d) return myr_fail(err, MYR_ERR_NOMEM, "cannot allocate the neighbour snapshot's state");
  *out = d;
  if (d->block && d->capacity == cap && d->cells == cells && d->room >= cap + ghosts &&
      (ghosts == 0 || d->source_id))
    return MYR_OK;
  free_block(d);
  int64_t room;
  myr_status rs = myr_nbr_room(cap, ghosts, &room, err);
  if (rs != MYR_OK) return rs;
  d->capacity = cap;
  d->cells = cells;
  d->room = room;
  size_t c = (size_t)(room ? room : 1), nc = (size_t)sim->model->nbr_n_columns;
  size_t sizes[7 + MYR_NBR_MAX_COLUMNS] = {up((size_t)(cells + 1) * 4), up((size_t)(cells + 1) * 4), up(c * 4),
                                           up(c * 4), up(c * 8), up(c * sizeof(myr_nbr_pos)),
                                           ghosts > 0 ? up(c * 8) : 0};
  size_t total = 0;
  for (size_t k = 0; k < nc; k++) sizes[7 + k] = up(c * 4);
  for (size_t k = 0; k < 7 + nc; k++) total += sizes[k];
  CU(cudaMalloc((void **)&d->block, total));
  char *p = d->block;
  d->count = (uint32_t *)p, p += sizes[0];
  d->start = (uint32_t *)p, p += sizes[1];
  d->cell = (uint32_t *)p, p += sizes[2];
  d->slot = (uint32_t *)p, p += sizes[3];
  d->id = (uint64_t *)p, p += sizes[4];
  d->pos = (myr_nbr_pos *)p, p += sizes[5];
  d->source_id = ghosts > 0 ? (uint64_t *)p : NULL, p += sizes[6];
  for (size_t k = 0; k < nc; k++) d->col[k] = (float *)p, p += sizes[7 + k];
  CU(cub::DeviceScan::ExclusiveSum(NULL, d->cub_bytes, d->count, d->start, cells + 1, stream));
  CU(cudaMalloc(&d->cub_temp, d->cub_bytes ? d->cub_bytes : 1));
  /* count is all zero between publishes: here, and after each scatter counts it down */
  CU(cudaMemsetAsync(d->count, 0, (size_t)(cells + 1) * sizeof(uint32_t), stream));
  return MYR_OK;
}

/* ---- publishing ------------------------------------------------------------------------------ */

static myr_status publish(myr_sim *sim, const myr_view *v, cudaStream_t stream, myr_error *err) {
  myr_nbr_space sp;
  myr_status st = myr_neighbours_check(sim, &sp, err);
  if (st != MYR_OK) return st;
  myr_nbr_view lay;
  char why[256];
  myr_nbr_layout(&sp, &lay, why, (int)sizeof why); /* checked above */
  const myr_model *m = sim->model;
  nbr_device *d = (nbr_device *)sim->nbr_device;
  int64_t g = 0; /* ghosts: sources n .. n + g - 1 */
  if (sim->rank && sim->rank->count > 1) { /* spatial_parallel (checked): the partition's ghosts */
    if (!d || !d->ghosts_given)
      return myr_fail(err, MYR_ERR_INTERNAL, "rank %d, step %llu: no ghost entries were given for this snapshot",
                      sim->rank->index, (unsigned long long)v->step);
    g = d->ghost_n;
  }
  if ((st = device_for(sim, &lay, g, stream, &d, err)) != MYR_OK) return st;
  int gb = myr_nbr_ghost_row_bytes(m->nbr_n_columns);
  int64_t n = v->n, cells = d->cells; /* every slot in [0, n) is alive on the device */
  const float *z = m->nbr_dims == 3 ? (const float *)v->col[m->nbr_columns[2]] : NULL;
  if (n > 0) { /* count is all zero (device_for, nbr_scatter) */
    nbr_cells<<<myr_cuda_blocks(n), MYR_CUDA_THREADS, 0, stream>>>(lay, (const float *)v->col[m->nbr_columns[0]],
                                                                  (const float *)v->col[m->nbr_columns[1]], z,
                                                                  d->cell, d->count, n);
    CU(cudaGetLastError());
  }
  if (g > 0) {
    nbr_ghost_cells<<<myr_cuda_blocks(g), MYR_CUDA_THREADS, 0, stream>>>(lay, d->ghost_rows, gb, d->cell + n, d->count,
                                                                        g);
    CU(cudaGetLastError());
  }
  size_t bytes = d->cub_bytes;
  CU(cub::DeviceScan::ExclusiveSum(d->cub_temp, bytes, d->count, d->start, cells + 1, stream));
  if (n + g > 0) {
    nbr_scatter<<<myr_cuda_blocks(n + g), MYR_CUDA_THREADS, 0, stream>>>(d->cell, d->start, d->count, d->slot, n + g);
    CU(cudaGetLastError());
    const uint64_t *source_id = v->id;
    if (g > 0) {
      CU(cudaMemcpyAsync(d->source_id, v->id, (size_t)n * sizeof(uint64_t), cudaMemcpyDeviceToDevice, stream));
      nbr_ghost_ids<<<myr_cuda_blocks(g), MYR_CUDA_THREADS, 0, stream>>>(d->ghost_rows, gb, d->source_id + n, g);
      CU(cudaGetLastError());
      source_id = d->source_id;
    }
    nbr_sort_bins<<<myr_cuda_blocks(cells), MYR_CUDA_THREADS, 0, stream>>>(d->start, d->slot, source_id, cells);
    CU(cudaGetLastError());
    nbr_columns cols;
    memset(&cols, 0, sizeof cols);
    cols.n = m->nbr_n_columns;
    cols.dims = m->nbr_dims;
    cols.pos = d->pos;
    cols.ghost_rows = d->ghost_rows;
    cols.ghost_bytes = gb;
    cols.local_n = n;
    for (int k = 0; k < cols.n; k++) {
      cols.in[k] = (const float *)v->col[m->nbr_columns[k]];
      cols.out[k] = d->col[k];
    }
    nbr_gather<<<myr_cuda_blocks(n + g), MYR_CUDA_THREADS, 0, stream>>>(d->slot, v->id, d->id, cols, n + g);
    CU(cudaGetLastError());
  }
  d->view = lay;
  d->view.n = n + g;
  d->view.ghosts = g;
  d->view.start = d->start;
  d->view.id = d->id;
  d->view.slot = d->slot;
  d->view.pos = d->pos;
  for (int k = 0; k < m->nbr_n_columns; k++) d->view.col[k] = d->col[k];
  d->published = 1;
  d->published_step = v->step;
  d->local_n = n;
  d->ghosts_given = 0;
  return MYR_OK;
}

extern "C" myr_status myr_cuda_neighbours_view(myr_sim *sim, myr_view *v, void *stream, myr_error *err) {
  if (sim->model->nbr_dims == 0) return MYR_OK;
  nbr_device *d = (nbr_device *)sim->nbr_device;
  uint64_t window_first = v->step - (uint64_t)v->window_step;
  if (!d || !d->published || v->window_step == 0 || d->published_step < window_first ||
      d->published_step > v->step || d->local_n != v->n) {
    myr_status st = publish(sim, v, (cudaStream_t)stream, err);
    if (st != MYR_OK) return st;
    d = (nbr_device *)sim->nbr_device;
  }
  v->nbr = d->view;
  return MYR_OK;
}
