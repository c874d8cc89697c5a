/* The host team's barrier (partition/host.h), sleeping at once and spinning first (GPU teams):
 * no rank passes a barrier before every rank has reached it, over many rounds; a rank that
 * fails (myr_host_abort) releases the others, waiting or spinning, and every later barrier
 * fails too. */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "partition/host.h"

#include "check.h"

enum { RANKS = 4, ROUNDS = 3000 };

typedef struct rounds_arg {
  myr_host_team *team;
  int rank;
  int arrived[ROUNDS]; /* ranks that reached round r's barrier (atomic adds) */
  int *shared;         /* the arg of rank 0: where everyone counts */
  int early;           /* this rank saw a round not yet complete after its barrier */
  int failed;          /* barriers that returned -1 */
} rounds_arg;

static void *run_rounds(void *p) {
  rounds_arg *a = p;
  for (int r = 0; r < ROUNDS; r++) {
    __atomic_add_fetch(&a->shared[r], 1, __ATOMIC_ACQ_REL);
    if (myr_host_barrier(a->team) != 0) a->failed++;
    if (__atomic_load_n(&a->shared[r], __ATOMIC_ACQUIRE) != RANKS) a->early++;
  }
  return NULL;
}

static void rounds(double spin) {
  myr_host_team team;
  myr_error err;
  REQUIRE(myr_host_team_init(&team, RANKS, &err) == MYR_OK, "%s", err.msg);
  team.spin_seconds = spin;
  static rounds_arg args[RANKS];
  memset(args, 0, sizeof args);
  pthread_t th[RANKS];
  for (int k = 0; k < RANKS; k++) {
    args[k].team = &team;
    args[k].rank = k;
    args[k].shared = args[0].arrived;
    REQUIRE(pthread_create(&th[k], NULL, run_rounds, &args[k]) == 0, "cannot start a rank");
  }
  for (int k = 0; k < RANKS; k++) pthread_join(th[k], NULL);
  int early = 0, failed = 0;
  for (int k = 0; k < RANKS; k++) early += args[k].early, failed += args[k].failed;
  CHECK(early == 0, "spin %g s: %d times a rank passed a barrier before every rank reached it", spin, early);
  CHECK(failed == 0, "spin %g s: %d barriers failed with no rank failing", spin, failed);
  CHECK_EQ_I64(args[0].arrived[ROUNDS - 1], RANKS);
  myr_host_team_free(&team);
}

typedef struct abort_arg {
  myr_host_team *team;
  int result, after;
} abort_arg;

static void *wait_once(void *p) {
  abort_arg *a = p;
  a->result = myr_host_barrier(a->team);
  a->after = myr_host_barrier(a->team);
  return NULL;
}

/* Three ranks wait (spinning first when spin > 0) for a fourth that fails instead. */
static void abort_releases(double spin) {
  myr_host_team team;
  myr_error err;
  REQUIRE(myr_host_team_init(&team, RANKS, &err) == MYR_OK, "%s", err.msg);
  team.spin_seconds = spin;
  abort_arg a[RANKS - 1];
  pthread_t th[RANKS - 1];
  for (int k = 0; k < RANKS - 1; k++) {
    a[k].team = &team;
    a[k].result = a[k].after = 1;
    REQUIRE(pthread_create(&th[k], NULL, wait_once, &a[k]) == 0, "cannot start a rank");
  }
  struct timespec pause = {0, 2000000}; /* 2 ms: the others are waiting by now, past any spin */
  nanosleep(&pause, NULL);
  myr_host_abort(&team, RANKS - 1);
  for (int k = 0; k < RANKS - 1; k++) {
    pthread_join(th[k], NULL);
    CHECK(a[k].result == -1, "spin %g s: rank %d's barrier returned %d after another rank failed", spin, k,
          a[k].result);
    CHECK(a[k].after == -1, "spin %g s: rank %d's next barrier returned %d", spin, k, a[k].after);
  }
  CHECK_EQ_I64(team.abort_rank, RANKS - 1);
  myr_host_team_free(&team);
}

int main(void) {
  rounds(0);
  rounds(50e-6);
  rounds(1e-3); /* long enough that most waits end while spinning */
  abort_releases(0);
  abort_releases(50e-6);
  return check_summary();
}
