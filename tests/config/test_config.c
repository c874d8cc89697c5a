/* sim/config: defaults match the schema; a full YAML text loads into the expected values;
 * --set overrides (model.params.* included) apply in order; printing and loading the printed
 * text gives the same configuration; `config --defaults` output loads back. Uses the "cfgtest"
 * model (cfgtest_model.c) for model parameters, and the built-in default model "foraging". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfgtest_model.h"
#include "check.h"
#include "sim/config.h"

static myr_config load_ok(const char *name, const char *text, char *const *set, int n_set) {
  myr_config c;
  myr_error e = {MYR_OK, ""};
  myr_status s = myr_config_load_text(&c, name, text, set, n_set, &e);
  REQUIRE(s == MYR_OK, "loading %s failed: %s", name ? name : "(defaults)", e.msg);
  return c;
}

/* Every value field equal (not pointers or provenance), and the params bytes equal. */
static void check_same(const myr_config *a, const myr_config *b, const char *what) {
  CHECK(a->steps == b->steps, "%s: steps %lld vs %lld", what, (long long)a->steps, (long long)b->steps);
  CHECK(a->seed == b->seed, "%s: seed", what);
  CHECK(a->backend == b->backend, "%s: backend", what);
  CHECK(a->threads == b->threads, "%s: threads", what);
  CHECK(strcmp(a->output, b->output) == 0, "%s: output '%s' vs '%s'", what, a->output, b->output);
  CHECK(a->record_every == b->record_every, "%s: record_every", what);
  CHECK(a->snapshot_every == b->snapshot_every, "%s: snapshot_every", what);
  CHECK(a->checkpoint_every == b->checkpoint_every, "%s: checkpoint_every", what);
  CHECK(a->progress == b->progress, "%s: progress", what);
  CHECK(a->width == b->width && a->height == b->height && a->wrap == b->wrap, "%s: world", what);
  CHECK(a->count == b->count && a->capacity == b->capacity, "%s: agents", what);
  CHECK(strcmp(a->model, b->model) == 0, "%s: model '%s' vs '%s'", what, a->model, b->model);
  CHECK(a->model_desc == b->model_desc, "%s: model_desc", what);
  CHECK(a->policy == b->policy, "%s: policy", what);
  CHECK(a->sync_frequency == b->sync_frequency, "%s: sync_frequency", what);
  CHECK(a->model_desc && a->model_params && b->model_params &&
            memcmp(a->model_params, b->model_params, a->model_desc->params_size) == 0,
        "%s: model params bytes differ", what);
}

/* print -> load gives the same configuration, and print and to_yaml agree. */
static void check_round_trip(const myr_config *c, const char *what) {
  char *yaml = myr_config_to_yaml(c);
  REQUIRE(yaml, "to_yaml returned NULL");
  myr_config back;
  myr_error e = {MYR_OK, ""};
  myr_status s = myr_config_load_text(&back, "roundtrip.yaml", yaml, NULL, 0, &e);
  CHECK(s == MYR_OK, "%s: printed config does not load: %s\n%s", what, e.msg, yaml);
  if (s == MYR_OK) check_same(c, &back, what);
  myr_config_free(&back);

  FILE *f = tmpfile();
  REQUIRE(f, "tmpfile");
  myr_config_print(f, c);
  long n = ftell(f);
  rewind(f);
  char *printed = calloc(1, (size_t)n + 1);
  REQUIRE(printed && fread(printed, 1, (size_t)n, f) == (size_t)n, "reading tmpfile");
  CHECK(strcmp(printed, yaml) == 0, "%s: myr_config_print differs from myr_config_to_yaml", what);
  fclose(f);
  free(printed);
  free(yaml);
}

static char *capture_defaults(const myr_model *m) {
  FILE *f = tmpfile();
  REQUIRE(f, "tmpfile");
  myr_config_print_defaults(f, m);
  long n = ftell(f);
  rewind(f);
  char *s = calloc(1, (size_t)n + 1);
  REQUIRE(s && fread(s, 1, (size_t)n, f) == (size_t)n, "reading tmpfile");
  fclose(f);
  return s;
}

static void test_defaults(void) {
  myr_config c;
  myr_error e = {MYR_OK, ""};
  REQUIRE(myr_config_load(&c, NULL, NULL, 0, &e) == MYR_OK, "defaults: %s", e.msg);
  CHECK_EQ_I64(c.steps, 1000);
  CHECK_EQ_I64(c.seed, 42);
  CHECK_EQ_I64(c.backend, MYR_BACKEND_AUTO);
  CHECK_EQ_I64(c.threads, 0);
  CHECK(strcmp(c.output, "out/myriad.h5") == 0, "output '%s'", c.output);
  CHECK_EQ_I64(c.record_every, 1);
  CHECK_EQ_I64(c.snapshot_every, 0);
  CHECK_EQ_I64(c.checkpoint_every, 0);
  CHECK_EQ_I64(c.progress, 1);
  CHECK_EQ_I64(c.width, 256);
  CHECK_EQ_I64(c.height, 256);
  CHECK_EQ_I64(c.wrap, 1);
  CHECK_EQ_I64(c.count, 10000);
  CHECK_EQ_I64(c.capacity, 0);
  CHECK_EQ_I64(myr_config_capacity(&c), 20000);
  CHECK(strcmp(c.model, "foraging") == 0, "model '%s'", c.model);
  CHECK(c.model_desc == myr_find_model("foraging"), "model_desc not resolved");
  CHECK_EQ_I64(c.policy, MYR_POLICY_HEURISTIC);
  CHECK_EQ_I64(c.sync_frequency, 1);
  CHECK(c.path[0] == '\0', "path '%s'", c.path);
  CHECK(c.yaml_text && c.yaml_text[0] == '\0', "yaml_text should be \"\"");
  CHECK(c.n_overrides == 0 && c.overrides == NULL, "overrides");
  /* The model's table fields start at their documented defaults. */
  const myr_model *m = c.model_desc;
  for (int i = 0; m && i < m->n_params; i++) {
    const myr_param_desc *d = &m->params[i];
    const char *p = (const char *)c.model_params + d->offset;
    if (d->type == MYR_P_FLOAT) CHECK(*(const double *)p == d->def, "foraging %s", d->name);
    else if (d->type == MYR_P_INT) CHECK(*(const int64_t *)p == (int64_t)d->def, "foraging %s", d->name);
    else CHECK(*(const int *)p == (int)d->def, "foraging %s", d->name);
  }
  check_round_trip(&c, "defaults");
  myr_config_free(&c);

  /* Default output follows the config's stem. */
  c = load_ok("configs/my-study.yaml", "run:\n  steps: 5\n", NULL, 0);
  CHECK(strcmp(c.output, "out/my-study.h5") == 0, "output '%s'", c.output);
  CHECK(strcmp(c.path, "configs/my-study.yaml") == 0, "path '%s'", c.path);
  myr_config_free(&c);
}

static const char *full_yaml =
    "# every key set to a non-default value\n"
    "run:\n"
    "  steps: 1e6            # exponent form, a whole number\n"
    "  seed: 4294967295\n"
    "  backend: cpu\n"
    "  threads: 3\n"
    "  output: \"results/full run.h5\"\n"
    "  record_every: 10\n"
    "  snapshot_every: 100\n"
    "  checkpoint_every: 40\n"
    "  progress: no\n"
    "world: {width: 1_024, height: 512, wrap: off}\n"
    "agents:\n"
    "  count: 5000\n"
    "  capacity: 6000\n"
    "model:\n"
    "  name: cfgtest\n"
    "  params:\n"
    "    rate: 0.75\n"
    "    limit: 64\n"
    "    flag: False\n"
    "    mode: exact\n"
    "policy:\n"
    "  kind: random\n"
    "distributed:\n"
    "  sync_frequency: 4\n";

static void test_full(void) {
  myr_config c = load_ok("full.yaml", full_yaml, NULL, 0);
  CHECK_EQ_I64(c.steps, 1000000);
  CHECK_EQ_I64(c.seed, 4294967295LL);
  CHECK_EQ_I64(c.backend, MYR_BACKEND_CPU);
  CHECK_EQ_I64(c.threads, 3);
  CHECK(strcmp(c.output, "results/full run.h5") == 0, "output '%s'", c.output);
  CHECK_EQ_I64(c.record_every, 10);
  CHECK_EQ_I64(c.snapshot_every, 100);
  CHECK_EQ_I64(c.checkpoint_every, 40);
  CHECK_EQ_I64(c.progress, 0);
  CHECK_EQ_I64(c.width, 1024);
  CHECK_EQ_I64(c.height, 512);
  CHECK_EQ_I64(c.wrap, 0);
  CHECK_EQ_I64(c.count, 5000);
  CHECK_EQ_I64(c.capacity, 6000);
  CHECK_EQ_I64(myr_config_capacity(&c), 6000);
  CHECK(strcmp(c.model, "cfgtest") == 0, "model '%s'", c.model);
  CHECK(c.model_desc == myr_find_model("cfgtest"), "model_desc");
  const cfgtest_params *p = c.model_params;
  CHECK(p->rate == 0.75, "rate %g", p->rate);
  CHECK_EQ_I64(p->limit, 64);
  CHECK_EQ_I64(p->flag, 0);
  CHECK_EQ_I64(p->mode, 2);
  CHECK(p->rate_x2 == 1.5, "setup() did not run: rate_x2 %g", p->rate_x2);
  CHECK_EQ_I64(c.policy, MYR_POLICY_RANDOM);
  CHECK_EQ_I64(c.sync_frequency, 4);
  CHECK(strcmp(c.yaml_text, full_yaml) == 0, "yaml_text is not the text as given");
  CHECK(strcmp(myr_backend_name(c.backend), "cpu") == 0, "backend name");
  CHECK(strcmp(myr_policy_name(c.policy), "random") == 0, "policy name");
  check_round_trip(&c, "full");
  myr_config_free(&c);

  /* Accepted spellings. */
  c = load_ok("forms.yaml",
              "run: {steps: +2.5e3, progress: ON, backend: \"cuda\"}\n"
              "world: {wrap: Yes, width: 2.0}\n"
              "policy:\n"
              "model:\n  name: cfgtest\n  params: {rate: 5e-1, limit: 2, flag: on}\n",
              NULL, 0);
  CHECK_EQ_I64(c.steps, 2500);
  CHECK_EQ_I64(c.progress, 1);
  CHECK_EQ_I64(c.backend, MYR_BACKEND_CUDA);
  CHECK_EQ_I64(c.wrap, 1);
  CHECK_EQ_I64(c.width, 2);
  CHECK_EQ_I64(c.policy, MYR_POLICY_HEURISTIC);
  CHECK(((const cfgtest_params *)c.model_params)->rate == 0.5, "rate");
  CHECK(strcmp(myr_backend_name(MYR_BACKEND_CUDA), "cuda") == 0 &&
            strcmp(myr_backend_name(MYR_BACKEND_AUTO), "auto") == 0 &&
            strcmp(myr_policy_name(MYR_POLICY_HEURISTIC), "heuristic") == 0,
        "names");
  myr_config_free(&c);
}

static void test_overrides(void) {
  char *set[] = {
      "run.steps=77",
      "model.params.rate=0.125", /* applies to cfgtest, named by a later --set */
      "world.wrap=off",
      "run.output=\"with space.h5\"",
      "model.name=cfgtest",
      "run.steps=78", /* later wins */
      "model.params.mode=slow",
      "distributed.sync_frequency=2",
      "run.checkpoint_every=4",
  };
  int n = (int)(sizeof set / sizeof set[0]);
  myr_config c = load_ok("base.yaml",
                         "run:\n  steps: 10\nmodel:\n  name: foraging\n", set, n);
  CHECK_EQ_I64(c.steps, 78);
  CHECK_EQ_I64(c.wrap, 0);
  CHECK(strcmp(c.output, "with space.h5") == 0, "output '%s'", c.output);
  CHECK(strcmp(c.model, "cfgtest") == 0, "model '%s'", c.model);
  const cfgtest_params *p = c.model_params;
  CHECK(p->rate == 0.125, "rate %g", p->rate);
  CHECK_EQ_I64(p->mode, 0);
  CHECK_EQ_I64(p->limit, 10);
  CHECK_EQ_I64(c.sync_frequency, 2);
  CHECK_EQ_I64(c.checkpoint_every, 4);
  CHECK_EQ_I64(c.n_overrides, n);
  for (int i = 0; i < n && i < c.n_overrides; i++)
    CHECK(c.overrides[i] != set[i] && strcmp(c.overrides[i], set[i]) == 0, "override %d", i);
  check_round_trip(&c, "overrides");
  myr_config_free(&c);

  /* File params, then --set params over them; --set alone with no file. */
  char *set2[] = {"model.params.limit=20"};
  c = load_ok("p.yaml", "model:\n  name: cfgtest\n  params:\n    limit: 30\n    rate: 1\n", set2, 1);
  p = c.model_params;
  CHECK_EQ_I64(p->limit, 20);
  CHECK(p->rate == 1.0, "rate %g", p->rate);
  myr_config_free(&c);

  char *set3[] = {"agents.count=7", "run.output="};
  myr_config d;
  myr_error e = {MYR_OK, ""};
  REQUIRE(myr_config_load(&d, NULL, set3, 2, &e) == MYR_OK, "%s", e.msg);
  CHECK_EQ_I64(d.count, 7);
  CHECK(strcmp(d.output, "out/myriad.h5") == 0, "empty output resolves: '%s'", d.output);
  myr_config_free(&d);
}

static void test_defaults_text(void) {
  /* With no model: the default model's params, and the other models named in a comment. */
  char *text = capture_defaults(NULL);
  CHECK(strstr(text, "# steps to simulate (1 to 1000000000000)") != NULL, "doc comment missing:\n%s", text);
  CHECK(strstr(text, "cfgtest") != NULL, "other models not listed:\n%s", text);
  myr_config printed = load_ok(NULL, text, NULL, 0);
  myr_config defaults;
  myr_error e = {MYR_OK, ""};
  REQUIRE(myr_config_load(&defaults, NULL, NULL, 0, &e) == MYR_OK, "%s", e.msg);
  check_same(&printed, &defaults, "print_defaults(NULL)");
  myr_config_free(&printed);
  myr_config_free(&defaults);
  free(text);

  /* With a model: its parameters with their defaults. */
  text = capture_defaults(myr_find_model("cfgtest"));
  CHECK(strstr(text, "    # a fraction (0 to 1)\n    rate: 0.25\n") != NULL, "cfgtest params:\n%s", text);
  CHECK(strstr(text, "mode: fast") != NULL, "enum default:\n%s", text);
  printed = load_ok("defaults.yaml", text, NULL, 0);
  const cfgtest_params *p = printed.model_params;
  CHECK(strcmp(printed.model, "cfgtest") == 0, "model '%s'", printed.model);
  CHECK(p->rate == 0.25 && p->limit == 10 && p->flag == 1 && p->mode == 1, "cfgtest defaults");
  myr_config_free(&printed);
  free(text);

  /* The parameter table of `myriad models cfgtest`. */
  FILE *f = tmpfile();
  REQUIRE(f, "tmpfile");
  myr_model_print_params(f, myr_find_model("cfgtest"));
  long n = ftell(f);
  rewind(f);
  char *table = calloc(1, (size_t)n + 1);
  REQUIRE(table && fread(table, 1, (size_t)n, f) == (size_t)n, "reading tmpfile");
  fclose(f);
  const char *want[] = {"rate", "float", "0.25", "0 to 1", "a fraction", "limit", "int", "1 to 100",
                        "flag", "bool", "true", "mode", "enum", "fast", "slow|fast|exact"};
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
    CHECK(strstr(table, want[i]) != NULL, "'%s' missing from the table:\n%s", want[i], table);
  free(table);
}

static void test_free(void) {
  myr_config c;
  memset(&c, 0, sizeof c);
  myr_config_free(&c); /* zeroed: fine */
  myr_config_free(&c); /* twice: fine */
  myr_error e = {MYR_OK, ""};
  CHECK(myr_config_load_text(&c, "bad.yaml", "run: {steps: 0}\n", NULL, 0, &e) == MYR_ERR_CONFIG, "bad load");
  myr_config zero;
  memset(&zero, 0, sizeof zero);
  CHECK(memcmp(&c, &zero, sizeof c) == 0, "a failed load leaves the struct zeroed");
  myr_config_free(&c); /* after a failed load: fine */
}

int main(void) {
  cfgtest_register();
  test_defaults();
  test_full();
  test_overrides();
  test_defaults_text();
  test_free();
  return check_summary();
}
