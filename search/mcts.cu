/* Batched MCTS on the GPU (search/mcts_cuda.h): the waves of myr_mcts_search_cpu as kernels.
 * Selection runs a group of A lanes per agent, 32 / A groups a warp (search/mcts_group.cuh:
 * lane a scores action a, the folds over actions run in the CPU's order), an agent's K root
 * trees in one group, as in the CPU loop, and begins with the backup of the trees' previous
 * wave, on the lines the group has just asked for; roots and results run a thread per agent,
 * the model's plan_step a thread per expansion. With one tree per agent and one leaf per wave,
 * tree b's new leaf is batch row b (a hole where it expands none), and the next wave's group
 * sets it (prior and value, lanes over actions) before the backup; otherwise the wave's
 * expansions are listed in tree order by an exclusive scan of the per-tree counts (struct
 * wave_rows) and set by a thread per row.
 *
 * A wave is four launches (clear the count; set the previous leaves, back up, select, place
 * rows; the model's expand; the network), seven with the scan, the list and set_leaves (root
 * parallelism or several leaves per wave; five with MYRIAD_MCTS_SELECT=thread), and no host
 * wait: the listed row count stays on the device, where the expand kernel, the network and set_leaves
 * read it (they are launched for the most rows a wave can have, and the blocks past the count
 * return at once). Waves go out in runs; after a run the host reads how many leaves the run's
 * last wave selected: none means every agent is done and that wave's selection kernel has set
 * and backed up the last leaves, so an equal allocation of S simulations costs one wait per chunk.
 * Everything a tree computes comes from the same MYR_HD functions as on the CPU (or, in
 * selection, the same expressions folded in the same order), so actions, targets and values are
 * the CPU's bit for bit.
 *
 * Owns: one device block carved into the tree arrays (mcts_tree.h), the model's contexts and
 * states, the wave's batch rows, feature and output rows, the device counters; CUB scratch; a
 * pinned int64 pair for reading the selected count. */
#include <cuda_runtime.h>
#include <stdio.h>
#include <stdlib.h> /* getenv */
#include <string.h>

#include <cub/device/device_scan.cuh>

#include "models/model_cuda.cuh"
#include "search/mcts_cuda.h"
#include "search/mcts_group.cuh" /* myr_group_*: selection with a group of lanes per agent */
#include "search/mcts_tree.h"
#include "sim/cuda/check.cuh" /* CU(call): CUDA failures as myr_error */

struct myr_mcts_cuda {
  myr_mcts_config cfg;
  myr_model_plan plan;
  int A, F, K, S, L, out_width, has_net;
  int32_t nodes;
  int64_t chunk, trees;
  myr_mcts_tree t; /* device pointers */
  uint8_t *context, *state;
  int64_t *tree_agent;              /* [trees]: agent slot of each tree (roots) */
  uint64_t *agent_id;               /* [trees] */
  int32_t *counts, *offsets;        /* [trees]: the wave's expansions per tree, their first row */
  int32_t *b_tree, *b_parent, *b_child;
  uint8_t *b_action;
  float *b_reward;                  /* [trees * L]: the expansions' reward, terminal flag, legal mask */
  uint8_t *b_terminal;
  uint32_t *b_legal;
  float *features, *out, *value;    /* [trees * L] rows */
  int64_t *selected;                /* device: leaves selected in the wave */
  int64_t *expansions;              /* device: the wave's expansions (batch rows) */
  int64_t *pinned;                  /* host: selected */
  int group;                        /* selection's fold bound (8, 9, 12, 16, 32: groups of A lanes); 1: a thread */
  int l1_set;                       /* the tree kernels' L1 preference is set */
  void *cub_temp;
  size_t cub_bytes, bytes;
  char *mem;
};

static size_t up(size_t n) { return (n + 255) & ~(size_t)255; }

static void *carve(char **at, size_t bytes) {
  void *p = *at;
  *at += up(bytes);
  return p;
}

extern "C" size_t myr_mcts_cuda_bytes(const myr_mcts_cuda *m) { return m ? m->bytes : 0; }

extern "C" void myr_mcts_destroy_cuda(myr_mcts_cuda *m) {
  if (!m) return;
  cudaFree(m->mem);
  cudaFree(m->cub_temp);
  cudaFreeHost(m->pinned);
  free(m);
}

extern "C" myr_status myr_mcts_create_cuda(myr_mcts_cuda **out, const myr_mcts_config *cfg, const myr_model_plan *plan,
                                           int n_actions, const myr_net_shape *net, int64_t max_agents,
                                           myr_error *err) {
  *out = NULL;
  if (!plan->expand_cuda || !plan->root_cuda)
    return myr_fail(err, MYR_ERR_BACKEND, "mcts: the model's planning interface has no CUDA launchers");
  if (n_actions < 1 || n_actions > MYR_MCTS_MAX_ACTIONS || max_agents < 1)
    return myr_fail(err, MYR_ERR_CONFIG, "mcts: %d actions, %lld agents per chunk", n_actions, (long long)max_agents);
  myr_mcts_cuda *m = (myr_mcts_cuda *)calloc(1, sizeof *m);
  if (!m) return myr_fail(err, MYR_ERR_NOMEM, "mcts: out of memory");
  m->cfg = *cfg;
  m->plan = *plan;
  m->A = n_actions;
  m->F = plan->n_features;
  m->K = myr_tree_per_agent(cfg);
  m->S = cfg->simulations;
  m->L = cfg->leaves_per_wave < 1 ? 1 : cfg->leaves_per_wave;
  m->nodes = myr_tree_cap(m->S, m->K, cfg->simulation_allocation) + 1;
  m->chunk = cfg->chunk > 0 && cfg->chunk < max_agents ? cfg->chunk : max_agents;
  m->trees = m->chunk * m->K;
  m->has_net = net != NULL;
  m->out_width = n_actions + 1;

  myr_mcts_tree *t = &m->t;
  myr_tree_configure(t, cfg, (int32_t)m->trees, m->nodes, n_actions, m->L);
  /* One block: the tree arrays (myr_tree_layout), then the model's states and contexts, and
   * the GPU driver's own arrays. */
  size_t T = (size_t)m->trees, TN = T * (size_t)m->nodes, R = T * (size_t)m->L;
  size_t F = (size_t)(m->F > 0 ? m->F : 1);
  size_t sizes[] = {TN * (size_t)plan->state_bytes, T * (size_t)(plan->context_bytes > 0 ? plan->context_bytes : 1),
                    T * 8, T * 8, T * 4, T * 4, R * 4, R * 4, R * 4, R, R * 4, R, R * 4, R * F * 4,
                    R * (size_t)m->out_width * 4, R * 4, 8, 8};
  size_t total = myr_tree_layout(t, NULL, 256);
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) total += up(sizes[i]);
  m->bytes = total;
  cudaError_t e = cudaMalloc((void **)&m->mem, total);
  if (e != cudaSuccess) {
    free(m);
    return myr_fail(err, MYR_ERR_NOMEM, "mcts: cannot allocate %.2f GiB of GPU memory for %lld agents per chunk "
                    "(lower policy.mcts.chunk)", total / 1073741824.0, (long long)max_agents);
  }
  char *at = m->mem + myr_tree_layout(t, m->mem, 256);
  int i = 0;
  m->state = (uint8_t *)carve(&at, sizes[i++]);
  m->context = (uint8_t *)carve(&at, sizes[i++]);
  m->tree_agent = (int64_t *)carve(&at, sizes[i++]);
  m->agent_id = (uint64_t *)carve(&at, sizes[i++]);
  m->counts = (int32_t *)carve(&at, sizes[i++]);
  m->offsets = (int32_t *)carve(&at, sizes[i++]);
  m->b_tree = (int32_t *)carve(&at, sizes[i++]);
  m->b_parent = (int32_t *)carve(&at, sizes[i++]);
  m->b_child = (int32_t *)carve(&at, sizes[i++]);
  m->b_action = (uint8_t *)carve(&at, sizes[i++]);
  m->b_reward = (float *)carve(&at, sizes[i++]);
  m->b_terminal = (uint8_t *)carve(&at, sizes[i++]);
  m->b_legal = (uint32_t *)carve(&at, sizes[i++]);
  m->features = (float *)carve(&at, sizes[i++]);
  m->out = (float *)carve(&at, sizes[i++]);
  m->value = (float *)carve(&at, sizes[i++]);
  m->selected = (int64_t *)carve(&at, sizes[i++]);
  m->expansions = (int64_t *)carve(&at, sizes[i++]);
  /* Selection by a group of A lanes per agent (m->group: the smallest of 8, 9, 12, 16, 32 that
   * is at least A bounds the kernel's unrolled folds: every fold issues G shuffles, so G = 16
   * for 9 actions would spend 7 of every 16 on lanes past the group; 9 is the grid models'
   * count, 8 moves and staying); MYRIAD_MCTS_SELECT=thread keeps a thread per agent (the same
   * bits; for comparisons). */
  const char *sel = getenv("MYRIAD_MCTS_SELECT");
  m->group = sel && !strcmp(sel, "thread") ? 1
             : n_actions <= 8                ? 8
             : n_actions <= 9                ? 9
             : n_actions <= 12               ? 12
             : n_actions <= 16               ? 16
                                             : 32;
  /* States and features the model leaves unwritten stay defined, as on the CPU. */
  if ((e = cudaMemset(m->mem, 0, total)) != cudaSuccess ||
      (e = cudaHostAlloc((void **)&m->pinned, 2 * sizeof(int64_t), cudaHostAllocDefault)) != cudaSuccess) {
    myr_mcts_destroy_cuda(m);
    return myr_fail(err, MYR_ERR_BACKEND, "mcts: %s", cudaGetErrorString(e));
  }
  int32_t *i32 = NULL;
  cub::DeviceScan::ExclusiveSum(NULL, m->cub_bytes, i32, i32, (int64_t)T);
  if ((e = cudaMalloc(&m->cub_temp, m->cub_bytes ? m->cub_bytes : 1)) != cudaSuccess) {
    myr_mcts_destroy_cuda(m);
    return myr_fail(err, MYR_ERR_BACKEND, "mcts: %s", cudaGetErrorString(e));
  }
  *out = m;
  return MYR_OK;
}

#define FOR_EACH(i, n) for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (int64_t)gridDim.x * blockDim.x)

/* Tree b belongs to chunk agent b / K: its slot, its id. */
__global__ void tree_agents(const int64_t *agents, int64_t c0, int64_t trees, int K, const uint64_t *id,
                            int64_t *tree_agent, uint64_t *agent_id) {
  FOR_EACH(b, trees) {
    int64_t slot = agents[c0 + b / K];
    tree_agent[b] = slot;
    agent_id[b] = id[slot];
  }
}

/* Roots of chunk agent i's K trees: prior from its first tree's network row (the K rows are
 * equal: the same root), noise per tree, then the agent's budgets (as the CPU loop). */
__global__ void roots(myr_mcts_tree t, const float *out, int out_width, int use_net, const uint64_t *agent_id,
                      int64_t na, int K, int S, int alloc, uint32_t seed, uint64_t step) {
  FOR_EACH(i, na) {
    int32_t b0 = (int32_t)(i * K);
    uint32_t legal = t.legal[myr_tree_at(&t, b0, 0)];
    float prior[MYR_MCTS_MAX_ACTIONS];
    float value = 0.0f;
    if (use_net) {
      const float *row = out + (size_t)b0 * (size_t)out_width;
      myr_net_prior(row, legal, t.actions, prior);
      value = row[t.actions];
    } else {
      myr_tree_uniform_prior(t.actions, legal, prior);
    }
    for (int32_t k = 0; k < K; k++) {
      myr_rng noise = myr_rng_make(seed, agent_id[b0], step, MYR_RNG_SEARCH + 2);
      noise.block = (uint32_t)k << 16;
      myr_tree_root_init(&t, b0 + k, legal, prior, value, &noise);
    }
    myr_tree_alloc_init(&t, b0, K, S, alloc);
  }
}

/* New leaves of tree b this wave (a terminal or max-depth leaf visited again is not expanded). */
__device__ int32_t count_new(const myr_mcts_tree &t, int64_t b) {
  int32_t c = 0;
  for (int32_t j = 0; j < t.wave_count[b]; j++)
    c += t.stat[(size_t)b * (size_t)t.nodes + (size_t)t.wave_leaf[b * t.max_leaves + j]].visits == 0;
  return c;
}

/* Where a wave's expansions go. direct (one tree per agent, one leaf per wave: the common
 * large-population case): tree b's new leaf is batch row b, and a tree that expands nothing
 * (done, or a terminal or max-depth leaf visited again) leaves a hole, row tree -1, which the
 * model's expand and set_leaves skip and the network evaluates for nothing; no scan, no list.
 * Otherwise: each tree's count of new leaves, scanned and listed by list_new. The row order
 * changes no result: rows are independent, and a network row's output depends only on the row. */
struct wave_rows {
  int32_t *counts, *b_tree, *b_parent, *b_child;
  uint8_t *b_action;
  int direct;
};

/* The previous wave's rows (the expansions' fields, network outputs), for selection kernels
 * that set the new leaves themselves (fuse: the group path with direct rows, where tree b's
 * leaf is row b). */
struct wave_leaves {
  const float *out, *rollout_value, *reward;
  const uint8_t *terminal;
  const uint32_t *legal;
  int out_width, use_net, rollouts, fuse;
};

__device__ void tree_rows(const myr_mcts_tree &t, int64_t b, const wave_rows &r) {
  if (!r.direct) {
    r.counts[b] = count_new(t, b); /* wave_count is 0 when done */
    return;
  }
  const int32_t leaf = t.wave_count[b] > 0 ? t.wave_leaf[b * t.max_leaves] : 0;
  const int64_t g = (int64_t)b * t.nodes + leaf;
  if (t.wave_count[b] == 0 || t.stat[g].visits != 0) {
    r.b_tree[b] = -1;
    return;
  }
  r.b_tree[b] = (int32_t)b;
  r.b_parent[b] = myr_tree_parent(&t, g);
  r.b_child[b] = leaf;
  r.b_action[b] = t.action[g];
}

/* The backup of each agent's trees' previous wave (a no-op after none), their selection, and
 * each tree's rows (wave_rows). */
__global__ void select_wave(myr_mcts_tree t, int64_t na, int K, int S, int alloc, int L, int64_t *selected,
                            wave_rows rows) {
  int64_t local[1] = {0};
  FOR_EACH(i, na) {
    int32_t b0 = (int32_t)(i * K);
    for (int32_t k = 0; k < K; k++) myr_tree_backup_wave(&t, b0 + k);
    if (myr_tree_alloc_wave(&t, b0, K, S, alloc, L) > 0) {
      for (int32_t k = 0; k < K; k++) {
        int32_t quota = t.budget[b0 + k] - t.sims[b0 + k];
        if (quota > L) quota = L;
        if (quota > 0) local[0] += myr_tree_select_wave(&t, b0 + k, quota);
      }
    }
    for (int32_t k = 0; k < K; k++) tree_rows(t, b0 + k, rows);
  }
  myr_cuda_add_counters<1>(local, selected);
}

/* The same with a group of A lanes per agent, 32 / A groups a warp (search/mcts_group.cuh; G,
 * at least A, bounds its unrolled folds). The group asks for everything its trees' backup,
 * allocation and walk read (myr_group_prefetch) and loads what setting the previous wave's leaf
 * needs (its batch row, the lane's logit and the value: leaves.fuse, where tree b0's leaf is
 * row b0), all in one round; then sets the leaf, lane 0 runs the backup (on lines in L1 by
 * then), the allocation, and the group selects. With direct rows lane 0 places the leaf it
 * selected (tree_rows without reading it back). Four blocks of 256 per multiprocessor (sm_90:
 * 64 registers; spills 60 bytes a thread for G = 9, 136 for G = 16): 32 warps of 3 groups for
 * 9 actions, 96 trees in flight per multiprocessor. Five (48 registers) would hold 120 but, at
 * G = 16, spill 230 bytes a thread, more than L1 keeps beside the trees' lines. */
template <int G>
__global__ void __launch_bounds__(256, 4) select_wave_group(myr_mcts_tree t, int64_t na, int K, int S, int alloc, int L,
                                                         int64_t *selected, wave_rows rows, wave_leaves leaves) {
  const int per = 32 / t.actions; /* groups a warp */
  const myr_group gr = myr_group_make(t.actions);
  int64_t local[1] = {0};
  const int64_t warp = ((int64_t)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
  const int64_t groups = (((int64_t)gridDim.x * blockDim.x) >> 5) * per;
  for (int64_t i = gr.slot < per ? warp * per + gr.slot : na; i < na; i += groups) { /* idle lanes skip */
    const int32_t b0 = (int32_t)(i * K);
    for (int32_t k = 0; k < K; k++) myr_group_prefetch(t, b0 + k, gr);
    /* K = 1 when fused: the previous wave's row b0 (a hole or tree b0's leaf), its fields loaded
     * together, before the hole test (rows exist for every tree; a hole's are not used) */
    int32_t prev_tree = -1, prev_leaf = 0;
    float la = 0.0f, value = 0.0f, reward = 0.0f;
    uint8_t terminal = 0;
    uint32_t legal = 0;
    const float *row = leaves.use_net ? leaves.out + (size_t)b0 * (size_t)leaves.out_width : NULL;
    if (leaves.fuse) {
      prev_tree = rows.b_tree[b0];
      prev_leaf = rows.b_child[b0];
      reward = leaves.reward[b0];
      terminal = leaves.terminal[b0];
      legal = leaves.legal[b0];
      if (row) {
        la = row[gr.lane];
        value = row[t.actions];
      } else if (leaves.rollouts) {
        value = leaves.rollout_value[b0];
      }
    }
    if (prev_tree >= 0) myr_group_set_leaf<G>(t, b0, prev_leaf, row != NULL, la, value, reward, terminal, legal, gr);
    int32_t pending = 0;
    if (gr.lane == 0) {
      for (int32_t k = 0; k < K; k++) myr_tree_backup_wave(&t, b0 + k);
      pending = myr_tree_alloc_wave(&t, b0, K, S, alloc, L);
    }
    pending = myr_group_at(gr, pending, 0);
    __syncwarp(gr.mask); /* lane 0's backups and budgets */
    int32_t last_new = -1; /* myr_group_pack_new */
    if (pending > 0) {
      for (int32_t k = 0; k < K; k++) {
        int32_t quota = t.budget[b0 + k] - t.sims[b0 + k];
        if (quota > L) quota = L;
        if (quota > 0) {
          int32_t got = myr_group_select_wave<G>(t, b0 + k, quota, gr, &last_new);
          if (gr.lane == 0) local[0] += got;
        }
      }
    }
    if (gr.lane == 0) {
      if (rows.direct) {
        /* K = L = 1: the one leaf, if new (a leaf visited again has visits; tree_rows' rule) */
        if (last_new >= 0) {
          rows.b_tree[b0] = b0;
          rows.b_parent[b0] = myr_group_new_parent(last_new);
          rows.b_child[b0] = myr_group_new_node(last_new);
          rows.b_action[b0] = (uint8_t)myr_group_new_action(last_new);
        } else {
          rows.b_tree[b0] = -1;
        }
      } else {
        for (int32_t k = 0; k < K; k++) tree_rows(t, b0 + k, rows);
      }
    }
  }
  myr_cuda_add_counters<1>(local, selected);
}

/* The batch rows of the wave's new leaves, in tree order; the last tree also leaves the row
 * count on the device (*expansions) for the model's expand and the network. */
__global__ void list_new(myr_mcts_tree t, int64_t trees, const int32_t *offsets, const int32_t *counts,
                         int32_t *b_tree, int32_t *b_parent, int32_t *b_child, uint8_t *b_action,
                         int64_t *expansions) {
  FOR_EACH(b, trees) {
    if (b == trees - 1) *expansions = (int64_t)offsets[b] + counts[b];
    int32_t row = offsets[b];
    for (int32_t j = 0; j < t.wave_count[b]; j++) {
      int32_t leaf = t.wave_leaf[b * t.max_leaves + j];
      int64_t g = (int64_t)b * t.nodes + leaf;
      if (t.stat[g].visits != 0) continue;
      b_tree[row] = (int32_t)b;
      b_parent[row] = myr_tree_parent(&t, g);
      b_child[row] = leaf;
      b_action[row] = t.action[g];
      row++;
    }
  }
}

/* Row k's new leaf gets its prior and value (the CPU's set_leaf loop), for k < *expansions (all
 * rows when expansions is NULL; holes skipped). The backup follows at the start of the next
 * wave's selection, tree by tree (as on the CPU, a tree's new leaves are set before its backup,
 * and its backup comes before its next selection; trees do not touch one another). */
__global__ void set_leaves(myr_mcts_tree t, int64_t rows, const int64_t *expansions, const int32_t *b_tree,
                           const int32_t *b_child, wave_leaves leaves) {
  const int64_t n = expansions && *expansions < rows ? *expansions : rows;
  FOR_EACH(k, n) {
    if (b_tree[k] < 0) continue; /* a hole (wave_rows) */
    const float *row = leaves.use_net ? leaves.out + (size_t)k * (size_t)leaves.out_width : NULL;
    float value = leaves.use_net ? row[t.actions] : leaves.rollouts ? leaves.rollout_value[k] : 0.0f;
    myr_tree_set_leaf(&t, b_tree[k], b_child[k], row, value, leaves.reward[k], leaves.terminal[k], leaves.legal[k]);
  }
}

__global__ void results(myr_mcts_tree t, int64_t na, int K, int merge, const uint64_t *agent_id, uint32_t seed,
                        uint64_t step, int64_t o0, uint8_t *action, float *target, float *value) {
  FOR_EACH(i, na) {
    int64_t o = o0 + i;
    myr_rng r = myr_rng_make(seed, agent_id[i * K], step, MYR_RNG_SEARCH + 0);
    myr_tree_agent_result(&t, (int32_t)(i * K), K, merge, &r, &action[o], target + (size_t)o * (size_t)t.actions,
                          &value[o]);
  }
}

/* The tree kernels use (almost) no shared memory, and selection keeps its per-node arrays
 * (myr_tree_choose: edges, priors, completed Q, ...) in local memory: ask for the largest L1
 * so that they stay there instead of going to L2. A hint; results do not depend on it. */
static cudaError_t prefer_l1(void) {
  const void *kernels[] = {(const void *)select_wave, (const void *)set_leaves, (const void *)list_new,
                           (const void *)roots, (const void *)results, (const void *)select_wave_group<8>,
                           (const void *)select_wave_group<9>, (const void *)select_wave_group<12>,
                           (const void *)select_wave_group<16>, (const void *)select_wave_group<32>};
  for (size_t i = 0; i < sizeof kernels / sizeof kernels[0]; i++) {
    cudaError_t e = cudaFuncSetAttribute(kernels[i], cudaFuncAttributePreferredSharedMemoryCarveout,
                                         (int)cudaSharedmemCarveoutMaxL1);
    if (e != cudaSuccess) return e;
  }
  return cudaSuccess;
}

/* One wave, all launches on stream s, nothing waited for: selection (and the per-tree counts of
 * new leaves), their scan, the batch rows, the model's expansions, the network on the rows,
 * priors and values of the new leaves and the backup. */
static cudaError_t wave(myr_mcts_cuda *m, int64_t na, int64_t nt, myr_plan_batch *batch, const myr_net_view *net,
                        int use_net, cudaStream_t s) {
  const int K = m->K, S = m->S, L = m->L, alloc = m->cfg.simulation_allocation;
  cudaError_t e = cudaMemsetAsync(m->selected, 0, sizeof(int64_t), s);
  if (e != cudaSuccess) return e;
  wave_rows rows;
  rows.counts = m->counts;
  rows.b_tree = m->b_tree;
  rows.b_parent = m->b_parent;
  rows.b_child = m->b_child;
  rows.b_action = m->b_action;
  rows.direct = K == 1 && L == 1;
  wave_leaves leaves;
  leaves.out = m->out;
  leaves.rollout_value = m->value;
  leaves.reward = m->b_reward;
  leaves.terminal = m->b_terminal;
  leaves.legal = m->b_legal;
  leaves.out_width = m->out_width;
  leaves.use_net = use_net;
  leaves.rollouts = batch->rollout_depth > 0;
  leaves.fuse = rows.direct && m->group != 1;
  if (m->group == 1) {
    select_wave<<<myr_cuda_blocks(na), MYR_CUDA_THREADS, 0, s>>>(m->t, na, K, S, alloc, L, m->selected, rows);
  } else {
    /* one group of A lanes per agent, 32 / A a warp, every group in the first pass of the grid */
    const int64_t per = 32 / m->A, warps = (na + per - 1) / per, blocks = (warps * 32 + 255) / 256;
    const unsigned grid = (unsigned)(blocks < 0x7fffffff ? blocks : 0x7fffffff);
    if (m->group == 8)
      select_wave_group<8><<<grid, 256, 0, s>>>(m->t, na, K, S, alloc, L, m->selected, rows, leaves);
    else if (m->group == 9)
      select_wave_group<9><<<grid, 256, 0, s>>>(m->t, na, K, S, alloc, L, m->selected, rows, leaves);
    else if (m->group == 12)
      select_wave_group<12><<<grid, 256, 0, s>>>(m->t, na, K, S, alloc, L, m->selected, rows, leaves);
    else if (m->group == 16)
      select_wave_group<16><<<grid, 256, 0, s>>>(m->t, na, K, S, alloc, L, m->selected, rows, leaves);
    else
      select_wave_group<32><<<grid, 256, 0, s>>>(m->t, na, K, S, alloc, L, m->selected, rows, leaves);
  }
  if ((e = cudaGetLastError()) != cudaSuccess) return e;
  /* direct: nt rows, holes included; otherwise at most nt * L, the count on the device */
  const int64_t *count = rows.direct ? NULL : m->expansions;
  if (!rows.direct) {
    size_t bytes = m->cub_bytes;
    if ((e = cub::DeviceScan::ExclusiveSum(m->cub_temp, bytes, m->counts, m->offsets, nt, s)) != cudaSuccess) return e;
    list_new<<<myr_cuda_blocks(nt), MYR_CUDA_THREADS, 0, s>>>(m->t, nt, m->offsets, m->counts, m->b_tree,
                                                              m->b_parent, m->b_child, m->b_action, m->expansions);
    if ((e = cudaGetLastError()) != cudaSuccess) return e;
  }
  batch->n = nt * L;
  batch->count = count;
  if ((e = (cudaError_t)m->plan.expand_cuda(batch, s)) != cudaSuccess) return e;
  if (use_net) e = (cudaError_t)myr_net_forward_cuda_count(net, m->features, m->out, nt * L, count, s);
  if (e != cudaSuccess) return e;
  if (leaves.fuse) return cudaSuccess; /* the next wave's selection sets the leaves */
  set_leaves<<<myr_cuda_blocks(nt * L), MYR_CUDA_THREADS, 0, s>>>(m->t, nt * L, count, m->b_tree, m->b_child,
                                                                 leaves);
  return cudaGetLastError();
}

extern "C" myr_status myr_mcts_search_cuda(myr_mcts_cuda *m, const myr_view *v, const myr_net_view *net,
                                           const int64_t *agents, int64_t n, myr_mcts_result *out, void *stream,
                                           myr_error *err) {
  cudaStream_t s = (cudaStream_t)stream;
  const myr_mcts_config *cfg = &m->cfg;
  int use_net = net != NULL && cfg->rollout_depth == 0;
  if (use_net && !m->has_net) return myr_fail(err, MYR_ERR_INTERNAL, "mcts: the workspace was created without a network");
  if (!m->l1_set) {
    CU(prefer_l1());
    m->l1_set = 1;
  }
  const int K = m->K, S = m->S, L = m->L, alloc = cfg->simulation_allocation;
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
    int64_t na = n - c0 < m->chunk ? n - c0 : m->chunk, nt = na * K;
    tree_agents<<<myr_cuda_blocks(nt), MYR_CUDA_THREADS, 0, s>>>(agents, c0, nt, K, v->id, m->tree_agent, m->agent_id);
    CU(cudaGetLastError());
    /* Each tree computes its root (a root parallel agent's K roots are equal). */
    CU(m->plan.root_cuda(v, m->tree_agent, nt, m->context, m->state, m->nodes, m->t.legal, m->features, s));
    if (use_net) CU(myr_net_forward_cuda(net, m->features, m->out, nt, s));
    roots<<<myr_cuda_blocks(na), MYR_CUDA_THREADS, 0, s>>>(m->t, m->out, m->out_width, use_net, m->agent_id, na, K, S,
                                                           alloc, v->seed, v->step);
    CU(cudaGetLastError());
    /* Waves, launched in runs with no host wait between them: each wave's counts stay on the
     * device (the expand kernel and the network read the row count there), and a wave that
     * selects nothing changes nothing. After a run the host reads how many leaves its last
     * wave selected: none means every agent is done. The first run has the waves an equal
     * allocation needs and one more (the one that finds nothing); the others (proportional,
     * adaptive) a quarter of S / L more each. */
    const int32_t cap = myr_tree_cap(S, K, alloc);
    int64_t run = (cap + L - 1) / L + 1;
    /* no rows from a previous wave yet (a selection that sets its trees' leaves reads them) */
    CU(cudaMemsetAsync(m->b_tree, 0xff, (size_t)nt * sizeof(int32_t), s));
    for (;;) {
      for (int64_t w = 0; w < run; w++) CU(wave(m, na, nt, &batch, net, use_net, s));
      CU(cudaMemcpyAsync(&m->pinned[0], m->selected, sizeof(int64_t), cudaMemcpyDeviceToHost, s));
      CU(cudaStreamSynchronize(s));
      if (m->pinned[0] == 0) break; /* no agent has simulations left */
      run = (S + L - 1) / L / 4 + 1;
    }
    results<<<myr_cuda_blocks(na), MYR_CUDA_THREADS, 0, s>>>(m->t, na, K, cfg->result_merge, m->agent_id, v->seed,
                                                             v->step, c0, out->action, out->target, out->value);
    CU(cudaGetLastError());
  }
  CU(cudaStreamSynchronize(s));
  return MYR_OK;
}
