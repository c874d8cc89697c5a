/* movement (models/movement) through the library API, against references nobody tuned:
 * - random policy on a torus: per-step displacement of the 9 uniform moves, E[dx^2] = E[dy^2]
 *   = 6/9, E[dx] = E[dy] = E[dx dy] = 0, and the mean squared displacement after T steps,
 *   T * 6/9 per axis; moved_fraction = 8/9. Tolerances: 5 standard deviations of the
 *   estimate (independent agents and steps), stated at each check;
 * - heuristic (correlated walk) on a torus: P(repeat heading) = persistence + (1 -
 *   persistence) / 9, within 5 standard deviations;
 * - legal masks: corners 4, edges 6, inside 9 in a closed world, all 9 on a torus; random and
 *   heuristic policies never take an illegal move (each step's action checked against the
 *   mask at the previous position, and the position moved by exactly that action);
 * - mean_x / mean_y statistics equal the means read through the view; nothing dies. */
#include <math.h>

#include "common.h"
#include "models/movement/movement.h"

/* Minimal image of a coordinate difference on a ring of `extent` cells. */
static int32_t ring_delta(int32_t d, int32_t extent) {
  d %= extent;
  if (d > extent / 2) d -= extent;
  if (d < -extent / 2) d += extent;
  return d;
}

static void test_random_walk(void) {
  enum { N = 20000, T = 40, W = 64, H = 48 };
  printf("random walk: %d agents, %d steps, %dx%d torus\n", N, T, W, H);
  test_sim t;
  test_sim_open(&t,
                "run: {seed: 77}\n"
                "world: {width: %d, height: %d, wrap: true}\n"
                "agents: {count: %d, capacity: %d}\n"
                "model: {name: movement}\n"
                "policy: {kind: random}\n",
                W, H, N, N);
  myr_sim *sim = t.sim;
  int k_moved = test_stat(sim, "moved_fraction"), k_mx = test_stat(sim, "mean_x"), k_my = test_stat(sim, "mean_y");
  double *st = calloc((size_t)myr_sim_stat_count(sim), sizeof *st);
  int32_t *px = malloc(N * sizeof *px), *py = malloc(N * sizeof *py);
  int64_t *ux = calloc(N, sizeof *ux), *uy = calloc(N, sizeof *uy); /* unwrapped displacement */
  REQUIRE(st && px && py && ux && uy, "out of memory");
  myr_view v = myr_sim_view(sim);
  for (int64_t i = 0; i < N; i++) {
    REQUIRE(v.id[i] < N, "unexpected id");
    px[v.id[i]] = MYR_COL(&v, MOVEMENT_X, int32_t)[i];
    py[v.id[i]] = MYR_COL(&v, MOVEMENT_Y, int32_t)[i];
  }
  double sdx = 0, sdy = 0, sdx2 = 0, sdy2 = 0, sdxdy = 0, moved = 0;
  int bad_stats = 0;
  for (int s = 0; s < T; s++) {
    test_sim_step(&t);
    myr_sim_stats(sim, st);
    v = myr_sim_view(sim);
    double mx = 0, my = 0;
    for (int64_t i = 0; i < v.n; i++) {
      uint64_t id = v.id[i];
      int32_t x = MYR_COL(&v, MOVEMENT_X, int32_t)[i], y = MYR_COL(&v, MOVEMENT_Y, int32_t)[i];
      int32_t dx = ring_delta(x - px[id], W), dy = ring_delta(y - py[id], H);
      sdx += dx;
      sdy += dy;
      sdx2 += dx * dx;
      sdy2 += dy * dy;
      sdxdy += dx * dy;
      moved += (dx != 0 || dy != 0);
      ux[id] += dx;
      uy[id] += dy;
      px[id] = x;
      py[id] = y;
      mx += x;
      my += y;
    }
    if (fabs(st[k_mx] - mx / N) > 1e-9 * mx / N || fabs(st[k_my] - my / N) > 1e-9 * my / N ||
        st[MYR_STAT_POPULATION] != N || st[MYR_STAT_DEATHS] != 0 || st[MYR_STAT_BIRTHS] != 0)
      if (bad_stats++ < 3) fprintf(stderr, "step %d: statistics disagree with the view\n", s);
    /* Each step's moved_fraction is an estimate over N agents: 5 sd of Bernoulli(8/9). */
    if (fabs(st[k_moved] - 8.0 / 9.0) > 5 * sqrt(8.0 / 81.0 / N))
      if (bad_stats++ < 3) fprintf(stderr, "step %d: moved_fraction %g, expected 8/9\n", s, st[k_moved]);
  }
  CHECK(bad_stats == 0, "statistics wrong at %d steps", bad_stats);
  double M = (double)N * T;
  /* dx in {-1, 0, 1} with P(+-1) = 3/9 each: var(dx) = 6/9, var(dx^2) = (6/9)(3/9), var(dx dy) = 4/9. */
  double sd_mean = sqrt(6.0 / 9.0 / M), sd_sq = sqrt(6.0 / 9.0 * 3.0 / 9.0 / M), sd_xy = sqrt(4.0 / 9.0 / M);
  printf("  E[dx^2] %.5f E[dy^2] %.5f (6/9 = %.5f, 5 sd = %.5f), E[dx] %.5f E[dy] %.5f E[dx dy] %.5f\n", sdx2 / M,
         sdy2 / M, 6.0 / 9.0, 5 * sd_sq, sdx / M, sdy / M, sdxdy / M);
  CHECK_CLOSE(sdx2 / M, 6.0 / 9.0, 5 * sd_sq, 0);
  CHECK_CLOSE(sdy2 / M, 6.0 / 9.0, 5 * sd_sq, 0);
  CHECK_CLOSE(sdx / M, 0, 5 * sd_mean, 0);
  CHECK_CLOSE(sdy / M, 0, 5 * sd_mean, 0);
  CHECK_CLOSE(sdxdy / M, 0, 5 * sd_xy, 0);
  CHECK_CLOSE(moved / M, 8.0 / 9.0, 5 * sqrt(8.0 / 81.0 / M), 0);
  /* Mean squared displacement after T steps: T * 6/9 per axis. X_T is a sum of T independent
   * steps: var(X_T^2) = 3 (T s2)^2 - (T s2)^2 + T (m4 - 3 s2^2) with s2 = 6/9, m4 = 6/9. */
  double s2 = 6.0 / 9.0, m2 = T * s2, var_sq = 2 * m2 * m2 + T * (s2 - 3 * s2 * s2);
  double msd_x = 0, msd_y = 0;
  for (int i = 0; i < N; i++) {
    msd_x += (double)ux[i] * (double)ux[i];
    msd_y += (double)uy[i] * (double)uy[i];
  }
  printf("  MSD after %d steps: x %.3f y %.3f (expected %.3f, 5 sd = %.3f)\n", T, msd_x / N, msd_y / N, m2,
         5 * sqrt(var_sq / N));
  CHECK_CLOSE(msd_x / N, m2, 5 * sqrt(var_sq / N), 0);
  CHECK_CLOSE(msd_y / N, m2, 5 * sqrt(var_sq / N), 0);
  free(st);
  free(px);
  free(py);
  free(ux);
  free(uy);
  test_sim_close(&t);
}

static void test_persistence(double persistence) {
  enum { N = 20000, T = 20 };
  printf("correlated walk: persistence %g\n", persistence);
  test_sim t;
  test_sim_open(&t,
                "run: {seed: 5}\n"
                "world: {width: 100, height: 100, wrap: true}\n"
                "agents: {count: %d, capacity: %d}\n"
                "model: {name: movement, params: {persistence: %g}}\n"
                "policy: {kind: heuristic}\n",
                N, N, persistence);
  uint8_t *heading = malloc(N);
  REQUIRE(heading, "out of memory");
  double same = 0, count = 0;
  for (int s = 0; s < T; s++) {
    myr_view v = myr_sim_view(t.sim);
    for (int64_t i = 0; i < N; i++) heading[i] = MYR_COL(&v, MOVEMENT_HEADING, uint8_t)[i];
    test_sim_step(&t);
    v = myr_sim_view(t.sim);
    for (int64_t i = 0; i < N; i++) {
      same += v.action[i] == heading[i];
      count++;
    }
  }
  double p = persistence + (1 - persistence) / 9.0, sd = sqrt(p * (1 - p) / count);
  printf("  P(repeat heading) %.5f, expected %.5f (5 sd = %.5f)\n", same / count, p, 5 * sd);
  CHECK_CLOSE(same / count, p, 5 * sd, 0);
  free(heading);
  test_sim_close(&t);
}

static void test_legal(const char *policy) {
  enum { N = 500, W = 6, H = 5 };
  printf("legal moves, policy %s\n", policy);
  test_sim t;
  test_sim_open(&t,
                "run: {seed: 8}\n"
                "world: {width: %d, height: %d, wrap: false}\n"
                "agents: {count: %d, capacity: %d}\n"
                "model: {name: movement, params: {persistence: 0.9}}\n"
                "policy: {kind: %s}\n",
                W, H, N, N, policy);
  const myr_model *m = t.sim->model;
  myr_view v = myr_sim_view(t.sim);
  uint8_t mask[MYR_MAX_ACTIONS];
  float feat[MYR_MAX_FEATURES];
  int32_t *x = MYR_COL(&v, MOVEMENT_X, int32_t), *y = MYR_COL(&v, MOVEMENT_Y, int32_t);
  int32_t x0 = x[0], y0 = y[0];
  struct {
    int32_t x, y;
    int legal;
  } cases[] = {{0, 0, 4}, {W - 1, 0, 4}, {0, H - 1, 4}, {W - 1, H - 1, 4}, {0, 2, 6}, {2, 0, 6}, {W - 1, 2, 6},
               {2, H - 1, 6}, {2, 2, 9}};
  CHECK_EQ_I64(m->n_features, MOVEMENT_FEATURES);
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    x[0] = cases[c].x;
    y[0] = cases[c].y;
    int n = m->legal(&v, 0, mask), bad = 0, count = 0;
    for (int a = 0; a < 9; a++) {
      count += mask[a];
      bad += mask[a] != myr_inside(&v, x[0] + myr_move_dx(a), y[0] + myr_move_dy(a));
    }
    m->features(&v, 0, feat);
    int walls = (int)(feat[4] + feat[5] + feat[6] + feat[7]);
    for (int f = 0; f < MOVEMENT_FEATURES; f++) bad += !(feat[f] >= -1.0f && feat[f] <= 1.0f);
    CHECK(n == cases[c].legal && count == n && bad == 0 && walls == (9 - n == 5 ? 2 : 9 - n == 3 ? 1 : 0),
          "(%d, %d): %d legal (mask %d, %d wrong, %d walls), expected %d", cases[c].x, cases[c].y, n, count, bad,
          walls, cases[c].legal);
  }
  x[0] = x0;
  y[0] = y0;
  /* Over many steps: each action legal at the previous position, and applied exactly. */
  int32_t *px = malloc(N * sizeof *px), *py = malloc(N * sizeof *py);
  REQUIRE(px && py, "out of memory");
  int64_t illegal = 0, wrong = 0;
  for (int s = 0; s < 200; s++) {
    v = myr_sim_view(t.sim);
    for (int64_t i = 0; i < N; i++) {
      px[i] = MYR_COL(&v, MOVEMENT_X, int32_t)[i];
      py[i] = MYR_COL(&v, MOVEMENT_Y, int32_t)[i];
    }
    test_sim_step(&t);
    v = myr_sim_view(t.sim);
    REQUIRE(v.n == N, "agents changed slots");
    for (int64_t i = 0; i < N; i++) {
      int a = v.action[i];
      int32_t tx = px[i] + myr_move_dx(a), ty = py[i] + myr_move_dy(a);
      illegal += !myr_inside(&v, tx, ty);
      wrong += MYR_COL(&v, MOVEMENT_X, int32_t)[i] != tx || MYR_COL(&v, MOVEMENT_Y, int32_t)[i] != ty;
    }
  }
  CHECK(illegal == 0, "%lld illegal moves taken", (long long)illegal);
  CHECK(wrong == 0, "%lld moves not applied as decided", (long long)wrong);
  free(px);
  free(py);
  test_sim_close(&t);

  test_sim_open(&t, "world: {width: 6, height: 5, wrap: true}\nagents: {count: 3}\nmodel: {name: movement}\n");
  v = myr_sim_view(t.sim);
  MYR_COL(&v, MOVEMENT_X, int32_t)[0] = 0;
  MYR_COL(&v, MOVEMENT_Y, int32_t)[0] = 0;
  CHECK_EQ_I64(t.sim->model->legal(&v, 0, mask), 9);
  test_sim_close(&t);
}

int main(void) {
  test_random_walk();
  test_persistence(0.8);
  test_persistence(0.0);
  test_legal("random");
  test_legal("heuristic");
  return check_summary();
}
