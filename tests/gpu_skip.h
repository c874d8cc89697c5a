/* GPU tests (label gpu) run on the first CUDA device, or exit 77, which ctest reports as
 * skipped, on a machine without one (CI). */
#ifndef MYR_TEST_GPU_SKIP_H
#define MYR_TEST_GPU_SKIP_H

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

int myr_cuda_probe(char *name, size_t n); /* sim/cuda/backend.cu */

/* Prints the device, or why there is none and exits 77. */
static inline void gpu_or_skip(void) {
  char device[256];
  if (!myr_cuda_probe(device, sizeof device)) {
    printf("skipped: %s\n", device);
    exit(77);
  }
  printf("device: %s\n", device);
}

#endif
