/* Determinism across workers (DESIGN §4.4, §7; search/train.*): the same K virtual shards give
 * bit-identical weights, Adam moments and reported losses after several updates, whatever
 * computes the shards:
 *   myr_train_update with 1, 2 and 4 OpenMP threads, and by hand: shards computed in a shuffled
 *   order (a new permutation each update) by 3 threads, each taking every third position of the
 *   permutation, and serially in reverse order, then myr_train_sum_shards and myr_train_apply.
 * Two cases: 64 samples in 8 equal shards, and 61 samples in 7 unequal ones; 6 updates each, a
 * new batch per update, clipping and L2 on, cosine schedule. */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fixture.h"
#include "search/train.h"

typedef struct run {
  myr_net net;
  myr_train_state st;
  myr_train_stats stats[6];
} run;

enum { BY_UPDATE, BY_SHUFFLE, BY_REVERSE };

static run train(const myr_net_shape *s, int64_t n, int K, int how, int threads) {
  run r;
  myr_error e;
  r.net = fx_net(s, 9);
  REQUIRE(myr_train_state_create(&r.st, &r.net, K, &e) == MYR_OK, "%s", e.msg);
  myr_train_config c = MYR_TRAIN_CONFIG_DEFAULTS;
  c.batch_size = (int)n;
  c.shards = K;
  c.lr = 3e-3f;
  c.schedule = MYR_LR_COSINE;
  c.schedule_steps = 10;
  c.clip = 0.5f;
  c.l2 = 1e-3f;
  int A = s->size[s->layers] - 1;
  myr_train_shard *sh = malloc((size_t)K * sizeof *sh);
  float *grads = malloc((size_t)K * r.net.n_params * sizeof *grads);
  float *total = malloc(r.net.n_params * sizeof *total);
  int *perm = malloc((size_t)K * sizeof *perm);
  REQUIRE(sh && grads && total && perm, "out of memory");
  for (int k = 0; k < K; k++) sh[k].grad = grads + (size_t)k * r.net.n_params;
  for (int u = 0; u < 6; u++) {
    fx_batch fb = fx_batch_make(n, s->size[0], A, 1000u + (uint32_t)u, u & 1);
    if (how == BY_UPDATE) {
      REQUIRE(myr_train_update(&r.net, &r.st, &c, &fb.b, threads, &r.stats[u], &e) == MYR_OK, "%s", e.msg);
    } else {
      for (int k = 0; k < K; k++) perm[k] = how == BY_REVERSE ? K - 1 - k : k;
      if (how == BY_SHUFFLE) { /* Fisher-Yates from the counter RNG */
        myr_rng g = myr_rng_make(5, (uint64_t)u, 0, MYR_RNG_MODEL);
        for (int k = K - 1; k > 0; k--) {
          int j = (int)myr_rng_below(&g, (uint32_t)k + 1), tmp = perm[k];
          perm[k] = perm[j];
          perm[j] = tmp;
        }
      }
#pragma omp parallel num_threads(threads)
      {
        int t = omp_get_thread_num(), T = omp_get_num_threads();
        for (int p = t; p < K; p += T) myr_train_shard_gradient(&r.net, &fb.b, perm[p], K, c.value_weight, &sh[perm[p]]);
      }
      myr_train_shard tot = {total, {0, 0, 0, 0, 0}};
      myr_train_sum_shards(sh, K, r.net.n_params, &tot);
      CHECK_EQ_I64(tot.sums.samples, n);
      REQUIRE(myr_train_apply(&r.net, &r.st, &c, &tot, n, &r.stats[u], &e) == MYR_OK, "%s", e.msg);
    }
    fx_batch_free(&fb);
  }
  free(sh);
  free(grads);
  free(total);
  free(perm);
  return r;
}

static void run_free(run *r) {
  myr_net_free(&r->net);
  myr_train_state_free(&r->st);
}

static void same(const run *a, const run *b, const char *what) {
  size_t P = a->net.n_params;
  size_t diff = 0;
  for (size_t i = 0; i < P; i++)
    diff += memcmp(&a->net.w[i], &b->net.w[i], sizeof(float)) != 0 || memcmp(&a->st.m[i], &b->st.m[i], sizeof(float)) != 0 ||
            memcmp(&a->st.v[i], &b->st.v[i], sizeof(float)) != 0;
  CHECK(diff == 0, "%s: %zu of %zu parameters differ in weight or Adam moments", what, diff, P);
  CHECK(memcmp(a->stats, b->stats, sizeof a->stats) == 0, "%s: reported losses differ", what);
  CHECK_EQ_I64(b->st.step, a->st.step);
}

static void one_case(int64_t n, int K) {
  int hidden[] = {16, 16};
  myr_net_shape s = fx_shape(10, hidden, 2, 9);
  run ref = train(&s, n, K, BY_UPDATE, 1);
  myr_net init = fx_net(&s, 9);
  size_t moved = 0;
  for (size_t i = 0; i < init.n_params; i++) moved += init.w[i] != ref.net.w[i];
  CHECK(moved > init.n_params / 2, "only %zu of %zu weights moved", moved, init.n_params);
  CHECK(ref.st.step == 6 && ref.st.skipped == 0, "step %lld skipped %lld", (long long)ref.st.step,
        (long long)ref.st.skipped);
  myr_net_free(&init);
  struct {
    int how, threads;
    const char *name;
  } v[] = {{BY_UPDATE, 2, "update, 2 threads"},
           {BY_UPDATE, 4, "update, 4 threads"},
           {BY_SHUFFLE, 3, "shuffled shards, 3 threads"},
           {BY_REVERSE, 1, "reverse order, 1 thread"}};
  for (int i = 0; i < 4; i++) {
    run r = train(&s, n, K, v[i].how, v[i].threads);
    same(&ref, &r, v[i].name);
    run_free(&r);
  }
  printf("n = %lld, K = %d: weights after 6 updates bit-identical for 5 shard assignments (loss %.6f -> %.6f)\n",
         (long long)n, K, ref.stats[0].loss, ref.stats[5].loss);
  run_free(&ref);
}

int main(void) {
  one_case(64, 8);
  one_case(61, 7);
  return check_summary();
}
