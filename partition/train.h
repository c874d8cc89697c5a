/* Training across the ranks of a team (DESIGN §7): the ranks' trainers pick samples with the
 * team's population, rank 0 (the leader) keeps the team's replay, into which every rank's
 * finished samples are merged in the global order after each step, and updates the network;
 * its weights are then copied to every rank. The samples, batches and updates are those of a
 * single rank, so the weights are identical for any rank count. CPU ranks of one process for
 * now; the gradient of a batch is computed by the leader (its shards are fixed, so spreading
 * them over ranks changes speed, not bits). */
#ifndef MYR_PARTITION_TRAIN_H
#define MYR_PARTITION_TRAIN_H

#include "sim/sim.h"

/* 1 if the ranks' sims train (train.enabled with a trainer). */
int myr_team_train_on(myr_sim *const *sims, int n);
/* Checks what a training team needs and makes every rank's trainer a team member. */
myr_status myr_team_train_start(myr_sim *const *sims, int n, int gpu, int mpi, myr_error *err);
/* Before a step: the team's population for the picks. */
void myr_team_train_before_step(myr_sim *const *sims, int n, int64_t population);
/* After a step: merge, move unfinished samples with their agents (spatial), update, copy
 * the weights. */
myr_status myr_team_train_after_step(myr_sim *const *sims, int n, int spatial, int threads, myr_error *err);

#endif
