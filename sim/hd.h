/* MYR_HD: marks per-agent code that is compiled twice, into the CPU loop by the C compiler
 * and into CUDA kernels by nvcc (DESIGN §6: one source, two backends). */
#ifndef MYR_HD_H
#define MYR_HD_H

#ifdef __CUDACC__
#define MYR_HD __host__ __device__
#else
#define MYR_HD
#endif

#endif
