/*
 * qnetd/shard.h: one qnetd spread over processes (-S worker_processes=N).
 *
 * Why: NSS's softoken keeps every TLS connection's keys in per-process
 * tables that each handshake and each record searches, so the cost of a
 * TLS connection grows with the connections the same process holds
 * (tests/bench/README.md). Several processes, each with its own NSS,
 * divide those tables.
 *
 * How: the front process owns the listener and the admin socket. It reads
 * each connection's first message; a PREINIT's cluster name picks the
 * worker that owns that cluster (a hash, so all nodes of a cluster meet in
 * one process and the algorithms see them together), and the socket moves
 * there over a control socket (SCM_RIGHTS) with the PREINIT's bytes. A
 * worker is a whole qnetd instance without listener and admin socket; it
 * tells the front when its TLS handshakes start and end (the front's
 * accept gate) and when a client is gone (the client limit). Admin
 * commands are answered by asking every worker.
 *
 * If a worker dies the front stops and exits with failure: every client
 * reconnects after the service manager restarts qnetd, instead of a
 * shard silently missing. A worker that stops answering (pings every few
 * seconds) is killed, to the same end.
 */
#ifndef QNETD_SHARD_H
#define QNETD_SHARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <qb/qbloop.h>

struct qnetd_instance;
struct qnetd_client;

#include "settings.h"	/* QNETD_MAX_WORKER_PROCESSES */

/* Control messages over the SOCK_SEQPACKET pair; the first byte is the type. */
enum shard_msg_type {
	SHARD_MSG_READY = 1,		/* worker -> front: set up, serving */
	SHARD_MSG_CONN,			/* front -> worker: fd + u16 addr len, addr, PREINIT */
	SHARD_MSG_REQUEST,		/* front -> worker: u32 id, an admin command line */
	SHARD_MSG_REPLY_PART,		/* worker -> front: u32 id, reply bytes */
	SHARD_MSG_REPLY_END,		/* worker -> front: u32 id, u8 enum ipc_reply */
	/* Notices, worker -> front: [u32 count], so those the front was slow to take go as one. */
	SHARD_MSG_HS_BEGIN,		/* TLS handshakes started */
	SHARD_MSG_HS_END,		/* TLS handshakes ended */
	SHARD_MSG_CLOSED,		/* clients gone */
};
#define SHARD_NOTICE_LEN	5	/* type, u32 count */

struct shard_pending_conn;

struct shard_worker_proc {
	pid_t		 pid;
	int		 fd;		/* front's end of the control pair; -1 when gone */
	uint32_t	 clients;	/* handed over (or waiting) and not reported closed */
	uint32_t	 handshakes;	/* reported begun and not ended */
	/* hand-overs waiting for room in the control socket, oldest first */
	struct shard_pending_conn	*pending_head;
	struct shard_pending_conn	**pending_tail;	/* NULL while none wait */
	uint32_t	 pending_count;
	size_t		 pending_bytes;
	/* liveness: a ping request not answered yet, since ping_since_ms */
	bool		 ping_waiting;
	uint32_t	 ping_id;	/* 0: not sent yet (the socket was full) */
	uint64_t	 ping_since_ms;
};

struct shard_front {
	struct qnetd_instance	*inst;
	unsigned		 count;
	struct shard_worker_proc workers[QNETD_MAX_WORKER_PROCESSES];
	bool			 worker_lost;	/* a worker died: exit with failure */
	uint32_t		 request_id;	/* of the last request: late replies differ */
	qb_loop_timer_handle	 ping_timer;
	bool			 ping_armed;
};

/* Bytes in front of a request's line or a reply's data: type, then the u32 id. */
#define SHARD_REQUEST_HDR	5

/*
 * Fork `count` workers. Returns 0 in the front (front filled in), or 1 in
 * a worker with *worker_fd / *worker_index set (nothing of the front's
 * kept), or -errno in the front when not every worker could be started
 * (those started are stopped again).
 */
int	shard_spawn(struct shard_front *front, unsigned count, int *worker_fd,
	    unsigned *worker_index);
/* Wait until every worker said READY; -ETIMEDOUT or -EPIPE (one exited). */
int	shard_front_wait_ready(struct shard_front *front, int timeout_ms);
/* Watch the control sockets in inst's loop (notices, worker death). */
int	shard_front_attach(struct shard_front *front, struct qnetd_instance *inst);
/* SIGTERM the workers and reap them (SIGKILL after a grace time). */
void	shard_front_stop(struct shard_front *front);

/* Clients held by the workers (for the -m limit and status). */
uint32_t	shard_front_clients(const struct shard_front *front);
/*
 * c's PREINIT (msg, len bytes) names its cluster: move the socket to the
 * worker owning it. When that worker's control socket is full (the worker
 * is busy) the hand-over waits in the front, in order, up to a bound, and
 * goes out as the socket drains. On success the front forgets c
 * (disconnect without a word); on failure c is disconnected. Never sends
 * anything to c.
 */
void	shard_front_route(struct shard_front *front, struct qnetd_client *c,
	    const uint8_t *msg, size_t len);
/*
 * Send `line` to every worker and collect the replies: replies[i] is a
 * malloc'd NUL-terminated text (caller frees every one) and results[i]
 * its enum ipc_reply. 0, or -errno when some worker did not answer (its
 * reply is NULL).
 */
int	shard_front_ask(struct shard_front *front, const char *line, char **replies,
	    int *results);

/* Worker side: watch the control socket, announce READY. */
int	shard_worker_attach(struct qnetd_instance *inst, int fd, unsigned index);
/*
 * Tell the front. A full control socket (the front busy) keeps the notice
 * counted and retries: a lost one would skew the front's -m count or its
 * handshake gate for good.
 */
void	shard_worker_notify(struct qnetd_instance *inst, enum shard_msg_type type);

#endif
