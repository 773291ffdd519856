/*
 * common/msg.h: the qnet wire messages (docs/protocol.md section 1).
 * One struct describes a message in both directions: msg_encode() emits
 * the options that are set, in upstream's order for that message type;
 * msg_decode() fills the struct from bytes. Pure code: no I/O, no logging.
 */
#ifndef QNET_MSG_H
#define QNET_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node-list.h"
#include "tlv.h"

#define MSG_HEADER_LEN		6	/* u16 type + u32 length of the option area */
#define QNET_DEFAULT_PORT	5403
#define QNET_DEFAULT_MAX_MSG_SIZE	32768
#define QNET_CLIENT_MAX_REPLY_SIZE	(16 * 1024 * 1024)

enum msg_type {
	MSG_TYPE_PREINIT = 0,
	MSG_TYPE_PREINIT_REPLY = 1,
	MSG_TYPE_STARTTLS = 2,
	MSG_TYPE_INIT = 3,
	MSG_TYPE_INIT_REPLY = 4,
	MSG_TYPE_SERVER_ERROR = 5,
	MSG_TYPE_SET_OPTION = 6,
	MSG_TYPE_SET_OPTION_REPLY = 7,
	MSG_TYPE_ECHO_REQUEST = 8,
	MSG_TYPE_ECHO_REPLY = 9,
	MSG_TYPE_NODE_LIST = 10,
	MSG_TYPE_NODE_LIST_REPLY = 11,
	MSG_TYPE_ASK_FOR_VOTE = 12,
	MSG_TYPE_ASK_FOR_VOTE_REPLY = 13,
	MSG_TYPE_VOTE_INFO = 14,
	MSG_TYPE_VOTE_INFO_REPLY = 15,
	MSG_TYPE_HEURISTICS_CHANGE = 16,
	MSG_TYPE_HEURISTICS_CHANGE_REPLY = 17,
};
#define MSG_TYPE_COUNT	18

enum opt_type {
	OPT_MSG_SEQ_NUMBER = 0,
	OPT_CLUSTER_NAME = 1,
	OPT_TLS_SUPPORTED = 2,
	OPT_TLS_CLIENT_CERT_REQUIRED = 3,
	OPT_SUPPORTED_MESSAGES = 4,
	OPT_SUPPORTED_OPTIONS = 5,
	OPT_REPLY_ERROR_CODE = 6,
	OPT_SERVER_MAXIMUM_REQUEST_SIZE = 7,
	OPT_SERVER_MAXIMUM_REPLY_SIZE = 8,
	OPT_NODE_ID = 9,
	OPT_SUPPORTED_DECISION_ALGORITHMS = 10,
	OPT_DECISION_ALGORITHM = 11,
	OPT_HEARTBEAT_INTERVAL = 12,
	OPT_RING_ID = 13,
	OPT_CONFIG_VERSION = 14,
	OPT_DATA_CENTER_ID = 15,
	OPT_NODE_STATE = 16,
	OPT_NODE_INFO = 17,
	OPT_NODE_LIST_TYPE = 18,
	OPT_VOTE = 19,
	OPT_QUORATE = 20,
	OPT_TIE_BREAKER = 21,
	OPT_HEURISTICS = 22,
	OPT_KEEP_ACTIVE_PARTITION_TIE_BREAKER = 23,
};
#define OPT_TYPE_COUNT	24

enum tls_supported {
	TLS_UNSUPPORTED = 0,
	TLS_SUPPORTED = 1,
	TLS_REQUIRED = 2,
};

enum reply_error_code {
	REPLY_NO_ERROR = 0,
	REPLY_UNSUPPORTED_NEEDED_MESSAGE = 1,
	REPLY_UNSUPPORTED_NEEDED_OPTION = 2,
	REPLY_TLS_REQUIRED = 3,
	REPLY_UNSUPPORTED_MESSAGE = 4,
	REPLY_MESSAGE_TOO_LONG = 5,
	REPLY_PREINIT_REQUIRED = 6,
	REPLY_DOESNT_CONTAIN_REQUIRED_OPTION = 7,
	REPLY_UNEXPECTED_MESSAGE = 8,
	REPLY_ERROR_DECODING_MSG = 9,
	REPLY_INTERNAL_ERROR = 10,
	REPLY_INIT_REQUIRED = 11,
	REPLY_UNSUPPORTED_DECISION_ALGORITHM = 12,
	REPLY_INVALID_HEARTBEAT_INTERVAL = 13,
	REPLY_UNSUPPORTED_DECISION_ALGORITHM_MESSAGE = 14,
	REPLY_TIE_BREAKER_DIFFERS_FROM_OTHER_NODES = 15,
	REPLY_ALGORITHM_DIFFERS_FROM_OTHER_NODES = 16,
	REPLY_DUPLICATE_NODE_ID = 17,
	REPLY_INVALID_CONFIG_NODE_LIST = 18,
	REPLY_INVALID_MEMBERSHIP_NODE_LIST = 19,
};

enum decision_algorithm {
	ALGORITHM_TEST = 0,
	ALGORITHM_FFSPLIT = 1,
	ALGORITHM_2NODELMS = 2,
	ALGORITHM_LMS = 3,
};
#define ALGORITHM_COUNT	4

enum node_state {
	NODE_STATE_NOT_SET = 0,
	NODE_STATE_MEMBER = 1,
	NODE_STATE_DEAD = 2,
	NODE_STATE_LEAVING = 3,
};

enum node_list_type {
	NODE_LIST_INITIAL_CONFIG = 0,
	NODE_LIST_CHANGED_CONFIG = 1,
	NODE_LIST_MEMBERSHIP = 2,
	NODE_LIST_QUORUM = 3,
};

enum vote {
	VOTE_UNDEFINED = 0,
	VOTE_ACK = 1,
	VOTE_NACK = 2,
	VOTE_ASK_LATER = 3,
	VOTE_WAIT_FOR_REPLY = 4,
	VOTE_NO_CHANGE = 5,
};

enum tie_breaker_mode {
	TIE_BREAKER_LOWEST = 1,
	TIE_BREAKER_HIGHEST = 2,
	TIE_BREAKER_NODE_ID = 3,
};

enum heuristics_value {	/* tag not "heuristics": qdevice/heuristics.h owns struct heuristics */
	HEURISTICS_UNDEFINED = 0,	/* internal only: not sent / disabled */
	HEURISTICS_PASS = 1,
	HEURISTICS_FAIL = 2,
};

struct ring_id {
	uint32_t	node_id;
	uint64_t	seq;
};

struct tie_breaker {
	uint8_t		mode;		/* enum tie_breaker_mode */
	uint32_t	node_id;	/* only meaningful for TIE_BREAKER_NODE_ID */
};

/*
 * A message. Every optional field has a _set flag. On decode, string
 * views borrow the input buffer; arrays and `nodes` are owned and freed
 * by msg_fini(). For encode the caller may point arrays at its own
 * storage and must then not call msg_fini().
 */
struct msg {
	uint16_t	type;			/* enum msg_type */

	bool		seq_set;
	uint32_t	seq;

	bool		cluster_name_set;
	const uint8_t	*cluster_name;		/* not NUL-terminated */
	size_t		cluster_name_len;

	bool		tls_supported_set;
	uint8_t		tls_supported;
	bool		tls_client_cert_required_set;
	uint8_t		tls_client_cert_required;

	bool		supported_messages_set;
	uint16_t	*supported_messages;
	size_t		supported_messages_count;
	bool		supported_options_set;
	uint16_t	*supported_options;
	size_t		supported_options_count;

	bool		reply_error_code_set;
	uint16_t	reply_error_code;

	bool		server_max_request_size_set;
	uint32_t	server_max_request_size;
	bool		server_max_reply_size_set;
	uint32_t	server_max_reply_size;

	bool		node_id_set;
	uint32_t	node_id;

	bool		supported_algorithms_set;
	uint16_t	*supported_algorithms;
	size_t		supported_algorithms_count;
	bool		algorithm_set;
	uint16_t	algorithm;

	bool		heartbeat_interval_set;
	uint32_t	heartbeat_interval;	/* ms */

	bool		ring_id_set;
	struct ring_id	ring_id;

	bool		config_version_set;
	uint64_t	config_version;

	/* Top level only decoded, never used (docs/protocol.md 1.4 rule 6). */
	bool		data_center_id_set;
	uint32_t	data_center_id;
	bool		node_state_set;
	uint8_t		node_state;

	struct node_list nodes;		/* one NODE_INFO option each */

	bool		node_list_type_set;
	uint8_t		node_list_type;

	bool		vote_set;
	uint8_t		vote;

	bool		quorate_set;
	uint8_t		quorate;

	bool		tie_breaker_set;
	struct tie_breaker tie_breaker;

	bool		heuristics_set;
	uint8_t		heuristics;

	bool		kap_tie_breaker_set;
	uint8_t		kap_tie_breaker;
};

/* Distinct decode failures; each < 0. */
enum msg_decode_error {
	MSG_ERR_SHORT_HEADER = -1,	/* fewer than 6 bytes */
	MSG_ERR_LENGTH_MISMATCH = -2,	/* header length != bytes that follow */
	MSG_ERR_UNKNOWN_TYPE = -3,	/* header type not 0..17 */
	MSG_ERR_TLV_TRUNCATED = -4,	/* option header or value runs past the end */
	MSG_ERR_OPTION_SIZE = -5,	/* fixed-size option with the wrong length */
	MSG_ERR_OPTION_VALUE = -6,	/* enum option outside its range */
	MSG_ERR_NODE_INFO = -7,		/* NODE_INFO malformed or without a node id */
	MSG_ERR_NO_MEMORY = -8,
};

const char	*msg_type_name(uint16_t type);
const char	*opt_type_name(uint16_t type);
const char	*msg_decode_error_name(int err);
const char	*tls_supported_name(uint8_t v);
const char	*reply_error_code_name(uint16_t v);
const char	*decision_algorithm_name(uint16_t v);
const char	*node_state_name(uint8_t v);
const char	*node_list_type_name(uint8_t v);
const char	*vote_name(uint8_t v);
const char	*tie_breaker_mode_name(uint8_t v);
const char	*heuristics_name(uint8_t v);

/* Header fields of a buffer that holds at least MSG_HEADER_LEN bytes. */
uint16_t	msg_header_type(const uint8_t *hdr);
uint32_t	msg_header_length(const uint8_t *hdr);
bool		msg_type_valid(uint16_t type);

void	msg_init(struct msg *m, uint16_t type);
void	msg_fini(struct msg *m);

/*
 * Decode one whole message (header included). On failure *m holds what
 * was decoded before the bad option (seq_set tells whether SEQ was
 * seen, for SERVER_ERROR replies) and must still be msg_fini()ed.
 */
int	msg_decode(const uint8_t *buf, size_t len, struct msg *m);

/*
 * Append the encoded message to b. Returns 0, -ENOMEM, -EMSGSIZE (over
 * b's cap) or -EINVAL (a field outside its range); on failure b is left
 * as it was.
 */
int	msg_encode(const struct msg *m, struct tlv_buf *b);

/* The lists both daemons advertise: every message and option type. */
extern const uint16_t	msg_all_message_types[MSG_TYPE_COUNT];
extern const uint16_t	msg_all_option_types[OPT_TYPE_COUNT];
extern const uint16_t	msg_all_algorithms[ALGORITHM_COUNT];

bool	ring_id_equal(const struct ring_id *a, const struct ring_id *b);

#endif
