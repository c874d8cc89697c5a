/* foraging (models/foraging) through the library API (config text -> myr_sim), against
 * references nobody tuned:
 * - conservation at every step, for sync_frequency 1 and 3, heuristic and random policies,
 *   exactly in fixed point (sums over cells and alive agents read through the view; flows
 *   from the statistics, which are integers / 65536 and so convert back exactly):
 *     sum(resource before) + regrown - harvested == sum(resource after)
 *     sum(energy before) + harvested - metabolism_paid - energy_of_dead == sum(energy after)
 * - population(t) == population(t-1) + births - deaths at every step, with births > 0 and
 *   deaths > 0 in the run;
 * - ids unique; every new id is myr_child_id(p, step) of an agent p alive before the step, and
 *   the child sits on its parent's cell at age 0;
 * - after every sync the transient layers and claim slots are zero; energy <= max_energy and
 *   resource <= capacity always;
 * - a contested cell (a 1x1 world, so every agent stays on it): the claims are recomputed here
 *   from the rules, the grants must be floor(R * a / C) when C > R and a otherwise, sum to at
 *   most R, and resource + energy is conserved (sync_frequency 1 and 3);
 * - legal masks at corners, edges and inside a closed world; the heuristic never picks an
 *   illegal move and agents never leave the world; the features of illegal moves are -1;
 * - the same state (every column in id order, every layer) for 1 and 3 threads;
 * - setup() rejects inconsistent parameters and names them. */
#include <math.h>

#include "common.h"
#include "models/foraging/foraging.h"

#define ONE FORAGING_ONE

/* A statistic in units back to fixed point: exact, since it is an integer / 65536. */
static int64_t fx(double units) { return (int64_t)llround(units * ONE); }

static void sums(const myr_sim *sim, int64_t *resource, int64_t *energy) {
  myr_view v = myr_sim_view(sim);
  int64_t r = 0, e = 0;
  for (int64_t c = 0; c < myr_cells(&v); c++) r += MYR_LAYER(&v, FORAGING_RESOURCE, uint32_t)[c];
  for (int64_t i = 0; i < v.n; i++)
    if (v.alive[i]) e += MYR_COL(&v, FORAGING_ENERGY, int32_t)[i];
  *resource = r;
  *energy = e;
}

/* Slot of the alive agent with id `id` (linear; the test worlds are small), or -1. */
static int64_t slot_of(const myr_view *v, uint64_t id) {
  for (int64_t i = 0; i < v->n; i++)
    if (v->alive[i] && v->id[i] == id) return i;
  return -1;
}

typedef struct {
  uint64_t child, parent;
} child_pair;

static int cmp_pair(const void *a, const void *b) {
  uint64_t x = ((const child_pair *)a)->child, y = ((const child_pair *)b)->child;
  return (x > y) - (x < y);
}

#define REPORT_FIRST(count, ...)                                                   \
  do {                                                                             \
    if ((count)++ < 3) {                                                           \
      fprintf(stderr, __VA_ARGS__);                                                \
      fputc('\n', stderr);                                                         \
    }                                                                              \
  } while (0)

/* The long run: conservation, accounting, ids, transient data, bounds. */
static void test_run(int sync_frequency, const char *policy, int steps) {
  printf("run: sync_frequency %d, policy %s, %d steps\n", sync_frequency, policy, steps);
  test_sim t;
  test_sim_open(&t,
                "run: {steps: %d, seed: 11}\n"
                "world: {width: 40, height: 40, wrap: true}\n"
                "agents: {count: 400, capacity: 40000}\n"
                "model: {name: foraging, params: {max_age: 60, regrowth: 0.05, metabolism: 0.5}}\n"
                "policy: {kind: %s}\n"
                "distributed: {sync_frequency: %d}\n",
                steps, policy, sync_frequency);
  myr_sim *sim = t.sim;
  const foraging_params *p = sim->params;
  int k_harv = test_stat(sim, "harvested"), k_regr = test_stat(sim, "regrown");
  int k_meta = test_stat(sim, "metabolism_paid"), k_dead = test_stat(sim, "energy_of_dead");
  int k_energy = test_stat(sim, "mean_energy"), k_res = test_stat(sim, "total_resource");
  double *st = calloc((size_t)myr_sim_stat_count(sim), sizeof *st);
  REQUIRE(st, "out of memory");

  int64_t r0, e0, r1, e1;
  sums(sim, &r0, &e0);
  int64_t pop0 = myr_sim_population(sim);
  int64_t births = 0, deaths = 0, age_deaths = 0, harvested = 0;
  int bad_res = 0, bad_energy = 0, bad_pop = 0, bad_transient = 0, bad_bounds = 0, bad_ids = 0, bad_child = 0;
  int bad_stats = 0;
  for (int s = 0; s < steps; s++) {
    int64_t nb;
    uint64_t *before = test_alive_ids(sim, &nb);
    child_pair *expect = malloc((size_t)(nb ? nb : 1) * sizeof *expect);
    REQUIRE(expect, "out of memory");
    for (int64_t k = 0; k < nb; k++) expect[k] = (child_pair){myr_child_id(before[k], sim->step), before[k]};
    qsort(expect, (size_t)nb, sizeof *expect, cmp_pair);
    /* Agents that will die of age at this step's sync (if it is one): age > max_age after act. */
    myr_view v = myr_sim_view(sim);
    int64_t old = 0;
    if (v.window_step == v.sync_frequency - 1)
      for (int64_t i = 0; i < v.n; i++)
        old += v.alive[i] && (int64_t)MYR_COL(&v, FORAGING_AGE, uint32_t)[i] + 1 > p->max_age;

    test_sim_step(&t);
    myr_sim_stats(sim, st);
    sums(sim, &r1, &e1);
    v = myr_sim_view(sim);
    int64_t h = fx(st[k_harv]), g = fx(st[k_regr]), m = fx(st[k_meta]), d = fx(st[k_dead]);
    if (r0 + g - h != r1)
      REPORT_FIRST(bad_res, "step %d: resource %lld + regrown %lld - harvested %lld != %lld", s, (long long)r0,
                   (long long)g, (long long)h, (long long)r1);
    if (e0 + h - m - d != e1)
      REPORT_FIRST(bad_energy, "step %d: energy %lld + harvested %lld - metabolism %lld - dead %lld != %lld", s,
                   (long long)e0, (long long)h, (long long)m, (long long)d, (long long)e1);
    int64_t pop1 = myr_sim_population(sim), b = (int64_t)st[MYR_STAT_BIRTHS], dd = (int64_t)st[MYR_STAT_DEATHS];
    if ((int64_t)st[MYR_STAT_POPULATION] != pop1 || pop0 + b - dd != pop1)
      REPORT_FIRST(bad_pop, "step %d: population %lld + births %lld - deaths %lld != %lld (stat %g)", s,
                   (long long)pop0, (long long)b, (long long)dd, (long long)pop1, st[MYR_STAT_POPULATION]);
    if (pop1 > 0) {
      /* The level statistics against the view's sums (means of exact integers). */
      if (fabs(st[k_energy] - (double)e1 / (double)pop1 / ONE) > 1e-9 * (1 + fabs(st[k_energy])) ||
          fx(st[k_res]) != r1)
        REPORT_FIRST(bad_stats, "step %d: mean_energy %g / total_resource %g disagree with the view", s,
                     st[k_energy], st[k_res]);
    }
    births += b;
    deaths += dd;
    age_deaths += old;
    harvested += h;

    /* After a sync: no claim left anywhere. */
    if (myr_sim_at_sync(sim)) {
      int64_t nonzero = 0;
      for (int64_t c = 0; c < myr_cells(&v); c++)
        nonzero += MYR_LAYER(&v, FORAGING_CLAIMS, int64_t)[c] != 0 || MYR_LAYER(&v, FORAGING_TAKEN, int64_t)[c] != 0;
      for (int64_t i = 0; i < v.n; i++)
        for (int k = 0; k < v.sync_frequency && v.alive[i]; k++)
          nonzero += MYR_COL(&v, FORAGING_CLAIM_AMOUNT, uint32_t)[(int64_t)k * v.capacity + i] != 0 ||
                     MYR_COL(&v, FORAGING_CLAIM_CELL, int32_t)[(int64_t)k * v.capacity + i] != 0;
      if (nonzero) REPORT_FIRST(bad_transient, "step %d: %lld transient values not zero after sync", s, (long long)nonzero);
    }
    /* Bounds. */
    for (int64_t c = 0; c < myr_cells(&v); c++)
      if (MYR_LAYER(&v, FORAGING_RESOURCE, uint32_t)[c] > MYR_LAYER(&v, FORAGING_CAPACITY, uint32_t)[c])
        REPORT_FIRST(bad_bounds, "step %d: cell %lld resource above capacity", s, (long long)c);
    for (int64_t i = 0; i < v.n; i++) {
      if (!v.alive[i]) continue;
      int32_t x = MYR_COL(&v, FORAGING_X, int32_t)[i], y = MYR_COL(&v, FORAGING_Y, int32_t)[i];
      if (MYR_COL(&v, FORAGING_ENERGY, int32_t)[i] > p->max_energy_fx || !myr_inside(&v, x, y))
        REPORT_FIRST(bad_bounds, "step %d: agent %llu energy %d at (%d, %d)", s, (unsigned long long)v.id[i],
                     MYR_COL(&v, FORAGING_ENERGY, int32_t)[i], x, y);
    }
    /* Ids: unique; the new ones are children of agents alive before the step. */
    int64_t na;
    uint64_t *after = test_alive_ids(sim, &na);
    for (int64_t k = 1; k < na; k++)
      if (after[k] == after[k - 1]) REPORT_FIRST(bad_ids, "step %d: id %llu twice", s, (unsigned long long)after[k]);
    for (int64_t k = 0; k < na; k++) {
      if (test_has_id(before, nb, after[k])) continue;
      child_pair key = {after[k], 0};
      child_pair *found = bsearch(&key, expect, (size_t)nb, sizeof *expect, cmp_pair);
      if (!(after[k] >> 63) || !found) {
        REPORT_FIRST(bad_child, "step %d: new id %llx is no myr_child_id(alive agent, %d)", s,
                     (unsigned long long)after[k], s);
        continue;
      }
      int64_t ci = slot_of(&v, after[k]), pi = slot_of(&v, found->parent);
      if (pi < 0 || MYR_COL(&v, FORAGING_X, int32_t)[ci] != MYR_COL(&v, FORAGING_X, int32_t)[pi] ||
          MYR_COL(&v, FORAGING_Y, int32_t)[ci] != MYR_COL(&v, FORAGING_Y, int32_t)[pi] ||
          MYR_COL(&v, FORAGING_AGE, uint32_t)[ci] != 0)
        REPORT_FIRST(bad_child, "step %d: child %llx not at its parent's cell with age 0", s, (unsigned long long)after[k]);
    }
    free(after);
    free(before);
    free(expect);
    r0 = r1;
    e0 = e1;
    pop0 = pop1;
  }
  CHECK(bad_res == 0, "resource conservation failed at %d steps", bad_res);
  CHECK(bad_energy == 0, "energy conservation failed at %d steps", bad_energy);
  CHECK(bad_pop == 0, "population accounting failed at %d steps", bad_pop);
  CHECK(bad_stats == 0, "level statistics disagree at %d steps", bad_stats);
  CHECK(bad_transient == 0, "transient data left after %d syncs", bad_transient);
  CHECK(bad_bounds == 0, "%d bound violations", bad_bounds);
  CHECK(bad_ids == 0, "%d duplicate ids", bad_ids);
  CHECK(bad_child == 0, "%d bad child ids or placements", bad_child);
  CHECK(births > 0, "no births in %d steps", steps);
  CHECK(deaths > age_deaths, "no starvation deaths in %d steps (%lld deaths, %lld of age)", steps,
        (long long)deaths, (long long)age_deaths);
  CHECK(age_deaths > 0, "no deaths of age in %d steps", steps);
  CHECK(harvested > 0, "nothing harvested");
  printf("  births %lld, deaths %lld (%lld of age), final population %lld\n", (long long)births, (long long)deaths,
         (long long)age_deaths, (long long)myr_sim_population(sim));
  free(st);
  test_sim_close(&t);
}

/* A contested cell: a closed 1x1 world, so the only legal move is to stay and all 5 agents
 * claim the same cell. The expected claims and grants are computed here from the rules in
 * README.md, in plain integers, and compared exactly. */
static void test_contested(int sync_frequency, double harvest_max) {
  printf("contested cell: sync_frequency %d, harvest_max %g\n", sync_frequency, harvest_max);
  enum { N = 5 };
  test_sim t;
  test_sim_open(&t,
                "run: {steps: 10, seed: 5}\n"
                "world: {width: 1, height: 1, wrap: false}\n"
                "agents: {count: %d, capacity: 100}\n"
                "model: {name: foraging, params: {regrowth: 0, metabolism: 0.5, harvest_max: %g, peak: 4,\n"
                "        max_energy: 20, reproduce_threshold: 20, initial_energy: 5}}\n"
                "policy: {kind: heuristic}\n"
                "distributed: {sync_frequency: %d}\n",
                N, harvest_max, sync_frequency);
  myr_sim *sim = t.sim;
  myr_view v = myr_sim_view(sim);
  const int64_t R = 3 * ONE, met = ONE / 2, cap = 20 * ONE, harvest = (int64_t)llround(harvest_max * ONE);
  const int64_t e_start[N] = {5 * ONE, 19 * ONE + 3 * ONE / 4, 10 * ONE, 2 * ONE, 7 * ONE + 12345};
  MYR_LAYER(&v, FORAGING_RESOURCE, uint32_t)[0] = (uint32_t)R;
  for (int i = 0; i < N; i++) MYR_COL(&v, FORAGING_ENERGY, int32_t)[i] = (int32_t)e_start[i];

  /* The rules, by hand. */
  int64_t e[N], a[N][8] = {{0}}, pending[N] = {0}, C = 0;
  for (int i = 0; i < N; i++) e[i] = e_start[i];
  for (int k = 0; k < sync_frequency; k++)
    for (int i = 0; i < N; i++) {
      e[i] -= met;
      int64_t visible = R - pending[i], room = cap - e[i] - pending[i];
      int64_t x = visible < harvest ? visible : harvest;
      if (room < x) x = room;
      if (x < 0) x = 0;
      a[i][k] = x;
      pending[i] += x;
      C += x;
    }
  int64_t granted = 0, e_total0 = 0, e_total1 = 0;
  for (int i = 0; i < N; i++) {
    e_total0 += e_start[i];
    for (int k = 0; k < sync_frequency; k++) {
      int64_t share = C <= R ? a[i][k] : (int64_t)(((unsigned __int128)R * (unsigned __int128)a[i][k]) / (unsigned)C);
      e[i] += share;
      granted += share;
    }
    REQUIRE(e[i] > 0 && e[i] < 20 * ONE, "test setup: agent %d would die or reproduce", i);
  }
  printf("  claims total %.4f on resource %.4f: %s\n", (double)C / ONE, (double)R / ONE,
         C > R ? "contested, split proportionally" : "all served");

  double *st = calloc((size_t)myr_sim_stat_count(sim), sizeof *st);
  REQUIRE(st, "out of memory");
  int64_t harvested = 0;
  for (int k = 0; k < sync_frequency; k++) {
    test_sim_step(&t);
    myr_sim_stats(sim, st);
    harvested += fx(st[test_stat(sim, "harvested")]);
  }
  CHECK(myr_sim_at_sync(sim), "the window should have closed");
  v = myr_sim_view(sim);
  CHECK_EQ_I64(myr_sim_population(sim), N);
  for (int i = 0; i < N; i++) {
    int64_t s = slot_of(&v, (uint64_t)i);
    REQUIRE(s >= 0, "agent %d vanished", i);
    CHECK_EQ_I64(MYR_COL(&v, FORAGING_ENERGY, int32_t)[s], e[i]);
  }
  CHECK(granted <= R, "granted %lld > resource %lld", (long long)granted, (long long)R);
  CHECK_EQ_I64(harvested, granted);
  int64_t r_after = MYR_LAYER(&v, FORAGING_RESOURCE, uint32_t)[0];
  CHECK_EQ_I64(r_after, R - granted);
  for (int i = 0; i < N; i++) e_total1 += MYR_COL(&v, FORAGING_ENERGY, int32_t)[slot_of(&v, (uint64_t)i)];
  /* Nothing created: resource + energy only lose the metabolism paid. */
  CHECK_EQ_I64(r_after + e_total1, R + e_total0 - (int64_t)N * met * sync_frequency);
  if (C > R) CHECK(R - granted < N * sync_frequency, "floor rounding lost %lld > one unit per claim", (long long)(R - granted));
  free(st);
  test_sim_close(&t);
}

static void test_legal(void) {
  printf("legal moves and features\n");
  test_sim t;
  test_sim_open(&t,
                "run: {steps: 100, seed: 9}\n"
                "world: {width: 12, height: 10, wrap: false}\n"
                "agents: {count: 300, capacity: 30000}\n"
                "model: {name: foraging, params: {hill_radius: 0.5}}\n"
                "policy: {kind: heuristic}\n");
  myr_sim *sim = t.sim;
  const myr_model *m = sim->model;
  myr_view v = myr_sim_view(sim);
  int32_t *x = MYR_COL(&v, FORAGING_X, int32_t), *y = MYR_COL(&v, FORAGING_Y, int32_t);
  struct {
    int32_t x, y;
    int legal;
  } cases[] = {{0, 0, 4}, {11, 0, 4}, {0, 9, 4}, {11, 9, 4}, {0, 5, 6}, {5, 0, 6}, {11, 5, 6}, {5, 9, 6}, {5, 5, 9}};
  uint8_t mask[MYR_MAX_ACTIONS];
  float feat[MYR_MAX_FEATURES];
  CHECK_EQ_I64(m->n_actions, 9);
  CHECK_EQ_I64(m->n_features, FORAGING_FEATURES);
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    x[0] = cases[c].x;
    y[0] = cases[c].y;
    int n = m->legal(&v, 0, mask), count = 0, bad = 0;
    m->features(&v, 0, feat);
    for (int a = 0; a < 9; a++) {
      count += mask[a];
      int inside = myr_inside(&v, x[0] + myr_move_dx(a), y[0] + myr_move_dy(a));
      bad += mask[a] != inside;
      bad += mask[a] ? !(feat[a] >= 0.0f && feat[a] <= 1.0f) : feat[a] != -1.0f;
    }
    CHECK(n == cases[c].legal && count == n && bad == 0, "(%d, %d): %d legal (mask %d, %d wrong), expected %d",
          cases[c].x, cases[c].y, n, count, bad, cases[c].legal);
  }
  /* The corner's 4: stay, E, NE, N. */
  x[0] = 0;
  y[0] = 0;
  m->legal(&v, 0, mask);
  CHECK(mask[0] && mask[1] && mask[2] && mask[3] && !mask[4] && !mask[5] && !mask[6] && !mask[7] && !mask[8],
        "corner mask");
  x[0] = 3;
  y[0] = 3;

  /* The heuristic never picks an illegal move; nobody leaves the world. */
  int64_t flow[MYR_MAX_FLOWS], illegal = 0, outside = 0, decisions = 0;
  for (int s = 0; s < 100; s++) {
    v = myr_sim_view(sim);
    m->heuristic(&v, 0, v.n, flow);
    for (int64_t i = 0; i < v.n; i++) {
      if (!v.alive[i]) continue;
      m->legal(&v, i, mask);
      illegal += !mask[v.action[i]];
      decisions++;
    }
    test_sim_step(&t);
    v = myr_sim_view(sim);
    for (int64_t i = 0; i < v.n; i++)
      if (v.alive[i]) outside += !myr_inside(&v, MYR_COL(&v, FORAGING_X, int32_t)[i], MYR_COL(&v, FORAGING_Y, int32_t)[i]);
  }
  CHECK(illegal == 0, "%lld of %lld heuristic decisions illegal", (long long)illegal, (long long)decisions);
  CHECK(outside == 0, "%lld agent-steps outside the world", (long long)outside);
  CHECK(decisions > 1000, "only %lld decisions", (long long)decisions);
  test_sim_close(&t);

  /* On a torus every move is legal. */
  test_sim_open(&t, "world: {width: 12, height: 10, wrap: true}\nagents: {count: 10}\nmodel: {name: foraging}\n");
  v = myr_sim_view(t.sim);
  MYR_COL(&v, FORAGING_X, int32_t)[0] = 0;
  MYR_COL(&v, FORAGING_Y, int32_t)[0] = 0;
  CHECK_EQ_I64(t.sim->model->legal(&v, 0, mask), 9);
  test_sim_close(&t);
}

/* Random policy in a closed world: agents stay inside (the engine draws from legal()). */
static void test_random_inside(void) {
  printf("random policy stays inside a closed world\n");
  test_sim t;
  test_sim_open(&t,
                "world: {width: 5, height: 4, wrap: false}\n"
                "agents: {count: 200, capacity: 20000}\n"
                "model: {name: foraging}\n"
                "policy: {kind: random}\n");
  int64_t outside = 0;
  for (int s = 0; s < 100; s++) {
    test_sim_step(&t);
    myr_view v = myr_sim_view(t.sim);
    for (int64_t i = 0; i < v.n; i++)
      if (v.alive[i]) outside += !myr_inside(&v, MYR_COL(&v, FORAGING_X, int32_t)[i], MYR_COL(&v, FORAGING_Y, int32_t)[i]);
  }
  CHECK(outside == 0, "%lld agent-steps outside the world", (long long)outside);
  test_sim_close(&t);
}

/* The whole state in id order, for comparing runs. */
static uint64_t state_digest(const myr_sim *sim) {
  int64_t *order, n;
  myr_error err;
  REQUIRE(myr_sim_id_order(sim, &order, &n, &err) == MYR_OK, "%s", err.msg);
  myr_view v = myr_sim_view(sim);
  uint64_t h = 1469598103934665603ull;
#define MIX(val) h = (h ^ (uint64_t)(val)) * 1099511628211ull
  for (int64_t k = 0; k < n; k++) {
    int64_t i = order[k];
    MIX(v.id[i]);
    MIX(MYR_COL(&v, FORAGING_X, int32_t)[i]);
    MIX(MYR_COL(&v, FORAGING_Y, int32_t)[i]);
    MIX(MYR_COL(&v, FORAGING_ENERGY, int32_t)[i]);
    MIX(MYR_COL(&v, FORAGING_AGE, uint32_t)[i]);
  }
  for (int64_t c = 0; c < myr_cells(&v); c++) MIX(MYR_LAYER(&v, FORAGING_RESOURCE, uint32_t)[c]);
#undef MIX
  free(order);
  return h;
}

static void test_threads(void) {
  printf("same state for 1 and 3 threads\n");
  uint64_t digest[2];
  int64_t pop[2];
  for (int r = 0; r < 2; r++) {
    test_sim t;
    test_sim_open(&t,
                  "run: {seed: 21, threads: %d}\n"
                  "world: {width: 200, height: 150, wrap: true}\n"
                  "agents: {count: 40000, capacity: 400000}\n"
                  "model: {name: foraging, params: {max_age: 40}}\n"
                  "distributed: {sync_frequency: 2}\n",
                  r == 0 ? 1 : 3);
    for (int s = 0; s < 40; s++) test_sim_step(&t);
    digest[r] = state_digest(t.sim);
    pop[r] = myr_sim_population(t.sim);
    test_sim_close(&t);
  }
  CHECK(digest[0] == digest[1], "state digest %016llx (1 thread) != %016llx (3 threads)",
        (unsigned long long)digest[0], (unsigned long long)digest[1]);
  CHECK_EQ_I64(pop[1], pop[0]);
}

static void expect_setup_error(const char *params, const char *name) {
  char yaml[1024];
  snprintf(yaml, sizeof yaml, "model: {name: foraging, params: {%s}}\n", params);
  myr_config cfg;
  myr_error err = {0};
  myr_status s = myr_config_load_text(&cfg, "bad.yaml", yaml, NULL, 0, &err);
  if (s == MYR_OK) myr_config_free(&cfg);
  CHECK(s == MYR_ERR_CONFIG && strstr(err.msg, name), "params {%s}: status %d, message '%s' should name %s", params,
        (int)s, err.msg, name);
}

static void test_setup(void) {
  printf("setup() checks\n");
  expect_setup_error("reproduce_threshold: 30, max_energy: 20", "reproduce_threshold");
  expect_setup_error("initial_energy: 0", "initial_energy");
  expect_setup_error("initial_energy: 25, max_energy: 20", "initial_energy");
}

int main(void) {
  test_setup();
  test_legal();
  test_random_inside();
  test_contested(1, 2.0);
  test_contested(3, 2.0);
  test_contested(1, 0.25);
  test_contested(3, 0.25);
  test_run(1, "heuristic", 300);
  test_run(3, "heuristic", 300);
  test_run(3, "random", 300);
  test_threads();
  return check_summary();
}
