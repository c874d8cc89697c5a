/* The CPU driver of batched MCTS (search/mcts.h): the workspace (one allocation carved into the
 * SoA arrays of one chunk of trees, the wave's expansion batch, feature and output rows), and
 * myr_mcts_search_cpu, which runs the MYR_HD tree logic of search/mcts_tree.h over a chunk of
 * agents wave by wave: select (OpenMP over agents), expand all new leaves through the model's
 * plan (OpenMP over ranges of the batch), evaluate them in one batched network call (or take
 * the rollout values), back up (OpenMP over agents). Every loop iteration touches one agent's
 * trees or one batch row only, so the results depend neither on the thread count nor on the
 * chunk size nor on the other agents searched. */
#include "search/mcts.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "search/mcts_tree.h" /* myr_tree_*: the tree logic */
#include "sim/rng.h"          /* myr_rng_*: root noise and action streams */

struct myr_mcts {
  myr_mcts_config cfg;
  myr_model_plan plan;
  int A, F;          /* actions, feature row width */
  int32_t K, S, L;   /* trees per agent, simulations per agent, leaves per tree per wave */
  int32_t nodes;     /* node slots per tree */
  int64_t chunk;     /* agents per chunk */
  int64_t trees;     /* chunk * K */
  int64_t rows;      /* feature/output rows: trees * L (>= chunk) */
  int has_net;       /* the workspace has output rows for a network */
  int out_width;     /* A + 1 */
  void *mem;
  myr_mcts_tree t;   /* the chunk's trees (pointers into mem) */
  uint8_t *context, *state;
  uint32_t *root_legal;
  int32_t *b_tree, *b_parent, *b_child;
  uint8_t *b_action;
  float *b_reward;          /* the expansions' reward, terminal flag and legal mask (plan.h) */
  uint8_t *b_terminal;
  uint32_t *b_legal;
  float *features, *out, *value;
  uint64_t *agent_id;
};

myr_mcts_config myr_mcts_defaults(void) {
  myr_mcts_config c;
  memset(&c, 0, sizeof c);
  c.algorithm = MYR_MCTS_GUMBEL;
  c.simulations = 32;
  c.max_depth = 8;
  c.leaves_per_wave = 1;
  c.discount = 0.97f;
  c.pb_c_init = 1.25f;
  c.pb_c_base = 19652.0f;
  c.dirichlet_alpha = 0.3f;
  c.dirichlet_fraction = 0.25f;
  c.temperature = 1.0f;
  c.max_considered_actions = 16;
  c.gumbel_scale = 1.0f;
  c.c_visit = 50.0f;
  c.c_scale = 0.1f;
  c.root_trees = 1;
  c.result_merge = MYR_MERGE_VALUE_SUM;
  c.simulation_allocation = MYR_ALLOC_EQUAL;
  c.rollout_depth = 0;
  c.chunk = 0;
  return c;
}

static int32_t myr__mcts_nodes(const myr_mcts_config *cfg) {
  int32_t K = myr_tree_per_agent(cfg);
  return myr_tree_cap(cfg->simulations, K, cfg->simulation_allocation) + 1;
}

size_t myr_mcts_bytes_per_node(const myr_mcts_config *cfg, const myr_model_plan *plan, int n_actions) {
  /* visits (u16), value sum, raw value, reward, parent (u8/u16), action, terminal, legal, pending
   * visits; per action prior (binary16) and child (u8/u16); the model's state */
  size_t index = myr__mcts_nodes(cfg) > 256 ? 2 : 1;
  return 2 + 4 + 4 + 4 + index + 1 + 1 + 4 + 2 + (size_t)n_actions * (2 + index) + (size_t)plan->state_bytes;
}

/* Per tree besides its nodes: context, noise, five counters, Q bounds; per wave leaf: its slot, a batch
 * row (tree, parent, child, action; the expansion's reward, terminal flag and legal mask), a
 * feature row, an output row and a rollout value. */
static size_t myr__mcts_bytes_per_tree(const myr_mcts_config *cfg, const myr_model_plan *plan, int n_actions) {
  size_t L = (size_t)(cfg->leaves_per_wave < 1 ? 1 : cfg->leaves_per_wave);
  size_t per_leaf = 4 + 3 * 4 + 1 + 4 + 1 + 4 + 4 * ((size_t)plan->n_features + (size_t)n_actions + 1 + 1);
  return (size_t)plan->context_bytes + 4 * (size_t)n_actions + 7 * 4 + 8 + L * per_leaf;
}

size_t myr_mcts_bytes_per_agent(const myr_mcts_config *cfg, const myr_model_plan *plan, int n_actions) {
  size_t K = (size_t)myr_tree_per_agent(cfg);
  size_t nodes = (size_t)myr__mcts_nodes(cfg);
  return K * (nodes * myr_mcts_bytes_per_node(cfg, plan, n_actions) + myr__mcts_bytes_per_tree(cfg, plan, n_actions)) +
         4; /* root legal mask */
}

/* Carves `bytes` (64-byte aligned) from *at. */
static void *myr__carve(char **at, size_t bytes) {
  void *p = *at;
  *at += (bytes + 63) & ~(size_t)63;
  return p;
}

static myr_status myr__mcts_check(const myr_mcts_config *c, const myr_model_plan *plan, int A, myr_error *err) {
  if (!plan || !plan->root || !plan->expand || !plan->legal || !plan->features)
    return myr_fail(err, MYR_ERR_MODEL, "mcts: the model has no CPU planning interface (models/plan.h)");
  if (A < 1 || A > MYR_MCTS_MAX_ACTIONS)
    return myr_fail(err, MYR_ERR_CONFIG, "mcts: %d actions; expected 1 to %d", A, MYR_MCTS_MAX_ACTIONS);
  if (plan->state_bytes < 0 || plan->state_bytes > MYR_PLAN_MAX_STATE || plan->context_bytes < 0 ||
      plan->context_bytes > MYR_PLAN_MAX_CONTEXT || plan->n_features < 0)
    return myr_fail(err, MYR_ERR_MODEL, "mcts: plan sizes out of range (state %d <= %d, context %d <= %d bytes)",
                    plan->state_bytes, MYR_PLAN_MAX_STATE, plan->context_bytes, MYR_PLAN_MAX_CONTEXT);
  if (c->algorithm != MYR_MCTS_MUZERO && c->algorithm != MYR_MCTS_GUMBEL)
    return myr_fail(err, MYR_ERR_CONFIG, "policy.mcts.algorithm: %d; expected muzero or gumbel", c->algorithm);
  if (c->simulations < 1 || c->simulations > MYR_MCTS_MAX_SIMULATIONS)
    return myr_fail(err, MYR_ERR_CONFIG, "policy.mcts.simulations: %d; expected 1 to %d", c->simulations,
                    MYR_MCTS_MAX_SIMULATIONS);
  if (c->leaves_per_wave < 1 || c->leaves_per_wave > MYR_MCTS_MAX_LEAVES)
    return myr_fail(err, MYR_ERR_CONFIG, "policy.mcts.leaves_per_wave: %d; expected 1 to %d", c->leaves_per_wave,
                    MYR_MCTS_MAX_LEAVES);
  if (c->root_trees < 1 || c->root_trees > MYR_MCTS_MAX_ROOT_TREES)
    return myr_fail(err, MYR_ERR_CONFIG, "policy.mcts.root_trees: %d; expected 1 to %d", c->root_trees,
                    MYR_MCTS_MAX_ROOT_TREES);
  if (c->max_depth < 0 || c->max_considered_actions < 1 || c->rollout_depth < 0 || c->chunk < 0)
    return myr_fail(err, MYR_ERR_CONFIG,
                    "policy.mcts: max_depth %d, max_considered_actions %d, rollout_depth %d, chunk %lld; expected "
                    "max_depth >= 0, max_considered_actions >= 1, rollout_depth >= 0, chunk >= 0",
                    c->max_depth, c->max_considered_actions, c->rollout_depth, (long long)c->chunk);
  if (c->result_merge < MYR_MERGE_VALUE_SUM || c->result_merge > MYR_MERGE_MAX_VALUE ||
      c->simulation_allocation < MYR_ALLOC_EQUAL || c->simulation_allocation > MYR_ALLOC_ADAPTIVE)
    return myr_fail(err, MYR_ERR_CONFIG, "policy.mcts: result_merge %d or simulation_allocation %d out of range",
                    c->result_merge, c->simulation_allocation);
  if (!(c->discount >= 0.0f && c->discount <= 1.0f) || !(c->pb_c_base > 0.0f) || !(c->dirichlet_alpha > 0.0f) ||
      !(c->dirichlet_fraction >= 0.0f && c->dirichlet_fraction <= 1.0f) || !(c->temperature >= 0.0f))
    return myr_fail(err, MYR_ERR_CONFIG,
                    "policy.mcts: discount %g (expected 0..1), pb_c_base %g (> 0), dirichlet_alpha %g (> 0), "
                    "dirichlet_fraction %g (0..1), temperature %g (>= 0)",
                    (double)c->discount, (double)c->pb_c_base, (double)c->dirichlet_alpha,
                    (double)c->dirichlet_fraction, (double)c->temperature);
  return MYR_OK;
}

myr_status myr_mcts_create(myr_mcts **out, const myr_mcts_config *cfg, const myr_model_plan *plan, int n_actions,
                           const myr_net_shape *net, int64_t max_agents, myr_error *err) {
  *out = NULL;
  myr_status s = myr__mcts_check(cfg, plan, n_actions, err);
  if (s != MYR_OK) return s;
  if (max_agents < 1) return myr_fail(err, MYR_ERR_CONFIG, "mcts: max_agents %lld; expected >= 1", (long long)max_agents);
  if (net && (net->layers < 1 || net->size[0] != plan->n_features || net->size[net->layers] != n_actions + 1))
    return myr_fail(err, MYR_ERR_CONFIG, "mcts: the network takes %d inputs and gives %d outputs; the model needs %d and %d",
                    net->size[0], net->layers >= 1 ? net->size[net->layers] : 0, plan->n_features, n_actions + 1);
  {
    int64_t K = myr_tree_per_agent(cfg), chunk = cfg->chunk > 0 && cfg->chunk < max_agents ? cfg->chunk : max_agents;
    if (chunk > INT32_MAX / (K * cfg->leaves_per_wave))
      return myr_fail(err, MYR_ERR_CONFIG, "policy.mcts.chunk: %lld agents at a time is too many (at most %lld here)",
                      (long long)chunk, (long long)(INT32_MAX / (K * cfg->leaves_per_wave)));
  }
  myr_mcts *m = (myr_mcts *)calloc(1, sizeof *m);
  if (!m) return myr_fail(err, MYR_ERR_NOMEM, "mcts: out of memory");
  m->cfg = *cfg;
  m->plan = *plan;
  m->A = n_actions;
  m->F = plan->n_features;
  m->K = myr_tree_per_agent(cfg);
  m->S = cfg->simulations;
  m->L = cfg->leaves_per_wave;
  m->nodes = myr__mcts_nodes(cfg);
  m->chunk = cfg->chunk > 0 && cfg->chunk < max_agents ? cfg->chunk : max_agents;
  m->trees = m->chunk * m->K;
  m->rows = m->trees * m->L;
  m->has_net = net != NULL;
  m->out_width = n_actions + 1;

  myr_mcts_tree *t = &m->t;
  myr_tree_configure(t, cfg, (int32_t)m->trees, m->nodes, n_actions, m->L);
  /* One block: the tree arrays (myr_tree_layout), then the model's states and contexts, root
   * masks, and the wave's batch, feature, output and value rows. */
  size_t T = (size_t)m->trees, TN = T * (size_t)m->nodes, R = (size_t)m->rows;
  size_t state_bytes = TN * (size_t)plan->state_bytes, features_bytes = R * (size_t)(m->F > 0 ? m->F : 1) * 4;
  size_t sizes[] = {state_bytes, T * (size_t)plan->context_bytes, (size_t)m->chunk * 4, R * 4, R * 4, R * 4, R,
                    R * 4, R, R * 4, features_bytes, R * (size_t)m->out_width * 4, R * 4, T * 8};
  size_t total = myr_tree_layout(t, NULL, 64);
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) total += (sizes[i] + 63) & ~(size_t)63;
  m->mem = aligned_alloc(64, total);
  if (!m->mem) {
    long long chunk = (long long)m->chunk;
    free(m);
    return myr_fail(err, MYR_ERR_NOMEM, "mcts: out of memory for %lld agents per chunk (%zu bytes)", chunk, total);
  }
  char *at = (char *)m->mem + myr_tree_layout(t, (char *)m->mem, 64);
  int i = 0;
  m->state = (uint8_t *)myr__carve(&at, sizes[i++]);
  m->context = (uint8_t *)myr__carve(&at, sizes[i++]);
  m->root_legal = (uint32_t *)myr__carve(&at, sizes[i++]);
  m->b_tree = (int32_t *)myr__carve(&at, sizes[i++]);
  m->b_parent = (int32_t *)myr__carve(&at, sizes[i++]);
  m->b_child = (int32_t *)myr__carve(&at, sizes[i++]);
  m->b_action = (uint8_t *)myr__carve(&at, sizes[i++]);
  m->b_reward = (float *)myr__carve(&at, sizes[i++]);
  m->b_terminal = (uint8_t *)myr__carve(&at, sizes[i++]);
  m->b_legal = (uint32_t *)myr__carve(&at, sizes[i++]);
  m->features = (float *)myr__carve(&at, sizes[i++]);
  m->out = (float *)myr__carve(&at, sizes[i++]);
  m->value = (float *)myr__carve(&at, sizes[i++]);
  m->agent_id = (uint64_t *)myr__carve(&at, sizes[i++]);
  /* States and features the model leaves unwritten stay defined (and hashable). */
  memset(m->state, 0, state_bytes);
  memset(m->features, 0, features_bytes);
  *out = m;
  return MYR_OK;
}

void myr_mcts_destroy(myr_mcts *m) {
  if (!m) return;
  free(m->mem);
  m->mem = NULL;
  free(m);
}

/* Roots of agents [c0, c0 + na): context and state from the model (tree k > 0 copies tree 0's),
 * legal mask and (with a network) the feature row of each agent. */
static void myr__mcts_roots(myr_mcts *m, const myr_view *v, const int64_t *agents, int64_t c0, int64_t na,
                            int threads, int with_net) {
  const myr_model_plan *p = &m->plan;
  size_t cb = (size_t)p->context_bytes, sb = (size_t)p->state_bytes;
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int64_t i = 0; i < na; i++) {
    int64_t slot = agents[c0 + i];
    int64_t b0 = i * m->K;
    uint8_t *ctx = m->context + (size_t)b0 * cb;
    uint8_t *st = m->state + (size_t)b0 * (size_t)m->nodes * sb;
    memset(ctx, 0, cb);
    memset(st, 0, sb);
    p->root(v, slot, ctx, st);
    uint8_t mask[MYR_MCTS_MAX_ACTIONS];
    memset(mask, 0, sizeof mask);
    p->legal(v->params, ctx, st, mask);
    uint32_t legal = 0;
    for (int a = 0; a < m->A; a++)
      if (mask[a]) legal |= 1u << a;
    m->root_legal[i] = legal;
    if (with_net) p->features(v->params, ctx, st, m->features + (size_t)i * (size_t)m->F);
    for (int32_t k = 0; k < m->K; k++) {
      int64_t b = b0 + k;
      m->agent_id[b] = v->id[slot];
      if (k > 0) {
        memcpy(m->context + (size_t)b * cb, ctx, cb);
        memcpy(m->state + (size_t)b * (size_t)m->nodes * sb, st, sb);
      }
    }
  }
}

myr_status myr_mcts_search_cpu(myr_mcts *m, const myr_view *v, const myr_net_view *net, const int64_t *agents,
                               int64_t n, int threads, myr_mcts_result *out, myr_error *err) {
  if (threads < 1) threads = 1;
  const myr_mcts_config *cfg = &m->cfg;
  int A = m->A;
  int use_net = net != NULL && cfg->rollout_depth == 0;
  if (use_net) {
    if (!m->has_net)
      return myr_fail(err, MYR_ERR_INTERNAL, "mcts: the workspace was created without a network shape");
    if (net->shape.size[0] != m->F || net->shape.size[net->shape.layers] != m->out_width)
      return myr_fail(err, MYR_ERR_CONFIG, "mcts: the network takes %d inputs and gives %d outputs; expected %d and %d",
                      net->shape.size[0], net->shape.size[net->shape.layers], m->F, m->out_width);
  }
  for (int64_t i = 0; i < n; i++)
    if (agents[i] < 0 || agents[i] >= v->n)
      return myr_fail(err, MYR_ERR_INTERNAL, "mcts: agent slot %lld outside [0, %lld)", (long long)agents[i],
                      (long long)v->n);
  myr_mcts_tree *t = &m->t;
  const int32_t K = m->K, S = m->S, L = m->L;
  const int alloc = cfg->simulation_allocation;
  myr_plan_batch batch;
  memset(&batch, 0, sizeof batch);
  batch.tree = m->b_tree;
  batch.parent = m->b_parent;
  batch.child = m->b_child;
  batch.action = m->b_action;
  batch.nodes = m->nodes;
  batch.context = m->context;
  batch.state = m->state;
  batch.reward = m->b_reward;
  batch.terminal = m->b_terminal;
  batch.legal = m->b_legal;
  batch.features = m->features;
  batch.rollout_depth = use_net ? 0 : cfg->rollout_depth;
  batch.discount = cfg->discount;
  batch.value = m->value;
  batch.agent = m->agent_id;
  batch.trees_per_agent = m->K;
  batch.step = v->step;
  batch.seed = v->seed;
  batch.params = v->params;

  for (int64_t c0 = 0; c0 < n; c0 += m->chunk) {
    int64_t na = n - c0 < m->chunk ? n - c0 : m->chunk;
    int64_t nt = na * K;

    /* Roots: model, network on one row per agent, noise and budgets per tree. */
    myr__mcts_roots(m, v, agents, c0, na, threads, use_net);
    if (use_net) myr_net_forward_cpu(net, m->features, m->out, na, threads);
#pragma omp parallel for schedule(static) num_threads(threads)
    for (int64_t i = 0; i < na; i++) {
      float prior[MYR_MCTS_MAX_ACTIONS];
      float value = 0.0f;
      uint32_t legal = m->root_legal[i];
      if (use_net) {
        const float *row = m->out + (size_t)i * (size_t)m->out_width;
        myr_net_prior(row, legal, A, prior);
        value = row[A];
      } else {
        myr_tree_uniform_prior(A, legal, prior);
      }
      uint64_t id = v->id[agents[c0 + i]];
      for (int32_t k = 0; k < K; k++) {
        myr_rng noise = myr_rng_make(v->seed, id, v->step, MYR_RNG_SEARCH + 2);
        noise.block = (uint32_t)k << 16; /* tree k's own blocks */
        myr_tree_root_init(t, (int32_t)(i * K + k), legal, prior, value, &noise);
      }
      myr_tree_alloc_init(t, (int32_t)(i * K), K, S, alloc);
    }

    /* Waves. */
    for (;;) {
      int64_t selected = 0;
#pragma omp parallel for schedule(static) reduction(+ : selected) num_threads(threads)
      for (int64_t i = 0; i < na; i++) {
        int32_t b0 = (int32_t)(i * K);
        if (myr_tree_alloc_wave(t, b0, K, S, alloc, L) <= 0) continue;
        for (int32_t k = 0; k < K; k++) {
          int32_t quota = t->budget[b0 + k] - t->sims[b0 + k];
          if (quota > L) quota = L;
          if (quota > 0) selected += myr_tree_select_wave(t, b0 + k, quota);
        }
      }
      /* Done when no agent has simulations left (a tree with some left always finds a leaf:
       * nothing is claimed before the first leaf of a wave). */
      if (selected == 0) break;

      /* The wave's expansions, in tree order. */
      int64_t ne = 0;
      for (int64_t b = 0; b < nt; b++) {
        const int32_t *leaf = t->wave_leaf + b * L;
        for (int32_t j = 0; j < t->wave_count[b]; j++) {
          int64_t g = b * m->nodes + leaf[j];
          if (t->stat[g].visits != 0) continue; /* a terminal or max-depth leaf visited again */
          m->b_tree[ne] = (int32_t)b;
          m->b_parent[ne] = myr_tree_parent(t, g);
          m->b_child[ne] = leaf[j];
          m->b_action[ne] = t->action[g];
          ne++;
        }
      }
      if (ne > 0) {
        batch.n = ne;
        int64_t pieces = (int64_t)threads * 4, step = (ne + pieces - 1) / pieces;
#pragma omp parallel for schedule(static) num_threads(threads)
        for (int64_t p = 0; p < pieces; p++) {
          int64_t begin = p * step, end = begin + step < ne ? begin + step : ne;
          if (begin < end) m->plan.expand(&batch, begin, end);
        }
        if (use_net) myr_net_forward_cpu(net, m->features, m->out, ne, threads);
#pragma omp parallel for schedule(static) num_threads(threads)
        for (int64_t k = 0; k < ne; k++) {
          const float *row = use_net ? m->out + (size_t)k * (size_t)m->out_width : NULL;
          float value = use_net ? row[A] : batch.rollout_depth > 0 ? m->value[k] : 0.0f;
          myr_tree_set_leaf(t, m->b_tree[k], m->b_child[k], row, value, m->b_reward[k], m->b_terminal[k],
                            m->b_legal[k]);
        }
      }
#pragma omp parallel for schedule(static) num_threads(threads)
      for (int64_t b = 0; b < nt; b++) myr_tree_backup_wave(t, (int32_t)b);
    }

    /* Results. */
#pragma omp parallel for schedule(static) num_threads(threads)
    for (int64_t i = 0; i < na; i++) {
      int64_t o = c0 + i;
      myr_rng r = myr_rng_make(v->seed, v->id[agents[o]], v->step, MYR_RNG_SEARCH + 0);
      myr_tree_agent_result(t, (int32_t)(i * K), K, cfg->result_merge, &r, &out->action[o],
                            out->target + (size_t)o * (size_t)A, &out->value[o]);
    }
  }
  return MYR_OK;
}
