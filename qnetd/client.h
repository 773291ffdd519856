/*
 * qnetd/client.h: one qdevice connection: its socket, the framing of
 * incoming messages (header, then exactly the announced body), the send
 * queue, the dead-peer timer and deferred teardown (client.c, with the
 * receive side in client-input.c). It knows nothing of the layers above
 * (messages' meaning, clusters, events, worker notices): it reaches them
 * only through struct qnetd_conn_ops below.
 */
#ifndef QNETD_CLIENT_H
#define QNETD_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include <qb/qblist.h>
#include <qb/qbloop.h>

#include "common/msg.h"
#include "common/nss-sock.h"
#include "accept-gate.h"
#include "algorithms/algorithm.h"
#include "dpd.h"
#include "poll-set.h"

struct qnetd_settings;
struct qnetd_cluster;
struct qnetd_client;
struct qnetd_conns;

/*
 * The layers above a connection, as callbacks: one set per process, wired
 * once by qnetd_instance_init() (session.c). Each runs on the loop's thread.
 */
struct qnetd_conn_ops {
	/* One whole message arrived (header included): take it up now. */
	void	(*message)(struct qnetd_client *c, const uint8_t *msg, size_t len);
	/* c is being dropped for reason (once); it stays whole until its teardown. */
	void	(*disconnecting)(struct qnetd_client *c, const char *reason);
	/* c's teardown turn came, just before it is freed: let go of it above. */
	void	(*closed)(struct qnetd_client *c);
	/* A connection is gone, whether or not it got as far as a client. */
	void	(*gone)(struct qnetd_conns *conns);
};

/* The connection layer's own counters, summed with the process's (instance.h). */
struct qnetd_conn_stats {
	uint64_t	dpd_expiries;
	uint64_t	dpd_reprieves;	/* silent past the timeout, but input was waiting */
	uint64_t	tls_handshake_failures;
};

/*
 * What all connections of one process share. The instance embeds it and
 * fills the borrowed pointers (instance.c); client.c sees nothing else of it.
 */
struct qnetd_conns {
	const struct qnetd_settings	*settings;	/* borrowed */
	qb_loop_t			*loop;		/* borrowed */
	const struct qnetd_conn_ops	*ops;
	struct qnetd_conn_stats		*stats;		/* borrowed: in the process's */
	struct poll_set			 poll_set;	/* client sockets */
	struct qnetd_dpd		 dpd;
	struct accept_gate		 gate;		/* TLS handshake places */
	struct qb_list_head		 clients;
	uint32_t			 count;
	uint64_t			 next_id;
	/* clients whose teardown is due, freed by one zero-delay timer (client.c) */
	struct qb_list_head		 closing;
	qb_loop_timer_handle		 reap_timer;
	bool				 reap_armed;
	bool				 tls_loaded;	/* a server certificate: STARTTLS offered */
	/* front of worker processes: a client's first message is all it reads */
	bool				 first_message_only;
	uint8_t				*recv_buf;	/* shared by all clients' greedy reads; lazy */
	size_t				 recv_buf_size;
	uint8_t				*send_buf;	/* shared gathering chunk for flushes; lazy */
};

/*
 * Set up conns (zeroed by its owner) with its poll set and dead-peer timer;
 * the owner sets up the accept gate, whose callbacks are its own.
 */
int	qnetd_conns_init(struct qnetd_conns *conns, const struct qnetd_settings *s,
	    qb_loop_t *loop, const struct qnetd_conn_ops *ops, struct qnetd_conn_stats *stats);
/* Free what qnetd_conns_init() set up, and the shared buffers; no client is left. */
void	qnetd_conns_fini(struct qnetd_conns *conns);

struct qnetd_send_item {
	struct qb_list_head	 list;
	size_t			 len;
	size_t			 sent;
	uint8_t			 data[];
};

struct qnetd_client {
	struct qb_list_head	 list;		/* conns->clients */
	struct qnetd_conns	*conns;		/* borrowed */
	PRFileDesc		*fd;		/* NULL in unit tests */
	int			 native_fd;
	char			 addr_str[80];	/* "addr:port" */
	char			 ident[160];	/* starts every log line about this client */
	uint64_t		 id;		/* connection counter, for logs */

	/* protocol state */
	bool			 preinit_received;
	bool			 init_received;
	bool			 tls_started;
	bool			 tls_peer_verified;
	bool			 tls_message_seen;	/* a message arrived over TLS: handshake done */
	bool			 tls_handshaking;	/* between STARTTLS and the 1st TLS message */
	struct accept_gate_entry gate_entry;	/* its handshake in conns->gate */
	char			*cluster_name;	/* NUL-free copy from PREINIT */
	size_t			 cluster_name_len;
	struct qnetd_cluster	*cluster;	/* borrowed; set once INIT succeeded */
	struct algo_client	 algo;		/* what the algorithms see */
	uint8_t			 last_sent_vote;
	uint8_t			 last_sent_ack_nack_vote;
	uint64_t		 decision_wait_ns;	/* node list time awaiting an ACK/NACK; 0: none */

	/* receive framing */
	uint8_t			 hdr[MSG_HEADER_LEN];
	size_t			 hdr_got;
	uint8_t			*body;		/* header + body of the current message */
	size_t			 body_cap;
	size_t			 body_len;	/* announced option area length */
	size_t			 body_got;
	uint16_t		 skip_error;	/* != 0: discarding the body, then SERVER_ERROR */
	/* received but not dispatched yet: a wakeup's budget ran out (client.c) */
	uint8_t			*unread;
	size_t			 unread_len;
	size_t			 unread_cap;
	bool			 resume_queued;	/* resume_timer will dispatch it */
	qb_loop_timer_handle	 resume_timer;

	/* send queue */
	struct qb_list_head	 send_queue;
	size_t			 send_queue_len;
	bool			 want_write;
	/*
	 * Backpressure (client.c): with the send queue at its reading limit no
	 * further message is taken up and POLLIN is off; bytes already read
	 * wait in `unread`.
	 */
	bool			 want_read;
	bool			 read_paused;

	struct dpd_entry	 dpd;		/* its place in conns->dpd */
	qb_loop_timer_handle	 algo_timer;
	bool			 algo_timer_armed;

	bool			 closing;	/* teardown scheduled; ignore all events */
	struct qb_list_head	 closing_link;	/* conns->closing, while closing */
};

/* Allocate a client for an accepted socket (fd may be NULL for tests). */
struct qnetd_client	*qnetd_client_create(struct qnetd_conns *conns, PRFileDesc *fd,
			    const char *addr_str);
/* Free immediately: socket, timers, queue. Only from a safe point. */
void	qnetd_client_destroy(struct qnetd_client *c);
/* The client whose algorithm view ac is (a cluster's view holds only those). */
struct qnetd_client	*qnetd_client_of(struct algo_client *ac);

/*
 * Queue an encoded message. Returns 0, or -EMSGSIZE / -ENOBUFS / -ENOMEM,
 * after which the caller must disconnect the client (docs/protocol.md 1.9).
 * Requests are not taken up while the queue is near full (client.c), so
 * -ENOBUFS means a client that has not read its replies for long.
 */
int	qnetd_client_queue(struct qnetd_client *c, const struct msg *m);
int	qnetd_client_queue_raw(struct qnetd_client *c, const uint8_t *data, size_t len);

/* STARTTLS wrapped the socket: the handshake runs until the first TLS message. */
void	qnetd_client_handshake_begin(struct qnetd_client *c);
/* The accept gate's ops on a client's handshake (accept-gate.h). */
bool	qnetd_client_gate_has_input(struct accept_gate_entry *e);
void	qnetd_client_gate_lost_place(struct accept_gate_entry *e, enum accept_gate_loss why,
	    uint64_t now_ns);

/*
 * A client for a connected socket, watched in the poll set. NULL when it
 * could not be set up: the socket is closed and the reason logged.
 */
struct qnetd_client	*qnetd_client_start(struct qnetd_conns *conns, PRFileDesc *fd,
			    const char *addr_str);
/*
 * Worker process: a socket the front handed over, with the bytes of the
 * first message it read from it (dispatched at once). NULL when dropped.
 */
struct qnetd_client	*qnetd_client_adopt(struct qnetd_conns *conns, PRFileDesc *fd,
			    const char *addr_str, const uint8_t *first, size_t first_len);
/* Front process: the socket went to a worker; free c without a word to the peer. */
void	qnetd_client_forget(struct qnetd_client *c);

/* Schedule teardown; safe from inside the client's own callbacks. */
void	qnetd_client_disconnect(struct qnetd_client *c, const char *reason);

/* Poll set callback: read and dispatch everything available, then flush. */
void	qnetd_client_io(void *data, int revents);
/*
 * The dead-peer timer found the client of e silent for idle_ns: drop it
 * (true), unless input from it is waiting to be read (false: keep it).
 */
bool	qnetd_client_dead(struct dpd_entry *e, uint64_t idle_ns);
/* Try to write the queue now; adjusts the poll mask. */
void	qnetd_client_flush(struct qnetd_client *c);

/* (Re)start the dead-peer timer for the client's heartbeat interval. */
void	qnetd_client_dpd_set_interval(struct qnetd_client *c, uint32_t hb_ms);
void	qnetd_client_update_ident(struct qnetd_client *c);

#endif
