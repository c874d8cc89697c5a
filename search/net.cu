/* The policy-value network's forward pass on a CUDA device (search/net.h), fused over all
 * layers: a block takes a tile of rows, keeps their activations in shared memory from the input
 * to the last hidden layer, and stages each layer's weights through shared memory in chunks of
 * 32 inputs x 128 outputs (transposed, padded: conflict-free reads). A thread owns a few rows
 * x outputs and sums each output in exactly myr_net_forward_row's order: the bias, then
 * inputs 0, 1, 2, ... across the chunks, with __fmul_rn / __fadd_rn (never a fused
 * multiply-add), and applies the same ReLU; so every output has the same bits as on the CPU
 * (DESIGN §4.5, §4.6), whatever the batch size or a row's position.
 *
 * Owns nothing: weights, inputs and outputs are the caller's device memory. */
#include <cuda_runtime.h>

#include "search/net.h"

#define CEIL_DIV(a, b) (((a) + (b) - 1) / (b))

namespace {

constexpr int THREADS = 256;          /* 8 warps */
constexpr int WARPS = THREADS / 32;
constexpr int JT = 4;                 /* outputs per lane in a chunk: lane, lane + 32, ... */
constexpr int JC = 32 * JT;           /* outputs per chunk */
constexpr int KC = 32;                /* inputs per staged weight chunk */
constexpr int WLD = JC + 1;           /* staged weights: [KC][WLD], padded against bank conflicts */

/* Shared memory of a tile of `tile` rows whose widest activation (input or hidden) is lda. */
inline size_t smem_bytes(int tile, int lda) {
  return sizeof(float) * ((size_t)KC * WLD + 2 * (size_t)tile * (size_t)lda);
}

/* RT rows per warp: a tile of RT * WARPS rows, row r of the tile in warp r % WARPS. */
template <int RT>
__global__ void __launch_bounds__(THREADS) forward_kernel(myr_net_shape s, const float *__restrict__ w,
                                                          const float *__restrict__ x, float *__restrict__ out,
                                                          int64_t rows, int lda) {
  constexpr int TR = RT * WARPS;
  extern __shared__ float smem[];
  float *wt = smem;                 /* [KC][WLD]: W[j0 + jj][k0 + kk] at kk * WLD + jj */
  float *act0 = wt + KC * WLD;      /* [TR][lda]: input, then layers 2, 4, ... */
  float *act1 = act0 + TR * lda;    /* [TR][lda]: layers 1, 3, ... */
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int64_t row0 = (int64_t)blockIdx.x * TR;

  const int n0 = s.size[0];
  for (int i = threadIdx.x; i < TR * n0; i += THREADS) { /* the tile's inputs, coalesced */
    int r = i / n0, k = i - r * n0;
    act0[r * lda + k] = row0 + r < rows ? x[(row0 + r) * n0 + k] : 0.0f;
  }

  const float *wl = w;
  for (int l = 0; l < s.layers; l++) {
    const int ni = s.size[l], no = s.size[l + 1];
    const bool last = l == s.layers - 1;
    const float *W = wl, *b = wl + (size_t)no * (size_t)ni;
    const float *ain = (l & 1) ? act1 : act0;
    float *aout = (l & 1) ? act0 : act1;
    for (int j0 = 0; j0 < no; j0 += JC) {
      const int jn = min(JC, no - j0), jtn = CEIL_DIV(jn, 32); /* uniform over the block */
      float acc[RT][JT];
#pragma unroll
      for (int jt = 0; jt < JT; jt++) {
        int j = j0 + lane + 32 * jt;
        float bj = j < no ? b[j] : 0.0f;
#pragma unroll
        for (int r = 0; r < RT; r++) acc[r][jt] = bj;
      }
      for (int k0 = 0; k0 < ni; k0 += KC) {
        const int kn = min(KC, ni - k0);
        __syncthreads(); /* the last chunk's readers are done; the tile's activations are written */
        for (int i = threadIdx.x; i < KC * JC; i += THREADS) {
          int jj = i / KC, kk = i - jj * KC; /* a warp reads 32 consecutive inputs of one output */
          wt[kk * WLD + jj] = (jj < jn && kk < kn) ? W[(size_t)(j0 + jj) * ni + k0 + kk] : 0.0f;
        }
        __syncthreads();
        for (int kk = 0; kk < kn; kk++) {
          float a[RT];
#pragma unroll
          for (int r = 0; r < RT; r++) a[r] = ain[(warp + WARPS * r) * lda + k0 + kk]; /* broadcast */
#pragma unroll
          for (int jt = 0; jt < JT; jt++) {
            if (jt < jtn) {
              float wv = wt[kk * WLD + lane + 32 * jt];
#pragma unroll
              for (int r = 0; r < RT; r++) acc[r][jt] = __fadd_rn(acc[r][jt], __fmul_rn(wv, a[r]));
            }
          }
        }
      }
#pragma unroll
      for (int jt = 0; jt < JT; jt++) {
        int j = j0 + lane + 32 * jt;
        if (j >= no) continue;
#pragma unroll
        for (int r = 0; r < RT; r++) {
          int rr = warp + WARPS * r;
          if (last) {
            if (row0 + rr < rows) out[(row0 + rr) * no + j] = acc[r][jt];
          } else {
            aout[rr * lda + j] = acc[r][jt] > 0.0f ? acc[r][jt] : 0.0f; /* ReLU, as the row */
          }
        }
      }
    }
    wl = b + no;
  }
}

template <int RT>
int launch(const myr_net_view *n, const float *x, float *out, int64_t rows, int lda, cudaStream_t stream) {
  const int tile = RT * WARPS;
  const size_t bytes = smem_bytes(tile, lda);
  cudaError_t e = cudaFuncSetAttribute(forward_kernel<RT>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bytes);
  if (e != cudaSuccess) return (int)e;
  const int64_t blocks = CEIL_DIV(rows, (int64_t)tile);
  if (blocks > 0x7fffffff) return (int)cudaErrorInvalidConfiguration;
  forward_kernel<RT><<<(unsigned)blocks, THREADS, bytes, stream>>>(n->shape, n->w, x, out, rows, lda);
  return (int)cudaGetLastError();
}

} // namespace

extern "C" int myr_net_forward_cuda(const myr_net_view *n, const float *x, float *out, int64_t rows, void *stream) {
  const myr_net_shape *s = &n->shape;
  if (s->layers < 1 || s->layers > MYR_NET_MAX_LAYERS) return (int)cudaErrorInvalidValue;
  int lda = 1;
  for (int l = 0; l <= s->layers; l++) {
    if (s->size[l] < 1 || s->size[l] > MYR_NET_MAX_WIDTH) return (int)cudaErrorInvalidValue;
    if (l < s->layers && s->size[l] > lda) lda = s->size[l];
  }
  if (rows <= 0) return (int)cudaSuccess;
  int dev = 0, most = 0;
  cudaError_t e = cudaGetDevice(&dev);
  if (e == cudaSuccess) e = cudaDeviceGetAttribute(&most, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev);
  if (e != cudaSuccess) return (int)e;
  /* The tallest tile that fits: 32 rows (most shapes), 16 or 8 for wide layers. */
  cudaStream_t st = (cudaStream_t)stream;
  if (smem_bytes(4 * WARPS, lda) <= (size_t)most) return launch<4>(n, x, out, rows, lda, st);
  if (smem_bytes(2 * WARPS, lda) <= (size_t)most) return launch<2>(n, x, out, rows, lda, st);
  if (smem_bytes(1 * WARPS, lda) <= (size_t)most) return launch<1>(n, x, out, rows, lda, st);
  return (int)cudaErrorInvalidConfiguration;
}
