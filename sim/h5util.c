/* HDF5 helpers shared by sim/output.c and sim/checkpoint.c (see h5util.h): checked attribute
 * and dataset I/O, column/layer element types, the agents + grid groups written in id order,
 * and the "<path>.part" then rename protocol. Owns nothing between calls.
 *
 * Writing speed: large datasets are chunked, shuffled and deflated, and HDF5 runs that filter
 * pipeline on one thread (at 10M agents most of the final snapshot's time). myr__h5_write
 * runs it here instead, on all threads: each chunk laid out whole in its own row-major order
 * (edge chunks padded with zeros), shuffled as HDF5's shuffle filter does and compressed with
 * zlib's compress2 at the dataset's deflate level into one of threads x CHUNKS_PER_THREAD
 * slots, while the caller's thread stores the finished chunks in order with H5Dwrite_chunk.
 * The filters stay in the dataset's creation properties, so every reader decompresses as
 * before and reads the same values; only the file's bytes may differ. */
#define _POSIX_C_SOURCE 200809L // mkdir
#include "sim/h5util.h"

#include <errno.h>
#include <omp.h>  // omp_get_thread_num: each thread's scratch chunks
#include <sched.h> // sched_yield: a thread waiting for a free slot or the next chunk
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h> // compress2, compressBound: the deflate filter's format, on all threads

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

/* The chunk shape of a [dims[0]] (rank 1) or [dims[0], dims[1]] (rank 2) dataset: 0 when it is
 * small enough to stay contiguous (fewer than MYR__H5_BIG elements), else 1 and about
 * MYR__H5_BIG elements a chunk, whole rows when a row fits. */
static int chunk_shape(int rank, const hsize_t *dims, hsize_t chunk[2]) {
  hsize_t elements = 1;
  for (int d = 0; d < rank; d++) elements *= dims[d];
  if (elements < MYR__H5_BIG) return 0;
  if (rank == 1) {
    chunk[0] = dims[0] < MYR__H5_BIG ? dims[0] : MYR__H5_BIG;
    chunk[1] = 1;
  } else {
    chunk[1] = dims[1] < MYR__H5_BIG ? dims[1] : MYR__H5_BIG;
    hsize_t rows = MYR__H5_BIG / chunk[1];
    if (rows < 1) rows = 1;
    chunk[0] = dims[0] < rows ? dims[0] : rows;
  }
  return 1;
}

/* Creates dataset `name` of `rank` (1 or 2) dims; chunked (chunk_shape), shuffled and deflated
 * when it holds at least MYR__H5_BIG elements. The filters stay in the creation properties, so
 * readers decompress as usual, whether the chunks went through HDF5's pipeline or myr__h5_write. */
static hid_t create_dataset(hid_t loc, const char *name, hid_t ftype, int rank, const hsize_t *dims,
                            const char *file, const char *path, myr_error *err) {
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
  hsize_t chunk[2];
  if (chunk_shape(rank, dims, chunk)) {
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

/* ---- writes: chunks filtered on all threads, then written in order ---------------------- */

/* Filtered chunks in flight per thread: the compressed buffers held at once are threads x this
 * many (each at most compressBound of about MYR__H5_BIG elements), whatever the dataset's size. */
#define CHUNKS_PER_THREAD 4

uint64_t myr__h5_direct_chunks;

/* A dataset's shape, and for one whose chunks myr__h5_write filters itself, how. */
typedef struct chunk_plan {
  int rank;
  hsize_t dims[2], chunk[2]; /* rank 1: dims[1] = chunk[1] = 1 */
  size_t size;               /* bytes of an element */
  size_t shuffle;            /* the shuffle filter's element bytes, 0 without it */
  int level;                 /* the deflate filter's level */
} chunk_plan;

/* Fills p->rank and p->dims, and returns 1 with the rest of *p when the chunks of ds can be
 * filtered here and stored with H5Dwrite_chunk: a chunked layout whose pipeline is deflate,
 * optionally after shuffle (what create_dataset sets), and a memory type equal to the file
 * type (direct writes skip HDF5's conversion). 0 when HDF5 writes it (contiguous, other
 * filters, a conversion), -1 when ds cannot be inspected. */
static int plan_chunks(hid_t ds, hid_t mtype, chunk_plan *p) {
  int ok = -1;
  hid_t dcpl = H5Dget_create_plist(ds), ftype = H5Dget_type(ds), space = H5Dget_space(ds);
  int rank = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
  if (dcpl < 0 || ftype < 0 || rank < 1 || rank > 2) goto done;
  p->rank = rank;
  p->dims[1] = p->chunk[1] = 1;
  if (H5Sget_simple_extent_dims(space, p->dims, NULL) < 0) goto done;
  ok = 0;
  if (H5Pget_layout(dcpl) != H5D_CHUNKED || H5Tequal(ftype, mtype) <= 0) goto done;
  if (H5Pget_chunk(dcpl, rank, p->chunk) != rank || (p->size = H5Tget_size(ftype)) == 0) {
    ok = -1;
    goto done;
  }
  int n = H5Pget_nfilters(dcpl);
  p->shuffle = 0;
  p->level = -1;
  for (int i = 0; i < n; i++) {
    unsigned flags, cd[8], config;
    size_t ncd = 8;
    char name[64];
    H5Z_filter_t f = H5Pget_filter2(dcpl, (unsigned)i, &flags, &ncd, cd, sizeof name, name, &config);
    if (f == H5Z_FILTER_SHUFFLE && i == 0 && n == 2 && ncd >= 1 && cd[0] > 0)
      p->shuffle = cd[0]; /* the element size, set when the dataset was created */
    else if (f == H5Z_FILTER_DEFLATE && i == n - 1 && ncd >= 1 && cd[0] <= 9)
      p->level = (int)cd[0];
    else
      goto done; /* anything else goes through HDF5's own pipeline */
  }
  ok = p->level >= 0;
done: /* on -1, HDF5's error stays for the caller's myr__h5_fail to quote */
  if (space >= 0) H5Sclose(space);
  if (ftype >= 0) H5Tclose(ftype);
  if (dcpl >= 0) H5Pclose(dcpl);
  return ok;
}

/* The chunk whose first element is (r, c), from rows [row0, row_end) of buf (row-major,
 * dims[1] elements a row), as a whole chunk[0] x chunk[1] block in the chunk's own row-major
 * order: a pointer into buf when the chunk is whole rows of it, else a copy in tmp. An edge
 * chunk is stored whole, as HDF5 stores it: zeros (the fill value) past the dataset's extent,
 * which readers never return. */
static const unsigned char *chunk_data(const chunk_plan *p, const unsigned char *buf, hsize_t row0,
                                       hsize_t row_end, hsize_t r, hsize_t c, unsigned char *tmp) {
  size_t sz = p->size, width = p->dims[1], cw = p->chunk[1], ch = p->chunk[0];
  size_t nr = row_end - r < ch ? row_end - r : ch, nc = p->dims[1] - c < cw ? p->dims[1] - c : cw;
  const unsigned char *src = buf + ((r - row0) * width + c) * sz;
  if (nr == ch && cw == width) return src;
  for (size_t i = 0; i < nr; i++) {
    memcpy(tmp + i * cw * sz, src + i * width * sz, nc * sz);
    memset(tmp + (i * cw + nc) * sz, 0, (cw - nc) * sz);
  }
  memset(tmp + nr * cw * sz, 0, (ch - nr) * cw * sz);
  return tmp;
}

/* HDF5's shuffle filter (H5Zshuffle.c): byte k of element e of `size` bytes goes to
 * dst[k * n + e]; bytes past the last whole element are copied as they are. */
static void shuffle(unsigned char *dst, const unsigned char *src, size_t bytes, size_t size) {
  size_t n = bytes / size;
#define SHUFFLE(S)                                                                 \
  for (size_t e = 0; e < n; e++)                                                   \
    for (size_t k = 0; k < (S); k++) dst[k * n + e] = src[e * (S) + k]
  switch (size) {
  case 2: SHUFFLE(2); break;
  case 4: SHUFFLE(4); break;
  case 8: SHUFFLE(8); break;
  default: SHUFFLE(size);
  }
#undef SHUFFLE
  memcpy(dst + n * size, src + n * size, bytes - n * size);
}

/* One whole chunk through p's pipeline: shuffled into tmp (HDF5 skips the shuffle of 1-byte
 * elements and of single elements), then deflated into out (cap bytes) in the zlib format
 * that HDF5's deflate filter writes and reads. The compressed size in *len; zlib's status. */
static int filter_chunk(const chunk_plan *p, const unsigned char *data, unsigned char *tmp,
                        unsigned char *out, size_t cap, size_t *len) {
  size_t bytes = (size_t)(p->chunk[0] * p->chunk[1]) * p->size;
  if (p->shuffle > 1 && bytes / p->shuffle > 1) {
    shuffle(tmp, data, bytes, p->shuffle);
    data = tmp;
  }
  uLongf n = (uLongf)cap;
  int z = compress2(out, &n, data, (uLong)bytes, p->level);
  *len = (size_t)n;
  return z;
}

/* The chunks of one myr__h5_write in flight: a ring of `slots` filtered chunks. Any thread
 * claims the next chunk, filters it into slot i % slots once chunk i - slots has left it, and
 * marks it done; thread 0 (the caller's thread: HDF5 is only called from it) stores done
 * chunks in order, between its own. */
typedef struct chunk_ring {
  const chunk_plan *p;
  hid_t ds;
  hsize_t row0, row_end, across, n_chunks;
  size_t slots, cap;
  unsigned char *out; /* slots x cap */
  size_t *len;        /* compressed bytes of each slot */
  int *z;             /* zlib's status of each slot */
  hsize_t *done;      /* done[k] = i + 1 once chunk i is in slot k */
  hsize_t claimed;    /* chunks handed out (atomic) */
  hsize_t written;    /* chunks stored (thread 0 writes; others read) */
  int stop;           /* set by thread 0 on a failure */
  myr_status status;  /* thread 0's */
  const char *file, *path;
  myr_error *err;
} chunk_ring;

static void chunk_offset(const chunk_ring *g, hsize_t i, hsize_t offset[2]) {
  offset[0] = g->row0 + i / g->across * g->p->chunk[0];
  offset[1] = i % g->across * g->p->chunk[1];
}

/* Thread 0: stores the done chunks that come next in order; on a failure, the message and stop. */
static void store_ready(chunk_ring *g) {
  while (!g->stop && g->written < g->n_chunks) {
    hsize_t i = g->written;
    size_t k = (size_t)(i % g->slots);
    if (__atomic_load_n(&g->done[k], __ATOMIC_ACQUIRE) != i + 1) return;
    hsize_t offset[2];
    chunk_offset(g, i, offset);
    if (g->z[k] == Z_OK && H5Dwrite_chunk(g->ds, H5P_DEFAULT, 0, offset, g->len[k], g->out + k * g->cap) >= 0) {
      __atomic_store_n(&g->written, i + 1, __ATOMIC_RELEASE);
      __atomic_fetch_add(&myr__h5_direct_chunks, 1, __ATOMIC_RELAXED);
      continue;
    }
    char where[96], what[112];
    if (g->p->rank == 1)
      snprintf(where, sizeof where, "the chunk at row %llu of", (unsigned long long)offset[0]);
    else
      snprintf(where, sizeof where, "the chunk at [%llu, %llu] of", (unsigned long long)offset[0],
               (unsigned long long)offset[1]);
    if (g->z[k] != Z_OK) {
      g->status = myr_fail(g->err, g->z[k] == Z_MEM_ERROR ? MYR_ERR_NOMEM : MYR_ERR_INTERNAL,
                           "%s: cannot compress %s %s: zlib error %d", g->file, where, g->path, g->z[k]);
    } else {
      snprintf(what, sizeof what, "write %s", where);
      g->status = myr__h5_fail(g->err, g->file, what, g->path);
    }
    __atomic_store_n(&g->stop, 1, __ATOMIC_RELEASE);
  }
}

/* Each thread: claims chunks, filters them into their slots; thread 0 also stores them. */
static void ring_work(chunk_ring *g, const unsigned char *buf, unsigned char *tmp) {
  const chunk_plan *p = g->p;
  size_t bytes = (size_t)(p->chunk[0] * p->chunk[1]) * p->size;
  int me = omp_get_thread_num();
  while (!__atomic_load_n(&g->stop, __ATOMIC_ACQUIRE)) {
    hsize_t i = __atomic_fetch_add(&g->claimed, 1, __ATOMIC_RELAXED);
    if (i >= g->n_chunks) break;
    /* Slot i % slots is free once chunk i - slots is stored. */
    while (i >= __atomic_load_n(&g->written, __ATOMIC_ACQUIRE) + g->slots &&
           !__atomic_load_n(&g->stop, __ATOMIC_ACQUIRE)) {
      if (me == 0) store_ready(g);
      else sched_yield();
    }
    if (__atomic_load_n(&g->stop, __ATOMIC_ACQUIRE)) break;
    size_t k = (size_t)(i % g->slots);
    hsize_t offset[2];
    chunk_offset(g, i, offset);
    const unsigned char *d = chunk_data(p, buf, g->row0, g->row_end, offset[0], offset[1], tmp);
    g->z[k] = filter_chunk(p, d, tmp + bytes, g->out + k * g->cap, g->cap, &g->len[k]);
    __atomic_store_n(&g->done[k], i + 1, __ATOMIC_RELEASE);
    if (me == 0) store_ready(g);
  }
  if (me != 0) return;
  while (!g->stop && g->written < g->n_chunks) { /* the other threads' last chunks */
    hsize_t before = g->written;
    store_ready(g);
    if (g->written == before) sched_yield();
  }
}

myr_status myr__h5_write(hid_t ds, hid_t mtype, hsize_t row0, hsize_t rows, const void *buf, int threads,
                         const char *file, const char *path, myr_error *err) {
  chunk_plan p;
  int plan = plan_chunks(ds, mtype, &p);
  if (plan < 0) return myr__h5_fail(err, file, "inspect the layout of", path);
  if (rows == 0) return MYR_OK;
  if (plan == 0) return myr__h5_rows(ds, mtype, p.rank, row0, rows, p.dims[1], (void *)buf, 1, file, path, err);

  chunk_ring g = {.p = &p, .ds = ds, .row0 = row0, .row_end = row0 + rows, .file = file, .path = path,
                  .err = err, .status = MYR_OK};
  if (row0 % p.chunk[0] || g.row_end > p.dims[0] || (g.row_end % p.chunk[0] && g.row_end != p.dims[0]))
    return myr_fail(err, MYR_ERR_INTERNAL,
                    "%s: cannot write rows [%llu, %llu) of %s: they must start and end on its chunks of "
                    "%llu rows (or at its end, row %llu)", file, (unsigned long long)row0,
                    (unsigned long long)g.row_end, path, (unsigned long long)p.chunk[0],
                    (unsigned long long)p.dims[0]);
  if (threads < 1) threads = 1;
  g.across = (p.dims[1] + p.chunk[1] - 1) / p.chunk[1];
  g.n_chunks = (rows + p.chunk[0] - 1) / p.chunk[0] * g.across;
  size_t bytes = (size_t)(p.chunk[0] * p.chunk[1]) * p.size;
  g.cap = (size_t)compressBound((uLong)bytes);
  g.slots = (size_t)threads * CHUNKS_PER_THREAD;
  if (g.slots > g.n_chunks) g.slots = (size_t)g.n_chunks;
  g.out = malloc(g.slots * g.cap);
  g.len = malloc(g.slots * sizeof *g.len);
  g.z = malloc(g.slots * sizeof *g.z);
  g.done = calloc(g.slots, sizeof *g.done);
  unsigned char *tmp = malloc((size_t)threads * 2 * bytes);
  if (!g.out || !g.len || !g.z || !g.done || !tmp) {
    g.status = myr_fail(err, MYR_ERR_NOMEM, "%s: out of memory compressing %s (%zu bytes)", file, path,
                        g.slots * g.cap + (size_t)threads * 2 * bytes);
  } else {
#pragma omp parallel num_threads(threads)
    ring_work(&g, buf, tmp + (size_t)omp_get_thread_num() * 2 * bytes);
  }
  free(tmp);
  free(g.done);
  free(g.z);
  free(g.len);
  free(g.out);
  return g.status;
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

/* Rows of an agent column ([n] or [n, comps], row_bytes a row) gathered per slab: whole chunks
 * of rows (myr__h5_write takes chunk-aligned slabs), about GATHER_BYTES, at least one chunk. */
static int64_t slab_rows(int64_t n, int comps, size_t row_bytes) {
  hsize_t dims[2] = {(hsize_t)n, (hsize_t)comps}, chunk[2];
  int64_t unit = chunk_shape(comps == 1 ? 1 : 2, dims, chunk) ? (int64_t)chunk[0] : 1;
  int64_t slab = (int64_t)(GATHER_BYTES / row_bytes);
  slab -= slab % unit;
  if (slab < unit) slab = unit;
  return slab < n ? slab : n;
}

myr_status myr__h5_write_state(hid_t loc, const myr_sim *sim, const char *file,
                               const char *prefix, myr_error *err) {
  const myr_model *m = sim->model;
  const myr_agents *ag = &sim->agents;
  int64_t *order = NULL, n = 0;
  myr_status s = myr_sim_id_order(sim, &order, &n, err);
  if (s != MYR_OK) return s;

  /* One staging buffer: each column is gathered in slabs of whole chunks of rows, about
   * GATHER_BYTES (at least one chunk), which myr__h5_write compresses on all threads. */
  int threads = sim->threads > 0 ? sim->threads : 1;
  size_t buf_bytes = 1;
  for (int c = -1; c < ag->n_columns; c++) {
    if (c >= 0 && m->columns[c].lifetime != MYR_PERSISTENT) continue;
    int comps = c < 0 ? 1 : ag->components[c];
    size_t row_bytes = myr_type_size(c < 0 ? MYR_U64 : m->columns[c].type) * (size_t)comps;
    size_t b = (size_t)slab_rows(n, comps, row_bytes) * row_bytes;
    if (b > buf_bytes) buf_bytes = b;
  }
  void *buf = malloc(buf_bytes);
  if (!buf) {
    free(order);
    return myr_fail(err, MYR_ERR_NOMEM, "%s: out of memory gathering agents (%zu bytes)", file, buf_bytes);
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
    int64_t slab = slab_rows(n, comps, size * (size_t)comps);
    for (int64_t r0 = 0; s == MYR_OK && r0 < n; r0 += slab) {
      int64_t rows = n - r0 < slab ? n - r0 : slab;
      gather(buf, src, size, order + r0, rows, comps, ag->capacity, threads);
      s = myr__h5_write(ds, myr__h5_mem_type(t), (hsize_t)r0, (hsize_t)rows, buf, threads, file, path, err);
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
    s = myr__h5_write(ds, myr__h5_mem_type(ld->type), 0, dims[0], sim->grid.layer[l], threads, file, path, err);
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
