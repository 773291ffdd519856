/*
 * qnetd/dispatch.h: what qnetd does with each complete message from a
 * client (docs/protocol.md 2.4, 2.5): checks in upstream's order, replies or
 * SERVER_ERROR, and the algorithm call. Works on a client without a
 * socket, so unit tests drive it directly.
 */
#ifndef QNETD_DISPATCH_H
#define QNETD_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

struct qnetd_client;

/* buf holds one whole message (header included). */
void	qnetd_dispatch(struct qnetd_client *c, const uint8_t *buf, size_t len);

#endif
