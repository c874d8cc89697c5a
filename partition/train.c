/* Training across the ranks of a team (train.h). Every rank's samples live in its trainer on
 * the host (a GPU rank's search rows are downloaded as it observes), so the merge reads host
 * memory on CPU and GPU ranks alike; only a GPU rank's agent ids and its copy of the network
 * are on the device. */
#include "partition/train.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "partition/mpi.h"  /* myr_mpi_*: the samples and weights of teams of processes */
#include "partition/nccl.h" /* myr_gpu_use: a GPU rank's device */
#include "search/policy.h"  /* myr_search: each rank's network and trainer */
#include "search/trainer.h" /* the team members' merge, rehome and update */

static myr_trainer *trainer_of(const myr_sim *sim) { return sim->search ? sim->search->trainer : NULL; }
static int is_leader(const myr_sim *sim) { return !sim->rank || sim->rank->index == 0; }
static void use_device(const myr_sim *sim) {
  if (sim->backend && sim->rank) myr_gpu_use(sim->rank->device);
}
/* The leader computes its gradients where one rank of its kind would (the same bits). */
static int update_on_gpu(const myr_sim *sim) { return sim->backend != NULL && sim->search->device != NULL; }

int myr_team_train_on(myr_sim *const *sims, int n) { return n > 0 && trainer_of(sims[0]) != NULL; }

/* Every rank of this process searches with `from`'s weights: the host copy, then a GPU rank's
 * device copy, as one GPU rank refreshes it after its own update. */
static myr_status spread_weights(myr_sim *const *sims, int n, const myr_sim *from, myr_error *err) {
  myr_status s = MYR_OK;
  for (int r = 0; r < n && s == MYR_OK; r++) {
    if (sims[r] != from) myr_sim_copy_network(sims[r], from);
#ifdef MYRIAD_HAVE_CUDA
    if (sims[r]->backend) {
      use_device(sims[r]);
      s = myr_search_upload_weights_cuda(sims[r]->search, err);
    }
#endif
  }
  use_device(sims[0]);
  return s;
}

/* Unfinished samples follow their agents to the rank that holds them now. A GPU rank's ids are
 * read from the device (its host columns are a cache); every slot there is alive. */
static myr_status rehome(myr_sim *const *sims, int n, myr_error *err) {
  int64_t pending = 0;
  for (int r = 0; r < n; r++) pending += myr_trainer_pending(trainer_of(sims[r]));
  if (pending == 0) return MYR_OK;
  myr_trainer **members = calloc((size_t)n, sizeof *members);
  const uint64_t **ids = calloc((size_t)n, sizeof *ids);
  const uint8_t **alive = calloc((size_t)n, sizeof *alive);
  uint64_t **device_ids = calloc((size_t)n, sizeof *device_ids);
  int64_t *slots = calloc((size_t)n, sizeof *slots);
  myr_status s = MYR_OK;
  if (!members || !ids || !alive || !device_ids || !slots) s = myr_fail(err, MYR_ERR_NOMEM, "train: out of memory");
  for (int r = 0; r < n && s == MYR_OK; r++) {
    members[r] = trainer_of(sims[r]);
    slots[r] = sims[r]->agents.n;
    if (!sims[r]->backend) {
      ids[r] = sims[r]->agents.id;
      alive[r] = sims[r]->agents.alive;
      continue;
    }
#ifdef MYRIAD_HAVE_CUDA
    device_ids[r] = malloc((size_t)(slots[r] > 0 ? slots[r] : 1) * sizeof **device_ids);
    if (!device_ids[r]) {
      s = myr_fail(err, MYR_ERR_NOMEM, "train: out of memory for %lld ids", (long long)slots[r]);
      break;
    }
    use_device(sims[r]);
    s = myr_search_train_ids_cuda(sims[r], device_ids[r], err);
    ids[r] = device_ids[r];
#else
    s = myr_fail(err, MYR_ERR_INTERNAL, "train: a device rank in a build without CUDA");
#endif
  }
  if (s == MYR_OK) s = myr_trainer_rehome(members, n, ids, alive, slots, err);
  use_device(sims[0]);
  for (int r = 0; device_ids && r < n; r++) free(device_ids[r]);
  free(device_ids);
  free(members);
  free(ids);
  free(alive);
  free(slots);
  return s;
}

myr_status myr_team_train_start(myr_sim *const *sims, int n, int mpi, int spatial, int dynamic, myr_error *err) {
  if (n < 1 || !sims[0]->rank || sims[0]->rank->count < 2 || !myr_team_train_on(sims, n)) return MYR_OK;
  if (mpi && dynamic)
    return myr_fail(err, MYR_ERR_CONFIG,
                    "train.enabled with distributed.balance: dynamic runs on the ranks of one process (--ranks N): "
                    "under mpirun the unfinished samples would have to travel with the agents a rebalance moves "
                    "between processes, which is not built; use balance: even or proportional");
  if (mpi && spatial)
    return myr_fail(err, MYR_ERR_CONFIG,
                    "train.enabled with distributed.strategy: spatial_parallel runs on the ranks of one process "
                    "(--ranks N or --gpus N): under mpirun the unfinished samples would have to travel with "
                    "their agents between processes, which is not built; use data_parallel");
  for (int r = 0; r < n; r++) myr_trainer_join_team(trainer_of(sims[r]));
  /* a resumed team's agents may have moved to their bands since the samples were handed out */
  return spatial ? rehome(sims, n, err) : MYR_OK;
}

void myr_team_train_before_step(myr_sim *const *sims, int n, int64_t population) {
  for (int r = 0; r < n; r++)
    if (trainer_of(sims[r])) myr_trainer_set_population(trainer_of(sims[r]), population);
}

/* One rank per process: rank 0 gathers every process's finished samples (packed), merges and
 * updates; the weights then go to every process by broadcast. Every process takes part in each
 * collective, even one that failed before it, and all stop together. */
static myr_status after_step_processes(myr_sim *sim, int threads, myr_error *err) {
  myr_trainer *t = trainer_of(sim);
  void *mine = NULL, *all = NULL;
  int64_t bytes = 0, total = 0;
  use_device(sim);
  myr_status s = myr_trainer_take_out(t, &mine, &bytes, err);
  char nothing = 0;
  myr_error gather_err;
  myr_status g = myr_mpi_gather(s == MYR_OK ? mine : &nothing, s == MYR_OK ? bytes : 0, &all, &total, &gather_err);
  if (s == MYR_OK && g != MYR_OK) {
    s = g;
    if (err) *err = gather_err;
  }
  free(mine);
  int changed = 0;
  if (s == MYR_OK && is_leader(sim)) s = myr_trainer_merge_packed(t, all, total, err);
  free(all);
  if (s == MYR_OK && is_leader(sim)) s = myr_trainer_team_update(t, sim->step, threads, update_on_gpu(sim), &changed, err);
  if (myr_mpi_max_int(s != MYR_OK))
    return s != MYR_OK ? s
                       : myr_fail(err, MYR_ERR_INTERNAL, "rank %d: training stopped: another rank failed (its message "
                                  "is above)", sim->rank->index);
  if (!myr_mpi_max_int(changed)) return MYR_OK;
  myr_net *net = &sim->search->net;
  myr_mpi_bcast(net->w, (int64_t)(net->n_params * sizeof *net->w), 0);
  return spread_weights(&sim, 1, sim, err);
}

myr_status myr_team_train_after_step(myr_sim *const *sims, int n, int mpi, int moved, int threads, myr_error *err) {
  if (mpi) return after_step_processes(sims[0], threads, err);
  myr_trainer **members = calloc((size_t)n, sizeof *members);
  if (!members) return myr_fail(err, MYR_ERR_NOMEM, "train: out of memory");
  for (int r = 0; r < n; r++) members[r] = trainer_of(sims[r]);
  myr_status s = myr_trainer_merge(members[0], members, n, err);
  /* agents change ranks only at a sync: then unfinished samples follow them */
  if (s == MYR_OK && moved && myr_sim_at_sync(sims[0])) s = rehome(sims, n, err);
  int changed = 0;
  use_device(sims[0]);
  if (s == MYR_OK) s = myr_trainer_team_update(members[0], sims[0]->step, threads, update_on_gpu(sims[0]), &changed, err);
  if (s == MYR_OK && changed) s = spread_weights(sims, n, sims[0], err);
  free(members);
  return s;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

/* The alive ids of a host sim, sorted (*out malloc'd). */
static int64_t sorted_ids(const myr_sim *sim, uint64_t **out) {
  const myr_agents *a = &sim->agents;
  *out = malloc((size_t)(a->n > 0 ? a->n : 1) * sizeof **out);
  if (!*out) return -1;
  int64_t k = 0;
  for (int64_t i = 0; i < a->n; i++)
    if (a->alive[i]) (*out)[k++] = a->id[i];
  qsort(*out, (size_t)k, sizeof **out, cmp_u64);
  return k;
}

static int holds(const uint64_t *ids, int64_t n, uint64_t id) {
  return n > 0 && bsearch(&id, ids, (size_t)n, sizeof id, cmp_u64) != NULL;
}

myr_status myr_team_train_resume(myr_sim *const *sims, int n, const myr_sim *whole, myr_error *err) {
  const myr_trainer *w = trainer_of(whole);
  if (!w || !myr_team_train_on(sims, n)) return MYR_OK;
  int64_t np = myr_trainer_pending(w);
  const uint64_t *pid = myr_trainer_pending_ids(w);
  uint64_t *everyone = NULL, *mine = NULL;
  uint8_t *take = malloc((size_t)(np > 0 ? np : 1));
  int64_t n_all = sorted_ids(whole, &everyone);
  myr_status s = take && n_all >= 0 ? MYR_OK : myr_fail(err, MYR_ERR_NOMEM, "train: out of memory resuming");
  for (int r = 0; r < n && s == MYR_OK; r++) {
    /* the rank's agents (its host columns: the split has just filled them) */
    int64_t n_mine = sorted_ids(sims[r], &mine);
    if (n_mine < 0) {
      s = myr_fail(err, MYR_ERR_NOMEM, "train: out of memory resuming");
      break;
    }
    /* a sample whose agent died before the checkpoint ends at the next step: the leader keeps it */
    for (int64_t k = 0; k < np; k++)
      take[k] = holds(mine, n_mine, pid[k]) || (is_leader(sims[r]) && !holds(everyone, n_all, pid[k]));
    s = myr_trainer_resume_part(trainer_of(sims[r]), w, is_leader(sims[r]), take, err);
    free(mine);
    mine = NULL;
  }
  free(take);
  free(everyone);
  /* the checkpoint's network (trained), not the one network.init made */
  return s == MYR_OK ? spread_weights(sims, n, whole, err) : s;
}

myr_status myr_team_train_gather(myr_sim *const *sims, int n, int mpi, myr_sim *global, myr_error *err) {
  char *mine = NULL;
  int64_t bytes = 0;
  myr_status s = MYR_OK;
  for (int r = 0; r < n && s == MYR_OK; r++) { /* this process's ranks' packs, one after another */
    void *one = NULL;
    int64_t b = 0;
    s = myr_trainer_pack_pending(trainer_of(sims[r]), &one, &b, err);
    char *grown = s == MYR_OK ? realloc(mine, (size_t)(bytes + b)) : NULL;
    if (s == MYR_OK && !grown) s = myr_fail(err, MYR_ERR_NOMEM, "train: out of memory packing samples");
    if (grown) {
      memcpy(grown + bytes, one, (size_t)b);
      mine = grown;
      bytes += b;
    }
    free(one);
  }
  void *all = mine;
  int64_t total = bytes;
  if (mpi) { /* to rank 0; every process takes part */
    char nothing = 0;
    myr_error gather_err;
    myr_status g = myr_mpi_gather(s == MYR_OK ? (void *)mine : &nothing, s == MYR_OK ? bytes : 0, &all, &total,
                                  &gather_err);
    if (s == MYR_OK && g != MYR_OK) {
      s = g;
      if (err) *err = gather_err;
    }
    free(mine);
  }
  if (s == MYR_OK && global && trainer_of(global))
    s = myr_trainer_adopt(trainer_of(global), trainer_of(sims[0]), all, total, err);
  free(all);
  if (mpi && myr_mpi_max_int(s != MYR_OK) && s == MYR_OK) /* no process writes a part of the samples */
    s = myr_fail(err, MYR_ERR_INTERNAL, "rank %d: the trainer's state was not gathered: another rank failed",
                 sims[0]->rank->index);
  return s;
}
