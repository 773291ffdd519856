/* qnetd/dpd.c: grouped dead-peer timers. */
#include <errno.h>
#include <stdlib.h>

#include "client.h"
#include "dpd.h"
#include "instance.h"

static void	group_fired(void *data);

void
qnetd_dpd_init(struct qnetd_dpd *d, qb_loop_t *loop, dpd_expired_fn expired)
{
	d->loop = loop;
	d->groups = NULL;
	d->expired = expired;
}

void
qnetd_dpd_fini(struct qnetd_dpd *d)
{
	struct dpd_group *g, *next;

	for (g = d->groups; g != NULL; g = next) {
		next = g->next;
		if (g->armed)
			qb_loop_timer_del(d->loop, g->timer);
		free(g);
	}
	d->groups = NULL;
}

static void
arm(struct dpd_group *g, uint64_t now_ns)
{
	struct qnetd_client *head;
	uint64_t idle;

	if (g->armed || qb_list_empty(&g->clients))
		return;
	head = qb_list_first_entry(&g->clients, struct qnetd_client, dpd_link);
	idle = now_ns - head->last_msg_ns;
	if (qb_loop_timer_add(g->dpd->loop, QB_LOOP_MED,
	    idle >= g->timeout_ns ? 1 : g->timeout_ns - idle, g, group_fired, &g->timer) == 0)
		g->armed = true;
}

static void
group_fired(void *data)
{
	struct dpd_group *g = data;
	uint64_t now = qnetd_now_ns();

	g->armed = false;
	while (!qb_list_empty(&g->clients)) {
		struct qnetd_client *c = qb_list_first_entry(&g->clients, struct qnetd_client,
		    dpd_link);
		uint64_t idle = now - c->last_msg_ns;

		if (idle < g->timeout_ns)
			break;
		if (!g->dpd->expired(c, idle)) {
			qnetd_dpd_touch(c, now);	/* to the tail: the loop ends there */
			continue;
		}
		qnetd_dpd_untrack(c);
	}
	arm(g, now);
}

static struct dpd_group *
group_for(struct qnetd_dpd *d, uint64_t timeout_ns)
{
	struct dpd_group *g;

	for (g = d->groups; g != NULL; g = g->next)
		if (g->timeout_ns == timeout_ns)
			return g;
	g = calloc(1, sizeof(*g));
	if (g == NULL)
		return NULL;
	g->dpd = d;
	g->timeout_ns = timeout_ns;
	qb_list_init(&g->clients);
	g->next = d->groups;
	d->groups = g;
	return g;
}

int
qnetd_dpd_track(struct qnetd_dpd *d, struct qnetd_client *c, uint64_t timeout_ns)
{
	struct dpd_group *g = group_for(d, timeout_ns);
	uint64_t now = qnetd_now_ns();

	if (g == NULL)
		return -ENOMEM;
	qnetd_dpd_untrack(c);
	c->last_msg_ns = now;
	c->dpd_group = g;
	qb_list_add_tail(&c->dpd_link, &g->clients);
	arm(g, now);
	return 0;
}

void
qnetd_dpd_touch(struct qnetd_client *c, uint64_t now_ns)
{
	c->last_msg_ns = now_ns;
	if (c->dpd_group == NULL)
		return;
	qb_list_del(&c->dpd_link);
	qb_list_add_tail(&c->dpd_link, &c->dpd_group->clients);
}

void
qnetd_dpd_untrack(struct qnetd_client *c)
{
	if (c->dpd_group == NULL)
		return;
	qb_list_del(&c->dpd_link);
	c->dpd_group = NULL;
}
