/* qdevice/conn.c: the socket under qdevice's qnetd connection. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qblist.h>

#include "common/clock.h"
#include "common/nss-sock.h"
#include "common/tlv.h"
#include "conn.h"

struct out_msg {
	struct qb_list_head	 list;
	uint8_t			*data;
	size_t			 len;
	size_t			 off;
	uint32_t		 tag;
};

struct conn {
	qb_loop_t			*loop;
	const struct conn_callbacks	*cb;
	void				*arg;

	PRFileDesc	*fd;
	int		 native_fd;	/* -1: not in the loop */
	short		 events;	/* what the loop waits for now */
	bool		 connecting;
	bool		 tls;
	bool		 dead;		/* failed or destroyed: no more callbacks */

	PRNetAddr	*addrs;
	size_t		*addr_host;	/* per address: index into hosts */
	size_t		 addr_count;
	size_t		 addr_next;	/* also the 1-based index of the one being tried */
	char		**hosts;
	size_t		 host_count;
	char		 peer[128];
	uint64_t	 deadline_ns;	/* end of the connect budget; 0: none */
	qb_loop_timer_handle	 share_timer;	/* this address's share of it */
	bool		 share_armed;

	uint32_t	 max_receive;
	uint32_t	 max_send;
	uint32_t	 max_queue;

	uint8_t		 hdr[MSG_HEADER_LEN];
	size_t		 hdr_len;
	uint8_t		*body;		/* whole message: header + option area */
	size_t		 body_len;	/* bytes of it filled */
	size_t		 msg_len;	/* its total size once the header is in */

	struct qb_list_head	 out;
	uint32_t		 out_count;

	int		 busy;		/* inside a callback chain */
	bool		 free_pending;
	char		 error[160];	/* NSS's words for the last I/O failure */
};

static int	conn_io(int32_t fd, int32_t revents, void *data);
static void	share_expired(void *data);

int
conn_create(struct conn **out, qb_loop_t *loop, const struct conn_callbacks *cb, void *arg)
{
	struct conn *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (c == NULL)
		return -ENOMEM;
	c->loop = loop;
	c->cb = cb;
	c->arg = arg;
	c->native_fd = -1;
	c->max_receive = QNET_DEFAULT_MAX_MSG_SIZE;
	c->max_send = QNET_DEFAULT_MAX_MSG_SIZE;
	c->max_queue = 10;
	qb_list_init(&c->out);
	*out = c;
	return 0;
}

void
conn_set_limits(struct conn *c, uint32_t max_receive, uint32_t max_send, uint32_t max_queue)
{
	c->max_receive = max_receive;
	c->max_send = max_send;
	c->max_queue = max_queue;
}

static void
drop_queue(struct conn *c)
{
	struct out_msg *m, *tmp;

	qb_list_for_each_entry_safe(m, tmp, &c->out, list) {
		qb_list_del(&m->list);
		free(m->data);
		free(m);
	}
	c->out_count = 0;
}

static void
close_socket(struct conn *c)
{
	if (c->share_armed) {
		qb_loop_timer_del(c->loop, c->share_timer);
		c->share_armed = false;
	}
	if (c->native_fd >= 0) {
		qb_loop_poll_del(c->loop, c->native_fd);
		c->native_fd = -1;
	}
	if (c->fd != NULL) {
		nss_sock_close(c->fd);
		c->fd = NULL;
	}
	c->tls = false;
	c->connecting = false;
}

void
conn_destroy(struct conn *c)
{
	if (c == NULL)
		return;
	c->dead = true;
	close_socket(c);
	drop_queue(c);
	free(c->body);
	c->body = NULL;
	free(c->addrs);
	c->addrs = NULL;
	free(c->addr_host);
	c->addr_host = NULL;
	for (size_t i = 0; i < c->host_count; i++)
		free(c->hosts[i]);
	free(c->hosts);
	c->hosts = NULL;
	c->host_count = 0;
	if (c->busy > 0) {
		c->free_pending = true;	/* freed when the callback chain unwinds */
		return;
	}
	free(c);
}

/* Report a failure once; the owner decides (normally conn_destroy()). */
static void
fail(struct conn *c, enum disconnect_reason reason)
{
	if (c->dead)
		return;
	c->error[0] = '\0';
	if (reason == DISCONNECT_READ_ERROR || reason == DISCONNECT_SEND_ERROR ||
	    reason == DISCONNECT_CONNECT_FAILED)
		snprintf(c->error, sizeof(c->error), "%s", nss_sock_error());
	c->dead = true;
	close_socket(c);
	c->cb->failed(c->arg, reason);
}

static void
update_poll(struct conn *c)
{
	short want;

	if (c->dead || c->native_fd < 0)
		return;
	if (c->connecting)
		want = POLLOUT;
	else
		want = nss_sock_poll_events(c->fd, c->out_count > 0);
	if (want == c->events)
		return;
	if (qb_loop_poll_mod(c->loop, QB_LOOP_MED, c->native_fd, want, c, conn_io) != 0) {
		fail(c, DISCONNECT_LOCAL_ERROR);
		return;
	}
	c->events = want;
}

static int
add_to_loop(struct conn *c, short events)
{
	c->native_fd = nss_sock_native_fd(c->fd);
	c->events = events;
	if (qb_loop_poll_add(c->loop, QB_LOOP_MED, c->native_fd, events, c, conn_io) != 0) {
		c->native_fd = -1;
		return -EIO;
	}
	return 0;
}

/*
 * An address with others after it gets the time left divided by the
 * addresses left (itself included), so one that never answers cannot use
 * up the whole budget; a refusal before its share ends leaves the rest to
 * the next ones. The last address runs until the caller's overall timer,
 * exactly as a single address always did (docs/protocol.md 4.5). 0, or
 * -EIO.
 */
static int
arm_share(struct conn *c)
{
	size_t left = c->addr_count - c->addr_next + 1;
	uint64_t now = clock_now_ns(), share;

	if (c->deadline_ns == 0 || left <= 1)
		return 0;
	share = c->deadline_ns > now ? (c->deadline_ns - now) / left : 0;
	if (share < 1000000ULL)
		share = 1000000ULL;	/* past the deadline: next address at once, via the loop */
	if (qb_loop_timer_add(c->loop, QB_LOOP_MED, share, c, share_expired,
	    &c->share_timer) != 0)
		return -EIO;
	c->share_armed = true;
	return 0;
}

static void
address_failed(struct conn *c, const char *why)
{
	if (c->cb->address_failed != NULL)
		c->cb->address_failed(c->arg, why);
}

/*
 * Try addresses from addr_next on. A connect that succeeds at once is
 * still reported from the loop: the socket is writable right away.
 * 0: connecting; -ECONNREFUSED: no address left; -EIO: loop failure.
 */
static int
try_next_address(struct conn *c)
{
	close_socket(c);
	while (c->addr_next < c->addr_count) {
		const PRNetAddr *a = &c->addrs[c->addr_next++];
		int r;

		nss_sock_addr_str(a, c->peer, sizeof(c->peer));
		if (c->cb->trying != NULL)
			c->cb->trying(c->arg);
		r = nss_sock_connect(a, &c->fd);
		if (r != 0 && r != -EINPROGRESS) {
			if (c->addr_next < c->addr_count)
				address_failed(c, nss_sock_error());
			continue;
		}
		c->connecting = true;
		if (add_to_loop(c, POLLOUT) != 0 || arm_share(c) != 0) {
			close_socket(c);
			return -EIO;
		}
		return 0;
	}
	return -ECONNREFUSED;
}

/* Append host's addresses to the list. 0, -ENOENT, -ENOMEM. */
static int
add_host_addresses(struct conn *c, size_t host_index, uint16_t port, int ip_version)
{
	PRNetAddr *found, *grown_addrs;
	size_t n, *grown_host;
	int r;

	r = nss_sock_resolve(c->hosts[host_index], port, ip_version, &found, &n);
	if (r != 0)
		return r;
	grown_addrs = realloc(c->addrs, (c->addr_count + n) * sizeof(*grown_addrs));
	if (grown_addrs == NULL) {
		free(found);
		return -ENOMEM;
	}
	c->addrs = grown_addrs;
	grown_host = realloc(c->addr_host, (c->addr_count + n) * sizeof(*grown_host));
	if (grown_host == NULL) {
		free(found);
		return -ENOMEM;
	}
	c->addr_host = grown_host;
	for (size_t i = 0; i < n; i++) {
		c->addrs[c->addr_count + i] = found[i];
		c->addr_host[c->addr_count + i] = host_index;
	}
	c->addr_count += n;
	free(found);
	return 0;
}

int
conn_connect(struct conn *c, const char *const *hosts, size_t host_count, uint16_t port,
    int ip_version, uint32_t budget_ms)
{
	int r;

	if (host_count == 0 || c->hosts != NULL)
		return -EINVAL;
	c->hosts = calloc(host_count, sizeof(*c->hosts));
	if (c->hosts == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < host_count; i++) {
		c->hosts[i] = strdup(hosts[i]);
		if (c->hosts[i] == NULL)
			return -ENOMEM;	/* conn_destroy() frees what was copied */
		c->host_count++;
	}
	c->deadline_ns = budget_ms > 0 ? clock_now_ns() + (uint64_t)budget_ms * NS_PER_MS : 0;
	for (size_t i = 0; i < host_count; i++) {
		r = add_host_addresses(c, i, port, ip_version);
		if (r == -ENOMEM)
			return r;
		/* One name that does not resolve must not hide the others. */
		if (r != 0 && host_count > 1) {
			snprintf(c->peer, sizeof(c->peer), "%s:%u", c->hosts[i], (unsigned)port);
			address_failed(c, "cannot resolve the host name");
		}
	}
	c->peer[0] = '\0';
	if (c->addr_count == 0)
		return -ENOENT;
	c->addr_next = 0;
	return try_next_address(c);
}

const char *
conn_peer(const struct conn *c)
{
	return c->peer;
}

const char *
conn_peer_host(const struct conn *c)
{
	if (c->addr_next == 0 || c->addr_host == NULL)
		return "";
	return c->hosts[c->addr_host[c->addr_next - 1]];
}

size_t
conn_peer_index(const struct conn *c)
{
	return c->addr_next;
}

size_t
conn_address_count(const struct conn *c)
{
	return c->addr_count;
}

const char *
conn_error(const struct conn *c)
{
	return c->error;
}

static void
finish_connect(struct conn *c)
{
	int r = nss_sock_connect_finish(c->fd);

	if (r == -EINPROGRESS)
		return;
	if (r != 0) {
		if (c->addr_next < c->addr_count) {
			address_failed(c, nss_sock_error());
			if (try_next_address(c) == 0)
				return;
		}
		fail(c, DISCONNECT_CONNECT_FAILED);
		return;
	}
	c->connecting = false;
	if (c->share_armed) {
		qb_loop_timer_del(c->loop, c->share_timer);
		c->share_armed = false;
	}
	c->cb->connected(c->arg);
}

/* This address's share of the connect time is over: on to the next. */
static void
share_expired(void *data)
{
	struct conn *c = data;

	c->share_armed = false;
	if (c->dead || !c->connecting)
		return;
	c->busy++;
	address_failed(c, "no answer within its share of the connect timeout");
	if (!c->dead && try_next_address(c) != 0)
		fail(c, DISCONNECT_CONNECT_FAILED);
	c->busy--;
	if (c->free_pending && c->busy == 0) {
		free(c);
		return;
	}
	update_poll(c);
}

/* One message is complete in c->body: hand it over and reset. */
static void
deliver(struct conn *c)
{
	uint8_t *msg = c->body;
	size_t len = c->msg_len;

	c->body = NULL;
	c->body_len = c->msg_len = c->hdr_len = 0;
	c->cb->message(c->arg, msg, len);
	free(msg);
}

static void	write_ready(struct conn *c);

/*
 * Read exactly what the current message still needs, never beyond it.
 * NSS may hold decrypted records the kernel no longer reports, so the
 * loop drains until "would block" instead of trusting poll. Replies the
 * last message queued are written before the next one is read: a burst
 * from the server (VOTE_INFOs each wanting a reply) must not overflow
 * the bounded send queue while the socket could take them
 * (tests/hostile/test-hostile-qdevice.sh, case ack-flood).
 */
static void
read_ready(struct conn *c)
{
	while (!c->dead) {
		ssize_t n;

		if (c->hdr_len < MSG_HEADER_LEN) {
			n = nss_sock_recv(c->fd, c->hdr + c->hdr_len, MSG_HEADER_LEN - c->hdr_len);
		} else {
			n = nss_sock_recv(c->fd, c->body + c->body_len, c->msg_len - c->body_len);
		}
		if (n == -EAGAIN)
			return;
		if (n == 0) {
			fail(c, DISCONNECT_SERVER_CLOSED);
			return;
		}
		if (n < 0) {
			fail(c, DISCONNECT_READ_ERROR);
			return;
		}
		if (c->hdr_len < MSG_HEADER_LEN) {
			uint32_t len;

			c->hdr_len += (size_t)n;
			if (c->hdr_len < MSG_HEADER_LEN)
				continue;
			if (!msg_type_valid(msg_header_type(c->hdr))) {
				fail(c, DISCONNECT_UNSUPPORTED_MESSAGE);
				return;
			}
			len = msg_header_length(c->hdr);
			/* Subtract, so a huge length cannot wrap. */
			if (len > c->max_receive || c->max_receive - len < MSG_HEADER_LEN) {
				fail(c, DISCONNECT_MSG_TOO_LONG);
				return;
			}
			c->msg_len = MSG_HEADER_LEN + (size_t)len;
			c->body = malloc(c->msg_len);
			if (c->body == NULL) {
				fail(c, DISCONNECT_READ_ERROR);
				return;
			}
			memcpy(c->body, c->hdr, MSG_HEADER_LEN);
			c->body_len = MSG_HEADER_LEN;
		} else {
			c->body_len += (size_t)n;
		}
		if (c->body_len == c->msg_len) {
			deliver(c);
			if (!c->dead && c->out_count > 0)
				write_ready(c);
		}
	}
}

static void
write_ready(struct conn *c)
{
	while (!c->dead && !qb_list_empty(&c->out)) {
		struct out_msg *m = qb_list_first_entry(&c->out, struct out_msg, list);
		ssize_t n = nss_sock_send(c->fd, m->data + m->off, m->len - m->off);
		uint32_t tag;

		if (n == -EAGAIN)
			return;
		if (n <= 0) {
			fail(c, DISCONNECT_SEND_ERROR);
			return;
		}
		m->off += (size_t)n;
		if (m->off < m->len)
			continue;
		tag = m->tag;
		qb_list_del(&m->list);
		c->out_count--;
		free(m->data);
		free(m);
		if (tag != 0)
			c->cb->sent(c->arg, tag);
	}
}

static int
conn_io(int32_t fd, int32_t revents, void *data)
{
	struct conn *c = data;

	(void)fd;
	c->busy++;
	if (c->connecting) {
		finish_connect(c);
	} else {
		if (revents & (POLLIN | POLLHUP | POLLERR))
			read_ready(c);
		if (!c->dead)
			write_ready(c);
		/* POLLHUP without readable data still means the peer is gone. */
		if (!c->dead && (revents & (POLLHUP | POLLERR)) && !(revents & POLLIN))
			fail(c, DISCONNECT_SERVER_CLOSED);
	}
	c->busy--;
	if (c->free_pending && c->busy == 0) {
		free(c);
		return 0;
	}
	update_poll(c);
	return 0;
}

int
conn_send(struct conn *c, const struct msg *m, uint32_t tag)
{
	struct tlv_buf b;
	struct out_msg *o;
	int r;

	if (c->dead || c->fd == NULL)
		return -ENOTCONN;
	if (c->out_count >= c->max_queue)
		return -ENOBUFS;
	tlv_buf_init(&b, c->max_send);
	r = msg_encode(m, &b);
	if (r != 0) {
		tlv_buf_fini(&b);
		return r;
	}
	o = calloc(1, sizeof(*o));
	if (o == NULL) {
		tlv_buf_fini(&b);
		return -ENOMEM;
	}
	o->data = b.data;	/* the queue takes the buffer */
	o->len = b.len;
	o->tag = tag;
	qb_list_add_tail(&o->list, &c->out);
	c->out_count++;
	if (c->busy == 0) {
		/* Outside conn_io a poll update failure must not free c under the caller. */
		c->busy++;
		update_poll(c);
		c->busy--;
		if (c->free_pending) {
			free(c);
			return -ENOTCONN;
		}
	}
	return c->dead ? -ENOTCONN : 0;
}

int
conn_start_tls(struct conn *c, const char *server_cn, const char *client_nickname,
    bool allow_expired)
{
	if (c->dead || c->fd == NULL)
		return -ENOTCONN;
	if (nss_sock_start_tls_client(&c->fd, server_cn, client_nickname, allow_expired) != 0)
		return -EIO;
	c->tls = true;
	return 0;
}

bool
conn_tls_active(const struct conn *c)
{
	return c->tls;
}

bool
conn_client_cert_sent(const struct conn *c)
{
	return c->tls && c->fd != NULL && nss_sock_local_cert_sent(c->fd);
}
