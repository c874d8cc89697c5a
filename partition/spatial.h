/* spatial_parallel on the host transport: rank r owns the band of rows [row0[r], row0[r + 1])
 * of the world and the agents standing in it. Every rank keeps full-size layers, but only its
 * own rows and a halo of `halo` rows on each side are kept current:
 *   after act           claims placed in the halo are added into their owner's rows, and the
 *                       halo is cleared (transient layers written in act);
 *   after cells_begin   every layer's halo is copied from its owners (agents standing in the
 *                       halo settle against the owner's totals);
 *   after sync_agents   the same sum for the layers written in sync_agents;
 *   after cells_end     transient halos cleared, persistent halos copied from the owners;
 *   after compaction    agents that left the band move to the rank that owns their row.
 * halo = model reach + sync_frequency x max_speed: everything an agent reads or writes within
 * a window lies in its band or the halo, so every rank computes what one rank would. */
#ifndef MYR_PARTITION_SPATIAL_H
#define MYR_PARTITION_SPATIAL_H

#include <stddef.h>

#include "partition/host.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct myr_spatial_box {
  char *data;
  size_t used, cap;
} myr_spatial_box;

typedef struct myr_spatial {
  myr_host_team host;      /* first: the host transport's barrier and views */
  int size;
  int32_t width, height, wrap, halo;
  int32_t *row0;           /* [size + 1] */
  myr_sim **sims;          /* [size]: every rank's sim, for the exchanges */
  myr_spatial_box *boxes;  /* [size][size]: agents leaving rank a for rank b at [a * size + b] */
  int64_t *moves;          /* [size][size]: GPU ranks' counts of agents leaving a for b */
} myr_spatial;

myr_status myr_spatial_init(myr_spatial *sp, int size, const int32_t *row0, int32_t width, int32_t height,
                            int32_t wrap, int32_t halo, myr_error *err);
void myr_spatial_free(myr_spatial *sp);
/* The rank owning row y (0 <= y < height). */
int myr_spatial_owner(const myr_spatial *sp, int32_t y);
/* Rank r's halo: the rows (distinct, ascending) within `halo` of its band that others own. */
int myr_spatial_halo_rows(const myr_spatial *sp, int r, const int32_t **rows);

/* myr_rank.sum_layers and .migrate for spatial CPU ranks (r->team is the myr_spatial). */
myr_status myr_spatial_sync(myr_rank *r, myr_sim *sim, const myr_view *v, int point, void *stream, myr_error *err);
myr_status myr_spatial_migrate(myr_rank *r, myr_sim *sim, myr_error *err);

#ifdef __cplusplus
}
#endif

#endif
