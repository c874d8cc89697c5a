/* opinion: the CPU range functions over the per-agent logic of opinion.h, the parameter,
 * column, layer and statistic tables, and the descriptor `opinion_model` that main.c
 * registers. Rules and parameters: README.md. */
#include "opinion.h"

#include <stddef.h>
#include <stdint.h>

#include "models/model.h" /* myr_model, myr_param_desc, MYR_AGENT_RANGE, MYR_CELL_RANGE */

/* ---- range functions: thin loops over the MYR_HD per-agent functions ---- */

static void init_one(const myr_view *v, int64_t i, int64_t *flow) {
  (void)flow;
  opinion_init_agent(v, i);
}

static void init_cell_one(const myr_view *v, int64_t c, int64_t *flow) {
  (void)flow;
  opinion_init_cell(v, c);
}

static void decide_one(const myr_view *v, int64_t i, int64_t *flow) {
  (void)flow;
  v->action[i] = (uint8_t)opinion_decide(v, i);
}

MYR_AGENT_RANGE(opinion_init_agents, init_one)
MYR_CELL_RANGE(opinion_init_cells, init_cell_one)
MYR_AGENT_RANGE(opinion_heuristic, decide_one)
MYR_AGENT_RANGE(opinion_act_range, opinion_act)
MYR_AGENT_RANGE(opinion_sync_agents, opinion_settle)
MYR_CELL_RANGE(opinion_sync_cells_end, opinion_publish)
/* Statistics have the shape of range functions: `flow` is the accumulator array there. */
MYR_AGENT_RANGE(opinion_agent_stats_range, opinion_agent_stats)
MYR_CELL_RANGE(opinion_cell_stats_range, opinion_cell_stats)

static int opinion_legal_fn(const myr_view *v, int64_t i, uint8_t *mask) { return opinion_legal(v, i, mask); }

static void opinion_features_fn(const myr_view *v, int64_t i, float *out) { opinion_features(v, i, out); }

static double ratio(int64_t num, int64_t den) { return den > 0 ? (double)num / (double)den : 0.0; }

static void opinion_finish_stats(const myr_view *v, const int64_t *acc, const int64_t *flow, double *out) {
  (void)v;
  out[OPINION_STAT_SHARE] = ratio(acc[OPINION_ACC_ONES], acc[OPINION_ACC_AGENTS]);
  out[OPINION_STAT_SWITCH_RATE] = ratio(flow[OPINION_FLOW_SWITCHES], flow[OPINION_FLOW_SETTLED]);
  out[OPINION_STAT_MIXED_CELLS] = ratio(acc[OPINION_ACC_MIXED], acc[OPINION_ACC_VISITED]);
  out[OPINION_STAT_MOVED] = ratio(flow[OPINION_FLOW_MOVED], flow[OPINION_FLOW_AGENT_STEPS]);
}

/* ---- setup: derived fields and checks that involve the world ---- */

/* p in [0, 1] as a threshold for a uniform u32: P(u32 < q) = q / 2^32 = p (p = 1 gives 2^32). */
static uint64_t threshold(double p) { return (uint64_t)(p * 4294967296.0 + 0.5); }

static myr_status opinion_setup(void *params, const myr_world_info *world, myr_error *err) {
  opinion_params *p = (opinion_params *)params;
  /* The tallies are u32: one cell can hold every agent for a whole window. */
  if (world->agents > 0 && (uint64_t)world->agents * (uint64_t)world->sync_frequency > UINT32_MAX)
    return myr_fail(err, MYR_ERR_CONFIG,
                    "model opinion: agents.count x distributed.sync_frequency = %lld x %d must stay "
                    "below 2^32 (the per-cell tallies are 32-bit)",
                    (long long)world->agents, (int)world->sync_frequency);
  p->initial_q = threshold(p->initial_share);
  p->conformity_q = threshold(p->conformity);
  p->noise_q = threshold(p->noise);
  p->homophily_q = threshold(p->homophily);
  return MYR_OK;
}

/* ---- tables ---- */

static const myr_param_desc opinion_param_table[] = {
    {.name = "initial_share", .type = MYR_P_FLOAT, .def = 0.5, .min = 0.0, .max = 1.0,
     .offset = offsetof(opinion_params, initial_share),
     .doc = "fraction of agents that hold opinion 1 at the start (each independently)"},
    {.name = "conformity", .type = MYR_P_FLOAT, .def = 0.5, .min = 0.0, .max = 1.0,
     .offset = offsetof(opinion_params, conformity),
     .doc = "probability, at each sync, that an agent takes its opinion from its cell's tally"},
    {.name = "majority", .type = MYR_P_BOOL, .def = 0,
     .offset = offsetof(opinion_params, majority),
     .doc = "true: a conforming agent takes the majority of its cell (a tie keeps its own); "
            "false: it copies one visit of the window drawn at random (the voter rule)"},
    {.name = "noise", .type = MYR_P_FLOAT, .def = 0.01, .min = 0.0, .max = 1.0,
     .offset = offsetof(opinion_params, noise),
     .doc = "probability, at each sync, that an agent flips its opinion afterwards"},
    {.name = "homophily", .type = MYR_P_FLOAT, .def = 0.5, .min = 0.0, .max = 1.0,
     .offset = offsetof(opinion_params, homophily),
     .doc = "heuristic policy: probability of walking to the neighbouring cell that agrees most "
            "with the agent's opinion instead of a uniformly random legal move"},
};

static const myr_column_desc opinion_columns[OPINION_COLUMNS] = {
    [OPINION_X] = {"x", MYR_I32, 1, MYR_PERSISTENT, "cell column, 0 .. width-1"},
    [OPINION_Y] = {"y", MYR_I32, 1, MYR_PERSISTENT, "cell row, 0 .. height-1"},
    [OPINION_OPINION] = {"opinion", MYR_U8, 1, MYR_PERSISTENT, "the agent's opinion, 0 or 1"},
};

static const myr_layer_desc opinion_layers[OPINION_LAYERS] = {
    [OPINION_SHARE] = {"share", MYR_I32, MYR_PERSISTENT,
                       "published share of opinion 1 among the cell's visits in the last window, per "
                       "mille; -1 if nobody stood there"},
    [OPINION_VISITS] = {"visits", MYR_U32, MYR_TRANSIENT, "agent-steps spent on the cell in this window"},
    [OPINION_VOTES] = {"votes", MYR_U32, MYR_TRANSIENT, "those of the visits made by agents holding opinion 1"},
};

static const myr_stat_desc opinion_stats[OPINION_STATS] = {
    [OPINION_STAT_SHARE] = {"share_one", "fraction of the agents holding opinion 1"},
    [OPINION_STAT_SWITCH_RATE] = {"switch_rate", "opinion changes per agent and sync, since the previous record"},
    [OPINION_STAT_MIXED_CELLS] = {"mixed_cells",
                                  "cells visited in the last window whose published share lies strictly "
                                  "between 0 and 1000 per mille / cells visited"},
    [OPINION_STAT_MOVED] = {"moved_fraction", "agent-steps that changed position / agent-steps, since the previous record"},
};

static const char *const opinion_action_names[MYR_MOVES] = {"stay", "E", "NE", "N", "NW", "W", "SW", "S", "SE"};

/* The descriptor. Every field of myr_model is named so that a reader sees which are unused. */
const myr_model opinion_model = {
    .name = "opinion",
    .summary = "voter model: walkers tally their opinion into cells and adopt opinions from them at sync",
    .params_size = sizeof(opinion_params),
    .params = opinion_param_table,
    .n_params = (int)(sizeof opinion_param_table / sizeof opinion_param_table[0]),
    .setup = opinion_setup,
    .columns = opinion_columns,
    .n_columns = OPINION_COLUMNS,
    .layers = opinion_layers,
    .n_layers = OPINION_LAYERS,
    .stats = opinion_stats,
    .n_stats = OPINION_STATS,
    .n_acc = OPINION_ACCS,
    .n_flows = OPINION_FLOWS,
    .init_cells = opinion_init_cells,
    .init_agents = opinion_init_agents,
    .n_actions = MYR_MOVES,
    .action_names = opinion_action_names,
    .n_features = OPINION_FEATURES,
    .legal = opinion_legal_fn,
    .features = opinion_features_fn,
    .heuristic = opinion_heuristic,
    .act = opinion_act_range,
    .sync_cells_begin = NULL,
    .sync_agents = opinion_sync_agents,
    .birth = NULL,
    .sync_cells_end = opinion_sync_cells_end,
    .agent_stats = opinion_agent_stats_range,
    .cell_stats = opinion_cell_stats_range,
    .finish_stats = opinion_finish_stats,
};
