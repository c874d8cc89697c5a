/* What partition/ needs of the GPU side in builds that lack it: no CUDA means no GPUs; no NCCL
 * means GPU ranks cannot be teamed (team.c says so before anything runs). */
#include "partition/nccl.h"

#ifndef MYRIAD_HAVE_CUDA
int myr_gpu_count(void) { return 0; }
void myr_gpu_use(int device) { (void)device; }
#endif

#ifndef MYRIAD_HAVE_NCCL
int myr_nccl_available(void) { return 0; }

static myr_status no_nccl(myr_error *err) {
  return myr_fail(err, MYR_ERR_BACKEND, "this build has no NCCL: GPU ranks cannot work together");
}
myr_status myr_nccl_open_local(int n, const int *devices, myr_rank *ranks, myr_error *err) {
  (void)n, (void)devices, (void)ranks;
  return no_nccl(err);
}
myr_status myr_nccl_unique_id(void *id, myr_error *err) {
  (void)id;
  return no_nccl(err);
}
myr_status myr_nccl_open_rank(const void *id, int size, myr_rank *rank, myr_error *err) {
  (void)id, (void)size, (void)rank;
  return no_nccl(err);
}
void myr_nccl_close(myr_rank *rank) { (void)rank; }
myr_status myr_nccl_spatial_attach(myr_rank *r, const struct myr_spatial *sp, myr_error *err) {
  (void)r, (void)sp;
  return no_nccl(err);
}
myr_status myr_nccl_spatial_sync(myr_rank *r, myr_sim *sim, const myr_view *v, int point, void *stream,
                                 myr_error *err) {
  (void)r, (void)sim, (void)v, (void)point, (void)stream;
  return no_nccl(err);
}
myr_status myr_nccl_count_comm(myr_rank *r, myr_error *err) {
  (void)r, (void)err;
  return MYR_OK;
}
myr_status myr_nccl_spatial_migrate(myr_rank *r, myr_sim *sim, myr_error *err) {
  (void)r, (void)sim;
  return no_nccl(err);
}
myr_status myr_nccl_move_agents(myr_rank *r, myr_sim *sim, const int64_t *flow, myr_error *err) {
  (void)r, (void)sim, (void)flow;
  return no_nccl(err);
}
myr_status myr_nccl_spatial_count_rows(myr_rank *r, myr_sim *sim, int64_t *count, myr_error *err) {
  (void)r, (void)sim, (void)count;
  return no_nccl(err);
}
myr_status myr_nccl_spatial_count_cols(myr_rank *r, myr_sim *sim, int64_t *count, myr_error *err) {
  (void)r, (void)sim, (void)count;
  return no_nccl(err);
}
myr_status myr_nccl_spatial_shift(myr_rank *r, myr_sim *sim, const int32_t *old_col0, const int32_t *old_row0,
                                  myr_error *err) {
  (void)r, (void)sim, (void)old_col0, (void)old_row0;
  return no_nccl(err);
}
myr_status myr_nccl_sum_layers(myr_rank *r, myr_sim *sim, const myr_view *v, int phase, void *stream,
                               myr_error *err) {
  (void)r, (void)sim, (void)v, (void)phase, (void)stream;
  return no_nccl(err);
}
myr_status myr_nccl_sum_flows(myr_rank *r, myr_sim *sim, int64_t *window, void *stream, myr_error *err) {
  (void)r, (void)sim, (void)window, (void)stream;
  return no_nccl(err);
}
#endif
