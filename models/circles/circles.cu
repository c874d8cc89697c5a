/* circles on the GPU: the same per-agent functions as the CPU (circles.h). The act kernel runs
 * agents in the snapshot's cell order (sim/cuda/neighbours.cuh), so a warp's agents read the
 * same bins from cache; the result is the CPU's bit for bit (fixed neighbour order, no FMA,
 * myr_sinf). Nothing is decided (one action), born or removed: one kernel per step.
 * circles_act adds each neighbour's force as its walk finds it. Measured on an H100 at 1M
 * agents, none of these beat it (all 1.8-2.2 ms per step): a two-pass walk with the hits
 * buffered in local memory; hits kept in registers and forced when any lane of the warp is
 * full; a walk over the union of the warp's bins with loads shared by the warp; kept pairs
 * spread evenly over the warp's lanes through shared memory for the force. Most threads of a
 * warp idle in the force code or in moving to their next row of bins whichever way. */
/* The act kernel needs about 80 registers: 3 blocks of 256 threads per multiprocessor keep it
 * free of spills (4 blocks spill about 90 bytes, 5 about 250; a knob to try when timing). */
#ifndef MYR_CUDA_MIN_BLOCKS
#define MYR_CUDA_MIN_BLOCKS 3
#endif
#include "models/circles/circles.h"
#include "models/model_cuda.cuh"
#include "sim/cuda/neighbours.cuh"

MYR_CUDA_AGENTS_PLAIN(init_agents, circles_init_agent)
MYR_CUDA_AGENTS_BY_CELL(act, circles_act, CIRCLES_FLOWS)

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
