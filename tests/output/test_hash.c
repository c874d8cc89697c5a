/* The state hash (sim/hash.h): equal to SHA-256 of the canonical bytes built here
 * independently from the documented order; independent of the agents' slot order (two alive
 * agents swapped in every column, then all slots reversed); changed by one byte of a
 * persistent column or layer, or by the step; unchanged by transient data. For foraging and
 * for the test model "probe" (multi-component columns, births and deaths). */
#include <string.h>

#include "output_util.h"
#include "probe_model.h"

/* Appends n bytes to a growing buffer. */
typedef struct bytes {
  unsigned char *p;
  size_t n, cap;
} bytes;

static void put(bytes *b, const void *v, size_t n) {
  if (b->n + n > b->cap) {
    b->cap = (b->n + n) * 2;
    b->p = realloc(b->p, b->cap);
    REQUIRE(b->p, "out of memory");
  }
  memcpy(b->p + b->n, v, n);
  b->n += n;
}

static int cmp_id(const void *x, const void *y) {
  uint64_t a = ((const uint64_t *)x)[0], b = ((const uint64_t *)y)[0];
  return a < b ? -1 : a > b;
}

/* The documented canonical bytes (little-endian host), ordered by sorting (id, slot) pairs. */
static void reference_hash(const myr_sim *sim, uint8_t out[MYR_HASH_BYTES]) {
  const myr_agents *ag = &sim->agents;
  uint64_t (*pairs)[2] = malloc((size_t)(ag->n > 0 ? ag->n : 1) * sizeof *pairs);
  REQUIRE(pairs, "out of memory");
  uint64_t n = 0;
  for (int64_t i = 0; i < ag->n; i++)
    if (ag->alive[i]) {
      pairs[n][0] = ag->id[i];
      pairs[n][1] = (uint64_t)i;
      n++;
    }
  qsort(pairs, n, sizeof *pairs, cmp_id);
  bytes b = {0};
  uint64_t step = sim->step;
  put(&b, &step, 8);
  put(&b, &n, 8);
  for (uint64_t j = 0; j < n; j++) {
    int64_t i = (int64_t)pairs[j][1];
    put(&b, &ag->id[i], 8);
    for (int c = 0; c < ag->n_columns; c++) {
      if (sim->model->columns[c].lifetime != MYR_PERSISTENT) continue;
      size_t sz = myr_type_size(sim->model->columns[c].type);
      for (int k = 0; k < ag->components[c]; k++)
        put(&b, (const char *)ag->col[c] + ((size_t)k * ag->capacity + i) * sz, sz);
    }
  }
  size_t cells = (size_t)sim->grid.width * sim->grid.height;
  for (int l = 0; l < sim->grid.n_layers; l++)
    if (sim->model->layers[l].lifetime == MYR_PERSISTENT)
      put(&b, sim->grid.layer[l], cells * myr_type_size(sim->model->layers[l].type));
  myr_sha256(b.p, b.n, out);
  free(b.p);
  free(pairs);
}

/* Swaps slots i and j in every per-agent array of the view (ids, flags, all columns). */
static void swap_slots(const myr_sim *sim, int64_t i, int64_t j) {
  myr_view v = myr_sim_view(sim);
  char tmp[8];
#define SWAP(base, sz)                                                             \
  do {                                                                             \
    char *p_ = (char *)(base);                                                     \
    memcpy(tmp, p_ + (size_t)i * (sz), sz);                                        \
    memcpy(p_ + (size_t)i * (sz), p_ + (size_t)j * (sz), sz);                      \
    memcpy(p_ + (size_t)j * (sz), tmp, sz);                                        \
  } while (0)
  SWAP(v.id, 8);
  SWAP(v.alive, 1);
  SWAP(v.action, 1);
  SWAP(v.children, 1);
  for (int c = 0; c < sim->agents.n_columns; c++) {
    size_t sz = myr_type_size(sim->model->columns[c].type);
    for (int k = 0; k < sim->agents.components[c]; k++)
      SWAP((char *)v.col[c] + (size_t)k * v.capacity * sz, sz);
  }
#undef SWAP
}

static int same(const uint8_t a[MYR_HASH_BYTES], const uint8_t b[MYR_HASH_BYTES]) {
  return memcmp(a, b, MYR_HASH_BYTES) == 0;
}

static void hash_case(const char *yaml, int steps) {
  myr_config cfg;
  load_cfg(&cfg, yaml, NULL);
  myr_sim *sim = make_sim(&cfg);
  step_n(sim, steps);
  REQUIRE(myr_sim_population(sim) >= 2, "population %lld", (long long)myr_sim_population(sim));

  uint8_t h0[MYR_HASH_BYTES], h[MYR_HASH_BYTES], ref[MYR_HASH_BYTES];
  char hex[MYR_HASH_HEX], rhex[MYR_HASH_HEX];
  hash_of(sim, h0);
  reference_hash(sim, ref);
  myr_hash_hex(h0, hex);
  myr_hash_hex(ref, rhex);
  CHECK(same(h0, ref), "myr_sim_hash %s, canonical bytes %s", hex, rhex);
  for (int i = 0; i < 64; i++) CHECK((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f'), "hex[%d] = %c", i, hex[i]);

  /* Slot order does not matter: swap the first and last alive agents ... */
  int64_t first = -1, last = -1;
  for (int64_t i = 0; i < sim->agents.n; i++)
    if (sim->agents.alive[i]) {
      if (first < 0) first = i;
      last = i;
    }
  REQUIRE(first >= 0 && last > first, "need two alive agents");
  swap_slots(sim, first, last);
  hash_of(sim, h);
  CHECK(same(h, h0), "swapping slots %lld and %lld changed the hash", (long long)first, (long long)last);
  /* ... then reverse every slot in use. */
  for (int64_t i = 0, j = sim->agents.n - 1; i < j; i++, j--) swap_slots(sim, i, j);
  hash_of(sim, h);
  CHECK(same(h, h0), "reversing the slots changed the hash");
  reference_hash(sim, ref);
  CHECK(same(ref, h0), "the reference hash depends on slot order");

  /* One byte of a persistent column of an alive agent changes it; restoring restores it. */
  int64_t a = -1;
  for (int64_t i = 0; i < sim->agents.n && a < 0; i++)
    if (sim->agents.alive[i]) a = i;
  int tested_persistent = 0, tested_transient = 0;
  for (int c = 0; c < sim->agents.n_columns; c++) {
    const myr_column_desc *cd = &sim->model->columns[c];
    size_t sz = myr_type_size(cd->type);
    unsigned char *byte = (unsigned char *)sim->agents.col[c] + (size_t)a * sz; /* component 0 */
    *byte ^= 0x01;
    hash_of(sim, h);
    if (cd->lifetime == MYR_PERSISTENT) {
      CHECK(!same(h, h0), "flipping a bit of column %s did not change the hash", cd->name);
      tested_persistent++;
    } else {
      CHECK(same(h, h0), "flipping a bit of transient column %s changed the hash", cd->name);
      tested_transient++;
    }
    *byte ^= 0x01;
    hash_of(sim, h);
    CHECK(same(h, h0), "restoring column %s did not restore the hash", cd->name);
  }
  CHECK(tested_persistent > 0, "%s has no persistent column", sim->model->name);
  /* A dead slot's data does not count. */
  if (sim->agents.n < sim->agents.capacity) {
    int64_t dead = sim->agents.n; /* an unused slot */
    for (int c = 0; c < sim->agents.n_columns; c++)
      ((unsigned char *)sim->agents.col[c])[(size_t)dead * myr_type_size(sim->model->columns[c].type)] ^= 0xff;
    hash_of(sim, h);
    CHECK(same(h, h0), "data in an unused slot changed the hash");
  }
  /* A persistent layer's cell, and the step. */
  for (int l = 0; l < sim->grid.n_layers; l++) {
    const myr_layer_desc *ld = &sim->model->layers[l];
    unsigned char *cell = (unsigned char *)sim->grid.layer[l] + 17 * myr_type_size(ld->type);
    *cell ^= 0x80;
    hash_of(sim, h);
    CHECK(same(h, h0) == (ld->lifetime != MYR_PERSISTENT), "layer %s (%s): hash %s", ld->name,
          ld->lifetime == MYR_PERSISTENT ? "persistent" : "transient", same(h, h0) ? "unchanged" : "changed");
    *cell ^= 0x80;
  }
  sim->step++;
  hash_of(sim, h);
  CHECK(!same(h, h0), "the step is not covered");
  sim->step--;
  hash_of(sim, h);
  CHECK(same(h, h0), "state not restored");
  printf("%s at step %d: %lld agents, hash %s (%d persistent, %d transient columns tested)\n",
         sim->model->name, steps, (long long)myr_sim_population(sim), hex, tested_persistent,
         tested_transient);

  myr_sim_destroy(sim);
  myr_config_free(&cfg);
}

int main(void) {
  register_probe();
  hash_case(small_yaml, 3);
  hash_case(probe_yaml, 6);
  return check_summary();
}
