/* The model interface (DESIGN §6). A model is a folder models/<name>/ holding
 *   - <name>.h: its parameter struct and per-agent logic as MYR_HD static inline functions
 *     over a myr_view (one source for the CPU loop and the CUDA kernels of <name>.cu);
 *   - <name>.c: the CPU range functions and the myr_model descriptor below;
 *   - README.md: rules and parameters; and configs/<name>-*.yaml.
 * It is registered by one line in models/registry.def (or, out of tree, by
 * myr_register_model() before myr_main()). Nothing in sim/ knows a particular model.
 *
 * One step, as the engine (sim/step.c) runs it, on every rank:
 *   decide     actions[i] for each alive agent: policy random (uniform over legal()),
 *              heuristic (heuristic()), network / mcts through features(), legal() and plan
 *   act        act(): move, pay costs, place claims on cells. Reads only the published world
 *              (persistent layers) and the agent's own columns; writes the agent's own
 *              columns and accumulates claims into transient layers with exact integer adds.
 *   sync       every distributed.sync_frequency steps:
 *                sync_cells_begin()  per cell, before agents settle (e.g. totals of claims)
 *                sync_agents()       per agent: settle claims, die (alive = 0), ask for a child
 *                                    (children[i] = 1)
 *                birth()             per child, after the engine has given it a zeroed slot,
 *                                    an id (myr_child_id) and alive = 1; reads and writes the
 *                                    parent's and the child's columns only, never a layer
 *                                    (communication: async runs births during an exchange)
 *                sync_cells_end()    per cell: apply settled claims, regrow; transient data
 *                                    must be back to zero after this. Cell functions read and
 *                                    write their own cell only
 *              then the engine compacts dead agents away and publishes the world.
 *   record     agent_stats() / cell_stats() fill integer accumulators; finish_stats() turns
 *              them into the model's statistics.
 *
 * Every range function handles [begin, end) of agents or cells, is called concurrently on
 * disjoint ranges, and must give the same result whatever the ranges are (no order
 * dependence: integer atomics only, ties broken by id, randomness from myr_rng keyed by id).
 * `flow` points to the model's n_flows int64 counters for this range, zeroed by the caller;
 * the engine adds them up over ranges and over steps until the next record (harvest, births).
 * The view's columns and layers are in the order of the descriptor's tables. */
#ifndef MYR_MODEL_H
#define MYR_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "models/plan.h"
#include "sim/status.h"
#include "sim/view.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { MYR_P_FLOAT, MYR_P_INT, MYR_P_BOOL, MYR_P_ENUM } myr_param_type;

/* A typed model parameter, read from model.params.<name> in YAML. FLOAT fields are double,
 * INT fields int64_t, BOOL and ENUM fields int (ENUM: index into `choices`, "a|b|c"). */
typedef struct myr_param_desc {
  const char *name;
  myr_param_type type;
  double def, min, max; /* default and inclusive range (ENUM/BOOL: def is the index/0/1) */
  const char *choices;  /* ENUM only */
  size_t offset;        /* offsetof(<params struct>, field) */
  const char *doc;
} myr_param_desc;

/* What a model can check about the world it runs in, before anything runs. */
typedef struct myr_world_info {
  int32_t width, height, wrap;
  int32_t sync_frequency;
  int64_t agents;   /* initial count */
  int64_t capacity; /* agent slots */
} myr_world_info;

typedef void (*myr_range_fn)(const myr_view *v, int64_t begin, int64_t end, int64_t *flow);

/* The CUDA half of a model: host launchers of kernels that run the same MYR_HD per-agent and
 * per-cell functions, made in models/<name>/<name>.cu by the macros of models/model_cuda.cuh.
 * `v` holds device pointers; a launcher runs over [0, n) agents or cells on `stream` (a
 * cudaStream_t), adds its counters into the device int64 array `counters` (flows or
 * statistics accumulators; may be NULL when the function has none) and returns the
 * cudaError_t of the launch (0 = success). */
typedef int (*myr_cuda_launcher)(const myr_view *v, int64_t n, int64_t *counters, void *stream);
typedef struct myr_model_cuda {
  myr_cuda_launcher init_cells, init_agents;
  myr_cuda_launcher decide_random, heuristic;
  myr_cuda_launcher act, sync_cells_begin, sync_agents, sync_cells_end;
  /* For each slot i < n with alive[i] and children[i]: the child takes slot first + offset[i]
   * (already zeroed), id myr_child_id(id[i], v->step), alive 1, then the model's birth();
   * children[i] is cleared for every slot. */
  int (*birth)(const myr_view *v, int64_t n, const int32_t *offset, int64_t first, void *stream);
  myr_cuda_launcher agent_stats, cell_stats;
  /* decide and act fused into one pass over each agent (both read only the published world and
   * the agent's own columns, so one agent's two phases can run back to back), for the random
   * and the heuristic policy. When `acc` is not NULL the same pass adds the agent_stats of
   * the new state into it: the backend asks for that only when stats_after_act is 1, i.e. the
   * model's sync never changes agents (no sync_agents kernel). NULL: separate kernels. */
  int (*step_random)(const myr_view *v, int64_t n, int64_t *flow, int64_t *acc, void *stream);
  int (*step_heuristic)(const myr_view *v, int64_t n, int64_t *flow, int64_t *acc, void *stream);
  int stats_after_act;
} myr_model_cuda;

/* In a model's .c: `.cuda = MYR_MODEL_CUDA(name)` after `MYR_DECLARE_MODEL_CUDA(name);` gives
 * the kernels of <name>.cu in a CUDA build and NULL (CPU only) otherwise. */
#ifdef MYRIAD_HAVE_CUDA
#define MYR_DECLARE_MODEL_CUDA(name) extern const myr_model_cuda myr_model_cuda_##name
#define MYR_MODEL_CUDA(name) (&myr_model_cuda_##name)
#else
#define MYR_DECLARE_MODEL_CUDA(name) struct myr__no_cuda_##name
#define MYR_MODEL_CUDA(name) NULL
#endif

typedef struct myr_model {
  const char *name;
  const char *summary;

  /* Parameters: params_size bytes, fields described by params[]. The struct may hold more
   * fields than the table (derived values, e.g. fixed-point conversions, set by setup()). */
  size_t params_size;
  const myr_param_desc *params;
  int n_params;
  /* Checks cross-parameter constraints and fills derived fields. Returns MYR_OK, or an error
   * (MYR_ERR_CONFIG) with a message naming the parameter and what was expected. May be NULL. */
  myr_status (*setup)(void *params, const myr_world_info *world, myr_error *err);

  const myr_column_desc *columns;
  int n_columns;
  const myr_layer_desc *layers;
  int n_layers;

  /* Statistics: finish_stats() writes n_stats doubles from n_acc level accumulators (state
   * now) and n_flows flow counters (summed since the previous record). */
  const myr_stat_desc *stats;
  int n_stats;
  int n_acc;
  int n_flows;

  /* Initial state: ids and alive flags are set; everything else is zero. */
  myr_range_fn init_cells;
  myr_range_fn init_agents;

  /* Decision interface (DESIGN §7). n_actions <= MYR_MAX_ACTIONS. */
  int n_actions;
  const char *const *action_names;
  int n_features;
  /* mask[a] = 1 if action a is legal for agent i; returns the number of legal actions (>= 1). */
  int (*legal)(const myr_view *v, int64_t i, uint8_t *mask);
  /* The observation row of agent i (n_features floats), scaled to about [-1, 1]. */
  void (*features)(const myr_view *v, int64_t i, float *out);
  /* Writes v->action[i] for the alive agents of the range. */
  myr_range_fn heuristic;

  /* The step phases above. sync_cells_begin, birth and sync_cells_end may be NULL. */
  myr_range_fn act;
  myr_range_fn sync_cells_begin;
  myr_range_fn sync_agents;
  void (*birth)(const myr_view *v, int64_t parent, int64_t child);
  myr_range_fn sync_cells_end;

  /* Statistics. acc points to n_acc zeroed accumulators for this range, shared by
   * agent_stats and cell_stats: each fills its own indices of the one array. */
  void (*agent_stats)(const myr_view *v, int64_t begin, int64_t end, int64_t *acc);
  void (*cell_stats)(const myr_view *v, int64_t begin, int64_t end, int64_t *acc);
  /* Runs on the host with a host view: it may read v->params and the world's size only. */
  void (*finish_stats)(const myr_view *v, const int64_t *acc, const int64_t *flow, double *out);

  /* Kernels for the CUDA backend, or NULL: the model then runs on the CPU backend only. */
  const myr_model_cuda *cuda;
  /* For models whose agents read or write the grid around them: the i32 columns holding each
   * agent's cell (x, y). A device backend then sorts agents by cell now and then, so that
   * neighbours sit together in memory (results never depend on slot order). NULL: no sort
   * (it would only cost time, e.g. for walkers that read no grid). */
  const int *cell_columns;

  /* The planning interface for MCTS (models/plan.h), or NULL: the model then decides by the
   * random, heuristic or network policies only. It also defines the reward the trainer learns
   * from (plan_step's, for the action taken: models/plan.h, Rewards). */
  const myr_model_plan *plan;

  /* For distributed.strategy spatial_parallel (partition/), where a rank owns a band of rows
   * or a tile and the agents standing in it: the i32 columns holding each agent's cell (x, y)
   * (NULL: cell_columns); `reach`, the farthest (in cells) an agent reads or writes the grid
   * from its own cell under any policy (neighbourhood, planning patch), along x and y;
   * `max_speed`, the most cells it moves per step along x or y (bands use y; tiles both).
   * max_speed 0: the model runs data_parallel only (e.g. it keeps world-wide counts in a
   * layer, which slabs would split). */
  const int *position_columns;
  int32_t reach, max_speed;

  /* Neighbour queries between agents (sim/neighbours.h). nbr_dims 2 or 3: at the start of
   * every window the engine publishes the f32 columns nbr_columns[0 .. nbr_n_columns) (one
   * component each; the first nbr_dims are the position x, y[, z]) binned by cell, and per-agent
   * code reads them through v->nbr. nbr_space() gives the space from the parameters (after
   * setup). Several ranks: spatial_parallel only, with ghosts (sim/neighbours.h), which needs
   * nbr_space to bound the step (max_step). nbr_dims 0: none. */
  int32_t nbr_dims;
  const int *nbr_columns;
  int32_t nbr_n_columns;
  void (*nbr_space)(const void *params, myr_nbr_space *out);
} myr_model;

#define MYR_MAX_ACTIONS 32
#define MYR_MAX_FEATURES 256
#define MYR_MAX_FLOWS 16
#define MYR_MAX_ACC 16

/* Registry. Built-in models come from models/registry.def; out-of-tree models call
 * myr_register_model() (the pointer must outlive the process's use of the library) before
 * myr_main(). Returns MYR_ERR_MODEL if the name is taken or the descriptor is inconsistent. */
myr_status myr_register_model(const myr_model *m);
const myr_model *myr_find_model(const char *name);
int myr_model_count(void);
const myr_model *myr_model_at(int i);

/* Checks a descriptor's tables against the limits above (used by registration and tests). */
myr_status myr_model_check(const myr_model *m, myr_error *err);

/* Helper for models: defines `static void name(const myr_view *v, int64_t b, int64_t e,
 * int64_t *flow)` that calls `per_agent(v, i, flow)` for each alive agent slot in [b, e). */
#define MYR_AGENT_RANGE(name, per_agent)                                           \
  static void name(const myr_view *v, int64_t b, int64_t e, int64_t *flow) {       \
    for (int64_t i = b; i < e; i++)                                                \
      if (v->alive[i]) per_agent(v, i, flow);                                      \
  }
/* The same over cells: calls `per_cell(v, cell, flow)` for each cell in [b, e). */
#define MYR_CELL_RANGE(name, per_cell)                                             \
  static void name(const myr_view *v, int64_t b, int64_t e, int64_t *flow) {       \
    for (int64_t c = b; c < e; c++) per_cell(v, c, flow);                          \
  }

#ifdef __cplusplus
}
#endif

#endif
