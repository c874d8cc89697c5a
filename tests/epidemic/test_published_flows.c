/* The engine's published flows (myr_view.flows_window, flows_total: sim/step.c, the ranks' sum
 * through myr_rank.sum_flows) under the epidemic model with every rule on (deaths, vaccination,
 * a lockdown, 3x3 contacts), on CPU ranks:
 * - zero before the first sync; unchanged between syncs;
 * - at the end of each window every rank holds the team's flows of that window: the
 *   statistics' exact flow parts summed over the window's steps and over every rank; and
 *   flows_total their sum since step 0;
 * - the window's infectious agent-steps equal what the infectious layer counted on the cells
 *   (published as `contacts`), the count the model's former global layer held;
 * - the same sequence for 1, 2 and 3 ranks, data_parallel and spatial_parallel, sync windows of
 *   1 and 3, and whether or not statistics are read (records reset the flows, not the window). */
#include <string.h>

#include "models/common.h"
#include "models/epidemic/epidemic.h"
#include "partition/team.h"

enum { N = 6000, STEPS = 30 };

typedef int64_t trace[STEPS][MYR_MAX_FLOWS]; /* rank 0's flows_window after each step */

static void load(myr_config *cfg, int ranks, const char *strategy, int sync) {
  char yaml[2048];
  snprintf(yaml, sizeof yaml,
           "run: {seed: 11, threads: 2}\n"
           "world: {width: 40, height: 42, wrap: false}\n"
           "agents: {count: %d, capacity: %d}\n"
           "model: {name: epidemic, params: {steps_per_day: 4, p_contact: 0.1, contact_radius_cells: 1,\n"
           "  incubation_mean: 0.5, incubation_shape: 2, infectious_mean: 2, infectious_shape: 2, fatality: 0.3,\n"
           "  initial_infected: 150, vaccination_rate: 0.05, mobility_reduction: 0.7, lockdown_threshold: 0.01,\n"
           "  commute_radius: 4, random_move: 0.2}}\n"
           "policy: {kind: heuristic}\n"
           "distributed: {ranks: %d, strategy: %s, sync_frequency: %d}\n",
           N, N, ranks, strategy, sync);
  myr_error err;
  REQUIRE(myr_config_load_text(cfg, "flows.yaml", yaml, NULL, 0, &err) == MYR_OK, "config: %s", err.msg);
}

/* Infectious agent-steps the cells counted in the window just published: the contacts of every
 * cell, each from the rank that runs it (all of them, or its band). */
static int64_t counted_on_cells(myr_team *t) {
  int64_t sum = 0;
  for (int r = 0; r < myr_team_size(t); r++) {
    const myr_sim *sim = myr_team_sim(t, r);
    const int32_t *contacts = (const int32_t *)sim->grid.layer[EPIDEMIC_CONTACTS];
    for (int64_t c = sim->cells_first; c < sim->cells_first + sim->cells_n; c++) sum += contacts[c];
    if (sim->cells_n == (int64_t)sim->grid.width * sim->grid.height) break; /* a replicated grid */
  }
  return sum;
}

/* One run: checks as above; out gets rank 0's flows_window after each step, compared with ref's. */
static void run_case(int ranks, const char *strategy, int sync, int stats, trace out,
                     const int64_t (*ref)[MYR_MAX_FLOWS]) {
  myr_config cfg;
  load(&cfg, ranks, strategy, sync);
  myr_team *t;
  myr_error err;
  REQUIRE(myr_team_create(&cfg, NULL, &t, &err) == MYR_OK, "team: %s", err.msg);
  int R = myr_team_size(t), bad = 0;
  /* the statistics' flows of the open window and since step 0; what was published last */
  int64_t open[MYR_MAX_FLOWS] = {0}, since0[MYR_MAX_FLOWS] = {0};
  int64_t last[MYR_MAX_FLOWS] = {0}, last_total[MYR_MAX_FLOWS] = {0};
  for (int s = 0; s < STEPS; s++) {
    REQUIRE(myr_team_step(t, 0, &err) == MYR_OK, "step %d: %s", s, err.msg);
    const myr_sim *s0 = myr_team_sim(t, 0);
    for (int r = 0; r < R && stats; r++) {
      myr_stat_parts p;
      REQUIRE(myr_sim_stat_parts(myr_team_sim(t, r), &p), "statistics of rank %d", r);
      for (int f = 0; f < MYR_MAX_FLOWS; f++) {
        open[f] += p.flow[f];
        since0[f] += p.flow[f];
      }
    }
    int sync_now = myr_sim_at_sync(s0);
    for (int r = 0; r < R; r++) {
      const myr_sim *sim = myr_team_sim(t, r);
      for (int f = 0; f < MYR_MAX_FLOWS; f++) {
        /* at a sync: the statistics' sums (or, unread, rank 0's: every rank alike); else unchanged */
        int64_t window = !sync_now ? last[f] : stats ? open[f] : s0->flows_window[f];
        int64_t total = !sync_now ? last_total[f] : stats ? since0[f] : s0->flows_total[f];
        if ((sim->flows_window[f] != window || sim->flows_total[f] != total) && bad++ < 5)
          fprintf(stderr, "%d ranks %s sync %d, step %d, rank %d, flow %d: window %lld (expected %lld), total %lld "
                  "(expected %lld)\n", R, strategy, sync, s, r, f, (long long)sim->flows_window[f], (long long)window,
                  (long long)sim->flows_total[f], (long long)total);
      }
    }
    if (sync_now) {
      int64_t cells = counted_on_cells(t);
      if (cells != s0->flows_window[EPIDEMIC_FLOW_INFECTIOUS_STEPS] && bad++ < 5)
        fprintf(stderr, "step %d: the cells counted %lld infectious agent-steps, the flows %lld\n", s, (long long)cells,
                (long long)s0->flows_window[EPIDEMIC_FLOW_INFECTIOUS_STEPS]);
      memcpy(last, s0->flows_window, sizeof last);
      memcpy(last_total, s0->flows_total, sizeof last_total);
      memset(open, 0, sizeof open);
    }
    memcpy(out[s], s0->flows_window, sizeof out[s]);
    if (ref && memcmp(out[s], ref[s], sizeof out[s]) != 0 && bad++ < 5)
      fprintf(stderr, "step %d: %d ranks %s publish other flows than one rank\n", s, R, strategy);
  }
  CHECK(bad == 0, "%d ranks, %s, sync %d, statistics %s: %d mismatches", R, strategy, sync, stats ? "read" : "not read",
        bad);
  const myr_sim *s0 = myr_team_sim(t, 0);
  printf("%d ranks %-16s sync %d: %lld infections, %lld deaths, %lld vaccinated, %lld locked moves, %lld infectious "
         "agent-steps\n", R, strategy, sync, (long long)s0->flows_total[EPIDEMIC_FLOW_INFECTED],
         (long long)s0->flows_total[EPIDEMIC_FLOW_DIED], (long long)s0->flows_total[EPIDEMIC_FLOW_VACCINATED],
         (long long)s0->flows_total[EPIDEMIC_FLOW_LOCKED_MOVES],
         (long long)s0->flows_total[EPIDEMIC_FLOW_INFECTIOUS_STEPS]);
  CHECK(s0->flows_total[EPIDEMIC_FLOW_DIED] > 0 && s0->flows_total[EPIDEMIC_FLOW_LOCKED_MOVES] > 0 &&
            s0->flows_total[EPIDEMIC_FLOW_VACCINATED] > 0 && s0->flows_total[EPIDEMIC_FLOW_INFECTED] > 0,
        "a rule never fired (deaths, lockdown, vaccination, infections)");
  myr_team_destroy(t);
  myr_config_free(&cfg);
}

int main(void) {
  static trace one, other;
  for (int sync = 1; sync <= 3; sync += 2) {
    run_case(1, "data_parallel", sync, 1, one, NULL);
    run_case(1, "data_parallel", sync, 0, other, (const int64_t (*)[MYR_MAX_FLOWS])one);
    const char *strategies[2] = {"data_parallel", "spatial_parallel"};
    for (int k = 0; k < 2; k++)
      for (int ranks = 2; ranks <= 3; ranks++)
        run_case(ranks, strategies[k], sync, 1, other, (const int64_t (*)[MYR_MAX_FLOWS])one);
    run_case(3, "spatial_parallel", sync, 0, other, (const int64_t (*)[MYR_MAX_FLOWS])one);
  }
  return check_summary();
}
