/*
 * qnetd/algorithms/algorithm.c: the algorithm registry and the helpers
 * shared by the algorithms and the server: view init/fini, plan pushes and
 * the decision record. Pure code: no sockets, no logging, no clock.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "algorithm.h"

/* Indexed by enum decision_algorithm (docs/protocol.md 1.7c). */
static const struct algorithm *const algorithms[] = {
	[ALGORITHM_TEST] = &algorithm_test,
	[ALGORITHM_FFSPLIT] = &algorithm_ffsplit,
	[ALGORITHM_2NODELMS] = &algorithm_2nodelms,
	[ALGORITHM_LMS] = &algorithm_lms,
};

const struct algorithm *
algorithm_get(uint8_t id)
{
	if (id >= sizeof(algorithms) / sizeof(algorithms[0]))
		return NULL;
	return algorithms[id];
}

void
algo_client_init(struct algo_client *c)
{
	memset(c, 0, sizeof(*c));
	node_list_init(&c->config);
	node_list_init(&c->membership);
	node_list_init(&c->quorum);
	c->last_heuristics = HEURISTICS_UNDEFINED;
	c->last_membership_heuristics = HEURISTICS_UNDEFINED;
	c->last_regular_heuristics = HEURISTICS_UNDEFINED;
	c->ffsplit_state = FFSPLIT_CLIENT_WAITING_FOR_CHANGE;
	c->last_result = VOTE_UNDEFINED;
	node_id_set_init(&c->ffsplit_config_ids);
	node_id_set_init(&c->ffsplit_membership_ids);
}

void
algo_client_fini(struct algo_client *c)
{
	node_list_fini(&c->config);
	node_list_fini(&c->membership);
	node_list_fini(&c->quorum);
	node_id_set_fini(&c->ffsplit_config_ids);
	node_id_set_fini(&c->ffsplit_membership_ids);
}

void
algo_cluster_init(struct algo_cluster *c)
{
	memset(c, 0, sizeof(*c));
	node_list_init(&c->quorate_partition);
	c->ffsplit_state = FFSPLIT_CLUSTER_WAITING_FOR_CHANGE;
}

/* `clients` is borrowed from the server, so only the owned list goes. */
void
algo_cluster_fini(struct algo_cluster *c)
{
	node_list_fini(&c->quorate_partition);
	c->clients = NULL;
	c->count = 0;
}

int
algo_plan_push(struct algo_plan *plan, struct algo_client *client,
    uint8_t vote, const struct ring_id *ring_id, uint32_t seq)
{
	struct algo_push *p;

	if (plan->push_count >= plan->push_cap)
		return -ENOMEM;
	p = &plan->pushes[plan->push_count++];
	p->client = client;
	p->vote = vote;
	p->ring_id = *ring_id;
	p->seq = seq;
	return 0;
}

int
algo_plan_begin(const struct algo_cluster *cluster, const struct algo_event *ev,
    struct algo_plan *plan)
{
	plan->error = REPLY_NO_ERROR;
	plan->vote = VOTE_NO_CHANGE;
	plan->push_count = 0;
	plan->timer = ALGO_TIMER_KEEP;
	plan->timer_ms = 0;
	if (plan->decision != NULL) {
		memset(plan->decision, 0, sizeof(*plan->decision));
		if (ev->client != NULL)
			plan->decision->algorithm = ev->client->algorithm;
	}
	if (ev->client == NULL)
		return -EINVAL;
	for (size_t i = 0; i < cluster->count; i++)
		if (cluster->clients[i] == ev->client)
			return 0;
	return -EINVAL;
}

size_t
algo_view_find(const struct algo_cluster *cluster, uint32_t node_id)
{
	size_t lo = 0, hi = cluster->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint32_t id = cluster->clients[mid]->node_id;

		if (id < node_id)
			lo = mid + 1;
		else if (id > node_id)
			hi = mid;
		else
			return mid;
	}
	return cluster->count;
}

void
algo_member_walk_start(struct algo_member_walk *w, const struct algo_cluster *cluster,
    const struct node_id_set *set)
{
	w->cluster = cluster;
	w->set = set;
	w->by_client = cluster->count <= set->count;
	w->pos = 0;
}

size_t
algo_member_walk_next(struct algo_member_walk *w, uint32_t *mult)
{
	const struct algo_cluster *cl = w->cluster;

	if (w->by_client) {
		while (w->pos < cl->count) {
			size_t i = w->pos++;

			*mult = node_id_set_multiplicity(w->set,
			    cl->clients[i]->node_id);
			if (*mult > 0)
				return i;
		}
		return SIZE_MAX;
	}
	while (w->pos < w->set->count) {
		size_t k = w->pos++;
		size_t i = algo_view_find(cl, w->set->ids[k]);

		if (i < cl->count) {
			*mult = w->set->mult[k];
			return i;
		}
	}
	return SIZE_MAX;
}

void
algo_decision_set(struct algo_plan *plan, uint8_t rule, uint32_t subject, uint8_t vote)
{
	struct algo_decision *d = plan->decision;

	if (d == NULL)
		return;
	d->made = true;
	d->rule = rule;
	d->subject = subject;
	d->vote = vote;
}

struct algo_decision_partition *
algo_decision_add(struct algo_plan *plan, uint32_t representative,
    const struct node_list *ids, const struct node_id_set *set, uint32_t size)
{
	struct algo_decision *d = plan->decision;
	struct algo_decision_partition *p;
	size_t have;

	if (d == NULL)
		return NULL;
	d->partitions_seen++;
	if (d->partition_count >= ALGO_DECISION_MAX_PARTITIONS)
		return NULL;
	p = &d->partitions[d->partition_count++];
	memset(p, 0, sizeof(*p));
	p->representative = representative;
	p->size = size;
	p->heuristics = HEURISTICS_UNDEFINED;
	have = ids != NULL ? ids->count : set != NULL ? set->count : 0;
	for (size_t i = 0; i < have && p->ids_kept < ALGO_DECISION_MAX_IDS; i++)
		p->node_ids[p->ids_kept++] = ids != NULL ? ids->nodes[i].node_id : set->ids[i];
	return p;
}

struct algo_decision_partition *
algo_decision_find(struct algo_plan *plan, uint32_t node_id)
{
	struct algo_decision *d = plan->decision;

	if (d == NULL)
		return NULL;
	for (size_t i = 0; i < d->partition_count; i++)
		for (uint32_t k = 0; k < d->partitions[i].ids_kept; k++)
			if (d->partitions[i].node_ids[k] == node_id)
				return &d->partitions[i];
	return NULL;
}

/* Stable words: qnetd-tool --explain -j prints them (qnetd-tool(8)). */
const char *
algo_rule_name(uint8_t rule)
{
	static const char *const names[ALGO_RULE_COUNT] = {
		[ALGO_RULE_NONE] = "none",
		[ALGO_RULE_TEST_ALWAYS_ACK] = "test_always_ack",
		[ALGO_RULE_NO_LISTS_YET] = "no_lists_yet",
		[ALGO_RULE_WAITING_FOR_STABLE_MEMBERSHIP] = "waiting_for_stable_membership",
		[ALGO_RULE_RING_DISAGREEMENT] = "ring_disagreement",
		[ALGO_RULE_NO_RING_YET] = "no_ring_yet",
		[ALGO_RULE_MAJORITY] = "majority",
		[ALGO_RULE_NO_QUORATE_PARTITION] = "no_quorate_partition",
		[ALGO_RULE_ONLY_PARTITION] = "only_partition",
		[ALGO_RULE_HEURISTICS_SCORE] = "heuristics_score",
		[ALGO_RULE_ACTIVE_CLIENTS] = "active_clients",
		[ALGO_RULE_KEEP_ACTIVE_PARTITION] = "keep_active_partition",
		[ALGO_RULE_TIE_BREAKER] = "tie_breaker",
		[ALGO_RULE_LARGEST_PARTITION] = "largest_partition",
		[ALGO_RULE_NEWCOMER] = "newcomer",
		[ALGO_RULE_BOTH_NODES_MEMBERS] = "both_nodes_members",
		[ALGO_RULE_ONLY_CLIENT] = "only_client",
		[ALGO_RULE_REPEAT_LAST] = "repeat_last",
		[ALGO_RULE_HIGHEST_SCORE] = "highest_score",
	};

	return rule < ALGO_RULE_COUNT ? names[rule] : "unknown";
}
