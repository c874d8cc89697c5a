/* circles: FLAME GPU 2's "circles" benchmark model (Chisholm, Richmond and Maddock, Euro-Par
 * 2016 workshops; FLAMEGPU/FLAMEGPU2-circles-benchmark), for a like-for-like speed comparison.
 * Agents are points in a cube of side `size` (density agents per unit volume); each step every
 * agent reads the positions of the others published at the start of the window (a spatial
 * message list in FLAME GPU's words: sim/neighbours.h here) and moves by the mean of
 * pairwise forces from those closer than `radius`:
 *     f_ij = (repulse * sin(-2 * 3.141 * d / radius) / d) * (p_j - p_i)      for 0 < d < radius
 *     p_i += (sum over j of f_ij) / max(1, number of such j)
 * (repulsion below radius / 2, attraction above). Sums run in the engine's neighbour order
 * (ascending cell, then id) with no fused multiply-add and the engine's myr_sinf, so the CPU
 * and the GPU give the same bits. Rules and parameters: README.md.
 *
 * Columns: x, y, z (f32, the position). Flows (per step, summed until a record): agent-steps,
 * neighbours within the radius, candidates read from the bins, drift in 2^-32 units (|move|). */
#ifndef MYR_MODEL_CIRCLES_H
#define MYR_MODEL_CIRCLES_H

#include <math.h>   /* sqrtf: correctly rounded on both backends */
#include <stdint.h>

#include "sim/mathf.h"      /* myr_sinf: the same bits on CPU and GPU */
#include "sim/neighbours.h" /* MYR_NBR_FOREACH_RUN, myr_nbr_delta_wrap: the published snapshot */
#include "sim/rng.h"        /* myr_rng_*: initial positions keyed by agent id */
#include "sim/view.h"       /* myr_view, MYR_COL */

typedef struct circles_params {
  /* From YAML (model.params.*). */
  double density;  /* agents per unit volume, when size is 0 */
  double size;     /* side of the cube; 0 = round(cbrt(agents / density)), as the benchmark */
  double radius;   /* interaction radius */
  double repulse;  /* force scale */
  int wrap;        /* 1: the cube is a torus; 0: open like FLAME GPU's (bins clamp at the edges) */
  int64_t bins_per_radius; /* neighbour bins per radius along each axis (sim/neighbours.h) */
  /* Derived by setup(). */
  float side_f, radius_f, repulse_f;
  float cut2_f; /* radius^2 (1 + 1e-5): a squared distance at least this has sqrtf(it) >= radius */
  float inv_radius_f; /* 1 / radius when that is exact (radius a power of two, as the benchmark's
                         2), else 0: then d * inv_radius_f is d / radius to the bit (both are the
                         one real number d / radius, rounded once), one division less per pair */
} circles_params;

enum { CIRCLES_X, CIRCLES_Y, CIRCLES_Z, CIRCLES_COLUMNS };
enum { CIRCLES_FLOW_AGENT_STEPS, CIRCLES_FLOW_NEIGHBOURS, CIRCLES_FLOW_CANDIDATES, CIRCLES_FLOW_DRIFT,
       CIRCLES_FLOWS };
enum { CIRCLES_STAT_NEIGHBOURS, CIRCLES_STAT_CANDIDATES, CIRCLES_STAT_DRIFT, CIRCLES_STATS };

/* Drift (distance moved in one step) is summed exactly as an integer of 2^-32 units. */
#define CIRCLES_DRIFT_SCALE 4294967296.0

/* Uniform in the cube, three draws from the agent's INIT stream. */
MYR_HD static inline void circles_init_agent(const myr_view *v, int64_t i) {
  const circles_params *p = (const circles_params *)v->params;
  myr_rng r = myr_rng_make(v->seed, v->id[i], 0, MYR_RNG_INIT_AGENT);
  for (int a = 0; a < 3; a++) {
    float c = myr_rng_uniform(&r) * p->side_f;
    if (c >= p->side_f) c = 0.0f; /* rounding up to the side: stay inside [0, side) */
    MYR_COL(v, CIRCLES_X + a, float)[i] = c;
  }
}

/* circles_act's helpers are inlined into it with `wrap` a constant (two copies of the walk), so
 * that the walk does not test the space's wrap flag for every coordinate of every candidate. */
#ifdef __CUDACC__
#define CIRCLES_INLINE __forceinline__
#else
#define CIRCLES_INLINE inline
#endif

/* The squared distance from (x, y, z) to a published position q, and the displacement to it
 * (the nearest image when wrap, the space's flag). */
MYR_HD static CIRCLES_INLINE float circles_d2_to(const myr_nbr_view *s, myr_nbr_pos q, float x, float y, float z,
                                                 int wrap, float *dx, float *dy, float *dz) {
  *dx = myr_nbr_delta_wrap(s, 0, x, q.x, wrap);
  *dy = myr_nbr_delta_wrap(s, 1, y, q.y, wrap);
  *dz = myr_nbr_delta_wrap(s, 2, z, q.z, wrap);
  return *dx * *dx + *dy * *dy + *dz * *dz;
}

/* The same for the published entry e: one 16-byte load. */
MYR_HD static CIRCLES_INLINE float circles_d2(const myr_nbr_view *s, uint32_t e, float x, float y, float z,
                                              int wrap, float *dx, float *dy, float *dz) {
  return circles_d2_to(s, s->pos[e], x, y, z, wrap, dx, dy, dz);
}

/* The force term of a neighbour at displacement (dx, dy, dz), squared distance d2, from a
 * point: returns 1 and sets t[3] to the three terms to add to the force if 0 < d < radius,
 * else returns 0. FLAME GPU's law, k = sin((d / r) * 3.141 * -2) * repulse, times the unit
 * vector, with one division: (k / d) * delta (FLAME GPU divides each component). */
MYR_HD static CIRCLES_INLINE int circles_pair(const circles_params *p, float d2, float dx, float dy, float dz,
                                              float *t) {
  float d = sqrtf(d2);
  if (!(d < p->radius_f && d > 0.0f)) return 0;
  float u = p->inv_radius_f != 0.0f ? d * p->inv_radius_f : d / p->radius_f; /* the same bits */
  float k = myr_sinf((u * 3.141f) * -2.0f) * p->repulse_f;
  float w = k / d;
  t[0] = w * dx;
  t[1] = w * dy;
  t[2] = w * dz;
  return 1;
}

/* The force of the published entry e on a point at (x, y, z) of agent `id`, for an entry whose
 * squared distance is below cut2_f (the cheap test that most candidates fail: circles_act):
 * circles_pair for an entry that is another agent, else 0. */
MYR_HD static CIRCLES_INLINE int circles_term(const myr_view *v, const circles_params *p, uint32_t e, uint64_t id,
                                              float x, float y, float z, int wrap, float *t) {
  float dx, dy, dz;
  float d2 = circles_d2(&v->nbr, e, x, y, z, wrap, &dx, &dy, &dz);
  return circles_pair(p, d2, dx, dy, dz, t) && v->nbr.id[e] != id;
}

/* circles_term added to f[3] (a neighbour's terms in the walk's order: the sum's bits). */
MYR_HD static CIRCLES_INLINE int circles_force(const myr_view *v, const circles_params *p, uint32_t e, uint64_t id,
                                               float x, float y, float z, int wrap, float *f) {
  float t[3];
  if (!circles_term(v, p, e, id, x, y, z, wrap, t)) return 0;
  f[0] += t[0];
  f[1] += t[1];
  f[2] += t[2];
  return 1;
}

/* Moves the agent by the mean force and returns the distance moved. */
MYR_HD static inline float circles_move(const myr_view *v, const circles_params *p, int64_t i, const float *f,
                                        int count) {
  float c = count > 0 ? (float)count : 1.0f;
  float m[3] = {f[0] / c, f[1] / c, f[2] / c};
  for (int a = 0; a < 3; a++) {
    float *col = MYR_COL(v, CIRCLES_X + a, float);
    float q = col[i] + m[a];
    if (p->wrap) { /* back into [0, side) */
      if (q < 0.0f) q += p->side_f;
      else if (q >= p->side_f) q -= p->side_f;
      if (!(q >= 0.0f && q < p->side_f)) q = 0.0f; /* -tiny + side rounded to side */
    }
    col[i] = q;
  }
  return sqrtf(m[0] * m[0] + m[1] * m[1] + m[2] * m[2]);
}

/* The walk and the forces of circles_act for a point (x, y, z) of agent `id`, with the space's
 * wrap flag as a constant: adds the force to f[3], returns the neighbours, and sets *candidates
 * (entries in the bins of its walk; fewer than 2^32: the snapshot indexes entries with 32 bits).
 * One pass: an entry closer than the cheap cutoff has its force added at once. The GPU runs
 * the same terms in the same order per agent on its own schedule (circles.cu). */
MYR_HD static CIRCLES_INLINE int circles_walk(const myr_view *v, const circles_params *p, uint64_t id, float x,
                                              float y, float z, int wrap, float *f, uint32_t *candidates) {
  int count = 0;
  uint32_t cand = 0;
  MYR_NBR_FOREACH_RUN(&v->nbr, x, y, z, rb, re, {
    cand += re - rb;
    for (uint32_t e = rb; e < re; e++) {
      float dx_, dy_, dz_;
      if (circles_d2(&v->nbr, e, x, y, z, wrap, &dx_, &dy_, &dz_) < p->cut2_f) /* NaN: not kept */
        count += circles_force(v, p, e, id, x, y, z, wrap, f);
    }
  });
  *candidates = cand;
  return count;
}

/* The end of an agent's step: the move by the mean force, and the flows. */
MYR_HD static inline void circles_finish(const myr_view *v, const circles_params *p, int64_t i, const float *f,
                                         int count, uint32_t candidates, int64_t *flow) {
  float drift = circles_move(v, p, i, f, count);
  flow[CIRCLES_FLOW_AGENT_STEPS] += 1;
  flow[CIRCLES_FLOW_NEIGHBOURS] += count;
  flow[CIRCLES_FLOW_CANDIDATES] += candidates;
  flow[CIRCLES_FLOW_DRIFT] += (int64_t)((double)drift * CIRCLES_DRIFT_SCALE);
}

/* act: the forces from every neighbour in the published snapshot, in the engine's order. */
MYR_HD static inline void circles_act(const myr_view *v, int64_t i, int64_t *flow) {
  const circles_params *p = (const circles_params *)v->params;
  float x = MYR_COL(v, CIRCLES_X, float)[i], y = MYR_COL(v, CIRCLES_Y, float)[i];
  float z = MYR_COL(v, CIRCLES_Z, float)[i];
  uint64_t id = v->id[i];
  float f[3] = {0.0f, 0.0f, 0.0f};
  uint32_t candidates;
  int count = v->nbr.wrap ? circles_walk(v, p, id, x, y, z, 1, f, &candidates)
                          : circles_walk(v, p, id, x, y, z, 0, f, &candidates);
  circles_finish(v, p, i, f, count, candidates, flow);
}

#endif
