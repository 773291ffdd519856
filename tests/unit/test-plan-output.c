/*
 * tests/unit/test-plan-output.c: what `qdevice-tool --plan` prints for a
 * hand-built cluster view and matrix: the text marks the rows where nobody
 * is quorate or a race decides, and counts them; the JSON (schema 1 of
 * qdevice-tool(8)) is one valid object with every documented field, the
 * quorate ids sorted, and the exit status follows the worst check.
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "qdevice/corosync-config.h"
#include "qdevice/plan-output.h"

/* ---- a strict JSON syntax check (RFC 8259), enough to prove the output parses ---- */

static bool json_value(const char **p, int depth);

static void
ws(const char **p)
{
	while (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r')
		(*p)++;
}

static bool
json_string(const char **p)
{
	if (**p != '"')
		return false;
	for ((*p)++; **p != '"'; (*p)++) {
		if ((unsigned char)**p < 0x20)
			return false;
		if (**p != '\\')
			continue;
		(*p)++;
		if (**p == 'u') {
			for (int i = 1; i <= 4; i++)
				if (!isxdigit((unsigned char)(*p)[i]))
					return false;
			*p += 4;
		} else if (strchr("\"\\/bfnrt", **p) == NULL || **p == '\0') {
			return false;
		}
	}
	(*p)++;
	return true;
}

static bool
json_number(const char **p)
{
	const char *s = *p;

	if (**p == '-')
		(*p)++;
	if (!isdigit((unsigned char)**p))
		return false;
	if (**p == '0' && isdigit((unsigned char)(*p)[1]))
		return false;
	while (isdigit((unsigned char)**p))
		(*p)++;
	return *p > s;
}

static bool
json_container(const char **p, int depth, char close, bool object)
{
	(*p)++;
	ws(p);
	if (**p == close) {
		(*p)++;
		return true;
	}
	for (;;) {
		ws(p);
		if (object) {
			if (!json_string(p))
				return false;
			ws(p);
			if (*(*p)++ != ':')
				return false;
		}
		if (!json_value(p, depth + 1))
			return false;
		ws(p);
		if (**p == close) {
			(*p)++;
			return true;
		}
		if (*(*p)++ != ',')
			return false;
	}
}

static bool
json_value(const char **p, int depth)
{
	if (depth > 32)
		return false;
	ws(p);
	switch (**p) {
	case '{':	return json_container(p, depth, '}', true);
	case '[':	return json_container(p, depth, ']', false);
	case '"':	return json_string(p);
	case 't':	return strncmp(*p, "true", 4) == 0 && (*p += 4, true);
	case 'f':	return strncmp(*p, "false", 5) == 0 && (*p += 5, true);
	case 'n':	return strncmp(*p, "null", 4) == 0 && (*p += 4, true);
	default:	return json_number(p);
	}
}

static bool
json_valid(const char *s)
{
	const char *p = s;

	if (!json_value(&p, 0))
		return false;
	ws(&p);
	return *p == '\0';
}

/* ---- a 3-node cluster with an ffsplit device, and four rows ---- */

struct fixture {
	struct plan_node		nodes[3];
	struct plan_cluster		c;
	struct plan_env			e;
	struct plan_link_state		links[3][PLAN_MAX_LINKS];
	struct plan_row			rows[5];
	struct plan_matrix		m;
	struct plan_arithmetic		a;
	struct plan_report_check	checks[3];
	struct plan_report		r;
	char				*out;
	size_t				 out_len;
};

/* Node ids 2, 7, 11: bit i of a set is nodes[i]. */
#define N2	(UINT64_C(1) << 0)
#define N7	(UINT64_C(1) << 1)
#define N11	(UINT64_C(1) << 2)

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->nodes[0] = (struct plan_node){ .id = 2, .name = "alpha", .votes = 1,
	    .addrs = { "10.0.0.2", "10.1.0.2" }, .heuristics = HEURISTICS_PASS };
	f->nodes[1] = (struct plan_node){ .id = 7, .name = "be\"ta", .votes = 1,
	    .addrs = { "10.0.0.7", "10.1.0.7" } };
	f->nodes[2] = (struct plan_node){ .id = 11, .name = NULL, .votes = 2,
	    .addrs = { "10.0.0.11" } };
	f->c = (struct plan_cluster){ .nodes = f->nodes, .node_count = 3, .link_count = 2,
	    .has_device = true, .algorithm = ALGORITHM_FFSPLIT,
	    .tie_breaker = { TIE_BREAKER_NODE_ID, 7 }, .kap_tie_breaker = true };
	f->links[1][0] = (struct plan_link_state){ .known = true, .connected = true,
	    .latency_known = true, .latency_avg_us = 450, .latency_max_us = 900 };
	f->links[2][1] = (struct plan_link_state){ .known = true, .connected = false };
	f->e = (struct plan_env){ .local_node_id = 2, .cluster_name = "lab",
	    .arbiter_host = "192.0.2.9", .arbiter_port = 5403, .tls = TLS_MODE_ON,
	    .token_ms = 3000, .consensus_ms = 3600, .device_timeout_ms = 10000,
	    .device_sync_timeout_ms = 30000, .links = f->links, .transport = "knet",
	    .qdevice_known = true, .qdevice_state = "Connected", .qdevice_connected = true,
	    .qdevice_vote = "ACK" };
	f->rows[0] = (struct plan_row){ .kind = PLAN_KIND_NONE, .scenario = "no failure",
	    .quorate = N2 | N7 | N11, .verdict = PLAN_SURVIVES };
	f->rows[1] = (struct plan_row){ .kind = PLAN_KIND_NODE,
	    .failure = { .nodes_down = N11 }, .scenario = "node 11 down",
	    .quorate = N2 | N7, .verdict = PLAN_SURVIVES };
	f->rows[2] = (struct plan_row){ .kind = PLAN_KIND_PARTITION,
	    .failure = { .partitioned = true, .side_a = N7 },
	    .scenario = "partition 7 | 2 11", .quorate = N11 | N2,
	    .verdict = PLAN_DEGRADED, .race = true, .quorate_alt = N7 };
	f->rows[3] = (struct plan_row){ .kind = PLAN_KIND_DOUBLE,
	    .failure = { .nodes_down = N11, .arbiter_down = true },
	    .scenario = "node 11 down + arbiter down", .quorate = 0,
	    .verdict = PLAN_NOBODY };
	f->rows[4] = (struct plan_row){ .kind = PLAN_KIND_LINK,
	    .failure = { .links_down = 1U << 1 }, .scenario = "link 1 down",
	    .quorate = N2 | N7 | N11, .verdict = PLAN_SURVIVES };
	f->m = (struct plan_matrix){ .rows = f->rows, .count = 5,
	    .partitions_complete = true };
	f->a = (struct plan_arithmetic){ .node_votes = 4, .device_votes = 3,
	    .expected_votes = 7, .quorum = 4, .node_failures_with_arbiter = 2,
	    .node_failures_without_arbiter = 1 };
	f->checks[0] = (struct plan_report_check){ "links.count", PLAN_REPORT_OK, "2 links" };
	f->checks[1] = (struct plan_report_check){ "links.latency", PLAN_REPORT_WARN,
	    "link 0 to node 7: 3.1 ms average" };
	f->checks[2] = (struct plan_report_check){ "arbiter.path", PLAN_REPORT_FAIL,
	    "the arbiter is reached through eth0, the only corosync interface" };
	f->r = (struct plan_report){ .cluster = &f->c, .env = &f->e, .arithmetic = &f->a,
	    .matrix = &f->m, .checks = f->checks, .check_count = 3, .checks_run = true };
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	free(f->out);
	free(f);
	return 0;
}

static const char *
render(struct fixture *f, bool json)
{
	FILE *mem;

	free(f->out);
	f->out = NULL;
	mem = open_memstream(&f->out, &f->out_len);
	assert_non_null(mem);
	assert_int_equal(json ? plan_write_json(mem, &f->r) : plan_write_text(mem, &f->r), 0);
	assert_int_equal(fclose(mem), 0);
	return f->out;
}

/* The text line that contains needle (a copy in buf), or NULL. */
static const char *
line_with(const char *text, const char *needle, char *buf, size_t len)
{
	const char *p = strstr(text, needle), *start, *end;

	if (p == NULL)
		return NULL;
	for (start = p; start > text && start[-1] != '\n'; start--)
		;
	end = strchr(p, '\n');
	end = end != NULL ? end : p + strlen(p);
	assert_true((size_t)(end - start) < len);
	memcpy(buf, start, (size_t)(end - start));
	buf[end - start] = '\0';
	return buf;
}

static void
text_marks_bad_rows(void **state)
{
	struct fixture *f = *state;
	const char *t = render(f, false);
	char line[256];

	assert_non_null(strstr(t, "Quorum arithmetic\n"));
	assert_non_null(strstr(t, "\nSurvivability\n"));
	assert_non_null(strstr(t, "\nReadiness\n"));
	assert_non_null(strstr(t, "Expected votes:\t\t7\n"));
	assert_non_null(strstr(t, "Quorum:\t\t\t4\n"));
	assert_non_null(strstr(t, "2 with the arbiter reachable, 1 with it gone"));
	assert_non_null(line_with(t, "partition 7 | 2 11", line, sizeof(line)));
	assert_true(strncmp(line, "!! ", 3) == 0);
	assert_non_null(strstr(line, "2 11"));
	assert_non_null(strstr(line, "degraded (race: or 7)"));
	assert_non_null(line_with(t, "node 11 down + arbiter down", line, sizeof(line)));
	assert_true(strncmp(line, "!! ", 3) == 0);
	assert_non_null(strstr(line, " -  "));
	assert_non_null(strstr(line, "nobody quorate"));
	assert_non_null(line_with(t, "node 11 down ", line, sizeof(line)));
	assert_true(strncmp(line, "   ", 3) == 0);
	assert_non_null(line_with(t, "no failure", line, sizeof(line)));
	assert_true(strncmp(line, "   ", 3) == 0);
	assert_non_null(strstr(t, "5 scenarios, 2 marked !!"));
	assert_non_null(line_with(t, "arbiter.path", line, sizeof(line)));
	assert_true(strncmp(line, "FAIL", 4) == 0);
	assert_non_null(line_with(t, "links.latency", line, sizeof(line)));
	assert_true(strncmp(line, "WARN", 4) == 0);
	assert_non_null(strstr(t, "tie-breaker node 7"));
	assert_non_null(strstr(t, "qdevice:\t\tConnected, vote ACK\n"));
}

static void
text_states_subset_and_missing_qdevice(void **state)
{
	struct fixture *f = *state;
	const char *t;

	f->m.partitions_complete = false;
	f->m.limits_note = "16 nodes: partitions of up to 2 nodes only";
	f->e.qdevice_known = false;
	f->e.qdevice_error = "cannot connect to qdevice at /x: No such file or directory";
	f->r.checks_run = false;
	t = render(f, false);
	assert_non_null(strstr(t, "Note: 16 nodes: partitions of up to 2 nodes only\n"));
	assert_non_null(strstr(t, "qdevice:\t\tunknown (cannot connect to qdevice at /x"));
	assert_non_null(strstr(t, "not available"));
}

static void
json_is_valid_with_every_field(void **state)
{
	struct fixture *f = *state;
	const char *j = render(f, true);
	static const char *const fields[] = {
		"{\"schema\":1,\"cluster\":{\"name\":\"lab\",\"local_node_id\":2,"
		    "\"transport\":\"knet\",\"link_count\":2,\"nodes\":[",
		"{\"id\":2,\"name\":\"alpha\",\"votes\":1,\"addrs\":[{\"link\":0,"
		    "\"addr\":\"10.0.0.2\"},{\"link\":1,\"addr\":\"10.1.0.2\"}],"
		    "\"heuristics\":\"Pass\"}",
		"\"name\":\"be\\\"ta\"",
		"{\"id\":11,\"name\":null,\"votes\":2,",
		"\"expected_votes\":null,\"two_node\":false,\"wait_for_all\":false,"
		    "\"last_man_standing\":false,\"auto_tie_breaker\":false,"
		    "\"auto_tie_breaker_node\":\"lowest\",\"token_ms\":3000,"
		    "\"consensus_ms\":3600,\"device\":{\"model\":\"net\",\"votes\":null,"
		    "\"algorithm\":\"ffsplit\",\"tie_breaker\":{\"mode\":\"node_id\","
		    "\"node_id\":7},\"keep_active_partition_tie_breaker\":true,"
		    "\"heuristics_mode\":\"off\",\"host\":\"192.0.2.9\",\"port\":5403,"
		    "\"tls\":\"on\"",
		"\"knet\":[{\"node_id\":7,\"link\":0,\"connected\":true,\"latency_avg_us\":450,"
		    "\"latency_max_us\":900},{\"node_id\":11,\"link\":1,\"connected\":false,"
		    "\"latency_avg_us\":null,\"latency_max_us\":null}]",
		"\"arithmetic\":{\"node_votes\":4,\"device_votes\":3,\"expected_votes\":7,"
		    "\"quorum\":4,\"node_failures_with_arbiter\":2,"
		    "\"node_failures_without_arbiter\":1}",
		"\"matrix\":{\"complete\":true,\"note\":null,\"rows\":[",
		"{\"scenario\":\"no failure\",\"kind\":\"none\",\"quorate\":[2,7,11],"
		    "\"verdict\":\"survives\",\"race\":false,\"quorate_alt\":[],"
		    "\"stands_out\":false,",
		"{\"scenario\":\"partition 7 | 2 11\",\"kind\":\"partition\","
		    "\"quorate\":[2,11],\"verdict\":\"degraded\",\"race\":true,"
		    "\"quorate_alt\":[7],\"stands_out\":true,\"failure\":{\"nodes_down\":[],"
		    "\"links_down\":[],\"arbiter_down\":false,\"arbiter_path_down\":[],"
		    "\"partitioned\":true,\"side_a\":[7],\"side_b\":[2,11]}}",
		"{\"scenario\":\"node 11 down + arbiter down\",\"kind\":\"double\","
		    "\"quorate\":[],\"verdict\":\"nobody quorate\",",
		"\"failure\":{\"nodes_down\":[11],\"links_down\":[],\"arbiter_down\":true,"
		    "\"arbiter_path_down\":[],\"partitioned\":false,\"side_a\":[],\"side_b\":[]}",
		"\"kind\":\"link\"",
		"\"links_down\":[1]",
		"],\"stand_out_count\":2}",
		"\"checks\":[{\"id\":\"links.count\",\"level\":\"OK\",\"text\":\"2 links\"},"
		    "{\"id\":\"links.latency\",\"level\":\"WARN\",",
		"{\"id\":\"arbiter.path\",\"level\":\"FAIL\",",
		"\"qdevice\":{\"known\":true,\"state\":\"Connected\",\"connected\":true,"
		    "\"vote\":\"ACK\",\"error\":null},\"exit_status\":2}\n",
	};

	assert_true(json_valid(j));
	assert_non_null(strchr(j, '\n'));
	assert_true(strchr(j, '\n')[1] == '\0');	/* one line */
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (strstr(j, fields[i]) == NULL)
			fail_msg("missing %s\nin %s", fields[i], j);
	}
}

static void
json_without_device_checks_or_qdevice(void **state)
{
	struct fixture *f = *state;
	const char *j;

	f->c.has_device = false;
	f->r.checks_run = false;
	f->r.check_count = 0;
	f->e.qdevice_known = false;
	f->e.qdevice_error = "no \"qdevice\"\n";
	f->e.links = NULL;
	f->m.partitions_complete = false;
	f->m.limits_note = "a subset";
	j = render(f, true);
	assert_true(json_valid(j));
	assert_non_null(strstr(j, "\"device\":null"));
	assert_non_null(strstr(j, "\"knet\":[]"));
	assert_non_null(strstr(j, "\"checks\":null"));
	assert_non_null(strstr(j, "\"complete\":false,\"note\":\"a subset\""));
	assert_non_null(strstr(j, "\"qdevice\":{\"known\":false,\"state\":null,"
	    "\"connected\":null,\"vote\":null,\"error\":\"no \\\"qdevice\\\"\\n\"}"));
	assert_non_null(strstr(j, "\"exit_status\":0}"));
}

static void
the_validator_rejects_broken_json(void **state)
{
	(void)state;
	/* Proof that json_valid() would catch a printer slip. */
	assert_false(json_valid("{\"a\":1,}"));
	assert_false(json_valid("{\"a\":[1 2]}"));
	assert_false(json_valid("{\"a\":\"x\ny\"}"));
	assert_false(json_valid("{\"a\":01}"));
	assert_false(json_valid("{\"a\":1}{"));
	assert_true(json_valid("{\"a\":[1,{\"b\":null}],\"c\":\"\\u0041\"}"));
}

static void
exit_status_follows_worst_check(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(plan_report_exit_status(&f->r), 2);
	f->r.check_count = 2;
	assert_int_equal(plan_report_exit_status(&f->r), 1);
	f->r.check_count = 1;
	assert_int_equal(plan_report_exit_status(&f->r), 0);
	f->r.check_count = 0;
	assert_int_equal(plan_report_exit_status(&f->r), 0);
}

static void
bad_row_is_nobody_or_race(void **state)
{
	struct fixture *f = *state;

	assert_false(plan_row_is_bad(&f->rows[0]));
	assert_false(plan_row_is_bad(&f->rows[1]));
	assert_true(plan_row_is_bad(&f->rows[2]));
	assert_true(plan_row_is_bad(&f->rows[3]));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(text_marks_bad_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(text_states_subset_and_missing_qdevice, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(json_is_valid_with_every_field, setup, teardown),
		cmocka_unit_test_setup_teardown(json_without_device_checks_or_qdevice, setup,
		    teardown),
		cmocka_unit_test(the_validator_rejects_broken_json),
		cmocka_unit_test_setup_teardown(exit_status_follows_worst_check, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_row_is_nobody_or_race, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
