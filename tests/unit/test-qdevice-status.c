/*
 * tests/unit/test-qdevice-status.c: qdevice-tool's status text
 * (docs/protocol.md 5.5), byte for byte against what Debian's
 * corosync-qdevice 3.0.3 prints for the same situation, and our JSON and
 * Prometheus forms of it (documented in man/qdevice-tool.8).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "qdevice/status.h"
#include "test-util.h"

struct fixture {
	struct node_list	config, membership, quorum;
	struct status_view	v;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct node_info q2 = { 2, 0, NODE_STATE_MEMBER }, q1 = { 1, 0, NODE_STATE_MEMBER };
	struct node_info q0 = { 0, 0, 0 };

	assert_non_null(f);
	setenv("TZ", "UTC", 1);
	tzset();
	node_list_init(&f->config);
	node_list_init(&f->membership);
	node_list_init(&f->quorum);
	node_list_add_id(&f->config, 1);
	node_list_add_id(&f->config, 2);
	node_list_add_id(&f->membership, 1);
	node_list_add_id(&f->membership, 2);
	node_list_add(&f->quorum, &q2);
	node_list_add(&f->quorum, &q1);
	node_list_add(&f->quorum, &q0);	/* votequorum's padding: never printed */
	f->v = (struct status_view){
		.node_id = 1, .timeout_ms = 10000, .sync_timeout_ms = 30000,
		.config_nodes = &f->config, .heuristics_mode = "Enabled",
		.ring_id = { 1, 9 }, .membership = &f->membership, .quorate = true,
		.quorum_nodes = &f->quorum, .expected_votes = 3,
		.last_poll = 1795551962, .last_poll_cast_vote = true,
		.cluster_name = "e2e", .host = "198.18.0.100", .port = 5403,
		.connect_timeout_ms = 8000, .heartbeat_interval_ms = 8000,
		.cast_vote_interval_ms = 5000, .tls = 1, .algorithm = ALGORITHM_FFSPLIT,
		.tie_breaker = { TIE_BREAKER_LOWEST, 0 }, .kap_tie_breaker = true,
		.server_supports_kap = true, .poll_timer_running = true, .poll_cast_vote = true,
		.state = STATUS_STATE_CONNECTED, .heuristics_enabled = true,
		.heuristics_latest = HEURISTICS_PASS, .heuristics_regular = HEURISTICS_UNDEFINED,
		.heuristics_membership = HEURISTICS_PASS, .heuristics_connect = HEURISTICS_PASS,
		.tls_active = true, .client_cert_sent = true,
		.connected_since = 1795551957, .echo_reply_received = 1795551964,
		.vote_held_ms = -1, .cert_days_known = true, .cert_days_left = 3650,
		.hooks_running = 1, .hooks_dropped = 2, .hooks_timed_out = 3,
	};
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	node_list_fini(&f->config);
	node_list_fini(&f->membership);
	node_list_fini(&f->quorum);
	free(f);
	return 0;
}

enum form { TEXT, TEXT_VERBOSE, JSON, METRICS };

/* v as qdevice-tool prints it in one form; free() the result. */
static char *
render_as(const struct status_view *v, enum form form)
{
	struct capture c;
	FILE *out = capture_start(&c);
	int r = -1;

	switch (form) {
	case TEXT:
	case TEXT_VERBOSE:
		r = status_write(out, v, form == TEXT_VERBOSE);
		break;
	case JSON:
		r = status_write_json(out, v);
		break;
	case METRICS:
		r = status_write_metrics(out, v);
		break;
	}
	assert_int_equal(r, 0);
	return capture_end(&c);
}

/* v in form holds every string of has and none of lacks (NULL-ended lists; NULL: none). */
static void
expect_text(const struct status_view *v, enum form form, const char *const *has,
    const char *const *lacks)
{
	char *s = render_as(v, form);

	assert_text_has_all(s, has);
	assert_text_has_none(s, lacks);
	free(s);
}

/* The fixture's view in form is exactly want. */
static void
expect_render(void **state, enum form form, const char *want)
{
	struct fixture *f = *state;
	char *s = render_as(&f->v, form);

	assert_string_equal(s, want);
	free(s);
}

static void
plain(void **state)
{
	expect_render(state, TEXT,
	    "Qdevice information\n"
	    "-------------------\n"
	    "Model:\t\t\tNet\n"
	    "Node ID:\t\t1\n"
	    "Configured node list:\n"
	    "    0\tNode ID = 1\n"
	    "    1\tNode ID = 2\n"
	    "Membership node list:\t1, 2\n"
	    "\n"
	    "Qdevice-net information\n"
	    "----------------------\n"
	    "Cluster name:\t\te2e\n"
	    "QNetd host:\t\t198.18.0.100:5403\n"
	    "Algorithm:\t\tFifty-Fifty split\n"
	    "Tie-breaker:\t\tNode with lowest node ID\n"
	    "State:\t\t\tConnected\n"
	    "Heuristics result:\tPass\n");
}

static void
verbose(void **state)
{
	expect_render(state, TEXT_VERBOSE,
	    "Qdevice information\n"
	    "-------------------\n"
	    "Model:\t\t\tNet\n"
	    "Node ID:\t\t1\n"
	    "HB interval:\t\t10000ms\n"
	    "Sync HB interval:\t30000ms\n"
	    "Configured node list:\n"
	    "    0\tNode ID = 1\n"
	    "    1\tNode ID = 2\n"
	    "Heuristics:\t\tEnabled\n"
	    "Ring ID:\t\t1.9\n"
	    "Membership node list:\t1, 2\n"
	    "Quorate:\t\tYes\n"
	    "Quorum node list:\n"
	    "    0\tNode ID = 2, State = member\n"
	    "    1\tNode ID = 1, State = member\n"
	    "Expected votes:\t\t3\n"
	    "Last poll call:\t\t2026-11-24T20:26:02 (cast vote)\n"
	    "\n"
	    "Qdevice-net information\n"
	    "----------------------\n"
	    "Cluster name:\t\te2e\n"
	    "QNetd host:\t\t198.18.0.100:5403\n"
	    "Connect timeout:\t8000ms\n"
	    "HB interval:\t\t8000ms\n"
	    "VQ vote timer interval:\t5000ms\n"
	    "TLS:\t\t\tSupported\n"
	    "Algorithm:\t\tFifty-Fifty split\n"
	    "Tie-breaker:\t\tNode with lowest node ID\n"
	    "KAP Tie-breaker:\tEnabled\n"
	    "Poll timer running:\tYes (cast vote)\n"
	    "State:\t\t\tConnected\n"
	    "Heuristics result:\tPass (regular: Undefined, membership: Pass, connect: Pass)\n"
	    "TLS active:\t\tYes (client certificate sent)\n"
	    "Connected since:\t2026-11-24T20:25:57\n"
	    "Echo reply received:\t2026-11-24T20:26:04\n");
}

/*
 * What both variant tests start from: config version 7, tie-breaker node 3,
 * never polled, the connect failed.
 */
static void
not_connected(struct status_view *v)
{
	v->config_version_set = true;
	v->config_version = 7;
	v->tie_breaker = (struct tie_breaker){ TIE_BREAKER_NODE_ID, 3 };
	v->last_poll = (time_t)-1;
	v->poll_cast_vote = false;
	v->state = STATUS_STATE_CONNECT_FAILED;
}

static void
variants(void **state)
{
	struct fixture *f = *state;
	struct node_info dc = { 3, 12, 0 };
	static const char *const has[] = {
		"Configuration version:\t7\nConfigured node list:\n",
		"    2\tNode ID = 3, Data center ID = 12\n",
		"Tie-breaker:\t\tNode with node ID 3\n",
		"Last poll call:\t\tNever\n",
		"Force IP version:\t6\n",
		"TLS:\t\t\tRequired\n",
		"Algorithm:\t\tLMS\n",
		"KAP Tie-breaker:\tAlgorithm hard-coded\n",
		"Poll timer running:\tYes\n",
		"State:\t\t\tConnect failed\n",
		NULL
	};
	/* Connection details only while connected. */
	static const char *const lacks[] = {
		"Heuristics result:", "TLS active:", "Connected since:", NULL
	};
	static const char *const disconnected[] = {
		"KAP Tie-breaker:\tDisabled\n",
		"Tie-breaker:\t\tNode with highest node ID\n",
		"Poll timer running:\tNo\n",
		"State:\t\t\tDisconnected\n",
		NULL
	};

	not_connected(&f->v);
	node_list_add(&f->config, &dc);
	f->v.heuristics_enabled = false;
	f->v.force_ip_version = 6;
	f->v.algorithm = ALGORITHM_LMS;
	f->v.tls = 2;
	expect_text(&f->v, TEXT_VERBOSE, has, lacks);

	f->v.algorithm = ALGORITHM_FFSPLIT;
	f->v.state = STATUS_STATE_CONNECTED;
	f->v.server_supports_kap = false;
	expect_text(&f->v, TEXT_VERBOSE,
	    (const char *const[]){ "KAP Tie-breaker:\tUnsupported by QNetd\n", NULL }, NULL);
	f->v.kap_tie_breaker = false;
	f->v.tie_breaker.mode = TIE_BREAKER_HIGHEST;
	f->v.state = STATUS_STATE_DISCONNECTED;
	f->v.poll_timer_running = false;
	expect_text(&f->v, TEXT_VERBOSE, disconnected, NULL);
	f->v.algorithm = ALGORITHM_TEST;
	expect_text(&f->v, TEXT_VERBOSE,
	    (const char *const[]){ "KAP Tie-breaker:\tUnsupported by algorithm\n", NULL }, NULL);
}

static void
json_full(void **state)
{
	expect_render(state, JSON,
	    "{\"model\":\"Net\",\"node_id\":1,\"timeout_ms\":10000,\"sync_timeout_ms\":30000,"
	    "\"config_version\":null,"
	    "\"config_node_list\":[{\"node_id\":1,\"data_center_id\":0},"
	    "{\"node_id\":2,\"data_center_id\":0}],"
	    "\"heuristics_mode\":\"Enabled\",\"ring_id\":\"1.9\",\"membership_node_list\":[1,2],"
	    "\"quorate\":true,\"quorum_node_list\":[{\"node_id\":2,\"state\":\"member\"},"
	    "{\"node_id\":1,\"state\":\"member\"}],\"expected_votes\":3,"
	    "\"last_poll\":1795551962,\"last_poll_cast_vote\":true,"
	    "\"cluster_name\":\"e2e\",\"qnetd_host\":\"198.18.0.100\",\"qnetd_port\":5403,"
	    "\"force_ip_version\":0,\"connect_timeout_ms\":8000,\"heartbeat_interval_ms\":8000,"
	    "\"vote_timer_interval_ms\":5000,\"tls\":\"Supported\","
	    "\"algorithm\":\"Fifty-Fifty split\","
	    "\"tie_breaker\":{\"mode\":\"lowest\",\"node_id\":0},"
	    "\"kap_tie_breaker\":\"Enabled\",\"poll_timer_running\":true,\"vote\":\"ACK\","
	    "\"vote_held_ms\":null,\"state\":\"Connected\",\"heuristics_enabled\":true,"
	    "\"heuristics\":\"Pass\",\"regular_heuristics\":\"Undefined\","
	    "\"membership_heuristics\":\"Pass\",\"connect_heuristics\":\"Pass\","
	    "\"tls_active\":true,\"client_certificate_sent\":true,"
	    "\"connected_since\":1795551957,\"echo_reply_received\":1795551964,"
	    "\"qnetd_address\":null,\"qnetd_address_host\":null,"
	    "\"qnetd_address_index\":null,\"qnetd_address_count\":null,"
	    "\"certificate_days_left\":3650,\"event_hooks_running\":1,"
	    "\"event_hooks_dropped\":2,\"event_hooks_timed_out\":3}\n");
}

static void
json_variants(void **state)
{
	struct fixture *f = *state;
	static const char *const has[] = {
		"\"config_version\":7,",
		"\"tie_breaker\":{\"mode\":\"node_id\",\"node_id\":3}",
		"\"last_poll\":null,\"last_poll_cast_vote\":false",
		"\"vote\":\"NACK\",\"vote_held_ms\":420,",
		"\"state\":\"Connect failed\"",
		/* Connection facts only while connected. */
		"\"tls_active\":false,\"client_certificate_sent\":false,"
		    "\"connected_since\":null,\"echo_reply_received\":null",
		"\"certificate_days_left\":-2,",
		"\"cluster_name\":\"a\\\"b\\\\c\\n\",",
		NULL
	};
	static const char *const not_polled[] = {
		"\"vote\":\"none\",",
		"\"certificate_days_left\":null,",
		"\"tie_breaker\":{\"mode\":\"highest\",\"node_id\":0}",
		NULL
	};
	char *s;

	not_connected(&f->v);
	f->v.vote_held_ms = 420;
	f->v.cert_days_known = true;
	f->v.cert_days_left = -2;
	f->v.cluster_name = "a\"b\\c\n";
	expect_text(&f->v, JSON, has, NULL);

	f->v.poll_timer_running = false;
	f->v.cert_days_known = false;
	f->v.tie_breaker.mode = TIE_BREAKER_HIGHEST;
	expect_text(&f->v, JSON, not_polled, NULL);
	/* One line, and the text output never shows our extras. */
	s = render_as(&f->v, JSON);
	assert_ptr_equal(strchr(s, '\n'), s + strlen(s) - 1);
	free(s);
	expect_text(&f->v, TEXT_VERBOSE, NULL, (const char *const[]){ "day", "held", NULL });
}


/*
 * Ours: the address in use (one of several a host list or a name gave),
 * as one more -v line right after "QNetd host:" and in JSON; the plain
 * text, which scripts parse, stays upstream's.
 */
static void
address_in_use(void **state)
{
	static const char host[] = "QNetd host:\t\tqnetd-a, qnetd-b:5403\n";
	struct fixture *f = *state;
	char *s, *host_line;

	f->v.host = "qnetd-a, qnetd-b";
	f->v.address = "198.18.0.101:5403";
	f->v.address_host = "qnetd-b";
	f->v.address_index = 2;
	f->v.address_count = 3;
	s = render_as(&f->v, TEXT_VERBOSE);
	host_line = strstr(s, host);
	assert_non_null(host_line);
	assert_ptr_equal(strstr(s, "QNetd address:\t\t198.18.0.101:5403 (2 of 3)\n"),
	    host_line + strlen(host));
	free(s);
	expect_text(&f->v, TEXT, NULL, (const char *const[]){ "QNetd address:", NULL });
	expect_text(&f->v, JSON, (const char *const[]){
	    "\"qnetd_address\":\"198.18.0.101:5403\",\"qnetd_address_host\":\"qnetd-b\","
	    "\"qnetd_address_index\":2,\"qnetd_address_count\":3,", NULL }, NULL);

	/* Not connected: no line, JSON nulls. */
	f->v.address = NULL;
	f->v.state = STATUS_STATE_CONNECT_FAILED;
	expect_text(&f->v, TEXT_VERBOSE, NULL, (const char *const[]){ "QNetd address:", NULL });
	expect_text(&f->v, JSON,
	    (const char *const[]){ "\"qnetd_address\":null,\"qnetd_address_host\":null,", NULL },
	    NULL);
}

static void
metrics(void **state)
{
	struct fixture *f = *state;
	struct qdevice_stats st = { .connects = 2, .disconnects = 1, .acks_received = 5,
	    .nacks_received = 1, .votes_held = 3, .held_votes_dropped = 1,
	    .stale_votes_withdrawn = 0 };
	static const char *const has[] = {
		"# TYPE qdevice_up gauge\nqdevice_up 1\n",
		"qdevice_connected 1\n", "qdevice_quorate 1\n", "qdevice_vote_cast 1\n",
		"qdevice_vote_held_seconds 0\n", "qdevice_expected_votes 3\n",
		"qdevice_membership_nodes 2\n", "qdevice_heuristics_result 1\n",
		"qdevice_last_poll_timestamp_seconds 1795551962\n",
		"qdevice_certificate_days_left 3650\n", "qdevice_event_hooks_running 1\n",
		"# TYPE qdevice_connects_total counter\nqdevice_connects_total 2\n",
		"qdevice_disconnects_total 1\n", "qdevice_acks_received_total 5\n",
		"qdevice_nacks_received_total 1\n", "qdevice_votes_held_total 3\n",
		"qdevice_held_votes_dropped_total 1\n",
		"qdevice_stale_votes_withdrawn_total 0\n",
		"qdevice_event_hooks_dropped_total 2\n",
		"qdevice_event_hooks_timed_out_total 3\n",
		NULL
	};
	/* Not polled, nothing known: -1 and no timestamp or certificate gauge. */
	static const char *const unknown_has[] = {
		"qdevice_vote_cast -1\n", "qdevice_vote_held_seconds 2\n",
		"qdevice_connects_total 0\n", NULL
	};
	static const char *const unknown_lacks[] = {
		"qdevice_last_poll_timestamp_seconds", "qdevice_certificate_days_left", NULL
	};

	f->v.stats = &st;
	expect_text(&f->v, METRICS, has, NULL);

	f->v.poll_timer_running = false;
	f->v.last_poll = (time_t)-1;
	f->v.cert_days_known = false;
	f->v.vote_held_ms = 2500;
	f->v.stats = NULL;
	expect_text(&f->v, METRICS, unknown_has, unknown_lacks);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(plain, setup, teardown),
		cmocka_unit_test_setup_teardown(verbose, setup, teardown),
		cmocka_unit_test_setup_teardown(variants, setup, teardown),
		cmocka_unit_test_setup_teardown(json_full, setup, teardown),
		cmocka_unit_test_setup_teardown(json_variants, setup, teardown),
		cmocka_unit_test_setup_teardown(address_in_use, setup, teardown),
		cmocka_unit_test_setup_teardown(metrics, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
