/* foraging: the CPU range functions over the per-agent and per-cell logic of foraging.h, the
 * parameter, column, layer and statistic tables, setup() (cross-parameter checks and the
 * fixed-point conversions) and the descriptor myr_model_foraging (registered in
 * models/registry.def). Rules and parameters: README.md. */
#include <math.h>
#include <stddef.h>

#include "models/foraging/foraging.h"      /* per-agent logic, foraging_params */
#include "models/foraging/foraging_plan.h" /* planning: imagined steps over a resource patch */
#include "models/model.h"                  /* myr_model, MYR_AGENT_RANGE, MYR_CELL_RANGE */

/* Units -> fixed point, rounded to nearest. */
static int64_t to_fx(double units) { return (int64_t)llround(units * FORAGING_ONE); }

static myr_status foraging_setup(void *params, const myr_world_info *w, myr_error *err) {
  foraging_params *p = params;
  p->regrowth_fx = to_fx(p->regrowth);
  p->metabolism_fx = to_fx(p->metabolism);
  p->harvest_fx = to_fx(p->harvest_max);
  p->peak_fx = to_fx(p->peak);
  p->initial_energy_fx = to_fx(p->initial_energy);
  p->reproduce_fx = to_fx(p->reproduce_threshold);
  p->max_energy_fx = to_fx(p->max_energy);
  const char *m = "model.params";
  if (p->peak_fx > (int64_t)UINT32_MAX)
    return myr_fail(err, MYR_ERR_CONFIG, "%s.peak: %g is too large for the u32 resource layer (at most %g)", m,
                    p->peak, (double)UINT32_MAX / FORAGING_ONE);
  if (p->max_energy_fx > (int64_t)INT32_MAX)
    return myr_fail(err, MYR_ERR_CONFIG, "%s.max_energy: %g is too large for the i32 energy column (at most %g)",
                    m, p->max_energy, (double)INT32_MAX / FORAGING_ONE);
  if (p->harvest_fx > (int64_t)UINT32_MAX)
    return myr_fail(err, MYR_ERR_CONFIG, "%s.harvest_max: %g is too large (at most %g)", m, p->harvest_max,
                    (double)UINT32_MAX / FORAGING_ONE);
  if (p->initial_energy_fx <= 0)
    return myr_fail(err, MYR_ERR_CONFIG, "%s.initial_energy: expected > 0 (agents with no energy die at once), got %g",
                    m, p->initial_energy);
  if (p->initial_energy_fx > p->max_energy_fx)
    return myr_fail(err, MYR_ERR_CONFIG, "%s.initial_energy: %g exceeds max_energy %g", m, p->initial_energy,
                    p->max_energy);
  if (p->reproduce_fx < 2)
    return myr_fail(err, MYR_ERR_CONFIG,
                    "%s.reproduce_threshold: expected > 0 (both halves of a split need energy), got %g", m,
                    p->reproduce_threshold);
  if (p->reproduce_fx > p->max_energy_fx)
    return myr_fail(err, MYR_ERR_CONFIG,
                    "%s.reproduce_threshold: %g exceeds max_energy %g, so no agent could ever reproduce", m,
                    p->reproduce_threshold, p->max_energy);
  if (w) {
    if ((int64_t)w->width * w->height > (int64_t)INT32_MAX)
      return myr_fail(err, MYR_ERR_CONFIG,
                      "world: %dx%d has more than 2^31-1 cells, the most the i32 claim_cell column can address",
                      w->width, w->height);
    /* Energy falls by at most sync_frequency * metabolism below its last settled value (> 0)
     * before the next sync; that must stay inside int32. */
    if (p->metabolism_fx * w->sync_frequency > (int64_t)INT32_MAX)
      return myr_fail(err, MYR_ERR_CONFIG,
                      "%s.metabolism: %g x distributed.sync_frequency %d would overflow the i32 energy column "
                      "(keep the product below %g)",
                      m, p->metabolism, w->sync_frequency, (double)INT32_MAX / FORAGING_ONE);
    int32_t side = w->width < w->height ? w->width : w->height;
    double r = p->hill_radius * side;
    p->hill_r2 = (int64_t)(r * r);
    if (p->hill_r2 < 1) p->hill_r2 = 1;
  } else {
    p->hill_r2 = 1;
  }
  return MYR_OK;
}

static void init_cell(const myr_view *v, int64_t c, int64_t *flow) {
  (void)flow;
  foraging_init_cell(v, c);
}

static void init_agent(const myr_view *v, int64_t i, int64_t *flow) {
  (void)flow;
  foraging_init_agent(v, i);
}

static void decide_one(const myr_view *v, int64_t i, int64_t *flow) {
  (void)flow;
  v->action[i] = (uint8_t)foraging_decide(v, i);
}

MYR_CELL_RANGE(foraging_init_cells, init_cell)
MYR_AGENT_RANGE(foraging_init_agents, init_agent)
MYR_AGENT_RANGE(foraging_heuristic, decide_one)
MYR_AGENT_RANGE(foraging_act_range, foraging_act)
MYR_AGENT_RANGE(foraging_sync_agents, foraging_sync_agent)
MYR_CELL_RANGE(foraging_sync_cells_end, foraging_sync_cell)
/* Same shape as range functions: `flow` is the accumulator array there. */
MYR_AGENT_RANGE(foraging_agent_stats_range, foraging_agent_stats)
MYR_CELL_RANGE(foraging_cell_stats_range, foraging_cell_stats)

static int foraging_legal_fn(const myr_view *v, int64_t i, uint8_t *mask) { return foraging_legal(v, i, mask); }

static void foraging_features_fn(const myr_view *v, int64_t i, float *out) { foraging_features(v, i, out); }

static void foraging_birth_fn(const myr_view *v, int64_t parent, int64_t child) { foraging_birth(v, parent, child); }

static void foraging_finish_stats(const myr_view *v, const int64_t *acc, const int64_t *flow, double *out) {
  (void)v;
  const double one = FORAGING_ONE;
  int64_t n = acc[FORAGING_ACC_COUNT];
  out[FORAGING_STAT_MEAN_ENERGY] = n > 0 ? (double)acc[FORAGING_ACC_ENERGY] / (double)n / one : 0.0;
  out[FORAGING_STAT_TOTAL_RESOURCE] = (double)acc[FORAGING_ACC_RESOURCE] / one;
  out[FORAGING_STAT_HARVESTED] = (double)flow[FORAGING_FLOW_HARVESTED] / one;
  out[FORAGING_STAT_REGROWN] = (double)flow[FORAGING_FLOW_REGROWN] / one;
  out[FORAGING_STAT_METABOLISM] = (double)flow[FORAGING_FLOW_METABOLISM] / one;
  out[FORAGING_STAT_ENERGY_OF_DEAD] = (double)flow[FORAGING_FLOW_DEAD] / one;
  out[FORAGING_STAT_MEAN_AGE] = n > 0 ? (double)acc[FORAGING_ACC_AGE] / (double)n : 0.0;
}

#define P(field) offsetof(foraging_params, field)
static const myr_param_desc foraging_param_table[] = {
    {.name = "regrowth", .type = MYR_P_FLOAT, .def = 0.05, .min = 0.0, .max = 1.0, .offset = P(regrowth),
     .doc = "fraction of a cell's capacity that grows back per step (rounded to 1/65536), up to the capacity"},
    {.name = "metabolism", .type = MYR_P_FLOAT, .def = 0.5, .min = 0.0, .max = 1000.0, .offset = P(metabolism),
     .doc = "energy every agent pays per step"},
    {.name = "harvest_max", .type = MYR_P_FLOAT, .def = 2.0, .min = 0.0, .max = 65535.0, .offset = P(harvest_max),
     .doc = "most resource one agent claims per step on its cell"},
    {.name = "peak", .type = MYR_P_FLOAT, .def = 4.0, .min = 0.0, .max = 65535.0, .offset = P(peak),
     .doc = "resource capacity at the top of each of the two hills"},
    {.name = "hill_radius", .type = MYR_P_FLOAT, .def = 0.3, .min = 0.0, .max = 2.0, .offset = P(hill_radius),
     .doc = "radius of each hill as a fraction of min(width, height); capacity is 0 outside the hills"},
    {.name = "initial_energy", .type = MYR_P_FLOAT, .def = 5.0, .min = 0.0, .max = 32767.0,
     .offset = P(initial_energy), .doc = "energy of each initial agent (> 0, <= max_energy)"},
    {.name = "reproduce_threshold", .type = MYR_P_FLOAT, .def = 10.0, .min = 0.0, .max = 32767.0,
     .offset = P(reproduce_threshold),
     .doc = "an agent with at least this energy at a sync splits: the child takes half its energy (<= max_energy)"},
    {.name = "max_energy", .type = MYR_P_FLOAT, .def = 20.0, .min = 0.0, .max = 32767.0, .offset = P(max_energy),
     .doc = "energy cap: agents never claim more than the room left under it"},
    {.name = "max_age", .type = MYR_P_INT, .def = 0, .min = 0, .max = 4000000000.0, .offset = P(max_age),
     .doc = "an agent older than this many steps dies at the next sync; 0 = no age limit"},
    {.name = "choice", .type = MYR_P_ENUM, .def = FORAGING_CHOICE_PROPORTIONAL, .choices = "proportional|greedy",
     .offset = P(choice),
     .doc = "heuristic policy: proportional = move with probability proportional to min(resource, harvest_max) "
            "of the target cell; greedy = the best such cell, ties at random"},
};
#undef P

static const myr_column_desc foraging_columns[FORAGING_COLUMNS] = {
    [FORAGING_X] = {"x", MYR_I32, 1, MYR_PERSISTENT, "cell column, 0 .. width-1"},
    [FORAGING_Y] = {"y", MYR_I32, 1, MYR_PERSISTENT, "cell row, 0 .. height-1"},
    [FORAGING_ENERGY] = {"energy", MYR_I32, 1, MYR_PERSISTENT, "energy in units of 1/65536"},
    [FORAGING_AGE] = {"age", MYR_U32, 1, MYR_PERSISTENT, "steps lived"},
    [FORAGING_CLAIM_CELL] = {"claim_cell", MYR_I32, MYR_PER_WINDOW_STEP, MYR_TRANSIENT,
                             "cell claimed at each step of the window"},
    [FORAGING_CLAIM_AMOUNT] = {"claim_amount", MYR_U32, MYR_PER_WINDOW_STEP, MYR_TRANSIENT,
                               "resource claimed at each step of the window (1/65536 units)"},
};

static const myr_layer_desc foraging_layers[FORAGING_LAYERS] = {
    [FORAGING_RESOURCE] = {"resource", MYR_U32, MYR_PERSISTENT, "resource on the cell, 1/65536 units"},
    [FORAGING_CAPACITY] = {"capacity", MYR_U32, MYR_PERSISTENT, "most resource the cell regrows to, 1/65536 units"},
    [FORAGING_CLAIMS] = {"claims", MYR_I64, MYR_TRANSIENT, "sum of the claims on the cell in this window"},
    [FORAGING_TAKEN] = {"taken", MYR_I64, MYR_TRANSIENT, "resource granted from the cell at this sync",
                        MYR_WRITTEN_IN_SYNC_AGENTS},
};

static const myr_stat_desc foraging_stats[FORAGING_STATS] = {
    [FORAGING_STAT_MEAN_ENERGY] = {"mean_energy", "mean energy of the alive agents"},
    [FORAGING_STAT_TOTAL_RESOURCE] = {"total_resource", "resource on all cells"},
    [FORAGING_STAT_HARVESTED] = {"harvested", "resource granted to agents since the previous record"},
    [FORAGING_STAT_REGROWN] = {"regrown", "resource regrown since the previous record"},
    [FORAGING_STAT_METABOLISM] = {"metabolism_paid", "energy paid as metabolism since the previous record"},
    [FORAGING_STAT_ENERGY_OF_DEAD] = {"energy_of_dead",
                                      "energy (<= 0 for the starved) of the agents that died since the previous record"},
    [FORAGING_STAT_MEAN_AGE] = {"mean_age", "mean age of the alive agents, in steps"},
};

static const char *const foraging_action_names[MYR_MOVES] = {"stay", "E", "NE", "N", "NW", "W", "SW", "S", "SE"};

/* Planning (foraging_plan.h): the CPU wrappers of myr_model_plan and, in a CUDA build, the
 * launchers of foraging.cu. */
static void foraging_plan_root_fn(const myr_view *v, int64_t agent, uint8_t *context, uint8_t *state) {
  foraging_plan_root(v, agent, (foraging_plan_context *)context, (foraging_plan_state *)state);
}

static void foraging_plan_expand_fn(const myr_plan_batch *b, int64_t begin, int64_t end) {
  for (int64_t k = begin; k < end; k++) foraging_plan_expand_one(b, k);
}

static int foraging_plan_legal_fn(const void *params, const uint8_t *context, const uint8_t *state, uint8_t *mask) {
  return foraging_plan_legal((const foraging_params *)params, (const foraging_plan_context *)context,
                             (const foraging_plan_state *)state, mask);
}

static void foraging_plan_features_fn(const void *params, const uint8_t *context, const uint8_t *state, float *row) {
  foraging_plan_features((const foraging_params *)params, (const foraging_plan_context *)context,
                         (const foraging_plan_state *)state, row);
}

_Static_assert(sizeof(foraging_plan_context) <= MYR_PLAN_MAX_CONTEXT, "foraging plan context too large");
_Static_assert(sizeof(foraging_plan_state) <= MYR_PLAN_MAX_STATE, "foraging plan state too large");

MYR_DECLARE_PLAN_CUDA(foraging);

static const myr_model_plan foraging_plan = {
    .context_bytes = (int)sizeof(foraging_plan_context),
    .state_bytes = (int)sizeof(foraging_plan_state),
    .n_features = FORAGING_FEATURES,
    .root = foraging_plan_root_fn,
    .expand = foraging_plan_expand_fn,
    .legal = foraging_plan_legal_fn,
    .features = foraging_plan_features_fn,
    .expand_cuda = MYR_PLAN_EXPAND_CUDA(foraging),
    .root_cuda = MYR_PLAN_ROOT_CUDA(foraging),
};

MYR_DECLARE_MODEL_CUDA(foraging);
static const int foraging_cell_columns[2] = {FORAGING_X, FORAGING_Y};

const myr_model myr_model_foraging = {
    .name = "foraging",
    .summary = "Sugarscape-like: agents move, harvest a regrowing resource, pay metabolism, split and die",
    .params_size = sizeof(foraging_params),
    .params = foraging_param_table,
    .n_params = (int)(sizeof foraging_param_table / sizeof foraging_param_table[0]),
    .setup = foraging_setup,
    .columns = foraging_columns,
    .n_columns = FORAGING_COLUMNS,
    .layers = foraging_layers,
    .n_layers = FORAGING_LAYERS,
    .stats = foraging_stats,
    .n_stats = FORAGING_STATS,
    .n_acc = FORAGING_ACCS,
    .n_flows = FORAGING_FLOWS,
    .init_cells = foraging_init_cells,
    .init_agents = foraging_init_agents,
    .n_actions = MYR_MOVES,
    .action_names = foraging_action_names,
    .n_features = FORAGING_FEATURES,
    .legal = foraging_legal_fn,
    .features = foraging_features_fn,
    .heuristic = foraging_heuristic,
    .act = foraging_act_range,
    .sync_cells_begin = NULL,
    .sync_agents = foraging_sync_agents,
    .birth = foraging_birth_fn,
    .sync_cells_end = foraging_sync_cells_end,
    .agent_stats = foraging_agent_stats_range,
    .cell_stats = foraging_cell_stats_range,
    .finish_stats = foraging_finish_stats,
    .cuda = MYR_MODEL_CUDA(foraging),
    .cell_columns = foraging_cell_columns,
    .plan = &foraging_plan,
    .reach = FORAGING_PLAN_RADIUS, /* the planning patch; the heuristic reads 1 cell around */
    .max_speed = 1,
};
