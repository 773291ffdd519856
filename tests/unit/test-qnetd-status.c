/*
 * tests/unit/test-qnetd-status.c: what qnetd's admin socket answers
 * (qnetd/ipc.c, qnetd/status.c) compared with upstream corosync-qnetd
 * 3.0.3: the lines of `list`, the order of its clusters, and the request
 * lines upstream's corosync-qnetd-tool sends. Clients join through the
 * real message dispatch, without sockets.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/ipc.h"
#include "common/node-list.h"
#include "qnetd/client.h"
#include "qnetd/cluster.h"
#include "qnetd/dispatch.h"
#include "qnetd/instance.h"
#include "qnetd/ipc.h"
#include "tests/unit/qnetd-fixture.h"

struct fixture {
	struct qnetd_fixture	 q;
	char			*reply;	/* body of the last request */
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	qnetd_fixture_init(&f->q);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	free(f->reply);
	qnetd_fixture_fini(&f->q);
	free(f);
	return 0;
}

/* A client of cluster that joined with ffsplit and tie-breaker lowest, nothing more. */
static struct qnetd_client *
join(struct fixture *f, const char *cluster, uint32_t node)
{
	return qnetd_fixture_join(&f->q, cluster, node, ALGORITHM_FFSPLIT);
}

/* One admin request as the socket would run it; the body lands in f->reply. */
static enum ipc_reply
request(struct fixture *f, const char *line)
{
	size_t len = 0;
	FILE *out;
	enum ipc_reply r;

	free(f->reply);
	f->reply = NULL;
	out = open_memstream(&f->reply, &len);
	assert_non_null(out);
	r = qnetd_ipc_execute(&f->q.inst, line, out);
	assert_int_equal(fclose(out), 0);
	return r;
}

static void
expect_ok(struct fixture *f, const char *line)
{
	if (request(f, line) != IPC_REPLY_OK)
		fail_msg("'%s' answered Error: %s", line, f->reply);
}

static bool
has(const struct fixture *f, const char *text)
{
	return strstr(f->reply, text) != NULL;
}

/* Names of the clusters in the reply of a text list, "a b c". */
static void
cluster_order(const struct fixture *f, char *names, size_t size)
{
	const char *p = f->reply;
	size_t used = 0;

	names[0] = '\0';
	while ((p = strstr(p, "Cluster \"")) != NULL) {
		const char *name = p + strlen("Cluster \""), *end = strchr(name, '"');

		assert_non_null(end);
		used += (size_t)snprintf(names + used, size - used, "%s%.*s", used ? " " : "",
		    (int)(end - name), name);
		assert_true(used < size);
		p = end;
	}
}

/* Upstream: no Vote line before the first vote, no "(...)" before the first ACK/NACK. */
static void
vote_line_only_once_voted(void **state)
{
	struct fixture *f = *state;
	struct qnetd_client *c = join(f, "lab", 1);

	expect_ok(f, "list");
	assert_true(has(f, "    Node ID 1:\n        Client address:\t\t192.0.2.1:5403\n"));
	assert_false(has(f, "Vote:"));

	c->last_sent_vote = VOTE_ASK_LATER;
	expect_ok(f, "list");
	assert_true(has(f, "        Vote:\t\t\tAsk later\n"));

	c->last_sent_vote = VOTE_NO_CHANGE;
	c->last_sent_ack_nack_vote = VOTE_ACK;
	expect_ok(f, "list verbose");
	assert_true(has(f, "        Vote:\t\t\tNo change (ACK)\n"));
}

/* Upstream: a list line only for a non-empty list; data center ids on both lists. */
static void
node_list_lines(void **state)
{
	struct fixture *f = *state;
	struct qnetd_client *c = join(f, "lab", 1);
	struct node_info with_dc = { .node_id = 1, .data_center_id = 7 };

	c->algo.config_set = true;
	c->algo.membership_set = true;
	expect_ok(f, "list");
	assert_false(has(f, "Configured node list:"));
	assert_false(has(f, "Membership node list:"));

	assert_int_equal(node_list_add(&c->algo.config, &with_dc), 0);
	assert_int_equal(node_list_add_id(&c->algo.config, 2), 0);
	assert_int_equal(node_list_add(&c->algo.membership, &with_dc), 0);
	assert_int_equal(node_list_add_id(&c->algo.membership, 2), 0);
	expect_ok(f, "list");
	assert_true(has(f, "        Configured node list:\t1 (7), 2\n"));
	assert_true(has(f, "        Membership node list:\t1 (7), 2\n"));
}

/*
 * Upstream lists clusters in creation order. Sixteen names created in
 * reverse order would come out of a hash walk in this order by chance
 * once in 16! tries.
 */
static void
clusters_in_creation_order(void **state)
{
	struct fixture *f = *state;
	char want[256] = "", got[256], name[8];
	struct qnetd_client *creator = NULL;

	for (int i = 15; i >= 0; i--) {
		snprintf(name, sizeof(name), "c%02d", i);
		if (i == 15)
			creator = join(f, name, 1);
		else
			join(f, name, 1);
		snprintf(want + strlen(want), sizeof(want) - strlen(want), "%s%s",
		    i == 15 ? "" : " ", name);
	}
	/* A later node of the first cluster does not move it, even once its creator left. */
	join(f, "c15", 2);
	qnetd_cluster_leave(creator, false);
	qnetd_client_destroy(creator);
	expect_ok(f, "list");
	cluster_order(f, got, sizeof(got));
	assert_string_equal(got, want);
	expect_ok(f, "list verbose");
	cluster_order(f, got, sizeof(got));
	assert_string_equal(got, want);

	/* The JSON list in the same order. */
	expect_ok(f, "list json");
	assert_true(strstr(f->reply, "\"name\":\"c15\"") < strstr(f->reply, "\"name\":\"c14\""));
	assert_true(strstr(f->reply, "\"name\":\"c01\"") < strstr(f->reply, "\"name\":\"c00\""));
}

/* Upstream: cluster "" (and "cluster" without a name) is no filter at all. */
static void
empty_cluster_name_lists_all(void **state)
{
	struct fixture *f = *state;
	char got[64];

	join(f, "alpha", 1);
	join(f, "beta", 1);
	expect_ok(f, "list cluster \"\"");
	cluster_order(f, got, sizeof(got));
	assert_string_equal(got, "alpha beta");
	expect_ok(f, "list verbose cluster");
	cluster_order(f, got, sizeof(got));
	assert_string_equal(got, "alpha beta");
	expect_ok(f, "list json cluster \"\"");
	assert_true(has(f, "\"name\":\"alpha\"") && has(f, "\"name\":\"beta\""));

	expect_ok(f, "list cluster \"beta\"");
	cluster_order(f, got, sizeof(got));
	assert_string_equal(got, "beta");
	expect_ok(f, "list cluster \"gamma\"");
	assert_string_equal(f->reply, "");
}

/*
 * The lines corosync-qnetd-tool 3.0.3 sends: the operation word, "verbose "
 * for -v, "cluster \"NAME\" " for -c whatever the operation, one trailing
 * blank. Upstream's daemon ignores what it does not need; so must we.
 */
static void
upstream_tool_requests(void **state)
{
	struct fixture *f = *state;

	join(f, "lab", 1);
	join(f, "other", 1);

	expect_ok(f, "status \n");
	assert_true(has(f, "Connected clusters:\t\t2\n"));
	assert_false(has(f, "Maximum send/receive size:"));
	expect_ok(f, "status verbose \n");
	assert_true(has(f, "Maximum send/receive size:\t"));
	expect_ok(f, "status cluster \"lab\" \n");
	assert_true(has(f, "QNetd address:\t\t\t*:"));
	assert_false(has(f, "Maximum send/receive size:"));
	expect_ok(f, "status verbose cluster \"lab\" \n");
	assert_true(has(f, "Maximum send/receive size:\t"));

	expect_ok(f, "list verbose cluster \"lab\" \n");
	assert_true(has(f, "Cluster \"lab\":\n") && has(f, "HB interval:\t\t8000ms\n"));
	assert_false(has(f, "other"));
	/* Reading stops at an unknown word, as upstream's does. */
	expect_ok(f, "list verbose bogus cluster \"lab\"");
	assert_true(has(f, "Cluster \"other\":\n") && has(f, "HB interval:"));
	expect_ok(f, "LIST Cluster \"lab\"");
	assert_false(has(f, "other"));

	/* -H, -H -v, -H -c x: the worker path answers OK, not Error. */
	expect_ok(f, "shutdown \n");
	expect_ok(f, "shutdown verbose \n");
	expect_ok(f, "shutdown verbose cluster \"lab\" \n");
	assert_string_equal(f->reply, "");

	/* Our extensions keep working. */
	expect_ok(f, "status json");
	assert_true(f->reply[0] == '{' && has(f, "\"connected_clusters\":2"));
	expect_ok(f, "list json cluster \"lab\"");
	assert_true(has(f, "{\"clusters\":[{\"name\":\"lab\"") && !has(f, "other"));
	expect_ok(f, "metrics");
	assert_true(has(f, "qnetd_clusters 2\n"));

	assert_int_equal(request(f, "bogus verbose"), IPC_REPLY_ERROR);
	assert_string_equal(f->reply, "Unknown command 'bogus'");
}

/* Lines of the reply that start with `prefix`. */
static int
lines_starting(const struct fixture *f, const char *prefix)
{
	int n = 0;

	for (const char *p = f->reply; p != NULL && *p != '\0'; ) {
		if (strncmp(p, prefix, strlen(prefix)) == 0)
			n++;
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return n;
}

static int
occurrences(const struct fixture *f, const char *text)
{
	int n = 0;

	for (const char *p = f->reply; (p = strstr(p, text)) != NULL; p += strlen(text))
		n++;
	return n;
}

static bool
all_ascii(const struct fixture *f)
{
	for (const unsigned char *p = (const unsigned char *)f->reply; *p != '\0'; p++)
		if (*p >= 0x80)
			return false;
	return true;
}

/*
 * Cluster names are whatever bytes a client sent. One that is not UTF-8,
 * one with a newline and one holding the text of an escape: every output
 * stays valid UTF-8 (here: ASCII), one name stays one line, and all of
 * them stay distinct; a plain name prints exactly as upstream's.
 */
static void
peer_names_shown_escaped(void **state)
{
	/* The four names as each output shows them, in the order joined. */
	static const struct {
		const char	*command;
		const char	*shown[4];
	} outputs[] = {
		{ "list", { "Cluster \"al\\xffpha\":\n",
		    "\nCluster \"evil\\x0aCluster name: forged\":\n",
		    "\nCluster \"al\\x5cxffpha\":\n", "\nCluster \"plain-ascii\":\n" } },
		{ "list json", { "{\"name\":\"al\\\\xffpha\",",
		    ",{\"name\":\"evil\\nCluster name: forged\",",
		    ",{\"name\":\"al\\\\x5cxffpha\",", ",{\"name\":\"plain-ascii\"," } },
		{ "metrics", { "\nqnetd_cluster_nodes{cluster=\"al\\\\xffpha\"} 1\n",
		    "\nqnetd_cluster_nodes{cluster=\"evil\\\\x0aCluster name: forged\"} 1\n",
		    "\nqnetd_cluster_nodes{cluster=\"al\\\\x5cxffpha\"} 1\n",
		    "\nqnetd_cluster_nodes{cluster=\"plain-ascii\"} 1\n" } },
	};
	struct fixture *f = *state;
	struct qnetd_client *evil;

	join(f, "al\xffpha", 1);
	evil = join(f, "evil\nCluster name: forged", 1);
	join(f, "al\\xffpha", 1);
	join(f, "plain-ascii", 1);

	for (size_t i = 0; i < sizeof(outputs) / sizeof(outputs[0]); i++) {
		expect_ok(f, outputs[i].command);
		assert_true(all_ascii(f));
		for (size_t k = 0; k < 4; k++)
			if (!has(f, outputs[i].shown[k]))
				fail_msg("%s: %s missing", outputs[i].command, outputs[i].shown[k]);
		if (i == 0) {
			/* the list starts with the first cluster, one line each */
			assert_int_equal(lines_starting(f, "Cluster "), 4);
			assert_true(strncmp(f->reply, outputs[0].shown[0],
			    strlen(outputs[0].shown[0])) == 0);
		}
	}

	/* Every log line about the client starts with its ident. */
	assert_null(strchr(evil->ident, '\n'));
	assert_string_equal(evil->ident,
	    "client 192.0.2.1:5403 (cluster evil\\x0aCluster name: forged, node 1)");
}

/*
 * 400 clients, each with configuration and membership lists of 2727 nodes
 * (the most a 32768-byte message holds): the list replies must fit the
 * admin socket's default reply limit (12 MB of text, 44 MB of JSON;
 * upstream's 10 MiB limit turned both into "Reply is too long").
 */
#define BIG_CLIENTS	400
#define BIG_NODES	2727

static void
long_list_fits_the_reply_limit(void **state)
{
	struct fixture *f = *state;
	char name[16];
	size_t len;

	for (uint32_t i = 0; i < BIG_CLIENTS; i++) {
		struct qnetd_client *c;

		snprintf(name, sizeof(name), "big-%u", (unsigned)i);
		c = join(f, name, 1);
		c->algo.config_set = true;
		c->algo.membership_set = true;
		for (uint32_t n = 1; n <= BIG_NODES; n++) {
			assert_int_equal(node_list_add_id(&c->algo.config, n), 0);
			assert_int_equal(node_list_add_id(&c->algo.membership, n), 0);
		}
	}
	expect_ok(f, "list");
	len = strlen(f->reply);
	assert_int_equal(lines_starting(f, "Cluster \"big-"), BIG_CLIENTS);
	assert_int_equal(lines_starting(f, "        Configured node list:\t1, 2, 3, "),
	    BIG_CLIENTS);
	assert_true(has(f, ", 2726, 2727\n        Membership node list:\t1, 2, "));
	assert_true(len + 16 <= f->q.settings.ipc_max_send_size);

	expect_ok(f, "list json");
	len = strlen(f->reply);
	assert_true(strncmp(f->reply, "{\"clusters\":[{\"name\":\"big-0\",", 29) == 0);
	assert_int_equal(occurrences(f, "{\"name\":\"big-"), BIG_CLIENTS);
	assert_int_equal(occurrences(f, ",{\"node_id\":2727,\"data_center_id\":0}],"),
	    BIG_CLIENTS);
	assert_int_equal(occurrences(f, "\"membership_node_list\":[1,2,3,"), BIG_CLIENTS);
	assert_int_equal(occurrences(f, ",2726,2727],\"heuristics\""), BIG_CLIENTS);
	assert_string_equal(f->reply + len - 6, "}]}]}\n");
	assert_true(len + 16 <= f->q.settings.ipc_max_send_size);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(vote_line_only_once_voted, setup, teardown),
		cmocka_unit_test_setup_teardown(node_list_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(clusters_in_creation_order, setup, teardown),
		cmocka_unit_test_setup_teardown(empty_cluster_name_lists_all, setup, teardown),
		cmocka_unit_test_setup_teardown(upstream_tool_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(peer_names_shown_escaped, setup, teardown),
		cmocka_unit_test_setup_teardown(long_list_fits_the_reply_limit, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
