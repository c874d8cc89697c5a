/* HDF5 helpers shared by sim/output.c and sim/checkpoint.c (see h5util.h): checked attribute
 * and dataset I/O, column/layer element types, the agents + grid groups written in id order,
 * and the "<path>.part" then rename protocol. Owns nothing between calls. */
#define _POSIX_C_SOURCE 200809L // mkdir
#include "sim/h5util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Bytes of the staging buffer that agent columns are gathered into, slab by slab. */
#ifndef MYR__H5_SLAB_BYTES /* compile-time override, for testing slab boundaries */
#define MYR__H5_SLAB_BYTES ((size_t)32 << 20)
#endif
#define GATHER_BYTES MYR__H5_SLAB_BYTES

void myr__h5_quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

/* Keeps the description of the innermost error (where HDF5 detected it). */
static herr_t innermost(unsigned n, const H5E_error2_t *e, void *data) {
  if (n == 0 && e->desc) snprintf((char *)data, 256, "%s", e->desc);
  return 0;
}

myr_status myr__h5_fail(myr_error *err, const char *file, const char *what, const char *obj) {
  char why[256] = "";
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost, why);
  H5Eclear2(H5E_DEFAULT);
  return myr_fail(err, MYR_ERR_HDF5, "%s: cannot %s %s%s%s", file, what, obj, why[0] ? ": " : "",
                  why);
}

hid_t myr__h5_file_type(myr_type t) {
  switch (t) {
  case MYR_U8: return H5T_STD_U8LE;
  case MYR_I32: return H5T_STD_I32LE;
  case MYR_U32: return H5T_STD_U32LE;
  case MYR_I64: return H5T_STD_I64LE;
  case MYR_U64: return H5T_STD_U64LE;
  case MYR_F32: return H5T_IEEE_F32LE;
  case MYR_F64: return H5T_IEEE_F64LE;
  default: return -1;
  }
}

hid_t myr__h5_mem_type(myr_type t) {
  switch (t) {
  case MYR_U8: return H5T_NATIVE_UINT8;
  case MYR_I32: return H5T_NATIVE_INT32;
  case MYR_U32: return H5T_NATIVE_UINT32;
  case MYR_I64: return H5T_NATIVE_INT64;
  case MYR_U64: return H5T_NATIVE_UINT64;
  case MYR_F32: return H5T_NATIVE_FLOAT;
  case MYR_F64: return H5T_NATIVE_DOUBLE;
  default: return -1;
  }
}

myr_status myr__mkparent(const char *path, myr_error *err) {
  size_t len = strlen(path);
  char *dir = malloc(len + 1);
  if (!dir) return myr_fail(err, MYR_ERR_NOMEM, "%s: out of memory (%zu bytes)", path, len + 1);
  memcpy(dir, path, len + 1);
  char *slash = strrchr(dir, '/');
  if (!slash || slash == dir) {
    free(dir);
    return MYR_OK;
  }
  *slash = '\0';
  for (char *p = dir + 1; ; p++) {
    if (*p == '/' || *p == '\0') {
      char c = *p;
      *p = '\0';
      if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        int e = errno;
        myr_status s = myr_fail(err, MYR_ERR_IO, "%s: cannot create folder %s: %s", path, dir,
                                strerror(e));
        free(dir);
        return s;
      }
      *p = c;
      if (c == '\0') break;
    }
  }
  free(dir);
  return MYR_OK;
}

char *myr__part_path(const char *path) {
  size_t len = strlen(path);
  char *part = malloc(len + sizeof ".part");
  if (part) {
    memcpy(part, path, len);
    memcpy(part + len, ".part", sizeof ".part");
  }
  return part;
}

myr_status myr__commit_part(const char *part, const char *path, myr_error *err) {
  if (rename(part, path) != 0)
    return myr_fail(err, MYR_ERR_IO, "cannot rename %s to %s: %s", part, path, strerror(errno));
  return MYR_OK;
}

/* ---- attributes ---------------------------------------------------------------------- */

static myr_status put_attr(hid_t obj, const char *name, hid_t ftype, hid_t mtype, const void *buf,
                           const char *file, const char *where, myr_error *err) {
  char desc[512];
  snprintf(desc, sizeof desc, "%s attribute %s", where, name);
  htri_t has = H5Aexists(obj, name);
  if (has < 0 || (has > 0 && H5Adelete(obj, name) < 0))
    return myr__h5_fail(err, file, "replace", desc);
  hid_t space = H5Screate(H5S_SCALAR);
  if (space < 0) return myr__h5_fail(err, file, "make a dataspace for", desc);
  hid_t a = H5Acreate2(obj, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT);
  H5Sclose(space);
  if (a < 0) return myr__h5_fail(err, file, "create", desc);
  if (H5Awrite(a, mtype, buf) < 0) {
    myr_status s = myr__h5_fail(err, file, "write", desc);
    H5Aclose(a);
    return s;
  }
  if (H5Aclose(a) < 0) return myr__h5_fail(err, file, "close", desc);
  return MYR_OK;
}

static hid_t vlen_string_type(void) {
  hid_t t = H5Tcopy(H5T_C_S1);
  if (t < 0) return -1;
  if (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
    H5Tclose(t);
    return -1;
  }
  return t;
}

myr_status myr__h5_put_str(hid_t obj, const char *name, const char *value, const char *file,
                           const char *where, myr_error *err) {
  hid_t t = vlen_string_type();
  if (t < 0) return myr__h5_fail(err, file, "make a string type for", where);
  const char *v = value ? value : "";
  myr_status s = put_attr(obj, name, t, t, &v, file, where, err);
  H5Tclose(t);
  return s;
}

myr_status myr__h5_put_i64(hid_t obj, const char *name, int64_t value, const char *file,
                           const char *where, myr_error *err) {
  return put_attr(obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value, file, where, err);
}

myr_status myr__h5_put_u64(hid_t obj, const char *name, uint64_t value, const char *file,
                           const char *where, myr_error *err) {
  return put_attr(obj, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, &value, file, where, err);
}

myr_status myr__h5_put_f64(hid_t obj, const char *name, double value, const char *file,
                           const char *where, myr_error *err) {
  return put_attr(obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value, file, where, err);
}

int myr__h5_has_attr(hid_t obj, const char *name) {
  htri_t has = H5Aexists(obj, name);
  if (has < 0) H5Eclear2(H5E_DEFAULT);
  return has > 0;
}

/* Opens attribute `name` and checks that it holds one element of type class `cls`. */
static hid_t open_scalar_attr(hid_t obj, const char *name, H5T_class_t cls, hid_t *type,
                              const char *file, const char *where, myr_error *err) {
  char desc[512];
  snprintf(desc, sizeof desc, "%s attribute %s", where, name);
  hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  if (a < 0) {
    myr__h5_fail(err, file, "open", desc);
    return -1;
  }
  hid_t space = H5Aget_space(a);
  hssize_t npoints = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
  if (space >= 0) H5Sclose(space);
  hid_t t = H5Aget_type(a);
  H5T_class_t c = t >= 0 ? H5Tget_class(t) : H5T_NO_CLASS;
  int ok = npoints == 1 &&
           (c == cls || (cls == H5T_INTEGER && c == H5T_FLOAT) || (cls == H5T_FLOAT && c == H5T_INTEGER));
  if (!ok) {
    H5Eclear2(H5E_DEFAULT);
    myr_fail(err, MYR_ERR_HDF5, "%s: %s is not a single %s", file, desc,
             cls == H5T_STRING ? "string" : "number");
    if (t >= 0) H5Tclose(t);
    H5Aclose(a);
    return -1;
  }
  *type = t;
  return a;
}

myr_status myr__h5_get_str(hid_t obj, const char *name, char **value, const char *file,
                           const char *where, myr_error *err) {
  char desc[512];
  snprintf(desc, sizeof desc, "%s attribute %s", where, name);
  *value = NULL;
  hid_t ftype;
  hid_t a = open_scalar_attr(obj, name, H5T_STRING, &ftype, file, where, err);
  if (a < 0) return err ? err->status : MYR_ERR_HDF5;
  myr_status s = MYR_OK;
  htri_t var = H5Tis_variable_str(ftype);
  if (var > 0) {
    hid_t mtype = vlen_string_type();
    char *p = NULL;
    if (mtype < 0 || H5Tset_cset(mtype, H5Tget_cset(ftype)) < 0 || H5Aread(a, mtype, &p) < 0) {
      s = myr__h5_fail(err, file, "read", desc);
    } else {
      size_t len = p ? strlen(p) : 0;
      *value = malloc(len + 1);
      if (!*value) {
        s = myr_fail(err, MYR_ERR_NOMEM, "%s: out of memory reading %s", file, desc);
      } else {
        if (len) memcpy(*value, p, len);
        (*value)[len] = '\0';
      }
      if (p) H5free_memory(p);
    }
    if (mtype >= 0) H5Tclose(mtype);
  } else if (var == 0) {
    size_t size = H5Tget_size(ftype);
    *value = calloc(size + 1, 1);
    if (!*value) {
      s = myr_fail(err, MYR_ERR_NOMEM, "%s: out of memory reading %s", file, desc);
    } else if (H5Aread(a, ftype, *value) < 0) {
      s = myr__h5_fail(err, file, "read", desc);
      free(*value);
      *value = NULL;
    }
  } else {
    s = myr__h5_fail(err, file, "inspect the type of", desc);
  }
  H5Tclose(ftype);
  H5Aclose(a);
  return s;
}

static myr_status get_num(hid_t obj, const char *name, hid_t mtype, void *value, const char *file,
                          const char *where, myr_error *err) {
  char desc[512];
  snprintf(desc, sizeof desc, "%s attribute %s", where, name);
  hid_t ftype;
  hid_t a = open_scalar_attr(obj, name, H5T_INTEGER, &ftype, file, where, err);
  if (a < 0) return err ? err->status : MYR_ERR_HDF5;
  myr_status s = MYR_OK;
  if (H5Aread(a, mtype, value) < 0) s = myr__h5_fail(err, file, "read", desc);
  H5Tclose(ftype);
  H5Aclose(a);
  return s;
}

myr_status myr__h5_get_i64(hid_t obj, const char *name, int64_t *value, const char *file,
                           const char *where, myr_error *err) {
  return get_num(obj, name, H5T_NATIVE_INT64, value, file, where, err);
}

myr_status myr__h5_get_u64(hid_t obj, const char *name, uint64_t *value, const char *file,
                           const char *where, myr_error *err) {
  return get_num(obj, name, H5T_NATIVE_UINT64, value, file, where, err);
}

myr_status myr__h5_get_f64(hid_t obj, const char *name, double *value, const char *file,
                           const char *where, myr_error *err) {
  return get_num(obj, name, H5T_NATIVE_DOUBLE, value, file, where, err);
}

/* ---- groups and datasets --------------------------------------------------------------- */

myr_status myr__h5_group(hid_t loc, const char *name, hid_t *group, const char *file,
                         const char *path, myr_error *err) {
  *group = H5Gcreate2(loc, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (*group < 0) return myr__h5_fail(err, file, "create group", path);
  return MYR_OK;
}

int myr__h5_exists(hid_t loc, const char *name) {
  char buf[1024];
  size_t len = strlen(name);
  if (len == 0 || len >= sizeof buf) return 0;
  memcpy(buf, name, len + 1);
  /* Each intermediate link must exist before H5Lexists may be asked about the next. */
  for (char *p = buf; ; p++) {
    if (*p == '/' || *p == '\0') {
      char c = *p;
      *p = '\0';
      if (buf[0]) {
        htri_t has = H5Lexists(loc, buf, H5P_DEFAULT);
        if (has <= 0) {
          H5Eclear2(H5E_DEFAULT);
          return 0;
        }
      }
      *p = c;
      if (c == '\0') break;
    }
  }
  return 1;
}

/* Creates dataset `name` of `rank` (1 or 2) dims; chunked, shuffled and deflated when it holds
 * at least MYR__H5_BIG elements. */
static hid_t create_dataset(hid_t loc, const char *name, hid_t ftype, int rank, const hsize_t *dims,
                            const char *file, const char *path, myr_error *err) {
  hsize_t elements = 1;
  for (int d = 0; d < rank; d++) elements *= dims[d];
  hid_t space = H5Screate_simple(rank, dims, NULL);
  if (space < 0) {
    myr__h5_fail(err, file, "make the dataspace of", path);
    return -1;
  }
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  if (dcpl < 0) {
    H5Sclose(space);
    myr__h5_fail(err, file, "make the creation properties of", path);
    return -1;
  }
  if (elements >= MYR__H5_BIG) {
    hsize_t chunk[2];
    if (rank == 1) {
      chunk[0] = dims[0] < MYR__H5_BIG ? dims[0] : MYR__H5_BIG;
    } else {
      chunk[1] = dims[1] < MYR__H5_BIG ? dims[1] : MYR__H5_BIG;
      hsize_t rows = MYR__H5_BIG / chunk[1];
      if (rows < 1) rows = 1;
      chunk[0] = dims[0] < rows ? dims[0] : rows;
    }
    herr_t r = H5Pset_chunk(dcpl, rank, chunk);
    if (r >= 0 && H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0) {
      r = H5Pset_shuffle(dcpl);
      if (r >= 0) r = H5Pset_deflate(dcpl, MYR__H5_DEFLATE_LEVEL);
    }
    if (r < 0) {
      H5Pclose(dcpl);
      H5Sclose(space);
      myr__h5_fail(err, file, "set chunking and compression of", path);
      return -1;
    }
  }
  hid_t ds = H5Dcreate2(loc, name, ftype, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  H5Pclose(dcpl);
  H5Sclose(space);
  if (ds < 0) myr__h5_fail(err, file, "create dataset", path);
  return ds;
}

myr_status myr__h5_rows(hid_t ds, hid_t mtype, int rank, hsize_t row0, hsize_t rows, hsize_t width, void *buf,
                        int writing, const char *file, const char *path, myr_error *err) {
  hsize_t start[2] = {row0, 0}, count[2] = {rows, width};
  hid_t fspace = H5Dget_space(ds);
  hid_t mspace = H5Screate_simple(rank, count, NULL);
  herr_t r = fspace >= 0 && mspace >= 0 ? 0 : -1;
  if (r >= 0) r = H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL);
  if (r >= 0)
    r = writing ? H5Dwrite(ds, mtype, mspace, fspace, H5P_DEFAULT, buf) : H5Dread(ds, mtype, mspace, fspace, H5P_DEFAULT, buf);
  if (mspace >= 0) H5Sclose(mspace);
  if (fspace >= 0) H5Sclose(fspace);
  if (r < 0) return myr__h5_fail(err, file, writing ? "write" : "read", path);
  return MYR_OK;
}

/* dst[j * comps + k] = src[k * cap + order[j]] for j < m, elements of `size` bytes; random
 * reads when slots are not in id order, so shared by `threads`. */
static void gather(void *dst, const void *src, size_t size, const int64_t *order, int64_t m,
                   int comps, int64_t cap, int threads) {
#define GATHER(T)                                                                  \
  do {                                                                             \
    T *d = (T *)dst;                                                               \
    const T *s = (const T *)src;                                                   \
    _Pragma("omp parallel for schedule(static) num_threads(threads)")             \
    for (int64_t j = 0; j < m; j++) {                                              \
      if (j + 16 < m) __builtin_prefetch(&s[order[j + 16]]);                       \
      for (int k = 0; k < comps; k++) d[j * comps + k] = s[(int64_t)k * cap + order[j]]; \
    }                                                                              \
  } while (0)
  switch (size) {
  case 1: GATHER(uint8_t); break;
  case 4: GATHER(uint32_t); break;
  case 8: GATHER(uint64_t); break;
  default:
#pragma omp parallel for schedule(static) num_threads(threads)
    for (int64_t j = 0; j < m; j++)
      for (int k = 0; k < comps; k++)
        memcpy((char *)dst + ((size_t)j * comps + k) * size,
               (const char *)src + ((size_t)k * cap + order[j]) * size, size);
  }
#undef GATHER
}

myr_status myr__h5_write_state(hid_t loc, const myr_sim *sim, const char *file,
                               const char *prefix, myr_error *err) {
  const myr_model *m = sim->model;
  const myr_agents *ag = &sim->agents;
  int64_t *order = NULL, n = 0;
  myr_status s = myr_sim_id_order(sim, &order, &n, err);
  if (s != MYR_OK) return s;

  /* One staging buffer of at most GATHER_BYTES (or one row): slabs of the widest column. */
  size_t row_bytes = sizeof(uint64_t);
  for (int c = 0; c < ag->n_columns; c++) {
    if (m->columns[c].lifetime != MYR_PERSISTENT) continue;
    size_t b = myr_type_size(m->columns[c].type) * (size_t)ag->components[c];
    if (b > row_bytes) row_bytes = b;
  }
  int64_t slab = (int64_t)(GATHER_BYTES / row_bytes);
  if (slab < 1) slab = 1;
  if (slab > n) slab = n;
  void *buf = malloc((size_t)(slab > 0 ? slab : 1) * row_bytes);
  if (!buf) {
    free(order);
    return myr_fail(err, MYR_ERR_NOMEM, "%s: out of memory gathering agents (%zu bytes)", file,
                    (size_t)slab * row_bytes);
  }

  char path[1024];
  hid_t agents = -1, grid = -1;
  snprintf(path, sizeof path, "%s/agents", prefix);
  s = myr__h5_group(loc, "agents", &agents, file, path, err);

  /* agents/id, then each persistent column, gathered in id order slab by slab. */
  for (int c = -1; s == MYR_OK && c < ag->n_columns; c++) {
    const char *name = c < 0 ? "id" : m->columns[c].name;
    myr_type t = c < 0 ? MYR_U64 : m->columns[c].type;
    int comps = c < 0 ? 1 : ag->components[c];
    const void *src = c < 0 ? (const void *)ag->id : ag->col[c];
    if (c >= 0 && m->columns[c].lifetime != MYR_PERSISTENT) continue;
    snprintf(path, sizeof path, "%s/agents/%s", prefix, name);
    hsize_t dims[2] = {(hsize_t)n, (hsize_t)comps};
    int rank = comps == 1 ? 1 : 2;
    hid_t ds = create_dataset(agents, name, myr__h5_file_type(t), rank, dims, file, path, err);
    if (ds < 0) {
      s = err ? err->status : MYR_ERR_HDF5;
      break;
    }
    size_t size = myr_type_size(t);
    for (int64_t r0 = 0; s == MYR_OK && r0 < n; r0 += slab) {
      int64_t rows = n - r0 < slab ? n - r0 : slab;
      gather(buf, src, size, order + r0, rows, comps, ag->capacity, sim->threads > 0 ? sim->threads : 1);
      s = myr__h5_rows(ds, myr__h5_mem_type(t), rank, (hsize_t)r0, (hsize_t)rows, (hsize_t)comps, buf, 1,
                       file, path, err);
    }
    if (H5Dclose(ds) < 0 && s == MYR_OK) s = myr__h5_fail(err, file, "close", path);
  }

  /* grid/<layer>: layers are row-major [height][width] in memory already. */
  snprintf(path, sizeof path, "%s/grid", prefix);
  if (s == MYR_OK) s = myr__h5_group(loc, "grid", &grid, file, path, err);
  for (int l = 0; s == MYR_OK && l < sim->grid.n_layers; l++) {
    const myr_layer_desc *ld = &m->layers[l];
    if (ld->lifetime != MYR_PERSISTENT) continue;
    snprintf(path, sizeof path, "%s/grid/%s", prefix, ld->name);
    hsize_t dims[2] = {(hsize_t)sim->grid.height, (hsize_t)sim->grid.width};
    hid_t ds = create_dataset(grid, ld->name, myr__h5_file_type(ld->type), 2, dims, file, path, err);
    if (ds < 0) {
      s = err ? err->status : MYR_ERR_HDF5;
      break;
    }
    if (dims[0] * dims[1] > 0 &&
        H5Dwrite(ds, myr__h5_mem_type(ld->type), H5S_ALL, H5S_ALL, H5P_DEFAULT, sim->grid.layer[l]) < 0)
      s = myr__h5_fail(err, file, "write", path);
    if (H5Dclose(ds) < 0 && s == MYR_OK) s = myr__h5_fail(err, file, "close", path);
  }

  if (grid >= 0) H5Gclose(grid);
  if (agents >= 0) H5Gclose(agents);
  free(buf);
  free(order);
  return s;
}

myr_status myr__h5_dims(hid_t loc, const char *name, int *rank, hsize_t dims[2], const char *file,
                        myr_error *err) {
  hid_t ds = H5Dopen2(loc, name, H5P_DEFAULT);
  if (ds < 0) return myr__h5_fail(err, file, "open dataset", name);
  hid_t space = H5Dget_space(ds);
  int r = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
  myr_status s = MYR_OK;
  if (r < 0) {
    s = myr__h5_fail(err, file, "read the shape of", name);
  } else if (r > 2) {
    s = myr_fail(err, MYR_ERR_HDF5, "%s: dataset %s has %d dimensions (expected 1 or 2)", file,
                 name, r);
  } else {
    dims[0] = dims[1] = 1;
    if (r > 0) H5Sget_simple_extent_dims(space, dims, NULL);
    *rank = r;
  }
  if (space >= 0) H5Sclose(space);
  H5Dclose(ds);
  return s;
}
