/* latent (models/latent): the model and its planning interface through the library API.
 * - W from setup() is a pure function of (w_seed, w_scale): equal for equal seeds (also under
 *   another run.seed), different for another w_seed, every entry in [-w_scale, w_scale);
 * - initial states in [-1, 1);
 * - plan_step equals the real step bit for bit: for every agent, the state after the engine's
 *   step (myr_sim_step, random and heuristic policies) equals plan_step(plan_root before, the
 *   action the engine took), and the recorded mean_reward equals the mean of the imagined
 *   rewards in the model's fixed point (exactly: the same integers);
 * - the heuristic picks the action of highest one-step reward (plan_step's reward over all 9
 *   actions), the lowest index on ties;
 * - root features equal the model's features; all 9 actions legal; never terminal; no context;
 * - batch expansion with rollouts against direct calls and the documented random streams;
 * - mean_abs_s equals the mean |s| computed here. */
#include <string.h>

#include "../models/common.h"
#include "models/latent/latent.h"

static const myr_model_plan *plan_of(const myr_sim *sim) {
  REQUIRE(sim->model->plan, "model %s has no planning interface", sim->model->name);
  return sim->model->plan;
}

static void open_latent(test_sim *t, uint32_t seed, int64_t w_seed, double w_scale, int count, const char *policy) {
  test_sim_open(t,
                "run: {steps: 100, seed: %u, backend: cpu}\n"
                "world: {width: 1, height: 1}\n"
                "agents: {count: %d, capacity: %d}\n"
                "model: {name: latent, params: {w_seed: %lld, w_scale: %g}}\n"
                "policy: {kind: %s}\n",
                seed, count, count, (long long)w_seed, w_scale, policy);
}

static void test_w(void) {
  test_sim a, b, c, d;
  open_latent(&a, 1, 7, 0.5, 4, "random");
  open_latent(&b, 2, 7, 0.5, 4, "random"); /* another run seed: the same task */
  open_latent(&c, 1, 8, 0.5, 4, "random");
  open_latent(&d, 1, 7, 2.0, 4, "random");
  const latent_params *pa = a.sim->params, *pb = b.sim->params, *pc = c.sim->params, *pd = d.sim->params;
  CHECK(memcmp(pa->w, pb->w, sizeof pa->w) == 0, "W differs for the same w_seed");
  CHECK(memcmp(pa->w, pc->w, sizeof pa->w) != 0, "W is the same for w_seed 7 and 8");
  int out = 0, differ = 0, scaled = 0;
  float lo = 1.0f, hi = -1.0f;
  for (int x = 0; x < LATENT_ACTIONS; x++)
    for (int k = 0; k < LATENT_DIM; k++) {
      float w = pa->w[x][k];
      out += !(w >= -0.5f && w < 0.5f);
      lo = w < lo ? w : lo;
      hi = w > hi ? w : hi;
      if (x > 0) differ += w != pa->w[0][k];
      /* the same draws scaled: 2.0 / 0.5 = 4 exactly */
      scaled += pd->w[x][k] != 4.0f * w;
    }
  CHECK(out == 0, "%d entries of W outside [-0.5, 0.5)", out);
  CHECK(lo < -0.3f && hi > 0.3f, "W spans only [%g, %g]", lo, hi);
  CHECK(differ > 100, "rows of W are alike (%d differences)", differ);
  CHECK(scaled == 0, "%d entries of W are not w_scale times the same draws", scaled);
  /* The same seed gives the same initial states; another run seed other ones. */
  myr_view va = myr_sim_view(a.sim), vb = myr_sim_view(b.sim);
  CHECK(memcmp(va.col[LATENT_S], vb.col[LATENT_S], 4 * LATENT_DIM * sizeof(float)) != 0,
        "run seeds 1 and 2 give the same initial states");
  test_sim_close(&a);
  test_sim_close(&b);
  test_sim_close(&c);
  test_sim_close(&d);
}

/* Every agent's state through plan_root (host copies, in slot order). */
static latent_plan_state *roots(const myr_sim *sim) {
  myr_view v = myr_sim_view(sim);
  latent_plan_state *s = calloc((size_t)v.n, sizeof *s);
  REQUIRE(s, "out of memory");
  for (int64_t i = 0; i < v.n; i++) plan_of(sim)->root(&v, i, NULL, (uint8_t *)&s[i]);
  return s;
}

static void test_step_equals_real(const char *policy) {
  enum { N = 3000, STEPS = 12 };
  test_sim t;
  open_latent(&t, 5, 3, 0.8, N, policy);
  const myr_model_plan *pl = plan_of(t.sim);
  const latent_params *p = t.sim->params;
  int k_reward = test_stat(t.sim, "mean_reward"), k_abs = test_stat(t.sim, "mean_abs_s");
  double *st = calloc((size_t)myr_sim_stat_count(t.sim), sizeof *st);
  REQUIRE(st, "out of memory");
  int bad_state = 0, bad_heur = 0, bad_init = 0, bad_feat = 0, ties = 0;
  myr_view v0 = myr_sim_view(t.sim);
  for (int64_t i = 0; i < v0.n; i++)
    for (int k = 0; k < LATENT_DIM; k++) {
      float x = MYR_COL(&v0, LATENT_S, float)[(int64_t)k * v0.capacity + i];
      bad_init += !(x >= -1.0f && x < 1.0f);
    }
  for (int step = 0; step < STEPS; step++) {
    latent_plan_state *before = roots(t.sim);
    myr_view v = myr_sim_view(t.sim);
    /* root features and masks */
    for (int64_t i = 0; i < v.n; i++) {
      float row[LATENT_FEATURES], real_row[LATENT_FEATURES];
      uint8_t mask[LATENT_ACTIONS];
      pl->features(p, NULL, (const uint8_t *)&before[i], row);
      t.sim->model->features(&v, i, real_row);
      int nl = pl->legal(p, NULL, (const uint8_t *)&before[i], mask);
      if ((memcmp(row, real_row, sizeof row) || nl != LATENT_ACTIONS) && bad_feat++ < 3)
        fprintf(stderr, "step %d agent %lld: root features or legal count differ\n", step, (long long)i);
    }
    test_sim_step(&t);
    myr_sim_stats(t.sim, st);
    v = myr_sim_view(t.sim);
    REQUIRE(v.n == N, "population changed to %lld", (long long)v.n);
    int64_t reward_fx = 0;
    double abs_sum = 0.0;
    int64_t abs_fx = 0;
    for (int64_t i = 0; i < v.n; i++) {
      int a = v.action[i];
      latent_plan_state next;
      float reward;
      int terminal = latent_plan_step(p, NULL, &before[i], a, &next, &reward);
      float after[LATENT_DIM];
      latent_load(&v, i, after);
      if ((memcmp(after, next.s, sizeof after) || terminal) && bad_state++ < 3)
        fprintf(stderr, "step %d agent %lld: real state differs from plan_step (action %d)\n", step, (long long)i, a);
      reward_fx += latent_fx(reward);
      for (int k = 0; k < LATENT_DIM; k++) {
        abs_fx += latent_fx(after[k] < 0.0f ? -after[k] : after[k]);
        abs_sum += fabs((double)after[k]);
      }
      /* the heuristic: the highest one-step reward, the lowest index on ties */
      if (strcmp(policy, "heuristic") == 0) {
        float r[LATENT_ACTIONS], top = -1.0f;
        for (int b = 0; b < LATENT_ACTIONS; b++) {
          latent_plan_state x;
          latent_plan_step(p, NULL, &before[i], b, &x, &r[b]);
          top = r[b] > top ? r[b] : top;
        }
        int best = 0;
        while (r[best] != top) best++;
        for (int b = best + 1; b < LATENT_ACTIONS; b++) ties += r[b] == top;
        if (a != best && bad_heur++ < 3)
          fprintf(stderr, "step %d agent %lld: heuristic took %d (reward %.9g), best is %d (%.9g)\n", step,
                  (long long)i, a, r[a], best, top);
      }
    }
    /* The statistics are these integers over the agent-steps (exact to the double division). */
    double want_reward = (double)reward_fx / (double)LATENT_FX / (double)N;
    double want_abs = (double)abs_fx / (double)LATENT_FX / ((double)N * LATENT_DIM);
    CHECK(st[k_reward] == want_reward, "step %d: mean_reward %.12g, from plan_step %.12g", step, st[k_reward],
          want_reward);
    CHECK(st[k_abs] == want_abs, "step %d: mean_abs_s %.12g, expected %.12g", step, st[k_abs], want_abs);
    CHECK_CLOSE(st[k_abs], abs_sum / ((double)N * LATENT_DIM), 1e-6, 0.0);
    free(before);
  }
  printf("%s: %d steps of %d agents: plan_step == real step; last mean_reward %.6g, mean |s| %.4f\n", policy, STEPS,
         N, st[k_reward], st[k_abs]);
  CHECK(bad_init == 0, "%d initial components outside [-1, 1)", bad_init);
  CHECK(bad_state == 0, "%d agent-steps where the real state differs from plan_step", bad_state);
  CHECK(bad_feat == 0, "%d roots whose features differ", bad_feat);
  CHECK(bad_heur == 0, "%d heuristic choices are not the argmax", bad_heur);
  if (ties) printf("  (%d exact ties among the one-step rewards)\n", ties);
  free(st);
  test_sim_close(&t);
}

/* The heuristic beats random play on the model's own reward (what the workload is for). */
static void test_heuristic_better(void) {
  double mean[2];
  const char *policy[2] = {"random", "heuristic"};
  for (int k = 0; k < 2; k++) {
    test_sim t;
    open_latent(&t, 8, 1, 0.5, 2000, policy[k]);
    double *st = calloc((size_t)myr_sim_stat_count(t.sim), sizeof *st);
    REQUIRE(st, "out of memory");
    for (int s = 0; s < 30; s++) test_sim_step(&t);
    myr_sim_stats(t.sim, st);
    mean[k] = st[test_stat(t.sim, "mean_reward")];
    free(st);
    test_sim_close(&t);
  }
  printf("mean reward over 30 steps: random %.6g, heuristic %.6g\n", mean[0], mean[1]);
  CHECK(mean[1] > mean[0], "heuristic %.6g not above random %.6g", mean[1], mean[0]);
}

static void test_expand(void) {
  enum { TREES = 64, NODES = 10 };
  test_sim t;
  open_latent(&t, 12, 2, 0.5, TREES, "random");
  const myr_model_plan *pl = plan_of(t.sim);
  const latent_params *p = t.sim->params;
  CHECK_EQ_I64(pl->context_bytes, 0);
  CHECK_EQ_I64(pl->state_bytes, LATENT_DIM * 4);
  CHECK_EQ_I64(pl->n_features, LATENT_FEATURES);
  myr_view v = myr_sim_view(t.sim);
  static latent_plan_state st[TREES * NODES];
  static float reward[TREES], feat[TREES * LATENT_FEATURES], value[TREES]; /* rows: row b is tree b's */
  static uint8_t term[TREES];
  static uint32_t legal[TREES];
  uint64_t agent[TREES];
  for (int b = 0; b < TREES; b++) {
    pl->root(&v, b, NULL, (uint8_t *)&st[b * NODES]);
    agent[b] = v.id[b];
  }
  int32_t tree[TREES], parent[TREES], child[TREES];
  uint8_t action[TREES];
  myr_plan_batch batch = {.tree = tree, .parent = parent, .child = child, .action = action, .nodes = NODES,
                          .context = NULL, .state = (uint8_t *)st, .reward = reward, .terminal = term,
                          .legal = legal, .features = feat, .rollout_depth = 5, .discount = 0.97f, .value = value,
                          .agent = agent, .step = 3, .seed = 12, .params = p};
  myr_rng r = myr_rng_make(9, 9, 9, MYR_RNG_MODEL);
  int bad = 0;
  for (int wave = 1; wave < NODES; wave++) {
    for (int b = 0; b < TREES; b++) {
      tree[b] = b;
      parent[b] = (int32_t)myr_rng_below(&r, (uint32_t)wave);
      child[b] = wave;
      action[b] = (uint8_t)myr_rng_below(&r, LATENT_ACTIONS);
    }
    batch.n = TREES;
    pl->expand(&batch, 0, TREES);
    for (int b = 0; b < TREES; b++) {
      latent_plan_state want, cur, nx;
      float rw, x;
      latent_plan_step(p, NULL, &st[b * NODES + parent[b]], action[b], &want, &rw);
      /* rollout from the documented stream: all actions legal, so a = below(9) */
      myr_rng rr = myr_rng_make(batch.seed, agent[b], batch.step, MYR_RNG_SEARCH + 1);
      rr.block = (uint32_t)wave << 16;
      float val = 0.0f, disc = 1.0f;
      cur = want;
      for (int d = 0; d < batch.rollout_depth; d++) {
        latent_plan_step(p, NULL, &cur, (int)myr_rng_below(&rr, LATENT_ACTIONS), &nx, &x);
        val = val + disc * x;
        disc = disc * batch.discount;
        cur = nx;
      }
      int node = b * NODES + wave;
      if ((memcmp(&st[node], &want, sizeof want) || reward[b] != rw || term[b] != 0 ||
           legal[b] != (1u << LATENT_ACTIONS) - 1 ||
           memcmp(&feat[b * LATENT_FEATURES], want.s, sizeof want.s) || value[b] != val) &&
          bad++ < 3)
        fprintf(stderr, "wave %d tree %d: batch result differs (value %.9g, expected %.9g)\n", wave, b, value[b], val);
    }
  }
  CHECK(bad == 0, "%d expansions differ from direct calls", bad);
  test_sim_close(&t);
}

/* An agent's K root trees draw different rollouts (block child << 16 | k << 8): two trees of
 * one agent, expanded from the same state into the same node, get different rollout values
 * with K = 2 and the same values when treated as one tree each (K = 1). */
static void test_rollouts_differ_by_tree(void) {
  enum { NODES = 4 };
  test_sim t;
  open_latent(&t, 12, 2, 0.5, 2, "random");
  const myr_model_plan *pl = plan_of(t.sim);
  myr_view v = myr_sim_view(t.sim);
  static latent_plan_state st[2 * NODES];
  static float reward[2], feat[2 * LATENT_FEATURES], value[2];
  static uint8_t term[2];
  static uint32_t legal[2];
  pl->root(&v, 0, NULL, (uint8_t *)&st[0]);
  st[NODES] = st[0];
  uint64_t agent[2] = {v.id[0], v.id[0]};
  int32_t tree[2] = {0, 1}, parent[2] = {0, 0}, child[2] = {1, 1};
  uint8_t action[2] = {3, 3};
  myr_plan_batch batch = {.n = 2, .tree = tree, .parent = parent, .child = child, .action = action, .nodes = NODES,
                          .context = NULL, .state = (uint8_t *)st, .reward = reward, .terminal = term,
                          .legal = legal, .features = feat, .rollout_depth = 8, .discount = 0.97f, .value = value,
                          .agent = agent, .trees_per_agent = 2, .step = 3, .seed = 12, .params = t.sim->params};
  pl->expand(&batch, 0, 2);
  CHECK(value[0] != value[1], "two root trees of one agent drew the same rollout (%.9g)", value[0]);
  batch.trees_per_agent = 1;
  pl->expand(&batch, 0, 2);
  CHECK(value[0] == value[1], "one tree per agent: the same node gave two rollouts (%.9g, %.9g)", value[0], value[1]);
  test_sim_close(&t);
}

int main(void) {
  test_w();
  test_rollouts_differ_by_tree();
  test_step_equals_real("random");
  test_step_equals_real("heuristic");
  test_heuristic_better();
  test_expand();
  return check_summary();
}
