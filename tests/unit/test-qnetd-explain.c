/*
 * tests/unit/test-qnetd-explain.c: the decision log a cluster keeps for
 * qnetd-tool --explain (qnetd/explain.h): the journal is bounded by its
 * size and keeps the newest; a repeated decision is folded into the
 * newest entry; each node's latest and latest ACK/NACK decisions are kept
 * apart; a node that leaves loses its slots; size 0 keeps no journal.
 * What the algorithms put into a record is test-algo-decision.c's; the
 * text and JSON through a real qnetd are tests/qnetd/test-qnetd-explain.sh's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "qnetd/explain.h"

static struct algo_decision
decision(uint8_t rule, uint32_t subject, uint8_t vote, uint32_t size)
{
	struct algo_decision d;

	memset(&d, 0, sizeof(d));
	d.made = true;
	d.algorithm = ALGORITHM_LMS;
	d.rule = rule;
	d.subject = subject;
	d.vote = vote;
	d.partition_count = 1;
	d.partitions_seen = 1;
	d.partitions[0].size = size;
	d.partitions[0].ids_kept = 1;
	d.partitions[0].node_ids[0] = subject;
	return d;
}

/* The journal's k-th newest record. */
static const struct explain_record *
nth_newest(const struct explain_log *log, size_t k)
{
	assert_true(k < log->journal_count);
	return log->journal[(log->journal_next + log->journal_cap - 1 - k) % log->journal_cap];
}

static void
journal_keeps_the_newest(void **state)
{
	struct explain_log log;

	(void)state;
	explain_log_init(&log, 3);
	for (uint32_t i = 1; i <= 5; i++) {
		struct algo_decision d = decision(ALGO_RULE_HIGHEST_SCORE, 1, VOTE_ACK, i);

		assert_int_equal(explain_log_record(&log, ALGO_EV_ASK_FOR_VOTE, 1, &d, i * 10), 0);
	}
	assert_int_equal(log.journal_count, 3);
	assert_int_equal(log.decisions, 5);
	for (size_t k = 0; k < 3; k++) {
		assert_int_equal(nth_newest(&log, k)->partitions[0].size, 5 - k);
		assert_int_equal(nth_newest(&log, k)->repeats, 1);
	}
	assert_int_equal(nth_newest(&log, 0)->at_ns, 50);
	explain_log_fini(&log);
}

static void
repeats_are_folded(void **state)
{
	struct explain_log log;
	struct algo_decision wait = decision(ALGO_RULE_RING_DISAGREEMENT, 2, VOTE_WAIT_FOR_REPLY, 1);
	struct algo_decision ack = decision(ALGO_RULE_ONLY_PARTITION, 2, VOTE_ACK, 1);

	(void)state;
	explain_log_init(&log, 4);
	for (uint64_t at = 1; at <= 3; at++)
		assert_int_equal(explain_log_record(&log, ALGO_EV_TIMER, 2, &wait, at), 0);
	assert_int_equal(log.journal_count, 1);
	assert_int_equal(nth_newest(&log, 0)->repeats, 3);
	assert_int_equal(nth_newest(&log, 0)->at_ns, 3);
	/* Another event, or another outcome, is a new entry. */
	assert_int_equal(explain_log_record(&log, ALGO_EV_ASK_FOR_VOTE, 2, &wait, 4), 0);
	assert_int_equal(explain_log_record(&log, ALGO_EV_ASK_FOR_VOTE, 2, &ack, 5), 0);
	assert_int_equal(log.journal_count, 3);
	assert_int_equal(log.decisions, 5);
	explain_log_fini(&log);
}

static void
node_slots_keep_latest_and_decided(void **state)
{
	struct explain_log log;
	struct algo_decision nack = decision(ALGO_RULE_TIE_BREAKER, 3, VOTE_NACK, 1);
	struct algo_decision wait = decision(ALGO_RULE_RING_DISAGREEMENT, 3, VOTE_WAIT_FOR_REPLY, 1);
	struct algo_decision other = decision(ALGO_RULE_TIE_BREAKER, 1, VOTE_ACK, 1);
	struct algo_decision round = decision(ALGO_RULE_MAJORITY, 0, VOTE_NO_CHANGE, 3);
	struct algo_decision unstable = decision(ALGO_RULE_WAITING_FOR_STABLE_MEMBERSHIP, 0,
	    VOTE_WAIT_FOR_REPLY, 0);

	(void)state;
	explain_log_init(&log, 0);	/* slots do not need the journal */
	assert_int_equal(explain_log_record(&log, ALGO_EV_ASK_FOR_VOTE, 3, &nack, 1), 0);
	assert_int_equal(explain_log_record(&log, ALGO_EV_MEMBERSHIP_LIST, 3, &wait, 2), 0);
	assert_int_equal(explain_log_record(&log, ALGO_EV_ASK_FOR_VOTE, 1, &other, 3), 0);
	assert_null(log.journal);
	assert_int_equal(log.journal_count, 0);
	assert_int_equal(log.node_count, 2);
	assert_int_equal(log.nodes[0].node_id, 1);
	assert_int_equal(log.nodes[1].node_id, 3);
	assert_int_equal(log.nodes[1].latest->rule, ALGO_RULE_RING_DISAGREEMENT);
	assert_int_equal(log.nodes[1].decided->rule, ALGO_RULE_TIE_BREAKER);
	assert_int_equal(log.nodes[1].decided->vote, VOTE_NACK);

	assert_int_equal(explain_log_record(&log, ALGO_EV_MEMBERSHIP_LIST, 4, &round, 4), 0);
	assert_int_equal(explain_log_record(&log, ALGO_EV_MEMBERSHIP_LIST, 4, &unstable, 5), 0);
	assert_int_equal(log.round->rule, ALGO_RULE_WAITING_FOR_STABLE_MEMBERSHIP);
	assert_int_equal(log.round_decided->rule, ALGO_RULE_MAJORITY);
	assert_int_equal(log.node_count, 2);	/* a round is no node's */

	explain_log_forget(&log, 3);
	explain_log_forget(&log, 9);	/* never had a slot */
	assert_int_equal(log.node_count, 1);
	assert_int_equal(log.nodes[0].node_id, 1);
	explain_log_fini(&log);
}

/* A node that left and came back gets its slot again, even for a folded decision. */
static void
rejoined_node_gets_its_slot(void **state)
{
	struct explain_log log;
	struct algo_decision ack = decision(ALGO_RULE_ONLY_CLIENT, 5, VOTE_ACK, 1);

	(void)state;
	explain_log_init(&log, 2);
	assert_int_equal(explain_log_record(&log, ALGO_EV_MEMBERSHIP_LIST, 5, &ack, 1), 0);
	explain_log_forget(&log, 5);
	assert_int_equal(explain_log_record(&log, ALGO_EV_MEMBERSHIP_LIST, 5, &ack, 2), 0);
	assert_int_equal(log.journal_count, 1);
	assert_int_equal(nth_newest(&log, 0)->repeats, 2);
	assert_int_equal(log.node_count, 1);
	assert_ptr_equal(log.nodes[0].latest, nth_newest(&log, 0));
	explain_log_fini(&log);
}

static void
no_record_no_entry(void **state)
{
	struct explain_log log;
	struct algo_decision none;

	(void)state;
	memset(&none, 0, sizeof(none));
	explain_log_init(&log, 2);
	assert_int_equal(explain_log_record(&log, ALGO_EV_VOTE_INFO_REPLY, 1, &none, 1), 0);
	assert_int_equal(log.decisions, 0);
	assert_int_equal(log.journal_count, 0);
	assert_int_equal(log.node_count, 0);
	explain_log_fini(&log);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(journal_keeps_the_newest),
		cmocka_unit_test(repeats_are_folded),
		cmocka_unit_test(node_slots_keep_latest_and_decided),
		cmocka_unit_test(rejoined_node_gets_its_slot),
		cmocka_unit_test(no_record_no_entry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
