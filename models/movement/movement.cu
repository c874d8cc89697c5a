/* movement on the GPU: kernels over the same per-agent functions as the CPU (movement.h).
 * Nothing dies or is born, so there is no sync or birth kernel. */
#include "models/model_cuda.cuh"
#include "models/movement/movement.h"

MYR_CUDA_AGENTS_PLAIN(init_agents, movement_init_agent)
MYR_CUDA_RANDOM(decide_random, movement_legal, MYR_MOVES)
MYR_CUDA_DECIDE(heuristic, movement_decide)
MYR_CUDA_AGENTS(act, movement_act, MOVEMENT_FLOWS)
MYR_CUDA_AGENTS(agent_stats, movement_agent_stats, MOVEMENT_ACCS)
/* One pass per step: decide, move, and on record steps the statistics of the new positions
 * (nothing changes agents at sync). */
MYR_CUDA_STEP(step_random, decide_random, act, MOVEMENT_FLOWS, agent_stats, MOVEMENT_ACCS)
MYR_CUDA_STEP(step_heuristic, heuristic, act, MOVEMENT_FLOWS, agent_stats, MOVEMENT_ACCS)

extern "C" const myr_model_cuda myr_model_cuda_movement = {
    /* init_cells */ NULL, init_agents, decide_random, heuristic, act,
    /* sync_cells_begin */ NULL, /* sync_agents */ NULL, /* sync_cells_end */ NULL,
    /* birth */ NULL, agent_stats, /* cell_stats */ NULL,
    step_random, step_heuristic, /* stats_after_act */ 1,
};
