/* The tree logic of batched MCTS (search/mcts.h), written once as MYR_HD functions over one
 * tree at a time: root setup and noise, selection with virtual loss, backup, the search's
 * results, and the allocation and merge of an agent's K root trees. No call here reaches a
 * model or the network: the driver (mcts.c on the CPU, mcts.cu later) expands the leaves that
 * select() returns through the model's plan_step, evaluates them, and hands their prior and
 * value back through set_leaf(). Every exp and log is sim/mathf.h's and every other float
 * operation is +, -, *, / or sqrtf (correctly rounded on both), without contraction, so the CPU
 * and CUDA builds walk the same trees and give the same bits. It compiles as C11 and as CUDA
 * C++ (no VLAs, no compound literals, explicit casts).
 *
 * Storage (myr_mcts_tree, a POD view of one chunk's SoA arrays): node j of tree b at
 * b * nodes + j, its action edges at (b * nodes + j) * actions + a. Node 0 is the root.
 * Compact where it costs no result bits: visits as u16 (at most simulations + 1 <= 4097), kept
 * with the pending visits and the value sum in one 8-byte myr_tree_stat per node,
 * parent and child indices as u8 when a tree has at most 256 node slots (u16 otherwise:
 * myr_tree_index / myr_tree_set_index), priors as IEEE binary16 (search/lowp.h), rounded once
 * when the node's prior is set (root_init, set_leaf) with integer operations, so the CPU and
 * the GPU store and read the same bits.
 *
 * Rules as implemented:
 *
 * Values. A node's visits count its own evaluation and every simulation through it; value_sum
 * is the sum of the values backed up into it; raw_value is the value it was evaluated at (the
 * network's, a rollout's, or 0; 0 at terminal nodes). Q(s, a) = reward(child) + discount *
 * value_sum(child) / visits(child). The root starts with one visit of its raw value.
 *
 * Select (one leaf): walk from the root; a node that is terminal, has no legal action, or lies
 * at depth max_depth (when > 0) is a leaf that is visited again: its raw value is backed up once
 * more and nothing is expanded. Otherwise choose a legal action by the rule below; an action
 * whose edge is not expanded ends the walk: the next free slot becomes its child (NEW).
 *   Q normalisation (both algorithms): min-max over the tree, as in the MuZero paper: the
 *     lowest and highest Q (reward + discount * mean value of a child) backed up anywhere in the
 *     tree so far (two floats per tree), widened by the values being normalised. Not mctx's
 *     per-node variants (parent and siblings for muzero, the node's completed Qs for gumbel):
 *     those stretch any difference between siblings, however small, to the whole [0, 1], and
 *     without an informative network they lock onto the first line that looked good
 *     (tests/search/test_mcts_bruteforce.c, exact rewards, 4096 simulations: muzero optimal on
 *     86% (zero network) and 94% (rollouts) of the instances against 99.7%; gumbel on 68% and
 *     81%, no better than with 1024 simulations, against 98.7% and 100%).
 *   muzero: argmax Qn(a) + P(a) sqrt(N) c(N) / (1 + N(a)), c(N) = pb_c_init +
 *     log((N + pb_c_base + 1) / pb_c_base), N the node's visits; unvisited children have
 *     Qn = 0. At the root P carries the Dirichlet noise.
 *   gumbel, interior: argmax pi'(a) - N(a) / (1 + sum_b N(b)), pi' = softmax(log P + sigma(q^))
 *     where q^ is the completed Q (visited: Q; unvisited: the mixed value approximation
 *     (v + sum N / sum_{visited} P * sum_{visited} P Q) / (1 + sum N), v the raw value),
 *     normalised as above, and sigma(q) = (c_visit + max_b N(b)) * c_scale * q.
 *   gumbel, root: sequential halving over m = min(max_considered_actions, legal actions) with
 *     the tree's schedule budget: simulation i goes to the action, among those whose visits
 *     equal the schedule's count for i, with the largest g(a) + log P(a) + sigma(q^(a)) (g the
 *     Gumbel noise, scaled by gumbel_scale).
 *   Ties go to the lowest action. Illegal actions are never chosen at any node.
 *
 * Virtual loss (leaves_per_wave > 1). Each leaf selected in a wave adds a virtual visit to every
 * node on its path until it is backed up: N'(a) = N(a) + pending(a). muzero counts a virtual
 * visit at the lowest normalised value (Qn' = Qn N / (N + pending)) and in the exploration
 * term's visit counts; gumbel counts it in N' of the interior rule and of the halving schedule
 * (so a wave's root simulations follow the schedule in order). Besides, an edge claimed in this
 * wave (its child not evaluated yet) is never taken again in the same wave, and a node all of
 * whose legal edges are claimed or closed is closed for the rest of the wave (the walk starts
 * again from the root). So no two leaves of a wave ever expand the same edge; a tree selects
 * fewer leaves than its quota only when every path from its root ends in a claimed edge (at a
 * Gumbel root: when every action that the schedule allows next is closed). Terminal and
 * max-depth leaves are never claimed: several leaves of a wave may visit them again.
 *
 * Backup (the recorded path only, cost proportional to depth): G = value of the leaf; at the
 * leaf and then at each parent: visits += 1, value_sum += G, with G = reward + discount * G
 * on each step up; virtual visits are removed on the way.
 *
 * Results. muzero: target = visit distribution of the root's legal actions; action ~
 * target^(1/temperature) (temperature 0: the most visited), value = the root's mean value.
 * gumbel: target = softmax(log P + sigma(q^)) over the legal actions (the improved policy), the
 * action surviving sequential halving (among the most visited, the largest g + log P + sigma),
 * value = sum_a pi'(a) q^(a), the improved policy's value under the search's estimates.
 * A root without legal actions: action 0, an all-zero target, its raw value.
 *
 * Root parallelism (K trees per agent, each with its own root noise):
 *   allocation equal: tree k gets S / K simulations, the first S % K one more.
 *   proportional: a warm-up of m = max(1, S / (2K)) each; then the rest, R = S - K m, in
 *     proportion to w_k = 1 + (v_k - min v) / (max v - min v) (v_k the tree's root value after
 *     the warm-up; largest remainders get the leftover), at most cap = min(S - (K-1) m,
 *     2 ceil(S / K)) per tree.
 *   adaptive: the same warm-up; then, each wave, leaves_per_wave simulations go one at a time to
 *     the tree with the largest UCB1 score vn_k + sqrt(2 ln n / n_k) (vn_k: v_k min-max
 *     normalised over the agent's trees; n_k its simulations so far), trees at the cap excluded.
 *     It takes about K times as many waves as equal.
 *   With proportional and adaptive a Gumbel tree follows the halving schedule of its cap and
 *   stops wherever its allocation ends.
 *   merge value_sum: the trees' root statistics are pooled as if one tree (visits and value sums
 *     of each action and of the root) and the results computed from the pool (gumbel: with the
 *     shared prior and raw value, the action among the most visited with the largest
 *     log P + sigma, no noise).
 *   visit_weighted: targets and values averaged with weights = the trees' simulations; muzero
 *     samples its action from the merged target, gumbel takes the surviving action with the
 *     largest total weight (ties: larger merged target, then lowest action).
 *   max_value: the tree with the largest root value gives action, target and value. */
#ifndef MYR_MCTS_TREE_H
#define MYR_MCTS_TREE_H

#include <math.h> /* sqrtf (correctly rounded on the CPU and in CUDA) */
#include <stdint.h>

#include "search/lowp.h"   /* myr_half_bits, myr_half_float: the stored priors */
#include "search/mcts.h"   /* config, enums, MYR_MCTS_MAX_ACTIONS */
#include "search/net.h"    /* myr_net_prior */
#include "sim/hd.h"
#include "sim/mathf.h"     /* myr_expf, myr_logf */
#include "sim/rng.h"       /* myr_rng_*: root noise, action sampling */

/* A node's visit statistics, together: the selection walk reads them for every child of every
 * node it passes, so one 8-byte load (one sector) instead of three from three arrays. */
typedef struct myr_tree_stat {
  uint16_t visits;   /* at most simulations + 1 <= 4097 */
  uint16_t vl;       /* pending (virtual) visits of this wave; bit 15: closed for this wave */
  float value_sum;
} myr_tree_stat;

/* One chunk's trees, as the tree functions see them (host or device pointers). */
typedef struct myr_mcts_tree {
  int32_t trees;      /* trees in the arrays */
  int32_t nodes;      /* node slots per tree */
  int32_t actions;    /* A */
  int32_t max_leaves; /* wave_leaf slots per tree (leaves_per_wave) */
  int32_t wide;       /* parent and child indices are u16 (nodes > 256), else u8 */
  /* config */
  int32_t algorithm, max_depth, max_considered;
  float discount, pb_c_init, pb_c_base, dirichlet_alpha, dirichlet_fraction, gumbel_scale;
  float c_visit, c_scale, temperature;
  /* per node [trees * nodes] */
  myr_tree_stat *stat; /* visits, pending visits, value sum */
  float *raw_value, *reward;
  void *parent;       /* u8 or u16 (wide); 0 at the root (never read there) */
  uint8_t *action;    /* the action into the node */
  uint8_t *terminal;
  uint32_t *legal;
  /* per edge [trees * nodes * actions] */
  uint16_t *prior;    /* binary16 */
  void *child;        /* u8 or u16 (wide); 0 = not expanded */
  /* per tree [trees] */
  float *noise;       /* [trees * actions]: gumbel_scale * Gumbel(0, 1) per action */
  int32_t *used;      /* node slots in use: the next free slot */
  int32_t *sims;      /* simulations backed up */
  int32_t *budget;    /* simulations allotted so far */
  int32_t *schedule;  /* gumbel: the budget whose halving schedule the root follows */
  float *bounds;      /* [trees * 2]: lowest and highest Q backed up in the tree (gumbel) */
  int32_t *wave_count;/* leaves selected in the current wave */
  int32_t *wave_leaf; /* [trees * max_leaves]: their nodes, in selection order */
} myr_mcts_tree;

/* The tree view's settings for `trees` trees of `nodes` slots, `actions` actions and
 * `leaves` leaves per wave, from a config: the one place they are copied (CPU and GPU
 * workspaces, tests). */
static inline void myr_tree_configure(myr_mcts_tree *t, const myr_mcts_config *cfg, int32_t trees, int32_t nodes,
                                      int32_t actions, int32_t leaves) {
  t->trees = trees;
  t->nodes = nodes;
  t->actions = actions;
  t->max_leaves = leaves;
  t->wide = nodes > 256;
  t->algorithm = cfg->algorithm;
  t->max_depth = cfg->max_depth;
  t->max_considered = cfg->max_considered_actions;
  t->discount = cfg->discount;
  t->pb_c_init = cfg->pb_c_init;
  t->pb_c_base = cfg->pb_c_base;
  t->dirichlet_alpha = cfg->dirichlet_alpha;
  t->dirichlet_fraction = cfg->dirichlet_fraction;
  t->gumbel_scale = cfg->gumbel_scale;
  t->c_visit = cfg->c_visit;
  t->c_scale = cfg->c_scale;
  t->temperature = cfg->temperature;
}

/* Carves the tree arrays of a configured view from `base` (host or device memory) in a fixed
 * order, each rounded up to `align` bytes, and returns the bytes they take; with base NULL it
 * only counts. The model's states and contexts are carved by the caller. */
static inline size_t myr_tree_layout(myr_mcts_tree *t, char *base, size_t align) {
  size_t T = (size_t)t->trees, TN = T * (size_t)t->nodes, TNA = TN * (size_t)t->actions;
  size_t A = (size_t)t->actions, L = (size_t)t->max_leaves, I = t->wide ? 2 : 1;
  const size_t bytes[] = {TN * 8, TN * 4, TN * 4, TN * I, TN, TN, TN * 4, TNA * 2, TNA * I,
                          T * A * 4, T * 4, T * 4, T * 4, T * 4, T * 8, T * 4, T * L * 4};
  void **field[] = {(void **)&t->stat, (void **)&t->raw_value, (void **)&t->reward,
                    (void **)&t->parent, (void **)&t->action, (void **)&t->terminal, (void **)&t->legal,
                    (void **)&t->prior, (void **)&t->child, (void **)&t->noise,
                    (void **)&t->used, (void **)&t->sims, (void **)&t->budget, (void **)&t->schedule,
                    (void **)&t->bounds, (void **)&t->wave_count, (void **)&t->wave_leaf};
  size_t total = 0;
  for (size_t i = 0; i < sizeof bytes / sizeof bytes[0]; i++) {
    if (base) *field[i] = base + total;
    total += (bytes[i] + align - 1) / align * align;
  }
  return total;
}

#define MYR_TREE_CLOSED_BIT 0x8000u
#define MYR_TREE_PENDING_MASK 0x7fffu
#define MYR_TREE_EPS 1e-8f

/* What select() found. */
enum { MYR_TREE_NEW = 0, MYR_TREE_REVISIT = 1, MYR_TREE_CLOSED = 2 };
typedef struct myr_tree_leaf {
  int32_t kind;   /* MYR_TREE_* */
  int32_t node;   /* NEW: the new slot; REVISIT: the leaf visited again */
  int32_t parent; /* NEW: the node expanded */
  int32_t action; /* NEW: the action expanded */
  int32_t depth;  /* depth of `node` (root 0) */
} myr_tree_leaf;

/* ---- sizes and small helpers -------------------------------------------------------------- */

MYR_HD static inline int64_t myr_tree_at(const myr_mcts_tree *t, int32_t b, int32_t j) {
  return (int64_t)b * t->nodes + j;
}
/* Element i of a node-index array (parent, child): u8 or u16. */
MYR_HD static inline int32_t myr_tree_index(const myr_mcts_tree *t, const void *a, int64_t i) {
  return t->wide ? (int32_t)((const uint16_t *)a)[i] : (int32_t)((const uint8_t *)a)[i];
}
MYR_HD static inline void myr_tree_set_index(const myr_mcts_tree *t, void *a, int64_t i, int32_t v) {
  if (t->wide) ((uint16_t *)a)[i] = (uint16_t)v;
  else ((uint8_t *)a)[i] = (uint8_t)v;
}
MYR_HD static inline int32_t myr_tree_parent(const myr_mcts_tree *t, int64_t g) {
  return myr_tree_index(t, t->parent, g);
}
/* A walk's new node j (global index gj) as the child of x (global index g) by action a: its
 * parent, action and empty outcome, and the edge's child index. The CPU walk and the GPU
 * group's walk (mcts_group.cuh) both link and report a new node with these two. */
MYR_HD static inline void myr_tree_link_new(const myr_mcts_tree *t, int64_t g, int32_t x, int a, int64_t gj,
                                            int32_t j) {
  myr_tree_set_index(t, t->parent, gj, x);
  t->action[gj] = (uint8_t)a;
  t->reward[gj] = 0.0f;
  t->terminal[gj] = 0;
  t->legal[gj] = 0;
  myr_tree_set_index(t, t->child, g * t->actions + a, j);
}
MYR_HD static inline myr_tree_leaf myr_tree_new_leaf(int32_t j, int32_t x, int a, int32_t depth) {
  myr_tree_leaf leaf;
  leaf.kind = MYR_TREE_NEW;
  leaf.node = j;
  leaf.parent = x;
  leaf.action = a;
  leaf.depth = depth + 1;
  return leaf;
}
/* The child of edge e = g * actions + a (0: not expanded). */
MYR_HD static inline int32_t myr_tree_child(const myr_mcts_tree *t, int64_t e) {
  return myr_tree_index(t, t->child, e);
}
/* Node g's priors as floats (A of them). */
MYR_HD static inline void myr_tree_priors(const myr_mcts_tree *t, int64_t g, float *P) {
  const uint16_t *h = t->prior + g * t->actions;
  for (int a = 0; a < t->actions; a++) P[a] = myr_half_float(h[a]);
}
/* Stores node g's priors (A floats), rounded to binary16: the only place they are rounded. */
MYR_HD static inline void myr_tree_store_priors(myr_mcts_tree *t, int64_t g, const float *P) {
  uint16_t *h = t->prior + g * t->actions;
  for (int a = 0; a < t->actions; a++) h[a] = myr_half_bits(P[a]);
}
MYR_HD static inline uint32_t myr_tree_all_actions(int actions) {
  return actions >= 32 ? 0xffffffffu : ((1u << (uint32_t)actions) - 1u);
}
MYR_HD static inline int myr_tree_popcount(uint32_t x) {
  int n = 0;
  for (; x; x &= x - 1u) n++;
  return n;
}

/* Trees per agent: root_trees, at most one per simulation. */
MYR_HD static inline int32_t myr_tree_per_agent(const myr_mcts_config *c) {
  int32_t k = c->root_trees < 1 ? 1 : c->root_trees;
  return k > c->simulations ? (c->simulations < 1 ? 1 : c->simulations) : k;
}
/* Warm-up simulations per tree (proportional, adaptive). */
MYR_HD static inline int32_t myr_tree_warmup(int32_t S, int32_t K) {
  int32_t m = S / (2 * K);
  return m < 1 ? 1 : m;
}
/* Most simulations one of an agent's K trees can get under `alloc`. */
MYR_HD static inline int32_t myr_tree_cap(int32_t S, int32_t K, int alloc) {
  if (K <= 1) return S;
  int32_t even = (S + K - 1) / K;
  if (alloc == MYR_ALLOC_EQUAL) return even;
  int32_t rest = S - (K - 1) * myr_tree_warmup(S, K);
  return rest < 2 * even ? rest : 2 * even;
}

/* Log prior as a logit (only differences matter); a zero prior gives a logit so low that its
 * softmax weight is 0. */
MYR_HD static inline float myr_tree_logit(float p) { return p > 0.0f ? myr_logf(p) : -1e30f; }

/* Sequential halving (Karnin et al. 2013, as used by Danihelka et al. 2022): with `budget`
 * simulations over m considered actions in ceil(log2 m) phases, phase p gives each of its n_p
 * actions max(1, floor(budget / (ceil(log2 m) n_p))) more visits, round-robin, and the next
 * phase keeps max(2, n_p / 2) of them. Returns the visit count that the action due at
 * simulation `idx` has before it (the schedule continues with 2 actions past the budget). */
MYR_HD static inline int32_t myr_tree_considered_visit(int32_t m, int32_t budget, int32_t idx) {
  if (m <= 1) return idx;
  int32_t log2m = 0;
  while ((1 << log2m) < m) log2m++;
  int32_t base = 0, n = m, pos = idx;
  for (;;) {
    int32_t extra = budget / (log2m * n);
    if (extra < 1) extra = 1;
    int32_t len = extra * n;
    if (pos < len) return base + pos / n;
    pos -= len;
    base += extra;
    n = n / 2 < 2 ? 2 : n / 2;
  }
}

/* ---- random draws (floats through sim/mathf.h: the same bits on the CPU and the GPU) ------ */

/* Standard normal, Marsaglia's polar method (log, sqrt, divisions only). */
MYR_HD static inline float myr_tree_normal(myr_rng *r) {
  for (;;) {
    float u = 2.0f * myr_rng_uniform(r) - 1.0f, v = 2.0f * myr_rng_uniform(r) - 1.0f;
    float s = u * u + v * v;
    if (s > 0.0f && s < 1.0f) return u * sqrtf(-2.0f * myr_logf(s) / s);
  }
}

/* Gamma(k, 1), Marsaglia and Tsang (2000), with the U^(1/k) boost for k < 1. */
MYR_HD static inline float myr_tree_gamma(myr_rng *r, float k) {
  float boost = 1.0f;
  if (k < 1.0f) {
    float u = 1.0f - myr_rng_uniform(r); /* (0, 1] */
    boost = myr_expf(myr_logf(u) / k);
    k = k + 1.0f;
  }
  float d = k - 1.0f / 3.0f, c = 1.0f / sqrtf(9.0f * d);
  for (int it = 0; it < 256; it++) { /* acceptance > 95%: the cap is never reached in practice */
    float x = myr_tree_normal(r), v = 1.0f + c * x;
    if (v <= 0.0f) continue;
    v = v * v * v;
    float u = 1.0f - myr_rng_uniform(r);
    if (myr_logf(u) < 0.5f * x * x + d - d * v + d * myr_logf(v)) return d * v * boost;
  }
  return d * boost;
}

/* Gumbel(0, 1): -log(-log u), u in (0, 1) from 23 random bits (exact in float). */
MYR_HD static inline float myr_tree_gumbel(myr_rng *r) {
  float u = ((float)(myr_rng_u32(r) >> 9) + 0.5f) * (1.0f / 8388608.0f);
  return -myr_logf(-myr_logf(u));
}

/* ---- edge statistics --------------------------------------------------------------------- */

/* The statistics of node x's edges: n[a] visits (0 if not expanded or not yet evaluated), q[a]
 * (0 where n is 0), nv[a] pending visits, blocked[a] 1 when the edge was claimed in this wave or
 * leads to a closed node. Arrays of MYR_MCTS_MAX_ACTIONS; only legal actions are filled. */
/* One legal edge e = (b * nodes + x) * actions + a of a tree whose node 0 is at `base`: its
 * n, q, nv, blocked as above (left as they are, zeros, when the edge is not expanded);
 * myr_tree_edge_to takes the edge's child index c (0: not expanded) instead. The GPU's group
 * selection (search/mcts_group.cuh) calls it one lane per action. */
MYR_HD static inline void myr_tree_edge_to(const myr_mcts_tree *t, int64_t base, int32_t c, int32_t *n, float *q,
                                           int32_t *nv, int32_t *blocked) {
  if (c == 0) return;
  int64_t gc = base + c;
  myr_tree_stat st = t->stat[gc];
  int32_t v = st.visits;
  uint32_t w = st.vl;
  *nv = (int32_t)(w & MYR_TREE_PENDING_MASK);
  *blocked = (v == 0 || (w & MYR_TREE_CLOSED_BIT)) ? 1 : 0;
  if (v > 0) {
    *n = v;
    *q = t->reward[gc] + t->discount * (st.value_sum / (float)v);
  }
}
MYR_HD static inline void myr_tree_edge(const myr_mcts_tree *t, int64_t base, int64_t e, int32_t *n, float *q,
                                        int32_t *nv, int32_t *blocked) {
  myr_tree_edge_to(t, base, myr_tree_child(t, e), n, q, nv, blocked);
}

MYR_HD static inline void myr_tree_edges(const myr_mcts_tree *t, int32_t b, int32_t x, uint32_t legal,
                                         int32_t *n, float *q, int32_t *nv, int32_t *blocked) {
  int64_t base = (int64_t)b * t->nodes, e0 = (base + x) * t->actions;
  for (int a = 0; a < t->actions; a++) {
    n[a] = 0;
    q[a] = 0.0f;
    nv[a] = 0;
    blocked[a] = 0;
    if ((legal >> a) & 1u) myr_tree_edge(t, base, e0 + a, &n[a], &q[a], &nv[a], &blocked[a]);
  }
}

/* Gumbel: completed Q (qhat, unscaled) and sigma of the rescaled completed Q for the legal
 * actions, from visits n, Q q (where n > 0), the prior and the node's raw value. */
MYR_HD static inline void myr_tree_sigma(int actions, uint32_t legal, const int32_t *n, const float *q,
                                         const float *prior, float raw_value, float c_visit, float c_scale,
                                         float tree_lo, float tree_hi, float *qhat, float *sigma) {
  int32_t sum_n = 0, max_n = 0, visited = 0;
  float sum_p = 0.0f, sum_pq = 0.0f, sum_q = 0.0f;
  for (int a = 0; a < actions; a++) {
    if (!((legal >> a) & 1u) || n[a] <= 0) continue;
    sum_n += n[a];
    if (n[a] > max_n) max_n = n[a];
    sum_p = sum_p + prior[a];
    sum_pq = sum_pq + prior[a] * q[a];
    sum_q = sum_q + q[a];
    visited++;
  }
  float vmix = raw_value;
  if (sum_n > 0) {
    float weighted = sum_p > 0.0f ? sum_pq / sum_p : sum_q / (float)visited;
    vmix = (raw_value + (float)sum_n * weighted) / (float)(1 + sum_n);
  }
  float lo = tree_lo, hi = tree_hi; /* empty bounds: lo > hi */
  for (int a = 0; a < actions; a++) {
    if (!((legal >> a) & 1u)) {
      qhat[a] = 0.0f;
      sigma[a] = 0.0f;
      continue;
    }
    float v = n[a] > 0 ? q[a] : vmix;
    qhat[a] = v;
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
  }
  float range = hi - lo > MYR_TREE_EPS ? hi - lo : MYR_TREE_EPS;
  float scale = (c_visit + (float)max_n) * c_scale;
  for (int a = 0; a < actions; a++)
    if ((legal >> a) & 1u) sigma[a] = scale * ((qhat[a] - lo) / range);
}

/* softmax(log prior + sigma) over the legal actions into pi (0 elsewhere). */
MYR_HD static inline void myr_tree_improved(int actions, uint32_t legal, const float *prior, const float *sigma,
                                            float *pi) {
  float mx = 0.0f;
  int any = 0;
  for (int a = 0; a < actions; a++) {
    pi[a] = 0.0f;
    if (!((legal >> a) & 1u)) continue;
    float z = myr_tree_logit(prior[a]) + sigma[a];
    pi[a] = z;
    if (!any || z > mx) mx = z;
    any = 1;
  }
  if (!any) return;
  float sum = 0.0f;
  for (int a = 0; a < actions; a++) {
    float e = ((legal >> a) & 1u) ? myr_expf(pi[a] - mx) : 0.0f;
    pi[a] = e;
    sum = sum + e;
  }
  for (int a = 0; a < actions; a++) pi[a] = pi[a] / sum; /* sum >= 1: the max gives e^0 */
}

/* ---- root ----------------------------------------------------------------------------------- */

/* Clears node slot j of tree b (a new node: no visits, no children). */
MYR_HD static inline void myr_tree_clear_node(myr_mcts_tree *t, int32_t b, int32_t j) {
  int64_t g = myr_tree_at(t, b, j);
  t->stat[g].visits = 0;
  t->stat[g].value_sum = 0.0f;
  t->raw_value[g] = 0.0f;
  t->stat[g].vl = 0;
  for (int a = 0; a < t->actions; a++) {
    myr_tree_set_index(t, t->child, g * t->actions + a, 0);
    t->prior[g * t->actions + a] = 0; /* binary16 +0 */
  }
}

/* Sets up tree b's root (node 0; the model has written its state): legal mask, prior (A floats,
 * 0 for illegal actions), raw value; muzero mixes Dirichlet(alpha) noise into the prior with
 * weight dirichlet_fraction (gamma draws for the legal actions in order), gumbel draws g(a) for
 * every action. `noise` is the tree's own stream. Budget and schedule: myr_tree_alloc_init. */
MYR_HD static inline void myr_tree_root_init(myr_mcts_tree *t, int32_t b, uint32_t legal, const float *prior,
                                             float value, myr_rng *noise) {
  int A = t->actions;
  int64_t g = myr_tree_at(t, b, 0);
  legal &= myr_tree_all_actions(A);
  myr_tree_clear_node(t, b, 0);
  t->stat[g].visits = 1;
  t->stat[g].value_sum = value;
  t->raw_value[g] = value;
  t->reward[g] = 0.0f;
  myr_tree_set_index(t, t->parent, g, 0);
  t->action[g] = 0;
  t->terminal[g] = 0;
  t->legal[g] = legal;
  float p[MYR_MCTS_MAX_ACTIONS] = {0};
  for (int a = 0; a < A; a++) p[a] = ((legal >> a) & 1u) ? prior[a] : 0.0f;
  if (t->algorithm == MYR_MCTS_MUZERO && t->dirichlet_fraction > 0.0f && legal) {
    float eta[MYR_MCTS_MAX_ACTIONS] = {0};
    float sum = 0.0f;
    for (int a = 0; a < A; a++) {
      eta[a] = ((legal >> a) & 1u) ? myr_tree_gamma(noise, t->dirichlet_alpha) : 0.0f;
      sum = sum + eta[a];
    }
    float f = t->dirichlet_fraction;
    float uniform = 1.0f / (float)myr_tree_popcount(legal);
    for (int a = 0; a < A; a++)
      if ((legal >> a) & 1u) p[a] = (1.0f - f) * p[a] + f * (sum > 0.0f ? eta[a] / sum : uniform);
  }
  myr_tree_store_priors(t, g, p);
  for (int a = 0; a < A; a++)
    t->noise[(int64_t)b * A + a] =
        t->algorithm == MYR_MCTS_GUMBEL ? t->gumbel_scale * myr_tree_gumbel(noise) : 0.0f;
  t->bounds[2 * (int64_t)b] = 1e30f;
  t->bounds[2 * (int64_t)b + 1] = -1e30f;
  t->used[b] = 1;
  t->sims[b] = 0;
  t->budget[b] = 0;
  t->schedule[b] = 0;
  t->wave_count[b] = 0;
}

/* Uniform prior over the legal actions (no network). */
MYR_HD static inline void myr_tree_uniform_prior(int actions, uint32_t legal, float *prior) {
  int n = myr_tree_popcount(legal & myr_tree_all_actions(actions));
  for (int a = 0; a < actions; a++) prior[a] = ((legal >> a) & 1u) && n ? 1.0f / (float)n : 0.0f;
}

/* ---- select ---------------------------------------------------------------------------------- */

/* The action the rules choose at node x (depth `depth`) of tree b among its legal, unblocked
 * edges; -1 when every legal edge is blocked. The GPU runs the same rules a lane per action
 * (search/mcts_group.cuh: myr_group_choose, myr_group_select): a change here goes there too,
 * and tests/gpu/test_mcts_gpu.c holds the two to the same bits. */
MYR_HD static inline int myr_tree_choose(const myr_mcts_tree *t, int32_t b, int32_t x, int32_t depth) {
  int A = t->actions;
  int64_t g = myr_tree_at(t, b, x);
  uint32_t legal = t->legal[g];
  float P[MYR_MCTS_MAX_ACTIONS];
  myr_tree_priors(t, g, P);
  /* Not zero-filled: the hot path, and every entry below `actions` is written before it is read. */
  int32_t n[MYR_MCTS_MAX_ACTIONS], nv[MYR_MCTS_MAX_ACTIONS], blocked[MYR_MCTS_MAX_ACTIONS];
  float q[MYR_MCTS_MAX_ACTIONS];
  myr_tree_edges(t, b, x, legal, n, q, nv, blocked);
  int best = -1;
  float best_score = 0.0f;
  if (t->algorithm == MYR_MCTS_MUZERO) {
    float lo = t->bounds[2 * (int64_t)b], hi = t->bounds[2 * (int64_t)b + 1];
    for (int a = 0; a < A; a++)
      if (n[a] > 0) {
        lo = q[a] < lo ? q[a] : lo;
        hi = q[a] > hi ? q[a] : hi;
      }
    float range = hi - lo > MYR_TREE_EPS ? hi - lo : MYR_TREE_EPS;
    float N = (float)(t->stat[g].visits + (int32_t)(t->stat[g].vl & MYR_TREE_PENDING_MASK));
    float c = t->pb_c_init + myr_logf((N + t->pb_c_base + 1.0f) / t->pb_c_base);
    float explore = sqrtf(N) * c;
    for (int a = 0; a < A; a++) {
      if (!((legal >> a) & 1u) || blocked[a]) continue;
      float qn = 0.0f;
      if (n[a] > 0) {
        qn = (q[a] - lo) / range;
        if (nv[a] > 0) qn = qn * ((float)n[a] / (float)(n[a] + nv[a]));
      }
      float s = qn + P[a] * explore / (float)(1 + n[a] + nv[a]);
      if (best < 0 || s > best_score) {
        best = a;
        best_score = s;
      }
    }
    return best;
  }
  /* gumbel */
  float qhat[MYR_MCTS_MAX_ACTIONS], sigma[MYR_MCTS_MAX_ACTIONS];
  myr_tree_sigma(A, legal, n, q, P, t->raw_value[g], t->c_visit, t->c_scale, t->bounds[2 * (int64_t)b],
                 t->bounds[2 * (int64_t)b + 1], qhat, sigma);
  if (depth == 0) {
    int32_t idx = 0;
    for (int a = 0; a < A; a++) idx += n[a] + nv[a];
    int32_t m = myr_tree_popcount(legal);
    if (m > t->max_considered) m = t->max_considered;
    int32_t due = myr_tree_considered_visit(m, t->schedule[b], idx);
    const float *gn = t->noise + (int64_t)b * A;
    for (int a = 0; a < A; a++) {
      if (!((legal >> a) & 1u) || blocked[a] || n[a] + nv[a] != due) continue;
      float s = gn[a] + myr_tree_logit(P[a]) + sigma[a];
      if (best < 0 || s > best_score) {
        best = a;
        best_score = s;
      }
    }
    return best;
  }
  float pi[MYR_MCTS_MAX_ACTIONS];
  myr_tree_improved(A, legal, P, sigma, pi);
  int32_t total = 0;
  for (int a = 0; a < A; a++) total += n[a] + nv[a];
  for (int a = 0; a < A; a++) {
    if (!((legal >> a) & 1u) || blocked[a]) continue;
    float s = pi[a] - (float)(n[a] + nv[a]) / (float)(1 + total);
    if (best < 0 || s > best_score) {
      best = a;
      best_score = s;
    }
  }
  return best;
}

/* One leaf of tree b (see the rules at the top). NEW: slot `node` now hangs under `parent` by
 * `action`, with no visits (claimed) until set_leaf and backup; the driver expands it through
 * the model. CLOSED: nothing left to select in this wave. Adds no virtual visits (select_wave
 * does). */
MYR_HD static inline myr_tree_leaf myr_tree_select(myr_mcts_tree *t, int32_t b) {
  myr_tree_leaf leaf;
  leaf.kind = MYR_TREE_CLOSED;
  leaf.node = 0;
  leaf.parent = -1;
  leaf.action = -1;
  leaf.depth = 0;
  int A = t->actions;
  for (;;) { /* each pass either returns or closes one node */
    int32_t x = 0, depth = 0;
    for (;;) {
      int64_t g = myr_tree_at(t, b, x);
      if (t->terminal[g] || t->legal[g] == 0 || (t->max_depth > 0 && depth >= t->max_depth)) {
        leaf.kind = MYR_TREE_REVISIT;
        leaf.node = x;
        leaf.depth = depth;
        return leaf;
      }
      int a = myr_tree_choose(t, b, x, depth);
      if (a < 0) {
        if (x == 0) return leaf; /* CLOSED */
        t->stat[g].vl = (uint16_t)(t->stat[g].vl | MYR_TREE_CLOSED_BIT);
        break;
      }
      int32_t c = myr_tree_child(t, g * A + a);
      if (c == 0) {
        if (t->used[b] >= t->nodes) return leaf; /* no slot left (budgets prevent this) */
        int32_t j = t->used[b]++;
        myr_tree_clear_node(t, b, j);
        myr_tree_link_new(t, g, x, a, myr_tree_at(t, b, j), j);
        return myr_tree_new_leaf(j, x, a, depth);
      }
      x = c;
      depth++;
    }
  }
}

/* Selects up to `quota` leaves of tree b for this wave into wave_leaf, adding a virtual visit
 * along each one's path; returns how many (fewer only when the tree closed). */
MYR_HD static inline int32_t myr_tree_select_wave(myr_mcts_tree *t, int32_t b, int32_t quota) {
  int32_t n = 0;
  if (quota > t->max_leaves) quota = t->max_leaves;
  while (n < quota) {
    myr_tree_leaf leaf = myr_tree_select(t, b);
    if (leaf.kind == MYR_TREE_CLOSED) break;
    t->wave_leaf[(int64_t)b * t->max_leaves + n] = leaf.node;
    n++;
    int32_t x = leaf.node;
    for (;;) {
      int64_t g = myr_tree_at(t, b, x);
      t->stat[g].vl = (uint16_t)(t->stat[g].vl + 1u);
      if (x == 0) break;
      x = myr_tree_parent(t, g);
    }
  }
  t->wave_count[b] = n;
  return n;
}

/* A new node's evaluation, after the model wrote its state and, in its batch row, the reward,
 * terminal flag and legal mask passed here: prior = softmax of logits over its legal actions
 * (myr_net_prior), or uniform when logits is NULL; raw value `value` (0 at a terminal node). */
MYR_HD static inline void myr_tree_set_leaf(myr_mcts_tree *t, int32_t b, int32_t j, const float *logits, float value,
                                            float reward, uint8_t terminal, uint32_t legal_bits) {
  int A = t->actions;
  int64_t g = myr_tree_at(t, b, j);
  uint32_t legal = legal_bits & myr_tree_all_actions(A);
  t->legal[g] = legal;
  t->reward[g] = reward;
  t->terminal[g] = terminal;
  float P[MYR_MCTS_MAX_ACTIONS];
  if (logits) myr_net_prior(logits, legal, A, P);
  else myr_tree_uniform_prior(A, legal, P);
  myr_tree_store_priors(t, g, P);
  t->raw_value[g] = terminal ? 0.0f : value;
}

/* ---- backup ---------------------------------------------------------------------------------- */

/* Backs up the wave's leaves of tree b in selection order (each along its own path), removes
 * their virtual visits and closed marks; sims += leaves. New leaves need set_leaf first. */
MYR_HD static inline void myr_tree_backup_wave(myr_mcts_tree *t, int32_t b) {
  int32_t count = t->wave_count[b];
  float lo = t->bounds[2 * (int64_t)b], hi = t->bounds[2 * (int64_t)b + 1];
  for (int32_t i = 0; i < count; i++) {
    int32_t x = t->wave_leaf[(int64_t)b * t->max_leaves + i];
    int64_t g = myr_tree_at(t, b, x);
    float G = t->raw_value[g];
    for (;;) {
      t->stat[g].visits += 1;
      t->stat[g].value_sum = t->stat[g].value_sum + G;
      t->stat[g].vl = (uint16_t)((t->stat[g].vl & MYR_TREE_PENDING_MASK) - 1u);
      if (x == 0) break;
      float q = t->reward[g] + t->discount * (t->stat[g].value_sum / (float)t->stat[g].visits);
      lo = q < lo ? q : lo;
      hi = q > hi ? q : hi;
      G = t->reward[g] + t->discount * G;
      x = myr_tree_parent(t, g);
      g = myr_tree_at(t, b, x);
    }
  }
  t->bounds[2 * (int64_t)b] = lo;
  t->bounds[2 * (int64_t)b + 1] = hi;
  t->sims[b] += count;
  t->wave_count[b] = 0;
}

/* ---- results --------------------------------------------------------------------------------- */

/* Tree b's own results: target[A], root value, and its action (gumbel: the survivor of
 * sequential halving; muzero: the most visited, before any temperature). */
MYR_HD static inline float myr_tree_result(const myr_mcts_tree *t, int32_t b, float *target, int *action) {
  int A = t->actions;
  int64_t g = myr_tree_at(t, b, 0);
  uint32_t legal = t->legal[g];
  float P[MYR_MCTS_MAX_ACTIONS];
  myr_tree_priors(t, g, P);
  int32_t n[MYR_MCTS_MAX_ACTIONS] = {0}, nv[MYR_MCTS_MAX_ACTIONS] = {0}, blocked[MYR_MCTS_MAX_ACTIONS] = {0};
  float q[MYR_MCTS_MAX_ACTIONS] = {0};
  myr_tree_edges(t, b, 0, legal, n, q, nv, blocked);
  int32_t total = 0, max_n = 0;
  for (int a = 0; a < A; a++) {
    total += n[a];
    max_n = n[a] > max_n ? n[a] : max_n;
  }
  int best = -1;
  float value;
  if (t->algorithm == MYR_MCTS_MUZERO) {
    for (int a = 0; a < A; a++) {
      target[a] = !((legal >> a) & 1u) ? 0.0f : total > 0 ? (float)n[a] / (float)total : P[a];
      if (((legal >> a) & 1u) && (best < 0 || target[a] > target[best])) best = a;
    }
    value = t->stat[g].value_sum / (float)t->stat[g].visits;
  } else {
    float qhat[MYR_MCTS_MAX_ACTIONS] = {0}, sigma[MYR_MCTS_MAX_ACTIONS] = {0};
    myr_tree_sigma(A, legal, n, q, P, t->raw_value[g], t->c_visit, t->c_scale, t->bounds[2 * (int64_t)b],
                 t->bounds[2 * (int64_t)b + 1], qhat, sigma);
    myr_tree_improved(A, legal, P, sigma, target);
    value = 0.0f;
    float best_score = 0.0f;
    const float *gn = t->noise + (int64_t)b * A;
    for (int a = 0; a < A; a++) {
      if (!((legal >> a) & 1u)) continue;
      value = value + target[a] * qhat[a];
      if (n[a] != max_n) continue;
      float s = gn[a] + myr_tree_logit(P[a]) + sigma[a];
      if (best < 0 || s > best_score) {
        best = a;
        best_score = s;
      }
    }
    if (!legal) value = t->raw_value[g];
  }
  *action = best < 0 ? 0 : best;
  return value;
}

/* The root value tree b reports (allocation, max_value). */
MYR_HD static inline float myr_tree_value(const myr_mcts_tree *t, int32_t b) {
  float target[MYR_MCTS_MAX_ACTIONS] = {0};
  int a;
  return myr_tree_result(t, b, target, &a);
}

/* An action ~ target^(1/temperature) with one uniform from r; temperature <= 0: argmax. Only
 * actions with target > 0 can be drawn; 0 when every target is 0. */
MYR_HD static inline int myr_tree_sample(int actions, const float *target, float temperature, myr_rng *r) {
  int best = -1;
  for (int a = 0; a < actions; a++)
    if (target[a] > 0.0f && (best < 0 || target[a] > target[best])) best = a;
  float u = myr_rng_uniform(r); /* always drawn: the stream does not depend on the branch */
  if (best < 0) return 0;
  if (temperature <= 0.0f) return best;
  float w[MYR_MCTS_MAX_ACTIONS] = {0};
  float lmax = myr_logf(target[best]), sum = 0.0f;
  for (int a = 0; a < actions; a++) {
    w[a] = target[a] > 0.0f ? myr_expf((myr_logf(target[a]) - lmax) / temperature) : 0.0f;
    sum = sum + w[a];
  }
  float x = u * sum, acc = 0.0f;
  int last = best;
  for (int a = 0; a < actions; a++) {
    if (w[a] <= 0.0f) continue;
    acc = acc + w[a];
    last = a;
    if (x < acc) return a;
  }
  return last;
}

/* The merged results of the K trees b0 .. b0+K-1 of one agent (K = 1: the tree's own), with
 * `merge` (myr_mcts_merge). r: the agent's action stream (muzero's temperature). */
MYR_HD static inline void myr_tree_agent_result(const myr_mcts_tree *t, int32_t b0, int32_t K, int merge, myr_rng *r,
                                                uint8_t *action, float *target, float *value) {
  int A = t->actions;
  int64_t g0 = myr_tree_at(t, b0, 0);
  uint32_t legal = t->legal[g0];
  int act = 0;
  float v = 0.0f;
  if (!legal) {
    for (int a = 0; a < A; a++) target[a] = 0.0f;
    (void)myr_rng_uniform(r);
    *action = 0;
    *value = t->raw_value[g0];
    return;
  }
  if (K <= 1 || merge == MYR_MERGE_MAX_VALUE) {
    int32_t kb = 0;
    if (K > 1) {
      float vb = 0.0f;
      for (int32_t k = 0; k < K; k++) {
        float vk = myr_tree_value(t, b0 + k);
        if (k == 0 || vk > vb) {
          vb = vk;
          kb = k;
        }
      }
    }
    v = myr_tree_result(t, b0 + kb, target, &act);
  } else if (merge == MYR_MERGE_VALUE_SUM) {
    int32_t n[MYR_MCTS_MAX_ACTIONS] = {0}, nk[MYR_MCTS_MAX_ACTIONS] = {0}, nv[MYR_MCTS_MAX_ACTIONS] = {0},
            blocked[MYR_MCTS_MAX_ACTIONS] = {0};
    float w[MYR_MCTS_MAX_ACTIONS] = {0}, qk[MYR_MCTS_MAX_ACTIONS] = {0}, q[MYR_MCTS_MAX_ACTIONS] = {0};
    for (int a = 0; a < A; a++) {
      n[a] = 0;
      w[a] = 0.0f;
    }
    float root_sum = 0.0f;
    int32_t root_visits = 0;
    for (int32_t k = 0; k < K; k++) {
      myr_tree_edges(t, b0 + k, 0, legal, nk, qk, nv, blocked);
      for (int a = 0; a < A; a++) {
        n[a] += nk[a];
        w[a] = w[a] + (float)nk[a] * qk[a];
      }
      int64_t gk = myr_tree_at(t, b0 + k, 0);
      root_sum = root_sum + t->stat[gk].value_sum;
      root_visits += t->stat[gk].visits;
    }
    int32_t total = 0, max_n = 0;
    for (int a = 0; a < A; a++) {
      q[a] = n[a] > 0 ? w[a] / (float)n[a] : 0.0f;
      total += n[a];
      max_n = n[a] > max_n ? n[a] : max_n;
    }
    float P[MYR_MCTS_MAX_ACTIONS];
    myr_tree_priors(t, g0, P);
    if (t->algorithm == MYR_MCTS_MUZERO) {
      for (int a = 0; a < A; a++)
        target[a] = !((legal >> a) & 1u) ? 0.0f : total > 0 ? (float)n[a] / (float)total : P[a];
      v = root_sum / (float)root_visits;
    } else {
      float qhat[MYR_MCTS_MAX_ACTIONS] = {0}, sigma[MYR_MCTS_MAX_ACTIONS] = {0};
      float lo = 1e30f, hi = -1e30f;
      for (int32_t k = 0; k < K; k++) {
        lo = t->bounds[2 * (int64_t)(b0 + k)] < lo ? t->bounds[2 * (int64_t)(b0 + k)] : lo;
        hi = t->bounds[2 * (int64_t)(b0 + k) + 1] > hi ? t->bounds[2 * (int64_t)(b0 + k) + 1] : hi;
      }
      myr_tree_sigma(A, legal, n, q, P, t->raw_value[g0], t->c_visit, t->c_scale, lo, hi, qhat, sigma);
      myr_tree_improved(A, legal, P, sigma, target);
      int best = -1;
      float best_score = 0.0f;
      for (int a = 0; a < A; a++) {
        if (!((legal >> a) & 1u)) continue;
        v = v + target[a] * qhat[a];
        float s = myr_tree_logit(P[a]) + sigma[a];
        if (n[a] == max_n && (best < 0 || s > best_score)) {
          best = a;
          best_score = s;
        }
      }
      act = best < 0 ? 0 : best;
    }
  } else { /* visit_weighted */
    float tk[MYR_MCTS_MAX_ACTIONS] = {0}, votes[MYR_MCTS_MAX_ACTIONS] = {0};
    float wsum = 0.0f;
    int32_t all_zero = 1;
    for (int32_t k = 0; k < K; k++)
      if (t->sims[b0 + k] > 0) all_zero = 0;
    for (int a = 0; a < A; a++) {
      target[a] = 0.0f;
      votes[a] = 0.0f;
    }
    for (int32_t k = 0; k < K; k++) {
      int ak;
      float vk = myr_tree_result(t, b0 + k, tk, &ak);
      float wk = all_zero ? 1.0f : (float)t->sims[b0 + k];
      for (int a = 0; a < A; a++) target[a] = target[a] + wk * tk[a];
      votes[ak] = votes[ak] + wk;
      v = v + wk * vk;
      wsum = wsum + wk;
    }
    int best = -1;
    for (int a = 0; a < A; a++) {
      target[a] = target[a] / wsum;
      if (!((legal >> a) & 1u)) continue;
      if (best < 0 || votes[a] > votes[best] || (votes[a] == votes[best] && target[a] > target[best])) best = a;
    }
    v = v / wsum;
    act = best < 0 ? 0 : best;
  }
  if (t->algorithm == MYR_MCTS_MUZERO) act = myr_tree_sample(A, target, t->temperature, r);
  else (void)myr_rng_uniform(r);
  *action = (uint8_t)act;
  *value = v;
}

/* ---- root parallelism: simulation allocation --------------------------------------------- */

/* Budgets and halving schedules of the agent's K trees b0 .. b0+K-1, for S simulations. */
MYR_HD static inline void myr_tree_alloc_init(myr_mcts_tree *t, int32_t b0, int32_t K, int32_t S, int alloc) {
  int32_t cap = myr_tree_cap(S, K, alloc);
  for (int32_t k = 0; k < K; k++) {
    int32_t b = b0 + k;
    if (K <= 1) {
      t->budget[b] = S;
      t->schedule[b] = S;
    } else if (alloc == MYR_ALLOC_EQUAL) {
      t->budget[b] = S / K + (k < S % K ? 1 : 0);
      t->schedule[b] = t->budget[b];
    } else {
      t->budget[b] = myr_tree_warmup(S, K);
      t->schedule[b] = cap;
    }
  }
}

/* Before each wave: hands out more budget when the agent's trees have used all they had
 * (proportional: the rest, once, after the warm-up; adaptive: leaves simulations by UCB1).
 * Returns the simulations the agent's trees still have to run (0: this agent is done). Each
 * tree then selects min(leaves, budget - sims) leaves. */
MYR_HD static inline int32_t myr_tree_alloc_wave(myr_mcts_tree *t, int32_t b0, int32_t K, int32_t S, int alloc,
                                                 int32_t leaves) {
  if (t->legal[myr_tree_at(t, b0, 0)] == 0) return 0; /* nothing to search */
  int32_t pending = 0, total = 0;
  for (int32_t k = 0; k < K; k++) {
    pending += t->budget[b0 + k] - t->sims[b0 + k];
    total += t->budget[b0 + k];
  }
  if (pending > 0 || total >= S || K <= 1 || alloc == MYR_ALLOC_EQUAL) return pending;
  int32_t cap = myr_tree_cap(S, K, alloc);
  float vk[64] = {0};
  float lo = 0.0f, hi = 0.0f;
  for (int32_t k = 0; k < K && k < 64; k++) {
    vk[k] = myr_tree_value(t, b0 + k);
    if (k == 0 || vk[k] < lo) lo = vk[k];
    if (k == 0 || vk[k] > hi) hi = vk[k];
  }
  float range = hi - lo > MYR_TREE_EPS ? hi - lo : MYR_TREE_EPS;
  int32_t rest = S - total;
  if (alloc == MYR_ALLOC_PROPORTIONAL) {
    float wsum = 0.0f;
    for (int32_t k = 0; k < K; k++) wsum = wsum + (1.0f + (vk[k] - lo) / range);
    int32_t given = 0;
    float frac[64] = {0};
    for (int32_t k = 0; k < K; k++) {
      float share = (float)rest * ((1.0f + (vk[k] - lo) / range) / wsum);
      int32_t e = (int32_t)share;
      if (e > rest - given) e = rest - given;
      frac[k] = share - (float)e;
      t->budget[b0 + k] += e;
      given += e;
    }
    while (given < rest) { /* largest remainders first, then lowest k */
      int32_t kb = -1;
      for (int32_t k = 0; k < K; k++)
        if (frac[k] >= 0.0f && (kb < 0 || frac[k] > frac[kb])) kb = k;
      if (kb < 0) break;
      frac[kb] = -1.0f;
      t->budget[b0 + kb] += 1;
      given++;
    }
    int32_t over = rest - given; /* leftovers (float rounding) and excess over the cap */
    for (int32_t k = 0; k < K; k++)
      if (t->budget[b0 + k] > cap) {
        over += t->budget[b0 + k] - cap;
        t->budget[b0 + k] = cap;
      }
    for (int32_t k = 0; k < K && over > 0; k++) {
      int32_t room = cap - t->budget[b0 + k];
      int32_t e = room < over ? room : over;
      t->budget[b0 + k] += e;
      over -= e;
    }
  } else { /* adaptive */
    int32_t slots = rest < leaves ? rest : leaves;
    for (int32_t s = 0; s < slots; s++) {
      int32_t n = 0;
      for (int32_t k = 0; k < K; k++) n += t->budget[b0 + k];
      float ln = myr_logf((float)n);
      int32_t kb = -1;
      float best = 0.0f;
      for (int32_t k = 0; k < K; k++) {
        if (t->budget[b0 + k] >= cap) continue;
        float score = (vk[k] - lo) / range + sqrtf(2.0f * ln / (float)t->budget[b0 + k]);
        if (kb < 0 || score > best) {
          kb = k;
          best = score;
        }
      }
      if (kb < 0) break;
      t->budget[b0 + kb] += 1;
    }
  }
  pending = 0;
  for (int32_t k = 0; k < K; k++) pending += t->budget[b0 + k] - t->sims[b0 + k];
  return pending;
}

#endif
