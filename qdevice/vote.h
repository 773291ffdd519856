/*
 * qdevice/vote.h: the cast-vote timer as a pure state machine
 * (PROTOCOL.md 2.8-2.10): how votes from qnetd and local events change
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

#endif
