/* foraging on the GPU: kernels over the same per-agent and per-cell functions as the CPU
 * (foraging.h). Claims and grants are integer atomics, so results equal the CPU's bit for bit. */
#include "models/foraging/foraging.h"
#include "models/foraging/foraging_plan.h"
/* The 9-cell gathers need registers: 4 blocks per multiprocessor (64 registers) do not spill. */
#define MYR_CUDA_MIN_BLOCKS 4
#include "models/model_cuda.cuh"

MYR_CUDA_CELLS_PLAIN(init_cells, foraging_init_cell)
MYR_CUDA_AGENTS_PLAIN(init_agents, foraging_init_agent)
MYR_CUDA_RANDOM(decide_random, foraging_legal, MYR_MOVES)
MYR_CUDA_DECIDE(heuristic, foraging_decide)
MYR_CUDA_AGENTS(act, foraging_act, FORAGING_FLOWS)
MYR_CUDA_AGENTS(sync_agents, foraging_sync_agent, FORAGING_FLOWS)
MYR_CUDA_BIRTH(birth, foraging_birth)
MYR_CUDA_CELLS(sync_cells_end, foraging_sync_cell, FORAGING_FLOWS)
MYR_CUDA_AGENTS(agent_stats, foraging_agent_stats, FORAGING_ACCS)
MYR_CUDA_CELLS(cell_stats, foraging_cell_stats, FORAGING_ACCS)
/* decide and act in one pass; statistics wait for the sync (it settles energy, births, deaths). */
MYR_CUDA_STEP(step_random, decide_random, act, FORAGING_FLOWS, myr_cuda_no, 0)
MYR_CUDA_STEP(step_heuristic, heuristic, act, FORAGING_FLOWS, myr_cuda_no, 0)

/* Planning: one thread per expansion (imagined step, mask, features, rollout) and per root. */
MYR_CUDA_PLAN(foraging, foraging_plan_expand_one, foraging_plan_root_at, foraging_plan_ctx_bytes)

extern "C" const myr_model_cuda myr_model_cuda_foraging = {
    init_cells, init_agents, decide_random, heuristic, act,
    /* sync_cells_begin */ NULL, sync_agents, sync_cells_end,
    birth, agent_stats, cell_stats,
    step_random, step_heuristic, /* stats_after_act */ 0,
};
