/*
 * tests/unit/test-algo-lms.c: the last-man-standing decision algorithms,
 * 2nodelms (docs/protocol.md 3.3) and lms (docs/protocol.md 3.4),
 * table-driven through algo-scenario.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "qnetd/algorithms/algorithm.h"
#include "tests/unit/algo-scenario.h"

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(twonodelms_scenarios),
		cmocka_unit_test(lms_scenarios),
	};

	return cmocka_run_group_tests_name("algo-lms", tests, NULL, NULL);
}
