/* Phase clock (sim/cuda/phase_clock.h). */
#include <cuda_runtime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/cuda/phase_clock.h"

#define MARKS_PER_STEP 32
#define PHASES 48

typedef struct step_marks {
  cudaEvent_t ev[MARKS_PER_STEP];
  const char *name[MARKS_PER_STEP];
  int n;
} step_marks;

struct myr_phase_clock {
  step_marks set[2]; /* the step being queued and the one before it */
  int cur;
  const char *phase[PHASES]; /* in order of first appearance */
  double total_ms[PHASES];
  long long times[PHASES];
  long long steps;
  int dropped; /* marks past MARKS_PER_STEP in a step, or names past PHASES */
};

myr_phase_clock *myr_phase_clock_open(void) {
  const char *on = getenv("MYRIAD_PHASE_TIMES");
  if (!on || !*on || !strcmp(on, "0")) return NULL;
  myr_phase_clock *c = (myr_phase_clock *)calloc(1, sizeof *c);
  if (!c) return NULL;
  for (int s = 0; s < 2; s++)
    for (int i = 0; i < MARKS_PER_STEP; i++)
      if (cudaEventCreate(&c->set[s].ev[i]) != cudaSuccess) {
        cudaGetLastError();
        fprintf(stderr, "MYRIAD_PHASE_TIMES: cannot create CUDA events; phase times are off\n");
        myr_phase_clock_close(c, NULL);
        return NULL;
      }
  return c;
}

void myr_phase_clock_mark(myr_phase_clock *c, void *stream, const char *name) {
  if (!c) return;
  step_marks *m = &c->set[c->cur];
  if (m->n == MARKS_PER_STEP) {
    c->dropped = 1;
    return;
  }
  if (cudaEventRecord(m->ev[m->n], (cudaStream_t)stream) != cudaSuccess) {
    cudaGetLastError();
    c->dropped = 1;
    return;
  }
  m->name[m->n++] = name;
}

static void charge(myr_phase_clock *c, const char *name, cudaEvent_t from, cudaEvent_t to) {
  float ms = 0;
  if (cudaEventSynchronize(to) != cudaSuccess || cudaEventElapsedTime(&ms, from, to) != cudaSuccess) {
    cudaGetLastError();
    c->dropped = 1;
    return;
  }
  int p = 0;
  while (p < PHASES && c->phase[p] && strcmp(c->phase[p], name)) p++;
  if (p == PHASES) {
    c->dropped = 1;
    return;
  }
  c->phase[p] = name;
  c->total_ms[p] += ms;
  c->times[p]++;
}

/* Charges the marks of set s, and with `next` the gap to that set's first mark. */
static void add_up(myr_phase_clock *c, step_marks *m, const step_marks *next) {
  if (m->n == 0) return;
  for (int i = 1; i < m->n; i++) charge(c, m->name[i], m->ev[i - 1], m->ev[i]);
  if (next && next->n > 0) charge(c, "between steps", m->ev[m->n - 1], next->ev[0]);
  c->steps++;
  m->n = 0;
}

void myr_phase_clock_step_done(myr_phase_clock *c) {
  if (!c) return;
  int prev = 1 - c->cur;
  add_up(c, &c->set[prev], &c->set[c->cur]);
  c->cur = prev;
  c->set[c->cur].n = 0;
}

void myr_phase_clock_close(myr_phase_clock *c, const char *who) {
  if (!c) return;
  if (who) {
    add_up(c, &c->set[1 - c->cur], &c->set[c->cur]);
    add_up(c, &c->set[c->cur], NULL);
    double sum = 0;
    for (int p = 0; p < PHASES && c->phase[p]; p++) sum += c->total_ms[p];
    fprintf(stderr, "phase times, %s: %lld steps, %.4f ms per step in all%s\n", who, c->steps,
            c->steps ? sum / (double)c->steps : 0.0, c->dropped ? " (some marks dropped)" : "");
    for (int p = 0; p < PHASES && c->phase[p]; p++)
      fprintf(stderr, "  %-22s %9.4f ms per step  (%5.1f%%, in %lld steps)\n", c->phase[p],
              c->total_ms[p] / (double)c->steps, sum > 0 ? 100.0 * c->total_ms[p] / sum : 0.0, c->times[p]);
  }
  for (int s = 0; s < 2; s++)
    for (int i = 0; i < MARKS_PER_STEP; i++)
      if (c->set[s].ev[i]) cudaEventDestroy(c->set[s].ev[i]);
  free(c);
}
