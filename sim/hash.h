/* The state hash (DESIGN §4): SHA-256 over the persistent state in a canonical order, so that
 * anyone can check the determinism contract. Covered, in this order: the step (u64 LE), the
 * population (u64 LE), then for each alive agent in id order its id and every persistent
 * column's components (raw little-endian bytes, column-major per agent: column 0 components
 * 0..k, column 1 ...), then every persistent layer's cells in row-major order.
 * Transient columns and layers are not covered. */
#ifndef MYR_HASH_H
#define MYR_HASH_H

#include <stdint.h>

#include "sim/sim.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MYR_HASH_BYTES 32
#define MYR_HASH_HEX (2 * MYR_HASH_BYTES + 1)

myr_status myr_sim_hash(const myr_sim *sim, uint8_t out[MYR_HASH_BYTES], myr_error *err);
void myr_hash_hex(const uint8_t h[MYR_HASH_BYTES], char hex[MYR_HASH_HEX]);
/* SHA-256 of a buffer (libcrypto); for tests of the hash itself. */
void myr_sha256(const void *data, size_t n, uint8_t out[MYR_HASH_BYTES]);

#ifdef __cplusplus
}
#endif

#endif
