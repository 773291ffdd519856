/*
 * tests/unit/test-algo-decision.c: the decision record every algorithm
 * fills for qnetd-tool --explain (algorithm.h, struct algo_decision). Each
 * case builds a small cluster view, runs one event with a record wanted
 * and checks the rule, subject, vote and partitions; and runs the same
 * event on an identical view without a record, which must give the very
 * same plan: a record never changes a vote. The votes themselves are
 * tested in test-algo-ffsplit.c, test-algo-lms.c and test-algorithms.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "qnetd/algorithms/algorithm.h"
#include "tests/unit/algo-view.h"

#define MAXN	8

struct node_row {
	uint32_t	id;		/* 0 ends the rows */
	uint32_t	cfg[MAXN];	/* 0-terminated */
	uint32_t	mem[MAXN];
	struct ring_id	ring;
	uint8_t		heur;
	bool		kap;
	uint8_t		last;		/* last_result (lms, 2nodelms) */
};

static void
fill(struct node_list *l, const uint32_t *ids)
{
	algo_view_fill(l, ids, MAXN);
}

static void
world_init(struct algo_view *w, uint8_t algo, struct tie_breaker tb, const uint32_t *prev,
    const struct node_row *rows)
{
	algo_view_init(w);
	if (prev != NULL)
		fill(&w->cluster.quorate_partition, prev);
	for (size_t i = 0; i < MAXN && rows[i].id != 0; i++) {
		struct algo_client *c = algo_view_add(w, rows[i].id, algo, tb);

		c->kap_enabled = rows[i].kap;
		c->heartbeat_interval_ms = 1000;
		fill(&c->config, rows[i].cfg);
		c->config_set = c->config.count > 0;
		fill(&c->membership, rows[i].mem);
		c->membership_set = c->membership.count > 0;
		c->ring_id = rows[i].ring;
		c->last_heuristics = rows[i].heur;
		c->last_result = rows[i].last;
	}
}

struct event_row {
	enum algo_event_type	type;
	uint32_t		node;
	uint8_t			list_type;
	uint32_t		nodes[MAXN];
	struct ring_id		ring;
	uint8_t			heur;
};

/*
 * Run ev on two identical views, with and without a record; the plans
 * must agree. *d gets the record.
 */
static void
decide(uint8_t algo, struct tie_breaker tb, const uint32_t *prev, const struct node_row *rows,
    const struct event_row *er, struct algo_decision *d)
{
	struct algo_plan plan[2];
	struct algo_push pushes[2][MAXN];
	struct algo_view w[2];
	struct node_list nodes;

	node_list_init(&nodes);
	fill(&nodes, er->nodes);
	for (int k = 0; k < 2; k++) {
		struct algo_event ev = {
			.type = er->type,
			.list_type = er->list_type,
			.heuristics = er->heur,
			.nodes = &nodes,
			.ring_id = &er->ring,
		};

		world_init(&w[k], algo, tb, prev, rows);
		for (size_t i = 0; i < w[k].cluster.count; i++)
			if (w[k].ptrs[i]->node_id == er->node)
				ev.client = w[k].ptrs[i];
		assert_non_null(ev.client);
		memset(&plan[k], 0, sizeof(plan[k]));
		plan[k].pushes = pushes[k];
		plan[k].push_cap = MAXN;
		plan[k].decision = k == 0 ? d : NULL;
		assert_int_equal(algorithm_get(algo)->decide(&w[k].cluster, &ev, &plan[k]), 0);
	}
	assert_int_equal(plan[0].vote, plan[1].vote);
	assert_int_equal(plan[0].error, plan[1].error);
	assert_int_equal(plan[0].timer, plan[1].timer);
	assert_int_equal(plan[0].push_count, plan[1].push_count);
	for (size_t i = 0; i < plan[0].push_count; i++) {
		assert_int_equal(pushes[0][i].client->node_id, pushes[1][i].client->node_id);
		assert_int_equal(pushes[0][i].vote, pushes[1][i].vote);
	}
	assert_true(node_list_ids_equal(&w[0].cluster.quorate_partition,
	    &w[1].cluster.quorate_partition));
	for (int k = 0; k < 2; k++)
		algo_view_fini(&w[k]);
	node_list_fini(&nodes);
	assert_true(d->made);
	assert_int_equal(d->algorithm, algo);
}

/* Partition i holds exactly ids (0-terminated), has size n, score, won. */
static void
check_partition(const struct algo_decision *d, size_t i, const uint32_t *ids, uint32_t size,
    int64_t score, bool won)
{
	const struct algo_decision_partition *p;
	uint32_t n = 0;

	assert_true(i < d->partition_count);
	p = &d->partitions[i];
	while (n < MAXN && ids[n] != 0)
		n++;
	assert_int_equal(p->ids_kept, n);
	for (uint32_t k = 0; k < n; k++)
		assert_int_equal(p->node_ids[k], ids[k]);
	assert_int_equal(p->size, size);
	assert_true(p->score_known);
	assert_int_equal(p->score, score);
	assert_int_equal(p->won, won);
}

#define RING(n, s)	{ .node_id = (n), .seq = (s) }
#define LOWEST		((struct tie_breaker){ TIE_BREAKER_LOWEST, 0 })
#define HIGHEST		((struct tie_breaker){ TIE_BREAKER_HIGHEST, 0 })
#define IDS(...)	((const uint32_t[MAXN]){ __VA_ARGS__ })
#define CFG4		{ 1, 2, 3, 4 }
#define PASS		HEURISTICS_PASS
#define FAIL		HEURISTICS_FAIL

/* decide() with tie-breaker lowest and no previous partition: rule and vote as given. */
static void
decide_rule(uint8_t algo, const struct node_row *rows, const struct event_row *er, uint8_t rule,
    uint8_t vote, struct algo_decision *d)
{
	decide(algo, LOWEST, NULL, rows, er, d);
	assert_int_equal(d->rule, rule);
	assert_int_equal(d->vote, vote);
}

/* ---- ffsplit ---- */

/*
 * Node 4's membership list completes a 2|2 split of four configured nodes
 * {1 2} | {3 4}; with node 4 down, node 3's heuristics change decides it.
 */
static const struct ffsplit_split_row {
	const char		*name;
	struct tie_breaker	 tb;
	const uint32_t		*prev;		/* previous quorate partition, or NULL */
	uint8_t			 h3;		/* node 3's heuristics */
	bool			 kap;
	bool			 node4_up;
	uint8_t			 rule;
	int64_t			 score12, score34;
	size_t			 winner;	/* 0: {1 2}, 1: {3 4} */
	uint32_t		 tie_breaker_node;	/* checked when the tie-breaker decides */
} ffsplit_splits[] = {
	{ "tie-breaker lowest", LOWEST, NULL, HEURISTICS_UNDEFINED, false, true,
	    ALGO_RULE_TIE_BREAKER, 2, 2, 0, 1 },
	{ "tie-breaker highest", HIGHEST, NULL, HEURISTICS_UNDEFINED, false, true,
	    ALGO_RULE_TIE_BREAKER, 2, 2, 1, 4 },
	{ "heuristics score", LOWEST, NULL, PASS, false, true,
	    ALGO_RULE_HEURISTICS_SCORE, 2, 3, 1, 0 },
	{ "keep active partition", LOWEST, IDS(3, 4), HEURISTICS_UNDEFINED, true, true,
	    ALGO_RULE_KEEP_ACTIVE_PARTITION, 2, 2, 1, 0 },
	/* Node 4 is not connected: {3 4} has one active client and a PASS: score 2 as {1 2}. */
	{ "active clients", HIGHEST, NULL, PASS, false, false,
	    ALGO_RULE_ACTIVE_CLIENTS, 2, 2, 0, 0 },
};

static void
ffsplit_split_rules(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(ffsplit_splits) / sizeof(ffsplit_splits[0]); i++) {
		const struct ffsplit_split_row *s = &ffsplit_splits[i];
		const struct node_row rows[] = {
			{ 1, CFG4, { 1, 2 }, RING(1, 8), HEURISTICS_UNDEFINED, s->kap, 0 },
			{ 2, CFG4, { 1, 2 }, RING(1, 8), HEURISTICS_UNDEFINED, s->kap, 0 },
			{ 3, CFG4, { 3, 4 }, RING(3, 8), s->h3, s->kap, 0 },
			{ s->node4_up ? 4 : 0, CFG4, { 0 }, RING(4, 1), HEURISTICS_UNDEFINED,
			    s->kap, 0 },
			{ 0 },
		};
		const struct event_row third = { ALGO_EV_HEURISTICS_CHANGE, 3, 0, { 0 },
		    RING(0, 0), s->h3 };
		const struct event_row fourth = { ALGO_EV_MEMBERSHIP_LIST, 4, NODE_LIST_MEMBERSHIP,
		    { 3, 4 }, RING(3, 8), HEURISTICS_UNDEFINED };
		struct algo_decision d;

		print_message("%s\n", s->name);
		decide(ALGORITHM_FFSPLIT, s->tb, s->prev, rows, s->node4_up ? &fourth : &third, &d);
		assert_int_equal(d.rule, s->rule);
		check_partition(&d, 0, IDS(1, 2), 2, s->score12, s->winner == 0);
		check_partition(&d, 1, IDS(3, 4), 2, s->score34, s->winner == 1);
		assert_int_equal(d.subject, 0);
		assert_int_equal(d.config_size, 4);
		assert_int_equal(d.partition_count, 2);
		assert_int_equal(d.partitions_seen, 2);
		assert_int_equal(d.partitions[1].representative, 3);
		assert_int_equal(d.partitions[1].ring_id.node_id, 3);
		assert_int_equal(d.partitions[1].heuristics, s->h3);
		assert_int_equal(d.partitions[1].active, s->node4_up ? 2 : 1);
		if (s->rule == ALGO_RULE_TIE_BREAKER) {
			assert_int_equal(d.tie_breaker_mode, s->tb.mode);
			assert_int_equal(d.tie_breaker_node, s->tie_breaker_node);
		}
	}
}

static void
ffsplit_majority_and_none(void **state)
{
	const struct node_row three_one[] = {
		{ 1, CFG4, { 1, 2, 3 }, RING(1, 9), 0, false, 0 },
		{ 2, CFG4, { 1, 2, 3 }, RING(1, 9), 0, false, 0 },
		{ 3, CFG4, { 0 }, RING(3, 1), 0, false, 0 },
		{ 4, CFG4, { 4 }, RING(4, 9), 0, false, 0 },
		{ 0 },
	};
	const struct node_row odd[] = {
		{ 1, { 1, 2, 3, 4, 5 }, { 1, 2 }, RING(1, 9), 0, false, 0 },
		{ 3, { 1, 2, 3, 4, 5 }, { 3, 4 }, RING(3, 9), 0, false, 0 },
		{ 0 },
	};
	const struct event_row ev3 = { ALGO_EV_MEMBERSHIP_LIST, 3, NODE_LIST_MEMBERSHIP,
	    { 1, 2, 3 }, RING(1, 9), 0 };
	const struct event_row ev1 = { ALGO_EV_HEURISTICS_CHANGE, 1, 0, { 0 }, RING(0, 0), 0 };
	struct algo_decision d;

	(void)state;
	decide(ALGORITHM_FFSPLIT, LOWEST, NULL, three_one, &ev3, &d);
	assert_int_equal(d.rule, ALGO_RULE_MAJORITY);
	check_partition(&d, 0, IDS(1, 2, 3), 3, 3, true);
	check_partition(&d, 1, IDS(4), 1, 1, false);

	decide(ALGORITHM_FFSPLIT, LOWEST, NULL, odd, &ev1, &d);
	assert_int_equal(d.rule, ALGO_RULE_NO_QUORATE_PARTITION);
	assert_int_equal(d.config_size, 5);
	assert_int_equal(d.partition_count, 2);
	assert_false(d.partitions[0].won || d.partitions[1].won);
}

static void
ffsplit_waiting_and_no_lists(void **state)
{
	const struct node_row rows[] = {
		{ 1, CFG4, { 1, 2 }, RING(1, 8), 0, false, 0 },
		{ 2, CFG4, { 1, 2 }, RING(2, 8), 0, false, 0 },	/* another ring */
		{ 3, { 0 }, { 0 }, RING(3, 1), 0, false, 0 },
		{ 0 },
	};
	const struct event_row hc = { ALGO_EV_HEURISTICS_CHANGE, 1, 0, { 0 }, RING(0, 0), PASS };
	const struct event_row cfg = { ALGO_EV_CONFIG_LIST, 3, NODE_LIST_INITIAL_CONFIG,
	    CFG4, RING(0, 0), 0 };
	struct algo_decision d;

	(void)state;
	decide_rule(ALGORITHM_FFSPLIT, rows, &hc, ALGO_RULE_WAITING_FOR_STABLE_MEMBERSHIP,
	    VOTE_WAIT_FOR_REPLY, &d);
	assert_int_equal(d.subject, 0);
	assert_int_equal(d.partition_count, 0);

	decide_rule(ALGORITHM_FFSPLIT, rows, &cfg, ALGO_RULE_NO_LISTS_YET, VOTE_ASK_LATER, &d);
	assert_int_equal(d.subject, 3);
}

/* ---- lms ---- */

static void
lms_rules(void **state)
{
	const struct node_row scored[] = {
		{ 1, CFG4, { 1, 2 }, RING(1, 8), 0, false, VOTE_ACK },
		{ 2, CFG4, { 1, 2 }, RING(1, 8), 0, false, VOTE_ACK },
		{ 3, CFG4, { 3 }, RING(3, 8), 0, false, VOTE_NACK },
		{ 0 },
	};
	/* Scores tie (1 + 0 - 1 + 1 = 1 against 1), sizes do not. */
	const struct node_row sized[] = {
		{ 1, CFG4, { 1, 2 }, RING(1, 8), FAIL, false, VOTE_NACK },
		{ 2, CFG4, { 1, 2 }, RING(1, 8), 0, false, VOTE_NACK },
		{ 3, CFG4, { 3 }, RING(3, 8), 0, false, VOTE_NACK },
		{ 0 },
	};
	const struct node_row tied[] = {
		{ 1, CFG4, { 1 }, RING(1, 8), 0, false, VOTE_NACK },
		{ 2, CFG4, { 2 }, RING(2, 8), 0, false, VOTE_NACK },
		{ 0 },
	};
	const struct event_row ask3 = { ALGO_EV_ASK_FOR_VOTE, 3, 0, { 0 }, RING(0, 0), 0 };
	const struct event_row ask1 = { ALGO_EV_ASK_FOR_VOTE, 1, 0, { 0 }, RING(0, 0), 0 };
	const struct event_row ask2 = { ALGO_EV_ASK_FOR_VOTE, 2, 0, { 0 }, RING(0, 0), 0 };
	const struct event_row moved = { ALGO_EV_MEMBERSHIP_LIST, 1, NODE_LIST_MEMBERSHIP,
	    { 1, 2 }, RING(1, 9), 0 };
	struct algo_decision d;

	(void)state;
	decide_rule(ALGORITHM_LMS, scored, &ask3, ALGO_RULE_HIGHEST_SCORE, VOTE_NACK, &d);
	assert_int_equal(d.subject, 3);
	check_partition(&d, 0, IDS(1, 2), 2, 2, true);
	check_partition(&d, 1, IDS(3), 1, 1, false);

	decide_rule(ALGORITHM_LMS, sized, &ask1, ALGO_RULE_LARGEST_PARTITION, VOTE_ACK, &d);
	check_partition(&d, 0, IDS(1, 2), 2, 1, true);
	check_partition(&d, 1, IDS(3), 1, 1, false);

	decide_rule(ALGORITHM_LMS, tied, &ask2, ALGO_RULE_TIE_BREAKER, VOTE_NACK, &d);
	assert_int_equal(d.tie_breaker_mode, TIE_BREAKER_LOWEST);
	assert_int_equal(d.tie_breaker_node, 1);
	check_partition(&d, 0, IDS(1), 1, 1, true);
	check_partition(&d, 1, IDS(2), 1, 1, false);

	/* Node 2, in node 1's membership, still reports the old ring. */
	decide_rule(ALGORITHM_LMS, scored, &moved, ALGO_RULE_RING_DISAGREEMENT,
	    VOTE_WAIT_FOR_REPLY, &d);
}

/* ---- 2nodelms and test ---- */

static void
twonodelms_rules(void **state)
{
	const struct node_row rows[] = {
		{ 1, { 1, 2 }, { 1 }, RING(1, 8), 0, false, VOTE_NACK },
		{ 2, { 1, 2 }, { 2 }, RING(2, 8), 0, false, VOTE_NACK },
		{ 0 },
	};
	const struct event_row both = { ALGO_EV_MEMBERSHIP_LIST, 1, NODE_LIST_MEMBERSHIP,
	    { 1, 2 }, RING(1, 9), 0 };
	const struct event_row heur = { ALGO_EV_MEMBERSHIP_LIST, 2, NODE_LIST_MEMBERSHIP,
	    { 2 }, RING(2, 9), PASS };
	const struct event_row tie = { ALGO_EV_MEMBERSHIP_LIST, 2, NODE_LIST_MEMBERSHIP,
	    { 2 }, RING(2, 9), 0 };
	const struct event_row ask = { ALGO_EV_ASK_FOR_VOTE, 2, 0, { 0 }, RING(0, 0), 0 };
	struct algo_decision d;

	(void)state;
	decide_rule(ALGORITHM_2NODELMS, rows, &both, ALGO_RULE_BOTH_NODES_MEMBERS, VOTE_ACK, &d);
	assert_int_equal(d.partition_count, 1);
	check_partition(&d, 0, IDS(1, 2), 2, 1, true);

	decide_rule(ALGORITHM_2NODELMS, rows, &heur, ALGO_RULE_HEURISTICS_SCORE, VOTE_ACK, &d);
	check_partition(&d, 0, IDS(1), 1, 1, false);
	check_partition(&d, 1, IDS(2), 1, 2, true);

	decide_rule(ALGORITHM_2NODELMS, rows, &tie, ALGO_RULE_TIE_BREAKER, VOTE_NACK, &d);
	assert_int_equal(d.subject, 2);
	assert_int_equal(d.tie_breaker_node, 1);

	decide_rule(ALGORITHM_2NODELMS, rows, &ask, ALGO_RULE_REPEAT_LAST, VOTE_NACK, &d);
}

static void
test_algorithm_rule(void **state)
{
	const struct node_row rows[] = { { 1, { 1 }, { 1 }, RING(1, 8), 0, false, 0 }, { 0 } };
	const struct event_row ask = { ALGO_EV_ASK_FOR_VOTE, 1, 0, { 0 }, RING(0, 0), 0 };
	struct algo_decision d;

	(void)state;
	decide_rule(ALGORITHM_TEST, rows, &ask, ALGO_RULE_TEST_ALWAYS_ACK, VOTE_ACK, &d);
	assert_int_equal(d.subject, 1);
	assert_string_equal(algo_rule_name(d.rule), "test_always_ack");
}

/* More partitions than a record keeps: the first ones kept, all counted. */
static void
ffsplit_record_bounded(void **state)
{
	struct node_row rows[MAXN + 1];
	const struct event_row ev = { ALGO_EV_HEURISTICS_CHANGE, 1, 0, { 0 }, RING(0, 0), 0 };
	struct algo_decision d;

	(void)state;
	memset(rows, 0, sizeof(rows));
	for (uint32_t i = 0; i < MAXN; i++) {
		rows[i].id = i + 1;
		for (uint32_t k = 0; k < MAXN; k++)
			rows[i].cfg[k] = k + 1;
		rows[i].mem[0] = i + 1;
		rows[i].ring = (struct ring_id){ i + 1, 8 };
	}
	assert_true(MAXN >= ALGO_DECISION_MAX_PARTITIONS);
	decide(ALGORITHM_FFSPLIT, LOWEST, NULL, rows, &ev, &d);
	assert_int_equal(d.rule, ALGO_RULE_NO_QUORATE_PARTITION);
	assert_int_equal(d.partitions_seen, MAXN);
	assert_int_equal(d.partition_count, ALGO_DECISION_MAX_PARTITIONS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ffsplit_split_rules),
		cmocka_unit_test(ffsplit_majority_and_none),
		cmocka_unit_test(ffsplit_waiting_and_no_lists),
		cmocka_unit_test(ffsplit_record_bounded),
		cmocka_unit_test(lms_rules),
		cmocka_unit_test(twonodelms_rules),
		cmocka_unit_test(test_algorithm_rule),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
