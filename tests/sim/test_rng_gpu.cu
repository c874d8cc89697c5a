/* myr_rng on the GPU: the Random123 known answers, and every draw function giving the same
 * bits as the CPU (uniform, integers) or the same values within 4 ulp-scale tolerance (normal,
 * gamma, which use libm functions). Exits 77 (skipped) when no GPU is present. */
#include <cuda_runtime.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "sim/rng.h"

#define CUDA_CHECK(call)                                                                   \
  do {                                                                                     \
    cudaError_t e_ = (call);                                                               \
    if (e_ != cudaSuccess) {                                                               \
      fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call, cudaGetErrorString(e_)); \
      exit(1);                                                                             \
    }                                                                                      \
  } while (0)

enum { N = 1 << 16, PER = 5 };

__global__ void draws(double *out, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  myr_rng r = myr_rng_make(42, (uint64_t)i * 977u, 12, MYR_RNG_MODEL);
  out[i * PER + 0] = myr_rng_u32(&r);
  out[i * PER + 1] = myr_rng_uniform(&r);
  out[i * PER + 2] = myr_rng_below(&r, 9);
  out[i * PER + 3] = myr_rng_normal(&r);
  out[i * PER + 4] = myr_rng_gamma(&r, 2.5, 1.0);
}

__global__ void kat(uint32_t *out) {
  myr_u32x4 c = {{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}};
  myr_u32x4 r = myr_philox4x32_10(c, 0xa4093822u, 0x299f31d0u);
  for (int k = 0; k < 4; k++) out[k] = r.v[k];
}

int main(void) {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    printf("no GPU: skipped\n");
    return 77;
  }
  int failed = 0;
  uint32_t *dk, hk[4];
  CUDA_CHECK(cudaMalloc(&dk, sizeof hk));
  kat<<<1, 1>>>(dk);
  CUDA_CHECK(cudaGetLastError());
  CUDA_CHECK(cudaMemcpy(hk, dk, sizeof hk, cudaMemcpyDeviceToHost));
  const uint32_t expect[4] = {0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u};
  for (int k = 0; k < 4; k++)
    if (hk[k] != expect[k]) {
      fprintf(stderr, "KAT word %d: got %08x expected %08x\n", k, hk[k], expect[k]);
      failed++;
    }

  double *d, *h = (double *)malloc(sizeof(double) * N * PER);
  CUDA_CHECK(cudaMalloc(&d, sizeof(double) * N * PER));
  draws<<<(N + 255) / 256, 256>>>(d, N);
  CUDA_CHECK(cudaGetLastError());
  CUDA_CHECK(cudaMemcpy(h, d, sizeof(double) * N * PER, cudaMemcpyDeviceToHost));
  double worst = 0;
  for (int i = 0; i < N; i++) {
    myr_rng r = myr_rng_make(42, (uint64_t)i * 977u, 12, MYR_RNG_MODEL);
    double ref[PER] = {(double)myr_rng_u32(&r), myr_rng_uniform(&r), (double)myr_rng_below(&r, 9), myr_rng_normal(&r),
                       myr_rng_gamma(&r, 2.5, 1.0)};
    for (int k = 0; k < 3; k++)
      if (h[i * PER + k] != ref[k] && failed++ < 10) fprintf(stderr, "row %d draw %d: gpu %.17g cpu %.17g\n", i, k, h[i * PER + k], ref[k]);
    for (int k = 3; k < PER; k++) {
      double diff = fabs(h[i * PER + k] - ref[k]);
      if (diff > worst) worst = diff;
      if (diff > 1e-12 + 1e-12 * fabs(ref[k]) && failed++ < 10)
        fprintf(stderr, "row %d draw %d: gpu %.17g cpu %.17g\n", i, k, h[i * PER + k], ref[k]);
    }
  }
  printf("philox KAT on device: %s; %d rows x %d draws; worst |gpu - cpu| of normal/gamma %.3g (tol 1e-12 + 1e-12|x|)\n",
         failed ? "FAILED" : "ok", N, PER, worst);
  printf("%d passed, %d failed\n", failed ? 0 : 1, failed ? 1 : 0);
  CUDA_CHECK(cudaFree(d));
  CUDA_CHECK(cudaFree(dk));
  free(h);
  return failed ? 1 : 0;
}
