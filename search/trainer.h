/* The trainer in a run (DESIGN §7, train: in the config): turns search results into samples,
 * keeps them in the replay ring (search/replay.h) and updates the shared network with the
 * numerical core of search/train.h. Owned by the search state (myr_search.trainer).
 *
 * Rewards. The reward of agent i's real step s is the reward the model's plan_step gives for
 * the action the agent took, from the agent's planning root at step s (models/plan.h): the
 * search and the trainer use one definition. For foraging that is (claimed - metabolism) in
 * energy units, exactly what the real act claims (contention at the sync is not in it).
 *
 * Samples. After the decide phase of step s (policy.kind: mcts with a network):
 *   - each alive agent is picked when u < min(1, samples_per_step / population), u the first
 *     double of the counter RNG keyed by (seed, agent id, step s, MYR_RNG_TRAIN) and population
 *     the number of alive agents deciding at step s over the whole run (all ranks): the choice
 *     of an agent never depends on how agents are split;
 *   - a picked agent's sample holds its root features and legal mask (plan_root, plan_legal,
 *     plan_features: the rows the search evaluated at the root), the search's policy target
 *     (gumbel: the improved policy; muzero: the visit distribution) and a value target
 *     G = r_s + d r_{s+1} + ... + d^(n-1) r_{s+n-1} + d^n V_{s+n}, d = policy.mcts.discount,
 *     n = train.n_step, V the search's root value of the agent at step s + n, summed in double
 *     in that order and stored as float. When the agent dies first (it is no longer alive at a
 *     later decide), G stops at its last reward, with no bootstrap.
 *   - the sample enters the replay when G is complete, in the global order of search/replay.h
 *     (completion step, pick step, agent id).
 * Updates. After step s completes, when s % interval == 0 and the replay holds at least
 * batch_size samples: `updates` updates, update u drawing its batch as search/replay.h says,
 * then myr_train_update (CPU) or its GPU twin (search/train.cu, the same bits) and Adam.
 * u counts every update drawn so far (applied and skipped).
 *
 * Statistics (one value per record, see myr_trainer_stat_*): the means over the updates applied
 * since the previous record of the loss terms of search/train.h (NaN when none), the mean root
 * value of the agents picked and the mean reward of the agent-steps tracked since the previous
 * record, and the run's counts of updates applied and skipped and samples made. */
#ifndef MYR_SEARCH_TRAINER_H
#define MYR_SEARCH_TRAINER_H

#include <stdint.h>

#include "search/replay.h"
#include "search/train.h"
#include "sim/sim.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What the trainer asks of the backend after a decide: for slot[k] (k < n) of the view, its
 * root features x[k][features], legal mask, the reward of its step (the taken action's
 * plan_step reward from its root), the search's policy target[k][actions] and root value.
 * Host arrays, filled by the callee. */
typedef struct myr_trainer_rows {
  int64_t n;
  const int64_t *slot;
  float *x;
  uint32_t *legal;
  float *reward;
  float *target;
  float *value;
} myr_trainer_rows;
typedef myr_status (*myr_trainer_rows_fn)(void *ctx, myr_trainer_rows *rows, myr_error *err);

typedef struct myr_trainer myr_trainer;

/* A trainer for sim's config and network (`net`, owned by the search and updated in place).
 * *out NULL when train.enabled is false. */
myr_status myr_trainer_create(myr_trainer **out, const myr_config *cfg, myr_net *net, myr_error *err);
void myr_trainer_destroy(myr_trainer *t);

/* After the decide phase of `step`: n slots with host ids (alive NULL: every slot alive). Picks,
 * advances and finishes samples through `fn`. */
myr_status myr_trainer_observe(myr_trainer *t, uint64_t step, const uint64_t *id, const uint8_t *alive,
                               int64_t n, myr_trainer_rows_fn fn, void *ctx, myr_error *err);
/* After a step completes (sim->step is the steps done): updates when due. `threads`: the CPU
 * workers; `gpu`: 1 to compute gradients on the current CUDA device. Sets *changed when the
 * weights changed. */
myr_status myr_trainer_after_step(myr_trainer *t, uint64_t steps_done, int threads, int gpu, int *changed,
                                  myr_error *err);

/* Wall seconds spent in myr_trainer_observe and myr_trainer_after_step so far (with the rows
 * the backend gathers for it): the training share of a run. */
double myr_trainer_seconds(const myr_trainer *t);

/* Time-series statistics (appended after the simulation's in the result file). */
int myr_trainer_stat_count(void);
const char *myr_trainer_stat_name(int k);
const char *myr_trainer_stat_doc(int k);
/* Values since the previous call (resets the per-record sums). */
void myr_trainer_stats(myr_trainer *t, double *out);

/* Checkpoints: the optimizer, counters, replay and unfinished samples under an open HDF5 group
 * `loc` (an hid_t); read restores them into a fresh trainer (same config). */
myr_status myr_trainer_write_h5(const myr_trainer *t, int64_t loc, const char *file, myr_error *err);
myr_status myr_trainer_read_h5(myr_trainer *t, int64_t loc, const char *file, myr_error *err);

/* Teams of ranks (partition/). Every rank's trainer joins the team; before each step the team
 * sets the population of the whole team (the picks' probability); after each step it merges
 * the finished samples and statistic terms of every rank into the leader's replay and sums in
 * the global order (pick step, id), as one trainer would have made them, lets the leader
 * update, and copies the leader's weights to the other ranks. Under spatial_parallel,
 * myr_trainer_rehome moves unfinished samples to the rank their agent moved to. */
typedef struct myr_trainer_term {
  uint64_t step, id;
  float value;
  int kind; /* 0 reward, 1 root value */
} myr_trainer_term;
void myr_trainer_join_team(myr_trainer *t);
void myr_trainer_set_population(myr_trainer *t, int64_t population);
myr_status myr_trainer_merge(myr_trainer *leader, myr_trainer *const *ranks, int n, myr_error *err);
myr_status myr_trainer_team_update(myr_trainer *t, uint64_t steps_done, int threads, int gpu, int *changed,
                                   myr_error *err);
/* ids[r], alive[r] (NULL: all alive) and slots[r]: rank r's agents after the step. */
myr_status myr_trainer_rehome(myr_trainer *const *ranks, int n, const uint64_t *const *ids, const uint8_t *const *alive,
                              const int64_t *slots, myr_error *err);

/* Teams of processes (mpirun): a rank's finished samples and statistic terms packed into one
 * buffer (*buf malloc'd, the caller frees it; the outboxes are emptied), and the leader's merge
 * of every process's packs, concatenated in any order: the same replay and sums as
 * myr_trainer_merge gives for ranks of one process. */
myr_status myr_trainer_take_out(myr_trainer *t, void **buf, int64_t *bytes, myr_error *err);
myr_status myr_trainer_merge_packed(myr_trainer *leader, const void *buf, int64_t bytes, myr_error *err);
/* Checkpoints of a team. pack_pending: a rank's unfinished samples packed (*buf malloc'd; t
 * unchanged). adopt: `to` (the gathered state's trainer, same config) takes the leader's
 * optimizer, counters and replay and the packed unfinished samples of every rank in the order
 * (pick step, id): the state one trainer would hold. resume_part: rank trainer t takes the
 * unfinished samples k of `whole` (a checkpoint's trainer) with take[k] (k <
 * myr_trainer_pending(whole)), in order, and when `leader` its optimizer, counters and replay. */
myr_status myr_trainer_pack_pending(const myr_trainer *t, void **buf, int64_t *bytes, myr_error *err);
myr_status myr_trainer_adopt(myr_trainer *to, const myr_trainer *leader, const void *pending, int64_t bytes,
                             myr_error *err);
myr_status myr_trainer_resume_part(myr_trainer *t, const myr_trainer *whole, int leader, const uint8_t *take,
                                   myr_error *err);

/* Read-only access for tests and tools. */
const myr_train_state *myr_trainer_state(const myr_trainer *t);
const myr_replay *myr_trainer_replay(const myr_trainer *t);
int64_t myr_trainer_pending(const myr_trainer *t);
const uint64_t *myr_trainer_pending_ids(const myr_trainer *t); /* [myr_trainer_pending(t)] */

#ifdef MYRIAD_HAVE_CUDA
/* search/train.cu: one update with shard gradients on the current CUDA device (the batch on the
 * host), bit for bit myr_train_update. `ws` is the caller's workspace pointer (NULL at first;
 * free with myr_train_cuda_free). */
myr_status myr_train_update_cuda(myr_net *net, myr_train_state *s, const myr_train_config *c,
                                 const myr_train_batch *b, void **ws, myr_train_stats *stats, myr_error *err);
void myr_train_cuda_free(void **ws);
/* search/policy_cuda.cu: the ids of a GPU rank's slots [0, n) (every slot alive outside a sync)
 * into id (host, n of them): where a team's unfinished samples go after agents moved. */
myr_status myr_search_train_ids_cuda(const myr_sim *sim, uint64_t *id, myr_error *err);
/* The gradient alone: grad (host, n_params floats) = the sum over batch b's K shards, as
 * myr_train_shard_gradient and myr_train_sum_shards give it (tests, benchmarks/train). */
myr_status myr_train_gradient_cuda(const myr_net *net, const myr_train_batch *b, int K, float value_weight, void **ws,
                                   float *grad, myr_error *err);
#endif

#ifdef __cplusplus
}
#endif

#endif
