/* CU(call): when a CUDA runtime call fails, return MYR_ERR_BACKEND from the enclosing function
 * (which has a `myr_error *err`) with the call, CUDA's message, file and line. One definition
 * for every .cu file of the library. */
#ifndef MYR_CUDA_CHECK_CUH
#define MYR_CUDA_CHECK_CUH

#include <cuda_runtime.h>

#include "sim/status.h"

#define CU(call)                                                                                       \
  do {                                                                                                 \
    cudaError_t e_ = (cudaError_t)(call);                                                              \
    if (e_ != cudaSuccess)                                                                             \
      return myr_fail(err, MYR_ERR_BACKEND, "CUDA: %s failed: %s (%s:%d)", #call, cudaGetErrorString(e_), \
                      __FILE__, __LINE__);                                                             \
  } while (0)

#endif
