/* The network and MCTS policies on the CUDA backend (search/policy.h). Made at the first GPU
 * decision: the network's weights on the device, and either the MCTS device workspace (its
 * actions go straight into the action column) or the network policy's rows, filled a chunk
 * of agents at a time from the model's planning root (features and legal mask, the same as the
 * model's own for planning models) and turned into actions by the same choice as the CPU's.
 * With network.precision bf16 the weights are also packed once for the tensor-core path. */
#include <cuda_runtime.h>
#include <stdio.h>
#include <string.h>

#include "models/model_cuda.cuh"
#include "search/mcts_cuda.h"
#include "search/policy.h"
#include "search/trainer.h" // myr_trainer_observe: samples from the GPU search
#include "sim/cuda/check.cuh" /* CU(call): CUDA failures as myr_error */

#define NETWORK_CHUNK ((int64_t)1 << 20) /* agents per network-policy chunk */

typedef struct search_cuda {
  float *w;                /* the network's weights */
  void *w16;               /* network.precision bf16: the weights packed for tensor cores */
  myr_net_view net;
  int64_t *slots;          /* [capacity]: 0, 1, 2, ...: every slot is alive on the GPU */
  myr_mcts_cuda *mcts;
  float *target, *value;   /* MCTS results besides the action */
  int64_t chunk;           /* network policy */
  uint8_t *context, *state;
  uint32_t *legal;
  float *features, *out;
  /* training rows (search/trainer.h), grown on demand: `rows` slots' roots and one step each */
  int64_t rows;
  int64_t *tslot;
  uint8_t *tcontext, *tstate, *taction, *tterminal;
  int32_t *ttree, *tparent, *tchild;
  uint64_t *tagent;
  uint32_t *tlegal;
  float *treward, *tfeatures, *tchild_features, *ttarget, *tvalue;
  uint64_t *ids;           /* [capacity]: the id column, downloaded for picking */
} search_cuda;

__global__ void iota(int64_t *slots, int64_t n) {
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
    slots[i] = i;
}

extern "C" void myr_search_free_cuda(myr_search *s) {
  search_cuda *d = (search_cuda *)s->device;
  if (!d) return;
  myr_mcts_destroy_cuda(d->mcts);
  cudaFree(d->w);
  cudaFree(d->w16);
  cudaFree(d->slots);
  cudaFree(d->target);
  cudaFree(d->value);
  cudaFree(d->context);
  cudaFree(d->state);
  cudaFree(d->legal);
  cudaFree(d->features);
  cudaFree(d->out);
  void *t[] = {d->tslot, d->tcontext, d->tstate, d->taction, d->tterminal, d->ttree, d->tparent, d->tchild,
               d->tagent, d->tlegal, d->treward, d->tfeatures, d->tchild_features, d->ttarget, d->tvalue};
  for (size_t k = 0; k < sizeof t / sizeof t[0]; k++) cudaFree(t[k]);
  free(d->ids);
  free(d);
  s->device = NULL;
}

static myr_status start(myr_sim *sim, myr_search *s, myr_error *err) {
  const myr_model *m = sim->model;
  const myr_model_plan *p = m->plan;
  if (!p || !p->root_cuda || !p->expand_cuda)
    return myr_fail(err, MYR_ERR_BACKEND, "policy.kind %s on the GPU needs a planning interface with CUDA launchers; "
                    "model %s has none (use run.backend: cpu)", myr_policy_name(sim->cfg->policy), m->name);
  search_cuda *d = (search_cuda *)calloc(1, sizeof *d);
  if (!d) return myr_fail(err, MYR_ERR_NOMEM, "cannot allocate the GPU search state");
  s->device = d;
  int64_t cap = sim->agents.capacity;
  int A = m->n_actions;
  CU(cudaMalloc((void **)&d->slots, (size_t)cap * sizeof *d->slots));
  iota<<<myr_cuda_blocks(cap), MYR_CUDA_THREADS>>>(d->slots, cap);
  CU(cudaGetLastError());
  if (s->net.w) {
    CU(cudaMalloc((void **)&d->w, s->net.n_params * sizeof(float)));
    CU(cudaMemcpy(d->w, s->net.w, s->net.n_params * sizeof(float), cudaMemcpyHostToDevice));
    d->net.shape = s->net.shape;
    d->net.w = d->w;
    if (sim->cfg->network_precision == MYR_NET_BF16) {
      myr_status st = myr_net_bf16_check(&s->net.shape, 1, err);
      if (st != MYR_OK) return st;
      CU(cudaMalloc(&d->w16, myr_net_bf16_bytes(&s->net.shape)));
      CU(myr_net_pack_bf16_cuda(&d->net, d->w16, NULL));
      CU(cudaDeviceSynchronize());
      d->net.precision = MYR_NET_BF16;
      d->net.w16 = d->w16;
    }
  }
  if (sim->cfg->policy == MYR_POLICY_MCTS) {
    CU(cudaMalloc((void **)&d->target, (size_t)cap * (size_t)A * sizeof(float)));
    CU(cudaMalloc((void **)&d->value, (size_t)cap * sizeof(float)));
    return myr_mcts_create_cuda(&d->mcts, &s->mcts, p, A, s->net.w ? &s->net.shape : NULL, s->chunk, err);
  }
  d->chunk = cap < NETWORK_CHUNK ? cap : NETWORK_CHUNK;
  size_t c = (size_t)d->chunk;
  CU(cudaMalloc((void **)&d->context, c * (size_t)(p->context_bytes > 0 ? p->context_bytes : 1)));
  CU(cudaMalloc((void **)&d->state, c * (size_t)p->state_bytes));
  CU(cudaMalloc((void **)&d->legal, c * sizeof(uint32_t)));
  CU(cudaMalloc((void **)&d->features, c * (size_t)p->n_features * sizeof(float)));
  CU(cudaMalloc((void **)&d->out, c * (size_t)(A + 1) * sizeof(float)));
  return MYR_OK;
}

/* Agents [b, b + n): prior over the legal actions, then the CPU's choice. */
__global__ void network_choice(myr_view v, int64_t b, int64_t n, const float *out, const uint32_t *legal, int A,
                               int sample) {
  for (int64_t k = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; k < n; k += (int64_t)gridDim.x * blockDim.x) {
    float prior[MYR_MAX_ACTIONS];
    int64_t i = b + k;
    myr_net_prior(out + (size_t)k * (size_t)(A + 1), legal[k], A, prior);
    myr_rng r = myr_rng_make(v.seed, v.id[i], v.step, MYR_RNG_DECIDE);
    float u = myr_rng_uniform(&r);
    v.action[i] = (uint8_t)myr_pick_action(prior, A, sample ? u : -1.0f);
  }
}

static myr_status decide_network(myr_sim *sim, search_cuda *d, const myr_view *v, cudaStream_t stream, myr_error *err) {
  const myr_model_plan *p = sim->model->plan;
  int A = sim->model->n_actions;
  for (int64_t b = 0; b < v->n; b += d->chunk) {
    int64_t n = v->n - b < d->chunk ? v->n - b : d->chunk;
    CU(p->root_cuda(v, d->slots + b, n, d->context, d->state, 1, d->legal, d->features, stream));
    CU(myr_net_forward_cuda(&d->net, d->features, d->out, n, stream));
    network_choice<<<myr_cuda_blocks(n), MYR_CUDA_THREADS, 0, stream>>>(*v, b, n, d->out, d->legal, A,
                                                                        sim->cfg->policy_sample);
    CU(cudaGetLastError());
  }
  return MYR_OK;
}

extern "C" myr_status myr_search_decide_cuda(myr_sim *sim, const myr_view *v, void *stream, myr_error *err) {
  myr_search *s = sim->search;
  if (!s) return myr_fail(err, MYR_ERR_INTERNAL, "the search policy was not started");
  if (!s->device) {
    myr_status st = start(sim, s, err);
    if (st != MYR_OK) return st;
  }
  search_cuda *d = (search_cuda *)s->device;
  if (sim->cfg->policy == MYR_POLICY_NETWORK) return decide_network(sim, d, v, (cudaStream_t)stream, err);
  myr_mcts_result out = {v->action, d->target, d->value};
  myr_status st = myr_mcts_search_cuda(d->mcts, v, s->net.w ? &d->net : NULL, d->slots, v->n, &out, stream, err);
  if (st == MYR_OK && s->trainer) st = myr_search_train_observe_cuda(sim, v, stream, err);
  return st;
}

extern "C" myr_status myr_search_upload_weights_cuda(myr_search *s, myr_error *err) {
  search_cuda *d = (search_cuda *)s->device;
  if (!d || !d->w) return MYR_OK;
  CU(cudaMemcpy(d->w, s->net.w, s->net.n_params * sizeof(float), cudaMemcpyHostToDevice));
  if (d->w16) /* network.precision bf16: the tensor cores read the packed copy */
    CU(myr_net_pack_bf16_cuda(&d->net, d->w16, NULL));
  /* a pageable copy may still be in flight when cudaMemcpy returns, and the backend's stream does
   * not wait for the default one: the next search must see every new weight */
  CU(cudaDeviceSynchronize());
  return MYR_OK;
}

extern "C" int myr_cuda_device_view(const myr_sim *sim, myr_view *v, void **stream); /* sim/cuda/backend.cu */

extern "C" myr_status myr_search_train_ids_cuda(const myr_sim *sim, uint64_t *id, myr_error *err) {
  myr_view v;
  void *stream = NULL;
  if (!myr_cuda_device_view(sim, &v, &stream)) return myr_fail(err, MYR_ERR_INTERNAL, "train: the rank is not on a GPU");
  if (v.n == 0) return MYR_OK;
  CU(cudaMemcpyAsync(id, v.id, (size_t)v.n * sizeof(uint64_t), cudaMemcpyDeviceToHost, (cudaStream_t)stream));
  CU(cudaStreamSynchronize((cudaStream_t)stream));
  return MYR_OK;
}

/* ---- training rows on the GPU (search/trainer.h) ----------------------------------------- */

/* Row k: the expansion (tree k, node 0 -> node 1 by the action taken) and the search's results. */
__global__ void train_gather(myr_view v, const int64_t *slot, int64_t n, int A, const float *target, const float *value,
                             int32_t *tree, int32_t *parent, int32_t *child, uint8_t *action, uint64_t *agent,
                             float *out_target, float *out_value) {
  for (int64_t k = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; k < n; k += (int64_t)gridDim.x * blockDim.x) {
    int64_t i = slot[k];
    tree[k] = (int32_t)k;
    parent[k] = 0;
    child[k] = 1;
    action[k] = v.action[i];
    agent[k] = v.id[i];
    for (int a = 0; a < A; a++) out_target[k * A + a] = target[i * A + a];
    out_value[k] = value[i];
  }
}

typedef struct gpu_rows_ctx {
  myr_sim *sim;
  const myr_view *v;
  cudaStream_t stream;
} gpu_rows_ctx;

static myr_status grow_rows(search_cuda *d, const myr_model_plan *p, int A, int64_t n, myr_error *err) {
  if (n <= d->rows) return MYR_OK;
  int64_t cap = d->rows ? d->rows : 1024;
  while (cap < n) cap *= 2;
  void *t[] = {d->tslot, d->tcontext, d->tstate, d->taction, d->tterminal, d->ttree, d->tparent, d->tchild,
               d->tagent, d->tlegal, d->treward, d->tfeatures, d->tchild_features, d->ttarget, d->tvalue};
  for (size_t k = 0; k < sizeof t / sizeof t[0]; k++) cudaFree(t[k]);
  size_t c = (size_t)cap, F = (size_t)p->n_features;
  d->rows = 0;
  CU(cudaMalloc((void **)&d->tslot, c * sizeof(int64_t)));
  CU(cudaMalloc((void **)&d->tcontext, c * (size_t)(p->context_bytes > 0 ? p->context_bytes : 1)));
  CU(cudaMalloc((void **)&d->tstate, 2 * c * (size_t)p->state_bytes));
  CU(cudaMalloc((void **)&d->taction, c));
  CU(cudaMalloc((void **)&d->tterminal, c));
  CU(cudaMalloc((void **)&d->ttree, c * sizeof(int32_t)));
  CU(cudaMalloc((void **)&d->tparent, c * sizeof(int32_t)));
  CU(cudaMalloc((void **)&d->tchild, c * sizeof(int32_t)));
  CU(cudaMalloc((void **)&d->tagent, c * sizeof(uint64_t)));
  /* the roots' masks (node 0 of trees of 2 nodes: stride 2), then the expansions' rows */
  CU(cudaMalloc((void **)&d->tlegal, 3 * c * sizeof(uint32_t)));
  CU(cudaMalloc((void **)&d->treward, c * sizeof(float)));
  CU(cudaMalloc((void **)&d->tfeatures, c * F * sizeof(float)));
  CU(cudaMalloc((void **)&d->tchild_features, c * F * sizeof(float)));
  CU(cudaMalloc((void **)&d->ttarget, c * (size_t)A * sizeof(float)));
  CU(cudaMalloc((void **)&d->tvalue, c * sizeof(float)));
  d->rows = cap;
  return MYR_OK;
}

static myr_status gpu_rows(void *ctx, myr_trainer_rows *r, myr_error *err) {
  gpu_rows_ctx *c = (gpu_rows_ctx *)ctx;
  myr_sim *sim = c->sim;
  search_cuda *d = (search_cuda *)sim->search->device;
  const myr_model_plan *p = sim->model->plan;
  int A = sim->model->n_actions, F = p->n_features;
  int64_t n = r->n;
  myr_status st = grow_rows(d, p, A, n, err);
  if (st != MYR_OK) return st;
  cudaStream_t stream = c->stream;
  CU(cudaMemcpyAsync(d->tslot, r->slot, (size_t)n * sizeof(int64_t), cudaMemcpyHostToDevice, stream));
  CU(p->root_cuda(c->v, d->tslot, n, d->tcontext, d->tstate, 2, d->tlegal, d->tfeatures, stream));
  train_gather<<<myr_cuda_blocks(n), MYR_CUDA_THREADS, 0, stream>>>(*c->v, d->tslot, n, A, d->target, d->value,
                                                                     d->ttree, d->tparent, d->tchild, d->taction,
                                                                     d->tagent, d->ttarget, d->tvalue);
  CU(cudaGetLastError());
  myr_plan_batch b;
  memset(&b, 0, sizeof b);
  b.n = n;
  b.tree = d->ttree;
  b.parent = d->tparent;
  b.child = d->tchild;
  b.action = d->taction;
  b.nodes = 2;
  b.context = d->tcontext;
  b.state = d->tstate;
  b.reward = d->treward;
  b.terminal = d->tterminal;
  b.legal = d->tlegal + 2 * (size_t)d->rows;
  b.features = d->tchild_features;
  b.agent = d->tagent;
  b.trees_per_agent = 1;
  b.step = c->v->step;
  b.seed = c->v->seed;
  b.params = c->v->params;
  b.discount = sim->search->mcts.discount;
  CU(p->expand_cuda(&b, stream));
  /* the roots' legal masks (node 0 of each tree: stride 2) and the expansions' rewards (rows) */
  CU(cudaMemcpy2DAsync(r->legal, sizeof(uint32_t), d->tlegal, 2 * sizeof(uint32_t), sizeof(uint32_t), (size_t)n,
                       cudaMemcpyDeviceToHost, stream));
  CU(cudaMemcpyAsync(r->reward, d->treward, (size_t)n * sizeof(float), cudaMemcpyDeviceToHost, stream));
  CU(cudaMemcpyAsync(r->x, d->tfeatures, (size_t)n * (size_t)F * sizeof(float), cudaMemcpyDeviceToHost, stream));
  CU(cudaMemcpyAsync(r->target, d->ttarget, (size_t)n * (size_t)A * sizeof(float), cudaMemcpyDeviceToHost, stream));
  CU(cudaMemcpyAsync(r->value, d->tvalue, (size_t)n * sizeof(float), cudaMemcpyDeviceToHost, stream));
  CU(cudaStreamSynchronize(stream));
  return MYR_OK;
}

extern "C" myr_status myr_search_train_observe_cuda(myr_sim *sim, const myr_view *v, void *stream, myr_error *err) {
  myr_search *s = sim->search;
  search_cuda *d = (search_cuda *)s->device;
  if (!s->trainer || !d) return MYR_OK;
  if (!d->ids) {
    d->ids = (uint64_t *)malloc((size_t)sim->agents.capacity * sizeof(uint64_t));
    if (!d->ids) return myr_fail(err, MYR_ERR_NOMEM, "cannot allocate the trainer's id copy");
  }
  cudaStream_t st = (cudaStream_t)stream;
  CU(cudaMemcpyAsync(d->ids, v->id, (size_t)v->n * sizeof(uint64_t), cudaMemcpyDeviceToHost, st));
  CU(cudaStreamSynchronize(st));
  gpu_rows_ctx c = {sim, v, st};
  /* every slot [0, n) of the GPU backend holds an alive agent at the decide */
  return myr_trainer_observe(s->trainer, v->step, d->ids, NULL, v->n, gpu_rows, &c, err);
}
