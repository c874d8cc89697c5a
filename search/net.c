/* The policy-value network on the host (search/net.h): shapes and the flat weight layout,
 * He-uniform initialisation from the counter RNG, HDF5 save/load, and the batched CPU forward
 * pass (OpenMP over rows, each row through myr_net_forward_row). A myr_net owns its weights
 * (one malloc, freed by myr_net_free); nothing else is kept between calls. */
#include "search/net.h"

#include <hdf5.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/h5util.h" // myr__h5_*: checked attributes, quiet errors, "<path>.part"
#include "sim/rng.h"    // myr_rng_*: the weights' random numbers

_Static_assert(sizeof(hid_t) == sizeof(int64_t), "myr_net_*_h5 pass an hid_t as int64_t");

#define MYR_NET_MAX_ACTIONS 32 /* the legal-action mask is a uint32_t */

char *myr_net_shape_str(const myr_net_shape *s, char *buf, size_t n) {
  size_t used = 0;
  if (n) buf[0] = '\0';
  for (int l = 0; l <= s->layers && l <= MYR_NET_MAX_LAYERS && used < n; l++) {
    int w = snprintf(buf + used, n - used, "%s%d", l ? "-" : "", s->size[l]);
    if (w < 0) break;
    used += (size_t)w;
  }
  return buf;
}

int myr_net_shape_equal(const myr_net_shape *a, const myr_net_shape *b) {
  if (a->layers != b->layers) return 0;
  for (int l = 0; l <= a->layers && l <= MYR_NET_MAX_LAYERS; l++)
    if (a->size[l] != b->size[l]) return 0;
  return 1;
}

/* The name of size[l] in messages. */
static const char *size_name(const myr_net_shape *s, int l, char *buf, size_t n) {
  if (l == 0) snprintf(buf, n, "inputs");
  else if (l == s->layers) snprintf(buf, n, "outputs (actions + 1)");
  else snprintf(buf, n, "hidden layer %d", l);
  return buf;
}

/* Checks layers and every width; `where` prefixes the message (a file, or "network"). */
static myr_status check_shape(const myr_net_shape *s, const char *where, myr_status code,
                              myr_error *err) {
  if (s->layers < 1 || s->layers > MYR_NET_MAX_LAYERS)
    return myr_fail(err, code, "%s: %d weight layers (hidden layers + 1), expected 1 to %d", where,
                    s->layers, MYR_NET_MAX_LAYERS);
  for (int l = 0; l <= s->layers; l++) {
    char name[32];
    if (s->size[l] < 1 || s->size[l] > MYR_NET_MAX_WIDTH)
      return myr_fail(err, code, "%s: %s has width %d, expected 1 to %d", where,
                      size_name(s, l, name, sizeof name), s->size[l], MYR_NET_MAX_WIDTH);
  }
  int actions = s->size[s->layers] - 1;
  if (actions < 1 || actions > MYR_NET_MAX_ACTIONS)
    return myr_fail(err, code, "%s: %d actions (outputs - 1), expected 1 to %d", where, actions,
                    MYR_NET_MAX_ACTIONS);
  return MYR_OK;
}

myr_status myr_net_shape_make(myr_net_shape *s, int inputs, const int *hidden, int n_hidden, int actions,
                              myr_error *err) {
  memset(s, 0, sizeof *s);
  if (n_hidden < 0 || n_hidden > MYR_NET_MAX_LAYERS - 1)
    return myr_fail(err, MYR_ERR_CONFIG, "network: %d hidden layers, expected 0 to %d", n_hidden,
                    MYR_NET_MAX_LAYERS - 1);
  if (actions < 1 || actions > MYR_NET_MAX_ACTIONS)
    return myr_fail(err, MYR_ERR_CONFIG, "network: %d actions, expected 1 to %d", actions,
                    MYR_NET_MAX_ACTIONS);
  s->layers = n_hidden + 1;
  s->size[0] = inputs;
  for (int l = 0; l < n_hidden; l++) s->size[l + 1] = hidden[l];
  s->size[s->layers] = actions + 1;
  myr_status st = check_shape(s, "network", MYR_ERR_CONFIG, err);
  if (st != MYR_OK) memset(s, 0, sizeof *s);
  return st;
}

size_t myr_net_weight_offset(const myr_net_shape *s, int l) {
  size_t off = 0;
  for (int i = 0; i < l; i++) off += (size_t)s->size[i + 1] * ((size_t)s->size[i] + 1);
  return off;
}

size_t myr_net_bias_offset(const myr_net_shape *s, int l) {
  return myr_net_weight_offset(s, l) + (size_t)s->size[l + 1] * (size_t)s->size[l];
}

size_t myr_net_param_count(const myr_net_shape *s) { return myr_net_weight_offset(s, s->layers); }

myr_status myr_net_create(myr_net *net, const myr_net_shape *s, uint32_t seed, myr_error *err) {
  memset(net, 0, sizeof *net);
  myr_status st = check_shape(s, "network", MYR_ERR_CONFIG, err);
  if (st != MYR_OK) return st;
  size_t n = myr_net_param_count(s);
  float *w = malloc(n * sizeof *w);
  if (!w) return myr_fail(err, MYR_ERR_NOMEM, "network: out of memory (%zu parameters)", n);
  /* Layer l draws from its own stream (key l, purpose TRAIN, step 0), weights in storage order
   * (output j, then input k): U(-sqrt(6 / fan_in), sqrt(6 / fan_in)); biases 0. */
  for (int l = 0; l < s->layers; l++) {
    myr_rng r = myr_rng_make(seed, (uint64_t)l, 0, MYR_RNG_TRAIN);
    size_t fan_in = (size_t)s->size[l], fan_out = (size_t)s->size[l + 1];
    double bound = sqrt(6.0 / (double)fan_in);
    float *W = w + myr_net_weight_offset(s, l), *b = w + myr_net_bias_offset(s, l);
    for (size_t i = 0; i < fan_out * fan_in; i++)
      W[i] = (float)((2.0 * myr_rng_uniform_double(&r) - 1.0) * bound);
    for (size_t j = 0; j < fan_out; j++) b[j] = 0.0f;
  }
  net->shape = *s;
  net->w = w;
  net->n_params = n;
  return MYR_OK;
}

void myr_net_free(myr_net *net) {
  if (!net) return;
  free(net->w);
  net->w = NULL;
  net->n_params = 0;
}

myr_net_view myr_net_view_of(const myr_net *net) {
  myr_net_view v;
  v.shape = net->shape;
  v.w = net->w;
  v.precision = MYR_NET_FP32;
  v.w16 = NULL;
  return v;
}

#ifdef MYRIAD_HAVE_CUDA
int myr__net_cuda_capability(void); /* net.cu: major * 10 + minor of the current device, or -1 */
#endif

myr_status myr_net_bf16_check(const myr_net_shape *s, int cuda, myr_error *err) {
  for (int l = 0; l <= s->layers; l++)
    if (s->size[l] > MYR_NET_BF16_MAX_WIDTH) {
      char sh[MYR_NET_SHAPE_STR];
      return myr_fail(err, MYR_ERR_CONFIG,
                      "network.precision: bf16 takes layers of at most %d units; the network is %s "
                      "(use network.precision: fp32)", MYR_NET_BF16_MAX_WIDTH, myr_net_shape_str(s, sh, sizeof sh));
    }
  if (!cuda) return MYR_OK;
#ifdef MYRIAD_HAVE_CUDA
  int cc = myr__net_cuda_capability();
  if (cc < 0) return myr_fail(err, MYR_ERR_BACKEND, "network.precision: bf16 on the GPU, and no CUDA device is usable");
  if (cc < 80)
    return myr_fail(err, MYR_ERR_BACKEND,
                    "network.precision: bf16 needs tensor cores with bf16 (compute capability 8.0 or newer); this "
                    "GPU has %d.%d (use network.precision: fp32)", cc / 10, cc % 10);
  return MYR_OK;
#else
  return myr_fail(err, MYR_ERR_BACKEND, "network.precision: bf16 on the GPU needs a CUDA build");
#endif
}

/* ---- HDF5 ------------------------------------------------------------------------------ */

myr_status myr_net_write_h5(const myr_net *net, int64_t loc, const char *file, myr_error *err) {
  myr__h5_quiet();
  myr_status st = check_shape(&net->shape, file, MYR_ERR_INTERNAL, err);
  if (st != MYR_OK) return st;
  hid_t g = -1, space = -1, set = -1, aspace = -1, attr = -1;
  st = myr__h5_group((hid_t)loc, "network", &g, file, "/network", err);
  if (st == MYR_OK) st = myr__h5_put_i64(g, "layers", net->shape.layers, file, "/network", err);
  if (st == MYR_OK) {
    int64_t sizes[MYR_NET_MAX_LAYERS + 1];
    hsize_t ns = (hsize_t)net->shape.layers + 1;
    for (int l = 0; l <= net->shape.layers; l++) sizes[l] = net->shape.size[l];
    aspace = H5Screate_simple(1, &ns, NULL);
    if (aspace < 0) st = myr__h5_fail(err, file, "make a dataspace for", "/network attribute sizes");
    if (st == MYR_OK) {
      attr = H5Acreate2(g, "sizes", H5T_STD_I64LE, aspace, H5P_DEFAULT, H5P_DEFAULT);
      if (attr < 0) st = myr__h5_fail(err, file, "create", "/network attribute sizes");
    }
    if (st == MYR_OK && H5Awrite(attr, H5T_NATIVE_INT64, sizes) < 0)
      st = myr__h5_fail(err, file, "write", "/network attribute sizes");
  }
  if (st == MYR_OK) {
    hsize_t n = (hsize_t)net->n_params;
    space = H5Screate_simple(1, &n, NULL);
    if (space < 0) st = myr__h5_fail(err, file, "make a dataspace for", "/network/weights");
    if (st == MYR_OK) {
      set = H5Dcreate2(g, "weights", H5T_IEEE_F32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
      if (set < 0) st = myr__h5_fail(err, file, "create", "/network/weights");
    }
    if (st == MYR_OK && H5Dwrite(set, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, net->w) < 0)
      st = myr__h5_fail(err, file, "write", "/network/weights");
  }
  if (attr >= 0 && H5Aclose(attr) < 0 && st == MYR_OK)
    st = myr__h5_fail(err, file, "close", "/network attribute sizes");
  if (aspace >= 0) H5Sclose(aspace);
  if (set >= 0 && H5Dclose(set) < 0 && st == MYR_OK) st = myr__h5_fail(err, file, "close", "/network/weights");
  if (space >= 0) H5Sclose(space);
  if (g >= 0 && H5Gclose(g) < 0 && st == MYR_OK) st = myr__h5_fail(err, file, "close", "/network");
  return st;
}

/* Reads the i64 array attribute sizes (at most MYR_NET_MAX_LAYERS + 1 values) into s->size;
 * *count gets its length. */
static myr_status read_sizes(hid_t g, myr_net_shape *s, int *count, const char *file, myr_error *err) {
  const char *what = "/network attribute sizes";
  hid_t a = H5Aopen(g, "sizes", H5P_DEFAULT);
  if (a < 0) return myr__h5_fail(err, file, "open", what);
  myr_status st = MYR_OK;
  hid_t space = H5Aget_space(a);
  hssize_t n = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
  int rank = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
  if (n < 0 || rank < 0) st = myr__h5_fail(err, file, "inspect", what);
  else if (rank != 1 || n < 2 || n > MYR_NET_MAX_LAYERS + 1)
    st = myr_fail(err, MYR_ERR_CHECKPOINT, "%s: %s holds %lld values, expected 2 to %d", file, what,
                  (long long)n, MYR_NET_MAX_LAYERS + 1);
  int64_t v[MYR_NET_MAX_LAYERS + 1];
  if (st == MYR_OK && H5Aread(a, H5T_NATIVE_INT64, v) < 0) st = myr__h5_fail(err, file, "read", what);
  if (st == MYR_OK) {
    for (hssize_t i = 0; i < n; i++)
      s->size[i] = v[i] < 0 || v[i] > MYR_NET_MAX_WIDTH ? -1 : (int)v[i]; /* -1: check_shape says */
    *count = (int)n;
  }
  if (space >= 0) H5Sclose(space);
  if (H5Aclose(a) < 0 && st == MYR_OK) st = myr__h5_fail(err, file, "close", what);
  return st;
}

/* Says how `got` (in the file) differs from `want` (this run). */
static myr_status shape_mismatch(const myr_net_shape *got, const myr_net_shape *want, const char *file,
                                 myr_error *err) {
  char g[MYR_NET_SHAPE_STR], w[MYR_NET_SHAPE_STR], name[32];
  myr_net_shape_str(got, g, sizeof g);
  myr_net_shape_str(want, w, sizeof w);
  if (got->layers != want->layers)
    return myr_fail(err, MYR_ERR_CHECKPOINT,
                    "%s: /network has %d weight layers (%s), expected %d (%s)", file, got->layers, g,
                    want->layers, w);
  for (int l = 0; l <= got->layers; l++)
    if (got->size[l] != want->size[l])
      return myr_fail(err, MYR_ERR_CHECKPOINT, "%s: /network %s is %d, expected %d (shape %s, expected %s)",
                      file, size_name(got, l, name, sizeof name), got->size[l], want->size[l], g, w);
  return MYR_OK;
}

myr_status myr_net_read_h5(myr_net *net, int64_t loc, const myr_net_shape *expect, const char *file,
                           myr_error *err) {
  myr__h5_quiet();
  memset(net, 0, sizeof *net);
  hid_t g = H5Gopen2((hid_t)loc, "network", H5P_DEFAULT);
  if (g < 0) return myr__h5_fail(err, file, "open", "the group /network");
  myr_net_shape s;
  memset(&s, 0, sizeof s);
  int64_t layers = 0;
  int count = 0;
  myr_status st = myr__h5_get_i64(g, "layers", &layers, file, "/network", err);
  if (st == MYR_OK) st = read_sizes(g, &s, &count, file, err);
  if (st == MYR_OK && layers != count - 1)
    st = myr_fail(err, MYR_ERR_CHECKPOINT, "%s: /network has layers = %lld but %d sizes, expected %lld",
                  file, (long long)layers, count, (long long)layers + 1);
  if (st == MYR_OK) {
    s.layers = (int)layers;
    st = check_shape(&s, file, MYR_ERR_CHECKPOINT, err);
  }
  if (st == MYR_OK && expect) st = shape_mismatch(&s, expect, file, err);
  hid_t set = -1, space = -1;
  float *w = NULL;
  size_t n = st == MYR_OK ? myr_net_param_count(&s) : 0;
  if (st == MYR_OK) {
    set = H5Dopen2(g, "weights", H5P_DEFAULT);
    if (set < 0) st = myr__h5_fail(err, file, "open", "/network/weights");
  }
  if (st == MYR_OK) {
    space = H5Dget_space(set);
    hssize_t np = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    int rank = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    if (np < 0 || rank < 0) {
      st = myr__h5_fail(err, file, "inspect", "/network/weights");
    } else if (rank != 1 || (size_t)np != n) {
      char sh[MYR_NET_SHAPE_STR];
      st = myr_fail(err, MYR_ERR_CHECKPOINT,
                    "%s: /network/weights holds %lld values (rank %d), expected %zu for shape %s", file,
                    (long long)np, rank, n, myr_net_shape_str(&s, sh, sizeof sh));
    }
  }
  if (st == MYR_OK) {
    w = malloc(n * sizeof *w);
    if (!w) st = myr_fail(err, MYR_ERR_NOMEM, "%s: out of memory (%zu parameters)", file, n);
  }
  if (st == MYR_OK && H5Dread(set, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, w) < 0)
    st = myr__h5_fail(err, file, "read", "/network/weights");
  if (space >= 0) H5Sclose(space);
  if (set >= 0 && H5Dclose(set) < 0 && st == MYR_OK) st = myr__h5_fail(err, file, "close", "/network/weights");
  if (H5Gclose(g) < 0 && st == MYR_OK) st = myr__h5_fail(err, file, "close", "/network");
  if (st != MYR_OK) {
    free(w);
    return st;
  }
  net->shape = s;
  net->w = w;
  net->n_params = n;
  return MYR_OK;
}

myr_status myr_net_save(const myr_net *net, const char *path, myr_error *err) {
  myr__h5_quiet();
  myr_status st = myr__mkparent(path, err);
  if (st != MYR_OK) return st;
  char *part = myr__part_path(path);
  if (!part) return myr_fail(err, MYR_ERR_NOMEM, "%s: out of memory", path);
  hid_t f = H5Fcreate(part, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (f < 0) st = myr__h5_fail(err, part, "create", "the file");
  if (st == MYR_OK) st = myr_net_write_h5(net, f, part, err);
  if (f >= 0 && H5Fclose(f) < 0 && st == MYR_OK) st = myr__h5_fail(err, part, "close", "the file");
  if (st == MYR_OK) st = myr__commit_part(part, path, err);
  else if (f >= 0) remove(part);
  free(part);
  return st;
}

myr_status myr_net_load(myr_net *net, const char *path, const myr_net_shape *expect, myr_error *err) {
  myr__h5_quiet();
  memset(net, 0, sizeof *net);
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) return myr__h5_fail(err, path, "open", "the file");
  myr_status st = myr_net_read_h5(net, f, expect, path, err);
  if (H5Fclose(f) < 0 && st == MYR_OK) {
    myr_net_free(net);
    st = myr__h5_fail(err, path, "close", "the file");
  }
  return st;
}

/* ---- forward --------------------------------------------------------------------------- */

/* Rows are evaluated BLOCK at a time with the activations stored component-major
 * ([width][BLOCK]), so the innermost loop runs across rows and vectorises, while each row's
 * sums keep exactly the order of myr_net_forward_row (bias, then inputs 0, 1, 2, ...; no
 * fused multiply-add): the same bits, several times faster than one row at a time. */
#define BLOCK 8

static void forward_block(const myr_net_view *n, const float *x, float *out, int rows, float *scratch) {
  float *in = scratch, *buf[2] = {scratch + MYR_NET_MAX_WIDTH * BLOCK, scratch + 2 * MYR_NET_MAX_WIDTH * BLOCK};
  int ni0 = n->shape.size[0], layers = n->shape.layers;
  for (int k = 0; k < ni0; k++)
    for (int r = 0; r < BLOCK; r++) in[k * BLOCK + r] = r < rows ? x[(size_t)r * (size_t)ni0 + (size_t)k] : 0.0f;
  const float *w = n->w;
  for (int l = 0; l < layers; l++) {
    int ni = n->shape.size[l], no = n->shape.size[l + 1], last = l == layers - 1;
    const float *W = w, *b = w + (size_t)no * (size_t)ni;
    float *o = buf[l & 1];
    for (int j = 0; j < no; j++) {
      float acc[BLOCK];
      for (int r = 0; r < BLOCK; r++) acc[r] = b[j];
      const float *row = W + (size_t)j * (size_t)ni;
      for (int k = 0; k < ni; k++) {
        float wk = row[k];
        for (int r = 0; r < BLOCK; r++) acc[r] = acc[r] + wk * in[k * BLOCK + r];
      }
      for (int r = 0; r < BLOCK; r++) o[j * BLOCK + r] = (last || acc[r] > 0.0f) ? acc[r] : 0.0f;
    }
    w = b + no;
    in = o;
  }
  int no = n->shape.size[layers];
  for (int r = 0; r < rows; r++)
    for (int j = 0; j < no; j++) out[(size_t)r * (size_t)no + (size_t)j] = in[j * BLOCK + r];
}

void myr_net_forward_cpu(const myr_net_view *n, const float *x, float *out, int64_t rows, int threads) {
  const int64_t ni = n->shape.size[0], no = n->shape.size[n->shape.layers];
  if (rows <= 0) return;
  if (threads <= 0) threads = omp_get_max_threads();
  if (n->precision == MYR_NET_BF16) { /* the reference rows, one at a time */
#pragma omp parallel for schedule(static) num_threads(threads)
    for (int64_t r = 0; r < rows; r++) {
      float row_scratch[2 * MYR_NET_MAX_WIDTH];
      myr_net_forward_row_bf16(n, x + r * ni, out + r * no, row_scratch);
    }
    return;
  }
  int64_t blocks = (rows + BLOCK - 1) / BLOCK;
#pragma omp parallel num_threads(threads)
  {
    float *scratch = malloc(3 * (size_t)MYR_NET_MAX_WIDTH * BLOCK * sizeof(float));
#pragma omp for schedule(static)
    for (int64_t bl = 0; bl < blocks; bl++) {
      int64_t r0 = bl * BLOCK;
      int rows_here = (int)(rows - r0 < BLOCK ? rows - r0 : BLOCK);
      if (scratch) forward_block(n, x + r0 * ni, out + r0 * no, rows_here, scratch);
      else /* no memory for a block: one row at a time, the same bits */
        for (int r = 0; r < rows_here; r++) {
          float row_scratch[2 * MYR_NET_MAX_WIDTH];
          myr_net_forward_row(n, x + (r0 + r) * ni, out + (r0 + r) * no, row_scratch);
        }
    }
    free(scratch);
  }
}
