/* qnetd/client.c: a qdevice connection's I/O, framing, queue and timers. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <qb/qblog.h>

#include "common/utils.h"
#include "client.h"
#include "cluster.h"
#include "dispatch.h"
#include "dpd.h"
#include "events.h"
#include "instance.h"
#include "shard.h"

#define NS_PER_MS	1000000ULL
/* Before INIT the client's heartbeat is unknown; upstream assumes the maximum. */
#define PRE_INIT_HB_MS	120000

/* Clients freed per turn of the loop, so that a mass disconnect leaves room for I/O. */
#define REAP_BATCH	64


/*
 * The cluster name is the peer's choice: shown escaped (utils.h) so a log
 * line stays one line, and cut short enough that the node id still fits.
 */
void
qnetd_client_update_ident(struct qnetd_client *c)
{
	/* Room left by the longest address, the words around and a 10-digit node id. */
	char name[sizeof(c->ident) - sizeof(c->addr_str) - 40];

	if (c->cluster_name == NULL) {
		snprintf(c->ident, sizeof(c->ident), "client %s", c->addr_str);
		return;
	}
	utils_name_for_log(name, sizeof(name), c->cluster_name, c->cluster_name_len);
	if (c->init_received)
		snprintf(c->ident, sizeof(c->ident), "client %s (cluster %s, node %u)",
		    c->addr_str, name, (unsigned)c->algo.node_id);
	else
		snprintf(c->ident, sizeof(c->ident), "client %s (cluster %s)", c->addr_str, name);
}

struct qnetd_client *
qnetd_client_create(struct qnetd_instance *inst, PRFileDesc *fd, const char *addr_str)
{
	struct qnetd_client *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->instance = inst;
	c->fd = fd;
	c->native_fd = fd != NULL ? nss_sock_native_fd(fd) : -1;
	snprintf(c->addr_str, sizeof(c->addr_str), "%s", addr_str);
	c->id = ++inst->next_client_id;
	qb_list_init(&c->send_queue);
	c->want_read = true;	/* as poll_set_add() registers it */
	algo_client_init(&c->algo);
	qnetd_client_update_ident(c);
	dpd_entry_init(&c->dpd);
	qb_list_add_tail(&c->list, &inst->clients);
	inst->client_count++;
	qnetd_client_dpd_set_interval(c, PRE_INIT_HB_MS);
	return c;
}

/*
 * With dead-peer detection on, a client gets this long from STARTTLS to its
 * first message over TLS (qdevice sends INIT at once), not the pre-INIT
 * dead-peer time (3 minutes).
 */
#define HANDSHAKE_TIMEOUT_MS	10000
bool
qnetd_client_gate_has_input(struct accept_gate_entry *e)
{
	struct qnetd_client *c = qb_list_entry(e, struct qnetd_client, gate_entry);

	return c->fd != NULL && nss_sock_pending(c->fd) > 0;
}

void
qnetd_client_gate_lost_place(struct accept_gate_entry *e, enum accept_gate_loss why,
    uint64_t now_ns)
{
	static const char *const words[] = {
		[ACCEPT_GATE_LOSS_SILENT] = "its peer is silent",
		[ACCEPT_GATE_LOSS_TOO_LONG] = "held too long",
		[ACCEPT_GATE_LOSS_YIELDED] = "taken by an address holding fewer",
	};
	struct qnetd_client *c = qb_list_entry(e, struct qnetd_client, gate_entry);

	qb_log(LOG_DEBUG, "%s: TLS handshake for %llu ms, peer silent for %llu ms: it no "
	    "longer holds a place (%s)", c->ident,
	    (unsigned long long)((now_ns - e->begin_ns) / NS_PER_MS),
	    (unsigned long long)((now_ns - e->progress_ns) / NS_PER_MS), words[why]);
}

/* STARTTLS: the handshake asks the accept gate for a place (accept-gate.h). */
void
qnetd_client_handshake_begin(struct qnetd_client *c)
{
	struct accept_gate *gate = &c->instance->gate;
	struct in6_addr peer;

	if (c->tls_handshaking)
		return;
	c->tls_handshaking = true;
	qnetd_client_dpd_set_interval(c, HANDSHAKE_TIMEOUT_MS);
	accept_gate_peer_key(c->addr_str, &peer);
	if (!accept_gate_admit(gate, &c->gate_entry, &peer, qnetd_now_ns()))
		qb_log(LOG_DEBUG, "%s: no TLS handshake place for this address (%u in use): "
		    "this one goes on without", c->ident, (unsigned)gate->places_used);
}

/* Returns true when the client was in the handshake. */
static bool
handshake_end(struct qnetd_client *c)
{
	if (!c->tls_handshaking)
		return false;
	c->tls_handshaking = false;
	accept_gate_release(&c->instance->gate, &c->gate_entry);
	return true;
}

static void
stop_timers(struct qnetd_client *c)
{
	qb_loop_t *loop = c->instance->loop;

	qnetd_dpd_untrack(&c->dpd);
	if (c->algo_timer_armed) {
		qb_loop_timer_del(loop, c->algo_timer);
		c->algo_timer_armed = false;
	}
}

static void	resume_input(void *data);

void
qnetd_client_destroy(struct qnetd_client *c)
{
	struct qnetd_send_item *item, *next;

	if (c == NULL)
		return;
	/* Freed before its turn (server shutdown): the reaper must not see it. */
	if (c->closing) {
		struct qnetd_instance *inst = c->instance;

		qb_list_del(&c->closing_link);
		if (qb_list_empty(&inst->closing) && inst->reap_armed) {
			qb_loop_timer_del(inst->loop, inst->reap_timer);
			inst->reap_armed = false;
		}
	}
	stop_timers(c);
	handshake_end(c);
	if (c->fd != NULL) {
		if (!c->closing)
			poll_set_del(&c->instance->poll_set, c->native_fd);
		nss_sock_close(c->fd);
	}
	qb_list_for_each_entry_safe(item, next, &c->send_queue, list) {
		qb_list_del(&item->list);
		free(item);
	}
	qb_list_del(&c->list);
	c->instance->client_count--;
	shard_worker_notify(c->instance, SHARD_MSG_CLOSED);
	algo_client_fini(&c->algo);
	free(c->cluster_name);
	/* Its input timer must not run on freed memory. */
	if (c->resume_queued)
		qb_loop_timer_del(c->instance->loop, c->resume_timer);
	free(c->body);
	free(c->unread);
	free(c);
}

static void	reap_closing(void *data);

/*
 * A timer, not a qb_loop job per client: libqb's qb_loop_job_del unlinks
 * but never frees a job it has already moved to its run list, and
 * qb_loop_destroy frees no job still queued. A shutdown amid closing
 * connections (jobs moved, not yet run) leaked one job per client. A
 * timer can be deleted in any state and is freed with the loop.
 */
static void
arm_reaper(struct qnetd_instance *inst)
{
	if (inst->reap_armed || qb_list_empty(&inst->closing))
		return;
	if (qb_loop_timer_add(inst->loop, QB_LOOP_HIGH, 0, inst, reap_closing,
	    &inst->reap_timer) == 0)
		inst->reap_armed = true;
	else
		qb_log(LOG_ERR, "cannot schedule the teardown of closed connections: "
		    "they are freed with the next one");
}

static void
reap_closing(void *data)
{
	struct qnetd_instance *inst = data;
	unsigned n;

	inst->reap_armed = false;
	for (n = 0; n < REAP_BATCH && !qb_list_empty(&inst->closing); n++) {
		struct qnetd_client *c = qb_list_first_entry(&inst->closing,
		    struct qnetd_client, closing_link);

		qnetd_cluster_leave(c, inst->shutting_down);
		qnetd_client_destroy(c);
	}
	arm_reaper(inst);
}

/* Stop all events for c and free it on the loop's next turn. */
static void
schedule_teardown(struct qnetd_client *c)
{
	c->closing = true;
	if (c->fd != NULL)
		poll_set_del(&c->instance->poll_set, c->native_fd);
	stop_timers(c);
	handshake_end(c);
	/* Not now: we may be deep inside this client's callbacks. */
	qb_list_add_tail(&c->closing_link, &c->instance->closing);
	arm_reaper(c->instance);
}

void
qnetd_client_disconnect(struct qnetd_client *c, const char *reason)
{
	if (c->closing)
		return;
	qb_log(LOG_INFO, "%s: disconnecting: %s", c->ident, reason);
	if (c->init_received)
		qnetd_event_client_disconnected(c, reason);
	schedule_teardown(c);
}

void
qnetd_client_forget(struct qnetd_client *c)
{
	if (!c->closing)
		schedule_teardown(c);
}

int
qnetd_client_queue_raw(struct qnetd_client *c, const uint8_t *data, size_t len)
{
	struct qnetd_send_item *item;

	if (c->closing)
		return 0;
	if (len > c->instance->settings->max_client_send_size)
		return -EMSGSIZE;
	if (c->send_queue_len >= c->instance->settings->max_client_send_buffers)
		return -ENOBUFS;
	item = malloc(sizeof(*item) + len);
	if (item == NULL)
		return -ENOMEM;
	item->len = len;
	item->sent = 0;
	memcpy(item->data, data, len);
	qb_list_add_tail(&item->list, &c->send_queue);
	c->send_queue_len++;
	return 0;
}

int
qnetd_client_queue(struct qnetd_client *c, const struct msg *m)
{
	struct tlv_buf b;
	int r;

	if (c->closing)
		return 0;
	tlv_buf_init(&b, c->instance->settings->max_client_send_size);
	r = msg_encode(m, &b);
	if (r == 0)
		r = qnetd_client_queue_raw(c, b.data, b.len);
	tlv_buf_fini(&b);
	if (r == 0)
		qb_log(LOG_DEBUG, "%s: queued %s", c->ident, msg_type_name(m->type));
	return r;
}

/*
 * The poll events follow the client's state: POLLIN unless reading is
 * paused; POLLOUT while the queue holds data, and all the while reading is
 * paused: the writable socket then wakes the client in qnetd_client_io(),
 * which takes its input up again once the queue has drained, wherever
 * the draining flush was called from.
 */
static void
set_poll_mask(struct qnetd_client *c, bool want_write)
{
	bool want_read = !c->read_paused;

	want_write = want_write || c->read_paused;
	if (c->fd == NULL || c->closing ||
	    (c->want_write == want_write && c->want_read == want_read))
		return;
	c->want_write = want_write;
	c->want_read = want_read;
	if (poll_set_mod_events(&c->instance->poll_set, c->native_fd, want_read, want_write,
	    c) != 0)
		qnetd_client_disconnect(c, "cannot update poll events");
}

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
	size_t max = c->instance->settings->max_client_send_buffers;
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
	set_poll_mask(c, true);
	return true;
}

/*
 * A paused client's queue went out (it is woken by POLLOUT, see
 * set_poll_mask): at half the limit reading resumes, and its caller takes
 * up what was kept in c->unread. Returns true when reading goes on.
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
	set_poll_mask(c, c->send_queue_len > 0);
	return !c->closing;
}

/* Bytes gathered for one send when several messages are queued. */
#define SEND_CHUNK	16384

/*
 * Copy the unsent bytes of the first queued messages (at least two, at
 * most SEND_CHUNK bytes, whole messages only past the first) into the
 * shared send chunk. Returns the byte count, 0 when gathering does not
 * pay (one message, or the first fills the chunk) or no chunk exists.
 */
static size_t
gather(struct qnetd_client *c)
{
	struct qnetd_instance *inst = c->instance;
	struct qnetd_send_item *item;
	size_t total = 0, count = 0;

	if (c->send_queue_len < 2)
		return 0;
	if (inst->send_buf == NULL) {
		inst->send_buf = malloc(SEND_CHUNK);
		if (inst->send_buf == NULL)
			return 0;	/* one send per message still works */
	}
	qb_list_for_each_entry(item, &c->send_queue, list) {
		size_t left = item->len - item->sent;

		if (left > SEND_CHUNK - total)
			break;
		memcpy(inst->send_buf + total, item->data + item->sent, left);
		total += left;
		count++;
	}
	return count >= 2 ? total : 0;
}

/* n bytes of the queue's head went out: advance and free what is complete. */
static void
consume_sent(struct qnetd_client *c, size_t n)
{
	struct qnetd_send_item *item, *next;

	qb_list_for_each_entry_safe(item, next, &c->send_queue, list) {
		size_t take = item->len - item->sent;

		if (take > n)
			take = n;
		item->sent += take;
		n -= take;
		if (item->sent < item->len)
			break;
		qb_list_del(&item->list);
		c->send_queue_len--;
		free(item);
	}
}

/*
 * Several queued messages (a vote and a reply, say) leave in one send:
 * one syscall and, under TLS, one record instead of one per message.
 * The byte stream is the same; the peer parses messages out of it either
 * way (upstream and our qdevice read exact header/body pieces).
 */
void
qnetd_client_flush(struct qnetd_client *c)
{
	if (c->fd == NULL || c->closing)
		return;
	while (!qb_list_empty(&c->send_queue)) {
		struct qnetd_send_item *head = qb_list_first_entry(&c->send_queue,
		    struct qnetd_send_item, list);
		size_t len = gather(c);
		const uint8_t *p = len > 0 ? c->instance->send_buf : head->data + head->sent;
		ssize_t n;

		if (len == 0)
			len = head->len - head->sent;
		n = nss_sock_send(c->fd, p, len);
		if (n == -EAGAIN || (n == 0 && len > 0)) {
			set_poll_mask(c, true);
			return;
		}
		if (n < 0) {
			qb_log(LOG_WARNING, "%s: send failed: %s", c->ident, nss_sock_error());
			qnetd_client_disconnect(c, "send error");
			return;
		}
		consume_sent(c, (size_t)n);
	}
	set_poll_mask(c, false);
}

bool
qnetd_client_dead(struct dpd_entry *e, uint64_t idle_ns)
{
	struct qnetd_client *c = DPD_OWNER(e, struct qnetd_client, dpd);
	size_t pending;

	if (c->closing)
		return true;
	/*
	 * Its heartbeat may be sitting unread in the socket while we were
	 * busy (a burst of handshakes): that is overload, not a dead peer,
	 * and dropping it would only add a reconnect and a handshake.
	 */
	if (c->read_paused) {
		/* Its input waits because it does not read our replies: no reprieve. */
		qb_log(LOG_WARNING, "%s: has not read its replies for %llu ms (%zu queued)",
		    c->ident, (unsigned long long)(idle_ns / NS_PER_MS), c->send_queue_len);
		c->instance->stats.dpd_expiries++;
		qnetd_client_disconnect(c, "dead peer: replies not read");
		return true;
	}
	pending = c->fd != NULL ? nss_sock_pending(c->fd) : 0;
	if (pending > 0) {
		qb_log(LOG_DEBUG, "%s: silent for %llu ms but %zu bytes wait to be read",
		    c->ident, (unsigned long long)(idle_ns / NS_PER_MS), pending);
		c->instance->stats.dpd_reprieves++;
		return false;
	}
	qb_log(LOG_WARNING, "%s: no message for %llu ms (heartbeat x %.2f)", c->ident,
	    (unsigned long long)(idle_ns / NS_PER_MS),
	    c->instance->settings->dpd_interval_coefficient);
	c->instance->stats.dpd_expiries++;
	qnetd_client_disconnect(c, "dead peer");
	return true;
}

void
qnetd_client_dpd_set_interval(struct qnetd_client *c, uint32_t hb_ms)
{
	const struct qnetd_settings *s = c->instance->settings;
	uint64_t timeout_ns = (uint64_t)(s->dpd_interval_coefficient * (double)hb_ms *
	    (double)NS_PER_MS);

	if (!s->dpd_enabled || c->closing)
		return;
	if (qnetd_dpd_track(&c->instance->dpd, &c->dpd, timeout_ns) != 0)
		qnetd_client_disconnect(c, "cannot track the client for dead-peer detection");
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
	size_t max = c->instance->settings->max_client_receive_size;

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
	qnetd_dpd_touch(&c->dpd, qnetd_now_ns());
	if (c->tls_started) {
		c->tls_message_seen = true;
		if (handshake_end(c) && !c->init_received)
			qnetd_client_dpd_set_interval(c, PRE_INIT_HB_MS);
	}
	qnetd_dispatch(c, c->body, MSG_HEADER_LEN + c->body_len);
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
			if (!c->tls_started && c->instance->tls_loaded &&
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
				if (qnetd_now_ns() >= deadline)
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
			if (qnetd_now_ns() >= deadline)
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
		c->instance->stats.tls_handshake_failures++;
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
	struct qnetd_instance *inst = c->instance;
	size_t used;
	ssize_t n;

	if (input_blocked(c))
		return c->closing ? -1 : 0;
	n = nss_sock_recv(c->fd, inst->recv_buf, inst->recv_buf_size);
	if (n == -EAGAIN)
		return 0;
	if (n <= 0) {
		read_failed(c, n);
		return -1;
	}
	used = feed(c, inst->recv_buf, (size_t)n, deadline);
	if (keep_unread(c, inst->recv_buf + used, (size_t)n - used) < 0)
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
	return (size_t)n == inst->recv_buf_size ? 1 : 0;
}

static bool
use_greedy_reads(struct qnetd_client *c)
{
	struct qnetd_instance *inst = c->instance;

	/* Before INIT a STARTTLS is expected: its TLS bytes must stay in the socket. */
	if (!c->tls_started && inst->tls_loaded && !c->init_received)
		return false;
	/* The front reads only the PREINIT; all behind it belongs to the worker. */
	if (inst->front != NULL)
		return false;
	if (inst->recv_buf == NULL) {
		inst->recv_buf = malloc(RECV_CHUNK);
		if (inst->recv_buf == NULL)
			return false;	/* exact reads still work */
		inst->recv_buf_size = RECV_CHUNK;
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
 * A zero-delay timer rather than a job, for the reason given at arm_reaper.
 */
static void
resume_later(struct qnetd_client *c)
{
	if (c->resume_queued)
		return;
	if (qb_loop_timer_add(c->instance->loop, QB_LOOP_MED, 0, c, resume_input,
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
		if (accept_gate_budget_spent(&c->instance->gate, c->instance->poll_set.batch))
			return;
		hs_start = qnetd_now_ns();
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
		uint64_t deadline = qnetd_now_ns() + WAKEUP_BUDGET_NS;
		int r = 0;

		if (c->unread_len > 0)
			drain_unread(c, deadline);
		while (!c->closing && c->unread_len == 0) {
			if (qnetd_now_ns() >= deadline)
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
		/* Paused: POLLOUT brings it back once the peer has read (set_poll_mask). */
		if (!c->closing && !c->read_paused && (c->unread_len > 0 ||
		    (r > 0 && c->tls_started && !c->tls_handshaking)))
			resume_later(c);
	}
	if (!c->closing)
		qnetd_client_flush(c);
	if (hs_start != 0)
		accept_gate_budget_charge(&c->instance->gate, qnetd_now_ns() - hs_start);
}

struct qnetd_client *
qnetd_client_start(struct qnetd_instance *inst, PRFileDesc *fd, const char *addr_str)
{
	struct qnetd_client *c = qnetd_client_create(inst, fd, addr_str);

	if (c == NULL) {
		qb_log(LOG_ERR, "client %s dropped: out of memory", addr_str);
		nss_sock_close(fd);
		/* A worker's front counted this client: it is gone (destroy says so below). */
		shard_worker_notify(inst, SHARD_MSG_CLOSED);
		return NULL;
	}
	if (poll_set_add(&inst->poll_set, c->native_fd, false, c) != 0) {
		qb_log(LOG_ERR, "%s: cannot watch the socket", c->ident);
		c->closing = true;	/* not in the poll set: destroy must not remove it */
		qnetd_client_destroy(c);
		return NULL;
	}
	return c;
}

struct qnetd_client *
qnetd_client_adopt(struct qnetd_instance *inst, PRFileDesc *fd, const char *addr_str,
    const uint8_t *first, size_t first_len)
{
	struct qnetd_client *c = qnetd_client_start(inst, fd, addr_str);

	if (c == NULL)
		return NULL;
	qb_log(LOG_DEBUG, "%s: taken over from the front process", c->ident);
	/* One message at most: the front reads no further than the PREINIT. */
	(void)feed(c, first, first_len, UINT64_MAX);
	if (!c->closing)
		qnetd_client_flush(c);
	return c;
}
