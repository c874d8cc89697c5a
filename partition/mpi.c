/* MPI for teams of processes (mpi.h). */
#include "partition/mpi.h"

#include <stdlib.h>
#include <string.h>

#include "partition/host.h"

#ifdef MYRIAD_HAVE_MPI
#include <mpi.h>
#include <omp.h>

#define CHUNK ((int64_t)1 << 28) /* elements per MPI call: counts are ints */

/* mpirun (Open MPI, MPICH or Slurm's PMI) says how many processes it started. */
static int launched_size(void) {
  const char *vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS"};
  for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
    const char *s = getenv(vars[i]);
    if (s && atoi(s) > 0) return atoi(s);
  }
  return 1;
}

int myr_mpi_world(int *rank, int *size, int *local) {
  *rank = 0, *size = 1, *local = 0;
  if (launched_size() <= 1) return 0;
  int ready = 0;
  MPI_Initialized(&ready);
  if (!ready) {
    int provided;
    MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
  }
  MPI_Comm_rank(MPI_COMM_WORLD, rank);
  MPI_Comm_size(MPI_COMM_WORLD, size);
  MPI_Comm node;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, *rank, MPI_INFO_NULL, &node);
  MPI_Comm_rank(node, local);
  MPI_Comm_free(&node);
  return *size > 1;
}

void myr_mpi_finalize(void) {
  int ready = 0, done = 0;
  MPI_Initialized(&ready);
  MPI_Finalized(&done);
  if (ready && !done) MPI_Finalize();
}

static void sum_in_place(void *v, int64_t n, MPI_Datatype type, size_t size) {
  for (int64_t b = 0; b < n; b += CHUNK) {
    int count = (int)(n - b < CHUNK ? n - b : CHUNK);
    MPI_Allreduce(MPI_IN_PLACE, (char *)v + (size_t)b * size, count, type, MPI_SUM, MPI_COMM_WORLD);
  }
}

void myr_mpi_sum_i64(int64_t *v, int64_t n) { sum_in_place(v, n, MPI_INT64_T, sizeof *v); }
void myr_mpi_sum_f64(double *v, int64_t n) { sum_in_place(v, n, MPI_DOUBLE, sizeof *v); }

int myr_mpi_max_int(int v) {
  MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  return v;
}

void myr_mpi_bcast(void *buf, int64_t bytes, int root) {
  for (int64_t b = 0; b < bytes; b += CHUNK)
    MPI_Bcast((char *)buf + b, (int)(bytes - b < CHUNK ? bytes - b : CHUNK), MPI_BYTE, root, MPI_COMM_WORLD);
}

myr_status myr_mpi_gather(const void *buf, int64_t bytes, void **all, int64_t *total, myr_error *err) {
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  *all = NULL;
  *total = 0;
  int64_t *counts = calloc((size_t)size, sizeof *counts);
  if (!counts) return myr_fail(err, MYR_ERR_NOMEM, "cannot allocate the gather's counts");
  MPI_Gather(&bytes, 1, MPI_INT64_T, counts, 1, MPI_INT64_T, 0, MPI_COMM_WORLD);
  myr_status s = MYR_OK;
  char *out = NULL;
  if (rank == 0) {
    for (int q = 0; q < size; q++) *total += counts[q];
    out = malloc(*total > 0 ? (size_t)*total : 1);
    if (!out) s = myr_fail(err, MYR_ERR_NOMEM, "cannot allocate %lld bytes to gather the agents", (long long)*total);
  }
  int ok = myr_mpi_max_int(s != MYR_OK); /* everyone stops if the root cannot take it */
  if (ok) {
    free(counts);
    free(out);
    return s != MYR_OK ? s : myr_fail(err, MYR_ERR_NOMEM, "rank 0 cannot hold the gathered agents");
  }
  /* point to point, in chunks: byte counts may pass 2^31 */
  if (rank == 0) {
    memcpy(out, buf, (size_t)bytes);
    int64_t at = counts[0];
    for (int q = 1; q < size; q++) {
      for (int64_t b = 0; b < counts[q]; b += CHUNK) {
        int n = (int)(counts[q] - b < CHUNK ? counts[q] - b : CHUNK);
        MPI_Recv(out + at + b, n, MPI_BYTE, q, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      }
      at += counts[q];
    }
    *all = out;
  } else {
    for (int64_t b = 0; b < bytes; b += CHUNK)
      MPI_Send((const char *)buf + b, (int)(bytes - b < CHUNK ? bytes - b : CHUNK), MPI_BYTE, 0, 7, MPI_COMM_WORLD);
  }
  free(counts);
  return MYR_OK;
}

void myr_mpi_alltoall_i64(const int64_t *in, int64_t *out) {
  MPI_Alltoall(in, 1, MPI_INT64_T, out, 1, MPI_INT64_T, MPI_COMM_WORLD);
}

myr_status myr_mpi_exchange(const void *const *send, const int64_t *send_bytes, void *const *recv,
                            const int64_t *recv_bytes, myr_error *err) {
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int64_t n = 0; /* one request per chunk; a pair's chunks arrive in order (one tag) */
  for (int q = 0; q < size; q++)
    if (q != rank) n += (send_bytes[q] + CHUNK - 1) / CHUNK + (recv_bytes[q] + CHUNK - 1) / CHUNK;
  MPI_Request *req = malloc(sizeof *req * (size_t)(n > 0 ? n : 1));
  if (!req) return myr_fail(err, MYR_ERR_NOMEM, "rank %d: cannot allocate %lld MPI requests", rank, (long long)n);
  int k = 0, rc = MPI_SUCCESS;
  for (int q = 0; q < size && rc == MPI_SUCCESS; q++)
    for (int64_t b = 0; q != rank && b < recv_bytes[q] && rc == MPI_SUCCESS; b += CHUNK)
      rc = MPI_Irecv((char *)recv[q] + b, (int)(recv_bytes[q] - b < CHUNK ? recv_bytes[q] - b : CHUNK), MPI_BYTE, q, 11,
                     MPI_COMM_WORLD, &req[k++]);
  for (int q = 0; q < size && rc == MPI_SUCCESS; q++)
    for (int64_t b = 0; q != rank && b < send_bytes[q] && rc == MPI_SUCCESS; b += CHUNK)
      rc = MPI_Isend((const char *)send[q] + b, (int)(send_bytes[q] - b < CHUNK ? send_bytes[q] - b : CHUNK), MPI_BYTE,
                     q, 11, MPI_COMM_WORLD, &req[k++]);
  if (rc == MPI_SUCCESS) rc = MPI_Waitall(k, req, MPI_STATUSES_IGNORE);
  free(req);
  if (rc != MPI_SUCCESS) return myr_fail(err, MYR_ERR_INTERNAL, "rank %d: an MPI exchange failed (code %d)", rank, rc);
  return MYR_OK;
}

myr_status myr_mpi_sum_layers(myr_rank *r, myr_sim *sim, const myr_view *v, int phase, void *stream,
                              myr_error *err) {
  (void)stream, (void)err;
  const myr_model *m = sim->model;
  double t0 = omp_get_wtime();
  int64_t cells = myr_cells(v);
  for (int l = 0; l < m->n_layers; l++) {
    if (!myr_layer_summed_in(m, l, phase)) continue;
    size_t es = myr_type_size(m->layers[l].type);
    MPI_Datatype type = es == 1 ? MPI_UINT8_T : es == 4 ? MPI_UINT32_T : MPI_UINT64_T; /* wrapping, as one rank's */
    sum_in_place(v->layer[l], cells, type, es);
    r->bytes_moved += 2.0 * (double)(r->count - 1) / (double)r->count * (double)cells * (double)es;
  }
  r->seconds_comm += omp_get_wtime() - t0;
  return MYR_OK;
}

myr_status myr_mpi_sum_flows(myr_rank *r, myr_sim *sim, int64_t *window, void *stream, myr_error *err) {
  (void)sim, (void)stream, (void)err;
  double t0 = omp_get_wtime();
  sum_in_place(window, MYR_MAX_FLOWS, MPI_INT64_T, sizeof *window); /* integers: exact, any order */
  r->bytes_moved += 2.0 * (double)(r->count - 1) / (double)r->count * (double)(MYR_MAX_FLOWS * sizeof *window);
  r->seconds_comm += omp_get_wtime() - t0;
  return MYR_OK;
}

#else /* no MPI in this build: a world of one process */

int myr_mpi_world(int *rank, int *size, int *local) {
  *rank = 0, *size = 1, *local = 0;
  return 0;
}
void myr_mpi_finalize(void) {}
void myr_mpi_sum_i64(int64_t *v, int64_t n) { (void)v, (void)n; }
void myr_mpi_sum_f64(double *v, int64_t n) { (void)v, (void)n; }
int myr_mpi_max_int(int v) { return v; }
void myr_mpi_bcast(void *buf, int64_t bytes, int root) { (void)buf, (void)bytes, (void)root; }
myr_status myr_mpi_gather(const void *buf, int64_t bytes, void **all, int64_t *total, myr_error *err) {
  *all = malloc(bytes > 0 ? (size_t)bytes : 1);
  if (!*all) return myr_fail(err, MYR_ERR_NOMEM, "cannot allocate %lld bytes", (long long)bytes);
  memcpy(*all, buf, (size_t)bytes);
  *total = bytes;
  return MYR_OK;
}
void myr_mpi_alltoall_i64(const int64_t *in, int64_t *out) { out[0] = in[0]; }
myr_status myr_mpi_exchange(const void *const *send, const int64_t *send_bytes, void *const *recv,
                            const int64_t *recv_bytes, myr_error *err) {
  (void)send, (void)send_bytes, (void)recv, (void)recv_bytes, (void)err;
  return MYR_OK; /* a world of one: nothing to or from oneself */
}
myr_status myr_mpi_sum_layers(myr_rank *r, myr_sim *sim, const myr_view *v, int phase, void *stream,
                              myr_error *err) {
  (void)r, (void)sim, (void)v, (void)phase, (void)stream;
  return myr_fail(err, MYR_ERR_INTERNAL, "this build has no MPI");
}
myr_status myr_mpi_sum_flows(myr_rank *r, myr_sim *sim, int64_t *window, void *stream, myr_error *err) {
  (void)r, (void)sim, (void)window, (void)stream;
  return myr_fail(err, MYR_ERR_INTERNAL, "this build has no MPI");
}
#endif
