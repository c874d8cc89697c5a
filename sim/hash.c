/* The state hash (hash.h, DESIGN §4): SHA-256 (OpenSSL libcrypto EVP) over the step, the
 * population, each alive agent's id and persistent columns in id order, then the persistent
 * layers. Small values are staged in a 64 KiB buffer so that the digest sees large updates;
 * agents are packed into rows by all threads, a block of rows at a time (SHA-256 itself is
 * serial, but the gather of columns in id order is random access and is most of the cost). */
#include "sim/hash.h"

#include <openssl/evp.h> // EVP_MD_CTX, EVP_sha256: SHA-256
#include <stdlib.h>
#include <string.h>

#define STAGE_BYTES (64 * 1024)
#define BLOCK_BYTES ((size_t)8 << 20) /* agent rows packed in parallel, then digested */

/* A digest being fed through a staging buffer; `failed` latches the first libcrypto error. */
typedef struct stage {
  EVP_MD_CTX *ctx;
  size_t used;
  int failed;
  unsigned char buf[STAGE_BYTES];
} stage;

static void stage_flush(stage *st) {
  if (st->used && !st->failed && EVP_DigestUpdate(st->ctx, st->buf, st->used) != 1) st->failed = 1;
  st->used = 0;
}

/* Writes one value of `size` bytes (1, 4 or 8) from host memory as little-endian bytes. */
static inline void put_le(unsigned char *dst, const void *v, size_t size) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  for (size_t b = 0; b < size; b++) dst[b] = ((const unsigned char *)v)[size - 1 - b];
#else
  switch (size) { /* fixed-size copies compile to single moves */
  case 1: memcpy(dst, v, 1); break;
  case 4: memcpy(dst, v, 4); break;
  case 8: memcpy(dst, v, 8); break;
  default: memcpy(dst, v, size);
  }
#endif
}

/* Appends one value of `size` bytes as little-endian bytes. */
static void stage_value(stage *st, const void *v, size_t size) {
  if (st->used + size > STAGE_BYTES) stage_flush(st);
  put_le(st->buf + st->used, v, size);
  st->used += size;
}

static void stage_u64(stage *st, uint64_t x) { stage_value(st, &x, sizeof x); }

/* Appends `count` contiguous values of `size` bytes as little-endian bytes. */
static void stage_array(stage *st, const void *data, size_t size, size_t count) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  for (size_t i = 0; i < count; i++) stage_value(st, (const char *)data + i * size, size);
#else
  /* Host order is little-endian: large arrays go to the digest without staging. */
  stage_flush(st);
  if (count && !st->failed && EVP_DigestUpdate(st->ctx, data, size * count) != 1) st->failed = 1;
#endif
}

myr_status myr_sim_hash(const myr_sim *sim, uint8_t out[MYR_HASH_BYTES], myr_error *err) {
  const myr_model *m = sim->model;
  const myr_agents *ag = &sim->agents;
  /* The persistent columns, with their element sizes, once. */
  int cols[MYR_MAX_COLUMNS], nc = 0;
  size_t size[MYR_MAX_COLUMNS];
  for (int c = 0; c < ag->n_columns; c++) {
    if (m->columns[c].lifetime != MYR_PERSISTENT) continue;
    size[nc] = myr_type_size(m->columns[c].type);
    cols[nc++] = c;
  }
  /* One agent's bytes: its id and every component of every persistent column. */
  size_t row = sizeof(uint64_t);
  for (int q = 0; q < nc; q++) row += size[q] * (size_t)ag->components[cols[q]];
  size_t block = BLOCK_BYTES / row > 0 ? BLOCK_BYTES / row : 1; /* rows packed at a time */

  int64_t *order = NULL, n = 0;
  myr_status s = myr_sim_id_order(sim, &order, &n, err);
  if (s != MYR_OK) return s;
  stage *st = malloc(sizeof *st);
  unsigned char *rows = malloc(block * row);
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  if (!st || !rows || !ctx) {
    free(st);
    free(rows);
    EVP_MD_CTX_free(ctx);
    free(order);
    return myr_fail(err, MYR_ERR_NOMEM, "state hash: out of memory (%zu bytes)", sizeof *st + block * row);
  }
  st->ctx = ctx;
  st->used = 0;
  st->failed = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1;

  stage_u64(st, sim->step);
  stage_u64(st, (uint64_t)n);
  stage_flush(st);
  for (int64_t j0 = 0; j0 < n && !st->failed; j0 += (int64_t)block) {
    int64_t count = n - j0 < (int64_t)block ? n - j0 : (int64_t)block;
#pragma omp parallel for schedule(static) num_threads(sim->threads > 0 ? sim->threads : 1)
    for (int64_t j = 0; j < count; j++) {
      int64_t i = order[j0 + j];
      if (j + 16 < count) { /* random reads: ask for a later row's now */
        int64_t f = order[j0 + j + 16];
        __builtin_prefetch(&ag->id[f]);
        for (int q = 0; q < nc; q++)
          for (int k = 0; k < ag->components[cols[q]]; k++)
            __builtin_prefetch((const char *)ag->col[cols[q]] + ((size_t)k * (size_t)ag->capacity + (size_t)f) * size[q]);
      }
      unsigned char *p = rows + (size_t)j * row;
      put_le(p, &ag->id[i], sizeof(uint64_t));
      p += sizeof(uint64_t);
      for (int q = 0; q < nc; q++) {
        const char *col = (const char *)ag->col[cols[q]] + (size_t)i * size[q];
        size_t stride = (size_t)ag->capacity * size[q];
        for (int k = 0; k < ag->components[cols[q]]; k++, p += size[q]) put_le(p, col + (size_t)k * stride, size[q]);
      }
    }
    if (EVP_DigestUpdate(ctx, rows, (size_t)count * row) != 1) st->failed = 1;
  }

  size_t cells = (size_t)sim->grid.width * (size_t)sim->grid.height;
  for (int l = 0; l < sim->grid.n_layers; l++) {
    if (m->layers[l].lifetime != MYR_PERSISTENT) continue;
    stage_array(st, sim->grid.layer[l], myr_type_size(m->layers[l].type), cells);
  }
  stage_flush(st);

  unsigned int len = 0;
  if (!st->failed && (EVP_DigestFinal_ex(ctx, out, &len) != 1 || len != MYR_HASH_BYTES))
    st->failed = 1;
  s = st->failed ? myr_fail(err, MYR_ERR_INTERNAL, "state hash: libcrypto SHA-256 failed") : MYR_OK;
  EVP_MD_CTX_free(ctx);
  free(rows);
  free(st);
  free(order);
  return s;
}

void myr_hash_hex(const uint8_t h[MYR_HASH_BYTES], char hex[MYR_HASH_HEX]) {
  static const char digits[] = "0123456789abcdef";
  for (int b = 0; b < MYR_HASH_BYTES; b++) {
    hex[2 * b] = digits[h[b] >> 4];
    hex[2 * b + 1] = digits[h[b] & 15];
  }
  hex[2 * MYR_HASH_BYTES] = '\0';
}

void myr_sha256(const void *data, size_t n, uint8_t out[MYR_HASH_BYTES]) {
  unsigned int len = 0;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
      EVP_DigestUpdate(ctx, data, n) != 1 || EVP_DigestFinal_ex(ctx, out, &len) != 1)
    memset(out, 0, MYR_HASH_BYTES); /* only on allocation failure inside libcrypto */
  EVP_MD_CTX_free(ctx);
}
