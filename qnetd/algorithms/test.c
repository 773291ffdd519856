/*
 * qnetd/algorithms/test.c: the developer-only "test" algorithm
 * (docs/protocol.md 3.1). Membership lists and ask-for-vote get ACK, every
 * other list or change gets NO_CHANGE; it never pushes and keeps no state.
 */
#include <errno.h>

#include "algorithm.h"

static int
test_decide(struct algo_cluster *cluster, const struct algo_event *ev,
    struct algo_plan *plan)
{
	if (algo_plan_begin(cluster, ev, plan) != 0)
		return -EINVAL;

	switch (ev->type) {
	case ALGO_EV_MEMBERSHIP_LIST:
	case ALGO_EV_ASK_FOR_VOTE:
		plan->vote = VOTE_ACK;
		algo_decision_set(plan, ALGO_RULE_TEST_ALWAYS_ACK, ev->client->node_id,
		    plan->vote);
		break;
	case ALGO_EV_CONFIG_LIST:
	case ALGO_EV_QUORUM_LIST:
	case ALGO_EV_HEURISTICS_CHANGE:
	case ALGO_EV_VOTE_INFO_REPLY:	/* ignored; no reply is sent */
	case ALGO_EV_DISCONNECT:
	case ALGO_EV_TIMER:
		plan->vote = VOTE_NO_CHANGE;
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

const struct algorithm algorithm_test = {
	.id = ALGORITHM_TEST,
	.name = "test",
	.decide = test_decide,
};
