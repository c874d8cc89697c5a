/* The id order (sim/state.c, myr_sim_id_order) and the state hash of a permuted state
 * (sim/hash.c), with a toy model defined here whose sims are filled by hand:
 * - the radix sort equals qsort of (id, slot) pairs for n = 0, 1, 2, 1000 and 3 million alive
 *   agents among dead slots, for ids that are random 64-bit (high bits set), small with gaps
 *   (high bytes zero and skipped), children-like (top bit set in every id) and varying only in
 *   one high byte; on 1 and 3 threads;
 * - two agents with one id fail with MYR_ERR_INTERNAL;
 * - an order kept for reuse is not reused once agents moved or died;
 * - the hash of a state whose slots are shuffled (with dead slots between them) equals the
 *   hash of the same agents in id order, and the SHA-256 of the documented canonical bytes;
 *   one changed byte changes it;
 * - compaction (myr__sim_compact) for no deaths, all, the first or last slot only, every
 *   other, and random fractions: the living end up in [0, n) with their columns, the hash is
 *   unchanged, and an agent already below n never moves (the work is the dead's, not the
 *   population's). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "sim/hash.h"
#include "sim/sim.h"
#include "sim/sim_internal.h" /* myr__sim_compact */

enum { COL_VALUE, COL_TAG, COL_VEC, COL_SCRATCH };

static const myr_column_desc toy_columns[] = {
    {"value", MYR_U32, 1, MYR_PERSISTENT, "a function of the id"},
    {"tag", MYR_U8, 1, MYR_PERSISTENT, "a function of the id"},
    {"vec", MYR_F64, 3, MYR_PERSISTENT, "three components, functions of the id"},
    {"scratch", MYR_I64, 1, MYR_TRANSIENT, "not hashed"},
};
static const myr_layer_desc toy_layers[] = {{"level", MYR_F32, MYR_PERSISTENT, "per cell", MYR_WRITTEN_IN_ACT}};

static int toy_legal(const myr_view *v, int64_t i, uint8_t *mask) {
  (void)v, (void)i;
  mask[0] = 1;
  return 1;
}
static void toy_range(const myr_view *v, int64_t b, int64_t e, int64_t *flow) { (void)v, (void)b, (void)e, (void)flow; }
static void toy_finish(const myr_view *v, const int64_t *acc, const int64_t *flow, double *out) {
  (void)v, (void)acc, (void)flow, (void)out;
}

static const myr_model toy = {
    .name = "id_order_toy", .summary = "id order test model", .columns = toy_columns, .n_columns = 4,
    .layers = toy_layers, .n_layers = 1, .n_actions = 1, .legal = toy_legal, .init_agents = toy_range,
    .act = toy_range, .sync_agents = toy_range, .finish_stats = toy_finish,
};

static myr_config toy_config(int64_t capacity, int64_t threads) {
  myr_config c;
  memset(&c, 0, sizeof c);
  c.seed = 5;
  c.threads = threads;
  c.record_every = 1;
  c.sync_frequency = 1;
  c.width = 7;
  c.height = 5;
  c.count = capacity;
  c.capacity = capacity;
  snprintf(c.model, sizeof c.model, "id_order_toy");
  c.model_desc = &toy;
  c.policy = MYR_POLICY_RANDOM;
  return c;
}

/* A bijection of 64-bit integers (splitmix64's finaliser): distinct inputs, distinct ids. */
static uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

enum { IDS_RANDOM, IDS_SMALL, IDS_CHILDREN, IDS_HIGH_BYTE, IDS_KINDS };
static const char *kind_name[] = {"random 64-bit", "small with gaps", "children (top bit)", "one high byte"};

/* The id of the k-th agent, unique for k < 2^24 in every kind (each a bijection of k). */
static uint64_t make_id(int kind, uint64_t k) {
  const uint64_t top = 0x8000000000000000ull;
  switch (kind) {
  case IDS_RANDOM: return mix(k + 1);
  case IDS_SMALL: return 3 * k + 7; /* below 2^26: bytes 4..7 zero */
  case IDS_CHILDREN: return top | (k * 0x9E3779B97F4A7C15ull & (top - 1)); /* odd factor mod 2^63 */
  default: return ((k * 167 + 13) & 0xff) << 40 | (k >> 8) << 48; /* bytes 0..4 zero */
  }
}

static void shuffle(int64_t *a, int64_t n, uint64_t seed) {
  for (int64_t i = n - 1; i > 0; i--) {
    int64_t j = (int64_t)(mix(seed + (uint64_t)i) % (uint64_t)(i + 1)), t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}

/* Fills the agent with id `id` into slot `slot` (alive), its columns functions of the id. */
static void put_agent(myr_sim *sim, int64_t slot, uint64_t id) {
  myr_agents *a = &sim->agents;
  a->id[slot] = id;
  a->alive[slot] = 1;
  ((uint32_t *)a->col[COL_VALUE])[slot] = (uint32_t)(id * 2654435761u);
  ((uint8_t *)a->col[COL_TAG])[slot] = (uint8_t)(id >> 56 ^ id);
  for (int k = 0; k < 3; k++) ((double *)a->col[COL_VEC])[k * a->capacity + slot] = (double)(id % 1000003) * (k + 0.5);
  ((int64_t *)a->col[COL_SCRATCH])[slot] = (int64_t)slot; /* differs between layouts: not hashed */
}

/* `alive` agents of ids make_id(kind, 0 .. alive-1) in shuffled slots, a dead slot after every
 * seventh; the state of `cfg`. */
static myr_sim *make_sim(const myr_config *cfg, int kind, int64_t alive, uint64_t seed) {
  myr_sim *sim;
  myr_error e;
  REQUIRE(myr_sim_create_empty_part(cfg, cfg->capacity, &sim, &e) == MYR_OK, "%s", e.msg);
  int64_t *ks = malloc((size_t)(alive > 0 ? alive : 1) * sizeof *ks);
  REQUIRE(ks, "out of memory");
  for (int64_t k = 0; k < alive; k++) ks[k] = k;
  if (seed) shuffle(ks, alive, seed);
  int64_t slot = 0;
  for (int64_t k = 0; k < alive; k++) {
    if (seed && k % 7 == 6) sim->agents.id[slot++] = make_id(kind, (uint64_t)ks[0]); /* dead, with a live agent's id */
    put_agent(sim, slot++, make_id(kind, (uint64_t)ks[k]));
  }
  REQUIRE(slot <= sim->agents.capacity, "capacity %lld < %lld slots", (long long)sim->agents.capacity, (long long)slot);
  sim->agents.n = slot;
  for (int c = 0; c < cfg->width * cfg->height; c++) ((float *)sim->grid.layer[0])[c] = 0.25f * (float)c;
  sim->step = 12;
  free(ks);
  return sim;
}

typedef struct {
  uint64_t id;
  int64_t slot;
} pair;

static int cmp_pair(const void *x, const void *y) {
  uint64_t a = ((const pair *)x)->id, b = ((const pair *)y)->id;
  return (a > b) - (a < b);
}

/* The reference order: qsort of the alive (id, slot) pairs. */
static int64_t *qsort_order(const myr_sim *sim, int64_t *n) {
  const myr_agents *a = &sim->agents;
  pair *p = malloc((size_t)(a->n > 0 ? a->n : 1) * sizeof *p);
  int64_t *order = malloc((size_t)(a->n > 0 ? a->n : 1) * sizeof *order);
  REQUIRE(p && order, "out of memory");
  int64_t k = 0;
  for (int64_t i = 0; i < a->n; i++)
    if (a->alive[i]) p[k++] = (pair){a->id[i], i};
  qsort(p, (size_t)k, sizeof *p, cmp_pair);
  for (int64_t i = 0; i < k; i++) order[i] = p[i].slot;
  free(p);
  *n = k;
  return order;
}

/* myr_sim_id_order equals the qsort order; prints the first mismatch. */
static void check_order(const myr_sim *sim, const char *what) {
  int64_t *got, n, ref_n;
  myr_error e;
  REQUIRE(myr_sim_id_order(sim, &got, &n, &e) == MYR_OK, "%s: %s", what, e.msg);
  int64_t *ref = qsort_order(sim, &ref_n);
  int64_t first = -1, wrong = 0;
  for (int64_t j = 0; j < n && n == ref_n; j++)
    if (got[j] != ref[j]) {
      wrong++;
      if (first < 0) first = j;
    }
  CHECK(n == ref_n, "%s: %lld agents in the order, expected %lld", what, (long long)n, (long long)ref_n);
  CHECK(wrong == 0, "%s: %lld of %lld positions wrong, first at %lld: slot %lld (id %llu), expected slot %lld (id %llu)",
        what, (long long)wrong, (long long)n, (long long)first, (long long)got[first],
        (unsigned long long)sim->agents.id[got[first]], (long long)ref[first],
        (unsigned long long)sim->agents.id[ref[first]]);
  free(got);
  free(ref);
}

static void radix_against_qsort(void) {
  const int64_t sizes[] = {0, 1, 2, 1000, 3000000};
  for (int threads = 1; threads <= 3; threads += 2)
    for (int kind = 0; kind < IDS_KINDS; kind++)
      for (size_t z = 0; z < sizeof sizes / sizeof *sizes; z++) {
        int64_t alive = sizes[z];
        if (alive > 1000 && threads == 1 && kind != IDS_RANDOM) continue; /* the big ones once per kind */
        myr_config cfg = toy_config(alive + alive / 6 + 2, threads);
        myr_sim *sim = make_sim(&cfg, kind, alive, 1000 + (uint64_t)kind);
        char what[128];
        snprintf(what, sizeof what, "%s ids, %lld agents, %d threads", kind_name[kind], (long long)alive, threads);
        check_order(sim, what);
        if (alive <= 1000) check_order(sim, what); /* again: the kept order (large: below) */
        myr_sim_destroy(sim);
      }
  /* Every slot dead: an empty order. */
  myr_config cfg = toy_config(10, 2);
  myr_sim *sim = make_sim(&cfg, IDS_RANDOM, 8, 3);
  memset(sim->agents.alive, 0, (size_t)sim->agents.n);
  check_order(sim, "all dead");
  myr_sim_destroy(sim);
}

static void duplicate_ids(void) {
  myr_config cfg = toy_config(3000, 2);
  myr_sim *sim = make_sim(&cfg, IDS_RANDOM, 2000, 9);
  sim->agents.id[1500] = sim->agents.id[20];
  sim->agents.alive[1500] = sim->agents.alive[20] = 1;
  int64_t *order = NULL, n;
  myr_error e;
  myr_status s = myr_sim_id_order(sim, &order, &n, &e);
  CHECK(s == MYR_ERR_INTERNAL, "two agents with id %llu: status %d, expected MYR_ERR_INTERNAL",
        (unsigned long long)sim->agents.id[20], (int)s);
  if (s == MYR_OK) free(order);
  myr_sim_destroy(sim);
}

/* A kept order must not survive a change of the agents: swap two slots, then kill one. */
static void kept_order_follows_changes(void) {
  myr_config cfg = toy_config(200000, 2);
  myr_sim *sim = make_sim(&cfg, IDS_CHILDREN, 150000, 11);
  check_order(sim, "before the swap");
  myr_agents *a = &sim->agents;
  int64_t i = 10, j = a->n - 10;
  uint64_t t = a->id[i];
  a->id[i] = a->id[j];
  a->id[j] = t;
  check_order(sim, "after swapping two agents' slots");
  a->alive[a->n / 2] = 0;
  check_order(sim, "after a death");
  a->alive[a->n / 2] = 1;
  a->id[a->n / 2] = 5; /* a new id, smaller than all */
  check_order(sim, "after an id changed");
  myr_sim_destroy(sim);
}

/* SHA-256 of the canonical bytes of hash.h, built here from the qsort order. */
static void reference_hash(const myr_sim *sim, uint8_t out[MYR_HASH_BYTES]) {
  int64_t n;
  int64_t *order = qsort_order(sim, &n);
  const myr_agents *a = &sim->agents;
  size_t row = 8 + 4 + 1 + 3 * 8, cells = (size_t)sim->grid.width * (size_t)sim->grid.height;
  size_t bytes = 16 + (size_t)n * row + cells * 4;
  unsigned char *b = malloc(bytes), *p = b;
  REQUIRE(b, "out of memory");
  uint64_t head[2] = {sim->step, (uint64_t)n};
  memcpy(p, head, 16), p += 16;
  for (int64_t j = 0; j < n; j++) {
    int64_t i = order[j];
    memcpy(p, &a->id[i], 8), p += 8;
    memcpy(p, (uint32_t *)a->col[COL_VALUE] + i, 4), p += 4;
    memcpy(p, (uint8_t *)a->col[COL_TAG] + i, 1), p += 1;
    for (int k = 0; k < 3; k++) memcpy(p, (double *)a->col[COL_VEC] + k * a->capacity + i, 8), p += 8;
  }
  memcpy(p, sim->grid.layer[0], cells * 4);
  myr_sha256(b, bytes, out);
  free(b);
  free(order);
}

static void hash_of(const myr_sim *sim, uint8_t h[MYR_HASH_BYTES], char hex[MYR_HASH_HEX]) {
  myr_error e;
  REQUIRE(myr_sim_hash(sim, h, &e) == MYR_OK, "hash: %s", e.msg);
  myr_hash_hex(h, hex);
}

static void permuted_hash(void) {
  /* 700001 agents: rows of 37 bytes cross the hash's 8 MiB blocks of rows, the last one partial. */
  int64_t alive = 700001;
  for (int threads = 1; threads <= 3; threads += 2) {
    myr_config cfg = toy_config(alive + alive / 6 + 2, threads);
    myr_sim *ordered = make_sim(&cfg, IDS_SMALL, alive, 0);    /* slots in id order: the fast path */
    myr_sim *permuted = make_sim(&cfg, IDS_SMALL, alive, 77);  /* shuffled, dead slots between */
    uint8_t h0[MYR_HASH_BYTES], h1[MYR_HASH_BYTES], h2[MYR_HASH_BYTES], ref[MYR_HASH_BYTES];
    char x0[MYR_HASH_HEX], x1[MYR_HASH_HEX], x2[MYR_HASH_HEX], xr[MYR_HASH_HEX];
    hash_of(ordered, h0, x0);
    hash_of(permuted, h1, x1);
    reference_hash(ordered, ref);
    myr_hash_hex(ref, xr);
    CHECK(memcmp(h0, ref, MYR_HASH_BYTES) == 0, "%d threads: in id order %s, canonical bytes %s", threads, x0, xr);
    CHECK(memcmp(h1, h0, MYR_HASH_BYTES) == 0, "%d threads: shuffled slots %s, in id order %s", threads, x1, x0);
    /* One byte of one agent's column, then put back: the hash follows. */
    ((uint8_t *)permuted->agents.col[COL_TAG])[alive / 3] ^= 1;
    hash_of(permuted, h2, x2);
    CHECK(memcmp(h2, h1, MYR_HASH_BYTES) != 0, "%d threads: a changed byte left the hash at %s", threads, x2);
    ((uint8_t *)permuted->agents.col[COL_TAG])[alive / 3] ^= 1;
    hash_of(permuted, h2, x2);
    CHECK(memcmp(h2, h1, MYR_HASH_BYTES) == 0, "%d threads: restored state %s, expected %s", threads, x2, x1);
    myr_sim_destroy(ordered);
    myr_sim_destroy(permuted);
  }
}

/* Whether slot i holds put_agent's columns for its id. */
static int columns_follow_id(const myr_sim *sim, int64_t i) {
  const myr_agents *a = &sim->agents;
  uint64_t id = a->id[i];
  int ok = ((const uint32_t *)a->col[COL_VALUE])[i] == (uint32_t)(id * 2654435761u) &&
           ((const uint8_t *)a->col[COL_TAG])[i] == (uint8_t)(id >> 56 ^ id);
  for (int k = 0; k < 3; k++) ok &= ((const double *)a->col[COL_VEC])[k * a->capacity + i] == (double)(id % 1000003) * (k + 0.5);
  return ok;
}

static void compaction(void) {
  enum { ALIVE = 3000 };
  const char *pattern[] = {"none", "all", "first", "last", "every other", "random 30%", "random 90%"};
  for (int p = 0; p < 7; p++) {
    myr_config cfg = toy_config(ALIVE + ALIVE / 6 + 2, 1);
    myr_sim *sim = make_sim(&cfg, IDS_RANDOM, ALIVE, 31 + (uint64_t)p); /* dead slots between already */
    myr_agents *a = &sim->agents;
    int64_t n0 = a->n;
    for (int64_t i = 0; i < n0; i++) {
      int die = p == 1 || (p == 2 && i == 0) || (p == 3 && i == n0 - 1) || (p == 4 && i % 2 == 1) ||
                (p == 5 && mix((uint64_t)i) % 10 < 3) || (p == 6 && mix((uint64_t)i + 99) % 10 < 9);
      if (die) a->alive[i] = 0;
    }
    int64_t living = 0;
    for (int64_t i = 0; i < n0; i++) living += a->alive[i];
    uint64_t *before = malloc((size_t)n0 * sizeof *before);
    uint8_t *was = malloc((size_t)n0);
    REQUIRE(before && was, "out of memory");
    memcpy(before, a->id, (size_t)n0 * sizeof *before);
    memcpy(was, a->alive, (size_t)n0);
    uint8_t h0[MYR_HASH_BYTES], h1[MYR_HASH_BYTES];
    char x0[MYR_HASH_HEX], x1[MYR_HASH_HEX];
    hash_of(sim, h0, x0);
    myr__sim_compact(sim);
    CHECK(a->n == living, "%s: %lld slots after compaction, %lld alive", pattern[p], (long long)a->n, (long long)living);
    int64_t dead_below = 0, stray = 0, bad = 0, moved_early = 0;
    for (int64_t i = 0; i < n0; i++) {
      if (i < a->n) dead_below += !a->alive[i], bad += a->alive[i] && !columns_follow_id(sim, i);
      else stray += a->alive[i];
      moved_early += i < a->n && was[i] && a->id[i] != before[i];
    }
    CHECK(dead_below == 0 && stray == 0, "%s: %lld dead slots below n, %lld alive above", pattern[p], (long long)dead_below,
          (long long)stray);
    CHECK(bad == 0, "%s: %lld slots whose columns do not follow their id", pattern[p], (long long)bad);
    CHECK(moved_early == 0, "%s: %lld agents below n moved", pattern[p], (long long)moved_early);
    hash_of(sim, h1, x1);
    CHECK(memcmp(h0, h1, MYR_HASH_BYTES) == 0, "%s: hash %s after compaction, %s before", pattern[p], x1, x0);
    free(before);
    free(was);
    myr_sim_destroy(sim);
  }
}

int main(void) {
  compaction();
  radix_against_qsort();
  duplicate_ids();
  kept_order_follows_changes();
  permuted_hash();
  return check_summary();
}
