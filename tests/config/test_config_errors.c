/* Bad configurations: each case is YAML written to a real temp file (and/or --set arguments);
 * loading must fail with MYR_ERR_CONFIG, a message that starts with exactly the expected place
 * ("<file>:<line>:<column>: " or "--set <arg>: "), names the key path and, where given, one
 * more expected piece of text; the struct is left zeroed. File cases are also loaded through
 * myr_config_load_text with the same name, which must give the same message.
 *
 * Cases (the table below):
 *   missing file, a directory, empty file, comments only, malformed YAML (flow list, flow map,
 *   block indentation, tab indentation), two documents, an alias, top level a list, top level a
 *   scalar, section not a mapping, unknown section, unknown key (with suggestion), unknown key
 *   far from any name, string for int, quoted number for int, 1.5 for int, int for bool, bool
 *   for int, list for scalar, mapping for scalar, below min, above max, negative seed, seed above
 *   2^32-1, duplicate key, duplicate section, bad enum value, unknown model name, unknown model
 *   parameter, model parameter out of range, wrong type for a model parameter, params not a
 *   mapping, model setup() error, capacity < count, checkpoint_every not a multiple of
 *   sync_frequency, width x height >= 2^31, distributed.grid not [px, py] or with px 0, distributed.regions
 *   with a name twice, a name with a space (quoted: not plain), a mapping, --set without '=', --set with an empty key, --set
 *   unknown key, --set unknown section, --set naming a section, --set bad value, --set list
 *   value, --set invalid YAML, --set unknown model, --set unknown model parameter, --set
 *   model.params as a whole, --set making capacity < count; train: needing mcts with a network,
 *   shards above batch_size, batch_size above replay_capacity, lr_min above lr, lr 0, a bad schedule, n_step 0, an unknown train
 *   key, --set train.samples_per_step below 0. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfgtest_model.h"
#include "check.h"
#include "sim/config.h"

typedef struct bad_case {
  const char *name;   /* also the file name: <tmpdir>/<name>.yaml */
  const char *yaml;   /* the file's text; NULL: the file is not created */
  const char *set[3]; /* --set arguments, up to the first NULL */
  const char *where;  /* the exact place; '@' stands for the file's path */
  const char *key;    /* the key path the message must name */
  const char *also;   /* more text the message must hold, or NULL */
} bad_case;

static const char OK_YAML[] = "run:\n  steps: 5\n";

static const bad_case cases[] = {
  /* files and YAML */
  {"missing", NULL, {0}, "@", "missing", "cannot open"},
  {"empty", "", {0}, "@:1:1", "empty", "run, world"},
  {"comments", "# nothing here\n\n", {0}, "@:1:1", "empty", NULL},
  {"flow_list", "run:\n  steps: [1, 2\n", {0}, "@:3:1", "invalid YAML", "flow sequence at line 2, column 10"},
  {"flow_map", "run: {steps: 1\n", {0}, "@:2:1", "invalid YAML", "flow mapping"},
  {"indent", "run:\n  steps: 1\n world: 2\n", {0}, "@:3:2", "invalid YAML", "block mapping"},
  {"tab", "run:\n\tsteps: 5\n", {0}, "@:2:1", "invalid YAML", "tabs"},
  {"two_docs", "run: {steps: 1}\n---\nrun: {steps: 2}\n", {0}, "@:2:1", "invalid YAML", "document"},
  {"alias", "run:\n  steps: &n 5\n  seed: *n\n", {0}, "@:3:9", "invalid YAML", "aliases"},
  {"top_list", "- run\n- world\n", {0}, "@:1:1", "top level", "got a list"},
  {"top_scalar", "hello\n", {0}, "@:1:1", "top level", "got \"hello\""},
  {"section_scalar", "run: 5\n", {0}, "@:1:6", "run", "expected a mapping"},
  {"unknown_section", "runn:\n  steps: 10\n", {0}, "@:1:1", "runn", "did you mean 'run'"},
  {"unknown_key", "run:\n  stepz: 10\n", {0}, "@:2:3", "run.stepz", "did you mean 'steps'"},
  {"unknown_key_far", "world:\n  size: 10\n", {0}, "@:2:3", "world.size", "allowed keys in world: width, height, wrap"},
  /* types */
  {"string_for_int", "run:\n  steps: abc\n", {0}, "@:2:10", "run.steps",
   "expected an integer from 1 to 1000000000000, got \"abc\""},
  {"quoted_int", "run:\n  steps: \"100\"\n", {0}, "@:2:10", "run.steps", "quoted string"},
  {"fraction_for_int", "agents:\n  count: 1.5\n", {0}, "@:2:10", "agents.count", "got \"1.5\""},
  {"int_for_bool", "world:\n  wrap: 1\n", {0}, "@:2:9", "world.wrap", "true or false"},
  {"bool_for_int", "world:\n  width: true\n", {0}, "@:2:10", "world.width", "expected an integer"},
  {"list_for_scalar", "world:\n  width: [1, 2]\n", {0}, "@:2:10", "world.width", "got a list"},
  {"map_for_scalar", "run:\n  seed:\n    a: 1\n", {0}, "@:3:5", "run.seed", "got a mapping"},
  /* ranges */
  {"below_min", "run:\n  steps: 0\n", {0}, "@:2:10", "run.steps", "from 1 to"},
  {"above_max", "world:\n  height: 1048577\n", {0}, "@:2:11", "world.height", "from 1 to 1048576"},
  {"seed_negative", "run:\n  seed: -1\n", {0}, "@:2:9", "run.seed", "from 0 to 4294967295"},
  {"seed_too_big", "run: {seed: 4294967296}\n", {0}, "@:1:13", "run.seed", "from 0 to 4294967295"},
  {"sync_too_big", "distributed:\n  sync_frequency: 1001\n", {0}, "@:2:19", "distributed.sync_frequency", "1 to 1000"},
  /* duplicates, choices */
  {"duplicate_key", "run:\n  steps: 1\n  seed: 2\n  steps: 3\n", {0}, "@:4:3", "run.steps", "first given at line 2"},
  {"duplicate_section", "run:\n  steps: 1\nrun:\n  seed: 2\n", {0}, "@:3:1", "run", "first given at line 1"},
  {"bad_enum", "run:\n  backend: gpu\n", {0}, "@:2:12", "run.backend", "one of auto, cpu, cuda"},
  {"bad_policy", "policy: {kind: planner}\n", {0}, "@:1:16", "policy.kind", "one of random, heuristic, network, mcts"},
  {"bad_list_item", "network: {hidden: [64, 0]}\n", {0}, "@:1:19", "network.hidden", "a list of 1 to 7 integers"},
  {"nested_unknown_key", "policy: {mcts: {simulatons: 3}}\n", {0}, "@:1:17", "policy.mcts.simulatons", "did you mean"},
  /* models */
  {"unknown_model", "model:\n  name: foragin\n", {0}, "@:2:9", "model.name", "did you mean 'foraging'"},
  {"unknown_param", "model:\n  name: cfgtest\n  params:\n    rat: 0.5\n", {0}, "@:4:5",
   "model.params.rat", "its parameters: rate, limit, flag, mode"},
  {"param_range", "model:\n  name: cfgtest\n  params:\n    rate: 1.5\n", {0}, "@:4:11",
   "model.params.rate", "expected a number from 0 to 1"},
  {"param_type", "model:\n  name: cfgtest\n  params:\n    mode: 2\n", {0}, "@:4:11",
   "model.params.mode", "one of slow, fast, exact"},
  {"params_scalar", "model:\n  name: cfgtest\n  params: 3\n", {0}, "@:3:11", "model.params", "expected a mapping"},
  {"model_setup", "world:\n  width: 8\nmodel:\n  name: cfgtest\n  params:\n    limit: 9\n", {0}, "@:6:5",
   "model.params", "limit: expected at most world.width = 8, got 9"},
  /* rules between keys */
  {"capacity_below_count", "agents:\n  count: 100\n  capacity: 50\n", {0}, "@:3:13", "agents.capacity",
   "agents.count = 100, got 50"},
  {"checkpoint_multiple", "run:\n  checkpoint_every: 7\ndistributed:\n  sync_frequency: 2\n", {0}, "@:2:21",
   "run.checkpoint_every", "multiple of distributed.sync_frequency = 2, got 7"},
  {"too_many_cells", "world:\n  width: 65536\n  height: 65536\n", {0}, "@:3:11", "world.width x world.height",
   "65536 x 65536"},
  {"grid_one_number", "distributed:\n  grid: [4]\n", {0}, "@:2:9", "distributed.grid",
   "expected [px, py]: two integers, px at least 1 (py 0 = ranks / px), got 1 integer"},
  {"grid_px_zero", "distributed: {grid: [0, 2]}\n", {0}, "@:1:21", "distributed.grid", "got 2 integers with px 0"},
  {"regions_twice", "distributed:\n  regions: [west, east, west]\n", {0}, "@:2:12", "distributed.regions",
   "got west twice"},
  {"regions_bad_name", "distributed:\n  regions: [west, \"far east\"]\n", {0}, "@:2:12", "distributed.regions",
   "distinct names of 1 to 31 letters"},
  {"regions_mapping", "distributed:\n  regions: {a: 1}\n", {0}, "@:2:12", "distributed.regions", "got a mapping"},
  /* train: */
  {"train_needs_mcts", "policy:\n  kind: network\ntrain:\n  enabled: true\n", {0}, "@:4:12", "train.enabled",
   "expected policy.kind: mcts"},
  {"train_needs_network", "policy:\n  kind: mcts\n  mcts: {rollout_depth: 4}\ntrain: {enabled: true}\n", {0},
   "@:4:18", "train.enabled", "rollout_depth 4"},
  {"train_shards_above_batch", "train:\n  batch_size: 4\n  shards: 8\n", {0}, "@:3:11", "train.shards",
   "at most train.batch_size = 4, got 8"},
  {"train_batch_above_replay", "train:\n  replay_capacity: 100\n  batch_size: 200\n", {0}, "@:3:15",
   "train.batch_size", "at most train.replay_capacity = 100"},
  {"train_lr_min_above_lr", "train:\n  lr: 0.001\n  lr_min: 0.01\n", {0}, "@:3:11", "train.lr_min",
   "at most train.lr = 0.001"},
  {"train_lr_zero", "train: {lr: 0}\n", {0}, "@:1:13", "train.lr", "expected a number from 1e-12 to 10"},
  {"train_bad_schedule", "train: {schedule: linear}\n", {0}, "@:1:19", "train.schedule",
   "one of constant, cosine, step"},
  {"train_n_step_zero", "train:\n  n_step: 0\n", {0}, "@:2:11", "train.n_step", "expected an integer from 1"},
  {"train_unknown_key", "train: {batch: 5}\n", {0}, "@:1:9", "train.batch", "allowed keys in train: enabled"},
  {"set_train_samples", OK_YAML, {"train.samples_per_step=-1"}, "--set train.samples_per_step=-1",
   "train.samples_per_step", "expected a number from 0"},
  /* --set */
  {"set_no_equals", OK_YAML, {"run.steps"}, "--set run.steps", "run.steps", "KEY=VALUE"},
  {"set_empty_key", OK_YAML, {"=5"}, "--set =5", "=5", "KEY=VALUE"},
  {"set_unknown_key", OK_YAML, {"run.stepz=5"}, "--set run.stepz=5", "run.stepz", "did you mean 'steps'"},
  {"set_unknown_section", OK_YAML, {"wrold.width=5"}, "--set wrold.width=5", "wrold.width", "did you mean 'world'"},
  {"set_section", OK_YAML, {"run=5"}, "--set run=5", "run", "is a section"},
  {"set_bad_value", OK_YAML, {"run.steps=abc"}, "--set run.steps=abc", "run.steps", "got \"abc\""},
  {"set_list", OK_YAML, {"run.seed=[1, 2]"}, "--set run.seed=[1, 2]", "run.seed", "got a list"},
  {"set_regions_bad", OK_YAML, {"distributed.regions=[a, b/c]"}, "--set distributed.regions=[a, b/c]",
   "distributed.regions", "got \"b/c\""},
  {"set_bad_yaml", OK_YAML, {"run.output=\"abc"}, "--set run.output=\"abc", "run.output", "invalid YAML value"},
  {"set_unknown_model", OK_YAML, {"model.name=nope"}, "--set model.name=nope", "model.name", "registered models"},
  {"set_unknown_param", OK_YAML, {"model.name=cfgtest", "model.params.nope=1"}, "--set model.params.nope=1",
   "model.params.nope", "unknown parameter of model cfgtest"},
  {"set_params_whole", OK_YAML, {"model.params=3"}, "--set model.params=3", "model.params", "one parameter at a time"},
  {"set_capacity", "agents:\n  count: 100\n", {"run.steps=9", "agents.capacity=99"},
   "--set agents.capacity=99", "agents.capacity", "got 99"},
};

static char dir[] = "/tmp/myriad-config-XXXXXX";

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  REQUIRE(f, "cannot write %s", path);
  REQUIRE(fwrite(text, 1, strlen(text), f) == strlen(text), "writing %s", path);
  REQUIRE(fclose(f) == 0, "closing %s", path);
}

/* The case's place with '@' replaced by the file path. */
static void expand(const char *pattern, const char *path, char *out, size_t n) {
  size_t j = 0;
  for (const char *p = pattern; *p && j + 1 < n; p++) {
    if (*p == '@') j += (size_t)snprintf(out + j, n - j, "%s", path);
    else out[j++] = *p;
    if (j >= n) j = n - 1;
  }
  out[j] = '\0';
}

static int is_zero(const myr_config *c) {
  static const myr_config zero;
  return memcmp(c, &zero, sizeof *c) == 0;
}

static void run_case(const bad_case *t) {
  char path[256], where[512], prefix[520];
  snprintf(path, sizeof path, "%s/%s.yaml", dir, t->name);
  if (t->yaml) write_file(path, t->yaml);
  expand(t->where, path, where, sizeof where);
  snprintf(prefix, sizeof prefix, "%s: ", where);
  int n_set = 0;
  while (n_set < 3 && t->set[n_set]) n_set++;

  myr_config c;
  myr_error e = {MYR_OK, ""};
  myr_status s = myr_config_load(&c, path, (char *const *)t->set, n_set, &e);
  CHECK(s == MYR_ERR_CONFIG, "%s: status %d (%s), expected MYR_ERR_CONFIG; message: %s", t->name, (int)s,
        myr_strerror(s), e.msg);
  CHECK(e.status == MYR_ERR_CONFIG, "%s: err.status %d", t->name, (int)e.status);
  CHECK(strncmp(e.msg, prefix, strlen(prefix)) == 0, "%s: message does not start with '%s':\n    %s", t->name,
        prefix, e.msg);
  CHECK(strstr(e.msg, t->key) != NULL, "%s: key path '%s' not named: %s", t->name, t->key, e.msg);
  CHECK(!t->also || strstr(e.msg, t->also) != NULL, "%s: '%s' not in: %s", t->name, t->also, e.msg);
  CHECK(is_zero(&c), "%s: the config is not left zeroed", t->name);
  myr_config_free(&c);

  if (t->yaml) {
    myr_error e2 = {MYR_OK, ""};
    s = myr_config_load_text(&c, path, t->yaml, (char *const *)t->set, n_set, &e2);
    CHECK(s == MYR_ERR_CONFIG && strcmp(e.msg, e2.msg) == 0,
          "%s: load_text differs from load:\n    %s\n    %s", t->name, e2.msg, e.msg);
    CHECK(is_zero(&c), "%s: load_text: the config is not left zeroed", t->name);
    myr_config_free(&c);
    remove(path);
  }
}

int main(void) {
  cfgtest_register();
  REQUIRE(mkdtemp(dir), "mkdtemp");
  int n = (int)(sizeof cases / sizeof cases[0]);
  for (int i = 0; i < n; i++) run_case(&cases[i]);

  /* A directory is not a configuration. */
  myr_config c;
  myr_error e = {MYR_OK, ""};
  char prefix[300];
  snprintf(prefix, sizeof prefix, "%s: ", dir);
  CHECK(myr_config_load(&c, dir, NULL, 0, &e) == MYR_ERR_CONFIG && strncmp(e.msg, prefix, strlen(prefix)) == 0,
        "directory: %s", e.msg);
  CHECK(is_zero(&c), "directory: the config is not left zeroed");

  rmdir(dir);
  printf("%d bad-input cases\n", n + 1);
  return check_summary();
}
