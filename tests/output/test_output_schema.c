/* The result file's schema (sim/output.h, docs/output-schema.md), read back with the HDF5 API:
 * /meta attributes with their types and values, /timeseries rows equal to what was recorded,
 * /snapshots/<step> in id order with the shapes and types of the model's persistent columns
 * and layers, snapshot contents equal to the simulation's state, compression of large
 * datasets, the .part-then-rename protocol (a failed run leaves an earlier result untouched),
 * and `myriad info`. Foraging, and the test model "probe" for multi-component columns and
 * large (chunked, deflated) agent datasets; snapshots and checkpoints of sizes that exercise the
 * threaded chunk writes (several chunks, partial last chunks in rows and columns, small
 * datasets), read back equal to the state. Usage: test_output_schema [DIR] (files are kept in
 * DIR; default ./output_schema.tmp; DIR/h5dump.list names datasets for h5dump_schema.sh). */
#define _POSIX_C_SOURCE 200809L // strdup, rmdir
#include <hdf5.h>
#include <string.h>
#include <unistd.h>

#include "myriad_version.h"
#include "output_util.h"
#include "probe_model.h"
#include "sim/checkpoint.h" // myr_checkpoint_write, _load: checkpoints of the size cases
#include "sim/h5util.h"     // myr__h5_direct_chunks: chunks written on threads
#include "sim/output.h"

static char *attr_str(hid_t obj, const char *name, H5T_class_t *cls) {
  hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  if (a < 0) return NULL;
  hid_t t = H5Aget_type(a);
  *cls = H5Tget_class(t);
  char *v = NULL;
  if (*cls == H5T_STRING && H5Tis_variable_str(t) > 0) {
    hid_t m = H5Tcopy(H5T_C_S1);
    H5Tset_size(m, H5T_VARIABLE);
    H5Tset_cset(m, H5Tget_cset(t)); /* HDF5 does not convert between ASCII and UTF-8 */
    char *p = NULL;
    if (H5Aread(a, m, &p) >= 0 && p) {
      v = strdup(p);
      H5free_memory(p);
    }
    H5Tclose(m);
  }
  H5Tclose(t);
  H5Aclose(a);
  return v;
}

/* Reads a scalar numeric attribute; cls and size describe its stored type. */
static int attr_num(hid_t obj, const char *name, hid_t mem, void *v, H5T_class_t *cls, size_t *size) {
  hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  if (a < 0) return 0;
  hid_t t = H5Aget_type(a);
  *cls = H5Tget_class(t);
  *size = H5Tget_size(t);
  int ok = H5Aread(a, mem, v) >= 0;
  H5Tclose(t);
  H5Aclose(a);
  return ok;
}

static void check_str_attr(hid_t meta, const char *name, const char *ref) {
  H5T_class_t cls = H5T_NO_CLASS;
  char *v = attr_str(meta, name, &cls);
  CHECK(v != NULL, "/meta attribute %s missing or not a variable-length string", name);
  CHECK(cls == H5T_STRING, "/meta %s: class %d", name, (int)cls);
  if (v && ref) CHECK(strcmp(v, ref) == 0, "/meta %s = '%.60s', expected '%.60s'", name, v, ref);
  free(v);
}

static void check_int_attr(hid_t meta, const char *name, int64_t ref) {
  H5T_class_t cls = H5T_NO_CLASS;
  size_t size = 0;
  int64_t v = -1;
  CHECK(attr_num(meta, name, H5T_NATIVE_INT64, &v, &cls, &size), "/meta attribute %s missing", name);
  CHECK(cls == H5T_INTEGER && size == 8, "/meta %s: class %d size %zu (expected 64-bit integer)", name,
        (int)cls, size);
  CHECK_EQ_I64(v, ref);
}

/* Shape (rank, dims) and element type of dataset `path`. */
static int dataset_shape(hid_t file, const char *path, int *rank, hsize_t dims[2], hid_t *type) {
  hid_t ds = H5Dopen2(file, path, H5P_DEFAULT);
  if (ds < 0) return 0;
  hid_t sp = H5Dget_space(ds);
  *rank = H5Sget_simple_extent_ndims(sp);
  dims[0] = dims[1] = 0;
  if (*rank >= 1 && *rank <= 2) H5Sget_simple_extent_dims(sp, dims, NULL);
  H5Sclose(sp);
  *type = H5Dget_type(ds);
  H5Dclose(ds);
  return 1;
}

static hid_t file_type(myr_type t) {
  switch (t) {
  case MYR_U8: return H5T_STD_U8LE;
  case MYR_I32: return H5T_STD_I32LE;
  case MYR_U32: return H5T_STD_U32LE;
  case MYR_I64: return H5T_STD_I64LE;
  case MYR_U64: return H5T_STD_U64LE;
  case MYR_F32: return H5T_IEEE_F32LE;
  default: return H5T_IEEE_F64LE;
  }
}

/* Reads a whole dataset as raw bytes of its stored type (little-endian host assumed, as on
 * every machine we build for). */
static void *read_all(hid_t file, const char *path, hid_t type) {
  hid_t ds = H5Dopen2(file, path, H5P_DEFAULT);
  if (ds < 0) return NULL;
  hid_t sp = H5Dget_space(ds);
  hssize_t n = H5Sget_simple_extent_npoints(sp);
  H5Sclose(sp);
  void *buf = malloc((size_t)(n > 0 ? n : 1) * H5Tget_size(type));
  if (buf && n > 0 && H5Dread(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
    free(buf);
    buf = NULL;
  }
  H5Dclose(ds);
  return buf;
}

static int has_deflate(hid_t file, const char *path) {
  hid_t ds = H5Dopen2(file, path, H5P_DEFAULT);
  if (ds < 0) return 0;
  hid_t dcpl = H5Dget_create_plist(ds);
  int n = H5Pget_nfilters(dcpl), found = 0;
  for (int i = 0; i < n; i++) {
    unsigned flags, cd[8];
    size_t ncd = 8;
    char name[64];
    unsigned config;
    if (H5Pget_filter2(dcpl, (unsigned)i, &flags, &ncd, cd, sizeof name, name, &config) == H5Z_FILTER_DEFLATE)
      found = 1;
  }
  H5Pclose(dcpl);
  H5Dclose(ds);
  return found;
}

/* The state under `prefix` ("/snapshots/<step>" in a result, "" in a checkpoint) against the
 * simulation's current state. */
static void check_state(hid_t file, const char *prefix, const myr_sim *sim, int compare_values) {
  const myr_model *m = sim->model;
  char path[256];
  int rank;
  hsize_t dims[2];
  hid_t type;
  snprintf(path, sizeof path, "%s/agents/id", prefix);
  int64_t pop = myr_sim_population(sim);
  REQUIRE(dataset_shape(file, path, &rank, dims, &type), "%s missing", path);
  CHECK(rank == 1, "%s rank %d", path, rank);
  CHECK(H5Tequal(type, H5T_STD_U64LE) > 0, "%s is not u64 LE", path);
  H5Tclose(type);
  if (compare_values) CHECK_EQ_I64(dims[0], pop);
  int64_t n = (int64_t)dims[0];
  uint64_t *id = read_all(file, path, H5T_NATIVE_UINT64);
  REQUIRE(id, "cannot read %s", path);
  int sorted = 1;
  for (int64_t j = 1; j < n; j++)
    if (id[j] <= id[j - 1]) sorted = 0;
  CHECK(sorted, "%s is not strictly ascending", path);

  int64_t *order = NULL, n_order = 0;
  myr_error err = {0};
  if (compare_values) {
    REQUIRE(myr_sim_id_order(sim, &order, &n_order, &err) == MYR_OK, "id order: %s", err.msg);
    REQUIRE(n_order == n, "id order has %lld slots", (long long)n_order);
    int same = 1;
    for (int64_t j = 0; j < n; j++)
      if (id[j] != sim->agents.id[order[j]]) same = 0;
    CHECK(same, "%s differs from the simulation's ids", path);
  }

  for (int c = 0; c < sim->agents.n_columns; c++) {
    const myr_column_desc *cd = &m->columns[c];
    snprintf(path, sizeof path, "%s/agents/%s", prefix, cd->name);
    if (cd->lifetime == MYR_TRANSIENT) {
      CHECK(H5Lexists(file, path, H5P_DEFAULT) <= 0, "transient column %s was written", path);
      continue;
    }
    int comps = sim->agents.components[c];
    if (!dataset_shape(file, path, &rank, dims, &type)) {
      CHECK(0, "%s missing", path);
      continue;
    }
    CHECK(rank == (comps == 1 ? 1 : 2), "%s rank %d for %d components", path, rank, comps);
    CHECK_EQ_I64(dims[0], n);
    if (comps > 1) CHECK_EQ_I64(dims[1], comps);
    CHECK(H5Tequal(type, file_type(cd->type)) > 0, "%s is not %s", path, myr_type_name(cd->type));
    H5Tclose(type);
    if (n * comps >= 65536) CHECK(has_deflate(file, path), "%s (%lld x %d) is not deflated", path, (long long)n, comps);
    if (compare_values) {
      size_t sz = myr_type_size(cd->type);
      char *v = read_all(file, path, file_type(cd->type));
      REQUIRE(v, "cannot read %s", path);
      int64_t bad = 0;
      for (int64_t j = 0; j < n; j++)
        for (int k = 0; k < comps; k++)
          if (memcmp(v + ((size_t)j * comps + k) * sz,
                     (const char *)sim->agents.col[c] + ((size_t)k * sim->agents.capacity + order[j]) * sz, sz))
            bad++;
      CHECK(bad == 0, "%s: %lld values differ from the simulation", path, (long long)bad);
      free(v);
    }
  }
  for (int l = 0; l < sim->grid.n_layers; l++) {
    const myr_layer_desc *ld = &m->layers[l];
    snprintf(path, sizeof path, "%s/grid/%s", prefix, ld->name);
    if (ld->lifetime == MYR_TRANSIENT) {
      CHECK(H5Lexists(file, path, H5P_DEFAULT) <= 0, "transient layer %s was written", path);
      continue;
    }
    if (!dataset_shape(file, path, &rank, dims, &type)) {
      CHECK(0, "%s missing", path);
      continue;
    }
    CHECK(rank == 2, "%s rank %d", path, rank);
    CHECK_EQ_I64(dims[0], sim->grid.height);
    CHECK_EQ_I64(dims[1], sim->grid.width);
    CHECK(H5Tequal(type, file_type(ld->type)) > 0, "%s is not %s", path, myr_type_name(ld->type));
    H5Tclose(type);
    if ((int64_t)sim->grid.width * sim->grid.height >= 65536)
      CHECK(has_deflate(file, path), "%s (%d x %d cells) is not deflated", path, sim->grid.height,
            sim->grid.width);
    if (compare_values) {
      size_t cells = (size_t)sim->grid.width * sim->grid.height, sz = myr_type_size(ld->type);
      char *v = read_all(file, path, file_type(ld->type));
      REQUIRE(v, "cannot read %s", path);
      CHECK(memcmp(v, sim->grid.layer[l], cells * sz) == 0, "%s differs from the simulation", path);
      free(v);
    }
  }
  free(order);
  free(id);
}

static void check_snapshot(hid_t file, const myr_sim *sim, uint64_t step, int compare_values) {
  char prefix[64];
  snprintf(prefix, sizeof prefix, "/snapshots/%llu", (unsigned long long)step);
  check_state(file, prefix, sim, compare_values);
}

/* Chunks stored for dataset `path` (*stored) and the chunks its extent has (*want); 0 when it is
 * not chunked. */
static int chunk_counts(hid_t file, const char *path, hsize_t *stored, hsize_t *want) {
  hid_t ds = H5Dopen2(file, path, H5P_DEFAULT);
  REQUIRE(ds >= 0, "cannot open %s", path);
  hid_t dcpl = H5Dget_create_plist(ds), space = H5Dget_space(ds);
  int chunked = H5Pget_layout(dcpl) == H5D_CHUNKED;
  if (chunked) {
    hsize_t dims[2], chunk[2];
    int rank = H5Sget_simple_extent_dims(space, dims, NULL);
    REQUIRE(H5Pget_chunk(dcpl, rank, chunk) == rank, "chunk dims of %s", path);
    *want = 1;
    for (int d = 0; d < rank; d++) *want *= (dims[d] + chunk[d] - 1) / chunk[d];
    REQUIRE(H5Dget_num_chunks(ds, space, stored) >= 0, "chunks of %s", path);
  }
  H5Sclose(space);
  H5Pclose(dcpl);
  H5Dclose(ds);
  return chunked;
}

/* Every chunk of every chunked dataset under `prefix` is stored; returns how many there are. */
static hsize_t check_chunks(hid_t file, const char *prefix, const myr_sim *sim) {
  const myr_model *m = sim->model;
  char path[256];
  hsize_t total = 0, stored = 0, want = 0;
  for (int c = -1; c < m->n_columns; c++) {
    if (c >= 0 && m->columns[c].lifetime != MYR_PERSISTENT) continue;
    snprintf(path, sizeof path, "%s/agents/%s", prefix, c < 0 ? "id" : m->columns[c].name);
    if (!chunk_counts(file, path, &stored, &want)) continue;
    CHECK(stored == want, "%s: %llu chunks stored of %llu", path, (unsigned long long)stored, (unsigned long long)want);
    total += want;
  }
  for (int l = 0; l < m->n_layers; l++) {
    if (m->layers[l].lifetime != MYR_PERSISTENT) continue;
    snprintf(path, sizeof path, "%s/grid/%s", prefix, m->layers[l].name);
    if (!chunk_counts(file, path, &stored, &want)) continue;
    CHECK(stored == want, "%s: %llu chunks stored of %llu", path, (unsigned long long)stored, (unsigned long long)want);
    total += want;
  }
  return total;
}

/* Writes the raw little-endian bytes of agent column `c` (-1: id) in id order, or of layer `l`,
 * to `bin`, and a line "<h5 file> <dataset> <bin>" to the list h5dump_schema.sh compares. */
static void expect_raw(FILE *list, const char *h5, const char *dataset, const char *bin, const myr_sim *sim, int c,
                       int l) {
  FILE *f = fopen(bin, "wb");
  REQUIRE(f, "cannot write %s", bin);
  if (l >= 0) {
    size_t n = (size_t)sim->grid.width * sim->grid.height * myr_type_size(sim->model->layers[l].type);
    REQUIRE(fwrite(sim->grid.layer[l], 1, n, f) == n, "write %s", bin);
  } else {
    int64_t *order = NULL, n = 0;
    myr_error err = {0};
    REQUIRE(myr_sim_id_order(sim, &order, &n, &err) == MYR_OK, "id order: %s", err.msg);
    size_t sz = c < 0 ? 8 : myr_type_size(sim->model->columns[c].type);
    int comps = c < 0 ? 1 : sim->agents.components[c];
    const char *src = c < 0 ? (const char *)sim->agents.id : (const char *)sim->agents.col[c];
    for (int64_t j = 0; j < n; j++)
      for (int k = 0; k < comps; k++)
        REQUIRE(fwrite(src + ((size_t)k * sim->agents.capacity + order[j]) * sz, sz, 1, f) == 1, "write %s", bin);
    free(order);
  }
  fclose(f);
  fprintf(list, "%s %s %s\n", h5, dataset, bin);
}

/* Sizes that exercise the threaded chunk writes (myr__h5_write), in a result's snapshot and in
 * a checkpoint: several chunks, partial last chunks (rows; columns of a grid wider than a
 * chunk), counts that fill whole chunks, datasets one element too small to be chunked, all
 * small, a column larger than one gather slab (32 MiB); 1 to 3 threads; births and deaths
 * (ids out of slot order). Each file reads back equal to the state in memory, every chunk of
 * every chunked dataset stored and by the threaded path, the checkpoint loads to the same
 * hash; h5dump's reading of some datasets is listed for h5dump_schema.sh. */
typedef struct size_case {
  const char *name, *count, *capacity, *width, *height, *threads;
  int steps;
} size_case;

static void size_cases(const char *dir) {
  static const size_case cases[] = {
      /* 1-D columns and pos [n, 2] fill whole chunks, hits [n, 3] ends with 2 rows (chunks of
       * 21845); the 256 x 256 grid is one chunk. */
      {"exact", "agents.count=131072", "agents.capacity=131072", "world.width=256", "world.height=256",
       "run.threads=2", 0},
      /* Partial last chunks everywhere; a grid 70000 cells wide: chunks of one row and 65536
       * columns, the second one partial. */
      {"wide", "agents.count=150001", "agents.capacity=400000", "world.width=70000", "world.height=3",
       "run.threads=3", 2},
      /* 1-D columns stay contiguous, [n, 2] and [n, 3] are chunked; the 320 x 240 grid ends
       * with a partial chunk of 36 rows. */
      {"edge", "agents.count=65535", "agents.capacity=65535", "world.width=320", "world.height=240",
       "run.threads=1", 0},
      {"tiny", "agents.count=300", "agents.capacity=4000", "world.width=40", "world.height=30", "run.threads=2", 2},
      /* hits [n, 3] of i64: 1398080 rows a slab (whole chunks), so two slabs. */
      {"slabs", "agents.count=1450000", "agents.capacity=1450000", "world.width=64", "world.height=64",
       "run.threads=2", 0},
  };
  char list_path[700];
  snprintf(list_path, sizeof list_path, "%s/h5dump.list", dir);
  FILE *list = fopen(list_path, "w");
  REQUIRE(list, "cannot write %s", list_path);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const size_case *sc = &cases[i];
    const char *set[] = {sc->count, sc->capacity, sc->width, sc->height, sc->threads, NULL};
    myr_config cfg;
    load_cfg(&cfg, probe_yaml, set);
    myr_sim *sim = make_sim(&cfg);
    step_n(sim, sc->steps);
    char result[700], ckpt[700], prefix[64];
    snprintf(result, sizeof result, "%s/sizes-%s.h5", dir, sc->name);
    snprintf(ckpt, sizeof ckpt, "%s/sizes-%s.ckpt.h5", dir, sc->name);
    snprintf(prefix, sizeof prefix, "/snapshots/%llu", (unsigned long long)sim->step);
    uint64_t direct0 = myr__h5_direct_chunks;
    myr_error err = {0};
    myr_output *o = NULL;
    REQUIRE(myr_output_open(&o, result, sim, "cpu", &err) == MYR_OK, "open %s: %s", result, err.msg);
    CHECK(myr_output_snapshot(o, sim, &err) == MYR_OK, "%s: snapshot: %s", sc->name, err.msg);
    REQUIRE(myr_output_close(o, 1, NULL, 0.0, &err) == MYR_OK, "close %s: %s", result, err.msg);
    REQUIRE(myr_checkpoint_write(sim, ckpt, &err) == MYR_OK, "checkpoint %s: %s", ckpt, err.msg);
    uint64_t direct = myr__h5_direct_chunks - direct0;

    hid_t rf = H5Fopen(result, H5F_ACC_RDONLY, H5P_DEFAULT), cf = H5Fopen(ckpt, H5F_ACC_RDONLY, H5P_DEFAULT);
    REQUIRE(rf >= 0 && cf >= 0, "cannot open %s or %s", result, ckpt);
    check_state(rf, prefix, sim, 1);
    check_state(cf, "", sim, 1);
    hsize_t chunks = check_chunks(rf, prefix, sim) + check_chunks(cf, "", sim);
    CHECK(direct == chunks, "%s: %llu chunks written by the threaded path, %llu in the files", sc->name,
          (unsigned long long)direct, (unsigned long long)chunks);
    if (strcmp(sc->name, "tiny") != 0) CHECK(chunks > 0, "%s: nothing was chunked", sc->name);
    H5Fclose(rf);
    H5Fclose(cf);

    myr_sim *back = NULL;
    CHECK(myr_checkpoint_load(&cfg, ckpt, &back, &err) == MYR_OK, "%s: load: %s", sc->name, err.msg);
    if (back) {
      uint8_t h0[MYR_HASH_BYTES], h1[MYR_HASH_BYTES];
      hash_of(sim, h0);
      hash_of(back, h1);
      CHECK(memcmp(h0, h1, MYR_HASH_BYTES) == 0, "%s: the loaded checkpoint hashes differently", sc->name);
      myr_sim_destroy(back);
    }
    printf("%-6s %8lld agents, %lldx%lld cells, %d threads: %llu chunks written on threads\n", sc->name,
           (long long)myr_sim_population(sim), (long long)cfg.width, (long long)cfg.height, sim->threads,
           (unsigned long long)direct);

    /* For h5dump: 1-D, [n, 3] and grids with partial row and column chunks. */
    char ds[256], bin[720];
    if (!strcmp(sc->name, "wide") || !strcmp(sc->name, "edge")) {
      snprintf(ds, sizeof ds, "%s/agents/id", prefix);
      snprintf(bin, sizeof bin, "%s/sizes-%s-id.bin", dir, sc->name);
      expect_raw(list, result, ds, bin, sim, -1, -1);
      snprintf(ds, sizeof ds, "%s/agents/hits", prefix);
      snprintf(bin, sizeof bin, "%s/sizes-%s-hits.bin", dir, sc->name);
      expect_raw(list, result, ds, bin, sim, PROBE_HITS, -1);
      snprintf(bin, sizeof bin, "%s/sizes-%s-level.bin", dir, sc->name);
      expect_raw(list, ckpt, "/grid/level", bin, sim, -1, PROBE_LEVEL);
    }
    myr_sim_destroy(sim);
    myr_config_free(&cfg);
  }
  fclose(list);
}

/* 70000 probe agents: snapshots at steps 0 and 1 with [n, 2] and [n, 3] columns, compressed. */
static void probe_file(const char *dir) {
  char path[700];
  snprintf(path, sizeof path, "%s/probe.h5", dir);
  const char *set[] = {"agents.count=70000", NULL};
  myr_config cfg;
  load_cfg(&cfg, probe_yaml, set);
  myr_sim *sim = make_sim(&cfg);
  myr_error err = {0};
  myr_output *o = NULL;
  REQUIRE(myr_output_open(&o, path, sim, "cpu", &err) == MYR_OK, "open %s: %s", path, err.msg);
  double stats[MYR_ENGINE_STATS + MYR_MAX_STATS];
  for (int r = 0; r < 2; r++) {
    if (r) step_n(sim, 1);
    myr_sim_stats(sim, stats);
    CHECK(myr_output_record(o, sim->step, stats, &err) == MYR_OK, "record: %s", err.msg);
    CHECK(myr_output_snapshot(o, sim, &err) == MYR_OK, "snapshot: %s", err.msg);
  }
  REQUIRE(myr_output_close(o, 1, NULL, 0.0, &err) == MYR_OK, "close: %s", err.msg);
  hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  REQUIRE(file >= 0, "cannot open %s", path);
  int rank;
  hsize_t dims[2];
  hid_t type;
  CHECK(dataset_shape(file, "/snapshots/1/agents/pos", &rank, dims, &type) && rank == 2 && dims[1] == 2,
        "/snapshots/1/agents/pos is not [n, 2]");
  H5Tclose(type);
  CHECK(dataset_shape(file, "/timeseries/tag_sum", &rank, dims, &type) && dims[0] == 2, "no tag_sum series");
  H5Tclose(type);
  CHECK(myr_sim_population(sim) > 70000, "no births in the probe model (%lld)", (long long)myr_sim_population(sim));
  check_snapshot(file, sim, 0, 0);
  check_snapshot(file, sim, 1, 1);
  H5Fclose(file);
  myr_sim_destroy(sim);
  myr_config_free(&cfg);
}

int main(int argc, char **argv) {
  char dir[512], sub[600], path[700], part[720];
  snprintf(dir, sizeof dir, "%s", argc > 1 ? argv[1] : "output_schema.tmp");
  make_dir(dir);
  snprintf(sub, sizeof sub, "%s/results", dir);
  snprintf(path, sizeof path, "%s/result.h5", sub);
  snprintf(part, sizeof part, "%s.part", path);
  remove(path);
  remove(part);
  rmdir(sub); /* the output creates its parent folder */

  /* 320 x 240 cells: grid snapshots are large enough to be chunked and deflated. */
  const char *set[] = {"world.width=320", "world.height=240", NULL};
  myr_config cfg;
  load_cfg(&cfg, small_yaml, set);
  CHECK(cfg.yaml_text && strcmp(cfg.yaml_text, small_yaml) == 0, "config text differs from the input");
  myr_sim *sim = make_sim(&cfg);
  myr_error err = {0};
  myr_output *o = NULL;
  myr_status s = myr_output_open(&o, path, sim, "cpu", &err);
  REQUIRE(s == MYR_OK, "myr_output_open: %s", err.msg);
  CHECK(file_exists(part), "%s not created", part);
  CHECK(!file_exists(path), "%s exists before the close", path);

  /* Rows at steps 0..4, snapshots at 2 (written twice: replaced) and 4. */
  int n_stats = myr_sim_stat_count(sim);
  REQUIRE(n_stats >= MYR_ENGINE_STATS && n_stats <= MYR_ENGINE_STATS + MYR_MAX_STATS, "%d stats", n_stats);
  enum { ROWS = 5 };
  double rec[ROWS][MYR_ENGINE_STATS + MYR_MAX_STATS];
  int64_t pop_at_2 = 0;
  for (int r = 0; r < ROWS; r++) {
    if (r > 0) step_n(sim, 1);
    myr_sim_stats(sim, rec[r]);
    s = myr_output_record(o, sim->step, rec[r], &err);
    CHECK(s == MYR_OK, "record: %s", err.msg);
    if (sim->step == 2) {
      pop_at_2 = myr_sim_population(sim);
      for (int k = 0; k < 2; k++) {
        s = myr_output_snapshot(o, sim, &err);
        CHECK(s == MYR_OK, "snapshot: %s", err.msg);
      }
    }
  }
  s = myr_output_snapshot(o, sim, &err);
  CHECK(s == MYR_OK, "snapshot: %s", err.msg);
  uint8_t hash[MYR_HASH_BYTES];
  char hex[MYR_HASH_HEX];
  hash_of(sim, hash);
  myr_hash_hex(hash, hex);
  s = myr_output_close(o, 1, hash, 1.5, &err);
  REQUIRE(s == MYR_OK, "myr_output_close: %s", err.msg);
  CHECK(file_exists(path), "%s missing after a good close", path);
  CHECK(!file_exists(part), "%s left after a good close", part);

  /* ---- read it back ---- */
  hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  REQUIRE(file >= 0, "cannot open %s", path);
  hid_t meta = H5Gopen2(file, "meta", H5P_DEFAULT);
  REQUIRE(meta >= 0, "no /meta");
  char *resolved = myr_config_to_yaml(&cfg);
  check_str_attr(meta, "format", "myriad-result");
  check_int_attr(meta, "format_version", 1);
  check_str_attr(meta, "version", MYR_VERSION);
  check_str_attr(meta, "git_revision", MYR_GIT_REVISION);
  check_str_attr(meta, "config", small_yaml);
  check_str_attr(meta, "config_resolved", resolved);
  check_str_attr(meta, "backend", "cpu");
  check_str_attr(meta, "model", "foraging");
  check_str_attr(meta, "state_hash", hex);
  check_int_attr(meta, "ranks", 1);
  check_int_attr(meta, "devices", 0);
  check_int_attr(meta, "threads", sim->threads);
  check_int_attr(meta, "steps", 8);
  check_int_attr(meta, "completed", 1);
  free(resolved);
  {
    H5T_class_t cls;
    size_t size;
    uint64_t u = 0;
    double w = 0;
    CHECK(attr_num(meta, "seed", H5T_NATIVE_UINT64, &u, &cls, &size) && cls == H5T_INTEGER && size == 8,
          "seed missing or not a 64-bit integer");
    CHECK_EQ_I64(u, 7);
    CHECK(attr_num(meta, "start_step", H5T_NATIVE_UINT64, &u, &cls, &size) && cls == H5T_INTEGER,
          "start_step missing");
    CHECK_EQ_I64(u, 0);
    CHECK(attr_num(meta, "final_step", H5T_NATIVE_UINT64, &u, &cls, &size) && cls == H5T_INTEGER,
          "final_step missing");
    CHECK_EQ_I64(u, 4);
    CHECK(attr_num(meta, "wall_seconds", H5T_NATIVE_DOUBLE, &w, &cls, &size) && cls == H5T_FLOAT,
          "wall_seconds missing or not a float");
    CHECK(w == 1.5, "wall_seconds %g", w);
  }
  H5Gclose(meta);

  int rank;
  hsize_t dims[2];
  hid_t type;
  REQUIRE(dataset_shape(file, "/timeseries/step", &rank, dims, &type), "no /timeseries/step");
  CHECK(rank == 1 && dims[0] == ROWS, "/timeseries/step: rank %d, %llu rows", rank, (unsigned long long)dims[0]);
  CHECK(H5Tequal(type, H5T_STD_U64LE) > 0, "/timeseries/step is not u64");
  H5Tclose(type);
  uint64_t *steps = read_all(file, "/timeseries/step", H5T_NATIVE_UINT64);
  REQUIRE(steps, "cannot read /timeseries/step");
  for (int r = 0; r < ROWS; r++) CHECK_EQ_I64(steps[r], r);
  free(steps);
  for (int k = 0; k < n_stats; k++) {
    char p[256];
    snprintf(p, sizeof p, "/timeseries/%s", myr_sim_stat_name(sim, k));
    if (!dataset_shape(file, p, &rank, dims, &type)) {
      CHECK(0, "%s missing", p);
      continue;
    }
    CHECK(rank == 1 && dims[0] == ROWS, "%s: rank %d, %llu rows", p, rank, (unsigned long long)dims[0]);
    CHECK(H5Tequal(type, H5T_IEEE_F64LE) > 0, "%s is not f64", p);
    H5Tclose(type);
    double *v = read_all(file, p, H5T_NATIVE_DOUBLE);
    REQUIRE(v, "cannot read %s", p);
    for (int r = 0; r < ROWS; r++)
      CHECK(memcmp(&v[r], &rec[r][k], sizeof(double)) == 0, "%s row %d: %.17g, recorded %.17g", p, r, v[r],
            rec[r][k]);
    free(v);
    hid_t ds = H5Dopen2(file, p, H5P_DEFAULT);
    H5T_class_t cls = H5T_NO_CLASS;
    char *doc = attr_str(ds, "doc", &cls);
    CHECK(doc && cls == H5T_STRING, "%s has no doc attribute", p);
    if (doc && myr_sim_stat_doc(sim, k)) CHECK(strcmp(doc, myr_sim_stat_doc(sim, k)) == 0, "%s doc '%s'", p, doc);
    free(doc);
    H5Dclose(ds);
  }
  CHECK(!strcmp(myr_sim_stat_name(sim, MYR_STAT_POPULATION), "population"), "stat 0 is %s",
        myr_sim_stat_name(sim, MYR_STAT_POPULATION));

  /* The snapshot at step 2 (replaced once) and the final one (compared value by value). */
  {
    hid_t g = H5Gopen2(file, "snapshots", H5P_DEFAULT);
    H5G_info_t gi;
    REQUIRE(g >= 0 && H5Gget_info(g, &gi) >= 0, "no /snapshots");
    CHECK(gi.nlinks == 2, "/snapshots has %llu groups, expected 2", (unsigned long long)gi.nlinks);
    H5Gclose(g);
    REQUIRE(dataset_shape(file, "/snapshots/2/agents/id", &rank, dims, &type), "no snapshot 2");
    H5Tclose(type);
    CHECK_EQ_I64(dims[0], pop_at_2);
  }
  check_snapshot(file, sim, 2, 0);
  check_snapshot(file, sim, 4, 1);
  H5Fclose(file);

  /* `myriad info` on the result. */
  {
    FILE *tmp = tmpfile();
    REQUIRE(tmp, "tmpfile");
    s = myr_output_info(path, tmp, &err);
    CHECK(s == MYR_OK, "info: %s", err.msg);
    long n = ftell(tmp);
    rewind(tmp);
    char *text = calloc((size_t)n + 1, 1);
    REQUIRE(text && fread(text, 1, (size_t)n, tmp) == (size_t)n, "read info");
    fclose(tmp);
    CHECK(strstr(text, "foraging") != NULL, "info lacks the model:\n%s", text);
    CHECK(strstr(text, hex) != NULL, "info lacks the hash:\n%s", text);
    CHECK(strstr(text, "population") != NULL, "info lacks the population series:\n%s", text);
    CHECK(strstr(text, "5 rows") != NULL, "info lacks the row count:\n%s", text);
    CHECK(strstr(text, "step 2 ") != NULL && strstr(text, "step 4 ") != NULL, "info lacks snapshots:\n%s", text);
    printf("%s", text);
    free(text);
  }
  /* ... and on files that are not results. */
  {
    char junk[720];
    snprintf(junk, sizeof junk, "%s/not-hdf5.h5", dir);
    FILE *f = fopen(junk, "w");
    REQUIRE(f, "cannot write %s", junk);
    fputs("hello\n", f);
    fclose(f);
    s = myr_output_info(junk, stdout, &err);
    CHECK(s != MYR_OK && strstr(err.msg, junk), "info on a text file: %s", err.msg);
    snprintf(junk, sizeof junk, "%s/plain.h5", dir);
    hid_t h = H5Fcreate(junk, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    REQUIRE(h >= 0, "cannot create %s", junk);
    H5Fclose(h);
    s = myr_output_info(junk, stdout, &err);
    CHECK(s != MYR_OK && strstr(err.msg, "not a Myriad result"), "info on a plain HDF5 file: %s", err.msg);
    s = myr_output_info("no/such/file.h5", stdout, &err);
    CHECK(s == MYR_ERR_IO, "info on a missing file: %s", err.msg);
  }

  /* A failed run to the same path: only the .part file, the earlier result untouched. */
  {
    uint8_t before[MYR_HASH_BYTES], after[MYR_HASH_BYTES];
    file_digest(path, before);
    s = myr_output_open(&o, path, sim, "cpu", &err);
    REQUIRE(s == MYR_OK, "reopen: %s", err.msg);
    double stats[MYR_ENGINE_STATS + MYR_MAX_STATS];
    myr_sim_stats(sim, stats);
    CHECK(myr_output_record(o, sim->step, stats, &err) == MYR_OK, "record: %s", err.msg);
    s = myr_output_close(o, 0, NULL, 0.25, &err);
    CHECK(s == MYR_OK, "close(ok=0): %s", err.msg);
    CHECK(file_exists(part), "a failed run left no %s", part);
    file_digest(path, after);
    CHECK(memcmp(before, after, MYR_HASH_BYTES) == 0, "a failed run changed %s", path);
    file = H5Fopen(part, H5F_ACC_RDONLY, H5P_DEFAULT);
    CHECK(file >= 0, "the .part file of a failed run is not readable");
    if (file >= 0) {
      meta = H5Gopen2(file, "meta", H5P_DEFAULT);
      check_int_attr(meta, "completed", 0);
      check_str_attr(meta, "state_hash", "");
      H5Gclose(meta);
      CHECK(dataset_shape(file, "/timeseries/step", &rank, dims, &type) && dims[0] == 1,
            "the failed run's row is not in the .part file");
      H5Tclose(type);
      H5Fclose(file);
    }
  }

  /* Errors name the file. */
  s = myr_output_open(&o, "/proc/myriad-no-such-dir/x.h5", sim, "cpu", &err);
  CHECK(s != MYR_OK && o == NULL, "open in /proc succeeded");
  CHECK(strstr(err.msg, "/proc/myriad-no-such-dir") != NULL, "message does not name the path: %s", err.msg);

  myr_sim_destroy(sim);
  myr_config_free(&cfg);

  register_probe();
  probe_file(dir);
  size_cases(dir);
  return check_summary();
}
