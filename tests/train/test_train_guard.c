/* The update's guards (search/train.*):
 * - non-finite: a batch with a NaN feature, one with an infinite value target and one with a NaN
 *   policy target each skip the update: reported as skipped, counted in the state, and the
 *   weights, Adam moments and step count are bit-for-bit what they were (after two real updates,
 *   so the moments are not zero); a good batch afterwards updates normally;
 * - clipping: with clip below the gradient's global norm the applied gradient's norm equals clip
 *   within 1e-6 relative (float scaling of each element); with clip above it, the gradient is
 *   applied unscaled (norm equal to the reported one, scale exactly 1). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fixture.h"
#include "search/train.h"

static double norm_of(const float *g, size_t n) {
  double s = 0.0;
  for (size_t i = 0; i < n; i++) s += (double)g[i] * (double)g[i];
  return sqrt(s);
}

static void nonfinite(void) {
  int hidden[] = {7, 6};
  myr_net_shape s = fx_shape(5, hidden, 2, 4);
  myr_net net = fx_net(&s, 3);
  myr_train_config c = MYR_TRAIN_CONFIG_DEFAULTS;
  c.batch_size = 9;
  c.shards = 3;
  myr_train_state st;
  myr_error e;
  myr_train_stats stats;
  REQUIRE(myr_train_state_create(&st, &net, 3, &e) == MYR_OK, "%s", e.msg);
  for (int u = 0; u < 2; u++) {
    fx_batch fb = fx_batch_make(9, 5, 4, 10u + (uint32_t)u, 0);
    REQUIRE(myr_train_update(&net, &st, &c, &fb.b, 2, &stats, &e) == MYR_OK, "%s", e.msg);
    fx_batch_free(&fb);
  }
  size_t P = net.n_params, bytes = P * sizeof(float);
  float *w = malloc(bytes), *m = malloc(bytes), *v = malloc(bytes);
  REQUIRE(w && m && v, "out of memory");
  memcpy(w, net.w, bytes);
  memcpy(m, st.m, bytes);
  memcpy(v, st.v, bytes);
  const char *what[3] = {"NaN feature", "infinite value target", "NaN policy target"};
  for (int kind = 0; kind < 3; kind++) {
    fx_batch fb = fx_batch_make(9, 5, 4, 20u + (uint32_t)kind, 0);
    if (kind == 0) fb.x[3 * 5 + 2] = NAN;
    if (kind == 1) fb.value[7] = INFINITY;
    if (kind == 2) {
      int a = 0;
      while (!((fb.legal[5] >> a) & 1u)) a++;
      fb.policy[5 * 4 + a] = NAN;
    }
    REQUIRE(myr_train_update(&net, &st, &c, &fb.b, 2, &stats, &e) == MYR_OK, "%s", e.msg);
    CHECK(stats.skipped == 1, "%s: not skipped (loss %g, norm %g)", what[kind], stats.loss, stats.grad_norm);
    CHECK(!isfinite(stats.loss) || !isfinite(stats.grad_norm), "%s: finite loss and norm", what[kind]);
    CHECK_EQ_I64(st.skipped, kind + 1);
    CHECK_EQ_I64(st.step, 2);
    CHECK(memcmp(w, net.w, bytes) == 0, "%s: weights changed", what[kind]);
    CHECK(memcmp(m, st.m, bytes) == 0 && memcmp(v, st.v, bytes) == 0, "%s: Adam moments changed", what[kind]);
    printf("%s: skipped (loss %g, gradient norm %g), %lld skipped so far\n", what[kind], stats.loss,
           stats.grad_norm, (long long)st.skipped);
    fx_batch_free(&fb);
  }
  fx_batch fb = fx_batch_make(9, 5, 4, 30, 0);
  REQUIRE(myr_train_update(&net, &st, &c, &fb.b, 2, &stats, &e) == MYR_OK, "%s", e.msg);
  CHECK(!stats.skipped && st.step == 3 && st.skipped == 3, "good batch after skips: skipped %d step %lld",
        stats.skipped, (long long)st.step);
  CHECK(memcmp(w, net.w, bytes) != 0, "a good batch after skips left the weights alone");
  fx_batch_free(&fb);
  free(w);
  free(m);
  free(v);
  myr_train_state_free(&st);
  myr_net_free(&net);
}

static void clipping(void) {
  int hidden[] = {8};
  myr_net_shape s = fx_shape(6, hidden, 1, 5);
  fx_batch fb = fx_batch_make(12, 6, 5, 40, 0);
  const float clips[2] = {0.05f, 1e6f};
  for (int i = 0; i < 2; i++) {
    myr_net net = fx_net(&s, 41);
    myr_train_config c = MYR_TRAIN_CONFIG_DEFAULTS;
    c.batch_size = 12;
    c.shards = 4;
    c.clip = clips[i];
    myr_train_state st;
    myr_error e;
    myr_train_stats stats;
    REQUIRE(myr_train_state_create(&st, &net, 4, &e) == MYR_OK, "%s", e.msg);
    REQUIRE(myr_train_update(&net, &st, &c, &fb.b, 2, &stats, &e) == MYR_OK, "%s", e.msg);
    double applied = norm_of(st.grad, net.n_params);
    if (i == 0) {
      REQUIRE(stats.grad_norm > 2.0 * c.clip, "gradient norm %g, below 2 clip", stats.grad_norm);
      CHECK_CLOSE(applied, c.clip, 0.0, 1e-6);
      CHECK_CLOSE(stats.clip_scale, c.clip / stats.grad_norm, 0.0, 1e-6);
    } else {
      CHECK(applied == stats.grad_norm, "unclipped norm %.17g, reported %.17g", applied, stats.grad_norm);
      CHECK(stats.clip_scale == 1.0, "scale %g", stats.clip_scale);
    }
    printf("clip %g: gradient norm %.6f, applied %.9f\n", (double)c.clip, stats.grad_norm, applied);
    myr_train_state_free(&st);
    myr_net_free(&net);
  }
  fx_batch_free(&fb);
}

int main(void) {
  nonfinite();
  clipping();
  return check_summary();
}
