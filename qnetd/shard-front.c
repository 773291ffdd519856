/* qnetd/shard-front.c: the front process: forks workers, routes clients, asks them. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <qb/qblog.h>

#include "common/clock.h"
#include "common/utils.h"
#include "client.h"
#include "instance.h"
#include "shard.h"

/* Control socket buffers: room for many handovers while a worker is busy. */
#define CONTROL_BUF_BYTES	(1024 * 1024)
/* How long a stopping worker gets before SIGKILL, and an admin answer takes at most. */
#define STOP_GRACE_MS		5000
#define ASK_TIMEOUT_MS		5000
/*
 * Every worker is asked "shard ping" this often; one that leaves a ping
 * unanswered for PING_DEADLINE_MS is stuck (its clusters get no votes and
 * its clients, reconnecting, would be routed to it again) and is killed,
 * which stops qnetd like any dead worker. A worker's loop turns are short
 * (handshake work is capped per turn), so the deadline is generous.
 */
#define PING_INTERVAL_MS	5000
#define PING_DEADLINE_MS	30000

/*
 * A hand-over that met a full control socket. The client's socket lives on
 * in our own duplicate while the front forgets the client.
 */
struct shard_pending_conn {
	struct shard_pending_conn	*next;
	int				 fd;
	size_t				 addr_len;
	size_t				 msg_len;
	uint8_t				 data[];	/* the address, then the PREINIT */
};
/*
 * Bounds of the hand-overs waiting for one worker: a worker that stays
 * stuck gets its later clients dropped (they reconnect) rather than the
 * front's memory.
 */
#define PENDING_MAX_COUNT	4096
#define PENDING_MAX_BYTES	(16 * 1024 * 1024)

static void
drop_pending(struct shard_worker_proc *w)
{
	while (w->pending_head != NULL) {
		struct shard_pending_conn *p = w->pending_head;

		w->pending_head = p->next;
		close(p->fd);
		free(p);
		if (w->clients > 0)
			w->clients--;
	}
	w->pending_tail = NULL;
	w->pending_count = 0;
	w->pending_bytes = 0;
}

static int	control_ready(int fd, int revents, void *data);
static void	send_pending(struct shard_front *front, struct shard_worker_proc *w);

/* Stop watching and close a worker's control socket (attached or not). */
static void
close_control(struct shard_front *front, struct shard_worker_proc *w)
{
	drop_pending(w);
	if (w->fd < 0)
		return;
	if (front->inst != NULL)
		qb_loop_poll_del(front->inst->loop, w->fd);
	close(w->fd);
	w->fd = -1;
}

static void
size_buffers(int fd)
{
	int bytes = CONTROL_BUF_BYTES;

	/* Best effort: the kernel caps these at net.core.[rw]mem_max. */
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes));
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
}

static void
reap(struct shard_worker_proc *w, bool wait)
{
	int status;
	pid_t r;

	if (w->pid <= 0)
		return;
	r = waitpid(w->pid, &status, wait ? 0 : WNOHANG);
	if (r != w->pid)
		return;
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		qb_log(LOG_ERR, "worker process %ld exited with status %d", (long)w->pid,
		    WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		qb_log(LOG_ERR, "worker process %ld was killed by signal %d", (long)w->pid,
		    WTERMSIG(status));
	w->pid = 0;
}

int
shard_spawn(struct shard_front *front, unsigned count, int *worker_fd, unsigned *worker_index)
{
	pid_t front_pid = getpid();
	int pairs[QNETD_MAX_WORKER_PROCESSES][2];
	unsigned made = 0;
	int r = 0;

	memset(front, 0, sizeof(*front));
	if (count < 2 || count > QNETD_MAX_WORKER_PROCESSES)
		return -EINVAL;
	for (made = 0; made < count; made++) {
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pairs[made]) != 0) {
			r = -errno;
			goto fail;
		}
		size_buffers(pairs[made][0]);
		size_buffers(pairs[made][1]);
	}
	for (unsigned i = 0; i < count; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			r = -errno;
			front->count = i;
			goto fail;
		}
		if (pid == 0) {
			/* The front going away in any way must not leave a worker behind. */
			(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
			if (getppid() != front_pid)
				_exit(EXIT_FAILURE);
			for (unsigned j = 0; j < count; j++) {
				close(pairs[j][0]);
				if (j != i)
					close(pairs[j][1]);
			}
			*worker_fd = pairs[i][1];
			*worker_index = i;
			memset(front, 0, sizeof(*front));
			return 1;
		}
		front->workers[i].pid = pid;
		front->workers[i].fd = pairs[i][0];
		close(pairs[i][1]);
		pairs[i][1] = -1;
	}
	front->count = count;
	return 0;

fail:
	for (unsigned j = 0; j < made; j++) {
		if (front->workers[j].pid <= 0)
			close(pairs[j][0]);
		if (pairs[j][1] >= 0)
			close(pairs[j][1]);
	}
	shard_front_stop(front);
	return r;
}

/* A control socket's next message: >0 its length, 0 EOF, -EAGAIN, -errno. */
static ssize_t
recv_control(int fd, uint8_t *buf, size_t len, int flags)
{
	ssize_t n;

	do {
		n = recv(fd, buf, len, flags);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return n;
}

int
shard_front_wait_ready(struct shard_front *front, int timeout_ms)
{
	uint64_t deadline = clock_now_ms() + (uint64_t)timeout_ms;

	for (unsigned i = 0; i < front->count; i++) {
		struct shard_worker_proc *w = &front->workers[i];
		struct pollfd p = { .fd = w->fd, .events = POLLIN };
		uint8_t type = 0;
		ssize_t n;
		uint64_t now = clock_now_ms();

		if (now >= deadline || poll(&p, 1, (int)(deadline - now)) <= 0) {
			qb_log(LOG_ERR, "worker process %ld did not start in time", (long)w->pid);
			return -ETIMEDOUT;
		}
		n = recv_control(w->fd, &type, 1, 0);
		if (n <= 0 || type != SHARD_MSG_READY) {
			qb_log(LOG_ERR, "worker process %ld failed to start", (long)w->pid);
			reap(w, true);
			return -EPIPE;
		}
	}
	return 0;
}

uint32_t
shard_front_clients(const struct shard_front *front)
{
	uint32_t sum = 0;

	for (unsigned i = 0; i < front->count; i++)
		sum += front->workers[i].clients;
	return sum;
}

static void
worker_lost(struct shard_front *front, struct shard_worker_proc *w)
{
	qb_log(LOG_ERR, "worker process %ld is gone: stopping qnetd (its clients lost their "
	    "server; all reconnect after a restart)", (long)w->pid);
	close_control(front, w);
	reap(w, false);
	front->worker_lost = true;
	qb_loop_stop(front->inst->loop);
}

static void
handle_notice(struct shard_front *front, struct shard_worker_proc *w, const uint8_t *msg,
    size_t len)
{
	uint32_t count = 1;

	if (len >= SHARD_NOTICE_LEN)
		memcpy(&count, msg + 1, sizeof(count));
	switch (msg[0]) {
	/* The worker's accept gate count (accept-gate.h, rule 4) moved. */
	case SHARD_MSG_HS_BEGIN:
		count = count < UINT32_MAX - w->handshakes ? count : UINT32_MAX - w->handshakes;
		if (count > INT32_MAX)
			count = INT32_MAX;
		w->handshakes += count;
		accept_gate_remote(&front->inst->conns.gate, (int32_t)count);
		break;
	case SHARD_MSG_HS_END:
		count = count < w->handshakes ? count : w->handshakes;
		if (count > INT32_MAX)
			count = INT32_MAX;
		w->handshakes -= count;
		accept_gate_remote(&front->inst->conns.gate, -(int32_t)count);
		break;
	case SHARD_MSG_CLOSED:
		w->clients -= count < w->clients ? count : w->clients;
		break;
	case SHARD_MSG_REPLY_END:
		if (w->ping_waiting && w->ping_id != 0 && len >= SHARD_REQUEST_HDR &&
		    memcmp(msg + 1, &w->ping_id, sizeof(w->ping_id)) == 0)
			w->ping_waiting = false;
		break;	/* else the late answer to a request that timed out */
	case SHARD_MSG_REPLY_PART:
		break;
	default:
		qb_log(LOG_WARNING, "worker process %ld sent unexpected control message %u",
		    (long)w->pid, (unsigned)msg[0]);
		break;
	}
}

static int
control_ready(int fd, int revents, void *data)
{
	struct shard_front *front = data;
	struct shard_worker_proc *w = NULL;

	for (unsigned i = 0; i < front->count; i++)
		if (front->workers[i].fd == fd)
			w = &front->workers[i];
	if (w == NULL)
		return -1;	/* libqb drops the entry */
	if (revents & POLLOUT)
		send_pending(front, w);
	for (int budget = 1024; budget > 0; budget--) {
		uint8_t buf[64];
		ssize_t n = recv_control(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n == -EAGAIN)
			return 0;
		if (n <= 0) {
			worker_lost(front, w);
			return 0;
		}
		handle_notice(front, w, buf, (size_t)n);
	}
	return 0;
}

/* 0, or -EAGAIN when the worker's control socket is full, or -errno. */
static int
send_ping(struct shard_front *front, struct shard_worker_proc *w)
{
	static const char line[] = "shard ping";
	uint8_t req[SHARD_REQUEST_HDR + sizeof(line) - 1];
	uint32_t id = ++front->request_id;

	if (id == 0)
		id = ++front->request_id;	/* 0 stands for "not sent" */
	req[0] = SHARD_MSG_REQUEST;
	memcpy(req + 1, &id, sizeof(id));
	memcpy(req + SHARD_REQUEST_HDR, line, sizeof(line) - 1);
	if (send(w->fd, req, sizeof(req), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN : -errno;
	w->ping_id = id;
	return 0;
}

static void	arm_ping(struct shard_front *front);

static void
ping_workers(void *data)
{
	struct shard_front *front = data;
	uint64_t now = clock_now_ms();

	front->ping_armed = false;
	for (unsigned i = 0; i < front->count; i++) {
		struct shard_worker_proc *w = &front->workers[i];

		if (w->fd < 0 || w->pid <= 0)
			continue;
		if (w->ping_waiting && now - w->ping_since_ms >= PING_DEADLINE_MS) {
			qb_log(LOG_ERR, "worker process %ld has not answered for %llu s: killing it",
			    (long)w->pid, (unsigned long long)((now - w->ping_since_ms) / 1000));
			(void)kill(w->pid, SIGKILL);	/* its control socket closes: worker_lost() */
			w->ping_waiting = false;
			continue;
		}
		if (w->ping_waiting && w->ping_id != 0)
			continue;
		if (!w->ping_waiting) {
			w->ping_waiting = true;
			w->ping_since_ms = now;
			w->ping_id = 0;
		}
		if (send_ping(front, w) == -EAGAIN)
			qb_log(LOG_DEBUG, "worker process %ld: control socket full, ping later",
			    (long)w->pid);
	}
	arm_ping(front);
}

static void
arm_ping(struct shard_front *front)
{
	if (front->ping_armed || front->inst == NULL)
		return;
	if (qb_loop_timer_add(front->inst->loop, QB_LOOP_LOW, PING_INTERVAL_MS * 1000000ULL,
	    front, ping_workers, &front->ping_timer) == 0)
		front->ping_armed = true;
	else
		qb_log(LOG_WARNING, "cannot arm the worker ping timer");
}

int
shard_front_attach(struct shard_front *front, struct qnetd_instance *inst)
{
	front->inst = inst;
	for (unsigned i = 0; i < front->count; i++) {
		int r = qb_loop_poll_add(inst->loop, QB_LOOP_HIGH, front->workers[i].fd,
		    POLLIN, front, control_ready);

		if (r != 0)
			return r;
	}
	inst->front = front;
	inst->conns.first_message_only = true;
	arm_ping(front);
	return 0;
}

void
shard_front_stop(struct shard_front *front)
{
	uint64_t deadline = clock_now_ms() + STOP_GRACE_MS;

	if (front->ping_armed) {
		qb_loop_timer_del(front->inst->loop, front->ping_timer);
		front->ping_armed = false;
	}
	/* Signal first: a worker that saw its control socket close would call it an error. */
	for (unsigned i = 0; i < front->count; i++)
		if (front->workers[i].pid > 0)
			(void)kill(front->workers[i].pid, SIGTERM);
	for (unsigned i = 0; i < front->count; i++) {
		struct shard_worker_proc *w = &front->workers[i];

		while (w->pid > 0 && clock_now_ms() < deadline) {
			reap(w, false);
			if (w->pid > 0)
				(void)poll(NULL, 0, 20);
		}
		if (w->pid > 0) {
			qb_log(LOG_WARNING, "worker process %ld did not stop: killing it",
			    (long)w->pid);
			(void)kill(w->pid, SIGKILL);
			reap(w, true);
		}
		close_control(front, w);
	}
	front->count = 0;
}

/* FNV-1a: stable across processes and restarts, so a cluster keeps its worker. */
static unsigned
worker_of(const struct shard_front *front, const char *name, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++) {
		h ^= (uint8_t)name[i];
		h *= 16777619u;
	}
	return h % front->count;
}

static int
send_conn(int ctl, int fd, const uint8_t *addr, size_t addr_len, const uint8_t *msg, size_t len)
{
	uint8_t head[3] = { SHARD_MSG_CONN, (uint8_t)(addr_len >> 8), (uint8_t)addr_len };
	struct iovec iov[3] = {
		{ .iov_base = head, .iov_len = sizeof(head) },
		{ .iov_base = (void *)addr, .iov_len = addr_len },
		{ .iov_base = (void *)msg, .iov_len = len },
	};
	union {
		struct cmsghdr	align;
		char		buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct msghdr mh = {
		.msg_iov = iov, .msg_iovlen = 3,
		.msg_control = control.buf, .msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *cm;
	ssize_t n;

	memset(&control, 0, sizeof(control));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	/*
	 * Never blocking: the front must go on routing to the other workers
	 * and answering the admin socket while one is busy.
	 */
	do {
		n = sendmsg(ctl, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : 0;
}

static void
watch_control(struct shard_front *front, struct shard_worker_proc *w, bool want_out)
{
	if (front->inst != NULL && w->fd >= 0 &&
	    qb_loop_poll_mod(front->inst->loop, QB_LOOP_HIGH, w->fd,
	    want_out ? POLLIN | POLLOUT : POLLIN, front, control_ready) != 0)
		qb_log(LOG_ERR, "cannot watch worker process %ld's control socket",
		    (long)w->pid);
}

/* Keep a hand-over until the worker's control socket has room: 0 or -errno. */
static int
queue_conn(struct shard_front *front, struct shard_worker_proc *w, struct qnetd_client *c,
    const uint8_t *msg, size_t len)
{
	size_t addr_len = strlen(c->addr_str);
	struct shard_pending_conn *p;

	if (w->pending_count >= PENDING_MAX_COUNT ||
	    w->pending_bytes + len > PENDING_MAX_BYTES)
		return -ENOBUFS;
	p = malloc(sizeof(*p) + addr_len + len);
	if (p == NULL)
		return -ENOMEM;
	p->fd = fcntl(c->native_fd, F_DUPFD_CLOEXEC, 0);
	if (p->fd < 0) {
		int r = -errno;

		free(p);
		return r;
	}
	p->next = NULL;
	p->addr_len = addr_len;
	p->msg_len = len;
	memcpy(p->data, c->addr_str, addr_len);
	memcpy(p->data + addr_len, msg, len);
	if (w->pending_head == NULL) {
		w->pending_head = p;
		watch_control(front, w, true);
	} else {
		*w->pending_tail = p;
	}
	w->pending_tail = &p->next;
	w->pending_count++;
	w->pending_bytes += len;
	return 0;
}

/* The control socket has room: send what waits, oldest first. */
static void
send_pending(struct shard_front *front, struct shard_worker_proc *w)
{
	while (w->pending_head != NULL) {
		struct shard_pending_conn *p = w->pending_head;
		int r = send_conn(w->fd, p->fd, p->data, p->addr_len, p->data + p->addr_len,
		    p->msg_len);

		if (r == -EAGAIN)
			return;
		if (r != 0) {
			qb_log(LOG_ERR, "client %.*s: cannot hand over to worker process %ld: %s",
			    (int)p->addr_len, (const char *)p->data, (long)w->pid, strerror(-r));
			if (w->clients > 0)
				w->clients--;
		}
		w->pending_head = p->next;
		w->pending_count--;
		w->pending_bytes -= p->msg_len;
		close(p->fd);
		free(p);
	}
	w->pending_tail = NULL;
	watch_control(front, w, false);
}

void
shard_front_route(struct shard_front *front, struct qnetd_client *c, const uint8_t *msg,
    size_t len)
{
	unsigned i = worker_of(front, c->cluster_name, c->cluster_name_len);
	struct shard_worker_proc *w = &front->workers[i];
	int r = -EAGAIN;

	if (w->fd < 0) {
		qnetd_client_disconnect(c, "its worker process is gone");
		return;
	}
	/* Behind those already waiting, so a cluster's nodes keep their order. */
	if (w->pending_head == NULL)
		r = send_conn(w->fd, c->native_fd, (const uint8_t *)c->addr_str,
		    strlen(c->addr_str), msg, len);
	if (r == -EAGAIN) {
		r = queue_conn(front, w, c, msg, len);
		if (r == 0)
			qb_log(LOG_DEBUG, "%s: waits for worker %u (pid %ld), %u waiting",
			    c->ident, i, (long)w->pid, (unsigned)w->pending_count);
	}
	if (r != 0) {
		qb_log(LOG_ERR, "%s: cannot hand over to worker process %ld: %s", c->ident,
		    (long)w->pid, r == -ENOBUFS ? "it is stuck: too many hand-overs wait" :
		    strerror(-r));
		qnetd_client_disconnect(c, "hand-over to the worker failed");
		return;
	}
	w->clients++;
	qb_log(LOG_DEBUG, "%s: handed over to worker %u (pid %ld)", c->ident, i, (long)w->pid);
	qnetd_client_forget(c);
}

/*
 * Read one worker's reply to request `id`; notices met on the way are
 * handled. Parts of an earlier request's reply (one that timed out, from
 * a worker that was slow) are skipped: they would answer the wrong command.
 * Each part pushes *deadline to ASK_TIMEOUT_MS from now: a list of many
 * clients takes seconds to pass and is no sign of a stuck worker.
 */
static int
read_reply(struct shard_front *front, struct shard_worker_proc *w, uint32_t id,
    uint64_t *deadline, FILE *out, int *result)
{
	uint8_t *buf = malloc(CONTROL_BUF_BYTES);
	int r = -ETIMEDOUT;

	if (buf == NULL)
		return -ENOMEM;
	while (w->fd >= 0) {
		struct pollfd p = { .fd = w->fd, .events = POLLIN };
		uint64_t now = clock_now_ms();
		uint32_t got;
		ssize_t n;
		int ready;

		if (now >= *deadline)
			break;
		ready = poll(&p, 1, (int)(*deadline - now));
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready <= 0)
			break;
		n = recv_control(w->fd, buf, CONTROL_BUF_BYTES, MSG_DONTWAIT);
		if (n == -EAGAIN)
			continue;
		if (n <= 0) {
			worker_lost(front, w);
			r = -EPIPE;
			break;
		}
		if (buf[0] != SHARD_MSG_REPLY_PART && buf[0] != SHARD_MSG_REPLY_END) {
			handle_notice(front, w, buf, (size_t)n);
			continue;
		}
		if (n < SHARD_REQUEST_HDR)
			continue;
		memcpy(&got, buf + 1, sizeof(got));
		if (got != id) {
			handle_notice(front, w, buf, (size_t)n);	/* a ping's answer, or late */
			continue;
		}
		if (buf[0] == SHARD_MSG_REPLY_PART) {
			fwrite(buf + SHARD_REQUEST_HDR, 1, (size_t)n - SHARD_REQUEST_HDR, out);
			if (*deadline < clock_now_ms() + ASK_TIMEOUT_MS)
				*deadline = clock_now_ms() + ASK_TIMEOUT_MS;
		} else if (n > SHARD_REQUEST_HDR) {
			*result = buf[SHARD_REQUEST_HDR];
			r = 0;
			break;
		}
	}
	free(buf);
	return r;
}

int
shard_front_ask(struct shard_front *front, const char *line, char **replies, int *results)
{
	uint64_t deadline = clock_now_ms() + ASK_TIMEOUT_MS;
	size_t line_len = strlen(line);
	uint8_t *req = malloc(SHARD_REQUEST_HDR + line_len);
	uint32_t id = ++front->request_id;
	int ret = 0;

	for (unsigned i = 0; i < front->count; i++) {
		replies[i] = NULL;
		results[i] = 0;
	}
	if (req == NULL)
		return -ENOMEM;
	req[0] = SHARD_MSG_REQUEST;
	memcpy(req + 1, &id, sizeof(id));
	memcpy(req + SHARD_REQUEST_HDR, line, line_len);
	/* All at once, so the workers compose their answers in parallel; a stuck one is skipped. */
	for (unsigned i = 0; i < front->count; i++) {
		struct shard_worker_proc *w = &front->workers[i];

		if (w->fd < 0 || send(w->fd, req, SHARD_REQUEST_HDR + line_len,
		    MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
			qb_log(LOG_WARNING, "cannot ask worker process %ld: %s", (long)w->pid,
			    w->fd < 0 ? "it is gone" : strerror(errno));
			results[i] = -1;
		}
	}
	free(req);
	for (unsigned i = 0; i < front->count; i++) {
		struct shard_worker_proc *w = &front->workers[i];
		size_t size = 0;
		FILE *out;
		int r;

		if (results[i] != 0) {
			ret = -EPIPE;
			continue;
		}
		out = utils_open_memstream(&replies[i], &size);
		if (out == NULL) {
			ret = -ENOMEM;
			continue;
		}
		r = read_reply(front, w, id, &deadline, out, &results[i]);
		if (fclose(out) != 0 && r == 0)
			r = -ENOMEM;
		if (r != 0) {
			qb_log(LOG_WARNING, "worker process %ld did not answer \"%s\": %s",
			    (long)w->pid, line, strerror(-r));
			free(replies[i]);
			replies[i] = NULL;
			ret = r;
		}
	}
	return ret;
}
