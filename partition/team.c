/* Teams of ranks (team.h): the split of agents over ranks, the rank threads, statistics summed
 * over ranks, and the gather of every rank's agents for the hash, snapshots and checkpoints. */
#include "partition/team.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "partition/host.h"
#include "partition/nccl.h"
#include "sim/backend.h"
#include "sim/checkpoint.h"

struct myr_team {
  const myr_config *cfg;
  int size;             /* ranks */
  int gpu;              /* ranks are GPUs */
  myr_sim **sim;        /* [size] */
  myr_rank *rank;       /* [size] */
  int64_t *capacity;    /* [size] agent slots */
  double *seconds_step; /* [size] wall seconds in myr_sim_step */
  myr_host_team host;
  char describe[320];
};

/* ---- the split ------------------------------------------------------------------------------ */

/* Rank r's share of `total` by the weights: [cut(r), cut(r + 1)), cut(size) = total. */
static int64_t cut(const myr_team *t, int64_t total, int r) {
  const myr_config *cfg = t->cfg;
  if (cfg->balance == MYR_BALANCE_EVEN) return (int64_t)((__int128)total * r / t->size);
  int64_t before = 0, all = 0;
  for (int q = 0; q < t->size; q++) {
    all += cfg->device_weights.v[q];
    if (q < r) before += cfg->device_weights.v[q];
  }
  return (int64_t)((__int128)total * before / all);
}

/* Agent slots of rank r: its share of agents.capacity, and never fewer than its agents. */
static int64_t rank_capacity(const myr_team *t, int r, int64_t agents) {
  int64_t total = myr_config_capacity(t->cfg);
  int64_t share = cut(t, total, r + 1) - cut(t, total, r);
  return share > agents ? share : (agents > 0 ? agents : 1);
}

/* ---- checks before anything runs ------------------------------------------------------------ */

static myr_status check_settings(const myr_team *t, myr_error *err) {
  const myr_config *cfg = t->cfg;
  const myr_model *m = cfg->model_desc;
  if (cfg->balance == MYR_BALANCE_PROPORTIONAL && cfg->device_weights.n != t->size)
    return myr_fail(err, MYR_ERR_CONFIG,
                    "distributed.device_weights has %d weight%s but the team has %d rank%s (balance: "
                    "proportional needs one weight per rank)",
                    cfg->device_weights.n, cfg->device_weights.n == 1 ? "" : "s", t->size, t->size == 1 ? "" : "s");
  if (t->size == 1) return MYR_OK;
  for (int l = 0; l < m->n_layers; l++) {
    myr_type ty = m->layers[l].type;
    if (m->layers[l].lifetime == MYR_TRANSIENT && (ty == MYR_F32 || ty == MYR_F64))
      return myr_fail(err, MYR_ERR_MODEL,
                      "model %s: transient layer '%s' is %s; ranks sum transient layers exactly, which "
                      "needs integers (fixed point); run it with one rank",
                      m->name, m->layers[l].name, myr_type_name(ty));
  }
  return MYR_OK;
}

/* How many ranks, and whether they are GPUs: the backend run.backend chooses decides. */
static myr_status choose_ranks(myr_team *t, myr_error *err) {
  const myr_config *cfg = t->cfg;
  const struct myr_backend_ops *ops;
  char why[256];
  myr_status s = myr_backend_choose(cfg, &ops, why, sizeof why, err);
  if (s != MYR_OK) return s;
  if (!ops) {
    t->size = (int)cfg->ranks;
    int threads = cfg->threads > 0 ? (int)cfg->threads : omp_get_max_threads();
    int per = threads / t->size > 0 ? threads / t->size : 1;
    snprintf(t->describe, sizeof t->describe, "cpu, %d rank%s x %d thread%s (%s)", t->size, t->size == 1 ? "" : "s",
             per, per == 1 ? "" : "s", why);
    return MYR_OK;
  }
  int have = myr_gpu_count();
  t->gpu = 1;
  t->size = cfg->gpus == 0 ? have : (int)cfg->gpus;
  if (t->size > have)
    return myr_fail(err, MYR_ERR_CONFIG, "run.gpus: %d GPUs asked but this machine has %d", t->size, have);
  if (t->size > 1 && !myr_nccl_available())
    return myr_fail(err, MYR_ERR_BACKEND, "run.gpus: %d GPUs need NCCL, which this build lacks (install "
                    "libnccl-dev and reconfigure)", t->size);
  snprintf(t->describe, sizeof t->describe, "cuda, %d GPU%s (%s)", t->size, t->size == 1 ? "" : "s", why);
  return MYR_OK;
}

/* ---- running every rank at once ------------------------------------------------------------- */

typedef myr_status (*rank_fn)(myr_team *t, int r, void *arg, myr_error *err);

/* fn on every rank, each on its own thread with its GPU current; the first failure (by rank)
 * is returned. A failing rank breaks the team's barrier so that the others return too. */
static myr_status for_each_rank(myr_team *t, rank_fn fn, void *arg, myr_error *err) {
  if (t->size == 1) {
    if (t->gpu) myr_gpu_use(t->rank[0].device);
    return fn(t, 0, arg, err);
  }
  myr_status *st = calloc((size_t)t->size, sizeof *st);
  myr_error *errs = calloc((size_t)t->size, sizeof *errs);
  if (!st || !errs) {
    free(st);
    free(errs);
    return myr_fail(err, MYR_ERR_NOMEM, "cannot allocate the ranks' results");
  }
#pragma omp parallel num_threads(t->size)
  {
    int r = omp_get_thread_num();
    if (t->gpu) myr_gpu_use(t->rank[r].device);
    st[r] = fn(t, r, arg, &errs[r]);
    if (st[r] != MYR_OK) myr_host_abort(&t->host, r);
  }
  myr_status s = MYR_OK;
  int first = t->host.abort_rank;
  if (first >= 0) {
    s = st[first];
    if (err) *err = errs[first];
  }
  free(st);
  free(errs);
  return s;
}

/* ---- creation ------------------------------------------------------------------------------- */

static myr_status create_rank(myr_team *t, int r, void *arg, myr_error *err) {
  (void)arg;
  int64_t count = t->cfg->count, first = cut(t, count, r), n = cut(t, count, r + 1) - first;
  t->capacity[r] = rank_capacity(t, r, n);
  myr_status s = myr_sim_create_part(t->cfg, t->size > 1 ? &t->rank[r] : NULL, (uint64_t)first, n, t->capacity[r],
                                     &t->sim[r], err);
  return s;
}

/* Resume: rank r takes the r-th contiguous range of the checkpoint's agents in id order. */
typedef struct split_arg {
  const myr_sim *whole;
  const int64_t *order;
  int64_t n;
} split_arg;

static myr_status split_rank(myr_team *t, int r, void *varg, myr_error *err) {
  const split_arg *a = (const split_arg *)varg;
  const myr_sim *w = a->whole;
  int64_t b = cut(t, a->n, r), e = cut(t, a->n, r + 1);
  t->capacity[r] = rank_capacity(t, r, e - b);
  myr_sim *sim;
  myr_status s = myr_sim_create_empty_part(t->cfg, t->capacity[r], &sim, err);
  if (s != MYR_OK) return s;
  t->sim[r] = sim;
  sim->rank = t->size > 1 ? &t->rank[r] : NULL;
  sim->step = w->step;
  const myr_agents *from = &w->agents;
  myr_agents *to = &sim->agents;
  for (int64_t j = b; j < e; j++) {
    int64_t i = a->order[j], k = j - b;
    to->id[k] = from->id[i];
    to->alive[k] = 1;
    for (int c = 0; c < to->n_columns; c++) {
      size_t es = myr_type_size(sim->model->columns[c].type);
      for (int q = 0; q < to->components[c]; q++)
        memcpy((char *)to->col[c] + ((size_t)q * (size_t)to->capacity + (size_t)k) * es,
               (const char *)from->col[c] + ((size_t)q * (size_t)from->capacity + (size_t)i) * es, es);
    }
  }
  to->n = e - b;
  size_t cells = (size_t)w->grid.width * (size_t)w->grid.height;
  for (int l = 0; l < w->grid.n_layers; l++)
    memcpy(sim->grid.layer[l], w->grid.layer[l], cells * myr_type_size(sim->model->layers[l].type));
  return myr_sim_start_backend(sim, err);
}

static myr_status resume_ranks(myr_team *t, const char *path, myr_error *err) {
  if (t->size == 1) { /* the plain path: load and upload */
    if (t->gpu) myr_gpu_use(t->rank[0].device);
    myr_status s = myr_checkpoint_load(t->cfg, path, &t->sim[0], err);
    if (s == MYR_OK) t->capacity[0] = t->sim[0]->agents.capacity;
    return s;
  }
  myr_sim *whole = NULL;
  myr_status s = myr_checkpoint_load_host(t->cfg, path, &whole, err);
  int64_t *order = NULL, n = 0;
  if (s == MYR_OK) s = myr_sim_id_order(whole, &order, &n, err);
  if (s == MYR_OK) {
    split_arg a = {whole, order, n};
    s = for_each_rank(t, split_rank, &a, err);
  }
  free(order);
  myr_sim_destroy(whole);
  return s;
}

static myr_status open_transport(myr_team *t, myr_error *err) {
  for (int r = 0; r < t->size; r++) {
    t->rank[r].index = r;
    t->rank[r].count = t->size;
    t->rank[r].device = t->gpu ? r : -1;
    t->rank[r].team = &t->host;
    t->rank[r].sum_layers = myr_host_sum_layers;
  }
  myr_status s = myr_host_team_init(&t->host, t->size, err);
  if (s != MYR_OK || !t->gpu || t->size == 1) return s;
  int devices[1024];
  for (int r = 0; r < t->size; r++) devices[r] = r;
  return myr_nccl_open_local(t->size, devices, t->rank, err);
}

myr_status myr_team_create(const myr_config *cfg, const char *resume, myr_team **out, myr_error *err) {
  *out = NULL;
  myr_team *t = calloc(1, sizeof *t);
  if (!t) return myr_fail(err, MYR_ERR_NOMEM, "cannot allocate the team");
  t->cfg = cfg;
  myr_status s = choose_ranks(t, err);
  if (s == MYR_OK) s = check_settings(t, err);
  if (s == MYR_OK) {
    t->sim = calloc((size_t)t->size, sizeof *t->sim);
    t->rank = calloc((size_t)t->size, sizeof *t->rank);
    t->capacity = calloc((size_t)t->size, sizeof *t->capacity);
    t->seconds_step = calloc((size_t)t->size, sizeof *t->seconds_step);
    if (!t->sim || !t->rank || !t->capacity || !t->seconds_step)
      s = myr_fail(err, MYR_ERR_NOMEM, "cannot allocate %d ranks", t->size);
  }
  if (s == MYR_OK) s = open_transport(t, err);
  if (s == MYR_OK && t->size > 1) omp_set_max_active_levels(2); /* each rank's own OpenMP team */
  if (s == MYR_OK) s = resume ? resume_ranks(t, resume, err) : for_each_rank(t, create_rank, NULL, err);
  if (s == MYR_OK) {
    int threads = cfg->threads > 0 ? (int)cfg->threads : omp_get_max_threads();
    for (int r = 0; r < t->size; r++) {
      t->sim[r]->owns_cells = r == 0; /* the grid is replicated: count its flows once */
      if (!t->gpu && t->size > 1) t->sim[r]->threads = threads / t->size > 0 ? threads / t->size : 1;
    }
  }
  if (s != MYR_OK) {
    myr_team_destroy(t);
    return s;
  }
  *out = t;
  return MYR_OK;
}

void myr_team_destroy(myr_team *t) {
  if (!t) return;
  for (int r = 0; t->sim && r < t->size; r++) {
    if (!t->sim[r]) continue;
    if (t->gpu) myr_gpu_use(t->rank[r].device);
    myr_sim_destroy(t->sim[r]);
  }
  if (t->gpu && t->size > 1)
    for (int r = 0; r < t->size; r++) myr_nccl_close(&t->rank[r]);
  myr_host_team_free(&t->host);
  free(t->sim);
  free(t->rank);
  free(t->capacity);
  free(t->seconds_step);
  free(t);
}

/* ---- queries -------------------------------------------------------------------------------- */

int myr_team_size(const myr_team *t) { return t->size; }
myr_sim *myr_team_sim(const myr_team *t, int rank) { return t->sim[rank]; }
int myr_team_is_root(const myr_team *t) {
  (void)t;
  return 1;
}
const char *myr_team_describe(const myr_team *t) { return t->describe; }
uint64_t myr_team_steps_done(const myr_team *t) { return t->sim[0]->step; }

int64_t myr_team_slots(const myr_team *t) {
  int64_t n = 0;
  for (int r = 0; r < t->size; r++) n += t->sim[r]->agents.n;
  return n;
}

int64_t myr_team_population(const myr_team *t) {
  int64_t n = 0;
  for (int r = 0; r < t->size; r++) n += myr_sim_population(t->sim[r]);
  return n;
}

/* ---- stepping and statistics ---------------------------------------------------------------- */

#ifdef MYRIAD_HAVE_CUDA
int myr_cuda_synchronize(const myr_sim *sim); /* sim/cuda/backend.cu */
#endif

static myr_status step_rank(myr_team *t, int r, void *arg, myr_error *err) {
  double t0 = omp_get_wtime();
  t->sim[r]->record_hint = *(const int *)arg;
  myr_status s = myr_sim_step(t->sim[r], err);
#ifdef MYRIAD_HAVE_CUDA
  if (s == MYR_OK && t->gpu && t->size > 1) myr_cuda_synchronize(t->sim[r]); /* time the rank's own step */
#endif
  t->seconds_step[r] += omp_get_wtime() - t0;
  return s;
}

myr_status myr_team_step(myr_team *t, int record_hint, myr_error *err) {
  return for_each_rank(t, step_rank, &record_hint, err);
}

typedef struct parts_arg {
  myr_stat_parts *parts;
  int *ok;
} parts_arg;

static myr_status parts_rank(myr_team *t, int r, void *varg, myr_error *err) {
  (void)err;
  parts_arg *a = (parts_arg *)varg;
  a->ok[r] = myr_sim_stat_parts(t->sim[r], &a->parts[r]);
  return MYR_OK;
}

void myr_team_stats(myr_team *t, double *out) {
  if (t->size == 1) {
    if (t->gpu) myr_gpu_use(t->rank[0].device);
    myr_sim_stats(t->sim[0], out);
    return;
  }
  myr_stat_parts parts[t->size], total;
  int ok[t->size], all = 1;
  parts_arg a = {parts, ok};
  myr_error unused;
  for_each_rank(t, parts_rank, &a, &unused);
  memset(&total, 0, sizeof total);
  for (int r = 0; r < t->size; r++) { /* integers: the same total in any order */
    myr_stat_parts_add(&total, &parts[r]);
    all &= ok[r];
  }
  myr_sim_stats_finish(t->sim[0], &total, all, out);
}

/* ---- the whole state in one place ----------------------------------------------------------- */

static myr_status download_rank(myr_team *t, int r, void *arg, myr_error *err) {
  (void)arg;
  return myr_sim_to_host(t->sim[r], err);
}

/* Appends the alive agents of `from` (all columns) to `to`. */
static void append_agents(myr_sim *to, const myr_sim *from) {
  const myr_agents *f = &from->agents;
  myr_agents *a = &to->agents;
  for (int64_t i = 0; i < f->n; i++) {
    if (!f->alive[i]) continue;
    int64_t k = a->n++;
    a->id[k] = f->id[i];
    a->alive[k] = 1;
    for (int c = 0; c < a->n_columns; c++) {
      size_t es = myr_type_size(to->model->columns[c].type);
      for (int q = 0; q < a->components[c]; q++)
        memcpy((char *)a->col[c] + ((size_t)q * (size_t)a->capacity + (size_t)k) * es,
               (const char *)f->col[c] + ((size_t)q * (size_t)f->capacity + (size_t)i) * es, es);
    }
  }
}

myr_status myr_team_gather(myr_team *t, myr_sim **global, myr_error *err) {
  *global = NULL;
  myr_status s = for_each_rank(t, download_rank, NULL, err);
  if (s != MYR_OK) return s;
  if (t->size == 1) {
    *global = t->sim[0];
    return MYR_OK;
  }
  int64_t slots = myr_team_slots(t);
  myr_sim *g;
  if ((s = myr_sim_create_empty_part(t->cfg, slots > 0 ? slots : 1, &g, err)) != MYR_OK) return s;
  const myr_sim *s0 = t->sim[0];
  for (int r = 0; r < t->size; r++) append_agents(g, t->sim[r]);
  size_t cells = (size_t)s0->grid.width * (size_t)s0->grid.height;
  for (int l = 0; l < s0->grid.n_layers; l++)
    memcpy(g->grid.layer[l], s0->grid.layer[l], cells * myr_type_size(s0->model->layers[l].type));
  g->step = s0->step;
  *global = g;
  return MYR_OK;
}

void myr_team_release(myr_team *t, myr_sim *global) {
  if (global && (t->size > 1 || global != t->sim[0])) myr_sim_destroy(global);
}

/* ---- the end-of-run table ------------------------------------------------------------------- */

void myr_team_print_table(const myr_team *t, double wall, FILE *out) {
  if (t->size == 1) return;
  double steps = 0, comm = 0, bytes = 0, most = 0, mean = 0;
  fprintf(out, "\n%-6s %14s %12s %12s %10s %14s\n", "rank", "agents", "step s", "comm s", "comm %", "bytes moved");
  for (int r = 0; r < t->size; r++) {
    const myr_rank *k = &t->rank[r];
    int64_t agents = myr_sim_population(t->sim[r]);
    double share = t->seconds_step[r] > 0 ? 100 * k->seconds_comm / t->seconds_step[r] : 0;
    fprintf(out, "%-6d %14lld %12.3f %12.3f %9.1f%% %14.4g\n", r, (long long)agents, t->seconds_step[r],
            k->seconds_comm, share, k->bytes_moved);
    steps += t->seconds_step[r];
    comm += k->seconds_comm;
    bytes += k->bytes_moved;
    mean += (double)agents / t->size;
    if (agents > most) most = (double)agents;
  }
  fprintf(out, "%-6s %14lld %12.3f %12.3f %9.1f%% %14.4g\n", "total", (long long)myr_team_population(t), steps,
          comm, steps > 0 ? 100 * comm / steps : 0, bytes);
  fprintf(out, "load imbalance (max/mean agents) %.3f, wall %.3f s\n", mean > 0 ? most / mean : 1.0, wall);
}
