/*
 * tests/bench/worker.c: one bench worker: the qdevice clients of its
 * clusters (one TCP connection per node), driven by a single epoll loop.
 * Each client walks the upstream client's handshake (docs/protocol.md 2.2),
 * sends ECHO_REQUEST every heartbeat, answers VOTE_INFO, and takes part in
 * the membership changes this worker schedules for its clusters.
 *
 * Cost: one binary heap entry per client (next echo, retry or handshake
 * deadline), so a loop turn is O(ready fds + due timers * log clients).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <cert.h>
#include <keyhi.h>
#include <nss.h>
#include <pk11pub.h>
#include <ssl.h>

#include "common/msg.h"
#include "common/nss-sock.h"
#include "tests/unit/msg-builders.h"
#include "bench.h"

#define NS_PER_MS		1000000ULL
#define NS_PER_S		1000000000ULL
#define HANDSHAKE_TIMEOUT_NS	(60 * NS_PER_S)
#define MAX_ATTEMPTS		20	/* connection attempts before a client gives up */
#define IN_BUF_MIN		512
#define OUT_BUF_MAX		(4 * QNET_DEFAULT_MAX_MSG_SIZE)
#define EVENT_BATCH		1024
#define ERRORS_PRINTED		5	/* per worker, to stderr */
#define SERVER_CN		"Qnetd Server"
#define CLIENT_NICKNAME		"Cluster Cert"
#define NOT_IN_HEAP		((size_t)-1)

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

/* ---- small helpers ---- */

static double
own_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t
rnd(struct worker *w)
{
	/* xorshift64*: plenty for jitter and picking clusters */
	w->rng ^= w->rng >> 12;
	w->rng ^= w->rng << 25;
	w->rng ^= w->rng >> 27;
	return w->rng * 2685821657736338717ULL;
}

static bool
measuring(const struct worker *w)
{
	return w->phase == PHASE_MEASURE;
}

static bool
failing_over(const struct worker *w)
{
	return w->phase == PHASE_FAILOVER;
}

static void
report(struct worker *w, const struct bclient *c, const char *what, const char *detail)
{
	if (w->errors_printed >= ERRORS_PRINTED && !w->o->verbose)
		return;
	w->errors_printed++;
	fprintf(stderr, "qnetd-bench[w%u]: %s node %u: %s%s%s\n", w->index, c->cl->name,
	    (unsigned)c->node_id, what, detail ? ": " : "", detail ? detail : "");
}

/* ---- timer heap (min-heap on timer_ns) ---- */

static void
heap_swap(struct worker *w, size_t a, size_t b)
{
	struct bclient *t = w->heap[a];

	w->heap[a] = w->heap[b];
	w->heap[b] = t;
	w->heap[a]->heap_idx = a;
	w->heap[b]->heap_idx = b;
}

static void
heap_up(struct worker *w, size_t i)
{
	while (i > 0 && w->heap[(i - 1) / 2]->timer_ns > w->heap[i]->timer_ns) {
		heap_swap(w, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void
heap_down(struct worker *w, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < w->heap_len && w->heap[l]->timer_ns < w->heap[m]->timer_ns)
			m = l;
		if (r < w->heap_len && w->heap[r]->timer_ns < w->heap[m]->timer_ns)
			m = r;
		if (m == i)
			return;
		heap_swap(w, i, m);
		i = m;
	}
}

static void
timer_set(struct worker *w, struct bclient *c, uint64_t when)
{
	if (c->heap_idx == NOT_IN_HEAP) {
		c->timer_ns = when;
		c->heap_idx = w->heap_len;
		w->heap[w->heap_len++] = c;
		heap_up(w, c->heap_idx);
		return;
	}
	c->timer_ns = when;
	heap_up(w, c->heap_idx);
	heap_down(w, c->heap_idx);
}

static void
timer_clear(struct worker *w, struct bclient *c)
{
	size_t i = c->heap_idx;

	if (i == NOT_IN_HEAP)
		return;
	c->heap_idx = NOT_IN_HEAP;
	w->heap_len--;
	if (i == w->heap_len)
		return;
	w->heap[i] = w->heap[w->heap_len];
	w->heap[i]->heap_idx = i;
	heap_up(w, i);
	heap_down(w, w->heap[i]->heap_idx);
}

/* ---- cluster membership as this bench plays it ---- */

/* 0 = one partition; 1 = nodes 1..n/2, 2 = the others (while split). */
static int
side_of(const struct bcluster *cl, uint32_t node_id)
{
	if (!cl->split)
		return 0;
	return node_id <= cl->n / 2 ? 1 : 2;
}

static struct ring_id
ring_of(const struct bcluster *cl, uint32_t node_id)
{
	struct ring_id r = { .node_id = 1, .seq = cl->ring_seq };

	/* corosync names a ring after its lowest member */
	if (side_of(cl, node_id) == 2)
		r.node_id = cl->n / 2 + 1;
	return r;
}

/* ---- sending ---- */

static int
queue_msg(struct bclient *c, const struct msg *m)
{
	return msg_encode(m, &c->out);
}

static void
fill_nodes(const struct bcluster *cl, uint32_t node_id, int kind, struct node_info *arr,
    struct node_list *l)
{
	int side = side_of(cl, node_id);

	l->nodes = arr;
	l->count = 0;
	l->cap = BENCH_MAX_NODES;
	for (uint32_t id = 1; id <= cl->n; id++) {
		struct node_info *ni = &arr[l->count];
		bool member = side_of(cl, id) == side;

		memset(ni, 0, sizeof(*ni));
		ni->node_id = id;
		if (kind == NODE_LIST_MEMBERSHIP && !member)
			continue;
		if (kind == NODE_LIST_QUORUM)
			ni->node_state = member ? NODE_STATE_MEMBER : NODE_STATE_DEAD;
		l->count++;
	}
}

/* A node list as upstream's client builds it (docs/protocol.md 1.8). */
static int
queue_node_list(struct bclient *c, uint8_t type)
{
	struct node_info arr[BENCH_MAX_NODES];
	const struct bcluster *cl = c->cl;
	struct msg m;
	int side = side_of(cl, c->node_id);
	unsigned members = 0;

	msgb_seq(&m, MSG_TYPE_NODE_LIST, ++c->seq);
	m.node_list_type_set = true;
	m.node_list_type = type;
	switch (type) {
	case NODE_LIST_INITIAL_CONFIG:
		m.config_version_set = true;
		m.config_version = 1;
		fill_nodes(cl, c->node_id, type, arr, &m.nodes);
		break;
	case NODE_LIST_MEMBERSHIP:
		m.ring_id_set = true;
		m.ring_id = c->ring;
		fill_nodes(cl, c->node_id, type, arr, &m.nodes);
		break;
	default:
		for (uint32_t id = 1; id <= cl->n; id++)
			members += side_of(cl, id) == side;
		m.quorate_set = true;
		m.quorate = 2 * members > cl->n;
		fill_nodes(cl, c->node_id, type, arr, &m.nodes);
		break;
	}
	return queue_msg(c, &m);	/* m.nodes is on our stack: no msg_fini */
}

static int
queue_preinit(struct bclient *c)
{
	struct msg m;

	/* PREINIT reuses the current value (docs/protocol.md 2.6) */
	msgb_preinit(&m, c->seq, c->cl->name);
	c->expect_seq = m.seq;
	return queue_msg(c, &m);
}

static int
queue_init(struct worker *w, struct bclient *c)
{
	struct msg m;

	msgb_init(&m, ++c->seq, c->node_id, ALGORITHM_FFSPLIT, TIE_BREAKER_LOWEST, w->o->hb_ms);
	msgb_supported_lists(&m);
	m.ring_id = c->ring;
	c->expect_seq = m.seq;
	return queue_msg(c, &m);	/* arrays are static: no msg_fini */
}

static int
queue_set_option_kap(struct bclient *c)
{
	struct msg m;

	msgb_seq(&m, MSG_TYPE_SET_OPTION, ++c->seq);
	m.kap_tie_breaker_set = true;
	m.kap_tie_breaker = 1;	/* upstream client default */
	return queue_msg(c, &m);
}

/* STARTTLS, ECHO_REQUEST, VOTE_INFO_REPLY: messages that carry only their seq. */
static int
queue_seq_only(struct bclient *c, uint16_t type, uint32_t seq)
{
	struct msg m;

	msgb_seq(&m, type, seq);
	return queue_msg(c, &m);
}

/* ---- connection plumbing ---- */

static void
set_events(struct worker *w, struct bclient *c)
{
	bool want_write = c->out_off < c->out.len;
	struct epoll_event e;
	uint32_t ev;

	if (c->fd == NULL)
		return;
	if (c->state == CS_CONNECTING) {
		ev = EPOLLOUT;
	} else if (c->tls_on) {
		short pe = nss_sock_poll_events(c->fd, want_write);

		ev = ((pe & POLLIN) ? EPOLLIN : 0) | ((pe & POLLOUT) ? EPOLLOUT : 0);
		if (ev == 0)
			ev = EPOLLIN;
	} else {
		ev = EPOLLIN | (want_write ? EPOLLOUT : 0);
	}
	if (ev == c->ev)
		return;
	e.events = ev;
	e.data.ptr = c;
	if (epoll_ctl(w->ep, c->ev == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, c->nfd, &e) == 0)
		c->ev = ev;
}

static bool
in_handshake(const struct bclient *c)
{
	return c->state >= CS_CONNECTING && c->state <= CS_WAIT_INIT_REPLY;
}

static void	event_abort(struct worker *w, struct bcluster *cl);

static void
client_close(struct worker *w, struct bclient *c)
{
	if (c->fd != NULL) {
		if (c->ev != 0)
			epoll_ctl(w->ep, EPOLL_CTL_DEL, c->nfd, NULL);
		nss_sock_close(c->fd);
		c->fd = NULL;
	}
	c->ev = 0;
	if (in_handshake(c))
		w->inflight--;
	if (c->state == CS_CONNECTED)
		atomic_fetch_sub(&w->st->connected, 1);
	if (c->waiting_vote && c->cl->event_active)
		event_abort(w, c->cl);
	/* qnetd may have dropped this node before ACKing the other side: not a split brain */
	if (c->vote == VOTE_ACK) {
		c->cl->both_acked_ns = 0;
		atomic_fetch_sub(&w->st->acked, 1);
	}
	if (failing_over(w) && w->sh->revote_ns[c->index] == 0)
		c->fo_lost = true;
	/* qnetd did a full handshake for this connection, which went before its vote */
	if (failing_over(w) && c->tls_done && c->vote != VOTE_ACK) {
		if (c->state != CS_CONNECTED)
			w->st->fo_tls_done++;	/* on_init_reply counts the others */
		w->st->fo_tls_abandoned++;
	}
	c->tls_done = false;
	c->vote = 0;
	c->waiting_vote = false;
	c->echo_outstanding = false;
	tlv_buf_reset(&c->out);
	c->out_off = 0;
	c->in_len = 0;
	c->tls_on = false;
}

static void
check_ramp_done(struct worker *w)
{
	if (atomic_load(&w->st->ramp_done))
		return;
	if (atomic_load(&w->st->connected) + atomic_load(&w->st->gave_up) >= w->nclients)
		atomic_store(&w->st->ramp_done, true);
}

/* Drop the connection; retry later unless retry is false or we are stopping. */
static void
client_fail(struct worker *w, struct bclient *c, uint64_t *counter, bool retry)
{
	bool was_connected = c->state == CS_CONNECTED;
	/* past the TCP connect or not: qdevice paces the two differently */
	bool got_through = c->state > CS_CONNECTING;
	uint64_t now = bench_now_ns();

	if (counter != NULL)
		(*counter)++;
	client_close(w, c);
	if (was_connected)
		w->st->disconnects++;
	if (failing_over(w) && retry) {
		enum failover_retry why = got_through ? RETRY_LOST : RETRY_REFUSED;

		/* timed out before TCP was up: again at once; past it: like a lost one */
		if (c->fo_timed_out && !got_through)
			why = RETRY_TIMED_OUT;
		else if (why == RETRY_REFUSED)
			w->st->fo_refused++;
		c->fo_timed_out = false;
		c->state = CS_IDLE;
		timer_set(w, c, now + failover_retry_delay_ns(w->o, why, rnd(w)));
		return;
	}
	if (!retry || w->phase == PHASE_STOP || ++c->attempts >= MAX_ATTEMPTS) {
		c->state = CS_DEAD;
		timer_clear(w, c);
		atomic_fetch_add(&w->st->gave_up, 1);
		check_ramp_done(w);
		return;
	}
	c->state = CS_IDLE;
	/* like qdevice: a random pause before reconnecting */
	timer_set(w, c, now + 200 * NS_PER_MS + rnd(w) % (1000 * NS_PER_MS));
}

/* NSS: this client's TLS handshake is complete (our Finished is out). */
static void
tls_handshake_done(PRFileDesc *fd, void *arg)
{
	struct bclient *c = arg;
	struct worker_stats *st = c->cl->w->st;
	SSLChannelInfo info;

	c->tls_done = true;
	/* what the handshakes negotiate (the same for all): for the report's floor */
	if (!st->tls_info_set &&
	    SSL_GetChannelInfo(fd, &info, sizeof(info)) == SECSuccess) {
		st->tls_version = info.protocolVersion;
		st->tls_group = (uint16_t)info.keaGroup;
		st->tls_sig_scheme = (uint16_t)info.signatureScheme;
		st->tls_info_set = true;
	}
}

/*
 * --no-verify-server: the simulated nodes take qnetd's certificate without
 * walking its chain. That is the client's CPU, not qnetd's (a real node
 * has its own), and on a shared machine it is taken from qnetd.
 */
static SECStatus
trust_server(void *arg, PRFileDesc *fd, PRBool check_sig, PRBool is_server)
{
	(void)arg;
	(void)fd;
	(void)check_sig;
	(void)is_server;
	return SECSuccess;
}

/*
 * NSS asks for our certificate: the one found at setup. NSS_GetClientAuthData
 * (nss_sock_start_tls_client's hook, as qdevice) searches the DB by nickname
 * on every handshake, a cost of the load generator, not of qnetd.
 */
static SECStatus
client_auth_data(void *arg, PRFileDesc *fd, CERTDistNames *ca_names, CERTCertificate **cert,
    SECKEYPrivateKey **key)
{
	struct worker *w = arg;

	(void)fd;
	(void)ca_names;
	*cert = CERT_DupCertificate(w->client_cert);
	*key = SECKEY_CopyPrivateKey(w->client_key);
	if (*key == NULL) {
		CERT_DestroyCertificate(*cert);
		*cert = NULL;
		return SECFailure;
	}
	return SECSuccess;
}

/* Write what is queued; start TLS once STARTTLS has left. 0 or -EIO. */
static int
pump_out(struct worker *w, struct bclient *c)
{
	while (c->out_off < c->out.len) {
		ssize_t n = nss_sock_send(c->fd, c->out.data + c->out_off,
		    c->out.len - c->out_off);

		if (n == -EAGAIN)
			break;
		if (n < 0)
			return -EIO;
		c->out_off += (size_t)n;
	}
	if (c->out_off < c->out.len)
		return 0;
	tlv_buf_reset(&c->out);
	c->out_off = 0;
	if (c->state == CS_STARTTLS_SENDING) {
		if (nss_sock_start_tls_client(&c->fd, SERVER_CN, CLIENT_NICKNAME, false) != 0)
			return -EIO;
		/* Each simulated node is its own qdevice: no session resumption. */
		if (!w->o->tls_cache && SSL_OptionSet(c->fd, SSL_NO_CACHE, PR_TRUE) != SECSuccess)
			return -EIO;
		if (!w->o->verify_server &&
		    SSL_AuthCertificateHook(c->fd, trust_server, NULL) != SECSuccess)
			return -EIO;
		if (SSL_HandshakeCallback(c->fd, tls_handshake_done, c) != SECSuccess ||
		    SSL_GetClientAuthDataHook(c->fd, client_auth_data, w) != SECSuccess)
			return -EIO;
		c->tls_on = true;
		c->state = CS_WAIT_INIT_REPLY;
		if (queue_init(w, c) != 0)
			return -EIO;
		return pump_out(w, c);
	}
	return 0;
}

static void
start_connect(struct worker *w, struct bclient *c, uint64_t now)
{
	int r;

	if (c->attempts > 0)
		w->st->reconnects++;
	if (w->o->spread_sources && PR_NetAddrFamily(&w->addr) == PR_AF_INET) {
		/* 250 per /24 keeps clear of .0 and .255; 127.1.0.0/16 holds 64,000 */
		PRNetAddr src = { .inet = { .family = PR_AF_INET, .port = 0 } };

		src.inet.ip = PR_htonl(0x7f010000u | ((c->index / 250) % 256) << 8 |
		    (c->index % 250 + 1));
		r = nss_sock_connect_from(&w->addr, &src, &c->fd);
	} else {
		r = nss_sock_connect(&w->addr, &c->fd);
	}
	if (r != 0 && r != -EINPROGRESS) {
		client_fail(w, c, &w->st->connect_errors, true);
		return;
	}
	c->nfd = nss_sock_native_fd(c->fd);
	if (w->o->nodelay) {
		PRSocketOptionData opt = { .option = PR_SockOpt_NoDelay };

		opt.value.no_delay = PR_TRUE;
		(void)PR_SetSocketOption(c->fd, &opt);
	}
	c->state = CS_CONNECTING;
	c->connect_start_ns = now;
	c->tls_on = false;
	c->ev = 0;
	w->inflight++;
	if (w->st->first_connect_ns == 0)
		w->st->first_connect_ns = now;
	timer_set(w, c, now + (failing_over(w) ?
	    (uint64_t)w->o->connect_timeout_ms * NS_PER_MS : HANDSHAKE_TIMEOUT_NS));
	set_events(w, c);
}

/* TCP is up: PREINIT with the cluster name. */
static void
tcp_connected(struct worker *w, struct bclient *c)
{
	c->state = CS_WAIT_PREINIT_REPLY;
	c->ring = ring_of(c->cl, c->node_id);
	if (queue_preinit(c) != 0 || pump_out(w, c) != 0) {
		client_fail(w, c, &w->st->connect_errors, true);
		return;
	}
	set_events(w, c);
}

/* ---- membership changes ---- */

static void
event_abort(struct worker *w, struct bcluster *cl)
{
	cl->event_active = false;
	for (unsigned i = 0; i < cl->n; i++)
		cl->nodes[i].waiting_vote = false;
	if (measuring(w))
		w->st->events_timed_out++;
}

static void
event_done(struct worker *w, struct bcluster *cl, uint64_t now)
{
	bool acked[3] = { false, false, false };

	cl->event_active = false;
	if (!measuring(w))
		return;
	w->st->events_settled++;
	hist_add(&w->st->decision, now - cl->event_t0);
	for (unsigned i = 0; i < cl->n; i++)
		if (cl->nodes[i].vote == VOTE_ACK)
			acked[side_of(cl, cl->nodes[i].node_id)] = true;
	/*
	 * Both sides ACKed. If qnetd had dropped one of the nodes (dead peer)
	 * before ACKing the other side, that is correct, and we will read the
	 * EOF shortly: only a double ACK that outlives the grace period counts.
	 */
	if (acked[1] && acked[2])
		cl->both_acked_ns = now;
}

/* A vote arrived (VOTE_INFO or a reply): does it settle this node? */
static void
note_vote(struct worker *w, struct bclient *c, uint8_t vote, const struct ring_id *ring,
    uint64_t now)
{
	struct bcluster *cl = c->cl;

	if ((vote != VOTE_ACK && vote != VOTE_NACK) || !ring_id_equal(ring, &c->ring))
		return;
	if (vote == VOTE_ACK && c->vote != VOTE_ACK)
		atomic_fetch_add(&w->st->acked, 1);
	else if (vote != VOTE_ACK && c->vote == VOTE_ACK)
		atomic_fetch_sub(&w->st->acked, 1);
	if (vote == VOTE_ACK && c->fo_lost) {
		c->fo_lost = false;
		w->sh->revote_ns[c->index] = now;
		atomic_fetch_add(&w->st->revoted, 1);
	}
	c->vote = vote;
	if (!c->waiting_vote)
		return;
	c->waiting_vote = false;
	if (measuring(w))
		hist_add(&w->st->node_decision, now - c->list_sent_ns);
	if (cl->event_active && --cl->pending == 0)
		event_done(w, cl, now);
}

static bool
cluster_ready(const struct bcluster *cl)
{
	if (cl->event_active || cl->n < 2)
		return false;
	for (unsigned i = 0; i < cl->n; i++)
		if (cl->nodes[i].state != CS_CONNECTED)
			return false;
	return true;
}

/*
 * Split the cluster into nodes 1..n/2 and the rest, or heal it: every
 * node reports its new membership with a new ring, then its quorum list,
 * as corosync + qdevice do at the end of a sync.
 */
static void
event_start(struct worker *w, struct bcluster *cl, uint64_t now)
{
	cl->split = !cl->split;
	cl->ring_seq++;
	cl->event_active = true;
	cl->event_t0 = now;
	cl->pending = cl->n;
	cl->both_acked_ns = 0;
	w->st->events_started++;
	for (unsigned i = 0; i < cl->n; i++) {
		struct bclient *c = &cl->nodes[i];

		c->ring = ring_of(cl, c->node_id);
		c->waiting_vote = true;
		c->vote = 0;
		c->list_sent_ns = now;
	}
	for (unsigned i = 0; i < cl->n && cl->event_active; i++) {
		struct bclient *c = &cl->nodes[i];

		if (c->state != CS_CONNECTED)
			continue;
		if (queue_node_list(c, NODE_LIST_MEMBERSHIP) != 0 ||
		    queue_node_list(c, NODE_LIST_QUORUM) != 0 || pump_out(w, c) != 0) {
			client_fail(w, c, &w->st->disconnects, true);
			continue;
		}
		set_events(w, c);
	}
}

static void
run_events(struct worker *w, uint64_t now)
{
	unsigned guard = 0;

	if (w->event_interval_ns == 0 || !measuring(w))
		return;
	while (w->next_event_ns <= now && guard++ < 64) {
		w->next_event_ns += w->event_interval_ns;
		for (unsigned k = 0; k < w->ncl; k++) {
			struct bcluster *cl = &w->clusters[w->event_cursor];

			w->event_cursor = (w->event_cursor + 1) % w->ncl;
			if (cluster_ready(cl)) {
				event_start(w, cl, now);
				break;
			}
		}
	}
	if (now >= w->next_scan_ns) {
		w->next_scan_ns = now + 100 * NS_PER_MS;
		for (unsigned i = 0; i < w->ncl; i++) {
			struct bcluster *cl = &w->clusters[i];

			if (cl->event_active &&
			    now - cl->event_t0 > w->o->settle_timeout_ms * NS_PER_MS)
				event_abort(w, cl);
			if (cl->both_acked_ns != 0 && now - cl->both_acked_ns > 2 * w->hb_ns) {
				cl->both_acked_ns = 0;
				w->st->events_split_brain++;
				report(w, &cl->nodes[0], "both partitions hold ACK", NULL);
			}
		}
	}
}

/* ---- receiving ---- */

static bool
lists_option(const struct msg *m, uint16_t opt)
{
	for (size_t i = 0; i < m->supported_options_count; i++)
		if (m->supported_options[i] == opt)
			return true;
	return false;
}

static int
on_preinit_reply(struct worker *w, struct bclient *c, const struct msg *m)
{
	bool tls;

	if (c->state != CS_WAIT_PREINIT_REPLY || !m->seq_set || m->seq != c->expect_seq ||
	    !m->tls_supported_set || !m->tls_client_cert_required_set) {
		w->st->proto_errors++;
		return -EPROTO;
	}
	/* docs/protocol.md 2.3 table, with the client at "on" (--tls) or "off" */
	if (m->tls_supported == TLS_REQUIRED && !w->o->tls) {
		report(w, c, "server requires TLS", "run with --tls");
		return -EPERM;
	}
	if (m->tls_supported == TLS_UNSUPPORTED && w->o->tls) {
		report(w, c, "server has TLS off", "run with --no-tls");
		return -EPERM;
	}
	tls = w->o->tls;
	if (tls) {
		c->state = CS_STARTTLS_SENDING;
		return queue_seq_only(c, MSG_TYPE_STARTTLS, ++c->seq);
	}
	c->state = CS_WAIT_INIT_REPLY;
	return queue_init(w, c);
}

static int
on_init_reply(struct worker *w, struct bclient *c, const struct msg *m, uint64_t now)
{
	char buf[64];

	if (c->state != CS_WAIT_INIT_REPLY || !m->seq_set || m->seq != c->expect_seq ||
	    !m->reply_error_code_set) {
		w->st->proto_errors++;
		return -EPROTO;
	}
	if (m->reply_error_code != REPLY_NO_ERROR) {
		w->st->server_errors++;
		snprintf(buf, sizeof(buf), "%s", reply_error_code_name(m->reply_error_code));
		report(w, c, "INIT refused", buf);
		return -EPROTO;
	}
	hist_add(&w->st->handshake, now - c->connect_start_ns);
	if (failing_over(w)) {
		w->st->fo_handshakes++;
		w->st->fo_tls_done += c->tls_done;
	}
	if (m->supported_options_set && lists_option(m, OPT_KEEP_ACTIVE_PARTITION_TIE_BREAKER) &&
	    queue_set_option_kap(c) != 0)
		return -EIO;
	if (queue_node_list(c, NODE_LIST_INITIAL_CONFIG) != 0 ||
	    queue_node_list(c, NODE_LIST_MEMBERSHIP) != 0 ||
	    queue_node_list(c, NODE_LIST_QUORUM) != 0)
		return -EIO;
	w->inflight--;
	c->state = CS_CONNECTED;
	c->attempts = 0;
	c->echo_seq = 0;
	c->echo_outstanding = false;
	atomic_fetch_add(&w->st->connected, 1);
	atomic_fetch_add(&w->st->ever_connected, 1);
	w->st->last_connected_ns = now;
	check_ramp_done(w);
	/* heartbeats start at a random phase so the load is even */
	timer_set(w, c, now + rnd(w) % w->hb_ns + 1);
	return 0;
}

static void
on_echo_reply(struct worker *w, struct bclient *c, const struct msg *m, uint64_t now)
{
	uint32_t age;

	if (!m->seq_set)
		return;
	age = c->echo_seq - m->seq;
	if (age >= 4)
		return;		/* older than we remember */
	if (age == 0)
		c->echo_outstanding = false;
	if (measuring(w)) {
		w->st->echo_answered++;
		hist_add(&w->st->rtt, now - c->echo_sent_ns[m->seq % 4]);
	}
}

/* One whole message from the server. 0, or <0 to drop the connection. */
static int
handle_msg(struct worker *w, struct bclient *c, const uint8_t *buf, size_t len, uint64_t now)
{
	struct msg m;
	int r = 0;

	if (msg_decode(buf, len, &m) != 0) {
		msg_fini(&m);
		w->st->proto_errors++;
		report(w, c, "undecodable message from the server", NULL);
		return -EBADMSG;
	}
	switch (m.type) {
	case MSG_TYPE_ECHO_REPLY:
		on_echo_reply(w, c, &m, now);
		break;
	case MSG_TYPE_PREINIT_REPLY:
		r = on_preinit_reply(w, c, &m);
		break;
	case MSG_TYPE_INIT_REPLY:
		r = on_init_reply(w, c, &m, now);
		break;
	case MSG_TYPE_SERVER_ERROR:
		w->st->server_errors++;
		report(w, c, "SERVER_ERROR", m.reply_error_code_set ?
		    reply_error_code_name(m.reply_error_code) : "no code");
		r = -EPROTO;
		break;
	case MSG_TYPE_SET_OPTION_REPLY:
		break;
	case MSG_TYPE_NODE_LIST_REPLY:
		if (c->state != CS_CONNECTED) {
			r = -EPROTO;
			break;
		}
		if (m.vote_set && m.ring_id_set)
			note_vote(w, c, m.vote, &m.ring_id, now);
		break;
	case MSG_TYPE_VOTE_INFO:
		if (c->state != CS_CONNECTED || !m.seq_set || !m.vote_set || !m.ring_id_set) {
			w->st->proto_errors++;
			r = -EPROTO;
			break;
		}
		if (measuring(w))
			w->st->vote_infos++;
		r = queue_seq_only(c, MSG_TYPE_VOTE_INFO_REPLY, m.seq);
		note_vote(w, c, m.vote, &m.ring_id, now);
		break;
	default:
		w->st->proto_errors++;
		report(w, c, "unexpected message", msg_type_name(m.type));
		r = -EPROTO;
		break;
	}
	msg_fini(&m);
	return r;
}

/* Split the input into whole messages. */
static int
parse_input(struct worker *w, struct bclient *c, uint64_t now)
{
	size_t off = 0;
	int r = 0;

	while (c->in_len - off >= MSG_HEADER_LEN) {
		uint32_t len = msg_header_length(c->in + off);

		if (len > QNET_DEFAULT_MAX_MSG_SIZE - MSG_HEADER_LEN) {
			w->st->proto_errors++;
			return -EMSGSIZE;
		}
		if (c->in_len - off - MSG_HEADER_LEN < len)
			break;
		r = handle_msg(w, c, c->in + off, MSG_HEADER_LEN + len, now);
		off += MSG_HEADER_LEN + len;
		if (r < 0)
			return r;
	}
	if (off > 0) {
		memmove(c->in, c->in + off, c->in_len - off);
		c->in_len -= off;
	}
	return 0;
}

/*
 * Read until the socket would block: NSS may hold decrypted records that
 * epoll cannot see, so stopping early could strand a reply.
 */
static int
read_all(struct worker *w, struct bclient *c, uint64_t now)
{
	for (;;) {
		ssize_t n;
		int r;

		if (c->in_cap - c->in_len < IN_BUF_MIN / 2) {
			size_t cap = c->in_cap ? c->in_cap * 2 : IN_BUF_MIN;
			uint8_t *p;

			if (cap > 2 * QNET_DEFAULT_MAX_MSG_SIZE)
				return -EMSGSIZE;
			p = realloc(c->in, cap);
			if (p == NULL)
				return -ENOMEM;
			c->in = p;
			c->in_cap = cap;
		}
		n = nss_sock_recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
		if (n == -EAGAIN)
			return 0;
		if (n == 0)
			return -ECONNRESET;
		if (n < 0)
			return -EIO;
		c->in_len += (size_t)n;
		r = parse_input(w, c, now);
		if (r < 0)
			return r;
		/* PREINIT_REPLY may have queued STARTTLS: wrap before reading on */
		if (c->state == CS_STARTTLS_SENDING && pump_out(w, c) != 0)
			return -EIO;
	}
}

static void
client_io(struct worker *w, struct bclient *c, uint32_t events, uint64_t now)
{
	int r;

	if (c->state == CS_CONNECTING) {
		r = nss_sock_connect_finish(c->fd);
		if (r == -EINPROGRESS)
			return;
		if (r != 0) {
			client_fail(w, c, &w->st->connect_errors, true);
			return;
		}
		tcp_connected(w, c);
		return;
	}
	if (c->fd == NULL)
		return;
	r = read_all(w, c, now);
	if (r == 0)
		r = pump_out(w, c);
	if (r != 0) {
		bool fatal = r == -EPERM;
		uint64_t *counter = &w->st->disconnects;

		if (c->state != CS_CONNECTED)
			counter = c->tls_on ? &w->st->tls_errors : &w->st->connect_errors;
		if (c->state != CS_CONNECTED && c->tls_on && r == -EIO)
			report(w, c, "TLS handshake failed", nss_sock_error());
		if (r == -EPROTO || r == -EBADMSG || r == -EMSGSIZE)
			counter = NULL;	/* already counted where it was found */
		client_fail(w, c, counter, !fatal);
		return;
	}
	set_events(w, c);
}

/* ---- timers and the connect queue ---- */

static void
echo_tick(struct worker *w, struct bclient *c, uint64_t now)
{
	uint64_t next = c->timer_ns + w->hb_ns;
	uint64_t jitter = w->hb_ns / 50;

	if (c->echo_outstanding && measuring(w))
		w->st->echo_missed++;
	if (queue_seq_only(c, MSG_TYPE_ECHO_REQUEST, ++c->echo_seq) != 0) {
		client_fail(w, c, &w->st->disconnects, true);
		return;
	}
	c->echo_sent_ns[c->echo_seq % 4] = now;
	c->echo_outstanding = true;
	if (measuring(w))
		w->st->echo_sent++;
	if (pump_out(w, c) != 0) {
		client_fail(w, c, &w->st->disconnects, true);
		return;
	}
	set_events(w, c);
	/* heartbeat period +-1% so clients drift apart like real ones */
	if (jitter > 0)
		next = next - jitter / 2 + rnd(w) % jitter;
	if (next <= now)
		next = now + w->hb_ns;
	timer_set(w, c, next);
}

static void
enqueue_connect(struct worker *w, struct bclient *c)
{
	if (c->queued)
		return;
	c->queued = true;
	c->next_q = NULL;
	if (w->q_tail != NULL)
		w->q_tail->next_q = c;
	else
		w->q_head = c;
	w->q_tail = c;
}

static void
run_timers(struct worker *w, uint64_t now)
{
	unsigned guard = 0;

	while (w->heap_len > 0 && w->heap[0]->timer_ns <= now && guard++ < 8192) {
		struct bclient *c = w->heap[0];

		switch (c->state) {
		case CS_IDLE:
			timer_clear(w, c);
			enqueue_connect(w, c);
			break;
		case CS_CONNECTED:
			echo_tick(w, c, now);
			break;
		case CS_DEAD:
			timer_clear(w, c);
			break;
		default:
			report(w, c, "handshake timed out", NULL);
			if (failing_over(w)) {
				c->fo_timed_out = true;
				w->st->fo_timeouts++;
			}
			client_fail(w, c, &w->st->connect_errors, true);
			break;
		}
	}
}

static void
run_connects(struct worker *w, uint64_t now)
{
	double burst = w->rate / 50.0 > 1.0 ? w->rate / 50.0 : 1.0;

	/* real qdevices do not queue for each other: no pacing in the failover */
	if (failing_over(w)) {
		while (w->q_head != NULL) {
			struct bclient *c = w->q_head;

			w->q_head = c->next_q;
			if (w->q_head == NULL)
				w->q_tail = NULL;
			c->queued = false;
			start_connect(w, c, now);
		}
		return;
	}

	w->tokens += (double)(now - w->tokens_ns) * w->rate / (double)NS_PER_S;
	if (w->tokens > burst)
		w->tokens = burst;
	w->tokens_ns = now;
	while (w->q_head != NULL && w->tokens >= 1.0 && w->inflight < w->inflight_max &&
	    w->phase != PHASE_STOP) {
		struct bclient *c = w->q_head;

		w->q_head = c->next_q;
		if (w->q_head == NULL)
			w->q_tail = NULL;
		c->queued = false;
		w->tokens -= 1.0;
		start_connect(w, c, now);
	}
}

/* ---- setup, phases, main loop ---- */

/* --nssdb with "%u": this worker's own DB (its certificate names only its clusters) */
static char *
worker_nssdb(const char *pattern, unsigned index)
{
	const char *at = strstr(pattern, "%u");
	size_t len = strlen(pattern) + 16;
	char *path = malloc(len);

	if (path == NULL)
		return NULL;
	if (at == NULL)
		snprintf(path, len, "%s", pattern);
	else
		snprintf(path, len, "%.*s%u%s", (int)(at - pattern), pattern, index, at + 2);
	return path;
}

static int
setup(struct worker *w)
{
	const struct bench_opts *o = w->o;
	PRNetAddr *addrs;
	size_t naddr;
	unsigned ci = 0;
	char *db = NULL;
	int r;

	/*
	 * Not nss_sock_init(): NSS_Init() implies NSS_INIT_OPTIMIZESPACE, whose
	 * 32-bucket softoken session table makes every TLS record cost O(sockets)
	 * and would make this load generator, not qnetd, the bottleneck.
	 */
	if (o->tls) {
		db = worker_nssdb(o->nssdb, w->index);
		r = db != NULL &&
		    NSS_Initialize(db, "", "", SECMOD_DB, NSS_INIT_READONLY) == SECSuccess &&
		    NSS_SetDomesticPolicy() == SECSuccess ? 0 : -EIO;
	} else {
		r = nss_sock_init_nodb();
	}
	if (r != 0) {
		fprintf(stderr, "qnetd-bench[w%u]: cannot initialise NSS%s%s: %s\n", w->index,
		    o->tls ? " with " : "", db != NULL ? db : "", nss_sock_error());
		free(db);
		return -1;
	}
	free(db);
	if (o->tls) {
		w->client_cert = PK11_FindCertFromNickname(CLIENT_NICKNAME, NULL);
		w->client_key = w->client_cert != NULL ?
		    PK11_FindKeyByAnyCert(w->client_cert, NULL) : NULL;
		if (w->client_key == NULL) {
			fprintf(stderr, "qnetd-bench[w%u]: no \"%s\" with its key in %s\n", w->index,
			    CLIENT_NICKNAME, o->nssdb);
			return -1;
		}
	}
	if (nss_sock_resolve(o->host, o->port, 0, &addrs, &naddr) != 0) {
		fprintf(stderr, "qnetd-bench[w%u]: cannot resolve %s\n", w->index, o->host);
		return -1;
	}
	w->addr = addrs[0];
	free(addrs);

	/* this worker owns clusters index, index + workers, index + 2 * workers, ... */
	for (unsigned i = w->index; i < o->clusters; i += o->workers)
		w->ncl++;
	w->nclients = w->ncl * o->nodes;
	w->clusters = calloc(w->ncl ? w->ncl : 1, sizeof(*w->clusters));
	w->clients = calloc(w->nclients ? w->nclients : 1, sizeof(*w->clients));
	w->heap = calloc(w->nclients ? w->nclients : 1, sizeof(*w->heap));
	if (w->clusters == NULL || w->clients == NULL || w->heap == NULL) {
		fprintf(stderr, "qnetd-bench[w%u]: out of memory\n", w->index);
		return -1;
	}
	for (unsigned i = w->index; i < o->clusters; i += o->workers, ci++) {
		struct bcluster *cl = &w->clusters[ci];

		cl->w = w;
		snprintf(cl->name, sizeof(cl->name), "c%06u%s", i, o->cluster_suffix);
		cl->name_len = strlen(cl->name);
		cl->n = o->nodes;
		cl->ring_seq = 1;
		cl->nodes = &w->clients[ci * o->nodes];
		for (unsigned k = 0; k < o->nodes; k++) {
			struct bclient *c = &cl->nodes[k];

			c->cl = cl;
			c->node_id = k + 1;
			c->index = i * o->nodes + k;
			c->seq = 1;
			c->heap_idx = NOT_IN_HEAP;
			c->state = CS_IDLE;
			tlv_buf_init(&c->out, OUT_BUF_MAX);
		}
	}
	/* connect cluster by cluster, node by node */
	for (unsigned i = 0; i < w->nclients; i++)
		enqueue_connect(w, &w->clients[i]);
	w->st->clients = w->nclients;
	w->rate = (double)o->rate / o->workers;
	w->inflight_max = o->inflight / o->workers > 0 ? o->inflight / o->workers : 1;
	w->hb_ns = (uint64_t)o->hb_ms * NS_PER_MS;
	w->rng = 0x9e3779b97f4a7c15ULL * (w->index + 1) + (uint64_t)getpid();
	w->ep = epoll_create1(EPOLL_CLOEXEC);
	if (w->ep < 0) {
		perror("qnetd-bench: epoll_create1");
		return -1;
	}
	if (w->nclients == 0)
		atomic_store(&w->st->ramp_done, true);
	return 0;
}

static void
enter_measure(struct worker *w, uint64_t now)
{
	struct worker_stats *st = w->st;
	unsigned eligible = 0, per_period;

	st->echo_sent = st->echo_answered = st->echo_missed = 0;
	st->events_started = st->events_settled = st->events_timed_out = 0;
	st->events_split_brain = st->vote_infos = 0;
	memset(&st->rtt, 0, sizeof(st->rtt));
	memset(&st->decision, 0, sizeof(st->decision));
	memset(&st->node_decision, 0, sizeof(st->node_decision));
	for (unsigned i = 0; i < w->ncl; i++)
		eligible += w->clusters[i].n >= 2;
	if (w->o->partition_every_s == 0 || eligible == 0)
		return;
	/* spread this period's changes evenly over the period */
	per_period = (unsigned)(w->o->partition_frac * eligible + 0.5);
	if (per_period == 0)
		per_period = 1;
	w->event_interval_ns = (uint64_t)w->o->partition_every_s * NS_PER_S / per_period;
	w->next_event_ns = now + rnd(w) % w->event_interval_ns;
	w->next_scan_ns = now;
}

static uint64_t
next_wakeup(const struct worker *w, uint64_t now)
{
	uint64_t t = now + 20 * NS_PER_MS;	/* phase changes are polled */

	if (w->heap_len > 0 && w->heap[0]->timer_ns < t)
		t = w->heap[0]->timer_ns;
	if (w->q_head != NULL && w->inflight < w->inflight_max && now + NS_PER_MS < t)
		t = now + NS_PER_MS;
	if (measuring(w) && w->event_interval_ns > 0 && w->next_event_ns < t)
		t = w->next_event_ns;
	return t;
}

int
bench_worker_run(const struct bench_opts *o, struct bench_shared *sh, unsigned index)
{
	struct epoll_event evs[EVENT_BATCH];
	struct worker w;

	memset(&w, 0, sizeof(w));
	w.o = o;
	w.sh = sh;
	w.st = &sh->w[index];
	w.index = index;
	w.phase = PHASE_RAMP;
	if (setup(&w) != 0) {
		atomic_store(&w.st->ramp_done, true);
		atomic_store(&w.st->exited, true);
		return 1;
	}
	w.tokens_ns = bench_now_ns();
	if (o->storm) {
		/* --storm: nobody holds a vote yet and everybody connects now, qdevice-paced */
		w.phase = PHASE_FAILOVER;
		for (unsigned i = 0; i < w.nclients; i++)
			w.clients[i].fo_lost = true;
		w.st->fo_cpu_s = -own_cpu_s();
	}

	while (w.phase != PHASE_STOP) {
		uint64_t now = bench_now_ns(), wake = next_wakeup(&w, now);
		int timeout_ms = wake > now ? (int)((wake - now + NS_PER_MS - 1) / NS_PER_MS) : 0;
		int n = epoll_wait(w.ep, evs, EVENT_BATCH, timeout_ms);
		int phase;

		now = bench_now_ns();
		for (int i = 0; i < n; i++)
			client_io(&w, evs[i].data.ptr, evs[i].events, now);
		run_timers(&w, now);
		run_connects(&w, now);
		run_events(&w, now);

		phase = atomic_load(&sh->phase);
		if (phase != w.phase) {
			if (phase == PHASE_MEASURE) {
				enter_measure(&w, now);
				w.st->cpu_window_s = -own_cpu_s();
			}
			if (phase == PHASE_STOP && w.phase == PHASE_MEASURE)
				w.st->cpu_window_s += own_cpu_s();
			if (phase == PHASE_FAILOVER)
				w.st->fo_cpu_s = -own_cpu_s();
			if (phase == PHASE_STOP && w.phase == PHASE_FAILOVER)
				w.st->fo_cpu_s += own_cpu_s();
			w.phase = phase;
		}
	}

	for (unsigned i = 0; i < w.nclients; i++) {
		struct bclient *c = &w.clients[i];

		client_close(&w, c);
		tlv_buf_fini(&c->out);
		free(c->in);
	}
	close(w.ep);
	free(w.heap);
	free(w.clients);
	free(w.clusters);
	if (w.client_key != NULL)
		SECKEY_DestroyPrivateKey(w.client_key);
	if (w.client_cert != NULL)
		CERT_DestroyCertificate(w.client_cert);
	nss_sock_shutdown();
	atomic_store(&w.st->exited, true);
	return 0;
}
