/* movement: the CPU range functions over the per-agent logic of movement.h, the parameter,
 * column and statistic tables, and the descriptor myr_model_movement (registered in
 * models/registry.def). Rules and parameters: README.md. */
#include <stddef.h>

#include "models/model.h"             /* myr_model, MYR_AGENT_RANGE */
#include "models/movement/movement.h" /* per-agent logic */

static void init_one(const myr_view *v, int64_t i, int64_t *flow) {
  (void)flow;
  movement_init_agent(v, i);
}

static void decide_one(const myr_view *v, int64_t i, int64_t *flow) {
  (void)flow;
  v->action[i] = (uint8_t)movement_decide(v, i);
}

/* Nothing dies and nothing is born. */
static void sync_one(const myr_view *v, int64_t i, int64_t *flow) {
  (void)flow;
  v->children[i] = 0;
}

MYR_AGENT_RANGE(movement_init_agents, init_one)
MYR_AGENT_RANGE(movement_heuristic, decide_one)
MYR_AGENT_RANGE(movement_act_range, movement_act)
MYR_AGENT_RANGE(movement_sync_agents, sync_one)
/* Same shape as a range function: `flow` is the accumulator array there. */
MYR_AGENT_RANGE(movement_agent_stats_range, movement_agent_stats)

static void movement_finish_stats(const myr_view *v, const int64_t *acc, const int64_t *flow, double *out) {
  (void)v;
  int64_t n = acc[MOVEMENT_ACC_COUNT], steps = flow[MOVEMENT_FLOW_AGENT_STEPS];
  out[MOVEMENT_STAT_MEAN_X] = n > 0 ? (double)acc[MOVEMENT_ACC_X] / (double)n : 0.0;
  out[MOVEMENT_STAT_MEAN_Y] = n > 0 ? (double)acc[MOVEMENT_ACC_Y] / (double)n : 0.0;
  out[MOVEMENT_STAT_MOVED_FRACTION] = steps > 0 ? (double)flow[MOVEMENT_FLOW_MOVED] / (double)steps : 0.0;
}

static int movement_legal_fn(const myr_view *v, int64_t i, uint8_t *mask) { return movement_legal(v, i, mask); }

static void movement_features_fn(const myr_view *v, int64_t i, float *out) { movement_features(v, i, out); }

static const myr_param_desc movement_param_table[] = {
    {.name = "persistence", .type = MYR_P_FLOAT, .def = 0.8, .min = 0.0, .max = 1.0,
     .offset = offsetof(movement_params, persistence),
     .doc = "heuristic policy: probability of keeping the current heading (when legal) instead of "
            "a uniformly random legal move"},
};

static const myr_column_desc movement_columns[MOVEMENT_COLUMNS] = {
    [MOVEMENT_X] = {"x", MYR_I32, 1, MYR_PERSISTENT, "cell column, 0 .. width-1"},
    [MOVEMENT_Y] = {"y", MYR_I32, 1, MYR_PERSISTENT, "cell row, 0 .. height-1"},
    [MOVEMENT_HEADING] = {"heading", MYR_U8, 1, MYR_PERSISTENT,
                          "last move that changed the position (1..8 = E NE N NW W SW S SE)"},
};

static const myr_stat_desc movement_stats[MOVEMENT_STATS] = {
    [MOVEMENT_STAT_MEAN_X] = {"mean_x", "mean cell column of the alive agents (no unwrapping)"},
    [MOVEMENT_STAT_MEAN_Y] = {"mean_y", "mean cell row of the alive agents (no unwrapping)"},
    [MOVEMENT_STAT_MOVED_FRACTION] = {"moved_fraction",
                                      "agent-steps that changed position / agent-steps, since the previous record"},
};

static const char *const movement_action_names[MYR_MOVES] = {"stay", "E", "NE", "N", "NW", "W", "SW", "S", "SE"};

MYR_DECLARE_MODEL_CUDA(movement);

static const int movement_position_columns[2] = {MOVEMENT_X, MOVEMENT_Y};

const myr_model myr_model_movement = {
    .name = "movement",
    .summary = "agents walk on the grid (9 moves); random walk or correlated random walk",
    .params_size = sizeof(movement_params),
    .params = movement_param_table,
    .n_params = (int)(sizeof movement_param_table / sizeof movement_param_table[0]),
    .setup = NULL,
    .columns = movement_columns,
    .n_columns = MOVEMENT_COLUMNS,
    .layers = NULL,
    .n_layers = 0,
    .stats = movement_stats,
    .n_stats = MOVEMENT_STATS,
    .n_acc = MOVEMENT_ACCS,
    .n_flows = MOVEMENT_FLOWS,
    .init_cells = NULL,
    .init_agents = movement_init_agents,
    .n_actions = MYR_MOVES,
    .action_names = movement_action_names,
    .n_features = MOVEMENT_FEATURES,
    .legal = movement_legal_fn,
    .features = movement_features_fn,
    .heuristic = movement_heuristic,
    .act = movement_act_range,
    .sync_cells_begin = NULL,
    .sync_agents = movement_sync_agents,
    .birth = NULL,
    .sync_cells_end = NULL,
    .agent_stats = movement_agent_stats_range,
    .cell_stats = NULL,
    .finish_stats = movement_finish_stats,
    .cuda = MYR_MODEL_CUDA(movement),
    .position_columns = movement_position_columns,
    .reach = 0, /* walkers read no grid */
    .max_speed = 1,
};
