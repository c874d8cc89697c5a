/* Kernels for models with neighbour queries (sim/neighbours.h) on the CUDA backend.
 *
 *   MYR_CUDA_AGENTS_BY_CELL(launcher, fn, NC)   like MYR_CUDA_AGENTS (models/model_cuda.cuh):
 *       fn(const myr_view *, int64_t slot, int64_t *counters) for every agent, but thread k runs
 *       the agent of snapshot entry k (v->nbr.slot[k]), so that a warp's agents sit in the same
 *       few bins and read the same neighbours from cache. Results do not change (every agent's
 *       result depends on its own data and the snapshot only); only memory traffic does. Ghost
 *       entries (slot UINT32_MAX: other ranks' agents) are skipped. When no snapshot covers the
 *       n agents, thread k runs slot k.
 *
 * And the engine's side (sim/cuda/neighbours.cu), called by sim/cuda/backend.cu:
 *   myr_cuda_neighbours_view   publishes at a window's first step, then sets v->nbr
 *   myr_cuda_neighbours_free   frees the device snapshot (detach)
 * and the partition's (partition/nccl.cu):
 *   myr_cuda_neighbours_ghosts the ghosts for the next publish: n rows (myr_nbr_ghost_row_bytes)
 *                              in device memory that the caller keeps unchanged until then */
#ifndef MYR_CUDA_NEIGHBOURS_CUH
#define MYR_CUDA_NEIGHBOURS_CUH

#include "models/model_cuda.cuh"
#include "sim/neighbours.h"

struct myr_sim;

extern "C" myr_status myr_cuda_neighbours_view(struct myr_sim *sim, myr_view *v, void *stream, myr_error *err);
extern "C" void myr_cuda_neighbours_free(struct myr_sim *sim);
extern "C" myr_status myr_cuda_neighbours_ghosts(struct myr_sim *sim, const void *rows, int64_t n, myr_error *err);

template <int NC, class Op>
__global__ void __launch_bounds__(MYR_CUDA_THREADS, MYR__LB_BLOCKS)
    myr_cuda_by_cell_kernel(myr_view v, int64_t n, int64_t *counters) {
  int64_t local[NC > 0 ? NC : 1] = {0};
  const int64_t stride = (int64_t)gridDim.x * blockDim.x;
  const bool by_cell = v.nbr.n - v.nbr.ghosts == n && v.nbr.slot != NULL;
  const int64_t entries = by_cell ? v.nbr.n : n; /* with ghosts, more entries than agents */
  for (int64_t k = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; k < entries; k += stride) {
    int64_t i = k;
    if (by_cell) {
      uint32_t s = v.nbr.slot[k];
      if (s == UINT32_MAX) continue; /* a ghost: another rank's agent */
      i = (int64_t)s;
    }
    Op()(&v, i, local);
  }
  if constexpr (NC > 0) myr_cuda_add_counters<NC>(local, counters);
}

template <int NC, class Op>
inline int myr_cuda_launch_by_cell(const myr_view *v, int64_t n, int64_t *counters, void *stream) {
  if (n <= 0) return (int)cudaSuccess;
  int64_t work = v->nbr.n > n ? v->nbr.n : n; /* ghost entries included */
  myr_cuda_by_cell_kernel<NC, Op><<<myr_cuda_blocks(work), MYR_CUDA_THREADS, 0, (cudaStream_t)stream>>>(*v, n, counters);
  return (int)cudaGetLastError();
}

#define MYR_CUDA_AGENTS_BY_CELL(launcher, fn, NC)                                                       \
  struct launcher##_op {                                                                             \
    __device__ void operator()(const myr_view *v, int64_t i, int64_t *c) const { fn(v, i, c); }      \
  };                                                                                                 \
  static int launcher(const myr_view *v, int64_t n, int64_t *c, void *s) {                           \
    return myr_cuda_launch_by_cell<NC, launcher##_op>(v, n, c, s);                                    \
  }

#endif
