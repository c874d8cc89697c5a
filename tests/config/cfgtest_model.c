/* The "cfgtest" model of cfgtest_model.h: parameters and setup() only; stepping does nothing. */
#include "cfgtest_model.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "models/model.h"

static const myr_param_desc params[] = {
  {"rate", MYR_P_FLOAT, 0.25, 0, 1, NULL, offsetof(cfgtest_params, rate), "a fraction"},
  {"limit", MYR_P_INT, 10, 1, 100, NULL, offsetof(cfgtest_params, limit), "a count, at most world.width"},
  {"flag", MYR_P_BOOL, 1, 0, 1, NULL, offsetof(cfgtest_params, flag), "a switch"},
  {"mode", MYR_P_ENUM, 1, 0, 2, "slow|fast|exact", offsetof(cfgtest_params, mode), "a choice"},
};

static myr_status setup(void *p, const myr_world_info *w, myr_error *err) {
  cfgtest_params *c = p;
  if (c->limit > w->width)
    return myr_fail(err, MYR_ERR_CONFIG, "limit: expected at most world.width = %d, got %lld",
                    (int)w->width, (long long)c->limit);
  c->rate_x2 = 2 * c->rate;
  return MYR_OK;
}

static void nop_range(const myr_view *v, int64_t b, int64_t e, int64_t *flow) {
  (void)v, (void)b, (void)e, (void)flow;
}
static int legal(const myr_view *v, int64_t i, uint8_t *mask) {
  (void)v, (void)i;
  mask[0] = 1;
  return 1;
}
static void finish(const myr_view *v, const int64_t *acc, const int64_t *flow, double *out) {
  (void)v, (void)acc, (void)flow, (void)out;
}

static const myr_model cfgtest = {
  .name = "cfgtest",
  .summary = "configuration test model",
  .params_size = sizeof(cfgtest_params),
  .params = params,
  .n_params = (int)(sizeof params / sizeof params[0]),
  .setup = setup,
  .init_agents = nop_range,
  .n_actions = 1,
  .legal = legal,
  .act = nop_range,
  .sync_agents = nop_range,
  .finish_stats = finish,
};

void cfgtest_register(void) {
  if (myr_find_model("cfgtest")) return;
  if (myr_register_model(&cfgtest) != MYR_OK) {
    fprintf(stderr, "cannot register the cfgtest model\n");
    exit(1);
  }
}
