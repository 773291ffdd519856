/*
 * qnetd/client-input.c: a connection's receive side: reads (exact before a
 * possible STARTTLS, greedy after), framing into whole messages handed to
 * the layers above (conn_ops->message, client.h), the per-wakeup budget
 * and the backpressure that pauses reading. The rest of a connection's
 * life is in client.c.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

#include "common/clock.h"
#include "client.h"
#include "client-io.h"
#include "settings.h"

/*
 * Backpressure for a client that sends requests faster than it reads the
 * replies (pipelining, or never reading at all). No message of it is taken
 * up while its send queue holds read_stop_len() messages: reading pauses
 * instead (what was read stays in c->unread), and the kernel's socket
 * buffers then hold the client back. The rest of max_client_send_buffers
 * stays free for what the server sends on its own (a VOTE_INFO push,
 * cluster.c), which cannot wait. Reading starts again once the queue is
 * down to half the limit. A client that never reads stays paused until
 * the dead-peer timer drops it: no message of it is taken up, so none
 * counts as a sign of life.
 */
#define PUSH_RESERVE_MIN	2

static size_t
read_stop_len(const struct qnetd_client *c)
{
	size_t max = c->conns->settings->max_client_send_buffers;
	size_t reserve = max / 4 > PUSH_RESERVE_MIN ? max / 4 : PUSH_RESERVE_MIN;

	return max > reserve ? max - reserve : 1;
}

/* May the client's next message be taken up? If not, reading pauses. */
static bool
input_blocked(struct qnetd_client *c)
{
	size_t stop = read_stop_len(c);

	if (c->read_paused)
		return true;
	if (c->send_queue_len < stop)
		return false;
	qnetd_client_flush(c);	/* what the socket takes now is room in the queue */
	if (c->closing)
		return true;
	if (c->send_queue_len < stop)
		return false;
	qb_log(LOG_DEBUG, "%s: %zu replies not taken by the peer: reading paused", c->ident,
	    c->send_queue_len);
	c->read_paused = true;
	qnetd_client_set_poll_mask(c, true);
	return true;
}

/*
 * A paused client's queue went out (it is woken by POLLOUT, see
 * qnetd_client_set_poll_mask): at half the limit reading resumes, and
 * its caller takes up what was kept in c->unread. Returns true when
 * reading goes on.
 */
static bool
resume_reading(struct qnetd_client *c, int revents)
{
	qnetd_client_flush(c);
	if (c->closing)
		return false;
	if (c->send_queue_len > read_stop_len(c) / 2) {
		if (revents & (POLLHUP | POLLERR))
			qnetd_client_disconnect(c, "connection lost with replies unsent");
		return false;
	}
	qb_log(LOG_DEBUG, "%s: replies taken by the peer: reading again", c->ident);
	c->read_paused = false;
	qnetd_client_set_poll_mask(c, c->send_queue_len > 0);
	return !c->closing;
}

static int
ensure_body(struct qnetd_client *c, size_t need)
{
	uint8_t *p;

	if (need <= c->body_cap)
		return 0;
	p = realloc(c->body, need);
	if (p == NULL)
		return -ENOMEM;
	c->body = p;
	c->body_cap = need;
	return 0;
}

static void
send_bare_error(struct qnetd_client *c, uint16_t code)
{
	struct msg m;

	msg_init(&m, MSG_TYPE_SERVER_ERROR);
	m.reply_error_code_set = true;
	m.reply_error_code = code;
	if (qnetd_client_queue(c, &m) != 0)
		qnetd_client_disconnect(c, "send queue full");
}

/* The 6-byte header is complete: decide whether to keep or discard the body. */
static void
header_done(struct qnetd_client *c)
{
	uint16_t type = msg_header_type(c->hdr);
	uint32_t len = msg_header_length(c->hdr);
	size_t max = c->conns->settings->max_client_receive_size;

	c->body_len = len;
	c->body_got = 0;
	c->skip_error = 0;
	if (!msg_type_valid(type)) {
		qb_log(LOG_WARNING, "%s: unsupported message type %u", c->ident, type);
		c->skip_error = REPLY_UNSUPPORTED_MESSAGE;
	} else if (len > max - MSG_HEADER_LEN) {
		qb_log(LOG_WARNING, "%s: message of %zu bytes is over the limit of %zu",
		    c->ident, (size_t)len + MSG_HEADER_LEN, max);
		c->skip_error = REPLY_MESSAGE_TOO_LONG;
	} else if (ensure_body(c, MSG_HEADER_LEN + len) != 0) {
		qb_log(LOG_ERR, "%s: cannot allocate a receive buffer", c->ident);
		c->skip_error = REPLY_ERROR_DECODING_MSG;
	} else {
		memcpy(c->body, c->hdr, MSG_HEADER_LEN);
	}
}

static void
message_done(struct qnetd_client *c)
{
	uint16_t skip = c->skip_error;

	c->hdr_got = 0;
	c->skip_error = 0;
	if (skip != 0) {
		send_bare_error(c, skip);
		return;
	}
	qnetd_dpd_touch(&c->dpd, clock_now_ns());
	if (c->tls_started) {
		c->tls_message_seen = true;
		if (qnetd_client_handshake_end(c) && !c->init_received)
			qnetd_client_dpd_set_interval(c, QNETD_PRE_INIT_HB_MS);
	}
	c->conns->ops->message(c, c->body, MSG_HEADER_LEN + c->body_len);
}

/*
 * Move bytes of the stream into the framing state: header, then the
 * announced body; every completed message is dispatched at once. Stops
 * early when the client is being dropped, or once a message completed
 * past `deadline` (this wakeup's budget, see qnetd_client_io()). Returns
 * the bytes taken.
 */
static size_t
feed(struct qnetd_client *c, const uint8_t *p, size_t n, uint64_t deadline)
{
	const uint8_t *start = p;

	while (n > 0 && !c->closing) {
		size_t take;

		if (c->hdr_got == 0 && input_blocked(c))
			break;
		if (c->hdr_got < MSG_HEADER_LEN) {
			take = MSG_HEADER_LEN - c->hdr_got;
			if (take > n)
				take = n;
			memcpy(c->hdr + c->hdr_got, p, take);
			c->hdr_got += take;
			p += take;
			n -= take;
			if (c->hdr_got < MSG_HEADER_LEN)
				break;
			header_done(c);
			if (!c->tls_started && c->conns->tls_loaded &&
			    msg_header_type(c->hdr) == MSG_TYPE_STARTTLS &&
			    c->body_len < n) {
				/*
				 * Only the plaintext greedy reader (after INIT) gets
				 * here: the bytes behind STARTTLS are the client's TLS
				 * handshake and we have already taken them from the
				 * socket. No qdevice starts TLS after INIT.
				 */
				qb_log(LOG_WARNING, "%s: STARTTLS after INIT with data behind it",
				    c->ident);
				qnetd_client_disconnect(c, "STARTTLS after INIT");
				break;
			}
			if (c->body_len == 0) {
				message_done(c);
				if (clock_now_ns() >= deadline)
					break;
			}
			continue;
		}
		take = c->body_len - c->body_got;
		if (take > n)
			take = n;
		if (c->skip_error == 0)
			memcpy(c->body + MSG_HEADER_LEN + c->body_got, p, take);
		c->body_got += take;
		p += take;
		n -= take;
		if (c->body_got == c->body_len) {
			message_done(c);
			if (clock_now_ns() >= deadline)
				break;
		}
	}
	return (size_t)(p - start);
}

/*
 * Keep what feed() left of a chunk for the next wakeup. The buffer is
 * refilled only once empty, so it never holds more than one chunk.
 * 0, or -1 when the client had to be dropped.
 */
static int
keep_unread(struct qnetd_client *c, const uint8_t *p, size_t n)
{
	uint8_t *b;

	if (n == 0 || c->closing)
		return c->closing ? -1 : 0;
	if (n > c->unread_cap) {
		b = realloc(c->unread, n);
		if (b == NULL) {
			qb_log(LOG_ERR, "%s: cannot keep %zu received bytes", c->ident, n);
			qnetd_client_disconnect(c, "out of memory");
			return -1;
		}
		c->unread = b;
		c->unread_cap = n;
	}
	memmove(c->unread, p, n);
	c->unread_len = n;
	return 0;
}

/* Dispatch the unread bytes within the budget; what is left stays. */
static void
drain_unread(struct qnetd_client *c, uint64_t deadline)
{
	size_t n = c->unread_len, used;

	c->unread_len = 0;
	used = feed(c, c->unread, n, deadline);
	(void)keep_unread(c, c->unread + used, n - used);
}

/* A receive returned 0 (EOF) or an error other than "would block". */
static void
read_failed(struct qnetd_client *c, ssize_t n)
{
	if (n == 0) {
		qnetd_client_disconnect(c, "connection closed by peer");
	} else if (c->tls_started && !c->tls_message_seen) {
		qb_log(LOG_WARNING, "%s: TLS handshake failed: %s", c->ident, nss_sock_error());
		c->conns->stats->tls_handshake_failures++;
		qnetd_client_disconnect(c, "TLS handshake failed");
	} else {
		qb_log(c->tls_started ? LOG_WARNING : LOG_INFO, "%s: receive failed: %s",
		    c->ident, nss_sock_error());
		qnetd_client_disconnect(c, "receive error");
	}
}

/*
 * Exact reads, for a plaintext stream that may still switch to TLS: one
 * header, then exactly the announced body, never more, because the bytes
 * after a STARTTLS message are the TLS handshake.
 * Returns 2 when a message was completed, 1 on progress, 0 when the socket
 * would block, -1 when the client is gone.
 */
static int
read_exact_step(struct qnetd_client *c)
{
	uint8_t sink[4096];
	size_t want;
	ssize_t n;

	if (c->hdr_got == 0 && input_blocked(c))
		return c->closing ? -1 : 0;
	if (c->hdr_got < MSG_HEADER_LEN) {
		n = nss_sock_recv(c->fd, c->hdr + c->hdr_got, MSG_HEADER_LEN - c->hdr_got);
		if (n > 0) {
			c->hdr_got += (size_t)n;
			if (c->hdr_got < MSG_HEADER_LEN)
				return 1;
			header_done(c);
			if (c->body_len != 0)
				return 1;
			message_done(c);
			return 2;
		}
	} else {
		want = c->body_len - c->body_got;
		if (c->skip_error != 0)
			n = nss_sock_recv(c->fd, sink, want < sizeof(sink) ? want : sizeof(sink));
		else
			n = nss_sock_recv(c->fd, c->body + MSG_HEADER_LEN + c->body_got, want);
		if (n > 0) {
			c->body_got += (size_t)n;
			if (c->body_got < c->body_len)
				return 1;
			message_done(c);
			return 2;
		}
	}
	if (n == -EAGAIN)
		return 0;
	read_failed(c, n);
	return -1;
}

/* Chunk for greedy reads: one TLS record's plaintext at most (16 KiB). */
#define RECV_CHUNK	16384

/*
 * Greedy reads, once the stream is not expected to switch to TLS any more
 * (TLS is up, this server has no TLS, or INIT was done in plaintext):
 * read whatever is there into the shared chunk and dispatch every complete
 * message from it. One receive per wakeup instead of header + body + the
 * one that says "would block".
 * Returns 1 when the socket may have more, 0 when drained, -1 when gone.
 */
static int
read_greedy_step(struct qnetd_client *c, uint64_t deadline)
{
	struct qnetd_conns *conns = c->conns;
	size_t used;
	ssize_t n;

	if (input_blocked(c))
		return c->closing ? -1 : 0;
	n = nss_sock_recv(c->fd, conns->recv_buf, conns->recv_buf_size);
	if (n == -EAGAIN)
		return 0;
	if (n <= 0) {
		read_failed(c, n);
		return -1;
	}
	used = feed(c, conns->recv_buf, (size_t)n, deadline);
	if (keep_unread(c, conns->recv_buf + used, (size_t)n - used) < 0)
		return -1;
	if (c->unread_len > 0)
		return 1;
	/*
	 * NSS reads the socket one record at a time and never ahead, so once
	 * it holds no decrypted bytes the rest is in the kernel, and the
	 * level-triggered poll set will report it: no read just to hear
	 * "would block". Plaintext: a short read drained the socket.
	 */
	if (c->tls_started)
		return nss_sock_tls_buffered(c->fd) > 0 ? 1 : 0;
	return (size_t)n == conns->recv_buf_size ? 1 : 0;
}

static bool
use_greedy_reads(struct qnetd_client *c)
{
	struct qnetd_conns *conns = c->conns;

	/* Before INIT a STARTTLS is expected: its TLS bytes must stay in the socket. */
	if (!c->tls_started && conns->tls_loaded && !c->init_received)
		return false;
	/* The front reads only the PREINIT; all behind it belongs to the worker. */
	if (conns->first_message_only)
		return false;
	if (conns->recv_buf == NULL) {
		conns->recv_buf = malloc(RECV_CHUNK);
		if (conns->recv_buf == NULL)
			return false;	/* exact reads still work */
		conns->recv_buf_size = RECV_CHUNK;
	}
	return true;
}

/*
 * Dispatch work per client and wakeup. A message costs microseconds to a
 * few ms (a decision with its VOTE_INFO pushes to a large cluster), and a
 * 16 KiB read can hold 2,700 of them: without a budget one client's burst
 * held every other client of the process for seconds. With 16 busy
 * clients of one cluster in a batch, another cluster's echo waits about
 * 16 budgets plus 16 messages (tests/hostile/ffsplit_load.py).
 */
#define WAKEUP_BUDGET_NS	(NS_PER_MS / 2)

static void
resume_input(void *data)
{
	struct qnetd_client *c = data;

	c->resume_queued = false;
	qnetd_client_io(c, POLLIN);
}

/*
 * Come back on the loop's next turn for input no poll event will announce.
 * A zero-delay timer rather than a job, for the reason given at arm_reaper
 * (client.c).
 */
static void
resume_later(struct qnetd_client *c)
{
	if (c->resume_queued)
		return;
	if (qb_loop_timer_add(c->conns->loop, QB_LOOP_MED, 0, c, resume_input,
	    &c->resume_timer) != 0) {
		qnetd_client_disconnect(c, "cannot queue its input");
		return;
	}
	c->resume_queued = true;
}

void
qnetd_client_io(void *data, int revents)
{
	struct qnetd_client *c = data;
	uint64_t hs_start = 0;

	if (c->closing)
		return;
	if (c->read_paused) {
		if (!resume_reading(c, revents))
			return;
		/*
		 * Read now, whether or not the socket shows input: what was kept
		 * in c->unread, and under TLS the records NSS has decrypted and
		 * holds, which the kernel no longer reports.
		 */
		revents |= POLLIN;
	}
	if (c->tls_handshaking) {
		/*
		 * Past the handshake budget of this wakeup (accept-gate.h) the
		 * socket stays readable for the next one: the set is level-triggered.
		 */
		if (accept_gate_budget_spent(&c->conns->gate, c->conns->poll_set.batch))
			return;
		hs_start = clock_now_ns();
		if (revents & POLLIN)
			accept_gate_progress(&c->gate_entry, hs_start);
	}
	if ((revents & (POLLIN | POLLHUP | POLLERR)) || c->unread_len > 0) {
		/*
		 * One client's messages get WAKEUP_BUDGET_NS per wakeup (at
		 * least one message), then the others of the batch have their
		 * turn. What stays in the kernel wakes us again (the set is
		 * level-triggered); bytes already read (c->unread) or
		 * decrypted and buffered by NSS would not: resume_later().
		 * The exact reader stops after one message for the same reason.
		 */
		uint64_t deadline = clock_now_ns() + WAKEUP_BUDGET_NS;
		int r = 0;

		if (c->unread_len > 0)
			drain_unread(c, deadline);
		while (!c->closing && c->unread_len == 0) {
			if (clock_now_ns() >= deadline)
				break;
			if (use_greedy_reads(c))
				r = read_greedy_step(c, deadline);
			else
				r = read_exact_step(c) == 1 ? 1 : 0;
			if (c->closing || r <= 0)
				break;
			/* Replies go out as we go, so a burst of requests cannot overflow the queue. */
			if (c->send_queue_len > 0 && !c->want_write)
				qnetd_client_flush(c);
		}
		/* Paused: POLLOUT brings it back once the peer has read (client.c). */
		if (!c->closing && !c->read_paused && (c->unread_len > 0 ||
		    (r > 0 && c->tls_started && !c->tls_handshaking)))
			resume_later(c);
	}
	if (!c->closing)
		qnetd_client_flush(c);
	if (hs_start != 0)
		accept_gate_budget_charge(&c->conns->gate, clock_now_ns() - hs_start);
}

struct qnetd_client *
qnetd_client_adopt(struct qnetd_conns *conns, PRFileDesc *fd, const char *addr_str,
    const uint8_t *first, size_t first_len)
{
	struct qnetd_client *c = qnetd_client_start(conns, fd, addr_str);

	if (c == NULL)
		return NULL;
	qb_log(LOG_DEBUG, "%s: taken over from the front process", c->ident);
	/* One message at most: the front reads no further than the PREINIT. */
	(void)feed(c, first, first_len, UINT64_MAX);
	if (!c->closing)
		qnetd_client_flush(c);
	return c;
}
