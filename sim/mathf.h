/* myr_expf, myr_logf, myr_tanhf: float functions built from +, -, *, / and integer operations
 * only, so that the CPU build and CUDA kernels (both without FMA contraction) give the same
 * bits. The C library and CUDA's intrinsics differ in the last bit, which would make search
 * and training results differ between backends (DESIGN §4.6). Accuracy: a few ulp over the
 * ranges search and learning use (tests/net/test_mathf.c states the bounds). */
#ifndef MYR_MATHF_H
#define MYR_MATHF_H

#include <stdint.h>
#include <string.h> /* memcpy: bit casts */

#include "sim/hd.h"

/* Special values are the same on every backend: NaN in gives the one quiet NaN 0x7fc00000
 * (hardware NaNs differ between x86 and CUDA), never the input's payload. */
MYR_HD static inline float myr_expf(float x);  /* e^x; subnormal below -87.34, 0 below -103.97,
                                                  +inf above 88.72 */
MYR_HD static inline float myr_logf(float x);  /* ln x for x > 0; -inf at +-0; NaN below 0;
                                                  +inf at +inf */
MYR_HD static inline float myr_tanhf(float x); /* tanh x; +-1 for |x| >= 10; tanh(-0) = -0 */

/* Bit casts: memcpy is the portable way in C and C++, and nvcc turns it into a register move. */
MYR_HD static inline uint32_t myr__f2u(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}
MYR_HD static inline float myr__u2f(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

#define MYR__NANF_BITS 0x7fc00000u
#define MYR__INFF_BITS 0x7f800000u

/* 2^k for -126 <= k <= 127, from its exponent bits. */
MYR_HD static inline float myr__pow2f(int k) { return myr__u2f((uint32_t)(k + 127) << 23); }

/* ln 2 in two parts (Cody and Waite): HI has 15 significant bits, so n * HI is exact for
 * |n| < 512, and HI + LO is ln 2 to about 2^-40. */
#define MYR__LN2_HI 0.693145751953125f  /* 0x3f317200 */
#define MYR__LN2_LO 1.42860677e-06f     /* 0x35bfbe8e */
#define MYR__LOG2E 1.44269502f

/* Range reduction shared by exp and tanh: x = n ln 2 + r with n = round(x / ln 2) and
 * |r| <= ln 2 / 2 (a little more from rounding); returns e^r - 1 by its Taylor series to r^8
 * (truncation below 2^-30 relative), written as r + r^2 (1/2 + r (1/6 + ...)) so that the
 * result keeps r's relative accuracy for small r. Valid for |x| < 104 (n fits HI's spare bits). */
MYR_HD static inline float myr__expm1_reduced(float x, int *n_out) {
  float t = x * MYR__LOG2E;
  int n = (int)(t + (t < 0.0f ? -0.5f : 0.5f));
  float fn = (float)n;
  float r = (x - fn * MYR__LN2_HI) - fn * MYR__LN2_LO;
  float q = 1.0f / 40320.0f;
  q = 1.0f / 5040.0f + r * q;
  q = 1.0f / 720.0f + r * q;
  q = 1.0f / 120.0f + r * q;
  q = 1.0f / 24.0f + r * q;
  q = 1.0f / 6.0f + r * q;
  q = 0.5f + r * q;
  *n_out = n;
  return r + (r * r) * q;
}

MYR_HD static inline float myr_expf(float x) {
  if (x != x) return myr__u2f(MYR__NANF_BITS);
  if (x > 88.7228394f) return myr__u2f(MYR__INFF_BITS); /* e^x > FLT_MAX: +inf */
  if (x < -103.972084f) return 0.0f;         /* e^x < 2^-150: rounds to 0 */
  int n;
  float p = myr__expm1_reduced(x, &n);
  float y = 1.0f + p;
  /* y * 2^n in two exact steps (n is in [-150, 128]); only the last can round, when the result
   * is subnormal, so subnormal results are correctly scaled too. */
  int n1 = n / 2;
  return (y * myr__pow2f(n1)) * myr__pow2f(n - n1);
}

MYR_HD static inline float myr_logf(float x) {
  uint32_t u = myr__f2u(x);
  if (x != x) return myr__u2f(MYR__NANF_BITS);
  if ((u & 0x7fffffffu) == 0) return -myr__u2f(MYR__INFF_BITS); /* +-0: -inf */
  if (u & 0x80000000u) return myr__u2f(MYR__NANF_BITS); /* negative (also -inf) */
  if (u >= 0x7f800000u) return x;                     /* +inf */
  int e = 0;
  if (u < 0x00800000u) { /* subnormal: scale by 2^23 (exact) */
    u = myr__f2u(x * 8388608.0f);
    e = -23;
  }
  /* x = 2^e m with m in [sqrt(2)/2, sqrt(2)) */
  uint32_t mant = u & 0x007fffffu;
  e += (int)(u >> 23) - 127;
  float m;
  if (mant > 0x3504f3u) { /* 1.mant > sqrt(2): halve m */
    m = myr__u2f(mant | 0x3f000000u);
    e += 1;
  } else {
    m = myr__u2f(mant | 0x3f800000u);
  }
  /* ln(1 + f) = 2s + 2s^3/3 + 2s^5/5 + ..., s = f / (2 + f), |s| <= 0.172; with
   * h = f^2 / 2 one has 2s = f - (h - s h), so ln(1 + f) = f - (h - s (h + R)) where
   * R = 2s^2/3 + 2s^4/5 + ... (truncated after s^8: error below 2^-28 relative). f and h
   * carry the bulk exactly or nearly so, which keeps the result within about 1 ulp. */
  float f = m - 1.0f; /* exact */
  float s = f / (2.0f + f);
  float z = s * s;
  float R = z * (2.0f / 3.0f + z * (2.0f / 5.0f + z * (2.0f / 7.0f + z * (2.0f / 9.0f))));
  float h = 0.5f * f * f;
  float fe = (float)e;
  return fe * MYR__LN2_HI + (f - (h - (s * (h + R) + fe * MYR__LN2_LO)));
}

MYR_HD static inline float myr_tanhf(float x) {
  if (x != x) return myr__u2f(MYR__NANF_BITS);
  uint32_t sign = myr__f2u(x) & 0x80000000u;
  float a = myr__u2f(myr__f2u(x) & 0x7fffffffu);
  float t;
  if (a < 2.44140625e-4f) {
    t = a;             /* tanh a = a (1 - a^2/3 + ...): a^2/3 < 2^-25 */
  } else if (a >= 10.0f) {
    t = 1.0f;          /* 1 - tanh a < 2^-25: rounds to 1 (also for +inf) */
  } else {
    /* tanh a = E / (E + 2) with E = e^(2a) - 1 = 2^n (1 + p) - 1 = (2^n - 1) + 2^n p, which
     * keeps E's relative accuracy for small a (no cancellation in e^(2a) - 1). */
    int n;
    float p = myr__expm1_reduced(2.0f * a, &n);   /* n in [0, 29] */
    float scale = myr__pow2f(n);
    float E = (scale - 1.0f) + scale * p;
    /* Above 0.55 (tanh > 1/2), 1 - 2 / (E + 2): the small part carries the rounding, which
     * keeps the result within about 1 ulp and monotone as it approaches 1. */
    t = a < 0.55f ? E / (E + 2.0f) : 1.0f - 2.0f / (E + 2.0f);
  }
  return myr__u2f(myr__f2u(t) | sign);
}

/* sin x, from +, -, * and integer operations like the functions above (circles' force law):
 * x = n pi + r with a three-part pi (Cody and Waite; twice the parts of pi/2 below, each of 12
 * significant bits, so n times a part is exact for |n| < 2048), then (-1)^n sin r by its
 * Taylor series on |r| <= pi/2 (to r^13: truncation below 2^-30). One polynomial and no branch
 * on n: a GPU warp whose lanes fall in different quadrants runs it once (a sin/cos split ran
 * both). At most 2 ulp for |x| < 6400 (tests/sim/test_neighbours.c measures [-7, 7]); beyond
 * that the reduction loses accuracy (still in [-1, 1]). NaN and +-inf give the one quiet NaN. */
MYR_HD static inline float myr_sinf(float x);

#define MYR__PIO2_HI 1.57080078125f        /* 0x3fc91000 */
#define MYR__PIO2_MID -4.45358455181121826e-06f /* 0xb6957000 */
#define MYR__PIO2_LO -8.70551575271605e-10f /* 0xb06f4b9f */
#define MYR__ONE_OVER_PI 0.318309873342514038f

MYR_HD static inline float myr_sinf(float x) {
  if (x != x || x - x != 0.0f) return myr__u2f(MYR__NANF_BITS); /* NaN or +-inf */
  float t = x * MYR__ONE_OVER_PI;
  int n = (int)(t + (t < 0.0f ? -0.5f : 0.5f));
  float f2n = (float)(2 * n); /* x - n pi = x - 2n (pi/2), by the parts of pi/2 */
  float r = ((x - f2n * MYR__PIO2_HI) - f2n * MYR__PIO2_MID) - f2n * MYR__PIO2_LO;
  float z = r * r;
  float q = 1.0f / 6227020800.0f;
  q = -1.0f / 39916800.0f + z * q;
  q = 1.0f / 362880.0f + z * q;
  q = -1.0f / 5040.0f + z * q;
  q = 1.0f / 120.0f + z * q;
  q = -1.0f / 6.0f + z * q;
  float y = r + (r * z) * q;
  return (n & 1) ? -y : y;
}

#endif
