/* `myriad run`: the whole run of a configuration on this process: backend choice, the step
 * loop with records, snapshots and checkpoints, progress, the summary table and the hash. */
#ifndef MYR_RUN_H
#define MYR_RUN_H

#include "sim/config.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct myr_run_options {
  const char *config_path;
  char *const *set; /* "a.b=value" overrides, in order */
  int n_set;
  const char *resume; /* checkpoint to resume from, or NULL */
  int quiet;          /* no progress, no summary */
} myr_run_options;

/* Runs to the end. Errors in the configuration are reported before anything is created. */
myr_status myr_run(const myr_run_options *o, myr_error *err);

#ifdef __cplusplus
}
#endif

#endif
