/* The trainer's samples (search/trainer.h, search/replay.h) with made-up search results, so
 * every number is known: n-step returns d^k r summed in order and bootstrapped with the root
 * value n steps later (discount 0.5: exact in float), a death ending a sample early with no
 * bootstrap, the replay's global order (completion step, pick step, id), the pick rate
 * samples_per_step / population, the same samples whatever the order of agent slots (how a
 * partition would split them), the ring evicting its oldest samples, and batch draws that are a
 * pure function of (seed, update). */
#include <math.h>
#include <string.h>

#include "check.h"
#include "search/replay.h"
#include "search/trainer.h"
#include "sim/config.h"

#define N_AGENTS 400

/* Made-up results for agent id at step s: reward, root value, features. */
static float reward_of(uint64_t id, uint64_t s) { return (float)((int)(id % 7) - 3) + 0.25f * (float)(s % 4); }
static float value_of(uint64_t id, uint64_t s) { return 0.5f * (float)(id % 5) - 0.125f * (float)(s % 3); }

typedef struct fake {
  const uint64_t *id;
  uint64_t step;
  int features, actions;
} fake;

static myr_status fake_rows(void *ctx, myr_trainer_rows *r, myr_error *err) {
  (void)err;
  fake *f = ctx;
  for (int64_t k = 0; k < r->n; k++) {
    uint64_t id = f->id[r->slot[k]];
    for (int j = 0; j < f->features; j++) r->x[k * f->features + j] = (float)id + 0.001f * (float)j;
    r->legal[k] = (uint32_t)(id % 511) | 1u;
    for (int a = 0; a < f->actions; a++) r->target[k * f->actions + a] = a == (int)(id % (uint64_t)f->actions);
    r->reward[k] = reward_of(id, f->step);
    r->value[k] = value_of(id, f->step);
  }
  return MYR_OK;
}

static myr_config config(int capacity) {
  char yaml[2048];
  snprintf(yaml, sizeof yaml,
           "run: {seed: 11}\nmodel: {name: foraging}\nnetwork: {hidden: [8]}\n"
           "policy: {kind: mcts, mcts: {discount: 0.5}}\n"
           "train: {enabled: true, n_step: 2, samples_per_step: 40, batch_size: 32, replay_capacity: %d}\n",
           capacity);
  myr_config cfg;
  myr_error err = {0};
  REQUIRE(myr_config_load_text(&cfg, "t.yaml", yaml, NULL, 0, &err) == MYR_OK, "%s", err.msg);
  return cfg;
}

static myr_net small_net(void) {
  myr_net_shape s;
  int hidden[1] = {8};
  myr_error err = {0};
  REQUIRE(myr_net_shape_make(&s, 11, hidden, 1, 9, &err) == MYR_OK, "%s", err.msg);
  myr_net n;
  REQUIRE(myr_net_create(&n, &s, 3, &err) == MYR_OK, "%s", err.msg);
  return n;
}

/* Runs `steps` observes over agents 0..N_AGENTS-1 in slot order `perm` (ids id[perm[i]]),
 * agent `dies` (if >= 0) gone from step `death` on. */
static myr_trainer *drive(const myr_config *cfg, myr_net *net, int steps, const int *perm, int64_t dies, int death) {
  myr_trainer *t = NULL;
  myr_error err = {0};
  REQUIRE(myr_trainer_create(&t, cfg, net, &err) == MYR_OK && t, "%s", err.msg);
  uint64_t ids[N_AGENTS];
  for (int s = 0; s < steps; s++) {
    int n = 0;
    for (int i = 0; i < N_AGENTS; i++) {
      uint64_t id = (uint64_t)perm[i] * 1000003u + 17u;
      if (dies >= 0 && perm[i] == dies && s >= death) continue;
      ids[n++] = id;
    }
    fake f = {ids, (uint64_t)s, 11, 9};
    REQUIRE(myr_trainer_observe(t, (uint64_t)s, ids, NULL, n, fake_rows, &f, &err) == MYR_OK, "%s", err.msg);
  }
  return t;
}

int main(void) {
  myr_config cfg = config(100000);
  myr_net net = small_net();
  int perm[N_AGENTS], rev[N_AGENTS];
  for (int i = 0; i < N_AGENTS; i++) {
    perm[i] = i;
    rev[i] = (i * 37 + 11) % N_AGENTS; /* 37 is coprime with 400: a permutation */
  }

  /* Returns, order and the pick rate. */
  const int steps = 40;
  myr_trainer *t = drive(&cfg, &net, steps, perm, 5, 7);
  const myr_replay *r = myr_trainer_replay(t);
  int64_t size = myr_replay_size(r);
  CHECK(size > 0, "no samples");
  int bad = 0, early = 0;
  for (int64_t j = 0; j < size; j++) {
    int64_t q = r->total - size + j, slot = myr_replay_index(r, q);
    uint64_t id = r->id[slot], s = r->step[slot], done = r->done[slot];
    double want;
    int died = id == 5u * 1000003u + 17u && done == 7;
    if (!died) {
      CHECK(done - s == 2, "sample (%llu, %llu) finished at %llu", (unsigned long long)id, (unsigned long long)s,
            (unsigned long long)done);
      want = (double)reward_of(id, s) + 0.5 * (double)reward_of(id, s + 1) + 0.25 * (double)value_of(id, s + 2);
    } else { /* died: only agent 5, gone from step 7 */
      early++;
      want = (double)reward_of(id, s);
      if (s + 1 < done) want += 0.5 * (double)reward_of(id, s + 1);
    }
    if (r->value[slot] != (float)want && bad++ < 5)
      fprintf(stderr, "sample %lld (id %llu, step %llu): value %.9g, expected %.9g\n", (long long)q,
              (unsigned long long)id, (unsigned long long)s, r->value[slot], want);
    CHECK(r->x[slot * 11] == (float)id, "features of sample %lld do not belong to its agent", (long long)q);
    if (j > 0) { /* global order */
      int64_t p = myr_replay_index(r, q - 1);
      int ordered = r->done[p] < done || (r->done[p] == done && (r->step[p] < s || (r->step[p] == s && r->id[p] < id)));
      CHECK(ordered, "samples %lld and %lld are out of the global order", (long long)q - 1, (long long)q);
    }
  }
  CHECK(bad == 0, "%d value targets differ from the n-step returns", bad);
  printf("%lld samples in %d steps (%lld pending), %d ended by a death\n", (long long)size, steps,
         (long long)myr_trainer_pending(t), early);
  /* Picked per step ~ Binomial(400, 0.1): mean 40, sd 6; 38 steps of completed picks. */
  double per_step = (double)(size + myr_trainer_pending(t)) / steps;
  CHECK(fabs(per_step - 40.0) < 5.0, "%.2f picks per step, expected 40 (samples_per_step)", per_step);

  /* The same samples whatever the slot order. */
  myr_trainer *u = drive(&cfg, &net, steps, rev, 5, 7);
  const myr_replay *r2 = myr_trainer_replay(u);
  CHECK_EQ_I64(r2->total, r->total);
  int same = r2->total == r->total;
  for (int64_t j = 0; same && j < size; j++) {
    int64_t a = myr_replay_index(r, r->total - size + j), b = myr_replay_index(r2, r2->total - size + j);
    same = r->id[a] == r2->id[b] && r->step[a] == r2->step[b] && r->value[a] == r2->value[b] &&
           memcmp(r->x + a * 11, r2->x + b * 11, 11 * sizeof(float)) == 0;
  }
  CHECK(same, "permuting the agents' slots changed the samples");
  myr_trainer_destroy(u);
  myr_trainer_destroy(t);
  myr_config_free(&cfg);

  /* A small ring keeps the newest samples. */
  cfg = config(50);
  t = drive(&cfg, &net, 10, perm, -1, 0);
  r = myr_trainer_replay(t);
  CHECK(r->total > 50 && myr_replay_size(r) == 50, "ring of 50 holds %lld of %lld", (long long)myr_replay_size(r),
        (long long)r->total);
  CHECK(myr_replay_index(r, r->total - 51) == -1 && myr_replay_index(r, r->total - 50) >= 0 &&
            myr_replay_index(r, r->total) == -1,
        "the ring's window of sample numbers is wrong");
  myr_trainer_destroy(t);
  myr_config_free(&cfg);

  /* Batch draws: a pure function of (seed, update); different updates differ; all in range. */
  int64_t a[256], b[256], c[256];
  myr_replay_draw(11, 3, 1000, 200, 256, a);
  myr_replay_draw(11, 3, 1000, 200, 256, b);
  myr_replay_draw(11, 4, 1000, 200, 256, c);
  CHECK(memcmp(a, b, sizeof a) == 0, "the same update drew different batches");
  CHECK(memcmp(a, c, sizeof a) != 0, "updates 3 and 4 drew the same batch");
  int in_range = 1, lo = 0, hi = 0;
  for (int j = 0; j < 256; j++) {
    in_range &= a[j] >= 800 && a[j] < 1000;
    lo += a[j] < 900;
    hi += a[j] >= 900;
  }
  CHECK(in_range, "a draw left the window [total - size, total)");
  CHECK(lo > 90 && hi > 90, "draws are not spread over the window (%d below the middle, %d above)", lo, hi);
  myr_net_free(&net);
  return check_summary();
}
