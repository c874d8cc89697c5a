/* A tiny model registered at run time by the configuration tests ("cfgtest"): one parameter of
 * each type, a setup() with a cross-key rule and a derived field, and no-op step functions.
 * It makes the tests independent of the built-in models' parameter tables. */
#ifndef MYR_TEST_CFGTEST_MODEL_H
#define MYR_TEST_CFGTEST_MODEL_H

#include <stdint.h>

typedef struct cfgtest_params {
  double rate;    /* FLOAT 0 .. 1, default 0.25 */
  int64_t limit;  /* INT 1 .. 100, default 10; setup: at most world.width */
  int flag;       /* BOOL, default true */
  int mode;       /* ENUM slow|fast|exact, default fast */
  double rate_x2; /* derived by setup: 2 x rate */
} cfgtest_params;

/* Registers "cfgtest" once (later calls do nothing); dies if registration fails. */
void cfgtest_register(void);

#endif
