/*
 * qdevice/handshake.h: the client's checks of what qnetd sends while the
 * connection is set up and afterwards (docs/protocol.md 1.8, 2.2, 2.3, 1.9):
 * the TLS decision table, the mandatory options of each reply, and what
 * INIT_REPLY must offer. Pure: each check returns the disconnect reason.
 */
#ifndef QDEVICE_HANDSHAKE_H
#define QDEVICE_HANDSHAKE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/msg.h"
#include "disconnect.h"

enum tls_decision {
	TLS_DECISION_PLAIN = 0,
	TLS_DECISION_STARTTLS,
	TLS_DECISION_INCOMPATIBLE,
};

/* server: TLS_SUPPORTED value; client: 0 off, 1 on, 2 required (table 2.3). */
enum tls_decision	handshake_tls_decision(uint8_t server, uint8_t client);

/* PREINIT_REPLY: seq (= expected) and both TLS options are required. */
enum disconnect_reason	handshake_check_preinit_reply(const struct msg *m,
			    uint32_t expected_seq);

/* What INIT_REPLY told us about the server. */
struct server_caps {
	uint32_t	max_request_size;	/* our send limit from now on */
	uint32_t	max_reply_size;		/* our receive limit */
	bool		heuristics;		/* option 22 advertised */
	bool		kap_tie_breaker;	/* option 23 advertised */
	uint16_t	error_code;		/* REPLY_ERROR_CODE (non-zero: refused) */
};

struct init_requirements {
	uint32_t	expected_seq;
	uint32_t	min_send_size;		/* net_min_msg_send_size */
	uint32_t	max_receive_size;	/* net_max_msg_receive_size */
	uint8_t		algorithm;
	bool		need_heuristics;	/* heuristics mode on or sync */
};

/*
 * INIT_REPLY in the order the client checks it: mandatory options, the
 * error code (15/16/17 are worth a retry), the size limits, the
 * algorithm, the heuristics option. *caps is filled as far as known.
 */
enum disconnect_reason	handshake_check_init_reply(const struct msg *m,
			    const struct init_requirements *req, struct server_caps *caps);

/*
 * The options a message from the server must carry once connected
 * (NODE_LIST_REPLY, ASK_FOR_VOTE_REPLY, VOTE_INFO, HEURISTICS_CHANGE_REPLY,
 * ECHO_REPLY). DISCONNECT_NONE when complete or for other types.
 */
enum disconnect_reason	handshake_check_required(const struct msg *m);

#endif
