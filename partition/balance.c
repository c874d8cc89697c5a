/* balance: dynamic (balance.h): the shares, the flows of data_parallel and their moves, the
 * bands of spatial_parallel. */
#include "partition/balance.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "partition/mpi.h"    /* myr_mpi_*: agreement and point to point between processes */
#include "sim/sim_internal.h" /* myr__sim_compact */

int myr_balance_shares(const double *rate, int size, double *share) {
  double sum = 0;
  int measured = 0;
  for (int r = 0; r < size; r++)
    if (rate[r] > 0) sum += rate[r], measured++;
  if (measured == 0) return 0;
  double mean = sum / measured, total = sum + mean * (size - measured);
  for (int r = 0; r < size; r++) share[r] = (rate[r] > 0 ? rate[r] : mean) / total;
  return 1;
}

/* ---- data_parallel -------------------------------------------------------------------------- */

void myr_balance_flows(int64_t *n, const double *share, int size, int64_t *flow) {
  int64_t all = 0;
  for (int r = 0; r < size; r++) all += n[r];
  int64_t slack = (int64_t)(MYR_BALANCE_SLACK * (double)all / size);
  double before = 0, target_before = 0; /* agents, and their targets, left of the boundary */
  for (int r = 0; r + 1 < size; r++) {
    before += (double)n[r];
    target_before += (double)all * share[r];
    int64_t f = (int64_t)(before - target_before);
    if (f <= slack && -f <= slack) f = 0;
    if (f > n[r]) f = n[r];
    if (-f > n[r + 1]) f = -n[r + 1];
    flow[r] = f;
    n[r] -= f;
    n[r + 1] += f;
    before -= (double)f;
  }
}

/* The last k alive agents of sim (k at most its alive agents) packed as rows at out, in slot
 * order, and removed from sim. */
static void take_last(myr_sim *sim, int64_t k, char *out) {
  myr_agents *a = &sim->agents;
  size_t row = myr_sim_agent_row_bytes(sim);
  int64_t first = a->n, found = 0;
  while (first > 0 && found < k) found += a->alive[--first];
  for (int64_t i = first; i < a->n; i++) {
    if (!a->alive[i]) continue;
    myr_sim_pack_agent(sim, i, out);
    out += row;
    a->alive[i] = 0;
  }
  myr__sim_compact(sim);
}

/* k rows appended to sim as alive agents (the caller has checked the capacity). */
static void give_rows(myr_sim *sim, const char *rows, int64_t k) {
  size_t row = myr_sim_agent_row_bytes(sim);
  for (int64_t j = 0; j < k; j++) myr_sim_append_agent_row(sim, rows + (size_t)j * row);
}

static myr_status no_room(const myr_sim *sim, int rank, int64_t k, myr_error *err) {
  return myr_fail(err, MYR_ERR_CAPACITY,
                  "step %llu: balance dynamic would give rank %d %lld agents but it has %lld slots; raise "
                  "agents.capacity", (unsigned long long)sim->step, rank, (long long)(sim->agents.n + k),
                  (long long)sim->agents.capacity);
}

/* Boundary b's giver and taker for flow f. */
static int giver(int b, int64_t f) { return f > 0 ? b : b + 1; }
static int taker(int b, int64_t f) { return f > 0 ? b + 1 : b; }

myr_status myr_balance_move_threads(myr_sim **sims, myr_rank *ranks, int size, const int64_t *flow, myr_error *err) {
  int64_t most = 0;
  for (int b = 0; b + 1 < size; b++) most = llabs(flow[b]) > most ? llabs(flow[b]) : most;
  if (most == 0) return MYR_OK;
  size_t row = myr_sim_agent_row_bytes(sims[0]);
  char *rows = malloc((size_t)most * row);
  if (!rows) return myr_fail(err, MYR_ERR_NOMEM, "balance dynamic: cannot pack %lld agents", (long long)most);
  myr_status s = MYR_OK;
  for (int b = 0; b + 1 < size && s == MYR_OK; b++) {
    int64_t k = llabs(flow[b]);
    int from = giver(b, flow[b]), to = taker(b, flow[b]);
    if (k == 0) continue;
    if (sims[to]->agents.n + k > sims[to]->agents.capacity) {
      s = no_room(sims[to], to, k, err);
      break;
    }
    take_last(sims[from], k, rows);
    give_rows(sims[to], rows, k);
    ranks[from].bytes_moved += (double)k * (double)row;
  }
  free(rows);
  return s;
}

myr_status myr_balance_room(const myr_sim *sim, int me, int size, const int64_t *flow, int64_t *most,
                            myr_error *err) {
  int64_t held = sim->agents.n, largest = 0;
  for (int b = 0; b + 1 < size; b++) {
    int64_t k = llabs(flow[b]);
    if (k == 0 || (giver(b, flow[b]) != me && taker(b, flow[b]) != me)) continue;
    largest = k > largest ? k : largest;
    held += taker(b, flow[b]) == me ? k : -k;
    if (held > sim->agents.capacity) return no_room(sim, me, k, err);
  }
  if (most) *most = largest;
  return MYR_OK;
}

/* This process's part of the flows checked before anything moves (myr_balance_room) and a
 * buffer for its largest transfer. */
static myr_status plan_processes(const myr_sim *sim, int me, int size, const int64_t *flow, char **rows,
                                 myr_error *err) {
  int64_t most = 0;
  myr_status s = myr_balance_room(sim, me, size, flow, &most, err);
  if (s != MYR_OK) return s;
  *rows = malloc(most > 0 ? (size_t)most * myr_sim_agent_row_bytes(sim) : 1);
  if (!*rows)
    return myr_fail(err, MYR_ERR_NOMEM, "rank %d: balance dynamic cannot pack %lld agents", me, (long long)most);
  return MYR_OK;
}

myr_status myr_balance_move_processes(myr_sim *sim, myr_rank *rank, const int64_t *flow, myr_error *err) {
  int me = rank->index, size = rank->count;
  char *rows = NULL;
  myr_status s = plan_processes(sim, me, size, flow, &rows, err);
  if (myr_mpi_max_int(s != MYR_OK)) { /* every process stops, none waits for agents that never come */
    free(rows);
    return s != MYR_OK ? s
                       : myr_fail(err, MYR_ERR_INTERNAL, "rank %d stopped: another rank failed (its message is above)",
                                  me);
  }
  size_t row = myr_sim_agent_row_bytes(sim);
  int64_t out_bytes[size], in_bytes[size];
  const void *out[size];
  void *in[size];
  for (int b = 0; b + 1 < size && s == MYR_OK; b++) {
    int64_t k = llabs(flow[b]);
    int from = giver(b, flow[b]), to = taker(b, flow[b]);
    if (k == 0 || (from != me && to != me)) continue;
    memset(out_bytes, 0, sizeof out_bytes);
    memset(in_bytes, 0, sizeof in_bytes);
    for (int q = 0; q < size; q++) out[q] = in[q] = rows;
    if (from == me) {
      take_last(sim, k, rows);
      out_bytes[to] = k * (int64_t)row;
      rank->bytes_moved += (double)out_bytes[to];
    } else {
      in_bytes[from] = k * (int64_t)row;
    }
    s = myr_mpi_exchange(out, out_bytes, in, in_bytes, err);
    if (s == MYR_OK && to == me) give_rows(sim, rows, k);
  }
  free(rows);
  return s;
}

/* ---- spatial_parallel ----------------------------------------------------------------------- */

/* The first y in [lo, end) with before[y] >= v; end if none (before is nondecreasing). */
static int32_t first_at_least(const int64_t *before, int32_t lo, int32_t end, int64_t v) {
  while (lo < end) {
    int32_t mid = lo + (end - lo) / 2;
    if (before[mid] >= v) end = mid;
    else lo = mid + 1;
  }
  return lo;
}

/* Of the rows y in [lo, hi] whose before[y] comes nearest `want`, the nearest to `prefer`. */
static int32_t nearest_row(const int64_t *before, int32_t lo, int32_t hi, int64_t want, int32_t prefer) {
  int32_t up = first_at_least(before, lo, hi + 1, want);
  int64_t best = INT64_MAX;
  if (up <= hi) best = before[up] - want;
  if (up > lo && want - before[up - 1] < best) best = want - before[up - 1];
  /* the rows that come as near: before[y] within best of want, a run of rows */
  int32_t a = first_at_least(before, lo, hi + 1, want - best);
  int32_t b = first_at_least(before, lo, hi + 1, want + best + 1) - 1;
  return prefer < a ? a : prefer > b ? b : prefer;
}

int myr_balance_bands(const int64_t *before, int32_t height, int size, const double *share, int32_t min_rows,
                      const int32_t *row0, int32_t *out) {
  double all = (double)before[height], share_before = 0;
  int64_t slack = (int64_t)(MYR_BALANCE_SLACK * all / size);
  int moved = 0;
  memcpy(out, row0, sizeof *out * (size_t)(size + 1));
  if ((int64_t)size * min_rows > height) return 0; /* no room to cut differently (creation refuses it) */
  for (int r = 1; r < size; r++) {
    share_before += share[r - 1];
    int32_t lo = out[r - 1] + min_rows, hi = height - (int32_t)(size - r) * min_rows;
    int64_t want = (int64_t)(all * share_before + 0.5);
    int32_t y = nearest_row(before, lo, hi, want, row0[r]);
    int64_t crossing = before[y] - before[row0[r]];
    if (row0[r] >= lo && row0[r] <= hi && crossing <= slack && -crossing <= slack) y = row0[r];
    out[r] = y;
    moved |= y != row0[r];
  }
  return moved;
}

/* ---- what moved ----------------------------------------------------------------------------- */

void myr_balance_handed_flows(const int64_t *flow, int size, double *handed) {
  for (int b = 0; b + 1 < size; b++) handed[giver(b, flow[b])] += (double)llabs(flow[b]);
}

/* Boundary r moving down (out[r] > row0[r]) gives rank r - 1 the rows [row0[r], out[r]) of
 * rank r; moving up, rank r - 1 gives its rows [out[r], row0[r]). */
void myr_balance_handed_bands(const int64_t *before, int size, const int32_t *row0, const int32_t *out,
                              double *handed) {
  for (int r = 1; r < size; r++) {
    int64_t crossing = before[out[r]] - before[row0[r]];
    handed[crossing > 0 ? r : r - 1] += (double)llabs(crossing);
  }
}
