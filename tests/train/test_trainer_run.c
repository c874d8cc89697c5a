/* The trainer in a run (search/trainer.h): a run with training (samples, replay, updates) that
 * is checkpointed and resumed ends with the same state, network, Adam moments, counters and
 * replay as a run straight through, for sync_frequency 1 and 2 and for 1 and 2 threads (and the
 * thread count changes nothing); and the reward the trainer sees for a real step (plan_step's,
 * from the agent's root, for the action taken) equals the agent's real energy change (foraging,
 * one agent: no contention). */
#include <string.h>

#include "output/output_util.h"
#include "search/policy.h"
#include "search/trainer.h"
#include "sim/checkpoint.h"

static const char *dir = "trainer_run.tmp";

static const char *const yaml =
    "run: {steps: 100, seed: 5, threads: 1, progress: false}\n"
    "world: {width: 32, height: 24, wrap: true}\n"
    "agents: {count: 60, capacity: 2000}\n"
    "model: {name: foraging, params: {max_age: 40}}\n"
    "policy: {kind: mcts, mcts: {simulations: 8, max_depth: 4}}\n"
    "network: {hidden: [16]}\n"
    "train: {enabled: true, batch_size: 32, shards: 4, interval: 2, updates: 2, samples_per_step: 20,\n"
    "        n_step: 3, replay_capacity: 100, lr: 0.01}\n";

typedef struct result {
  uint8_t hash[MYR_HASH_BYTES];
  myr_net net;
  float *m, *v;
  int64_t applied, skipped, total;
} result;

static void take(myr_sim *sim, result *r) {
  hash_of(sim, r->hash);
  myr_search *s = sim->search;
  const myr_train_state *st = myr_trainer_state(s->trainer);
  size_t P = s->net.n_params;
  r->net.shape = s->net.shape;
  r->net.n_params = P;
  r->net.w = malloc(P * sizeof(float));
  r->m = malloc(P * sizeof(float));
  r->v = malloc(P * sizeof(float));
  REQUIRE(r->net.w && r->m && r->v, "out of memory");
  memcpy(r->net.w, s->net.w, P * sizeof(float));
  memcpy(r->m, st->m, P * sizeof(float));
  memcpy(r->v, st->v, P * sizeof(float));
  r->applied = st->step;
  r->skipped = st->skipped;
  r->total = myr_trainer_replay(s->trainer)->total;
}

static void drop(result *r) {
  free(r->net.w);
  free(r->m);
  free(r->v);
}

static int same(const result *a, const result *b, const char *what) {
  size_t P = a->net.n_params;
  int w = memcmp(a->net.w, b->net.w, P * sizeof(float)) == 0;
  int adam = memcmp(a->m, b->m, P * sizeof(float)) == 0 && memcmp(a->v, b->v, P * sizeof(float)) == 0;
  int h = memcmp(a->hash, b->hash, MYR_HASH_BYTES) == 0;
  int counts = a->applied == b->applied && a->skipped == b->skipped && a->total == b->total;
  CHECK(h, "%s: states differ", what);
  CHECK(w, "%s: weights differ", what);
  CHECK(adam, "%s: Adam moments differ", what);
  CHECK(counts, "%s: counters differ (applied %lld/%lld, samples %lld/%lld)", what, (long long)a->applied,
        (long long)b->applied, (long long)a->total, (long long)b->total);
  return h && w && adam && counts;
}

static void resume_case(int sync, int threads, int k, result *straight) {
  char s_sync[64], s_threads[64], path[512], what[96];
  snprintf(s_sync, sizeof s_sync, "distributed.sync_frequency=%d", sync);
  snprintf(s_threads, sizeof s_threads, "run.threads=%d", threads);
  snprintf(what, sizeof what, "sync %d threads %d", sync, threads);
  const char *set[] = {s_sync, s_threads, NULL};
  myr_config cfg;
  load_cfg(&cfg, yaml, set);
  myr_sim *a = make_sim(&cfg);
  step_n(a, 2 * k);
  take(a, straight);
  myr_sim_destroy(a);

  myr_sim *b = make_sim(&cfg);
  step_n(b, k);
  snprintf(path, sizeof path, "%s/sync%d-threads%d.h5", dir, sync, threads);
  myr_error err = {0};
  REQUIRE(myr_checkpoint_write(b, path, &err) == MYR_OK, "checkpoint write: %s", err.msg);
  myr_sim_destroy(b);
  b = NULL;
  REQUIRE(myr_checkpoint_load(&cfg, path, &b, &err) == MYR_OK && b, "checkpoint load: %s", err.msg);
  step_n(b, k);
  result resumed;
  take(b, &resumed);
  myr_sim_destroy(b);
  CHECK(straight->applied > 4 && straight->total > 100, "%s: too little training to test (%lld updates, %lld samples)",
        what, (long long)straight->applied, (long long)straight->total);
  int ok = same(straight, &resumed, what);
  printf("%s: %lld updates, %lld samples, resumed %s\n", what, (long long)straight->applied,
         (long long)straight->total, ok ? "same" : "DIFFERENT");
  drop(&resumed);
  myr_config_free(&cfg);
}

/* One agent: the trainer's reward of each step against the energy it really gained. */
static void reward_case(void) {
  const char *y =
      "run: {seed: 9, threads: 1, progress: false}\n"
      "world: {width: 40, height: 40, wrap: true}\n"
      "agents: {count: 1, capacity: 8}\n"
      "model: {name: foraging, params: {initial_energy: 2, reproduce_threshold: 20, max_energy: 20}}\n"
      "policy: {kind: mcts, mcts: {simulations: 16}}\n"
      "network: {hidden: [8]}\n";
  myr_config cfg;
  load_cfg(&cfg, y, NULL);
  myr_sim *sim = make_sim(&cfg);
  int bad = 0, nonzero = 0;
  for (int s = 0; s < 8; s++) {
    myr_view v = myr_sim_view(sim);
    myr_error err = {0};
    REQUIRE(myr_search_decide(sim, &v, &err) == MYR_OK, "decide: %s", err.msg);
    int64_t slot = 0;
    float x[16], reward, target[16], value;
    uint32_t legal;
    myr_trainer_rows rows = {1, &slot, x, &legal, &reward, target, &value};
    REQUIRE(myr_search_train_rows(sim, &v, &rows, &err) == MYR_OK, "rows: %s", err.msg);
    int32_t e0 = ((int32_t *)sim->agents.col[2])[0]; /* FORAGING_ENERGY */
    step_n(sim, 1);
    REQUIRE(sim->agents.n == 1 && sim->agents.alive[0], "the agent died or split");
    int32_t e1 = ((int32_t *)sim->agents.col[2])[0];
    float want = (float)((int64_t)e1 - e0) * (1.0f / 65536);
    nonzero += want > 0;
    if (reward != want) {
      bad++;
      fprintf(stderr, "step %d: reward %.9g, energy change %.9g\n", s, reward, want);
    }
  }
  CHECK(bad == 0, "%d rewards differ from the energy change", bad);
  CHECK(nonzero > 0, "the agent never harvested: the case tests nothing");
  printf("reward = energy change at 8 steps (%d with a harvest)\n", nonzero);
  myr_sim_destroy(sim);
  myr_config_free(&cfg);
}

int main(void) {
  make_dir(dir);
  result r[2][2];
  for (int sync = 1; sync <= 2; sync++)
    for (int threads = 1; threads <= 2; threads++) resume_case(sync, threads, 6, &r[sync - 1][threads - 1]);
  for (int sync = 0; sync < 2; sync++) {
    same(&r[sync][0], &r[sync][1], sync ? "sync 2, 1 vs 2 threads" : "sync 1, 1 vs 2 threads");
    drop(&r[sync][0]);
    drop(&r[sync][1]);
  }
  reward_case();
  return check_summary();
}
