/*
 * tests/unit/test-qdevice-config.c: qdevice's reading of corosync keys
 * (docs/protocol.md 4.1, 4.2) through a fake config_source: every key's
 * default, accepted and rejected values, the node list, heuristics
 * commands, logging switches.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "qdevice/corosync-config.h"
#include "qdevice/settings.h"
#include "tests/unit/fake-config-source.h"

/* ---- the base configuration and its overrides ---- */

#define MAX_KV	96

struct fake {
	struct kv	 kv[MAX_KV];
	size_t		 n;
	struct kv_table	 table;		/* what the source reads: kv[0..n) */
};

static const struct kv base_kv[] = {
	{ "quorum.device.model", T_STR, "net" },
	{ "runtime.votequorum.this_node_id", T_U32, "1" },
	{ "totem.cluster_name", T_STR, "lab" },
	{ "quorum.device.net.host", T_STR, "qnetd.example.net" },
	{ "nodelist.node.0.nodeid", T_U32, "1" },
	{ "nodelist.node.0.ring0_addr", T_STR, "10.0.0.1" },
	{ "nodelist.node.1.nodeid", T_U32, "2" },
	{ "nodelist.node.1.ring0_addr", T_STR, "10.0.0.2" },
};

/* Set, replace or, when o->val is NULL, delete o->key. */
static void
fake_set(struct fake *f, const struct kv *o)
{
	for (size_t i = 0; i < f->n; i++) {
		if (strcmp(f->kv[i].key, o->key) != 0)
			continue;
		if (o->val == NULL) {
			f->kv[i] = f->kv[--f->n];
		} else {
			f->kv[i] = *o;
		}
		return;
	}
	if (o->val != NULL) {
		assert_true(f->n < MAX_KV);
		f->kv[f->n++] = *o;
	}
}

/* The base configuration with overrides applied in order. */
static void
fake_make(struct fake *f, const struct kv *over, size_t n)
{
	f->n = 0;
	for (size_t i = 0; i < sizeof(base_kv) / sizeof(base_kv[0]); i++)
		fake_set(f, &base_kv[i]);
	for (size_t i = 0; i < n; i++)
		fake_set(f, &over[i]);
	f->table = (struct kv_table){ f->kv, f->n };
}

struct env {
	struct fake		 f;
	struct config_source	 src;
	struct qdevice_settings	 s;
	struct qdevice_config	 c;
	char			 err[512];
};

static int
setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	fake_config_source(&e->src, &e->f.table);
	assert_int_equal(settings_init(&e->s), 0);
	config_init(&e->c);
	*state = e;
	return 0;
}

static int
teardown(void **state)
{
	struct env *e = *state;

	config_fini(&e->c);
	settings_fini(&e->s);
	free(e);
	return 0;
}

/* Read the base plus overrides into a fresh config. */
static int
read_with(struct env *e, const struct kv *over, size_t n)
{
	config_fini(&e->c);
	config_init(&e->c);
	e->err[0] = '\0';
	fake_make(&e->f, over, n);
	return config_read(&e->src, &e->s, &e->c, e->err, sizeof(e->err));
}

/* ---- defaults ---- */

static void
defaults(void **state)
{
	struct env *e = *state;
	const struct qdevice_config *c = &e->c;

	assert_int_equal(read_with(e, NULL, 0), 0);
	assert_int_equal(c->node_id, 1);
	assert_string_equal(c->cluster_name, "lab");
	assert_string_equal(c->host, "qnetd.example.net");
	assert_int_equal(c->timeout_ms, 10000);
	assert_int_equal(c->sync_timeout_ms, 30000);
	assert_false(c->votes_set);
	assert_int_equal(c->wait_for_all, 0);
	assert_int_equal(c->port, 5403);
	assert_int_equal(c->tls, TLS_MODE_ON);
	assert_int_equal(c->algorithm, ALGORITHM_FFSPLIT);
	assert_int_equal(c->tie_breaker.mode, TIE_BREAKER_LOWEST);
	assert_int_equal(c->heartbeat_interval_ms, 8000);
	assert_int_equal(c->sync_heartbeat_interval_ms, 24000);
	assert_int_equal(c->cast_vote_interval_ms, 5000);
	assert_int_equal(c->connect_timeout_ms, 8000);
	assert_int_equal(c->force_ip_version, 0);
	assert_true(c->kap_tie_breaker);
	assert_int_equal(c->heuristics.mode, HEURISTICS_MODE_OFF);
	assert_int_equal(c->heuristics.timeout_ms, 5000);
	assert_int_equal(c->heuristics.sync_timeout_ms, 15000);
	assert_int_equal(c->heuristics.interval_ms, 30000);
	assert_int_equal(c->heuristics.exec_count, 0);
	assert_int_equal(c->nodes.nodes.count, 2);
	assert_int_equal(c->nodes.nodes.nodes[0].node_id, 1);
	assert_int_equal(c->nodes.nodes.nodes[1].node_id, 2);
	assert_false(c->nodes.config_version_set);
}

/* ---- accepted values ---- */

enum field {
	F_NONE, F_TIMEOUT, F_SYNC_TIMEOUT, F_VOTES, F_WFA, F_PORT, F_TLS, F_ALGORITHM, F_TB_MODE,
	F_TB_NODE, F_CONNECT_TIMEOUT, F_IP, F_KAP, F_HB, F_SYNC_HB, F_CAST, F_H_MODE,
	F_H_TIMEOUT, F_H_SYNC_TIMEOUT, F_H_INTERVAL, F_CONFIG_VERSION,
};

static uint64_t
field(const struct qdevice_config *c, enum field f)
{
	switch (f) {
	case F_NONE:		break;
	case F_TIMEOUT:		return c->timeout_ms;
	case F_SYNC_TIMEOUT:	return c->sync_timeout_ms;
	case F_VOTES:		return c->votes_set ? c->votes : 999;
	case F_WFA:		return c->wait_for_all;
	case F_PORT:		return c->port;
	case F_TLS:		return c->tls;
	case F_ALGORITHM:	return c->algorithm;
	case F_TB_MODE:		return c->tie_breaker.mode;
	case F_TB_NODE:		return c->tie_breaker.node_id;
	case F_CONNECT_TIMEOUT:	return c->connect_timeout_ms;
	case F_IP:		return (uint64_t)c->force_ip_version;
	case F_KAP:		return c->kap_tie_breaker;
	case F_HB:		return c->heartbeat_interval_ms;
	case F_SYNC_HB:		return c->sync_heartbeat_interval_ms;
	case F_CAST:		return c->cast_vote_interval_ms;
	case F_H_MODE:		return c->heuristics.mode;
	case F_H_TIMEOUT:	return c->heuristics.timeout_ms;
	case F_H_SYNC_TIMEOUT:	return c->heuristics.sync_timeout_ms;
	case F_H_INTERVAL:	return c->heuristics.interval_ms;
	case F_CONFIG_VERSION:	return c->nodes.config_version_set ? c->nodes.config_version : 999;
	}
	return 0;
}

#define EXEC_OK	{ "quorum.device.heuristics.exec_ok", T_STR, "/bin/true" }

/* What one field must read. */
struct field_want {
	enum field	f;
	uint64_t	want;
};

/* The most fields one accepted value is checked for; a shorter list ends at F_NONE. */
#define NFIELDS	7

static const struct {
	struct kv		kv[2];
	struct field_want	fields[NFIELDS];
} accepted[] = {
	/* timeout drives the heartbeat, the poll, connect and the heuristics */
	{ { { "quorum.device.timeout", T_U32, "20000" } },
	    { { F_TIMEOUT, 20000 }, { F_HB, 16000 }, { F_CAST, 10000 },
	    { F_CONNECT_TIMEOUT, 16000 }, { F_H_TIMEOUT, 10000 }, { F_H_INTERVAL, 60000 } } },
	/* the heartbeat clamped both ways, and truncated */
	{ { { "quorum.device.timeout", T_U32, "1000" } }, { { F_HB, 1000 } } },
	{ { { "quorum.device.timeout", T_U32, "500000" } }, { { F_HB, 120000 } } },
	{ { { "quorum.device.timeout", T_U32, "10001" } }, { { F_HB, 8000 }, { F_CAST, 5000 } } },
	/* sync_timeout drives the sync heartbeat and the heuristics' */
	{ { { "quorum.device.sync_timeout", T_U32, "40000" } },
	    { { F_SYNC_TIMEOUT, 40000 }, { F_SYNC_HB, 32000 }, { F_H_SYNC_TIMEOUT, 20000 } } },
	{ { { "quorum.device.timeout", T_STR, "12000" } }, { { F_TIMEOUT, 12000 } } },
	{ { { "quorum.device.votes", T_U32, "1" } }, { { F_VOTES, 1 } } },
	{ { { "quorum.wait_for_all", T_U8, "1" } }, { { F_WFA, 1 } } },
	{ { { "quorum.device.net.port", T_STR, "4000" } }, { { F_PORT, 4000 } } },
	{ { { "quorum.device.net.port", T_STR, "1" } }, { { F_PORT, 1 } } },
	{ { { "quorum.device.net.port", T_STR, "65535" } }, { { F_PORT, 65535 } } },
	{ { { "quorum.device.net.tls", T_STR, "off" } }, { { F_TLS, TLS_MODE_OFF } } },
	{ { { "quorum.device.net.tls", T_STR, "NO" } }, { { F_TLS, TLS_MODE_OFF } } },
	{ { { "quorum.device.net.tls", T_STR, "0" } }, { { F_TLS, TLS_MODE_OFF } } },
	{ { { "quorum.device.net.tls", T_STR, "yes" } }, { { F_TLS, TLS_MODE_ON } } },
	{ { { "quorum.device.net.tls", T_STR, "required" } }, { { F_TLS, TLS_MODE_REQUIRED } } },
	{ { { "quorum.device.net.algorithm", T_STR, "2nodelms" } },
	    { { F_ALGORITHM, ALGORITHM_2NODELMS } } },
	{ { { "quorum.device.net.algorithm", T_STR, "lms" } }, { { F_ALGORITHM, ALGORITHM_LMS } } },
	{ { { "quorum.device.net.algorithm", T_STR, "ffsplit" } },
	    { { F_ALGORITHM, ALGORITHM_FFSPLIT } } },
	{ { { "quorum.device.net.tie_breaker", T_STR, "highest" } },
	    { { F_TB_MODE, TIE_BREAKER_HIGHEST } } },
	{ { { "quorum.device.net.tie_breaker", T_STR, "lowest" } },
	    { { F_TB_MODE, TIE_BREAKER_LOWEST } } },
	{ { { "quorum.device.net.tie_breaker", T_STR, "7" } },
	    { { F_TB_MODE, TIE_BREAKER_NODE_ID } } },
	{ { { "quorum.device.net.tie_breaker", T_STR, "4294967295" } },
	    { { F_TB_NODE, 4294967295U } } },
	{ { { "quorum.device.net.connect_timeout", T_STR, "3000" } },
	    { { F_CONNECT_TIMEOUT, 3000 } } },
	{ { { "quorum.device.net.connect_timeout", T_STR, "1000" } },
	    { { F_CONNECT_TIMEOUT, 1000 } } },
	{ { { "quorum.device.net.connect_timeout", T_STR, "120000" } },
	    { { F_CONNECT_TIMEOUT, 120000 } } },
	{ { { "quorum.device.net.force_ip_version", T_STR, "4" } }, { { F_IP, 4 } } },
	{ { { "quorum.device.net.force_ip_version", T_STR, "6" } }, { { F_IP, 6 } } },
	{ { { "quorum.device.net.force_ip_version", T_STR, "0" } }, { { F_IP, 0 } } },
	{ { { "quorum.device.net.keep_active_partition_tie_breaker", T_STR, "off" } },
	    { { F_KAP, 0 } } },
	{ { { "quorum.device.net.keep_active_partition_tie_breaker", T_STR, "On" } },
	    { { F_KAP, 1 } } },
	/* heuristics on, sync, off; on without a command is off */
	{ { { "quorum.device.heuristics.mode", T_STR, "on" }, EXEC_OK },
	    { { F_H_MODE, HEURISTICS_MODE_ON } } },
	{ { { "quorum.device.heuristics.mode", T_STR, "1" }, EXEC_OK },
	    { { F_H_MODE, HEURISTICS_MODE_ON } } },
	{ { { "quorum.device.heuristics.mode", T_STR, "sync" }, EXEC_OK },
	    { { F_H_MODE, HEURISTICS_MODE_SYNC } } },
	{ { { "quorum.device.heuristics.mode", T_STR, "SYNC" }, EXEC_OK },
	    { { F_H_MODE, HEURISTICS_MODE_SYNC } } },
	{ { { "quorum.device.heuristics.mode", T_STR, "off" }, EXEC_OK },
	    { { F_H_MODE, HEURISTICS_MODE_OFF } } },
	{ { { "quorum.device.heuristics.mode", T_STR, "on" } },
	    { { F_H_MODE, HEURISTICS_MODE_OFF } } },
	{ { { "quorum.device.heuristics.timeout", T_STR, "1000" } }, { { F_H_TIMEOUT, 1000 } } },
	{ { { "quorum.device.heuristics.timeout", T_STR, "120000" } },
	    { { F_H_TIMEOUT, 120000 } } },
	{ { { "quorum.device.heuristics.sync_timeout", T_STR, "2000" } },
	    { { F_H_SYNC_TIMEOUT, 2000 } } },
	{ { { "quorum.device.heuristics.interval", T_STR, "3600000" } },
	    { { F_H_INTERVAL, 3600000 } } },
	{ { { "totem.config_version", T_U64, "18446744073709551615" } },
	    { { F_CONFIG_VERSION, UINT64_MAX } } },
};

static void
accepted_values(void **state)
{
	struct env *e = *state;

	for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++) {
		const struct kv *kv = accepted[i].kv;
		int r = read_with(e, kv, kv_count(kv, 2));

		if (r != 0)
			fail_msg("%s=%s: rejected (%d): %s", kv->key, kv->val, r, e->err);
		for (size_t k = 0; k < NFIELDS && accepted[i].fields[k].f != F_NONE; k++) {
			const struct field_want *w = &accepted[i].fields[k];
			uint64_t got = field(&e->c, w->f);

			if (got != w->want)
				fail_msg("%s=%s: field %d is %llu, want %llu", kv->key, kv->val,
				    w->f, (unsigned long long)got, (unsigned long long)w->want);
		}
	}
}

/* ---- rejected values: the error names the key ---- */

/* A key set to a value (NULL: not set) that config_read refuses with want. */
static const struct {
	struct kv	 kv;
	int		 want;
	const char	*err_has;	/* NULL: the key */
} rejected[] = {
	{ { "quorum.device.model", T_STR, NULL }, -ENOENT, NULL },
	{ { "quorum.device.model", T_STR, "disk" }, -EINVAL, NULL },
	/* names are case-sensitive */
	{ { "quorum.device.model", T_STR, "NET" }, -EINVAL, NULL },
	{ { "runtime.votequorum.this_node_id", T_U32, NULL }, -ENOENT, NULL },
	{ { "totem.cluster_name", T_STR, NULL }, -ENOENT, NULL },
	{ { "quorum.device.net.host", T_STR, NULL }, -ENOENT, NULL },
	/* a key of the wrong type */
	{ { "quorum.device.net.host", T_U32, "5" }, -EINVAL, NULL },
	{ { "quorum.device.timeout", T_STR, "10s" }, -EINVAL, NULL },
	{ { "quorum.device.net.port", T_STR, "0" }, -ERANGE, NULL },
	{ { "quorum.device.net.port", T_STR, "65536" }, -ERANGE, NULL },
	{ { "quorum.device.net.port", T_STR, "abc" }, -EINVAL, NULL },
	{ { "quorum.device.net.port", T_STR, "-1" }, -ERANGE, NULL },
	{ { "quorum.device.net.tls", T_STR, "maybe" }, -EINVAL, NULL },
	{ { "quorum.device.net.algorithm", T_STR, "FFSPLIT" }, -EINVAL, NULL },
	{ { "quorum.device.net.algorithm", T_STR, "majority" }, -EINVAL, NULL },
	{ { "quorum.device.net.algorithm", T_STR, "test" }, -EINVAL, "net_test_algorithm_enabled" },
	{ { "quorum.device.net.tie_breaker", T_STR, "Lowest" }, -EINVAL, NULL },
	{ { "quorum.device.net.tie_breaker", T_STR, "0" }, -EINVAL, NULL },
	{ { "quorum.device.net.tie_breaker", T_STR, "4294967296" }, -EINVAL, NULL },
	{ { "quorum.device.net.connect_timeout", T_STR, "999" }, -ERANGE, NULL },
	{ { "quorum.device.net.connect_timeout", T_STR, "120001" }, -ERANGE, NULL },
	{ { "quorum.device.net.force_ip_version", T_STR, "5" }, -EINVAL, NULL },
	{ { "quorum.device.net.force_ip_version", T_STR, "7" }, -ERANGE, NULL },
	{ { "quorum.device.net.keep_active_partition_tie_breaker", T_STR, "x" }, -EINVAL,
	    "keep_active_partition_tie_breaker" },
	{ { "quorum.device.heuristics.mode", T_STR, "always" }, -EINVAL, NULL },
	{ { "quorum.device.heuristics.timeout", T_STR, "999" }, -ERANGE, NULL },
	{ { "quorum.device.heuristics.timeout", T_STR, "120001" }, -ERANGE, NULL },
	{ { "quorum.device.heuristics.sync_timeout", T_STR, "999" }, -ERANGE, NULL },
	{ { "quorum.device.heuristics.interval", T_STR, "999" }, -ERANGE, NULL },
	{ { "quorum.device.heuristics.interval", T_STR, "3600001" }, -ERANGE, NULL },
	{ { "nodelist.node.1.nodeid", T_U32, "0" }, -ERANGE, NULL },
	{ { "nodelist.node.1.nodeid", T_STR, "two" }, -EINVAL, NULL },
};

static void
rejected_values(void **state)
{
	struct env *e = *state;

	for (size_t i = 0; i < sizeof(rejected) / sizeof(rejected[0]); i++) {
		const struct kv *kv = &rejected[i].kv;
		const char *err_has = rejected[i].err_has != NULL ? rejected[i].err_has : kv->key;
		int r = read_with(e, kv, 1);

		if (r != rejected[i].want)
			fail_msg("%s=%s: got %d, want %d (%s)", kv->key, kv->val, r,
			    rejected[i].want, e->err);
		if (strstr(e->err, err_has) == NULL)
			fail_msg("%s=%s: error \"%s\" does not name %s", kv->key, kv->val, e->err,
			    err_has);
	}
}

/* ---- quorum.device.net.host lists (our extension) ---- */

static void
host_lists(void **state)
{
	static const struct {
		const char	*value;
		size_t		 count;
		const char	*hosts[CONFIG_MAX_HOSTS];
	} rows[] = {
		/* One host reads as upstream reads it: the whole value. */
		{ "qnetd.example.net", 1, { "qnetd.example.net" } },
		{ "2001:db8::5", 1, { "2001:db8::5" } },
		{ "  192.0.2.7\t", 1, { "192.0.2.7" } },
		{ "a,b", 2, { "a", "b" } },
		{ "a b", 2, { "a", "b" } },
		{ "a , b,\tc  d", 4, { "a", "b", "c", "d" } },
		{ "::1,127.0.0.1", 2, { "::1", "127.0.0.1" } },
		{ "1 2 3 4 5 6 7 8", 8, { "1", "2", "3", "4", "5", "6", "7", "8" } },
	};
	struct env *e = *state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct kv kv = { "quorum.device.net.host", T_STR, rows[i].value };
		int r = read_with(e, &kv, 1);

		if (r != 0)
			fail_msg("\"%s\": rejected (%d): %s", rows[i].value, r, e->err);
		assert_string_equal(e->c.host, rows[i].value);	/* shown as configured */
		if (e->c.host_count != rows[i].count)
			fail_msg("\"%s\": %zu hosts, want %zu", rows[i].value, e->c.host_count,
			    rows[i].count);
		for (size_t j = 0; j < rows[i].count; j++)
			assert_string_equal(e->c.hosts[j], rows[i].hosts[j]);
	}
}

static void
host_lists_rejected(void **state)
{
	static const struct {
		const char	*value;
		const char	*err_has;
	} rows[] = {
		{ "", "quorum.device.net.host is empty" },
		{ " \t ", "quorum.device.net.host is empty" },
		{ "a,,b", "item 2 of the list is empty" },
		{ "a, ,b", "item 2 of the list is empty" },
		{ ",a", "item 1 of the list is empty" },
		{ "a,", "item 2 of the list is empty" },
		{ "a b ,", "item 3 of the list is empty" },
		{ "1 2 3 4 5 6 7 8 9", "lists more than 8 hosts" },
	};
	struct env *e = *state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct kv kv = { "quorum.device.net.host", T_STR, rows[i].value };
		int r = read_with(e, &kv, 1);

		if (r != -EINVAL)
			fail_msg("\"%s\": got %d, want -EINVAL (%s)", rows[i].value, r, e->err);
		if (strstr(e->err, rows[i].err_has) == NULL ||
		    strstr(e->err, "quorum.device.net.host") == NULL)
			fail_msg("\"%s\": error \"%s\" lacks \"%s\"", rows[i].value, e->err,
			    rows[i].err_has);
	}
}

static void
test_algorithm_with_setting(void **state)
{
	struct env *e = *state;
	const struct kv kv = { "quorum.device.net.algorithm", T_STR, "test" };

	e->s.net_test_algorithm_enabled = true;
	assert_int_equal(read_with(e, &kv, 1), 0);
	assert_int_equal(e->c.algorithm, ALGORITHM_TEST);
}

static void
settings_move_ranges(void **state)
{
	struct env *e = *state;
	const struct kv ct = { "quorum.device.net.connect_timeout", T_STR, "500" };
	const struct kv to = { "quorum.device.timeout", T_U32, "1000" };

	e->s.net_min_connect_timeout_ms = 100;
	assert_int_equal(read_with(e, &ct, 1), 0);
	assert_int_equal(e->c.connect_timeout_ms, 500);
	e->s.net_heartbeat_interval_min_ms = 100;
	assert_int_equal(read_with(e, &to, 1), 0);
	assert_int_equal(e->c.heartbeat_interval_ms, 800);
}

/* ---- node list ---- */

/*
 * Node list entries (the base lists nodes 1 and 2 at 10.0.0.1 and .2)
 * changed by kv: config_read returns rc; when it reads, count nodes and
 * the second node's id; when it refuses, an error naming err_has.
 */
static const struct {
	const char	*name;
	struct kv	 kv[4];
	int		 rc;
	size_t		 count;
	uint32_t	 node1_id;
	const char	*err_has;
} nodelist_rows[] = {
	{ "nodeid from the IPv4 ring0_addr", { { "nodelist.node.1.nodeid", T_U32, NULL },
	    { "nodelist.node.1.ring0_addr", T_STR, "192.168.1.2" } }, 0, 2, 0xc0a80102U, NULL },
	{ "the same with clear_node_high_bit", { { "nodelist.node.1.nodeid", T_U32, NULL },
	    { "nodelist.node.1.ring0_addr", T_STR, "192.168.1.2" },
	    { "totem.clear_node_high_bit", T_STR, "yes" } }, 0, 2, 0x40a80102U, NULL },
	{ "no nodeid and a host name", { { "nodelist.node.1.nodeid", T_U32, NULL },
	    { "nodelist.node.1.ring0_addr", T_STR, "node2.example.net" } }, -EINVAL, 0, 0,
	    "nodelist.node.1.nodeid" },
	{ "a name instead of ring0_addr", { { "nodelist.node.1.ring0_addr", T_STR, NULL },
	    { "nodelist.node.1.name", T_STR, "n2" } }, 0, 2, 2, NULL },
	/* nodeid alone (no ring0_addr, no name) is not a node entry. */
	{ "nodeid alone", { { "nodelist.node.1.ring0_addr", T_STR, NULL } }, 0, 1, 0, NULL },
	{ "no node at all", { { "nodelist.node.0.nodeid", T_U32, NULL },
	    { "nodelist.node.0.ring0_addr", T_STR, NULL }, { "nodelist.node.1.nodeid", T_U32, NULL },
	    { "nodelist.node.1.ring0_addr", T_STR, NULL } }, -ENOENT, 0, 0, "nodelist" },
};

static void
nodelist_forms(void **state)
{
	struct env *e = *state;

	for (size_t i = 0; i < sizeof(nodelist_rows) / sizeof(nodelist_rows[0]); i++) {
		int r = read_with(e, nodelist_rows[i].kv, kv_count(nodelist_rows[i].kv, 4));
		if (r != nodelist_rows[i].rc)
			fail_msg("%s: got %d, want %d (%s)", nodelist_rows[i].name, r,
			    nodelist_rows[i].rc, e->err);
		if (r != 0) {
			if (strstr(e->err, nodelist_rows[i].err_has) == NULL)
				fail_msg("%s: error \"%s\" does not name %s", nodelist_rows[i].name,
				    e->err, nodelist_rows[i].err_has);
			continue;
		}
		if (e->c.nodes.nodes.count != nodelist_rows[i].count)
			fail_msg("%s: %zu nodes, want %zu", nodelist_rows[i].name,
			    e->c.nodes.nodes.count, nodelist_rows[i].count);
		if (nodelist_rows[i].count >= 2 &&
		    e->c.nodes.nodes.nodes[1].node_id != nodelist_rows[i].node1_id)
			fail_msg("%s: second node id %#x, want %#x", nodelist_rows[i].name,
			    e->c.nodes.nodes.nodes[1].node_id, nodelist_rows[i].node1_id);
	}
}

/* Numeric index order (2 before 10), data center ids typed or as strings. */
static void
nodelist_order_and_data_centers(void **state)
{
	struct env *e = *state;
	const struct kv dc_and_order[] = {
		{ "nodelist.node.10.nodeid", T_U32, "11" },
		{ "nodelist.node.10.ring0_addr", T_STR, "10.0.0.11" },
		{ "nodelist.node.2.nodeid", T_U32, "3" },
		{ "nodelist.node.2.ring0_addr", T_STR, "10.0.0.3" },
		{ "nodelist.node.2.datacenterid", T_U32, "7" },
		{ "nodelist.node.0.datacenterid", T_STR, "5" },
	};

	assert_int_equal(read_with(e, dc_and_order, 6), 0);
	assert_int_equal(e->c.nodes.nodes.count, 4);
	assert_int_equal(e->c.nodes.nodes.nodes[0].node_id, 1);
	assert_int_equal(e->c.nodes.nodes.nodes[0].data_center_id, 5);
	assert_int_equal(e->c.nodes.nodes.nodes[2].node_id, 3);
	assert_int_equal(e->c.nodes.nodes.nodes[2].data_center_id, 7);
	assert_int_equal(e->c.nodes.nodes.nodes[3].node_id, 11);
	assert_int_equal(e->c.nodes.nodes.nodes[1].data_center_id, 0);
}

static void
nodelist_reread(void **state)
{
	struct env *e = *state;
	struct config_nodes n;
	const struct kv more[] = {
		{ "nodelist.node.2.nodeid", T_U32, "3" },
		{ "nodelist.node.2.ring0_addr", T_STR, "10.0.0.3" },
		{ "totem.config_version", T_U64, "4" },
	};

	fake_make(&e->f, more, 3);
	assert_int_equal(config_read_nodes(&e->src, &n, e->err, sizeof(e->err)), 0);
	assert_int_equal(n.nodes.count, 3);
	assert_true(n.config_version_set);
	assert_int_equal(n.config_version, 4);
	config_nodes_fini(&n);
}

/* ---- heuristics commands ---- */

static void
heuristics_execs(void **state)
{
	struct env *e = *state;
	const struct kv execs[] = {
		{ "quorum.device.heuristics.mode", T_STR, "on" },
		{ "quorum.device.heuristics.exec_ping", T_STR, "/bin/ping -c 1 gw" },
		{ "quorum.device.heuristics.exec_check", T_STR, "/bin/true" },
		{ "quorum.device.heuristics.exec_sub.key", T_STR, "/bin/false" },
		{ "quorum.device.heuristics.exec_num", T_U32, "5" },
		{ "quorum.device.heuristics.executable", T_STR, "/bin/false" },
	};
	const struct config_heuristics *h = &e->c.heuristics;
	struct config_heuristics again;

	assert_int_equal(read_with(e, execs, 6), 0);
	assert_int_equal(h->mode, HEURISTICS_MODE_ON);
	assert_int_equal(h->exec_count, 2);
	assert_int_equal(h->execs_dropped, 0);
	/* cmap order: sorted keys. */
	assert_string_equal(h->exec_names[0], "check");
	assert_string_equal(h->exec_cmds[0], "/bin/true");
	assert_string_equal(h->exec_names[1], "ping");
	assert_string_equal(h->exec_cmds[1], "/bin/ping -c 1 gw");

	assert_int_equal(config_read_heuristics(&e->src, &e->s, 10000, 30000, &again,
	    e->err, sizeof(e->err)), 0);
	assert_true(config_heuristics_equal(&again, h));
	free(again.exec_cmds[0]);
	again.exec_cmds[0] = strdup("/bin/false");
	assert_false(config_heuristics_equal(&again, h));
	config_heuristics_fini(&again);
}

static void
heuristics_too_many(void **state)
{
	struct env *e = *state;
	const struct kv execs[] = {
		{ "quorum.device.heuristics.mode", T_STR, "on" },
		{ "quorum.device.heuristics.exec_a", T_STR, "/bin/true" },
		{ "quorum.device.heuristics.exec_b", T_STR, "/bin/true" },
		{ "quorum.device.heuristics.exec_c", T_STR, "/bin/true" },
	};

	e->s.heuristics_max_execs = 3;
	assert_int_equal(read_with(e, execs, 4), 0);
	assert_int_equal(e->c.heuristics.exec_count, 3);
	e->s.heuristics_max_execs = 2;
	assert_int_equal(read_with(e, execs, 4), 0);
	assert_int_equal(e->c.heuristics.exec_count, 0);
	assert_int_equal(e->c.heuristics.execs_dropped, 3);
	assert_int_equal(e->c.heuristics.mode, HEURISTICS_MODE_OFF);
}

/* A command the worker could not be handed is a configuration error, named by its key. */
static void
heuristics_unforwardable_commands(void **state)
{
	struct env *e = *state;
	char *long_cmd = malloc(CONFIG_HEURISTICS_EXEC_MAX + 2);
	struct kv execs[] = {
		{ "quorum.device.heuristics.mode", T_STR, "on" },
		{ "quorum.device.heuristics.exec_ab", T_STR, "" },
	};

	assert_non_null(long_cmd);
	/* name "ab" + command: exactly at the limit, then one byte over */
	memset(long_cmd, 'x', CONFIG_HEURISTICS_EXEC_MAX - 2);
	long_cmd[CONFIG_HEURISTICS_EXEC_MAX - 2] = '\0';
	execs[1].val = long_cmd;
	assert_int_equal(read_with(e, execs, 2), 0);
	assert_int_equal(e->c.heuristics.exec_count, 1);
	strcat(long_cmd, "x");
	assert_int_equal(read_with(e, execs, 2), -EINVAL);
	assert_non_null(strstr(e->err, "exec_ab: the command is too long"));
	execs[1].val = "/bin/true\n/bin/false";
	assert_int_equal(read_with(e, execs, 2), -EINVAL);
	assert_non_null(strstr(e->err, "exec_ab: the command holds a line break"));
	free(long_cmd);
}

static void
heuristics_setting_ranges(void **state)
{
	struct env *e = *state;
	const struct kv t = { "quorum.device.heuristics.timeout", T_STR, "300" };

	assert_int_equal(read_with(e, &t, 1), -ERANGE);
	e->s.heuristics_min_timeout_ms = 250;
	assert_int_equal(read_with(e, &t, 1), 0);
	assert_int_equal(e->c.heuristics.timeout_ms, 300);
}

/* ---- logging ---- */

static void
log_debug_keys(void **state)
{
	static const struct {
		struct kv	kv[2];
		enum log_debug	want;
	} rows[] = {
		{ { { NULL, T_STR, NULL } }, LOG_DEBUG_OFF },
		{ { { "logging.debug", T_STR, "on" } }, LOG_DEBUG_ON },
		{ { { "logging.debug", T_STR, "trace" } }, LOG_DEBUG_TRACE },
		{ { { "logging.debug", T_STR, "off" } }, LOG_DEBUG_OFF },
		{ { { "logging.debug", T_STR, "on" },
		    { "logging.logger_subsys.QDEVICE.debug", T_STR, "off" } }, LOG_DEBUG_OFF },
		{ { { "logging.debug", T_STR, "off" },
		    { "logging.logger_subsys.QDEVICE.debug", T_STR, "on" } }, LOG_DEBUG_ON },
	};
	struct env *e = *state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		fake_make(&e->f, rows[i].kv, kv_count(rows[i].kv, 2));
		if (config_read_log_debug(&e->src) != rows[i].want)
			fail_msg("row %zu: got %d, want %d", i, config_read_log_debug(&e->src),
			    rows[i].want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(accepted_values, setup, teardown),
		cmocka_unit_test_setup_teardown(rejected_values, setup, teardown),
		cmocka_unit_test_setup_teardown(host_lists, setup, teardown),
		cmocka_unit_test_setup_teardown(host_lists_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_algorithm_with_setting, setup, teardown),
		cmocka_unit_test_setup_teardown(settings_move_ranges, setup, teardown),
		cmocka_unit_test_setup_teardown(nodelist_forms, setup, teardown),
		cmocka_unit_test_setup_teardown(nodelist_order_and_data_centers, setup, teardown),
		cmocka_unit_test_setup_teardown(nodelist_reread, setup, teardown),
		cmocka_unit_test_setup_teardown(heuristics_execs, setup, teardown),
		cmocka_unit_test_setup_teardown(heuristics_too_many, setup, teardown),
		cmocka_unit_test_setup_teardown(heuristics_unforwardable_commands, setup, teardown),
		cmocka_unit_test_setup_teardown(heuristics_setting_ranges, setup, teardown),
		cmocka_unit_test_setup_teardown(log_debug_keys, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
