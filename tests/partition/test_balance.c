/* balance: dynamic's decisions (partition/balance.h), exact integer answers: rates to shares
 * (a rank without a measurement counts as the mean), data_parallel flows between neighbours
 * (left to right, never more than the giver holds, slight ones left alone), and spatial_parallel
 * bands (agents per row to boundaries: each band's agents near its share, at least min_rows
 * rows, slight moves left alone, and of equally good rows the one nearest the old boundary);
 * and the agents each rank hands over, which the end-of-run table reports. */
#include "partition/balance.h"

#include "check.h"

/* before[y] = agents in rows < y from counts per row; before has height + 1 entries. */
static void prefix(const int64_t *count, int32_t height, int64_t *before) {
  before[0] = 0;
  for (int32_t y = 0; y < height; y++) before[y + 1] = before[y] + count[y];
}

static void shares(void) {
  double rate[4] = {2, 0, 1, 1}, share[4];
  CHECK(myr_balance_shares(rate, 4, share) == 1, "measured rates give shares");
  /* the unmeasured rank counts as the mean of the others (4 / 3): sum 16 / 3 */
  CHECK_CLOSE(share[0], 2 / (16.0 / 3), 0, 1e-12);
  CHECK_CLOSE(share[1], (4.0 / 3) / (16.0 / 3), 0, 1e-12);
  CHECK_CLOSE(share[0] + share[1] + share[2] + share[3], 1, 0, 1e-12);
  double none[2] = {0, 0};
  CHECK(myr_balance_shares(none, 2, share) == 0, "no measurement: nothing should move");
}

static void flows(void) {
  double third[3] = {1 / 3.0, 1 / 3.0, 1 / 3.0};
  int64_t n[3] = {100, 0, 0}, flow[2];
  myr_balance_flows(n, third, 3, flow); /* agents pass through rank 1 on to rank 2 */
  CHECK_EQ_I64(flow[0], 66);
  CHECK_EQ_I64(flow[1], 33);
  CHECK_EQ_I64(n[0], 34);
  CHECK_EQ_I64(n[1], 33);
  CHECK_EQ_I64(n[2], 33);
  int64_t back[3] = {0, 0, 100};
  myr_balance_flows(back, third, 3, flow); /* rank 1 has none to give rank 0 */
  CHECK_EQ_I64(flow[0], 0);
  CHECK_EQ_I64(flow[1], -66);
  double half[2] = {0.5, 0.5};
  int64_t close[2] = {520, 480};
  myr_balance_flows(close, half, 2, flow); /* 20 < 5% of the mean 500 */
  CHECK_EQ_I64(flow[0], 0);
  int64_t far[2] = {600, 400};
  myr_balance_flows(far, half, 2, flow);
  CHECK_EQ_I64(flow[0], 100);
}

static void bands(void) {
  enum { H = 20 };
  int64_t count[H] = {0}, before[H + 1];
  for (int y = 0; y < 10; y++) count[y] = 10; /* 100 agents in rows 0..9, none above */
  prefix(count, H, before);
  double half[2] = {0.5, 0.5};
  int32_t even[3] = {0, 10, 20}, out[3];
  CHECK(myr_balance_bands(before, H, 2, half, 3, even, out) == 1, "the boundary moves");
  CHECK_EQ_I64(out[0], 0);
  CHECK_EQ_I64(out[1], 5); /* 50 agents on each side */
  CHECK_EQ_I64(out[2], H);
  CHECK(myr_balance_bands(before, H, 2, half, 8, even, out) == 1, "the boundary moves as far as it may");
  CHECK_EQ_I64(out[1], 8); /* every band keeps min_rows: rank 0 at least 8 rows */
  int32_t near[3] = {0, 6, 20};
  CHECK(myr_balance_bands(before, H, 2, half, 3, near, out) == 1, "one row of 10 agents is over the slack of 2");
  CHECK_EQ_I64(out[1], 5);
  /* rows without agents: with all the work wanted on rank 0, every boundary from row 10 up
   * comes as near; the one nearest the old boundary is taken */
  double all0[2] = {1, 0};
  int32_t at14[3] = {0, 14, 20};
  CHECK(myr_balance_bands(before, H, 2, all0, 3, at14, out) == 0, "any row of the empty run is as good");
  CHECK_EQ_I64(out[1], 14);
  int32_t at4[3] = {0, 4, 20};
  CHECK(myr_balance_bands(before, H, 2, all0, 3, at4, out) == 1, "the boundary leaves the agents' rows");
  CHECK_EQ_I64(out[1], 10);
  /* four bands of at least 2 rows over the same agents: 25, 50 and 75 agents before the
   * boundaries, as near as rows of 10 allow, ties to the old boundary's side */
  double quarter[4] = {0.25, 0.25, 0.25, 0.25};
  int32_t four[5] = {0, 5, 10, 15, 20}, out4[5];
  CHECK(myr_balance_bands(before, H, 4, quarter, 2, four, out4) == 1, "four bands move");
  CHECK_EQ_I64(out4[1], 3);
  CHECK_EQ_I64(out4[2], 5);
  CHECK_EQ_I64(out4[3], 8);
  CHECK_EQ_I64(out4[4], H);
}

/* The slack: 1000 agents in 100 rows of 10, two ranks: moves of up to 25 agents (5% of the
 * mean 500) are left alone. */
static void slack(void) {
  enum { H = 100 };
  int64_t count[H], before[H + 1];
  for (int y = 0; y < H; y++) count[y] = 10;
  prefix(count, H, before);
  int32_t even[3] = {0, 50, H}, out[3];
  double slight[2] = {0.52, 0.48}, more[2] = {0.53, 0.47};
  CHECK(myr_balance_bands(before, H, 2, slight, 4, even, out) == 0, "20 agents stay");
  CHECK_EQ_I64(out[1], 50);
  CHECK(myr_balance_bands(before, H, 2, more, 4, even, out) == 1, "30 agents move");
  CHECK_EQ_I64(out[1], 53);
  int32_t thin[3] = {0, 2, H}; /* a band under min_rows is widened whatever the slack says */
  CHECK(myr_balance_bands(before, H, 2, slight, 4, thin, out) == 1, "a band thinner than min_rows grows");
  CHECK_EQ_I64(out[1], 52);
}

/* Agents handed over: flows count for their givers; a boundary moving down takes the rows of
 * the rank after it, moving up those of the rank before it. */
static void handed(void) {
  int64_t flow[3] = {66, -10, 0};
  double by_flows[4] = {0};
  myr_balance_handed_flows(flow, 4, by_flows);
  CHECK_CLOSE(by_flows[0], 66, 0, 0);
  CHECK_CLOSE(by_flows[1], 0, 0, 0);
  CHECK_CLOSE(by_flows[2], 10, 0, 0);
  CHECK_CLOSE(by_flows[3], 0, 0, 0);
  enum { H = 10 };
  int64_t count[H], before[H + 1];
  for (int y = 0; y < H; y++) count[y] = y; /* row y holds y agents */
  prefix(count, H, before);
  int32_t old[4] = {0, 3, 6, H}, now[4] = {0, 5, 8, H}, back[4] = {0, 2, 6, H};
  double by_bands[3] = {0};
  myr_balance_handed_bands(before, 3, old, now, by_bands);
  CHECK_CLOSE(by_bands[0], 0, 0, 0);
  CHECK_CLOSE(by_bands[1], 3 + 4, 0, 0);  /* rows 3 and 4 to rank 0 */
  CHECK_CLOSE(by_bands[2], 6 + 7, 0, 0);  /* rows 6 and 7 to rank 1 */
  myr_balance_handed_bands(before, 3, old, back, by_bands);
  CHECK_CLOSE(by_bands[0], 2, 0, 0);      /* and then row 2 to rank 1 */
}

int main(void) {
  shares();
  flows();
  bands();
  slack();
  handed();
  return check_summary();
}
