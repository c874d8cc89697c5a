/* Checkpoints (sim/checkpoint.h): a run resumed from a checkpoint ends in the same state as a
 * run straight through (state hash equal, DESIGN §4), for sync_frequency 1 and 2 and for 1
 * and 2 threads; a loaded checkpoint hashes like the state it was written from; loading into
 * a run whose seed, world, sync_frequency, policy or model parameters differ fails with
 * MYR_ERR_CHECKPOINT naming the key; too small a capacity fails with MYR_ERR_CAPACITY; and
 * checkpoints are only written at the end of a sync window. */
#include <string.h>

#include "output_util.h"
#include "probe_model.h"
#include "sim/checkpoint.h"

static const char *dir = "checkpoint_resume.tmp";

static void hex_of(const uint8_t h[MYR_HASH_BYTES], char hex[MYR_HASH_HEX]) { myr_hash_hex(h, hex); }

/* A straight through 2K steps against K steps, checkpoint, load, K steps. */
static void resume_case(const char *yaml, int sync, int threads, int k_steps) {
  char s_sync[64], s_threads[64], path[512];
  snprintf(s_sync, sizeof s_sync, "distributed.sync_frequency=%d", sync);
  snprintf(s_threads, sizeof s_threads, "run.threads=%d", threads);
  const char *set[] = {s_sync, s_threads, NULL};
  myr_config cfg;
  load_cfg(&cfg, yaml, set);

  myr_sim *a = make_sim(&cfg);
  step_n(a, 2 * k_steps);
  uint8_t ha[MYR_HASH_BYTES];
  hash_of(a, ha);
  int64_t pop_a = myr_sim_population(a);
  myr_sim_destroy(a);

  myr_sim *b = make_sim(&cfg);
  step_n(b, k_steps);
  uint8_t hb_written[MYR_HASH_BYTES], hb_loaded[MYR_HASH_BYTES], hb[MYR_HASH_BYTES];
  hash_of(b, hb_written);
  snprintf(path, sizeof path, "%s/%s-sync%d-threads%d.h5", dir, cfg.model, sync, threads);
  myr_error err = {0};
  myr_status s = myr_checkpoint_write(b, path, &err);
  REQUIRE(s == MYR_OK, "checkpoint write: %s", err.msg);
  myr_sim_destroy(b);
  b = NULL;
  s = myr_checkpoint_load(&cfg, path, &b, &err);
  REQUIRE(s == MYR_OK && b, "checkpoint load: %s", err.msg);
  CHECK_EQ_I64(b->step, k_steps);
  hash_of(b, hb_loaded);
  CHECK(memcmp(hb_written, hb_loaded, MYR_HASH_BYTES) == 0,
        "sync %d threads %d: the loaded state hashes differently from the written one", sync, threads);
  step_n(b, k_steps);
  hash_of(b, hb);
  char xa[MYR_HASH_HEX], xb[MYR_HASH_HEX];
  hex_of(ha, xa);
  hex_of(hb, xb);
  CHECK(memcmp(ha, hb, MYR_HASH_BYTES) == 0, "%s sync %d threads %d: straight %s, resumed %s", cfg.model,
        sync, threads, xa, xb);
  CHECK_EQ_I64(myr_sim_population(b), pop_a);
  printf("%-8s sync %d threads %d K %d: population %lld, hash %s (%s)\n", cfg.model, sync, threads,
         k_steps, (long long)pop_a, xa, memcmp(ha, hb, MYR_HASH_BYTES) ? "DIFFERENT" : "same");
  myr_sim_destroy(b);
  myr_config_free(&cfg);
}

/* Loads `path` into a run configured with `set`; expects status `want` and `key` in the message. */
static void mismatch(const char *path, const char *const *set, myr_status want, const char *key) {
  myr_config cfg;
  load_cfg(&cfg, small_yaml, set);
  myr_sim *sim = NULL;
  myr_error err = {0};
  myr_status s = myr_checkpoint_load(&cfg, path, &sim, &err);
  CHECK(s == want, "%s: got %s (%s), expected %s", set[0], myr_strerror(s), err.msg, myr_strerror(want));
  CHECK(sim == NULL, "%s: a simulation was returned on failure", set[0]);
  if (key) CHECK(strstr(err.msg, key) != NULL, "%s: the message does not name %s: %s", set[0], key, err.msg);
  printf("%-40s -> %s\n", set[0], err.msg);
  if (sim) myr_sim_destroy(sim);
  myr_config_free(&cfg);
}

int main(void) {
  register_probe();
  make_dir(dir);
  for (int sync = 1; sync <= 2; sync++)
    for (int threads = 1; threads <= 2; threads++) {
      resume_case(small_yaml, sync, threads, 16);
      resume_case(probe_yaml, sync, threads, 6);
    }

  /* Threads do not change the state either (DESIGN §4). */
  {
    uint8_t h[2][MYR_HASH_BYTES];
    for (int t = 0; t < 2; t++) {
      const char *set[] = {t ? "run.threads=2" : "run.threads=1", NULL};
      myr_config cfg;
      load_cfg(&cfg, small_yaml, set);
      myr_sim *sim = make_sim(&cfg);
      step_n(sim, 6);
      hash_of(sim, h[t]);
      myr_sim_destroy(sim);
      myr_config_free(&cfg);
    }
    CHECK(memcmp(h[0], h[1], MYR_HASH_BYTES) == 0, "1 and 2 threads give different states");
  }

  /* A reference checkpoint at step 2 (sync_frequency 2), then runs that differ. */
  char path[512];
  snprintf(path, sizeof path, "%s/reference.h5", dir);
  {
    const char *set[] = {"distributed.sync_frequency=2", NULL};
    myr_config cfg;
    load_cfg(&cfg, small_yaml, set);
    myr_sim *sim = make_sim(&cfg);
    myr_error err = {0};
    step_n(sim, 1);
    char odd[512];
    snprintf(odd, sizeof odd, "%s/mid-window.h5", dir);
    myr_status s = myr_checkpoint_write(sim, odd, &err);
    CHECK(s == MYR_ERR_CHECKPOINT, "a checkpoint inside a sync window was written (%s)", myr_strerror(s));
    CHECK(!file_exists(odd), "%s exists", odd);
    step_n(sim, 1);
    s = myr_checkpoint_write(sim, path, &err);
    REQUIRE(s == MYR_OK, "checkpoint write: %s", err.msg);
    char part[600];
    snprintf(part, sizeof part, "%s.part", path);
    CHECK(!file_exists(part), "%s left behind", part);
    myr_sim_destroy(sim);
    myr_config_free(&cfg);
  }
  {
    const char *set[] = {"run.seed=8", "distributed.sync_frequency=2", NULL};
    mismatch(path, set, MYR_ERR_CHECKPOINT, "run.seed");
  }
  {
    const char *set[] = {"world.width=33", "distributed.sync_frequency=2", NULL};
    mismatch(path, set, MYR_ERR_CHECKPOINT, "world.width");
  }
  {
    const char *set[] = {"world.height=25", "distributed.sync_frequency=2", NULL};
    mismatch(path, set, MYR_ERR_CHECKPOINT, "world.height");
  }
  {
    const char *set[] = {"world.wrap=false", "distributed.sync_frequency=2", NULL};
    mismatch(path, set, MYR_ERR_CHECKPOINT, "world.wrap");
  }
  {
    const char *set[] = {"distributed.sync_frequency=1", NULL};
    mismatch(path, set, MYR_ERR_CHECKPOINT, "distributed.sync_frequency");
  }
  {
    const char *set[] = {"policy.kind=random", "distributed.sync_frequency=2", NULL};
    mismatch(path, set, MYR_ERR_CHECKPOINT, "policy.kind");
  }
  {
    const char *set[] = {"model.params.metabolism=0.625", "distributed.sync_frequency=2", NULL};
    mismatch(path, set, MYR_ERR_CHECKPOINT, "model.params.metabolism");
  }
  {
    const char *set[] = {"model.name=movement", "distributed.sync_frequency=2", NULL};
    mismatch(path, set, MYR_ERR_CHECKPOINT, "model.name");
  }
  {
    const char *set[] = {"agents.count=10", "agents.capacity=10", "distributed.sync_frequency=2", NULL};
    mismatch(path, set, MYR_ERR_CAPACITY, "capacity");
  }
  {
    char missing[512];
    snprintf(missing, sizeof missing, "%s/missing.h5", dir);
    const char *set[] = {"distributed.sync_frequency=2", NULL};
    mismatch(missing, set, MYR_ERR_IO, "missing.h5");
  }
  /* An integer parameter of a model with multi-component columns. */
  {
    char probe_path[512];
    snprintf(probe_path, sizeof probe_path, "%s/probe-sync1-threads1.h5", dir);
    myr_config cfg;
    const char *set[] = {"model.params.period=8", NULL};
    load_cfg(&cfg, probe_yaml, set);
    myr_sim *sim = NULL;
    myr_error err = {0};
    myr_status s = myr_checkpoint_load(&cfg, probe_path, &sim, &err);
    CHECK(s == MYR_ERR_CHECKPOINT && strstr(err.msg, "model.params.period"), "probe period: %s", err.msg);
    printf("%-40s -> %s\n", set[0], err.msg);
    myr_config_free(&cfg);
  }
  /* What may differ: steps, threads, output, intervals. */
  {
    const char *set[] = {"distributed.sync_frequency=2", "run.steps=100", "run.threads=2",
                         "run.record_every=5", NULL};
    myr_config cfg;
    load_cfg(&cfg, small_yaml, set);
    myr_sim *sim = NULL;
    myr_error err = {0};
    myr_status s = myr_checkpoint_load(&cfg, path, &sim, &err);
    CHECK(s == MYR_OK, "load with other steps/threads/intervals: %s", err.msg);
    if (sim) {
      CHECK_EQ_I64(sim->step, 2);
      myr_sim_destroy(sim);
    }
    myr_config_free(&cfg);
  }

  /* Checkpoint paths. */
  char buf[256];
  myr_checkpoint_path("out/run.h5", 120, buf, sizeof buf);
  CHECK(strcmp(buf, "out/run.ckpt-120.h5") == 0, "got %s", buf);
  myr_checkpoint_path("result", 0, buf, sizeof buf);
  CHECK(strcmp(buf, "result.ckpt-0.h5") == 0, "got %s", buf);
  myr_checkpoint_path("a.h5.d/x.h5", 18446744073709551615ull, buf, sizeof buf);
  CHECK(strcmp(buf, "a.h5.d/x.ckpt-18446744073709551615.h5") == 0, "got %s", buf);
  return check_summary();
}
