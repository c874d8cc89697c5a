/* The bf16 tensor-core forward pass (search/net.cu, network.precision: bf16) on a CUDA device
 * (label gpu):
 * - the per-row rule, bitwise: every row of a batch of 100000 gives the same bits when it is
 *   evaluated again in batches of 1, 7, 33, 1000 and 4099 rows starting at other offsets (so
 *   it sits at another place in its warp's 16-row tile, its block and the grid);
 * - closeness: per output |GPU - ref| <= 0.02 + 0.02 |ref| against the CPU bf16 reference
 *   (myr_net_forward_row_bf16: the same roundings, another order of the sums), and
 *   <= 0.03 + 0.03 |ref| against the fp32 forward (the tolerance tests/net/test_net.c checks
 *   the bf16 reference against); prints the worst error of each as a fraction of its tolerance;
 * - shapes 16-128-128-10 (the benchmark's), 11-128-128-10 (foraging), 3-10, 40-256-33 (the
 *   widest layer the path takes; odd input counts and outputs that end inside an 8-wide tile);
 * - a 300-wide layer is refused with cudaErrorInvalidValue, and so is a bf16 view without
 *   packed weights.
 * On a device below compute capability 8.0 the bf16 path must refuse with
 * cudaErrorInvalidDeviceFunction (checked), and the rest is skipped.
 * Exits 77 (skipped) when no CUDA device is present. */
#include <cuda_runtime.h>
#include <math.h>
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

static int capability;

/* The bf16 device view of a host network: fp32 weights and the packed ones. */
typedef struct dnet {
  myr_net_view v;
  float *w;
  void *w16;
} dnet;

static dnet upload(const myr_net *net) {
  dnet d;
  memset(&d, 0, sizeof d);
  CU(cudaMalloc((void **)&d.w, net->n_params * sizeof(float)));
  CU(cudaMemcpy(d.w, net->w, net->n_params * sizeof(float), cudaMemcpyHostToDevice));
  CU(cudaMalloc(&d.w16, myr_net_bf16_bytes(&net->shape)));
  d.v = myr_net_view_of(net);
  d.v.w = d.w;
  CU((cudaError_t)myr_net_pack_bf16_cuda(&d.v, d.w16, NULL));
  CU(cudaDeviceSynchronize());
  d.v.precision = MYR_NET_BF16;
  d.v.w16 = d.w16;
  return d;
}

/* out[rows][no] = bf16 forward of x[rows][ni] (host arrays) through device memory. */
static void forward(const dnet *d, const float *x, float *out, int64_t rows) {
  int ni = d->v.shape.size[0], no = d->v.shape.size[d->v.shape.layers];
  float *dx, *dy;
  CU(cudaMalloc((void **)&dx, (size_t)rows * ni * sizeof(float)));
  CU(cudaMalloc((void **)&dy, (size_t)rows * no * sizeof(float)));
  CU(cudaMemcpy(dx, x, (size_t)rows * ni * sizeof(float), cudaMemcpyHostToDevice));
  CU(cudaMemset(dy, 0xff, (size_t)rows * no * sizeof(float))); /* NaN: unwritten outputs show */
  CU((cudaError_t)myr_net_forward_cuda(&d->v, dx, dy, rows, NULL));
  CU(cudaDeviceSynchronize());
  CU(cudaMemcpy(out, dy, (size_t)rows * no * sizeof(float), cudaMemcpyDeviceToHost));
  cudaFree(dx);
  cudaFree(dy);
}

/* Outputs beyond tol + rel |ref|; *worst gets the largest error as a fraction of the tolerance. */
static int64_t beyond(const char *what, const float *got, const float *ref, int64_t n, int width, double tol,
                      double rel, double *worst) {
  int64_t bad = 0;
  *worst = 0.0;
  for (int64_t i = 0; i < n; i++) {
    double d = fabs((double)got[i] - (double)ref[i]), lim = tol + rel * fabs((double)ref[i]);
    if (!(d <= lim) && bad++ < 5)
      fprintf(stderr, "%s: row %lld output %d: GPU %.7g, reference %.7g\n", what, (long long)(i / width),
              (int)(i % width), got[i], ref[i]);
    if (d / lim > *worst || d != d) *worst = d != d ? INFINITY : d / lim;
  }
  return bad;
}

static void test_shape(int inputs, const int *hidden, int n_hidden, int actions, uint32_t seed) {
  myr_net_shape s;
  myr_error e;
  REQUIRE(myr_net_shape_make(&s, inputs, hidden, n_hidden, actions, &e) == MYR_OK, "%s", e.msg);
  myr_net net;
  REQUIRE(myr_net_create(&net, &s, seed, &e) == MYR_OK, "%s", e.msg);
  myr_rng r = myr_rng_make(seed, 3, 0, MYR_RNG_MODEL);
  for (int l = 0; l < s.layers; l++) { /* nonzero biases, so the bias path is exercised */
    float *b = net.w + myr_net_bias_offset(&s, l);
    for (int j = 0; j < s.size[l + 1]; j++) b[j] = (2.0f * myr_rng_uniform(&r) - 1.0f) * 0.1f;
  }
  char name[MYR_NET_SHAPE_STR];
  myr_net_shape_str(&s, name, sizeof name);
  const int64_t rows = 100000;
  const int ni = s.size[0], no = s.size[s.layers];
  float *x = (float *)malloc((size_t)rows * ni * sizeof(float));
  float *gpu = (float *)malloc((size_t)rows * no * sizeof(float));
  float *ref = (float *)malloc((size_t)rows * no * sizeof(float));
  float *part = (float *)malloc((size_t)rows * no * sizeof(float));
  for (int64_t i = 0; i < rows * ni; i++) x[i] = 2.0f * myr_rng_uniform(&r) - 1.0f;
  dnet d = upload(&net);
  forward(&d, x, gpu, rows);

  /* (a) the per-row rule: the same rows in other batches, at other offsets */
  const int64_t sizes[] = {1, 7, 33, 1000, 4099};
  const int64_t starts[] = {5, 13, 60001, 99000, 70};
  int64_t moved = 0, rows_checked = 0;
  for (size_t c = 0; c < sizeof sizes / sizeof sizes[0]; c++) {
    forward(&d, x + starts[c] * ni, part, sizes[c]);
    for (int64_t i = 0; i < sizes[c] * no; i++)
      if (memcmp(&part[i], &gpu[starts[c] * no + i], sizeof(float)) != 0 && moved++ < 5)
        fprintf(stderr, "%s: row %lld alone in a batch of %lld: %.9g, in the full batch %.9g\n", name,
                (long long)(starts[c] + i / no), (long long)sizes[c], part[i], gpu[starts[c] * no + i]);
    rows_checked += sizes[c];
  }
  CHECK(moved == 0, "%s: %lld outputs change with the batch size or the row's position", name, (long long)moved);

  /* (b) closeness to the CPU bf16 reference and to fp32 */
  myr_net_view hv = myr_net_view_of(&net);
  hv.precision = MYR_NET_BF16;
  myr_net_forward_cpu(&hv, x, ref, rows, 0);
  double w16 = 0.0, w32 = 0.0;
  int64_t bad16 = beyond(name, gpu, ref, rows * no, no, 0.02, 0.02, &w16);
  hv.precision = MYR_NET_FP32;
  myr_net_forward_cpu(&hv, x, ref, rows, 0);
  int64_t bad32 = beyond(name, gpu, ref, rows * no, no, 0.03, 0.03, &w32);
  printf("%-14s %lld rows: position/batch independent for %lld re-evaluated rows; worst error vs the bf16 "
         "reference %.3f, vs fp32 %.3f of the tolerance\n",
         name, (long long)rows, (long long)rows_checked, w16, w32);
  CHECK(bad16 == 0, "%s: %lld outputs beyond 0.02 + 0.02 |bf16 reference|", name, (long long)bad16);
  CHECK(bad32 == 0, "%s: %lld outputs beyond 0.03 + 0.03 |fp32|", name, (long long)bad32);

  cudaFree(d.w);
  cudaFree(d.w16);
  free(x), free(gpu), free(ref), free(part);
  myr_net_free(&net);
}

static void test_refusals(void) {
  const int wide[1] = {300}, ok[1] = {64};
  myr_net_shape s;
  myr_error e;
  REQUIRE(myr_net_shape_make(&s, 16, wide, 1, 9, &e) == MYR_OK, "%s", e.msg);
  myr_net_view v;
  memset(&v, 0, sizeof v);
  v.shape = s;
  v.precision = MYR_NET_BF16;
  v.w = (const float *)1;
  v.w16 = (const void *)1; /* never read: refused before any launch */
  CHECK(myr_net_forward_cuda(&v, NULL, NULL, 10, NULL) == (int)cudaErrorInvalidValue, "a 300-wide layer was taken");
  REQUIRE(myr_net_shape_make(&s, 16, ok, 1, 9, &e) == MYR_OK, "%s", e.msg);
  v.shape = s;
  v.w16 = NULL;
  CHECK(myr_net_forward_cuda(&v, NULL, NULL, 10, NULL) == (int)cudaErrorInvalidValue,
        "a bf16 view without packed weights was taken");
  CHECK(myr_net_bf16_check(&s, 1, &e) == (capability >= 80 ? MYR_OK : MYR_ERR_BACKEND), "bf16 check on sm_%d: %s",
        capability, e.msg);
}

int main(void) {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    printf("no CUDA device: skipped\n");
    return 77;
  }
  cudaDeviceProp p;
  CU(cudaGetDeviceProperties(&p, 0));
  capability = p.major * 10 + p.minor;
  printf("device: %s (sm_%d%d)\n", p.name, p.major, p.minor);
  test_refusals();
  if (capability < 80) {
    const int h[1] = {16};
    myr_net_shape s;
    myr_error e;
    REQUIRE(myr_net_shape_make(&s, 4, h, 1, 3, &e) == MYR_OK, "%s", e.msg);
    myr_net_view v;
    memset(&v, 0, sizeof v);
    v.shape = s;
    v.precision = MYR_NET_BF16;
    v.w = (const float *)1;
    v.w16 = (const void *)1;
    CHECK(myr_net_forward_cuda(&v, NULL, NULL, 1, NULL) == (int)cudaErrorInvalidDeviceFunction,
          "bf16 below sm_80 was not refused");
    printf("below sm_80: the bf16 path refuses, as it should; nothing more to test here\n");
    return check_summary();
  }
  const int h128[2] = {128, 128}, h256[1] = {256};
  test_shape(16, h128, 2, 9, 1);
  test_shape(11, h128, 2, 9, 2);
  test_shape(3, NULL, 0, 9, 3);
  test_shape(40, h256, 1, 32, 4);
  return check_summary();
}
