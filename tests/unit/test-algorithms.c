/*
 * tests/unit/test-algorithms.c: the decision algorithms (docs/protocol.md 3),
 * table-driven. A row is a small cluster view and a list of steps; each
 * step is one event with the expected reply vote or error, VOTE_INFO
 * pushes (in order) and timer request. Between steps the harness stores
 * the event's values as the server does after a successful decide().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include "qnetd/algorithms/algorithm.h"
#include "tests/unit/algo-view.h"

#define MAXN	8	/* clients per row, ids per list, steps, pushes */

struct client_row {
	uint32_t	id;		/* 0 ends the clients */
	uint32_t	cfg[MAXN];	/* 0-terminated; empty = none received */
	uint32_t	mem[MAXN];
	struct ring_id	ring;
	uint8_t		heur;		/* last_heuristics */
	bool		kap;
	uint8_t		last;		/* last_result (2nodelms, lms) */
	uint32_t	vseq;		/* ffsplit_vote_seq */
	uint32_t	tseq;		/* timer_vote_seq */
};

struct want_push {
	uint32_t	node;		/* 0 ends the pushes */
	uint8_t		vote;
	struct ring_id	ring;
	uint32_t	seq;
};

struct step {
	/* The event. */
	enum algo_event_type type;
	uint32_t	node;		/* triggering client; 0 ends the steps */
	uint8_t		list_type;
	uint32_t	nodes[MAXN];	/* 0-terminated */
	struct ring_id	ring;
	uint8_t		heur;
	uint32_t	seq;
	bool		shutdown;

	/* What decide() must produce. */
	int		rc;
	uint16_t	error;
	uint8_t		vote;		/* 0: not checked (event has no reply) */
	struct want_push push[MAXN];
	enum algo_timer_action timer;
	uint32_t	timer_ms;
	bool		check_cs;	/* ffsplit cluster state afterwards */
	uint8_t		cs;
	bool		check_qp;	/* ffsplit quorate partition afterwards */
	uint32_t	qp[MAXN];
};

struct scenario {
	const char		*name;
	struct tie_breaker	 tb;
	uint32_t		 hb_ms;		/* 0: 1000 */
	uint32_t		 prev[MAXN];	/* quorate_partition before step 1 */
	struct client_row	 c[MAXN];
	struct step		 s[MAXN];
};

#define RING(n, s)	{ .node_id = (n), .seq = (s) }
#define LOWEST		{ TIE_BREAKER_LOWEST, 0 }
#define HIGHEST		{ TIE_BREAKER_HIGHEST, 0 }
#define NODE_ID(n)	{ TIE_BREAKER_NODE_ID, (n) }
#define CFG4		{ 1, 2, 3, 4 }
#define NONE		HEURISTICS_UNDEFINED
#define PASS		HEURISTICS_PASS
#define FAIL		HEURISTICS_FAIL
#define ACK		VOTE_ACK
#define NACK		VOTE_NACK

/* Events; node lists are the trailing arguments, a lone 0 = empty list. */
#define CONFIG(n, lt, ...)	.type = ALGO_EV_CONFIG_LIST, .node = (n), \
	.list_type = (lt), .nodes = { __VA_ARGS__ }
#define MEMB(n, r, h, ...)	.type = ALGO_EV_MEMBERSHIP_LIST, .node = (n), \
	.list_type = NODE_LIST_MEMBERSHIP, .ring = r, .heur = (h), \
	.nodes = { __VA_ARGS__ }
#define QUORUM(n)	.type = ALGO_EV_QUORUM_LIST, .node = (n), \
	.list_type = NODE_LIST_QUORUM
#define HEUR(n, h)	.type = ALGO_EV_HEURISTICS_CHANGE, .node = (n), .heur = (h)
#define ASK(n)		.type = ALGO_EV_ASK_FOR_VOTE, .node = (n)
#define VIR(n, s)	.type = ALGO_EV_VOTE_INFO_REPLY, .node = (n), .seq = (s)
#define GONE(n)		.type = ALGO_EV_DISCONNECT, .node = (n)
#define SHUTDOWN(n)	.type = ALGO_EV_DISCONNECT, .node = (n), .shutdown = true
#define TIMER(n)	.type = ALGO_EV_TIMER, .node = (n)

/* Expectations. */
#define CS(x)		.check_cs = true, .cs = FFSPLIT_CLUSTER_##x
#define QP(...)		.check_qp = true, .qp = { __VA_ARGS__ }
#define ARM(ms)		.timer = ALGO_TIMER_ARM, .timer_ms = (ms)
#define CANCEL		.timer = ALGO_TIMER_CANCEL
#define INITIAL		NODE_LIST_INITIAL_CONFIG
#define CHANGED		NODE_LIST_CHANGED_CONFIG

/*
 * The 2|2 split most ffsplit rows start from: 4 configured nodes, {1,2}
 * on ring 1.8 and {3,4} on 3.8; node 4 has not reported its new
 * membership yet (still the whole-cluster ring 1.4).
 */
static const struct client_row split_clients[] = {
	{ .id = 1, .cfg = CFG4, .mem = { 1, 2 }, .ring = RING(1, 8) },
	{ .id = 2, .cfg = CFG4, .mem = { 1, 2 }, .ring = RING(1, 8) },
	{ .id = 3, .cfg = CFG4, .mem = { 3, 4 }, .ring = RING(3, 8) },
	{ .id = 4, .cfg = CFG4, .mem = { 1, 2, 3, 4 }, .ring = RING(1, 4) },
	{ .id = 0 },
};

/* The same split once node 4 has reported too: both halves settled. */
static const struct client_row settled_clients[] = {
	{ .id = 1, .cfg = CFG4, .mem = { 1, 2 }, .ring = RING(1, 8) },
	{ .id = 2, .cfg = CFG4, .mem = { 1, 2 }, .ring = RING(1, 8) },
	{ .id = 3, .cfg = CFG4, .mem = { 3, 4 }, .ring = RING(3, 8) },
	{ .id = 4, .cfg = CFG4, .mem = { 3, 4 }, .ring = RING(3, 8) },
	{ .id = 0 },
};

/* 2nodelms: both nodes ACKed on the whole-cluster ring 1.4. */
static const struct client_row acked_pair_clients[] = {
	{ .id = 1, .mem = { 1, 2 }, .ring = RING(1, 4), .last = ACK },
	{ .id = 2, .mem = { 1, 2 }, .ring = RING(1, 4), .last = ACK },
	{ .id = 0 },
};

/* The pair, node 2 with heuristics PASS, and a third client outside it. */
static const struct client_row pair_and_third_clients[] = {
	{ .id = 1, .mem = { 1, 2 }, .ring = RING(1, 4), .last = ACK },
	{ .id = 2, .mem = { 1, 2 }, .ring = RING(1, 4), .last = ACK, .heur = PASS },
	{ .id = 3, .mem = { 3 }, .ring = RING(3, 4), .last = ACK },
	{ .id = 0 },
};

/* ---- harness ---------------------------------------------------------- */


static void
fill_list(struct node_list *l, const uint32_t *ids)
{
	algo_view_fill(l, ids, MAXN);
}

/*
 * The scenario's clients, in rows[] (MAXN of them, id 0 ending them): its
 * own, or with a base (split_clients, settled_clients), the base's with
 * sc's replacing those of the same node.
 */
static void
scenario_clients(const struct scenario *sc, const struct client_row *base,
    struct client_row *rows)
{
	size_t n = 0;

	memset(rows, 0, MAXN * sizeof(*rows));
	if (base == NULL) {
		memcpy(rows, sc->c, MAXN * sizeof(*rows));
		return;
	}
	while (n < MAXN && base[n].id != 0) {
		rows[n] = base[n];
		n++;
	}
	for (size_t i = 0; i < MAXN && sc->c[i].id != 0; i++) {
		size_t k = 0;

		while (k < n && rows[k].id != sc->c[i].id)
			k++;
		if (k == n)
			fail_msg("%s: node %u is not in the base", sc->name, sc->c[i].id);
		rows[k] = sc->c[i];
	}
}

static void
world_init(struct algo_view *w, const struct scenario *sc, const struct client_row *base,
    uint8_t algo_id)
{
	struct client_row rows[MAXN];

	scenario_clients(sc, base, rows);
	algo_view_init(w);
	fill_list(&w->cluster.quorate_partition, sc->prev);
	for (size_t i = 0; i < MAXN && rows[i].id != 0; i++) {
		const struct client_row *row = &rows[i];
		struct algo_client *c = algo_view_add(w, row->id, algo_id, sc->tb);

		c->kap_enabled = row->kap;
		c->heartbeat_interval_ms = sc->hb_ms != 0 ? sc->hb_ms : 1000;
		fill_list(&c->config, row->cfg);
		c->config_set = c->config.count > 0;
		fill_list(&c->membership, row->mem);
		c->membership_set = c->membership.count > 0;
		c->ring_id = row->ring;
		c->last_heuristics = row->heur;
		c->last_membership_heuristics = row->heur;
		c->last_result = row->last;
		c->ffsplit_vote_seq = row->vseq;
		c->timer_vote_seq = row->tseq;
	}
}

static struct algo_client *
world_find(struct algo_view *w, uint32_t node_id)
{
	for (size_t i = 0; i < w->cluster.count; i++)
		if (w->ptrs[i]->node_id == node_id)
			return w->ptrs[i];
	return NULL;
}

/* What the server stores once decide() succeeded (docs/protocol.md 2.4). */
static void
world_apply(struct algo_view *w, const struct algo_event *ev)
{
	struct algo_client *c = ev->client;

	switch (ev->type) {
	case ALGO_EV_CONFIG_LIST:
		assert_int_equal(node_list_copy(&c->config, ev->nodes), 0);
		c->config_set = true;
		break;
	case ALGO_EV_MEMBERSHIP_LIST:
		assert_int_equal(node_list_copy(&c->membership, ev->nodes), 0);
		c->membership_set = true;
		c->ring_id = *ev->ring_id;
		c->last_membership_heuristics = ev->heuristics;
		c->last_heuristics = ev->heuristics;
		break;
	case ALGO_EV_QUORUM_LIST:
		assert_int_equal(node_list_copy(&c->quorum, ev->nodes), 0);
		c->quorum_set = true;
		c->quorate = ev->quorate;
		break;
	case ALGO_EV_HEURISTICS_CHANGE:
		c->last_regular_heuristics = ev->heuristics;
		c->last_heuristics = ev->heuristics;
		break;
	case ALGO_EV_DISCONNECT:
		for (size_t i = 0, j = 0; i < w->cluster.count; i++)
			if (w->ptrs[i] != c)
				w->ptrs[j++] = w->ptrs[i];
		w->cluster.count--;
		break;
	default:
		break;
	}
}

static const char *
timer_name(enum algo_timer_action t)
{
	switch (t) {
	case ALGO_TIMER_KEEP:
		return "keep";
	case ALGO_TIMER_ARM:
		return "arm";
	case ALGO_TIMER_CANCEL:
		return "cancel";
	}
	return "?";
}

static void
check_step(const struct scenario *sc, size_t k, const struct step *st,
    int rc, const struct algo_plan *plan, const struct algo_cluster *cl)
{
	size_t want_pushes = 0;

	if (rc != st->rc)
		fail_msg("%s, step %zu: decide returned %d, want %d", sc->name,
		    k + 1, rc, st->rc);
	if (rc < 0)
		return;
	if (plan->error != st->error)
		fail_msg("%s, step %zu: error %u (%s), want %u (%s)", sc->name,
		    k + 1, plan->error, reply_error_code_name(plan->error),
		    st->error, reply_error_code_name(st->error));
	if (st->vote != VOTE_UNDEFINED && plan->vote != st->vote)
		fail_msg("%s, step %zu: vote %s, want %s", sc->name, k + 1,
		    vote_name(plan->vote), vote_name(st->vote));
	while (want_pushes < MAXN && st->push[want_pushes].node != 0)
		want_pushes++;
	if (plan->push_count != want_pushes)
		fail_msg("%s, step %zu: %zu pushes, want %zu (first to node %u)",
		    sc->name, k + 1, plan->push_count, want_pushes,
		    plan->push_count > 0 ? plan->pushes[0].client->node_id : 0);
	for (size_t i = 0; i < want_pushes; i++) {
		const struct algo_push *got = &plan->pushes[i];
		const struct want_push *want = &st->push[i];

		if (got->client->node_id != want->node || got->vote != want->vote ||
		    got->seq != want->seq ||
		    !ring_id_equal(&got->ring_id, &want->ring))
			fail_msg("%s, step %zu, push %zu: node %u %s ring %u.%llu "
			    "seq %u, want node %u %s ring %u.%llu seq %u",
			    sc->name, k + 1, i + 1, got->client->node_id,
			    vote_name(got->vote), got->ring_id.node_id,
			    (unsigned long long)got->ring_id.seq, got->seq,
			    want->node, vote_name(want->vote), want->ring.node_id,
			    (unsigned long long)want->ring.seq, want->seq);
	}
	if (plan->timer != st->timer ||
	    (st->timer == ALGO_TIMER_ARM && plan->timer_ms != st->timer_ms))
		fail_msg("%s, step %zu: timer %s %u ms, want %s %u ms", sc->name,
		    k + 1, timer_name(plan->timer), plan->timer_ms,
		    timer_name(st->timer), st->timer_ms);
	if (st->check_cs && cl->ffsplit_state != st->cs)
		fail_msg("%s, step %zu: cluster state %u, want %u", sc->name,
		    k + 1, cl->ffsplit_state, st->cs);
	if (st->check_qp) {
		struct node_list want;

		node_list_init(&want);
		fill_list(&want, st->qp);
		if (!node_list_ids_equal(&want, &cl->quorate_partition) ||
		    want.count != cl->quorate_partition.count)
			fail_msg("%s, step %zu: quorate partition has %zu nodes "
			    "(first %u), want %zu", sc->name, k + 1,
			    cl->quorate_partition.count,
			    node_list_min_id(&cl->quorate_partition), want.count);
		node_list_fini(&want);
	}
}

static void
run_scenario(const struct scenario *sc, const struct client_row *base,
    const struct algorithm *algo)
{
	struct algo_view w;

	world_init(&w, sc, base, algo->id);
	for (size_t k = 0; k < MAXN && sc->s[k].node != 0; k++) {
		const struct step *st = &sc->s[k];
		struct algo_push pushes[MAXN];
		struct algo_plan plan = {
			.pushes = pushes,
			.push_cap = w.cluster.count,	/* the documented minimum */
		};
		struct node_list nodes;
		struct algo_event ev = {
			.type = st->type,
			.list_type = st->list_type,
			.heuristics = st->heur,
			.seq = st->seq,
			.server_shutdown = st->shutdown,
		};
		int rc;

		ev.client = world_find(&w, st->node);
		if (ev.client == NULL)
			fail_msg("%s, step %zu: node %u is not connected", sc->name,
			    k + 1, st->node);
		node_list_init(&nodes);
		fill_list(&nodes, st->nodes);
		if (st->type == ALGO_EV_CONFIG_LIST ||
		    st->type == ALGO_EV_MEMBERSHIP_LIST ||
		    st->type == ALGO_EV_QUORUM_LIST)
			ev.nodes = &nodes;
		if (st->type == ALGO_EV_MEMBERSHIP_LIST)
			ev.ring_id = &st->ring;

		rc = algo->decide(&w.cluster, &ev, &plan);
		check_step(sc, k, st, rc, &plan, &w.cluster);
		if (rc == 0 && plan.error == REPLY_NO_ERROR)
			world_apply(&w, &ev);
		node_list_fini(&nodes);
	}
	algo_view_fini(&w);
}

#define RUN_ALL(rows, base, algo) do {					\
	for (size_t i_ = 0; i_ < sizeof(rows) / sizeof((rows)[0]); i_++)	\
		run_scenario(&(rows)[i_], (base), (algo));		\
} while (0)

/* ---- test (docs/protocol.md 3.1) ------------------------------------------- */

static const struct scenario test_rows[] = {
	{ "test: fixed answers, never a push", LOWEST, 0, { 0 }, {
		{ .id = 1, .ring = RING(1, 4) },
		{ .id = 2, .ring = RING(1, 4) },
	}, {
		{ CONFIG(1, INITIAL, 1, 2), .vote = VOTE_NO_CHANGE },
		{ MEMB(1, RING(1, 8), NONE, 1), .vote = ACK },
		{ QUORUM(1), .vote = VOTE_NO_CHANGE },
		{ HEUR(1, FAIL), .vote = VOTE_NO_CHANGE },
		{ ASK(2), .vote = ACK },
		{ VIR(2, 1) },
		{ GONE(2) },
	} },
};

/* ---- ffsplit (docs/protocol.md 3.2) ---------------------------------------- */

/*
 * These start from split_clients, their client rows replacing the split's
 * of the same node; node 4's report is the triggering step.
 */
static const struct scenario ffsplit_split_rows[] = {
	{ "3.5 ex1: 2:2 split, lowest picks {1,2}; ACKs follow both NACK replies",
	    LOWEST, 0, { 0 }, { { 0 } }, {
		{ MEMB(4, RING(3, 8), NONE, 3, 4), .vote = VOTE_NO_CHANGE,
		    .push = { { 3, NACK, RING(3, 8), 1 }, { 4, NACK, RING(3, 8), 1 } },
		    CS(SENDING_NACKS), QP(1, 2) },
		{ VIR(3, 1), CS(SENDING_NACKS) },
		{ VIR(4, 1),
		    .push = { { 1, ACK, RING(1, 8), 1 }, { 2, ACK, RING(1, 8), 1 } },
		    CS(SENDING_ACKS) },
		{ VIR(1, 1), CS(SENDING_ACKS) },
		{ VIR(2, 1), CS(WAITING_FOR_CHANGE) },
	} },
	{ "two-phase: stale seqs are ignored, ACKs wait for the last NACK reply",
	    LOWEST, 0, { 0 }, {
		{ .id = 1, .cfg = CFG4, .mem = { 1, 2 }, .ring = RING(1, 8), .vseq = 2 },
		{ .id = 3, .cfg = CFG4, .mem = { 3, 4 }, .ring = RING(3, 8), .vseq = 4 },
	}, {
		{ MEMB(4, RING(3, 8), NONE, 3, 4), .vote = VOTE_NO_CHANGE,
		    .push = { { 3, NACK, RING(3, 8), 5 }, { 4, NACK, RING(3, 8), 1 } } },
		{ VIR(3, 4), CS(SENDING_NACKS) },
		{ VIR(4, 1), CS(SENDING_NACKS) },
		{ VIR(3, 5),
		    .push = { { 1, ACK, RING(1, 8), 3 }, { 2, ACK, RING(1, 8), 1 } },
		    CS(SENDING_ACKS) },
		{ VIR(1, 2), CS(SENDING_ACKS) },
		{ VIR(2, 1), CS(SENDING_ACKS) },
		{ VIR(1, 3), CS(WAITING_FOR_CHANGE) },
	} },
	{ "3.5 ex2: heuristics PASS on 3 and 4 outscore {1,2}",
	    LOWEST, 0, { 0 }, {
		{ .id = 3, .cfg = CFG4, .mem = { 3, 4 }, .ring = RING(3, 8), .heur = PASS },
	}, {
		{ MEMB(4, RING(3, 8), PASS, 3, 4), .vote = VOTE_NO_CHANGE,
		    .push = { { 1, NACK, RING(1, 8), 1 }, { 2, NACK, RING(1, 8), 1 } },
		    QP(3, 4) },
		{ VIR(1, 1) },
		{ VIR(2, 1),
		    .push = { { 3, ACK, RING(3, 8), 1 }, { 4, ACK, RING(3, 8), 1 } } },
	} },
	{ "unstable: config node sets differ",
	    LOWEST, 0, { 0 }, {
		{ .id = 1, .cfg = { 1, 2, 3 }, .mem = { 1, 2 }, .ring = RING(1, 8) },
	}, {
		{ MEMB(4, RING(3, 8), NONE, 3, 4), .vote = VOTE_WAIT_FOR_REPLY,
		    CS(WAITING_FOR_STABLE_MEMBERSHIP) },
	} },
	{ "unstable: same membership, different rings",
	    LOWEST, 0, { 0 }, {
		{ .id = 2, .cfg = CFG4, .mem = { 1, 2 }, .ring = RING(1, 9) },
	}, {
		{ MEMB(4, RING(3, 8), NONE, 3, 4), .vote = VOTE_WAIT_FOR_REPLY },
	} },
	{ "unstable: a client that has not sent its config yet",
	    LOWEST, 0, { 0 }, {
		{ .id = 2, .mem = { 1, 2 }, .ring = RING(1, 8) },
	}, {
		{ MEMB(4, RING(3, 8), NONE, 3, 4), .vote = VOTE_WAIT_FOR_REPLY },
	} },
	{ "unstable: same ring, membership not a subset of a member's",
	    LOWEST, 0, { 0 }, {
		{ .id = 2, .cfg = CFG4, .mem = { 1, 2, 5 }, .ring = RING(1, 8) },
	}, {
		{ MEMB(4, RING(3, 8), NONE, 3, 4), .vote = VOTE_WAIT_FOR_REPLY },
	} },
};

/* And these from settled_clients. */
static const struct scenario ffsplit_settled_rows[] = {
	{ "changed config: the new list is compared, and re-decides when equal",
	    LOWEST, 0, { 0 }, { { 0 } }, {
		{ CONFIG(1, CHANGED, 1, 2, 3), .vote = VOTE_WAIT_FOR_REPLY },
		{ CONFIG(1, CHANGED, 4, 3, 2, 1), .vote = VOTE_NO_CHANGE,
		    .push = { { 3, NACK, RING(3, 8), 1 }, { 4, NACK, RING(3, 8), 1 } } },
	} },
	{ "heuristics change re-decides with the new value",
	    LOWEST, 0, { 1, 2 }, { { 0 } }, {
		{ HEUR(3, PASS), .vote = VOTE_NO_CHANGE,
		    .push = { { 1, NACK, RING(1, 8), 1 }, { 2, NACK, RING(1, 8), 1 } },
		    QP(3, 4) },
	} },
	{ "disconnect re-decides without the leaver, who still counts as active",
	    LOWEST, 0, { 1, 2 }, { { 0 } }, {
		{ GONE(1),
		    .push = { { 3, NACK, RING(3, 8), 1 }, { 4, NACK, RING(3, 8), 1 } },
		    CS(SENDING_NACKS), QP(1, 2) },
		{ VIR(3, 1) },
		{ VIR(4, 1), .push = { { 2, ACK, RING(1, 8), 1 } }, CS(SENDING_ACKS) },
	} },
};

static const struct scenario ffsplit_rows[] = {
	{ "3.5 ex3: node 2 not connected, {3,4} has more active clients",
	    LOWEST, 0, { 0 }, {
		{ .id = 1, .cfg = CFG4, .mem = { 1, 2 }, .ring = RING(1, 8) },
		{ .id = 3, .cfg = CFG4, .mem = { 3, 4 }, .ring = RING(3, 8) },
		{ .id = 4, .cfg = CFG4, .mem = { 1, 2, 3, 4 }, .ring = RING(1, 4) },
	}, {
		{ MEMB(4, RING(3, 8), NONE, 3, 4), .vote = VOTE_NO_CHANGE,
		    .push = { { 1, NACK, RING(1, 8), 1 } }, QP(3, 4) },
		{ VIR(1, 1),
		    .push = { { 3, ACK, RING(3, 8), 1 }, { 4, ACK, RING(3, 8), 1 } } },
	} },
	{ "3.5 ex5: {1,2,3}|{4}, the majority wins over PASS heuristics",
	    LOWEST, 0, { 0 }, {
		{ .id = 1, .cfg = CFG4, .mem = { 1, 2, 3 }, .ring = RING(1, 8) },
		{ .id = 2, .cfg = CFG4, .mem = { 1, 2, 3 }, .ring = RING(1, 8) },
		{ .id = 3, .cfg = CFG4, .mem = { 1, 2, 3 }, .ring = RING(1, 8) },
		{ .id = 4, .cfg = CFG4, .mem = { 1, 2, 3, 4 }, .ring = RING(1, 4) },
	}, {
		{ MEMB(4, RING(4, 8), PASS, 4), .vote = VOTE_NO_CHANGE,
		    .push = { { 4, NACK, RING(4, 8), 1 } }, QP(1, 2, 3) },
		{ VIR(4, 1),
		    .push = { { 1, ACK, RING(1, 8), 1 }, { 2, ACK, RING(1, 8), 1 },
			{ 3, ACK, RING(1, 8), 1 } } },
	} },
	{ "3.5 ex5: {1}|{2}|{3,4}, the exact half wins",
	    LOWEST, 0, { 0 }, {
		{ .id = 1, .cfg = CFG4, .mem = { 1 }, .ring = RING(1, 8) },
		{ .id = 2, .cfg = CFG4, .mem = { 2 }, .ring = RING(2, 8) },
		{ .id = 3, .cfg = CFG4, .mem = { 3, 4 }, .ring = RING(3, 8) },
		{ .id = 4, .cfg = CFG4, .mem = { 1, 2, 3, 4 }, .ring = RING(1, 4) },
	}, {
		{ MEMB(4, RING(3, 8), NONE, 3, 4), .vote = VOTE_NO_CHANGE,
		    .push = { { 1, NACK, RING(1, 8), 1 }, { 2, NACK, RING(2, 8), 1 } },
		    QP(3, 4) },
	} },
	{ "3.5 ex6: odd config {1,2,3}, {1,2}|{3}: majority only",
	    LOWEST, 0, { 0 }, {
		{ .id = 1, .cfg = { 1, 2, 3 }, .mem = { 1, 2 }, .ring = RING(1, 8) },
		{ .id = 2, .cfg = { 1, 2, 3 }, .mem = { 1, 2 }, .ring = RING(1, 8) },
		{ .id = 3, .cfg = { 1, 2, 3 }, .mem = { 1, 2, 3 }, .ring = RING(1, 4) },
	}, {
		{ MEMB(3, RING(3, 8), PASS, 3), .vote = VOTE_NO_CHANGE,
		    .push = { { 3, NACK, RING(3, 8), 1 } }, QP(1, 2) },
		{ VIR(3, 1),
		    .push = { { 1, ACK, RING(1, 8), 1 }, { 2, ACK, RING(1, 8), 1 } } },
	} },
	{ "odd config {1,2,3} split three ways: no majority, nobody wins",
	    LOWEST, 0, { 0 }, {
		{ .id = 1, .cfg = { 1, 2, 3 }, .mem = { 1 }, .ring = RING(1, 8) },
		{ .id = 2, .cfg = { 1, 2, 3 }, .mem = { 2 }, .ring = RING(2, 8) },
		{ .id = 3, .cfg = { 1, 2, 3 }, .mem = { 1, 2, 3 }, .ring = RING(1, 4) },
	}, {
		{ MEMB(3, RING(3, 8), NONE, 3), .vote = VOTE_NO_CHANGE,
		    .push = { { 1, NACK, RING(1, 8), 1 }, { 2, NACK, RING(2, 8), 1 },
			{ 3, NACK, RING(3, 8), 1 } }, QP(0) },
	} },
	{ "3.5 ex7: ring mismatch waits without pushes, the second report decides",
	    LOWEST, 0, { 0 }, {
		{ .id = 1, .cfg = CFG4, .mem = { 1, 2, 3, 4 }, .ring = RING(1, 4) },
		{ .id = 2, .cfg = CFG4, .mem = { 1, 2, 3, 4 }, .ring = RING(1, 4) },
	}, {
		{ MEMB(1, RING(1, 8), NONE, 1, 2), .vote = VOTE_WAIT_FOR_REPLY,
		    CS(WAITING_FOR_STABLE_MEMBERSHIP) },
		{ MEMB(2, RING(1, 8), NONE, 1, 2), .vote = VOTE_NO_CHANGE,
		    .push = { { 1, ACK, RING(1, 8), 1 }, { 2, ACK, RING(1, 8), 1 } },
		    CS(SENDING_ACKS), QP(1, 2) },
	} },
	{ "no partition can win: NACK to all, the round ends without ACKs",
	    LOWEST, 0, { 1, 2, 3, 4, 5, 6 }, {
		{ .id = 1, .cfg = { 1, 2, 3, 4, 5, 6 }, .mem = { 1, 2 }, .ring = RING(1, 8) },
		{ .id = 2, .cfg = { 1, 2, 3, 4, 5, 6 }, .mem = { 1, 2 }, .ring = RING(1, 8) },
		{ .id = 3, .cfg = { 1, 2, 3, 4, 5, 6 }, .mem = { 3, 4 }, .ring = RING(3, 8) },
		{ .id = 4, .cfg = { 1, 2, 3, 4, 5, 6 }, .mem = { 3, 4 }, .ring = RING(3, 8) },
		{ .id = 5, .cfg = { 1, 2, 3, 4, 5, 6 }, .mem = { 5, 6 }, .ring = RING(5, 8) },
		{ .id = 6, .cfg = { 1, 2, 3, 4, 5, 6 }, .mem = { 1, 2, 3, 4, 5, 6 },
		    .ring = RING(1, 4) },
	}, {
		{ MEMB(6, RING(5, 8), NONE, 5, 6), .vote = VOTE_NO_CHANGE,
		    .push = { { 1, NACK, RING(1, 8), 1 }, { 2, NACK, RING(1, 8), 1 },
			{ 3, NACK, RING(3, 8), 1 }, { 4, NACK, RING(3, 8), 1 },
			{ 5, NACK, RING(5, 8), 1 }, { 6, NACK, RING(5, 8), 1 } },
		    CS(SENDING_NACKS), QP(0) },
		{ VIR(1, 1) },
		{ VIR(2, 1) },
		{ VIR(3, 1) },
		{ VIR(4, 1) },
		{ VIR(5, 1), CS(SENDING_NACKS) },
		{ VIR(6, 1), CS(WAITING_FOR_CHANGE) },
	} },
	{ "equal score: more active clients beats the tie-breaker",
	    HIGHEST, 0, { 0 }, {
		{ .id = 1, .cfg = CFG4, .mem = { 1, 2, 3, 4 }, .ring = RING(1, 4) },
		{ .id = 2, .cfg = CFG4, .mem = { 1, 2 }, .ring = RING(1, 8) },
		{ .id = 3, .cfg = CFG4, .mem = { 3, 4 }, .ring = RING(3, 8), .heur = PASS },
	}, {
		{ MEMB(1, RING(1, 8), NONE, 1, 2), .vote = VOTE_NO_CHANGE,
		    .push = { { 3, NACK, RING(3, 8), 1 } }, QP(1, 2) },
	} },
	{ "errors 18, 19, 14 store nothing; a valid pair then decides",
	    LOWEST, 0, { 0 }, {
		{ .id = 1, .ring = RING(1, 4) },
	}, {
		{ CONFIG(1, INITIAL, 2, 3), .error = REPLY_INVALID_CONFIG_NODE_LIST },
		{ MEMB(1, RING(1, 8), NONE, 1), .vote = VOTE_ASK_LATER },
		{ CONFIG(1, INITIAL, 0), .error = REPLY_INVALID_CONFIG_NODE_LIST },
		{ CONFIG(1, INITIAL, 1, 2), .vote = VOTE_ASK_LATER },
		{ MEMB(1, RING(1, 8), NONE, 2), .error = REPLY_INVALID_MEMBERSHIP_NODE_LIST },
		{ MEMB(1, RING(1, 8), NONE, 0), .error = REPLY_INVALID_MEMBERSHIP_NODE_LIST },
		{ ASK(1), .error = REPLY_UNSUPPORTED_DECISION_ALGORITHM_MESSAGE },
		{ MEMB(1, RING(1, 8), NONE, 1), .vote = VOTE_NO_CHANGE,
		    .push = { { 1, ACK, RING(1, 8), 1 } }, CS(SENDING_ACKS) },
	} },
	{ "ASK_LATER while config or membership is missing; quorum NO_CHANGE",
	    LOWEST, 0, { 0 }, {
		{ .id = 1, .cfg = { 1, 2 }, .ring = RING(1, 4) },
		{ .id = 2, .mem = { 1, 2 }, .ring = RING(1, 4) },
	}, {
		{ HEUR(1, PASS), .vote = VOTE_ASK_LATER },
		{ CONFIG(1, CHANGED, 1, 2), .vote = VOTE_ASK_LATER },
		{ HEUR(2, PASS), .vote = VOTE_ASK_LATER },
		{ QUORUM(2), .vote = VOTE_NO_CHANGE },
		{ CONFIG(2, INITIAL, 1, 2), .vote = VOTE_ASK_LATER },
	} },
	{ "disconnect of the winning half's last client moves the vote",
	    LOWEST, 0, { 1, 2 }, {
		{ .id = 1, .cfg = CFG4, .mem = { 1, 2 }, .ring = RING(1, 8) },
		{ .id = 3, .cfg = CFG4, .mem = { 3, 4 }, .ring = RING(3, 8), .vseq = 6 },
	}, {
		{ GONE(1), .push = { { 3, ACK, RING(3, 8), 7 } },
		    CS(SENDING_ACKS), QP(3, 4) },
	} },
	{ "disconnect while the server shuts down: no re-evaluation",
	    LOWEST, 0, { 1, 2 }, {
		{ .id = 1, .cfg = CFG4, .mem = { 1, 2 }, .ring = RING(1, 8) },
		{ .id = 3, .cfg = CFG4, .mem = { 3, 4 }, .ring = RING(3, 8) },
	}, {
		{ SHUTDOWN(1), CS(WAITING_FOR_CHANGE), QP(1, 2) },
	} },
	/*
	 * docs/protocol.md 7: a client that has not sent its config list yet (still
	 * running its after-connect heuristics) would exit on a VOTE_INFO.
	 * Nodes 2 and 3 reconnected after a qnetd restart; 1 leaves first.
	 */
	{ "disconnect leaves only clients without lists: no pushes until they report",
	    LOWEST, 0, { 1, 2, 3, 4 }, {
		{ .id = 1, .cfg = CFG4, .mem = { 1, 2, 3, 4 }, .ring = RING(1, 8) },
		{ .id = 2, .ring = RING(1, 8) },
		{ .id = 3, .ring = RING(1, 8) },
	}, {
		{ GONE(1), CS(WAITING_FOR_STABLE_MEMBERSHIP), QP(1, 2, 3, 4) },
		{ CONFIG(2, INITIAL, 1, 2, 3, 4), .vote = VOTE_ASK_LATER },
		/* 3 still has no config: unstable, as upstream. */
		{ MEMB(2, RING(2, 12), NONE, 2, 3), .vote = VOTE_WAIT_FOR_REPLY,
		    CS(WAITING_FOR_STABLE_MEMBERSHIP) },
		{ CONFIG(3, INITIAL, 1, 2, 3, 4), .vote = VOTE_ASK_LATER },
		{ MEMB(3, RING(2, 12), NONE, 2, 3), .vote = VOTE_NO_CHANGE,
		    .push = { { 2, ACK, RING(2, 12), 1 }, { 3, ACK, RING(2, 12), 1 } },
		    CS(SENDING_ACKS), QP(2, 3) },
	} },
	{ "disconnect leaves one client without lists: no push until it reports",
	    LOWEST, 0, { 1, 2 }, {
		{ .id = 1, .cfg = { 1, 2 }, .mem = { 1, 2 }, .ring = RING(1, 8) },
		{ .id = 2, .ring = RING(1, 8) },
	}, {
		{ GONE(1), CS(WAITING_FOR_STABLE_MEMBERSHIP), QP(1, 2) },
		{ CONFIG(2, INITIAL, 1, 2), .vote = VOTE_ASK_LATER },
		{ MEMB(2, RING(2, 12), NONE, 2), .vote = VOTE_NO_CHANGE,
		    .push = { { 2, ACK, RING(2, 12), 1 } }, CS(SENDING_ACKS), QP(2) },
	} },
	{ "disconnect leaves one client without lists, tie-breaker node id: no push",
	    NODE_ID(2), 0, { 1, 2 }, {
		{ .id = 1, .cfg = { 1, 2 }, .mem = { 1, 2 }, .ring = RING(1, 8) },
		{ .id = 2, .ring = RING(1, 8) },
	}, {
		{ GONE(1), CS(WAITING_FOR_STABLE_MEMBERSHIP), QP(1, 2) },
	} },
	{ "control: the client left after a disconnect has its lists and gets ACK",
	    LOWEST, 0, { 1, 2 }, {
		{ .id = 1, .cfg = { 1, 2 }, .mem = { 1, 2 }, .ring = RING(1, 8) },
		{ .id = 2, .cfg = { 1, 2 }, .mem = { 1, 2 }, .ring = RING(1, 8) },
	}, {
		{ GONE(1), .push = { { 2, ACK, RING(1, 8), 1 } },
		    CS(SENDING_ACKS), QP(1, 2) },
	} },
	/*
	 * Lists are compared as sets (sorted once, node_id_set) but counted
	 * as sent: repeats and order must change nothing but what the raw
	 * list counts (n, m and step 2a's active count).
	 */
	{ "sets: order and repeats do not matter for stability; repeats count in m and 2a",
	    LOWEST, 0, { 0 }, {
		{ .id = 1, .cfg = { 4, 3, 2, 1 }, .mem = { 2, 1, 1 }, .ring = RING(1, 8) },
		{ .id = 2, .cfg = { 1, 1, 2, 3, 4 }, .mem = { 1, 2 }, .ring = RING(1, 8) },
		{ .id = 3, .cfg = CFG4, .mem = { 3, 4 }, .ring = RING(3, 8) },
		{ .id = 4, .cfg = { 2, 4, 1, 3 }, .mem = { 4, 3 }, .ring = RING(3, 8) },
	}, {
		{ HEUR(1, PASS), .vote = VOTE_NO_CHANGE,
		    .push = { { 3, NACK, RING(3, 8), 1 }, { 4, NACK, RING(3, 8), 1 } },
		    CS(SENDING_NACKS), QP(2, 1, 1) },
		{ VIR(3, 1), CS(SENDING_NACKS) },
		{ VIR(4, 1),
		    .push = { { 1, ACK, RING(1, 8), 1 }, { 2, ACK, RING(1, 8), 1 } },
		    CS(SENDING_ACKS) },
	} },
	{ "sets: a membership that is a strict subset of its member's is not stable",
	    LOWEST, 0, { 0 }, {
		{ .id = 1, .cfg = { 1, 2, 3 }, .mem = { 1, 2 }, .ring = RING(1, 8) },
		{ .id = 2, .cfg = { 3, 2, 1 }, .mem = { 1, 2, 3 }, .ring = RING(1, 8) },
	}, {
		{ HEUR(1, PASS), .vote = VOTE_WAIT_FOR_REPLY,
		    CS(WAITING_FOR_STABLE_MEMBERSHIP) },
		{ MEMB(2, RING(1, 8), NONE, 2, 1), .vote = VOTE_NO_CHANGE,
		    .push = { { 1, ACK, RING(1, 8), 1 }, { 2, ACK, RING(1, 8), 1 } },
		    CS(SENDING_ACKS), QP(2, 1) },
		/* The stored copy of that list is the one just judged. */
		{ HEUR(1, FAIL), .vote = VOTE_NO_CHANGE,
		    .push = { { 1, ACK, RING(1, 8), 2 }, { 2, ACK, RING(1, 8), 2 } } },
		{ MEMB(2, RING(1, 9), NONE, 1, 2), .vote = VOTE_WAIT_FOR_REPLY },
		{ HEUR(1, PASS), .vote = VOTE_WAIT_FOR_REPLY },
		{ MEMB(1, RING(1, 9), PASS, 1, 1, 2), .vote = VOTE_NO_CHANGE,
		    .push = { { 1, ACK, RING(1, 9), 3 }, { 2, ACK, RING(1, 9), 3 } },
		    QP(1, 2) },
	} },
	{ "sets: a new config is judged before it is stored; 2d takes a repeated list's min",
	    LOWEST, 0, { 0 }, {
		{ .id = 1, .cfg = { 1, 2 }, .mem = { 1, 2 }, .ring = RING(1, 8) },
		{ .id = 2, .cfg = { 2, 1 }, .mem = { 2, 1 }, .ring = RING(1, 8) },
	}, {
		{ CONFIG(1, CHANGED, 1, 2, 3), .vote = VOTE_WAIT_FOR_REPLY },
		{ HEUR(2, PASS), .vote = VOTE_WAIT_FOR_REPLY },
		{ CONFIG(2, CHANGED, 3, 2, 1, 3), .vote = VOTE_NO_CHANGE,
		    .push = { { 1, ACK, RING(1, 8), 1 }, { 2, ACK, RING(1, 8), 1 } },
		    QP(2, 1) },
		{ GONE(1), .push = { { 2, ACK, RING(1, 8), 2 } }, QP(2, 1) },
	} },
	{ "sets: a subset shown for one membership says nothing of another (own id missing)",
	    LOWEST, 0, { 0 }, {
		{ .id = 1, .cfg = { 1, 2, 3 }, .mem = { 3 }, .ring = RING(1, 8) },
		{ .id = 2, .cfg = { 1, 2, 3 }, .mem = { 2, 3 }, .ring = RING(1, 8) },
		{ .id = 3, .cfg = { 1, 2, 3 }, .mem = { 3, 4 }, .ring = RING(1, 8) },
	}, {
		{ HEUR(3, PASS), .vote = VOTE_WAIT_FOR_REPLY },
	} },
	{ "control: config list sent, membership not yet: connected, NACK as upstream",
	    LOWEST, 0, { 1, 2 }, {
		{ .id = 1, .cfg = { 1, 2 }, .mem = { 1, 2 }, .ring = RING(1, 8) },
		{ .id = 2, .cfg = { 1, 2 }, .ring = RING(1, 8) },
	}, {
		{ GONE(1), .push = { { 2, NACK, RING(1, 8), 1 } },
		    CS(SENDING_NACKS), QP(0) },
		{ VIR(2, 1), CS(WAITING_FOR_CHANGE) },
	} },
};

/*
 * The 2|2 split above decided by node 4's membership report alone: the
 * reply is NO_CHANGE, the losing half's clients get NACK (seq 1, their
 * own ring) and the winning half becomes the quorate partition.
 */
struct split_row {
	const char		*name;
	struct tie_breaker	 tb;
	uint32_t		 prev[MAXN];	/* quorate partition before the report */
	uint8_t			 heur[5];	/* stored last_heuristics, by node id */
	bool			 kap[5];	/* by node id */
	uint8_t			 report_heur;	/* in node 4's report */
	uint32_t		 winner;	/* 1: {1,2} wins, 3: {3,4} wins */
};

#define KAP_ALL		{ [1] = true, [2] = true, [3] = true, [4] = true }

static const struct split_row split_rows[] = {
	{ "3.5 ex4: KAP on everywhere keeps the previous partition {3,4}",
	    LOWEST, { 3, 4 }, .kap = KAP_ALL, .winner = 3 },
	{ "KAP off: the previous partition does not matter, lowest wins",
	    LOWEST, { 3, 4 }, .winner = 1 },
	{ "KAP applies per compared pair: 3 off, but 4 vs 2 both on keeps {3,4}",
	    LOWEST, { 3, 4 }, .kap = { [1] = true, [2] = true, [4] = true }, .winner = 3 },
	{ "KAP on, both halves in the previous partition: tie-breaker decides",
	    LOWEST, { 1, 2, 3, 4 }, .kap = KAP_ALL, .winner = 1 },
	{ "score: a FAIL lowers {1,2} below {3,4}",
	    LOWEST, { 0 }, .heur = { [1] = FAIL }, .winner = 3 },
	{ "tie-breaker highest: {3,4}", HIGHEST, { 0 }, .winner = 3 },
	{ "tie-breaker node id 3: {3,4}", NODE_ID(3), { 0 }, .winner = 3 },
	{ "tie-breaker node id 5 in neither half: the first half {1,2} wins",
	    NODE_ID(5), { 0 }, .winner = 1 },
	/* As 3's mate, 4 still counts its stored PASS: 3+ beats 2. */
	{ "quirk: fresh heuristics count only when the sender represents",
	    LOWEST, { 0 }, .heur = { [4] = PASS }, .report_heur = FAIL, .winner = 3 },
};

static void
run_split(const struct split_row *r)
{
	const struct step report = { MEMB(4, RING(3, 8), r->report_heur, 3, 4),
	    .vote = VOTE_NO_CHANGE };
	uint32_t loser = r->winner == 1 ? 3 : 1;
	struct scenario sc = { .name = r->name, .tb = r->tb };
	struct step *st = &sc.s[0];

	memcpy(sc.prev, r->prev, sizeof(sc.prev));
	for (uint32_t id = 1; id <= 4; id++) {
		sc.c[id - 1] = split_clients[id - 1];
		sc.c[id - 1].heur = r->heur[id];
		sc.c[id - 1].kap = r->kap[id];
	}
	*st = report;
	for (uint32_t k = 0; k < 2; k++) {
		st->push[k] = (struct want_push){ loser + k, NACK, RING(loser, 8), 1 };
		st->qp[k] = r->winner + k;
	}
	st->check_qp = true;
	run_scenario(&sc, NULL, &algorithm_ffsplit);
}

/* ---- 2nodelms (docs/protocol.md 3.3) --------------------------------------- */

/* These start from acked_pair_clients. */
static const struct scenario twonodelms_pair_rows[] = {
	{ "3.5: both reach qnetd but not each other: lowest ACK, other NACK",
	    LOWEST, 0, { 0 }, { { 0 } }, {
		{ MEMB(1, RING(1, 8), NONE, 1), .vote = ACK },
		{ MEMB(2, RING(2, 8), NONE, 2), .vote = NACK },
		{ ASK(2), .vote = NACK },
	} },
	{ "quorum, heuristics change, replies, disconnect: no change, no push",
	    LOWEST, 0, { 0 }, { { 0 } }, {
		{ QUORUM(1), .vote = VOTE_NO_CHANGE },
		{ HEUR(1, FAIL), .vote = VOTE_NO_CHANGE },
		{ VIR(1, 1) },
		{ GONE(1) },
		{ MEMB(2, RING(2, 8), NONE, 2), .vote = ACK },
	} },
};

/* These from pair_and_third_clients: the reporter's rival is the last other client. */
static const struct scenario twonodelms_third_rows[] = {
	{ "the other client is the last non-self one (lowest: 1 vs 3)",
	    LOWEST, 0, { 0 }, { { 0 } }, {
		{ MEMB(1, RING(1, 8), NONE, 1), .vote = ACK },
	} },
	{ "the other client is the last non-self one (highest: 3 vs 2)",
	    HIGHEST, 0, { 0 }, { { 0 } }, {
		{ MEMB(3, RING(3, 8), NONE, 3), .vote = NACK },
	} },
};

static const struct scenario twonodelms_rows[] = {
	{ "config list must have exactly 2 nodes (error 12)",
	    LOWEST, 0, { 0 }, {
		{ .id = 1, .ring = RING(1, 4) },
	}, {
		{ CONFIG(1, INITIAL, 1, 2, 3),
		    .error = REPLY_UNSUPPORTED_DECISION_ALGORITHM },
		{ CONFIG(1, INITIAL, 1),
		    .error = REPLY_UNSUPPORTED_DECISION_ALGORITHM },
		{ CONFIG(1, INITIAL, 1, 2), .vote = VOTE_NO_CHANGE },
		{ CONFIG(1, CHANGED, 1, 2, 3),
		    .error = REPLY_UNSUPPORTED_DECISION_ALGORITHM },
	} },
	{ "ask before any decision: ASK_LATER; both nodes seen: ACK, remembered",
	    LOWEST, 0, { 0 }, {
		{ .id = 1, .mem = { 1, 2 }, .ring = RING(1, 4) },
		{ .id = 2, .mem = { 1, 2 }, .ring = RING(1, 4) },
	}, {
		{ ASK(1), .vote = VOTE_ASK_LATER },
		{ MEMB(1, RING(1, 8), NONE, 1, 2), .vote = ACK },
		{ ASK(1), .vote = ACK },
	} },
	{ "3.5: peer dead, the only connected client ACKs over the tie-breaker",
	    NODE_ID(2), 0, { 0 }, {
		{ .id = 1, .mem = { 1, 2 }, .ring = RING(1, 4), .last = ACK },
	}, {
		{ MEMB(1, RING(1, 8), NONE, 1), .vote = ACK },
	} },
	{ "newcomer vs an ACKed other ring: NACK, not remembered",
	    HIGHEST, 0, { 0 }, {
		{ .id = 1, .mem = { 1 }, .ring = RING(1, 8), .last = ACK },
		{ .id = 2, .mem = { 1, 2 }, .ring = RING(1, 4) },
	}, {
		{ MEMB(2, RING(2, 8), NONE, 2), .vote = NACK },
		{ ASK(2), .vote = VOTE_ASK_LATER },
		{ MEMB(2, RING(2, 8), NONE, 2), .vote = NACK },
	} },
	{ "newcomer rule precedes the two-node ACK; same ring is no newcomer",
	    LOWEST, 0, { 0 }, {
		{ .id = 1, .mem = { 1, 2 }, .ring = RING(1, 8), .last = ACK },
		{ .id = 2, .mem = { 1, 2 }, .ring = RING(1, 4) },
	}, {
		{ MEMB(2, RING(2, 9), NONE, 1, 2), .vote = NACK },
		{ MEMB(2, RING(1, 8), NONE, 1, 2), .vote = ACK },
		{ ASK(2), .vote = ACK },
	} },
};

/*
 * Both nodes ACKed on ring 1.4 (acked_pair_clients) lost each other: each
 * reports a membership of itself alone on its own new ring, first the node
 * first.
 */
struct pair_row {
	const char		*name;
	struct tie_breaker	 tb;
	uint32_t		 first;
	uint8_t			 stored_heur[3];	/* by node id */
	uint8_t			 report_heur[3];
	uint8_t			 vote[3];		/* the reply to each report */
};

static const struct pair_row pair_rows[] = {
	{ "heuristics: PASS beats UNDEFINED before the tie-breaker", LOWEST, 2,
	    .report_heur = { [2] = PASS }, .vote = { [1] = NACK, [2] = ACK } },
	{ "heuristics: UNDEFINED beats FAIL before the tie-breaker", HIGHEST, 1,
	    .stored_heur = { [2] = FAIL }, .report_heur = { [2] = FAIL },
	    .vote = { [1] = ACK, [2] = NACK } },
	{ "tie-breaker highest", HIGHEST, 1, .vote = { [1] = NACK, [2] = ACK } },
	{ "tie-breaker node id 2", NODE_ID(2), 1, .vote = { [1] = NACK, [2] = ACK } },
	{ "tie-breaker node id 5 (not connected): nobody", NODE_ID(5), 1,
	    .vote = { [1] = NACK, [2] = NACK } },
};

static void
run_pair(const struct pair_row *r)
{
	struct scenario sc = { .name = r->name, .tb = r->tb };

	for (uint32_t id = 1; id <= 2; id++) {
		uint32_t n = id == 1 ? r->first : 3 - r->first;	/* who reports k-th */
		const struct step report = { MEMB(n, RING(n, 8), r->report_heur[n], n),
		    .vote = r->vote[n] };

		sc.c[id - 1] = acked_pair_clients[id - 1];
		sc.c[id - 1].heur = r->stored_heur[id];
		sc.s[id - 1] = report;
	}
	run_scenario(&sc, acked_pair_clients, &algorithm_2nodelms);
}

/* ---- lms (docs/protocol.md 3.4) -------------------------------------------- */

#define BIG	0x7fffffffu	/* INT32_MAX */

static const struct scenario lms_rows[] = {
	{ "3.5: {1}|{2,3}, scores 1 vs 2",
	    LOWEST, 0, { 0 }, {
		{ .id = 1, .mem = { 1 }, .ring = RING(1, 8), .last = ACK },
		{ .id = 2, .mem = { 2, 3 }, .ring = RING(2, 8), .last = ACK },
		{ .id = 3, .mem = { 2, 3 }, .ring = RING(2, 8), .last = ACK },
	}, {
		{ QUORUM(1), .vote = NACK, CANCEL },
		{ QUORUM(2), .vote = ACK, CANCEL },
		{ ASK(3), .vote = ACK, CANCEL },
	} },
	{ "3.5: the only connected client: one partition, ACK",
	    HIGHEST, 0, { 0 }, {
		{ .id = 1, .mem = { 1, 2, 3, 4 }, .ring = RING(1, 4), .last = ACK },
	}, {
		{ MEMB(1, RING(1, 8), NONE, 1), .vote = ACK, CANCEL },
	} },
	{ "ring mismatch in our stored membership: WAIT, timer HB/4",
	    LOWEST, 8000, { 0 }, {
		{ .id = 1, .mem = { 1, 2, 3 }, .ring = RING(1, 4), .last = ACK },
		{ .id = 2, .mem = { 1, 2, 3 }, .ring = RING(1, 4), .last = ACK },
		{ .id = 3, .mem = { 1, 2, 3 }, .ring = RING(1, 4), .last = ACK },
	}, {
		{ MEMB(1, RING(1, 8), NONE, 1, 2, 3), .vote = VOTE_WAIT_FOR_REPLY,
		    ARM(2000) },
	} },
	{ "ring mismatch with a client listing us: WAIT",
	    LOWEST, 0, { 0 }, {
		{ .id = 1, .mem = { 1 }, .ring = RING(1, 8), .last = ACK },
		{ .id = 2, .mem = { 1, 2 }, .ring = RING(1, 4), .last = ACK },
	}, {
		{ QUORUM(1), .vote = VOTE_WAIT_FOR_REPLY, ARM(250) },
	} },
	{ "a unique highest score beats a larger partition",
	    LOWEST, 0, { 0 }, {
		{ .id = 1, .mem = { 1 }, .ring = RING(1, 8), .last = ACK, .heur = PASS },
		{ .id = 2, .mem = { 2, 3 }, .ring = RING(2, 8), .last = ACK, .heur = FAIL },
		{ .id = 3, .mem = { 2, 3 }, .ring = RING(2, 8), .last = ACK },
	}, {
		{ QUORUM(1), .vote = ACK, CANCEL },
		{ QUORUM(2), .vote = NACK, CANCEL },
	} },
	{ "quirk: joint best score, largest partition over all partitions wins",
	    LOWEST, 0, { 0 }, {
		{ .id = 1, .mem = { 1 }, .ring = RING(1, 8), .last = ACK, .heur = PASS },
		{ .id = 2, .mem = { 2, 3 }, .ring = RING(2, 8), .last = ACK, .heur = FAIL },
		{ .id = 3, .mem = { 2, 3 }, .ring = RING(2, 8), .last = ACK, .heur = FAIL },
		{ .id = 4, .mem = { 4 }, .ring = RING(4, 8), .last = ACK, .heur = PASS },
	}, {
		{ QUORUM(1), .vote = NACK, CANCEL },
		{ QUORUM(2), .vote = ACK, CANCEL },
		{ QUORUM(4), .vote = NACK, CANCEL },
	} },
	{ "joint best score: the larger partition beats the tie-breaker",
	    HIGHEST, 0, { 0 }, {
		{ .id = 1, .mem = { 1, 2 }, .ring = RING(1, 8), .last = ACK },
		{ .id = 2, .mem = { 1, 2 }, .ring = RING(1, 8), .last = ACK },
		{ .id = 3, .mem = { 3 }, .ring = RING(3, 8), .last = ACK, .heur = PASS },
	}, {
		{ QUORUM(3), .vote = NACK, CANCEL },
		{ QUORUM(2), .vote = ACK, CANCEL },
	} },
	{ "quirk: lowest searches below INT32_MAX only",
	    LOWEST, 0, { 0 }, {
		{ .id = BIG, .mem = { BIG, BIG + 2 }, .ring = RING(BIG, 8), .last = ACK },
		{ .id = BIG + 2, .mem = { BIG, BIG + 2 }, .ring = RING(BIG, 8),
		    .last = ACK },
		{ .id = BIG + 3, .mem = { BIG + 3, BIG + 4 }, .ring = RING(BIG + 3, 8),
		    .last = ACK },
		{ .id = BIG + 4, .mem = { BIG + 3, BIG + 4 }, .ring = RING(BIG + 3, 8),
		    .last = ACK },
	}, {
		{ QUORUM(BIG), .vote = ACK, CANCEL },
		{ QUORUM(BIG + 2), .vote = NACK, CANCEL },
		{ QUORUM(BIG + 3), .vote = NACK, CANCEL },
	} },
	{ "a stored ring with seq 0 is no partition",
	    HIGHEST, 0, { 0 }, {
		{ .id = 1, .mem = { 1 }, .ring = RING(1, 8), .last = ACK },
		{ .id = 2, .ring = RING(2, 0) },
	}, {
		{ QUORUM(1), .vote = ACK, CANCEL },
	} },
	{ "no partition yet: WAIT + timer; the timer pushes the ACK",
	    LOWEST, 0, { 0 }, {
		{ .id = 1, .ring = RING(1, 0) },
	}, {
		{ MEMB(1, RING(1, 8), NONE, 1), .vote = VOTE_WAIT_FOR_REPLY, ARM(250) },
		{ TIMER(1), .push = { { 1, ACK, RING(1, 8), 1 } }, CANCEL },
	} },
	{ "timer re-arms while waiting; after WAIT the newcomer rule is off",
	    LOWEST, 0, { 0 }, {
		{ .id = 1, .mem = { 1 }, .ring = RING(1, 8), .last = ACK },
		{ .id = 3, .mem = { 3, 4 }, .ring = RING(3, 4), .heur = PASS, .tseq = 4 },
		{ .id = 4, .mem = { 3, 4 }, .ring = RING(3, 4) },
	}, {
		{ MEMB(3, RING(3, 9), PASS, 3, 4), .vote = VOTE_WAIT_FOR_REPLY,
		    ARM(250) },
		{ TIMER(3), ARM(250) },
		{ MEMB(4, RING(3, 9), NONE, 3, 4), .vote = NACK, CANCEL },
		{ TIMER(3), .push = { { 3, ACK, RING(3, 9), 5 } }, CANCEL },
		{ ASK(4), .vote = NACK, CANCEL },
	} },
	{ "newcomer NACK is not remembered: the rule applies again",
	    LOWEST, 0, { 0 }, {
		{ .id = 1, .mem = { 1 }, .ring = RING(1, 8), .last = ACK },
		{ .id = 3, .mem = { 3 }, .ring = RING(3, 9), .heur = PASS },
	}, {
		{ QUORUM(3), .vote = NACK, CANCEL },
		{ ASK(3), .vote = NACK, CANCEL },
	} },
	{ "quirk: the sender is grouped by its stored, pre-update ring",
	    LOWEST, 0, { 0 }, {
		{ .id = 1, .mem = { 1 }, .ring = RING(1, 4), .last = ACK },
		{ .id = 2, .mem = { 2 }, .ring = RING(2, 8), .last = ACK, .heur = FAIL },
	}, {
		{ MEMB(1, RING(1, 8), NONE, 1), .vote = NACK, CANCEL },
		{ QUORUM(1), .vote = ACK, CANCEL },
	} },
	{ "config, heuristics change, replies, disconnect: no change, timer kept",
	    LOWEST, 0, { 0 }, {
		{ .id = 1, .mem = { 1, 2 }, .ring = RING(1, 8), .last = ACK },
		{ .id = 2, .mem = { 1, 2 }, .ring = RING(1, 8), .last = ACK },
	}, {
		{ CONFIG(1, CHANGED, 1, 2), .vote = VOTE_NO_CHANGE },
		{ HEUR(1, FAIL), .vote = VOTE_NO_CHANGE },
		{ VIR(1, 1) },
		{ GONE(2) },
	} },
};

/*
 * Two partitions of two ({1,2} on ring 1.8, {3,4} on 3.8), equal in
 * score and size, all ACKed before: each quorum list is answered CANCEL
 * and the vote the tie-breaker gives.
 */
struct quad_row {
	const char		*name;
	struct tie_breaker	 tb;
	struct {
		uint32_t	 node;		/* 0 ends */
		uint8_t		 vote;
	} q[4];
};

static const struct quad_row quad_rows[] = {
	{ "3.5: 2:2, scores and sizes tie, lowest's partition ACKs", LOWEST,
	    { { 1, ACK }, { 2, ACK }, { 3, NACK }, { 4, NACK } } },
	{ "tie-breaker highest: 4's partition", HIGHEST, { { 3, ACK }, { 1, NACK } } },
	{ "quirk: tie-breaker node id ACKs only that node, not its mates", NODE_ID(2),
	    { { 2, ACK }, { 1, NACK }, { 3, NACK } } },
};

static void
run_quad(const struct quad_row *r)
{
	struct scenario sc = { .name = r->name, .tb = r->tb };

	for (uint32_t id = 1; id <= 4; id++) {
		uint32_t low = id <= 2 ? 1 : 3;
		const struct client_row acked = { .id = id, .mem = { low, low + 1 },
		    .ring = RING(low, 8), .last = ACK };

		sc.c[id - 1] = acked;
	}
	for (size_t k = 0; k < 4 && r->q[k].node != 0; k++) {
		const struct step ask = { QUORUM(r->q[k].node), .vote = r->q[k].vote, CANCEL };

		sc.s[k] = ask;
	}
	run_scenario(&sc, NULL, &algorithm_lms);
}

/* ---- test functions --------------------------------------------------- */

static void
test_algorithm_rows(void **state)
{
	(void)state;
	RUN_ALL(test_rows, NULL, &algorithm_test);
}

static void
ffsplit_scenarios(void **state)
{
	(void)state;
	RUN_ALL(ffsplit_split_rows, split_clients, &algorithm_ffsplit);
	RUN_ALL(ffsplit_settled_rows, settled_clients, &algorithm_ffsplit);
	RUN_ALL(ffsplit_rows, NULL, &algorithm_ffsplit);
	for (size_t i = 0; i < sizeof(split_rows) / sizeof(split_rows[0]); i++)
		run_split(&split_rows[i]);
}

static void
twonodelms_scenarios(void **state)
{
	(void)state;
	RUN_ALL(twonodelms_pair_rows, acked_pair_clients, &algorithm_2nodelms);
	RUN_ALL(twonodelms_third_rows, pair_and_third_clients, &algorithm_2nodelms);
	RUN_ALL(twonodelms_rows, NULL, &algorithm_2nodelms);
	for (size_t i = 0; i < sizeof(pair_rows) / sizeof(pair_rows[0]); i++)
		run_pair(&pair_rows[i]);
}

static void
lms_scenarios(void **state)
{
	(void)state;
	RUN_ALL(lms_rows, NULL, &algorithm_lms);
	for (size_t i = 0; i < sizeof(quad_rows) / sizeof(quad_rows[0]); i++)
		run_quad(&quad_rows[i]);
}

static void
registry(void **state)
{
	static const struct {
		uint8_t		 id;
		const struct algorithm *want;
	} rows[] = {
		{ ALGORITHM_TEST, &algorithm_test },
		{ ALGORITHM_FFSPLIT, &algorithm_ffsplit },
		{ ALGORITHM_2NODELMS, &algorithm_2nodelms },
		{ ALGORITHM_LMS, &algorithm_lms },
		{ 4, NULL },
		{ 255, NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct algorithm *got = algorithm_get(rows[i].id);

		if (got != rows[i].want || (got != NULL && got->id != rows[i].id))
			fail_msg("algorithm_get(%u): wrong entry", rows[i].id);
	}
}

static void
plan_push_respects_cap(void **state)
{
	struct algo_push pushes[2];
	struct algo_plan plan = { .pushes = pushes, .push_cap = 2 };
	struct algo_client c;
	struct ring_id ring = RING(1, 8);

	(void)state;
	algo_client_init(&c);
	assert_int_equal(algo_plan_push(&plan, &c, ACK, &ring, 1), 0);
	assert_int_equal(algo_plan_push(&plan, &c, NACK, &ring, 2), 0);
	assert_int_equal(algo_plan_push(&plan, &c, ACK, &ring, 3), -ENOMEM);
	assert_int_equal(plan.push_count, 2);
	assert_int_equal(pushes[1].vote, NACK);
	assert_int_equal(pushes[1].seq, 2);
	assert_true(ring_id_equal(&pushes[1].ring_id, &ring));
	algo_client_fini(&c);
}

/* A client missing from the view, or an unknown event, is a server bug. */
static void
bad_calls_rejected(void **state)
{
	static const struct algorithm *const rows[] = {
		&algorithm_ffsplit, &algorithm_2nodelms, &algorithm_lms,
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct algo_client in, out;
		struct algo_client *view[1] = { &in };
		struct algo_cluster cl;
		struct algo_push pushes[1];
		struct algo_plan plan = { .pushes = pushes, .push_cap = 1 };
		struct algo_event ev = { .type = ALGO_EV_QUORUM_LIST };
		struct node_list empty;
		int rc;

		algo_client_init(&in);
		algo_client_init(&out);
		in.node_id = 1;
		out.node_id = 2;
		algo_cluster_init(&cl);
		cl.clients = view;
		cl.count = 1;
		node_list_init(&empty);
		ev.nodes = &empty;

		ev.client = &out;
		if ((rc = rows[i]->decide(&cl, &ev, &plan)) != -EINVAL)
			fail_msg("%s: foreign client gave %d, want -EINVAL",
			    rows[i]->name, rc);
		ev.client = &in;
		ev.type = (enum algo_event_type)99;
		if ((rc = rows[i]->decide(&cl, &ev, &plan)) != -EINVAL)
			fail_msg("%s: unknown event gave %d, want -EINVAL",
			    rows[i]->name, rc);
		algo_cluster_fini(&cl);
		algo_client_fini(&in);
		algo_client_fini(&out);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(registry),
		cmocka_unit_test(plan_push_respects_cap),
		cmocka_unit_test(bad_calls_rejected),
		cmocka_unit_test(test_algorithm_rows),
		cmocka_unit_test(ffsplit_scenarios),
		cmocka_unit_test(twonodelms_scenarios),
		cmocka_unit_test(lms_scenarios),
	};

	return cmocka_run_group_tests_name("algorithms", tests, NULL, NULL);
}
