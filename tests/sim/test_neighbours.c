/* Neighbour queries (sim/neighbours.h) against brute force: for random points in 2-D and 3-D,
 * closed and wrapped, with clumps (bins of many agents), points on bin edges and, when closed,
 * points outside the box, every pair closer than the radius must be visited by MYR_NBR_FOREACH
 * exactly once, in ascending (cell, id) order; the snapshot must hold every alive agent once,
 * its bins in ascending id, and be the same for 1 and 3 threads. Also myr_sinf against libm
 * (it feeds circles' force law).
 *
 * The points come from two test models registered here (nbrtest2, nbrtest3): their init puts a
 * fraction of the agents in a clump, a fraction on multiples of the radius, and (closed) a
 * fraction up to 10% of the side outside the box. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "models/model.h"
#include "sim/config.h"
#include "sim/mathf.h"
#include "sim/neighbours.h"
#include "sim/rng.h"
#include "sim/sim.h"

typedef struct nt_params {
  double side, radius;
  int wrap;
  int64_t bins;
  float side_f, radius_f;
} nt_params;

static myr_status nt_setup(void *params, const myr_world_info *w, myr_error *err) {
  nt_params *p = params;
  (void)w;
  (void)err;
  p->side_f = (float)p->side;
  p->radius_f = (float)p->radius;
  return MYR_OK;
}

static void nt_space(const void *params, myr_nbr_space *out) {
  const nt_params *p = params;
  out->wrap = p->wrap;
  out->extent[0] = p->side_f;
  out->extent[1] = 0.75f * p->side_f; /* not a cube: axes binned apart */
  out->extent[2] = 0.5f * p->side_f;
  out->radius = p->radius_f;
  out->bins_per_radius = (int32_t)p->bins;
}

static void nt_init(const myr_view *v, int64_t b, int64_t e, int64_t *flow) {
  const nt_params *p = v->params;
  float ext[3] = {p->side_f, 0.75f * p->side_f, 0.5f * p->side_f};
  for (int64_t i = b; i < e; i++) {
    myr_rng r = myr_rng_make(v->seed, v->id[i], 0, MYR_RNG_INIT_AGENT);
    float kind = myr_rng_uniform(&r);
    for (int a = 0; a < 3; a++) {
      float u = myr_rng_uniform(&r), c;
      if (kind < 0.2f) c = 0.3f * ext[a] + u * p->radius_f; /* a clump: a few bins full */
      else if (kind < 0.3f) c = p->radius_f * (float)(int)(u * ext[a] / p->radius_f); /* on edges */
      else if (kind < 0.4f && !p->wrap) c = (1.2f * u - 0.1f) * ext[a]; /* may lie outside */
      else c = u * ext[a];
      if (p->wrap && !(c >= 0.0f && c < ext[a])) c = 0.0f;
      ((float *)v->col[a])[i] = c;
    }
  }
}

static void nt_none(const myr_view *v, int64_t b, int64_t e, int64_t *flow) {}
static int nt_legal(const myr_view *v, int64_t i, uint8_t *mask) {
  mask[0] = 1;
  return 1;
}
static void nt_finish(const myr_view *v, const int64_t *acc, const int64_t *flow, double *out) {}

static const myr_param_desc nt_param_table[] = {
    {.name = "side", .type = MYR_P_FLOAT, .def = 20, .min = 0.1, .max = 1e6, .offset = offsetof(nt_params, side),
     .doc = "x extent (y: 3/4 of it, z: 1/2)"},
    {.name = "radius", .type = MYR_P_FLOAT, .def = 1.5, .min = 1e-3, .max = 1e6, .offset = offsetof(nt_params, radius),
     .doc = "radius"},
    {.name = "wrap", .type = MYR_P_BOOL, .def = 0, .offset = offsetof(nt_params, wrap), .doc = "torus"},
    {.name = "bins", .type = MYR_P_INT, .def = 1, .min = 1, .max = 8, .offset = offsetof(nt_params, bins),
     .doc = "bins per radius"},
};
static const myr_column_desc nt_columns[3] = {
    {"x", MYR_F32, 1, MYR_PERSISTENT, "x"}, {"y", MYR_F32, 1, MYR_PERSISTENT, "y"}, {"z", MYR_F32, 1, MYR_PERSISTENT, "z"}};
static const char *const nt_actions[1] = {"none"};
static const int nt_nbr_columns[3] = {0, 1, 2};

#define NT_MODEL(NAME, DIMS)                                                                                     \
  static const myr_model NAME = {.name = #NAME, .summary = "neighbour test points", .params_size = sizeof(nt_params), \
                                 .params = nt_param_table, .n_params = 4, .setup = nt_setup, .columns = nt_columns, \
                                 .n_columns = 3, .init_agents = nt_init, .n_actions = 1, .action_names = nt_actions, \
                                 .legal = nt_legal, .heuristic = nt_none, .act = nt_none, .sync_agents = nt_none,     \
                                 .finish_stats = nt_finish, .nbr_dims = DIMS, .nbr_columns = nt_nbr_columns,         \
                                 .nbr_n_columns = 3, .nbr_space = nt_space}
NT_MODEL(nbrtest2, 2);
NT_MODEL(nbrtest3, 3);

static int bins_per_radius = 1; /* the layout of the cases that follow (main) */

static myr_sim *open_sim(myr_config *cfg, const char *model, int n, double side, double radius, int wrap, int threads) {
  char yaml[1024];
  snprintf(yaml, sizeof yaml,
           "run: {steps: 1, seed: 7, threads: %d}\nworld: {width: 1, height: 1, wrap: false}\n"
           "agents: {count: %d}\nmodel: {name: %s, params: {side: %g, radius: %g, wrap: %s, bins: %d}}\n"
           "policy: {kind: heuristic}\n",
           threads, n, model, side, radius, wrap ? "true" : "false", bins_per_radius);
  myr_error e;
  REQUIRE(myr_config_load_text(cfg, "test.yaml", yaml, NULL, 0, &e) == MYR_OK, "config: %s", e.msg);
  myr_sim *sim;
  REQUIRE(myr_sim_create(cfg, &sim, &e) == MYR_OK, "create: %s", e.msg);
  return sim;
}

typedef struct found {
  int64_t cell;
  uint64_t id;
} found;

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

/* One layout: checks the snapshot and every agent's neighbours against all pairs. */
static void check_case(const char *model, int dims, int n, double side, double radius, int wrap) {
  myr_config cfg;
  myr_sim *sim = open_sim(&cfg, model, n, side, radius, wrap, 3);
  myr_view v = myr_sim_view(sim);
  myr_error e;
  REQUIRE(myr_neighbours_view(sim, &v, &e) == MYR_OK, "publish: %s", e.msg);
  const myr_nbr_view *s = &v.nbr;
  const float *X = v.col[0], *Y = v.col[1], *Z = v.col[2];
  int64_t cells = (int64_t)s->bins[0] * s->bins[1] * s->bins[2];
  printf("%s wrap %d: %d agents, bins %d x %d x %d\n", model, wrap, n, s->bins[0], s->bins[1], s->bins[2]);
  CHECK_EQ_I64(s->n, n);
  CHECK_EQ_I64(s->start[0], 0);
  CHECK_EQ_I64(s->start[cells], n);
  /* Every agent once; bins ascending in id; each entry in the bin of its position. */
  uint64_t *ids = malloc((size_t)n * sizeof *ids);
  int64_t bad_bin = 0, bad_order = 0, bad_payload = 0;
  for (int64_t c = 0; c < cells; c++)
    for (uint32_t k = s->start[c]; k < s->start[c + 1]; k++) {
      uint32_t i = s->slot[k];
      if (myr_nbr_cell(s, X[i], Y[i], Z[i]) != c) bad_bin++;
      if (k > s->start[c] && s->id[k - 1] >= s->id[k]) bad_order++;
      if (s->id[k] != v.id[i] || s->col[0][k] != X[i] || s->col[1][k] != Y[i] || s->col[2][k] != Z[i] ||
          s->pos[k].x != X[i] || s->pos[k].y != Y[i] || s->pos[k].z != (dims == 3 ? Z[i] : 0.0f) || s->pos[k].w != 0.0f)
        bad_payload++;
      ids[k] = s->id[k];
    }
  qsort(ids, (size_t)n, sizeof *ids, cmp_u64);
  int64_t dup = 0;
  for (int i = 1; i < n; i++) dup += ids[i] == ids[i - 1];
  CHECK(bad_bin == 0 && bad_order == 0 && bad_payload == 0 && dup == 0,
        "%lld entries in a wrong bin, %lld out of id order, %lld with wrong data, %lld duplicate ids",
        (long long)bad_bin, (long long)bad_order, (long long)bad_payload, (long long)dup);

  /* Brute force over all pairs, with the same float distance. */
  float r2 = (float)radius * (float)radius;
  found *got = malloc((size_t)n * sizeof *got);
  int64_t missing = 0, extra = 0, unordered = 0, pairs = 0;
  for (int i = 0; i < n; i++) {
    int ng = 0;
    MYR_NBR_FOREACH(s, X[i], Y[i], Z[i], k, {
      float dx = myr_nbr_delta(s, 0, X[i], s->col[0][k]), dy = myr_nbr_delta(s, 1, Y[i], s->col[1][k]);
      float dz = dims == 3 ? myr_nbr_delta(s, 2, Z[i], s->col[2][k]) : 0.0f;
      if (s->id[k] != v.id[i] && dx * dx + dy * dy + dz * dz < r2) {
        found f = {myr_nbr_cell(s, s->col[0][k], s->col[1][k], s->col[2][k]), s->id[k]};
        if (ng > 0 && (got[ng - 1].cell > f.cell || (got[ng - 1].cell == f.cell && got[ng - 1].id >= f.id))) unordered++;
        if (ng < n) got[ng++] = f;
      }
    });
    int want = 0;
    for (int j = 0; j < n; j++) {
      if (j == i) continue;
      float dx = myr_nbr_delta(s, 0, X[i], X[j]), dy = myr_nbr_delta(s, 1, Y[i], Y[j]);
      float dz = dims == 3 ? myr_nbr_delta(s, 2, Z[i], Z[j]) : 0.0f;
      if (!(dx * dx + dy * dy + dz * dz < r2)) continue;
      want++;
      int hit = 0;
      for (int g = 0; g < ng; g++) hit += got[g].id == v.id[j];
      if (hit == 0 && missing++ < 5)
        fprintf(stderr, "agent %d (%g %g %g): neighbour %d (%g %g %g) not found\n", i, X[i], Y[i], Z[i], j, X[j], Y[j],
                Z[j]);
    }
    pairs += want;
    if (ng > want) extra += ng - want;
  }
  printf("  %lld pairs within the radius\n", (long long)pairs);
  CHECK(pairs > 10 * n, "too few pairs (%lld) to test anything", (long long)pairs);
  CHECK(missing == 0 && extra == 0 && unordered == 0, "%lld missing, %lld extra or repeated, %lld out of order",
        (long long)missing, (long long)extra, (long long)unordered);

  /* The same snapshot with one thread. */
  myr_config cfg1;
  myr_sim *one = open_sim(&cfg1, model, n, side, radius, wrap, 1);
  myr_view v1 = myr_sim_view(one);
  REQUIRE(myr_neighbours_view(one, &v1, &e) == MYR_OK, "publish: %s", e.msg);
  CHECK(memcmp(v1.nbr.start, s->start, (size_t)(cells + 1) * 4) == 0 &&
            memcmp(v1.nbr.id, s->id, (size_t)n * 8) == 0 && memcmp(v1.nbr.col[0], s->col[0], (size_t)n * 4) == 0,
        "the snapshot differs between 1 and 3 threads");
  myr_sim_destroy(one);
  myr_config_free(&cfg1);
  free(ids);
  free(got);
  myr_sim_destroy(sim);
  myr_config_free(&cfg);
}

static void check_sinf(void) {
  double worst = 0, at = 0;
  for (float x = -7.0f; x <= 7.0f; x += 1.0e-5f) {
    double ref = sin((double)x), got = myr_sinf(x);
    double ulp = fabs(ref) > 1e-30 ? ldexp(1.0, ilogb((float)ref) - 23) : 1e-45;
    if (fabs(got - ref) / ulp > worst) {
      worst = fabs(got - ref) / ulp;
      at = x;
    }
  }
  printf("myr_sinf: worst %.2f ulp at %g on [-7, 7]\n", worst, at);
  CHECK(worst <= 2.0, "myr_sinf is %g ulp off at %g", worst, at);
  CHECK(myr_sinf(NAN) != myr_sinf(NAN) && myr_sinf(INFINITY) != myr_sinf(INFINITY), "NaN and inf must give NaN");
  CHECK(myr_sinf(0.0f) == 0.0f && myr_sinf(-1e-20f) == -1e-20f, "sin of tiny x is x");
}

int main(void) {
  REQUIRE(myr_register_model(&nbrtest2) == MYR_OK && myr_register_model(&nbrtest3) == MYR_OK, "register");
  check_sinf();
  check_case("nbrtest3", 3, 3000, 20.0, 1.5, 0);
  check_case("nbrtest3", 3, 3000, 20.0, 1.5, 1);
  check_case("nbrtest3", 3, 2000, 20.0, 3.2, 1); /* 3 bins along z: every z bin is at an edge */
  check_case("nbrtest2", 2, 3000, 40.0, 1.7, 0);
  check_case("nbrtest2", 2, 3000, 40.0, 1.7, 1);
  check_case("nbrtest3", 3, 1500, 10.0, 0.7, 0); /* radius not a power of two: bin arithmetic rounds */
  for (bins_per_radius = 2; bins_per_radius <= 3; bins_per_radius++) { /* finer bins: walks span 5 or 7 */
    printf("bins per radius: %d\n", bins_per_radius);
    check_case("nbrtest3", 3, 3000, 20.0, 1.5, 0);
    check_case("nbrtest3", 3, 3000, 20.0, 1.5, 1);
    check_case("nbrtest3", 3, 2000, 20.0, 3.2, 1);
    check_case("nbrtest2", 2, 3000, 40.0, 1.7, 1);
    check_case("nbrtest3", 3, 1500, 10.0, 0.7, 0);
  }
  return check_summary();
}
