/*
 * tests/unit/test-plan.c: the failure planner's core (qdevice/plan.h) on
 * hand-built cluster views. Every expected value is worked out here from
 * the documented rules (votequorum(5); docs/protocol.md 2.8-2.10 for what
 * qdevice does, 3.2-3.4 for the algorithms), in the comment beside it,
 * never taken from the planner's output.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "../../qdevice/corosync-config.h"
#include "../../qdevice/plan.h"

/* ---- building views ---- */

static char *
dup(const char *s)
{
	char *d = strdup(s);

	assert_non_null(d);
	return d;
}

/* n nodes with ids 1..n, 1 vote each, names n<id>, an address on `links` links. */
static void
view(struct plan_cluster *c, size_t n, int links)
{
	char buf[64];

	memset(c, 0, sizeof(*c));
	c->nodes = calloc(n ? n : 1, sizeof(*c->nodes));
	assert_non_null(c->nodes);
	c->node_count = n;
	c->link_count = (size_t)links;
	for (size_t i = 0; i < n; i++) {
		c->nodes[i].id = (uint32_t)i + 1;
		c->nodes[i].votes = 1;
		snprintf(buf, sizeof(buf), "n%zu", i + 1);
		c->nodes[i].name = dup(buf);
		for (int l = 0; l < links; l++) {
			snprintf(buf, sizeof(buf), "198.18.%d.%zu", l, i + 1);
			c->nodes[i].addrs[l] = dup(buf);
		}
	}
}

static void
device(struct plan_cluster *c, uint8_t algorithm, uint32_t votes, uint8_t tb_mode,
    uint32_t tb_node)
{
	c->has_device = true;
	c->algorithm = algorithm;
	c->device_votes = votes;
	c->tie_breaker.mode = tb_mode;
	c->tie_breaker.node_id = tb_node;
	c->kap_tie_breaker = true;	/* the upstream client's default */
}

/* The bit set of node ids (ids 1..n sit at bits 0..n-1), 0-terminated. */
static uint64_t
ids(uint32_t first, ...)
{
	uint64_t m = 0;
	va_list ap;

	va_start(ap, first);
	for (uint32_t id = first; id != 0; id = va_arg(ap, uint32_t))
		m |= 1ULL << (id - 1);
	va_end(ap);
	return m;
}

static const struct plan_row *
row(const struct plan_matrix *m, const char *scenario)
{
	for (size_t i = 0; i < m->count; i++)
		if (strcmp(m->rows[i].scenario, scenario) == 0)
			return &m->rows[i];
	fail_msg("no row \"%s\"", scenario);
	return NULL;
}

static void
expect_row(const struct plan_matrix *m, const char *scenario, uint64_t quorate,
    enum plan_verdict verdict)
{
	const struct plan_row *r = row(m, scenario);

	if (r->quorate != quorate || r->verdict != verdict || r->race)
		fail_msg("%s: quorate %#llx %s%s, want %#llx %s", scenario,
		    (unsigned long long)r->quorate, plan_verdict_name(r->verdict),
		    r->race ? " (race)" : "", (unsigned long long)quorate,
		    plan_verdict_name(verdict));
}

/* A scenario's row: who is quorate after it, and the verdict. */
struct row_want {
	const char		*scenario;
	uint64_t		 quorate;
	enum plan_verdict	 verdict;
};

static void
expect_rows(const struct plan_matrix *m, const struct row_want *want, size_t n)
{
	for (size_t i = 0; i < n; i++)
		expect_row(m, want[i].scenario, want[i].quorate, want[i].verdict);
}

#define EXPECT_ROWS(m, want)	expect_rows((m), (want), sizeof(want) / sizeof((want)[0]))

static void
build(const struct plan_cluster *c, struct plan_matrix *m)
{
	char err[256] = "";
	int rc = plan_matrix_build(c, m, err, sizeof(err));

	if (rc != 0)
		fail_msg("plan_matrix_build: %d %s", rc, err);
}

/* view() with a device(), and its matrix built. */
static void
device_matrix(struct plan_cluster *c, struct plan_matrix *m, size_t n, int links,
    uint8_t algorithm, uint32_t votes, uint8_t tb_mode, uint32_t tb_node)
{
	view(c, n, links);
	device(c, algorithm, votes, tb_mode, tb_node);
	build(c, m);
}

static void
matrix_done(struct plan_cluster *c, struct plan_matrix *m)
{
	plan_matrix_fini(m);
	plan_cluster_fini(c);
}

/* ---- quorum arithmetic, 1-5 nodes ---- */

enum flag { F_NONE, F_TWO_NODE, F_WFA, F_LMS, F_ATB_LOW, F_ATB_HIGH, F_ATB_LIST, F_ATB_LOW_WFA };

struct arith_row {
	size_t		n;
	enum flag	flag;
	int		alg;		/* -1: no device */
	uint32_t	dev_votes;	/* configured, 0: unset */
	uint32_t	cfg_expected;
	int		rc;
	uint32_t	dv, expected, quorum, with, without;
	bool		operative, surv_arbiter;
	uint32_t	atb_node;
};

/*
 * Without a device: expected = n, quorum = n/2+1, and n - quorum nodes may
 * fail at once. two_node (2 nodes): quorum 1. wait_for_all and
 * last_man_standing change nothing for a sudden failure. ATB: exactly
 * half the votes with the ATB node stays quorate, but the worst case
 * loses the ATB node; on an odd count ATB needs wait_for_all, else it is
 * off. With a device: its votes default to n-1; expected = n + votes.
 */
static const struct arith_row arith[] = {
	/* no device, no flags */
	{ 1, F_NONE, -1, 0, 0, 0, 0, 1, 1, 0, 0, false, true, 0 },
	{ 2, F_NONE, -1, 0, 0, 0, 0, 2, 2, 0, 0, false, true, 0 },
	{ 3, F_NONE, -1, 0, 0, 0, 0, 3, 2, 1, 1, false, true, 0 },
	{ 4, F_NONE, -1, 0, 0, 0, 0, 4, 3, 1, 1, false, true, 0 },
	{ 5, F_NONE, -1, 0, 0, 0, 0, 5, 3, 2, 2, false, true, 0 },
	/* two_node: only for two nodes; quorum 1 keeps the survivor */
	{ 1, F_TWO_NODE, -1, 0, 0, 0, 0, 1, 1, 0, 0, false, true, 0 },
	{ 2, F_TWO_NODE, -1, 0, 0, 0, 0, 2, 1, 1, 1, false, true, 0 },
	{ 3, F_TWO_NODE, -1, 0, 0, 0, 0, 3, 2, 1, 1, false, true, 0 },
	{ 4, F_TWO_NODE, -1, 0, 0, 0, 0, 4, 3, 1, 1, false, true, 0 },
	{ 5, F_TWO_NODE, -1, 0, 0, 0, 0, 5, 3, 2, 2, false, true, 0 },
	/* wait_for_all, last_man_standing: as without */
	{ 1, F_WFA, -1, 0, 0, 0, 0, 1, 1, 0, 0, false, true, 0 },
	{ 2, F_WFA, -1, 0, 0, 0, 0, 2, 2, 0, 0, false, true, 0 },
	{ 3, F_WFA, -1, 0, 0, 0, 0, 3, 2, 1, 1, false, true, 0 },
	{ 4, F_WFA, -1, 0, 0, 0, 0, 4, 3, 1, 1, false, true, 0 },
	{ 5, F_WFA, -1, 0, 0, 0, 0, 5, 3, 2, 2, false, true, 0 },
	{ 1, F_LMS, -1, 0, 0, 0, 0, 1, 1, 0, 0, false, true, 0 },
	{ 2, F_LMS, -1, 0, 0, 0, 0, 2, 2, 0, 0, false, true, 0 },
	{ 3, F_LMS, -1, 0, 0, 0, 0, 3, 2, 1, 1, false, true, 0 },
	{ 4, F_LMS, -1, 0, 0, 0, 0, 4, 3, 1, 1, false, true, 0 },
	{ 5, F_LMS, -1, 0, 0, 0, 0, 5, 3, 2, 2, false, true, 0 },
	/* ATB lowest: odd counts without wait_for_all turn it off (atb_node 0) */
	{ 1, F_ATB_LOW, -1, 0, 0, 0, 0, 1, 1, 0, 0, false, true, 0 },
	{ 2, F_ATB_LOW, -1, 0, 0, 0, 0, 2, 2, 0, 0, false, true, 1 },
	{ 3, F_ATB_LOW, -1, 0, 0, 0, 0, 3, 2, 1, 1, false, true, 0 },
	{ 4, F_ATB_LOW, -1, 0, 0, 0, 0, 4, 3, 1, 1, false, true, 1 },
	{ 5, F_ATB_LOW, -1, 0, 0, 0, 0, 5, 3, 2, 2, false, true, 0 },
	/* 3 nodes, ATB + WFA: 2 down leaves 1 = 3/2 votes but 2 lost >= quorum 2 */
	{ 3, F_ATB_LOW_WFA, -1, 0, 0, 0, 0, 3, 2, 1, 1, false, true, 1 },
	{ 5, F_ATB_LOW_WFA, -1, 0, 0, 0, 0, 5, 3, 2, 2, false, true, 1 },
	{ 2, F_ATB_HIGH, -1, 0, 0, 0, 0, 2, 2, 0, 0, false, true, 2 },
	{ 4, F_ATB_HIGH, -1, 0, 0, 0, 0, 4, 3, 1, 1, false, true, 4 },
	/* list "9 3 1": 9 is no node, 3 is the first that is */
	{ 4, F_ATB_LIST, -1, 0, 0, 0, 0, 4, 3, 1, 1, false, true, 3 },
	/* expected_votes 5 on 3 nodes: quorum 3, no node may fail */
	{ 3, F_NONE, -1, 0, 5, 0, 0, 5, 3, 0, 0, false, true, 0 },

	/*
	 * ffsplit, votes 1: quorum (n+1)/2+1. The survivors keep the vote when
	 * they are at least half the configured nodes (docs/protocol.md 3.2:
	 * m > n/2, or m = n/2 with no other side); arbiter gone: NACK.
	 */
	{ 1, F_NONE, 1, 1, 0, 0, 1, 2, 2, 0, 0, true, false, 0 },
	{ 2, F_NONE, 1, 1, 0, 0, 1, 3, 2, 1, 0, true, true, 0 },
	{ 3, F_NONE, 1, 1, 0, 0, 1, 4, 3, 1, 0, true, true, 0 },
	{ 4, F_NONE, 1, 1, 0, 0, 1, 5, 3, 2, 1, true, true, 0 },
	{ 5, F_NONE, 1, 1, 0, 0, 1, 6, 4, 2, 1, true, true, 0 },
	/* ffsplit, votes unset: n-1, which ffsplit refuses beyond 2 nodes */
	{ 2, F_NONE, 1, 0, 0, 0, 1, 3, 2, 1, 0, true, true, 0 },
	{ 3, F_NONE, 1, 0, 0, 0, 2, 5, 3, 0, 0, false, true, 0 },
	{ 4, F_NONE, 1, 0, 0, 0, 3, 7, 4, 0, 0, false, true, 0 },
	/* lms, votes n-1: one partition always has the vote; without it NACK */
	{ 1, F_NONE, 3, 0, 0, 0, 0, 1, 1, 0, 0, false, true, 0 },
	{ 2, F_NONE, 3, 0, 0, 0, 1, 3, 2, 1, 0, true, true, 0 },
	{ 3, F_NONE, 3, 0, 0, 0, 2, 5, 3, 2, 0, true, true, 0 },
	{ 4, F_NONE, 3, 0, 0, 0, 3, 7, 4, 3, 0, true, true, 0 },
	{ 5, F_NONE, 3, 0, 0, 0, 4, 9, 5, 4, 0, true, true, 0 },
	/* lms + wait_for_all: the arbiter's loss alone keeps the vote; a change drops it */
	{ 3, F_WFA, 3, 0, 0, 0, 2, 5, 3, 2, 0, true, true, 0 },
	/* 2nodelms: 2 nodes only; beyond, qdevice exits */
	{ 2, F_NONE, 2, 0, 0, 0, 1, 3, 2, 1, 0, true, true, 0 },
	{ 3, F_NONE, 2, 0, 0, 0, 2, 5, 3, 0, 0, false, true, 0 },
	/* configurations corosync does not start with */
	{ 2, F_TWO_NODE, 1, 1, 0, -EINVAL, 0, 0, 0, 0, 0, false, false, 0 },
	{ 3, F_LMS, 3, 0, 0, -EINVAL, 0, 0, 0, 0, 0, false, false, 0 },
	{ 4, F_ATB_LOW, 1, 1, 0, -EINVAL, 0, 0, 0, 0, 0, false, false, 0 },
	{ 3, F_NONE, 3, 0, 5, -EINVAL, 0, 0, 0, 0, 0, false, false, 0 },
	{ 3, F_NONE, 3, 2, 3, -EINVAL, 0, 0, 0, 0, 0, false, false, 0 },
};

static void
apply_flag(struct plan_cluster *c, enum flag f)
{
	static uint32_t list[] = { 9, 3, 1 };

	switch (f) {
	case F_TWO_NODE:
		c->two_node = true;
		break;
	case F_WFA:
		c->wait_for_all = true;
		break;
	case F_LMS:
		c->last_man_standing = true;
		break;
	case F_ATB_LOW_WFA:
		c->wait_for_all = true;
		/* fall through */
	case F_ATB_LOW:
		c->auto_tie_breaker = true;
		c->atb_mode = PLAN_ATB_LOWEST;
		break;
	case F_ATB_HIGH:
		c->auto_tie_breaker = true;
		c->atb_mode = PLAN_ATB_HIGHEST;
		break;
	case F_ATB_LIST:
		c->auto_tie_breaker = true;
		c->atb_mode = PLAN_ATB_LIST;
		c->atb_nodes = malloc(sizeof(list));
		assert_non_null(c->atb_nodes);
		memcpy(c->atb_nodes, list, sizeof(list));
		c->atb_node_count = 3;
		break;
	case F_NONE:
		break;
	}
}

static void
test_arithmetic_table(void **state)
{
	(void)state;
	for (size_t k = 0; k < sizeof(arith) / sizeof(arith[0]); k++) {
		const struct arith_row *w = &arith[k];
		struct plan_cluster c;
		struct plan_arithmetic a;
		char err[256] = "";
		int rc;

		view(&c, w->n, 1);
		apply_flag(&c, w->flag);
		c.expected_votes = w->cfg_expected;
		if (w->alg >= 0)
			device(&c, (uint8_t)w->alg, w->dev_votes, TIE_BREAKER_LOWEST, 0);
		rc = plan_arithmetic(&c, &a, err, sizeof(err));
		if (rc != w->rc)
			fail_msg("row %zu: rc %d (%s), want %d", k, rc, err, w->rc);
		if (rc != 0) {
			if (err[0] == '\0')
				fail_msg("row %zu: refused without a reason", k);
			plan_cluster_fini(&c);
			continue;
		}
		if (a.node_votes != w->n || a.device_votes != w->dv ||
		    a.expected_votes != w->expected || a.quorum != w->quorum ||
		    a.node_failures_with_arbiter != w->with ||
		    a.node_failures_without_arbiter != w->without ||
		    a.device_operative != w->operative || !a.baseline_quorate ||
		    a.survives_arbiter_loss != w->surv_arbiter || a.atb_node_id != w->atb_node)
			fail_msg("row %zu (%zu nodes, flag %d, alg %d): votes %u dv %u exp %u "
			    "q %u with %u without %u operative %d base %d arbiter %d atb %u",
			    k, w->n, w->flag, w->alg, a.node_votes, a.device_votes,
			    a.expected_votes, a.quorum, a.node_failures_with_arbiter,
			    a.node_failures_without_arbiter, a.device_operative,
			    a.baseline_quorate, a.survives_arbiter_loss, a.atb_node_id);
		assert_true(a.device_operative || w->alg < 0 || a.device_note != NULL);
		assert_int_equal(a.wait_for_all, w->flag == F_WFA || w->flag == F_TWO_NODE ||
		    w->flag == F_ATB_LOW_WFA);
		plan_cluster_fini(&c);
	}
}

/* ---- matrix rows ---- */

/*
 * 2 nodes, ffsplit with 1 vote: expected 3, quorum 2. A split is 1:1 =
 * half of 2 configured nodes, scores and active counts tie, the previous
 * quorate partition held both, so the tie-breaker decides
 * (docs/protocol.md 3.2 step 2d): its side has 1 + 1 = 2 votes.
 */
static void
test_two_nodes_ffsplit(void **state)
{
	static const struct { uint8_t mode; uint32_t node; uint32_t winner; } tb[] = {
		{ TIE_BREAKER_LOWEST, 0, 1 },
		{ TIE_BREAKER_HIGHEST, 0, 2 },
		{ TIE_BREAKER_NODE_ID, 2, 2 },
		{ TIE_BREAKER_NODE_ID, 1, 1 },
	};

	(void)state;
	for (size_t k = 0; k < sizeof(tb) / sizeof(tb[0]); k++) {
		const struct row_want want[] = {
			{ "no failure", ids(1, 2, 0), PLAN_SURVIVES },
			{ "partition 1 | 2", ids(tb[k].winner, 0), PLAN_DEGRADED },
			/* both links cut = the same split */
			{ "link 0 down + link 1 down", ids(tb[k].winner, 0), PLAN_DEGRADED },
			/* the survivor is half the nodes and the only side: ACK, 2 votes */
			{ "node 1 (n1) down", ids(2, 0), PLAN_SURVIVES },
			{ "node 2 (n2) down", ids(1, 0), PLAN_SURVIVES },
			/* arbiter gone: ffsplit NACK (docs/protocol.md 2.10), 2 node votes = 2 */
			{ "arbiter down", ids(1, 2, 0), PLAN_SURVIVES },
			{ "node 2 (n2) cannot reach the arbiter", ids(1, 2, 0), PLAN_SURVIVES },
			/* one node without the device: 1 < 2 */
			{ "node 1 (n1) down + arbiter down", 0, PLAN_NOBODY },
			{ "node 2 (n2) down + node 1 (n1) cannot reach the arbiter", 0,
			    PLAN_NOBODY },
			{ "node 1 (n1) down + node 2 (n2) down", 0, PLAN_NOBODY },
			/* two links: one lost changes nothing */
			{ "link 0 down", ids(1, 2, 0), PLAN_SURVIVES },
			{ "link 1 down", ids(1, 2, 0), PLAN_SURVIVES },
		};
		struct plan_cluster c;
		struct plan_matrix m;

		device_matrix(&c, &m, 2, 2, ALGORITHM_FFSPLIT, 1, tb[k].mode, tb[k].node);
		assert_int_equal(m.rows[0].kind, PLAN_KIND_NONE);
		EXPECT_ROWS(&m, want);
		matrix_done(&c, &m);
	}
}

/* The same cluster on one link: losing it isolates the nodes (a 1:1 split). */
static void
test_link_loss_one_vs_two_links(void **state)
{
	struct plan_cluster c;
	struct plan_matrix m;

	(void)state;
	device_matrix(&c, &m, 2, 1, ALGORITHM_FFSPLIT, 1, TIE_BREAKER_LOWEST, 0);
	expect_row(&m, "link 0 down", ids(1, 0), PLAN_DEGRADED);
	for (size_t i = 0; i < m.count; i++)	/* only links that exist */
		assert_null(strstr(m.rows[i].scenario, "link 1"));
	matrix_done(&c, &m);

	view(&c, 2, 2);
	device(&c, ALGORITHM_FFSPLIT, 1, TIE_BREAKER_LOWEST, 0);
	/* link 1 only on node 1: node 2 reaches node 1 over link 0 alone */
	free(c.nodes[1].addrs[1]);
	c.nodes[1].addrs[1] = NULL;
	build(&c, &m);
	expect_row(&m, "link 1 down", ids(1, 2, 0), PLAN_SURVIVES);
	expect_row(&m, "link 0 down", ids(1, 0), PLAN_DEGRADED);
	matrix_done(&c, &m);
}

/*
 * 3 nodes, lms, votes unset = 2: expected 5, quorum 3. lms: the partition
 * with the highest score (members) wins, a lone partition always wins, a
 * tie falls to the lowest node's partition (docs/protocol.md 3.4).
 */
static void
test_three_nodes_lms(void **state)
{
	const struct row_want want[] = {
		/* {2,3}: score 2 > 1: 2 + 2 = 4 votes; node 1: 1 */
		{ "partition 1 | 2 3", ids(2, 3, 0), PLAN_DEGRADED },
		{ "partition 1 2 | 3", ids(1, 2, 0), PLAN_DEGRADED },
		/* the last node standing: one partition, ACK, 1 + 2 = 3 */
		{ "node 1 (n1) down + node 2 (n2) down", ids(3, 0), PLAN_SURVIVES },
		/* no arbiter: NACK, 3 node votes = quorum 3, but 2 are not */
		{ "arbiter down", ids(1, 2, 3, 0), PLAN_SURVIVES },
		{ "node 3 (n3) down + arbiter down", 0, PLAN_NOBODY },
		/* the only link lost: three lone partitions tie, node 1's wins: 1 + 2 */
		{ "link 0 down", ids(1, 0), PLAN_DEGRADED },
		/* a node without the arbiter in a full cluster keeps 3 node votes */
		{ "node 1 (n1) cannot reach the arbiter", ids(1, 2, 3, 0), PLAN_SURVIVES },
		/* node 2 alone without the arbiter: NACK, 1 vote; {1,3} win: 2 + 2 */
		{ "node 2 (n2) down + node 1 (n1) cannot reach the arbiter", ids(3, 0),
		    PLAN_DEGRADED },
	};
	struct plan_cluster c;
	struct plan_matrix m;

	(void)state;
	device_matrix(&c, &m, 3, 1, ALGORITHM_LMS, 0, TIE_BREAKER_LOWEST, 0);
	/* 1 + 9 singles (3 nodes, 1 link, arbiter, 3 paths), C(8,2) - 3, 3 splits */
	assert_int_equal(m.count, 1 + 8 + 28 - 3 + 3);
	assert_true(m.partitions_complete);
	assert_null(m.limits_note);
	EXPECT_ROWS(&m, want);
	matrix_done(&c, &m);
}

/* 4 nodes, ffsplit, 1 vote: expected 5, quorum 3; a 2:2 split goes to the tie-breaker. */
static void
test_four_nodes_ffsplit_tie_breakers(void **state)
{
	static const struct { uint8_t mode; uint32_t node; uint64_t w12_34, w13_24, w14_23; } tb[] = {
		/* lowest: node 1's side; highest: node 4's; node id n: n's side */
		{ TIE_BREAKER_LOWEST, 0, 0x3, 0x5, 0x9 },
		{ TIE_BREAKER_HIGHEST, 0, 0xc, 0xa, 0x9 },
		{ TIE_BREAKER_NODE_ID, 3, 0xc, 0x5, 0x6 },
		{ TIE_BREAKER_NODE_ID, 2, 0x3, 0xa, 0x6 },
		/* not configured: qdevice's default, lowest (docs/protocol.md 4.1) */
		{ 0, 0, 0x3, 0x5, 0x9 },
	};

	(void)state;
	for (size_t k = 0; k < sizeof(tb) / sizeof(tb[0]); k++) {
		const struct row_want want[] = {
			{ "partition 1 2 | 3 4", tb[k].w12_34, PLAN_DEGRADED },
			{ "partition 1 3 | 2 4", tb[k].w13_24, PLAN_DEGRADED },
			{ "partition 1 4 | 2 3", tb[k].w14_23, PLAN_DEGRADED },
			/* 3:1, the majority wins whatever the tie-breaker: 3 + 1 = 4 */
			{ "partition 1 | 2 3 4", ids(2, 3, 4, 0), PLAN_DEGRADED },
			/* two down: the other two are half and the only side: 2 + 1 = 3 */
			{ "node 1 (n1) down + node 2 (n2) down", ids(3, 4, 0), PLAN_SURVIVES },
			/* one down and no arbiter (NACK): 3 node votes = quorum 3 */
			{ "node 1 (n1) down + arbiter down", ids(2, 3, 4, 0), PLAN_SURVIVES },
		};
		struct plan_cluster c;
		struct plan_matrix m;

		device_matrix(&c, &m, 4, 2, ALGORITHM_FFSPLIT, 1, tb[k].mode, tb[k].node);
		EXPECT_ROWS(&m, want);
		matrix_done(&c, &m);
	}
}

/*
 * Heuristics decide a 2:2 split before the tie-breaker (docs/protocol.md
 * 3.2 step 2a: score = active + pass - fail): nodes 3, 4 PASS, 1, 2 none
 * give 2 against 4. Only when heuristics are on: mode off sends nothing.
 */
static void
test_heuristics_decide_split(void **state)
{
	static const uint8_t modes[] = { HEURISTICS_MODE_ON, HEURISTICS_MODE_SYNC,
	    HEURISTICS_MODE_OFF };

	(void)state;
	for (size_t k = 0; k < sizeof(modes); k++) {
		struct plan_cluster c;
		struct plan_matrix m;
		uint64_t want = modes[k] == HEURISTICS_MODE_OFF ? ids(1, 2, 0) : ids(3, 4, 0);

		view(&c, 4, 1);
		device(&c, ALGORITHM_FFSPLIT, 1, TIE_BREAKER_LOWEST, 0);
		c.heuristics_mode = modes[k];
		c.nodes[2].heuristics = HEURISTICS_PASS;
		c.nodes[3].heuristics = HEURISTICS_PASS;
		build(&c, &m);
		expect_row(&m, "partition 1 2 | 3 4", want, PLAN_DEGRADED);
		/* {1,3} and {2,4}: 2 + 1 each, active 2 each: the tie-breaker */
		expect_row(&m, "partition 1 3 | 2 4", ids(1, 3, 0), PLAN_DEGRADED);
		matrix_done(&c, &m);
	}
}

/* Without a device: votequorum alone, two_node and auto_tie_breaker. */
static void
test_no_device_flags(void **state)
{
	struct plan_cluster c;
	struct plan_matrix m;
	static uint32_t list[] = { 4, 1 };

	(void)state;
	/* 4 nodes: quorum 3, a 2:2 split leaves nobody */
	view(&c, 4, 1);
	build(&c, &m);
	expect_row(&m, "partition 1 2 | 3 4", 0, PLAN_NOBODY);
	expect_row(&m, "node 4 (n4) down", ids(1, 2, 3, 0), PLAN_SURVIVES);
	/* no device: no arbiter rows */
	for (size_t i = 0; i < m.count; i++)
		assert_null(strstr(m.rows[i].scenario, "arbiter"));
	plan_matrix_fini(&m);

	/* ATB lowest: exactly half with node 1 stays quorate */
	c.auto_tie_breaker = true;
	c.atb_mode = PLAN_ATB_LOWEST;
	build(&c, &m);
	expect_row(&m, "partition 1 2 | 3 4", ids(1, 2, 0), PLAN_DEGRADED);
	expect_row(&m, "node 1 (n1) down + node 2 (n2) down", 0, PLAN_NOBODY);
	expect_row(&m, "node 3 (n3) down + node 4 (n4) down", ids(1, 2, 0), PLAN_SURVIVES);
	plan_matrix_fini(&m);
	c.atb_mode = PLAN_ATB_HIGHEST;
	build(&c, &m);
	expect_row(&m, "partition 1 2 | 3 4", ids(3, 4, 0), PLAN_DEGRADED);
	plan_matrix_fini(&m);
	c.atb_mode = PLAN_ATB_LIST;
	c.atb_nodes = malloc(sizeof(list));
	assert_non_null(c.atb_nodes);
	memcpy(c.atb_nodes, list, sizeof(list));
	c.atb_node_count = 2;
	build(&c, &m);
	expect_row(&m, "partition 1 2 | 3 4", ids(3, 4, 0), PLAN_DEGRADED);
	expect_row(&m, "partition 1 4 | 2 3", ids(1, 4, 0), PLAN_DEGRADED);
	matrix_done(&c, &m);

	/*
	 * 3 nodes, ATB with wait_for_all: expected 3, quorum 2. A lone node 1
	 * holds 1 = 3/2 votes, but the 2 nodes it lost could be quorate
	 * (2 >= quorum): ATB does not apply (votequorum(5): up to 50% may fail).
	 */
	view(&c, 3, 1);
	c.auto_tie_breaker = true;
	c.wait_for_all = true;
	build(&c, &m);
	expect_row(&m, "node 2 (n2) down + node 3 (n3) down", 0, PLAN_NOBODY);
	expect_row(&m, "partition 1 | 2 3", ids(2, 3, 0), PLAN_DEGRADED);
	matrix_done(&c, &m);

	/* two_node: quorum 1, each side of a split stays quorate (fencing decides) */
	view(&c, 2, 1);
	c.two_node = true;
	build(&c, &m);
	expect_row(&m, "partition 1 | 2", ids(1, 2, 0), PLAN_SURVIVES);
	expect_row(&m, "node 1 (n1) down", ids(2, 0), PLAN_SURVIVES);
	plan_matrix_fini(&m);
	/* without two_node: quorum 2 */
	c.two_node = false;
	build(&c, &m);
	expect_row(&m, "partition 1 | 2", 0, PLAN_NOBODY);
	expect_row(&m, "node 1 (n1) down", 0, PLAN_NOBODY);
	matrix_done(&c, &m);
}

/*
 * 2nodelms keeps its last vote when qnetd goes (docs/protocol.md 2.10) but
 * drops it on the next membership change (2.8); a split goes to the
 * lowest connected node (3.3 step 5).
 */
static void
test_two_nodes_2nodelms(void **state)
{
	const struct row_want want[] = {
		{ "partition 1 | 2", ids(1, 0), PLAN_DEGRADED },
		{ "node 2 (n2) down + arbiter down", 0, PLAN_NOBODY },
		{ "node 2 (n2) down", ids(1, 0), PLAN_SURVIVES },
	};
	struct plan_cluster c;
	struct plan_matrix m;

	(void)state;
	device_matrix(&c, &m, 2, 1, ALGORITHM_2NODELMS, 0, TIE_BREAKER_LOWEST, 0);
	EXPECT_ROWS(&m, want);
	matrix_done(&c, &m);
}

/* Rows, their order, kinds and words; 16 nodes take the stated subset. */
static void
test_matrix_shape(void **state)
{
	struct plan_cluster c;
	struct plan_matrix m;

	(void)state;
	view(&c, 3, 2);
	free(c.nodes[2].name);
	c.nodes[2].name = NULL;
	device(&c, ALGORITHM_FFSPLIT, 1, TIE_BREAKER_LOWEST, 0);
	build(&c, &m);
	/* singles: 3 nodes + 2 links + arbiter + 3 paths = 9; pairs C(9,2) - 3 node+own path */
	assert_int_equal(m.count, 1 + 9 + 36 - 3 + 3);
	assert_int_equal(m.rows[0].kind, PLAN_KIND_NONE);
	assert_string_equal(m.rows[1].scenario, "node 1 (n1) down");
	assert_int_equal(m.rows[1].kind, PLAN_KIND_NODE);
	assert_string_equal(m.rows[3].scenario, "node 3 down");
	assert_int_equal(row(&m, "link 1 down")->kind, PLAN_KIND_LINK);
	assert_int_equal(row(&m, "arbiter down")->kind, PLAN_KIND_ARBITER);
	assert_int_equal(row(&m, "node 3 cannot reach the arbiter")->kind,
	    PLAN_KIND_ARBITER_PATH);
	assert_int_equal(row(&m, "node 1 (n1) down + arbiter down")->kind, PLAN_KIND_DOUBLE);
	assert_int_equal(row(&m, "partition 1 2 | 3")->kind, PLAN_KIND_PARTITION);
	assert_int_equal(row(&m, "partition 1 2 | 3")->failure.side_a, ids(1, 2, 0));
	for (size_t i = 0; i < m.count; i++)
		assert_null(strstr(m.rows[i].scenario, "node 1 (n1) down + node 1"));
	matrix_done(&c, &m);

	/* 10 nodes: every split (2^9 - 1); 16 nodes: 1-2 node sides and runs */
	view(&c, 10, 1);
	build(&c, &m);
	assert_true(m.partitions_complete);
	assert_int_equal(m.count, 1 + 11 + 55 + 511);
	matrix_done(&c, &m);
	device_matrix(&c, &m, 16, 1, ALGORITHM_LMS, 0, TIE_BREAKER_LOWEST, 0);
	assert_false(m.partitions_complete);
	assert_non_null(m.limits_note);
	assert_non_null(strstr(m.limits_note, "224 of the 32767"));
	/* 16 + 120 small sides, runs of 3..7 (16 each), halves (8) */
	assert_int_equal(m.count, 1 + 34 + (34 * 33 / 2 - 16) + 16 + 120 + 5 * 16 + 8);
	expect_row(&m, "partition 1 2 3 4 5 6 7 8 | 9 10 11 12 13 14 15 16",
	    0xff, PLAN_DEGRADED);
	matrix_done(&c, &m);

	assert_string_equal(plan_kind_name(PLAN_KIND_ARBITER_PATH), "arbiter-path");
	assert_string_equal(plan_kind_name(PLAN_KIND_DOUBLE), "double");
	assert_string_equal(plan_verdict_name(PLAN_NOBODY), "nobody quorate");
	assert_string_equal(plan_verdict_name(PLAN_DEGRADED), "degraded");
	assert_string_equal(plan_verdict_name(PLAN_SURVIVES), "survives");
}

static void
expect_refused(struct plan_cluster *c, const char *words)
{
	struct plan_matrix m;
	struct plan_arithmetic a;
	char err[256] = "";
	uint64_t q = 1, alt = 1;
	bool race = true;

	assert_int_equal(plan_matrix_build(c, &m, err, sizeof(err)), -EINVAL);
	if (strstr(err, words) == NULL)
		fail_msg("err \"%s\" lacks \"%s\"", err, words);
	assert_int_equal(m.count, 0);
	assert_null(m.rows);
	err[0] = '\0';
	assert_int_equal(plan_arithmetic(c, &a, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, words));
	assert_int_equal(plan_evaluate(c, &(struct plan_failure){ 0 }, &q, &race, &alt),
	    -EINVAL);
	assert_true(q == 0 && !race);
}

static void
test_bad_input(void **state)
{
	struct plan_cluster c;
	struct plan_failure f = { 0 };
	uint64_t q;
	bool race;
	uint64_t alt;

	(void)state;
	view(&c, 0, 1);
	expect_refused(&c, "no nodes");
	plan_cluster_fini(&c);

	view(&c, 65, 1);
	expect_refused(&c, "at most 64");
	plan_cluster_fini(&c);

	view(&c, 3, 1);
	c.nodes[1].id = 7;	/* 1, 7, 3 */
	expect_refused(&c, "ascending");
	c.nodes[1].id = 1;	/* 1, 1, 3 */
	expect_refused(&c, "ascending");
	c.nodes[1].id = 2;
	c.nodes[0].id = 0;
	expect_refused(&c, "node id 0");
	c.nodes[0].id = 1;
	free(c.nodes[2].addrs[0]);
	c.nodes[2].addrs[0] = NULL;
	expect_refused(&c, "node 3 has no address");
	plan_cluster_fini(&c);

	view(&c, 2, 1);
	device(&c, 9, 1, TIE_BREAKER_LOWEST, 0);
	expect_refused(&c, "algorithm");
	c.algorithm = ALGORITHM_FFSPLIT;
	c.two_node = true;
	expect_refused(&c, "two_node");
	c.two_node = false;
	c.tie_breaker.mode = TIE_BREAKER_NODE_ID;
	c.tie_breaker.node_id = 0;
	expect_refused(&c, "tie_breaker");
	c.tie_breaker.mode = TIE_BREAKER_LOWEST;
	/* a failure naming a node or a link the cluster lacks */
	f.nodes_down = ids(3, 0);
	assert_int_equal(plan_evaluate(&c, &f, &q, &race, &alt), -EINVAL);
	f.nodes_down = 0;
	f.links_down = 1U << PLAN_MAX_LINKS;
	assert_int_equal(plan_evaluate(&c, &f, &q, &race, &alt), -EINVAL);
	f.links_down = 0;
	assert_int_equal(plan_evaluate(&c, &f, &q, &race, &alt), 0);
	assert_int_equal(q, ids(1, 2, 0));
	plan_cluster_fini(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arithmetic_table),
		cmocka_unit_test(test_two_nodes_ffsplit),
		cmocka_unit_test(test_link_loss_one_vs_two_links),
		cmocka_unit_test(test_three_nodes_lms),
		cmocka_unit_test(test_four_nodes_ffsplit_tie_breakers),
		cmocka_unit_test(test_heuristics_decide_split),
		cmocka_unit_test(test_no_device_flags),
		cmocka_unit_test(test_two_nodes_2nodelms),
		cmocka_unit_test(test_matrix_shape),
		cmocka_unit_test(test_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
