/* Minimal checks for C tests: each failed check prints file:line and what differed, and the
 * test's main returns check_summary(), which prints "N passed, N failed" and is non-zero on
 * any failure. Comparisons of reals state their tolerance: |got - ref| <= tol + |ref| * rel. */
#ifndef MYR_TEST_CHECK_H
#define MYR_TEST_CHECK_H

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int check_passed, check_failed;

#define CHECK(cond, ...)                                                           \
  do {                                                                             \
    if (cond) {                                                                    \
      check_passed++;                                                              \
    } else {                                                                       \
      check_failed++;                                                              \
      fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);     \
      fprintf(stderr, __VA_ARGS__);                                                \
      fputc('\n', stderr);                                                         \
    }                                                                              \
  } while (0)

#define CHECK_EQ_I64(got, ref)                                                     \
  CHECK((int64_t)(got) == (int64_t)(ref), "got %" PRId64 ", expected %" PRId64,     \
        (int64_t)(got), (int64_t)(ref))

#define CHECK_EQ_U32(got, ref)                                                     \
  CHECK((uint32_t)(got) == (uint32_t)(ref), "got 0x%08" PRIx32 ", expected 0x%08" PRIx32, \
        (uint32_t)(got), (uint32_t)(ref))

#define CHECK_CLOSE(got, ref, tol, rel)                                            \
  CHECK(fabs((double)(got) - (double)(ref)) <= (tol) + fabs((double)(ref)) * (rel), \
        "got %.10g, expected %.10g (tol %g + rel %g)", (double)(got), (double)(ref),  \
        (double)(tol), (double)(rel))

/* Dies at once (for setup steps a test cannot go on without). */
#define REQUIRE(cond, ...)                                                         \
  do {                                                                             \
    if (!(cond)) {                                                                 \
      fprintf(stderr, "%s:%d: required: %s: ", __FILE__, __LINE__, #cond);         \
      fprintf(stderr, __VA_ARGS__);                                                \
      fputc('\n', stderr);                                                         \
      exit(1);                                                                     \
    }                                                                              \
  } while (0)

static inline int check_summary(void) {
  printf("%d passed, %d failed\n", check_passed, check_failed);
  return check_failed ? 1 : 0;
}

#endif
