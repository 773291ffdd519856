/* qdevice/disconnect.c: disconnect reasons and the reconnect policy. */
#include "common/msg.h"
#include "disconnect.h"

const char *
disconnect_reason_name(enum disconnect_reason r)
{
	switch (r) {
	case DISCONNECT_NONE:			return "no reason";
	case DISCONNECT_DECODE_ERROR:		return "cannot decode a server message";
	case DISCONNECT_SERVER_CLOSED:		return "server closed the connection";
	case DISCONNECT_READ_ERROR:		return "read error";
	case DISCONNECT_MSG_TOO_LONG:		return "server message too long";
	case DISCONNECT_SEND_ERROR:		return "send error";
	case DISCONNECT_CONNECT_FAILED:		return "cannot connect to the server";
	case DISCONNECT_CONNECT_TIMEOUT:	return "connect timeout";
	case DISCONNECT_ECHO_REPLY_NOT_RECEIVED:	return "echo reply not received in time";
	case DISCONNECT_INIT_REPLY_RETRYABLE:	return "server refused init for now";
	case DISCONNECT_UNSUPPORTED_MESSAGE:	return "server sent an unsupported message";
	case DISCONNECT_SERVER_ERROR:		return "server sent an error";
	case DISCONNECT_INIT_REPLY_ERROR:	return "server refused init";
	case DISCONNECT_TLS_INCOMPATIBLE:	return "incompatible TLS settings";
	case DISCONNECT_SIZES_INCOMPATIBLE:	return "incompatible message sizes";
	case DISCONNECT_REQUIRED_OPTION_MISSING:	return "required option missing";
	case DISCONNECT_UNEXPECTED_MESSAGE:	return "unexpected message";
	case DISCONNECT_ALGORITHM_UNSUPPORTED:	return "server does not support the algorithm";
	case DISCONNECT_OPTION_UNSUPPORTED:	return "server does not support a needed option";
	case DISCONNECT_ECHO_REPLY_WRONG_SEQ:	return "echo reply with unexpected sequence number";
	case DISCONNECT_LOCAL_ERROR:		return "local error";
	}
	return "unknown reason";
}

bool
disconnect_reason_retry(enum disconnect_reason r, uint8_t algorithm)
{
	if (algorithm == ALGORITHM_LMS)
		return true;
	return r >= DISCONNECT_DECODE_ERROR && r <= DISCONNECT_INIT_REPLY_RETRYABLE;
}

uint32_t
disconnect_reconnect_delay_ms(bool tcp_connected, uint32_t cast_vote_interval_ms,
    unsigned long rnd)
{
	uint32_t span = (uint32_t)((uint64_t)cast_vote_interval_ms * 9 / 10);

	if (!tcp_connected || span == 0)
		return 0;
	return (uint32_t)(rnd % span);
}

uint32_t
disconnect_refused_retry_ms(unsigned long rnd)
{
	return DISCONNECT_REFUSED_RETRY_MIN_MS +
	    (uint32_t)(rnd % (DISCONNECT_REFUSED_RETRY_SPAN_MS + 1));
}
