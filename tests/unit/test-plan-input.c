/*
 * tests/unit/test-plan-input.c: how `qdevice-tool --plan` reads the cluster
 * (qdevice/plan-input.h) from key/values shaped like corosync's cmap and
 * stats maps: the node list in id order with votes and ring addresses,
 * votequorum's switches, the device as qdevice reads it, knet link state,
 * what is missing or broken named in the error, and qdevice's status.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "qdevice/plan-input.h"

/* ---- typed key/values, handed out like cmap does ---- */

enum vtype { S, U8, U32, U64 };

struct key {
	const char	*name;
	enum vtype	 type;
	const char	*value;
};

struct store {
	const struct key	*keys;
	size_t			 count;
};

static const struct key *
lookup(void *ctx, const char *name)
{
	const struct store *st = ctx;

	for (size_t i = 0; i < st->count; i++)
		if (strcmp(st->keys[i].name, name) == 0)
			return &st->keys[i];
	return NULL;
}

static int
typed(void *ctx, const char *name, enum vtype want, uint64_t *out)
{
	const struct key *k = lookup(ctx, name);

	if (k == NULL)
		return -ENOENT;
	if (k->type != want)
		return -EINVAL;
	*out = strtoull(k->value, NULL, 10);
	return 0;
}

static int
st_string(void *ctx, const char *name, char **out)
{
	const struct key *k = lookup(ctx, name);

	if (k == NULL)
		return -ENOENT;
	if (k->type != S)
		return -EINVAL;
	*out = strdup(k->value);
	return *out == NULL ? -ENOMEM : 0;
}

static int
st_u8(void *ctx, const char *name, uint8_t *out)
{
	uint64_t v;
	int r = typed(ctx, name, U8, &v);

	*out = r == 0 ? (uint8_t)v : *out;
	return r;
}

static int
st_u32(void *ctx, const char *name, uint32_t *out)
{
	uint64_t v;
	int r = typed(ctx, name, U32, &v);

	*out = r == 0 ? (uint32_t)v : *out;
	return r;
}

static int
st_u64(void *ctx, const char *name, uint64_t *out)
{
	return typed(ctx, name, U64, out);
}

/* Prefix matches in the table's order (tables below are written sorted). */
static int
st_iter(void *ctx, const char *prefix, config_iter_fn fn, void *arg)
{
	const struct store *st = ctx;
	int r;

	for (size_t i = 0; i < st->count; i++) {
		if (strncmp(st->keys[i].name, prefix, strlen(prefix)) != 0)
			continue;
		if ((r = fn(st->keys[i].name, st->keys[i].type == S, arg)) != 0)
			return r;
	}
	return 0;
}

#define SOURCE(st)	{ &(st), st_string, st_u8, st_u32, st_u64, st_iter }
#define STORE(keys)	{ keys, sizeof(keys) / sizeof(keys[0]) }

struct run {
	struct plan_cluster	c;
	struct plan_env		e;
	char			err[256];
};

static int
read_keys(struct run *r, const struct key *cfg, size_t n, const struct key *stats,
    size_t sn)
{
	struct store cs = { cfg, n }, ss = { stats, sn };
	struct config_source cfg_src = SOURCE(cs), stats_src = SOURCE(ss);

	memset(r, 0, sizeof(*r));
	plan_env_init(&r->e);
	return plan_input_read(&cfg_src, stats != NULL ? &stats_src : NULL, &r->c, &r->e,
	    r->err, sizeof(r->err));
}

/* Frees what plan_input_read allocated (plan_cluster_fini is the planner's). */
static void
run_fini(struct run *r)
{
	for (size_t i = 0; i < r->c.node_count; i++) {
		free(r->c.nodes[i].name);
		for (unsigned l = 0; l < PLAN_MAX_LINKS; l++)
			free(r->c.nodes[i].addrs[l]);
	}
	free(r->c.nodes);
	free(r->c.atb_nodes);
	plan_env_fini(&r->e, r->c.node_count);
}

/* Three nodes listed out of id order, two links, an lms device, two_node off. */
static const struct key three[] = {
	{ "nodelist.node.0.name", S, "c" },
	{ "nodelist.node.0.nodeid", U32, "30" },
	{ "nodelist.node.0.quorum_votes", U32, "2" },
	{ "nodelist.node.0.ring0_addr", S, "10.0.0.30" },
	{ "nodelist.node.0.ring1_addr", S, "10.1.0.30" },
	{ "nodelist.node.1.name", S, "a" },
	{ "nodelist.node.1.nodeid", U32, "10" },
	{ "nodelist.node.1.ring0_addr", S, "10.0.0.10" },
	{ "nodelist.node.1.ring1_addr", S, "10.1.0.10" },
	{ "nodelist.node.2.nodeid", S, "20" },
	{ "nodelist.node.2.ring0_addr", S, "10.0.0.20" },
	{ "quorum.auto_tie_breaker", U8, "1" },
	{ "quorum.auto_tie_breaker_node", S, "30 10" },
	{ "quorum.device.model", S, "net" },
	{ "quorum.device.net.algorithm", S, "lms" },
	{ "quorum.device.net.host", S, "192.0.2.9" },
	{ "quorum.device.net.port", S, "5500" },
	{ "quorum.device.net.tie_breaker", S, "20" },
	{ "quorum.device.net.tls", S, "required" },
	{ "quorum.device.timeout", U32, "12000" },
	{ "quorum.device.votes", U32, "2" },
	{ "quorum.expected_votes", U32, "6" },
	{ "quorum.last_man_standing", S, "on" },
	{ "runtime.config.totem.consensus", U32, "3600" },
	{ "runtime.config.totem.token", U32, "3000" },
	{ "runtime.votequorum.this_node_id", U32, "20" },
	{ "totem.cluster_name", S, "lab" },
	{ "totem.transport", S, "knet" },
};

static const struct key three_stats[] = {
	{ "stats.knet.node10.link0.connected", U8, "1" },
	{ "stats.knet.node10.link0.latency_ave", U32, "2500" },
	{ "stats.knet.node10.link0.latency_max", U32, "4100" },
	{ "stats.knet.node10.link0.latency_samples", U32, "9" },
	{ "stats.knet.node10.link1.connected", U8, "0" },
	{ "stats.knet.node10.link1.latency_ave", U32, "0" },
	{ "stats.knet.node10.link1.latency_max", U32, "0" },
	{ "stats.knet.node10.link1.latency_samples", U32, "0" },
};

static void
reads_a_three_node_cluster(void **state)
{
	struct run r;
	const struct plan_node *n;

	(void)state;
	if (read_keys(&r, three, sizeof(three) / sizeof(three[0]), three_stats,
	    sizeof(three_stats) / sizeof(three_stats[0])) != 0)
		fail_msg("%s", r.err);
	assert_int_equal(r.c.node_count, 3);
	n = r.c.nodes;
	assert_int_equal(n[0].id, 10);
	assert_string_equal(n[0].name, "a");
	assert_int_equal(n[0].votes, 1);
	assert_string_equal(n[0].addrs[1], "10.1.0.10");
	assert_int_equal(n[1].id, 20);	/* a nodeid stored as text is read too */
	assert_null(n[1].name);
	assert_null(n[1].addrs[1]);
	assert_int_equal(n[2].id, 30);
	assert_int_equal(n[2].votes, 2);
	assert_int_equal(n[2].heuristics, HEURISTICS_UNDEFINED);
	assert_int_equal(r.c.link_count, 2);
	assert_int_equal(r.e.local_node_id, 20);

	assert_int_equal(r.c.expected_votes, 6);
	assert_false(r.c.two_node);
	assert_false(r.c.wait_for_all);
	assert_true(r.c.last_man_standing);
	assert_true(r.c.auto_tie_breaker);
	assert_int_equal(r.c.atb_mode, PLAN_ATB_LIST);
	assert_int_equal(r.c.atb_node_count, 2);
	assert_int_equal(r.c.atb_nodes[0], 30);
	assert_int_equal(r.c.atb_nodes[1], 10);

	assert_true(r.c.has_device);
	assert_int_equal(r.c.device_votes, 2);
	assert_int_equal(r.c.algorithm, ALGORITHM_LMS);
	assert_int_equal(r.c.tie_breaker.mode, TIE_BREAKER_NODE_ID);
	assert_int_equal(r.c.tie_breaker.node_id, 20);
	assert_int_equal(r.c.heuristics_mode, HEURISTICS_MODE_OFF);
	assert_string_equal(r.e.arbiter_host, "192.0.2.9");
	assert_int_equal(r.e.arbiter_port, 5500);
	assert_int_equal(r.e.tls, TLS_MODE_REQUIRED);
	assert_int_equal(r.e.device_timeout_ms, 12000);
	assert_int_equal(r.e.device_sync_timeout_ms, 30000);	/* qdevice's default */
	assert_int_equal(r.e.token_ms, 3000);
	assert_int_equal(r.e.consensus_ms, 3600);
	assert_string_equal(r.e.cluster_name, "lab");
	assert_string_equal(r.e.transport, "knet");
	assert_non_null(r.e.nss_db_dir);

	assert_non_null(r.e.links);
	assert_true(r.e.links[0][0].known && r.e.links[0][0].connected);
	assert_true(r.e.links[0][0].latency_known);
	assert_int_equal(r.e.links[0][0].latency_avg_us, 2500);
	assert_int_equal(r.e.links[0][0].latency_max_us, 4100);
	assert_true(r.e.links[0][1].known);
	assert_false(r.e.links[0][1].connected);
	assert_false(r.e.links[0][1].latency_known);	/* no samples yet */
	assert_false(r.e.links[1][0].known);		/* node 20: no stats keys */
	run_fini(&r);
}

static void
two_node_implies_wait_for_all_unless_set(void **state)
{
	static const struct key on[] = {
		{ "nodelist.node.0.nodeid", U32, "1" },
		{ "nodelist.node.1.nodeid", U32, "2" },
		{ "quorum.two_node", U8, "1" },
		{ "runtime.votequorum.this_node_id", U32, "2" },
	};
	static const struct key off[] = {
		{ "nodelist.local_node_pos", U32, "0" },
		{ "nodelist.node.0.nodeid", U32, "2" },
		{ "nodelist.node.1.nodeid", U32, "1" },
		{ "quorum.two_node", U8, "1" },
		{ "quorum.wait_for_all", U8, "0" },
	};
	struct run r;

	(void)state;
	assert_int_equal(read_keys(&r, on, 4, NULL, 0), 0);
	assert_true(r.c.two_node);
	assert_true(r.c.wait_for_all);
	assert_false(r.c.has_device);
	assert_int_equal(r.e.local_node_id, 2);
	assert_int_equal(r.c.link_count, 0);	/* no ring addresses at all */
	assert_null(r.e.links);
	assert_null(r.e.transport);		/* unknown, not guessed */
	assert_int_equal(r.e.token_ms, 0);
	run_fini(&r);
	assert_int_equal(read_keys(&r, off, 5, NULL, 0), 0);
	assert_true(r.c.two_node);
	assert_false(r.c.wait_for_all);
	/* local_node_pos counts entries in index order: entry 0 is node 2, not nodes[0] */
	assert_int_equal(r.c.nodes[0].id, 1);
	assert_int_equal(r.e.local_node_id, 2);
	run_fini(&r);
}

/* Each broken configuration fails and its error names what is unknown. */
static void
errors_name_what_is_unknown(void **state)
{
	static const struct key none[] = {
		{ "totem.cluster_name", S, "lab" },
	};
	static const struct key no_id[] = {
		{ "nodelist.node.0.nodeid", U32, "1" },
		{ "nodelist.node.1.ring0_addr", S, "10.0.0.2" },
	};
	static const struct key dup[] = {
		{ "nodelist.node.0.nodeid", U32, "4" },
		{ "nodelist.node.1.nodeid", U32, "4" },
	};
	static const struct key bad_votes[] = {
		{ "nodelist.node.0.nodeid", U32, "1" },
		{ "nodelist.node.0.quorum_votes", S, "many" },
	};
	static const struct key bad_atb[] = {
		{ "nodelist.node.0.nodeid", U32, "1" },
		{ "quorum.auto_tie_breaker_node", S, "1 x" },
	};
	static const struct key bad_device[] = {
		{ "nodelist.node.0.nodeid", U32, "1" },
		{ "quorum.device.model", S, "net" },
		{ "runtime.votequorum.this_node_id", U32, "1" },
		{ "totem.cluster_name", S, "lab" },
	};
	static const struct {
		const struct key	*keys;
		size_t			 n;
		const char		*says;
	} cases[] = {
		{ none, 1, "no node is configured" },
		{ no_id, 2, "nodelist.node.1.nodeid is not set" },
		{ dup, 2, "node id 4 is configured twice" },
		{ bad_votes, 2, "nodelist.node.0.quorum_votes" },
		{ bad_atb, 2, "quorum.auto_tie_breaker_node" },
		{ bad_device, 4, "quorum.device.net.host" },
	};
	struct run r;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = read_keys(&r, cases[i].keys, cases[i].n, NULL, 0);

		if (rc == 0 || strstr(r.err, cases[i].says) == NULL)
			fail_msg("case %zu: rc %d, error \"%s\", wanted \"%s\"", i, rc, r.err,
			    cases[i].says);
		run_fini(&r);
	}
}

static void
qdevice_status_is_read(void **state)
{
	static const struct key two[] = {
		{ "nodelist.node.0.nodeid", U32, "1" },
		{ "nodelist.node.1.nodeid", U32, "2" },
		{ "runtime.votequorum.this_node_id", U32, "2" },
	};
	struct run r;

	(void)state;
	assert_int_equal(read_keys(&r, two, 3, NULL, 0), 0);
	/* Nested objects and strings carry the same key names: only the top level counts. */
	assert_int_equal(plan_input_qdevice_status("{\"model\":\"Net\",\"node_id\":2,"
	    "\"cluster_name\":\"x\\\",\\\"state\\\":\\\"Disconnected\","
	    "\"quorum_node_list\":[{\"node_id\":1,\"state\":\"member\",\"vote\":\"ACK\"}],"
	    "\"tie_breaker\":{\"mode\":\"lowest\",\"node_id\":0},\"vote\":\"NACK\","
	    "\"state\":\"Connected\",\"heuristics_enabled\":true,\"heuristics\":\"Fail\","
	    "\"regular_heuristics\":\"Pass\"}\n", &r.c, &r.e), 0);
	assert_true(r.e.qdevice_known);
	assert_true(r.e.qdevice_connected);
	assert_string_equal(r.e.qdevice_state, "Connected");
	assert_string_equal(r.e.qdevice_vote, "NACK");
	assert_int_equal(r.c.nodes[1].heuristics, HEURISTICS_FAIL);	/* this node */
	assert_int_equal(r.c.nodes[0].heuristics, HEURISTICS_UNDEFINED);	/* unknown */

	assert_int_equal(plan_input_qdevice_status("{\"vote\":\"none\",\"state\":"
	    "\"Connect failed\"}", &r.c, &r.e), 0);
	assert_false(r.e.qdevice_connected);
	assert_string_equal(r.e.qdevice_vote, "none");

	assert_int_equal(plan_input_qdevice_status("Qdevice information\n", &r.c, &r.e),
	    -EINVAL);
	assert_int_equal(plan_input_qdevice_status("{\"state\":\"Connected\"}", &r.c, &r.e),
	    -EINVAL);
	run_fini(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reads_a_three_node_cluster),
		cmocka_unit_test(two_node_implies_wait_for_all_unless_set),
		cmocka_unit_test(errors_name_what_is_unknown),
		cmocka_unit_test(qdevice_status_is_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
