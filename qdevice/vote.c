/* qdevice/vote.c: cast-vote timer decisions (docs/protocol.md 2.8-2.10). */
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

const char *
vote_cast_name(const struct vote_timer *t)
{
	switch (t->vote) {
	case VOTE_ACK:	return "ACK";
	case VOTE_NACK:	return "NACK";
	default:	return "none";
	}
}

/* ---- the yes guard ---- */

void
vote_guard_init(struct vote_guard *g)
{
	*g = (struct vote_guard){ .held = false };
}

uint32_t
vote_guard_stable_ms(uint32_t token_ms, uint32_t consensus_ms)
{
	uint64_t ms = (uint64_t)token_ms + consensus_ms + VOTE_GUARD_MARGIN_MS;

	return ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
}

void
vote_guard_drop(struct vote_guard *g)
{
	g->held = false;
}

enum vote_guard_verdict
vote_guard_offer(struct vote_guard *g, const struct vote_timer *t, uint8_t vote,
    const struct ring_id *vote_ring, const struct vote_ring_state *s)
{
	switch (vote) {
	case VOTE_ACK:
		break;
	case VOTE_NACK:
	case VOTE_ASK_LATER:
	case VOTE_WAIT_FOR_REPLY:
		g->held = false;	/* a newer decision replaces the held yes */
		return VOTE_GUARD_PASS;
	default:			/* NO_CHANGE and the like keep everything */
		return VOTE_GUARD_PASS;
	}
	/* Already voting yes: no flip, no node-info message (as upstream). */
	if (t->vote == VOTE_ACK) {
		g->held = false;
		return VOTE_GUARD_PASS;
	}
	/* Rule 1: the ring is being synchronised right now. */
	if (vote_ring != NULL && ring_id_equal(vote_ring, &s->ring) && s->sync_in_progress) {
		g->held = false;
		return VOTE_GUARD_PASS;
	}
	/* A repeated ACK for the ring already waiting keeps its start. */
	if (g->held && vote_ring != NULL && ring_id_equal(vote_ring, &g->ring))
		return VOTE_GUARD_HOLD;
	g->held = true;
	g->ring = vote_ring != NULL ? *vote_ring : s->ring;
	g->since_ms = s->now_ms;
	g->stable_ms = s->stable_ms;
	g->token_known = false;		/* the base comes from a later reading */
	g->token_rx = 0;
	return VOTE_GUARD_HOLD;
}

bool
vote_guard_release(struct vote_guard *g, const struct vote_ring_state *s)
{
	if (!g->held)
		return false;
	if (!ring_id_equal(&g->ring, &s->ring)) {
		g->held = false;	/* the membership moved on: the ACK is stale */
		return false;
	}
	/* Rule 2: the base is the first reading asked for since the hold began. */
	if (s->token_known && !g->token_known) {
		if (s->token_read_ms >= g->since_ms) {
			g->token_known = true;
			g->token_rx = s->token_rx;
		}
	} else if (s->token_known && s->token_rx >= g->token_rx &&
	    s->token_rx - g->token_rx >= VOTE_GUARD_TOKEN_ROUNDS) {
		goto release;
	}
	/* Rule 3. */
	if (s->now_ms >= g->since_ms && s->now_ms - g->since_ms >= g->stable_ms)
		goto release;
	return false;
release:
	g->held = false;
	return true;
}
