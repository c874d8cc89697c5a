/* step_throughput: agent-steps per second of a model on a backend.
 *
 *   step_throughput [-m MODEL] [-a AGENTS] [-n STEPS] [-w WARMUP] [-t THREADS] [-b cpu|cuda]
 *                   [-c CONFIG] [-s key=value]... [--bytes B] [--csv FILE] [--times FILE]
 *
 * Builds the simulation from a config (default configs/<model>-10m.yaml). A different agent
 * count keeps the config's density and capacity ratio: the world's sides scale by
 * sqrt(AGENTS / count). Runs WARMUP untimed steps, then times STEPS steps one by one (wall clock; CPU backend) and
 * reports the mean, median, min and max ms per step, agent-steps/s from the mean, memory per
 * agent slot. The statistics of every step are computed as a run records them, and timed
 * apart (their share of the step). On CUDA: steps are timed to the end of their device work,
 * the device-to-device copy bandwidth is measured in the same run, and --bytes (bytes moved
 * per agent-step, as measured by ncu: benchmarks/gpu_throughput.sh) gives the fraction of
 * that bandwidth reached. Appends one CSV row per run with the hardware, commit and date;
 * --times writes every timed step's ms (step, then its statistics), in step order.
 * Not a test: the numbers depend on the machine. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "benchmarks/median.h"
#include "myriad_version.h"
#include "sim/config.h"
#include "sim/progress.h"
#include "sim/sim.h"

#ifdef MYRIAD_HAVE_CUDA
double myr_cuda_copy_bandwidth(size_t bytes, int reps);
size_t myr_cuda_device_bytes(const myr_sim *sim);
int myr_cuda_synchronize(const myr_sim *sim);
int myr_cuda_probe(char *name, size_t n);
#endif

#define MAX_SET 32
#define EXTRA_SET 6 /* count, capacity, width, height, threads, backend */


static void cpu_name(char *buf, size_t n) {
  snprintf(buf, n, "unknown cpu");
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (!f) return;
  char line[512];
  while (fgets(line, sizeof line, f))
    if (strncmp(line, "model name", 10) == 0) {
      char *v = strchr(line, ':');
      if (v) {
        v += 2;
        v[strcspn(v, "\n")] = 0;
        snprintf(buf, n, "%s", v);
      }
      break;
    }
  fclose(f);
  for (char *p = buf; *p; p++)
    if (*p == ',') *p = ' ';
}

static void die_usage(const char *msg) {
  fprintf(stderr, "step_throughput: %s\nusage: step_throughput [-m MODEL] [-a AGENTS] [-n STEPS] [-w WARMUP] "
                  "[-t THREADS] [-b cpu|cuda] [-c CONFIG] [-s key=value]... [--bytes B] [--csv FILE] [--times FILE]\n",
          msg);
  exit(2);
}

/* Every timed step's ms, in step order: "step,ms,stats_ms". */
static void write_times(const char *path, const double *ms, const double *ms_stats, long long steps) {
  FILE *f = fopen(path, "w");
  if (!f) {
    fprintf(stderr, "step_throughput: cannot write %s\n", path);
    return;
  }
  fprintf(f, "step,ms,stats_ms\n");
  for (long long s = 0; s < steps; s++) fprintf(f, "%lld,%.4f,%.4f\n", s, ms[s], ms_stats[s]);
  fclose(f);
}

int main(int argc, char **argv) {
  const char *model = "movement", *config = NULL, *csv = NULL, *times = NULL, *backend = "cpu";
  double bytes_per_agent_step = 0;
  long long agents = 1000000, steps = 20, warmup = 3, threads = 0;
  char *set[MAX_SET + EXTRA_SET];
  int n_set = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (i + 1 >= argc) die_usage("every option takes a value");
    const char *v = argv[++i];
    if (!strcmp(a, "-m") || !strcmp(a, "--model")) model = v;
    else if (!strcmp(a, "-a") || !strcmp(a, "--agents")) agents = atoll(v);
    else if (!strcmp(a, "-n") || !strcmp(a, "--steps")) steps = atoll(v);
    else if (!strcmp(a, "-w") || !strcmp(a, "--warmup")) warmup = atoll(v);
    else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) threads = atoll(v);
    else if (!strcmp(a, "-c") || !strcmp(a, "--config")) config = v;
    else if (!strcmp(a, "-s") || !strcmp(a, "--set")) {
      if (n_set == MAX_SET) die_usage("too many --set");
      set[n_set++] = (char *)v;
    } else if (!strcmp(a, "-b") || !strcmp(a, "--backend")) backend = v;
    else if (!strcmp(a, "--bytes")) bytes_per_agent_step = atof(v);
    else if (!strcmp(a, "--csv")) csv = v;
    else if (!strcmp(a, "--times")) times = v;
    else die_usage("unknown option");
  }
  if (agents < 1 || steps < 1 || warmup < 0) die_usage("agents and steps must be positive");

  char path[1024], count[64], thr[64], cap[64], width[64], height[64], be[64];
  if (!config) {
    snprintf(path, sizeof path, "%s/configs/%s-10m.yaml", getenv("MYRIAD_SOURCE_DIR") ? getenv("MYRIAD_SOURCE_DIR") : ".", model);
    config = path;
  }
  myr_config cfg;
  myr_error err;
  myr_sim *sim;
  /* The config as written gives the density and capacity ratio to keep. */
  if (myr_config_load(&cfg, config, set, n_set, &err) != MYR_OK) {
    fprintf(stderr, "step_throughput: %s\n", err.msg);
    return 1;
  }
  double scale = sqrt((double)agents / (double)cfg.count);
  double ratio = (double)myr_config_capacity(&cfg) / (double)cfg.count;
  snprintf(count, sizeof count, "agents.count=%lld", agents);
  snprintf(cap, sizeof cap, "agents.capacity=%lld", (long long)ceil(ratio * (double)agents));
  snprintf(width, sizeof width, "world.width=%lld", (long long)fmax(1, llround(scale * (double)cfg.width)));
  snprintf(height, sizeof height, "world.height=%lld", (long long)fmax(1, llround(scale * (double)cfg.height)));
  snprintf(thr, sizeof thr, "run.threads=%lld", threads);
  myr_config_free(&cfg);
  set[n_set++] = count;
  set[n_set++] = cap;
  set[n_set++] = width;
  set[n_set++] = height;
  set[n_set++] = thr;
  snprintf(be, sizeof be, "run.backend=%s", backend);
  set[n_set++] = be;
  if (myr_config_load(&cfg, config, set, n_set, &err) != MYR_OK ||
      myr_sim_create(&cfg, &sim, &err) != MYR_OK) {
    fprintf(stderr, "step_throughput: %s\n", err.msg);
    return 1;
  }
  int cuda = sim->backend != NULL;
  double *ms = malloc((size_t)steps * sizeof *ms), *ms_stats = malloc((size_t)steps * sizeof *ms_stats);
  double *stats = malloc((size_t)myr_sim_stat_count(sim) * sizeof *stats);
  double agent_steps = 0;
  for (long long s = 0; s < warmup + steps; s++) {
    int64_t n = sim->agents.n;
    sim->record_hint = 1; /* statistics follow every step */
    double t0 = myr_wall_seconds();
    if (myr_sim_step(sim, &err) != MYR_OK) {
      fprintf(stderr, "step_throughput: %s\n", err.msg);
      return 1;
    }
#ifdef MYRIAD_HAVE_CUDA
    if (cuda) myr_cuda_synchronize(sim); /* the step ends when its device work does */
#endif
    double t1 = myr_wall_seconds();
    myr_sim_stats(sim, stats); /* as a run records every step; waits for its read-back */
    double t2 = myr_wall_seconds();
    if (s >= warmup) {
      ms[s - warmup] = 1e3 * (t1 - t0);
      ms_stats[s - warmup] = 1e3 * (t2 - t1);
      agent_steps += (double)n;
    }
  }
  if (times) write_times(times, ms, ms_stats, steps);
  double median = myr_bench_median(ms, steps), median_stats = myr_bench_median(ms_stats, steps);
  double mean_agents = agent_steps / (double)steps, total_ms = 0;
  for (long long k = 0; k < steps; k++) total_ms += ms[k];
  /* The rate counts every step: steps that sync, and on a GPU sort agents by cell, cost more
   * than the median one (use a multiple of 8 steps). */
  double mean = total_ms / (double)steps;
  double rate = mean_agents / (mean * 1e-3);
  size_t bpa = myr_sim_bytes_per_agent(cfg.model_desc, (int)cfg.sync_frequency);
  double copy_gbs = 0, device_per_agent = 0, fraction = 0;
  char device[256] = "";
#ifdef MYRIAD_HAVE_CUDA
  if (cuda) {
    myr_cuda_probe(device, sizeof device);
    device_per_agent = (double)myr_cuda_device_bytes(sim) / (double)agents;
    copy_gbs = myr_cuda_copy_bandwidth((size_t)1 << 31, 20);
    if (bytes_per_agent_step > 0) fraction = bytes_per_agent_step * rate / (copy_gbs * 1e9);
  }
#endif
  char cpu[256], date[32];
  cpu_name(cpu, sizeof cpu);
  const char *hardware = cuda ? device : cpu;
  time_t now = time(NULL);
  strftime(date, sizeof date, "%Y-%m-%d", gmtime(&now));
  char world[48];
  snprintf(world, sizeof world, "%lldx%lld", (long long)cfg.width, (long long)cfg.height);
  printf("%-9s %-7s %12s %12s %9s %9s %9s %9s %8s %14s %8s %9s %7s %7s %9s\n", "model", "backend", "agents(mean)",
         "world", "ms(mean)", "ms(med)", "min", "max", "stats%", "agent-steps/s", "B/as", "copyGB/s", "frac",
         "B/slot", "devB/agt");
  printf("%-9s %-7s %12lld %12s %9.3f %9.3f %9.3f %9.3f %8.2f %14.4g %8.1f %9.0f %7.3f %7zu %9.1f\n", cfg.model,
         cuda ? "cuda" : "cpu", (long long)mean_agents, world, mean, median, ms[0], ms[steps - 1],
         100 * median_stats / median, rate, bytes_per_agent_step, copy_gbs, fraction, bpa, device_per_agent);
  printf("hardware: %s; %s\n", hardware, cuda ? sim->backend_why : "cpu backend");
  if (csv) {
    FILE *f = fopen(csv, "a");
    if (!f) {
      fprintf(stderr, "step_throughput: cannot open %s\n", csv);
      return 3;
    }
    if (ftell(f) == 0)
      fprintf(f, "model,backend,agents_start,agents_mean,width,height,threads,steps,ms_per_step_mean,ms_per_step_median,ms_min,ms_max,"
                 "stats_ms_median,agent_steps_per_s,bytes_per_agent_step,copy_gb_per_s,fraction_of_copy_bw,"
                 "bytes_per_agent_slot,device_bytes_per_agent,hardware,commit,date\n");
    fprintf(f, "%s,%s,%lld,%lld,%lld,%lld,%d,%lld,%.4f,%.4f,%.4f,%.4f,%.4f,%.6g,%.2f,%.1f,%.4f,%zu,%.2f,%s,%s,%s\n",
            cfg.model, cuda ? "cuda" : "cpu", agents, (long long)mean_agents, (long long)cfg.width,
            (long long)cfg.height, sim->threads, steps, mean, median, ms[0], ms[steps - 1], median_stats, rate,
            bytes_per_agent_step, copy_gbs, fraction, bpa, device_per_agent, hardware, MYR_GIT_REVISION, date);
    fclose(f);
  }
  free(ms);
  free(ms_stats);
  free(stats);
  myr_sim_destroy(sim);
  myr_config_free(&cfg);
  return 0;
}
