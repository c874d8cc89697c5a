/* Adam and the learning-rate schedules (search/train.*) against hand-computed values.
 *
 * Adam: a network of 4 parameters (1 input, 1 action: W [2][1], b [2]) from w = (0.5, -0.25,
 * 0.1, 0), lr 0.01, beta1 0.9, beta2 0.999, eps 1e-8, no L2, no clipping; three updates
 * through myr_train_apply with totals over n = 2 samples giving the mean gradients
 *   g1 = (0.2, -0.4, 1e-3, 0), g2 = (0.2, 0.4, 1e-3, 0), g3 = (-0.1, 0, 1e-3, 0).
 * Worked by hand with bias correction (e.g. parameter 1, update 2: m = 0.9 (-0.04) + 0.1 (0.4)
 * = 0.004, v = 0.999 (1.6e-4) + 0.001 (0.16) = 3.1984e-4, m / (1 - 0.9^2) = 0.0210526,
 * sqrt(v / (1 - 0.999^2)) = 0.4, step 5.263e-4, w = -0.2405263). With a constant gradient
 * bias-corrected Adam moves each step by lr sign(g) (parameter 0, updates 1 and 2); a zero
 * gradient never moves (parameter 3). Weights within 3e-7 (half an ulp of 0.5 per step and the
 * float arithmetic), moments within 1e-6 relative of the same sums with the float betas.
 * Schedules: constant, cosine (ends, midpoint, a quarter against libm's cos within 1e-12 rel,
 * past the end), step (gamma^floor(s / steps)) and linear warmup, exact where they can be. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "fixture.h"
#include "search/train.h"

#define PI 3.14159265358979323846

static void adam(void) {
  myr_net_shape s = fx_shape(1, NULL, 0, 1);
  myr_net net = fx_net(&s, 1);
  REQUIRE(net.n_params == 4, "%zu parameters", net.n_params);
  const float w0[4] = {0.5f, -0.25f, 0.1f, 0.0f};
  memcpy(net.w, w0, sizeof w0);
  myr_train_config c = MYR_TRAIN_CONFIG_DEFAULTS;
  c.batch_size = 2;
  c.shards = 1;
  c.lr = 0.01f;
  c.l2 = 0.0f;
  c.clip = 0.0f;
  myr_train_state st;
  myr_error e;
  REQUIRE(myr_train_state_create(&st, &net, 1, &e) == MYR_OK, "%s", e.msg);
  const float g[3][4] = {{0.2f, -0.4f, 1e-3f, 0.0f}, {0.2f, 0.4f, 1e-3f, 0.0f}, {-0.1f, 0.0f, 1e-3f, 0.0f}};
  const double want[3][4] = {{0.49, -0.24, 0.0900001, 0.0},
                             {0.48, -0.240526316, 0.0800002, 0.0},
                             {0.4748434672, -0.2409331596, 0.0700003, 0.0}};
  /* The moments with the betas as the floats they are: 0.999f = 0.99900001287, so 1 - beta2 is
   * 9.9998713e-4 and v is 1.3e-5 below the decimal value (8.988004e-5 for parameter 0). */
  const double want_m[4] = {0.0242000048, 0.003600001675, 0.0002710000708, 0.0};
  const double want_v[4] = {8.987888705e-05, 0.000319516062, 2.996962738e-09, 0.0};
  float total_grad[4];
  for (int t = 0; t < 3; t++) {
    for (int i = 0; i < 4; i++) total_grad[i] = 2.0f * g[t][i]; /* a sum over n = 2 samples */
    myr_train_shard total = {total_grad, {0, 0, 0, 0, 2}};
    myr_train_stats stats;
    REQUIRE(myr_train_apply(&net, &st, &c, &total, 2, &stats, &e) == MYR_OK, "%s", e.msg);
    CHECK(!stats.skipped, "update %d skipped", t + 1);
    CHECK_EQ_I64(st.step, t + 1);
    for (int i = 0; i < 4; i++) {
      CHECK_CLOSE(net.w[i], want[t][i], 3e-7, 0.0);
      CHECK_CLOSE(st.grad[i], g[t][i], 0.0, 0.0); /* the applied gradient: total / n exactly */
    }
    printf("update %d: w = %.9f %.9f %.9f %.9f\n", t + 1, net.w[0], net.w[1], net.w[2], net.w[3]);
  }
  for (int i = 0; i < 4; i++) {
    CHECK_CLOSE(st.m[i], want_m[i], 1e-12, 1e-6);
    CHECK_CLOSE(st.v[i], want_v[i], 1e-15, 1e-6);
  }
  CHECK(net.w[3] == 0.0f, "a zero gradient moved a weight to %g", (double)net.w[3]);
  myr_train_state_free(&st);
  myr_net_free(&net);
}

static void schedules(void) {
  myr_train_config c = MYR_TRAIN_CONFIG_DEFAULTS;
  myr_error e;
  c.lr = 0.01f;
  CHECK(myr_train_config_check(&c, &e) == MYR_OK, "%s", e.msg);
  CHECK(myr_train_lr(&c, 0) == (double)c.lr && myr_train_lr(&c, 123456) == (double)c.lr, "constant");

  c.schedule = MYR_LR_COSINE;
  c.lr_min = 1e-4f;
  c.schedule_steps = 100;
  double lr = c.lr, lo = c.lr_min;
  CHECK_CLOSE(myr_train_lr(&c, 0), lr, 0.0, 1e-15);
  CHECK_CLOSE(myr_train_lr(&c, 50), (lr + lo) / 2, 0.0, 1e-15);
  CHECK_CLOSE(myr_train_lr(&c, 25), lo + (lr - lo) * 0.5 * (1 + cos(PI * 0.25)), 0.0, 1e-12);
  CHECK_CLOSE(myr_train_lr(&c, 83), lo + (lr - lo) * 0.5 * (1 + cos(PI * 0.83)), 0.0, 1e-12);
  CHECK_CLOSE(myr_train_lr(&c, 100), lo, 0.0, 1e-12);
  CHECK(myr_train_lr(&c, 1000) == myr_train_lr(&c, 100), "cosine past its end");

  c.schedule = MYR_LR_STEP;
  c.lr = 1.0f;
  c.gamma = 0.5f;
  c.schedule_steps = 10;
  CHECK(myr_train_lr(&c, 9) == 1.0 && myr_train_lr(&c, 10) == 0.5 && myr_train_lr(&c, 35) == 0.125,
        "step: %g %g %g", myr_train_lr(&c, 9), myr_train_lr(&c, 10), myr_train_lr(&c, 35));

  c.schedule = MYR_LR_CONSTANT;
  c.warmup = 4;
  CHECK(myr_train_lr(&c, 0) == 0.25 && myr_train_lr(&c, 3) == 1.0 && myr_train_lr(&c, 4) == 1.0,
        "warmup: %g %g %g", myr_train_lr(&c, 0), myr_train_lr(&c, 3), myr_train_lr(&c, 4));

  c.shards = 0;
  CHECK(myr_train_config_check(&c, &e) == MYR_ERR_CONFIG, "0 shards accepted");
  c.shards = 8;
  c.beta2 = 1.0f;
  CHECK(myr_train_config_check(&c, &e) == MYR_ERR_CONFIG, "beta2 = 1 accepted");
}

int main(void) {
  adam();
  schedules();
  return check_summary();
}
