/* Helpers for the output tests: a small foraging config from YAML text with overrides, a
 * simulation stepped to a given step, scratch files. Tests die on setup failures. */
#ifndef MYR_TEST_OUTPUT_UTIL_H
#define MYR_TEST_OUTPUT_UTIL_H

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "sim/config.h"
#include "sim/hash.h"
#include "sim/sim.h"

/* A 32 x 24 torus (not square, so width/height swaps show), foraging with default params. */
static const char *const small_yaml =
    "run: {steps: 8, seed: 7, threads: 1, record_every: 1, snapshot_every: 2, progress: false}\n"
    "world: {width: 32, height: 24, wrap: true}\n"
    "agents: {count: 200, capacity: 4000}\n"
    "model: {name: foraging}\n"
    "policy: {kind: heuristic}\n"
    "distributed: {sync_frequency: 1}\n";

/* Loads `yaml` with up to 4 overrides (NULL-terminated list). */
static inline void load_cfg(myr_config *cfg, const char *yaml, const char *const *set) {
  int n_set = 0;
  while (set && set[n_set]) n_set++;
  myr_error err = {0};
  myr_status s = myr_config_load_text(cfg, "test.yaml", yaml, (char *const *)set, n_set, &err);
  REQUIRE(s == MYR_OK, "config: %s (%s)", err.msg, myr_strerror(s));
}

static inline myr_sim *make_sim(const myr_config *cfg) {
  myr_sim *sim = NULL;
  myr_error err = {0};
  myr_status s = myr_sim_create(cfg, &sim, &err);
  REQUIRE(s == MYR_OK, "myr_sim_create: %s (%s)", err.msg, myr_strerror(s));
  return sim;
}

static inline void step_n(myr_sim *sim, int64_t n) {
  myr_error err = {0};
  for (int64_t i = 0; i < n; i++) {
    myr_status s = myr_sim_step(sim, &err);
    REQUIRE(s == MYR_OK, "myr_sim_step at %llu: %s (%s)", (unsigned long long)sim->step, err.msg,
            myr_strerror(s));
  }
}

static inline void hash_of(const myr_sim *sim, uint8_t h[MYR_HASH_BYTES]) {
  myr_error err = {0};
  myr_status s = myr_sim_hash(sim, h, &err);
  REQUIRE(s == MYR_OK, "myr_sim_hash: %s", err.msg);
}

static inline int file_exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

/* mkdir -p for one or two levels of scratch folders. */
static inline void make_dir(const char *path) {
  REQUIRE(mkdir(path, 0777) == 0 || errno == EEXIST, "mkdir %s: %s", path, strerror(errno));
}

/* SHA-256 of a file's bytes (to show a file was left untouched). */
static inline void file_digest(const char *path, uint8_t h[MYR_HASH_BYTES]) {
  FILE *f = fopen(path, "rb");
  REQUIRE(f, "cannot open %s", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc(n > 0 ? (size_t)n : 1);
  REQUIRE(buf && fread(buf, 1, (size_t)n, f) == (size_t)n, "cannot read %s", path);
  fclose(f);
  myr_sha256(buf, (size_t)n, h);
  free(buf);
}

#endif
