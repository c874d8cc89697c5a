/* epidemic (models/epidemic), well-mixed early growth rate against the SEIR linearisation:
 * with exponential E and I periods (shape 1) of means 1/sigma and 1/gamma days, the number
 * infectious grows like exp(r t) with (1 + r / sigma)(1 + r / gamma) = R0. Measured: the slope
 * of a least-squares fit of ln I(t) over the exponential phase, from day 4 (the other
 * eigenvalue, about -1.07/day here, has died out) to the step where 2% of the agents have been
 * infected (before susceptible depletion bends the curve). 1,000,000 agents, 1000 initially
 * infectious, 8 steps per day, four seeds averaged. Tolerance: 5% of the theoretical r.
 * Also printed: r for the model's own discrete time (whole-step periods, infection one step
 * after publication), from the discrete Euler-Lotka equation, to show what the time step
 * costs: the discrete generation interval is about half a step longer.
 * The `rt` statistic over the same window: infections per infectious agent-day times the mean
 * infectious period, i.e. R0 S/N, times exp(-r dt) for the one-step publication lag. Checked
 * against R0 S/N within 5%. */
#include <math.h>

#include "models/common.h"

enum { N = 1000000, SEED_INFECTED = 1000, SPD = 8, SEEDS = 4 };
static const double R0 = 2.5, MEAN_E = 2.0, MEAN_I = 3.0;

/* Continuous SEIR: the positive root of m_E m_I r^2 + (m_E + m_I) r + 1 - R0 = 0. */
static double r_continuous(void) {
  double a = MEAN_E * MEAN_I, b = MEAN_E + MEAN_I, c = 1.0 - R0;
  return (-b + sqrt(b * b - 4 * a * c)) / (2 * a);
}

/* P(max(1, round(X * SPD)) = k) for X exponential with mean m days. */
static double p_steps(int k, double m) {
  double M = m * SPD, lo = k == 1 ? 0.0 : (k - 0.5) / M;
  return exp(-lo) - exp(-(k + 0.5) / M);
}

/* Discrete Euler-Lotka: an agent infected at step 0 becomes infectious at step L, counts at
 * steps L .. L+T-1 and so infects at steps L+1 .. L+T, beta dt = R0 / (MEAN_I SPD) per step:
 * 1 = beta dt E[z^-L] E[sum_{j=1..T} z^-j], z = e^(r / SPD). Solved by bisection in r. */
static double el_residual(double r) {
  double zi = exp(-r / SPD), eL = 0, eT = 0;
  int kmax = (int)(60 * MEAN_I * SPD);
  for (int k = 1; k < kmax; k++) eL += p_steps(k, MEAN_E) * pow(zi, k);
  double partial = 0;
  for (int k = 1; k < kmax; k++) {
    partial += pow(zi, k);
    eT += p_steps(k, MEAN_I) * partial;
  }
  return R0 / (MEAN_I * SPD) * eL * eT - 1.0;
}

static double r_discrete(void) {
  double lo = 0.0, hi = 2.0;
  for (int k = 0; k < 60; k++) {
    double m = 0.5 * (lo + hi);
    if (el_residual(m) > 0) lo = m;
    else hi = m;
  }
  return 0.5 * (lo + hi);
}

/* One run: the fitted slope of ln I(t), t in days. */
static double rt_sum, rt_ref_sum, rt_n;

static double fitted_rate(int seed) {
  test_sim t;
  test_sim_open(&t,
                "run: {seed: %d, threads: 2}\n"
                "world: {width: 8, height: 8, wrap: true}\n"
                "agents: {count: %d, capacity: %d}\n"
                "model: {name: epidemic, params: {mixing: well_mixed, R0: %g, steps_per_day: %d,\n"
                "  incubation_mean: %g, incubation_shape: 1, infectious_mean: %g, infectious_shape: 1,\n"
                "  fatality: 0, initial_infected: %d}}\n"
                "policy: {kind: random}\n",
                seed, N, N, R0, SPD, MEAN_E, MEAN_I, SEED_INFECTED);
  int kS = test_stat(t.sim, "susceptible"), kI = test_stat(t.sim, "infectious"), kRt = test_stat(t.sim, "rt");
  double *st = calloc((size_t)myr_sim_stat_count(t.sim), sizeof *st);
  REQUIRE(st, "out of memory");
  double sx = 0, sy = 0, sxx = 0, sxy = 0, n = 0, first_i = 0, last_i = 0;
  for (int s = 0; s < 200 * SPD; s++) {
    test_sim_step(&t);
    myr_sim_stats(t.sim, st);
    if (N - st[kS] >= 0.02 * N) break;
    double day = (double)(s + 1) / SPD;
    if (day < 4.0) continue;
    REQUIRE(st[kI] > 0, "seed %d: the epidemic died out", seed);
    double y = log(st[kI]);
    if (n == 0) first_i = st[kI];
    last_i = st[kI];
    rt_sum += st[kRt];
    rt_ref_sum += R0 * st[kS] / N;
    rt_n += 1;
    sx += day;
    sy += y;
    sxx += day * day;
    sxy += day * y;
    n += 1;
  }
  REQUIRE(n > 5 * SPD, "seed %d: only %g points in the exponential phase", seed, n);
  double slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
  printf("seed %d: r = %.5f per day from %g points (I from %g to %g)\n", seed, slope, n, first_i, last_i);
  free(st);
  test_sim_close(&t);
  return slope;
}

int main(void) {
  double r = 0;
  for (int k = 0; k < SEEDS; k++) r += fitted_rate(101 + k) / SEEDS;
  double rc = r_continuous(), rd = r_discrete();
  printf("R0 %.2f, E mean %.1f d, I mean %.1f d (exponential), %d steps/day, %d agents\n", R0, MEAN_E, MEAN_I, SPD,
         N);
  printf("measured r %.5f /day; SEIR linearisation %.5f (error %+.2f%%); discrete-time Euler-Lotka %.5f "
         "(error %+.2f%%)\n",
         r, rc, 100 * (r - rc) / rc, rd, 100 * (r - rd) / rd);
  CHECK_CLOSE(r, rc, 0.0, 0.05);
  double rt = rt_sum / rt_n, rt_ref = rt_ref_sum / rt_n;
  printf("mean rt over the windows %.4f; R0 S/N %.4f (error %+.2f%%); with the lag, R0 S/N exp(-r dt) %.4f\n", rt,
         rt_ref, 100 * (rt - rt_ref) / rt_ref, rt_ref * exp(-rc / SPD));
  CHECK_CLOSE(rt, rt_ref, 0.0, 0.05);
  return check_summary();
}
