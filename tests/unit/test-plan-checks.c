/*
 * tests/unit/test-plan-checks.c: the planner's readiness checks
 * (qdevice/plan-checks.c) from hand-built facts: a healthy baseline where
 * every check is OK, then each check's OK/WARN/FAIL boundary by changing
 * one fact. The probes (qdevice/plan-probe.c) are tested on loopback
 * only: name resolution, a connect to a listening and a closed port, the
 * route to 127.0.0.1, the sbd file parser.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "qdevice/corosync-config.h"
#include "qdevice/plan-checks.h"
#include "test-util.h"

#define MAX_NODES	6

struct world {
	struct plan_cluster	c;
	struct plan_node	nodes[MAX_NODES];
	struct plan_env		env;
	struct plan_link_state	links[MAX_NODES][PLAN_MAX_LINKS];
	struct plan_probe	p;
	struct plan_probe_node	pnodes[MAX_NODES];
	struct plan_iface_addr	ifaces[4];
	char			addr_text[MAX_NODES][PLAN_MAX_LINKS][48];
	char			names[MAX_NODES][16];
	struct plan_checks	out;
};

static void
resolved_as(struct plan_resolved *r, const char *text)
{
	memset(r, 0, sizeof(*r));
	r->tried = true;
	r->ok = plan_ip_parse(text, &r->addrs[0]);
	r->count = r->ok ? 1 : 0;
	if (!r->ok)
		snprintf(r->error, sizeof(r->error), "Name or service not known");
}

static void
set_addr(struct world *w, size_t i, size_t l, const char *text)
{
	if (text == NULL) {
		w->nodes[i].addrs[l] = NULL;
		memset(&w->pnodes[i].ring[l], 0, sizeof(w->pnodes[i].ring[l]));
		return;
	}
	snprintf(w->addr_text[i][l], sizeof(w->addr_text[i][l]), "%s", text);
	w->nodes[i].addrs[l] = w->addr_text[i][l];
	resolved_as(&w->pnodes[i].ring[l], text);
}

/*
 * n nodes (ids 1..n, names n1..), two links: 127.0.L.id, this node is 1
 * with link 0 on "eth0" (127.0.0.1/24) and link 1 on "eth1"; a quorum
 * device (ffsplit unless n is odd: lms) at 127.0.0.200, reached via "eth2".
 */
static void
build(struct world *w, size_t n)
{
	plan_checks_fini(&w->out);
	memset(w, 0, sizeof(*w));
	for (size_t i = 0; i < n; i++) {
		char a[48];

		w->nodes[i].id = (uint32_t)i + 1;
		w->nodes[i].votes = 1;
		snprintf(w->names[i], sizeof(w->names[i]), "n%zu", i + 1);
		w->nodes[i].name = w->names[i];
		for (size_t l = 0; l < 2; l++) {
			snprintf(a, sizeof(a), "127.0.%zu.%zu", l, i + 1);
			set_addr(w, i, l, a);
			w->links[i][l] = (struct plan_link_state){ .known = true, .connected = true,
			    .latency_known = true, .latency_avg_us = 150, .latency_max_us = 400 };
		}
		snprintf(a, sizeof(a), "127.0.0.%zu", i + 1);
		resolved_as(&w->pnodes[i].name, a);
	}
	w->c.nodes = w->nodes;
	w->c.node_count = n;
	w->c.link_count = 2;
	w->c.has_device = true;
	w->c.algorithm = n % 2 ? ALGORITHM_LMS : ALGORITHM_FFSPLIT;
	w->c.heuristics_mode = HEURISTICS_MODE_OFF;

	w->env.local_node_id = 1;
	w->env.transport = "knet";
	w->env.arbiter_host = "127.0.0.200";
	w->env.arbiter_port = 5403;
	w->env.tls = TLS_MODE_ON;
	w->env.token_ms = 3000;
	w->env.consensus_ms = 3600;
	w->env.device_timeout_ms = 10000;
	w->env.device_sync_timeout_ms = 30000;
	w->env.heuristics_timeout_ms = 5000;
	w->env.heuristics_sync_timeout_ms = 15000;
	w->env.links = w->links;
	w->env.qdevice_known = true;
	w->env.qdevice_connected = true;
	w->env.qdevice_state = "Connected";
	w->env.qdevice_vote = "ACK";
	w->env.nss_db_dir = "/etc/corosync/qdevice/net/nssdb";
	w->env.client_cert_nickname = "Cluster Cert";

	w->p.nodes = w->pnodes;
	w->p.node_count = n;
	w->p.ifaces = w->ifaces;
	w->p.iface_count = 3;
	w->p.ifaces_known = true;
	snprintf(w->ifaces[0].name, sizeof(w->ifaces[0].name), "eth0");
	plan_ip_parse("127.0.0.1", &w->ifaces[0].addr);
	w->ifaces[0].prefix_len = 24;
	snprintf(w->ifaces[1].name, sizeof(w->ifaces[1].name), "eth1");
	plan_ip_parse("127.0.1.1", &w->ifaces[1].addr);
	w->ifaces[1].prefix_len = 24;
	snprintf(w->ifaces[2].name, sizeof(w->ifaces[2].name), "eth2");
	plan_ip_parse("127.0.5.1", &w->ifaces[2].addr);
	w->ifaces[2].prefix_len = 24;
	w->p.ntp_known = true;
	w->p.ntp_synced = true;
	w->p.ntp_offset_us = 120;
	w->p.ntp_maxerror_us = 5000;
	resolved_as(&w->p.arbiter, "127.0.0.200");
	w->p.connect = PLAN_CONNECT_OK;
	w->p.connect_addr = w->p.arbiter.addrs[0];
	w->p.connect_ms = 1;
	w->p.route_known = true;
	plan_ip_parse("127.0.5.1", &w->p.route_source);
	snprintf(w->p.route_iface, sizeof(w->p.route_iface), "eth2");
	w->p.cert_known = true;
	w->p.cert_found = true;
	w->p.cert_days_left = 365;
	w->p.sbd_known = true;
}

static const struct plan_check *
run(struct world *w, const char *id)
{
	const struct plan_check *item;

	plan_checks_fini(&w->out);
	assert_int_equal(plan_checks_run(&w->c, &w->env, &w->p, &w->out), 0);
	item = plan_checks_find(&w->out, id);
	assert_non_null(item);
	assert_non_null(item->text);
	assert_null(strchr(item->text, '\n'));
	return item;
}

/* Check id gives level and, unless needle is NULL, a text holding needle. */
static void
check_gives(struct world *w, const char *id, int level, const char *needle)
{
	const struct plan_check *item = run(w, id);

	if ((int)item->level != level)
		fail_msg("%s: level %d, want %d (%s)", id, (int)item->level, level, item->text);
	if (needle != NULL && strstr(item->text, needle) == NULL)
		fail_msg("%s: \"%s\" lacks \"%s\"", id, item->text, needle);
}

static bool
text_has(struct world *w, const char *id, const char *needle)
{
	const struct plan_check *item = run(w, id);

	if (strstr(item->text, needle) != NULL)
		return true;
	print_error("%s: \"%s\" lacks \"%s\"\n", id, item->text, needle);
	return false;
}

static int
setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return -1;
	build(w, 4);
	*state = w;
	return 0;
}

static int
teardown(void **state)
{
	struct world *w = *state;

	plan_checks_fini(&w->out);
	free(w);
	return 0;
}

static const char *const all_ids[] = {
	"links.count", "links.status", "links.latency", "links.subnet", "names.resolve",
	"clock.sync", "arbiter.reachable", "arbiter.not-member", "arbiter.path", "qdevice.state",
	"timeouts.device", "timeouts.heartbeat", "timeouts.sbd", "cert.expiry", "votes.even",
};

static void
test_healthy_baseline_all_ok(void **state)
{
	struct world *w = *state;

	run(w, "links.count");
	assert_int_equal(w->out.count, sizeof(all_ids) / sizeof(all_ids[0]));
	for (size_t i = 0; i < w->out.count; i++) {
		assert_string_equal(w->out.items[i].id, all_ids[i]);
		if (w->out.items[i].level != PLAN_CHECK_OK)
			print_error("%s: %s\n", w->out.items[i].id, w->out.items[i].text);
		assert_int_equal(w->out.items[i].level, PLAN_CHECK_OK);
	}
	assert_int_equal(plan_checks_worst(&w->out), PLAN_CHECK_OK);
	assert_true(text_has(w, "clock.sync", "not measured"));
}

static void
test_worst_and_bad_input(void **state)
{
	struct world *w = *state;
	struct plan_checks none = { 0 };

	assert_int_equal(plan_checks_worst(&none), PLAN_CHECK_OK);
	w->p.cert_found = false;			/* FAIL */
	w->links[1][0].connected = false;		/* WARN */
	run(w, "cert.expiry");
	assert_int_equal(plan_checks_worst(&w->out), PLAN_CHECK_FAIL);
	assert_int_equal(plan_checks_run(NULL, &w->env, NULL, &none), -EINVAL);

	/* Nothing probed and nothing known: every probed fact says unknown, no OK by default. */
	build(w, 2);
	plan_checks_fini(&w->out);
	assert_int_equal(plan_checks_run(&w->c, &w->env, NULL, &w->out), 0);
	for (size_t i = 0; i < w->out.count; i++) {
		const char *id = w->out.items[i].id;

		if (strcmp(id, "links.count") && strcmp(id, "links.status") &&
		    strcmp(id, "links.latency") && strcmp(id, "links.subnet") &&
		    strcmp(id, "timeouts.device") && strcmp(id, "timeouts.heartbeat") &&
		    strcmp(id, "votes.even") && strcmp(id, "qdevice.state"))
			assert_int_equal(w->out.items[i].level, PLAN_CHECK_WARN);
	}
	/* An empty cluster: no crash, the node count is unknown. */
	w->c.node_count = 0;
	w->env.links = NULL;
	check_gives(w, "votes.even", PLAN_CHECK_WARN, NULL);
	check_gives(w, "links.status", PLAN_CHECK_WARN, NULL);
}

static void
test_links_count(void **state)
{
	struct world *w = *state;

	set_addr(w, 2, 1, NULL);
	check_gives(w, "links.count", PLAN_CHECK_WARN, "node 3 (n3) has 1 link");
	set_addr(w, 2, 0, NULL);
	assert_true(text_has(w, "links.count", "node 3 (n3) has no ring address"));
	build(w, 4);
	w->env.transport = "udpu";
	check_gives(w, "links.count", PLAN_CHECK_WARN, NULL);
	w->env.transport = NULL;
	check_gives(w, "links.count", PLAN_CHECK_WARN, NULL);
}

static void
test_links_status(void **state)
{
	struct world *w = *state;

	w->links[1][1].connected = false;
	check_gives(w, "links.status", PLAN_CHECK_WARN, "node 2 (n2) link 1 down");
	w->links[1][0].connected = false;
	check_gives(w, "links.status", PLAN_CHECK_FAIL, "unreachable on every link");
	/* This node's own row is never judged. */
	build(w, 4);
	w->links[0][0].connected = false;
	w->links[0][1].connected = false;
	check_gives(w, "links.status", PLAN_CHECK_OK, NULL);
	w->links[3][0].known = false;
	check_gives(w, "links.status", PLAN_CHECK_WARN, NULL);
	build(w, 4);
	w->env.local_node_id = 0;
	check_gives(w, "links.status", PLAN_CHECK_WARN, NULL);
}

static void
test_links_latency_2ms(void **state)
{
	struct world *w = *state;

	w->links[2][1].latency_avg_us = 2000;
	check_gives(w, "links.latency", PLAN_CHECK_OK, NULL);
	w->links[2][1].latency_avg_us = 2001;
	check_gives(w, "links.latency", PLAN_CHECK_WARN, "node 3 (n3) link 1 average 2.001 ms");
	build(w, 4);
	for (size_t i = 0; i < 4; i++)
		for (size_t l = 0; l < 2; l++)
			w->links[i][l].latency_known = false;
	check_gives(w, "links.latency", PLAN_CHECK_WARN, NULL);
	/* A down link's latency is links.status's business. */
	build(w, 4);
	w->links[1][0].connected = false;
	w->links[1][0].latency_avg_us = 90000;
	check_gives(w, "links.latency", PLAN_CHECK_OK, NULL);
}

static void
test_links_subnet(void **state)
{
	struct world *w = *state;

	assert_true(text_has(w, "links.subnet", "link 0 in 127.0.0.0/24 (netmask of eth0)"));
	set_addr(w, 3, 0, "127.0.9.4");
	check_gives(w, "links.subnet", PLAN_CHECK_WARN,
	    "node 4 127.0.9.4 is outside 127.0.0.0/24 (eth0)");
	/* The interface's netmask decides, not a guess. */
	w->ifaces[0].prefix_len = 16;
	check_gives(w, "links.subnet", PLAN_CHECK_OK, NULL);
	/* Without a local interface for the address, /24 is assumed and said. */
	w->ifaces[0].prefix_len = 24;
	w->p.ifaces_known = false;
	check_gives(w, "links.subnet", PLAN_CHECK_WARN, "(assumed)");
	set_addr(w, 3, 0, "127.0.0.4");
	check_gives(w, "links.subnet", PLAN_CHECK_OK, "assumed");
	set_addr(w, 3, 0, "::1");
	check_gives(w, "links.subnet", PLAN_CHECK_FAIL, NULL);
}

static void
test_names_resolve(void **state)
{
	struct world *w = *state;

	resolved_as(&w->pnodes[1].name, "127.0.7.7");
	check_gives(w, "names.resolve", PLAN_CHECK_WARN,
	    "name n2 of node 2 resolves to 127.0.7.7");
	/* Any of the node's ring addresses will do. */
	resolved_as(&w->pnodes[1].name, "127.0.1.2");
	check_gives(w, "names.resolve", PLAN_CHECK_OK, NULL);
	resolved_as(&w->pnodes[1].name, "not-an-address");
	check_gives(w, "names.resolve", PLAN_CHECK_WARN, "does not resolve");
	build(w, 4);
	set_addr(w, 2, 1, "n3-ring1.invalid");	/* a ring address name that did not resolve */
	check_gives(w, "names.resolve", PLAN_CHECK_FAIL, NULL);
	build(w, 4);
	w->nodes[3].name = NULL;		/* no name: nothing to compare */
	check_gives(w, "names.resolve", PLAN_CHECK_OK, NULL);
}

static void
test_clock_sync(void **state)
{
	struct world *w = *state;

	w->p.ntp_synced = false;
	check_gives(w, "clock.sync", PLAN_CHECK_WARN, "not measured");
	w->p.ntp_known = false;
	check_gives(w, "clock.sync", PLAN_CHECK_WARN, "unknown");
}

static void
test_arbiter_reachable(void **state)
{
	struct world *w = *state;

	w->p.connect = PLAN_CONNECT_REFUSED;
	snprintf(w->p.connect_error, sizeof(w->p.connect_error), "Connection refused");
	check_gives(w, "arbiter.reachable", PLAN_CHECK_FAIL,
	    "not reachable now (Connection refused)");
	w->p.connect = PLAN_CONNECT_TIMEOUT;
	check_gives(w, "arbiter.reachable", PLAN_CHECK_FAIL, NULL);
	w->p.connect = PLAN_CONNECT_UNKNOWN;
	check_gives(w, "arbiter.reachable", PLAN_CHECK_WARN, NULL);
	w->p.connect = PLAN_CONNECT_OK;
	w->env.qdevice_connected = false;
	w->env.qdevice_state = "Connect failed";
	check_gives(w, "arbiter.reachable", PLAN_CHECK_WARN, NULL);
	resolved_as(&w->p.arbiter, "qnetd.invalid");
	check_gives(w, "arbiter.reachable", PLAN_CHECK_FAIL, "does not resolve");
	/* No device: nothing to reach. */
	w->c.has_device = false;
	w->env.arbiter_host = NULL;
	check_gives(w, "arbiter.reachable", PLAN_CHECK_OK, NULL);
	w->c.has_device = true;
	check_gives(w, "arbiter.reachable", PLAN_CHECK_WARN, NULL);
}

static void
test_qdevice_state(void **state)
{
	struct world *w = *state;

	check_gives(w, "qdevice.state", PLAN_CHECK_OK, "vote ACK");
	w->env.qdevice_connected = false;
	w->env.qdevice_state = "Connect failed";
	check_gives(w, "qdevice.state", PLAN_CHECK_WARN, "state Connect failed");
	w->env.qdevice_known = false;
	w->env.qdevice_error = "No such file or directory";
	check_gives(w, "qdevice.state", PLAN_CHECK_WARN,
	    "does not answer on its socket (No such file");
	w->c.has_device = false;
	check_gives(w, "qdevice.state", PLAN_CHECK_OK, NULL);
}

static void
test_arbiter_not_member(void **state)
{
	struct world *w = *state;

	resolved_as(&w->p.arbiter, "127.0.1.3");
	check_gives(w, "arbiter.not-member", PLAN_CHECK_FAIL, "is node 3's ring1 address");
	/* On this host, even if no ring address: still the cluster's own. */
	resolved_as(&w->p.arbiter, "127.0.5.1");
	check_gives(w, "arbiter.not-member", PLAN_CHECK_FAIL, "is on this node (eth2)");
	resolved_as(&w->p.arbiter, "127.0.0.200");
	set_addr(w, 2, 0, "n3.invalid");
	check_gives(w, "arbiter.not-member", PLAN_CHECK_WARN, NULL);
	resolved_as(&w->p.arbiter, "nowhere.invalid");
	check_gives(w, "arbiter.not-member", PLAN_CHECK_WARN, NULL);
}

static void
test_arbiter_path(void **state)
{
	struct world *w = *state;

	/* Two corosync interfaces, arbiter through one of them: the other remains. */
	snprintf(w->p.route_iface, sizeof(w->p.route_iface), "eth0");
	check_gives(w, "arbiter.path", PLAN_CHECK_OK, NULL);
	/* One link only on this node: the arbiter shares its only interface. */
	set_addr(w, 0, 1, NULL);
	check_gives(w, "arbiter.path", PLAN_CHECK_WARN, "eth0, the only corosync interface");
	snprintf(w->p.route_iface, sizeof(w->p.route_iface), "eth2");
	check_gives(w, "arbiter.path", PLAN_CHECK_OK, NULL);
	w->p.route_known = false;
	check_gives(w, "arbiter.path", PLAN_CHECK_WARN, NULL);
}

static void
test_timeouts_device_budget(void **state)
{
	struct world *w = *state;

	/* timeout 50000: HB 40000, qnetd drops a dead node after 60000 ms. */
	w->env.device_timeout_ms = 50000;
	w->env.device_sync_timeout_ms = 60000 - 3000 - 3600;	/* window == 60000 */
	check_gives(w, "timeouts.device", PLAN_CHECK_FAIL, "= 60000 ms");
	w->env.device_sync_timeout_ms += 1;
	check_gives(w, "timeouts.device", PLAN_CHECK_OK, NULL);
	/* The clamp counts: timeout 200000 gives HB 120000, not 160000. */
	w->env.device_timeout_ms = 200000;
	w->env.device_sync_timeout_ms = 180000 - 6600 + 1;
	check_gives(w, "timeouts.device", PLAN_CHECK_OK, NULL);
	/* Membership heuristics must end within sync_timeout. */
	build(w, 4);
	w->c.heuristics_mode = HEURISTICS_MODE_ON;
	w->env.heuristics_sync_timeout_ms = 30000;
	check_gives(w, "timeouts.device", PLAN_CHECK_FAIL, NULL);
	w->env.heuristics_sync_timeout_ms = 29999;
	check_gives(w, "timeouts.device", PLAN_CHECK_OK, NULL);
	w->c.heuristics_mode = HEURISTICS_MODE_OFF;
	w->env.heuristics_sync_timeout_ms = 90000;
	check_gives(w, "timeouts.device", PLAN_CHECK_OK, NULL);
	w->env.consensus_ms = 0;
	check_gives(w, "timeouts.device", PLAN_CHECK_WARN, "totem consensus");
	w->c.has_device = false;
	check_gives(w, "timeouts.device", PLAN_CHECK_OK, NULL);
}

static void
test_timeouts_heartbeat(void **state)
{
	struct world *w = *state;

	w->env.token_ms = 1000;
	w->env.device_timeout_ms = 1250;		/* 0.8 x 1250 = 1000: not clamped */
	check_gives(w, "timeouts.heartbeat", PLAN_CHECK_OK, NULL);
	w->env.device_timeout_ms = 1249;		/* 999 -> clamped to 1000 */
	check_gives(w, "timeouts.heartbeat", PLAN_CHECK_WARN, "clamped");
	build(w, 4);
	w->env.token_ms = 12000;			/* qnetd's dead-peer time: 12000 */
	check_gives(w, "timeouts.heartbeat", PLAN_CHECK_OK, NULL);
	w->env.token_ms = 12001;
	check_gives(w, "timeouts.heartbeat", PLAN_CHECK_WARN, NULL);
	w->env.device_timeout_ms = 0;
	check_gives(w, "timeouts.heartbeat", PLAN_CHECK_WARN, NULL);
}

static void
test_timeouts_sbd(void **state)
{
	struct world *w = *state;

	assert_true(text_has(w, "timeouts.sbd", "not in use"));
	w->p.sbd_configured = true;
	w->p.sbd_timeout_set = true;
	w->p.sbd_watchdog_timeout_ms = 35000;		/* sync_timeout 30000 + 5 s */
	check_gives(w, "timeouts.sbd", PLAN_CHECK_OK, NULL);
	w->p.sbd_watchdog_timeout_ms = 34999;
	check_gives(w, "timeouts.sbd", PLAN_CHECK_WARN, NULL);
	w->p.sbd_watchdog_timeout_ms = 30001;
	check_gives(w, "timeouts.sbd", PLAN_CHECK_WARN, NULL);
	w->p.sbd_watchdog_timeout_ms = 30000;
	check_gives(w, "timeouts.sbd", PLAN_CHECK_FAIL, NULL);
	/* Not set in the file: sbd's default of 5 s applies. */
	w->p.sbd_timeout_set = false;
	check_gives(w, "timeouts.sbd", PLAN_CHECK_FAIL, "5000 ms (sbd's default)");
	/* The environment's figure, when plan-input has one, comes first. */
	w->env.sbd_watchdog_timeout_ms = 40000;
	check_gives(w, "timeouts.sbd", PLAN_CHECK_OK, NULL);
	w->env.device_sync_timeout_ms = 0;
	check_gives(w, "timeouts.sbd", PLAN_CHECK_WARN, NULL);
	w->env.sbd_watchdog_timeout_ms = 0;
	w->p.sbd_known = false;
	check_gives(w, "timeouts.sbd", PLAN_CHECK_WARN, NULL);
}

static void
test_cert_expiry(void **state)
{
	struct world *w = *state;

	w->p.cert_days_left = PLAN_CHECK_CERT_WARN_DAYS;
	check_gives(w, "cert.expiry", PLAN_CHECK_OK, NULL);
	w->p.cert_days_left = PLAN_CHECK_CERT_WARN_DAYS - 1;
	check_gives(w, "cert.expiry", PLAN_CHECK_WARN, NULL);
	w->p.cert_days_left = 0;
	check_gives(w, "cert.expiry", PLAN_CHECK_WARN, NULL);
	w->p.cert_days_left = -1;
	check_gives(w, "cert.expiry", PLAN_CHECK_FAIL, NULL);
	w->p.cert_found = false;
	check_gives(w, "cert.expiry", PLAN_CHECK_FAIL, NULL);
	w->env.tls = TLS_MODE_REQUIRED;
	check_gives(w, "cert.expiry", PLAN_CHECK_FAIL, NULL);
	w->p.cert_known = false;
	check_gives(w, "cert.expiry", PLAN_CHECK_WARN, NULL);
	w->env.tls = TLS_MODE_OFF;
	check_gives(w, "cert.expiry", PLAN_CHECK_OK, NULL);
}

static void
test_votes_even(void **state)
{
	struct world *w = *state;

	w->c.has_device = false;
	check_gives(w, "votes.even", PLAN_CHECK_WARN, NULL);	/* 4, no device */
	w->c.node_count = 3;
	check_gives(w, "votes.even", PLAN_CHECK_OK, NULL);
	w->c.has_device = true;
	w->c.algorithm = ALGORITHM_FFSPLIT;
	check_gives(w, "votes.even", PLAN_CHECK_WARN, NULL);	/* ffsplit, odd */
	w->c.algorithm = ALGORITHM_LMS;
	check_gives(w, "votes.even", PLAN_CHECK_OK, NULL);
	w->c.node_count = 4;
	w->c.algorithm = ALGORITHM_FFSPLIT;
	check_gives(w, "votes.even", PLAN_CHECK_OK, NULL);
	w->c.node_count = 2;
	w->c.has_device = false;
	w->c.two_node = true;
	check_gives(w, "votes.even", PLAN_CHECK_WARN, NULL);
	w->c.node_count = 1;
	check_gives(w, "votes.even", PLAN_CHECK_OK, NULL);
}

/* ---- probes, loopback only ---- */

static bool
has_addr(const struct plan_resolved *r, const char *text)
{
	struct plan_ip ip;

	assert_true(plan_ip_parse(text, &ip));
	for (size_t i = 0; i < r->count; i++)
		if (plan_ip_equal(&r->addrs[i], &ip))
			return true;
	return false;
}

static void
test_probe_resolve(void **state)
{
	struct plan_resolved r;

	(void)state;
	plan_probe_resolve("localhost", &r);
	assert_true(r.ok);
	assert_true(has_addr(&r, "127.0.0.1") || has_addr(&r, "::1"));
	plan_probe_resolve("127.0.0.1", &r);
	assert_true(r.ok);
	assert_int_equal(r.count, 1);
	assert_true(has_addr(&r, "127.0.0.1"));
	assert_false(has_addr(&r, "127.0.0.2"));
	plan_probe_resolve("", &r);
	assert_true(r.tried);
	assert_false(r.ok);

	/* quorum.device.net.host as a list: every host's addresses, in list order */
	plan_probe_resolve_list("127.0.0.2, 127.0.0.1", &r);
	assert_true(r.ok);
	assert_int_equal(r.count, 2);
	assert_true(has_addr(&r, "127.0.0.2") && has_addr(&r, "127.0.0.1"));
	{
		char first[64];

		plan_ip_str(&r.addrs[0], first, sizeof(first));
		assert_string_equal(first, "127.0.0.2");
	}
	plan_probe_resolve_list("nowhere.invalid 127.0.0.1", &r);
	assert_true(r.ok);
	assert_int_equal(r.count, 1);
	plan_probe_resolve_list("a.invalid,b.invalid", &r);
	assert_false(r.ok);
	assert_non_null(strstr(r.error, "a.invalid: "));
}

static void
test_probe_connect(void **state)
{
	struct plan_ip lo;
	uint16_t port;
	uint32_t ms;
	char err[128];
	int fd = listen_on_loopback(SOCK_STREAM, 4, &port);

	(void)state;
	assert_true(plan_ip_parse("127.0.0.1", &lo));
	assert_int_equal(plan_probe_connect(&lo, port, 2000, &ms, err, sizeof(err)),
	    PLAN_CONNECT_OK);
	close(fd);
	/* The same port, nobody listening now: refused at once, not a timeout. */
	assert_int_equal(plan_probe_connect(&lo, port, 2000, &ms, err, sizeof(err)),
	    PLAN_CONNECT_REFUSED);
	assert_true(ms < 2000);
	assert_non_null(strstr(err, "refused"));
}

static void
test_probe_route_and_interfaces(void **state)
{
	struct plan_iface_addr *ifaces;
	struct plan_ip lo, src;
	size_t n;
	char ifname[PLAN_PROBE_IFNAME_LEN], err[128];
	bool found = false;

	(void)state;
	assert_int_equal(plan_probe_interfaces(&ifaces, &n, err, sizeof(err)), 0);
	assert_true(plan_ip_parse("127.0.0.1", &lo));
	for (size_t i = 0; i < n; i++)
		if (plan_ip_equal(&ifaces[i].addr, &lo)) {
			assert_string_equal(ifaces[i].name, "lo");
			assert_int_equal(ifaces[i].prefix_len, 8);
			found = true;
		}
	assert_true(found);
	assert_int_equal(plan_probe_route(&lo, ifaces, n, &src, ifname, sizeof(ifname),
	    err, sizeof(err)), 0);
	assert_string_equal(ifname, "lo");
	assert_true(plan_ip_equal(&src, &lo));
	free(ifaces);
}

/* The sbd file parser on each text: its result and, when it reads one, the timeout. */
static void
test_probe_sbd_file(void **state)
{
	static const struct {
		const char	*text;
		int		 rc;
		uint32_t	 ms;
	} files[] = {
		{ "# SBD_WATCHDOG_TIMEOUT=99\nSBD_DEVICE=\"\"\nSBD_WATCHDOG_TIMEOUT=5\n"
		    "export SBD_WATCHDOG_TIMEOUT=\"15\"  # longer for qdevice\n", 0, 15000 },
		{ "SBD_PACEMAKER=yes\n", -ENOENT, 0 },
		{ "SBD_WATCHDOG_TIMEOUT=5s\n", -EINVAL, 0 },
	};
	char path[] = "/tmp/test-plan-sbd-XXXXXX";
	uint32_t ms = 0;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		FILE *f = fopen(path, "w");
		int rc;

		assert_non_null(f);
		fputs(files[i].text, f);
		assert_int_equal(fclose(f), 0);
		rc = plan_probe_sbd_file(path, &ms);
		if (rc != files[i].rc || (rc == 0 && ms != files[i].ms))
			fail_msg("file %zu: rc %d, %u ms; want %d, %u ms", i, rc, ms, files[i].rc,
			    files[i].ms);
	}
	unlink(path);
	assert_int_equal(plan_probe_sbd_file(path, &ms), -ENOENT);
}

static void
test_ip_prefix(void **state)
{
	struct plan_ip a, b;

	(void)state;
	assert_true(plan_ip_parse("127.0.1.200", &a));
	assert_true(plan_ip_parse("127.0.1.7", &b));
	assert_true(plan_ip_same_prefix(&a, &b, 24));
	assert_true(plan_ip_same_prefix(&a, &b, 25) == false);	/* .200 vs .7 differ in bit 25 */
	assert_true(plan_ip_parse("127.0.3.1", &b));
	assert_true(plan_ip_same_prefix(&a, &b, 22));
	assert_false(plan_ip_same_prefix(&a, &b, 23));
	assert_true(plan_ip_parse("::1", &b));
	assert_false(plan_ip_same_prefix(&a, &b, 0));
	assert_false(plan_ip_parse("localhost", &b));
}

/* The whole path on loopback: gather, then judge an arbiter on this host. */
static void
test_gather_loopback_arbiter(void **state)
{
	struct world *w = *state;
	struct plan_probe p;
	uint16_t port;
	int fd = listen_on_loopback(SOCK_STREAM, 4, &port);

	build(w, 2);
	w->nodes[0].name = w->nodes[1].name = NULL;	/* no resolver traffic beyond loopback */
	w->env.arbiter_host = "127.0.0.1";
	w->env.arbiter_port = port;
	w->env.tls = TLS_MODE_OFF;
	assert_int_equal(plan_probe_gather(&w->c, &w->env, 2000, &p), 0);
	close(fd);
	assert_int_equal(p.connect, PLAN_CONNECT_OK);
	assert_true(p.route_known);
	assert_string_equal(p.route_iface, "lo");
	assert_true(p.nodes[0].ring[0].ok);
	plan_checks_fini(&w->out);
	assert_int_equal(plan_checks_run(&w->c, &w->env, &p, &w->out), 0);
	assert_int_equal(plan_checks_find(&w->out, "arbiter.reachable")->level, PLAN_CHECK_OK);
	/* 127.0.0.1 is node 1's ring0 address and on lo: the arbiter is the cluster's own. */
	assert_int_equal(plan_checks_find(&w->out, "arbiter.not-member")->level, PLAN_CHECK_FAIL);
	assert_int_equal(plan_checks_find(&w->out, "cert.expiry")->level, PLAN_CHECK_OK);
	plan_probe_fini(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_healthy_baseline_all_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worst_and_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_links_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_links_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_links_latency_2ms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_links_subnet, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names_resolve, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clock_sync, setup, teardown),
		cmocka_unit_test_setup_teardown(test_arbiter_reachable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_qdevice_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_arbiter_not_member, setup, teardown),
		cmocka_unit_test_setup_teardown(test_arbiter_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeouts_device_budget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeouts_heartbeat, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeouts_sbd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cert_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_votes_even, setup, teardown),
		cmocka_unit_test(test_probe_resolve),
		cmocka_unit_test(test_probe_connect),
		cmocka_unit_test(test_probe_route_and_interfaces),
		cmocka_unit_test(test_probe_sbd_file),
		cmocka_unit_test(test_ip_prefix),
		cmocka_unit_test_setup_teardown(test_gather_loopback_arbiter, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
