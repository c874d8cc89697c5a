/* One training update with its gradients on the GPU (search/trainer.h, myr_train_update_cuda):
 * the same numbers as myr_train_update (search/train.h), bit for bit under --fmad=false.
 *
 * The per-sample backward pass of train.h is cut into layer-wide passes over the batch, each an
 * "ordered GEMM": C[m][n] = init + sum_t A[m][t] B[t][n] where every output is one thread's
 * float sum in t order 0, 1, 2, ... (tiles only move data through shared memory; they never
 * change which products are added in which order):
 *   forward     act_l+1[i][j] = b[j] + sum_k act_l[i][k] W[j][k], ReLU on hidden layers
 *               (myr_net_forward_row's order);
 *   output      d_L[i] from myr_train_output_delta, one thread per sample (the MYR_HD function
 *               the CPU runs);
 *   backprop    d_l[i][k] = sum_j d_l+1[i][j] W[j][k] where act_l[i][k] > 0, else 0
 *               (myr_train_backward_row's e_k, j in order);
 *   gradients   shard s, weight (j, k): sum over the shard's samples i in order of
 *               d[i][j] act[i][k] (bias: d[i][j] x 1, exact), starting from 0: what the CPU's
 *               per-sample accumulation gives; then total = shard 0 + shard 1 + ... in order.
 * Products commute bitwise (a * b == b * a in IEEE), so W d and d W are the same numbers. The
 * loss sums come back per sample and are added on the host in double, in sample order, as
 * myr_train_shard_gradient does; myr_train_apply (the host's) then does the rest. */
#include <cuda_runtime.h>
#include <stdlib.h>
#include <string.h>

#include "search/trainer.h"
#include "search/train.h"
#include "sim/cuda/check.cuh" /* CU(call): CUDA failures as myr_error */

#define CEIL_DIV(a, b) (((a) + (b) - 1) / (b))

/* ---- kernels ---------------------------------------------------------------------------------- */

#define TK 16 /* t per shared-memory stage */

enum { INIT_ZERO = 0, INIT_BIAS = 1 };
enum { EPI_NONE = 0, EPI_RELU = 1, EPI_MASK = 2 };

/* C[m * ldc + n] for m < M, n < N: A(m, t) = A[m * sam + t * sat], B(t, n) = B[t * sbt + n * sbn].
 * blockIdx.z = shard s of K: t in [T s / K, T (s + 1) / K), C at C + s * cstride. init: 0 or
 * bias[n]. Epilogue: ReLU (x > 0 ? x : 0; not on the last layer), or mask (mask[m * ldm + n] > 0
 * ? x : 0). 256 threads a block, each owning RM x RN outputs (rows ty + 16 p, columns tx + 16 q)
 * of a (16 RM) x (16 RN) tile and adding its products in t order. RM = RN = 4 (64 x 64 tiles)
 * for the passes over samples; 2 (32 x 32) for the weight gradients, whose few outputs need
 * more blocks to fill the GPU. */
template <int RM, int RN>
__global__ void __launch_bounds__(256) ordered_gemm(int M, int N, int T, int K, const float *A, long sam, long sat,
                                                    const float *B, long sbt, long sbn, float *C, long ldc,
                                                    long cstride, int init, const float *bias, int epi,
                                                    const float *mask, long ldm, int last_layer) {
  const int TM = 16 * RM, TN = 16 * RN;
  __shared__ float As[TK][16 * RM];
  __shared__ float Bs[TK][16 * RN];
  int s = blockIdx.z;
  long t0 = (long)T * s / K, t1 = (long)T * (s + 1) / K;
  int m0 = blockIdx.x * TM, n0 = blockIdx.y * TN; /* x: m (samples, up to 2^31 tiles) */
  int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
  float acc[RM][RN];
  for (int a = 0; a < RM; a++)
    for (int b = 0; b < RN; b++) {
      int n = n0 + tx + 16 * b;
      acc[a][b] = (init == INIT_BIAS && n < N) ? bias[n] : 0.0f;
    }
  for (long tt = t0; tt < t1; tt += TK) {
    for (int e = threadIdx.x; e < TK * TM; e += 256) {
      int kk = sat == 1 ? e % TK : e / TM, mm = sat == 1 ? e / TK : e % TM; /* contiguous loads */
      long t = tt + kk;
      int m = m0 + mm;
      As[kk][mm] = (t < t1 && m < M) ? A[(long)m * sam + t * sat] : 0.0f;
    }
    for (int e = threadIdx.x; e < TK * TN; e += 256) {
      int kk = sbn == 1 ? e / TN : e % TK, nn = sbn == 1 ? e % TN : e / TK;
      long t = tt + kk;
      int n = n0 + nn;
      Bs[kk][nn] = (t < t1 && n < N) ? B[t * sbt + (long)n * sbn] : 0.0f;
    }
    __syncthreads();
    int kmax = t1 - tt < TK ? (int)(t1 - tt) : TK; /* only real t: no extra + 0 products */
    for (int kk = 0; kk < kmax; kk++) {
      float a[RM], b[RN];
      for (int q = 0; q < RM; q++) a[q] = As[kk][ty + 16 * q];
      for (int q = 0; q < RN; q++) b[q] = Bs[kk][tx + 16 * q];
      for (int p = 0; p < RM; p++)
        for (int q = 0; q < RN; q++) acc[p][q] = __fadd_rn(acc[p][q], __fmul_rn(a[p], b[q]));
    }
    __syncthreads();
  }
  float *Cs = C + (long)s * cstride;
  for (int p = 0; p < RM; p++)
    for (int q = 0; q < RN; q++) {
      int m = m0 + ty + 16 * p, n = n0 + tx + 16 * q;
      if (m >= M || n >= N) continue;
      float x = acc[p][q];
      if (epi == EPI_RELU && !last_layer) x = x > 0.0f ? x : 0.0f;
      if (epi == EPI_MASK) x = mask[(long)m * ldm + n] > 0.0f ? x : 0.0f;
      Cs[(long)m * ldc + n] = x;
    }
}

/* Output errors and loss terms, one thread per sample (myr_train_output_delta). */
__global__ void output_delta(int64_t n, int A, const float *out, long stride, const uint32_t *legal,
                             const float *target, const float *z, float value_weight, float *d, float *rows) {
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    myr_train_row r = myr_train_output_delta(out + i * stride, legal[i], target + i * A, z[i], value_weight, A,
                                             d + i * stride);
    rows[4 * i + 0] = r.policy;
    rows[4 * i + 1] = r.value;
    rows[4 * i + 2] = r.entropy;
    rows[4 * i + 3] = r.kl;
  }
}

/* total[p] = shard[0][p] + shard[1][p] + ... in shard order, from 0. */
__global__ void sum_shards(int K, size_t P, const float *shard, float *total) {
  for (size_t p = (size_t)blockIdx.x * blockDim.x + threadIdx.x; p < P; p += (size_t)gridDim.x * blockDim.x) {
    float acc = 0.0f;
    for (int k = 0; k < K; k++) acc = __fadd_rn(acc, shard[(size_t)k * P + p]);
    total[p] = acc;
  }
}

__global__ void fill_ones(int64_t n, float *x) {
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
    x[i] = 1.0f;
}

/* ---- launchers -------------------------------------------------------------------------------- */

/* 64 x 64 tiles when the outputs fill the GPU that way (passes over samples), else 32 x 32. */
static cudaError_t gemm(cudaStream_t st, int M, int N, int T, int K, const float *A, long sam, long sat,
                        const float *B, long sbt, long sbn, float *C, long ldc, long cstride, int init,
                        const float *bias, int epi, const float *mask, long ldm, int last) {
  long big = (long)CEIL_DIV(M, 64) * CEIL_DIV(N, 64) * K;
  if (big >= 1024) {
    dim3 grid(CEIL_DIV(M, 64), CEIL_DIV(N, 64), K);
    ordered_gemm<4, 4><<<grid, 256, 0, st>>>(M, N, T, K, A, sam, sat, B, sbt, sbn, C, ldc, cstride, init, bias, epi,
                                             mask, ldm, last);
  } else {
    dim3 grid(CEIL_DIV(M, 32), CEIL_DIV(N, 32), K);
    ordered_gemm<2, 2><<<grid, 256, 0, st>>>(M, N, T, K, A, sam, sat, B, sbt, sbn, C, ldc, cstride, init, bias, epi,
                                             mask, ldm, last);
  }
  return cudaGetLastError();
}

/* The device workspace: one allocation carved into arrays for batches of up to `rows` samples. */
typedef struct train_gpu {
  myr_net_shape shape;
  size_t n_params;
  int shards;
  int64_t rows;
  void *base;
  float *w, *x, *policy, *value, *act, *delta, *ones, *lossrow, *shard, *total;
  uint32_t *legal;
  float *host_rows; /* [rows][4] pinned */
  cudaStream_t stream;
} train_gpu;

extern "C" void myr_train_cuda_free(void **ws) {
  train_gpu *g = (train_gpu *)*ws;
  if (!g) return;
  cudaFree(g->base);
  cudaFreeHost(g->host_rows);
  if (g->stream) cudaStreamDestroy(g->stream);
  free(g);
  *ws = NULL;
}

static int acts_width(const myr_net_shape *s) { /* floats per sample of every layer's output */
  int t = 0;
  for (int l = 1; l <= s->layers; l++) t += s->size[l];
  return t;
}

static myr_status workspace(void **ws, const myr_net *net, int shards, int64_t rows, myr_error *err) {
  train_gpu *g = (train_gpu *)*ws;
  if (g && g->rows >= rows && g->shards == shards && myr_net_shape_equal(&g->shape, &net->shape)) return MYR_OK;
  myr_train_cuda_free(ws);
  g = (train_gpu *)calloc(1, sizeof *g);
  if (!g) return myr_fail(err, MYR_ERR_NOMEM, "train: cannot allocate the GPU workspace");
  *ws = g;
  g->shape = net->shape;
  g->n_params = net->n_params;
  g->shards = shards;
  g->rows = rows;
  int L = net->shape.layers, F = net->shape.size[0], A = net->shape.size[L] - 1, W = acts_width(&net->shape);
  size_t P = net->n_params, R = (size_t)rows;
  size_t counts[] = {P, R * F, R * A, R, R * W, R * W, R, R * 4, (size_t)shards * P, P, R};
  size_t total = 0;
  for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++) total += (counts[k] + 63) / 64 * 64;
  CU(cudaMalloc(&g->base, total * sizeof(float)));
  float *p = (float *)g->base;
  float **dst[] = {&g->w, &g->x, &g->policy, &g->value, &g->act, &g->delta, &g->ones, &g->lossrow, &g->shard, &g->total};
  for (size_t k = 0; k < sizeof dst / sizeof dst[0]; k++) {
    *dst[k] = p;
    p += (counts[k] + 63) / 64 * 64;
  }
  g->legal = (uint32_t *)p;
  CU(cudaMallocHost((void **)&g->host_rows, R * 4 * sizeof(float)));
  CU(cudaStreamCreateWithFlags(&g->stream, cudaStreamNonBlocking));
  fill_ones<<<CEIL_DIV(rows, 256) < 4096 ? CEIL_DIV(rows, 256) : 4096, 256, 0, g->stream>>>(rows, g->ones);
  CU(cudaGetLastError());
  return MYR_OK;
}

/* The gradient sum of batch b in shard order into g->total, loss terms per sample into
 * g->host_rows (after the stream is synchronised). */
static myr_status gradients(train_gpu *g, const myr_net *net, const myr_train_batch *b, int K, float value_weight,
                            myr_error *err) {
  cudaStream_t st = g->stream;
  const myr_net_shape *s = &net->shape;
  int L = s->layers, F = s->size[0], A = s->size[L] - 1, W = acts_width(s);
  long n = (long)b->n;
  CU(cudaMemcpyAsync(g->w, net->w, net->n_params * sizeof(float), cudaMemcpyHostToDevice, st));
  CU(cudaMemcpyAsync(g->x, b->x, (size_t)n * F * sizeof(float), cudaMemcpyHostToDevice, st));
  CU(cudaMemcpyAsync(g->policy, b->policy, (size_t)n * A * sizeof(float), cudaMemcpyHostToDevice, st));
  CU(cudaMemcpyAsync(g->value, b->value, (size_t)n * sizeof(float), cudaMemcpyHostToDevice, st));
  CU(cudaMemcpyAsync(g->legal, b->legal, (size_t)n * sizeof(uint32_t), cudaMemcpyHostToDevice, st));
  /* Layer l's output for sample i at act + i * W + off[l] (off[0] = 0 is layer 1's). */
  long off[MYR_NET_MAX_LAYERS + 1];
  off[0] = 0;
  for (int l = 1; l <= L; l++) off[l] = off[l - 1] + s->size[l];
  for (int l = 0; l < L; l++) {
    int ni = s->size[l], no = s->size[l + 1];
    const float *in = l == 0 ? g->x : g->act + off[l - 1];
    long ldin = l == 0 ? F : W;
    const float *Wl = g->w + myr_net_weight_offset(s, l), *bl = g->w + myr_net_bias_offset(s, l);
    /* C[i][j] = b[j] + sum_k in[i][k] W[j][k] */
    CU(gemm(st, (int)n, no, ni, 1, in, ldin, 1, Wl, 1, ni, g->act + off[l], W, 0, INIT_BIAS, bl, EPI_RELU, NULL, 0,
            l == L - 1));
  }
  output_delta<<<CEIL_DIV(n, 256) < 8192 ? CEIL_DIV(n, 256) : 8192, 256, 0, st>>>(
      n, A, g->act + off[L - 1], W, g->legal, g->policy, g->value, value_weight, g->delta + off[L - 1], g->lossrow);
  CU(cudaGetLastError());
  for (int l = L - 1; l >= 1; l--) {
    int ni = s->size[l], no = s->size[l + 1];
    const float *Wl = g->w + myr_net_weight_offset(s, l);
    /* d_l[i][k] = sum_j d_l+1[i][j] W[j][k], masked by act_l[i][k] > 0 */
    CU(gemm(st, (int)n, ni, no, 1, g->delta + off[l], W, 1, Wl, ni, 1, g->delta + off[l - 1], W, 0, INIT_ZERO, NULL,
            EPI_MASK, g->act + off[l - 1], W, 0));
  }
  size_t P = net->n_params;
  for (int l = 0; l < L; l++) {
    int ni = s->size[l], no = s->size[l + 1];
    const float *in = l == 0 ? g->x : g->act + off[l - 1];
    long ldin = l == 0 ? F : W;
    const float *d = g->delta + off[l];
    float *gw = g->shard + myr_net_weight_offset(s, l), *gb = g->shard + myr_net_bias_offset(s, l);
    /* shard s: G[j][k] = sum_i d[i][j] in[i][k]; Gb[j] = sum_i d[i][j] 1 */
    CU(gemm(st, no, ni, (int)n, K, d, 1, W, in, ldin, 1, gw, ni, (long)P, INIT_ZERO, NULL, EPI_NONE, NULL, 0, 0));
    CU(gemm(st, no, 1, (int)n, K, d, 1, W, g->ones, 1, 1, gb, 1, (long)P, INIT_ZERO, NULL, EPI_NONE, NULL, 0, 0));
  }
  sum_shards<<<CEIL_DIV(P, 256) < 4096 ? CEIL_DIV(P, 256) : 4096, 256, 0, st>>>(K, P, g->shard, g->total);
  CU(cudaGetLastError());
  CU(cudaMemcpyAsync(g->host_rows, g->lossrow, (size_t)n * 4 * sizeof(float), cudaMemcpyDeviceToHost, st));
  return MYR_OK;
}

extern "C" myr_status myr_train_update_cuda(myr_net *net, myr_train_state *s, const myr_train_config *c,
                                            const myr_train_batch *b, void **ws, myr_train_stats *stats,
                                            myr_error *err) {
  myr_status cst = myr_train_config_check(c, err);
  if (cst != MYR_OK) return cst;
  int L = net->shape.layers;
  if (b->features != net->shape.size[0] || b->actions != net->shape.size[L] - 1 || b->n < 1 ||
      c->shards != s->shards || s->n_params != net->n_params)
    return myr_fail(err, MYR_ERR_INTERNAL, "train (GPU): batch, config, optimizer and network do not match");
  myr_status st = workspace(ws, net, c->shards, b->n, err);
  if (st != MYR_OK) return st;
  train_gpu *g = (train_gpu *)*ws;
  st = gradients(g, net, b, c->shards, c->value_weight, err);
  if (st != MYR_OK) return st;
  /* The total into s->grad (myr_train_apply reads each element before writing it, as on the CPU). */
  CU(cudaMemcpyAsync(s->grad, g->total, net->n_params * sizeof(float), cudaMemcpyDeviceToHost, g->stream));
  CU(cudaStreamSynchronize(g->stream));
  myr_train_shard total;
  total.grad = s->grad;
  memset(&total.sums, 0, sizeof total.sums);
  int K = c->shards;
  for (int k = 0; k < K; k++) { /* doubles: per shard in sample order, then shards in order */
    myr_train_sums sh = {0, 0, 0, 0, 0};
    int64_t lo = b->n * k / K, hi = b->n * (k + 1) / K;
    for (int64_t i = lo; i < hi; i++) {
      sh.policy += g->host_rows[4 * i + 0];
      sh.value += g->host_rows[4 * i + 1];
      sh.entropy += g->host_rows[4 * i + 2];
      sh.kl += g->host_rows[4 * i + 3];
    }
    total.sums.policy += sh.policy;
    total.sums.value += sh.value;
    total.sums.entropy += sh.entropy;
    total.sums.kl += sh.kl;
    total.sums.samples += hi - lo;
  }
  return myr_train_apply(net, s, c, &total, b->n, stats, err);
}

/* The gradient only (tests and the benchmark): total sum over the batch's K shards, as
 * myr_train_shard_gradient + myr_train_sum_shards give, into grad (host, n_params floats). */
extern "C" myr_status myr_train_gradient_cuda(const myr_net *net, const myr_train_batch *b, int K, float value_weight,
                                              void **ws, float *grad, myr_error *err) {
  myr_status st = workspace(ws, net, K, b->n, err);
  if (st != MYR_OK) return st;
  train_gpu *g = (train_gpu *)*ws;
  st = gradients(g, net, b, K, value_weight, err);
  if (st != MYR_OK) return st;
  if (grad) CU(cudaMemcpyAsync(grad, g->total, net->n_params * sizeof(float), cudaMemcpyDeviceToHost, g->stream));
  CU(cudaStreamSynchronize(g->stream));
  return MYR_OK;
}
