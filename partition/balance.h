/* balance: dynamic (DESIGN §5): every rebalance_interval steps, at a sync, each rank's measured
 * rate (agent-steps per second of its own compute) sets its share of the work, and the work
 * moves toward those shares: under data_parallel agents cross the boundaries between
 * neighbouring ranks (threads of one process: copied; processes: MPI point to point, as packed
 * agent rows); under spatial_parallel the band boundaries move so that each band holds its share
 * of the agents (the moves themselves are partition/spatial*.c's). Every input of a decision is
 * the same on every rank (gathered first) and the decision is arithmetic on it alone, so every
 * rank makes the same one. Where agents sit never changes a result. */
#ifndef MYR_PARTITION_BALANCE_H
#define MYR_PARTITION_BALANCE_H

#include <stdint.h>

#include "sim/sim.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Differences under this fraction of a rank's mean share of the agents are left alone. */
#define MYR_BALANCE_SLACK 0.05

/* share[r] = rate[r] / the sum of the rates, where a rank without a measurement (rate 0: no
 * agents or no time) counts as the mean of those with one. 0 when no rank has one (then nothing
 * should move), else 1. */
int myr_balance_shares(const double *rate, int size, double *share);

/* data_parallel: flow[b] agents cross boundary b, from rank b to b + 1 (negative: from b + 1 to
 * b), boundaries taken left to right, so that the populations n[size] (updated) match the
 * shares; a flow under the slack is left alone, and none takes more agents than its giver holds
 * by then. flow has size - 1 entries. */
void myr_balance_flows(int64_t *n, const double *share, int size, int64_t *flow);

/* Whether rank `me` (its sim) has the slots for its part of the flows, its slots in use going
 * down and up boundary by boundary as the moves are made in order; *most (if not NULL): its
 * largest transfer. MYR_ERR_CAPACITY with the numbers when it has not. */
myr_status myr_balance_room(const myr_sim *sim, int me, int size, const int64_t *flow, int64_t *most,
                            myr_error *err);

/* The flows carried out between the ranks of one process: for each boundary in order, the
 * giver's last alive agents appended to the taker. Bytes count as the giver's. */
myr_status myr_balance_move_threads(myr_sim **sims, myr_rank *ranks, int size, const int64_t *flow, myr_error *err);
/* The same for one rank per process (mpirun): every process calls it with the same flows; the
 * two ranks of a boundary send and receive the agents as packed rows. A process that cannot
 * take its part (memory, agent slots) stops every process before anything moves. */
myr_status myr_balance_move_processes(myr_sim *sim, myr_rank *rank, const int64_t *flow, myr_error *err);

/* spatial_parallel: new first rows out[size + 1] of the bands from `before` (before[y] = agents
 * in rows < y, before[height] = all of them): each boundary where the agents before it come
 * nearest the shares of the ranks before it, and of those rows the nearest to the boundary's
 * present row (row0); every band at least min_rows rows; a boundary that would move under the
 * slack of agents stays. 1 if a boundary moved. */
int myr_balance_bands(const int64_t *before, int32_t height, int size, const double *share, int32_t min_rows,
                      const int32_t *row0, int32_t *out);

/* Agents each rank hands to its neighbours, added to handed[size]: for the flows of
 * myr_balance_flows, and for bands whose first rows go from row0 to out (before as above). */
void myr_balance_handed_flows(const int64_t *flow, int size, double *handed);
void myr_balance_handed_bands(const int64_t *before, int size, const int32_t *row0, const int32_t *out,
                              double *handed);

#ifdef __cplusplus
}
#endif

#endif
