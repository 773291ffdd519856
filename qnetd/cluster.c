/* qnetd/cluster.c: clusters by name and the application of algorithm plans. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>
#include <qb/qbmap.h>

#include "common/clock.h"
#include "common/utils.h"
#include "client.h"
#include "cluster.h"
#include "events.h"
#include "instance.h"

int
qnetd_clusters_init(struct qnetd_instance *inst)
{
	/* The size is a hint for the bucket count; the table grows past it. */
	inst->clusters = qb_hashtable_create(1024);
	return inst->clusters != NULL ? 0 : -ENOMEM;
}

static void
cluster_free(struct qnetd_cluster *cl)
{
	free(cl->view.clients);	/* before algo_cluster_fini(), which forgets the pointer */
	algo_cluster_fini(&cl->view);
	explain_log_fini(&cl->explain);
	free(cl->acked_nodes);
	free(cl->name);
	free(cl);
}

void
qnetd_clusters_fini(struct qnetd_instance *inst)
{
	qb_map_iter_t *it;
	const char *key;
	void *value;

	if (inst->clusters == NULL)
		return;
	it = qb_map_iter_create(inst->clusters);
	while (it != NULL && (key = qb_map_iter_next(it, &value)) != NULL) {
		qb_map_rm(inst->clusters, key);
		cluster_free(value);
	}
	if (it != NULL)
		qb_map_iter_free(it);
	qb_map_destroy(inst->clusters);
	inst->clusters = NULL;
}

struct qnetd_cluster *
qnetd_cluster_find(struct qnetd_instance *inst, const char *name)
{
	return qb_map_get(inst->clusters, name);
}

static struct qnetd_cluster *
cluster_create(struct qnetd_instance *inst, const char *name, size_t name_len)
{
	struct qnetd_cluster *cl = calloc(1, sizeof(*cl));
	char shown[UTILS_NAME_LOG_SIZE];

	if (cl == NULL)
		return NULL;
	cl->name = strndup(name, name_len);
	if (cl->name == NULL) {
		free(cl);
		return NULL;
	}
	cl->name_len = name_len;
	cl->instance = inst;
	cl->created_seq = ++inst->next_cluster_seq;
	algo_cluster_init(&cl->view);
	explain_log_init(&cl->explain, inst->settings != NULL ?
	    inst->settings->explain_journal_size : 0);
	qb_map_put(inst->clusters, cl->name, cl);
	inst->cluster_count++;
	qb_log(LOG_DEBUG, "cluster %s created",
	    utils_name_for_log(shown, sizeof(shown), cl->name, cl->name_len));
	return cl;
}

int
qnetd_cluster_join(struct qnetd_instance *inst, struct qnetd_client *c)
{
	struct qnetd_cluster *cl = qnetd_cluster_find(inst, c->cluster_name);
	struct algo_client **clients;
	bool created = false;
	size_t pos;

	if (cl == NULL) {
		cl = cluster_create(inst, c->cluster_name, c->cluster_name_len);
		if (cl == NULL)
			return -ENOMEM;
		created = true;
	}
	if (cl->view.count == cl->view_cap) {
		size_t cap = cl->view_cap ? cl->view_cap * 2 : 4;

		clients = realloc(cl->view.clients, cap * sizeof(*clients));
		if (clients == NULL) {
			if (created) {
				qb_map_rm(inst->clusters, cl->name);
				inst->cluster_count--;
				cluster_free(cl);
			}
			return -ENOMEM;
		}
		cl->view.clients = clients;
		cl->view_cap = cap;
	}
	/* Keep clients sorted by node id (upstream since 3.0.2): it orders ffsplit. */
	for (pos = 0; pos < cl->view.count; pos++)
		if (cl->view.clients[pos]->node_id > c->algo.node_id)
			break;
	memmove(&cl->view.clients[pos + 1], &cl->view.clients[pos],
	    (cl->view.count - pos) * sizeof(*cl->view.clients));
	cl->view.clients[pos] = &c->algo;
	cl->view.count++;
	c->cluster = cl;
	return 0;
}

static void
remove_from_view(struct qnetd_cluster *cl, struct algo_client *ac)
{
	for (size_t i = 0; i < cl->view.count; i++) {
		if (cl->view.clients[i] != ac)
			continue;
		memmove(&cl->view.clients[i], &cl->view.clients[i + 1],
		    (cl->view.count - i - 1) * sizeof(*cl->view.clients));
		cl->view.count--;
		return;
	}
}

void
qnetd_cluster_leave(struct qnetd_client *c, bool server_shutdown)
{
	struct qnetd_cluster *cl = c->cluster;
	struct algo_event ev = {
		.type = ALGO_EV_DISCONNECT,
		.client = &c->algo,
		.server_shutdown = server_shutdown,
	};
	struct algo_plan plan;
	char shown[UTILS_NAME_LOG_SIZE];

	if (cl == NULL)
		return;
	if (!server_shutdown && qnetd_cluster_decide(c, &ev, &plan) != 0)
		qb_log(LOG_ERR, "%s: algorithm failed on disconnect", c->ident);
	remove_from_view(cl, &c->algo);
	explain_log_forget(&cl->explain, c->algo.node_id);
	c->cluster = NULL;
	if (cl->view.count == 0) {
		qb_map_rm(cl->instance->clusters, cl->name);
		cl->instance->cluster_count--;
		qb_log(LOG_DEBUG, "cluster %s has no clients left",
		    utils_name_for_log(shown, sizeof(shown), cl->name, cl->name_len));
		cluster_free(cl);
	}
}

void
qnetd_client_note_vote(struct qnetd_client *c, uint8_t vote)
{
	if (vote == VOTE_ACK || vote == VOTE_NACK) {
		struct qnetd_instance *inst = qnetd_instance_of(c);

		if (vote == VOTE_ACK)
			inst->stats.acks_sent++;
		else
			inst->stats.nacks_sent++;
		if (c->decision_wait_ns != 0) {
			qnetd_stats_observe_latency(inst,
			    clock_now_ns() - c->decision_wait_ns);
			c->decision_wait_ns = 0;
		}
	}
	if ((vote == VOTE_ACK || vote == VOTE_NACK) && vote != c->last_sent_ack_nack_vote) {
		uint8_t previous = c->last_sent_ack_nack_vote;

		qb_log(LOG_INFO, "%s: vote %s (was %s)", c->ident, vote_name(vote),
		    previous ? vote_name(previous) : "none");
		c->last_sent_ack_nack_vote = vote;
		qnetd_event_vote_changed(c, previous);
	}
	c->last_sent_vote = vote;
}

static void	algo_timer_fired(void *data);

static void
apply_timer(struct qnetd_client *c, const struct algo_plan *plan)
{
	qb_loop_t *loop = c->conns->loop;

	if (plan->timer == ALGO_TIMER_KEEP)
		return;
	if (c->algo_timer_armed) {
		qb_loop_timer_del(loop, c->algo_timer);
		c->algo_timer_armed = false;
	}
	if (plan->timer != ALGO_TIMER_ARM || c->closing)
		return;
	if (qb_loop_timer_add(loop, QB_LOOP_MED, (uint64_t)plan->timer_ms * NS_PER_MS, c,
	    algo_timer_fired, &c->algo_timer) != 0) {
		qnetd_client_disconnect(c, "cannot arm algorithm timer");
		return;
	}
	c->algo_timer_armed = true;
}

static void
send_pushes(const struct algo_plan *plan)
{
	for (size_t i = 0; i < plan->push_count; i++) {
		const struct algo_push *p = &plan->pushes[i];
		struct qnetd_client *to = qnetd_client_of(p->client);
		struct msg m;
		int r;

		if (to->closing)
			continue;
		msg_init(&m, MSG_TYPE_VOTE_INFO);
		m.seq_set = true;
		m.seq = p->seq;
		m.vote_set = true;
		m.vote = p->vote;
		m.ring_id_set = true;
		m.ring_id = p->ring_id;
		r = qnetd_client_queue(to, &m);
		if (r != 0) {
			/* A vote must never be lost unnoticed: the peer reconnects and asks again. */
			qb_log(LOG_WARNING, "%s: cannot queue VOTE_INFO (%s, seq %u): %s with %zu "
			    "messages unsent", to->ident, vote_name(p->vote), (unsigned)p->seq,
			    r == -ENOBUFS ? "send queue full" : strerror(-r), to->send_queue_len);
			qnetd_client_disconnect(to, r == -ENOBUFS ? "send queue full" :
			    "cannot queue a vote");
			continue;
		}
		qnetd_client_note_vote(to, p->vote);
		/* Another client's push goes out now; our own waits for our flush. */
		qnetd_client_flush(to);
	}
}

int
qnetd_cluster_decide(struct qnetd_client *c, struct algo_event *ev, struct algo_plan *plan)
{
	struct qnetd_cluster *cl = c->cluster;
	const struct algorithm *alg = algorithm_get(c->algo.algorithm);
	struct algo_decision decision;
	struct algo_push *pushes;
	int r;

	memset(plan, 0, sizeof(*plan));
	if (cl == NULL || alg == NULL)
		return -EINVAL;
	/* Every client of the cluster can get at most one push per event. */
	pushes = calloc(cl->view.count + 1, sizeof(*pushes));
	if (pushes == NULL)
		return -ENOMEM;
	plan->pushes = pushes;
	plan->push_cap = cl->view.count + 1;
	plan->decision = &decision;
	r = alg->decide(&cl->view, ev, plan);
	plan->decision = NULL;
	if (r == 0 && decision.made &&
	    explain_log_record(&cl->explain, (uint8_t)ev->type, c->algo.node_id, &decision,
	    clock_now_ns()) != 0)
		qb_log(LOG_WARNING, "%s: out of memory: decision not kept for --explain",
		    c->ident);
	if (r == 0) {
		send_pushes(plan);
		apply_timer(c, plan);
	}
	free(pushes);
	plan->pushes = NULL;
	plan->push_count = 0;
	return r;
}

static void
algo_timer_fired(void *data)
{
	struct qnetd_client *c = data;
	struct algo_event ev = { .type = ALGO_EV_TIMER, .client = &c->algo };
	struct algo_plan plan;

	c->algo_timer_armed = false;
	if (c->closing)
		return;
	if (qnetd_cluster_decide(c, &ev, &plan) != 0)
		qb_log(LOG_ERR, "%s: algorithm timer failed", c->ident);
}
