/* Kernels for a model's CUDA half (models/model.h, myr_model_cuda), generated from its MYR_HD
 * per-agent and per-cell functions, so the CPU loop and the GPU run the same source:
 *
 *   MYR_CUDA_AGENTS(launcher, fn, NC)   fn(const myr_view *, int64_t i, int64_t *counters)
 *                                       for each alive agent; NC counters (flows or stats)
 *   MYR_CUDA_CELLS(launcher, fn, NC)    the same for each cell
 *   MYR_CUDA_AGENTS_PLAIN / MYR_CUDA_CELLS_PLAIN(launcher, fn)   fn(v, i) with no counters
 *   MYR_CUDA_DECIDE(launcher, fn)       action[i] = fn(const myr_view *, int64_t i)
 *   MYR_CUDA_RANDOM(launcher, legal, NA) action[i] uniform over legal(v, i, mask) (NA actions)
 *   MYR_CUDA_BIRTH(launcher, fn)        births into scanned slots, then fn(v, parent, child)
 *   MYR_CUDA_STEP(launcher, decide, act, NF, stats, NA)   decide and act fused (model.h), with
 *                                       the agent statistics `stats` (NA accumulators) of the
 *                                       new state when asked; `decide`, `act` and `stats` name
 *                                       launchers made above, or myr_cuda_no (none)
 *
 * Grid-stride loops over a grid sized to the device; counters are summed per thread, then per
 * warp and block, and added to the device array with integer atomics, so sums are exact and
 * independent of the launch shape. Each launcher returns the launch's cudaError_t.
 *
 * On the GPU every slot in [0, n) is alive whenever an agent kernel runs (the backend compacts
 * at the end of each sync, and the birth kernel checks parents itself), so agent kernels do not
 * load the alive flag: one dependent load less per agent in latency-bound passes. */
#ifndef MYR_MODEL_CUDA_CUH
#define MYR_MODEL_CUDA_CUH

#include <cuda_runtime.h>

#include "models/model.h"
#include "sim/policy.h"
#include "sim/rng.h"

#define MYR_CUDA_THREADS 256
/* Blocks of MYR_CUDA_THREADS per multiprocessor the kernels ask for (__launch_bounds__): 6 gives
 * 75% occupancy within 40 registers. A model whose functions need more registers (spills show
 * in `nvcc -Xptxas -v`) defines a lower value before including this header. */
#ifndef MYR_CUDA_MIN_BLOCKS
#define MYR_CUDA_MIN_BLOCKS 6
#endif
/* ... capped at what the architecture being compiled holds: sm_75 1024 threads per
 * multiprocessor, sm_86/87/89 1536, sm_80 and sm_90 2048 (a larger request fails to build). */
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 800
#define MYR__SM_THREADS 1024
#elif defined(__CUDA_ARCH__) && (__CUDA_ARCH__ == 860 || __CUDA_ARCH__ == 870 || __CUDA_ARCH__ == 890)
#define MYR__SM_THREADS 1536
#else
#define MYR__SM_THREADS 2048
#endif
#define MYR__LB_BLOCKS                                                                               \
  ((MYR_CUDA_MIN_BLOCKS) * MYR_CUDA_THREADS <= MYR__SM_THREADS ? (MYR_CUDA_MIN_BLOCKS)              \
                                                               : MYR__SM_THREADS / MYR_CUDA_THREADS)

/* Blocks for n items: enough to fill the device several times over, never more than needed. */
int myr_cuda_blocks(int64_t n);

/* Adds each thread's counters[NC] to global[NC]: warp shuffles, shared memory, one atomic per
 * counter and block. Every thread of the block must call it. */
template <int NC>
__device__ inline void myr_cuda_add_counters(const int64_t (&local)[NC], int64_t *global) {
  __shared__ unsigned long long block_sum[NC];
  for (int k = threadIdx.x; k < NC; k += blockDim.x) block_sum[k] = 0;
  __syncthreads();
#pragma unroll
  for (int k = 0; k < NC; k++) {
    unsigned long long x = (unsigned long long)local[k];
    for (int off = 16; off > 0; off >>= 1) x += __shfl_down_sync(0xffffffffu, x, off);
    if ((threadIdx.x & 31) == 0 && x) atomicAdd(&block_sum[k], x);
  }
  __syncthreads();
  for (int k = threadIdx.x; k < NC; k += blockDim.x)
    if (block_sum[k]) atomicAdd((unsigned long long *)&global[k], block_sum[k]);
}

template <int NC, class Op, bool AGENTS>
__global__ void __launch_bounds__(MYR_CUDA_THREADS, MYR__LB_BLOCKS)
    myr_cuda_range_kernel(myr_view v, int64_t n, int64_t *counters) {
  int64_t local[NC > 0 ? NC : 1] = {0};
  const int64_t stride = (int64_t)gridDim.x * blockDim.x;
  const int64_t first = AGENTS ? 0 : v.first_cell; /* a rank may own a band of the cells, */
  const int64_t nx = AGENTS ? 0 : v.cells_nx;       /* or a tile of them: nx to a row */
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
    Op()(&v, nx > 0 ? first + (i / nx) * v.width + i % nx : first + i, local); /* every agent slot is alive (above) */
  if constexpr (NC > 0) myr_cuda_add_counters<NC>(local, counters);
}

template <int NC, class Op, bool AGENTS>
inline int myr_cuda_launch_range(const myr_view *v, int64_t n, int64_t *counters, void *stream) {
  if (n <= 0) return (int)cudaSuccess;
  myr_cuda_range_kernel<NC, Op, AGENTS><<<myr_cuda_blocks(n), MYR_CUDA_THREADS, 0, (cudaStream_t)stream>>>(*v, n, counters);
  return (int)cudaGetLastError();
}

template <class Op>
__global__ void __launch_bounds__(MYR_CUDA_THREADS, MYR__LB_BLOCKS) myr_cuda_birth_kernel(myr_view v, int64_t n, const int32_t *offset, int64_t first) {
  const int64_t stride = (int64_t)gridDim.x * blockDim.x;
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
    if (v.alive[i] && v.children[i]) {
      int64_t child = first + offset[i];
      v.id[child] = myr_child_id(v.id[i], v.step);
      v.alive[child] = 1;
      Op()(&v, i, child);
    }
    v.children[i] = 0;
  }
}

template <class Op>
inline int myr_cuda_launch_birth(const myr_view *v, int64_t n, const int32_t *offset, int64_t first, void *stream) {
  if (n <= 0) return (int)cudaSuccess;
  myr_cuda_birth_kernel<Op><<<myr_cuda_blocks(n), MYR_CUDA_THREADS, 0, (cudaStream_t)stream>>>(*v, n, offset, first);
  return (int)cudaGetLastError();
}

/* decide, act and (when acc is given) agent statistics, one agent after the other. */
template <int NF, int NA, class Decide, class Act, class Stats>
__global__ void __launch_bounds__(MYR_CUDA_THREADS, MYR__LB_BLOCKS)
    myr_cuda_step_kernel(myr_view v, int64_t n, int64_t *flow, int64_t *acc) {
  int64_t f[NF > 0 ? NF : 1] = {0}, a[NA > 0 ? NA : 1] = {0};
  const int64_t stride = (int64_t)gridDim.x * blockDim.x;
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
    Decide()(&v, i, f);
    Act()(&v, i, f);
    if (acc) Stats()(&v, i, a);
  }
  if constexpr (NF > 0) myr_cuda_add_counters<NF>(f, flow);
  if constexpr (NA > 0)
    if (acc) myr_cuda_add_counters<NA>(a, acc); /* acc is uniform over the grid: no divergence */
}

template <int NF, int NA, class Decide, class Act, class Stats>
inline int myr_cuda_launch_step(const myr_view *v, int64_t n, int64_t *flow, int64_t *acc, void *stream) {
  if (n <= 0) return (int)cudaSuccess;
  myr_cuda_step_kernel<NF, NA, Decide, Act, Stats>
      <<<myr_cuda_blocks(n), MYR_CUDA_THREADS, 0, (cudaStream_t)stream>>>(*v, n, flow, acc);
  return (int)cudaGetLastError();
}

/* The empty phase, for MYR_CUDA_STEP without statistics. */
struct myr_cuda_no_op {
  __device__ void operator()(const myr_view *, int64_t, int64_t *) const {}
};

#define MYR_CUDA_STEP(launcher, decide, act, NF, stats, NA)                                             \
  static int launcher(const myr_view *v, int64_t n, int64_t *f, int64_t *a, void *s) {               \
    return myr_cuda_launch_step<NF, NA, decide##_op, act##_op, stats##_op>(v, n, f, a, s);            \
  }

#define MYR_CUDA_AGENTS(launcher, fn, NC)                                                               \
  struct launcher##_op {                                                                             \
    __device__ void operator()(const myr_view *v, int64_t i, int64_t *c) const { fn(v, i, c); }      \
  };                                                                                                 \
  static int launcher(const myr_view *v, int64_t n, int64_t *c, void *s) {                           \
    return myr_cuda_launch_range<NC, launcher##_op, true>(v, n, c, s);                                \
  }

#define MYR_CUDA_CELLS(launcher, fn, NC)                                                                \
  struct launcher##_op {                                                                             \
    __device__ void operator()(const myr_view *v, int64_t c, int64_t *k) const { fn(v, c, k); }      \
  };                                                                                                 \
  static int launcher(const myr_view *v, int64_t n, int64_t *c, void *s) {                           \
    return myr_cuda_launch_range<NC, launcher##_op, false>(v, n, c, s);                               \
  }

#define MYR_CUDA_AGENTS_PLAIN(launcher, fn)                                                             \
  struct launcher##_op {                                                                             \
    __device__ void operator()(const myr_view *v, int64_t i, int64_t *) const { fn(v, i); }          \
  };                                                                                                 \
  static int launcher(const myr_view *v, int64_t n, int64_t *c, void *s) {                           \
    return myr_cuda_launch_range<0, launcher##_op, true>(v, n, c, s);                                 \
  }

#define MYR_CUDA_CELLS_PLAIN(launcher, fn)                                                              \
  struct launcher##_op {                                                                             \
    __device__ void operator()(const myr_view *v, int64_t c, int64_t *) const { fn(v, c); }          \
  };                                                                                                 \
  static int launcher(const myr_view *v, int64_t n, int64_t *c, void *s) {                           \
    return myr_cuda_launch_range<0, launcher##_op, false>(v, n, c, s);                                \
  }

#define MYR_CUDA_DECIDE(launcher, fn)                                                                   \
  struct launcher##_op {                                                                             \
    __device__ void operator()(const myr_view *v, int64_t i, int64_t *) const {                      \
      v->action[i] = (uint8_t)fn(v, i);                                                              \
    }                                                                                                \
  };                                                                                                 \
  static int launcher(const myr_view *v, int64_t n, int64_t *c, void *s) {                           \
    return myr_cuda_launch_range<0, launcher##_op, true>(v, n, c, s);                                 \
  }

#define MYR_CUDA_RANDOM(launcher, legal, NA)                                                            \
  struct launcher##_op {                                                                             \
    __device__ void operator()(const myr_view *v, int64_t i, int64_t *) const {                      \
      uint8_t mask[NA];                                                                              \
      int n_legal = legal(v, i, mask);                                                               \
      v->action[i] = (uint8_t)myr_random_action(v, i, mask, n_legal, NA);                            \
    }                                                                                                \
  };                                                                                                 \
  static int launcher(const myr_view *v, int64_t n, int64_t *c, void *s) {                           \
    return myr_cuda_launch_range<0, launcher##_op, true>(v, n, c, s);                                 \
  }

#define MYR_CUDA_BIRTH(launcher, fn)                                                                    \
  struct launcher##_op {                                                                             \
    __device__ void operator()(const myr_view *v, int64_t p, int64_t c) const { fn(v, p, c); }       \
  };                                                                                                 \
  static int launcher(const myr_view *v, int64_t n, const int32_t *o, int64_t f, void *s) {          \
    return myr_cuda_launch_birth<launcher##_op>(v, n, o, f, s);                                      \
  }

/* ---- planning (models/plan.h, models/plan_hd.h) ---------------------------------------------
 *
 *   MYR_CUDA_PLAN(name, expand_one, root_at, ctx_bytes)   the launchers of a model's
 *       myr_model_plan: extern "C" myr_plan_expand_cuda_<name> (one thread per expansion k of
 *       the batch: expand_one(const myr_plan_batch *, int64_t k), k < n, or < *count when the
 *       batch's count is on the device) and myr_plan_root_cuda_<name> (one thread per tree t:
 *       root_at(v, agents, t, ctx, state, nodes, legal, features) with tree t's context at ctx);
 *       MYR_PLAN_DEFINE (models/plan_hd.h) makes the functions and the constant
 *       (prefix_plan_expand_one, prefix_plan_root_at, prefix_plan_ctx_bytes). The .c file names
 *       the launchers with MYR_DECLARE_PLAN_CUDA / MYR_PLAN_EXPAND_CUDA / MYR_PLAN_ROOT_CUDA.
 *
 * Grid-stride loops like the kernels above; no counters. The batch is passed by value (host
 * struct, device pointers). */
template <class Op>
__global__ void __launch_bounds__(MYR_CUDA_THREADS, MYR__LB_BLOCKS) myr_cuda_plan_expand_kernel(myr_plan_batch b) {
  const int64_t stride = (int64_t)gridDim.x * blockDim.x;
  if (b.count && *b.count < b.n) b.n = *b.count; /* the count on the device (plan.h) */
  for (int64_t k = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; k < b.n; k += stride) Op()(&b, k);
}

template <class Op>
inline int myr_cuda_launch_plan_expand(const myr_plan_batch *b, void *stream) {
  if (b->n <= 0) return (int)cudaSuccess;
  myr_cuda_plan_expand_kernel<Op><<<myr_cuda_blocks(b->n), MYR_CUDA_THREADS, 0, (cudaStream_t)stream>>>(*b);
  return (int)cudaGetLastError();
}

/* Roots whose contexts are built in place (none, or too large to stage). */
template <class Op, int CTX>
__global__ void __launch_bounds__(MYR_CUDA_THREADS, MYR__LB_BLOCKS)
    myr_cuda_plan_root_kernel(myr_view v, const int64_t *agents, int64_t trees, uint8_t *context, uint8_t *state,
                              int32_t nodes, uint32_t *legal, float *features) {
  const int64_t stride = (int64_t)gridDim.x * blockDim.x;
  for (int64_t t = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; t < trees; t += stride)
    Op()(&v, agents, t, CTX > 0 ? (void *)(context + (size_t)t * CTX) : NULL, state, nodes, legal, features);
}

/* Roots whose contexts are staged: each thread of a warp builds its tree's context in shared
 * memory, then the warp writes the 32 contexts (consecutive in `context`) as consecutive
 * words. Built in place, a thread's stores land CTX bytes from its neighbours', so every store
 * instruction of the warp touched 32 sectors (a 1176-byte context: 294 such stores a tree). */
#define MYR_CUDA_ROOT_STAGE 32                 /* trees a block (one warp) */
#define MYR_CUDA_ROOT_STAGE_BYTES (48 * 1024) /* the most shared memory a block takes unasked */
template <int CTX>
struct myr_cuda_root_staged {
  enum { value = CTX > 0 && CTX % 4 == 0 && CTX * MYR_CUDA_ROOT_STAGE <= MYR_CUDA_ROOT_STAGE_BYTES };
};

template <class Op, int CTX>
__global__ void __launch_bounds__(MYR_CUDA_ROOT_STAGE)
    myr_cuda_plan_root_staged_kernel(myr_view v, const int64_t *agents, int64_t trees, uint8_t *context,
                                     uint8_t *state, int32_t nodes, uint32_t *legal, float *features) {
  __shared__ uint32_t stage[MYR_CUDA_ROOT_STAGE * CTX / 4];
  const int64_t stride = (int64_t)gridDim.x * MYR_CUDA_ROOT_STAGE;
  for (int64_t t0 = (int64_t)blockIdx.x * MYR_CUDA_ROOT_STAGE; t0 < trees; t0 += stride) {
    const int64_t t = t0 + threadIdx.x;
    if (t < trees) Op()(&v, agents, t, (uint8_t *)stage + (size_t)threadIdx.x * CTX, state, nodes, legal, features);
    __syncwarp();
    const int64_t here = trees - t0 < MYR_CUDA_ROOT_STAGE ? trees - t0 : MYR_CUDA_ROOT_STAGE;
    uint32_t *out = (uint32_t *)(context + (size_t)t0 * CTX);
    for (int64_t w = threadIdx.x; w < here * (CTX / 4); w += MYR_CUDA_ROOT_STAGE) out[w] = stage[w];
    __syncwarp(); /* the stage is read before the next trees overwrite it */
  }
}

template <class Op, int CTX>
inline int myr_cuda_launch_plan_root(const myr_view *v, const int64_t *agents, int64_t trees, uint8_t *context,
                                     uint8_t *state, int32_t nodes, uint32_t *legal, float *features, void *stream) {
  if (trees <= 0) return (int)cudaSuccess;
  if constexpr (myr_cuda_root_staged<CTX>::value) {
    /* as many warps as myr_cuda_blocks gives threads for the plain kernel */
    const int64_t blocks = (int64_t)myr_cuda_blocks(trees) * (MYR_CUDA_THREADS / MYR_CUDA_ROOT_STAGE);
    myr_cuda_plan_root_staged_kernel<Op, CTX><<<(unsigned)blocks, MYR_CUDA_ROOT_STAGE, 0, (cudaStream_t)stream>>>(
        *v, agents, trees, context, state, nodes, legal, features);
  } else {
    myr_cuda_plan_root_kernel<Op, CTX><<<myr_cuda_blocks(trees), MYR_CUDA_THREADS, 0, (cudaStream_t)stream>>>(
        *v, agents, trees, context, state, nodes, legal, features);
  }
  return (int)cudaGetLastError();
}

#define MYR_CUDA_PLAN(name, expand_one, root_at, ctx_bytes)                                             \
  struct myr_cuda_plan_expand_##name##_op {                                                          \
    __device__ void operator()(const myr_plan_batch *b, int64_t k) const { expand_one(b, k); }       \
  };                                                                                                 \
  struct myr_cuda_plan_root_##name##_op {                                                            \
    __device__ void operator()(const myr_view *v, const int64_t *agents, int64_t t, void *ctx,        \
                               uint8_t *state, int32_t nodes, uint32_t *legal, float *features) const { \
      root_at(v, agents, t, ctx, state, nodes, legal, features);                                     \
    }                                                                                                \
  };                                                                                                 \
  extern "C" int myr_plan_expand_cuda_##name(const myr_plan_batch *b, void *s) {                     \
    return myr_cuda_launch_plan_expand<myr_cuda_plan_expand_##name##_op>(b, s);                      \
  }                                                                                                  \
  extern "C" int myr_plan_root_cuda_##name(const myr_view *v, const int64_t *agents, int64_t trees,  \
                                           uint8_t *context, uint8_t *state, int32_t nodes,          \
                                           uint32_t *legal, float *features, void *s) {              \
    return myr_cuda_launch_plan_root<myr_cuda_plan_root_##name##_op, (ctx_bytes)>(                   \
        v, agents, trees, context, state, nodes, legal, features, s);                                \
  }

#endif
