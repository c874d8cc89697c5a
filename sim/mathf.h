/* myr_expf, myr_logf, myr_tanhf: float functions built from +, -, *, / and integer operations
 * only, so that the CPU build and CUDA kernels (both without FMA contraction) give the same
 * bits. The C library and CUDA's intrinsics differ in the last bit, which would make search
 * and training results differ between backends (DESIGN §4.6). Accuracy: a few ulp over the
 * ranges search and learning use (tests/search/test_mathf.c states the bounds). */
#ifndef MYR_MATHF_H
#define MYR_MATHF_H

#include <stdint.h>

#include "sim/hd.h"

MYR_HD static inline float myr_expf(float x);  /* e^x; 0 below -87.3, +inf above 88.7 */
MYR_HD static inline float myr_logf(float x);  /* ln x for x > 0; -inf at 0; NaN below */
MYR_HD static inline float myr_tanhf(float x); /* tanh x */

/* (implementations follow) */

#endif
