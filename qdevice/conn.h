/*
 * qdevice/conn.h: one client connection to qnetd on the qb_loop: a
 * non-blocking connect over every address of every configured host, in
 * order, each with its share of the connect time, message framing
 * with receive/send size caps, a bounded send queue, and the STARTTLS
 * switch. It knows bytes and messages, not the protocol's meaning
 * (qdevice/net.c). Never logs; failures come back as a reason.
 */
#ifndef QDEVICE_CONN_H
#define QDEVICE_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qb/qbloop.h>

#include "common/msg.h"
#include "disconnect.h"

/*
 * Callbacks run from the loop. Any of them may call conn_destroy(); the
 * connection then stops at once and is freed when the callback returns.
 */
struct conn_callbacks {
	void	(*connected)(void *arg);		/* TCP is up */
	void	(*message)(void *arg, const uint8_t *msg, size_t len);	/* header included */
	void	(*sent)(void *arg, uint32_t tag);	/* last byte of a tagged message written */
	void	(*failed)(void *arg, enum disconnect_reason reason);
	/*
	 * Optional, for logs; they must not destroy the connection. trying:
	 * an address is about to be tried (conn_peer*() name it).
	 * address_failed: it, or a host name that did not resolve, gave up
	 * and the next one follows; why is the reason in words.
	 */
	void	(*trying)(void *arg);
	void	(*address_failed)(void *arg, const char *why);
};

struct conn;

int	conn_create(struct conn **out, qb_loop_t *loop, const struct conn_callbacks *cb,
	    void *arg);
void	conn_destroy(struct conn *c);	/* NULL-safe */

/* Caps: whole message size each way, queued messages. */
void	conn_set_limits(struct conn *c, uint32_t max_receive, uint32_t max_send,
	    uint32_t max_queue);

/*
 * Resolve every host (ip_version 0, 4 or 6) and connect to the addresses
 * in order: hosts as listed, each host's addresses in resolver order. An
 * address that refuses, or does not answer within its share of budget_ms
 * (the time left divided by the addresses left), gives way to the next;
 * the last one has no timer of its own: the caller's overall timer ends
 * it (budget_ms 0: no shares, only refusals move on). 0: in progress
 * (connected/failed follow); -ENOENT: no host resolved; -ECONNREFUSED:
 * every address failed at once; -ENOMEM, -EIO.
 */
int	conn_connect(struct conn *c, const char *const *hosts, size_t host_count, uint16_t port,
	    int ip_version, uint32_t budget_ms);
/* "addr:port" of the address being tried or connected ("" before). */
const char	*conn_peer(const struct conn *c);
/* The configured host that address came from ("" before). */
const char	*conn_peer_host(const struct conn *c);
/* Its place among all resolved addresses: 1-based index (0 before), count. */
size_t	conn_peer_index(const struct conn *c);
size_t	conn_address_count(const struct conn *c);
/* Inside `failed`: the NSS error text of a read/send/connect failure, else "". */
const char	*conn_error(const struct conn *c);

/*
 * Queue a message; tag != 0 asks for a `sent` callback. 0, -EMSGSIZE
 * (over the send cap), -ENOBUFS (queue full), -EINVAL, -ENOMEM.
 */
int	conn_send(struct conn *c, const struct msg *m, uint32_t tag);

/* Wrap the socket in TLS client mode (after STARTTLS went out). 0 or -EIO. */
int	conn_start_tls(struct conn *c, const char *server_cn, const char *client_nickname,
	    bool allow_expired);
bool	conn_tls_active(const struct conn *c);
bool	conn_client_cert_sent(const struct conn *c);

#endif
