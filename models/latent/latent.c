/* latent: the CPU range functions over the per-agent logic of latent.h, setup() (the matrix W
 * from w_seed and w_scale), the parameter, column and statistic tables, the planning wrappers
 * and the descriptor myr_model_latent (registered in models/registry.def). Rules: README.md. */
#include <stddef.h>

#include "models/latent/latent.h" /* per-agent logic, planning, latent_params */
#include "models/model.h"         /* myr_model, MYR_AGENT_RANGE */

/* W[a][k] = w_scale * (2u - 1), u uniform in [0, 1) from myr_rng(w_seed, id = a, step 0,
 * MYR_RNG_MODEL), k in order: a pure function of (w_seed, w_scale), computed once on the host
 * and copied to the device with the rest of the parameters. */
static myr_status latent_setup(void *params, const myr_world_info *w, myr_error *err) {
  (void)w;
  (void)err;
  latent_params *p = params;
  float scale = (float)p->w_scale;
  for (int a = 0; a < LATENT_ACTIONS; a++) {
    myr_rng r = myr_rng_make((uint32_t)p->w_seed, (uint64_t)a, 0, MYR_RNG_MODEL);
    for (int k = 0; k < LATENT_DIM; k++) p->w[a][k] = scale * (2.0f * myr_rng_uniform(&r) - 1.0f);
  }
  return MYR_OK;
}

static void init_one(const myr_view *v, int64_t i, int64_t *flow) {
  (void)flow;
  latent_init_agent(v, i);
}

static void decide_one(const myr_view *v, int64_t i, int64_t *flow) {
  (void)flow;
  v->action[i] = (uint8_t)latent_decide(v, i);
}

/* Nothing dies and nothing is born. */
static void sync_one(const myr_view *v, int64_t i, int64_t *flow) {
  (void)flow;
  v->children[i] = 0;
}

MYR_AGENT_RANGE(latent_init_agents, init_one)
MYR_AGENT_RANGE(latent_heuristic, decide_one)
MYR_AGENT_RANGE(latent_act_range, latent_act)
MYR_AGENT_RANGE(latent_sync_agents, sync_one)
/* Same shape as a range function: `flow` is the accumulator array there. */
MYR_AGENT_RANGE(latent_agent_stats_range, latent_agent_stats)

static int latent_legal_fn(const myr_view *v, int64_t i, uint8_t *mask) { return latent_legal(v, i, mask); }

static void latent_features_fn(const myr_view *v, int64_t i, float *out) { latent_features(v, i, out); }

static void latent_finish_stats(const myr_view *v, const int64_t *acc, const int64_t *flow, double *out) {
  (void)v;
  int64_t n = acc[LATENT_ACC_COUNT], steps = flow[LATENT_FLOW_AGENT_STEPS];
  out[LATENT_STAT_MEAN_REWARD] = steps > 0 ? (double)flow[LATENT_FLOW_REWARD] / (double)LATENT_FX / (double)steps : 0.0;
  out[LATENT_STAT_MEAN_ABS] =
      n > 0 ? (double)acc[LATENT_ACC_ABS] / (double)LATENT_FX / ((double)n * LATENT_DIM) : 0.0;
}

/* Planning: the CPU wrappers of myr_model_plan and, in a CUDA build, the launchers of latent.cu. */
static void latent_plan_root_fn(const myr_view *v, int64_t agent, uint8_t *context, uint8_t *state) {
  latent_plan_root(v, agent, context, (latent_plan_state *)state);
}

static void latent_plan_expand_fn(const myr_plan_batch *b, int64_t begin, int64_t end) {
  for (int64_t k = begin; k < end; k++) latent_plan_expand_one(b, k);
}

static int latent_plan_legal_fn(const void *params, const uint8_t *context, const uint8_t *state, uint8_t *mask) {
  return latent_plan_legal((const latent_params *)params, context, (const latent_plan_state *)state, mask);
}

static void latent_plan_features_fn(const void *params, const uint8_t *context, const uint8_t *state, float *row) {
  latent_plan_features((const latent_params *)params, context, (const latent_plan_state *)state, row);
}

_Static_assert(sizeof(latent_plan_state) <= MYR_PLAN_MAX_STATE, "latent plan state too large");

MYR_DECLARE_PLAN_CUDA(latent);

static const myr_model_plan latent_plan = {
    .context_bytes = 0,
    .state_bytes = (int)sizeof(latent_plan_state),
    .n_features = LATENT_FEATURES,
    .root = latent_plan_root_fn,
    .expand = latent_plan_expand_fn,
    .legal = latent_plan_legal_fn,
    .features = latent_plan_features_fn,
    .expand_cuda = MYR_PLAN_EXPAND_CUDA(latent),
    .root_cuda = MYR_PLAN_ROOT_CUDA(latent),
};

#define P(field) offsetof(latent_params, field)
static const myr_param_desc latent_param_table[] = {
    {.name = "w_scale", .type = MYR_P_FLOAT, .def = 0.5, .min = 0.0, .max = 100.0, .offset = P(w_scale),
     .doc = "entries of the action matrix W are uniform in [-w_scale, w_scale)"},
    {.name = "w_seed", .type = MYR_P_INT, .def = 1, .min = 0, .max = 4294967295.0, .offset = P(w_seed),
     .doc = "seed of the action matrix W (the task); run.seed draws the initial states"},
};
#undef P

static const myr_column_desc latent_columns[LATENT_COLUMNS] = {
    [LATENT_S] = {"s", MYR_F32, LATENT_DIM, MYR_PERSISTENT, "latent state, 16 components in [-1, 1]"},
};

static const myr_stat_desc latent_stats[LATENT_STATS] = {
    [LATENT_STAT_MEAN_REWARD] = {"mean_reward",
                                 "reward 0.01 * mean(s') per agent-step, averaged since the previous record"},
    [LATENT_STAT_MEAN_ABS] = {"mean_abs_s", "mean |s| over the components of the alive agents"},
};

static const char *const latent_action_names[LATENT_ACTIONS] = {"a0", "a1", "a2", "a3", "a4",
                                                                "a5", "a6", "a7", "a8"};

MYR_DECLARE_MODEL_CUDA(latent);

const myr_model myr_model_latent = {
    .name = "latent",
    .summary = "MCTS benchmark: a 16-float latent state per agent, s' = tanh(0.9 s + W[a]), reward 0.01 mean(s')",
    .params_size = sizeof(latent_params),
    .params = latent_param_table,
    .n_params = (int)(sizeof latent_param_table / sizeof latent_param_table[0]),
    .setup = latent_setup,
    .columns = latent_columns,
    .n_columns = LATENT_COLUMNS,
    .layers = NULL,
    .n_layers = 0,
    .stats = latent_stats,
    .n_stats = LATENT_STATS,
    .n_acc = LATENT_ACCS,
    .n_flows = LATENT_FLOWS,
    .init_cells = NULL,
    .init_agents = latent_init_agents,
    .n_actions = LATENT_ACTIONS,
    .action_names = latent_action_names,
    .n_features = LATENT_FEATURES,
    .legal = latent_legal_fn,
    .features = latent_features_fn,
    .heuristic = latent_heuristic,
    .act = latent_act_range,
    .sync_cells_begin = NULL,
    .sync_agents = latent_sync_agents,
    .birth = NULL,
    .sync_cells_end = NULL,
    .agent_stats = latent_agent_stats_range,
    .cell_stats = NULL,
    .finish_stats = latent_finish_stats,
    .cuda = MYR_MODEL_CUDA(latent),
    .plan = &latent_plan,
};
