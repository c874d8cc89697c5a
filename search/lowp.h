/* 16-bit floats for search/: bf16 (the network's bf16 path) and IEEE binary16 (the tree's
 * stored priors), converted with integer operations only, round to nearest even, so the C
 * compiler and nvcc give the same bits (no dependence on hardware conversion instructions,
 * flush-to-zero modes or libm). MYR_HD: compiles as C11 and CUDA C++. */
#ifndef MYR_LOWP_H
#define MYR_LOWP_H

#include <stdint.h>
#include <string.h> /* memcpy: the bit casts */

#include "sim/hd.h"

MYR_HD static inline uint32_t myr_float_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}
MYR_HD static inline float myr_bits_float(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

/* bf16 of x, round to nearest even (NaN stays NaN; overflow goes to infinity). */
MYR_HD static inline uint16_t myr_bf16_bits(float x) {
  uint32_t u = myr_float_bits(x);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40u); /* quiet NaN */
  u += 0x7fffu + ((u >> 16) & 1u);
  return (uint16_t)(u >> 16);
}
MYR_HD static inline float myr_bf16_float(uint16_t h) { return myr_bits_float((uint32_t)h << 16); }
/* x rounded to the nearest bf16, as a float. */
MYR_HD static inline float myr_bf16_round(float x) { return myr_bf16_float(myr_bf16_bits(x)); }

/* IEEE binary16 of x, round to nearest even, with subnormals (|x| >= 65520 gives infinity). */
MYR_HD static inline uint16_t myr_half_bits(float x) {
  uint32_t u = myr_float_bits(x);
  uint32_t sign = (u >> 16) & 0x8000u, ax = u & 0x7fffffffu;
  if (ax > 0x7f800000u) return (uint16_t)(sign | 0x7e00u);      /* NaN */
  if (ax >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u);     /* rounds to >= 2^16: infinity */
  if (ax >= 0x38800000u) {                                       /* normal: >= 2^-14 */
    uint32_t h = (ax - 0x38000000u) >> 13, rest = ax & 0x1fffu; /* rebias 127 -> 15 */
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) h++;   /* a carry moves the exponent */
    return (uint16_t)(sign | h);
  }
  if (ax < 0x33000000u) return (uint16_t)sign;                   /* below 2^-25: zero */
  /* subnormal: the value in units of 2^-24 is M * 2^(e - 126), M the 24-bit significand */
  uint32_t e = ax >> 23, m = (ax & 0x7fffffu) | 0x800000u, s = 126u - e; /* s in 14 .. 24 */
  uint32_t h = m >> s, rest = m & ((1u << s) - 1u), half = 1u << (s - 1u);
  if (rest > half || (rest == half && (h & 1u))) h++;            /* 1024 is 2^-14: still right */
  return (uint16_t)(sign | h);
}
MYR_HD static inline float myr_half_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
  if (e == 0) {
    float v = (float)m * 5.9604644775390625e-8f; /* m * 2^-24: exact */
    return sign ? -v : v;
  }
  if (e == 31) return myr_bits_float(sign | 0x7f800000u | (m << 13));
  return myr_bits_float(sign | ((e + 112u) << 23) | (m << 13));
}

#endif
