/*
 * tests/unit/test-qdevice-vote.c: the cast-vote timer state machine and
 * the per-algorithm disconnect behaviour (docs/protocol.md 2.7-2.10), the yes
 * guard that closes the known race of E2E-NOTES.md, plus the reconnect
 * policy of qdevice/disconnect.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "qdevice/disconnect.h"
#include "qdevice/vote.h"

#define R	VOTE_TIMER_START
#define S	VOTE_TIMER_STOP
#define K	VOTE_TIMER_KEEP
#define U	VOTE_UNDEFINED

/* One step: the timer's vote before, the vote applied, what happens, the vote after. */
static const struct {
	const char	*name;
	uint8_t		 before;
	uint8_t		 vote;
	int		 action;
	uint8_t		 after;
} steps[] = {
	{ "stopped + ACK starts",		U, VOTE_ACK, R, VOTE_ACK },
	{ "stopped + NACK starts",		U, VOTE_NACK, R, VOTE_NACK },
	{ "ACK + NACK restarts",		VOTE_ACK, VOTE_NACK, R, VOTE_NACK },
	{ "NACK + ACK restarts",		VOTE_NACK, VOTE_ACK, R, VOTE_ACK },
	{ "ACK + ACK polls again",		VOTE_ACK, VOTE_ACK, R, VOTE_ACK },
	{ "ACK + ask later stops",		VOTE_ACK, VOTE_ASK_LATER, S, U },
	{ "NACK + wait for reply stops",	VOTE_NACK, VOTE_WAIT_FOR_REPLY, S, U },
	{ "stopped + ask later keeps",		U, VOTE_ASK_LATER, K, U },
	{ "stopped + wait keeps",		U, VOTE_WAIT_FOR_REPLY, K, U },
	{ "ACK + no change keeps",		VOTE_ACK, VOTE_NO_CHANGE, K, VOTE_ACK },
	{ "NACK + no change keeps",		VOTE_NACK, VOTE_NO_CHANGE, K, VOTE_NACK },
	{ "stopped + no change keeps",		U, VOTE_NO_CHANGE, K, U },
	{ "ACK + undefined keeps",		VOTE_ACK, VOTE_UNDEFINED, K, VOTE_ACK },
	{ "ACK + out of range keeps",		VOTE_ACK, 77, K, VOTE_ACK },
};

static void
timer_steps(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		struct vote_timer t = { steps[i].before, false };
		int got = (int)vote_timer_update(&t, steps[i].vote);

		if (got != steps[i].action || t.vote != steps[i].after)
			fail_msg("%s: action %d vote %u, want %d vote %u", steps[i].name, got,
			    t.vote, steps[i].action, steps[i].after);
	}
}

static void
timer_ticks(void **state)
{
	struct vote_timer t;
	bool cast = false;

	(void)state;
	vote_timer_init(&t);
	assert_false(vote_timer_running(&t));
	assert_false(vote_timer_tick(&t, &cast));

	vote_timer_update(&t, VOTE_ACK);
	assert_true(vote_timer_running(&t));
	assert_true(vote_timer_tick(&t, &cast));
	assert_true(cast);

	/* Paused between a membership change and its heuristics: ticks skip. */
	t.paused = true;
	assert_false(vote_timer_tick(&t, &cast));
	assert_true(vote_timer_running(&t));
	/* A vote while paused is remembered and cast once unpaused. */
	assert_int_equal(vote_timer_update(&t, VOTE_NACK), VOTE_TIMER_START);
	assert_false(vote_timer_tick(&t, &cast));
	t.paused = false;
	assert_true(vote_timer_tick(&t, &cast));
	assert_false(cast);
}

static void
ring_check(void **state)
{
	struct ring_id last = { 1, 0x1c }, same = { 1, 0x1c };
	struct ring_id other_seq = { 1, 0x20 }, other_node = { 2, 0x1c };

	(void)state;
	assert_int_equal(vote_for_ring(VOTE_ACK, &same, &last), VOTE_ACK);
	assert_int_equal(vote_for_ring(VOTE_NACK, &same, &last), VOTE_NACK);
	assert_int_equal(vote_for_ring(VOTE_ASK_LATER, &same, &last), VOTE_ASK_LATER);
	assert_int_equal(vote_for_ring(VOTE_ACK, &other_seq, &last), VOTE_NO_CHANGE);
	assert_int_equal(vote_for_ring(VOTE_NACK, &other_node, &last), VOTE_NO_CHANGE);
	assert_int_equal(vote_for_ring(VOTE_WAIT_FOR_REPLY, &other_seq, &last), VOTE_NO_CHANGE);
}

static void
while_disconnected(void **state)
{
	struct vote_timer ack = { VOTE_ACK, false }, nack = { VOTE_NACK, false };
	struct vote_timer stopped = { VOTE_UNDEFINED, false };

	(void)state;
	assert_int_equal(vote_while_disconnected(&ack), VOTE_NACK);
	assert_int_equal(vote_while_disconnected(&nack), VOTE_NO_CHANGE);
	assert_int_equal(vote_while_disconnected(&stopped), VOTE_NO_CHANGE);
}

static const struct {
	const char	*name;
	uint8_t		 algorithm;
	bool		 quorate;
	bool		 wfa;
	uint8_t		 vote;		/* vote_on_disconnect */
	bool		 drop;		/* vote_echo_missing_disconnects */
} per_algorithm[] = {
	{ "ffsplit",				ALGORITHM_FFSPLIT, false, false, VOTE_NACK, true },
	{ "ffsplit quorate wfa",		ALGORITHM_FFSPLIT, true, true, VOTE_NACK, true },
	{ "lms",				ALGORITHM_LMS, false, false, VOTE_NACK, true },
	{ "lms quorate",			ALGORITHM_LMS, true, false, VOTE_NACK, true },
	{ "lms wfa",				ALGORITHM_LMS, false, true, VOTE_NACK, true },
	{ "lms quorate wfa keeps its vote",	ALGORITHM_LMS, true, true, VOTE_NO_CHANGE, false },
	{ "2nodelms keeps its vote",		ALGORITHM_2NODELMS, false, false, VOTE_NO_CHANGE, true },
	{ "2nodelms quorate wfa",		ALGORITHM_2NODELMS, true, true, VOTE_NO_CHANGE, true },
	{ "test keeps its vote",		ALGORITHM_TEST, false, false, VOTE_NO_CHANGE, true },
};

static void
disconnect_per_algorithm(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(per_algorithm) / sizeof(per_algorithm[0]); i++) {
		uint8_t v = vote_on_disconnect(per_algorithm[i].algorithm,
		    per_algorithm[i].quorate, per_algorithm[i].wfa);
		bool drop = vote_echo_missing_disconnects(per_algorithm[i].algorithm,
		    per_algorithm[i].quorate, per_algorithm[i].wfa);

		if (v != per_algorithm[i].vote || drop != per_algorithm[i].drop)
			fail_msg("%s: vote %u drop %d, want %u %d", per_algorithm[i].name, v,
			    drop, per_algorithm[i].vote, per_algorithm[i].drop);
	}
}

static const struct {
	enum disconnect_reason	reason;
	bool			retry;
} reasons[] = {
	{ DISCONNECT_DECODE_ERROR, true },
	{ DISCONNECT_SERVER_CLOSED, true },
	{ DISCONNECT_READ_ERROR, true },
	{ DISCONNECT_MSG_TOO_LONG, true },
	{ DISCONNECT_SEND_ERROR, true },
	{ DISCONNECT_CONNECT_FAILED, true },
	{ DISCONNECT_CONNECT_TIMEOUT, true },
	{ DISCONNECT_ECHO_REPLY_NOT_RECEIVED, true },
	{ DISCONNECT_INIT_REPLY_RETRYABLE, true },
	{ DISCONNECT_UNSUPPORTED_MESSAGE, false },
	{ DISCONNECT_SERVER_ERROR, false },
	{ DISCONNECT_INIT_REPLY_ERROR, false },
	{ DISCONNECT_TLS_INCOMPATIBLE, false },
	{ DISCONNECT_SIZES_INCOMPATIBLE, false },
	{ DISCONNECT_REQUIRED_OPTION_MISSING, false },
	{ DISCONNECT_UNEXPECTED_MESSAGE, false },
	{ DISCONNECT_ALGORITHM_UNSUPPORTED, false },
	{ DISCONNECT_OPTION_UNSUPPORTED, false },
	{ DISCONNECT_ECHO_REPLY_WRONG_SEQ, false },
	{ DISCONNECT_LOCAL_ERROR, false },
};

static void
reconnect_policy(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		const char *name = disconnect_reason_name(reasons[i].reason);

		if (disconnect_reason_retry(reasons[i].reason, ALGORITHM_FFSPLIT) !=
		    reasons[i].retry)
			fail_msg("ffsplit, %s: retry should be %d", name, reasons[i].retry);
		if (disconnect_reason_retry(reasons[i].reason, ALGORITHM_2NODELMS) !=
		    reasons[i].retry)
			fail_msg("2nodelms, %s: retry should be %d", name, reasons[i].retry);
		/* lms always tries again. */
		if (!disconnect_reason_retry(reasons[i].reason, ALGORITHM_LMS))
			fail_msg("lms, %s: should retry", name);
		assert_string_not_equal(name, "unknown reason");
	}
}

static void
reconnect_delay(void **state)
{
	(void)state;
	/* A connect that never completed: the connect timer paces, no delay. */
	assert_int_equal(disconnect_reconnect_delay_ms(false, 5000, 12345), 0);
	/* Otherwise below 90 % of the poll interval. */
	assert_int_equal(disconnect_reconnect_delay_ms(true, 5000, 4499), 4499);
	assert_int_equal(disconnect_reconnect_delay_ms(true, 5000, 4500), 0);
	assert_int_equal(disconnect_reconnect_delay_ms(true, 5000, 4501), 1);
	for (unsigned long r = 0; r < 100000; r += 977)
		assert_true(disconnect_reconnect_delay_ms(true, 5000, r) < 4500);
	/* Ours: a refused connect retries within 0.5-1.5 s, spread over the whole span. */
	assert_int_equal(disconnect_refused_retry_ms(0), 500);
	assert_int_equal(disconnect_refused_retry_ms(1000), 1500);
	assert_int_equal(disconnect_refused_retry_ms(1001), 500);
	for (unsigned long r = 0; r < 100000; r += 977) {
		uint32_t ms = disconnect_refused_retry_ms(r);

		assert_true(ms >= 500 && ms <= 1500);
	}
	assert_int_equal(disconnect_reconnect_delay_ms(true, 1, 7), 0);
}


/* ---- the yes guard ---- */

#define RING_CUR	{ 1, 0x20 }
#define RING_OLD	{ 1, 0x1c }
#define H		VOTE_GUARD_HOLD
#define P		VOTE_GUARD_PASS

/* One offer: the timer's vote, a yes already held (for which ring, since when), the vote. */
static const struct {
	const char	*name;
	uint8_t		 timer;
	bool		 held;
	struct ring_id	 held_ring;
	uint8_t		 vote;
	int		 vote_ring;	/* 0: none, 1: current ring, 2: old ring */
	bool		 sync;		/* the current ring's sync is running */
	int		 want;
	bool		 want_held;
	uint64_t	 want_since;	/* when held after */
} offers[] = {
	{ "NACK passes",			U, false, RING_CUR, VOTE_NACK, 1, false, P, false, 0 },
	{ "stop passes",			VOTE_ACK, false, RING_CUR, VOTE_WAIT_FOR_REPLY, 0, false,
	    P, false, 0 },
	{ "no to yes on a settled ring holds",	U, false, RING_CUR, VOTE_ACK, 1, false, H, true, 1000 },
	{ "NACK to ACK holds",			VOTE_NACK, false, RING_CUR, VOTE_ACK, 1, false, H, true,
	    1000 },
	{ "ACK while voting ACK passes",	VOTE_ACK, false, RING_CUR, VOTE_ACK, 1, false, P, false,
	    0 },
	{ "ACK during its ring's sync passes",	U, false, RING_CUR, VOTE_ACK, 1, true, P, false, 0 },
	{ "NACK to ACK during the sync passes",	VOTE_NACK, false, RING_CUR, VOTE_ACK, 1, true, P,
	    false, 0 },
	{ "ACK for the old ring during a sync holds", U, false, RING_CUR, VOTE_ACK, 2, true, H,
	    true, 1000 },
	{ "NACK drops a held yes",		U, true, RING_CUR, VOTE_NACK, 1, false, P, false, 0 },
	{ "wait for reply drops a held yes",	U, true, RING_CUR, VOTE_WAIT_FOR_REPLY, 0, false, P,
	    false, 0 },
	{ "ask later drops a held yes",		VOTE_NACK, true, RING_CUR, VOTE_ASK_LATER, 0, false, P,
	    false, 0 },
	{ "no change keeps a held yes",		U, true, RING_CUR, VOTE_NO_CHANGE, 0, false, P, true,
	    400 },
	{ "repeated ACK keeps the start",	U, true, RING_CUR, VOTE_ACK, 1, false, H, true, 400 },
	{ "ACK for a newer ring starts again",	U, true, RING_OLD, VOTE_ACK, 1, false, H, true,
	    1000 },
	{ "ACK without a ring holds (current)",	U, false, RING_CUR, VOTE_ACK, 0, false, H, true,
	    1000 },
};

static void
guard_offers(void **state)
{
	static const struct ring_id cur = RING_CUR, old = RING_OLD;

	(void)state;
	for (size_t i = 0; i < sizeof(offers) / sizeof(offers[0]); i++) {
		struct vote_timer t = { offers[i].timer, false };
		struct vote_guard g;
		struct vote_ring_state s = { .ring = cur, .sync_in_progress = offers[i].sync,
		    .now_ms = 1000, .token_known = true, .token_rx = 77, .stable_ms = 7600 };
		const struct ring_id *vr = offers[i].vote_ring == 1 ? &cur :
		    offers[i].vote_ring == 2 ? &old : NULL;
		int got;

		vote_guard_init(&g);
		if (offers[i].held)
			g = (struct vote_guard){ true, offers[i].held_ring, 400, 7600, true, 70 };
		got = (int)vote_guard_offer(&g, &t, offers[i].vote, vr, &s);
		if (got != offers[i].want || g.held != offers[i].want_held ||
		    (g.held && g.since_ms != offers[i].want_since))
			fail_msg("%s: verdict %d held %d since %llu, want %d %d %llu",
			    offers[i].name, got, g.held, (unsigned long long)g.since_ms,
			    offers[i].want, offers[i].want_held,
			    (unsigned long long)offers[i].want_since);
		/* The guard never touches the timer itself. */
		assert_int_equal(t.vote, offers[i].timer);
	}
}

/*
 * A yes held since 1000 ms for the current ring, stable period 7600 ms;
 * with start_known the base reading (10) was taken; readings are asked
 * for at now - 20 ms.
 */
static const struct {
	const char	*name;
	bool		 start_known;	/* the counter could be read when the hold began */
	int		 ring;		/* 1: still the held ring, 2: another one */
	uint64_t	 now;
	bool		 token_known;
	uint64_t	 token_rx;
	bool		 want;		/* released */
	bool		 want_held;
} releases[] = {
	{ "token went round twice",		true, 1, 2200, true, 12, true, false },
	{ "token went round more often",	true, 1, 2200, true, 15, true, false },
	{ "one token is not enough",		true, 1, 1600, true, 11, false, true },
	{ "ring cut: counter stuck",		true, 1, 6000, true, 10, false, true },
	{ "counter stuck, period over",		true, 1, 8600, true, 10, true, false },
	{ "counter went back (restart)",	true, 1, 3000, true, 3, false, true },
	{ "no counter, within the period",	false, 1, 8599, false, 0, false, true },
	{ "no counter, period over",		false, 1, 8600, false, 0, true, false },
	{ "counter unreadable now",		true, 1, 3000, false, 0, false, true },
	{ "membership moved on: dropped",	true, 2, 2200, true, 12, false, false },
};

static void
guard_releases(void **state)
{
	static const struct ring_id cur = RING_CUR, other = { 2, 0x24 };

	(void)state;
	for (size_t i = 0; i < sizeof(releases) / sizeof(releases[0]); i++) {
		struct vote_guard g = { true, cur, 1000, 7600, releases[i].start_known, 10 };
		struct vote_ring_state s = { .ring = releases[i].ring == 1 ? cur : other,
		    .now_ms = releases[i].now, .token_known = releases[i].token_known,
		    .token_rx = releases[i].token_rx, .token_read_ms = releases[i].now - 20 };
		bool got = vote_guard_release(&g, &s);

		if (got != releases[i].want || g.held != releases[i].want_held)
			fail_msg("%s: released %d held %d, want %d %d", releases[i].name, got,
			    g.held, releases[i].want, releases[i].want_held);
	}
}

static void
guard_misc(void **state)
{
	struct vote_guard g;
	struct vote_ring_state s = { .ring = RING_CUR, .now_ms = 1000, .token_known = false };
	struct vote_timer t;

	(void)state;
	/* Rule 3's period: token + consensus + margin, clamped. */
	assert_int_equal(vote_guard_stable_ms(3000, 3600), 3000 + 3600 + VOTE_GUARD_MARGIN_MS);
	assert_int_equal(vote_guard_stable_ms(UINT32_MAX, 5), UINT32_MAX);

	/*
	 * The base is the first reading asked for once the hold began: an older
	 * one (taken before the ACK) could count a token that left before it.
	 */
	vote_guard_init(&g);
	assert_false(g.held);
	assert_false(vote_guard_release(&g, &s));
	g = (struct vote_guard){ true, RING_CUR, 1000, 7600, false, 0 };
	s.now_ms = 1010;
	s.token_known = true;
	s.token_rx = 49;
	s.token_read_ms = 990;		/* asked for before the hold: not a base */
	assert_false(vote_guard_release(&g, &s));
	assert_false(g.token_known);
	s.now_ms = 1500;
	s.token_rx = 50;
	s.token_read_ms = 1480;
	assert_false(vote_guard_release(&g, &s));
	assert_true(g.token_known);
	assert_int_equal(g.token_rx, 50);
	s.token_rx = 51;
	assert_false(vote_guard_release(&g, &s));
	s.token_rx = 52;
	assert_true(vote_guard_release(&g, &s));
	assert_false(g.held);

	vote_guard_drop(&g);
	assert_false(g.held);

	vote_timer_init(&t);
	assert_string_equal(vote_cast_name(&t), "none");
	vote_timer_update(&t, VOTE_NACK);
	assert_string_equal(vote_cast_name(&t), "NACK");
	vote_timer_update(&t, VOTE_ACK);
	assert_string_equal(vote_cast_name(&t), "ACK");
}

/*
 * The race of E2E-NOTES.md played on the guard, the way qdevice/votequorum.c
 * drives it: whatever happens, no yes reaches the timer before the ring is
 * proven whole, and a ring cut before the ACK never gets one.
 */
static void
guard_timelines(void **state)
{
	struct ring_id r_old = RING_OLD, r_new = { 2, 0x24 };
	struct vote_ring_state s = { .ring = r_old, .token_known = true, .token_rx = 100,
	    .stable_ms = vote_guard_stable_ms(3000, 3600) };
	struct vote_timer t;
	struct vote_guard g;

	(void)state;
	/* 1. The ring is cut at 0; qdevice reconnects and qnetd ACKs the old ring at 1500. */
	vote_timer_init(&t);
	vote_guard_init(&g);
	s.now_ms = 1500;
	assert_int_equal(vote_guard_offer(&g, &t, VOTE_ACK, &r_old, &s), VOTE_GUARD_HOLD);
	for (s.now_ms = 1600; s.now_ms < 6500; s.now_ms += 100) {
		s.token_read_ms = s.now_ms - 50;
		assert_false(vote_guard_release(&g, &s));	/* no token comes back */
	}
	/* 6.5 s: corosync forms the new membership: the held yes is dropped. */
	vote_guard_drop(&g);
	s.ring = r_new;
	s.sync_in_progress = true;
	assert_int_equal(vote_guard_offer(&g, &t, VOTE_WAIT_FOR_REPLY, NULL, &s), VOTE_GUARD_PASS);
	assert_int_equal(vote_guard_offer(&g, &t, VOTE_NACK, &r_new, &s), VOTE_GUARD_PASS);
	vote_timer_update(&t, VOTE_NACK);
	assert_false(g.held);
	assert_int_equal(t.vote, VOTE_NACK);		/* never voted yes */

	/* 2. Normal start: the ACK comes on a whole ring; two tokens later it is cast. */
	vote_timer_init(&t);
	vote_guard_init(&g);
	s = (struct vote_ring_state){ .ring = r_new, .now_ms = 100, .token_known = true,
	    .token_rx = 5, .token_read_ms = 80, .stable_ms = 7600 };
	assert_int_equal(vote_guard_offer(&g, &t, VOTE_ACK, &r_new, &s), VOTE_GUARD_HOLD);
	s.now_ms = 200;
	s.token_read_ms = 150;
	assert_false(vote_guard_release(&g, &s));	/* base: 5 */
	s.now_ms = 670;
	s.token_rx = 6;
	assert_false(vote_guard_release(&g, &s));
	s.now_ms = 1240;
	s.token_rx = 7;
	assert_true(vote_guard_release(&g, &s));

	/* 3. The winner of a partition: ACK while its new ring synchronises, at once. */
	vote_timer_init(&t);
	vote_timer_update(&t, VOTE_ACK);
	vote_timer_update(&t, VOTE_WAIT_FOR_REPLY);	/* its membership list went out */
	vote_guard_init(&g);
	s.sync_in_progress = true;
	assert_int_equal(vote_guard_offer(&g, &t, VOTE_ACK, &r_new, &s), VOTE_GUARD_PASS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(timer_steps),
		cmocka_unit_test(timer_ticks),
		cmocka_unit_test(ring_check),
		cmocka_unit_test(while_disconnected),
		cmocka_unit_test(disconnect_per_algorithm),
		cmocka_unit_test(reconnect_policy),
		cmocka_unit_test(reconnect_delay),
		cmocka_unit_test(guard_offers),
		cmocka_unit_test(guard_releases),
		cmocka_unit_test(guard_misc),
		cmocka_unit_test(guard_timelines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
