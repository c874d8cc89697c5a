/* myr_backend_choose: the one place that knows whether this build has a CUDA backend. */
#include "sim/backend.h"

#include <stdio.h>

#ifdef MYRIAD_HAVE_CUDA
extern const myr_backend_ops myr_cuda_backend;
/* 1 if a usable CUDA device exists; name gets its name, or why not. (sim/cuda/backend.cu) */
int myr_cuda_probe(char *name, size_t n);
#endif

/* Why the CUDA backend cannot run this config, or NULL if it can; `device` gets its name. */
static const char *cuda_obstacle(const myr_config *cfg, char *device, size_t n) {
#ifdef MYRIAD_HAVE_CUDA
  if (!myr_cuda_probe(device, n)) return device;
  if (!cfg->model_desc->cuda) return "the model has no CUDA kernels";
  if ((cfg->policy == MYR_POLICY_NETWORK || cfg->policy == MYR_POLICY_MCTS) &&
      (!cfg->model_desc->plan || !cfg->model_desc->plan->root_cuda))
    return "policy.kind network and mcts run on the GPU only for models with a planning interface";
  return NULL;
#else
  (void)cfg;
  snprintf(device, n, "none");
  return "this build has no CUDA backend (configure with nvcc on PATH)";
#endif
}

myr_status myr_backend_choose(const myr_config *cfg, const myr_backend_ops **ops, char *why, size_t n,
                              myr_error *err) {
  *ops = NULL;
  if (cfg->backend == MYR_BACKEND_CPU) {
    snprintf(why, n, "run.backend: cpu");
    return MYR_OK;
  }
  char device[256];
  const char *obstacle = cuda_obstacle(cfg, device, sizeof device);
  if (obstacle) {
    if (cfg->backend == MYR_BACKEND_CUDA)
      return myr_fail(err, MYR_ERR_BACKEND, "run.backend: cuda cannot run model %s: %s; use run.backend: cpu or auto",
                      cfg->model, obstacle);
    snprintf(why, n, "auto: %s", obstacle);
    return MYR_OK;
  }
#ifdef MYRIAD_HAVE_CUDA
  *ops = &myr_cuda_backend;
#endif
  snprintf(why, n, "%s: %s", cfg->backend == MYR_BACKEND_AUTO ? "auto" : "run.backend: cuda", device);
  return MYR_OK;
}
