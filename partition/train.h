/* Training across the ranks of a team (DESIGN §7): the ranks' trainers pick samples with the
 * team's population, rank 0 (the leader) keeps the team's replay, into which every rank's
 * finished samples are merged in the global order after each step, and updates the network;
 * its weights are then given to every rank. The samples, batches and updates are those of a
 * single rank, so the weights are identical for any rank count. Ranks: CPU ranks or GPUs of
 * one process (a GPU rank's copy of the network is refreshed on its device, as one GPU rank
 * does after its update), or one rank per process under mpirun (the finished samples are
 * packed and gathered to rank 0, the weights broadcast; data_parallel only: spatial_parallel
 * would need the unfinished samples to travel with agents between processes). Checkpoints of a
 * team hold what one trainer would: the leader's network, Adam state and replay and every
 * rank's unfinished samples; a resume hands them out again on any rank count. The gradient of
 * a batch is computed by the leader (its shards are fixed, so spreading them over ranks would
 * change speed, not bits). */
#ifndef MYR_PARTITION_TRAIN_H
#define MYR_PARTITION_TRAIN_H

#include "sim/sim.h"

/* 1 if the ranks' sims train (train.enabled with a trainer). */
int myr_team_train_on(myr_sim *const *sims, int n);
/* This process's n ranks of a team (sims[r]->rank set): checks what a training team needs and
 * makes every rank's trainer a team member. `spatial`: the agents are on bands (a resumed
 * team's unfinished samples then follow them); `dynamic`: balance dynamic moves agents between
 * ranks (refused under mpi, as spatial is: the samples cannot follow them between processes). */
myr_status myr_team_train_start(myr_sim *const *sims, int n, int mpi, int spatial, int dynamic, myr_error *err);
/* Before a step: the team's population for the picks. */
void myr_team_train_before_step(myr_sim *const *sims, int n, int64_t population);
/* After a step: merge (mpi: gather to rank 0 first), move unfinished samples with their agents
 * (`moved`: agents may change ranks at a sync), update, give every rank the weights. Under mpi
 * every process calls it (collectives). */
myr_status myr_team_train_after_step(myr_sim *const *sims, int n, int mpi, int moved, int threads, myr_error *err);
/* Resume: this process's ranks, just split from `whole` (the checkpoint on the host), take the
 * checkpoint's network, the leader its optimizer, counters and replay, and each rank the
 * unfinished samples of its agents (the leader those of agents that died). */
myr_status myr_team_train_resume(myr_sim *const *sims, int n, const myr_sim *whole, myr_error *err);
/* The team's trainer state into `global` (the gathered state, on rank 0's process; NULL
 * elsewhere) for checkpoints: the leader's, with every rank's unfinished samples. Under mpi
 * every process calls it (a gather). */
myr_status myr_team_train_gather(myr_sim *const *sims, int n, int mpi, myr_sim *global, myr_error *err);

#endif
