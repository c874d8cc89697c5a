/* The policy-value network (DESIGN §7): an MLP with ReLU hidden layers and one output layer of
 * n_actions policy logits and one value. Weights live in one flat float buffer: for each
 * layer l, W_l as [out][in] row-major, then b_l [out].
 *
 * myr_net_forward_row is the one definition of the forward pass: MYR_HD, fp32, each output a
 * sum in a fixed order (bias, then inputs 0, 1, 2, ...), no fused multiply-add, so a row's
 * result depends on nothing but the row and the weights: not on the batch, its size, the
 * row's position, the thread count or the backend (DESIGN §4.5). The batched CPU loop
 * (net.c) and the CUDA kernel (net.cu) both run it; the optional bf16 tensor-core path keeps
 * the same per-row rule and is checked against it with a stated tolerance. */
#ifndef MYR_NET_H
#define MYR_NET_H

#include <stddef.h>
#include <stdint.h>

#include "sim/hd.h"
#include "sim/mathf.h" /* myr_expf: the prior */
#include "sim/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MYR_NET_MAX_LAYERS 8   /* weight layers: hidden layers + the output layer */
#define MYR_NET_MAX_WIDTH 1024 /* widest layer */

typedef struct myr_net_shape {
  int layers;                       /* weight layers (hidden + 1) */
  int size[MYR_NET_MAX_LAYERS + 1]; /* size[0] inputs, ..., size[layers] = n_actions + 1 */
} myr_net_shape;

/* What the forward pass reads (host or device pointer). */
typedef struct myr_net_view {
  myr_net_shape shape;
  const float *w;
} myr_net_view;

/* A network on the host: owns w (myr_net_free). */
typedef struct myr_net {
  myr_net_shape shape;
  float *w;
  size_t n_params;
} myr_net;

/* inputs, hidden sizes (n_hidden of them), actions: the shape of an MLP. */
myr_status myr_net_shape_make(myr_net_shape *s, int inputs, const int *hidden, int n_hidden, int actions,
                              myr_error *err);
size_t myr_net_param_count(const myr_net_shape *s);
/* Offset of layer l's W and b in the flat buffer. */
size_t myr_net_weight_offset(const myr_net_shape *s, int l);
size_t myr_net_bias_offset(const myr_net_shape *s, int l);

/* He-uniform weights and zero biases from myr_rng (seed), the same on every machine. */
myr_status myr_net_create(myr_net *net, const myr_net_shape *s, uint32_t seed, myr_error *err);
void myr_net_free(myr_net *net);
myr_net_view myr_net_view_of(const myr_net *net);

/* HDF5: /network/weights (f32 [n_params]) with attributes layers and sizes, in a file or in
 * an open group (checkpoints). Load checks the shape against `expect` when not NULL. */
myr_status myr_net_save(const myr_net *net, const char *path, myr_error *err);
myr_status myr_net_load(myr_net *net, const char *path, const myr_net_shape *expect, myr_error *err);
/* The same under an open HDF5 file or group `loc` (an hid_t): writes or reads loc/network.
 * `file` names the file in messages. Read: *net is filled (caller frees with myr_net_free);
 * on failure it is left empty (w NULL). Save writes "<path>.part" and renames it. */
myr_status myr_net_write_h5(const myr_net *net, int64_t loc, const char *file, myr_error *err);
myr_status myr_net_read_h5(myr_net *net, int64_t loc, const myr_net_shape *expect, const char *file,
                           myr_error *err);

#define MYR_NET_SHAPE_STR 64 /* enough for any valid shape: 9 sizes of up to 4 digits */
/* "16-128-128-10" into buf (n bytes; MYR_NET_SHAPE_STR is always enough); returns buf. */
char *myr_net_shape_str(const myr_net_shape *s, char *buf, size_t n);
/* 1 when a and b have the same layers and sizes. */
int myr_net_shape_equal(const myr_net_shape *a, const myr_net_shape *b);

/* One row: out[size[layers]] = logits (n_actions) then value. scratch: 2 * MYR_NET_MAX_WIDTH. */
MYR_HD static inline void myr_net_forward_row(const myr_net_view *n, const float *x, float *out, float *scratch) {
  const float *in = x;
  float *buf[2] = {scratch, scratch + MYR_NET_MAX_WIDTH};
  const float *w = n->w;
  for (int l = 0; l < n->shape.layers; l++) {
    int ni = n->shape.size[l], no = n->shape.size[l + 1];
    const float *W = w, *b = w + (size_t)no * (size_t)ni;
    float *o = l == n->shape.layers - 1 ? out : buf[l & 1];
    for (int j = 0; j < no; j++) {
      float acc = b[j];
      const float *row = W + (size_t)j * (size_t)ni;
      for (int k = 0; k < ni; k++) acc = acc + row[k] * in[k];
      o[j] = (l == n->shape.layers - 1 || acc > 0.0f) ? acc : 0.0f; /* ReLU on hidden layers */
    }
    w = b + no;
    in = o;
  }
}

/* Batched forward on the CPU (OpenMP over rows; threads <= 0: OpenMP's default):
 * out[b * outputs ...] = forward(x[b * inputs ...]) for b < rows. Identical bits for any thread
 * count and batch split. */
void myr_net_forward_cpu(const myr_net_view *n, const float *x, float *out, int64_t rows, int threads);

#ifdef MYRIAD_HAVE_CUDA
/* Batched forward on the current CUDA device (search/net.cu): n->w, x [rows][inputs] and
 * out [rows][outputs] are device pointers, stream a cudaStream_t (NULL: the default stream).
 * Asynchronous; returns the launch's cudaError_t (0 = success): cudaErrorInvalidValue for an
 * invalid shape, cudaErrorInvalidConfiguration when the widest input/hidden layer does not fit
 * the device's shared memory (16.5 KiB + 64 bytes per unit of width with 8-row tiles: every
 * valid shape fits on sm_80 and newer). Each output has the bits of myr_net_forward_row. */
int myr_net_forward_cuda(const myr_net_view *n, const float *x, float *out, int64_t rows, void *stream);
#endif

/* Softmax of logits over the legal actions (bit a of legal, actions <= 32), with myr_expf:
 * the prior. prior[a] = e^(logit[a] - max) / sum over legal b of e^(logit[b] - max), the max
 * taken over legal actions and the sum in action order 0, 1, 2, ... (fixed, so CPU and GPU agree
 * bitwise); illegal actions get exactly 0, and all actions get 0 when none is legal. */
MYR_HD static inline void myr_net_prior(const float *logits, uint32_t legal, int actions, float *prior) {
  float mx = 0.0f;
  int any = 0;
  for (int a = 0; a < actions; a++)
    if ((legal >> a) & 1u) {
      if (!any || logits[a] > mx) mx = logits[a];
      any = 1;
    }
  float sum = 0.0f;
  for (int a = 0; a < actions; a++) {
    float e = ((legal >> a) & 1u) ? myr_expf(logits[a] - mx) : 0.0f;
    prior[a] = e;
    sum = sum + e;
  }
  if (!any) return;
  for (int a = 0; a < actions; a++) prior[a] = prior[a] / sum; /* sum >= 1: the max gives e^0 */
}

#ifdef __cplusplus
}
#endif

#endif
