/* Progress on stderr for long runs: a bar with rate and ETA on a terminal, a plain line every
 * few seconds otherwise (logs, CI), nothing when disabled. */
#ifndef MYR_PROGRESS_H
#define MYR_PROGRESS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct myr_progress {
  int enabled, tty;
  uint64_t first, last; /* step range of the run */
  double start, shown;  /* wall clock at start and at the last print */
  double interval;      /* seconds between prints */
  int printed;
} myr_progress;

void myr_progress_begin(myr_progress *p, int enabled, uint64_t first_step, uint64_t last_step);
/* `agents` is the current population (for the agent-steps rate). */
void myr_progress_update(myr_progress *p, uint64_t step, int64_t agents, double agent_steps);
/* Ends the bar's line on a terminal. */
void myr_progress_end(myr_progress *p);
/* Monotonic wall clock in seconds. */
double myr_wall_seconds(void);

#ifdef __cplusplus
}
#endif

#endif
