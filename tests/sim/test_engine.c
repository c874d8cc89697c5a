/* The engine (sim/state.c, sim/step.c, sim/stats.c) with a toy model defined here:
 * - population accounting: population(t) = population(t-1) + births - deaths, every step;
 * - ids unique after births, children's ids = myr_child_id(parent, step) (checked through a
 *   column holding the parent id);
 * - the random policy picks only legal actions, uniformly (chi-square, 8 dof, p < 1e-6);
 * - flows add up over ranges and steps (agent-steps counted by the model = sum of populations);
 * - identical state for 1, 2 and 4 threads (every column compared in id order);
 * - births beyond agents.capacity fail with MYR_ERR_CAPACITY. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "sim/rng.h"
#include "sim/sim.h"

enum { COL_VALUE, COL_PARENT, COL_BORN, COL_CLAIM };
enum { LAYER_COUNT };
enum { FLOW_AGENT_STEPS, FLOW_ILLEGAL, FLOW_ACTION0 };

typedef struct toy_params {
  double p_death, p_birth;
} toy_params;

static const myr_column_desc toy_columns[] = {
    {"value", MYR_I64, 1, MYR_PERSISTENT, "sum of actions taken"},
    {"parent", MYR_U64, 1, MYR_PERSISTENT, "parent id (or own id for the initial agents)"},
    {"born", MYR_U64, 1, MYR_PERSISTENT, "step of birth"},
    {"claim", MYR_I64, MYR_PER_WINDOW_STEP, MYR_TRANSIENT, "per-step scratch, zero after sync"},
};
static const myr_layer_desc toy_layers[] = {{"visits", MYR_I64, MYR_PERSISTENT, "actions summed per cell", MYR_WRITTEN_IN_ACT}};
static const myr_stat_desc toy_stats[] = {{"agent_steps", "agent-steps since last record"}};

static int toy_legal(const myr_view *v, int64_t i, uint8_t *mask) {
  int n = 0;
  for (int a = 0; a < 9; a++) n += mask[a] = (uint8_t)((v->id[i] + (uint64_t)a) % 3 != 0);
  return n;
}

static void toy_act(const myr_view *v, int64_t b, int64_t e, int64_t *flow) {
  uint8_t mask[9];
  for (int64_t i = b; i < e; i++) {
    if (!v->alive[i]) continue;
    int a = v->action[i];
    toy_legal(v, i, mask);
    flow[FLOW_AGENT_STEPS]++;
    flow[FLOW_ILLEGAL] += !mask[a];
    flow[FLOW_ACTION0 + a]++;
    MYR_COL(v, COL_VALUE, int64_t)[i] += a;
    MYR_COL(v, COL_CLAIM, int64_t)[(int64_t)v->window_step * v->capacity + i] = a + 1;
    __atomic_fetch_add(&MYR_LAYER(v, LAYER_COUNT, int64_t)[v->id[i] % (uint64_t)myr_cells(v)], a, __ATOMIC_RELAXED);
  }
}

static void toy_sync(const myr_view *v, int64_t b, int64_t e, int64_t *flow) {
  const toy_params *p = v->params;
  for (int64_t i = b; i < e; i++) {
    for (int k = 0; k < v->sync_frequency; k++) MYR_COL(v, COL_CLAIM, int64_t)[(int64_t)k * v->capacity + i] = 0;
    myr_rng r = myr_rng_make(v->seed, v->id[i], v->step, MYR_RNG_SYNC);
    if (myr_rng_chance(&r, p->p_death)) v->alive[i] = 0;
    else v->children[i] = (uint8_t)myr_rng_chance(&r, p->p_birth);
  }
}

static void toy_birth(const myr_view *v, int64_t parent, int64_t child) {
  MYR_COL(v, COL_VALUE, int64_t)[child] = MYR_COL(v, COL_VALUE, int64_t)[parent];
  MYR_COL(v, COL_PARENT, uint64_t)[child] = v->id[parent];
  MYR_COL(v, COL_BORN, uint64_t)[child] = v->step;
}

static void toy_init(const myr_view *v, int64_t b, int64_t e, int64_t *flow) {
  for (int64_t i = b; i < e; i++) MYR_COL(v, COL_PARENT, uint64_t)[i] = v->id[i];
}

static void toy_finish(const myr_view *v, const int64_t *acc, const int64_t *flow, double *out) {
  out[0] = (double)flow[FLOW_AGENT_STEPS];
}

static const myr_model toy = {
    .name = "toy", .summary = "engine test model", .params_size = sizeof(toy_params),
    .columns = toy_columns, .n_columns = 4, .layers = toy_layers, .n_layers = 1,
    .stats = toy_stats, .n_stats = 1, .n_flows = FLOW_ACTION0 + 9,
    .init_agents = toy_init, .n_actions = 9, .legal = toy_legal,
    .act = toy_act, .sync_agents = toy_sync, .birth = toy_birth, .finish_stats = toy_finish,
};

static myr_config toy_config(toy_params *p, int64_t count, int64_t capacity, int64_t sync, int64_t threads) {
  myr_config c;
  memset(&c, 0, sizeof c);
  c.steps = 40;
  c.seed = 99;
  c.threads = threads;
  c.record_every = 1;
  c.width = c.height = 16;
  c.wrap = 1;
  c.count = count;
  c.capacity = capacity;
  snprintf(c.model, sizeof c.model, "toy");
  c.model_desc = &toy;
  c.model_params = p;
  c.policy = MYR_POLICY_RANDOM;
  c.sync_frequency = sync;
  return c;
}

/* Runs `steps` steps checking accounting each step; returns the sim. */
static myr_sim *run_toy(const myr_config *c, int steps, int64_t *total_births) {
  myr_sim *sim;
  myr_error e;
  REQUIRE(myr_sim_create(c, &sim, &e) == MYR_OK, "%s", e.msg);
  double stats[MYR_ENGINE_STATS + 1];
  myr_sim_stats(sim, stats);
  int64_t pop = (int64_t)stats[MYR_STAT_POPULATION], births = 0, flow_steps = 0, pop_steps = 0;
  int64_t actions[9] = {0}, illegal = 0;
  for (int s = 0; s < steps; s++) {
    pop_steps += pop;
    /* Read the per-action flows before stats resets them. */
    myr_status st = myr_sim_step(sim, &e);
    REQUIRE(st == MYR_OK, "step %d: %s", s, e.msg);
    for (int a = 0; a < 9; a++) actions[a] += sim->flow[FLOW_ACTION0 + a];
    illegal += sim->flow[FLOW_ILLEGAL];
    myr_sim_stats(sim, stats);
    flow_steps += (int64_t)stats[MYR_ENGINE_STATS];
    int64_t now = (int64_t)stats[MYR_STAT_POPULATION];
    CHECK_EQ_I64(now, pop + (int64_t)stats[MYR_STAT_BIRTHS] - (int64_t)stats[MYR_STAT_DEATHS]);
    births += (int64_t)stats[MYR_STAT_BIRTHS];
    pop = now;
  }
  CHECK_EQ_I64(flow_steps, pop_steps);
  CHECK_EQ_I64(illegal, 0);
  /* Each agent has 6 legal actions out of 9 (3 residues mod 3): chi-square over 9 actions
   * against the expected count, 8 degrees of freedom; 50 is far beyond p = 1e-6. */
  double chi2 = 0, expect = (double)pop_steps / 9.0;
  for (int a = 0; a < 9; a++) chi2 += (actions[a] - expect) * (actions[a] - expect) / expect;
  CHECK(chi2 < 50, "random policy not uniform over legal actions: chi2 = %.1f", chi2);
  *total_births = births;
  return sim;
}

/* Every alive agent's columns in id order, as one flat array of int64 (id, value, parent, born). */
static int64_t *state_in_id_order(const myr_sim *sim, int64_t *n) {
  int64_t *order;
  myr_error e;
  REQUIRE(myr_sim_id_order(sim, &order, n, &e) == MYR_OK, "%s", e.msg);
  int64_t *flat = malloc((size_t)(*n ? *n : 1) * 4 * sizeof *flat);
  const myr_agents *a = &sim->agents;
  for (int64_t k = 0; k < *n; k++) {
    int64_t i = order[k];
    flat[4 * k] = (int64_t)a->id[i];
    flat[4 * k + 1] = ((int64_t *)a->col[COL_VALUE])[i];
    flat[4 * k + 2] = (int64_t)((uint64_t *)a->col[COL_PARENT])[i];
    flat[4 * k + 3] = (int64_t)((uint64_t *)a->col[COL_BORN])[i];
  }
  free(order);
  return flat;
}

static void accounting_and_threads(int64_t sync) {
  toy_params p = {0.05, 0.06};
  int64_t *ref = NULL, nref = 0;
  for (int threads = 1; threads <= 4; threads *= 2) {
    myr_config c = toy_config(&p, 5000, 40000, sync, threads);
    int64_t births;
    myr_sim *sim = run_toy(&c, 40, &births);
    CHECK(births > 0, "no births happened");
    CHECK(sim->agents.n > 0, "everyone died");
    int64_t n;
    int64_t *state = state_in_id_order(sim, &n); /* REQUIREs unique ids */
    /* Children: top bit set, id = myr_child_id(parent, born). */
    int64_t children = 0, bad = 0;
    for (int64_t k = 0; k < n; k++) {
      uint64_t id = (uint64_t)state[4 * k];
      if (!(id >> 63)) continue;
      children++;
      bad += id != myr_child_id((uint64_t)state[4 * k + 2], (uint64_t)state[4 * k + 3]);
    }
    CHECK(children > 0, "no child survived");
    CHECK_EQ_I64(bad, 0);
    /* The transient column is zero after the last sync. */
    if (sim->step % (uint64_t)sync == 0) {
      int64_t nonzero = 0;
      for (int64_t i = 0; i < sim->agents.capacity * sync; i++) nonzero += ((int64_t *)sim->agents.col[COL_CLAIM])[i] != 0;
      CHECK_EQ_I64(nonzero, 0);
    }
    if (!ref) {
      ref = state;
      nref = n;
    } else {
      CHECK(n == nref && memcmp(state, ref, (size_t)n * 4 * sizeof *state) == 0,
            "sync %lld: %d threads differ from 1 thread", (long long)sync, threads);
      free(state);
    }
    myr_sim_destroy(sim);
  }
  free(ref);
}

static void capacity_error(void) {
  toy_params p = {0.0, 1.0}; /* everyone reproduces every sync */
  myr_config c = toy_config(&p, 100, 300, 1, 1);
  myr_sim *sim;
  myr_error e;
  REQUIRE(myr_sim_create(&c, &sim, &e) == MYR_OK, "%s", e.msg);
  myr_status s = myr_sim_step(sim, &e); /* 200 agents */
  CHECK(s == MYR_OK, "first doubling fits: %s", e.msg);
  s = myr_sim_step(sim, &e); /* would be 400 > 300 */
  CHECK(s == MYR_ERR_CAPACITY, "status %d", (int)s);
  CHECK(strstr(e.msg, "agents.capacity") != NULL, "message does not name agents.capacity: %s", e.msg);
  myr_sim_destroy(sim);

  c = toy_config(&p, 400, 300, 1, 1);
  CHECK(myr_sim_create(&c, &sim, &e) == MYR_ERR_CAPACITY, "count above capacity accepted");
}

int main(void) {
  accounting_and_threads(1);
  accounting_and_threads(3);
  capacity_error();
  return check_summary();
}
