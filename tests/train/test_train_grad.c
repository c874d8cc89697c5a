/* Finite-difference check of the trainer's gradient (search/train.*), on the CPU reference.
 *
 * For random small networks and batches (random legal masks, targets with some zeros, one
 * sample with a single legal action, value_weight 0.7, l2 0.01), the gradient Adam would use,
 * g = (sum of shard gradients) / n + 2 l2 w (myr_train_apply with clip off), is compared with
 * central differences (L(w + h) - L(w - h)) / 2h of the same loss written here independently in
 * double with libm's exp and log, at the same float weights, h = 1e-4: the truncation error is
 * about h^2 |L'''| / 6 ~ 1e-9 and rounding 1e-16 / h ~ 1e-12, far below the float gradient's
 * own error (a few ulp of sums of ~10 terms, ~1e-6 relative). Tolerance per parameter:
 * |g - fd| <= 2e-6 + 1e-4 |fd| (measured worst: about 1e-7). A parameter whose +-h
 * perturbation flips any ReLU (a kink inside the difference) is skipped and counted; the test
 * asks that fewer than 2% are.
 * The reported losses (policy, value, entropy, KL) are checked against the double reference
 * too, within 1e-5 + 1e-5 rel. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fixture.h"
#include "search/train.h"

typedef struct ref_loss {
  double loss, policy, value, entropy, kl;
  uint64_t pattern; /* hash of every ReLU's on/off state over the batch */
} ref_loss;

/* The loss of search/train.h in double: mean over samples of CE + vw (v - z)^2, + l2 sum w^2. */
static ref_loss reference(const myr_net_shape *s, const double *w, const myr_train_batch *b, double vw,
                          double l2) {
  ref_loss R;
  memset(&R, 0, sizeof R);
  R.pattern = 1469598103934665603ull;
  int L = s->layers, A = s->size[L] - 1;
  double act[2][MYR_NET_MAX_WIDTH], out[MYR_NET_MAX_WIDTH];
  for (int64_t i = 0; i < b->n; i++) {
    const double *in = NULL;
    double x[MYR_NET_MAX_WIDTH];
    for (int k = 0; k < s->size[0]; k++) x[k] = b->x[i * b->features + k];
    in = x;
    size_t off = 0;
    for (int l = 0; l < L; l++) {
      int ni = s->size[l], no = s->size[l + 1];
      double *o = l == L - 1 ? out : act[l & 1];
      for (int j = 0; j < no; j++) {
        double acc = w[off + (size_t)no * ni + j];
        for (int k = 0; k < ni; k++) acc += w[off + (size_t)j * ni + k] * in[k];
        if (l < L - 1) {
          int on = acc > 0.0;
          R.pattern = (R.pattern ^ (uint64_t)on) * 1099511628211ull;
          acc = on ? acc : 0.0;
        }
        o[j] = acc;
      }
      off += (size_t)no * (ni + 1);
      in = o;
    }
    uint32_t m = b->legal[i];
    const float *t = b->policy + i * b->actions;
    double mx = -INFINITY, sum = 0.0;
    for (int a = 0; a < A; a++)
      if ((m >> a) & 1u && out[a] > mx) mx = out[a];
    for (int a = 0; a < A; a++)
      if ((m >> a) & 1u) sum += exp(out[a] - mx);
    for (int a = 0; a < A; a++)
      if ((m >> a) & 1u) {
        double lp = out[a] - mx - log(sum), p = exp(lp);
        R.policy -= t[a] * lp;
        R.entropy -= p * lp;
        if (t[a] > 0) R.kl += t[a] * (log((double)t[a]) - lp);
      }
    double dv = out[A] - b->value[i];
    R.value += dv * dv;
  }
  double n = (double)b->n, w2 = 0.0;
  for (int l = 0; l < L; l++)
    for (size_t q = myr_net_weight_offset(s, l); q < myr_net_bias_offset(s, l); q++) w2 += w[q] * w[q];
  R.policy /= n;
  R.value /= n;
  R.entropy /= n;
  R.kl /= n;
  R.loss = R.policy + vw * R.value + l2 * w2;
  return R;
}

static int case_no;
static double worst_abs, worst_ratio;
static int64_t checked, skipped;

static void check_net(int inputs, const int *hidden, int n_hidden, int actions, int64_t n, int K, uint32_t seed) {
  myr_net_shape s = fx_shape(inputs, hidden, n_hidden, actions);
  myr_net net = fx_net(&s, seed);
  fx_batch fb = fx_batch_make(n, inputs, actions, seed + 1, 1);
  myr_train_config c = MYR_TRAIN_CONFIG_DEFAULTS;
  c.batch_size = (int)n;
  c.shards = K;
  c.clip = 0.0f;
  c.value_weight = 0.7f;
  c.l2 = 0.01f;
  myr_error e;
  myr_train_state st;
  REQUIRE(myr_train_state_create(&st, &net, K, &e) == MYR_OK, "%s", e.msg);

  size_t P = net.n_params;
  double *w = malloc(P * sizeof *w);
  float *w0 = malloc(P * sizeof *w0);
  REQUIRE(w && w0, "out of memory");
  for (size_t i = 0; i < P; i++) w[i] = w0[i] = net.w[i];
  ref_loss base = reference(&s, w, &fb.b, c.value_weight, c.l2);

  myr_train_stats stats;
  REQUIRE(myr_train_update(&net, &st, &c, &fb.b, 2, &stats, &e) == MYR_OK, "%s", e.msg);
  CHECK(!stats.skipped, "case %d: update skipped", case_no);
  CHECK_CLOSE(stats.policy, base.policy, 1e-5, 1e-5);
  CHECK_CLOSE(stats.value, base.value, 1e-5, 1e-5);
  CHECK_CLOSE(stats.entropy, base.entropy, 1e-5, 1e-5);
  CHECK_CLOSE(stats.kl, base.kl, 1e-5, 1e-5);
  CHECK_CLOSE(stats.loss, base.loss, 1e-5, 1e-5);

  const double h = 1e-4;
  int bad = 0;
  int64_t here = 0, skip_here = 0;
  for (size_t i = 0; i < P; i++) {
    w[i] = (double)w0[i] + h;
    ref_loss up = reference(&s, w, &fb.b, c.value_weight, c.l2);
    w[i] = (double)w0[i] - h;
    ref_loss dn = reference(&s, w, &fb.b, c.value_weight, c.l2);
    w[i] = w0[i];
    if (up.pattern != base.pattern || dn.pattern != base.pattern) {
      skip_here++;
      continue;
    }
    here++;
    double fd = (up.loss - dn.loss) / (2.0 * h), got = st.grad[i];
    double diff = fabs(got - fd), allowed = 2e-6 + 1e-4 * fabs(fd);
    if (diff > worst_abs) worst_abs = diff;
    if (diff / allowed > worst_ratio) worst_ratio = diff / allowed;
    if (diff > allowed && bad++ < 5)
      fprintf(stderr, "case %d: parameter %zu: gradient %.9g, finite difference %.9g\n", case_no, i, got, fd);
  }
  CHECK(bad == 0, "case %d: %d of %lld parameters outside 2e-6 + 1e-4 rel", case_no, bad, (long long)here);
  printf("case %d: shape %d..%d, %zu parameters, %lld checked, %lld skipped at a ReLU kink, loss %.6f\n",
         case_no, inputs, actions, P, (long long)here, (long long)skip_here, base.loss);
  checked += here;
  skipped += skip_here;
  case_no++;
  free(w);
  free(w0);
  myr_train_state_free(&st);
  myr_net_free(&net);
  fx_batch_free(&fb);
}

int main(void) {
  int h1[] = {7, 6}, h2[] = {8}, h3[] = {5, 5, 5}, h4[] = {12, 9};
  check_net(5, h1, 2, 4, 9, 3, 101);
  check_net(5, h1, 2, 4, 16, 4, 202);
  check_net(3, NULL, 0, 2, 7, 2, 303);
  check_net(6, h2, 1, 5, 10, 3, 404);
  check_net(4, h3, 3, 7, 11, 5, 505);
  check_net(9, h4, 2, 9, 12, 1, 606);
  printf("%lld parameters checked, %lld skipped; worst |g - fd| %.3g, worst |g - fd| / (2e-6 + 1e-4 |fd|) %.3g\n",
         (long long)checked, (long long)skipped, worst_abs, worst_ratio);
  CHECK(skipped * 50 < checked + skipped, "%lld of %lld parameters skipped at ReLU kinks", (long long)skipped,
        (long long)(checked + skipped));
  return check_summary();
}
