/*
 * qnetd/client.c: a qdevice connection's life (create, deferred teardown),
 * its send queue and flush, poll mask and timers. Its receive side is
 * client-input.c; the layers above are reached through conn_ops only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

#include "common/clock.h"
#include "common/utils.h"
#include "client.h"
#include "client-io.h"
#include "dpd.h"
#include "settings.h"

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

int
qnetd_conns_init(struct qnetd_conns *conns, const struct qnetd_settings *s, qb_loop_t *loop,
    const struct qnetd_conn_ops *ops, struct qnetd_conn_stats *stats)
{
	conns->settings = s;
	conns->loop = loop;
	conns->ops = ops;
	conns->stats = stats;
	qb_list_init(&conns->clients);
	qb_list_init(&conns->closing);
	conns->poll_set.epfd = -1;
	qnetd_dpd_init(&conns->dpd, loop, clock_now_ns, qnetd_client_dead);
	return poll_set_init(&conns->poll_set, loop, qnetd_client_io);
}

void
qnetd_conns_fini(struct qnetd_conns *conns)
{
	qnetd_dpd_fini(&conns->dpd);
	poll_set_fini(&conns->poll_set);
	free(conns->send_buf);
	conns->send_buf = NULL;
	free(conns->recv_buf);
	conns->recv_buf = NULL;
	conns->recv_buf_size = 0;
}

struct qnetd_client *
qnetd_client_create(struct qnetd_conns *conns, PRFileDesc *fd, const char *addr_str)
{
	struct qnetd_client *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->conns = conns;
	c->fd = fd;
	c->native_fd = fd != NULL ? nss_sock_native_fd(fd) : -1;
	snprintf(c->addr_str, sizeof(c->addr_str), "%s", addr_str);
	c->id = ++conns->next_id;
	qb_list_init(&c->send_queue);
	c->want_read = true;	/* as poll_set_add() registers it */
	algo_client_init(&c->algo);
	qnetd_client_update_ident(c);
	dpd_entry_init(&c->dpd);
	qb_list_add_tail(&c->list, &conns->clients);
	conns->count++;
	qnetd_client_dpd_set_interval(c, QNETD_PRE_INIT_HB_MS);
	return c;
}

struct qnetd_client *
qnetd_client_of(struct algo_client *ac)
{
	return (struct qnetd_client *)((char *)ac - offsetof(struct qnetd_client, algo));
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
	struct accept_gate *gate = &c->conns->gate;
	struct in6_addr peer;

	if (c->tls_handshaking)
		return;
	c->tls_handshaking = true;
	qnetd_client_dpd_set_interval(c, HANDSHAKE_TIMEOUT_MS);
	accept_gate_peer_key(c->addr_str, &peer);
	if (!accept_gate_admit(gate, &c->gate_entry, &peer, clock_now_ns()))
		qb_log(LOG_DEBUG, "%s: no TLS handshake place for this address (%u in use): "
		    "this one goes on without", c->ident, (unsigned)gate->places_used);
}

bool
qnetd_client_handshake_end(struct qnetd_client *c)
{
	if (!c->tls_handshaking)
		return false;
	c->tls_handshaking = false;
	accept_gate_release(&c->conns->gate, &c->gate_entry);
	return true;
}

static void
stop_timers(struct qnetd_client *c)
{
	qb_loop_t *loop = c->conns->loop;

	qnetd_dpd_untrack(&c->dpd);
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
	/* Freed before its turn (server shutdown): the reaper must not see it. */
	if (c->closing) {
		struct qnetd_conns *conns = c->conns;

		qb_list_del(&c->closing_link);
		if (qb_list_empty(&conns->closing) && conns->reap_armed) {
			qb_loop_timer_del(conns->loop, conns->reap_timer);
			conns->reap_armed = false;
		}
	}
	stop_timers(c);
	qnetd_client_handshake_end(c);
	if (c->fd != NULL) {
		if (!c->closing)
			poll_set_del(&c->conns->poll_set, c->native_fd);
		nss_sock_close(c->fd);
	}
	qb_list_for_each_entry_safe(item, next, &c->send_queue, list) {
		qb_list_del(&item->list);
		free(item);
	}
	qb_list_del(&c->list);
	c->conns->count--;
	c->conns->ops->gone(c->conns);
	algo_client_fini(&c->algo);
	free(c->cluster_name);
	/* Its input timer must not run on freed memory. */
	if (c->resume_queued)
		qb_loop_timer_del(c->conns->loop, c->resume_timer);
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
arm_reaper(struct qnetd_conns *conns)
{
	if (conns->reap_armed || qb_list_empty(&conns->closing))
		return;
	if (qb_loop_timer_add(conns->loop, QB_LOOP_HIGH, 0, conns, reap_closing,
	    &conns->reap_timer) == 0)
		conns->reap_armed = true;
	else
		qb_log(LOG_ERR, "cannot schedule the teardown of closed connections: "
		    "they are freed with the next one");
}

static void
reap_closing(void *data)
{
	struct qnetd_conns *conns = data;
	unsigned n;

	conns->reap_armed = false;
	for (n = 0; n < REAP_BATCH && !qb_list_empty(&conns->closing); n++) {
		struct qnetd_client *c = qb_list_first_entry(&conns->closing,
		    struct qnetd_client, closing_link);

		conns->ops->closed(c);
		qnetd_client_destroy(c);
	}
	arm_reaper(conns);
}

/* Stop all events for c and free it on the loop's next turn. */
static void
schedule_teardown(struct qnetd_client *c)
{
	c->closing = true;
	if (c->fd != NULL)
		poll_set_del(&c->conns->poll_set, c->native_fd);
	stop_timers(c);
	qnetd_client_handshake_end(c);
	/* Not now: we may be deep inside this client's callbacks. */
	qb_list_add_tail(&c->closing_link, &c->conns->closing);
	arm_reaper(c->conns);
}

void
qnetd_client_disconnect(struct qnetd_client *c, const char *reason)
{
	if (c->closing)
		return;
	qb_log(LOG_INFO, "%s: disconnecting: %s", c->ident, reason);
	c->conns->ops->disconnecting(c, reason);
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
	if (len > c->conns->settings->max_client_send_size)
		return -EMSGSIZE;
	if (c->send_queue_len >= c->conns->settings->max_client_send_buffers)
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
	tlv_buf_init(&b, c->conns->settings->max_client_send_size);
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
void
qnetd_client_set_poll_mask(struct qnetd_client *c, bool want_write)
{
	bool want_read = !c->read_paused;

	want_write = want_write || c->read_paused;
	if (c->fd == NULL || c->closing ||
	    (c->want_write == want_write && c->want_read == want_read))
		return;
	c->want_write = want_write;
	c->want_read = want_read;
	if (poll_set_mod_events(&c->conns->poll_set, c->native_fd, want_read, want_write,
	    c) != 0)
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
	struct qnetd_conns *conns = c->conns;
	struct qnetd_send_item *item;
	size_t total = 0, count = 0;

	if (c->send_queue_len < 2)
		return 0;
	if (conns->send_buf == NULL) {
		conns->send_buf = malloc(SEND_CHUNK);
		if (conns->send_buf == NULL)
			return 0;	/* one send per message still works */
	}
	qb_list_for_each_entry(item, &c->send_queue, list) {
		size_t left = item->len - item->sent;

		if (left > SEND_CHUNK - total)
			break;
		memcpy(conns->send_buf + total, item->data + item->sent, left);
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
		const uint8_t *p = len > 0 ? c->conns->send_buf : head->data + head->sent;
		ssize_t n;

		if (len == 0)
			len = head->len - head->sent;
		n = nss_sock_send(c->fd, p, len);
		if (n == -EAGAIN || (n == 0 && len > 0)) {
			qnetd_client_set_poll_mask(c, true);
			return;
		}
		if (n < 0) {
			qb_log(LOG_WARNING, "%s: send failed: %s", c->ident, nss_sock_error());
			qnetd_client_disconnect(c, "send error");
			return;
		}
		consume_sent(c, (size_t)n);
	}
	qnetd_client_set_poll_mask(c, false);
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
		c->conns->stats->dpd_expiries++;
		qnetd_client_disconnect(c, "dead peer: replies not read");
		return true;
	}
	pending = c->fd != NULL ? nss_sock_pending(c->fd) : 0;
	if (pending > 0) {
		qb_log(LOG_DEBUG, "%s: silent for %llu ms but %zu bytes wait to be read",
		    c->ident, (unsigned long long)(idle_ns / NS_PER_MS), pending);
		c->conns->stats->dpd_reprieves++;
		return false;
	}
	qb_log(LOG_WARNING, "%s: no message for %llu ms (heartbeat x %.2f)", c->ident,
	    (unsigned long long)(idle_ns / NS_PER_MS),
	    c->conns->settings->dpd_interval_coefficient);
	c->conns->stats->dpd_expiries++;
	qnetd_client_disconnect(c, "dead peer");
	return true;
}

void
qnetd_client_dpd_set_interval(struct qnetd_client *c, uint32_t hb_ms)
{
	const struct qnetd_settings *s = c->conns->settings;
	uint64_t timeout_ns = (uint64_t)(s->dpd_interval_coefficient * (double)hb_ms *
	    (double)NS_PER_MS);

	if (!s->dpd_enabled || c->closing)
		return;
	if (qnetd_dpd_track(&c->conns->dpd, &c->dpd, timeout_ns) != 0)
		qnetd_client_disconnect(c, "cannot track the client for dead-peer detection");
}


struct qnetd_client *
qnetd_client_start(struct qnetd_conns *conns, PRFileDesc *fd, const char *addr_str)
{
	struct qnetd_client *c = qnetd_client_create(conns, fd, addr_str);

	if (c == NULL) {
		qb_log(LOG_ERR, "client %s dropped: out of memory", addr_str);
		nss_sock_close(fd);
		/* A worker's front counted this client: it is gone (destroy says so below). */
		conns->ops->gone(conns);
		return NULL;
	}
	if (poll_set_add(&conns->poll_set, c->native_fd, false, c) != 0) {
		qb_log(LOG_ERR, "%s: cannot watch the socket", c->ident);
		c->closing = true;	/* not in the poll set: destroy must not remove it */
		qnetd_client_destroy(c);
		return NULL;
	}
	return c;
}
