/* myr_main: the `myriad` command line (DESIGN §10). Parses options, dispatches to the
 * subcommands, prints "myriad: <message>" on errors and returns the exit code of the outcome
 * (myr_exit_code: 2 means bad input and nothing ran). */
#include "sim/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "myriad_version.h"
#include "sim/config.h"
#include "sim/output.h"
#include "sim/run.h"
#include "sim/sim.h"

static const char usage[] =
    "usage: myriad <command> [options]\n"
    "\n"
    "commands:\n"
    "  run CONFIG        run a simulation described by a YAML file\n"
    "  validate CONFIG   check a configuration and print it resolved (every key)\n"
    "  models [NAME]     list the models, or one model's parameters, columns and statistics\n"
    "  info FILE         summarise a result file (.h5)\n"
    "  config --defaults print every configuration key with its default and meaning\n"
    "\n"
    "run options:\n"
    "  -n, --steps N        number of steps (run.steps)\n"
    "  -t, --threads N      CPU threads, 0 = all cores (run.threads; default 0)\n"
    "  -b, --backend NAME   auto | cpu | cuda (run.backend; default auto)\n"
    "  -g, --gpus N|all     GPUs of this process, one rank each (run.gpus; default 1)\n"
    "  -R, --ranks N        CPU ranks of this process (distributed.ranks; default 1)\n"
    "  -o, --output FILE    result file (run.output; default out/<config name>.h5)\n"
    "  -s, --set KEY=VALUE  override any key, e.g. --set model.params.regrowth=0.1 (repeatable)\n"
    "  -r, --resume CKPT    continue from a checkpoint written by run.checkpoint_every\n"
    "  -q, --quiet          no progress or summary; print only the state hash\n"
    "validate takes --set too; config --defaults takes --model NAME.\n"
    "  -h, --help           this help;  -V, --version  the version\n"
    "\n"
    "exit codes: 0 success, 1 internal error, 2 bad input (nothing ran), 3 file I/O,\n"
    "            4 memory or agent capacity, 5 backend unavailable, 130 interrupted\n";

typedef struct cli_args {
  const char *positional;
  char **set;
  int n_set;
  const char *resume, *model;
  int quiet, defaults;
} cli_args;

static int is_opt(const char *arg, const char *s, const char *l) { return strcmp(arg, s) == 0 || strcmp(arg, l) == 0; }

/* Appends one override, "key=value" (a shorthand option) or the --set text as given. */
static int add_set(cli_args *a, const char *key, const char *value) {
  size_t n = strlen(key) + (value ? strlen(value) + 1 : 0) + 1;
  char *s = malloc(n);
  char **grown = realloc(a->set, (size_t)(a->n_set + 1) * sizeof *grown);
  if (grown) a->set = grown;
  if (!s || !grown) {
    free(s);
    return 0;
  }
  if (value) snprintf(s, n, "%s=%s", key, value);
  else snprintf(s, n, "%s", key);
  a->set[a->n_set++] = s;
  return 1;
}

static void free_args(cli_args *a) {
  for (int i = 0; i < a->n_set; i++) free(a->set[i]);
  free(a->set);
}

/* Parses argv[first..] into *a. Returns 0 on success, or prints the problem and returns 2. */
static int parse_args(int argc, char **argv, int first, cli_args *a) {
  static const struct {
    const char *s, *l, *key;
  } shorthands[] = {{"-n", "--steps", "run.steps"},
                    {"-t", "--threads", "run.threads"},
                    {"-b", "--backend", "run.backend"},
                    {"-g", "--gpus", "run.gpus"},
                    {"-R", "--ranks", "distributed.ranks"},
                    {"-o", "--output", "run.output"},
                    {"-s", "--set", NULL}};
  for (int i = first; i < argc; i++) {
    const char *arg = argv[i];
    int matched = 0;
    for (size_t k = 0; k < sizeof shorthands / sizeof shorthands[0]; k++) {
      if (!is_opt(arg, shorthands[k].s, shorthands[k].l)) continue;
      if (i + 1 >= argc) {
        fprintf(stderr, "myriad: %s needs a value\n", arg);
        return 2;
      }
      const char *value = argv[++i];
      if (shorthands[k].key && strcmp(shorthands[k].key, "run.gpus") == 0 && strcmp(value, "all") == 0) value = "0";
      /* --set text is passed on whole: the config loader reports a missing '=' precisely. */
      int ok = add_set(a, shorthands[k].key ? shorthands[k].key : value, shorthands[k].key ? value : NULL);
      if (!ok) {
        fprintf(stderr, "myriad: out of memory\n");
        return 2;
      }
      matched = 1;
      break;
    }
    if (matched) continue;
    if (is_opt(arg, "-r", "--resume") || is_opt(arg, "-m", "--model")) {
      if (i + 1 >= argc) {
        fprintf(stderr, "myriad: %s needs a value\n", arg);
        return 2;
      }
      *(arg[1] == 'r' || arg[2] == 'r' ? &a->resume : &a->model) = argv[++i];
    } else if (is_opt(arg, "-q", "--quiet")) {
      a->quiet = 1;
    } else if (strcmp(arg, "--defaults") == 0) {
      a->defaults = 1;
    } else if (arg[0] == '-' && arg[1]) {
      fprintf(stderr, "myriad: unknown option '%s' (see myriad --help)\n", arg);
      return 2;
    } else if (!a->positional) {
      a->positional = arg;
    } else {
      fprintf(stderr, "myriad: unexpected argument '%s' (see myriad --help)\n", arg);
      return 2;
    }
  }
  return 0;
}

static int report(myr_status s, const myr_error *e) {
  if (s != MYR_OK) fprintf(stderr, "myriad: %s\n", e->msg[0] ? e->msg : myr_strerror(s));
  return myr_exit_code(s);
}

static int cmd_run(cli_args *a) {
  if (!a->positional) {
    fprintf(stderr, "myriad: run needs a CONFIG file (see myriad --help)\n");
    return 2;
  }
  myr_run_options o = {a->positional, a->set, a->n_set, a->resume, a->quiet};
  myr_error e = {MYR_OK, ""};
  return report(myr_run(&o, &e), &e);
}

static int cmd_validate(cli_args *a) {
  if (!a->positional) {
    fprintf(stderr, "myriad: validate needs a CONFIG file\n");
    return 2;
  }
  myr_config cfg;
  myr_error e = {MYR_OK, ""};
  myr_status s = myr_config_load(&cfg, a->positional, a->set, a->n_set, &e);
  if (s != MYR_OK) return report(s, &e);
  myr_config_print(stdout, &cfg);
  const myr_model *m = cfg.model_desc;
  double bytes = (double)myr_sim_bytes_per_agent(m, (int)cfg.sync_frequency) * (double)myr_config_capacity(&cfg) +
                 (double)myr_sim_bytes_per_cell(m) * (double)cfg.width * (double)cfg.height;
  fprintf(stderr, "myriad: %s is valid: model %s, %lld agents (capacity %lld), %lldx%lld world, ~%.3f GiB\n",
          a->positional, cfg.model, (long long)cfg.count, (long long)myr_config_capacity(&cfg),
          (long long)cfg.width, (long long)cfg.height, bytes / 1073741824.0);
  myr_config_free(&cfg);
  return 0;
}

static void print_model(const myr_model *m) {
  printf("%s: %s\n\nparameters (model.params.*):\n", m->name, m->summary);
  myr_model_print_params(stdout, m);
  printf("\nagent columns:\n");
  for (int c = 0; c < m->n_columns; c++) {
    const myr_column_desc *d = &m->columns[c];
    char comps[32];
    if (d->components == MYR_PER_WINDOW_STEP) snprintf(comps, sizeof comps, "[sync_frequency]");
    else if (d->components > 1) snprintf(comps, sizeof comps, "[%d]", d->components);
    else comps[0] = 0;
    char type[48];
    snprintf(type, sizeof type, "%s%s", myr_type_name(d->type), comps);
    printf("  %-16s %-20s %s%s\n", d->name, type, d->doc,
           d->lifetime == MYR_TRANSIENT ? " (transient)" : "");
  }
  printf("\ngrid layers:\n");
  if (m->n_layers == 0) printf("  (none)\n");
  for (int l = 0; l < m->n_layers; l++)
    printf("  %-16s %-4s %s%s\n", m->layers[l].name, myr_type_name(m->layers[l].type), m->layers[l].doc,
           m->layers[l].lifetime == MYR_TRANSIENT ? " (transient)" : "");
  printf("\nstatistics (besides population, births, deaths):\n");
  for (int k = 0; k < m->n_stats; k++) printf("  %-16s %s\n", m->stats[k].name, m->stats[k].doc);
  printf("\ndecisions: %d actions", m->n_actions);
  for (int k = 0; m->action_names && k < m->n_actions; k++) printf("%s%s", k ? ", " : " (", m->action_names[k]);
  printf("%s; %d observation features; heuristic policy: %s; planning (mcts): %s; GPU kernels: %s\n",
         m->action_names ? ")" : "", m->n_features, m->heuristic ? "yes" : "no", m->plan ? "yes" : "no",
         m->cuda ? "yes" : "no");
}

static int cmd_models(cli_args *a) {
  if (a->positional) {
    const myr_model *m = myr_find_model(a->positional);
    if (!m) {
      fprintf(stderr, "myriad: no model named '%s'; `myriad models` lists them\n", a->positional);
      return 2;
    }
    print_model(m);
    return 0;
  }
  for (int i = 0; i < myr_model_count(); i++) printf("%-12s %s\n", myr_model_at(i)->name, myr_model_at(i)->summary);
  return 0;
}

static int cmd_info(cli_args *a) {
  if (!a->positional) {
    fprintf(stderr, "myriad: info needs a result FILE\n");
    return 2;
  }
  myr_error e = {MYR_OK, ""};
  return report(myr_output_info(a->positional, stdout, &e), &e);
}

static int cmd_config(cli_args *a) {
  if (!a->defaults) {
    fprintf(stderr, "myriad: config takes --defaults [--model NAME]\n");
    return 2;
  }
  const myr_model *m = NULL;
  if (a->model && !(m = myr_find_model(a->model))) {
    fprintf(stderr, "myriad: no model named '%s'; `myriad models` lists them\n", a->model);
    return 2;
  }
  myr_config_print_defaults(stdout, m);
  return 0;
}

int myr_main(int argc, char **argv) {
  if (argc < 2 || is_opt(argv[1], "-h", "--help")) {
    fputs(usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (is_opt(argv[1], "-V", "--version")) {
    printf("myriad %s (%s)\n", MYR_VERSION, MYR_GIT_REVISION);
    return 0;
  }
  static const struct {
    const char *name;
    int (*fn)(cli_args *);
  } commands[] = {{"run", cmd_run}, {"validate", cmd_validate}, {"models", cmd_models},
                  {"info", cmd_info}, {"config", cmd_config}};
  for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++) {
    if (strcmp(argv[1], commands[k].name) != 0) continue;
    for (int i = 2; i < argc; i++)
      if (is_opt(argv[i], "-h", "--help")) {
        fputs(usage, stdout);
        return 0;
      }
    cli_args a;
    memset(&a, 0, sizeof a);
    int rc = parse_args(argc, argv, 2, &a);
    if (rc == 0) rc = commands[k].fn(&a);
    free_args(&a);
    return rc;
  }
  fprintf(stderr, "myriad: unknown command '%s' (see myriad --help)\n", argv[1]);
  return 2;
}
