/* The policy-value network on the CPU (search/net.*):
 * - shapes: validation messages name what is wrong; parameter counts and offsets;
 * - myr_net_forward_row against a double-precision forward pass written here, per output
 *   |got - ref| <= 1e-4 + |ref| * 1e-5 (float sums of up to 128 products);
 * - batch independence (DESIGN §4.5): a row gives identical bits at any position in batches of
 *   any size, and with 1 or 4 threads;
 * - the prior: sums to 1 within 1e-6 over legal actions, exactly 0 on illegal ones, all 0 with no
 *   legal action, no overflow for large logits; matches a double softmax within 1e-6 + 1e-5 rel;
 * - He-uniform init: per layer mean 0 and variance 2 / fan_in within 6 standard errors, inside
 *   the bound, zero biases, the same for the same seed and different for another;
 * - HDF5 save/load bit-exact; a load with another shape fails and says what differs;
 * - 16-bit floats (search/lowp.h), exhaustively: every finite bf16 and binary16 value converts to
 *   float and back unchanged, the midpoint between neighbours rounds to the even one and a float
 *   ulp either side to the nearer one;
 * - the bf16 reference row: the batched CPU forward with precision bf16 gives its bits, and it is
 *   within 0.03 + 0.03 |ref| of the fp32 row (the tolerance the GPU test also uses), per output. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "search/net.h"
#include "sim/rng.h"

static myr_net_shape shape_of(int inputs, const int *hidden, int n_hidden, int actions) {
  myr_net_shape s;
  myr_error e;
  REQUIRE(myr_net_shape_make(&s, inputs, hidden, n_hidden, actions, &e) == MYR_OK, "%s", e.msg);
  return s;
}

/* A network with all parameters U(-scale, scale) (biases too, so they are exercised). */
static myr_net random_net(const myr_net_shape *s, uint32_t seed, float scale) {
  myr_net n;
  myr_error e;
  REQUIRE(myr_net_create(&n, s, seed, &e) == MYR_OK, "%s", e.msg);
  myr_rng r = myr_rng_make(seed, 7, 1, MYR_RNG_MODEL);
  for (size_t i = 0; i < n.n_params; i++) n.w[i] = (2.0f * myr_rng_uniform(&r) - 1.0f) * scale;
  return n;
}

static void random_rows(float *x, int64_t rows, int width, uint32_t seed) {
  myr_rng r = myr_rng_make(seed, 99, 2, MYR_RNG_MODEL);
  for (int64_t i = 0; i < rows * width; i++) x[i] = 2.0f * myr_rng_uniform(&r) - 1.0f;
}

static int same_bits(const float *a, const float *b, size_t n) { return memcmp(a, b, n * sizeof *a) == 0; }

static void test_shapes(void) {
  myr_net_shape s;
  myr_error e;
  int h[] = {128, 128};
  CHECK(myr_net_shape_make(&s, 16, h, 2, 9, &e) == MYR_OK, "%s", e.msg);
  CHECK_EQ_I64(s.layers, 3);
  CHECK_EQ_I64(s.size[3], 10);
  CHECK_EQ_I64(myr_net_param_count(&s), 16 * 128 + 128 + 128 * 128 + 128 + 128 * 10 + 10);
  CHECK_EQ_I64(myr_net_weight_offset(&s, 1), 16 * 128 + 128);
  CHECK_EQ_I64(myr_net_bias_offset(&s, 1), 16 * 128 + 128 + 128 * 128);
  char buf[MYR_NET_SHAPE_STR];
  CHECK(strcmp(myr_net_shape_str(&s, buf, sizeof buf), "16-128-128-10") == 0, "shape string %s", buf);

  CHECK(myr_net_shape_make(&s, 5, NULL, 0, 3, &e) == MYR_OK && s.layers == 1, "no hidden layer: %s", e.msg);

  struct {
    int inputs, n_hidden, hidden0, actions;
    const char *says;
  } bad[] = {
      {0, 1, 8, 4, "inputs has width 0"},          {1025, 1, 8, 4, "inputs has width 1025"},
      {4, 1, 0, 4, "hidden layer 1 has width 0"},  {4, 1, 2000, 4, "hidden layer 1 has width 2000"},
      {4, 1, 8, 0, "0 actions"},                   {4, 1, 8, 33, "33 actions"},
      {4, MYR_NET_MAX_LAYERS, 8, 4, "hidden layers, expected 0 to"},
      {4, -1, 8, 4, "-1 hidden layers"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int hid[MYR_NET_MAX_LAYERS];
    for (int l = 0; l < MYR_NET_MAX_LAYERS; l++) hid[l] = bad[i].hidden0;
    e.msg[0] = '\0';
    myr_status st = myr_net_shape_make(&s, bad[i].inputs, hid, bad[i].n_hidden, bad[i].actions, &e);
    CHECK(st == MYR_ERR_CONFIG && strstr(e.msg, bad[i].says), "case %zu: status %d, message \"%s\", expected \"%s\"",
          i, (int)st, e.msg, bad[i].says);
  }
}

/* The forward pass in double, written from the definition (W_l [out][in], then b_l). */
static void forward_double(const myr_net *n, const float *x, double *out) {
  double a[MYR_NET_MAX_WIDTH], b[MYR_NET_MAX_WIDTH];
  for (int k = 0; k < n->shape.size[0]; k++) a[k] = x[k];
  for (int l = 0; l < n->shape.layers; l++) {
    int ni = n->shape.size[l], no = n->shape.size[l + 1];
    const float *W = n->w + myr_net_weight_offset(&n->shape, l), *bias = n->w + myr_net_bias_offset(&n->shape, l);
    for (int j = 0; j < no; j++) {
      double s = bias[j];
      for (int k = 0; k < ni; k++) s += (double)W[(size_t)j * ni + k] * a[k];
      b[j] = l == n->shape.layers - 1 ? s : (s > 0 ? s : 0);
    }
    memcpy(a, b, (size_t)no * sizeof *a);
  }
  memcpy(out, a, (size_t)n->shape.size[n->shape.layers] * sizeof *out);
}

static void test_forward_reference(void) {
  int h1[] = {128, 128}, h2[] = {64}, h3[] = {1024, 7};
  myr_net_shape shapes[] = {shape_of(16, h1, 2, 9), shape_of(11, h2, 1, 9), shape_of(3, NULL, 0, 1),
                            shape_of(200, h3, 2, 32)};
  double worst = 0;
  for (size_t c = 0; c < sizeof shapes / sizeof shapes[0]; c++) {
    myr_net n = random_net(&shapes[c], 3 + (uint32_t)c, 0.2f);
    const int rows = 200, ni = shapes[c].size[0], no = shapes[c].size[shapes[c].layers];
    float *x = malloc(sizeof(float) * rows * ni), out[64], scratch[2 * MYR_NET_MAX_WIDTH];
    double ref[64];
    REQUIRE(x, "out of memory");
    random_rows(x, rows, ni, 5 + (uint32_t)c);
    myr_net_view v = myr_net_view_of(&n);
    int bad = 0;
    for (int r = 0; r < rows; r++) {
      myr_net_forward_row(&v, x + (size_t)r * ni, out, scratch);
      forward_double(&n, x + (size_t)r * ni, ref);
      for (int j = 0; j < no; j++) {
        double d = fabs(out[j] - ref[j]), tol = 1e-4 + fabs(ref[j]) * 1e-5;
        if (d / tol > worst) worst = d / tol;
        if (d > tol && bad++ < 5)
          CHECK(d <= tol, "shape %zu row %d output %d: %.9g vs %.9g", c, r, j, out[j], ref[j]);
      }
    }
    CHECK(bad == 0, "shape %zu: %d outputs outside 1e-4 + 1e-5 |ref|", c, bad);
    free(x);
    myr_net_free(&n);
  }
  printf("forward vs double: worst error %.3f of the tolerance 1e-4 + 1e-5 |ref|\n", worst);
}

static void test_batch_independence(void) {
  int h[] = {128, 128};
  myr_net_shape s = shape_of(16, h, 2, 9);
  myr_net n = random_net(&s, 11, 0.15f);
  myr_net_view v = myr_net_view_of(&n);
  const int ni = 16, no = 10, rows = 1000;
  float *x = malloc(sizeof(float) * rows * ni), *o1 = malloc(sizeof(float) * rows * no),
        *o4 = malloc(sizeof(float) * rows * no);
  REQUIRE(x && o1 && o4, "out of memory");
  random_rows(x, rows, ni, 12);
  myr_net_forward_cpu(&v, x, o1, rows, 1);
  /* The batched CPU path (blocks of rows, vectorised) gives myr_net_forward_row's bits. */
  float scratch[2 * MYR_NET_MAX_WIDTH], one[10];
  int row_diffs = 0;
  for (int r = 0; r < rows; r++) {
    myr_net_forward_row(&v, x + (size_t)r * ni, one, scratch);
    row_diffs += !same_bits(one, o1 + (size_t)r * no, no);
  }
  CHECK(row_diffs == 0, "%d rows of myr_net_forward_cpu differ from myr_net_forward_row", row_diffs);
  myr_net_forward_cpu(&v, x, o4, rows, 4);
  CHECK(same_bits(o1, o4, (size_t)rows * no), "1 and 4 threads differ");
  myr_net_forward_cpu(&v, x, o4, rows, 0);
  CHECK(same_bits(o1, o4, (size_t)rows * no), "1 thread and OpenMP's default differ");
  /* rows placed at other positions of batches of other sizes (the rest other random rows) */
  int sizes[] = {1, 2, 7, 64, 333};
  float *bx = malloc(sizeof(float) * 333 * ni), *bo = malloc(sizeof(float) * 333 * no);
  REQUIRE(bx && bo, "out of memory");
  int diffs = 0;
  for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++) {
    int m = sizes[t];
    random_rows(bx, m, ni, 100 + (uint32_t)t);
    for (int r = 0; r < rows; r += 37) {
      int pos = (r * 7 + (int)t) % m;
      memcpy(bx + (size_t)pos * ni, x + (size_t)r * ni, sizeof(float) * ni);
      myr_net_forward_cpu(&v, bx, bo, m, (int)(t % 4) + 1);
      if (!same_bits(bo + (size_t)pos * no, o1 + (size_t)r * no, no)) diffs++;
    }
  }
  CHECK(diffs == 0, "%d rows changed bits with their batch and position", diffs);
  myr_net_forward_cpu(&v, x, NULL, 0, 4); /* no rows: nothing touched */
  free(bx), free(bo), free(x), free(o1), free(o4);
  myr_net_free(&n);
}

static void test_prior(void) {
  myr_rng r = myr_rng_make(1, 2, 3, MYR_RNG_MODEL);
  int bad_sum = 0, bad_illegal = 0, bad_ref = 0;
  for (int t = 0; t < 20000; t++) {
    int actions = 1 + (int)myr_rng_below(&r, 32);
    uint32_t legal = myr_rng_u32(&r) & (actions == 32 ? 0xffffffffu : ((1u << actions) - 1));
    float scale = t % 3 == 0 ? 100.0f : t % 3 == 1 ? 5.0f : 0.01f;
    float logits[32], p[32];
    for (int a = 0; a < actions; a++) logits[a] = (2.0f * myr_rng_uniform(&r) - 1.0f) * scale;
    myr_net_prior(logits, legal, actions, p);
    double sum = 0, mx = -INFINITY, z = 0;
    for (int a = 0; a < actions; a++)
      if (legal >> a & 1u) mx = fmax(mx, logits[a]);
    for (int a = 0; a < actions; a++)
      if (legal >> a & 1u) z += exp((double)logits[a] - mx);
    for (int a = 0; a < actions; a++) {
      if (!(legal >> a & 1u)) {
        if (p[a] != 0.0f || signbit(p[a])) bad_illegal++;
        continue;
      }
      sum += p[a];
      double ref = exp((double)logits[a] - mx) / z;
      if (fabs(p[a] - ref) > 1e-6 + 1e-5 * ref) bad_ref++;
    }
    if (legal && fabs(sum - 1.0) > 1e-6) bad_sum++;
    if (!legal) {
      int nz = 0;
      for (int a = 0; a < actions; a++) nz += p[a] != 0.0f;
      CHECK(nz == 0, "no legal action: %d nonzero priors", nz);
    }
  }
  CHECK(bad_sum == 0, "%d priors do not sum to 1 within 1e-6", bad_sum);
  CHECK(bad_illegal == 0, "%d illegal actions with a nonzero prior", bad_illegal);
  CHECK(bad_ref == 0, "%d priors off the double softmax by more than 1e-6 + 1e-5 ref", bad_ref);

  float big[4] = {1000.0f, -1000.0f, 999.0f, 3e38f}, p[4];
  myr_net_prior(big, 0x7u, 4, p); /* the 3e38 is illegal: ignored */
  CHECK(p[3] == 0.0f && p[1] == 0.0f && fabs(p[0] - 0.7310586) < 1e-6 && fabs(p[2] - 0.2689414) < 1e-6,
        "large logits: %.9g %.9g %.9g %.9g", p[0], p[1], p[2], p[3]);
  float one[1] = {-5.0f};
  myr_net_prior(one, 1u, 1, p);
  CHECK(p[0] == 1.0f, "one legal action: %.9g", p[0]);
}

static void test_init(void) {
  int h[] = {128, 64};
  myr_net_shape s = shape_of(300, h, 2, 31);
  myr_net a, b, c;
  myr_error e;
  REQUIRE(myr_net_create(&a, &s, 42, &e) == MYR_OK, "%s", e.msg);
  REQUIRE(myr_net_create(&b, &s, 42, &e) == MYR_OK, "%s", e.msg);
  REQUIRE(myr_net_create(&c, &s, 43, &e) == MYR_OK, "%s", e.msg);
  CHECK_EQ_I64(a.n_params, myr_net_param_count(&s));
  CHECK(same_bits(a.w, b.w, a.n_params), "same seed, different weights");
  CHECK(!same_bits(a.w, c.w, a.n_params), "seeds 42 and 43 give the same weights");
  for (int l = 0; l < s.layers; l++) {
    int fan_in = s.size[l], fan_out = s.size[l + 1];
    size_t nw = (size_t)fan_in * fan_out;
    const float *W = a.w + myr_net_weight_offset(&s, l), *bias = a.w + myr_net_bias_offset(&s, l);
    double bound = sqrt(6.0 / fan_in), m = 0, v = 0;
    int outside = 0;
    for (size_t i = 0; i < nw; i++) {
      m += W[i];
      outside += fabs(W[i]) > bound;
    }
    m /= (double)nw;
    for (size_t i = 0; i < nw; i++) v += (W[i] - m) * (W[i] - m);
    v /= (double)(nw - 1);
    double var = 2.0 / fan_in;                      /* bound^2 / 3 */
    double se_m = sqrt(var / nw);                   /* standard error of the mean */
    double se_v = sqrt(4.0 * pow(bound, 4) / 45.0 / nw); /* of the variance: (E x^4 - var^2) / n */
    CHECK(fabs(m) <= 6 * se_m, "layer %d: mean %.3g, 6 se = %.3g", l, m, 6 * se_m);
    CHECK(fabs(v - var) <= 6 * se_v, "layer %d: variance %.5g, expected %.5g +- %.3g", l, v, var, 6 * se_v);
    CHECK(outside == 0, "layer %d: %d weights outside +-%.4g", l, outside, bound);
    int nonzero = 0;
    for (int j = 0; j < fan_out; j++) nonzero += bias[j] != 0.0f;
    CHECK(nonzero == 0, "layer %d: %d nonzero biases", l, nonzero);
  }
  myr_net_free(&a), myr_net_free(&b), myr_net_free(&c);
  CHECK(a.w == NULL && a.n_params == 0, "myr_net_free leaves w = %p", (void *)a.w);
  myr_net_free(&a); /* twice is harmless */

  myr_net_shape broken = s;
  broken.size[1] = 0;
  CHECK(myr_net_create(&a, &broken, 1, &e) == MYR_ERR_CONFIG && strstr(e.msg, "hidden layer 1"),
        "create with a bad shape: %s", e.msg);
}

static void test_save_load(void) {
  int h[] = {128, 128}, h2[] = {64};
  myr_net_shape s = shape_of(16, h, 2, 9);
  myr_net n = random_net(&s, 21, 1.0f), m;
  myr_error e;
  const char *path = "test_net_tmp/net.h5";
  REQUIRE(myr_net_save(&n, path, &e) == MYR_OK, "%s", e.msg);
  CHECK(myr_net_load(&m, path, &s, &e) == MYR_OK, "%s", e.msg);
  CHECK(m.n_params == n.n_params && myr_net_shape_equal(&m.shape, &s) && same_bits(m.w, n.w, n.n_params),
        "round trip differs");
  myr_net_free(&m);
  CHECK(myr_net_load(&m, path, NULL, &e) == MYR_OK && myr_net_shape_equal(&m.shape, &s), "no expectation: %s",
        e.msg);
  myr_net_free(&m);

  struct {
    myr_net_shape want;
    const char *says;
  } wrong[] = {
      {shape_of(16, h2, 1, 9), "has 3 weight layers (16-128-128-10), expected 2 (16-64-10)"},
      {shape_of(17, h, 2, 9), "inputs is 16, expected 17"},
      {shape_of(16, (int[]){128, 96}, 2, 9), "hidden layer 2 is 128, expected 96"},
      {shape_of(16, h, 2, 8), "outputs (actions + 1) is 10, expected 9"},
  };
  for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
    e.msg[0] = '\0';
    myr_status st = myr_net_load(&m, path, &wrong[i].want, &e);
    CHECK(st == MYR_ERR_CHECKPOINT && strstr(e.msg, wrong[i].says) && m.w == NULL,
          "wrong shape %zu: status %d, \"%s\", expected to contain \"%s\"", i, (int)st, e.msg, wrong[i].says);
  }
  CHECK(myr_net_load(&m, "test_net_tmp/missing.h5", NULL, &e) == MYR_ERR_HDF5 && strstr(e.msg, "missing.h5"),
        "missing file: %s", e.msg);
  remove(path);
  remove("test_net_tmp");
  myr_net_free(&n);
}

/* Every finite 16-bit value v of a format (to/from: float conversions, `bits` of mantissa):
 * round trip, and rounding of the midpoints to the next value up. */
static void check_16bit(const char *name, uint16_t (*to)(float), float (*from)(uint16_t), uint16_t inf) {
  int bad = 0;
  for (uint32_t h = 0; h < 0x10000u; h++) {
    uint16_t v = (uint16_t)h;
    if ((v & 0x7fffu) >= inf) continue; /* infinities and NaNs */
    float f = from(v);
    if (to(f) != v && bad++ < 5) fprintf(stderr, "%s: 0x%04x -> %g -> 0x%04x\n", name, v, (double)f, to(f));
    uint16_t up = (uint16_t)(v + 1u); /* the next value away from zero */
    if ((up & 0x7fffu) >= inf || (v & 0x7fffu) == 0x7fffu) continue;
    double mid = 0.5 * ((double)f + (double)from(up));
    float m = (float)mid; /* exact: one bit more than the 16-bit format */
    uint16_t even = (v & 1u) ? up : v;
    if ((double)m != mid || to(m) != even) {
      if (bad++ < 5) fprintf(stderr, "%s: midpoint of 0x%04x and 0x%04x gives 0x%04x\n", name, v, up, to(m));
      continue;
    }
    float below = nextafterf(m, 0.0f), above = nextafterf(m, m > 0 ? INFINITY : -INFINITY);
    if ((to(below) != v || to(above) != up) && bad++ < 5)
      fprintf(stderr, "%s: around the midpoint of 0x%04x: 0x%04x, 0x%04x\n", name, v, to(below), to(above));
  }
  CHECK(bad == 0, "%s: %d conversions wrong", name, bad);
}

static void test_16bit(void) {
  check_16bit("bf16", myr_bf16_bits, myr_bf16_float, 0x7f80u);
  check_16bit("binary16", myr_half_bits, myr_half_float, 0x7c00u);
  CHECK_EQ_U32(myr_half_bits(65520.0f), 0x7c00u);
  CHECK_EQ_U32(myr_half_bits(65519.0f), 0x7bffu);
  CHECK_EQ_U32(myr_half_bits(1e-9f), 0u);
  CHECK_EQ_U32(myr_bf16_bits(1.0f + 1.0f / 256.0f), 0x3f80u); /* a tie: to even */
}

static void test_bf16_reference(void) {
  const int hidden[2] = {128, 128};
  myr_net_shape s = shape_of(16, hidden, 2, 9);
  myr_net n;
  myr_error e;
  REQUIRE(myr_net_create(&n, &s, 5, &e) == MYR_OK, "%s", e.msg);
  const int64_t rows = 2000;
  const int no = s.size[s.layers];
  float *x = malloc((size_t)rows * 16 * sizeof *x), *ref = malloc((size_t)rows * no * sizeof *ref);
  float *lo = malloc((size_t)rows * no * sizeof *lo), *one = malloc((size_t)no * sizeof *one);
  random_rows(x, rows, 16, 11);
  myr_net_view v = myr_net_view_of(&n);
  myr_net_forward_cpu(&v, x, ref, rows, 2);
  myr_net_view b = v;
  b.precision = MYR_NET_BF16;
  myr_net_forward_cpu(&b, x, lo, rows, 3);
  double worst = 0.0;
  int bad = 0, differ = 0;
  float scratch[2 * MYR_NET_MAX_WIDTH];
  for (int64_t r = 0; r < rows; r++) {
    myr_net_forward_row_bf16(&b, x + r * 16, one, scratch);
    if (!same_bits(one, lo + r * no, (size_t)no)) differ++;
    for (int j = 0; j < no; j++) {
      double d = fabs((double)lo[r * no + j] - (double)ref[r * no + j]);
      double lim = 0.03 + 0.03 * fabs((double)ref[r * no + j]);
      if (d > lim) bad++;
      if (d / lim > worst) worst = d / lim;
    }
  }
  printf("bf16 reference vs fp32, 16-128-128-10, %lld rows: worst error %.3f of the tolerance\n", (long long)rows,
         worst);
  CHECK(differ == 0, "%d rows of the batched bf16 forward differ from myr_net_forward_row_bf16", differ);
  CHECK(bad == 0, "%d outputs of the bf16 reference beyond 0.03 + 0.03 |fp32| (worst %.3f of it)", bad, worst);
  CHECK(myr_net_bf16_check(&s, 0, &e) == MYR_OK, "%s", e.msg);
  const int wide[1] = {300};
  myr_net_shape ws = shape_of(16, wide, 1, 9);
  CHECK(myr_net_bf16_check(&ws, 0, &e) != MYR_OK && strstr(e.msg, "256"), "a 300-wide layer passed: %s", e.msg);
  free(x), free(ref), free(lo), free(one);
  myr_net_free(&n);
}

int main(void) {
  test_16bit();
  test_bf16_reference();
  test_shapes();
  test_forward_reference();
  test_batch_independence();
  test_prior();
  test_init();
  test_save_load();
  return check_summary();
}
