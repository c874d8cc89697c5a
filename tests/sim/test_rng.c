/* myr_rng: Philox4x32-10 against the Random123 known-answer vectors (tests/kat_vectors of the
 * Random123 distribution, lines "philox4x32 10 ..."), then the draw functions against their
 * distributions' exact moments with tolerances of 6 standard errors (a false failure has
 * probability ~1e-9), and the purity of child ids. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "sim/rng.h"

static void known_answers(void) {
  /* counter[4], key[2], expected[4] */
  static const uint32_t kat[3][10] = {
      {0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000,
       0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
      {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff,
       0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
      {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0,
       0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1},
  };
  for (int t = 0; t < 3; t++) {
    myr_u32x4 c = {{kat[t][0], kat[t][1], kat[t][2], kat[t][3]}};
    myr_u32x4 r = myr_philox4x32_10(c, kat[t][4], kat[t][5]);
    for (int k = 0; k < 4; k++) CHECK_EQ_U32(r.v[k], kat[t][6 + k]);
  }
  /* The stream layout: block b of (seed, id, step, purpose) is Philox of
   * counter (b, purpose, step, seed) under key (id lo, id hi). */
  myr_rng r = myr_rng_make(0x03707344u, 0x299f31d0a4093822ull, 0x13198a2eu, 0x85a308d3u);
  r.block = 0x243f6a88u;
  uint32_t expect[4] = {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1};
  for (int k = 0; k < 4; k++) CHECK_EQ_U32(myr_rng_u32(&r), expect[k]);
}

/* Mean and variance of n draws of fn against exact values, 6 standard errors. */
typedef double (*draw_fn)(myr_rng *r, const double *arg);
static void moments(const char *name, draw_fn fn, const double *arg, double mean, double var, double kurt_excess) {
  const int n = 400000;
  double s = 0, s2 = 0;
  for (int i = 0; i < n; i++) {
    myr_rng r = myr_rng_make(7, (uint64_t)i, 3, MYR_RNG_MODEL);
    double x = fn(&r, arg);
    s += x;
    s2 += x * x;
  }
  double m = s / n, v = s2 / n - m * m;
  double se_mean = sqrt(var / n), se_var = var * sqrt((2.0 + kurt_excess) / n);
  CHECK(fabs(m - mean) <= 6 * se_mean, "%s mean %.6f, expected %.6f +- %.6f", name, m, mean, 6 * se_mean);
  CHECK(fabs(v - var) <= 6 * se_var, "%s variance %.6f, expected %.6f +- %.6f", name, v, var, 6 * se_var);
}

static double d_uniform(myr_rng *r, const double *a) { (void)a; return myr_rng_uniform(r); }
static double d_uniform_double(myr_rng *r, const double *a) { (void)a; return myr_rng_uniform_double(r); }
static double d_below(myr_rng *r, const double *a) { return myr_rng_below(r, (uint32_t)a[0]); }
static double d_normal(myr_rng *r, const double *a) { (void)a; return myr_rng_normal(r); }
static double d_gamma(myr_rng *r, const double *a) { return myr_rng_gamma(r, a[0], a[1]); }

static void distributions(void) {
  moments("uniform", d_uniform, NULL, 0.5, 1.0 / 12, -1.2);
  moments("uniform_double", d_uniform_double, NULL, 0.5, 1.0 / 12, -1.2);
  double nine[1] = {9};
  moments("below(9)", d_below, nine, 4.0, (81.0 - 1) / 12, -1.23);
  moments("normal", d_normal, NULL, 0.0, 1.0, 0.0);
  double g[3][2] = {{0.5, 2.0}, {2.0, 1.5}, {9.0, 0.5}};
  for (int k = 0; k < 3; k++) /* excess kurtosis of Gamma(k) is 6/k */
    moments("gamma", d_gamma, g[k], g[k][0] * g[k][1], g[k][0] * g[k][1] * g[k][1], 6.0 / g[k][0]);

  /* Ranges: below(n) in [0, n), uniform in [0, 1), every value of below(9) drawn. */
  int seen[9] = {0}, bad = 0;
  for (int i = 0; i < 100000; i++) {
    myr_rng r = myr_rng_make(1, (uint64_t)i, 0, MYR_RNG_DECIDE);
    uint32_t k = myr_rng_below(&r, 9);
    float u = myr_rng_uniform(&r);
    if (k >= 9 || u < 0.0f || u >= 1.0f) bad++;
    else seen[k]++;
  }
  CHECK(bad == 0, "%d draws out of range", bad);
  for (int k = 0; k < 9; k++) CHECK(seen[k] > 10000, "below(9) drew %d only %d times", k, seen[k]);
}

static void streams(void) {
  /* Pure: the same (seed, id, step, purpose) gives the same numbers; any change gives others. */
  myr_rng a = myr_rng_make(42, 1234, 10, MYR_RNG_ACT), b = myr_rng_make(42, 1234, 10, MYR_RNG_ACT);
  for (int i = 0; i < 10; i++) CHECK_EQ_U32(myr_rng_u32(&a), myr_rng_u32(&b));
  myr_rng base = myr_rng_make(42, 1234, 10, MYR_RNG_ACT);
  uint32_t first = myr_rng_u32(&base);
  myr_rng v[4] = {myr_rng_make(43, 1234, 10, MYR_RNG_ACT), myr_rng_make(42, 1235, 10, MYR_RNG_ACT),
                  myr_rng_make(42, 1234, 11, MYR_RNG_ACT), myr_rng_make(42, 1234, 10, MYR_RNG_DECIDE)};
  for (int k = 0; k < 4; k++) CHECK(myr_rng_u32(&v[k]) != first, "variant %d repeats the base stream", k);
  /* Ids above 2^32 use the key's high word. */
  myr_rng hi1 = myr_rng_make(42, 5, 0, 1), hi2 = myr_rng_make(42, 5 + (1ull << 32), 0, 1);
  CHECK(myr_rng_u32(&hi1) != myr_rng_u32(&hi2), "the id's high word is ignored");
}

static void child_ids(void) {
  CHECK(myr_child_id(17, 5) == myr_child_id(17, 5), "child id is not a pure function");
  CHECK(myr_child_id(17, 5) != myr_child_id(17, 6), "same id for two steps");
  CHECK(myr_child_id(17, 5) != myr_child_id(18, 5), "same id for two parents");
  CHECK(myr_child_id(0, 0) >> 63, "child id without the top bit");
  /* No collision among 200k (parent, step) pairs (expected collisions ~ 2e-9). */
  enum { N = 200000 };
  static uint64_t ids[N];
  for (int i = 0; i < N; i++) ids[i] = myr_child_id((uint64_t)(i % 1000), (uint64_t)(i / 1000));
  int collisions = 0;
  for (int i = 0; i < N; i++)
    for (int j = i + 1; j < i + 2000 && j < N; j++) collisions += ids[i] == ids[j];
  CHECK(collisions == 0, "%d child-id collisions among neighbours", collisions);
}

int main(void) {
  known_answers();
  distributions();
  streams();
  child_ids();
  return check_summary();
}
