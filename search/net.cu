/* The policy-value network's forward pass on a CUDA device (search/net.h), fused over all
 * layers: a block takes a tile of rows, keeps their activations in shared memory from the input
 * to the last hidden layer, and stages each layer's weights through shared memory in chunks of
 * 32 inputs x 128 outputs (transposed, padded: conflict-free reads). A thread owns a few rows
 * x outputs, reads each row's activations four inputs at a time (one broadcast 16-byte read:
 * the fp32 path, without FMA, is bound by shared-memory reads per multiply-add as much as by
 * the adds), and sums each output in exactly myr_net_forward_row's order: the bias, then
 * inputs 0, 1, 2, ... across the chunks, with __fmul_rn / __fadd_rn (never a fused
 * multiply-add), and applies the same ReLU; so every output has the same bits as on the CPU
 * (DESIGN §4.5, §4.6), whatever the batch size or a row's position.
 *
 * The bf16 path (net.h: MYR_NET_BF16) runs on tensor cores: mma.sync m16n8k16, bf16 inputs,
 * fp32 accumulators. A warp owns 16 or 32 rows; the weights are packed once
 * (myr_net_pack_bf16_cuda) into the order of mma's B fragments, so a warp reads each 16 x 8
 * block of W as one coalesced 256-byte load (from L1/L2: 41 KB for 16-128-128-10); a layer's
 * fp32 results, after bias and ReLU, are rounded to bf16 and are already laid out as the
 * next layer's A fragments, so activations never leave registers. Per row the sums run over
 * the inputs in 16-wide steps 0, 1, 2, ... from the bias, the same for every row whatever the
 * batch: the per-row rule holds (not the CPU's bits: the hardware orders the 16 products of a
 * step its own way).
 *
 * Owns nothing: weights, inputs and outputs are the caller's device memory. */
#include <cuda_bf16.h>
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
                                                          int64_t rows, const int64_t *__restrict__ count, int lda) {
  constexpr int TR = RT * WARPS;
  if (count && *count < rows) rows = *count; /* a row count the caller left on the device */
  extern __shared__ float smem[];
  float *wt = smem;                 /* [KC][WLD]: W[j0 + jj][k0 + kk] at kk * WLD + jj */
  float *act0 = wt + KC * WLD;      /* [TR][lda]: input, then layers 2, 4, ... */
  float *act1 = act0 + TR * lda;    /* [TR][lda]: layers 1, 3, ... */
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int64_t row0 = (int64_t)blockIdx.x * TR;
  if (row0 >= rows) return; /* block-uniform: the whole tile lies past the rows */

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
        const int kn4 = kn & ~3;
        int kk = 0;
        for (; kk < kn4; kk += 4) { /* four inputs per broadcast 16-byte read of each row */
          float4 a4[RT];
#pragma unroll
          for (int r = 0; r < RT; r++)
            a4[r] = *reinterpret_cast<const float4 *>(ain + (warp + WARPS * r) * lda + k0 + kk);
#pragma unroll
          for (int u = 0; u < 4; u++) { /* inputs kk, kk + 1, kk + 2, kk + 3: still in order */
#pragma unroll
            for (int jt = 0; jt < JT; jt++) {
              if (jt < jtn) {
                float wv = wt[(kk + u) * WLD + lane + 32 * jt];
#pragma unroll
                for (int r = 0; r < RT; r++) {
                  const float av = u == 0 ? a4[r].x : u == 1 ? a4[r].y : u == 2 ? a4[r].z : a4[r].w;
                  acc[r][jt] = __fadd_rn(acc[r][jt], __fmul_rn(wv, av));
                }
              }
            }
          }
        }
        for (; kk < kn; kk++) {
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
int launch(const myr_net_view *n, const float *x, float *out, int64_t rows, const int64_t *count, int lda,
           cudaStream_t stream) {
  const int tile = RT * WARPS;
  const size_t bytes = smem_bytes(tile, lda);
  cudaError_t e = cudaFuncSetAttribute(forward_kernel<RT>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bytes);
  if (e != cudaSuccess) return (int)e;
  const int64_t blocks = CEIL_DIV(rows, (int64_t)tile);
  if (blocks > 0x7fffffff) return (int)cudaErrorInvalidConfiguration;
  forward_kernel<RT><<<(unsigned)blocks, THREADS, bytes, stream>>>(n->shape, n->w, x, out, rows, count, lda);
  return (int)cudaGetLastError();
}

/* ---- bf16 tensor-core path ---------------------------------------------------------------- */

constexpr int BF_THREADS = 128; /* 4 warps, each its own rows: no shared memory, no block syncs */

/* Layer l's packed size: nch chunks of 16 outputs (two 8-wide mma n-tiles), nks 16-wide input
 * steps; fragments [chunk][half][step][lane] as uint2 (b0, b1), then the bias [nch * 16] fp32. */
__host__ __device__ inline size_t bf16_layer_bytes(int ni, int no) {
  size_t nks = (size_t)CEIL_DIV(ni, 16), nch = (size_t)CEIL_DIV(no, 16);
  return nch * 2 * nks * 32 * sizeof(uint2) + nch * 16 * sizeof(float);
}

/* Two floats as a bf16 pair (round to nearest even, as myr_bf16_bits): lo in the low half. */
__device__ __forceinline__ uint32_t bf16_pair(float lo, float hi) {
  __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
  return *reinterpret_cast<uint32_t *>(&v);
}

/* d += A (16 x 16, bf16, row) * B (16 x 8, bf16, col), fp32 accumulators. */
__device__ __forceinline__ void mma_bf16(float (&d)[4], const uint32_t (&a)[4], uint2 b) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%0, %1, %2, %3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b.x), "r"(b.y));
#else
  __trap(); /* the launcher refuses devices below sm_80 */
#endif
}

/* MT m-tiles of 16 rows per warp, at most KS 16-wide steps in any layer's input or output.
 * Lane (g = lane / 4, q = lane % 4) holds, per m-tile and step, A's rows g and g + 8 at
 * columns 2q, 2q + 1, 2q + 8, 2q + 9 (PTX ISA, mma.m16n8k16 fragments), and gets C's rows g,
 * g + 8 at columns 2q, 2q + 1 of each n-tile: two n-tiles of one layer are one step of the
 * next layer's A. */
template <int MT, int KS>
__global__ void __launch_bounds__(BF_THREADS) forward_bf16_kernel(myr_net_shape s, const unsigned char *__restrict__ wp,
                                                                 const float *__restrict__ x, float *__restrict__ out,
                                                                 int64_t rows, const int64_t *__restrict__ count) {
  if (count && *count < rows) rows = *count;
  const int lane = threadIdx.x & 31, g = lane >> 2, q = lane & 3;
  const int64_t row0 = ((int64_t)blockIdx.x * (BF_THREADS / 32) + (threadIdx.x >> 5)) * (16 * MT);
  if (row0 >= rows) return; /* warp-uniform */
  uint32_t a[MT][KS][4];
  const int n0 = s.size[0], nks0 = CEIL_DIV(n0, 16);
#pragma unroll
  for (int mt = 0; mt < MT; mt++) {
    const int64_t r0 = row0 + mt * 16 + g, r1 = r0 + 8;
#pragma unroll
    for (int ks = 0; ks < KS; ks++) {
      float v[2][4] = {{0.0f, 0.0f, 0.0f, 0.0f}, {0.0f, 0.0f, 0.0f, 0.0f}}; /* [row g, g+8][2q, 2q+1, 2q+8, 2q+9] */
      if (ks < nks0) {
        const int k = ks * 16 + 2 * q;
        const int cols[4] = {k, k + 1, k + 8, k + 9};
#pragma unroll
        for (int i = 0; i < 4; i++) {
          if (cols[i] < n0) {
            if (r0 < rows) v[0][i] = __ldg(x + r0 * n0 + cols[i]);
            if (r1 < rows) v[1][i] = __ldg(x + r1 * n0 + cols[i]);
          }
        }
      }
      a[mt][ks][0] = bf16_pair(v[0][0], v[0][1]);
      a[mt][ks][1] = bf16_pair(v[1][0], v[1][1]);
      a[mt][ks][2] = bf16_pair(v[0][2], v[0][3]);
      a[mt][ks][3] = bf16_pair(v[1][2], v[1][3]);
    }
  }

  const unsigned char *lw = wp;
  for (int l = 0; l < s.layers; l++) {
    const int ni = s.size[l], no = s.size[l + 1];
    const int nks = CEIL_DIV(ni, 16), nch = CEIL_DIV(no, 16);
    const bool last = l == s.layers - 1;
    const uint2 *frag = reinterpret_cast<const uint2 *>(lw);
    const float *bias = reinterpret_cast<const float *>(lw + (size_t)nch * 2 * nks * 32 * sizeof(uint2));
    uint32_t na[MT][KS][4];
#pragma unroll
    for (int c = 0; c < KS; c++) {
      if (c < nch) {
        float acc[MT][2][4];
#pragma unroll
        for (int h = 0; h < 2; h++) {
          const int col = c * 16 + h * 8 + 2 * q;
          const float b0 = __ldg(bias + col), b1 = __ldg(bias + col + 1);
#pragma unroll
          for (int mt = 0; mt < MT; mt++) {
            acc[mt][h][0] = b0;
            acc[mt][h][1] = b1;
            acc[mt][h][2] = b0;
            acc[mt][h][3] = b1;
          }
        }
#pragma unroll
        for (int ks = 0; ks < KS; ks++) {
          if (ks < nks) { /* steps 0, 1, 2, ...: the fixed order */
            const uint2 w0 = __ldg(frag + ((size_t)(2 * c) * nks + ks) * 32 + lane);
            const uint2 w1 = __ldg(frag + ((size_t)(2 * c + 1) * nks + ks) * 32 + lane);
#pragma unroll
            for (int mt = 0; mt < MT; mt++) {
              mma_bf16(acc[mt][0], a[mt][ks], w0);
              mma_bf16(acc[mt][1], a[mt][ks], w1);
            }
          }
        }
        if (last) {
#pragma unroll
          for (int mt = 0; mt < MT; mt++) {
            const int64_t r0 = row0 + mt * 16 + g, r1 = r0 + 8;
#pragma unroll
            for (int h = 0; h < 2; h++) {
              const int col = c * 16 + h * 8 + 2 * q;
              if (r0 < rows && col < no) out[r0 * no + col] = acc[mt][h][0];
              if (r0 < rows && col + 1 < no) out[r0 * no + col + 1] = acc[mt][h][1];
              if (r1 < rows && col < no) out[r1 * no + col] = acc[mt][h][2];
              if (r1 < rows && col + 1 < no) out[r1 * no + col + 1] = acc[mt][h][3];
            }
          }
        } else {
#pragma unroll
          for (int mt = 0; mt < MT; mt++) {
            float r[2][4];
#pragma unroll
            for (int h = 0; h < 2; h++)
#pragma unroll
              for (int i = 0; i < 4; i++) r[h][i] = acc[mt][h][i] > 0.0f ? acc[mt][h][i] : 0.0f; /* ReLU */
            na[mt][c][0] = bf16_pair(r[0][0], r[0][1]); /* row g, columns 2q, 2q + 1 */
            na[mt][c][1] = bf16_pair(r[0][2], r[0][3]); /* row g + 8 */
            na[mt][c][2] = bf16_pair(r[1][0], r[1][1]); /* row g, columns 2q + 8, 2q + 9 */
            na[mt][c][3] = bf16_pair(r[1][2], r[1][3]); /* row g + 8 */
          }
        }
      } else {
#pragma unroll
        for (int mt = 0; mt < MT; mt++)
#pragma unroll
          for (int i = 0; i < 4; i++) na[mt][c][i] = 0u;
      }
    }
    if (last) break;
#pragma unroll
    for (int mt = 0; mt < MT; mt++)
#pragma unroll
      for (int c = 0; c < KS; c++)
#pragma unroll
        for (int i = 0; i < 4; i++) a[mt][c][i] = na[mt][c][i];
    lw += bf16_layer_bytes(ni, no);
  }
}

/* One layer's fragments and bias (above) from the fp32 weights W [no][ni] and b [no]. */
__global__ void pack_bf16_layer(const float *W, const float *b, int ni, int no, uint2 *frag, float *bias) {
  const int nks = CEIL_DIV(ni, 16), nch = CEIL_DIV(no, 16);
  const int64_t nfrag = (int64_t)nch * 2 * nks * 32;
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < nfrag + nch * 16;
       i += (int64_t)gridDim.x * blockDim.x) {
    if (i >= nfrag) {
      const int j = (int)(i - nfrag);
      bias[j] = j < no ? b[j] : 0.0f;
      continue;
    }
    const int lane = (int)(i & 31), rest = (int)(i >> 5), ks = rest % nks, nt = rest / nks;
    const int n = nt * 8 + (lane >> 2), k = ks * 16 + 2 * (lane & 3);
    float v[4];
    const int kk[4] = {k, k + 1, k + 8, k + 9};
    for (int e = 0; e < 4; e++) v[e] = n < no && kk[e] < ni ? W[(size_t)n * ni + kk[e]] : 0.0f;
    uint2 f;
    f.x = (uint32_t)myr_bf16_bits(v[0]) | (uint32_t)myr_bf16_bits(v[1]) << 16;
    f.y = (uint32_t)myr_bf16_bits(v[2]) | (uint32_t)myr_bf16_bits(v[3]) << 16;
    frag[i] = f;
  }
}

template <int MT, int KS>
int launch_bf16(const myr_net_view *n, const float *x, float *out, int64_t rows, const int64_t *count,
                cudaStream_t stream) {
  const int64_t per_block = (int64_t)(BF_THREADS / 32) * 16 * MT;
  const int64_t blocks = CEIL_DIV(rows, per_block);
  if (blocks > 0x7fffffff) return (int)cudaErrorInvalidConfiguration;
  forward_bf16_kernel<MT, KS><<<(unsigned)blocks, BF_THREADS, 0, stream>>>(
      n->shape, (const unsigned char *)n->w16, x, out, rows, count);
  return (int)cudaGetLastError();
}

int device_capability() {
  int dev = 0, major = 0, minor = 0;
  if (cudaGetDevice(&dev) != cudaSuccess) return -1;
  if (cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev) != cudaSuccess ||
      cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev) != cudaSuccess)
    return -1;
  return major * 10 + minor;
}

} // namespace

extern "C" int myr__net_cuda_capability(void) { return device_capability(); }

extern "C" size_t myr_net_bf16_bytes(const myr_net_shape *s) {
  size_t total = 0;
  for (int l = 0; l < s->layers; l++) total += bf16_layer_bytes(s->size[l], s->size[l + 1]);
  return total;
}

extern "C" int myr_net_pack_bf16_cuda(const myr_net_view *n, void *dst, void *stream) {
  const myr_net_shape *s = &n->shape;
  if (s->layers < 1 || s->layers > MYR_NET_MAX_LAYERS) return (int)cudaErrorInvalidValue;
  unsigned char *at = (unsigned char *)dst;
  const float *w = n->w;
  for (int l = 0; l < s->layers; l++) {
    const int ni = s->size[l], no = s->size[l + 1];
    const int nks = CEIL_DIV(ni, 16), nch = CEIL_DIV(no, 16);
    const int64_t items = (int64_t)nch * 2 * nks * 32 + nch * 16;
    uint2 *frag = (uint2 *)at;
    float *bias = (float *)(at + (size_t)nch * 2 * nks * 32 * sizeof(uint2));
    pack_bf16_layer<<<(unsigned)CEIL_DIV(items, 256), 256, 0, (cudaStream_t)stream>>>(
        w, w + (size_t)no * ni, ni, no, frag, bias);
    cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess) return (int)e;
    at += bf16_layer_bytes(ni, no);
    w += (size_t)no * ni + no;
  }
  return (int)cudaSuccess;
}

extern "C" int myr_net_forward_cuda(const myr_net_view *n, const float *x, float *out, int64_t rows, void *stream) {
  return myr_net_forward_cuda_count(n, x, out, rows, NULL, stream);
}

extern "C" int myr_net_forward_cuda_count(const myr_net_view *n, const float *x, float *out, int64_t rows,
                                          const int64_t *count, void *stream) {
  const myr_net_shape *s = &n->shape;
  if (s->layers < 1 || s->layers > MYR_NET_MAX_LAYERS) return (int)cudaErrorInvalidValue;
  int lda = 1;
  for (int l = 0; l <= s->layers; l++) {
    if (s->size[l] < 1 || s->size[l] > MYR_NET_MAX_WIDTH) return (int)cudaErrorInvalidValue;
    if (l < s->layers && s->size[l] > lda) lda = s->size[l];
  }
  if (rows <= 0) return (int)cudaSuccess;
  cudaStream_t st = (cudaStream_t)stream;
  if (n->precision == MYR_NET_BF16) {
    int widest = 1;
    for (int l = 0; l <= s->layers; l++) widest = s->size[l] > widest ? s->size[l] : widest;
    if (!n->w16 || widest > MYR_NET_BF16_MAX_WIDTH) return (int)cudaErrorInvalidValue;
    if (device_capability() < 80) return (int)cudaErrorInvalidDeviceFunction; /* no bf16 mma below sm_80 */
    if (widest <= 128) return launch_bf16<1, 8>(n, x, out, rows, count, st);
    return launch_bf16<1, 16>(n, x, out, rows, count, st);
  }
  int dev = 0, most = 0;
  cudaError_t e = cudaGetDevice(&dev);
  if (e == cudaSuccess) e = cudaDeviceGetAttribute(&most, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev);
  if (e != cudaSuccess) return (int)e;
  /* Activation rows start on 16 bytes (the float4 reads). The tallest tile that fits: 32 rows
   * (most shapes), 16 or 8 for wide layers. The tile changes no bits. */
  lda = (lda + 3) & ~3;
  if (smem_bytes(4 * WARPS, lda) <= (size_t)most) return launch<4>(n, x, out, rows, count, lda, st);
  if (smem_bytes(2 * WARPS, lda) <= (size_t)most) return launch<2>(n, x, out, rows, count, lda, st);
  if (smem_bytes(1 * WARPS, lda) <= (size_t)most) return launch<1>(n, x, out, rows, count, lda, st);
  return (int)cudaErrorInvalidConfiguration;
}
