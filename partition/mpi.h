/* MPI, to launch one process per rank (mpirun -np N) and for the host-side collectives of such
 * a team: the CPU ranks' layer and flow sums, statistics, the NCCL id, the gather of agents for
 * results. Builds without MPI see a world of one process. */
#ifndef MYR_PARTITION_MPI_H
#define MYR_PARTITION_MPI_H

#include <stdint.h>

#include "sim/sim.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 1 when this process was started by mpirun with more than one process (MPI is then
 * initialised, once): *rank, *size and *local (rank among the processes of this host). */
int myr_mpi_world(int *rank, int *size, int *local);
void myr_mpi_finalize(void);

/* In-place sums over every process (exact: integers). */
void myr_mpi_sum_i64(int64_t *v, int64_t n);
void myr_mpi_sum_f64(double *v, int64_t n); /* for reports only (timings), never for results */
/* The largest of v over every process. */
int myr_mpi_max_int(int v);
void myr_mpi_bcast(void *buf, int64_t bytes, int root);
/* Rank 0 gets every process's bytes one after another in rank order (*all malloc'd, *total
 * bytes); other processes get NULL. */
myr_status myr_mpi_gather(const void *buf, int64_t bytes, void **all, int64_t *total, myr_error *err);

/* out[q] = in[me] of process q: each process tells every other how much it will send. */
void myr_mpi_alltoall_i64(const int64_t *in, int64_t *out);
/* Point to point between every pair of processes (spatial_parallel's halos, agents, ghosts):
 * send[q] (send_bytes[q] bytes) goes to process q, and recv[q] gets recv_bytes[q] bytes from
 * q, sizes that both sides know (e.g. from myr_mpi_alltoall_i64). Nothing moves for zero
 * counts or to oneself. The buffers stay the caller's; they may be reused on return. */
myr_status myr_mpi_exchange(const void *const *send, const int64_t *send_bytes, void *const *recv,
                            const int64_t *recv_bytes, myr_error *err);

/* myr_rank.sync_layers for CPU ranks of separate processes. */
myr_status myr_mpi_sum_layers(myr_rank *r, myr_sim *sim, const myr_view *v, int phase, void *stream,
                              myr_error *err);

/* myr_rank.sum_flows for CPU ranks of separate processes: an in-place MPI all-reduce. */
myr_status myr_mpi_sum_flows(myr_rank *r, myr_sim *sim, int64_t *window, void *stream, myr_error *err);

#ifdef __cplusplus
}
#endif

#endif
