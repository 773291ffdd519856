/*
 * tests/unit/msg-builders.c: see msg-builders.h.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "tests/unit/msg-builders.h"

void
msgb_set_cluster_name(struct msg *m, const void *name, size_t len)
{
	m->cluster_name_set = true;
	m->cluster_name = name;
	m->cluster_name_len = len;
}

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
	msgb_set_cluster_name(m, cluster, strlen(cluster));
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

/* Ring 1.0x1c, the one of docs/protocol.md 1.10's examples. */
static void
set_example_ring(struct msg *m)
{
	m->ring_id_set = true;
	m->ring_id.node_id = 1;
	m->ring_id.seq = 0x1c;
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
	set_example_ring(m);
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
	set_example_ring(m);
}

static bool
arrays_equal(bool set_a, const uint16_t *a, size_t na, bool set_b, const uint16_t *b,
    size_t nb)
{
	if (set_a != set_b || na != nb)
		return false;
	return na == 0 || memcmp(a, b, na * sizeof(*a)) == 0;
}

const char *
msgb_diff(const struct msg *a, const struct msg *b)
{
#define SCALAR(flag, field) \
	do { \
		if (a->flag != b->flag || (a->flag && a->field != b->field)) \
			return #field; \
	} while (0)

	if (a->type != b->type)
		return "type";
	SCALAR(seq_set, seq);
	if (a->cluster_name_set != b->cluster_name_set ||
	    a->cluster_name_len != b->cluster_name_len ||
	    (a->cluster_name_len > 0 &&
	    memcmp(a->cluster_name, b->cluster_name, a->cluster_name_len) != 0))
		return "cluster_name";
	SCALAR(tls_supported_set, tls_supported);
	SCALAR(tls_client_cert_required_set, tls_client_cert_required);
	if (!arrays_equal(a->supported_messages_set, a->supported_messages,
	    a->supported_messages_count, b->supported_messages_set, b->supported_messages,
	    b->supported_messages_count))
		return "supported_messages";
	if (!arrays_equal(a->supported_options_set, a->supported_options,
	    a->supported_options_count, b->supported_options_set, b->supported_options,
	    b->supported_options_count))
		return "supported_options";
	SCALAR(reply_error_code_set, reply_error_code);
	SCALAR(server_max_request_size_set, server_max_request_size);
	SCALAR(server_max_reply_size_set, server_max_reply_size);
	SCALAR(node_id_set, node_id);
	if (!arrays_equal(a->supported_algorithms_set, a->supported_algorithms,
	    a->supported_algorithms_count, b->supported_algorithms_set,
	    b->supported_algorithms, b->supported_algorithms_count))
		return "supported_algorithms";
	SCALAR(algorithm_set, algorithm);
	SCALAR(heartbeat_interval_set, heartbeat_interval);
	SCALAR(ring_id_set, ring_id.node_id);
	SCALAR(ring_id_set, ring_id.seq);
	SCALAR(config_version_set, config_version);
	SCALAR(data_center_id_set, data_center_id);
	SCALAR(node_state_set, node_state);
	if (a->nodes.count != b->nodes.count)
		return "nodes.count";
	for (size_t i = 0; i < a->nodes.count; i++) {
		const struct node_info *x = &a->nodes.nodes[i], *y = &b->nodes.nodes[i];

		if (x->node_id != y->node_id || x->data_center_id != y->data_center_id ||
		    x->node_state != y->node_state)
			return "nodes[]";
	}
	SCALAR(node_list_type_set, node_list_type);
	SCALAR(vote_set, vote);
	SCALAR(quorate_set, quorate);
	SCALAR(tie_breaker_set, tie_breaker.mode);
	SCALAR(tie_breaker_set, tie_breaker.node_id);
	SCALAR(heuristics_set, heuristics);
	SCALAR(kap_tie_breaker_set, kap_tie_breaker);
	return NULL;
#undef SCALAR
}
