/* The CUDA half of the planning interfaces and of the latent model against the CPU, bit for
 * bit (label gpu; exits 77 when no CUDA device is present):
 * - root_cuda of every agent (context, root state, legal mask, feature row) equals the CPU's
 *   root / legal / features, for foraging (closed world, sync window 3, roots inside the
 *   window, so own claims are subtracted) and latent;
 * - waves of expansions (random parents and legal actions, as a search would make them)
 *   through expand_cuda equal plan->expand on the CPU: states, rewards, terminal flags, masks,
 *   feature rows, and rollout values;
 * - the latent model on the CUDA backend: the same state hash and statistics as the CPU
 *   backend at every step, random and heuristic policies. */
#include <cuda_runtime_api.h>
#include <string.h>

#include "../models/common.h"
#include "gpu_skip.h" /* gpu_or_skip */
#include "models/plan_hd.h" /* myr_plan_mask_bits */
#include "sim/hash.h"

#define CU(call)                                                                                    \
  do {                                                                                             \
    cudaError_t e_ = (call);                                                                       \
    REQUIRE(e_ == cudaSuccess, "%s: %s", #call, cudaGetErrorString(e_));                            \
  } while (0)


static void *dev_copy(const void *host, size_t bytes) {
  void *d = NULL;
  CU(cudaMalloc(&d, bytes ? bytes : 1));
  if (host && bytes) CU(cudaMemcpy(d, host, bytes, cudaMemcpyHostToDevice));
  if (!host && bytes) CU(cudaMemset(d, 0, bytes));
  return d;
}

static void from_dev(void *host, const void *dev, size_t bytes) {
  CU(cudaMemcpy(host, dev, bytes, cudaMemcpyDeviceToHost));
}

/* A device copy of a CPU sim's state, as a view (its buffers freed by dev_view_free). */
static myr_view dev_view(const myr_sim *sim) {
  myr_view v = myr_sim_view(sim), d = v;
  size_t cap = (size_t)v.capacity;
  d.id = dev_copy(v.id, cap * sizeof *v.id);
  d.alive = dev_copy(v.alive, cap);
  d.action = dev_copy(v.action, cap);
  d.children = dev_copy(v.children, cap);
  for (int c = 0; c < sim->model->n_columns; c++)
    d.col[c] = dev_copy(v.col[c], cap * (size_t)sim->agents.components[c] * myr_type_size(sim->model->columns[c].type));
  for (int l = 0; l < sim->model->n_layers; l++)
    d.layer[l] = dev_copy(v.layer[l], (size_t)myr_cells(&v) * myr_type_size(sim->model->layers[l].type));
  d.params = dev_copy(v.params, sim->model->params_size);
  d.flows_window = dev_copy(v.flows_window, MYR_MAX_FLOWS * sizeof *v.flows_window); /* per-agent code may read them */
  d.flows_total = dev_copy(v.flows_total, MYR_MAX_FLOWS * sizeof *v.flows_total);
  return d;
}

static void dev_view_free(const myr_sim *sim, myr_view *d) {
  cudaFree(d->id);
  cudaFree(d->alive);
  cudaFree(d->action);
  cudaFree(d->children);
  for (int c = 0; c < sim->model->n_columns; c++) cudaFree(d->col[c]);
  for (int l = 0; l < sim->model->n_layers; l++) cudaFree(d->layer[l]);
  cudaFree((void *)d->params);
  cudaFree((void *)d->flows_window);
  cudaFree((void *)d->flows_total);
}

static int first_difference(const void *a, const void *b, size_t bytes) {
  const uint8_t *x = a, *y = b;
  for (size_t k = 0; k < bytes; k++)
    if (x[k] != y[k]) return (int)k;
  return -1;
}

#define SAME(name, a, b, bytes)                                                                    \
  do {                                                                                             \
    int at_ = first_difference(a, b, bytes);                                                       \
    CHECK(at_ < 0, "%s: CPU and GPU differ first at byte %d of %zu", name, at_, (size_t)(bytes));   \
  } while (0)

/* Roots of up to max_trees alive agents, then nodes - 1 waves of one expansion per tree. */
static void compare_plan(const myr_sim *sim, int64_t max_trees, int nodes, int rollout_depth) {
  const myr_model_plan *pl = sim->model->plan;
  REQUIRE(pl && pl->root_cuda && pl->expand_cuda, "model %s has no CUDA planning", sim->model->name);
  const int na = sim->model->n_actions, nf = pl->n_features;
  const size_t cb = (size_t)pl->context_bytes, sb = (size_t)pl->state_bytes;
  myr_view v = myr_sim_view(sim), d = dev_view(sim);
  int64_t *slots = malloc((size_t)max_trees * sizeof *slots);
  uint64_t *agent = malloc((size_t)max_trees * sizeof *agent);
  REQUIRE(slots && agent, "out of memory");
  int64_t trees = 0;
  for (int64_t i = 0; i < v.n && trees < max_trees; i++)
    if (v.alive[i]) {
      slots[trees] = i;
      agent[trees++] = v.id[i];
    }
  size_t tn = (size_t)trees * (size_t)nodes;
  uint8_t *ctx = calloc((size_t)trees * cb + 1, 1), *state = calloc(tn * sb, 1), *term = calloc(tn, 1);
  uint8_t *ctx_g = calloc((size_t)trees * cb + 1, 1), *state_g = calloc(tn * sb, 1);
  uint32_t *legal = calloc(tn, sizeof *legal), *legal_g = calloc(tn, sizeof *legal_g);
  float *reward = calloc(tn, sizeof *reward);
  /* a wave's rows (plan.h: reward, terminal flag and mask in k order), the CPU's and the GPU's */
  float *row_reward = calloc((size_t)trees, sizeof(float)), *row_reward_g = calloc((size_t)trees, sizeof(float));
  uint8_t *row_term = calloc((size_t)trees, 1), *row_term_g = calloc((size_t)trees, 1);
  uint32_t *row_legal = calloc((size_t)trees, sizeof(uint32_t)), *row_legal_g = calloc((size_t)trees, sizeof(uint32_t));
  float *feat = calloc((size_t)trees * (size_t)nf, sizeof *feat), *feat_g = calloc((size_t)trees * (size_t)nf, sizeof *feat_g);
  float *value = calloc((size_t)trees, sizeof *value), *value_g = calloc((size_t)trees, sizeof *value_g);
  REQUIRE(ctx && state && term && ctx_g && state_g && legal && legal_g && reward && feat && feat_g && value &&
              value_g && row_reward && row_reward_g && row_term && row_term_g && row_legal && row_legal_g,
          "out of memory");

  /* roots */
  uint8_t mask[MYR_MAX_ACTIONS];
  for (int64_t t = 0; t < trees; t++) {
    uint8_t *c = cb ? ctx + (size_t)t * cb : NULL, *s = state + (size_t)t * (size_t)nodes * sb;
    pl->root(&v, slots[t], c, s);
    pl->legal(v.params, c, s, mask);
    legal[(size_t)t * (size_t)nodes] = myr_plan_mask_bits(mask, na);
    pl->features(v.params, c, s, feat + (size_t)t * (size_t)nf);
  }
  int64_t *d_slots = dev_copy(slots, (size_t)trees * sizeof *slots);
  uint64_t *d_agent = dev_copy(agent, (size_t)trees * sizeof *agent);
  uint8_t *d_ctx = dev_copy(NULL, (size_t)trees * cb), *d_state = dev_copy(NULL, tn * sb);
  uint32_t *d_legal = dev_copy(NULL, tn * sizeof(uint32_t));
  float *d_reward = dev_copy(NULL, (size_t)trees * sizeof(float));
  float *d_feat = dev_copy(NULL, (size_t)trees * (size_t)nf * sizeof(float));
  uint8_t *d_row_term = dev_copy(NULL, (size_t)trees);
  uint32_t *d_row_legal = dev_copy(NULL, (size_t)trees * sizeof(uint32_t));
  float *d_value = dev_copy(NULL, (size_t)trees * sizeof(float));
  CU((cudaError_t)pl->root_cuda(&d, d_slots, trees, d_ctx, d_state, nodes, d_legal, d_feat, NULL));
  CU(cudaDeviceSynchronize());
  from_dev(ctx_g, d_ctx, (size_t)trees * cb);
  from_dev(state_g, d_state, tn * sb);
  from_dev(legal_g, d_legal, tn * sizeof(uint32_t));
  from_dev(feat_g, d_feat, (size_t)trees * (size_t)nf * sizeof(float));
  SAME("root contexts", ctx, ctx_g, (size_t)trees * cb);
  SAME("root states", state, state_g, tn * sb);
  SAME("root masks", legal, legal_g, tn * sizeof(uint32_t));
  SAME("root features", feat, feat_g, (size_t)trees * (size_t)nf * sizeof(float));

  /* waves */
  int32_t *tree = malloc((size_t)trees * sizeof *tree), *parent = malloc((size_t)trees * sizeof *parent);
  int32_t *child = malloc((size_t)trees * sizeof *child);
  uint8_t *action = malloc((size_t)trees);
  REQUIRE(tree && parent && child && action, "out of memory");
  int32_t *d_tree = dev_copy(NULL, (size_t)trees * 4), *d_parent = dev_copy(NULL, (size_t)trees * 4);
  int32_t *d_child = dev_copy(NULL, (size_t)trees * 4);
  uint8_t *d_action = dev_copy(NULL, (size_t)trees);
  myr_plan_batch hb = {.nodes = nodes, .context = cb ? ctx : NULL, .state = state, .reward = row_reward,
                       .terminal = row_term, .legal = row_legal, .features = feat, .discount = 0.97f, .value = value, .agent = agent,
                       .step = v.step, .seed = v.seed, .params = v.params, .tree = tree, .parent = parent,
                       .child = child, .action = action};
  myr_plan_batch db = {.nodes = nodes, .context = cb ? d_ctx : NULL, .state = d_state, .reward = d_reward,
                       .terminal = d_row_term, .legal = d_row_legal, .features = d_feat, .discount = 0.97f,
                       .value = d_value, .agent = d_agent, .step = v.step, .seed = v.seed, .params = d.params,
                       .tree = d_tree, .parent = d_parent, .child = d_child, .action = d_action};
  myr_rng r = myr_rng_make(31, 31, 31, MYR_RNG_MODEL);
  int64_t expansions = 0, rollouts = 0, terminals = 0;
  for (int wave = 1; wave < nodes; wave++) {
    int64_t n = 0;
    for (int64_t t = 0; t < trees; t++) {
      int32_t par = (int32_t)myr_rng_below(&r, (uint32_t)wave);
      size_t pn = (size_t)t * (size_t)nodes + (size_t)par;
      if (term[pn]) continue;
      int nl = 0;
      for (int a = 0; a < na; a++) {
        mask[a] = (uint8_t)((legal[pn] >> a) & 1u);
        nl += mask[a];
      }
      tree[n] = (int32_t)t;
      parent[n] = par;
      child[n] = wave;
      action[n] = (uint8_t)myr_nth_legal(mask, na, myr_rng_below(&r, (uint32_t)nl));
      n++;
    }
    hb.n = db.n = n;
    hb.rollout_depth = db.rollout_depth = wave % 3 == 0 ? 0 : rollout_depth;
    CU(cudaMemcpy(d_tree, tree, (size_t)n * 4, cudaMemcpyHostToDevice));
    CU(cudaMemcpy(d_parent, parent, (size_t)n * 4, cudaMemcpyHostToDevice));
    CU(cudaMemcpy(d_child, child, (size_t)n * 4, cudaMemcpyHostToDevice));
    CU(cudaMemcpy(d_action, action, (size_t)n, cudaMemcpyHostToDevice));
    pl->expand(&hb, 0, n);
    CU((cudaError_t)pl->expand_cuda(&db, NULL));
    CU(cudaDeviceSynchronize());
    from_dev(state_g, d_state, tn * sb);
    from_dev(row_reward_g, d_reward, (size_t)n * sizeof(float));
    from_dev(row_term_g, d_row_term, (size_t)n);
    from_dev(row_legal_g, d_row_legal, (size_t)n * sizeof(uint32_t));
    from_dev(feat_g, d_feat, (size_t)n * (size_t)nf * sizeof(float));
    SAME("states", state, state_g, tn * sb);
    SAME("rewards", row_reward, row_reward_g, (size_t)n * sizeof(float));
    SAME("terminal flags", row_term, row_term_g, (size_t)n);
    SAME("masks", row_legal, row_legal_g, (size_t)n * sizeof(uint32_t));
    SAME("feature rows", feat, feat_g, (size_t)n * (size_t)nf * sizeof(float));
    for (int64_t k = 0; k < n; k++) { /* the nodes' fields, as the search's set_leaf copies them */
      size_t node = (size_t)tree[k] * (size_t)nodes + (size_t)child[k];
      reward[node] = row_reward[k];
      term[node] = row_term[k];
      legal[node] = row_legal[k];
    }
    if (hb.rollout_depth > 0) {
      from_dev(value_g, d_value, (size_t)n * sizeof(float));
      SAME("rollout values", value, value_g, (size_t)n * sizeof(float));
      rollouts += n;
    }
    expansions += n;
  }
  for (size_t k = 0; k < tn; k++) terminals += term[k];
  printf("%s: %lld roots, %lld expansions (%lld terminal), %lld rollouts of depth %d: GPU == CPU\n",
         sim->model->name, (long long)trees, (long long)expansions, (long long)terminals, (long long)rollouts,
         rollout_depth);
  CHECK(expansions > (int64_t)trees, "only %lld expansions", (long long)expansions);

  void *dev[] = {d_slots, d_agent, d_ctx, d_state, d_legal, d_reward, d_row_term, d_row_legal, d_feat, d_value,
                 d_tree, d_parent, d_child, d_action};
  for (size_t k = 0; k < sizeof dev / sizeof dev[0]; k++) cudaFree(dev[k]);
  void *host[] = {slots, agent, ctx, state, term, ctx_g, state_g, legal, legal_g, reward, row_reward, row_reward_g,
                  row_term, row_term_g, row_legal, row_legal_g, feat, feat_g, value, value_g, tree, parent, child, action};
  for (size_t k = 0; k < sizeof host / sizeof host[0]; k++) free(host[k]);
  dev_view_free(sim, &d);
}

static void test_foraging(void) {
  test_sim t;
  test_sim_open(&t,
                "run: {steps: 50, seed: 17, backend: cpu}\n"
                "world: {width: 200, height: 150, wrap: false}\n"
                "agents: {count: 20000, capacity: 60000}\n"
                "model: {name: foraging, params: {max_age: 80, metabolism: 0.8}}\n"
                "policy: {kind: heuristic}\n"
                "distributed: {sync_frequency: 3}\n");
  for (int s = 0; s < 7; s++) test_sim_step(&t); /* window step 1: own claims in the window */
  compare_plan(t.sim, 20000, 17, 12);
  test_sim_close(&t);
  test_sim_open(&t,
                "run: {steps: 50, seed: 18, backend: cpu}\n"
                "world: {width: 13, height: 300, wrap: true}\n"
                "agents: {count: 5000, capacity: 20000}\n"
                "model: {name: foraging, params: {max_age: 30, metabolism: 0.5, hill_radius: 2.0}}\n"
                "policy: {kind: random}\n"
                "distributed: {sync_frequency: 1}\n");
  for (int s = 0; s < 5; s++) test_sim_step(&t);
  compare_plan(t.sim, 5000, 12, 30);
  test_sim_close(&t);
}

static void test_latent_plan(void) {
  test_sim t;
  test_sim_open(&t,
                "run: {steps: 50, seed: 19, backend: cpu}\n"
                "world: {width: 1, height: 1}\n"
                "agents: {count: 30000, capacity: 30000}\n"
                "model: {name: latent, params: {w_scale: 1.5, w_seed: 4}}\n"
                "policy: {kind: random}\n");
  for (int s = 0; s < 3; s++) test_sim_step(&t);
  compare_plan(t.sim, 30000, 12, 16);
  test_sim_close(&t);
}

/* The latent model on both backends: hash and statistics at every step. */
static void test_latent_backends(const char *policy) {
  enum { STEPS = 40 };
  char hex[2][MYR_HASH_HEX];
  double *stats[2];
  int nstat = 0;
  const char *backend[2] = {"cpu", "cuda"};
  for (int b = 0; b < 2; b++) {
    test_sim t;
    test_sim_open(&t,
                  "run: {steps: %d, seed: 23, backend: %s}\n"
                  "world: {width: 1, height: 1}\n"
                  "agents: {count: 100000, capacity: 100000}\n"
                  "model: {name: latent, params: {w_scale: 0.7}}\n"
                  "policy: {kind: %s}\n",
                  STEPS, backend[b], policy);
    REQUIRE((b == 1) == (t.sim->backend != NULL), "backend %s not used: %s", backend[b], t.sim->backend_why);
    nstat = myr_sim_stat_count(t.sim);
    stats[b] = calloc((size_t)(STEPS * nstat), sizeof(double));
    REQUIRE(stats[b], "out of memory");
    for (int s = 0; s < STEPS; s++) {
      t.sim->record_hint = s % 2;
      test_sim_step(&t);
      myr_sim_stats(t.sim, stats[b] + (size_t)s * (size_t)nstat);
    }
    myr_error e;
    uint8_t h[MYR_HASH_BYTES];
    REQUIRE(myr_sim_to_host(t.sim, &e) == MYR_OK && myr_sim_hash(t.sim, h, &e) == MYR_OK, "%s", e.msg);
    myr_hash_hex(h, hex[b]);
    test_sim_close(&t);
  }
  CHECK(strcmp(hex[0], hex[1]) == 0, "latent %s: CPU hash %s, GPU hash %s", policy, hex[0], hex[1]);
  SAME("latent statistics", stats[0], stats[1], (size_t)(STEPS * nstat) * sizeof(double));
  printf("latent %s: %d steps of 100000 agents, CPU hash == GPU hash %.16s...\n", policy, STEPS, hex[1]);
  free(stats[0]);
  free(stats[1]);
}

int main(void) {
  gpu_or_skip();
  test_foraging();
  test_latent_plan();
  test_latent_backends("random");
  test_latent_backends("heuristic");
  return check_summary();
}
