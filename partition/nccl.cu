/* The nccl transport (nccl.h): a communicator and a stream per GPU rank. A layer sum (or the
 * sum of a window's flows) waits for the step's kernels with an event, sums over the ranks on
 * the rank's own stream, and makes the step's stream wait for it with another event. Integer
 * sums are exact, so every rank ends with the single-rank run's claims, whichever way they travel:
 *   dense:  an in-place ncclAllReduce of the whole layer;
 *   sparse: each rank lists its nonzero cells (index, value), every list is broadcast, and each
 *           rank adds the others' entries into its layer with integer atomics (order-free).
 * Claims sit on the cells agents stand on, a small part of a large world, so the sparse way
 * moves far fewer bytes there; it is taken when the lists (sizes shared first, so every rank
 * decides alike) are under half the dense all-reduce's traffic and their memory can be had. */
#include <cub/device/device_select.cuh>
#include <thrust/iterator/counting_iterator.h>
#include <cuda_runtime.h>
#include <nccl.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include "partition/host.h"
#include "partition/mpi.h" /* counts between processes (spatial_parallel under mpirun) */
#include "partition/nccl.h"
#include "sim/cuda/phase_clock.h" /* MYRIAD_PHASE_TIMES */
#include "partition/spatial.h"
#include "sim/cuda/check.cuh" /* CU(call): CUDA failures as myr_error */

/* A block of halo cells exchanged with one peer (spatial_parallel): the columns [x0, x0 + nx)
 * of the rows [y, y + rows), consecutive spans of one halo (myr_spatial_halo_spans) with one
 * owner and the same columns. Whole rows (nx = the width: bands) lie one after another in a
 * layer and travel straight from and into it; part rows (tiles) travel packed, row after row. */
typedef struct halo_block {
  int peer;
  int32_t y, rows, x0, nx;
} halo_block;

/* Exchanges timed on the rank's stream whose times are not yet counted (a ring). */
#define TIMED_EXCHANGES 16

typedef struct nccl_rank {
  ncclComm_t comm;
  cudaStream_t stream;
  cudaEvent_t ready, done; /* ready: the step's work so far; done: the last exchange's end */
  /* each exchange's start and end (the ring), counted once done: waiting for the previous
   * exchange before starting the next would leave the GPU idle between them, as long as the
   * host takes to launch the next */
  cudaEvent_t t_start[TIMED_EXCHANGES], t_end[TIMED_EXCHANGES];
  int t_first, t_n;               /* the oldest uncounted exchange, how many there are */
  int defer;                      /* this exchange leaves the step's stream free (communication: async) */
  int deferred;                   /* ... and the step's stream has not yet waited for it (done) */
  /* sparse sums: this rank's count and list, everyone's lists, CUB's scratch (grown on demand) */
  long long *count;                /* device [ranks + 1]: nonzero cells per rank, then a vote */
  long long *host_count;           /* pinned [ranks + 1] */
  int32_t *idx, *all_idx;
  uint64_t *val, *all_val;         /* values widened to 8 bytes */
  size_t idx_cap, val_cap, all_idx_cap, all_val_cap; /* entries */
  void *cub_temp;
  size_t cub_bytes;
  /* spatial_parallel: the tiles, this rank's halo as blocks with one owner (`halo`), the blocks
   * of its own cells in the others' halos (`given`, peer = that rank), in the order both sides
   * issue their sends and receives (room for halo_cap and given_cap); receive space, packed
   * part rows going out, migration buffers */
  const myr_spatial *sp;
  halo_block *halo, *given;
  int n_halo, n_given, halo_cap, given_cap;
  int32_t *row0, *col0; /* device [ranks + 1], [px + 1] (one allocation, at row0) */
  void *tmp, *pack, *out_rows, *in_rows;
  size_t tmp_cap, pack_cap, out_cap, in_cap;
  /* ghosts (cells are neighbour bins): bands: for each row, the ranks whose halo holds it
   * (device, CSR: peers ghost_peer[ghost_start[y] .. ghost_start[y + 1])); tiles: the `given`
   * blocks on the device (ghost_blocks[n_given]), a bin going to the peer of each block that
   * holds it; and the ghost rows sent and received (the received stay until the next publish
   * has read them) */
  int32_t *ghost_start, *ghost_peer;
  halo_block *ghost_blocks;
  void *ghost_out, *ghost_in;
  size_t ghost_out_cap, ghost_in_cap;
  int processes; /* 1: one process per rank (mpirun): counts go over MPI, not a shared table */
} nccl_rank;

#define NCCL_TRY(call, what)                                                                          \
  do {                                                                                                \
    ncclResult_t r_ = (call);                                                                         \
    if (r_ != ncclSuccess)                                                                            \
      return myr_fail(err, MYR_ERR_BACKEND, "NCCL: %s failed: %s", what, ncclGetErrorString(r_));     \
  } while (0)

extern "C" int myr_nccl_available(void) { return 1; }

/* ---- sparse sums ------------------------------------------------------------------------------ */

template <class T>
__global__ void count_nonzero(const T *layer, int64_t cells, long long *count) {
  long long mine = 0;
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < cells; i += (int64_t)gridDim.x * blockDim.x)
    mine += layer[i] != 0;
  for (int o = 16; o > 0; o /= 2) mine += __shfl_down_sync(0xffffffffu, mine, o);
  if ((threadIdx.x & 31) == 0 && mine) atomicAdd((unsigned long long *)count, (unsigned long long)mine);
}

template <class T>
struct nonzero_at {
  const T *layer;
  __device__ bool operator()(int32_t i) const { return layer[i] != 0; }
};

template <class T>
__global__ void gather_values(const T *layer, const int32_t *idx, uint64_t *val, int64_t n) {
  for (int64_t k = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; k < n; k += (int64_t)gridDim.x * blockDim.x)
    val[k] = (uint64_t)layer[idx[k]];
}

/* Adds entries [0, skip_begin) and [skip_end, n) into the layer (the rest are this rank's own). */
template <class T>
__global__ void add_entries(T *layer, const int32_t *idx, const uint64_t *val, int64_t n, int64_t skip_begin,
                            int64_t skip_end) {
  for (int64_t k = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; k < n; k += (int64_t)gridDim.x * blockDim.x) {
    if (k >= skip_begin && k < skip_end) continue;
    if (sizeof(T) == 8) atomicAdd((unsigned long long *)&layer[idx[k]], (unsigned long long)val[k]);
    else atomicAdd((unsigned int *)&layer[idx[k]], (unsigned int)val[k]);
  }
}

static int blocks_for(int64_t n) {
  int64_t b = (n + 255) / 256;
  return (int)(b < 4096 ? (b > 0 ? b : 1) : 4096);
}

/* Grows *p to hold n items of `size` bytes; 0 when the memory cannot be had (the caller then
 * sums densely). */
static int reserve(void **p, size_t *cap, size_t n, size_t size) {
  if (n <= *cap) return 1;
  if (*p) cudaFree(*p);
  *p = NULL;
  *cap = 0;
  size_t want = n + n / 8 + 1024;
  if (cudaMalloc(p, want * size) != cudaSuccess) {
    cudaGetLastError();
    *p = NULL;
    return 0;
  }
  *cap = want;
  return 1;
}

/* The nonzero cells of every rank's layer (counts shared over NCCL); returns their total. */
template <class T>
static myr_status count_all(nccl_rank *k, const T *layer, int64_t cells, int ranks, int me, myr_error *err) {
  CU(cudaMemsetAsync(k->count, 0, (size_t)ranks * sizeof(long long), k->stream));
  count_nonzero<T><<<blocks_for(cells), 256, 0, k->stream>>>(layer, cells, k->count + me);
  CU(cudaGetLastError());
  NCCL_TRY(ncclAllGather(k->count + me, k->count, 1, ncclInt64, k->comm, k->stream), "ncclAllGather");
  CU(cudaMemcpyAsync(k->host_count, k->count, (size_t)ranks * sizeof(long long), cudaMemcpyDeviceToHost,
                           k->stream));
  CU(cudaStreamSynchronize(k->stream));
  return MYR_OK;
}

/* Sums one layer the sparse way (counts already in k->host_count). */
template <class T>
static myr_status sum_sparse(nccl_rank *k, T *layer, int64_t cells, int ranks, int me, myr_error *err) {
  int64_t mine = k->host_count[me], total = 0, before = 0;
  for (int q = 0; q < ranks; q++) {
    if (q < me) before += k->host_count[q];
    total += k->host_count[q];
  }
  /* this rank's list: indices of nonzero cells in order, then their values */
  size_t bytes = 0;
  thrust::counting_iterator<int32_t> cells_iter(0);
  nonzero_at<T> pred = {layer};
  CU(cub::DeviceSelect::If(NULL, bytes, cells_iter, k->idx, k->count + me, cells, pred, k->stream));
  if (!reserve(&k->cub_temp, &k->cub_bytes, bytes, 1))
    return myr_fail(err, MYR_ERR_NOMEM, "NCCL sparse sum: no room for %zu bytes of scratch", bytes);
  bytes = k->cub_bytes;
  CU(cub::DeviceSelect::If(k->cub_temp, bytes, cells_iter, k->idx, k->count + me, cells, pred, k->stream));
  gather_values<T><<<blocks_for(mine), 256, 0, k->stream>>>(layer, k->idx, k->val, mine);
  CU(cudaGetLastError());
  /* every list to every rank, each into its place in rank order */
  NCCL_TRY(ncclGroupStart(), "ncclGroupStart");
  int64_t at = 0;
  for (int q = 0; q < ranks; q++) {
    size_t n = (size_t)k->host_count[q];
    if (n) {
      NCCL_TRY(ncclBroadcast(k->idx, k->all_idx + at, n, ncclInt32, q, k->comm, k->stream), "ncclBroadcast");
      NCCL_TRY(ncclBroadcast(k->val, k->all_val + at, n, ncclUint64, q, k->comm, k->stream), "ncclBroadcast");
    }
    at += (int64_t)n;
  }
  NCCL_TRY(ncclGroupEnd(), "ncclGroupEnd");
  add_entries<T><<<blocks_for(total), 256, 0, k->stream>>>(layer, k->all_idx, k->all_val, total, before, before + mine);
  CU(cudaGetLastError());
  return MYR_OK;
}

static myr_status make_streams(nccl_rank *k, myr_error *err) {
  CU(cudaStreamCreateWithFlags(&k->stream, cudaStreamNonBlocking));
  CU(cudaEventCreateWithFlags(&k->ready, cudaEventDisableTiming));
  CU(cudaEventCreateWithFlags(&k->done, cudaEventDisableTiming));
  for (int i = 0; i < TIMED_EXCHANGES; i++) {
    CU(cudaEventCreate(&k->t_start[i]));
    CU(cudaEventCreate(&k->t_end[i]));
  }
  int ranks = 0;
  if (ncclCommCount(k->comm, &ranks) != ncclSuccess) ranks = 1024;
  CU(cudaMalloc((void **)&k->count, (size_t)(ranks + 1) * sizeof(long long)));
  CU(cudaHostAlloc((void **)&k->host_count, (size_t)(ranks + 1) * sizeof(long long), cudaHostAllocDefault));
  return MYR_OK;
}

#define WARM_P2P_RANKS 64          /* teams up to this size connect every pair at creation */
#define WARM_P2P_FLOATS (1 << 14)   /* 64 KiB: above NCCL's LL threshold for point-to-point */
static_assert((WARM_P2P_RANKS + 1) * WARM_P2P_FLOATS <= (1 << 21), "warm_up's buffer holds every peer's message");

/* One send and one receive of `count` floats between every pair of ranks, for the ranks of this
 * process (ks[n], one group): rank r sends buf[0, count) to every peer and receives peer q's
 * into buf at (1 + q) x WARM_P2P_FLOATS. */
static ncclResult_t warm_pairs(nccl_rank **ks, float **buf, int n, size_t count) {
  ncclResult_t r = ncclGroupStart();
  for (int i = 0; i < n && r == ncclSuccess; i++) {
    int me = 0, size = 0;
    if ((r = ncclCommUserRank(ks[i]->comm, &me)) != ncclSuccess || (r = ncclCommCount(ks[i]->comm, &size)) != ncclSuccess)
      break;
    for (int q = 0; q < size && r == ncclSuccess; q++) {
      if (q == me) continue;
      r = ncclSend(buf[i], count, ncclFloat, q, ks[i]->comm, ks[i]->stream);
      if (r == ncclSuccess)
        r = ncclRecv(buf[i] + (size_t)(1 + q) * WARM_P2P_FLOATS, count, ncclFloat, q, ks[i]->comm, ks[i]->stream);
    }
  }
  ncclResult_t e = ncclGroupEnd();
  return r == ncclSuccess ? e : r;
}

/* NCCL connects ranks at their first collective of each kind (about 0.1 s on 4 H200s) and each
 * pair at its first send and receive (about 0.165 s in all on 4 H200s, by the phase clock's
 * means and medians: 8% of a 400-step spatial run at 100M agents, in its first steps). Paid
 * here, at creation, not by the first syncs of a timed run: a small and a large all-reduce
 * (NCCL's two protocols) over every rank of this process (ks[n], one thread); in teams of up to
 * WARM_P2P_RANKS a small and a larger message between every pair (larger teams connect pairs
 * at first use); then a wait. */
static myr_status warm_up(nccl_rank **ks, const int *devices, int n, myr_error *err) {
  const size_t sizes[2] = {1, (size_t)1 << 21}; /* floats: 4 bytes, 8 MiB */
  float *buf[1024] = {0};
  myr_status s = MYR_OK;
  for (int i = 0; i < n && s == MYR_OK; i++) {
    if (devices) cudaSetDevice(devices[i]);
    if (cudaMalloc((void **)&buf[i], sizes[1] * sizeof(float)) != cudaSuccess ||
        cudaMemsetAsync(buf[i], 0, sizes[1] * sizeof(float), ks[i]->stream) != cudaSuccess)
      s = myr_fail(err, MYR_ERR_NOMEM, "NCCL warm-up: no room for %zu bytes", sizes[1] * sizeof(float));
  }
  for (int j = 0; j < 2 && s == MYR_OK; j++) {
    ncclResult_t r = ncclGroupStart();
    for (int i = 0; i < n && r == ncclSuccess; i++)
      r = ncclAllReduce(buf[i], buf[i], sizes[j], ncclFloat, ncclSum, ks[i]->comm, ks[i]->stream);
    ncclResult_t e = ncclGroupEnd();
    if (r == ncclSuccess) r = e;
    if (r != ncclSuccess) s = myr_fail(err, MYR_ERR_BACKEND, "NCCL warm-up failed: %s", ncclGetErrorString(r));
  }
  int size = 0;
  if (s == MYR_OK && ncclCommCount(ks[0]->comm, &size) == ncclSuccess && size > 1 && size <= WARM_P2P_RANKS)
    for (int j = 0; j < 2 && s == MYR_OK; j++) {
      ncclResult_t r = warm_pairs(ks, buf, n, j ? WARM_P2P_FLOATS : 1);
      if (r != ncclSuccess)
        s = myr_fail(err, MYR_ERR_BACKEND, "NCCL warm-up (point-to-point) failed: %s", ncclGetErrorString(r));
    }
  for (int i = 0; i < n; i++) {
    if (devices) cudaSetDevice(devices[i]);
    if (s == MYR_OK && cudaStreamSynchronize(ks[i]->stream) != cudaSuccess)
      s = myr_fail(err, MYR_ERR_BACKEND, "NCCL warm-up: %s", cudaGetErrorString(cudaGetLastError()));
    cudaFree(buf[i]);
  }
  return s;
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
    ranks[i].sync_layers = myr_nccl_sum_layers;
    ranks[i].sum_flows = myr_nccl_sum_flows;
    s = make_streams(k, err);
  }
  free(comms);
  nccl_rank *ks[1024];
  for (int i = 0; i < n && s == MYR_OK; i++) ks[i] = (nccl_rank *)ranks[i].team;
  return s == MYR_OK ? warm_up(ks, devices, n, err) : s;
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
  CU(cudaSetDevice(rank->device));
  rank->team = k;
  rank->sync_layers = myr_nccl_sum_layers;
  rank->sum_flows = myr_nccl_sum_flows;
  k->processes = 1;
  NCCL_TRY(ncclCommInitRank(&k->comm, size, u, rank->index), "ncclCommInitRank");
  myr_status s = make_streams(k, err);
  return s == MYR_OK ? warm_up(&k, NULL, 1, err) : s;
}

extern "C" void myr_nccl_close(myr_rank *rank) {
  nccl_rank *k = (nccl_rank *)rank->team;
  if (!k) return;
  if (rank->device >= 0) cudaSetDevice(rank->device);
  if (k->comm) ncclCommDestroy(k->comm);
  if (k->stream) cudaStreamDestroy(k->stream);
  if (k->ready) cudaEventDestroy(k->ready);
  if (k->done) cudaEventDestroy(k->done);
  for (int i = 0; i < TIMED_EXCHANGES; i++) {
    if (k->t_start[i]) cudaEventDestroy(k->t_start[i]);
    if (k->t_end[i]) cudaEventDestroy(k->t_end[i]);
  }
  cudaFree(k->count);
  cudaFreeHost(k->host_count);
  cudaFree(k->idx);
  cudaFree(k->val);
  cudaFree(k->all_idx);
  cudaFree(k->all_val);
  cudaFree(k->cub_temp);
  cudaFree(k->row0);
  cudaFree(k->tmp);
  cudaFree(k->pack);
  cudaFree(k->out_rows);
  cudaFree(k->in_rows);
  cudaFree(k->ghost_start);
  cudaFree(k->ghost_peer);
  cudaFree(k->ghost_blocks);
  cudaFree(k->ghost_out);
  cudaFree(k->ghost_in);
  free(k->halo);
  free(k->given);
  free(k);
  rank->team = NULL;
}

static ncclDataType_t nccl_type(size_t bytes) {
  return bytes == 1 ? ncclUint8 : bytes == 4 ? ncclUint32 : ncclUint64; /* wrapping sums, as one rank's */
}

/* Adds the times of the rank's finished exchanges to its communication time, oldest first,
 * stopping at one still running; with `wait`, waits for all of them. */
static myr_status count_exchanges(myr_rank *r, nccl_rank *k, int wait, myr_error *err) {
  while (k->t_n > 0) {
    const int i = k->t_first;
    if (wait) {
      CU(cudaEventSynchronize(k->t_end[i]));
    } else {
      cudaError_t q = cudaEventQuery(k->t_end[i]);
      if (q == cudaErrorNotReady) break;
      CU(q);
    }
    float ms = 0;
    CU(cudaEventElapsedTime(&ms, k->t_start[i], k->t_end[i]));
    r->seconds_comm += ms / 1000.0;
    k->t_first = (i + 1) % TIMED_EXCHANGES;
    k->t_n--;
  }
  return MYR_OK;
}

/* Every exchange of the rank counted (the team reads seconds_comm after its steps). */
extern "C" myr_status myr_nccl_count_comm(myr_rank *r, myr_error *err) {
  return r->team ? count_exchanges(r, (nccl_rank *)r->team, 1, err) : MYR_OK;
}

/* An exchange on the rank's NCCL stream: it starts after the step's work queued so far, and
 * the step's next work waits for its end; the host never waits. Its time is counted once it is
 * done (count_exchanges). */
static myr_status begin_exchange(myr_rank *r, nccl_rank *k, cudaStream_t step, myr_error *err) {
  myr_status counted = count_exchanges(r, k, k->t_n == TIMED_EXCHANGES, err); /* waits only when the ring is full */
  if (counted != MYR_OK) return counted;
  CU(cudaEventRecord(k->ready, step));
  CU(cudaStreamWaitEvent(k->stream, k->ready, 0));
  CU(cudaEventRecord(k->t_start[(k->t_first + k->t_n) % TIMED_EXCHANGES], k->stream));
  return MYR_OK;
}

static myr_status end_exchange(nccl_rank *k, cudaStream_t step, myr_error *err) {
  CU(cudaEventRecord(k->t_end[(k->t_first + k->t_n) % TIMED_EXCHANGES], k->stream));
  k->t_n++;
  CU(cudaEventRecord(k->done, k->stream));
  if (k->defer) { /* the step's stream waits in myr_nccl_sync_wait */
    k->deferred = 1;
    return MYR_OK;
  }
  CU(cudaStreamWaitEvent(step, k->done, 0));
  return MYR_OK;
}

/* communication: async: the step's stream waits for the exchange left in flight (done: the last
 * one recorded, which on the rank's in-order NCCL stream comes after it). */
extern "C" myr_status myr_nccl_sync_wait(myr_rank *r, void *stream, myr_error *err) {
  nccl_rank *k = (nccl_rank *)r->team;
  if (!k->deferred) return MYR_OK;
  CU(cudaStreamWaitEvent((cudaStream_t)stream, k->done, 0));
  k->deferred = 0;
  return MYR_OK;
}

extern "C" myr_status myr_nccl_sum_layers(myr_rank *r, myr_sim *sim, const myr_view *v, int phase, void *stream,
                                          myr_error *err) {
  nccl_rank *k = (nccl_rank *)r->team;
  const myr_model *m = sim->model;
  int any = 0;
  for (int l = 0; l < m->n_layers; l++) any |= myr_layer_summed_in(m, l, phase);
  if (!any) return MYR_OK;
  cudaStream_t step = (cudaStream_t)stream;
  int64_t cells = (int64_t)v->width * v->height;
  int ranks = r->count, me = r->index;
  myr_status begun = begin_exchange(r, k, step, err);
  if (begun != MYR_OK) return begun;
  for (int l = 0; l < m->n_layers; l++) {
    if (!myr_layer_summed_in(m, l, phase)) continue;
    size_t es = myr_type_size(m->layers[l].type);
    double dense = 2.0 * (double)(ranks - 1) / (double)ranks * (double)cells * (double)es;
    int sparse = 0;
    if (es == 4 || es == 8) { /* sizes first: every rank sees them and decides alike */
      myr_status s = es == 4 ? count_all(k, (const uint32_t *)v->layer[l], cells, ranks, me, err)
                             : count_all(k, (const uint64_t *)v->layer[l], cells, ranks, me, err);
      if (s != MYR_OK) return s;
      int64_t total = 0, most = 0;
      for (int q = 0; q < ranks; q++) {
        total += k->host_count[q];
        if (k->host_count[q] > most) most = k->host_count[q];
      }
      double bytes = (double)(total - k->host_count[me]) * (4.0 + 8.0);
      int room = bytes < dense / 2 && /* no memory is taken for lists that would not pay */
                 reserve((void **)&k->idx, &k->idx_cap, (size_t)most, sizeof(int32_t)) &&
                 reserve((void **)&k->val, &k->val_cap, (size_t)most, sizeof(uint64_t)) &&
                 reserve((void **)&k->all_idx, &k->all_idx_cap, (size_t)total, sizeof(int32_t)) &&
                 reserve((void **)&k->all_val, &k->all_val_cap, (size_t)total, sizeof(uint64_t));
      /* every rank must choose alike, and one may lack the memory: the smallest vote wins */
      long long *vote = k->host_count + ranks, *dvote = k->count + ranks;
      *vote = bytes < dense / 2 && room;
      CU(cudaMemcpyAsync(dvote, vote, sizeof *vote, cudaMemcpyHostToDevice, k->stream));
      NCCL_TRY(ncclAllReduce(dvote, dvote, 1, ncclInt64, ncclMin, k->comm, k->stream), "ncclAllReduce");
      CU(cudaMemcpyAsync(vote, dvote, sizeof *vote, cudaMemcpyDeviceToHost, k->stream));
      CU(cudaStreamSynchronize(k->stream));
      sparse = *vote == 1;
      if (sparse) {
        s = es == 4 ? sum_sparse(k, (uint32_t *)v->layer[l], cells, ranks, me, err)
                    : sum_sparse(k, (uint64_t *)v->layer[l], cells, ranks, me, err);
        if (s != MYR_OK) return s;
        r->bytes_moved += bytes;
      }
    }
    if (!sparse) {
      NCCL_TRY(ncclAllReduce(v->layer[l], v->layer[l], (size_t)cells, nccl_type(es), ncclSum, k->comm, k->stream),
               "ncclAllReduce");
      r->bytes_moved += dense; /* a ring all-reduce sends 2 (n - 1) / n of the buffer from every rank */
    }
  }
  return end_exchange(k, step, err);
}

/* The window's flows: one in-place ncclAllReduce of MYR_MAX_FLOWS int64 on the rank's stream,
 * ordered after the step's kernels and before the next ones like the layer sums (no host wait). */
extern "C" myr_status myr_nccl_sum_flows(myr_rank *r, myr_sim *sim, int64_t *window, void *stream, myr_error *err) {
  (void)sim;
  nccl_rank *k = (nccl_rank *)r->team;
  cudaStream_t step = (cudaStream_t)stream;
  myr_status begun = begin_exchange(r, k, step, err);
  if (begun != MYR_OK) return begun;
  NCCL_TRY(ncclAllReduce(window, window, MYR_MAX_FLOWS, ncclInt64, ncclSum, k->comm, k->stream), "ncclAllReduce");
  r->bytes_moved += 2.0 * (double)(r->count - 1) / (double)r->count * (double)(MYR_MAX_FLOWS * sizeof *window);
  return end_exchange(k, step, err);
}

/* ---- spatial_parallel on GPU ranks ------------------------------------------------------------ */

/* Rank q's halo (its spans, myr_spatial_halo_spans) as blocks in span order: a span joins the
 * block of the same owner and columns that ends on the row above it, else starts one. Both
 * sides of every exchange derive the blocks from the same spans, so their sends and receives
 * pair up in order. A band's halo gives the runs of consecutive rows with one owner. At most
 * as many blocks as spans. */
static int blocks_of(const myr_spatial *sp, int q, halo_block *out) {
  const myr_spatial_span *span;
  int n = myr_spatial_halo_spans(sp, q, &span), blocks = 0;
  for (int k = 0; k < n; k++) {
    int j = blocks - 1;
    for (; j >= 0; j--) {
      const halo_block *b = &out[j];
      if (b->peer == span[k].owner && b->x0 == span[k].x0 && b->nx == span[k].n && b->y + b->rows == span[k].y) break;
    }
    if (j >= 0) {
      out[j].rows++;
      continue;
    }
    out[blocks].peer = span[k].owner;
    out[blocks].y = span[k].y;
    out[blocks].rows = 1;
    out[blocks].x0 = span[k].x0;
    out[blocks].nx = span[k].n;
    blocks++;
  }
  return blocks;
}

/* Bands: for each row this rank owns, the ranks that hold it in their halo (k->given), as CSR
 * on the device; the others' rows have none. */
static myr_status ghost_peers(nccl_rank *k, const myr_spatial *sp, myr_error *err) {
  int32_t rows = sp->height, entries = 0;
  int32_t *start = (int32_t *)calloc((size_t)rows + 1, sizeof *start);
  for (int j = 0; start && j < k->n_given; j++) entries += k->given[j].rows;
  int32_t *peer = (int32_t *)malloc(sizeof *peer * (size_t)(entries > 0 ? entries : 1)), *fill = NULL;
  if (start && peer) fill = (int32_t *)calloc((size_t)rows + 1, sizeof *fill);
  if (!start || !peer || !fill) {
    free(start);
    free(peer);
    free(fill);
    return myr_fail(err, MYR_ERR_NOMEM, "cannot allocate the ghosts' peers");
  }
  for (int j = 0; j < k->n_given; j++)
    for (int32_t y = k->given[j].y; y < k->given[j].y + k->given[j].rows; y++) start[y + 1]++;
  for (int32_t y = 0; y < rows; y++) start[y + 1] += start[y];
  for (int j = 0; j < k->n_given; j++)
    for (int32_t y = k->given[j].y; y < k->given[j].y + k->given[j].rows; y++) peer[start[y] + fill[y]++] = k->given[j].peer;
  free(fill);
  cudaError_t e = cudaMalloc((void **)&k->ghost_start, sizeof(int32_t) * ((size_t)rows + 1));
  if (e == cudaSuccess) e = cudaMalloc((void **)&k->ghost_peer, sizeof(int32_t) * (size_t)(entries > 0 ? entries : 1));
  if (e == cudaSuccess) e = cudaMemcpy(k->ghost_start, start, sizeof(int32_t) * ((size_t)rows + 1), cudaMemcpyHostToDevice);
  if (e == cudaSuccess && entries > 0)
    e = cudaMemcpy(k->ghost_peer, peer, sizeof(int32_t) * (size_t)entries, cudaMemcpyHostToDevice);
  free(start);
  free(peer);
  CU(e);
  return MYR_OK;
}

/* Tiles: the given blocks on the device (a ghost goes to the peer of every block holding its
 * bin; the blocks of one peer never overlap, so to each peer once). */
static myr_status ghost_tiles(nccl_rank *k, myr_error *err) {
  CU(cudaMalloc((void **)&k->ghost_blocks, sizeof(halo_block) * (size_t)(k->n_given > 0 ? k->n_given : 1)));
  if (k->n_given > 0)
    CU(cudaMemcpy(k->ghost_blocks, k->given, sizeof(halo_block) * (size_t)k->n_given, cudaMemcpyHostToDevice));
  return MYR_OK;
}

/* Room for rank q's halo blocks: its spans now, and for bands (px = 1) the 2 x halo + 1 rows
 * any band boundaries give (balance dynamic moves them; tiles never move). */
static int block_room(const myr_spatial *sp, int q) {
  const myr_spatial_span *span;
  int n = myr_spatial_halo_spans(sp, q, &span);
  return n + (sp->px == 1 ? 2 * sp->halo + 2 : 1);
}

/* The halo blocks (this rank's, and its cells in the others'), the tiles' cuts on the device,
 * and the ghosts' peers, from sp's present tiles: at attach, and again when the bands move. */
/* Room in k->halo and k->given for the blocks of sp's present tiles (they grow when the cuts of
 * tiles move). */
static myr_status room_for_blocks(myr_rank *r, nccl_rank *k, const myr_spatial *sp, myr_error *err) {
  int halo_cap = block_room(sp, r->index), given_cap = 0;
  for (int q = 0; q < sp->size; q++) given_cap += q == r->index ? 0 : block_room(sp, q);
  if (halo_cap > k->halo_cap) {
    free(k->halo);
    k->halo = (halo_block *)calloc((size_t)halo_cap, sizeof *k->halo);
    k->halo_cap = k->halo ? halo_cap : 0;
  }
  if (given_cap > k->given_cap || !k->given) {
    free(k->given);
    k->given = (halo_block *)calloc((size_t)(given_cap > 0 ? given_cap : 1), sizeof *k->given);
    k->given_cap = k->given ? given_cap : 0;
  }
  if (!k->halo || !k->given) return myr_fail(err, MYR_ERR_NOMEM, "cannot allocate the halo blocks");
  return MYR_OK;
}

static myr_status plan_halos(myr_rank *r, nccl_rank *k, const myr_spatial *sp, myr_error *err) {
  myr_status rs = room_for_blocks(r, k, sp, err);
  if (rs != MYR_OK) return rs;
  int most = 1;
  for (int q = 0; q < sp->size; q++)
    if (block_room(sp, q) > most) most = block_room(sp, q);
  halo_block *scratch = (halo_block *)calloc((size_t)most, sizeof *scratch);
  if (!scratch) return myr_fail(err, MYR_ERR_NOMEM, "cannot allocate the halo blocks");
  k->n_halo = blocks_of(sp, r->index, k->halo);
  k->n_given = 0;
  for (int q = 0; q < sp->size; q++) { /* q's halo blocks of this rank's cells, in q's order */
    if (q == r->index) continue;
    int n = blocks_of(sp, q, scratch);
    for (int j = 0; j < n; j++)
      if (scratch[j].peer == r->index && k->n_given < k->given_cap) {
        k->given[k->n_given] = scratch[j];
        k->given[k->n_given++].peer = q;
      }
  }
  free(scratch);
  CU(cudaMemcpy(k->row0, sp->row0, sizeof(int32_t) * (size_t)(sp->py + 1), cudaMemcpyHostToDevice));
  CU(cudaMemcpy(k->col0, sp->col0, sizeof(int32_t) * (size_t)(sp->px + 1), cudaMemcpyHostToDevice));
  if (!sp->by_bins) return MYR_OK;
  cudaFree(k->ghost_start);
  cudaFree(k->ghost_peer);
  cudaFree(k->ghost_blocks);
  k->ghost_start = k->ghost_peer = NULL;
  k->ghost_blocks = NULL;
  return sp->px > 1 ? ghost_tiles(k, err) : ghost_peers(k, sp, err);
}

extern "C" myr_status myr_nccl_spatial_attach(myr_rank *r, const myr_spatial *sp, myr_error *err) {
  nccl_rank *k = (nccl_rank *)r->team;
  k->sp = sp;
  CU(cudaMalloc((void **)&k->row0, sizeof(int32_t) * (size_t)(sp->size + 1 + sp->px + 1)));
  k->col0 = k->row0 + sp->size + 1;
  myr_status s = plan_halos(r, k, sp, err);
  if (s != MYR_OK) return s;
  r->sync_layers = myr_nccl_spatial_sync;
  r->migrate = myr_nccl_spatial_migrate;
  r->sync_wait = myr_nccl_sync_wait;
  return MYR_OK;
}

static int grow(void **p, size_t *cap, size_t need) {
  if (need <= *cap) return 1;
  cudaFree(*p);
  *p = NULL;
  *cap = 0;
  if (cudaMalloc(p, need + need / 4 + 4096) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  *cap = need + need / 4 + 4096;
  return 1;
}

template <class T>
__global__ void add_rows(T *dst, const T *src, int64_t n) {
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
    dst[i] = (T)(dst[i] + src[i]);
}

/* A block of part rows: layer[(b.y + i / b.nx) x width + b.x0 + i % b.nx] += src[i], the block
 * packed row after row in src. */
template <class T>
__global__ void add_block(T *layer, int32_t width, halo_block b, const T *src) {
  int64_t n = (int64_t)b.rows * b.nx;
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    int64_t cell = ((int64_t)b.y + i / b.nx) * width + b.x0 + i % b.nx;
    layer[cell] = (T)(layer[cell] + src[i]);
  }
}

typedef int (*layer_pick)(const myr_model *m, int l, int point);
static int pick_summed(const myr_model *m, int l, int point) { return myr_layer_summed_in(m, l, point); }
static int pick_all(const myr_model *, int, int) { return 1; }
static int pick_transient(const myr_model *m, int l, int) { return m->layers[l].lifetime == MYR_TRANSIENT; }
static int pick_persistent(const myr_model *m, int l, int) { return m->layers[l].lifetime == MYR_PERSISTENT; }


/* Block b of a layer of es-byte cells: whether it is whole rows, where it starts, its bytes. */
static int whole_rows(const myr_spatial *sp, const halo_block *b) { return b->nx == sp->width; }
static char *block_at(const myr_spatial *sp, void *layer, const halo_block *b, size_t es) {
  return (char *)layer + ((size_t)b->y * (size_t)sp->width + (size_t)b->x0) * es;
}
static size_t block_bytes(const halo_block *b, size_t es) { return (size_t)b->rows * (size_t)b->nx * es; }

/* Block b of the layer packed row after row at `to` (packed = 1), or from `from` into the layer
 * (packed = 0), on the rank's stream. */
static myr_status copy_block(nccl_rank *k, void *layer, const halo_block *b, size_t es, char *buf, int pack,
                             myr_error *err) {
  size_t pitch = (size_t)k->sp->width * es, row = (size_t)b->nx * es;
  char *cells = block_at(k->sp, layer, b, es);
  if (pack) CU(cudaMemcpy2DAsync(buf, row, cells, pitch, row, (size_t)b->rows, cudaMemcpyDeviceToDevice, k->stream));
  else CU(cudaMemcpy2DAsync(cells, pitch, buf, row, row, (size_t)b->rows, cudaMemcpyDeviceToDevice, k->stream));
  return MYR_OK;
}

/* Block b of the layer zeroed. */
static myr_status clear_block(nccl_rank *k, void *layer, const halo_block *b, size_t es, myr_error *err) {
  if (whole_rows(k->sp, b)) CU(cudaMemsetAsync(block_at(k->sp, layer, b, es), 0, block_bytes(b, es), k->stream));
  else
    CU(cudaMemset2DAsync(block_at(k->sp, layer, b, es), (size_t)k->sp->width * es, 0, (size_t)b->nx * es,
                         (size_t)b->rows, k->stream));
  return MYR_OK;
}

/* Part-row blocks among blocks[n] (pick: halo or given), picked layers: their bytes, and with
 * `buf` each packed there in turn (layer, then block order). */
static myr_status pack_blocks(nccl_rank *k, const myr_model *m, const myr_view *v, layer_pick pick, int point,
                              const halo_block *blocks, int n, char *buf, size_t *bytes, myr_error *err) {
  *bytes = 0;
  for (int l = 0; l < m->n_layers; l++) {
    if (!pick(m, l, point)) continue;
    size_t es = myr_type_size(m->layers[l].type);
    for (int j = 0; j < n; j++) {
      if (whole_rows(k->sp, &blocks[j])) continue;
      if (buf) {
        myr_status s = copy_block(k, v->layer[l], &blocks[j], es, buf + *bytes, 1, err);
        if (s != MYR_OK) return s;
      }
      *bytes += block_bytes(&blocks[j], es);
    }
  }
  return MYR_OK;
}

/* blocks[n] of one layer of es-byte cells sent to their peers in order (inside a group): whole
 * rows straight from the layer, part rows from k->pack at *out, which moves on past them. */
static myr_status send_blocks(myr_rank *r, nccl_rank *k, void *layer, size_t es, const halo_block *blocks, int n,
                              size_t *out, myr_error *err) {
  for (int j = 0; j < n; j++) {
    const halo_block *b = &blocks[j];
    size_t bytes = block_bytes(b, es);
    const char *from = whole_rows(k->sp, b) ? block_at(k->sp, layer, b, es) : (const char *)k->pack + *out;
    if (!whole_rows(k->sp, b)) *out += bytes;
    NCCL_TRY(ncclSend(from, bytes, ncclUint8, b->peer, k->comm, k->stream), "ncclSend");
    r->bytes_moved += (double)bytes;
  }
  return MYR_OK;
}

/* Halo blocks written here go to their owners and are added into their cells; then cleared.
 * Whole rows go straight from the layer, part rows packed first (k->pack, in the order they are
 * sent); everything received lands in k->tmp, in the order of the given blocks. */
static myr_status halo_sums(myr_rank *r, nccl_rank *k, const myr_model *m, const myr_view *v, int point,
                            myr_error *err) {
  size_t need = 0, packed = 0, sent = 0;
  for (int l = 0; l < m->n_layers; l++) {
    if (!pick_summed(m, l, point)) continue;
    size_t es = myr_type_size(m->layers[l].type);
    for (int j = 0; j < k->n_given; j++) need += block_bytes(&k->given[j], es);
    for (int j = 0; j < k->n_halo; j++) sent += block_bytes(&k->halo[j], es);
  }
  if (need == 0 && sent == 0) return MYR_OK;
  myr_status s = pack_blocks(k, m, v, pick_summed, point, k->halo, k->n_halo, NULL, &packed, err);
  if (s != MYR_OK) return s;
  if (!grow(&k->tmp, &k->tmp_cap, need) || !grow(&k->pack, &k->pack_cap, packed))
    return myr_fail(err, MYR_ERR_NOMEM, "halo sums: no room for %zu bytes", need + packed);
  if (packed && (s = pack_blocks(k, m, v, pick_summed, point, k->halo, k->n_halo, (char *)k->pack, &packed, err)) != MYR_OK)
    return s;
  NCCL_TRY(ncclGroupStart(), "ncclGroupStart");
  size_t at = 0, out = 0;
  for (int l = 0; l < m->n_layers; l++) {
    if (!pick_summed(m, l, point)) continue;
    size_t es = myr_type_size(m->layers[l].type);
    if ((s = send_blocks(r, k, v->layer[l], es, k->halo, k->n_halo, &out, err)) != MYR_OK) return s;
    for (int j = 0; j < k->n_given; j++) {
      NCCL_TRY(ncclRecv((char *)k->tmp + at, block_bytes(&k->given[j], es), ncclUint8, k->given[j].peer, k->comm,
                        k->stream), "ncclRecv");
      at += block_bytes(&k->given[j], es);
    }
  }
  NCCL_TRY(ncclGroupEnd(), "ncclGroupEnd");
  at = 0;
  for (int l = 0; l < m->n_layers; l++) {
    if (!pick_summed(m, l, point)) continue;
    size_t es = myr_type_size(m->layers[l].type);
    for (int j = 0; j < k->n_given; j++) {
      const halo_block *b = &k->given[j];
      const char *src = (const char *)k->tmp + at;
      if (whole_rows(k->sp, b)) {
        int64_t n = (int64_t)b->rows * k->sp->width;
        char *dst = block_at(k->sp, v->layer[l], b, es);
        if (es == 1) add_rows<uint8_t><<<blocks_for(n), 256, 0, k->stream>>>((uint8_t *)dst, (const uint8_t *)src, n);
        else if (es == 4) add_rows<uint32_t><<<blocks_for(n), 256, 0, k->stream>>>((uint32_t *)dst, (const uint32_t *)src, n);
        else add_rows<uint64_t><<<blocks_for(n), 256, 0, k->stream>>>((uint64_t *)dst, (const uint64_t *)src, n);
      } else {
        int64_t n = (int64_t)b->rows * b->nx;
        int32_t w = k->sp->width;
        if (es == 1) add_block<uint8_t><<<blocks_for(n), 256, 0, k->stream>>>((uint8_t *)v->layer[l], w, *b, (const uint8_t *)src);
        else if (es == 4) add_block<uint32_t><<<blocks_for(n), 256, 0, k->stream>>>((uint32_t *)v->layer[l], w, *b, (const uint32_t *)src);
        else add_block<uint64_t><<<blocks_for(n), 256, 0, k->stream>>>((uint64_t *)v->layer[l], w, *b, (const uint64_t *)src);
      }
      CU(cudaGetLastError());
      at += block_bytes(b, es);
    }
    for (int j = 0; j < k->n_halo; j++)
      if ((s = clear_block(k, v->layer[l], &k->halo[j], es, err)) != MYR_OK) return s;
  }
  return MYR_OK;
}

/* The halo blocks of the picked layers copied from their owners. Whole rows travel straight
 * between the layers; part rows the owner packs (k->pack, in the order it sends them) and the
 * receiver takes into k->tmp and puts in place after the group. */
static myr_status halo_copies(myr_rank *r, nccl_rank *k, const myr_model *m, const myr_view *v, layer_pick pick,
                              int point, myr_error *err) {
  size_t packed = 0, need = 0;
  myr_status s = pack_blocks(k, m, v, pick, point, k->given, k->n_given, NULL, &packed, err);
  if (s == MYR_OK) s = pack_blocks(k, m, v, pick, point, k->halo, k->n_halo, NULL, &need, err);
  if (s != MYR_OK) return s;
  if (!grow(&k->tmp, &k->tmp_cap, need) || !grow(&k->pack, &k->pack_cap, packed))
    return myr_fail(err, MYR_ERR_NOMEM, "halo copies: no room for %zu bytes", need + packed);
  if (packed && (s = pack_blocks(k, m, v, pick, point, k->given, k->n_given, (char *)k->pack, &packed, err)) != MYR_OK)
    return s;
  NCCL_TRY(ncclGroupStart(), "ncclGroupStart");
  size_t in = 0, out = 0;
  for (int l = 0; l < m->n_layers; l++) {
    if (!pick(m, l, point)) continue;
    size_t es = myr_type_size(m->layers[l].type);
    for (int j = 0; j < k->n_halo; j++) {
      const halo_block *b = &k->halo[j];
      size_t bytes = block_bytes(b, es);
      char *into = whole_rows(k->sp, b) ? block_at(k->sp, v->layer[l], b, es) : (char *)k->tmp + in;
      if (!whole_rows(k->sp, b)) in += bytes;
      NCCL_TRY(ncclRecv(into, bytes, ncclUint8, b->peer, k->comm, k->stream), "ncclRecv");
    }
    if ((s = send_blocks(r, k, v->layer[l], es, k->given, k->n_given, &out, err)) != MYR_OK) return s;
  }
  NCCL_TRY(ncclGroupEnd(), "ncclGroupEnd");
  in = 0;
  for (int l = 0; l < m->n_layers && need > 0; l++) { /* part rows received: into place */
    if (!pick(m, l, point)) continue;
    size_t es = myr_type_size(m->layers[l].type);
    for (int j = 0; j < k->n_halo; j++) {
      const halo_block *b = &k->halo[j];
      if (whole_rows(k->sp, b)) continue;
      if ((s = copy_block(k, v->layer[l], b, es, (char *)k->tmp + in, 0, err)) != MYR_OK) return s;
      in += block_bytes(b, es);
    }
  }
  return MYR_OK;
}

extern "C" myr_status myr_nccl_spatial_sync(myr_rank *r, myr_sim *sim, const myr_view *v, int point, void *stream,
                                            myr_error *err) {
  nccl_rank *k = (nccl_rank *)r->team;
  const myr_model *m = sim->model;
  if (m->n_layers == 0) return MYR_OK;
  cudaStream_t step = (cudaStream_t)stream;
  myr_status begun = begin_exchange(r, k, step, err);
  if (begun != MYR_OK) return begun;
  myr_status s = MYR_OK;
  k->defer = r->defer; /* only these halo exchanges may be left in flight */
  switch (point) {
  case MYR_SYNC_AFTER_ACT:
  case MYR_SYNC_AFTER_AGENTS: s = halo_sums(r, k, m, v, point, err); break;
  case MYR_SYNC_AFTER_CELLS_BEGIN: s = halo_copies(r, k, m, v, pick_all, point, err); break;
  case MYR_SYNC_AFTER_CELLS_END:
    for (int l = 0; l < m->n_layers && s == MYR_OK; l++) {
      if (!pick_transient(m, l, point)) continue;
      size_t es = myr_type_size(m->layers[l].type);
      for (int j = 0; j < k->n_halo && s == MYR_OK; j++) s = clear_block(k, v->layer[l], &k->halo[j], es, err);
    }
    if (s == MYR_OK) s = halo_copies(r, k, m, v, pick_persistent, point, err);
    break;
  }
  if (s == MYR_OK) s = end_exchange(k, step, err);
  k->defer = 0;
  return s;
}

extern "C" int myr_cuda_agent_row_bytes(const myr_sim *sim);
extern "C" myr_status myr_cuda_emigrate(myr_sim *sim, const int32_t *row0, int py, const int32_t *col0, int px,
                                        int me, int xcol, int ycol, const myr_nbr_view *bins, void **buf, size_t *cap,
                                        int64_t *counts, myr_error *err);
extern "C" myr_status myr_cuda_immigrate(myr_sim *sim, const void *rows, int64_t m, myr_error *err);
extern "C" int myr_cuda_device_view(const myr_sim *sim, myr_view *v, void **stream);
extern "C" myr_status myr_cuda_neighbours_ghosts(myr_sim *sim, const void *rows, int64_t n, myr_error *err);

/* ---- ghosts: other ranks' agents near the band or tile, for the neighbour snapshot ------------- */

typedef struct ghost_cols {
  const float *col[MYR_NBR_MAX_COLUMNS];
  int n, row_bytes;
} ghost_cols;

/* Bands: count[q] += this rank's alive agents whose y-bin lies in rank q's halo. */
__global__ void ghost_count(const float *y, const uint8_t *alive, int64_t n, myr_nbr_view bins, const int32_t *start,
                            const int32_t *peer, unsigned long long *count) {
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    if (!alive[i]) continue;
    int32_t b = myr_nbr_bin(&bins, 1, y[i]);
    for (int32_t j = start[b]; j < start[b + 1]; j++) atomicAdd(&count[peer[j]], 1ull);
  }
}

/* Agent i as a ghost row at `row`: id, published columns, zero padding. */
__device__ inline void put_ghost(const ghost_cols &cols, const uint64_t *id, int64_t i, char *row) {
  *(uint64_t *)row = id[i];
  float *c = (float *)(row + 8);
  for (int k = 0; k < cols.n; k++) c[k] = cols.col[k][i];
  if (cols.n % 2) c[cols.n] = 0.0f; /* padding to 8 bytes */
}

/* The same agents as ghost rows, each at a place taken from its peer's cursor (the peer's
 * first row, then counting up): the order inside a peer's rows follows the atomics, which no
 * result sees (the snapshot sorts its bins by id). */
__global__ void ghost_pack(ghost_cols cols, const uint64_t *id, const float *y, const uint8_t *alive, int64_t n,
                           myr_nbr_view bins, const int32_t *start, const int32_t *peer, unsigned long long *cursor,
                           char *out) {
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    if (!alive[i]) continue;
    int32_t b = myr_nbr_bin(&bins, 1, y[i]);
    for (int32_t j = start[b]; j < start[b + 1]; j++)
      put_ghost(cols, id, i, out + (size_t)atomicAdd(&cursor[peer[j]], 1ull) * (size_t)cols.row_bytes);
  }
}

/* Tiles: whether bin (bx, by) lies in block b. */
__device__ inline bool block_holds(const halo_block &b, int32_t bx, int32_t by) {
  return by >= b.y && by < b.y + b.rows && bx >= b.x0 && bx < b.x0 + b.nx;
}

/* Tiles: count[q] += this rank's alive agents whose (x, y) bin lies in rank q's halo, i.e. in a
 * given block (blocks[nb]) of peer q. */
__global__ void ghost_count_tiles(const float *x, const float *y, const uint8_t *alive, int64_t n, myr_nbr_view bins,
                                  const halo_block *blocks, int nb, unsigned long long *count) {
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    if (!alive[i]) continue;
    int32_t bx = myr_nbr_bin(&bins, 0, x[i]), by = myr_nbr_bin(&bins, 1, y[i]);
    for (int j = 0; j < nb; j++)
      if (block_holds(blocks[j], bx, by)) atomicAdd(&count[blocks[j].peer], 1ull);
  }
}

/* Tiles: the same agents as ghost rows at places taken from their peers' cursors (ghost_pack). */
__global__ void ghost_pack_tiles(ghost_cols cols, const uint64_t *id, const float *x, const float *y,
                                 const uint8_t *alive, int64_t n, myr_nbr_view bins, const halo_block *blocks, int nb,
                                 unsigned long long *cursor, char *out) {
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    if (!alive[i]) continue;
    int32_t bx = myr_nbr_bin(&bins, 0, x[i]), by = myr_nbr_bin(&bins, 1, y[i]);
    for (int j = 0; j < nb; j++)
      if (block_holds(blocks[j], bx, by))
        put_ghost(cols, id, i, out + (size_t)atomicAdd(&cursor[blocks[j].peer], 1ull) * (size_t)cols.row_bytes);
  }
}

/* s, or the failure of another rank, found where every rank of the team calls this:
 * processes (mpirun) agree over MPI as partition/spatial_mpi.c does (the step's own agreement
 * has then happened); threads of one process meet at the spatial team's barrier. */
static myr_status agree_processes(myr_rank *r, myr_spatial *sp, myr_status s, myr_error *err) {
  if (!myr_mpi_max_int(s != MYR_OK)) return MYR_OK;
  sp->agreed_failure = 1;
  return s != MYR_OK ? s
                     : myr_fail(err, MYR_ERR_INTERNAL, "rank %d stopped: another rank failed (its message is above)",
                                r->index);
}

static myr_status agree_threads(myr_rank *r, myr_spatial *sp, myr_status s, myr_error *err) {
  if (s != MYR_OK) myr_host_abort(&sp->host, r->index);
  if (myr_host_barrier(&sp->host))
    return s != MYR_OK ? s
                       : myr_fail(err, MYR_ERR_INTERNAL, "rank %d stopped: rank %d failed", r->index, sp->host.abort_rank);
  return s;
}

/* Shares row `me` of the R x R count table (this rank's counts for each peer, filled by the
 * caller; s: this rank's state so far) so that column `me`, each peer's count for this rank,
 * can be read. Threads share the table itself between barriers (release_counts' barrier keeps
 * it until all have read it); processes send their row over MPI and fill their column. */
static myr_status share_counts(myr_rank *r, nccl_rank *k, myr_spatial *sp, int64_t *table, myr_status s,
                               myr_error *err) {
  if (!k->processes) return agree_threads(r, sp, s, err);
  if ((s = agree_processes(r, sp, s, err)) != MYR_OK) return s;
  int R = sp->size, me = r->index;
  int64_t column[1024];
  myr_mpi_alltoall_i64(table + (size_t)me * (size_t)R, column);
  for (int q = 0; q < R; q++) table[(size_t)q * (size_t)R + (size_t)me] = column[q];
  return MYR_OK;
}

/* The end of an exchange that read the shared table: threads wait until all have read it (and
 * stop together if one failed); a process's failure meets the others at the step's agreement. */
static myr_status release_counts(myr_rank *r, nccl_rank *k, myr_spatial *sp, myr_status s, myr_error *err) {
  return k->processes ? s : agree_threads(r, sp, s, err);
}

/* After a migration: this rank's agents in the others' halos go to them as ghost rows and
 * theirs come here, for the next snapshot (myr_cuda_neighbours_ghosts). Counts are packed on
 * the device and shared through sp->ghost_counts between barriers (the caller's last barrier
 * keeps them until all have read them); the rows travel in one group of sends and receives on
 * the rank's stream, after the packing and before the next step's kernels (events). */
static myr_status exchange_ghosts(myr_rank *r, nccl_rank *k, myr_spatial *sp, myr_sim *sim, myr_error *err) {
  int R = sp->size, me = r->index;
  myr_view v;
  void *vs = NULL;
  if (!myr_cuda_device_view(sim, &v, &vs)) return myr_fail(err, MYR_ERR_INTERNAL, "ghosts: rank %d is not on a GPU", me);
  cudaStream_t step = (cudaStream_t)vs;
  const float *x = (const float *)v.col[sp->xcol], *y = (const float *)v.col[sp->ycol];
  int tiles = sp->px > 1;
  unsigned long long *dcount = (unsigned long long *)k->count;
  CU(cudaMemsetAsync(dcount, 0, sizeof(unsigned long long) * (size_t)R, step));
  if (v.n > 0) {
    if (tiles)
      ghost_count_tiles<<<blocks_for(v.n), 256, 0, step>>>(x, y, v.alive, v.n, sp->bins, k->ghost_blocks, k->n_given,
                                                           dcount);
    else ghost_count<<<blocks_for(v.n), 256, 0, step>>>(y, v.alive, v.n, sp->bins, k->ghost_start, k->ghost_peer, dcount);
    CU(cudaGetLastError());
  }
  CU(cudaMemcpyAsync(k->host_count, dcount, sizeof(long long) * (size_t)R, cudaMemcpyDeviceToHost, step));
  CU(cudaStreamSynchronize(step));
  for (int q = 0; q < R; q++) sp->ghost_counts[(size_t)me * (size_t)R + (size_t)q] = q == me ? 0 : k->host_count[q];
  myr_status shared = share_counts(r, k, sp, sp->ghost_counts, MYR_OK, err); /* every rank's counts for this one */
  if (shared != MYR_OK) return shared;
  size_t gb = (size_t)myr_nbr_ghost_row_bytes(sp->n_cols);
  int64_t sent = 0, got = 0;
  unsigned long long first[1024]; /* each peer's first row in the send buffer */
  for (int q = 0; q < R; q++) {
    first[q] = (unsigned long long)sent;
    sent += sp->ghost_counts[(size_t)me * (size_t)R + (size_t)q];
    got += sp->ghost_counts[(size_t)q * (size_t)R + (size_t)me];
  }
  if (!grow(&k->ghost_out, &k->ghost_out_cap, (size_t)sent * gb + 8) ||
      !grow(&k->ghost_in, &k->ghost_in_cap, (size_t)got * gb + 8))
    return myr_fail(err, MYR_ERR_NOMEM, "ghosts: no room for %lld rows out and %lld in", (long long)sent, (long long)got);
  if (sent > 0) {
    CU(cudaMemcpyAsync(dcount, first, sizeof(unsigned long long) * (size_t)R, cudaMemcpyHostToDevice, step));
    ghost_cols cols;
    memset(&cols, 0, sizeof cols);
    cols.n = sp->n_cols;
    cols.row_bytes = (int)gb;
    for (int c = 0; c < sp->n_cols; c++) cols.col[c] = (const float *)v.col[sp->cols[c]];
    if (tiles)
      ghost_pack_tiles<<<blocks_for(v.n), 256, 0, step>>>(cols, v.id, x, y, v.alive, v.n, sp->bins, k->ghost_blocks,
                                                          k->n_given, dcount, (char *)k->ghost_out);
    else
      ghost_pack<<<blocks_for(v.n), 256, 0, step>>>(cols, v.id, y, v.alive, v.n, sp->bins, k->ghost_start,
                                                    k->ghost_peer, dcount, (char *)k->ghost_out);
    CU(cudaGetLastError());
  }
  myr_status begun = begin_exchange(r, k, step, err);
  if (begun != MYR_OK) return begun;
  NCCL_TRY(ncclGroupStart(), "ncclGroupStart");
  size_t in_at = 0;
  for (int q = 0; q < R; q++) {
    if (q == me) continue;
    size_t send = (size_t)sp->ghost_counts[(size_t)me * (size_t)R + (size_t)q] * gb;
    size_t recv = (size_t)sp->ghost_counts[(size_t)q * (size_t)R + (size_t)me] * gb;
    if (send)
      NCCL_TRY(ncclSend((char *)k->ghost_out + first[q] * gb, send, ncclUint8, q, k->comm, k->stream), "ncclSend");
    if (recv) NCCL_TRY(ncclRecv((char *)k->ghost_in + in_at, recv, ncclUint8, q, k->comm, k->stream), "ncclRecv");
    in_at += recv;
    r->bytes_moved += (double)send;
  }
  NCCL_TRY(ncclGroupEnd(), "ncclGroupEnd");
  myr_status ended = end_exchange(k, step, err);
  return ended != MYR_OK ? ended : myr_cuda_neighbours_ghosts(sim, k->ghost_in, got, err);
}

static double seconds_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static myr_status migrate(myr_rank *r, myr_sim *sim, myr_error *err);

/* Migration agrees on its counts on the host (they decide the receives), so its wall time is
 * communication, and so is its transfer (an exchange, timed on the GPU); the step's kernels
 * still running when it starts are not (they are the rank's compute). */
extern "C" myr_status myr_nccl_spatial_migrate(myr_rank *r, myr_sim *sim, myr_error *err) {
  CU(cudaStreamSynchronize((cudaStream_t)myr_cuda_stream_of(sim)));
  myr_cuda_phase_mark(sim, "host caught up");
  double t0 = seconds_now();
  myr_status s = migrate(r, sim, err);
  r->seconds_comm += seconds_now() - t0;
  return s;
}

static myr_status migrate(myr_rank *r, myr_sim *sim, myr_error *err) {
  nccl_rank *k = (nccl_rank *)r->team;
  myr_spatial *sp = (myr_spatial *)k->sp;
  int R = sp->size, me = r->index;
  const int *pos = sim->model->position_columns ? sim->model->position_columns : sim->model->cell_columns;
  int64_t *mine = sp->moves + (size_t)me * (size_t)R;
  myr_status s = myr_cuda_emigrate(sim, k->row0, sp->py, k->col0, sp->px, me, sp->by_bins ? sp->xcol : pos[0],
                                   sp->by_bins ? sp->ycol : pos[1], sp->by_bins ? &sp->bins : NULL, &k->out_rows,
                                   &k->out_cap, mine, err);
  myr_cuda_phase_mark(sim, "leavers listed");
  if ((s = share_counts(r, k, sp, sp->moves, s, err)) != MYR_OK) return s; /* each rank's count for this one */
  myr_cuda_phase_mark(sim, "move counts shared");
  size_t row = (size_t)myr_cuda_agent_row_bytes(sim);
  int64_t arriving = 0;
  r->departed = 0;
  for (int q = 0; q < R; q++) {
    if (q != me) arriving += sp->moves[(size_t)q * (size_t)R + (size_t)me];
    r->departed += mine[q]; /* mine[me] is 0 */
  }
  int ok = grow(&k->in_rows, &k->in_cap, (size_t)arriving * row + 1);
  if (ok) {
    /* the rows go after their packing and land before their unpacking, both on the step's
     * stream: events, no host wait */
    cudaStream_t step = (cudaStream_t)myr_cuda_stream_of(sim);
    if ((s = begin_exchange(r, k, step, err)) != MYR_OK) return s;
    NCCL_TRY(ncclGroupStart(), "ncclGroupStart");
    size_t out_at = 0, in_at = 0;
    for (int q = 0; q < R; q++) {
      if (q == me) continue;
      size_t send = (size_t)mine[q] * row, recv = (size_t)sp->moves[(size_t)q * (size_t)R + (size_t)me] * row;
      if (send) NCCL_TRY(ncclSend((char *)k->out_rows + out_at, send, ncclUint8, q, k->comm, k->stream), "ncclSend");
      if (recv) NCCL_TRY(ncclRecv((char *)k->in_rows + in_at, recv, ncclUint8, q, k->comm, k->stream), "ncclRecv");
      out_at += send;
      in_at += recv;
      r->bytes_moved += (double)send;
    }
    NCCL_TRY(ncclGroupEnd(), "ncclGroupEnd");
    s = end_exchange(k, step, err);
    myr_cuda_phase_mark(sim, "leavers sent");
    if (s == MYR_OK) s = myr_cuda_immigrate(sim, k->in_rows, arriving, err);
    myr_cuda_phase_mark(sim, "agents moved");
  } else {
    s = myr_fail(err, MYR_ERR_NOMEM, "migration: no room for %lld arriving agents", (long long)arriving);
  }
  if (s == MYR_OK && sp->by_bins) {
    s = exchange_ghosts(r, k, sp, sim, err); /* for the next snapshot */
    myr_cuda_phase_mark(sim, "ghosts");
  }
  return release_counts(r, k, sp, s, err); /* nobody refills sp->moves before all have read it */
}

/* ---- balance dynamic on GPU ranks (partition/balance.h decides, team.c calls) ------------------ */

extern "C" myr_status myr_cuda_compact(myr_sim *sim, myr_error *err);
extern "C" myr_status myr_cuda_take_last(myr_sim *sim, int64_t k, void **buf, size_t *cap, myr_error *err);
extern "C" myr_status myr_cuda_count_rows(myr_sim *sim, int ycol, const myr_nbr_view *bins, int32_t height,
                                          int64_t *count, myr_error *err);

/* data_parallel: boundary by boundary, left to right as both ranks of each see it, the giver's
 * last agents go to the taker as packed rows (one send and one receive on the ranks' streams).
 * The caller has checked that every taker has the slots, so no rank waits for rows that never
 * come. */
extern "C" myr_status myr_nccl_move_agents(myr_rank *r, myr_sim *sim, const int64_t *flow, myr_error *err) {
  nccl_rank *k = (nccl_rank *)r->team;
  int me = r->index;
  size_t row = (size_t)myr_cuda_agent_row_bytes(sim);
  for (int b = 0; b + 1 < r->count; b++) {
    int64_t n = flow[b] < 0 ? -flow[b] : flow[b];
    int from = flow[b] > 0 ? b : b + 1, to = flow[b] > 0 ? b + 1 : b;
    if (n == 0 || (me != from && me != to)) continue;
    myr_status s = MYR_OK;
    if (me == from) {
      if ((s = myr_cuda_take_last(sim, n, &k->out_rows, &k->out_cap, err)) != MYR_OK) return s;
      NCCL_TRY(ncclSend(k->out_rows, (size_t)n * row, ncclUint8, to, k->comm, k->stream), "ncclSend");
      CU(cudaStreamSynchronize(k->stream));
      r->bytes_moved += (double)n * (double)row;
    } else {
      if (!grow(&k->in_rows, &k->in_cap, (size_t)n * row))
        return myr_fail(err, MYR_ERR_NOMEM, "balance dynamic: no room for %lld arriving agents", (long long)n);
      NCCL_TRY(ncclRecv(k->in_rows, (size_t)n * row, ncclUint8, from, k->comm, k->stream), "ncclRecv");
      CU(cudaStreamSynchronize(k->stream));
      if ((s = myr_cuda_immigrate(sim, k->in_rows, n, err)) != MYR_OK) return s;
    }
  }
  return MYR_OK;
}

/* spatial_parallel: count[y] += this rank's agents in row y. */
extern "C" myr_status myr_nccl_spatial_count_rows(myr_rank *r, myr_sim *sim, int64_t *count, myr_error *err) {
  const myr_spatial *sp = ((nccl_rank *)r->team)->sp;
  const int *pos = sim->model->position_columns ? sim->model->position_columns : sim->model->cell_columns;
  return myr_cuda_count_rows(sim, sp->by_bins ? sp->ycol : pos[1], sp->by_bins ? &sp->bins : NULL, sp->height, count,
                             err);
}

/* The same per column (tiles): the counter of rows run on the x column, or with neighbour bins
 * on a layout whose y axis is the x axis. */
extern "C" myr_status myr_nccl_spatial_count_cols(myr_rank *r, myr_sim *sim, int64_t *count, myr_error *err) {
  const myr_spatial *sp = ((nccl_rank *)r->team)->sp;
  const int *pos = sim->model->position_columns ? sim->model->position_columns : sim->model->cell_columns;
  myr_nbr_view along_x = sp->bins;
  along_x.inv_width[1] = sp->bins.inv_width[0];
  along_x.bins[1] = sp->bins.bins[0];
  return myr_cuda_count_rows(sim, sp->by_bins ? sp->xcol : pos[0], sp->by_bins ? &along_x : NULL, sp->width, count,
                             err);
}

/* The cells rank a holds under the cuts `a` and rank b under `b` share, as a block
 * (myr_spatial_shared_cells; rows 0: none). */
static halo_block shared_block(const myr_spatial *sp, myr_spatial_cuts a_cuts, int a, myr_spatial_cuts b_cuts, int b) {
  myr_spatial_span first;
  halo_block blk;
  blk.rows = myr_spatial_shared_cells(sp, a_cuts, a, b_cuts, b, &first);
  blk.peer = b;
  blk.y = first.y;
  blk.x0 = first.x0;
  blk.nx = first.n;
  return blk;
}

/* Every layer's cells that changed owner, from the owner under the old cuts to the owner under
 * sp's: whole rows straight between the layers, part rows packed (k->pack out, k->tmp in). */
static myr_status hand_cells(myr_rank *r, nccl_rank *k, myr_sim *sim, const int32_t *old_col0,
                             const int32_t *old_row0, myr_error *err) {
  const myr_spatial *sp = k->sp;
  const myr_model *m = sim->model;
  if (m->n_layers == 0) return MYR_OK;
  myr_view v;
  void *vs = NULL;
  if (!myr_cuda_device_view(sim, &v, &vs)) return myr_fail(err, MYR_ERR_INTERNAL, "rank %d is not on a GPU", r->index);
  const int me = r->index, R = sp->size;
  const myr_spatial_cuts old = {old_col0, old_row0}, now = {sp->col0, sp->row0};
  halo_block *out = (halo_block *)calloc((size_t)R * 2, sizeof *out), *in = out + R;
  if (!out) return myr_fail(err, MYR_ERR_NOMEM, "cannot plan the cells handed over");
  size_t packed = 0, need = 0;
  for (int q = 0; q < R; q++) {
    out[q] = shared_block(sp, old, me, now, q); /* mine before, q's now */
    in[q] = shared_block(sp, old, q, now, me);  /* q's before, mine now */
    if (q == me) out[q].rows = in[q].rows = 0;
    for (int l = 0; l < m->n_layers; l++) {
      size_t es = myr_type_size(m->layers[l].type);
      if (out[q].rows && !whole_rows(sp, &out[q])) packed += block_bytes(&out[q], es);
      if (in[q].rows && !whole_rows(sp, &in[q])) need += block_bytes(&in[q], es);
    }
  }
  myr_status s = MYR_OK;
  if (!grow(&k->pack, &k->pack_cap, packed + 8) || !grow(&k->tmp, &k->tmp_cap, need + 8))
    s = myr_fail(err, MYR_ERR_NOMEM, "cannot hold %zu bytes of cells handed over", packed + need);
  if (s == MYR_OK) s = begin_exchange(r, k, (cudaStream_t)vs, err);
  size_t at = 0;
  for (int l = 0; l < m->n_layers && s == MYR_OK; l++) { /* part rows out, packed in (layer, peer) order */
    size_t es = myr_type_size(m->layers[l].type);
    for (int q = 0; q < R && s == MYR_OK; q++) {
      if (!out[q].rows || whole_rows(sp, &out[q])) continue;
      s = copy_block(k, v.layer[l], &out[q], es, (char *)k->pack + at, 1, err);
      at += block_bytes(&out[q], es);
    }
  }
  if (s == MYR_OK) {
    size_t po = 0, ti = 0;
    NCCL_TRY(ncclGroupStart(), "ncclGroupStart");
    for (int l = 0; l < m->n_layers; l++) {
      size_t es = myr_type_size(m->layers[l].type);
      for (int q = 0; q < R; q++) {
        if (out[q].rows) {
          size_t bytes = block_bytes(&out[q], es);
          const char *from = whole_rows(sp, &out[q]) ? block_at(sp, v.layer[l], &out[q], es) : (const char *)k->pack + po;
          if (!whole_rows(sp, &out[q])) po += bytes;
          NCCL_TRY(ncclSend(from, bytes, ncclUint8, q, k->comm, k->stream), "ncclSend");
          r->bytes_moved += (double)bytes;
        }
        if (in[q].rows) {
          size_t bytes = block_bytes(&in[q], es);
          char *into = whole_rows(sp, &in[q]) ? block_at(sp, v.layer[l], &in[q], es) : (char *)k->tmp + ti;
          if (!whole_rows(sp, &in[q])) ti += bytes;
          NCCL_TRY(ncclRecv(into, bytes, ncclUint8, q, k->comm, k->stream), "ncclRecv");
        }
      }
    }
    NCCL_TRY(ncclGroupEnd(), "ncclGroupEnd");
  }
  at = 0;
  for (int l = 0; l < m->n_layers && s == MYR_OK; l++) { /* part rows in: into place */
    size_t es = myr_type_size(m->layers[l].type);
    for (int q = 0; q < R && s == MYR_OK; q++) {
      if (!in[q].rows || whole_rows(sp, &in[q])) continue;
      s = copy_block(k, v.layer[l], &in[q], es, (char *)k->tmp + at, 0, err);
      at += block_bytes(&in[q], es);
    }
  }
  free(out);
  return s == MYR_OK ? end_exchange(k, (cudaStream_t)vs, err) : s;
}

/* The cuts moved (sp's; they were old_col0, old_row0): cells to their new owners, halos planned
 * and refreshed as after a sync's last point, agents (and ghosts) to the tile they stand in. */
extern "C" myr_status myr_nccl_spatial_shift(myr_rank *r, myr_sim *sim, const int32_t *old_col0,
                                             const int32_t *old_row0, myr_error *err) {
  nccl_rank *k = (nccl_rank *)r->team;
  myr_status s = hand_cells(r, k, sim, old_col0, old_row0, err);
  if (s == MYR_OK) s = plan_halos(r, k, k->sp, err);
  if (s == MYR_OK && sim->model->n_layers > 0) {
    myr_view v;
    void *vs = NULL;
    myr_cuda_device_view(sim, &v, &vs);
    s = myr_nccl_spatial_sync(r, sim, &v, MYR_SYNC_AFTER_CELLS_END, vs, err);
  }
  if (s == MYR_OK) s = myr_nccl_spatial_migrate(r, sim, err);
  return s == MYR_OK ? myr_cuda_compact(sim, err) : s;
}
