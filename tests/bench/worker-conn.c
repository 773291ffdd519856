/*
 * tests/bench/worker-conn.c: a bench client's connection: TCP connect
 * (optionally from its own loopback source), the STARTTLS upgrade and
 * NSS's callbacks, reading and writing through NSS, and closing or
 * failing with qdevice's retry pacing.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/epoll.h>

#include <ssl.h>

#include "worker.h"

#define HANDSHAKE_TIMEOUT_NS	(60 * NS_PER_S)
#define MAX_ATTEMPTS		20	/* connection attempts before a client gives up */
#define IN_BUF_MIN		512
#define SERVER_CN		"Qnetd Server"

/* ---- connection plumbing ---- */

void
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

void
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

void
check_ramp_done(struct worker *w)
{
	if (atomic_load(&w->st->ramp_done))
		return;
	if (atomic_load(&w->st->connected) + atomic_load(&w->st->gave_up) >= w->nclients)
		atomic_store(&w->st->ramp_done, true);
}

/* Drop the connection; retry later unless retry is false or we are stopping. */
void
client_fail(struct worker *w, struct bclient *c, uint64_t *counter, bool retry)
{
	bool was_connected = c->state == CS_CONNECTED;
	/* past the TCP connect or not: qdevice paces the two differently */
	bool got_through = c->state > CS_CONNECTING;
	uint64_t now = clock_now_ns();

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
int
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

void
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

void
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
