/* epidemic: the CPU range functions over the per-agent and per-cell logic of epidemic.h, the
 * parameter, column, layer and statistic tables, setup() (cross-parameter checks and derived
 * values) and the descriptor myr_model_epidemic (registered in models/registry.def). Rules,
 * parameters and validation: README.md. */
#include <math.h>
#include <stddef.h>

#include "models/epidemic/epidemic.h" /* per-agent logic, epidemic_params */
#include "models/epidemic/epidemic_plan.h" /* planning: go out or stay home */
#include "models/model.h"             /* myr_model, MYR_AGENT_RANGE, MYR_CELL_RANGE */

static myr_status epidemic_setup(void *params, const myr_world_info *w, myr_error *err) {
  epidemic_params *p = params;
  const char *m = "model.params";
  if (p->steps_per_day < 1)
    return myr_fail(err, MYR_ERR_CONFIG, "%s.steps_per_day: expected >= 1, got %lld", m, (long long)p->steps_per_day);
  if (!(p->incubation_mean > 0.0) || !(p->infectious_mean > 0.0))
    return myr_fail(err, MYR_ERR_CONFIG, "%s.incubation_mean and infectious_mean: expected > 0 days, got %g and %g", m,
                    p->incubation_mean, p->infectious_mean);
  if (!(p->incubation_shape > 0.0) || !(p->infectious_shape > 0.0))
    return myr_fail(err, MYR_ERR_CONFIG, "%s.incubation_shape and infectious_shape: expected > 0, got %g and %g", m,
                    p->incubation_shape, p->infectious_shape);
  p->neg_log1mp = p->p_contact >= 1.0 ? INFINITY : -log1p(-p->p_contact);
  p->beta_dt = p->r0 / p->infectious_mean / (double)p->steps_per_day;
  p->vaccinate_step = p->vaccination_rate >= 1.0 ? 1.0 : -expm1(log1p(-p->vaccination_rate) / (double)p->steps_per_day);
  p->activity_steps = llround(p->activity_fraction * (double)p->steps_per_day);
  if (w) {
    if (p->initial_infected > w->agents)
      return myr_fail(err, MYR_ERR_CONFIG, "%s.initial_infected: %lld exceeds agents.count %lld", m,
                      (long long)p->initial_infected, (long long)w->agents);
    if (2 * p->commute_radius + 1 > (int64_t)UINT32_MAX)
      return myr_fail(err, MYR_ERR_CONFIG, "%s.commute_radius: %lld is too large", m, (long long)p->commute_radius);
    /* A cell holds at most every agent for every step of a window in the i32 layers. */
    if (w->capacity * (int64_t)w->sync_frequency > (int64_t)INT32_MAX)
      return myr_fail(err, MYR_ERR_CONFIG,
                      "agents.capacity %lld x distributed.sync_frequency %d could overflow the i32 infectious layer "
                      "(keep the product below 2^31)",
                      (long long)w->capacity, w->sync_frequency);
    p->population = w->agents;
    p->inv_sync = 1.0 / (double)w->sync_frequency;
  } else {
    p->population = 0;
    p->inv_sync = 1.0;
  }
  return MYR_OK;
}

static void init_agent(const myr_view *v, int64_t i, int64_t *flow) {
  (void)flow;
  epidemic_init_agent(v, i);
}

static void decide_one(const myr_view *v, int64_t i, int64_t *flow) {
  (void)flow;
  v->action[i] = (uint8_t)epidemic_decide(v, i);
}

/* Nothing is born and no slot dies (the dead keep theirs, in state D). */
static void sync_one(const myr_view *v, int64_t i, int64_t *flow) {
  (void)flow;
  v->children[i] = 0;
}

MYR_AGENT_RANGE(epidemic_init_agents, init_agent)
MYR_AGENT_RANGE(epidemic_heuristic, decide_one)
MYR_AGENT_RANGE(epidemic_act_range, epidemic_act)
MYR_AGENT_RANGE(epidemic_sync_agents, sync_one)
MYR_CELL_RANGE(epidemic_sync_cells_end, epidemic_sync_cell_end)
/* Same shape as a range function: `flow` is the accumulator array there. */
MYR_AGENT_RANGE(epidemic_agent_stats_range, epidemic_agent_stats)

static int epidemic_legal_fn(const myr_view *v, int64_t i, uint8_t *mask) { return epidemic_legal(v, i, mask); }

static void epidemic_features_fn(const myr_view *v, int64_t i, float *out) { epidemic_features(v, i, out); }

static void epidemic_finish_stats(const myr_view *v, const int64_t *acc, const int64_t *flow, double *out) {
  const epidemic_params *p = (const epidemic_params *)v->params;
  for (int k = 0; k < EPIDEMIC_STATES; k++) out[EPIDEMIC_STAT_S + k] = (double)acc[k];
  int64_t living = acc[EPIDEMIC_S] + acc[EPIDEMIC_E] + acc[EPIDEMIC_I] + acc[EPIDEMIC_R];
  out[EPIDEMIC_STAT_NEW_INFECTIONS] = (double)flow[EPIDEMIC_FLOW_INFECTED];
  out[EPIDEMIC_STAT_NEW_DEATHS] = (double)flow[EPIDEMIC_FLOW_DIED];
  out[EPIDEMIC_STAT_VACCINATED] = (double)flow[EPIDEMIC_FLOW_VACCINATED];
  out[EPIDEMIC_STAT_PREVALENCE] = living > 0 ? (double)acc[EPIDEMIC_I] / (double)living : 0.0;
  /* Infections per infectious agent-day, times the mean infectious period in days. */
  int64_t isteps = flow[EPIDEMIC_FLOW_INFECTIOUS_STEPS];
  out[EPIDEMIC_STAT_RT] = isteps > 0 ? (double)flow[EPIDEMIC_FLOW_INFECTED] * (double)p->steps_per_day *
                                           p->infectious_mean / (double)isteps
                                     : 0.0;
  out[EPIDEMIC_STAT_LOCKED_MOVES] = (double)flow[EPIDEMIC_FLOW_LOCKED_MOVES];
}

#define P(field) offsetof(epidemic_params, field)
static const myr_param_desc epidemic_param_table[] = {
    {.name = "steps_per_day", .type = MYR_P_INT, .def = 4, .min = 1, .max = 1440, .offset = P(steps_per_day),
     .doc = "steps in one day; all periods and rates are given in days"},
    {.name = "mixing", .type = MYR_P_ENUM, .def = EPIDEMIC_MIXING_SPATIAL, .choices = "spatial|well_mixed",
     .offset = P(mixing),
     .doc = "spatial = infection from the published infectious count of the agent's cell (and neighbours); "
            "well_mixed = from the global count, hazard R0 / infectious_mean * I / N per day"},
    {.name = "p_contact", .type = MYR_P_FLOAT, .def = 0.02, .min = 0.0, .max = 1.0, .offset = P(p_contact),
     .doc = "spatial: probability that one infectious agent on the same cell (or a neighbour) infects a "
            "susceptible in one step"},
    {.name = "contact_radius_cells", .type = MYR_P_INT, .def = 0, .min = 0, .max = 1,
     .offset = P(contact_radius_cells),
     .doc = "spatial: 0 = contacts on the agent's own cell; 1 = its cell and the 8 around it"},
    {.name = "R0", .type = MYR_P_FLOAT, .def = 2.5, .min = 0.0, .max = 100.0, .offset = P(r0),
     .doc = "well_mixed: basic reproduction number (beta = R0 / infectious_mean per day)"},
    {.name = "incubation_mean", .type = MYR_P_FLOAT, .def = 4.0, .min = 0.0, .max = 1000.0,
     .offset = P(incubation_mean), .doc = "mean of the gamma-distributed exposed (E) period, days"},
    {.name = "incubation_shape", .type = MYR_P_FLOAT, .def = 4.0, .min = 0.0, .max = 1000.0,
     .offset = P(incubation_shape), .doc = "shape of the exposed period's gamma distribution (1 = exponential)"},
    {.name = "infectious_mean", .type = MYR_P_FLOAT, .def = 5.0, .min = 0.0, .max = 1000.0,
     .offset = P(infectious_mean), .doc = "mean of the gamma-distributed infectious (I) period, days"},
    {.name = "infectious_shape", .type = MYR_P_FLOAT, .def = 2.0, .min = 0.0, .max = 1000.0,
     .offset = P(infectious_shape), .doc = "shape of the infectious period's gamma distribution (1 = exponential)"},
    {.name = "fatality", .type = MYR_P_FLOAT, .def = 0.01, .min = 0.0, .max = 1.0, .offset = P(fatality),
     .doc = "probability that an infectious period ends in death (D) instead of recovery (R)"},
    {.name = "initial_infected", .type = MYR_P_INT, .def = 10, .min = 0, .max = 9.0e18,
     .offset = P(initial_infected),
     .doc = "agents with id below this start infectious (their homes are uniformly random)"},
    {.name = "vaccination_rate", .type = MYR_P_FLOAT, .def = 0.0, .min = 0.0, .max = 1.0,
     .offset = P(vaccination_rate), .doc = "fraction of the susceptibles vaccinated (S -> R) per day"},
    {.name = "mobility_reduction", .type = MYR_P_FLOAT, .def = 0.0, .min = 0.0, .max = 1.0,
     .offset = P(mobility_reduction), .doc = "fraction of moves suppressed while a lockdown is on"},
    {.name = "lockdown_threshold", .type = MYR_P_FLOAT, .def = 0.0, .min = 0.0, .max = 1.0,
     .offset = P(lockdown_threshold),
     .doc = "a lockdown is on while the published prevalence (infectious / living) exceeds this; 0 = never"},
    {.name = "commute_radius", .type = MYR_P_INT, .def = 8, .min = 0, .max = 1.0e6, .offset = P(commute_radius),
     .doc = "the activity cell lies within this many cells of home along each axis (uniform)"},
    {.name = "activity_fraction", .type = MYR_P_FLOAT, .def = 0.5, .min = 0.0, .max = 1.0,
     .offset = P(activity_fraction),
     .doc = "heuristic: fraction of each day's steps (rounded) spent heading to or at the activity cell; the "
            "rest heading home"},
    {.name = "random_move", .type = MYR_P_FLOAT, .def = 0.1, .min = 0.0, .max = 1.0, .offset = P(random_move),
     .doc = "heuristic: probability of a uniformly random legal move instead of the scheduled one"},
    {.name = "econ_reward", .type = MYR_P_FLOAT, .def = 1.0, .min = 0.0, .max = 1.0e6, .offset = P(econ_reward),
     .doc = "policy network/mcts: reward of each step spent on the activity cell in the activity part of the day"},
    {.name = "infection_cost", .type = MYR_P_FLOAT, .def = 100.0, .min = 0.0, .max = 1.0e9,
     .offset = P(infection_cost),
     .doc = "policy network/mcts: cost of being infected, paid times the probability of it on each step a "
            "susceptible agent spends on a cell"},
};
#undef P

static const myr_column_desc epidemic_columns[EPIDEMIC_COLUMNS] = {
    [EPIDEMIC_X] = {"x", MYR_I32, 1, MYR_PERSISTENT, "cell column, 0 .. width-1"},
    [EPIDEMIC_Y] = {"y", MYR_I32, 1, MYR_PERSISTENT, "cell row, 0 .. height-1"},
    [EPIDEMIC_HOME_X] = {"home_x", MYR_I32, 1, MYR_PERSISTENT, "home cell column"},
    [EPIDEMIC_HOME_Y] = {"home_y", MYR_I32, 1, MYR_PERSISTENT, "home cell row"},
    [EPIDEMIC_ACT_X] = {"act_x", MYR_I32, 1, MYR_PERSISTENT, "activity cell column"},
    [EPIDEMIC_ACT_Y] = {"act_y", MYR_I32, 1, MYR_PERSISTENT, "activity cell row"},
    [EPIDEMIC_STATE] = {"state", MYR_U8, 1, MYR_PERSISTENT, "0 S, 1 E, 2 I, 3 R, 4 D"},
    [EPIDEMIC_TIMER] = {"timer", MYR_I32, 1, MYR_PERSISTENT, "steps left in the E or I period (0 otherwise)"},
};

static const myr_layer_desc epidemic_layers[EPIDEMIC_LAYERS] = {
    [EPIDEMIC_INFECTIOUS] = {"infectious", MYR_I32, MYR_TRANSIENT, "infectious agent-steps on the cell in this window"},
    [EPIDEMIC_CONTACTS] = {"contacts", MYR_I32, MYR_PERSISTENT,
                           "infectious agent-steps on the cell in the last window (published)"},
};

static const myr_stat_desc epidemic_stats[EPIDEMIC_STATS] = {
    [EPIDEMIC_STAT_S] = {"susceptible", "agents in state S"},
    [EPIDEMIC_STAT_E] = {"exposed", "agents in state E (infected, not yet infectious)"},
    [EPIDEMIC_STAT_I] = {"infectious", "agents in state I"},
    [EPIDEMIC_STAT_R] = {"recovered", "agents in state R (recovered or vaccinated)"},
    [EPIDEMIC_STAT_D] = {"dead", "agents in state D"},
    [EPIDEMIC_STAT_NEW_INFECTIONS] = {"new_infections", "S -> E since the previous record"},
    [EPIDEMIC_STAT_NEW_DEATHS] = {"new_deaths", "I -> D since the previous record"},
    [EPIDEMIC_STAT_VACCINATED] = {"vaccinated", "S -> R by vaccination since the previous record"},
    [EPIDEMIC_STAT_PREVALENCE] = {"prevalence", "infectious / living agents (S + E + I + R)"},
    [EPIDEMIC_STAT_RT] = {"rt", "new infections per infectious agent-day since the previous record, times "
                                "infectious_mean (days): the instantaneous reproduction number"},
    [EPIDEMIC_STAT_LOCKED_MOVES] = {"locked_moves", "moves suppressed by a lockdown since the previous record"},
};

static const char *const epidemic_action_names[MYR_MOVES] = {"stay", "E", "NE", "N", "NW", "W", "SW", "S", "SE"};

/* Planning (epidemic_plan.h): the CPU wrappers of myr_model_plan and, in a CUDA build, the
 * launchers of epidemic.cu. */
static void epidemic_plan_root_fn(const myr_view *v, int64_t agent, uint8_t *context, uint8_t *state) {
  epidemic_plan_root(v, agent, (epidemic_plan_context *)context, (epidemic_plan_state *)state);
}
static void epidemic_plan_expand_fn(const myr_plan_batch *b, int64_t begin, int64_t end) {
  for (int64_t k = begin; k < end; k++) epidemic_plan_expand_one(b, k);
}
static int epidemic_plan_legal_fn(const void *params, const uint8_t *context, const uint8_t *state, uint8_t *mask) {
  return epidemic_plan_legal((const epidemic_params *)params, (const epidemic_plan_context *)context,
                             (const epidemic_plan_state *)state, mask);
}
static void epidemic_plan_features_fn(const void *params, const uint8_t *context, const uint8_t *state, float *row) {
  epidemic_plan_features((const epidemic_params *)params, (const epidemic_plan_context *)context,
                         (const epidemic_plan_state *)state, row);
}
_Static_assert(sizeof(epidemic_plan_context) <= MYR_PLAN_MAX_CONTEXT, "epidemic plan context too large");
_Static_assert(sizeof(epidemic_plan_state) <= MYR_PLAN_MAX_STATE, "epidemic plan state too large");

MYR_DECLARE_PLAN_CUDA(epidemic);
static const myr_model_plan epidemic_plan = {
    .context_bytes = (int)sizeof(epidemic_plan_context),
    .state_bytes = (int)sizeof(epidemic_plan_state),
    .n_features = EPIDEMIC_FEATURES,
    .root = epidemic_plan_root_fn,
    .expand = epidemic_plan_expand_fn,
    .legal = epidemic_plan_legal_fn,
    .features = epidemic_plan_features_fn,
    .expand_cuda = MYR_PLAN_EXPAND_CUDA(epidemic),
    .root_cuda = MYR_PLAN_ROOT_CUDA(epidemic),
};

MYR_DECLARE_MODEL_CUDA(epidemic);
static const int epidemic_cell_columns[2] = {EPIDEMIC_X, EPIDEMIC_Y};

const myr_model myr_model_epidemic = {
    .name = "epidemic",
    .summary = "SEIR plus deaths with home/activity mobility; transmission per cell or well-mixed; interventions",
    .params_size = sizeof(epidemic_params),
    .params = epidemic_param_table,
    .n_params = (int)(sizeof epidemic_param_table / sizeof epidemic_param_table[0]),
    .setup = epidemic_setup,
    .columns = epidemic_columns,
    .n_columns = EPIDEMIC_COLUMNS,
    .layers = epidemic_layers,
    .n_layers = EPIDEMIC_LAYERS,
    .stats = epidemic_stats,
    .n_stats = EPIDEMIC_STATS,
    .n_acc = EPIDEMIC_ACCS,
    .n_flows = EPIDEMIC_FLOWS,
    .init_cells = NULL,
    .init_agents = epidemic_init_agents,
    .n_actions = MYR_MOVES,
    .action_names = epidemic_action_names,
    .n_features = EPIDEMIC_FEATURES,
    .legal = epidemic_legal_fn,
    .features = epidemic_features_fn,
    .heuristic = epidemic_heuristic,
    .act = epidemic_act_range,
    .sync_cells_begin = NULL,
    .sync_agents = epidemic_sync_agents,
    .birth = NULL,
    .sync_cells_end = epidemic_sync_cells_end,
    .agent_stats = epidemic_agent_stats_range,
    .cell_stats = NULL,
    .finish_stats = epidemic_finish_stats,
    .cuda = MYR_MODEL_CUDA(epidemic),
    .cell_columns = epidemic_cell_columns,
    .plan = &epidemic_plan,
    /* spatial_parallel: contacts read the 3x3 block around the agent, the planning patch the
     * counts within EPIDEMIC_PLAN_RADIUS cells; agents move one cell per step (act, plan) */
    .reach = EPIDEMIC_PLAN_RADIUS,
    .max_speed = 1,
};
