/* The nccl transport (nccl.h): a communicator and a stream per GPU rank. A layer sum waits for
 * the step's kernels with an event, runs the in-place all-reduces of that phase's layers as one
 * NCCL group on the rank's own stream, and makes the step's stream wait for them with another
 * event. Integer sums are exact, so every rank ends with the single-rank run's claims. */
#include <cuda_runtime.h>
#include <nccl.h>
#include <stdlib.h>
#include <string.h>

#include "partition/host.h"
#include "partition/nccl.h"

typedef struct nccl_rank {
  ncclComm_t comm;
  cudaStream_t stream;
  cudaEvent_t ready, done, start; /* ready: the step's work so far; done/start: the sums */
  int timed;                      /* start/done hold a sum whose time is not yet counted */
} nccl_rank;

#define NCCL_TRY(call, what)                                                                          \
  do {                                                                                                \
    ncclResult_t r_ = (call);                                                                         \
    if (r_ != ncclSuccess)                                                                            \
      return myr_fail(err, MYR_ERR_BACKEND, "NCCL: %s failed: %s", what, ncclGetErrorString(r_));     \
  } while (0)
#define CUDA_TRY(call)                                                                                \
  do {                                                                                                \
    cudaError_t e_ = (call);                                                                          \
    if (e_ != cudaSuccess)                                                                            \
      return myr_fail(err, MYR_ERR_BACKEND, "CUDA: %s failed: %s", #call, cudaGetErrorString(e_));    \
  } while (0)

extern "C" int myr_nccl_available(void) { return 1; }

static myr_status make_streams(nccl_rank *k, myr_error *err) {
  CUDA_TRY(cudaStreamCreateWithFlags(&k->stream, cudaStreamNonBlocking));
  CUDA_TRY(cudaEventCreateWithFlags(&k->ready, cudaEventDisableTiming));
  CUDA_TRY(cudaEventCreate(&k->done));
  CUDA_TRY(cudaEventCreate(&k->start));
  return MYR_OK;
}

extern "C" myr_status myr_nccl_open_local(int n, const int *devices, myr_rank *ranks, myr_error *err) {
  ncclComm_t *comms = (ncclComm_t *)calloc((size_t)n, sizeof *comms);
  if (!comms) return myr_fail(err, MYR_ERR_NOMEM, "cannot allocate %d NCCL communicators", n);
  ncclResult_t r = ncclCommInitAll(comms, n, devices);
  if (r != ncclSuccess) {
    free(comms);
    return myr_fail(err, MYR_ERR_BACKEND, "NCCL: ncclCommInitAll over %d GPUs failed: %s", n, ncclGetErrorString(r));
  }
  myr_status s = MYR_OK;
  for (int i = 0; i < n && s == MYR_OK; i++) {
    nccl_rank *k = (nccl_rank *)calloc(1, sizeof *k);
    if (!k) {
      s = myr_fail(err, MYR_ERR_NOMEM, "cannot allocate NCCL rank state");
      break;
    }
    k->comm = comms[i];
    cudaSetDevice(devices[i]);
    ranks[i].team = k;
    ranks[i].sum_layers = myr_nccl_sum_layers;
    s = make_streams(k, err);
  }
  free(comms);
  return s;
}

extern "C" myr_status myr_nccl_unique_id(void *id, myr_error *err) {
  ncclUniqueId u;
  NCCL_TRY(ncclGetUniqueId(&u), "ncclGetUniqueId");
  memcpy(id, &u, sizeof u);
  return MYR_OK;
}

extern "C" myr_status myr_nccl_open_rank(const void *id, int size, myr_rank *rank, myr_error *err) {
  nccl_rank *k = (nccl_rank *)calloc(1, sizeof *k);
  if (!k) return myr_fail(err, MYR_ERR_NOMEM, "cannot allocate NCCL rank state");
  ncclUniqueId u;
  memcpy(&u, id, sizeof u);
  CUDA_TRY(cudaSetDevice(rank->device));
  rank->team = k;
  rank->sum_layers = myr_nccl_sum_layers;
  NCCL_TRY(ncclCommInitRank(&k->comm, size, u, rank->index), "ncclCommInitRank");
  return make_streams(k, err);
}

extern "C" void myr_nccl_close(myr_rank *rank) {
  nccl_rank *k = (nccl_rank *)rank->team;
  if (!k) return;
  if (rank->device >= 0) cudaSetDevice(rank->device);
  if (k->comm) ncclCommDestroy(k->comm);
  if (k->stream) cudaStreamDestroy(k->stream);
  if (k->ready) cudaEventDestroy(k->ready);
  if (k->done) cudaEventDestroy(k->done);
  if (k->start) cudaEventDestroy(k->start);
  free(k);
  rank->team = NULL;
}

static ncclDataType_t nccl_type(size_t bytes) {
  return bytes == 1 ? ncclUint8 : bytes == 4 ? ncclUint32 : ncclUint64; /* wrapping sums, as one rank's */
}

extern "C" myr_status myr_nccl_sum_layers(myr_rank *r, myr_sim *sim, const myr_view *v, int phase, void *stream,
                                          myr_error *err) {
  nccl_rank *k = (nccl_rank *)r->team;
  const myr_model *m = sim->model;
  int any = 0;
  for (int l = 0; l < m->n_layers; l++) any |= myr_layer_summed_in(m, l, phase);
  if (!any) return MYR_OK;
  if (k->timed) { /* the previous sum is long done: count its time */
    float ms = 0;
    CUDA_TRY(cudaEventSynchronize(k->done));
    CUDA_TRY(cudaEventElapsedTime(&ms, k->start, k->done));
    r->seconds_comm += ms / 1000.0;
    k->timed = 0;
  }
  cudaStream_t step = (cudaStream_t)stream;
  size_t cells = (size_t)v->width * (size_t)v->height;
  CUDA_TRY(cudaEventRecord(k->ready, step));
  CUDA_TRY(cudaStreamWaitEvent(k->stream, k->ready, 0));
  CUDA_TRY(cudaEventRecord(k->start, k->stream));
  NCCL_TRY(ncclGroupStart(), "ncclGroupStart");
  for (int l = 0; l < m->n_layers; l++) {
    if (!myr_layer_summed_in(m, l, phase)) continue;
    size_t es = myr_type_size(m->layers[l].type);
    NCCL_TRY(ncclAllReduce(v->layer[l], v->layer[l], cells, nccl_type(es), ncclSum, k->comm, k->stream),
             "ncclAllReduce");
    /* a ring all-reduce sends 2 (n - 1) / n of the buffer from every rank */
    r->bytes_moved += 2.0 * (double)(r->count - 1) / (double)r->count * (double)(cells * es);
  }
  NCCL_TRY(ncclGroupEnd(), "ncclGroupEnd");
  CUDA_TRY(cudaEventRecord(k->done, k->stream));
  CUDA_TRY(cudaStreamWaitEvent(step, k->done, 0));
  k->timed = 1;
  return MYR_OK;
}
