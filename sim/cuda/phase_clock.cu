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
  float *ms[PHASES]; /* each time (means and medians: one-off costs such as first exchanges skew means) */
  long long times[PHASES], cap[PHASES];
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
  if (c->times[p] == c->cap[p]) {
    long long cap = c->cap[p] ? 2 * c->cap[p] : 256;
    float *more = (float *)realloc(c->ms[p], sizeof(float) * (size_t)cap);
    if (!more) {
      c->dropped = 1;
      return;
    }
    c->ms[p] = more;
    c->cap[p] = cap;
  }
  c->phase[p] = name;
  c->ms[p][c->times[p]++] = ms;
}

/* Charges the marks of step m, and with `next` the gap from m's last mark to next's first. */
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

static int by_value(const void *a, const void *b) {
  const float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

static double total(const float *v, long long n) {
  double sum = 0;
  for (long long i = 0; i < n; i++) sum += v[i];
  return sum;
}

/* Sorts v. */
static double median(float *v, long long n) {
  if (n == 0) return 0;
  qsort(v, (size_t)n, sizeof *v, by_value);
  return n % 2 ? v[n / 2] : 0.5 * ((double)v[n / 2 - 1] + v[n / 2]);
}

void myr_phase_clock_close(myr_phase_clock *c, const char *who) {
  if (!c) return;
  if (who) {
    add_up(c, &c->set[1 - c->cur], &c->set[c->cur]);
    add_up(c, &c->set[c->cur], NULL);
    double sum = 0, phase_ms[PHASES];
    for (int p = 0; p < PHASES && c->phase[p]; p++) sum += phase_ms[p] = total(c->ms[p], c->times[p]);
    fprintf(stderr, "phase times, %s: %lld steps, %.4f ms per step in all%s\n", who, c->steps,
            c->steps ? sum / (double)c->steps : 0.0, c->dropped ? " (some marks dropped)" : "");
    fprintf(stderr, "  %-22s %12s %6s %14s %6s\n", "phase", "ms per step", "share", "median ms", "steps");
    for (int p = 0; p < PHASES && c->phase[p]; p++)
      fprintf(stderr, "  %-22s %12.4f %5.1f%% %14.4f %6lld\n", c->phase[p], phase_ms[p] / (double)c->steps,
              sum > 0 ? 100.0 * phase_ms[p] / sum : 0.0, median(c->ms[p], c->times[p]), c->times[p]);
  }
  for (int p = 0; p < PHASES; p++) free(c->ms[p]);
  for (int s = 0; s < 2; s++)
    for (int i = 0; i < MARKS_PER_STEP; i++)
      if (c->set[s].ev[i]) cudaEventDestroy(c->set[s].ev[i]);
  free(c);
}
