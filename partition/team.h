/* A team: the ranks that together hold one simulation (DESIGN §5), and what the run loop
 * (sim/run.c) asks of them. A team of one rank is the plain simulation, with no copies and no
 * collectives.
 *
 * Ranks: `distributed.ranks` CPU ranks (threads of this process, each an OpenMP team over its
 * own agents), or `run.gpus` GPUs driven by threads of this process (one rank each), or one
 * rank per process under mpirun. Transports: `host` (shared memory between the threads) for
 * CPU ranks and everything on the host, `nccl` for the layers of GPU ranks.
 *
 * data_parallel: rank r holds the agents whose initial ids form the r-th contiguous range
 * (even, or proportional to distributed.device_weights) and the children they bear (balance
 * dynamic then moves agents between neighbouring ranks, partition/balance.h); every rank
 * holds the whole grid. At a sync the transient layers (claims) are summed over ranks in place
 * (exact: integer layers only), then every rank runs the cell functions over the whole grid,
 * so the published world is the same everywhere; only rank 0 counts cell flows and cell
 * statistics. Nothing an agent computes depends on which rank holds it, so every output equals
 * the single-rank run's, bit for bit (DESIGN §4). */
#ifndef MYR_TEAM_H
#define MYR_TEAM_H

#include <stdio.h>

#include "sim/sim.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct myr_team myr_team;

/* Makes the ranks for cfg (which must outlive the team) at step 0, or from the checkpoint at
 * `resume` (NULL: a new run), split over the ranks whatever rank count wrote it. Checks the
 * distributed settings against the ranks and the model first (clear errors, nothing runs). */
myr_status myr_team_create(const myr_config *cfg, const char *resume, myr_team **out, myr_error *err);
void myr_team_destroy(myr_team *t);

int myr_team_size(const myr_team *t);
myr_sim *myr_team_sim(const myr_team *t, int rank); /* this process's ranks only */
/* 1 in the process that writes results (always, without MPI). */
int myr_team_is_root(const myr_team *t);
/* One line for the user: "cpu, 4 ranks x 2 threads", "cuda, 4 GPUs (NVIDIA H200)", ... */
const char *myr_team_describe(const myr_team *t);

/* Steps every rank once. record_hint: statistics follow right after (sim.h). */
myr_status myr_team_step(myr_team *t, int record_hint, myr_error *err);
uint64_t myr_team_steps_done(const myr_team *t);
int64_t myr_team_slots(const myr_team *t);      /* agent slots in use, all ranks */
int64_t myr_team_population(const myr_team *t); /* alive agents, all ranks */

/* Statistics of the whole team (exact integer parts summed over ranks): as myr_sim_stats. */
void myr_team_stats(myr_team *t, double *out);

/* The whole state on the host in one simulation, for the hash, snapshots and checkpoints:
 * *global is rank 0's own sim for a team of one, else a host copy with every rank's agents and
 * rank 0's grid (release it with myr_team_release). NULL outside the root process. */
myr_status myr_team_gather(myr_team *t, myr_sim **global, myr_error *err);
void myr_team_release(myr_team *t, myr_sim *global);

/* s, or an error when another process of the team failed (so that all stop together). */
myr_status myr_team_agree(const myr_team *t, myr_status s, myr_error *err);

/* Per-rank performance since creation, every rank's on the root (*rows malloc'd there, NULL
 * elsewhere; every process must call it): the end-of-run table, which print_table prints. */
struct myr_perf_row;
myr_status myr_team_perf(const myr_team *t, struct myr_perf_row **rows, myr_error *err);
void myr_team_print_table(const myr_team *t, const struct myr_perf_row *rows, double wall_seconds, double baseline,
                          FILE *out);
const char *myr_team_strategy(const myr_team *t);

#ifdef __cplusplus
}
#endif

#endif
