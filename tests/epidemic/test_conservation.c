/* epidemic (models/epidemic), exact bookkeeping and determinism, in the spatial mode with
 * every rule switched on (deaths, vaccination, a lockdown, 3x3 contacts, 2-step windows):
 * - S + E + I + R + D == N at every step, each count >= 0, and equal to the states counted
 *   through the view; the engine's population stays N (the dead keep their slots);
 * - flows add up: N - S == summed new_infections + summed vaccinated + initial_infected, and
 *   the summed new_deaths == D;
 * - the dead never move; timers are > 0 exactly in E and I;
 * - the state hash is identical for 1 and 2 threads (and the heuristic and random policies
 *   each give a run whose counts conserve);
 * - setup() refuses what the model cannot run, naming the parameter. */
#include <string.h>

#include "models/common.h"
#include "models/epidemic/epidemic.h"
#include "sim/hash.h"

enum { N = 30000, STEPS = 160, INITIAL = 60 };

static void run(int threads, const char *policy, uint8_t hash[MYR_HASH_BYTES]) {
  test_sim t;
  test_sim_open(&t,
                "run: {seed: 5, threads: %d}\n"
                "world: {width: 60, height: 50, wrap: false}\n"
                "agents: {count: %d, capacity: %d}\n"
                "model: {name: epidemic, params: {steps_per_day: 4, p_contact: 0.08, contact_radius_cells: 1,\n"
                "  incubation_mean: 2, incubation_shape: 3, infectious_mean: 4, infectious_shape: 2,\n"
                "  fatality: 0.2, initial_infected: %d, vaccination_rate: 0.01, mobility_reduction: 0.7,\n"
                "  lockdown_threshold: 0.02, commute_radius: 6, random_move: 0.2}}\n"
                "policy: {kind: %s}\n"
                "distributed: {sync_frequency: 2}\n",
                threads, N, N, INITIAL, policy);
  myr_sim *sim = t.sim;
  int k[EPIDEMIC_STATES] = {test_stat(sim, "susceptible"), test_stat(sim, "exposed"), test_stat(sim, "infectious"),
                            test_stat(sim, "recovered"), test_stat(sim, "dead")};
  int k_inf = test_stat(sim, "new_infections"), k_dead = test_stat(sim, "new_deaths");
  int k_vacc = test_stat(sim, "vaccinated"), k_lock = test_stat(sim, "locked_moves");
  double *st = calloc((size_t)myr_sim_stat_count(sim), sizeof *st);
  int32_t *dead_x = malloc(N * sizeof *dead_x), *dead_y = malloc(N * sizeof *dead_y);
  uint8_t *was_dead = calloc(N, 1);
  REQUIRE(st && dead_x && dead_y && was_dead, "out of memory");
  double infections = 0, deaths = 0, vaccinated = 0, locked = 0;
  int bad = 0;
  for (int s = 0; s < STEPS; s++) {
    test_sim_step(&t);
    myr_sim_stats(sim, st);
    infections += st[k_inf];
    deaths += st[k_dead];
    vaccinated += st[k_vacc];
    locked += st[k_lock];
    myr_view v = myr_sim_view(sim);
    int64_t count[EPIDEMIC_STATES] = {0};
    for (int64_t i = 0; i < v.n; i++) {
      int state = MYR_COL(&v, EPIDEMIC_STATE, uint8_t)[i];
      int32_t timer = MYR_COL(&v, EPIDEMIC_TIMER, int32_t)[i];
      uint64_t id = v.id[i];
      if (state >= EPIDEMIC_STATES || id >= N) {
        if (bad++ < 5) fprintf(stderr, "step %d: agent %llu in state %d\n", s, (unsigned long long)id, state);
        continue;
      }
      count[state]++;
      if ((timer > 0) != (state == EPIDEMIC_E || state == EPIDEMIC_I))
        if (bad++ < 5) fprintf(stderr, "step %d: agent %llu state %d timer %d\n", s, (unsigned long long)id, state, timer);
      int32_t x = MYR_COL(&v, EPIDEMIC_X, int32_t)[i], y = MYR_COL(&v, EPIDEMIC_Y, int32_t)[i];
      if (state == EPIDEMIC_D) {
        if (was_dead[id] && (dead_x[id] != x || dead_y[id] != y))
          if (bad++ < 5) fprintf(stderr, "step %d: dead agent %llu moved\n", s, (unsigned long long)id);
        was_dead[id] = 1;
        dead_x[id] = x;
        dead_y[id] = y;
      } else if (was_dead[id]) {
        if (bad++ < 5) fprintf(stderr, "step %d: agent %llu came back from the dead\n", s, (unsigned long long)id);
      }
    }
    double total = 0;
    for (int q = 0; q < EPIDEMIC_STATES; q++) {
      total += st[k[q]];
      if (st[k[q]] < 0 || st[k[q]] != (double)count[q])
        if (bad++ < 5) fprintf(stderr, "step %d: state %d statistic %g, view %lld\n", s, q, st[k[q]], (long long)count[q]);
    }
    if (total != N || st[MYR_STAT_POPULATION] != N)
      if (bad++ < 5) fprintf(stderr, "step %d: S+E+I+R+D = %g, population %g, expected %d\n", s, total,
                             st[MYR_STAT_POPULATION], N);
    /* Everyone not susceptible was infected (counted as a flow), vaccinated, or seeded. */
    if (N - st[k[EPIDEMIC_S]] != infections + vaccinated + INITIAL || deaths != st[k[EPIDEMIC_D]])
      if (bad++ < 5) fprintf(stderr, "step %d: flows do not add up (infections %g, vaccinated %g, deaths %g)\n", s,
                             infections, vaccinated, deaths);
  }
  CHECK(bad == 0, "%s policy, %d threads: %d violations", policy, threads, bad);
  printf("%s policy, %d threads: %g infections, %g vaccinated, %g deaths, %g moves suppressed by the lockdown; "
         "final S %g E %g I %g R %g D %g\n",
         policy, threads, infections, vaccinated, deaths, locked, st[k[0]], st[k[1]], st[k[2]], st[k[3]], st[k[4]]);
  /* The scenario exercises every rule. */
  CHECK(infections > 1000 && deaths > 0 && vaccinated > 0 && locked > 0,
        "some rule never fired: infections %g, deaths %g, vaccinated %g, locked moves %g", infections, deaths,
        vaccinated, locked);
  myr_error err;
  REQUIRE(myr_sim_hash(sim, hash, &err) == MYR_OK, "hash: %s", err.msg);
  free(st);
  free(dead_x);
  free(dead_y);
  free(was_dead);
  test_sim_close(&t);
}

static void expect_setup_error(const char *yaml_body, const char *name) {
  myr_config cfg;
  myr_error err = {0};
  myr_status s = myr_config_load_text(&cfg, "bad.yaml", yaml_body, NULL, 0, &err);
  if (s == MYR_OK) myr_config_free(&cfg);
  CHECK(s == MYR_ERR_CONFIG && strstr(err.msg, name), "'%s': status %d, message '%s' should name %s", yaml_body,
        (int)s, err.msg, name);
}

int main(void) {
  expect_setup_error("agents: {count: 10, capacity: 10}\nmodel: {name: epidemic, params: {initial_infected: 11}}\n",
                     "initial_infected");
  expect_setup_error("model: {name: epidemic, params: {infectious_mean: 0}}\n", "infectious_mean");
  uint8_t h1[MYR_HASH_BYTES], h2[MYR_HASH_BYTES], hr[MYR_HASH_BYTES];
  run(1, "heuristic", h1);
  run(2, "heuristic", h2);
  char a[MYR_HASH_HEX], b[MYR_HASH_HEX];
  myr_hash_hex(h1, a);
  myr_hash_hex(h2, b);
  printf("hash, 1 thread:  %s\nhash, 2 threads: %s\n", a, b);
  CHECK(memcmp(h1, h2, MYR_HASH_BYTES) == 0, "hashes differ between 1 and 2 threads");
  run(2, "random", hr);
  return check_summary();
}
