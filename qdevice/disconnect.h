/*
 * qdevice/disconnect.h: why the connection to qnetd ended, and whether
 * that is worth a reconnect or ends the daemon (docs/protocol.md 2.10). Pure.
 */
#ifndef QDEVICE_DISCONNECT_H
#define QDEVICE_DISCONNECT_H

#include <stdbool.h>
#include <stdint.h>

enum disconnect_reason {
	DISCONNECT_NONE = 0,
	/* Retried. */
	DISCONNECT_DECODE_ERROR,
	DISCONNECT_SERVER_CLOSED,
	DISCONNECT_READ_ERROR,
	DISCONNECT_MSG_TOO_LONG,
	DISCONNECT_SEND_ERROR,
	DISCONNECT_CONNECT_FAILED,
	DISCONNECT_CONNECT_TIMEOUT,
	DISCONNECT_ECHO_REPLY_NOT_RECEIVED,
	DISCONNECT_INIT_REPLY_RETRYABLE,	/* INIT_REPLY error 15, 16 or 17 */
	/* Fatal (except under lms). */
	DISCONNECT_UNSUPPORTED_MESSAGE,
	DISCONNECT_SERVER_ERROR,
	DISCONNECT_INIT_REPLY_ERROR,
	DISCONNECT_TLS_INCOMPATIBLE,
	DISCONNECT_SIZES_INCOMPATIBLE,
	DISCONNECT_REQUIRED_OPTION_MISSING,
	DISCONNECT_UNEXPECTED_MESSAGE,
	DISCONNECT_ALGORITHM_UNSUPPORTED,
	DISCONNECT_OPTION_UNSUPPORTED,
	DISCONNECT_ECHO_REPLY_WRONG_SEQ,
	DISCONNECT_LOCAL_ERROR,
};

const char	*disconnect_reason_name(enum disconnect_reason r);

/* true: reconnect; false: qdevice exits with failure. lms always retries. */
bool	disconnect_reason_retry(enum disconnect_reason r, uint8_t algorithm);

/*
 * Delay before the next connect (2.10): none after a connect that never
 * completed (the connect timer paces those), else rnd modulo 90 % of the
 * cast-vote interval.
 */
uint32_t	disconnect_reconnect_delay_ms(bool tcp_connected, uint32_t cast_vote_interval_ms,
		    unsigned long rnd);

/*
 * Ours: how long a connect refused by every address waits before the next
 * attempt, when that is sooner than the connect timer (connect_timeout).
 * A refusal means the arbiter host is up and qnetd is not listening yet
 * (restarting, or a standby taking over a floating address): upstream
 * waits out connect_timeout (8 s by default); 0.5-1.5 s, jittered so that
 * the nodes of many clusters do not come back in step.
 */
#define DISCONNECT_REFUSED_RETRY_MIN_MS	500u
#define DISCONNECT_REFUSED_RETRY_SPAN_MS	1000u
uint32_t	disconnect_refused_retry_ms(unsigned long rnd);

#endif
