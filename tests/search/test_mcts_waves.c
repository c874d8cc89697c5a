/* Waves with leaves_per_wave > 1 (virtual loss), on the tree functions directly (harness.h):
 *   - no two leaves of one wave expand the same edge: every wave's (tree, parent, action)
 *     triples of new leaves are distinct, and the selected nodes are distinct unless they are
 *     terminal or max-depth leaves (which may be visited again);
 *   - a tree selects fewer leaves than its quota only when nothing is left to select: muzero:
 *     no open path from the root (brute force over the tree); gumbel: every action that the
 *     halving schedule allows next is closed;
 *   - after each backup no virtual visit or closed mark is left, the root has 1 + simulations
 *     visits, and every tree used exactly its simulations;
 *   - the waves needed are close to simulations / leaves_per_wave (virtual loss spreads the
 *     leaves instead of stalling the wave).
 * Over random toy instances, both algorithms, leaves_per_wave 2, 4, 8 and 16, with a depth limit
 * on half of the runs. */
#include <stdio.h>

#include "check.h"
#include "harness.h"

#define AGENTS 64

static void run(int algorithm, int L, int max_depth, int sims, uint64_t seed) {
  toy_params p;
  memset(&p, 0, sizeof p);
  p.seed = seed;
  p.a_lo = 3;
  p.a_hi = 9;
  p.max_leaves = 4000;
  p.d_max = 6;
  p.states = 8;
  p.p_term = 0.15f;
  myr_mcts_config cfg = myr_mcts_defaults();
  cfg.algorithm = algorithm;
  cfg.simulations = sims;
  cfg.leaves_per_wave = L;
  cfg.max_depth = max_depth;
  th_forest f;
  th_make(&f, &cfg, AGENTS);
  th_roots(&f, &p, 0, 11u, 5u);
  myr_mcts_tree *t = &f.t;
  int64_t dup_edges = 0, dup_nodes = 0, short_waves = 0, short_ok = 0, leaves = 0;
  for (;;) {
    int64_t selected = th_select(&f);
    if (selected == 0) break;
    leaves += selected;
    for (int32_t b = 0; b < t->trees; b++) {
      int32_t n = t->wave_count[b];
      const int32_t *leaf = t->wave_leaf + (size_t)b * (size_t)L;
      for (int32_t i = 0; i < n; i++)
        for (int32_t j = 0; j < i; j++) {
          int64_t gi = myr_tree_at(t, b, leaf[i]), gj = myr_tree_at(t, b, leaf[j]);
          int new_i = t->stat[gi].visits == 0, new_j = t->stat[gj].visits == 0;
          if (new_i && new_j && myr_tree_parent(t, gi) == myr_tree_parent(t, gj) && t->action[gi] == t->action[gj]) dup_edges++;
          if (leaf[i] == leaf[j] && !th_revisitable(t, b, leaf[i])) dup_nodes++;
        }
      if (n < f.quota[b]) {
        short_waves++;
        int ok;
        if (algorithm == MYR_MCTS_MUZERO) {
          ok = !th_open(t, b, 0, 0);
        } else { /* every action the schedule allows next is blocked */
          int32_t nn[MYR_MCTS_MAX_ACTIONS], nv[MYR_MCTS_MAX_ACTIONS], bl[MYR_MCTS_MAX_ACTIONS];
          float q[MYR_MCTS_MAX_ACTIONS];
          uint32_t legal = t->legal[myr_tree_at(t, b, 0)];
          myr_tree_edges(t, b, 0, legal, nn, q, nv, bl);
          int32_t idx = 0, m = myr_tree_popcount(legal);
          for (int a = 0; a < TOY_ACTIONS; a++) idx += nn[a] + nv[a];
          if (m > t->max_considered) m = t->max_considered;
          int32_t due = myr_tree_considered_visit(m, t->schedule[b], idx);
          ok = 1;
          for (int a = 0; a < TOY_ACTIONS; a++)
            if (((legal >> a) & 1u) && nn[a] + nv[a] == due && !bl[a]) ok = 0;
        }
        short_ok += ok;
      }
    }
    th_finish(&f);
    int64_t left_marks = 0;
    for (int32_t b = 0; b < t->trees; b++)
      for (int32_t j = 0; j < t->used[b]; j++) left_marks += t->stat[myr_tree_at(t, b, j)].vl != 0;
    CHECK(left_marks == 0, "%lld nodes keep virtual visits or closed marks after the backup", (long long)left_marks);
  }
  int64_t wrong_sims = 0, wrong_root = 0;
  for (int32_t b = 0; b < t->trees; b++) {
    wrong_sims += t->sims[b] != sims;
    wrong_root += t->stat[myr_tree_at(t, b, 0)].visits != 1 + t->sims[b];
  }
  double ideal = (double)sims / L, waves = (double)f.waves;
  printf("%-6s L=%2d depth=%d: %6lld leaves in %4lld waves (ideal %5.0f), %lld short tree-waves (%lld with "
         "nothing left), %lld duplicate edges\n",
         algorithm == MYR_MCTS_MUZERO ? "muzero" : "gumbel", L, max_depth, (long long)leaves, (long long)f.waves,
         ideal, (long long)short_waves, (long long)short_ok, (long long)dup_edges);
  CHECK(dup_edges == 0, "%lld leaves expanded an edge already claimed in their wave", (long long)dup_edges);
  CHECK(dup_nodes == 0, "%lld leaves selected a node twice in one wave", (long long)dup_nodes);
  CHECK(short_ok == short_waves, "%lld of %lld short tree-waves had something left to select",
        (long long)(short_waves - short_ok), (long long)short_waves);
  CHECK(wrong_sims == 0, "%lld trees did not use exactly %d simulations", (long long)wrong_sims, sims);
  CHECK(wrong_root == 0, "%lld roots without 1 + simulations visits", (long long)wrong_root);
  CHECK(waves <= 1.5 * ideal + 2, "%g waves for %d simulations at %d leaves per wave", waves, sims, L);
  th_free(&f);
}

int main(void) {
  const int Ls[] = {2, 4, 8, 16};
  for (int algo = 0; algo < 2; algo++)
    for (int li = 0; li < 4; li++)
      for (int depth = 0; depth <= 3; depth += 3)
        run(algo == 0 ? MYR_MCTS_MUZERO : MYR_MCTS_GUMBEL, Ls[li], depth, 200, 77u + (uint64_t)li);
  return check_summary();
}
