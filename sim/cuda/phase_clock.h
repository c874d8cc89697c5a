/* Phase clock: where a GPU rank's step time goes, for diagnosis (MYRIAD_PHASE_TIMES=1).
 *
 * The backend and the team mark named points of each step on the rank's stream with CUDA
 * events (myr_cuda_phase_mark). The time between two consecutive marks is charged to the later
 * one's name: the device time of the work queued between them, plus any time the device sat
 * idle waiting for the host to queue that work (an event completes when the work before it is
 * done and the host has recorded it). So a step's phases add up to its device wall time, and a
 * host wait or a barrier shows up in the phase after it. "between steps" is the time from one
 * step's last mark to the next step's first. Each phase is printed as its mean per step (over
 * all steps, one-off costs such as the first exchanges' connection set-up included: these add
 * up to the run) and its median.
 *
 * Off by default: no clock is opened and marks are no-ops. When on, each step's end waits for
 * the previous step's marks (done by then in the steady state: the device stays busy with the
 * step just queued), and the means are printed to stderr when the rank's device state goes. */
#ifndef MYR_CUDA_PHASE_CLOCK_H
#define MYR_CUDA_PHASE_CLOCK_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct myr_phase_clock myr_phase_clock;

/* A clock when MYRIAD_PHASE_TIMES is set to something other than 0, else NULL. */
myr_phase_clock *myr_phase_clock_open(void);
/* Marks point `name` (kept by pointer: a string literal) on `stream` (a cudaStream_t). */
void myr_phase_clock_mark(myr_phase_clock *c, void *stream, const char *name);
/* The step's marks are all queued: adds up the previous step's. */
void myr_phase_clock_step_done(myr_phase_clock *c);
/* Prints the means per step under `who` and frees the clock (NULL: nothing). */
void myr_phase_clock_close(myr_phase_clock *c, const char *who);

/* Marks point `name` of the step on a CUDA rank's stream (sim/cuda/backend.cu; a no-op when
 * the clock is off), for the team's code (partition/nccl.cu). */
struct myr_sim;
void myr_cuda_phase_mark(struct myr_sim *sim, const char *name);

#ifdef __cplusplus
}
#endif

#endif
