/*
 * qdevice/vote.h: the cast-vote timer as a pure state machine
 * (docs/protocol.md 2.8-2.10): how votes from qnetd and local events change
 * what qdevice tells votequorum, and what each algorithm does when the
 * connection is lost. The caller owns the real qb_loop timer and the
 * votequorum calls; this module only decides.
 */
#ifndef QDEVICE_VOTE_H
#define QDEVICE_VOTE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/msg.h"

struct vote_timer {
	uint8_t	vote;	/* VOTE_ACK or VOTE_NACK while running, VOTE_UNDEFINED stopped */
	bool	paused;	/* between a membership change and its heuristics result */
};

enum vote_timer_action {
	VOTE_TIMER_KEEP = 0,	/* leave the timer as it is */
	VOTE_TIMER_START,	/* (re)arm it and make one tick right now */
	VOTE_TIMER_STOP,	/* cancel it: votequorum drops our vote after its timeout */
};

void	vote_timer_init(struct vote_timer *t);
bool	vote_timer_running(const struct vote_timer *t);

/*
 * Apply a vote (2.9): ACK/NACK start, ASK_LATER/WAIT_FOR_REPLY stop,
 * NO_CHANGE keeps. Other values keep as well.
 */
enum vote_timer_action	vote_timer_update(struct vote_timer *t, uint8_t vote);

/*
 * One tick: true if votequorum must be polled now, with *cast_vote set;
 * false while stopped or paused.
 */
bool	vote_timer_tick(const struct vote_timer *t, bool *cast_vote);

/*
 * The vote qnetd sent, as the client must take it (2.9): a vote for
 * another ring than the one we last reported counts as NO_CHANGE.
 */
uint8_t	vote_for_ring(uint8_t vote, const struct ring_id *msg_ring,
	    const struct ring_id *last_sent_ring);

/* A local change while not connected (2.8): NACK if voting ACK, else NO_CHANGE. */
uint8_t	vote_while_disconnected(const struct vote_timer *t);

/*
 * Losing the connection (2.10): ffsplit NACKs; lms NACKs unless the node
 * is quorate with wait_for_all, where the old vote stays; 2nodelms and
 * test keep the last vote (NO_CHANGE).
 */
uint8_t	vote_on_disconnect(uint8_t algorithm, bool quorate, bool wait_for_all);

/*
 * The echo reply did not come within one heartbeat (2.7): true when the
 * connection must be dropped (always, except lms on a quorate node with
 * wait_for_all).
 */
bool	vote_echo_missing_disconnects(uint8_t algorithm, bool quorate, bool wait_for_all);

/*
 * The vote as votequorum sees it: "ACK" while the timer polls yes, "NACK"
 * while it polls no, "none" while it is stopped (used by events and status).
 */
const char	*vote_cast_name(const struct vote_timer *t);

/*
 * The yes guard (ours, not upstream's; E2E-NOTES.md "Known race in the
 * stock stack"). A poll that turns votequorum's view of our vote from no
 * to yes makes corosync multicast a node-info message. If the ring is
 * already cut but corosync has not noticed yet (that takes up to token +
 * consensus), the message waits in totem's queue and is delivered after
 * the next membership's sync, where it sets our vote again: the losing
 * side is quorate until our next poll. So a flip to yes waits ("is held")
 * until the ring the ACK was given for is proven whole:
 *
 *  1. No hold while corosync synchronises that very ring (a nodelist
 *     notification with it came and its quorum notification did not):
 *     the ring has just formed and the sync waits for our poll.
 *  2. Otherwise the yes is held until corosync's token counter
 *     (stats.srp.orf_token_rx, read by qdevice/ringwatch.c) has advanced
 *     by VOTE_GUARD_TOKEN_ROUNDS since the hold began: the token went all
 *     the way round after the ACK arrived, so no node had been cut off
 *     before then. Two receipts, not one: the first may be of a token that
 *     passed the other nodes before the ACK; the whole rotation between
 *     the first and the second came after it.
 *  3. Without a token counter, until token + consensus +
 *     VOTE_GUARD_MARGIN_MS passed: a ring cut before the hold began has
 *     been replaced by then. This also bounds every hold.
 *  A membership notification drops the hold (the ACK was for an old
 *  ring), and so does any later vote but NO_CHANGE.
 * Votes that are not a flip to yes (NACK, stop, ACK while already voting
 * ACK) pass at once, as upstream. What remains is a cut between the last
 * proof and the poll (one check interval); qdevice_vq_on_quorum() then
 * withdraws the vote the late message brings back as soon as it lands.
 */
#define VOTE_GUARD_TOKEN_ROUNDS	2
#define VOTE_GUARD_MARGIN_MS	1000

struct vote_guard {
	bool		held;		/* a yes is waiting */
	struct ring_id	ring;		/* the ring it was given for */
	uint64_t	since_ms;	/* monotonic ms when it began to wait */
	uint32_t	stable_ms;	/* rule 3 for this hold */
	bool		token_known;	/* token_rx: the first counter read after since_ms */
	uint64_t	token_rx;
};

/* What corosync tells us now. */
struct vote_ring_state {
	struct ring_id	ring;			/* of the latest nodelist notification */
	bool		sync_in_progress;	/* that ring's quorum notification not yet */
	uint64_t	now_ms;			/* monotonic */
	bool		token_known;		/* a token counter reading exists */
	uint64_t	token_rx;
	uint64_t	token_read_ms;		/* when it was asked for (monotonic) */
	uint32_t	stable_ms;		/* vote_guard_stable_ms() */
};

enum vote_guard_verdict {
	VOTE_GUARD_PASS = 0,	/* apply the vote to the timer now */
	VOTE_GUARD_HOLD,	/* leave the timer alone: a yes waits for proof */
};

void	vote_guard_init(struct vote_guard *g);

/* Rule 3's period from runtime.config.totem.token and .consensus (ms). */
uint32_t	vote_guard_stable_ms(uint32_t token_ms, uint32_t consensus_ms);

/*
 * A vote is about to be applied to timer t. vote_ring is the ring qnetd
 * gave it for (NULL for local decisions, which are never ACK).
 */
enum vote_guard_verdict	vote_guard_offer(struct vote_guard *g, const struct vote_timer *t,
			    uint8_t vote, const struct ring_id *vote_ring,
			    const struct vote_ring_state *s);

/*
 * Called while held (on a short timer): true when the held yes may be
 * applied now (the hold is then over). The first counter reading asked
 * for at or after the start of the hold is the base of rule 2. A hold
 * whose ring is no longer current is dropped (false).
 */
bool	vote_guard_release(struct vote_guard *g, const struct vote_ring_state *s);

/* A membership notification, a disconnect with NACK...: forget a held yes. */
void	vote_guard_drop(struct vote_guard *g);

#endif
