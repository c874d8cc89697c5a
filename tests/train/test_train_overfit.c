/* Overfitting a tiny fixed batch (search/train.*): a 6-32-32-(5+1) network and 8 samples (random
 * legal sets and policy targets, values in [-1, 1]) with lr 1e-2 cosine-annealed to 1e-4 over
 * 1000 updates, no L2 and no clipping. The loss must get near its minimum within those updates:
 * policy cross-entropy within 1e-2 of the targets' mean entropy (its floor, so KL(target ||
 * prior) < 1e-2) and value MSE < 1e-4. Also: no update skipped, and the reported KL equals
 * policy - H(target) within 1e-5 (H computed here in double). */
#include <math.h>

#include "check.h"
#include "fixture.h"
#include "search/train.h"

int main(void) {
  int hidden[] = {32, 32};
  myr_net_shape s = fx_shape(6, hidden, 2, 5);
  myr_net net = fx_net(&s, 77);
  fx_batch fb = fx_batch_make(8, 6, 5, 78, 0);
  double H = 0.0;
  for (int64_t i = 0; i < fb.b.n; i++)
    for (int a = 0; a < 5; a++) {
      double t = fb.policy[i * 5 + a];
      if (t > 0) H -= t * log(t);
    }
  H /= (double)fb.b.n;

  myr_train_config c = MYR_TRAIN_CONFIG_DEFAULTS;
  c.batch_size = 8;
  c.shards = 2;
  c.lr = 1e-2f;
  c.schedule = MYR_LR_COSINE;
  c.schedule_steps = 1000;
  c.lr_min = 1e-4f;
  c.l2 = 0.0f;
  c.clip = 0.0f;
  myr_train_state st;
  myr_error e;
  REQUIRE(myr_train_state_create(&st, &net, c.shards, &e) == MYR_OK, "%s", e.msg);
  myr_train_stats stats;
  int reached = -1;
  for (int u = 0; u < 1000; u++) {
    REQUIRE(myr_train_update(&net, &st, &c, &fb.b, 1, &stats, &e) == MYR_OK, "%s", e.msg);
    if (u % 500 == 0)
      printf("update %4d: policy %.6f (floor %.6f) value %.3g entropy %.4f kl %.3g\n", u, stats.policy, H,
             stats.value, stats.entropy, stats.kl);
    if (reached < 0 && stats.policy - H < 1e-2 && stats.value < 1e-4) reached = u;
  }
  printf("final: policy %.6f (floor %.6f) value %.3g kl %.3g; thresholds first met at update %d\n",
         stats.policy, H, stats.value, stats.kl, reached);
  CHECK(stats.policy - H < 1e-2, "policy loss %.6f, floor %.6f", stats.policy, H);
  CHECK(stats.value < 1e-4, "value loss %.3g", stats.value);
  CHECK_CLOSE(stats.kl, stats.policy - H, 1e-5, 0.0);
  CHECK_EQ_I64(st.skipped, 0);
  CHECK_EQ_I64(st.step, 1000);
  myr_train_state_free(&st);
  myr_net_free(&net);
  fx_batch_free(&fb);
  return check_summary();
}
