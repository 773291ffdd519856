/* qnetd/shard-worker.c: a worker's end of the control socket. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <qb/qblog.h>

#include "common/ipc.h"
#include "common/utils.h"
#include "client.h"
#include "instance.h"
#include "ipc.h"
#include "shard.h"

#define REPLY_CHUNK		16384
#define REPLY_SEND_TIMEOUT_MS	5000
/* Room for a CONN message: type, address and the whole PREINIT. */
#define CONN_OVERHEAD		512

/* How soon notices the front had no room for are offered again. */
#define NOTICE_RETRY_NS		(20ULL * 1000000ULL)

static void	send_notices(struct qnetd_instance *inst);

static void
retry_notices(void *data)
{
	struct qnetd_instance *inst = data;

	inst->shard_retry_armed = false;
	send_notices(inst);
}

/*
 * In type order, and none after one that did not fit: the front must see
 * a handshake begin before it ends, or it would ignore the end.
 */
static void
send_notices(struct qnetd_instance *inst)
{
	if (inst->shard_fd < 0)
		return;	/* the front is gone: nobody counts any more */
	for (unsigned i = 0; i < 3; i++) {
		uint32_t count = inst->shard_unsent[i];
		uint8_t b[SHARD_NOTICE_LEN] = { (uint8_t)(SHARD_MSG_HS_BEGIN + i) };
		ssize_t n;

		if (count == 0)
			continue;
		memcpy(b + 1, &count, sizeof(count));
		do {
			n = send(inst->shard_fd, b, sizeof(b), MSG_DONTWAIT | MSG_NOSIGNAL);
		} while (n < 0 && errno == EINTR);
		if (n == (ssize_t)sizeof(b)) {
			inst->shard_unsent[i] = 0;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			/* The front is gone; control_ready stops this worker. */
			qb_log(LOG_WARNING, "cannot tell the front process about clients: %s",
			    strerror(errno));
			return;
		}
		if (!inst->shard_retry_armed && qb_loop_timer_add(inst->loop, QB_LOOP_HIGH,
		    NOTICE_RETRY_NS, inst, retry_notices, &inst->shard_retry) == 0)
			inst->shard_retry_armed = true;
		return;
	}
}

void
shard_worker_notify(struct qnetd_instance *inst, enum shard_msg_type type)
{
	/* At shutdown the front is stopping too and counts nothing any more. */
	if (inst->shard_fd < 0 || inst->shutting_down)
		return;
	if (type < SHARD_MSG_HS_BEGIN || type > SHARD_MSG_CLOSED)
		return;
	inst->shard_unsent[type - SHARD_MSG_HS_BEGIN]++;
	send_notices(inst);
}

/* Blocking in small steps: the front waits for this answer anyway. */
static int
send_blocking(int fd, const uint8_t *buf, size_t len)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };

		if (send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)len)
			return 0;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
		if (poll(&p, 1, REPLY_SEND_TIMEOUT_MS) <= 0)
			return -ETIMEDOUT;
	}
}

/* Answer request `req` (its id, then the line): parts and end carry the id back. */
static void
answer(struct qnetd_instance *inst, const uint8_t *req, size_t len)
{
	uint8_t chunk[SHARD_REQUEST_HDR + REPLY_CHUNK];
	char *text = strndup((const char *)req + SHARD_REQUEST_HDR, len - SHARD_REQUEST_HDR);
	char *reply = NULL;
	size_t reply_len = 0;
	enum ipc_reply result = IPC_REPLY_ERROR;
	FILE *out;
	int r = 0;

	out = utils_open_memstream(&reply, &reply_len);
	if (text != NULL && out != NULL)
		result = qnetd_ipc_execute(inst, text, out);
	if (out == NULL || fclose(out) != 0)
		reply_len = 0;
	free(text);
	chunk[0] = SHARD_MSG_REPLY_PART;
	memcpy(chunk + 1, req + 1, SHARD_REQUEST_HDR - 1);
	for (size_t off = 0; off < reply_len && r == 0; off += REPLY_CHUNK) {
		size_t n = reply_len - off < REPLY_CHUNK ? reply_len - off : REPLY_CHUNK;

		memcpy(chunk + SHARD_REQUEST_HDR, reply + off, n);
		r = send_blocking(inst->shard_fd, chunk, SHARD_REQUEST_HDR + n);
	}
	free(reply);
	chunk[0] = SHARD_MSG_REPLY_END;
	chunk[SHARD_REQUEST_HDR] = (uint8_t)result;
	if (r == 0)
		r = send_blocking(inst->shard_fd, chunk, SHARD_REQUEST_HDR + 1);
	if (r != 0)
		qb_log(LOG_WARNING, "cannot answer the front process: %s", strerror(-r));
}

static void
adopt(struct qnetd_instance *inst, int fd, const uint8_t *buf, size_t len)
{
	char addr[80];
	size_t addr_len;
	PRFileDesc *pr;

	if (len < 3 || (addr_len = ((size_t)buf[1] << 8) | buf[2]) > len - 3 ||
	    addr_len >= sizeof(addr)) {
		qb_log(LOG_ERR, "malformed hand-over from the front process");
		close(fd);
		shard_worker_notify(inst, SHARD_MSG_CLOSED);
		return;
	}
	memcpy(addr, buf + 3, addr_len);
	addr[addr_len] = '\0';
	if (nss_sock_adopt(fd, &pr) != 0) {
		qb_log(LOG_ERR, "client %s: cannot take over its socket: %s", addr,
		    nss_sock_error());
		shard_worker_notify(inst, SHARD_MSG_CLOSED);
		return;
	}
	qnetd_client_adopt(&inst->conns, pr, addr, buf + 3 + addr_len, len - 3 - addr_len);
}

static int
received_fd(struct msghdr *mh)
{
	int fd = -1;

	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t off = 0; off + sizeof(int) <= cm->cmsg_len - CMSG_LEN(0);
		    off += sizeof(int)) {
			int one;

			memcpy(&one, CMSG_DATA(cm) + off, sizeof(int));
			if (fd < 0)
				fd = one;
			else
				close(one);	/* never sent; do not leak it */
		}
	}
	return fd;
}

static int
control_ready(int fd, int revents, void *data)
{
	struct qnetd_instance *inst = data;

	(void)revents;
	/* Bounded, so a flood of hand-overs cannot starve the clients already here. */
	for (int budget = 256; budget > 0; budget--) {
		union {
			struct cmsghdr	align;
			char		buf[CMSG_SPACE(sizeof(int) * 4)];
		} control;
		struct iovec iov = { .iov_base = inst->shard_buf, .iov_len = inst->shard_buf_size };
		struct msghdr mh = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = control.buf, .msg_controllen = sizeof(control.buf),
		};
		ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		int passed;

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return 0;
		if (n <= 0) {
			qb_log(LOG_ERR, "the front process is gone: stopping");
			qb_loop_poll_del(inst->loop, fd);
			close(fd);
			inst->shard_fd = -1;	/* nobody to tell about clients any more */
			qb_loop_stop(inst->loop);
			return 0;
		}
		passed = received_fd(&mh);
		if (inst->shard_buf[0] == SHARD_MSG_CONN) {
			if (passed >= 0 && !(mh.msg_flags & MSG_TRUNC)) {
				adopt(inst, passed, inst->shard_buf, (size_t)n);
				continue;
			}
			/*
			 * The front counted this client against -m. Out of
			 * descriptors, the kernel drops the socket and sets
			 * MSG_CTRUNC: the client is gone, and the front must hear it.
			 */
			qb_log(LOG_ERR, "a client handed over by the front process is lost: %s",
			    passed < 0 ? "its socket did not arrive (out of descriptors?)" :
			    "hand-over message too long");
			if (passed >= 0)
				close(passed);
			shard_worker_notify(inst, SHARD_MSG_CLOSED);
			continue;
		}
		if (passed >= 0)
			close(passed);	/* only a hand-over carries a socket */
		if (inst->shard_buf[0] == SHARD_MSG_REQUEST && n >= SHARD_REQUEST_HDR &&
		    !(mh.msg_flags & MSG_TRUNC))
			answer(inst, inst->shard_buf, (size_t)n);
		else
			qb_log(LOG_WARNING, "unexpected control message %u from the front process",
			    (unsigned)inst->shard_buf[0]);
	}
	return 0;
}

int
shard_worker_attach(struct qnetd_instance *inst, int fd, unsigned index)
{
	uint8_t ready = SHARD_MSG_READY;
	int r;

	inst->shard_buf_size = inst->settings->max_client_receive_size + CONN_OVERHEAD;
	inst->shard_buf = malloc(inst->shard_buf_size);
	if (inst->shard_buf == NULL)
		return -ENOMEM;
	inst->shard_fd = fd;
	inst->shard_index = index;
	r = qb_loop_poll_add(inst->loop, QB_LOOP_HIGH, fd, POLLIN, inst, control_ready);
	if (r != 0)
		return r;
	return send_blocking(fd, &ready, 1);
}
