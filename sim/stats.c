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

int myr_sim_stat_parts(myr_sim *sim, myr_stat_parts *p) {
  double t0 = omp_get_wtime();
  const myr_model *m = sim->model;
  myr_view v = myr_sim_view(sim);
  memset(p, 0, sizeof *p);
  int ok = 1;
  if (sim->backend) {
    if (sim->error.status == MYR_OK) sim->backend->stats(sim, p->acc, &sim->error);
    ok = sim->error.status == MYR_OK;
  } else {
    if (m->agent_stats) myr_parallel_ranges(sim, &v, (myr_range_fn)m->agent_stats, v.n, m->n_acc, p->acc);
    if (m->cell_stats && sim->owns_cells) myr_parallel_cells(sim, &v, (myr_range_fn)m->cell_stats, m->n_acc, p->acc);
  }
  p->population = myr_sim_population(sim);
  p->births = sim->births;
  p->deaths = sim->deaths;
  memcpy(p->flow, sim->flow, sizeof p->flow);
  sim->births = sim->deaths = 0;
  memset(sim->flow, 0, sizeof sim->flow);
  sim->seconds_stats += omp_get_wtime() - t0;
  return ok;
}

void myr_stat_parts_add(myr_stat_parts *total, const myr_stat_parts *p) {
  for (int a = 0; a < MYR_MAX_ACC; a++) total->acc[a] += p->acc[a];
  for (int f = 0; f < MYR_MAX_FLOWS; f++) total->flow[f] += p->flow[f];
  total->births += p->births;
  total->deaths += p->deaths;
  total->population += p->population;
}

void myr_sim_stats_finish(const myr_sim *sim, const myr_stat_parts *p, int ok, double *out) {
  const myr_model *m = sim->model;
  if (!ok) {
    for (int k = 0; k < myr_sim_stat_count(sim); k++) out[k] = NAN;
    return;
  }
  myr_view v = myr_sim_view(sim);
  out[MYR_STAT_POPULATION] = (double)p->population;
  out[MYR_STAT_BIRTHS] = (double)p->births;
  out[MYR_STAT_DEATHS] = (double)p->deaths;
  if (m->n_stats > 0) m->finish_stats(&v, p->acc, p->flow, out + MYR_ENGINE_STATS);
}

void myr_sim_stats(myr_sim *sim, double *out) {
  myr_stat_parts p;
  int ok = myr_sim_stat_parts(sim, &p);
  myr_sim_stats_finish(sim, &p, ok, out);
}
