/* Statistics of a rank: the engine's (population, births, deaths) then the model's, from
 * exact integer accumulators (levels, over agents and cells) and flows (summed since the
 * previous record), so values never depend on thread or rank counts. */
#include <math.h>
#include <omp.h>
#include <string.h>

#include "sim/backend.h"
#include "sim/sim.h"

static const myr_stat_desc engine_stats[MYR_ENGINE_STATS] = {
    {"population", "alive agents after the step"},
    {"births", "agents born since the previous record"},
    {"deaths", "agents that died since the previous record"},
};

int myr_sim_stat_count(const myr_sim *sim) { return MYR_ENGINE_STATS + sim->model->n_stats; }

static const myr_stat_desc *stat_desc(const myr_sim *sim, int k) {
  if (k < 0 || k >= myr_sim_stat_count(sim)) return NULL;
  return k < MYR_ENGINE_STATS ? &engine_stats[k] : &sim->model->stats[k - MYR_ENGINE_STATS];
}

const char *myr_sim_stat_name(const myr_sim *sim, int k) {
  const myr_stat_desc *d = stat_desc(sim, k);
  return d ? d->name : NULL;
}

const char *myr_sim_stat_doc(const myr_sim *sim, int k) {
  const myr_stat_desc *d = stat_desc(sim, k);
  return d ? d->doc : NULL;
}

void myr_sim_stats(myr_sim *sim, double *out) {
  double t0 = omp_get_wtime();
  const myr_model *m = sim->model;
  myr_view v = myr_sim_view(sim);
  int64_t acc[MYR_MAX_ACC] = {0};
  if (sim->backend) {
    if (sim->error.status == MYR_OK) sim->backend->stats(sim, acc, &sim->error);
    if (sim->error.status != MYR_OK) {
      for (int k = 0; k < myr_sim_stat_count(sim); k++) out[k] = NAN;
      return;
    }
  } else {
    if (m->agent_stats) myr_parallel_ranges(sim, &v, (myr_range_fn)m->agent_stats, v.n, m->n_acc, acc);
    if (m->cell_stats) myr_parallel_ranges(sim, &v, (myr_range_fn)m->cell_stats, myr_cells(&v), m->n_acc, acc);
  }
  out[MYR_STAT_POPULATION] = (double)myr_sim_population(sim);
  out[MYR_STAT_BIRTHS] = (double)sim->births;
  out[MYR_STAT_DEATHS] = (double)sim->deaths;
  if (m->n_stats > 0) m->finish_stats(&v, acc, sim->flow, out + MYR_ENGINE_STATS);
  sim->births = sim->deaths = 0;
  memset(sim->flow, 0, sizeof sim->flow);
  sim->seconds_stats += omp_get_wtime() - t0;
}
