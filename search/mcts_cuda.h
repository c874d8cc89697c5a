/* Batched MCTS on the GPU (search/mcts.cu): the CPU search's waves (search/mcts.c) as kernels
 * over device arrays, running the same MYR_HD tree functions (search/mcts_tree.h), the model's
 * plan launchers (models/plan.h: root_cuda, expand_cuda) and the fused network kernel
 * (search/net.cu). A tree's result is the CPU's, bit for bit. */
#ifndef MYR_MCTS_CUDA_H
#define MYR_MCTS_CUDA_H

#include "search/mcts.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct myr_mcts_cuda myr_mcts_cuda;

/* A device workspace for chunks of at most max_agents agents (cfg->chunk bounds it further).
 * `net` is the network's shape, or NULL when leaf values come from rollouts. */
myr_status myr_mcts_create_cuda(myr_mcts_cuda **out, const myr_mcts_config *cfg, const myr_model_plan *plan,
                                int n_actions, const myr_net_shape *net, int64_t max_agents, myr_error *err);
void myr_mcts_destroy_cuda(myr_mcts_cuda *m);
/* Device bytes the workspace holds. */
size_t myr_mcts_cuda_bytes(const myr_mcts_cuda *m);

/* Searches from the agents in device slots agents[0..n) of the device view v, with the device
 * network `net` (weights on the device; NULL with rollouts), on `stream`. Results go to the
 * device arrays of `out` ([n], [n * A], [n]). Returns when the search is done. */
myr_status myr_mcts_search_cuda(myr_mcts_cuda *m, const myr_view *v, const myr_net_view *net, const int64_t *agents,
                                int64_t n, myr_mcts_result *out, void *stream, myr_error *err);

#ifdef __cplusplus
}
#endif

#endif
