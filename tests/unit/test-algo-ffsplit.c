/*
 * tests/unit/test-algo-ffsplit.c: the ffsplit decision algorithm
 * (docs/protocol.md 3.2), table-driven through algo-scenario.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "qnetd/algorithms/algorithm.h"
#include "tests/unit/algo-scenario.h"

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

/* ---- test functions --------------------------------------------------- */

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ffsplit_scenarios),
	};

	return cmocka_run_group_tests_name("algo-ffsplit", tests, NULL, NULL);
}
