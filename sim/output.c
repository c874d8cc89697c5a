/* The result file (output.h, DESIGN §9): /meta attributes, extendible time series, snapshots
 * of the persistent state in id order, written to "<path>.part" and renamed on a good close;
 * and `myriad info`, the summary of a result file. Owns the open HDF5 file and its handles
 * (myr_output) and a small buffer of time-series rows not yet written. */
#include "sim/output.h"

#include <errno.h>
#include <hdf5.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "myriad_version.h" // MYR_VERSION, MYR_GIT_REVISION
#include "search/policy.h"  // myr_search: the network and the trainer of a run
#include "search/trainer.h" // myr_trainer_stat_*: the training time series
#include "sim/h5util.h"     // myr__h5_*: checked attributes, datasets, agents/grid groups

/* Identifies result files (checked by myr_output_info). */
#define RESULT_FORMAT "myriad-result"
#define RESULT_FORMAT_VERSION 1
/* Time-series rows per chunk, and rows buffered in memory before a write. */
#define TS_CHUNK 1024
#define TS_PENDING 256
#define MAX_SERIES (MYR_ENGINE_STATS + MYR_MAX_STATS + 16) /* + the trainer's (search/trainer.h) */

struct myr_output {
  char *path, *part;
  hid_t file, meta, ts, snaps;
  hid_t step_ds;
  hid_t stat_ds[MAX_SERIES];
  char stat_name[MAX_SERIES][128]; /* for messages */
  int n_stats;
  hsize_t rows;                 /* rows in the file */
  int pending;                  /* rows buffered below */
  uint64_t pend_step[TS_PENDING];
  double pend_stat[MAX_SERIES][TS_PENDING];
  uint64_t last_step;           /* the largest step recorded or snapshotted */
  int n_sim;                    /* series from the caller's stats; the rest from the trainer */
  struct myr_trainer *trainer;  /* train.enabled: its statistics end every row */
  const myr_net *net;           /* the run's network: /network (and network.save) at a good close */
  char save[MYR_PATH_MAX];      /* network.save */
  int failed;                   /* an HDF5 write failed: never rename */
};

/* Closes every handle (ignoring errors: used on failure paths and after a checked close). */
static void close_handles(myr_output *o) {
  for (int k = 0; k < o->n_stats; k++)
    if (o->stat_ds[k] >= 0) H5Dclose(o->stat_ds[k]);
  if (o->step_ds >= 0) H5Dclose(o->step_ds);
  if (o->snaps >= 0) H5Gclose(o->snaps);
  if (o->ts >= 0) H5Gclose(o->ts);
  if (o->meta >= 0) H5Gclose(o->meta);
  if (o->file >= 0) H5Fclose(o->file);
  o->file = o->meta = o->ts = o->snaps = o->step_ds = -1;
  for (int k = 0; k < MAX_SERIES; k++) o->stat_ds[k] = -1;
}

static void free_output(myr_output *o) {
  close_handles(o);
  free(o->path);
  free(o->part);
  free(o);
}

/* A group whose links keep their creation order (so `info` lists series in record order). */
static myr_status ordered_group(hid_t loc, const char *name, hid_t *g, const char *file,
                                myr_error *err) {
  hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
  if (gcpl < 0 || H5Pset_link_creation_order(gcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED) < 0) {
    if (gcpl >= 0) H5Pclose(gcpl);
    return myr__h5_fail(err, file, "set the creation order of group", name);
  }
  *g = H5Gcreate2(loc, name, H5P_DEFAULT, gcpl, H5P_DEFAULT);
  H5Pclose(gcpl);
  if (*g < 0) return myr__h5_fail(err, file, "create group", name);
  return MYR_OK;
}

/* An empty extendible 1-D time series of `ftype`, chunked by TS_CHUNK rows. */
static hid_t series(hid_t ts, const char *name, hid_t ftype, const char *file, myr_error *err) {
  char path[512];
  snprintf(path, sizeof path, "/timeseries/%s", name);
  hsize_t dims = 0, maxdims = H5S_UNLIMITED, chunk = TS_CHUNK;
  hid_t space = H5Screate_simple(1, &dims, &maxdims);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  hid_t ds = -1;
  if (space >= 0 && dcpl >= 0 && H5Pset_chunk(dcpl, 1, &chunk) >= 0)
    ds = H5Dcreate2(ts, name, ftype, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  if (dcpl >= 0) H5Pclose(dcpl);
  if (space >= 0) H5Sclose(space);
  if (ds < 0) myr__h5_fail(err, file, "create dataset", path);
  return ds;
}

static myr_status write_meta(myr_output *o, const myr_sim *sim, const char *backend, myr_error *err) {
  const myr_config *cfg = sim->cfg;
  const char *f = o->part, *w = "/meta";
  hid_t g = o->meta;
  myr_status s = MYR_OK;
  char *resolved = myr_config_to_yaml(cfg);
  if (!resolved) return myr_fail(err, MYR_ERR_NOMEM, "%s: out of memory printing the config", f);
  if (s == MYR_OK) s = myr__h5_put_str(g, "format", RESULT_FORMAT, f, w, err);
  if (s == MYR_OK) s = myr__h5_put_i64(g, "format_version", RESULT_FORMAT_VERSION, f, w, err);
  if (s == MYR_OK) s = myr__h5_put_str(g, "version", MYR_VERSION, f, w, err);
  if (s == MYR_OK) s = myr__h5_put_str(g, "git_revision", MYR_GIT_REVISION, f, w, err);
  if (s == MYR_OK) s = myr__h5_put_str(g, "config", cfg->yaml_text ? cfg->yaml_text : "", f, w, err);
  if (s == MYR_OK) s = myr__h5_put_str(g, "config_resolved", resolved, f, w, err);
  if (s == MYR_OK) s = myr__h5_put_u64(g, "seed", (uint64_t)cfg->seed, f, w, err);
  int64_t ranks = sim->rank ? sim->rank->count : 1;
  if (s == MYR_OK) s = myr__h5_put_i64(g, "ranks", ranks, f, w, err);
  if (s == MYR_OK)
    s = myr__h5_put_i64(g, "devices", backend && strcmp(backend, "cuda") == 0 ? ranks : 0, f, w, err);
  if (s == MYR_OK) s = myr__h5_put_str(g, "backend", backend ? backend : "cpu", f, w, err);
  if (s == MYR_OK) s = myr__h5_put_str(g, "model", sim->model->name, f, w, err);
  if (s == MYR_OK) s = myr__h5_put_i64(g, "threads", sim->threads, f, w, err);
  if (s == MYR_OK) s = myr__h5_put_i64(g, "steps", cfg->steps, f, w, err);
  if (s == MYR_OK) s = myr__h5_put_u64(g, "start_step", sim->step, f, w, err);
  if (s == MYR_OK) s = myr__h5_put_i64(g, "completed", 0, f, w, err);
  free(resolved);
  return s;
}

myr_status myr_output_open(myr_output **out, const char *path, const myr_sim *sim,
                           const char *backend, myr_error *err) {
  *out = NULL;
  myr__h5_quiet();
  int n_sim = myr_sim_stat_count(sim);
  int n_stats = n_sim + myr_output_train_series(sim);
  if (n_stats < 0 || n_stats > MAX_SERIES)
    return myr_fail(err, MYR_ERR_INTERNAL, "%s: %d statistics (at most %d)", path, n_stats, MAX_SERIES);
  for (int k = n_sim; k < n_stats; k++) /* the trainer's series must not shadow a statistic */
    for (int j = 0; j < n_sim; j++)
      if (strcmp(myr_trainer_stat_name(k - n_sim), myr_sim_stat_name(sim, j)) == 0)
        return myr_fail(err, MYR_ERR_MODEL, "%s: model %s has a statistic named %s, which the trainer's time series "
                        "uses; rename the statistic", path, sim->model->name, myr_sim_stat_name(sim, j));
  myr_status s = myr__mkparent(path, err);
  if (s != MYR_OK) return s;
  myr_output *o = calloc(1, sizeof *o);
  if (!o) return myr_fail(err, MYR_ERR_NOMEM, "%s: out of memory (%zu bytes)", path, sizeof *o);
  o->file = o->meta = o->ts = o->snaps = o->step_ds = -1;
  for (int k = 0; k < MAX_SERIES; k++) o->stat_ds[k] = -1;
  o->n_stats = n_stats;
  o->n_sim = n_sim;
  o->trainer = n_stats > n_sim ? sim->search->trainer : NULL;
  o->net = sim->search && sim->search->net.w ? &sim->search->net : NULL;
  snprintf(o->save, sizeof o->save, "%s", sim->cfg->network_save);
  o->last_step = sim->step;
  size_t len = strlen(path);
  o->path = malloc(len + 1);
  o->part = myr__part_path(path);
  if (!o->path || !o->part) {
    free_output(o);
    return myr_fail(err, MYR_ERR_NOMEM, "%s: out of memory", path);
  }
  memcpy(o->path, path, len + 1);
  const char *f = o->part;

  o->file = H5Fcreate(f, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (o->file < 0) s = myr__h5_fail(err, f, "create", "the file");
  if (s == MYR_OK) s = myr__h5_group(o->file, "meta", &o->meta, f, "/meta", err);
  if (s == MYR_OK) s = write_meta(o, sim, backend, err);
  if (s == MYR_OK) s = ordered_group(o->file, "timeseries", &o->ts, f, err);
  if (s == MYR_OK) {
    o->step_ds = series(o->ts, "step", H5T_STD_U64LE, f, err);
    if (o->step_ds < 0) s = err ? err->status : MYR_ERR_HDF5;
  }
  for (int k = 0; s == MYR_OK && k < n_stats; k++) {
    const char *name = k < n_sim ? myr_sim_stat_name(sim, k) : myr_trainer_stat_name(k - n_sim);
    const char *doc = k < n_sim ? myr_sim_stat_doc(sim, k) : myr_trainer_stat_doc(k - n_sim);
    char where[512];
    snprintf(where, sizeof where, "/timeseries/%s", name);
    snprintf(o->stat_name[k], sizeof o->stat_name[k], "%s", name);
    o->stat_ds[k] = series(o->ts, name, H5T_IEEE_F64LE, f, err);
    if (o->stat_ds[k] < 0) s = err ? err->status : MYR_ERR_HDF5;
    if (s == MYR_OK) s = myr__h5_put_str(o->stat_ds[k], "doc", doc ? doc : "", f, where, err);
  }
  if (s == MYR_OK) s = ordered_group(o->file, "snapshots", &o->snaps, f, err);
  if (s == MYR_OK && H5Fflush(o->file, H5F_SCOPE_GLOBAL) < 0) s = myr__h5_fail(err, f, "flush", "the file");
  if (s != MYR_OK) {
    free_output(o);
    return s;
  }
  *out = o;
  return MYR_OK;
}

/* Appends one value series of the buffered rows to dataset ds (extending it). */
static myr_status append(myr_output *o, hid_t ds, hid_t mtype, const void *buf, const char *name,
                         myr_error *err) {
  char path[512];
  snprintf(path, sizeof path, "/timeseries/%s", name);
  hsize_t size = o->rows + (hsize_t)o->pending, start = o->rows, count = (hsize_t)o->pending;
  if (H5Dset_extent(ds, &size) < 0) return myr__h5_fail(err, o->part, "extend", path);
  hid_t fspace = H5Dget_space(ds);
  hid_t mspace = H5Screate_simple(1, &count, NULL);
  herr_t r = fspace >= 0 && mspace >= 0 ? 0 : -1;
  if (r >= 0) r = H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &start, NULL, &count, NULL);
  if (r >= 0) r = H5Dwrite(ds, mtype, mspace, fspace, H5P_DEFAULT, buf);
  if (mspace >= 0) H5Sclose(mspace);
  if (fspace >= 0) H5Sclose(fspace);
  if (r < 0) return myr__h5_fail(err, o->part, "write", path);
  return MYR_OK;
}

/* Writes the buffered rows to the file. */
static myr_status flush_rows(myr_output *o, myr_error *err) {
  if (o->pending == 0) return MYR_OK;
  myr_status s = append(o, o->step_ds, H5T_NATIVE_UINT64, o->pend_step, "step", err);
  for (int k = 0; s == MYR_OK && k < o->n_stats; k++) {
    s = append(o, o->stat_ds[k], H5T_NATIVE_DOUBLE, o->pend_stat[k], o->stat_name[k], err);
  }
  if (s != MYR_OK) {
    o->failed = 1;
    return s;
  }
  o->rows += (hsize_t)o->pending;
  o->pending = 0;
  return MYR_OK;
}

myr_status myr_output_record(myr_output *o, uint64_t step, const double *stats, myr_error *err) {
  myr__h5_quiet();
  o->pend_step[o->pending] = step;
  for (int k = 0; k < o->n_sim; k++) o->pend_stat[k][o->pending] = stats[k];
  if (o->trainer) {
    double t[MAX_SERIES];
    myr_trainer_stats(o->trainer, t);
    for (int k = o->n_sim; k < o->n_stats; k++) o->pend_stat[k][o->pending] = t[k - o->n_sim];
  }
  o->pending++;
  if (step > o->last_step) o->last_step = step;
  if (o->pending == TS_PENDING) return flush_rows(o, err);
  return MYR_OK;
}

int myr_output_train_series(const myr_sim *sim) {
  return sim->search && sim->search->trainer ? myr_trainer_stat_count() : 0;
}

/* /network from the run's network (replacing one). */
static myr_status write_network(myr_output *o, myr_error *err) {
  htri_t has = H5Lexists(o->file, "network", H5P_DEFAULT);
  if (has < 0 || (has > 0 && H5Ldelete(o->file, "network", H5P_DEFAULT) < 0))
    return myr__h5_fail(err, o->part, "replace", "/network");
  return myr_net_write_h5(o->net, o->file, o->part, err);
}

myr_status myr_output_snapshot(myr_output *o, const myr_sim *sim, myr_error *err) {
  myr__h5_quiet();
  const char *f = o->part;
  char name[32], path[64];
  snprintf(name, sizeof name, "%" PRIu64, sim->step);
  snprintf(path, sizeof path, "/snapshots/%s", name);
  myr_status s = flush_rows(o, err);
  if (s != MYR_OK) return s;
  htri_t has = H5Lexists(o->snaps, name, H5P_DEFAULT);
  if (has < 0 || (has > 0 && H5Ldelete(o->snaps, name, H5P_DEFAULT) < 0)) {
    o->failed = 1;
    return myr__h5_fail(err, f, "replace", path);
  }
  hid_t g = -1;
  s = myr__h5_group(o->snaps, name, &g, f, path, err);
  if (s == MYR_OK) s = myr__h5_put_u64(g, "step", sim->step, f, path, err);
  if (s == MYR_OK) s = myr__h5_write_state(g, sim, f, path, err);
  if (g >= 0 && H5Gclose(g) < 0 && s == MYR_OK) s = myr__h5_fail(err, f, "close", path);
  /* Keep the .part file readable up to here should the process die later. */
  if (s == MYR_OK && H5Fflush(o->file, H5F_SCOPE_GLOBAL) < 0) s = myr__h5_fail(err, f, "flush", "the file");
  if (s != MYR_OK) {
    o->failed = 1;
    return s;
  }
  if (sim->step > o->last_step) o->last_step = sim->step;
  return MYR_OK;
}

myr_status myr_output_perf(myr_output *o, const myr_perf_row *rows, int ranks, const char *strategy, double wall_seconds,
                           double baseline, myr_error *err) {
  myr__h5_quiet();
  const char *f = o->part;
  hid_t perf = H5Gcreate2(o->file, "perf", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (perf < 0) return myr__h5_fail(err, f, "create group", "/perf");
  double most = 0, total = 0, work = 0;
  myr_status s = MYR_OK;
  for (int r = 0; r < ranks && s == MYR_OK; r++) {
    char name[32], where[48];
    snprintf(name, sizeof name, "%d", r);
    snprintf(where, sizeof where, "/perf/%d", r);
    hid_t g = H5Gcreate2(perf, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) {
      s = myr__h5_fail(err, f, "create group", where);
      break;
    }
    const myr_perf_row *k = &rows[r];
    s = myr__h5_put_f64(g, "agents", k->agents, f, where, err);
    if (s == MYR_OK) s = myr__h5_put_f64(g, "agent_steps", k->agent_steps, f, where, err);
    if (s == MYR_OK) s = myr__h5_put_f64(g, "step_seconds", k->step_seconds, f, where, err);
    if (s == MYR_OK) s = myr__h5_put_f64(g, "compute_seconds", k->step_seconds - k->comm_seconds, f, where, err);
    if (s == MYR_OK) s = myr__h5_put_f64(g, "comm_seconds", k->comm_seconds, f, where, err);
    if (s == MYR_OK)
      s = myr__h5_put_f64(g, "comm_share", k->step_seconds > 0 ? k->comm_seconds / k->step_seconds : 0, f, where, err);
    if (s == MYR_OK) s = myr__h5_put_f64(g, "bytes_moved", k->bytes_moved, f, where, err);
    if (s == MYR_OK) s = myr__h5_put_f64(g, "handed_agents", k->handed_agents, f, where, err);
    if (s == MYR_OK && k->region[0]) s = myr__h5_put_str(g, "region", k->region, f, where, err);
    H5Gclose(g);
    total += k->agents;
    work += k->agent_steps;
    if (k->agents > most) most = k->agents;
  }
  double rate = wall_seconds > 0 ? work / wall_seconds : 0;
  double mean = ranks > 0 ? total / ranks : 0;
  if (s == MYR_OK) s = myr__h5_put_i64(perf, "ranks", ranks, f, "/perf", err);
  if (s == MYR_OK) s = myr__h5_put_str(perf, "strategy", strategy, f, "/perf", err);
  if (s == MYR_OK) s = myr__h5_put_f64(perf, "load_imbalance", mean > 0 ? most / mean : 1.0, f, "/perf", err);
  if (s == MYR_OK) s = myr__h5_put_f64(perf, "wall_seconds", wall_seconds, f, "/perf", err);
  if (s == MYR_OK) s = myr__h5_put_f64(perf, "agent_steps_per_s", rate, f, "/perf", err);
  if (s == MYR_OK && baseline > 0)
    s = myr__h5_put_f64(perf, "scaling_efficiency", rate / ((double)ranks * baseline), f, "/perf", err);
  H5Gclose(perf);
  return s;
}

myr_status myr_output_close(myr_output *o, int ok, const uint8_t *hash, double wall_seconds,
                            myr_error *err) {
  if (!o) return MYR_OK;
  myr__h5_quiet();
  const char *f = o->part, *w = "/meta";
  char hex[MYR_HASH_HEX] = "";
  if (hash) myr_hash_hex(hash, hex);
  myr_status s = flush_rows(o, err);
  if (s == MYR_OK && ok && o->net) s = write_network(o, err);
  if (s == MYR_OK && ok && o->net && o->save[0]) s = myr_net_save(o->net, o->save, err);
  if (s == MYR_OK) s = myr__h5_put_str(o->meta, "state_hash", hex, f, w, err);
  if (s == MYR_OK) s = myr__h5_put_u64(o->meta, "final_step", o->last_step, f, w, err);
  if (s == MYR_OK) s = myr__h5_put_f64(o->meta, "wall_seconds", wall_seconds, f, w, err);
  if (s == MYR_OK && o->trainer) s = myr__h5_put_f64(o->meta, "train_seconds", myr_trainer_seconds(o->trainer), f, w, err);
  if (s == MYR_OK) s = myr__h5_put_i64(o->meta, "completed", ok && !o->failed ? 1 : 0, f, w, err);

  /* Close every handle; the file last, checked: only a fully closed file is renamed. */
  hid_t file = o->file;
  o->file = -1;
  close_handles(o);
  if (file >= 0 && H5Fclose(file) < 0 && s == MYR_OK) s = myr__h5_fail(err, f, "close", "the file");
  if (s == MYR_OK && ok && o->failed)
    s = myr_fail(err, MYR_ERR_HDF5, "%s: an earlier write failed; the result stays in this .part file", f);
  if (s == MYR_OK && ok && !o->failed) s = myr__commit_part(o->part, o->path, err);
  free_output(o);
  return s;
}

/* ---- myriad info --------------------------------------------------------------------- */

/* The name of link `i` of group `g` (creation order where tracked, else name order), malloc'd. */
static char *link_name(hid_t g, hsize_t i) {
  H5_index_t idx = H5_INDEX_CRT_ORDER;
  ssize_t len = H5Lget_name_by_idx(g, ".", idx, H5_ITER_INC, i, NULL, 0, H5P_DEFAULT);
  if (len < 0) {
    H5Eclear2(H5E_DEFAULT);
    idx = H5_INDEX_NAME;
    len = H5Lget_name_by_idx(g, ".", idx, H5_ITER_INC, i, NULL, 0, H5P_DEFAULT);
  }
  if (len < 0) return NULL;
  char *name = malloc((size_t)len + 1);
  if (name && H5Lget_name_by_idx(g, ".", idx, H5_ITER_INC, i, name, (size_t)len + 1, H5P_DEFAULT) < 0) {
    free(name);
    return NULL;
  }
  return name;
}

/* Reads a whole 1-D dataset converted to double (*v malloc'd, *n values). */
static myr_status read_doubles(hid_t g, const char *name, double **v, hsize_t *n, const char *file,
                               const char *path, myr_error *err) {
  *v = NULL;
  *n = 0;
  int rank;
  hsize_t dims[2];
  myr_status s = myr__h5_dims(g, name, &rank, dims, file, err);
  if (s != MYR_OK) return s;
  if (rank != 1) return myr_fail(err, MYR_ERR_HDF5, "%s: %s is not one-dimensional", file, path);
  *v = malloc((size_t)(dims[0] ? dims[0] : 1) * sizeof **v);
  if (!*v) return myr_fail(err, MYR_ERR_NOMEM, "%s: out of memory reading %s", file, path);
  hid_t ds = H5Dopen2(g, name, H5P_DEFAULT);
  if (ds < 0 || (dims[0] && H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, *v) < 0)) {
    s = myr__h5_fail(err, file, "read", path);
    free(*v);
    *v = NULL;
  }
  if (ds >= 0) H5Dclose(ds);
  *n = dims[0];
  return s;
}

static void print_meta_str(FILE *out, hid_t meta, const char *label, const char *name, const char *file) {
  char *v = NULL;
  if (myr__h5_has_attr(meta, name) && myr__h5_get_str(meta, name, &v, file, "/meta", NULL) == MYR_OK)
    fprintf(out, "%-14s %s\n", label, v);
  else
    fprintf(out, "%-14s -\n", label);
  free(v);
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static myr_status info_series(hid_t file, FILE *out, const char *path, myr_error *err) {
  if (!myr__h5_exists(file, "timeseries")) {
    fprintf(out, "time series    none\n");
    return MYR_OK;
  }
  hid_t ts = H5Gopen2(file, "timeseries", H5P_DEFAULT);
  H5G_info_t gi;
  if (ts < 0 || H5Gget_info(ts, &gi) < 0) {
    if (ts >= 0) H5Gclose(ts);
    return myr__h5_fail(err, path, "read group", "/timeseries");
  }
  myr_status s = MYR_OK;
  double *v = NULL;
  hsize_t rows = 0;
  if (myr__h5_exists(ts, "step")) s = read_doubles(ts, "step", &v, &rows, path, "/timeseries/step", err);
  if (s == MYR_OK) {
    if (rows)
      fprintf(out, "time series    %llu rows, steps %.0f .. %.0f\n", (unsigned long long)rows, v[0],
              v[rows - 1]);
    else
      fprintf(out, "time series    0 rows\n");
    fprintf(out, "  %-22s %6s %14s %14s %14s %14s\n", "name", "rows", "first", "last", "min", "max");
  }
  free(v);
  for (hsize_t i = 0; s == MYR_OK && i < gi.nlinks; i++) {
    char *name = link_name(ts, i);
    if (!name) {
      s = myr__h5_fail(err, path, "list", "/timeseries");
      break;
    }
    if (strcmp(name, "step") != 0) {
      char p[512];
      snprintf(p, sizeof p, "/timeseries/%s", name);
      hsize_t n = 0;
      s = read_doubles(ts, name, &v, &n, path, p, err);
      if (s == MYR_OK && n == 0) {
        fprintf(out, "  %-22s %6d %14s %14s %14s %14s\n", name, 0, "-", "-", "-", "-");
      } else if (s == MYR_OK) {
        double lo = INFINITY, hi = -INFINITY;
        for (hsize_t r = 0; r < n; r++) {
          if (v[r] < lo) lo = v[r];
          if (v[r] > hi) hi = v[r];
        }
        fprintf(out, "  %-22s %6llu %14.6g %14.6g %14.6g %14.6g\n", name, (unsigned long long)n, v[0],
                v[n - 1], lo, hi);
      }
      free(v);
      v = NULL;
    }
    free(name);
  }
  H5Gclose(ts);
  return s;
}

/* An f64 attribute of obj, or `otherwise` where it is missing or unreadable. */
static double attr_f64(hid_t obj, const char *name, double otherwise, const char *path, const char *where) {
  double v;
  return myr__h5_has_attr(obj, name) && myr__h5_get_f64(obj, name, &v, path, where, NULL) == MYR_OK ? v : otherwise;
}

/* The end-of-run table of a run of several ranks (/perf), when the file has one. */
static void info_perf(hid_t file, FILE *out, const char *path) {
  if (!myr__h5_exists(file, "perf")) return;
  hid_t perf = H5Gopen2(file, "perf", H5P_DEFAULT);
  if (perf < 0) return;
  int64_t ranks = 0;
  char *strategy = NULL;
  myr__h5_get_i64(perf, "ranks", &ranks, path, "/perf", NULL);
  if (myr__h5_has_attr(perf, "strategy")) myr__h5_get_str(perf, "strategy", &strategy, path, "/perf", NULL);
  fprintf(out, "%-14s %" PRId64 " ranks, %s, load imbalance %.3f, %.4g agent-steps/s", "perf", ranks,
          strategy ? strategy : "?", attr_f64(perf, "load_imbalance", 0, path, "/perf"),
          attr_f64(perf, "agent_steps_per_s", 0, path, "/perf"));
  double efficiency = attr_f64(perf, "scaling_efficiency", -1, path, "/perf");
  if (efficiency >= 0) fprintf(out, ", scaling efficiency %.1f%%", 100 * efficiency);
  fprintf(out, "\n  %-6s %14s %11s %11s %8s %14s %12s  %s\n", "rank", "agents", "compute s", "comm s", "comm %",
          "bytes moved", "handed over", "region");
  for (int64_t r = 0; r < ranks; r++) {
    char name[32], where[48];
    snprintf(name, sizeof name, "%" PRId64, r);
    snprintf(where, sizeof where, "/perf/%" PRId64, r);
    if (!myr__h5_exists(perf, name)) continue;
    hid_t g = H5Gopen2(perf, name, H5P_DEFAULT);
    if (g < 0) continue;
    char *region = NULL;
    if (myr__h5_has_attr(g, "region")) myr__h5_get_str(g, "region", &region, path, where, NULL);
    fprintf(out, "  %-6" PRId64 " %14.0f %11.3f %11.3f %7.1f%% %14.4g %12.0f  %s\n", r,
            attr_f64(g, "agents", 0, path, where), attr_f64(g, "compute_seconds", 0, path, where),
            attr_f64(g, "comm_seconds", 0, path, where), 100 * attr_f64(g, "comm_share", 0, path, where),
            attr_f64(g, "bytes_moved", 0, path, where), attr_f64(g, "handed_agents", 0, path, where),
            region ? region : "-");
    free(region);
    H5Gclose(g);
  }
  free(strategy);
  H5Gclose(perf);
}

static myr_status info_snapshots(hid_t file, FILE *out, const char *path, myr_error *err) {
  if (!myr__h5_exists(file, "snapshots")) {
    fprintf(out, "snapshots      none\n");
    return MYR_OK;
  }
  hid_t g = H5Gopen2(file, "snapshots", H5P_DEFAULT);
  H5G_info_t gi;
  if (g < 0 || H5Gget_info(g, &gi) < 0) {
    if (g >= 0) H5Gclose(g);
    return myr__h5_fail(err, path, "read group", "/snapshots");
  }
  uint64_t *steps = malloc((size_t)(gi.nlinks ? gi.nlinks : 1) * sizeof *steps);
  if (!steps) {
    H5Gclose(g);
    return myr_fail(err, MYR_ERR_NOMEM, "%s: out of memory listing snapshots", path);
  }
  myr_status s = MYR_OK;
  size_t n = 0;
  for (hsize_t i = 0; i < gi.nlinks; i++) {
    char *name = link_name(g, i);
    if (!name) {
      s = myr__h5_fail(err, path, "list", "/snapshots");
      break;
    }
    char *end;
    unsigned long long step = strtoull(name, &end, 10);
    if (*end == '\0' && end != name) steps[n++] = (uint64_t)step;
    free(name);
  }
  if (s == MYR_OK) {
    qsort(steps, n, sizeof *steps, cmp_u64);
    fprintf(out, "snapshots      %zu\n", n);
    for (size_t i = 0; i < n; i++) {
      char id[96];
      int rank;
      hsize_t dims[2];
      snprintf(id, sizeof id, "%" PRIu64 "/agents/id", steps[i]);
      if (myr__h5_exists(g, id) && myr__h5_dims(g, id, &rank, dims, path, NULL) == MYR_OK)
        fprintf(out, "  step %-12" PRIu64 " %llu agents\n", steps[i], (unsigned long long)dims[0]);
      else
        fprintf(out, "  step %-12" PRIu64 " (no agents)\n", steps[i]);
    }
  }
  free(steps);
  H5Gclose(g);
  return s;
}

myr_status myr_output_info(const char *path, FILE *out, myr_error *err) {
  myr__h5_quiet();
  FILE *probe = fopen(path, "rb");
  if (!probe) return myr_fail(err, MYR_ERR_IO, "cannot read %s: %s", path, strerror(errno));
  fclose(probe);
  htri_t is = H5Fis_hdf5(path);
  if (is <= 0) {
    H5Eclear2(H5E_DEFAULT);
    return myr_fail(err, MYR_ERR_IO, "%s is not an HDF5 file (expected a Myriad result file)", path);
  }
  hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file < 0) return myr__h5_fail(err, path, "open", "the file");
  hid_t meta = -1;
  char *format = NULL;
  myr_status s = MYR_OK;
  if (myr__h5_exists(file, "meta")) meta = H5Gopen2(file, "meta", H5P_DEFAULT);
  if (meta < 0 || !myr__h5_has_attr(meta, "format") ||
      myr__h5_get_str(meta, "format", &format, path, "/meta", NULL) != MYR_OK) {
    s = myr_fail(err, MYR_ERR_IO, "%s is not a Myriad result file (no /meta attribute format)", path);
  } else if (strcmp(format, RESULT_FORMAT) != 0) {
    s = myr_fail(err, MYR_ERR_IO, "%s is not a Myriad result file (/meta format is '%s', expected '%s')",
                 path, format, RESULT_FORMAT);
  }
  if (s == MYR_OK) {
    int64_t i64;
    uint64_t u64;
    double f64;
    fprintf(out, "file           %s\n", path);
    print_meta_str(out, meta, "version", "version", path);
    print_meta_str(out, meta, "git revision", "git_revision", path);
    print_meta_str(out, meta, "model", "model", path);
    if (myr__h5_get_u64(meta, "seed", &u64, path, "/meta", NULL) == MYR_OK)
      fprintf(out, "%-14s %" PRIu64 "\n", "seed", u64);
    if (myr__h5_get_i64(meta, "steps", &i64, path, "/meta", NULL) == MYR_OK)
      fprintf(out, "%-14s %" PRId64 "\n", "steps", i64);
    print_meta_str(out, meta, "backend", "backend", path);
    if (myr__h5_get_i64(meta, "threads", &i64, path, "/meta", NULL) == MYR_OK)
      fprintf(out, "%-14s %" PRId64 "\n", "threads", i64);
    if (myr__h5_get_i64(meta, "ranks", &i64, path, "/meta", NULL) == MYR_OK)
      fprintf(out, "%-14s %" PRId64 "\n", "ranks", i64);
    if (myr__h5_get_i64(meta, "devices", &i64, path, "/meta", NULL) == MYR_OK)
      fprintf(out, "%-14s %" PRId64 "\n", "devices", i64);
    int64_t completed = 0;
    if (myr__h5_has_attr(meta, "final_step") &&
        myr__h5_get_u64(meta, "final_step", &u64, path, "/meta", NULL) == MYR_OK)
      fprintf(out, "%-14s %" PRIu64 "\n", "final step", u64);
    if (myr__h5_has_attr(meta, "wall_seconds") &&
        myr__h5_get_f64(meta, "wall_seconds", &f64, path, "/meta", NULL) == MYR_OK)
      fprintf(out, "%-14s %.3f\n", "wall seconds", f64);
    myr__h5_get_i64(meta, "completed", &completed, path, "/meta", NULL);
    fprintf(out, "%-14s %s\n", "completed", completed ? "yes" : "no (failed or interrupted run)");
    s = info_series(file, out, path, err);
    if (s == MYR_OK) s = info_snapshots(file, out, path, err);
    if (s == MYR_OK) info_perf(file, out, path);
    if (s == MYR_OK) {
      char *hash = NULL;
      if (myr__h5_has_attr(meta, "state_hash") &&
          myr__h5_get_str(meta, "state_hash", &hash, path, "/meta", NULL) == MYR_OK && hash[0])
        fprintf(out, "%-14s %s\n", "state hash", hash);
      else
        fprintf(out, "%-14s -\n", "state hash");
      free(hash);
    }
  }
  free(format);
  if (meta >= 0) H5Gclose(meta);
  H5Fclose(file);
  H5Eclear2(H5E_DEFAULT);
  return s;
}
