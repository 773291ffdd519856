/*
 * tests/unit/test-msg.c: the wire codec. Every message type round-trips,
 * the byte examples of docs/protocol.md 1.10 match both ways, and each kind
 * of malformed input is refused with its own error.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/msg.h"
#include "tests/unit/msg-builders.h"

static struct tlv_buf out;

static int
setup(void **state)
{
	(void)state;
	tlv_buf_init(&out, 1 << 20);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	tlv_buf_fini(&out);
	return 0;
}

static void
add_node(struct msg *m, uint32_t id, uint32_t dc, uint8_t st)
{
	struct node_info n = { id, dc, st };

	assert_int_equal(node_list_add(&m->nodes, &n), 0);
}

static void
encode(const struct msg *m)
{
	tlv_buf_reset(&out);
	assert_int_equal(msg_encode(m, &out), 0);
}

/* ---- docs/protocol.md 1.10, byte for byte, both ways ---- */

/* sent encodes to exactly the bytes of want, which decode into *got. */
static void
encode_and_decode(const struct msg *sent, const uint8_t *want, size_t len, struct msg *got)
{
	encode(sent);
	assert_int_equal(out.len, len);
	assert_memory_equal(out.data, want, len);
	assert_int_equal(msg_decode(want, len, got), 0);
}

static const uint32_t both[] = { 1, 2 };

static const uint8_t hex_preinit[] = {
	0x00, 0x00, 0x00, 0x00, 0x00, 0x0f, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00,
	0x00, 0x01, 0x00, 0x01, 0x00, 0x03, 0x70, 0x76, 0x65,
};
static const uint8_t hex_preinit_reply[] = {
	0x00, 0x01, 0x00, 0x00, 0x00, 0x12, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00,
	0x00, 0x01, 0x00, 0x02, 0x00, 0x01, 0x01, 0x00, 0x03, 0x00, 0x01, 0x01,
};
static const uint8_t hex_starttls[] = {
	0x00, 0x02, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00,
	0x00, 0x02,
};
static const uint8_t hex_membership[] = {
	0x00, 0x0a, 0x00, 0x00, 0x00, 0x3a,
	0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x06,
	0x00, 0x12, 0x00, 0x01, 0x02,
	0x00, 0x0d, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x1c,
	0x00, 0x11, 0x00, 0x08, 0x00, 0x09, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x11, 0x00, 0x08, 0x00, 0x09, 0x00, 0x04, 0x00, 0x00, 0x00, 0x02,
	0x00, 0x16, 0x00, 0x01, 0x01,
};
static const uint8_t hex_quorum[] = {
	0x00, 0x0a, 0x00, 0x00, 0x00, 0x34,
	0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x07,
	0x00, 0x12, 0x00, 0x01, 0x03,
	0x00, 0x14, 0x00, 0x01, 0x01,
	0x00, 0x11, 0x00, 0x0d, 0x00, 0x09, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x10, 0x00, 0x01, 0x01,
	0x00, 0x11, 0x00, 0x0d, 0x00, 0x09, 0x00, 0x04, 0x00, 0x00, 0x00, 0x02,
	0x00, 0x10, 0x00, 0x01, 0x01,
};
static const uint8_t hex_vote_info[] = {
	0x00, 0x0e, 0x00, 0x00, 0x00, 0x1d,
	0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x13, 0x00, 0x01, 0x01,
	0x00, 0x0d, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x1c,
};
static const uint8_t hex_server_error[] = {
	0x00, 0x05, 0x00, 0x00, 0x00, 0x0e,
	0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x09,
	0x00, 0x06, 0x00, 0x02, 0x00, 0x07,
};

static void
hex_preinit_both_ways(void **state)
{
	struct msg sent, m;

	(void)state;
	msgb_preinit(&sent, 1, "pve");
	encode_and_decode(&sent, hex_preinit, sizeof(hex_preinit), &m);
	assert_int_equal(m.type, MSG_TYPE_PREINIT);
	assert_true(m.seq_set);
	assert_int_equal(m.seq, 1);
	assert_true(m.cluster_name_set);
	assert_int_equal(m.cluster_name_len, 3);
	assert_memory_equal(m.cluster_name, "pve", 3);
	msg_fini(&m);
}

static void
hex_preinit_reply_both_ways(void **state)
{
	struct msg sent, m;

	(void)state;
	msgb_preinit_reply(&sent, 1, TLS_SUPPORTED, 1);
	encode_and_decode(&sent, hex_preinit_reply, sizeof(hex_preinit_reply), &m);
	assert_int_equal(m.type, MSG_TYPE_PREINIT_REPLY);
	assert_int_equal(m.seq, 1);
	assert_true(m.tls_supported_set);
	assert_int_equal(m.tls_supported, TLS_SUPPORTED);
	assert_true(m.tls_client_cert_required_set);
	assert_int_equal(m.tls_client_cert_required, 1);
	msg_fini(&m);
}

static void
hex_starttls_both_ways(void **state)
{
	struct msg sent, m;

	(void)state;
	msgb_seq(&sent, MSG_TYPE_STARTTLS, 2);
	encode_and_decode(&sent, hex_starttls, sizeof(hex_starttls), &m);
	assert_int_equal(m.type, MSG_TYPE_STARTTLS);
	assert_int_equal(m.seq, 2);
	msg_fini(&m);
}

static void
hex_membership_both_ways(void **state)
{
	struct msg sent, m;

	(void)state;
	assert_int_equal(msgb_node_list(&sent, 6, NODE_LIST_MEMBERSHIP, both, 2, 0x1c), 0);
	sent.heuristics_set = true;
	sent.heuristics = HEURISTICS_PASS;
	encode_and_decode(&sent, hex_membership, sizeof(hex_membership), &m);
	msg_fini(&sent);
	assert_int_equal(m.type, MSG_TYPE_NODE_LIST);
	assert_int_equal(m.seq, 6);
	assert_int_equal(m.node_list_type, NODE_LIST_MEMBERSHIP);
	assert_true(m.ring_id_set);
	assert_int_equal(m.ring_id.node_id, 1);
	assert_true(m.ring_id.seq == 0x1c);
	assert_int_equal(m.nodes.count, 2);
	assert_int_equal(m.nodes.nodes[0].node_id, 1);
	assert_int_equal(m.nodes.nodes[1].node_id, 2);
	assert_true(m.heuristics_set);
	assert_int_equal(m.heuristics, HEURISTICS_PASS);
	assert_false(m.quorate_set);
	assert_false(m.config_version_set);
	msg_fini(&m);
}

static void
hex_quorum_both_ways(void **state)
{
	struct msg sent, m;

	(void)state;
	assert_int_equal(msgb_node_list(&sent, 7, NODE_LIST_QUORUM, both, 2, 0), 0);
	encode_and_decode(&sent, hex_quorum, sizeof(hex_quorum), &m);
	msg_fini(&sent);
	assert_int_equal(m.node_list_type, NODE_LIST_QUORUM);
	assert_true(m.quorate_set);
	assert_int_equal(m.quorate, 1);
	assert_int_equal(m.nodes.count, 2);
	assert_int_equal(m.nodes.nodes[1].node_id, 2);
	assert_int_equal(m.nodes.nodes[1].node_state, NODE_STATE_MEMBER);
	msg_fini(&m);
}

static void
hex_vote_info_both_ways(void **state)
{
	struct msg sent, m;

	(void)state;
	msgb_vote(&sent, MSG_TYPE_VOTE_INFO, 1, VOTE_ACK);
	encode_and_decode(&sent, hex_vote_info, sizeof(hex_vote_info), &m);
	assert_int_equal(m.type, MSG_TYPE_VOTE_INFO);
	assert_int_equal(m.vote, VOTE_ACK);
	assert_true(m.ring_id.seq == 0x1c);
	msg_fini(&m);
}

static void
hex_server_error_both_ways(void **state)
{
	struct msg sent, m;

	(void)state;
	msgb_seq(&sent, MSG_TYPE_SERVER_ERROR, 9);
	sent.reply_error_code_set = true;
	sent.reply_error_code = REPLY_DOESNT_CONTAIN_REQUIRED_OPTION;
	encode_and_decode(&sent, hex_server_error, sizeof(hex_server_error), &m);
	assert_int_equal(m.type, MSG_TYPE_SERVER_ERROR);
	assert_int_equal(m.seq, 9);
	assert_int_equal(m.reply_error_code, REPLY_DOESNT_CONTAIN_REQUIRED_OPTION);
	msg_fini(&m);
}

/* INIT and INIT_REPLY in upstream's full form: only sizes are given in 1.10. */
static void
full_init_and_init_reply_sizes(void **state)
{
	struct msg m;

	(void)state;
	msgb_init(&m, 3, 1, ALGORITHM_FFSPLIT, TIE_BREAKER_LOWEST, 8000);
	msgb_supported_lists(&m);
	encode(&m);
	assert_int_equal(out.len, 153);
	assert_memory_equal(out.data, "\x00\x03\x00\x00\x00\x93", 6);
	/* emit order: SEQ, SUPPORTED_MESSAGES, SUPPORTED_OPTIONS, NODE_ID, ... */
	assert_memory_equal(out.data + 6, "\x00\x00\x00\x04", 4);
	assert_memory_equal(out.data + 14, "\x00\x04\x00\x24", 4);
	assert_memory_equal(out.data + 54, "\x00\x05\x00\x30", 4);
	assert_memory_equal(out.data + 106, "\x00\x09\x00\x04\x00\x00\x00\x01", 8);
	assert_memory_equal(out.data + 114, "\x00\x0b\x00\x02\x00\x01", 6);
	assert_memory_equal(out.data + 120, "\x00\x0c\x00\x04\x00\x00\x1f\x40", 8);
	assert_memory_equal(out.data + 128, "\x00\x15\x00\x05\x01\x00\x00\x00\x00", 9);
	assert_memory_equal(out.data + 137, "\x00\x0d\x00\x0c", 4);

	msgb_init_reply(&m, 3, 32768);
	encode(&m);
	assert_int_equal(out.len, 140);
	assert_memory_equal(out.data, "\x00\x04\x00\x00\x00\x86", 6);
	/* emit order: REPLY_ERROR_CODE first, SEQ after the lists */
	assert_memory_equal(out.data + 6, "\x00\x06\x00\x02\x00\x00", 6);
	assert_memory_equal(out.data + 104, "\x00\x00\x00\x04\x00\x00\x00\x03", 8);
	assert_memory_equal(out.data + 128, "\x00\x0a\x00\x08\x00\x00\x00\x01\x00\x02\x00\x03", 12);
}

/* ---- round trip of every message type, with every option type ---- */

static void
fill_all_options(struct msg *m, uint16_t type)
{
	static uint16_t msgs[] = { 0, 3, 17 };
	static uint16_t opts[] = { 0, 23, 100 };
	static uint16_t algos[] = { 1, 3 };

	/* INIT's options from its builder, then the values changed and the rest added. */
	msgb_init(m, 0xfffffffe, 0x80000001, ALGORITHM_LMS, TIE_BREAKER_NODE_ID, 120000);
	m->type = type;
	m->tie_breaker.node_id = 42;
	m->ring_id.node_id = 7;
	m->ring_id.seq = 0x0123456789abcdefULL;
	msgb_set_cluster_name(m, "clu\0ster", 8);
	m->tls_supported_set = true;
	m->tls_supported = TLS_REQUIRED;
	m->tls_client_cert_required_set = true;
	m->tls_client_cert_required = 1;
	m->supported_messages_set = true;
	m->supported_messages = msgs;
	m->supported_messages_count = 3;
	m->supported_options_set = true;
	m->supported_options = opts;
	m->supported_options_count = 3;
	m->reply_error_code_set = true;
	m->reply_error_code = REPLY_INVALID_MEMBERSHIP_NODE_LIST;
	m->server_max_request_size_set = true;
	m->server_max_request_size = 32768;
	m->server_max_reply_size_set = true;
	m->server_max_reply_size = 16777216;
	m->supported_algorithms_set = true;
	m->supported_algorithms = algos;
	m->supported_algorithms_count = 2;
	m->config_version_set = true;
	m->config_version = 0xfedcba9876543210ULL;
	m->data_center_id_set = true;
	m->data_center_id = 4;
	m->node_state_set = true;
	m->node_state = NODE_STATE_LEAVING;
	m->node_list_type_set = true;
	m->node_list_type = NODE_LIST_CHANGED_CONFIG;
	m->vote_set = true;
	m->vote = VOTE_WAIT_FOR_REPLY;
	m->quorate_set = true;
	m->quorate = 0;
	m->heuristics_set = true;
	m->heuristics = HEURISTICS_FAIL;
	m->kap_tie_breaker_set = true;
	m->kap_tie_breaker = 1;
}

static void
every_type_round_trips_every_option(void **state)
{
	(void)state;
	for (uint16_t type = 0; type < MSG_TYPE_COUNT; type++) {
		struct msg m, back;
		const char *diff;

		fill_all_options(&m, type);
		add_node(&m, 1, 0, 0);
		add_node(&m, 2, 9, NODE_STATE_MEMBER);
		add_node(&m, 0xffffffff, 0, NODE_STATE_DEAD);
		encode(&m);
		if (msg_decode(out.data, out.len, &back) != 0)
			fail_msg("type %u (%s) does not decode", type, msg_type_name(type));
		/* Every option, its _set flag and every node field come back as sent. */
		if ((diff = msgb_diff(&m, &back)) != NULL)
			fail_msg("type %u (%s): %s changed in the round trip", type,
			    msg_type_name(type), diff);
		node_list_fini(&m.nodes);
		msg_fini(&back);
	}
}

/* Minimal upstream-form message of each type decodes to what was set. */
static void
every_type_minimal_round_trip(void **state)
{
	(void)state;
	for (uint16_t type = 0; type < MSG_TYPE_COUNT; type++) {
		struct msg m, back;

		msgb_seq(&m, type, type + 100u);
		encode(&m);
		assert_int_equal(out.len, 14);
		assert_int_equal(msg_decode(out.data, out.len, &back), 0);
		assert_int_equal(back.type, type);
		assert_int_equal(back.seq, type + 100u);
		assert_false(back.vote_set);
		assert_false(back.ring_id_set);
		assert_int_equal(back.nodes.count, 0);
		msg_fini(&back);
	}
}

static void
tie_breaker_node_id_only_in_node_id_mode(void **state)
{
	static const uint8_t wire[] = {
		0x00, 0x03, 0x00, 0x00, 0x00, 0x09,
		0x00, 0x15, 0x00, 0x05, 0x01, 0x00, 0x00, 0x00, 0x2a,
	};
	struct msg m;

	(void)state;
	assert_int_equal(msg_decode(wire, sizeof(wire), &m), 0);
	assert_int_equal(m.tie_breaker.mode, TIE_BREAKER_LOWEST);
	assert_int_equal(m.tie_breaker.node_id, 0);	/* forced 0 */
	msg_fini(&m);

	msg_init(&m, MSG_TYPE_INIT);
	m.tie_breaker_set = true;
	m.tie_breaker.mode = TIE_BREAKER_HIGHEST;
	m.tie_breaker.node_id = 42;
	encode(&m);
	assert_memory_equal(out.data + 6, "\x00\x15\x00\x05\x02\x00\x00\x00\x00", 9);
}

static void
unknown_options_skipped_and_repeats(void **state)
{
	static const uint8_t wire[] = {
		0x00, 0x0a, 0x00, 0x00, 0x00, 0x2a,
		0x00, 0x63, 0x00, 0x03, 0xaa, 0xbb, 0xcc,		/* unknown 99 */
		0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01,	/* seq 1 */
		0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x02,	/* seq 2 wins */
		/* NODE_INFO with an unknown inner option before NODE_ID */
		0x00, 0x11, 0x00, 0x0f,
		0x01, 0x00, 0x00, 0x03, 0x01, 0x02, 0x03,
		0x00, 0x09, 0x00, 0x04, 0x00, 0x00, 0x00, 0x05,
	};
	struct msg m;

	(void)state;
	assert_int_equal(msg_decode(wire, sizeof(wire), &m), 0);
	assert_int_equal(m.seq, 2);
	assert_int_equal(m.nodes.count, 1);
	assert_int_equal(m.nodes.nodes[0].node_id, 5);
	msg_fini(&m);
}

/* ---- malformed input: one row per failure, each with its own error ---- */

static const struct {
	const char	*name;
	uint8_t		 in[32];
	size_t		 len;
	int		 want;
	bool		 want_seq;	/* SEQ decoded before the failure */
} bad_rows[] = {
	{ "empty buffer", { 0 }, 0, MSG_ERR_SHORT_HEADER, false },
	{ "5-byte header", { 0x00, 0x00, 0x00, 0x00, 0x00 }, 5, MSG_ERR_SHORT_HEADER, false },
	{ "length past end", { 0x00, 0x08, 0x00, 0x00, 0x00, 0x09,
	    0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01 }, 14,
	    MSG_ERR_LENGTH_MISMATCH, false },
	{ "length short of buffer", { 0x00, 0x08, 0x00, 0x00, 0x00, 0x07,
	    0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01 }, 14,
	    MSG_ERR_LENGTH_MISMATCH, false },
	{ "length 0xffffffff", { 0x00, 0x08, 0xff, 0xff, 0xff, 0xff,
	    0x00, 0x00, 0x00, 0x04 }, 10, MSG_ERR_LENGTH_MISMATCH, false },
	{ "unknown message type 18", { 0x00, 0x12, 0x00, 0x00, 0x00, 0x08,
	    0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01 }, 14,
	    MSG_ERR_UNKNOWN_TYPE, false },
	{ "unknown message type 0xffff", { 0xff, 0xff, 0x00, 0x00, 0x00, 0x00 }, 6,
	    MSG_ERR_UNKNOWN_TYPE, false },
	{ "empty option area", { 0x00, 0x08, 0x00, 0x00, 0x00, 0x00 }, 6,
	    MSG_ERR_TLV_TRUNCATED, false },
	{ "3-byte option area", { 0x00, 0x08, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00 }, 9,
	    MSG_ERR_TLV_TRUNCATED, false },
	{ "TLV length lies", { 0x00, 0x08, 0x00, 0x00, 0x00, 0x08,
	    0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x01 }, 14,
	    MSG_ERR_TLV_TRUNCATED, false },
	{ "trailing 2 bytes after seq", { 0x00, 0x08, 0x00, 0x00, 0x00, 0x0a,
	    0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01 }, 16,
	    MSG_ERR_TLV_TRUNCATED, true },
	{ "seq of 3 bytes", { 0x00, 0x08, 0x00, 0x00, 0x00, 0x07,
	    0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x01 }, 13, MSG_ERR_OPTION_SIZE, false },
	{ "ring id of 11 bytes", { 0x00, 0x0e, 0x00, 0x00, 0x00, 0x0f,
	    0x00, 0x0d, 0x00, 0x0b, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1 }, 21,
	    MSG_ERR_OPTION_SIZE, false },
	{ "tie-breaker of 4 bytes", { 0x00, 0x03, 0x00, 0x00, 0x00, 0x08,
	    0x00, 0x15, 0x00, 0x04, 0x01, 0, 0, 0 }, 14, MSG_ERR_OPTION_SIZE, false },
	{ "odd u16 array", { 0x00, 0x03, 0x00, 0x00, 0x00, 0x07,
	    0x00, 0x04, 0x00, 0x03, 0x00, 0x01, 0x00 }, 13, MSG_ERR_OPTION_SIZE, false },
	{ "config version of 4 bytes", { 0x00, 0x0a, 0x00, 0x00, 0x00, 0x08,
	    0x00, 0x0e, 0x00, 0x04, 0, 0, 0, 1 }, 14, MSG_ERR_OPTION_SIZE, false },
	{ "vote 0 after seq", { 0x00, 0x0e, 0x00, 0x00, 0x00, 0x0d,
	    0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x05,
	    0x00, 0x13, 0x00, 0x01, 0x00 }, 19, MSG_ERR_OPTION_VALUE, true },
	{ "vote 6", { 0x00, 0x0e, 0x00, 0x00, 0x00, 0x05,
	    0x00, 0x13, 0x00, 0x01, 0x06 }, 11, MSG_ERR_OPTION_VALUE, false },
	{ "tls supported 3", { 0x00, 0x01, 0x00, 0x00, 0x00, 0x05,
	    0x00, 0x02, 0x00, 0x01, 0x03 }, 11, MSG_ERR_OPTION_VALUE, false },
	{ "node list type 4", { 0x00, 0x0a, 0x00, 0x00, 0x00, 0x05,
	    0x00, 0x12, 0x00, 0x01, 0x04 }, 11, MSG_ERR_OPTION_VALUE, false },
	{ "quorate 2", { 0x00, 0x0a, 0x00, 0x00, 0x00, 0x05,
	    0x00, 0x14, 0x00, 0x01, 0x02 }, 11, MSG_ERR_OPTION_VALUE, false },
	{ "heuristics 0", { 0x00, 0x10, 0x00, 0x00, 0x00, 0x05,
	    0x00, 0x16, 0x00, 0x01, 0x00 }, 11, MSG_ERR_OPTION_VALUE, false },
	{ "kap 2", { 0x00, 0x06, 0x00, 0x00, 0x00, 0x05,
	    0x00, 0x17, 0x00, 0x01, 0x02 }, 11, MSG_ERR_OPTION_VALUE, false },
	{ "top-level node state 0", { 0x00, 0x0a, 0x00, 0x00, 0x00, 0x05,
	    0x00, 0x10, 0x00, 0x01, 0x00 }, 11, MSG_ERR_OPTION_VALUE, false },
	{ "tie-breaker mode 0", { 0x00, 0x03, 0x00, 0x00, 0x00, 0x09,
	    0x00, 0x15, 0x00, 0x05, 0x00, 0, 0, 0, 1 }, 15, MSG_ERR_OPTION_VALUE, false },
	{ "tie-breaker mode 4", { 0x00, 0x03, 0x00, 0x00, 0x00, 0x09,
	    0x00, 0x15, 0x00, 0x05, 0x04, 0, 0, 0, 1 }, 15, MSG_ERR_OPTION_VALUE, false },
	{ "node info without node id", { 0x00, 0x0a, 0x00, 0x00, 0x00, 0x0c,
	    0x00, 0x11, 0x00, 0x08, 0x00, 0x0f, 0x00, 0x04, 0, 0, 0, 1 }, 18,
	    MSG_ERR_NODE_INFO, false },
	{ "node info with node id 0", { 0x00, 0x0a, 0x00, 0x00, 0x00, 0x0c,
	    0x00, 0x11, 0x00, 0x08, 0x00, 0x09, 0x00, 0x04, 0, 0, 0, 0 }, 18,
	    MSG_ERR_NODE_INFO, false },
	{ "node info empty", { 0x00, 0x0a, 0x00, 0x00, 0x00, 0x04,
	    0x00, 0x11, 0x00, 0x00 }, 10, MSG_ERR_NODE_INFO, false },
	{ "node info inner length lies", { 0x00, 0x0a, 0x00, 0x00, 0x00, 0x0c,
	    0x00, 0x11, 0x00, 0x08, 0x00, 0x09, 0x00, 0x05, 0, 0, 0, 1 }, 18,
	    MSG_ERR_NODE_INFO, false },
	{ "node info state 4", { 0x00, 0x0a, 0x00, 0x00, 0x00, 0x11,
	    0x00, 0x11, 0x00, 0x0d, 0x00, 0x09, 0x00, 0x04, 0, 0, 0, 1,
	    0x00, 0x10, 0x00, 0x01, 0x04 }, 23, MSG_ERR_NODE_INFO, false },
	{ "node info short node id", { 0x00, 0x0a, 0x00, 0x00, 0x00, 0x0b,
	    0x00, 0x11, 0x00, 0x07, 0x00, 0x09, 0x00, 0x03, 0, 0, 1 }, 17,
	    MSG_ERR_NODE_INFO, false },
};

static void
malformed_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++) {
		/* Copy into an exact-size heap buffer so ASan/valgrind catch overreads. */
		uint8_t *copy = malloc(bad_rows[i].len ? bad_rows[i].len : 1);
		struct msg m;
		int got;

		assert_non_null(copy);
		memcpy(copy, bad_rows[i].in, bad_rows[i].len);
		got = msg_decode(copy, bad_rows[i].len, &m);
		if (got != bad_rows[i].want)
			fail_msg("%s: got %d (%s), want %d (%s)", bad_rows[i].name,
			    got, msg_decode_error_name(got), bad_rows[i].want,
			    msg_decode_error_name(bad_rows[i].want));
		if (m.seq_set != bad_rows[i].want_seq)
			fail_msg("%s: seq_set %d, want %d", bad_rows[i].name,
			    m.seq_set, bad_rows[i].want_seq);
		msg_fini(&m);
		free(copy);
	}
}

/*
 * Every prefix of a valid message is refused as it stands; with the header
 * length patched to match, it decodes only when cut at an option boundary.
 * The copies are exact-size heap buffers, so an overread trips ASan/valgrind.
 */
static void
every_truncation_refused(void **state)
{
	bool boundary[512] = { false };
	struct tlv_cursor cur;
	struct tlv_option opt;
	struct msg m;

	(void)state;
	fill_all_options(&m, MSG_TYPE_NODE_LIST);
	add_node(&m, 1, 3, NODE_STATE_MEMBER);
	encode(&m);
	node_list_fini(&m.nodes);
	assert_true(out.len < sizeof(boundary));
	cur.pos = out.data + MSG_HEADER_LEN;
	cur.left = out.len - MSG_HEADER_LEN;
	while (tlv_next(&cur, &opt) == 1)
		boundary[out.len - cur.left] = true;
	boundary[MSG_HEADER_LEN] = false;	/* empty area is refused too */

	for (size_t len = 0; len < out.len; len++) {
		uint8_t *copy = malloc(len ? len : 1);
		struct msg back;
		int got;

		assert_non_null(copy);
		memcpy(copy, out.data, len);
		if (msg_decode(copy, len, &back) == 0)
			fail_msg("unpatched prefix of %zu bytes decoded", len);
		msg_fini(&back);
		if (len >= MSG_HEADER_LEN) {
			store_be32(copy + 2, (uint32_t)(len - MSG_HEADER_LEN));
			got = msg_decode(copy, len, &back);
			if ((got == 0) != boundary[len])
				fail_msg("patched prefix of %zu bytes: got %d", len, got);
			msg_fini(&back);
		}
		free(copy);
	}
}

static void
encode_refuses_bad_values_and_caps(void **state)
{
	struct msg m;
	struct tlv_buf small;

	(void)state;
	msg_init(&m, MSG_TYPE_VOTE_INFO);
	m.vote_set = true;
	m.vote = VOTE_UNDEFINED;
	tlv_buf_reset(&out);
	assert_int_equal(msg_encode(&m, &out), -EINVAL);
	m.vote = VOTE_ACK;
	m.type = MSG_TYPE_COUNT;
	assert_int_equal(msg_encode(&m, &out), -EINVAL);
	m.type = MSG_TYPE_VOTE_INFO;
	m.heuristics_set = true;
	m.heuristics = HEURISTICS_UNDEFINED;
	assert_int_equal(msg_encode(&m, &out), -EINVAL);

	msgb_seq(&m, MSG_TYPE_VOTE_INFO, 0);
	tlv_buf_init(&small, 10);
	assert_int_equal(msg_encode(&m, &small), -EMSGSIZE);
	tlv_buf_fini(&small);
}

static void
names_cover_every_value(void **state)
{
	(void)state;
	for (uint16_t t = 0; t < MSG_TYPE_COUNT; t++)
		assert_string_not_equal(msg_type_name(t), "Unknown");
	for (uint16_t t = 0; t < OPT_TYPE_COUNT; t++)
		assert_string_not_equal(opt_type_name(t), "Unknown");
	for (uint16_t c = 0; c <= REPLY_INVALID_MEMBERSHIP_NODE_LIST; c++)
		assert_string_not_equal(reply_error_code_name(c), "Unknown");
	assert_string_equal(msg_type_name(18), "Unknown");
	assert_string_equal(msg_type_name(MSG_TYPE_HEURISTICS_CHANGE_REPLY),
	    "Heuristics change reply");
	assert_string_equal(decision_algorithm_name(ALGORITHM_FFSPLIT), "Fifty-Fifty split");
	assert_string_equal(decision_algorithm_name(ALGORITHM_2NODELMS), "2 Node LMS");
	assert_string_equal(vote_name(VOTE_ASK_LATER), "Ask later");
	assert_string_equal(tls_supported_name(TLS_REQUIRED), "Required");
	assert_string_equal(tie_breaker_mode_name(0), "Unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hex_preinit_both_ways),
		cmocka_unit_test(hex_preinit_reply_both_ways),
		cmocka_unit_test(hex_starttls_both_ways),
		cmocka_unit_test(hex_membership_both_ways),
		cmocka_unit_test(hex_quorum_both_ways),
		cmocka_unit_test(hex_vote_info_both_ways),
		cmocka_unit_test(hex_server_error_both_ways),
		cmocka_unit_test(full_init_and_init_reply_sizes),
		cmocka_unit_test(every_type_round_trips_every_option),
		cmocka_unit_test(every_type_minimal_round_trip),
		cmocka_unit_test(tie_breaker_node_id_only_in_node_id_mode),
		cmocka_unit_test(unknown_options_skipped_and_repeats),
		cmocka_unit_test(malformed_rows),
		cmocka_unit_test(every_truncation_refused),
		cmocka_unit_test(encode_refuses_bad_values_and_caps),
		cmocka_unit_test(names_cover_every_value),
	};

	return cmocka_run_group_tests_name("msg", tests, setup, teardown);
}
