/*
 * tests/unit/algo-scenario.h: the table harness of the decision-algorithm
 * tests (test-algorithms.c, test-algo-ffsplit.c, test-algo-lms.c). A
 * scenario is a small cluster view and a list of steps; each step is one
 * event with the expected reply vote or error, VOTE_INFO pushes (in order)
 * and timer request. Between steps the harness stores the event's values
 * as the server does after a successful decide(). The macros below spell
 * the rows.
 */
#ifndef TESTS_UNIT_ALGO_SCENARIO_H
#define TESTS_UNIT_ALGO_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qnetd/algorithms/algorithm.h"

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
 * Runs sc's steps against algo and fails the test at the first step whose
 * outcome differs from the row. The clients are sc's own or, with a base
 * (a client set ended by id 0), the base's with sc's replacing those of
 * the same node.
 */
void	run_scenario(const struct scenario *sc, const struct client_row *base,
	    const struct algorithm *algo);

/* run_scenario() on every row of the array rows. */
#define RUN_ALL(rows, base, algo) do {					\
	for (size_t i_ = 0; i_ < sizeof(rows) / sizeof((rows)[0]); i_++)	\
		run_scenario(&(rows)[i_], (base), (algo));		\
} while (0)

#endif
