/* mcts_bench: batched MCTS on one GPU (benchmarks/README.md). Workload of the search issue:
 * the latent model (9 actions, 16-float states), MLP 16-128-128-(9+1) fp32, B trees of S
 * simulations, both algorithms. For each (algorithm, B, S): ms per search (median of REPS
 * after one warm-up), node expansions per second (B x S / time), the network alone on the
 * same evaluations (S + 1 batches of B rows, no tree), their ratio, bytes per tree and per
 * node (the tree arrays and the model's state), and the whole device workspace per node (every
 * per-tree and per-wave array included). Then the foraging decision search: 1M agents, 32
 * simulations. --precision bf16 runs the network (search and network-only) on tensor cores.
 * --only foraging runs the foraging decision alone (for a profiler).
 *   mcts_bench [--reps N] [--csv FILE] [--quick] [--only B S gumbel|muzero | --only foraging]
 *              [--precision fp32|bf16]
 * Not a test: the numbers depend on the machine. */
#define _POSIX_C_SOURCE 200809L
#include <cuda_runtime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "benchmarks/median.h"
#include "myriad_version.h"
#include "search/mcts_cuda.h"
#include "sim/config.h"
#include "sim/progress.h"
#include "sim/sim.h"

int myr_cuda_probe(char *name, size_t n);
int myr_cuda_device_view(const myr_sim *sim, myr_view *v, void **stream);

#define DIE(...) (fprintf(stderr, "mcts_bench: " __VA_ARGS__), fputc('\n', stderr), exit(1))
#define CUDA(call)                                                                                   \
  do {                                                                                               \
    cudaError_t e_ = (call);                                                                         \
    if (e_ != cudaSuccess) DIE("%s: %s", #call, cudaGetErrorString(e_));                             \
  } while (0)


typedef struct bench_sim {
  myr_config cfg;
  myr_sim *sim;
  myr_net net;
  myr_net_view dnet;
  void *w16;
  int64_t *dagents;
  myr_mcts_result dout;
} bench_sim;

static void setup(bench_sim *b, const char *yaml, int64_t n, const int *hidden, int n_hidden, int precision) {
  myr_error e;
  if (myr_config_load_text(&b->cfg, "mcts_bench.yaml", yaml, NULL, 0, &e) != MYR_OK) DIE("%s", e.msg);
  if (myr_sim_create(&b->cfg, &b->sim, &e) != MYR_OK) DIE("%s", e.msg);
  if (!b->sim->backend) DIE("no CUDA backend: %s", b->sim->backend_why);
  const myr_model *m = b->sim->model;
  myr_net_shape shape;
  if (myr_net_shape_make(&shape, m->plan->n_features, hidden, n_hidden, m->n_actions, &e) != MYR_OK ||
      myr_net_create(&b->net, &shape, 1, &e) != MYR_OK)
    DIE("%s", e.msg);
  float *w;
  CUDA(cudaMalloc((void **)&w, b->net.n_params * sizeof(float)));
  CUDA(cudaMemcpy(w, b->net.w, b->net.n_params * sizeof(float), cudaMemcpyHostToDevice));
  b->dnet.shape = shape;
  b->dnet.w = w;
  if (precision == MYR_NET_BF16) {
    if (myr_net_bf16_check(&shape, 1, &e) != MYR_OK) DIE("%s", e.msg);
    CUDA(cudaMalloc(&b->w16, myr_net_bf16_bytes(&shape)));
    CUDA((cudaError_t)myr_net_pack_bf16_cuda(&b->dnet, b->w16, NULL));
    CUDA(cudaDeviceSynchronize());
    b->dnet.precision = MYR_NET_BF16;
    b->dnet.w16 = b->w16;
  }
  int64_t *agents = malloc((size_t)n * sizeof *agents);
  for (int64_t i = 0; i < n; i++) agents[i] = i;
  CUDA(cudaMalloc((void **)&b->dagents, (size_t)n * sizeof *agents));
  CUDA(cudaMemcpy(b->dagents, agents, (size_t)n * sizeof *agents, cudaMemcpyHostToDevice));
  free(agents);
  CUDA(cudaMalloc((void **)&b->dout.action, (size_t)n));
  CUDA(cudaMalloc((void **)&b->dout.target, (size_t)n * (size_t)m->n_actions * sizeof(float)));
  CUDA(cudaMalloc((void **)&b->dout.value, (size_t)n * sizeof(float)));
}

static void teardown(bench_sim *b) {
  cudaFree((void *)b->dnet.w);
  cudaFree(b->w16);
  cudaFree(b->dagents);
  cudaFree(b->dout.action);
  cudaFree(b->dout.target);
  cudaFree(b->dout.value);
  myr_net_free(&b->net);
  myr_sim_destroy(b->sim);
  myr_config_free(&b->cfg);
}

/* Median ms of `reps` searches of n agents (after one warm-up). */
static double time_search(bench_sim *b, const myr_mcts_config *mc, int64_t n, int reps, size_t *ws_bytes) {
  const myr_model *m = b->sim->model;
  myr_mcts_cuda *w;
  myr_error e;
  if (myr_mcts_create_cuda(&w, mc, m->plan, m->n_actions, &b->net.shape, n, &e) != MYR_OK) DIE("%s", e.msg);
  *ws_bytes = myr_mcts_cuda_bytes(w);
  myr_view v;
  void *stream;
  myr_cuda_device_view(b->sim, &v, &stream);
  double ms[32];
  for (int r = -1; r < reps; r++) {
    double t0 = myr_wall_seconds();
    if (myr_mcts_search_cuda(w, &v, &b->dnet, b->dagents, n, &b->dout, stream, &e) != MYR_OK) DIE("%s", e.msg);
    if (r >= 0) ms[r] = 1e3 * (myr_wall_seconds() - t0); /* the search returns when done */
  }
  myr_mcts_destroy_cuda(w);
  return myr_bench_median(ms, reps);
}

/* Median ms of the network alone on `batches` batches of `rows` rows (random inputs). */
static double time_network(bench_sim *b, int64_t rows, int batches, int reps) {
  int in = b->net.shape.size[0], outw = b->net.shape.size[b->net.shape.layers];
  float *x = malloc((size_t)rows * (size_t)in * sizeof(float)), *dx, *dy;
  for (int64_t i = 0; i < rows * in; i++) x[i] = (float)((i * 2654435761u) % 2001) / 1000.0f - 1.0f;
  CUDA(cudaMalloc((void **)&dx, (size_t)rows * (size_t)in * sizeof(float)));
  CUDA(cudaMalloc((void **)&dy, (size_t)rows * (size_t)outw * sizeof(float)));
  CUDA(cudaMemcpy(dx, x, (size_t)rows * (size_t)in * sizeof(float), cudaMemcpyHostToDevice));
  cudaEvent_t t0, t1;
  cudaEventCreate(&t0);
  cudaEventCreate(&t1);
  double ms[32];
  for (int r = -1; r < reps; r++) {
    cudaEventRecord(t0, 0);
    for (int k = 0; k < batches; k++)
      if (myr_net_forward_cuda(&b->dnet, dx, dy, rows, 0) != 0) DIE("network forward failed");
    cudaEventRecord(t1, 0);
    cudaEventSynchronize(t1);
    float f;
    cudaEventElapsedTime(&f, t0, t1);
    if (r >= 0) ms[r] = f;
  }
  cudaEventDestroy(t0);
  cudaEventDestroy(t1);
  cudaFree(dx);
  cudaFree(dy);
  free(x);
  return myr_bench_median(ms, reps);
}

int main(int argc, char **argv) {
  int reps = 5, quick = 0, only_alg = -1, only_s = 0, only_foraging = 0, precision = MYR_NET_FP32;
  int64_t only_b = 0;
  const char *csv = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--csv") && i + 1 < argc) csv = argv[++i];
    else if (!strcmp(argv[i], "--quick")) quick = 1;
    else if (!strcmp(argv[i], "--only") && i + 1 < argc && !strcmp(argv[i + 1], "foraging")) only_foraging = 1, i++;
    else if (!strcmp(argv[i], "--only") && i + 3 < argc) {
      only_b = atoll(argv[++i]);
      only_s = atoi(argv[++i]);
      only_alg = strcmp(argv[++i], "muzero") == 0 ? MYR_MCTS_MUZERO : MYR_MCTS_GUMBEL;
    } else if (!strcmp(argv[i], "--precision") && i + 1 < argc) {
      i++;
      if (!strcmp(argv[i], "bf16")) precision = MYR_NET_BF16;
      else if (strcmp(argv[i], "fp32")) DIE("--precision takes fp32 or bf16");
    } else
      DIE("usage: mcts_bench [--reps N] [--csv FILE] [--quick] [--only B S gumbel|muzero | --only foraging] "
          "[--precision fp32|bf16]");
  }
  if (reps < 1 || reps > 32) DIE("--reps takes 1 to 32");
  char device[256], date[32];
  if (!myr_cuda_probe(device, sizeof device)) DIE("%s", device);
  time_t now = time(NULL);
  strftime(date, sizeof date, "%Y-%m-%d", gmtime(&now));
  FILE *f = csv ? fopen(csv, "a") : NULL;
  if (csv && !f) DIE("cannot open %s", csv);
  if (f && ftell(f) == 0)
    fprintf(f, "workload,algorithm,trees,simulations,ms_per_search,expansions_per_s,network_ms,search_over_network,"
               "bytes_per_tree,bytes_per_node,workspace_bytes,hardware,commit,date,precision,"
               "workspace_bytes_per_node\n");
  const char *prec = precision == MYR_NET_BF16 ? "bf16" : "fp32";
  printf("precision: %s\n", prec);
  printf("%-9s %-7s %8s %4s %12s %14s %12s %8s %10s %8s %10s\n", "workload", "alg", "B", "S", "ms/search",
         "expansions/s", "network ms", "ratio", "B/tree", "B/node", "ws B/node");

  const int64_t Bs[] = {1024, 16384, 131072, 1048576};
  const int Ss[] = {16, 64};
  const int hidden[2] = {128, 128};
  int nB = only_foraging ? 0 : quick ? 2 : 4;
  for (int bi = 0; bi < nB; bi++) {
    int64_t B = Bs[bi];
    if (only_b && B != only_b) continue;
    char yaml[256];
    snprintf(yaml, sizeof yaml, "model: {name: latent}\nagents: {count: %lld}\nworld: {width: 1, height: 1}\n"
                                "run: {backend: cuda}\n", (long long)B);
    bench_sim b;
    memset(&b, 0, sizeof b);
    setup(&b, yaml, B, hidden, 2, precision);
    const myr_model *m = b.sim->model;
    for (int si = 0; si < 2; si++)
      for (int alg = 1; alg >= 0; alg--) {
        if (only_alg >= 0 && (alg != only_alg || Ss[si] != only_s)) continue;
        myr_mcts_config mc = myr_mcts_defaults();
        mc.algorithm = alg;
        mc.simulations = Ss[si];
        mc.max_depth = 0;
        size_t ws;
        double t = time_search(&b, &mc, B, reps, &ws);
        double tn = time_network(&b, B, Ss[si] + 1, reps);
        double rate = (double)B * Ss[si] / (t * 1e-3);
        size_t per_tree = myr_mcts_bytes_per_agent(&mc, m->plan, m->n_actions);
        size_t per_node = myr_mcts_bytes_per_node(&mc, m->plan, m->n_actions);
        const char *name = alg == MYR_MCTS_GUMBEL ? "gumbel" : "muzero";
        double ws_node = (double)ws / ((double)B * (double)(Ss[si] + 1)); /* node slots: S + 1 per tree */
        printf("%-9s %-7s %8lld %4d %12.3f %14.4g %12.3f %8.2f %10zu %8zu %10.1f\n", "latent", name, (long long)B,
               Ss[si], t, rate, tn, t / tn, per_tree, per_node, ws_node);
        if (f)
          fprintf(f, "latent,%s,%lld,%d,%.4f,%.6g,%.4f,%.3f,%zu,%zu,%zu,%s,%s,%s,%s,%.1f\n", name, (long long)B, Ss[si],
                  t, rate, tn, t / tn, per_tree, per_node, ws, device, MYR_GIT_REVISION, date, prec, ws_node);
        fflush(stdout);
      }
    teardown(&b);
  }

  if (only_b) {
    if (f) fclose(f);
    return 0;
  }
  /* The foraging decision: 1M agents, 32 simulations (gumbel, the default), network 11-128-128-10. */
  int64_t N = quick ? 100000 : 1000000;
  char yaml[512];
  snprintf(yaml, sizeof yaml, "model: {name: foraging}\nagents: {count: %lld, capacity: %lld}\n"
                              "world: {width: 2591, height: 2591}\nrun: {backend: cuda}\n",
           (long long)N, (long long)(2 * N));
  bench_sim b;
  memset(&b, 0, sizeof b);
  setup(&b, yaml, N, hidden, 2, precision);
  myr_mcts_config mc = myr_mcts_defaults();
  mc.simulations = 32;
  size_t ws;
  double t = time_search(&b, &mc, N, reps, &ws);
  double ws_node = (double)ws / ((double)N * 33.0);
  printf("%-9s %-7s %8lld %4d %12.3f %14.4g %12s %8s %10zu %8zu %10.1f\n", "foraging", "gumbel", (long long)N, 32, t,
         (double)N * 32 / (t * 1e-3), "-", "-", myr_mcts_bytes_per_agent(&mc, b.sim->model->plan, 9),
         myr_mcts_bytes_per_node(&mc, b.sim->model->plan, 9), ws_node);
  if (f)
    fprintf(f, "foraging,gumbel,%lld,32,%.4f,%.6g,,,%zu,%zu,%zu,%s,%s,%s,%s,%.1f\n", (long long)N, t,
            (double)N * 32 / (t * 1e-3), myr_mcts_bytes_per_agent(&mc, b.sim->model->plan, 9),
            myr_mcts_bytes_per_node(&mc, b.sim->model->plan, 9), ws, device, MYR_GIT_REVISION, date, prec, ws_node);
  teardown(&b);
  if (f) fclose(f);
  printf("hardware: %s; commit %s\n", device, MYR_GIT_REVISION);
  return 0;
}
