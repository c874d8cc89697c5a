/* myr_run: load and check the configuration, choose the backend, create the simulation (or
 * resume one), then step with records, snapshots and checkpoints, and end with the state
 * hash and a summary table. Ctrl-C stops after the current step; the result stays in
 * "<output>.part". */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "partition/team.h"
#include "sim/backend.h"
#include "sim/checkpoint.h"
#include "sim/hash.h"
#include "sim/output.h"
#include "sim/progress.h"
#include "sim/run.h"

static volatile sig_atomic_t interrupted;
static void on_interrupt(int sig) {
  (void)sig;
  interrupted = 1;
}

static void print_memory_estimate(const myr_config *cfg, int quiet) {
  if (quiet) return;
  const myr_model *m = cfg->model_desc;
  double agents = (double)myr_sim_bytes_per_agent(m, (int)cfg->sync_frequency) * (double)myr_config_capacity(cfg);
  double grid = (double)myr_sim_bytes_per_cell(m) * (double)cfg->width * (double)cfg->height;
  fprintf(stderr, "memory: %.3f GiB (%lld agent slots x %zu B + %lldx%lld cells x %zu B)\n",
          (agents + grid) / 1073741824.0, (long long)myr_config_capacity(cfg),
          myr_sim_bytes_per_agent(m, (int)cfg->sync_frequency), (long long)cfg->width, (long long)cfg->height,
          myr_sim_bytes_per_cell(m));
}

typedef struct run_totals {
  int64_t births, deaths;
  double agent_steps;
} run_totals;

static myr_status record(myr_output *out, myr_team *team, double *stats, run_totals *t, myr_error *err) {
  myr_team_stats(team, stats);
  t->births += (int64_t)stats[MYR_STAT_BIRTHS];
  t->deaths += (int64_t)stats[MYR_STAT_DEATHS];
  myr_status s = out ? myr_output_record(out, myr_team_steps_done(team), stats, err) : MYR_OK; /* the root's */
  return myr_team_agree(team, s, err);
}

static void print_summary(const myr_team *team, const myr_config *cfg, uint64_t first, int64_t agents0,
                          int64_t agents, const run_totals *t, double wall, const char *hash, const char *output) {
  const myr_sim *sim = myr_team_sim(team, 0);
  double rate = wall > 0 ? t->agent_steps / wall : 0;
  double phases = sim->seconds_decide + sim->seconds_act + sim->seconds_sync + sim->seconds_stats;
  printf("\n%-22s %s\n", "model", cfg->model);
  if (myr_team_size(team) > 1) printf("%-22s %s\n", "backend", myr_team_describe(team));
  else if (sim->backend) printf("%-22s %s\n", "backend", sim->backend_why);
  else printf("%-22s cpu, %d threads\n", "backend", sim->threads);
  printf("%-22s %llu -> %llu\n", "steps", (unsigned long long)first, (unsigned long long)sim->step);
  printf("%-22s %lld -> %lld\n", "agents", (long long)agents0, (long long)agents);
  printf("%-22s %lld / %lld\n", "births / deaths", (long long)t->births, (long long)t->deaths);
  printf("%-22s %.3f s\n", "wall time", wall);
  printf("%-22s %.4g\n", "agent-steps/s", rate);
  if (phases > 0 && sim->backend) /* device phases are one host call */
    printf("%-22s steps %.0f%%, statistics %.0f%%\n", "time in phases", 100 * sim->seconds_act / phases,
           100 * sim->seconds_stats / phases);
  else if (phases > 0)
    printf("%-22s decide %.0f%%, act %.0f%%, sync %.0f%%, stats %.0f%%\n", "time in phases",
           100 * sim->seconds_decide / phases, 100 * sim->seconds_act / phases, 100 * sim->seconds_sync / phases,
           100 * sim->seconds_stats / phases);
  printf("%-22s %s\n", "output", output);
  printf("%-22s %s\n", "state hash (sha256)", hash);
}

/* Snapshots, checkpoints and the state hash read the whole state on the host: every rank's
 * agents, downloaded from a device backend. One gather serves whatever a step asks for: a
 * snapshot in `out` (when `out`), a checkpoint at `checkpoint_path`, the hash (when `hash`). */
static myr_status save_state(myr_team *team, myr_output *out, const char *checkpoint_path, uint8_t *hash,
                             myr_error *err) {
  myr_sim *g;
  myr_status s = myr_team_gather(team, &g, err);
  if (s == MYR_OK && g && out) s = myr_output_snapshot(out, g, err);
  if (s == MYR_OK && g && checkpoint_path) s = myr_checkpoint_write(g, checkpoint_path, err);
  if (s == MYR_OK && g && hash) s = myr_sim_hash(g, hash, err);
  myr_team_release(team, g);
  return myr_team_agree(team, s, err); /* the root writes; every process learns how it went */
}

/* Steps to run.steps; with run.final_state the last step's state is also hashed into `hash`
 * (*hashed set), from the gather of its final snapshot. */
static myr_status run_loop(myr_team *team, myr_output *out, const myr_config *cfg, const myr_run_options *o,
                           run_totals *t, uint8_t *hash, int *hashed, myr_error *err) {
  double *stats = calloc((size_t)myr_sim_stat_count(myr_team_sim(team, 0)), sizeof *stats);
  if (!stats) return myr_fail(err, MYR_ERR_NOMEM, "cannot allocate statistics");
  myr_status s = record(out, team, stats, t, err);
  if (s == MYR_OK && cfg->snapshot_every > 0) s = save_state(team, out, NULL, NULL, err);
  myr_progress p;
  myr_progress_begin(&p, cfg->progress && !o->quiet && myr_team_is_root(team), myr_team_steps_done(team),
                     (uint64_t)cfg->steps);
  int64_t n = myr_team_slots(team); /* a collective under mpirun: once a step */
  while (s == MYR_OK && myr_team_steps_done(team) < (uint64_t)cfg->steps) {
    uint64_t next = myr_team_steps_done(team) + 1;
    int hint = next % (uint64_t)cfg->record_every == 0 || next == (uint64_t)cfg->steps;
    if ((s = myr_team_step(team, hint, err)) != MYR_OK) break;
    t->agent_steps += (double)n;
    n = myr_team_slots(team); /* for the progress line and the next step */
    uint64_t step = myr_team_steps_done(team);
    int last = step == (uint64_t)cfg->steps;
    if (step % (uint64_t)cfg->record_every == 0 || last) s = record(out, team, stats, t, err);
    int snap = (cfg->snapshot_every > 0 && step % (uint64_t)cfg->snapshot_every == 0) || (last && cfg->final_state);
    int ckpt = cfg->checkpoint_every > 0 && step % (uint64_t)cfg->checkpoint_every == 0;
    int final_hash = last && cfg->final_state;
    char path[MYR_PATH_MAX + 32];
    if (ckpt) myr_checkpoint_path(cfg->output, step, path, sizeof path);
    if (s == MYR_OK && (snap || ckpt || final_hash)) {
      s = save_state(team, snap ? out : NULL, ckpt ? path : NULL, final_hash ? hash : NULL, err);
      *hashed = final_hash && s == MYR_OK;
    }
    if (s == MYR_OK) myr_progress_update(&p, step, n, t->agent_steps);
    if (s == MYR_OK && interrupted)
      s = myr_fail(err, MYR_ERR_INTERRUPTED, "interrupted at step %llu; partial results are in %s.part",
                   (unsigned long long)step, cfg->output);
    s = myr_team_agree(team, s, err); /* processes of a team stop together (every collective above agrees) */
  }
  myr_progress_end(&p);
  free(stats);
  return s;
}

myr_status myr_run(const myr_run_options *o, myr_error *err) {
  myr_config cfg;
  myr_status s = myr_config_load(&cfg, o->config_path, o->set, o->n_set, err);
  if (s != MYR_OK) return s;
  myr_team *team = NULL;
  myr_output *out = NULL;
  if ((s = myr_team_create(&cfg, o->resume, &team, err)) != MYR_OK) goto done;
  int root = myr_team_is_root(team), quiet = o->quiet || !root;
  if (!quiet)
    fprintf(stderr, "myriad: %s, model %s, %lld agents on %lldx%lld, %lld steps\n", o->config_path, cfg.model,
            (long long)cfg.count, (long long)cfg.width, (long long)cfg.height, (long long)cfg.steps);
  print_memory_estimate(&cfg, quiet);
  myr_sim *sim = myr_team_sim(team, 0);
  const char *backend = sim->backend ? sim->backend->name : "cpu";
  if (!quiet)
    fprintf(stderr, "backend: %s (%s)\n", backend, myr_team_size(team) > 1 ? myr_team_describe(team) : sim->backend_why);
  if (sim->step > (uint64_t)cfg.steps) {
    s = myr_fail(err, MYR_ERR_CHECKPOINT, "%s is at step %llu, past run.steps %lld", o->resume,
                 (unsigned long long)sim->step, (long long)cfg.steps);
    goto done;
  }

  if (root) s = myr_output_open(&out, cfg.output, sim, backend, err);
  if ((s = myr_team_agree(team, s, err)) != MYR_OK) goto done;
  interrupted = 0;
  void (*previous)(int) = signal(SIGINT, on_interrupt);
  uint64_t first = sim->step;
  int64_t agents0 = myr_team_population(team);
  run_totals totals = {0, 0, 0};
  uint8_t hash[MYR_HASH_BYTES] = {0}; /* a process that holds no gathered state keeps zeros */
  int hashed = 0;
  double t0 = myr_wall_seconds();
  s = run_loop(team, out, &cfg, o, &totals, hash, &hashed, err);
  double wall = myr_wall_seconds() - t0;
  signal(SIGINT, previous);

  char hex[MYR_HASH_HEX] = "not computed (run.final_state: false)";
  if (s == MYR_OK && cfg.final_state && !hashed) /* no step ran (resumed at run.steps) */
    hashed = (s = save_state(team, NULL, NULL, hash, err)) == MYR_OK;
  if (hashed) myr_hash_hex(hash, hex);
  int64_t agents = s == MYR_OK ? myr_team_population(team) : 0;
  myr_perf_row *perf = NULL; /* collective: every process */
  if (s == MYR_OK && myr_team_size(team) > 1) s = myr_team_perf(team, &perf, err);
  if (s == MYR_OK && out && perf)
    s = myr_output_perf(out, perf, myr_team_size(team), myr_team_strategy(team), wall, cfg.baseline_rate, err);
  if (out) {
    myr_error close_err;
    myr_status cs = myr_output_close(out, s == MYR_OK, s == MYR_OK && hashed ? hash : NULL, wall, &close_err);
    out = NULL;
    if (s == MYR_OK && cs != MYR_OK) {
      *err = close_err;
      s = cs;
    }
  }
  if (s == MYR_OK && !quiet)
    print_summary(team, &cfg, first, agents0, agents, &totals, wall, hex, cfg.output);
  else if (s == MYR_OK && root)
    printf("%s\n", hex);
  if (s == MYR_OK && !o->quiet) myr_team_print_table(team, perf, wall, cfg.baseline_rate, stdout);
  free(perf);
done:
  if (out) myr_output_close(out, 0, NULL, 0, &(myr_error){0});
  myr_team_destroy(team);
  myr_config_free(&cfg);
  return s;
}
