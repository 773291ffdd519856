/*
 * qdevice/plan-votequorum.h: votequorum's arithmetic for the failure
 * planner. From a plan_cluster it derives what corosync's votequorum runs
 * with (expected votes, quorum, the device's votes, which flags are in
 * force) and answers whether a node of a given connected component is
 * quorate. Configurations corosync refuses to start with are refused
 * here too. Facts: votequorum(5) and docs/protocol.md 3.2, 4.1.
 * Pure: no I/O.
 */
#ifndef QDEVICE_PLAN_VOTEQUORUM_H
#define QDEVICE_PLAN_VOTEQUORUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plan.h"

#define PLAN_VQ_NO_NODE	SIZE_MAX

struct plan_vq {
	uint32_t	node_votes;	/* sum over the configured nodes */
	uint32_t	device_votes;	/* votequorum's qdevice votes (0: no device) */
	uint32_t	expected;	/* expected votes in the running cluster */
	uint32_t	quorum;		/* expected / 2 + 1 */
	bool		two_node;	/* in force (2 nodes, no device, no ATB) */
	bool		wait_for_all;	/* in force (two_node turns it on) */
	bool		atb;		/* auto_tie_breaker in force */
	size_t		atb_node;	/* index of the node ATB keeps, PLAN_VQ_NO_NODE: none */
	bool		device_operative;	/* qdevice runs and can vote */
	const char	*device_note;	/* why not, NULL when it can */
	uint64_t	link_mask[PLAN_MAX_NODES];	/* links with an address, per node */
};

/*
 * Check the view and derive votequorum's state: 0, or -EINVAL with a
 * sentence in err (a view the planner cannot model, or a configuration
 * corosync does not start with).
 */
int	plan_vq_init(const struct plan_cluster *c, struct plan_vq *vq,
	    char *err, size_t err_len);

/*
 * Is a node of `component` (bits over nodes[], all running and connected
 * to each other) quorate, its quorum device casting a vote or not?
 */
bool	plan_vq_quorate(const struct plan_cluster *c, const struct plan_vq *vq,
	    uint64_t component, bool device_vote);

#endif
