/* common/msg.c: encode and decode qnet messages (docs/protocol.md section 1). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"

const uint16_t msg_all_message_types[MSG_TYPE_COUNT] = {
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
};
const uint16_t msg_all_option_types[OPT_TYPE_COUNT] = {
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19,
	20, 21, 22, 23,
};
const uint16_t msg_all_algorithms[ALGORITHM_COUNT] = { 0, 1, 2, 3 };

#define NAME_OF(table, v) \
	((size_t)(v) < sizeof(table) / sizeof((table)[0]) && (table)[v] != NULL ? \
	    (table)[v] : "Unknown")

const char *
msg_type_name(uint16_t type)
{
	static const char *const names[] = {
		"Preinit", "Preinit reply", "StartTLS", "Init", "Init reply",
		"Server error", "Set option", "Set option reply", "Echo request",
		"Echo reply", "Node list", "Node list reply", "Ask for vote",
		"Ask for vote reply", "Vote info", "Vote info reply",
		"Heuristics change", "Heuristics change reply",
	};
	return NAME_OF(names, type);
}

const char *
opt_type_name(uint16_t type)
{
	static const char *const names[] = {
		"Message sequence number", "Cluster name", "TLS supported",
		"TLS client certificate required", "Supported messages",
		"Supported options", "Reply error code",
		"Server maximum request size", "Server maximum reply size",
		"Node ID", "Supported decision algorithms", "Decision algorithm",
		"Heartbeat interval", "Ring ID", "Configuration version",
		"Data center ID", "Node state", "Node info", "Node list type",
		"Vote", "Quorate", "Tie breaker", "Heuristics",
		"Keep active partition tie breaker",
	};
	return NAME_OF(names, type);
}

const char *
msg_decode_error_name(int err)
{
	switch (err) {
	case MSG_ERR_SHORT_HEADER:	return "message shorter than its header";
	case MSG_ERR_LENGTH_MISMATCH:	return "header length does not match message size";
	case MSG_ERR_UNKNOWN_TYPE:	return "unknown message type";
	case MSG_ERR_TLV_TRUNCATED:	return "option runs past the end of the message";
	case MSG_ERR_OPTION_SIZE:	return "option has the wrong size";
	case MSG_ERR_OPTION_VALUE:	return "option value out of range";
	case MSG_ERR_NODE_INFO:		return "malformed node info";
	case MSG_ERR_NO_MEMORY:		return "out of memory";
	}
	return "unknown error";
}

const char *
tls_supported_name(uint8_t v)
{
	static const char *const names[] = { "Unsupported", "Supported", "Required" };
	return NAME_OF(names, v);
}

const char *
reply_error_code_name(uint16_t v)
{
	static const char *const names[] = {
		"No error", "Unsupported needed message", "Unsupported needed option",
		"TLS required", "Unsupported message", "Message too long",
		"Preinit required", "Doesn't contain required option",
		"Unexpected message", "Error decoding message", "Internal error",
		"Init required", "Unsupported decision algorithm",
		"Invalid heartbeat interval",
		"Unsupported decision algorithm message",
		"Tie breaker differs from other nodes",
		"Algorithm differs from other nodes", "Duplicate node id",
		"Invalid configuration node list", "Invalid membership node list",
	};
	return NAME_OF(names, v);
}

const char *
decision_algorithm_name(uint16_t v)
{
	static const char *const names[] = {
		"Test", "Fifty-Fifty split", "2 Node LMS", "LMS",
	};
	return NAME_OF(names, v);
}

const char *
node_state_name(uint8_t v)
{
	static const char *const names[] = { "not set", "member", "dead", "leaving" };
	return NAME_OF(names, v);
}

const char *
node_list_type_name(uint8_t v)
{
	static const char *const names[] = {
		"Initial config", "Changed config", "Membership", "Quorum",
	};
	return NAME_OF(names, v);
}

const char *
vote_name(uint8_t v)
{
	static const char *const names[] = {
		"Undefined", "ACK", "NACK", "Ask later", "Wait for reply", "No change",
	};
	return NAME_OF(names, v);
}

const char *
tie_breaker_mode_name(uint8_t v)
{
	static const char *const names[] = {
		NULL, "Lowest", "Highest", "Node ID",
	};
	return NAME_OF(names, v);
}

const char *
heuristics_name(uint8_t v)
{
	static const char *const names[] = { "Undefined", "Pass", "Fail" };
	return NAME_OF(names, v);
}

uint16_t
msg_header_type(const uint8_t *hdr)
{
	return load_be16(hdr);
}

uint32_t
msg_header_length(const uint8_t *hdr)
{
	return load_be32(hdr + 2);
}

bool
msg_type_valid(uint16_t type)
{
	return type < MSG_TYPE_COUNT;
}

bool
ring_id_equal(const struct ring_id *a, const struct ring_id *b)
{
	return a->node_id == b->node_id && a->seq == b->seq;
}

void
msg_init(struct msg *m, uint16_t type)
{
	memset(m, 0, sizeof(*m));
	m->type = type;
	node_list_init(&m->nodes);
}

void
msg_fini(struct msg *m)
{
	free(m->supported_messages);
	free(m->supported_options);
	free(m->supported_algorithms);
	node_list_fini(&m->nodes);
	memset(m, 0, sizeof(*m));
}

/* ---- decode ---- */

static int
want_len(const struct tlv_option *o, uint16_t len)
{
	return o->len == len ? 0 : MSG_ERR_OPTION_SIZE;
}

/* A repeated array option replaces the earlier one (docs/protocol.md 1.4 rule 4). */
static int
decode_u16_array(const struct tlv_option *o, uint16_t **arr, size_t *count, bool *set)
{
	size_t n;
	uint16_t *a = NULL;

	if (o->len % 2 != 0)
		return MSG_ERR_OPTION_SIZE;
	n = o->len / 2;
	if (n > 0) {
		a = malloc(n * sizeof(*a));
		if (a == NULL)
			return MSG_ERR_NO_MEMORY;
		for (size_t i = 0; i < n; i++)
			a[i] = load_be16(o->value + 2 * i);
	}
	free(*arr);
	*arr = a;
	*count = n;
	*set = true;
	return 0;
}

static int
decode_u8_in(const struct tlv_option *o, uint8_t lo, uint8_t hi, uint8_t *v, bool *set)
{
	if (o->len != 1)
		return MSG_ERR_OPTION_SIZE;
	if (o->value[0] < lo || o->value[0] > hi)
		return MSG_ERR_OPTION_VALUE;
	*v = o->value[0];
	*set = true;
	return 0;
}

static int
decode_u32(const struct tlv_option *o, uint32_t *v, bool *set)
{
	int r = want_len(o, 4);

	if (r == 0) {
		*v = load_be32(o->value);
		*set = true;
	}
	return r;
}

static int
decode_u16(const struct tlv_option *o, uint16_t *v, bool *set)
{
	int r = want_len(o, 2);

	if (r == 0) {
		*v = load_be16(o->value);
		*set = true;
	}
	return r;
}

/* NODE_INFO: a nested area with NODE_ID (required, non-zero), DATA_CENTER_ID, NODE_STATE. */
static int
decode_node_info(const struct tlv_option *o, struct node_list *nodes)
{
	struct tlv_cursor cur = { o->value, o->len };
	struct tlv_option in;
	struct node_info n = { 0 };
	bool have_id = false;
	int r;

	/* An empty inner area is malformed, as at top level (docs/protocol.md 1.4 rule 2). */
	if (o->len < TLV_HDR_LEN)
		return MSG_ERR_NODE_INFO;
	while ((r = tlv_next(&cur, &in)) == 1) {
		switch (in.type) {
		case OPT_NODE_ID:
			if (in.len != 4)
				return MSG_ERR_NODE_INFO;
			n.node_id = load_be32(in.value);
			have_id = true;
			break;
		case OPT_DATA_CENTER_ID:
			if (in.len != 4)
				return MSG_ERR_NODE_INFO;
			n.data_center_id = load_be32(in.value);
			break;
		case OPT_NODE_STATE:
			if (in.len != 1 || in.value[0] < NODE_STATE_MEMBER ||
			    in.value[0] > NODE_STATE_LEAVING)
				return MSG_ERR_NODE_INFO;
			n.node_state = in.value[0];
			break;
		default:
			break;	/* unknown inner options are skipped */
		}
	}
	if (r < 0 || !have_id || n.node_id == 0)
		return MSG_ERR_NODE_INFO;
	if (node_list_add(nodes, &n) < 0)
		return MSG_ERR_NO_MEMORY;
	return 0;
}

static int
decode_option(const struct tlv_option *o, struct msg *m)
{
	int r;

	switch (o->type) {
	case OPT_MSG_SEQ_NUMBER:
		return decode_u32(o, &m->seq, &m->seq_set);
	case OPT_CLUSTER_NAME:
		m->cluster_name = o->value;
		m->cluster_name_len = o->len;
		m->cluster_name_set = true;
		return 0;
	case OPT_TLS_SUPPORTED:
		return decode_u8_in(o, TLS_UNSUPPORTED, TLS_REQUIRED,
		    &m->tls_supported, &m->tls_supported_set);
	case OPT_TLS_CLIENT_CERT_REQUIRED:
		return decode_u8_in(o, 0, UINT8_MAX, &m->tls_client_cert_required,
		    &m->tls_client_cert_required_set);
	case OPT_SUPPORTED_MESSAGES:
		return decode_u16_array(o, &m->supported_messages,
		    &m->supported_messages_count, &m->supported_messages_set);
	case OPT_SUPPORTED_OPTIONS:
		return decode_u16_array(o, &m->supported_options,
		    &m->supported_options_count, &m->supported_options_set);
	case OPT_REPLY_ERROR_CODE:
		return decode_u16(o, &m->reply_error_code, &m->reply_error_code_set);
	case OPT_SERVER_MAXIMUM_REQUEST_SIZE:
		return decode_u32(o, &m->server_max_request_size,
		    &m->server_max_request_size_set);
	case OPT_SERVER_MAXIMUM_REPLY_SIZE:
		return decode_u32(o, &m->server_max_reply_size,
		    &m->server_max_reply_size_set);
	case OPT_NODE_ID:
		return decode_u32(o, &m->node_id, &m->node_id_set);
	case OPT_SUPPORTED_DECISION_ALGORITHMS:
		return decode_u16_array(o, &m->supported_algorithms,
		    &m->supported_algorithms_count, &m->supported_algorithms_set);
	case OPT_DECISION_ALGORITHM:
		return decode_u16(o, &m->algorithm, &m->algorithm_set);
	case OPT_HEARTBEAT_INTERVAL:
		return decode_u32(o, &m->heartbeat_interval, &m->heartbeat_interval_set);
	case OPT_RING_ID:
		if ((r = want_len(o, 12)) < 0)
			return r;
		m->ring_id.node_id = load_be32(o->value);
		m->ring_id.seq = load_be64(o->value + 4);
		m->ring_id_set = true;
		return 0;
	case OPT_CONFIG_VERSION:
		if ((r = want_len(o, 8)) < 0)
			return r;
		m->config_version = load_be64(o->value);
		m->config_version_set = true;
		return 0;
	case OPT_DATA_CENTER_ID:
		return decode_u32(o, &m->data_center_id, &m->data_center_id_set);
	case OPT_NODE_STATE:
		return decode_u8_in(o, NODE_STATE_MEMBER, NODE_STATE_LEAVING,
		    &m->node_state, &m->node_state_set);
	case OPT_NODE_INFO:
		return decode_node_info(o, &m->nodes);
	case OPT_NODE_LIST_TYPE:
		return decode_u8_in(o, NODE_LIST_INITIAL_CONFIG, NODE_LIST_QUORUM,
		    &m->node_list_type, &m->node_list_type_set);
	case OPT_VOTE:
		return decode_u8_in(o, VOTE_ACK, VOTE_NO_CHANGE, &m->vote, &m->vote_set);
	case OPT_QUORATE:
		return decode_u8_in(o, 0, 1, &m->quorate, &m->quorate_set);
	case OPT_TIE_BREAKER:
		if ((r = want_len(o, 5)) < 0)
			return r;
		if (o->value[0] < TIE_BREAKER_LOWEST || o->value[0] > TIE_BREAKER_NODE_ID)
			return MSG_ERR_OPTION_VALUE;
		m->tie_breaker.mode = o->value[0];
		/* The node id only means something in NODE_ID mode. */
		m->tie_breaker.node_id = o->value[0] == TIE_BREAKER_NODE_ID ?
		    load_be32(o->value + 1) : 0;
		m->tie_breaker_set = true;
		return 0;
	case OPT_HEURISTICS:
		return decode_u8_in(o, HEURISTICS_PASS, HEURISTICS_FAIL,
		    &m->heuristics, &m->heuristics_set);
	case OPT_KEEP_ACTIVE_PARTITION_TIE_BREAKER:
		return decode_u8_in(o, 0, 1, &m->kap_tie_breaker, &m->kap_tie_breaker_set);
	default:
		return 0;	/* unknown options are skipped for forward compatibility */
	}
}

int
msg_decode(const uint8_t *buf, size_t len, struct msg *m)
{
	struct tlv_cursor cur;
	struct tlv_option o;
	uint32_t body_len;
	int r;

	msg_init(m, 0);
	if (len < MSG_HEADER_LEN)
		return MSG_ERR_SHORT_HEADER;
	m->type = msg_header_type(buf);
	body_len = msg_header_length(buf);
	if (len - MSG_HEADER_LEN != body_len)
		return MSG_ERR_LENGTH_MISMATCH;
	if (!msg_type_valid(m->type))
		return MSG_ERR_UNKNOWN_TYPE;
	/* Upstream's walker needs at least one whole option (docs/protocol.md 1.4 rule 2). */
	if (body_len < TLV_HDR_LEN)
		return MSG_ERR_TLV_TRUNCATED;
	cur.pos = buf + MSG_HEADER_LEN;
	cur.left = body_len;
	while ((r = tlv_next(&cur, &o)) == 1) {
		r = decode_option(&o, m);
		if (r < 0)
			return r;
	}
	return r < 0 ? MSG_ERR_TLV_TRUNCATED : 0;
}

/* ---- encode ---- */

/*
 * Upstream's emit order per message type (docs/protocol.md 1.8). Options set
 * but not listed for the type follow in numeric order, so any message
 * can still be built (tests, fuzz seeds).
 */
static const uint8_t order_preinit[] = { OPT_MSG_SEQ_NUMBER, OPT_CLUSTER_NAME };
static const uint8_t order_preinit_reply[] = {
	OPT_MSG_SEQ_NUMBER, OPT_TLS_SUPPORTED, OPT_TLS_CLIENT_CERT_REQUIRED,
};
static const uint8_t order_init[] = {
	OPT_MSG_SEQ_NUMBER, OPT_SUPPORTED_MESSAGES, OPT_SUPPORTED_OPTIONS,
	OPT_NODE_ID, OPT_DECISION_ALGORITHM, OPT_HEARTBEAT_INTERVAL,
	OPT_TIE_BREAKER, OPT_RING_ID,
};
static const uint8_t order_init_reply[] = {
	OPT_REPLY_ERROR_CODE, OPT_SUPPORTED_MESSAGES, OPT_SUPPORTED_OPTIONS,
	OPT_MSG_SEQ_NUMBER, OPT_SERVER_MAXIMUM_REQUEST_SIZE,
	OPT_SERVER_MAXIMUM_REPLY_SIZE, OPT_SUPPORTED_DECISION_ALGORITHMS,
};
static const uint8_t order_server_error[] = { OPT_MSG_SEQ_NUMBER, OPT_REPLY_ERROR_CODE };
static const uint8_t order_set_option[] = {
	OPT_MSG_SEQ_NUMBER, OPT_HEARTBEAT_INTERVAL, OPT_KEEP_ACTIVE_PARTITION_TIE_BREAKER,
};
static const uint8_t order_node_list[] = {
	OPT_MSG_SEQ_NUMBER, OPT_NODE_LIST_TYPE, OPT_RING_ID, OPT_CONFIG_VERSION,
	OPT_QUORATE, OPT_NODE_INFO, OPT_HEURISTICS,
};
static const uint8_t order_node_list_reply[] = {
	OPT_MSG_SEQ_NUMBER, OPT_NODE_LIST_TYPE, OPT_RING_ID, OPT_VOTE,
};
static const uint8_t order_vote_reply[] = { OPT_MSG_SEQ_NUMBER, OPT_VOTE, OPT_RING_ID };
static const uint8_t order_heuristics_change[] = { OPT_MSG_SEQ_NUMBER, OPT_HEURISTICS };
static const uint8_t order_heuristics_change_reply[] = {
	OPT_MSG_SEQ_NUMBER, OPT_VOTE, OPT_RING_ID, OPT_HEURISTICS,
};
static const uint8_t order_seq_only[] = { OPT_MSG_SEQ_NUMBER };

struct emit_order {
	const uint8_t	*opts;
	size_t		 count;
};

#define ORDER(a) { a, sizeof(a) }
static const struct emit_order emit_orders[MSG_TYPE_COUNT] = {
	[MSG_TYPE_PREINIT] = ORDER(order_preinit),
	[MSG_TYPE_PREINIT_REPLY] = ORDER(order_preinit_reply),
	[MSG_TYPE_STARTTLS] = ORDER(order_seq_only),
	[MSG_TYPE_INIT] = ORDER(order_init),
	[MSG_TYPE_INIT_REPLY] = ORDER(order_init_reply),
	[MSG_TYPE_SERVER_ERROR] = ORDER(order_server_error),
	[MSG_TYPE_SET_OPTION] = ORDER(order_set_option),
	[MSG_TYPE_SET_OPTION_REPLY] = ORDER(order_set_option),
	[MSG_TYPE_ECHO_REQUEST] = ORDER(order_seq_only),
	[MSG_TYPE_ECHO_REPLY] = ORDER(order_seq_only),
	[MSG_TYPE_NODE_LIST] = ORDER(order_node_list),
	[MSG_TYPE_NODE_LIST_REPLY] = ORDER(order_node_list_reply),
	[MSG_TYPE_ASK_FOR_VOTE] = ORDER(order_seq_only),
	[MSG_TYPE_ASK_FOR_VOTE_REPLY] = ORDER(order_vote_reply),
	[MSG_TYPE_VOTE_INFO] = ORDER(order_vote_reply),
	[MSG_TYPE_VOTE_INFO_REPLY] = ORDER(order_seq_only),
	[MSG_TYPE_HEURISTICS_CHANGE] = ORDER(order_heuristics_change),
	[MSG_TYPE_HEURISTICS_CHANGE_REPLY] = ORDER(order_heuristics_change_reply),
};

static void
encode_node_info(struct tlv_buf *b, const struct node_info *n)
{
	size_t off = tlv_open(b, OPT_NODE_INFO);

	tlv_put_u32(b, OPT_NODE_ID, n->node_id);
	if (n->data_center_id != 0)
		tlv_put_u32(b, OPT_DATA_CENTER_ID, n->data_center_id);
	if (n->node_state != NODE_STATE_NOT_SET)
		tlv_put_u8(b, OPT_NODE_STATE, n->node_state);
	tlv_close(b, off);
}

static void
encode_option(const struct msg *m, uint8_t opt, struct tlv_buf *b)
{
	uint8_t *p;

	switch (opt) {
	case OPT_MSG_SEQ_NUMBER:
		if (m->seq_set)
			tlv_put_u32(b, opt, m->seq);
		break;
	case OPT_CLUSTER_NAME:
		if (m->cluster_name_set)
			tlv_put_bytes(b, opt, m->cluster_name, m->cluster_name_len);
		break;
	case OPT_TLS_SUPPORTED:
		if (m->tls_supported_set)
			tlv_put_u8(b, opt, m->tls_supported);
		break;
	case OPT_TLS_CLIENT_CERT_REQUIRED:
		if (m->tls_client_cert_required_set)
			tlv_put_u8(b, opt, m->tls_client_cert_required);
		break;
	case OPT_SUPPORTED_MESSAGES:
		if (m->supported_messages_set)
			tlv_put_u16_array(b, opt, m->supported_messages,
			    m->supported_messages_count);
		break;
	case OPT_SUPPORTED_OPTIONS:
		if (m->supported_options_set)
			tlv_put_u16_array(b, opt, m->supported_options,
			    m->supported_options_count);
		break;
	case OPT_REPLY_ERROR_CODE:
		if (m->reply_error_code_set)
			tlv_put_u16(b, opt, m->reply_error_code);
		break;
	case OPT_SERVER_MAXIMUM_REQUEST_SIZE:
		if (m->server_max_request_size_set)
			tlv_put_u32(b, opt, m->server_max_request_size);
		break;
	case OPT_SERVER_MAXIMUM_REPLY_SIZE:
		if (m->server_max_reply_size_set)
			tlv_put_u32(b, opt, m->server_max_reply_size);
		break;
	case OPT_NODE_ID:
		if (m->node_id_set)
			tlv_put_u32(b, opt, m->node_id);
		break;
	case OPT_SUPPORTED_DECISION_ALGORITHMS:
		if (m->supported_algorithms_set)
			tlv_put_u16_array(b, opt, m->supported_algorithms,
			    m->supported_algorithms_count);
		break;
	case OPT_DECISION_ALGORITHM:
		if (m->algorithm_set)
			tlv_put_u16(b, opt, m->algorithm);
		break;
	case OPT_HEARTBEAT_INTERVAL:
		if (m->heartbeat_interval_set)
			tlv_put_u32(b, opt, m->heartbeat_interval);
		break;
	case OPT_RING_ID:
		if (m->ring_id_set) {
			p = tlv_buf_append(b, TLV_HDR_LEN + 12);
			if (p != NULL) {
				store_be16(p, opt);
				store_be16(p + 2, 12);
				store_be32(p + 4, m->ring_id.node_id);
				store_be64(p + 8, m->ring_id.seq);
			}
		}
		break;
	case OPT_CONFIG_VERSION:
		if (m->config_version_set)
			tlv_put_u64(b, opt, m->config_version);
		break;
	case OPT_DATA_CENTER_ID:
		if (m->data_center_id_set)
			tlv_put_u32(b, opt, m->data_center_id);
		break;
	case OPT_NODE_STATE:
		if (m->node_state_set)
			tlv_put_u8(b, opt, m->node_state);
		break;
	case OPT_NODE_INFO:
		for (size_t i = 0; i < m->nodes.count; i++)
			encode_node_info(b, &m->nodes.nodes[i]);
		break;
	case OPT_NODE_LIST_TYPE:
		if (m->node_list_type_set)
			tlv_put_u8(b, opt, m->node_list_type);
		break;
	case OPT_VOTE:
		if (m->vote_set)
			tlv_put_u8(b, opt, m->vote);
		break;
	case OPT_QUORATE:
		if (m->quorate_set)
			tlv_put_u8(b, opt, m->quorate);
		break;
	case OPT_TIE_BREAKER:
		if (m->tie_breaker_set) {
			p = tlv_buf_append(b, TLV_HDR_LEN + 5);
			if (p != NULL) {
				store_be16(p, opt);
				store_be16(p + 2, 5);
				p[4] = m->tie_breaker.mode;
				store_be32(p + 5, m->tie_breaker.mode == TIE_BREAKER_NODE_ID ?
				    m->tie_breaker.node_id : 0);
			}
		}
		break;
	case OPT_HEURISTICS:
		if (m->heuristics_set)
			tlv_put_u8(b, opt, m->heuristics);
		break;
	case OPT_KEEP_ACTIVE_PARTITION_TIE_BREAKER:
		if (m->kap_tie_breaker_set)
			tlv_put_u8(b, opt, m->kap_tie_breaker);
		break;
	}
}

/* Values that would not decode on the other side are a caller bug. */
static bool
values_valid(const struct msg *m)
{
	if (m->tls_supported_set && m->tls_supported > TLS_REQUIRED)
		return false;
	if (m->node_list_type_set && m->node_list_type > NODE_LIST_QUORUM)
		return false;
	if (m->vote_set && (m->vote < VOTE_ACK || m->vote > VOTE_NO_CHANGE))
		return false;
	if (m->quorate_set && m->quorate > 1)
		return false;
	if (m->heuristics_set &&
	    m->heuristics != HEURISTICS_PASS && m->heuristics != HEURISTICS_FAIL)
		return false;
	if (m->kap_tie_breaker_set && m->kap_tie_breaker > 1)
		return false;
	if (m->tie_breaker_set && (m->tie_breaker.mode < TIE_BREAKER_LOWEST ||
	    m->tie_breaker.mode > TIE_BREAKER_NODE_ID))
		return false;
	if (m->node_state_set &&
	    (m->node_state < NODE_STATE_MEMBER || m->node_state > NODE_STATE_LEAVING))
		return false;
	for (size_t i = 0; i < m->nodes.count; i++)
		if (m->nodes.nodes[i].node_id == 0 ||
		    m->nodes.nodes[i].node_state > NODE_STATE_LEAVING)
			return false;
	return true;
}

int
msg_encode(const struct msg *m, struct tlv_buf *b)
{
	bool emitted[OPT_TYPE_COUNT] = { false };
	const struct emit_order *order;
	size_t start = b->len;
	uint8_t *hdr;

	if (!msg_type_valid(m->type) || !values_valid(m))
		return -EINVAL;
	if (b->err != 0)
		return b->err;
	hdr = tlv_buf_append(b, MSG_HEADER_LEN);
	if (hdr == NULL) {
		int err = b->err;

		b->err = 0;
		return err;
	}
	order = &emit_orders[m->type];
	for (size_t i = 0; i < order->count; i++) {
		encode_option(m, order->opts[i], b);
		emitted[order->opts[i]] = true;
	}
	for (uint8_t opt = 0; opt < OPT_TYPE_COUNT; opt++)
		if (!emitted[opt])
			encode_option(m, opt, b);
	if (b->err != 0) {
		int err = b->err;

		/* Leave the buffer as it was, so a queue never holds half a message. */
		b->len = start;
		b->err = 0;
		return err;
	}
	hdr = b->data + start;	/* appends may have moved the buffer */
	store_be16(hdr, m->type);
	store_be32(hdr + 2, (uint32_t)(b->len - start - MSG_HEADER_LEN));
	return 0;
}
