/*
 * tests/fuzz/gen-corpus.c: write the seed corpora of the fuzz targets.
 *   gen-corpus DIR   writes DIR/fuzz-msg-decode/seed-* and
 *                    DIR/fuzz-qnetd-dispatch/seed-*
 * Decode seeds are every message in the form the upstream peers emit
 * (docs/protocol.md 1.8, 1.10). Dispatch seeds are whole sessions in the
 * input layout of fuzz-qnetd-dispatch.c: the upstream client's handshake
 * and node lists for each algorithm, two clusters, and the refusals.
 * The output is checked in under tests/fuzz/corpus/; `make fuzz-corpus`
 * rewrites it.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/msg.h"
#include "tests/unit/msg-builders.h"

static const char *out_dir;

static void
die(const char *what)
{
	fprintf(stderr, "gen-corpus: %s\n", what);
	exit(1);
}

static void
write_file(const char *target, const char *name, const uint8_t *data, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/seed-%s", out_dir, target, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static void
encode(const struct msg *m, struct tlv_buf *b)
{
	if (msg_encode(m, b) != 0)
		die("cannot encode a seed message");
}

/* ---- upstream-form messages ---- */

/* INIT in upstream's full form. */
static void
m_init(struct msg *m, uint32_t seq, uint32_t node, uint16_t algorithm, uint8_t tb,
    uint32_t hb)
{
	msgb_init(m, seq, node, algorithm, tb, hb);
	msgb_supported_lists(m);
}

/* A node list as upstream sends it: heuristics on membership, data centers on changes. */
static void
m_node_list(struct msg *m, uint32_t seq, uint8_t type, const uint32_t *ids, size_t n,
    uint64_t ring_seq, uint8_t heuristics)
{
	if (msgb_node_list(m, seq, type, ids, n, ring_seq) != 0)
		die("out of memory");
	if (type == NODE_LIST_MEMBERSHIP && heuristics != HEURISTICS_UNDEFINED) {
		m->heuristics_set = true;
		m->heuristics = heuristics;
	}
	if (type == NODE_LIST_CHANGED_CONFIG)
		for (size_t i = 0; i < m->nodes.count; i++)
			m->nodes.nodes[i].data_center_id = 7;
}

static void
emit_decode_seed(const char *name, struct msg *m)
{
	struct tlv_buf b;

	tlv_buf_init(&b, 1 << 20);
	encode(m, &b);
	write_file("fuzz-msg-decode", name, b.data, b.len);
	tlv_buf_fini(&b);
	node_list_fini(&m->nodes);
}

static void
decode_seeds(void)
{
	static const uint32_t both[] = { 1, 2 }, three[] = { 1, 2, 3 };
	/* docs/protocol.md 1.10, byte for byte */
	static const uint8_t preinit_pve[] = {
		0x00, 0x00, 0x00, 0x00, 0x00, 0x0f, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00,
		0x00, 0x01, 0x00, 0x01, 0x00, 0x03, 0x70, 0x76, 0x65,
	};
	static const uint8_t echo_unknown_opt[] = {
		0x00, 0x08, 0x00, 0x00, 0x00, 0x0f, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00,
		0x00, 0x2a, 0x01, 0xff, 0x00, 0x03, 0x61, 0x62, 0x63,
	};
	struct msg m;

	write_file("fuzz-msg-decode", "preinit-hex", preinit_pve, sizeof(preinit_pve));
	write_file("fuzz-msg-decode", "echo-unknown-option", echo_unknown_opt,
	    sizeof(echo_unknown_opt));

	msgb_preinit(&m, 1, "pve");
	emit_decode_seed("preinit", &m);
	msgb_preinit_reply(&m, 1, TLS_SUPPORTED, 1);
	emit_decode_seed("preinit-reply", &m);
	msgb_seq(&m, MSG_TYPE_STARTTLS, 2);
	emit_decode_seed("starttls", &m);
	m_init(&m, 3, 1, ALGORITHM_FFSPLIT, TIE_BREAKER_LOWEST, 8000);
	emit_decode_seed("init", &m);
	m_init(&m, 3, 2, ALGORITHM_LMS, TIE_BREAKER_NODE_ID, 8000);
	emit_decode_seed("init-lms-node-id", &m);

	msgb_init_reply(&m, 3, QNET_DEFAULT_MAX_MSG_SIZE);
	emit_decode_seed("init-reply", &m);

	msgb_seq(&m, MSG_TYPE_SERVER_ERROR, 9);
	m.reply_error_code_set = true;
	m.reply_error_code = REPLY_DOESNT_CONTAIN_REQUIRED_OPTION;
	emit_decode_seed("server-error", &m);

	msgb_seq(&m, MSG_TYPE_SET_OPTION, 4);
	m.kap_tie_breaker_set = true;
	m.kap_tie_breaker = 1;
	m.heartbeat_interval_set = true;
	m.heartbeat_interval = 8000;
	emit_decode_seed("set-option", &m);
	m.type = MSG_TYPE_SET_OPTION_REPLY;
	emit_decode_seed("set-option-reply", &m);

	msgb_seq(&m, MSG_TYPE_ECHO_REQUEST, 1);
	emit_decode_seed("echo-request", &m);
	msgb_seq(&m, MSG_TYPE_ECHO_REPLY, 1);
	emit_decode_seed("echo-reply", &m);

	m_node_list(&m, 5, NODE_LIST_INITIAL_CONFIG, both, 2, 0, 0);
	emit_decode_seed("node-list-initial-config", &m);
	m_node_list(&m, 8, NODE_LIST_CHANGED_CONFIG, three, 3, 0, 0);
	emit_decode_seed("node-list-changed-config", &m);
	m_node_list(&m, 6, NODE_LIST_MEMBERSHIP, both, 2, 0x1c, HEURISTICS_PASS);
	emit_decode_seed("node-list-membership", &m);
	m_node_list(&m, 7, NODE_LIST_QUORUM, both, 2, 0, 0);
	emit_decode_seed("node-list-quorum", &m);

	msgb_vote(&m, MSG_TYPE_NODE_LIST_REPLY, 6, VOTE_NO_CHANGE);
	m.node_list_type_set = true;
	m.node_list_type = NODE_LIST_MEMBERSHIP;
	emit_decode_seed("node-list-reply", &m);
	msgb_seq(&m, MSG_TYPE_ASK_FOR_VOTE, 9);
	emit_decode_seed("ask-for-vote", &m);
	msgb_vote(&m, MSG_TYPE_ASK_FOR_VOTE_REPLY, 9, VOTE_ACK);
	emit_decode_seed("ask-for-vote-reply", &m);
	msgb_vote(&m, MSG_TYPE_VOTE_INFO, 1, VOTE_NACK);
	emit_decode_seed("vote-info", &m);
	msgb_seq(&m, MSG_TYPE_VOTE_INFO_REPLY, 1);
	emit_decode_seed("vote-info-reply", &m);
	msgb_seq(&m, MSG_TYPE_HEURISTICS_CHANGE, 10);
	m.heuristics_set = true;
	m.heuristics = HEURISTICS_FAIL;
	emit_decode_seed("heuristics-change", &m);
	msgb_vote(&m, MSG_TYPE_HEURISTICS_CHANGE_REPLY, 10, VOTE_NO_CHANGE);
	m.heuristics_set = true;
	m.heuristics = HEURISTICS_FAIL;
	emit_decode_seed("heuristics-change-reply", &m);
}

/* ---- dispatch sessions ---- */

/* Must match fuzz-qnetd-dispatch.c's enum op_action. */
enum {
	OP_RAW = 0, OP_PREINIT, OP_STARTTLS, OP_INIT, OP_NODE_LIST, OP_HEURISTICS_CHANGE,
	OP_ASK_FOR_VOTE, OP_VOTE_INFO_REPLY, OP_SET_OPTION, OP_ECHO, OP_DRAIN,
	OP_DISCONNECT, OP_RUN_JOBS, OP_RUN_TIMERS,
};

#define CFG_TLS_OFF	0x00
#define CFG_TLS_ON	0x01
#define CFG_TLS_REQ	0x02
#define CFG_CERT_REQ	0x04
#define CFG_BUFS_32	0x30
#define CFG_TIMERS	0x40
#define CFG1_SHUTDOWN	0x10

struct session {
	struct tlv_buf	b;
	uint32_t	seq[3];
};

static void
s_begin(struct session *s, uint8_t cfg0, uint8_t cfg1)
{
	memset(s, 0, sizeof(*s));
	tlv_buf_init(&s->b, 1 << 20);
	tlv_buf_put_bytes(&s->b, &cfg0, 1);
	tlv_buf_put_bytes(&s->b, &cfg1, 1);
	for (int i = 0; i < 3; i++)
		s->seq[i] = 1;
}

static void
s_op(struct session *s, unsigned action, unsigned slot, const void *payload, size_t len)
{
	uint8_t *p = tlv_buf_append(&s->b, 3);

	if (p == NULL || len > UINT16_MAX)
		die("session too long");
	p[0] = (uint8_t)(action << 4 | slot);
	store_be16(p + 1, (uint16_t)len);
	tlv_buf_put_bytes(&s->b, payload, len);
}

/* An OP_RAW record: the message without its 4 length bytes. */
static void
s_msg(struct session *s, unsigned slot, struct msg *m)
{
	struct tlv_buf mb;

	tlv_buf_init(&mb, 1 << 20);
	encode(m, &mb);
	/* u16 type, then the option area */
	memmove(mb.data + 2, mb.data + MSG_HEADER_LEN, mb.len - MSG_HEADER_LEN);
	s_op(s, OP_RAW, slot, mb.data, mb.len - 4);
	tlv_buf_fini(&mb);
	node_list_fini(&m->nodes);
}

static void
s_simple(struct session *s, unsigned action, unsigned slot, uint8_t b)
{
	s_op(s, action, slot, &b, 1);
}

static void
s_end(struct session *s, const char *name)
{
	if (s->b.err != 0)
		die("session buffer failed");
	write_file("fuzz-qnetd-dispatch", name, s->b.data, s->b.len);
	tlv_buf_fini(&s->b);
}

/* The upstream client's handshake and first node lists (docs/protocol.md 2.2). */
static void
s_handshake(struct session *s, unsigned slot, const char *cluster, uint32_t node,
    uint16_t algorithm, uint8_t tb, bool tls, const uint32_t *config, size_t nconfig,
    uint64_t ring)
{
	struct msg m;

	msgb_preinit(&m, s->seq[slot], cluster);
	s_msg(s, slot, &m);
	if (tls) {
		msgb_seq(&m, MSG_TYPE_STARTTLS, ++s->seq[slot]);
		s_msg(s, slot, &m);
	}
	m_init(&m, ++s->seq[slot], node, algorithm, tb, 8000);
	s_msg(s, slot, &m);
	msgb_seq(&m, MSG_TYPE_SET_OPTION, ++s->seq[slot]);
	m.kap_tie_breaker_set = true;
	m.kap_tie_breaker = 0;
	s_msg(s, slot, &m);
	m_node_list(&m, ++s->seq[slot], NODE_LIST_INITIAL_CONFIG, config, nconfig, 0, 0);
	s_msg(s, slot, &m);
	m_node_list(&m, ++s->seq[slot], NODE_LIST_MEMBERSHIP, config, nconfig, ring,
	    HEURISTICS_PASS);
	s_msg(s, slot, &m);
	m_node_list(&m, ++s->seq[slot], NODE_LIST_QUORUM, config, nconfig, 0, 0);
	s_msg(s, slot, &m);
}

static void
s_membership(struct session *s, unsigned slot, const uint32_t *ids, size_t n, uint64_t ring)
{
	struct msg m;

	m_node_list(&m, ++s->seq[slot], NODE_LIST_MEMBERSHIP, ids, n, ring, HEURISTICS_PASS);
	s_msg(s, slot, &m);
}

static void
dispatch_seeds(void)
{
	static const uint32_t both[] = { 1, 2 }, only1[] = { 1 }, only2[] = { 2 };
	static const uint16_t algorithms[] = {
		ALGORITHM_FFSPLIT, ALGORITHM_LMS, ALGORITHM_2NODELMS, ALGORITHM_TEST,
	};
	static const char *const names[] = { "ffsplit", "lms", "2nodelms", "test" };
	struct session s;
	struct msg m;

	/* Two nodes per algorithm: connect, vote, split 1|1, heal, one leaves. */
	for (size_t a = 0; a < 4; a++) {
		char name[64];

		s_begin(&s, CFG_TLS_ON | CFG_BUFS_32, 0);
		s_handshake(&s, 0, "alpha", 1, algorithms[a], TIE_BREAKER_LOWEST, true, both, 2, 8);
		s_handshake(&s, 1, "alpha", 2, algorithms[a], TIE_BREAKER_LOWEST, true, both, 2, 8);
		s_simple(&s, OP_DRAIN, 0, 1);
		s_simple(&s, OP_DRAIN, 1, 1);
		s_membership(&s, 0, only1, 1, 12);
		s_membership(&s, 1, only2, 1, 12);
		s_simple(&s, OP_DRAIN, 1, 1);
		s_simple(&s, OP_DRAIN, 0, 1);
		s_membership(&s, 0, both, 2, 16);
		s_membership(&s, 1, both, 2, 16);
		s_simple(&s, OP_DRAIN, 0, 1);
		s_simple(&s, OP_DRAIN, 1, 1);
		msgb_seq(&m, MSG_TYPE_HEURISTICS_CHANGE, ++s.seq[0]);
		m.heuristics_set = true;
		m.heuristics = HEURISTICS_FAIL;
		s_msg(&s, 0, &m);
		msgb_seq(&m, MSG_TYPE_ASK_FOR_VOTE, ++s.seq[1]);
		s_msg(&s, 1, &m);
		msgb_seq(&m, MSG_TYPE_ECHO_REQUEST, 1);
		s_msg(&s, 1, &m);
		s_simple(&s, OP_DRAIN, 0, 1);
		s_simple(&s, OP_DISCONNECT, 0, 0);
		s_simple(&s, OP_RUN_JOBS, 0, 0);
		s_simple(&s, OP_DRAIN, 1, 1);
		snprintf(name, sizeof(name), "session-%s", names[a]);
		s_end(&s, name);
	}

	/* Two clusters at once, plaintext, and a third client refused in each way. */
	s_begin(&s, CFG_TLS_ON | CFG_BUFS_32, 0);
	s_handshake(&s, 0, "alpha", 1, ALGORITHM_FFSPLIT, TIE_BREAKER_LOWEST, false, both, 2, 8);
	s_handshake(&s, 1, "beta", 1, ALGORITHM_LMS, TIE_BREAKER_HIGHEST, false, both, 2, 8);
	msgb_preinit(&m, 1, "alpha");
	s_msg(&s, 2, &m);
	m_init(&m, 2, 1, ALGORITHM_FFSPLIT, TIE_BREAKER_LOWEST, 8000);	/* duplicate */
	s_msg(&s, 2, &m);
	m_init(&m, 3, 2, ALGORITHM_LMS, TIE_BREAKER_LOWEST, 8000);	/* algorithm */
	s_msg(&s, 2, &m);
	m_init(&m, 4, 2, ALGORITHM_FFSPLIT, TIE_BREAKER_HIGHEST, 8000);	/* tie-breaker */
	s_msg(&s, 2, &m);
	m_init(&m, 5, 2, ALGORITHM_FFSPLIT, TIE_BREAKER_LOWEST, 999);	/* heartbeat */
	s_msg(&s, 2, &m);
	m_init(&m, 6, 2, ALGORITHM_FFSPLIT, TIE_BREAKER_LOWEST, 8000);	/* accepted */
	s_msg(&s, 2, &m);
	s_simple(&s, OP_DRAIN, 0, 1);
	s_simple(&s, OP_DRAIN, 1, 1);
	s_simple(&s, OP_DRAIN, 2, 1);
	s_simple(&s, OP_DISCONNECT, 1, 0);
	s_simple(&s, OP_DISCONNECT, 0, 0);
	s_simple(&s, OP_RUN_JOBS, 0, 0);
	s_end(&s, "two-clusters-and-refusals");

	/* Server shutdown with two clusters, one teardown still queued. */
	s_begin(&s, CFG_TLS_OFF | CFG_BUFS_32, CFG1_SHUTDOWN);
	s_handshake(&s, 0, "alpha", 1, ALGORITHM_FFSPLIT, TIE_BREAKER_LOWEST, false, both, 2, 8);
	s_handshake(&s, 1, "alpha", 2, ALGORITHM_FFSPLIT, TIE_BREAKER_LOWEST, false, both, 2, 8);
	s_handshake(&s, 2, "beta", 1, ALGORITHM_LMS, TIE_BREAKER_LOWEST, false, only1, 1, 8);
	s_simple(&s, OP_DISCONNECT, 1, 0);
	s_end(&s, "shutdown-with-clients");

	/* Requests in the wrong state, server types, TLS required. */
	s_begin(&s, CFG_TLS_REQ | CFG_BUFS_32, 0);
	m_node_list(&m, 5, NODE_LIST_INITIAL_CONFIG, both, 2, 0, 0);
	s_msg(&s, 0, &m);
	msgb_seq(&m, MSG_TYPE_VOTE_INFO_REPLY, 6);
	s_msg(&s, 0, &m);
	msgb_seq(&m, MSG_TYPE_STARTTLS, 7);
	s_msg(&s, 0, &m);
	msgb_vote(&m, MSG_TYPE_VOTE_INFO, 8, VOTE_ACK);
	s_msg(&s, 0, &m);
	msgb_preinit(&m, 9, "alpha");
	s_msg(&s, 0, &m);
	m_init(&m, 10, 1, ALGORITHM_FFSPLIT, TIE_BREAKER_LOWEST, 8000);
	s_msg(&s, 0, &m);
	s_simple(&s, OP_DRAIN, 0, 0);
	s_end(&s, "wrong-state");

	/* TLS with a required client certificate: no socket, so no certificate. */
	s_begin(&s, CFG_TLS_ON | CFG_CERT_REQ | CFG_BUFS_32, 0);
	s_handshake(&s, 0, "alpha", 1, ALGORITHM_FFSPLIT, TIE_BREAKER_LOWEST, true, both, 2, 8);
	s_simple(&s, OP_RUN_JOBS, 0, 0);
	s_end(&s, "tls-cert-missing");

	/* Small queues and a small reply limit: clients get dropped mid-session. */
	s_begin(&s, CFG_TLS_OFF | 0x10, 0x02);
	s_handshake(&s, 0, "alpha", 1, ALGORITHM_FFSPLIT, TIE_BREAKER_LOWEST, false, both, 2, 8);
	s_handshake(&s, 1, "alpha", 2, ALGORITHM_FFSPLIT, TIE_BREAKER_LOWEST, false, both, 2, 8);
	s_simple(&s, OP_RUN_JOBS, 0, 0);
	s_end(&s, "small-queues");

	/* Compact template ops, lms with tiny heartbeats and real timers. */
	s_begin(&s, CFG_TLS_OFF | CFG_BUFS_32 | CFG_TIMERS, 0);
	{
		static const uint8_t pre[] = { 0x00, 0, 0, 0, 1 };
		static const uint8_t init1[] = { 0x00, 3, 0, 0x81, 0 };	/* node 1, lms, hb 2 */
		static const uint8_t init2[] = { 0x01, 3, 0, 0x81, 0 };	/* node 2 */
		static const uint8_t cfg[] = { 0, 0, 0, 0, 0, 0, 2, 0, 1 };
		static const uint8_t mem[] = { 2, 8, 0, 0, 0, 0, 3, 0, 1 };
		static const uint8_t quo[] = { 3, 0, 0x20, 0, 0, 0, 4, 0, 1 };
		static const uint8_t ms = 4;

		for (unsigned slot = 0; slot < 2; slot++) {
			s_op(&s, OP_PREINIT, slot, pre, sizeof(pre));
			s_op(&s, OP_INIT, slot, slot ? init2 : init1, sizeof(init1));
			s_op(&s, OP_NODE_LIST, slot, cfg, sizeof(cfg));
			s_op(&s, OP_NODE_LIST, slot, mem, sizeof(mem));
			s_op(&s, OP_NODE_LIST, slot, quo, sizeof(quo));
		}
		s_op(&s, OP_RUN_TIMERS, 0, &ms, 1);
		s_simple(&s, OP_DRAIN, 0, 1);
		s_simple(&s, OP_DRAIN, 1, 1);
		s_op(&s, OP_RUN_TIMERS, 0, &ms, 1);
	}
	s_end(&s, "templates-lms-timers");
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen-corpus DIR\n");
		return 2;
	}
	out_dir = argv[1];
	decode_seeds();
	dispatch_seeds();
	return 0;
}
