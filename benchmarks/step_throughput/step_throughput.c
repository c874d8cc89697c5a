/* step_throughput: agent-steps per second of a model on this machine's backend.
 *
 *   step_throughput [-m MODEL] [-a AGENTS] [-n STEPS] [-w WARMUP] [-t THREADS] [-c CONFIG]
 *                   [-s key=value]... [--csv FILE]
 *
 * Builds the simulation from a config (default configs/<model>-10m.yaml, agents overridden),
 * runs WARMUP untimed steps, then times STEPS steps one by one (wall clock; CPU backend) and
 * reports the median, min and max ms per step, agent-steps/s at the median, and memory per
 * agent slot. Appends one CSV row per run with host, commit and date. Not a test: numbers
 * depend on the machine. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "myriad_version.h"
#include "sim/config.h"
#include "sim/progress.h"
#include "sim/sim.h"

#define MAX_SET 32

static int compare_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

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
                  "[-t THREADS] [-c CONFIG] [-s key=value]... [--csv FILE]\n", msg);
  exit(2);
}

int main(int argc, char **argv) {
  const char *model = "movement", *config = NULL, *csv = NULL;
  long long agents = 1000000, steps = 20, warmup = 3, threads = 0;
  char *set[MAX_SET + 4];
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
    } else if (!strcmp(a, "--csv")) csv = v;
    else die_usage("unknown option");
  }
  if (agents < 1 || steps < 1 || warmup < 0) die_usage("agents and steps must be positive");

  char path[1024], count[64], thr[64], cap[64];
  if (!config) {
    snprintf(path, sizeof path, "%s/configs/%s-10m.yaml", getenv("MYRIAD_SOURCE_DIR") ? getenv("MYRIAD_SOURCE_DIR") : ".", model);
    config = path;
  }
  snprintf(count, sizeof count, "agents.count=%lld", agents);
  snprintf(cap, sizeof cap, "agents.capacity=%lld", 2 * agents);
  snprintf(thr, sizeof thr, "run.threads=%lld", threads);
  set[n_set++] = count;
  set[n_set++] = cap;
  set[n_set++] = thr;

  myr_config cfg;
  myr_error err;
  myr_sim *sim;
  if (myr_config_load(&cfg, config, set, n_set, &err) != MYR_OK ||
      myr_sim_create(&cfg, &sim, &err) != MYR_OK) {
    fprintf(stderr, "step_throughput: %s\n", err.msg);
    return 1;
  }
  double *ms = malloc((size_t)steps * sizeof *ms), *stats = malloc((size_t)myr_sim_stat_count(sim) * sizeof *stats);
  double agent_steps = 0;
  for (long long s = 0; s < warmup + steps; s++) {
    int64_t n = sim->agents.n;
    double t0 = myr_wall_seconds();
    if (myr_sim_step(sim, &err) != MYR_OK) {
      fprintf(stderr, "step_throughput: %s\n", err.msg);
      return 1;
    }
    double t = myr_wall_seconds() - t0;
    if (s >= warmup) {
      ms[s - warmup] = 1e3 * t;
      agent_steps += (double)n;
    }
    myr_sim_stats(sim, stats); /* as a run records every step */
  }
  qsort(ms, (size_t)steps, sizeof *ms, compare_double);
  double median = steps % 2 ? ms[steps / 2] : 0.5 * (ms[steps / 2 - 1] + ms[steps / 2]);
  double mean_agents = agent_steps / (double)steps;
  double rate = mean_agents / (median * 1e-3);
  size_t bpa = myr_sim_bytes_per_agent(cfg.model_desc, (int)cfg.sync_frequency);

  char cpu[256], host[256] = "", date[32];
  cpu_name(cpu, sizeof cpu);
  gethostname(host, sizeof host - 1);
  time_t now = time(NULL);
  strftime(date, sizeof date, "%Y-%m-%d", gmtime(&now));
  printf("%-10s %-8s %12s %8s %12s %10s %10s %16s %12s\n", "model", "backend", "agents", "threads", "ms/step(med)",
         "min", "max", "agent-steps/s", "B/agent-slot");
  printf("%-10s %-8s %12lld %8d %12.3f %10.3f %10.3f %16.4g %12zu\n", cfg.model, "cpu", (long long)mean_agents,
         sim->threads, median, ms[0], ms[steps - 1], rate, bpa);
  if (csv) {
    FILE *f = fopen(csv, "a");
    if (!f) {
      fprintf(stderr, "step_throughput: cannot open %s\n", csv);
      return 3;
    }
    if (ftell(f) == 0)
      fprintf(f, "model,backend,agents,threads,steps,ms_per_step_median,ms_min,ms_max,agent_steps_per_s,"
                 "bytes_per_agent_slot,cpu,commit,date\n");
    fprintf(f, "%s,cpu,%lld,%d,%lld,%.4f,%.4f,%.4f,%.6g,%zu,%s,%s,%s\n", cfg.model, (long long)mean_agents,
            sim->threads, steps, median, ms[0], ms[steps - 1], rate, bpa, cpu, MYR_GIT_REVISION, date);
    fclose(f);
  }
  free(ms);
  free(stats);
  myr_sim_destroy(sim);
  myr_config_free(&cfg);
  return 0;
}
