/*
 * qdevice/plan-votequorum.c: votequorum's arithmetic for the planner
 * (plan-votequorum.h). The rules, as votequorum(5) documents them:
 *  - expected votes: quorum.expected_votes, else the nodes' votes summed;
 *    the device's votes count as present votes, and expected votes never
 *    stay below the votes present, so a running cluster with a device
 *    expects at least nodes + device;
 *  - quorum = expected / 2 + 1 (never lowered by a failure);
 *  - quorum.device.votes defaults to the node count - 1, which needs every
 *    node at 1 vote and no quorum.expected_votes (docs/protocol.md 4.1);
 *  - two_node: quorum 1 while at most two votes' holders are present; off
 *    with more than two nodes and with auto_tie_breaker; turns on
 *    wait_for_all;
 *  - auto_tie_breaker: a component holding exactly half the expected votes
 *    stays quorate if it holds the ATB node and the nodes it lost could
 *    not be quorate; off on an odd vote count without wait_for_all;
 *  - last_man_standing only lowers expected votes a window after a change
 *    that kept quorum: a sudden failure is not softened by it;
 *  - wait_for_all only matters when the cluster starts.
 * corosync refuses to start with a device together with two_node,
 * last_man_standing or auto_tie_breaker, and with device votes it cannot
 * derive; those views are refused here as well.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "qnetd/algorithms/algorithm.h"
#include "corosync-config.h"
#include "plan-votequorum.h"

static int __attribute__((format(printf, 3, 4)))
fail(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && err_len > 0) {
		va_start(ap, fmt);
		vsnprintf(err, err_len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int
check_nodes(const struct plan_cluster *c, struct plan_vq *vq, char *err, size_t err_len)
{
	if (c->node_count == 0 || c->nodes == NULL)
		return fail(err, err_len, "the cluster view has no nodes");
	if (c->node_count > PLAN_MAX_NODES) {
		return fail(err, err_len, "the planner models at most %d nodes; this "
		    "cluster has %zu", PLAN_MAX_NODES, c->node_count);
	}
	for (size_t i = 0; i < c->node_count; i++) {
		const struct plan_node *n = &c->nodes[i];

		/* docs/protocol.md 1.4: node id 0 is invalid on the wire. */
		if (n->id == 0)
			return fail(err, err_len, "a node has node id 0, which is invalid");
		if (i > 0 && n->id <= c->nodes[i - 1].id) {
			return fail(err, err_len, "node ids must be in ascending order "
			    "without repeats: %u follows %u", (unsigned)n->id,
			    (unsigned)c->nodes[i - 1].id);
		}
		vq->link_mask[i] = 0;
		for (int l = 0; l < PLAN_MAX_LINKS; l++)
			if (n->addrs[l] != NULL && n->addrs[l][0] != '\0')
				vq->link_mask[i] |= 1ULL << l;
		if (vq->link_mask[i] == 0) {
			return fail(err, err_len, "node %u has no address on any link",
			    (unsigned)n->id);
		}
		if (vq->node_votes > UINT32_MAX / 2 - n->votes)
			return fail(err, err_len, "the node votes add up beyond what "
			    "votequorum counts");
		vq->node_votes += n->votes;
	}
	return 0;
}

static int
check_device(const struct plan_cluster *c, char *err, size_t err_len)
{
	if (!c->has_device)
		return 0;
	if (algorithm_get(c->algorithm) == NULL) {
		return fail(err, err_len, "unknown quorum device algorithm %u",
		    (unsigned)c->algorithm);
	}
	if (c->tie_breaker.mode > TIE_BREAKER_NODE_ID ||
	    (c->tie_breaker.mode == TIE_BREAKER_NODE_ID && c->tie_breaker.node_id == 0))
		return fail(err, err_len, "the device's tie_breaker is neither lowest, "
		    "highest nor a node id");
	if (c->heuristics_mode > HEURISTICS_MODE_SYNC)
		return fail(err, err_len, "unknown heuristics mode");
	for (size_t i = 0; i < c->node_count; i++)
		if (c->nodes[i].heuristics > HEURISTICS_FAIL)
			return fail(err, err_len, "node %u has an unknown heuristics result",
			    (unsigned)c->nodes[i].id);
	/* What votequorum refuses at startup, next to votequorum(5)'s notes. */
	if (c->two_node)
		return fail(err, err_len, "corosync does not start with two_node and a "
		    "quorum device configured together");
	if (c->last_man_standing)
		return fail(err, err_len, "corosync does not start with last_man_standing "
		    "and a quorum device (votequorum(5): they are incompatible)");
	if (c->auto_tie_breaker)
		return fail(err, err_len, "corosync does not start with auto_tie_breaker "
		    "and a quorum device (votequorum(5): they are incompatible)");
	if (c->device_votes == 0 && c->expected_votes != 0)
		return fail(err, err_len, "quorum.device.votes must be set when "
		    "quorum.expected_votes is (corosync does not start otherwise)");
	for (size_t i = 0; c->device_votes == 0 && i < c->node_count; i++)
		if (c->nodes[i].votes != 1)
			return fail(err, err_len, "quorum.device.votes must be set when a "
			    "node has other than 1 vote (corosync does not start otherwise)");
	if (c->device_votes != 0 && c->expected_votes != 0 &&
	    (int64_t)c->expected_votes - c->device_votes < 2)
		return fail(err, err_len, "quorum.device.votes is too high for "
		    "quorum.expected_votes (corosync does not start with it)");
	return 0;
}

/* The device's votes and whether qdevice can run at all. */
static void
derive_device(const struct plan_cluster *c, struct plan_vq *vq)
{
	vq->device_votes = 0;
	vq->device_operative = false;
	vq->device_note = NULL;
	if (!c->has_device)
		return;
	/* docs/protocol.md 4.1: votequorum's default is the node count - 1. */
	vq->device_votes = c->device_votes != 0 ? c->device_votes :
	    (uint32_t)c->node_count - 1;
	vq->device_operative = true;
	if (c->algorithm == ALGORITHM_FFSPLIT) {
		/* docs/protocol.md 3.2: the ffsplit client exits otherwise. */
		for (size_t i = 0; i < c->node_count; i++)
			if (c->nodes[i].votes != 1)
				vq->device_note = "ffsplit needs 1 vote per node: qdevice exits";
		if (vq->device_votes != 1)
			vq->device_note = "ffsplit needs quorum.device.votes 1: qdevice exits";
	} else if (c->algorithm == ALGORITHM_2NODELMS && c->node_count != 2) {
		/* docs/protocol.md 3.3: error 12, the client exits. */
		vq->device_note = "2nodelms needs exactly 2 nodes: qdevice exits";
	} else if (vq->device_votes == 0) {
		vq->device_note = "the device has no votes";
	}
	if (vq->device_note != NULL)
		vq->device_operative = false;
}

static void
derive_atb(const struct plan_cluster *c, struct plan_vq *vq)
{
	vq->atb = c->auto_tie_breaker;
	vq->atb_node = PLAN_VQ_NO_NODE;
	if (vq->atb && c->atb_mode == PLAN_ATB_LIST && c->atb_node_count == 0)
		vq->atb = false;	/* votequorum disables an empty list */
	/* An odd vote count needs wait_for_all for ATB, or votequorum turns it off. */
	if (vq->atb && vq->node_votes % 2 != 0 && !vq->wait_for_all)
		vq->atb = false;
	if (!vq->atb)
		return;
	switch (c->atb_mode) {
	case PLAN_ATB_LOWEST:
		vq->atb_node = 0;
		break;
	case PLAN_ATB_HIGHEST:
		vq->atb_node = c->node_count - 1;
		break;
	case PLAN_ATB_LIST:
		/*
		 * The first listed node that was in the cluster decides; a listed
		 * node that was a member but is missing now denies every later one.
		 * All nodes were members before a sudden failure, so the first
		 * listed id that is a configured node is the ATB node.
		 */
		for (size_t k = 0; k < c->atb_node_count && vq->atb_node == PLAN_VQ_NO_NODE; k++)
			for (size_t i = 0; i < c->node_count; i++)
				if (c->nodes[i].id == c->atb_nodes[k])
					vq->atb_node = i;
		break;
	}
}

int
plan_vq_init(const struct plan_cluster *c, struct plan_vq *vq, char *err, size_t err_len)
{
	uint32_t base;
	int r;

	memset(vq, 0, sizeof(*vq));
	if (err != NULL && err_len > 0)
		err[0] = '\0';
	if (c == NULL)
		return fail(err, err_len, "no cluster view");
	if ((r = check_nodes(c, vq, err, err_len)) != 0 ||
	    (r = check_device(c, err, err_len)) != 0)
		return r;
	if (c->auto_tie_breaker && c->atb_mode == PLAN_ATB_LIST && c->atb_node_count > 0 &&
	    c->atb_nodes == NULL)
		return fail(err, err_len, "auto_tie_breaker list without nodes");
	if (c->auto_tie_breaker && c->last_man_standing && !c->wait_for_all &&
	    vq->node_votes % 2 != 0)
		return fail(err, err_len, "corosync does not start with auto_tie_breaker "
		    "and last_man_standing on an odd vote count without wait_for_all");

	vq->wait_for_all = c->wait_for_all || c->two_node;
	derive_atb(c, vq);
	vq->two_node = c->two_node && !vq->atb && c->node_count == 2;
	derive_device(c, vq);

	base = c->expected_votes != 0 ? c->expected_votes : vq->node_votes;
	vq->expected = base > vq->node_votes + vq->device_votes ? base :
	    vq->node_votes + vq->device_votes;
	vq->quorum = vq->expected / 2 + 1;
	return 0;
}

bool
plan_vq_quorate(const struct plan_cluster *c, const struct plan_vq *vq,
    uint64_t component, bool device_vote)
{
	uint32_t votes = 0, holders = 0, members = 0, quorum = vq->quorum;

	for (size_t i = 0; i < c->node_count; i++)
		if (component & (1ULL << i)) {
			votes += c->nodes[i].votes;
			members++;
		}
	holders = members;
	if (device_vote && vq->device_operative) {
		votes += vq->device_votes;
		holders++;
	}
	if (vq->two_node && holders <= 2)
		quorum = 1;
	if (votes >= quorum)
		return true;
	/* votequorum(5) auto_tie_breaker: an exact half with the ATB node. */
	return vq->atb && votes == vq->expected / 2 &&
	    c->node_count - members < quorum &&
	    vq->atb_node != PLAN_VQ_NO_NODE && (component & (1ULL << vq->atb_node));
}
