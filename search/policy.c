/* The network and MCTS policies of the CPU engine (search/policy.h). */
#include "search/policy.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "search/trainer.h" // myr_trainer_*: samples, replay and updates when train.enabled
#include "sim/rng.h"

#define NETWORK_CHUNK ((int64_t)1 << 18) /* rows evaluated at a time by the network policy */
#define TREE_BUDGET ((size_t)1 << 30)    /* bytes of trees when policy.mcts.chunk is 0 */

myr_mcts_config myr_search_mcts_config(const myr_config *cfg) {
  const myr_mcts_settings *s = &cfg->mcts;
  myr_mcts_config m = myr_mcts_defaults();
  m.algorithm = s->algorithm == 0 ? MYR_MCTS_MUZERO : MYR_MCTS_GUMBEL;
  m.simulations = (int)s->simulations;
  m.max_depth = (int)s->max_depth;
  m.leaves_per_wave = (int)s->leaves_per_wave;
  m.discount = (float)s->discount;
  m.pb_c_init = (float)s->pb_c_init;
  m.pb_c_base = (float)s->pb_c_base;
  m.dirichlet_alpha = (float)s->dirichlet_alpha;
  m.dirichlet_fraction = (float)s->dirichlet_fraction;
  m.temperature = (float)s->temperature;
  m.max_considered_actions = (int)s->max_considered_actions;
  m.gumbel_scale = (float)s->gumbel_scale;
  m.c_visit = (float)s->c_visit;
  m.c_scale = (float)s->c_scale;
  m.root_trees = (int)s->root_trees;
  m.result_merge = s->result_merge;
  m.simulation_allocation = s->simulation_allocation;
  m.rollout_depth = (int)s->rollout_depth;
  m.chunk = s->chunk;
  return m;
}

size_t myr_search_bytes_per_agent(const myr_config *cfg) {
  const myr_model *m = cfg->model_desc;
  if (cfg->policy != MYR_POLICY_MCTS || !m->plan) return 0;
  myr_mcts_config mc = myr_search_mcts_config(cfg);
  return myr_mcts_bytes_per_agent(&mc, m->plan, m->n_actions);
}

/* The network: its input is the planning features when the model plans, else the model's. */
static myr_status make_network(myr_sim *sim, myr_search *s, myr_error *err) {
  const myr_config *cfg = sim->cfg;
  const myr_model *m = sim->model;
  int inputs = m->plan ? m->plan->n_features : m->n_features;
  if (inputs <= 0)
    return myr_fail(err, MYR_ERR_CONFIG, "policy.kind: %s needs observation features, and model %s has none",
                    myr_policy_name(cfg->policy), m->name);
  int hidden[MYR_INT_LIST_MAX];
  for (int i = 0; i < cfg->hidden.n; i++) hidden[i] = (int)cfg->hidden.v[i];
  myr_net_shape shape;
  myr_status st = myr_net_shape_make(&shape, inputs, hidden, cfg->hidden.n, m->n_actions, err);
  if (st != MYR_OK) return st;
  if (strcmp(cfg->network_init, "random") == 0) return myr_net_create(&s->net, &shape, (uint32_t)cfg->seed, err);
  return myr_net_load(&s->net, cfg->network_init, &shape, err);
}

myr_status myr_search_start(myr_sim *sim, myr_error *err) {
  const myr_config *cfg = sim->cfg;
  const myr_model *m = sim->model;
  if (cfg->policy != MYR_POLICY_NETWORK && cfg->policy != MYR_POLICY_MCTS) return MYR_OK;
  if (cfg->policy == MYR_POLICY_NETWORK && (!m->features || m->n_features <= 0))
    return myr_fail(err, MYR_ERR_CONFIG, "policy.kind: network needs observation features, and model %s has none",
                    m->name);
  if (cfg->policy == MYR_POLICY_MCTS && !m->plan)
    return myr_fail(err, MYR_ERR_CONFIG,
                    "policy.kind: mcts needs a planning interface, and model %s has none (models/plan.h)", m->name);
  myr_search *s = calloc(1, sizeof *s);
  if (!s) return myr_fail(err, MYR_ERR_NOMEM, "cannot allocate the search state");
  sim->search = s;
  s->mcts = myr_search_mcts_config(cfg);
  int64_t cap = sim->agents.capacity;
  myr_status st = MYR_OK;
  if (cfg->policy == MYR_POLICY_NETWORK || s->mcts.rollout_depth == 0) st = make_network(sim, s, err);
  if (st == MYR_OK && s->net.w && cfg->network_precision == MYR_NET_BF16)
    st = myr_net_bf16_check(&s->net.shape, 0, err);
  if (st != MYR_OK) return st;
  s->agents = malloc((size_t)cap * sizeof *s->agents);
  s->result.action = malloc((size_t)cap);
  s->result.target = malloc((size_t)cap * (size_t)m->n_actions * sizeof(float));
  s->result.value = malloc((size_t)cap * sizeof(float));
  if (!s->agents || !s->result.action || !s->result.target || !s->result.value)
    return myr_fail(err, MYR_ERR_NOMEM, "cannot allocate search results for %lld agents", (long long)cap);
  if (cfg->policy == MYR_POLICY_NETWORK) {
    int64_t rows = cap < NETWORK_CHUNK ? cap : NETWORK_CHUNK;
    s->chunk = rows;
    s->rows = malloc((size_t)rows * (size_t)s->net.shape.size[0] * sizeof(float));
    s->out = malloc((size_t)rows * (size_t)(m->n_actions + 1) * sizeof(float));
    if (!s->rows || !s->out) return myr_fail(err, MYR_ERR_NOMEM, "cannot allocate network rows");
    return MYR_OK;
  }
  s->result_of = malloc((size_t)cap * sizeof *s->result_of);
  if (!s->result_of) return myr_fail(err, MYR_ERR_NOMEM, "cannot allocate the search's result index");
  if (cfg->train.enabled && (st = myr_trainer_create(&s->trainer, cfg, &s->net, err)) != MYR_OK) return st;
  size_t per_agent = myr_mcts_bytes_per_agent(&s->mcts, m->plan, m->n_actions);
  int64_t chunk = s->mcts.chunk > 0 ? s->mcts.chunk : (int64_t)(TREE_BUDGET / (per_agent ? per_agent : 1));
  if (chunk < 1) chunk = 1;
  if (chunk > cap) chunk = cap;
  s->chunk = chunk;
  s->mcts.chunk = chunk;
  return myr_mcts_create(&s->workspace, &s->mcts, m->plan, m->n_actions, s->net.w ? &s->net.shape : NULL, chunk,
                         err);
}

void myr_search_stop(myr_sim *sim) {
  myr_search *s = sim->search;
  if (!s) return;
  myr_mcts_destroy(s->workspace);
#ifdef MYRIAD_HAVE_CUDA
  myr_search_free_cuda(s);
#endif
  myr_trainer_destroy(s->trainer);
  free(s->result_of);
  myr_net_free(&s->net);
  free(s->rows);
  free(s->out);
  free(s->agents);
  free(s->result.action);
  free(s->result.target);
  free(s->result.value);
  free(s);
  sim->search = NULL;
}

static myr_status decide_network(myr_sim *sim, const myr_view *v) {
  myr_search *s = sim->search;
  const myr_model *m = sim->model;
  int in = s->net.shape.size[0], outw = m->n_actions + 1;
  myr_net_view nv = myr_net_view_of(&s->net);
  nv.precision = sim->cfg->network_precision;
  for (int64_t b = 0; b < v->n; b += s->chunk) {
    int64_t e = b + s->chunk < v->n ? b + s->chunk : v->n;
#pragma omp parallel for schedule(static) num_threads(sim->threads)
    for (int64_t i = b; i < e; i++) m->features(v, i, s->rows + (size_t)(i - b) * (size_t)in);
    myr_net_forward_cpu(&nv, s->rows, s->out, e - b, sim->threads);
#pragma omp parallel for schedule(static) num_threads(sim->threads)
    for (int64_t i = b; i < e; i++) {
      uint8_t mask[MYR_MAX_ACTIONS];
      float prior[MYR_MAX_ACTIONS];
      m->legal(v, i, mask);
      uint32_t legal = 0;
      for (int a = 0; a < m->n_actions; a++) legal |= (uint32_t)(mask[a] != 0) << a;
      myr_net_prior(s->out + (size_t)(i - b) * (size_t)outw, legal, m->n_actions, prior);
      myr_rng r = myr_rng_make(v->seed, v->id[i], v->step, MYR_RNG_DECIDE);
      v->action[i] = (uint8_t)myr_pick_action(prior, m->n_actions, sim->cfg->policy_sample ? myr_rng_uniform(&r) : -1.0f);
    }
  }
  return MYR_OK;
}

static myr_status decide_mcts(myr_sim *sim, const myr_view *v, myr_error *err) {
  myr_search *s = sim->search;
  int64_t n = 0;
  for (int64_t i = 0; i < v->n; i++)
    if (v->alive[i]) s->agents[n++] = i;
  myr_net_view nv = myr_net_view_of(&s->net);
  nv.precision = sim->cfg->network_precision;
  myr_status st = myr_mcts_search_cpu(s->workspace, v, s->net.w ? &nv : NULL, s->agents, n, sim->threads,
                                      &s->result, err);
  if (st != MYR_OK) return st;
  for (int64_t k = 0; k < n; k++) v->action[s->agents[k]] = s->result.action[k];
  s->searched = n;
  return MYR_OK;
}

myr_status myr_search_decide(myr_sim *sim, const myr_view *v, myr_error *err) {
  if (!sim->search) return myr_fail(err, MYR_ERR_INTERNAL, "the search policy was not started");
  return sim->cfg->policy == MYR_POLICY_NETWORK ? decide_network(sim, v) : decide_mcts(sim, v, err);
}

/* ---- training on the CPU backend --------------------------------------------------------- */

typedef struct cpu_rows_ctx {
  myr_sim *sim;
  const myr_view *v;
} cpu_rows_ctx;

/* The trainer's rows (search/trainer.h) from the roots of the asked slots and the last search:
 * plan_root, its legal mask and features, and one plan_step with the action taken (its reward). */
static myr_status cpu_rows(void *ctx, myr_trainer_rows *r, myr_error *err) {
  cpu_rows_ctx *c = ctx;
  const myr_model *m = c->sim->model;
  const myr_model_plan *p = m->plan;
  myr_search *s = c->sim->search;
  const myr_view *v = c->v;
  int A = m->n_actions, F = p->n_features;
  size_t n = (size_t)r->n, cb = (size_t)(p->context_bytes > 0 ? p->context_bytes : 1), sb = (size_t)p->state_bytes;
  uint8_t *context = malloc(n * cb), *state = malloc(2 * n * sb), *action = malloc(n), *terminal = malloc(n);
  int32_t *tree = malloc(n * sizeof *tree), *parent = malloc(n * sizeof *parent), *child = malloc(n * sizeof *child);
  float *reward = malloc(n * sizeof *reward), *features = malloc(n * (size_t)F * sizeof *features);
  uint32_t *legal = malloc(n * sizeof *legal);
  uint64_t *agent = malloc(n * sizeof *agent);
  myr_status st = MYR_OK;
  if (!context || !state || !action || !terminal || !tree || !parent || !child || !reward || !features || !legal ||
      !agent)
    st = myr_fail(err, MYR_ERR_NOMEM, "train: out of memory for %zu sample rows", n);
  if (st == MYR_OK) {
    for (size_t k = 0; k < n; k++) {
      int64_t i = r->slot[k];
      uint8_t *ctxk = context + k * cb, *root = state + 2 * k * sb;
      p->root(v, i, ctxk, root);
      uint8_t mask[MYR_MAX_ACTIONS];
      p->legal(v->params, ctxk, root, mask);
      uint32_t bits = 0;
      for (int a = 0; a < A; a++) bits |= (uint32_t)(mask[a] != 0) << a;
      r->legal[k] = bits;
      p->features(v->params, ctxk, root, r->x + k * (size_t)F);
      tree[k] = (int32_t)k;
      parent[k] = 0;
      child[k] = 1;
      action[k] = v->action[i];
      agent[k] = v->id[i];
      int64_t row = s->result_of[i];
      memcpy(r->target + k * (size_t)A, s->result.target + (size_t)row * (size_t)A, (size_t)A * sizeof(float));
      r->value[k] = s->result.value[row];
    }
    myr_plan_batch b;
    memset(&b, 0, sizeof b);
    b.n = (int64_t)n;
    b.tree = tree;
    b.parent = parent;
    b.child = child;
    b.action = action;
    b.nodes = 2;
    b.context = context;
    b.state = state;
    b.reward = reward;
    b.terminal = terminal;
    b.legal = legal;
    b.features = features;
    b.agent = agent;
    b.trees_per_agent = 1;
    b.step = v->step;
    b.seed = v->seed;
    b.params = v->params;
    b.discount = s->mcts.discount;
    p->expand(&b, 0, (int64_t)n);
    memcpy(r->reward, reward, n * sizeof *reward); /* row k: the step from root k by its action */
  }
  free(context);
  free(state);
  free(action);
  free(terminal);
  free(tree);
  free(parent);
  free(child);
  free(reward);
  free(features);
  free(legal);
  free(agent);
  return st;
}

myr_status myr_search_train_rows(myr_sim *sim, const myr_view *v, myr_trainer_rows *rows, myr_error *err) {
  myr_search *s = sim->search;
  if (!s || !s->result_of || sim->cfg->policy != MYR_POLICY_MCTS)
    return myr_fail(err, MYR_ERR_INTERNAL, "training rows need policy.kind: mcts");
  for (int64_t k = 0; k < s->searched; k++) s->result_of[s->agents[k]] = k;
  cpu_rows_ctx c = {sim, v};
  return cpu_rows(&c, rows, err);
}

static myr_status rows_of_search(void *ctx, myr_trainer_rows *rows, myr_error *err) {
  cpu_rows_ctx *c = ctx;
  return cpu_rows(c, rows, err);
}

myr_status myr_search_train_observe(myr_sim *sim, const myr_view *v, myr_error *err) {
  myr_search *s = sim->search;
  if (!s || !s->trainer) return MYR_OK;
  for (int64_t k = 0; k < s->searched; k++) s->result_of[s->agents[k]] = k;
  cpu_rows_ctx c = {sim, v};
  return myr_trainer_observe(s->trainer, v->step, v->id, v->alive, v->n, rows_of_search, &c, err);
}

myr_status myr_search_train_after_step(myr_sim *sim, myr_error *err) {
  myr_search *s = sim->search;
  if (!s || !s->trainer) return MYR_OK;
  int changed = 0;
  int gpu = sim->backend != NULL && s->device != NULL;
  myr_status st = myr_trainer_after_step(s->trainer, sim->step, sim->threads, gpu, &changed, err);
#ifdef MYRIAD_HAVE_CUDA
  if (st == MYR_OK && changed && s->device) st = myr_search_upload_weights_cuda(s, err);
#endif
  return st;
}
