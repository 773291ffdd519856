/*
 * qnetd/algorithms/ffsplit.c: the "fifty-fifty split" algorithm
 * (PROTOCOL.md 3.2). Once every connected client agrees on the config and
 * on its partition's ring and membership, one partition is selected and
 * VOTE_INFO is pushed in two phases: NACKs first, ACKs only after every
 * NACK was acknowledged, so two partitions never hold an ACK at once.
 *
 * Cost: an evaluation is O(clients^2 * nodes) (the stability check) and
 * runs once per list or heuristics message; corosync caps a cluster at a
 * few dozen nodes, so plain scans are used throughout.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "algorithm.h"

/*
 * One evaluation ("DO" in PROTOCOL.md 3.2). The server stores a message's
 * values only after decide() returns, so the triggering client's new ring,
 * lists and heuristics live here and replace its stored ones wherever the
 * rules read them.
 */
struct round {
	struct algo_cluster	*cluster;
	struct algo_client	*trigger;
	bool			 leaving;	/* trigger is leaving: skip */
	const struct ring_id	*ring;
	const struct node_list	*config;
	const struct node_list	*membership;
	uint8_t			 heuristics;
};

/* A partition as seen by one representative client; rep NULL = no partition. */
struct side {
	const struct algo_client	*rep;
	const struct node_list		*config;
	const struct node_list		*membership;
	uint8_t				 heuristics;
};

static bool
is_trigger(const struct round *r, const struct algo_client *c)
{
	return c->node_id == r->trigger->node_id;
}

static bool
skipped(const struct round *r, const struct algo_client *c)
{
	return r->leaving && is_trigger(r, c);
}

static const struct node_list *
config_of(const struct round *r, const struct algo_client *c)
{
	return is_trigger(r, c) ? r->config : &c->config;
}

static const struct node_list *
membership_of(const struct round *r, const struct algo_client *c)
{
	return is_trigger(r, c) ? r->membership : &c->membership;
}

static const struct ring_id *
ring_of(const struct round *r, const struct algo_client *c)
{
	return is_trigger(r, c) ? r->ring : &c->ring_id;
}

static uint8_t
heuristics_of(const struct round *r, const struct algo_client *c)
{
	return is_trigger(r, c) ? r->heuristics : c->last_heuristics;
}

/* The connected client with this node id, leaving one included. */
static const struct algo_client *
find_client(const struct algo_cluster *cluster, uint32_t node_id)
{
	for (size_t i = 0; i < cluster->count; i++)
		if (cluster->clients[i]->node_id == node_id)
			return cluster->clients[i];
	return NULL;
}

/*
 * PROTOCOL.md 3.2 DO step 2, the leaving client excluded everywhere:
 * a. every pair of clients has the same set of configured node ids;
 * b. for every client A and every member n of A's membership that is a
 *    connected client B: ring(A) = ring(B) and membership(A) is a subset
 *    of membership(B).
 * Local difference in step a: every client must also have sent its config
 * list. Upstream relies on the pairwise test alone (an empty set differs
 * from any real one), which says nothing when every client left lacks a
 * config list, e.g. one still running its after-connect heuristics when
 * the last other client leaves. Upstream then reaches the tie-breaker with
 * an empty config (NULL dereference for lowest/highest, NACK for all with
 * node id); going on here would push VOTE_INFO(NACK) to a client that is
 * not connected yet, and it would exit (PROTOCOL.md 7). Any other outcome
 * is upstream's, except for a client that sent a membership list but no
 * config list, which the upstream client never does.
 */
static bool
membership_stable(const struct round *r)
{
	const struct algo_cluster *cl = r->cluster;

	for (size_t i = 0; i < cl->count; i++) {
		const struct algo_client *a = cl->clients[i];

		if (skipped(r, a))
			continue;
		if (config_of(r, a)->count == 0)
			return false;
		for (size_t j = 0; j < cl->count; j++) {
			const struct algo_client *b = cl->clients[j];

			if (i == j || skipped(r, b))
				continue;
			if (!node_list_ids_subset(config_of(r, a),
			    config_of(r, b)))
				return false;
		}
	}

	for (size_t i = 0; i < cl->count; i++) {
		const struct algo_client *a = cl->clients[i];
		const struct node_list *mem_a;

		if (skipped(r, a))
			continue;
		mem_a = membership_of(r, a);
		for (size_t k = 0; k < mem_a->count; k++) {
			const struct algo_client *b;

			b = find_client(cl, mem_a->nodes[k].node_id);
			if (b == NULL || skipped(r, b))
				continue;
			if (!ring_id_equal(ring_of(r, a), ring_of(r, b)))
				return false;
			if (!node_list_ids_subset(mem_a, membership_of(r, b)))
				return false;
		}
	}
	return true;
}

/*
 * PROTOCOL.md 3.2 CMP step 2a counts over the side's membership: active =
 * members that are connected clients (the leaving one still counts: quirk),
 * pass/fail = their heuristics. Only the representative itself uses the
 * heuristics carried with the side; every other member, the triggering
 * client included, counts with its stored last_heuristics (quirk).
 */
static void
side_stats(const struct algo_cluster *cl, const struct side *s,
    int64_t *active, int64_t *score)
{
	int64_t pass = 0, fail = 0;

	*active = 0;
	if (s->rep != NULL) {
		for (size_t i = 0; i < s->membership->count; i++) {
			const struct algo_client *m;
			uint8_t h;

			m = find_client(cl, s->membership->nodes[i].node_id);
			if (m == NULL)
				continue;
			(*active)++;
			h = m == s->rep ? s->heuristics : m->last_heuristics;
			if (h == HEURISTICS_PASS)
				pass++;
			else if (h == HEURISTICS_FAIL)
				fail++;
		}
	}
	*score = *active + pass - fail;
}

/*
 * PROTOCOL.md 3.2 CMP step 2d: the preferred node is the lowest or highest
 * id of the side's config, or the configured node id; the side wins iff
 * that node is in its membership. A mode outside 1..3 cannot pass the
 * decoder; it prefers nobody.
 */
static bool
side_preferred(const struct side *s)
{
	uint32_t preferred;

	switch (s->rep->tie_breaker.mode) {
	case TIE_BREAKER_LOWEST:
		preferred = node_list_min_id(s->config);
		break;
	case TIE_BREAKER_HIGHEST:
		preferred = node_list_max_id(s->config);
		break;
	case TIE_BREAKER_NODE_ID:
		preferred = s->rep->tie_breaker.node_id;
		break;
	default:
		return false;
	}
	return node_list_contains(s->membership, preferred);
}

/*
 * Is side a better than side b (the best so far, maybe none)? The steps of
 * PROTOCOL.md 3.2 "CMP", with n = |config(a)| and m = |membership(a)|:
 *  1. n odd: better iff m > n/2 (a strict majority); nothing else counts.
 *  2. n even: m > n/2 is better, m < n/2 is not; m = n/2 (a 50:50 split)
 *     goes on:
 *     a. score = active + pass - fail (side_stats()); higher wins. A
 *        missing b scores 0, so any real side beats it here or in b;
 *     b. equal scores: more active clients wins;
 *     c. keep-active-partition: when both representatives have KAP on,
 *        the one in the previously selected partition wins; if both or
 *        neither are in it, go on;
 *     d. tie-breaker of a (side_preferred()).
 * Local difference in step c: PROTOCOL.md asks for KAP on every client of
 * the cluster; upstream qnetd-algo-ffsplit.c checks only the two compared
 * representatives, and that is what peers see, so we do the same.
 */
static bool
partition_better(const struct round *r, const struct side *a,
    const struct side *b)
{
	const struct node_list *prev = &r->cluster->quorate_partition;
	size_t n = a->config->count, m = a->membership->count;
	int64_t a_active, a_score, b_active, b_score;
	bool a_prev, b_prev;

	/* Step 1. */
	if (n % 2 != 0)
		return m > n / 2;

	/* Step 2. */
	if (m > n / 2)
		return true;
	if (m < n / 2)
		return false;

	/* Step 2a. */
	side_stats(r->cluster, a, &a_active, &a_score);
	side_stats(r->cluster, b, &b_active, &b_score);
	if (a_score != b_score)
		return a_score > b_score;

	/* Step 2b. */
	if (a_active != b_active)
		return a_active > b_active;

	/* Step 2c. */
	if (b->rep != NULL && a->rep->kap_enabled && b->rep->kap_enabled) {
		a_prev = node_list_contains(prev, a->rep->node_id);
		b_prev = node_list_contains(prev, b->rep->node_id);
		if (a_prev != b_prev)
			return a_prev;
	}

	/* Step 2d. */
	return side_preferred(a);
}

/*
 * PROTOCOL.md 3.2 DO step 3: every client in node id order represents its
 * partition and replaces the best so far when partition_better() says so.
 * Returns the winner's membership (the new one for the triggering client)
 * or NULL when no partition can be quorate.
 */
static const struct node_list *
select_partition(const struct round *r)
{
	const struct algo_cluster *cl = r->cluster;
	struct side best = { NULL, NULL, NULL, HEURISTICS_UNDEFINED };

	for (size_t i = 0; i < cl->count; i++) {
		const struct algo_client *c = cl->clients[i];
		struct side cand;

		if (skipped(r, c))
			continue;
		cand.rep = c;
		cand.config = config_of(r, c);
		cand.membership = membership_of(r, c);
		cand.heuristics = heuristics_of(r, c);
		if (partition_better(r, &cand, &best))
			best = cand;
	}
	return best.membership;
}

/*
 * Push `vote` to every client whose state asks for it, in node id order;
 * the triggering client gets the ring of the round, others their stored
 * one. Returns the number of pushes or -ENOMEM.
 */
static int
send_votes(const struct round *r, uint8_t vote, struct algo_plan *plan)
{
	uint8_t want = vote == VOTE_ACK ? FFSPLIT_CLIENT_SENDING_ACK :
	    FFSPLIT_CLIENT_SENDING_NACK;
	int sent = 0;

	for (size_t i = 0; i < r->cluster->count; i++) {
		struct algo_client *c = r->cluster->clients[i];
		int rc;

		if (skipped(r, c) || c->ffsplit_state != want)
			continue;
		rc = algo_plan_push(plan, c, vote, ring_of(r, c),
		    ++c->ffsplit_vote_seq);
		if (rc < 0)
			return rc;
		sent++;
	}
	return sent;
}

/* Send the ACK phase; with nobody to ACK the round is over. */
static int
start_acks(const struct round *r, struct algo_plan *plan)
{
	int sent;

	r->cluster->ffsplit_state = FFSPLIT_CLUSTER_SENDING_ACKS;
	sent = send_votes(r, VOTE_ACK, plan);
	if (sent == 0)
		r->cluster->ffsplit_state = FFSPLIT_CLUSTER_WAITING_FOR_CHANGE;
	return sent < 0 ? sent : 0;
}

/* PROTOCOL.md 3.2 DO, steps 1-5. */
static int
run_round(const struct round *r, struct algo_plan *plan)
{
	struct algo_cluster *cl = r->cluster;
	const struct node_list *selected;
	int sent, rc;

	/* Step 1. */
	cl->ffsplit_state = FFSPLIT_CLUSTER_WAITING_FOR_STABLE_MEMBERSHIP;

	/* Step 2. */
	if (!membership_stable(r)) {
		plan->vote = VOTE_WAIT_FOR_REPLY;
		return 0;
	}
	plan->vote = VOTE_NO_CHANGE;

	/* Step 3. */
	selected = select_partition(r);
	if (selected == NULL)
		node_list_clear(&cl->quorate_partition);
	else if ((rc = node_list_copy(&cl->quorate_partition, selected)) < 0)
		return rc;

	/* Step 4. */
	for (size_t i = 0; i < cl->count; i++) {
		struct algo_client *c = cl->clients[i];

		if (skipped(r, c))
			c->ffsplit_state = FFSPLIT_CLIENT_WAITING_FOR_CHANGE;
		else if (node_list_contains(&cl->quorate_partition, c->node_id))
			c->ffsplit_state = FFSPLIT_CLIENT_SENDING_ACK;
		else
			c->ffsplit_state = FFSPLIT_CLIENT_SENDING_NACK;
	}

	/* Step 5. */
	cl->ffsplit_state = FFSPLIT_CLUSTER_SENDING_NACKS;
	sent = send_votes(r, VOTE_NACK, plan);
	if (sent < 0)
		return sent;
	if (sent == 0)
		return start_acks(r, plan);
	return 0;
}

static size_t
count_in_state(const struct algo_cluster *cl, uint8_t state)
{
	size_t n = 0;

	for (size_t i = 0; i < cl->count; i++)
		if (cl->clients[i]->ffsplit_state == state)
			n++;
	return n;
}

/*
 * PROTOCOL.md 3.2 two-phase completion. A reply whose seq is not the
 * client's latest VOTE_INFO is stale and ignored. The last NACK reply
 * releases the ACKs; the last ACK reply ends the round.
 */
static int
vote_info_reply(struct algo_cluster *cl, struct algo_client *c, uint32_t seq,
    struct algo_plan *plan)
{
	struct round r = {
		.cluster = cl,
		.trigger = c,
		.leaving = false,
		.ring = &c->ring_id,
		.config = &c->config,
		.membership = &c->membership,
		.heuristics = c->last_heuristics,
	};

	if (seq != c->ffsplit_vote_seq)
		return 0;
	c->ffsplit_state = FFSPLIT_CLIENT_WAITING_FOR_CHANGE;

	switch (cl->ffsplit_state) {
	case FFSPLIT_CLUSTER_SENDING_NACKS:
		if (count_in_state(cl, FFSPLIT_CLIENT_SENDING_NACK) == 0)
			return start_acks(&r, plan);
		break;
	case FFSPLIT_CLUSTER_SENDING_ACKS:
		if (count_in_state(cl, FFSPLIT_CLIENT_SENDING_ACK) == 0)
			cl->ffsplit_state = FFSPLIT_CLUSTER_WAITING_FOR_CHANGE;
		break;
	default:
		break;
	}
	return 0;
}

static bool
valid_own_list(const struct node_list *l, uint32_t node_id)
{
	return l->count > 0 && node_list_contains(l, node_id);
}

static int
ffsplit_decide(struct algo_cluster *cluster, const struct algo_event *ev,
    struct algo_plan *plan)
{
	struct algo_client *c = ev->client;
	struct round r = {
		.cluster = cluster,
		.trigger = c,
		.leaving = false,
	};

	if (algo_plan_begin(cluster, ev, plan) != 0)
		return -EINVAL;

	switch (ev->type) {
	case ALGO_EV_CONFIG_LIST:
		if (ev->nodes == NULL)
			return -EINVAL;
		if (!valid_own_list(ev->nodes, c->node_id)) {
			plan->error = REPLY_INVALID_CONFIG_NODE_LIST;
			return 0;
		}
		if (ev->list_type == NODE_LIST_INITIAL_CONFIG ||
		    c->membership.count == 0) {
			plan->vote = VOTE_ASK_LATER;
			return 0;
		}
		r.ring = &c->ring_id;
		r.config = ev->nodes;
		r.membership = &c->membership;
		r.heuristics = c->last_heuristics;
		return run_round(&r, plan);

	case ALGO_EV_MEMBERSHIP_LIST:
		if (ev->nodes == NULL || ev->ring_id == NULL)
			return -EINVAL;
		if (!valid_own_list(ev->nodes, c->node_id)) {
			plan->error = REPLY_INVALID_MEMBERSHIP_NODE_LIST;
			return 0;
		}
		if (c->config.count == 0) {
			plan->vote = VOTE_ASK_LATER;
			return 0;
		}
		r.ring = ev->ring_id;
		r.config = &c->config;
		r.membership = ev->nodes;
		r.heuristics = ev->heuristics;
		return run_round(&r, plan);

	case ALGO_EV_QUORUM_LIST:
		return 0;

	case ALGO_EV_HEURISTICS_CHANGE:
		if (c->config.count == 0 || c->membership.count == 0) {
			plan->vote = VOTE_ASK_LATER;
			return 0;
		}
		r.ring = &c->ring_id;
		r.config = &c->config;
		r.membership = &c->membership;
		r.heuristics = ev->heuristics;
		return run_round(&r, plan);

	case ALGO_EV_ASK_FOR_VOTE:
		plan->error = REPLY_UNSUPPORTED_DECISION_ALGORITHM_MESSAGE;
		return 0;

	case ALGO_EV_VOTE_INFO_REPLY:
		return vote_info_reply(cluster, c, ev->seq, plan);

	case ALGO_EV_DISCONNECT:
		/* A shutting-down server must not reshuffle votes. */
		if (ev->server_shutdown)
			return 0;
		r.leaving = true;
		r.ring = &c->ring_id;
		r.config = &c->config;
		r.membership = &c->membership;
		r.heuristics = c->last_heuristics;
		return run_round(&r, plan);

	case ALGO_EV_TIMER:
		return 0;
	}
	return -EINVAL;
}

const struct algorithm algorithm_ffsplit = {
	.id = ALGORITHM_FFSPLIT,
	.name = "ffsplit",
	.decide = ffsplit_decide,
};
