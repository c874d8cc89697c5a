/* circles: the CPU range functions over circles.h, the parameter, column and statistic tables,
 * setup() (the cube's side from the agent count and density) and the descriptor
 * myr_model_circles (registered in models/registry.def). Rules and parameters: README.md. */
#include <float.h>
#include <math.h>
#include <stddef.h>

#include "models/circles/circles.h" /* per-agent logic, circles_params */
#include "models/model.h"           /* myr_model, MYR_AGENT_RANGE */

static myr_status circles_setup(void *params, const myr_world_info *w, myr_error *err) {
  circles_params *p = params;
  const char *m = "model.params";
  double side = p->size;
  if (side == 0.0) {
    if (!(p->density > 0.0))
      return myr_fail(err, MYR_ERR_CONFIG, "%s.density: expected > 0 when size is 0, got %g", m, p->density);
    double agents = w ? (double)w->agents : 1.0;
    side = round(cbrt(agents / p->density));
    if (side < 1.0) side = 1.0;
  }
  if (!(p->radius > 0.0))
    return myr_fail(err, MYR_ERR_CONFIG, "%s.radius: expected > 0, got %g", m, p->radius);
  if (p->wrap && side < 3.0 * p->radius * 1.001)
    return myr_fail(err, MYR_ERR_CONFIG,
                    "%s.wrap: a wrapped cube needs a side of at least 3 x radius (a little more): side %g, radius %g",
                    m, side, p->radius);
  p->side_f = (float)side;
  p->radius_f = (float)p->radius;
  p->repulse_f = (float)p->repulse;
  p->cut2_f = (float)(p->radius * p->radius * (1.0 + 1e-5));
  int e2;
  p->inv_radius_f = 0.0f; /* exact reciprocals only: 2^k with 1 / r a normal float */
  if (frexpf(p->radius_f, &e2) == 0.5f && p->radius_f >= 0x1p-125f && p->radius_f <= 0x1p125f)
    p->inv_radius_f = 1.0f / p->radius_f;
  return MYR_OK;
}

static void circles_space(const void *params, myr_nbr_space *out) {
  const circles_params *p = params;
  out->dims = 3;
  out->wrap = p->wrap;
  out->extent[0] = out->extent[1] = out->extent[2] = p->side_f;
  out->radius = p->radius_f;
  /* The most an agent moves in a step, along any axis (circles.h): the move is the mean of its
   * neighbours' forces (k / d) * delta, each of norm |k| * |delta| / d <= |repulse| since
   * |myr_sinf| <= 1 and |delta| <= d, so the mean and each of its components are at most
   * |repulse| too. Float rounding adds a relative error of about (neighbours + 8) x 2^-24 (the
   * sine, the division by d, the running sum, the mean): the margin of 1e-3 covers up to
   * 16000 neighbours per agent, and spatial_parallel's halo adds a whole bin beyond it. */
  out->max_step = fmaxf(fabsf(p->repulse_f) * (1.0f + 1e-3f), FLT_MIN); /* repulse 0: no move, still a bound */
  out->bins_per_radius = (int32_t)p->bins_per_radius;
}

static void init_one(const myr_view *v, int64_t i, int64_t *flow) {
  (void)flow;
  circles_init_agent(v, i);
}

static void decide_one(const myr_view *v, int64_t i, int64_t *flow) {
  (void)flow;
  v->action[i] = 0;
}

static void sync_one(const myr_view *v, int64_t i, int64_t *flow) {
  (void)flow;
  v->children[i] = 0;
}

MYR_AGENT_RANGE(circles_init_agents, init_one)
MYR_AGENT_RANGE(circles_heuristic, decide_one)
MYR_AGENT_RANGE(circles_act_range, circles_act)
MYR_AGENT_RANGE(circles_sync_agents, sync_one)

/* One action ("move by the forces"): nothing to decide. */
static int circles_legal(const myr_view *v, int64_t i, uint8_t *mask) {
  (void)v;
  (void)i;
  mask[0] = 1;
  return 1;
}

static void circles_finish_stats(const myr_view *v, const int64_t *acc, const int64_t *flow, double *out) {
  (void)v;
  (void)acc;
  double steps = flow[CIRCLES_FLOW_AGENT_STEPS] > 0 ? (double)flow[CIRCLES_FLOW_AGENT_STEPS] : 1.0;
  out[CIRCLES_STAT_NEIGHBOURS] = (double)flow[CIRCLES_FLOW_NEIGHBOURS] / steps;
  out[CIRCLES_STAT_CANDIDATES] = (double)flow[CIRCLES_FLOW_CANDIDATES] / steps;
  out[CIRCLES_STAT_DRIFT] = (double)flow[CIRCLES_FLOW_DRIFT] / CIRCLES_DRIFT_SCALE / steps;
}

#define P(field) offsetof(circles_params, field)
static const myr_param_desc circles_param_table[] = {
    {.name = "density", .type = MYR_P_FLOAT, .def = 1.0, .min = 1e-9, .max = 1e9, .offset = P(density),
     .doc = "agents per unit volume; with size 0 the cube's side is round(cbrt(agents.count / density)), as in "
            "the benchmark's fixed-density experiment"},
    {.name = "size", .type = MYR_P_FLOAT, .def = 0.0, .min = 0.0, .max = 1e7, .offset = P(size),
     .doc = "side of the cube [0, size)^3 the agents start in; 0 = from density"},
    {.name = "radius", .type = MYR_P_FLOAT, .def = 2.0, .min = 1e-6, .max = 1e6, .offset = P(radius),
     .doc = "interaction radius: agents closer than this push (below radius / 2) or pull (above) each other"},
    {.name = "repulse", .type = MYR_P_FLOAT, .def = 0.05, .min = 0.0, .max = 1e3, .offset = P(repulse),
     .doc = "force scale (the benchmark's ENV_REPULSE)"},
    {.name = "wrap", .type = MYR_P_BOOL, .def = 0, .offset = P(wrap),
     .doc = "true: the cube is a torus (nearest-image distances); false: open like FLAME GPU's, agents may drift "
            "past the faces and the edge bins take them"},
    {.name = "bins_per_radius", .type = MYR_P_INT, .def = 2, .min = 1, .max = 4, .offset = P(bins_per_radius),
     .doc = "neighbour bins per radius along each axis: finer bins make a walk read fewer agents beyond the "
            "radius (about 105 against 230 per agent at 2 and 1) but visit more bins; it sets the order forces "
            "are summed in, so results depend on it in the last bits"},
};
#undef P

static const myr_column_desc circles_columns[CIRCLES_COLUMNS] = {
    [CIRCLES_X] = {"x", MYR_F32, 1, MYR_PERSISTENT, "position along x"},
    [CIRCLES_Y] = {"y", MYR_F32, 1, MYR_PERSISTENT, "position along y"},
    [CIRCLES_Z] = {"z", MYR_F32, 1, MYR_PERSISTENT, "position along z"},
};

static const myr_stat_desc circles_stats[CIRCLES_STATS] = {
    [CIRCLES_STAT_NEIGHBOURS] = {"mean_neighbours", "other agents within the radius, per agent-step"},
    [CIRCLES_STAT_CANDIDATES] = {"mean_candidates",
                                 "entries read from the bins a walk visits (self included), per agent-step: at "
                                 "bins_per_radius 1 the 27 bins around it, FLAME GPU's mean_message_count"},
    [CIRCLES_STAT_DRIFT] = {"mean_drift",
                            "distance moved per agent-step (falls as the model settles: the benchmark's "
                            "validation measure)"},
};

static const char *const circles_action_names[1] = {"move"};
static const int circles_nbr_columns[3] = {CIRCLES_X, CIRCLES_Y, CIRCLES_Z};

MYR_DECLARE_MODEL_CUDA(circles);

const myr_model myr_model_circles = {
    .name = "circles",
    .summary = "FLAME GPU 2's circles benchmark: points in a cube pushed and pulled by neighbours within a radius",
    .params_size = sizeof(circles_params),
    .params = circles_param_table,
    .n_params = (int)(sizeof circles_param_table / sizeof circles_param_table[0]),
    .setup = circles_setup,
    .columns = circles_columns,
    .n_columns = CIRCLES_COLUMNS,
    .layers = NULL,
    .n_layers = 0,
    .stats = circles_stats,
    .n_stats = CIRCLES_STATS,
    .n_acc = 0,
    .n_flows = CIRCLES_FLOWS,
    .init_cells = NULL,
    .init_agents = circles_init_agents,
    .n_actions = 1,
    .action_names = circles_action_names,
    .n_features = 0,
    .legal = circles_legal,
    .features = NULL,
    .heuristic = circles_heuristic,
    .act = circles_act_range,
    .sync_cells_begin = NULL,
    .sync_agents = circles_sync_agents,
    .birth = NULL,
    .sync_cells_end = NULL,
    .agent_stats = NULL,
    .cell_stats = NULL,
    .finish_stats = circles_finish_stats,
    .cuda = MYR_MODEL_CUDA(circles),
    .nbr_dims = 3,
    .nbr_columns = circles_nbr_columns,
    .nbr_n_columns = 3,
    .nbr_space = circles_space,
};
