/*
 * qnetd/instance.h: the server as a whole: settings, the event loop, the
 * listening socket, TLS material, all clients and the cluster map.
 */
#ifndef QNETD_INSTANCE_H
#define QNETD_INSTANCE_H

#include <stdbool.h>
#include <stdint.h>

#include <qb/qblist.h>
#include <qb/qbloop.h>
#include <qb/qbmap.h>

#include "common/nss-sock.h"
#include "client.h"
#include "settings.h"

struct ipc_server;
struct hooks;
struct shard_front;

/* Upper bounds (ms) of the decision latency histogram; +Inf is implied. */
#define QNETD_LATENCY_BUCKETS	12
extern const uint32_t qnetd_latency_bounds_ms[QNETD_LATENCY_BUCKETS];

/* Counters since start, for `qnetd-tool --metrics`. */
struct qnetd_stats {
	uint64_t	clients_accepted;
	uint64_t	clients_refused;	/* over -m */
	uint64_t	acks_sent;
	uint64_t	nacks_sent;
	struct qnetd_conn_stats conn;	/* the connection layer's (client.h) */
	uint64_t	cert_check_failures;
	/* filled from the accept gate's counters (shard_totals_of) */
	uint64_t	tls_handshakes_unplaced;	/* no place for it (accept-gate.h) */
	uint64_t	tls_places_released;	/* place lost before the handshake ended */
	uint64_t	tls_places_used;	/* a gauge, but sums across workers all the same */
	uint64_t	client_chains_verified;	/* from inst->tls (common/nss-sock.h) */
	uint64_t	client_cert_cache_hits;
	uint64_t	decode_errors;
	/* the event hooks' figures (common/hooks.h), copied in by shard_totals_of() */
	uint64_t	hooks_dropped;
	uint64_t	hooks_timed_out;
	uint64_t	hooks_running;	/* gauges: a front sums its workers' too */
	uint64_t	hooks_queued;
	/* node list received -> ACK/NACK sent to the same client */
	uint64_t	latency_buckets[QNETD_LATENCY_BUCKETS + 1];
	uint64_t	latency_count;
	double		latency_sum_s;
};

struct qnetd_instance {
	struct qnetd_settings	*settings;	/* borrowed from main */
	qb_loop_t		*loop;
	PRFileDesc		*listener;
	struct nss_server_tls	 tls;		/* loaded: conns.tls_loaded */
	/* the connections, their sockets, timers and handshake places (client.h) */
	struct qnetd_conns	 conns;
	qb_map_t		*clusters;	/* name -> struct qnetd_cluster */
	uint32_t		 cluster_count;
	uint64_t		 next_cluster_seq;
	struct ipc_server	*ipc;
	bool			 shutting_down;
	bool			 accept_paused;	/* listener unwatched after accept() failed */
	bool			 accept_gated;	/* listener unwatched: the gate is at its cap */
	qb_loop_timer_handle	 accept_timer;
	uint64_t		 started_ns;
	struct qnetd_stats	 stats;
	struct hooks		*hooks;		/* NULL-safe: no hook configured */
	long			 cert_days_left;	/* valid when tls_loaded */
	/* -S worker_processes > 1 (shard.h): the front's routes, or a worker's link */
	struct shard_front	*front;		/* front process: workers to route to */
	int			 shard_fd;	/* worker process: control socket; else -1 */
	unsigned		 shard_index;
	uint8_t			*shard_buf;	/* worker: one control message */
	size_t			 shard_buf_size;
	uint32_t		 shard_unsent[3];	/* worker: notices not sent yet (shard.h) */
	qb_loop_timer_handle	 shard_retry;	/* worker: sends them when the socket drains */
	bool			 shard_retry_armed;
};

/* The instance that embeds conns. */
static inline struct qnetd_instance *
qnetd_instance_of_conns(const struct qnetd_conns *conns)
{
	return (struct qnetd_instance *)(void *)((char *)conns -
	    offsetof(struct qnetd_instance, conns));
}

/* The instance whose connection c is. */
static inline struct qnetd_instance *
qnetd_instance_of(const struct qnetd_client *c)
{
	return qnetd_instance_of_conns(c->conns);
}

/* Set up everything but sockets (unit tests stop here). */
int	qnetd_instance_init(struct qnetd_instance *inst, struct qnetd_settings *s,
	    qb_loop_t *loop);
/* Listen on the TCP port and register with the loop. */
int	qnetd_instance_listen(struct qnetd_instance *inst);
/* Drop every client (no algorithm re-evaluation) and free everything. */
void	qnetd_instance_fini(struct qnetd_instance *inst);

/*
 * The accept gate's count at which no new connection is accepted: its
 * places (times the number of workers when there are workers). The rules:
 * accept-gate.h.
 */
uint32_t	qnetd_instance_gate_cap(const struct qnetd_instance *inst);

/* Clients of the whole server: this process's and, in the front, the workers'. */
uint32_t	qnetd_instance_total_clients(const struct qnetd_instance *inst);

void		qnetd_stats_observe_latency(struct qnetd_instance *inst, uint64_t ns);

#endif
