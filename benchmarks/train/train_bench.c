/* train_bench: training samples per second (issue 5's benchmark; benchmarks/README.md). The
 * default MLP of the foraging demonstration, 11-128-(128)-10 (11 planning features, 9 moves +
 * value), a batch of B samples (default 65536) in K virtual shards (default 8), random inputs
 * and targets from the counter RNG. Rows:
 *   gpu_update    myr_train_update_cuda: batch upload, forward, backward and the shard-ordered
 *                 gradient sum on the GPU, then the host's Adam step and the weights' round
 *                 trip (what a training phase costs)
 *   gpu_gradient  the gradient alone (no Adam, no weight download)
 *   cpu_update    myr_train_update with all cores (the reference), on a smaller batch unless
 *                 --cpu-batch says otherwise
 * Time per update is the median of REPS after one warm-up; samples/s = B / time.
 *   train_bench [--batch B] [--shards K] [--hidden 128,128] [--reps N] [--cpu-batch B] [--no-cpu]
 *               [--csv FILE]
 * Prints a table and, with --csv, appends rows with the hardware, commit and date. */
#define _POSIX_C_SOURCE 200809L
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "myriad_version.h"
#include "search/trainer.h"
#include "train/fixture.h" // fx_net, fx_batch_make: random networks and batches
#ifdef MYRIAD_HAVE_CUDA
#include <cuda_runtime.h>
#endif

#define DIE(...) (fprintf(stderr, "train_bench: " __VA_ARGS__), fputc('\n', stderr), exit(1))

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

typedef struct row {
  const char *what;
  int64_t batch;
  double ms, rate;
} row;

static void put(FILE *csv, const row *r, const char *shape, int K, const char *hw) {
  printf("%-14s %10lld %12.3f %14.4g\n", r->what, (long long)r->batch, r->ms, r->rate);
  if (!csv) return;
  char date[32];
  time_t t = time(NULL);
  strftime(date, sizeof date, "%Y-%m-%d", gmtime(&t));
  fprintf(csv, "%s,%s,%lld,%d,%.4f,%.6g,%s,%s,%s\n", r->what, shape, (long long)r->batch, K, r->ms, r->rate, hw,
          MYR_GIT_REVISION, date);
}

int main(int argc, char **argv) {
  int64_t batch = 65536, cpu_batch = 4096;
  int K = 8, reps = 20, cpu = 1, hidden[MYR_NET_MAX_LAYERS], n_hidden = 2;
  hidden[0] = hidden[1] = 128;
  const char *csv_path = NULL;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--batch") && i + 1 < argc) batch = atoll(argv[++i]);
    else if (!strcmp(a, "--shards") && i + 1 < argc) K = atoi(argv[++i]);
    else if (!strcmp(a, "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
    else if (!strcmp(a, "--cpu-batch") && i + 1 < argc) cpu_batch = atoll(argv[++i]);
    else if (!strcmp(a, "--no-cpu")) cpu = 0;
    else if (!strcmp(a, "--csv") && i + 1 < argc) csv_path = argv[++i];
    else if (!strcmp(a, "--hidden") && i + 1 < argc) {
      n_hidden = 0;
      for (char *t = strtok(argv[++i], ","); t && n_hidden < MYR_NET_MAX_LAYERS - 1; t = strtok(NULL, ","))
        hidden[n_hidden++] = atoi(t);
    } else {
      printf("usage: train_bench [--batch B] [--shards K] [--hidden 128,128] [--reps N] [--cpu-batch B] [--no-cpu] "
             "[--csv FILE]\n");
      return strcmp(a, "--help") && strcmp(a, "-h") ? 2 : 0;
    }
  }
  if (batch < K || K < 1 || reps < 1) DIE("expected batch >= shards >= 1 and reps >= 1");
  myr_net_shape s = fx_shape(11, hidden, n_hidden, 9);
  char shape[MYR_NET_SHAPE_STR];
  myr_net_shape_str(&s, shape, sizeof shape);
  FILE *csv = NULL;
  if (csv_path) {
    FILE *probe = fopen(csv_path, "r");
    int fresh = probe == NULL;
    if (probe) fclose(probe);
    if (!(csv = fopen(csv_path, "a"))) DIE("cannot write %s", csv_path);
    if (fresh) fprintf(csv, "what,shape,batch,shards,ms_per_update,samples_per_s,hardware,commit,date\n");
  }
  double *t = malloc((size_t)reps * sizeof *t);
  if (!t) DIE("out of memory");
  myr_error err = {0};
  myr_train_config c = MYR_TRAIN_CONFIG_DEFAULTS;
  c.shards = K;
  printf("network %s, %d shards, median of %d\n%-14s %10s %12s %14s\n", shape, K, reps, "what", "batch",
         "ms/update", "samples/s");

#ifdef MYRIAD_HAVE_CUDA
  int devices = 0;
  if (cudaGetDeviceCount(&devices) == cudaSuccess && devices > 0) {
    struct cudaDeviceProp p;
    cudaGetDeviceProperties(&p, 0);
    char hw[256];
    snprintf(hw, sizeof hw, "%s", p.name);
    myr_net net = fx_net(&s, 1);
    fx_batch b = fx_batch_make(batch, 11, 9, 2, 0);
    c.batch_size = (int)batch;
    myr_train_state st;
    if (myr_train_state_create(&st, &net, K, &err) != MYR_OK) DIE("%s", err.msg);
    void *ws = NULL;
    float *grad = malloc(net.n_params * sizeof *grad);
    for (int pass = 0; pass < 2; pass++) {
      for (int r = -1; r < reps; r++) {
        double t0 = now();
        myr_status ok = pass == 0 ? myr_train_update_cuda(&net, &st, &c, &b.b, &ws, NULL, &err)
                                  : myr_train_gradient_cuda(&net, &b.b, K, c.value_weight, &ws, grad, &err);
        if (ok != MYR_OK) DIE("%s", err.msg);
        if (r >= 0) t[r] = now() - t0;
      }
      qsort(t, (size_t)reps, sizeof *t, cmp);
      row r = {pass == 0 ? "gpu_update" : "gpu_gradient", batch, 1e3 * t[reps / 2], (double)batch / t[reps / 2]};
      put(csv, &r, shape, K, hw);
    }
    myr_train_cuda_free(&ws);
    free(grad);
    myr_train_state_free(&st);
    fx_batch_free(&b);
    myr_net_free(&net);
  } else {
    printf("(no CUDA device: GPU rows skipped)\n");
  }
#endif
  if (cpu) {
    int64_t n = cpu_batch < K ? K : cpu_batch;
    myr_net net = fx_net(&s, 1);
    fx_batch b = fx_batch_make(n, 11, 9, 2, 0);
    c.batch_size = (int)n;
    myr_train_state st;
    if (myr_train_state_create(&st, &net, K, &err) != MYR_OK) DIE("%s", err.msg);
    int cr = reps < 5 ? reps : 5;
    for (int r = -1; r < cr; r++) {
      double t0 = now();
      if (myr_train_update(&net, &st, &c, &b.b, 0, NULL, &err) != MYR_OK) DIE("%s", err.msg);
      if (r >= 0) t[r] = now() - t0;
    }
    qsort(t, (size_t)cr, sizeof *t, cmp);
    char cpu_hw[64];
    snprintf(cpu_hw, sizeof cpu_hw, "cpu %d threads", omp_get_max_threads());
    row r = {"cpu_update", n, 1e3 * t[cr / 2], (double)n / t[cr / 2]};
    put(csv, &r, shape, K, cpu_hw);
    myr_train_state_free(&st);
    fx_batch_free(&b);
    myr_net_free(&net);
  }
  free(t);
  if (csv) fclose(csv);
  return 0;
}
