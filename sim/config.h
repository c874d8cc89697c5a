/* Configuration (DESIGN §8): YAML read with libyaml into a typed struct through one schema
 * table (sim/config_schema.c): key path, type, default, range, doc. Model parameters
 * (model.params.*) are checked against the chosen model's parameter table.
 *
 * Errors name the place (file:line:column, or the --set argument), the key path and what was
 * expected, and return MYR_ERR_CONFIG; nothing has been run or written then. */
#ifndef MYR_CONFIG_H
#define MYR_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "models/model.h"
#include "sim/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MYR_PATH_MAX 1024

typedef enum { MYR_BACKEND_AUTO, MYR_BACKEND_CPU, MYR_BACKEND_CUDA } myr_backend_kind;

/* A list of integers from YAML (e.g. network.hidden: [128, 128]; one weight per rank). */
#define MYR_INT_LIST_MAX 1024
typedef struct myr_int_list {
  int n;
  int64_t v[MYR_INT_LIST_MAX];
} myr_int_list;
/* A list of names from YAML (distributed.regions: [west, east]): letters, digits, '_', '-', '.'. */
#define MYR_NAME_LIST_MAX 64
#define MYR_NAME_MAX 32 /* bytes of a name, its terminating 0 included */
typedef struct myr_name_list {
  int n;
  char name[MYR_NAME_LIST_MAX][MYR_NAME_MAX];
} myr_name_list;
typedef enum { MYR_STRATEGY_DATA_PARALLEL, MYR_STRATEGY_SPATIAL_PARALLEL } myr_strategy;
typedef enum { MYR_BALANCE_EVEN, MYR_BALANCE_PROPORTIONAL, MYR_BALANCE_DYNAMIC } myr_balance;
typedef enum { MYR_COMM_SYNC, MYR_COMM_ASYNC } myr_communication;
typedef enum { MYR_POLICY_RANDOM, MYR_POLICY_HEURISTIC, MYR_POLICY_NETWORK, MYR_POLICY_MCTS } myr_policy_kind;

/* policy.mcts.*, as read (search/ turns it into a myr_mcts_config). */
typedef struct myr_mcts_settings {
  int algorithm;             /* 0 muzero, 1 gumbel */
  int64_t simulations, max_depth, leaves_per_wave;
  double discount;
  double pb_c_init, pb_c_base, dirichlet_alpha, dirichlet_fraction, temperature;
  int64_t max_considered_actions;
  double gumbel_scale, c_visit, c_scale;
  int64_t root_trees;
  int result_merge;          /* value_sum | visit_weighted | max_value */
  int simulation_allocation; /* equal | proportional | adaptive */
  int64_t rollout_depth, chunk;
} myr_mcts_settings;

/* train.*, as read (search/trainer.c turns it into a myr_train_config). */
typedef struct myr_train_settings {
  int enabled;
  int64_t interval, updates, batch_size, shards;
  double lr;
  int schedule;              /* 0 constant, 1 cosine, 2 step */
  int64_t schedule_steps, warmup;
  double lr_min, gamma;
  double value_weight, l2, clip;
  int64_t n_step;
  double samples_per_step;
  int64_t replay_capacity;
} myr_train_settings;

typedef struct myr_config {
  /* run */
  int64_t steps;
  int64_t seed;          /* 0 .. 2^32-1 */
  int backend;           /* myr_backend_kind */
  int64_t threads;       /* OpenMP threads for the CPU backend; 0 = all cores */
  char output[MYR_PATH_MAX]; /* "" = out/<config file stem>.h5 */
  int64_t record_every;
  int64_t snapshot_every;   /* 0 = only the final state */
  int64_t checkpoint_every; /* 0 = none; a multiple of distributed.sync_frequency */
  int progress;             /* 1: progress on stderr */
  int64_t sort_every;       /* GPU: steps between sorts of agents by cell; 0 = never */
  int64_t gpus;             /* CUDA backend: GPUs (ranks) driven by this process; 0 = all */
  int final_state;          /* 1: final snapshot and state hash (the whole state on one host) */
  /* world */
  int64_t width, height;
  int wrap;
  /* agents */
  int64_t count;
  int64_t capacity;      /* 0 = 2 x count */
  /* model */
  char model[64];
  const myr_model *model_desc; /* resolved from `model` */
  void *model_params;          /* model_desc->params_size bytes, owned by the config */
  /* policy */
  int policy;            /* myr_policy_kind */
  int policy_sample;     /* network policy: 1 sample the prior, 0 its most likely action */
  myr_mcts_settings mcts;
  /* network */
  myr_int_list hidden;
  char network_init[MYR_PATH_MAX]; /* "random" or the path of a saved network (HDF5) */
  int network_precision;           /* myr_net_precision (search/net.h): 0 fp32, 1 bf16 */
  char network_save[MYR_PATH_MAX]; /* "" or where the final network is written (HDF5) */
  /* train */
  myr_train_settings train;
  /* distributed */
  int64_t sync_frequency;
  int64_t ranks;              /* CPU backend: ranks (threads with their own agents) in this process */
  int strategy;               /* myr_strategy */
  int balance;                /* myr_balance */
  int communication;          /* myr_communication */
  myr_int_list device_weights; /* balance proportional: one relative weight per rank */
  myr_int_list grid;           /* spatial_parallel: [px, py] tiles; py 0 = ranks / px ([1, 0]: bands) */
  myr_name_list regions;       /* spatial_parallel: a name for each rank's band or tile, in rank order; n 0 = none */
  int64_t rebalance_interval;  /* balance dynamic: steps between rebalances (at a sync) */
  double baseline_rate;        /* agent-steps/s of a one-rank run, for the scaling efficiency; 0 = none */

  /* Provenance: the file's path and text as given (kept in output /meta), and the --set
   * overrides, applied in order. */
  char path[MYR_PATH_MAX];
  char *yaml_text;
  char **overrides;
  int n_overrides;
} myr_config;

/* Reads and checks `path`, then applies the `n_set` overrides "a.b=value" (each checked like
 * the file). On success *cfg is filled and owns its allocations (myr_config_free). On failure
 * *cfg is left freed and err says what and where. `path` may be NULL: defaults plus overrides. */
myr_status myr_config_load(myr_config *cfg, const char *path, char *const *set, int n_set,
                           myr_error *err);
/* The same from YAML text in memory; `name` is used in error locations. */
myr_status myr_config_load_text(myr_config *cfg, const char *name, const char *text,
                                char *const *set, int n_set, myr_error *err);
void myr_config_free(myr_config *cfg);

/* Prints every key with its default as commented YAML (`myriad config --defaults`); with a
 * model, its parameters under model.params; with NULL, the default model's (foraging), and
 * the other models' names in a comment. */
void myr_config_print_defaults(FILE *out, const myr_model *model);
/* Prints the resolved configuration as YAML (`myriad validate`, /meta/config_resolved). */
void myr_config_print(FILE *out, const myr_config *cfg);
/* The same into a malloc'd string (caller frees). */
char *myr_config_to_yaml(const myr_config *cfg);
/* Prints one model's parameters with types, defaults, ranges and docs (`myriad models NAME`). */
void myr_model_print_params(FILE *out, const myr_model *m);

/* The agent capacity actually used (capacity, or 2 x count when 0). */
int64_t myr_config_capacity(const myr_config *cfg);
const char *myr_backend_name(int backend);
const char *myr_policy_name(int policy);

#ifdef __cplusplus
}
#endif

#endif
