/* The result file (DESIGN §9, HDF5). Written to "<path>.part" and renamed to <path> only when
 * the run ends well, so a failed or interrupted run never truncates an earlier result and
 * keeps what it wrote in the .part file.
 *
 *   /meta                      attributes: version, git_revision, config (YAML as given),
 *                              config_resolved, seed, ranks, devices, backend, model, threads,
 *                              steps, and at the end state_hash, final_step, wall_seconds
 *   /timeseries/step           u64 [rows]      the step after which each row was recorded
 *   /timeseries/<stat>         f64 [rows]      one per statistic (engine's, then model's);
 *                                              attribute doc
 *   /snapshots/<step>/agents/id        u64 [n]        alive agents in id order
 *   /snapshots/<step>/agents/<column>  T [n] or [n, components]   persistent columns
 *   /snapshots/<step>/grid/<layer>     T [height, width]          persistent layers
 *   /network                   the final policy-value network (policy network | mcts with a
 *                              network): weights f32 [n_params], attributes layers, sizes
 *                              (search/net.h); network.init accepts a result file
 * With train.enabled the time series also hold, after the model's statistics, the trainer's
 * (search/trainer.h): train_policy_loss, train_value_loss, train_policy_entropy, train_kl_target_prior,
 * train_root_value, train_reward, train_updates_applied, train_updates_skipped, train_samples.
 * Time series are chunked and extendible; snapshot datasets are chunked and deflated when
 * large. */
#ifndef MYR_OUTPUT_H
#define MYR_OUTPUT_H

#include <stdint.h>

#include "sim/hash.h"
#include "sim/sim.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct myr_output myr_output;

/* Creates "<path>.part" (making the parent folder if needed) and writes /meta.
 * `backend` names the backend that runs. */
myr_status myr_output_open(myr_output **out, const char *path, const myr_sim *sim,
                           const char *backend, myr_error *err);
/* Appends one row to the time series: `stats` has myr_sim_stat_count(sim) values; with
 * train.enabled the trainer's statistics since the previous row follow them. */
myr_status myr_output_record(myr_output *o, uint64_t step, const double *stats, myr_error *err);
/* Time series the trainer adds after myr_sim_stat_count(sim) statistics (0 without training). */
int myr_output_train_series(const myr_sim *sim);
/* Writes /snapshots/<sim->step>/ (replacing one of the same step). */
myr_status myr_output_snapshot(myr_output *o, const myr_sim *sim, myr_error *err);
/* The end-of-run table of a team of ranks under /perf (partition/team.h): group /perf/<rank>
 * with attributes agents, agent_steps, step_seconds, compute_seconds, comm_seconds, comm_share,
 * bytes_moved, handed_agents (agents it handed to its neighbours under balance: dynamic), region
 * (string, when distributed.regions names it), and /perf attributes ranks, strategy, load_imbalance (max/mean agents), wall_seconds,
 * agent_steps_per_s (all ranks over the wall time) and, when `baseline` (a one-rank run's
 * agent-steps/s) is > 0, scaling_efficiency = agent_steps_per_s / (ranks x baseline). */
typedef struct myr_perf_row {
  double agents, agent_steps, step_seconds, comm_seconds, bytes_moved, handed_agents;
  char region[MYR_NAME_MAX]; /* distributed.regions' name of the rank, or "" */
} myr_perf_row;
myr_status myr_output_perf(myr_output *o, const myr_perf_row *rows, int ranks, const char *strategy, double wall_seconds,
                           double baseline, myr_error *err);
/* Writes the closing attributes and, if `ok`, the run's network (/network, and network.save
 * when set), then renames "<path>.part" to <path>. Frees o.
 * `hash` may be NULL when the run failed. */
myr_status myr_output_close(myr_output *o, int ok, const uint8_t *hash, double wall_seconds,
                            myr_error *err);

/* `myriad info FILE`: prints a summary of a result file (meta, time series ranges and final
 * values, snapshots, hash). */
myr_status myr_output_info(const char *path, FILE *out, myr_error *err);

#ifdef __cplusplus
}
#endif

#endif
