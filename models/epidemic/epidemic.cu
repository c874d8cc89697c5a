/* epidemic on the GPU: kernels over the same per-agent and per-cell functions as the CPU
 * (epidemic.h). Counts are integer atomics; the gamma periods use the device's log/pow/sqrt,
 * so runs equal the CPU's in distribution, not bit for bit. Nothing is born or removed (the
 * dead keep their slots), so there is no sync_agents or birth kernel, and the statistics of a
 * record step come from the fused decide + act pass. */
#include "models/epidemic/epidemic.h"
#include "models/epidemic/epidemic_plan.h"
#include "models/model_cuda.cuh"

MYR_CUDA_AGENTS_PLAIN(init_agents, epidemic_init_agent)
MYR_CUDA_RANDOM(decide_random, epidemic_legal, MYR_MOVES)
MYR_CUDA_DECIDE(heuristic, epidemic_decide)
MYR_CUDA_AGENTS(act, epidemic_act, EPIDEMIC_FLOWS)
MYR_CUDA_CELLS(sync_cells_end, epidemic_sync_cell_end, 0)
MYR_CUDA_AGENTS(agent_stats, epidemic_agent_stats, EPIDEMIC_ACCS)
MYR_CUDA_STEP(step_random, decide_random, act, EPIDEMIC_FLOWS, agent_stats, EPIDEMIC_ACCS)
MYR_CUDA_STEP(step_heuristic, heuristic, act, EPIDEMIC_FLOWS, agent_stats, EPIDEMIC_ACCS)

/* Planning: one thread per expansion and per root (epidemic_plan.h). */
MYR_CUDA_PLAN(epidemic, epidemic_plan_expand_one, epidemic_plan_root_at, epidemic_plan_ctx_bytes)

extern "C" const myr_model_cuda myr_model_cuda_epidemic = {
    /* init_cells */ NULL, init_agents, decide_random, heuristic, act,
    /* sync_cells_begin */ NULL, /* sync_agents */ NULL, sync_cells_end,
    /* birth */ NULL, agent_stats, /* cell_stats */ NULL,
    step_random, step_heuristic, /* stats_after_act */ 1,
};
