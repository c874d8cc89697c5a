/* Training across the ranks of a team (train.h). */
#include "partition/train.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "search/policy.h"  /* myr_search: each rank's network and trainer */
#include "search/trainer.h" /* the team members' merge, rehome and update */

static myr_trainer *trainer_of(const myr_sim *sim) { return sim->search ? sim->search->trainer : NULL; }

int myr_team_train_on(myr_sim *const *sims, int n) { return n > 0 && trainer_of(sims[0]) != NULL; }

myr_status myr_team_train_start(myr_sim *const *sims, int n, int gpu, int mpi, myr_error *err) {
  if (n < 2 || !myr_team_train_on(sims, n)) return MYR_OK;
  const myr_config *cfg = sims[0]->cfg;
  if (gpu || mpi)
    return myr_fail(err, MYR_ERR_CONFIG,
                    "train.enabled on several ranks runs on CPU ranks of one process for now (--ranks N); "
                    "with GPUs or mpirun use one rank");
  if (cfg->checkpoint_every > 0)
    return myr_fail(err, MYR_ERR_CONFIG,
                    "run.checkpoint_every: checkpoints of a team that trains are not built yet; use one rank "
                    "or run.checkpoint_every: 0");
  for (int r = 0; r < n; r++) myr_trainer_join_team(trainer_of(sims[r]));
  return MYR_OK;
}

void myr_team_train_before_step(myr_sim *const *sims, int n, int64_t population) {
  for (int r = 0; r < n; r++)
    if (trainer_of(sims[r])) myr_trainer_set_population(trainer_of(sims[r]), population);
}

myr_status myr_team_train_after_step(myr_sim *const *sims, int n, int spatial, int threads, myr_error *err) {
  myr_trainer **members = calloc((size_t)n, sizeof *members);
  const uint64_t **ids = calloc((size_t)n, sizeof *ids);
  const uint8_t **alive = calloc((size_t)n, sizeof *alive);
  int64_t *slots = calloc((size_t)n, sizeof *slots);
  myr_status s = MYR_OK;
  if (!members || !ids || !alive || !slots) s = myr_fail(err, MYR_ERR_NOMEM, "train: out of memory");
  for (int r = 0; r < n && s == MYR_OK; r++) {
    members[r] = trainer_of(sims[r]);
    ids[r] = sims[r]->agents.id;
    alive[r] = sims[r]->agents.alive;
    slots[r] = sims[r]->agents.n;
  }
  if (s == MYR_OK) s = myr_trainer_merge(members[0], members, n, err);
  /* unfinished samples follow their agents to their new rank */
  if (s == MYR_OK && spatial) s = myr_trainer_rehome(members, n, ids, alive, slots, err);
  int changed = 0;
  if (s == MYR_OK) s = myr_trainer_team_update(members[0], sims[0]->step, threads, 0, &changed, err);
  if (s == MYR_OK && changed) /* every rank searches with the leader's new weights */
    for (int r = 1; r < n; r++) myr_sim_copy_network(sims[r], sims[0]);
  free(members);
  free(ids);
  free(alive);
  free(slots);
  return s;
}
