/* Helpers shared by the model tests: a simulation from YAML text (through the real config
 * loader and the model's setup()), statistics by name, and a sorted-id lookup. Tests die
 * loudly (REQUIRE) when a setup step fails. */
#ifndef MYR_TEST_MODELS_COMMON_H
#define MYR_TEST_MODELS_COMMON_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "sim/config.h"
#include "sim/sim.h"

typedef struct test_sim {
  myr_config cfg;
  myr_sim *sim;
} test_sim;

/* Loads `yaml` (printf-formatted) and creates the simulation; dies on failure. */
static inline void test_sim_open(test_sim *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline void test_sim_open(test_sim *t, const char *fmt, ...) {
  char yaml[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(yaml, sizeof yaml, fmt, ap);
  va_end(ap);
  myr_error err;
  memset(t, 0, sizeof *t);
  REQUIRE(myr_config_load_text(&t->cfg, "test.yaml", yaml, NULL, 0, &err) == MYR_OK, "config: %s\n%s", err.msg,
          yaml);
  REQUIRE(myr_sim_create(&t->cfg, &t->sim, &err) == MYR_OK, "create: %s", err.msg);
}

static inline void test_sim_close(test_sim *t) {
  myr_sim_destroy(t->sim);
  myr_config_free(&t->cfg);
  t->sim = NULL;
}

static inline void test_sim_step(test_sim *t) {
  myr_error err;
  REQUIRE(myr_sim_step(t->sim, &err) == MYR_OK, "step %llu: %s", (unsigned long long)t->sim->step, err.msg);
}

/* Index of the statistic called `name`; dies if there is none. */
static inline int test_stat(const myr_sim *sim, const char *name) {
  for (int k = 0; k < myr_sim_stat_count(sim); k++)
    if (strcmp(myr_sim_stat_name(sim, k), name) == 0) return k;
  REQUIRE(0, "no statistic '%s'", name);
  return -1;
}

static inline int test_cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

/* 1 if `id` is in the sorted array ids[0..n). */
static inline int test_has_id(const uint64_t *ids, int64_t n, uint64_t id) {
  return bsearch(&id, ids, (size_t)n, sizeof *ids, test_cmp_u64) != NULL;
}

/* The ids of the alive agents, sorted (malloc'd; *n set). */
static inline uint64_t *test_alive_ids(const myr_sim *sim, int64_t *n) {
  myr_view v = myr_sim_view(sim);
  uint64_t *ids = malloc((size_t)(v.n ? v.n : 1) * sizeof *ids);
  REQUIRE(ids, "out of memory");
  int64_t k = 0;
  for (int64_t i = 0; i < v.n; i++)
    if (v.alive[i]) ids[k++] = v.id[i];
  qsort(ids, (size_t)k, sizeof *ids, test_cmp_u64);
  *n = k;
  return ids;
}

#endif
