/* The replay ring of the trainer (DESIGN §7): finished training samples (root features, legal
 * mask, policy target, value target) and the key that orders them globally.
 *
 * Global order. A sample is keyed by (done, step, id): the step at which its value target was
 * complete, the step its agent was picked at, and the agent's id. Samples enter the ring in
 * that order: all samples completed at step s before those of step s + 1, and within one step
 * by (picked step, id). The key depends only on the agent and the steps, never on which rank
 * holds the agent, so a run split over ranks defines the same sequence: sample number q (0 for
 * the first sample of the run) is the same sample whatever the partition. The ring keeps the
 * newest `capacity` of them: numbers [total - size, total).
 *
 * Batches. Update u (0 for the run's first update) draws batch_size numbers with replacement:
 * element j is q = total - size + below(size), the j-th draw of the counter RNG keyed by
 * (seed, id = u, step 0, purpose MYR_RNG_TRAIN + 1). Batch row j is sample q: rows are in draw
 * order, whatever holds them.
 *
 * Several ranks (partition/train.h): the leader (rank 0) holds the team's ring; after each step
 * every rank's finished samples are merged into it in the global order (gathered to it under
 * mpirun), so its numbers, window and batches are those of one rank. Spreading the ring over
 * the ranks (a ring per rank storing global numbers, batch rows gathered from their owners in
 * row order) would keep all of this and is not built.
 *
 * Memory: one allocation per array, owned by the ring (myr_replay_free). */
#ifndef MYR_SEARCH_REPLAY_H
#define MYR_SEARCH_REPLAY_H

#include <stdint.h>

#include "search/train.h" // myr_train_batch: what a batch fills
#include "sim/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct myr_replay {
  int features, actions;
  int64_t capacity;
  int64_t total;     /* samples ever pushed: the next sample's number */
  float *x;          /* [capacity][features] */
  uint32_t *legal;   /* [capacity] */
  float *policy;     /* [capacity][actions] */
  float *value;      /* [capacity] */
  uint64_t *id;      /* [capacity]: the agent */
  uint64_t *step;    /* [capacity]: the step the agent was picked at */
  uint64_t *done;    /* [capacity]: the step its value target was complete at */
} myr_replay;

myr_status myr_replay_create(myr_replay *r, int features, int actions, int64_t capacity, myr_error *err);
void myr_replay_free(myr_replay *r);

/* Samples held: min(total, capacity). */
static inline int64_t myr_replay_size(const myr_replay *r) { return r->total < r->capacity ? r->total : r->capacity; }

/* Appends sample number r->total (the caller pushes in the global order above). */
void myr_replay_push(myr_replay *r, uint64_t id, uint64_t step, uint64_t done, const float *x, uint32_t legal,
                     const float *policy, float value);

/* The ring slot of sample number q, or -1 when the ring no longer (or not yet) holds it. */
int64_t myr_replay_index(const myr_replay *r, int64_t q);

/* The sample numbers of update u's batch (n of them, into q[]), drawn from the `size` newest of
 * `total` samples (the global counts: on one rank the ring's own). */
void myr_replay_draw(uint32_t seed, int64_t update, int64_t total, int64_t size, int64_t n, int64_t *q);

/* Copies ring slot `slot` into row j of the batch arrays (x, legal, policy, value of a batch
 * with the ring's features and actions). */
void myr_replay_copy(const myr_replay *r, int64_t slot, int64_t j, float *x, uint32_t *legal, float *policy,
                     float *value);

#ifdef __cplusplus
}
#endif

#endif
