/* Engine internals shared by state.c, step.c and stats.c; not part of the public API. */
#ifndef MYR_SIM_INTERNAL_H
#define MYR_SIM_INTERNAL_H

#include "sim/sim.h"

/* Removes dead slots: the last alive agents fill the first dead slots (slot order never changes a result). */
void myr__sim_compact(myr_sim *sim);
/* Zeroes every column of one slot. */
void myr__sim_clear_slot(myr_sim *sim, int64_t slot);

#endif
