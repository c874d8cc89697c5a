/* circles on the GPU: the same per-agent arithmetic as the CPU (circles.h), the same bits (fixed
 * neighbour order, no FMA, myr_sinf), on a schedule that keeps the warp's lanes busy.
 *
 * About one candidate in four is a neighbour, so when each lane computes its own agent's forces
 * as its walk finds them, some lane of the warp is in the costly force code at nearly every
 * candidate while the others wait: on an H100 at 1M agents the plain walk (circles_act, one
 * thread per agent) ran 7 of 32 lanes in the force code, three quarters of its instructions.
 * Here a warp takes 32 agents in the snapshot's cell order and repeats, until every lane's
 * walk is done:
 *   walk    every lane at the end of its run of entries opens its next one (together, so
 *           the warp pays for a run once), then keeps the entries that pass the cheap distance
 *           test, loading CIRCLES_CHUNK at a time, until the run ends or its list is nearly
 *           full; once some lane's list is nearly full, or every walk is done, the warp goes on:
 *   terms   the kept entries of all lanes, numbered one after another, are spread over the 32
 *           lanes: each computes circles_pair for its entry against its owner's point;
 *   sums    each lane adds its own terms in the order its walk kept them: the CPU's sum.
 * The agent's own entry is excluded by its index (thread k runs entry k, and entries are
 * distinct agents), where the CPU compares ids: the same entries. On an H100 at 1M agents (ncu,
 * base clock) this kernel takes 1.04 ms and 467M warp instructions, 23 of 32 lanes active; the
 * plain walk took 1.18 ms and 570M. Before this schedule, none of these beat the plain walk
 * (1.8-2.2 ms per step): a two-pass walk with the hits in local memory; hits kept in registers
 * and forced when any lane is full; a walk over the union of the warp's bins with loads shared
 * by the warp (a row of 32 agents reads about 7 times the bins each needs). */
#ifndef MYR_CUDA_MIN_BLOCKS
#define MYR_CUDA_MIN_BLOCKS 3
#endif
#include "models/circles/circles.h"
#include "models/model_cuda.cuh"
#include "sim/cuda/neighbours.cuh"

/* Without a snapshot in cell order (none covers the agents): one thread per agent. */
MYR_CUDA_AGENTS_PLAIN(init_agents, circles_init_agent)
MYR_CUDA_AGENTS_BY_CELL(act_plain, circles_act, CIRCLES_FLOWS)

#define CIRCLES_KEEP 16  /* entries a lane keeps between two rounds of terms */
#define CIRCLES_CHUNK 4  /* candidates a lane loads at once (loads in flight together) */
#define CIRCLES_THREADS 128 /* 4 warps per block: 32 KiB of kept entries */
/* 6 blocks per multiprocessor: 80 registers, a few bytes spilled. Measured at 1M agents on an
 * H100 (ncu, act kernel): 1.04 ms; 4 blocks (101 registers) 1.08; chunks of 1 1.15, of 2 with
 * 5 blocks 1.16, of 8 with 4 blocks 1.24. */
#define CIRCLES_BLOCKS 6
#define CIRCLES_WARPS (CIRCLES_THREADS / 32)

/* One lane's walk, resumable: rows along z then y (each axis as myr_nbr_span's two runs), in
 * each row the bins of one or two runs along x, as entries [e, end). */
struct circles_cursor {
  int32_t zl0, nz0, zl1, nz, yl0, ny0, yl1, ny, xa0, xb0, xa1, xb1, nx; /* scalars: registers */
  int32_t zi, yi, xr;
  uint32_t e, end;
};

__device__ static void cursor_start(circles_cursor *c, const myr_nbr_view *s, float x, float y, float z) {
  int32_t lo0 = 0, hi0 = 0, lo1 = 1, hi1 = 0;
  if (s->dims == 3) myr_nbr_span(s, 2, z, &lo0, &hi0, &lo1, &hi1);
  c->zl0 = lo0;
  c->nz0 = hi0 - lo0 + 1;
  c->zl1 = lo1;
  c->nz = c->nz0 + (hi1 >= lo1 ? hi1 - lo1 + 1 : 0);
  myr_nbr_span(s, 1, y, &lo0, &hi0, &lo1, &hi1);
  c->yl0 = lo0;
  c->ny0 = hi0 - lo0 + 1;
  c->yl1 = lo1;
  c->ny = c->ny0 + (hi1 >= lo1 ? hi1 - lo1 + 1 : 0);
  myr_nbr_span(s, 0, x, &c->xa0, &c->xb0, &c->xa1, &c->xb1);
  c->nx = c->xa1 <= c->xb1 ? 2 : 1;
  c->zi = 0;
  c->yi = 0;
  c->xr = -1; /* before the first run */
  c->e = c->end = 0;
}

/* Opens the next run of entries; 0 when the walk is over. */
__device__ static int cursor_next_run(circles_cursor *c, const myr_nbr_view *s) {
  if (++c->xr == c->nx) {
    c->xr = 0;
    if (++c->yi == c->ny) {
      c->yi = 0;
      ++c->zi;
    }
  }
  if (c->zi >= c->nz) return 0;
  int32_t zc = c->zi < c->nz0 ? c->zl0 + c->zi : c->zl1 + (c->zi - c->nz0);
  int32_t yc = c->yi < c->ny0 ? c->yl0 + c->yi : c->yl1 + (c->yi - c->ny0);
  int64_t row = ((int64_t)zc * s->bins[1] + yc) * s->bins[0];
  c->e = s->start[row + (c->xr ? c->xa1 : c->xa0)];
  c->end = s->start[row + (c->xr ? c->xb1 : c->xb0) + 1];
  return 1;
}

template <int WRAP>
__global__ void __launch_bounds__(CIRCLES_THREADS, CIRCLES_BLOCKS) circles_act_warps(myr_view v, int64_t entries, int64_t *counters) {
  /* a lane's kept entries (index in .w), then their terms (.w 1: a neighbour, 0: not) */
  __shared__ float4 kept[CIRCLES_WARPS][CIRCLES_KEEP][32];
  int64_t local[CIRCLES_FLOWS] = {0};
  const circles_params p = *(const circles_params *)v.params; /* in registers */
  const myr_nbr_view *s = &v.nbr;
  const int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
  const int64_t warps = (int64_t)gridDim.x * CIRCLES_WARPS;
  for (int64_t base = ((int64_t)blockIdx.x * CIRCLES_WARPS + w) * 32; base < entries; base += warps * 32) {
    const int64_t k = base + lane;
    const uint32_t slot = k < entries ? s->slot[k] : UINT32_MAX; /* UINT32_MAX: a ghost, or none */
    float x = 0.0f, y = 0.0f, z = 0.0f;
    circles_cursor c;
    c.e = c.end = 0;
    bool done = slot == UINT32_MAX;
    if (!done) {
      x = MYR_COL(&v, CIRCLES_X, float)[slot];
      y = MYR_COL(&v, CIRCLES_Y, float)[slot];
      z = MYR_COL(&v, CIRCLES_Z, float)[slot];
      cursor_start(&c, s, x, y, z);
    }
    float f[3] = {0.0f, 0.0f, 0.0f};
    int count = 0, n = 0;
    uint32_t candidates = 0;
    for (;;) {
      /* walk: every lane at the end of its run opens its next (together: one pass per run),
       * then keeps what passes the cheap test until the run ends or its list is full */
      while (!done && c.e >= c.end) {
        if (cursor_next_run(&c, s)) candidates += c.end - c.e;
        else done = true;
      }
      while (c.e < c.end && n <= CIRCLES_KEEP - CIRCLES_CHUNK) { /* loads of a chunk in flight together */
        const uint32_t e0 = c.e, m = c.end - e0 < CIRCLES_CHUNK ? c.end - e0 : CIRCLES_CHUNK;
        myr_nbr_pos q[CIRCLES_CHUNK];
#pragma unroll
        for (uint32_t j = 0; j < CIRCLES_CHUNK; j++)
          if (j < m) q[j] = s->pos[e0 + j];
#pragma unroll
        for (uint32_t j = 0; j < CIRCLES_CHUNK; j++) {
          float dx, dy, dz;
          if (j < m && circles_d2_to(s, q[j], x, y, z, WRAP, &dx, &dy, &dz) < p.cut2_f)
            kept[w][n++][lane] = make_float4(0.0f, 0.0f, 0.0f, __uint_as_float(e0 + j));
        }
        c.e = e0 + m;
      }
      const bool all_done = __all_sync(0xffffffffu, done);
      if (!__any_sync(0xffffffffu, n > CIRCLES_KEEP - CIRCLES_CHUNK) && !all_done) continue;
      /* terms: item t of the warp's kept entries (lane by lane, in order) on lane t % 32 */
      int incl = n;
      for (int o = 1; o < 32; o <<= 1) {
        int u = __shfl_up_sync(0xffffffffu, incl, o);
        if (lane >= o) incl += u;
      }
      const int excl = incl - n, items = __shfl_sync(0xffffffffu, incl, 31);
      __syncwarp();
      for (int t0 = 0; t0 < items; t0 += 32) {
        const int t = t0 + lane;
        int owner = 0; /* the first lane whose inclusive count exceeds t */
        for (int step = 16; step > 0; step >>= 1) {
          int at = __shfl_sync(0xffffffffu, incl, owner + step - 1);
          if (at <= t) owner += step;
        }
        const int i = t - __shfl_sync(0xffffffffu, excl, owner);
        const float ox = __shfl_sync(0xffffffffu, x, owner), oy = __shfl_sync(0xffffffffu, y, owner);
        const float oz = __shfl_sync(0xffffffffu, z, owner);
        const uint32_t own = (uint32_t)(base + owner);
        if (t < items) {
          uint32_t e = __float_as_uint(kept[w][i][owner].w);
          float dx, dy, dz, tt[3];
          float d2 = circles_d2(s, e, ox, oy, oz, WRAP, &dx, &dy, &dz);
          int hit = circles_pair(&p, d2, dx, dy, dz, tt) && e != own;
          kept[w][i][owner] = hit ? make_float4(tt[0], tt[1], tt[2], 1.0f) : make_float4(0.0f, 0.0f, 0.0f, 0.0f);
        }
      }
      __syncwarp();
      for (int i = 0; i < n; i++) { /* sums: this lane's terms in its walk's order */
        float4 q = kept[w][i][lane];
        if (q.w != 0.0f) {
          f[0] += q.x;
          f[1] += q.y;
          f[2] += q.z;
          count++;
        }
      }
      n = 0;
      __syncwarp();
      if (all_done) break;
    }
    if (slot != UINT32_MAX) circles_finish(&v, &p, (int64_t)slot, f, count, candidates, local);
  }
  myr_cuda_add_counters<CIRCLES_FLOWS>(local, counters);
}

static int act(const myr_view *v, int64_t n, int64_t *flow, void *stream) {
  const bool by_cell = v->nbr.n - v->nbr.ghosts == n && v->nbr.slot != NULL;
  if (!by_cell) return act_plain(v, n, flow, stream);
  if (v->nbr.n <= 0) return (int)cudaSuccess;
  int blocks = myr_cuda_blocks(v->nbr.n) * (MYR_CUDA_THREADS / CIRCLES_THREADS);
  cudaStream_t st = (cudaStream_t)stream;
  if (v->nbr.wrap)
    circles_act_warps<1><<<blocks, CIRCLES_THREADS, 0, st>>>(*v, v->nbr.n, flow);
  else
    circles_act_warps<0><<<blocks, CIRCLES_THREADS, 0, st>>>(*v, v->nbr.n, flow);
  return (int)cudaGetLastError();
}

/* decide (nothing: the one action) and act in one pass; no agent statistics (n_acc is 0). */
static int step_fused(const myr_view *v, int64_t n, int64_t *flow, int64_t *acc, void *stream) {
  (void)acc;
  return act(v, n, flow, stream);
}

extern "C" const myr_model_cuda myr_model_cuda_circles = {
    /* init_cells */ NULL, init_agents, /* decide_random */ NULL, /* heuristic */ NULL, act,
    /* sync_cells_begin */ NULL, /* sync_agents */ NULL, /* sync_cells_end */ NULL,
    /* birth */ NULL, /* agent_stats */ NULL, /* cell_stats */ NULL,
    step_fused, step_fused, /* stats_after_act */ 1,
};
