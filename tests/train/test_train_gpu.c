/* The trainer's GPU gradients (search/train.cu) against the CPU reference (search/train.c),
 * bit for bit: the shard-ordered gradient sum for several shapes, batch sizes and shard counts
 * (uneven shards, one-sample shards, a batch past one 64-row tile), and ten full updates with
 * Adam from the same start giving the same weights, moments and statistics. Label gpu: exits 77
 * (skipped) without a CUDA device. On a mismatch it prints the first differing parameters and
 * the worst relative difference. */
#include <cuda_runtime.h>
#include <math.h>
#include <string.h>

#include "search/trainer.h"
#include "train/fixture.h"

static int compare(const float *cpu, const float *gpu, size_t n, const char *what) {
  size_t bad = 0, worst = 0;
  double wr = 0.0;
  for (size_t i = 0; i < n; i++) {
    if (memcmp(&cpu[i], &gpu[i], sizeof(float)) == 0) continue;
    double r = fabs((double)cpu[i] - gpu[i]) / (fabs((double)cpu[i]) + 1e-30);
    if (r > wr || bad == 0) {
      wr = r;
      worst = i;
    }
    if (bad++ < 5) fprintf(stderr, "%s: parameter %zu: cpu %.9g gpu %.9g\n", what, i, cpu[i], gpu[i]);
  }
  if (bad) fprintf(stderr, "%s: %zu of %zu differ, worst at %zu (relative %.3g)\n", what, bad, n, worst, wr);
  return bad == 0;
}

static void gradient_case(int inputs, const int *hidden, int n_hidden, int actions, int64_t n, int K) {
  myr_net_shape s = fx_shape(inputs, hidden, n_hidden, actions);
  myr_net net = fx_net(&s, 17);
  fx_batch b = fx_batch_make(n, inputs, actions, 23, 1);
  size_t P = net.n_params;
  float *shards = calloc((size_t)K * P, sizeof(float)), *cpu = calloc(P, sizeof(float)), *gpu = calloc(P, sizeof(float));
  myr_train_shard *sh = malloc((size_t)K * sizeof *sh);
  REQUIRE(shards && cpu && gpu && sh, "out of memory");
  for (int k = 0; k < K; k++) {
    sh[k].grad = shards + (size_t)k * P;
    myr_train_shard_gradient(&net, &b.b, k, K, 0.7f, &sh[k]);
  }
  myr_train_shard total = {cpu, {0, 0, 0, 0, 0}};
  myr_train_sum_shards(sh, K, P, &total);
  void *ws = NULL;
  myr_error err = {0};
  REQUIRE(myr_train_gradient_cuda(&net, &b.b, K, 0.7f, &ws, gpu, &err) == MYR_OK, "%s", err.msg);
  char what[128], shape[MYR_NET_SHAPE_STR];
  snprintf(what, sizeof what, "%s, %lld samples, %d shards", myr_net_shape_str(&s, shape, sizeof shape),
           (long long)n, K);
  CHECK(compare(cpu, gpu, P, what), "%s: GPU gradient differs from the CPU's", what);
  printf("gradient %-40s %s\n", what, memcmp(cpu, gpu, P * sizeof(float)) ? "DIFFERENT" : "bitwise equal");
  myr_train_cuda_free(&ws);
  free(shards);
  free(cpu);
  free(gpu);
  free(sh);
  fx_batch_free(&b);
  myr_net_free(&net);
}

/* Ten updates on the CPU and on the GPU from the same network and state. */
static void update_case(void) {
  int hidden[2] = {128, 128};
  myr_net_shape s = fx_shape(11, hidden, 2, 9);
  myr_net a = fx_net(&s, 5), g = fx_net(&s, 5);
  myr_train_config c = MYR_TRAIN_CONFIG_DEFAULTS;
  c.batch_size = 1000;
  c.shards = 8;
  c.lr = 3e-3f;
  myr_train_state sa, sg;
  myr_error err = {0};
  REQUIRE(myr_train_state_create(&sa, &a, c.shards, &err) == MYR_OK, "%s", err.msg);
  REQUIRE(myr_train_state_create(&sg, &g, c.shards, &err) == MYR_OK, "%s", err.msg);
  void *ws = NULL;
  int same = 1;
  for (int u = 0; u < 10; u++) {
    fx_batch b = fx_batch_make(c.batch_size, 11, 9, 100 + (uint32_t)u, 1);
    myr_train_stats ta, tg;
    REQUIRE(myr_train_update(&a, &sa, &c, &b.b, 2, &ta, &err) == MYR_OK, "%s", err.msg);
    REQUIRE(myr_train_update_cuda(&g, &sg, &c, &b.b, &ws, &tg, &err) == MYR_OK, "%s", err.msg);
    same &= ta.loss == tg.loss && ta.policy == tg.policy && ta.value == tg.value && ta.kl == tg.kl &&
            ta.entropy == tg.entropy && ta.grad_norm == tg.grad_norm;
    fx_batch_free(&b);
  }
  CHECK(same, "update statistics differ between the CPU and the GPU");
  CHECK(compare(a.w, g.w, a.n_params, "weights after 10 updates"), "weights differ after 10 updates");
  CHECK(compare(sa.m, sg.m, a.n_params, "Adam m") && compare(sa.v, sg.v, a.n_params, "Adam v"),
        "Adam moments differ after 10 updates");
  CHECK_EQ_I64(sg.step, 10);
  printf("10 updates of 1000 samples, 11-128-128-10: weights and Adam state %s\n",
         memcmp(a.w, g.w, a.n_params * sizeof(float)) ? "DIFFERENT" : "bitwise equal");
  myr_train_cuda_free(&ws);
  myr_train_state_free(&sa);
  myr_train_state_free(&sg);
  myr_net_free(&a);
  myr_net_free(&g);
}

int main(void) {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    printf("no CUDA device: skipped\n");
    return 77;
  }
  int h1[1] = {16}, h2[2] = {128, 128}, h3[3] = {70, 33, 65};
  gradient_case(11, h1, 1, 9, 37, 5);       /* uneven shards */
  gradient_case(11, h2, 2, 9, 1000, 8);     /* the default MLP */
  gradient_case(7, h3, 3, 32, 300, 300);    /* one sample per shard, 32 actions, odd widths */
  gradient_case(11, h2, 2, 9, 4099, 7);     /* past 64 rows a tile, last tile partial */
  update_case();
  return check_summary();
}
