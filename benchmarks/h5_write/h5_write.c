/* h5_write: wall seconds to write a simulation's state to HDF5, as a run's final snapshot and
 * its checkpoints do (sim/h5util.c, myr__h5_write_state).
 *
 *   h5_write [-c CONFIG] [-n STEPS] [-t THREADS] [-r REPS] [-o DIR] [-s key=value]...
 *
 * Builds the simulation from CONFIG (default configs/foraging-10m.yaml), runs STEPS steps
 * (default 0), sorts the agents by id once (myr_sim_id_order keeps the order for the writes,
 * as the final hash does in a run), then writes the state REPS times (default 3) as a result
 * file's snapshot (open, one snapshot, close) and as a checkpoint, under DIR (default
 * out/h5_write). Prints each write's seconds, the median, the state's bytes in memory, the
 * file's size and the rate. Not a test: the numbers depend on the machine. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "benchmarks/median.h"
#include "sim/checkpoint.h" // myr_checkpoint_write
#include "sim/config.h"
#include "sim/output.h"   // myr_output_open, _snapshot, _close
#include "sim/progress.h" // myr_wall_seconds
#include "sim/sim.h"

#define MAX_SET 32
#define MAX_REPS 64

static void die_usage(const char *msg) {
  fprintf(stderr, "h5_write: %s\nusage: h5_write [-c CONFIG] [-n STEPS] [-t THREADS] [-r REPS] [-o DIR] "
                  "[-s key=value]...\n", msg);
  exit(2);
}

static void die(const char *what, const myr_error *err) {
  fprintf(stderr, "h5_write: %s: %s\n", what, err->msg);
  exit(1);
}


static double file_mb(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (double)st.st_size / 1e6 : 0;
}

int main(int argc, char **argv) {
  const char *config = NULL, *dir = "out/h5_write";
  long long steps = 0, threads = 0, reps = 3;
  char *set[MAX_SET + 2];
  int n_set = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (i + 1 >= argc) die_usage("every option takes a value");
    const char *v = argv[++i];
    if (!strcmp(a, "-c") || !strcmp(a, "--config")) config = v;
    else if (!strcmp(a, "-n") || !strcmp(a, "--steps")) steps = atoll(v);
    else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) threads = atoll(v);
    else if (!strcmp(a, "-r") || !strcmp(a, "--reps")) reps = atoll(v);
    else if (!strcmp(a, "-o") || !strcmp(a, "--out")) dir = v;
    else if (!strcmp(a, "-s") || !strcmp(a, "--set")) {
      if (n_set == MAX_SET) die_usage("too many --set");
      set[n_set++] = (char *)v;
    } else die_usage("unknown option");
  }
  if (steps < 0 || reps < 1 || reps > MAX_REPS) die_usage("steps must be >= 0 and reps in 1..64");
  char cpath[1024], thr[64];
  if (!config) {
    const char *src = getenv("MYRIAD_SOURCE_DIR");
    snprintf(cpath, sizeof cpath, "%s/configs/foraging-10m.yaml", src ? src : ".");
    config = cpath;
  }
  snprintf(thr, sizeof thr, "run.threads=%lld", threads);
  set[n_set++] = thr;

  myr_config cfg;
  myr_error err;
  myr_sim *sim;
  if (myr_config_load(&cfg, config, set, n_set, &err) != MYR_OK) die("config", &err);
  if (myr_sim_create(&cfg, &sim, &err) != MYR_OK) die("create", &err);
  for (long long s = 0; s < steps; s++)
    if (myr_sim_step(sim, &err) != MYR_OK) die("step", &err);
  double t0 = myr_wall_seconds();
  int64_t *order = NULL, n = 0;
  if (myr_sim_id_order(sim, &order, &n, &err) != MYR_OK) die("id order", &err);
  free(order);
  double sort_s = myr_wall_seconds() - t0;

  /* The persistent state's bytes: ids, persistent columns, persistent layers. */
  const myr_model *m = sim->model;
  double bytes = 8.0 * (double)n;
  for (int c = 0; c < m->n_columns; c++)
    if (m->columns[c].lifetime == MYR_PERSISTENT)
      bytes += (double)n * (double)sim->agents.components[c] * (double)myr_type_size(m->columns[c].type);
  for (int l = 0; l < m->n_layers; l++)
    if (m->layers[l].lifetime == MYR_PERSISTENT)
      bytes += (double)cfg.width * (double)cfg.height * (double)myr_type_size(m->layers[l].type);

  char snap[1024], ckpt[1024];
  snprintf(snap, sizeof snap, "%s/snapshot.h5", dir);
  snprintf(ckpt, sizeof ckpt, "%s/checkpoint.h5", dir);
  double ts[MAX_REPS], tc[MAX_REPS];
  printf("model %s, %lld agents, %lldx%lld cells, %d threads, step %llu; state %.1f MB in memory; "
         "id order %.3f s (once)\n", cfg.model, (long long)n, (long long)cfg.width, (long long)cfg.height,
         sim->threads, (unsigned long long)sim->step, bytes / 1e6, sort_s);
  for (int r = 0; r < reps; r++) {
    myr_output *o = NULL;
    t0 = myr_wall_seconds();
    if (myr_output_open(&o, snap, sim, "cpu", &err) != MYR_OK) die("open", &err);
    if (myr_output_snapshot(o, sim, &err) != MYR_OK) die("snapshot", &err);
    if (myr_output_close(o, 1, NULL, 0.0, &err) != MYR_OK) die("close", &err);
    ts[r] = myr_wall_seconds() - t0;
    t0 = myr_wall_seconds();
    if (myr_checkpoint_write(sim, ckpt, &err) != MYR_OK) die("checkpoint", &err);
    tc[r] = myr_wall_seconds() - t0;
    printf("write %d: snapshot %.3f s, checkpoint %.3f s\n", r + 1, ts[r], tc[r]);
  }
  double ms = myr_bench_median(ts, (int)reps), mc = myr_bench_median(tc, (int)reps);
  printf("%-10s %10s %10s %10s\n", "write", "median s", "file MB", "MB/s");
  printf("%-10s %10.3f %10.1f %10.0f\n", "snapshot", ms, file_mb(snap), bytes / 1e6 / ms);
  printf("%-10s %10.3f %10.1f %10.0f\n", "checkpoint", mc, file_mb(ckpt), bytes / 1e6 / mc);
  myr_sim_destroy(sim);
  myr_config_free(&cfg);
  return 0;
}
