/* The model registry: built-in models from registry.def, then any registered at run time. */
#include <stdio.h>
#include <string.h>

#include "models/model.h"

#define MYR_MODEL(name) extern const myr_model myr_model_##name;
#include "models/registry.def"
#undef MYR_MODEL

static const myr_model *const builtin[] = {
#define MYR_MODEL(name) &myr_model_##name,
#include "models/registry.def"
#undef MYR_MODEL
};
#define N_BUILTIN ((int)(sizeof builtin / sizeof builtin[0]))

#define MAX_EXTRA 64
static const myr_model *extra[MAX_EXTRA];
static int n_extra;

int myr_model_count(void) { return N_BUILTIN + n_extra; }

const myr_model *myr_model_at(int i) {
  if (i < 0 || i >= myr_model_count()) return NULL;
  return i < N_BUILTIN ? builtin[i] : extra[i - N_BUILTIN];
}

const myr_model *myr_find_model(const char *name) {
  for (int i = 0; i < myr_model_count(); i++)
    if (strcmp(myr_model_at(i)->name, name) == 0) return myr_model_at(i);
  return NULL;
}

myr_status myr_model_check(const myr_model *m, myr_error *err) {
  if (!m || !m->name || !m->name[0]) return myr_fail(err, MYR_ERR_MODEL, "model has no name");
  const char *n = m->name;
  if (m->n_columns < 0 || m->n_columns > MYR_MAX_COLUMNS)
    return myr_fail(err, MYR_ERR_MODEL, "model %s: %d columns (at most %d)", n, m->n_columns, MYR_MAX_COLUMNS);
  if (m->n_layers < 0 || m->n_layers > MYR_MAX_LAYERS)
    return myr_fail(err, MYR_ERR_MODEL, "model %s: %d layers (at most %d)", n, m->n_layers, MYR_MAX_LAYERS);
  if (m->n_stats < 0 || m->n_stats > MYR_MAX_STATS)
    return myr_fail(err, MYR_ERR_MODEL, "model %s: %d statistics (at most %d)", n, m->n_stats, MYR_MAX_STATS);
  if (m->n_acc < 0 || m->n_acc > MYR_MAX_ACC || m->n_flows < 0 || m->n_flows > MYR_MAX_FLOWS)
    return myr_fail(err, MYR_ERR_MODEL, "model %s: n_acc %d / n_flows %d out of range (at most %d / %d)",
                    n, m->n_acc, m->n_flows, MYR_MAX_ACC, MYR_MAX_FLOWS);
  if (m->n_actions < 1 || m->n_actions > MYR_MAX_ACTIONS)
    return myr_fail(err, MYR_ERR_MODEL, "model %s: %d actions (1 to %d)", n, m->n_actions, MYR_MAX_ACTIONS);
  if (m->n_features < 0 || m->n_features > MYR_MAX_FEATURES)
    return myr_fail(err, MYR_ERR_MODEL, "model %s: %d features (at most %d)", n, m->n_features, MYR_MAX_FEATURES);
  if (!m->act || !m->sync_agents || !m->legal || !m->init_agents || !m->finish_stats)
    return myr_fail(err, MYR_ERR_MODEL, "model %s: act, sync_agents, legal, init_agents and finish_stats are required", n);
  if (m->n_params > 0 && !m->params)
    return myr_fail(err, MYR_ERR_MODEL, "model %s: %d parameters but no table", n, m->n_params);
  return MYR_OK;
}

myr_status myr_register_model(const myr_model *m) {
  myr_error e;
  if (myr_model_check(m, &e) != MYR_OK) {
    fprintf(stderr, "myriad: cannot register model: %s\n", e.msg);
    return MYR_ERR_MODEL;
  }
  if (myr_find_model(m->name)) {
    fprintf(stderr, "myriad: cannot register model '%s': the name is taken\n", m->name);
    return MYR_ERR_MODEL;
  }
  if (n_extra == MAX_EXTRA) {
    fprintf(stderr, "myriad: cannot register model '%s': at most %d extra models\n", m->name, MAX_EXTRA);
    return MYR_ERR_MODEL;
  }
  extra[n_extra++] = m;
  return MYR_OK;
}
