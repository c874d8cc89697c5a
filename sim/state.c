/* Agent and grid memory of one rank (DESIGN §3): creation, initial population, births
 * appended at sync, compaction of the dead, and the id order used by everything that must
 * not depend on where an agent sits in memory (hash, snapshots, checkpoints).
 * Owns: the agent block (ids, flags, model columns) and the grid block of a myr_sim. */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "search/policy.h"
#include "sim/backend.h"
#include "sim/neighbours.h"
#include "sim/sim.h"

#define ALIGN 64

/* Zeroed memory aligned to ALIGN. calloc maps large blocks lazily, so a device run's host
 * cache costs nothing until something is downloaded. The block's start is stored just
 * before the aligned pointer for zfree(). */
static void *zalloc(size_t bytes) {
  char *raw = calloc(1, bytes + 2 * ALIGN);
  if (!raw) return NULL;
  char *p = raw + 2 * ALIGN - ((uintptr_t)raw % ALIGN);
  ((void **)p)[-1] = raw;
  return p;
}

static void zfree(void *p) {
  if (p) free(((void **)p)[-1]);
}

static size_t round_up(size_t n) { return (n + ALIGN - 1) / ALIGN * ALIGN; }

static int resolved_components(const myr_column_desc *c, int sync_frequency) {
  return c->components == MYR_PER_WINDOW_STEP ? sync_frequency : c->components;
}

size_t myr_sim_bytes_per_agent(const myr_model *m, int sync_frequency) {
  size_t bytes = sizeof(uint64_t) + 3; /* id, alive, action, children */
  for (int c = 0; c < m->n_columns; c++)
    bytes += myr_type_size(m->columns[c].type) * (size_t)resolved_components(&m->columns[c], sync_frequency);
  return bytes;
}

size_t myr_sim_bytes_per_cell(const myr_model *m) {
  size_t bytes = 0;
  for (int l = 0; l < m->n_layers; l++) bytes += myr_type_size(m->layers[l].type);
  return bytes;
}

/* One zeroed block carved into the agent arrays, each 64-byte aligned. */
static myr_status alloc_agents(myr_sim *sim, int64_t capacity, myr_error *err) {
  const myr_model *m = sim->model;
  myr_agents *a = &sim->agents;
  size_t cap = (size_t)capacity;
  size_t sizes[3 + 1 + MYR_MAX_COLUMNS];
  int k = 0;
  sizes[k++] = round_up(cap * sizeof(uint64_t));
  for (int f = 0; f < 3; f++) sizes[k++] = round_up(cap);
  a->n_columns = m->n_columns;
  for (int c = 0; c < m->n_columns; c++) {
    a->components[c] = resolved_components(&m->columns[c], (int)sim->cfg->sync_frequency);
    sizes[k++] = round_up(cap * myr_type_size(m->columns[c].type) * (size_t)a->components[c]);
  }
  size_t total = 0;
  for (int i = 0; i < k; i++) total += sizes[i];
  char *block = zalloc(total);
  if (!block)
    return myr_fail(err, MYR_ERR_NOMEM, "cannot allocate %.2f GiB for %lld agent slots (%zu bytes each); "
                    "lower agents.capacity or agents.count",
                    total / 1073741824.0, (long long)capacity, myr_sim_bytes_per_agent(m, (int)sim->cfg->sync_frequency));
  k = 0;
  a->id = (uint64_t *)block;
  block += sizes[k++];
  a->alive = (uint8_t *)block;
  block += sizes[k++];
  a->action = (uint8_t *)block;
  block += sizes[k++];
  a->children = (uint8_t *)block;
  block += sizes[k++];
  for (int c = 0; c < m->n_columns; c++) {
    a->col[c] = block;
    block += sizes[k++];
  }
  a->capacity = capacity;
  a->n = 0;
  return MYR_OK;
}

static myr_status alloc_grid(myr_sim *sim, myr_error *err) {
  const myr_model *m = sim->model;
  myr_grid *g = &sim->grid;
  g->width = (int32_t)sim->cfg->width;
  g->height = (int32_t)sim->cfg->height;
  g->wrap = sim->cfg->wrap;
  g->n_layers = m->n_layers;
  size_t cells = (size_t)g->width * (size_t)g->height, total = 0;
  for (int l = 0; l < m->n_layers; l++) total += round_up(cells * myr_type_size(m->layers[l].type));
  char *block = total ? zalloc(total) : NULL;
  if (total && !block)
    return myr_fail(err, MYR_ERR_NOMEM, "cannot allocate %.2f GiB for a %dx%d grid", total / 1073741824.0,
                    g->width, g->height);
  for (int l = 0; l < m->n_layers; l++) {
    g->layer[l] = block;
    block += round_up(cells * myr_type_size(m->layers[l].type));
  }
  return MYR_OK;
}

myr_status myr_sim_create_empty(const myr_config *cfg, myr_sim **out, myr_error *err) {
  return myr_sim_create_empty_part(cfg, myr_config_capacity(cfg), out, err);
}

myr_status myr_sim_create_empty_part(const myr_config *cfg, int64_t capacity, myr_sim **out, myr_error *err) {
  *out = NULL;
  const myr_model *m = cfg->model_desc;
  if (!m) return myr_fail(err, MYR_ERR_MODEL, "no model in the configuration");
  myr_status s = myr_model_check(m, err);
  if (s != MYR_OK) return s;
  if (cfg->policy == MYR_POLICY_HEURISTIC && !m->heuristic)
    return myr_fail(err, MYR_ERR_CONFIG, "policy.kind: model '%s' has no heuristic policy; use random", m->name);

  myr_sim *sim = calloc(1, sizeof *sim);
  if (!sim) return myr_fail(err, MYR_ERR_NOMEM, "cannot allocate the simulation");
  sim->cfg = cfg;
  sim->model = m;
  sim->params = cfg->model_params;
  sim->threads = cfg->threads > 0 ? (int)cfg->threads : omp_get_max_threads();
  sim->owns_cells = 1;
  sim->cells_first = 0;
  sim->cells_n = cfg->width * cfg->height;
  sim->cells_x0 = 0;
  sim->cells_nx = (int32_t)cfg->width;
  if ((s = alloc_agents(sim, capacity, err)) != MYR_OK ||
      (s = alloc_grid(sim, err)) != MYR_OK || (s = myr_search_start(sim, err)) != MYR_OK) {
    myr_sim_destroy(sim);
    return s;
  }
  *out = sim;
  return MYR_OK;
}

/* Chooses the backend; a device backend is attached (initialise: build the population there). */
static myr_status start_backend(myr_sim *sim, int initialise, myr_error *err) {
  const myr_backend_ops *ops;
  myr_status s = myr_backend_choose(sim->cfg, &ops, sim->backend_why, sizeof sim->backend_why, err);
  if (s != MYR_OK || !ops) return s;
  sim->backend = ops;
  return ops->attach(sim, initialise, err);
}

myr_status myr_sim_start_backend(myr_sim *sim, myr_error *err) { return start_backend(sim, 0, err); }

myr_status myr_sim_to_host(myr_sim *sim, myr_error *err) {
  return sim->backend ? sim->backend->to_host(sim, err) : MYR_OK;
}

myr_status myr_sim_create(const myr_config *cfg, myr_sim **out, myr_error *err) {
  return myr_sim_create_part(cfg, NULL, 0, cfg->count, myr_config_capacity(cfg), out, err);
}

myr_status myr_sim_create_part(const myr_config *cfg, myr_rank *rank, uint64_t first_id, int64_t count,
                               int64_t capacity, myr_sim **out, myr_error *err) {
  myr_sim *sim;
  *out = NULL;
  if (count > capacity)
    return myr_fail(err, MYR_ERR_CAPACITY, "agents.count %lld exceeds agents.capacity %lld%s", (long long)count,
                    (long long)capacity, rank && rank->count > 1 ? " (this rank's share)" : "");
  myr_status s = myr_sim_create_empty_part(cfg, capacity, &sim, err);
  if (s != MYR_OK) return s;
  sim->rank = rank;
  sim->first_id = first_id;
  myr_agents *a = &sim->agents;
  a->n = count;
  if ((s = start_backend(sim, 1, err)) != MYR_OK) {
    myr_sim_destroy(sim);
    return s;
  }
  if (sim->backend) { /* the device built the population */
    *out = sim;
    return MYR_OK;
  }
#pragma omp parallel for schedule(static) num_threads(sim->threads)
  for (int64_t i = 0; i < a->n; i++) {
    a->id[i] = first_id + (uint64_t)i;
    a->alive[i] = 1;
  }
  myr_view v = myr_sim_view(sim);
  int64_t scratch[MYR_MAX_FLOWS];
  if (sim->model->init_cells) myr_parallel_ranges(sim, &v, sim->model->init_cells, myr_cells(&v), 0, scratch);
  myr_parallel_ranges(sim, &v, sim->model->init_agents, a->n, 0, scratch);
  *out = sim;
  return MYR_OK;
}

size_t myr_sim_agent_row_bytes(const myr_sim *sim) {
  size_t row = sizeof(uint64_t);
  for (int c = 0; c < sim->agents.n_columns; c++)
    row += myr_type_size(sim->model->columns[c].type) * (size_t)sim->agents.components[c];
  return row;
}

/* The bytes of component q of column c of `slot`. */
static char *agent_field(const myr_agents *a, const myr_model *m, int c, int q, int64_t slot) {
  size_t es = myr_type_size(m->columns[c].type);
  return (char *)a->col[c] + ((size_t)q * (size_t)a->capacity + (size_t)slot) * es;
}

void myr_sim_pack_agent(const myr_sim *sim, int64_t slot, void *row) {
  const myr_agents *a = &sim->agents;
  char *p = row;
  memcpy(p, &a->id[slot], sizeof(uint64_t));
  p += sizeof(uint64_t);
  for (int c = 0; c < a->n_columns; c++) {
    size_t es = myr_type_size(sim->model->columns[c].type);
    for (int q = 0; q < a->components[c]; q++, p += es) memcpy(p, agent_field(a, sim->model, c, q, slot), es);
  }
}

void myr_sim_append_agent_row(myr_sim *sim, const void *row) {
  myr_agents *a = &sim->agents;
  int64_t k = a->n++;
  const char *p = row;
  memcpy(&a->id[k], p, sizeof(uint64_t));
  p += sizeof(uint64_t);
  a->alive[k] = 1;
  for (int c = 0; c < a->n_columns; c++) {
    size_t es = myr_type_size(sim->model->columns[c].type);
    for (int q = 0; q < a->components[c]; q++, p += es) memcpy(agent_field(a, sim->model, c, q, k), p, es);
  }
}

void myr_sim_copy_agent(myr_sim *to, const myr_sim *from, int64_t slot) {
  myr_agents *a = &to->agents;
  const myr_agents *f = &from->agents;
  int64_t k = a->n++;
  a->id[k] = f->id[slot];
  a->alive[k] = 1;
  for (int c = 0; c < a->n_columns; c++) {
    size_t es = myr_type_size(to->model->columns[c].type);
    for (int q = 0; q < a->components[c]; q++)
      memcpy(agent_field(a, to->model, c, q, k), agent_field(f, from->model, c, q, slot), es);
  }
}

/* One component of one column, gathered from the slots in `from_slot` to `to` onwards: the
 * element size picks the copy so that the loop stays a plain load and store. */
static void gather_component(char *to, const char *from, const int64_t *from_slot, int64_t n, size_t es, int threads) {
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int64_t k = 0; k < n; k++) {
    if (es == 1) to[k] = from[from_slot[k]];
    else if (es == 4) ((uint32_t *)to)[k] = ((const uint32_t *)from)[from_slot[k]];
    else if (es == 8) ((uint64_t *)to)[k] = ((const uint64_t *)from)[from_slot[k]];
    else memcpy(to + (size_t)k * es, from + (size_t)from_slot[k] * es, es);
  }
}

myr_status myr_sim_append_alive(myr_sim *to, const myr_sim *from, myr_error *err) {
  const myr_agents *f = &from->agents;
  myr_agents *a = &to->agents;
  int64_t n = 0, base = a->n;
  for (int64_t i = 0; i < f->n; i++) n += f->alive[i] != 0;
  int64_t *slot = malloc((size_t)(n > 0 ? n : 1) * sizeof *slot);
  if (!slot) return myr_fail(err, MYR_ERR_NOMEM, "cannot allocate the index of %lld agents to gather", (long long)n);
  for (int64_t i = 0, k = 0; i < f->n; i++)
    if (f->alive[i]) slot[k++] = i;
  int threads = to->threads > 0 ? to->threads : 1;
  gather_component((char *)(a->id + base), (const char *)f->id, slot, n, sizeof *f->id, threads);
  memset(a->alive + base, 1, (size_t)n);
  for (int c = 0; c < a->n_columns; c++) {
    size_t es = myr_type_size(to->model->columns[c].type);
    for (int q = 0; q < a->components[c]; q++)
      gather_component(agent_field(a, to->model, c, q, base), agent_field(f, from->model, c, q, 0), slot, n, es,
                       threads);
  }
  a->n = base + n;
  free(slot);
  return MYR_OK;
}

void myr_sim_copy_network(myr_sim *to, const myr_sim *from) {
  if (to->search && from->search && to->search->net.w && from->search->net.w &&
      to->search->net.n_params == from->search->net.n_params)
    memcpy(to->search->net.w, from->search->net.w, from->search->net.n_params * sizeof *from->search->net.w);
}

void myr_sim_copy_published(myr_sim *to, const myr_sim *from) {
  memcpy(to->flows_window, from->flows_window, sizeof to->flows_window);
  memcpy(to->flows_total, from->flows_total, sizeof to->flows_total);
}

static void kept_put(const myr_sim *sim, int64_t *order, int64_t n); /* the id order kept for reuse */

void myr_sim_destroy(myr_sim *sim) {
  if (!sim) return;
  if (sim->backend) sim->backend->detach(sim);
  myr_search_stop(sim);
  myr_neighbours_free(sim);
  kept_put(sim, NULL, 0);
  zfree(sim->agents.id); /* the start of the agent block */
  if (sim->grid.n_layers > 0) zfree(sim->grid.layer[0]);
  free(sim);
}


myr_view myr_sim_view(const myr_sim *sim) {
  myr_view v;
  memset(&v, 0, sizeof v);
  const myr_agents *a = &sim->agents;
  v.n = a->n;
  v.capacity = a->capacity;
  v.id = a->id;
  v.alive = a->alive;
  v.action = a->action;
  v.children = a->children;
  for (int c = 0; c < a->n_columns; c++) v.col[c] = a->col[c];
  for (int l = 0; l < sim->grid.n_layers; l++) v.layer[l] = sim->grid.layer[l];
  v.width = sim->grid.width;
  v.height = sim->grid.height;
  v.wrap = sim->grid.wrap;
  v.sync_frequency = (int32_t)sim->cfg->sync_frequency;
  v.window_step = (int32_t)(sim->step % (uint64_t)sim->cfg->sync_frequency);
  v.seed = (uint32_t)sim->cfg->seed;
  v.step = sim->step;
  v.params = sim->params;
  v.flows_window = sim->flows_window;
  v.flows_total = sim->flows_total;
  return v;
}

int64_t myr_sim_population(const myr_sim *sim) {
  if (sim->backend) return sim->agents.n; /* every slot is alive outside a sync */
  int64_t alive = 0;
  const myr_agents *a = &sim->agents;
#pragma omp parallel for schedule(static) reduction(+ : alive) num_threads(sim->threads)
  for (int64_t i = 0; i < a->n; i++) alive += a->alive[i];
  return alive;
}

typedef struct {
  uint64_t id;
  int64_t slot;
} id_slot;

/* 1 if every slot is alive and ids ascend strictly with the slot (no births since creation
 * or a checkpoint load): the id order is then the slot order. */
static int slots_in_id_order(const myr_agents *a) {
  for (int64_t i = 0; i < a->n; i++)
    if (!a->alive[i] || (i > 0 && a->id[i] <= a->id[i - 1])) return 0;
  return 1;
}

/* Sorts pairs[0..n) by id: a parallel LSD radix sort on bytes through tmp[n]; returns the
 * buffer (pairs or tmp) that holds the result. Why not qsort: a run's state is 10^7..10^9
 * agents, sorted for every snapshot, checkpoint and the hash, and qsort's serial n log n
 * calls through a function pointer took seconds to a minute there; a radix pass is two
 * streaming sweeps shared by the threads. Only the bytes set in `varying` (the bits that
 * differ between keys) are sorted: the high bytes of ids below 2^56 are zero in every key,
 * and children's ids all share their top bit. A pass is stable (each thread scatters its own
 * contiguous chunk, chunks in order), so the pairs end sorted on every byte. */
static id_slot *radix_sort(id_slot *pairs, id_slot *tmp, int64_t n, uint64_t varying, int64_t (*at)[256],
                           int threads) {
  for (int shift = 0; shift < 64; shift += 8) {
    if (!((varying >> shift) & 0xff)) continue;
#pragma omp parallel num_threads(threads)
    {
      int t = omp_get_thread_num(), nt = omp_get_num_threads();
      int64_t lo = n * t / nt, hi = n * (t + 1) / nt, *mine = at[t];
      memset(mine, 0, sizeof at[0]);
      for (int64_t i = lo; i < hi; i++) mine[(pairs[i].id >> shift) & 0xff]++;
#pragma omp barrier
#pragma omp single
      { /* where each thread's first pair of each digit goes: digits in order, then threads */
        int64_t sum = 0;
        for (int d = 0; d < 256; d++)
          for (int u = 0; u < nt; u++) {
            int64_t c = at[u][d];
            at[u][d] = sum;
            sum += c;
          }
      }
      for (int64_t i = lo; i < hi; i++) tmp[mine[(pairs[i].id >> shift) & 0xff]++] = pairs[i];
    }
    id_slot *sorted = tmp;
    tmp = pairs;
    pairs = sorted;
  }
  return pairs;
}

/* The alive slots sorted by id into slots[] (room for a->n), their count in *k. */
static myr_status sort_by_id(const myr_sim *sim, int64_t *slots, int64_t *k, myr_error *err) {
  const myr_agents *a = &sim->agents;
  int threads = sim->threads > 0 ? sim->threads : 1;
  size_t slots_n = (size_t)(a->n ? a->n : 1);
  id_slot *pairs = malloc(2 * slots_n * sizeof *pairs); /* and the radix sort's other buffer */
  int64_t(*at)[256] = malloc((size_t)threads * sizeof *at);
  if (!pairs || !at) {
    free(pairs);
    free(at);
    return myr_fail(err, MYR_ERR_NOMEM, "cannot allocate the id order of %lld agents", (long long)a->n);
  }
  /* The alive slots' (id, slot) in slot order, each thread's chunk after the previous ones';
   * the bits that differ between ids: set in some (or) and clear in some (~and). */
  int64_t alive = 0;
  uint64_t or_ids = 0, and_ids = ~0ull;
#pragma omp parallel num_threads(threads) reduction(| : or_ids) reduction(& : and_ids)
  {
    int t = omp_get_thread_num(), nt = omp_get_num_threads();
    int64_t lo = a->n * t / nt, hi = a->n * (t + 1) / nt, mine = 0;
    for (int64_t i = lo; i < hi; i++) mine += a->alive[i];
    at[t][0] = mine;
#pragma omp barrier
    int64_t j = 0;
    for (int u = 0; u < t; u++) j += at[u][0];
    for (int64_t i = lo; i < hi; i++)
      if (a->alive[i]) {
        pairs[j++] = (id_slot){a->id[i], i};
        or_ids |= a->id[i];
        and_ids &= a->id[i];
      }
    if (t == nt - 1) alive = j;
  }
  id_slot *sorted = radix_sort(pairs, pairs + slots_n, alive, alive > 1 ? or_ids ^ and_ids : 0, at, threads);
  int64_t dup = -1; /* ids are unique unless two children's ids collided */
#pragma omp parallel for schedule(static) num_threads(threads) reduction(max : dup)
  for (int64_t i = 0; i < alive; i++) {
    slots[i] = sorted[i].slot;
    if (i > 0 && sorted[i].id == sorted[i - 1].id) dup = i;
  }
  uint64_t dup_id = dup >= 0 ? sorted[dup].id : 0;
  free(pairs);
  free(at);
  if (dup >= 0)
    return myr_fail(err, MYR_ERR_INTERNAL, "two agents share id %llu (a child-id collision)", (unsigned long long)dup_id);
  *k = alive;
  return MYR_OK;
}

/* The last sorted id order, kept for the next caller of the same sim: the final snapshot, the
 * state hash and a checkpoint of one step each ask for the order of the same state. Nothing
 * tells this file when agents change (steps, a backend's download, migration, tests that move
 * agents), so a kept order is used only once checked: every slot in range and alive, ids
 * strictly ascending, as many as the alive slots. It then holds each alive slot once, sorted:
 * it is the id order. The check is one pass of reads instead of a sort. One order is kept,
 * until another sim's replaces it or its sim is destroyed (8 bytes an agent). */
static struct {
  const myr_sim *sim;
  int64_t *order, n;
} kept;

/* Takes the kept order of `sim` out (NULL if none), so that no other thread frees it. */
static int64_t *kept_take(const myr_sim *sim, int64_t *n) {
  int64_t *order = NULL;
#pragma omp critical(myr__id_order_kept)
  if (kept.sim == sim && kept.order) {
    order = kept.order;
    *n = kept.n;
    kept.order = NULL;
  }
  return order;
}

/* Keeps `order` (owned from now on) for `sim`, freeing what was kept; NULL forgets `sim`'s. */
static void kept_put(const myr_sim *sim, int64_t *order, int64_t n) {
  int64_t *old = NULL;
#pragma omp critical(myr__id_order_kept)
  {
    if (order || kept.sim == sim) {
      old = kept.order;
      kept.sim = order ? sim : NULL;
      kept.order = order;
      kept.n = n;
    }
  }
  free(old);
}

/* 1 if order[0..n) is still the id order of sim's alive agents (see `kept`). */
static int still_id_order(const myr_sim *sim, const int64_t *order, int64_t n) {
  const myr_agents *a = &sim->agents;
  int64_t bad = 0, alive = 0;
#pragma omp parallel num_threads(sim->threads > 0 ? sim->threads : 1)
  {
#pragma omp for schedule(static) reduction(+ : alive)
    for (int64_t i = 0; i < a->n; i++) alive += a->alive[i];
#pragma omp for schedule(static) reduction(| : bad)
    for (int64_t j = 0; j < n; j++) {
      int64_t i = order[j], p = j > 0 ? order[j - 1] : 0;
      bad |= i < 0 || i >= a->n || !a->alive[i] || (j > 0 && (p < 0 || p >= a->n || a->id[p] >= a->id[i]));
    }
  }
  return !bad && alive == n;
}

myr_status myr_sim_id_order(const myr_sim *sim, int64_t **order, int64_t *n, myr_error *err) {
  const myr_agents *a = &sim->agents;
  int threads = sim->threads > 0 ? sim->threads : 1;
  size_t slots_n = (size_t)(a->n ? a->n : 1);
  int64_t *slots = malloc(slots_n * sizeof *slots), k = 0;
  if (!slots) return myr_fail(err, MYR_ERR_NOMEM, "cannot allocate the id order of %lld agents", (long long)a->n);
  if (slots_in_id_order(a)) {
#pragma omp parallel for schedule(static) num_threads(threads)
    for (int64_t i = 0; i < a->n; i++) slots[i] = i;
    *order = slots;
    *n = a->n;
    return MYR_OK;
  }
  int64_t *known = kept_take(sim, &k);
  if (known && still_id_order(sim, known, k)) {
    memcpy(slots, known, (size_t)k * sizeof *slots);
  } else {
    free(known);
    myr_status s = sort_by_id(sim, slots, &k, err);
    if (s != MYR_OK) {
      free(slots);
      return s;
    }
    known = malloc((size_t)(k ? k : 1) * sizeof *known);
    if (known) memcpy(known, slots, (size_t)k * sizeof *known); /* without memory: not kept */
  }
  kept_put(sim, known, k);
  *order = slots;
  *n = k;
  return MYR_OK;
}

/* Copies every column of slot `from` to slot `to` (persistent columns only: transient ones
 * are zero at sync by contract). */
static void move_slot(myr_sim *sim, int64_t from, int64_t to) {
  myr_agents *a = &sim->agents;
  a->id[to] = a->id[from];
  a->alive[to] = 1;
  for (int c = 0; c < a->n_columns; c++) {
    if (sim->model->columns[c].lifetime == MYR_TRANSIENT) continue;
    size_t es = myr_type_size(sim->model->columns[c].type);
    char *base = a->col[c];
    for (int k = 0; k < a->components[c]; k++) {
      char *comp = base + (size_t)k * (size_t)a->capacity * es;
      memcpy(comp + (size_t)to * es, comp + (size_t)from * es, es);
    }
  }
}

/* Removes dead slots: the last alive agents move into the first dead slots, so the work is in
 * proportion to the dead, not to the population (a stable compaction moved every agent after
 * the first death). Slot order never changes a result: everything that orders agents orders
 * them by id. */
void myr__sim_compact(myr_sim *sim) {
  myr_agents *a = &sim->agents;
  int64_t hole = 0, last = a->n - 1;
  for (;;) {
    while (hole <= last && a->alive[hole]) hole++;
    while (last > hole && !a->alive[last]) last--;
    if (hole >= last) break;
    move_slot(sim, last, hole);
    a->alive[last] = 0;
    hole++;
    last--;
  }
  for (int64_t i = hole; i < a->n; i++) a->alive[i] = 0; /* [0, hole) alive, the rest dead */
  a->n = hole;
}

/* Zeroes every column of a slot (before a child is written into it). */
void myr__sim_clear_slot(myr_sim *sim, int64_t slot) {
  myr_agents *a = &sim->agents;
  for (int c = 0; c < a->n_columns; c++) {
    size_t es = myr_type_size(sim->model->columns[c].type);
    char *base = a->col[c];
    for (int k = 0; k < a->components[c]; k++)
      memset(base + ((size_t)k * (size_t)a->capacity + (size_t)slot) * es, 0, es);
  }
}
