/* The trainer's numerical core (DESIGN §7): the loss of the policy-value network (search/net.h)
 * on a batch of samples, its gradient, and one Adam update, computed so that the new weights are
 * bit-identical whatever the assignment of shards to threads, workers or (later) GPUs.
 *
 * Loss of one update over a batch of n samples (features x, legal mask, policy target t, value
 * target z):
 *   L = 1/n sum_i [ CE_i + value_weight (v_i - z_i)^2 ] + l2 sum_w w^2   (weights, not biases)
 *   CE_i = -sum_{a legal} t[a] log p[a],  p = softmax of the logits over the legal actions
 *          (log p[a] = (logit[a] - max) - log sum_b e^(logit[b] - max), with myr_expf/myr_logf;
 *          targets on illegal actions are ignored; a sample with no legal action has CE = 0).
 * Reported (means over the batch): policy = CE, value = (v - z)^2 (without value_weight),
 * entropy = -sum p log p of the prior, kl = KL(target || prior) = sum_{t>0} t (log t - log p).
 *
 * Determinism (DESIGN §4.4): the batch is split into K virtual shards of fixed shape, shard k =
 * samples [k n / K, (k+1) n / K). A shard's gradient is the float sum of its samples' gradients
 * in sample order (grad = grad + d, starting from 0; the per-sample gradient is
 * myr_train_backward_row, each weight receiving one product per sample); its loss sums are
 * doubles, also in sample order. The total is the float sum of the shard gradients in shard order
 * 0, 1, ..., K-1 (doubles for the loss sums). Neither depends on which thread or machine computed
 * which shard. No fused multiply-add anywhere (C11 does not contract; CUDA builds use
 * --fmad=false).
 *
 * The update (myr_train_apply): g = total / n (float division) + 2 l2 w for weights; global norm
 * |g| in double, in parameter order; a non-finite loss or norm (any NaN/inf in the gradient)
 * skips the update: weights and Adam state stay untouched and the state's skipped count grows.
 * Otherwise g is scaled by clip / |g| when clip > 0 and |g| > clip, and Adam with bias
 * correction moves the weights (float):
 *   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g g;  t = applied updates so far + 1
 *   w = w - lr_t (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
 * with b^t by repeated squaring in double and lr_t from the schedule (myr_train_lr).
 * Everything per update on the host is a pure function of (weights, state, config, batch). */
#ifndef MYR_TRAIN_H
#define MYR_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "search/net.h" // myr_net: the network trained; myr_net_forward_row's order
#include "sim/hd.h"
#include "sim/mathf.h" // myr_expf, myr_logf: the log-softmax
#include "sim/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Learning-rate schedules, as functions of s = updates applied so far (0 at the first update):
 *   constant: lr
 *   cosine:   lr_min + (lr - lr_min) (1 + cos(pi min(s, steps) / steps)) / 2  (steps = schedule_steps)
 *   step:     lr gamma^floor(s / steps)
 * then, when warmup > 0 and s < warmup, times (s + 1) / warmup. */
typedef enum { MYR_LR_CONSTANT = 0, MYR_LR_COSINE = 1, MYR_LR_STEP = 2 } myr_lr_schedule;

/* The trainer's numbers. Initialise from MYR_TRAIN_CONFIG_DEFAULTS and change what differs. */
typedef struct myr_train_config {
  int batch_size;           /* samples per update (the global batch) */
  int shards;               /* K virtual shards per batch: fixed, whatever the worker count */
  float lr;                 /* peak learning rate */
  myr_lr_schedule schedule; /* constant | cosine | step */
  int64_t schedule_steps;   /* cosine: updates to reach lr_min; step: updates per step */
  float lr_min;             /* cosine: the floor */
  float gamma;              /* step: factor per step */
  int64_t warmup;           /* linear warmup over this many updates (0: none) */
  float value_weight;       /* weight of the value MSE in the loss */
  float l2;                 /* weight of sum w^2 over weights (not biases) */
  float clip;               /* global-norm clipping threshold (0: off) */
  float beta1, beta2, eps;  /* Adam */
} myr_train_config;

#define MYR_TRAIN_CONFIG_DEFAULTS                                                          \
  {                                                                                      \
    /*batch_size*/ 256, /*shards*/ 8, /*lr*/ 1e-3f, /*schedule*/ MYR_LR_CONSTANT,         \
    /*schedule_steps*/ 10000, /*lr_min*/ 0.0f, /*gamma*/ 0.5f, /*warmup*/ 0,              \
    /*value_weight*/ 1.0f, /*l2*/ 1e-4f, /*clip*/ 1.0f, /*beta1*/ 0.9f, /*beta2*/ 0.999f, \
    /*eps*/ 1e-8f                                                                        \
  }

/* Checks every number of c (ranges in the message). */
myr_status myr_train_config_check(const myr_train_config *c, myr_error *err);

/* A batch of n samples (read-only; the caller owns the arrays). */
typedef struct myr_train_batch {
  int64_t n;
  int features, actions;  /* must be the net's inputs and n_actions */
  const float *x;         /* [n][features] */
  const uint32_t *legal;  /* [n]: bit a set when action a is legal */
  const float *policy;    /* [n][actions]: target distribution over the legal actions */
  const float *value;     /* [n]: value target */
} myr_train_batch;

/* One sample's loss terms (float; the CPU loop sums them in double). */
typedef struct myr_train_row {
  float policy;  /* CE = -sum_{a legal} t[a] log p[a] */
  float value;   /* (v - z)^2 */
  float entropy; /* -sum p log p over legal actions */
  float kl;      /* KL(target || prior) */
} myr_train_row;

/* Loss sums of a shard or a batch (double, accumulated in sample order, then shard order). */
typedef struct myr_train_sums {
  double policy, value, entropy, kl;
  int64_t samples;
} myr_train_sums;

/* A shard's (or the total's) gradient sum, n_params floats owned by the caller, and loss sums. */
typedef struct myr_train_shard {
  float *grad;
  myr_train_sums sums;
} myr_train_shard;

/* Adam state and workspaces: one allocation carved into pointers, freed by _free. */
typedef struct myr_train_state {
  size_t n_params;
  int shards;
  float *m, *v;       /* Adam moments [n_params] */
  float *grad;        /* after an applied update: the gradient Adam used (clipped) */
  float *shard_grad;  /* [shards][n_params]: myr_train_update's shard gradients */
  int64_t step;       /* updates applied (Adam's t before the next update) */
  int64_t skipped;    /* updates skipped for a non-finite loss or gradient */
} myr_train_state;

/* What one update did. */
typedef struct myr_train_stats {
  double policy, value, entropy, kl; /* batch means (see the top of this file) */
  double l2;                         /* l2 sum w^2 before the update */
  double loss;                       /* policy + value_weight value + l2 */
  double grad_norm;                  /* global norm of g before clipping */
  double clip_scale;                 /* factor applied to g (1: not clipped) */
  double lr;                         /* lr_t used */
  int skipped;                       /* 1: non-finite, nothing changed */
} myr_train_stats;

/* Zeroed moments and counters for `net` and `shards` shards; free with myr_train_state_free. */
myr_status myr_train_state_create(myr_train_state *s, const myr_net *net, int shards, myr_error *err);
void myr_train_state_free(myr_train_state *s);

/* The learning rate for the update that follows `step` applied updates. */
double myr_train_lr(const myr_train_config *c, int64_t step);

/* Samples [k n / K, (k+1) n / K) of the batch: out->grad (n_params floats, overwritten) gets the
 * sum of their gradients in sample order, out->sums their loss sums. The batch's shape must match
 * the net's (myr_train_update checks it). Thread-safe: reads net and batch only. */
void myr_train_shard_gradient(const myr_net *net, const myr_train_batch *b, int k, int K,
                              float value_weight, myr_train_shard *out);

/* total = shards[0] + shards[1] + ... + shards[K-1], elementwise in that order (total->grad,
 * n_params floats, may not alias a shard). */
void myr_train_sum_shards(const myr_train_shard *shards, int K, size_t n_params, myr_train_shard *total);

/* One update from a total gradient sum over n samples (see the top of this file). Writes
 * net->w, s->m, s->v, s->grad and the counters; *stats gets what happened (may be NULL). */
myr_status myr_train_apply(myr_net *net, myr_train_state *s, const myr_train_config *c,
                           const myr_train_shard *total, int64_t n, myr_train_stats *stats, myr_error *err);

/* One full update: the c->shards shard gradients (OpenMP over shards, `threads` threads; <= 0:
 * OpenMP's default), their sum in shard order, myr_train_apply. c->shards must equal s->shards. */
myr_status myr_train_update(myr_net *net, myr_train_state *s, const myr_train_config *c,
                            const myr_train_batch *b, int threads, myr_train_stats *stats, myr_error *err);

/* ---- per sample (MYR_HD: the CPU loop here and, later, CUDA kernels) -------------------- */

/* Floats of scratch myr_train_backward_row needs: every layer's output, then two rows of the
 * widest layer for the back-propagated error. */
MYR_HD static inline int myr_train_row_scratch(const myr_net_shape *s) {
  int total = 0, widest = 0;
  for (int l = 1; l <= s->layers; l++) {
    total += s->size[l];
    if (s->size[l] > widest) widest = s->size[l];
  }
  return total + 2 * widest;
}

/* The loss terms of one sample and the error at the output layer, from its outputs `out`
 * (A logits, then the value): d[a] = p[a] T - t[a] for legal a (T = sum of the legal targets),
 * 0 for illegal a, d[A] = 2 value_weight (v - z). The one definition, shared by
 * myr_train_backward_row and the GPU's per-sample kernel (search/train.cu). */
MYR_HD static inline myr_train_row myr_train_output_delta(const float *out, uint32_t legal, const float *target,
                                                         float z, float value_weight, int A, float *d) {
  myr_train_row r;
  r.policy = 0.0f;
  r.entropy = 0.0f;
  r.kl = 0.0f;
  float mx = 0.0f, tsum = 0.0f;
  int any = 0;
  for (int a = 0; a < A; a++)
    if ((legal >> a) & 1u) {
      if (!any || out[a] > mx) mx = out[a];
      any = 1;
      tsum = tsum + target[a];
    }
  float s = 0.0f;
  for (int a = 0; a < A; a++)
    if ((legal >> a) & 1u) s = s + myr_expf(out[a] - mx);
  float logs = any ? myr_logf(s) : 0.0f;
  for (int a = 0; a < A; a++) {
    if (!((legal >> a) & 1u)) {
      d[a] = 0.0f;
      continue;
    }
    float e = myr_expf(out[a] - mx);
    float p = e / s;
    float logp = (out[a] - mx) - logs;
    float t = target[a];
    r.policy = r.policy - t * logp;
    r.entropy = r.entropy - p * logp;
    if (t > 0.0f) r.kl = r.kl + t * (myr_logf(t) - logp);
    d[a] = p * tsum - t;
  }
  float dv = out[A] - z;
  r.value = dv * dv;
  d[A] = 2.0f * value_weight * dv;

  return r;
}

/* One sample: the forward pass in myr_net_forward_row's order (same bits), the loss terms, and
 * grad[i] = grad[i] + dloss_i / dw_i for every parameter, loss_i = CE + value_weight (v - z)^2.
 * Per layer from the last: bias j gets d_j, weight (j, k) gets d_j in_k (in row-major order), the
 * error passed down is e_k = sum_j W[j][k] d_j (j = 0, 1, ...) where in_k > 0, else 0 (ReLU).
 * At the output d_a = p[a] T - t[a] for legal a (T = sum of the legal targets), 0 for illegal a,
 * and d_value = 2 value_weight (v - z). scratch: myr_train_row_scratch(&n->shape) floats. */
MYR_HD static inline myr_train_row myr_train_backward_row(const myr_net_view *n, const float *x, uint32_t legal,
                                                         const float *target, float z, float value_weight,
                                                         float *grad, float *scratch) {
  const int L = n->shape.layers;
  const int A = n->shape.size[L] - 1;
  int widest = 0, acts = 0;
  for (int l = 1; l <= L; l++) {
    acts += n->shape.size[l];
    if (n->shape.size[l] > widest) widest = n->shape.size[l];
  }
  float *dbuf[2] = {scratch + acts, scratch + acts + widest};

  /* Forward, keeping every layer's output: act(l) = scratch + sum_{i<l} size[i+1]. */
  {
    const float *in = x, *w = n->w;
    float *o = scratch;
    for (int l = 0; l < L; l++) {
      int ni = n->shape.size[l], no = n->shape.size[l + 1];
      const float *W = w, *b = w + (size_t)no * (size_t)ni;
      for (int j = 0; j < no; j++) {
        float acc = b[j];
        const float *row = W + (size_t)j * (size_t)ni;
        for (int k = 0; k < ni; k++) acc = acc + row[k] * in[k];
        o[j] = (l == L - 1 || acc > 0.0f) ? acc : 0.0f;
      }
      w = b + no;
      in = o;
      o += no;
    }
  }
  float *out = scratch + acts - (A + 1);
  float *d = dbuf[0];

  /* Loss and output error. */
  myr_train_row r = myr_train_output_delta(out, legal, target, z, value_weight, A, d);

  /* Backward, from the output layer down. */
  size_t off = 0; /* end of layer l's parameters, walking down */
  for (int l = 0; l < L; l++) off += (size_t)n->shape.size[l + 1] * ((size_t)n->shape.size[l] + 1);
  int act_end = acts - (A + 1); /* start of layer l's output in scratch */
  for (int l = L - 1; l >= 0; l--) {
    int ni = n->shape.size[l], no = n->shape.size[l + 1];
    size_t woff = off - (size_t)no * ((size_t)ni + 1), boff = woff + (size_t)no * (size_t)ni;
    const float *in = l ? scratch + (act_end - ni) : x;
    float *gW = grad + woff, *gb = grad + boff;
    const float *W = n->w + woff;
    for (int j = 0; j < no; j++) {
      float dj = d[j];
      gb[j] = gb[j] + dj;
      float *g = gW + (size_t)j * (size_t)ni;
      for (int k = 0; k < ni; k++) g[k] = g[k] + dj * in[k];
    }
    if (l > 0) {
      float *dn = d == dbuf[0] ? dbuf[1] : dbuf[0];
      for (int k = 0; k < ni; k++) {
        float acc = 0.0f;
        if (in[k] > 0.0f)
          for (int j = 0; j < no; j++) acc = acc + W[(size_t)j * (size_t)ni + (size_t)k] * d[j];
        dn[k] = acc;
      }
      d = dn;
      act_end -= ni;
    }
    off = woff;
  }
  return r;
}

#ifdef __cplusplus
}
#endif

#endif
