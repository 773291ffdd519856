/* qnetd/client.c: a qdevice connection's I/O, framing, queue and timers. */
#include <errno.h>
#include <poll.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <qb/qblog.h>

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

static void	destroy_job(void *data);

void
qnetd_client_update_ident(struct qnetd_client *c)
{
	if (c->init_received)
		snprintf(c->ident, sizeof(c->ident), "client %s (cluster %s, node %u)",
		    c->addr_str, c->cluster_name, (unsigned)c->algo.node_id);
	else if (c->cluster_name != NULL)
		snprintf(c->ident, sizeof(c->ident), "client %s (cluster %s)",
		    c->addr_str, c->cluster_name);
	else
		snprintf(c->ident, sizeof(c->ident), "client %s", c->addr_str);
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
	algo_client_init(&c->algo);
	qnetd_client_update_ident(c);
	c->last_msg_ns = qnetd_now_ns();
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
/*
 * The places are there to share out the server's CPU, and anyone who
 * reaches the port can take one (STARTTLS comes before any certificate),
 * so none is held for good: a peer that has sent nothing for
 * HANDSHAKE_SLOT_IDLE_MS with nothing of it left unread costs no CPU, and
 * no handshake keeps its place past HANDSHAKE_SLOT_MAX_MS (a peer could
 * dribble a byte now and then). One address takes at most
 * HANDSHAKE_SLOTS_PER_ADDRESS places; its further handshakes go on without
 * one. A handshake without a place still runs, within the CPU budget per
 * wakeup; it only no longer keeps others from being accepted.
 */
#define HANDSHAKE_SLOT_IDLE_MS		2000
#define HANDSHAKE_SLOT_MAX_MS		5000
#define HANDSHAKE_SLOTS_PER_ADDRESS	4
#define HANDSHAKE_SWEEP_MS		500

/*
 * The peer address of "addr:port" as a key: IPv4 as IPv4-mapped IPv6, and
 * IPv6 cut to its /64, which a single host can fill with addresses.
 * Unparsable text gives the all-zero key.
 */
static void
peer_key(const char *addr_str, struct in6_addr *key)
{
	const char *colon = strrchr(addr_str, ':');
	size_t len = colon != NULL ? (size_t)(colon - addr_str) : strlen(addr_str);
	char host[INET6_ADDRSTRLEN];
	struct in_addr v4;

	memset(key, 0, sizeof(*key));
	if (len >= sizeof(host))
		return;
	memcpy(host, addr_str, len);
	host[len] = '\0';
	if (inet_pton(AF_INET6, host, key) == 1) {
		if (!IN6_IS_ADDR_V4MAPPED(key))
			memset(key->s6_addr + 8, 0, 8);
	} else if (inet_pton(AF_INET, host, &v4) == 1) {
		key->s6_addr[10] = key->s6_addr[11] = 0xff;
		memcpy(key->s6_addr + 12, &v4, sizeof(v4));
	}
}

static unsigned
places_of_peer(const struct qnetd_instance *inst, const struct in6_addr *key)
{
	const struct qnetd_client *c;
	unsigned n = 0;

	qb_list_for_each_entry(c, &inst->hs_slots, hs_link)
		if (memcmp(&c->hs_peer, key, sizeof(*key)) == 0)
			n++;
	return n;
}

static void
release_slot(struct qnetd_client *c)
{
	if (!c->hs_slot)
		return;
	c->hs_slot = false;
	qb_list_del(&c->hs_link);
	qnetd_instance_handshake_ended(c->instance);
}

static void	sweep_slots(void *data);

static void
arm_slot_sweep(struct qnetd_instance *inst)
{
	if (inst->hs_sweep_armed || qb_list_empty(&inst->hs_slots))
		return;
	if (qb_loop_timer_add(inst->loop, QB_LOOP_MED, HANDSHAKE_SWEEP_MS * NS_PER_MS, inst,
	    sweep_slots, &inst->hs_sweep_timer) == 0)
		inst->hs_sweep_armed = true;
	else
		qb_log(LOG_WARNING, "cannot arm the TLS handshake sweep timer");
}

static void
sweep_slots(void *data)
{
	struct qnetd_instance *inst = data;
	struct qnetd_client *c, *next;
	uint64_t now = qnetd_now_ns();

	inst->hs_sweep_armed = false;
	qb_list_for_each_entry_safe(c, next, &inst->hs_slots, hs_link) {
		uint64_t held_ms = (now - c->hs_begin_ns) / NS_PER_MS;
		uint64_t idle_ms = (now - c->hs_progress_ns) / NS_PER_MS;

		if (held_ms < HANDSHAKE_SLOT_MAX_MS) {
			if (idle_ms < HANDSHAKE_SLOT_IDLE_MS)
				continue;
			/* Unread input: we are behind, not the peer. */
			if (c->fd != NULL && nss_sock_pending(c->fd) > 0)
				continue;
		}
		qb_log(LOG_DEBUG, "%s: TLS handshake for %llu ms, peer silent for %llu ms: it no "
		    "longer holds a place", c->ident, (unsigned long long)held_ms,
		    (unsigned long long)idle_ms);
		inst->stats.tls_places_released++;
		release_slot(c);
	}
	arm_slot_sweep(inst);
}

void
qnetd_client_handshake_begin(struct qnetd_client *c)
{
	struct qnetd_instance *inst = c->instance;
	unsigned held;

	if (c->tls_handshaking)
		return;
	c->tls_handshaking = true;
	c->hs_begin_ns = c->hs_progress_ns = qnetd_now_ns();
	qnetd_client_dpd_set_interval(c, HANDSHAKE_TIMEOUT_MS);
	peer_key(c->addr_str, &c->hs_peer);
	held = places_of_peer(inst, &c->hs_peer);
	if (held >= HANDSHAKE_SLOTS_PER_ADDRESS) {
		qb_log(LOG_DEBUG, "%s: %u TLS handshakes from this address hold places: this one "
		    "goes on without", c->ident, held);
		inst->stats.tls_handshakes_unplaced++;
		return;
	}
	c->hs_slot = true;
	qb_list_add_tail(&c->hs_link, &inst->hs_slots);
	qnetd_instance_handshake_started(inst);
	arm_slot_sweep(inst);
}

/* Returns true when the client was in the handshake. */
static bool
handshake_end(struct qnetd_client *c)
{
	if (!c->tls_handshaking)
		return false;
	c->tls_handshaking = false;
	release_slot(c);
	return true;
}

static void
stop_timers(struct qnetd_client *c)
{
	qb_loop_t *loop = c->instance->loop;

	qnetd_dpd_untrack(c);
	if (c->algo_timer_armed) {
		qb_loop_timer_del(loop, c->algo_timer);
		c->algo_timer_armed = false;
	}
}

void
qnetd_client_destroy(struct qnetd_client *c)
{
	struct qnetd_send_item *item, *next;

	if (c == NULL)
		return;
	/* Freed outside its own job (server shutdown): the job must not run later. */
	if (c->destroy_job_queued)
		qb_loop_job_del(c->instance->loop, QB_LOOP_HIGH, c, destroy_job);
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
	free(c->body);
	free(c);
}

static void
destroy_job(void *data)
{
	struct qnetd_client *c = data;

	c->destroy_job_queued = false;
	qnetd_cluster_leave(c, c->instance->shutting_down);
	qnetd_client_destroy(c);
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
	if (qb_loop_job_add(c->instance->loop, QB_LOOP_HIGH, c, destroy_job) != 0) {
		qb_log(LOG_ERR, "%s: cannot schedule teardown; freeing now", c->ident);
		destroy_job(c);
		return;
	}
	c->destroy_job_queued = true;
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

static void
set_poll_mask(struct qnetd_client *c, bool want_write)
{
	if (c->fd == NULL || c->closing || c->want_write == want_write)
		return;
	c->want_write = want_write;
	if (poll_set_mod(&c->instance->poll_set, c->native_fd, want_write, c) != 0)
		qnetd_client_disconnect(c, "cannot update poll events");
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
qnetd_client_dead(struct qnetd_client *c, uint64_t idle_ns)
{
	size_t pending;

	if (c->closing)
		return true;
	/*
	 * Its heartbeat may be sitting unread in the socket while we were
	 * busy (a burst of handshakes): that is overload, not a dead peer,
	 * and dropping it would only add a reconnect and a handshake.
	 */
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
	if (qnetd_dpd_track(&c->instance->dpd, c, timeout_ns) != 0)
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
	qnetd_dpd_touch(c, qnetd_now_ns());
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
 * early only when the client is being dropped.
 */
static void
feed(struct qnetd_client *c, const uint8_t *p, size_t n)
{
	while (n > 0 && !c->closing) {
		size_t take;

		if (c->hdr_got < MSG_HEADER_LEN) {
			take = MSG_HEADER_LEN - c->hdr_got;
			if (take > n)
				take = n;
			memcpy(c->hdr + c->hdr_got, p, take);
			c->hdr_got += take;
			p += take;
			n -= take;
			if (c->hdr_got < MSG_HEADER_LEN)
				return;
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
				return;
			}
			if (c->body_len == 0)
				message_done(c);
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
		if (c->body_got == c->body_len)
			message_done(c);
	}
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
read_greedy_step(struct qnetd_client *c)
{
	struct qnetd_instance *inst = c->instance;
	ssize_t n;

	n = nss_sock_recv(c->fd, inst->recv_buf, inst->recv_buf_size);
	if (n == -EAGAIN)
		return 0;
	if (n <= 0) {
		read_failed(c, n);
		return -1;
	}
	feed(c, inst->recv_buf, (size_t)n);
	if (c->closing)
		return -1;
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
 * Handshake work per poll-set wakeup. One handshake step (the client's
 * certificate and Finished, mostly) costs from 2 ms to tens of ms as NSS
 * holds more TLS connections, and every client in the same wakeup waits
 * for it: past this budget the other handshakes of the batch are left
 * readable for the next wakeup (the set is level-triggered), so echoes and
 * votes in between are answered within about one handshake step.
 */
#define HANDSHAKE_BATCH_NS	(5 * NS_PER_MS)

static bool
handshake_deferred(struct qnetd_client *c)
{
	struct qnetd_instance *inst = c->instance;

	if (inst->hs_batch != inst->poll_set.batch) {
		inst->hs_batch = inst->poll_set.batch;
		inst->hs_batch_ns = 0;
	}
	return inst->hs_batch_ns >= HANDSHAKE_BATCH_NS;
}

void
qnetd_client_io(void *data, int revents)
{
	struct qnetd_client *c = data;
	uint64_t hs_start = 0;

	if (c->closing)
		return;
	if (c->tls_handshaking) {
		if (handshake_deferred(c))
			return;
		hs_start = qnetd_now_ns();
		if (revents & POLLIN)
			c->hs_progress_ns = hs_start;
	}
	if (revents & (POLLIN | POLLHUP | POLLERR)) {
		/*
		 * The socket is level-triggered in the poll set, so what stays
		 * in the kernel wakes us again; only bytes NSS has decrypted
		 * and buffered would not, and the greedy reader drains those.
		 * The exact reader stops after one message for the same reason.
		 */
		for (;;) {
			int r;

			if (use_greedy_reads(c))
				r = read_greedy_step(c);
			else
				r = read_exact_step(c) == 1 ? 1 : 0;
			if (c->closing || r <= 0)
				break;
			/* Replies go out as we go, so a burst of requests cannot overflow the queue. */
			if (c->send_queue_len > 0 && !c->want_write)
				qnetd_client_flush(c);
		}
	}
	if (!c->closing)
		qnetd_client_flush(c);
	if (hs_start != 0)
		c->instance->hs_batch_ns += qnetd_now_ns() - hs_start;
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
	feed(c, first, first_len);
	if (!c->closing)
		qnetd_client_flush(c);
	return c;
}
