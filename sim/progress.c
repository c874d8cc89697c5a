/* myr_progress_*: the run's progress report on stderr. */
#define _POSIX_C_SOURCE 200809L
#include "sim/progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

double myr_wall_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void myr_progress_begin(myr_progress *p, int enabled, uint64_t first_step, uint64_t last_step) {
  p->enabled = enabled && last_step > first_step;
  p->tty = isatty(fileno(stderr));
  p->first = first_step;
  p->last = last_step;
  p->start = p->shown = myr_wall_seconds();
  p->interval = p->tty ? 0.1 : 5.0;
  p->printed = 0;
}

static void format_duration(double s, char *buf, size_t n) {
  if (s < 0 || s > 1e7) {
    snprintf(buf, n, "--:--");
    return;
  }
  long t = (long)(s + 0.5);
  if (t >= 3600) snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
  else snprintf(buf, n, "%ld:%02ld", t / 60, t % 60);
}

static void format_rate(double r, char *buf, size_t n) {
  if (r >= 1e9) snprintf(buf, n, "%.2fG", r / 1e9);
  else if (r >= 1e6) snprintf(buf, n, "%.2fM", r / 1e6);
  else if (r >= 1e3) snprintf(buf, n, "%.2fk", r / 1e3);
  else snprintf(buf, n, "%.0f", r);
}

void myr_progress_update(myr_progress *p, uint64_t step, int64_t agents, double agent_steps) {
  if (!p->enabled) return;
  double now = myr_wall_seconds();
  if (now - p->shown < p->interval && step != p->last) return;
  p->shown = now;
  double elapsed = now - p->start, done = (double)(step - p->first), total = (double)(p->last - p->first);
  double frac = total > 0 ? done / total : 1.0;
  double eta = done > 0 ? elapsed * (total - done) / done : -1;
  char rate[32], eta_s[32], el_s[32];
  format_rate(elapsed > 0 ? agent_steps / elapsed : 0, rate, sizeof rate);
  format_duration(eta, eta_s, sizeof eta_s);
  format_duration(elapsed, el_s, sizeof el_s);
  if (p->tty) {
    char bar[31];
    int fill = (int)(frac * 30);
    for (int i = 0; i < 30; i++) bar[i] = i < fill ? '#' : '.';
    bar[30] = 0;
    fprintf(stderr, "\r[%s] %3.0f%%  step %llu/%llu  %lld agents  %s agent-steps/s  ETA %s ", bar,
            100 * frac, (unsigned long long)step, (unsigned long long)p->last, (long long)agents, rate, eta_s);
  } else {
    fprintf(stderr, "progress: step %llu/%llu (%.0f%%), %lld agents, %s agent-steps/s, elapsed %s, ETA %s\n",
            (unsigned long long)step, (unsigned long long)p->last, 100 * frac, (long long)agents, rate, el_s, eta_s);
  }
  fflush(stderr);
  p->printed = 1;
}

void myr_progress_end(myr_progress *p) {
  if (p->enabled && p->tty && p->printed) fputc('\n', stderr);
}
