/* Checkpoints (checkpoint.h): the persistent state of a run in id order, with the config
 * values a resumed run must match, in an HDF5 file written through "<path>.part"; and the
 * load that checks those values and rebuilds a simulation from the file. Owns nothing
 * between calls. */
#include "sim/checkpoint.h"

#include <hdf5.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "myriad_version.h" // MYR_VERSION, MYR_GIT_REVISION
#include "search/policy.h"  // myr_search: the run's network
#include "search/trainer.h" // myr_trainer_*_h5: optimizer, replay, unfinished samples
#include "sim/h5util.h"     // myr__h5_*: checked attributes, datasets, agents/grid groups

#define CKPT_FORMAT "myriad-checkpoint"
#define CKPT_FORMAT_VERSION 2 /* 2: /flows, the published flows */
/* Bytes read per slab when transposing a multi-component column into component-major. */
#ifndef MYR__H5_SLAB_BYTES /* compile-time override, for testing slab boundaries */
#define MYR__H5_SLAB_BYTES ((size_t)32 << 20)
#endif
#define SCATTER_BYTES MYR__H5_SLAB_BYTES

/* ---- write ------------------------------------------------------------------------------ */

/* /meta/params: one attribute per model parameter, with its exact value (FLOAT as f64,
 * INT/BOOL/ENUM as i64), so resuming compares parameters without a text round trip. */
static myr_status write_params(hid_t meta, const myr_config *cfg, const char *f, myr_error *err) {
  const myr_model *m = cfg->model_desc;
  hid_t g = -1;
  myr_status s = myr__h5_group(meta, "params", &g, f, "/meta/params", err);
  for (int p = 0; s == MYR_OK && p < m->n_params; p++) {
    const myr_param_desc *d = &m->params[p];
    const char *field = (const char *)cfg->model_params + d->offset;
    if (d->type == MYR_P_FLOAT) {
      double v;
      memcpy(&v, field, sizeof v);
      s = myr__h5_put_f64(g, d->name, v, f, "/meta/params", err);
    } else if (d->type == MYR_P_INT) {
      int64_t v;
      memcpy(&v, field, sizeof v);
      s = myr__h5_put_i64(g, d->name, v, f, "/meta/params", err);
    } else {
      int v;
      memcpy(&v, field, sizeof v);
      s = myr__h5_put_i64(g, d->name, v, f, "/meta/params", err);
    }
  }
  if (g >= 0) H5Gclose(g);
  return s;
}

static myr_status write_meta(hid_t file, const myr_sim *sim, int64_t n, const char *f, myr_error *err) {
  const myr_config *cfg = sim->cfg;
  const char *w = "/meta";
  hid_t g = -1;
  char *resolved = myr_config_to_yaml(cfg);
  if (!resolved) return myr_fail(err, MYR_ERR_NOMEM, "%s: out of memory printing the config", f);
  myr_status s = myr__h5_group(file, "meta", &g, f, w, err);
  if (s == MYR_OK) s = myr__h5_put_str(g, "format", CKPT_FORMAT, f, w, err);
  if (s == MYR_OK) s = myr__h5_put_i64(g, "format_version", CKPT_FORMAT_VERSION, f, w, err);
  if (s == MYR_OK) s = myr__h5_put_str(g, "version", MYR_VERSION, f, w, err);
  if (s == MYR_OK) s = myr__h5_put_str(g, "git_revision", MYR_GIT_REVISION, f, w, err);
  if (s == MYR_OK) s = myr__h5_put_u64(g, "step", sim->step, f, w, err);
  if (s == MYR_OK) s = myr__h5_put_u64(g, "seed", (uint64_t)cfg->seed, f, w, err);
  if (s == MYR_OK) s = myr__h5_put_str(g, "model", sim->model->name, f, w, err);
  if (s == MYR_OK) s = myr__h5_put_str(g, "config", cfg->yaml_text ? cfg->yaml_text : "", f, w, err);
  if (s == MYR_OK) s = myr__h5_put_str(g, "config_resolved", resolved, f, w, err);
  if (s == MYR_OK) s = myr__h5_put_i64(g, "width", sim->grid.width, f, w, err);
  if (s == MYR_OK) s = myr__h5_put_i64(g, "height", sim->grid.height, f, w, err);
  if (s == MYR_OK) s = myr__h5_put_i64(g, "wrap", sim->grid.wrap, f, w, err);
  if (s == MYR_OK) s = myr__h5_put_i64(g, "sync_frequency", cfg->sync_frequency, f, w, err);
  if (s == MYR_OK) s = myr__h5_put_str(g, "policy", myr_policy_name(cfg->policy), f, w, err);
  if (s == MYR_OK) s = myr__h5_put_i64(g, "agents", n, f, w, err);
  if (s == MYR_OK) s = write_params(g, cfg, f, err);
  if (g >= 0) H5Gclose(g);
  free(resolved);
  return s;
}

/* /flows/window and /flows/total, i64 [n_flows]: the published flows (myr_view.flows_window,
 * flows_total), which agents of the next windows read. None when the model has no flows. */
static const char *const flow_sets[2] = {"window", "total"};

static myr_status write_flows(hid_t file, const myr_sim *sim, const char *f, myr_error *err) {
  int n = sim->model->n_flows;
  if (n == 0) return MYR_OK;
  const int64_t *data[2] = {sim->flows_window, sim->flows_total};
  hsize_t dims[1] = {(hsize_t)n};
  hid_t g = -1;
  myr_status s = myr__h5_group(file, "flows", &g, f, "/flows", err);
  for (int k = 0; k < 2 && s == MYR_OK; k++) {
    char path[64];
    snprintf(path, sizeof path, "/flows/%s", flow_sets[k]);
    hid_t space = H5Screate_simple(1, dims, NULL);
    hid_t ds = space >= 0 ? H5Dcreate2(g, flow_sets[k], myr__h5_file_type(MYR_I64), space, H5P_DEFAULT,
                                       H5P_DEFAULT, H5P_DEFAULT)
                          : -1;
    if (ds < 0 || H5Dwrite(ds, myr__h5_mem_type(MYR_I64), H5S_ALL, H5S_ALL, H5P_DEFAULT, data[k]) < 0)
      s = myr__h5_fail(err, f, "write", path);
    if (ds >= 0) H5Dclose(ds);
    if (space >= 0) H5Sclose(space);
  }
  if (g >= 0) H5Gclose(g);
  return s;
}

myr_status myr_checkpoint_write(const myr_sim *sim, const char *path, myr_error *err) {
  myr__h5_quiet();
  const myr_config *cfg = sim->cfg;
  if (cfg->sync_frequency > 0 && sim->step % (uint64_t)cfg->sync_frequency != 0)
    return myr_fail(err, MYR_ERR_CHECKPOINT,
                    "%s: cannot checkpoint at step %" PRIu64 ": not the end of a sync window "
                    "(distributed.sync_frequency %" PRId64 ")", path, sim->step, cfg->sync_frequency);
  myr_status s = myr__mkparent(path, err);
  if (s != MYR_OK) return s;
  char *part = myr__part_path(path);
  if (!part) return myr_fail(err, MYR_ERR_NOMEM, "%s: out of memory", path);
  hid_t file = H5Fcreate(part, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (file < 0) s = myr__h5_fail(err, part, "create", "the file");
  if (s == MYR_OK) s = write_meta(file, sim, myr_sim_population(sim), part, err);
  if (s == MYR_OK) s = myr__h5_write_state(file, sim, part, "", err);
  if (s == MYR_OK) s = write_flows(file, sim, part, err);
  if (s == MYR_OK && sim->search && sim->search->net.w) s = myr_net_write_h5(&sim->search->net, file, part, err);
  if (s == MYR_OK && sim->search && sim->search->trainer)
    s = myr_trainer_write_h5(sim->search->trainer, file, part, err);
  if (file >= 0 && H5Fclose(file) < 0 && s == MYR_OK) s = myr__h5_fail(err, part, "close", "the file");
  if (s == MYR_OK) s = myr__commit_part(part, path, err);
  else if (file >= 0) remove(part); /* a partial checkpoint is of no use */
  free(part);
  return s;
}

void myr_checkpoint_path(const char *output, uint64_t step, char *buf, size_t n) {
  size_t len = strlen(output);
  if (len >= 3 && strcmp(output + len - 3, ".h5") == 0) len -= 3;
  snprintf(buf, n, "%.*s.ckpt-%" PRIu64 ".h5", (int)len, output, step);
}

/* ---- load ------------------------------------------------------------------------------- */

/* Compares one integer setting: fails naming `key` when the checkpoint's differs. */
static myr_status same_i64(hid_t meta, const char *attr, const char *key, int64_t run, const char *f,
                           myr_error *err) {
  int64_t ck;
  myr_status s = myr__h5_get_i64(meta, attr, &ck, f, "/meta", err);
  if (s != MYR_OK) return s;
  if (ck != run)
    return myr_fail(err, MYR_ERR_CHECKPOINT,
                    "checkpoint %s does not match this run: %s is %" PRId64 " in the checkpoint but %"
                    PRId64 " in the config", f, key, ck, run);
  return MYR_OK;
}

static myr_status same_str(hid_t meta, const char *attr, const char *key, const char *run, const char *f,
                           myr_error *err) {
  char *ck = NULL;
  myr_status s = myr__h5_get_str(meta, attr, &ck, f, "/meta", err);
  if (s != MYR_OK) return s;
  if (strcmp(ck, run) != 0)
    s = myr_fail(err, MYR_ERR_CHECKPOINT,
                 "checkpoint %s does not match this run: %s is '%s' in the checkpoint but '%s' in the "
                 "config", f, key, ck, run);
  free(ck);
  return s;
}

/* The model parameters, in the model's table order, compared bit for bit. */
static myr_status same_params(hid_t meta, const myr_config *cfg, const char *f, myr_error *err) {
  const myr_model *m = cfg->model_desc;
  if (!myr__h5_exists(meta, "params"))
    return myr_fail(err, MYR_ERR_CHECKPOINT, "checkpoint %s has no /meta/params", f);
  hid_t g = H5Gopen2(meta, "params", H5P_DEFAULT);
  if (g < 0) return myr__h5_fail(err, f, "open group", "/meta/params");
  myr_status s = MYR_OK;
  for (int p = 0; s == MYR_OK && p < m->n_params; p++) {
    const myr_param_desc *d = &m->params[p];
    const char *field = (const char *)cfg->model_params + d->offset;
    if (!myr__h5_has_attr(g, d->name)) {
      s = myr_fail(err, MYR_ERR_CHECKPOINT,
                   "checkpoint %s does not match this run: model.params.%s is not in the checkpoint",
                   f, d->name);
      break;
    }
    if (d->type == MYR_P_FLOAT) {
      double ck, run;
      memcpy(&run, field, sizeof run);
      s = myr__h5_get_f64(g, d->name, &ck, f, "/meta/params", err);
      if (s == MYR_OK && memcmp(&ck, &run, sizeof ck) != 0)
        s = myr_fail(err, MYR_ERR_CHECKPOINT,
                     "checkpoint %s does not match this run: model.params.%s is %.17g in the "
                     "checkpoint but %.17g in the config", f, d->name, ck, run);
    } else {
      int64_t ck, run;
      if (d->type == MYR_P_INT) {
        memcpy(&run, field, sizeof run);
      } else {
        int v;
        memcpy(&v, field, sizeof v);
        run = v;
      }
      s = myr__h5_get_i64(g, d->name, &ck, f, "/meta/params", err);
      if (s == MYR_OK && ck != run)
        s = myr_fail(err, MYR_ERR_CHECKPOINT,
                     "checkpoint %s does not match this run: model.params.%s is %" PRId64
                     " in the checkpoint but %" PRId64 " in the config", f, d->name, ck, run);
    }
  }
  H5Gclose(g);
  return s;
}

/* Checks, in this order, the settings a resumed run must share with the checkpoint. */
static myr_status check_meta(hid_t meta, const myr_config *cfg, const char *f, myr_error *err) {
  char *format = NULL;
  if (!myr__h5_has_attr(meta, "format") ||
      myr__h5_get_str(meta, "format", &format, f, "/meta", NULL) != MYR_OK ||
      strcmp(format, CKPT_FORMAT) != 0) {
    free(format);
    return myr_fail(err, MYR_ERR_CHECKPOINT, "%s is not a Myriad checkpoint (no /meta format '%s')", f,
                    CKPT_FORMAT);
  }
  free(format);
  int64_t version;
  myr_status s = myr__h5_get_i64(meta, "format_version", &version, f, "/meta", err);
  if (s == MYR_OK && version != CKPT_FORMAT_VERSION)
    return myr_fail(err, MYR_ERR_CHECKPOINT, "%s: checkpoint format version %" PRId64 " (this build reads %d)",
                    f, version, CKPT_FORMAT_VERSION);
  if (s == MYR_OK) s = same_str(meta, "model", "model.name", cfg->model_desc->name, f, err);
  if (s == MYR_OK) s = same_i64(meta, "width", "world.width", cfg->width, f, err);
  if (s == MYR_OK) s = same_i64(meta, "height", "world.height", cfg->height, f, err);
  if (s == MYR_OK) s = same_i64(meta, "wrap", "world.wrap", cfg->wrap, f, err);
  if (s == MYR_OK) s = same_i64(meta, "seed", "run.seed", cfg->seed, f, err);
  if (s == MYR_OK) s = same_i64(meta, "sync_frequency", "distributed.sync_frequency", cfg->sync_frequency, f, err);
  if (s == MYR_OK) s = same_str(meta, "policy", "policy.kind", myr_policy_name(cfg->policy), f, err);
  if (s == MYR_OK) s = same_params(meta, cfg, f, err);
  return s;
}

/* Opens dataset `name` under loc and checks its element type and shape: [n] when comps is 0
 * (the world: [height, width] given as dims), else [n] for 1 component or [n, comps]. */
static hid_t open_checked(hid_t loc, const char *name, const char *path, myr_type t, int rank,
                          const hsize_t want[2], const char *f, myr_error *err) {
  if (!myr__h5_exists(loc, name)) {
    myr_fail(err, MYR_ERR_CHECKPOINT, "checkpoint %s has no dataset %s", f, path);
    return -1;
  }
  int r;
  hsize_t dims[2];
  if (myr__h5_dims(loc, name, &r, dims, f, err) != MYR_OK) return -1;
  if (r != rank || dims[0] != want[0] || (rank == 2 && dims[1] != want[1])) {
    char shape[64], expect[64];
    if (r == 2) snprintf(shape, sizeof shape, "[%llu, %llu]", (unsigned long long)dims[0], (unsigned long long)dims[1]);
    else snprintf(shape, sizeof shape, "[%llu]", (unsigned long long)dims[0]);
    if (rank == 2) snprintf(expect, sizeof expect, "[%llu, %llu]", (unsigned long long)want[0], (unsigned long long)want[1]);
    else snprintf(expect, sizeof expect, "[%llu]", (unsigned long long)want[0]);
    myr_fail(err, MYR_ERR_CHECKPOINT, "checkpoint %s: %s has shape %s, expected %s", f, path, shape, expect);
    return -1;
  }
  hid_t ds = H5Dopen2(loc, name, H5P_DEFAULT);
  if (ds < 0) {
    myr__h5_fail(err, f, "open dataset", path);
    return -1;
  }
  hid_t dt = H5Dget_type(ds);
  htri_t same = dt >= 0 ? H5Tequal(dt, myr__h5_file_type(t)) : -1;
  if (dt >= 0) H5Tclose(dt);
  if (same <= 0) {
    H5Eclear2(H5E_DEFAULT);
    myr_fail(err, MYR_ERR_CHECKPOINT, "checkpoint %s: %s is not of type %s (little-endian)", f, path,
             myr_type_name(t));
    H5Dclose(ds);
    return -1;
  }
  return ds;
}

/* Reads agents/<column> into the component-major column (slot j = j-th agent in id order). */
static myr_status read_column(hid_t agents, myr_sim *sim, int c, int64_t n, const char *f,
                              myr_error *err) {
  const myr_column_desc *cd = &sim->model->columns[c];
  int comps = sim->agents.components[c];
  size_t size = myr_type_size(cd->type);
  int64_t cap = sim->agents.capacity;
  char path[512];
  snprintf(path, sizeof path, "/agents/%s", cd->name);
  hsize_t want[2] = {(hsize_t)n, (hsize_t)comps};
  int rank = comps == 1 ? 1 : 2;
  hid_t ds = open_checked(agents, cd->name, path, cd->type, rank, want, f, err);
  if (ds < 0) return err ? err->status : MYR_ERR_CHECKPOINT;
  myr_status s = MYR_OK;
  hid_t mtype = myr__h5_mem_type(cd->type);
  char *col = sim->agents.col[c];
  if (comps == 1) {
    if (n > 0) s = myr__h5_rows(ds, mtype, 1, 0, (hsize_t)n, 1, col, 0, f, path, err);
  } else {
    int64_t slab = (int64_t)(SCATTER_BYTES / ((size_t)comps * size));
    if (slab < 1) slab = 1;
    if (slab > n) slab = n;
    char *buf = malloc((size_t)(slab > 0 ? slab : 1) * (size_t)comps * size);
    if (!buf) s = myr_fail(err, MYR_ERR_NOMEM, "%s: out of memory reading %s", f, path);
    for (int64_t r0 = 0; s == MYR_OK && r0 < n; r0 += slab) {
      int64_t rows = n - r0 < slab ? n - r0 : slab;
      s = myr__h5_rows(ds, mtype, 2, (hsize_t)r0, (hsize_t)rows, (hsize_t)comps, buf, 0, f, path, err);
      for (int64_t j = 0; s == MYR_OK && j < rows; j++)
        for (int k = 0; k < comps; k++)
          memcpy(col + ((size_t)k * (size_t)cap + (size_t)(r0 + j)) * size,
                 buf + ((size_t)j * (size_t)comps + (size_t)k) * size, size);
    }
    free(buf);
  }
  H5Dclose(ds);
  return s;
}

/* Fills an empty simulation from /agents and /grid. */
static myr_status read_state(hid_t file, myr_sim *sim, int64_t n, const char *f, myr_error *err) {
  myr_agents *ag = &sim->agents;
  hid_t agents = H5Gopen2(file, "agents", H5P_DEFAULT);
  if (agents < 0) return myr__h5_fail(err, f, "open group", "/agents");
  hsize_t want[2] = {(hsize_t)n, 1};
  myr_status s = MYR_OK;
  hid_t ds = open_checked(agents, "id", "/agents/id", MYR_U64, 1, want, f, err);
  if (ds < 0) s = err ? err->status : MYR_ERR_CHECKPOINT;
  if (s == MYR_OK && n > 0) s = myr__h5_rows(ds, H5T_NATIVE_UINT64, 1, 0, (hsize_t)n, 1, ag->id, 0, f, "/agents/id", err);
  if (ds >= 0) H5Dclose(ds);
  for (int64_t i = 1; s == MYR_OK && i < n; i++)
    if (ag->id[i] <= ag->id[i - 1])
      s = myr_fail(err, MYR_ERR_CHECKPOINT, "checkpoint %s: /agents/id is not strictly increasing at row %" PRId64,
                   f, i);
  for (int c = 0; s == MYR_OK && c < ag->n_columns; c++)
    if (sim->model->columns[c].lifetime == MYR_PERSISTENT) s = read_column(agents, sim, c, n, f, err);
  H5Gclose(agents);
  if (s != MYR_OK) return s;
  for (int64_t i = 0; i < n; i++) ag->alive[i] = 1;
  ag->n = n;

  hid_t grid = -1;
  int persistent_layers = 0;
  for (int l = 0; l < sim->grid.n_layers; l++) persistent_layers += sim->model->layers[l].lifetime == MYR_PERSISTENT;
  if (persistent_layers) {
    grid = H5Gopen2(file, "grid", H5P_DEFAULT);
    if (grid < 0) return myr__h5_fail(err, f, "open group", "/grid");
  }
  for (int l = 0; s == MYR_OK && l < sim->grid.n_layers; l++) {
    const myr_layer_desc *ld = &sim->model->layers[l];
    if (ld->lifetime != MYR_PERSISTENT) continue;
    char path[512];
    snprintf(path, sizeof path, "/grid/%s", ld->name);
    hsize_t dims[2] = {(hsize_t)sim->grid.height, (hsize_t)sim->grid.width};
    ds = open_checked(grid, ld->name, path, ld->type, 2, dims, f, err);
    if (ds < 0) {
      s = err ? err->status : MYR_ERR_CHECKPOINT;
      break;
    }
    if (dims[0] * dims[1] > 0 &&
        H5Dread(ds, myr__h5_mem_type(ld->type), H5S_ALL, H5S_ALL, H5P_DEFAULT, sim->grid.layer[l]) < 0)
      s = myr__h5_fail(err, f, "read", path);
    H5Dclose(ds);
  }
  if (grid >= 0) H5Gclose(grid);
  return s;
}

/* The published flows (write_flows). */
static myr_status read_flows(hid_t file, myr_sim *sim, const char *f, myr_error *err) {
  int n = sim->model->n_flows;
  if (n == 0) return MYR_OK;
  if (!myr__h5_exists(file, "flows"))
    return myr_fail(err, MYR_ERR_CHECKPOINT, "checkpoint %s has no /flows (model %s publishes %d flows)", f,
                    sim->model->name, n);
  hid_t g = H5Gopen2(file, "flows", H5P_DEFAULT);
  if (g < 0) return myr__h5_fail(err, f, "open group", "/flows");
  int64_t *data[2] = {sim->flows_window, sim->flows_total};
  hsize_t want[2] = {(hsize_t)n, 1};
  myr_status s = MYR_OK;
  for (int k = 0; k < 2 && s == MYR_OK; k++) {
    char path[64];
    snprintf(path, sizeof path, "/flows/%s", flow_sets[k]);
    hid_t ds = open_checked(g, flow_sets[k], path, MYR_I64, 1, want, f, err);
    if (ds < 0) {
      s = err ? err->status : MYR_ERR_CHECKPOINT;
      break;
    }
    if (H5Dread(ds, myr__h5_mem_type(MYR_I64), H5S_ALL, H5S_ALL, H5P_DEFAULT, data[k]) < 0)
      s = myr__h5_fail(err, f, "read", path);
    H5Dclose(ds);
  }
  H5Gclose(g);
  return s;
}

/* The network (it replaces the one network.init made) and the trainer's state, when the run
 * has them. */
static myr_status read_search(hid_t file, myr_sim *sim, const char *f, myr_error *err) {
  myr_search *s = sim->search;
  if (!s || !s->net.w) return MYR_OK;
  if (!myr__h5_exists(file, "network"))
    return myr_fail(err, MYR_ERR_CHECKPOINT, "checkpoint %s has no /network (policy.kind %s needs one)", f,
                    myr_policy_name(sim->cfg->policy));
  myr_net net;
  myr_status st = myr_net_read_h5(&net, file, &s->net.shape, f, err);
  if (st != MYR_OK) return st;
  memcpy(s->net.w, net.w, net.n_params * sizeof *net.w);
  myr_net_free(&net);
  return s->trainer ? myr_trainer_read_h5(s->trainer, file, f, err) : MYR_OK;
}

myr_status myr_checkpoint_load(const myr_config *cfg, const char *path, myr_sim **out,
                               myr_error *err) {
  myr_status s = myr_checkpoint_load_host(cfg, path, out, err);
  if (s == MYR_OK && (s = myr_sim_start_backend(*out, err)) != MYR_OK) { /* uploads to a device backend */
    myr_sim_destroy(*out);
    *out = NULL;
  }
  return s;
}

myr_status myr_checkpoint_load_host(const myr_config *cfg, const char *path, myr_sim **out,
                                    myr_error *err) {
  *out = NULL;
  myr__h5_quiet();
  FILE *probe = fopen(path, "rb");
  if (!probe) return myr_fail(err, MYR_ERR_IO, "cannot read checkpoint %s", path);
  fclose(probe);
  htri_t is = H5Fis_hdf5(path);
  if (is <= 0) {
    H5Eclear2(H5E_DEFAULT);
    return myr_fail(err, MYR_ERR_CHECKPOINT, "%s is not an HDF5 file (expected a Myriad checkpoint)", path);
  }
  hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file < 0) return myr__h5_fail(err, path, "open", "the file");
  myr_status s = MYR_OK;
  hid_t meta = -1;
  if (!myr__h5_exists(file, "meta") || (meta = H5Gopen2(file, "meta", H5P_DEFAULT)) < 0)
    s = myr_fail(err, MYR_ERR_CHECKPOINT, "%s is not a Myriad checkpoint (no /meta)", path);
  if (s == MYR_OK) s = check_meta(meta, cfg, path, err);
  uint64_t step = 0;
  if (s == MYR_OK) s = myr__h5_get_u64(meta, "step", &step, path, "/meta", err);

  /* The number of agents, from /agents/id, against the capacity of this run. */
  int64_t n = 0;
  if (s == MYR_OK) {
    int rank;
    hsize_t dims[2];
    if (!myr__h5_exists(file, "agents/id"))
      s = myr_fail(err, MYR_ERR_CHECKPOINT, "checkpoint %s has no dataset /agents/id", path);
    else
      s = myr__h5_dims(file, "agents/id", &rank, dims, path, err);
    if (s == MYR_OK && rank != 1)
      s = myr_fail(err, MYR_ERR_CHECKPOINT, "checkpoint %s: /agents/id is not one-dimensional", path);
    if (s == MYR_OK) n = (int64_t)dims[0];
    int64_t cap = myr_config_capacity(cfg);
    if (s == MYR_OK && n > cap)
      s = myr_fail(err, MYR_ERR_CAPACITY,
                   "checkpoint %s holds %" PRId64 " agents but this run has capacity for %" PRId64
                   " (agents.capacity)", path, n, cap);
  }

  myr_sim *sim = NULL;
  if (s == MYR_OK) s = myr_sim_create_empty(cfg, &sim, err);
  if (s == MYR_OK) s = read_state(file, sim, n, path, err);
  if (s == MYR_OK) s = read_flows(file, sim, path, err);
  if (s == MYR_OK) s = read_search(file, sim, path, err);
  if (s == MYR_OK) sim->step = step;
  if (meta >= 0) H5Gclose(meta);
  H5Fclose(file);
  H5Eclear2(H5E_DEFAULT);
  if (s != MYR_OK) {
    if (sim) myr_sim_destroy(sim);
    return s;
  }
  *out = sim;
  return MYR_OK;
}
