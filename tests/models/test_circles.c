/* circles (models/circles) against a brute-force reference written here: before each step the
 * test copies every agent's position, finds for each agent all others closer than the radius
 * by trying every pair (O(N^2)), orders them by (cell of the published position, id) as the
 * model's contract says, sums FLAME GPU's force law in that order and moves the agent. The
 * simulation must match bit for bit, step after step, closed and wrapped, and its statistics
 * must count the same neighbours. Then: identical hashes for 1, 2 and 4 threads, and the
 * model must settle (mean drift falls) as the benchmark's validation expects. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "models/circles/circles.h"
#include "sim/hash.h"
#include "sim/neighbours.h"

typedef struct pair {
  int64_t cell;
  uint64_t id;
  float dx, dy, dz, d;
} pair;

static int cmp_pair(const void *a, const void *b) {
  const pair *p = a, *q = b;
  if (p->cell != q->cell) return p->cell < q->cell ? -1 : 1;
  return (p->id > q->id) - (p->id < q->id);
}

static float image(float d, float side, int wrap) {
  if (wrap) {
    if (d > 0.5f * side) d -= side;
    else if (d < -0.5f * side) d += side;
  }
  return d;
}

/* 1 if coordinate cj's bin along an axis is among the bins a walk around ci visits: those of
 * every coordinate within the layout's reach of ci (sim/neighbours.h). */
static int in_span(const myr_nbr_view *lay, int axis, float ci, float cj) {
  int32_t lo0, hi0, lo1, hi1, b = myr_nbr_bin(lay, axis, cj);
  myr_nbr_span(lay, axis, ci, &lo0, &hi0, &lo1, &hi1);
  return (b >= lo0 && b <= hi0) || (b >= lo1 && b <= hi1);
}

/* One step of the reference from positions P (n x 3, slot order) into Q; counts neighbours and
 * the candidates in the bins a walk around each agent visits (itself included). */
static int64_t reference_step(const myr_sim *sim, const float *P, float *Q, int64_t *candidates) {
  const circles_params *p = sim->params;
  myr_nbr_space sp = {0};
  sim->model->nbr_space(sim->params, &sp);
  sp.dims = 3;
  myr_nbr_view lay;
  char why[256];
  REQUIRE(myr_nbr_layout(&sp, &lay, why, (int)sizeof why), "layout: %s", why);
  int64_t n = sim->agents.n, total = 0;
  *candidates = 0;
  const uint64_t *id = sim->agents.id;
  pair *list = malloc((size_t)n * sizeof *list);
  for (int64_t i = 0; i < n; i++) {
    int64_t k = 0;
    for (int64_t j = 0; j < n; j++) {
      int near = 1;
      for (int a = 0; a < 3; a++)
        near &= in_span(&lay, a, P[3 * i + a], P[3 * j + a]);
      *candidates += near;
      if (id[j] == id[i]) continue;
      float dx = image(P[3 * j] - P[3 * i], p->side_f, p->wrap);
      float dy = image(P[3 * j + 1] - P[3 * i + 1], p->side_f, p->wrap);
      float dz = image(P[3 * j + 2] - P[3 * i + 2], p->side_f, p->wrap);
      float d = sqrtf(dx * dx + dy * dy + dz * dz);
      if (d < p->radius_f && d > 0.0f)
        list[k++] = (pair){myr_nbr_cell(&lay, P[3 * j], P[3 * j + 1], P[3 * j + 2]), id[j], dx, dy, dz, d};
    }
    qsort(list, (size_t)k, sizeof *list, cmp_pair);
    float f[3] = {0, 0, 0};
    for (int64_t m = 0; m < k; m++) {
      float s = myr_sinf(((list[m].d / p->radius_f) * 3.141f) * -2.0f) * p->repulse_f;
      float w = s / list[m].d;
      f[0] += w * list[m].dx;
      f[1] += w * list[m].dy;
      f[2] += w * list[m].dz;
    }
    float c = k > 0 ? (float)k : 1.0f;
    for (int a = 0; a < 3; a++) {
      float q = P[3 * i + a] + f[a] / c;
      if (p->wrap) {
        if (q < 0.0f) q += p->side_f;
        else if (q >= p->side_f) q -= p->side_f;
        if (!(q >= 0.0f && q < p->side_f)) q = 0.0f;
      }
      Q[3 * i + a] = q;
    }
    total += k;
  }
  free(list);
  return total;
}

static void positions(const myr_sim *sim, float *P) {
  for (int64_t i = 0; i < sim->agents.n; i++)
    for (int a = 0; a < 3; a++) P[3 * i + a] = ((const float *)sim->agents.col[CIRCLES_X + a])[i];
}

static void against_reference(int n, const char *params, int steps) {
  test_sim t;
  test_sim_open(&t,
                "run: {steps: %d, seed: 3, threads: 2}\nworld: {width: 1, height: 1, wrap: false}\n"
                "agents: {count: %d}\nmodel: {name: circles, params: {%s}}\npolicy: {kind: heuristic}\n",
                steps, n, params);
  const circles_params *p = t.sim->params;
  printf("reference: %d agents, side %g, radius %g, wrap %d\n", n, (double)p->side_f, (double)p->radius_f, p->wrap);
  float *P = malloc((size_t)n * 3 * sizeof *P), *Q = malloc((size_t)n * 3 * sizeof *Q), *G = malloc((size_t)n * 3 * sizeof *G);
  double *stats = malloc((size_t)myr_sim_stat_count(t.sim) * sizeof *stats);
  int k_nb = test_stat(t.sim, "mean_neighbours"), k_cand = test_stat(t.sim, "mean_candidates");
  for (int s = 0; s < steps; s++) {
    positions(t.sim, P);
    int64_t candidates;
    int64_t pairs = reference_step(t.sim, P, Q, &candidates);
    test_sim_step(&t);
    myr_sim_stats(t.sim, stats);
    positions(t.sim, G);
    int64_t differ = 0, first = -1;
    for (int64_t i = 0; i < 3 * (int64_t)n; i++)
      if (memcmp(&G[i], &Q[i], sizeof(float)) != 0 && differ++ == 0) first = i;
    CHECK(differ == 0, "step %d: %lld coordinates differ from the reference; first agent %lld axis %lld: %.9g vs %.9g",
          s, (long long)differ, (long long)(first / 3), (long long)(first % 3), first >= 0 ? G[first] : 0.0,
          first >= 0 ? Q[first] : 0.0);
    CHECK(stats[k_nb] == (double)pairs / n, "step %d: mean_neighbours %.17g, reference %.17g", s, stats[k_nb],
          (double)pairs / n);
    CHECK(stats[k_cand] == (double)candidates / n, "step %d: mean_candidates %.17g, reference %.17g", s,
          stats[k_cand], (double)candidates / n);
    CHECK(pairs > (int64_t)n * 5, "step %d: too few neighbours (%lld) to test anything", s, (long long)pairs);
  }
  free(P);
  free(Q);
  free(G);
  free(stats);
  test_sim_close(&t);
}

static void hash_of(int threads, const char *params, char hex[MYR_HASH_HEX]) {
  test_sim t;
  test_sim_open(&t,
                "run: {steps: 6, seed: 9, threads: %d}\nworld: {width: 1, height: 1, wrap: false}\n"
                "agents: {count: 12000}\nmodel: {name: circles, params: {%s}}\npolicy: {kind: heuristic}\n",
                threads, params);
  for (int s = 0; s < 6; s++) test_sim_step(&t);
  uint8_t h[MYR_HASH_BYTES];
  myr_error e;
  REQUIRE(myr_sim_hash(t.sim, h, &e) == MYR_OK, "hash: %s", e.msg);
  myr_hash_hex(h, hex);
  test_sim_close(&t);
}

static void threads(const char *params) {
  char h1[MYR_HASH_HEX], h2[MYR_HASH_HEX], h4[MYR_HASH_HEX];
  hash_of(1, params, h1);
  hash_of(2, params, h2);
  hash_of(4, params, h4);
  printf("threads {%s}: %.16s %.16s %.16s\n", params, h1, h2, h4);
  CHECK(strcmp(h1, h2) == 0 && strcmp(h1, h4) == 0, "hashes differ: 1 thread %s, 2 %s, 4 %s", h1, h2, h4);
}

/* Two agents alone, placed by hand at distance d along a direction: each moves by
 * repulse * sin(-2 pi' d / radius) (pi' = 3.141, the benchmark's constant) toward the other,
 * i.e. apart below radius / 2, together above it, not at all from radius on (libm in double,
 * tolerance 1e-6 relative). */
static void two_agents(double d) {
  test_sim t;
  test_sim_open(&t, "run: {steps: 1, seed: 1}\nworld: {width: 1, height: 1}\nagents: {count: 2}\n"
                    "model: {name: circles, params: {size: 10, radius: 2, repulse: 0.05}}\npolicy: {kind: heuristic}\n");
  const double u[3] = {0.48, 0.6, 0.64}; /* unit vector */
  const double a0[3] = {4.1, 3.3, 5.2};
  float *col[3];
  for (int a = 0; a < 3; a++) col[a] = t.sim->agents.col[CIRCLES_X + a];
  for (int a = 0; a < 3; a++) {
    col[a][0] = (float)a0[a];
    col[a][1] = (float)(a0[a] + d * u[a]);
  }
  double p0[3], p1[3], sep2 = 0;
  for (int a = 0; a < 3; a++) {
    p0[a] = col[a][0];
    p1[a] = col[a][1];
    sep2 += (p1[a] - p0[a]) * (p1[a] - p0[a]);
  }
  double sep = sqrt(sep2), k = sep < 2.0 ? 0.05 * sin(-2.0 * 3.141 * sep / 2.0) : 0.0;
  test_sim_step(&t);
  double moved = 0, toward = 0;
  for (int a = 0; a < 3; a++) {
    double m = col[a][0] - p0[a];
    moved += m * m;
    toward += m * (p1[a] - p0[a]) / sep;
    /* the other agent mirrors it */
    CHECK_CLOSE(col[a][1] - p1[a], -m, 1e-7, 1e-5);
  }
  printf("two agents %.2f apart: moved %.6g toward the other, expected %.6g\n", sep, toward, k);
  CHECK_CLOSE(toward, k, 1e-7, 1e-5);
  CHECK_CLOSE(sqrt(moved), fabs(k), 1e-7, 1e-5);
  test_sim_close(&t);
}

/* A data_parallel team of several ranks is refused at the first step with a message that says
 * why (the snapshot would miss the agents of the other ranks; spatial_parallel gives ghosts). */
static void refuses_teams(void) {
  myr_config cfg;
  myr_error e;
  REQUIRE(myr_config_load_text(&cfg, "test.yaml",
                               "run: {steps: 1}\nworld: {width: 1, height: 1}\nagents: {count: 100}\n"
                               "model: {name: circles}\npolicy: {kind: heuristic}\n",
                               NULL, 0, &e) == MYR_OK,
          "%s", e.msg);
  myr_rank rank;
  memset(&rank, 0, sizeof rank);
  rank.index = 0;
  rank.count = 2;
  myr_sim *sim;
  REQUIRE(myr_sim_create_part(&cfg, &rank, 0, 50, 100, &sim, &e) == MYR_OK, "%s", e.msg);
  myr_status st = myr_sim_step(sim, &e);
  CHECK(st == MYR_ERR_CONFIG && strstr(e.msg, "needs neighbour queries, which run on several ranks only under distributed.strategy: "
                                              "spatial_parallel"),
        "a 2-rank team: status %d, message '%s'", (int)st, st == MYR_OK ? "" : e.msg);
  myr_sim_destroy(sim);
  myr_config_free(&cfg);
}

int main(void) {
  against_reference(1000, "radius: 2.0", 4);              /* closed: a 10^3 cube, 5 bins a side */
  against_reference(1200, "radius: 1.5, wrap: true", 4);  /* wrapped, radius not a power of two */
  against_reference(700, "size: 7.6, radius: 2.5, repulse: 0.5, wrap: true", 4); /* 3 bins a side */
  /* dense: about 130 neighbours each */
  against_reference(2000, "size: 8, radius: 2.0", 4);
  threads("radius: 2.0");
  threads("radius: 1.8, wrap: true");
  two_agents(0.3); /* pushed apart */
  two_agents(1.3); /* pulled together */
  two_agents(2.5); /* out of reach */
  refuses_teams();
  return check_summary();
}
