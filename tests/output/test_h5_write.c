/* myr__h5_write (sim/h5util.c), the one path of large snapshot and checkpoint writes: chunks
 * filtered on several threads and stored with H5Dwrite_chunk read back, through HDF5's own
 * pipeline, equal to the data written, for 1-D and 2-D datasets whose last chunks are partial
 * in rows, in columns or both, whole datasets or row slabs of whole chunks, 1 to 3 threads,
 * element sizes 1 to 8 (shuffled or not); what it cannot filter itself (other filters, a type
 * conversion, contiguous data) goes through HDF5 and reads back equal too; rows that do not
 * start or end on chunks fail naming the dataset, and a failing write names it. Usage:
 * test_h5_write [DIR] (default ./h5_write.tmp). */
#include <hdf5.h>
#include <string.h>

#include "check.h"
#include "output_util.h"
#include "sim/h5util.h"

/* Deterministic bytes with some runs (compressible) and some noise. */
static void fill(unsigned char *p, size_t n, uint64_t seed) {
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i < n; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    p[i] = (i / 16) % 3 == 0 ? (unsigned char)(i / 64) : (unsigned char)x;
  }
}

enum { PLAIN_PIPELINE = 0, FLETCHER = 1, BIG_ENDIAN_FILE = 2, CONTIGUOUS = 3 };

/* Creates [dims] (rank 1 or 2) of `ftype`, chunked by `chunk`, shuffled and deflated as
 * create_dataset does, or one of the variants myr__h5_write leaves to HDF5. */
static hid_t make_dataset(hid_t file, const char *name, hid_t ftype, int rank, const hsize_t *dims,
                          const hsize_t *chunk, int variant) {
  hid_t space = H5Screate_simple(rank, dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
  REQUIRE(space >= 0 && dcpl >= 0, "%s: dataspace or properties", name);
  if (variant != CONTIGUOUS) {
    REQUIRE(H5Pset_chunk(dcpl, rank, chunk) >= 0, "%s: chunk", name);
    if (variant == FLETCHER) REQUIRE(H5Pset_fletcher32(dcpl) >= 0, "%s: fletcher32", name);
    REQUIRE(H5Pset_shuffle(dcpl) >= 0 && H5Pset_deflate(dcpl, MYR__H5_DEFLATE_LEVEL) >= 0, "%s: filters", name);
  }
  hid_t ds = H5Dcreate2(file, name, ftype, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  REQUIRE(ds >= 0, "create %s", name);
  H5Pclose(dcpl);
  H5Sclose(space);
  return ds;
}

/* Reads `name` whole as `mtype` and compares it with ref (n bytes); prints the first mismatch. */
static void check_read(hid_t file, const char *name, hid_t mtype, const unsigned char *ref, size_t n,
                       const char *what) {
  unsigned char *got = malloc(n);
  REQUIRE(got, "malloc");
  hid_t ds = H5Dopen2(file, name, H5P_DEFAULT);
  int ok = ds >= 0 && H5Dread(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, got) >= 0;
  CHECK(ok, "%s: cannot read %s back", what, name);
  if (ok) {
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < n; i++)
      if (got[i] != ref[i] && bad++ == 0) first = i;
    CHECK(bad == 0, "%s: %zu of %zu bytes of %s differ, the first at byte %zu (%u, expected %u)", what, bad, n,
          name, first, got[first], ref[first]);
  }
  if (ds >= 0) H5Dclose(ds);
  free(got);
}

/* Number of chunks stored for `name`: every chunk of the extent must have been written. */
static hsize_t stored_chunks(hid_t file, const char *name) {
  hid_t ds = H5Dopen2(file, name, H5P_DEFAULT);
  hsize_t n = 0;
  hid_t space = H5Dget_space(ds);
  if (ds < 0 || H5Dget_num_chunks(ds, space, &n) < 0) n = (hsize_t)-1;
  H5Sclose(space);
  H5Dclose(ds);
  return n;
}

typedef struct shape_case {
  const char *name;
  int rank;
  hsize_t dims[2], chunk[2];
  int size;      /* element bytes: 1, 2, 4 or 8 */
  hsize_t slab;  /* rows per myr__h5_write call (a multiple of chunk[0]); 0 = all at once */
  int threads;
} shape_case;

static hid_t uint_type(int size, int big_endian) {
  switch (size) {
  case 1: return H5T_STD_U8LE;
  case 2: return big_endian ? H5T_STD_U16BE : H5T_STD_U16LE;
  case 4: return big_endian ? H5T_STD_U32BE : H5T_STD_U32LE;
  default: return big_endian ? H5T_STD_U64BE : H5T_STD_U64LE;
  }
}

static hid_t native_uint(int size) {
  switch (size) {
  case 1: return H5T_NATIVE_UINT8;
  case 2: return H5T_NATIVE_UINT16;
  case 4: return H5T_NATIVE_UINT32;
  default: return H5T_NATIVE_UINT64;
  }
}

/* Writes the case's data (as `variant`) and reads it back. */
static void run_case(hid_t file, const shape_case *c, int variant, uint64_t seed) {
  char name[128], what[160];
  snprintf(name, sizeof name, "%s-v%d", c->name, variant);
  snprintf(what, sizeof what, "%s (variant %d, %d threads)", c->name, variant, c->threads);
  hsize_t width = c->rank == 2 ? c->dims[1] : 1;
  size_t row_bytes = (size_t)width * (size_t)c->size, n = (size_t)c->dims[0] * row_bytes;
  unsigned char *data = malloc(n > 0 ? n : 1);
  REQUIRE(data, "malloc");
  fill(data, n, seed);
  hid_t ds = make_dataset(file, name, uint_type(c->size, variant == BIG_ENDIAN_FILE), c->rank, c->dims, c->chunk,
                          variant);
  hsize_t slab = c->slab ? c->slab : c->dims[0];
  uint64_t direct0 = myr__h5_direct_chunks;
  myr_error err = {0};
  for (hsize_t r0 = 0; r0 < c->dims[0]; r0 += slab) {
    hsize_t rows = c->dims[0] - r0 < slab ? c->dims[0] - r0 : slab;
    myr_status s = myr__h5_write(ds, native_uint(c->size), r0, rows, data + r0 * row_bytes, c->threads, "test.h5",
                                 name, &err);
    CHECK(s == MYR_OK, "%s: rows %llu+%llu: %s", what, (unsigned long long)r0, (unsigned long long)rows, err.msg);
  }
  H5Dclose(ds);
  check_read(file, name, native_uint(c->size), data, n, what);
  hsize_t want = 1;
  for (int d = 0; d < c->rank; d++) want *= (c->dims[d] + c->chunk[d] - 1) / c->chunk[d];
  if (variant != CONTIGUOUS)
    CHECK(stored_chunks(file, name) == want, "%s: %llu chunks stored, expected %llu", what,
          (unsigned long long)stored_chunks(file, name), (unsigned long long)want);
  /* Only the pipeline create_dataset sets, without a conversion, is filtered here. */
  uint64_t direct = myr__h5_direct_chunks - direct0;
  CHECK(direct == (variant == PLAIN_PIPELINE ? want : 0), "%s: %llu chunks stored directly, expected %llu", what,
        (unsigned long long)direct, (unsigned long long)(variant == PLAIN_PIPELINE ? want : 0));
  free(data);
}

int main(int argc, char **argv) {
  char dir[512], path[700];
  snprintf(dir, sizeof dir, "%s", argc > 1 ? argv[1] : "h5_write.tmp");
  make_dir(dir);
  snprintf(path, sizeof path, "%s/h5_write.h5", dir);
  myr__h5_quiet();
  hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  REQUIRE(file >= 0, "cannot create %s", path);

  static const shape_case cases[] = {
      /* 1-D: whole chunks only, a partial last chunk, a single chunk, slabs of chunks. */
      {"1d-whole", 1, {4000, 0}, {1000, 0}, 8, 0, 2},
      {"1d-partial", 1, {4321, 0}, {1000, 0}, 4, 0, 2},
      {"1d-one-chunk", 1, {700, 0}, {700, 0}, 8, 0, 3},
      {"1d-slabs", 1, {10007, 0}, {1000, 0}, 2, 3000, 2},
      {"1d-bytes", 1, {5001, 0}, {1024, 0}, 1, 2048, 3},
      {"1d-one-thread", 1, {2500, 0}, {1000, 0}, 8, 0, 1},
      /* 2-D: columns with components (chunks of whole rows, a partial last row chunk), a grid
       * chunked in both dimensions with partial chunks along rows, columns and both. */
      {"2d-components", 2, {10001, 3}, {1365, 3}, 8, 2730, 2},
      {"2d-grid", 2, {23, 37}, {5, 8}, 4, 0, 3},
      {"2d-grid-slabs", 2, {23, 37}, {5, 8}, 2, 10, 2},
      {"2d-grid-exact", 2, {20, 40}, {5, 8}, 8, 0, 2},
      {"2d-wide-rows", 2, {3, 70001}, {1, 65536}, 4, 1, 2},
      {"2d-one-chunk", 2, {4, 6}, {4, 6}, 1, 0, 2},
  };
  uint64_t seed = 1;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_case(file, &cases[i], PLAIN_PIPELINE, seed++);
  /* What HDF5 writes itself: another filter, a byte-order conversion, a contiguous dataset. */
  run_case(file, &cases[1], FLETCHER, seed++);
  run_case(file, &cases[7], FLETCHER, seed++);
  run_case(file, &cases[6], BIG_ENDIAN_FILE, seed++);
  run_case(file, &cases[7], CONTIGUOUS, seed++);

  /* Rows that do not start or end on chunks (or at the end) fail, naming the dataset. */
  {
    hsize_t dims[1] = {4000}, chunk[1] = {1000};
    hid_t ds = make_dataset(file, "misaligned", H5T_STD_U64LE, 1, dims, chunk, PLAIN_PIPELINE);
    uint64_t buf[1500] = {0};
    myr_error err = {0};
    myr_status s = myr__h5_write(ds, H5T_NATIVE_UINT64, 500, 1000, buf, 2, "test.h5", "/agents/misaligned", &err);
    CHECK(s == MYR_ERR_INTERNAL && strstr(err.msg, "/agents/misaligned") && strstr(err.msg, "test.h5"),
          "a write starting inside a chunk: %s (%s)", myr_strerror(s), err.msg);
    s = myr__h5_write(ds, H5T_NATIVE_UINT64, 1000, 1500, buf, 2, "test.h5", "/agents/misaligned", &err);
    CHECK(s == MYR_ERR_INTERNAL && strstr(err.msg, "/agents/misaligned"), "a write ending inside a chunk: %s (%s)",
          myr_strerror(s), err.msg);
    printf("misaligned rows -> %s\n", err.msg);
    H5Dclose(ds);
  }
  /* A write that HDF5 refuses (a read-only file) fails naming the chunk and the dataset. */
  REQUIRE(H5Fclose(file) >= 0, "close %s", path);
  {
    file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    REQUIRE(file >= 0, "reopen %s", path);
    hid_t ds = H5Dopen2(file, "1d-whole-v0", H5P_DEFAULT);
    REQUIRE(ds >= 0, "open 1d-whole-v0");
    static uint64_t buf[4000];
    myr_error err = {0};
    myr_status s = myr__h5_write(ds, H5T_NATIVE_UINT64, 0, 4000, buf, 2, "test.h5", "/agents/readonly", &err);
    CHECK(s == MYR_ERR_HDF5 && strstr(err.msg, "/agents/readonly") && strstr(err.msg, "chunk at row 0"),
          "a write to a read-only file: %s (%s)", myr_strerror(s), err.msg);
    printf("read-only file -> %s\n", err.msg);
    H5Dclose(ds);
    H5Fclose(file);
  }
  return check_summary();
}
