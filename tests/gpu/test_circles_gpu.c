/* circles on the GPU (label gpu; exits 77 without a CUDA device): the same state hash and the
 * same statistics, bit for bit, as the CPU backend after every one of 30 steps, closed and
 * wrapped, sync windows of 1 and 3 steps, and the same hash from two GPU runs. Both backends run circles.h's arithmetic with
 * no fused multiply-add (--fmad=false), correctly rounded sqrt and division and myr_sinf,
 * summing forces in the snapshot's (cell, id) order, so nothing is left to tolerance. Also at
 * 1M agents (the benchmark size) for 5 steps. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "gpu_skip.h" /* gpu_or_skip */
#include "sim/config.h"
#include "sim/hash.h"
#include "sim/sim.h"


enum { MAXK = 16 };

static void run(const char *yaml, const char *backend, int steps, double *stats, char hex[MYR_HASH_HEX]) {
  char set[64];
  snprintf(set, sizeof set, "run.backend=%s", backend);
  char *sets[1] = {set};
  myr_config cfg;
  myr_error e;
  REQUIRE(myr_config_load_text(&cfg, "test.yaml", yaml, sets, 1, &e) == MYR_OK, "%s", e.msg);
  myr_sim *sim;
  REQUIRE(myr_sim_create(&cfg, &sim, &e) == MYR_OK, "%s", e.msg);
  REQUIRE((strcmp(backend, "cuda") == 0) == (sim->backend != NULL), "backend %s not used (%s)", backend,
          sim->backend_why);
  int k = myr_sim_stat_count(sim);
  REQUIRE(k <= MAXK, "%d statistics", k);
  for (int s = 0; s < steps; s++) {
    sim->record_hint = s % 2;
    REQUIRE(myr_sim_step(sim, &e) == MYR_OK, "%s step %d: %s", backend, s, e.msg);
    myr_sim_stats(sim, stats + (size_t)s * MAXK);
  }
  uint8_t h[MYR_HASH_BYTES];
  REQUIRE(myr_sim_to_host(sim, &e) == MYR_OK && myr_sim_hash(sim, h, &e) == MYR_OK, "%s", e.msg);
  myr_hash_hex(h, hex);
  myr_sim_destroy(sim);
  myr_config_free(&cfg);
}

static void agreement(const char *params, int agents, int steps, int sync) {
  static double cpu[30 * MAXK], gpu[30 * MAXK], again[30 * MAXK];
  char yaml[1024], hc[MYR_HASH_HEX], hg[MYR_HASH_HEX], hg2[MYR_HASH_HEX];
  snprintf(yaml, sizeof yaml,
           "run: {steps: %d, seed: 21}\nworld: {width: 1, height: 1}\nagents: {count: %d}\n"
           "model: {name: circles, params: {%s}}\npolicy: {kind: heuristic}\ndistributed: {sync_frequency: %d}\n",
           steps, agents, params, sync);
  run(yaml, "cpu", steps, cpu, hc);
  run(yaml, "cuda", steps, gpu, hg);
  run(yaml, "cuda", steps, again, hg2);
  printf("circles {%s} sync %d, %d agents %d steps: cpu %.16s gpu %.16s\n", params, sync, agents, steps, hc, hg);
  CHECK(strcmp(hc, hg) == 0, "{%s}: GPU hash %s != CPU hash %s", params, hg, hc);
  CHECK(strcmp(hg, hg2) == 0, "{%s}: GPU run to run %s != %s", params, hg, hg2);
  int bad = 0;
  for (int s = 0; s < steps; s++)
    for (int j = 0; j < 6; j++) { /* population, births, deaths, mean_neighbours, mean_candidates, mean_drift */
      int i = s * MAXK + j;
      if (memcmp(&cpu[i], &gpu[i], sizeof(double)) != 0 && bad++ < 5)
        fprintf(stderr, "step %d statistic %d: cpu %.17g gpu %.17g\n", s, j, cpu[i], gpu[i]);
    }
  CHECK(bad == 0, "{%s}: %d statistics differ", params, bad);
}

int main(void) {
  gpu_or_skip();
  agreement("radius: 2.0", 30000, 30, 1);
  agreement("radius: 1.7, wrap: true", 30000, 30, 1);
  agreement("size: 20, radius: 2.0, repulse: 0.3", 20000, 30, 1); /* dense: bins of ~20 */
  /* windows of 3 steps: agents move away from their published entries, which they skip by id */
  agreement("radius: 2.0, repulse: 0.5", 30000, 30, 3);
  agreement("radius: 1.7, wrap: true, repulse: 0.5", 30000, 30, 3);
  agreement("radius: 2.0", 1000000, 5, 1);
  return check_summary();
}
