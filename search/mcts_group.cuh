/* Selection on the GPU with a group of A lanes per agent (search/mcts.cu), A the number of
 * actions: the rules of myr_tree_select_wave (search/mcts_tree.h) with the per-action work of
 * myr_tree_choose spread over the lanes, lane a taking action a; a warp holds 32 / A groups (3
 * for 9 actions). A thread per tree walks a node's A edges one after the other, keeps its
 * per-action arrays (visits, Q, priors, completed Q, sigma, pi: 1.5 KB a thread) in local
 * memory, which for 10^5 trees lives in L2 and HBM, and waits for each child's record in turn;
 * here each lane holds its action's numbers in registers, the lanes' loads of a node's priors,
 * child indices and children's records go out together, and the logf and expf of the A
 * actions run side by side.
 *
 * Same bits as the CPU: every per-action value is the same expression as in mcts_tree.h
 * (myr_tree_edge_to is shared), and every float sum, min, max and argmax over the actions is
 * folded in action order 0, 1, ..., A-1 by every lane from the others' values (shuffles),
 * exactly as the CPU's loops do; integer sums and maxima, whose order does not matter, use
 * redux.sync. Control flow is uniform over a group (every decision comes from values all its
 * lanes hold), lane 0 alone writes the tree's node fields, and __syncwarp orders its writes
 * before the group's next reads.
 *
 * The template parameter G (8, 9, 12, 16 or 32, at least A) only bounds the unrolled folds:
 * they loop over G lanes with `k < A` inside, so their shuffles do not depend on one another and
 * issue back to back, and only the float operations wait on each other, in action order. Each
 * fold issues G shuffles whatever A is: G close to A wastes none. */
#ifndef MYR_MCTS_GROUP_CUH
#define MYR_MCTS_GROUP_CUH

#include "search/mcts_tree.h"

struct myr_group {
  unsigned mask; /* the group's lanes in the warp */
  int lane;      /* 0 .. A-1: the action this lane takes */
  int base;      /* the group's first lane in the warp */
  int slot;      /* the group's place in its warp: 0 .. 32 / A - 1, or more on idle lanes */
};

/* Lane threadIdx.x % 32 in groups of A lanes (lanes past 32 / A groups are idle: slot too large). */
__device__ inline myr_group myr_group_make(int A) {
  myr_group g;
  const int wl = (int)(threadIdx.x & 31u);
  g.slot = wl / A;
  g.base = g.slot * A;
  g.lane = wl - g.base;
  g.mask = A >= 32 ? 0xffffffffu : ((1u << A) - 1u) << g.base;
  return g;
}

/* Bit a set when lane a of the group has `pred` (bits A and up clear). */
__device__ inline unsigned myr_group_ballot(const myr_group &g, int A, bool pred) {
  const unsigned bits = __ballot_sync(g.mask, pred) >> g.base;
  return A >= 32 ? bits : bits & ((1u << A) - 1u);
}

/* Lane k's v (k < A). */
template <class T>
__device__ inline T myr_group_at(const myr_group &g, T v, int k) {
  return __shfl_sync(g.mask, v, g.base + k);
}
/* Lane k's v for k < A; past A a value from outside the group (undefined, and the unrolled
 * folds ignore it: every use is under k < A). Not clamped: a clamp per k costs registers. */
template <int G, class T>
__device__ inline T myr_group_fold_at(const myr_group &g, int A, T v, int k) {
  (void)A;
  return __shfl_sync(g.mask, v, g.base + k);
}

/* Sum and max of an int over the group (any order: integers). */
template <int G>
__device__ inline int32_t myr_group_isum(const myr_group &g, int A, int32_t v) {
#if __CUDA_ARCH__ >= 800
  (void)A;
  return __reduce_add_sync(g.mask, v);
#else
  int32_t s = 0;
#pragma unroll
  for (int k = 0; k < G; k++) {
    int32_t w = myr_group_fold_at<G>(g, A, v, k);
    if (k < A) s += w;
  }
  return s;
#endif
}
template <int G>
__device__ inline int32_t myr_group_imax(const myr_group &g, int A, int32_t v) {
#if __CUDA_ARCH__ >= 800
  (void)A;
  return __reduce_max_sync(g.mask, v);
#else
  int32_t s = v;
#pragma unroll
  for (int k = 0; k < G; k++) {
    int32_t w = myr_group_fold_at<G>(g, A, v, k);
    if (k < A && w > s) s = w;
  }
  return s;
#endif
}

/* The first action a < A with ok(a) and the largest s(a) (strictly larger replaces: ties go to
 * the lowest action), as the CPU's loops fold it; -1 when none is ok. */
template <int G>
__device__ inline int myr_group_argmax(const myr_group &g, int A, bool ok, float s) {
  const unsigned oks = myr_group_ballot(g, A, ok);
  int best = -1;
  float best_score = 0.0f;
#pragma unroll
  for (int k = 0; k < G; k++) {
    float sk = myr_group_fold_at<G>(g, A, s, k);
    if (k < A && ((oks >> k) & 1u) && (best < 0 || sk > best_score)) {
      best = k;
      best_score = sk;
    }
  }
  return best;
}

/* myr_tree_choose at node x (depth `depth`) of tree b, lane a for action a, given the node's
 * legal mask, the lane's prior bits and child index (0 past A: read by the caller with the
 * node's other fields, in one round of loads). */
template <int G>
__device__ inline int myr_group_choose(const myr_mcts_tree &t, int32_t b, int32_t x, int32_t depth,
                                       const myr_group &gr, uint32_t legal, uint16_t prior_bits, int32_t child) {
  const int A = t.actions, a = gr.lane;
  const int64_t base = (int64_t)b * t.nodes, g = base + x;
  const bool lg = (legal >> a) & 1u;
  const float P = myr_half_float(prior_bits);
  int32_t n = 0, nv = 0, blocked = 0;
  float q = 0.0f;
  if (lg) myr_tree_edge_to(&t, base, child, &n, &q, &nv, &blocked);
  const bool open = lg && !blocked;

  if (t.algorithm == MYR_MCTS_MUZERO) {
    float lo = t.bounds[2 * (int64_t)b], hi = t.bounds[2 * (int64_t)b + 1];
    const unsigned visited = myr_group_ballot(gr, A, n > 0);
#pragma unroll
    for (int k = 0; k < G; k++) {
      float qk = myr_group_fold_at<G>(gr, A, q, k);
      if (k < A && ((visited >> k) & 1u)) {
        lo = qk < lo ? qk : lo;
        hi = qk > hi ? qk : hi;
      }
    }
    float range = hi - lo > MYR_TREE_EPS ? hi - lo : MYR_TREE_EPS;
    myr_tree_stat st = t.stat[g];
    float N = (float)(st.visits + (int32_t)(st.vl & MYR_TREE_PENDING_MASK));
    float c = t.pb_c_init + myr_logf((N + t.pb_c_base + 1.0f) / t.pb_c_base);
    float explore = sqrtf(N) * c;
    float s = 0.0f;
    if (open) {
      float qn = 0.0f;
      if (n > 0) {
        qn = (q - lo) / range;
        if (nv > 0) qn = qn * ((float)n / (float)(n + nv));
      }
      s = qn + P * explore / (float)(1 + n + nv);
    }
    return myr_group_argmax<G>(gr, A, open, s);
  }

  /* gumbel: myr_tree_sigma, its float sums in action order */
  const bool seen = lg && n > 0;
  const unsigned seen_bits = myr_group_ballot(gr, A, seen);
  const int32_t sum_n = myr_group_isum<G>(gr, A, seen ? n : 0), max_n = myr_group_imax<G>(gr, A, seen ? n : 0);
  const int32_t visited = __popc(seen_bits);
  const float pq = P * q; /* the CPU's prior[a] * q[a], formed in lane a */
  float sum_p = 0.0f, sum_pq = 0.0f, sum_q = 0.0f;
#pragma unroll
  for (int k = 0; k < G; k++) {
    float pk = myr_group_fold_at<G>(gr, A, P, k), pqk = myr_group_fold_at<G>(gr, A, pq, k);
    float qk = myr_group_fold_at<G>(gr, A, q, k);
    if (k < A && ((seen_bits >> k) & 1u)) {
      sum_p = sum_p + pk;
      sum_pq = sum_pq + pqk;
      sum_q = sum_q + qk;
    }
  }
  float vmix = t.raw_value[g];
  if (sum_n > 0) {
    float weighted = sum_p > 0.0f ? sum_pq / sum_p : sum_q / (float)visited;
    vmix = (vmix + (float)sum_n * weighted) / (float)(1 + sum_n);
  }
  const float qhat = lg ? (n > 0 ? q : vmix) : 0.0f;
  float lo = t.bounds[2 * (int64_t)b], hi = t.bounds[2 * (int64_t)b + 1];
#pragma unroll
  for (int k = 0; k < G; k++) {
    float vk = myr_group_fold_at<G>(gr, A, qhat, k);
    if (k < A && ((legal >> k) & 1u)) {
      lo = vk < lo ? vk : lo;
      hi = vk > hi ? vk : hi;
    }
  }
  const float range = hi - lo > MYR_TREE_EPS ? hi - lo : MYR_TREE_EPS;
  const float scale = (t.c_visit + (float)max_n) * t.c_scale;
  const float sigma = lg ? scale * ((qhat - lo) / range) : 0.0f;

  const int32_t total = myr_group_isum<G>(gr, A, n + nv); /* n, nv: 0 on illegal actions */
  if (depth == 0) {
    int32_t m = myr_tree_popcount(legal);
    if (m > t.max_considered) m = t.max_considered;
    const int32_t due = myr_tree_considered_visit(m, t.schedule[b], total);
    const bool ok = open && n + nv == due;
    const float s = ok ? t.noise[(int64_t)b * A + a] + myr_tree_logit(P) + sigma : 0.0f;
    return myr_group_argmax<G>(gr, A, ok, s);
  }
  /* interior: myr_tree_improved, then pi(a) - N'(a) / (1 + sum N') */
  const float z = lg ? myr_tree_logit(P) + sigma : 0.0f;
  float mx = 0.0f;
  int any = 0;
#pragma unroll
  for (int k = 0; k < G; k++) {
    float zk = myr_group_fold_at<G>(gr, A, z, k);
    if (k < A && ((legal >> k) & 1u)) {
      if (!any || zk > mx) mx = zk;
      any = 1;
    }
  }
  float pi = 0.0f;
  if (any) {
    const float e = lg ? myr_expf(z - mx) : 0.0f;
    float sum = 0.0f;
#pragma unroll
    for (int k = 0; k < G; k++) {
      float ek = myr_group_fold_at<G>(gr, A, e, k);
      if (k < A) sum = sum + ek;
    }
    pi = e / sum;
  }
  const float s = open ? pi - (float)(n + nv) / (float)(1 + total) : 0.0f;
  return myr_group_argmax<G>(gr, A, open, s);
}

/* Asks for the 32-byte sectors of the bytes [p, p + bytes) (L1 misses fetch sectors, not whole
 * lines), one sector a lane, lane `first` (0 .. A-1) taking the first; returns the lane for the
 * next range, so that short ranges spread over the lanes instead of all landing on lane 0. */
__device__ inline int myr_group_prefetch_bytes(const void *p, size_t bytes, const myr_group &gr, int A, int first) {
  const uintptr_t s0 = (uintptr_t)p & ~(uintptr_t)31;
  const uintptr_t s1 = ((uintptr_t)p + (bytes ? bytes : 1) - 1) & ~(uintptr_t)31;
  const int n = (int)((s1 - s0) / 32) + 1;
  int k = gr.lane - first;
  if (k < 0) k += A;
  for (int i = k; i < n; i += A) asm volatile("prefetch.global.L1 [%0];" ::"l"(s0 + (uintptr_t)i * 32));
  first += n;
  while (first >= A) first -= A;
  return first;
}

/* One lane asks for the 32-byte sectors of the bytes [p, p + bytes) (a few). */
__device__ inline void myr_group_prefetch_own(const void *p, size_t bytes) {
  const uintptr_t s1 = (uintptr_t)p + bytes;
  for (uintptr_t s = (uintptr_t)p & ~(uintptr_t)31; s < s1; s += 32)
    asm volatile("prefetch.global.L1 [%0];" ::"l"(s));
}

/* Asks for everything the group's backup, allocation and walk of tree b read, spread over the
 * lanes, before any of it: it then arrives together, in one round trip, instead of one
 * dependent miss after another (the previous wave's leaf and path, the parent chain, the
 * budget, the root's fields, its children's). Per tree: its counters, bounds, noise and wave
 * slots (shared sectors with the neighbouring trees of the block); the visit records, rewards,
 * raw values, parents, terminal flags and legal masks of the slots in use (half the tree on
 * average); the priors and children of slots 0 .. A (the root, and its children in the order
 * both rules expand them first: the walk's first two levels). Deeper nodes' priors and children are found
 * only as the walk gets there (myr_group_select asks for each level's children's). At S = 64,
 * 9 actions, u8 indices: 22 bytes a slot in use and 270 for slots 0 .. A, about 1.2 KB a tree
 * on average over a search (1.9 KB at its end), 120 KB of L1 for 96 trees. A hint with no
 * effect on results. Trees of more than 256 slots skip it (their records do not fit beside the
 * other groups'). */
__device__ inline void myr_group_prefetch(const myr_mcts_tree &t, int32_t b, const myr_group &gr) {
  if (t.nodes > 256) return;
  const int A = t.actions;
  const int64_t g0 = (int64_t)b * t.nodes;
  int32_t used = t.used[b]; /* the slots in use (1 .. nodes); the first ranges need no wait for it */
  const size_t I = t.wide ? 2 : 1, L = (size_t)t.max_leaves;
  int f = 0;
  f = myr_group_prefetch_bytes(t.sims + b, 4, gr, A, f);
  f = myr_group_prefetch_bytes(t.budget + b, 4, gr, A, f);
  f = myr_group_prefetch_bytes(t.schedule + b, 4, gr, A, f);
  f = myr_group_prefetch_bytes(t.wave_count + b, 4, gr, A, f);
  f = myr_group_prefetch_bytes(t.wave_leaf + (int64_t)b * t.max_leaves, 4 * L, gr, A, f);
  f = myr_group_prefetch_bytes(t.bounds + 2 * (int64_t)b, 8, gr, A, f);
  f = myr_group_prefetch_bytes(t.noise + (int64_t)b * A, 4 * (size_t)A, gr, A, f);
  if (used < 1) used = 1;
  const size_t u = (size_t)used, top = (size_t)(used < A + 1 ? used : A + 1);
  f = myr_group_prefetch_bytes(t.stat + g0, 8 * u, gr, A, f);
  f = myr_group_prefetch_bytes(t.reward + g0, 4 * u, gr, A, f);
  f = myr_group_prefetch_bytes(t.raw_value + g0, 4 * u, gr, A, f);
  f = myr_group_prefetch_bytes((const char *)t.parent + (size_t)g0 * I, I * u, gr, A, f);
  f = myr_group_prefetch_bytes(t.terminal + g0, u, gr, A, f);
  f = myr_group_prefetch_bytes(t.legal + g0, 4 * u, gr, A, f);
  f = myr_group_prefetch_bytes(t.prior + g0 * A, 2 * (size_t)A * top, gr, A, f);
  (void)myr_group_prefetch_bytes((const char *)t.child + (size_t)g0 * A * I, (size_t)A * I * top, gr, A, f);
}

/* myr_tree_set_leaf for one group: new node j of tree b gets its prior (lane a: action a; the
 * softmax of myr_net_prior, its max and sum folded in action order, or the uniform prior
 * without logits), raw value, and the reward, terminal flag and legal mask its expansion left
 * in its batch row. la: logit a of the node's network row, loaded by the caller with the row's
 * other fields (unused without logits). */
template <int G>
__device__ inline void myr_group_set_leaf(myr_mcts_tree &t, int32_t b, int32_t j, bool logits, float la, float value,
                                          float reward, uint8_t terminal, uint32_t legal_bits, const myr_group &gr) {
  const int A = t.actions, a = gr.lane;
  const int64_t g = myr_tree_at(&t, b, j);
  const uint32_t legal = legal_bits & myr_tree_all_actions(A);
  const bool lg = (legal >> a) & 1u;
  float P;
  if (logits) {
    float mx = 0.0f;
    int any = 0;
#pragma unroll
    for (int k = 0; k < G; k++) {
      float lk = myr_group_fold_at<G>(gr, A, la, k);
      if (k < A && ((legal >> k) & 1u)) {
        if (!any || lk > mx) mx = lk;
        any = 1;
      }
    }
    const float e = lg ? myr_expf(la - mx) : 0.0f;
    float sum = 0.0f;
#pragma unroll
    for (int k = 0; k < G; k++) {
      float ek = myr_group_fold_at<G>(gr, A, e, k);
      if (k < A) sum = sum + ek;
    }
    P = any ? e / sum : e;
  } else {
    const int n = myr_tree_popcount(legal);
    P = lg && n ? 1.0f / (float)n : 0.0f;
  }
  t.prior[g * A + a] = myr_half_bits(P);
  if (a == 0) {
    t.legal[g] = legal;
    t.reward[g] = reward;
    t.terminal[g] = terminal;
    t.raw_value[g] = terminal ? 0.0f : value;
  }
  __syncwarp(gr.mask);
}

/* myr_tree_select for one group. */
template <int G>
__device__ inline myr_tree_leaf myr_group_select(myr_mcts_tree &t, int32_t b, const myr_group &gr) {
  myr_tree_leaf leaf;
  leaf.kind = MYR_TREE_CLOSED;
  leaf.node = 0;
  leaf.parent = -1;
  leaf.action = -1;
  leaf.depth = 0;
  const int A = t.actions;
  for (;;) { /* each pass either returns or closes one node */
    int32_t x = 0, depth = 0;
    for (;;) {
      const int64_t g = myr_tree_at(&t, b, x);
      /* the node's fields and the lane's edge in one round of independent loads */
      const uint8_t terminal = t.terminal[g];
      const uint32_t legal = t.legal[g];
      const uint16_t prior_bits = t.prior[g * A + gr.lane];
      const int32_t child = myr_tree_child(&t, g * A + gr.lane);
      if (terminal || legal == 0 || (t.max_depth > 0 && depth >= t.max_depth)) {
        leaf.kind = MYR_TREE_REVISIT;
        leaf.node = x;
        leaf.depth = depth;
        return leaf;
      }
      /* the next level's node is one of these children: ask for their priors and children now,
       * so that the chosen one's arrive while this level is scored (slots 0 .. A came with
       * myr_group_prefetch; trees of more than 256 slots have none) */
      if (child > A && t.nodes <= 256 && ((legal >> gr.lane) & 1u)) {
        const int64_t gc = (int64_t)b * t.nodes + child;
        myr_group_prefetch_own(t.prior + gc * A, 2 * (size_t)A);
        myr_group_prefetch_own((const char *)t.child + (size_t)gc * A, (size_t)A); /* u8 indices */
      }
      const int a = myr_group_choose<G>(t, b, x, depth, gr, legal, prior_bits, child);
      if (a < 0) {
        if (x == 0) return leaf; /* CLOSED */
        if (gr.lane == 0) t.stat[g].vl = (uint16_t)(t.stat[g].vl | MYR_TREE_CLOSED_BIT);
        __syncwarp(gr.mask);
        break;
      }
      const int32_t c = myr_group_at(gr, child, a);
      if (c == 0) {
        if (t.used[b] >= t.nodes) return leaf; /* no slot left (budgets prevent this) */
        const int32_t j = t.used[b];
        __syncwarp(gr.mask); /* every lane has read `used` */
        const int64_t gj = myr_tree_at(&t, b, j);
        myr_tree_set_index(&t, t.child, gj * A + gr.lane, 0); /* myr_tree_clear_node's per-action part */
        t.prior[gj * A + gr.lane] = 0;
        if (gr.lane == 0) {
          t.used[b] = j + 1;
          t.stat[gj].visits = 0;
          t.stat[gj].value_sum = 0.0f;
          t.stat[gj].vl = 0;
          t.raw_value[gj] = 0.0f;
          myr_tree_link_new(&t, g, x, a, gj, j);
        }
        __syncwarp(gr.mask);
        return myr_tree_new_leaf(j, x, a, depth);
      }
      x = c;
      depth++;
    }
  }
}

/* The new leaf `leaf` in one int (its node, parent and action: 13, 13 and 5 bits), -1 when
 * `leaf` is not new; and back. */
__device__ inline int32_t myr_group_pack_new(const myr_tree_leaf &leaf) {
  return leaf.kind == MYR_TREE_NEW ? leaf.node | leaf.parent << 13 | leaf.action << 26 : -1;
}
__device__ inline int32_t myr_group_new_node(int32_t p) { return p & 0x1fff; }
__device__ inline int32_t myr_group_new_parent(int32_t p) { return (p >> 13) & 0x1fff; }
__device__ inline int32_t myr_group_new_action(int32_t p) { return (p >> 26) & 0x1f; }

/* myr_tree_select_wave for one group: lane 0 records the leaves and their virtual visits.
 * *last_new: the last leaf selected, packed (myr_group_pack_new; -1 when none or not new), for
 * callers that place its batch row without reading it back. */
template <int G>
__device__ inline int32_t myr_group_select_wave(myr_mcts_tree &t, int32_t b, int32_t quota, const myr_group &gr,
                                               int32_t *last_new) {
  int32_t n = 0;
  *last_new = -1;
  if (quota > t.max_leaves) quota = t.max_leaves;
  while (n < quota) {
    myr_tree_leaf leaf = myr_group_select<G>(t, b, gr);
    if (leaf.kind == MYR_TREE_CLOSED) break;
    *last_new = myr_group_pack_new(leaf);
    if (gr.lane == 0) {
      t.wave_leaf[(int64_t)b * t.max_leaves + n] = leaf.node;
      int32_t x = leaf.node;
      for (;;) {
        int64_t g = myr_tree_at(&t, b, x);
        t.stat[g].vl = (uint16_t)(t.stat[g].vl + 1u);
        if (x == 0) break;
        x = myr_tree_parent(&t, g);
      }
    }
    n++;
    __syncwarp(gr.mask);
  }
  if (gr.lane == 0) t.wave_count[b] = n;
  return n;
}

#endif
