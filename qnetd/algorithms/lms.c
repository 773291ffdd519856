/*
 * qnetd/algorithms/lms.c: last man standing for any cluster size
 * (docs/protocol.md 3.4). Clients are grouped into partitions by their stored
 * ring id and the best partition gets the vote. While a partition's
 * members disagree on the ring the client is told to wait and a per-client
 * timer (HB/4) re-runs the decision, pushing the result as VOTE_INFO.
 *
 * Cost: O(clients^2) per run, partitions are recounted rather than kept,
 * so nothing is allocated.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "algorithm.h"

/* Stored ring with seq 0 = the client has not reported a ring yet. */
static bool
counted(const struct algo_client *c)
{
	return c->ring_id.seq != 0;
}

/* Client i opens a partition: counted, and no earlier client has its ring. */
static bool
partition_head(const struct algo_cluster *cl, size_t i)
{
	const struct ring_id *ring = &cl->clients[i]->ring_id;

	if (!counted(cl->clients[i]))
		return false;
	for (size_t j = 0; j < i; j++)
		if (counted(cl->clients[j]) &&
		    ring_id_equal(&cl->clients[j]->ring_id, ring))
			return false;
	return true;
}

/* docs/protocol.md 3.4 step 3: nodes = members, score = sum(1 + [PASS] - [FAIL]). */
static void
partition_stats(const struct algo_cluster *cl, const struct ring_id *ring,
    int *nodes, int *score)
{
	*nodes = 0;
	*score = 0;
	for (size_t i = 0; i < cl->count; i++) {
		const struct algo_client *o = cl->clients[i];

		if (!counted(o) || !ring_id_equal(&o->ring_id, ring))
			continue;
		(*nodes)++;
		(*score)++;
		if (o->last_heuristics == HEURISTICS_PASS)
			(*score)++;
		else if (o->last_heuristics == HEURISTICS_FAIL)
			(*score)--;
	}
}

/*
 * The partition with the unique highest score (by_score) or node count
 * (!by_score), over all partitions. Returns its ring, or NULL on a tie.
 */
static const struct ring_id *
unique_leader(const struct algo_cluster *cl, bool by_score)
{
	const struct ring_id *lead = NULL;
	int lead_val = 0, nodes, score, val;
	bool tie = false;

	for (size_t i = 0; i < cl->count; i++) {
		if (!partition_head(cl, i))
			continue;
		partition_stats(cl, &cl->clients[i]->ring_id, &nodes, &score);
		val = by_score ? score : nodes;
		if (lead == NULL || val > lead_val) {
			lead = &cl->clients[i]->ring_id;
			lead_val = val;
			tie = false;
		} else if (val == lead_val) {
			tie = true;
		}
	}
	return tie ? NULL : lead;
}

static uint8_t
wait_for_reply(struct algo_client *c, struct algo_plan *plan)
{
	c->last_result = VOTE_WAIT_FOR_REPLY;
	c->received_wait_for_reply = true;
	plan->timer = ALGO_TIMER_ARM;
	plan->timer_ms = c->heartbeat_interval_ms / 4;
	return VOTE_WAIT_FOR_REPLY;
}

/*
 * docs/protocol.md 3.4 step 8. LOWEST searches from INT32_MAX, so ids at or
 * above it are never chosen; HIGHEST searches from 0. The sender ACKs if
 * it is that node or shares that node's stored ring. NODE_ID: upstream
 * copies a ring only when the sender itself is the configured node (which
 * ACKs anyway), so its partition-mates compare against the zero ring and
 * get NACK (quirk).
 */
static bool
tie_breaker_wins(const struct algo_cluster *cl, const struct algo_client *c,
    const struct ring_id *ring, uint32_t *tb_node, struct ring_id *tb_ring_out)
{
	struct ring_id tb_ring = { 0, 0 };
	uint32_t tb;

	switch (c->tie_breaker.mode) {
	case TIE_BREAKER_LOWEST:
		tb = INT32_MAX;
		for (size_t i = 0; i < cl->count; i++)
			if (cl->clients[i]->node_id < tb) {
				tb = cl->clients[i]->node_id;
				tb_ring = cl->clients[i]->ring_id;
			}
		break;
	case TIE_BREAKER_HIGHEST:
		tb = 0;
		for (size_t i = 0; i < cl->count; i++)
			if (cl->clients[i]->node_id > tb) {
				tb = cl->clients[i]->node_id;
				tb_ring = cl->clients[i]->ring_id;
			}
		break;
	case TIE_BREAKER_NODE_ID:
		tb = c->tie_breaker.node_id;
		break;
	default:
		tb = UINT32_MAX;	/* the decoder rejects other modes */
		break;
	}
	*tb_node = tb;
	*tb_ring_out = tb_ring;
	return c->node_id == tb || ring_id_equal(&tb_ring, ring);
}

/*
 * The decision record (algorithm.h), when one is wanted: the partitions by
 * stored ring with their sizes and scores, `won` the one whose ring is
 * `winner`. Returns vote.
 */
static uint8_t
decided(const struct algo_cluster *cl, const struct algo_client *c, uint8_t rule,
    const struct ring_id *winner, uint8_t vote, struct algo_plan *plan)
{
	int nodes, score;

	if (plan->decision == NULL)
		return vote;
	algo_decision_set(plan, rule, c->node_id, vote);
	for (size_t i = 0; i < cl->count; i++) {
		const struct ring_id *ring = &cl->clients[i]->ring_id;
		struct algo_decision_partition *p;

		if (!partition_head(cl, i))
			continue;
		partition_stats(cl, ring, &nodes, &score);
		p = algo_decision_add(plan, cl->clients[i]->node_id, NULL, NULL, (uint32_t)nodes);
		if (p == NULL)
			continue;
		p->ring_id = *ring;
		p->active = nodes;
		p->score = score;
		p->score_known = true;
		p->heuristics = cl->clients[i]->last_heuristics;
		p->won = winner != NULL && ring_id_equal(winner, ring);
		for (size_t j = i; j < cl->count && p->ids_kept < ALGO_DECISION_MAX_IDS; j++)
			if (counted(cl->clients[j]) && ring_id_equal(&cl->clients[j]->ring_id, ring))
				p->node_ids[p->ids_kept++] = cl->clients[j]->node_id;
	}
	return vote;
}

/*
 * LMS(R), docs/protocol.md 3.4. Every result but the newcomer NACK is
 * remembered in last_result.
 *  1. Cancel the client's timer (re-armed below when waiting).
 *  2. Ring agreement: another client in our partition (in our stored
 *     membership, or we in its) whose stored ring is not R: wait.
 *  3. Partitions by stored ring (ring seq 0 skipped); the sender is
 *     grouped by its stored, pre-update ring (quirk).
 *  4. No partition: wait. One partition: ACK.
 *  5. Newcomer (never decided, never told to wait): some client with a
 *     ring other than R holds an ACK: NACK.
 *  6. Unique highest score: ACK iff its ring is R.
 *  7. Unique largest partition, over all partitions and not only the tied
 *     ones (quirk): ACK iff its ring is R.
 *  8. Tie-breaker (tie_breaker_wins()).
 */
static uint8_t
lms_run(const struct algo_cluster *cl, struct algo_client *c,
    const struct ring_id *ring, struct algo_plan *plan)
{
	const struct ring_id *lead, *only = NULL;
	struct ring_id tb_ring;
	size_t partitions = 0;
	uint32_t tb;
	uint8_t vote;

	/* Step 1. */
	plan->timer = ALGO_TIMER_CANCEL;
	plan->timer_ms = 0;

	/* Step 2. */
	for (size_t i = 0; i < cl->count; i++) {
		const struct algo_client *o = cl->clients[i];

		if (o == c)
			continue;
		if ((node_list_contains(&c->membership, o->node_id) ||
		    node_list_contains(&o->membership, c->node_id)) &&
		    !ring_id_equal(&o->ring_id, ring))
			return decided(cl, c, ALGO_RULE_RING_DISAGREEMENT, NULL,
			    wait_for_reply(c, plan), plan);
	}

	/* Steps 3 and 4. */
	for (size_t i = 0; i < cl->count; i++)
		if (partition_head(cl, i) && partitions++ == 0)
			only = &cl->clients[i]->ring_id;
	if (partitions == 0)
		return decided(cl, c, ALGO_RULE_NO_RING_YET, NULL, wait_for_reply(c, plan), plan);
	if (partitions == 1)
		return decided(cl, c, ALGO_RULE_ONLY_PARTITION, only,
		    c->last_result = VOTE_ACK, plan);

	/* Step 5. */
	if (c->last_result == VOTE_UNDEFINED && !c->received_wait_for_reply) {
		for (size_t i = 0; i < cl->count; i++) {
			const struct algo_client *o = cl->clients[i];

			if (!ring_id_equal(&o->ring_id, ring) &&
			    o->last_result == VOTE_ACK)
				return decided(cl, c, ALGO_RULE_NEWCOMER, &o->ring_id,
				    VOTE_NACK, plan);
		}
	}

	/* Steps 6 and 7. */
	if ((lead = unique_leader(cl, true)) != NULL)
		return decided(cl, c, ALGO_RULE_HIGHEST_SCORE, lead, c->last_result =
		    ring_id_equal(lead, ring) ? VOTE_ACK : VOTE_NACK, plan);
	if ((lead = unique_leader(cl, false)) != NULL)
		return decided(cl, c, ALGO_RULE_LARGEST_PARTITION, lead, c->last_result =
		    ring_id_equal(lead, ring) ? VOTE_ACK : VOTE_NACK, plan);

	/* Step 8. */
	vote = c->last_result = tie_breaker_wins(cl, c, ring, &tb, &tb_ring) ?
	    VOTE_ACK : VOTE_NACK;
	if (plan->decision != NULL) {
		plan->decision->tie_breaker_mode = c->tie_breaker.mode;
		plan->decision->tie_breaker_node = tb == UINT32_MAX || tb == INT32_MAX ? 0 : tb;
	}
	return decided(cl, c, ALGO_RULE_TIE_BREAKER, vote == VOTE_ACK ? ring : &tb_ring,
	    vote, plan);
}

static int
lms_decide(struct algo_cluster *cluster, const struct algo_event *ev,
    struct algo_plan *plan)
{
	struct algo_client *c = ev->client;

	if (algo_plan_begin(cluster, ev, plan) != 0)
		return -EINVAL;

	switch (ev->type) {
	case ALGO_EV_MEMBERSHIP_LIST:
		if (ev->ring_id == NULL)
			return -EINVAL;
		plan->vote = lms_run(cluster, c, ev->ring_id, plan);
		return 0;
	case ALGO_EV_QUORUM_LIST:
	case ALGO_EV_ASK_FOR_VOTE:
		plan->vote = lms_run(cluster, c, &c->ring_id, plan);
		return 0;
	case ALGO_EV_TIMER:
		/* No reply carries the result: push it, or wait again. */
		plan->vote = lms_run(cluster, c, &c->ring_id, plan);
		if (plan->vote == VOTE_ACK || plan->vote == VOTE_NACK)
			return algo_plan_push(plan, c, plan->vote, &c->ring_id,
			    ++c->timer_vote_seq);
		return 0;
	case ALGO_EV_CONFIG_LIST:
	case ALGO_EV_HEURISTICS_CHANGE:
	case ALGO_EV_VOTE_INFO_REPLY:
	case ALGO_EV_DISCONNECT:
		return 0;
	}
	return -EINVAL;
}

const struct algorithm algorithm_lms = {
	.id = ALGORITHM_LMS,
	.name = "lms",
	.decide = lms_decide,
};
