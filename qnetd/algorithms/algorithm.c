/*
 * qnetd/algorithms/algorithm.c: the algorithm registry and the helpers
 * shared by the algorithms and the server: view init/fini and plan pushes.
 * Pure code: no sockets, no logging.
 */
#include <errno.h>
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
	if (ev->client == NULL)
		return -EINVAL;
	for (size_t i = 0; i < cluster->count; i++)
		if (cluster->clients[i] == ev->client)
			return 0;
	return -EINVAL;
}
