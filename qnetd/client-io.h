/*
 * qnetd/client-io.h: what client.c and client-input.c share of a
 * connection's internals; nothing outside these two files uses it.
 */
#ifndef QNETD_CLIENT_IO_H
#define QNETD_CLIENT_IO_H

#include <stdbool.h>

struct qnetd_client;

/* Before INIT the client's heartbeat is unknown; upstream assumes the maximum. */
#define QNETD_PRE_INIT_HB_MS	120000

/* Poll for input unless reading is paused, for output when asked or paused. */
void	qnetd_client_set_poll_mask(struct qnetd_client *c, bool want_write);
/* End the TLS handshake's hold on the accept gate; true when it was in one. */
bool	qnetd_client_handshake_end(struct qnetd_client *c);

#endif
