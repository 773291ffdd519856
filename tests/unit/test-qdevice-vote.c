/*
 * tests/unit/test-qdevice-vote.c: the cast-vote timer state machine and
 * the per-algorithm disconnect behaviour (PROTOCOL.md 2.7-2.10), plus the
 * reconnect policy of qdevice/disconnect.c.
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
	assert_int_equal(disconnect_reconnect_delay_ms(true, 1, 7), 0);
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
