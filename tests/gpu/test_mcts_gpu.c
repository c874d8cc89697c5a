/* Batched MCTS on the GPU against the CPU search (the reference): the same agents searched
 * from the same state give bit-identical actions, targets and root values, for the latent
 * and foraging models, both algorithms, root parallelism with several leaves per wave, the
 * proportional and adaptive allocations, trees of more than 256 slots, rollout values, and the
 * thread-per-agent selection (MYRIAD_MCTS_SELECT=thread) as well as the default group of lanes
 * per agent; and a GPU search gives the same bits whatever its chunk size. With the bf16
 * tensor-core network (network.precision: bf16; sm_80+): every action is legal, no target mass
 * falls on an illegal action, gumbel targets sum to 1 within 1e-5, values are finite, and the
 * search gives the same bits whatever its chunk size (the per-row rule).
 * Exits 77 (skipped) when no CUDA device is present. */
#define _POSIX_C_SOURCE 200809L /* setenv */
#include <cuda_runtime.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gpu_skip.h" /* gpu_or_skip */
#include "search/mcts_cuda.h"
#include "search/policy.h"
#include "sim/config.h"
#include "sim/sim.h"

int myr_cuda_device_view(const myr_sim *sim, myr_view *v, void **stream);

#define CUDA_REQUIRE(call) REQUIRE((call) == cudaSuccess, "%s: %s", #call, cudaGetErrorString(cudaGetLastError()))

static myr_sim *make_sim(myr_config *cfg, const char *yaml, const char *backend) {
  char set[64];
  snprintf(set, sizeof set, "run.backend=%s", backend);
  char *sets[1] = {set};
  myr_error e;
  REQUIRE(myr_config_load_text(cfg, "mcts-gpu.yaml", yaml, sets, 1, &e) == MYR_OK, "%s", e.msg);
  myr_sim *sim;
  REQUIRE(myr_sim_create(cfg, &sim, &e) == MYR_OK, "%s", e.msg);
  return sim;
}

typedef struct results {
  uint8_t *action;
  float *target, *value;
} results;

static results alloc_results(int64_t n, int A) {
  results r = {malloc((size_t)n), malloc((size_t)n * (size_t)A * sizeof(float)), malloc((size_t)n * sizeof(float))};
  return r;
}

/* Searches agents [0, n) of a CPU sim. */
static void search_cpu(myr_sim *sim, const myr_mcts_config *mc, myr_net *net, int64_t n, results *r) {
  const myr_model *m = sim->model;
  myr_mcts *w;
  myr_error e;
  REQUIRE(myr_mcts_create(&w, mc, m->plan, m->n_actions, net ? &net->shape : NULL, n, &e) == MYR_OK, "%s", e.msg);
  int64_t *agents = malloc((size_t)n * sizeof *agents);
  for (int64_t i = 0; i < n; i++) agents[i] = i;
  myr_view v = myr_sim_view(sim);
  myr_net_view nv = net ? myr_net_view_of(net) : (myr_net_view){0};
  myr_mcts_result out = {r->action, r->target, r->value};
  REQUIRE(myr_mcts_search_cpu(w, &v, net ? &nv : NULL, agents, n, 2, &out, &e) == MYR_OK, "%s", e.msg);
  free(agents);
  myr_mcts_destroy(w);
}

/* Searches agents [0, n) of a CUDA sim in chunks of `chunk`, the network in `precision`. */
static void search_gpu_in(myr_sim *sim, const myr_mcts_config *mc_in, myr_net *net, int64_t n, int64_t chunk,
                          int precision, results *r) {
  const myr_model *m = sim->model;
  int A = m->n_actions;
  myr_mcts_config mc = *mc_in;
  mc.chunk = chunk;
  myr_mcts_cuda *w;
  myr_error e;
  REQUIRE(myr_mcts_create_cuda(&w, &mc, m->plan, A, net ? &net->shape : NULL, n, &e) == MYR_OK, "%s", e.msg);
  myr_view dv;
  void *stream;
  REQUIRE(myr_cuda_device_view(sim, &dv, &stream), "not a CUDA sim");
  int64_t *agents = malloc((size_t)n * sizeof *agents), *dagents;
  for (int64_t i = 0; i < n; i++) agents[i] = i;
  CUDA_REQUIRE(cudaMalloc((void **)&dagents, (size_t)n * sizeof *dagents));
  CUDA_REQUIRE(cudaMemcpy(dagents, agents, (size_t)n * sizeof *agents, cudaMemcpyHostToDevice));
  float *dw = NULL;
  void *dw16 = NULL;
  myr_net_view dnet;
  memset(&dnet, 0, sizeof dnet);
  if (net) {
    CUDA_REQUIRE(cudaMalloc((void **)&dw, net->n_params * sizeof(float)));
    CUDA_REQUIRE(cudaMemcpy(dw, net->w, net->n_params * sizeof(float), cudaMemcpyHostToDevice));
    dnet.shape = net->shape;
    dnet.w = dw;
    if (precision == MYR_NET_BF16) {
      CUDA_REQUIRE(cudaMalloc(&dw16, myr_net_bf16_bytes(&net->shape)));
      CUDA_REQUIRE((cudaError_t)myr_net_pack_bf16_cuda(&dnet, dw16, NULL));
      dnet.precision = MYR_NET_BF16;
      dnet.w16 = dw16;
    }
  }
  myr_mcts_result dout;
  CUDA_REQUIRE(cudaMalloc((void **)&dout.action, (size_t)n));
  CUDA_REQUIRE(cudaMalloc((void **)&dout.target, (size_t)n * (size_t)A * sizeof(float)));
  CUDA_REQUIRE(cudaMalloc((void **)&dout.value, (size_t)n * sizeof(float)));
  REQUIRE(myr_mcts_search_cuda(w, &dv, net ? &dnet : NULL, dagents, n, &dout, stream, &e) == MYR_OK, "%s", e.msg);
  CUDA_REQUIRE(cudaMemcpy(r->action, dout.action, (size_t)n, cudaMemcpyDeviceToHost));
  CUDA_REQUIRE(cudaMemcpy(r->target, dout.target, (size_t)n * (size_t)A * sizeof(float), cudaMemcpyDeviceToHost));
  CUDA_REQUIRE(cudaMemcpy(r->value, dout.value, (size_t)n * sizeof(float), cudaMemcpyDeviceToHost));
  cudaFree(dout.action);
  cudaFree(dout.target);
  cudaFree(dout.value);
  cudaFree(dw);
  cudaFree(dw16);
  cudaFree(dagents);
  free(agents);
  myr_mcts_destroy_cuda(w);
}

static void search_gpu(myr_sim *sim, const myr_mcts_config *mc, myr_net *net, int64_t n, int64_t chunk, results *r) {
  search_gpu_in(sim, mc, net, n, chunk, MYR_NET_FP32, r);
}

static int compare(const char *what, const results *a, const results *b, int64_t n, int A) {
  int bad = 0;
  for (int64_t i = 0; i < n; i++) {
    int same = a->action[i] == b->action[i] && memcmp(&a->value[i], &b->value[i], sizeof(float)) == 0 &&
               memcmp(a->target + i * A, b->target + i * A, (size_t)A * sizeof(float)) == 0;
    if (!same && bad++ < 3)
      fprintf(stderr, "%s: agent %lld: action %d vs %d, value %.9g vs %.9g\n", what, (long long)i, a->action[i],
              b->action[i], a->value[i], b->value[i]);
  }
  return bad;
}

/* CPU and GPU (and two GPU chunk sizes) on the search settings mc. */
static void config_case(const char *name, const char *yaml, const myr_mcts_config *mcp, int64_t n) {
  myr_config cc, gc;
  myr_sim *cpu = make_sim(&cc, yaml, "cpu"), *gpu = make_sim(&gc, yaml, "cuda");
  const myr_model *m = cpu->model;
  int A = m->n_actions;
  myr_mcts_config mc = *mcp;
  int rollout = mc.rollout_depth;
  myr_net net = {{0}, NULL, 0};
  if (!rollout) {
    int hidden[2] = {32, 32};
    myr_net_shape shape;
    myr_error e;
    REQUIRE(myr_net_shape_make(&shape, m->plan->n_features, hidden, 2, A, &e) == MYR_OK, "%s", e.msg);
    REQUIRE(myr_net_create(&net, &shape, 77, &e) == MYR_OK, "%s", e.msg);
  }
  results rc = alloc_results(n, A), rg = alloc_results(n, A), rg2 = alloc_results(n, A);
  search_cpu(cpu, &mc, rollout ? NULL : &net, n, &rc);
  search_gpu(gpu, &mc, rollout ? NULL : &net, n, 0, &rg);
  search_gpu(gpu, &mc, rollout ? NULL : &net, n, 37, &rg2);
  int bad = compare(name, &rc, &rg, n, A), bad_chunk = compare(name, &rg, &rg2, n, A);
  printf("%-34s %6lld agents: GPU == CPU for %lld, chunk 37 == all for %lld\n", name, (long long)n,
         (long long)(n - bad), (long long)(n - bad_chunk));
  CHECK(bad == 0, "%s: %d agents differ between CPU and GPU", name, bad);
  CHECK(bad_chunk == 0, "%s: %d agents differ between GPU chunk sizes", name, bad_chunk);
  free(rc.action), free(rc.target), free(rc.value);
  free(rg.action), free(rg.target), free(rg.value);
  free(rg2.action), free(rg2.target), free(rg2.value);
  myr_net_free(&net);
  myr_sim_destroy(cpu);
  myr_sim_destroy(gpu);
  myr_config_free(&cc);
  myr_config_free(&gc);
}

static void one_case(const char *name, const char *yaml, int algorithm, int K, int L, int rollout, int64_t n) {
  myr_mcts_config mc = myr_mcts_defaults();
  mc.algorithm = algorithm;
  mc.simulations = 16;
  mc.root_trees = K;
  mc.leaves_per_wave = L;
  mc.rollout_depth = rollout;
  config_case(name, yaml, &mc, n);
}

/* MCTS with the bf16 network on the GPU: legal actions, targets on legal actions summing to 1
 * (gumbel), finite values, the same bits for two chunk sizes; agreement with the fp32 search's
 * actions printed (information). */
static void bf16_case(const char *name, const char *yaml, int algorithm, int64_t n) {
  myr_config cc, gc;
  myr_sim *cpu = make_sim(&cc, yaml, "cpu"), *gpu = make_sim(&gc, yaml, "cuda");
  const myr_model *m = cpu->model;
  const myr_model_plan *p = m->plan;
  int A = m->n_actions;
  myr_mcts_config mc = myr_mcts_defaults();
  mc.algorithm = algorithm;
  mc.simulations = 16;
  int hidden[2] = {64, 64};
  myr_net_shape shape;
  myr_net net;
  myr_error e;
  REQUIRE(myr_net_shape_make(&shape, p->n_features, hidden, 2, A, &e) == MYR_OK, "%s", e.msg);
  REQUIRE(myr_net_create(&net, &shape, 78, &e) == MYR_OK, "%s", e.msg);
  results r16 = alloc_results(n, A), r16b = alloc_results(n, A), r32 = alloc_results(n, A);
  search_gpu_in(gpu, &mc, &net, n, 0, MYR_NET_BF16, &r16);
  search_gpu_in(gpu, &mc, &net, n, 53, MYR_NET_BF16, &r16b);
  search_gpu_in(gpu, &mc, &net, n, 0, MYR_NET_FP32, &r32);
  /* The roots' legal masks, from the CPU sim (the same state). */
  myr_view v = myr_sim_view(cpu);
  uint8_t *ctx = calloc(1, (size_t)(p->context_bytes > 0 ? p->context_bytes : 1));
  uint8_t *st = calloc(1, (size_t)p->state_bytes);
  int64_t illegal = 0, mass = 0, sums = 0, nonfinite = 0, same_action = 0, some_illegal = 0;
  for (int64_t i = 0; i < n; i++) {
    uint8_t mask[MYR_MCTS_MAX_ACTIONS] = {0};
    p->root(&v, i, ctx, st);
    p->legal(v.params, ctx, st, mask);
    float sum = 0.0f;
    int any_illegal = 0;
    for (int a = 0; a < A; a++) {
      float t = r16.target[i * A + a];
      if (!mask[a]) {
        any_illegal = 1;
        if (t != 0.0f) mass++;
      }
      if (!isfinite(t)) nonfinite++;
      sum += t;
    }
    some_illegal += any_illegal;
    if (!mask[r16.action[i]]) illegal++;
    if (algorithm == MYR_MCTS_GUMBEL && fabsf(sum - 1.0f) > 1e-5f) sums++;
    if (!isfinite(r16.value[i])) nonfinite++;
    same_action += r16.action[i] == r32.action[i];
  }
  int bad_chunk = compare(name, &r16, &r16b, n, A);
  printf("%-34s %6lld agents (%lld with an illegal action): bf16 actions legal for %lld, chunk 53 == all for %lld, "
         "same action as fp32 for %lld\n",
         name, (long long)n, (long long)some_illegal, (long long)(n - illegal), (long long)(n - bad_chunk),
         (long long)same_action);
  CHECK(illegal == 0, "%s: %lld illegal actions chosen", name, (long long)illegal);
  CHECK(mass == 0, "%s: %lld targets give mass to an illegal action", name, (long long)mass);
  CHECK(sums == 0, "%s: %lld gumbel targets do not sum to 1 within 1e-5", name, (long long)sums);
  CHECK(nonfinite == 0, "%s: %lld non-finite targets or values", name, (long long)nonfinite);
  CHECK(bad_chunk == 0, "%s: %d agents differ between chunk sizes", name, bad_chunk);
  CHECK(some_illegal > 0 || algorithm != MYR_MCTS_GUMBEL || strstr(name, "latent"),
        "%s: no agent had an illegal action: the mask check tested nothing", name);
  free(ctx), free(st);
  free(r16.action), free(r16.target), free(r16.value);
  free(r16b.action), free(r16b.target), free(r16b.value);
  free(r32.action), free(r32.target), free(r32.value);
  myr_net_free(&net);
  myr_sim_destroy(cpu);
  myr_sim_destroy(gpu);
  myr_config_free(&cc);
  myr_config_free(&gc);
}

int main(void) {
  gpu_or_skip();
  const char *latent = "model: {name: latent}\nagents: {count: 3000}\nworld: {width: 1, height: 1}\n";
  const char *foraging = "model: {name: foraging, params: {max_age: 60}}\nagents: {count: 3000, capacity: 6000}\n"
                         "world: {width: 96, height: 80, wrap: false}\n";
  one_case("latent gumbel", latent, MYR_MCTS_GUMBEL, 1, 1, 0, 3000);
  one_case("latent muzero", latent, MYR_MCTS_MUZERO, 1, 1, 0, 3000);
  one_case("latent gumbel K=2 L=2", latent, MYR_MCTS_GUMBEL, 2, 2, 0, 3000);
  one_case("foraging gumbel", foraging, MYR_MCTS_GUMBEL, 1, 1, 0, 3000);
  one_case("foraging muzero K=3 L=2", foraging, MYR_MCTS_MUZERO, 3, 2, 0, 3000);
  one_case("foraging gumbel rollouts depth 4", foraging, MYR_MCTS_GUMBEL, 1, 1, 4, 3000);
  /* Allocations that take more waves than an equal one (the GPU launches its waves in runs and
   * checks between runs whether any agent has simulations left), trees of more than 256 slots
   * (u16 node indices), and the thread-per-agent selection kept for comparisons. */
  myr_mcts_config mc = myr_mcts_defaults();
  mc.simulations = 24;
  mc.root_trees = 4;
  mc.leaves_per_wave = 2;
  mc.simulation_allocation = MYR_ALLOC_ADAPTIVE;
  mc.result_merge = MYR_MERGE_VISIT_WEIGHTED;
  config_case("latent gumbel K=4 L=2 adaptive", latent, &mc, 2000);
  mc.algorithm = MYR_MCTS_MUZERO;
  mc.root_trees = 3;
  mc.leaves_per_wave = 1;
  mc.simulation_allocation = MYR_ALLOC_PROPORTIONAL;
  mc.result_merge = MYR_MERGE_MAX_VALUE;
  config_case("foraging muzero K=3 proportional", foraging, &mc, 2000);
  mc = myr_mcts_defaults();
  mc.simulations = 300;
  mc.max_depth = 0;
  config_case("latent gumbel S=300 (u16 indices)", latent, &mc, 300);
  mc.algorithm = MYR_MCTS_MUZERO;
  config_case("latent muzero S=300 (u16 indices)", latent, &mc, 300);
  setenv("MYRIAD_MCTS_SELECT", "thread", 1);
  one_case("latent gumbel, a thread per agent", latent, MYR_MCTS_GUMBEL, 1, 1, 0, 3000);
  one_case("foraging muzero K=3 L=2, a thread", foraging, MYR_MCTS_MUZERO, 3, 2, 0, 3000);
  unsetenv("MYRIAD_MCTS_SELECT");
  int dev = 0, major = 0;
  cudaGetDevice(&dev);
  cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev);
  if (major >= 8) {
    bf16_case("bf16 foraging gumbel", foraging, MYR_MCTS_GUMBEL, 3000);
    bf16_case("bf16 foraging muzero", foraging, MYR_MCTS_MUZERO, 3000);
    bf16_case("bf16 latent gumbel", latent, MYR_MCTS_GUMBEL, 3000);
  } else {
    printf("bf16 cases skipped: compute capability %d.x (bf16 tensor cores need 8.0+)\n", major);
  }
  return check_summary();
}
