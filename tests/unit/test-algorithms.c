/*
 * tests/unit/test-algorithms.c: what all decision algorithms share
 * (docs/protocol.md 3): the registry, the push cap of a plan, the calls
 * every algorithm rejects, and the table of the test algorithm. The other
 * algorithms' tables are test-algo-ffsplit.c and test-algo-lms.c; the
 * harness is algo-scenario.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <cmocka.h>

#include "qnetd/algorithms/algorithm.h"
#include "tests/unit/algo-scenario.h"

/* ---- test (docs/protocol.md 3.1) ------------------------------------------- */

static const struct scenario test_rows[] = {
	{ "test: fixed answers, never a push", LOWEST, 0, { 0 }, {
		{ .id = 1, .ring = RING(1, 4) },
		{ .id = 2, .ring = RING(1, 4) },
	}, {
		{ CONFIG(1, INITIAL, 1, 2), .vote = VOTE_NO_CHANGE },
		{ MEMB(1, RING(1, 8), NONE, 1), .vote = ACK },
		{ QUORUM(1), .vote = VOTE_NO_CHANGE },
		{ HEUR(1, FAIL), .vote = VOTE_NO_CHANGE },
		{ ASK(2), .vote = ACK },
		{ VIR(2, 1) },
		{ GONE(2) },
	} },
};

/* ---- test functions --------------------------------------------------- */

static void
test_algorithm_rows(void **state)
{
	(void)state;
	RUN_ALL(test_rows, NULL, &algorithm_test);
}

static void
registry(void **state)
{
	static const struct {
		uint8_t		 id;
		const struct algorithm *want;
	} rows[] = {
		{ ALGORITHM_TEST, &algorithm_test },
		{ ALGORITHM_FFSPLIT, &algorithm_ffsplit },
		{ ALGORITHM_2NODELMS, &algorithm_2nodelms },
		{ ALGORITHM_LMS, &algorithm_lms },
		{ 4, NULL },
		{ 255, NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct algorithm *got = algorithm_get(rows[i].id);

		if (got != rows[i].want || (got != NULL && got->id != rows[i].id))
			fail_msg("algorithm_get(%u): wrong entry", rows[i].id);
	}
}

static void
plan_push_respects_cap(void **state)
{
	struct algo_push pushes[2];
	struct algo_plan plan = { .pushes = pushes, .push_cap = 2 };
	struct algo_client c;
	struct ring_id ring = RING(1, 8);

	(void)state;
	algo_client_init(&c);
	assert_int_equal(algo_plan_push(&plan, &c, ACK, &ring, 1), 0);
	assert_int_equal(algo_plan_push(&plan, &c, NACK, &ring, 2), 0);
	assert_int_equal(algo_plan_push(&plan, &c, ACK, &ring, 3), -ENOMEM);
	assert_int_equal(plan.push_count, 2);
	assert_int_equal(pushes[1].vote, NACK);
	assert_int_equal(pushes[1].seq, 2);
	assert_true(ring_id_equal(&pushes[1].ring_id, &ring));
	algo_client_fini(&c);
}

/* A client missing from the view, or an unknown event, is a server bug. */
static void
bad_calls_rejected(void **state)
{
	static const struct algorithm *const rows[] = {
		&algorithm_ffsplit, &algorithm_2nodelms, &algorithm_lms,
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct algo_client in, out;
		struct algo_client *view[1] = { &in };
		struct algo_cluster cl;
		struct algo_push pushes[1];
		struct algo_plan plan = { .pushes = pushes, .push_cap = 1 };
		struct algo_event ev = { .type = ALGO_EV_QUORUM_LIST };
		struct node_list empty;
		int rc;

		algo_client_init(&in);
		algo_client_init(&out);
		in.node_id = 1;
		out.node_id = 2;
		algo_cluster_init(&cl);
		cl.clients = view;
		cl.count = 1;
		node_list_init(&empty);
		ev.nodes = &empty;

		ev.client = &out;
		if ((rc = rows[i]->decide(&cl, &ev, &plan)) != -EINVAL)
			fail_msg("%s: foreign client gave %d, want -EINVAL",
			    rows[i]->name, rc);
		ev.client = &in;
		ev.type = (enum algo_event_type)99;
		if ((rc = rows[i]->decide(&cl, &ev, &plan)) != -EINVAL)
			fail_msg("%s: unknown event gave %d, want -EINVAL",
			    rows[i]->name, rc);
		algo_cluster_fini(&cl);
		algo_client_fini(&in);
		algo_client_fini(&out);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(registry),
		cmocka_unit_test(plan_push_respects_cap),
		cmocka_unit_test(bad_calls_rejected),
		cmocka_unit_test(test_algorithm_rows),
	};

	return cmocka_run_group_tests_name("algorithms", tests, NULL, NULL);
}
