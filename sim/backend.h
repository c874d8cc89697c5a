/* Backends: where a rank's agents are stepped. The CPU backend is the engine's own code
 * (sim/step.c, OpenMP). A device backend (sim/cuda/) keeps columns and layers in device memory,
 * runs the model's kernels (myr_model.cuda) and copies to the host only what is asked for:
 * statistics at records, whole state for snapshots, checkpoints and the hash.
 *
 * With a device backend, sim->agents.n and the flow counters are kept on the host; the host
 * columns and layers are a cache filled by myr_sim_to_host(). */
#ifndef MYR_BACKEND_H
#define MYR_BACKEND_H

#include <stddef.h>

#include "sim/sim.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct myr_backend_ops {
  const char *name;
  /* Allocates device state for sim (after checking that it fits). initialise: 1 = create the
   * initial population on the device (ids, init functions); 0 = upload the host state
   * (a loaded checkpoint). */
  myr_status (*attach)(myr_sim *sim, int initialise, myr_error *err);
  void (*detach)(myr_sim *sim);
  myr_status (*step)(myr_sim *sim, myr_error *err);
  /* Fills acc[n_acc] and adds the device flows into sim->flow (then zeroes them there). */
  myr_status (*stats)(myr_sim *sim, int64_t *acc, myr_error *err);
  /* Copies ids, alive flags, persistent columns [0, n) and persistent layers to the host. */
  myr_status (*to_host)(myr_sim *sim, myr_error *err);
} myr_backend_ops;

/* Chooses the backend for cfg: run.backend, whether this build has CUDA, whether a GPU is
 * present and whether the model has kernels. *ops is NULL for the CPU backend. `why` gets one
 * line for the user ("auto: NVIDIA H100 80GB HBM3", "auto: no CUDA device found", ...).
 * run.backend: cuda that cannot be honoured is MYR_ERR_BACKEND with the reason. */
myr_status myr_backend_choose(const myr_config *cfg, const myr_backend_ops **ops, char *why, size_t n,
                              myr_error *err);

#ifdef __cplusplus
}
#endif

#endif
