/* qnetd/dpd.c: grouped dead-peer timers. */
#include <errno.h>
#include <stdlib.h>

#include <qb/qblog.h>

#include "dpd.h"

struct dpd_group {
	struct qnetd_dpd	*dpd;
	size_t			 slot;		/* in dpd->groups */
	uint64_t		 timeout_ns;	/* rounded */
	struct qb_list_head	 entries;	/* oldest last message first */
	qb_loop_timer_handle	 timer;
	bool			 armed;
	/* group_fired is walking the entries: it frees the group if it empties */
	bool			 firing;
};

static void	group_fired(void *data);

void
qnetd_dpd_init(struct qnetd_dpd *d, qb_loop_t *loop, dpd_clock_fn now, dpd_expired_fn expired)
{
	size_t i;

	d->loop = loop;
	d->now = now;
	d->expired = expired;
	d->group_count = 0;
	for (i = 0; i < DPD_GROUP_SLOTS; i++)
		d->groups[i] = NULL;
}

void
dpd_entry_init(struct dpd_entry *e)
{
	qb_list_init(&e->link);
	e->group = NULL;
	e->last_msg_ns = 0;
}

static unsigned
top_bit(uint64_t v)
{
	return 63u - (unsigned)__builtin_clzll(v);
}

uint64_t
qnetd_dpd_rounded_timeout(uint64_t timeout_ns)
{
	uint64_t step;

	if (timeout_ns > DPD_MAX_TIMEOUT_NS)
		timeout_ns = DPD_MAX_TIMEOUT_NS;
	/* 0 would expire a kept entry again at once, forever. */
	if (timeout_ns == 0)
		return 1;
	if (timeout_ns < DPD_STEPS_PER_DOUBLING)
		return timeout_ns;
	step = 1ULL << (top_bit(timeout_ns) - DPD_STEPS_LOG2);
	return (timeout_ns + step - 1) & ~(step - 1);
}

/* The slot of a rounded timeout: exact below 16, then 16 per doubling. */
static size_t
slot_of(uint64_t rounded_ns)
{
	unsigned e;

	if (rounded_ns < DPD_STEPS_PER_DOUBLING)
		return (size_t)rounded_ns;
	e = top_bit(rounded_ns);
	return (size_t)DPD_STEPS_PER_DOUBLING * (e - DPD_STEPS_LOG2 + 1) +
	    (size_t)((rounded_ns >> (e - DPD_STEPS_LOG2)) - DPD_STEPS_PER_DOUBLING);
}

size_t
qnetd_dpd_group_count(const struct qnetd_dpd *d)
{
	return d->group_count;
}

/* A message stamped after `now` (another caller's clock reading) is fresh. */
static uint64_t
idle_of(const struct dpd_entry *e, uint64_t now_ns)
{
	return now_ns > e->last_msg_ns ? now_ns - e->last_msg_ns : 0;
}

static void
free_group(struct dpd_group *g)
{
	struct qnetd_dpd *d = g->dpd;

	if (g->armed)
		qb_loop_timer_del(d->loop, g->timer);
	d->groups[g->slot] = NULL;
	d->group_count--;
	free(g);
}

static void
arm(struct dpd_group *g, uint64_t now_ns)
{
	struct dpd_entry *head;
	uint64_t idle;

	if (g->armed || qb_list_empty(&g->entries))
		return;
	head = qb_list_first_entry(&g->entries, struct dpd_entry, link);
	idle = idle_of(head, now_ns);
	if (qb_loop_timer_add(g->dpd->loop, QB_LOOP_MED,
	    idle >= g->timeout_ns ? 1 : g->timeout_ns - idle, g, group_fired, &g->timer) == 0)
		g->armed = true;
	else
		qb_log(LOG_ERR, "cannot arm a dead-peer timer: its peers are not watched "
		    "until one of them is tracked again");
}

static void
add_tail(struct dpd_group *g, struct dpd_entry *e, uint64_t now_ns)
{
	e->last_msg_ns = now_ns;
	e->group = g;
	qb_list_add_tail(&e->link, &g->entries);
}

static void
unlink_entry(struct dpd_entry *e)
{
	qb_list_del(&e->link);
	qb_list_init(&e->link);
	e->group = NULL;
}

static void
group_fired(void *data)
{
	struct dpd_group *g = data;
	struct qnetd_dpd *d = g->dpd;
	uint64_t now = d->now();

	g->armed = false;
	g->firing = true;
	while (!qb_list_empty(&g->entries)) {
		struct dpd_entry *e = qb_list_first_entry(&g->entries, struct dpd_entry, link);
		uint64_t idle = idle_of(e, now);

		if (idle < g->timeout_ns)
			break;
		unlink_entry(e);
		/* Kept: to the tail as fresh, so the walk ends there at the latest. */
		if (!d->expired(e, idle) && e->group == NULL)
			add_tail(g, e, now);
	}
	g->firing = false;
	if (qb_list_empty(&g->entries))
		free_group(g);
	else
		arm(g, now);
}

int
qnetd_dpd_track(struct qnetd_dpd *d, struct dpd_entry *e, uint64_t timeout_ns)
{
	uint64_t rounded = qnetd_dpd_rounded_timeout(timeout_ns);
	size_t slot = slot_of(rounded);
	struct dpd_group *g = d->groups[slot];
	uint64_t now = d->now();

	if (g == NULL) {
		g = calloc(1, sizeof(*g));
		if (g == NULL) {
			qnetd_dpd_untrack(e);
			return -ENOMEM;
		}
		g->dpd = d;
		g->slot = slot;
		g->timeout_ns = rounded;
		qb_list_init(&g->entries);
		d->groups[slot] = g;
		d->group_count++;
	}
	if (e->group == g) {
		qnetd_dpd_touch(e, now);
	} else {
		/* g is not e's group: untracking cannot free it. */
		qnetd_dpd_untrack(e);
		add_tail(g, e, now);
	}
	arm(g, now);
	return 0;
}

void
qnetd_dpd_touch(struct dpd_entry *e, uint64_t now_ns)
{
	e->last_msg_ns = now_ns;
	if (e->group == NULL)
		return;
	qb_list_del(&e->link);
	qb_list_add_tail(&e->link, &e->group->entries);
}

void
qnetd_dpd_untrack(struct dpd_entry *e)
{
	struct dpd_group *g = e->group;

	if (g == NULL)
		return;
	unlink_entry(e);
	if (qb_list_empty(&g->entries) && !g->firing)
		free_group(g);
}

void
qnetd_dpd_fini(struct qnetd_dpd *d)
{
	size_t i;

	for (i = 0; i < DPD_GROUP_SLOTS; i++) {
		struct dpd_group *g = d->groups[i];

		if (g == NULL)
			continue;
		while (!qb_list_empty(&g->entries))
			unlink_entry(qb_list_first_entry(&g->entries, struct dpd_entry, link));
		free_group(g);
	}
}
