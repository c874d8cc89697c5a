/* myr_sha256 and myr_hash_hex against the SHA-256 examples of FIPS 180-2 (appendix B) and the
 * NIST example values: "abc", the empty message, the 448-bit two-block message, one million
 * 'a', and the 896-bit message. References were published by NIST, not computed here. */
#include <string.h>

#include "check.h"
#include "sim/hash.h"

static void expect(const char *label, const void *msg, size_t n, const char *ref) {
  uint8_t h[MYR_HASH_BYTES];
  char hex[MYR_HASH_HEX];
  myr_sha256(msg, n, h);
  myr_hash_hex(h, hex);
  CHECK(strcmp(hex, ref) == 0, "%s: got %s, expected %s", label, hex, ref);
}

int main(void) {
  expect("abc", "abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  expect("empty", "", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  expect("448-bit", m448, strlen(m448),
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  const char *m896 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
                     "klmnopqrlmnopqrsmnopqrstnopqrstu";
  expect("896-bit", m896, strlen(m896),
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  char *million = malloc(1000000);
  REQUIRE(million, "out of memory");
  memset(million, 'a', 1000000);
  expect("1e6 x a", million, 1000000,
         "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  free(million);

  /* myr_hash_hex: lower-case, two digits per byte, NUL-terminated. */
  uint8_t h[MYR_HASH_BYTES];
  char hex[MYR_HASH_HEX];
  for (int b = 0; b < MYR_HASH_BYTES; b++) h[b] = (uint8_t)(b * 37 + 0xa0);
  myr_hash_hex(h, hex);
  CHECK(strlen(hex) == 64, "hex length %zu", strlen(hex));
  CHECK(strncmp(hex, "a0c5ea0f", 8) == 0, "hex starts %.8s", hex);
  return check_summary();
}
