/* The configuration schema (DESIGN §8): one row per key with its type, place in myr_config,
 * default, range and doc. sim/config.c reads, checks and prints configurations from this
 * table alone; adding a key is adding a field to myr_config and a row here. */
#include <stddef.h>

#include "sim/config.h"
#include "sim/config_internal.h"

#define OFF(field) offsetof(myr_config, field)
#define SIZE(field) sizeof(((myr_config *)0)->field)

const myr__key myr__config_keys[] = {
  /* path, type, offset, size, default, min, max, choices, doc */
  {"run.steps", MYR__K_INT, OFF(steps), 0, "1000", 1, 1e12, NULL,
   "steps to simulate"},
  {"run.seed", MYR__K_INT, OFF(seed), 0, "42", 0, 4294967295.0, NULL,
   "seed of every random number; the same config and seed give the same run"},
  {"run.backend", MYR__K_ENUM, OFF(backend), 0, "auto", 0, 0, "auto|cpu|cuda",
   "where agents are stepped; auto = cuda when a GPU is usable, else cpu"},
  {"run.threads", MYR__K_INT, OFF(threads), 0, "0", 0, 4096, NULL,
   "threads of the CPU backend; 0 = all cores"},
  {"run.output", MYR__K_STRING, OFF(output), SIZE(output), "", 0, 0, NULL,
   "HDF5 result file; empty = out/<config file stem>.h5"},
  {"run.record_every", MYR__K_INT, OFF(record_every), 0, "1", 1, 1e12, NULL,
   "record statistics every this many steps"},
  {"run.snapshot_every", MYR__K_INT, OFF(snapshot_every), 0, "0", 0, 1e12, NULL,
   "write agent and grid snapshots every this many steps; 0 = the final state only"},
  {"run.checkpoint_every", MYR__K_INT, OFF(checkpoint_every), 0, "0", 0, 1e12, NULL,
   "write a checkpoint every this many steps, a multiple of distributed.sync_frequency; 0 = none"},
  {"run.progress", MYR__K_BOOL, OFF(progress), 0, "true", 0, 1, NULL,
   "report progress on stderr"},
  {"run.sort_every", MYR__K_INT, OFF(sort_every), 0, "8", 0, 1e12, NULL,
   "GPU: sort agents by cell every N steps, for memory locality (models that read the grid "
   "around them); 0 = never; results never depend on it"},

  {"world.width", MYR__K_INT, OFF(width), 0, "256", 1, 1048576, NULL,
   "grid cells along x; width x height must stay below 2^31"},
  {"world.height", MYR__K_INT, OFF(height), 0, "256", 1, 1048576, NULL,
   "grid cells along y"},
  {"world.wrap", MYR__K_BOOL, OFF(wrap), 0, "true", 0, 1, NULL,
   "true: the world is a torus; false: closed edges"},

  {"agents.count", MYR__K_INT, OFF(count), 0, "10000", 1, 1e12, NULL,
   "agents at the start"},
  {"agents.capacity", MYR__K_INT, OFF(capacity), 0, "0", 0, 1e12, NULL,
   "agent slots allocated (at least agents.count); 0 = 2 x agents.count"},

  {"model.name", MYR__K_MODEL, OFF(model), SIZE(model), "foraging", 0, 0, NULL,
   "the agent model (`myriad models` lists them)"},
  {"model.params", MYR__K_PARAMS, 0, 0, NULL, 0, 0, NULL,
   "the model's parameters (`myriad models NAME` lists them)"},

  {"policy.kind", MYR__K_ENUM, OFF(policy), 0, "heuristic", 0, 0, "random|heuristic",
   "how agents decide: a random legal action, or the model's heuristic"},

  {"distributed.sync_frequency", MYR__K_INT, OFF(sync_frequency), 0, "1", 1, 1000, NULL,
   "steps between publications of the shared world, the sync window"},
};

#define N_KEYS ((int)(sizeof myr__config_keys / sizeof myr__config_keys[0]))
_Static_assert(N_KEYS <= MYR__MAX_CONFIG_KEYS, "raise MYR__MAX_CONFIG_KEYS");
const int myr__n_config_keys = N_KEYS;
