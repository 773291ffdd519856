/*
 * qnetd/algorithms/ffsplit.c: the "fifty-fifty split" algorithm
 * (docs/protocol.md 3.2). Once every connected client agrees on the config and
 * on its partition's ring and membership, one partition is selected and
 * VOTE_INFO is pushed in two phases: NACKs first, ACKs only after every
 * NACK was acknowledged, so two partitions never hold an ACK at once.
 *
 * Cost: an evaluation runs once per list or heuristics message, and a
 * hostile client may send ~2,700 nodes per list (docs/protocol.md 1.9) from as
 * many connections as it likes, so no step compares two lists by nested
 * scans. Each client's lists are kept sorted (node_id_set), re-sorted only
 * when they change: O(n log n) for the one list a message brings, nothing
 * for a HEURISTICS_CHANGE. The stability check compares every config with
 * the first (a hash, then one memcmp), groups equal memberships the same
 * way and merges two memberships only when they differ; finding the
 * clients a membership names costs O(min(clients, n) log) per client.
 * Step 2a of a 50:50 comparison costs the same per side. Measured with
 * 16 clients of 2,727-node lists: ~1 s per message before, ~0.1 ms after
 * (tests/unit/test-ffsplit-scale.c, tests/hostile/ffsplit_load.py).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "algorithm.h"

/*
 * One evaluation ("DO" in docs/protocol.md 3.2). The server stores a message's
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

/*
 * A partition as seen by one representative client; rep NULL = no
 * partition. The sets are the lists sorted; step 2a's counts are kept
 * once computed (stats_known) so the best side is counted only once.
 */
struct side {
	const struct algo_client	*rep;
	const struct node_list		*config;
	const struct node_list		*membership;
	const struct node_id_set	*config_ids;
	const struct node_id_set	*membership_ids;
	uint8_t				 heuristics;
	bool				 stats_known;
	int64_t				 active;
	int64_t				 score;
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

/*
 * Sort every list the round reads for the clients taking part (the
 * triggering client's new ones in its slots); a list that did not change
 * since the last round costs nothing. 0 or -ENOMEM.
 */
static int
prepare_sets(const struct round *r)
{
	const struct algo_cluster *cl = r->cluster;

	for (size_t i = 0; i < cl->count; i++) {
		struct algo_client *c = cl->clients[i];

		if (skipped(r, c))
			continue;
		if (node_id_set_update(&c->ffsplit_config_ids, config_of(r, c)) < 0 ||
		    node_id_set_update(&c->ffsplit_membership_ids,
		    membership_of(r, c)) < 0)
			return -ENOMEM;
	}
	return 0;
}

/*
 * docs/protocol.md 3.2 DO step 2, the leaving client excluded everywhere:
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
 * not connected yet, and it would exit (docs/protocol.md 7). Any other outcome
 * is upstream's, except for a client that sent a membership list but no
 * config list, which the upstream client never does.
 *
 * How, in linear time: "every pair has the same set" is "every set equals
 * the first one". For b, the memberships are first grouped into classes
 * of equal sets (membership_classes()); a pair inside one class passes
 * the subset test without looking, a pair of classes is merged once.
 */
static bool
configs_agree(const struct round *r)
{
	const struct algo_cluster *cl = r->cluster;
	const struct node_id_set *first = NULL;

	for (size_t i = 0; i < cl->count; i++) {
		const struct algo_client *a = cl->clients[i];

		if (skipped(r, a))
			continue;
		if (config_of(r, a)->count == 0)
			return false;
		if (first == NULL)
			first = &a->ffsplit_config_ids;
		else if (!node_id_set_equal(first, &a->ffsplit_config_ids))
			return false;
	}
	return true;
}

struct class_key {
	uint64_t	hash;
	size_t		count;
	size_t		index;
};

static int
cmp_class_key(const void *pa, const void *pb)
{
	const struct class_key *a = pa, *b = pb;

	if (a->hash != b->hash)
		return a->hash < b->hash ? -1 : 1;
	if (a->count != b->count)
		return a->count < b->count ? -1 : 1;
	return (a->index > b->index) - (a->index < b->index);
}

/*
 * cls[i] := index of the first client (in view order) whose membership
 * set equals client i's, for every client taking part. Sorting by hash
 * puts candidates side by side; each set is compared with the distinct
 * sets of its run only, so equal memberships cost one memcmp each.
 * 0 or -ENOMEM.
 */
static int
membership_classes(const struct round *r, size_t *cls)
{
	const struct algo_cluster *cl = r->cluster;
	struct class_key *keys = malloc(cl->count * sizeof(*keys));
	size_t n = 0, run = 0;

	if (keys == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < cl->count; i++) {
		const struct node_id_set *m = &cl->clients[i]->ffsplit_membership_ids;

		if (skipped(r, cl->clients[i]))
			continue;
		keys[n].hash = m->hash;
		keys[n].count = m->count;
		keys[n].index = i;
		n++;
	}
	qsort(keys, n, sizeof(*keys), cmp_class_key);
	for (size_t k = 0; k < n; k++) {
		size_t i = keys[k].index;
		const struct node_id_set *m = &cl->clients[i]->ffsplit_membership_ids;

		if (keys[k].hash != keys[run].hash || keys[k].count != keys[run].count)
			run = k;
		cls[i] = i;
		for (size_t q = run; q < k; q++) {
			size_t j = keys[q].index;

			if (cls[j] == j && node_id_set_equal(m,
			    &cl->clients[j]->ffsplit_membership_ids)) {
				cls[i] = j;
				break;
			}
		}
	}
	free(keys);
	return 0;
}

/*
 * Step b for one client A. proven[c] = 1 + the class whose membership is
 * known to be a subset of class c's, so a class pair is merged once per
 * run of A's of one class.
 */
static bool
memberships_agree_for(const struct round *r, size_t ia, const size_t *cls,
    size_t *proven)
{
	const struct algo_cluster *cl = r->cluster;
	const struct algo_client *a = cl->clients[ia];
	const struct node_id_set *mem_a = &a->ffsplit_membership_ids;
	struct algo_member_walk w;
	uint32_t mult;
	size_t ib;

	algo_member_walk_start(&w, cl, mem_a);
	while ((ib = algo_member_walk_next(&w, &mult)) != SIZE_MAX) {
		const struct algo_client *b = cl->clients[ib];

		if (skipped(r, b))
			continue;
		if (!ring_id_equal(ring_of(r, a), ring_of(r, b)))
			return false;
		if (cls[ia] == cls[ib] || proven[cls[ib]] == cls[ia] + 1)
			continue;
		if (!node_id_set_subset(mem_a, &b->ffsplit_membership_ids))
			return false;
		proven[cls[ib]] = cls[ia] + 1;
	}
	return true;
}

/* 1 stable, 0 not, -ENOMEM. prepare_sets() ran. */
static int
membership_stable(const struct round *r)
{
	const struct algo_cluster *cl = r->cluster;
	size_t *cls, *proven;
	int stable = 1;

	if (!configs_agree(r))
		return 0;
	if (cl->count == 0)
		return 1;
	cls = calloc(2 * cl->count, sizeof(*cls));
	if (cls == NULL)
		return -ENOMEM;
	proven = cls + cl->count;
	if (membership_classes(r, cls) < 0) {
		free(cls);
		return -ENOMEM;
	}
	for (size_t i = 0; i < cl->count && stable; i++)
		if (!skipped(r, cl->clients[i]) &&
		    !memberships_agree_for(r, i, cls, proven))
			stable = 0;
	free(cls);
	return stable;
}

/*
 * docs/protocol.md 3.2 CMP step 2a counts over the side's membership: active =
 * members that are connected clients (the leaving one still counts: quirk),
 * pass/fail = their heuristics. Only the representative itself uses the
 * heuristics carried with the side; every other member, the triggering
 * client included, counts with its stored last_heuristics (quirk). The
 * count is over the list, so a node listed twice counts twice.
 */
static void
side_stats(const struct algo_cluster *cl, struct side *s)
{
	int64_t pass = 0, fail = 0;
	struct algo_member_walk w;
	uint32_t mult;
	size_t i;

	if (s->stats_known)
		return;
	s->active = 0;
	if (s->rep != NULL) {
		algo_member_walk_start(&w, cl, s->membership_ids);
		while ((i = algo_member_walk_next(&w, &mult)) != SIZE_MAX) {
			const struct algo_client *m = cl->clients[i];
			uint8_t h = m == s->rep ? s->heuristics : m->last_heuristics;

			s->active += mult;
			if (h == HEURISTICS_PASS)
				pass += mult;
			else if (h == HEURISTICS_FAIL)
				fail += mult;
		}
	}
	s->score = s->active + pass - fail;
	s->stats_known = true;
}

/*
 * docs/protocol.md 3.2 CMP step 2d: the preferred node is the lowest or highest
 * id of the side's config, or the configured node id; the side wins iff
 * that node is in its membership. A mode outside 1..3 cannot pass the
 * decoder; it prefers nobody.
 */
static uint32_t
preferred_node(const struct side *s)
{
	switch (s->rep->tie_breaker.mode) {
	case TIE_BREAKER_LOWEST:
		return node_id_set_min(s->config_ids);
	case TIE_BREAKER_HIGHEST:
		return node_id_set_max(s->config_ids);
	case TIE_BREAKER_NODE_ID:
		return s->rep->tie_breaker.node_id;
	default:
		return 0;	/* no node has id 0 */
	}
}

static bool
side_preferred(const struct side *s)
{
	uint32_t preferred = preferred_node(s);

	return preferred != 0 && node_id_set_contains(s->membership_ids, preferred);
}

/*
 * Is side a better than side b (the best so far, maybe none)? The steps of
 * docs/protocol.md 3.2 "CMP", with n = |config(a)| and m = |membership(a)|:
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
 * Step c looks at the KAP flag of the two compared representatives only,
 * as upstream does (docs/protocol.md 3.2); the "(KAP Tie-breaker)" label
 * of the list output is the one place where every client must have it.
 * *why := the rule that decided (enum algo_rule), ALGO_RULE_NONE when a
 * lacked half the nodes and so was never a contender.
 */
static bool
partition_better(const struct round *r, struct side *a, struct side *b, uint8_t *why)
{
	const struct node_list *prev = &r->cluster->quorate_partition;
	size_t n = a->config->count, m = a->membership->count;
	bool a_prev, b_prev;

	/* Step 1. */
	*why = m > n / 2 ? ALGO_RULE_MAJORITY : ALGO_RULE_NONE;
	if (n % 2 != 0)
		return m > n / 2;

	/* Step 2. */
	if (m > n / 2)
		return true;
	if (m < n / 2)
		return false;

	/* Step 2a. */
	side_stats(r->cluster, a);
	side_stats(r->cluster, b);
	*why = b->rep == NULL ? ALGO_RULE_ONLY_PARTITION : ALGO_RULE_HEURISTICS_SCORE;
	if (a->score != b->score)
		return a->score > b->score;

	/* Step 2b. */
	*why = ALGO_RULE_ACTIVE_CLIENTS;
	if (a->active != b->active)
		return a->active > b->active;

	/* Step 2c. */
	if (b->rep != NULL && a->rep->kap_enabled && b->rep->kap_enabled) {
		a_prev = node_list_contains(prev, a->rep->node_id);
		b_prev = node_list_contains(prev, b->rep->node_id);
		*why = ALGO_RULE_KEEP_ACTIVE_PARTITION;
		if (a_prev != b_prev)
			return a_prev;
	}

	/* Step 2d. */
	*why = ALGO_RULE_TIE_BREAKER;
	return side_preferred(a);
}

/*
 * docs/protocol.md 3.2 DO step 3: every client in node id order represents its
 * partition and replaces the best so far when partition_better() says so.
 * Returns the winner (rep NULL when no partition can be quorate); its
 * membership is the triggering client's new one if it wins. *rule: why,
 * from its last comparison with another partition that could win.
 */
static struct side
select_partition(const struct round *r, uint8_t *rule)
{
	const struct algo_cluster *cl = r->cluster;
	struct side best = { .rep = NULL, .heuristics = HEURISTICS_UNDEFINED };
	uint8_t why;
	bool better;

	*rule = ALGO_RULE_NO_QUORATE_PARTITION;

	for (size_t i = 0; i < cl->count; i++) {
		const struct algo_client *c = cl->clients[i];
		struct side cand = {
			.rep = c,
			.config = config_of(r, c),
			.membership = membership_of(r, c),
			.config_ids = &c->ffsplit_config_ids,
			.membership_ids = &c->ffsplit_membership_ids,
			.heuristics = heuristics_of(r, c),
		};

		if (skipped(r, c))
			continue;
		better = partition_better(r, &cand, &best, &why);
		/* A member of the best partition re-represents it: no contest. */
		if (why != ALGO_RULE_NONE && (best.rep == NULL ||
		    !node_id_set_contains(best.membership_ids, c->node_id)))
			*rule = why;
		if (better)
			best = cand;
	}
	return best;
}

/*
 * The decision record (algorithm.h): one entry per partition, that is per
 * class of equal memberships (equal once stable, docs/protocol.md 3.2 step
 * 2b), represented by its first client. Only when a record is wanted: it
 * costs another membership_classes(). Out of memory, the record keeps its
 * rule without partitions: a record never changes a vote.
 */
static void
record_round(const struct round *r, const struct side *won, uint8_t rule,
    struct algo_plan *plan)
{
	const struct algo_cluster *cl = r->cluster;
	size_t *cls;

	if (plan->decision == NULL)
		return;
	algo_decision_set(plan, rule, 0, VOTE_NO_CHANGE);
	plan->decision->config_size = (uint32_t)r->config->count;
	if (won->rep != NULL && rule == ALGO_RULE_TIE_BREAKER) {
		plan->decision->tie_breaker_mode = won->rep->tie_breaker.mode;
		plan->decision->tie_breaker_node = preferred_node(won);
	}
	if (cl->count == 0 || (cls = calloc(cl->count, sizeof(*cls))) == NULL)
		return;
	if (membership_classes(r, cls) < 0) {
		free(cls);
		return;
	}
	for (size_t i = 0; i < cl->count; i++) {
		const struct algo_client *c = cl->clients[i];
		struct side s = { .rep = c, .membership_ids = &c->ffsplit_membership_ids,
		    .heuristics = heuristics_of(r, c) };
		struct algo_decision_partition *p;

		/* No membership list yet: a member of no partition. */
		if (skipped(r, c) || cls[i] != i || membership_of(r, c)->count == 0 ||
		    (p = algo_decision_add(plan, c->node_id,
		    membership_of(r, c), NULL, (uint32_t)membership_of(r, c)->count)) == NULL)
			continue;
		side_stats(cl, &s);
		p->ring_id = *ring_of(r, c);
		p->active = s.active;
		p->score = s.score;
		p->score_known = true;
		p->heuristics = s.heuristics;
		p->won = won->rep != NULL && node_id_set_contains(won->membership_ids, c->node_id);
	}
	free(cls);
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

/* docs/protocol.md 3.2 DO, steps 1-5. */
static int
run_round(const struct round *r, struct algo_plan *plan)
{
	struct algo_cluster *cl = r->cluster;
	struct side selected;
	uint8_t rule;
	int sent, rc;

	/* Step 1. */
	cl->ffsplit_state = FFSPLIT_CLUSTER_WAITING_FOR_STABLE_MEMBERSHIP;

	/* Step 2. */
	if ((rc = prepare_sets(r)) < 0 || (rc = membership_stable(r)) < 0)
		return rc;
	if (rc == 0) {
		plan->vote = VOTE_WAIT_FOR_REPLY;
		algo_decision_set(plan, ALGO_RULE_WAITING_FOR_STABLE_MEMBERSHIP, 0, plan->vote);
		return 0;
	}
	plan->vote = VOTE_NO_CHANGE;

	/* Step 3. */
	selected = select_partition(r, &rule);
	record_round(r, &selected, rule, plan);
	if (selected.rep == NULL)
		node_list_clear(&cl->quorate_partition);
	else if ((rc = node_list_copy(&cl->quorate_partition, selected.membership)) < 0)
		return rc;

	/* Step 4: the winner's sorted membership is the new quorate_partition. */
	for (size_t i = 0; i < cl->count; i++) {
		struct algo_client *c = cl->clients[i];

		if (skipped(r, c))
			c->ffsplit_state = FFSPLIT_CLIENT_WAITING_FOR_CHANGE;
		else if (selected.rep != NULL &&
		    node_id_set_contains(selected.membership_ids, c->node_id))
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
 * docs/protocol.md 3.2 two-phase completion. A reply whose seq is not the
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
			algo_decision_set(plan, ALGO_RULE_NO_LISTS_YET, c->node_id, plan->vote);
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
			algo_decision_set(plan, ALGO_RULE_NO_LISTS_YET, c->node_id, plan->vote);
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
			algo_decision_set(plan, ALGO_RULE_NO_LISTS_YET, c->node_id, plan->vote);
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
