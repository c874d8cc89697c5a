/* myr_rng_*: counter-based Philox4x32-10 (Salmon et al., SC'11; the Random123 generator),
 * keyed per DESIGN §4: key = agent id (or cell index), counter = (draw block, purpose, step,
 * seed). There is no generator state to carry between steps or ranks: any draw of any agent
 * can be recomputed anywhere, which is what makes results independent of rank and thread
 * counts. MYR_HD: the same code runs in CPU loops and CUDA kernels.
 *
 *   myr_rng r = myr_rng_make(seed, id, step, MYR_RNG_DECIDE);
 *   float u = myr_rng_uniform(&r);   // [0, 1)
 *
 * Each myr_rng consumes Philox blocks 0, 1, 2, ... of its stream, four 32-bit words a block. */
#ifndef MYR_RNG_H
#define MYR_RNG_H

#include <math.h>
#include <stdint.h>

#include "sim/hd.h"

/* Stream purposes: one per use, so that no two uses ever share random numbers. Models take
 * their own from MYR_RNG_MODEL upwards. */
enum {
  MYR_RNG_INIT_AGENT = 1,
  MYR_RNG_INIT_CELL = 2,
  MYR_RNG_DECIDE = 3,
  MYR_RNG_ACT = 4,
  MYR_RNG_SYNC = 5,
  MYR_RNG_BIRTH = 6,
  MYR_RNG_SEARCH = 16,
  MYR_RNG_TRAIN = 32,
  MYR_RNG_MODEL = 64
};

typedef struct myr_u32x4 {
  uint32_t v[4];
} myr_u32x4;

MYR_HD static inline uint32_t myr__mulhilo32(uint32_t a, uint32_t b, uint32_t *hi) {
  uint64_t p = (uint64_t)a * b;
  *hi = (uint32_t)(p >> 32);
  return (uint32_t)p;
}

/* One Philox4x32 bijection with 10 rounds: the Random123 reference function. */
MYR_HD static inline myr_u32x4 myr_philox4x32_10(myr_u32x4 c, uint32_t k0, uint32_t k1) {
  for (int round = 0; round < 10; round++) {
    if (round > 0) {
      k0 += 0x9E3779B9u; /* golden ratio */
      k1 += 0xBB67AE85u; /* sqrt(3) - 1 */
    }
    uint32_t hi0, hi1;
    uint32_t lo0 = myr__mulhilo32(0xD2511F53u, c.v[0], &hi0);
    uint32_t lo1 = myr__mulhilo32(0xCD9E8D57u, c.v[2], &hi1);
    myr_u32x4 n = {{hi1 ^ c.v[1] ^ k0, lo1, hi0 ^ c.v[3] ^ k1, lo0}};
    c = n;
  }
  return c;
}

typedef struct myr_rng {
  uint32_t k0, k1;        /* key: the id */
  uint32_t purpose, step; /* counter words 1 and 2 */
  uint32_t seed;          /* counter word 3 */
  uint32_t block;         /* next counter word 0 */
  uint32_t b0, b1, b2, b3; /* the current block's words (scalars: GPU registers, not a local array) */
  int used;               /* words of the block already handed out (4 = empty) */
} myr_rng;

MYR_HD static inline myr_rng myr_rng_make(uint32_t seed, uint64_t id, uint64_t step, uint32_t purpose) {
  myr_rng r;
  r.k0 = (uint32_t)id;
  r.k1 = (uint32_t)(id >> 32);
  r.purpose = purpose;
  r.step = (uint32_t)step;
  r.seed = seed;
  r.block = 0;
  r.used = 4;
  r.b0 = r.b1 = r.b2 = r.b3 = 0;
  return r;
}

/* The next four words (one whole Philox block). */
MYR_HD static inline myr_u32x4 myr_rng_block(myr_rng *r) {
  myr_u32x4 c = {{r->block++, r->purpose, r->step, r->seed}};
  return myr_philox4x32_10(c, r->k0, r->k1);
}

MYR_HD static inline uint32_t myr_rng_u32(myr_rng *r) {
  if (r->used == 4) {
    myr_u32x4 b = myr_rng_block(r);
    r->b0 = b.v[0]; r->b1 = b.v[1]; r->b2 = b.v[2]; r->b3 = b.v[3];
    r->used = 0;
  }
  int k = r->used++;
  return k == 0 ? r->b0 : k == 1 ? r->b1 : k == 2 ? r->b2 : r->b3;
}

MYR_HD static inline uint64_t myr_rng_u64(myr_rng *r) {
  uint64_t lo = myr_rng_u32(r);
  return lo | ((uint64_t)myr_rng_u32(r) << 32);
}

/* Uniform float in [0, 1): 24 random bits, exact in float. */
MYR_HD static inline float myr_rng_uniform(myr_rng *r) {
  return (float)(myr_rng_u32(r) >> 8) * (1.0f / 16777216.0f);
}

/* Uniform double in [0, 1): 53 random bits. */
MYR_HD static inline double myr_rng_uniform_double(myr_rng *r) {
  return (double)(myr_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Uniform integer in [0, n), n >= 1: multiply-high (Lemire) without rejection. The bias is
 * at most n / 2^32 (2e-9 for n = 9) and the draw count is fixed, which keeps streams aligned. */
MYR_HD static inline uint32_t myr_rng_below(myr_rng *r, uint32_t n) {
  return (uint32_t)(((uint64_t)myr_rng_u32(r) * n) >> 32);
}

/* Bernoulli(p). */
MYR_HD static inline int myr_rng_chance(myr_rng *r, double p) { return myr_rng_uniform_double(r) < p; }

/* Standard normal by Box-Muller (one value per call, two doubles drawn). Uses log/cos, whose
 * last bit may differ between the C library and CUDA: equal in distribution, not bitwise. */
MYR_HD static inline double myr_rng_normal(myr_rng *r) {
  double u1 = 1.0 - myr_rng_uniform_double(r); /* (0, 1] */
  double u2 = myr_rng_uniform_double(r);
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* Gamma(shape k > 0, scale theta) by Marsaglia and Tsang (2000), with the u^(1/k) boost for
 * k < 1. Mean k * theta, variance k * theta^2. */
MYR_HD static inline double myr_rng_gamma(myr_rng *r, double k, double theta) {
  double boost = 1.0;
  if (k < 1.0) {
    double u = 1.0 - myr_rng_uniform_double(r);
    boost = pow(u, 1.0 / k);
    k += 1.0;
  }
  double d = k - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
  for (;;) {
    double x = myr_rng_normal(r), v = 1.0 + c * x;
    if (v <= 0.0) continue;
    v = v * v * v;
    double u = 1.0 - myr_rng_uniform_double(r);
    if (log(u) < 0.5 * x * x + d - d * v + d * log(v)) return d * v * theta * boost;
  }
}

/* The id of the child that `parent` creates at `step`: a pure function of the two (DESIGN §3),
 * so that it never depends on which rank made it. A bijective 64-bit mix of (parent, step),
 * with the top bit set so it never equals an initial id (0 .. count-1). Two different
 * (parent, step) pairs collide with probability about births^2 / 2^64; the state hash checks
 * every id for uniqueness and reports a collision. */
MYR_HD static inline uint64_t myr_child_id(uint64_t parent, uint64_t step) {
  uint64_t z = parent + 0x9E3779B97F4A7C15ull * (step + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return z | 0x8000000000000000ull;
}

#endif
