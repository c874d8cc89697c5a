/* The `nccl` transport for GPU ranks (partition/nccl.cu, CUDA builds with NCCL): one
 * communicator per rank, the layer sums as in-place ncclAllReduce on a stream of its own,
 * ordered after the step's kernels and before the next ones with events. */
#ifndef MYR_PARTITION_NCCL_H
#define MYR_PARTITION_NCCL_H

#include "sim/sim.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 1 if this build can run GPU ranks together (CUDA and NCCL). */
int myr_nccl_available(void);
/* CUDA devices visible to this process (0 without CUDA or a driver). */
int myr_gpu_count(void);
/* Makes `device` current for the calling thread. */
void myr_gpu_use(int device);

/* Communicators for `n` ranks of this process on devices[0..n): r->team of rank k gets rank
 * k's transport state. */
myr_status myr_nccl_open_local(int n, const int *devices, myr_rank *ranks, myr_error *err);
/* One rank of a team spread over processes: `id` is the 128-byte ncclUniqueId made by
 * myr_nccl_unique_id on rank 0 and shared (MPI). */
myr_status myr_nccl_unique_id(void *id, myr_error *err);
myr_status myr_nccl_open_rank(const void *id, int size, myr_rank *rank, myr_error *err);
void myr_nccl_close(myr_rank *rank);
/* Adds the times of the rank's exchanges (timed on the GPU as they run) to its seconds_comm,
 * waiting for any still running; the team calls it when the rank's GPU has caught up. */
myr_status myr_nccl_count_comm(myr_rank *r, myr_error *err);

/* spatial_parallel on GPU ranks of one process: halo runs and the bands (sp, which must
 * outlive the rank), then myr_rank.sync_layers, .migrate and .sync_wait become the functions
 * below (sync_wait: communication: async's wait for a halo exchange left in flight). */
struct myr_spatial;
myr_status myr_nccl_spatial_attach(myr_rank *r, const struct myr_spatial *sp, myr_error *err);
myr_status myr_nccl_spatial_sync(myr_rank *r, myr_sim *sim, const myr_view *v, int point, void *stream,
                                 myr_error *err);
myr_status myr_nccl_spatial_migrate(myr_rank *r, myr_sim *sim, myr_error *err);
myr_status myr_nccl_sync_wait(myr_rank *r, void *stream, myr_error *err);
void *myr_cuda_stream_of(const myr_sim *sim);

/* balance dynamic on GPU ranks, called on every rank with the team's decision
 * (partition/balance.h): data_parallel's flows between neighbouring ranks carried out over
 * NCCL; spatial_parallel's agents per row (per column) counted, count[y] += (count[x] +=), and
 * the move of the cuts to sp's from old_col0 and old_row0 (cells of every layer, halos, agents
 * and ghosts). */
myr_status myr_nccl_move_agents(myr_rank *r, myr_sim *sim, const int64_t *flow, myr_error *err);
myr_status myr_nccl_spatial_count_rows(myr_rank *r, myr_sim *sim, int64_t *count, myr_error *err);
myr_status myr_nccl_spatial_count_cols(myr_rank *r, myr_sim *sim, int64_t *count, myr_error *err);
myr_status myr_nccl_spatial_shift(myr_rank *r, myr_sim *sim, const int32_t *old_col0, const int32_t *old_row0,
                                  myr_error *err);

/* myr_rank.sync_layers for GPU ranks. */
myr_status myr_nccl_sum_layers(myr_rank *r, myr_sim *sim, const myr_view *v, int phase, void *stream,
                               myr_error *err);
/* myr_rank.sum_flows for GPU ranks (window in device memory), data_parallel and spatial. */
myr_status myr_nccl_sum_flows(myr_rank *r, myr_sim *sim, int64_t *window, void *stream, myr_error *err);

#ifdef __cplusplus
}
#endif

#endif
