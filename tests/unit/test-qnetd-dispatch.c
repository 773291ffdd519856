/*
 * tests/unit/test-qnetd-dispatch.c: qnetd's session handling without
 * sockets. Clients are fed encoded messages; what they would be sent is
 * read back from their send queues and decoded.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <cmocka.h>

#include <qb/qblog.h>

#include "qnetd/client.h"
#include "qnetd/cluster.h"
#include "qnetd/dispatch.h"
#include "qnetd/instance.h"
#include "common/nss-sock.h"
#include "tests/unit/loop-run.h"
#include "tests/unit/msg-builders.h"
#include "tests/unit/nss-group.h"
#include "tests/unit/qnetd-fixture.h"

static void
expect_server_error(struct qnetd_client *c, uint16_t code, bool seq_set, uint32_t seq)
{
	struct msg m;

	assert_true(qnetd_fixture_pop(c, &m));
	if (m.type != MSG_TYPE_SERVER_ERROR || m.reply_error_code != code)
		fail_msg("want SERVER_ERROR %u, got %s code %u", code, msg_type_name(m.type),
		    m.reply_error_code);
	assert_int_equal(m.seq_set, seq_set);
	if (seq_set)
		assert_int_equal(m.seq, seq);
	msg_fini(&m);
}

/* Each of types, sent with seq, seq + 1, ..., is answered by SERVER_ERROR code. */
static void
expect_each_refused(struct qnetd_client *c, const uint16_t *types, size_t n, uint32_t seq,
    uint16_t code)
{
	for (size_t i = 0; i < n; i++) {
		struct msg m;

		msgb_seq(&m, types[i], seq + (uint32_t)i);
		qnetd_fixture_feed(c, &m);
		expect_server_error(c, code, true, seq + (uint32_t)i);
	}
}

static void
send_preinit(struct qnetd_client *c, const char *cluster, uint32_t seq)
{
	struct msg r;

	msgb_preinit(&r, seq, cluster);
	qnetd_fixture_feed(c, &r);
	assert_true(qnetd_fixture_pop(c, &r));
	assert_int_equal(r.type, MSG_TYPE_PREINIT_REPLY);
	assert_int_equal(r.seq, seq);
	msg_fini(&r);
}

/*
 * A PREINIT naming another cluster than the one c is settled in closes c,
 * whose name stays kept; cert_failures TLS name checks failed by then.
 */
static void
expect_rename_refused(struct qnetd_fixture *f, struct qnetd_client *c, uint32_t seq,
    const char *other, const char *kept, uint64_t cert_failures)
{
	struct msg m;

	assert_false(c->closing);
	msgb_preinit(&m, seq, other);
	qnetd_fixture_feed(c, &m);
	assert_true(c->closing);
	assert_string_equal(c->cluster_name, kept);
	assert_int_equal(f->inst.stats.cert_check_failures, cert_failures);
}

static uint16_t
init_reply_code(struct qnetd_client *c)
{
	struct msg r;
	uint16_t code;

	assert_true(qnetd_fixture_pop(c, &r));
	assert_int_equal(r.type, MSG_TYPE_INIT_REPLY);
	assert_true(r.server_max_request_size_set);
	assert_true(r.server_max_request_size >= 32768);
	assert_true(r.supported_algorithms_set);
	code = r.reply_error_code;
	msg_fini(&r);
	return code;
}

static void
preinit_reply_reflects_settings(void **state)
{
	struct qnetd_fixture *f = *state;
	struct qnetd_client *c = qnetd_fixture_client(f, "test:1");
	struct msg m, r;

	f->settings.tls = QNETD_TLS_REQUIRED;
	f->settings.client_cert_required = false;
	msg_init(&m, MSG_TYPE_PREINIT);
	msgb_set_cluster_name(&m, "pve", 3);
	qnetd_fixture_feed(c, &m);	/* no seq: the reply carries none */
	assert_true(qnetd_fixture_pop(c, &r));
	assert_int_equal(r.type, MSG_TYPE_PREINIT_REPLY);
	assert_false(r.seq_set);
	assert_int_equal(r.tls_supported, TLS_REQUIRED);
	assert_int_equal(r.tls_client_cert_required, 0);
	msg_fini(&r);
	assert_string_equal(c->cluster_name, "pve");
}

static void
preinit_errors(void **state)
{
	struct qnetd_fixture *f = *state;
	struct qnetd_client *c = qnetd_fixture_client(f, "test:1");
	struct msg m;

	msgb_seq(&m, MSG_TYPE_PREINIT, 9);
	qnetd_fixture_feed(c, &m);
	expect_server_error(c, REPLY_DOESNT_CONTAIN_REQUIRED_OPTION, true, 9);
	msgb_set_cluster_name(&m, "a\0b", 3);
	qnetd_fixture_feed(c, &m);
	expect_server_error(c, REPLY_ERROR_DECODING_MSG, true, 9);
	assert_false(c->preinit_received);
}

/* Rows of INIT problems and the INIT_REPLY code each must produce. */
static void
init_error_rows(void **state)
{
	static const struct {
		const char	*name;
		bool		 preinit;
		int		 drop;		/* option to leave out: -1 none */
		uint32_t	 hb;
		uint16_t	 algorithm;
		uint16_t	 want;
	} rows[] = {
		{ "no preinit", false, -1, 8000, 1, REPLY_PREINIT_REQUIRED },
		{ "no preinit, bad hb overwrites", false, -1, 999, 1,
		    REPLY_INVALID_HEARTBEAT_INTERVAL },
		{ "no preinit, bad algorithm overwrites", false, -1, 8000, 7,
		    REPLY_UNSUPPORTED_DECISION_ALGORITHM },
		{ "no node id", true, OPT_NODE_ID, 8000, 1, REPLY_DOESNT_CONTAIN_REQUIRED_OPTION },
		{ "no ring id", true, OPT_RING_ID, 8000, 1, REPLY_DOESNT_CONTAIN_REQUIRED_OPTION },
		{ "no heartbeat", true, OPT_HEARTBEAT_INTERVAL, 8000, 1,
		    REPLY_DOESNT_CONTAIN_REQUIRED_OPTION },
		{ "no tie-breaker", true, OPT_TIE_BREAKER, 8000, 1,
		    REPLY_DOESNT_CONTAIN_REQUIRED_OPTION },
		{ "no algorithm", true, OPT_DECISION_ALGORITHM, 8000, 1,
		    REPLY_DOESNT_CONTAIN_REQUIRED_OPTION },
		{ "heartbeat below min", true, -1, 999, 1, REPLY_INVALID_HEARTBEAT_INTERVAL },
		{ "heartbeat above max", true, -1, 120001, 1, REPLY_INVALID_HEARTBEAT_INTERVAL },
		{ "unknown algorithm", true, -1, 8000, 4, REPLY_UNSUPPORTED_DECISION_ALGORITHM },
		{ "valid", true, -1, 120000, 3, REPLY_NO_ERROR },
	};
	struct qnetd_fixture *f = *state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct qnetd_client *c = qnetd_fixture_client(f, "test:1");
		struct msg m;
		uint16_t got;
		char name[16];

		snprintf(name, sizeof(name), "row%zu", i);
		if (rows[i].preinit)
			send_preinit(c, name, 1);
		msgb_init(&m, 10 + 1, 1, rows[i].algorithm, TIE_BREAKER_LOWEST, 8000);
		m.heartbeat_interval = rows[i].hb;
		switch (rows[i].drop) {
		case OPT_NODE_ID: m.node_id_set = false; break;
		case OPT_RING_ID: m.ring_id_set = false; break;
		case OPT_HEARTBEAT_INTERVAL: m.heartbeat_interval_set = false; break;
		case OPT_TIE_BREAKER: m.tie_breaker_set = false; break;
		case OPT_DECISION_ALGORITHM: m.algorithm_set = false; break;
		}
		qnetd_fixture_feed(c, &m);
		got = init_reply_code(c);
		if (got != rows[i].want)
			fail_msg("%s: got %u (%s), want %u (%s)", rows[i].name, got,
			    reply_error_code_name(got), rows[i].want,
			    reply_error_code_name(rows[i].want));
		assert_int_equal(c->init_received, rows[i].want == REPLY_NO_ERROR);
	}
}

static void
init_echoes_lists_only_when_sent(void **state)
{
	struct qnetd_fixture *f = *state;
	struct qnetd_client *c = qnetd_fixture_client(f, "test:1");
	uint16_t mine[] = { 0, 3 };
	struct msg m, r;

	send_preinit(c, "lists", 1);
	msgb_init(&m, 10 + 1, 1, ALGORITHM_FFSPLIT, TIE_BREAKER_LOWEST, 8000);
	m.supported_messages_set = true;
	m.supported_messages = mine;
	m.supported_messages_count = 2;
	qnetd_fixture_feed(c, &m);
	assert_true(qnetd_fixture_pop(c, &r));
	assert_true(r.supported_messages_set);
	assert_int_equal(r.supported_messages_count, MSG_TYPE_COUNT);	/* ours, not theirs */
	assert_false(r.supported_options_set);
	assert_int_equal(r.seq, 11);
	msg_fini(&r);
}

static void
cluster_consistency_checks(void **state)
{
	struct qnetd_fixture *f = *state;
	struct qnetd_client *c;
	struct msg m;

	qnetd_fixture_join(f, "pve", 1, ALGORITHM_FFSPLIT);

	c = qnetd_fixture_client(f, "test:1");
	send_preinit(c, "pve", 1);
	msgb_init(&m, 10 + 2, 2, ALGORITHM_FFSPLIT, TIE_BREAKER_HIGHEST, 8000);
	qnetd_fixture_feed(c, &m);
	assert_int_equal(init_reply_code(c), REPLY_TIE_BREAKER_DIFFERS_FROM_OTHER_NODES);

	msgb_init(&m, 10 + 2, 2, ALGORITHM_LMS, TIE_BREAKER_LOWEST, 8000);
	qnetd_fixture_feed(c, &m);
	assert_int_equal(init_reply_code(c), REPLY_ALGORITHM_DIFFERS_FROM_OTHER_NODES);

	msgb_init(&m, 10 + 1, 1, ALGORITHM_FFSPLIT, TIE_BREAKER_LOWEST, 8000);
	qnetd_fixture_feed(c, &m);
	assert_int_equal(init_reply_code(c), REPLY_DUPLICATE_NODE_ID);

	/* Another cluster with the same node id is independent. */
	qnetd_fixture_join(f, "other", 1, ALGORITHM_LMS);
	assert_int_equal(f->inst.cluster_count, 2);
}

static void
requests_before_init_are_refused(void **state)
{
	static const uint16_t types[] = {
		MSG_TYPE_SET_OPTION, MSG_TYPE_ECHO_REQUEST, MSG_TYPE_NODE_LIST,
		MSG_TYPE_ASK_FOR_VOTE, MSG_TYPE_VOTE_INFO_REPLY, MSG_TYPE_HEURISTICS_CHANGE,
	};
	struct qnetd_fixture *f = *state;
	struct qnetd_client *c = qnetd_fixture_client(f, "test:1");

	send_preinit(c, "early", 1);
	expect_each_refused(c, types, sizeof(types) / sizeof(types[0]), 100, REPLY_INIT_REQUIRED);
}

static void
server_types_are_unexpected(void **state)
{
	static const uint16_t types[] = { 1, 4, 5, 7, 9, 11, 13, 14, 17 };
	struct qnetd_fixture *f = *state;

	expect_each_refused(qnetd_fixture_client(f, "test:1"), types,
	    sizeof(types) / sizeof(types[0]), 7, REPLY_UNEXPECTED_MESSAGE);
}

static void
tls_required_gate_and_starttls_order(void **state)
{
	struct qnetd_fixture *f = *state;
	struct qnetd_client *c = qnetd_fixture_client(f, "test:1");
	struct msg m;

	f->settings.tls = QNETD_TLS_REQUIRED;
	msgb_seq(&m, MSG_TYPE_STARTTLS, 2);
	qnetd_fixture_feed(c, &m);
	expect_server_error(c, REPLY_PREINIT_REQUIRED, true, 2);

	send_preinit(c, "tls", 3);
	msgb_init(&m, 10 + 1, 1, ALGORITHM_FFSPLIT, TIE_BREAKER_LOWEST, 8000);
	qnetd_fixture_feed(c, &m);
	expect_server_error(c, REPLY_TLS_REQUIRED, true, 11);	/* connection kept */
	assert_false(c->closing);
	assert_false(c->init_received);
}

/*
 * A certificate is checked against the name announced before STARTTLS,
 * once: over TLS the same name may be announced again, another one costs
 * the connection.
 */
static void
cluster_name_is_fixed_by_starttls(void **state)
{
	struct qnetd_fixture *f = *state;
	struct qnetd_client *c = qnetd_fixture_client(f, "test:1");
	struct msg m;

	send_preinit(c, "first", 1);
	send_preinit(c, "second", 2);	/* before STARTTLS: any name */
	assert_string_equal(c->cluster_name, "second");
	msgb_seq(&m, MSG_TYPE_STARTTLS, 3);
	qnetd_fixture_feed(c, &m);
	assert_true(c->tls_started);
	c->tls_peer_verified = true;	/* as after the first message over TLS */
	send_preinit(c, "second", 4);
	expect_rename_refused(f, c, 5, "secont", "second", 1);
}

/*
 * In a worker process the cluster was chosen by the front from the first
 * PREINIT: a second one naming another cluster, even in plaintext, costs
 * the connection (the cluster would be decided in two processes).
 */
static void
worker_keeps_the_routed_cluster(void **state)
{
	struct qnetd_fixture *f;
	struct qnetd_client *c;
	int sv[2];

	(void)state;
	assert_int_equal(qnetd_fixture_setup((void **)&f), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	f->inst.shard_fd = sv[0];	/* closed by the instance */
	c = qnetd_fixture_client(f, "test:1");
	send_preinit(c, "routed", 1);	/* the PREINIT handed over by the front */
	send_preinit(c, "routed", 2);
	expect_rename_refused(f, c, 3, "elsewhere", "routed", 0);
	qnetd_fixture_teardown((void **)&f);
	close(sv[1]);
}

static void
decode_error_echoes_seq_if_seen(void **state)
{
	/* SEQ 5, then a VOTE option of the wrong size */
	static const uint8_t bad[] = {
		0x00, 0x0a, 0x00, 0x00, 0x00, 0x0e,
		0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x05,
		0x00, 0x13, 0x00, 0x02, 0x01, 0x01,
	};
	struct qnetd_fixture *f = *state;
	struct qnetd_client *c = qnetd_fixture_client(f, "test:1");

	qnetd_dispatch(c, bad, sizeof(bad));
	expect_server_error(c, REPLY_ERROR_DECODING_MSG, true, 5);
	qnetd_dispatch(c, bad + 8, 0);	/* nothing decodable at all */
	expect_server_error(c, REPLY_ERROR_DECODING_MSG, false, 0);
	assert_false(c->closing);
}

static void
echo_reply_is_a_byte_copy(void **state)
{
	static const uint8_t echo[] = {
		0x00, 0x08, 0x00, 0x00, 0x00, 0x0f,
		0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x2a,
		0x01, 0xff, 0x00, 0x03, 0x61, 0x62, 0x63,	/* unknown option kept */
	};
	struct qnetd_fixture *f = *state;
	struct qnetd_client *c = qnetd_fixture_join(f, "echo", 1, ALGORITHM_FFSPLIT);
	struct qnetd_send_item *item;

	qnetd_dispatch(c, echo, sizeof(echo));
	assert_int_equal(c->send_queue_len, 1);
	item = qb_list_first_entry(&c->send_queue, struct qnetd_send_item, list);
	assert_int_equal(item->len, sizeof(echo));
	assert_int_equal(item->data[1], MSG_TYPE_ECHO_REPLY);
	assert_memory_equal(item->data + 2, echo + 2, sizeof(echo) - 2);
}

static void
set_option_applies_and_answers(void **state)
{
	struct qnetd_fixture *f = *state;
	struct qnetd_client *c = qnetd_fixture_join(f, "opt", 1, ALGORITHM_FFSPLIT);
	struct msg m, r;

	msgb_seq(&m, MSG_TYPE_SET_OPTION, 20);
	m.kap_tie_breaker_set = true;
	m.kap_tie_breaker = 1;
	qnetd_fixture_feed(c, &m);
	assert_true(qnetd_fixture_pop(c, &r));
	assert_int_equal(r.type, MSG_TYPE_SET_OPTION_REPLY);
	assert_true(r.kap_tie_breaker_set);
	assert_int_equal(r.kap_tie_breaker, 1);
	assert_false(r.heartbeat_interval_set);	/* only if the request had one */
	msg_fini(&r);
	assert_true(c->algo.kap_enabled);

	m.kap_tie_breaker_set = false;
	m.heartbeat_interval_set = true;
	m.heartbeat_interval = 500;
	qnetd_fixture_feed(c, &m);
	expect_server_error(c, REPLY_INVALID_HEARTBEAT_INTERVAL, true, 20);
	m.heartbeat_interval = 2000;
	qnetd_fixture_feed(c, &m);
	assert_true(qnetd_fixture_pop(c, &r));
	assert_int_equal(r.heartbeat_interval, 2000);
	msg_fini(&r);
	assert_int_equal(c->algo.heartbeat_interval_ms, 2000);
}

static void
node_list_required_options(void **state)
{
	struct qnetd_fixture *f = *state;
	struct qnetd_client *c = qnetd_fixture_join(f, "nl", 1, ALGORITHM_FFSPLIT);
	struct msg m;

	msgb_seq(&m, MSG_TYPE_NODE_LIST, 30);
	qnetd_fixture_feed(c, &m);	/* no type */
	expect_server_error(c, REPLY_DOESNT_CONTAIN_REQUIRED_OPTION, true, 30);
	m.node_list_type_set = true;
	m.node_list_type = NODE_LIST_MEMBERSHIP;
	qnetd_fixture_feed(c, &m);	/* membership without ring id */
	expect_server_error(c, REPLY_DOESNT_CONTAIN_REQUIRED_OPTION, true, 30);
	m.node_list_type = NODE_LIST_QUORUM;
	qnetd_fixture_feed(c, &m);	/* quorum without quorate */
	expect_server_error(c, REPLY_DOESNT_CONTAIN_REQUIRED_OPTION, true, 30);
	m.node_list_type = NODE_LIST_INITIAL_CONFIG;
	qnetd_fixture_feed(c, &m);	/* ffsplit: empty config list */
	expect_server_error(c, REPLY_INVALID_CONFIG_NODE_LIST, true, 30);
	assert_false(c->algo.config_set);	/* nothing stored on error */
}

static void
send_list(struct qnetd_client *c, uint8_t type, uint32_t seq, const uint32_t *ids, size_t n,
    uint64_t ring_seq)
{
	struct msg m;

	assert_int_equal(msgb_node_list(&m, seq, type, ids, n, ring_seq), 0);
	qnetd_fixture_feed(c, &m);
	node_list_fini(&m.nodes);
}

/* Pop a message of the wanted type, with the wanted vote. */
static uint32_t
expect_vote(struct qnetd_client *c, uint16_t type, uint8_t vote)
{
	struct msg r;
	uint32_t seq;

	assert_true(qnetd_fixture_pop(c, &r));
	if (r.type != type || r.vote != vote)
		fail_msg("want %s %s, got %s %s", msg_type_name(type), vote_name(vote),
		    msg_type_name(r.type), vote_name(r.vote));
	seq = r.seq;
	msg_fini(&r);
	return seq;
}

static void
reply_vote_info(struct qnetd_client *c, uint32_t seq)
{
	struct msg m;

	msgb_seq(&m, MSG_TYPE_VOTE_INFO_REPLY, seq);
	qnetd_fixture_feed(c, &m);
}

/* Empty c's queue; true if a VOTE_INFO with vote was in it, *seq the last one's. */
static bool
drain_vote_info(struct qnetd_client *c, uint8_t vote, uint32_t *seq)
{
	struct msg r;
	bool found = false;

	while (qnetd_fixture_pop(c, &r)) {
		if (r.type == MSG_TYPE_VOTE_INFO && r.vote == vote) {
			found = true;
			*seq = r.seq;
		}
		msg_fini(&r);
	}
	return found;
}

/*
 * Two nodes run the upstream client's sequence; ffsplit answers the
 * first config list with ASK_LATER and, once both reported the same
 * membership, pushes VOTE_INFO ACKs (no NACK needed) before the reply.
 * Then a 1|1 split: node 2 gets its NACK first, node 1 its ACK only after
 * node 2 acknowledged the NACK (docs/protocol.md 3.2 two-phase).
 */
static void
ffsplit_session_end_to_end(void **state)
{
	static const uint32_t both[] = { 1, 2 }, only1[] = { 1 }, only2[] = { 2 };
	struct qnetd_fixture *f = *state;
	struct qnetd_client *a = qnetd_fixture_join(f, "ff", 1, ALGORITHM_FFSPLIT);
	struct qnetd_client *b = qnetd_fixture_join(f, "ff", 2, ALGORITHM_FFSPLIT);
	uint32_t seq;

	send_list(a, NODE_LIST_INITIAL_CONFIG, 2, both, 2, 0);
	expect_vote(a, MSG_TYPE_NODE_LIST_REPLY, VOTE_ASK_LATER);
	send_list(b, NODE_LIST_INITIAL_CONFIG, 2, both, 2, 0);
	expect_vote(b, MSG_TYPE_NODE_LIST_REPLY, VOTE_ASK_LATER);

	send_list(a, NODE_LIST_MEMBERSHIP, 3, both, 2, 8);
	/* b has not reported ring 8 yet: unstable, a must stop voting */
	expect_vote(a, MSG_TYPE_NODE_LIST_REPLY, VOTE_WAIT_FOR_REPLY);
	send_list(b, NODE_LIST_MEMBERSHIP, 3, both, 2, 8);
	seq = expect_vote(a, MSG_TYPE_VOTE_INFO, VOTE_ACK);
	reply_vote_info(a, seq);
	seq = expect_vote(b, MSG_TYPE_VOTE_INFO, VOTE_ACK);	/* pushed before the reply */
	reply_vote_info(b, seq);
	expect_vote(b, MSG_TYPE_NODE_LIST_REPLY, VOTE_NO_CHANGE);
	assert_int_equal(a->last_sent_ack_nack_vote, VOTE_ACK);

	/* split 1|1: both report their own ring */
	send_list(a, NODE_LIST_MEMBERSHIP, 4, only1, 1, 12);
	send_list(b, NODE_LIST_MEMBERSHIP, 4, only2, 1, 12);
	/* a's report alone is already stable (b not in a's membership) */
	assert_false(drain_vote_info(a, VOTE_ACK, &seq));	/* no ACK before b's NACK is acked */
	assert_true(drain_vote_info(b, VOTE_NACK, &seq));
	assert_true(seq != 0);
	reply_vote_info(b, seq - 1);	/* stale: ignored */
	assert_true(qb_list_empty(&a->send_queue));
	reply_vote_info(b, seq);
	expect_vote(a, MSG_TYPE_VOTE_INFO, VOTE_ACK);
	assert_int_equal(b->last_sent_ack_nack_vote, VOTE_NACK);
}

static void
clusters_live_while_clients_do(void **state)
{
	struct qnetd_fixture *f = *state;
	struct qnetd_client *a = qnetd_fixture_join(f, "c1", 1, ALGORITHM_LMS);
	struct qnetd_client *b = qnetd_fixture_join(f, "c1", 2, ALGORITHM_LMS);

	assert_int_equal(f->inst.cluster_count, 1);
	assert_non_null(qnetd_cluster_find(&f->inst, "c1"));
	assert_ptr_equal(a->cluster, b->cluster);
	assert_int_equal(a->cluster->view.count, 2);
	/* sorted by node id whatever the join order */
	assert_int_equal(a->cluster->view.clients[0]->node_id, 1);
	qnetd_cluster_leave(a, false);
	qnetd_client_destroy(a);
	assert_int_equal(b->cluster->view.count, 1);
	qnetd_cluster_leave(b, false);
	qnetd_client_destroy(b);
	assert_int_equal(f->inst.cluster_count, 0);
	assert_null(qnetd_cluster_find(&f->inst, "c1"));
	assert_int_equal(f->inst.conns.count, 0);
}

static void
send_queue_is_capped(void **state)
{
	struct qnetd_fixture *f = *state;
	struct qnetd_client *c = qnetd_fixture_join(f, "cap", 1, ALGORITHM_FFSPLIT);
	struct msg m;

	f->settings.max_client_send_buffers = 3;
	msgb_seq(&m, MSG_TYPE_ECHO_REQUEST, 0);
	for (int i = 0; i < 3; i++)
		qnetd_fixture_feed(c, &m);
	assert_int_equal(c->send_queue_len, 3);
	assert_false(c->closing);
	qnetd_fixture_feed(c, &m);	/* a client that never reads is dropped, nothing grows */
	assert_true(c->closing);
	assert_int_equal(c->send_queue_len, 3);
}

/* Append the encoding of m to the byte string *buf of *len bytes. */
static void
append_encoded(uint8_t **buf, size_t *len, const struct msg *m)
{
	struct tlv_buf b;

	tlv_buf_init(&b, 1 << 16);
	assert_int_equal(msg_encode(m, &b), 0);
	*buf = realloc(*buf, *len + b.len);
	assert_non_null(*buf);
	memcpy(*buf + *len, b.data, b.len);
	*len += b.len;
	tlv_buf_fini(&b);
}

#define PIPELINED	1000

/* What the peer end of a pipelining test has read. */
struct pipe_peer {
	int			 fd;
	uint8_t			*buf;
	size_t			 len;
	unsigned		 replies;	/* messages decoded */
	unsigned		 echoes;	/* ECHO_REPLYs, each with the next seq */
	struct qnetd_client	*client;
	qb_loop_t		*loop;
	unsigned		 ticks_left;
	bool			 paused_on_kept_input;
	bool			 reading;	/* not before the server paused: makes the pause certain */
	qb_loop_timer_handle	 timer;
};

/* Read what the server sent; decode every complete message. */
static void
peer_read(struct pipe_peer *p)
{
	uint8_t chunk[4096];
	ssize_t n;

	while ((n = recv(p->fd, chunk, sizeof(chunk), MSG_DONTWAIT)) > 0) {
		p->buf = realloc(p->buf, p->len + (size_t)n);
		assert_non_null(p->buf);
		memcpy(p->buf + p->len, chunk, (size_t)n);
		p->len += (size_t)n;
	}
	while (p->len >= MSG_HEADER_LEN) {
		size_t whole = MSG_HEADER_LEN + msg_header_length(p->buf);
		struct msg m;

		if (p->len < whole)
			break;
		assert_int_equal(msg_decode(p->buf, whole, &m), 0);
		if (p->replies == 0)
			assert_int_equal(m.type, MSG_TYPE_PREINIT_REPLY);
		else if (p->replies == 1)
			assert_int_equal(m.type, MSG_TYPE_INIT_REPLY);
		else if (m.type != MSG_TYPE_ECHO_REPLY || m.seq != 100 + p->echoes)
			fail_msg("reply %u: %s seq %u", p->replies, msg_type_name(m.type), m.seq);
		else
			p->echoes++;
		p->replies++;
		msg_fini(&m);
		memmove(p->buf, p->buf + whole, p->len - whole);
		p->len -= whole;
	}
}

/* A slow reader: one read per millisecond, while the loop runs the server. */
static void
peer_tick(void *data)
{
	struct pipe_peer *p = data;
	struct qnetd_client *c = p->client;
	int unread = -1;

	if (c->read_paused && c->unread_len > 0 &&
	    ioctl(c->native_fd, FIONREAD, &unread) == 0 && unread == 0)
		p->paused_on_kept_input = true;
	/*
	 * The peer reads nothing until the server has paused (or 5 s passed), so
	 * the pause does not depend on how fast the server runs (valgrind).
	 */
	if (c->read_paused || p->ticks_left < 5000)
		p->reading = true;
	if (p->reading)
		peer_read(p);
	if (c->closing || p->echoes == PIPELINED || p->ticks_left-- == 0) {
		qb_loop_stop(p->loop);
		return;
	}
	assert_int_equal(qb_loop_timer_add(p->loop, QB_LOOP_LOW, 1000000ULL, p, peer_tick,
	    &p->timer), 0);
}

/*
 * A client pipelining PREINIT, INIT and 1000 ECHO_REQUESTs in one write
 * over a real socket gets every reply, in order: with a small send queue
 * and socket buffer its reading pauses (instead of a "send queue full"
 * disconnect), and the requests already read when it paused are taken up
 * once the peer has read, though the socket shows no new input then.
 */
static void
pipelined_requests_are_all_answered(void **state)
{
	struct qnetd_fixture *f = *state;
	struct pipe_peer peer = { .fd = -1 };
	uint8_t *out = NULL;
	size_t out_len = 0;
	struct qnetd_client *c;
	PRFileDesc *fd;
	int sv[2], small = 4096;
	struct msg m;

	f->settings.max_client_send_buffers = 8;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
	assert_int_equal(nss_sock_adopt(sv[0], &fd), 0);
	c = qnetd_client_start(&f->inst.conns, fd, "test:2");
	assert_non_null(c);
	peer.fd = sv[1];

	msgb_preinit(&m, 1, "pipe");
	append_encoded(&out, &out_len, &m);
	msgb_init(&m, 10 + 1, 1, ALGORITHM_FFSPLIT, TIE_BREAKER_LOWEST, 8000);
	append_encoded(&out, &out_len, &m);
	msgb_seq(&m, MSG_TYPE_ECHO_REQUEST, 0);
	for (unsigned i = 0; i < PIPELINED; i++) {
		m.seq = 100 + i;
		append_encoded(&out, &out_len, &m);
	}
	assert_true(out_len < 16384);	/* one greedy receive takes it all */
	assert_int_equal(send(sv[1], out, out_len, 0), (ssize_t)out_len);

	peer.client = c;
	peer.loop = f->loop;
	peer.ticks_left = 10000;	/* 10 s at most */
	assert_int_equal(qb_loop_timer_add(f->loop, QB_LOOP_LOW, 1000000ULL, &peer, peer_tick,
	    &peer.timer), 0);
	qb_loop_run(f->loop);
	assert_false(c->closing);
	assert_int_equal(peer.echoes, PIPELINED);
	assert_int_equal(peer.replies, PIPELINED + 2);
	assert_true(peer.paused_on_kept_input);
	assert_true(c->send_queue_len <= f->settings.max_client_send_buffers);
	assert_false(c->read_paused);
	assert_int_equal(c->unread_len, 0);
	free(out);
	free(peer.buf);
	close(sv[1]);
}

/* Node of cluster "dpd" (lms) joined with the heartbeat interval given. */
static struct qnetd_client *
join_dpd(struct qnetd_fixture *f, uint32_t node, uint32_t heartbeat_ms)
{
	struct qnetd_client *c = qnetd_fixture_client(f, "test:1");
	struct msg m;

	send_preinit(c, "dpd", 1);
	msgb_init(&m, 10 + node, node, ALGORITHM_LMS, TIE_BREAKER_LOWEST, 8000);
	m.heartbeat_interval = heartbeat_ms;
	qnetd_fixture_feed(c, &m);
	assert_int_equal(init_reply_code(c), REPLY_NO_ERROR);
	return c;
}

/* A silent client is dropped after coefficient x heartbeat; a talking one is not. */
static void
dead_peer_timer_drops_silent_clients(void **state)
{
	struct qnetd_fixture *f = *state;
	struct qnetd_client *talker;

	f->settings.heartbeat_interval_min = 1;
	f->settings.dpd_interval_coefficient = 1.5;
	join_dpd(f, 1, 20);	/* quiet: dead after 30 ms of silence */
	talker = join_dpd(f, 2, 200);	/* 300 ms */
	assert_int_equal(f->inst.conns.count, 2);
	loop_run_ms(f->loop, 150);
	/* quiet is gone (teardown job ran), its cluster still has talker */
	assert_int_equal(f->inst.conns.count, 1);
	assert_false(talker->closing);
	assert_int_equal(talker->cluster->view.count, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		QNETD_FIXTURE_TEST(preinit_reply_reflects_settings),
		QNETD_FIXTURE_TEST(preinit_errors),
		QNETD_FIXTURE_TEST(init_error_rows),
		QNETD_FIXTURE_TEST(init_echoes_lists_only_when_sent),
		QNETD_FIXTURE_TEST(cluster_consistency_checks),
		QNETD_FIXTURE_TEST(requests_before_init_are_refused),
		QNETD_FIXTURE_TEST(server_types_are_unexpected),
		QNETD_FIXTURE_TEST(tls_required_gate_and_starttls_order),
		QNETD_FIXTURE_TEST(cluster_name_is_fixed_by_starttls),
		cmocka_unit_test(worker_keeps_the_routed_cluster),
		QNETD_FIXTURE_TEST(decode_error_echoes_seq_if_seen),
		QNETD_FIXTURE_TEST(echo_reply_is_a_byte_copy),
		QNETD_FIXTURE_TEST(set_option_applies_and_answers),
		QNETD_FIXTURE_TEST(node_list_required_options),
		QNETD_FIXTURE_TEST(ffsplit_session_end_to_end),
		QNETD_FIXTURE_TEST(clusters_live_while_clients_do),
		QNETD_FIXTURE_TEST(send_queue_is_capped),
		QNETD_FIXTURE_TEST(pipelined_requests_are_all_answered),
		QNETD_FIXTURE_TEST(dead_peer_timer_drops_silent_clients),
	};

	/* Keep the daemon's log lines out of the test output. */
	qb_log_init("test-qnetd-dispatch", LOG_DAEMON, LOG_CRIT);
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, QB_FALSE);
	/* One NSS for the whole group: the pipelining test wraps a real socket. */
	return cmocka_run_group_tests_name("qnetd-dispatch", tests, nss_group_setup,
	    nss_group_teardown);
}
