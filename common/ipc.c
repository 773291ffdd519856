/* common/ipc.c: admin unix socket, server and client side. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <qb/qblist.h>

#include "clock.h"
#include "ipc.h"
#include "utils.h"

struct ipc_conn {
	struct qb_list_head	 list;
	struct ipc_server	*srv;
	int			 fd;
	char			*in;
	size_t			 in_len;
	/* The reply: a status line, then the body as composed (no copy of it). */
	char			 head[8];
	size_t			 head_len;
	char			*body;
	size_t			 body_len;
	size_t			 out_sent;	/* of head and body together */
	bool			 replying;
	bool			 shutdown_after;
	qb_loop_timer_handle	 expiry;
};

struct ipc_server {
	struct ipc_server_config cfg;
	qb_loop_timer_handle	 accept_timer;
	bool			 accept_paused;	/* listener unwatched after accept() failed */
	char			*path;
	qb_loop_t		*loop;
	int			 fd;
	struct qb_list_head	 conns;
	uint32_t		 conn_count;
};

static void
conn_close(struct ipc_conn *c)
{
	qb_loop_timer_del(c->srv->loop, c->expiry);
	qb_loop_poll_del(c->srv->loop, c->fd);
	close(c->fd);
	qb_list_del(&c->list);
	c->srv->conn_count--;
	free(c->in);
	free(c->body);
	free(c);
}

static void
build_reply(struct ipc_conn *c)
{
	const struct ipc_server_config *cfg = &c->srv->cfg;
	enum ipc_reply kind = IPC_REPLY_ERROR;
	char *body = NULL, **words = NULL;
	size_t body_len = 0;
	FILE *out;
	int count;

	out = utils_open_memstream(&body, &body_len);
	if (out == NULL)
		goto fail;
	count = utils_split_words(c->in, &words);
	if (count < 0)
		fputs("Can't parse command line", out);
	else if (count == 0)
		fputs("No command specified", out);
	else
		kind = cfg->command(words, count, out, cfg->arg);
	utils_free_words(words, count);
	if (fclose(out) != 0)
		goto fail;
	if (body_len + 16 > cfg->max_send) {
		free(body);
		body = strdup("Reply is too long");
		if (body == NULL)
			goto fail;
		body_len = strlen(body);
		kind = IPC_REPLY_ERROR;
	}
	if (kind == IPC_REPLY_ERROR) {
		/* The message ends with exactly one newline; body[body_len] is its NUL. */
		while (body_len > 0 && body[body_len - 1] == '\n')
			body_len--;
		body[body_len++] = '\n';
		strcpy(c->head, "Error\n");
	} else {
		strcpy(c->head, "OK\n");
	}
	c->head_len = strlen(c->head);
	c->body = body;
	c->body_len = body_len;
	c->shutdown_after = kind == IPC_REPLY_OK_THEN_SHUTDOWN;
	return;
fail:
	free(body);
	strcpy(c->head, "Error\n");
	c->head_len = strlen(c->head);
	c->body = strdup("Internal error\n");
	c->body_len = c->body != NULL ? strlen(c->body) : 0;
}

static int	conn_io(int fd, int revents, void *data);

/* In the answering process: the whole reply, blocking, then the end of it. */
static void __attribute__((noreturn))
answer_and_exit(struct ipc_conn *c)
{
	size_t total, sent = 0;
	int flags;

	/*
	 * Only its own connection stays open: the daemon's sockets must close
	 * when the daemon closes them, not when this reply is out.
	 */
	if (c->fd > 3)
		close_range(3, (unsigned)c->fd - 1, 0);
	close_range((unsigned)c->fd + 1, ~0U, 0);
	flags = fcntl(c->fd, F_GETFL);
	if (flags >= 0)
		(void)fcntl(c->fd, F_SETFL, flags & ~O_NONBLOCK);
	build_reply(c);
	total = c->head_len + c->body_len;
	while (sent < total) {
		const char *from = sent < c->head_len ? c->head + sent :
		    c->body + (sent - c->head_len);
		size_t len = sent < c->head_len ? c->head_len - sent : total - sent;
		ssize_t n = send(c->fd, from, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		sent += (size_t)n;
	}
	_exit(0);
}

/*
 * Answer c from a process of its own when the daemon asks for it. The
 * daemon forks a child that forks the answering process and ends at once,
 * so the daemon reaps the child by its pid right away (other children, the
 * event hooks, are reaped by pid too) and init reaps the answerer. Returns
 * false when the reply is to be composed here after all.
 */
static bool
answered_apart(struct ipc_conn *c)
{
	const struct ipc_server_config *cfg = &c->srv->cfg;
	char **words = NULL;
	int count, status = 0;
	bool apart;
	pid_t child;

	if (cfg->answer_apart == NULL)
		return false;
	count = utils_split_words(c->in, &words);
	apart = count > 0 && cfg->answer_apart(words, count, cfg->arg);
	utils_free_words(words, count);
	if (!apart || (child = fork()) < 0)
		return false;
	if (child == 0) {
		pid_t answerer = fork();

		if (answerer == 0)
			answer_and_exit(c);
		_exit(answerer < 0 ? 1 : 0);
	}
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			return true;	/* reaped already: it did its part */
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* Returns 1 when the connection is finished (and freed). */
static int
conn_write(struct ipc_conn *c)
{
	size_t total = c->head_len + c->body_len;

	while (c->out_sent < total) {
		struct iovec iov[2];
		struct msghdr mh = { .msg_iov = iov };
		ssize_t n;

		if (c->out_sent < c->head_len) {
			iov[mh.msg_iovlen++] = (struct iovec){ c->head + c->out_sent,
			    c->head_len - c->out_sent };
			iov[mh.msg_iovlen++] = (struct iovec){ c->body, c->body_len };
		} else {
			iov[mh.msg_iovlen++] = (struct iovec){ c->body + (c->out_sent -
			    c->head_len), total - c->out_sent };
		}
		n = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n <= 0)
			break;
		c->out_sent += (size_t)n;
	}
	{
		struct ipc_server *srv = c->srv;
		bool shutdown = c->shutdown_after && c->out_sent == total;

		conn_close(c);
		if (shutdown && srv->cfg.shutdown != NULL)
			srv->cfg.shutdown(srv->cfg.arg);
	}
	return 1;
}

static int
conn_io(int fd, int revents, void *data)
{
	struct ipc_conn *c = data;
	char buf[512];

	if (c->replying) {
		conn_write(c);
		return 0;
	}
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		char *nl, *grown;

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n <= 0) {
			conn_close(c);
			return 0;
		}
		if (c->in_len + (size_t)n > c->srv->cfg.max_receive) {
			conn_close(c);	/* a tool never sends this much */
			return 0;
		}
		grown = realloc(c->in, c->in_len + (size_t)n + 1);
		if (grown == NULL) {
			conn_close(c);
			return 0;
		}
		c->in = grown;
		memcpy(c->in + c->in_len, buf, (size_t)n);
		c->in_len += (size_t)n;
		c->in[c->in_len] = '\0';
		nl = memchr(c->in, '\n', c->in_len);
		if (nl == NULL)
			continue;
		*nl = '\0';
		if (answered_apart(c)) {
			conn_close(c);
			return 0;
		}
		c->replying = true;
		build_reply(c);
		if (conn_write(c) == 0)
			qb_loop_poll_mod(c->srv->loop, QB_LOOP_LOW, c->fd, POLLOUT, c, conn_io);
		return 0;
	}
}

#define ACCEPT_PAUSE_NS	(200ULL * 1000000ULL)

static void
conn_expired(void *data)
{
	struct ipc_conn *c = data;

	c->expiry = 0;	/* fired: nothing left to delete */
	conn_close(c);
}

static int	accept_ready(int fd, int revents, void *data);

static void
resume_accepting(void *data)
{
	struct ipc_server *srv = data;

	srv->accept_paused = false;
	(void)qb_loop_poll_add(srv->loop, QB_LOOP_LOW, srv->fd, POLLIN, srv, accept_ready);
}

static int
accept_ready(int fd, int revents, void *data)
{
	struct ipc_server *srv = data;

	for (;;) {
		int cfd = accept4(srv->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct ipc_conn *c;

		if (cfd < 0) {
			/*
			 * Out of descriptors (EMFILE): the connection stays pending and
			 * the listener readable; pause instead of spinning on it.
			 */
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
				qb_loop_poll_del(srv->loop, srv->fd);
				if (qb_loop_timer_add(srv->loop, QB_LOOP_LOW, ACCEPT_PAUSE_NS, srv,
				    resume_accepting, &srv->accept_timer) == 0)
					srv->accept_paused = true;
				else
					resume_accepting(srv);
			}
			return 0;
		}
		if (srv->cfg.max_clients != 0 && srv->conn_count >= srv->cfg.max_clients) {
			close(cfd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (c == NULL) {
			close(cfd);
			continue;
		}
		c->srv = srv;
		c->fd = cfd;
		if (qb_loop_timer_add(srv->loop, QB_LOOP_LOW,
		    (uint64_t)srv->cfg.conn_timeout_ms * 1000000ULL, c, conn_expired,
		    &c->expiry) != 0) {
			close(cfd);
			free(c);
			continue;
		}
		if (qb_loop_poll_add(srv->loop, QB_LOOP_LOW, cfd, POLLIN, c, conn_io) != 0) {
			qb_loop_timer_del(srv->loop, c->expiry);
			close(cfd);
			free(c);
			continue;
		}
		qb_list_add_tail(&c->list, &srv->conns);
		srv->conn_count++;
	}
}

int
ipc_server_create(struct ipc_server **out, qb_loop_t *loop, const struct ipc_server_config *cfg)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct ipc_server *srv;
	mode_t old_umask = 0;
	int r;

	*out = NULL;
	if (strlen(cfg->path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	srv = calloc(1, sizeof(*srv));
	if (srv == NULL)
		return -ENOMEM;
	srv->cfg = *cfg;
	if (srv->cfg.conn_timeout_ms == 0)
		srv->cfg.conn_timeout_ms = IPC_CONN_TIMEOUT_MS;
	srv->loop = loop;
	qb_list_init(&srv->conns);
	srv->path = strdup(cfg->path);
	srv->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (srv->path == NULL || srv->fd < 0) {
		r = srv->path == NULL ? -ENOMEM : -errno;
		goto fail;
	}
	strcpy(sun.sun_path, cfg->path);
	(void)unlink(cfg->path);	/* a stale file from a crashed run */
	if (cfg->umask >= 0)
		old_umask = umask((mode_t)cfg->umask);
	r = bind(srv->fd, (struct sockaddr *)&sun, sizeof(sun));
	if (cfg->umask >= 0)
		umask(old_umask);
	if (r != 0) {
		r = -errno;
		goto fail;
	}
	if (cfg->gid >= 0 && chown(cfg->path, (uid_t)-1, (gid_t)cfg->gid) != 0) {
		r = -errno;
		goto fail;
	}
	if (listen(srv->fd, cfg->backlog) != 0) {
		r = -errno;
		goto fail;
	}
	r = qb_loop_poll_add(loop, QB_LOOP_LOW, srv->fd, POLLIN, srv, accept_ready);
	if (r != 0)
		goto fail;
	*out = srv;
	return 0;
fail:
	if (srv->fd >= 0)
		close(srv->fd);
	free(srv->path);
	free(srv);
	return r;
}

void
ipc_server_destroy(struct ipc_server *srv)
{
	struct ipc_conn *c, *next;

	if (srv == NULL)
		return;
	qb_list_for_each_entry_safe(c, next, &srv->conns, list)
		conn_close(c);
	if (srv->accept_paused)
		qb_loop_timer_del(srv->loop, srv->accept_timer);
	else
		qb_loop_poll_del(srv->loop, srv->fd);
	close(srv->fd);
	(void)unlink(srv->path);
	free(srv->path);
	free(srv);
}

/* Wait for fd to become ready before the deadline; 0 or -ETIMEDOUT/-errno. */
static int
wait_fd(int fd, short events, long long deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		long long left = deadline - (long long)clock_now_ms();
		int n;

		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&p, 1, (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

/*
 * Send `line` (a '\n' is appended) and read the reply until the daemon
 * closes; *reply is malloc'd and NUL-terminated. *reached tells whether the
 * daemon's socket took the connection, whatever failed after.
 */
static int
client_call(const char *path, const char *line, int timeout_ms, char **reply, bool *reached)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	long long deadline = (long long)clock_now_ms() + timeout_ms;
	size_t line_len = strlen(line), sent = 0, len = 0, cap = 0;
	char *buf = NULL, *msg;
	int fd, r;

	*reply = NULL;
	*reached = false;
	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	msg = malloc(line_len + 1);
	if (msg == NULL)
		return -ENOMEM;
	memcpy(msg, line, line_len);
	msg[line_len++] = '\n';
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		free(msg);
		return -errno;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		r = -errno;
		goto out;
	}
	*reached = true;
	while (sent < line_len) {
		ssize_t n = send(fd, msg + sent, line_len - sent, MSG_NOSIGNAL);

		if (n < 0) {
			r = -errno;
			goto out;
		}
		sent += (size_t)n;
	}
	/* Straight into a buffer that doubles: a list reply may be tens of MB. */
	for (;;) {
		ssize_t n;

		if (cap - len < 65536 + 1) {
			size_t grown_cap = cap < 65536 ? 131072 : cap * 2;
			char *grown = grown_cap > cap ? realloc(buf, grown_cap) : NULL;

			if (grown == NULL) {
				r = -ENOMEM;
				goto out;
			}
			buf = grown;
			cap = grown_cap;
		}
		if ((r = wait_fd(fd, POLLIN, deadline)) != 0)
			goto out;
		n = recv(fd, buf + len, cap - len - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*reply = buf;
	buf = NULL;
	r = 0;
out:
	free(buf);
	free(msg);
	close(fd);
	return r;
}

int
ipc_client_call(const char *path, const char *line, int timeout_ms, char **reply,
    bool *reached)
{
	return client_call(path, line, timeout_ms, reply, reached);
}

/* Prints the body or the error; the exit code. */
static int
print_reply(const char *reply)
{
	if (strncmp(reply, "OK\n", 3) == 0) {
		fputs(reply + 3, stdout);
		return IPC_TOOL_OK;
	}
	if (strncmp(reply, "Error\n", 6) == 0) {
		fprintf(stderr, "Error: %s", reply + 6);
		return IPC_TOOL_DAEMON_ERROR;
	}
	fprintf(stderr, "Unknown status line from the daemon\n");
	return IPC_TOOL_NO_DAEMON;
}

int
ipc_client_run(const char *prog, const char *daemon, const char *path, const char *line,
    int timeout_ms)
{
	char *reply;
	bool reached;
	int r, code;

	r = client_call(path, line, timeout_ms, &reply, &reached);
	if (r != 0 && !reached && r != -ENOMEM) {
		fprintf(stderr, "%s: Can't connect to %s socket (is %s running?): %s\n", prog,
		    daemon, daemon, strerror(-r));
		return IPC_TOOL_NO_DAEMON;
	}
	if (r != 0) {
		fprintf(stderr, "%s: No answer from %s: %s\n", prog, daemon, strerror(-r));
		return IPC_TOOL_INTERNAL;
	}
	code = print_reply(reply);
	free(reply);
	return code;
}
