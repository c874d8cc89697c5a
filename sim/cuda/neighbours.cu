/* Neighbour snapshots on the CUDA backend (sim/neighbours.h): the same layout and order as the
 * CPU's (sim/neighbours.c), built by a histogram of cells with integer atomics, CUB's exclusive
 * scan, an atomic scatter (which leaves the histogram zero for the next one), each bin sorted
 * by id (one thread per bin: bins hold a few agents), and a gather of the published columns in
 * that order: six kernels (CUB's scan is two), no memset and no host synchronisation per
 * publish. The order inside a bin before its sort depends on the atomics; after it, on the
 * agents alone, so the snapshot equals the CPU's.
 * Owns: one device block per sim (sim->nbr_device), sized for agents.capacity and the bins,
 * with CUB's scratch; freed by myr_cuda_neighbours_free (the backend's detach). */
#include <cuda_runtime.h>
#include <string.h>

#include <cub/device/device_scan.cuh>

#include "sim/cuda/neighbours.cuh"
#include "sim/sim.h"
#include "sim/cuda/check.cuh" /* CU(call): CUDA failures as myr_error */

typedef struct nbr_device {
  int64_t capacity, cells;
  char *block;           /* everything below, carved */
  uint32_t *count, *start, *cell, *slot;
  uint64_t *id;
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
};

__global__ void nbr_gather(const uint32_t *slot, const uint64_t *id_in, uint64_t *id_out, nbr_columns cols,
                           int64_t n) {
  for (int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; e < n; e += (int64_t)gridDim.x * blockDim.x) {
    uint32_t s = slot[e];
    id_out[e] = id_in[s];
    float c[MYR_NBR_MAX_COLUMNS] = {0};
    for (int k = 0; k < cols.n; k++) cols.out[k][e] = c[k] = cols.in[k][s];
    cols.pos[e] = myr_nbr_pos{c[0], c[1], cols.dims == 3 ? c[2] : 0.0f, 0.0f};
  }
}

/* ---- memory ---------------------------------------------------------------------------------- */

static size_t up(size_t n) { return (n + 255) / 256 * 256; }

extern "C" void myr_cuda_neighbours_free(myr_sim *sim) {
  nbr_device *d = (nbr_device *)sim->nbr_device;
  if (!d) return;
  cudaFree(d->block);
  cudaFree(d->cub_temp);
  free(d);
  sim->nbr_device = NULL;
}

static myr_status device_for(myr_sim *sim, const myr_nbr_view *lay, cudaStream_t stream, nbr_device **out,
                             myr_error *err) {
  int64_t cells = (int64_t)lay->bins[0] * lay->bins[1] * lay->bins[2], cap = sim->agents.capacity;
  nbr_device *d = (nbr_device *)sim->nbr_device;
  if (d && d->capacity == cap && d->cells == cells) {
    *out = d;
    return MYR_OK;
  }
  myr_cuda_neighbours_free(sim);
  d = (nbr_device *)calloc(1, sizeof *d);
  if (!d) return myr_fail(err, MYR_ERR_NOMEM, "cannot allocate the neighbour snapshot's state");
  sim->nbr_device = d;
  d->capacity = cap;
  d->cells = cells;
  size_t c = (size_t)(cap ? cap : 1), nc = (size_t)sim->model->nbr_n_columns;
  size_t sizes[6 + MYR_NBR_MAX_COLUMNS] = {up((size_t)(cells + 1) * 4), up((size_t)(cells + 1) * 4), up(c * 4),
                                           up(c * 4), up(c * 8), up(c * sizeof(myr_nbr_pos))};
  size_t total = 0;
  for (size_t k = 0; k < nc; k++) sizes[6 + k] = up(c * 4);
  for (size_t k = 0; k < 6 + nc; k++) total += sizes[k];
  CU(cudaMalloc((void **)&d->block, total));
  char *p = d->block;
  d->count = (uint32_t *)p, p += sizes[0];
  d->start = (uint32_t *)p, p += sizes[1];
  d->cell = (uint32_t *)p, p += sizes[2];
  d->slot = (uint32_t *)p, p += sizes[3];
  d->id = (uint64_t *)p, p += sizes[4];
  d->pos = (myr_nbr_pos *)p, p += sizes[5];
  for (size_t k = 0; k < nc; k++) d->col[k] = (float *)p, p += sizes[6 + k];
  CU(cub::DeviceScan::ExclusiveSum(NULL, d->cub_bytes, d->count, d->start, cells + 1, stream));
  CU(cudaMalloc(&d->cub_temp, d->cub_bytes ? d->cub_bytes : 1));
  /* count is all zero between publishes: here, and after each scatter counts it down */
  CU(cudaMemsetAsync(d->count, 0, (size_t)(cells + 1) * sizeof(uint32_t), stream));
  *out = d;
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
  nbr_device *d;
  if ((st = device_for(sim, &lay, stream, &d, err)) != MYR_OK) return st;
  const myr_model *m = sim->model;
  int64_t n = v->n, cells = d->cells; /* every slot in [0, n) is alive on the device */
  const float *z = m->nbr_dims == 3 ? (const float *)v->col[m->nbr_columns[2]] : NULL;
  if (n > 0) { /* count is all zero (device_for, nbr_scatter) */
    nbr_cells<<<myr_cuda_blocks(n), MYR_CUDA_THREADS, 0, stream>>>(lay, (const float *)v->col[m->nbr_columns[0]],
                                                                  (const float *)v->col[m->nbr_columns[1]], z,
                                                                  d->cell, d->count, n);
    CU(cudaGetLastError());
  }
  size_t bytes = d->cub_bytes;
  CU(cub::DeviceScan::ExclusiveSum(d->cub_temp, bytes, d->count, d->start, cells + 1, stream));
  if (n > 0) {
    nbr_scatter<<<myr_cuda_blocks(n), MYR_CUDA_THREADS, 0, stream>>>(d->cell, d->start, d->count, d->slot, n);
    CU(cudaGetLastError());
    nbr_sort_bins<<<myr_cuda_blocks(cells), MYR_CUDA_THREADS, 0, stream>>>(d->start, d->slot, v->id, cells);
    CU(cudaGetLastError());
    nbr_columns cols;
    memset(&cols, 0, sizeof cols);
    cols.n = m->nbr_n_columns;
    cols.dims = m->nbr_dims;
    cols.pos = d->pos;
    for (int k = 0; k < cols.n; k++) {
      cols.in[k] = (const float *)v->col[m->nbr_columns[k]];
      cols.out[k] = d->col[k];
    }
    nbr_gather<<<myr_cuda_blocks(n), MYR_CUDA_THREADS, 0, stream>>>(d->slot, v->id, d->id, cols, n);
    CU(cudaGetLastError());
  }
  d->view = lay;
  d->view.n = n;
  d->view.start = d->start;
  d->view.id = d->id;
  d->view.slot = d->slot;
  d->view.pos = d->pos;
  for (int k = 0; k < m->nbr_n_columns; k++) d->view.col[k] = d->col[k];
  d->published = 1;
  d->published_step = v->step;
  return MYR_OK;
}

extern "C" myr_status myr_cuda_neighbours_view(myr_sim *sim, myr_view *v, void *stream, myr_error *err) {
  if (sim->model->nbr_dims == 0) return MYR_OK;
  nbr_device *d = (nbr_device *)sim->nbr_device;
  uint64_t window_first = v->step - (uint64_t)v->window_step;
  if (!d || !d->published || v->window_step == 0 || d->published_step < window_first ||
      d->published_step > v->step || d->view.n != v->n) {
    myr_status st = publish(sim, v, (cudaStream_t)stream, err);
    if (st != MYR_OK) return st;
    d = (nbr_device *)sim->nbr_device;
  }
  v->nbr = d->view;
  return MYR_OK;
}
