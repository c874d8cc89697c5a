/* The configuration schema (DESIGN §8): one row per key with its type, place in myr_config,
 * default, range and doc. sim/config.c reads, checks and prints configurations from this
 * table alone; adding a key is adding a field to myr_config and a row here. */
#include <stddef.h>

#include "sim/config.h"
#include "sim/config_internal.h"
#include "search/net.h" /* MYR_NET_MAX_LAYERS: network.hidden's most layers */

#define OFF(field) offsetof(myr_config, field)
#define SIZE(field) sizeof(((myr_config *)0)->field)

const myr__key myr__config_keys[] = {
  /* path, type, offset, size (strings: bytes; integer lists: most items, 0 = MYR_INT_LIST_MAX),
   * default, min, max, choices, doc */
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
  {"run.gpus", MYR__K_INT, OFF(gpus), 0, "1", 0, 1024, NULL,
   "CUDA backend: GPUs this process drives, one rank each (results never depend on it); "
   "0 = all; under mpirun each process takes one GPU"},
  {"run.final_state", MYR__K_BOOL, OFF(final_state), 0, "true", 0, 1, NULL,
   "write the final snapshot and the state hash; both need the whole state in one host's memory, so "
   "turn it off for runs larger than that"},

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

  {"policy.kind", MYR__K_ENUM, OFF(policy), 0, "heuristic", 0, 0, "random|heuristic|network|mcts",
   "how agents decide: a random legal action, the model's heuristic, the network's prior, or "
   "batched tree search (the model must have a planning interface)"},
  {"policy.sample", MYR__K_BOOL, OFF(policy_sample), 0, "true", 0, 1, NULL,
   "network policy: sample the prior over legal actions (true) or take its most likely action"},
  {"policy.mcts.algorithm", MYR__K_ENUM, OFF(mcts.algorithm), 0, "gumbel", 0, 0, "muzero|gumbel",
   "root and interior rules: muzero (PUCT, Dirichlet noise, visit counts) or gumbel (Gumbel-top-k, "
   "sequential halving, completed Q)"},
  {"policy.mcts.simulations", MYR__K_INT, OFF(mcts.simulations), 0, "32", 1, 4096, NULL,
   "simulations per agent (node slots per tree = simulations + 1)"},
  {"policy.mcts.max_depth", MYR__K_INT, OFF(mcts.max_depth), 0, "8", 0, 4096, NULL,
   "deepest node below the root; 0 = no limit"},
  {"policy.mcts.leaves_per_wave", MYR__K_INT, OFF(mcts.leaves_per_wave), 0, "1", 1, 64, NULL,
   "leaves expanded per tree per wave (virtual loss keeps them apart when > 1)"},
  {"policy.mcts.discount", MYR__K_FLOAT, OFF(mcts.discount), 0, "0.97", 0, 1, NULL,
   "discount of rewards along a search path"},
  {"policy.mcts.pb_c_init", MYR__K_FLOAT, OFF(mcts.pb_c_init), 0, "1.25", 0, 100, NULL,
   "muzero: PUCT exploration constant"},
  {"policy.mcts.pb_c_base", MYR__K_FLOAT, OFF(mcts.pb_c_base), 0, "19652", 1, 1e9, NULL,
   "muzero: PUCT visit scale"},
  {"policy.mcts.dirichlet_alpha", MYR__K_FLOAT, OFF(mcts.dirichlet_alpha), 0, "0.3", 0.001, 100, NULL,
   "muzero: Dirichlet noise concentration at the root"},
  {"policy.mcts.dirichlet_fraction", MYR__K_FLOAT, OFF(mcts.dirichlet_fraction), 0, "0.25", 0, 1, NULL,
   "muzero: weight of the noise in the root prior; 0 = none"},
  {"policy.mcts.temperature", MYR__K_FLOAT, OFF(mcts.temperature), 0, "1", 0, 100, NULL,
   "muzero: action ~ visits^(1/temperature); 0 = the most visited"},
  {"policy.mcts.max_considered_actions", MYR__K_INT, OFF(mcts.max_considered_actions), 0, "16", 1, 32, NULL,
   "gumbel: actions sampled at the root for sequential halving"},
  {"policy.mcts.gumbel_scale", MYR__K_FLOAT, OFF(mcts.gumbel_scale), 0, "1", 0, 100, NULL,
   "gumbel: scale of the root's Gumbel noise; 0 = deterministic"},
  {"policy.mcts.c_visit", MYR__K_FLOAT, OFF(mcts.c_visit), 0, "50", 0, 1e6, NULL,
   "gumbel: sigma(q) = (c_visit + max visits) * c_scale * q"},
  {"policy.mcts.c_scale", MYR__K_FLOAT, OFF(mcts.c_scale), 0, "0.1", 0, 1e6, NULL,
   "gumbel: see c_visit"},
  {"policy.mcts.root_trees", MYR__K_INT, OFF(mcts.root_trees), 0, "1", 1, 64, NULL,
   "root parallelism: trees per agent"},
  {"policy.mcts.result_merge", MYR__K_ENUM, OFF(mcts.result_merge), 0, "value_sum", 0, 0,
   "value_sum|visit_weighted|max_value", "how the root trees of one agent are merged"},
  {"policy.mcts.simulation_allocation", MYR__K_ENUM, OFF(mcts.simulation_allocation), 0, "equal", 0, 0,
   "equal|proportional|adaptive", "how an agent's simulations are split over its root trees"},
  {"policy.mcts.rollout_depth", MYR__K_INT, OFF(mcts.rollout_depth), 0, "0", 0, 1000, NULL,
   "leaf values: 0 = the network's value; d > 0 = random rollouts of d steps (no network)"},
  {"policy.mcts.chunk", MYR__K_INT, OFF(mcts.chunk), 0, "0", 0, 1e12, NULL,
   "agents searched at a time, to bound memory; 0 = all (results never depend on it)"},

  {"network.hidden", MYR__K_INTLIST, OFF(hidden), MYR_NET_MAX_LAYERS - 1, "[128, 128]", 1, 1024, NULL,
   "hidden layer widths of the policy-value MLP"},
  {"network.init", MYR__K_STRING, OFF(network_init), SIZE(network_init), "random", 0, 0, NULL,
   "the network's weights: random (from run.seed) or the path of a saved network (.h5)"},
  {"network.precision", MYR__K_ENUM, OFF(network_precision), 0, "fp32", 0, 0, "fp32|bf16",
   "the forward pass: fp32 (CPU and GPU give the same bits) or bf16 (weights and activations rounded "
   "to bf16, fp32 sums; GPU tensor cores, compute capability 8.0+, layers of at most 256 units)"},
  {"network.save", MYR__K_STRING, OFF(network_save), SIZE(network_save), "", 0, 0, NULL,
   "also write the final network to this HDF5 file (a result file holds it too, under /network); "
   "empty = no extra file"},

  {"train.enabled", MYR__K_BOOL, OFF(train.enabled), 0, "false", 0, 1, NULL,
   "learn while the run goes: search results become samples, the network is updated (needs policy.kind: mcts "
   "with a network)"},
  {"train.interval", MYR__K_INT, OFF(train.interval), 0, "10", 1, 1e12, NULL,
   "steps between training phases (after step s when s % interval == 0)"},
  {"train.updates", MYR__K_INT, OFF(train.updates), 0, "1", 1, 1e6, NULL,
   "updates per training phase; none while the replay holds fewer than batch_size samples"},
  {"train.batch_size", MYR__K_INT, OFF(train.batch_size), 0, "256", 1, 16777216, NULL,
   "samples per update, drawn with replacement from the replay by the counter RNG (seed, update index)"},
  {"train.shards", MYR__K_INT, OFF(train.shards), 0, "8", 1, 4096, NULL,
   "virtual shards per batch (gradients summed in shard order; at most batch_size): fixed whatever the worker "
   "count"},
  {"train.lr", MYR__K_FLOAT, OFF(train.lr), 0, "0.001", 1e-12, 10, NULL,
   "peak learning rate of Adam"},
  {"train.schedule", MYR__K_ENUM, OFF(train.schedule), 0, "constant", 0, 0, "constant|cosine|step",
   "learning-rate schedule over updates applied (search/train.h)"},
  {"train.schedule_steps", MYR__K_INT, OFF(train.schedule_steps), 0, "10000", 1, 1e12, NULL,
   "cosine: updates to reach lr_min; step: updates between factors of gamma"},
  {"train.lr_min", MYR__K_FLOAT, OFF(train.lr_min), 0, "0", 0, 10, NULL,
   "cosine: the floor of the learning rate (at most lr)"},
  {"train.gamma", MYR__K_FLOAT, OFF(train.gamma), 0, "0.5", 1e-9, 1, NULL,
   "step: factor applied every schedule_steps updates"},
  {"train.warmup", MYR__K_INT, OFF(train.warmup), 0, "0", 0, 1e12, NULL,
   "linear warmup over this many updates; 0 = none"},
  {"train.value_weight", MYR__K_FLOAT, OFF(train.value_weight), 0, "1", 0, 1e6, NULL,
   "weight of the value MSE in the loss (policy cross-entropy has weight 1)"},
  {"train.l2", MYR__K_FLOAT, OFF(train.l2), 0, "0.0001", 0, 10, NULL,
   "weight of sum w^2 over the weights (not biases) in the loss"},
  {"train.clip", MYR__K_FLOAT, OFF(train.clip), 0, "1", 0, 1e9, NULL,
   "global gradient-norm clipping threshold; 0 = off"},
  {"train.n_step", MYR__K_INT, OFF(train.n_step), 0, "5", 1, 1000, NULL,
   "value target: discounted rewards of this many real steps plus the discounted root value after them "
   "(policy.mcts.discount); death ends it early with no bootstrap"},
  {"train.samples_per_step", MYR__K_FLOAT, OFF(train.samples_per_step), 0, "256", 0, 1e12, NULL,
   "expected samples taken per step over the whole population: each alive agent is taken with probability "
   "min(1, samples_per_step / population)"},
  {"train.replay_capacity", MYR__K_INT, OFF(train.replay_capacity), 0, "65536", 1, 2147483647.0, NULL,
   "samples the replay ring keeps (the newest, in the global order step, agent id)"},

  {"distributed.sync_frequency", MYR__K_INT, OFF(sync_frequency), 0, "1", 1, 1000, NULL,
   "steps between publications of the shared world, the sync window"},
  {"distributed.ranks", MYR__K_INT, OFF(ranks), 0, "1", 1, 1024, NULL,
   "CPU backend: ranks in this process, each a thread team with its own agents (results never "
   "depend on it); under mpirun each process is one rank"},
  {"distributed.strategy", MYR__K_ENUM, OFF(strategy), 0, "data_parallel", 0, 0, "data_parallel|spatial_parallel",
   "how agents are split over ranks: data_parallel = contiguous id ranges, grid replicated; spatial_parallel = "
   "bands of rows (cut like balance says) or tiles (distributed.grid), each rank holding the agents in its band "
   "or tile and a halo"},
  {"distributed.balance", MYR__K_ENUM, OFF(balance), 0, "even", 0, 0, "even|proportional|dynamic",
   "agents per rank: even, proportional to distributed.device_weights, or dynamic (CPU or GPU ranks, "
   "threads or mpirun processes: start like proportional when weights are given, else even, then every rebalance_interval "
   "steps move toward equal compute times: data_parallel moves agents between neighbouring ranks, "
   "spatial_parallel moves the band boundaries (tiles: the cuts of columns and rows), every band "
   "at least a halo thick; results never change)"},
  {"distributed.device_weights", MYR__K_INTLIST, OFF(device_weights), 0, "[1]", 1, 1000000, NULL,
   "balance proportional (and dynamic's start): one relative weight per rank (e.g. [3, 2] puts 60% of the "
   "agents, or of the rows of spatial_parallel's bands, on rank 0; tiles: each band of columns and of rows "
   "takes the summed weights of its ranks)"},
  {"distributed.grid", MYR__K_INTLIST, OFF(grid), 0, "[1, 0]", 0, 1048576, NULL,
   "spatial_parallel: [px, py] cuts the world into px columns x py rows of tiles, rank r owning the tile "
   "(r % px, r / px) with a halo on every side, corners included; px x py must be the rank count, py 0 = ranks "
   "/ px. The default [1, 0] (= [1, ranks]) gives bands of rows; bands and tiles are cut as balance says (tiles: "
   "each band of columns and of rows by the summed weights of its ranks), on CPU or GPU ranks (threads or mpirun "
   "processes), each tile at least a halo wide and tall (results never change)"},
  {"distributed.regions", MYR__K_NAMELIST, OFF(regions), 0, "[]", 0, 0, NULL,
   "spatial_parallel: a name for each rank's band or tile, in rank order (e.g. [west, central, east]), shown in "
   "the end-of-run table and stored as /perf/<rank>/region; as many names as ranks, or none"},
  {"distributed.communication", MYR__K_ENUM, OFF(communication), 0, "sync", 0, 0, "sync|async",
   "spatial_parallel: sync waits for each exchange of a sync before going on; async goes on with the work the "
   "exchange cannot change while it is in flight (cell functions on the cells further than the halo from the "
   "tile's edges, births, the compaction; on GPU ranks also the migration) and waits where it must; results "
   "never change"},
  {"distributed.rebalance_interval", MYR__K_INT, OFF(rebalance_interval), 0, "100", 1, 1e12, NULL,
   "balance dynamic: steps between rebalances, taken at the first sync after each interval; each rank's rate "
   "(agent-steps per second of its own compute) since the last one sets its share, and differences under 5% "
   "of a rank's mean share are left alone"},
  {"distributed.baseline_rate", MYR__K_FLOAT, OFF(baseline_rate), 0, "0", 0, 1e18, NULL,
   "agent-steps/s of a one-rank run of this config: the end-of-run table and /perf then give the scaling "
   "efficiency; 0 = none"},
};

#define N_KEYS ((int)(sizeof myr__config_keys / sizeof myr__config_keys[0]))
_Static_assert(N_KEYS <= MYR__MAX_CONFIG_KEYS, "raise MYR__MAX_CONFIG_KEYS");
const int myr__n_config_keys = N_KEYS;
