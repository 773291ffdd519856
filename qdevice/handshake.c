/* qdevice/handshake.c: checks of the server's replies (docs/protocol.md 1.8, 2.3). */
#include "handshake.h"

enum tls_decision
handshake_tls_decision(uint8_t server, uint8_t client)
{
	switch (server) {
	case TLS_UNSUPPORTED:
		return client == 2 ? TLS_DECISION_INCOMPATIBLE : TLS_DECISION_PLAIN;
	case TLS_SUPPORTED:
		return client == 0 ? TLS_DECISION_PLAIN : TLS_DECISION_STARTTLS;
	case TLS_REQUIRED:
		return client == 0 ? TLS_DECISION_INCOMPATIBLE : TLS_DECISION_STARTTLS;
	default:
		return TLS_DECISION_INCOMPATIBLE;
	}
}

enum disconnect_reason
handshake_check_preinit_reply(const struct msg *m, uint32_t expected_seq)
{
	if (!m->seq_set || m->seq != expected_seq || !m->tls_supported_set ||
	    !m->tls_client_cert_required_set)
		return DISCONNECT_REQUIRED_OPTION_MISSING;
	return DISCONNECT_NONE;
}

static bool
has_u16(const uint16_t *v, size_t n, uint16_t x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

enum disconnect_reason
handshake_check_init_reply(const struct msg *m, const struct init_requirements *req,
    struct server_caps *caps)
{
	caps->error_code = 0;
	caps->heuristics = caps->kap_tie_breaker = false;
	/* 1. Mandatory options, the sequence number echoed. */
	if (!m->seq_set || m->seq != req->expected_seq || !m->reply_error_code_set ||
	    !m->server_max_request_size_set || !m->server_max_reply_size_set ||
	    !m->supported_messages_set || !m->supported_options_set ||
	    !m->supported_algorithms_set)
		return DISCONNECT_REQUIRED_OPTION_MISSING;
	caps->max_request_size = m->server_max_request_size;
	caps->max_reply_size = m->server_max_reply_size;
	caps->heuristics = has_u16(m->supported_options, m->supported_options_count,
	    OPT_HEURISTICS);
	caps->kap_tie_breaker = has_u16(m->supported_options, m->supported_options_count,
	    OPT_KEEP_ACTIVE_PARTITION_TIE_BREAKER);
	/* 2. Refused: another client of ours still holds the node id, or settings differ. */
	caps->error_code = m->reply_error_code;
	switch (m->reply_error_code) {
	case REPLY_NO_ERROR:
		break;
	case REPLY_TIE_BREAKER_DIFFERS_FROM_OTHER_NODES:
	case REPLY_ALGORITHM_DIFFERS_FROM_OTHER_NODES:
	case REPLY_DUPLICATE_NODE_ID:
		return DISCONNECT_INIT_REPLY_RETRYABLE;
	default:
		return DISCONNECT_INIT_REPLY_ERROR;
	}
	/* 3. Sizes (1.9). */
	if (m->server_max_request_size < req->min_send_size ||
	    m->server_max_reply_size > req->max_receive_size)
		return DISCONNECT_SIZES_INCOMPATIBLE;
	/* 4. The algorithm, 5. heuristics support when we use them. */
	if (!has_u16(m->supported_algorithms, m->supported_algorithms_count, req->algorithm))
		return DISCONNECT_ALGORITHM_UNSUPPORTED;
	if (req->need_heuristics && !caps->heuristics)
		return DISCONNECT_OPTION_UNSUPPORTED;
	return DISCONNECT_NONE;
}

enum disconnect_reason
handshake_check_required(const struct msg *m)
{
	bool ok;

	switch (m->type) {
	case MSG_TYPE_NODE_LIST_REPLY:
		ok = m->seq_set && m->node_list_type_set && m->ring_id_set && m->vote_set;
		break;
	case MSG_TYPE_ASK_FOR_VOTE_REPLY:
	case MSG_TYPE_VOTE_INFO:
		ok = m->seq_set && m->vote_set && m->ring_id_set;
		break;
	case MSG_TYPE_HEURISTICS_CHANGE_REPLY:
		ok = m->seq_set && m->vote_set && m->ring_id_set && m->heuristics_set;
		break;
	case MSG_TYPE_ECHO_REPLY:
		ok = m->seq_set;
		break;
	default:
		ok = true;
		break;
	}
	return ok ? DISCONNECT_NONE : DISCONNECT_REQUIRED_OPTION_MISSING;
}
