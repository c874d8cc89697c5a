/* The random policy of one agent, shared by the CPU loop and the CUDA kernel: a uniform draw
 * over the legal actions from the agent's DECIDE stream. */
#ifndef MYR_POLICY_H
#define MYR_POLICY_H

#include "sim/rng.h"
#include "sim/view.h"

MYR_HD static inline int myr_random_action(const myr_view *v, int64_t i, const uint8_t *mask, int legal,
                                           int n_actions) {
  myr_rng r = myr_rng_make(v->seed, v->id[i], v->step, MYR_RNG_DECIDE);
  uint32_t k = myr_rng_below(&r, (uint32_t)(legal > 0 ? legal : 1));
  return myr_nth_legal(mask, n_actions, k);
}

#endif
