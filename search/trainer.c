/* The trainer in a run (search/trainer.h): agent picking, unfinished samples and their n-step
 * returns, the replay, updates when due, per-record statistics and the checkpoint group.
 * Owns its optimizer state, replay, unfinished samples and workspaces (one struct, freed by
 * myr_trainer_destroy); the network belongs to the search. */
#include "search/trainer.h"

#include <hdf5.h>
#include <math.h>
#include <omp.h> // omp_get_wtime: the time spent training
#include <stdlib.h>
#include <string.h>

#include "sim/h5util.h" // myr__h5_*: checked attributes and groups
#include "sim/rng.h"    // myr_rng_*: picking agents

/* Unfinished samples, in the order (pick step, id): struct of arrays with room for `cap`. */
typedef struct pending_set {
  int64_t n, cap;
  uint64_t *id, *step;
  double *ret;    /* sum of d^k r so far */
  float *x, *target;
  uint32_t *legal;
} pending_set;

struct myr_trainer {
  myr_train_config tc;
  myr_train_state st;
  myr_replay replay;
  myr_net *net;
  int features, actions;
  double discount, samples_per_step;
  int64_t n_step, interval, updates;
  uint32_t seed;
  pending_set pend, next;
  /* id -> slot, open addressing (keys + 1; 0 = empty) */
  int64_t hash_cap;
  uint64_t *hash_key;
  int64_t *hash_slot;
  /* per step: the queried slots and their rows */
  int64_t rows_cap;
  int64_t *qslot;
  float *qx, *qreward, *qtarget, *qvalue;
  uint32_t *qlegal;
  int64_t *pslot; /* pending k -> its row (or -1: not found) */
  int64_t pslot_cap;
  /* batch */
  float *bx, *bpolicy, *bvalue;
  uint32_t *blegal;
  int64_t *bq;
  void *gpu; /* search/train.cu's workspace */
  /* sums since the previous record */
  double s_policy, s_value, s_entropy, s_kl, s_root, s_reward;
  int64_t n_applied_rec, n_root, n_reward;
  double seconds; /* wall time in observe and after_step (rows, bookkeeping, updates) */
  /* One rank of a team (partition/, myr_trainer_join_team): the last observe's finished
   * samples (out, done at out_step) and statistic terms (terms) wait for the team's merge, and
   * updates happen only on the leader through myr_trainer_team_update. */
  int team;
  int64_t population; /* > 0: the team's population for the next observe's picks */
  pending_set out;
  uint64_t out_step;
  myr_trainer_term *terms;
  int64_t n_terms, terms_cap;
};

static void pending_free(pending_set *p) {
  free(p->id);
  free(p->step);
  free(p->ret);
  free(p->x);
  free(p->target);
  free(p->legal);
  memset(p, 0, sizeof *p);
}

static int pending_reserve(pending_set *p, int64_t need, int F, int A) {
  if (need <= p->cap) return 1;
  int64_t cap = p->cap ? p->cap : 256;
  while (cap < need) cap *= 2;
  uint64_t *id = realloc(p->id, (size_t)cap * sizeof *id);
  if (id) p->id = id;
  uint64_t *step = realloc(p->step, (size_t)cap * sizeof *step);
  if (step) p->step = step;
  double *ret = realloc(p->ret, (size_t)cap * sizeof *ret);
  if (ret) p->ret = ret;
  float *x = realloc(p->x, (size_t)cap * (size_t)F * sizeof *x);
  if (x) p->x = x;
  float *target = realloc(p->target, (size_t)cap * (size_t)A * sizeof *target);
  if (target) p->target = target;
  uint32_t *legal = realloc(p->legal, (size_t)cap * sizeof *legal);
  if (legal) p->legal = legal;
  if (!id || !step || !ret || !x || !target || !legal) return 0;
  p->cap = cap;
  return 1;
}

static void pending_put(pending_set *p, int64_t k, uint64_t id, uint64_t step, double ret, const float *x,
                        uint32_t legal, const float *target, int F, int A) {
  p->id[k] = id;
  p->step[k] = step;
  p->ret[k] = ret;
  memcpy(p->x + k * F, x, (size_t)F * sizeof *x);
  memcpy(p->target + k * A, target, (size_t)A * sizeof *target);
  p->legal[k] = legal;
}

myr_status myr_trainer_create(myr_trainer **out, const myr_config *cfg, myr_net *net, myr_error *err) {
  *out = NULL;
  const myr_train_settings *ts = &cfg->train;
  if (!ts->enabled) return MYR_OK;
  if (!net || !net->w) return myr_fail(err, MYR_ERR_CONFIG, "train.enabled needs a network (policy.mcts.rollout_depth 0)");
  myr_trainer *t = calloc(1, sizeof *t);
  if (!t) return myr_fail(err, MYR_ERR_NOMEM, "cannot allocate the trainer");
  myr_train_config tc = MYR_TRAIN_CONFIG_DEFAULTS;
  tc.batch_size = (int)ts->batch_size;
  tc.shards = (int)ts->shards;
  tc.lr = (float)ts->lr;
  tc.schedule = (myr_lr_schedule)ts->schedule;
  tc.schedule_steps = ts->schedule_steps;
  tc.lr_min = (float)ts->lr_min;
  tc.gamma = (float)ts->gamma;
  tc.warmup = ts->warmup;
  tc.value_weight = (float)ts->value_weight;
  tc.l2 = (float)ts->l2;
  tc.clip = (float)ts->clip;
  t->tc = tc;
  t->net = net;
  t->features = net->shape.size[0];
  t->actions = net->shape.size[net->shape.layers] - 1;
  t->discount = (float)cfg->mcts.discount; /* the float the search discounts with */
  t->samples_per_step = ts->samples_per_step;
  t->n_step = ts->n_step;
  t->interval = ts->interval;
  t->updates = ts->updates;
  t->seed = (uint32_t)cfg->seed;
  myr_status s = myr_train_config_check(&tc, err);
  if (s == MYR_OK) s = myr_train_state_create(&t->st, net, tc.shards, err);
  if (s == MYR_OK) s = myr_replay_create(&t->replay, t->features, t->actions, ts->replay_capacity, err);
  size_t B = (size_t)tc.batch_size;
  if (s == MYR_OK) {
    t->bx = malloc(B * (size_t)t->features * sizeof *t->bx);
    t->bpolicy = malloc(B * (size_t)t->actions * sizeof *t->bpolicy);
    t->bvalue = malloc(B * sizeof *t->bvalue);
    t->blegal = malloc(B * sizeof *t->blegal);
    t->bq = malloc(B * sizeof *t->bq);
    if (!t->bx || !t->bpolicy || !t->bvalue || !t->blegal || !t->bq)
      s = myr_fail(err, MYR_ERR_NOMEM, "cannot allocate a training batch of %zu samples", B);
  }
  if (s != MYR_OK) {
    myr_trainer_destroy(t);
    return s;
  }
  *out = t;
  return MYR_OK;
}

void myr_trainer_destroy(myr_trainer *t) {
  if (!t) return;
#ifdef MYRIAD_HAVE_CUDA
  myr_train_cuda_free(&t->gpu);
#endif
  myr_train_state_free(&t->st);
  myr_replay_free(&t->replay);
  pending_free(&t->pend);
  pending_free(&t->next);
  pending_free(&t->out);
  free(t->terms);
  free(t->hash_key);
  free(t->hash_slot);
  free(t->qslot);
  free(t->qx);
  free(t->qreward);
  free(t->qtarget);
  free(t->qvalue);
  free(t->qlegal);
  free(t->pslot);
  free(t->bx);
  free(t->bpolicy);
  free(t->bvalue);
  free(t->blegal);
  free(t->bq);
  free(t);
}

/* ---- id -> slot ------------------------------------------------------------------------- */

static uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static int hash_build(myr_trainer *t, const uint64_t *id, const uint8_t *alive, int64_t n) {
  int64_t cap = 16;
  while (cap < 2 * n) cap *= 2;
  if (cap > t->hash_cap) {
    free(t->hash_key);
    free(t->hash_slot);
    t->hash_key = malloc((size_t)cap * sizeof *t->hash_key);
    t->hash_slot = malloc((size_t)cap * sizeof *t->hash_slot);
    if (!t->hash_key || !t->hash_slot) {
      t->hash_cap = 0;
      return 0;
    }
    t->hash_cap = cap;
  }
  cap = t->hash_cap;
  memset(t->hash_key, 0, (size_t)cap * sizeof *t->hash_key);
  for (int64_t i = 0; i < n; i++) {
    if (alive && !alive[i]) continue;
    uint64_t h = mix(id[i]) & (uint64_t)(cap - 1);
    while (t->hash_key[h]) h = (h + 1) & (uint64_t)(cap - 1);
    t->hash_key[h] = id[i] + 1;
    t->hash_slot[h] = i;
  }
  return 1;
}

static int64_t hash_find(const myr_trainer *t, uint64_t id) {
  uint64_t cap = (uint64_t)t->hash_cap;
  uint64_t h = mix(id) & (cap - 1);
  while (t->hash_key[h]) {
    if (t->hash_key[h] == id + 1) return t->hash_slot[h];
    h = (h + 1) & (cap - 1);
  }
  return -1;
}

static int rows_reserve(myr_trainer *t, int64_t need) {
  if (need <= t->rows_cap) return 1;
  int64_t cap = t->rows_cap ? t->rows_cap : 256;
  while (cap < need) cap *= 2;
  free(t->qslot);
  free(t->qx);
  free(t->qreward);
  free(t->qtarget);
  free(t->qvalue);
  free(t->qlegal);
  t->qslot = malloc((size_t)cap * sizeof *t->qslot);
  t->qx = malloc((size_t)cap * (size_t)t->features * sizeof *t->qx);
  t->qreward = malloc((size_t)cap * sizeof *t->qreward);
  t->qtarget = malloc((size_t)cap * (size_t)t->actions * sizeof *t->qtarget);
  t->qvalue = malloc((size_t)cap * sizeof *t->qvalue);
  t->qlegal = malloc((size_t)cap * sizeof *t->qlegal);
  t->rows_cap = cap;
  if (!t->qslot || !t->qx || !t->qreward || !t->qtarget || !t->qvalue || !t->qlegal) {
    t->rows_cap = 0;
    return 0;
  }
  return 1;
}

/* ---- samples ------------------------------------------------------------------------------ */

static int cmp_id_slot(const void *a, const void *b) {
  const uint64_t *x = a, *y = b;
  return x[0] < y[0] ? -1 : x[0] > y[0];
}

/* d^k by repeated multiplication in double (the same bits everywhere). */
static double disc_pow(double d, int64_t k) {
  double r = 1.0;
  for (int64_t i = 0; i < k; i++) r *= d;
  return r;
}

static myr_status observe(myr_trainer *t, uint64_t step, const uint64_t *id, const uint8_t *alive, int64_t n,
                          myr_trainer_rows_fn fn, void *ctx, myr_error *err);

myr_status myr_trainer_observe(myr_trainer *t, uint64_t step, const uint64_t *id, const uint8_t *alive,
                               int64_t n, myr_trainer_rows_fn fn, void *ctx, myr_error *err) {
  double t0 = omp_get_wtime();
  myr_status s = observe(t, step, id, alive, n, fn, ctx, err);
  t->seconds += omp_get_wtime() - t0;
  return s;
}

/* A statistic term: kind 0 a reward, 1 a root value. Alone, it is added now; in a team it waits
 * for the merge, which adds every rank's terms in the order (pick step, id) a lone trainer
 * adds them in (the pending samples in that order, then the new picks by id), so the sums
 * have the same bits. A term that cannot be logged (out of memory) is counted at once. */
static void add_term(myr_trainer *t, uint64_t step, uint64_t id, float value, int kind) {
  if (t->team && t->n_terms == t->terms_cap) {
    int64_t cap = t->terms_cap ? 2 * t->terms_cap : 1024;
    myr_trainer_term *grown = realloc(t->terms, (size_t)cap * sizeof *grown);
    if (grown) {
      t->terms = grown;
      t->terms_cap = cap;
    }
  }
  if (t->team && t->n_terms < t->terms_cap) {
    t->terms[t->n_terms++] = (myr_trainer_term){step, id, value, kind};
    return;
  }
  if (kind == 0) {
    t->s_reward += value;
    t->n_reward++;
  } else {
    t->s_root += value;
    t->n_root++;
  }
}

static myr_status observe(myr_trainer *t, uint64_t step, const uint64_t *id, const uint8_t *alive, int64_t n,
                          myr_trainer_rows_fn fn, void *ctx, myr_error *err) {
  const int F = t->features, A = t->actions;
  int64_t population = 0;
  for (int64_t i = 0; i < n; i++) population += !alive || alive[i];
  if (t->team) { /* the team's population, and fresh outboxes for its merge */
    population = t->population;
    t->out.n = 0;
    t->n_terms = 0;
    t->out_step = step;
  }
  double p = population > 0 ? t->samples_per_step / (double)population : 0.0;

  /* Picks, sorted by id: pairs (id, slot). */
  int64_t picks = 0;
  uint64_t *pk = NULL;
  if (p > 0) {
    pk = malloc((size_t)(n > 0 ? n : 1) * 2 * sizeof *pk);
    if (!pk) return myr_fail(err, MYR_ERR_NOMEM, "train: out of memory picking samples");
    for (int64_t i = 0; i < n; i++) {
      if (alive && !alive[i]) continue;
      myr_rng r = myr_rng_make(t->seed, id[i], step, MYR_RNG_TRAIN);
      if (myr_rng_uniform_double(&r) < p) {
        pk[2 * picks] = id[i];
        pk[2 * picks + 1] = (uint64_t)i;
        picks++;
      }
    }
    qsort(pk, (size_t)picks, 2 * sizeof *pk, cmp_id_slot);
  }

  /* Slots of the unfinished samples' agents. */
  pending_set *P = &t->pend;
  if (P->n > t->pslot_cap) {
    free(t->pslot);
    t->pslot = malloc((size_t)P->n * sizeof *t->pslot);
    t->pslot_cap = t->pslot ? P->n : 0;
    if (!t->pslot) {
      free(pk);
      return myr_fail(err, MYR_ERR_NOMEM, "train: out of memory");
    }
  }
  if (P->n > 0 && !hash_build(t, id, alive, n)) {
    free(pk);
    return myr_fail(err, MYR_ERR_NOMEM, "train: out of memory indexing %lld agents", (long long)n);
  }
  if (!rows_reserve(t, P->n + picks)) {
    free(pk);
    return myr_fail(err, MYR_ERR_NOMEM, "train: out of memory for %lld sample rows", (long long)(P->n + picks));
  }
  int64_t q = 0;
  for (int64_t k = 0; k < P->n; k++) {
    int64_t slot = hash_find(t, P->id[k]);
    t->pslot[k] = slot >= 0 ? q : -1;
    if (slot >= 0) t->qslot[q++] = slot;
  }
  int64_t first_pick = q;
  for (int64_t k = 0; k < picks; k++) t->qslot[q++] = (int64_t)pk[2 * k + 1];
  myr_status s = MYR_OK;
  if (q > 0) {
    myr_trainer_rows rows = {q, t->qslot, t->qx, t->qlegal, t->qreward, t->qtarget, t->qvalue};
    s = fn(ctx, &rows, err);
  }
  if (s != MYR_OK) {
    free(pk);
    return s;
  }

  /* Advance or finish the unfinished samples, in order; then the new ones. */
  pending_set *N = &t->next;
  if (!pending_reserve(N, P->n + picks, F, A)) {
    free(pk);
    return myr_fail(err, MYR_ERR_NOMEM, "train: out of memory for %lld unfinished samples", (long long)(P->n + picks));
  }
  N->n = 0;
  for (int64_t k = 0; k < P->n; k++) {
    int64_t row = t->pslot[k];
    int64_t age = (int64_t)(step - P->step[k]);
    double ret = P->ret[k];
    int done = 0;
    if (row < 0) {
      done = 1; /* the agent died: no bootstrap */
    } else if (age >= t->n_step) {
      ret += disc_pow(t->discount, t->n_step) * (double)t->qvalue[row];
      done = 1;
    } else {
      ret += disc_pow(t->discount, age) * (double)t->qreward[row];
      add_term(t, P->step[k], P->id[k], t->qreward[row], 0);
    }
    if (done && t->team) {
      if (!pending_reserve(&t->out, t->out.n + 1, F, A)) {
        free(pk);
        return myr_fail(err, MYR_ERR_NOMEM, "train: out of memory for finished samples");
      }
      pending_put(&t->out, t->out.n++, P->id[k], P->step[k], ret, P->x + k * F, P->legal[k], P->target + k * A, F, A);
    } else if (done)
      myr_replay_push(&t->replay, P->id[k], P->step[k], step, P->x + k * F, P->legal[k], P->target + k * A,
                      (float)ret);
    else
      pending_put(N, N->n++, P->id[k], P->step[k], ret, P->x + k * F, P->legal[k], P->target + k * A, F, A);
  }
  for (int64_t k = 0; k < picks; k++) {
    int64_t row = first_pick + k;
    double ret = (double)t->qreward[row];
    add_term(t, step, pk[2 * k], t->qreward[row], 0);
    add_term(t, step, pk[2 * k], t->qvalue[row], 1);
    pending_put(N, N->n++, pk[2 * k], step, ret, t->qx + row * F, t->qlegal[row], t->qtarget + row * A, F, A);
  }
  free(pk);
  pending_set swap = t->pend;
  t->pend = t->next;
  t->next = swap;
  return MYR_OK;
}

/* ---- teams ------------------------------------------------------------------------------- */

void myr_trainer_join_team(myr_trainer *t) { t->team = 1; }
void myr_trainer_set_population(myr_trainer *t, int64_t population) { t->population = population; }

typedef struct member_key {
  uint64_t step, id;
  int rank;
  int64_t k;
} member_key;

static int cmp_member(const void *pa, const void *pb) {
  const member_key *a = pa, *b = pb;
  if (a->step != b->step) return a->step < b->step ? -1 : 1;
  return (a->id > b->id) - (a->id < b->id);
}

myr_status myr_trainer_merge(myr_trainer *leader, myr_trainer *const *ranks, int n, myr_error *err) {
  int64_t samples = 0, terms = 0;
  for (int r = 0; r < n; r++) {
    samples += ranks[r]->out.n;
    terms += ranks[r]->n_terms;
  }
  int64_t most = samples > terms ? samples : terms;
  member_key *keys = malloc((size_t)(most > 0 ? most : 1) * sizeof *keys);
  if (!keys) return myr_fail(err, MYR_ERR_NOMEM, "train: out of memory merging the ranks' samples");
  /* finished samples, done at the same step everywhere: in (pick step, id) order */
  int64_t q = 0;
  for (int r = 0; r < n; r++)
    for (int64_t k = 0; k < ranks[r]->out.n; k++)
      keys[q++] = (member_key){ranks[r]->out.step[k], ranks[r]->out.id[k], r, k};
  qsort(keys, (size_t)q, sizeof *keys, cmp_member);
  const int F = leader->features, A = leader->actions;
  for (int64_t j = 0; j < q; j++) {
    const myr_trainer *t = ranks[keys[j].rank];
    int64_t k = keys[j].k;
    myr_replay_push(&leader->replay, t->out.id[k], t->out.step[k], t->out_step, t->out.x + k * F, t->out.legal[k],
                    t->out.target + k * A, (float)t->out.ret[k]);
  }
  /* statistic terms: rewards and root values, each in (pick step, id) order */
  q = 0;
  for (int r = 0; r < n; r++)
    for (int64_t k = 0; k < ranks[r]->n_terms; k++)
      keys[q++] = (member_key){ranks[r]->terms[k].step, ranks[r]->terms[k].id, r, k};
  qsort(keys, (size_t)q, sizeof *keys, cmp_member);
  for (int64_t j = 0; j < q; j++) {
    const myr_trainer_term *term = &ranks[keys[j].rank]->terms[keys[j].k];
    if (term->kind == 0) {
      leader->s_reward += term->value;
      leader->n_reward++;
    } else {
      leader->s_root += term->value;
      leader->n_root++;
    }
  }
  for (int r = 0; r < n; r++) {
    ranks[r]->out.n = 0;
    ranks[r]->n_terms = 0;
  }
  free(keys);
  return MYR_OK;
}

/* An unfinished sample of `from` (slot k) moved to `to`, keeping to's (pick step, id) order. */
static int pending_move(myr_trainer *to, const myr_trainer *from, int64_t k) {
  const int F = to->features, A = to->actions;
  pending_set *p = &to->pend;
  if (!pending_reserve(p, p->n + 1, F, A)) return 0;
  const pending_set *f = &from->pend;
  int64_t at = p->n;
  while (at > 0 && (p->step[at - 1] > f->step[k] || (p->step[at - 1] == f->step[k] && p->id[at - 1] > f->id[k]))) at--;
  for (int64_t j = p->n; j > at; j--) {
    p->id[j] = p->id[j - 1];
    p->step[j] = p->step[j - 1];
    p->ret[j] = p->ret[j - 1];
    p->legal[j] = p->legal[j - 1];
    memcpy(p->x + j * F, p->x + (j - 1) * F, (size_t)F * sizeof *p->x);
    memcpy(p->target + j * A, p->target + (j - 1) * A, (size_t)A * sizeof *p->target);
  }
  pending_put(p, at, f->id[k], f->step[k], f->ret[k], f->x + k * F, f->legal[k], f->target + k * A, F, A);
  p->n++;
  return 1;
}

myr_status myr_trainer_rehome(myr_trainer *const *ranks, int n, const uint64_t *const *ids, const uint8_t *const *alive,
                              const int64_t *slots, myr_error *err) {
  for (int r = 0; r < n; r++) {
    myr_trainer *t = ranks[r];
    if (t->pend.n == 0) continue;
    /* this rank's agents, then where each unfinished sample's agent is */
    if (!hash_build(t, ids[r], alive[r], slots[r]))
      return myr_fail(err, MYR_ERR_NOMEM, "train: out of memory indexing agents");
    int64_t kept = 0;
    for (int64_t k = 0; k < t->pend.n; k++) {
      int home = r;
      if (hash_find(t, t->pend.id[k]) < 0) /* gone: moved to another rank, or dead (then it stays) */
        for (int q = 0; q < n && home == r; q++) {
          if (q == r) continue;
          for (int64_t i = 0; i < slots[q]; i++)
            if ((!alive[q] || alive[q][i]) && ids[q][i] == t->pend.id[k]) {
              home = q;
              break;
            }
        }
      if (home != r) {
        if (!pending_move(ranks[home], t, k)) return myr_fail(err, MYR_ERR_NOMEM, "train: out of memory moving samples");
        continue;
      }
      if (kept != k) { /* compact in place, order kept */
        const int F = t->features, A = t->actions;
        pending_set *p = &t->pend;
        pending_put(p, kept, p->id[k], p->step[k], p->ret[k], p->x + k * F, p->legal[k], p->target + k * A, F, A);
      }
      kept++;
    }
    t->pend.n = kept;
  }
  return MYR_OK;
}

/* ---- teams of processes and checkpoints of a team ------------------------------------------- */

/* A pack: a header of three u64 (samples, terms, the step the samples were done at), then per
 * sample its id, pick step (u64), return (f64), legal mask (u32), features [F] and policy
 * target [A] (f32), then per term its step, id (u64), value (f32) and kind (i32). Packs of
 * several ranks are concatenated; the byte order is the machine's (a team runs one build). */
#define PACK_HEAD (3 * sizeof(uint64_t))
#define TERM_BYTES (2 * sizeof(uint64_t) + sizeof(float) + sizeof(int32_t))

static size_t sample_bytes(const myr_trainer *t) {
  return 3 * sizeof(uint64_t) + sizeof(uint32_t) + ((size_t)t->features + (size_t)t->actions) * sizeof(float);
}

static char *put(char *w, const void *v, size_t n) {
  memcpy(w, v, n);
  return w + n;
}

static const char *get(const char *r, void *v, size_t n) {
  memcpy(v, r, n);
  return r + n;
}

static myr_status pack(const myr_trainer *t, const pending_set *p, const myr_trainer_term *terms, int64_t n_terms,
                       uint64_t done, void **buf, int64_t *bytes, myr_error *err) {
  const size_t F = (size_t)t->features, A = (size_t)t->actions;
  size_t total = PACK_HEAD + (size_t)p->n * sample_bytes(t) + (size_t)n_terms * TERM_BYTES;
  char *out = malloc(total), *w = out;
  *buf = NULL;
  *bytes = 0;
  if (!out) return myr_fail(err, MYR_ERR_NOMEM, "train: out of memory packing %lld samples", (long long)p->n);
  uint64_t head[3] = {(uint64_t)p->n, (uint64_t)n_terms, done};
  w = put(w, head, sizeof head);
  for (int64_t k = 0; k < p->n; k++) {
    w = put(w, &p->id[k], sizeof p->id[k]);
    w = put(w, &p->step[k], sizeof p->step[k]);
    w = put(w, &p->ret[k], sizeof p->ret[k]);
    w = put(w, &p->legal[k], sizeof p->legal[k]);
    w = put(w, p->x + (size_t)k * F, F * sizeof *p->x);
    w = put(w, p->target + (size_t)k * A, A * sizeof *p->target);
  }
  for (int64_t j = 0; j < n_terms; j++) {
    int32_t kind = terms[j].kind;
    w = put(w, &terms[j].step, sizeof terms[j].step);
    w = put(w, &terms[j].id, sizeof terms[j].id);
    w = put(w, &terms[j].value, sizeof terms[j].value);
    w = put(w, &kind, sizeof kind);
  }
  *buf = out;
  *bytes = (int64_t)total;
  return MYR_OK;
}

/* Appends the samples of every pack in buf to p, and their terms to t's (when `terms`). *done
 * gets the step the samples were done at (*have: some pack held samples; they must agree). */
static myr_status unpack(myr_trainer *t, pending_set *p, int terms, const void *buf, int64_t bytes, uint64_t *done,
                         int *have, myr_error *err) {
  const int F = t->features, A = t->actions;
  const char *r = buf, *end = (const char *)buf + bytes;
  *have = 0;
  while (r < end) {
    uint64_t head[3];
    if ((size_t)(end - r) < PACK_HEAD) return myr_fail(err, MYR_ERR_INTERNAL, "train: a truncated sample pack");
    r = get(r, head, sizeof head);
    size_t need = (size_t)head[0] * sample_bytes(t) + (size_t)head[1] * TERM_BYTES;
    if (head[0] > (uint64_t)INT32_MAX * 64 || head[1] > (uint64_t)INT32_MAX * 64 || (size_t)(end - r) < need ||
        (head[1] > 0 && !terms))
      return myr_fail(err, MYR_ERR_INTERNAL, "train: a malformed sample pack (%llu samples, %llu terms)",
                      (unsigned long long)head[0], (unsigned long long)head[1]);
    if (head[0] > 0) {
      if (*have && *done != head[2])
        return myr_fail(err, MYR_ERR_INTERNAL, "train: ranks finished samples at steps %llu and %llu",
                        (unsigned long long)*done, (unsigned long long)head[2]);
      *done = head[2];
      *have = 1;
    }
    if (!pending_reserve(p, p->n + (int64_t)head[0], F, A))
      return myr_fail(err, MYR_ERR_NOMEM, "train: out of memory for %llu samples", (unsigned long long)head[0]);
    for (uint64_t k = 0; k < head[0]; k++, p->n++) {
      r = get(r, &p->id[p->n], sizeof *p->id);
      r = get(r, &p->step[p->n], sizeof *p->step);
      r = get(r, &p->ret[p->n], sizeof *p->ret);
      r = get(r, &p->legal[p->n], sizeof *p->legal);
      r = get(r, p->x + (size_t)p->n * (size_t)F, (size_t)F * sizeof *p->x);
      r = get(r, p->target + (size_t)p->n * (size_t)A, (size_t)A * sizeof *p->target);
    }
    if (head[1] > 0 && t->n_terms + (int64_t)head[1] > t->terms_cap) {
      int64_t cap = t->terms_cap ? t->terms_cap : 1024;
      while (cap < t->n_terms + (int64_t)head[1]) cap *= 2;
      myr_trainer_term *grown = realloc(t->terms, (size_t)cap * sizeof *grown);
      if (!grown) return myr_fail(err, MYR_ERR_NOMEM, "train: out of memory for %llu terms", (unsigned long long)head[1]);
      t->terms = grown;
      t->terms_cap = cap;
    }
    for (uint64_t j = 0; j < head[1]; j++) {
      myr_trainer_term *term = &t->terms[t->n_terms++];
      int32_t kind;
      r = get(r, &term->step, sizeof term->step);
      r = get(r, &term->id, sizeof term->id);
      r = get(r, &term->value, sizeof term->value);
      r = get(r, &kind, sizeof kind);
      term->kind = kind;
    }
  }
  return MYR_OK;
}

myr_status myr_trainer_take_out(myr_trainer *t, void **buf, int64_t *bytes, myr_error *err) {
  myr_status s = pack(t, &t->out, t->terms, t->n_terms, t->out_step, buf, bytes, err);
  if (s == MYR_OK) {
    t->out.n = 0;
    t->n_terms = 0;
  }
  return s;
}

myr_status myr_trainer_merge_packed(myr_trainer *leader, const void *buf, int64_t bytes, myr_error *err) {
  double t0 = omp_get_wtime();
  leader->out.n = 0;
  leader->n_terms = 0;
  uint64_t done = leader->out_step;
  int have = 0;
  myr_status s = unpack(leader, &leader->out, 1, buf, bytes, &done, &have, err);
  if (s == MYR_OK && have) leader->out_step = done;
  if (s == MYR_OK) s = myr_trainer_merge(leader, &leader, 1, err); /* it sorts: the packs' order does not matter */
  leader->out.n = 0;
  leader->n_terms = 0;
  leader->seconds += omp_get_wtime() - t0;
  return s;
}

myr_status myr_trainer_pack_pending(const myr_trainer *t, void **buf, int64_t *bytes, myr_error *err) {
  return pack(t, &t->pend, NULL, 0, 0, buf, bytes, err);
}

/* The optimizer, counters and replay of `from` into `to` (trainers of one config). */
static myr_status copy_state(myr_trainer *to, const myr_trainer *from, myr_error *err) {
  myr_replay *r = &to->replay;
  const myr_replay *f = &from->replay;
  if (to->st.n_params != from->st.n_params || r->capacity != f->capacity || r->features != f->features ||
      r->actions != f->actions)
    return myr_fail(err, MYR_ERR_INTERNAL, "train: the team's trainers differ in shape");
  size_t P = from->st.n_params, c = (size_t)f->capacity;
  memcpy(to->st.m, from->st.m, P * sizeof *to->st.m);
  memcpy(to->st.v, from->st.v, P * sizeof *to->st.v);
  to->st.step = from->st.step;
  to->st.skipped = from->st.skipped;
  memcpy(r->x, f->x, c * (size_t)f->features * sizeof *r->x);
  memcpy(r->policy, f->policy, c * (size_t)f->actions * sizeof *r->policy);
  memcpy(r->legal, f->legal, c * sizeof *r->legal);
  memcpy(r->value, f->value, c * sizeof *r->value);
  memcpy(r->id, f->id, c * sizeof *r->id);
  memcpy(r->step, f->step, c * sizeof *r->step);
  memcpy(r->done, f->done, c * sizeof *r->done);
  r->total = f->total;
  return MYR_OK;
}

myr_status myr_trainer_adopt(myr_trainer *to, const myr_trainer *leader, const void *pending, int64_t bytes,
                             myr_error *err) {
  myr_status s = copy_state(to, leader, err);
  if (s != MYR_OK) return s;
  pending_set *p = &to->pend;
  p->n = 0;
  uint64_t done = 0;
  int have = 0;
  if ((s = unpack(to, p, 0, pending, bytes, &done, &have, err)) != MYR_OK) return s;
  /* in (pick step, id) order, as one trainer holds them */
  const int F = to->features, A = to->actions;
  member_key *keys = malloc((size_t)(p->n > 0 ? p->n : 1) * sizeof *keys);
  if (!keys || !pending_reserve(&to->next, p->n, F, A)) {
    free(keys);
    return myr_fail(err, MYR_ERR_NOMEM, "train: out of memory ordering %lld unfinished samples", (long long)p->n);
  }
  for (int64_t k = 0; k < p->n; k++) keys[k] = (member_key){p->step[k], p->id[k], 0, k};
  qsort(keys, (size_t)p->n, sizeof *keys, cmp_member);
  pending_set *q = &to->next;
  for (int64_t j = 0; j < p->n; j++) {
    int64_t k = keys[j].k;
    pending_put(q, j, p->id[k], p->step[k], p->ret[k], p->x + k * F, p->legal[k], p->target + k * A, F, A);
  }
  q->n = p->n;
  pending_set swap = to->pend;
  to->pend = to->next;
  to->next = swap;
  to->next.n = 0;
  free(keys);
  return MYR_OK;
}

myr_status myr_trainer_resume_part(myr_trainer *t, const myr_trainer *whole, int leader, const uint8_t *take,
                                   myr_error *err) {
  myr_status s = leader ? copy_state(t, whole, err) : MYR_OK;
  if (s != MYR_OK) return s;
  const int F = t->features, A = t->actions;
  const pending_set *w = &whole->pend;
  if (!pending_reserve(&t->pend, w->n, F, A))
    return myr_fail(err, MYR_ERR_NOMEM, "train: out of memory for %lld unfinished samples", (long long)w->n);
  t->pend.n = 0;
  for (int64_t k = 0; k < w->n; k++)
    if (take[k])
      pending_put(&t->pend, t->pend.n++, w->id[k], w->step[k], w->ret[k], w->x + k * F, w->legal[k],
                  w->target + k * A, F, A);
  return MYR_OK;
}

static myr_status after_step(myr_trainer *t, uint64_t steps_done, int threads, int gpu, int *changed,
                             myr_error *err);

myr_status myr_trainer_team_update(myr_trainer *t, uint64_t steps_done, int threads, int gpu, int *changed,
                                   myr_error *err) {
  double t0 = omp_get_wtime();
  myr_status s = after_step(t, steps_done, threads, gpu, changed, err);
  t->seconds += omp_get_wtime() - t0;
  return s;
}

/* ---- updates ------------------------------------------------------------------------------ */

static myr_status after_step(myr_trainer *t, uint64_t steps_done, int threads, int gpu, int *changed,
                             myr_error *err);

myr_status myr_trainer_after_step(myr_trainer *t, uint64_t steps_done, int threads, int gpu, int *changed,
                                  myr_error *err) {
  *changed = 0;
  if (t->team) return MYR_OK; /* the team updates its leader (myr_trainer_team_update) */
  double t0 = omp_get_wtime();
  myr_status s = after_step(t, steps_done, threads, gpu, changed, err);
  t->seconds += omp_get_wtime() - t0;
  return s;
}

double myr_trainer_seconds(const myr_trainer *t) { return t->seconds; }

static myr_status after_step(myr_trainer *t, uint64_t steps_done, int threads, int gpu, int *changed,
                             myr_error *err) {
  *changed = 0;
  if (steps_done == 0 || steps_done % (uint64_t)t->interval != 0) return MYR_OK;
  int64_t size = myr_replay_size(&t->replay);
  int64_t B = t->tc.batch_size;
  if (size < B) return MYR_OK;
  (void)gpu;
  for (int64_t u = 0; u < t->updates; u++) {
    int64_t index = t->st.step + t->st.skipped;
    myr_replay_draw(t->seed, index, t->replay.total, size, B, t->bq);
    for (int64_t j = 0; j < B; j++)
      myr_replay_copy(&t->replay, myr_replay_index(&t->replay, t->bq[j]), j, t->bx, t->blegal, t->bpolicy,
                      t->bvalue);
    myr_train_batch b = {B, t->features, t->actions, t->bx, t->blegal, t->bpolicy, t->bvalue};
    myr_train_stats st;
    myr_status s;
#ifdef MYRIAD_HAVE_CUDA
    if (gpu) s = myr_train_update_cuda(t->net, &t->st, &t->tc, &b, &t->gpu, &st, err);
    else
#endif
      s = myr_train_update(t->net, &t->st, &t->tc, &b, threads, &st, err);
    if (s != MYR_OK) return s;
    if (!st.skipped) {
      t->s_policy += st.policy;
      t->s_value += st.value;
      t->s_entropy += st.entropy;
      t->s_kl += st.kl;
      t->n_applied_rec++;
      *changed = 1;
    }
  }
  return MYR_OK;
}

/* ---- statistics --------------------------------------------------------------------------- */

static const char *const stat_names[] = {"train_policy_loss",    "train_value_loss",      "train_policy_entropy",
                                         "train_kl_target_prior", "train_root_value", "train_reward",
                                         "train_updates_applied", "train_updates_skipped", "train_samples"};
static const char *const stat_docs[] = {
    "train: mean policy cross-entropy over the updates applied since the previous record (NaN: none)",
    "train: mean value squared error (v - z)^2 over the updates applied since the previous record (NaN: none)",
    "train: mean entropy of the network's prior over the legal actions, same updates (NaN: none)",
    "train: mean KL(search policy target || network prior), same updates (NaN: none)",
    "train: mean root value of the search at the agents picked since the previous record (NaN: none)",
    "train: mean reward of a real agent-step (plan_step's reward of the action taken) over the tracked agents "
    "since the previous record (NaN: none)",
    "train: updates applied so far in the run",
    "train: updates skipped so far for a non-finite loss or gradient",
    "train: samples completed so far (entered the replay)"};
#define N_TRAIN_STATS ((int)(sizeof stat_names / sizeof stat_names[0]))

int myr_trainer_stat_count(void) { return N_TRAIN_STATS; }
const char *myr_trainer_stat_name(int k) { return k >= 0 && k < N_TRAIN_STATS ? stat_names[k] : NULL; }
const char *myr_trainer_stat_doc(int k) { return k >= 0 && k < N_TRAIN_STATS ? stat_docs[k] : NULL; }

void myr_trainer_stats(myr_trainer *t, double *out) {
  double n = (double)t->n_applied_rec;
  out[0] = t->n_applied_rec ? t->s_policy / n : NAN;
  out[1] = t->n_applied_rec ? t->s_value / n : NAN;
  out[2] = t->n_applied_rec ? t->s_entropy / n : NAN;
  out[3] = t->n_applied_rec ? t->s_kl / n : NAN;
  out[4] = t->n_root ? t->s_root / (double)t->n_root : NAN;
  out[5] = t->n_reward ? t->s_reward / (double)t->n_reward : NAN;
  out[6] = (double)t->st.step;
  out[7] = (double)t->st.skipped;
  out[8] = (double)t->replay.total;
  t->s_policy = t->s_value = t->s_entropy = t->s_kl = t->s_root = t->s_reward = 0;
  t->n_applied_rec = t->n_root = t->n_reward = 0;
}

const myr_train_state *myr_trainer_state(const myr_trainer *t) { return &t->st; }
const myr_replay *myr_trainer_replay(const myr_trainer *t) { return &t->replay; }
int64_t myr_trainer_pending(const myr_trainer *t) { return t->pend.n; }
const uint64_t *myr_trainer_pending_ids(const myr_trainer *t) { return t->pend.id; }

/* ---- checkpoints -------------------------------------------------------------------------- */

/* A whole [n] or [n, w] dataset under g (written when `write`, else read with a shape check). */
static myr_status array_io(hid_t g, const char *name, hid_t ftype, hid_t mtype, hsize_t n, hsize_t w, void *buf,
                           int write, const char *file, myr_error *err) {
  char path[128];
  snprintf(path, sizeof path, "/train/%s", name);
  int rank = w > 0 ? 2 : 1;
  hsize_t dims[2] = {n, w};
  if (write) {
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t ds = space >= 0 ? H5Dcreate2(g, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT) : -1;
    herr_t r = ds >= 0 && (n == 0 || H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0) ? 0 : -1;
    if (ds >= 0) H5Dclose(ds);
    if (space >= 0) H5Sclose(space);
    return r < 0 ? myr__h5_fail(err, file, "write", path) : MYR_OK;
  }
  int have_rank;
  hsize_t have[2] = {0, 0};
  if (!myr__h5_exists(g, name)) return myr_fail(err, MYR_ERR_CHECKPOINT, "checkpoint %s has no %s", file, path);
  myr_status s = myr__h5_dims(g, name, &have_rank, have, file, err);
  if (s != MYR_OK) return s;
  if (have_rank != rank || have[0] != n || (rank == 2 && have[1] != w))
    return myr_fail(err, MYR_ERR_CHECKPOINT, "checkpoint %s: %s has the wrong shape (expected %llu x %llu)", file,
                    path, (unsigned long long)n, (unsigned long long)w);
  hid_t ds = H5Dopen2(g, name, H5P_DEFAULT);
  herr_t r = ds >= 0 && (n == 0 || H5Dread(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0) ? 0 : -1;
  if (ds >= 0) H5Dclose(ds);
  return r < 0 ? myr__h5_fail(err, file, "read", path) : MYR_OK;
}

/* The replay in global order into contiguous arrays (write) or back (read). */
static myr_status replay_io(myr_trainer *t, hid_t g, int write, int64_t size, const char *file, myr_error *err) {
  myr_replay *r = &t->replay;
  size_t n = (size_t)(size > 0 ? size : 1);
  float *x = malloc(n * (size_t)t->features * sizeof *x), *pol = malloc(n * (size_t)t->actions * sizeof *pol);
  float *val = malloc(n * sizeof *val);
  uint32_t *legal = malloc(n * sizeof *legal);
  uint64_t *id = malloc(n * sizeof *id), *step = malloc(n * sizeof *step), *done = malloc(n * sizeof *done);
  myr_status s = MYR_OK;
  if (!x || !pol || !val || !legal || !id || !step || !done)
    s = myr_fail(err, MYR_ERR_NOMEM, "%s: out of memory for the replay", file);
  int64_t first = r->total - size;
  if (s == MYR_OK && write)
    for (int64_t j = 0; j < size; j++) {
      int64_t slot = myr_replay_index(r, first + j);
      myr_replay_copy(r, slot, j, x, legal, pol, val);
      id[j] = r->id[slot];
      step[j] = r->step[slot];
      done[j] = r->done[slot];
    }
  hsize_t N = (hsize_t)size;
  if (s == MYR_OK) s = array_io(g, "replay_x", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, N, (hsize_t)t->features, x, write, file, err);
  if (s == MYR_OK) s = array_io(g, "replay_policy", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, N, (hsize_t)t->actions, pol, write, file, err);
  if (s == MYR_OK) s = array_io(g, "replay_value", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, N, 0, val, write, file, err);
  if (s == MYR_OK) s = array_io(g, "replay_legal", H5T_STD_U32LE, H5T_NATIVE_UINT32, N, 0, legal, write, file, err);
  if (s == MYR_OK) s = array_io(g, "replay_id", H5T_STD_U64LE, H5T_NATIVE_UINT64, N, 0, id, write, file, err);
  if (s == MYR_OK) s = array_io(g, "replay_step", H5T_STD_U64LE, H5T_NATIVE_UINT64, N, 0, step, write, file, err);
  if (s == MYR_OK) s = array_io(g, "replay_done", H5T_STD_U64LE, H5T_NATIVE_UINT64, N, 0, done, write, file, err);
  if (s == MYR_OK && !write) {
    r->total = first;
    for (int64_t j = 0; j < size; j++)
      myr_replay_push(r, id[j], step[j], done[j], x + j * t->features, legal[j], pol + j * t->actions, val[j]);
  }
  free(x);
  free(pol);
  free(val);
  free(legal);
  free(id);
  free(step);
  free(done);
  return s;
}

static myr_status pending_io(myr_trainer *t, hid_t g, int write, const char *file, myr_error *err) {
  pending_set *p = &t->pend;
  hsize_t N = (hsize_t)p->n;
  myr_status s = array_io(g, "pending_id", H5T_STD_U64LE, H5T_NATIVE_UINT64, N, 0, p->id, write, file, err);
  if (s == MYR_OK) s = array_io(g, "pending_step", H5T_STD_U64LE, H5T_NATIVE_UINT64, N, 0, p->step, write, file, err);
  if (s == MYR_OK) s = array_io(g, "pending_return", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, N, 0, p->ret, write, file, err);
  if (s == MYR_OK) s = array_io(g, "pending_x", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, N, (hsize_t)t->features, p->x, write, file, err);
  if (s == MYR_OK) s = array_io(g, "pending_policy", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, N, (hsize_t)t->actions, p->target, write, file, err);
  if (s == MYR_OK) s = array_io(g, "pending_legal", H5T_STD_U32LE, H5T_NATIVE_UINT32, N, 0, p->legal, write, file, err);
  return s;
}

myr_status myr_trainer_write_h5(const myr_trainer *tc, int64_t loc, const char *file, myr_error *err) {
  myr_trainer *t = (myr_trainer *)tc; /* replay_io's scratch only; nothing changes */
  hid_t g = -1;
  myr_status s = myr__h5_group((hid_t)loc, "train", &g, file, "/train", err);
  const char *w = "/train";
  if (s == MYR_OK) s = myr__h5_put_i64(g, "updates_applied", t->st.step, file, w, err);
  if (s == MYR_OK) s = myr__h5_put_i64(g, "updates_skipped", t->st.skipped, file, w, err);
  if (s == MYR_OK) s = myr__h5_put_i64(g, "replay_total", t->replay.total, file, w, err);
  if (s == MYR_OK) s = myr__h5_put_i64(g, "replay_capacity", t->replay.capacity, file, w, err);
  hsize_t P = (hsize_t)t->st.n_params;
  if (s == MYR_OK) s = array_io(g, "adam_m", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, P, 0, t->st.m, 1, file, err);
  if (s == MYR_OK) s = array_io(g, "adam_v", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, P, 0, t->st.v, 1, file, err);
  if (s == MYR_OK) s = replay_io(t, g, 1, myr_replay_size(&t->replay), file, err);
  if (s == MYR_OK) s = pending_io(t, g, 1, file, err);
  if (g >= 0) H5Gclose(g);
  return s;
}

myr_status myr_trainer_read_h5(myr_trainer *t, int64_t loc, const char *file, myr_error *err) {
  if (!myr__h5_exists((hid_t)loc, "train"))
    return myr_fail(err, MYR_ERR_CHECKPOINT, "checkpoint %s has no /train (it was written without train.enabled)",
                    file);
  hid_t g = H5Gopen2((hid_t)loc, "train", H5P_DEFAULT);
  if (g < 0) return myr__h5_fail(err, file, "open", "/train");
  const char *w = "/train";
  int64_t applied = 0, skipped = 0, total = 0, cap = 0;
  myr_status s = myr__h5_get_i64(g, "updates_applied", &applied, file, w, err);
  if (s == MYR_OK) s = myr__h5_get_i64(g, "updates_skipped", &skipped, file, w, err);
  if (s == MYR_OK) s = myr__h5_get_i64(g, "replay_total", &total, file, w, err);
  if (s == MYR_OK) s = myr__h5_get_i64(g, "replay_capacity", &cap, file, w, err);
  if (s == MYR_OK && cap != t->replay.capacity)
    s = myr_fail(err, MYR_ERR_CHECKPOINT,
                 "checkpoint %s does not match this run: train.replay_capacity is %lld in the checkpoint but %lld in "
                 "the config", file, (long long)cap, (long long)t->replay.capacity);
  hsize_t P = (hsize_t)t->st.n_params;
  if (s == MYR_OK) s = array_io(g, "adam_m", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, P, 0, t->st.m, 0, file, err);
  if (s == MYR_OK) s = array_io(g, "adam_v", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, P, 0, t->st.v, 0, file, err);
  if (s == MYR_OK) {
    t->st.step = applied;
    t->st.skipped = skipped;
    t->replay.total = total;
    s = replay_io(t, g, 0, myr_replay_size(&t->replay), file, err);
  }
  if (s == MYR_OK) {
    int rank;
    hsize_t dims[2] = {0, 0};
    s = myr__h5_exists(g, "pending_id") ? myr__h5_dims(g, "pending_id", &rank, dims, file, err)
                                         : myr_fail(err, MYR_ERR_CHECKPOINT, "checkpoint %s has no /train/pending_id", file);
    if (s == MYR_OK && !pending_reserve(&t->pend, (int64_t)dims[0], t->features, t->actions))
      s = myr_fail(err, MYR_ERR_NOMEM, "%s: out of memory for unfinished samples", file);
    if (s == MYR_OK) {
      t->pend.n = (int64_t)dims[0];
      s = pending_io(t, g, 0, file, err);
    }
  }
  H5Gclose(g);
  return s;
}
