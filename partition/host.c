/* The host transport (host.h): a breakable barrier, the layer and flow sums of CPU ranks. */
#include "partition/host.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

myr_status myr_host_team_init(myr_host_team *h, int size, myr_error *err) {
  memset(h, 0, sizeof *h);
  h->size = size;
  h->abort_rank = -1;
  h->views = calloc((size_t)size, sizeof *h->views);
  h->flows = calloc((size_t)size, sizeof *h->flows);
  if (!h->views || !h->flows) {
    free(h->views);
    free(h->flows);
    h->views = NULL;
    h->flows = NULL;
    return myr_fail(err, MYR_ERR_NOMEM, "cannot allocate the host team of %d ranks", size);
  }
  pthread_mutex_init(&h->mu, NULL);
  pthread_cond_init(&h->cv, NULL);
  return MYR_OK;
}

void myr_host_team_free(myr_host_team *h) {
  if (!h->views) return;
  pthread_mutex_destroy(&h->mu);
  pthread_cond_destroy(&h->cv);
  free(h->views);
  free(h->flows);
  h->views = NULL;
  h->flows = NULL;
}

int myr_host_barrier(myr_host_team *h) {
  pthread_mutex_lock(&h->mu);
  unsigned gen = h->generation;
  if (!h->aborted && ++h->waiting == h->size) {
    h->waiting = 0;
    __atomic_store_n(&h->generation, gen + 1, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&h->cv);
  } else {
    if (h->spin_seconds > 0 && !h->aborted) {
      pthread_mutex_unlock(&h->mu);
      double until = omp_get_wtime() + h->spin_seconds;
      while (__atomic_load_n(&h->generation, __ATOMIC_ACQUIRE) == gen &&
             !__atomic_load_n(&h->aborted, __ATOMIC_ACQUIRE) && omp_get_wtime() < until) {
      }
      pthread_mutex_lock(&h->mu);
    }
    while (gen == h->generation && !h->aborted) pthread_cond_wait(&h->cv, &h->mu);
  }
  int failed = h->aborted;
  pthread_mutex_unlock(&h->mu);
  return failed ? -1 : 0;
}

void myr_host_abort(myr_host_team *h, int rank) {
  pthread_mutex_lock(&h->mu);
  if (!h->aborted) h->abort_rank = rank;
  __atomic_store_n(&h->aborted, 1, __ATOMIC_RELEASE);
  pthread_cond_broadcast(&h->cv);
  pthread_mutex_unlock(&h->mu);
}

int myr_layer_summed_in(const myr_model *m, int l, int phase) {
  return m->layers[l].lifetime == MYR_TRANSIENT && (int)m->layers[l].written_in == phase;
}

/* total = sum over ranks of cell c, written back to every rank; unsigned arithmetic wraps
 * exactly as the single rank's integer adds do. */
#define SUM_SLICE(T)                                                                    \
  static void sum_slice_##T(const myr_view **views, int ranks, int l, int64_t b, int64_t e, \
                            int threads) {                                              \
    _Pragma("omp parallel for schedule(static) num_threads(threads)")                   \
    for (int64_t c = b; c < e; c++) {                                                   \
      T total = 0;                                                                      \
      for (int q = 0; q < ranks; q++) total = (T)(total + ((const T *)views[q]->layer[l])[c]); \
      for (int q = 0; q < ranks; q++) ((T *)views[q]->layer[l])[c] = total;             \
    }                                                                                   \
  }
SUM_SLICE(uint8_t)
SUM_SLICE(uint32_t)
SUM_SLICE(uint64_t)

myr_status myr_host_sum_layers(myr_rank *r, myr_sim *sim, const myr_view *v, int phase, void *stream,
                               myr_error *err) {
  (void)stream;
  myr_host_team *h = (myr_host_team *)r->team;
  const myr_model *m = sim->model;
  int any = 0;
  for (int l = 0; l < m->n_layers; l++) any |= myr_layer_summed_in(m, l, phase);
  if (!any) return MYR_OK;
  double t0 = omp_get_wtime();
  h->views[r->index] = v;
  if (myr_host_barrier(h))
    return myr_fail(err, MYR_ERR_INTERNAL, "rank %d stopped: rank %d failed", r->index, h->abort_rank);
  int64_t cells = myr_cells(v), b = cells * r->index / r->count, e = cells * (r->index + 1) / r->count;
  for (int l = 0; l < m->n_layers; l++) {
    if (!myr_layer_summed_in(m, l, phase)) continue;
    size_t es = myr_type_size(m->layers[l].type);
    if (es == 1) sum_slice_uint8_t(h->views, r->count, l, b, e, sim->threads);
    else if (es == 4) sum_slice_uint32_t(h->views, r->count, l, b, e, sim->threads);
    else sum_slice_uint64_t(h->views, r->count, l, b, e, sim->threads);
    /* like a reduce-scatter plus all-gather: each rank reads and writes its slice elsewhere */
    r->bytes_moved += 2.0 * (double)(r->count - 1) * (double)(e - b) * (double)es;
  }
  int failed = myr_host_barrier(h); /* nobody reads a layer before every slice is summed */
  r->seconds_comm += omp_get_wtime() - t0;
  if (failed) return myr_fail(err, MYR_ERR_INTERNAL, "rank %d stopped: rank %d failed", r->index, h->abort_rank);
  return MYR_OK;
}

myr_status myr_host_sum_flows(myr_rank *r, myr_sim *sim, int64_t *window, void *stream, myr_error *err) {
  (void)sim, (void)stream;
  myr_host_team *h = (myr_host_team *)r->team;
  double t0 = omp_get_wtime();
  h->flows[r->index] = window;
  if (myr_host_barrier(h))
    return myr_fail(err, MYR_ERR_INTERNAL, "rank %d stopped: rank %d failed", r->index, h->abort_rank);
  uint64_t total[MYR_MAX_FLOWS] = {0}; /* unsigned: wraps exactly as one rank's adds would */
  for (int q = 0; q < h->size; q++)
    for (int f = 0; f < MYR_MAX_FLOWS; f++) total[f] += (uint64_t)h->flows[q][f];
  int failed = myr_host_barrier(h); /* every rank has read every window before any is overwritten */
  for (int f = 0; f < MYR_MAX_FLOWS; f++) window[f] = (int64_t)total[f];
  r->bytes_moved += (double)(h->size - 1) * (double)sizeof total; /* each rank reads the others' */
  r->seconds_comm += omp_get_wtime() - t0;
  if (failed) return myr_fail(err, MYR_ERR_INTERNAL, "rank %d stopped: rank %d failed", r->index, h->abort_rank);
  return MYR_OK;
}
