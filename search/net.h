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

#include "search/lowp.h" /* myr_bf16_round: the bf16 reference row */
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

/* Precision of the forward pass (network.precision). fp32: the reference, CPU and GPU give the
 * same bits. bf16: weights, inputs and hidden activations rounded to bf16 (round to nearest
 * even), products summed in fp32; on the GPU by tensor cores (mma.sync, sm_80 and newer). */
typedef enum { MYR_NET_FP32 = 0, MYR_NET_BF16 = 1 } myr_net_precision;

/* What the forward pass reads (host or device pointers). */
typedef struct myr_net_view {
  myr_net_shape shape;
  const float *w;
  int precision;   /* myr_net_precision; 0 (fp32) in a zeroed view */
  const void *w16; /* CUDA bf16 path: the weights as myr_net_pack_bf16_cuda packs them (device) */
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

/* The bf16 reference row: myr_net_forward_row with every weight, bias excepted, every input and
 * every hidden activation (after the ReLU) rounded to bf16; the products (exact in fp32) summed
 * in fp32 in the same order. The tensor-core kernel rounds the same values but sums each group
 * of 16 products in the hardware's own order, so it is close to this, not equal (tests/net). */
MYR_HD static inline void myr_net_forward_row_bf16(const myr_net_view *n, const float *x, float *out, float *scratch) {
  float *buf[3] = {scratch, scratch + MYR_NET_MAX_WIDTH, scratch};
  const float *w = n->w;
  const float *in = buf[2];
  for (int k = 0; k < n->shape.size[0]; k++) buf[2][k] = myr_bf16_round(x[k]);
  for (int l = 0; l < n->shape.layers; l++) {
    int ni = n->shape.size[l], no = n->shape.size[l + 1];
    const float *W = w, *b = w + (size_t)no * (size_t)ni;
    int last = l == n->shape.layers - 1;
    float *o = last ? out : buf[(l + 1) & 1];
    for (int j = 0; j < no; j++) {
      float acc = b[j];
      const float *row = W + (size_t)j * (size_t)ni;
      for (int k = 0; k < ni; k++) acc = acc + myr_bf16_round(row[k]) * in[k];
      o[j] = last ? acc : myr_bf16_round(acc > 0.0f ? acc : 0.0f);
    }
    w = b + no;
    in = o;
  }
}

/* Batched forward on the CPU (OpenMP over rows; threads <= 0: OpenMP's default):
 * out[b * outputs ...] = forward(x[b * inputs ...]) for b < rows. Identical bits for any thread
 * count and batch split. n->precision bf16: myr_net_forward_row_bf16 per row. */
void myr_net_forward_cpu(const myr_net_view *n, const float *x, float *out, int64_t rows, int threads);

#ifdef MYRIAD_HAVE_CUDA
/* Batched forward on the current CUDA device (search/net.cu): n->w, x [rows][inputs] and
 * out [rows][outputs] are device pointers, stream a cudaStream_t (NULL: the default stream).
 * Asynchronous; returns the launch's cudaError_t (0 = success): cudaErrorInvalidValue for an
 * invalid shape, cudaErrorInvalidConfiguration when the widest input/hidden layer does not fit
 * the device's shared memory (16.5 KiB + 64 bytes per unit of width with 8-row tiles: every
 * valid shape fits on sm_80 and newer). Each output has the bits of myr_net_forward_row. */
int myr_net_forward_cuda(const myr_net_view *n, const float *x, float *out, int64_t rows, void *stream);
/* The same over min(rows, *count) rows, *count read on the device when the kernels run (count a
 * device pointer, NULL: all rows): a caller that leaves its row count on the device launches
 * for at most `rows` without waiting for it. Rows past *count are neither read nor written. */
int myr_net_forward_cuda_count(const myr_net_view *n, const float *x, float *out, int64_t rows, const int64_t *count,
                               void *stream);

/* The bf16 path (n->precision MYR_NET_BF16, n->w16 set): every input and hidden width at most
 * MYR_NET_BF16_MAX_WIDTH, outputs at most MYR_NET_BF16_MAX_WIDTH, a device of compute
 * capability 8.0 or newer (older ones: cudaErrorInvalidDeviceFunction, with
 * myr_net_bf16_check saying so first). A warp takes 16 or 32 rows; each layer is a sequence of
 * mma.sync m16n8k16 over the inputs in 16-wide steps 0, 1, 2, ... (a fixed order, never split
 * over the batch), starting from the bias; the activations stay in registers between layers.
 * A row's outputs depend only on the row and the weights: not on the batch size or the row's
 * position in it. */
/* Device bytes of the packed bf16 weights of shape s. */
size_t myr_net_bf16_bytes(const myr_net_shape *s);
/* Packs the fp32 device weights n->w into dst (myr_net_bf16_bytes(&n->shape) device bytes):
 * each layer's W in the mma B-fragment order, rounded to bf16, zero-padded, then its bias in
 * fp32. Asynchronous on `stream`; returns a cudaError_t. */
int myr_net_pack_bf16_cuda(const myr_net_view *n, void *dst, void *stream);
#endif

#define MYR_NET_BF16_MAX_WIDTH 256 /* widest layer of the bf16 path (registers per warp) */
/* MYR_OK when shape s can run the bf16 path (widths) on this build and, with CUDA, on the
 * current device (compute capability 8.0+); otherwise says why. */
myr_status myr_net_bf16_check(const myr_net_shape *s, int cuda, myr_error *err);

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
