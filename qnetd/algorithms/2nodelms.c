/*
 * qnetd/algorithms/2nodelms.c: two-node last man standing (docs/protocol.md
 * 3.3). Decides only on membership lists, from the sender's view and what
 * the other client last reported; it never pushes, never arms a timer and
 * does not re-evaluate the peer when a client disconnects.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "algorithm.h"

/* docs/protocol.md 1.7h: PASS > UNDEFINED > FAIL. */
static int
heuristics_rank(uint8_t h)
{
	switch (h) {
	case HEURISTICS_PASS:
		return 2;
	case HEURISTICS_UNDEFINED:
		return 1;
	default:
		return 0;
	}
}

/*
 * The decision record (algorithm.h), when one is wanted: the sender's
 * membership as it reported it now, then each other client's stored one
 * that is not the same partition; score = heuristics rank. Returns vote.
 */
static uint8_t
decided(const struct algo_cluster *cl, const struct algo_client *c,
    const struct node_list *nodes, const struct ring_id *ring, uint8_t h, uint8_t rule,
    uint8_t vote, struct algo_plan *plan)
{
	struct algo_decision_partition *p;

	if (plan->decision == NULL)
		return vote;
	algo_decision_set(plan, rule, c->node_id, vote);
	for (size_t i = 0; i <= cl->count; i++) {
		const struct algo_client *o = i < cl->count ? cl->clients[i] : c;
		bool own = i == cl->count;

		if ((!own && (o == c || node_list_contains(nodes, o->node_id))) ||
		    (p = algo_decision_add(plan, o->node_id, own ? nodes : &o->membership,
		    NULL, (uint32_t)(own ? nodes : &o->membership)->count)) == NULL)
			continue;
		p->heuristics = own ? h : o->last_heuristics;
		p->score = heuristics_rank(p->heuristics);
		p->score_known = true;
		p->ring_id = own ? *ring : o->ring_id;
		p->won = own ? vote == VOTE_ACK : o->last_result == VOTE_ACK;
	}
	return vote;
}

/*
 * docs/protocol.md 3.3, membership list with ring `ring` and heuristics `h`.
 * Every result but the newcomer NACK is remembered in last_result.
 *  1. Newcomer: never decided before, and some client with a different
 *     stored ring holds an ACK: NACK.
 *  2. Both nodes in the membership: ACK.
 *  3. The only connected client: ACK.
 *  4. h against the other client's last_heuristics ("other" = the last
 *     client in node id order that is not the sender): higher ACK, lower
 *     NACK.
 *  5. Tie-breaker over the connected clients: ACK iff the sender is the
 *     lowest / highest connected id, or the configured node id.
 */
static uint8_t
membership_vote(const struct algo_cluster *cl, struct algo_client *c,
    const struct node_list *nodes, const struct ring_id *ring, uint8_t h,
    struct algo_plan *plan)
{
	uint32_t low = UINT32_MAX, high = 0;
	uint8_t other_h = HEURISTICS_UNDEFINED;
	bool win;

	/* Step 1. */
	if (c->last_result == VOTE_UNDEFINED) {
		for (size_t i = 0; i < cl->count; i++) {
			const struct algo_client *o = cl->clients[i];

			if (!ring_id_equal(ring, &o->ring_id) &&
			    o->last_result == VOTE_ACK)
				return decided(cl, c, nodes, ring, h, ALGO_RULE_NEWCOMER, VOTE_NACK,
				    plan);
		}
	}

	/* Step 2. */
	if (nodes->count == 2)
		return decided(cl, c, nodes, ring, h, ALGO_RULE_BOTH_NODES_MEMBERS,
		    c->last_result = VOTE_ACK, plan);

	/* Step 3. */
	if (cl->count == 1)
		return decided(cl, c, nodes, ring, h, ALGO_RULE_ONLY_CLIENT,
		    c->last_result = VOTE_ACK, plan);

	/* Step 4. */
	for (size_t i = 0; i < cl->count; i++) {
		const struct algo_client *o = cl->clients[i];

		if (o->node_id < low)
			low = o->node_id;
		if (o->node_id > high)
			high = o->node_id;
		if (o != c)
			other_h = o->last_heuristics;
	}
	if (heuristics_rank(h) != heuristics_rank(other_h)) {
		win = heuristics_rank(h) > heuristics_rank(other_h);
		return decided(cl, c, nodes, ring, h, ALGO_RULE_HEURISTICS_SCORE,
		    c->last_result = win ? VOTE_ACK : VOTE_NACK, plan);
	}

	/* Step 5. */
	switch (c->tie_breaker.mode) {
	case TIE_BREAKER_LOWEST:
		win = c->node_id == low;
		break;
	case TIE_BREAKER_HIGHEST:
		win = c->node_id == high;
		break;
	case TIE_BREAKER_NODE_ID:
		win = c->node_id == c->tie_breaker.node_id;
		break;
	default:
		win = false;
		break;
	}
	if (plan->decision != NULL) {
		plan->decision->tie_breaker_mode = c->tie_breaker.mode;
		plan->decision->tie_breaker_node = c->tie_breaker.mode == TIE_BREAKER_LOWEST ?
		    low : c->tie_breaker.mode == TIE_BREAKER_HIGHEST ? high :
		    c->tie_breaker.node_id;
	}
	return decided(cl, c, nodes, ring, h, ALGO_RULE_TIE_BREAKER,
	    c->last_result = win ? VOTE_ACK : VOTE_NACK, plan);
}

static int
twonodelms_decide(struct algo_cluster *cluster, const struct algo_event *ev,
    struct algo_plan *plan)
{
	struct algo_client *c = ev->client;

	if (algo_plan_begin(cluster, ev, plan) != 0)
		return -EINVAL;

	switch (ev->type) {
	case ALGO_EV_CONFIG_LIST:
		if (ev->nodes == NULL)
			return -EINVAL;
		/* Entries are counted as sent, duplicates included. */
		if (ev->nodes->count != 2)
			plan->error = REPLY_UNSUPPORTED_DECISION_ALGORITHM;
		return 0;
	case ALGO_EV_MEMBERSHIP_LIST:
		if (ev->nodes == NULL || ev->ring_id == NULL)
			return -EINVAL;
		plan->vote = membership_vote(cluster, c, ev->nodes, ev->ring_id,
		    ev->heuristics, plan);
		return 0;
	case ALGO_EV_ASK_FOR_VOTE:
		plan->vote = c->last_result == VOTE_UNDEFINED ?
		    VOTE_ASK_LATER : c->last_result;
		algo_decision_set(plan, c->last_result == VOTE_UNDEFINED ?
		    ALGO_RULE_NO_LISTS_YET : ALGO_RULE_REPEAT_LAST, c->node_id, plan->vote);
		return 0;
	case ALGO_EV_QUORUM_LIST:
	case ALGO_EV_HEURISTICS_CHANGE:
	case ALGO_EV_VOTE_INFO_REPLY:
	case ALGO_EV_DISCONNECT:
	case ALGO_EV_TIMER:
		return 0;
	}
	return -EINVAL;
}

const struct algorithm algorithm_2nodelms = {
	.id = ALGORITHM_2NODELMS,
	.name = "2nodelms",
	.decide = twonodelms_decide,
};
