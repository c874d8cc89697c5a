/* The network and sim/mathf.h on a CUDA device against the CPU, bitwise (label gpu):
 * - myr_net_forward_cuda vs myr_net_forward_cpu for random weights and inputs, shapes
 *   16-128-128-10, 11-64-10, 3-10 and 200-1024-7-33 (chunked layers, shorter tiles), batches of
 *   1, 1000 and 100000 rows (10000 for 200 inputs): every output's bits equal; prints the first
 *   mismatches and the kernel's time (information, not a target);
 * - myr_net_forward_row itself compiled by nvcc (one thread per row) vs the CPU;
 * - myr_net_prior on the device vs the host, random logits and legal masks;
 * - myr_expf, myr_logf, myr_tanhf on the device vs the host over 2^24 float bit patterns
 *   (every 256th pattern: all signs, binades, subnormals, infinities and NaNs);
 * - an invalid shape is refused with cudaErrorInvalidValue.
 * --quick: batches of at most 1000 rows and 2^16 mathf inputs (for compute-sanitizer runs).
 * Exits 77 (skipped) when no CUDA device is present. */
#include <cuda_runtime.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "search/net.h"
#include "sim/rng.h"

#define CU(call)                                                                                   \
  do {                                                                                             \
    cudaError_t e_ = (call);                                                                       \
    REQUIRE(e_ == cudaSuccess, "%s: %s", #call, cudaGetErrorString(e_));                           \
  } while (0)

static uint32_t bits_of(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}

/* Counts outputs whose bits differ; prints the first few. */
static int64_t compare(const char *what, const float *gpu, const float *cpu, int64_t n, int width) {
  int64_t bad = 0;
  for (int64_t i = 0; i < n; i++)
    if (bits_of(gpu[i]) != bits_of(cpu[i]) && bad++ < 5)
      fprintf(stderr, "%s: row %lld output %d: GPU %.9g (0x%08x), CPU %.9g (0x%08x)\n", what,
              (long long)(i / width), (int)(i % width), gpu[i], bits_of(gpu[i]), cpu[i], bits_of(cpu[i]));
  return bad;
}

__global__ void row_kernel(myr_net_view n, const float *x, float *out, int64_t rows) {
  int64_t r = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (r >= rows) return;
  float scratch[2 * MYR_NET_MAX_WIDTH];
  myr_net_forward_row(&n, x + r * n.shape.size[0], out + r * n.shape.size[n.shape.layers], scratch);
}

__global__ void mathf_kernel(const float *x, float *out, int64_t n) {
  int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  out[3 * i] = myr_expf(x[i]);
  out[3 * i + 1] = myr_logf(x[i]);
  out[3 * i + 2] = myr_tanhf(x[i]);
}

__global__ void prior_kernel(const float *logits, const uint32_t *legal, float *prior, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) myr_net_prior(logits + 32 * i, legal[i], 32 - i % 5, prior + 32 * i);
}

static int quick; /* --quick */

static void test_forward(void) {
  int h1[] = {128, 128}, h2[] = {64}, h4[] = {1024, 7};
  struct {
    int inputs, n_hidden, actions;
    const int *hidden;
  } shapes[] = {{16, 2, 9, h1}, {11, 1, 9, h2}, {3, 0, 9, NULL}, {200, 2, 32, h4}};
  const int64_t batches[] = {1, 1000, 100000};
  for (size_t c = 0; c < sizeof shapes / sizeof shapes[0]; c++) {
    myr_net_shape s;
    myr_error e;
    REQUIRE(myr_net_shape_make(&s, shapes[c].inputs, shapes[c].hidden, shapes[c].n_hidden, shapes[c].actions, &e) ==
                MYR_OK, "%s", e.msg);
    myr_net net;
    REQUIRE(myr_net_create(&net, &s, 1 + (uint32_t)c, &e) == MYR_OK, "%s", e.msg);
    myr_rng r = myr_rng_make(9, c, 0, MYR_RNG_MODEL);
    for (size_t i = 0; i < net.n_params; i++) net.w[i] = (2.0f * myr_rng_uniform(&r) - 1.0f) * 0.2f;
    const int ni = s.size[0], no = s.size[s.layers];
    float *dw;
    CU(cudaMalloc(&dw, net.n_params * sizeof(float)));
    CU(cudaMemcpy(dw, net.w, net.n_params * sizeof(float), cudaMemcpyHostToDevice));
    myr_net_view hv = myr_net_view_of(&net), dv = hv;
    dv.w = dw;
    char name[MYR_NET_SHAPE_STR];
    myr_net_shape_str(&s, name, sizeof name);
    for (size_t b = 0; b < sizeof batches / sizeof batches[0]; b++) {
      int64_t rows = batches[b];
      if (ni * rows > 10000000) rows /= 10; /* 200 inputs: 10000 rows are enough */
      if (quick && rows > 1000) continue;
      float *x = (float *)malloc(sizeof(float) * rows * ni), *cpu = (float *)malloc(sizeof(float) * rows * no),
            *gpu = (float *)malloc(sizeof(float) * rows * no), *dx, *dout;
      REQUIRE(x && cpu && gpu, "out of memory");
      for (int64_t i = 0; i < rows * ni; i++) x[i] = (2.0f * myr_rng_uniform(&r) - 1.0f) * 2.0f;
      myr_net_forward_cpu(&hv, x, cpu, rows, 0);
      CU(cudaMalloc(&dx, sizeof(float) * rows * ni));
      CU(cudaMalloc(&dout, sizeof(float) * rows * no));
      CU(cudaMemcpy(dx, x, sizeof(float) * rows * ni, cudaMemcpyHostToDevice));
      CU(cudaMemset(dout, 0xff, sizeof(float) * rows * no));
      cudaEvent_t t0, t1;
      CU(cudaEventCreate(&t0));
      CU(cudaEventCreate(&t1));
      CU((cudaError_t)myr_net_forward_cuda(&dv, dx, dout, rows, NULL)); /* warm-up */
      CU(cudaEventRecord(t0, 0));
      CU((cudaError_t)myr_net_forward_cuda(&dv, dx, dout, rows, NULL));
      CU(cudaEventRecord(t1, 0));
      CU(cudaEventSynchronize(t1));
      float ms = 0;
      CU(cudaEventElapsedTime(&ms, t0, t1));
      CU(cudaMemcpy(gpu, dout, sizeof(float) * rows * no, cudaMemcpyDeviceToHost));
      char what[128];
      snprintf(what, sizeof what, "fused %s x %lld", name, (long long)rows);
      int64_t bad = compare(what, gpu, cpu, rows * no, no);
      CHECK(bad == 0, "%s: %lld of %lld outputs differ in bits", what, (long long)bad, (long long)(rows * no));
      printf("%-28s rows %7lld  %8.3f ms  %s\n", name, (long long)rows, ms, bad ? "DIFFERENT" : "bitwise equal");

      if (rows <= 100000) { /* the row function itself, compiled by nvcc */
        CU(cudaMemset(dout, 0xff, sizeof(float) * rows * no));
        row_kernel<<<(unsigned)((rows + 127) / 128), 128>>>(dv, dx, dout, rows);
        CU(cudaGetLastError());
        CU(cudaMemcpy(gpu, dout, sizeof(float) * rows * no, cudaMemcpyDeviceToHost));
        snprintf(what, sizeof what, "row %s x %lld", name, (long long)rows);
        bad = compare(what, gpu, cpu, rows * no, no);
        CHECK(bad == 0, "%s: %lld outputs differ in bits", what, (long long)bad);
      }
      CU(cudaEventDestroy(t0));
      CU(cudaEventDestroy(t1));
      CU(cudaFree(dx));
      CU(cudaFree(dout));
      free(x), free(cpu), free(gpu);
    }
    /* invalid shapes are refused before any launch */
    myr_net_view broken = dv;
    broken.shape.layers = 0;
    CHECK(myr_net_forward_cuda(&broken, NULL, NULL, 10, NULL) == (int)cudaErrorInvalidValue, "layers 0 accepted");
    broken = dv;
    broken.shape.size[1] = MYR_NET_MAX_WIDTH + 1;
    CHECK(myr_net_forward_cuda(&broken, NULL, NULL, 10, NULL) == (int)cudaErrorInvalidValue, "width 1025 accepted");
    CU(cudaFree(dw));
    myr_net_free(&net);
  }
}

static void test_mathf(void) {
  const int64_t n = (int64_t)1 << (quick ? 16 : 24);
  float *x = (float *)malloc(sizeof(float) * n), *host = (float *)malloc(sizeof(float) * 3 * n),
        *dev = (float *)malloc(sizeof(float) * 3 * n), *dx, *dout;
  REQUIRE(x && host && dev, "out of memory");
  for (int64_t i = 0; i < n; i++) {
    uint32_t u = (uint32_t)(i << (32 - (quick ? 16 : 24))) | (uint32_t)(i * 37 & 0xff);
    memcpy(&x[i], &u, sizeof u);
  }
  for (int64_t i = 0; i < n; i++) {
    host[3 * i] = myr_expf(x[i]);
    host[3 * i + 1] = myr_logf(x[i]);
    host[3 * i + 2] = myr_tanhf(x[i]);
  }
  CU(cudaMalloc(&dx, sizeof(float) * n));
  CU(cudaMalloc(&dout, sizeof(float) * 3 * n));
  CU(cudaMemcpy(dx, x, sizeof(float) * n, cudaMemcpyHostToDevice));
  mathf_kernel<<<(unsigned)(n / 256), 256>>>(dx, dout, n);
  CU(cudaGetLastError());
  CU(cudaMemcpy(dev, dout, sizeof(float) * 3 * n, cudaMemcpyDeviceToHost));
  const char *fn[3] = {"expf", "logf", "tanhf"};
  int64_t bad[3] = {0, 0, 0};
  for (int64_t i = 0; i < 3 * n; i++)
    if (bits_of(dev[i]) != bits_of(host[i]) && bad[i % 3]++ < 5)
      fprintf(stderr, "myr_%s(%.9g = 0x%08x): device 0x%08x, host 0x%08x\n", fn[i % 3], x[i / 3], bits_of(x[i / 3]),
              bits_of(dev[i]), bits_of(host[i]));
  for (int f = 0; f < 3; f++)
    CHECK(bad[f] == 0, "myr_%s: %lld of %lld inputs differ between device and host", fn[f], (long long)bad[f],
          (long long)n);
  printf("mathf: %lld inputs, device and host %s\n", (long long)n,
         bad[0] + bad[1] + bad[2] ? "DIFFERENT" : "bitwise equal");
  CU(cudaFree(dx));
  CU(cudaFree(dout));
  free(x), free(host), free(dev);
}

static void test_prior(void) {
  const int n = 100000;
  float *logits = (float *)malloc(sizeof(float) * 32 * n), *host = (float *)malloc(sizeof(float) * 32 * n),
        *dev = (float *)malloc(sizeof(float) * 32 * n), *dl, *dp;
  uint32_t *legal = (uint32_t *)malloc(sizeof(uint32_t) * n), *dm;
  REQUIRE(logits && host && dev && legal, "out of memory");
  myr_rng r = myr_rng_make(4, 4, 4, MYR_RNG_MODEL);
  for (int i = 0; i < 32 * n; i++) logits[i] = (2.0f * myr_rng_uniform(&r) - 1.0f) * (i % 7 == 0 ? 80.0f : 6.0f);
  for (int i = 0; i < n; i++) legal[i] = i % 97 == 0 ? 0u : myr_rng_u32(&r);
  memset(host, 0, sizeof(float) * 32 * n);
  for (int i = 0; i < n; i++) myr_net_prior(logits + 32 * i, legal[i], 32 - i % 5, host + 32 * i);
  CU(cudaMalloc(&dl, sizeof(float) * 32 * n));
  CU(cudaMalloc(&dp, sizeof(float) * 32 * n));
  CU(cudaMalloc(&dm, sizeof(uint32_t) * n));
  CU(cudaMemcpy(dl, logits, sizeof(float) * 32 * n, cudaMemcpyHostToDevice));
  CU(cudaMemcpy(dm, legal, sizeof(uint32_t) * n, cudaMemcpyHostToDevice));
  CU(cudaMemset(dp, 0, sizeof(float) * 32 * n));
  prior_kernel<<<(n + 255) / 256, 256>>>(dl, dm, dp, n);
  CU(cudaGetLastError());
  CU(cudaMemcpy(dev, dp, sizeof(float) * 32 * n, cudaMemcpyDeviceToHost));
  int64_t bad = compare("prior", dev, host, (int64_t)32 * n, 32);
  CHECK(bad == 0, "prior: %lld values differ between device and host", (long long)bad);
  CU(cudaFree(dl));
  CU(cudaFree(dp));
  CU(cudaFree(dm));
  free(logits), free(host), free(dev), free(legal);
}

int main(int argc, char **argv) {
  quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    printf("no CUDA device: skipped\n");
    return 77;
  }
  cudaDeviceProp p;
  CU(cudaGetDeviceProperties(&p, 0));
  printf("device: %s (sm_%d%d)\n", p.name, p.major, p.minor);
  test_mathf();
  test_prior();
  test_forward();
  return check_summary();
}
