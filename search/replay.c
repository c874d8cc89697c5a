/* The replay ring (search/replay.h): storage, the global numbering of samples and the
 * counter-RNG batch draw. */
#include "search/replay.h"

#include <stdlib.h>
#include <string.h>

#include "sim/rng.h" // myr_rng_*: the batch draw, keyed by (seed, update)

myr_status myr_replay_create(myr_replay *r, int features, int actions, int64_t capacity, myr_error *err) {
  memset(r, 0, sizeof *r);
  if (capacity < 1 || features < 1 || actions < 1)
    return myr_fail(err, MYR_ERR_INTERNAL, "replay: capacity %lld, %d features, %d actions", (long long)capacity,
                    features, actions);
  size_t c = (size_t)capacity;
  r->features = features;
  r->actions = actions;
  r->capacity = capacity;
  r->x = malloc(c * (size_t)features * sizeof *r->x);
  r->legal = malloc(c * sizeof *r->legal);
  r->policy = malloc(c * (size_t)actions * sizeof *r->policy);
  r->value = malloc(c * sizeof *r->value);
  r->id = malloc(c * sizeof *r->id);
  r->step = malloc(c * sizeof *r->step);
  r->done = malloc(c * sizeof *r->done);
  if (!r->x || !r->legal || !r->policy || !r->value || !r->id || !r->step || !r->done) {
    myr_replay_free(r);
    return myr_fail(err, MYR_ERR_NOMEM, "replay: out of memory for %lld samples (train.replay_capacity)",
                    (long long)capacity);
  }
  return MYR_OK;
}

void myr_replay_free(myr_replay *r) {
  if (!r) return;
  free(r->x);
  free(r->legal);
  free(r->policy);
  free(r->value);
  free(r->id);
  free(r->step);
  free(r->done);
  memset(r, 0, sizeof *r);
}

void myr_replay_push(myr_replay *r, uint64_t id, uint64_t step, uint64_t done, const float *x, uint32_t legal,
                     const float *policy, float value) {
  int64_t s = r->total % r->capacity;
  memcpy(r->x + s * r->features, x, (size_t)r->features * sizeof *x);
  memcpy(r->policy + s * r->actions, policy, (size_t)r->actions * sizeof *policy);
  r->legal[s] = legal;
  r->value[s] = value;
  r->id[s] = id;
  r->step[s] = step;
  r->done[s] = done;
  r->total++;
}

int64_t myr_replay_index(const myr_replay *r, int64_t q) {
  if (q < 0 || q >= r->total || q < r->total - myr_replay_size(r)) return -1;
  return q % r->capacity;
}

void myr_replay_draw(uint32_t seed, int64_t update, int64_t total, int64_t size, int64_t n, int64_t *q) {
  myr_rng rng = myr_rng_make(seed, (uint64_t)update, 0, MYR_RNG_TRAIN + 1);
  int64_t first = total - size;
  for (int64_t j = 0; j < n; j++) {
    int64_t k = (int64_t)myr_rng_below(&rng, (uint32_t)size); /* size < 2^31 (replay_capacity) */
    q[j] = first + k;
  }
}

void myr_replay_copy(const myr_replay *r, int64_t slot, int64_t j, float *x, uint32_t *legal, float *policy,
                     float *value) {
  memcpy(x + j * r->features, r->x + slot * r->features, (size_t)r->features * sizeof *x);
  memcpy(policy + j * r->actions, r->policy + slot * r->actions, (size_t)r->actions * sizeof *policy);
  legal[j] = r->legal[slot];
  value[j] = r->value[slot];
}
