/* qdevice/vote.c: cast-vote timer decisions (PROTOCOL.md 2.8-2.10). */
#include "vote.h"

void
vote_timer_init(struct vote_timer *t)
{
	t->vote = VOTE_UNDEFINED;
	t->paused = false;
}

bool
vote_timer_running(const struct vote_timer *t)
{
	return t->vote == VOTE_ACK || t->vote == VOTE_NACK;
}

enum vote_timer_action
vote_timer_update(struct vote_timer *t, uint8_t vote)
{
	switch (vote) {
	case VOTE_ACK:
	case VOTE_NACK:
		t->vote = vote;
		return VOTE_TIMER_START;
	case VOTE_ASK_LATER:
	case VOTE_WAIT_FOR_REPLY:
		if (!vote_timer_running(t))
			return VOTE_TIMER_KEEP;
		t->vote = VOTE_UNDEFINED;
		return VOTE_TIMER_STOP;
	default:
		return VOTE_TIMER_KEEP;
	}
}

bool
vote_timer_tick(const struct vote_timer *t, bool *cast_vote)
{
	if (!vote_timer_running(t) || t->paused)
		return false;
	*cast_vote = t->vote == VOTE_ACK;
	return true;
}

uint8_t
vote_for_ring(uint8_t vote, const struct ring_id *msg_ring, const struct ring_id *last_sent_ring)
{
	return ring_id_equal(msg_ring, last_sent_ring) ? vote : VOTE_NO_CHANGE;
}

uint8_t
vote_while_disconnected(const struct vote_timer *t)
{
	return t->vote == VOTE_ACK ? VOTE_NACK : VOTE_NO_CHANGE;
}

uint8_t
vote_on_disconnect(uint8_t algorithm, bool quorate, bool wait_for_all)
{
	switch (algorithm) {
	case ALGORITHM_FFSPLIT:
		return VOTE_NACK;
	case ALGORITHM_LMS:
		return quorate && wait_for_all ? VOTE_NO_CHANGE : VOTE_NACK;
	default:	/* 2nodelms, test */
		return VOTE_NO_CHANGE;
	}
}

bool
vote_echo_missing_disconnects(uint8_t algorithm, bool quorate, bool wait_for_all)
{
	return !(algorithm == ALGORITHM_LMS && quorate && wait_for_all);
}
