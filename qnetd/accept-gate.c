/* qnetd/accept-gate.c: TLS handshake places, shared out fairly among addresses. */
#include <arpa/inet.h>
#include <string.h>

#include <qb/qblog.h>

#include "common/clock.h"
#include "accept-gate.h"

void
accept_gate_init(struct accept_gate *g, qb_loop_t *loop, const struct accept_gate_ops *ops,
    void *owner)
{
	memset(g, 0, sizeof(*g));
	g->ops = ops;
	g->owner = owner;
	g->loop = loop;
	qb_list_init(&g->placed);
}

void
accept_gate_fini(struct accept_gate *g)
{
	if (g->sweep_armed && g->loop != NULL)
		qb_loop_timer_del(g->loop, g->sweep_timer);
	g->sweep_armed = false;
	qb_list_init(&g->placed);
	g->places_used = g->addresses_placed = 0;
}

void
accept_gate_peer_key(const char *addr_str, struct in6_addr *key)
{
	const char *colon = strrchr(addr_str, ':');
	size_t len = colon != NULL ? (size_t)(colon - addr_str) : strlen(addr_str);
	char host[INET6_ADDRSTRLEN];
	struct in_addr v4;

	memset(key, 0, sizeof(*key));
	if (len >= sizeof(host))
		return;
	memcpy(host, addr_str, len);
	host[len] = '\0';
	if (inet_pton(AF_INET6, host, key) == 1) {
		if (!IN6_IS_ADDR_V4MAPPED(key))
			memset(key->s6_addr + 8, 0, 8);
	} else if (inet_pton(AF_INET, host, &v4) == 1) {
		key->s6_addr[10] = key->s6_addr[11] = 0xff;
		memcpy(key->s6_addr + 12, &v4, sizeof(v4));
	}
}

uint32_t
accept_gate_blocking(const struct accept_gate *g)
{
	return g->addresses_placed + g->remote_blocking;
}

/* Tell the owner when the count that closes the listener moved. */
static void
blocking_update(struct accept_gate *g)
{
	uint32_t before = g->blocking, after = accept_gate_blocking(g);

	if (before == after)
		return;
	g->blocking = after;
	if (g->ops != NULL && g->ops->blocking_changed != NULL)
		g->ops->blocking_changed(g, before, after);
}

/* Cost: linear in the places held, at most ACCEPT_GATE_PLACES. */
static unsigned
places_of(const struct accept_gate *g, const struct in6_addr *peer)
{
	const struct accept_gate_entry *e;
	unsigned n = 0;

	qb_list_for_each_entry(e, &g->placed, link)
		if (memcmp(&e->peer, peer, sizeof(*peer)) == 0)
			n++;
	return n;
}

static void	sweep_timer_fired(void *data);

static void
arm_sweep(struct accept_gate *g)
{
	if (g->loop == NULL || g->sweep_armed || qb_list_empty(&g->placed))
		return;
	if (qb_loop_timer_add(g->loop, QB_LOOP_MED, ACCEPT_GATE_SWEEP_MS * NS_PER_MS, g,
	    sweep_timer_fired, &g->sweep_timer) == 0)
		g->sweep_armed = true;
	else
		qb_log(LOG_WARNING, "cannot arm the TLS handshake place sweep timer");
}

static void
take_place(struct accept_gate *g, struct accept_gate_entry *e)
{
	if (places_of(g, &e->peer) == 0)
		g->addresses_placed++;
	e->placed = true;
	qb_list_add_tail(&e->link, &g->placed);
	g->places_used++;
	arm_sweep(g);
}

/* Without blocking_update: callers do it once they are done. */
static void
drop_place(struct accept_gate *g, struct accept_gate_entry *e)
{
	e->placed = false;
	qb_list_del(&e->link);
	g->places_used--;
	if (places_of(g, &e->peer) == 0)
		g->addresses_placed--;
}

static void
lose_place(struct accept_gate *g, struct accept_gate_entry *e, enum accept_gate_loss why,
    uint64_t now_ns)
{
	drop_place(g, e);
	g->released_total++;
	if (g->ops != NULL && g->ops->lost_place != NULL)
		g->ops->lost_place(e, why, now_ns);
}

/*
 * Rule 2: the place a newcomer holding `own` places may take, or NULL:
 * the least recently active handshake of the address holding the most
 * places, if that is at least two more than `own` (with one more, the
 * two would only swap roles on the next newcomer). Cost: quadratic in the
 * places held, at most ACCEPT_GATE_PLACES, and only while they are all held.
 */
static struct accept_gate_entry *
place_to_yield(struct accept_gate *g, unsigned own)
{
	struct accept_gate_entry *e, *victim = NULL;
	unsigned most = 0;

	qb_list_for_each_entry(e, &g->placed, link) {
		unsigned n = places_of(g, &e->peer);

		if (n > most || (n == most && victim != NULL &&
		    e->progress_ns < victim->progress_ns)) {
			most = n;
			victim = e;
		}
	}
	return most >= own + 2 ? victim : NULL;
}

bool
accept_gate_admit(struct accept_gate *g, struct accept_gate_entry *e,
    const struct in6_addr *peer, uint64_t now_ns)
{
	unsigned own;

	if (e->admitted)
		return e->placed;
	e->admitted = true;
	e->placed = false;
	e->peer = *peer;
	e->begin_ns = e->progress_ns = now_ns;
	/* Full: quiet peers give their places up now, not at the next sweep (rule 3). */
	if (g->places_used >= ACCEPT_GATE_PLACES)
		accept_gate_sweep(g, now_ns);
	own = places_of(g, peer);
	if (own >= ACCEPT_GATE_PER_ADDRESS) {
		g->unplaced_total++;
		return false;
	}
	if (g->places_used >= ACCEPT_GATE_PLACES) {
		struct accept_gate_entry *victim = place_to_yield(g, own);

		if (victim == NULL) {
			g->unplaced_total++;
			return false;
		}
		lose_place(g, victim, ACCEPT_GATE_LOSS_YIELDED, now_ns);
	}
	take_place(g, e);
	/* This filled the places: make room before the door closes on quiet peers. */
	if (g->places_used >= ACCEPT_GATE_PLACES)
		accept_gate_sweep(g, now_ns);
	blocking_update(g);
	return true;
}

void
accept_gate_progress(struct accept_gate_entry *e, uint64_t now_ns)
{
	e->progress_ns = now_ns;
}

void
accept_gate_release(struct accept_gate *g, struct accept_gate_entry *e)
{
	if (!e->admitted)
		return;
	e->admitted = false;
	if (!e->placed)
		return;
	drop_place(g, e);
	blocking_update(g);
}

unsigned
accept_gate_sweep(struct accept_gate *g, uint64_t now_ns)
{
	struct accept_gate_entry *e, *next;
	unsigned released = 0;
	uint64_t idle_limit_ms = g->places_used >= ACCEPT_GATE_PLACES ?
	    ACCEPT_GATE_IDLE_FULL_MS : ACCEPT_GATE_IDLE_MS;

	qb_list_for_each_entry_safe(e, next, &g->placed, link) {
		uint64_t held_ms = (now_ns - e->begin_ns) / NS_PER_MS;
		uint64_t idle_ms = (now_ns - e->progress_ns) / NS_PER_MS;

		if (held_ms >= ACCEPT_GATE_MAX_MS) {
			lose_place(g, e, ACCEPT_GATE_LOSS_TOO_LONG, now_ns);
		} else if (idle_ms >= idle_limit_ms &&
		    (g->ops == NULL || g->ops->has_input == NULL || !g->ops->has_input(e))) {
			lose_place(g, e, ACCEPT_GATE_LOSS_SILENT, now_ns);
		} else {
			continue;
		}
		released++;
	}
	if (released > 0)
		blocking_update(g);
	return released;
}

static void
sweep_timer_fired(void *data)
{
	struct accept_gate *g = data;

	g->sweep_armed = false;
	accept_gate_sweep(g, clock_now_ns());
	arm_sweep(g);
}

void
accept_gate_remote(struct accept_gate *g, int32_t delta)
{
	int64_t sum = (int64_t)g->remote_blocking + delta;

	/* A worker never reports more ends than begins; clamp all the same. */
	g->remote_blocking = sum < 0 ? 0 : (uint32_t)sum;
	blocking_update(g);
}

bool
accept_gate_budget_spent(struct accept_gate *g, uint64_t batch)
{
	if (g->batch != batch) {
		g->batch = batch;
		g->batch_ns = 0;
	}
	return g->batch_ns >= ACCEPT_GATE_BATCH_NS;
}

void
accept_gate_budget_charge(struct accept_gate *g, uint64_t ns)
{
	g->batch_ns += ns;
}
