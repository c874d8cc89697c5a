/* sim/mathf.h against the C library in double precision: myr_expf on [-87, 88], myr_logf on
 * [1e-30, 1e30], myr_tanhf on [-20, 20], every float there with a stride of a few bit patterns
 * (millions of points per function, all binades). The error is measured in units in the last
 * place of the float result against the double value (a correctly rounded function scores 0.5);
 * the bound is 4 ulp for each function (measured worst: see the printed table). Then the ends
 * of the ranges, subnormals, the special values and symmetries. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "sim/mathf.h"

static uint32_t bits_of(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}
static float float_of(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

/* One unit in the last place of a float of magnitude |ref| (subnormals: 2^-149). */
static double ulp_at(double ref) {
  double a = fabs(ref);
  if (a < 1.1754943508222875e-38) return ldexp(1.0, -149);
  int e;
  frexp(a, &e); /* a = m 2^e, m in [0.5, 1) */
  return ldexp(1.0, e - 24);
}

typedef struct {
  const char *name;
  float (*f)(float);
  double (*ref)(double);
  float lo, hi; /* inputs swept */
  double worst;
  float worst_at;
  long points;
} sweep_case;

static float f_exp(float x) { return myr_expf(x); }
static float f_log(float x) { return myr_logf(x); }
static float f_tanh(float x) { return myr_tanhf(x); }

/* Walks the float bit patterns of [lo, hi] with the given stride (negative half, then
 * positive half), recording the worst error in ulp. */
static void sweep(sweep_case *c, uint32_t stride) {
  for (int side = 0; side < 2; side++) {
    float a = side ? (c->lo > 0 ? c->lo : 0.0f) : (c->hi < 0 ? -c->hi : 0.0f);
    float b = side ? c->hi : -c->lo;
    if (side == 0 && c->lo >= 0) continue;
    if (side == 1 && c->hi <= 0) continue;
    uint32_t ua = bits_of(a), ub = bits_of(b);
    for (uint64_t u = ua; u <= ub; u += stride) {
      float m = float_of((uint32_t)u);
      float x = side ? m : -m;
      double ref = c->ref((double)x);
      float got = c->f(x);
      double err = fabs((double)got - ref) / ulp_at(ref);
      if (!(err <= c->worst)) { /* also catches NaN */
        c->worst = err;
        c->worst_at = x;
      }
      c->points++;
    }
  }
}

static int same_bits(float a, float b) { return bits_of(a) == bits_of(b); }

int main(void) {
  sweep_case cases[] = {
      {"expf", f_exp, exp, -87.0f, 88.0f, 0, 0, 0},
      {"logf", f_log, log, 1e-30f, 1e30f, 0, 0, 0},
      {"tanhf", f_tanh, tanh, -20.0f, 20.0f, 0, 0, 0},
  };
  const double bound = 4.0;
  printf("%-6s %14s %14s %12s %14s\n", "fn", "from", "to", "points", "worst ulp (at)");
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    sweep_case *c = &cases[i];
    sweep(c, 61);
    printf("%-6s %14.6g %14.6g %12ld %8.3f (%.9g)\n", c->name, c->lo, c->hi, c->points, c->worst,
           c->worst_at);
    CHECK(c->worst <= bound, "%s: %.3f ulp at %.9g (bound %.1f)", c->name, c->worst, c->worst_at, bound);
  }

  /* A uniform grid of a million points around where the methods change (exp's reduction
   * boundaries at +-ln2/2, log's sqrt(2) split and 1, tanh's paths at 2^-12 and 0.55). */
  {
    sweep_case near[] = {
        {"expf", f_exp, exp, -0.40f, 0.40f, 0, 0, 0},
        {"logf", f_log, log, 0.65f, 1.5f, 0, 0, 0},
        {"tanhf", f_tanh, tanh, -0.001f, 0.001f, 0, 0, 0},
        {"tanhf", f_tanh, tanh, 0.1f, 1.0f, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof near / sizeof near[0]; i++) {
      sweep_case *c = &near[i];
      const int n = 1000000;
      for (int k = 0; k <= n; k++) {
        float x = c->lo + (c->hi - c->lo) * (float)k / (float)n;
        double ref = c->ref((double)x);
        double err = fabs((double)c->f(x) - ref) / ulp_at(ref);
        if (!(err <= c->worst)) c->worst = err, c->worst_at = x;
        c->points++;
      }
      printf("%-6s %14.6g %14.6g %12ld %8.3f (%.9g)\n", c->name, c->lo, c->hi, c->points, c->worst,
             c->worst_at);
      CHECK(c->worst <= bound, "%s near [%g, %g]: %.3f ulp at %.9g", c->name, c->lo, c->hi, c->worst,
            c->worst_at);
    }
  }

  /* exp: overflow, underflow, subnormal results (2 ulp of the subnormal spacing) */
  const float inf = float_of(0x7f800000u), nan = float_of(0x7fc00000u);
  CHECK(myr_expf(0.0f) == 1.0f, "exp(0) = %.9g", myr_expf(0.0f));
  CHECK(myr_expf(-0.0f) == 1.0f, "exp(-0) = %.9g", myr_expf(-0.0f));
  CHECK(myr_expf(88.72283f) < inf && myr_expf(88.72283f) > 3.40e38f, "exp(88.72283) = %.9g",
        myr_expf(88.72283f));
  CHECK(myr_expf(88.72284f) == inf, "exp(88.72284) = %.9g", myr_expf(88.72284f));
  CHECK(myr_expf(inf) == inf, "exp(inf) = %.9g", myr_expf(inf));
  CHECK(myr_expf(-inf) == 0.0f, "exp(-inf) = %.9g", myr_expf(-inf));
  CHECK(myr_expf(-104.0f) == 0.0f, "exp(-104) = %.9g", myr_expf(-104.0f));
  for (float x = -103.9f; x < -87.0f; x += 0.37f) {
    double ref = exp((double)x);
    CHECK(fabs((double)myr_expf(x) - ref) <= 2.0 * ulp_at(ref), "exp(%.9g) = %.9g, expected %.9g", x,
          myr_expf(x), ref);
  }
  CHECK(same_bits(myr_expf(nan), nan), "exp(NaN) bits 0x%08x", bits_of(myr_expf(nan)));
  CHECK(same_bits(myr_expf(-nan), nan), "exp(-NaN) bits 0x%08x", bits_of(myr_expf(-nan)));
  CHECK(myr_expf(1.0f) == 2.71828183f || fabs(myr_expf(1.0f) - 2.718281828459045) <= 2.4e-7,
        "exp(1) = %.9g", myr_expf(1.0f));

  /* log: zero, negatives, infinities, subnormal inputs, the float extremes */
  CHECK(myr_logf(1.0f) == 0.0f && !signbit(myr_logf(1.0f)), "log(1) = %.9g", myr_logf(1.0f));
  CHECK(myr_logf(0.0f) == -inf, "log(0) = %.9g", myr_logf(0.0f));
  CHECK(myr_logf(-0.0f) == -inf, "log(-0) = %.9g", myr_logf(-0.0f));
  CHECK(same_bits(myr_logf(-1.0f), nan), "log(-1) bits 0x%08x", bits_of(myr_logf(-1.0f)));
  CHECK(same_bits(myr_logf(-inf), nan), "log(-inf) bits 0x%08x", bits_of(myr_logf(-inf)));
  CHECK(same_bits(myr_logf(nan), nan), "log(NaN) bits 0x%08x", bits_of(myr_logf(nan)));
  CHECK(myr_logf(inf) == inf, "log(inf) = %.9g", myr_logf(inf));
  {
    float xs[] = {float_of(1), float_of(0x00012345u), float_of(0x007fffffu), float_of(0x00800000u),
                  float_of(0x7f7fffffu), 2.0f, 0.5f, 1.41421354f, 1.41421366f, 0.99999994f, 1.00000012f};
    for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) {
      double ref = log((double)xs[i]);
      CHECK(fabs((double)myr_logf(xs[i]) - ref) <= bound * ulp_at(ref), "log(%.9g) = %.9g, expected %.9g",
            xs[i], myr_logf(xs[i]), ref);
    }
  }
  /* log(exp(x)) ~ x as a loose round trip */
  for (float x = -80.0f; x <= 80.0f; x += 1.25f)
    CHECK_CLOSE(myr_logf(myr_expf(x)), x, 1e-6, 1e-6);

  /* tanh: odd (bitwise), saturation, zero signs, special values */
  for (float x = 1e-6f; x < 20.0f; x *= 1.37f)
    CHECK(same_bits(myr_tanhf(-x), -myr_tanhf(x)), "tanh(-%.9g) != -tanh(%.9g)", x, x);
  CHECK(same_bits(myr_tanhf(0.0f), 0.0f), "tanh(0) bits 0x%08x", bits_of(myr_tanhf(0.0f)));
  CHECK(same_bits(myr_tanhf(-0.0f), -0.0f), "tanh(-0) bits 0x%08x", bits_of(myr_tanhf(-0.0f)));
  CHECK(myr_tanhf(10.0f) == 1.0f && myr_tanhf(-10.0f) == -1.0f, "tanh(+-10) = %.9g", myr_tanhf(10.0f));
  CHECK(myr_tanhf(inf) == 1.0f && myr_tanhf(-inf) == -1.0f, "tanh(+-inf) = %.9g", myr_tanhf(inf));
  CHECK(same_bits(myr_tanhf(nan), nan), "tanh(NaN) bits 0x%08x", bits_of(myr_tanhf(nan)));
  CHECK(myr_tanhf(float_of(1)) == float_of(1), "tanh(min subnormal) = %.9g", myr_tanhf(float_of(1)));
  for (float x = 0.0f; x < 12.0f; x += 0.001f) /* monotone */
    CHECK(myr_tanhf(x + 0.001f) >= myr_tanhf(x), "tanh not monotone at %.9g", x);

  return check_summary();
}
