/* Shared by the trainer's tests: random networks and batches from the counter RNG (the same on
 * every machine), owned by small structs with a _free. */
#ifndef MYR_TEST_TRAIN_FIXTURE_H
#define MYR_TEST_TRAIN_FIXTURE_H

#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "search/net.h"
#include "search/train.h" // myr_train_batch
#include "sim/rng.h"      // myr_rng_*: inputs

static inline myr_net_shape fx_shape(int inputs, const int *hidden, int n_hidden, int actions) {
  myr_net_shape s;
  myr_error e;
  REQUIRE(myr_net_shape_make(&s, inputs, hidden, n_hidden, actions, &e) == MYR_OK, "%s", e.msg);
  return s;
}

/* He-uniform weights from myr_net_create, biases U(-0.1, 0.1) so that they are exercised. */
static inline myr_net fx_net(const myr_net_shape *s, uint32_t seed) {
  myr_net n;
  myr_error e;
  REQUIRE(myr_net_create(&n, s, seed, &e) == MYR_OK, "%s", e.msg);
  myr_rng r = myr_rng_make(seed, 5, 3, MYR_RNG_MODEL);
  for (int l = 0; l < s->layers; l++) {
    float *b = n.w + myr_net_bias_offset(s, l);
    for (int j = 0; j < s->size[l + 1]; j++) b[j] = 0.2f * myr_rng_uniform(&r) - 0.1f;
  }
  return n;
}

/* A batch that owns its arrays. */
typedef struct fx_batch {
  myr_train_batch b;
  float *x, *policy, *value;
  uint32_t *legal;
} fx_batch;

/* n samples: features U(-1, 1); a random non-empty legal set (sample 0: one legal action);
 * a policy target ~ normalised U(0, 1)^2 on the legal actions (some exactly 0 when
 * zero_some), 0 elsewhere; value target U(-1, 1). */
static inline fx_batch fx_batch_make(int64_t n, int features, int actions, uint32_t seed, int zero_some) {
  fx_batch f;
  f.x = malloc((size_t)(n * features) * sizeof *f.x);
  f.policy = malloc((size_t)(n * actions) * sizeof *f.policy);
  f.value = malloc((size_t)n * sizeof *f.value);
  f.legal = malloc((size_t)n * sizeof *f.legal);
  REQUIRE(f.x && f.policy && f.value && f.legal, "out of memory");
  myr_rng r = myr_rng_make(seed, 11, 4, MYR_RNG_MODEL);
  uint32_t all = actions == 32 ? 0xffffffffu : (1u << actions) - 1u;
  for (int64_t i = 0; i < n; i++) {
    for (int k = 0; k < features; k++) f.x[i * features + k] = 2.0f * myr_rng_uniform(&r) - 1.0f;
    uint32_t m = myr_rng_u32(&r) & all;
    if (i == 0) m = 1u << myr_rng_below(&r, (uint32_t)actions);
    if (!m) m = 1u << myr_rng_below(&r, (uint32_t)actions);
    f.legal[i] = m;
    float sum = 0.0f, *t = f.policy + i * actions;
    for (int a = 0; a < actions; a++) {
      float u = myr_rng_uniform(&r);
      t[a] = ((m >> a) & 1u) ? u * u : 0.0f;
      if (zero_some && a % 3 == 1 && m != (1u << a)) t[a] = 0.0f;
      sum += t[a];
    }
    if (sum == 0.0f) /* every legal target zeroed: put it all on the first legal action */
      for (int a = 0; a < actions; a++)
        if ((m >> a) & 1u) {
          t[a] = 1.0f;
          sum = 1.0f;
          break;
        }
    for (int a = 0; a < actions; a++) t[a] /= sum;
    f.value[i] = 2.0f * myr_rng_uniform(&r) - 1.0f;
  }
  f.b.n = n;
  f.b.features = features;
  f.b.actions = actions;
  f.b.x = f.x;
  f.b.legal = f.legal;
  f.b.policy = f.policy;
  f.b.value = f.value;
  return f;
}

static inline void fx_batch_free(fx_batch *f) {
  free(f->x);
  free(f->policy);
  free(f->value);
  free(f->legal);
  f->x = f->policy = f->value = NULL;
  f->legal = NULL;
}

#endif
