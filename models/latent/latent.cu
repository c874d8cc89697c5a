/* latent on the GPU: kernels over the same per-agent and planning functions as the CPU
 * (latent.h). myr_tanhf and uncontracted float arithmetic (--fmad=false) give the CPU's bits.
 * Nothing dies or is born, so there is no sync or birth kernel. */
#include "models/latent/latent.h"
/* The fused heuristic step holds 16 state floats and 9 rewards over 16 tanh each: 3 blocks per
 * multiprocessor (85 registers) keep it free of spills (64 registers spill 128 bytes). */
#define MYR_CUDA_MIN_BLOCKS 3
#include "models/model_cuda.cuh"

MYR_CUDA_AGENTS_PLAIN(init_agents, latent_init_agent)
MYR_CUDA_RANDOM(decide_random, latent_legal, LATENT_ACTIONS)
MYR_CUDA_DECIDE(heuristic, latent_decide)
MYR_CUDA_AGENTS(act, latent_act, LATENT_FLOWS)
MYR_CUDA_AGENTS(agent_stats, latent_agent_stats, LATENT_ACCS)
/* One pass per step: decide, act, and on record steps the statistics of the new state
 * (nothing changes agents at sync). */
MYR_CUDA_STEP(step_random, decide_random, act, LATENT_FLOWS, agent_stats, LATENT_ACCS)
MYR_CUDA_STEP(step_heuristic, heuristic, act, LATENT_FLOWS, agent_stats, LATENT_ACCS)

/* Planning: one thread per expansion (imagined step, features, rollout) and per root. */
MYR_CUDA_PLAN(latent, latent_plan_expand_one, latent_plan_root_at, latent_plan_ctx_bytes)

extern "C" const myr_model_cuda myr_model_cuda_latent = {
    /* init_cells */ NULL, init_agents, decide_random, heuristic, act,
    /* sync_cells_begin */ NULL, /* sync_agents */ NULL, /* sync_cells_end */ NULL,
    /* birth */ NULL, agent_stats, /* cell_stats */ NULL,
    step_random, step_heuristic, /* stats_after_act */ 1,
};
