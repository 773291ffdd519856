/*
 * tests/unit/msg-builders.c: see msg-builders.h.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "tests/unit/msg-builders.h"

void
msgb_seq(struct msg *m, uint16_t type, uint32_t seq)
{
	msg_init(m, type);
	m->seq_set = true;
	m->seq = seq;
}

void
msgb_preinit(struct msg *m, uint32_t seq, const char *cluster)
{
	msgb_seq(m, MSG_TYPE_PREINIT, seq);
	m->cluster_name_set = true;
	m->cluster_name = (const uint8_t *)cluster;
	m->cluster_name_len = strlen(cluster);
}

void
msgb_preinit_reply(struct msg *m, uint32_t seq, uint8_t tls_supported, uint8_t cert_required)
{
	msgb_seq(m, MSG_TYPE_PREINIT_REPLY, seq);
	m->tls_supported_set = true;
	m->tls_supported = tls_supported;
	m->tls_client_cert_required_set = true;
	m->tls_client_cert_required = cert_required;
}

void
msgb_init(struct msg *m, uint32_t seq, uint32_t node, uint16_t algorithm, uint8_t tb_mode,
    uint32_t heartbeat_ms)
{
	msgb_seq(m, MSG_TYPE_INIT, seq);
	m->node_id_set = true;
	m->node_id = node;
	m->algorithm_set = true;
	m->algorithm = algorithm;
	m->heartbeat_interval_set = true;
	m->heartbeat_interval = heartbeat_ms;
	m->tie_breaker_set = true;
	m->tie_breaker.mode = tb_mode;
	m->tie_breaker.node_id = tb_mode == TIE_BREAKER_NODE_ID ? 2 : 0;
	m->ring_id_set = true;
	m->ring_id.node_id = 1;
	m->ring_id.seq = 0x1c;
}

void
msgb_supported_lists(struct msg *m)
{
	m->supported_messages_set = true;
	m->supported_messages = (uint16_t *)msg_all_message_types;
	m->supported_messages_count = MSG_TYPE_COUNT;
	m->supported_options_set = true;
	m->supported_options = (uint16_t *)msg_all_option_types;
	m->supported_options_count = OPT_TYPE_COUNT;
}

void
msgb_init_reply(struct msg *m, uint32_t seq, uint32_t max_size)
{
	msgb_seq(m, MSG_TYPE_INIT_REPLY, seq);
	m->reply_error_code_set = true;
	m->reply_error_code = REPLY_NO_ERROR;
	msgb_supported_lists(m);
	m->server_max_request_size_set = true;
	m->server_max_request_size = max_size;
	m->server_max_reply_size_set = true;
	m->server_max_reply_size = max_size;
	m->supported_algorithms_set = true;
	m->supported_algorithms = (uint16_t *)msg_all_algorithms;
	m->supported_algorithms_count = ALGORITHM_COUNT;
}

int
msgb_node_list(struct msg *m, uint32_t seq, uint8_t type, const uint32_t *ids, size_t n,
    uint64_t ring_seq)
{
	msgb_seq(m, MSG_TYPE_NODE_LIST, seq);
	m->node_list_type_set = true;
	m->node_list_type = type;
	if (type == NODE_LIST_CHANGED_CONFIG) {
		m->config_version_set = true;
		m->config_version = 3;
	}
	if (type == NODE_LIST_MEMBERSHIP) {
		m->ring_id_set = true;
		m->ring_id.node_id = ids[0];
		m->ring_id.seq = ring_seq;
	}
	if (type == NODE_LIST_QUORUM) {
		m->quorate_set = true;
		m->quorate = 1;
	}
	for (size_t i = 0; i < n; i++) {
		struct node_info ni = { .node_id = ids[i] };

		if (type == NODE_LIST_QUORUM)
			ni.node_state = NODE_STATE_MEMBER;
		if (node_list_add(&m->nodes, &ni) != 0) {
			node_list_fini(&m->nodes);
			return -ENOMEM;
		}
	}
	return 0;
}

void
msgb_vote(struct msg *m, uint16_t type, uint32_t seq, uint8_t vote)
{
	msgb_seq(m, type, seq);
	m->vote_set = true;
	m->vote = vote;
	m->ring_id_set = true;
	m->ring_id.node_id = 1;
	m->ring_id.seq = 0x1c;
}
