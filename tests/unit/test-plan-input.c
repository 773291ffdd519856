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
#include "tests/unit/fake-config-source.h"

struct run {
	struct plan_cluster	c;
	struct plan_env		e;
	char			err[256];
};

static int
read_keys(struct run *r, const struct kv *cfg, size_t n, const struct kv *stats,
    size_t sn)
{
	struct kv_table ct = { cfg, n }, st = { stats, sn };
	struct config_source cfg_src, stats_src;

	fake_config_source(&cfg_src, &ct);
	fake_config_source(&stats_src, &st);
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
static const struct kv three[] = {
	{ "nodelist.node.0.name", T_STR, "c" },
	{ "nodelist.node.0.nodeid", T_U32, "30" },
	{ "nodelist.node.0.quorum_votes", T_U32, "2" },
	{ "nodelist.node.0.ring0_addr", T_STR, "10.0.0.30" },
	{ "nodelist.node.0.ring1_addr", T_STR, "10.1.0.30" },
	{ "nodelist.node.1.name", T_STR, "a" },
	{ "nodelist.node.1.nodeid", T_U32, "10" },
	{ "nodelist.node.1.ring0_addr", T_STR, "10.0.0.10" },
	{ "nodelist.node.1.ring1_addr", T_STR, "10.1.0.10" },
	{ "nodelist.node.2.nodeid", T_STR, "20" },
	{ "nodelist.node.2.ring0_addr", T_STR, "10.0.0.20" },
	{ "quorum.auto_tie_breaker", T_U8, "1" },
	{ "quorum.auto_tie_breaker_node", T_STR, "30 10" },
	{ "quorum.device.model", T_STR, "net" },
	{ "quorum.device.net.algorithm", T_STR, "lms" },
	{ "quorum.device.net.host", T_STR, "192.0.2.9" },
	{ "quorum.device.net.port", T_STR, "5500" },
	{ "quorum.device.net.tie_breaker", T_STR, "20" },
	{ "quorum.device.net.tls", T_STR, "required" },
	{ "quorum.device.timeout", T_U32, "12000" },
	{ "quorum.device.votes", T_U32, "2" },
	{ "quorum.expected_votes", T_U32, "6" },
	{ "quorum.last_man_standing", T_STR, "on" },
	{ "runtime.config.totem.consensus", T_U32, "3600" },
	{ "runtime.config.totem.token", T_U32, "3000" },
	{ "runtime.votequorum.this_node_id", T_U32, "20" },
	{ "totem.cluster_name", T_STR, "lab" },
	{ "totem.transport", T_STR, "knet" },
};

static const struct kv three_stats[] = {
	{ "stats.knet.node10.link0.connected", T_U8, "1" },
	{ "stats.knet.node10.link0.latency_ave", T_U32, "2500" },
	{ "stats.knet.node10.link0.latency_max", T_U32, "4100" },
	{ "stats.knet.node10.link0.latency_samples", T_U32, "9" },
	{ "stats.knet.node10.link1.connected", T_U8, "0" },
	{ "stats.knet.node10.link1.latency_ave", T_U32, "0" },
	{ "stats.knet.node10.link1.latency_max", T_U32, "0" },
	{ "stats.knet.node10.link1.latency_samples", T_U32, "0" },
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
	static const struct kv on[] = {
		{ "nodelist.node.0.nodeid", T_U32, "1" },
		{ "nodelist.node.1.nodeid", T_U32, "2" },
		{ "quorum.two_node", T_U8, "1" },
		{ "runtime.votequorum.this_node_id", T_U32, "2" },
	};
	static const struct kv off[] = {
		{ "nodelist.local_node_pos", T_U32, "0" },
		{ "nodelist.node.0.nodeid", T_U32, "2" },
		{ "nodelist.node.1.nodeid", T_U32, "1" },
		{ "quorum.two_node", T_U8, "1" },
		{ "quorum.wait_for_all", T_U8, "0" },
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
	static const struct {
		struct kv	 keys[4];
		const char	*says;
	} cases[] = {
		{ { { "totem.cluster_name", T_STR, "lab" } }, "no node is configured" },
		{ { { "nodelist.node.0.nodeid", T_U32, "1" },
		    { "nodelist.node.1.ring0_addr", T_STR, "10.0.0.2" } },
		    "nodelist.node.1.nodeid is not set" },
		{ { { "nodelist.node.0.nodeid", T_U32, "4" }, { "nodelist.node.1.nodeid", T_U32, "4" } },
		    "node id 4 is configured twice" },
		{ { { "nodelist.node.0.nodeid", T_U32, "1" },
		    { "nodelist.node.0.quorum_votes", T_STR, "many" } },
		    "nodelist.node.0.quorum_votes" },
		{ { { "nodelist.node.0.nodeid", T_U32, "1" },
		    { "quorum.auto_tie_breaker_node", T_STR, "1 x" } }, "quorum.auto_tie_breaker_node" },
		/* a net device without its host */
		{ { { "nodelist.node.0.nodeid", T_U32, "1" }, { "quorum.device.model", T_STR, "net" },
		    { "runtime.votequorum.this_node_id", T_U32, "1" },
		    { "totem.cluster_name", T_STR, "lab" } }, "quorum.device.net.host" },
	};
	struct run r;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = read_keys(&r, cases[i].keys, kv_count(cases[i].keys, 4), NULL, 0);

		if (rc == 0 || strstr(r.err, cases[i].says) == NULL)
			fail_msg("case %zu: rc %d, error \"%s\", wanted \"%s\"", i, rc, r.err,
			    cases[i].says);
		run_fini(&r);
	}
}

static void
qdevice_status_is_read(void **state)
{
	static const struct kv two[] = {
		{ "nodelist.node.0.nodeid", T_U32, "1" },
		{ "nodelist.node.1.nodeid", T_U32, "2" },
		{ "runtime.votequorum.this_node_id", T_U32, "2" },
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
