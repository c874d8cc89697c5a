/* "probe": a test-only model registered at run time (like an out-of-tree model) that covers
 * what the built-in models do not: multi-component persistent columns ([n, components] in
 * snapshots and checkpoints), f64/u8/i64 columns, a per-window-step transient column, an f32
 * layer, a transient i64 layer, births (child ids out of slot order) and deaths. Its rules are
 * integer/exact-float arithmetic of id and step, so runs are deterministic. */
#ifndef MYR_TEST_PROBE_MODEL_H
#define MYR_TEST_PROBE_MODEL_H

#include <stddef.h>

#include "models/model.h"

typedef struct probe_params {
  double speed;
  int64_t period;
} probe_params;

enum { PROBE_POS, PROBE_TAG, PROBE_HITS, PROBE_SCRATCH, PROBE_COLUMNS };
enum { PROBE_LEVEL, PROBE_VISITS, PROBE_LAYERS };

static void probe_init_agents(const myr_view *v, int64_t b, int64_t e, int64_t *flow) {
  (void)flow;
  for (int64_t i = b; i < e; i++) {
    uint64_t id = v->id[i];
    MYR_COL(v, PROBE_POS, double)[i] = (double)id;
    MYR_COL(v, PROBE_POS, double)[v->capacity + i] = -0.5 * (double)id;
    MYR_COL(v, PROBE_TAG, uint8_t)[i] = (uint8_t)(id * 29);
    for (int k = 0; k < 3; k++) MYR_COL(v, PROBE_HITS, int64_t)[k * v->capacity + i] = (int64_t)id * (k + 1);
  }
}

static void probe_init_cells(const myr_view *v, int64_t b, int64_t e, int64_t *flow) {
  (void)flow;
  for (int64_t c = b; c < e; c++) MYR_LAYER(v, PROBE_LEVEL, float)[c] = 0.5f * (float)(c % 1000);
}

static int probe_legal(const myr_view *v, int64_t i, uint8_t *mask) {
  (void)v, (void)i;
  mask[0] = 1;
  return 1;
}

static void probe_heuristic(const myr_view *v, int64_t b, int64_t e, int64_t *flow) {
  (void)flow;
  for (int64_t i = b; i < e; i++) v->action[i] = 0;
}

static void probe_act(const myr_view *v, int64_t b, int64_t e, int64_t *flow) {
  (void)flow;
  const probe_params *p = (const probe_params *)v->params;
  int64_t cells = myr_cells(v);
  for (int64_t i = b; i < e; i++) {
    if (!v->alive[i]) continue;
    uint64_t id = v->id[i];
    MYR_COL(v, PROBE_POS, double)[i] += p->speed * (double)((int64_t)(id % 5) - 2);
    MYR_COL(v, PROBE_POS, double)[v->capacity + i] += p->speed * (double)((int64_t)(v->step % 3) - 1);
    MYR_COL(v, PROBE_TAG, uint8_t)[i] = (uint8_t)(MYR_COL(v, PROBE_TAG, uint8_t)[i] + id + v->step);
    for (int k = 0; k < 3; k++) MYR_COL(v, PROBE_HITS, int64_t)[k * v->capacity + i] += k + (int64_t)(id % 3);
    MYR_COL(v, PROBE_SCRATCH, int32_t)[v->window_step * v->capacity + i] = 1;
    /* Reads the published layer, claims a cell with an exact integer add. */
    int64_t cell = (int64_t)((id + v->step) % (uint64_t)cells);
    MYR_COL(v, PROBE_HITS, int64_t)[i] += (int64_t)MYR_LAYER(v, PROBE_LEVEL, float)[cell];
    __atomic_fetch_add(&MYR_LAYER(v, PROBE_VISITS, int64_t)[cell], 1, __ATOMIC_RELAXED);
  }
}

static void probe_sync_agents(const myr_view *v, int64_t b, int64_t e, int64_t *flow) {
  (void)flow;
  const probe_params *p = (const probe_params *)v->params;
  for (int64_t i = b; i < e; i++) {
    if (!v->alive[i]) continue;
    uint64_t id = v->id[i];
    for (int w = 0; w < v->sync_frequency; w++) MYR_COL(v, PROBE_SCRATCH, int32_t)[w * v->capacity + i] = 0;
    v->children[i] = (uint8_t)((id + v->step) % (uint64_t)p->period == 0);
    if ((id * 7 + v->step) % 17 == 0 && id % 2) v->alive[i] = 0;
  }
}

static void probe_birth(const myr_view *v, int64_t parent, int64_t child) {
  MYR_COL(v, PROBE_POS, double)[child] = MYR_COL(v, PROBE_POS, double)[parent] + 0.25;
  MYR_COL(v, PROBE_POS, double)[v->capacity + child] = MYR_COL(v, PROBE_POS, double)[v->capacity + parent];
  MYR_COL(v, PROBE_TAG, uint8_t)[child] = 0;
}

static void probe_sync_cells_end(const myr_view *v, int64_t b, int64_t e, int64_t *flow) {
  (void)flow;
  for (int64_t c = b; c < e; c++) {
    MYR_LAYER(v, PROBE_LEVEL, float)[c] += 0.25f * (float)MYR_LAYER(v, PROBE_VISITS, int64_t)[c];
    MYR_LAYER(v, PROBE_VISITS, int64_t)[c] = 0;
  }
}

static void probe_agent_stats(const myr_view *v, int64_t b, int64_t e, int64_t *acc) {
  for (int64_t i = b; i < e; i++)
    if (v->alive[i]) acc[0] += MYR_COL(v, PROBE_TAG, uint8_t)[i];
}

static void probe_finish_stats(const myr_view *v, const int64_t *acc, const int64_t *flow, double *out) {
  (void)v, (void)flow;
  out[0] = (double)acc[0];
}

static const myr_param_desc probe_param_table[] = {
    {.name = "speed", .type = MYR_P_FLOAT, .def = 0.5, .min = 0.0, .max = 10.0,
     .offset = offsetof(probe_params, speed), .doc = "step length"},
    {.name = "period", .type = MYR_P_INT, .def = 5, .min = 2, .max = 1000,
     .offset = offsetof(probe_params, period), .doc = "a child when (id + step) % period == 0"},
};
static const myr_column_desc probe_columns[PROBE_COLUMNS] = {
    [PROBE_POS] = {"pos", MYR_F64, 2, MYR_PERSISTENT, "position (x, y)"},
    [PROBE_TAG] = {"tag", MYR_U8, 1, MYR_PERSISTENT, "a wrapping counter"},
    [PROBE_HITS] = {"hits", MYR_I64, 3, MYR_PERSISTENT, "three counters"},
    [PROBE_SCRATCH] = {"scratch", MYR_I32, MYR_PER_WINDOW_STEP, MYR_TRANSIENT, "per-step marks"},
};
static const myr_layer_desc probe_layers[PROBE_LAYERS] = {
    [PROBE_LEVEL] = {"level", MYR_F32, MYR_PERSISTENT, "visits so far, a quarter each"},
    [PROBE_VISITS] = {"visits", MYR_I64, MYR_TRANSIENT, "visits in this window"},
};
static const myr_stat_desc probe_stats[] = {{"tag_sum", "sum of the tags of the alive agents"}};
static const char *const probe_action_names[] = {"stay"};

static const myr_model probe_model = {
    .name = "probe",
    .summary = "test model for the output tests",
    .params_size = sizeof(probe_params),
    .params = probe_param_table,
    .n_params = 2,
    .columns = probe_columns,
    .n_columns = PROBE_COLUMNS,
    .layers = probe_layers,
    .n_layers = PROBE_LAYERS,
    .stats = probe_stats,
    .n_stats = 1,
    .n_acc = 1,
    .n_flows = 0,
    .init_cells = probe_init_cells,
    .init_agents = probe_init_agents,
    .n_actions = 1,
    .action_names = probe_action_names,
    .n_features = 0,
    .legal = probe_legal,
    .heuristic = probe_heuristic,
    .act = probe_act,
    .sync_agents = probe_sync_agents,
    .birth = probe_birth,
    .sync_cells_end = probe_sync_cells_end,
    .agent_stats = probe_agent_stats,
    .finish_stats = probe_finish_stats,
};

static inline void register_probe(void) {
  if (!myr_find_model("probe")) REQUIRE(myr_register_model(&probe_model) == MYR_OK, "cannot register probe");
}

/* The probe model on a 40 x 30 closed world. */
static const char *const probe_yaml =
    "run: {steps: 20, seed: 11, threads: 1, progress: false}\n"
    "world: {width: 40, height: 30, wrap: false}\n"
    "agents: {count: 300, capacity: 100000}\n"
    "model: {name: probe, params: {speed: 0.75, period: 7}}\n"
    "policy: {kind: heuristic}\n"
    "distributed: {sync_frequency: 1}\n";

#endif
