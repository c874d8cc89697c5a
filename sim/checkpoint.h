/* Checkpoints: everything needed to resume a run exactly, in a separate HDF5 file, readable
 * on any rank count (agents in id order). Written only at the end of a sync window, when no
 * claim is pending and transient data is zero.
 *
 *   /meta          attributes: version, step, seed, model, config (YAML text), width, height
 *   /agents/id, /agents/<column>   persistent columns in id order ([n] or [n, components])
 *   /grid/<layer>                  persistent layers [height, width]
 *   /flows/window, /flows/total    the published flows (sim/view.h), i64 [n_flows]
 *   /network                       the run's network (policy network, or mcts with one)
 *   /train                         train.enabled: Adam moments, counters, replay, unfinished
 *                                  samples (search/trainer.h, docs/output-schema.md)
 *
 * Resuming checks that the checkpoint's model, world, seed, sync_frequency, policy and model
 * parameters equal the run's config (run.steps, output, threads, record/snapshot/checkpoint
 * intervals may differ) and fails with MYR_ERR_CHECKPOINT naming the first difference. */
#ifndef MYR_CHECKPOINT_H
#define MYR_CHECKPOINT_H

#include "sim/sim.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Writes the state of `sim` to `path` (through "<path>.part", renamed when complete). */
myr_status myr_checkpoint_write(const myr_sim *sim, const char *path, myr_error *err);
/* Creates a simulation from a checkpoint for `cfg` (which must outlive it). */
myr_status myr_checkpoint_load(const myr_config *cfg, const char *path, myr_sim **out,
                               myr_error *err);
/* The checkpoint path for a run's output and step: "<output without .h5>.ckpt-<step>.h5". */
/* The same, host memory only and no backend (a team of ranks splits it: partition/). */
myr_status myr_checkpoint_load_host(const myr_config *cfg, const char *path, myr_sim **out,
                                    myr_error *err);
void myr_checkpoint_path(const char *output, uint64_t step, char *buf, size_t n);

#ifdef __cplusplus
}
#endif

#endif
