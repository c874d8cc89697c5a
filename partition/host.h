/* The `host` transport: ranks that are threads of one process meet in shared memory. A barrier
 * that a failing rank can break (so the others return instead of waiting forever), and the sums
 * of transient layers and of the window's flows over ranks for CPU ranks. */
#ifndef MYR_PARTITION_HOST_H
#define MYR_PARTITION_HOST_H

#include <pthread.h>

#include "sim/sim.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct myr_host_team {
  int size;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int waiting;
  unsigned generation;      /* written under mu, read while spinning: atomics */
  int aborted;              /* a rank failed: barriers return -1 from now on */
  double spin_seconds;      /* a barrier spins this long before it sleeps (0: it sleeps at once) */
  int abort_rank;           /* the first rank that failed */
  const myr_view **views;   /* [size]: each rank's view while it sums layers */
  const int64_t **flows;    /* [size]: each rank's window flows while they are summed */
} myr_host_team;

myr_status myr_host_team_init(myr_host_team *h, int size, myr_error *err);
void myr_host_team_free(myr_host_team *h);
/* Waits for every rank. 0, or -1 when a rank has failed (myr_host_abort). With spin_seconds
 * (ranks that drive GPUs: each has a core of its own and arrives within microseconds of the
 * others) it watches for the last arrival that long first: waking from a condition variable
 * takes tens of microseconds, several times a step at sync 1. */
int myr_host_barrier(myr_host_team *h);
/* Rank `rank` failed: wakes every waiter and makes later barriers fail. */
void myr_host_abort(myr_host_team *h, int rank);

/* myr_rank.sync_layers for CPU ranks: every rank sums a slice of the cells over all ranks'
 * host layers (integer adds, wrapping like the single-rank run's) and writes the total back
 * to every rank. */
myr_status myr_host_sum_layers(myr_rank *r, myr_sim *sim, const myr_view *v, int phase, void *stream,
                               myr_error *err);

/* myr_rank.sum_flows for CPU ranks of one process (data_parallel, and spatial_parallel, whose
 * team starts with a myr_host_team): every rank adds up every rank's window in shared memory. */
myr_status myr_host_sum_flows(myr_rank *r, myr_sim *sim, int64_t *window, void *stream, myr_error *err);

/* 1 if transient layer l of model m is summed in `phase`. */
int myr_layer_summed_in(const myr_model *m, int l, int phase);

#ifdef __cplusplus
}
#endif

#endif
