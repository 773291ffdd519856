/*
 * qdevice/plan-sim.h: the planner's arbiter simulation. It plays qnetd's
 * side (qnetd/cluster.c, qnetd/dispatch.c: the cluster's algorithm from
 * qnetd/algorithms decides each event before the values are stored, pushes
 * go out as VOTE_INFO, lms timers fire) and each node's qdevice (which
 * lists it sends, how it takes a vote, what it does when it loses qnetd),
 * and tells which nodes' devices cast a vote once everything is quiet.
 * The baseline (every node up, connected and voted) is run once and
 * copied for each failure. Pure: no I/O, no clock.
 */
#ifndef QDEVICE_PLAN_SIM_H
#define QDEVICE_PLAN_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "plan.h"
#include "plan-votequorum.h"

/* Events a run may take before it counts as not converging. */
#define PLAN_SIM_MAX_STEPS	200000
#define PLAN_SIM_MAX_TIMER_ROUNDS	64

struct plan_sim;

/*
 * Run the baseline for c (vq from plan_vq_init()). Both must outlive the
 * sim. 0, -ENOMEM, -ELOOP (did not converge) or -EINVAL (an algorithm
 * failed).
 */
int	plan_sim_new(const struct plan_cluster *c, const struct plan_vq *vq,
	    struct plan_sim **out);
void	plan_sim_free(struct plan_sim *s);

/* Nodes whose qdevice casts its vote in the baseline (bits over nodes[]). */
uint64_t	plan_sim_baseline_votes(const struct plan_sim *s);

/*
 * Apply failure f to a copy of the baseline (s keeps the copy's storage
 * for the next call: one thread at a time). components: the running
 * nodes grouped by who still reaches whom (count groups); `first` is the
 * group whose membership reaches qnetd first, the ones after it in the
 * array follow, wrapping around. *votes gets the running nodes whose
 * qdevice casts a vote when the run is quiet. Same errors as
 * plan_sim_new().
 */
int	plan_sim_failure(struct plan_sim *s, const struct plan_failure *f,
	    const uint64_t *components, size_t count, size_t first, uint64_t *votes);

#endif
