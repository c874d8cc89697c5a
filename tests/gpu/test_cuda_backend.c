/* The CUDA backend against the CPU backend (the reference), through the library API:
 * - identical state hashes and identical statistics at every step for 100 steps: movement
 *   (random, heuristic), foraging (heuristic, random; sync windows 1 and 3; closed edges),
 *   with the GPU's sorts by cell (run.sort_every 8) and both ways of computing statistics;
 * - identical hashes run to run on the GPU;
 * - policy.kind network and mcts (gumbel, muzero with 2 root trees, rollouts) for foraging and
 *   latent: the same hashes and engine statistics on CPU and GPU;
 * - a checkpoint written from the GPU resumes on the GPU and on the CPU to the same hash as
 *   the straight run;
 * - 100M-agent smoke runs of both models: population accounting at every step;
 * - an impossible population is refused before the run with the estimate of what fits.
 * Exits 77 (skipped) when no CUDA device is present. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "gpu_skip.h" /* gpu_or_skip */
#include "sim/backend.h"
#include "sim/checkpoint.h"
#include "sim/config.h"
#include "sim/hash.h"
#include "sim/sim.h"


static void load(myr_config *cfg, const char *yaml, const char *backend) {
  char set[64];
  snprintf(set, sizeof set, "run.backend=%s", backend);
  char *sets[1] = {set};
  myr_error e;
  REQUIRE(myr_config_load_text(cfg, "test.yaml", yaml, sets, 1, &e) == MYR_OK, "%s", e.msg);
}

/* Runs `steps` steps recording every step; returns the hash and fills stats[steps][k]. */
static void run(const char *yaml, const char *backend, int steps, double *stats, char hex[MYR_HASH_HEX]) {
  myr_config cfg;
  load(&cfg, yaml, backend);
  myr_sim *sim;
  myr_error e;
  REQUIRE(myr_sim_create(&cfg, &sim, &e) == MYR_OK, "%s", e.msg);
  REQUIRE((strcmp(backend, "cuda") == 0) == (sim->backend != NULL), "backend %s not used (%s)", backend,
          sim->backend_why);
  int k = myr_sim_stat_count(sim);
  for (int s = 0; s < steps; s++) {
    sim->record_hint = s % 2; /* both ways of computing statistics on the GPU: fused and apart */
    REQUIRE(myr_sim_step(sim, &e) == MYR_OK, "%s step %d: %s", backend, s, e.msg);
    myr_sim_stats(sim, stats + (size_t)s * (size_t)k);
  }
  uint8_t h[MYR_HASH_BYTES];
  REQUIRE(myr_sim_to_host(sim, &e) == MYR_OK && myr_sim_hash(sim, h, &e) == MYR_OK, "%s", e.msg);
  myr_hash_hex(h, hex);
  myr_sim_destroy(sim);
  myr_config_free(&cfg);
}

static const char *const foraging_yaml =
    "run: {steps: 100, seed: 11}\n"
    "world: {width: 96, height: 80, wrap: %s}\n"
    "agents: {count: 6000, capacity: 60000}\n"
    "model: {name: foraging, params: {max_age: 60, choice: %s}}\n"
    "policy: {kind: %s}\n"
    "distributed: {sync_frequency: %d}\n";
static const char *const movement_yaml =
    "run: {steps: 100, seed: 5}\n"
    "world: {width: 300, height: 200, wrap: %s}\n"
    "agents: {count: 50000}\n"
    "model: {name: movement}\n"
    "policy: {kind: %s}\n";

static void agreement(void) {
  enum { STEPS = 100, MAXK = 64 };
  static double cpu[STEPS * MAXK], gpu[STEPS * MAXK], again[STEPS * MAXK];
  char yaml[1024];
  struct {
    const char *model, *wrap, *choice, *policy;
    int sync;
  } cases[] = {
      {"foraging", "true", "proportional", "heuristic", 1}, {"foraging", "true", "greedy", "heuristic", 3},
      {"foraging", "false", "proportional", "heuristic", 1}, {"foraging", "true", "proportional", "random", 1},
      {"movement", "true", "", "heuristic", 1},            {"movement", "false", "", "random", 1},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    if (strcmp(cases[c].model, "foraging") == 0)
      snprintf(yaml, sizeof yaml, foraging_yaml, cases[c].wrap, cases[c].choice, cases[c].policy, cases[c].sync);
    else
      snprintf(yaml, sizeof yaml, movement_yaml, cases[c].wrap, cases[c].policy);
    char hc[MYR_HASH_HEX], hg[MYR_HASH_HEX], hg2[MYR_HASH_HEX];
    run(yaml, "cpu", STEPS, cpu, hc);
    run(yaml, "cuda", STEPS, gpu, hg);
    run(yaml, "cuda", STEPS, again, hg2);
    printf("%-9s wrap %-5s %-12s %-9s sync %d  cpu %.16s  gpu %.16s\n", cases[c].model, cases[c].wrap,
           cases[c].choice, cases[c].policy, cases[c].sync, hc, hg);
    CHECK(strcmp(hc, hg) == 0, "case %zu: GPU hash %s != CPU hash %s", c, hg, hc);
    CHECK(strcmp(hg, hg2) == 0, "case %zu: GPU run to run %s != %s", c, hg, hg2);
    int mismatches = 0;
    for (int i = 0; i < STEPS * 8; i++) /* the first 8 statistics of every step, bit for bit */
      if (memcmp(&cpu[i], &gpu[i], sizeof(double)) != 0 && mismatches++ < 5)
        fprintf(stderr, "case %zu: statistic row %d col %d: cpu %.17g gpu %.17g\n", c, i / 8, i % 8, cpu[i], gpu[i]);
    CHECK(mismatches == 0, "case %zu: %d statistics differ", c, mismatches);
  }
}

/* policy.kind network and mcts end to end: the same hashes and statistics on CPU and GPU. */
static void policies_agreement(void) {
  enum { STEPS = 12, MAXK = 64 };
  static double cpu[STEPS * MAXK], gpu[STEPS * MAXK];
  const char *const yaml_fmt =
      "run: {steps: 12, seed: 5}\n"
      "world: {width: 48, height: 40, wrap: false}\n"
      "agents: {count: 1500, capacity: 6000}\n"
      "model: {name: %s}\n"
      "network: {hidden: [32, 32]}\n"
      "policy: {kind: %s, mcts: {simulations: 8, algorithm: %s, root_trees: %d, rollout_depth: %d}}\n";
  struct {
    const char *model, *policy, *algorithm;
    int root_trees, rollout;
  } cases[] = {
      {"foraging", "network", "gumbel", 1, 0}, {"foraging", "mcts", "gumbel", 1, 0},
      {"foraging", "mcts", "muzero", 2, 0},    {"foraging", "mcts", "gumbel", 1, 3},
      {"latent", "network", "gumbel", 1, 0},   {"latent", "mcts", "gumbel", 1, 0},
  };
  char yaml[1024];
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    snprintf(yaml, sizeof yaml, yaml_fmt, cases[c].model, cases[c].policy, cases[c].algorithm, cases[c].root_trees,
             cases[c].rollout);
    char hc[MYR_HASH_HEX], hg[MYR_HASH_HEX];
    run(yaml, "cpu", STEPS, cpu, hc);
    run(yaml, "cuda", STEPS, gpu, hg);
    printf("%-9s %-8s %-7s K=%d rollout %d  cpu %.16s  gpu %.16s\n", cases[c].model, cases[c].policy,
           cases[c].algorithm, cases[c].root_trees, cases[c].rollout, hc, hg);
    CHECK(strcmp(hc, hg) == 0, "policy case %zu: GPU hash %s != CPU hash %s", c, hg, hc);
    int mismatches = 0;
    for (int i = 0; i < STEPS * 3; i++) /* the first statistics recorded, bit for bit */
      if (memcmp(&cpu[i], &gpu[i], sizeof(double)) != 0) mismatches++;
    CHECK(mismatches == 0, "policy case %zu: %d statistics differ", c, mismatches);
  }
}

static void checkpoint_across_devices(void) {
  char yaml[1024], straight[MYR_HASH_HEX];
  snprintf(yaml, sizeof yaml, foraging_yaml, "true", "proportional", "heuristic", 2);
  static double stats[100 * 64];
  run(yaml, "cuda", 60, stats, straight);

  myr_config cfg;
  load(&cfg, yaml, "cuda");
  myr_sim *sim;
  myr_error e;
  REQUIRE(myr_sim_create(&cfg, &sim, &e) == MYR_OK, "%s", e.msg);
  for (int s = 0; s < 30; s++) REQUIRE(myr_sim_step(sim, &e) == MYR_OK, "%s", e.msg);
  REQUIRE(myr_sim_to_host(sim, &e) == MYR_OK, "%s", e.msg);
  REQUIRE(myr_checkpoint_write(sim, "gpu-ckpt.h5", &e) == MYR_OK, "%s", e.msg);
  myr_sim_destroy(sim);
  myr_config_free(&cfg);
  const char *backends[2] = {"cuda", "cpu"};
  for (int b = 0; b < 2; b++) {
    load(&cfg, yaml, backends[b]);
    REQUIRE(myr_checkpoint_load(&cfg, "gpu-ckpt.h5", &sim, &e) == MYR_OK, "%s", e.msg);
    for (int s = 0; s < 30; s++) REQUIRE(myr_sim_step(sim, &e) == MYR_OK, "%s", e.msg);
    uint8_t h[MYR_HASH_BYTES];
    char hex[MYR_HASH_HEX];
    REQUIRE(myr_sim_to_host(sim, &e) == MYR_OK && myr_sim_hash(sim, h, &e) == MYR_OK, "%s", e.msg);
    myr_hash_hex(h, hex);
    CHECK(strcmp(hex, straight) == 0, "GPU checkpoint resumed on %s: %s != straight %s", backends[b], hex, straight);
    myr_sim_destroy(sim);
    myr_config_free(&cfg);
  }
}

static void smoke_100m(const char *model, const char *world, const char *capacity) {
  char yaml[512];
  snprintf(yaml, sizeof yaml,
           "run: {steps: 6, seed: 3}\nworld: {width: %s, height: %s}\nagents: {count: 100000000, capacity: %s}\n"
           "model: {name: %s}\ndistributed: {sync_frequency: 1}\n",
           world, world, capacity, model);
  myr_config cfg;
  load(&cfg, yaml, "cuda");
  myr_sim *sim;
  myr_error e;
  REQUIRE(myr_sim_create(&cfg, &sim, &e) == MYR_OK, "%s", e.msg);
  double stats[64];
  int64_t pop = sim->agents.n, births = 0, deaths = 0;
  for (int s = 0; s < 6; s++) {
    REQUIRE(myr_sim_step(sim, &e) == MYR_OK, "%s 100M step %d: %s", model, s, e.msg);
    myr_sim_stats(sim, stats);
    CHECK_EQ_I64((int64_t)stats[MYR_STAT_POPULATION], pop + (int64_t)stats[MYR_STAT_BIRTHS] - (int64_t)stats[MYR_STAT_DEATHS]);
    pop = (int64_t)stats[MYR_STAT_POPULATION];
    births += (int64_t)stats[MYR_STAT_BIRTHS];
    deaths += (int64_t)stats[MYR_STAT_DEATHS];
  }
  printf("%s at 100M agents: 6 steps, population %lld, births %lld, deaths %lld\n", model, (long long)pop,
         (long long)births, (long long)deaths);
  myr_sim_destroy(sim);
  myr_config_free(&cfg);
}

static void refuses_what_cannot_fit(void) {
  myr_config cfg;
  load(&cfg, "agents: {count: 1000000000000}\nworld: {width: 1000, height: 1000}\nmodel: {name: movement}\n", "cuda");
  myr_sim *sim = NULL;
  myr_error e;
  myr_status s = myr_sim_create(&cfg, &sim, &e);
  CHECK(s == MYR_ERR_NOMEM, "a trillion agents were not refused (status %d)", (int)s);
  CHECK(strstr(e.msg, "agents fit") != NULL, "the message does not say what fits: %s", e.msg);
  printf("refused: %s\n", e.msg);
  myr_config_free(&cfg);
}

int main(void) {
  gpu_or_skip();
  agreement();
  policies_agreement();
  checkpoint_across_devices();
  refuses_what_cannot_fit();
  smoke_100m("movement", "16384", "100000000");
  smoke_100m("foraging", "25600", "160000000");
  return check_summary();
}
