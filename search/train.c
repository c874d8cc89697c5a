/* The trainer's numerical core on the host (search/train.h): config checks, the Adam state
 * (one allocation), the learning-rate schedule, shard gradients (each sample through
 * myr_train_backward_row, in sample order), their sum in shard order, and the update (mean,
 * L2, non-finite guard, global-norm clipping, Adam). Rules and orders: search/train.h. */
#include "search/train.h"

#include <math.h>   // sqrt, sqrtf, isfinite
#include <omp.h>    // omp_get_max_threads: shards over threads
#include <stdlib.h>
#include <string.h>

myr_status myr_train_config_check(const myr_train_config *c, myr_error *err) {
  if (c->batch_size < 1)
    return myr_fail(err, MYR_ERR_CONFIG, "train: batch_size is %d, expected at least 1", c->batch_size);
  if (c->shards < 1 || c->shards > c->batch_size)
    return myr_fail(err, MYR_ERR_CONFIG, "train: shards is %d, expected 1 to batch_size (%d)", c->shards,
                    c->batch_size);
  if (!(c->lr > 0.0f) || !isfinite(c->lr))
    return myr_fail(err, MYR_ERR_CONFIG, "train: lr is %g, expected a finite value > 0", (double)c->lr);
  if (c->schedule != MYR_LR_CONSTANT && c->schedule != MYR_LR_COSINE && c->schedule != MYR_LR_STEP)
    return myr_fail(err, MYR_ERR_CONFIG, "train: schedule is %d, expected constant, cosine or step",
                    (int)c->schedule);
  if (c->schedule != MYR_LR_CONSTANT && c->schedule_steps < 1)
    return myr_fail(err, MYR_ERR_CONFIG, "train: schedule_steps is %lld, expected at least 1",
                    (long long)c->schedule_steps);
  if (!(c->lr_min >= 0.0f && c->lr_min <= c->lr))
    return myr_fail(err, MYR_ERR_CONFIG, "train: lr_min is %g, expected 0 to lr (%g)", (double)c->lr_min,
                    (double)c->lr);
  if (!(c->gamma > 0.0f && c->gamma <= 1.0f))
    return myr_fail(err, MYR_ERR_CONFIG, "train: gamma is %g, expected in (0, 1]", (double)c->gamma);
  if (c->warmup < 0)
    return myr_fail(err, MYR_ERR_CONFIG, "train: warmup is %lld, expected at least 0", (long long)c->warmup);
  if (!(c->value_weight >= 0.0f) || !isfinite(c->value_weight))
    return myr_fail(err, MYR_ERR_CONFIG, "train: value_weight is %g, expected a finite value >= 0",
                    (double)c->value_weight);
  if (!(c->l2 >= 0.0f) || !isfinite(c->l2))
    return myr_fail(err, MYR_ERR_CONFIG, "train: l2 is %g, expected a finite value >= 0", (double)c->l2);
  if (!(c->clip >= 0.0f) || !isfinite(c->clip))
    return myr_fail(err, MYR_ERR_CONFIG, "train: clip is %g, expected a finite value >= 0 (0: off)",
                    (double)c->clip);
  if (!(c->beta1 >= 0.0f && c->beta1 < 1.0f) || !(c->beta2 >= 0.0f && c->beta2 < 1.0f))
    return myr_fail(err, MYR_ERR_CONFIG, "train: beta1 %g and beta2 %g, expected each in [0, 1)",
                    (double)c->beta1, (double)c->beta2);
  if (!(c->eps > 0.0f) || !isfinite(c->eps))
    return myr_fail(err, MYR_ERR_CONFIG, "train: eps is %g, expected a finite value > 0", (double)c->eps);
  return MYR_OK;
}

myr_status myr_train_state_create(myr_train_state *s, const myr_net *net, int shards, myr_error *err) {
  memset(s, 0, sizeof *s);
  if (shards < 1) return myr_fail(err, MYR_ERR_CONFIG, "train: %d shards, expected at least 1", shards);
  size_t n = net->n_params;
  size_t count = n * (3 + (size_t)shards);
  float *all = calloc(count ? count : 1, sizeof *all);
  if (!all)
    return myr_fail(err, MYR_ERR_NOMEM, "train: out of memory (%zu floats of optimizer state)", count);
  s->n_params = n;
  s->shards = shards;
  s->m = all;
  s->v = all + n;
  s->grad = all + 2 * n;
  s->shard_grad = all + 3 * n;
  return MYR_OK;
}

void myr_train_state_free(myr_train_state *s) {
  if (!s) return;
  free(s->m);
  s->m = s->v = s->grad = s->shard_grad = NULL;
  s->n_params = 0;
  s->shards = 0;
}

/* b^t by repeated squaring (IEEE double * only: the same bits on every machine). */
static double pow_int(double b, int64_t t) {
  double r = 1.0;
  while (t > 0) {
    if (t & 1) r *= b;
    b *= b;
    t >>= 1;
  }
  return r;
}

/* cos(pi f) for f in [0, 1] from +, *, / only (libm's cos may differ in the last bit between
 * machines): cos(pi f) = -cos(pi (1 - f)) folds to x = pi f' in [0, pi/2], then the Taylor
 * series to x^22 (truncation below 1e-16). */
static double cos_pi(double f) {
  double sign = 1.0;
  if (f > 0.5) {
    f = 1.0 - f;
    sign = -1.0;
  }
  double x = 3.141592653589793 * f, x2 = x * x, term = 1.0, sum = 1.0;
  for (int i = 1; i <= 11; i++) {
    term = -term * x2 / (double)((2 * i - 1) * (2 * i));
    sum += term;
  }
  return sign * sum;
}

double myr_train_lr(const myr_train_config *c, int64_t step) {
  double lr = c->lr;
  if (c->schedule == MYR_LR_COSINE) {
    int64_t s = step < c->schedule_steps ? step : c->schedule_steps;
    double f = (double)s / (double)c->schedule_steps;
    lr = c->lr_min + ((double)c->lr - c->lr_min) * 0.5 * (1.0 + cos_pi(f));
  } else if (c->schedule == MYR_LR_STEP) {
    lr = c->lr * pow_int(c->gamma, step / c->schedule_steps);
  }
  if (c->warmup > 0 && step < c->warmup) lr *= (double)(step + 1) / (double)c->warmup;
  return lr;
}

void myr_train_shard_gradient(const myr_net *net, const myr_train_batch *b, int k, int K,
                              float value_weight, myr_train_shard *out) {
  int64_t lo = b->n * k / K, hi = b->n * (k + 1) / K;
  memset(out->grad, 0, net->n_params * sizeof *out->grad);
  memset(&out->sums, 0, sizeof out->sums);
  myr_net_view v = myr_net_view_of(net);
  int need = myr_train_row_scratch(&net->shape);
  float stack[4096];
  float *scratch = need <= 4096 ? stack : malloc((size_t)need * sizeof *scratch);
  if (!scratch) { /* no memory: a NaN gradient, so that the update is skipped, never wrong */
    out->grad[0] = NAN;
    return;
  }
  for (int64_t i = lo; i < hi; i++) {
    myr_train_row r = myr_train_backward_row(&v, b->x + i * b->features, b->legal[i],
                                             b->policy + i * b->actions, b->value[i], value_weight,
                                             out->grad, scratch);
    out->sums.policy += r.policy;
    out->sums.value += r.value;
    out->sums.entropy += r.entropy;
    out->sums.kl += r.kl;
  }
  out->sums.samples = hi - lo;
  if (scratch != stack) free(scratch);
}

void myr_train_sum_shards(const myr_train_shard *shards, int K, size_t n_params, myr_train_shard *total) {
  memset(total->grad, 0, n_params * sizeof *total->grad);
  memset(&total->sums, 0, sizeof total->sums);
  for (int k = 0; k < K; k++) {
    const float *g = shards[k].grad;
    for (size_t i = 0; i < n_params; i++) total->grad[i] = total->grad[i] + g[i];
    total->sums.policy += shards[k].sums.policy;
    total->sums.value += shards[k].sums.value;
    total->sums.entropy += shards[k].sums.entropy;
    total->sums.kl += shards[k].sums.kl;
    total->sums.samples += shards[k].sums.samples;
  }
}

myr_status myr_train_apply(myr_net *net, myr_train_state *s, const myr_train_config *c,
                           const myr_train_shard *total, int64_t n, myr_train_stats *stats, myr_error *err) {
  myr_train_stats st;
  memset(&st, 0, sizeof st);
  if (n < 1) return myr_fail(err, MYR_ERR_INTERNAL, "train: an update over %lld samples", (long long)n);
  if (s->n_params != net->n_params)
    return myr_fail(err, MYR_ERR_INTERNAL, "train: optimizer state for %zu parameters, network has %zu",
                    s->n_params, net->n_params);
  myr_status cst = myr_train_config_check(c, err);
  if (cst != MYR_OK) return cst;
  const float nf = (float)n, l2x2 = 2.0f * c->l2;
  float *g = s->grad, *w = net->w;

  /* g = total / n + 2 l2 w (weights), |g|^2 and sum w^2 in double, parameter order. */
  double norm2 = 0.0, w2 = 0.0;
  for (int l = 0; l < net->shape.layers; l++) {
    size_t wo = myr_net_weight_offset(&net->shape, l), bo = myr_net_bias_offset(&net->shape, l);
    size_t end = myr_net_weight_offset(&net->shape, l + 1);
    for (size_t i = wo; i < end; i++) {
      float gi = total->grad[i] / nf;
      if (i < bo) {
        gi = gi + l2x2 * w[i];
        w2 += (double)w[i] * (double)w[i];
      }
      g[i] = gi;
      norm2 += (double)gi * (double)gi;
    }
  }
  st.policy = total->sums.policy / (double)n;
  st.value = total->sums.value / (double)n;
  st.entropy = total->sums.entropy / (double)n;
  st.kl = total->sums.kl / (double)n;
  st.l2 = (double)c->l2 * w2;
  st.loss = st.policy + (double)c->value_weight * st.value + st.l2;
  st.grad_norm = sqrt(norm2);
  st.lr = myr_train_lr(c, s->step);
  st.clip_scale = 1.0;
  if (!isfinite(st.loss) || !isfinite(st.grad_norm) || !isfinite(st.entropy) || !isfinite(st.kl)) {
    st.skipped = 1;
    s->skipped++;
    if (stats) *stats = st;
    return MYR_OK;
  }

  size_t P = net->n_params;
  if (c->clip > 0.0f && st.grad_norm > (double)c->clip) {
    float scale = (float)((double)c->clip / st.grad_norm);
    st.clip_scale = scale;
    for (size_t i = 0; i < P; i++) g[i] = g[i] * scale;
  }

  int64_t t = s->step + 1;
  const float b1 = c->beta1, b2 = c->beta2, eps = c->eps, lr = (float)st.lr;
  const float bc1 = (float)(1.0 - pow_int(c->beta1, t)), bc2 = (float)(1.0 - pow_int(c->beta2, t));
  const float a1 = 1.0f - b1, a2 = 1.0f - b2;
  for (size_t i = 0; i < P; i++) {
    float gi = g[i];
    float m = b1 * s->m[i] + a1 * gi;
    float v = b2 * s->v[i] + a2 * (gi * gi);
    s->m[i] = m;
    s->v[i] = v;
    w[i] = w[i] - lr * (m / bc1) / (sqrtf(v / bc2) + eps);
  }
  s->step = t;
  if (stats) *stats = st;
  return MYR_OK;
}

myr_status myr_train_update(myr_net *net, myr_train_state *s, const myr_train_config *c,
                            const myr_train_batch *b, int threads, myr_train_stats *stats, myr_error *err) {
  myr_status cst = myr_train_config_check(c, err);
  if (cst != MYR_OK) return cst;
  int L = net->shape.layers;
  if (b->features != net->shape.size[0] || b->actions != net->shape.size[L] - 1)
    return myr_fail(err, MYR_ERR_INTERNAL,
                    "train: batch of %d features and %d actions, network has %d inputs and %d actions",
                    b->features, b->actions, net->shape.size[0], net->shape.size[L] - 1);
  if (b->n < 1) return myr_fail(err, MYR_ERR_INTERNAL, "train: empty batch");
  if (c->shards != s->shards)
    return myr_fail(err, MYR_ERR_INTERNAL, "train: config has %d shards, optimizer state %d", c->shards,
                    s->shards);
  if (s->n_params != net->n_params)
    return myr_fail(err, MYR_ERR_INTERNAL, "train: optimizer state for %zu parameters, network has %zu",
                    s->n_params, net->n_params);
  int K = c->shards;
  myr_train_shard *sh = malloc((size_t)K * sizeof *sh);
  if (!sh) return myr_fail(err, MYR_ERR_NOMEM, "train: out of memory (%d shards)", K);
  for (int k = 0; k < K; k++) sh[k].grad = s->shard_grad + (size_t)k * s->n_params;
  if (threads <= 0) threads = omp_get_max_threads();
  /* Any thread may take any shard: each shard's result depends only on its samples. */
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (int k = 0; k < K; k++) myr_train_shard_gradient(net, b, k, K, c->value_weight, &sh[k]);
  /* The total goes in s->grad (myr_train_apply reads each element before it writes it). */
  myr_train_shard total = {s->grad, {0, 0, 0, 0, 0}};
  myr_train_sum_shards(sh, K, s->n_params, &total);
  free(sh);
  return myr_train_apply(net, s, c, &total, b->n, stats, err);
}
