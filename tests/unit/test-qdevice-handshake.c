/*
 * tests/unit/test-qdevice-handshake.c: the client's TLS decision table and
 * its checks of PREINIT_REPLY, INIT_REPLY and later replies (docs/protocol.md
 * 1.8, 1.9, 2.3, 2.10), fed with messages decoded from bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/msg.h"
#include "common/tlv.h"
#include "qdevice/handshake.h"
#include "tests/unit/msg-builders.h"

static void
tls_table(void **state)
{
	static const struct {
		uint8_t	server, client;
		int	want;
	} rows[] = {
		{ TLS_UNSUPPORTED, 0, TLS_DECISION_PLAIN },
		{ TLS_UNSUPPORTED, 1, TLS_DECISION_PLAIN },
		{ TLS_UNSUPPORTED, 2, TLS_DECISION_INCOMPATIBLE },
		{ TLS_SUPPORTED, 0, TLS_DECISION_PLAIN },
		{ TLS_SUPPORTED, 1, TLS_DECISION_STARTTLS },
		{ TLS_SUPPORTED, 2, TLS_DECISION_STARTTLS },
		{ TLS_REQUIRED, 0, TLS_DECISION_INCOMPATIBLE },
		{ TLS_REQUIRED, 1, TLS_DECISION_STARTTLS },
		{ TLS_REQUIRED, 2, TLS_DECISION_STARTTLS },
		{ 3, 1, TLS_DECISION_INCOMPATIBLE },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if ((int)handshake_tls_decision(rows[i].server, rows[i].client) != rows[i].want)
			fail_msg("server %u client %u: want %d", rows[i].server, rows[i].client,
			    rows[i].want);
}

/* Round-trip through the codec, as the daemon sees it. */
static void
decode_of(const struct msg *in, struct msg *out)
{
	struct tlv_buf b;

	tlv_buf_init(&b, 65536);
	assert_int_equal(msg_encode(in, &b), 0);
	assert_int_equal(msg_decode(b.data, b.len, out), 0);
	tlv_buf_fini(&b);
}

static void
preinit_reply(void **state)
{
	struct msg m, d;

	(void)state;
	msgb_preinit_reply(&m, 5, TLS_SUPPORTED, 1);
	decode_of(&m, &d);
	assert_int_equal(handshake_check_preinit_reply(&d, 5), DISCONNECT_NONE);
	assert_int_equal(handshake_check_preinit_reply(&d, 6), DISCONNECT_REQUIRED_OPTION_MISSING);
	msg_fini(&d);

	m.tls_client_cert_required_set = false;
	decode_of(&m, &d);
	assert_int_equal(handshake_check_preinit_reply(&d, 5), DISCONNECT_REQUIRED_OPTION_MISSING);
	msg_fini(&d);

	m.tls_client_cert_required_set = true;
	m.seq_set = false;
	decode_of(&m, &d);
	assert_int_equal(handshake_check_preinit_reply(&d, 5), DISCONNECT_REQUIRED_OPTION_MISSING);
	msg_fini(&d);
}

static const struct init_requirements req = {
	.expected_seq = 3,
	.min_send_size = 32768,
	.max_receive_size = 16777216,
	.algorithm = ALGORITHM_FFSPLIT,
	.need_heuristics = true,
};

enum mutation {
	M_NONE, M_NO_SEQ, M_WRONG_SEQ, M_NO_CODE, M_NO_REQ_SIZE, M_NO_REPLY_SIZE, M_NO_MSGS,
	M_NO_OPTS, M_NO_ALGOS, M_CODE_15, M_CODE_16, M_CODE_17, M_CODE_11, M_CODE_12,
	M_SMALL_REQUEST, M_BIG_REPLY, M_EXACT_LIMITS, M_NO_FFSPLIT, M_OLD_SERVER,
};

static const uint16_t old_options[] = {
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
};
static const uint16_t no_ffsplit[] = { 0, 2, 3 };

static const struct {
	const char		*name;
	enum mutation		 mut;
	bool			 need_heuristics;
	enum disconnect_reason	 want;
} init_rows[] = {
	{ "complete", M_NONE, true, DISCONNECT_NONE },
	{ "no seq", M_NO_SEQ, true, DISCONNECT_REQUIRED_OPTION_MISSING },
	{ "wrong seq", M_WRONG_SEQ, true, DISCONNECT_REQUIRED_OPTION_MISSING },
	{ "no error code", M_NO_CODE, true, DISCONNECT_REQUIRED_OPTION_MISSING },
	{ "no request size", M_NO_REQ_SIZE, true, DISCONNECT_REQUIRED_OPTION_MISSING },
	{ "no reply size", M_NO_REPLY_SIZE, true, DISCONNECT_REQUIRED_OPTION_MISSING },
	{ "no message list", M_NO_MSGS, true, DISCONNECT_REQUIRED_OPTION_MISSING },
	{ "no option list", M_NO_OPTS, true, DISCONNECT_REQUIRED_OPTION_MISSING },
	{ "no algorithm list", M_NO_ALGOS, true, DISCONNECT_REQUIRED_OPTION_MISSING },
	{ "tie-breaker differs: retry", M_CODE_15, true, DISCONNECT_INIT_REPLY_RETRYABLE },
	{ "algorithm differs: retry", M_CODE_16, true, DISCONNECT_INIT_REPLY_RETRYABLE },
	{ "duplicate node id: retry", M_CODE_17, true, DISCONNECT_INIT_REPLY_RETRYABLE },
	{ "init required: fatal", M_CODE_11, true, DISCONNECT_INIT_REPLY_ERROR },
	{ "unsupported algorithm: fatal", M_CODE_12, true, DISCONNECT_INIT_REPLY_ERROR },
	{ "request size below ours", M_SMALL_REQUEST, true, DISCONNECT_SIZES_INCOMPATIBLE },
	{ "reply size above 16 MiB", M_BIG_REPLY, true, DISCONNECT_SIZES_INCOMPATIBLE },
	{ "sizes at the limits", M_EXACT_LIMITS, true, DISCONNECT_NONE },
	{ "server without ffsplit", M_NO_FFSPLIT, true, DISCONNECT_ALGORITHM_UNSUPPORTED },
	{ "old server, heuristics on", M_OLD_SERVER, true, DISCONNECT_OPTION_UNSUPPORTED },
	{ "old server, heuristics off", M_OLD_SERVER, false, DISCONNECT_NONE },
};

static void
mutate(struct msg *m, enum mutation mut)
{
	switch (mut) {
	case M_NONE:		break;
	case M_NO_SEQ:		m->seq_set = false; break;
	case M_WRONG_SEQ:	m->seq = 4; break;
	case M_NO_CODE:		m->reply_error_code_set = false; break;
	case M_NO_REQ_SIZE:	m->server_max_request_size_set = false; break;
	case M_NO_REPLY_SIZE:	m->server_max_reply_size_set = false; break;
	case M_NO_MSGS:		m->supported_messages_set = false; break;
	case M_NO_OPTS:		m->supported_options_set = false; break;
	case M_NO_ALGOS:	m->supported_algorithms_set = false; break;
	case M_CODE_15:		m->reply_error_code = 15; break;
	case M_CODE_16:		m->reply_error_code = 16; break;
	case M_CODE_17:		m->reply_error_code = 17; break;
	case M_CODE_11:		m->reply_error_code = 11; break;
	case M_CODE_12:		m->reply_error_code = 12; break;
	case M_SMALL_REQUEST:	m->server_max_request_size = 32767; break;
	case M_BIG_REPLY:	m->server_max_reply_size = 16777217; break;
	case M_EXACT_LIMITS:
		m->server_max_request_size = 32768;
		m->server_max_reply_size = 16777216;
		break;
	case M_NO_FFSPLIT:
		m->supported_algorithms = (uint16_t *)no_ffsplit;
		m->supported_algorithms_count = 3;
		break;
	case M_OLD_SERVER:
		m->supported_options = (uint16_t *)old_options;
		m->supported_options_count = sizeof(old_options) / sizeof(old_options[0]);
		break;
	}
}

static void
init_reply(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(init_rows) / sizeof(init_rows[0]); i++) {
		struct init_requirements r = req;
		struct server_caps caps;
		struct msg m, d;
		enum disconnect_reason got;

		msgb_init_reply(&m, 3, 32768);
		mutate(&m, init_rows[i].mut);
		r.need_heuristics = init_rows[i].need_heuristics;
		decode_of(&m, &d);
		got = handshake_check_init_reply(&d, &r, &caps);
		if (got != init_rows[i].want)
			fail_msg("%s: got %s, want %s", init_rows[i].name,
			    disconnect_reason_name(got), disconnect_reason_name(init_rows[i].want));
		if (got == DISCONNECT_NONE) {
			assert_int_equal(caps.max_request_size, d.server_max_request_size);
			assert_int_equal(caps.max_reply_size, d.server_max_reply_size);
			assert_int_equal(caps.kap_tie_breaker, init_rows[i].mut != M_OLD_SERVER);
			assert_int_equal(caps.heuristics, init_rows[i].mut != M_OLD_SERVER);
		}
		msg_fini(&d);
	}
}

static void
required_options(void **state)
{
	static const struct {
		uint16_t	type;
		bool		seq, type_opt, ring, vote, heur;
		bool		ok;
	} rows[] = {
		{ MSG_TYPE_NODE_LIST_REPLY, true, true, true, true, false, true },
		{ MSG_TYPE_NODE_LIST_REPLY, true, false, true, true, false, false },
		{ MSG_TYPE_NODE_LIST_REPLY, true, true, false, true, false, false },
		{ MSG_TYPE_NODE_LIST_REPLY, true, true, true, false, false, false },
		{ MSG_TYPE_NODE_LIST_REPLY, false, true, true, true, false, false },
		{ MSG_TYPE_VOTE_INFO, true, false, true, true, false, true },
		{ MSG_TYPE_VOTE_INFO, true, false, false, true, false, false },
		{ MSG_TYPE_VOTE_INFO, false, false, true, true, false, false },
		{ MSG_TYPE_ASK_FOR_VOTE_REPLY, true, false, true, false, false, false },
		{ MSG_TYPE_ASK_FOR_VOTE_REPLY, true, false, true, true, false, true },
		{ MSG_TYPE_HEURISTICS_CHANGE_REPLY, true, false, true, true, true, true },
		{ MSG_TYPE_HEURISTICS_CHANGE_REPLY, true, false, true, true, false, false },
		{ MSG_TYPE_ECHO_REPLY, true, false, false, false, false, true },
		{ MSG_TYPE_ECHO_REPLY, false, false, true, false, false, false },
		{ MSG_TYPE_SET_OPTION_REPLY, false, false, false, false, false, true },
		{ MSG_TYPE_SERVER_ERROR, false, false, false, false, false, true },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct msg m, d;
		bool ok;

		msg_init(&m, rows[i].type);
		m.seq_set = rows[i].seq;
		m.seq = 9;
		m.node_list_type_set = rows[i].type_opt;
		m.node_list_type = NODE_LIST_MEMBERSHIP;
		m.ring_id_set = rows[i].ring;
		m.ring_id.node_id = 1;
		m.ring_id.seq = 4;
		m.vote_set = rows[i].vote;
		m.vote = VOTE_ACK;
		m.heuristics_set = rows[i].heur;
		m.heuristics = HEURISTICS_PASS;
		/* Keep at least one option so the message stays decodable (1.4 rule 2). */
		if (!m.seq_set && !m.ring_id_set && !m.vote_set) {
			m.reply_error_code_set = true;
			m.reply_error_code = 0;
		}
		decode_of(&m, &d);
		ok = handshake_check_required(&d) == DISCONNECT_NONE;
		if (ok != rows[i].ok)
			fail_msg("row %zu (%s): ok %d, want %d", i, msg_type_name(rows[i].type), ok,
			    rows[i].ok);
		msg_fini(&d);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tls_table),
		cmocka_unit_test(preinit_reply),
		cmocka_unit_test(init_reply),
		cmocka_unit_test(required_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
