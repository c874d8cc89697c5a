/* foraging's planning interface (models/foraging/foraging_plan.h) against the real model:
 * - a lone agent (a sim built from YAML with one agent, regrowth 0 and no reproduction, where
 *   nobody else claims) is stepped by the model's own phase functions with forced actions
 *   (act, then sync_agents and sync_cells_end at the window's last step, as sim/step.c runs
 *   them), while plan_step imagines the same moves from plan_root. After every step, exactly:
 *   the cell (root cell + offset, folded), the energy column, the claims pending in the window,
 *   what was taken per world cell, death (terminal), the legal mask and the 11 features
 *   (foraging_features of the real agent, bit for bit); each reward is the change of
 *   energy + pending in units, so the rewards add up to the energy change.
 *   Over closed worlds (corners and edges: masks respect closed edges), tori, tori narrower than
 *   the patch (a cell seen again through the wrap shows what was taken), sync windows 1, 2
 *   and 3 with roots inside a window (own claims already placed), starvation and old age.
 * - the root of an agent in a populated world: features equal foraging_features, mask equals
 *   foraging_legal;
 * - batch expansion (plan->expand) equals plan_step / legal / features called directly, and
 *   rollout values equal the discounted sums of the documented random streams;
 * - sizes: context and state within plan.h's limits. */
#include <string.h>

#include "../models/common.h"
#include "models/foraging/foraging_plan.h"

#define ONE FORAGING_ONE
#define R FORAGING_PLAN_RADIUS

static const myr_model_plan *plan_of(const myr_sim *sim) {
  REQUIRE(sim->model->plan, "model %s has no planning interface", sim->model->name);
  return sim->model->plan;
}

/* One real step of every agent with action a, by the model's phase functions (no births: the
 * imagination does not reproduce either). Advances the view's step and window step. */
static void real_step(const myr_sim *sim, myr_view *v, int a, int64_t *slot_cell, int64_t *slot_amount) {
  const myr_model *m = sim->model;
  int64_t flow[MYR_MAX_FLOWS] = {0};
  for (int64_t i = 0; i < v->n; i++) v->action[i] = (uint8_t)a;
  m->act(v, 0, v->n, flow);
  int64_t s = (int64_t)v->window_step * v->capacity;
  *slot_cell = MYR_COL(v, FORAGING_CLAIM_CELL, int32_t)[s];
  *slot_amount = MYR_COL(v, FORAGING_CLAIM_AMOUNT, uint32_t)[s];
  if (v->window_step == v->sync_frequency - 1) {
    m->sync_agents(v, 0, v->n, flow);
    m->sync_cells_end(v, 0, myr_cells(v), flow);
  }
  v->step++;
  v->window_step = (v->window_step + 1) % v->sync_frequency;
}

/* Claims of agent 0 still pending in the view's window. */
static int64_t real_pending(const myr_view *v) {
  int64_t here;
  return foraging_pending(v, 0, -1, &here);
}

typedef struct trial {
  int width, height, wrap, sync_frequency;
  double metabolism, harvest_max, initial_energy;
  int max_age;
} trial;

typedef struct taken_map {
  int n;
  int64_t cell[64], amount[64];
} taken_map;

static void taken_add(taken_map *t, int64_t cell, int64_t amount) {
  for (int j = 0; j < t->n; j++)
    if (t->cell[j] == cell) {
      t->amount[j] += amount;
      return;
    }
  REQUIRE(t->n < 64, "taken map full");
  t->cell[t->n] = cell;
  t->amount[t->n++] = amount;
}

static int64_t taken_get(const taken_map *t, int64_t cell) {
  for (int j = 0; j < t->n; j++)
    if (t->cell[j] == cell) return t->amount[j];
  return 0;
}

static int bad_first(int *count) { return (*count)++ < 5; }

/* Stats over all trials. */
static int n_trials, n_steps, n_dead, n_deep, n_revisit_zero, bad_root, bad_step, bad_mask, bad_feat, bad_reward,
    bad_taken, bad_term;

/* One trial: agent at (x, y) with energy e and age `age`, `pre` real steps first, then up to
 * FORAGING_PLAN_DEPTH imagined and real steps with the same random legal moves. */
static void run_trial(const trial *tr, int x, int y, double energy, uint32_t age, int pre, uint32_t seed) {
  test_sim t;
  test_sim_open(&t,
                "run: {steps: 10, seed: %u, backend: cpu}\n"
                "world: {width: %d, height: %d, wrap: %s}\n"
                "agents: {count: 1, capacity: 4}\n"
                "model: {name: foraging, params: {regrowth: 0.0, metabolism: %g, harvest_max: %g, peak: 4.0,\n"
                "        hill_radius: 0.6, initial_energy: %g, max_energy: 20.0, reproduce_threshold: 20.0,\n"
                "        max_age: %d}}\n"
                "policy: {kind: random}\n"
                "distributed: {sync_frequency: %d}\n",
                seed, tr->width, tr->height, tr->wrap ? "true" : "false", tr->metabolism, tr->harvest_max,
                tr->initial_energy, tr->max_age, tr->sync_frequency);
  const myr_sim *sim = t.sim;
  const myr_model *m = sim->model;
  const myr_model_plan *pl = plan_of(sim);
  const foraging_params *p = sim->params;
  myr_view v = myr_sim_view(sim);
  MYR_COL(&v, FORAGING_X, int32_t)[0] = x;
  MYR_COL(&v, FORAGING_Y, int32_t)[0] = y;
  MYR_COL(&v, FORAGING_ENERGY, int32_t)[0] = (int32_t)llround(energy * ONE);
  MYR_COL(&v, FORAGING_AGE, uint32_t)[0] = age;
  myr_rng rng = myr_rng_make(seed, 77, 0, MYR_RNG_MODEL);
  int64_t sc, sa;
  uint8_t mask[MYR_MOVES], real_mask[MYR_MOVES];
  for (int k = 0; k < pre; k++) {
    int nr = m->legal(&v, 0, real_mask);
    real_step(sim, &v, myr_nth_legal(real_mask, MYR_MOVES, myr_rng_below(&rng, (uint32_t)nr)), &sc, &sa);
  }
  if (!v.alive[0]) { /* starved during the pre-steps: nothing to plan */
    test_sim_close(&t);
    return;
  }
  n_trials++;

  foraging_plan_context ctx;
  foraging_plan_state s, next;
  pl->root(&v, 0, (uint8_t *)&ctx, (uint8_t *)&s);
  int32_t x0 = MYR_COL(&v, FORAGING_X, int32_t)[0], y0 = MYR_COL(&v, FORAGING_Y, int32_t)[0];
  float row[FORAGING_FEATURES], real_row[FORAGING_FEATURES];
  pl->features(p, (const uint8_t *)&ctx, (const uint8_t *)&s, row);
  m->features(&v, 0, real_row);
  int nl = pl->legal(p, (const uint8_t *)&ctx, (const uint8_t *)&s, mask), nr = m->legal(&v, 0, real_mask);
  if ((memcmp(row, real_row, sizeof row) != 0 || memcmp(mask, real_mask, sizeof mask) != 0 || nl != nr ||
       s.energy != MYR_COL(&v, FORAGING_ENERGY, int32_t)[0] || (int64_t)s.pending != real_pending(&v) ||
       s.depth != 0) &&
      bad_first(&bad_root))
    fprintf(stderr, "root (%d, %d) window step %d: features, mask, energy or pending differ from the real agent\n",
            x0, y0, v.window_step);

  taken_map real_taken = {0};
  int64_t e_before = (int64_t)s.energy + s.pending;
  double reward_sum = 0.0;
  for (int d = 0; d < FORAGING_PLAN_DEPTH; d++) {
    int n = pl->legal(p, (const uint8_t *)&ctx, (const uint8_t *)&s, mask);
    int a = myr_nth_legal(mask, MYR_MOVES, myr_rng_below(&rng, (uint32_t)n));
    float reward;
    int terminal = foraging_plan_step(p, &ctx, &s, a, &next, &reward);
    real_step(sim, &v, a, &sc, &sa);
    if (sa > 0) taken_add(&real_taken, sc, sa);
    n_steps++;

    int32_t rx = MYR_COL(&v, FORAGING_X, int32_t)[0], ry = MYR_COL(&v, FORAGING_Y, int32_t)[0];
    int32_t ix = myr_fold(x0 + next.dx, v.width, v.wrap), iy = myr_fold(y0 + next.dy, v.height, v.wrap);
    int alive = v.alive[0];
    /* energy and pending as the real rules leave them (a dead agent keeps its last energy) */
    int64_t pending = real_pending(&v);
    if (ix != rx || iy != ry || next.energy != MYR_COL(&v, FORAGING_ENERGY, int32_t)[0] ||
        (int64_t)next.pending != pending || next.depth != d + 1) {
      if (bad_first(&bad_step))
        fprintf(stderr,
                "step %d (move %d): imagined cell (%d, %d) energy %d pending %u; real (%d, %d) energy %d pending %lld\n",
                d, a, ix, iy, next.energy, next.pending, rx, ry, MYR_COL(&v, FORAGING_ENERGY, int32_t)[0],
                (long long)pending);
    }
    /* the reward is the change of energy + pending, in units, exactly */
    int64_t e_after = (int64_t)next.energy + next.pending;
    if ((double)reward * ONE != (double)(e_after - e_before) && bad_first(&bad_reward))
      fprintf(stderr, "step %d: reward %.9g, energy + pending changed by %lld / 65536\n", d, reward,
              (long long)(e_after - e_before));
    reward_sum += reward;
    e_before = e_after;
    /* what the path took, per world cell */
    int64_t sum_imagined = 0;
    for (int j = 0; j < next.n_taken; j++) {
      int kx = next.cell[j] % FORAGING_PLAN_SIDE - R, ky = next.cell[j] / FORAGING_PLAN_SIDE - R;
      int64_t cell = myr_cell(&v, myr_fold(x0 + kx, v.width, v.wrap), myr_fold(y0 + ky, v.height, v.wrap));
      if ((int64_t)next.taken[j] != taken_get(&real_taken, cell) && bad_first(&bad_taken))
        fprintf(stderr, "step %d: imagined take %u on cell %lld, real %lld\n", d, next.taken[j], (long long)cell,
                (long long)taken_get(&real_taken, cell));
      sum_imagined += next.taken[j];
    }
    int64_t sum_real = 0;
    for (int j = 0; j < real_taken.n; j++) sum_real += real_taken.amount[j];
    if (sum_imagined != sum_real && bad_first(&bad_taken))
      fprintf(stderr, "step %d: imagined takes sum to %lld, real %lld\n", d, (long long)sum_imagined,
              (long long)sum_real);
    /* terminal: death, or the horizon / patch edge */
    int edge = next.dx == -R || next.dx == R || next.dy == -R || next.dy == R;
    int expect = !alive || d + 1 == FORAGING_PLAN_DEPTH || edge;
    if (terminal != expect && bad_first(&bad_term))
      fprintf(stderr, "step %d: terminal %d, real alive %d, depth %d\n", d, terminal, alive, d + 1);
    if (!alive) {
      n_dead++;
      break;
    }
    /* mask and features against the real agent */
    nl = pl->legal(p, (const uint8_t *)&ctx, (const uint8_t *)&next, mask);
    nr = m->legal(&v, 0, real_mask);
    int same_mask = memcmp(mask, real_mask, sizeof mask) == 0 && nl == nr;
    if (!edge && !same_mask && bad_first(&bad_mask))
      fprintf(stderr, "step %d at (%d, %d): imagined legal mask differs from the real one\n", d, rx, ry);
    for (int b = 0; b < MYR_MOVES && edge; b++) /* at the patch edge: a subset of the real moves */
      if (mask[b] && !real_mask[b] && bad_first(&bad_mask))
        fprintf(stderr, "step %d: move %d legal in imagination only\n", d, b);
    pl->features(p, (const uint8_t *)&ctx, (const uint8_t *)&next, row);
    m->features(&v, 0, real_row);
    for (int f = 0; f < FORAGING_FEATURES; f++) {
      int outside = f < MYR_MOVES && edge && !mask[f] && real_mask[f];
      if (!outside && row[f] != real_row[f] && bad_first(&bad_feat))
        fprintf(stderr, "step %d at (%d, %d): feature %d imagined %.9g, real %.9g\n", d, rx, ry, f, row[f],
                real_row[f]);
    }
    if (a == 0 && next.depth > 1 && row[0] == 0.0f) n_revisit_zero++;
    if (d + 1 == FORAGING_PLAN_DEPTH) n_deep++;
    s = next;
    if (terminal) break;
  }
  /* rewards add up to the change of energy (+ pending): checked per step above in exact units */
  (void)reward_sum;
  test_sim_close(&t);
}

static void test_against_real(void) {
  const trial trials[] = {
      /* closed worlds: corners and edges */
      {12, 10, 0, 1, 0.5, 1.5, 5.0, 0},
      {9, 9, 0, 3, 0.5, 1.5, 5.0, 0},
      /* tori, one wider than the patch, others narrower (cells seen again through the wrap) */
      {30, 30, 1, 1, 0.5, 1.5, 5.0, 0},
      {30, 24, 1, 3, 0.5, 1.5, 5.0, 0},
      {5, 7, 1, 1, 0.5, 1.5, 5.0, 0},
      {4, 3, 1, 2, 0.5, 1.0, 5.0, 0},
      {1, 1, 1, 1, 0.5, 1.0, 5.0, 0},
      /* starvation (metabolism above any harvest) and old age */
      {10, 10, 0, 1, 3.0, 1.0, 1.0, 0},
      {10, 10, 1, 2, 3.0, 1.0, 1.0, 0},
      {10, 10, 0, 1, 0.5, 1.5, 5.0, 4},
      {10, 10, 1, 3, 0.5, 1.5, 5.0, 5},
      /* a nearly full agent: the room under max_energy limits the claims (and, inside a
       * window, counts the claims still pending) */
      {16, 16, 0, 1, 0.5, 3.0, 19.0, 0},
      {16, 16, 1, 3, 0.5, 3.0, 17.0, 0},
  };
  uint32_t seed = 1;
  for (size_t k = 0; k < sizeof trials / sizeof trials[0]; k++) {
    const trial *tr = &trials[k];
    for (int rep = 0; rep < 24; rep++, seed++) {
      myr_rng r = myr_rng_make(seed, 5, 0, MYR_RNG_MODEL);
      int x, y;
      switch (rep % 4) { /* corners, edges, anywhere */
      case 0: x = rep % 8 < 4 ? 0 : tr->width - 1; y = rep % 16 < 8 ? 0 : tr->height - 1; break;
      case 1: x = (int)myr_rng_below(&r, (uint32_t)tr->width); y = rep % 8 < 4 ? 0 : tr->height - 1; break;
      default: x = (int)myr_rng_below(&r, (uint32_t)tr->width); y = (int)myr_rng_below(&r, (uint32_t)tr->height);
      }
      double energy = tr->initial_energy * (0.5 + myr_rng_uniform_double(&r));
      if (energy > 20.0) energy = 20.0;
      uint32_t age = tr->max_age ? (uint32_t)myr_rng_below(&r, (uint32_t)tr->max_age) : 0;
      int pre = (int)myr_rng_below(&r, (uint32_t)tr->sync_frequency + 1);
      run_trial(tr, x, y, energy, age, pre, seed);
    }
  }
  printf("against the real model: %d trials, %d steps, %d deaths, %d paths at full depth, %d revisits of an "
         "emptied cell\n",
         n_trials, n_steps, n_dead, n_deep, n_revisit_zero);
  CHECK(bad_root == 0, "%d roots differ from the real agent", bad_root);
  CHECK(bad_step == 0, "%d imagined steps differ (cell, energy, pending, depth)", bad_step);
  CHECK(bad_reward == 0, "%d rewards differ from the energy change", bad_reward);
  CHECK(bad_taken == 0, "%d differences in what the path took", bad_taken);
  CHECK(bad_term == 0, "%d terminal flags differ", bad_term);
  CHECK(bad_mask == 0, "%d legal masks differ", bad_mask);
  CHECK(bad_feat == 0, "%d features differ", bad_feat);
  CHECK(n_trials > 200, "only %d trials", n_trials);
  CHECK(n_dead > 10, "only %d imagined deaths", n_dead);
  CHECK(n_deep > 50, "only %d paths reached the horizon", n_deep);
}

/* A corner of a closed world by hand: only stay, E, NE, N are legal at (0, 0); the context's
 * rectangle stops at the world's edges; features of illegal moves are -1. */
static void test_corner(void) {
  test_sim t;
  test_sim_open(&t,
                "run: {steps: 1, seed: 3, backend: cpu}\n"
                "world: {width: 20, height: 20, wrap: false}\n"
                "agents: {count: 1, capacity: 1}\n"
                "model: {name: foraging}\n");
  myr_view v = myr_sim_view(t.sim);
  const myr_model_plan *pl = plan_of(t.sim);
  MYR_COL(&v, FORAGING_X, int32_t)[0] = 0;
  MYR_COL(&v, FORAGING_Y, int32_t)[0] = 0;
  foraging_plan_context ctx;
  foraging_plan_state s;
  pl->root(&v, 0, (uint8_t *)&ctx, (uint8_t *)&s);
  uint8_t mask[MYR_MOVES];
  CHECK_EQ_I64(pl->legal(t.sim->params, (const uint8_t *)&ctx, (const uint8_t *)&s, mask), 4);
  const uint8_t expect[MYR_MOVES] = {1, 1, 1, 1, 0, 0, 0, 0, 0}; /* stay E NE N NW W SW S SE */
  CHECK(memcmp(mask, expect, sizeof mask) == 0, "corner mask %d%d%d%d%d%d%d%d%d", mask[0], mask[1], mask[2],
        mask[3], mask[4], mask[5], mask[6], mask[7], mask[8]);
  CHECK(ctx.lo_x == 0 && ctx.lo_y == 0 && ctx.hi_x == R && ctx.hi_y == R, "rectangle [%d, %d] x [%d, %d]", ctx.lo_x,
        ctx.hi_x, ctx.lo_y, ctx.hi_y);
  float row[FORAGING_FEATURES];
  pl->features(t.sim->params, (const uint8_t *)&ctx, (const uint8_t *)&s, row);
  for (int a = 4; a < MYR_MOVES; a++) CHECK(row[a] == -1.0f, "feature %d of an illegal move is %g", a, row[a]);
  /* Outside the world the patch is 0. */
  CHECK_EQ_I64(ctx.resource[(R - 1) * FORAGING_PLAN_SIDE + R], 0);
  test_sim_close(&t);
}

/* Roots in a populated world mid-window (other agents' claims are invisible, own ones count). */
static void test_roots_populated(void) {
  test_sim t;
  test_sim_open(&t,
                "run: {steps: 20, seed: 9, backend: cpu}\n"
                "world: {width: 48, height: 40, wrap: false}\n"
                "agents: {count: 600, capacity: 6000}\n"
                "model: {name: foraging, params: {max_age: 50}}\n"
                "policy: {kind: heuristic}\n"
                "distributed: {sync_frequency: 3}\n");
  const myr_model_plan *pl = plan_of(t.sim);
  int bad = 0, checked = 0;
  for (int step = 0; step < 8; step++) {
    test_sim_step(&t);
    myr_view v = myr_sim_view(t.sim);
    for (int64_t i = 0; i < v.n; i++) {
      if (!v.alive[i]) continue;
      foraging_plan_context ctx;
      foraging_plan_state s;
      pl->root(&v, i, (uint8_t *)&ctx, (uint8_t *)&s);
      float row[FORAGING_FEATURES], real_row[FORAGING_FEATURES];
      uint8_t mask[MYR_MOVES], real_mask[MYR_MOVES];
      pl->features(v.params, (const uint8_t *)&ctx, (const uint8_t *)&s, row);
      pl->legal(v.params, (const uint8_t *)&ctx, (const uint8_t *)&s, mask);
      t.sim->model->features(&v, i, real_row);
      t.sim->model->legal(&v, i, real_mask);
      checked++;
      if ((memcmp(row, real_row, sizeof row) || memcmp(mask, real_mask, sizeof mask)) && bad++ < 3)
        fprintf(stderr, "step %d agent %lld: root features or mask differ\n", step, (long long)v.id[i]);
    }
  }
  printf("populated roots: %d checked\n", checked);
  CHECK(bad == 0, "%d of %d roots differ from foraging_features / foraging_legal", bad, checked);
  test_sim_close(&t);
}

/* plan->expand over a batch of trees against direct calls, with and without rollouts. */
static void test_expand(void) {
  enum { TREES = 40, NODES = 12 };
  test_sim t;
  test_sim_open(&t,
                "run: {steps: 20, seed: 21, backend: cpu}\n"
                "world: {width: 40, height: 40, wrap: true}\n"
                "agents: {count: %d, capacity: %d}\n"
                "model: {name: foraging, params: {metabolism: 1.0}}\n"
                "policy: {kind: heuristic}\n",
                TREES, TREES);
  test_sim_step(&t);
  myr_view v = myr_sim_view(t.sim);
  const myr_model_plan *pl = plan_of(t.sim);
  const foraging_params *p = t.sim->params;
  CHECK(pl->context_bytes == (int)sizeof(foraging_plan_context) && pl->context_bytes <= MYR_PLAN_MAX_CONTEXT,
        "context_bytes %d", pl->context_bytes);
  CHECK(pl->state_bytes == (int)sizeof(foraging_plan_state) && pl->state_bytes <= MYR_PLAN_MAX_STATE,
        "state_bytes %d", pl->state_bytes);
  CHECK_EQ_I64(pl->n_features, FORAGING_FEATURES);
  printf("sizes: context %d bytes per tree, state %d bytes per node\n", pl->context_bytes, pl->state_bytes);

  static foraging_plan_context ctx[TREES];
  static foraging_plan_state st[TREES * NODES];
  static float reward[TREES * NODES], feat[TREES * FORAGING_FEATURES], value[TREES];
  static uint8_t term[TREES * NODES];
  static uint32_t legal[TREES * NODES];
  static float row_reward[TREES]; /* the batch's rows (plan.h), copied to the nodes after each wave */
  static uint8_t row_term[TREES];
  static uint32_t row_legal[TREES];
  int64_t slots[TREES];
  uint64_t agent[TREES];
  int64_t n_agents = 0;
  for (int64_t i = 0; i < v.n && n_agents < TREES; i++)
    if (v.alive[i]) {
      slots[n_agents] = i;
      agent[n_agents++] = v.id[i];
    }
  REQUIRE(n_agents == TREES, "only %lld agents alive", (long long)n_agents);
  memset(st, 0, sizeof st);
  for (int b = 0; b < TREES; b++) {
    pl->root(&v, slots[b], (uint8_t *)&ctx[b], (uint8_t *)&st[b * NODES]);
    uint8_t mask[MYR_MOVES];
    pl->legal(p, (uint8_t *)&ctx[b], (uint8_t *)&st[b * NODES], mask);
    legal[b * NODES] = myr_plan_mask_bits(mask, MYR_MOVES);
    term[b * NODES] = 0;
  }
  int32_t tree[TREES], parent[TREES], child[TREES];
  uint8_t action[TREES];
  myr_plan_batch batch = {.tree = tree, .parent = parent, .child = child, .action = action, .nodes = NODES,
                          .context = (const uint8_t *)ctx, .state = (uint8_t *)st, .reward = row_reward,
                          .terminal = row_term, .legal = row_legal, .features = feat, .discount = 0.9f, .value = value,
                          .agent = agent, .step = 5, .seed = 21, .params = p};
  myr_rng r = myr_rng_make(4, 4, 4, MYR_RNG_MODEL);
  int bad = 0, bad_roll = 0, rolled = 0;
  for (int wave = 1; wave < NODES; wave++) {
    int n = 0;
    for (int b = 0; b < TREES; b++) {
      int par = (int)myr_rng_below(&r, (uint32_t)wave);
      if (term[b * NODES + par]) continue; /* never expand a terminal node */
      uint32_t bits = legal[b * NODES + par];
      uint8_t mask[MYR_MOVES];
      int nl = 0;
      for (int a = 0; a < MYR_MOVES; a++) {
        mask[a] = (uint8_t)((bits >> a) & 1u);
        nl += mask[a];
      }
      tree[n] = b;
      parent[n] = par;
      child[n] = wave;
      action[n] = (uint8_t)myr_nth_legal(mask, MYR_MOVES, myr_rng_below(&r, (uint32_t)nl));
      n++;
    }
    batch.n = n;
    batch.rollout_depth = wave % 2 ? 6 : 0;
    for (int k = 0; k < n; k++) value[k] = 12345.0f;
    pl->expand(&batch, 0, n / 3);
    pl->expand(&batch, n / 3, n);
    for (int k = 0; k < n; k++) {
      int64_t node = (int64_t)tree[k] * NODES + child[k];
      reward[node] = row_reward[k];
      term[node] = row_term[k];
      legal[node] = row_legal[k];
    }
    for (int k = 0; k < n; k++) {
      int b = tree[k];
      const foraging_plan_state *ps = &st[b * NODES + parent[k]], *cs = &st[b * NODES + child[k]];
      foraging_plan_state want;
      float rw;
      int tm = foraging_plan_step(p, &ctx[b], ps, action[k], &want, &rw);
      uint8_t mask[MYR_MOVES];
      foraging_plan_legal(p, &ctx[b], &want, mask);
      float row[FORAGING_FEATURES];
      foraging_plan_features(p, &ctx[b], &want, row);
      if ((memcmp(cs, &want, sizeof want) || reward[b * NODES + child[k]] != rw || term[b * NODES + child[k]] != tm ||
           legal[b * NODES + child[k]] != myr_plan_mask_bits(mask, MYR_MOVES) ||
           memcmp(&feat[k * FORAGING_FEATURES], row, sizeof row)) &&
          bad++ < 3)
        fprintf(stderr, "wave %d expansion %d: batch result differs from the direct calls\n", wave, k);
      /* the rollout, recomputed from the documented stream */
      float expect = 12345.0f;
      if (batch.rollout_depth > 0) {
        expect = 0.0f;
        if (!tm) {
          myr_rng rr = myr_rng_make(batch.seed, agent[b], batch.step, MYR_RNG_SEARCH + 1);
          rr.block = (uint32_t)child[k] << 16;
          foraging_plan_state cur = want, nx;
          float disc = 1.0f;
          for (int d = 0; d < batch.rollout_depth; d++) {
            int nl = foraging_plan_legal(p, &ctx[b], &cur, mask);
            int a = myr_nth_legal(mask, MYR_MOVES, myr_rng_below(&rr, (uint32_t)nl));
            float x;
            int end = foraging_plan_step(p, &ctx[b], &cur, a, &nx, &x);
            expect = expect + disc * x;
            disc = disc * batch.discount;
            if (end) break;
            cur = nx;
          }
        }
        rolled++;
      }
      if (value[k] != expect && bad_roll++ < 3)
        fprintf(stderr, "wave %d expansion %d: rollout value %.9g, expected %.9g\n", wave, k, value[k], expect);
    }
  }
  printf("batch expansion: %d rollouts checked\n", rolled);
  CHECK(bad == 0, "%d expansions differ from the direct calls", bad);
  CHECK(bad_roll == 0, "%d rollout values differ", bad_roll);
  CHECK(rolled > 100, "only %d rollouts", rolled);
  test_sim_close(&t);
}

int main(void) {
  test_corner();
  test_roots_populated();
  test_expand();
  test_against_real();
  return check_summary();
}
