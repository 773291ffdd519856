/*
 * tests/bench/worker.h: private to one bench worker (worker*.c); the rest
 * of qnetd-bench sees bench.h only. A worker plays the qdevice clients of
 * its clusters (one TCP connection per node) from one epoll loop: each
 * walks upstream's client handshake (docs/protocol.md 2.2), sends
 * ECHO_REQUEST every heartbeat, answers VOTE_INFO and takes part in the
 * membership changes the worker schedules. Split by job: worker.c (loop,
 * timers, setup), worker-conn.c (sockets, TLS), worker-msg.c (messages
 * out and in), worker-membership.c (splits, heals, votes).
 */
#ifndef QNET_BENCH_WORKER_H
#define QNET_BENCH_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/msg.h"
#include "common/nss-sock.h"
#include "bench.h"

#define CLIENT_NICKNAME		"Cluster Cert"

enum cstate {
	CS_IDLE,		/* no socket: queued for connect or waiting to retry */
	CS_CONNECTING,		/* TCP connect in progress */
	CS_WAIT_PREINIT_REPLY,
	CS_STARTTLS_SENDING,	/* TLS starts once the STARTTLS bytes are written */
	CS_WAIT_INIT_REPLY,
	CS_CONNECTED,		/* lists sent: heartbeats and votes */
	CS_DEAD,		/* gave up */
};

struct bcluster;

struct bclient {
	struct bcluster	*cl;
	uint32_t	 node_id;
	enum cstate	 state;
	PRFileDesc	*fd;
	int		 nfd;
	uint32_t	 ev;		/* registered epoll mask; 0 = not registered */
	bool		 tls_on;
	unsigned	 attempts;
	uint64_t	 connect_start_ns;
	uint32_t	 index;		/* cluster * nodes + node_id - 1, over all workers */
	bool		 fo_lost;	/* lost in the failover, no ACK since */
	bool		 fo_timed_out;	/* the connect timer fired */
	bool		 tls_done;	/* this connection's TLS handshake completed */

	uint32_t	 seq;		/* upstream's last_msg_seq_num: starts at 1 */
	uint32_t	 expect_seq;	/* of the PREINIT / INIT being answered */
	uint32_t	 echo_seq;
	uint64_t	 echo_sent_ns[4];	/* by echo seq % 4 */
	bool		 echo_outstanding;

	uint64_t	 timer_ns;	/* heap key: next echo, retry or deadline */
	size_t		 heap_idx;
	struct bclient	*next_q;	/* connect queue */
	bool		 queued;

	struct tlv_buf	 out;
	size_t		 out_off;
	uint8_t		*in;
	size_t		 in_len;
	size_t		 in_cap;

	/* the membership this node last reported, and the vote it got for it */
	struct ring_id	 ring;
	bool		 waiting_vote;
	uint64_t	 list_sent_ns;
	uint8_t		 vote;
};

struct worker;

struct bcluster {
	struct worker	*w;		/* the owner */
	char		 name[96];
	size_t		 name_len;
	struct bclient	*nodes;
	unsigned	 n;
	bool		 split;		/* nodes 1..n/2 and the rest are apart */
	uint64_t	 ring_seq;
	bool		 event_active;
	uint64_t	 event_t0;
	unsigned	 pending;	/* nodes still waiting for their vote */
	uint64_t	 both_acked_ns;	/* != 0: both sides held ACK at that time */
};

struct worker {
	const struct bench_opts	*o;
	struct bench_shared	*sh;
	struct worker_stats	*st;
	unsigned		 index;
	int			 ep;
	PRNetAddr		 addr;
	uint64_t		 hb_ns;
	int			 phase;

	struct bcluster		*clusters;
	unsigned		 ncl;
	struct bclient		*clients;
	unsigned		 nclients;

	struct bclient		**heap;
	size_t			 heap_len;

	struct bclient		*q_head, *q_tail;
	unsigned		 inflight, inflight_max;
	double			 tokens, rate;
	uint64_t		 tokens_ns;

	uint64_t		 next_event_ns, event_interval_ns, next_scan_ns;
	unsigned		 event_cursor;
	uint64_t		 rng;
	unsigned		 errors_printed;

	/* "Cluster Cert" and its key, looked up once (--tls) */
	CERTCertificate		*client_cert;
	SECKEYPrivateKey	*client_key;
};

/* worker.c: small helpers */
uint64_t	rnd(struct worker *w);
bool		measuring(const struct worker *w);
bool		failing_over(const struct worker *w);
void		report(struct worker *w, const struct bclient *c, const char *what,
		    const char *detail);
/* worker.c: the timer heap (min-heap on timer_ns) */
void		timer_set(struct worker *w, struct bclient *c, uint64_t when);
void		timer_clear(struct worker *w, struct bclient *c);

/* worker-conn.c: connection plumbing */
void		set_events(struct worker *w, struct bclient *c);
void		client_close(struct worker *w, struct bclient *c);
void		check_ramp_done(struct worker *w);
void		client_fail(struct worker *w, struct bclient *c, uint64_t *counter, bool retry);
int		pump_out(struct worker *w, struct bclient *c);
void		start_connect(struct worker *w, struct bclient *c, uint64_t now);
void		client_io(struct worker *w, struct bclient *c, uint32_t events, uint64_t now);

/* worker-msg.c: sending */
int		queue_node_list(struct bclient *c, uint8_t type);
int		queue_preinit(struct bclient *c);
int		queue_init(struct worker *w, struct bclient *c);
int		queue_seq_only(struct bclient *c, uint16_t type, uint32_t seq);
/* worker-msg.c: receiving */
int		parse_input(struct worker *w, struct bclient *c, uint64_t now);

/* worker-membership.c */
int		side_of(const struct bcluster *cl, uint32_t node_id);
struct ring_id	ring_of(const struct bcluster *cl, uint32_t node_id);
void		event_abort(struct worker *w, struct bcluster *cl);
void		note_vote(struct worker *w, struct bclient *c, uint8_t vote,
		    const struct ring_id *ring, uint64_t now);
void		run_events(struct worker *w, uint64_t now);

#endif
